// OpenSSL settings: TLS 1.2 minimum, ECDHE AES-GCM/ChaCha20 suites, no compression or
// renegotiation, ALPN "http/1.1" only (HTTP/2 is not spoken, so h2 is never selected), and a
// client certificate requested but not required and accepted whatever it is: the caller's
// authenticator verifies it against the CA pool it trusts.
#include "base/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/openssl_error.h"
#include "glog/logging.h"

namespace base::internal {
namespace {

namespace ssl = boost::asio::ssl;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// Modification time + size + inode of a file, to notice replacements (Kubernetes secret
// volumes swap a symlink, which stat follows).
std::string FileStamp(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size, ":", st.st_ino);
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  for (unsigned int i = 0; i < inlen;) {
    unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int AcceptAnyClientCert(int, X509_STORE_CTX*) { return 1; }

absl::StatusOr<std::shared_ptr<ssl::context>> MakeContext(const std::string& cert_pem,
                                                          const std::string& key_pem,
                                                          const TlsServerOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle connections give their TLS read/write buffers (~34 KB) back between records.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_cipher_list(native, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS");
  boost::system::error_code ec;
  ctx->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("serving certificate: ", ec.message()));
  ctx->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("serving key: ", ec.message()));
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError("serving key does not match the certificate");
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, AcceptAnyClientCert);
  static const unsigned char kSessionId[] = "smart-autoscaler-adapter";
  SSL_CTX_set_session_id_context(native, kSessionId, sizeof(kSessionId) - 1);
  if (!options.client_ca_files.empty()) {
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const std::string& f : options.client_ca_files) {
      if (SSL_add_file_cert_subjects_to_stack(names, f.c_str()) != 1) {
        LOG(WARNING) << "cannot read client CA names from " << f << ": " << OpenSslError();
      }
    }
    SSL_CTX_set_client_CA_list(native, names);
  }
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  return ctx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContextSource>> TlsContextSource::Create(
    TlsServerOptions options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert-file and --tls-private-key-file go together");
  }
  if (options.cert_file.empty() && options.cert_pem.empty()) {
    return absl::InvalidArgumentError("TLS needs a certificate (files or PEM text)");
  }
  std::unique_ptr<TlsContextSource> source(new TlsContextSource(std::move(options)));
  if (absl::Status s = source->Load(/*initial=*/true); !s.ok()) return s;
  return source;
}

std::shared_ptr<ssl::context> TlsContextSource::Current() const {
  absl::MutexLock lock(&mu_);
  return ctx_;
}

absl::Status TlsContextSource::ReloadIfChanged() { return Load(/*initial=*/false); }

absl::Status TlsContextSource::Load(bool initial) {
  std::string cert_pem = options_.cert_pem, key_pem = options_.key_pem;
  if (!options_.cert_file.empty()) {
    std::string stamp = FileStamp(options_.cert_file) + "|" + FileStamp(options_.key_file);
    if (!initial && stamp == stamp_) return absl::OkStatus();
    if (!ReadFile(options_.cert_file, &cert_pem) || !ReadFile(options_.key_file, &key_pem)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read ", options_.cert_file, " or ", options_.key_file));
    }
    stamp_ = stamp;
  } else if (!initial) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::shared_ptr<ssl::context>> ctx = MakeContext(cert_pem, key_pem, options_);
  if (!ctx.ok()) return ctx.status();
  absl::MutexLock lock(&mu_);
  ctx_ = *std::move(ctx);
  if (!initial) LOG(INFO) << "reloaded serving certificate from " << options_.cert_file;
  return absl::OkStatus();
}

}  // namespace base::internal
