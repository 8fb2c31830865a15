#include "snapshot/subscriber.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "proto/snapshot.grpc.pb.h"

namespace snapshot {
namespace {

namespace pb = smartautoscaler::v1;

// gRPC's own default (4 MiB) holds only ~30,000 values.
constexpr int kDefaultMaxReceiveMessageBytes = 64 << 20;

std::string KeyOf(const pb::MetricId& id) {
  return SeriesKey(id.namespace_(), id.metric(), id.deployment(),
                   std::map<std::string, std::string>(id.labels().begin(), id.labels().end()));
}

MetricPoint ToPoint(const pb::MetricValue& v, absl::Time received) {
  MetricPoint p;
  p.namespace_name = v.id().namespace_();
  p.metric = v.id().metric();
  p.deployment = v.id().deployment();
  p.labels.insert(v.id().labels().begin(), v.id().labels().end());
  p.value = v.value();
  // No timestamp on the wire: the value ages from its receipt (the stream has no timeless values).
  p.timestamp = v.timestamp_ms() > 0 ? absl::FromUnixMillis(v.timestamp_ms()) : received;
  p.window = absl::Milliseconds(v.window_ms());
  return p;
}

}  // namespace

struct Subscriber::State {
  mutable absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  grpc::ClientContext* context ABSL_GUARDED_BY(mu) = nullptr;
  Stats stats ABSL_GUARDED_BY(mu);
};

Subscriber::Subscriber(TableSink* sink, const base::Clock* clock, SubscriberOptions options)
    : sink_(sink),
      clock_(clock),
      options_(std::move(options)),
      state_(std::make_unique<State>()) {
  if (options_.metrics == nullptr) own_registry_ = std::make_unique<prometheus::Registry>();
  prometheus::Registry& r = options_.metrics != nullptr ? *options_.metrics : *own_registry_;
  connected_ = &prometheus::BuildGauge()
                    .Name("adapter_snapshot_stream_connected")
                    .Help("1 while the snapshot stream is open and a full snapshot was applied.")
                    .Register(r)
                    .Add({});
  auto& updates = prometheus::BuildCounter()
                      .Name("adapter_snapshot_updates_total")
                      .Help("Snapshot stream messages applied, by kind.")
                      .Register(r);
  full_ = &updates.Add({{"kind", "full"}});
  deltas_ = &updates.Add({{"kind", "delta"}});
  auto& failures =
      prometheus::BuildCounter()
          .Name("adapter_snapshot_stream_failures_total")
          .Help("Snapshot streams dropped: gap = out-of-order sequence, error = ended or failed.")
          .Register(r);
  gaps_ = &failures.Add({{"reason", "gap"}});
  errors_ = &failures.Add({{"reason", "error"}});
  if (options_.max_receive_message_bytes <= 0) {
    options_.max_receive_message_bytes = kDefaultMaxReceiveMessageBytes;
  }
}

Subscriber::~Subscriber() { Stop(); }

void Subscriber::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Subscriber::Stop() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
    if (state_->context != nullptr) state_->context->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

Subscriber::Stats Subscriber::stats() const {
  absl::MutexLock lock(&state_->mu);
  return state_->stats;
}

void Subscriber::Loop() {
  absl::Duration backoff = options_.initial_backoff;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options_.address, grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<pb::MetricSnapshots::Stub> stub = pb::MetricSnapshots::NewStub(channel);
  while (true) {
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&state_->mu);
      if (state_->stopping) return;
      state_->context = &context;
      ++state_->stats.connects;
    }
    pb::WatchRequest request;
    request.set_client(options_.client_name);
    std::unique_ptr<grpc::ClientReader<pb::SnapshotUpdate>> reader = stub->Watch(&context, request);
    std::map<std::string, MetricPoint> values;
    uint64_t last_sequence = 0;
    bool have_full = false;
    bool gap = false;
    pb::SnapshotUpdate update;
    while (reader->Read(&update)) {
      const absl::Time now = clock_->Now();
      if (update.kind() == pb::SnapshotUpdate::FULL) {
        values.clear();
      } else if (!have_full || update.kind() != pb::SnapshotUpdate::DELTA ||
                 update.sequence() != last_sequence + 1) {
        LOG(WARNING) << "snapshot stream out of order (kind " << update.kind() << ", sequence "
                     << update.sequence() << " after " << last_sequence << "); reconnecting";
        gap = true;
        context.TryCancel();
        break;
      }
      for (const pb::MetricId& id : update.removals()) values.erase(KeyOf(id));
      for (const pb::MetricValue& v : update.upserts()) values[KeyOf(v.id())] = ToPoint(v, now);
      std::vector<MetricPoint> points;
      points.reserve(values.size());
      for (const auto& [key, p] : values) points.push_back(p);
      sink_->Replace(points, now);
      last_sequence = update.sequence();
      absl::MutexLock lock(&state_->mu);
      if (update.kind() == pb::SnapshotUpdate::FULL) {
        ++state_->stats.full;
        if (!have_full)
          LOG(INFO) << "snapshot stream: full snapshot of " << values.size() << " values";
        have_full = true;
        state_->stats.connected = true;
        connected_->Set(1);
        full_->Increment();
        backoff = options_.initial_backoff;
      } else {
        ++state_->stats.deltas;
        deltas_->Increment();
      }
    }
    grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&state_->mu);
      state_->context = nullptr;
      state_->stats.connected = false;
      connected_->Set(0);
      if (gap) {
        ++state_->stats.gaps;
        gaps_->Increment();
      } else {
        ++state_->stats.stream_errors;
        errors_->Increment();
      }
      if (state_->stopping) return;
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        LOG(ERROR) << "snapshot stream to " << options_.address
                   << " failed: " << status.error_message() << "; a snapshot exceeds "
                   << options_.max_receive_message_bytes
                   << " bytes (raise the receive limit, the adapter's "
                      "--snapshot-max-message-bytes); retrying in "
                   << backoff;
      } else if (!gap) {
        LOG(WARNING) << "snapshot stream to " << options_.address
                     << " ended: " << status.error_message() << " (code " << status.error_code()
                     << "); retrying in " << backoff;
      }
      // Interruptible backoff: Stop() flips `stopping`.
      state_->mu.AwaitWithTimeout(absl::Condition(&state_->stopping), backoff);
      if (state_->stopping) return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace snapshot
