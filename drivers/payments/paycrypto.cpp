#include "paycrypto.h"

#include "ossl.h"

#include <QtCore/QByteArrayList>
#include <QtCore/QStringList>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <climits>

namespace prepay::payments {

// Reaches into the key classes from this file's helpers; declared a friend in paycrypto.h.
class PayCryptoAccess
{
public:
    static EVP_PKEY *get(const PrivateKey &key) { return key.m_key.get(); }
    static EVP_PKEY *get(const PublicKey &key) { return key.m_key.get(); }
    static void set(PrivateKey &key, EVP_PKEY *raw) { key.m_key.reset(raw, EVP_PKEY_free); }
    static void set(PublicKey &key, EVP_PKEY *raw) { key.m_key.reset(raw, EVP_PKEY_free); }
};

namespace {

// The value of one base64 character, or -1 for anything outside the standard alphabet.
int base64Value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// What a key or certificate file held once its armour (if any) is taken off.
struct Unarmoured
{
    QByteArray label; // the PEM label ("RSA PRIVATE KEY"); empty for bare base64
    QByteArray der;
};

// PEM blocks read with OpenSSL's own PEM parser (it knows the header lines that mark an
// encrypted key); bare base64 with whitespace removed and decoded strictly. Only the first
// PEM block is returned; bundles go through readPemBlocks().
std::optional<Unarmoured> unarmour(QByteArrayView text, KeyLoadStatus &status)
{
    if (text.contains(QByteArrayView("-----BEGIN "))) {
        if (text.size() > INT_MAX) {
            status = KeyLoadStatus::NotPemOrBase64;
            return std::nullopt;
        }
        ossl::Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
        char *name = nullptr;
        char *header = nullptr;
        unsigned char *data = nullptr;
        long length = 0;
        if (!bio || PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
            status = KeyLoadStatus::NotPemOrBase64;
            return std::nullopt;
        }
        const ossl::Memory nameOwner(name);
        const ossl::Memory headerOwner(header);
        const ossl::Bytes dataOwner(data);
        Unarmoured out;
        out.label = QByteArray(name);
        // "Proc-Type: 4,ENCRYPTED" (legacy PEM encryption) or an encrypted PKCS#8 block.
        if ((header && header[0] != '\0') || out.label == "ENCRYPTED PRIVATE KEY") {
            status = KeyLoadStatus::Encrypted;
            return std::nullopt;
        }
        out.der = QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(length));
        return out;
    }
    QByteArray compact;
    compact.reserve(text.size());
    for (const char c : text) {
        if (!isSpace(c))
            compact.append(c);
    }
    auto der = decodeBase64Strict(compact);
    if (!der || der->isEmpty()) {
        status = KeyLoadStatus::NotPemOrBase64;
        return std::nullopt;
    }
    Unarmoured out;
    out.der = *der;
    return out;
}

// NotRsa or BadKeySize when the key is not one we accept; Loaded otherwise.
KeyLoadStatus checkRsaKey(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "RSA") != 1)
        return KeyLoadStatus::NotRsa;
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < rsaKeyBitsMin || bits > rsaKeyBitsMax)
        return KeyLoadStatus::BadKeySize;
    return KeyLoadStatus::Loaded;
}

QByteArray bioContents(BIO *bio)
{
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return length > 0 ? QByteArray(data, static_cast<qsizetype>(length)) : QByteArray();
}

QByteArray digest(const EVP_MD *md, QByteArrayView data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), static_cast<size_t>(data.size()), out.data(), &length, md, nullptr) != 1)
        return {};
    return QByteArray(reinterpret_cast<const char *>(out.data()), static_cast<qsizetype>(length));
}

void report(KeyLoadStatus *out, KeyLoadStatus status)
{
    if (out)
        *out = status;
}

} // namespace

QByteArray sha256(QByteArrayView data)
{
    const ossl::ErrorQueueGuard guard;
    return digest(EVP_sha256(), data);
}

QByteArray sha256Hex(QByteArrayView data)
{
    return sha256(data).toHex();
}

