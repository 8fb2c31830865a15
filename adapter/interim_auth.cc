#include "adapter/interim_auth.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"

namespace adapter {
namespace {

std::string NameEntry(X509_NAME* name, int nid, int* last) {
  *last = X509_NAME_get_index_by_NID(name, nid, *last);
  if (*last < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, *last));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  std::string out = len > 0 ? std::string(reinterpret_cast<char*>(utf8), len) : "";
  OPENSSL_free(utf8);
  return out;
}

X509* FromDer(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return d2i_X509(nullptr, &p, static_cast<long>(der.size()));
}

class ClientCertAuthenticator : public auth::Authenticator {
 public:
  explicit ClientCertAuthenticator(X509_STORE* store) : store_(store) {}
  ~ClientCertAuthenticator() override {
    if (store_ != nullptr) X509_STORE_free(store_);
  }

  absl::StatusOr<auth::UserInfo> Authenticate(const auth::Request& r) override {
    if (store_ == nullptr || r.peer_cert_der.empty()) {
      return absl::UnauthenticatedError("Unauthorized");
    }
    X509* leaf = FromDer(r.peer_cert_der);
    if (leaf == nullptr) return absl::UnauthenticatedError("Unauthorized: unreadable client certificate");
    STACK_OF(X509)* chain = sk_X509_new_null();
    for (const std::string& der : r.peer_chain_der) {
      if (X509* c = FromDer(der)) sk_X509_push(chain, c);
    }
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    bool ok = X509_STORE_CTX_init(ctx, store_, leaf, chain) == 1 &&
              X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) == 1 &&
              X509_verify_cert(ctx) == 1;
    std::string why = ok ? "" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(chain, X509_free);
    ERR_clear_error();
    if (!ok) {
      X509_free(leaf);
      return absl::UnauthenticatedError(absl::StrCat("Unauthorized: client certificate: ", why));
    }
    auth::UserInfo user;
    X509_NAME* subject = X509_get_subject_name(leaf);
    int last = -1;
    user.name = NameEntry(subject, NID_commonName, &last);
    last = -1;
    for (std::string o; !(o = NameEntry(subject, NID_organizationName, &last)).empty();) {
      user.groups.push_back(o);
    }
    user.groups.push_back("system:authenticated");
    X509_free(leaf);
    if (user.name.empty()) return absl::UnauthenticatedError("Unauthorized: certificate has no CN");
    return user;
  }

 private:
  X509_STORE* store_;
};

class AuthenticatedOnlyAuthorizer : public auth::Authorizer {
 public:
  absl::Status Authorize(const auth::UserInfo& u, const auth::Attributes& a) override {
    if (u.name != "system:anonymous") return absl::OkStatus();
    if (!a.resource_request && (a.path == "/healthz" || a.path == "/livez" || a.path == "/readyz")) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(
        absl::StrCat("forbidden: User \"", u.name, "\" cannot get path \"", a.path, "\""));
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<auth::Authenticator>> NewClientCertAuthenticator(
    const std::string& ca_file) {
  if (ca_file.empty()) return std::make_unique<ClientCertAuthenticator>(nullptr);
  X509_STORE* store = X509_STORE_new();
  if (X509_STORE_load_file(store, ca_file.c_str()) != 1) {
    X509_STORE_free(store);
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("cannot load client CA bundle ", ca_file));
  }
  return std::make_unique<ClientCertAuthenticator>(store);
}

std::unique_ptr<auth::Authorizer> NewAuthenticatedOnlyAuthorizer() {
  return std::make_unique<AuthenticatedOnlyAuthorizer>();
}

}  // namespace adapter
