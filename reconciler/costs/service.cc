// CostService: the store-reading half of costs (the pure half is costs.h).
#include "reconciler/costs/service.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace costs {
namespace {

constexpr absl::Duration kRightsizingWindow = absl::Hours(24 * 8);

absl::optional<storage::SeriesId> Find(const std::map<std::string, storage::SeriesId>& series,
                                       const char* metric) {
  auto it = series.find(metric);
  if (it == series.end()) return absl::nullopt;
  return it->second;
}

// Measured usage over [from, to): hourly rollups (one span per hour) for long windows, else raw
// samples, each holding until the next for at most `max_gap`. *last: when the deployment was
// last measured: its newest raw sample in the window plus max_gap (at most `to`), or `to` when
// its last rollup is the window's last hour; InfinitePast when neither (the caller then asks
// the store).
std::vector<UsageSpan> ReadUsage(const storage::Store& store,
                                 const std::map<std::string, storage::SeriesId>& series,
                                 absl::Time from, absl::Time to, const ServiceOptions& o,
                                 absl::Time* last) {
  *last = absl::InfinitePast();
  auto cpu_id = Find(series, kCpuDemandMetric);
  if (!cpu_id) return {};
  auto mem_id = Find(series, kMemoryWorkingSetMetric);
  if (to - from > o.raw_up_to) {
    auto cpu = store.ScanRollups(*cpu_id, from, to);
    if (!cpu.ok()) return {};
    if (!cpu->empty() && cpu->back().start + absl::Hours(1) >= to) *last = to;
    std::vector<storage::Rollup> mem;
    if (mem_id) {
      auto m = store.ScanRollups(*mem_id, from, to);
      if (m.ok()) mem = std::move(*m);
    }
    // Both come oldest first: a merge join, not a map.
    std::vector<UsageSpan> out;
    out.reserve(cpu->size());
    size_t j = 0;
    for (const storage::Rollup& r : *cpu) {
      while (j < mem.size() && mem[j].start < r.start) ++j;
      absl::optional<double> m;
      if (j < mem.size() && mem[j].start == r.start) m = mem[j].mean();
      out.push_back({r.start, absl::Hours(1), r.mean(), m});
    }
    return out;
  }
  auto cpu = store.Scan(*cpu_id, from, to);
  if (!cpu.ok()) return {};
  // The newest sample holds for up to max_gap, as in SpansFromPoints.
  if (!cpu->empty()) *last = std::min(to, cpu->back().time + o.max_gap);
  std::vector<storage::Sample> mem;
  if (mem_id) {
    auto m = store.Scan(*mem_id, from, to);
    if (m.ok()) mem = std::move(*m);
  }
  std::vector<UsagePoint> points;
  points.reserve(cpu->size());
  size_t j = 0;
  for (const storage::Sample& s : *cpu) {
    while (j < mem.size() && mem[j].time < s.time) ++j;
    absl::optional<double> m;
    if (j < mem.size() && mem[j].time == s.time) m = mem[j].value;
    points.push_back({s.time, s.value, m});
  }
  return SpansFromPoints(points, o.max_gap);
}

// Pods alive at a time, from the lifetimes.
class PodCounter {
 public:
  explicit PodCounter(const std::vector<PodLifetime>& pods) {
    for (const auto& p : pods) {
      starts_.push_back(p.start);
      ends_.push_back(p.end);
    }
    std::sort(starts_.begin(), starts_.end());
    std::sort(ends_.begin(), ends_.end());
  }
  int At(absl::Time t) const {
    return static_cast<int>(
        (std::upper_bound(starts_.begin(), starts_.end(), t) - starts_.begin()) -
        (std::upper_bound(ends_.begin(), ends_.end(), t) - ends_.begin()));
  }

 private:
  std::vector<absl::Time> starts_, ends_;
};

// Right-sizing from the last 8 days of raw samples, per pod.
Rightsizing Rightsize(const storage::Store& store,
                      const std::map<std::string, storage::SeriesId>& series,
                      const std::vector<PodLifetime>& lives, absl::Time to,
                      const PodLifetime& newest, double average_pods, const Prices& prices) {
  RightsizingInput in;
  in.now = to;
  in.cpu_request_millicores = newest.cpu_request_millicores;
  in.memory_request_bytes = newest.memory_request_bytes;
  in.average_pods = average_pods;
  in.prices = prices;
  const PodCounter pods(lives);
  const absl::Time from = to - kRightsizingWindow;
  std::vector<storage::Sample> censored;
  if (auto id = Find(series, kCpuCensoredMetric)) {
    auto c = store.Scan(*id, from, to);
    if (c.ok()) censored = std::move(*c);
  }
  if (auto id = Find(series, kCpuDemandMetric)) {
    auto s = store.Scan(*id, from, to);
    if (s.ok()) {
      size_t j = 0;
      for (const storage::Sample& x : *s) {
        while (j < censored.size() && censored[j].time < x.time) ++j;
        const bool at_limit =
            j < censored.size() && censored[j].time == x.time && censored[j].value >= 0.5;
        const int n = pods.At(x.time);
        if (n > 0) in.cpu.push_back({x.time, x.value / n, at_limit});
      }
    }
  }
  if (auto id = Find(series, kMemoryWorkingSetMetric)) {
    auto s = store.Scan(*id, from, to);
    if (s.ok()) {
      for (const storage::Sample& x : *s) {
        const int n = pods.At(x.time);
        if (n > 0) in.memory.push_back({x.time, x.value / n});
      }
    }
  }
  return RecommendRequests(in);
}

absl::Status NoStore() {
  return absl::UnavailableError("the cost store is not open (the reconciler runs without one)");
}

}  // namespace

