// Internal: verification outcomes of client certificate chains, so the aggregator's one
// front-proxy certificate is checked with OpenSSL once per TTL instead of on every request.
//
// Keyed by the CertPool's id (a CA reload builds a new pool, hence new keys) and the SHA-256
// of the leaf and intermediates as presented. An entry holds the outcome (the verified CN and
// O values, or the failure status) and expires after the TTL, and a success also the moment
// its chain stops being valid (OpenSSL: notBefore <= now < notAfter, whole seconds), so a
// certificate that expires fails right after its notAfter even when cached. Bounded: when
// full, expired entries are dropped, then an arbitrary one (hash order, i.e. effectively
// random). Thread-safe; Get and Put hold the lock only for the map operation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapter/auth/x509_verifier.h"

namespace adapter::auth::internal {

// The outcome of one chain against one pool.
struct CertVerdict {
  absl::Status status;  // OK, or kUnauthenticated with OpenSSL's reason
  VerifiedCert cert;    // when OK
};

class CertVerifyCache {
 public:
  CertVerifyCache(absl::Duration ttl, size_t max_entries) : ttl_(ttl), max_(max_entries) {}

  // SHA-256 over the leaf and each intermediate, each length-prefixed (32 raw bytes).
  static std::string ChainDigest(const std::string& leaf_der,
                                 const std::vector<std::string>& chain_der);

  // The cached verdict for (pool, digest) at `now`; null on a miss or an expired entry.
  std::shared_ptr<const CertVerdict> Get(uint64_t pool_id, absl::string_view digest,
                                         absl::Time now);

  // Stores `verdict`, verified at `now`, until now + TTL, and for a success no later than its
  // chain is valid. No-op when the TTL is not positive.
  void Put(uint64_t pool_id, absl::string_view digest, std::shared_ptr<const CertVerdict> verdict,
           absl::Time now);

  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const CertVerdict> verdict;
    absl::Time valid_from;  // a miss before (a clock set back before notBefore)
    absl::Time expires;     // a miss from
  };
  static std::string Key(uint64_t pool_id, absl::string_view digest);

  const absl::Duration ttl_;
  const size_t max_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> map_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adapter::auth::internal
