// The delegating authenticator. Order and semantics follow k8s.io/apiserver's
// authenticatorfactory.DelegatingAuthenticatorConfig.New: union(request-header, x509 client-ca,
// TokenReview), first success wins, system:authenticated added; anonymous is disabled here
// (no anonymous access to metrics), so "nothing presented" is a 401 too.
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "adapter/auth/auth.h"
#include "adapter/auth/cert_cache.h"
#include "adapter/auth/ttl_cache.h"
#include "adapter/auth/x509_verifier.h"
#include "base/clock.h"
#include "clients/kube/auth_api.h"
#include "glog/logging.h"

namespace adapter::auth {
namespace {

constexpr char kAuthenticated[] = "system:authenticated";
constexpr size_t kCertCacheEntries = 1000;

std::vector<std::string> Lower(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) out.push_back(absl::AsciiStrToLower(s));
  return out;
}

// Go's url.PathUnescape: false on a malformed %-escape.
bool PathUnescape(absl::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    int v = 0;
    if (i + 2 >= in.size()) return false;
    if (!absl::ascii_isxdigit(in[i + 1]) || !absl::ascii_isxdigit(in[i + 2])) return false;
    absl::SimpleHexAtoi(in.substr(i + 1, 2), &v);
    out->push_back(static_cast<char>(v));
    i += 2;
  }
  return true;
}

void AddAuthenticatedGroup(UserInfo* u) {
  if (std::find(u->groups.begin(), u->groups.end(), kAuthenticated) == u->groups.end()) {
    u->groups.push_back(kAuthenticated);
  }
}

std::string Sha256Hex(const std::string& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), SHA256_DIGEST_LENGTH));
}

void Bump(std::atomic<int64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }

// A cached TokenReview outcome (positive or negative).
struct TokenResult {
  bool authenticated = false;
  UserInfo user;
  std::string error;
};

class DelegatingAuthenticator : public Authenticator {
 public:
  DelegatingAuthenticator(const AuthConfig& config, clients::kube::AuthApi* api,
                          const base::Clock* clock, AuthCounters* counters)
      : config_(config),
        username_headers_(Lower(config.requestheader_username_headers)),
        uid_headers_(Lower(config.requestheader_uid_headers)),
        group_headers_(Lower(config.requestheader_group_headers)),
        extra_prefixes_(Lower(config.requestheader_extra_headers_prefix)),
        api_(api),
        clock_(clock),
        counters_(counters != nullptr ? counters : &own_counters_),
        token_cache_(clock, 100000),
        cert_cache_(config.cert_cache_ttl, kCertCacheEntries) {}

