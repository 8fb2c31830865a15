// The client side of the reconciler's MetricSnapshots.Watch stream: keeps the metric table in
// step with the reconciler (full snapshot on connect, then deltas).
//
//   adapter::SnapshotClient client(&table, &base::RealClock(), {.address =
//   "unix:///run/sa/snap.sock"}); client.Start();   // background thread; reconnects with backoff
//   until Stop()
//
// A stream that ends, fails, starts with a delta, or skips a sequence number is dropped and
// re-opened after an exponential backoff (reset by every good full snapshot). While
// disconnected the table keeps its last values; the handler turns them into 503s once they
// are older than --max-staleness. gRPC headers stay in snapshot_client.cc. Thread-safe.
//
// Message size: a full snapshot is one gRPC message, so the client raises gRPC's 4 MiB default
// receive limit (about 30,000 of the reconciler's values) to --snapshot-max-message-bytes
// (default 64 MiB, some 450,000 values). A larger snapshot fails
// the stream with RESOURCE_EXHAUSTED, logged as an error, and is retried with backoff.
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
#include "adapter/metric_table.h"
#include "base/clock.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace adapter {

struct SnapshotClientOptions {
  std::string address;  // "unix:///path/to.sock" or "127.0.0.1:port"
  std::string client_name = "adapter";
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  // Largest snapshot message accepted, in bytes; 0 = the --snapshot-max-message-bytes flag
  // (default 64 MiB).
  int max_receive_message_bytes = 0;
  // Where the stream metrics go (must outlive the client); null = a registry of the client's
  // own (counted, not exported).
  prometheus::Registry* metrics = nullptr;
};

class SnapshotClient {
 public:
  struct Stats {
    uint64_t connects = 0;       // streams opened
    uint64_t full = 0;           // full snapshots applied
    uint64_t deltas = 0;         // deltas applied
    uint64_t gaps = 0;           // streams dropped for a sequence gap or a leading delta
    uint64_t stream_errors = 0;  // streams that ended or failed
    bool connected = false;      // a full snapshot was applied on the current stream
  };

  SnapshotClient(MetricTable* table, const base::Clock* clock, SnapshotClientOptions options);
  ~SnapshotClient();  // Stop()s

  void Start();
  // Cancels the stream and joins the thread. Idempotent.
  void Stop();
  Stats stats() const;

 private:
  struct State;
  void Loop();

  MetricTable* table_;
  const base::Clock* clock_;
  SnapshotClientOptions options_;
  std::unique_ptr<State> state_;
  std::unique_ptr<prometheus::Registry> own_registry_;  // when options.metrics is null
  prometheus::Gauge* connected_;
  prometheus::Counter *full_, *deltas_, *gaps_, *errors_;
  std::thread thread_;
};

}  // namespace adapter
