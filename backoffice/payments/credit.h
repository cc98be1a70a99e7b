// Where a paid attempt becomes money (DESIGN.md §2 flow 2): the ONE path every channel takes —
// cash at the counter (counter.h) and the QR providers (attempts.h) alike. Inside the caller's
// write transaction: the ledger credit unique per attempt (ledger.h recharge, key
// "recharge:attempt:<id>"), the meter job of each meter that holds its own balance (a durable
// recharge command carrying its share, txn = the attempt id, at most once on the meter), and the
// control policy on the account's points (the supply restored when the balance allows).
//
// A tenant with several meters that hold their own balance: the top-up is shared equally between
// them (the first takes the odd fen); each meter deducts its own consumption and the wallet, not
// the meters, decides the relay. Meters without their own balance need no meter job.
#pragma once

#include "api/money.h"
#include "ledger/ledger.h"

#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::store {
class Transaction;
}

namespace prepay::payments {

enum class CreditOutcome {
    Posted,      // the credit and its meter jobs are written
    Refused,     // the ledger or the command store said no (message); nothing of it is usable
    StoreFailed, // SQLite refused; the transaction is failed
};

struct CreditResult
{
    CreditOutcome outcome = CreditOutcome::StoreFailed;
    QString message;
    qint64 entryId = 0;
    QList<qint64> commandIds; // meter jobs and control commands: hand them to the poller after the commit
    Money balance;            // the wallet after the credit
};

struct CreditRequest
{
    qint64 accountId = 0;
    qint64 attemptId = 0;
    ledger::Channel channel = ledger::Channel::Cash;
    Money amount;        // > 0
    QString receiptNo;   // the attempt's out_trade_no (correlation of the meter jobs)
};

CreditResult creditAttempt(store::Transaction &tx, const billing::TariffBook &book, const CreditRequest &request,
    qint64 nowMs);

} // namespace prepay::payments
