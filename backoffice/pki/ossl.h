// OpenSSL, wrapped once (STYLE.md habit 10): owning handles for the OpenSSL objects the PKI
// uses, PEM in and out as QByteArray, key generation, and the error queue turned into text.
// Internal to prepay_pki — pki.h does not include it, so no OpenSSL type leaves this folder.
// Every function here returns an empty handle / empty array on failure and leaves the reason on
// OpenSSL's error queue for drainErrors().
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace prepay::pki::ossl {

// unique_ptr deleter calling OpenSSL's own free function for the type.
template<auto Free>
struct Deleter
{
    template<typename T>
    void operator()(T *handle) const noexcept
    {
        Free(handle);
    }
};

using Bio = std::unique_ptr<BIO, Deleter<&BIO_free_all>>;
using PKey = std::unique_ptr<EVP_PKEY, Deleter<&EVP_PKEY_free>>;
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<&EVP_PKEY_CTX_free>>;
using Cert = std::unique_ptr<X509, Deleter<&X509_free>>;
using Req = std::unique_ptr<X509_REQ, Deleter<&X509_REQ_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<&X509_EXTENSION_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter<&GENERAL_NAMES_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, Deleter<&GENERAL_NAME_free>>;
using Ia5String = std::unique_ptr<ASN1_IA5STRING, Deleter<&ASN1_IA5STRING_free>>;
using OctetString = std::unique_ptr<ASN1_OCTET_STRING, Deleter<&ASN1_OCTET_STRING_free>>;
using BigNum = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;

// Empties OpenSSL's (per-thread) error queue on entry and on exit, so a failure here never
// leaves stale errors for the next OpenSSL user on the thread — Qt's TLS sockets among them.
class ErrorQueueGuard
{
public:
    ErrorQueueGuard();
    ~ErrorQueueGuard();
    ErrorQueueGuard(const ErrorQueueGuard &) = delete;
    ErrorQueueGuard &operator=(const ErrorQueueGuard &) = delete;
};

// OpenSSL's error queue, oldest first, joined with "; " ("" when empty). Empties the queue.
QString drainErrors();
// `what`, followed by ": <queue>" when the queue holds anything. Empties the queue.
QString failure(const QString &what);

// PEM parsing. An encrypted private key is refused (never a passphrase prompt on the terminal).
PKey readPrivateKey(const QByteArray &pem);
Cert readCert(const QByteArray &pem);
Req readReq(const QByteArray &pem);

// PEM writing: the private key as unencrypted PKCS#8 ("BEGIN PRIVATE KEY").
QByteArray privateKeyPem(EVP_PKEY *key);
QByteArray certPem(X509 *cert);
QByteArray reqPem(X509_REQ *req);
// The DER encoding of a certificate.
QByteArray certDer(X509 *cert);

// A fresh EC key on the named curve ("P-256"), from OpenSSL's default random source.
PKey generateEcKey(const char *curve);

} // namespace prepay::pki::ossl
