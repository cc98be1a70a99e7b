#include "gatewayserver.h"

#include "framing.h"
#include "serverlog.h"
#include "simbuilding.h"

#include "modbus/mapv1.h"

#include <QtCore/QTimer>
#include <QtNetwork/QTcpSocket>

namespace prepay::sim {

using meter::v1::ExceptionCode;

GatewayServer::GatewayServer(
    SimBuilding &building, const QList<BusLine *> &buses, const Config &config, QObject *parent)
    : QObject(parent)
    , m_building(building)
    , m_buses(buses)
    , m_config(config)
{
    m_server.setMaxPendingConnections(kConnectionsMax);
    connect(&m_server, &QTcpServer::newConnection, this, &GatewayServer::onNewConnection);
}

bool GatewayServer::listen(QString *error)
{
    if (m_server.listen(QHostAddress::LocalHost, m_config.port))
        return true;
    *error = QStringLiteral("gateway %1: cannot listen on 127.0.0.1:%2: %3")
                 .arg(m_config.gateway)
                 .arg(m_config.port)
                 .arg(m_server.errorString());
    return false;
}

bool GatewayServer::listening() const
{
    return m_server.isListening();
}

bool GatewayServer::setRefusing(bool refusing, QString *error)
{
    if (refusing == m_refusing)
        return true;
    m_refusing = refusing;
    if (refusing) {
        m_server.close();
        qCInfo(lcSimServer, "gateway %d: refusing connections", m_config.gateway);
        return true;
    }
    qCInfo(lcSimServer, "gateway %d: accepting connections again", m_config.gateway);
    return listen(error);
}

void GatewayServer::dropConnections()
{
    const QList<QTcpSocket *> sockets = m_buffers.keys();
    qCInfo(lcSimServer, "gateway %d: dropping %lld connections", m_config.gateway, qlonglong(sockets.size()));
    for (QTcpSocket *socket : sockets) {
        socket->abort();        // a reset, as when a gateway reboots
        onDisconnected(socket); // in case abort() did not emit disconnected(); idempotent
    }
}

void GatewayServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        if (m_buffers.size() >= kConnectionsMax) {
            qCWarning(lcSimServer, "gateway %d: connection limit %d reached, closing a new one", m_config.gateway,
                kConnectionsMax);
            socket->abort();
            socket->deleteLater();
            continue;
        }
        m_buffers.insert(socket, QByteArray());
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] { onDisconnected(socket); });
        qCDebug(lcSimServer, "gateway %d: client %s:%u connected", m_config.gateway,
            qUtf8Printable(socket->peerAddress().toString()), socket->peerPort());
    }
}

void GatewayServer::onDisconnected(QTcpSocket *socket)
{
    if (m_buffers.remove(socket) == 0)
        return;
    qCDebug(lcSimServer, "gateway %d: client disconnected", m_config.gateway);
    // Its queued requests leave the buses now (they must not hold queue places); the answer in
    // flight is dropped once the socket is deleted (the bus holds it by QPointer).
    for (BusLine *bus : std::as_const(m_buses))
        bus->cancel(socket);
    socket->deleteLater();
}

void GatewayServer::onReadyRead(QTcpSocket *socket)
{
    auto it = m_buffers.find(socket);
    if (it == m_buffers.end())
        return;
    it->append(socket->readAll());
    for (;;) {
        MbapFrame frame;
        const MbapStatus status = takeMbapFrame(*it, &frame);
        if (status == MbapStatus::NeedMore)
            return;
        if (status != MbapStatus::Frame) {
            qCWarning(lcSimServer, "gateway %d: %s in an MBAP header; closing the connection", m_config.gateway,
                status == MbapStatus::BadProtocolId ? "protocol id is not 0" : "length out of range");
            m_buffers.remove(socket);
            for (BusLine *bus : std::as_const(m_buses))
                bus->cancel(socket);
            socket->abort();
            socket->deleteLater();
            return;
        }
        handleRequest(socket, frame.transactionId, frame.unitId, frame.pdu);
    }
}

QByteArray GatewayServer::exceptionPdu(const QByteArray &request, quint8 code) const
{
    QByteArray pdu;
    pdu.append(char(quint8(request.at(0)) | 0x80));
    pdu.append(char(code));
    return pdu;
}

void GatewayServer::send(QTcpSocket *socket, quint16 transactionId, quint8 unitId, const QByteArray &pdu)
{
    if (socket->state() == QAbstractSocket::ConnectedState)
        socket->write(encodeMbap(transactionId, unitId, pdu));
}

void GatewayServer::handleRequest(QTcpSocket *socket, quint16 transactionId, quint8 unitId, const QByteArray &pdu)
{
    ++m_requests;
    if (unitId == 0) {
        // Broadcast: the gateway puts it on every bus; nobody answers.
        for (BusLine *bus : std::as_const(m_buses))
            bus->submit(BusLine::Transport::Tcp, 0, pdu, socket, {});
        return;
    }
    const int index = m_building.meterIndex(m_config.gateway, unitId);
    if (index < 0) {
        // No such unit behind this gateway: it tries, waits its timeout and reports (or not).
        if (!m_config.silentOnNoAnswer) {
            QTimer::singleShot(m_config.gatewayTimeoutMs, socket, [this, socket, transactionId, unitId, pdu] {
                send(socket, transactionId, unitId,
                    exceptionPdu(pdu, quint8(ExceptionCode::GatewayTargetFailedToRespond)));
            });
        }
        return;
    }
    BusLine *bus = m_buses.at(m_building.location(index).bus);
    const bool queued = bus->submit(BusLine::Transport::Tcp, unitId, pdu, socket,
        [this, socket, transactionId, unitId](const BusLine::Answer &answer) {
            if (answer.kind == BusLine::Answer::Kind::Silence)
                return;
            // Another transaction id: what a late answer looks like to a client that moved on.
            const quint16 tid = answer.wrongTid ? quint16(transactionId + 0x5A5A) : transactionId;
            send(socket, tid, unitId, answer.pdu);
        });
    if (!queued)
        send(socket, transactionId, unitId, exceptionPdu(pdu, quint8(ExceptionCode::ServerDeviceBusy)));
}

} // namespace prepay::sim
