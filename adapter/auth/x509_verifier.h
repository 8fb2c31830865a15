// Internal: a pool of trusted CA certificates and client-certificate verification against it
// (as kube-apiserver's x509 authenticator: chain to a root in the pool using the intermediates
// the client sent, extended key usage clientAuth, validity at "now"). Like Go's x509, any certificate in the pool is a
// trust anchor (it need not be self-signed). Thread-safe after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct x509_store_st;  // OpenSSL's X509_STORE

namespace adapter::auth::internal {

struct VerifiedCert {
  std::string common_name;
  std::vector<std::string> organizations;
  // The validity window of the verified chain (latest notBefore, earliest notAfter of the
  // leaf, the intermediates used and the trust anchor), whole seconds.
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfiniteFuture();
};

class CertPool {
 public:
  // kInvalidArgument when `pem` holds no certificate.
  static absl::StatusOr<std::unique_ptr<CertPool>> FromPem(const std::string& pem);
  ~CertPool();

  // OK with the subject's CN and O values when `leaf_der` verifies; kUnauthenticated with
  // OpenSSL's reason otherwise (malformed, unknown issuer, expired, wrong key usage...).
  absl::StatusOr<VerifiedCert> Verify(const std::string& leaf_der,
                                      const std::vector<std::string>& chain_der,
                                      absl::Time now) const;

  int size() const { return size_; }
  // Unique per pool built in this process (a reloaded bundle gets a new id): the CA part of
  // verification cache keys.
  uint64_t id() const { return id_; }

 private:
  CertPool();
  uint64_t id_ = 0;
  ::x509_store_st* store_ = nullptr;
  int size_ = 0;
};

}  // namespace adapter::auth::internal
