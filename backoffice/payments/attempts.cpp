#include "attempts.h"

#include "control/alarms.h"
#include "control/controller.h"
#include "ledger/ledger.h"
#include "credit.h"
#include "store/settings.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonObject>

namespace prepay::payments {

namespace {

// SQL lists of states, for the compare-and-set transitions.
const char openStates[] = "('created', 'qr_issued', 'scanned', 'closing', 'expired_unknown')";
// A payment may still arrive after the attempt was closed: the late success of §3.4.
const char payableStates[] = "('created', 'qr_issued', 'scanned', 'closing', 'closed', 'expired_unknown')";

const char attemptColumns[]
    = "a.id, a.order_id, o.account_id, acc.shop_no, coalesce(o.kiosk_id, 0), a.channel, a.out_trade_no, a.amount_fen, "
      "a.state, coalesce(a.qr_payload, ''), coalesce(a.expires_at_ms, 0), a.created_at_ms, coalesce(a.paid_at_ms, 0), "
      "coalesce(a.abandoned_at_ms, 0), coalesce(a.next_query_at_ms, 0), a.query_count, a.late, a.flagged, "
      "coalesce(a.flag_reason, ''), coalesce(a.provider_txn_id, ''), coalesce(a.last_error, ''), "
      "coalesce(a.provider_reversed_at_ms, 0) "
      "FROM payment_attempts a JOIN topup_orders o ON o.id = a.order_id JOIN accounts acc ON acc.id = o.account_id "
      "WHERE a.channel <> 'cash' "; // QR attempts only: cash sales are counter.h's

Attempt attemptFromRow(const store::Statement &s)
{
    Attempt a;
    a.id = s.int64(0);
    a.orderId = s.int64(1);
    a.accountId = s.int64(2);
    a.shopNo = s.text(3);
    a.kioskId = s.int64(4);
    a.channel = channelFromCode(s.text(5)).value_or(Channel::Alipay);
    a.outTradeNo = s.text(6);
    a.amountFen = s.int64(7);
    a.state = attemptStateFromCode(s.text(8)).value_or(AttemptState::Created);
    a.qrPayload = s.text(9);
    a.expiresAtMs = s.int64(10);
    a.createdAtMs = s.int64(11);
    a.paidAtMs = s.int64(12);
    a.abandonedAtMs = s.int64(13);
    a.nextQueryAtMs = s.int64(14);
    a.queryCount = int(s.int64(15));
    a.late = s.int64(16) != 0;
    a.flagged = s.int64(17) != 0;
    a.flagReason = s.text(18);
    a.providerTxnId = s.text(19);
    a.lastError = s.text(20);
    a.providerReversedAtMs = s.int64(21);
    return a;
}

std::optional<Attempt> findWhere(store::Connection &db, const QString &where, const std::function<void(store::Statement &)> &bind)
{
    store::Statement s = db.prepare(QStringLiteral("SELECT ") + QLatin1String(attemptColumns) + where);
    bind(s);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    return attemptFromRow(s);
}

ledger::Channel ledgerChannel(Channel channel)
{
    switch (channel) {
    case Channel::Alipay: return ledger::Channel::Alipay;
    case Channel::WeChat: return ledger::Channel::Wechat;
    case Channel::UnionPay: return ledger::Channel::Unionpay;
    }
    return ledger::Channel::Alipay;
}

bool runChanged(store::Transaction &tx, store::Statement &s)
{
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return tx.db().changes() > 0;
}

ApplyResult applied(ApplyOutcome outcome, const Attempt &attempt, const QString &message)
{
    ApplyResult r;
    r.outcome = outcome;
    r.attemptId = attempt.id;
    r.accountId = attempt.accountId;
    r.message = message;
    return r;
}

ApplyResult applyFailed(store::Transaction &tx, const QString &message)
{
    ApplyResult r;
    r.outcome = ApplyOutcome::StoreFailed;
    r.message = tx.error().ok() ? message : tx.error().toString();
    return r;
}

ApplyResult dispute(store::Transaction &tx, const Attempt &attempt, const Trade &trade, qint64 nowMs)
{
    const QString reason = QStringLiteral("amount mismatch: %1 says %2 fen %3, the attempt is for %4 fen CNY")
                               .arg(channelCode(attempt.channel))
                               .arg(trade.totalFen)
                               .arg(trade.currency.isEmpty() ? QStringLiteral("CNY") : trade.currency)
                               .arg(attempt.amountFen);
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE payment_attempts SET state = 'disputed', flagged = 1, flag_reason = ?2, provider_amount_fen = ?3, "
        "provider_txn_id = coalesce(provider_txn_id, nullif(?4, '')), next_query_at_ms = NULL, updated_at_ms = ?5 "
        "WHERE id = ?1 AND state IN ") + QLatin1String(payableStates));
    s.bind(1, attempt.id).bind(2, reason).bind(3, qMax<qint64>(trade.totalFen, 0)).bind(4, trade.providerTxnId);
    s.bind(5, nowMs);
    if (!runChanged(tx, s))
        return tx.error().ok() ? applied(ApplyOutcome::NoChange, attempt, QStringLiteral("already settled"))
                               : applyFailed(tx, QString());
    QJsonObject detail{{QStringLiteral("out_trade_no"), attempt.outTradeNo},
        {QStringLiteral("channel"), channelCode(attempt.channel)},
        {QStringLiteral("expected_fen"), attempt.amountFen}, {QStringLiteral("provider_fen"), trade.totalFen},
        {QStringLiteral("currency"), trade.currency}};
    control::raiseAlarm(tx, QStringLiteral("payment_disputed"), control::Severity::Critical,
        control::AlarmSubject{QStringLiteral("payment_attempt"), attempt.id}, detail, nowMs);
    if (!tx.error().ok())
        return applyFailed(tx, QString());
    return applied(ApplyOutcome::Disputed, attempt, reason);
}

