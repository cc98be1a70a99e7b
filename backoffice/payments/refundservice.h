// The refund driver in prepayd (PAYMENT-PROVIDERS.md §3.8): sends approved refunds to their
// provider and follows them until the provider gives a final answer. The money decisions are
// refunds.h's, each one write transaction; this class only decides WHEN to ask, and never
// believes anything the adapter did not verify.
//
//   submit:  approved → (tx) submitted, submit_count + 1, the query time set — BEFORE the call,
//            so a restart finds it — then Provider::refund with the stored out_refund_no and
//            request fields read from the row alone: every retry is the identical call.
//   answer:  (tx) recordProviderAnswer: success → succeeded (refundPaid, the attempt's state);
//            a definite failure → failed (the money back in the wallet, alarm); anything
//            uncertain → query later. Never a new out_refund_no.
//   query:   Provider::refundQuery: +firstQueryMs after a call, then every queryEveryMs, after
//            slowAfterMs every slowQueryEveryMs; "no such refund" → the identical refund call
//            again; under way for stuckAfterMs → an alarm (queries go on).
//   restart: start() looks at every approved and submitted refund at once (a call in flight
//            when prepayd stopped was lost; the query tells what happened to it).
//   sweep:   every tick, refunds pending on an approval that lapsed (expired, cancelled,
//            rejected) get their money back; those on an executed approval become approved
//            (refunds.h settleLapsedApprovals).
//
// Refund notifications are not this class's: the notification path applies them with
// refunds.h applyRefund() in its own transaction; the driver's next query then finds the refund
// finished and changes nothing.
#pragma once

#include "payments/provider.h"
#include "payments/refunds.h"

#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QThreadPool>
#include <QtCore/QTimer>

#include <memory>

namespace prepay {
class Clock;
}
namespace prepay::billing {
class Biller;
}
namespace prepay::store {
class Connection;
class Store;
} // namespace prepay::store

namespace prepay::payments {

struct RefundSchedule
{
    qint64 firstQueryMs = 5000;       // after a refund call without a final answer
    qint64 queryEveryMs = 30000;      // then
    qint64 slowAfterMs = 3600000;     // under way this long since the first call: slower
    qint64 slowQueryEveryMs = 600000; // then
    qint64 stuckAfterMs = 86400000;   // under way this long: alarm (the queries go on)
    qint64 tickMs = 1000;             // how often the driver looks for due refunds
    int dueMax = 100;                 // refunds taken per look
};
static_assert(RefundSchedule{}.firstQueryMs <= RefundSchedule{}.queryEveryMs, "the first query comes first");
static_assert(RefundSchedule{}.queryEveryMs <= RefundSchedule{}.slowQueryEveryMs, "slow is slower");
static_assert(RefundSchedule{}.slowAfterMs < RefundSchedule{}.stuckAfterMs, "slow before stuck");

class RefundService : public QObject
{
    Q_OBJECT

public:
    RefundService(store::Store &store, billing::Biller &biller, const Clock &clock, QObject *parent = nullptr);
    ~RefundService() override;

    // The adapters, by channel (the service does not own them).
    void setProvider(Provider *provider);
    Provider *provider(Channel channel) const;
    void setSchedule(const RefundSchedule &schedule) { m_schedule = schedule; }

    // Starts the timer and takes up every approved and submitted refund now.
    void start();
    // Looks for due refunds now (call after a request or a decision committed one approved).
    void wake();

    // Provider calls and writes under way (tests wait for zero).
    int busy() const { return int(m_inFlight.size()); }

Q_SIGNALS:
    // A refund changed (submitted, succeeded, failed, lapsed): the API may push it to staff.
    void refundChanged(qint64 refundId);
    // Meter commands a committed change queued (a failed refund's money back may restore the
    // supply): the poller sends them.
    void commandsQueued(const QList<qint64> &commandIds);

private:
    void look(bool everything);
    void act(const Refund &refund);
    void submit(const Refund &refund);
    void query(const Refund &refund);
    void answered(const Refund &refund, ProviderCall call, const RefundResult &answer);
    qint64 nextQueryAfter(const Refund &refund, ProviderCall call, qint64 nowMs) const;
    void settled(const RefundApplyResult &result);

    template<typename Job, typename Done>
    void write(Job &&job, Done &&done);

    store::Store &m_store;
    billing::Biller &m_biller;
    const Clock &m_clock;
    std::unique_ptr<store::Connection> m_reader;
    QHash<int, Provider *> m_providers;
    RefundSchedule m_schedule;
    QTimer m_timer;
    QSet<qint64> m_inFlight; // refunds with a call or its write under way
    bool m_sweeping = false; // the lapsed-approval sweep's write is under way
    std::shared_ptr<QThreadPool> m_waiters;
};

} // namespace prepay::payments
