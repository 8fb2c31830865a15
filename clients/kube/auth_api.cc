#include "clients/kube/auth_api.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace clients::kube {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Key(Writer& w, const char* k) { w.Key(k); }
void Str(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void OptField(Writer& w, const char* k, const std::string& v) {
  if (v.empty()) return;
  Key(w, k);
  Str(w, v);
}

std::string GetString(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

bool GetBool(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return false;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

std::vector<std::string> GetStrings(const rapidjson::Value& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.IsObject()) return out;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.push_back(v.GetString());
  }
  return out;
}

const rapidjson::Value* GetObject(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsObject() ? &it->value : nullptr;
}

absl::Status ParseKind(const std::string& body, const char* kind, rapidjson::Document* doc) {
  doc->Parse(body.c_str(), body.size());
  if (doc->HasParseError() || !doc->IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat("response is not a JSON ", kind));
  }
  std::string got = GetString(*doc, "kind");
  if (!got.empty() && got != kind) {
    return absl::InvalidArgumentError(absl::StrCat("expected kind ", kind, ", got ", got));
  }
  return absl::OkStatus();
}

}  // namespace

std::string TokenReviewJson(const std::string& token, const std::vector<std::string>& audiences) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(w, "apiVersion");
  w.String("authentication.k8s.io/v1");
  Key(w, "kind");
  w.String("TokenReview");
  Key(w, "spec");
  w.StartObject();
  Key(w, "token");
  Str(w, token);
  if (!audiences.empty()) {
    Key(w, "audiences");
    w.StartArray();
    for (const auto& a : audiences) Str(w, a);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

std::string SubjectAccessReviewJson(const SubjectAccessReviewSpec& spec) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(w, "apiVersion");
  w.String("authorization.k8s.io/v1");
  Key(w, "kind");
  w.String("SubjectAccessReview");
  Key(w, "spec");
  w.StartObject();
  if (spec.is_resource) {
    const ResourceAttributes& r = spec.resource;
    Key(w, "resourceAttributes");
    w.StartObject();
    OptField(w, "namespace", r.namespace_name);
    OptField(w, "verb", r.verb);
    OptField(w, "group", r.group);
    OptField(w, "version", r.version);
    OptField(w, "resource", r.resource);
    OptField(w, "subresource", r.subresource);
    OptField(w, "name", r.name);
    w.EndObject();
  } else {
    Key(w, "nonResourceAttributes");
    w.StartObject();
    OptField(w, "path", spec.non_resource.path);
    OptField(w, "verb", spec.non_resource.verb);
    w.EndObject();
  }
  Key(w, "user");
  Str(w, spec.user);
  OptField(w, "uid", spec.uid);
  Key(w, "groups");
  w.StartArray();
  for (const auto& g : spec.groups) Str(w, g);
  w.EndArray();
  if (!spec.extra.empty()) {
    Key(w, "extra");
    w.StartObject();
    for (const auto& [k, vs] : spec.extra) {  // std::map: sorted, so the JSON is canonical
      Str(w, k);
      w.StartArray();
      for (const auto& v : vs) Str(w, v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

absl::StatusOr<TokenReviewStatus> ParseTokenReviewResponse(const std::string& body) {
  rapidjson::Document doc;
  if (absl::Status s = ParseKind(body, "TokenReview", &doc); !s.ok()) return s;
  TokenReviewStatus out;
  const rapidjson::Value* status = GetObject(doc, "status");
  if (status == nullptr) return out;  // no status: not authenticated
  out.authenticated = GetBool(*status, "authenticated");
  out.error = GetString(*status, "error");
  out.audiences = GetStrings(*status, "audiences");
  if (const rapidjson::Value* user = GetObject(*status, "user")) {
    out.user.username = GetString(*user, "username");
    out.user.uid = GetString(*user, "uid");
    out.user.groups = GetStrings(*user, "groups");
    if (const rapidjson::Value* extra = GetObject(*user, "extra")) {
      for (const auto& m : extra->GetObject()) {
        std::vector<std::string>& vs = out.user.extra[m.name.GetString()];
        if (m.value.IsArray()) {
          for (const auto& v : m.value.GetArray()) {
            if (v.IsString()) vs.push_back(v.GetString());
          }
        }
      }
    }
  }
  if (out.authenticated && out.user.username.empty()) {
    return absl::InvalidArgumentError("TokenReview authenticated a user without a username");
  }
  return out;
}

absl::StatusOr<SubjectAccessReviewStatus> ParseSubjectAccessReviewResponse(
    const std::string& body) {
  rapidjson::Document doc;
  if (absl::Status s = ParseKind(body, "SubjectAccessReview", &doc); !s.ok()) return s;
  SubjectAccessReviewStatus out;
  if (const rapidjson::Value* status = GetObject(doc, "status")) {
    out.allowed = GetBool(*status, "allowed");
    out.denied = GetBool(*status, "denied");
    out.reason = GetString(*status, "reason");
    out.evaluation_error = GetString(*status, "evaluationError");
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ParseConfigMapData(const std::string& body) {
  rapidjson::Document doc;
  if (absl::Status s = ParseKind(body, "ConfigMap", &doc); !s.ok()) return s;
  std::map<std::string, std::string> out;
  if (const rapidjson::Value* data = GetObject(doc, "data")) {
    for (const auto& m : data->GetObject()) {
      if (m.value.IsString()) out[m.name.GetString()] = m.value.GetString();
    }
  }
  return out;
}

KubeAuthApiClient::KubeAuthApiClient(clients::http::HttpClient* http, ClusterConfig cluster,
                                     absl::Duration timeout)
    : http_(http), cluster_(std::move(cluster)), timeout_(timeout) {}

absl::StatusOr<std::string> KubeAuthApiClient::Call(const std::string& method,
                                                    const std::string& path,
                                                    const std::string& body, int want_status) {
  absl::StatusOr<clients::http::HttpResponse> r =
      DoApiRequest(http_, cluster_, method, path, body, timeout_);
  if (!r.ok()) return r.status();
  if (r->status == want_status || (want_status == 201 && r->status == 200)) return r->body;
  return ApiError(method, path, r->status, r->body);
}

absl::StatusOr<TokenReviewStatus> KubeAuthApiClient::ReviewToken(
    const std::string& token, const std::vector<std::string>& audiences) {
  absl::StatusOr<std::string> body = Call("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                                          TokenReviewJson(token, audiences), 201);
  if (!body.ok()) return body.status();
  absl::StatusOr<TokenReviewStatus> s = ParseTokenReviewResponse(*body);
  if (!s.ok()) return absl::InternalError(s.status().message());
  return s;
}

absl::StatusOr<SubjectAccessReviewStatus> KubeAuthApiClient::ReviewAccess(
    const SubjectAccessReviewSpec& spec) {
  absl::StatusOr<std::string> body =
      Call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
           SubjectAccessReviewJson(spec), 201);
  if (!body.ok()) return body.status();
  absl::StatusOr<SubjectAccessReviewStatus> s = ParseSubjectAccessReviewResponse(*body);
  if (!s.ok()) return absl::InternalError(s.status().message());
  return s;
}

absl::StatusOr<std::map<std::string, std::string>> KubeAuthApiClient::GetConfigMapData(
    const std::string& namespace_name, const std::string& name) {
  absl::StatusOr<std::string> body = Call(
      "GET", absl::StrCat("/api/v1/namespaces/", namespace_name, "/configmaps/", name), "", 200);
  if (!body.ok()) return body.status();
  absl::StatusOr<std::map<std::string, std::string>> data = ParseConfigMapData(*body);
  if (!data.ok()) return absl::InternalError(data.status().message());
  return data;
}

}  // namespace clients::kube