ApplyResult credit(store::Transaction &tx, const billing::TariffBook &book, const Attempt &attempt, const Trade &trade,
    qint64 nowMs)
{
    const bool late = attempt.abandonedAtMs > 0 || attempt.state == AttemptState::Closing
        || attempt.state == AttemptState::Closed || attempt.state == AttemptState::ExpiredUnknown;
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE payment_attempts SET state = 'credited', paid_at_ms = ?2, provider_txn_id = nullif(?3, ''), "
        "provider_amount_fen = ?4, late = ?5, flagged = max(flagged, ?5), "
        "flag_reason = CASE WHEN ?5 = 1 THEN 'late payment: paid after the kiosk or the deadline gave it up' "
        "ELSE flag_reason END, next_query_at_ms = NULL, updated_at_ms = ?6 WHERE id = ?1 AND state IN ")
        + QLatin1String(payableStates));
    s.bind(1, attempt.id).bind(2, trade.paidAtMs > 0 ? trade.paidAtMs : nowMs).bind(3, trade.providerTxnId);
    s.bind(4, trade.totalFen).bind(5, late ? 1 : 0).bind(6, nowMs);
    if (!runChanged(tx, s))
        return tx.error().ok() ? applied(ApplyOutcome::AlreadyPaid, attempt, QStringLiteral("paid before"))
                               : applyFailed(tx, QString());
    store::Statement order = tx.prepare(
        QStringLiteral("UPDATE topup_orders SET state = 'paid', updated_at_ms = ?2 WHERE id = ?1 AND state <> 'paid'"));
    order.bind(1, attempt.orderId).bind(2, nowMs);
    if (const store::SqlError e = order.run(); !e.ok()) {
        tx.fail(e);
        return applyFailed(tx, QString());
    }
    CreditRequest request;
    request.accountId = attempt.accountId;
    request.attemptId = attempt.id;
    request.channel = ledgerChannel(attempt.channel);
    request.amount = Money::fromFen(attempt.amountFen);
    request.receiptNo = attempt.outTradeNo;
    const CreditResult posted = creditAttempt(tx, book, request, nowMs);
    if (posted.outcome != CreditOutcome::Posted) {
        if (tx.error().ok())
            tx.rollback(posted.message);
        return applyFailed(tx, posted.message);
    }
    ApplyResult r = applied(ApplyOutcome::Credited, attempt,
        QStringLiteral("%1 fen credited to shop %2%3")
            .arg(attempt.amountFen)
            .arg(attempt.shopNo, late ? QStringLiteral(" (late payment)") : QString()));
    r.entryId = posted.entryId;
    r.late = late;
    r.balance = posted.balance;
    r.commandIds = posted.commandIds;
    return r;
}

