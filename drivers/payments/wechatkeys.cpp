#include "wechatkeys.h"

#include "payments/paycanon.h"

#include <algorithm>

namespace prepay::payments {

namespace {

const QByteArray publicKeyIdPrefix = QByteArrayLiteral("PUB_KEY_ID_");
const QByteArray probePrefix = QByteArrayLiteral("WECHATPAY/SIGNTEST/");
// A serial is at most 40 hex digits (160 bits); PUB_KEY_ID_ ids are ~45 characters. Anything
// much longer is not a serial and is not echoed whole into log messages.
constexpr qsizetype serialEchoMax = 64;

QString printable(QByteArrayView bytes)
{
    QByteArray shown = bytes.first(std::min(bytes.size(), serialEchoMax)).toByteArray();
    for (char &c : shown) {
        if (c < 0x21 || c > 0x7e)
            c = '?';
    }
    return QString::fromLatin1(shown);
}

bool allDigits(QByteArrayView text)
{
    return !text.isEmpty() && text.size() <= 12
        && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

} // namespace

bool WechatKeys::isPublicKeyId(QByteArrayView serial)
{
    return serial.startsWith(publicKeyIdPrefix);
}

bool WechatKeys::addCertificate(const Certificate &cert)
{
    if (cert.isNull())
        return false;
    const PublicKey key = cert.publicKey();
    if (key.isNull())
        return false;
    m_certificates.insert(cert.serialHex().toUpper(), key);
    return true;
}

bool WechatKeys::setPublicKey(const QByteArray &publicKeyId, const PublicKey &key)
{
    if (!isPublicKeyId(publicKeyId) || publicKeyId.size() == publicKeyIdPrefix.size() || key.isNull())
        return false;
    m_publicKeyId = publicKeyId;
    m_publicKey = key;
    return true;
}

PublicKey WechatKeys::keyFor(QByteArrayView serial) const
{
    if (serial.isEmpty())
        return {};
    if (isPublicKeyId(serial))
        return (!m_publicKey.isNull() && serial == m_publicKeyId) ? m_publicKey : PublicKey();
    return m_certificates.value(serial.toByteArray().toUpper());
}

QList<QByteArray> WechatKeys::certificateSerials() const
{
    QList<QByteArray> serials = m_certificates.keys();
    std::sort(serials.begin(), serials.end());
    return serials;
}

WechatSignatureCheck WechatKeys::verify(const WechatSignedHeaders &headers, QByteArrayView body, qint64 nowMs) const
{
    WechatSignatureCheck check;
    if (headers.timestamp.isEmpty() || headers.nonce.isEmpty() || headers.signature.isEmpty()
        || headers.serial.isEmpty()) {
        check.status = WechatSignatureStatus::MissingHeaders;
        check.message = QStringLiteral("a Wechatpay-Timestamp, -Nonce, -Signature or -Serial header is missing");
        return check;
    }
    if (headers.signature.startsWith(probePrefix)) {
        check.status = WechatSignatureStatus::Probe;
        check.message = QStringLiteral("the signature is a WECHATPAY/SIGNTEST/ probe");
        return check;
    }
    const PublicKey key = keyFor(headers.serial);
    if (key.isNull()) {
        check.status = WechatSignatureStatus::UnknownKey;
        check.message = QStringLiteral("no verification key for Wechatpay-Serial %1").arg(printable(headers.serial));
        return check;
    }
    const std::optional<QByteArray> message = wechatResponseMessage(headers.timestamp, headers.nonce, body);
    if (!message) {
        check.status = WechatSignatureStatus::BadSignature;
        check.message = QStringLiteral("the Wechatpay-Timestamp or -Nonce cannot form a signed message");
        return check;
    }
    const VerifyStatus verified = verifyRsaSha256(key, *message, headers.signature);
    if (verified != VerifyStatus::Valid) {
        check.status = WechatSignatureStatus::BadSignature;
        check.message = verified == VerifyStatus::MalformedSignature
            ? QStringLiteral("the Wechatpay-Signature is malformed (serial %1)").arg(printable(headers.serial))
            : QStringLiteral("the Wechatpay-Signature does not verify with the key of serial %1")
                  .arg(printable(headers.serial));
        return check;
    }
    // Digits only and at most 12 of them, so the product below cannot overflow.
    if (!allDigits(headers.timestamp)) {
        check.status = WechatSignatureStatus::Stale;
        check.message = QStringLiteral("the Wechatpay-Timestamp is not decimal seconds");
        return check;
    }
    const qint64 timestampMs = headers.timestamp.toLongLong() * 1000;
    const qint64 skewMs = timestampMs > nowMs ? timestampMs - nowMs : nowMs - timestampMs;
    if (skewMs >= wechatTimestampWindowMs) {
        check.status = WechatSignatureStatus::Stale;
        check.message = QStringLiteral("the Wechatpay-Timestamp %1 is outside the %2 s window (clock skew %3 s)")
                            .arg(QString::fromLatin1(headers.timestamp))
                            .arg(wechatTimestampWindowMs / 1000)
                            .arg(skewMs / 1000);
        return check;
    }
    check.status = WechatSignatureStatus::Valid;
    return check;
}

} // namespace prepay::payments
