#include "qrcode.h"

#include <qrencode.h>

#include <memory>

namespace prepay::kiosk::qr {

namespace {

struct QrCodeDeleter
{
    void operator()(QRcode *code) const { QRcode_free(code); }
};

} // namespace

std::optional<Matrix> encode(const QByteArray &payload, EncodeError *error)
{
    const auto fail = [error](EncodeError e) -> std::optional<Matrix> {
        if (error)
            *error = e;
        return std::nullopt;
    };
    if (payload.isEmpty())
        return fail(EncodeError::Empty);
    if (payload.size() > kPayloadBytesMax)
        return fail(EncodeError::TooLong);
    // QRcode_encodeData takes bytes with their length (no NUL termination needed, 8-bit mode).
    std::unique_ptr<QRcode, QrCodeDeleter> code(QRcode_encodeData(int(payload.size()),
        reinterpret_cast<const unsigned char *>(payload.constData()), 0, QR_ECLEVEL_M));
    if (!code)
        return fail(EncodeError::Failed);
    Matrix matrix;
    matrix.size = code->width;
    matrix.dark.resize(qsizetype(code->width) * code->width);
    for (int i = 0; i < code->width * code->width; ++i)
        matrix.dark[i] = (code->data[i] & 1) != 0; // bit 0: dark module
    if (error)
        *error = EncodeError::None;
    return matrix;
}

QImage render(const Matrix &matrix, int maxSidePx)
{
    const int modules = matrix.size + 2 * kQuietZoneModules;
    const int scale = std::max(1, maxSidePx / modules);
    const int side = modules * scale;
    QImage image(side, side, QImage::Format_Grayscale8);
    image.fill(255);
    for (int y = 0; y < matrix.size; ++y) {
        for (int x = 0; x < matrix.size; ++x) {
            if (!matrix.at(x, y))
                continue;
            for (int py = 0; py < scale; ++py) {
                uchar *line = image.scanLine((y + kQuietZoneModules) * scale + py);
                std::fill_n(line + (x + kQuietZoneModules) * scale, scale, uchar(0));
            }
        }
    }
    return image;
}

} // namespace prepay::kiosk::qr
