// system.* (version, health) and audit.* (the audit log, for administrators and auditors).
#include "api/methods.h"
#include "api/process.h"
#include "audit/audit.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

namespace prepay::service {

namespace {

void auditList(ServiceContext &context, const CallPtr &call)
{
    const qint64 afterSeq = call->params().value(QLatin1String("after_seq")).toInteger(0);
    const qint64 limit = call->params().value(QLatin1String("limit")).toInteger(100);
    store::Statement s = context.reader.prepare(QStringLiteral(
        "SELECT a.seq, a.at_ms, a.operator_id, o.login, a.session_id, a.kiosk_id, a.source_address, a.action, "
        "a.subject_kind, a.subject_id, a.before_json, a.after_json, a.reason, a.correlation_id "
        "FROM audit_log a LEFT JOIN operators o ON o.id = a.operator_id WHERE a.seq > ?1 ORDER BY a.seq LIMIT ?2"));
    s.bind(1, afterSeq).bind(2, limit);
    QJsonArray rows;
    while (s.step() == store::Statement::Step::Row) {
        QJsonObject row{{QStringLiteral("seq"), s.int64(0)}, {QStringLiteral("at_ms"), s.int64(1)},
            {QStringLiteral("action"), s.text(7)}};
        insertPresent(row, QStringLiteral("operator_id"), intOrNull(s, 2));
        insertPresent(row, QStringLiteral("operator_login"), textOrNull(s, 3));
        insertPresent(row, QStringLiteral("session_id"), intOrNull(s, 4));
        insertPresent(row, QStringLiteral("kiosk_id"), intOrNull(s, 5));
        insertPresent(row, QStringLiteral("source_address"), textOrNull(s, 6));
        insertPresent(row, QStringLiteral("subject_kind"), textOrNull(s, 8));
        insertPresent(row, QStringLiteral("subject_id"), textOrNull(s, 9));
        insertPresent(row, QStringLiteral("before"), objectOrNull(s, 10));
        insertPresent(row, QStringLiteral("after"), objectOrNull(s, 11));
        insertPresent(row, QStringLiteral("reason"), textOrNull(s, 12));
        insertPresent(row, QStringLiteral("correlation_id"), textOrNull(s, 13));
        rows.append(row);
    }
    if (!s.error().ok()) {
        failInternal(call, s.error().toString());
        return;
    }
    call->reply(QJsonObject{{QStringLiteral("rows"), rows}});
}

void auditVerify(ServiceContext &context, const CallPtr &call)
{
    const audit::VerifyReport report = audit::verify(context.reader);
    QJsonObject reply{{QStringLiteral("ok"), report.ok}, {QStringLiteral("rows_checked"), report.rowsChecked}};
    if (report.firstBrokenSeq)
        reply.insert(QStringLiteral("first_broken_seq"), *report.firstBrokenSeq);
    if (!report.problem.isEmpty())
        reply.insert(QStringLiteral("problem"), report.problem);
    call->reply(reply);
}

} // namespace

void bindSystemMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("system.version"), [&context](const CallPtr &call) {
        call->reply(QJsonObject{{QStringLiteral("version"), versionLine(QStringLiteral("prepayd")).trimmed()},
            {QStringLiteral("api_version"), rpc::apiVersion},
            {QStringLiteral("schema_version"), context.store.schemaVersion()}});
    });
    dispatcher.bind(QStringLiteral("system.health"), [&context](const CallPtr &call) { call->reply(context.health()); });
}

void bindAuditMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("audit.list"), [&context](const CallPtr &call) { auditList(context, call); });
    dispatcher.bind(QStringLiteral("audit.verify"), [&context](const CallPtr &call) { auditVerify(context, call); });
}

void bindAllMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    bindSystemMethods(dispatcher, context);
    bindSessionMethods(dispatcher, context);
    bindOperatorMethods(dispatcher, context);
    bindKioskMethods(dispatcher, context);
    bindAuditMethods(dispatcher, context);
    bindSyncMethods(dispatcher, context);
    bindMoneyMethods(dispatcher, context);
    bindAccountMethods(dispatcher, context);
    bindImportMethods(dispatcher, context);
    bindTopUpMethods(dispatcher, context);
    bindRefundMethods(dispatcher, context);
    bindReconcileMethods(dispatcher, context);
    bindTenantMethods(dispatcher, context);
    bindReceiptMethods(dispatcher, context);
}

} // namespace prepay::service
