// `smart-autoscaler reconciler` and `smart-autoscaler check-config`: wiring only. Config from the
// environment, a ConfigMap directory and flags (flags win); the cluster from the Kubernetes API
// (in-cluster or --kubeconfig) or from a v1 List file (--cluster-file, standalone/demo mode);
// Prometheus through the shared resilience policy; the loop; the snapshot publisher; leader
// election; the JSON API and /metrics.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/http_server.h"
#include "base/json_log.h"
#include "cli/commands.h"
#include "cli/version.h"
#include "clients/http/curl_http_client.h"
#include "clients/http/resilient_http_client.h"
#include "clients/kube/cluster_config.h"
#include "clients/kube/hpa_client.h"
#include "clients/kube/lease_client.h"
#include "clients/prometheus/prometheus.h"
#include "glog/logging.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "base/memory_guard.h"
#include "reconciler/api.h"
#include "reconciler/backfill.h"
#include "reconciler/cluster.h"
#include "reconciler/config.h"
#include "reconciler/costs/report.h"
#include "reconciler/costs/routes.h"
#include "reconciler/costs/service.h"
#include "cli/alerts_wiring.h"
#include "cli/web_wiring.h"
#include "reconciler/leader.h"
#include "reconciler/loop.h"
#include "reconciler/maintenance.h"
#include "snapshot/publisher.h"
#include "storage/store.h"

ABSL_FLAG(std::string, cluster_file, "",
          "standalone mode: read Deployments, ReplicaSets, Pods, Nodes and HPAs from this v1 List "
          "JSON file (kubectl get deploy,rs,pods,nodes,hpa -A -o json), re-read when it changes, "
          "instead of the Kubernetes API; leader election is off");
ABSL_FLAG(std::string, kubeconfig, "",
          "kubeconfig for out-of-cluster runs (default: the in-cluster service account)");
ABSL_FLAG(std::string, context, "", "kubeconfig context (default: current-context)");
ABSL_FLAG(std::string, config_dir, "",
          "a ConfigMap mounted as a directory (one file per variable); re-read on SIGHUP and when "
          "it changes; overrides the environment");
ABSL_FLAG(std::string, prometheus_url, "", "overrides PROMETHEUS_URL");
ABSL_FLAG(std::string, check_interval, "", "overrides CHECK_INTERVAL (seconds or 90s, 2m)");
ABSL_FLAG(std::string, db_path, "", "overrides DB_PATH");
ABSL_FLAG(std::string, publish_address, "",
          "overrides SNAPSHOT_ADDRESS (unix:///path or loopback host:port for the adapters)");
ABSL_FLAG(std::string, api_address, "", "overrides API_ADDRESS");
ABSL_FLAG(std::string, metrics_address, "", "overrides METRICS_ADDRESS");
ABSL_FLAG(std::string, leader_elect, "", "overrides LEADER_ELECT (true/false)");
ABSL_FLAG(std::string, identity, "",
          "leader-election identity (default: $POD_NAME, else the host name)");
ABSL_FLAG(int, cycles, 0, "stop after this many cycles (0: run until SIGTERM/SIGINT)");
ABSL_FLAG(bool, list, false, "check-config: print the variables table (Markdown) and exit");

namespace cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void OnSignal(int sig) {
  if (sig == SIGHUP) {
    g_reload = true;
  } else {
    g_stop = true;
  }
}

// Environment, then the ConfigMap directory, then flags.
std::map<std::string, std::string> GatherVariables(std::vector<std::string>* problems) {
  std::map<std::string, std::string> vars = reconciler::EnvironmentVariables();
  std::string dir = absl::GetFlag(FLAGS_config_dir);
  if (!dir.empty()) {
    auto from_dir = reconciler::ReadConfigDir(dir);
    if (!from_dir.ok()) {
      problems->push_back(std::string(from_dir.status().message()));
    } else {
      for (const auto& [k, v] : *from_dir) vars[k] = v;
    }
  }
  const std::pair<const char*, std::string> flags[] = {
      {"PROMETHEUS_URL", absl::GetFlag(FLAGS_prometheus_url)},
      {"CHECK_INTERVAL", absl::GetFlag(FLAGS_check_interval)},
      {"DB_PATH", absl::GetFlag(FLAGS_db_path)},
      {"SNAPSHOT_ADDRESS", absl::GetFlag(FLAGS_publish_address)},
      {"API_ADDRESS", absl::GetFlag(FLAGS_api_address)},
      {"METRICS_ADDRESS", absl::GetFlag(FLAGS_metrics_address)},
      {"LEADER_ELECT", absl::GetFlag(FLAGS_leader_elect)},
  };
  for (const auto& [name, value] : flags) {
    if (!value.empty()) vars[name] = value;
  }
  return vars;
}

