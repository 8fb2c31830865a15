#include "adapter/auth/cert_cache.h"

#include <openssl/sha.h>

#include <algorithm>

namespace adapter::auth::internal {
namespace {

void AppendWithLength(std::string* out, const std::string& s) {
  uint64_t n = s.size();
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(n >> (8 * i)));
  out->append(s);
}

}  // namespace

std::string CertVerifyCache::ChainDigest(const std::string& leaf_der,
                                         const std::vector<std::string>& chain_der) {
  std::string buf;
  size_t total = 8 + leaf_der.size();
  for (const std::string& c : chain_der) total += 8 + c.size();
  buf.reserve(total);
  AppendWithLength(&buf, leaf_der);
  for (const std::string& c : chain_der) AppendWithLength(&buf, c);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof(md));
}

std::string CertVerifyCache::Key(uint64_t pool_id, absl::string_view digest) {
  std::string key(reinterpret_cast<const char*>(&pool_id), sizeof(pool_id));
  key.append(digest.data(), digest.size());
  return key;
}

std::shared_ptr<const CertVerdict> CertVerifyCache::Get(uint64_t pool_id, absl::string_view digest,
                                                        absl::Time now) {
  const std::string key = Key(pool_id, digest);
  absl::MutexLock lock(&mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (now >= it->second.expires || now < it->second.valid_from) {
    map_.erase(it);
    return nullptr;
  }
  return it->second.verdict;
}

void CertVerifyCache::Put(uint64_t pool_id, absl::string_view digest,
                          std::shared_ptr<const CertVerdict> verdict, absl::Time now) {
  if (ttl_ <= absl::ZeroDuration() || max_ == 0) return;
  Entry e;
  e.valid_from = absl::InfinitePast();
  e.expires = now + ttl_;
  if (verdict->status.ok()) {
    // OpenSSL (X509_cmp_time, whole seconds): valid while notBefore <= now < notAfter.
    e.valid_from = verdict->cert.not_before;
    e.expires = std::min(e.expires, verdict->cert.not_after);
  }
  if (now >= e.expires) return;
  e.verdict = std::move(verdict);
  std::string key = Key(pool_id, digest);
  absl::MutexLock lock(&mu_);
  if (map_.size() >= max_ && !map_.contains(key)) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (now >= it->second.expires) {
        map_.erase(it++);
      } else {
        ++it;
      }
    }
    if (map_.size() >= max_) map_.erase(map_.begin());
  }
  map_[std::move(key)] = std::move(e);
}

size_t CertVerifyCache::size() const {
  absl::MutexLock lock(&mu_);
  return map_.size();
}

}  // namespace adapter::auth::internal
