#include <iostream>

#include "cli/commands.h"
#include "cli/version.h"

namespace cli {

int VersionMain(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "version: takes no arguments\n";
    return 2;
  }
  std::cout << "smart-autoscaler " << kVersion << " (C++" << __cplusplus / 100 % 100 << ", gcc "
            << __GNUC__ << "." << __GNUC_MINOR__ << ")\n";
  return 0;
}

}  // namespace cli
