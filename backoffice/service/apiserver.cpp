#include "apiserver.h"

#include "service/dispatcher.h"
#include "service/servicelog.h"

#include <QtCore/QCryptographicHash>
#include <QtNetwork/QHostAddress>
#include <QtWebSockets/QWebSocket>
#include <QtWebSockets/QWebSocketServer>

namespace prepay::service {

namespace {
// A TLS handshake plus the WebSocket upgrade must complete within this, or the socket is dropped
// (a half-open connection must not hold one of the connections_max slots).
constexpr int handshakeTimeoutMs = 10000;
} // namespace

ApiServer::ApiServer(const Clock &clock, const Config &config, Dispatcher &dispatcher, KioskLookup kioskLookup,
    QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_config(config)
    , m_dispatcher(dispatcher)
    , m_kioskLookup(std::move(kioskLookup))
{
}

ApiServer::~ApiServer()
{
    close();
}

bool ApiServer::listen(const TlsMaterial &tls, QString *error)
{
    const QHostAddress address(m_config.listenAddress);
    const auto make = [this, &address, error](Port port, quint16 number, const QSslConfiguration &ssl,
                          const QString &name) -> QWebSocketServer * {
        auto *server = new QWebSocketServer(QStringLiteral("prepayd"), QWebSocketServer::SecureMode, this);
        server->setSslConfiguration(ssl);
        server->setHandshakeTimeout(handshakeTimeoutMs);
        server->setMaxPendingConnections(64);
        connect(server, &QWebSocketServer::newConnection, this, [this, server, port] { accept(server, port); });
        connect(server, &QWebSocketServer::sslErrors, this, [name](const QList<QSslError> &errors) {
            QStringList what;
            for (const QSslError &e : errors)
                what << e.errorString();
            qCInfo(lcService, "%s port: TLS handshake refused: %s", qUtf8Printable(name),
                qUtf8Printable(what.join(QStringLiteral("; "))));
        });
        connect(server, &QWebSocketServer::acceptError, this, [name](QAbstractSocket::SocketError socketError) {
            qCWarning(lcService, "%s port: accept failed (socket error %d)", qUtf8Printable(name), int(socketError));
        });
        if (!server->listen(address, number)) {
            *error = QStringLiteral("cannot listen on %1 port %2:%3: %4")
                         .arg(name, m_config.listenAddress)
                         .arg(number)
                         .arg(server->errorString());
            return nullptr;
        }
        return server;
    };
    m_staffServer = make(Port::Staff, m_config.staffPort, staffTlsConfiguration(tls), QStringLiteral("staff"));
    if (!m_staffServer)
        return false;
    m_kioskServer = make(Port::Kiosk, m_config.kioskPort, kioskTlsConfiguration(tls), QStringLiteral("kiosk"));
    if (!m_kioskServer) {
        m_staffServer->close();
        return false;
    }
    qCInfo(lcService, "API listening on %s: staff port %u (TLS 1.3), kiosk port %u (TLS 1.3, client certificate)",
        qUtf8Printable(m_config.listenAddress), unsigned(staffPort()), unsigned(kioskPort()));
    return true;
}

void ApiServer::close()
{
    if (m_staffServer)
        m_staffServer->close();
    if (m_kioskServer)
        m_kioskServer->close();
    const QList<Client *> open = m_clients;
    for (Client *client : open)
        client->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("prepayd is stopping"));
}

quint16 ApiServer::staffPort() const
{
    return m_staffServer ? m_staffServer->serverPort() : 0;
}

quint16 ApiServer::kioskPort() const
{
    return m_kioskServer ? m_kioskServer->serverPort() : 0;
}

void ApiServer::accept(QWebSocketServer *server, Port port)
{
    while (QWebSocket *socket = server->nextPendingConnection())
        adopt(socket, port);
}

void ApiServer::adopt(QWebSocket *socket, Port port)
{
    socket->setMaxAllowedIncomingMessageSize(quint64(m_config.frameMaxBytes) * 2);
    socket->setMaxAllowedIncomingFrameSize(quint64(m_config.frameMaxBytes) * 2);
    if (m_clients.size() >= m_config.connectionsMax) {
        qCWarning(lcService, "refused a connection from %s: %d connections open (api.connections_max)",
            qUtf8Printable(socket->peerAddress().toString()), int(m_clients.size()));
        socket->close(QWebSocketProtocol::CloseCodeTooMuchData, QStringLiteral("too many connections"));
        socket->deleteLater();
        return;
    }
    auto *client = new Client(socket, port, ++m_nextClientId,
        TokenBucket(m_clock, m_config.requestsPerSecond, m_config.requestsBurst), this);

    if (port == Port::Kiosk) {
        // The handshake verified the chain against the building CA; which kiosk is it?
        const QSslCertificate certificate = socket->sslConfiguration().peerCertificate();
        const QByteArray fingerprint = certificate.digest(QCryptographicHash::Sha256);
        const std::optional<KioskIdentity> kiosk =
            certificate.isNull() ? std::nullopt : m_kioskLookup(fingerprint);
        if (!kiosk) {
            qCWarning(lcService, "c%llu kiosk port: certificate %s (%s) belongs to no enrolled kiosk: closed",
                client->id(), fingerprint.toHex().left(16).constData(),
                qUtf8Printable(certificate.subjectInfo(QSslCertificate::CommonName).join(QLatin1Char(','))));
            client->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("kiosk not enrolled"));
            client->deleteLater();
            return;
        }
        client->kioskId = kiosk->id;
        client->kioskName = kiosk->name;
        client->kioskBuildingId = kiosk->buildingId;
    }

    m_clients.append(client);
    qCInfo(lcService, "c%llu connected on the %s port from %s%s", client->id(),
        port == Port::Kiosk ? "kiosk" : "staff", qUtf8Printable(client->sourceAddress()),
        client->kioskId ? qUtf8Printable(QStringLiteral(" (kiosk %1 '%2')").arg(*client->kioskId).arg(client->kioskName))
                        : "");
    connect(client, &Client::frameReceived, this, [this, client](const QByteArray &frame) {
        m_dispatcher.dispatch(*client, frame);
    });
    connect(client, &Client::disconnected, this, [this, client] {
        m_clients.removeOne(client);
        qCInfo(lcService, "c%llu disconnected", client->id());
        Q_EMIT clientClosed(client);
        client->deleteLater();
    });
}

void ApiServer::push(const QByteArray &frame, const std::function<bool(const Client &)> &select)
{
    for (Client *client : std::as_const(m_clients)) {
        if (select(*client))
            client->send(frame);
    }
}

} // namespace prepay::service
