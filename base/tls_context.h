// The TLS side of base::HttpServer (private to base/): builds the OpenSSL server context from
// PEM text and re-reads certificate files when they change. Boost.Asio's ssl::context appears
// here and in http_server.cc only.
//
//   absl::StatusOr<std::unique_ptr<TlsContextSource>> tls = TlsContextSource::Create(options);
//   std::shared_ptr<boost::asio::ssl::context> ctx = (*tls)->Current();  // per new connection
//   absl::Status s = (*tls)->ReloadIfChanged();  // every reload_interval
//
// Thread-safe.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/http_server.h"

namespace base::internal {

class TlsContextSource {
 public:
  // InvalidArgument when the files or PEM text are unusable (unreadable, unparsable, the key
  // does not match the certificate, only one of the two files given).
  static absl::StatusOr<std::unique_ptr<TlsContextSource>> Create(TlsServerOptions options);

  // The context for new connections (connections keep the one they started with).
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Re-reads cert_file/key_file when their stamp (mtime, size, inode) changed. OK when nothing
  // changed or there are no files; InvalidArgument for a bad new pair, which is not installed.
  absl::Status ReloadIfChanged();

  const TlsServerOptions& options() const { return options_; }

 private:
  explicit TlsContextSource(TlsServerOptions options) : options_(std::move(options)) {}
  absl::Status Load(bool initial);

  const TlsServerOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> ctx_ ABSL_GUARDED_BY(mu_);
  std::string stamp_;  // only touched by Create and the reload timer
};

}  // namespace base::internal
