#include "clients/kube/cluster_config.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/test_certs.h"

namespace clients::kube {
namespace {

TEST(InClusterConfigTest, ReadsServiceAccountFiles) {
  std::string dir = tests::MakeTestDir("sa");
  ASSERT_TRUE(tests::WriteTestFile(dir + "/token", "tok-1\n").ok());
  ASSERT_TRUE(tests::WriteTestFile(dir + "/ca.crt", "CA PEM").ok());
  InClusterEnv env;
  env.host = "10.96.0.1";
  env.port = "443";
  env.token_file = dir + "/token";
  env.ca_file = dir + "/ca.crt";
  absl::StatusOr<ClusterConfig> c = InClusterConfig(env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->tls.ca_pem, "CA PEM");
  EXPECT_EQ(*CurrentBearerToken(*c), "tok-1");
  // Rotated token is picked up.
  ASSERT_TRUE(tests::WriteTestFile(dir + "/token", "tok-2").ok());
  EXPECT_EQ(*CurrentBearerToken(*c), "tok-2");
}

TEST(InClusterConfigTest, Ipv6HostGetsBrackets) {
  std::string dir = tests::MakeTestDir("sa");
  ASSERT_TRUE(tests::WriteTestFile(dir + "/token", "t").ok());
  ASSERT_TRUE(tests::WriteTestFile(dir + "/ca.crt", "c").ok());
  InClusterEnv env{"fd00::1", "443", dir + "/token", dir + "/ca.crt"};
  EXPECT_EQ(InClusterConfig(env)->server, "https://[fd00::1]:443");
}

TEST(InClusterConfigTest, NotFoundOutsideACluster) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  EXPECT_EQ(InClusterConfig().status().code(), absl::StatusCode::kNotFound);
}

TEST(InClusterConfigTest, MissingTokenIsFailedPrecondition) {
  InClusterEnv env{"10.0.0.1", "443", "/nonexistent/token", "/nonexistent/ca"};
  EXPECT_EQ(InClusterConfig(env).status().code(), absl::StatusCode::kFailedPrecondition);
}

// As written by `kubectl config set-cluster/set-credentials/set-context/use-context`.
constexpr char kKubectlYaml[] = R"(apiVersion: v1
clusters:
- cluster:
    certificate-authority: pki/ca.crt
    server: https://127.0.0.1:6443/
  name: test
- cluster:
    insecure-skip-tls-verify: true
    server: https://other:443
  name: other
contexts:
- context:
    cluster: test
    user: admin
  name: test
- context:
    cluster: other
    namespace: default
    user: robot
  name: other
current-context: test
kind: Config
preferences: {}
users:
- name: admin
  user:
    client-certificate: pki/admin.crt
    client-key: /abs/admin.key
- name: robot
  user:
    token: "abc.def"
)";

TEST(KubeconfigTest, ParsesKubectlYamlWithRelativePaths) {
  absl::StatusOr<ClusterConfig> c = ParseKubeconfig(kKubectlYaml, "/home/me/.kube", "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->tls.ca_file, "/home/me/.kube/pki/ca.crt");
  EXPECT_EQ(c->tls.client_cert_file, "/home/me/.kube/pki/admin.crt");
  EXPECT_EQ(c->tls.client_key_file, "/abs/admin.key");
  EXPECT_FALSE(c->tls.insecure_skip_verify);
  EXPECT_EQ(c->bearer_token, "");
}

TEST(KubeconfigTest, SelectsNamedContext) {
  absl::StatusOr<ClusterConfig> c = ParseKubeconfig(kKubectlYaml, "/d", "other");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://other:443");
  EXPECT_TRUE(c->tls.insecure_skip_verify);
  EXPECT_EQ(c->bearer_token, "abc.def");
}

TEST(KubeconfigTest, ParsesJsonKubeconfigWithEmbeddedData) {
  std::string json = absl::StrCat(
      R"({"apiVersion":"v1","kind":"Config","current-context":"c",
          "clusters":[{"name":"k","cluster":{"server":"https://k:6443",
             "certificate-authority-data":")",
      absl::Base64Escape("CA"), R"("}}],
          "users":[{"name":"u","user":{"client-certificate-data":")",
      absl::Base64Escape("CERT"), R"(","client-key-data":")", absl::Base64Escape("KEY"),
      R"("}}],
          "contexts":[{"name":"c","context":{"cluster":"k","user":"u"}}]})");
  absl::StatusOr<ClusterConfig> c = ParseKubeconfig(json, "", "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://k:6443");
  EXPECT_EQ(c->tls.ca_pem, "CA");
  EXPECT_EQ(c->tls.client_cert_pem, "CERT");
  EXPECT_EQ(c->tls.client_key_pem, "KEY");
}

TEST(KubeconfigTest, Errors) {
  EXPECT_EQ(ParseKubeconfig("a: [b", "", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKubeconfig(kKubectlYaml, "", "missing").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseKubeconfig("kind: Config\n", "", "").status().code(), absl::StatusCode::kNotFound);
  constexpr char kExec[] = R"(current-context: c
clusters: [{name: k, cluster: {server: "https://k"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    exec: {command: aws}
)";
  EXPECT_EQ(ParseKubeconfig(kExec, "", "").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(LoadKubeconfig("/nonexistent/kubeconfig", "").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(KubeconfigTest, LoadsFromFileRelativeToItsDirectory) {
  std::string dir = tests::MakeTestDir("kc");
  ASSERT_TRUE(tests::WriteTestFile(dir + "/config", kKubectlYaml).ok());
  absl::StatusOr<ClusterConfig> c = LoadKubeconfig(dir + "/config", "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls.ca_file, dir + "/pki/ca.crt");
}

}  // namespace
}  // namespace clients::kube
