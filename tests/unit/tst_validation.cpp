// Reading validation (RELIABILITY.md T2): a table of the cases staff and billing rely on —
// increments, wraps at 2^32 that are charged exactly, resets, swaps and jumps that are held,
// frozen counters, slot registers — and a seeded property test over 100,000 random reading
// sequences with faults: held readings are never chargeable, chargeable deltas are exactly what
// the registers moved, fault-free intervals are charged exactly their true energy (across wraps
// too), and no interval is counted twice.
#include "poller/validation.h"
#include "randomseed.h"

#include <QtTest/QTest>

#include <random>

using namespace prepay;
using namespace prepay::poller;
using Status = ValidationStatus;

Q_DECLARE_METATYPE(prepay::poller::ValidationStatus)

namespace {

constexpr qint64 kHourMs = 3'600'000;
constexpr qint64 kWrap = qint64(1) << 32;
constexpr quint32 kSerial = 24'050'017;
constexpr qint64 kSinglePhaseMaxW = 60 * 220;    // 10(60) A: 13 200 W, 1.2 × = 15 840 W = 1584 units/h
constexpr qint64 kThreePhaseMaxW = 80 * 220 * 3; // 10(80) A: 52 800 W, 1.2 × = 63 360 W = 6336 units/h
constexpr qint64 kT0 = 1'795'000'000'000;

using Slots = std::array<quint32, 4>;

// Everything a case varies; the defaults are a plain prepaid single-phase meter read an hour
// after the previous reading, with the whole total in the flat slot.
struct Case
{
    bool hasPrevious = true;
    quint32 previousRegister = 100'000;
    std::optional<Slots> previousSlots; // default {0, 0, previousRegister, 0}
    qint64 previousPowerW = 1000;
    qint64 elapsedMs = kHourMs;
    quint32 newRegister = 100'000;
    std::optional<Slots> newSlots; // default {0, 0, newRegister, 0}
    qint64 newPowerW = 1000;
    std::optional<quint32> serial = kSerial;
    qint64 maxPowerW = kSinglePhaseMaxW;
    bool hasTou = true;

