// One simulated Modbus TCP gateway (通讯管理机): a TCP server on 127.0.0.1 that takes MBAP
// requests from several clients, routes each by unit id to the meter's bus (busline.h) and
// answers with the TID and unit id echoed (FIELD-PROTOCOLS.md §4.4). What a gateway itself
// decides lives here: broadcast (unit 0: to every bus, no answer), unknown unit ids (exception
// 0x0B after the gateway's timeout, or silence), a full bus queue (exception 0x06), broken
// framing (protocol id ≠ 0 or a bad length: the connection is closed, since a byte stream
// cannot be resynchronised), and the gateway faults: drop all connections, refuse new ones.
//
// Owns its listening socket and client sockets; does not own the buses or the meters. A
// client that disconnects mid-transaction only loses its answer: the bus finishes the
// transaction in flight and skips the client's queued requests.
#pragma once

#include "busline.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtNetwork/QTcpServer>

class QTcpSocket;

namespace prepay::sim {

class SimBuilding;

class GatewayServer : public QObject
{
    Q_OBJECT

public:
    static constexpr int kConnectionsMax = 32; // beyond: closed at once, as a small gateway does

    struct Config
    {
        int gateway = 0;
        QString name;
        quint16 port = 0;
        int gatewayTimeoutMs = 1000;   // waiting for a silent meter or an unknown unit
        bool silentOnNoAnswer = false; // unknown unit / silent meter: silence, not 0x0B
    };

    // `buses` are the gateway's buses in file order (index = bus index); not owned.
    GatewayServer(
        SimBuilding &building, const QList<BusLine *> &buses, const Config &config, QObject *parent = nullptr);

    // Starts listening on 127.0.0.1:port; false with *error when the port cannot be bound.
    bool listen(QString *error);
    // The "refuse" fault: stop listening (clients get "connection refused") / listen again.
    bool setRefusing(bool refusing, QString *error);
    bool refusing() const { return m_refusing; }
    bool listening() const;
    // The "disconnect" fault: drops every client connection now.
    void dropConnections();

    const Config &config() const { return m_config; }
    int connectionCount() const { return int(m_buffers.size()); }
    qint64 requestsReceived() const { return m_requests; }

private:
    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    void onDisconnected(QTcpSocket *socket);
    void handleRequest(QTcpSocket *socket, quint16 transactionId, quint8 unitId, const QByteArray &pdu);
    void send(QTcpSocket *socket, quint16 transactionId, quint8 unitId, const QByteArray &pdu);
    QByteArray exceptionPdu(const QByteArray &request, quint8 code) const;

    SimBuilding &m_building;
    QList<BusLine *> m_buses;
    Config m_config;
    QTcpServer m_server;
    QHash<QTcpSocket *, QByteArray> m_buffers; // the open connections and their unparsed bytes
    bool m_refusing = false;
    qint64 m_requests = 0;
};

} // namespace prepay::sim
