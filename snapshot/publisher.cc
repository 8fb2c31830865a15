#include "snapshot/publisher.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "proto/snapshot.grpc.pb.h"

// Why the sync server API: a Pod runs one to a few adapters, so a thread per stream costs
// nothing worth saving, and a plain loop (wait on the stream's CondVar, pop, Write) keeps the
// ordering and shutdown rules readable. The callback API would save those threads at the price
// of a reactor state machine per stream. A blocking Write never holds the mutex, so a slow
// client only ever stalls its own thread; Publish() only appends to queues.
//
// Ownership: Publisher owns State (table, streams, counters) and the Listener (gRPC
// server + service). Each Watch handler owns its Stream (shared with State's registry, which
// holds it only between registration and unregistration, both inside the handler). The
// server is shut down before State can go away, so handlers never outlive State.
//
// Lock order: State::publish_mu before State::mu. Nothing is written to the network, and no
// snapshot or delta is built or copied, under State::mu: only queue and counter bookkeeping.

namespace snapshot {
namespace {

namespace pb = smartautoscaler::v1;

// How often an idle stream checks whether its client went away (the sync API has no
// cancellation callback).
constexpr absl::Duration kCancelPoll = absl::Milliseconds(100);

bool SamePayload(const MetricPoint& a, const MetricPoint& b) {
  // Bitwise-equal doubles would also be fine; == treats NaN as always changed, which only
  // costs a resend (the adapter drops non-finite values anyway).
  return a.value == b.value && a.timestamp == b.timestamp && a.window == b.window;
}

void FillId(const MetricPoint& p, pb::MetricId* id) {
  id->set_namespace_(p.namespace_name);
  id->set_metric(p.metric);
  id->set_deployment(p.deployment);
  id->mutable_labels()->insert(p.labels.begin(), p.labels.end());
}

void FillValue(const MetricPoint& p, pb::MetricValue* v) {
  FillId(p, v->mutable_id());
  v->set_value(p.value);
  // Publish() stamped every timeless point, so the value always has a time after the epoch.
  v->set_timestamp_ms(absl::ToUnixMillis(p.timestamp));
  v->set_window_ms(absl::ToInt64Milliseconds(p.window));
}

using Table = std::map<std::string, MetricPoint>;

struct ParsedAddress {
  std::string grpc_address;  // what ServerBuilder::AddListeningPort takes
  std::string socket_path;   // empty for TCP
};

absl::StatusOr<ParsedAddress> ParseAddress(const std::string& address) {
  ParsedAddress parsed;
  if (absl::StartsWith(address, "unix:")) {
    absl::string_view path = absl::string_view(address).substr(5);
    if (absl::StartsWith(path, "//")) path.remove_prefix(2);
    if (!absl::StartsWith(path, "/")) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot address ", address, ": want unix:///absolute/path.sock"));
    }
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return absl::InvalidArgumentError(absl::StrCat("snapshot address ", address,
                                                     ": socket path longer than ",
                                                     sizeof(sockaddr_un{}.sun_path) - 1, " bytes"));
    }
    parsed.socket_path = std::string(path);
    parsed.grpc_address = absl::StrCat("unix:", path);
    return parsed;
  }
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot address ", address, ": want unix:///path.sock or 127.0.0.1:PORT"));
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  // Loopback only: the stream feeds the values HPAs act on, so nothing outside the Pod may
  // reach it.
  if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot address ", address,
                     ": host must be 127.0.0.1, localhost or [::1] (never the Pod IP), or use "
                     "unix:///path.sock"));
  }
  int port_number = -1;
  if (port.empty() || port.size() > 5 || !absl::SimpleAtoi(port, &port_number) || port_number < 0 ||
      port_number > 65535 || port.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot address ", address, ": bad port \"", port, "\""));
  }
  parsed.grpc_address = address;
  return parsed;
}

// Removes a leftover socket file at `path`; refuses to remove anything that is not a socket.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("stat ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; not removing it"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(absl::StrCat("unlink ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// One Watch call. Created and registered by its handler; Publish/SetLeader/Stop reach it
// through State::streams under State::mu.
struct Stream {
  grpc::ServerContext* context = nullptr;  // valid while registered
  std::string client;                      // WatchRequest.client, for logs
  // Deltas not yet written, oldest first; sequence numbers are assigned at write time.
  std::deque<std::shared_ptr<const pb::SnapshotUpdate>> queue;
  bool writing = false;  // inside ServerWriter::Write (then only TryCancel can unblock it)
  bool ended = false;    // the handler must return end_status as soon as it sees this
  grpc::Status end_status;
  absl::CondVar cv;  // signalled on a new delta or on `ended`
};

}  // namespace

struct Publisher::State {
  explicit State(const base::Clock* c, size_t max_queue) : clock(c), max_queued(max_queue) {}

  // Marks `stream` ended with `status` and wakes its handler; a handler stuck in Write (slow
  // client, full flow-control window) is cancelled, since nothing else would unblock it.
  void EndLocked(Stream* stream, grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (stream->ended) return;
    stream->ended = true;
    stream->end_status = std::move(status);
    if (stream->writing) stream->context->TryCancel();
    stream->cv.Signal();
  }

