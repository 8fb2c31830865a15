#include "backtest/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace backtest {
namespace {

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
}

const char* const kColors[] = {"#d62728", "#2ca02c", "#ff7f0e", "#1f77b4"};

}  // namespace

std::string FormatTable(const TraceResult& r) {
  std::string out = absl::StrCat("trace ", r.trace, ": replay ", Time(r.window.start), " .. ",
                                 Time(r.window.end), " UTC\n");
  absl::StrAppendFormat(&out, "  %-20s %8s %12s %14s %12s %10s %7s\n", "policy", "target",
                        "overloaded", "unserved", "replica", "cost", "scale");
  absl::StrAppendFormat(&out, "  %-20s %8s %12s %14s %12s %10s %7s\n", "", "%", "minutes",
                        "core-minutes", "hours", "", "events");
  for (const PolicyResult& p : r.policies) {
    std::string target = p.target_pct ? absl::StrFormat("%.1f", *p.target_pct) : "-";
    if (p.policy == "smart" && p.target_pct) target = absl::StrCat("~", target);
    absl::StrAppendFormat(&out, "  %-20s %8s %12.1f %14.1f %12.1f %10.2f %7d\n", p.policy, target,
                          p.figures.overloaded_minutes, p.figures.unserved_core_minutes,
                          p.figures.replica_hours, p.cost, p.figures.scale_events);
  }
  absl::StrAppend(&out, "  gap closed (native -> oracle overloaded minutes): ",
                  r.gap_closed ? absl::StrFormat("%.0f %%", 100 * *r.gap_closed)
                               : std::string("n/a (native does not overload more than the oracle)"),
                  "\n");
  if (!r.cost_matched) {
    absl::StrAppend(&out, "  note: no target in the search range matches smart's replica-hours "
                          "within tolerance; the closest is shown\n");
  }
  absl::StrAppendFormat(&out, "  smart: %d cycles, forecast trusted in %d, %d buckets backfilled\n",
                        r.smart.cycles, r.smart.trusted_cycles, r.smart.history_points);
  return out;
}

