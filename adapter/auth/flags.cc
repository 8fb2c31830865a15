#include "adapter/auth/flags.h"

#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "clients/http/resilient_http_client.h"
#include "glog/logging.h"

ABSL_FLAG(std::string, requestheader_client_ca_file, "",
          "CA bundle (PEM) that signs the front proxy's (aggregator's) client certificate; "
          "empty = from the extension-apiserver-authentication ConfigMap");
ABSL_FLAG(std::vector<std::string>, requestheader_allowed_names, {},
          "comma list of allowed front-proxy certificate CNs; empty = any cert from that CA");
ABSL_FLAG(std::vector<std::string>, requestheader_username_headers, {"X-Remote-User"},
          "request headers carrying the user name (first non-empty wins)");
ABSL_FLAG(std::vector<std::string>, requestheader_uid_headers, {},
          "request headers carrying the user UID");
ABSL_FLAG(std::vector<std::string>, requestheader_group_headers, {"X-Remote-Group"},
          "request headers carrying groups (every value of every header)");
ABSL_FLAG(std::vector<std::string>, requestheader_extra_headers_prefix, {"X-Remote-Extra-"},
          "request header prefixes carrying extra user attributes");
ABSL_FLAG(std::string, client_ca_file, "",
          "CA bundle (PEM) for client certificates (user = CN, groups = O); empty = from the "
          "extension-apiserver-authentication ConfigMap");
ABSL_FLAG(std::string, authentication_kubeconfig, "",
          "kubeconfig for TokenReview calls; empty = in-cluster service account");
ABSL_FLAG(std::string, authorization_kubeconfig, "",
          "kubeconfig for SubjectAccessReview calls; empty = in-cluster service account");
ABSL_FLAG(std::vector<std::string>, authorization_always_allow_paths,
          std::vector<std::string>({"/healthz", "/readyz", "/livez"}),
          "non-resource paths allowed without authorization (\"/x*\" = prefix)");
ABSL_FLAG(bool, authentication_skip_lookup, false,
          "do not read kube-system/extension-apiserver-authentication");
ABSL_FLAG(bool, authentication_tolerate_lookup_failure, false,
          "start even if kube-system/extension-apiserver-authentication cannot be read");
ABSL_FLAG(absl::Duration, authentication_token_webhook_cache_ttl, absl::Seconds(10),
          "how long TokenReview results are cached");
ABSL_FLAG(absl::Duration, authorization_webhook_cache_authorized_ttl, absl::Seconds(10),
          "how long allowed SubjectAccessReview results are cached");
ABSL_FLAG(absl::Duration, authorization_webhook_cache_unauthorized_ttl, absl::Seconds(10),
          "how long denied SubjectAccessReview results are cached");

