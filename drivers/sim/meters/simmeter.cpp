#include "simmeter.h"

#include "api/check.h"
#include "api/money.h"
#include "noise.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace prepay::sim {

namespace v1 = meter::v1;
using v1::ClosePolicy;
using v1::CommandResult;
using v1::ExceptionCode;
using v1::RelayMode;
using v1::TariffSlot;
using v1::TripReason;

namespace {

constexpr qint64 kMsPerSecond = 1000;
constexpr qint64 kMsPerMinute = 60'000;
constexpr qint64 kMinutesPerDay = 1440;
constexpr qint64 kWmsPerWh = 3'600'000;                // W·ms in one Wh
constexpr qint64 kWhPerUnit = v1::kWhPerEnergyUnit;    // the registers count 10 Wh
constexpr qint64 kWmsPerUnit = kWmsPerWh * kWhPerUnit; // W·ms in one 0.01 kWh step
constexpr qint64 kLoadOverrideMaxW = 10'000'000;       // 10 MW: far beyond any meter
static_assert(kLoadOverrideMaxW * kMsPerMinute < std::numeric_limits<qint64>::max() / 2);
static_assert(kLoadOverrideMaxW < kWmsPerUnit, "one ms of the largest load is less than one energy step");
constexpr qint64 kUnsetClockEpochMs = 946'684'800'000; // an unset meter clock starts at 2000-01-01
constexpr quint16 kPasswordMax = 9999;
constexpr std::size_t kSlots = 4;
constexpr TariffSlot kSlotWithoutSchedule = TariffSlot::Flat; // a meter without TOU counts everything as 平

// Addresses the map names but mapv1.h's addr:: does not (Block A and the thresholds' u16s).
namespace moreAddr {
constexpr quint16 AcrelEnergySharp = 0x0002;
constexpr quint16 AcrelEnergyPeak = 0x0004;
constexpr quint16 AcrelEnergyFlat = 0x0006;
constexpr quint16 AcrelEnergyValley = 0x0008;
constexpr quint16 AcrelPassword = 0x000A;
constexpr quint16 AcrelCurrent = 0x000C;
constexpr quint16 AcrelActivePower = 0x000D;
constexpr quint16 AcrelReactivePower = 0x000E;
constexpr quint16 AcrelApparentPower = 0x000F;
constexpr quint16 VoltageB = 0x101D;
constexpr quint16 VoltageC = 0x101E;
constexpr quint16 CurrentB = 0x1020;
constexpr quint16 CurrentC = 0x1021;
constexpr quint16 TariffEnd = v1::addr::Tariff + v1::kTariffCount;             // one past tou_segments
constexpr quint16 ThresholdsEnd = v1::addr::Thresholds + v1::kThresholdsCount; // one past close_policy
constexpr quint16 MailboxEnd = v1::addr::RechargeMailbox + v1::kRechargeMailboxCount;
} // namespace moreAddr

// The writable registers fall into groups separated by holes or read-only registers, so one
// write request always lands in exactly one group; each group has its own rules.
enum class Group {
    Password,
    Force,
    Mailbox,
    Relay,
    Tariff,
    Thresholds,
    Clock
};

Group groupOf(quint16 address)
{
    if (address == moreAddr::AcrelPassword)
        return Group::Password;
    if (address == v1::addr::AcrelForceEnable || address == v1::addr::AcrelForceState)
        return Group::Force;
    if (address >= v1::addr::RechargeMailbox && address < moreAddr::MailboxEnd)
        return Group::Mailbox;
    if (address == v1::addr::RelayMode || address == v1::addr::RelayAction)
        return Group::Relay;
    if (address >= v1::addr::Tariff && address < moreAddr::TariffEnd)
        return Group::Tariff;
    if (address >= v1::addr::Thresholds && address < moreAddr::ThresholdsEnd)
        return Group::Thresholds;
    PREPAY_CHECK(address == v1::addr::SetTime || address == v1::addr::SetTime + 1);
    return Group::Clock;
}

QByteArray exceptionPdu(quint8 function, ExceptionCode code)
{
    QByteArray pdu;
    pdu.append(char(function | 0x80));
    pdu.append(char(code));
    return pdu;
}

quint16 be16(QByteArrayView bytes, qsizetype at)
{
    return quint16((quint8(bytes[at]) << 8) | quint8(bytes[at + 1]));
}

void appendBe16(QByteArray &out, quint16 v)
{
    out.append(char(v >> 8));
    out.append(char(v & 0xFF));
}

quint16 saturateI16(qint64 v)
{
    return quint16(
        qint16(std::clamp<qint64>(v, std::numeric_limits<qint16>::min(), std::numeric_limits<qint16>::max())));
}

quint32 saturateI32(qint64 v)
{
    return quint32(
        qint32(std::clamp<qint64>(v, std::numeric_limits<qint32>::min(), std::numeric_limits<qint32>::max())));
}

quint16 saturateU16(qint64 v)
{
    return quint16(std::clamp<qint64>(v, 0, 0xFFFF));
}

// Typical power factors: motors in cold stores, switched-mode supplies on standby.
double basePowerFactor(LoadProfileKind kind)
{
    switch (kind) {
    case LoadProfileKind::Restaurant: return 0.93;
    case LoadProfileKind::Retail: return 0.95;
    case LoadProfileKind::Office: return 0.92;
    case LoadProfileKind::ColdStore: return 0.86;
    case LoadProfileKind::Idle: return 0.70;
    }
    Q_UNREACHABLE();
}

// What the measuring part of the meter shows at one instant (rounded to register units).
struct Measurement
{
    qint64 powerW = 0;
    std::array<quint16, 3> voltageDv{}; // 0.1 V
    std::array<quint16, 3> currentCa{}; // 0.01 A
    qint16 powerFactorMilli = 1000;
    quint16 frequencyCHz = 5000; // 0.01 Hz
    qint64 reactiveVar = 0;
    qint64 apparentVa = 0;
};

} // namespace

