#include "health.h"

#include <QtCore/QJsonDocument>
#include <QtNetwork/QHostAddress>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>

namespace prepay::service {

namespace {

constexpr qsizetype requestBytesMax = 8 * 1024;

QByteArray response(int status, const char *reason, const QByteArray &body)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason
        + "\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

} // namespace

// A deliberately tiny HTTP/1.x responder: one request per connection, answered and closed, so a
// probe (systemd, a shell with /dev/tcp, curl) never waits on a kept-alive connection.
HealthEndpoint::HealthEndpoint(std::function<QJsonObject()> report, QObject *parent)
    : QObject(parent)
    , m_report(std::move(report))
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_server->nextPendingConnection()) {
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                if (socket->property("answered").toBool())
                    return;
                QByteArray request = socket->property("request").toByteArray() + socket->readAll();
                if (!request.contains("\r\n\r\n") && !request.contains("\n\n")) {
                    if (request.size() > requestBytesMax)
                        socket->abort();
                    else
                        socket->setProperty("request", request);
                    return;
                }
                socket->setProperty("answered", true);
                const QList<QByteArray> line = request.left(request.indexOf('\n')).trimmed().split(' ');
                QByteArray answer;
                if (line.size() != 3 || !line.at(2).startsWith("HTTP/1.")) {
                    answer = response(400, "Bad Request", R"({"error":"not an HTTP/1.x request"})");
                } else if (line.at(1) != "/health") {
                    answer = response(404, "Not Found", R"({"error":"only /health is served here"})");
                } else if (line.at(0) != "GET") {
                    answer = response(405, "Method Not Allowed", R"({"error":"GET /health"})");
                } else {
                    const QJsonObject body = m_report();
                    const bool ok = body.value(QLatin1String("status")).toString() == QLatin1String("ok");
                    answer = response(ok ? 200 : 503, ok ? "OK" : "Service Unavailable",
                        QJsonDocument(body).toJson(QJsonDocument::Compact) + '\n');
                }
                socket->write(answer);
                socket->disconnectFromHost();
            });
        }
    });
}

HealthEndpoint::~HealthEndpoint() = default;

bool HealthEndpoint::listen(const QString &address, quint16 port, QString *error)
{
    if (!m_server->listen(QHostAddress(address), port)) {
        *error = QStringLiteral("cannot listen on %1 port %2 for the health endpoint: %3")
                     .arg(address)
                     .arg(port)
                     .arg(m_server->errorString());
        return false;
    }
    m_port = m_server->serverPort();
    return true;
}

} // namespace prepay::service
