// RunDoctor: the checks in the order an operator would look, and the text/JSON reports.
#include "doctor/doctor.h"

#include "absl/strings/str_cat.h"
#include "doctor/checks.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace doctor {

bool Report::ok() const { return failed() == 0; }

int Report::failed() const {
  int n = 0;
  for (const Check& c : checks) n += c.ok ? 0 : 1;
  return n;
}

Report RunDoctor(const Options& options, const Dependencies& deps) {
  internal::KubeReader kube(deps, options.timeout);
  const absl::Time now = deps.clock->Now();
  Report r;
  internal::CheckApiServices(options, kube, &r.checks);
  internal::CheckApiServiceOwners(options, kube, &r.checks);
  internal::CheckEndpoints(options, kube, &r.checks);
  internal::CheckServingCert(options, kube, deps.certs, now, &r.checks);
  internal::CheckRbac(options, kube, &r.checks);
  internal::CheckAuthConfigMap(kube, &r.checks);
  absl::StatusOr<std::vector<internal::SmartHpa>> hpas = internal::ListSmartHpas(kube);
  if (!hpas.ok()) {
    r.checks.push_back(internal::Fail("hpas", "HPAs that use smart_* metrics",
                                      absl::StrCat("cannot list HPAs: ", hpas.status().message()),
                                      "the kubeconfig's user must be able to list "
                                      "horizontalpodautoscalers"));
    hpas = std::vector<internal::SmartHpa>{};
  } else if (hpas->empty()) {
    r.checks.push_back(
        internal::Pass("hpas", "HPAs that use smart_* metrics", "none yet (see deploy/examples)"));
  }
  internal::CheckPrometheus(kube, deps.prometheus, now, *hpas, &r.checks);
  internal::CheckHpas(options, kube, now, *hpas, &r.checks);
  return r;
}

std::string FormatText(const Report& report) {
  std::string out;
  for (const Check& c : report.checks) {
    absl::StrAppend(&out, c.ok ? "\u2714 " : "\u2718 ", c.title, " \u2014 ", c.cause, "\n");
    if (!c.ok && !c.fix.empty()) absl::StrAppend(&out, "    fix: ", c.fix, "\n");
  }
  absl::StrAppend(&out, report.ok() ? "all " : "", report.checks.size() - report.failed(), " of ",
                  report.checks.size(), " checks passed",
                  report.ok() ? "" : absl::StrCat(", ", report.failed(), " failed"), "\n");
  return out;
}

std::string FormatJson(const Report& report) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) {
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("ok");
  w.Bool(report.ok());
  w.Key("failed");
  w.Int(report.failed());
  w.Key("checks");
  w.StartArray();
  for (const Check& c : report.checks) {
    w.StartObject();
    w.Key("id");
    str(c.id);
    w.Key("title");
    str(c.title);
    w.Key("ok");
    w.Bool(c.ok);
    w.Key("cause");
    str(c.cause);
    w.Key("fix");
    str(c.fix);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace doctor
