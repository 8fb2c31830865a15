// Opens COUNT hostile connections (silent, stalled TLS, never-ending headers, idle probes in
// turn) from ADDRESSES loopback source addresses to 127.0.0.1:PORT, prints "open N", holds them
// HOLD seconds, closes them all and prints "closed". For tests/adapter/flood_rss.sh.
//
//   hostile_flood PORT COUNT ADDRESSES HOLD_SECONDS
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/adapter/hostile.h"

int main(int argc, char** argv) {
  int port = 0, count = 0, addresses = 0, hold = 0;
  if (argc != 5 || !absl::SimpleAtoi(argv[1], &port) || !absl::SimpleAtoi(argv[2], &count) ||
      !absl::SimpleAtoi(argv[3], &addresses) || !absl::SimpleAtoi(argv[4], &hold) ||
      addresses < 1 || addresses > 250) {
    std::fprintf(stderr, "usage: hostile_flood PORT COUNT ADDRESSES(1-250) HOLD_SECONDS\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  tests::RaiseFileLimit();
  const tests::Hostile kinds[] = {tests::Hostile::kSilent, tests::Hostile::kPartialTls,
                                  tests::Hostile::kPartialHeader, tests::Hostile::kIdleProbe};
  std::vector<int> fds;
  for (int i = 0; i < count; ++i) {
    const std::string source = absl::StrCat("127.0.2.", 1 + i % addresses);
    const int fd = tests::OpenHostile(kinds[i % 4], port, source.c_str());
    if (fd >= 0) fds.push_back(fd);
  }
  std::printf("open %zu\n", fds.size());
  std::fflush(stdout);
  sleep(hold);
  for (int fd : fds) close(fd);
  std::printf("closed\n");
  return 0;
}
