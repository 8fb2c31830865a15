// Test certificates made in-process with OpenSSL: a CA, and leaves it signs (client or server),
// for tests of TLS serving, client-certificate authentication and the HTTP client.
//
//   absl::StatusOr<tests::TestCert> ca = tests::MakeCa("front-proxy-ca");
//   tests::LeafSpec spec; spec.common_name = "front-proxy-client"; spec.client_auth = true;
//   absl::StatusOr<tests::TestCert> leaf = tests::MakeLeaf(*ca, spec);
//
// Keys are EC P-256 (fast to generate). Test-only. Each call is independent and safe to run
// concurrently.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tests {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 PEM
  std::string cert_der;
};

struct LeafSpec {
  std::string common_name;
  std::vector<std::string> organizations;  // subject O values (Kubernetes groups)
  std::vector<std::string> dns_names;      // subjectAltName DNS
  std::vector<std::string> ip_addresses;   // subjectAltName IP, e.g. "127.0.0.1"
  bool client_auth = true;                 // extendedKeyUsage clientAuth
  bool server_auth = false;                // extendedKeyUsage serverAuth
  bool is_ca = false;                      // for intermediates
  // Validity window; defaults: one hour ago to one year ahead of absl::Now().
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfinitePast();
};

// A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign).
absl::StatusOr<TestCert> MakeCa(const std::string& common_name,
                                absl::Time not_before = absl::InfinitePast(),
                                absl::Time not_after = absl::InfinitePast());

// A certificate for `spec` signed by `issuer`.
absl::StatusOr<TestCert> MakeLeaf(const TestCert& issuer, const LeafSpec& spec);

// Writes `contents` to `path` (mode 0600).
absl::Status WriteTestFile(const std::string& path, const std::string& contents);

// A fresh directory under TEST_TMPDIR (or /tmp).
std::string MakeTestDir(const std::string& prefix);

}  // namespace tests
