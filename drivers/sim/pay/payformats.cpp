#include "payformats.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDateTime>

#include <openssl/evp.h>
#include <zlib.h>

#include <iconv.h>

#include <cerrno>
#include <memory>

namespace prepay::sim::pay {

namespace {

struct CipherCtxFree
{
    void operator()(EVP_CIPHER_CTX *ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

void put16(QByteArray &out, quint32 v)
{
    out.append(char(v & 0xff));
    out.append(char((v >> 8) & 0xff));
}

void put32(QByteArray &out, quint32 v)
{
    put16(out, v & 0xffff);
    put16(out, (v >> 16) & 0xffff);
}

std::optional<QByteArray> convert(const char *to, const char *from, QByteArrayView input)
{
    iconv_t cd = iconv_open(to, from);
    if (cd == reinterpret_cast<iconv_t>(-1))
        return std::nullopt;
    QByteArray in(input.data(), input.size());
    QByteArray out(input.size() * 4 + 16, Qt::Uninitialized);
    char *inPtr = in.data();
    size_t inLeft = size_t(in.size());
    char *outPtr = out.data();
    size_t outLeft = size_t(out.size());
    const size_t rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft);
    iconv_close(cd);
    if (rc == size_t(-1) || inLeft != 0)
        return std::nullopt;
    out.truncate(out.size() - qsizetype(outLeft));
    return out;
}

} // namespace

std::optional<QByteArray> aesGcmSeal(
    QByteArrayView key, QByteArrayView nonce, QByteArrayView associatedData, QByteArrayView plaintext)
{
    const EVP_CIPHER *cipher = nullptr;
    if (key.size() == 32)
        cipher = EVP_aes_256_gcm();
    else if (key.size() == 16)
        cipher = EVP_aes_128_gcm();
    if (!cipher || nonce.size() != 12)
        return std::nullopt;
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
    if (!ctx)
        return std::nullopt;
    const auto *keyBytes = reinterpret_cast<const unsigned char *>(key.data());
    const auto *nonceBytes = reinterpret_cast<const unsigned char *>(nonce.data());
    if (EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1
        || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, int(nonce.size()), nullptr) != 1
        || EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, keyBytes, nonceBytes) != 1)
        return std::nullopt;
    int len = 0;
    if (!associatedData.isEmpty()
        && EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char *>(associatedData.data()),
               int(associatedData.size()))
            != 1)
        return std::nullopt;
    QByteArray out(plaintext.size() + 16, Qt::Uninitialized);
    auto *outBytes = reinterpret_cast<unsigned char *>(out.data());
    int written = 0;
    if (!plaintext.isEmpty()
        && EVP_EncryptUpdate(ctx.get(), outBytes, &len, reinterpret_cast<const unsigned char *>(plaintext.data()),
               int(plaintext.size()))
            != 1)
        return std::nullopt;
    written = plaintext.isEmpty() ? 0 : len;
    if (EVP_EncryptFinal_ex(ctx.get(), outBytes + written, &len) != 1)
        return std::nullopt;
    written += len;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, outBytes + written) != 1)
        return std::nullopt;
    out.truncate(written + 16);
    return out;
}

QByteArray zipStored(const QList<std::pair<QString, QByteArray>> &entries, qint64 modifiedMsUtc)
{
    // DOS time and date of the local (Beijing) time, as zip tools show it.
    const QDateTime when = QDateTime::fromMSecsSinceEpoch(modifiedMsUtc, Qt::OffsetFromUTC, 8 * 3600);
    const quint32 dosTime = quint32(when.time().hour() << 11 | when.time().minute() << 5 | when.time().second() / 2);
    const quint32 dosDate
        = quint32((qMax(1980, when.date().year()) - 1980) << 9 | when.date().month() << 5 | when.date().day());

    QByteArray out;
    QByteArray central;
    for (const auto &[name, data] : entries) {
        const QByteArray nameBytes = name.toUtf8();
        const quint32 crc = quint32(
            crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(data.constData()), uInt(data.size())));
        const quint32 offset = quint32(out.size());
        put32(out, 0x04034b50);
        put16(out, 20);     // version needed
        put16(out, 0x0800); // UTF-8 names
        put16(out, 0);      // stored
        put16(out, dosTime);
        put16(out, dosDate);
        put32(out, crc);
        put32(out, quint32(data.size()));
        put32(out, quint32(data.size()));
        put16(out, quint32(nameBytes.size()));
        put16(out, 0);
        out.append(nameBytes);
        out.append(data);

        put32(central, 0x02014b50);
        put16(central, 20); // made by
        put16(central, 20);
        put16(central, 0x0800);
        put16(central, 0);
        put16(central, dosTime);
        put16(central, dosDate);
        put32(central, crc);
        put32(central, quint32(data.size()));
        put32(central, quint32(data.size()));
        put16(central, quint32(nameBytes.size()));
        put16(central, 0); // extra
        put16(central, 0); // comment
        put16(central, 0); // disk
        put16(central, 0); // internal attributes
        put32(central, 0); // external attributes
        put32(central, offset);
        central.append(nameBytes);
    }
    const quint32 centralOffset = quint32(out.size());
    out.append(central);
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, quint32(entries.size()));
    put16(out, quint32(entries.size()));
    put32(out, quint32(central.size()));
    put32(out, centralOffset);
    put16(out, 0);
    return out;
}

std::optional<QByteArray> toGbk(const QString &text)
{
    return convert("GBK", "UTF-8", text.toUtf8());
}

std::optional<QString> fromGbk(QByteArrayView gbk)
{
    const std::optional<QByteArray> utf8 = convert("UTF-8", "GBK", gbk);
    if (!utf8)
        return std::nullopt;
    return QString::fromUtf8(*utf8);
}

QByteArray sha1Hex(QByteArrayView data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha1).toHex();
}

} // namespace prepay::sim::pay
