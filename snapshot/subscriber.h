// The client side of the reconciler's MetricSnapshots.Watch stream: keeps a TableSink (the
// adapter's metric table) in step with the publisher (full snapshot on connect, then deltas).
//
//   snapshot::Subscriber subscriber(&table, &base::RealClock(),
//                                   {.address = "unix:///run/smart-autoscaler/snapshots.sock"});
//   subscriber.Start();   // background thread; reconnects with backoff until Stop()
//
// A stream that ends, fails, starts with a delta, or skips a sequence number is dropped and
// re-opened after an exponential backoff (reset by every good full snapshot). While
// disconnected the sink keeps its last values (the adapter turns them into 503s once they are
// older than its staleness limit). After every applied message the sink gets the whole table,
// stamped with the clock's Now() as its receipt time; a value that arrived without a timestamp
// carries that receipt time (see metric_point.h). gRPC headers stay in subscriber.cc.
// Thread-safe.
//
// Message size: a full snapshot is one gRPC message, so the subscriber raises gRPC's 4 MiB
// default receive limit (about 30,000 of the reconciler's values) to
// SubscriberOptions::max_receive_message_bytes (default 64 MiB, some 450,000 values). A larger
// snapshot fails the stream with RESOURCE_EXHAUSTED, logged as an error, and is retried with
// backoff.
//
// Exported in the metrics registry: adapter_snapshot_stream_connected (0/1),
// adapter_snapshot_updates_total{kind="full|delta"},
// adapter_snapshot_stream_failures_total{reason="gap|error"}.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "snapshot/metric_point.h"

namespace snapshot {

struct SubscriberOptions {
  std::string address;  // "unix:///path/to.sock" or "127.0.0.1:port"
  std::string client_name = "adapter";
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  // Largest snapshot message accepted, in bytes; 0 or less = the default, 64 MiB.
  int max_receive_message_bytes = 0;
  // Where the stream metrics go (must outlive the client); null = a registry of the client's
  // own (counted, not exported).
  prometheus::Registry* metrics = nullptr;
};

// Owns its thread and the gRPC channel; the sink, clock and registry are the caller's and must
// outlive the subscriber.
class Subscriber {
 public:
  struct Stats {
    uint64_t connects = 0;       // streams opened
    uint64_t full = 0;           // full snapshots applied
    uint64_t deltas = 0;         // deltas applied
    uint64_t gaps = 0;           // streams dropped for a sequence gap or a leading delta
    uint64_t stream_errors = 0;  // streams that ended or failed
    bool connected = false;      // a full snapshot was applied on the current stream
  };

  Subscriber(TableSink* sink, const base::Clock* clock, SubscriberOptions options);
  ~Subscriber();  // Stop()s
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Starts the background thread that connects, applies and reconnects. Call once.
  void Start();
  // Cancels the stream and joins the thread. Idempotent.
  void Stop();
  Stats stats() const;

 private:
  struct State;
  void Loop();

  TableSink* sink_;
  const base::Clock* clock_;
  SubscriberOptions options_;
  std::unique_ptr<State> state_;
  std::unique_ptr<prometheus::Registry> own_registry_;  // when options.metrics is null
  prometheus::Gauge* connected_;
  prometheus::Counter *full_, *deltas_, *gaps_, *errors_;
  std::thread thread_;
};

}  // namespace snapshot