    Status status = Status::Valid;
    qint64 deltaWh = 0;
    std::array<qint64, 4> slotWh{}; // default {0, 0, deltaWh, 0} when slotsMeasured
    bool slotsMeasured = true;
    bool slotWhGiven = false;
    const char *noteContains = nullptr;
};

Case expectSlots(Case c, std::array<qint64, 4> slotWh)
{
    c.slotWh = slotWh;
    c.slotWhGiven = true;
    return c;
}

MeterTarget targetOf(const Case &c)
{
    MeterTarget m;
    m.meterId = 7;
    m.unitId = 7;
    m.serial = kSerial;
    m.prepaid = c.serial.has_value();
    m.hasTouRegisters = c.hasTou;
    m.maxPowerW = c.maxPowerW;
    m.installationId = 70;
    return m;
}

modbus::MeterSnapshot snapshotOf(quint32 reg, const Slots &slots, qint64 powerW, std::optional<quint32> serial)
{
    modbus::MeterSnapshot s;
    s.profile = serial ? QStringLiteral("prepay-v1") : QStringLiteral("acrel-remote");
    s.serialNumber = serial;
    s.energyTotalRegister = reg;
    s.energyTotalWh = qint64(reg) * 10;
    for (int i = 0; i < 4; ++i)
        s.slotEnergyWh[i] = qint64(slots[i]) * 10;
    s.activePowerW = powerW;
    return s;
}

QList<std::pair<QByteArray, Case>> cases()
{
    QList<std::pair<QByteArray, Case>> t;
    const auto add = [&t](const char *name, Case c) { t.append({QByteArray(name), c}); };
    Case c;

    // Increments.
    c = {};
    c.newRegister = 100'500;
    c.deltaWh = 5000;
    add("normal increment (5 kWh in 1 h)", c);

    c = {};
    c.previousPowerW = 0;
    c.newPowerW = 0;
    add("zero, no power", c);

    c = {};
    c.previousPowerW = 0;
    c.newPowerW = 5000;
    add("zero, power only now: not frozen", c);

    c = {};
    c.newRegister = 100'000 + 1584;
    c.deltaWh = 15'840;
    add("jump exactly at 1.2 x max", c);

    c = {};
    c.newRegister = 100'000 + 1585;
    c.deltaWh = 15'850;
    add("one unit above 1.2 x max: a register tick, valid", c);

    c = {};
    c.newRegister = 100'000 + 1586;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    c.noteContains = "15860 W";
    add("two units above 1.2 x max: jump", c);

    c = {};
    c.newRegister = 100'000 + 1'000'000;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    add("big jump", c);

    c = {};
    c.maxPowerW = kThreePhaseMaxW;
    c.newRegister = 100'000 + 6337;
    c.deltaWh = 63'370;
    add("three-phase at its limit (+1 tick)", c);

    c = {};
    c.maxPowerW = kThreePhaseMaxW;
    c.newRegister = 100'000 + 6338;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    add("three-phase above its limit", c);

    c = {};
    c.elapsedMs = 2000;
    c.newRegister = 100'001;
    c.deltaWh = 10;
    add("one tick 2 s after a read: valid", c);

    c = {};
    c.elapsedMs = 2000;
    c.newRegister = 100'002;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    add("two ticks 2 s after a read: jump", c);

    c = {};
    c.maxPowerW = 0;
    c.newRegister = 100'002;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    add("no rated maximum: nothing moves plausibly", c);

    c = {};
    c.elapsedMs = 365 * 24 * kHourMs;
    c.newRegister = 100'000 + 10'000'000;
    c.deltaWh = 100'000'000;
    add("a year, 100 MWh: no overflow", c);

    c = {};
    c.elapsedMs = 100'000'000'000'000'000; // a clock gone wild: 12 × max × elapsed overflows
    c.newRegister = 4'000'000'000u;
    c.deltaWh = (4'000'000'000LL - 100'000) * 10;
    add("absurd elapsed time: saturating arithmetic", c);

    c = {};
    c.elapsedMs = 50LL * 365 * 24 * kHourMs;
    c.newRegister = 4'000'000'000u;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    add("40 GWh in fifty years: still a jump", c);

    // Wraps and resets.
    c = {};
    c.previousRegister = quint32(kWrap - 100);
    c.newRegister = 50;
    c.previousSlots = Slots{0, 0, quint32(kWrap - 100), 0};
    c.status = Status::Rollover;
    c.deltaWh = 1500;
    c.noteContains = "wrapped";
    add("wrap near 2^32, plausible", c);

    c = {};
    c.previousRegister = quint32(kWrap - 584);
    c.newRegister = 1001;
    c.previousSlots = Slots{0, 0, quint32(kWrap - 584), 0};
    c.status = Status::Rollover;
    c.deltaWh = 15'850;
    add("wrap at the limit (+1 tick)", c);

    c = {};
    c.previousRegister = quint32(kWrap - 584);
    c.newRegister = 1002;
    c.status = Status::ResetHeld;
    c.slotsMeasured = false;
    add("wrap just beyond the limit: reset", c);

    c = {};
    c.previousRegister = quint32(kWrap - 100);
    c.newRegister = 2000;
    c.status = Status::ResetHeld;
    c.slotsMeasured = false;
    add("wrap near 2^32, implausible", c);

    c = {};
    c.previousRegister = 123'456;
    c.newRegister = 0;
    c.status = Status::ResetHeld;
    c.slotsMeasured = false;
    c.noteContains = "1234.56 kWh";
    add("reset to 0", c);

    c = {};
    c.previousRegister = 5000;
    c.newRegister = 4999;
    c.status = Status::ResetHeld;
    c.slotsMeasured = false;
    add("small backwards step", c);

    // Swaps.
    c = {};
    c.newRegister = 100'500;
    c.serial = 99;
    c.status = Status::SwapHeld;
    c.slotsMeasured = false;
    c.noteContains = "serial 99";
    add("serial change", c);

    c = {};
    c.hasPrevious = false;
    c.serial = 99;
    c.status = Status::SwapHeld;
    c.slotsMeasured = false;
    add("serial change on the first reading", c);

    c = {};
    c.newRegister = 0;
    c.serial = 99;
    c.status = Status::SwapHeld;
    c.slotsMeasured = false;
    add("serial change and reset: swap first", c);

    // Frozen.
    c = {};
    c.previousPowerW = 1000;
    c.newPowerW = 1000;
    c.status = Status::FrozenFlagged;
    c.noteContains = "did not move";
    add("frozen: 1 kW for 1 h", c);

    c = {};
    c.previousPowerW = 60;
    c.newPowerW = 60;
    c.elapsedMs = kHourMs / 2;
    c.status = Status::FrozenFlagged;
    add("frozen: exactly 30 Wh expected", c);

    c = {};
    c.previousPowerW = 59;
    c.newPowerW = 60;
    c.elapsedMs = kHourMs / 2;
    add("not frozen: 29.75 Wh expected", c);

    c = {};
    c.previousPowerW = 0;
    c.newPowerW = 10'000;
    add("not frozen: no power at the previous reading", c);

    c = {};
    c.previousPowerW = -500;
    c.newPowerW = -500;
    add("not frozen: power exported", c);

    // No time elapsed.
    c = {};
    c.elapsedMs = 0;
    add("elapsed 0, no movement", c);

    c = {};
    c.elapsedMs = 0;
    c.newRegister = 100'005;
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    c.noteContains = "no time";
    add("elapsed 0, movement", c);

    c = {};
    c.elapsedMs = -60'000;
    c.newPowerW = 5000;
    c.noteContains = "before the previous";
    add("clock set back, no movement", c);

    c = {};
    c.hasPrevious = false;
    c.noteContains = "first reading";
    add("first reading", c);

    // Slots.
    c = {};
    c.previousSlots = Slots{10, 20, 30, 99'940};
    c.newSlots = Slots{15, 120, 30, 100'335};
    c.newRegister = 100'500;
    c.deltaWh = 5000;
    add("slots split", expectSlots(c, {50, 1000, 0, 3950}));

    c = {};
    c.previousRegister = quint32(kWrap - 100);
    c.newRegister = 50;
    c.previousSlots = Slots{0, quint32(kWrap - 60), 0, 1000};
    c.newSlots = Slots{0, 40, 0, 1050};
    c.status = Status::Rollover;
    c.deltaWh = 1500;
    add("slot wraps with the total", expectSlots(c, {0, 1000, 0, 500}));

    c = {};
    c.previousRegister = 1000;
    c.newRegister = 1150;
    c.previousSlots = Slots{0, quint32(kWrap - 50), 0, 0};
    c.newSlots = Slots{0, 100, 0, 0};
    c.deltaWh = 1500;
    add("slot wraps after the total did", expectSlots(c, {0, 1500, 0, 0}));

    c = {};
    c.previousRegister = 1000;
    c.newRegister = 1150;
    c.previousSlots = Slots{0, 500, 0, 0};
    c.newSlots = Slots{0, 400, 250, 0};
    c.deltaWh = 1500;
    c.slotsMeasured = false;
    c.noteContains = "slot register peak went backwards";
    add("slot backwards, total not wrapping", expectSlots(c, {0, 0, 0, 0}));

    c = {};
    c.previousRegister = 1000;
    c.newRegister = 1150;
    c.previousSlots = Slots{300, 300, 300, 100};
    c.newSlots = Slots{0, 0, 0, 250};
    c.deltaWh = 1500;
    c.slotsMeasured = false;
    add("slots reset, total not", expectSlots(c, {0, 0, 0, 0}));

    c = {};
    c.newRegister = 100'150;
    c.previousSlots = Slots{0, 0, 100'000, 0};
    c.newSlots = Slots{1, 1, 100'151, 1};
    c.deltaWh = 1500;
    add("slots add up within rounding (+4)", expectSlots(c, {10, 10, 1510, 10}));

    c = {};
    c.newRegister = 100'150;
    c.previousSlots = Slots{0, 0, 100'000, 0};
    c.newSlots = Slots{2, 1, 100'151, 1};
    c.deltaWh = 1500;
    c.slotsMeasured = false;
    c.noteContains = "slot registers moved";
    add("slots do not add up (+5)", expectSlots(c, {0, 0, 0, 0}));

    c = {};
    c.newRegister = 100'000 + 5000;
    c.previousSlots = Slots{0, 0, 100'000, 0};
    c.newSlots = Slots{0, 900, 100'000, 0};
    c.status = Status::JumpHeld;
    c.slotsMeasured = false;
    add("held: slot deltas 0 even if slots moved", expectSlots(c, {0, 0, 0, 0}));

    // Remote-only (acrel-remote): no serial, and this one has no slot registers.
    c = {};
    c.serial = std::nullopt;
    c.hasTou = false;
    c.newRegister = 100'200;
    c.newSlots = Slots{7, 7, 7, 7};
    c.deltaWh = 2000;
    c.slotsMeasured = false;
    add("remote-only without slots or serial", expectSlots(c, {0, 0, 0, 0}));

    c = {};
    c.serial = std::nullopt;
    c.hasTou = false;
    c.newRegister = 0;
    c.status = Status::ResetHeld;
    c.slotsMeasured = false;
    add("remote-only reset", c);
    return t;
}

Validation run(const Case &c)
{
    const Slots prevSlots = c.previousSlots.value_or(Slots{0, 0, c.previousRegister, 0});
    const Slots newSlots = c.newSlots.value_or(Slots{0, 0, c.newRegister, 0});
    std::optional<PreviousReading> previous;
    if (c.hasPrevious) {
        PreviousReading p;
        p.readingId = 1;
        p.takenAtMs = kT0;
        p.energyRegister = c.previousRegister;
        p.slotRegisters = prevSlots;
        p.serial = kSerial;
        p.powerW = c.previousPowerW;
        previous = p;
    }
    return validateReading(
        previous, snapshotOf(c.newRegister, newSlots, c.newPowerW, c.serial), kT0 + c.elapsedMs, targetOf(c));
}

} // namespace

class TestValidation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void table_data();
    void table();
    void codes();
    void randomSequences();
};

void TestValidation::table_data()
{
    QTest::addColumn<int>("index");
    const auto all = cases();
    QVERIFY(all.size() >= 25);
    for (int i = 0; i < all.size(); ++i)
        QTest::newRow(all[i].first.constData()) << i;
}

void TestValidation::table()
{
    QFETCH(int, index);
    const Case c = cases()[index].second;
    const Validation v = run(c);

    QCOMPARE(v.status, c.status);
    QCOMPARE(v.deltaWh, c.deltaWh);
    QCOMPARE(
        v.chargeable(), c.status == Status::Valid || c.status == Status::Rollover || c.status == Status::FrozenFlagged);
    if (!v.chargeable())
        QCOMPARE(v.deltaWh, qint64(0));
    QCOMPARE(v.slotsMeasured, c.slotsMeasured);
    std::array<qint64, 4> slotWh = c.slotWh;
    if (!c.slotWhGiven && c.slotsMeasured)
        slotWh = {0, 0, c.deltaWh, 0};
    for (int i = 0; i < 4; ++i)
        QCOMPARE(v.slotDeltaWh[i], slotWh[i]);
    if (c.noteContains)
        QVERIFY2(v.note.contains(QString::fromUtf8(c.noteContains)), qPrintable(v.note));
    if (c.status != Status::Valid)
        QVERIFY2(!v.note.isEmpty(), "held, flagged and wrapped readings say why");
    if (c.status == Status::Valid || c.status == Status::Rollover)
        QCOMPARE(v.impliedPowerW, c.elapsedMs > 0 ? c.deltaWh * kHourMs / c.elapsedMs : 0);
}

void TestValidation::codes()
{
    // As the readings.validation CHECK spells them.
    QCOMPARE(validationCode(Status::Valid), QStringLiteral("valid"));
    QCOMPARE(validationCode(Status::Rollover), QStringLiteral("rollover"));
    QCOMPARE(validationCode(Status::ResetHeld), QStringLiteral("reset_held"));
    QCOMPARE(validationCode(Status::SwapHeld), QStringLiteral("swap_held"));
    QCOMPARE(validationCode(Status::JumpHeld), QStringLiteral("jump_held"));
    QCOMPARE(validationCode(Status::FrozenFlagged), QStringLiteral("frozen_flagged"));
}

namespace {

enum class Fault {
    None,
    Reset,     // registers (total and slots) back to ~0
    Backstep,  // the total goes back by a few units
    Jump,      // the total jumps by more than the meter can do
    SmallJump, // the total jumps a little (undetectable: charged as what the register shows)
    WordSwap,  // the two words of the total read swapped
    Swap,      // another meter answers (other serial, its own registers); ours goes on unseen
    Frozen,    // the registers stand still this interval although power flows
};

qint64 wrapMod(qint64 v)
{
    v %= kWrap;
    return v < 0 ? v + kWrap : v;
}

// One meter's truth and what its registers show: register = (true units + offset) mod 2^32.
struct SimMeter
{
    qint64 units = 0;
    std::array<qint64, 4> slotUnits{};
    qint64 offset = 0;
    std::array<qint64, 4> slotOffset{};
    qint64 remainderWms = 0; // energy below one unit, in W·ms (1 unit = 36e6 W·ms)

    quint32 reg() const { return quint32(wrapMod(units + offset)); }
    quint32 slotReg(int i) const { return quint32(wrapMod(slotUnits[i] + slotOffset[i])); }
};

PreviousReading previousOf(const modbus::MeterSnapshot &s, qint64 takenAtMs)
{
    PreviousReading p;
    p.takenAtMs = takenAtMs;
    p.energyRegister = s.energyTotalRegister;
    for (int i = 0; i < 4; ++i)
        p.slotRegisters[i] = quint32(s.slotEnergyWh[i] / 10);
    p.serial = s.serialNumber.value_or(0);
    p.powerW = s.activePowerW;
    return p;
}

} // namespace

// QVERIFY2 builds its message even when the check passes; this builds it only on failure.
#define CHECK(condition, what)                                                                                         \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            QFAIL(qPrintable(fail(what)));                                                                             \
    } while (false)

void TestValidation::randomSequences()
{
    const quint32 seed = test::testSeed();
    std::mt19937_64 rng(seed);
    const auto uniform = [&rng](qint64 lo, qint64 hi) { return std::uniform_int_distribution<qint64>(lo, hi)(rng); };
    const auto chance = [&](int percent) { return uniform(0, 99) < percent; };

    constexpr int sequences = 100'000;
    qint64 readings = 0, charged = 0, held = 0, cleanIntervals = 0;
    QHash<int, qint64> byStatus;

    for (int seq = 0; seq < sequences; ++seq) {
        MeterTarget meter;
        meter.meterId = 1;
        meter.serial = quint32(uniform(1, 0xFFFFFFFF));
        const qint64 phases = chance(30) ? 3 : 1;
        meter.maxPowerW = uniform(5, 100) * 220 * phases;
        meter.hasTouRegisters = chance(80);
        meter.installationId = 1;

        // A third of the meters start just below 2^32, so their registers wrap on their own.
        SimMeter m;
        m.units = uniform(0, 1'000'000);
        m.offset = chance(30) ? kWrap - m.units - uniform(0, 3000) : uniform(0, qint64(1) << 31);
        for (int i = 0; i < 4; ++i) {
            m.slotUnits[i] = uniform(0, m.units / 4);
            m.slotOffset[i] = chance(20) ? kWrap - m.slotUnits[i] - uniform(0, 2000) : uniform(0, 1'000'000);
        }
        qint64 t = kT0;
        qint64 powerW = uniform(0, meter.maxPowerW);

        // The baseline: the reading validation compares with (the last one that was not
        // swap_held, as the recorder keeps it), and the truth at that moment. A baseline is
        // dirty when its register did not show the meter's count (a misread word order).
        Slots slots{};
        for (int i = 0; i < 4; ++i)
            slots[i] = m.slotReg(i);
        PreviousReading base = previousOf(snapshotOf(m.reg(), slots, powerW, meter.serial), t);
        qint64 baseUnits = m.units;
        std::array<qint64, 4> baseSlotUnits = m.slotUnits;
        bool dirtyBase = false;
        qint64 sequenceCharged = 0, sequenceTrue = 0;
        bool sequenceFaultFree = true;

        const int length = int(uniform(2, 30));
        for (int k = 0; k < length; ++k) {
            const qint64 elapsed = chance(2) ? 0 : uniform(1000, 4 * kHourMs);
            t += elapsed;
            powerW = chance(20) ? 0 : uniform(0, meter.maxPowerW);
            // The truth: energy at this power over the interval, in whole units, each unit to a slot.
            m.remainderWms += powerW * elapsed;
            const qint64 newUnits = m.remainderWms / (10 * kHourMs);
            m.remainderWms %= 10 * kHourMs;
            m.units += newUnits;
            qint64 left = newUnits;
            for (int i = 0; i < 3; ++i) {
                const qint64 part = uniform(0, left);
                m.slotUnits[i] += part;
                left -= part;
            }
            m.slotUnits[3] += left;
            const qint64 sinceBaseMs = t - base.takenAtMs;

            const Fault fault = chance(75) ? Fault::None : Fault(uniform(1, 7));
            if (fault != Fault::None)
                sequenceFaultFree = false;
            quint32 serial = meter.serial;
            switch (fault) {
            case Fault::None:
            case Fault::WordSwap:
            case Fault::Swap: break;
            case Fault::Reset:
                m.offset = -m.units + uniform(0, 5);
                for (int i = 0; i < 4; ++i)
                    m.slotOffset[i] = -m.slotUnits[i];
                break;
            case Fault::Backstep: m.offset -= (m.units - baseUnits) + uniform(1, 1000); break;
            case Fault::Jump:
                m.offset += meter.maxPowerW * 12 / 10 * sinceBaseMs / (10 * kHourMs) + uniform(3, 1'000'000);
                break;
            case Fault::SmallJump: m.offset += uniform(1, 3); break;
            case Fault::Frozen:
                m.offset -= m.units - baseUnits;
                for (int i = 0; i < 4; ++i)
                    m.slotOffset[i] -= m.slotUnits[i] - baseSlotUnits[i];
                break;
            }
            quint32 reg = m.reg();
            for (int i = 0; i < 4; ++i)
                slots[i] = m.slotReg(i);
            if (fault == Fault::WordSwap)
                reg = (reg << 16) | (reg >> 16);
            if (fault == Fault::Swap) {
                serial = meter.serial ^ quint32(uniform(1, 0xFFFF));
                reg = quint32(uniform(0, 0xFFFFFFFF));
                for (int i = 0; i < 4; ++i)
                    slots[i] = quint32(uniform(0, 0xFFFFFFFF));
            }

            const modbus::MeterSnapshot snap = snapshotOf(reg, slots, powerW, serial);
            const Validation v = validateReading(base, snap, t, meter);
            ++readings;
            ++byStatus[int(v.status)];

            const auto fail = [&](const char *what) {
                return QStringLiteral("seed %1, sequence %2, reading %3 (fault %4): %5; got %6, delta %7 Wh (%8)")
                    .arg(seed)
                    .arg(seq)
                    .arg(k)
                    .arg(int(fault))
                    .arg(QString::fromUtf8(what), validationCode(v.status))
                    .arg(v.deltaWh)
                    .arg(v.note);
            };

            // Held readings are never chargeable and carry nothing.
            if (!v.chargeable()) {
                ++held;
                CHECK(v.deltaWh == 0, "held with a delta");
                CHECK(v.slotDeltaWh == (std::array<qint64, 4>{}), "held with slot deltas");
                CHECK(!v.slotsMeasured, "held with measured slots");
            }
            // A chargeable delta is exactly what the register moved since the baseline (mod
            // 2^32), never more: nothing is invented and, the baseline moving on with every
            // stored reading, no interval is counted twice.
            if (v.chargeable()) {
                ++charged;
                const qint64 moved = wrapMod(qint64(reg) - qint64(base.energyRegister));
                CHECK(v.deltaWh == moved * 10, "chargeable delta is not the register's movement");
                if (v.status == Status::FrozenFlagged)
                    CHECK(v.deltaWh == 0, "frozen with a delta");
                if (v.slotsMeasured) {
                    qint64 sum = 0;
                    for (qint64 d : v.slotDeltaWh) {
                        CHECK(d >= 0, "negative slot delta");
                        sum += d;
                    }
                    CHECK(std::abs(sum - v.deltaWh) <= 40, "measured slots do not add up");
                } else {
                    CHECK(v.slotDeltaWh == (std::array<qint64, 4>{}), "unmeasured slots carry deltas");
                }
                sequenceCharged += v.deltaWh;
            }

            // Faults that must be held whatever the numbers.
            if (fault == Fault::Swap)
                CHECK(v.status == Status::SwapHeld, "swap not held");
            if ((fault == Fault::Jump || fault == Fault::Backstep) && !dirtyBase)
                CHECK(!v.chargeable(), "jump or backwards step charged");
            // A reset from well inside the range cannot pass for a wrap (at most 66 kW × 1.2
            // for 4 h = 31,680 units fit across 2^32; sequences are ≤ 30 readings).
            if (fault == Fault::Reset && base.energyRegister > 1000 && base.energyRegister < kWrap - 1'000'000)
                CHECK(v.status == Status::ResetHeld, "reset not held");

            // A clean interval (no fault, clean baseline): charged exactly its true energy,
            // across wraps too, and the slots exactly their true share.
            if (fault == Fault::None && !dirtyBase) {
                ++cleanIntervals;
                const qint64 trueWh = (m.units - baseUnits) * 10;
                sequenceTrue += trueWh;
                CHECK(v.chargeable(), "clean interval not chargeable");
                CHECK(v.deltaWh == trueWh, "clean interval not charged its true energy");
                if (meter.hasTouRegisters) {
                    CHECK(v.slotsMeasured, "clean slots not measured");
                    for (int i = 0; i < 4; ++i)
                        CHECK(v.slotDeltaWh[i] == (m.slotUnits[i] - baseSlotUnits[i]) * 10, "clean slot delta wrong");
                }
            }
            // A counter that stood still since a clean baseline: flagged exactly when the two
            // powers say it should have moved by 30 Wh.
            if (fault == Fault::Frozen && !dirtyBase) {
                const bool expectFlag = sinceBaseMs > 0 && base.powerW > 0 && powerW > 0
                    && (base.powerW + powerW) * sinceBaseMs >= 3 * 10 * 2 * kHourMs;
                CHECK(v.status == (expectFlag ? Status::FrozenFlagged : Status::Valid), "frozen");
            }

            // The recorder's rule: every reading but a swap_held one becomes the baseline.
            if (v.status != Status::SwapHeld) {
                base = previousOf(snap, t);
                baseUnits = m.units;
                baseSlotUnits = m.slotUnits;
                dirtyBase = reg != m.reg();
            }
        }
        // A sequence without any fault is charged exactly its true energy.
        if (sequenceFaultFree && sequenceCharged != sequenceTrue) {
            QVERIFY2(false,
                qPrintable(QStringLiteral("seed %1, sequence %2: charged %3 Wh of %4 Wh")
                               .arg(seed)
                               .arg(seq)
                               .arg(sequenceCharged)
                               .arg(sequenceTrue)));
        }
    }
    qInfo("%lld readings: %lld chargeable, %lld held; %lld clean intervals charged exactly", readings, charged, held,
        cleanIntervals);
    // The generator reaches every outcome (a test that cannot fail is a defect).
    for (Status s : {Status::Valid, Status::Rollover, Status::ResetHeld, Status::SwapHeld, Status::JumpHeld,
             Status::FrozenFlagged}) {
        qInfo("%s: %lld", qPrintable(validationCode(s)), byStatus.value(int(s)));
        QVERIFY2(byStatus.value(int(s)) > 100, qPrintable(validationCode(s)));
    }
}

QTEST_GUILESS_MAIN(TestValidation)
#include "tst_validation.moc"