struct SimMeter::State
{
    State(const MeterSpec &meterSpec, int utcOffset, quint64 seedValue, qint64 startSimMs);

    // ---- Identity and environment -----------------------------------------------------------
    MeterSpec spec; // as built; serial follows a swap
    int utcOffsetMinutes;
    quint64 shopSeed; // the building seed mixed with the first serial: this shop's own noise
    LoadProfile profile;
    qint64 nowMs;

    // ---- Energy: the truth, and what the registers add to it (faults) ------------------------
    qint64 energyUnits = 0; // whole 0.01 kWh
    qint64 accWms = 0;      // towards the next 0.01 kWh, [0, kWmsPerUnit)
    std::array<qint64, kSlots> slotUnits{};
    qint64 totalOffset = 0; // register = truth + offset (mod 2^32)
    std::array<qint64, kSlots> slotOffset{};
    bool frozen = false;

    // ---- Money (prepaid meters) --------------------------------------------------------------
    qint64 initialFen = 0; // balance before the first purchase this meter knows of
    qint64 balanceFen = 0;
    qint64 totalPurchasedFen = 0;
    qint64 consumedFen = 0;
    Remainder remainder;
    quint16 purchaseCount = 0;
    qint64 lastRechargeAmountFen = 0;
    quint32 lastRechargeTxn = 0;

    // ---- Relay ---------------------------------------------------------------------------------
    RelayMode mode = RelayMode::Auto;
    bool arrearsTripped = false; // latched in AUTO until balance > 0 (and the permit, policy 1)
    bool closePermitPending = false;
    bool overloadTripped = false; // waiting for the automatic re-close
    qint64 overloadTrippedAtMs = 0;
    bool overloadLockout = false;
    quint16 overloadTripCount = 0;
    std::optional<qint64> overloadAboveSinceMs;

    // ---- Parameters ----------------------------------------------------------------------------
    std::array<quint32, kSlots> prices{};
    quint16 tariffVersion = 0; // 0x1208 and 0x1024: the accepted block's version
    quint16 touCount = 0;
    std::array<quint16, 16> touRegisters{};
    ThresholdSpec thresholds;
    quint16 password = 0;
    qint64 clockOffsetMs = 0; // meter clock = simulated time + offset
    bool clockSet = true;
    CommandResult lastResult = CommandResult::None;

    std::optional<qint64> loadOverrideW;
    bool deviceFailure = false;
    bool busy = false;

    // ---- Time ----------------------------------------------------------------------------------
    void advanceTo(qint64 targetMs);
    qint64 integrate(qint64 fromMs, qint64 toMs, qint64 powerW);
    void addUnit(TariffSlot slot);
    void settle();
    void evaluateArrears();
    void evaluateOverload();
    std::optional<qint64> nextOverloadEventMs() const;

    qint64 demandW() const;
    bool relayClosed() const;
    TripReason tripReason() const;
    quint16 statusWord() const;
    qint64 meterMs() const { return nowMs + clockOffsetMs; }
    TariffSlot slotNow() const;
    void checkInvariant() const;

    // ---- Registers -----------------------------------------------------------------------------
    bool exists(const v1::Field &field) const { return spec.prepaid || field.block == 'A'; }
    Measurement measure() const;
    quint16 registerAt(quint16 address, const Measurement &m) const;
    quint32 energyRegister() const { return quint32(energyUnits + totalOffset); }
    quint32 slotRegister(TariffSlot slot) const;

    QByteArray read(QByteArrayView request);
    QByteArray writeSingle(QByteArrayView request);
    QByteArray writeMultiple(QByteArrayView request);
    std::optional<ExceptionCode> checkWriteRange(quint32 start, quint32 count) const;
    std::optional<ExceptionCode> write(quint16 start, const QList<quint16> &values);
    std::optional<ExceptionCode> writeForce(quint16 enable, quint16 state);
    std::optional<ExceptionCode> writeRelay(quint16 start, const QList<quint16> &values);
    std::optional<ExceptionCode> recharge(const QList<quint16> &values);
    std::optional<ExceptionCode> writeTariff(const QList<quint16> &values);
    std::optional<ExceptionCode> writeThresholds(quint16 start, const QList<quint16> &values);
    void setMode(RelayMode newMode);
    void reset(quint32 newSerial);
};

