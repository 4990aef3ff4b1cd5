// OpenSSL is opened with dlopen when a run has credentials, not linked: linked in, its method
// tables and ASN.1 templates cost every `airlock run` about 110 page faults of relocations
// (measured: 247 -> 361 faults for `airlock run -- /bin/true`), for a feature most runs do not
// use. The intercept code includes this header after OpenSSL's own: each function it calls is
// then a macro for the slot that open_openssl() filled, and OpenSSL's function-like macros
// (SSL_set_tlsext_host_name -> SSL_ctrl, ...) expand into slots too. Include it last, and only
// in src/intercept/*.cpp.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/result.h"

// Every OpenSSL function the intercept code calls, directly or through one of OpenSSL's macros.
#define AIRLOCK_OPENSSL_FUNCTIONS(X)    \
  X(BIO_ctrl)                           \
  X(BIO_free)                           \
  X(BIO_new)                            \
  X(BIO_read)                           \
  X(BIO_s_mem)                          \
  X(BIO_write)                          \
  X(BN_add_word)                        \
  X(BN_bin2bn)                          \
  X(BN_free)                            \
  X(BN_to_ASN1_INTEGER)                 \
  X(ERR_clear_error)                    \
  X(ERR_error_string_n)                 \
  X(ERR_get_error)                      \
  X(EVP_PKEY_Q_keygen)                  \
  X(EVP_PKEY_free)                      \
  X(EVP_sha256)                         \
  X(PEM_write_bio_X509)                 \
  X(RAND_bytes)                         \
  X(SSL_CTX_callback_ctrl)              \
  X(SSL_CTX_check_private_key)          \
  X(SSL_CTX_ctrl)                       \
  X(SSL_CTX_free)                       \
  X(SSL_CTX_get_ex_data)                \
  X(SSL_CTX_load_verify_locations)      \
  X(SSL_CTX_new)                        \
  X(SSL_CTX_sess_set_new_cb)            \
  X(SSL_CTX_set_alpn_protos)            \
  X(SSL_CTX_set_alpn_select_cb)         \
  X(SSL_CTX_set_default_verify_paths)   \
  X(SSL_CTX_set_ex_data)                \
  X(SSL_CTX_set_options)                \
  X(SSL_CTX_set_verify)                 \
  X(SSL_CTX_use_PrivateKey_file)        \
  X(SSL_CTX_use_certificate_chain_file) \
  X(SSL_SESSION_free)                   \
  X(SSL_ctrl)                           \
  X(SSL_do_handshake)                   \
  X(SSL_free)                           \
  X(SSL_get_SSL_CTX)                    \
  X(SSL_get_error)                      \
  X(SSL_get_ex_data)                    \
  X(SSL_get_servername)                 \
  X(SSL_get_verify_result)              \
  X(SSL_new)                            \
  X(SSL_read)                           \
  X(SSL_select_next_proto)              \
  X(SSL_set1_host)                      \
  X(SSL_set_accept_state)               \
  X(SSL_set_bio)                        \
  X(SSL_set_connect_state)              \
  X(SSL_set_ex_data)                    \
  X(SSL_set_hostflags)                  \
  X(SSL_set_session)                    \
  X(SSL_shutdown)                       \
  X(SSL_use_PrivateKey)                 \
  X(SSL_use_certificate)                \
  X(SSL_write)                          \
  X(TLS_client_method)                  \
  X(TLS_server_method)                  \
  X(X509V3_EXT_conf_nid)                \
  X(X509V3_set_ctx)                     \
  X(X509_EXTENSION_free)                \
  X(X509_NAME_add_entry_by_txt)         \
  X(X509_add_ext)                       \
  X(X509_free)                          \
  X(X509_get_serialNumber)              \
  X(X509_get_subject_name)              \
  X(X509_getm_notAfter)                 \
  X(X509_getm_notBefore)                \
  X(X509_gmtime_adj)                    \
  X(X509_new)                           \
  X(X509_set_issuer_name)               \
  X(X509_set_pubkey)                    \
  X(X509_set_version)                   \
  X(X509_sign)                          \
  X(X509_verify_cert_error_string)

