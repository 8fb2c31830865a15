// AuthConfig from the kube-system/extension-apiserver-authentication ConfigMap.
#include "absl/strings/str_cat.h"
#include "adapter/auth/auth.h"
#include "rapidjson/document.h"

namespace adapter::auth {
namespace {

// A JSON array of strings; "" = absent (leaves `out` untouched).
absl::Status ParseList(const std::map<std::string, std::string>& data, const std::string& key,
                       std::vector<std::string>* out) {
  auto it = data.find(key);
  if (it == data.end() || it->second.empty()) return absl::OkStatus();
  rapidjson::Document doc;
  doc.Parse(it->second.c_str(), it->second.size());
  if (doc.HasParseError() || !doc.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("extension-apiserver-authentication: ", key, " is not a JSON array"));
  }
  std::vector<std::string> values;
  for (const auto& v : doc.GetArray()) {
    if (!v.IsString()) {
      return absl::InvalidArgumentError(
          absl::StrCat("extension-apiserver-authentication: ", key, " holds a non-string element"));
    }
    values.push_back(v.GetString());
  }
  *out = std::move(values);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AuthConfig> LoadAuthConfigFromConfigMap(
    const std::map<std::string, std::string>& data) {
  AuthConfig c;
  if (auto it = data.find("client-ca-file"); it != data.end()) c.client_ca_pem = it->second;
  if (auto it = data.find("requestheader-client-ca-file"); it != data.end()) {
    c.requestheader_ca_pem = it->second;
  }
  for (const auto& [key, field] : std::vector<std::pair<std::string, std::vector<std::string>*>>{
           {"requestheader-allowed-names", &c.requestheader_allowed_names},
           {"requestheader-username-headers", &c.requestheader_username_headers},
           {"requestheader-uid-headers", &c.requestheader_uid_headers},
           {"requestheader-group-headers", &c.requestheader_group_headers},
           {"requestheader-extra-headers-prefix", &c.requestheader_extra_headers_prefix}}) {
    if (absl::Status s = ParseList(data, key, field); !s.ok()) return s;
  }
  return c;
}

absl::StatusOr<AuthConfig> LoadAuthConfigFromConfigMapJson(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError("ConfigMap is not a JSON object");
  }
  std::map<std::string, std::string> data;
  auto it = doc.FindMember("data");
  if (it != doc.MemberEnd() && it->value.IsObject()) {
    for (const auto& m : it->value.GetObject()) {
      if (m.value.IsString()) data[m.name.GetString()] = m.value.GetString();
    }
  }
  return LoadAuthConfigFromConfigMap(data);
}

}  // namespace adapter::auth
