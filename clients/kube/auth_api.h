// AuthApiClient: the Kubernetes API calls an aggregated API server makes to delegate
// authentication and authorization: TokenReview (authentication.k8s.io/v1),
// SubjectAccessReview (authorization.k8s.io/v1), and reading a ConfigMap (for
// kube-system/extension-apiserver-authentication). JSON stays inside this package; callers see
// typed structs.
//
//   auto http = clients::kube::MakeHttpClient(cluster);
//   clients::kube::KubeAuthApiClient api(http.get(), cluster);
//   absl::StatusOr<clients::kube::TokenReviewStatus> s = api.ReviewToken("eyJ...", {});
//
// Thread-safe when the HttpClient is.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/http/http_client.h"
#include "clients/kube/cluster_config.h"

namespace clients::kube {

struct ReviewedUser {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// TokenReview .status.
struct TokenReviewStatus {
  bool authenticated = false;
  ReviewedUser user;
  std::vector<std::string> audiences;
  std::string error;
};

struct ResourceAttributes {
  std::string namespace_name, verb, group, version, resource, subresource, name;
};
struct NonResourceAttributes {
  std::string path, verb;
};

// SubjectAccessReview .spec: exactly one of resource / non_resource is used.
struct SubjectAccessReviewSpec {
  bool is_resource = true;
  ResourceAttributes resource;
  NonResourceAttributes non_resource;
  std::string user, uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// SubjectAccessReview .status.
struct SubjectAccessReviewStatus {
  bool allowed = false;
  bool denied = false;
  std::string reason;
  std::string evaluation_error;
};

// JSON bodies and parsers, exposed for tests and for cache keys (the serialized spec is the
// upstream cache key).
std::string TokenReviewJson(const std::string& token, const std::vector<std::string>& audiences);
std::string SubjectAccessReviewJson(const SubjectAccessReviewSpec& spec);
// kInvalidArgument when the body is not a TokenReview / SubjectAccessReview / ConfigMap.
absl::StatusOr<TokenReviewStatus> ParseTokenReviewResponse(const std::string& body);
absl::StatusOr<SubjectAccessReviewStatus> ParseSubjectAccessReviewResponse(const std::string& body);
absl::StatusOr<std::map<std::string, std::string>> ParseConfigMapData(const std::string& body);

// The interface the authenticator/authorizer depend on, so tests may fake it.
class AuthApi {
 public:
  virtual ~AuthApi() = default;
  // OK with the review status (authenticated or not). Errors: kUnavailable (transport, 5xx,
  // 429), kPermissionDenied / kUnauthenticated (403/401: our own credentials lack
  // system:auth-delegator), kInternal (unexpected response).
  virtual absl::StatusOr<TokenReviewStatus> ReviewToken(
      const std::string& token, const std::vector<std::string>& audiences) = 0;
  // Same error codes.
  virtual absl::StatusOr<SubjectAccessReviewStatus> ReviewAccess(
      const SubjectAccessReviewSpec& spec) = 0;
  // The ConfigMap's .data; kNotFound when it does not exist, other codes as above.
  virtual absl::StatusOr<std::map<std::string, std::string>> GetConfigMapData(
      const std::string& namespace_name, const std::string& name) = 0;
};

class KubeAuthApiClient : public AuthApi {
 public:
  // `http` must outlive this client and carry the cluster's TLS settings (MakeHttpClient).
  KubeAuthApiClient(clients::http::HttpClient* http, ClusterConfig cluster,
                    absl::Duration timeout = absl::Seconds(10));

  absl::StatusOr<TokenReviewStatus> ReviewToken(const std::string& token,
                                                const std::vector<std::string>& audiences) override;
  absl::StatusOr<SubjectAccessReviewStatus> ReviewAccess(
      const SubjectAccessReviewSpec& spec) override;
  absl::StatusOr<std::map<std::string, std::string>> GetConfigMapData(
      const std::string& namespace_name, const std::string& name) override;

 private:
  absl::StatusOr<std::string> Call(const std::string& method, const std::string& path,
                                   const std::string& body, int want_status);

  clients::http::HttpClient* const http_;
  const ClusterConfig cluster_;
  const absl::Duration timeout_;
};

}  // namespace clients::kube
