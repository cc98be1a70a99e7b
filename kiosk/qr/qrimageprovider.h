// image://qr/<percent-encoded payload>: the QR of a payment (or any text) for an Image in QML,
// drawn by qr::render() as large as the Image's sourceSize asks (default 600 px), crisp and
// with its quiet zone. A payload that cannot be encoded gives an empty image and one warning.
#pragma once

#include <QtQuick/QQuickImageProvider>

namespace prepay::kiosk {

class QrImageProvider : public QQuickImageProvider
{
public:
    static constexpr int kDefaultSidePx = 600;

    QrImageProvider();
    QImage requestImage(const QString &id, QSize *size, const QSize &requestedSize) override;
};

} // namespace prepay::kiosk