  const base::Clock* const clock;
  const size_t max_queued;

  absl::Mutex publish_mu;  // serializes Publish(); taken before mu
  absl::Mutex mu;
  // The last published table; null until the first Publish(). Immutable once published, so
  // handlers build their FULL snapshot from it outside the lock.
  std::shared_ptr<const Table> table ABSL_GUARDED_BY(mu);
  bool leader ABSL_GUARDED_BY(mu) = false;
  bool serving ABSL_GUARDED_BY(mu) = false;  // between Start() and Stop()
  std::vector<std::shared_ptr<Stream>> streams ABSL_GUARDED_BY(mu);
  PublisherStats stats ABSL_GUARDED_BY(mu);
};

class Publisher::Service final : public pb::MetricSnapshots::Service {
 public:
  explicit Service(State* state) : state_(state) {}

  grpc::Status Watch(grpc::ServerContext* context, const pb::WatchRequest* request,
                     grpc::ServerWriter<pb::SnapshotUpdate>* writer) override {
    auto stream = std::make_shared<Stream>();
    stream->context = context;
    stream->client = request->client();
    std::shared_ptr<const Table> table;
    {
      absl::MutexLock lock(&state_->mu);
      if (!state_->serving) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
      if (!state_->leader) {
        ++state_->stats.standby_refusals;
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "standby");
      }
      state_->streams.push_back(stream);
      ++state_->stats.connected_streams;
      ++state_->stats.streams_opened;
      // A new leader that has not published yet sends nothing rather than an empty FULL, which
      // would wipe the adapter's last values.
      while (state_->table == nullptr && !stream->ended && !context->IsCancelled()) {
        stream->cv.WaitWithTimeout(&state_->mu, kCancelPoll);
      }
      if (state_->table != nullptr && !stream->ended && !context->IsCancelled()) {
        // The FULL covers everything queued so far; later deltas apply on top of it.
        table = state_->table;
        stream->queue.clear();
        stream->writing = true;
      }
    }
    grpc::Status status;
    if (table != nullptr) {
      VLOG(1) << "snapshot stream to " << stream->client << ": full snapshot of " << table->size()
              << " values";
      status = Serve(*table, stream.get(), writer);
    }
    absl::MutexLock lock(&state_->mu);
    if (table == nullptr) {
      status = stream->ended ? stream->end_status
                             : grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    auto& streams = state_->streams;
    for (size_t i = 0; i < streams.size(); ++i) {
      if (streams[i] == stream) {
        streams.erase(streams.begin() + i);
        break;
      }
    }
    --state_->stats.connected_streams;
    return status;
  }

 private:
  // Writes the FULL snapshot, then deltas until the stream ends. Called with stream->writing
  // set and State::mu not held.
  grpc::Status Serve(const Table& table, Stream* stream,
                     grpc::ServerWriter<pb::SnapshotUpdate>* writer) {
    uint64_t sequence = 1;
    pb::SnapshotUpdate update;
    update.set_kind(pb::SnapshotUpdate::FULL);
    update.set_sequence(sequence);
    update.set_generated_ms(absl::ToUnixMillis(state_->clock->Now()));
    for (const auto& [key, point] : table) FillValue(point, update.add_upserts());
    while (true) {
      const bool ok = writer->Write(update);
      std::shared_ptr<const pb::SnapshotUpdate> next;
      {
        absl::MutexLock lock(&state_->mu);
        stream->writing = false;
        if (!ok) {
          return stream->ended ? stream->end_status
                               : grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
        }
        ++state_->stats.updates_sent;
        while (stream->queue.empty() && !stream->ended && !stream->context->IsCancelled()) {
          stream->cv.WaitWithTimeout(&state_->mu, kCancelPoll);
        }
        if (stream->ended) return stream->end_status;
        if (stream->context->IsCancelled()) {
          return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
        }
        next = std::move(stream->queue.front());
        stream->queue.pop_front();
        stream->writing = true;
      }
      // The delta is shared by all streams; only the sequence number is per stream.
      update = *next;
      update.set_sequence(++sequence);
    }
  }

  State* const state_;
};

struct Publisher::Listener {
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  std::string socket_path;  // empty for TCP
  int port = 0;
};

Publisher::Publisher(const base::Clock* clock, PublisherOptions options)
    : clock_(clock),
      options_(options),
      state_(std::make_unique<State>(clock, std::max<size_t>(1, options.max_queued_updates))) {
  absl::MutexLock lock(&state_->mu);
  state_->leader = options_.initially_leader;
}

Publisher::~Publisher() { Stop(); }