namespace adapter::auth {
namespace {

absl::StatusOr<std::string> ReadPemFile(const std::string& flag, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("--", flag, ": cannot read ", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The cluster behind a kubeconfig flag, or in-cluster; nullopt-like kNotFound when neither.
absl::StatusOr<clients::kube::ClusterConfig> ClusterFor(const std::string& flag,
                                                        const std::string& kubeconfig,
                                                        const clients::kube::InClusterEnv& env) {
  if (!kubeconfig.empty()) {
    absl::StatusOr<clients::kube::ClusterConfig> c = clients::kube::LoadKubeconfig(kubeconfig, "");
    if (!c.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", c.status().message()));
    }
    return c;
  }
  return clients::kube::InClusterConfig(env);
}

// The API client with the shared resilience policy tuned for the request path: short
// retries (a request waits on it) and a breaker that fails fast while the API is down.
std::unique_ptr<clients::kube::AuthApi> MakeApi(const clients::kube::ClusterConfig& cluster,
                                                const base::Clock* clock, AuthStack* stack,
                                                const std::string& name) {
  stack->http.push_back(clients::kube::MakeHttpClient(cluster));
  clients::http::ResilienceOptions r;
  r.backoff.max_retries = 2;
  r.backoff.initial_delay = absl::Milliseconds(200);
  r.breaker.open_duration = absl::Seconds(10);
  stack->http.push_back(std::make_unique<clients::http::ResilientHttpClient>(
      stack->http.back().get(), r, clock, &base::RealSleeper(), name));
  return std::make_unique<clients::kube::KubeAuthApiClient>(stack->http.back().get(), cluster);
}

}  // namespace

AuthFlags AuthFlagsFromCommandLine() {
  AuthFlags f;
  f.requestheader_client_ca_file = absl::GetFlag(FLAGS_requestheader_client_ca_file);
  f.requestheader_allowed_names = absl::GetFlag(FLAGS_requestheader_allowed_names);
  f.requestheader_username_headers = absl::GetFlag(FLAGS_requestheader_username_headers);
  f.requestheader_uid_headers = absl::GetFlag(FLAGS_requestheader_uid_headers);
  f.requestheader_group_headers = absl::GetFlag(FLAGS_requestheader_group_headers);
  f.requestheader_extra_headers_prefix = absl::GetFlag(FLAGS_requestheader_extra_headers_prefix);
  f.client_ca_file = absl::GetFlag(FLAGS_client_ca_file);
  f.authentication_kubeconfig = absl::GetFlag(FLAGS_authentication_kubeconfig);
  f.authorization_kubeconfig = absl::GetFlag(FLAGS_authorization_kubeconfig);
  f.always_allow_paths = absl::GetFlag(FLAGS_authorization_always_allow_paths);
  f.skip_lookup = absl::GetFlag(FLAGS_authentication_skip_lookup);
  f.tolerate_lookup_failure = absl::GetFlag(FLAGS_authentication_tolerate_lookup_failure);
  f.token_cache_ttl = absl::GetFlag(FLAGS_authentication_token_webhook_cache_ttl);
  f.authorized_cache_ttl = absl::GetFlag(FLAGS_authorization_webhook_cache_authorized_ttl);
  f.unauthorized_cache_ttl = absl::GetFlag(FLAGS_authorization_webhook_cache_unauthorized_ttl);
  return f;
}

namespace {

// The effective configuration: flag files first, then (unless skipped) what the flags left
// open from the ConfigMap, as upstream does. `lookup_error` receives a ConfigMap read failure
// (the caller decides whether it is fatal); other errors are returned.
absl::StatusOr<AuthConfig> BuildConfig(const AuthFlags& flags, clients::kube::AuthApi* authn_api,
                                       absl::Status* lookup_error) {
  *lookup_error = absl::OkStatus();
  AuthConfig c;
  c.always_allow_paths = flags.always_allow_paths;
  c.token_cache_ttl = flags.token_cache_ttl;
  c.authorized_cache_ttl = flags.authorized_cache_ttl;
  c.unauthorized_cache_ttl = flags.unauthorized_cache_ttl;
  if (!flags.client_ca_file.empty()) {
    absl::StatusOr<std::string> pem = ReadPemFile("client-ca-file", flags.client_ca_file);
    if (!pem.ok()) return pem.status();
    c.client_ca_pem = *pem;
  }
  if (!flags.requestheader_client_ca_file.empty()) {
    absl::StatusOr<std::string> pem =
        ReadPemFile("requestheader-client-ca-file", flags.requestheader_client_ca_file);
    if (!pem.ok()) return pem.status();
    c.requestheader_ca_pem = *pem;
    c.requestheader_allowed_names = flags.requestheader_allowed_names;
    c.requestheader_username_headers = flags.requestheader_username_headers;
    c.requestheader_uid_headers = flags.requestheader_uid_headers;
    c.requestheader_group_headers = flags.requestheader_group_headers;
    c.requestheader_extra_headers_prefix = flags.requestheader_extra_headers_prefix;
  }
  const bool client_from_cm = flags.client_ca_file.empty();
  const bool requestheader_from_cm = flags.requestheader_client_ca_file.empty();
  if ((!client_from_cm && !requestheader_from_cm) || flags.skip_lookup) return c;
  if (authn_api == nullptr) {
    *lookup_error = absl::UnavailableError("no Kubernetes API to read it from");
    return c;
  }
  absl::StatusOr<std::map<std::string, std::string>> data =
      authn_api->GetConfigMapData("kube-system", "extension-apiserver-authentication");
  if (!data.ok()) {
    *lookup_error = data.status();
    return c;
  }
  absl::StatusOr<AuthConfig> from_cm = LoadAuthConfigFromConfigMap(*data);
  if (!from_cm.ok()) return from_cm.status();
  if (client_from_cm) c.client_ca_pem = from_cm->client_ca_pem;
  if (requestheader_from_cm) {
    c.requestheader_ca_pem = from_cm->requestheader_ca_pem;
    c.requestheader_allowed_names = from_cm->requestheader_allowed_names;
    c.requestheader_username_headers = from_cm->requestheader_username_headers;
    c.requestheader_uid_headers = from_cm->requestheader_uid_headers;
    c.requestheader_group_headers = from_cm->requestheader_group_headers;
    c.requestheader_extra_headers_prefix = from_cm->requestheader_extra_headers_prefix;
  }
  return c;
}

bool SameAuthenticatorConfig(const AuthConfig& a, const AuthConfig& b) {
  return a.client_ca_pem == b.client_ca_pem && a.requestheader_ca_pem == b.requestheader_ca_pem &&
         a.requestheader_allowed_names == b.requestheader_allowed_names &&
         a.requestheader_username_headers == b.requestheader_username_headers &&
         a.requestheader_uid_headers == b.requestheader_uid_headers &&
         a.requestheader_group_headers == b.requestheader_group_headers &&
         a.requestheader_extra_headers_prefix == b.requestheader_extra_headers_prefix;
}

std::string LookupMessage(const absl::Status& s) {
  return absl::StrCat(
      "cannot read kube-system/extension-apiserver-authentication: ", s.message(),
      " (use --authentication-skip-lookup with --client-ca-file / "
      "--requestheader-client-ca-file, or --authentication-tolerate-lookup-failure)");
}

}  // namespace

// Forwards to the current authenticator; Refresh() swaps it. Thread-safe.
class AuthStack::Swappable : public Authenticator {
 public:
  explicit Swappable(std::shared_ptr<Authenticator> a) : current_(std::move(a)) {}
  absl::StatusOr<UserInfo> Authenticate(const Request& r) override {
    std::shared_ptr<Authenticator> a;
    {
      absl::ReaderMutexLock lock(&mu_);
      a = current_;
    }
    return a->Authenticate(r);
  }
  void Set(std::shared_ptr<Authenticator> a) {
    absl::MutexLock lock(&mu_);
    current_ = std::move(a);
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<Authenticator> current_ ABSL_GUARDED_BY(mu_);
};

AuthStack::~AuthStack() {
  if (refresh_thread_.joinable()) {
    stop_.Notify();
    refresh_thread_.join();
  }
}

AuthConfig AuthStack::config() const {
  absl::MutexLock lock(&config_mu_);
  return config_;
}

std::vector<std::string> AuthStack::client_ca_pems() const {
  AuthConfig c = config();
  std::vector<std::string> out;
  if (!c.client_ca_pem.empty()) out.push_back(c.client_ca_pem);
  if (!c.requestheader_ca_pem.empty()) out.push_back(c.requestheader_ca_pem);
  return out;
}

absl::Status AuthStack::Refresh() {
  absl::Status lookup;
  absl::StatusOr<AuthConfig> next = BuildConfig(flags_, authn_api.get(), &lookup);
  if (!next.ok()) return next.status();
  if (!lookup.ok()) return absl::UnavailableError(LookupMessage(lookup));
  {
    absl::MutexLock lock(&config_mu_);
    if (SameAuthenticatorConfig(config_, *next)) return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<Authenticator>> authn =
      MakeAuthenticator(*next, authn_api.get(), clock_, &counters);
  if (!authn.ok()) return authn.status();
  swappable_->Set(std::shared_ptr<Authenticator>(std::move(*authn)));
  {
    absl::MutexLock lock(&config_mu_);
    config_ = *next;
  }
  LOG(INFO) << "authentication configuration changed: new CA bundles / request-header settings "
               "in effect";
  return absl::OkStatus();
}

void AuthStack::StartRefresh(absl::Duration interval) {
  if (refresh_thread_.joinable()) return;
  refresh_thread_ = std::thread([this, interval] {
    while (!stop_.WaitForNotificationWithTimeout(interval)) {
      if (absl::Status s = Refresh(); !s.ok()) {
        LOG(WARNING) << "authentication configuration refresh failed, keeping the current one: "
                     << s;
      }
    }
  });
}

absl::StatusOr<std::unique_ptr<AuthStack>> MakeAuthStack(const AuthFlags& flags,
                                                         const base::Clock* clock) {
  std::unique_ptr<AuthStack> stack(new AuthStack());
  stack->flags_ = flags;
  stack->clock_ = clock;

  // The Kubernetes API for TokenReview (and the ConfigMap) and for SubjectAccessReview.
  absl::StatusOr<clients::kube::ClusterConfig> authn_cluster =
      ClusterFor("authentication-kubeconfig", flags.authentication_kubeconfig, flags.in_cluster);
  if (authn_cluster.ok()) {
    stack->authn_api = MakeApi(*authn_cluster, clock, stack.get(), "kube-authn");
  } else if (authn_cluster.status().code() != absl::StatusCode::kNotFound) {
    return authn_cluster.status();
  } else {
    LOG(WARNING) << "no Kubernetes API for authentication (" << authn_cluster.status().message()
                 << "): bearer tokens will be rejected";
  }
  absl::StatusOr<clients::kube::ClusterConfig> authz_cluster =
      ClusterFor("authorization-kubeconfig", flags.authorization_kubeconfig, flags.in_cluster);
  if (authz_cluster.ok()) {
    stack->authz_api = MakeApi(*authz_cluster, clock, stack.get(), "kube-authz");
  } else if (authz_cluster.status().code() != absl::StatusCode::kNotFound) {
    return authz_cluster.status();
  } else {
    LOG(WARNING) << "no Kubernetes API for authorization (" << authz_cluster.status().message()
                 << "): only always-allow paths and system:masters are allowed";
  }

  absl::Status lookup;
  absl::StatusOr<AuthConfig> config = BuildConfig(flags, stack->authn_api.get(), &lookup);
  if (!config.ok()) return config.status();
  if (!lookup.ok()) {
    if (!flags.tolerate_lookup_failure) return absl::UnavailableError(LookupMessage(lookup));
    LOG(WARNING) << LookupMessage(lookup);
  }
  stack->config_ = *config;
  LOG(INFO) << "authentication: client CA " << (config->client_ca_pem.empty() ? "off" : "on")
            << ", request-header (front proxy) CA "
            << (config->requestheader_ca_pem.empty() ? "off" : "on") << ", TokenReview "
            << (stack->authn_api != nullptr ? "on" : "off") << ", SubjectAccessReview "
            << (stack->authz_api != nullptr ? "on" : "off");

  absl::StatusOr<std::unique_ptr<Authenticator>> authn =
      MakeAuthenticator(*config, stack->authn_api.get(), clock, &stack->counters);
  if (!authn.ok()) return authn.status();
  auto swappable =
      std::make_unique<AuthStack::Swappable>(std::shared_ptr<Authenticator>(std::move(*authn)));
  stack->swappable_ = swappable.get();
  stack->authenticator = std::move(swappable);
  absl::StatusOr<std::unique_ptr<Authorizer>> authz =
      MakeAuthorizer(*config, stack->authz_api.get(), clock, &stack->counters);
  if (!authz.ok()) return authz.status();
  stack->authorizer = std::move(*authz);
  return stack;
}

absl::StatusOr<std::unique_ptr<AuthStack>> MakeAuthStackFromFlags(const base::Clock* clock) {
  return MakeAuthStack(AuthFlagsFromCommandLine(), clock);
}

}  // namespace adapter::auth
