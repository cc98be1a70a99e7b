// The real Backend (kiosk/flow/backend.h): the enrolled kiosk's TLS WebSocket to prepayd (mutual
// TLS with the certificate of its state directory, statedir.h), the directory replica kept in
// that directory, the profile cached beside it, and the outbox of kiosk events (outbox.h).
//
// The connection: Connecting while it (re)connects; Online once prepayd answered kiosk.profile
// and events.subscribe (after sync.snapshot when the replica has none, or prepayd asks for one);
// a connection lost goes back to Connecting, and to Offline if it is not back within
// LinkLimits::offlineAfterMs, or at once when a connection attempt fails. It reconnects by itself
// with back-off (1 s doubling to 30 s), forever. Every events.directory batch goes through
// sync::Replica's rules; an applied batch is saved to the file before directoryChanged.
//
// Calls (checkPin, createTopUp, cancelTopUp, recentRecharges) need Online; otherwise they answer
// BackendError{"unavailable"} — always from the event loop, never inside the call. A call not
// answered within LinkLimits::callTimeoutMs answers unavailable and the connection is dropped (a
// silent network is a lost one). report() appends to the outbox and drains it while online, in
// order, one event at a time; a heartbeat (kind "heartbeat", and one every heartbeatMs while
// online) is never queued.
//
// Main thread only, like every Backend.
#pragma once

#include "api/rpcclient.h"
#include "flow/backend.h"
#include "outbox.h"
#include "statedir.h"
#include "sync/replica.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QPointer>
#include <QtCore/QTimer>

#include <memory>

namespace prepay {
class Clock;
}

namespace prepay::kiosk {

struct LinkLimits
{
    static constexpr int offlineAfterMs = 5'000;    // a lost connection not back by then: Offline
    static constexpr int reconnectFirstMs = 1'000;  // back-off of reconnection attempts …
    static constexpr int reconnectMaxMs = 30'000;   // … doubling up to this
    static constexpr int connectTimeoutMs = 10'000; // a connection attempt that hangs is abandoned
    static constexpr int callTimeoutMs = 15'000;    // a call unanswered by then: the link is dead
    static constexpr int heartbeatMs = 60'000;
};
static_assert(LinkLimits::reconnectFirstMs < LinkLimits::offlineAfterMs
        && LinkLimits::reconnectFirstMs <= LinkLimits::reconnectMaxMs,
    "a short outage must be retried before the kiosk says it is offline");

class LinkBackend final : public Backend
{
    Q_OBJECT

public:
    LinkBackend(const QString &stateDir, const Clock &clock, QObject *parent = nullptr);
    ~LinkBackend() override;

    // Loads the enrolment, the replica, the profile and the outbox, then starts connecting.
    // False and *error when the state directory cannot be used (not enrolled, unreadable).
    bool start(QString *error);

    LinkState linkState() const override { return m_state; }
    KioskProfile profile() const override { return m_profile; }
    std::optional<sync::DirectoryRow> findShop(const QString &shopNo) const override;
    std::optional<sync::DirectoryRow> account(qint64 accountId) const override;
    qint64 lastSyncMs() const override;

    void checkPin(const QString &shopNo, const QString &pin, Reply<bool> done) override;
    void createTopUp(const TopUpRequest &request, Reply<TopUp> done) override;
    void cancelTopUp(qint64 attemptId, Reply<TopUp> done) override;
    void recentRecharges(const QString &shopNo, Reply<QList<Recharge>> done) override;
    void receiptFacts(const QString &receiptNo, Reply<QJsonObject> done) override;
    void report(const QString &kind, const QJsonObject &fields) override;

    // For tests and the health report.
    int outboxPending() const { return int(m_outbox.pending().size()); }
    const sync::Replica &replica() const { return m_replica; }

private:
    void connectNow();
    void onConnected();
    void onLost(const QString &reason);
    void setState(LinkState state);
    void scheduleReconnect();
    void takeSnapshot();
    void subscribe();
    void applyBatch(const QJsonObject &json, bool fromSubscribe);
    void onNotification(const QString &method, const QJsonObject &params);
    void drainOutbox();
    void sendHeartbeat();
    void saveProfile();
    // One call with the link's timeout; `done` runs once, later, on the event loop.
    void call(const QString &method, const QJsonObject &params, std::function<void(const rpc::Outcome &)> done);

    const StateFiles m_files;
    const Clock &m_clock;
    Enrolment m_enrolment;
    LinkState m_state = LinkState::Connecting;
    KioskProfile m_profile;
    sync::Replica m_replica;
    Outbox m_outbox;
    QPointer<rpc::RpcClient> m_client;
    quint64 m_generation = 0; // of the connection: answers of an older one are dropped
    bool m_subscribed = false;
    bool m_sending = false; // an outbox event is in flight
    int m_backoffMs = LinkLimits::reconnectFirstMs;
    qint64 m_lastSyncMs = 0;
    QElapsedTimer m_uptime;
    QTimer m_reconnect;
    QTimer m_offline;
    QTimer m_connectTimeout;
    QTimer m_heartbeat;
};

// TopUp from the JSON of topup.create / topup.get / topup.cancel / events.topup (docs/api.md).
TopUp topUpFromJson(const QJsonObject &json);

} // namespace prepay::kiosk
