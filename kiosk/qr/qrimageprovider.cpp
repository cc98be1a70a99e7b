#include "qrimageprovider.h"

#include "qr/qrcode.h"

#include <QtCore/QLoggingCategory>
#include <QtCore/QUrl>

namespace prepay::kiosk {

Q_DECLARE_LOGGING_CATEGORY(lcQr)
Q_LOGGING_CATEGORY(lcQr, "prepay.kiosk.qr")

QrImageProvider::QrImageProvider()
    : QQuickImageProvider(QQuickImageProvider::Image)
{ }

QImage QrImageProvider::requestImage(const QString &id, QSize *size, const QSize &requestedSize)
{
    // The engine hands the id over as written after "image://qr/"; the payload was
    // percent-encoded by whoever built the URL (TopUpController::qrImageUrl).
    const QByteArray payload = QUrl::fromPercentEncoding(id.toLatin1()).toUtf8();
    qr::EncodeError error = qr::EncodeError::None;
    const auto matrix = qr::encode(payload, &error);
    if (!matrix) {
        qCWarning(lcQr) << "cannot encode a QR payload of" << payload.size() << "bytes, error" << int(error);
        if (size)
            *size = QSize();
        return {};
    }
    int side = kDefaultSidePx;
    if (requestedSize.width() > 0 && requestedSize.height() > 0)
        side = std::min(requestedSize.width(), requestedSize.height());
    else if (requestedSize.width() > 0 || requestedSize.height() > 0)
        side = std::max(requestedSize.width(), requestedSize.height());
    const QImage image = qr::render(*matrix, side);
    if (size)
        *size = image.size();
    return image;
}

} // namespace prepay::kiosk
