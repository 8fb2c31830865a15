// The authentication/authorization seam of the adapter (who is asking, may they), and
// the delegating implementations that ask the Kubernetes API (TokenReview,
// SubjectAccessReview) the way k8s.io/apiserver does for aggregated API servers.
//
//   absl::StatusOr<adapter::auth::UserInfo> user = authenticator.Authenticate(request);
//   if (user.ok()) absl::Status allowed = authorizer.Authorize(*user, attributes);
//
// Wiring by hand (main uses the one-call MakeAuthStackFromFlags() in flags.h instead):
//   absl::StatusOr<adapter::auth::AuthConfig> config =
//   adapter::auth::LoadAuthConfigFromConfigMap(data); auto authn =
//   adapter::auth::MakeAuthenticator(*config, api, &base::RealClock()); auto authz =
//   adapter::auth::MakeAuthorizer(*config, api, &base::RealClock());
//
// The HTTPS server (adapter/) builds a Request per HTTP request and the Attributes from the
// path. Implementations must be safe for concurrent use: the server calls them from several
// threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace base {
class Clock;
}
namespace clients::kube {
class AuthApi;
}

namespace adapter::auth {

// The authenticated identity (user.Info in k8s.io/apiserver).
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  std::string uid;  // from TokenReview or the front proxy's UID header; often empty
};

// What the server hands the authenticator.
struct Request {
  std::string method, path;  // path without query
  // Lower-cased names; when a header repeats, the first value (see header_values for all).
  std::map<std::string, std::string> headers;
  std::multimap<std::string, std::string>
      header_values;          // lower-cased name -> each value, in order
  std::string peer_cert_der;  // client leaf certificate (DER) as presented in TLS; empty if none
  std::vector<std::string> peer_chain_der;  // intermediates, if any
};

