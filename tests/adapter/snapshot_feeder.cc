// Test stand-in for the reconciler's side of MetricSnapshots.Watch: serves a full snapshot on
// connect, then every --interval a delta that re-publishes every value with a fresh timestamp
// (as the reconciler does each cycle). Values: --values=ns/metric/deployment=value,...
//
//   snapshot_feeder --listen=unix:///tmp/x.sock --values=default/smart_cpu_pressure/api=1.5
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "proto/snapshot.grpc.pb.h"

ABSL_FLAG(std::string, listen, "", "gRPC listen address (unix:///path or 127.0.0.1:port)");
ABSL_FLAG(std::string, values, "", "ns/metric/deployment=value,...");
ABSL_FLAG(absl::Duration, interval, absl::Milliseconds(300), "delta interval");

namespace pb = smartautoscaler::v1;

class Feeder final : public pb::MetricSnapshots::Service {
 public:
  explicit Feeder(std::vector<pb::MetricValue> values) : values_(std::move(values)) {}
  grpc::Status Watch(grpc::ServerContext* ctx, const pb::WatchRequest*,
                     grpc::ServerWriter<pb::SnapshotUpdate>* writer) override {
    uint64_t seq = 1;
    pb::SnapshotUpdate::Kind kind = pb::SnapshotUpdate::FULL;
    while (!ctx->IsCancelled()) {
      pb::SnapshotUpdate u;
      u.set_kind(kind);
      u.set_sequence(seq++);
      u.set_generated_ms(absl::ToUnixMillis(absl::Now()));
      for (pb::MetricValue v : values_) {
        v.set_timestamp_ms(absl::ToUnixMillis(absl::Now()));
        *u.add_upserts() = v;
      }
      if (!writer->Write(u)) break;
      kind = pb::SnapshotUpdate::DELTA;
      absl::SleepFor(absl::GetFlag(FLAGS_interval));
    }
    return grpc::Status::OK;
  }

 private:
  std::vector<pb::MetricValue> values_;
};

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<pb::MetricValue> values;
  for (absl::string_view item :
       absl::StrSplit(absl::GetFlag(FLAGS_values), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, '=');
    std::vector<std::string> id = absl::StrSplit(kv.first, '/');
    double value;
    if (id.size() != 3 || !absl::SimpleAtod(kv.second, &value)) {
      std::cerr << "bad --values item " << item << "\n";
      return 2;
    }
    pb::MetricValue v;
    v.mutable_id()->set_namespace_(id[0]);
    v.mutable_id()->set_metric(id[1]);
    v.mutable_id()->set_deployment(id[2]);
    v.set_value(value);
    v.set_window_ms(60000);
    values.push_back(v);
  }
  Feeder feeder(values);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials());
  builder.RegisterService(&feeder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::cerr << "cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  server->Wait();
  return 0;
}
