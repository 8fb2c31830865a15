// StreamingHttpClient: an HttpClient that can also hand a response body to the caller as it
// arrives, for long-lived responses such as Kubernetes watch streams (chunked JSON lines).
//
//   std::unique_ptr<clients::http::StreamingHttpClient> http =
//       clients::http::MakeCurlStreamingHttpClient({});
//   std::atomic<bool> cancel{false};
//   auto r = http->DoStream(req, [&](absl::string_view bytes) { Feed(bytes); return true; },
//                           &cancel);
//
// A separate interface so that plain HttpClient implementations (fakes, decorators) stay
// unchanged. Every implementation must be safe for concurrent use.
#pragma once

#include <atomic>
#include <functional>

#include "absl/strings/string_view.h"
#include "clients/http/http_client.h"

namespace clients::http {

class StreamingHttpClient : public HttpClient {
 public:
  // Called with successive pieces of a 2xx response body (arbitrary boundaries). Return false
  // to stop the transfer.
  using DataCallback = std::function<bool(absl::string_view)>;

  // Performs one request. For a 2xx response the body goes to `on_data` piece by piece (the
  // returned response's body is empty) and the call returns OK when the server ends the body.
  // Any other status is returned like Do() does, body collected. Errors as for Do(), plus
  // kCancelled when `on_data` returned false or `*cancel` (may be null) became true; `cancel`
  // is polled about once a second while the connection is idle.
  virtual absl::StatusOr<HttpResponse> DoStream(const HttpRequest& request,
                                                const DataCallback& on_data,
                                                const std::atomic<bool>* cancel) = 0;
};

}  // namespace clients::http