// What must be authorized: the attributes of a SubjectAccessReview, from the request as
// k8s.io/apiserver's RequestInfo reads it.
struct Attributes {
  bool resource_request = false;
  std::string verb = "get";
  std::string path;  // path for non-resource requests
  std::string group, version, resource, subresource, namespace_name, name;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // OK -> user; kUnauthenticated -> 401 with the message; kUnavailable -> fail closed (401/503
  // per contract).
  virtual absl::StatusOr<UserInfo> Authenticate(const Request& r) = 0;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK -> allowed; kPermissionDenied -> 403 with reason; other -> fail closed (403/500 per
  // contract).
  virtual absl::Status Authorize(const UserInfo& u, const Attributes& a) = 0;
};

// ---- Delegating implementations -------------------------------------------------------------

// Everything the delegating authenticator and authorizer need, as read from the
// kube-system/extension-apiserver-authentication ConfigMap and/or flags.
struct AuthConfig {
  // Front proxy (the aggregator): CA bundle (PEM) that signs its client certificate. Empty =
  // request-header authentication off (X-Remote-* headers are then never honoured).
  std::string requestheader_ca_pem;
  // Allowed CNs of the front-proxy certificate; empty = any certificate signed by the CA.
  std::vector<std::string> requestheader_allowed_names;
  // Header names, matched case-insensitively. Defaults as upstream.
  std::vector<std::string> requestheader_username_headers = {"X-Remote-User"};
  std::vector<std::string> requestheader_uid_headers;
  std::vector<std::string> requestheader_group_headers = {"X-Remote-Group"};
  std::vector<std::string> requestheader_extra_headers_prefix = {"X-Remote-Extra-"};
  // Ordinary client certificates (user = CN, groups = O). Empty = off.
  std::string client_ca_pem;
  // Non-resource paths allowed for everyone, anonymous included (exact; "/x*" = prefix).
  std::vector<std::string> always_allow_paths = {"/healthz", "/readyz", "/livez"};
  // Groups allowed everything without a SubjectAccessReview.
  std::vector<std::string> always_allow_groups = {"system:masters"};
  // TokenReview audiences (empty: none sent).
  std::vector<std::string> api_audiences;
  absl::Duration token_cache_ttl = absl::Seconds(10);         // positive and negative
  absl::Duration authorized_cache_ttl = absl::Seconds(10);    // SAR allowed
  absl::Duration unauthorized_cache_ttl = absl::Seconds(10);  // SAR denied / no opinion
  // Client-certificate verification results (per certificate chain and CA bundle, success and
  // failure; a success never beyond the chain's notAfter). 0 = verify every request.
  absl::Duration cert_cache_ttl = absl::Seconds(10);
};

// Counts of decisions and handled failures, for export as Prometheus metrics by the owner.
// Every field is updated with relaxed atomics; safe to read at any time.
struct AuthCounters {
  // Authentication successes by method.
  std::atomic<int64_t> front_proxy{0}, client_cert{0}, token{0};
  std::atomic<int64_t> unauthenticated{0};    // 401: no or bad credentials
  std::atomic<int64_t> authn_unavailable{0};  // TokenReview failed: fail closed
  std::atomic<int64_t> token_reviews{0}, token_cache_hits{0};
  // Client-certificate chain checks done with OpenSSL (cache misses), and answered from the
  // verification cache. One request may check its certificate against both CA bundles.
  std::atomic<int64_t> cert_verifications{0}, cert_cache_hits{0};
  std::atomic<int64_t> allowed{0}, forbidden{0};
  std::atomic<int64_t> authz_errors{0};  // SubjectAccessReview failed: fail closed
  std::atomic<int64_t> access_reviews{0}, access_cache_hits{0};
};

// Reads the ConfigMap's .data (keys client-ca-file, requestheader-client-ca-file,
// requestheader-allowed-names, requestheader-username-headers, requestheader-uid-headers,
// requestheader-group-headers, requestheader-extra-headers-prefix; list keys are JSON arrays,
// "" = absent). Missing header keys keep the upstream defaults. kInvalidArgument names the key
// that does not parse. Other AuthConfig fields keep their defaults.
absl::StatusOr<AuthConfig> LoadAuthConfigFromConfigMap(
    const std::map<std::string, std::string>& data);

// The same from a whole ConfigMap object as JSON (as kubectl get -o json prints it).
absl::StatusOr<AuthConfig> LoadAuthConfigFromConfigMapJson(const std::string& json);

// The union chain, in order: front-proxy certificate + X-Remote-* headers
// (verified against requestheader_ca_pem, CN in the allowed names), client certificate
// (client_ca_pem; user = CN, groups = O), bearer token (TokenReview through `api`, results
// cached token_cache_ttl keyed by the token's SHA-256). Certificate chain verifications, success
// or failure, are cached cert_cache_ttl per chain (SHA-256 of the DER as presented) and CA
// bundle, a success never beyond the chain's notAfter, at most 1,000 entries; the
// front-proxy headers are read on every request. Every authenticated user also gets the
// group system:authenticated. Results:
//   OK                with the user when one method succeeds;
//   kUnauthenticated  ("Unauthorized") when no credentials were presented (no anonymous
//                     access) or every presented credential failed (bad chain, wrong CA,
//                     expired, CN not allowed, token rejected);
//   kUnavailable      when a token could not be reviewed (API down / erroring): fail closed,
//                     not cached.
// `api` may be null (no credentials for the Kubernetes API): bearer tokens then fail with
// kUnauthenticated. `api`, `clock` and `counters` (may be null) must outlive the
// authenticator. The clock also sets the "now" of certificate validity checks.
absl::StatusOr<std::unique_ptr<Authenticator>> MakeAuthenticator(const AuthConfig& config,
                                                                 clients::kube::AuthApi* api,
                                                                 const base::Clock* clock,
                                                                 AuthCounters* counters = nullptr);

// The union, first "allow" wins: always-allow groups, always-allow non-resource paths, then a
// SubjectAccessReview through `api` with resourceAttributes / nonResourceAttributes from the
// Attributes (allowed and denied answers cached for their TTLs, keyed by the review spec).
// Results:
//   OK                 allowed;
//   kPermissionDenied  denied, no opinion, the anonymous user off the always-allow paths, or
//                      no `api` (null) for a request that needs a review; the message is
//                      Kubernetes' "... is forbidden: User ... cannot ..." text;
//   kInternal          the review failed (API down / erroring): fail closed (500), not cached.
absl::StatusOr<std::unique_ptr<Authorizer>> MakeAuthorizer(const AuthConfig& config,
                                                           clients::kube::AuthApi* api,
                                                           const base::Clock* clock,
                                                           AuthCounters* counters = nullptr);

// The Kubernetes-style 403 message for `a` denied to `u` (reason appended when not empty).
std::string ForbiddenMessage(const UserInfo& u, const Attributes& a, const std::string& reason);

}  // namespace adapter::auth
