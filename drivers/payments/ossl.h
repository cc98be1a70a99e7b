// OpenSSL, wrapped once for the payment drivers (STYLE.md habit 10): owning handles for the
// objects paycrypto uses and a guard that keeps OpenSSL's per-thread error queue clean.
// Internal to prepay_paycrypto — paycrypto.h does not include it, so no OpenSSL type leaves
// this folder. (The backoffice has its own wrapper in backoffice/pki; drivers do not link the
// backoffice, so this one is deliberately separate and smaller.)
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace prepay::payments::ossl {

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
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<&EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<&EVP_MD_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<&EVP_CIPHER_CTX_free>>;
using BigNum = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;

// Memory OpenSSL allocated for us (BN_bn2hex, PEM_read_bio's name and data), freed with
// OPENSSL_free — a macro, hence the small function.
void freeOpenSslMemory(void *memory) noexcept;
using Memory = std::unique_ptr<char, Deleter<&freeOpenSslMemory>>;
using Bytes = std::unique_ptr<unsigned char, Deleter<&freeOpenSslMemory>>;

// Empties OpenSSL's (per-thread) error queue on entry and on exit: every failure here is
// returned as a value, and stale errors must not reach the next OpenSSL user on the thread
// (Qt's TLS sockets among them).
class ErrorQueueGuard
{
public:
    ErrorQueueGuard();
    ~ErrorQueueGuard();
    ErrorQueueGuard(const ErrorQueueGuard &) = delete;
    ErrorQueueGuard &operator=(const ErrorQueueGuard &) = delete;
};

} // namespace prepay::payments::ossl
