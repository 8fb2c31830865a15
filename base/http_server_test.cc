// Tests base::HttpServer over real loopback sockets with a raw-socket HTTP client.
#include "base/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace base {
namespace {

// A blocking HTTP/1.1 client over one TCP connection (5 s receive timeout).
class RawClient {
 public:
  struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-cased
    std::string body;
  };

  // `source`: the IPv4 address to connect from (any 127.x.y.z works on loopback).
  explicit RawClient(int port, int family = AF_INET, const char* source = nullptr) {
    fd_ = socket(family, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      inet_pton(AF_INET, source, &from.sin_addr);
      EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof(from)), 0) << source;
    }
    if (family == AF_INET) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    } else {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      a.sin6_addr = in6addr_loopback;
      connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    }
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += n;
    }
    return true;
  }

  // Reads one response; `head` = the request was HEAD (no body follows).
  bool Read(Response* r, bool head = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return false;
    }
    std::vector<std::string> lines = absl::StrSplit(buf_.substr(0, end), "\r\n");
    buf_.erase(0, end + 4);
    std::vector<std::string> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
    if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &r->status)) return false;
    r->headers.clear();
    for (size_t i = 1; i < lines.size(); ++i) {
      size_t colon = lines[i].find(':');
      std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
      std::string value(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
      r->headers[name] = value;
    }
    size_t length = 0;
    if (!head && r->headers.count("content-length")) {
      if (!absl::SimpleAtoi(r->headers["content-length"], &length)) return false;
    }
    while (buf_.size() < length) {
      if (!Fill()) return false;
    }
    r->body = buf_.substr(0, length);
    buf_.erase(0, length);
    return true;
  }

  Response Get(const std::string& target) {
    Response r;
    EXPECT_TRUE(Send(absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n")));
    EXPECT_TRUE(Read(&r)) << target;
    return r;
  }

  // True when the server closed the connection (read returns 0 or a reset).
  bool ClosedByPeer() {
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  bool Fill() {
    char tmp[4096];
    ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, n);
    return true;
  }

  int fd_;
  bool connected_ = false;
  std::string buf_;
};

HttpResponse Echo(const HttpRequest& req) {
  HttpResponse r;
  r.body = absl::StrCat("method=", req.method, " path=", req.path);
  for (const auto& [k, v] : req.query) absl::StrAppend(&r.body, " q[", k, "]=", v);
  auto it = req.headers.find("x-test");
  if (it != req.headers.end()) absl::StrAppend(&r.body, " x-test=", it->second);
  if (!req.body.empty()) absl::StrAppend(&r.body, " body=", req.body);
  r.headers.emplace_back("X-Handler", "echo");
  return r;
}

HttpHandler Named(std::string name) {
  return [name](const HttpRequest&) {
    HttpResponse r;
    r.body = name;
    return r;
  };
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    options.metrics = &registry_;
    server_ = std::make_unique<HttpServer>(options);
    server_->Handle("/echo", Echo);
    server_->Handle("/echo x", Echo);
    server_->Handle("/api", Named("exact /api"));
    server_->HandlePrefix("/api/", Named("prefix /api/"));
    server_->HandlePrefix("/api/v1/", Named("prefix /api/v1/"));
    server_->HandlePrefix("/static", Named("prefix /static"));
    server_->Handle("/json", [](const HttpRequest&) {
      HttpResponse r;
      r.content_type = "application/json";
      r.body = R"({"ok":true})";
      return r;
    });
    server_->Handle("/metrics", MetricsHandler(&registry_));
    server_->Handle("/healthz", [this](const HttpRequest&) {
      ++healthz_calls_;
      HttpResponse r;
      r.body = "ok";
      r.trusts_connection = false;
      return r;
    });
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
    port_ = server_->port();
    ASSERT_GT(port_, 0);
  }

  prometheus::Registry registry_;  // outlives server_
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<int> healthz_calls_{0};
};

TEST_F(HttpServerTest, RoutesExactThenLongestPrefix) {
  StartServer();
  RawClient c(port_);
  EXPECT_EQ(c.Get("/api").body, "exact /api");
  EXPECT_EQ(c.Get("/api/x").body, "prefix /api/");
  EXPECT_EQ(c.Get("/api/v1/deployments").body, "prefix /api/v1/");
  EXPECT_EQ(c.Get("/api/v1/").body, "prefix /api/v1/");
  EXPECT_EQ(c.Get("/staticfile.js").body, "prefix /static");
  RawClient::Response r = c.Get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers["content-type"], "text/plain; charset=utf-8");
  r = c.Get("/json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(r.body, R"({"ok":true})");
}