SimMeter::State::State(const MeterSpec &meterSpec, int utcOffset, quint64 seedValue, qint64 startSimMs)
    : spec(meterSpec)
    , utcOffsetMinutes(utcOffset)
    , shopSeed(noise::mix(seedValue ^ noise::mix(meterSpec.serial)))
    , profile(meterSpec.profile,
          LoadProfile::defaultPeakW(meterSpec.profile, meterSpec.deviceType, meterSpec.maxCurrentMa), shopSeed,
          utcOffset)
    , nowMs(startSimMs)
{
    PREPAY_CHECK(meterSpec.energyWh >= 0);
    energyUnits = meterSpec.energyWh / kWhPerUnit;
    accWms = meterSpec.energyWh % kWhPerUnit * kWmsPerWh;
    // The spec only knows the total; the slots start from a typical commercial split (尖 10 %,
    // 峰 30 %, 平 40 %, 谷 the rest), so that they add up to the total from the first read.
    slotUnits[0] = energyUnits * 10 / 100;
    slotUnits[1] = energyUnits * 30 / 100;
    slotUnits[2] = energyUnits * 40 / 100;
    slotUnits[3] = energyUnits - slotUnits[0] - slotUnits[1] - slotUnits[2];

    if (spec.prepaid) {
        balanceFen = spec.balanceFen;
        totalPurchasedFen = spec.totalPurchasedFen;
        initialFen = checked::sub(balanceFen, totalPurchasedFen);
        purchaseCount = spec.purchaseCount;
    }
    mode = spec.relayMode;

    // Version 0 is "not configured": no prices, no schedule, whatever else the spec carries.
    if (spec.tariff.version != 0) {
        prices = spec.tariff.prices;
        tariffVersion = spec.tariff.version;
        touCount = quint16(std::min<qsizetype>(spec.tariff.segments.size(), v1::kTouSegmentsMax));
        for (int i = 0; i < touCount; ++i) {
            touRegisters[2 * i] = spec.tariff.segments[i].first;
            touRegisters[2 * i + 1] = quint16(spec.tariff.segments[i].second);
        }
    }
    thresholds = spec.thresholds;
    clockSet = spec.clockSet;
    clockOffsetMs = clockSet ? 0 : kUnsetClockEpochMs - startSimMs;
    settle();
}

// ---- Time ----------------------------------------------------------------------------------------

void SimMeter::State::advanceTo(qint64 targetMs)
{
    // Steps end at every minute boundary of simulated time (the load profile changes there) and
    // of the meter's clock (the TOU slot changes there) while power can flow, and at every
    // overload deadline, so within a step both the power and the slot are constant and the
    // integral is exact.
    while (nowMs < targetMs) {
        settle();
        const bool closed = relayClosed();
        qint64 endMs = targetMs;
        if (closed) {
            endMs = std::min(endMs, (noise::floorDiv(nowMs, kMsPerMinute) + 1) * kMsPerMinute);
            endMs = std::min(endMs, (noise::floorDiv(meterMs(), kMsPerMinute) + 1) * kMsPerMinute - clockOffsetMs);
        }
        if (const std::optional<qint64> event = nextOverloadEventMs(); event && *event > nowMs)
            endMs = std::min(endMs, *event);
        PREPAY_CHECK(endMs > nowMs);
        nowMs = integrate(nowMs, endMs, closed ? demandW() : 0);
    }
    settle();
}

// Integrates a constant power over [fromMs, toMs) and counts every completed 0.01 kWh. If one
// of them trips the relay for arrears, the step ends at the millisecond that increment
// completed (the rest of it is dark) and that instant is returned; otherwise toMs.
qint64 SimMeter::State::integrate(qint64 fromMs, qint64 toMs, qint64 powerW)
{
    if (powerW <= 0)
        return toMs;
    const TariffSlot slot = slotNow();
    const qint64 before = accWms;
    const qint64 total = checked::add(before, checked::mul(powerW, toMs - fromMs));
    const qint64 units = total / kWmsPerUnit;
    for (qint64 k = 1; k <= units; ++k) {
        addUnit(slot);
        if (!relayClosed()) {
            const qint64 needed = k * kWmsPerUnit - before; // > 0: before < one unit
            const qint64 elapsedMs = (needed + powerW - 1) / powerW;
            accWms = before + powerW * elapsedMs - k * kWmsPerUnit;
            PREPAY_CHECK(accWms >= 0 && accWms < kWmsPerUnit);
            return fromMs + elapsedMs;
        }
    }
    accWms = total - units * kWmsPerUnit;
    return toMs;
}

// One 0.01 kWh increment in `slot`: counted, and (prepaid, not frozen) charged at the slot's
// price through cost(), whose remainder carries the sub-fen part to the next increment.
void SimMeter::State::addUnit(TariffSlot slot)
{
    const auto i = std::size_t(slot);
    ++energyUnits;
    ++slotUnits[i];
    if (frozen) {
        --totalOffset;
        --slotOffset[i];
        return;
    }
    if (!spec.prepaid)
        return;
    const Money fen = cost(Energy::fromWh(kWhPerUnit), Price::fromTenThousandthYuan(prices[i]), remainder);
    balanceFen = checked::sub(balanceFen, fen.fen());
    consumedFen = checked::add(consumedFen, fen.fen());
    checkInvariant();
    evaluateArrears();
}

void SimMeter::State::checkInvariant() const
{
    // map §3 "Billing": balance = initial + total_purchased − consumed_money_total, always.
    PREPAY_CHECK(balanceFen == initialFen + totalPurchasedFen - consumedFen);
    PREPAY_CHECK(remainder.units >= 0 && remainder.units < Remainder::kUnitsPerFen);
}

void SimMeter::State::settle()
{
    evaluateArrears();
    evaluateOverload();
}

void SimMeter::State::evaluateArrears()
{
    if (!spec.prepaid || mode != RelayMode::Auto)
        return;
    if (balanceFen <= -qint64(thresholds.overdraftLimitFen)) {
        arrearsTripped = true;
        closePermitPending = false;
    } else if (arrearsTripped && balanceFen > 0) {
        if (thresholds.closePolicy == ClosePolicy::AutoClose) {
            arrearsTripped = false;
            closePermitPending = false;
        } else {
            closePermitPending = true;
        }
    }
}

