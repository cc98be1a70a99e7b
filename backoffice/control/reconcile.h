// The meter ↔ ledger reconciliation (DESIGN.md §3 "Meter-side prepaid", FEATURE-LANDSCAPE.md
// §4.2): a meter that holds its own balance must hold what we delivered to it minus what it
// deducted for the energy we charged — nothing more, nothing less. Every readings batch
// compares, for each reading of a 'prepaid' meter that carries its balance and purchase
// counters, the meter's registers with what the backoffice expects, keeps the figures in
// meter_reconciliation (one row per installation) and raises an alarm on drift: the Acrel
// recharge-count comparison, and PCMA's "every balance increase must be backed by a legal
// transaction".
//
// Baseline (where the comparison starts, once per installation):
//  - the installation's recorded counters (initial_balance_fen, initial_purchase_count,
//    initial_purchased_fen: the takeover) when the installation also recorded its initial
//    energy — then the ledger charges from that very point and every interval counts;
//  - otherwise the first reading of the installation that carries the counters (swap_held
//    ones excepted): with no initial energy the ledger starts charging at the first reading,
//    so the counters at installation would count the meter's consumption before it as drift.
//
// Expected, since the baseline:
//  - purchases = the recharge commands of the meter verified since the baseline: those whose
//    purchase sequence comes after the baseline's purchase count (mod 65536, the meter map's
//    rc_seq), so the time a command was verified does not matter. Failed and cancelled ones
//    count for nothing (if the meter applied a "failed" one anyway, that is drift);
//  - consumption = what the meter deducts for the energy the ledger charged: for every charge
//    interval of the installation after the baseline, slot energy × slot price of the interval's
//    tariff version, summed exactly (0.00001 fen) and rounded down once. The ledger's amount may
//    also hold tier adders (阶梯 surcharges, charge_intervals.breakdown "tierN" lines) and
//    standing charges, which the meter never deducts: they are left out, so a tiered tariff
//    does not look like drift. Intervals of a point without an open account are counted
//    (the meter deducted, though nobody was charged); held intervals have no energy, so the
//    meter's consumption in a held span (reset, jump) shows as drift until someone looks.
//
// Drift and tolerance:
//  - purchase_count_drift = meter's count − baseline count − recharges delivered (mod 65536,
//    signed). Recharges in flight (sent or acknowledged, not yet verified: their frame may have
//    landed) are a tolerance: 0..in_flight is fine. Outside it → 'purchase_count_drift'
//    (critical: the meter counts a purchase we never sent, or lost one we verified);
//  - balance_drift_fen = meter balance − (baseline balance + delivered − expected consumption).
//    Tolerated: −tolerance ≤ drift ≤ in-flight amount + tolerance, where tolerance = the larger
//    of kBalanceDriftFloorFen and the meter-side cost of the installation's latest charged
//    interval (rounded up) — "one interval's consumption": the meter deducts continuously at its
//    own remainder and clock (TOU boundaries), a tariff push may still be on its way, and the
//    floor keeps an idle meter's sub-fen remainder and rounding from alarming. Outside it →
//    'balance_drift' (warning).
//
// Alarms are raised on the meter (the thing a technician visits; an installation is not an
// alarm subject in the schema), one per episode (control/alarms.h), and cleared at the first
// reading back in tolerance. A purchase count the meter really has (a recharge we never sent)
// never comes back by itself: a person settles the money and then rebaselines the installation
// (rebaseline()), which takes the meter's latest reading as the new baseline and clears both
// alarms.
//
// Cost: prepared once per batch; per reading a primary-key read of the row, an index range of
// the installation's intervals past the cursor (usually one) and of the meter's recharge
// commands past the cursor (usually none: the partial index meter_commands_recharges), and one
// UPDATE. Alarms are written only on a change: the open drift alarms are read once per batch.
//
// Everything here runs inside the caller's write transaction (the readings batch).
#pragma once

#include <QtCore/QList>

namespace prepay::poller {
struct StoredReading;
}
namespace prepay::store {
class Transaction;
}

namespace prepay::control {

// A balance drift up to this is never an alarm (1.00 CNY): the meter's own sub-fen remainder
// and a reading taken mid-deduction differ by a few fen at most.
inline constexpr qint64 kBalanceDriftFloorFen = 100;
static_assert(kBalanceDriftFloorFen > 1, "the floor must cover the meter's rounding (±1 fen)");

struct ReconcileOutcome
{
    int reconciled = 0;     // readings compared
    int baselined = 0;      // installations that got their baseline now
    int balanceAlarms = 0;  // 'balance_drift' raised now
    int countAlarms = 0;    // 'purchase_count_drift' raised now
    int cleared = 0;        // drift alarms cleared now
};

// Inside the batch's transaction, after billing (it reads the intervals the batch produced).
// Readings of meters that are not 'prepaid', that carry no balance or purchase counters, or
// that are swap_held are skipped. A failed statement fails the transaction.
ReconcileOutcome reconcileBatch(store::Transaction &tx, const QList<poller::StoredReading> &readings, qint64 nowMs);

// A person settled a drift (an adjustment for a recharge sold outside the system, a replaced
// meter's balance…): the installation's latest reconciled reading becomes its new baseline,
// the drifts are zeroed and the meter's drift alarms cleared. False when the installation has no
// reconciliation row yet (nothing to rebaseline); a failed statement fails the transaction.
bool rebaseline(store::Transaction &tx, qint64 installationId, qint64 nowMs);

} // namespace prepay::control