  absl::Status Init() {
    if (!config_.requestheader_ca_pem.empty()) {
      auto pool = internal::CertPool::FromPem(config_.requestheader_ca_pem);
      if (!pool.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("requestheader-client-ca-file: ", pool.status().message()));
      }
      requestheader_pool_ = std::move(*pool);
    }
    if (!config_.client_ca_pem.empty()) {
      auto pool = internal::CertPool::FromPem(config_.client_ca_pem);
      if (!pool.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("client-ca-file: ", pool.status().message()));
      }
      client_pool_ = std::move(*pool);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<UserInfo> Authenticate(const Request& r) override {
    std::vector<std::string> errors;
    if (!r.peer_cert_der.empty()) {
      absl::Time now = clock_->Now();
      const std::string digest =
          internal::CertVerifyCache::ChainDigest(r.peer_cert_der, r.peer_chain_der);
      // 1. Front proxy.
      if (requestheader_pool_ != nullptr) {
        absl::StatusOr<internal::VerifiedCert> cert =
            VerifyCached(*requestheader_pool_, digest, r, now);
        if (!cert.ok()) {
          errors.push_back(absl::StrCat("requestheader: ", cert.status().message()));
        } else if (!config_.requestheader_allowed_names.empty() &&
                   std::find(config_.requestheader_allowed_names.begin(),
                             config_.requestheader_allowed_names.end(),
                             cert->common_name) == config_.requestheader_allowed_names.end()) {
          errors.push_back(absl::StrCat("x509: subject with cn=", cert->common_name,
                                        " is not in the allowed list"));
        } else if (std::optional<UserInfo> user = FromHeaders(r)) {
          AddAuthenticatedGroup(&*user);
          Bump(counters_->front_proxy);
          VLOG(2) << "front-proxy " << cert->common_name << " asserts user " << user->name;
          return *user;
        }
        // A verified front proxy without a username header: "not mine", fall through.
      }
      // 2. Client certificate.
      if (client_pool_ != nullptr) {
        absl::StatusOr<internal::VerifiedCert> cert = VerifyCached(*client_pool_, digest, r, now);
        if (!cert.ok()) {
          errors.push_back(absl::StrCat("client-ca: ", cert.status().message()));
        } else if (cert->common_name.empty()) {
          errors.push_back("client-ca: certificate has no CN");
        } else {
          UserInfo user;
          user.name = cert->common_name;
          user.groups = cert->organizations;
          AddAuthenticatedGroup(&user);
          Bump(counters_->client_cert);
          return user;
        }
      }
    }
    // 3. Bearer token.
    std::string token = BearerToken(r);
    if (!token.empty()) {
      absl::StatusOr<TokenResult> result = ReviewToken(token);
      if (!result.ok()) {
        Bump(counters_->authn_unavailable);
        LOG_EVERY_N(WARNING, 100) << "TokenReview failed, denying (fail closed): "
                                  << result.status();
        return absl::UnavailableError(
            absl::StrCat("Unauthorized: token review unavailable: ", result.status().message()));
      }
      if (result->authenticated) {
        UserInfo user = result->user;
        AddAuthenticatedGroup(&user);
        Bump(counters_->token);
        return user;
      }
      errors.push_back(absl::StrCat("token: ", result->error.empty() ? "rejected" : result->error));
    }
    if (errors.empty()) {
      VLOG(1) << r.method << " " << r.path << ": no credentials";
    } else {
      VLOG(1) << r.method << " " << r.path << ": " << absl::StrJoin(errors, "; ");
    }
    Bump(counters_->unauthenticated);
    return absl::UnauthenticatedError("Unauthorized");
  }

 private:
  // pool.Verify(r's chain, now) through the verification cache (key: pool id + digest).
  absl::StatusOr<internal::VerifiedCert> VerifyCached(const internal::CertPool& pool,
                                                      const std::string& digest, const Request& r,
                                                      absl::Time now) {
    if (std::shared_ptr<const internal::CertVerdict> hit =
            cert_cache_.Get(pool.id(), digest, now)) {
      Bump(counters_->cert_cache_hits);
      if (!hit->status.ok()) return hit->status;
      return hit->cert;
    }
    Bump(counters_->cert_verifications);
    absl::StatusOr<internal::VerifiedCert> cert =
        pool.Verify(r.peer_cert_der, r.peer_chain_der, now);
    auto verdict = std::make_shared<internal::CertVerdict>();
    if (cert.ok()) {
      verdict->cert = *cert;
    } else {
      verdict->status = cert.status();
    }
    cert_cache_.Put(pool.id(), digest, std::move(verdict), now);
    return cert;
  }

  static std::string BearerToken(const Request& r) {
    auto range = r.header_values.equal_range("authorization");
    for (auto it = range.first; it != range.second; ++it) {
      absl::string_view v = absl::StripAsciiWhitespace(it->second);
      if (v.size() > 7 && absl::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) {
        return std::string(absl::StripAsciiWhitespace(v.substr(7)));
      }
    }
    if (r.header_values.empty()) {  // a server that filled only `headers`
      auto it = r.headers.find("authorization");
      if (it != r.headers.end()) {
        absl::string_view v = absl::StripAsciiWhitespace(it->second);
        if (v.size() > 7 && absl::EqualsIgnoreCase(v.substr(0, 7), "bearer ")) {
          return std::string(absl::StripAsciiWhitespace(v.substr(7)));
        }
      }
    }
    return "";
  }

  // All values of a header in order; falls back to `headers` when header_values is empty.
  static std::vector<std::string> Values(const Request& r, const std::string& lower_name) {
    std::vector<std::string> out;
    auto range = r.header_values.equal_range(lower_name);
    for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
    if (out.empty() && r.header_values.empty()) {
      auto it = r.headers.find(lower_name);
      if (it != r.headers.end()) out.push_back(it->second);
    }
    return out;
  }

