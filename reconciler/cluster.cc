#include "reconciler/cluster.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "clients/http/rate_limiter.h"
#include "clients/kube/informer.h"
#include "glog/logging.h"

namespace reconciler {
namespace {

namespace kube = clients::kube;

class FileClusterSource : public ClusterSource {
 public:
  explicit FileClusterSource(std::string path) : path_(std::move(path)) {}

  absl::StatusOr<std::shared_ptr<const ClusterState>> Snapshot() override {
    absl::MutexLock lock(&mu_);
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) {
      if (state_) return state_;
      return absl::UnavailableError(absl::StrCat("cluster file ", path_, ": cannot stat"));
    }
    int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    if (state_ && mtime_ns == mtime_ns_ && st.st_size == size_) return state_;
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<kube::ObjectList> list = kube::ParseObjectListJson(text.str());
    if (!list.ok()) {
      LOG(WARNING) << "cluster file " << path_ << ": " << list.status().message()
                   << (state_ ? " (keeping the previous contents)" : "");
      if (state_) return state_;
      return absl::UnavailableError(
          absl::StrCat("cluster file ", path_, ": ", list.status().message()));
    }
    auto s = std::make_shared<ClusterState>();
    s->deployments = std::move(list->deployments);
    s->replica_sets = std::move(list->replica_sets);
    s->pods = std::move(list->pods);
    s->nodes = std::move(list->nodes);
    s->hpas = std::move(list->hpas);
    state_ = std::move(s);
    mtime_ns_ = mtime_ns;
    size_ = st.st_size;
    return state_;
  }

  std::string Describe() const override { return absl::StrCat("file ", path_); }

 private:
  const std::string path_;
  absl::Mutex mu_;
  std::shared_ptr<const ClusterState> state_ ABSL_GUARDED_BY(mu_);
  int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t size_ ABSL_GUARDED_BY(mu_) = -1;
};

// K8S_API_RATE_LIMIT for the informers' LIST and watch requests: every request takes a token
// and waits for it. (A watch is one request however long it streams.)
class RateLimitedStreamingClient : public clients::http::StreamingHttpClient {
 public:
  RateLimitedStreamingClient(clients::http::StreamingHttpClient* inner, const base::Clock* clock,
                             base::Sleeper* sleeper, double rate)
      : inner_(inner), sleeper_(sleeper), bucket_(clock, rate, std::max(1.0, rate)) {}

  absl::StatusOr<clients::http::HttpResponse> Do(
      const clients::http::HttpRequest& request) override {
    Wait();
    return inner_->Do(request);
  }
  // Requests that had to wait for a token.
  int64_t throttled() const { return bucket_.throttled(); }

  absl::StatusOr<clients::http::HttpResponse> DoStream(const clients::http::HttpRequest& request,
                                                       const DataCallback& on_data,
                                                       const std::atomic<bool>* cancel) override {
    Wait();
    return inner_->DoStream(request, on_data, cancel);
  }

 private:
  void Wait() {
    absl::Duration d = bucket_.Reserve();
    if (d > absl::ZeroDuration()) sleeper_->SleepFor(d);
  }
  clients::http::StreamingHttpClient* const inner_;
  base::Sleeper* const sleeper_;
  clients::http::TokenBucket bucket_;
};

class InformerClusterSource : public ClusterSource {
 public:
  InformerClusterSource(clients::http::StreamingHttpClient* http,
                        const kube::ClusterConfig& cluster, const base::Clock* clock,
                        base::Sleeper* sleeper, InformerClusterOptions options)
      : server_(cluster.server),
        limited_(http, clock, sleeper, options.requests_per_second),
        deployments_(&limited_, cluster, {}, clock, sleeper),
        replica_sets_(&limited_, cluster, {}, clock, sleeper),
        pods_(&limited_, cluster, {}, clock, sleeper),
        nodes_(&limited_, cluster, {}, clock, sleeper),
        hpas_(&limited_, cluster, {}, clock, sleeper) {
    deployments_.Start();
    replica_sets_.Start();
    pods_.Start();
    nodes_.Start();
    hpas_.Start();
  }
  ~InformerClusterSource() override {
    deployments_.Stop();
    replica_sets_.Stop();
    pods_.Stop();
    nodes_.Stop();
    hpas_.Stop();
  }

  absl::StatusOr<std::shared_ptr<const ClusterState>> Snapshot() override {
    if (!deployments_.HasSynced() || !replica_sets_.HasSynced() || !pods_.HasSynced() ||
        !nodes_.HasSynced() || !hpas_.HasSynced()) {
      return absl::UnavailableError(
          absl::StrCat("Kubernetes API ", server_, ": informers not synced yet"));
    }
    auto s = std::make_shared<ClusterState>();
    s->deployments = deployments_.List();
    s->replica_sets = replica_sets_.List();
    s->pods = pods_.List();
    s->nodes = nodes_.List();
    s->hpas = hpas_.List();
    return std::shared_ptr<const ClusterState>(std::move(s));
  }

  std::string Describe() const override { return absl::StrCat("kubernetes ", server_); }

  ClusterSourceStats Stats() const override {
    ClusterSourceStats out;
    auto add = [&](const kube::InformerStats& s) {
      out.lists += s.lists;
      out.relists += s.relists;
      out.watches += s.watches;
      out.events += s.events;
      out.errors += s.errors;
      out.backoffs += s.backoffs;
      out.parse_errors += s.parse_errors;
    };
    add(deployments_.stats());
    add(replica_sets_.stats());
    add(pods_.stats());
    add(nodes_.stats());
    add(hpas_.stats());
    out.rate_limited = limited_.throttled();
    return out;
  }

 private:
  const std::string server_;
  RateLimitedStreamingClient limited_;
  kube::Informer<kube::Deployment> deployments_;
  kube::Informer<kube::ReplicaSet> replica_sets_;
  kube::Informer<kube::Pod> pods_;
  kube::Informer<kube::Node> nodes_;
  kube::Informer<kube::HorizontalPodAutoscaler> hpas_;
};

}  // namespace

std::unique_ptr<ClusterSource> MakeFileClusterSource(std::string path) {
  return std::make_unique<FileClusterSource>(std::move(path));
}

std::unique_ptr<ClusterSource> MakeInformerClusterSource(
    clients::http::StreamingHttpClient* http, const clients::kube::ClusterConfig& cluster,
    const base::Clock* clock, base::Sleeper* sleeper, InformerClusterOptions options) {
  return std::make_unique<InformerClusterSource>(http, cluster, clock, sleeper, options);
}

}  // namespace reconciler