CostService::CostService(const storage::Store* store, std::function<PriceTable()> prices,
                         ServiceOptions options)
    : store_(store), prices_(std::move(prices)), options_(options) {}

int CostService::bad_records() const {
  absl::MutexLock lock(&mu_);
  return bad_;
}

CostService::Indexed& CostService::Entry(absl::string_view ns, absl::string_view name) {
  key_scratch_.assign(ns.data(), ns.size());
  key_scratch_.push_back('\0');
  key_scratch_.append(name.data(), name.size());
  auto it = by_key_.find(key_scratch_);
  if (it != by_key_.end()) return *it->second;
  Indexed& d = index_[{std::string(ns), std::string(name)}];
  d.ns = std::string(ns);
  d.name = std::string(name);
  by_key_.emplace(key_scratch_, &d);
  return d;
}

void CostService::RefreshSeries() {
  for (const auto& [id, key] : store_->ListSeries()) {
    if (!key.labels.empty()) continue;
    Entry(key.namespace_name, key.deployment).series[key.metric] = id;
  }
}

absl::Status CostService::Refresh() {
  if (store_ == nullptr) return NoStore();
  RefreshSeries();
  const bool first = scanned_until_ == absl::InfinitePast();
  // The whole log the first time, then from a little before the previous read's newest record
  // (an ended pod's record is dated at its end, before the cycle that wrote it). One record at
  // a time, never a vector of them (246,000 records for 1,000 deployments x 30 days).
  const absl::Time from =
      first ? absl::InfinitePast() : scanned_until_ - options_.rescan_overlap;
  absl::Time read_until = scanned_until_;
  absl::Status s = store_->ForEachEvent(
      storage::EventLog::kPodLifetimes, from, absl::InfiniteFuture(),
      [&](absl::Time t, absl::string_view payload) {
        read_until = std::max(read_until, t);
        Index(t, payload, first);
      });
  if (!s.ok()) {
    return absl::UnavailableError(absl::StrCat("reading the pod-lifetime log: ", s.message()));
  }
  scanned_until_ = read_until;
  return absl::OkStatus();
}

void CostService::Index(absl::Time time, absl::string_view payload, bool first) {
  DecodedLifetime& d = decoded_;
  if (!DecodePodLifetimeInto(payload, &d).ok()) {
    // Re-read records are counted once: only those past the previous read.
    if (first || time > scanned_until_) ++bad_;
    return;
  }
  Indexed& dep = Entry(d.namespace_name, d.deployment);
  const std::pair<absl::string_view, int64_t> key{d.life.pod, absl::ToUnixMillis(d.life.start)};
  auto it = dep.pods.find(key);
  const bool fresh = it == dep.pods.end();
  if (fresh) it = dep.pods.try_emplace(PodKey(d.life.pod, key.second)).first;
  PodLifetime& slot = it->second;  // its name is the key's (left empty here)
  // The newest record wins; an ended record is never reopened by an older open one.
  if (fresh || slot.end == absl::InfiniteFuture() || d.life.end != absl::InfiniteFuture()) {
    // Field by field: decoded_'s strings keep their storage for the next record.
    slot.start = d.life.start;
    slot.end = d.life.end;
    slot.cpu_request_millicores = d.life.cpu_request_millicores;
    slot.memory_request_bytes = d.life.memory_request_bytes;
    slot.node = d.life.node;
    slot.pool = d.life.pool;
  }
}

