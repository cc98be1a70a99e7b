#include "counter.h"

#include "commands/command.h"
#include "commands/commandstore.h"
#include "control/controller.h"
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

    // Meters that hold their own balance get the money too.
    store::Statement prepaid = tx.prepare(QStringLiteral(
        "SELECT m.id FROM account_metering_points ap "
        "JOIN meter_installations i ON i.metering_point_id = ap.metering_point_id AND i.removed_at_ms IS NULL "
        "JOIN meters m ON m.id = i.meter_id "
        "WHERE ap.account_id = ?1 AND ap.unlinked_at_ms IS NULL AND m.capability = 'prepaid'"));
    prepaid.bind(1, accountId);
    QList<qint64> prepaidMeters;
    while (prepaid.step() == store::Statement::Step::Row)
        prepaidMeters << prepaid.int64(0);
    if (!prepaid.error().ok())
        return storeFailed(tx, prepaid.error());
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

    const ledger::PostResult posted = ledger.recharge(accountId, ledger::Channel::Cash, result.attemptId, request.amount);
    if (posted.outcome == ledger::PostOutcome::StoreFailed)
        return storeFailed(tx, store::SqlError());
    if (posted.outcome != ledger::PostOutcome::Posted)
        return refused(tx, TopUpOutcome::Conflict,
            QStringLiteral("the ledger refused the credit: %1 (%2)").arg(ledger::postOutcomeCode(posted.outcome), posted.message));
    result.entryId = posted.entryId;

    // Several meters holding their own balance share the top-up equally (the first takes the
    // odd fen): each deducts its own consumption, and the backoffice wallet decides the relay.
    const qint64 meters = prepaidMeters.size();
    for (qsizetype i = 0; i < prepaidMeters.size(); ++i) {
        const qint64 share = request.amount.fen() / meters + (i == 0 ? request.amount.fen() % meters : 0);
        if (share <= 0)
            continue;
        commands::CommandRequest job;
        job.meterId = prepaidMeters.at(i);
        job.kind = commands::Kind::Recharge;
        job.idempotencyKey = QStringLiteral("recharge:attempt:%1:meter:%2").arg(result.attemptId).arg(job.meterId);
        job.correlationId = result.receiptNo;
        job.cause = commands::Cause::Payment;
        job.reason = QStringLiteral("cash top-up %1").arg(result.receiptNo);
        job.amountFen = share;
        job.rechargeTxn = quint32(result.attemptId & 0x7fff'ffff); // the high bit marks replacement carries
        if (i == 0)
            job.ledgerEntryId = result.entryId; // the command store ties one delivery to a credit
        const commands::EnqueueResult queued = commands::CommandStore::enqueueWithin(tx, job, nowMs);
        if (queued.outcome == commands::EnqueueOutcome::StoreFailed)
            return storeFailed(tx, store::SqlError());
        if (queued.outcome != commands::EnqueueOutcome::Queued)
            return refused(tx, TopUpOutcome::Conflict,
                QStringLiteral("the meter recharge: %1 (%2)").arg(commands::enqueueOutcomeCode(queued.outcome), queued.message));
        result.commandIds << queued.commandId;
    }

    result.commandIds += control::Controller::evaluate(
        tx, book, control::Controller::pointsOfAccounts(tx, {accountId}), nowMs);
    if (!tx.error().ok())
        return storeFailed(tx, store::SqlError());
    result.balance = ledger.walletBalance(accountId).value_or(Money());
    result.outcome = TopUpOutcome::Credited;
    result.message = QStringLiteral("%1 credited to shop %2").arg(request.amount.toDecimalString(), request.shopNo);
    return result;
}

} // namespace prepay::payments
