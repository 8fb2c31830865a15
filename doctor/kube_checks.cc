// The API-server-side checks: APIServices and who owns their groups, the Service's endpoints,
// and the serving certificate against the caBundle. Also the JSON reader they share.
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "doctor/checks.h"
#include "doctor/serving_cert.h"

namespace doctor::internal {

absl::StatusOr<rapidjson::Document> KubeReader::Call(const std::string& method,
                                                     const std::string& path,
                                                     const std::string& body) {
  absl::StatusOr<clients::http::HttpResponse> r =
      clients::kube::DoApiRequest(deps_.kube_http, *deps_.kube, method, path, body, timeout_);
  if (!r.ok()) return r.status();
  rapidjson::Document doc;
  doc.Parse(r->body.c_str());
  if (r->status == 404) {
    std::string msg = doc.HasParseError() || !doc.IsObject() ? "" : Str(doc, {"message"});
    return absl::NotFoundError(msg.empty() ? absl::StrCat(path, " not found") : msg);
  }
  if (r->status < 200 || r->status > 299) {
    return clients::kube::ApiError(method, path, r->status, r->body);
  }
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::DataLossError(
        absl::StrCat(method, " ", path, ": the answer is not a JSON object"));
  }
  return doc;
}

absl::StatusOr<rapidjson::Document> KubeReader::Get(const std::string& path) {
  return Call("GET", path, "");
}
absl::StatusOr<rapidjson::Document> KubeReader::Post(const std::string& path,
                                                     const std::string& body) {
  return Call("POST", path, body);
}

const rapidjson::Value* Find(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* key : path) {
    if (!cur->IsObject()) return nullptr;
    auto it = cur->FindMember(key);
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
  }
  return cur;
}

std::string Str(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* s = Find(v, path);
  return s != nullptr && s->IsString() ? std::string(s->GetString(), s->GetStringLength()) : "";
}

Condition FindCondition(const rapidjson::Value& obj, const std::string& type) {
  const rapidjson::Value* conds = Find(obj, {"status", "conditions"});
  if (conds == nullptr || !conds->IsArray()) return {};
  for (const rapidjson::Value& c : conds->GetArray()) {
    if (Str(c, {"type"}) == type) {
      return {Str(c, {"status"}), Str(c, {"reason"}), Str(c, {"message"})};
    }
  }
  return {};
}

const rapidjson::Value& Array(const rapidjson::Value* v) {
  static const rapidjson::Value* const kEmpty = new rapidjson::Value(rapidjson::kArrayType);
  return v != nullptr && v->IsArray() ? *v : *kEmpty;
}

Check Pass(std::string id, std::string title, std::string seen) {
  return {std::move(id), std::move(title), true, std::move(seen), ""};
}
Check Fail(std::string id, std::string title, std::string cause, std::string fix) {
  return {std::move(id), std::move(title), false, std::move(cause), std::move(fix)};
}

namespace {

std::string ServiceRef(const Options& o) {
  return absl::StrCat(o.namespace_name, "/", o.service_name);
}
std::string ServiceDns(const Options& o) {
  return absl::StrCat(o.service_name, ".", o.namespace_name, ".svc");
}

// "<ns>/<name>" of an APIService's spec.service, or "" for a local (built-in) one.
std::string BackingService(const rapidjson::Value& apiservice) {
  const rapidjson::Value* svc = Find(apiservice, {"spec", "service"});
  if (svc == nullptr || !svc->IsObject()) return "";
  return absl::StrCat(Str(*svc, {"namespace"}), "/", Str(*svc, {"name"}));
}

}  // namespace

