// LOG_FORMAT=json: glog messages as one JSON object per line on stderr, for log pipelines
// (Loki, Elasticsearch, Cloud Logging) that parse structured lines.
//
//   base::InstallJsonLogging();   // after google::InitGoogleLogging
//   LOG(INFO) << "cycle: ...";    // {"ts":"2026-11-27T21:58:22.631541Z","level":"INFO",
//                                 //  "file":"loop.cc","line":321,"msg":"cycle: ..."}
//
// Installs a glog LogSink and turns glog's own stderr and file output off; FLAGS_minloglevel
// still filters. Thread-safe (glog serializes sinks).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace base {

// One line (with its trailing newline): ts (RFC 3339, UTC, microseconds), level (INFO,
// WARNING, ERROR, FATAL), file, line, msg; the message is JSON-escaped (control characters as
// \uXXXX).
std::string FormatJsonLogLine(absl::Time time, absl::string_view level, absl::string_view file,
                              int line, absl::string_view message);

// Idempotent.
void InstallJsonLogging();

}  // namespace base
