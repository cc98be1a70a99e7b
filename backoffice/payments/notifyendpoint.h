// The providers' notify URLs on prepayd (PAYMENT-PROVIDERS.md §3.5): POST /notify/alipay,
// /notify/wechat and /notify/unionpay, over HTTPS (WeChat refuses anything else) or plain HTTP
// behind a relay. Each request goes to PaymentService::handleNotification exactly as received
// (method, path, query, headers in order, raw body) and is answered only when the service has
// committed: the provider's "success" means the money is on disk. Anything else is 404/405/413.
#pragma once

#include "payments/provider.h"

#include <QtCore/QObject>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace prepay::payments {

class PaymentService;

class NotifyEndpoint : public QObject
{
    Q_OBJECT

public:
    static constexpr qsizetype bodyBytesMax = qsizetype(64) * 1024;

    explicit NotifyEndpoint(PaymentService &service, QObject *parent = nullptr);
    ~NotifyEndpoint() override;

    // TLS from PEM files (certificate chain, key); without them the endpoint is plain HTTP.
    bool setTls(const QString &certFile, const QString &keyFile, QString *error);
    bool listen(const QHostAddress &address, quint16 port, QString *error); // port 0: any free one
    quint16 port() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace prepay::payments