Diagnosis ExplainUnavailable(const Options& o, const Condition& c) {
  const std::string m = absl::AsciiStrToLower(c.message);
  const std::string svc = ServiceRef(o);
  if (c.reason == "ServiceNotFound" || absl::StrContains(m, "is not present")) {
    return {
        "service not found: the APIService points at a Service that does not exist",
        absl::StrCat("create the Service ", svc, " (kubectl apply -k deploy/ or the Helm chart)")};
  }
  if (c.reason == "MissingEndpoints" || absl::StrContains(m, "endpoints") ||
      absl::StrContains(m, "no addresses")) {
    return {"no endpoints: no ready adapter Pod backs the Service",
            absl::StrCat("kubectl -n ", o.namespace_name,
                         " get pods,endpoints; check the adapter container's readiness (/readyz) "
                         "and that the Service selector matches the Pod labels")};
  }
  if (absl::StrContains(m, "x509") || absl::StrContains(m, "certificate")) {
    return {
        "caBundle mismatch: the serving certificate does not verify against the APIService's "
        "caBundle",
        "set caBundle to the CA that signed the adapter's certificate (tls.mode of the chart, "
        "or cert-manager's inject-ca-from); see the serving-cert check"};
  }
  if (absl::StrContains(m, "timeout") || absl::StrContains(m, "deadline exceeded") ||
      absl::StrContains(m, "timed out")) {
    return {"timeout: kube-apiserver cannot reach the adapter Pod in time",
            "allow kube-apiserver -> Pod port 6443 (NetworkPolicy, firewall, the control plane's "
            "route to the Pod network); check the adapter is not overloaded"};
  }
  if (absl::StrContains(m, "401") || absl::StrContains(m, "403") ||
      absl::StrContains(m, "unauthorized") || absl::StrContains(m, "forbidden")) {
    return {"401/403 from the adapter: it rejects the front proxy's discovery request",
            "the adapter must trust kube-apiserver's front-proxy CA (extension-apiserver-"
            "authentication ConfigMap, see the rbac checks) and hold system:auth-delegator"};
  }
  return {absl::StrCat("not available (", c.reason.empty() ? "no reason" : c.reason, ")"),
          absl::StrCat("kubectl -n ", o.namespace_name, " logs deploy/", o.service_name,
                       " -c adapter")};
}

void CheckApiServices(const Options& o, KubeReader& kube, std::vector<Check>* out) {
  for (const std::string& name : o.api_services) {
    const std::string id = absl::StrCat("apiservice/", name);
    const std::string title = absl::StrCat("APIService ", name);
    absl::StatusOr<rapidjson::Document> a =
        kube.Get(absl::StrCat("/apis/apiregistration.k8s.io/v1/apiservices/", name));
    if (absl::IsNotFound(a.status())) {
      out->push_back(Fail(id, title, "not registered",
                          "kubectl apply -k deploy/ (or helm install; turn the API off in "
                          "apiServices if another adapter owns it)"));
      continue;
    }
    if (!a.ok()) {
      out->push_back(Fail(id, title, absl::StrCat("cannot read it: ", a.status().message()),
                          "check the kubeconfig's credentials and that they may get apiservices"));
      continue;
    }
    const std::string backing = BackingService(*a);
    if (backing != ServiceRef(o)) {
      out->push_back(
          Fail(id, title,
               absl::StrCat("served by ", backing.empty() ? "kube-apiserver itself" : backing,
                            ", not ", ServiceRef(o)),
               "see the apiservice-owner check"));
      continue;
    }
    Condition c = FindCondition(*a, "Available");
    if (c.status == "True") {
      out->push_back(Pass(id, title, "Available"));
      continue;
    }
    Diagnosis d = ExplainUnavailable(o, c);
    std::string said =
        c.status.empty() ? "no Available condition yet" : absl::StrCat(c.reason, ": ", c.message);
    out->push_back(Fail(id, title, absl::StrCat(d.cause, " (", said, ")"), d.fix));
  }
}

