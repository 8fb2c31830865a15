// Internal to clients/kube: RapidJSON -> typed object conversion shared by objects.cc, the
// informer and the Lease client. Not for use outside this package.
#pragma once

#include "absl/status/status.h"
#include "clients/kube/objects.h"
#include "rapidjson/document.h"

namespace clients::kube::internal {

// Fill `out` from the JSON object `v`; see objects.h for the rules and errors.
absl::Status FromJson(const rapidjson::Value& v, Deployment* out);
absl::Status FromJson(const rapidjson::Value& v, ReplicaSet* out);
absl::Status FromJson(const rapidjson::Value& v, Pod* out);
absl::Status FromJson(const rapidjson::Value& v, Node* out);
absl::Status FromJson(const rapidjson::Value& v, HorizontalPodAutoscaler* out);
absl::Status FromJson(const rapidjson::Value& v, Lease* out);

// String member or "".
std::string GetString(const rapidjson::Value& obj, const char* key);
// Object member or nullptr.
const rapidjson::Value* GetObject(const rapidjson::Value& obj, const char* key);

}  // namespace clients::kube::internal
