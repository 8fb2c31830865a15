// The doctor's checks, one function per area, over a small JSON reader of the Kubernetes API.
// Package-private: the public contract is doctor.h. Each function appends its Checks.
//
//   internal::KubeReader kube(deps, options.timeout);
//   internal::CheckApiServices(options, kube, &checks);
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "doctor/doctor.h"
#include "rapidjson/document.h"

namespace doctor::internal {

// GET/POST of Kubernetes API paths with the caller's credentials. Thread-compatible.
class KubeReader {
 public:
  KubeReader(const Dependencies& deps, absl::Duration timeout) : deps_(deps), timeout_(timeout) {}
  // The parsed body of a 2xx answer. kNotFound on 404 (message: the server's); the
  // clients::kube::ApiError codes for other statuses; transport errors as the client gave them;
  // kDataLoss for a body that is not JSON.
  absl::StatusOr<rapidjson::Document> Get(const std::string& path);
  absl::StatusOr<rapidjson::Document> Post(const std::string& path, const std::string& body);

 private:
  absl::StatusOr<rapidjson::Document> Call(const std::string& method, const std::string& path,
                                           const std::string& body);
  Dependencies deps_;
  absl::Duration timeout_;
};

// The value at `path` under `v` (object keys), or nullptr.
const rapidjson::Value* Find(const rapidjson::Value& v, std::initializer_list<const char*> path);
// `v` when it is an array, else an empty array (never dangling).
const rapidjson::Value& Array(const rapidjson::Value* v);
// The string at `path`, or "" when absent or not a string.
std::string Str(const rapidjson::Value& v, std::initializer_list<const char*> path);
// The condition `type` of an object's status.conditions: {status, reason, message}; empty
// status when absent.
struct Condition {
  std::string status, reason, message;
};
Condition FindCondition(const rapidjson::Value& obj, const std::string& type);

Check Pass(std::string id, std::string title, std::string seen);
Check Fail(std::string id, std::string title, std::string cause, std::string fix);

// Likely cause and fix of an APIService that is not Available, from its condition.
struct Diagnosis {
  std::string cause, fix;
};
Diagnosis ExplainUnavailable(const Options& options, const Condition& available);

// An HPA that references a smart_* metric, as the checks need it.
struct SmartMetric {
  std::string type;  // "External" or "Object" (anything else is reported)
  std::string name;  // smart_cpu_pressure
  std::map<std::string, std::string> match_labels;  // External metric selector
  std::string object_kind, object_name;             // Object describedObject
};
struct SmartHpa {
  std::string namespace_name, name;
  std::string target_kind, target_name;  // scaleTargetRef
  std::vector<SmartMetric> metrics;
  Condition scaling_active, able_to_scale;
};
// Every HPA in the cluster with at least one smart_* metric.
absl::StatusOr<std::vector<SmartHpa>> ListSmartHpas(KubeReader& kube);

void CheckApiServices(const Options& options, KubeReader& kube, std::vector<Check>* out);
void CheckApiServiceOwners(const Options& options, KubeReader& kube, std::vector<Check>* out);
void CheckEndpoints(const Options& options, KubeReader& kube, std::vector<Check>* out);
void CheckServingCert(const Options& options, KubeReader& kube, CertFetcher* certs, absl::Time now,
                      std::vector<Check>* out);
void CheckRbac(const Options& options, KubeReader& kube, std::vector<Check>* out);
void CheckAuthConfigMap(KubeReader& kube, std::vector<Check>* out);
void CheckPrometheus(KubeReader& kube, clients::prometheus::PrometheusClient* prom, absl::Time now,
                     const std::vector<SmartHpa>& hpas, std::vector<Check>* out);
void CheckHpas(const Options& options, KubeReader& kube, absl::Time now,
               const std::vector<SmartHpa>& hpas, std::vector<Check>* out);

}  // namespace doctor::internal
