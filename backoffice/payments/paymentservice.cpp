#include "paymentservice.h"

#include "api/clock.h"
#include "api/logging.h"
#include "billing/biller.h"
#include "control/alarms.h"
#include "payments/refunds.h"
#include "store/asyncwrite.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace prepay::payments {

namespace {

Q_LOGGING_CATEGORY(lcPayments, "prepay.payments")

// The provider's own deadline is the kiosk's plus this margin: the kiosk stops showing the QR
// first, so a payment the provider still accepts is one prepayd is still polling for.
constexpr qint64 providerDeadlineMarginMs = 60000;

// The alarm subjects of notification trouble (alarms are one open episode per subject).
constexpr qint64 alarmRejectedNotifications = 1; // failed verification (forged, stale, foreign, …)
constexpr qint64 alarmUnknownOrders = 2;         // genuine, for an out_trade_no we never issued

CreateRequest createRequestFor(const Attempt &attempt)
{
    // Derived from the attempt alone, so a retry after an unknown outcome is byte-identical.
    CreateRequest request;
    request.outTradeNo = attempt.outTradeNo;
    request.amountFen = attempt.amountFen;
    request.subject = QStringLiteral("电费充值 %1").arg(attempt.shopNo);
    request.terminalId = attempt.kioskId > 0 ? QStringLiteral("K%1").arg(attempt.kioskId) : QString();
    request.expiresAtMs = attempt.expiresAtMs + providerDeadlineMarginMs;
    request.createdAtMs = attempt.createdAtMs;
    return request;
}

TradeRef refFor(const Attempt &attempt)
{
    TradeRef ref;
    ref.outTradeNo = attempt.outTradeNo;
    ref.createdAtMs = attempt.createdAtMs;
    return ref;
}

QString headersJson(const HttpHeaders &headers)
{
    QJsonArray array;
    for (const auto &[name, value] : headers)
        array.append(QJsonArray{QString::fromLatin1(name), QString::fromLatin1(value)});
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

HttpHeaders headersFromJson(const QString &text)
{
    HttpHeaders headers;
    const QJsonArray array = QJsonDocument::fromJson(text.toUtf8()).array();
    for (const QJsonValue &pair : array) {
        const QJsonArray p = pair.toArray();
        headers.append({p.at(0).toString().toLatin1(), p.at(1).toString().toLatin1()});
    }
    return headers;
}

struct Settled
{
    bool accepted = false;
    ApplyResult applied;
    QList<qint64> refundCommandIds; // a refund notice that failed a refund gave money back
    qint64 refundId = 0;
};

} // namespace

template<typename Job, typename Done>
void PaymentService::write(Job &&job, Done &&done)
{
    store::writeThen(m_store, *m_waiters, this, std::forward<Job>(job), std::forward<Done>(done));
}

PaymentService::PaymentService(store::Store &store, billing::Biller &biller, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_biller(biller)
    , m_clock(clock)
    , m_reader(store.openReader())
    , m_waiters(std::make_shared<QThreadPool>())
{
    m_waiters->setMaxThreadCount(8);
    connect(&m_timer, &QTimer::timeout, this, &PaymentService::tick);
}

PaymentService::~PaymentService()
{
    m_timer.stop();
    m_waiters->waitForDone();
}

void PaymentService::setProvider(Provider *provider)
{
    m_providers.insert(int(provider->channel()), provider);
}

Provider *PaymentService::provider(Channel channel) const
{
    return m_providers.value(int(channel), nullptr);
}

void PaymentService::start()
{
    m_timer.start(int(m_schedule.tickMs));
    if (!m_reader)
        return;
    store::Statement s = m_reader->prepare(QStringLiteral(
        "SELECT id, channel, headers, body, coalesce(remote_address, '') FROM provider_events "
        "WHERE processed_at_ms IS NULL ORDER BY id"));
    while (s.step() == store::Statement::Step::Row) {
        const std::optional<Channel> channel = channelFromCode(s.text(1));
        if (!channel || !provider(*channel))
            continue;
        NotifyRequest request;
        request.method = "POST";
        request.headers = headersFromJson(s.text(2));
        request.body = s.blob(3);
        request.remoteAddress = s.text(4);
        qCInfo(lcPayments, "re-processing stored %s notification %lld", qUtf8Printable(s.text(1)), s.int64(0));
        processStored(s.int64(0), *channel, request, [](bool) { }, false);
    }
}

void PaymentService::createTopUp(const QrTopUp &request, AttemptDone done)
{
    Provider *p = provider(request.channel);
    if (!p) {
        CreateTopUpResult refused;
        refused.outcome = CreateOutcome::Invalid;
        refused.message = QStringLiteral("%1 is not configured on this prepayd").arg(channelCode(request.channel));
        done(refused);
        return;
    }
    const qint64 now = m_clock.wallMs();
    write([request, now](store::Transaction &tx) { return payments::createTopUp(tx, request, now); },
        [this, p, done](const store::Written<CreateTopUpResult> &written) {
            CreateTopUpResult result = written.value;
            if (written.status == store::WriteStatus::Failed) {
                result.outcome = CreateOutcome::StoreFailed;
                result.message = written.error.toString();
            }
            if (result.outcome != CreateOutcome::Created) {
                done(result);
                return;
            }
            const Attempt attempt = result.attempt;
            m_inFlight.insert(attempt.id);
            p->create(createRequestFor(attempt), [this, attempt, done, result](const CreateResult &created) {
                m_inFlight.remove(attempt.id);
                const qint64 at = m_clock.wallMs();
                if (created.outcome != Outcome::Ok)
                    qCWarning(lcPayments, "%s create %s: %s %s %s", qUtf8Printable(channelCode(attempt.channel)),
                        qUtf8Printable(attempt.outTradeNo), qUtf8Printable(outcomeCode(created.outcome)),
                        qUtf8Printable(created.code), qUtf8Printable(created.message));
                const qint64 next = at + m_schedule.firstQueryMs;
                write(
                    [attempt, created, next, at](store::Transaction &tx) {
                        recordCreated(tx, attempt.id, created, next, at);
                        return findAttempt(tx.db(), attempt.id);
                    },
                    [this, done, result](const store::Written<std::optional<Attempt>> &w) {
                        CreateTopUpResult answer = result;
                        if (w.value)
                            answer.attempt = *w.value;
                        if (!w.committed()) {
                            answer.outcome = CreateOutcome::StoreFailed;
                            answer.message = w.error.toString();
                        }
                        Q_EMIT attemptChanged(answer.attempt.id);
                        done(answer);
                    });
            });
        });
}

void PaymentService::abandon(qint64 attemptId)
{
    if (!m_reader)
        return;
    const std::optional<Attempt> attempt = findAttempt(*m_reader, attemptId);
    if (attempt && isOpen(attempt->state) && !m_inFlight.contains(attemptId))
        abandonNow(*attempt);
}

void PaymentService::tick()
{
    if (!m_reader)
        return;
    const qint64 now = m_clock.wallMs();
    store::Statement due = m_reader->prepare(QStringLiteral(
        "SELECT id FROM payment_attempts WHERE next_query_at_ms IS NOT NULL AND next_query_at_ms <= ?1 "
        "AND channel <> 'cash' ORDER BY next_query_at_ms LIMIT 200"));
    due.bind(1, now);
    QList<qint64> ids;
    while (due.step() == store::Statement::Step::Row)
        ids << due.int64(0);
    for (const qint64 id : ids) {
        if (m_inFlight.contains(id))
            continue;
        if (const std::optional<Attempt> attempt = findAttempt(*m_reader, id))
            poll(*attempt);
    }
}

void PaymentService::poll(const Attempt &attempt)
{
    if (!provider(attempt.channel) || !isOpen(attempt.state))
        return;
    const qint64 now = m_clock.wallMs();
    switch (attempt.state) {
    case AttemptState::Created:
    case AttemptState::QrIssued:
    case AttemptState::Scanned:
        if (now >= attempt.expiresAtMs)
            abandonNow(attempt);
        else
            queryNow(attempt);
        return;
    case AttemptState::Closing:
        if (now >= attempt.expiresAtMs + m_schedule.graceMs) {
            const qint64 next = now + m_schedule.expiredQueryEveryMs;
            write([id = attempt.id, next, now](store::Transaction &tx) { return recordExpiredUnknown(tx, id, next, now); },
                [this, id = attempt.id](const store::Written<bool> &) { Q_EMIT attemptChanged(id); });
            return;
        }
        queryNow(attempt);
        return;
    case AttemptState::ExpiredUnknown:
        queryNow(attempt);
        return;
    default: return;
    }
}

qint64 PaymentService::nextQueryAfter(const Attempt &attempt, qint64 nowMs) const
{
    if (attempt.state == AttemptState::ExpiredUnknown) {
        const qint64 since = attempt.abandonedAtMs > 0 ? attempt.abandonedAtMs : attempt.expiresAtMs;
        return nowMs - since > m_schedule.expiredQueryForMs ? 0 : nowMs + m_schedule.expiredQueryEveryMs;
    }
    if (attempt.state == AttemptState::Closing)
        return nowMs + m_schedule.secondQueryMs;
    return nowMs + (attempt.queryCount == 0 ? m_schedule.secondQueryMs : m_schedule.queryEveryMs);
}

void PaymentService::queryNow(const Attempt &attempt)
{
    Provider *p = provider(attempt.channel);
    m_inFlight.insert(attempt.id);
    p->query(refFor(attempt), [this, attempt](const QueryResult &answer) {
        m_inFlight.remove(attempt.id);
        const qint64 now = m_clock.wallMs();
        const qint64 next = nextQueryAfter(attempt, now);
        if (answer.outcome != Outcome::Ok)
            qCInfo(lcPayments, "%s query %s: %s %s %s", qUtf8Printable(channelCode(attempt.channel)),
                qUtf8Printable(attempt.outTradeNo), qUtf8Printable(outcomeCode(answer.outcome)),
                qUtf8Printable(answer.code), qUtf8Printable(answer.message));
        Trade trade = answer.trade;
        if (trade.outTradeNo.isEmpty())
            trade.outTradeNo = attempt.outTradeNo;
        const bool ok = answer.outcome == Outcome::Ok && trade.outTradeNo == attempt.outTradeNo;
        std::shared_ptr<const billing::TariffBook> book = m_biller.book();
        write(
            [attempt, trade, ok, next, now, book](store::Transaction &tx) {
                ApplyResult result;
                if (ok)
                    result = applyTrade(tx, *book, attempt.channel, trade, now);
                else
                    result.outcome = ApplyOutcome::NoChange;
                if (result.outcome == ApplyOutcome::NoChange || result.outcome == ApplyOutcome::Updated)
                    recordQueried(tx, attempt.id, next, now);
                return result;
            },
            [this, attempt, trade, ok](const store::Written<ApplyResult> &w) {
                if (!w.committed())
                    return;
                applied(w.value);
                if (!ok || (w.value.outcome != ApplyOutcome::NoChange && w.value.outcome != ApplyOutcome::Updated))
                    return;
                // Follow-ups the answer calls for: the create never reached the provider (an
                // identical retry), or a closing attempt is still payable (abandon again).
                if (attempt.state == AttemptState::Created && attempt.qrPayload.isEmpty()
                    && (trade.state == TradeState::NotFound || trade.state == TradeState::WaitingPayment)) {
                    resendCreate(attempt);
                } else if (attempt.state == AttemptState::Closing
                    && (trade.state == TradeState::WaitingPayment || trade.state == TradeState::NotFound)) {
                    abandonCall(attempt);
                }
            });
    });
}

void PaymentService::resendCreate(const Attempt &attempt)
{
    Provider *p = provider(attempt.channel);
    m_inFlight.insert(attempt.id);
    p->create(createRequestFor(attempt), [this, attempt](const CreateResult &created) {
        m_inFlight.remove(attempt.id);
        const qint64 at = m_clock.wallMs();
        const qint64 next = at + m_schedule.firstQueryMs;
        write([id = attempt.id, created, next, at](store::Transaction &tx) { return recordCreated(tx, id, created, next, at); },
            [this, id = attempt.id](const store::Written<bool> &) { Q_EMIT attemptChanged(id); });
    });
}

void PaymentService::abandonNow(const Attempt &attempt)
{
    const qint64 now = m_clock.wallMs();
    write([id = attempt.id, now](store::Transaction &tx) { return recordAbandonRequested(tx, id, now); },
        [this, attempt](const store::Written<bool> &w) {
            if (!w.committed())
                return;
            Q_EMIT attemptChanged(attempt.id);
            abandonCall(attempt);
        });
}

void PaymentService::abandonCall(const Attempt &attempt)
{
    Provider *p = provider(attempt.channel);
    if (!p || m_inFlight.contains(attempt.id))
        return;
    m_inFlight.insert(attempt.id);
    p->abandon(refFor(attempt), [this, attempt](const AbandonResult &answer) {
        m_inFlight.remove(attempt.id);
        const qint64 now = m_clock.wallMs();
        // The final query follows soon: it decides closed, or paid (late).
        const qint64 next = now + (answer.retry || answer.alreadyPaid ? 0 : 1000);
        if (answer.refunded) {
            // The provider returned a payment made a moment before the cancel (冲正): never
            // credited from now on; a credit made meanwhile is reversed.
            qCWarning(lcPayments, "%s cancel of %s returned the payment to the payer", qUtf8Printable(channelCode(attempt.channel)),
                qUtf8Printable(attempt.outTradeNo));
            std::shared_ptr<const billing::TariffBook> book = m_biller.book();
            write([id = attempt.id, book, now](store::Transaction &tx) { return recordCancelRefunded(tx, *book, id, now); },
                [this](const store::Written<ApplyResult> &w) {
                    if (w.committed())
                        applied(w.value);
                });
        }
        write([id = attempt.id, answer, next, now](
                  store::Transaction &tx) { return recordAbandonAnswer(tx, id, answer, next, now); },
            [this, id = attempt.id](const store::Written<bool> &) { Q_EMIT attemptChanged(id); });
    });
}

void PaymentService::applied(const ApplyResult &result)
{
    if (!result.commandIds.isEmpty())
        Q_EMIT commandsQueued(result.commandIds);
    if (result.outcome == ApplyOutcome::Credited)
        qCInfo(lcPayments, "attempt %lld: %s", result.attemptId, qUtf8Printable(result.message));
    if (result.attemptId > 0 && result.outcome != ApplyOutcome::NoChange)
        Q_EMIT attemptChanged(result.attemptId);
}

void PaymentService::handleNotification(
    Channel channel, const NotifyRequest &request, std::function<void(const NotifyReply &)> reply)
{
    Provider *p = provider(channel);
    if (!p) {
        NotifyReply none;
        none.status = 404;
        none.contentType = "text/plain";
        none.body = "no such provider";
        reply(none);
        return;
    }
    const qint64 now = m_clock.wallMs();
    // 1. The raw bytes are kept before anything is believed.
    write(
        [channel, request, now](store::Transaction &tx) -> qint64 {
            store::Statement s = tx.prepare(QStringLiteral(
                "INSERT INTO provider_events (channel, received_at_ms, remote_address, headers, body, body_sha256) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
            s.bind(1, channelCode(channel)).bind(2, now).bind(3, request.remoteAddress).bind(4, headersJson(request.headers));
            s.bind(5, request.body).bind(6, QCryptographicHash::hash(request.body, QCryptographicHash::Sha256));
            if (const store::SqlError e = s.run(); !e.ok()) {
                tx.fail(e);
                return 0;
            }
            return tx.db().lastInsertRowId();
        },
        [this, p, channel, request, reply](const store::Written<qint64> &stored) {
            if (!stored.committed()) {
                reply(p->notifyReply(false, QStringLiteral("not stored; send it again")));
                return;
            }
            processStored(stored.value, channel, request,
                [p, reply](bool accepted) {
                    reply(p->notifyReply(accepted, accepted ? QString() : QStringLiteral("rejected")));
                },
                false);
        });
}

void PaymentService::processStored(qint64 eventId, Channel channel, const NotifyRequest &request,
    std::function<void(bool accepted)> done, bool refreshed)
{
    Provider *p = provider(channel);
    // 2. Verified (pure); an unknown key may be a rotation: one bounded refresh, then again.
    const Notification notification = p->readNotification(request, m_clock.wallMs());
    if (notification.verdict == NotifyVerdict::UnknownKey && !refreshed) {
        p->refreshKeys([this, eventId, channel, request, done, notification](bool changed) {
            if (changed)
                processStored(eventId, channel, request, done, true);
            else
                settleNotification(eventId, channel, notification, done);
        });
        return;
    }
    settleNotification(eventId, channel, notification, done);
}

void PaymentService::settleNotification(
    qint64 eventId, Channel channel, const Notification &notification, std::function<void(bool accepted)> done)
{
    const qint64 now = m_clock.wallMs();
    std::shared_ptr<const billing::TariffBook> book = m_biller.book();
    // 3. Applied with its event row in one transaction; the reply waits for the commit.
    write(
        [eventId, channel, notification, now, book](store::Transaction &tx) {
            Settled settled;
            QString outcome;
            qint64 attemptId = 0;
            if (notification.verdict != NotifyVerdict::Valid) {
                outcome = notifyVerdictCode(notification.verdict) + QStringLiteral(": ") + notification.reason;
                control::raiseAlarm(tx, QStringLiteral("payment_unmatched"), control::Severity::Critical,
                    control::AlarmSubject{QStringLiteral("system"), alarmRejectedNotifications},
                    QJsonObject{{QStringLiteral("what"), QStringLiteral("notifications failing verification")},
                        {QStringLiteral("channel"), channelCode(channel)},
                        {QStringLiteral("first_reason"), outcome}},
                    now);
            } else if (notification.kind == Notification::Kind::Payment) {
                settled.applied = applyTrade(tx, *book, channel, notification.trade, now);
                if (settled.applied.outcome == ApplyOutcome::StoreFailed)
                    return settled;
                outcome = applyOutcomeCode(settled.applied.outcome);
                attemptId = settled.applied.attemptId;
                if (settled.applied.outcome == ApplyOutcome::UnknownAttempt) {
                    store::Statement s = tx.prepare(QStringLiteral(
                        "INSERT INTO payment_suspense (channel, provider_event_id, out_trade_no, provider_txn_id, "
                        "amount_fen, trade_state, received_at_ms) VALUES (?1, ?2, ?3, nullif(?4, ''), ?5, ?6, ?7)"));
                    s.bind(1, channelCode(channel)).bind(2, eventId).bind(3, notification.trade.outTradeNo);
                    s.bind(4, notification.trade.providerTxnId).bind(5, notification.trade.totalFen);
                    s.bind(6, tradeStateCode(notification.trade.state)).bind(7, now);
                    if (const store::SqlError e = s.run(); !e.ok()) {
                        tx.fail(e);
                        return settled;
                    }
                    control::raiseAlarm(tx, QStringLiteral("payment_unmatched"), control::Severity::Warning,
                        control::AlarmSubject{QStringLiteral("system"), alarmUnknownOrders},
                        QJsonObject{{QStringLiteral("what"), QStringLiteral("genuine notifications for unknown orders")},
                            {QStringLiteral("channel"), channelCode(channel)},
                            {QStringLiteral("out_trade_no"), notification.trade.outTradeNo}},
                        now);
                }
                settled.accepted = true;
            } else if (notification.kind == Notification::Kind::Refund) {
                // A refund's outcome (refunds.h): applied once, matched by out_refund_no; never a credit.
                const RefundApplyResult r = applyRefund(tx, *book, channel, notification.refund, now);
                if (r.outcome == RefundApplyOutcome::StoreFailed)
                    return settled;
                outcome = QStringLiteral("refund: ") + refundApplyOutcomeCode(r.outcome);
                attemptId = r.attemptId;
                settled.refundCommandIds = r.commandIds;
                settled.refundId = r.refundId;
                settled.accepted = true;
            } else {
                outcome = QStringLiteral("ignored");
                settled.accepted = true;
            }
            store::Statement e = tx.prepare(QStringLiteral(
                "UPDATE provider_events SET verification = ?2, outcome = ?3, notify_id = nullif(?4, ''), "
                "out_trade_no = nullif(?5, ''), payment_attempt_id = nullif(?6, 0), processed_at_ms = ?7 WHERE id = ?1"));
            e.bind(1, eventId).bind(2, notification.verdict == NotifyVerdict::Valid ? QStringLiteral("valid")
                                                                                    : QStringLiteral("invalid"));
            e.bind(3, outcome.left(500)).bind(4, notification.eventId).bind(5, notification.trade.outTradeNo);
            e.bind(6, attemptId).bind(7, now);
            if (const store::SqlError err = e.run(); !err.ok())
                tx.fail(err);
            return settled;
        },
        [this, done](const store::Written<Settled> &w) {
            if (!w.committed()) {
                done(false);
                return;
            }
            applied(w.value.applied);
            if (!w.value.refundCommandIds.isEmpty())
                Q_EMIT commandsQueued(w.value.refundCommandIds);
            if (w.value.refundId != 0)
                Q_EMIT refundChanged(w.value.refundId);
            done(w.value.accepted);
        });
}

} // namespace prepay::payments
