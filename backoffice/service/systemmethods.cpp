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
        const auto optionalInt = [&](int column, const QString &key) {
            if (!s.isNull(column))
                row.insert(key, s.int64(column));
        };
        const auto optionalText = [&](int column, const QString &key) {
            if (!s.isNull(column))
                row.insert(key, s.text(column));
        };
        const auto optionalJson = [&](int column, const QString &key) {
            if (!s.isNull(column))
                row.insert(key, QJsonDocument::fromJson(s.text(column).toUtf8()).object());
        };
        optionalInt(2, QStringLiteral("operator_id"));
        optionalText(3, QStringLiteral("operator_login"));
        optionalInt(4, QStringLiteral("session_id"));
        optionalInt(5, QStringLiteral("kiosk_id"));
        optionalText(6, QStringLiteral("source_address"));
        optionalText(8, QStringLiteral("subject_kind"));
        optionalText(9, QStringLiteral("subject_id"));
        optionalJson(10, QStringLiteral("before"));
        optionalJson(11, QStringLiteral("after"));
        optionalText(12, QStringLiteral("reason"));
        optionalText(13, QStringLiteral("correlation_id"));
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
}

} // namespace prepay::service
