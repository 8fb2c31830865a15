// RBAC of the service account (one SubjectAccessReview — or SelfSubjectAccessReview when the
// doctor runs as that account — per permission the adapter or reconciler needs) and the
// extension-apiserver-authentication ConfigMap the adapter reads at start.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/kube/auth_api.h"
#include "doctor/checks.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace doctor::internal {
namespace {

struct Need {
  const char* verb;
  const char* group;
  const char* resource;
  bool in_own_namespace;            // else cluster-wide ("" namespace)
  const char* namespace_name = "";  // fixed namespace (kube-system ConfigMap)
  const char* name = "";
};

// What deploy/base/rbac.yaml grants, by component.
const std::vector<Need>& ReconcilerNeeds() {
  static const auto* needs = new std::vector<Need>{
      {"list", "", "pods", false},
      {"watch", "", "pods", false},
      {"list", "", "nodes", false},
      {"watch", "", "nodes", false},
      {"list", "apps", "deployments", false},
      {"watch", "apps", "deployments", false},
      {"list", "apps", "replicasets", false},
      {"watch", "apps", "replicasets", false},
      {"list", "autoscaling", "horizontalpodautoscalers", false},
      {"watch", "autoscaling", "horizontalpodautoscalers", false},
      {"get", "coordination.k8s.io", "leases", true},
      {"create", "coordination.k8s.io", "leases", true},
      {"update", "coordination.k8s.io", "leases", true},
  };
  return *needs;
}

const std::vector<Need>& AdapterNeeds() {
  static const auto* needs = new std::vector<Need>{
      {"create", "authentication.k8s.io", "tokenreviews", false},
      {"create", "authorization.k8s.io", "subjectaccessreviews", false},
      {"get", "", "configmaps", false, "kube-system", "extension-apiserver-authentication"},
  };
  return *needs;
}

std::string Describe(const Need& n, const std::string& ns) {
  std::string what = absl::StrCat(n.verb, " ", n.resource, *n.group ? "." : "", n.group);
  if (*n.name) absl::StrAppend(&what, "/", n.name);
  if (!ns.empty()) absl::StrAppend(&what, " in ", ns);
  return what;
}

// A SelfSubjectAccessReview (authorization.k8s.io/v1) for `a`: the caller is the subject.
std::string SelfReviewJson(const clients::kube::ResourceAttributes& a) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("apiVersion");
  w.String("authorization.k8s.io/v1");
  w.Key("kind");
  w.String("SelfSubjectAccessReview");
  w.Key("spec");
  w.StartObject();
  w.Key("resourceAttributes");
  w.StartObject();
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string*>{"namespace", &a.namespace_name},
        {"verb", &a.verb},
        {"group", &a.group},
        {"resource", &a.resource},
        {"name", &a.name}}) {
    if (value->empty()) continue;
    w.Key(key);
    w.String(value->c_str(), static_cast<rapidjson::SizeType>(value->size()));
  }
  w.EndObject();
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

// allowed, or an error when the review itself could not be made.
absl::StatusOr<bool> Review(const Options& o, KubeReader& kube, const Need& n,
                            const std::string& ns) {
  clients::kube::ResourceAttributes attrs{ns, n.verb, n.group, "", n.resource, "", n.name};
  absl::StatusOr<rapidjson::Document> r;
  if (o.rbac_self) {
    r = kube.Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", SelfReviewJson(attrs));
  } else {
    clients::kube::SubjectAccessReviewSpec spec;
    spec.resource = attrs;
    spec.user = absl::StrCat("system:serviceaccount:", o.namespace_name, ":", o.service_account);
    spec.groups = {"system:serviceaccounts",
                   absl::StrCat("system:serviceaccounts:", o.namespace_name),
                   "system:authenticated"};
    r = kube.Post("/apis/authorization.k8s.io/v1/subjectaccessreviews",
                  clients::kube::SubjectAccessReviewJson(spec));
  }
  if (!r.ok()) return r.status();
  const rapidjson::Value* allowed = Find(*r, {"status", "allowed"});
  return allowed != nullptr && allowed->IsBool() && allowed->GetBool();
}

Check ReviewAll(const Options& o, KubeReader& kube, const std::string& component,
                const std::vector<Need>& needs, const std::string& grant) {
  const std::string id = absl::StrCat("rbac/", component);
  const std::string who =
      o.rbac_self ? "this service account"
                  : absl::StrCat("serviceaccount ", o.namespace_name, "/", o.service_account);
  const std::string title = absl::StrCat("RBAC: ", who, " has the ", component, "'s permissions");
  std::vector<std::string> missing;
  for (const Need& n : needs) {
    std::string ns = *n.namespace_name    ? n.namespace_name
                     : n.in_own_namespace ? o.namespace_name
                                          : "";
    absl::StatusOr<bool> ok = Review(o, kube, n, ns);
    if (!ok.ok()) {
      return Fail(id, title, absl::StrCat("cannot ask the API server: ", ok.status().message()),
                  o.rbac_self ? "selfsubjectaccessreviews must be allowed (every user has it by "
                                "default)"
                              : "the kubeconfig's user must be able to create subjectaccessreviews "
                                "(or run doctor in the Pod, without --kubeconfig)");
    }
    if (!*ok) missing.push_back(Describe(n, ns));
  }
  if (missing.empty()) return Pass(id, title, absl::StrCat(needs.size(), " permissions allowed"));
  return Fail(id, title, absl::StrCat("missing permission: ", absl::StrJoin(missing, ", ")),
              absl::StrCat("apply the RBAC of deploy/base/rbac.yaml (or the chart's): ", grant));
}

}  // namespace

void CheckRbac(const Options& o, KubeReader& kube, std::vector<Check>* out) {
  out->push_back(ReviewAll(o, kube, "reconciler", ReconcilerNeeds(),
                           "ClusterRole smart-autoscaler-reader and Role "
                           "smart-autoscaler-leader-election bound to the service account"));
  out->push_back(ReviewAll(o, kube, "adapter", AdapterNeeds(),
                           "ClusterRoleBinding to system:auth-delegator and RoleBinding to "
                           "kube-system's extension-apiserver-authentication-reader"));
}

void CheckAuthConfigMap(KubeReader& kube, std::vector<Check>* out) {
  const std::string id = "auth-configmap";
  const std::string title = "kube-system/extension-apiserver-authentication is readable";
  absl::StatusOr<rapidjson::Document> cm =
      kube.Get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication");
  if (!cm.ok()) {
    out->push_back(Fail(id, title, absl::StrCat("cannot read it: ", cm.status().message()),
                        absl::IsNotFound(cm.status())
                            ? "the API server publishes it when started with --client-ca-file and "
                              "--requestheader-client-ca-file: aggregation is not configured"
                            : "the kubeconfig's user must be able to get it (the adapter's own "
                              "access is the rbac/adapter check)"));
    return;
  }
  std::vector<std::string> missing;
  for (const char* key : {"client-ca-file", "requestheader-client-ca-file"}) {
    if (Str(*cm, {"data", key}).empty()) missing.push_back(key);
  }
  if (!missing.empty()) {
    out->push_back(Fail(id, title, absl::StrCat("it has no ", absl::StrJoin(missing, ", ")),
                        "start kube-apiserver with --requestheader-client-ca-file (the front-proxy "
                        "CA) and --client-ca-file: without them the adapter cannot authenticate "
                        "the aggregator"));
    return;
  }
  out->push_back(Pass(id, title, "client-ca-file and requestheader-client-ca-file present"));
}

}  // namespace doctor::internal
