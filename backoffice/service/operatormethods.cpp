// operator.*: staff accounts, for administrators (and auditors, read only).
#include "api/clock.h"
#include "audit/audit.h"
#include "service/apiserver.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"
#include "staff/auth.h"
#include "staff/hashlimiter.h"
#include "staff/operators.h"

#include <QtCore/QJsonArray>

namespace prepay::service {

namespace {

// The operator row as staff see it (never the hash).
std::optional<QJsonObject> operatorJson(store::Connection &db, qint64 id)
{
    store::Statement s = db.prepare(QStringLiteral(
        "SELECT id, login, display_name, role, disabled, must_change_password, failed_attempts, locked_until_ms, "
        "last_login_at_ms, created_at_ms FROM operators WHERE id = ?1"));
    s.bind(1, id);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    QJsonObject o{{QStringLiteral("operator_id"), s.int64(0)}, {QStringLiteral("login"), s.text(1)},
        {QStringLiteral("display_name"), s.text(2)}, {QStringLiteral("role"), s.text(3)},
        {QStringLiteral("disabled"), s.int64(4) != 0}, {QStringLiteral("must_change_password"), s.int64(5) != 0},
        {QStringLiteral("failed_attempts"), s.int64(6)}, {QStringLiteral("created_at_ms"), s.int64(9)}};
    insertPresent(o, QStringLiteral("locked_until_ms"), intOrNull(s, 7));
    insertPresent(o, QStringLiteral("last_login_at_ms"), intOrNull(s, 8));
    return o;
}

void list(ServiceContext &context, const CallPtr &call)
{
    store::Statement s = context.reader.prepare(QStringLiteral("SELECT id FROM operators ORDER BY login"));
    QJsonArray operators;
    while (s.step() == store::Statement::Step::Row) {
        if (const std::optional<QJsonObject> o = operatorJson(context.reader, s.int64(0)))
            operators.append(*o);
    }
    if (!s.error().ok()) {
        failInternal(call, s.error().toString());
        return;
    }
    call->reply(QJsonObject{{QStringLiteral("operators"), operators}});
}

void create(ServiceContext &context, const CallPtr &call)
{
    staff::NewOperator op;
    op.login = call->params().value(QLatin1String("login")).toString();
    op.displayName = call->params().value(QLatin1String("display_name")).toString();
    op.role = call->params().value(QLatin1String("role")).toString();
    const auto admission = context.hashes.hash(call->params().value(QLatin1String("password")).toString(),
        context.loop, [&context, call, op](std::optional<staff::PasswordHash> hash, const QString &error) mutable {
            if (!hash) {
                call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.password: ") + error,
                    QJsonObject{{QStringLiteral("field"), QStringLiteral("params.password")}});
                return;
            }
            op.passwordHash = hash;
            audit::Entry entry =
                auditEntry(context, *call, QStringLiteral("operator.create"), QStringLiteral("operator"), QString());
            const qint64 nowMs = context.clock.wallMs();
            context.write(
                [op, nowMs, entry](store::Transaction &tx) mutable {
                    QString problem;
                    const std::optional<qint64> id = staff::createOperator(tx, op, nowMs, &problem);
                    if (!id) {
                        if (tx.error().ok())
                            return JobOutcome::refuse(tx, rpc::ErrorCode::Conflict, problem);
                        return JobOutcome();
                    }
                    const std::optional<QJsonObject> created = operatorJson(tx.db(), *id);
                    entry.subjectId = QString::number(*id);
                    entry.afterJson = compact(*created);
                    audit::append(tx, entry);
                    return JobOutcome::ok(*created);
                },
                [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

void resetPassword(ServiceContext &context, const CallPtr &call)
{
    const qint64 operatorId = call->params().value(QLatin1String("operator_id")).toInteger();
    const QString reason = call->params().value(QLatin1String("reason")).toString();
    const auto admission = context.hashes.hash(call->params().value(QLatin1String("password")).toString(),
        context.loop, [&context, call, operatorId, reason](std::optional<staff::PasswordHash> hash, const QString &error) {
            if (!hash) {
                call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.password: ") + error,
                    QJsonObject{{QStringLiteral("field"), QStringLiteral("params.password")}});
                return;
            }
            audit::Entry entry = auditEntry(context, *call, QStringLiteral("operator.reset_password"),
                QStringLiteral("operator"), QString::number(operatorId));
            entry.reason = reason;
            const qint64 nowMs = context.clock.wallMs();
            context.write(
                [operatorId, hash, nowMs, entry](store::Transaction &tx) mutable {
                    const std::optional<QJsonObject> before = operatorJson(tx.db(), operatorId);
                    if (!before || !staff::resetPassword(tx, operatorId, *hash, nowMs))
                        return JobOutcome::refuse(tx, rpc::ErrorCode::NotFound,
                            QStringLiteral("no staff account %1").arg(operatorId));
                    const std::optional<QJsonObject> after = operatorJson(tx.db(), operatorId);
                    entry.beforeJson = compact(*before);
                    entry.afterJson = compact(*after);
                    audit::append(tx, entry);
                    return JobOutcome::ok(*after);
                },
                [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

void setDisabled(ServiceContext &context, const CallPtr &call)
{
    const qint64 operatorId = call->params().value(QLatin1String("operator_id")).toInteger();
    const bool disabled = call->params().value(QLatin1String("disabled")).toBool();
    if (disabled && call->client->staff->operatorId == operatorId) {
        call->fail(rpc::ErrorCode::Conflict, QStringLiteral("you cannot disable your own account"));
        return;
    }
    audit::Entry entry = auditEntry(context, *call, QStringLiteral("operator.set_disabled"),
        QStringLiteral("operator"), QString::number(operatorId));
    entry.reason = call->params().value(QLatin1String("reason")).toString();
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [operatorId, disabled, nowMs, entry](store::Transaction &tx) mutable {
            const std::optional<QJsonObject> before = operatorJson(tx.db(), operatorId);
            if (!before)
                return JobOutcome::refuse(
                    tx, rpc::ErrorCode::NotFound, QStringLiteral("no staff account %1").arg(operatorId));
            store::Statement s = tx.prepare(
                QStringLiteral("UPDATE operators SET disabled = ?2, updated_at_ms = ?3 WHERE id = ?1"));
            s.bind(1, operatorId).bind(2, disabled ? 1 : 0).bind(3, nowMs);
            if (const store::SqlError e = s.run(); !e.ok()) {
                tx.fail(e);
                return JobOutcome();
            }
            if (disabled)
                staff::revokeSessionsOf(tx, operatorId, nowMs);
            const std::optional<QJsonObject> after = operatorJson(tx.db(), operatorId);
            entry.beforeJson = compact(*before);
            entry.afterJson = compact(*after);
            audit::append(tx, entry);
            return JobOutcome::ok(*after);
        },
        [&context, call, operatorId, disabled](const store::Written<JobOutcome> &written) {
            if (written.committed() && disabled && context.server) {
                // Their open connections lose the session now, not at the next refresh.
                for (Client *client : context.server->clients()) {
                    if (client->staff && client->staff->operatorId == operatorId)
                        client->staff.reset();
                }
            }
            replyFrom(call, written);
        });
}

} // namespace

void bindOperatorMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("operator.list"), [&context](const CallPtr &call) { list(context, call); });
    dispatcher.bind(QStringLiteral("operator.create"), [&context](const CallPtr &call) { create(context, call); });
    dispatcher.bind(
        QStringLiteral("operator.reset_password"), [&context](const CallPtr &call) { resetPassword(context, call); });
    dispatcher.bind(
        QStringLiteral("operator.set_disabled"), [&context](const CallPtr &call) { setDisabled(context, call); });
}

} // namespace prepay::service
