// Test driver for snapshot::Publisher: plays the leading reconciler, publishing the
// table read from --values-file every --interval (the file is re-read each time, so a test
// changes values by rewriting it). One line per value: ns/metric/deployment=value.
//
//   publisher_feeder --listen=unix:///tmp/x.sock --values_file=values.txt --interval=200ms
#include <signal.h>

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/clock.h"
#include "snapshot/publisher.h"

ABSL_FLAG(std::string, listen, "", "publisher address (unix:///path.sock or 127.0.0.1:port)");
ABSL_FLAG(std::string, values_file, "", "one ns/metric/deployment=value per line");
ABSL_FLAG(absl::Duration, interval, absl::Milliseconds(200), "publish interval");

namespace {

volatile sig_atomic_t stop_requested = 0;
void OnSignal(int) { stop_requested = 1; }

// Reads the table; on a malformed line returns false (the test then fails on values).
bool ReadTable(const std::string& path, absl::Time now,
               std::vector<snapshot::MetricPoint>* points) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view item = absl::StripAsciiWhitespace(line);
    if (item.empty()) continue;
    std::pair<std::string, std::string> kv = absl::StrSplit(item, '=');
    std::vector<std::string> id = absl::StrSplit(kv.first, '/');
    snapshot::MetricPoint p;
    if (id.size() != 3 || !absl::SimpleAtod(kv.second, &p.value)) return false;
    p.namespace_name = id[0];
    p.metric = id[1];
    p.deployment = id[2];
    p.timestamp = now;
    p.window = absl::Seconds(60);
    points->push_back(std::move(p));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  snapshot::PublisherOptions options;
  options.initially_leader = true;
  snapshot::Publisher publisher(&base::RealClock(), options);
  absl::Status started = publisher.Start(absl::GetFlag(FLAGS_listen));
  if (!started.ok()) {
    std::cerr << "publisher_feeder: " << started << "\n";
    return 1;
  }
  while (!stop_requested) {
    std::vector<snapshot::MetricPoint> points;
    if (ReadTable(absl::GetFlag(FLAGS_values_file), absl::Now(), &points)) {
      publisher.Publish(std::move(points));
    } else {
      std::cerr << "publisher_feeder: cannot read " << absl::GetFlag(FLAGS_values_file) << "\n";
    }
    absl::SleepFor(absl::GetFlag(FLAGS_interval));
  }
  publisher.Stop();
  return 0;
}
