#include "dispatcher.h"

#include "api/check.h"
#include "api/clock.h"
#include "api/schema.h"
#include "service/servicelog.h"

namespace prepay::service {

void Call::reply(const QJsonValue &result)
{
    finish(rpc::encodeResult(request.id, result), QStringLiteral("ok"));
}

void Call::fail(rpc::ErrorCode code, const QString &message, const QJsonObject &data)
{
    rpc::Error error;
    error.code = code;
    error.message = message;
    error.data = data;
    finish(rpc::encodeError(request.id, error), rpc::errorCodeName(code) + QStringLiteral(": ") + message);
}

void Call::finish(const QByteArray &frame, const QString &outcome)
{
    PREPAY_CHECK(!m_answered); // a handler answers exactly once
    m_answered = true;
    qCInfo(lcService, "%s %s %s %s -> %s (%lld ms)", qUtf8Printable(correlationId), qUtf8Printable(request.method),
        qUtf8Printable(rpc::principalName(principal)), qUtf8Printable(sourceAddress), qUtf8Printable(outcome),
        m_timer.isValid() ? m_timer.elapsed() : 0LL);
    if (request.isNotification)
        return; // JSON-RPC: never answer a notification
    if (client)
        client->send(frame);
}

Dispatcher::Dispatcher(const Clock &clock, QList<rpc::MethodSpec> contract, int frameMaxBytes)
    : m_clock(clock)
    , m_contract(std::move(contract))
    , m_frameMaxBytes(frameMaxBytes)
{
    for (qsizetype i = 0; i < m_contract.size(); ++i) {
        PREPAY_CHECK(!m_index.contains(m_contract.at(i).name));
        m_index.insert(m_contract.at(i).name, i);
    }
}

void Dispatcher::bind(const QString &method, Handler handler)
{
    PREPAY_CHECK(m_index.contains(method));
    PREPAY_CHECK(!m_handlers.contains(method));
    m_handlers.insert(method, std::move(handler));
}

QStringList Dispatcher::unbound() const
{
    QStringList names;
    for (const rpc::MethodSpec &spec : m_contract) {
        if (!m_handlers.contains(spec.name))
            names << spec.name;
    }
    return names;
}

std::optional<QString> Dispatcher::expireSession(Client &client, qint64 nowMs)
{
    if (!client.staff)
        return std::nullopt;
    QString why;
    if (nowMs >= client.staff->expiresAtMs)
        why = QStringLiteral("your session has expired: log in again");
    else if (nowMs - client.staff->lastActiveMs >= client.staff->idleTimeoutMs)
        why = QStringLiteral("your session ended after %1 minutes without activity: log in again")
                  .arg(client.staff->idleTimeoutMs / 60000);
    if (why.isEmpty())
        return std::nullopt;
    client.staff.reset();
    return why;
}

void Dispatcher::dispatch(Client &client, const QByteArray &frame)
{
    auto call = std::make_shared<Call>();
    call->m_timer.start();
    call->client = &client;
    call->correlationId = QStringLiteral("c%1.%2").arg(client.id()).arg(client.nextCallNumber());
    call->sourceAddress = client.sourceAddress();

    const rpc::Decoded decoded = rpc::decode(frame, m_frameMaxBytes);
    if (!decoded.request) {
        call->request.id = decoded.idForError;
        call->principal = client.principal();
        const rpc::Error &error = *decoded.error;
        call->fail(error.code, error.message, error.data);
        return;
    }
    call->request = *decoded.request;

    if (!client.bucket().take()) {
        call->principal = client.principal();
        call->fail(rpc::ErrorCode::RateLimited, QStringLiteral("too many requests: slow down and retry in a second"));
        return;
    }

    const qint64 nowMs = m_clock.wallMs();
    const std::optional<QString> expired = expireSession(client, nowMs);
    call->principal = client.principal();

    const auto found = m_index.constFind(call->request.method);
    if (found == m_index.constEnd()) {
        call->fail(rpc::ErrorCode::MethodNotFound,
            QStringLiteral("no method '%1' (docs/api.md lists them)").arg(call->request.method));
        return;
    }
    const rpc::MethodSpec &spec = m_contract.at(*found);
    if (!spec.allowed.contains(call->principal)) {
        if (call->principal == rpc::Principal::Anonymous) {
            call->fail(rpc::ErrorCode::Unauthenticated,
                expired ? *expired : QStringLiteral("%1 needs a staff login (session.login)").arg(spec.name));
        } else {
            call->fail(rpc::ErrorCode::Forbidden,
                QStringLiteral("%1 may not call %2").arg(rpc::principalName(call->principal), spec.name));
        }
        return;
    }
    if (client.staff && client.staff->mustChangePassword && !spec.allowedBeforePasswordChange) {
        call->fail(rpc::ErrorCode::Forbidden,
            QStringLiteral("change your password first (session.change_password)"));
        return;
    }
    if (const std::optional<rpc::Error> invalid = rpc::check(spec.params, call->request.params)) {
        call->fail(invalid->code, invalid->message, invalid->data);
        return;
    }
    if (client.staff)
        client.staff->lastActiveMs = nowMs;

    const auto handler = m_handlers.constFind(spec.name);
    PREPAY_CHECK(handler != m_handlers.constEnd()); // prepayd does not start with unbound methods
    (*handler)(call);
}

} // namespace prepay::service
