#include "validation.h"

#include "modbus/mapv1.h"

#include <algorithm>
#include <limits>

namespace prepay::poller {

namespace {

constexpr qint64 kRegisterRange = qint64(1) << 32; // energy registers count modulo 2^32
constexpr qint64 kWhPerUnit = meter::v1::kWhPerEnergyUnit;
constexpr qint64 kMsPerHour = 3'600'000;
// "Above 1.2 × the rated maximum" as the integer ratio 12/10, so the comparison is exact.
constexpr qint64 kJumpFactorTenths = 12;
// A register shows the energy rounded down to a unit, so a delta of n units means more than
// n − 1 units of energy: a read-back seconds after a poll may see one tick that, taken at face
// value, implies tens of kW. The plausibility tests give that one unit of rounding.
constexpr qint64 kRoundingUnits = 1;
// A counter is frozen only if the powers it reported should have moved it by this many register
// units: below that, rounding and a load that just started explain a standing register.
constexpr qint64 kFrozenMinUnits = 3;
// Each of the four slot registers and the total round down on their own, so over one interval
// the slot deltas may add up to the total delta ± 4 units, never more.
constexpr qint64 kSlotToleranceUnits = 4;

constexpr qint64 kMax = std::numeric_limits<qint64>::max();

// a × b for a, b ≥ 0, saturating: the comparisons below only need to know "very large".
qint64 mulSat(qint64 a, qint64 b)
{
    qint64 r = 0;
    return __builtin_mul_overflow(a, b, &r) ? kMax : r;
}

// Whether `units` register units over elapsedMs fit the meter: the least energy they can mean,
// (units − kRoundingUnits) × 10 Wh, over the interval is at most 1.2 × maxPowerW. Without
// division: energyWh × 3 600 000 × 10 ≤ 12 × maxPowerW × elapsedMs. The energy is at most
// 2^32 × 10 Wh, so the left side fits in 64 bits (< 1.6e18); the right side saturates.
bool plausible(qint64 units, qint64 elapsedMs, qint64 maxPowerW)
{
    const qint64 energyWh = std::max<qint64>(units - kRoundingUnits, 0) * kWhPerUnit;
    if (energyWh == 0)
        return true;
    if (elapsedMs <= 0 || maxPowerW <= 0)
        return false;
    return mulSat(energyWh, kMsPerHour * 10) <= mulSat(mulSat(maxPowerW, kJumpFactorTenths), elapsedMs);
}

qint64 impliedPowerW(qint64 deltaWh, qint64 elapsedMs)
{
    return elapsedMs > 0 ? mulSat(deltaWh, kMsPerHour) / elapsedMs : 0;
}

QString kWh(qint64 units) // register units (0.01 kWh) as "123.45 kWh"
{
    return QStringLiteral("%1.%2 kWh").arg(units / 100).arg(units % 100, 2, 10, QChar(u'0'));
}

QString duration(qint64 ms)
{
    return ms % 1000 == 0 ? QStringLiteral("%1 s").arg(ms / 1000) : QStringLiteral("%1 ms").arg(ms);
}

// Fills the slot deltas of a chargeable reading, or explains why they cannot be trusted.
void validateSlots(Validation &v, const PreviousReading &previous, const modbus::MeterSnapshot &reading,
    const MeterTarget &meter, qint64 totalUnits)
{
    v.slotDeltaWh = {};
    v.slotsMeasured = false;
    if (!meter.hasTouRegisters)
        return;
    std::array<qint64, 4> units{};
    qint64 sum = 0;
    int wrapped = -1;
    for (int i = 0; i < 4; ++i) {
        const qint64 now = (reading.slotEnergyWh[i] / kWhPerUnit) % kRegisterRange;
        const qint64 before = previous.slotRegisters[i];
        // A slot register that went backwards can only have wrapped at 2^32 (a slot is a
        // counter like the total); whether that reading is right is decided by the sum below.
        units[i] = now >= before ? now - before : kRegisterRange - before + now;
        if (now < before)
            wrapped = i;
        sum += units[i];
    }
    if (sum > totalUnits + kSlotToleranceUnits || sum < totalUnits - kSlotToleranceUnits) {
        const QString why = wrapped >= 0
            ? QStringLiteral("slot register %1 went backwards")
                  .arg(meter::v1::tariffSlotName(meter::v1::TariffSlot(wrapped)))
            : QStringLiteral("the slot registers moved %1 while the total moved %2").arg(kWh(sum), kWh(totalUnits));
        if (!v.note.isEmpty())
            v.note += QStringLiteral("; ");
        v.note += QStringLiteral("%1: slot split not measured, billing estimates it").arg(why);
        return;
    }
    for (int i = 0; i < 4; ++i)
        v.slotDeltaWh[i] = units[i] * kWhPerUnit;
    v.slotsMeasured = true;
}

} // namespace

QString validationCode(ValidationStatus status)
{
    switch (status) {
    case ValidationStatus::Valid: return QStringLiteral("valid");
    case ValidationStatus::Rollover: return QStringLiteral("rollover");
    case ValidationStatus::ResetHeld: return QStringLiteral("reset_held");
    case ValidationStatus::SwapHeld: return QStringLiteral("swap_held");
    case ValidationStatus::JumpHeld: return QStringLiteral("jump_held");
    case ValidationStatus::FrozenFlagged: return QStringLiteral("frozen_flagged");
    }
    Q_UNREACHABLE();
}

Validation validateReading(const std::optional<PreviousReading> &previous, const modbus::MeterSnapshot &reading,
    qint64 takenAtMs, const MeterTarget &meter)
{
    Validation v;

    // A reply from another meter than the installed one says nothing about this installation's
    // energy, whatever the registers show: first, and also for the first reading.
    if (reading.serialNumber && *reading.serialNumber != meter.serial) {
        v.status = ValidationStatus::SwapHeld;
        v.note = QStringLiteral("the meter reports serial %1, the installed meter is %2")
                     .arg(*reading.serialNumber)
                     .arg(meter.serial);
        return v;
    }

    if (!previous) {
        v.slotsMeasured = meter.hasTouRegisters;
        v.note = QStringLiteral("first reading of this installation: opens the segment, nothing to charge");
        return v;
    }

    const qint64 elapsedMs = takenAtMs - previous->takenAtMs;
    const qint64 before = previous->energyRegister;
    const qint64 now = reading.energyTotalRegister;

    qint64 units = now - before;
    bool wrapped = false;
    if (now < before) {
        // Backwards: a wrap at 2^32 if the energy across it fits the meter, a reset otherwise.
        const qint64 acrossWrap = kRegisterRange - before + now;
        if (!plausible(acrossWrap, elapsedMs, meter.maxPowerW)) {
            v.status = ValidationStatus::ResetHeld;
            v.note = QStringLiteral("energy went back from %1 to %2 in %3")
                         .arg(kWh(before), kWh(now), duration(elapsedMs));
            return v;
        }
        units = acrossWrap;
        wrapped = true;
    }

    const qint64 deltaWh = units * kWhPerUnit;
    if (!wrapped && !plausible(units, elapsedMs, meter.maxPowerW)) {
        v.status = ValidationStatus::JumpHeld;
        v.impliedPowerW = impliedPowerW(deltaWh, elapsedMs);
        v.note = elapsedMs <= 0
            ? QStringLiteral("energy rose by %1 with no time since the previous reading").arg(kWh(units))
            : QStringLiteral("energy rose by %1 in %2: %3 W, above 1.2 × the meter's maximum of %4 W")
                  .arg(kWh(units), duration(elapsedMs))
                  .arg(v.impliedPowerW)
                  .arg(meter.maxPowerW);
        return v;
    }

    v.deltaWh = deltaWh;
    v.impliedPowerW = impliedPowerW(deltaWh, elapsedMs);
    if (wrapped) {
        v.status = ValidationStatus::Rollover;
        v.note = QStringLiteral("the energy register wrapped at 2^32: %1 → %2, %3 across the wrap")
                     .arg(kWh(before), kWh(now), kWh(units));
    } else if (units == 0 && elapsedMs > 0 && reading.activePowerW > 0 && previous->powerW > 0) {
        // The mean of the two powers over the interval, in Wh, against kFrozenMinUnits register
        // units: (p0 + p1) / 2 × elapsed / 3 600 000 ≥ 30 Wh, multiplied out.
        const qint64 powerSum = previous->powerW + reading.activePowerW;
        if (mulSat(powerSum, elapsedMs) >= kFrozenMinUnits * kWhPerUnit * 2 * kMsPerHour) {
            v.status = ValidationStatus::FrozenFlagged;
            v.note = QStringLiteral("energy did not move in %1 while the meter reported %2 W and %3 W")
                         .arg(duration(elapsedMs))
                         .arg(previous->powerW)
                         .arg(reading.activePowerW);
        }
    }
    if (elapsedMs < 0)
        v.note = QStringLiteral("taken %1 before the previous reading (clock set back?)").arg(duration(-elapsedMs));

    validateSlots(v, *previous, reading, meter, units);
    return v;
}

} // namespace prepay::poller
