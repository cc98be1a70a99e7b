// A cash top-up at the property office's counter (DESIGN.md §2 flow 2, the cash channel): the
// same path a QR payment takes once it is paid — a top-up order and a payment attempt (channel
// cash, out_trade_no "CSH<attempt id>", state credited), then credit.h's creditAttempt (the
// ledger credit unique per attempt, the meter jobs, the control policy) — all in the caller's
// ONE write transaction.
//
// Idempotent by the client's key: the same key with the same request answers the first sale
// again (Duplicate, nothing written); the same key with another request is a Conflict.

#pragma once

#include "api/money.h"

#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::store {
class Transaction;
}

namespace prepay::payments {

struct CashTopUp
{
    QString shopNo;
    Money amount;           // > 0
    QString idempotencyKey; // the client's
    qint64 operatorId = 0;  // the cashier
};

enum class TopUpOutcome {
    Credited,    // a new sale
    Duplicate,   // the key's earlier sale, same request: nothing written
    Conflict,    // the key was used for another request
    NotFound,    // no open account with that shop number
    StoreFailed, // SQLite refused; the transaction is failed
};
QString topUpOutcomeCode(TopUpOutcome outcome);

struct TopUpResult
{
    TopUpOutcome outcome = TopUpOutcome::StoreFailed;
    QString message;
    qint64 accountId = 0;
    qint64 orderId = 0;
    qint64 attemptId = 0;
    qint64 entryId = 0;
    QString receiptNo;        // the attempt's out_trade_no
    Money balance;            // the wallet after the credit
    QList<qint64> commandIds; // hand them to the poller after the commit
};

TopUpResult creditCash(store::Transaction &tx, const billing::TariffBook &book, const CashTopUp &request, qint64 nowMs);

} // namespace prepay::payments
