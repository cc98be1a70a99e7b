// payments.findings: what the daily reconciliation (对账, backoffice/payments/reconciliation.h)
// found between each provider's bill, the payment attempts, the ledger and the meter recharge
// jobs — for staff to see and act on. The reconciler runs in prepayd on its own schedule.
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

} // namespace

void bindReconcileMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("payments.findings"), [&context](const CallPtr &call) { findings(context, call); });
}

} // namespace prepay::service