void CheckApiServiceOwners(const Options& o, KubeReader& kube, std::vector<Check>* out) {
  std::set<std::string> groups;
  for (const std::string& name : o.api_services) {
    size_t dot = name.find('.');
    if (dot != std::string::npos) groups.insert(name.substr(dot + 1));
  }
  absl::StatusOr<rapidjson::Document> list =
      kube.Get("/apis/apiregistration.k8s.io/v1/apiservices");
  for (const std::string& group : groups) {
    const std::string id = absl::StrCat("apiservice-owner/", group);
    const std::string title = absl::StrCat("no other server claims ", group);
    if (!list.ok()) {
      out->push_back(Fail(id, title,
                          absl::StrCat("cannot list APIServices: ", list.status().message()),
                          "the kubeconfig's user must be able to list apiservices"));
      continue;
    }
    std::vector<std::string> others;
    const rapidjson::Value* items = Find(*list, {"items"});
    for (const rapidjson::Value& a : Array(items).GetArray()) {
      if (Str(a, {"spec", "group"}) != group) continue;
      std::string backing = BackingService(a);
      if (backing != ServiceRef(o)) {
        others.push_back(absl::StrCat(Str(a, {"metadata", "name"}), " -> ",
                                      backing.empty() ? "local" : backing));
      }
    }
    if (others.empty()) {
      out->push_back(
          Pass(id, title, absl::StrCat("every ", group, " APIService points at ", ServiceRef(o))));
    } else {
      out->push_back(
          Fail(id, title, absl::StrCat("claimed by another server: ", absl::StrJoin(others, ", ")),
               absl::StrCat("one adapter per group: remove the other APIService, or turn ", group,
                            " off in smart-autoscaler (chart apiServices.*.enabled) "
                            "and let the other adapter serve it")));
    }
  }
}

void CheckEndpoints(const Options& o, KubeReader& kube, std::vector<Check>* out) {
  const std::string id = "service-endpoints";
  const std::string title = absl::StrCat("Service ", ServiceRef(o), " has ready endpoints");
  const std::string base = absl::StrCat("/api/v1/namespaces/", o.namespace_name);
  absl::StatusOr<rapidjson::Document> svc =
      kube.Get(absl::StrCat(base, "/services/", o.service_name));
  if (!svc.ok()) {
    out->push_back(Fail(
        id, title,
        absl::IsNotFound(svc.status()) ? "service not found" : std::string(svc.status().message()),
        "kubectl apply -k deploy/ (or helm install)"));
    return;
  }
  absl::StatusOr<rapidjson::Document> ep =
      kube.Get(absl::StrCat(base, "/endpoints/", o.service_name));
  int ready = 0, not_ready = 0;
  if (ep.ok()) {
    const rapidjson::Value* subsets = Find(*ep, {"subsets"});
    for (const rapidjson::Value& s : Array(subsets).GetArray()) {
      bool https = false;
      const rapidjson::Value* ports = Find(s, {"ports"});
      for (const rapidjson::Value& p : Array(ports).GetArray()) {
        https = https || Str(p, {"name"}) == "https";
      }
      if (!https) continue;
      const rapidjson::Value* a = Find(s, {"addresses"});
      const rapidjson::Value* n = Find(s, {"notReadyAddresses"});
      ready += a != nullptr && a->IsArray() ? a->Size() : 0;
      not_ready += n != nullptr && n->IsArray() ? n->Size() : 0;
    }
  } else if (!absl::IsNotFound(ep.status())) {
    out->push_back(Fail(id, title, absl::StrCat("cannot read endpoints: ", ep.status().message()),
                        "the kubeconfig's user must be able to get endpoints"));
    return;
  }
  if (ready > 0) {
    out->push_back(Pass(id, title, absl::StrCat(ready, " ready address(es) on port https")));
    return;
  }
  out->push_back(Fail(id, title,
                      absl::StrCat("no ready endpoints (", not_ready, " not ready) on port https"),
                      absl::StrCat("kubectl -n ", o.namespace_name,
                                   " describe pods -l "
                                   "app.kubernetes.io/component=server: is the adapter ready "
                                   "(/readyz), does the Service selector match the Pod labels?")));
}

