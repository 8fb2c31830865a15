// FakeKubeApiServer: starts kube_api_server.py (a test server that STANDS IN FOR
// kube-apiserver; see that file) as a child process on a loopback port, and drives its
// control API.
//
//   auto kube = tests::FakeKubeApiServer::Start({});
//   ASSERT_TRUE(kube.ok());
//   (*kube)->Configure(R"({"tokens": {"t1": {"username": "alice"}}})");
//   ... point the code under test at (*kube)->url() ...
//
// Owned by the test; the destructor stops the process. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/http/http_client.h"

namespace tests {

struct FakeKubeApiServerOptions {
  // Serve HTTPS with this certificate and key (files); empty = plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Request client certificates signed by this CA (file); recorded as client_cn.
  std::string client_ca_file;
  // CA file that verifies tls_cert_file, for the harness's own control calls.
  std::string ca_file;
  // JSON file {"items": [...]} of Kubernetes objects served from the start (and restored by
  // Reset()), e.g. FixturesPath(); empty = no objects.
  std::string fixtures_file;
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string query;          // raw query string, "" if none
  std::string authorization;  // the Authorization header, "" if none
  std::string client_cn;      // CN of the TLS client certificate, "" if none
  std::string body;           // request body re-serialized as compact JSON ("" if none)
};

class FakeKubeApiServer {
 public:
  static absl::StatusOr<std::unique_ptr<FakeKubeApiServer>> Start(
      const FakeKubeApiServerOptions& options);
  ~FakeKubeApiServer();

  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
  const std::string& url() const { return url_; }
  int port() const { return port_; }

  // Merges `json` (an object, see kube_api_server.py) into the server's configuration.
  absl::Status Configure(const std::string& json);
  // Back to defaults; recorded requests dropped.
  absl::Status Reset();
  // Every request since the last reset / clear, oldest first.
  absl::StatusOr<std::vector<RecordedRequest>> Requests();
  // Number of recorded requests whose path is `path`.
  absl::StatusOr<int> CountRequests(const std::string& path);
  absl::Status ClearRequests();

  // Object changes, each producing a watch event; `object_json` is a full object with kind,
  // apiVersion and metadata (namespace defaults to "default"). Return the server's
  // resourceVersion after the change.
  absl::StatusOr<std::string> AddObject(const std::string& object_json);     // or replace
  absl::StatusOr<std::string> ModifyObject(const std::string& object_json);  // same as Add
  absl::StatusOr<std::string> DeleteObject(const std::string& object_json);  // kind+metadata
  // Raw form: {"ops": [{"op": "add"|"modify"|"delete", "object": {...}}], "compact": bool}.
  absl::StatusOr<std::string> ApplyObjects(const std::string& ops_json);
  // Expires every older resourceVersion: open watches end with an ERROR 410 event.
  absl::Status Compact();
  // Open watches that asked for bookmarks get a BOOKMARK at the current resourceVersion.
  absl::Status Bookmark();
  // The server's current resourceVersion and number of open watch streams.
  absl::StatusOr<std::string> ResourceVersion();
  absl::StatusOr<int> OpenWatches();

  // Kills the process (SIGKILL) and waits for it: the port then refuses connections, which is
  // how tests model "API server down". Idempotent.
  void Stop();

 private:
  FakeKubeApiServer() = default;
  absl::StatusOr<clients::http::HttpResponse> Control(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body);

  pid_t pid_ = -1;
  int port_ = 0;
  std::string url_;
  std::unique_ptr<clients::http::HttpClient> http_;
};

// Path of the recorded-shape fixtures (tests/kube_api_server/fixtures/cluster.json); depend on
// this library to have it in runfiles.
std::string FixturesPath();

// Path of a runfile of this workspace, e.g. "tests/kube_api_server/kube_api_server.py".
std::string RunfilePath(const std::string& workspace_relative);

}  // namespace tests
