// libFuzzer target: the kubeconfig parser (YAML through libyaml) must never crash, hang or
// leak on any text; it only records file names (it reads no file), so any input is safe.
#include <cstddef>
#include <cstdint>
#include <string>

#include "clients/kube/cluster_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = clients::kube::ParseKubeconfig(text, "/nonexistent-base", "");
  if (config.ok() && config->server.empty()) __builtin_trap();  // a config names its server
  (void)clients::kube::ParseKubeconfig(text, "", "other");
  return 0;
}
