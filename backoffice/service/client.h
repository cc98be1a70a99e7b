// One open API connection: its WebSocket, which port it came in on, who is at the other end
// (nobody yet, an enrolled kiosk — known from its certificate — or a logged-in staff member) and
// its request budget. The ApiServer owns it; handlers see it through a Call.
#pragma once

#include "api/contract.h"
#include "service/ratelimit.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QSet>
#include <QtWebSockets/QWebSocketProtocol>

#include <optional>

class QWebSocket;

namespace prepay::service {

enum class Port { Staff, Kiosk };

// The staff member logged in on a connection (a copy of their session row, refreshed from the
// database at least once a minute so a logout elsewhere or a disabled account takes effect).
struct StaffIdentity
{
    qint64 operatorId = 0;
    qint64 sessionId = 0;
    QString login;
    QString displayName;
    rpc::Principal role = rpc::Principal::Anonymous;
    bool mustChangePassword = false;
    qint64 idleTimeoutMs = 0;
    qint64 expiresAtMs = 0;    // absolute end (wall clock)
    qint64 lastActiveMs = 0;   // wall clock of the last call
    qint64 checkedAtMs = 0;    // wall clock of the last look at the session row
};

class Client : public QObject
{
    Q_OBJECT

public:
    Client(QWebSocket *socket, Port port, quint64 id, TokenBucket bucket, QObject *parent = nullptr);
    ~Client() override;

    quint64 id() const { return m_id; }
    Port port() const { return m_port; }
    QString sourceAddress() const { return m_source; }

    // What the permission matrix is checked against: the logged-in staff member's role, else the
    // kiosk, else anonymous.
    rpc::Principal principal() const;

    std::optional<qint64> kioskId;
    QString kioskName;
    std::optional<qint64> kioskBuildingId; // a kiosk of one building reads only its tenants
    std::optional<StaffIdentity> staff;
    // events.subscribe: the seq up to which this connection has been sent the directory feed.
    std::optional<qint64> feedCursor;
    // topup.create/get/cancel: the top-ups whose events.topup this connection receives.
    QSet<qint64> watchedTopUps;

    TokenBucket &bucket() { return m_bucket; }
    quint64 nextCallNumber() { return ++m_calls; }

    void send(const QByteArray &frame);
    void close(QWebSocketProtocol::CloseCode code, const QString &reason);

Q_SIGNALS:
    void frameReceived(const QByteArray &frame);
    void disconnected();

private:
    QPointer<QWebSocket> m_socket;
    Port m_port;
    quint64 m_id;
    QString m_source;
    TokenBucket m_bucket;
    quint64 m_calls = 0;
};

} // namespace prepay::service