void SimMeter::State::evaluateOverload()
{
    if (!spec.prepaid || mode != RelayMode::Auto) {
        overloadTripped = false;
        overloadAboveSinceMs.reset();
        return;
    }
    if (overloadLockout) {
        overloadAboveSinceMs.reset();
        return;
    }
    if (overloadTripped) {
        if (nowMs - overloadTrippedAtMs < qint64(thresholds.overloadRecoverDelayS) * kMsPerSecond)
            return;
        overloadTripped = false; // re-close; the load decides below whether the timer restarts
    }
    if (arrearsTripped || thresholds.overloadLimitW == 0 || demandW() <= qint64(thresholds.overloadLimitW)) {
        overloadAboveSinceMs.reset();
        return;
    }
    if (!overloadAboveSinceMs)
        overloadAboveSinceMs = nowMs;
    if (nowMs - *overloadAboveSinceMs < qint64(thresholds.overloadDelayS) * kMsPerSecond)
        return;
    overloadAboveSinceMs.reset();
    overloadTripCount = quint16(std::min<int>(overloadTripCount + 1, 0xFFFF));
    if (overloadTripCount >= thresholds.overloadMaxTrips) {
        overloadLockout = true;
    } else {
        overloadTripped = true;
        overloadTrippedAtMs = nowMs;
    }
}

std::optional<qint64> SimMeter::State::nextOverloadEventMs() const
{
    if (overloadTripped)
        return overloadTrippedAtMs + qint64(thresholds.overloadRecoverDelayS) * kMsPerSecond;
    if (overloadAboveSinceMs)
        return *overloadAboveSinceMs + qint64(thresholds.overloadDelayS) * kMsPerSecond;
    return std::nullopt;
}

qint64 SimMeter::State::demandW() const
{
    return loadOverrideW ? *loadOverrideW : profile.powerW(nowMs);
}

bool SimMeter::State::relayClosed() const
{
    switch (mode) {
    case RelayMode::ForceOn: return true;
    case RelayMode::ForceOff: return false;
    case RelayMode::Auto: break;
    }
    return !spec.prepaid || (!arrearsTripped && !overloadTripped && !overloadLockout);
}

TripReason SimMeter::State::tripReason() const
{
    if (relayClosed())
        return TripReason::None;
    if (mode == RelayMode::ForceOff)
        return TripReason::ForcedOff;
    return arrearsTripped ? TripReason::Arrears : TripReason::Overload;
}

quint16 SimMeter::State::statusWord() const
{
    namespace st = v1::status;
    quint16 word = 0;
    const auto set = [&word](bool on, quint16 bit) {
        if (on)
            word |= bit;
    };
    set(!relayClosed(), st::RelayOpen);
    set(mode != RelayMode::Auto, st::Forced);
    if (spec.prepaid) {
        set(mode == RelayMode::Auto && arrearsTripped, st::ArrearsTrip);
        set(balanceFen <= qint64(thresholds.alarm1Fen), st::Alarm1);
        set(balanceFen <= qint64(thresholds.alarm2Fen), st::Alarm2);
        set(balanceFen < 0, st::Overdraft);
        set(overloadTripped, st::OverloadTrip);
        set(overloadLockout, st::OverloadLockout);
        set(closePermitPending, st::ClosePermitPending);
        set(tariffVersion == 0, st::TariffNotConfigured);
    }
    set(!clockSet, st::ClockNotSet);
    return word;
}

TariffSlot SimMeter::State::slotNow() const
{
    const qint64 minuteOfDay
        = noise::floorMod(noise::floorDiv(meterMs(), kMsPerMinute) + utcOffsetMinutes, kMinutesPerDay);
    TariffSlot slot = kSlotWithoutSchedule;
    for (int i = 0; i < touCount; ++i) {
        if (touRegisters[2 * i] > minuteOfDay)
            break;
        slot = TariffSlot(touRegisters[2 * i + 1]);
    }
    return slot;
}

// ---- Registers -------------------------------------------------------------------------------------

quint32 SimMeter::State::slotRegister(TariffSlot slot) const
{
    if (!spec.hasTouRegisters)
        return 0;
    const auto i = std::size_t(slot);
    return quint32(slotUnits[i] + slotOffset[i]);
}

Measurement SimMeter::State::measure() const
{
    // Slow drifts (half-hour knots) and a little flicker, from the shop's seed and the minute:
    // plausible to the eye, identical on every replay.
    const qint64 minute = noise::floorDiv(nowMs, kMsPerMinute);
    const bool threePhase = spec.deviceType == v1::DeviceType::ThreePhase;
    const int phases = threePhase ? 3 : 1;
    Measurement m;
    m.powerW = relayClosed() ? demandW() : 0;

    std::array<double, 3> volts{};
    for (int p = 0; p < phases; ++p) {
        volts[p]
            = 220.0 + 2.5 * noise::smooth(shopSeed, 10 + p, minute, 30) + 0.3 * noise::unit(shopSeed, 20 + p, minute);
        m.voltageDv[p] = saturateU16(std::llround(volts[p] * 10));
    }
    m.frequencyCHz = quint16(5000 + std::lround(4.0 * noise::smooth(shopSeed, 30, minute, 30)));
    if (m.powerW == 0)
        return m; // no load: no current, power factor reads 1.000
    const double pf
        = std::clamp(basePowerFactor(spec.profile) + 0.015 * noise::smooth(shopSeed, 40, minute, 30), 0.5, 1.0);
    m.powerFactorMilli = qint16(std::lround(pf * 1000));
    std::array<double, 3> share{1.0, 0.0, 0.0};
    if (threePhase) {
        share[0] = 1.0 / 3 + 0.02 * noise::smooth(shopSeed, 50, minute, 60);
        share[1] = 1.0 / 3 + 0.02 * noise::smooth(shopSeed, 51, minute, 60);
        share[2] = 1.0 - share[0] - share[1];
    }
    for (int p = 0; p < phases; ++p) {
        const double amps = double(m.powerW) * share[p] / (volts[p] * pf);
        m.currentCa[p] = saturateU16(std::llround(amps * 100));
    }
    m.apparentVa = std::llround(double(m.powerW) / pf);
    m.reactiveVar = std::llround(double(m.powerW) * std::sqrt(1.0 - pf * pf) / pf);
    return m;
}

