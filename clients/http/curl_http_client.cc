#include "clients/http/curl_http_client.h"

#include <curl/curl.h>

#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"

namespace clients::http {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  HttpResponse* response;
  size_t max_bytes;
  bool overflow = false;
  // Streaming only: the handle (for the status code), the callback, and whether it stopped.
  CURL* handle = nullptr;
  const StreamingHttpClient::DataCallback* on_data = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  bool stopped = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (sink->on_data != nullptr) {
    long status = 0;
    curl_easy_getinfo(sink->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      if (!(*sink->on_data)(absl::string_view(data, len))) {
        sink->stopped = true;
        return 0;
      }
      return len;
    }
  }
  if (sink->response->body.size() + len > sink->max_bytes) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, len);
  return len;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  absl::string_view line(data, len);
  line = absl::StripTrailingAsciiWhitespace(line);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after a 100 Continue or a redirect): forget earlier headers.
    sink->response->headers.clear();
    return len;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return len;
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  sink->response->headers.emplace(std::move(name), std::move(value));
  return len;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->cancel != nullptr && sink->cancel->load()) {
    sink->stopped = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

absl::Status FromCurl(CURLcode code, const char* errbuf) {
  std::string msg = absl::StrCat("curl: ", curl_easy_strerror(code));
  if (errbuf != nullptr && errbuf[0] != '\0') absl::StrAppend(&msg, ": ", errbuf);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(msg);
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_READ_ERROR:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

class CurlHttpClient : public StreamingHttpClient {
 public:
  explicit CurlHttpClient(CurlOptions options) : options_(std::move(options)) { GlobalInit(); }

  ~CurlHttpClient() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  absl::StatusOr<HttpResponse> Do(const HttpRequest& request) override {
    CURL* h = Borrow();
    absl::StatusOr<HttpResponse> result = Perform(h, request, nullptr, nullptr);
    Return(h);
    return result;
  }

  absl::StatusOr<HttpResponse> DoStream(const HttpRequest& request, const DataCallback& on_data,
                                        const std::atomic<bool>* cancel) override {
    CURL* h = Borrow();
    absl::StatusOr<HttpResponse> result = Perform(h, request, &on_data, cancel);
    Return(h);
    return result;
  }

 private:
  CURL* Borrow() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Return(CURL* h) {
    absl::MutexLock lock(&mu_);
    if (idle_.size() < 8) {
      idle_.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

  absl::StatusOr<HttpResponse> Perform(CURL* h, const HttpRequest& request,
                                       const DataCallback* on_data,
                                       const std::atomic<bool>* cancel) {
    if (h == nullptr) return absl::InternalError("curl_easy_init failed");
    curl_easy_reset(h);  // keeps live connections, DNS and TLS session caches
    char errbuf[CURL_ERROR_SIZE] = {0};
    HttpResponse response;
    Sink sink{&response, options_.max_response_bytes};
    sink.handle = h;
    sink.on_data = on_data;
    sink.cancel = cancel;
    if (on_data != nullptr) {
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Progress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, &sink);
    }

    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(request.timeout)));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate if offered

    const std::string method = absl::AsciiStrToUpper(request.method);
    if (method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      if (method != "DELETE" || !request.body.empty()) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unsupported HTTP method ", request.method));
    }

    // TLS.
    const TlsOptions& tls = options_.tls;
    curl_blob ca_blob, cert_blob, key_blob;
    if (!tls.ca_pem.empty()) {
      ca_blob = {const_cast<char*>(tls.ca_pem.data()), tls.ca_pem.size(), CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca_blob);
    } else if (!tls.ca_file.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
    }
    if (!tls.client_cert_pem.empty()) {
      cert_blob = {const_cast<char*>(tls.client_cert_pem.data()), tls.client_cert_pem.size(),
                   CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert_blob);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (!tls.client_cert_file.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!tls.client_key_pem.empty()) {
      key_blob = {const_cast<char*>(tls.client_key_pem.data()), tls.client_key_pem.size(),
                  CURL_BLOB_NOCOPY};
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key_blob);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (!tls.client_key_file.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLKEY, tls.client_key_file.c_str());
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.insecure_skip_verify ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.insecure_skip_verify ? 0L : 2L);

    // Headers.
    curl_slist* list = nullptr;
    bool has_auth = false, has_expect = false;
    for (const auto& [name, value] : request.headers) {
      if (absl::EqualsIgnoreCase(name, "authorization")) has_auth = true;
      if (absl::EqualsIgnoreCase(name, "expect")) has_expect = true;
      list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
    }
    if (!has_auth && !options_.bearer_token.empty()) {
      list = curl_slist_append(
          list, absl::StrCat("Authorization: Bearer ", options_.bearer_token).c_str());
    }
    // No "Expect: 100-continue" round trip for large bodies.
    if (!has_expect) list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);

    CURLcode code = curl_easy_perform(h);
    curl_slist_free_all(list);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    if (sink.overflow) {
      return absl::ResourceExhaustedError(absl::StrCat("response from ", request.url, " exceeds ",
                                                       options_.max_response_bytes, " bytes"));
    }
    if (sink.stopped) {
      return absl::CancelledError(absl::StrCat("transfer from ", request.url, " stopped"));
    }
    if (code != CURLE_OK) {
      VLOG(1) << request.method << " " << request.url << ": " << curl_easy_strerror(code);
      return FromCurl(code, errbuf);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  const CurlOptions options_;
  absl::Mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::unique_ptr<HttpClient> MakeCurlHttpClient(const CurlOptions& options) {
  return std::make_unique<CurlHttpClient>(options);
}

std::unique_ptr<StreamingHttpClient> MakeCurlStreamingHttpClient(const CurlOptions& options) {
  return std::make_unique<CurlHttpClient>(options);
}

}  // namespace clients::http
