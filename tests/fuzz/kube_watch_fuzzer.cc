// libFuzzer target: a Pod informer reading a watch stream. The input (after two bytes that
// choose how the body is cut into pieces) is the body of the first watch response, delivered
// through the informer's real stream path (line splitting across arbitrary chunk boundaries,
// event decoding, cache updates, BOOKMARK/ERROR handling). Nothing may crash, leak or hang,
// and the cache may only hold objects with a name.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "base/clock.h"
#include "clients/http/streaming_http_client.h"
#include "clients/kube/informer.h"

namespace {

namespace http = clients::http;
namespace kube = clients::kube;

// Answers the LIST with an empty PodList, the first watch with the fuzz body (in pieces of
// `piece` bytes), and every later watch by waiting until the informer cancels it.
class FuzzApiServer : public http::StreamingHttpClient {
 public:
  FuzzApiServer(std::string body, size_t piece) : body_(std::move(body)), piece_(piece) {}

  absl::StatusOr<http::HttpResponse> Do(const http::HttpRequest&) override {
    http::HttpResponse r;
    r.status = 200;
    r.body = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]})";
    return r;
  }

  absl::StatusOr<http::HttpResponse> DoStream(const http::HttpRequest&,
                                              const DataCallback& on_data,
                                              const std::atomic<bool>* cancel) override {
    http::HttpResponse r;
    r.status = 200;
    if (!served_.exchange(true)) {
      for (size_t at = 0; at < body_.size(); at += piece_) {
        if (!on_data(absl::string_view(body_).substr(at, piece_))) break;
      }
      first_done_.Notify();
      return r;
    }
    while (!cancel->load()) std::this_thread::yield();
    return absl::CancelledError("stopped");
  }

  absl::Notification& first_done() { return first_done_; }

 private:
  const std::string body_;
  const size_t piece_;
  std::atomic<bool> served_{false};
  absl::Notification first_done_;
};

class NoSleep : public base::Sleeper {
 public:
  void SleepFor(absl::Duration) override { std::this_thread::yield(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t piece = 1 + (static_cast<size_t>(data[0]) << 8 | data[1]) % 512;
  FuzzApiServer server(std::string(reinterpret_cast<const char*>(data + 2), size - 2), piece);
  kube::ClusterConfig cluster;
  cluster.server = "https://127.0.0.1:1";
  NoSleep sleeper;
  base::FakeClock clock(absl::FromUnixSeconds(1700000000));
  {
    kube::Informer<kube::Pod> pods(&server, cluster, {}, &clock, &sleeper);
    pods.Start();
    server.first_done().WaitForNotification();
    pods.Stop();
    for (const kube::Pod& p : pods.List()) {
      if (p.metadata.name.empty()) __builtin_trap();
    }
  }
  return 0;
}
