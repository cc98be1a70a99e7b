// WeChat Pay's verification keys, chosen by the `Wechatpay-Serial` of a response or a
// notification (PAYMENT-PROVIDERS.md §2.3, §2.5), and the one check every signed message
// passes: headers present, not a probe, key known, RSA-SHA256 over
// "<timestamp>\n<nonce>\n<raw body>\n", timestamp inside the ±300 s window.
//
// Two kinds of key live here side by side (the migration period of §0 item 7):
//   - legacy platform certificates, any number, by their hex serial (compared
//     case-insensitively: stored upper-case, the way WeChat prints them);
//   - at most one "WeChat Pay public key" with its id `PUB_KEY_ID_…`; a serial of that shape
//     selects it only when it equals the configured id, never a platform certificate.
// What this does not do: load files (wechatpay.cpp does), download certificates, or know
// anything about JSON. It holds public keys only, so nothing here is secret.
#pragma once

#include "payments/paycrypto.h"

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::payments {

// The replay window of responses and notifications: |now - Wechatpay-Timestamp| must be below it.
inline constexpr qint64 wechatTimestampWindowMs = qint64(300) * 1000;

// Why a signed message did not verify.
enum class WechatSignatureStatus {
    Valid = 0,
    MissingHeaders = 1, // a Wechatpay-Timestamp/-Nonce/-Signature/-Serial header is absent or empty
    Probe = 2,          // the signature is WeChat's `WECHATPAY/SIGNTEST/…` probe
    UnknownKey = 3,     // no key for the serial (or a PUB_KEY_ID_ other than ours)
    BadSignature = 4,   // malformed, or not made by the serial's key over these bytes
    Stale = 5,          // the timestamp is not decimal seconds within the window
};

// The four headers, as received (values are raw header bytes).
struct WechatSignedHeaders
{
    QByteArray timestamp;
    QByteArray nonce;
    QByteArray signature;
    QByteArray serial;
};

struct WechatSignatureCheck
{
    WechatSignatureStatus status = WechatSignatureStatus::BadSignature;
    QString message; // what failed, naming the serial and the timestamp; never key bytes
};

class WechatKeys
{
public:
    static bool isPublicKeyId(QByteArrayView serial); // starts with "PUB_KEY_ID_"

    // Adds (or replaces) a platform certificate under its own serial. False for a null
    // certificate or one without a usable RSA key.
    bool addCertificate(const Certificate &cert);
    // The public-key mode key. False when the id does not look like PUB_KEY_ID_… or the key is null.
    bool setPublicKey(const QByteArray &publicKeyId, const PublicKey &key);

    // The key for a serial; null when unknown.
    PublicKey keyFor(QByteArrayView serial) const;
    bool knows(QByteArrayView serial) const { return !keyFor(serial).isNull(); }
    QList<QByteArray> certificateSerials() const; // upper-case hex, sorted
    QByteArray publicKeyId() const { return m_publicKeyId; }
    bool isEmpty() const { return m_certificates.isEmpty() && m_publicKey.isNull(); }

    // The full check of one response or notification; nowMs is UTC wall time. The order is:
    // headers, probe, key, signature, window — so a forged message is reported as forged
    // whatever its timestamp, and a genuine replay as stale.
    WechatSignatureCheck verify(const WechatSignedHeaders &headers, QByteArrayView body, qint64 nowMs) const;

private:
    QHash<QByteArray, PublicKey> m_certificates; // upper-case hex serial → the certificate's key
    QByteArray m_publicKeyId;
    PublicKey m_publicKey;
};

} // namespace prepay::payments
