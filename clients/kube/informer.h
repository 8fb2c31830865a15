// Informer<T>: a list+watch cache of one Kubernetes resource kind, like client-go's informers.
//
//   auto http = clients::kube::MakeStreamingHttpClient(cluster);
//   clients::kube::Informer<clients::kube::Pod> pods(http.get(), cluster, {}, &base::RealClock(),
//                                                    &base::RealSleeper());
//   pods.Start();  if (pods.WaitForSync(absl::Seconds(30))) Use(pods.List());
//
// The background thread LISTs the collection (pages of options.page_size with limit/continue,
// optional labelSelector), then WATCHes from the list's resourceVersion with
// allowWatchBookmarks=true, reading the chunked JSON-lines stream as it arrives. ADDED/MODIFIED/
// DELETED update the cache, BOOKMARKs advance the resourceVersion, a watch that ends normally is
// re-opened from the last resourceVersion. 410 Gone (an HTTP 410 or an ERROR event with code
// 410, or an expired continue token) makes it relist and replace the cache. 429, 5xx, transport
// errors and other ERROR events back off exponentially (options.backoff, no retry limit) and
// retry. Objects that fail to parse (bad Quantity) are skipped and counted, never fatal.
//
// Instantiated for Deployment, ReplicaSet, Pod, Node, HorizontalPodAutoscaler and Lease.
// Thread-safe: List/Get/HasSynced/stats may be called from any thread while it runs. The
// event handler runs on the informer's thread, outside its lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "clients/http/backoff.h"
#include "clients/http/streaming_http_client.h"
#include "clients/kube/cluster_config.h"
#include "clients/kube/objects.h"

namespace clients::kube {

enum class WatchEventType { kAdded, kModified, kDeleted };

struct InformerOptions {
  std::string namespace_name;  // "" = all namespaces (always "" for Nodes)
  std::string label_selector;  // e.g. "app=api,tier!=db"; "" = everything
  int page_size = 500;         // LIST limit per page
  // Server-side watch length (timeoutSeconds); the stream is then re-opened.
  absl::Duration watch_timeout = absl::Minutes(5);
  absl::Duration request_timeout = absl::Seconds(30);  // LIST pages; added to watch_timeout
  // Waits after consecutive failures: 1 s, 2 s, 4 s ... capped at max_delay (max_retries unused:
  // an informer never gives up).
  clients::http::BackoffPolicy backoff;
};

struct InformerStats {
  int64_t lists = 0;       // completed LISTs (all pages)
  int64_t list_pages = 0;  // LIST requests answered 200
  int64_t relists = 0;     // LISTs caused by 410 Gone
  int64_t watches = 0;     // watch requests sent
  int64_t events = 0;      // ADDED/MODIFIED/DELETED applied
  int64_t bookmarks = 0;
  int64_t parse_errors = 0;  // objects skipped because they did not parse
  int64_t errors = 0;        // failed requests / streams (429, 5xx, transport, ERROR events)
  int64_t backoffs = 0;      // waits before a retry (also after an empty watch)
  absl::Duration backoff_total;
  absl::Time last_sync;  // clock time of the last completed LIST
};

template <typename T>
class Informer {
 public:
  using Handler = std::function<void(WatchEventType, const T&)>;

  // `http`, `clock` and `sleeper` must outlive the informer.
  Informer(clients::http::StreamingHttpClient* http, ClusterConfig cluster, InformerOptions options,
           const base::Clock* clock, base::Sleeper* sleeper);
  // Stops the thread.
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Optional; call before Start(). After a relist the handler sees the differences (ADDED for
  // new, MODIFIED for changed, DELETED for vanished objects).
  void SetHandler(Handler handler);

  // Starts the list+watch thread. Call once.
  void Start();
  // Ends the thread (aborts an open watch within about a second). Idempotent. The cache keeps
  // its last contents.
  void Stop();

  // True once the first LIST completed.
  bool HasSynced() const;
  // Blocks (real time) until HasSynced() or `timeout`; returns HasSynced().
  bool WaitForSync(absl::Duration timeout) const;

  // A snapshot copy of the cache, ordered by namespace/name.
  std::vector<T> List() const;
  // The cached object, or nullopt. `namespace_name` is "" for cluster-scoped kinds.
  std::optional<T> Get(const std::string& namespace_name, const std::string& name) const;
  // The resourceVersion the next watch would start from ("" before the first LIST).
  std::string ResourceVersion() const;
  InformerStats stats() const;

 private:
  // kEmpty: ended normally without a single line (a server closing watches at once must not
  // make us spin).
  enum class WatchEnd { kEnded, kEmpty, kExpired, kFailed, kStopped };
  struct Event {
    WatchEventType type;
    T object;
  };

  void Run();
  absl::Status ListAll();
  WatchEnd WatchOnce();
  // One JSON line of a watch stream; sets *end when the stream must stop.
  void HandleLine(absl::string_view line, std::vector<Event>* events, std::optional<WatchEnd>* end);
  void Deliver(const std::vector<Event>& events);
  void BackoffWait(int failures);
  std::string CollectionUrl() const;
  void AddAuth(clients::http::HttpRequest* req) const;

  clients::http::StreamingHttpClient* const http_;
  const ClusterConfig cluster_;
  const InformerOptions options_;
  const base::Clock* const clock_;
  base::Sleeper* const sleeper_;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  mutable absl::Mutex mu_;
  std::map<std::string, T> items_ ABSL_GUARDED_BY(mu_);  // "namespace/name"
  std::string resource_version_ ABSL_GUARDED_BY(mu_);
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  InformerStats stats_ ABSL_GUARDED_BY(mu_);
};

using DeploymentInformer = Informer<Deployment>;
using ReplicaSetInformer = Informer<ReplicaSet>;
using PodInformer = Informer<Pod>;
using NodeInformer = Informer<Node>;
using HorizontalPodAutoscalerInformer = Informer<HorizontalPodAutoscaler>;
using LeaseInformer = Informer<Lease>;

}  // namespace clients::kube
