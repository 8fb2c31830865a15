// Command-line flags of delegated authentication/authorization (the k8s.io/apiserver names),
// and the one call that turns them into a ready Authenticator + Authorizer.
//
//   // in cli/adapter.cc, after flags are parsed:
//   absl::StatusOr<std::unique_ptr<adapter::auth::AuthStack>> auth =
//       adapter::auth::MakeAuthStackFromFlags(&base::RealClock());
//   if (!auth.ok()) { std::cerr << "adapter: " << auth.status().message() << "\n"; return 1; }
//   (*auth)->StartRefresh();   // re-read the ConfigMap / CA files every minute
//   adapter::Handler handler(&table, (*auth)->authenticator.get(), (*auth)->authorizer.get(), ...);
//
// Flags (defined in flags.cc; cli/main.cc maps --foo-bar to --foo_bar):
//   --requestheader-client-ca-file  front-proxy CA bundle (PEM file)
//   --requestheader-allowed-names   allowed front-proxy CNs (comma list; empty = any)
//   --requestheader-username-headers (X-Remote-User) --requestheader-uid-headers ()
//   --requestheader-group-headers (X-Remote-Group) --requestheader-extra-headers-prefix
//     (X-Remote-Extra-)
//   --client-ca-file                client-certificate CA bundle (PEM file)
//   --authentication-kubeconfig / --authorization-kubeconfig   kubeconfig for TokenReview /
//                                   SubjectAccessReview; empty = in-cluster service account
//   --authorization-always-allow-paths (/healthz,/readyz,/livez)
//   --authentication-skip-lookup    do not read kube-system/extension-apiserver-authentication
//   --authentication-tolerate-lookup-failure   start even when that ConfigMap cannot be read
//   --authentication-token-webhook-cache-ttl, --authorization-webhook-cache-authorized-ttl,
//   --authorization-webhook-cache-unauthorized-ttl   (10s each)
//
// Like upstream: values missing from the flags (client CA; request-header CA with its names
// and headers) are taken from the ConfigMap, read at start through the authentication
// Kubernetes API and, after StartRefresh(), every minute (CA rotation is picked up). With no
// Kubernetes API at all (not in a Pod, no kubeconfig), bearer tokens
// are rejected and everything but always-allow paths and system:masters is forbidden.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "adapter/auth/auth.h"
#include "base/clock.h"
#include "clients/http/http_client.h"
#include "clients/kube/auth_api.h"
#include "clients/kube/cluster_config.h"

namespace adapter::auth {

// The flag values, so tests (and other binaries) can build an AuthStack without Abseil flags.
struct AuthFlags {
  std::string requestheader_client_ca_file;
  std::vector<std::string> requestheader_allowed_names;
  std::vector<std::string> requestheader_username_headers = {"X-Remote-User"};
  std::vector<std::string> requestheader_uid_headers;
  std::vector<std::string> requestheader_group_headers = {"X-Remote-Group"};
  std::vector<std::string> requestheader_extra_headers_prefix = {"X-Remote-Extra-"};
  std::string client_ca_file;
  std::string authentication_kubeconfig;
  std::string authorization_kubeconfig;
  std::vector<std::string> always_allow_paths = {"/healthz", "/readyz", "/livez"};
  bool skip_lookup = false;
  bool tolerate_lookup_failure = false;
  absl::Duration token_cache_ttl = absl::Seconds(10);
  absl::Duration authorized_cache_ttl = absl::Seconds(10);
  absl::Duration unauthorized_cache_ttl = absl::Seconds(10);
  // Where "in cluster" looks (tests point it at temp files); default = the real Pod paths.
  clients::kube::InClusterEnv in_cluster;
};

// The current values of the flags above.
AuthFlags AuthFlagsFromCommandLine();

// Everything behind the authenticator and authorizer; destroy it after the server stops.
// Thread-safe: Refresh() may run (StartRefresh's thread) while requests are authenticated.
class AuthStack {
 public:
  ~AuthStack();

  // The effective configuration (flags merged with the ConfigMap), as of the last refresh.
  AuthConfig config() const;
  // PEM bundles the TLS server should list as acceptable client CAs (both pools).
  std::vector<std::string> client_ca_pems() const;

  // Re-reads the CA files named by flags and the ConfigMap; when the CA bundles or
  // request-header settings changed, later requests use a new authenticator (upstream
  // hot-reloads the same way). On error the current configuration stays: kUnavailable when the
  // ConfigMap cannot be read, kNotFound / kInvalidArgument for bad files or bundles.
  absl::Status Refresh();
  // Calls Refresh() every `interval` on a background thread until destruction (errors are
  // logged). Idempotent.
  void StartRefresh(absl::Duration interval = absl::Seconds(60));

  std::unique_ptr<Authenticator> authenticator;  // never null
  std::unique_ptr<Authorizer> authorizer;        // never null
  AuthCounters counters;                         // of both, across refreshes

  // Internals kept alive for the above (APIs are null when there is no Kubernetes API).
  std::vector<std::unique_ptr<clients::http::HttpClient>> http;
  std::unique_ptr<clients::kube::AuthApi> authn_api;
  std::unique_ptr<clients::kube::AuthApi> authz_api;

  class Swappable;

 private:
  friend absl::StatusOr<std::unique_ptr<AuthStack>> MakeAuthStack(const AuthFlags&,
                                                                  const base::Clock*);
  AuthStack() = default;

  AuthFlags flags_;
  const base::Clock* clock_ = nullptr;
  Swappable* swappable_ = nullptr;  // owned by `authenticator`
  mutable absl::Mutex config_mu_;
  AuthConfig config_ ABSL_GUARDED_BY(config_mu_);
  absl::Notification stop_;
  std::thread refresh_thread_;
};

// Builds the stack. Errors (one line each, for start-up): kNotFound / kInvalidArgument for an
// unreadable or malformed CA file or kubeconfig; kUnavailable when the ConfigMap lookup fails
// and failures are not tolerated. `clock` must outlive the stack.
absl::StatusOr<std::unique_ptr<AuthStack>> MakeAuthStack(const AuthFlags& flags,
                                                         const base::Clock* clock);

// MakeAuthStack(AuthFlagsFromCommandLine(), clock).
absl::StatusOr<std::unique_ptr<AuthStack>> MakeAuthStackFromFlags(const base::Clock* clock);

}  // namespace adapter::auth
