// ClusterConfig: where the Kubernetes API is and how to talk to it, from the Pod's service
// account (in cluster) or from a kubeconfig file (out of cluster).
//
//   absl::StatusOr<clients::kube::ClusterConfig> c = clients::kube::InClusterConfig();
//   if (!c.ok()) c = clients::kube::LoadKubeconfig("/home/me/.kube/config", /*context=*/"");
//   std::unique_ptr<clients::http::HttpClient> http = clients::kube::MakeHttpClient(*c);
//
// Kubeconfig files are YAML (kubectl writes block style; a JSON kubeconfig is valid YAML too);
// they are read with libyaml. Supported: clusters (server, certificate-authority[-data],
// insecure-skip-tls-verify), users (client-certificate[-data], client-key[-data], token,
// tokenFile), contexts and current-context. Exec/auth-provider plugins are not supported and
// give kUnimplemented. Plain functions, thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "clients/http/http_client.h"
#include "clients/http/streaming_http_client.h"
#include "clients/http/tls_options.h"

namespace clients::kube {

struct ClusterConfig {
  std::string server;  // "https://10.96.0.1:443", no trailing slash
  clients::http::TlsOptions tls;
  // Static bearer token, or a file re-read on every request (projected service-account
  // tokens rotate); token_file wins when both are set.
  std::string bearer_token;
  std::string token_file;
};

// Where the service-account files and the API address come from; defaults are the real ones.
struct InClusterEnv {
  std::string host;  // empty: $KUBERNETES_SERVICE_HOST
  std::string port;  // empty: $KUBERNETES_SERVICE_PORT
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
};

// kNotFound when not running in a Pod (no KUBERNETES_SERVICE_HOST/PORT); kFailedPrecondition
// when the token or CA file cannot be read.
absl::StatusOr<ClusterConfig> InClusterConfig(const InClusterEnv& env = {});

// Reads `path` and resolves `context` (empty = current-context). Relative file names in the
// kubeconfig are relative to its directory. kNotFound for a missing file or named entry,
// kInvalidArgument for a malformed file, kUnimplemented for exec/auth-provider users.
absl::StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context);

// The same, from text; `base_dir` resolves relative file names.
absl::StatusOr<ClusterConfig> ParseKubeconfig(const std::string& text, const std::string& base_dir,
                                              const std::string& context);

// The bearer token to send now ("" for none): re-reads token_file when set.
absl::StatusOr<std::string> CurrentBearerToken(const ClusterConfig& config);

// A request to the API server: `method` on server + `path` (path and query), JSON Accept (and
// Content-Type when `body` is set), the current bearer token, `timeout`. kUnavailable when the
// token file cannot be read (the API cannot be asked without it).
absl::StatusOr<clients::http::HttpRequest> NewApiRequest(const ClusterConfig& config,
                                                         const std::string& method,
                                                         const std::string& path,
                                                         const std::string& body,
                                                         absl::Duration timeout);

// Sends one request built by NewApiRequest (with `content_type` replacing the JSON one when
// set) and returns the answer whatever its HTTP status. A timeout becomes kUnavailable
// ("kubernetes API <path>: ..."); other transport errors come back as the HttpClient gave them.
absl::StatusOr<clients::http::HttpResponse> DoApiRequest(clients::http::HttpClient* http,
                                                         const ClusterConfig& config,
                                                         const std::string& method,
                                                         const std::string& path,
                                                         const std::string& body,
                                                         absl::Duration timeout,
                                                         const std::string& content_type = "");

// The error for an API answer that is not the expected success: "kubernetes API <method>
// <path> answered HTTP <status>: <body start>" as kUnauthenticated (401), kPermissionDenied
// (403), kNotFound (404), kUnavailable (429, 5xx) or kInternal (anything else). Callers that
// give 409/422 a meaning of their own check those first.
absl::Status ApiError(const std::string& method, const std::string& path, int http_status,
                      const std::string& body);

// A libcurl HttpClient with the cluster's TLS settings (the bearer token is added per request
// by the API clients, so rotated tokens are picked up).
std::unique_ptr<clients::http::HttpClient> MakeHttpClient(const ClusterConfig& config);

// The same, able to stream response bodies (watches; see informer.h).
std::unique_ptr<clients::http::StreamingHttpClient> MakeStreamingHttpClient(
    const ClusterConfig& config);

}  // namespace clients::kube