absl::Status Publisher::Start(const std::string& address) {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  if (listener_ != nullptr) return absl::FailedPreconditionError("publisher already started");
  absl::StatusOr<ParsedAddress> parsed = ParseAddress(address);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->socket_path.empty()) {
    absl::Status removed = RemoveStaleSocket(parsed->socket_path);
    if (!removed.ok()) return removed;
  }
  auto listener = std::make_unique<Listener>();
  listener->service = std::make_unique<Service>(state_.get());
  listener->socket_path = parsed->socket_path;
  grpc::ServerBuilder builder;
  // Without this a second publisher could silently share the port (SO_REUSEPORT).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(parsed->grpc_address, grpc::InsecureServerCredentials(),
                           parsed->socket_path.empty() ? &listener->port : nullptr);
  builder.RegisterService(listener->service.get());
  {
    absl::MutexLock lock(&state_->mu);
    state_->serving = true;
  }
  listener->server = builder.BuildAndStart();
  if (listener->server == nullptr || (parsed->socket_path.empty() && listener->port == 0)) {
    if (listener->server != nullptr) listener->server->Shutdown();
    absl::MutexLock lock(&state_->mu);
    state_->serving = false;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  if (!parsed->socket_path.empty()) {
    // gRPC creates the socket with the process umask; tighten it to owner and group (the
    // adapter container shares the group through the emptyDir's fsGroup).
    if (chmod(parsed->socket_path.c_str(), 0660) != 0) {
      LOG(WARNING) << "chmod 0660 " << parsed->socket_path << ": " << std::strerror(errno);
    }
  }
  LOG(INFO) << "snapshot publisher listening on " << address
            << (listener->port != 0 ? absl::StrCat(" (port ", listener->port, ")") : "");
  listener_ = std::move(listener);
  return absl::OkStatus();
}

void Publisher::Stop() {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  if (listener_ == nullptr) return;
  {
    absl::MutexLock lock(&state_->mu);
    state_->serving = false;
    for (const auto& stream : state_->streams) {
      state_->EndLocked(stream.get(), grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
    }
  }
  // Handlers return promptly once ended; the deadline cancels anything still stuck.
  listener_->server->Shutdown(std::chrono::system_clock::now() +
                              absl::ToChronoNanoseconds(options_.shutdown_grace));
  listener_->server.reset();
  if (!listener_->socket_path.empty()) {
    absl::Status removed = RemoveStaleSocket(listener_->socket_path);
    if (!removed.ok()) LOG(WARNING) << "snapshot publisher: " << removed;
  }
  listener_.reset();
  LOG(INFO) << "snapshot publisher stopped";
}

void Publisher::Publish(std::vector<MetricPoint> full_table) {
  absl::MutexLock publishing(&state_->publish_mu);
  auto next = std::make_shared<Table>();
  const absl::Time now = clock_->Now();
  for (MetricPoint& p : full_table) {
    // The wire has no timeless values (0 ms = none): a point without a time ages from now.
    if (p.timestamp <= absl::UnixEpoch()) p.timestamp = now;
    std::string key = SeriesKey(p);
    (*next)[std::move(key)] = std::move(p);
  }
  std::shared_ptr<const Table> previous;
  {
    absl::MutexLock lock(&state_->mu);
    previous = state_->table;
  }
  // Only publish_mu holders replace the table, so `previous` is still current here.
  auto delta = std::make_shared<pb::SnapshotUpdate>();
  delta->set_kind(pb::SnapshotUpdate::DELTA);
  delta->set_generated_ms(absl::ToUnixMillis(now));
  for (const auto& [key, point] : *next) {
    if (previous != nullptr) {
      auto it = previous->find(key);
      if (it != previous->end() && SamePayload(it->second, point)) continue;
    }
    FillValue(point, delta->add_upserts());
  }
  if (previous != nullptr) {
    for (const auto& [key, point] : *previous) {
      if (next->find(key) == next->end()) FillId(point, delta->add_removals());
    }
  }
  std::shared_ptr<const pb::SnapshotUpdate> shared_delta = std::move(delta);
  absl::MutexLock lock(&state_->mu);
  state_->table = std::move(next);
  ++state_->stats.publishes;
  for (const auto& stream : state_->streams) {
    if (stream->ended) continue;
    if (stream->queue.size() >= state_->max_queued) {
      ++state_->stats.slow_client_drops;
      LOG(WARNING) << "snapshot stream to " << stream->client << ": " << stream->queue.size()
                   << " updates pending; ending the stream (the client reconnects for a full "
                      "snapshot)";
      state_->EndLocked(stream.get(),
                        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "client too slow"));
      continue;
    }
    stream->queue.push_back(shared_delta);
    stream->cv.Signal();
  }
}

void Publisher::SetLeader(bool leader) {
  absl::MutexLock lock(&state_->mu);
  if (state_->leader == leader) return;
  state_->leader = leader;
  LOG(INFO) << "snapshot publisher: " << (leader ? "leader, serving" : "standby, serving nothing");
  if (leader) return;
  for (const auto& stream : state_->streams) {
    state_->EndLocked(stream.get(), grpc::Status(grpc::StatusCode::UNAVAILABLE, "standby"));
  }
}

int Publisher::port() const {
  absl::MutexLock lifecycle(&lifecycle_mu_);
  return listener_ == nullptr ? 0 : listener_->port;
}

PublisherStats Publisher::Stats() const {
  absl::MutexLock lock(&state_->mu);
  return state_->stats;
}

}  // namespace snapshot
