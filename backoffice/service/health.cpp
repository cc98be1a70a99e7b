#include "health.h"

#include <QtHttpServer/QHttpServer>
#include <QtHttpServer/QHttpServerResponse>
#include <QtNetwork/QHostAddress>

namespace prepay::service {

HealthEndpoint::HealthEndpoint(std::function<QJsonObject()> report, QObject *parent)
    : QObject(parent)
    , m_report(std::move(report))
    , m_http(new QHttpServer(this))
{
    m_http->route(QStringLiteral("/health"), QHttpServerRequest::Method::Get, [this] {
        const QJsonObject body = m_report();
        const bool ok = body.value(QLatin1String("status")).toString() == QLatin1String("ok");
        return QHttpServerResponse(body,
            ok ? QHttpServerResponse::StatusCode::Ok : QHttpServerResponse::StatusCode::ServiceUnavailable);
    });
}

HealthEndpoint::~HealthEndpoint() = default;

bool HealthEndpoint::listen(const QString &address, quint16 port, QString *error)
{
    m_port = m_http->listen(QHostAddress(address), port);
    if (m_port == 0) {
        *error = QStringLiteral("cannot listen on %1 port %2 for the health endpoint").arg(address).arg(port);
        return false;
    }
    return true;
}

} // namespace prepay::service