QByteArray md5Hex(QByteArrayView data)
{
    const ossl::ErrorQueueGuard guard;
    return digest(EVP_md5(), data).toHex();
}

bool constantTimeEquals(QByteArrayView a, QByteArrayView b)
{
    // The lengths are not secret (a signature's length is the key's); the contents are.
    if (a.size() != b.size())
        return false;
    if (a.isEmpty())
        return true;
    return CRYPTO_memcmp(a.data(), b.data(), static_cast<size_t>(a.size())) == 0;
}

std::optional<QByteArray> decodeBase64Strict(QByteArrayView text)
{
    if (text.size() % 4 != 0)
        return std::nullopt;
    QByteArray out;
    out.reserve(text.size() / 4 * 3);
    for (qsizetype i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int values[4] = {0, 0, 0, 0};
        int padding = 0;
        for (int j = 0; j < 4; ++j) {
            const char c = text[i + j];
            if (c == '=') {
                // Padding only in the last quantum, only in its last two places, and once
                // started it runs to the end ("A=B=" and "AB=C" are refused).
                if (!last || j < 2)
                    return std::nullopt;
                ++padding;
                continue;
            }
            if (padding > 0)
                return std::nullopt;
            values[j] = base64Value(c);
            if (values[j] < 0)
                return std::nullopt;
        }
        const unsigned int bits = (static_cast<unsigned int>(values[0]) << 18)
            | (static_cast<unsigned int>(values[1]) << 12) | (static_cast<unsigned int>(values[2]) << 6)
            | static_cast<unsigned int>(values[3]);
        // Non-zero leftover bits would give a second spelling of the same bytes.
        if ((padding == 1 && (bits & 0xFFu) != 0) || (padding == 2 && (bits & 0xFFFFu) != 0))
            return std::nullopt;
        out.append(static_cast<char>((bits >> 16) & 0xFFu));
        if (padding < 2)
            out.append(static_cast<char>((bits >> 8) & 0xFFu));
        if (padding < 1)
            out.append(static_cast<char>(bits & 0xFFu));
    }
    return out;
}

QByteArray encodeBase64(QByteArrayView data)
{
    return data.toByteArray().toBase64();
}

PrivateKey PrivateKey::load(QByteArrayView text, KeyLoadStatus *status)
{
    const ossl::ErrorQueueGuard guard;
    KeyLoadStatus result = KeyLoadStatus::Loaded;
    const auto unarmoured = unarmour(text, result);
    if (!unarmoured) {
        report(status, result);
        return {};
    }
    if (!unarmoured->label.isEmpty() && unarmoured->label != "RSA PRIVATE KEY" && unarmoured->label != "PRIVATE KEY") {
        report(status, KeyLoadStatus::Malformed);
        return {};
    }
    // d2i_AutoPrivateKey tells PKCS#1 (RSAPrivateKey) from PKCS#8 (PrivateKeyInfo) itself.
    const QByteArray &der = unarmoured->der;
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    EVP_PKEY *raw = d2i_AutoPrivateKey(nullptr, &cursor, static_cast<long>(der.size()));
    PrivateKey key;
    PayCryptoAccess::set(key, raw);
    if (!raw || cursor != reinterpret_cast<const unsigned char *>(der.constData()) + der.size()) {
        report(status, KeyLoadStatus::Malformed);
        return {};
    }
    result = checkRsaKey(raw);
    report(status, result);
    return result == KeyLoadStatus::Loaded ? key : PrivateKey();
}

int PrivateKey::bits() const
{
    return m_key ? EVP_PKEY_get_bits(m_key.get()) : 0;
}

