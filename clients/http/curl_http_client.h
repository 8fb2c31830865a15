// The libcurl HttpClient: HTTP/1.1 and HTTPS with a CA bundle, client certificates and an
// optional bearer token. This header does not include <curl/curl.h>: only the .cc does, so
// nothing outside clients/ sees libcurl.
//
//   clients::http::CurlOptions opts;
//   opts.tls.ca_pem = kube_ca_pem; opts.bearer_token = sa_token;
//   std::unique_ptr<clients::http::HttpClient> http = clients::http::MakeCurlHttpClient(opts);
//
// Thread-safe: concurrent Do() calls each borrow an easy handle from a small pool, so
// keep-alive connections are reused across calls.
#pragma once

#include <memory>
#include <string>

#include "clients/http/http_client.h"
#include "clients/http/streaming_http_client.h"
#include "clients/http/tls_options.h"

namespace clients::http {

struct CurlOptions {
  TlsOptions tls;
  // Sent as "Authorization: Bearer <token>" unless the request sets Authorization itself.
  std::string bearer_token;
  std::string user_agent = "smart-autoscaler";
  absl::Duration connect_timeout = absl::Seconds(5);
  // Upper bound of bytes read into a response body; larger -> kResourceExhausted.
  size_t max_response_bytes = 256u << 20;
};

// Never null. Configuration problems (unreadable files) surface on the first Do() as
// kFailedPrecondition / kUnavailable from curl, not here.
std::unique_ptr<HttpClient> MakeCurlHttpClient(const CurlOptions& options);

// The same client seen as a StreamingHttpClient (watch streams). Never null.
std::unique_ptr<StreamingHttpClient> MakeCurlStreamingHttpClient(const CurlOptions& options);

}  // namespace clients::http
