#include "base/json_log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "base/json_writer.h"
#include "base/time_format.h"
#include "glog/logging.h"

namespace base {
namespace {

class JsonSink : public google::LogSink {
 public:
  void send(google::LogSeverity severity, const char* /*full_filename*/, const char* base_filename,
            int line, const google::LogMessageTime& t, const char* message,
            size_t message_len) override {
    absl::Time time = absl::FromTimeT(t.timestamp()) + absl::Microseconds(t.usec());
    std::string out = FormatJsonLogLine(time, google::GetLogSeverityName(severity), base_filename,
                                        line, absl::string_view(message, message_len));
    ssize_t unused = write(STDERR_FILENO, out.data(), out.size());
    (void)unused;
  }
};

}  // namespace

std::string FormatJsonLogLine(absl::Time time, absl::string_view level, absl::string_view file,
                              int line, absl::string_view message) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  JsonField(w, "ts", FormatRfc3339Micros(time));
  JsonField(w, "level", level);
  JsonField(w, "file", file);
  JsonIntField(w, "line", line);
  JsonField(w, "msg", message);
  w.EndObject();
  std::string out = JsonText(buf);
  out.push_back('\n');
  return out;
}

void InstallJsonLogging() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true)) return;
  static JsonSink* sink = new JsonSink;
  FLAGS_logtostderr = false;
  FLAGS_alsologtostderr = false;
  FLAGS_stderrthreshold = google::NUM_SEVERITIES;  // glog's own stderr copy: off
  for (int s = 0; s < google::NUM_SEVERITIES; ++s) google::SetLogDestination(s, "");  // no files
  google::AddLogSink(sink);
}

}  // namespace base