std::string FormatJson(const TraceResult& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("trace");
  w.String(r.trace.c_str());
  w.Key("policies");
  w.StartArray();
  for (const PolicyResult& p : r.policies) {
    w.StartObject();
    w.Key("policy");
    w.String(p.policy.c_str());
    w.Key("target_pct");
    if (p.target_pct) {
      w.Double(*p.target_pct);
    } else {
      w.Null();
    }
    w.Key("overloaded_minutes");
    w.Double(p.figures.overloaded_minutes);
    w.Key("unserved_core_minutes");
    w.Double(p.figures.unserved_core_minutes);
    w.Key("replica_hours");
    w.Double(p.figures.replica_hours);
    w.Key("scale_events");
    w.Int(p.figures.scale_events);
    w.Key("cost");
    w.Double(p.cost);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string FormatSeriesCsv(const TraceResult& r) {
  std::string out = "time,demand_cores";
  for (const PolicyResult& p : r.policies) absl::StrAppend(&out, ",", p.policy, "_ready_cores");
  absl::StrAppend(&out, ",smart_cpu_pressure\n");
  for (const SeriesRow& row : r.series) {
    absl::StrAppend(&out, Time(row.time), ",", absl::StrFormat("%.4f", row.demand_cores));
    for (double c : row.ready_cores) absl::StrAppend(&out, ",", c);
    absl::StrAppend(&out, ",",
                    row.smart_pressure ? absl::StrFormat("%.4f", *row.smart_pressure) : "", "\n");
  }
  return out;
}

std::string FormatSvg(const TraceResult& r) {
  const double width = 1200, top_h = 360, bottom_h = 160, left = 60, right = 20, gap = 40;
  const double plot_w = width - left - right;
  const double height = 30 + top_h + gap + bottom_h + 40;
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n",
      width, height);
  absl::StrAppend(&out, "<text x=\"", left, "\" y=\"18\" font-size=\"14\">backtest ", r.trace,
                  ": demand and ready capacity (cores), ", Time(r.window.start), " .. ",
                  Time(r.window.end), " UTC</text>\n");
  if (r.series.empty()) return out + "</svg>\n";
  // One point per minute (every fourth sync at 15 s).
  const size_t stride = std::max<size_t>(1, r.series.size() / 6000 + 1);
  double ymax = 1, pmax = 1.5;
  for (const SeriesRow& row : r.series) {
    ymax = std::max(ymax, row.demand_cores);
    for (double c : row.ready_cores) ymax = std::max(ymax, c);
    if (row.smart_pressure) pmax = std::max(pmax, std::min(*row.smart_pressure, 4.0));
  }
  ymax *= 1.05;
  const double t0 = absl::ToDoubleSeconds(r.series.front().time - absl::UnixEpoch());
  const double t1 = absl::ToDoubleSeconds(r.series.back().time - absl::UnixEpoch());
  auto x = [&](absl::Time t) {
    return left + plot_w * (absl::ToDoubleSeconds(t - absl::UnixEpoch()) - t0) /
                      std::max(1.0, t1 - t0);
  };
  const double top_y0 = 30, bot_y0 = 30 + top_h + gap;
  auto y = [&](double v) { return top_y0 + top_h * (1 - v / ymax); };
  auto py = [&](double v) { return bot_y0 + bottom_h * (1 - std::min(v, pmax) / pmax); };
  auto axis = [&](double y0, double h, double vmax, const char* label) {
    absl::StrAppendFormat(&out,
                          "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                          "fill=\"none\" stroke=\"#999\"/>\n",
                          left, y0, plot_w, h);
    for (int i = 0; i <= 4; ++i) {
      const double v = vmax * i / 4, yy = y0 + h * (1 - i / 4.0);
      absl::StrAppendFormat(&out,
                            "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
                            left - 4, yy + 4, v);
    }
    absl::StrAppendFormat(&out, "<text x=\"4\" y=\"%.0f\">%s</text>\n", y0 - 4, label);
  };
  axis(top_y0, top_h, ymax, "cores");
  axis(bot_y0, bottom_h, pmax, "smart_cpu_pressure");
  // Day ticks.
  for (absl::Time d = r.series.front().time; d <= r.series.back().time; d += absl::Hours(24)) {
    absl::StrAppendFormat(&out, "<text x=\"%.1f\" y=\"%.0f\">%s</text>\n", x(d),
                          bot_y0 + bottom_h + 16,
                          absl::FormatTime("%m-%d %H:%M", d, absl::UTCTimeZone()));
  }
  auto polyline = [&](const char* color, double w, auto value) {
    absl::StrAppendFormat(&out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
                          "points=\"", color, w);
    for (size_t i = 0; i < r.series.size(); i += stride) {
      absl::optional<double> v = value(r.series[i]);
      if (v) absl::StrAppendFormat(&out, "%.1f,%.1f ", x(r.series[i].time), *v);
    }
    absl::StrAppend(&out, "\"/>\n");
  };
  polyline("#000", 1.0, [&](const SeriesRow& row) -> absl::optional<double> {
    return y(row.demand_cores);
  });
  for (size_t p = 0; p < r.policies.size(); ++p) {
    polyline(kColors[p % 4], 1.0, [&](const SeriesRow& row) -> absl::optional<double> {
      return p < row.ready_cores.size() ? absl::optional<double>(y(row.ready_cores[p]))
                                        : absl::nullopt;
    });
  }
  polyline("#2ca02c", 1.0, [&](const SeriesRow& row) -> absl::optional<double> {
    if (!row.smart_pressure) return absl::nullopt;
    return py(*row.smart_pressure);
  });
  for (double band : {0.9, 1.1}) {
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                          "stroke-dasharray=\"4 3\"/>\n",
                          left, left + plot_w, py(band), py(band));
  }
  // Legend.
  double lx = left + 8;
  auto legend = [&](const char* color, const std::string& text) {
    absl::StrAppendFormat(&out,
                          "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                          "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                          lx, top_y0 + 10, color, lx + 16, top_y0 + 15, text);
    lx += 24 + 7.0 * text.size();
  };
  legend("#000", "demand");
  for (size_t p = 0; p < r.policies.size(); ++p) {
    legend(kColors[p % 4],
           absl::StrFormat("%s (%.0f overloaded min, %.0f replica-h)", r.policies[p].policy,
                           r.policies[p].figures.overloaded_minutes,
                           r.policies[p].figures.replica_hours));
  }
  return out + "</svg>\n";
}

}  // namespace backtest
