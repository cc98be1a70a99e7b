// payments.findings: what the daily reconciliation (对账, backoffice/payments/reconciliation.h)
// found between each provider's bill, the payment attempts, the ledger and the meter recharge
// jobs — for staff to see and act on; payments.settle_finding: staff settle one (audited). The
// reconciler runs in prepayd on its own schedule.
#include "api/clock.h"
#include "audit/audit.h"
#include "payments/reconciliation.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

#include <QtCore/QJsonArray>

namespace prepay::service {

namespace {

QJsonObject findingJson(const payments::Finding &f)
{
    QJsonObject o{{QStringLiteral("finding_id"), f.id}, {QStringLiteral("channel"), payments::channelCode(f.channel)},
        {QStringLiteral("bill_date"), f.billDate.toString(Qt::ISODate)},
        {QStringLiteral("kind"), payments::findingKindCode(f.kind)}, {QStringLiteral("detail"), f.detail},
        {QStringLiteral("action"), f.action}, {QStringLiteral("found_at_ms"), f.foundAtMs},
        {QStringLiteral("open"), f.settledAtMs == 0}};
    if (!f.outTradeNo.isEmpty())
        o.insert(QStringLiteral("receipt_no"), f.outTradeNo);
    if (f.attemptId != 0)
        o.insert(QStringLiteral("attempt_id"), f.attemptId);
    if (f.settledAtMs != 0)
        o.insert(QStringLiteral("settled_at_ms"), f.settledAtMs);
    if (f.settledBy != 0)
        o.insert(QStringLiteral("settled_by"), f.settledBy);
    if (!f.settleNote.isEmpty())
        o.insert(QStringLiteral("settle_note"), f.settleNote);
    o.insert(QStringLiteral("freezing"), f.freezing);
    return o;
}

void findings(ServiceContext &context, const CallPtr &call)
{
    const QJsonObject &p = call->params();
    payments::FindingFilter filter;
    if (p.contains(QLatin1String("channel")))
        filter.channel = payments::channelFromCode(p.value(QLatin1String("channel")).toString());
    if (p.contains(QLatin1String("kind")))
        filter.kind = payments::findingKindFromCode(p.value(QLatin1String("kind")).toString());
    for (const auto &[key, date] : {std::pair{QLatin1String("from"), &filter.from}, std::pair{QLatin1String("to"), &filter.to}}) {
        if (!p.contains(key))
            continue;
        *date = QDate::fromString(p.value(key).toString(), Qt::ISODate);
        if (!date->isValid()) {
            call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("%1: not a date YYYY-MM-DD").arg(key),
                QJsonObject{{QStringLiteral("field"), key}});
            return;
        }
    }
    filter.openOnly = p.value(QLatin1String("open_only")).toBool(false);
    filter.afterId = p.value(QLatin1String("after_id")).toInteger(0);
    filter.limit = int(p.value(QLatin1String("limit")).toInteger(200));
    store::SqlError error;
    const QList<payments::Finding> list = payments::listFindings(context.reader, filter, &error);
    if (!error.ok()) {
        failInternal(call, error.toString());
        return;
    }
    QJsonArray rows;
    for (const payments::Finding &f : list)
        rows.append(findingJson(f));
    call->reply(QJsonObject{{QStringLiteral("findings"), rows},
        {QStringLiteral("open_total"), payments::openFindingsCount(context.reader)}});
}

std::optional<QJsonObject> findingById(store::Connection &db, qint64 id)
{
    payments::FindingFilter filter;
    filter.afterId = id - 1;
    filter.limit = 1;
    const QList<payments::Finding> one = payments::listFindings(db, filter);
    if (one.isEmpty() || one.constFirst().id != id)
        return std::nullopt;
    return findingJson(one.constFirst());
}

void settle(ServiceContext &context, const CallPtr &call)
{
    const qint64 id = call->params().value(QLatin1String("finding_id")).toInteger();
    const QString note = call->params().value(QLatin1String("note")).toString();
    const qint64 operatorId = call->client->staff->operatorId; // staff only (the dispatcher checked the role)
    audit::Entry entry = auditEntry(
        context, *call, QStringLiteral("payments.settle_finding"), QStringLiteral("payment_finding"), QString::number(id));
    entry.reason = note;
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [id, note, operatorId, nowMs, entry](store::Transaction &tx) mutable {
            const std::optional<QJsonObject> before = findingById(tx.db(), id);
            const payments::SettleResult settled = payments::settleFinding(tx, id, operatorId, note, nowMs);
            switch (settled.outcome) {
            case payments::SettleOutcome::Settled: break;
            case payments::SettleOutcome::NotFound:
                return JobOutcome::refuse(tx, rpc::ErrorCode::NotFound, settled.message);
            case payments::SettleOutcome::AlreadySettled:
                return JobOutcome::refuse(tx, rpc::ErrorCode::Conflict, settled.message);
            case payments::SettleOutcome::StoreFailed: return JobOutcome();
            }
            const std::optional<QJsonObject> after = findingById(tx.db(), id);
            if (!before || !after) {
                tx.fail(store::SqlError{1, 0, QStringLiteral("finding %1 cannot be read back").arg(id)});
                return JobOutcome();
            }
            entry.beforeJson = compact(*before);
            entry.afterJson = compact(*after);
            audit::append(tx, entry);
            QJsonArray released;
            for (const qint64 attempt : settled.released)
                released.append(attempt);
            QJsonObject result = *after;
            result.insert(QStringLiteral("released_attempts"), released);
            result.insert(QStringLiteral("open_total"), settled.openFindings);
            return JobOutcome::ok(result);
        },
        [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
}

} // namespace

void bindReconcileMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("payments.findings"), [&context](const CallPtr &call) { findings(context, call); });
    dispatcher.bind(QStringLiteral("payments.settle_finding"), [&context](const CallPtr &call) { settle(context, call); });
}

} // namespace prepay::service
