#include "takeover.h"

#include "ledger/ledger.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QSet>

namespace prepay::accounts {

using store::SqlError;
using store::Statement;

TakeoverReport takeOverMeterBalances(store::Transaction &tx, qint64 nowMs)
{
    TakeoverReport report;
    Statement candidates = tx.prepare(QStringLiteral(
        "SELECT i.id, a.id, i.initial_balance_fen, "
        " (SELECT o.id FROM topup_orders o WHERE o.idempotency_key = 'takeover:installation:' || i.id) "
        "FROM meter_installations i "
        "JOIN account_metering_points amp ON amp.metering_point_id = i.metering_point_id AND amp.unlinked_at_ms IS NULL "
        "JOIN accounts a ON a.id = amp.account_id AND a.status = 'open' "
        "WHERE i.removed_at_ms IS NULL AND i.initial_balance_fen > 0 "
        " AND NOT EXISTS (SELECT 1 FROM meter_installations e WHERE e.metering_point_id = i.metering_point_id "
        "                 AND e.id < i.id) "
        "ORDER BY i.id"));
    struct Candidate
    {
        qint64 installation, account, amount;
        bool done;
    };
    QList<Candidate> list;
    Statement::Step step;
    while ((step = candidates.step()) == Statement::Step::Row)
        list.append({candidates.int64(0), candidates.int64(1), candidates.int64(2), !candidates.isNull(3)});
    if (step == Statement::Step::Error) {
        tx.fail(candidates.error());
        report.problems.append(candidates.error().toString());
        return report;
    }

    ledger::LedgerWriter ledger(tx, nowMs);
    Statement order = tx.prepare(QStringLiteral(
        "INSERT INTO topup_orders (account_id, amount_fen, idempotency_key, request_hash, state, created_at_ms, "
        "updated_at_ms) VALUES (?1, ?2, ?3, ?4, 'paid', ?5, ?5)"));
    Statement attempt = tx.prepare(QStringLiteral(
        "INSERT INTO payment_attempts (order_id, channel, out_trade_no, amount_fen, state, paid_at_ms, created_at_ms, "
        "updated_at_ms) VALUES (?1, 'cash', ?2, ?3, 'credited', ?4, ?4, ?4)"));
    QSet<qint64> accounts;
    for (const Candidate &c : std::as_const(list)) {
        if (c.done) {
            ++report.alreadyCredited;
            continue;
        }
        const QString key = QStringLiteral("takeover:installation:%1").arg(c.installation);
        const QByteArray hash = QCryptographicHash::hash(
            QStringLiteral("takeover;installation=%1;account=%2;amount=%3").arg(c.installation).arg(c.account).arg(c.amount).toUtf8(),
            QCryptographicHash::Sha256);
        order.bind(1, c.account).bind(2, c.amount).bind(3, key).bind(4, hash).bind(5, nowMs);
        if (const SqlError e = order.run(); !e.ok()) {
            tx.fail(e);
            report.problems.append(e.toString());
            return report;
        }
        const qint64 orderId = tx.db().lastInsertRowId();
        attempt.bind(1, orderId).bind(2, QStringLiteral("TKO%1").arg(c.installation, 8, 10, QLatin1Char('0')));
        attempt.bind(3, c.amount).bind(4, nowMs);
        if (const SqlError e = attempt.run(); !e.ok()) {
            tx.fail(e);
            report.problems.append(e.toString());
            return report;
        }
        const ledger::PostResult posted = ledger.recharge(
            c.account, ledger::Channel::Cash, tx.db().lastInsertRowId(), Money::fromFen(c.amount));
        if (posted.outcome != ledger::PostOutcome::Posted) {
            report.problems.append(QStringLiteral("installation %1: %2 (%3)")
                                       .arg(c.installation)
                                       .arg(ledger::postOutcomeCode(posted.outcome), posted.message));
            if (posted.outcome != ledger::PostOutcome::StoreFailed)
                tx.rollback(report.problems.last());
            return report;
        }
        ++report.credited;
        report.total += Money::fromFen(c.amount);
        accounts.insert(c.account);
    }
    report.accounts = int(accounts.size());
    return report;
}

} // namespace prepay::accounts