reconciler::ConfigResult Load() {
  std::vector<std::string> problems;
  auto vars = GatherVariables(&problems);
  reconciler::ConfigResult r = reconciler::LoadConfig(vars);
  r.problems.insert(r.problems.begin(), problems.begin(), problems.end());
  return r;
}

void ApplyLogLevel(const reconciler::Config& c) {
  if (c.log_level == "DEBUG") {
    FLAGS_minloglevel = 0;
    FLAGS_v = 1;
  } else if (c.log_level == "INFO") {
    FLAGS_minloglevel = 0;
  } else if (c.log_level == "WARNING") {
    FLAGS_minloglevel = 1;
  } else {
    FLAGS_minloglevel = 2;
  }
}

class PatcherAdapter : public reconciler::HpaPatcher {
 public:
  PatcherAdapter(clients::kube::HpaClient* hpas, std::function<bool()> leading)
      : hpas_(hpas), leading_(std::move(leading)) {}
  absl::Status PatchCpuTarget(const std::string& ns, const std::string& hpa, int index,
                              int32_t expected, int32_t target) override {
    if (!leading_()) return absl::OkStatus();  // only the leader writes
    LOG(INFO) << "patching HPA " << ns << "/" << hpa << " cpu averageUtilization " << expected
              << " -> " << target;
    return hpas_->PatchCpuUtilization(ns, hpa, index, expected, target);
  }

 private:
  clients::kube::HpaClient* const hpas_;
  std::function<bool()> leading_;
};

// The overview's anomaly counts from the anomaly log: open now, and started in the last 24 h.
absl::StatusOr<std::map<std::string, costs::AnomalyCounts>> AnomalyCountsOf(
    const AlertRunner& alerts, absl::Time now) {
  absl::StatusOr<std::vector<reconciler::alerts::Transition>> all =
      alerts.ActiveSince(now - absl::Hours(24));
  if (!all.ok()) return all.status();
  std::map<std::string, costs::AnomalyCounts> out;
  for (const reconciler::alerts::Transition& t : *all) {
    costs::AnomalyCounts& c = out[absl::StrCat(t.namespace_name, "/", t.deployment)];
    if (t.end == absl::InfiniteFuture()) ++c.active;
    if (t.start >= now - absl::Hours(24)) ++c.started_24h;
  }
  return out;
}

std::string Identity() {
  std::string id = absl::GetFlag(FLAGS_identity);
  if (!id.empty()) return id;
  if (const char* pod = getenv("POD_NAME"); pod != nullptr && *pod) return pod;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "-", getpid());
}

}  // namespace

int CheckConfigMain(const std::vector<std::string>&) {
  if (absl::GetFlag(FLAGS_list)) {
    std::cout << "| variable | default | range | meaning |\n|---|---|---|---|\n";
    for (const reconciler::VariableDoc& d : reconciler::ConfigVariables()) {
      // GitHub splits table cells on '|' even inside backticks.
      std::cout << "| `" << absl::StrReplaceAll(d.name, {{"|", "\\|"}}) << "` | " << (*d.default_value ? d.default_value : "")
                << " | " << d.range << " | " << d.meaning << " |\n";
    }
    return 0;
  }
  reconciler::ConfigResult r = Load();
  if (r.problems.empty()) {
    if (absl::Status s = CheckAlertChannels(r.config.alert_channel_vars); !s.ok()) {
      for (absl::string_view line : absl::StrSplit(s.message(), '\n')) {
        r.problems.push_back(absl::StrCat("alerts: ", line));
      }
    }
  }
  if (!r.problems.empty()) {
    for (const std::string& p : r.problems) std::cerr << "config: " << p << "\n";
    std::cerr << r.problems.size() << " problem(s); see 'smart-autoscaler check-config --list'\n";
    return 2;
  }
  std::cout << reconciler::DescribeConfig(r.config) << "config OK\n";
  return 0;
}

