#include "cli/web_wiring.h"

#include "absl/strings/str_cat.h"

namespace cli {

using reconciler::web::CheckResult;

reconciler::web::WebOptions MakeWebOptions(const storage::Store* store,
                                           const clients::http::ResilientHttpClient* prom,
                                           reconciler::ClusterSource* cluster,
                                           const snapshot::Publisher* publisher,
                                           const reconciler::Reconciler* loop,
                                           const base::Clock* clock, absl::Duration interval) {
  reconciler::web::WebOptions o;
  o.store = store;
  o.clock = clock;
  o.check_interval = interval;
  o.started = clock->Now();
  o.checks.push_back({"store",
                      [store] {
                        if (store == nullptr)
                          return CheckResult{false, "not open (no local history)"};
                        auto st = store->GetStats();
                        if (!st.ok()) return CheckResult{false, std::string(st.status().message())};
                        return CheckResult{true, absl::StrCat("open, ", st->series, " series, ",
                                                              st->disk_bytes, " bytes on disk")};
                      },
                      /*required=*/false});
  o.checks.push_back(
      {"prometheus", [prom, loop, clock] {
         const bool open = prom->breaker_state() == clients::http::CircuitBreaker::State::kOpen;
         const reconciler::CycleReport c = loop->LastCycle();
         std::string last =
             c.start == absl::InfinitePast()
                 ? "no cycle yet"
                 : absl::StrCat(
                       "last cycle ", c.queries, " queries, ", c.query_failures, " failed, ",
                       absl::FormatDuration(absl::Trunc(clock->Now() - c.start, absl::Seconds(1))),
                       " ago");
         const bool all_failed = c.queries > 0 && c.query_failures == c.queries;
         return CheckResult{!open && !all_failed,
                            absl::StrCat(open ? "breaker open; " : "breaker closed; ", last)};
       }});
  o.checks.push_back({"kubernetes", [cluster] {
                        const bool synced = cluster->Snapshot().ok();
                        const reconciler::ClusterSourceStats ks = cluster->Stats();
                        return CheckResult{
                            synced, absl::StrCat(synced ? "synced" : "not synced", ", ", ks.events,
                                                 " events, ", ks.errors, " errors (",
                                                 cluster->Describe(), ")")};
                      }});
  o.checks.push_back({"snapshot_stream",
                      [publisher] {
                        return CheckResult{true, absl::StrCat(publisher->Stats().connected_streams,
                                                              " adapters connected")};
                      },
                      /*required=*/false});
  return o;
}

}  // namespace cli
