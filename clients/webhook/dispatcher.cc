#include "clients/webhook/dispatcher.h"

#include <utility>

#include "glog/logging.h"

namespace clients::webhook {

struct Dispatcher::Lane {
  ChannelConfig config;
  std::unique_ptr<http::ResilientHttpClient> client;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<http::HttpRequest> queue;  // guarded by mu
  bool busy = false;                    // a request in flight; guarded by mu
  bool stop = false;                    // guarded by mu
  ChannelStats stats;                   // guarded by mu
  std::thread thread;
};

Dispatcher::Dispatcher(std::vector<ChannelConfig> channels, http::HttpClient* transport,
                       const base::Clock* clock, base::Sleeper* sleeper,
                       DispatcherOptions options)
    : options_(std::move(options)) {
  for (ChannelConfig& c : channels) {
    auto lane = std::make_unique<Lane>();
    lane->stats.channel = c.channel;
    lane->client = std::make_unique<http::ResilientHttpClient>(
        transport, options_.resilience, clock, sleeper,
        std::string("webhook-") + ChannelName(c.channel));
    lane->config = std::move(c);
    lanes_.push_back(std::move(lane));
  }
  for (auto& lane : lanes_) lane->thread = std::thread([this, l = lane.get()] { Run(l); });
}

Dispatcher::~Dispatcher() {
  for (auto& lane : lanes_) {
    std::lock_guard<std::mutex> lock(lane->mu);
    lane->stop = true;
    lane->stats.dropped += lane->queue.size();
    lane->queue.clear();
    lane->cv.notify_all();
  }
  for (auto& lane : lanes_) lane->thread.join();
}

void Dispatcher::Enqueue(const Alert& alert) {
  for (auto& lane : lanes_) {
    absl::StatusOr<std::optional<http::HttpRequest>> req = BuildRequest(lane->config, alert);
    std::lock_guard<std::mutex> lock(lane->mu);
    if (!req.ok()) {
      ++lane->stats.invalid;
      LOG(ERROR) << "webhook " << ChannelName(lane->config.channel) << ": "
                 << req.status().message();
      continue;
    }
    if (!req->has_value()) {
      ++lane->stats.skipped;
      continue;
    }
    if (lane->queue.size() >= options_.queue_capacity || lane->stop) {
      ++lane->stats.dropped;
      LOG(WARNING) << "webhook " << ChannelName(lane->config.channel)
                   << ": queue full, alert dropped";
      continue;
    }
    (*req)->timeout = options_.request_timeout;
    lane->queue.push_back(std::move(**req));
    lane->cv.notify_all();
  }
}

void Dispatcher::Run(Lane* lane) {
  const char* name = ChannelName(lane->config.channel);
  std::unique_lock<std::mutex> lock(lane->mu);
  while (true) {
    lane->cv.wait(lock, [&] { return lane->stop || !lane->queue.empty(); });
    if (lane->stop) return;
    http::HttpRequest req = std::move(lane->queue.front());
    lane->queue.pop_front();
    lane->busy = true;
    lock.unlock();
    absl::StatusOr<http::HttpResponse> r = lane->client->Do(req);
    const bool ok = r.ok() && r->status >= 200 && r->status < 300;
    if (!ok) {
      // The status code or error only: URLs and headers may hold secrets.
      LOG(WARNING) << "webhook " << name << ": delivery failed: "
                   << (r.ok() ? "HTTP " + std::to_string(r->status)
                              : std::string(absl::StatusCodeToString(r.status().code())));
    }
    lock.lock();
    ++(ok ? lane->stats.sent : lane->stats.failed);
    lane->busy = false;
    lane->cv.notify_all();
  }
}

bool Dispatcher::WaitIdle(absl::Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  for (auto& lane : lanes_) {
    std::unique_lock<std::mutex> lock(lane->mu);
    if (!lane->cv.wait_until(lock, deadline,
                             [&] { return lane->queue.empty() && !lane->busy; })) {
      return false;
    }
  }
  return true;
}

std::vector<ChannelStats> Dispatcher::Stats() const {
  std::vector<ChannelStats> out;
  for (const auto& lane : lanes_) {
    std::lock_guard<std::mutex> lock(lane->mu);
    out.push_back(lane->stats);
    out.back().retries = lane->client->stats().retries;
  }
  return out;
}

}  // namespace clients::webhook
