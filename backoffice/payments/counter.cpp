#include "counter.h"

#include "credit.h"
#include "ledger/ledger.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>

namespace prepay::payments {

namespace {

TopUpResult refused(store::Transaction &tx, TopUpOutcome outcome, const QString &message)
{
    tx.rollback(message);
    TopUpResult result;
    result.outcome = outcome;
    result.message = message;
    return result;
}

TopUpResult storeFailed(store::Transaction &tx, const store::SqlError &error)
{
    if (!error.ok())
        tx.fail(error);
    TopUpResult result;
    result.outcome = TopUpOutcome::StoreFailed;
    result.message = tx.error().toString();
    return result;
}

} // namespace

QString topUpOutcomeCode(TopUpOutcome outcome)
{
    switch (outcome) {
    case TopUpOutcome::Credited: return QStringLiteral("credited");
    case TopUpOutcome::Duplicate: return QStringLiteral("duplicate");
    case TopUpOutcome::Conflict: return QStringLiteral("conflict");
    case TopUpOutcome::NotFound: return QStringLiteral("not_found");
    case TopUpOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

TopUpResult creditCash(store::Transaction &tx, const billing::TariffBook &book, const CashTopUp &request, qint64 nowMs)
{
    store::Statement account = tx.prepare(
        QStringLiteral("SELECT id FROM accounts WHERE shop_no = ?1 AND status = 'open'"));
    account.bind(1, request.shopNo);
    if (account.step() != store::Statement::Step::Row)
        return refused(tx, TopUpOutcome::NotFound, QStringLiteral("no open account for shop %1").arg(request.shopNo));
    const qint64 accountId = account.int64(0);

    // The request's identity: a retry must be this exact sale.
    const QByteArray hash = QCryptographicHash::hash(QStringLiteral("cash;account=%1;amount=%2;operator=%3")
                                                         .arg(accountId)
                                                         .arg(request.amount.fen())
                                                         .arg(request.operatorId)
                                                         .toUtf8(),
        QCryptographicHash::Sha256);
    store::Statement earlier = tx.prepare(QStringLiteral(
        "SELECT o.id, o.request_hash, a.id, a.out_trade_no, e.id FROM topup_orders o "
        "JOIN payment_attempts a ON a.order_id = o.id "
        "LEFT JOIN ledger_entries e ON e.payment_attempt_id = a.id AND e.kind = 'recharge' "
        "WHERE o.idempotency_key = ?1"));
    earlier.bind(1, QStringLiteral("cash:") + request.idempotencyKey);
    ledger::LedgerWriter ledger(tx, nowMs);
    if (earlier.step() == store::Statement::Step::Row) {
        if (earlier.blob(1) != hash)
            return refused(tx, TopUpOutcome::Conflict,
                QStringLiteral("idempotency_key %1 was used for another top-up").arg(request.idempotencyKey));
        TopUpResult result;
        result.outcome = TopUpOutcome::Duplicate;
        result.message = QStringLiteral("this top-up was made already");
        result.accountId = accountId;
        result.orderId = earlier.int64(0);
        result.attemptId = earlier.int64(2);
        result.receiptNo = earlier.text(3);
        result.entryId = earlier.int64(4);
        result.balance = ledger.walletBalance(accountId).value_or(Money());
        return result;
    }

    store::Statement order = tx.prepare(QStringLiteral(
        "INSERT INTO topup_orders (account_id, amount_fen, idempotency_key, request_hash, operator_id, state, "
        "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'paid', ?6, ?6)"));
    order.bind(1, accountId).bind(2, request.amount.fen()).bind(3, QStringLiteral("cash:") + request.idempotencyKey);
    order.bind(4, hash).bind(5, request.operatorId).bind(6, nowMs);
    if (const store::SqlError e = order.run(); !e.ok())
        return storeFailed(tx, e);
    TopUpResult result;
    result.accountId = accountId;
    result.orderId = tx.db().lastInsertRowId();
    // The attempt's id is only known after the insert: a provisional number, then the real one.
    store::Statement attempt = tx.prepare(QStringLiteral(
        "INSERT INTO payment_attempts (order_id, channel, out_trade_no, amount_fen, state, paid_at_ms, created_at_ms, "
        "updated_at_ms) VALUES (?1, 'cash', 'CSHNEW' || ?1, ?2, 'credited', ?3, ?3, ?3)"));
    attempt.bind(1, result.orderId).bind(2, request.amount.fen()).bind(3, nowMs);
    if (const store::SqlError e = attempt.run(); !e.ok())
        return storeFailed(tx, e);
    result.attemptId = tx.db().lastInsertRowId();
    result.receiptNo = QStringLiteral("CSH%1").arg(result.attemptId, 8, 10, QLatin1Char('0'));
    store::Statement number = tx.prepare(QStringLiteral("UPDATE payment_attempts SET out_trade_no = ?2 WHERE id = ?1"));
    number.bind(1, result.attemptId).bind(2, result.receiptNo);
    if (const store::SqlError e = number.run(); !e.ok())
        return storeFailed(tx, e);

    CreditRequest credit;
    credit.accountId = accountId;
    credit.attemptId = result.attemptId;
    credit.channel = ledger::Channel::Cash;
    credit.amount = request.amount;
    credit.receiptNo = result.receiptNo;
    const CreditResult credited = creditAttempt(tx, book, credit, nowMs);
    if (credited.outcome == CreditOutcome::StoreFailed)
        return storeFailed(tx, store::SqlError());
    if (credited.outcome != CreditOutcome::Posted)
        return refused(tx, TopUpOutcome::Conflict, credited.message);
    result.entryId = credited.entryId;
    result.commandIds = credited.commandIds;
    result.balance = credited.balance;
    result.outcome = TopUpOutcome::Credited;
    result.message = QStringLiteral("%1 credited to shop %2").arg(request.amount.toDecimalString(), request.shopNo);
    return result;
}

} // namespace prepay::payments
