// serving_cert: the TLS side of the doctor — fetching the chain a server presents (OpenSSL,
// unverified) and verifying it the way kube-aggregator does: against an APIService's caBundle
// for the Service's DNS name <service>.<namespace>.svc.
//
//   auto certs = doctor::MakeTlsCertFetcher();
//   auto chain = certs->FetchChain("127.0.0.1", 8443, "smart-autoscaler.smart-autoscaler.svc", t);
//   doctor::internal::CertVerdict v = doctor::internal::VerifyServingChain(*chain, ca_pem, host,
//   now);
//
// Package-private (not in the library's public header). Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace doctor::internal {

struct CertVerdict {
  enum Kind { kOk, kUnknownAuthority, kNameMismatch, kExpired, kNotYetValid, kBadInput };
  Kind kind = kBadInput;
  std::string detail;  // OpenSSL's reason, the certificate's SANs, its validity
};

// Verifies `chain_pem` (leaf first) against the CA certificates in `ca_bundle_pem` for
// `dns_name` at time `at`.
CertVerdict VerifyServingChain(const std::vector<std::string>& chain_pem,
                               const std::string& ca_bundle_pem, const std::string& dns_name,
                               absl::Time at);

}  // namespace doctor::internal
