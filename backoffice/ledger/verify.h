// `prepayctl ledger verify`: checks the ledger contract (RELIABILITY.md §7) on a database file and
// names every violation. Read-only; runs on any connection (a reader while prepayd runs, or the
// file of a backup).
//
// What it checks (the code of each violation in brackets):
//  - append-only is still enforced: the triggers that refuse UPDATE/DELETE on the ledger and on
//    charge intervals exist                                                [schema.trigger_missing]
//  - I1: every entry has ≥ 2 postings that sum to 0; all postings sum to 0
//                                                 [I1.entry_unbalanced, I1.too_few_postings, I1.total]
//  - I2: every account's cached balance = Σ its postings                   [I2.cached_balance]
//  - every entry's stored request hash matches its content (a changed posting, link or reason
//    shows here even when it still balances)                               [entry.content_hash]
//  - I3: every paid payment attempt has exactly one credit, of its amount, from its channel's
//    clearing account; no credit for an attempt that is not paid
//                                      [I3.paid_not_credited, I3.credit_mismatch, I3.credit_not_paid]
//  - I4: every charge traces to a charge interval of the same wallet and amount; every interval
//    with an amount has its charge; per installation the intervals are contiguous (each starts
//    where the previous ended: the segment start, then reading to reading) and each one's energy
//    is the reading delta (0 when held); each point's carried remainder is below 1 fen and is the
//    remainder its last interval left
//         [I4.charge_without_interval, I4.charge_mismatch, I4.interval_not_charged, I4.interval_gap,
//          I4.interval_energy, I4.remainder]
//  - I6: a reversal flips exactly the postings of the entry it undoes, and never undoes a reversal
//                                                                           [I6.reversal]
// One reversal per entry and one credit per attempt are UNIQUE constraints of the schema; the
// checks above still catch their effects if those indexes were dropped.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::store {
class Connection;
}

namespace prepay::ledger {

struct Violation
{
    QString code;    // "I2.cached_balance"
    QString message; // for people: which row, what was expected, what was found
};

struct VerifyReport
{
    QList<Violation> violations;
    qint64 entries = 0;
    qint64 postings = 0;
    qint64 accounts = 0;
    qint64 chargeIntervals = 0;
    QString error; // the database could not be read (then the report is incomplete)
    bool ok() const { return violations.isEmpty() && error.isEmpty(); }
};

// At most `maxPerCheck` violations are listed per check (a count of the rest is added).
VerifyReport verifyLedger(store::Connection &db, int maxPerCheck = 50);

} // namespace prepay::ledger
