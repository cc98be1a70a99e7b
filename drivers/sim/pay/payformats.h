// The file formats and primitives the payment sandbox needs on the provider's side and nobody
// else does: AES-GCM *sealing* (WeChat Pay encrypts notifications and certificates; the
// merchant side only opens, see paycrypto.h), a minimal ZIP writer (Alipay's bill is a zip),
// GBK encoding (Alipay's bill CSV) and SHA-1 hex (WeChat's bill hash). Kept in this folder on
// purpose: the merchant-side library must never grow the ability to forge the provider's side.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>
#include <utility>

namespace prepay::sim::pay {

// AES-GCM with a 12-byte nonce; returns ciphertext followed by the 16-byte tag (the layout the
// WeChat `ciphertext` field carries). Nothing for a key that is not 16 or 32 bytes or a nonce
// that is not 12 bytes.
std::optional<QByteArray> aesGcmSeal(
    QByteArrayView key, QByteArrayView nonce, QByteArrayView associatedData, QByteArrayView plaintext);

// A ZIP archive of stored (uncompressed) entries; names are UTF-8 (general purpose bit 11).
// Entries larger than 4 GiB are a programmer error here (bills are kilobytes).
QByteArray zipStored(const QList<std::pair<QString, QByteArray>> &entries, qint64 modifiedMsUtc);

// Text to GBK with glibc's iconv; nothing when a character has no GBK form.
std::optional<QByteArray> toGbk(const QString &text);
// GBK to text (for tests and the README's checks); nothing on an invalid sequence.
std::optional<QString> fromGbk(QByteArrayView gbk);

// Lowercase hex SHA-1 (WeChat's bill `hash_value`; integrity only against accidents).
QByteArray sha1Hex(QByteArrayView data);

} // namespace prepay::sim::pay
