#include "billzip.h"

#include <QtCore/QtEndian>

#include <iconv.h>
#include <zlib.h>

#include <cerrno>
#include <climits>

namespace prepay::payments {

namespace {

constexpr quint32 localHeaderSignature = 0x04034b50;
constexpr quint32 centralHeaderSignature = 0x02014b50;
constexpr quint32 endOfDirectorySignature = 0x06054b50;
constexpr qsizetype endOfDirectoryBytes = 22;
constexpr qsizetype centralHeaderBytes = 46;
constexpr qsizetype localHeaderBytes = 30;
constexpr qsizetype commentBytesMax = 0xffff;
constexpr quint16 flagEncrypted = 0x0001;
constexpr quint16 flagUtf8 = 0x0800;
constexpr quint16 methodStored = 0;
constexpr quint16 methodDeflate = 8;

quint16 u16(QByteArrayView data, qsizetype at)
{
    return qFromLittleEndian<quint16>(data.data() + at);
}

quint32 u32(QByteArrayView data, qsizetype at)
{
    return qFromLittleEndian<quint32>(data.data() + at);
}

// Raw deflate (no zlib or gzip header), exactly `expected` bytes out.
std::optional<QByteArray> inflateRaw(QByteArrayView compressed, qsizetype expected)
{
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
        return std::nullopt;
    QByteArray out(expected, Qt::Uninitialized);
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int result = inflate(&stream, Z_FINISH);
    const bool complete = result == Z_STREAM_END && stream.total_out == static_cast<uLong>(expected);
    inflateEnd(&stream);
    if (!complete)
        return std::nullopt;
    return out;
}

std::optional<QByteArray> convert(const char *to, const char *from, QByteArrayView input)
{
    iconv_t cd = iconv_open(to, from);
    if (cd == reinterpret_cast<iconv_t>(-1))
        return std::nullopt;
    QByteArray out(input.size() * 4 + 16, Qt::Uninitialized);
    char *in = const_cast<char *>(input.data());
    size_t inLeft = static_cast<size_t>(input.size());
    char *outPtr = out.data();
    size_t outLeft = static_cast<size_t>(out.size());
    bool ok = true;
    while (inLeft > 0) {
        if (iconv(cd, &in, &inLeft, &outPtr, &outLeft) == static_cast<size_t>(-1)) {
            ok = false; // EILSEQ / EINVAL: invalid or truncated; E2BIG cannot happen at ×4
            break;
        }
    }
    if (ok && iconv(cd, nullptr, nullptr, &outPtr, &outLeft) == static_cast<size_t>(-1))
        ok = false;
    iconv_close(cd);
    if (!ok)
        return std::nullopt;
    out.truncate(outPtr - out.data());
    return out;
}

} // namespace

QString zipStatusCode(ZipStatus status)
{
    switch (status) {
    case ZipStatus::Ok: return QStringLiteral("ok");
    case ZipStatus::NotZip: return QStringLiteral("not_zip");
    case ZipStatus::Unsupported: return QStringLiteral("unsupported");
    case ZipStatus::Corrupt: return QStringLiteral("corrupt");
    case ZipStatus::BadChecksum: return QStringLiteral("bad_checksum");
    case ZipStatus::TooLarge: return QStringLiteral("too_large");
    }
    return QStringLiteral("corrupt");
}

ZipArchive readZip(QByteArrayView archive)
{
    ZipArchive result;
    if (archive.size() > zipArchiveBytesMax) {
        result.status = ZipStatus::TooLarge;
        return result;
    }
    // The end record is the last 22 bytes plus a comment of up to 64 KiB: search backwards.
    qsizetype end = -1;
    const qsizetype lowest = qMax<qsizetype>(0, archive.size() - endOfDirectoryBytes - commentBytesMax);
    for (qsizetype at = archive.size() - endOfDirectoryBytes; at >= lowest; --at) {
        if (u32(archive, at) == endOfDirectorySignature
            && at + endOfDirectoryBytes + u16(archive, at + 20) == archive.size()) {
            end = at;
            break;
        }
    }
    if (end < 0) {
        result.status = ZipStatus::NotZip;
        return result;
    }
    const quint16 disk = u16(archive, end + 4);
    const quint16 directoryDisk = u16(archive, end + 6);
    const quint16 entriesHere = u16(archive, end + 8);
    const quint16 entries = u16(archive, end + 10);
    const quint32 directoryBytes = u32(archive, end + 12);
    const quint32 directoryOffset = u32(archive, end + 16);
    if (disk != 0 || directoryDisk != 0 || entriesHere != entries || entries == 0xffff
        || directoryOffset == 0xffffffffu) {
        result.status = ZipStatus::Unsupported;
        return result;
    }
    if (entries > zipEntriesMax) {
        result.status = ZipStatus::TooLarge;
        return result;
    }
    if (qsizetype(directoryOffset) + qsizetype(directoryBytes) > end) {
        result.status = ZipStatus::Corrupt;
        return result;
    }
    qsizetype at = directoryOffset;
    const qsizetype directoryEnd = qsizetype(directoryOffset) + qsizetype(directoryBytes);
    for (int i = 0; i < entries; ++i) {
        if (at + centralHeaderBytes > directoryEnd || u32(archive, at) != centralHeaderSignature) {
            result.status = ZipStatus::Corrupt;
            return result;
        }
        const quint16 flags = u16(archive, at + 8);
        const quint16 method = u16(archive, at + 10);
        const quint32 crc = u32(archive, at + 16);
        const quint32 compressedSize = u32(archive, at + 20);
        const quint32 size = u32(archive, at + 24);
        const quint16 nameBytes = u16(archive, at + 28);
        const quint16 extraBytes = u16(archive, at + 30);
        const quint16 commentLength = u16(archive, at + 32);
        const quint32 localOffset = u32(archive, at + 42);
        const qsizetype next = at + centralHeaderBytes + nameBytes + extraBytes + commentLength;
        if (next > directoryEnd) {
            result.status = ZipStatus::Corrupt;
            return result;
        }
        if ((flags & flagEncrypted) != 0 || (method != methodStored && method != methodDeflate)
            || compressedSize == 0xffffffffu || size == 0xffffffffu || localOffset == 0xffffffffu) {
            result.status = ZipStatus::Unsupported;
            return result;
        }
        if (qsizetype(size) > zipEntryBytesMax) {
            result.status = ZipStatus::TooLarge;
            return result;
        }
        const QByteArrayView rawName = archive.sliced(at + centralHeaderBytes, nameBytes);
        ZipEntry entry;
        if ((flags & flagUtf8) != 0) {
            entry.name = QString::fromUtf8(rawName);
        } else {
            const auto decoded = decodeGbk(rawName);
            entry.name = decoded ? *decoded : QString::fromLatin1(rawName);
        }
        // The local header repeats name and extra with possibly different lengths: skip by its own.
        if (qsizetype(localOffset) + localHeaderBytes > directoryOffset
            || u32(archive, localOffset) != localHeaderSignature) {
            result.status = ZipStatus::Corrupt;
            return result;
        }
        const qsizetype dataAt = qsizetype(localOffset) + localHeaderBytes + u16(archive, localOffset + 26)
            + u16(archive, localOffset + 28);
        if (dataAt + qsizetype(compressedSize) > directoryOffset) {
            result.status = ZipStatus::Corrupt;
            return result;
        }
        const QByteArrayView stored = archive.sliced(dataAt, compressedSize);
        if (method == methodStored) {
            if (compressedSize != size) {
                result.status = ZipStatus::Corrupt;
                return result;
            }
            entry.data = stored.toByteArray();
        } else {
            auto inflated = inflateRaw(stored, size);
            if (!inflated) {
                result.status = ZipStatus::Corrupt;
                return result;
            }
            entry.data = std::move(*inflated);
        }
        const uLong actualCrc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(entry.data.constData()),
            static_cast<uInt>(entry.data.size()));
        if (actualCrc != crc) {
            result.status = ZipStatus::BadChecksum;
            return result;
        }
        result.entries.append(std::move(entry));
        at = next;
    }
    result.status = ZipStatus::Ok;
    return result;
}

std::optional<QString> decodeGbk(QByteArrayView gbk)
{
    const auto utf8 = convert("UTF-8", "GBK", gbk);
    if (!utf8)
        return std::nullopt;
    return QString::fromUtf8(*utf8);
}

std::optional<QByteArray> encodeGbk(const QString &text)
{
    return convert("GBK", "UTF-8", text.toUtf8());
}

} // namespace prepay::payments
