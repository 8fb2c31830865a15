// `smart-autoscaler explain ns/name`: "why this number", read from a running reconciler's API
// (GET /api/v1/deployments/<ns>/<name>/explain): every input of each served value with its
// time, the rule of each step and the arithmetic.
//
//   smart-autoscaler explain shop/api --api http://127.0.0.1:5000
//   smart-autoscaler explain shop/api --json     # the API's JSON as it is
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "clients/http/curl_http_client.h"
#include "rapidjson/document.h"

ABSL_FLAG(std::string, api, "http://127.0.0.1:5000",
          "the reconciler's JSON API (API_ADDRESS), http://host:port");

namespace cli {

int ExplainMain(const std::vector<std::string>& args) {
  std::vector<std::string> parts;
  if (args.size() == 1) parts = absl::StrSplit(args[0], '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    PrintError(std::cerr, "explain", "want one argument, namespace/name (e.g. shop/api)");
    return 2;
  }
  const bool json = absl::GetFlag(FLAGS_json);
  clients::http::HttpRequest req;
  req.url = absl::StrCat(absl::GetFlag(FLAGS_api), "/api/v1/deployments/", parts[0], "/", parts[1],
                         "/explain", json ? "" : "?format=text");
  auto http = clients::http::MakeCurlHttpClient({});
  absl::StatusOr<clients::http::HttpResponse> r = http->Do(req);
  if (!r.ok()) {
    PrintError(std::cerr, "explain", absl::StrCat(req.url, ": ", r.status().message()));
    return 1;
  }
  if (r->status != 200) {
    // A Status body: its message.
    rapidjson::Document doc;
    doc.Parse(r->body.c_str());
    std::string message = r->body;
    if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("message") &&
        doc["message"].IsString()) {
      message = doc["message"].GetString();
    }
    PrintError(std::cerr, "explain", absl::StrCat("HTTP ", r->status, ": ", message));
    return 1;
  }
  std::cout << r->body;
  if (!r->body.empty() && r->body.back() != '\n') std::cout << "\n";
  return 0;
}

}  // namespace cli
