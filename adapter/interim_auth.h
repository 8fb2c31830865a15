// Interim authentication/authorization used by `smart-autoscaler adapter` until the full
// implementation in adapter/auth/ (front-proxy headers, TokenReview, SubjectAccessReview)
// is wired in. Fail-closed and deliberately small:
//
//   absl::StatusOr<std::unique_ptr<auth::Authenticator>> a = NewClientCertAuthenticator("ca.pem");
//   std::unique_ptr<auth::Authorizer> z = NewAuthenticatedOnlyAuthorizer();
//
// - The authenticator accepts only TLS client certificates that chain to the given CA bundle
//   (with any intermediates the client sent) and carry the clientAuth usage; user = CN,
//   groups = O values + system:authenticated. Everything else is kUnauthenticated.
// - The authorizer allows every authenticated user, and the anonymous user only on
//   /healthz, /livez and /readyz.
// Both are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "adapter/auth/auth.h"

namespace adapter {

// kInvalidArgument when `ca_file` holds no usable certificate. An empty `ca_file` gives an
// authenticator that rejects every request (health probes still pass as anonymous).
absl::StatusOr<std::unique_ptr<auth::Authenticator>> NewClientCertAuthenticator(
    const std::string& ca_file);

std::unique_ptr<auth::Authorizer> NewAuthenticatedOnlyAuthorizer();

}  // namespace adapter
