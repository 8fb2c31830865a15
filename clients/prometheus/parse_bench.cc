// parse_bench: the cost of parsing a full range answer, as the background backfiller receives
// them (reconciler/backfill.h): a grouped `sum by (namespace, pod) (rate(...[5m]))` over a
// namespace's pods, chunked so that an answer holds at most 250,000 points. The body is
// synthetic but has Prometheus' exact shape (matrix, [unix seconds, "value"] pairs, the
// labels the grouped query keeps), so the figure is ParseQueryResponse's, JSON and all.
//
//   bazel run //clients/prometheus:parse_bench -- --benchmark_repetitions=3
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "clients/prometheus/prometheus.h"

namespace {

// `series` pods with `points` 5-minute steps each, values as Prometheus prints them.
std::string RangeAnswer(int series, int points) {
  std::string body = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  for (int s = 0; s < series; ++s) {
    if (s) body += ',';
    absl::StrAppend(&body, R"({"metric":{"namespace":"ns-07","pod":"deploy-)", s / 10,
                    "-7c9f8d6b5-", s % 10, R"(x2b7q"},"values":[)");
    for (int p = 0; p < points; ++p) {
      if (p) body += ',';
      absl::StrAppend(&body, "[", 1764700000 + 300 * p, ",\"0.", 123456789 + 7919 * (s + p),
                      "\"]");
    }
    body += "]}";
  }
  body += "]}}";
  return body;
}

void BM_ParseRangeAnswer(benchmark::State& state) {
  const std::string body = RangeAnswer(state.range(0), state.range(1));
  for (auto _ : state) {
    auto series = clients::prometheus::ParseQueryResponse(body, 200);
    if (!series.ok()) {
      state.SkipWithError(std::string(series.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(series);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["points"] = static_cast<double>(state.range(0) * state.range(1));
  state.counters["body_MB"] = body.size() / 1e6;
}
// The backfiller's largest chunk (2,500 pods x 96 steps = 240,000 points: a namespace of
// 2,500 pods, 7 days at 5 minutes in 21 chunks), and a small namespace's whole week.
BENCHMARK(BM_ParseRangeAnswer)->Args({2500, 96})->Args({250, 2016})->Unit(benchmark::kMillisecond);

}  // namespace
