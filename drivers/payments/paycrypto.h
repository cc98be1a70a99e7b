// The cryptography the payment providers need, and nothing more (PAYMENT-PROVIDERS.md §4.2
// item 1): SHA-256, constant-time comparison, strict base64, RSA keys from PEM or bare base64,
// RSA-SHA256 (PKCS#1 v1.5) signing and verification, AES-GCM opening with the tag split off the
// end, and X.509 certificates with the serial and issuer the providers name keys by.
//
// Every failure is a value from a closed enum, never an exception or a crash: a provider's
// probe signature (`WECHATPAY/SIGNTEST/…`), a truncated ciphertext or a garbage key file all
// end as a named outcome the caller logs and answers. No OpenSSL type appears here; the
// handles live in ossl.h, inside this folder. Keys and certificates are immutable once loaded
// and cheap to copy (they share one OpenSSL object), so a key store can hand them out freely.
//
// What this does not do: decide which key to trust for which message (the protocol modules'
// key stores do that), check timestamps, or parse JSON.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <memory>
#include <optional>

// OpenSSL's own struct names, declared so the handles below need no OpenSSL header.
struct evp_pkey_st;
struct x509_st;

namespace prepay::payments {

// Limits, in one place (STYLE.md habit 8).
// Alipay and WeChat Pay both use 2048-bit RSA; a smaller key is refused as unusable.
inline constexpr int rsaKeyBitsMin = 2048;
// Larger keys cost time per verification to no benefit here; refused so a hostile file cannot
// make every notification slow.
inline constexpr int rsaKeyBitsMax = 4096;
// WeChat Pay's resource nonce is always 12 bytes, GCM's native IV size. Other sizes are
// refused rather than silently hashed into an IV.
inline constexpr qsizetype gcmNonceBytes = 12;
inline constexpr qsizetype gcmTagBytes = 16;
static_assert(gcmTagBytes == 16, "the provider formats append GCM's full 128-bit tag");

QByteArray sha256(QByteArrayView data);
// Lowercase hex of SHA-256 (UnionPay's ACP 5.1.0 signs this text, not the raw digest).
QByteArray sha256Hex(QByteArrayView data);
// Lowercase hex of MD5 — only for Alipay's certificate SN, never for integrity.
QByteArray md5Hex(QByteArrayView data);

// True when both arrays hold the same bytes. The time taken depends on the lengths only, never
// on where the first difference is; use it for secrets and signatures received from outside.
bool constantTimeEquals(QByteArrayView a, QByteArrayView b);

// Strict base64 decoding (RFC 4648 §4, the standard alphabet with `+` and `/`):
//   - the length must be a multiple of 4 and `=` may appear only as one or two final pad
//     characters; unpadded input is refused;
//   - no whitespace anywhere — not even a trailing newline. Signatures arrive in headers and
//     form fields where a line break is never legitimate, so one is a sign of a mangled value
//     (a `+` turned into a space by a wrong form decoder is the classic case). Callers that
//     read base64 from a file trim it themselves (the key loaders below do);
//   - the unused bits of the last character must be zero, so every byte string has exactly
//     one accepted encoding;
//   - the URL-safe alphabet (`-`, `_`) is refused.
// Returns nothing on any violation; the empty input decodes to the empty array.
std::optional<QByteArray> decodeBase64Strict(QByteArrayView text);
// Standard base64 with padding and no line breaks, the form both providers send.
QByteArray encodeBase64(QByteArrayView data);

// Why a key or certificate could not be loaded.
enum class KeyLoadStatus {
    Loaded = 0,
    NotPemOrBase64 = 1, // neither PEM armour nor strict base64 (after trimming the ends)
    Encrypted = 2,      // a passphrase-protected key; we never prompt
    Malformed = 3,      // the DER inside does not parse as the expected object
    NotRsa = 4,         // a key of another algorithm (EC, SM2)
    BadKeySize = 5,     // outside [rsaKeyBitsMin, rsaKeyBitsMax]
};

// An RSA private key (ours: Alipay's app key, WeChat Pay's merchant API key).
class PrivateKey
{
public:
    PrivateKey() = default;
    // PEM with armour "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (unencrypted PKCS#8), or the
    // bare base64 DER of either without armour (how Alipay's key tool hands keys out). Leading
    // and trailing whitespace and line breaks inside the base64 are accepted here: key files
    // are written by people and tools, unlike signatures.
    static PrivateKey load(QByteArrayView text, KeyLoadStatus *status = nullptr);

    bool isNull() const { return !m_key; }
    int bits() const;

private:
    friend class PayCryptoAccess;
    std::shared_ptr<evp_pkey_st> m_key;
};

// An RSA public key (theirs: Alipay's public key, WeChat Pay's platform key).
class PublicKey
{
public:
    PublicKey() = default;
    // PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1), or the bare base64
    // DER of either (Alipay's console shows the SubjectPublicKeyInfo this way).
    static PublicKey load(QByteArrayView text, KeyLoadStatus *status = nullptr);