// The memory guard's and the backups' figures on /metrics (refreshed once a cycle). The
// counts since start are gauges (cumulative), as the maintenance thread keeps them.
class MaintenanceGauges {
 public:
  template <typename MakeGauge>
  explicit MaintenanceGauges(MakeGauge gauge)
      : working_set_(gauge("smart_autoscaler_memory_working_set_bytes",
                           "Working set of the container (cgroup usage minus inactive file "
                           "cache).")),
        limit_(gauge("smart_autoscaler_memory_limit_bytes", "The container's memory limit.")),
        level_(gauge("smart_autoscaler_memory_level",
                     "Memory level: 0 unknown, 1 ok, 2 warning, 3 critical (refits paused).")),
        transitions_(gauge("smart_autoscaler_memory_level_transitions",
                           "Changes of memory level since start (cumulative).")),
        warnings_(gauge("smart_autoscaler_memory_warning_checks",
                        "Memory checks at warning level since start (cumulative).")),
        backups_(gauge("smart_autoscaler_backups", "Periodic store backups written (cumulative).")),
        backup_failures_(gauge("smart_autoscaler_backup_failures",
                               "Periodic store backups that failed (cumulative).")) {}

  void Export(const reconciler::MaintenanceStats& m) {
    const base::MemoryReading& mem = m.memory;
    if (mem.working_set_bytes) working_set_->Set(static_cast<double>(*mem.working_set_bytes));
    if (mem.limit_bytes) limit_->Set(static_cast<double>(*mem.limit_bytes));
    level_->Set(static_cast<double>(static_cast<int>(mem.level)));
    transitions_->Set(static_cast<double>(m.level_transitions));
    warnings_->Set(static_cast<double>(m.warning_checks));
    backups_->Set(static_cast<double>(m.backups));
    backup_failures_->Set(static_cast<double>(m.backup_failures));
  }

 private:
  prometheus::Gauge *working_set_, *limit_, *level_, *transitions_, *warnings_, *backups_,
      *backup_failures_;
};

// The background backfiller's progress on /metrics (refreshed once a cycle): deployments by
// state, and its range queries since start as cumulative gauges, as the maintenance figures.
class BackfillGauges {
 public:
  explicit BackfillGauges(prometheus::Registry* registry)
      : deployments_(prometheus::BuildGauge()
                         .Name("smart_autoscaler_backfill_deployments")
                         .Help("Deployments of the start-up backfill by state: pending, done "
                               "(history loaded) or failed (left to the per-cycle loader).")
                         .Register(*registry)),
        pending_(&deployments_.Add({{"state", "pending"}})),
        done_(&deployments_.Add({{"state", "done"}})),
        failed_(&deployments_.Add({{"state", "failed"}})),
        queries_(Gauge(registry, "smart_autoscaler_backfill_queries",
                       "Grouped range queries the backfiller ran (cumulative).")),
        query_errors_(Gauge(registry, "smart_autoscaler_backfill_query_errors",
                            "Backfill range queries that failed (cumulative).")),
        throttled_(Gauge(registry, "smart_autoscaler_backfill_throttled",
                         "Backfill queries that waited for BACKFILL_QUERIES_PER_SECOND "
                         "(cumulative).")) {}

  void Export(const reconciler::BackfillProgress& p) {
    pending_->Set(static_cast<double>(p.pending));
    done_->Set(static_cast<double>(p.loaded));
    failed_->Set(static_cast<double>(p.failed));
    queries_->Set(static_cast<double>(p.queries));
    query_errors_->Set(static_cast<double>(p.query_errors));
    throttled_->Set(static_cast<double>(p.throttled));
  }

 private:
  static prometheus::Gauge* Gauge(prometheus::Registry* r, const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*r).Add({});
  }
  prometheus::Family<prometheus::Gauge>& deployments_;
  prometheus::Gauge *pending_, *done_, *failed_, *queries_, *query_errors_, *throttled_;
};