quint16 SimMeter::State::registerAt(quint16 address, const Measurement &m) const
{
    const v1::Field *field = v1::fieldAt(address);
    PREPAY_CHECK(field);
    if (field->address == v1::addr::TouSegments)
        return touRegisters[address - field->address];

    namespace ad = v1::addr;
    quint32 value = 0;
    switch (field->address) {
    case ad::AcrelEnergyTotal:
    case ad::EnergyTotal: value = energyRegister(); break;
    case moreAddr::AcrelEnergySharp:
    case ad::EnergySharp: value = slotRegister(TariffSlot::Sharp); break;
    case moreAddr::AcrelEnergyPeak:
    case ad::EnergyPeak: value = slotRegister(TariffSlot::Peak); break;
    case moreAddr::AcrelEnergyFlat:
    case ad::EnergyFlat: value = slotRegister(TariffSlot::Flat); break;
    case moreAddr::AcrelEnergyValley:
    case ad::EnergyValley: value = slotRegister(TariffSlot::Valley); break;
    case moreAddr::AcrelPassword: value = password; break;
    case ad::AcrelVoltage:
    case ad::VoltageA: value = m.voltageDv[0]; break;
    case moreAddr::AcrelCurrent:
    case ad::CurrentA: value = m.currentCa[0]; break;
    case moreAddr::AcrelActivePower: value = saturateI16(m.powerW); break; // 0.001 kW = 1 W
    case moreAddr::AcrelReactivePower: value = saturateI16(m.reactiveVar); break;
    case moreAddr::AcrelApparentPower: value = saturateU16(m.apparentVa); break;
    case ad::AcrelPowerFactor:
    case ad::PowerFactor: value = quint16(m.powerFactorMilli); break;
    case ad::AcrelForceEnable: value = mode == RelayMode::Auto ? 0 : 1; break;
    case ad::AcrelForceState: value = mode == RelayMode::ForceOff ? 1 : 0; break;
    case ad::MapVersion: value = v1::kMapVersion; break;
    case ad::DeviceType: value = quint16(spec.deviceType); break;
    case ad::SerialNumber: value = spec.serial; break;
    case ad::StatusWord: value = statusWord(); break;
    case ad::RelayState: value = quint16(relayClosed() ? v1::RelayState::Closed : v1::RelayState::Open); break;
    case ad::TripReason: value = quint16(tripReason()); break;
    case ad::PurchaseCount: value = purchaseCount; break;
    case ad::Balance: value = saturateI32(balanceFen); break;
    case ad::TotalPurchased: value = quint32(totalPurchasedFen); break;
    case ad::LastRechargeAmount: value = quint32(lastRechargeAmountFen); break;
    case ad::LastRechargeTxn: value = lastRechargeTxn; break;
    case ad::ActivePowerTotal: value = saturateI32(m.powerW); break;
    case moreAddr::VoltageB: value = m.voltageDv[1]; break;
    case moreAddr::VoltageC: value = m.voltageDv[2]; break;
    case moreAddr::CurrentB: value = m.currentCa[1]; break;
    case moreAddr::CurrentC: value = m.currentCa[2]; break;
    case ad::Frequency: value = m.frequencyCHz; break;
    case ad::TariffVersionActive:
    case ad::TariffVersion: value = tariffVersion; break;
    case ad::CurrentTariffIndex: value = quint16(slotNow()); break;
    case ad::MeterTime:
    case ad::SetTime: value = quint32(noise::floorDiv(meterMs(), kMsPerSecond)); break;
    case ad::LastCmdResult: value = quint16(lastResult); break;
    case ad::RelayMode: value = quint16(mode); break;
    case ad::OverloadTripCount: value = overloadTripCount; break;
    case ad::ConsumedMoneyTotal: value = quint32(consumedFen); break;
    case ad::Tariff: value = prices[0]; break;
    case ad::Tariff + 2: value = prices[1]; break;
    case ad::Tariff + 4: value = prices[2]; break;
    case ad::Tariff + 6: value = prices[3]; break;
    case ad::TouCount: value = touCount; break;
    case ad::Alarm1Threshold: value = thresholds.alarm1Fen; break;
    case ad::Alarm2Threshold: value = thresholds.alarm2Fen; break;
    case ad::OverdraftLimit: value = thresholds.overdraftLimitFen; break;
    case ad::OverloadLimit: value = thresholds.overloadLimitW; break;
    case ad::OverloadDelay: value = thresholds.overloadDelayS; break;
    case ad::OverloadRecoverDelay: value = thresholds.overloadRecoverDelayS; break;
    case ad::OverloadMaxTrips: value = thresholds.overloadMaxTrips; break;
    case ad::ClosePolicy: value = quint16(thresholds.closePolicy); break;
    default: value = 0; break; // reserved_b, the mailbox and relay_action (write-only) read 0
    }
    if (field->count == 2)
        return address == field->address ? v1::high(value) : v1::low(value);
    return quint16(value);
}

