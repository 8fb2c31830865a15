// The server side of MetricSnapshots.Watch: the leading reconciler streams its served metric
// table to the adapters in the same Pod (a FULL snapshot on connect, then one DELTA per cycle).
//
//   snapshot::Publisher publisher(&base::RealClock());
//   absl::Status s = publisher.Start("unix:///run/smart-autoscaler/snapshots.sock");
//   publisher.SetLeader(true);                 // on winning the Lease
//   publisher.Publish(table);                  // every cycle, the whole table
//
// The stream only ever listens on a Unix domain socket or on loopback (127.0.0.1, localhost,
// [::1]): nothing outside the Pod may feed the adapter values, so Start() refuses any other
// host. A standby reconciler (not leader) serves nothing: Watch answers UNAVAILABLE and open
// streams are ended, so adapters keep their last values until the new leader publishes.
//
// Publish() never waits for a client. Each stream has a bounded queue of pending deltas; a
// stream whose queue overflows is ended (counted as a slow-client drop) and its client
// reconnects and starts again from a FULL snapshot. Points without a timestamp are stamped
// with the publisher's clock (see metric_point.h). gRPC and protobuf types stay in
// publisher.cc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "snapshot/metric_point.h"

namespace snapshot {

struct PublisherOptions {
  // Deltas that may wait for one stream before that stream is ended as too slow. At one
  // Publish per cycle (60 s by default) even a small bound is minutes of slack.
  size_t max_queued_updates = 16;
  // Stop() lets streams end cleanly for this long, then cancels them.
  absl::Duration shutdown_grace = absl::Seconds(1);
  // Whether the publisher serves right after Start(). Default: standby until SetLeader(true),
  // as a reconciler without the Lease must serve nothing.
  bool initially_leader = false;
};

struct PublisherStats {
  int64_t connected_streams = 0;   // streams open right now (FULL sent or about to be)
  uint64_t streams_opened = 0;     // Watch calls accepted, ever
  uint64_t updates_sent = 0;       // FULL and DELTA messages written, all streams
  uint64_t slow_client_drops = 0;  // streams ended because their queue overflowed
  uint64_t standby_refusals = 0;   // Watch calls answered UNAVAILABLE while not leader
  uint64_t publishes = 0;          // Publish() calls
};

// Owns the gRPC server (created by Start, destroyed by Stop), the current table and the
// per-stream queues. The caller owns the clock, which must outlive the publisher.
// Thread-safe: every method may be called from any thread.
class Publisher {
 public:
  explicit Publisher(const base::Clock* clock, PublisherOptions options = {});
  ~Publisher();  // Stop()s
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Starts serving on `address`: "unix:///absolute/path.sock", "127.0.0.1:PORT",
  // "localhost:PORT" or "[::1]:PORT" (PORT 0 picks a free port, see port()). A leftover socket
  // file at the path is removed first and the new one is made mode 0660.
  // Errors: InvalidArgument for any other address (Pod IP, 0.0.0.0, a host name, a bad port or
  // path); FailedPrecondition if already started or if the path exists and is not a socket;
  // Unavailable if the listener cannot be opened (port in use, missing directory).
  // May be called again after Stop(); the table published so far is kept.
  absl::Status Start(const std::string& address);

  // Ends every stream and stops the server. Returns within about
  // options.shutdown_grace plus a few hundred milliseconds, even with stuck clients. Removes
  // the socket file. Idempotent.
  void Stop();

  // Replaces the served table with `full_table` (the whole table, every cycle; for duplicate
  // SeriesKeys the last one wins). A point whose timestamp is kTimeless, or at or before the
  // Unix epoch, is stamped with the clock's Now(). Every open stream is sent one DELTA: upserts for new or
  // changed points, removals for points that disappeared (possibly empty, which tells the
  // adapter the stream is alive). Never blocks on clients. Allowed while standby or stopped:
  // the table is kept for when the publisher serves again.
  void Publish(std::vector<MetricPoint> full_table);

  // Leader: Watch calls are served. Not leader: new Watch calls get UNAVAILABLE "standby" and
  // open streams are ended with that status.
  void SetLeader(bool leader);

  // The TCP port listened on, 0 for a Unix socket or when not started.
  int port() const;

  PublisherStats Stats() const;

 private:
  struct State;     // the table, the streams and the counters; defined in publisher.cc
  class Service;    // the generated gRPC service; defined in publisher.cc
  struct Listener;  // the running server; defined in publisher.cc

  const base::Clock* clock_;
  const PublisherOptions options_;
  // Shared with the Service: the streams touch it until the server has shut down.
  std::unique_ptr<State> state_;
  // Serializes Start() and Stop().
  mutable absl::Mutex lifecycle_mu_;
  std::unique_ptr<Listener> listener_ ABSL_GUARDED_BY(lifecycle_mu_);
};

}  // namespace snapshot
