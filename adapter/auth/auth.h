// The authentication/authorization seam of the adapter (contract sections 5.3 and 5.4).
//
//   absl::StatusOr<adapter::auth::UserInfo> user = authenticator.Authenticate(request);
//   if (user.ok()) absl::Status allowed = authorizer.Authorize(*user, attributes);
//
// The HTTPS server (adapter/) builds a Request per HTTP request and the Attributes from the
// path; the implementations (front-proxy headers, client-ca certificates, TokenReview,
// SubjectAccessReview, caches) live in adapter/auth/. Implementations must be safe for
// concurrent use: the server calls them from several threads at once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace adapter::auth {

// The authenticated identity (user.Info in k8s.io/apiserver).
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// What the server hands the authenticator.
struct Request {
  std::string method, path;  // path without query
  // Lower-cased names; when a header repeats, the first value (see header_values for all).
  std::map<std::string, std::string> headers;
  std::multimap<std::string, std::string> header_values;  // lower-cased name -> each value, in order
  std::string peer_cert_der;  // client leaf certificate (DER) as presented in TLS; empty if none
  std::vector<std::string> peer_chain_der;  // intermediates, if any
};

// What must be authorized (contract 2.1 / 5.4).
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

}  // namespace adapter::auth