int ReconcilerMain(const std::vector<std::string>&) {
  reconciler::ConfigResult loaded = Load();
  if (!loaded.problems.empty()) {
    for (const std::string& p : loaded.problems) std::cerr << "config: " << p << "\n";
    return 2;
  }
  reconciler::Config config = loaded.config;
  ApplyLogLevel(config);
  if (config.log_format == "json") base::InstallJsonLogging();
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  base::Env* env = &base::RealEnv();
  const base::Clock* clock = env;
  base::Sleeper* sleeper = env;
  // Every exported metric of this process; /metrics serves it with the per-deployment gauges.
  prometheus::Registry registry;
  auto gauge = [&registry](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  auto counter = [&registry](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  };

  // Store: degraded (no local history) rather than down when it cannot be opened.
  std::unique_ptr<storage::Store> store;
  prometheus::Gauge* store_available =
      gauge("smart_autoscaler_store_available", "1 when the RocksDB store is open.");
  {
    storage::Options so;
    so.path = config.db_path;
    so.retention = config.retention;
    auto opened = storage::OpenRocksStore(so);
    if (opened.ok()) {
      store = std::move(*opened);
    } else {
      LOG(ERROR) << "store " << config.db_path << ": " << opened.status()
                 << "; running without local history (forecasts backfill from Prometheus)";
    }
    store_available->Set(store ? 1 : 0);
  }

  // Prometheus through the shared resilience policy.
  clients::http::CurlOptions prom_curl;
  auto prom_transport = clients::http::MakeCurlHttpClient(prom_curl);
  clients::http::ResilienceOptions ro;
  ro.rate_per_second = config.prometheus_rate_limit;
  // Half-open after 60 s, or after one check interval when that is shorter: cycles are already
  // spaced out, so the next cycle's first query is the probe and values return within one cycle
  // of Prometheus coming back instead of up to a minute later.
  ro.breaker.open_duration = std::min(absl::Seconds(60), config.check_interval);
  clients::http::ResilientHttpClient prom_http(prom_transport.get(), ro, clock, sleeper,
                                               "prometheus");
  clients::prometheus::ClientOptions po;
  po.base_url = config.prometheus_url;
  po.bearer_token = config.prometheus_bearer_token;
  po.headers = config.prometheus_headers;
  po.timeout = config.prometheus_timeout;
  auto prom = clients::prometheus::MakePrometheusClient(po, &prom_http);

  // The cluster.
  // Declared before the cluster source, so its informers stop before these are destroyed.
  std::unique_ptr<clients::http::StreamingHttpClient> kube_stream;
  std::unique_ptr<clients::http::HttpClient> kube_http;
  std::unique_ptr<clients::kube::LeaseClient> leases;
  std::unique_ptr<clients::kube::HpaClient> hpas;
  std::unique_ptr<reconciler::ClusterSource> cluster;
  std::string cluster_file = absl::GetFlag(FLAGS_cluster_file);
  bool standalone = !cluster_file.empty();
  if (standalone) {
    cluster = reconciler::MakeFileClusterSource(cluster_file);
    config.leader_elect = false;
  } else {
    absl::StatusOr<clients::kube::ClusterConfig> kc =
        absl::GetFlag(FLAGS_kubeconfig).empty()
            ? clients::kube::InClusterConfig()
            : clients::kube::LoadKubeconfig(absl::GetFlag(FLAGS_kubeconfig),
                                            absl::GetFlag(FLAGS_context));
    if (!kc.ok()) {
      std::cerr << "kubernetes: " << kc.status().message()
                << "\n  (not in a Pod? pass --kubeconfig, or --cluster-file for standalone mode)\n";
      return 2;
    }
    kube_stream = clients::kube::MakeStreamingHttpClient(*kc);
    kube_http = clients::kube::MakeHttpClient(*kc);
    reconciler::InformerClusterOptions io;
    io.requests_per_second = config.k8s_api_rate_limit;
    cluster = reconciler::MakeInformerClusterSource(kube_stream.get(), *kc, clock, sleeper, io);
    leases = std::make_unique<clients::kube::LeaseClient>(kube_http.get(), *kc);
    hpas = std::make_unique<clients::kube::HpaClient>(kube_http.get(), *kc);
  }

  absl::StatusOr<std::unique_ptr<AlertRunner>> alerts = MakeAlertRunner(
      config.alert_channel_vars, config.check_interval, clock, &registry, store.get());
  if (!alerts.ok()) {
    PrintError(std::cerr, "alerts", alerts.status().message());
    return 2;
  }

  // Leadership: the publisher serves adapters only while leading.
  std::atomic<bool> leading{!config.leader_elect};
  snapshot::Publisher publisher(clock);
  if (absl::Status s = publisher.Start(config.snapshot_address); !s.ok()) {
    std::cerr << "snapshot stream " << config.snapshot_address << ": " << s.message() << "\n";
    return 1;
  }
  prometheus::Gauge* leader_gauge =
      gauge("smart_autoscaler_leader", "1 while this replica holds the Lease.");
  // Every replica computes and serves its adapter; the Lease decides side effects only: legacy
  // HPA patches (PatcherAdapter), alerts (AlertRunner) and whatever else must happen once per
  // cluster, through on_leadership.
  publisher.SetLeader(true);
  leader_gauge->Set(leading ? 1 : 0);
  auto on_leadership = [&](bool l) {
    leading = l;
    leader_gauge->Set(l ? 1 : 0);
    LOG(INFO) << (l ? "leading: this replica sends alerts and patches HPAs (legacy mode)"
                    : "not leading: serving only, no alerts or HPA patches");
  };
  std::unique_ptr<reconciler::LeaderElector> elector;
  std::thread election;
  std::atomic<bool> election_stop{false};
  if (config.leader_elect) {
    reconciler::LeaderElectionOptions lo;
    lo.namespace_name = config.operator_namespace;
    lo.name = config.lease_name;
    lo.identity = Identity();
    elector = std::make_unique<reconciler::LeaderElector>(leases.get(), env, lo);
    election = std::thread([&] {
      elector->Run(&election_stop, on_leadership);
    });
  }

  std::unique_ptr<PatcherAdapter> patcher;
  if (hpas) patcher = std::make_unique<PatcherAdapter>(hpas.get(), [&] { return leading.load(); });
  reconciler::Reconciler loop(config, cluster.get(), prom.get(), store.get(), clock,
                              patcher.get());
  // The anomaly detectors start from each deployment's loaded week, not from nothing.
  loop.SetHistoryObserver([&alerts](const std::string& ns, const std::string& name,
                                    const std::vector<std::pair<absl::Time, double>>& points) {
    (*alerts)->SeedHistory(ns, name, points);
  });
  // Costs: the prices in force (PRICING_FILE re-read every cycle), the store read for the cost
  // routes, the /metrics cost gauges and the weekly report.
  costs::PriceSource prices({config.cost_per_vcpu_hour, config.cost_per_gb_memory_hour});
  if (absl::Status s = prices.Reload({config.cost_per_vcpu_hour, config.cost_per_gb_memory_hour},
                                     config.pricing_file);
      !s.ok()) {
    PrintError(std::cerr, "config", s.message());
    return 2;
  }
  loop.SetPrices(prices.Get());
  costs::CostService cost_service(store.get(), [&prices] { return prices.Get(); });
  // The cold start: every deployment's week loaded in the background under its own budget,
  // outside the cycle (a restart applies a changed BACKFILL_QUERIES_PER_SECOND).
  std::unique_ptr<reconciler::Backfiller> backfiller;
  std::unique_ptr<BackfillGauges> backfill_gauges;
  if (config.backfill_queries_per_second > 0 && config.enable_predictive) {
    reconciler::BackfillOptions bo;
    bo.queries_per_second = config.backfill_queries_per_second;
    backfiller = std::make_unique<reconciler::Backfiller>(prom.get(), clock, bo);
    loop.SetBackfiller(backfiller.get());
    backfill_gauges = std::make_unique<BackfillGauges>(&registry);
  } else {
    LOG(INFO) << "background backfill off; new deployments load " << config.backfills_per_cycle
              << " histories per cycle";
  }

  // Memory guard and periodic backups, off the cycle thread.
  base::MemoryGuardOptions mgo;
  mgo.warning = config.memory_warning_threshold;
  mgo.critical = config.memory_critical_threshold;
  base::MemoryGuard memory_guard(mgo);
  reconciler::MaintenanceOptions mo;
  mo.memory_check_interval = config.memory_check_interval;
  mo.backup_dir = config.backup_dir;
  mo.backup_interval = config.backup_interval;
  mo.backup_retention = config.backup_retention;
  reconciler::Maintenance maintenance(
      mo, &memory_guard, store.get(), [&](bool paused) { loop.SetRefitsPaused(paused); }, clock);
  maintenance.Start();
  MaintenanceGauges maintenance_gauges(gauge);

  reconciler::StatusView view;
  view.reconciler = &loop;
  view.is_leader = [&] { return leading.load(); };
  view.describe = [&] { return cluster->Describe(); };
  absl::Mutex config_text_mu;
  std::string config_text = reconciler::DescribeConfig(config);
  view.config_text = [&] {
    absl::MutexLock lock(&config_text_mu);
    return config_text;
  };
  view.version = kVersion;
  view.metrics = &registry;
  view.backfiller = backfiller.get();
  base::HttpServerOptions server_options;
  server_options.metrics = &registry;
  base::HttpServer api_server(server_options), metrics_server(server_options);
  costs::AddCostRoutes(
      &view, &api_server, &cost_service, clock,
      {.max_window = config.retention,
       .anomaly_counts = [&alerts](absl::Time now) { return AnomalyCountsOf(**alerts, now); }});
  (*alerts)->AddRoutes(&view);  // "anomalies"
  const reconciler::web::WebOptions web = MakeWebOptions(
      store.get(), &prom_http, cluster.get(), &publisher, &loop, clock, config.check_interval);
  reconciler::web::AddDeploymentResources(&view, &web);
  reconciler::RegisterApi(&api_server, &view);
  reconciler::web::RegisterPage(&api_server, &view, &web);
  // The same fixed address for both: one server serves the API and /metrics. (Port 0 means
  // "any free port", so two such addresses are two servers.)
  const bool shared = config.metrics_address == config.api_address &&
                      !absl::EndsWith(config.api_address, ":0");
  if (shared) {
    reconciler::RegisterMetrics(&api_server, &view, /*with_healthz=*/false);
  } else {
    reconciler::RegisterMetrics(&metrics_server, &view);
  }
  if (absl::Status s = api_server.Start(config.api_address); !s.ok()) {
    std::cerr << "API_ADDRESS " << config.api_address << ": " << s.message() << "\n";
    return 1;
  }
  if (!shared) {
    if (absl::Status s = metrics_server.Start(config.metrics_address); !s.ok()) {
      std::cerr << "METRICS_ADDRESS " << config.metrics_address << ": " << s.message() << "\n";
      return 1;
    }
  }
  LOG(INFO) << "reconciler " << kVersion << ": cluster " << cluster->Describe() << ", prometheus "
            << config.prometheus_url << ", every " << absl::FormatDuration(config.check_interval)
            << ", snapshots on " << config.snapshot_address << ", API on :" << api_server.port()
            << ", metrics on :" << (shared ? api_server.port() : metrics_server.port());

  prometheus::Gauge* retries = gauge("smart_autoscaler_prometheus_client_retries",
                                     "Retries of Prometheus requests (cumulative).");
  prometheus::Gauge* breaker = gauge("smart_autoscaler_prometheus_breaker_open",
                                     "1 while the Prometheus circuit breaker is open.");
  prometheus::Gauge* limited = gauge("smart_autoscaler_prometheus_rate_limited",
                                     "Prometheus requests that waited for the rate limit "
                                     "(cumulative).");
  prometheus::Counter* reloads = counter("smart_autoscaler_config_reloads_total",
                                         "Configuration reloads (SIGHUP or a changed ConfigMap).");
  prometheus::Counter* reload_errors =
      counter("smart_autoscaler_config_reload_errors_total",
              "Reloads refused because the new config is invalid.");
  auto& informer_ops =
      prometheus::BuildGauge()
          .Name("smart_autoscaler_kubernetes_informer_ops")
          .Help("Kubernetes informer operations since start, by kind (cumulative).")
          .Register(registry);
  reconciler::CycleMetrics cycle_metrics(&registry);
  costs::CostMetrics cost_metrics(&registry);
  costs::WeeklyReportSender weekly_report(
      &cost_service, [&](const clients::webhook::Alert& a) { (*alerts)->Notify(a); },
      config.cost_report_interval);
  prometheus::Counter* budget_capped =
      counter("smart_autoscaler_budget_capped_total",
              "Deployment cycles whose forecast headroom the monthly budget capped.");
  prometheus::Counter* pricing_errors =
      counter("smart_autoscaler_pricing_reload_errors_total",
              "PRICING_FILE re-reads refused (unreadable or invalid; the prices in force stay).");
  std::string pricing_error;  // the last one logged

  // Informers: wait for the first LIST of every kind (up to 2 minutes) so the first cycle sees
  // the whole cluster; the cycle itself also copes with an unsynced source.
  if (!standalone) {
    const absl::Time deadline = env->Now() + absl::Minutes(2);
    while (!g_stop && env->Now() < deadline && !cluster->Snapshot().ok()) {
      env->SleepFor(absl::Milliseconds(200));
    }
    LOG(INFO) << "cluster view: " << (cluster->Snapshot().ok() ? "synced" : "not synced yet");
  }

  std::vector<std::string> dir_problems;
  std::map<std::string, std::string> last_vars = GatherVariables(&dir_problems);
  int cycles = 0;
  const int max_cycles = absl::GetFlag(FLAGS_cycles);
  while (!g_stop) {
    // Hot reload: SIGHUP or a changed ConfigMap directory.
    std::vector<std::string> problems;
    std::map<std::string, std::string> vars = GatherVariables(&problems);
    if (g_reload.exchange(false) || vars != last_vars) {
      last_vars = vars;
      reconciler::ConfigResult r = reconciler::LoadConfig(vars);
      r.problems.insert(r.problems.end(), problems.begin(), problems.end());
      if (!r.problems.empty()) {
        for (const std::string& p : r.problems) LOG(ERROR) << "config reload refused: " << p;
        reload_errors->Increment();
      } else {
        r.config.leader_elect = config.leader_elect;  // addresses and election need a restart
        r.config.snapshot_address = config.snapshot_address;
        r.config.api_address = config.api_address;
        r.config.metrics_address = config.metrics_address;
        config = r.config;
        ApplyLogLevel(config);
        loop.UpdateConfig(config);
        {
          absl::MutexLock lock(&config_text_mu);
          config_text = reconciler::DescribeConfig(config);
        }
        reloads->Increment();
        LOG(INFO) << "config reloaded";
      }
    }
    if (absl::Status s = prices.Reload({config.cost_per_vcpu_hour, config.cost_per_gb_memory_hour},
                                       config.pricing_file);
        !s.ok()) {
      pricing_errors->Increment();
      if (s.message() != pricing_error) LOG(ERROR) << "pricing reload refused: " << s.message();
      pricing_error = std::string(s.message());
    } else {
      pricing_error.clear();
    }
    loop.SetPrices(prices.Get());
    reconciler::CycleReport report = loop.RunCycle();
    cycle_metrics.Record(report);
    budget_capped->Increment(report.budget_capped);
    if (absl::Status s = cost_metrics.MaybeRefresh(&cost_service, env->Now()); !s.ok()) {
      LOG(WARNING) << "cost gauges not refreshed: " << s.message();
    }
    if (absl::Status s = weekly_report.AfterCycle(env->Now(), leading.load()); !s.ok()) {
      LOG(WARNING) << "weekly cost report not sent: " << s.message();
    }
    publisher.Publish(loop.Table());
    (*alerts)->AfterCycle(loop.Statuses(), leading.load());
    clients::http::ResilienceStats rs = prom_http.stats();
    retries->Set(static_cast<double>(rs.retries));
    limited->Set(static_cast<double>(rs.rate_limited));
    breaker->Set(prom_http.breaker_state() == clients::http::CircuitBreaker::State::kOpen ? 1 : 0);
    const reconciler::ClusterSourceStats ks = cluster->Stats();
    for (const auto& [name, value] :
         std::vector<std::pair<const char*, int64_t>>{{"list", ks.lists},
                                                      {"relist", ks.relists},
                                                      {"watch", ks.watches},
                                                      {"event", ks.events},
                                                      {"error", ks.errors},
                                                      {"backoff", ks.backoffs},
                                                      {"parse_error", ks.parse_errors},
                                                      {"rate_limited", ks.rate_limited}}) {
      informer_ops.Add({{"kind", name}}).Set(static_cast<double>(value));
    }
    maintenance_gauges.Export(maintenance.stats());
    if (backfiller) backfill_gauges->Export(backfiller->progress());
    if (max_cycles > 0 && ++cycles >= max_cycles) break;
    const absl::Time next = env->Now() + config.check_interval;
    while (!g_stop && !g_reload && env->Now() < next) env->SleepFor(absl::Milliseconds(100));
  }

  // Graceful shutdown: well within 10 s.
  LOG(INFO) << "reconciler stopping";
  maintenance.Stop();
  backfiller.reset();  // stops its thread before the Prometheus client goes
  election_stop = true;
  if (election.joinable()) election.join();  // releases the Lease
  publisher.Stop();
  api_server.Stop();
  metrics_server.Stop();
  cluster.reset();  // stops the informers (ends their watches)
  store.reset();    // flushes RocksDB
  LOG(INFO) << "reconciler stopped";
  return 0;
}

}  // namespace cli
