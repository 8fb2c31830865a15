// libFuzzer target: the label-selector parser must never crash, and whatever it accepts must
// print (String()) to a selector that parses back to the same requirements.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapter/selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<adapter::Selector> s = adapter::Selector::Parse(text);
  if (!s.ok()) return 0;
  const std::string printed = s->String();
  absl::StatusOr<adapter::Selector> again = adapter::Selector::Parse(printed);
  if (!again.ok() || again->String() != printed) __builtin_trap();
  (void)s->ToLabelSelectorJson();
  (void)s->Matches({{"deployment", "api"}, {"env", "prod"}, {"n", "3"}});
  std::string v;
  (void)s->ExactValue("deployment", &v);
  return 0;
}
