// refund.*: money paid back to the payer of a QR top-up (退电), through its provider
// (backoffice/payments/refunds.h does the work). refund.request takes the money out of the
// wallet at once and either waits for a second person (above approval.money_threshold_fen, as a
// cash refund does) or goes to the provider straight away; refund.get says where it is. The
// provider is asked by the refund driver (refundservice.h) with the out_refund_no stored before
// the first call, so a refund is made once however often anything is retried.
#include "api/clock.h"
#include "audit/audit.h"
#include "billing/biller.h"
#include "payments/refunds.h"
#include "payments/refundservice.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

#include <QtCore/QJsonArray>

namespace prepay::service {

namespace {

QJsonObject refundJson(const payments::Refund &r)
{
    QJsonObject o{{QStringLiteral("refund_id"), r.id}, {QStringLiteral("attempt_id"), r.attemptId},
        {QStringLiteral("receipt_no"), r.outTradeNo}, {QStringLiteral("out_refund_no"), r.outRefundNo},
        {QStringLiteral("shop_no"), r.shopNo}, {QStringLiteral("channel"), payments::channelCode(r.channel)},
        {QStringLiteral("amount_fen"), r.amountFen}, {QStringLiteral("state"), payments::refundStatusCode(r.status)},
        {QStringLiteral("reason"), r.reason}, {QStringLiteral("created_at_ms"), r.createdAtMs}};
    if (r.approvalId != 0)
        o.insert(QStringLiteral("approval_id"), r.approvalId);
    if (r.completedAtMs != 0)
        o.insert(QStringLiteral("completed_at_ms"), r.completedAtMs);
    if (!r.lastError.isEmpty())
        o.insert(QStringLiteral("message"), r.lastError);
    return o;
}

rpc::ErrorCode codeFor(payments::RefundRequestOutcome outcome)
{
    using O = payments::RefundRequestOutcome;
    switch (outcome) {
    case O::NotFound: return rpc::ErrorCode::NotFound;
    case O::Conflict:
    case O::NotRefundable:
    case O::ExceedsAttempt:
    case O::ExceedsBalance: return rpc::ErrorCode::Conflict;
    default: return rpc::ErrorCode::InvalidParams;
    }
}

struct RequestOutcome
{
    JobOutcome job;
    QList<qint64> commandIds;
};

void request(ServiceContext &context, const CallPtr &call)
{
    if (!context.biller || !context.refunds) {
        call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("refunds to the payer are not running in this prepayd"));
        return;
    }
    const QJsonObject &p = call->params();
    payments::RefundAsk ask;
    ask.attemptId = p.value(QLatin1String("attempt_id")).toInteger();
    ask.amountFen = p.value(QLatin1String("amount_fen")).toInteger();
    ask.reason = p.value(QLatin1String("reason")).toString();
    ask.idempotencyKey = QStringLiteral("refund:") + p.value(QLatin1String("idempotency_key")).toString();
    ask.operatorId = call->client->staff->operatorId;
    std::shared_ptr<const billing::TariffBook> book = context.biller->book();
    const staff::StaffSettings settings = context.staffSettings;
    audit::Entry entry = auditEntry(context, *call, QStringLiteral("refund.request"), QStringLiteral("payment_attempt"),
        QString::number(ask.attemptId));
    entry.reason = ask.reason;
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [book, settings, ask, entry, nowMs](store::Transaction &tx) mutable {
            RequestOutcome outcome;
            const payments::RefundRequestResult r = payments::requestRefund(tx, *book, settings, ask, nowMs);
            if (r.outcome == payments::RefundRequestOutcome::StoreFailed) {
                if (tx.error().ok() && !tx.rollbackRequested())
                    tx.rollback(r.message);
                return outcome;
            }
            if (!r.ok()) {
                outcome.job = JobOutcome::refuse(tx, codeFor(r.outcome),
                    QStringLiteral("%1: %2").arg(payments::refundRequestOutcomeCode(r.outcome), r.message));
                return outcome;
            }
            QJsonObject reply = refundJson(r.refund);
            reply.insert(QStringLiteral("status"), r.approvalId != 0 ? QStringLiteral("pending_approval") : QStringLiteral("done"));
            reply.insert(QStringLiteral("balance_fen"), r.balance.fen());
            reply.insert(QStringLiteral("left_fen"), r.leftFen);
            reply.insert(QStringLiteral("already"), r.outcome == payments::RefundRequestOutcome::Duplicate);
            if (!r.metersHoldingBalance.isEmpty()) {
                QJsonArray meters;
                for (const qint64 id : r.metersHoldingBalance)
                    meters.append(id);
                reply.insert(QStringLiteral("meters_holding_balance"), meters);
            }
            if (r.outcome == payments::RefundRequestOutcome::Requested) {
                entry.afterJson = compact(reply);
                audit::append(tx, entry);
            }
            outcome.commandIds = r.commandIds;
            outcome.job = JobOutcome::ok(reply);
            return outcome;
        },
        [&context, call](const store::Written<RequestOutcome> &written) {
            if (written.committed() && context.dispatchCommands && !written.value.commandIds.isEmpty())
                context.dispatchCommands(written.value.commandIds);
            if (written.committed())
                context.refunds->wake();
            store::Written<JobOutcome> reply;
            reply.status = written.status;
            reply.value = written.value.job;
            reply.error = written.error;
            reply.reason = written.reason;
            replyFrom(call, reply);
        });
}

void get(ServiceContext &context, const CallPtr &call)
{
    const qint64 refundId = call->params().value(QLatin1String("refund_id")).toInteger();
    const std::optional<payments::Refund> refund = payments::findRefund(context.reader, refundId);
    if (!refund) {
        call->fail(rpc::ErrorCode::NotFound, QStringLiteral("no refund %1 to a payer").arg(refundId));
        return;
    }
    call->reply(refundJson(*refund));
}

} // namespace

void bindRefundMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("refund.request"), [&context](const CallPtr &call) { request(context, call); });
    dispatcher.bind(QStringLiteral("refund.get"), [&context](const CallPtr &call) { get(context, call); });
}

} // namespace prepay::service
