// Asynchronous alert delivery: one bounded queue and one sender thread per configured
// channel, each with its own token-bucket rate limit, circuit breaker and backoff retry
// (clients/http ResilientHttpClient over the shared transport). A channel that fails or hangs
// only ever holds its own thread; Enqueue never blocks on the network.
//
//   clients::webhook::Dispatcher d(configs, transport, &base::RealClock(),
//                                  &base::RealSleeper(), {});
//   d.Enqueue(alert);                       // returns at once
//   clients::webhook::ChannelStats s = d.Stats()[0];   // sent / failed / dropped per channel
//
// Results per channel (autoscaler_alerts_sent_total{channel,result}): "sent" (2xx), "failed"
// (retries spent, a 4xx, a timeout or the breaker open; logged with the channel name and
// status code, never the URL or a secret), "dropped" (the queue was full), "skipped" (the
// channel sends nothing for this state change), "invalid" (the channel's settings are
// incomplete). Thread-safe. The destructor stops accepting, lets each sender finish the request
// in flight (bounded by the request timeout), discards what is still queued (counted as
// dropped) and joins the threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/http/http_client.h"
#include "clients/http/resilient_http_client.h"
#include "base/clock.h"
#include "clients/webhook/channels.h"

namespace clients::webhook {

struct DispatcherOptions {
  size_t queue_capacity = 100;                       // per channel
  absl::Duration request_timeout = absl::Seconds(10);
  http::ResilienceOptions resilience = [] {
    http::ResilienceOptions r;
    r.rate_per_second = 1;  // per channel; Slack documents 1 message per second per webhook
    r.burst = 5;
    return r;
  }();
};

struct ChannelStats {
  Channel channel = Channel::kGeneric;
  int64_t sent = 0, failed = 0, dropped = 0, skipped = 0, invalid = 0;
  int64_t retries = 0;  // from the channel's resilient client
};

class Dispatcher {
 public:
  // `transport`, `clock` and `sleeper` must outlive the dispatcher.
  Dispatcher(std::vector<ChannelConfig> channels, http::HttpClient* transport,
             const base::Clock* clock, base::Sleeper* sleeper, DispatcherOptions options = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues `alert` on every channel (dropping it, counted, where the queue is full).
  void Enqueue(const Alert& alert);
  // Blocks until every queue is empty and no request is in flight, or `timeout` passes
  // (tests and shutdown). True when idle.
  bool WaitIdle(absl::Duration timeout);
  // One entry per configured channel, in configuration order.
  std::vector<ChannelStats> Stats() const;

 private:
  struct Lane;
  void Run(Lane* lane);

  const DispatcherOptions options_;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace clients::webhook
