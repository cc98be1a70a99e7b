#include "refundservice.h"

#include "api/clock.h"
#include "api/logging.h"
#include "billing/biller.h"
#include "store/asyncwrite.h"
#include "store/store.h"

#include <QtCore/QPointer>

namespace prepay::payments {

namespace {

// The library's category (paymentservice.cpp declares the same name): one switch for payments.
Q_LOGGING_CATEGORY(lcRefunds, "prepay.payments")

// Everything the provider is told comes from the stored row: a retry is the identical call.
RefundRequest requestFor(const Refund &refund)
{
    RefundRequest request;
    request.trade.outTradeNo = refund.outTradeNo;
    request.trade.createdAtMs = refund.attemptCreatedAtMs;
    request.providerTxnId = refund.providerTxnId;
    request.outRefundNo = refund.outRefundNo;
    request.refundFen = refund.amountFen;
    request.totalFen = refund.attemptAmountFen;
    request.reason = refund.reason;
    return request;
}

TradeRef refFor(const Refund &refund)
{
    TradeRef ref;
    ref.outTradeNo = refund.outTradeNo;
    ref.createdAtMs = refund.attemptCreatedAtMs;
    return ref;
}

} // namespace

template<typename Job, typename Done>
void RefundService::write(Job &&job, Done &&done)
{
    store::writeThen(m_store, *m_waiters, this, std::forward<Job>(job), std::forward<Done>(done));
}

RefundService::RefundService(store::Store &store, billing::Biller &biller, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_biller(biller)
    , m_clock(clock)
    , m_reader(store.openReader())
    , m_waiters(std::make_shared<QThreadPool>())
{
    m_waiters->setMaxThreadCount(4);
    connect(&m_timer, &QTimer::timeout, this, [this] { look(false); });
}

RefundService::~RefundService()
{
    m_timer.stop();
    m_waiters->waitForDone();
}

void RefundService::setProvider(Provider *provider)
{
    m_providers.insert(int(provider->channel()), provider);
}

Provider *RefundService::provider(Channel channel) const
{
    return m_providers.value(int(channel), nullptr);
}

void RefundService::start()
{
    m_timer.start(int(m_schedule.tickMs));
    if (m_reader) {
        for (const Channel channel : {Channel::Alipay, Channel::WeChat, Channel::UnionPay}) {
            if (provider(channel))
                continue;
            store::Statement waiting = m_reader->prepare(QStringLiteral(
                "SELECT count(*) FROM refunds WHERE state IN ('approved', 'submitted') AND channel = ?1"));
            waiting.bind(1, channelCode(channel));
            if (waiting.step() == store::Statement::Step::Row && waiting.int64(0) > 0)
                qCWarning(lcRefunds, "%lld %s refund(s) wait: %s is not configured on this prepayd", waiting.int64(0),
                    qUtf8Printable(channelCode(channel)), qUtf8Printable(channelCode(channel)));
        }
    }
    look(true);
}

void RefundService::wake()
{
    look(false);
}

void RefundService::look(bool everything)
{
    if (!m_reader)
        return;
    const qint64 now = m_clock.wallMs();

    // Approvals nobody will decide any more: one write, only when there is something to settle.
    if (!m_sweeping) {
        store::Statement lapsed = m_reader->prepare(
            QStringLiteral("SELECT count(*) FROM refunds r JOIN approvals ap ON ap.id = r.approval_id "
                           "WHERE r.state = 'pending_approval' AND (ap.state <> 'pending' OR ap.expires_at_ms <= ?1)"));
        lapsed.bind(1, now);
        const bool any = lapsed.step() == store::Statement::Step::Row && lapsed.int64(0) > 0;
        lapsed.reset();
        if (any) {
            m_sweeping = true;
            std::shared_ptr<const billing::TariffBook> book = m_biller.book();
            write([book, now](store::Transaction &tx) { return settleLapsedApprovals(tx, *book, now); },
                [this](const store::Written<QList<RefundDecisionResult>> &w) {
                    m_sweeping = false;
                    if (!w.committed())
                        return;
                    for (const RefundDecisionResult &r : w.value) {
                        qCInfo(lcRefunds, "%s", qUtf8Printable(r.message));
                        if (!r.commandIds.isEmpty())
                            Q_EMIT commandsQueued(r.commandIds);
                        Q_EMIT refundChanged(r.refund.id);
                    }
                    if (!w.value.isEmpty())
                        look(false); // approved ones are due now
                });
        }
    }

    // Only the channels configured here: a refund of another one waits (start() said so) and
    // must not take the places of those that can go.
    store::Statement due = m_reader->prepare(everything
            ? QStringLiteral("SELECT id FROM refunds WHERE state IN ('approved', 'submitted') "
                             "AND channel IN (?3, ?4, ?5) ORDER BY id LIMIT ?2")
            : QStringLiteral("SELECT id FROM refunds WHERE next_action_at_ms IS NOT NULL AND next_action_at_ms <= ?1 "
                             "AND state IN ('approved', 'submitted') AND channel IN (?3, ?4, ?5) "
                             "ORDER BY next_action_at_ms LIMIT ?2"));
    if (!everything)
        due.bind(1, now);
    due.bind(2, m_schedule.dueMax);
    int slot = 3;
    for (const Channel channel : {Channel::Alipay, Channel::WeChat, Channel::UnionPay})
        due.bind(slot++, provider(channel) ? channelCode(channel) : QString());
    QList<qint64> ids;
    while (due.step() == store::Statement::Step::Row)
        ids << due.int64(0);
    due.reset(); // an unfinished statement would pin this reader's snapshot
    for (const qint64 id : std::as_const(ids)) {
        if (m_inFlight.contains(id))
            continue;
        if (const std::optional<Refund> refund = findRefund(*m_reader, id))
            act(*refund);
    }
}

void RefundService::act(const Refund &refund)
{
    if (!provider(refund.channel))
        return;
    if (refund.status == RefundStatus::Approved
        || (refund.status == RefundStatus::Submitted && refund.providerAnswer == u"not_found"))
        submit(refund);
    else if (refund.status == RefundStatus::Submitted)
        query(refund);
}

void RefundService::submit(const Refund &refund)
{
    m_inFlight.insert(refund.id);
    const qint64 now = m_clock.wallMs();
    const qint64 queryAt = now + m_schedule.firstQueryMs;
    write([id = refund.id, queryAt, now](store::Transaction &tx) { return recordSubmitting(tx, id, queryAt, now); },
        [this, refund](const store::Written<bool> &w) {
            if (!w.committed() || !w.value) {
                m_inFlight.remove(refund.id);
                return;
            }
            Q_EMIT refundChanged(refund.id);
            Provider *p = provider(refund.channel);
            qCInfo(lcRefunds, "refund %s: %lld fen of %s to %s (call %d)", qUtf8Printable(refund.outRefundNo),
                refund.amountFen, qUtf8Printable(refund.outTradeNo), qUtf8Printable(channelCode(refund.channel)),
                refund.submitCount + 1);
            QPointer<RefundService> self(this);
            p->refund(requestFor(refund), [self, refund](const RefundResult &answer) {
                if (self)
                    self->answered(refund, ProviderCall::Refund, answer);
            });
        });
}

void RefundService::query(const Refund &refund)
{
    m_inFlight.insert(refund.id);
    QPointer<RefundService> self(this);
    provider(refund.channel)
        ->refundQuery(refFor(refund), refund.outRefundNo, [self, refund](const RefundResult &answer) {
            if (self)
                self->answered(refund, ProviderCall::RefundQuery, answer);
        });
}

qint64 RefundService::nextQueryAfter(const Refund &refund, ProviderCall call, qint64 nowMs) const
{
    if (call == ProviderCall::Refund)
        return nowMs + m_schedule.firstQueryMs;
    const qint64 since = refund.submittedAtMs > 0 ? refund.submittedAtMs : nowMs;
    return nowMs + (nowMs - since < m_schedule.slowAfterMs ? m_schedule.queryEveryMs : m_schedule.slowQueryEveryMs);
}

void RefundService::answered(const Refund &refund, ProviderCall call, const RefundResult &answer)
{
    const qint64 now = m_clock.wallMs();
    if (answer.outcome != Outcome::Ok)
        qCInfo(lcRefunds, "%s %s: %s %s %s", call == ProviderCall::Refund ? "refund" : "refund query",
            qUtf8Printable(refund.outRefundNo), qUtf8Printable(outcomeCode(answer.outcome)),
            qUtf8Printable(answer.code), qUtf8Printable(answer.message));
    const qint64 next = nextQueryAfter(refund, call, now);
    const qint64 stuckAfterMs = m_schedule.stuckAfterMs;
    std::shared_ptr<const billing::TariffBook> book = m_biller.book();
    write(
        [id = refund.id, call, answer, next, stuckAfterMs, now, book](store::Transaction &tx) {
            return recordProviderAnswer(tx, *book, id, call, answer, next, stuckAfterMs, now);
        },
        [this, id = refund.id](const store::Written<RefundApplyResult> &w) {
            m_inFlight.remove(id);
            if (!w.committed()) {
                qCWarning(lcRefunds, "refund %lld: the answer was not recorded (%s %s); asked again later", id,
                    qUtf8Printable(store::writeStatusCode(w.status)),
                    qUtf8Printable(w.reason.isEmpty() ? w.error.toString() : w.reason));
                return;
            }
            settled(w.value);
            // "No such refund": the identical call again, now rather than at the next tick.
            if (w.value.outcome == RefundApplyOutcome::Updated && m_reader) {
                if (const std::optional<Refund> after = findRefund(*m_reader, id);
                    after && after->status == RefundStatus::Submitted && after->providerAnswer == u"not_found")
                    act(*after);
            }
        });
}

void RefundService::settled(const RefundApplyResult &result)
{
    if (!result.commandIds.isEmpty())
        Q_EMIT commandsQueued(result.commandIds);
    switch (result.outcome) {
    case RefundApplyOutcome::Succeeded: qCInfo(lcRefunds, "%s", qUtf8Printable(result.message)); break;
    case RefundApplyOutcome::Failed:
    case RefundApplyOutcome::Mismatch: qCWarning(lcRefunds, "%s", qUtf8Printable(result.message)); break;
    default: break;
    }
    if (result.refundId > 0 && result.outcome != RefundApplyOutcome::NoChange)
        Q_EMIT refundChanged(result.refundId);
}

} // namespace prepay::payments