QByteArray SimMeter::State::read(QByteArrayView request)
{
    const quint8 fc = v1::ReadHoldingRegisters;
    if (request.size() != 5)
        return exceptionPdu(fc, ExceptionCode::IllegalDataValue);
    const quint32 start = be16(request, 1);
    const quint32 count = be16(request, 3);
    if (count < 1 || count > quint32(v1::kReadQuantityMax))
        return exceptionPdu(fc, ExceptionCode::IllegalDataValue);
    if (start + count > 0x10000)
        return exceptionPdu(fc, ExceptionCode::IllegalDataAddress);
    for (quint32 address = start; address < start + count; ++address) {
        const v1::Field *field = v1::fieldAt(quint16(address));
        if (!field || !exists(*field))
            return exceptionPdu(fc, ExceptionCode::IllegalDataAddress);
    }
    const Measurement m = measure();
    QByteArray reply;
    reply.append(char(fc));
    reply.append(char(count * 2));
    for (quint32 address = start; address < start + count; ++address)
        appendBe16(reply, registerAt(quint16(address), m));
    return reply;
}

// Address rules of a write (exception 0x02), before any value is looked at: every register
// defined, present on this meter and writable; no 32-bit value cut in half; the mailbox and
// the tariff block whole; the two Acrel force registers together.
std::optional<ExceptionCode> SimMeter::State::checkWriteRange(quint32 start, quint32 count) const
{
    const quint32 end = start + count; // one past
    if (end > 0x10000)
        return ExceptionCode::IllegalDataAddress;
    for (quint32 address = start; address < end; ++address) {
        const v1::Field *field = v1::fieldAt(quint16(address));
        if (!field || !exists(*field) || field->access == v1::Access::ReadOnly)
            return ExceptionCode::IllegalDataAddress;
    }
    const v1::Field *first = v1::fieldAt(quint16(start));
    const v1::Field *last = v1::fieldAt(quint16(end - 1));
    if (first->count == 2 && start != first->address)
        return ExceptionCode::IllegalDataAddress;
    if (last->count == 2 && end - 1 != quint32(last->address + 1))
        return ExceptionCode::IllegalDataAddress;
    const Group group = groupOf(quint16(start));
    PREPAY_CHECK(groupOf(quint16(end - 1)) == group); // holes and read-only registers separate them
    switch (group) {
    case Group::Force:
        if (start != v1::addr::AcrelForceEnable || count != 2)
            return ExceptionCode::IllegalDataAddress;
        break;
    case Group::Mailbox:
        if (start != v1::addr::RechargeMailbox || count != quint32(v1::kRechargeMailboxCount))
            return ExceptionCode::IllegalDataAddress;
        break;
    case Group::Tariff:
        if (start != v1::addr::Tariff || count != quint32(v1::kTariffCount))
            return ExceptionCode::IllegalDataAddress;
        break;
    case Group::Password:
    case Group::Relay:
    case Group::Thresholds:
    case Group::Clock: break;
    }
    return std::nullopt;
}

QByteArray SimMeter::State::writeSingle(QByteArrayView request)
{
    const quint8 fc = v1::WriteSingleRegister;
    if (request.size() != 5)
        return exceptionPdu(fc, ExceptionCode::IllegalDataValue);
    const quint16 address = be16(request, 1);
    if (const auto error = checkWriteRange(address, 1))
        return exceptionPdu(fc, *error);
    if (const auto error = write(address, {be16(request, 3)}))
        return exceptionPdu(fc, *error);
    return request.toByteArray(); // FC 0x06 answers with an echo of the request
}

QByteArray SimMeter::State::writeMultiple(QByteArrayView request)
{
    const quint8 fc = v1::WriteMultipleRegisters;
    if (request.size() < 6)
        return exceptionPdu(fc, ExceptionCode::IllegalDataValue);
    const quint16 start = be16(request, 1);
    const quint32 count = be16(request, 3);
    const quint32 byteCount = quint8(request[5]);
    if (count < 1 || count > quint32(v1::kWriteQuantityMax) || byteCount != count * 2
        || quint32(request.size()) != 6 + byteCount)
        return exceptionPdu(fc, ExceptionCode::IllegalDataValue);
    if (const auto error = checkWriteRange(start, count))
        return exceptionPdu(fc, *error);
    QList<quint16> values;
    values.reserve(count);
    for (quint32 i = 0; i < count; ++i)
        values.append(be16(request, 6 + 2 * i));
    if (const auto error = write(start, values))
        return exceptionPdu(fc, *error);
    QByteArray reply;
    reply.append(char(fc));
    appendBe16(reply, start);
    appendBe16(reply, quint16(count));
    return reply;
}

// Applies a write whose addresses checkWriteRange() accepted; exception 0x03 when a value is
// not valid, and then nothing of the write is kept.
std::optional<ExceptionCode> SimMeter::State::write(quint16 start, const QList<quint16> &values)
{
    std::optional<ExceptionCode> error;
    switch (groupOf(start)) {
    case Group::Password:
        // Acrel's password: stored, no effect, not one of our commands (last_cmd_result stays).
        if (values[0] > kPasswordMax)
            return ExceptionCode::IllegalDataValue;
        password = values[0];
        break;
    case Group::Force: error = writeForce(values[0], values[1]); break;
    case Group::Mailbox: error = recharge(values); break;
    case Group::Relay: error = writeRelay(start, values); break;
    case Group::Tariff: error = writeTariff(values); break;
    case Group::Thresholds: error = writeThresholds(start, values); break;
    case Group::Clock:
        clockOffsetMs = qint64(v1::u32(values[0], values[1])) * kMsPerSecond - nowMs;
        clockSet = true;
        lastResult = CommandResult::ParametersUpdated;
        break;
    }
    settle(); // a command acts at once: close after a recharge, trip after a lower limit, …
    return error;
}

