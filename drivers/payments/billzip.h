// The smallest ZIP reader the Alipay daily bill needs (PAYMENT-PROVIDERS.md §1.4: a zip of
// GBK-encoded CSV files), and the GBK ↔ UTF-8 conversion for its contents.
//
// Reads the central directory (not the local headers' sizes, which a streaming writer may leave
// zero), supports "stored" (0) and "deflate" (8) entries through zlib's raw inflate, checks each
// entry's CRC-32, and refuses everything else (encryption, ZIP64, multi-disk, data descriptors
// that disagree, sizes beyond the limits) with a named status. Nothing here touches the disk.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace prepay::payments {

// Limits: a day's bill for one kiosk site is a few hundred KiB at most.
inline constexpr qsizetype zipArchiveBytesMax = qsizetype(32) * 1024 * 1024;
inline constexpr qsizetype zipEntryBytesMax = qsizetype(64) * 1024 * 1024;
inline constexpr int zipEntriesMax = 64;

struct ZipEntry
{
    QString name;    // the entry name (UTF-8 flag honoured; otherwise read as GBK, as Alipay writes it)
    QByteArray data; // uncompressed bytes
};

enum class ZipStatus {
    Ok = 0,
    NotZip = 1,      // no end-of-central-directory record
    Unsupported = 2, // ZIP64, multi-disk, encrypted, or a method other than stored/deflate
    Corrupt = 3,     // offsets or sizes outside the archive, bad signatures, inflate error
    BadChecksum = 4, // CRC-32 of the inflated data differs from the directory's
    TooLarge = 5,    // beyond zipArchiveBytesMax / zipEntryBytesMax / zipEntriesMax
};
QString zipStatusCode(ZipStatus status);

struct ZipArchive
{
    ZipStatus status = ZipStatus::Corrupt;
    QList<ZipEntry> entries; // in central-directory order; empty unless Ok
};

ZipArchive readZip(QByteArrayView archive);

// GBK (CP936) text to a QString through glibc's iconv; nothing on an invalid sequence.
std::optional<QString> decodeGbk(QByteArrayView gbk);
// The reverse, for tests and the sandbox's bill writer; nothing when a character has no GBK form.
std::optional<QByteArray> encodeGbk(const QString &text);

} // namespace prepay::payments
