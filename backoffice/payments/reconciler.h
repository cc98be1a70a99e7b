// The daily reconciliation in prepayd (PAYMENT-PROVIDERS.md §3.7): downloads each configured
// channel's bill of yesterday (Beijing days) every morning, matches it (reconciliation.h) on the
// store's writer, then confirms what the bill alone cannot prove — a payment the bill shows that
// we never credited is QUERIED, and only the provider's verified answer is applied (applyTrade,
// late and flagged). The money decisions are attempts.h's and reconciliation.h's, one write
// transaction each; this class only decides WHEN to ask the provider.
//
//   reconcileDay:  Provider::bill → reconcileBill (tx) → for every attempt still to confirm:
//                  Provider::query → confirmPaidNotCredited (tx) → the alarm (tx).
//   start():       every day at `at` Beijing time, yesterday for every channel; a failed day
//                  (download, store) is tried again every retryEveryMs, at most retriesMax times,
//                  then an alarm says it could not be done (and the next day's round tries it
//                  once more). After a restart the days of the last catchUpDaysMax that
//                  provider_bills does not hold are done first (from the first QR top-up on).
//
// A channel whose provider has no bill download (UnionPay answers NOT_SUPPORTED) is "not
// supported": no bill, no findings, not asked again by the schedule.
//
// Alarms (control/alarms.h, kind payment_unmatched, one open episode per subject):
//   system/3  reconciliation findings need staff (raised while any finding is open; cleared by
//             the first run that finds none open);
//   system/4  a day could not be reconciled after its retries.
#pragma once

#include "payments/provider.h"
#include "payments/reconciliation.h"

#include <QtCore/QDate>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QSet>
#include <QtCore/QThreadPool>
#include <QtCore/QTime>
#include <QtCore/QTimer>

#include <functional>
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

struct ReconcileSchedule
{
    QTime at = QTime(10, 30);             // Beijing time: bills of T are ready on T+1 from about 10:00
    qint64 retryEveryMs = 30 * 60 * 1000; // after a failed download or write
    int retriesMax = 6;                   // then the day waits for the next day's round (and alarms)
    int catchUpDaysMax = 7;               // how far back a (re)start looks for days not done
    qint64 tickMs = 60 * 1000;            // how often the schedule looks for due days
    ReconcileLimits limits;
};

enum class DayOutcome {
    Reconciled,     // the bill is matched and stored; findings written, confirmations done
    NotSupported,   // the provider has no bill download (UnionPay): nothing written
    NotConfigured,  // no adapter for the channel on this prepayd
    DownloadFailed, // no verified bill (message says why): nothing written; tried again
    Invalid,        // the bill cannot be matched (reconciliation.h said why): nothing written
    StoreFailed,    // SQLite refused
    Busy,           // this channel and day are being reconciled right now
};
QString dayOutcomeCode(DayOutcome outcome);

struct DayResult
{
    DayOutcome outcome = DayOutcome::StoreFailed;
    QString message;
    Channel channel = Channel::Alipay;
    QDate date;
    ReconcileSummary summary;       // Reconciled: what the matching found (before the confirmations)
    QList<ConfirmResult> confirmed; // the confirming queries, in order
    int creditedLate = 0;           // of them, credited now
    int openFindings = 0;           // all channels and days, after this run
};

class Reconciler : public QObject
{
    Q_OBJECT

public:
    Reconciler(store::Store &store, billing::Biller &biller, const Clock &clock, QObject *parent = nullptr);
    ~Reconciler() override;

    // The adapters, by channel (the reconciler does not own them).
    void setProvider(Provider *provider);
    Provider *provider(Channel channel) const;
    void setSchedule(const ReconcileSchedule &schedule) { m_schedule = schedule; }
    const ReconcileSchedule &schedule() const { return m_schedule; }

    // Starts the daily schedule; days missed while prepayd was down are done at once.
    void start();

    // Reconciles one channel's bill of one Beijing day now (staff's re-run, the schedule, tests).
    // done() runs once, after the confirmations and the alarm.
    using DayDone = std::function<void(const DayResult &)>;
    void reconcileDay(Channel channel, QDate day, DayDone done);

    // Runs under way (tests wait for zero).
    int busy() const { return int(m_running.size()); }

Q_SIGNALS:
    // Every run's end, scheduled or asked for.
    void dayReconciled(const prepay::payments::DayResult &result);
    // An attempt changed (a late credit): the API pushes it.
    void attemptChanged(qint64 attemptId);
    // Meter jobs a late credit queued: the poller sends them.
    void commandsQueued(const QList<qint64> &commandIds);

private:
    struct Run;
    struct Retry
    {
        int failures = 0;
        qint64 nextAtMs = 0;
        bool gaveUp = false;
    };

    void tick();
    void scheduledDone(const DayResult &result);
    void matchBill(const std::shared_ptr<Run> &run, const BillResult &bill);
    void confirmNext(const std::shared_ptr<Run> &run);
    void confirmed(const std::shared_ptr<Run> &run, qint64 attemptId, const QueryResult &answer);
    void finish(const std::shared_ptr<Run> &run);
    void end(const std::shared_ptr<Run> &run, DayOutcome outcome, const QString &message);
    bool billStored(Channel channel, QDate day);
    int paidAttemptsOn(Channel channel, QDate day);
    QDate firstTopUpDay();

    template<typename Job, typename Done>
    void write(Job &&job, Done &&done);

    store::Store &m_store;
    billing::Biller &m_biller;
    const Clock &m_clock;
    std::unique_ptr<store::Connection> m_reader;
    QHash<int, Provider *> m_providers;
    ReconcileSchedule m_schedule;
    QTimer m_timer;
    QSet<qint64> m_running;         // (channel, day) keys under way
    bool m_scheduledRun = false;    // the schedule runs one day at a time
    QSet<int> m_unsupported;        // channels without a bill download
    QHash<qint64, Retry> m_retries; // (channel, day) → failures of this round
    QDate m_round;                  // the Beijing day the retry counts belong to
    std::shared_ptr<QThreadPool> m_waiters;
};

} // namespace prepay::payments
