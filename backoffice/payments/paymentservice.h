// The QR payment flow in prepayd (PAYMENT-PROVIDERS.md §3.5–3.6): asks the providers for QRs,
// polls them, abandons what the kiosk gave up, and turns notifications into transitions. The
// money decisions are attempts.h's, made inside one write transaction each; this class only
// decides WHEN to ask the provider, and never believes anything the adapter did not verify.
//
//   create:  createTopUp (tx) → provider.create → recordCreated (tx)
//   poll:    every attempt due (next_query_at_ms) is queried: +5 s, +10 s, then every 10 s until
//            it is paid or closed; past its QR deadline it is abandoned (cancel / close) and
//            queried once more; past the deadline + grace it is expired_unknown and queried
//            every minute for a day. Polling alone credits every payment: notifications only
//            make it faster.
//   notify:  (payments, and refund outcomes through refunds.h applyRefund) the raw request is
//            stored (provider_events) BEFORE anything else; then verified
//            (pure), then applied in one transaction with its event row; the provider's success
//            reply is sent only after that commit. A restart re-processes stored events that
//            were never finished.
#pragma once

#include "payments/attempts.h"
#include "payments/provider.h"

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace prepay {
class Clock;
}
namespace prepay::billing {
class Biller;
}
namespace prepay::store {
class Connection;
class Store;
}

namespace prepay::payments {

struct PaymentSchedule
{
    qint64 firstQueryMs = 5000;   // after the QR is issued
    qint64 secondQueryMs = 10000; // after the first query
    qint64 queryEveryMs = 10000;  // then
    qint64 graceMs = 600000;      // after the QR deadline: still closing → expired_unknown
    qint64 expiredQueryEveryMs = 60000;
    qint64 expiredQueryForMs = 86400000;
    qint64 tickMs = 500;          // how often the poller looks for due attempts
};

class PaymentService : public QObject
{
    Q_OBJECT

public:
    PaymentService(store::Store &store, billing::Biller &biller, const Clock &clock, QObject *parent = nullptr);
    ~PaymentService() override;

    // The adapters, by channel (the service does not own them).
    void setProvider(Provider *provider);
    Provider *provider(Channel channel) const;
    void setSchedule(const PaymentSchedule &schedule) { m_schedule = schedule; }

    // Starts the poller and re-processes notifications stored but never finished.
    void start();

    // topup.create: the order and attempt, then the QR. done() runs once the provider answered
    // (or at once for a duplicate / refusal) with the attempt as it is then.
    using AttemptDone = std::function<void(const CreateTopUpResult &)>;
    void createTopUp(const QrTopUp &request, AttemptDone done);

    // The kiosk gave up (topup.cancel): abandon now rather than at the deadline.
    void abandon(qint64 attemptId);

    // A notification as the endpoint received it; reply() gets the provider's expected answer
    // after the commit (or a failure answer when it was refused or could not be stored).
    void handleNotification(Channel channel, const NotifyRequest &request, std::function<void(const NotifyReply &)> reply);

    // The number of provider calls in flight (tests wait for zero).
    int busy() const { return int(m_inFlight.size()); }

Q_SIGNALS:
    // An attempt changed state (paid, closed, QR issued, …): the API pushes it to the kiosk.
    void attemptChanged(qint64 attemptId);
    // Meter commands a committed transition queued: the poller sends them.
    void commandsQueued(const QList<qint64> &commandIds);
    // A refund notification changed a refund (refunds.h applyRefund).
    void refundChanged(qint64 refundId);

private:
    void tick();
    void poll(const Attempt &attempt);
    void queryNow(const Attempt &attempt);
    void abandonNow(const Attempt &attempt);
    void abandonCall(const Attempt &attempt);
    void resendCreate(const Attempt &attempt);
    void applied(const ApplyResult &result);
    void settleNotification(qint64 eventId, Channel channel, const Notification &notification,
        std::function<void(bool accepted)> done);
    void processStored(qint64 eventId, Channel channel, const NotifyRequest &request,
        std::function<void(bool accepted)> done, bool refreshed);
    qint64 nextQueryAfter(const Attempt &attempt, qint64 nowMs) const;

    template<typename Job, typename Done>
    void write(Job &&job, Done &&done);

    store::Store &m_store;
    billing::Biller &m_biller;
    const Clock &m_clock;
    std::unique_ptr<store::Connection> m_reader;
    QHash<int, Provider *> m_providers;
    PaymentSchedule m_schedule;
    QTimer m_timer;
    QSet<qint64> m_inFlight; // attempts with a provider call under way
    std::shared_ptr<QThreadPool> m_waiters;
};

} // namespace prepay::payments
