// The biller: where validated readings become charges. It runs inside the recorder's batch
// transaction (poller/recorder.h, BatchHook), so a batch's readings, their charge intervals,
// their ledger charges and the billing cursors commit together or not at all (DESIGN.md §2.1).
//
// For each stored reading of a metering point, against the point's billing cursor
// (billing_state: the current installation, the last reading charged, the carried sub-fen
// remainder, the month and year energy accumulators):
//  - swap_held readings (another meter answered) are ignored: never a baseline, never charged;
//  - the first reading of an installation with no recorded initial reading opens the segment:
//    it becomes the baseline, nothing is charged;
//  - a reading held for review (reset_held, jump_held) ends a held interval: energy and amount 0,
//    and it becomes the baseline (what the held span cost is for a person to decide);
//  - any other reading is charged from the baseline (the last charged reading, or the
//    installation's initial reading): energy = the total register's delta (across a wrap at
//    2^32 units), slots = the slot registers' deltas when both readings have them; a delta of 0
//    makes no interval (the baseline stays, so the next one covers the span);
//  - the version in force on the reading's local date for the point (TariffBook::versionFor),
//    rated with the point's remainder and tier accumulator (rating.h); the account charged is the
//    point's current account if it is open (else the interval is recorded with no account and
//    amount 0, and the remainder is not touched — priced, for the record, by the tariff of the
//    last account the point had, so a vacant shop's use is never charged to the next tenant);
//  - one charge_intervals row, one ledger charge (wallet → revenue) when the amount is > 0, and
//    the cursor moved — all in the batch's transaction. A point with no tariff in force is not
//    charged and keeps its baseline (counted as unpriced and logged), so it is charged once a
//    tariff exists.
//
// Recomputing (recompute()) replays every stored interval of a point from its readings and the
// tariff versions, from a zero remainder and empty accumulators, and reports any interval whose
// stored amount, remainder, slots or version differ: history can always be explained.
//
// Thread-safety: billBatch() runs on the store's writer thread; setBook() may be called from any
// thread (a new tariff book after a tariff change; batches after it use the new one).
#pragma once

#include "tariff.h"

#include "api/money.h"

#include <QtCore/QList>
#include <QtCore/QSet>
#include <QtCore/QString>

#include <memory>
#include <mutex>

namespace prepay::poller {
struct StoredReading;
}
namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::billing {

struct BillingOutcome
{
    int intervals = 0; // charge_intervals rows written
    int charged = 0;   // of those, with a ledger charge
    int held = 0;      // held intervals
    int unbilled = 0;  // intervals of points without an open account
    int unpriced = 0;  // readings not charged: no tariff in force
    int opened = 0;    // readings that opened a segment
    Money amount;      // charged in total
    QSet<qint64> accounts; // tenant accounts charged (the control policy looks at these next)
    QSet<qint64> points;   // metering points that got an interval
};

class Biller
{
public:
    explicit Biller(std::shared_ptr<const TariffBook> book);

    void setBook(std::shared_ptr<const TariffBook> book);
    std::shared_ptr<const TariffBook> book() const;

    // Inside the batch's transaction. A ledger or SQL failure fails the transaction (tx.fail):
    // the recorder then keeps nothing of the batch and retries it later. The readings are taken
    // as the recorder stored them (StoredReading carries the row's energy columns), not read back.
    BillingOutcome billBatch(store::Transaction &tx, const QList<poller::StoredReading> &readings, qint64 nowMs);

    // Bills one reading already stored (a read-back, a manual reading), in the caller's
    // transaction; the same rules as a batch of one.
    BillingOutcome billReading(store::Transaction &tx, qint64 readingId, qint64 nowMs);

private:
    mutable std::mutex m_mutex;
    std::shared_ptr<const TariffBook> m_book;
};

// One difference between a stored interval and its recomputation.
struct RecomputeMismatch
{
    qint64 intervalId = 0;
    QString message;
};

struct RecomputeReport
{
    int intervals = 0;
    Money storedAmount;
    Money recomputedAmount;
    QList<RecomputeMismatch> mismatches;
    QString error; // the database could not be read
};

// Replays the charge intervals of one metering point (all points: pointId 0).
RecomputeReport recompute(store::Connection &db, const TariffBook &book, qint64 pointId = 0);

} // namespace prepay::billing
