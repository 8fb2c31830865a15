// Kubernetes label selectors (a port of k8s.io/apimachinery's labels.Parse): parse, match, echo.
//
//   absl::StatusOr<adapter::Selector> s = adapter::Selector::Parse("env in (prod,stage),!canary");
//   if (s.ok() && s->Matches({{"env", "prod"}})) { ... }
//   std::string exact;  if (s->ExactValue("deployment", &exact)) { /* index lookup */ }
//
// The full grammar: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, and the
// integer comparisons `k>1`, `k<1`. Keys and values are validated as Kubernetes does (qualified
// names, 63-character values). A parsed Selector is immutable and safe to share across threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adapter {

class Selector {
 public:
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted, unique
  };

  // An empty selector: matches everything.
  Selector() = default;

  // Parses `text` (already URL-decoded). Empty or blank text gives the empty selector.
  // kInvalidArgument with a message naming the problem (e.g. "unable to parse requirement:
  // found '(', expected: identifier") on any syntax or validation error.
  static absl::StatusOr<Selector> Parse(absl::string_view text);

  // True when every requirement holds for `labels`.
  bool Matches(const std::map<std::string, std::string>& labels) const;

  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

  // When the selector pins `key` to a single value (k=v, k==v, k in (v)), stores it in *value
  // and returns true. Lets callers use an index instead of a scan.
  bool ExactValue(const std::string& key, std::string* value) const;

  // The selector as a metav1.LabelSelector JSON object:
  // {"matchLabels":{...},"matchExpressions":[{"key":..,"operator":..,"values":[..]}]}.
  // Comparisons (> <) are written with operators "Gt"/"Lt".
  std::string ToLabelSelectorJson() const;

  // Canonical text form, requirements sorted by key (what LabelSelectorAsSelector prints).
  std::string String() const;

 private:
  std::vector<Requirement> requirements_;  // sorted by key
};

}  // namespace adapter
