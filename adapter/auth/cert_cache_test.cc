// The client-certificate verification cache: OpenSSL work is done once per chain, CA bundle
// and TTL; expiry (TTL and the certificate's notAfter), CA reloads, failures and distinct
// chains. Verifications are counted by AuthCounters::cert_verifications (one per pool.Verify).
#include "adapter/auth/cert_cache.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapter/auth/auth.h"
#include "adapter/auth/flags.h"
#include "adapter/auth/x509_verifier.h"
#include "base/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_certs.h"

namespace adapter::auth {
namespace {

class CertCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ca_ = *tests::MakeCa("front-proxy-ca");
    client_ca_ = *tests::MakeCa("kubernetes-ca");
    config_.requestheader_ca_pem = proxy_ca_.cert_pem;
    config_.requestheader_allowed_names = {"front-proxy-client"};
    config_.client_ca_pem = client_ca_.cert_pem;
  }

  static std::string Leaf(const tests::TestCert& ca, const std::string& cn,
                          std::vector<std::string> orgs = {},
                          absl::Time not_after = absl::InfinitePast()) {
    tests::LeafSpec spec;
    spec.common_name = cn;
    spec.organizations = std::move(orgs);
    if (not_after != absl::InfinitePast()) {
      spec.not_before = not_after - absl::Hours(2);
      spec.not_after = not_after;
    }
    return tests::MakeLeaf(ca, spec)->cert_der;
  }

  std::unique_ptr<Authenticator> Authn() {
    auto a = MakeAuthenticator(config_, nullptr, &clock_, &counters_);
    EXPECT_TRUE(a.ok()) << a.status();
    return std::move(*a);
  }

  static Request Proxy(const std::string& der, const std::string& user) {
    Request r;
    r.peer_cert_der = der;
    r.headers.emplace("x-remote-user", user);
    r.header_values.emplace("x-remote-user", user);
    return r;
  }

  // Whole seconds, so certificate times (whole seconds) line up with the clock.
  base::FakeClock clock_{absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  tests::TestCert proxy_ca_, client_ca_;
  AuthConfig config_;
  AuthCounters counters_;
};

TEST_F(CertCacheTest, VerificationIsReusedAndHeadersAreStillReadPerRequest) {
  auto authn = Authn();
  std::string proxy = Leaf(proxy_ca_, "front-proxy-client");
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<UserInfo> u = authn->Authenticate(Proxy(proxy, absl::StrCat("user-", i)));
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_EQ(u->name, absl::StrCat("user-", i));
  }
  EXPECT_EQ(counters_.cert_verifications, 1);
  EXPECT_EQ(counters_.cert_cache_hits, 4);
  // Without a username header the verified proxy certificate is "not mine"; still cached.
  EXPECT_FALSE(authn->Authenticate(Proxy(proxy, "")).ok());
  EXPECT_EQ(counters_.cert_verifications, 2);  // + the client-CA check, which fails
  EXPECT_EQ(counters_.front_proxy, 5);

  // A client-CA certificate: checked against the front-proxy CA (fails) and the client CA.
  Request client;
  client.peer_cert_der = Leaf(client_ca_, "jane", {"devs"});
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<UserInfo> u = authn->Authenticate(client);
    ASSERT_TRUE(u.ok()) << u.status();
    EXPECT_EQ(u->name, "jane");
    EXPECT_EQ(u->groups, (std::vector<std::string>{"devs", "system:authenticated"}));
  }
  EXPECT_EQ(counters_.cert_verifications, 4);
}

TEST_F(CertCacheTest, ReverifiesAfterTenSeconds) {
  auto authn = Authn();
  Request client;
  client.peer_cert_der = Leaf(client_ca_, "jane");
  ASSERT_TRUE(authn->Authenticate(client).ok());
  EXPECT_EQ(counters_.cert_verifications, 2);
  clock_.Advance(absl::Seconds(9));
  ASSERT_TRUE(authn->Authenticate(client).ok());
  EXPECT_EQ(counters_.cert_verifications, 2);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(authn->Authenticate(client).ok());
  EXPECT_EQ(counters_.cert_verifications, 4);
  ASSERT_TRUE(authn->Authenticate(client).ok());
  EXPECT_EQ(counters_.cert_verifications, 4);
}

TEST_F(CertCacheTest, ZeroTtlVerifiesEveryRequest) {
  config_.cert_cache_ttl = absl::ZeroDuration();
  auto authn = Authn();
  std::string proxy = Leaf(proxy_ca_, "front-proxy-client");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(authn->Authenticate(Proxy(proxy, "bob")).ok());
  EXPECT_EQ(counters_.cert_verifications, 3);
  EXPECT_EQ(counters_.cert_cache_hits, 0);
}