bool simpleUpdate(store::Transaction &tx, qint64 attemptId, const QString &setClause, const QString &fromStates,
    const std::function<void(store::Statement &)> &bind)
{
    store::Statement s = tx.prepare(QStringLiteral("UPDATE payment_attempts SET ") + setClause
        + QStringLiteral(" WHERE id = ?1 AND state IN ") + fromStates);
    s.bind(1, attemptId);
    bind(s);
    return runChanged(tx, s);
}

void bindNullable(store::Statement &s, int index, qint64 value)
{
    if (value > 0)
        s.bind(index, value);
    else
        s.bindNull(index);
}

} // namespace

QString attemptStateCode(AttemptState state)
{
    switch (state) {
    case AttemptState::Created: return QStringLiteral("created");
    case AttemptState::QrIssued: return QStringLiteral("qr_issued");
    case AttemptState::Scanned: return QStringLiteral("scanned");
    case AttemptState::Paid: return QStringLiteral("paid");
    case AttemptState::Credited: return QStringLiteral("credited");
    case AttemptState::PartiallyRefunded: return QStringLiteral("partially_refunded");
    case AttemptState::Refunded: return QStringLiteral("refunded");
    case AttemptState::Closing: return QStringLiteral("closing");
    case AttemptState::Closed: return QStringLiteral("closed");
    case AttemptState::ExpiredUnknown: return QStringLiteral("expired_unknown");
    case AttemptState::Disputed: return QStringLiteral("disputed");
    }
    return QStringLiteral("created");
}

std::optional<AttemptState> attemptStateFromCode(QStringView code)
{
    for (int i = 0; i <= int(AttemptState::Disputed); ++i) {
        if (code == attemptStateCode(AttemptState(i)))
            return AttemptState(i);
    }
    return std::nullopt;
}

bool isOpen(AttemptState state)
{
    return state == AttemptState::Created || state == AttemptState::QrIssued || state == AttemptState::Scanned
        || state == AttemptState::Closing || state == AttemptState::ExpiredUnknown;
}

bool isPaid(AttemptState state)
{
    return state == AttemptState::Paid || state == AttemptState::Credited || state == AttemptState::PartiallyRefunded
        || state == AttemptState::Refunded;
}

std::optional<Attempt> findAttempt(store::Connection &db, qint64 attemptId)
{
    return findWhere(db, QStringLiteral("AND a.id = ?1"), [&](store::Statement &s) { s.bind(1, attemptId); });
}

std::optional<Attempt> findAttempt(store::Connection &db, Channel channel, const QString &outTradeNo)
{
    return findWhere(db, QStringLiteral("AND a.out_trade_no = ?1 AND a.channel = ?2"), [&](store::Statement &s) {
        s.bind(1, outTradeNo).bind(2, channelCode(channel));
    });
}

TopUpLimits readTopUpLimits(store::Connection &db)
{
    TopUpLimits limits;
    QString error;
    qint64 value = 0;
    if (store::readIntSetting(db, QStringLiteral("payment.topup_min_fen"), 1, 100000000, &value, &error))
        limits.minFen = value;
    if (store::readIntSetting(db, QStringLiteral("payment.topup_max_fen"), 1, 100000000, &value, &error))
        limits.maxFen = value;
    if (store::readIntSetting(db, QStringLiteral("payment.qr_timeout_ms"), 10000, 3600000, &value, &error))
        limits.qrTimeoutMs = value;
    return limits;
}

