// TlsOptions: how an outbound HTTPS client trusts the server and proves who it is, as plain
// settings (PEM text or file paths). A value type with no dependency on any HTTP library, so
// a configuration (clients/kube's ClusterConfig) can carry it without including a client.
//
//   clients::http::TlsOptions tls;
//   tls.ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
//   tls.client_cert_pem = cert; tls.client_key_pem = key;
#pragma once

#include <string>

namespace clients::http {

struct TlsOptions {
  // Trust: PEM text wins over the file; both empty = the system CA store.
  std::string ca_pem;
  std::string ca_file;
  // Client certificate and key (PEM text or files) for mutual TLS; empty = none.
  std::string client_cert_pem;
  std::string client_cert_file;
  std::string client_key_pem;
  std::string client_key_file;
  // Never on by default: only for a local test or an explicit operator flag.
  bool insecure_skip_verify = false;
};

}  // namespace clients::http
