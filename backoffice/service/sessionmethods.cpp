// setup.create_admin and session.*: the first administrator, staff logins, sessions and
// passwords. Password hashes are computed through the HashLimiter (at most N at once, off the
// event loop) before the write job that records the outcome, never inside it.
#include "api/clock.h"
#include "audit/audit.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/servicelog.h"
#include "service/setupcode.h"
#include "service/writes.h"
#include "staff/auth.h"
#include "staff/hashlimiter.h"
#include "staff/operators.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonObject>

namespace prepay::service {

namespace {

QJsonObject identityJson(const StaffIdentity &staff)
{
    return QJsonObject{{QStringLiteral("operator_id"), staff.operatorId}, {QStringLiteral("login"), staff.login},
        {QStringLiteral("display_name"), staff.displayName}, {QStringLiteral("role"), rpc::principalName(staff.role)},
        {QStringLiteral("must_change_password"), staff.mustChangePassword},
        {QStringLiteral("expires_at_ms"), staff.expiresAtMs}};
}

// Makes the connection act as the session's operator.
bool attach(const ServiceContext &context, Client &client, const staff::Session &session)
{
    const std::optional<rpc::Principal> role = rpc::principalFromName(session.role);
    if (!role)
        return false;
    StaffIdentity identity;
    identity.operatorId = session.operatorId;
    identity.sessionId = session.sessionId;
    identity.login = session.login;
    identity.displayName = session.displayName;
    identity.role = *role;
    identity.mustChangePassword = session.mustChangePassword;
    identity.idleTimeoutMs = context.staffSettings.sessionIdleTimeoutMs;
    identity.expiresAtMs = session.expiresAtMs;
    identity.lastActiveMs = context.clock.wallMs();
    identity.checkedAtMs = identity.lastActiveMs;
    client.staff = identity;
    return true;
}

QString localTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

void login(ServiceContext &context, const CallPtr &call)
{
    const QString name = call->params().value(QLatin1String("login")).toString();
    const QString password = call->params().value(QLatin1String("password")).toString();
    auto check = std::make_shared<staff::LoginCheck>(staff::prepareLogin(context.reader, name, context.clock.wallMs()));
    if (check->outcome == staff::LoginCheckOutcome::Failed) {
        failInternal(call, check->error);
        return;
    }
    // Every login costs one hash, known login or not, so timing does not tell which exist.
    const auto admission = context.hashes.verify(password, check->hashToVerify, context.loop,
        [&context, call, check](bool matched) {
            staff::SessionContext session;
            session.sourceAddress = call->sourceAddress;
            session.kioskId = call->client ? call->client->kioskId : std::nullopt;
            audit::Entry entry = auditEntry(context, *call, QStringLiteral("session.login"),
                QStringLiteral("operator"), QString::number(check->operatorId));
            const staff::StaffSettings settings = context.staffSettings;
            const qint64 nowMs = context.clock.wallMs();
            context.write(
                [check, matched, session, settings, nowMs, entry](store::Transaction &tx) mutable {
                    staff::LoginResult result = staff::finishLogin(tx, *check, matched, session, settings, nowMs);
                    if (result.outcome == staff::LoginOutcome::Failed || check->operatorId == 0)
                        return result; // an unknown login is no one's action: logged, not audited
                    if (result.outcome == staff::LoginOutcome::Ok) {
                        entry.operatorId = result.operatorId;
                        entry.sessionId = result.sessionId;
                    } else {
                        entry.action = QStringLiteral("session.login_failed");
                    }
                    QJsonObject after{{QStringLiteral("outcome"), staff::loginOutcomeCode(result.outcome)}};
                    if (result.outcome != staff::LoginOutcome::Ok)
                        after.insert(QStringLiteral("failed_attempts"), result.failedAttempts);
                    if (result.lockedUntilMs > 0)
                        after.insert(QStringLiteral("locked_until_ms"), result.lockedUntilMs);
                    entry.afterJson = compact(after);
                    audit::append(tx, entry);
                    return result;
                },
                [&context, call](const store::Written<staff::LoginResult> &written) {
                    if (!written.committed()) {
                        failInternal(call, written.error.toString() + written.reason);
                        return;
                    }
                    const staff::LoginResult &result = written.value;
                    switch (result.outcome) {
                    case staff::LoginOutcome::Ok: break;
                    case staff::LoginOutcome::BadCredentials:
                    case staff::LoginOutcome::Disabled:
                        call->fail(rpc::ErrorCode::Unauthenticated, QStringLiteral("wrong login or password"));
                        return;
                    case staff::LoginOutcome::Locked:
                        call->fail(rpc::ErrorCode::Locked,
                            QStringLiteral("too many wrong passwords: this login is locked until %1")
                                .arg(localTime(result.lockedUntilMs)),
                            QJsonObject{{QStringLiteral("locked_until_ms"), result.lockedUntilMs}});
                        return;
                    case staff::LoginOutcome::Failed: failInternal(call, result.error); return;
                    }
                    const std::optional<staff::Session> live = staff::resolveSession(
                        context.reader, result.token.toLatin1(), context.clock.wallMs(), context.staffSettings);
                    if (!live || !call->client || !attach(context, *call->client, *live)) {
                        failInternal(call, QStringLiteral("the new session could not be read back"));
                        return;
                    }
                    QJsonObject reply = identityJson(*call->client->staff);
                    reply.insert(QStringLiteral("token"), result.token);
                    call->reply(reply);
                });
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

void resume(ServiceContext &context, const CallPtr &call)
{
    const QString token = call->params().value(QLatin1String("token")).toString();
    const std::optional<staff::Session> session =
        staff::resolveSession(context.reader, token.toLatin1(), context.clock.wallMs(), context.staffSettings);
    if (!session || !call->client || !attach(context, *call->client, *session)) {
        call->fail(rpc::ErrorCode::Unauthenticated, QStringLiteral("this session has ended: log in again"));
        return;
    }
    call->reply(identityJson(*call->client->staff));
}

void logout(ServiceContext &context, const CallPtr &call)
{
    const qint64 sessionId = call->client->staff->sessionId;
    const audit::Entry entry = auditEntry(context, *call, QStringLiteral("session.logout"), QStringLiteral("session"),
        QString::number(sessionId));
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [sessionId, nowMs, entry](store::Transaction &tx) {
            staff::endSession(tx, sessionId, staff::SessionEnd::Logout, nowMs);
            audit::append(tx, entry);
            return JobOutcome::ok(QJsonObject{{QStringLiteral("logged_out"), true}});
        },
        [call](const store::Written<JobOutcome> &written) {
            if (written.committed() && call->client)
                call->client->staff.reset();
            replyFrom(call, written);
        });
}

void changePassword(ServiceContext &context, const CallPtr &call)
{
    const QString oldPassword = call->params().value(QLatin1String("old_password")).toString();
    const QString newPassword = call->params().value(QLatin1String("new_password")).toString();
    if (oldPassword == newPassword) {
        call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.new_password must differ from the old one"),
            QJsonObject{{QStringLiteral("field"), QStringLiteral("params.new_password")}});
        return;
    }
    const StaffIdentity staff = *call->client->staff;
    const staff::LoginCheck check = staff::prepareLogin(context.reader, staff.login, context.clock.wallMs());
    const auto admission = context.hashes.verify(oldPassword, check.hashToVerify, context.loop,
        [&context, call, newPassword, staff, ready = check.outcome == staff::LoginCheckOutcome::Ready](bool matched) {
            if (!matched || !ready) {
                call->fail(rpc::ErrorCode::Unauthenticated, QStringLiteral("the old password is wrong"));
                return;
            }
            const auto admitted = context.hashes.hash(newPassword, context.loop,
                [&context, call, staff](std::optional<staff::PasswordHash> hash, const QString &error) {
                    if (!hash) {
                        call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.new_password: ") + error,
                            QJsonObject{{QStringLiteral("field"), QStringLiteral("params.new_password")}});
                        return;
                    }
                    const audit::Entry entry = auditEntry(context, *call, QStringLiteral("session.change_password"),
                        QStringLiteral("operator"), QString::number(staff.operatorId));
                    const qint64 nowMs = context.clock.wallMs();
                    context.write(
                        [staff, hash, nowMs, entry](store::Transaction &tx) {
                            if (!staff::changePassword(tx, staff.operatorId, *hash, nowMs, staff.sessionId))
                                return JobOutcome::refuse(
                                    tx, rpc::ErrorCode::Forbidden, QStringLiteral("this staff account is disabled"));
                            audit::append(tx, entry);
                            return JobOutcome::ok(QJsonObject{{QStringLiteral("changed"), true}});
                        },
                        [call](const store::Written<JobOutcome> &written) {
                            if (written.committed() && call->client && call->client->staff)
                                call->client->staff->mustChangePassword = false;
                            replyFrom(call, written);
                        });
                });
            if (admitted != staff::HashLimiter::Admission::Accepted)
                failBusy(call);
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

void createFirstAdmin(ServiceContext &context, const CallPtr &call)
{
    const QString code = call->params().value(QLatin1String("setup_code")).toString();
    staff::NewOperator admin;
    admin.login = call->params().value(QLatin1String("login")).toString();
    admin.displayName = call->params().value(QLatin1String("display_name")).toString();
    admin.role = QStringLiteral("admin");
    admin.mustChangePassword = false; // they chose it just now
    const auto admission = context.hashes.hash(call->params().value(QLatin1String("password")).toString(),
        context.loop, [&context, call, code, admin](std::optional<staff::PasswordHash> hash, const QString &error) mutable {
            if (!hash) {
                call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.password: ") + error,
                    QJsonObject{{QStringLiteral("field"), QStringLiteral("params.password")}});
                return;
            }
            admin.passwordHash = hash;
            audit::Entry entry = auditEntry(
                context, *call, QStringLiteral("setup.create_admin"), QStringLiteral("operator"), QString());
            const qint64 nowMs = context.clock.wallMs();
            context.write(
                [code, admin, nowMs, entry](store::Transaction &tx) mutable {
                    switch (consumeSetupCode(tx, code)) {
                    case SetupCodeCheck::Accepted: break;
                    case SetupCodeCheck::NoCodeIssued:
                        return JobOutcome::refuse(tx, rpc::ErrorCode::Forbidden,
                            QStringLiteral("an administrator exists already: ask them for an account"));
                    case SetupCodeCheck::Wrong:
                        return JobOutcome::refuse(tx, rpc::ErrorCode::Forbidden,
                            QStringLiteral("wrong setup code (prepayd printed it when it started)"));
                    }
                    QString problem;
                    const std::optional<qint64> id = staff::createOperator(tx, admin, nowMs, &problem);
                    if (!id) {
                        if (tx.error().ok())
                            return JobOutcome::refuse(tx, rpc::ErrorCode::InvalidParams, problem);
                        return JobOutcome();
                    }
                    entry.subjectId = QString::number(*id);
                    entry.afterJson = compact(QJsonObject{{QStringLiteral("login"), admin.login},
                        {QStringLiteral("display_name"), admin.displayName}, {QStringLiteral("role"), admin.role}});
                    audit::append(tx, entry);
                    return JobOutcome::ok(QJsonObject{{QStringLiteral("operator_id"), *id}, {QStringLiteral("login"), admin.login}});
                },
                [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

} // namespace

void bindSessionMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("setup.create_admin"), [&context](const CallPtr &call) { createFirstAdmin(context, call); });
    dispatcher.bind(QStringLiteral("session.login"), [&context](const CallPtr &call) { login(context, call); });
    dispatcher.bind(QStringLiteral("session.resume"), [&context](const CallPtr &call) { resume(context, call); });
    dispatcher.bind(QStringLiteral("session.logout"), [&context](const CallPtr &call) { logout(context, call); });
    dispatcher.bind(QStringLiteral("session.change_password"),
        [&context](const CallPtr &call) { changePassword(context, call); });
    dispatcher.bind(QStringLiteral("session.whoami"), [](const CallPtr &call) {
        const Client &client = *call->client;
        QJsonObject reply{{QStringLiteral("principal"), rpc::principalName(client.principal())}};
        if (client.staff)
            reply.insert(QStringLiteral("staff"), identityJson(*client.staff));
        if (client.kioskId) {
            reply.insert(QStringLiteral("kiosk"),
                QJsonObject{{QStringLiteral("kiosk_id"), *client.kioskId}, {QStringLiteral("name"), client.kioskName}});
        }
        call->reply(reply);
    });
}

} // namespace prepay::service
