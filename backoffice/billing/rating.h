// Rating: what one charge interval of a metering point costs under one tariff version — energy
// per slot, energy per tier, money in whole fen and the sub-fen remainder carried to the next
// interval (DESIGN.md §3, FEATURE-LANDSCAPE.md §4.5). Pure functions of their arguments: no I/O,
// no clock, integers only.
//
// The rules:
//  - Slots. TOU kinds price the energy the meter's own TOU registers measured (slotsMeasured).
//    Those registers round on their own, so their sum may differ from the total delta by a few
//    units; the total is what is charged, and the measured slot energies are then scaled to it
//    (largest remainder, as below). Without measured slots (or when they are all 0 while the
//    total is not), the total is split by the time spent in each slot (splitByTime()) and the
//    result is marked estimated. Non-TOU kinds (flat, tiered) keep measured slot energies for
//    the record, and put everything in Flat otherwise; nothing is estimated there, because all
//    four prices are equal.
//  - Tiers (tiered kinds). The accumulator belongs to the metering point and the billing period
//    (never to a reading): its period is the local month (or year) of toMs, and an accumulator of
//    another period than that starts again from 0. The interval's total energy occupies
//    [acc, acc + total) of the period; the part below tier 1's bound is tier 1's, and so on.
//    A tier's adder applies to the energy in that tier, whatever its slot, so
//        cost = Σ slot energy × slot price + Σ tier energy × tier adder,
//    which is exact because the price of a Wh (slot price + its tier's adder) is linear.
//  - Money. One prepay::cost() per line with one shared Remainder, starting from the point's
//    remainder: the amount is the floor of (remainder before + Σ exact line products), so any
//    partition of a period into intervals costs exactly what one interval would, to the fen and
//    to the final remainder. Lines, in this order: the slots sharp, peak, flat, valley (energy ×
//    slot price), then the tiers ascending (energy in the tier × its adder, only where the
//    adder is > 0). Lines with 0 energy are left out.
//
// What it does not do: choose the version (the caller passes the one in force on toMs's local
// date: TariffBook::versionFor()), split an interval that spans a version change or a tier
// period change (the whole interval is priced with the version given and counted in toMs's
// period), standing charges, validate readings, or store anything.
#pragma once

#include "tariff.h"

#include "api/money.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QTimeZone>

#include <array>

namespace prepay::billing {

// The energy of one charge interval: between two readings of a metering point.
struct IntervalEnergy
{
    qint64 fromMs = 0; // the two readings' backoffice times (UTC ms)
    qint64 toMs = 0;
    qint64 totalWh = 0;             // chargeable delta (>= 0)
    std::array<qint64, 4> slotWh{}; // by Slot, as the meter's TOU registers measured it (>= 0)
    bool slotsMeasured = false;
};

// A point's tier accumulator in one period: "2026-01" (month) or "2026" (year) and the energy
// accumulated in it so far. An empty key means nothing accumulated yet.
struct TierAccumulator
{
    QString periodKey;
    qint64 energyWh = 0;
    bool operator==(const TierAccumulator &) const = default;
};

struct ChargeLine
{
    QString what; // "sharp", "peak", "flat", "valley" (slot price), or "tier1", "tier2", … (adder)
    qint64 energyWh = 0;
    Price price;      // the slot price, or the tier's adder
    qint64 units = 0; // energyWh × price exactly, in 0.00001 fen (Remainder units), before rounding
    bool operator==(const ChargeLine &) const = default;
};

struct Rated
{
    qint64 versionId = 0;
    std::array<qint64, 4> slotWh{}; // by Slot, as priced; sums to the interval's totalWh
    bool estimated = false;         // slotWh was split by time (TOU kinds without measured slots)
    Money amount;                   // whole fen to charge
    Remainder remainderAfter;       // to carry to the point's next interval
    QList<ChargeLine> lines;
    bool tiered = false;        // the version is a tiered kind (the accumulators below matter)
    TierAccumulator tierBefore; // what the interval started from, in toMs's period (0 after a reset)
    TierAccumulator tierAfter;  // to keep for the next interval; unchanged for non-tiered kinds

    // For charge_intervals.breakdown:
    //   {"version": id, "lines": [{"what": "flat", "wh": 1000, "price": "0.6500", "units": 6500000}, …],
    //    "estimated": false, "tier": {"period": "2026-01", "before_wh": 0, "after_wh": 1000}}
    // ("tier" only for tiered kinds). breakdownJson() writes it as compact JSON text directly (it
    // is stored with every interval: 10,000 a poll batch), with `extraMembers` (already encoded,
    // e.g. "\"held\":true") appended; breakdown() is that text parsed.
    QByteArray breakdownJson(QByteArrayView extraMembers = {}) const;
    QJsonObject breakdown() const;
};

Rated rate(const TariffVersion &v, const Calendar &cal, const QTimeZone &tz, const IntervalEnergy &e,
    const TierAccumulator &tierBefore, Remainder remainderBefore);

// Splits totalWh over the slots in proportion to the time spent in each between fromMs and toMs:
// local time in tz, each local date with its own day type, across midnight and any number of
// days, to the millisecond. Integer and exact: the parts sum to totalWh. Each slot gets the floor
// of its share, and the Wh left over go one each to the largest fractional remainders (ties to
// the lower slot index). toMs <= fromMs: everything to the slot in force at toMs. Non-TOU kinds:
// everything to Flat. At a daylight-saving transition (not in Asia/Shanghai) the wall-clock
// schedule is followed as Qt resolves the local times.
std::array<qint64, 4> splitByTime(
    const TariffVersion &v, const Calendar &cal, const QTimeZone &tz, qint64 fromMs, qint64 toMs, qint64 totalWh);

} // namespace prepay::billing
