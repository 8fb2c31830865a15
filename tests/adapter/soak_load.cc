// A paced load generator for the adapter soak (tests/adapter/soak.sh): CONNECTIONS keep-alive
// TLS connections with a client certificate, RATE requests/s in total for SECONDS, each answer
// checked for status 200 and EXPECT in the body. Every REPORT seconds and at the end it prints
// requests, errors, p50/p99/max latency and the adapter's VmRSS (from /proc/PID/status).
//
//   soak_load PORT CERT_PEM KEY_PEM TARGET EXPECT RATE SECONDS CONNECTIONS PID [REPORT=60]
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "tests/adapter/hostile.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const char* path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

long RssKb(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (absl::StartsWith(line, "VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

struct Window {
  std::mutex mu;
  std::vector<int64_t> micros;
  uint64_t errors = 0;
};

void Report(const char* label, Window* w, int pid, uint64_t* total, uint64_t* total_errors) {
  std::vector<int64_t> m;
  uint64_t errors;
  {
    std::lock_guard<std::mutex> lock(w->mu);
    m.swap(w->micros);
    errors = w->errors;
    w->errors = 0;
  }
  std::sort(m.begin(), m.end());
  auto q = [&](double p) { return m.empty() ? 0.0 : m[size_t(p * (m.size() - 1))] / 1000.0; };
  *total += m.size();
  *total_errors += errors;
  std::printf("%s requests=%zu errors=%lu p50=%.2fms p99=%.2fms max=%.2fms rss=%ldKB\n", label,
              m.size(), static_cast<unsigned long>(errors), q(0.5), q(0.99), q(1.0), RssKb(pid));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, rate = 0, seconds = 0, connections = 0, pid = 0, report = 60;
  if (argc < 10 || !absl::SimpleAtoi(argv[1], &port) || !absl::SimpleAtoi(argv[6], &rate) ||
      !absl::SimpleAtoi(argv[7], &seconds) || !absl::SimpleAtoi(argv[8], &connections) ||
      !absl::SimpleAtoi(argv[9], &pid) || (argc > 10 && !absl::SimpleAtoi(argv[10], &report)) ||
      connections < 1 || rate < connections) {
    std::fprintf(stderr,
                 "usage: soak_load PORT CERT KEY TARGET EXPECT RATE SECONDS CONNECTIONS PID "
                 "[REPORT]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const std::string cert = ReadFile(argv[2]), key = ReadFile(argv[3]);
  const std::string target = argv[4], expect = argv[5];
  Window window;
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  const auto interval = std::chrono::nanoseconds(1000000000LL * connections / rate);
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      tests::TlsClient client;
      bool connected = client.Connect(port, "127.0.0.1", cert, key);
      auto next = start + interval * t / connections;
      while (next < end) {
        std::this_thread::sleep_until(next);
        next += interval;  // paced: a slow answer does not lower the offered rate
        const auto sent = Clock::now();
        tests::TlsClient::Response r;
        if (connected) r = client.Get(target);
        const int64_t us =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - sent).count();
        const bool ok = r.status == 200 && absl::StrContains(r.body, expect);
        std::lock_guard<std::mutex> lock(window.mu);
        window.micros.push_back(us);
        if (!ok) ++window.errors;
        if (!ok || r.closed) connected = client.Connect(port, "127.0.0.1", cert, key);
      }
    });
  }
  uint64_t total = 0, total_errors = 0;
  Window all;  // the whole run, for the final percentiles
  const long rss_start = RssKb(pid);
  for (auto next = start + std::chrono::seconds(report); next < end;
       next += std::chrono::seconds(report)) {
    std::this_thread::sleep_until(next);
    std::lock_guard<std::mutex> lock(window.mu);
    std::lock_guard<std::mutex> lock_all(all.mu);
    all.micros.insert(all.micros.end(), window.micros.begin(), window.micros.end());
    all.errors += window.errors;
    window.micros.clear();
    window.errors = 0;
    std::printf("t=%lds requests=%zu errors=%lu rss=%ldKB\n",
                static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                      Clock::now() - start).count()),
                all.micros.size(), static_cast<unsigned long>(all.errors), RssKb(pid));
    std::fflush(stdout);
  }
  for (std::thread& t : threads) t.join();
  {
    std::lock_guard<std::mutex> lock(window.mu);
    std::lock_guard<std::mutex> lock_all(all.mu);
    all.micros.insert(all.micros.end(), window.micros.begin(), window.micros.end());
    all.errors += window.errors;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  Report("total", &all, pid, &total, &total_errors);
  std::printf("achieved=%.0f req/s (offered %d) rss_start=%ldKB rss_growth=%.1f%%\n",
              total / elapsed, rate, rss_start, 100.0 * (RssKb(pid) - rss_start) / rss_start);
  return total_errors == 0 ? 0 : 1;
}