DeploymentCosts CostService::Compute(const Indexed& d, absl::Time to, absl::Duration window,
                                     bool rightsizing, const PriceTable& prices,
                                     bool detail) const {
  DeploymentCosts out;
  out.namespace_name = d.ns;
  out.deployment = d.name;
  const absl::Time from = to - window;
  absl::Time last;
  std::vector<UsageSpan> usage = ReadUsage(*store_, d.series, from, to, options_, &last);
  if (last == absl::InfinitePast()) {
    // Nothing measured near the window's end: the deployment's newest sample, wherever it is.
    last = to;
    if (auto id = Find(d.series, kCpuDemandMetric)) {
      if (auto s = store_->Latest(*id); s.ok()) last = std::min(to, s->time);
    }
  }
  // In (pod, start) order: the order the prices are summed in, and the tie-break of `newest`.
  std::vector<const std::pair<const PodKey, PodLifetime>*> order;
  order.reserve(d.pods.size());
  for (const auto& entry : d.pods) order.push_back(&entry);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const int c = a->first.first.compare(b->first.first);
    return c < 0 || (c == 0 && a->first.second < b->first.second);
  });
  std::vector<PodLifetime> pods;
  pods.reserve(order.size());
  const PodLifetime* newest = nullptr;
  for (const auto* entry : order) {
    const PodLifetime& life = entry->second;
    if (newest == nullptr || life.start > newest->start) newest = &life;
    if (detail) {
      pods.push_back(life);
      pods.back().pod = entry->first.first;
    } else {
      // What the prices and the pod count read: no copy of the pod's and node's names.
      PodLifetime& p = pods.emplace_back();
      p.start = life.start;
      p.cpu_request_millicores = life.cpu_request_millicores;
      p.memory_request_bytes = life.memory_request_bytes;
      p.pool = life.pool;
    }
    pods.back().end = std::min(life.end, last);
  }
  if (newest != nullptr) {
    out.cpu_request_millicores = newest->cpu_request_millicores;
    out.memory_request_bytes = newest->memory_request_bytes;
    out.pool = newest->pool;
  }
  out.cost = ComputeCost(pods, usage, from, to, prices);
  if (rightsizing && newest != nullptr) {
    out.rightsizing = Rightsize(*store_, d.series, pods, to, *newest,
                                out.cost.pod_hours / absl::ToDoubleHours(window),
                                prices.For(newest->pool));
  } else {
    out.rightsizing.cpu.note = out.rightsizing.memory.note = "not computed";
  }
  if (detail) {
    out.pods = std::move(pods);
    out.usage = std::move(usage);
  }
  return out;
}

absl::StatusOr<DeploymentCosts> CostService::Deployment(absl::string_view namespace_name,
                                                        absl::string_view deployment,
                                                        absl::Time to, absl::Duration window,
                                                        bool rightsizing, bool detail) {
  Indexed d;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Refresh(); !s.ok()) return s;
    auto it = index_.find({std::string(namespace_name), std::string(deployment)});
    if (it == index_.end() || it->second.pods.empty()) {
      return absl::NotFoundError(absl::StrCat("no pod of ", namespace_name, "/", deployment,
                                              " was ever recorded: no costs to report"));
    }
    d = it->second;
  }
  return Compute(d, to, window, rightsizing, prices_(), detail);
}

absl::StatusOr<std::vector<DeploymentCosts>> CostService::All(absl::Time to,
                                                              absl::Duration window,
                                                              bool rightsizing) {
  const PriceTable prices = prices_();
  // Computed under the lock: copying the index (every pod lifetime) would cost more than the
  // computation; other cost requests wait meanwhile.
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Refresh(); !s.ok()) return s;
  std::vector<DeploymentCosts> out;
  out.reserve(index_.size());
  for (const auto& [key, d] : index_) {
    if (!d.pods.empty()) out.push_back(Compute(d, to, window, rightsizing, prices));
  }
  return out;
}

absl::StatusOr<absl::Time> CostService::NewestCycle() {
  std::vector<storage::SeriesId> ids;
  {
    absl::MutexLock lock(&mu_);
    if (store_ == nullptr) return NoStore();
    RefreshSeries();
    for (const auto& [key, d] : index_) {
      if (auto id = Find(d.series, kCpuDemandMetric)) ids.push_back(*id);
    }
  }
  absl::Time newest = absl::InfinitePast();
  for (storage::SeriesId id : ids) {
    if (auto s = store_->Latest(id); s.ok()) newest = std::max(newest, s->time);
  }
  return newest;
}

absl::StatusOr<absl::Duration> ParseWindowHours(absl::string_view text, absl::Duration max) {
  double h = 0;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(text), &h) || !(h == h)) {
    return absl::InvalidArgumentError(
        absl::StrCat("hours=", text, ": not a number of hours"));
  }
  if (!(h > 0)) return absl::InvalidArgumentError(absl::StrCat("hours=", text, ": must be > 0"));
  if (absl::Hours(h) > max) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "hours=%s: more than the %g h the store keeps", std::string(text),
        absl::ToDoubleHours(max)));
  }
  return absl::Hours(h);
}

}  // namespace costs

namespace costs {

absl::Status PriceSource::Reload(Prices flat, const std::string& pricing_file) {
  std::string text;
  if (!pricing_file.empty()) {
    std::ifstream in(pricing_file);
    if (!in) return absl::NotFoundError(absl::StrCat("PRICING_FILE ", pricing_file, ": cannot read"));
    std::stringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  absl::MutexLock lock(&mu_);
  if (loaded_ && text == last_text_ && pricing_file == last_path_ &&
      flat.per_vcpu_hour == last_flat_.per_vcpu_hour && flat.per_gb_hour == last_flat_.per_gb_hour) {
    return absl::OkStatus();
  }
  absl::StatusOr<PriceTable> t =
      pricing_file.empty() ? PriceTable::Flat(flat) : PriceTable::Parse(text, flat);
  if (!t.ok()) return t.status();
  table_ = std::move(*t);
  last_text_ = std::move(text);
  last_path_ = pricing_file;
  last_flat_ = flat;
  loaded_ = true;
  return absl::OkStatus();
}

PriceTable PriceSource::Get() const {
  absl::MutexLock lock(&mu_);
  return table_;
}

}  // namespace costs
