// backfill: grouped, chunked, rate-limited range queries on a background thread.
#include "reconciler/backfill.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace reconciler {
namespace {

std::string NamespaceQuery(const std::string& ns) {
  return absl::StrCat(
      "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{namespace=\"",
      absl::StrReplaceAll(ns, {{"\\", "\\\\"}, {"\"", "\\\""}}),
      "\",container!=\"\",container!=\"POD\"}[5m]))");
}

}  // namespace

std::string DeploymentOfPod(const std::string& pod) {
  std::vector<absl::string_view> parts = absl::StrSplit(pod, '-');
  if (parts.size() < 3) return "";
  size_t cut = pod.size() - parts.back().size() - parts[parts.size() - 2].size() - 2;
  return pod.substr(0, cut);
}

std::vector<BackfillQuery> PlanBackfill(const std::vector<BackfillTarget>& targets,
                                        absl::Time now, const BackfillOptions& options) {
  std::map<std::string, int64_t> pods;  // namespace -> pods, in name order
  for (const BackfillTarget& t : targets) pods[t.namespace_name] += std::max(1, t.pods);
  const absl::Time end = absl::FromUnixSeconds(
      absl::ToUnixSeconds(now) / absl::ToInt64Seconds(options.step) *
      absl::ToInt64Seconds(options.step)) - options.step;  // last whole step's start
  const absl::Time start = end - options.window + options.step;
  std::vector<BackfillQuery> plan;
  for (const auto& [ns, n] : pods) {
    int64_t steps = std::max<int64_t>(1, options.max_points_per_query / n);
    absl::Duration chunk = options.step * steps;
    for (absl::Time from = start; from <= end; from += chunk) {
      plan.push_back({ns, NamespaceQuery(ns), from, std::min(end, from + chunk - options.step)});
    }
  }
  return plan;
}

Backfiller::Backfiller(clients::prometheus::PrometheusClient* prom, const base::Clock* clock,
                       BackfillOptions options)
    : prom_(prom), clock_(clock), options_(options), bucket_(clock, options.queries_per_second, 1) {}

Backfiller::~Backfiller() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Backfiller::Start(std::vector<BackfillTarget> targets, absl::Time now) {
  CHECK(!thread_.joinable()) << "Backfiller::Start called twice";
  std::vector<BackfillQuery> plan = PlanBackfill(targets, now, options_);
  {
    absl::MutexLock l(&mu_);
    progress_.pending = static_cast<int64_t>(targets.size());
    progress_.planned = static_cast<int64_t>(plan.size());
    progress_.started = clock_->Now();
  }
  LOG(INFO) << "backfill: " << targets.size() << " deployments, " << plan.size()
            << " grouped range queries at " << options_.queries_per_second << "/s";
  thread_ = std::thread(&Backfiller::Run, this, std::move(targets), std::move(plan));
}

bool Backfiller::RunChunk(const BackfillQuery& q,
                          std::map<std::string, std::map<absl::Time, double>>* sums) {
  for (int attempt = 0; attempt < options_.tries; ++attempt) {
    absl::Duration wait = bucket_.Reserve();
    {
      absl::MutexLock l(&mu_);
      if (wait > absl::ZeroDuration()) ++progress_.throttled;
      // Sleeps the bucket's wait, waking early to stop.
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), wait)) return false;
    }
    auto result = prom_->QueryRange(q.promql, q.from, q.to, options_.step);
    absl::MutexLock l(&mu_);
    ++progress_.queries;
    if (!result.ok()) {
      ++progress_.query_errors;
      LOG(WARNING) << "backfill " << q.namespace_name << ": " << result.status();
      continue;
    }
    for (const auto& series : *result) {
      auto pod = series.labels.find("pod");
      if (pod == series.labels.end()) continue;
      std::string deployment = DeploymentOfPod(pod->second);
      if (deployment.empty()) continue;
      for (const auto& p : series.points) {
        if (std::isfinite(p.value)) (*sums)[deployment][p.time] += p.value;
      }
    }
    return true;
  }
  return false;
}

void Backfiller::Run(std::vector<BackfillTarget> targets, std::vector<BackfillQuery> plan) {
  size_t i = 0;
  while (i < plan.size()) {
    const std::string ns = plan[i].namespace_name;
    std::map<std::string, std::map<absl::Time, double>> sums;  // deployment -> time -> cores
    bool ok = true;
    for (; i < plan.size() && plan[i].namespace_name == ns; ++i) {
      if (ok) ok = RunChunk(plan[i], &sums);
    }
    absl::MutexLock l(&mu_);
    if (stop_) return;
    for (const BackfillTarget& t : targets) {
      if (t.namespace_name != ns) continue;
      --progress_.pending;
      if (!ok) {
        ++progress_.failed;
        continue;
      }
      LoadedHistory h{t.namespace_name, t.name, {}};
      auto it = sums.find(t.name);
      if (it != sums.end()) h.points.assign(it->second.begin(), it->second.end());
      ready_.push_back(std::move(h));
      ++progress_.loaded;
    }
  }
  absl::MutexLock l(&mu_);
  progress_.finished = clock_->Now();
  LOG(INFO) << "backfill done: " << progress_.loaded << " deployments loaded, "
            << progress_.failed << " failed, " << progress_.queries << " queries ("
            << progress_.query_errors << " failed) in "
            << absl::FormatDuration(progress_.finished - progress_.started);
}

std::vector<LoadedHistory> Backfiller::TakeLoaded() {
  absl::MutexLock l(&mu_);
  std::vector<LoadedHistory> out;
  out.swap(ready_);
  return out;
}

BackfillProgress Backfiller::progress() const {
  absl::MutexLock l(&mu_);
  return progress_;
}

bool Backfiller::WaitDone(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](BackfillProgress* p) { return p->finished != absl::InfinitePast(); }, &progress_),
      timeout);
}

}  // namespace reconciler
