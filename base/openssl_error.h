// OpenSslError: the oldest error on this thread's OpenSSL error queue as text, and the queue
// cleared, for the one place a failed OpenSSL call is turned into a Status or a log line.
//
//   if (X509_sign(cert, key, EVP_sha256()) == 0) return absl::InternalError(base::OpenSslError());
#pragma once

#include <string>

namespace base {

// "unknown OpenSSL error" when the queue is empty.
std::string OpenSslError();

}  // namespace base
