#include "clients/kube/cluster_config.h"

#include <yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/http/curl_http_client.h"

namespace clients::kube {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A YAML node tree: enough for kubeconfig (maps, sequences, scalars as text).
struct Node {
  enum Kind { kNull, kScalar, kMap, kSeq } kind = kNull;
  std::string scalar;
  std::vector<std::pair<std::string, Node>> map;
  std::vector<Node> seq;

  const Node* Get(absl::string_view key) const {
    if (kind != kMap) return nullptr;
    for (const auto& [k, v] : map) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  std::string Str(absl::string_view key) const {
    const Node* n = Get(key);
    return n != nullptr && n->kind == kScalar ? n->scalar : "";
  }
};

Node Convert(yaml_document_t* doc, yaml_node_t* node, int depth) {
  Node out;
  if (node == nullptr || depth > 64) return out;
  switch (node->type) {
    case YAML_SCALAR_NODE: {
      out.kind = Node::kScalar;
      out.scalar.assign(reinterpret_cast<char*>(node->data.scalar.value), node->data.scalar.length);
      // A plain "null" / "~" is YAML's null.
      if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
          (out.scalar == "null" || out.scalar == "~" || out.scalar.empty())) {
        out = Node();
      }
      break;
    }
    case YAML_SEQUENCE_NODE:
      out.kind = Node::kSeq;
      for (yaml_node_item_t* it = node->data.sequence.items.start;
           it < node->data.sequence.items.top; ++it) {
        out.seq.push_back(Convert(doc, yaml_document_get_node(doc, *it), depth + 1));
      }
      break;
    case YAML_MAPPING_NODE:
      out.kind = Node::kMap;
      for (yaml_node_pair_t* p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
           ++p) {
        Node key = Convert(doc, yaml_document_get_node(doc, p->key), depth + 1);
        if (key.kind != Node::kScalar) continue;
        out.map.emplace_back(key.scalar,
                             Convert(doc, yaml_document_get_node(doc, p->value), depth + 1));
      }
      break;
    default:
      break;
  }
  return out;
}

absl::StatusOr<Node> ParseYaml(const std::string& text) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return absl::InternalError("yaml_parser_initialize");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  yaml_document_t doc;
  if (!yaml_parser_load(&parser, &doc)) {
    std::string msg = absl::StrCat("kubeconfig is not valid YAML: ",
                                   parser.problem != nullptr ? parser.problem : "parse error",
                                   " at line ", parser.problem_mark.line + 1);
    yaml_parser_delete(&parser);
    return absl::InvalidArgumentError(msg);
  }
  Node root = Convert(&doc, yaml_document_get_root_node(&doc), 0);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return root;
}

const Node* FindNamed(const Node& root, absl::string_view list, const std::string& name) {
  const Node* items = root.Get(list);
  if (items == nullptr || items->kind != Node::kSeq) return nullptr;
  for (const Node& item : items->seq) {
    if (item.Str("name") == name) return &item;
  }
  return nullptr;
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  if (file.empty() || file[0] == '/' || base_dir.empty()) return file;
  return absl::StrCat(base_dir, "/", file);
}

absl::StatusOr<std::string> Base64Field(const std::string& value, absl::string_view field) {
  std::string out;
  std::string compact;
  for (char c : value) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) compact.push_back(c);
  }
  if (!absl::Base64Unescape(compact, &out)) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig: ", field, " is not base64"));
  }
  return out;
}

}  // namespace

absl::StatusOr<ClusterConfig> InClusterConfig(const InClusterEnv& env) {
  std::string host = env.host, port = env.port;
  if (host.empty()) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    host = h != nullptr ? h : "";
  }
  if (port.empty()) {
    const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
    port = p != nullptr ? p : "";
  }
  if (host.empty() || port.empty()) {
    return absl::NotFoundError(
        "not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset");
  }
  // An IPv6 service address needs brackets in a URL.
  if (absl::StrContains(host, ':') && !absl::StartsWith(host, "["))
    host = absl::StrCat("[", host, "]");
  ClusterConfig c;
  c.server = absl::StrCat("https://", host, ":", port);
  absl::StatusOr<std::string> token = ReadFile(env.token_file);
  if (!token.ok()) return absl::FailedPreconditionError(token.status().message());
  c.token_file = env.token_file;
  absl::StatusOr<std::string> ca = ReadFile(env.ca_file);
  if (!ca.ok()) return absl::FailedPreconditionError(ca.status().message());
  c.tls.ca_pem = *ca;
  return c;
}