std::optional<ExceptionCode> SimMeter::State::writeForce(quint16 enable, quint16 state)
{
    // (0, x) → AUTO; (1, 0) → FORCE_ON; (1, 1) → FORCE_OFF.
    if (enable > 1 || (enable == 1 && state > 1)) {
        lastResult = CommandResult::ParametersRejected;
        return ExceptionCode::IllegalDataValue;
    }
    setMode(enable == 0 ? RelayMode::Auto : state == 0 ? RelayMode::ForceOn : RelayMode::ForceOff);
    lastResult = CommandResult::RelayModeSet;
    return std::nullopt;
}

std::optional<ExceptionCode> SimMeter::State::writeRelay(quint16 start, const QList<quint16> &values)
{
    std::optional<quint16> newMode;
    std::optional<quint16> action;
    for (int i = 0; i < values.size(); ++i)
        (start + i == v1::addr::RelayMode ? newMode : action) = values[i];
    if ((newMode && *newMode > quint16(RelayMode::ForceOff))
        || (action && *action != quint16(v1::RelayAction::ClosePermit)
            && *action != quint16(v1::RelayAction::ClearOverloadLockout))) {
        lastResult = CommandResult::ParametersRejected;
        return ExceptionCode::IllegalDataValue;
    }
    if (newMode) {
        setMode(RelayMode(*newMode));
        lastResult = CommandResult::RelayModeSet;
    }
    if (action == quint16(v1::RelayAction::ClosePermit)) {
        if (closePermitPending) {
            arrearsTripped = false;
            closePermitPending = false;
        }
        lastResult = CommandResult::ClosePermitAccepted;
    } else if (action == quint16(v1::RelayAction::ClearOverloadLockout)) {
        overloadLockout = false;
        overloadTripped = false;
        overloadTripCount = 0;
        overloadAboveSinceMs.reset();
        lastResult = CommandResult::ClosePermitAccepted;
    }
    return std::nullopt;
}

void SimMeter::State::setMode(RelayMode newMode)
{
    mode = newMode;
    // Overload timing belongs to AUTO: a forced relay forgets a running delay or a pending
    // re-close (a lockout stays until CLEAR_OVERLOAD_LOCKOUT). Back in AUTO, settle()
    // re-evaluates arrears and overload at once.
    if (mode != RelayMode::Auto) {
        overloadTripped = false;
        overloadAboveSinceMs.reset();
    }
}

// map §3 "Recharge": check, amount, then sequence; a duplicate of the last applied recharge
// is acknowledged without change.
std::optional<ExceptionCode> SimMeter::State::recharge(const QList<quint16> &values)
{
    const std::optional<v1::RechargeMailbox> box = v1::RechargeMailbox::fromRegisters(values);
    if (!box) {
        lastResult = CommandResult::RechargeRejectedCheck;
        return ExceptionCode::IllegalDataValue;
    }
    const qint64 amount = box->amountFen;
    if (amount < v1::kRechargeAmountMinFen || amount > v1::kRechargeAmountMaxFen) {
        lastResult = CommandResult::RechargeRejectedAmount;
        return ExceptionCode::IllegalDataValue;
    }
    if (box->sequence == quint16(purchaseCount + 1)) {
        // The balance register is an i32: a recharge that would not fit is refused as an
        // amount the meter cannot take, never wrapped.
        if (balanceFen + amount > std::numeric_limits<qint32>::max()) {
            lastResult = CommandResult::RechargeRejectedAmount;
            return ExceptionCode::IllegalDataValue;
        }
        balanceFen = checked::add(balanceFen, amount);
        totalPurchasedFen = checked::add(totalPurchasedFen, amount);
        purchaseCount = box->sequence;
        lastRechargeAmountFen = amount;
        lastRechargeTxn = box->txn;
        lastResult = CommandResult::RechargeApplied;
        checkInvariant();
        return std::nullopt; // write() settles: closes or sets "close permit pending"
    }
    if (box->sequence == purchaseCount && box->txn == lastRechargeTxn && amount == lastRechargeAmountFen) {
        lastResult = CommandResult::RechargeDuplicate;
        return std::nullopt;
    }
    lastResult = CommandResult::RechargeRejectedSequence;
    return ExceptionCode::IllegalDataValue;
}

std::optional<ExceptionCode> SimMeter::State::writeTariff(const QList<quint16> &values)
{
    const std::optional<v1::TariffBlock> tariff = v1::TariffBlock::fromRegisters(values);
    if (!tariff) {
        lastResult = CommandResult::ParametersRejected;
        return ExceptionCode::IllegalDataValue;
    }
    prices = tariff->prices;
    tariffVersion = tariff->version;
    touCount = quint16(tariff->segments.size());
    // The unused pairs are kept as written (they read back), but never consulted.
    for (std::size_t i = 0; i < touRegisters.size(); ++i)
        touRegisters[i] = values[10 + qsizetype(i)];
    lastResult = CommandResult::ParametersUpdated;
    return std::nullopt;
}

std::optional<ExceptionCode> SimMeter::State::writeThresholds(quint16 start, const QList<quint16> &values)
{
    // The block as registers, the written ones replaced, then decoded and checked as a whole.
    QList<quint16> regs = thresholds.registers();
    for (qsizetype i = 0; i < values.size(); ++i)
        regs[start - v1::addr::Thresholds + i] = values[i];
    const std::optional<ThresholdSpec> t = ThresholdSpec::fromRegisters(regs);
    if (!t) {
        lastResult = CommandResult::ParametersRejected;
        return ExceptionCode::IllegalDataValue;
    }
    thresholds = *t;
    lastResult = CommandResult::ParametersUpdated;
    return std::nullopt;
}