TEST_F(CertCacheTest, ExpiredCertFailsRightAfterNotAfterEvenWithinTheTtl) {
  auto authn = Authn();
  const absl::Time not_after = clock_.Now() + absl::Seconds(5);
  Request client;
  client.peer_cert_der = Leaf(client_ca_, "jane", {}, not_after);
  std::string proxy = Leaf(proxy_ca_, "front-proxy-client", {}, not_after);
  ASSERT_TRUE(authn->Authenticate(client).ok());
  ASSERT_TRUE(authn->Authenticate(Proxy(proxy, "bob")).ok());
  clock_.Set(not_after - absl::Milliseconds(1));
  ASSERT_TRUE(authn->Authenticate(client).ok());
  ASSERT_TRUE(authn->Authenticate(Proxy(proxy, "bob")).ok());
  EXPECT_EQ(counters_.cert_verifications, 3);  // all from the cache
  clock_.Set(not_after);                       // 5 s after caching, well within the 10 s TTL
  EXPECT_EQ(authn->Authenticate(client).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(authn->Authenticate(Proxy(proxy, "bob")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_GT(counters_.cert_verifications, 3);
  // The same answer as without a cache.
  config_.cert_cache_ttl = absl::ZeroDuration();
  EXPECT_FALSE(Authn()->Authenticate(client).ok());
}

TEST_F(CertCacheTest, ExpiringIntermediateBoundsTheEntry) {
  tests::LeafSpec ispec;
  ispec.common_name = "intermediate";
  ispec.is_ca = true;
  ispec.client_auth = false;
  ispec.not_before = clock_.Now() - absl::Hours(1);
  ispec.not_after = clock_.Now() + absl::Seconds(3);
  tests::TestCert inter = *tests::MakeLeaf(client_ca_, ispec);
  auto authn = Authn();
  Request r;
  r.peer_cert_der = Leaf(inter, "deep");  // valid for a year
  r.peer_chain_der = {inter.cert_der};
  ASSERT_TRUE(authn->Authenticate(r).ok());
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(authn->Authenticate(r).ok());
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(authn->Authenticate(r).ok());
}

TEST_F(CertCacheTest, FailedVerificationIsCachedAndStillFails) {
  auto authn = Authn();
  tests::TestCert evil = *tests::MakeCa("evil-ca");
  Request r = Proxy(Leaf(evil, "front-proxy-client"), "admin");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(authn->Authenticate(r).status().code(), absl::StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(counters_.cert_verifications, 2);  // both CAs, once
  EXPECT_EQ(counters_.cert_cache_hits, 4);
  EXPECT_EQ(counters_.unauthenticated, 3);
  r.peer_cert_der = "not a certificate";
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(authn->Authenticate(r).ok());
  EXPECT_EQ(counters_.cert_verifications, 4);
  clock_.Advance(absl::Seconds(10));
  EXPECT_FALSE(authn->Authenticate(r).ok());
  EXPECT_EQ(counters_.cert_verifications, 6);
}

TEST_F(CertCacheTest, DifferentChainsDoNotCollide) {
  auto authn = Authn();
  Request jane, bob;
  jane.peer_cert_der = Leaf(client_ca_, "jane", {"devs"});
  bob.peer_cert_der = Leaf(client_ca_, "bob", {"ops"});
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(authn->Authenticate(jane)->name, "jane");
    EXPECT_EQ(authn->Authenticate(bob)->name, "bob");
    EXPECT_EQ(authn->Authenticate(bob)->groups[0], "ops");
  }
  EXPECT_EQ(counters_.cert_verifications, 4);
  // The same leaf with and without the intermediate that completes its chain.
  tests::LeafSpec ispec;
  ispec.common_name = "intermediate";
  ispec.is_ca = true;
  ispec.client_auth = false;
  tests::TestCert inter = *tests::MakeLeaf(client_ca_, ispec);
  Request alone;
  alone.peer_cert_der = Leaf(inter, "deep");
  Request chained = alone;
  chained.peer_chain_der = {inter.cert_der};
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(authn->Authenticate(alone).ok());
    EXPECT_EQ(authn->Authenticate(chained)->name, "deep");
  }
  // A front-proxy certificate is not a client certificate for the same cache key.
  config_.requestheader_allowed_names.clear();
  auto any_proxy = Authn();
  Request proxy_only;
  proxy_only.peer_cert_der = Leaf(proxy_ca_, "mallory");
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(any_proxy->Authenticate(proxy_only).ok());
}

TEST_F(CertCacheTest, CaReloadInvalidates) {
  std::string dir = tests::MakeTestDir("certcache");
  std::string ca_file = dir + "/front-proxy-ca.pem";
  ASSERT_TRUE(tests::WriteTestFile(ca_file, proxy_ca_.cert_pem).ok());
  AuthFlags flags;
  flags.requestheader_client_ca_file = ca_file;
  flags.requestheader_allowed_names = {"front-proxy-client"};
  flags.skip_lookup = true;
  flags.in_cluster.host = "";
  flags.in_cluster.token_file = dir + "/none";
  flags.in_cluster.ca_file = dir + "/none";
  auto stack = MakeAuthStack(flags, &clock_);
  ASSERT_TRUE(stack.ok()) << stack.status();
  Authenticator* authn = (*stack)->authenticator.get();
  Request old_proxy = Proxy(Leaf(proxy_ca_, "front-proxy-client"), "bob");
  ASSERT_TRUE(authn->Authenticate(old_proxy).ok());
  ASSERT_TRUE(authn->Authenticate(old_proxy).ok());
  EXPECT_EQ((*stack)->counters.cert_verifications, 1);

  // Rotation: the bundle now holds only a new CA; within the TTL, the old cert must fail.
  tests::TestCert rotated = *tests::MakeCa("front-proxy-ca-2");
  ASSERT_TRUE(tests::WriteTestFile(ca_file, rotated.cert_pem).ok());
  ASSERT_TRUE((*stack)->Refresh().ok());
  EXPECT_FALSE(authn->Authenticate(old_proxy).ok());
  EXPECT_EQ((*stack)->counters.cert_verifications, 2);
  EXPECT_TRUE(authn->Authenticate(Proxy(Leaf(rotated, "front-proxy-client"), "bob")).ok());
  EXPECT_EQ((*stack)->counters.cert_verifications, 3);
}

TEST(CertVerifyCacheTest, KeyedByPoolAndChainBoundedAndKeepsTheFailureMessage) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  internal::CertVerifyCache cache(absl::Seconds(10), 1000);
  auto pool_a = *internal::CertPool::FromPem(tests::MakeCa("a")->cert_pem);
  auto pool_a_reloaded = *internal::CertPool::FromPem(tests::MakeCa("a")->cert_pem);
  EXPECT_NE(pool_a->id(), pool_a_reloaded->id());

  std::string d1 = internal::CertVerifyCache::ChainDigest("leaf", {"x"});
  EXPECT_EQ(d1.size(), 32u);
  EXPECT_NE(d1, internal::CertVerifyCache::ChainDigest("leafx", {}));
  EXPECT_NE(d1, internal::CertVerifyCache::ChainDigest("leaf", {"x", ""}));
  EXPECT_EQ(d1, internal::CertVerifyCache::ChainDigest("leaf", {"x"}));

  auto failed = std::make_shared<internal::CertVerdict>();
  failed->status = absl::UnauthenticatedError("x509: unable to get local issuer certificate");
  cache.Put(pool_a->id(), d1, failed, now);
  auto hit = cache.Get(pool_a->id(), d1, now + absl::Seconds(9));
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->status, failed->status);
  EXPECT_EQ(cache.Get(pool_a_reloaded->id(), d1, now), nullptr);
  EXPECT_EQ(cache.Get(pool_a->id(), d1, now + absl::Seconds(10)), nullptr);

  auto ok = std::make_shared<internal::CertVerdict>();
  ok->cert.common_name = "jane";
  ok->cert.not_before = now - absl::Hours(1);
  ok->cert.not_after = now + absl::Seconds(3);
  for (int i = 0; i < 2500; ++i) {
    cache.Put(1, internal::CertVerifyCache::ChainDigest(absl::StrCat("leaf", i), {}), ok, now);
    ASSERT_LE(cache.size(), 1000u);
  }
  std::string last = internal::CertVerifyCache::ChainDigest("leaf2499", {});
  EXPECT_EQ(cache.Get(1, last, now + absl::Seconds(2))->cert.common_name, "jane");
  EXPECT_EQ(cache.Get(1, last, now + absl::Seconds(3)), nullptr);  // notAfter, before the TTL
  cache.Put(1, last, ok, now);
  EXPECT_EQ(cache.Get(1, last, now - absl::Hours(2)), nullptr);  // before notBefore
}

}  // namespace
}  // namespace adapter::auth