PublicKey PublicKey::load(QByteArrayView text, KeyLoadStatus *status)
{
    const ossl::ErrorQueueGuard guard;
    KeyLoadStatus result = KeyLoadStatus::Loaded;
    const auto unarmoured = unarmour(text, result);
    if (!unarmoured) {
        report(status, result);
        return {};
    }
    const QByteArray &label = unarmoured->label;
    const QByteArray &der = unarmoured->der;
    const auto *begin = reinterpret_cast<const unsigned char *>(der.constData());
    const auto *end = begin + der.size();
    EVP_PKEY *raw = nullptr;
    const unsigned char *cursor = begin;
    if (label.isEmpty() || label == "PUBLIC KEY") {
        raw = d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size()));
    }
    if (!raw && (label.isEmpty() || label == "RSA PUBLIC KEY")) {
        cursor = begin;
        raw = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &cursor, static_cast<long>(der.size()));
    }
    PublicKey key;
    PayCryptoAccess::set(key, raw);
    if (!raw || cursor != end) {
        report(status, KeyLoadStatus::Malformed);
        return {};
    }
    result = checkRsaKey(raw);
    report(status, result);
    return result == KeyLoadStatus::Loaded ? key : PublicKey();
}

int PublicKey::bits() const
{
    return m_key ? EVP_PKEY_get_bits(m_key.get()) : 0;
}

QByteArray PublicKey::spkiDer() const
{
    if (!m_key)
        return {};
    const ossl::ErrorQueueGuard guard;
    unsigned char *der = nullptr;
    const int length = i2d_PUBKEY(m_key.get(), &der);
    const ossl::Bytes owner(der);
    if (length <= 0)
        return {};
    return QByteArray(reinterpret_cast<const char *>(der), length);
}

Certificate Certificate::load(QByteArrayView text, KeyLoadStatus *status)
{
    const ossl::ErrorQueueGuard guard;
    KeyLoadStatus result = KeyLoadStatus::Loaded;
    const auto unarmoured = unarmour(text, result);
    if (!unarmoured) {
        report(status, result);
        return {};
    }
    if (!unarmoured->label.isEmpty() && unarmoured->label != "CERTIFICATE") {
        report(status, KeyLoadStatus::Malformed);
        return {};
    }
    const QByteArray &der = unarmoured->der;
    const auto *cursor = reinterpret_cast<const unsigned char *>(der.constData());
    X509 *raw = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
    Certificate cert;
    cert.m_cert.reset(raw, X509_free);
    if (!raw || cursor != reinterpret_cast<const unsigned char *>(der.constData()) + der.size()) {
        report(status, KeyLoadStatus::Malformed);
        return {};
    }
    report(status, KeyLoadStatus::Loaded);
    return cert;
}

QByteArray Certificate::serialHex() const
{
    if (!m_cert)
        return {};
    const ossl::ErrorQueueGuard guard;
    const ossl::BigNum serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(m_cert.get()), nullptr));
    if (!serial)
        return {};
    const ossl::Memory hex(BN_bn2hex(serial.get()));
    if (!hex)
        return {};
    // BN_bn2hex prints whole bytes ("0D…"); the providers print the number ("D…").
    QByteArray out(hex.get());
    qsizetype zeros = 0;
    while (zeros + 1 < out.size() && out[zeros] == '0')
        ++zeros;
    return out.mid(zeros);
}

QByteArray Certificate::serialDecimal() const
{
    if (!m_cert)
        return {};
    const ossl::ErrorQueueGuard guard;
    const ossl::BigNum serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(m_cert.get()), nullptr));
    if (!serial)
        return {};
    const ossl::Memory dec(BN_bn2dec(serial.get()));
    return dec ? QByteArray(dec.get()) : QByteArray();
}

QByteArray Certificate::issuerRfc2253() const
{
    if (!m_cert)
        return {};
    const ossl::ErrorQueueGuard guard;
    const ossl::Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), X509_get_issuer_name(m_cert.get()), 0, XN_FLAG_RFC2253) < 0)
        return {};
    return bioContents(bio.get());
}

bool Certificate::isRsaSigned() const
{
    if (!m_cert)
        return false;
    int digestNid = NID_undef;
    int keyNid = NID_undef;
    if (OBJ_find_sigid_algs(X509_get_signature_nid(m_cert.get()), &digestNid, &keyNid) != 1)
        return false;
    return keyNid == NID_rsaEncryption;
}

PublicKey Certificate::publicKey() const
{
    if (!m_cert)
        return {};
    const ossl::ErrorQueueGuard guard;
    EVP_PKEY *raw = X509_get_pubkey(m_cert.get()); // a new reference, ours to free
    PublicKey key;
    PayCryptoAccess::set(key, raw);
    if (!raw || checkRsaKey(raw) != KeyLoadStatus::Loaded)
        return {};
    return key;
}