namespace {

struct Bundle {
  std::string apiservice, pem;
  bool insecure = false;
};

std::vector<Bundle> CaBundles(const Options& o, KubeReader& kube) {
  std::vector<Bundle> out;
  for (const std::string& name : o.api_services) {
    absl::StatusOr<rapidjson::Document> a =
        kube.Get(absl::StrCat("/apis/apiregistration.k8s.io/v1/apiservices/", name));
    if (!a.ok() || BackingService(*a) != ServiceRef(o)) continue;
    Bundle b{name, "", false};
    const rapidjson::Value* skip = Find(*a, {"spec", "insecureSkipTLSVerify"});
    b.insecure = skip != nullptr && skip->IsBool() && skip->GetBool();
    std::string encoded = Str(*a, {"spec", "caBundle"});
    if (!encoded.empty() && !absl::Base64Unescape(encoded, &b.pem)) b.pem = "(not base64)";
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

void CheckServingCert(const Options& o, KubeReader& kube, CertFetcher* certs, absl::Time now,
                      std::vector<Check>* out) {
  const std::string id = "serving-cert";
  const std::string dns = ServiceDns(o);
  const std::string title = absl::StrCat("serving certificate matches the caBundle and ", dns);
  std::string address = o.serving_address.empty() ? absl::StrCat(dns, ":443") : o.serving_address;
  std::vector<std::string> hp = absl::StrSplit(address, absl::MaxSplits(':', 1));
  int port = 0;
  if (hp.size() != 2 || !absl::SimpleAtoi(hp[1], &port)) {
    out->push_back(Fail(id, title, absl::StrCat("bad serving address '", address, "'"),
                        "--serving-address HOST:PORT"));
    return;
  }
  absl::StatusOr<std::vector<std::string>> chain = certs->FetchChain(hp[0], port, dns, o.timeout);
  if (!chain.ok()) {
    out->push_back(Fail(
        id, title, absl::StrCat("cannot fetch it from ", address, ": ", chain.status().message()),
        absl::StrCat("run doctor in the cluster, or kubectl -n ", o.namespace_name,
                     " port-forward svc/", o.service_name,
                     " 8443:443 and --serving-address 127.0.0.1:8443")));
    return;
  }
  std::vector<Bundle> bundles = CaBundles(o, kube);
  if (bundles.empty()) {
    out->push_back(Fail(id, title, "no APIService of ours to take a caBundle from",
                        "see the apiservice checks"));
    return;
  }
  std::string verified;  // the last successful verification's detail
  for (const Bundle& b : bundles) {
    if (b.pem.empty()) {
      if (b.insecure) continue;
      out->push_back(Fail(id, title,
                          absl::StrCat("caBundle mismatch: ", b.apiservice, " has no caBundle"),
                          "set caBundle (chart tls.mode) or cert-manager.io/inject-ca-from"));
      return;
    }
    CertVerdict v = VerifyServingChain(*chain, b.pem, dns, now);
    if (v.kind == CertVerdict::kOk) {
      verified = v.detail;
      continue;
    }
    std::string cause = v.kind == CertVerdict::kNameMismatch  ? "SAN mismatch"
                        : v.kind == CertVerdict::kExpired     ? "certificate expired"
                        : v.kind == CertVerdict::kNotYetValid ? "certificate not yet valid"
                                                              : "caBundle mismatch";
    out->push_back(
        Fail(id, title, absl::StrCat(cause, " (", b.apiservice, "): ", v.detail),
             v.kind == CertVerdict::kNameMismatch
                 ? absl::StrCat("issue the certificate for ", dns, " (and ", o.service_name, ".",
                                o.namespace_name, ".svc.cluster.local)")
                 : "re-issue the serving certificate from the caBundle's CA, or set "
                   "caBundle to the CA that signed it"));
    return;
  }
  out->push_back(Pass(id, title,
                      verified.empty() ? "presented, but not verified: the APIServices set "
                                         "insecureSkipTLSVerify (deploy/overlays/cert-manager or "
                                         "the chart verify it)"
                                       : verified));
}

}  // namespace doctor::internal
