#include "reconciler.h"

#include "api/clock.h"
#include "billing/biller.h"
#include "control/alarms.h"
#include "payments/attempts.h"
#include "store/asyncwrite.h"
#include "store/store.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtCore/QTimeZone>

#include <algorithm>

namespace prepay::payments {

namespace {

Q_LOGGING_CATEGORY(lcReconcile, "prepay.payments.reconcile")

// The alarm subjects of the reconciliation (payment_unmatched; 1 and 2 are the notifications').
constexpr qint64 alarmDayNotDone = 4;

// The providers' answers to a bill request for a day without any trade: no file at all.
bool isNoBill(const BillResult &bill)
{
    return bill.outcome == Outcome::Rejected
        && (bill.code == u"NO_STATEMENT_EXIST" || bill.code == u"isp.bill_not_exist");
}

qint64 dayKey(Channel channel, QDate day)
{
    return day.toJulianDay() * 4 + qint64(channel);
}

QDateTime beijingNow(const Clock &clock)
{
    return QDateTime::fromMSecsSinceEpoch(clock.wallMs(), QTimeZone(8 * 3600));
}

} // namespace

struct Reconciler::Run
{
    Channel channel = Channel::Alipay;
    QDate day;
    Provider *provider = nullptr;
    DayDone done;
    DayResult result;
    qsizetype next = 0; // the next attempt of summary.toConfirm
};

QString dayOutcomeCode(DayOutcome outcome)
{
    switch (outcome) {
    case DayOutcome::Reconciled: return QStringLiteral("reconciled");
    case DayOutcome::NotSupported: return QStringLiteral("not_supported");
    case DayOutcome::NotConfigured: return QStringLiteral("not_configured");
    case DayOutcome::DownloadFailed: return QStringLiteral("download_failed");
    case DayOutcome::Invalid: return QStringLiteral("invalid");
    case DayOutcome::StoreFailed: return QStringLiteral("store_failed");
    case DayOutcome::Busy: return QStringLiteral("busy");
    }
    return QStringLiteral("store_failed");
}

template<typename Job, typename Done>
void Reconciler::write(Job &&job, Done &&done)
{
    store::writeThen(m_store, *m_waiters, this, std::forward<Job>(job), std::forward<Done>(done));
}

Reconciler::Reconciler(store::Store &store, billing::Biller &biller, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_biller(biller)
    , m_clock(clock)
    , m_reader(store.openReader())
    , m_waiters(std::make_shared<QThreadPool>())
{
    m_waiters->setMaxThreadCount(2);
    connect(&m_timer, &QTimer::timeout, this, &Reconciler::tick);
}

Reconciler::~Reconciler()
{
    m_timer.stop();
    m_waiters->waitForDone();
}

void Reconciler::setProvider(Provider *provider)
{
    m_providers.insert(int(provider->channel()), provider);
}

Provider *Reconciler::provider(Channel channel) const
{
    return m_providers.value(int(channel), nullptr);
}

void Reconciler::start()
{
    m_timer.start(int(m_schedule.tickMs));
    QTimer::singleShot(0, this, &Reconciler::tick);
}

void Reconciler::reconcileDay(Channel channel, QDate day, DayDone done)
{
    auto run = std::make_shared<Run>();
    run->channel = channel;
    run->day = day;
    run->done = std::move(done);
    run->result.channel = channel;
    run->result.date = day;
    run->provider = provider(channel);
    if (!run->provider) {
        end(run, DayOutcome::NotConfigured,
            QStringLiteral("%1 is not configured on this prepayd").arg(channelCode(channel)));
        return;
    }
    if (!day.isValid()) {
        end(run, DayOutcome::Invalid, QStringLiteral("not a day"));
        return;
    }
    if (m_running.contains(dayKey(channel, day))) {
        end(run, DayOutcome::Busy,
            QStringLiteral("%1 %2 is being reconciled").arg(channelCode(channel), day.toString(Qt::ISODate)));
        return;
    }
    m_running.insert(dayKey(channel, day));
    // The adapter may answer after this reconciler is gone (prepayd shutting down): then nothing.
    const QPointer<Reconciler> self(this);
    run->provider->bill(day, [self, run](const BillResult &bill) {
        if (self)
            self->matchBill(run, bill);
    });
}

void Reconciler::matchBill(const std::shared_ptr<Run> &run, const BillResult &bill)
{
    const QString what = channelCode(run->channel) + QLatin1Char(' ') + run->day.toString(Qt::ISODate);
    if (bill.outcome == Outcome::Rejected && bill.code == u"NOT_SUPPORTED") {
        end(run, DayOutcome::NotSupported,
            QStringLiteral("%1: the provider has no bill download (%2)").arg(what, bill.message));
        return;
    }
    QList<BillRow> rows = bill.rows;
    QByteArray raw = bill.raw;
    if (isNoBill(bill)) {
        // A day without any trade has no bill file. Believed only when we have no payment of
        // that day either: a bill not made yet must not pass for an empty one.
        const int ours = paidAttemptsOn(run->channel, run->day);
        if (ours != 0) {
            end(run, DayOutcome::DownloadFailed,
                QStringLiteral("%1: the provider has no bill (%2) but prepayd has %3 payments that day")
                    .arg(what, bill.code)
                    .arg(ours));
            return;
        }
        rows.clear();
        raw = bill.code.toUtf8(); // what the provider answered, kept as the day's (empty) bill
    } else if (bill.outcome != Outcome::Ok) {
        end(run, DayOutcome::DownloadFailed,
            QStringLiteral("%1: bill download %2: %3 %4")
                .arg(what, outcomeCode(bill.outcome), bill.code, bill.message));
        return;
    }
    const qint64 now = m_clock.wallMs();
    const ReconcileLimits limits = m_schedule.limits;
    write([channel = run->channel, day = run->day, rows, raw, now, limits](
              store::Transaction &tx) { return reconcileBill(tx, channel, day, rows, raw, now, limits); },
        [this, run, what](const store::Written<ReconcileSummary> &w) {
            run->result.summary = w.value;
            if (w.status == store::WriteStatus::RolledBack) {
                end(run, DayOutcome::Invalid, QStringLiteral("%1: %2").arg(what, w.reason));
                return;
            }
            if (!w.committed()) {
                end(run, DayOutcome::StoreFailed, QStringLiteral("%1: %2").arg(what, w.error.toString()));
                return;
            }
            qCInfo(lcReconcile, "%s", qUtf8Printable(w.value.message));
            confirmNext(run);
        });
}

void Reconciler::confirmNext(const std::shared_ptr<Run> &run)
{
    const QList<qint64> &ids = run->result.summary.toConfirm;
    if (run->next >= ids.size()) {
        finish(run);
        return;
    }
    const qint64 attemptId = ids.at(run->next++);
    const std::optional<Attempt> attempt = m_reader ? findAttempt(*m_reader, attemptId) : std::nullopt;
    if (!attempt) {
        confirmNext(run);
        return;
    }
    TradeRef ref;
    ref.outTradeNo = attempt->outTradeNo;
    ref.createdAtMs = attempt->createdAtMs;
    const QPointer<Reconciler> self(this);
    run->provider->query(ref, [self, run, attemptId](const QueryResult &answer) {
        if (self)
            self->confirmed(run, attemptId, answer);
    });
}

void Reconciler::confirmed(const std::shared_ptr<Run> &run, qint64 attemptId, const QueryResult &answer)
{
    const qint64 now = m_clock.wallMs();
    std::shared_ptr<const billing::TariffBook> book = m_biller.book();
    write([channel = run->channel, attemptId, answer, now, book](
              store::Transaction &tx) { return confirmPaidNotCredited(tx, *book, channel, attemptId, answer, now); },
        [this, run, attemptId](const store::Written<ConfirmResult> &w) {
            ConfirmResult result = w.value;
            if (!w.committed())
                result.outcome = ConfirmResult::Outcome::StoreFailed;
            run->result.confirmed.append(result);
            if (w.committed() && result.outcome == ConfirmResult::Outcome::Credited) {
                ++run->result.creditedLate;
                qCInfo(lcReconcile, "attempt %lld: %s", attemptId, qUtf8Printable(result.action));
                if (!result.commandIds.isEmpty())
                    Q_EMIT commandsQueued(result.commandIds);
                Q_EMIT attemptChanged(attemptId);
            } else {
                qCWarning(lcReconcile, "attempt %lld: %s %s", attemptId,
                    qUtf8Printable(confirmOutcomeCode(result.outcome)),
                    qUtf8Printable(w.committed() ? result.action : w.error.toString() + w.reason));
            }
            confirmNext(run);
        });
}

void Reconciler::finish(const std::shared_ptr<Run> &run)
{
    const qint64 now = m_clock.wallMs();
    const QString channel = channelCode(run->channel);
    const QString day = run->day.toString(Qt::ISODate);
    write(
        [now, channel, day](store::Transaction &tx) {
            return refreshFindingsAlarm(tx, now,
                QJsonObject{{QStringLiteral("channel"), channel}, {QStringLiteral("bill_date"), day}});
        },
        [this, run](const store::Written<int> &w) {
            if (!w.committed()) {
                end(run, DayOutcome::StoreFailed, w.error.toString());
                return;
            }
            run->result.openFindings = w.value;
            const ReconcileSummary &s = run->result.summary;
            end(run, DayOutcome::Reconciled,
                QStringLiteral("%1; %2 confirming queries, %3 credited late; %4 findings open in all")
                    .arg(s.message)
                    .arg(run->result.confirmed.size())
                    .arg(run->result.creditedLate)
                    .arg(w.value));
        });
}

void Reconciler::end(const std::shared_ptr<Run> &run, DayOutcome outcome, const QString &message)
{
    if (outcome != DayOutcome::Busy)
        m_running.remove(dayKey(run->channel, run->day));
    run->result.outcome = outcome;
    run->result.message = message;
    if (outcome == DayOutcome::Reconciled || outcome == DayOutcome::NotSupported)
        qCInfo(lcReconcile, "%s", qUtf8Printable(message));
    else
        qCWarning(lcReconcile, "%s: %s", qUtf8Printable(dayOutcomeCode(outcome)), qUtf8Printable(message));
    if (run->done)
        run->done(run->result);
    Q_EMIT dayReconciled(run->result);
}

// ---- the schedule ----------------------------------------------------------------------------

void Reconciler::tick()
{
    if (m_scheduledRun || !m_reader)
        return;
    const QDateTime now = beijingNow(m_clock);
    const QDate today = now.date();
    if (today != m_round) {
        // A new day: the days that gave up get another round of retries.
        m_round = today;
        m_retries.clear();
    }
    const QDate yesterday = today.addDays(-1);
    const QDate first = firstTopUpDay();
    QList<int> channels = m_providers.keys();
    std::sort(channels.begin(), channels.end());
    for (QDate day = today.addDays(-m_schedule.catchUpDaysMax); day <= yesterday; day = day.addDays(1)) {
        if (day == yesterday && now.time() < m_schedule.at)
            continue; // yesterday's bills are not ready before the daily time
        if (day < yesterday && (!first.isValid() || day < first))
            continue; // catch-up only for days prepayd took QR payments in
        for (const int c : channels) {
            const Channel channel = Channel(c);
            const qint64 key = dayKey(channel, day);
            if (m_unsupported.contains(c) || m_running.contains(key) || billStored(channel, day))
                continue;
            const Retry retry = m_retries.value(key);
            if (retry.gaveUp || retry.nextAtMs > m_clock.wallMs())
                continue;
            m_scheduledRun = true;
            qCInfo(lcReconcile, "reconciling %s %s", qUtf8Printable(channelCode(channel)),
                qUtf8Printable(day.toString(Qt::ISODate)));
            reconcileDay(channel, day, [this](const DayResult &result) { scheduledDone(result); });
            return;
        }
    }
}

void Reconciler::scheduledDone(const DayResult &result)
{
    m_scheduledRun = false;
    const qint64 key = dayKey(result.channel, result.date);
    const qint64 now = m_clock.wallMs();
    switch (result.outcome) {
    case DayOutcome::Reconciled: {
        m_retries.remove(key);
        const bool anyGaveUp
            = std::any_of(m_retries.cbegin(), m_retries.cend(), [](const Retry &r) { return r.gaveUp; });
        if (!anyGaveUp) {
            write(
                [now](store::Transaction &tx) {
                    control::clearAlarm(tx, QStringLiteral("payment_unmatched"),
                        control::AlarmSubject{QStringLiteral("system"), alarmDayNotDone}, now);
                },
                [](const store::Written<std::monostate> &) {});
        }
        break;
    }
    case DayOutcome::NotSupported: m_unsupported.insert(int(result.channel)); break;
    case DayOutcome::DownloadFailed:
    case DayOutcome::Invalid:
    case DayOutcome::StoreFailed: {
        Retry &retry = m_retries[key];
        ++retry.failures;
        if (retry.failures <= m_schedule.retriesMax) {
            retry.nextAtMs = now + m_schedule.retryEveryMs;
            break;
        }
        retry.gaveUp = true;
        const QJsonObject detail{{QStringLiteral("what"), QStringLiteral("a day's reconciliation could not be done")},
            {QStringLiteral("channel"), channelCode(result.channel)},
            {QStringLiteral("bill_date"), result.date.toString(Qt::ISODate)},
            {QStringLiteral("attempts"), retry.failures}, {QStringLiteral("reason"), result.message.left(500)}};
        write(
            [detail, now](store::Transaction &tx) {
                control::raiseAlarm(tx, QStringLiteral("payment_unmatched"), control::Severity::Warning,
                    control::AlarmSubject{QStringLiteral("system"), alarmDayNotDone}, detail, now);
            },
            [](const store::Written<std::monostate> &) {});
        break;
    }
    case DayOutcome::NotConfigured:
    case DayOutcome::Busy: break;
    }
    QTimer::singleShot(0, this, &Reconciler::tick);
}

bool Reconciler::billStored(Channel channel, QDate day)
{
    store::Statement s = m_reader->prepare(
        QStringLiteral("SELECT count(*) FROM provider_bills WHERE channel = ?1 AND bill_date = ?2"));
    s.bind(1, channelCode(channel)).bind(2, day.toString(Qt::ISODate));
    // A failed read counts as stored: the schedule never downloads blindly in a loop.
    return s.step() != store::Statement::Step::Row || s.int64(0) > 0;
}

int Reconciler::paidAttemptsOn(Channel channel, QDate day)
{
    if (!m_reader)
        return -1;
    const auto [from, to] = beijingDayMs(day);
    store::Statement s = m_reader->prepare(QStringLiteral(
        "SELECT count(*) FROM payment_attempts WHERE channel = ?1 AND paid_at_ms >= ?2 AND paid_at_ms < ?3"));
    s.bind(1, channelCode(channel)).bind(2, from).bind(3, to);
    return s.step() == store::Statement::Step::Row ? int(s.int64(0)) : -1;
}

QDate Reconciler::firstTopUpDay()
{
    store::Statement s
        = m_reader->prepare(QStringLiteral("SELECT min(created_at_ms) FROM payment_attempts WHERE channel <> 'cash'"));
    if (s.step() != store::Statement::Step::Row || s.isNull(0))
        return {};
    return beijingDate(s.int64(0));
}

} // namespace prepay::payments
