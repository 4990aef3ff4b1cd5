#include "intercept/run_ca.h"

#include "intercept/openssl_error.h"

// Last, in a block of its own: OpenSSL's functions become the slots of its dlopen table.
#include "intercept/openssl_library.h"

namespace airlock::intercept {

void X509Free::operator()(X509* certificate) const {
  X509_free(certificate);
}
void PkeyFree::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}

namespace {

constexpr long kOneHour = 3600;
// The CA lives as long as the run; a leaf must outlast any run (days of an agent session) while
// staying within what clients accept for a server certificate (397 days).
constexpr long kValidity = 397L * 24 * kOneHour;

PkeyPtr make_p256_key() {
  return PkeyPtr(EVP_EC_gen("P-256"));
}

bool add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return false;
  const int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  return added == 1;
}

// A random 64-bit serial above the counter's range keeps leaves of two runs apart.
bool set_serial(X509* certificate, long counter) {
  unsigned char random[8];
  if (RAND_bytes(random, sizeof random) != 1) return false;
  BIGNUM* number = BN_bin2bn(random, sizeof random, nullptr);
  bool ok = number != nullptr && BN_add_word(number, static_cast<BN_ULONG>(counter)) == 1 &&
            BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nullptr;
  BN_free(number);
  return ok;
}

X509Ptr new_certificate(EVP_PKEY* key, const std::string& common_name, long serial) {
  X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), 2) != 1 ||
      !set_serial(certificate.get(), serial) ||
      X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -kOneHour) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(certificate.get()), kValidity) == nullptr ||
      X509_set_pubkey(certificate.get(), key) != 1) {
    return nullptr;
  }
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return nullptr;
  }
  return certificate;
}

}  // namespace

Result<std::unique_ptr<RunCa>> RunCa::create(const std::string& label) {
  std::unique_ptr<RunCa> ca(new RunCa());
  ca->ca_key_ = make_p256_key();
  ca->leaf_key_ = make_p256_key();
  if (!ca->ca_key_ || !ca->leaf_key_) return Error{openssl_error_text("cannot make a P-256 key")};
  X509Ptr certificate = new_certificate(ca->ca_key_.get(), "airlock run CA " + label, 1);
  if (!certificate ||
      X509_set_issuer_name(certificate.get(), X509_get_subject_name(certificate.get())) != 1 ||
      !add_extension(certificate.get(), certificate.get(), NID_basic_constraints,
                     "critical,CA:TRUE,pathlen:0") ||
      !add_extension(certificate.get(), certificate.get(), NID_key_usage,
                     "critical,keyCertSign,cRLSign") ||
      !add_extension(certificate.get(), certificate.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(certificate.get(), ca->ca_key_.get(), EVP_sha256()) == 0) {
    return Error{openssl_error_text("cannot make the run CA certificate")};
  }
  BIO* memory = BIO_new(BIO_s_mem());
  if (memory == nullptr || PEM_write_bio_X509(memory, certificate.get()) != 1) {
    BIO_free(memory);
    return Error{openssl_error_text("cannot encode the run CA certificate")};
  }
  char* data = nullptr;
  const long length = BIO_get_mem_data(memory, &data);
  ca->certificate_pem_.assign(data, static_cast<size_t>(length));
  BIO_free(memory);
  ca->ca_certificate_ = std::move(certificate);
  return ca;
}

Result<X509*> RunCa::leaf_for(const std::string& name) {
  auto found = leaves_.find(name);
  if (found != leaves_.end()) return found->second.get();
  X509Ptr leaf = new_certificate(leaf_key_.get(), name, next_serial_++);
  const std::string alt_name = "DNS:" + name;
  if (!leaf ||
      X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca_certificate_.get())) != 1 ||
      !add_extension(leaf.get(), ca_certificate_.get(), NID_subject_alt_name, alt_name.c_str()) ||
      !add_extension(leaf.get(), ca_certificate_.get(), NID_basic_constraints, "CA:FALSE") ||
      !add_extension(leaf.get(), ca_certificate_.get(), NID_key_usage,
                     "critical,digitalSignature") ||
      !add_extension(leaf.get(), ca_certificate_.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(leaf.get(), ca_certificate_.get(), NID_authority_key_identifier,
                     "keyid:always") ||
      X509_sign(leaf.get(), ca_key_.get(), EVP_sha256()) == 0) {
    return Error{openssl_error_text("cannot sign a certificate for " + name)};
  }
  X509* raw = leaf.get();
  leaves_.emplace(name, std::move(leaf));
  return raw;
}

}  // namespace airlock::intercept