  // user from the first non-empty username header; nullopt when none is set.
  std::optional<UserInfo> FromHeaders(const Request& r) const {
    UserInfo user;
    for (const std::string& h : username_headers_) {
      for (const std::string& v : Values(r, h)) {
        if (!v.empty()) {
          user.name = v;
          break;
        }
      }
      if (!user.name.empty()) break;
    }
    if (user.name.empty()) return std::nullopt;
    for (const std::string& h : uid_headers_) {
      for (const std::string& v : Values(r, h)) {
        if (!v.empty() && user.uid.empty()) user.uid = v;
      }
    }
    for (const std::string& h : group_headers_) {
      for (const std::string& v : Values(r, h)) {
        if (!v.empty()) user.groups.push_back(v);
      }
    }
    std::multimap<std::string, std::string> fallback;
    const std::multimap<std::string, std::string>* all = &r.header_values;
    if (all->empty()) {
      fallback.insert(r.headers.begin(), r.headers.end());
      all = &fallback;
    }
    for (const auto& [name, value] : *all) {
      for (const std::string& prefix : extra_prefixes_) {
        if (prefix.empty() || !absl::StartsWith(name, prefix)) continue;
        std::string raw = name.substr(prefix.size());
        std::string key;
        // Upstream lower-cases the name, then unescapes (so "%41" stays "A"); our header
        // names arrive lower-cased already.
        if (!PathUnescape(absl::AsciiStrToLower(raw), &key)) key = raw;
        if (!key.empty()) user.extra[key].push_back(value);
        break;
      }
    }
    return user;
  }

  absl::StatusOr<TokenResult> ReviewToken(const std::string& token) {
    std::string key =
        Sha256Hex(absl::StrCat(token, "\n", absl::StrJoin(config_.api_audiences, ",")));
    if (std::optional<TokenResult> hit = token_cache_.Get(key)) {
      Bump(counters_->token_cache_hits);
      return *hit;
    }
    if (api_ == nullptr) {
      TokenResult r;
      r.error = "token authentication is not configured (no Kubernetes API credentials)";
      return r;
    }
    Bump(counters_->token_reviews);
    absl::StatusOr<clients::kube::TokenReviewStatus> s =
        api_->ReviewToken(token, config_.api_audiences);
    if (!s.ok()) return s.status();
    TokenResult r;
    r.authenticated = s->authenticated;
    r.error = s->error;
    if (s->authenticated && !config_.api_audiences.empty()) {
      // The review must confirm at least one of our audiences.
      bool match = false;
      for (const auto& a : s->audiences) {
        match = match || std::find(config_.api_audiences.begin(), config_.api_audiences.end(), a) !=
                             config_.api_audiences.end();
      }
      if (!match) {
        r.authenticated = false;
        r.error = "token audiences do not match";
      }
    }
    if (r.authenticated) {
      r.user.name = s->user.username;
      r.user.uid = s->user.uid;
      r.user.groups = s->user.groups;
      r.user.extra = s->user.extra;
    }
    token_cache_.Put(key, r, config_.token_cache_ttl);
    return r;
  }

  const AuthConfig config_;
  const std::vector<std::string> username_headers_, uid_headers_, group_headers_, extra_prefixes_;
  clients::kube::AuthApi* const api_;
  const base::Clock* const clock_;
  std::unique_ptr<internal::CertPool> requestheader_pool_;
  std::unique_ptr<internal::CertPool> client_pool_;
  AuthCounters own_counters_;
  AuthCounters* const counters_;
  internal::TtlCache<TokenResult> token_cache_;
  internal::CertVerifyCache cert_cache_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> MakeAuthenticator(const AuthConfig& config,
                                                                 clients::kube::AuthApi* api,
                                                                 const base::Clock* clock,
                                                                 AuthCounters* counters) {
  auto a = std::make_unique<DelegatingAuthenticator>(config, api, clock, counters);
  if (absl::Status s = a->Init(); !s.ok()) return s;
  return std::unique_ptr<Authenticator>(std::move(a));
}

}  // namespace adapter::auth
