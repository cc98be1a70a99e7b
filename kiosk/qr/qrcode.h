// The one wrapper of libqrencode (STYLE.md habit 10): encode() turns a payload into a module
// matrix or a named error; nothing above it sees a QRcode pointer. render() draws the matrix
// with a quiet zone of kQuietZoneModules light modules on every side (ISO/IEC 18004 asks for 4)
// and whole device pixels per module, so the code stays crisp at any size.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtGui/QImage>

#include <optional>

namespace prepay::kiosk::qr {

inline constexpr int kQuietZoneModules = 4;
inline constexpr int kPayloadBytesMax = 2'000; // a payment link is ~100–300 bytes

struct Matrix
{
    int size = 0;         // modules per side
    QList<bool> dark;     // size × size, row-major
    bool at(int x, int y) const { return dark.at(y * size + x); }
};

enum class EncodeError { None, Empty, TooLong, Failed };

// Byte mode, error correction level M. A payload of more than kPayloadBytesMax is TooLong.
std::optional<Matrix> encode(const QByteArray &payload, EncodeError *error = nullptr);

// The matrix drawn black on white, quiet zone included, as large as fits in `maxSidePx`
// (at least one pixel per module).
QImage render(const Matrix &matrix, int maxSidePx);

} // namespace prepay::kiosk::qr
