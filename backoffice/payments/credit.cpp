#include "credit.h"

#include "commands/command.h"
#include "commands/commandstore.h"
#include "control/controller.h"
#include "store/store.h"

namespace prepay::payments {

namespace {

CreditResult creditRefused(CreditOutcome outcome, const QString &message)
{
    CreditResult result;
    result.outcome = outcome;
    result.message = message;
    return result;
}

} // namespace

CreditResult creditAttempt(store::Transaction &tx, const billing::TariffBook &book, const CreditRequest &request,
    qint64 nowMs)
{
    // Meters that hold their own balance get the money too.
    store::Statement prepaid = tx.prepare(QStringLiteral(
        "SELECT m.id FROM account_metering_points ap "
        "JOIN meter_installations i ON i.metering_point_id = ap.metering_point_id AND i.removed_at_ms IS NULL "
        "JOIN meters m ON m.id = i.meter_id "
        "WHERE ap.account_id = ?1 AND ap.unlinked_at_ms IS NULL AND m.capability = 'prepaid' ORDER BY m.id"));
    prepaid.bind(1, request.accountId);
    QList<qint64> prepaidMeters;
    while (prepaid.step() == store::Statement::Step::Row)
        prepaidMeters << prepaid.int64(0);
    if (!prepaid.error().ok()) {
        tx.fail(prepaid.error());
        return creditRefused(CreditOutcome::StoreFailed, tx.error().toString());
    }

    ledger::LedgerWriter ledger(tx, nowMs);
    const ledger::PostResult posted = ledger.recharge(request.accountId, request.channel, request.attemptId, request.amount);
    if (posted.outcome == ledger::PostOutcome::StoreFailed)
        return creditRefused(CreditOutcome::StoreFailed, tx.error().toString());
    if (posted.outcome != ledger::PostOutcome::Posted)
        return creditRefused(CreditOutcome::Refused,
            QStringLiteral("the ledger refused the credit: %1 (%2)").arg(ledger::postOutcomeCode(posted.outcome), posted.message));
    CreditResult result;
    result.entryId = posted.entryId;

    const qint64 meters = prepaidMeters.size();
    for (qsizetype i = 0; i < prepaidMeters.size(); ++i) {
        const qint64 share = request.amount.fen() / meters + (i == 0 ? request.amount.fen() % meters : 0);
        if (share <= 0)
            continue;
        commands::CommandRequest job;
        job.meterId = prepaidMeters.at(i);
        job.kind = commands::Kind::Recharge;
        job.idempotencyKey = QStringLiteral("recharge:attempt:%1:meter:%2").arg(request.attemptId).arg(job.meterId);
        job.correlationId = request.receiptNo;
        job.cause = commands::Cause::Payment;
        job.reason = QStringLiteral("top-up %1").arg(request.receiptNo);
        job.amountFen = share;
        job.rechargeTxn = quint32(request.attemptId & 0x7fff'ffff); // the high bit marks replacement carries
        if (i == 0)
            job.ledgerEntryId = result.entryId; // the command store ties one delivery to a credit
        const commands::EnqueueResult queued = commands::CommandStore::enqueueWithin(tx, job, nowMs);
        if (queued.outcome == commands::EnqueueOutcome::StoreFailed)
            return creditRefused(CreditOutcome::StoreFailed, tx.error().toString());
        if (queued.outcome != commands::EnqueueOutcome::Queued)
            return creditRefused(CreditOutcome::Refused,
                QStringLiteral("the meter recharge: %1 (%2)").arg(commands::enqueueOutcomeCode(queued.outcome), queued.message));
        result.commandIds << queued.commandId;
    }

    result.commandIds += control::Controller::evaluate(
        tx, book, control::Controller::pointsOfAccounts(tx, {request.accountId}), nowMs);
    if (!tx.error().ok())
        return creditRefused(CreditOutcome::StoreFailed, tx.error().toString());
    result.balance = ledger.walletBalance(request.accountId).value_or(Money());
    result.outcome = CreditOutcome::Posted;
    return result;
}

} // namespace prepay::payments
