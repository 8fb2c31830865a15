// libFuzzer target: routing arbitrary method/path/query triples must never crash, and every
// failure must carry an HTTP error code with a reason.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapter/router.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  // "METHOD\nPATH?QUERY"
  size_t nl = input.find('\n');
  std::string method = nl == std::string::npos ? "GET" : input.substr(0, nl);
  std::string target = nl == std::string::npos ? input : input.substr(nl + 1);
  size_t q = target.find('?');
  std::string path = target.substr(0, q);
  std::string query = q == std::string::npos ? "" : target.substr(q + 1);
  adapter::Route route;
  adapter::RouteError error;
  if (!adapter::RouteRequest(method, path, query, &route, &error)) {
    if (error.code < 400 || error.code > 499 || error.reason.empty()) __builtin_trap();
  }
  std::string out;
  (void)adapter::PercentDecode(target, true, &out);
  return 0;
}
