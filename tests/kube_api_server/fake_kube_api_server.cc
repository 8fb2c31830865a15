#include "tests/kube_api_server/fake_kube_api_server.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/http/curl_http_client.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/testing/test_certs.h"

namespace tests {

std::string RunfilePath(const std::string& workspace_relative) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* ws = getenv("TEST_WORKSPACE");
  if (srcdir == nullptr) return workspace_relative;
  return absl::StrCat(srcdir, "/", ws != nullptr ? ws : "smart_autoscaler", "/",
                      workspace_relative);
}

std::string FixturesPath() { return RunfilePath("tests/kube_api_server/fixtures/cluster.json"); }

absl::StatusOr<std::unique_ptr<FakeKubeApiServer>> FakeKubeApiServer::Start(
    const FakeKubeApiServerOptions& options) {
  std::string dir = MakeTestDir("fakekube");
  if (dir.empty()) return absl::InternalError("mkdtemp failed");
  std::string port_file = dir + "/port";
  std::string script = RunfilePath("tests/kube_api_server/kube_api_server.py");
  std::vector<std::string> args = {"/usr/bin/python3", script, "--port-file", port_file};
  if (!options.tls_cert_file.empty()) {
    args.insert(args.end(),
                {"--tls-cert", options.tls_cert_file, "--tls-key", options.tls_key_file});
    if (!options.client_ca_file.empty()) {
      args.insert(args.end(), {"--client-ca", options.client_ca_file});
    }
  }
  if (!options.fixtures_file.empty()) {
    args.insert(args.end(), {"--fixtures", options.fixtures_file});
  }
  std::unique_ptr<FakeKubeApiServer> server(new FakeKubeApiServer());
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  server->pid_ = pid;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    std::ifstream f(port_file);
    std::string text;
    if (f && std::getline(f, text) && absl::SimpleAtoi(text, &server->port_) && server->port_ > 0) {
      break;
    }
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      server->pid_ = -1;
      return absl::InternalError(absl::StrCat("kube_api_server.py exited early, status ", st));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (server->port_ <= 0) return absl::DeadlineExceededError("kube_api_server.py did not start");
  bool tls = !options.tls_cert_file.empty();
  server->url_ = absl::StrCat(tls ? "https" : "http", "://127.0.0.1:", server->port_);
  clients::http::CurlOptions curl;
  curl.tls.ca_file = options.ca_file;
  curl.tls.insecure_skip_verify = tls && options.ca_file.empty();
  server->http_ = clients::http::MakeCurlHttpClient(curl);
  return server;
}

FakeKubeApiServer::~FakeKubeApiServer() { Stop(); }

void FakeKubeApiServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  pid_ = -1;
}

absl::StatusOr<clients::http::HttpResponse> FakeKubeApiServer::Control(const std::string& method,
                                                                       const std::string& path,
                                                                       const std::string& body) {
  clients::http::HttpRequest req;
  req.method = method;
  req.url = url_ + path;
  req.body = body;
  req.headers.push_back({"Content-Type", "application/json"});
  absl::StatusOr<clients::http::HttpResponse> r = http_->Do(req);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(absl::StrCat(path, " answered ", r->status, ": ", r->body));
  }
  return r;
}

absl::Status FakeKubeApiServer::Configure(const std::string& json) {
  return Control("POST", "/_fake/config", json).status();
}

absl::Status FakeKubeApiServer::Reset() { return Control("POST", "/_fake/reset", "").status(); }

absl::Status FakeKubeApiServer::ClearRequests() {
  return Control("DELETE", "/_fake/requests", "").status();
}

absl::StatusOr<std::vector<RecordedRequest>> FakeKubeApiServer::Requests() {
  absl::StatusOr<clients::http::HttpResponse> r = Control("GET", "/_fake/requests", "");
  if (!r.ok()) return r.status();
  rapidjson::Document doc;
  doc.Parse(r->body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("requests") ||
      !doc["requests"].IsArray()) {
    return absl::InternalError("bad /_fake/requests body");
  }
  std::vector<RecordedRequest> out;
  for (const auto& e : doc["requests"].GetArray()) {
    RecordedRequest rec;
    auto str = [&](const char* k) -> std::string {
      return e.HasMember(k) && e[k].IsString() ? e[k].GetString() : "";
    };
    rec.method = str("method");
    rec.path = str("path");
    rec.query = str("query");
    rec.client_cn = str("client_cn");
    if (e.HasMember("headers") && e["headers"].IsObject() &&
        e["headers"].HasMember("authorization") && e["headers"]["authorization"].IsString()) {
      rec.authorization = e["headers"]["authorization"].GetString();
    }
    if (e.HasMember("body") && !e["body"].IsNull()) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      e["body"].Accept(w);
      rec.body = buf.GetString();
    }
    out.push_back(std::move(rec));
  }
  return out;
}

absl::StatusOr<int> FakeKubeApiServer::CountRequests(const std::string& path) {
  absl::StatusOr<std::vector<RecordedRequest>> all = Requests();
  if (!all.ok()) return all.status();
  int n = 0;
  for (const auto& r : *all) n += r.path == path ? 1 : 0;
  return n;
}

}  // namespace tests

namespace tests {
namespace {

absl::StatusOr<std::string> FieldOf(const absl::StatusOr<clients::http::HttpResponse>& r,
                                    const char* field) {
  if (!r.ok()) return r.status();
  rapidjson::Document doc;
  doc.Parse(r->body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(field)) {
    return absl::InternalError(absl::StrCat("bad control answer: ", r->body));
  }
  if (doc[field].IsString()) return std::string(doc[field].GetString());
  if (doc[field].IsInt()) return absl::StrCat(doc[field].GetInt());
  return absl::InternalError(absl::StrCat("bad control answer: ", r->body));
}

}  // namespace

absl::StatusOr<std::string> FakeKubeApiServer::ApplyObjects(const std::string& ops_json) {
  return FieldOf(Control("POST", "/_fake/objects", ops_json), "resourceVersion");
}

absl::StatusOr<std::string> FakeKubeApiServer::AddObject(const std::string& object_json) {
  return ApplyObjects(absl::StrCat(R"({"ops": [{"op": "add", "object": )", object_json, "}]}"));
}

absl::StatusOr<std::string> FakeKubeApiServer::ModifyObject(const std::string& object_json) {
  return ApplyObjects(absl::StrCat(R"({"ops": [{"op": "modify", "object": )", object_json, "}]}"));
}

absl::StatusOr<std::string> FakeKubeApiServer::DeleteObject(const std::string& object_json) {
  return ApplyObjects(absl::StrCat(R"({"ops": [{"op": "delete", "object": )", object_json, "}]}"));
}

absl::Status FakeKubeApiServer::Compact() { return Control("POST", "/_fake/compact", "").status(); }

absl::Status FakeKubeApiServer::Bookmark() {
  return Control("POST", "/_fake/bookmark", "").status();
}

absl::StatusOr<std::string> FakeKubeApiServer::ResourceVersion() {
  return FieldOf(Control("GET", "/_fake/state", ""), "resourceVersion");
}

absl::StatusOr<int> FakeKubeApiServer::OpenWatches() {
  absl::StatusOr<std::string> n = FieldOf(Control("GET", "/_fake/state", ""), "watches");
  if (!n.ok()) return n.status();
  int v = 0;
  if (!absl::SimpleAtoi(*n, &v)) return absl::InternalError("bad watch count");
  return v;
}

}  // namespace tests
