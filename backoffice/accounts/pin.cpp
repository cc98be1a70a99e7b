#include "pin.h"

#include <QtCore/QRegularExpression>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace prepay::accounts {

namespace {

bool pbkdf2(const QByteArray &pin, const QByteArray &salt, int iterations, QByteArray *out)
{
    out->resize(PinLimits::hashBytes);
    return PKCS5_PBKDF2_HMAC(pin.constData(), int(pin.size()),
               reinterpret_cast<const unsigned char *>(salt.constData()), int(salt.size()), iterations, EVP_sha256(),
               int(out->size()), reinterpret_cast<unsigned char *>(out->data()))
        == 1;
}

} // namespace

bool isValidPin(const QString &pin)
{
    if (pin.size() < PinLimits::digitsMin || pin.size() > PinLimits::digitsMax)
        return false;
    for (const QChar c : pin) {
        if (c < u'0' || c > u'9')
            return false;
    }
    return true;
}

std::optional<PinHash> hashPin(const QString &pin, QString *error)
{
    if (!isValidPin(pin)) {
        *error = QStringLiteral("pin: %1 to %2 digits").arg(PinLimits::digitsMin).arg(PinLimits::digitsMax);
        return std::nullopt;
    }
    PinHash h;
    h.salt.resize(PinLimits::saltBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(h.salt.data()), PinLimits::saltBytes) != 1) {
        *error = QStringLiteral("no random bytes for the salt (OpenSSL RAND_bytes failed)");
        return std::nullopt;
    }
    if (!pbkdf2(pin.toLatin1(), h.salt, PinLimits::iterations, &h.hash)) {
        *error = QStringLiteral("PBKDF2 failed (OpenSSL PKCS5_PBKDF2_HMAC)");
        return std::nullopt;
    }
    h.params = QStringLiteral("pbkdf2-sha256:i=%1").arg(PinLimits::iterations);
    return h;
}

bool verifyPin(const QString &pin, const PinHash &stored)
{
    static const QRegularExpression re(QStringLiteral("^pbkdf2-sha256:i=(\\d{1,9})$"));
    const QRegularExpressionMatch m = re.match(stored.params);
    if (!m.hasMatch() || stored.hash.size() != PinLimits::hashBytes || !isValidPin(pin))
        return false;
    const int iterations = m.captured(1).toInt();
    if (iterations < PinLimits::iterationsMin)
        return false;
    QByteArray computed;
    if (!pbkdf2(pin.toLatin1(), stored.salt, iterations, &computed))
        return false;
    return CRYPTO_memcmp(computed.constData(), stored.hash.constData(), size_t(computed.size())) == 0;
}

} // namespace prepay::accounts
