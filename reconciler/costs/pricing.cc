// The pricing file parser and the budget text. See costs.h for the format.
#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "reconciler/costs/costs.h"

namespace costs {
namespace {

// A price: a finite number >= 0.
bool ParsePrice(absl::string_view text, double* out) {
  return absl::SimpleAtod(text, out) && std::isfinite(*out) && *out >= 0;
}

}  // namespace

const Prices& PriceTable::For(absl::string_view pool) const {
  if (pool.empty()) return flat_;
  auto it = pools_.find(pool);
  return it == pools_.end() ? flat_ : it->second;
}

absl::StatusOr<PriceTable> PriceTable::Parse(absl::string_view text, Prices flat) {
  PriceTable table(flat);
  std::vector<std::string> problems;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view line = raw.substr(0, raw.find('#'));
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t\r"),
                                                      absl::SkipEmpty());
    if (f.empty()) continue;
    const std::string where = absl::StrCat("pricing line ", line_no, ": ");
    if (f[0] == "label") {
      if (f.size() != 2) {
        problems.push_back(absl::StrCat(where, "want 'label <node label key>'"));
      } else if (!table.label_.empty()) {
        problems.push_back(absl::StrCat(where, "a second 'label' (the first is '", table.label_,
                                        "')"));
      } else if (!table.pools_.empty()) {
        problems.push_back(absl::StrCat(where, "'label' must come before the first price"));
      } else {
        table.label_ = std::string(f[1]);
      }
      continue;
    }
    if (f.size() != 3) {
      problems.push_back(absl::StrCat(
          where, "want '<label value> <USD per vCPU-hour> <USD per GB-hour>', got ", f.size(),
          " field(s)"));
      continue;
    }
    Prices p;
    bool ok = true;
    if (!ParsePrice(f[1], &p.per_vcpu_hour)) {
      problems.push_back(
          absl::StrCat(where, "'", f[1], "' is not a price (USD per vCPU-hour >= 0)"));
      ok = false;
    }
    if (!ParsePrice(f[2], &p.per_gb_hour)) {
      problems.push_back(absl::StrCat(where, "'", f[2], "' is not a price (USD per GB-hour >= 0)"));
      ok = false;
    }
    if (table.label_.empty() && ok) {
      problems.push_back(absl::StrCat(where, "a price before the 'label <key>' line"));
      ok = false;
    }
    if (ok && !table.pools_.emplace(std::string(f[0]), p).second) {
      problems.push_back(absl::StrCat(where, "'", f[0], "' is priced twice"));
    }
  }
  if (table.label_.empty() && problems.empty()) {
    problems.push_back("pricing: no 'label <node label key>' line");
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  return table;
}

absl::StatusOr<double> ParseMonthlyBudget(absl::string_view text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&t, "$");
  double v;
  if (!absl::SimpleAtod(t, &v) || !std::isfinite(v) || v <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("monthly budget '", text, "' is not a positive amount of USD per month"));
  }
  return v;
}

}  // namespace costs