absl::StatusOr<ClusterConfig> ParseKubeconfig(const std::string& text, const std::string& base_dir,
                                              const std::string& context) {
  absl::StatusOr<Node> root = ParseYaml(text);
  if (!root.ok()) return root.status();
  if (root->kind != Node::kMap) return absl::InvalidArgumentError("kubeconfig is not a mapping");
  std::string ctx_name = context.empty() ? root->Str("current-context") : context;
  if (ctx_name.empty()) return absl::NotFoundError("kubeconfig has no current-context");
  const Node* ctx_item = FindNamed(*root, "contexts", ctx_name);
  if (ctx_item == nullptr || ctx_item->Get("context") == nullptr) {
    return absl::NotFoundError(absl::StrCat("kubeconfig has no context \"", ctx_name, "\""));
  }
  const Node& ctx = *ctx_item->Get("context");
  const Node* cluster_item = FindNamed(*root, "clusters", ctx.Str("cluster"));
  if (cluster_item == nullptr || cluster_item->Get("cluster") == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("kubeconfig has no cluster \"", ctx.Str("cluster"), "\""));
  }
  const Node& cluster = *cluster_item->Get("cluster");
  ClusterConfig c;
  c.server = std::string(absl::StripSuffix(cluster.Str("server"), "/"));
  if (c.server.empty()) return absl::InvalidArgumentError("kubeconfig cluster has no server");
  if (!cluster.Str("certificate-authority-data").empty()) {
    absl::StatusOr<std::string> ca =
        Base64Field(cluster.Str("certificate-authority-data"), "certificate-authority-data");
    if (!ca.ok()) return ca.status();
    c.tls.ca_pem = *ca;
  } else if (!cluster.Str("certificate-authority").empty()) {
    c.tls.ca_file = Resolve(base_dir, cluster.Str("certificate-authority"));
  }
  c.tls.insecure_skip_verify =
      absl::AsciiStrToLower(cluster.Str("insecure-skip-tls-verify")) == "true";

  const std::string user_name = ctx.Str("user");
  if (!user_name.empty()) {
    const Node* user_item = FindNamed(*root, "users", user_name);
    if (user_item == nullptr) {
      return absl::NotFoundError(absl::StrCat("kubeconfig has no user \"", user_name, "\""));
    }
    const Node* user = user_item->Get("user");
    if (user != nullptr) {
      if (user->Get("exec") != nullptr || user->Get("auth-provider") != nullptr) {
        return absl::UnimplementedError(
            "kubeconfig user uses an exec or auth-provider plugin; use a client certificate or "
            "a token");
      }
      if (!user->Str("client-certificate-data").empty()) {
        absl::StatusOr<std::string> v =
            Base64Field(user->Str("client-certificate-data"), "client-certificate-data");
        if (!v.ok()) return v.status();
        c.tls.client_cert_pem = *v;
      } else {
        c.tls.client_cert_file = Resolve(base_dir, user->Str("client-certificate"));
      }
      if (!user->Str("client-key-data").empty()) {
        absl::StatusOr<std::string> v =
            Base64Field(user->Str("client-key-data"), "client-key-data");
        if (!v.ok()) return v.status();
        c.tls.client_key_pem = *v;
      } else {
        c.tls.client_key_file = Resolve(base_dir, user->Str("client-key"));
      }
      c.bearer_token = user->Str("token");
      c.token_file = Resolve(base_dir, user->Str("tokenFile"));
    }
  }
  return c;
}

absl::StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  std::string dir;
  size_t slash = path.rfind('/');
  if (slash != std::string::npos) dir = path.substr(0, slash);
  absl::StatusOr<ClusterConfig> c = ParseKubeconfig(*text, dir, context);
  if (!c.ok()) {
    return absl::Status(c.status().code(), absl::StrCat(path, ": ", c.status().message()));
  }
  return c;
}

absl::StatusOr<std::string> CurrentBearerToken(const ClusterConfig& config) {
  if (config.token_file.empty()) return config.bearer_token;
  absl::StatusOr<std::string> token = ReadFile(config.token_file);
  if (!token.ok()) return absl::FailedPreconditionError(token.status().message());
  return std::string(absl::StripAsciiWhitespace(*token));
}

absl::StatusOr<clients::http::HttpRequest> NewApiRequest(const ClusterConfig& config,
                                                         const std::string& method,
                                                         const std::string& path,
                                                         const std::string& body,
                                                         absl::Duration timeout) {
  clients::http::HttpRequest req;
  req.method = method;
  req.url = config.server + path;
  req.timeout = timeout;
  req.body = body;
  req.headers.push_back({"Accept", "application/json"});
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  absl::StatusOr<std::string> token = CurrentBearerToken(config);
  if (!token.ok()) return absl::UnavailableError(token.status().message());
  if (!token->empty()) req.headers.push_back({"Authorization", absl::StrCat("Bearer ", *token)});
  return req;
}

std::unique_ptr<clients::http::HttpClient> MakeHttpClient(const ClusterConfig& config) {
  clients::http::CurlOptions opts;
  opts.tls = config.tls;
  opts.user_agent = "smart-autoscaler/kube";
  return clients::http::MakeCurlHttpClient(opts);
}

std::unique_ptr<clients::http::StreamingHttpClient> MakeStreamingHttpClient(
    const ClusterConfig& config) {
  clients::http::CurlOptions opts;
  opts.tls = config.tls;
  opts.user_agent = "smart-autoscaler/kube";
  return clients::http::MakeCurlStreamingHttpClient(opts);
}

absl::StatusOr<clients::http::HttpResponse> DoApiRequest(clients::http::HttpClient* http,
                                                         const ClusterConfig& config,
                                                         const std::string& method,
                                                         const std::string& path,
                                                         const std::string& body,
                                                         absl::Duration timeout,
                                                         const std::string& content_type) {
  absl::StatusOr<clients::http::HttpRequest> req =
      NewApiRequest(config, method, path, body, timeout);
  if (!req.ok()) return req.status();
  if (!content_type.empty()) {
    for (auto& [k, v] : req->headers) {
      if (k == "Content-Type") v = content_type;
    }
  }
  absl::StatusOr<clients::http::HttpResponse> r = http->Do(*req);
  if (!r.ok() && r.status().code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::UnavailableError(absl::StrCat("kubernetes API ", path, ": ", r.status().message()));
  }
  return r;
}

absl::Status ApiError(const std::string& method, const std::string& path, int http_status,
                      const std::string& body) {
  std::string what = absl::StrCat("kubernetes API ", method, " ", path, " answered HTTP ",
                                  http_status, ": ", body.substr(0, 300));
  switch (http_status) {
    case 401:
      return absl::UnauthenticatedError(what);
    case 403:
      return absl::PermissionDeniedError(what);
    case 404:
      return absl::NotFoundError(what);
    default:
      if (clients::http::IsRetryableStatus(http_status)) return absl::UnavailableError(what);
      return absl::InternalError(what);
  }
}

}  // namespace clients::kube
