#include "tests/testing/test_certs.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tests {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

std::unique_ptr<EVP_PKEY, Free> NewKey() {
  return std::unique_ptr<EVP_PKEY, Free>(EVP_EC_gen("P-256"));
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n);
}

absl::Status Encode(X509* cert, EVP_PKEY* key, TestCert* out) {
  Ptr<BIO> cbio(BIO_new(BIO_s_mem()));
  Ptr<BIO> kbio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(cbio.get(), cert) ||
      !PEM_write_bio_PrivateKey(kbio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return absl::InternalError("PEM encoding failed");
  }
  out->cert_pem = BioString(cbio.get());
  out->key_pem = BioString(kbio.get());
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n <= 0) return absl::InternalError("DER encoding failed");
  out->cert_der.assign(reinterpret_cast<char*>(der), n);
  OPENSSL_free(der);
  return absl::OkStatus();
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

long Serial() {
  static long next = 1000;
  return __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
}

absl::StatusOr<Ptr<X509>> NewCert(const std::string& cn, const std::vector<std::string>& orgs,
                                  EVP_PKEY* key, absl::Time nb, absl::Time na) {
  absl::Time now = absl::Now();
  if (nb == absl::InfinitePast()) nb = now - absl::Hours(1);
  if (na == absl::InfinitePast()) na = now + absl::Hours(24 * 365);
  Ptr<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), Serial());
  // Absolute times: X509_time_adj_ex offsets from time(), the kernel's coarse clock, which can
  // lag absl::Now() across a second boundary and move a certificate's times back by a second.
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(absl::ToUnixSeconds(nb)));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(absl::ToUnixSeconds(na)));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const std::string& o : orgs) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

absl::StatusOr<TestCert> MakeCa(const std::string& common_name, absl::Time not_before,
                                absl::Time not_after) {
  auto key = NewKey();
  if (!key) return absl::InternalError("EC key generation failed");
  absl::StatusOr<Ptr<X509>> cert = NewCert(common_name, {}, key.get(), not_before, not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(c));
  if (!AddExt(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExt(c, c, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
      !AddExt(c, c, NID_subject_key_identifier, "hash")) {
    return absl::InternalError("adding CA extensions failed");
  }
  if (X509_sign(c, key.get(), EVP_sha256()) == 0) return absl::InternalError("signing failed");
  TestCert out;
  absl::Status s = Encode(c, key.get(), &out);
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<TestCert> MakeLeaf(const TestCert& issuer, const LeafSpec& spec) {
  Ptr<BIO> ibio(BIO_new_mem_buf(issuer.cert_pem.data(), issuer.cert_pem.size()));
  Ptr<X509> icert(PEM_read_bio_X509(ibio.get(), nullptr, nullptr, nullptr));
  Ptr<BIO> kbio(BIO_new_mem_buf(issuer.key_pem.data(), issuer.key_pem.size()));
  Ptr<EVP_PKEY> ikey(PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
  if (!icert || !ikey) return absl::InvalidArgumentError("issuer PEM does not parse");
  auto key = NewKey();
  if (!key) return absl::InternalError("EC key generation failed");
  absl::StatusOr<Ptr<X509>> cert =
      NewCert(spec.common_name, spec.organizations, key.get(), spec.not_before, spec.not_after);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  X509_set_issuer_name(c, X509_get_subject_name(icert.get()));
  bool ok = true;
  if (spec.is_ca) {
    ok = ok && AddExt(c, icert.get(), NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && AddExt(c, icert.get(), NID_key_usage, "critical,keyCertSign,digitalSignature");
  } else {
    ok = ok && AddExt(c, icert.get(), NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && AddExt(c, icert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  }
  std::vector<std::string> eku;
  if (spec.client_auth) eku.push_back("clientAuth");
  if (spec.server_auth) eku.push_back("serverAuth");
  if (!eku.empty()) ok = ok && AddExt(c, icert.get(), NID_ext_key_usage, absl::StrJoin(eku, ","));
  std::vector<std::string> sans;
  for (const auto& d : spec.dns_names) sans.push_back(absl::StrCat("DNS:", d));
  for (const auto& ip : spec.ip_addresses) sans.push_back(absl::StrCat("IP:", ip));
  if (!sans.empty())
    ok = ok && AddExt(c, icert.get(), NID_subject_alt_name, absl::StrJoin(sans, ","));
  ok = ok && AddExt(c, icert.get(), NID_subject_key_identifier, "hash");
  ok = ok && AddExt(c, icert.get(), NID_authority_key_identifier, "keyid");
  if (!ok) return absl::InternalError("adding leaf extensions failed");
  if (X509_sign(c, ikey.get(), EVP_sha256()) == 0) return absl::InternalError("signing failed");
  TestCert out;
  absl::Status s = Encode(c, key.get(), &out);
  if (!s.ok()) return s;
  return out;
}

absl::Status WriteTestFile(const std::string& path, const std::string& contents) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << contents;
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string MakeTestDir(const std::string& prefix) {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/", prefix, "XXXXXX");
  char* dir = mkdtemp(tmpl.data());
  return dir != nullptr ? std::string(dir) : std::string();
}

}  // namespace tests