QString Certificate::subjectCommonName() const
{
    if (!m_cert)
        return {};
    const ossl::ErrorQueueGuard guard;
    const X509_NAME *name = X509_get_subject_name(m_cert.get());
    QStringList names;
    int index = -1;
    for (;;) {
        index = X509_NAME_get_index_by_NID(name, NID_commonName, index);
        if (index < 0)
            break;
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, index);
        unsigned char *utf8 = nullptr;
        const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
        const ossl::Bytes owner(utf8);
        if (length < 0 || !utf8)
            continue;
        names.append(QString::fromUtf8(reinterpret_cast<const char *>(utf8), length));
    }
    return names.join(QLatin1Char(','));
}

bool Certificate::isValidAt(qint64 utcMs) const
{
    if (!m_cert)
        return false;
    const ossl::ErrorQueueGuard guard;
    time_t at = static_cast<time_t>(utcMs / 1000);
    // X509_cmp_time: -1 when the certificate time is before `at`, 1 after, 0 on error.
    const int notBefore = X509_cmp_time(X509_get0_notBefore(m_cert.get()), &at);
    const int notAfter = X509_cmp_time(X509_get0_notAfter(m_cert.get()), &at);
    return notBefore < 0 && notAfter > 0;
}

bool Certificate::isIssuedBy(const Certificate &issuer) const
{
    if (!m_cert || !issuer.m_cert)
        return false;
    const ossl::ErrorQueueGuard guard;
    if (X509_NAME_cmp(X509_get_issuer_name(m_cert.get()), X509_get_subject_name(issuer.m_cert.get())) != 0)
        return false;
    EVP_PKEY *key = X509_get0_pubkey(issuer.m_cert.get()); // borrowed
    if (!key)
        return false;
    return X509_verify(m_cert.get(), key) == 1;
}

QByteArray alipayCertSn(const Certificate &cert)
{
    if (cert.isNull())
        return {};
    const QByteArray input = cert.issuerRfc2253() + cert.serialDecimal();
    return md5Hex(input);
}

std::optional<QList<Certificate>> loadCertificateBundle(QByteArrayView pemBundle)
{
    static constexpr QByteArrayView endMarker("-----END CERTIFICATE-----");
    QList<Certificate> certificates;
    qsizetype from = 0;
    for (;;) {
        const qsizetype begin = pemBundle.indexOf(QByteArrayView("-----BEGIN "), from);
        if (begin < 0)
            break;
        const qsizetype end = pemBundle.indexOf(endMarker, begin);
        if (end < 0)
            return std::nullopt;
        from = end + endMarker.size();
        const Certificate cert = Certificate::load(pemBundle.sliced(begin, from - begin));
        if (cert.isNull())
            return std::nullopt;
        certificates.append(cert);
    }
    if (certificates.isEmpty())
        return std::nullopt;
    return certificates;
}

std::optional<QByteArray> alipayRootCertSn(QByteArrayView pemBundle)
{
    const std::optional<QList<Certificate>> certificates = loadCertificateBundle(pemBundle);
    if (!certificates)
        return std::nullopt;
    QByteArrayList sns;
    for (const Certificate &cert : *certificates) {
        if (cert.isRsaSigned())
            sns.append(alipayCertSn(cert));
    }
    return sns.join('_');
}

std::optional<QByteArray> signRsaSha256(const PrivateKey &key, QByteArrayView message)
{
    EVP_PKEY *pkey = PayCryptoAccess::get(key);
    if (!pkey)
        return std::nullopt;
    const ossl::ErrorQueueGuard guard;
    const ossl::MdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX *pctx = nullptr; // owned by ctx
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, pkey) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return std::nullopt;
    const auto *data = reinterpret_cast<const unsigned char *>(message.data());
    size_t length = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &length, data, static_cast<size_t>(message.size())) != 1)
        return std::nullopt;
    QByteArray signature(static_cast<qsizetype>(length), '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(signature.data()), &length, data,
            static_cast<size_t>(message.size()))
        != 1)
        return std::nullopt;
    signature.truncate(static_cast<qsizetype>(length));
    return signature;
}