    bool isNull() const { return !m_key; }
    int bits() const;
    // The DER SubjectPublicKeyInfo, to compare keys (a certificate's key with a pinned one).
    QByteArray spkiDer() const;

private:
    friend class PayCryptoAccess;
    friend class Certificate;
    std::shared_ptr<evp_pkey_st> m_key;
};

// An X.509 certificate (WeChat Pay platform and merchant certificates, Alipay's certificate
// mode). Loading checks nothing about trust or validity dates: that is the key store's job.
class Certificate
{
public:
    Certificate() = default;
    // PEM "CERTIFICATE" or bare base64 DER.
    static Certificate load(QByteArrayView text, KeyLoadStatus *status = nullptr);

    bool isNull() const { return !m_cert; }
    // The serial number in uppercase hex without leading zeros, as WeChat Pay's
    // `Wechatpay-Serial` and `serial_no` carry it ("D7CE59D1F522D701").
    QByteArray serialHex() const;
    // The serial number in decimal, as Alipay's certificate SN uses it.
    QByteArray serialDecimal() const;
    // The issuer's distinguished name printed the RFC 2253 way
    // ("CN=…,OU=…,O=…,C=CN": most specific first, no spaces around the separators).
    QByteArray issuerRfc2253() const;
    // True when the certificate is signed with an RSA-based algorithm (sha1/sha256WithRSA);
    // Alipay's root SN skips the others (SM2, ECDSA).
    bool isRsaSigned() const;
    // The certificate's key; null when it is not an RSA key of an accepted size.
    PublicKey publicKey() const;
    // The subject's commonName values (UTF-8, joined with "," when there are several); empty
    // when there is none.
    QString subjectCommonName() const;
    // True when `utcMs` lies within [notBefore, notAfter].
    bool isValidAt(qint64 utcMs) const;
    // True when this certificate names `issuer`'s subject as its issuer and its signature
    // verifies with `issuer`'s key. One level only: no path building, no revocation.
    bool isIssuedBy(const Certificate &issuer) const;

private:
    std::shared_ptr<x509_st> m_cert;
};

// Alipay's certificate SN (PAYMENT-PROVIDERS.md §1.6): lowercase hex MD5 of the issuer in RFC
// 2253 form followed by the serial in decimal. Empty for a null certificate.
QByteArray alipayCertSn(const Certificate &cert);
// The certificates of a PEM bundle, in order. Nothing when it holds none or a block that does
// not parse.
std::optional<QList<Certificate>> loadCertificateBundle(QByteArrayView pemBundle);
// Alipay's root SN: the SNs of the RSA-signed certificates in a PEM bundle, in bundle order,
// joined with `_`; the others are skipped. Nothing when the bundle holds no certificate or a
// block that does not parse.
std::optional<QByteArray> alipayRootCertSn(QByteArrayView pemBundle);

// RSA-SHA256 with PKCS#1 v1.5 padding: deterministic, so a vector's signature is reproduced
// byte for byte. Returns the raw signature (not base64); nothing for a null key.
std::optional<QByteArray> signRsaSha256(const PrivateKey &key, QByteArrayView message);

// The outcome of checking a signature received from outside.
enum class VerifyStatus {
    Valid = 0,
    BadSignature = 1,       // well-formed, but not made by this key over these bytes
    MalformedSignature = 2, // not strict base64, or not the key's size (probe traffic ends here)
    NoKey = 3,              // null key: the caller has no key for the message's serial
};
// Verifies `signatureBase64` (standard base64 as received) over `message`.
VerifyStatus verifyRsaSha256(const PublicKey &key, QByteArrayView message, QByteArrayView signatureBase64);

// The outcome of opening an AEAD_AES_*_GCM resource.
enum class GcmStatus {
    Opened = 0,
    BadKeyLength = 1,   // neither 16 (AES-128) nor 32 (AES-256) bytes
    BadNonceLength = 2, // not gcmNonceBytes
    TooShort = 3,       // shorter than the tag
    Rejected = 4,       // authentication failed: wrong key, nonce, AAD, or a tampered byte
};
struct GcmOpened
{
    GcmStatus status = GcmStatus::Rejected;
    QByteArray plaintext; // empty unless Opened
};
// Decrypts `ciphertextAndTag` (the provider's decoded `ciphertext`: data followed by the
// 16-byte tag) with AES-GCM. The key's length picks AES-128 or AES-256; WeChat's APIv3 key is
// its 32 ASCII bytes used as they are. No plaintext is returned unless the tag checks.
GcmOpened aesGcmOpen(
    QByteArrayView key, QByteArrayView nonce, QByteArrayView associatedData, QByteArrayView ciphertextAndTag);

} // namespace prepay::payments
