// topup.*: QR top-ups on the wire (backoffice/payments does the work). A kiosk (or a cashier)
// asks for a top-up and shows the provider's QR; from then on the connection is told of every
// change of that top-up as an events.topup notification — paid and credited (with the new
// balance), or closed — and the same happens to every connection of the kiosk that created it,
// so a kiosk that reconnected mid-payment still hears of it. topup.get answers the same view at
// any time: the client never has to guess.
#include "api/clock.h"
#include "ledger/ledger.h"
#include "payments/paymentservice.h"
#include "service/apiserver.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

namespace prepay::service {

namespace {

QJsonObject topUpJson(ServiceContext &context, const payments::Attempt &a)
{
    using payments::AttemptState;
    QJsonObject o{{QStringLiteral("attempt_id"), a.id}, {QStringLiteral("receipt_no"), a.outTradeNo},
        {QStringLiteral("shop_no"), a.shopNo}, {QStringLiteral("channel"), payments::channelCode(a.channel)},
        {QStringLiteral("amount_fen"), a.amountFen}, {QStringLiteral("state"), payments::attemptStateCode(a.state)},
        {QStringLiteral("paid"), payments::isPaid(a.state)}, {QStringLiteral("late"), a.late},
        {QStringLiteral("created_at_ms"), a.createdAtMs}, {QStringLiteral("expires_at_ms"), a.expiresAtMs}};
    if ((a.state == AttemptState::QrIssued || a.state == AttemptState::Scanned) && !a.qrPayload.isEmpty())
        o.insert(QStringLiteral("qr_payload"), a.qrPayload);
    if (payments::isPaid(a.state)) {
        o.insert(QStringLiteral("paid_at_ms"), a.paidAtMs);
        if (const std::optional<Money> balance = ledger::walletBalance(context.reader, a.accountId))
            o.insert(QStringLiteral("balance_fen"), balance->fen());
    }
    if (!a.lastError.isEmpty() && !payments::isPaid(a.state))
        o.insert(QStringLiteral("message"), a.lastError);
    return o;
}

// A kiosk sees its own top-ups only; staff see every one.
std::optional<payments::Attempt> visibleAttempt(ServiceContext &context, const Call &call, qint64 attemptId)
{
    std::optional<payments::Attempt> attempt = payments::findAttempt(context.reader, attemptId);
    if (!attempt)
        return std::nullopt;
    if (call.principal == rpc::Principal::Kiosk && (!call.client || attempt->kioskId != call.client->kioskId.value_or(-1)))
        return std::nullopt;
    return attempt;
}

// A kiosk of one building tops up that building's tenants only.
bool shopVisibleToKiosk(ServiceContext &context, const Client &client, const QString &shopNo)
{
    if (!client.kioskBuildingId)
        return true;
    store::Statement s = context.reader.prepare(QStringLiteral(
        "SELECT 1 FROM accounts a JOIN account_metering_points ap ON ap.account_id = a.id "
        "JOIN metering_points mp ON mp.id = ap.metering_point_id WHERE a.shop_no = ?1 AND mp.building_id = ?2 LIMIT 1"));
    s.bind(1, shopNo).bind(2, *client.kioskBuildingId);
    return s.step() == store::Statement::Step::Row;
}

rpc::ErrorCode codeFor(payments::CreateOutcome outcome)
{
    switch (outcome) {
    case payments::CreateOutcome::Conflict: return rpc::ErrorCode::Conflict;
    case payments::CreateOutcome::NotFound: return rpc::ErrorCode::NotFound;
    case payments::CreateOutcome::Invalid: return rpc::ErrorCode::InvalidParams;
    default: return rpc::ErrorCode::InternalError;
    }
}

void create(ServiceContext &context, const CallPtr &call)
{
    if (!context.payments) {
        call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("QR payments are not configured on this prepayd"));
        return;
    }
    const QJsonObject &p = call->params();
    payments::QrTopUp request;
    request.shopNo = p.value(QLatin1String("shop_no")).toString();
    request.amountFen = p.value(QLatin1String("amount_fen")).toInteger();
    request.channel = *payments::channelFromCode(p.value(QLatin1String("channel")).toString());
    request.idempotencyKey = p.value(QLatin1String("idempotency_key")).toString();
    if (call->principal == rpc::Principal::Kiosk) {
        if (!call->client || !call->client->kioskId) {
            call->fail(rpc::ErrorCode::Forbidden, QStringLiteral("not an enrolled kiosk"));
            return;
        }
        request.kioskId = *call->client->kioskId;
        if (!shopVisibleToKiosk(context, *call->client, request.shopNo)) {
            call->fail(rpc::ErrorCode::NotFound,
                QStringLiteral("no open account for shop %1 in this kiosk's building").arg(request.shopNo));
            return;
        }
    } else if (call->client && call->client->staff) {
        request.operatorId = call->client->staff->operatorId;
    }
    QPointer<Client> client = call->client;
    context.payments->createTopUp(request, [&context, call, client](const payments::CreateTopUpResult &result) {
        switch (result.outcome) {
        case payments::CreateOutcome::Created:
        case payments::CreateOutcome::Existing: break;
        case payments::CreateOutcome::StoreFailed: failInternal(call, result.message); return;
        default: call->fail(codeFor(result.outcome), result.message); return;
        }
        if (client)
            client->watchedTopUps.insert(result.attempt.id);
        // The attempt as the store has it now (a notification may already have moved it on).
        const std::optional<payments::Attempt> now = payments::findAttempt(context.reader, result.attempt.id);
        QJsonObject reply = topUpJson(context, now.value_or(result.attempt));
        reply.insert(QStringLiteral("already"), result.outcome == payments::CreateOutcome::Existing);
        call->reply(reply);
    });
}

void get(ServiceContext &context, const CallPtr &call)
{
    const qint64 attemptId = call->params().value(QLatin1String("attempt_id")).toInteger();
    const std::optional<payments::Attempt> attempt = visibleAttempt(context, *call, attemptId);
    if (!attempt) {
        call->fail(rpc::ErrorCode::NotFound, QStringLiteral("no QR top-up %1").arg(attemptId));
        return;
    }
    if (call->client)
        call->client->watchedTopUps.insert(attemptId);
    call->reply(topUpJson(context, *attempt));
}

void cancel(ServiceContext &context, const CallPtr &call)
{
    const qint64 attemptId = call->params().value(QLatin1String("attempt_id")).toInteger();
    const std::optional<payments::Attempt> attempt = visibleAttempt(context, *call, attemptId);
    if (!attempt) {
        call->fail(rpc::ErrorCode::NotFound, QStringLiteral("no QR top-up %1").arg(attemptId));
        return;
    }
    if (!context.payments) {
        call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("QR payments are not configured on this prepayd"));
        return;
    }
    // Closing is asynchronous (the provider is asked); the reply is the top-up as it is, and
    // events.topup says when it is closed — or paid after all.
    context.payments->abandon(attemptId);
    if (call->client)
        call->client->watchedTopUps.insert(attemptId);
    call->reply(topUpJson(context, *attempt));
}

} // namespace

void bindTopUpMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("topup.create"), [&context](const CallPtr &call) { create(context, call); });
    dispatcher.bind(QStringLiteral("topup.get"), [&context](const CallPtr &call) { get(context, call); });
    dispatcher.bind(QStringLiteral("topup.cancel"), [&context](const CallPtr &call) { cancel(context, call); });
}

void pushTopUpEvent(ServiceContext &context, qint64 attemptId)
{
    if (!context.server)
        return;
    const std::optional<payments::Attempt> attempt = payments::findAttempt(context.reader, attemptId);
    if (!attempt)
        return;
    QByteArray frame;
    for (Client *client : context.server->clients()) {
        const bool kiosk = attempt->kioskId != 0 && client->kioskId == attempt->kioskId;
        if (!kiosk && !client->watchedTopUps.contains(attemptId))
            continue;
        if (frame.isEmpty())
            frame = rpc::encodeNotification(QStringLiteral("events.topup"), topUpJson(context, *attempt));
        client->send(frame);
    }
}

} // namespace prepay::service
