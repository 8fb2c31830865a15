#include "adapter/snapshot_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "proto/snapshot.grpc.pb.h"

ABSL_FLAG(int, snapshot_max_message_bytes, 64 << 20,
          "largest snapshot message (bytes) accepted from --snapshot-address; gRPC's default "
          "of 4 MiB holds only ~30,000 values");

namespace adapter {
namespace {

namespace pb = smartautoscaler::v1;

std::string KeyOf(const pb::MetricId& id) {
  std::map<std::string, std::string> labels(id.labels().begin(), id.labels().end());
  std::string key = absl::StrCat(id.namespace_(), std::string(1, '\0'), id.metric(),
                                 std::string(1, '\0'), id.deployment());
  for (const auto& [k, v] : labels) absl::StrAppend(&key, std::string(1, '\0'), k, "=", v);
  return key;
}

MetricPoint ToPoint(const pb::MetricValue& v, absl::Time received) {
  MetricPoint p;
  p.namespace_name = v.id().namespace_();
  p.metric = v.id().metric();
  p.deployment = v.id().deployment();
  p.labels.insert(v.id().labels().begin(), v.id().labels().end());
  p.value = v.value();
  p.timestamp = v.timestamp_ms() > 0 ? absl::FromUnixMillis(v.timestamp_ms()) : received;
  p.window = absl::Milliseconds(v.window_ms());
  return p;
}

}  // namespace

struct SnapshotClient::State {
  mutable absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  grpc::ClientContext* context ABSL_GUARDED_BY(mu) = nullptr;
  Stats stats ABSL_GUARDED_BY(mu);
};

SnapshotClient::SnapshotClient(MetricTable* table, const base::Clock* clock,
                               SnapshotClientOptions options)
    : table_(table),
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
    options_.max_receive_message_bytes = absl::GetFlag(FLAGS_snapshot_max_message_bytes);
  }
}

SnapshotClient::~SnapshotClient() { Stop(); }

void SnapshotClient::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SnapshotClient::Stop() {
  {
    absl::MutexLock lock(&state_->mu);
    state_->stopping = true;
    if (state_->context != nullptr) state_->context->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

SnapshotClient::Stats SnapshotClient::stats() const {
  absl::MutexLock lock(&state_->mu);
  return state_->stats;
}

void SnapshotClient::Loop() {
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
      table_->Replace(points, now);
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
                   << " bytes (raise --snapshot-max-message-bytes); retrying in " << backoff;
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

}  // namespace adapter
