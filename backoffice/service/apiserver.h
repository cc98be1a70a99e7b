// The API listener: two QWebSocketServers in secure mode (TLS 1.3 only, see tls.h) — the staff
// port and the kiosk port — accepting at most api.connections_max connections, each wrapped in a
// Client with its own rate limit, every frame handed to the Dispatcher.
//
// On the kiosk port the TLS handshake has already proven that the peer holds a certificate of
// the building's CA; the server then asks `kioskLookup` which enrolled kiosk that certificate
// (its SHA-256 fingerprint) belongs to, and closes the connection when none does (a revoked
// kiosk, a certificate of a kiosk that was re-enrolled).
//
// Server push: push() sends a notification to every connection a predicate selects (the
// event feed uses it for subscribers).
#pragma once

#include "service/client.h"
#include "service/config.h"
#include "service/tls.h"

#include <QtCore/QObject>

#include <functional>
#include <memory>

class QWebSocketServer;
class QWebSocket;

namespace prepay {
class Clock;
}

namespace prepay::service {

class Dispatcher;

struct KioskIdentity
{
    qint64 id = 0;
    QString name;
    std::optional<qint64> buildingId; // the kiosk sees only this building's tenants
};
// Returns the enrolled kiosk holding the certificate with this SHA-256 fingerprint, or nullopt.
using KioskLookup = std::function<std::optional<KioskIdentity>(const QByteArray &certFingerprint)>;

class ApiServer : public QObject
{
    Q_OBJECT

public:
    ApiServer(const Clock &clock, const Config &config, Dispatcher &dispatcher, KioskLookup kioskLookup,
        QObject *parent = nullptr);
    ~ApiServer() override;

    // Listens on both ports; false and *error naming the port otherwise.
    bool listen(const TlsMaterial &tls, QString *error);
    void close();

    quint16 staffPort() const;
    quint16 kioskPort() const;
    int connectionCount() const { return int(m_clients.size()); }

    // Sends `frame` to every open connection `select` picks.
    void push(const QByteArray &frame, const std::function<bool(const Client &)> &select);
    QList<Client *> clients() const { return m_clients; }

Q_SIGNALS:
    void clientClosed(prepay::service::Client *client);

private:
    void accept(QWebSocketServer *server, Port port);
    void adopt(QWebSocket *socket, Port port);

    const Clock &m_clock;
    Config m_config;
    Dispatcher &m_dispatcher;
    KioskLookup m_kioskLookup;
    QWebSocketServer *m_staffServer = nullptr;
    QWebSocketServer *m_kioskServer = nullptr;
    QList<Client *> m_clients;
    quint64 m_nextClientId = 0;
};

} // namespace prepay::service
