// A cash top-up at the property office's counter (DESIGN.md §2 flow 2, the cash channel): the
// same path a QR payment takes once it is paid — a top-up order and a payment attempt (channel
// cash, out_trade_no "CSH<attempt id>", state credited), the ledger credit unique per attempt
// (ledger.h recharge, key "recharge:attempt:<id>"), the meter job of a meter that holds its own
// balance (a durable recharge command carrying the amount, txn = the attempt id, at most once on
// the meter), and the control policy on the account's points (the supply restored when the
// balance allows) — all in the caller's ONE write transaction.
//
// Idempotent by the client's key: the same key with the same request answers the first sale
// again (Duplicate, nothing written); the same key with another request is a Conflict.
//
// A tenant with several meters that hold their own balance: the top-up is shared equally between
// them (the first takes the odd fen); each meter deducts its own consumption and the wallet, not
// the meters, decides the relay. Meters without their own balance need no meter job. (The QR
// payments issue may refine the split; the rule lives here only.)
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