QString createOutcomeCode(CreateOutcome outcome)
{
    switch (outcome) {
    case CreateOutcome::Created: return QStringLiteral("created");
    case CreateOutcome::Existing: return QStringLiteral("existing");
    case CreateOutcome::Conflict: return QStringLiteral("conflict");
    case CreateOutcome::NotFound: return QStringLiteral("not_found");
    case CreateOutcome::Invalid: return QStringLiteral("invalid");
    case CreateOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

QString makeOutTradeNo(qint64 attemptId, QByteArrayView random9)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    QString out = QStringLiteral("P%1").arg(attemptId % Q_INT64_C(10000000000), 10, 10, QLatin1Char('0'));
    for (qsizetype i = 0; i < 9; ++i) {
        const auto byte = quint8(i < random9.size() ? random9.at(i) : 0);
        out += QLatin1Char(alphabet[byte % 36]);
    }
    return out;
}

CreateTopUpResult createTopUp(store::Transaction &tx, const QrTopUp &request, qint64 nowMs)
{
    CreateTopUpResult result;
    auto refuse = [&](CreateOutcome outcome, const QString &message) {
        tx.rollback(message);
        result.outcome = outcome;
        result.message = message;
        return result;
    };
    const QByteArray hash = QCryptographicHash::hash(QStringLiteral("qr;shop=%1;amount=%2;channel=%3;kiosk=%4")
                                                         .arg(request.shopNo)
                                                         .arg(request.amountFen)
                                                         .arg(channelCode(request.channel))
                                                         .arg(request.kioskId)
                                                         .toUtf8(),
        QCryptographicHash::Sha256);
    const QString key = QStringLiteral("qr:") + request.idempotencyKey;
    store::Statement earlier = tx.prepare(QStringLiteral(
        "SELECT o.request_hash, (SELECT max(id) FROM payment_attempts WHERE order_id = o.id) FROM topup_orders o "
        "WHERE o.idempotency_key = ?1"));
    earlier.bind(1, key);
    if (earlier.step() == store::Statement::Step::Row) {
        if (earlier.blob(0) != hash)
            return refuse(CreateOutcome::Conflict,
                QStringLiteral("idempotency_key %1 was used for another top-up").arg(request.idempotencyKey));
        const std::optional<Attempt> attempt = findAttempt(tx.db(), earlier.int64(1));
        if (!attempt)
            return refuse(CreateOutcome::StoreFailed, QStringLiteral("the top-up has no attempt"));
        result.outcome = CreateOutcome::Existing;
        result.message = QStringLiteral("this top-up exists already");
        result.attempt = *attempt;
        return result;
    }
    const TopUpLimits limits = readTopUpLimits(tx.db());
    if (request.amountFen < limits.minFen || request.amountFen > limits.maxFen)
        return refuse(CreateOutcome::Invalid,
            QStringLiteral("amount_fen %1 is outside the top-up limits %2..%3 (settings payment.topup_min_fen/max_fen)")
                .arg(request.amountFen)
                .arg(limits.minFen)
                .arg(limits.maxFen));
    store::Statement account
        = tx.prepare(QStringLiteral("SELECT id FROM accounts WHERE shop_no = ?1 AND status = 'open'"));
    account.bind(1, request.shopNo);
    if (account.step() != store::Statement::Step::Row)
        return refuse(CreateOutcome::NotFound, QStringLiteral("no open account for shop %1").arg(request.shopNo));
    const qint64 accountId = account.int64(0);

    store::Statement order = tx.prepare(QStringLiteral(
        "INSERT INTO topup_orders (account_id, amount_fen, idempotency_key, request_hash, kiosk_id, operator_id, "
        "state, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?7, 'open', ?6, ?6)"));
    order.bind(1, accountId).bind(2, request.amountFen).bind(3, key).bind(4, hash);
    bindNullable(order, 5, request.kioskId);
    bindNullable(order, 7, request.operatorId);
    order.bind(6, nowMs);
    if (const store::SqlError e = order.run(); !e.ok()) {
        tx.fail(e);
        result.message = tx.error().toString();
        return result;
    }
    const qint64 orderId = tx.db().lastInsertRowId();
    // One writer: the next id is known before the insert, so the out_trade_no is final at once.
    store::Statement next = tx.prepare(QStringLiteral("SELECT coalesce(max(id), 0) + 1 FROM payment_attempts"));
    if (next.step() != store::Statement::Step::Row) {
        tx.fail(next.error());
        result.message = tx.error().toString();
        return result;
    }
    const qint64 attemptId = next.int64(0);
    const QByteArray random = QCryptographicHash::hash(
        QStringLiteral("%1;%2;%3").arg(attemptId).arg(nowMs).arg(request.idempotencyKey).toUtf8(),
        QCryptographicHash::Sha256);
    const QString outTradeNo = makeOutTradeNo(attemptId, QByteArrayView(random).first(9));
    const qint64 expiresAtMs = nowMs + limits.qrTimeoutMs;
    store::Statement attempt = tx.prepare(QStringLiteral(
        "INSERT INTO payment_attempts (id, order_id, channel, out_trade_no, amount_fen, state, expires_at_ms, "
        "next_query_at_ms, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'created', ?6, ?7, ?8, ?8)"));
    attempt.bind(1, attemptId).bind(2, orderId).bind(3, channelCode(request.channel)).bind(4, outTradeNo);
    attempt.bind(5, request.amountFen).bind(6, expiresAtMs).bind(7, nowMs + 5000).bind(8, nowMs);
    if (const store::SqlError e = attempt.run(); !e.ok()) {
        tx.fail(e);
        result.message = tx.error().toString();
        return result;
    }
    const std::optional<Attempt> created = findAttempt(tx.db(), attemptId);
    if (!created) {
        result.message = QStringLiteral("the new attempt cannot be read back");
        return result;
    }
    result.outcome = CreateOutcome::Created;
    result.message = QStringLiteral("top-up %1 created").arg(outTradeNo);
    result.attempt = *created;
    return result;
}

bool recordCreated(store::Transaction &tx, qint64 attemptId, const CreateResult &result, qint64 nextQueryAtMs,
    qint64 nowMs)
{
    switch (result.outcome) {
    case Outcome::Ok:
        return simpleUpdate(tx, attemptId,
            QStringLiteral("state = 'qr_issued', qr_payload = ?2, last_error = NULL, next_query_at_ms = ?3, "
                           "updated_at_ms = ?4"),
            QStringLiteral("('created')"), [&](store::Statement &s) {
                s.bind(2, result.qrPayload).bind(3, nextQueryAtMs).bind(4, nowMs);
            });
    case Outcome::Rejected:
        return simpleUpdate(tx, attemptId,
            QStringLiteral("state = 'closed', last_error = ?2, next_query_at_ms = NULL, updated_at_ms = ?3"),
            QStringLiteral("('created')"), [&](store::Statement &s) {
                s.bind(2, QStringLiteral("%1: %2").arg(result.code, result.message)).bind(3, nowMs);
            });
    case Outcome::Unknown:
        return simpleUpdate(tx, attemptId,
            QStringLiteral("last_error = ?2, next_query_at_ms = ?3, updated_at_ms = ?4"), QStringLiteral("('created')"),
            [&](store::Statement &s) { s.bind(2, result.message).bind(3, nextQueryAtMs).bind(4, nowMs); });
    }
    return false;
}

QString applyOutcomeCode(ApplyOutcome outcome)
{
    switch (outcome) {
    case ApplyOutcome::Credited: return QStringLiteral("credited");
    case ApplyOutcome::AlreadyPaid: return QStringLiteral("already_paid");
    case ApplyOutcome::Disputed: return QStringLiteral("disputed");
    case ApplyOutcome::Updated: return QStringLiteral("updated");
    case ApplyOutcome::NoChange: return QStringLiteral("no_change");
    case ApplyOutcome::UnknownAttempt: return QStringLiteral("unknown_attempt");
    case ApplyOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

ApplyResult applyTrade(store::Transaction &tx, const billing::TariffBook &book, Channel channel, const Trade &trade,
    qint64 nowMs)
{
    const std::optional<Attempt> found = findAttempt(tx.db(), channel, trade.outTradeNo);
    if (!found) {
        ApplyResult r;
        r.outcome = ApplyOutcome::UnknownAttempt;
        r.message = QStringLiteral("no %1 attempt has out_trade_no %2").arg(channelCode(channel), trade.outTradeNo);
        return r;
    }
    const Attempt &attempt = *found;
    switch (trade.state) {
    case TradeState::Paid: {
        if (isPaid(attempt.state))
            return applied(ApplyOutcome::AlreadyPaid, attempt, QStringLiteral("paid before: nothing to do"));
        if (attempt.state == AttemptState::Disputed)
            return applied(ApplyOutcome::NoChange, attempt, QStringLiteral("disputed: settled by hand"));
        if (attempt.providerReversedAtMs > 0)
            return applied(ApplyOutcome::NoChange, attempt,
                QStringLiteral("the provider returned this payment to the payer when the top-up was cancelled: "
                               "not credited"));
        const bool currencyOk = trade.currency.isEmpty() || trade.currency == u"CNY";
        if (trade.totalFen != attempt.amountFen || !currencyOk)
            return dispute(tx, attempt, trade, nowMs);
        return credit(tx, book, attempt, trade, nowMs);
    }
    case TradeState::Closed:
    case TradeState::Failed: {
        const bool changed = simpleUpdate(tx, attempt.id,
            QStringLiteral("state = 'closed', last_error = coalesce(last_error, ?2), next_query_at_ms = NULL, "
                           "updated_at_ms = ?3"),
            QLatin1String(openStates), [&](store::Statement &s) {
                s.bind(2, QStringLiteral("the provider says %1").arg(trade.rawState)).bind(3, nowMs);
            });
        if (!tx.error().ok())
            return applyFailed(tx, QString());
        return applied(changed ? ApplyOutcome::Updated : ApplyOutcome::NoChange, attempt,
            QStringLiteral("the provider says %1").arg(trade.rawState));
    }
    case TradeState::WaitingPayment: {
        const bool changed = simpleUpdate(tx, attempt.id, QStringLiteral("state = 'scanned', updated_at_ms = ?2"),
            QStringLiteral("('qr_issued')"), [&](store::Statement &s) { s.bind(2, nowMs); });
        if (!tx.error().ok())
            return applyFailed(tx, QString());
        return applied(changed ? ApplyOutcome::Updated : ApplyOutcome::NoChange, attempt,
            QStringLiteral("waiting for the payer"));
    }
    case TradeState::NotFound: break;
    }
    return applied(ApplyOutcome::NoChange, attempt, QStringLiteral("not scanned yet"));
}

bool recordQueried(store::Transaction &tx, qint64 attemptId, qint64 nextQueryAtMs, qint64 nowMs)
{
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE payment_attempts SET query_count = query_count + 1, last_queried_at_ms = ?2, next_query_at_ms = ?3, "
        "updated_at_ms = ?2 WHERE id = ?1"));
    s.bind(1, attemptId).bind(2, nowMs);
    bindNullable(s, 3, nextQueryAtMs);
    return runChanged(tx, s);
}

bool recordAbandonRequested(store::Transaction &tx, qint64 attemptId, qint64 nowMs)
{
    return simpleUpdate(tx, attemptId,
        QStringLiteral("state = 'closing', abandoned_at_ms = coalesce(abandoned_at_ms, ?2), next_query_at_ms = ?2, "
                       "updated_at_ms = ?2"),
        QStringLiteral("('created', 'qr_issued', 'scanned')"), [&](store::Statement &s) { s.bind(2, nowMs); });
}

bool recordAbandonAnswer(store::Transaction &tx, qint64 attemptId, const AbandonResult &result, qint64 nextQueryAtMs,
    qint64 nowMs)
{
    QString note;
    if (result.refunded)
        note = QStringLiteral("cancelled: the provider returned the payment to the payer");
    else if (result.outcome != Outcome::Ok)
        note = QStringLiteral("%1 %2: %3").arg(outcomeCode(result.outcome), result.code, result.message);
    return simpleUpdate(tx, attemptId,
        QStringLiteral("last_error = coalesce(nullif(?2, ''), last_error), next_query_at_ms = ?3, updated_at_ms = ?4"),
        QStringLiteral("('closing', 'expired_unknown')"),
        [&](store::Statement &s) { s.bind(2, note).bind(3, nextQueryAtMs).bind(4, nowMs); });
}

ApplyResult recordCancelRefunded(store::Transaction &tx, const billing::TariffBook &book, qint64 attemptId, qint64 nowMs)
{
    const std::optional<Attempt> found = findAttempt(tx.db(), attemptId);
    if (!found) {
        ApplyResult r;
        r.outcome = ApplyOutcome::UnknownAttempt;
        r.message = QStringLiteral("no QR attempt %1").arg(attemptId);
        return r;
    }
    const Attempt &attempt = *found;
    if (attempt.providerReversedAtMs > 0)
        return applied(ApplyOutcome::NoChange, attempt, QStringLiteral("the provider's refund on cancel is recorded already"));
    const QString reason = QStringLiteral("cancelled after it was paid: the provider returned the payment to the payer");
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE payment_attempts SET provider_reversed_at_ms = ?2, flagged = 1, flag_reason = ?3, "
        "state = CASE WHEN state = 'credited' THEN 'refunded' ELSE state END, updated_at_ms = ?2 WHERE id = ?1"));
    s.bind(1, attemptId).bind(2, nowMs).bind(3, reason);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return applyFailed(tx, QString());
    }
    if (attempt.state != AttemptState::Credited)
        return applied(ApplyOutcome::Updated, attempt, reason + QStringLiteral(": never credited"));
    // Credited before the cancel's answer came: the credit is undone by a compensating entry (the
    // clearing account gets the money back as the provider did), the policy looks at the balance.
    store::Statement entry = tx.prepare(
        QStringLiteral("SELECT id FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = ?1"));
    entry.bind(1, attemptId);
    if (entry.step() != store::Statement::Step::Row)
        return applyFailed(tx, QStringLiteral("attempt %1 is credited without its recharge entry").arg(attemptId));
    const qint64 entryId = entry.int64(0);
    entry.reset();
    ledger::LedgerWriter ledger(tx, nowMs);
    const ledger::PostResult reversed = ledger.reverse(entryId, QStringLiteral("cancel-refund:attempt:%1").arg(attemptId),
        reason, std::nullopt, std::nullopt, /*overdraftApproved=*/true);
    if (!reversed.ok()) {
        if (tx.error().ok())
            tx.rollback(reversed.message);
        return applyFailed(tx, reversed.message);
    }
    ApplyResult r = applied(ApplyOutcome::Updated, attempt, reason + QStringLiteral(": the credit is reversed"));
    r.entryId = reversed.entryId;
    r.commandIds = control::Controller::evaluate(
        tx, book, control::Controller::pointsOfAccounts(tx, {attempt.accountId}), nowMs);
    if (!tx.error().ok())
        return applyFailed(tx, QString());
    if (const std::optional<Money> balance = ledger.walletBalance(attempt.accountId))
        r.balance = *balance;
    return r;
}

bool recordExpiredUnknown(store::Transaction &tx, qint64 attemptId, qint64 nextQueryAtMs, qint64 nowMs)
{
    return simpleUpdate(tx, attemptId,
        QStringLiteral("state = 'expired_unknown', abandoned_at_ms = coalesce(abandoned_at_ms, ?2), "
                       "next_query_at_ms = ?3, updated_at_ms = ?2"),
        QStringLiteral("('created', 'qr_issued', 'scanned', 'closing')"),
        [&](store::Statement &s) { s.bind(2, nowMs).bind(3, nextQueryAtMs); });
}

} // namespace prepay::payments