namespace airlock::intercept {

// One slot per function, typed by OpenSSL's own declaration.
struct OpenSslFunctions {
#define AIRLOCK_OPENSSL_SLOT(name) decltype(&::name) name##_ = nullptr;
  AIRLOCK_OPENSSL_FUNCTIONS(AIRLOCK_OPENSSL_SLOT)
#undef AIRLOCK_OPENSSL_SLOT
};

// Opens libssl.so.3 (and through it libcrypto.so.3) and fills every slot, once; later calls
// return the first result. Until it succeeded no slot may be called.
Status open_openssl();
const OpenSslFunctions& openssl();

}  // namespace airlock::intercept

#ifndef AIRLOCK_OPENSSL_LIBRARY_IMPLEMENTATION
#define AIRLOCK_OPENSSL_CALL(name) (::airlock::intercept::openssl().name##_)
#define BIO_ctrl AIRLOCK_OPENSSL_CALL(BIO_ctrl)
#define BIO_free AIRLOCK_OPENSSL_CALL(BIO_free)
#define BIO_new AIRLOCK_OPENSSL_CALL(BIO_new)
#define BIO_read AIRLOCK_OPENSSL_CALL(BIO_read)
#define BIO_s_mem AIRLOCK_OPENSSL_CALL(BIO_s_mem)
#define BIO_write AIRLOCK_OPENSSL_CALL(BIO_write)
#define BN_add_word AIRLOCK_OPENSSL_CALL(BN_add_word)
#define BN_bin2bn AIRLOCK_OPENSSL_CALL(BN_bin2bn)
#define BN_free AIRLOCK_OPENSSL_CALL(BN_free)
#define BN_to_ASN1_INTEGER AIRLOCK_OPENSSL_CALL(BN_to_ASN1_INTEGER)
#define ERR_clear_error AIRLOCK_OPENSSL_CALL(ERR_clear_error)
#define ERR_error_string_n AIRLOCK_OPENSSL_CALL(ERR_error_string_n)
#define ERR_get_error AIRLOCK_OPENSSL_CALL(ERR_get_error)
#define EVP_PKEY_Q_keygen AIRLOCK_OPENSSL_CALL(EVP_PKEY_Q_keygen)
#define EVP_PKEY_free AIRLOCK_OPENSSL_CALL(EVP_PKEY_free)
#define EVP_sha256 AIRLOCK_OPENSSL_CALL(EVP_sha256)
#define PEM_write_bio_X509 AIRLOCK_OPENSSL_CALL(PEM_write_bio_X509)
#define RAND_bytes AIRLOCK_OPENSSL_CALL(RAND_bytes)
#define SSL_CTX_callback_ctrl AIRLOCK_OPENSSL_CALL(SSL_CTX_callback_ctrl)
#define SSL_CTX_check_private_key AIRLOCK_OPENSSL_CALL(SSL_CTX_check_private_key)
#define SSL_CTX_ctrl AIRLOCK_OPENSSL_CALL(SSL_CTX_ctrl)
#define SSL_CTX_free AIRLOCK_OPENSSL_CALL(SSL_CTX_free)
#define SSL_CTX_get_ex_data AIRLOCK_OPENSSL_CALL(SSL_CTX_get_ex_data)
#define SSL_CTX_load_verify_locations AIRLOCK_OPENSSL_CALL(SSL_CTX_load_verify_locations)
#define SSL_CTX_new AIRLOCK_OPENSSL_CALL(SSL_CTX_new)
#define SSL_CTX_sess_set_new_cb AIRLOCK_OPENSSL_CALL(SSL_CTX_sess_set_new_cb)
#define SSL_CTX_set_alpn_protos AIRLOCK_OPENSSL_CALL(SSL_CTX_set_alpn_protos)
#define SSL_CTX_set_alpn_select_cb AIRLOCK_OPENSSL_CALL(SSL_CTX_set_alpn_select_cb)
#define SSL_CTX_set_default_verify_paths AIRLOCK_OPENSSL_CALL(SSL_CTX_set_default_verify_paths)
#define SSL_CTX_set_ex_data AIRLOCK_OPENSSL_CALL(SSL_CTX_set_ex_data)
#define SSL_CTX_set_options AIRLOCK_OPENSSL_CALL(SSL_CTX_set_options)
#define SSL_CTX_set_verify AIRLOCK_OPENSSL_CALL(SSL_CTX_set_verify)
#define SSL_CTX_use_PrivateKey_file AIRLOCK_OPENSSL_CALL(SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_use_certificate_chain_file AIRLOCK_OPENSSL_CALL(SSL_CTX_use_certificate_chain_file)
#define SSL_SESSION_free AIRLOCK_OPENSSL_CALL(SSL_SESSION_free)
#define SSL_ctrl AIRLOCK_OPENSSL_CALL(SSL_ctrl)
#define SSL_do_handshake AIRLOCK_OPENSSL_CALL(SSL_do_handshake)
#define SSL_free AIRLOCK_OPENSSL_CALL(SSL_free)
#define SSL_get_SSL_CTX AIRLOCK_OPENSSL_CALL(SSL_get_SSL_CTX)
#define SSL_get_error AIRLOCK_OPENSSL_CALL(SSL_get_error)
#define SSL_get_ex_data AIRLOCK_OPENSSL_CALL(SSL_get_ex_data)
#define SSL_get_servername AIRLOCK_OPENSSL_CALL(SSL_get_servername)
#define SSL_get_verify_result AIRLOCK_OPENSSL_CALL(SSL_get_verify_result)
#define SSL_new AIRLOCK_OPENSSL_CALL(SSL_new)
#define SSL_read AIRLOCK_OPENSSL_CALL(SSL_read)
#define SSL_select_next_proto AIRLOCK_OPENSSL_CALL(SSL_select_next_proto)
#define SSL_set1_host AIRLOCK_OPENSSL_CALL(SSL_set1_host)
#define SSL_set_accept_state AIRLOCK_OPENSSL_CALL(SSL_set_accept_state)
#define SSL_set_bio AIRLOCK_OPENSSL_CALL(SSL_set_bio)
#define SSL_set_connect_state AIRLOCK_OPENSSL_CALL(SSL_set_connect_state)
#define SSL_set_ex_data AIRLOCK_OPENSSL_CALL(SSL_set_ex_data)
#define SSL_set_hostflags AIRLOCK_OPENSSL_CALL(SSL_set_hostflags)
#define SSL_set_session AIRLOCK_OPENSSL_CALL(SSL_set_session)
#define SSL_shutdown AIRLOCK_OPENSSL_CALL(SSL_shutdown)
#define SSL_use_PrivateKey AIRLOCK_OPENSSL_CALL(SSL_use_PrivateKey)
#define SSL_use_certificate AIRLOCK_OPENSSL_CALL(SSL_use_certificate)
#define SSL_write AIRLOCK_OPENSSL_CALL(SSL_write)
#define TLS_client_method AIRLOCK_OPENSSL_CALL(TLS_client_method)
#define TLS_server_method AIRLOCK_OPENSSL_CALL(TLS_server_method)
#define X509V3_EXT_conf_nid AIRLOCK_OPENSSL_CALL(X509V3_EXT_conf_nid)
#define X509V3_set_ctx AIRLOCK_OPENSSL_CALL(X509V3_set_ctx)
#define X509_EXTENSION_free AIRLOCK_OPENSSL_CALL(X509_EXTENSION_free)
#define X509_NAME_add_entry_by_txt AIRLOCK_OPENSSL_CALL(X509_NAME_add_entry_by_txt)
#define X509_add_ext AIRLOCK_OPENSSL_CALL(X509_add_ext)
#define X509_free AIRLOCK_OPENSSL_CALL(X509_free)
#define X509_get_serialNumber AIRLOCK_OPENSSL_CALL(X509_get_serialNumber)
#define X509_get_subject_name AIRLOCK_OPENSSL_CALL(X509_get_subject_name)
#define X509_getm_notAfter AIRLOCK_OPENSSL_CALL(X509_getm_notAfter)
#define X509_getm_notBefore AIRLOCK_OPENSSL_CALL(X509_getm_notBefore)
#define X509_gmtime_adj AIRLOCK_OPENSSL_CALL(X509_gmtime_adj)
#define X509_new AIRLOCK_OPENSSL_CALL(X509_new)
#define X509_set_issuer_name AIRLOCK_OPENSSL_CALL(X509_set_issuer_name)
#define X509_set_pubkey AIRLOCK_OPENSSL_CALL(X509_set_pubkey)
#define X509_set_version AIRLOCK_OPENSSL_CALL(X509_set_version)
#define X509_sign AIRLOCK_OPENSSL_CALL(X509_sign)
#define X509_verify_cert_error_string AIRLOCK_OPENSSL_CALL(X509_verify_cert_error_string)
#endif
