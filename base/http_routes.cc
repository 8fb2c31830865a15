#include "base/http_routes.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/url.h"
#include "prometheus/registry.h"

namespace base::internal {
namespace {

constexpr const char* kMethods[] = {"GET",     "HEAD",  "POST",    "PUT",  "DELETE",
                                    "OPTIONS", "PATCH", "CONNECT", "OTHER"};
constexpr size_t kMethodCount = sizeof(kMethods) / sizeof(kMethods[0]);
// Codes with a kept child per method; others are looked up in the family each time.
constexpr int kCodes[] = {200, 201, 204, 301, 302, 304, 400, 401, 403, 404,
                          405, 406, 408, 413, 429, 431, 500, 502, 503, 504};
constexpr size_t kCodeCount = sizeof(kCodes) / sizeof(kCodes[0]);

int CodeIndex(int status) {
  for (size_t i = 0; i < kCodeCount; ++i) {
    if (kCodes[i] == status) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

// Host and port from "host:port", ":port" or "[v6]:port".
absl::Status ParseAddress(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address '", address, "' has no :port"));
  }
  absl::string_view h = absl::string_view(address).substr(0, colon);
  absl::string_view p = absl::string_view(address).substr(colon + 1);
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(p, port) || *port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("address '", address, "' has a bad port"));
  }
  if (!h.empty() && h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') {
      return absl::InvalidArgumentError(absl::StrCat("address '", address, "': bad [IPv6]"));
    }
    h = h.substr(1, h.size() - 2);
    if (h.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("address '", address, "': bad [IPv6]"));
    }
  } else if (h.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "': write IPv6 addresses as [addr]:port"));
  }
  *host = std::string(h == "localhost" ? "127.0.0.1" : h);
  return absl::OkStatus();
}

// Decodes the target into request->path and ->query; false when it does not decode.
bool DecodeTarget(absl::string_view target, HttpRequest* request) {
  const size_t q = target.find('?');
  const absl::string_view raw_path = target.substr(0, q);
  if (raw_path.empty() || raw_path[0] != '/' || !PercentDecode(raw_path, false, &request->path)) {
    request->path.clear();
    return false;
  }
  if (q == absl::string_view::npos) return true;
  absl::string_view raw_query = target.substr(q + 1);
  raw_query = raw_query.substr(0, raw_query.find('#'));
  for (absl::string_view pair : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, &key) ||
        (eq != absl::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value))) {
      request->path.clear();
      request->query.clear();
      return false;
    }
    request->query[std::move(key)] = std::move(value);
  }
  return true;
}

size_t MethodIndex(absl::string_view method) {
  for (size_t i = 0; i + 1 < kMethodCount; ++i) {
    if (method == kMethods[i]) return i;
  }
  return kMethodCount - 1;
}

RouteMetrics::RouteMetrics(std::string handler, prometheus::Family<prometheus::Counter>* requests,
                           prometheus::Family<prometheus::Histogram>* durations)
    : handler_(std::move(handler)), requests_(requests) {
  if (requests != nullptr) counts_.emplace(requests, kMethodCount * kCodeCount);
  if (durations != nullptr) duration_.emplace(durations, 1);
}

void RouteMetrics::Record(size_t method, int status,
                          std::chrono::steady_clock::duration elapsed) const {
  if (!counts_) return;
  auto labels = [&] {
    return prometheus::Labels{
        {"handler", handler_}, {"method", kMethods[method]}, {"code", absl::StrCat(status)}};
  };
  const int code = CodeIndex(status);
  if (code >= 0) {
    counts_->Get(method * kCodeCount + code, labels).Increment();
  } else {
    requests_->Add(labels()).Increment();
  }
  duration_
      ->Get(
          0,
          [&] {
            return prometheus::Labels{{"handler", handler_}};
          },
          LatencyBuckets())
      .Observe(std::chrono::duration<double>(elapsed).count());
}

Routes::Routes(prometheus::Registry* registry)
    : requests_(registry == nullptr ? nullptr
                                    : &prometheus::BuildCounter()
                                           .Name("http_server_requests_total")
                                           .Help("HTTP requests answered by base::HttpServer.")
                                           .Register(*registry)),
      durations_(registry == nullptr
                     ? nullptr
                     : &prometheus::BuildHistogram()
                            .Name("http_server_request_duration_seconds")
                            .Help("Time from a request's headers to the end of its response, "
                                  "in seconds.")
                            .Register(*registry)),
      unmatched_("unmatched", requests_, durations_),
      invalid_("invalid", requests_, durations_) {}

void Routes::Add(Kind kind, std::string pattern, HttpHandler handler) {
  const std::string label = kind == kDefault ? "unmatched" : pattern;
  auto route = std::unique_ptr<Route>(
      new Route{pattern, std::move(handler), RouteMetrics(label, requests_, durations_)});
  switch (kind) {
    case kExact:
      exact_[std::move(pattern)] = std::move(route);
      break;
    case kPrefix:
      prefixes_[std::move(pattern)] = std::move(route);
      break;
    case kDefault:
      default_ = std::move(route);
      break;
  }
}

const Routes::Route* Routes::Find(const std::string& path, bool decoded) const {
  if (!decoded) return default_.get();
  auto it = exact_.find(path);
  if (it != exact_.end()) return it->second.get();
  const Route* best = nullptr;
  for (const auto& [prefix, route] : prefixes_) {
    if ((best == nullptr || prefix.size() > best->pattern.size()) &&
        absl::StartsWith(path, prefix)) {
      best = route.get();
    }
  }
  return best != nullptr ? best : default_.get();
}

}  // namespace base::internal
