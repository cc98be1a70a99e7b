// Reading validation (issue 4; RELIABILITY.md T2): what a new reading of an installation says
// about the energy since the previous one, before anything may be charged for it.
//
//   valid           energy went up (or stayed, with no power): the delta is chargeable
//   rollover        the 32-bit register wrapped (2^32 × 10 Wh) and the implied power is
//                   plausible: the delta across the wrap is chargeable, exactly
//   reset_held      energy went backwards without a plausible wrap: stored, held for staff,
//                   never charged
//   swap_held       the meter's serial is not the installed one: held
//   jump_held       the implied power over the interval is above 1.2 × the meter's maximum: held
//   frozen_flagged  the counter did not move although the meter reported power that should have
//                   moved it: chargeable (zero), flagged for staff
//
// The rules, in this order (energy in register units of 10 Wh, Δ = new − previous):
//  1. a serial in the reply other than MeterTarget::serial → swap_held (also on a first reading);
//  2. no previous reading → valid, delta 0 (the reading opens the segment);
//  3. Δ < 0 → rollover when (2^32 − previous + new) over the elapsed time is plausible (below),
//     reset_held otherwise;
//  4. Δ > 0 not plausible → jump_held.
//     Plausible: the least energy Δ units can mean — registers round down, so Δ − 1 units —
//     implies at most 1.2 × maxPowerW over the interval (exactly 1.2 × is plausible; so is a
//     single tick seconds after the previous read). With no time elapsed only Δ ≤ 1 is;
//  5. Δ = 0 while both this and the previous reading report power > 0 whose mean over the
//     interval should have moved the register by ≥ 3 units (30 Wh) → frozen_flagged, else valid.
// Slots (meters with TOU registers): each slot's delta the same way (a slot that went backwards
// is read as a wrap at 2^32); if the slot deltas do not add up to Δ within ±4 units (each
// register rounds on its own), they are not trusted: all 0, slotsMeasured false, said in note.
// Integer arithmetic throughout; maxPowerW ≤ 0 makes every Δ ≠ 0 implausible.
//
// Pure function of the previous reading and the new one; no I/O. The recorder passes the last
// reading stored for the installation whatever its status, except swap_held ones: those came
// from another meter, so the next reading is compared with the last one of the installed meter.
#pragma once

#include "pollplan.h"

#include "modbus/snapshot.h"

#include <QtCore/QString>

#include <array>
#include <optional>

namespace prepay::poller {

enum class ValidationStatus {
    Valid,
    Rollover,
    ResetHeld,
    SwapHeld,
    JumpHeld,
    FrozenFlagged
};
QString validationCode(ValidationStatus status); // as stored in readings.validation

struct PreviousReading
{
    qint64 readingId = 0;
    qint64 takenAtMs = 0;
    quint32 energyRegister = 0; // 0.01 kWh units, as read
    std::array<quint32, 4> slotRegisters{};
    quint32 serial = 0;
    qint64 powerW = 0;
};

struct Validation
{
    ValidationStatus status = ValidationStatus::Valid;
    qint64 deltaWh = 0;                  // chargeable energy since the previous reading (0 when held)
    std::array<qint64, 4> slotDeltaWh{}; // the same per TOU slot (0 when the meter has no slot registers)
    // The slot deltas come from the meter's slot registers and add up to deltaWh (within the
    // registers' rounding). False when the meter has none, when they went backwards or did not
    // add up (the note says which), or when held: billing then splits deltaWh by poll time and
    // marks the interval estimated.
    bool slotsMeasured = false;
    // The power the total register's movement implies over the interval (W, rounded down); also
    // set for jump_held, to show why. 0 when no time passed, on reset_held and on swap_held.
    qint64 impliedPowerW = 0;
    QString note; // for staff: why it was held or flagged (empty when valid)
    bool chargeable() const
    {
        return status == ValidationStatus::Valid || status == ValidationStatus::Rollover
            || status == ValidationStatus::FrozenFlagged;
    }
};

// `previous` is nullopt for the first reading of an installation (nothing to compare: valid,
// delta 0).
Validation validateReading(const std::optional<PreviousReading> &previous, const modbus::MeterSnapshot &reading,
    qint64 takenAtMs, const MeterTarget &meter);

} // namespace prepay::poller
