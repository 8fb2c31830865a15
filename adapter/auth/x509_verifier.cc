#include "adapter/auth/x509_verifier.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <time.h>

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"

namespace adapter::auth::internal {
namespace {

X509* FromDer(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  // Trailing garbage after the certificate is not a certificate.
  if (cert != nullptr && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(cert);
    return nullptr;
  }
  return cert;
}

std::vector<std::string> NameEntries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), len);
    OPENSSL_free(utf8);
  }
  return out;
}

// An ASN1_TIME as absl::Time; false when it does not convert.
bool ToTime(const ASN1_TIME* t, absl::Time* out) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  *out = absl::FromTimeT(timegm(&tm));
  return true;
}

std::atomic<uint64_t> next_pool_id{1};

}  // namespace

CertPool::CertPool() : id_(next_pool_id.fetch_add(1, std::memory_order_relaxed)) {}

absl::StatusOr<std::unique_ptr<CertPool>> CertPool::FromPem(const std::string& pem) {
  std::unique_ptr<CertPool> pool(new CertPool());
  pool->store_ = X509_STORE_new();
  if (pool->store_ == nullptr) return absl::InternalError("X509_STORE_new failed");
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(pool->store_, cert) == 1) ++pool->size_;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the loop ends on "no start line"
  if (pool->size_ == 0) return absl::InvalidArgumentError("CA bundle holds no PEM certificate");
  return pool;
}

CertPool::~CertPool() {
  if (store_ != nullptr) X509_STORE_free(store_);
}

absl::StatusOr<VerifiedCert> CertPool::Verify(const std::string& leaf_der,
                                              const std::vector<std::string>& chain_der,
                                              absl::Time now) const {
  X509* leaf = FromDer(leaf_der);
  if (leaf == nullptr) {
    ERR_clear_error();
    return absl::UnauthenticatedError("x509: client certificate does not parse");
  }
  STACK_OF(X509)* chain = sk_X509_new_null();
  for (const std::string& der : chain_der) {
    if (X509* c = FromDer(der)) sk_X509_push(chain, c);
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  bool ok = ctx != nullptr && X509_STORE_CTX_init(ctx, store_, leaf, chain) == 1;
  if (ok) {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(absl::ToUnixSeconds(now)));
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    ok =
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 && X509_verify_cert(ctx) == 1;
  }
  std::string why =
      ok || ctx == nullptr ? "" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  VerifiedCert out;
  if (ok) {
    // The window in which this chain verifies (OpenSSL checked every certificate in it).
    STACK_OF(X509)* verified = X509_STORE_CTX_get0_chain(ctx);
    bool known = verified != nullptr && sk_X509_num(verified) > 0;
    for (int i = 0; known && i < sk_X509_num(verified); ++i) {
      X509* c = sk_X509_value(verified, i);
      absl::Time from, to;
      known = ToTime(X509_get0_notBefore(c), &from) && ToTime(X509_get0_notAfter(c), &to);
      out.not_before = std::max(out.not_before, from);
      out.not_after = std::min(out.not_after, to);
    }
    // Unknown window: valid for this check only (never cached).
    if (!known) out.not_after = absl::InfinitePast();
  }
  if (ctx != nullptr) X509_STORE_CTX_free(ctx);
  sk_X509_pop_free(chain, X509_free);
  ERR_clear_error();
  if (!ok) {
    X509_free(leaf);
    return absl::UnauthenticatedError(absl::StrCat("x509: ", why));
  }
  X509_NAME* subject = X509_get_subject_name(leaf);
  std::vector<std::string> cns = NameEntries(subject, NID_commonName);
  if (!cns.empty()) out.common_name = cns.back();  // the most specific CN, as Go does
  out.organizations = NameEntries(subject, NID_organizationName);
  X509_free(leaf);
  return out;
}

}  // namespace adapter::auth::internal
