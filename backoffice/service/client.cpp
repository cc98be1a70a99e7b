#include "client.h"

#include <QtWebSockets/QWebSocket>

namespace prepay::service {

Client::Client(QWebSocket *socket, Port port, quint64 id, TokenBucket bucket, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_port(port)
    , m_id(id)
    , m_bucket(bucket)
{
    const QHostAddress peer = socket->peerAddress();
    // "[::1]:5000" or "10.0.0.5:5000": IPv4-mapped IPv6 addresses are shown as IPv4.
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    m_source = isV4 ? QStringLiteral("%1:%2").arg(QHostAddress(v4).toString()).arg(socket->peerPort())
                    : QStringLiteral("[%1]:%2").arg(peer.toString()).arg(socket->peerPort());
    socket->setParent(this);
    connect(socket, &QWebSocket::textMessageReceived, this,
        [this](const QString &message) { Q_EMIT frameReceived(message.toUtf8()); });
    // Binary frames are not part of the protocol: answered like malformed text.
    connect(socket, &QWebSocket::binaryMessageReceived, this,
        [this](const QByteArray &message) { Q_EMIT frameReceived(message); });
    connect(socket, &QWebSocket::disconnected, this, &Client::disconnected);
}

Client::~Client() = default;

rpc::Principal Client::principal() const
{
    if (staff)
        return staff->role;
    if (kioskId)
        return rpc::Principal::Kiosk;
    return rpc::Principal::Anonymous;
}

void Client::send(const QByteArray &frame)
{
    if (m_socket)
        m_socket->sendTextMessage(QString::fromUtf8(frame));
}

void Client::close(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_socket)
        m_socket->close(code, reason);
}

} // namespace prepay::service