void SimMeter::State::reset(quint32 newSerial)
{
    spec.serial = newSerial;
    energyUnits = 0;
    accWms = 0;
    slotUnits = {};
    totalOffset = 0;
    slotOffset = {};
    frozen = false;
    initialFen = 0;
    balanceFen = 0;
    totalPurchasedFen = 0;
    consumedFen = 0;
    remainder = {};
    purchaseCount = 0;
    lastRechargeAmountFen = 0;
    lastRechargeTxn = 0;
    mode = RelayMode::Auto;
    arrearsTripped = false;
    closePermitPending = false;
    overloadTripped = false;
    overloadLockout = false;
    overloadTripCount = 0;
    overloadAboveSinceMs.reset();
    lastResult = CommandResult::None;
    checkInvariant();
    settle();
}

// ---- SimMeter ---------------------------------------------------------------------------------------

SimMeter::SimMeter(const MeterSpec &spec, int utcOffsetMinutes, quint64 seed, qint64 startSimMs)
    : m_state(std::make_unique<State>(spec, utcOffsetMinutes, seed, startSimMs))
{ }

SimMeter::SimMeter(SimMeter &&) noexcept = default;
SimMeter &SimMeter::operator=(SimMeter &&) noexcept = default;
SimMeter::~SimMeter() = default;

quint8 SimMeter::unitId() const
{
    return m_state->spec.unitId;
}

quint32 SimMeter::serial() const
{
    return m_state->spec.serial;
}

const MeterSpec &SimMeter::spec() const
{
    return m_state->spec;
}

const LoadProfile &SimMeter::loadProfile() const
{
    return m_state->profile;
}

QByteArray SimMeter::handlePdu(QByteArrayView request, qint64 simMs)
{
    State &s = *m_state;
    s.advanceTo(simMs);
    if (request.isEmpty())
        return {}; // no function code: nothing to answer
    const quint8 fc = quint8(request[0]);
    if (fc != v1::ReadHoldingRegisters && fc != v1::WriteSingleRegister && fc != v1::WriteMultipleRegisters)
        return exceptionPdu(fc, ExceptionCode::IllegalFunction);
    if (s.deviceFailure)
        return exceptionPdu(fc, ExceptionCode::ServerDeviceFailure);
    if (s.busy)
        return exceptionPdu(fc, ExceptionCode::ServerDeviceBusy);
    switch (fc) {
    case v1::ReadHoldingRegisters: return s.read(request);
    case v1::WriteSingleRegister: return s.writeSingle(request);
    default: return s.writeMultiple(request);
    }
}

void SimMeter::advanceTo(qint64 simMs)
{
    m_state->advanceTo(simMs);
}

MeterTruth SimMeter::truth(qint64 simMs)
{
    State &s = *m_state;
    s.advanceTo(simMs);
    MeterTruth t;
    t.serial = s.spec.serial;
    t.simTimeMs = s.nowMs;
    t.energyWh = s.energyUnits * kWhPerUnit + s.accWms / kWmsPerWh;
    for (std::size_t i = 0; i < kSlots; ++i)
        t.slotEnergyWh[i] = s.slotUnits[i] * kWhPerUnit;
    t.energyRegister = s.energyRegister();
    t.balanceFen = s.balanceFen;
    t.remainderUnits = s.remainder.units;
    t.purchaseCount = s.purchaseCount;
    t.totalPurchasedFen = s.totalPurchasedFen;
    t.consumedMoneyFen = s.consumedFen;
    t.lastRechargeTxn = s.lastRechargeTxn;
    t.lastRechargeAmountFen = s.lastRechargeAmountFen;
    t.relayState = s.relayClosed() ? v1::RelayState::Closed : v1::RelayState::Open;
    t.relayMode = s.mode;
    t.tripReason = s.tripReason();
    t.statusWord = s.statusWord();
    t.activePowerW = s.relayClosed() ? s.demandW() : 0;
    t.tariffVersionActive = s.tariffVersion;
    t.lastCommandResult = s.lastResult;
    t.overloadTripCount = s.overloadTripCount;
    t.frozen = s.frozen;
    return t;
}

void SimMeter::setLoadOverride(std::optional<qint64> watts)
{
    State &s = *m_state;
    if (watts)
        watts = std::clamp<qint64>(*watts, 0, kLoadOverrideMaxW);
    s.loadOverrideW = watts;
    s.settle();
}

void SimMeter::injectCounterReset()
{
    State &s = *m_state;
    s.totalOffset = -s.energyUnits;
    for (std::size_t i = 0; i < kSlots; ++i)
        s.slotOffset[i] = -s.slotUnits[i];
}

void SimMeter::injectRollover(quint32 unitsBeforeWrap)
{
    State &s = *m_state;
    s.totalOffset = (qint64(1) << 32) - qint64(unitsBeforeWrap) - s.energyUnits;
}

void SimMeter::injectSwap(quint32 newSerial)
{
    m_state->reset(newSerial);
}

void SimMeter::setFrozen(bool frozen)
{
    m_state->frozen = frozen;
}

void SimMeter::injectJump(qint64 wh)
{
    m_state->totalOffset = checked::add(m_state->totalOffset, wh / kWhPerUnit);
}

void SimMeter::setDeviceFailure(bool failing)
{
    m_state->deviceFailure = failing;
}

void SimMeter::setBusy(bool busy)
{
    m_state->busy = busy;
}

} // namespace prepay::sim
