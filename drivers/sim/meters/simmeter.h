// One simulated meter: the v1 map (../shared/meters/prepay-meter-map-v1.md) implemented
// exactly, as a pure state machine over simulated time. No sockets, no timers, no framing:
// the gateway and RTU servers (drivers/sim/server) hand it request PDUs and carry its answers;
// they also own every transport fault (no reply, late reply, CRC garbage, …). What lives here
// is what a meter itself does: registers, exceptions, the recharge mailbox, relay modes and
// the relay state machine, local prepaid deduction per TOU slot with the sub-fen remainder,
// alarms, overload trip and lockout, the clock, and energy from the load profile.
//
// Time only moves when advanceTo() is called (handlePdu and truth take the time too), so a
// test drives a meter through days in microseconds, and the simulator's time factor is just
// how fast its clock feeds these calls.
//
// Energy: the load is constant within each simulated minute (LoadProfile); the meter integrates
// it exactly (W·ms), in steps that end at every minute of simulated time and of its own clock,
// so each 0.01 kWh increment lands in the TOU slot of the meter-clock minute it completed in and
// is charged there with prepay::cost() (one remainder for all slots). An arrears trip happens at
// the very increment that brought the balance to −overdraft_limit; the rest of that step is dark.
//
// Where the map leaves a choice, this meter decides (and tst_simmeter pins it down):
//  - the tariff block is written whole like the mailbox: any other write touching 0x1200..0x1219
//    (FC 0x06 on tariff_version or tou_count too) is exception 0x02; version 0 is refused (0x03)
//    because it would read as "not configured"; unused TOU pairs are stored, never checked;
//  - thresholds: overload_max_trips 0 and close_policy > 1 are refused like alarm2 > alarm1;
//  - last_cmd_result: a rejected relay_mode / relay_action / force write is 9, both relay
//    actions that are accepted are 7, setting the clock is 8; the Acrel password (0x000A,
//    0..9999, else 0x03) never touches it; address and framing exceptions never do;
//  - CLOSE_PERMIT only acts while "close permit pending"; CLEAR_OVERLOAD_LOCKOUT also resets
//    overload_trip_count and a waiting overload trip;
//  - overload timing runs in AUTO only (FORCE_ON keeps the supply on; leaving AUTO forgets a
//    running delay or re-close, a lockout stays); the count reaching overload_max_trips locks
//    out at once, without the recover delay;
//  - the arrears trip is latched: it survives a forced mode and is re-evaluated on return;
//  - a recharge the i32 balance cannot hold is refused with result 5 (amount);
//  - (0x0057, 0x0058) = (0, x) means AUTO for any x; 0x0058 reads 1 only in FORCE_OFF;
//  - Block A's power registers saturate (i16 W, u16 VA); the balance register saturates at i32,
//    the 32-bit money and energy registers wrap at 2^32 (the truth never does);
//  - a meter whose clock was never set counts from 2000-01-01 (and bills by that clock);
//  - an empty request PDU gets no answer; 0x04 / 0x06 come from setDeviceFailure / setBusy.
#pragma once

#include "building.h"
#include "loadprofile.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <memory>
#include <optional>

namespace prepay::sim {

// What the meter really is right now: tests and benchmarks compare the system's view with it.
struct MeterTruth
{
    quint32 serial = 0;
    qint64 simTimeMs = 0;
    qint64 energyWh = 0;                  // exact; the registers show energyWh / 10 mod 2^32
    std::array<qint64, 4> slotEnergyWh{}; // by TariffSlot
    quint32 energyRegister = 0;           // what 0x1010 reads (0.01 kWh units)
    qint64 balanceFen = 0;
    qint64 remainderUnits = 0; // sub-fen remainder, 0.00001 fen (prepay::Remainder)
    quint16 purchaseCount = 0;
    qint64 totalPurchasedFen = 0;
    qint64 consumedMoneyFen = 0;
    quint32 lastRechargeTxn = 0;
    qint64 lastRechargeAmountFen = 0;
    meter::v1::RelayState relayState = meter::v1::RelayState::Closed;
    meter::v1::RelayMode relayMode = meter::v1::RelayMode::Auto;
    meter::v1::TripReason tripReason = meter::v1::TripReason::None;
    quint16 statusWord = 0;
    qint64 activePowerW = 0;
    quint16 tariffVersionActive = 0;
    meter::v1::CommandResult lastCommandResult = meter::v1::CommandResult::None;
    quint16 overloadTripCount = 0;
    bool frozen = false;
};

class SimMeter
{
public:
    // `seed` makes the load noise reproducible; `startSimMs` is the simulated instant the meter
    // starts at (Unix ms, UTC).
    SimMeter(const MeterSpec &spec, int utcOffsetMinutes, quint64 seed, qint64 startSimMs);
    SimMeter(SimMeter &&) noexcept;
    SimMeter &operator=(SimMeter &&) noexcept;
    ~SimMeter();

    quint8 unitId() const;
    quint32 serial() const;
    // The spec the meter was built from (after injectSwap(), with the new serial).
    const MeterSpec &spec() const;
    // What the shop draws while the relay is closed and no override is set: the kind and size
    // of the spec, noise from the seed and the meter's first serial (a swap keeps the shop).
    const LoadProfile &loadProfile() const;

    // Serves one Modbus request PDU (function code + data; no unit id, MBAP header or CRC) at
    // simulated time `simMs` (advancing to it first) and returns the response PDU: the normal
    // reply, or an exception (function | 0x80, code) per §3 "Exceptions" of the map.
    // A broadcast write is the same call; the caller just does not send the answer.
    QByteArray handlePdu(QByteArrayView request, qint64 simMs);

    // Moves the meter to `simMs` (never backwards): energy from the load profile while the
    // relay is closed, deductions per 0.01 kWh in the active TOU slot, alarms, arrears trip
    // and re-close, overload timing. Cheap to call often.
    void advanceTo(qint64 simMs);

    MeterTruth truth(qint64 simMs);

    // ---- Run-time changes from the control interface -------------------------------------
    // They act at the meter's current instant (the last simMs it was moved to).
    // Fixed load instead of the profile (nullopt: back to the profile); clamped to 0..10 MW.
    void setLoadOverride(std::optional<qint64> watts);
    // Energy counter faults, as a broken or tampered meter shows them. The truth (energyWh,
    // slotEnergyWh) keeps the real consumption; only what the registers show is broken.
    void injectCounterReset();                    // energy registers (total and slots) → 0
    void injectRollover(quint32 unitsBeforeWrap); // energy register → 2^32 − unitsBeforeWrap
    // A new meter: new serial, energy from 0, purchase count 0 — and, like a meter from stock,
    // balance, purchases, deductions and last recharge 0, relay mode AUTO, no trips (so with
    // no credit it trips for arrears at once, until the backoffice transfers the balance).
    // The installer programmed tariff, thresholds and clock; the shop's load is unchanged.
    void injectSwap(quint32 newSerial);
    // Energy registers (total and slots) stop while power > 0; the active power registers go
    // on showing the load. The meter's metrology is what froze, so nothing is deducted either.
    void setFrozen(bool frozen);
    void injectJump(qint64 wh); // the total energy register jumps by wh (in 10 Wh steps) at once
    // Every request answered with exception 0x04 (server device failure) / 0x06 (busy) while
    // set, after the function code was checked (map §3 "Exceptions").
    void setDeviceFailure(bool failing);
    void setBusy(bool busy);

private:
    struct State;
    std::unique_ptr<State> m_state; // move-only: keep meters in a std::vector
};

} // namespace prepay::sim
