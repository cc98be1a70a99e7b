// GET /health: a plain-HTTP endpoint for systemd, monitoring and the demo, on loopback by
// default (health.listen_address / health.port). It answers 200 with a JSON object while prepayd
// is serving ({"status":"ok", "version", "schema", "uptime_s", "connections", "poller": …}) and
// 503 with the same object and "status":"degraded" when the report says so; everything else is
// 404. It reveals no tenant data. One request per connection, answered and closed.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QObject>

#include <functional>

class QTcpServer;

namespace prepay::service {

class HealthEndpoint : public QObject
{
    Q_OBJECT

public:
    // `report` builds the current figures; a "status" member other than "ok" answers 503.
    explicit HealthEndpoint(std::function<QJsonObject()> report, QObject *parent = nullptr);
    ~HealthEndpoint() override;

    // Listens on address:port (port 0: any free port); false and *error otherwise.
    bool listen(const QString &address, quint16 port, QString *error);
    quint16 port() const { return m_port; }

private:
    std::function<QJsonObject()> m_report;
    QTcpServer *m_server = nullptr;
    quint16 m_port = 0;
};

} // namespace prepay::service