VerifyStatus verifyRsaSha256(const PublicKey &key, QByteArrayView message, QByteArrayView signatureBase64)
{
    EVP_PKEY *pkey = PayCryptoAccess::get(key);
    if (!pkey)
        return VerifyStatus::NoKey;
    const auto signature = decodeBase64Strict(signatureBase64);
    // PKCS#1 v1.5 signatures are exactly the modulus' size; anything else was never one.
    if (!signature || signature->size() != EVP_PKEY_get_size(pkey))
        return VerifyStatus::MalformedSignature;
    const ossl::ErrorQueueGuard guard;
    const ossl::MdCtx ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX *pctx = nullptr; // owned by ctx
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, pkey) != 1
        || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        return VerifyStatus::BadSignature;
    const int verdict = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(signature->constData()),
        static_cast<size_t>(signature->size()), reinterpret_cast<const unsigned char *>(message.data()),
        static_cast<size_t>(message.size()));
    return verdict == 1 ? VerifyStatus::Valid : VerifyStatus::BadSignature;
}

GcmOpened aesGcmOpen(
    QByteArrayView key, QByteArrayView nonce, QByteArrayView associatedData, QByteArrayView ciphertextAndTag)
{
    GcmOpened result;
    const EVP_CIPHER *cipher = nullptr;
    if (key.size() == 16)
        cipher = EVP_aes_128_gcm();
    else if (key.size() == 32)
        cipher = EVP_aes_256_gcm();
    else {
        result.status = GcmStatus::BadKeyLength;
        return result;
    }
    if (nonce.size() != gcmNonceBytes) {
        result.status = GcmStatus::BadNonceLength;
        return result;
    }
    if (ciphertextAndTag.size() < gcmTagBytes) {
        result.status = GcmStatus::TooShort;
        return result;
    }
    if (associatedData.size() > INT_MAX || ciphertextAndTag.size() > INT_MAX) {
        result.status = GcmStatus::Rejected;
        return result;
    }
    // The tag is the last 16 bytes; only what precedes it is ciphertext (the classic bug is
    // decrypting all of it and getting 16 bytes of "garbage" at the end).
    const QByteArrayView ciphertext = ciphertextAndTag.first(ciphertextAndTag.size() - gcmTagBytes);
    std::array<unsigned char, gcmTagBytes> tag{};
    std::copy_n(
        reinterpret_cast<const unsigned char *>(ciphertextAndTag.data()) + ciphertext.size(), gcmTagBytes, tag.begin());

    const ossl::ErrorQueueGuard guard;
    const ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
    const auto *keyBytes = reinterpret_cast<const unsigned char *>(key.data());
    const auto *nonceBytes = reinterpret_cast<const unsigned char *>(nonce.data());
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1
        || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(gcmNonceBytes), nullptr) != 1
        || EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, keyBytes, nonceBytes) != 1)
        return result;
    int length = 0;
    if (!associatedData.isEmpty()
        && EVP_DecryptUpdate(ctx.get(), nullptr, &length,
               reinterpret_cast<const unsigned char *>(associatedData.data()), static_cast<int>(associatedData.size()))
            != 1)
        return result;
    QByteArray plaintext(ciphertext.size(), '\0');
    int written = 0;
    if (!ciphertext.isEmpty()) {
        if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char *>(plaintext.data()), &length,
                reinterpret_cast<const unsigned char *>(ciphertext.data()), static_cast<int>(ciphertext.size()))
            != 1)
            return result;
        written = length;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(gcmTagBytes), tag.data()) != 1)
        return result;
    // GCM has no final block; DecryptFinal only compares the tag. Failure = reject the lot.
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char *>(plaintext.data()) + written, &length) != 1) {
        plaintext.fill('\0');
        return result;
    }
    plaintext.truncate(written + length);
    result.status = GcmStatus::Opened;
    result.plaintext = plaintext;
    return result;
}

} // namespace prepay::payments
