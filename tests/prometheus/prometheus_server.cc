#include "tests/prometheus/prometheus_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace testing_util {
namespace {

bool Installed(const char* path) { return access(path, X_OK) == 0; }

}  // namespace

int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

int HttpGetStatus(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  const std::string req =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return -1;
  }
  char buf[64] = {0};
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  int status = -1;
  if (n > 12) std::sscanf(buf, "HTTP/%*s %d", &status);
  return status;
}

absl::StatusOr<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::string& openmetrics, const std::string& workdir) {
  if (!Installed("/usr/bin/prometheus") || !Installed("/usr/bin/promtool")) {
    return absl::FailedPreconditionError(
        "prometheus/promtool not installed (apt-get install prometheus; scripts/install-deps.sh)");
  }
  std::error_code ec;
  std::filesystem::create_directories(workdir + "/data", ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", workdir, ": ", ec.message()));
  {
    std::ofstream om(workdir + "/input.om");
    om << openmetrics;
    std::ofstream cfg(workdir + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 15s\n";
  }
  const std::string cmd =
      absl::StrCat("/usr/bin/promtool tsdb create-blocks-from openmetrics ", workdir,
                   "/input.om ", workdir, "/data > ", workdir, "/promtool.log 2>&1");
  if (std::system(cmd.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("promtool failed; see ", workdir, "/promtool.log"));
  }
  std::unique_ptr<PrometheusServer> server(new PrometheusServer());
  server->workdir_ = workdir;
  server->port_ = PickFreePort();
  if (absl::Status st = server->Launch(); !st.ok()) return st;
  return server;
}

absl::Status PrometheusServer::Launch() {
  const std::string listen = absl::StrCat("--web.listen-address=127.0.0.1:", port_);
  const std::string config = absl::StrCat("--config.file=", workdir_, "/prometheus.yml");
  const std::string storage = absl::StrCat("--storage.tsdb.path=", workdir_, "/data");
  const std::string log = workdir_ + "/prometheus.log";
  pid_ = fork();
  if (pid_ < 0) return absl::InternalError("fork failed");
  if (pid_ == 0) {
    std::freopen(log.c_str(), "a", stdout);
    std::freopen(log.c_str(), "a", stderr);
    execl("/usr/bin/prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(),
          "--storage.tsdb.retention.time=3650d", "--web.enable-lifecycle", (char*)nullptr);
    _exit(127);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (HttpGetStatus(port_, "/-/ready") == 200) return absl::OkStatus();
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("prometheus exited at start; see ", log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Kill();
  return absl::DeadlineExceededError(absl::StrCat("prometheus not ready in 60 s; see ", log));
}

std::string PrometheusServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

void PrometheusServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::Status PrometheusServer::Restart() {
  Kill();
  return Launch();
}

void PrometheusServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
}

PrometheusServer::~PrometheusServer() { Stop(); }

}  // namespace testing_util