TEST_F(HttpServerTest, DecodesPathAndQuery) {
  StartServer();
  RawClient c(port_);
  RawClient::Response r = c.Get("/echo%20x?a=1&b=x+y&b=z%26&c&d=%2F%3D#frag");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "method=GET path=/echo x q[a]=1 q[b]=z& q[c]= q[d]=/=");
  EXPECT_EQ(r.headers["x-handler"], "echo");
  EXPECT_EQ(c.Get("/echo?bad=%zz").status, 400);
}

TEST_F(HttpServerTest, PassesHeadersAndBodyAndKeepsAlive) {
  StartServer();
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nX-Test: one\r\nContent-Length: 5\r\n\r\nhello"
             "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n0\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "method=POST path=/echo x-test=one body=hello");
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "method=PUT path=/echo body=abc");
  EXPECT_EQ(c.Get("/api").body, "exact /api");  // third request, same connection
}

TEST_F(HttpServerTest, AnswersExpectContinue) {
  StartServer();
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: 3\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 100);
  ASSERT_TRUE(c.Send("xyz"));
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "method=POST path=/echo body=xyz");
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  StartServer();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("THIS IS NOT HTTP\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(c.ClosedByPeer());

  RawClient d(port_);
  ASSERT_TRUE(d.Send("GET nopath HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(d.Read(&r));
  EXPECT_EQ(r.status, 400);
}

TEST_F(HttpServerTest, BodyOverLimitGets413) {
  HttpServerOptions options;
  options.max_body_bytes = 10;
  StartServer(options);
  RawClient c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n12345678901"));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(c.ClosedByPeer());

  RawClient chunked(port_);
  ASSERT_TRUE(
      chunked.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "6\r\n123456\r\n6\r\n123456\r\n0\r\n\r\n"));
  ASSERT_TRUE(chunked.Read(&r));
  EXPECT_EQ(r.status, 413);

  RawClient ok(port_);
  ASSERT_TRUE(ok.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1234567890"));
  ASSERT_TRUE(ok.Read(&r));
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServerTest, HeadSendsHeadersWithoutBody) {
  StartServer();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r, /*head=*/true));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "11");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  // The next response must start right after the HEAD response's headers.
  RawClient::Response next = c.Get("/api");
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "exact /api");
  ASSERT_TRUE(c.Send("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.Read(&r, true));
  EXPECT_EQ(r.headers["content-length"], "21");  // "method=GET path=/echo": handlers see GET
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAlive) {
  StartServer();
  RawClient c(port_);
  ASSERT_TRUE(c.Send("GET /api HTTP/1.0\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "exact /api");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(HttpServerTest, ServesConcurrentClients) {
  HttpServerOptions options;
  options.threads = 2;
  StartServer(options);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RawClient c(port_);
      for (int i = 0; i < 50; ++i) {
        RawClient::Response r = c.Get(absl::StrCat("/echo?t=", t, "&i=", i));
        if (r.status == 200 &&
            r.body == absl::StrCat("method=GET path=/echo q[i]=", i, " q[t]=", t)) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, 400);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsQuickly) {
  StartServer();
  RawClient idle(port_);
  EXPECT_EQ(idle.Get("/api").status, 200);  // now idle in keep-alive
  RawClient fresh(port_);                   // connected, never sent anything
  ASSERT_TRUE(fresh.connected());
  const absl::Time start = absl::Now();
  server_->Stop();
  // Far below the 60 s idle timeout it would otherwise wait (generous for a loaded machine).
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_TRUE(idle.ClosedByPeer());
  EXPECT_TRUE(fresh.ClosedByPeer());
  server_->Stop();  // idempotent
  RawClient after(port_);
  EXPECT_FALSE(after.connected());
}

TEST_F(HttpServerTest, StopLetsARunningRequestFinish) {
  server_ = std::make_unique<HttpServer>();
  std::atomic<bool> in_handler{false};
  server_->Handle("/slow", [&](const HttpRequest&) {
    in_handler = true;
    absl::SleepFor(absl::Milliseconds(300));
    return HttpResponse{200, "text/plain", "done", {}};
  });
  ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  while (!in_handler) absl::SleepFor(absl::Milliseconds(5));
  server_->Stop();
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.body, "done");
  EXPECT_EQ(r.headers["connection"], "close");
}

TEST_F(HttpServerTest, IdleTimeoutClosesConnection) {
  HttpServerOptions options;
  options.idle_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawClient c(port_);
  EXPECT_EQ(c.Get("/api").status, 200);
  EXPECT_TRUE(c.ClosedByPeer());  // within the client's 5 s receive timeout
}

TEST(HttpServerStartTest, ParsesAddresses) {
  for (const char* bad :
       {"", "nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:-1", "::1:80",
        "[::1:80", "[]:80", "host.invalid:80", "1.2.3:80"}) {
    HttpServer s;
    EXPECT_EQ(s.Start(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  HttpServer any;
  ASSERT_TRUE(any.Start(":0").ok());
  RawClient v4(any.port());
  EXPECT_TRUE(v4.connected());
  EXPECT_EQ(any.Start(":0").code(), absl::StatusCode::kFailedPrecondition);

  HttpServer taken;
  EXPECT_EQ(taken.Start(absl::StrCat("127.0.0.1:", any.port())).code(),
            absl::StatusCode::kUnavailable);

  HttpServer v6;
  absl::Status s = v6.Start("[::1]:0");
  if (s.ok()) {
    RawClient c(v6.port(), AF_INET6);
    EXPECT_TRUE(c.connected());
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;  // no IPv6 on this machine
  }
}

TEST_F(HttpServerTest, MetricsHandlerServesExpositionAndCountsRequests) {
  StartServer();
  RawClient c(port_);
  EXPECT_EQ(c.Get("/api/v1/a?x=1").status, 200);
  EXPECT_EQ(c.Get("/no/such/path").status, 404);
  RawClient::Response r = c.Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(absl::StrContains(
      r.body, R"(http_server_requests_total{code="200",handler="/api/v1/",method="GET"})"))
      << r.body;
  EXPECT_TRUE(absl::StrContains(
      r.body, R"(http_server_requests_total{code="404",handler="unmatched",method="GET"})"));
  EXPECT_TRUE(absl::StrContains(
      r.body, R"(http_server_request_duration_seconds_bucket{handler="/api/v1/",le="+Inf"})"));
  EXPECT_FALSE(absl::StrContains(r.body, "no/such/path"));  // bounded label values

  ASSERT_TRUE(c.Send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
}

TEST_F(HttpServerTest, HugeHeadersGet431) {
  StartServer();
  RawClient c(port_);
  ASSERT_TRUE(c.Send(absl::StrCat(
      "GET /api HTTP/1.1\r\nHost: x\r\nX-Big: ", std::string(70000, 'a'), "\r\n\r\n")));
  RawClient::Response r;
  ASSERT_TRUE(c.Read(&r));
  EXPECT_EQ(r.status, 431);
}

TEST(HttpServerHandlerTest, ThrowingHandlerGets500AndServerKeepsServing) {
  HttpServer server;
  server.Handle("/throw",
                [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  server.Handle("/ok", [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  RawClient c(server.port());
  EXPECT_EQ(c.Get("/throw").status, 500);
  EXPECT_EQ(c.Get("/ok").status, 200);
}


namespace framing {

// Sends `request` on a fresh connection; returns the status of the one response, after which
// the server must have closed the connection (nothing of the body read as a second request).
int StatusThenClosed(int port, const std::string& request) {
  RawClient c(port);
  EXPECT_TRUE(c.Send(request));
  RawClient::Response r;
  if (!c.Read(&r)) return 0;
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.ClosedByPeer()) << request;
  return r.status;
}

}  // namespace framing

TEST_F(HttpServerTest, RejectsUnknownAndNonFinalTransferEncoding) {
  StartServer();
  // Each body is itself a request: accepted as "no body", it would be served as a second one.
  const std::string smuggled = "GET /api HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string body = absl::StrCat(absl::Hex(smuggled.size()), "\r\n", smuggled, "\r\n0\r\n\r\n");
  for (const char* te : {"xchunked", "identity", "gzip, chunked"}) {
    EXPECT_EQ(framing::StatusThenClosed(port_, absl::StrCat("POST /echo HTTP/1.1\r\nHost: x\r\n"
                                                             "Transfer-Encoding: ",
                                                             te, "\r\n\r\n", smuggled)),
              501)
        << te;
  }
  for (const char* te : {"chunked, identity", "chunked, chunked", "chunked,"}) {
    EXPECT_EQ(framing::StatusThenClosed(port_, absl::StrCat("POST /echo HTTP/1.1\r\nHost: x\r\n"
                                                             "Transfer-Encoding: ",
                                                             te, "\r\n\r\n", body)),
              400)
        << te;
  }
  // Two fields whose concatenation puts chunked before another coding.
  EXPECT_EQ(framing::StatusThenClosed(port_,
                                      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                                      "chunked\r\nTransfer-Encoding: identity\r\n\r\n" + body),
            400);
  // A final chunked is still served, and keeps the connection.
  RawClient ok(port_);
  ASSERT_TRUE(ok.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(ok.Read(&r));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "method=POST path=/echo body=hello");
  EXPECT_EQ(ok.Get("/api").status, 200);
}

TEST_F(HttpServerTest, RequiresExactlyOneHost) {
  StartServer();
  EXPECT_EQ(framing::StatusThenClosed(port_, "GET /api HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(framing::StatusThenClosed(port_, "GET /api HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            400);
  EXPECT_EQ(framing::StatusThenClosed(port_, "GET /api HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
            400);
  RawClient old(port_);  // HTTP/1.0 may omit Host
  ASSERT_TRUE(old.Send("GET /api HTTP/1.0\r\n\r\n"));
  RawClient::Response r;
  ASSERT_TRUE(old.Read(&r));
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServerTest, SilentConnectionClosedByFirstRequestTimeout) {
  HttpServerOptions options;
  options.first_request_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawClient silent(port_);
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.ClosedByPeer());  // within the client's 5 s receive timeout
  RawClient partial(port_);
  ASSERT_TRUE(partial.Send("GET /api HTTP/1.1\r\nHost: x\r\n"));  // never finishes the header
  EXPECT_TRUE(partial.ClosedByPeer());
  // Counted just after the socket closes: wait for it (generous bound).
  for (int i = 0; i < 3000 && server_->stats().first_request_timeouts < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(server_->stats().first_request_timeouts, 2u);
}

TEST_F(HttpServerTest, OnlyATrustedAnswerEarnsTheIdleTimeout) {
  HttpServerOptions options;
  options.first_request_timeout = absl::Milliseconds(200);
  options.idle_timeout = absl::Minutes(10);
  StartServer(options);
  RawClient trusted(port_), probe(port_);
  EXPECT_EQ(trusted.Get("/api").status, 200);
  EXPECT_EQ(probe.Get("/healthz").status, 200);  // trusts_connection = false
  EXPECT_TRUE(probe.ClosedByPeer());             // the short deadline still applies
  EXPECT_EQ(trusted.Get("/api").status, 200);    // long after 200 ms: still open
}

TEST_F(HttpServerTest, ReserveServesOnlyProbesPastTheLimit) {
  HttpServerOptions options;
  options.max_connections = 2;
  options.probe_reserve = 2;
  StartServer(options);
  RawClient a(port_), b(port_);
  EXPECT_EQ(a.Get("/api").status, 200);  // both accepted (and counted) before the next ones
  EXPECT_EQ(b.Get("/api").status, 200);
  RawClient api(port_), probe(port_);
  RawClient::Response r = api.Get("/api");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["connection"], "close");
  r = probe.Get("/healthz?verbose");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");  // one request per reserve connection
  EXPECT_EQ(server_->stats().reserve_connections, 2u);
  EXPECT_TRUE(api.ClosedByPeer());
  EXPECT_TRUE(probe.ClosedByPeer());
  // The server releases a slot just after closing the socket: wait for it (generous bound).
  for (int i = 0; i < 3000 && server_->stats().open_connections != 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->stats().open_connections, 2);
  // The reserve is free again; past limit + reserve, connections are closed at accept.
  RawClient c(port_), d(port_), e(port_);
  EXPECT_EQ(c.Get("/healthz").status, 200);
  EXPECT_TRUE(e.ClosedByPeer());
  EXPECT_GE(server_->stats().rejected_connections, 1u);
  EXPECT_EQ(a.Get("/api").status, 200);  // the connections within the limit are unaffected
}

TEST_F(HttpServerTest, PerClientLimitLeavesOtherAddressesServed) {
  HttpServerOptions options;
  options.max_connections_per_client = 2;
  StartServer(options);
  RawClient h1(port_, AF_INET, "127.0.0.2"), h2(port_, AF_INET, "127.0.0.2");
  EXPECT_EQ(h1.Get("/api").status, 200);
  EXPECT_EQ(h2.Get("/api").status, 200);
  RawClient h3(port_, AF_INET, "127.0.0.2");
  EXPECT_TRUE(h3.ClosedByPeer());
  EXPECT_EQ(server_->stats().rejected_per_client, 1u);
  RawClient friendly(port_, AF_INET, "127.0.0.1");
  EXPECT_EQ(friendly.Get("/api").status, 200);
  EXPECT_EQ(server_->stats().open_connections, 3);
}

TEST_F(HttpServerTest, ConnectionMetricsGoToTheRegistry) {
  HttpServerOptions options;
  options.max_connections_per_client = 1;
  StartServer(options);
  RawClient a(port_, AF_INET, "127.0.0.3");
  EXPECT_EQ(a.Get("/api").status, 200);
  RawClient b(port_, AF_INET, "127.0.0.3");
  EXPECT_TRUE(b.ClosedByPeer());
  const std::string body = RawClient(port_).Get("/metrics").body;
  EXPECT_TRUE(absl::StrContains(body, "http_server_connections_rejected_total{reason=\"client\"} 1"))
      << body;
  EXPECT_TRUE(absl::StrContains(body, "http_server_open_connections{slot=\"normal\"} 2")) << body;
  EXPECT_TRUE(absl::StrContains(body, "# TYPE http_server_connections_timed_out_total counter"));
}

}  // namespace
}  // namespace base
