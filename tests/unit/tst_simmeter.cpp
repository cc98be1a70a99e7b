// The simulated meter (drivers/sim/meters) against the v1 map, every rule of its §3:
//  - registers, scaling and the Acrel alias; reserved and write-only registers read 0;
//  - every exception rule, as a table of request PDUs;
//  - the recharge mailbox (the map's worked frame, duplicates, sequence, check, amount, wrap);
//  - the relay state machine (arrears, overdraft limit, close policy and permit, forced modes,
//    overload trip, re-close and lockout), status bits, thresholds, tariff block, clock;
//  - energy: the exact integral of the load profile, TOU attribution, deduction through cost()
//    with the balance invariant, 2^32 wrap, meters without TOU registers, remote-only meters;
//  - the injected faults, determinism, a long seeded random run;
//  - load profile shapes, and building files (strict parse errors, merging, the demo building).
// Time only moves through the simMs arguments: nothing here sleeps.
#include "modbus/mapv1.h"
#include "randomseed.h"
#include "sim/meters/building.h"
#include "sim/meters/loadprofile.h"
#include "sim/meters/simmeter.h"

#include <QtCore/QRandomGenerator>
#include <QtTest/QTest>

#include <optional>

using namespace prepay;
using namespace prepay::sim;
namespace v1 = prepay::meter::v1;
using v1::CommandResult;
using v1::RelayMode;
using v1::TariffSlot;
using v1::TripReason;

namespace {

constexpr qint64 kSecond = 1000;
constexpr qint64 kMinute = 60 * kSecond;
constexpr qint64 kHour = 60 * kMinute;
constexpr qint64 kDay = 24 * kHour;
constexpr qint64 kMonday = 1'794'758'400'000; // 2026-11-16 00:00 +08:00, a Monday
constexpr int kUtcOffset = 480;
constexpr quint64 kSeed = 7;
constexpr qint64 kWmsPerWh = 3'600'000;

// The demo seed's TOU tariff (workday schedule).
TariffSpec touTariff()
{
    TariffSpec t;
    t.version = 1;
    t.prices = {12100, 9800, 6500, 3100};
    t.segments = {{0, TariffSlot::Valley}, {480, TariffSlot::Flat}, {600, TariffSlot::Sharp}, {720, TariffSlot::Flat},
        {900, TariffSlot::Peak}, {1200, TariffSlot::Flat}, {1320, TariffSlot::Valley}};
    return t;
}

MeterSpec prepaidSpec()
{
    MeterSpec s;
    s.unitId = 1;
    s.serial = 24050017;
    s.model = QStringLiteral("DDSY1352-NK");
    s.deviceType = v1::DeviceType::SinglePhase;
    s.profile = LoadProfileKind::Retail;
    s.meteringPoint = QStringLiteral("A-1F-101");
    s.balanceFen = 10000;
    s.purchaseCount = 4;
    s.totalPurchasedFen = 40000;
    s.energyWh = 1'234'560;
    s.tariff = touTariff();
    return s;
}

MeterSpec remoteOnlySpec()
{
    MeterSpec s = prepaidSpec();
    s.serial = 23112522;
    s.model = QStringLiteral("ADL200");
    s.prepaid = false;
    s.hasTouRegisters = false;
    s.balanceFen = 0;
    s.purchaseCount = 0;
    s.totalPurchasedFen = 0;
    return s;
}

QByteArray hex(const char *text)
{
    return QByteArray::fromHex(QByteArray(text));
}

void be16(QByteArray &out, quint16 v)
{
    out.append(char(v >> 8));
    out.append(char(v & 0xFF));
}

QByteArray readPdu(quint16 address, quint16 count)
{
    QByteArray pdu(1, char(0x03));
    be16(pdu, address);
    be16(pdu, count);
    return pdu;
}

QByteArray writeSinglePdu(quint16 address, quint16 value)
{
    QByteArray pdu(1, char(0x06));
    be16(pdu, address);
    be16(pdu, value);
    return pdu;
}

QByteArray writeMultiplePdu(quint16 address, const QList<quint16> &values)
{
    QByteArray pdu(1, char(0x10));
    be16(pdu, address);
    be16(pdu, quint16(values.size()));
    pdu.append(char(values.size() * 2));
    for (quint16 v : values)
        be16(pdu, v);
    return pdu;
}

// The exception code of a reply, or 0 for a normal reply.
int exceptionOf(const QByteArray &reply)
{
    if (reply.size() == 2 && (quint8(reply[0]) & 0x80))
        return quint8(reply[1]);
    return 0;
}

// A driver's view of one meter at a simulated instant it moves by hand.
struct Bench
{
    explicit Bench(const MeterSpec &spec, qint64 startMs = kMonday, quint64 seed = kSeed)
        : meter(spec, kUtcOffset, seed, startMs)
        , nowMs(startMs)
    { }

    QByteArray send(const QByteArray &pdu) { return meter.handlePdu(pdu, nowMs); }
    // The registers, or an empty list on an exception.
    QList<quint16> read(quint16 address, quint16 count)
    {
        const QByteArray reply = send(readPdu(address, count));
        QList<quint16> values;
        if (reply.size() != 2 + 2 * count || reply[0] != 0x03)
            return values;
        for (int i = 0; i < count; ++i)
            values.append(quint16((quint8(reply[2 + 2 * i]) << 8) | quint8(reply[3 + 2 * i])));
        return values;
    }
    quint16 read16(quint16 address)
    {
        const QList<quint16> r = read(address, 1);
        return r.isEmpty() ? 0xDEAD : r[0];
    }
    quint32 read32(quint16 address)
    {
        const QList<quint16> r = read(address, 2);
        return r.isEmpty() ? 0xDEADBEEF : v1::u32(r[0], r[1]);
    }
    qint32 balance() { return qint32(read32(v1::addr::Balance)); }
    // The exception code of the write, 0 when it was accepted.
    int write(quint16 address, const QList<quint16> &values)
    {
        return exceptionOf(send(writeMultiplePdu(address, values)));
    }
    int write1(quint16 address, quint16 value) { return exceptionOf(send(writeSinglePdu(address, value))); }
    int recharge(quint32 amountFen, quint16 seq, quint32 txn)
    {
        return write(v1::addr::RechargeMailbox, v1::RechargeMailbox{amountFen, seq, txn}.registers());
    }
    MeterTruth truth() { return meter.truth(nowMs); }
    void advance(qint64 ms) { nowMs += ms; }
    CommandResult lastResult() { return CommandResult(read16(v1::addr::LastCmdResult)); }

    SimMeter meter;
    qint64 nowMs;
};

QList<quint16> tariffRegisters(std::array<quint32, 4> prices, quint16 version, QList<std::pair<quint16, quint16>> tou)
{
    QList<quint16> regs;
    for (quint32 p : prices)
        regs << v1::high(p) << v1::low(p);
    regs << version << quint16(tou.size());
    for (int i = 0; i < 8; ++i) {
        if (i < tou.size())
            regs << tou[i].first << tou[i].second;
        else
            regs << 0 << 0;
    }
    return regs;
}

// The slot of a local minute of day under the demo schedule.
TariffSlot demoSlot(int minuteOfDay)
{
    TariffSlot slot = TariffSlot::Valley;
    for (const auto &[start, s] : touTariff().segments) {
        if (start <= minuteOfDay)
            slot = s;
    }
    return slot;
}

} // namespace

class TestSimMeter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void identityAndBlockB();
    void threePhaseMeasurements();
    void exceptions_data();
    void exceptions();
    void writeReplies();
    void reservedAndWriteOnlyReadZero();
    void acrelAlias();
    void workedRechargeFrame();
    void rechargeRejections();
    void rechargeSequenceWraps();
    void rechargeBeyondTheBalanceRegister();
    void arrearsTripAtTheExactIncrement();
    void rechargeClosesPerPolicy_data();
    void rechargeClosesPerPolicy();
    void overdraftLimit();
    void forcedModes();
    void overloadTripReclosesAndLocksOut();
    void tariffBlock();
    void tariffRejected_data();
    void tariffRejected();
    void thresholds();
    void clock();
    void statusBits();
    void touAttributionOfAConstantLoad();
    void energyIsTheIntegralOfTheProfile_data();
    void energyIsTheIntegralOfTheProfile();
    void energyRegistersWrap();
    void metersWithoutTouRegisters();
    void remoteOnlyMeter();
    void faultCounterReset();
    void faultRollover();
    void faultSwap();
    void faultFrozen();
    void faultJump();
    void injectedExceptions();
    void determinism();
    void longRandomRun();
    void loadProfileShapes();
    void buildingParseErrors_data();
    void buildingParseErrors();
    void buildingParseDefaultsAndMerge();
    void demoBuildingLoads();
};

void TestSimMeter::identityAndBlockB()
{
    Bench b(prepaidSpec());
    b.advance(11 * kHour); // 11:00, sharp, shop open
    const QList<quint16> r = b.read(v1::addr::BlockB, v1::kBlockBCount);
    QCOMPARE(r.size(), v1::kBlockBCount);
    const MeterTruth t = b.truth();
    const auto at = [&r](quint16 address) { return r[address - v1::addr::BlockB]; };
    const auto at32
        = [&r](quint16 address) { return v1::u32(r[address - v1::addr::BlockB], r[address - v1::addr::BlockB + 1]); };
    QCOMPARE(at(v1::addr::MapVersion), quint16(0x0100));
    QCOMPARE(at(v1::addr::DeviceType), quint16(1));
    QCOMPARE(at32(v1::addr::SerialNumber), 24050017u);
    QCOMPARE(at(v1::addr::StatusWord), t.statusWord);
    QCOMPARE(at(v1::addr::RelayState), quint16(0));
    QCOMPARE(at(v1::addr::TripReason), quint16(0));
    QCOMPARE(at(v1::addr::PurchaseCount), quint16(4));
    QCOMPARE(qint32(at32(v1::addr::Balance)), qint32(t.balanceFen));
    QVERIFY(t.balanceFen < 10000); // 11 hours of a shop were charged
    QCOMPARE(at32(v1::addr::TotalPurchased), 40000u);
    QCOMPARE(at32(v1::addr::LastRechargeAmount), 0u);
    QCOMPARE(at32(v1::addr::LastRechargeTxn), 0u);
    QCOMPARE(at32(v1::addr::EnergyTotal), t.energyRegister);
    QCOMPARE(qint64(t.energyRegister), t.energyWh / 10);
    quint32 slotSum = 0;
    for (int i = 0; i < 4; ++i) {
        slotSum += at32(v1::addr::EnergySharp + 2 * i);
        QCOMPARE(qint64(at32(v1::addr::EnergySharp + 2 * i)) * 10, t.slotEnergyWh[i]);
    }
    QCOMPARE(slotSum, t.energyRegister); // the slots add up to the total
    QCOMPARE(qint32(at32(v1::addr::ActivePowerTotal)), qint32(t.activePowerW));
    QVERIFY(t.activePowerW > 500);
    const double volts = at(v1::addr::VoltageA) / 10.0;
    QVERIFY2(volts > 215 && volts < 225, qPrintable(QString::number(volts)));
    QCOMPARE(at(v1::addr::VoltageA + 1), quint16(0)); // single-phase: no B, C
    QCOMPARE(at(v1::addr::VoltageA + 2), quint16(0));
    QCOMPARE(at(v1::addr::CurrentA + 1), quint16(0));
    QCOMPARE(at(v1::addr::CurrentA + 2), quint16(0));
    const double pf = qint16(at(v1::addr::PowerFactor)) / 1000.0;
    QVERIFY(pf > 0.9 && pf <= 1.0);
    const double amps = at(v1::addr::CurrentA) / 100.0;
    const double expectedAmps = double(t.activePowerW) / (volts * pf);
    QVERIFY2(qAbs(amps - expectedAmps) < 0.02 * expectedAmps + 0.02,
        qPrintable(QStringLiteral("%1 A, expected %2 A").arg(amps).arg(expectedAmps)));
    QVERIFY(at(v1::addr::Frequency) >= 4990 && at(v1::addr::Frequency) <= 5010);
    QCOMPARE(at(v1::addr::TariffVersionActive), quint16(1));
    QCOMPARE(at(v1::addr::CurrentTariffIndex), quint16(TariffSlot::Sharp));
    QCOMPARE(at32(v1::addr::MeterTime), quint32(b.nowMs / 1000));
    QCOMPARE(at(v1::addr::LastCmdResult), quint16(0));
    QCOMPARE(at(v1::addr::OverloadTripCount), quint16(0));
    QCOMPARE(at32(v1::addr::ConsumedMoneyTotal), quint32(t.consumedMoneyFen));
    QCOMPARE(t.balanceFen, 10000 - t.consumedMoneyFen);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(r[0x2C + i], quint16(0)); // reserved_b
    QCOMPARE(t.serial, 24050017u);
    QCOMPARE(t.simTimeMs, b.nowMs);
    QCOMPARE(t.relayMode, RelayMode::Auto);
    QCOMPARE(t.tariffVersionActive, quint16(1));
    QCOMPARE(t.frozen, false);
}

void TestSimMeter::threePhaseMeasurements()
{
    MeterSpec spec = prepaidSpec();
    spec.deviceType = v1::DeviceType::ThreePhase;
    spec.maxCurrentMa = 80000;
    spec.profile = LoadProfileKind::Restaurant;
    Bench b(spec);
    b.advance(12 * kHour); // lunch
    const QList<quint16> r = b.read(v1::addr::VoltageA, 8);
    QCOMPARE(r.size(), 8);
    const MeterTruth t = b.truth();
    QVERIFY(t.activePowerW > 10'000);
    const double pf = qint16(r[6]) / 1000.0;
    double watts = 0;
    for (int p = 0; p < 3; ++p) {
        QVERIFY(r[p] > 2150 && r[p] < 2250);
        QVERIFY(r[3 + p] > 0);
        watts += r[p] / 10.0 * r[3 + p] / 100.0 * pf;
    }
    QVERIFY2(qAbs(watts - double(t.activePowerW)) < 0.01 * double(t.activePowerW),
        qPrintable(QStringLiteral("%1 W from V·I·PF, %2 W measured").arg(watts).arg(t.activePowerW)));
    // Block A: phase A, and the total in 0.001 kW (i16, saturated beyond 32.767 kW).
    const QList<quint16> acrel = b.read(v1::addr::AcrelVoltage, 6);
    QCOMPARE(acrel[0], r[0]);
    QCOMPARE(acrel[1], r[3]);
    QCOMPARE(qint16(acrel[2]), qint16(std::min<qint64>(t.activePowerW, 32767)));
    QCOMPARE(qint16(acrel[5]), qint16(r[6]));
    const double apparent = acrel[4] / 1000.0;
    const double reactive = qint16(acrel[3]) / 1000.0;
    const double kw = double(t.activePowerW) / 1000.0;
    if (t.activePowerW < 30'000) {
        QVERIFY(qAbs(apparent - kw / pf) < 0.01);
        QVERIFY(qAbs(reactive - std::sqrt(apparent * apparent - kw * kw)) < 0.02);
    }
}

void TestSimMeter::exceptions_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<bool>("remoteOnly");
    QTest::addColumn<int>("expected"); // exception code, 0 = normal reply

    const auto row = [](const char *name, const QByteArray &request, int expected, bool remote = false) {
        QTest::newRow(name) << request << remote << expected;
    };
    // 0x01: any function other than 03/06/10.
    row("fc 0x01 read coils", hex("0100000001"), 1);
    row("fc 0x04 read input registers", hex("0410000001"), 1);
    row("fc 0x05 write coil", hex("050000ff00"), 1);
    row("fc 0x0f write coils", hex("0f0000000101ff"), 1);
    row("fc 0x17 read/write", hex("17100000011100000102ffff"), 1);
    row("fc 0x2b device id", hex("2b0e0100"), 1);
    // 0x03: quantity and framing.
    row("read quantity 0", readPdu(0x1000, 0), 3);
    row("read quantity 126", readPdu(0x1000, 126), 3);
    row("read pdu too short", hex("031000"), 3);
    row("write quantity 0",
        hex("1012200000"
            "00"),
        3);
    row(
        "write quantity 124",
        [] {
            QByteArray p = hex("10122000"
                               "007c"
                               "f8");
            p.append(QByteArray(248, '\0'));
            return p;
        }(),
        3);
    row("write byte count mismatch",
        hex("1012200002"
            "03"
            "000000"),
        3);
    row("write data shorter than byte count",
        hex("1012200002"
            "04"
            "0000"),
        3);
    row("write single pdu too long", hex("06122800050000"), 3);
    // 0x02: addresses.
    row("read quantity 125 is fine", readPdu(0x1000, 48), 0);
    row("read a hole", readPdu(0x0011, 1), 2);
    row("read into a hole after Block A", readPdu(0x0010, 2), 2);
    row("read into a hole after Block B", readPdu(0x102F, 2), 2);
    row("read across the whole map", readPdu(0x0000, 125), 2);
    row("read past 0xFFFF", readPdu(0xFFFF, 2), 2);
    row("read between blocks", readPdu(0x1030, 1), 2);
    row("read past set_time", readPdu(0x1301, 2), 2);
    row("read low half of a u32 is fine", readPdu(0x1009, 1), 0);
    row("write single to read-only", writeSinglePdu(0x1000, 1), 2);
    row("write single to energy", writeSinglePdu(0x1010, 0), 2);
    row("write multiple to read-only", writeMultiplePdu(0x1008, {0, 100}), 2);
    row("write multiple over the password into RO", writeMultiplePdu(0x000A, {1, 2}), 2);
    row("write single to a hole", writeSinglePdu(0x0011, 1), 2);
    row("write multiple into a hole", writeMultiplePdu(0x122B, {0, 0}), 2);
    row("write single high half of a u32", writeSinglePdu(0x1220, 0), 2);
    row("write single low half of a u32", writeSinglePdu(0x1221, 100), 2);
    row("write single half of set_time", writeSinglePdu(0x1300, 0), 2);
    row("write multiple starting at a low half", writeMultiplePdu(0x1221, {0, 0}), 2);
    row("write multiple ending at a high half", writeMultiplePdu(0x1220, {0, 5000, 0}), 2);
    row("write single force enable alone", writeSinglePdu(0x0057, 1), 2);
    row("write single force state alone", writeSinglePdu(0x0058, 1), 2);
    row("write multiple force enable alone", writeMultiplePdu(0x0057, {0}), 2);
    row("write multiple force state alone", writeMultiplePdu(0x0058, {0}), 2);
    row("mailbox quantity 5", writeMultiplePdu(0x1100, {0, 100, 5, 0, 1}), 2);
    row("mailbox quantity 7", writeMultiplePdu(0x1100, {0, 100, 5, 0, 1, 0, 0}), 2);
    row("mailbox from 0x1101", writeMultiplePdu(0x1101, {100, 5, 0, 1, 0}), 2);
    row("mailbox single rc_seq", writeSinglePdu(0x1102, 5), 2);
    row("mailbox single rc_check", writeSinglePdu(0x1105, 5), 2);
    row("tariff partial: prices only", writeMultiplePdu(0x1200, {0, 1, 0, 1, 0, 1, 0, 1}), 2);
    row("tariff single version", writeSinglePdu(0x1208, 2), 2);
    row("tariff single tou_count", writeSinglePdu(0x1209, 1), 2);
    row("tariff segments only", writeMultiplePdu(0x120A, {0, 2}), 2);
    row("relay_mode and a hole", writeMultiplePdu(0x1110, {0, 1, 0}), 2);
    // 0x03: invalid values.
    row("relay_mode 3", writeSinglePdu(0x1110, 3), 3);
    row("relay_action 0", writeSinglePdu(0x1111, 0), 3);
    row("relay_action 3", writeSinglePdu(0x1111, 3), 3);
    row("relay_mode ok, relay_action bad", writeMultiplePdu(0x1110, {1, 9}), 3);
    row("password 10000", writeSinglePdu(0x000A, 10000), 3);
    row("password 9999", writeSinglePdu(0x000A, 9999), 0);
    row("force enable 2", writeMultiplePdu(0x0057, {2, 0}), 3);
    row("force (1, 2)", writeMultiplePdu(0x0057, {1, 2}), 3);
    row("close_policy 2", writeSinglePdu(0x122B, 2), 3);
    row("overload_max_trips 0", writeSinglePdu(0x122A, 0), 3);
    row("alarm2 above alarm1", writeMultiplePdu(0x1222, {0, 5001}), 3);
    row("mailbox bad check", writeMultiplePdu(0x1100, {0, 100, 5, 0, 1, 0}), 3);
    // Remote-only meters: Block A and the force registers only.
    row("remote: read Block A", readPdu(0x0000, 17), 0, true);
    row("remote: read force registers", readPdu(0x0057, 2), 0, true);
    row("remote: write force registers", writeMultiplePdu(0x0057, {1, 1}), 0, true);
    row("remote: read Block B", readPdu(0x1000, 1), 2, true);
    row("remote: read clock", readPdu(0x1300, 2), 2, true);
    row("remote: write relay_mode", writeSinglePdu(0x1110, 1), 2, true);
    row("remote: recharge", writeMultiplePdu(0x1100, v1::RechargeMailbox{100, 1, 1}.registers()), 2, true);
    row("remote: thresholds", writeMultiplePdu(0x1220, {0, 100}), 2, true);
    row("remote: unknown function", hex("0400000001"), 1, true);
}

void TestSimMeter::exceptions()
{
    QFETCH(QByteArray, request);
    QFETCH(bool, remoteOnly);
    QFETCH(int, expected);
    Bench b(remoteOnly ? remoteOnlySpec() : prepaidSpec());
    const MeterTruth before = b.truth();
    const QByteArray reply = b.send(request);
    QCOMPARE(exceptionOf(reply), expected);
    if (expected != 0) {
        QCOMPARE(quint8(reply[0]), quint8(quint8(request[0]) | 0x80));
        // A refused request changes nothing (last_cmd_result aside).
        const MeterTruth after = b.truth();
        QCOMPARE(after.balanceFen, before.balanceFen);
        QCOMPARE(after.relayMode, before.relayMode);
        QCOMPARE(after.purchaseCount, before.purchaseCount);
        QCOMPARE(after.tariffVersionActive, before.tariffVersionActive);
    }
}

void TestSimMeter::writeReplies()
{
    Bench b(prepaidSpec());
    // FC 0x06 echoes the request; FC 0x10 answers with start and quantity.
    QCOMPARE(b.send(writeSinglePdu(0x1228, 30)), writeSinglePdu(0x1228, 30));
    QCOMPARE(b.read16(0x1228), quint16(30));
    QCOMPARE(b.send(writeMultiplePdu(0x1220, {0, 6000, 0, 3000})), hex("1012200004"));
    QCOMPARE(b.read32(0x1220), 6000u);
    QCOMPARE(b.read32(0x1222), 3000u);
    // A read answers with the byte count and the registers.
    QCOMPARE(b.send(readPdu(0x1000, 2)),
        hex("0304"
            "0100"
            "0001"));
    // An empty PDU gets no answer at all.
    QCOMPARE(b.send(QByteArray()), QByteArray());
}

void TestSimMeter::reservedAndWriteOnlyReadZero()
{
    Bench b(prepaidSpec());
    QCOMPARE(b.recharge(5000, 5, 77), 0);
    QCOMPARE(b.write1(v1::addr::RelayAction, 1), 0);
    QCOMPARE(b.read(v1::addr::RechargeMailbox, 6), QList<quint16>(6, 0));
    QCOMPARE(b.read16(v1::addr::RelayAction), quint16(0));
    QCOMPARE(b.read(0x102C, 4), QList<quint16>(4, 0));
    QCOMPARE(b.write1(v1::addr::RelayMode, 1), 0);
    QCOMPARE(b.read(v1::addr::RelayMode, 2), (QList<quint16>{1, 0}));
}

void TestSimMeter::acrelAlias()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 1'000'000;
    Bench b(spec);
    b.advance(15 * kHour);
    const QList<quint16> a = b.read(0x0000, 17);
    QCOMPARE(a.size(), 17);
    const QList<quint16> energies = b.read(v1::addr::EnergyTotal, 10);
    QCOMPARE(a.mid(0, 10), energies);
    QCOMPARE(a[0x0B], b.read16(v1::addr::VoltageA));
    QCOMPARE(a[0x0C], b.read16(v1::addr::CurrentA));
    QCOMPARE(qint64(qint16(a[0x0D])), qint64(qint32(b.read32(v1::addr::ActivePowerTotal)))); // W = 0.001 kW
    QCOMPARE(a[0x10], b.read16(v1::addr::PowerFactor));
    QCOMPARE(a[0x0A], quint16(0));
    QCOMPARE(b.write1(0x000A, 1234), 0); // password: stored, no effect
    QCOMPARE(b.read16(0x000A), quint16(1234));
    QCOMPARE(b.lastResult(), CommandResult::None);

    // (1, 0) → FORCE_ON, (1, 1) → FORCE_OFF, (0, x) → AUTO; reads mirror relay_mode.
    QCOMPARE(b.read(0x0057, 2), (QList<quint16>{0, 0}));
    QCOMPARE(b.write(0x0057, {1, 1}), 0);
    QCOMPARE(b.truth().relayMode, RelayMode::ForceOff);
    QCOMPARE(b.truth().relayState, v1::RelayState::Open);
    QCOMPARE(b.truth().tripReason, TripReason::ForcedOff);
    QCOMPARE(b.read16(v1::addr::RelayMode), quint16(2));
    QCOMPARE(b.read(0x0057, 2), (QList<quint16>{1, 1}));
    QCOMPARE(b.lastResult(), CommandResult::RelayModeSet);
    QCOMPARE(b.read16(0x000D), quint16(0)); // no power through an open relay
    QCOMPARE(b.read16(0x000C), quint16(0));
    QCOMPARE(b.write(0x0057, {1, 0}), 0);
    QCOMPARE(b.truth().relayMode, RelayMode::ForceOn);
    QCOMPARE(b.read(0x0057, 2), (QList<quint16>{1, 0}));
    QCOMPARE(b.read16(v1::addr::RelayMode), quint16(1));
    QCOMPARE(b.write(0x0057, {0, 1}), 0);
    QCOMPARE(b.truth().relayMode, RelayMode::Auto);
    QCOMPARE(b.read(0x0057, 2), (QList<quint16>{0, 0}));
    QCOMPARE(b.truth().relayState, v1::RelayState::Closed);
    // And relay_mode written through Block C shows in the alias.
    QCOMPARE(b.write1(v1::addr::RelayMode, 2), 0);
    QCOMPARE(b.read(0x0057, 2), (QList<quint16>{1, 1}));
    QCOMPARE(b.write(0x0057, {0, 0}), 0);
    QCOMPARE(b.truth().relayMode, RelayMode::Auto);
}

void TestSimMeter::workedRechargeFrame()
{
    // map §3: slave 1, 100.00 CNY, seq 5, txn 0x12345678, check 0x0C95.
    const QByteArray frame = hex("01 10 11 00 00 06 0C 00 00 27 10 00 05 12 34 56 78 0C 95 98 BA");
    QCOMPARE(frame.size(), 21);
    QCOMPARE(v1::crc16(frame.left(19)), quint16(0xBA98)); // RTU CRC, low byte first on the wire
    const QByteArray pdu = frame.mid(1, 18);
    QCOMPARE(pdu, writeMultiplePdu(0x1100, v1::RechargeMailbox{10000, 5, 0x12345678}.registers()));

    Bench b(prepaidSpec()); // purchase_count 4
    const MeterTruth before = b.truth();
    QCOMPARE(b.send(pdu), hex("10 1100 0006"));
    MeterTruth t = b.truth();
    QCOMPARE(t.balanceFen, before.balanceFen + 10000);
    QCOMPARE(t.totalPurchasedFen, before.totalPurchasedFen + 10000);
    QCOMPARE(t.purchaseCount, quint16(5));
    QCOMPARE(t.lastRechargeTxn, 0x12345678u);
    QCOMPARE(t.lastRechargeAmountFen, 10000);
    QCOMPARE(t.lastCommandResult, CommandResult::RechargeApplied);
    QCOMPARE(b.read16(v1::addr::PurchaseCount), quint16(5));
    QCOMPARE(b.read32(v1::addr::LastRechargeTxn), 0x12345678u);
    QCOMPARE(b.read32(v1::addr::LastRechargeAmount), 10000u);
    QCOMPARE(b.read32(v1::addr::TotalPurchased), 50000u);

    // The reply was lost; the driver re-reads, sees C + 1 … or resends the identical frame:
    // acknowledged, nothing changes.
    QCOMPARE(b.send(pdu), hex("10 1100 0006"));
    t = b.truth();
    QCOMPARE(t.balanceFen, before.balanceFen + 10000);
    QCOMPARE(t.purchaseCount, quint16(5));
    QCOMPARE(t.lastCommandResult, CommandResult::RechargeDuplicate);
    QCOMPARE(b.lastResult(), CommandResult::RechargeDuplicate);
}

void TestSimMeter::rechargeRejections()
{
    Bench b(prepaidSpec());
    QCOMPARE(b.recharge(2000, 5, 1001), 0);
    const MeterTruth applied = b.truth();
    const auto unchanged = [&b, &applied] {
        const MeterTruth t = b.truth();
        return t.balanceFen == applied.balanceFen && t.purchaseCount == applied.purchaseCount
            && t.totalPurchasedFen == applied.totalPurchasedFen && t.lastRechargeTxn == applied.lastRechargeTxn;
    };
    // rc_check wrong → 0x03, result 4.
    QList<quint16> regs = v1::RechargeMailbox{3000, 6, 1002}.registers();
    regs[5] ^= 1;
    QCOMPARE(b.write(0x1100, regs), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedCheck);
    QVERIFY(unchanged());
    // Amount outside 1..100 000 000 → 0x03, result 5 (checked before the sequence).
    QCOMPARE(b.recharge(0, 6, 1002), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedAmount);
    QCOMPARE(b.recharge(100'000'001, 6, 1002), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedAmount);
    QCOMPARE(b.recharge(0, 99, 1002), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedAmount);
    QVERIFY(unchanged());
    // Sequence: ahead, behind, or the current one with another txn or amount → result 3.
    QCOMPARE(b.recharge(3000, 7, 1002), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedSequence);
    QCOMPARE(b.recharge(3000, 4, 1002), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedSequence);
    QCOMPARE(b.recharge(2000, 5, 1002), 3); // same seq and amount, another txn: never reuse a seq
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedSequence);
    QCOMPARE(b.recharge(2001, 5, 1001), 3); // same seq and txn, another amount
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedSequence);
    QVERIFY(unchanged());
    // The duplicate is still recognised afterwards, and the next one applies.
    QCOMPARE(b.recharge(2000, 5, 1001), 0);
    QCOMPARE(b.lastResult(), CommandResult::RechargeDuplicate);
    QVERIFY(unchanged());
    QCOMPARE(b.recharge(100'000'000, 6, 1003), 0); // the largest amount
    QCOMPARE(b.lastResult(), CommandResult::RechargeApplied);
    QCOMPARE(b.truth().balanceFen, applied.balanceFen + 100'000'000);
    QCOMPARE(b.truth().purchaseCount, quint16(6));
}

void TestSimMeter::rechargeSequenceWraps()
{
    MeterSpec spec = prepaidSpec();
    spec.purchaseCount = 65535;
    Bench b(spec);
    QCOMPARE(b.recharge(100, 0, 9), 0); // 65535 + 1 wraps to 0
    QCOMPARE(b.read16(v1::addr::PurchaseCount), quint16(0));
    QCOMPARE(b.recharge(100, 0, 9), 0);
    QCOMPARE(b.lastResult(), CommandResult::RechargeDuplicate);
    QCOMPARE(b.recharge(100, 1, 10), 0);
    QCOMPARE(b.read16(v1::addr::PurchaseCount), quint16(1));
    QCOMPARE(b.truth().totalPurchasedFen, spec.totalPurchasedFen + 200);
}

void TestSimMeter::rechargeBeyondTheBalanceRegister()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 2'100'000'000;
    spec.totalPurchasedFen = 2'100'000'000;
    Bench b(spec);
    // 21 000 000.00 + 500 000.00 CNY does not fit the i32 balance: refused as an amount.
    QCOMPARE(b.recharge(50'000'000, 5, 1), 3);
    QCOMPARE(b.lastResult(), CommandResult::RechargeRejectedAmount);
    QCOMPARE(b.recharge(40'000'000, 5, 1), 0);
    QCOMPARE(b.balance(), qint32(b.truth().balanceFen));
}

void TestSimMeter::arrearsTripAtTheExactIncrement()
{
    // 100 fen at the flat price of 0.6500 CNY/kWh = 0.65 fen per 0.01 kWh: the 154th increment
    // brings the cumulative charge to floor(154 × 0.65) = 100 fen. At exactly 6 kW an increment
    // takes 6 s, so the relay opens 924 s after the start, and not a millisecond earlier.
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 100;
    spec.totalPurchasedFen = 100;
    spec.purchaseCount = 1;
    spec.energyWh = 5'000'000;
    const qint64 start = kMonday + 8 * kHour; // 08:00, flat until 10:00
    Bench b(spec, start);
    b.meter.setLoadOverride(6000);
    b.nowMs = start + 924 * kSecond - 1;
    MeterTruth t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    QCOMPARE(t.balanceFen, 1);                  // floor(153 × 0.65) = 99
    QCOMPARE(t.energyWh, 5'000'000 + 1530 + 9); // 9 Wh of the 154th increment
    b.nowMs = start + 924 * kSecond;
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.tripReason, TripReason::Arrears);
    QCOMPARE(t.balanceFen, 0);
    QCOMPARE(t.consumedMoneyFen, 100);
    QCOMPARE(t.energyWh, 5'000'000 + 1540);
    QCOMPARE(t.slotEnergyWh[int(TariffSlot::Flat)] - (500'000 * 40 / 100) * 10, 1540);
    QCOMPARE(t.activePowerW, 0);
    QCOMPARE(t.remainderUnits, 154 * 65'000 % 100'000);
    const quint16 bits = v1::status::RelayOpen | v1::status::ArrearsTrip | v1::status::Alarm1 | v1::status::Alarm2;
    QCOMPARE(t.statusWord, bits); // balance 0: not overdrawn (bit 5 is balance < 0)
    QCOMPARE(b.read16(v1::addr::StatusWord), bits);
    QCOMPARE(b.read16(v1::addr::RelayState), quint16(1));
    QCOMPARE(b.read16(v1::addr::TripReason), quint16(1));
    QCOMPARE(qint32(b.read32(v1::addr::ActivePowerTotal)), 0);
    // Dark from then on: no energy, no charge.
    b.advance(3 * kDay);
    t = b.truth();
    QCOMPARE(t.energyWh, 5'000'000 + 1540);
    QCOMPARE(t.balanceFen, 0);

    // The same in one call that runs far past the trip: the rest of that step is dark too.
    Bench once(spec, start);
    once.meter.setLoadOverride(6000);
    once.advance(kHour);
    t = once.truth();
    QCOMPARE(t.energyWh, 5'000'000 + 1540);
    QCOMPARE(t.balanceFen, 0);
    QCOMPARE(t.tripReason, TripReason::Arrears);
}

void TestSimMeter::rechargeClosesPerPolicy_data()
{
    QTest::addColumn<int>("policy");
    QTest::newRow("auto_close") << int(v1::ClosePolicy::AutoClose);
    QTest::newRow("wait_for_permit") << int(v1::ClosePolicy::WaitForPermit);
}

void TestSimMeter::rechargeClosesPerPolicy()
{
    QFETCH(int, policy);
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 50;
    spec.thresholds.closePolicy = v1::ClosePolicy(policy);
    Bench b(spec, kMonday + 9 * kHour);
    b.meter.setLoadOverride(3000);
    b.advance(kHour);
    QCOMPARE(b.truth().tripReason, TripReason::Arrears);
    // CLOSE_PERMIT without a recharge does nothing (the balance is not > 0).
    QCOMPARE(b.write1(v1::addr::RelayAction, 1), 0);
    QCOMPARE(b.lastResult(), CommandResult::ClosePermitAccepted);
    QCOMPARE(b.truth().relayState, v1::RelayState::Open);

    QCOMPARE(b.recharge(5000, 5, 42), 0);
    MeterTruth t = b.truth(); // the same instant
    if (policy == int(v1::ClosePolicy::AutoClose)) {
        QCOMPARE(t.relayState, v1::RelayState::Closed);
        QCOMPARE(t.statusWord & v1::status::ClosePermitPending, 0);
    } else {
        QCOMPARE(t.relayState, v1::RelayState::Open);
        QCOMPARE(t.tripReason, TripReason::Arrears);
        QCOMPARE(t.statusWord & (v1::status::ClosePermitPending | v1::status::ArrearsTrip),
            v1::status::ClosePermitPending | v1::status::ArrearsTrip);
        b.advance(kHour); // waits, however long
        QCOMPARE(b.truth().relayState, v1::RelayState::Open);
        QCOMPARE(b.write1(v1::addr::RelayAction, 1), 0);
        QCOMPARE(b.lastResult(), CommandResult::ClosePermitAccepted);
        t = b.truth();
        QCOMPARE(t.relayState, v1::RelayState::Closed);
        QCOMPARE(t.statusWord & (v1::status::ClosePermitPending | v1::status::ArrearsTrip), 0);
    }
    QCOMPARE(t.tripReason, TripReason::None);
    b.advance(10 * kMinute);
    QVERIFY(b.truth().balanceFen < t.balanceFen); // charging again
}

void TestSimMeter::overdraftLimit()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 500;
    spec.thresholds.overdraftLimitFen = 1000;
    Bench b(spec, kMonday + 9 * kHour);
    b.meter.setLoadOverride(5000);
    for (int minute = 0; minute < 600; ++minute) {
        b.advance(kMinute);
        const MeterTruth t = b.truth();
        QCOMPARE(t.relayState == v1::RelayState::Open, t.balanceFen <= -1000);
        if (t.relayState == v1::RelayState::Open)
            break;
        QCOMPARE(bool(t.statusWord & v1::status::Overdraft), t.balanceFen < 0);
    }
    MeterTruth t = b.truth();
    QCOMPARE(t.tripReason, TripReason::Arrears);
    QVERIFY(t.balanceFen <= -1000 && t.balanceFen > -1010);
    QCOMPARE(b.balance(), qint32(t.balanceFen));
    QVERIFY(t.statusWord & v1::status::Overdraft);
    // A recharge that leaves the balance ≤ 0 does not close (re-close needs balance > 0).
    QCOMPARE(b.recharge(800, 5, 1), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Open);
    QCOMPARE(b.recharge(300, 6, 2), 0);
    t = b.truth();
    QVERIFY(t.balanceFen > 0);
    QCOMPARE(t.relayState, v1::RelayState::Closed);
}

void TestSimMeter::forcedModes()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 20;
    Bench b(spec, kMonday + 9 * kHour);
    b.meter.setLoadOverride(4000);
    b.advance(kHour);
    QCOMPARE(b.truth().tripReason, TripReason::Arrears);

    // FORCE_ON (保电): closed regardless, deductions continue below the overdraft limit.
    QCOMPARE(b.write1(v1::addr::RelayMode, 1), 0);
    QCOMPARE(b.lastResult(), CommandResult::RelayModeSet);
    MeterTruth t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    QCOMPARE(t.tripReason, TripReason::None);
    QCOMPARE(t.statusWord & (v1::status::Forced | v1::status::ArrearsTrip | v1::status::RelayOpen), v1::status::Forced);
    const qint64 before = t.balanceFen;
    b.advance(2 * kHour);
    t = b.truth();
    QVERIFY(t.balanceFen < before - 400);
    QVERIFY(t.statusWord & v1::status::Overdraft);
    QCOMPARE(t.activePowerW, 4000);

    // Back to AUTO: re-evaluated at once, trips for arrears.
    QCOMPARE(b.write1(v1::addr::RelayMode, 0), 0);
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.tripReason, TripReason::Arrears);

    // FORCE_OFF (拉闸): open with reason 3 even with credit; AUTO closes again at once.
    QCOMPARE(b.recharge(100'000, 5, 7), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Closed);
    QCOMPARE(b.write1(v1::addr::RelayMode, 2), 0);
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.tripReason, TripReason::ForcedOff);
    QCOMPARE(t.statusWord & (v1::status::Forced | v1::status::RelayOpen), v1::status::Forced | v1::status::RelayOpen);
    const qint64 energy = t.energyWh;
    b.advance(kHour);
    QCOMPARE(b.truth().energyWh, energy);
    QCOMPARE(b.write1(v1::addr::RelayMode, 0), 0);
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    QCOMPARE(t.statusWord & v1::status::Forced, 0);
}

void TestSimMeter::overloadTripReclosesAndLocksOut()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 10'000'000;
    spec.thresholds.overloadLimitW = 5000;
    spec.thresholds.overloadDelayS = 10;
    spec.thresholds.overloadRecoverDelayS = 60;
    spec.thresholds.overloadMaxTrips = 3;
    const qint64 t0 = kMonday + 3 * kHour + 17 * kSecond + 5; // not on a minute boundary
    Bench b(spec, t0);
    b.meter.setLoadOverride(5000); // at the limit: not above it
    b.nowMs = t0 + kHour;
    QCOMPARE(b.truth().relayState, v1::RelayState::Closed);

    const qint64 t1 = b.nowMs;
    b.meter.setLoadOverride(6000);
    const auto at = [&b](qint64 ms) {
        b.nowMs = ms;
        return b.truth();
    };
    QCOMPARE(at(t1 + 10 * kSecond - 1).relayState, v1::RelayState::Closed);
    MeterTruth t = at(t1 + 10 * kSecond);
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.tripReason, TripReason::Overload);
    QCOMPARE(t.overloadTripCount, quint16(1));
    QCOMPARE(t.statusWord & (v1::status::OverloadTrip | v1::status::OverloadLockout), v1::status::OverloadTrip);
    QCOMPARE(b.read16(v1::addr::OverloadTripCount), quint16(1));
    QCOMPARE(b.read16(v1::addr::TripReason), quint16(2));
    QCOMPARE(at(t1 + 70 * kSecond - 1).relayState, v1::RelayState::Open);
    QCOMPARE(at(t1 + 70 * kSecond).relayState, v1::RelayState::Closed); // re-closed after 60 s
    QCOMPARE(at(t1 + 80 * kSecond - 1).relayState, v1::RelayState::Closed);
    t = at(t1 + 80 * kSecond); // still overloaded: trips again after the delay
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.overloadTripCount, quint16(2));
    QCOMPARE(at(t1 + 140 * kSecond).relayState, v1::RelayState::Closed);
    t = at(t1 + 150 * kSecond); // third trip: lockout
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.tripReason, TripReason::Overload);
    QCOMPARE(t.overloadTripCount, quint16(3));
    QCOMPARE(t.statusWord & (v1::status::OverloadTrip | v1::status::OverloadLockout), v1::status::OverloadLockout);
    b.meter.setLoadOverride(1000);
    t = at(t1 + 2 * kDay); // no automatic re-close, whatever the load
    QCOMPARE(t.relayState, v1::RelayState::Open);
    // A CLOSE_PERMIT is not a lockout reset.
    QCOMPARE(b.write1(v1::addr::RelayAction, 1), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Open);
    QCOMPARE(b.write1(v1::addr::RelayAction, 2), 0);
    QCOMPARE(b.lastResult(), CommandResult::ClosePermitAccepted);
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    QCOMPARE(t.overloadTripCount, quint16(0));
    QCOMPARE(t.statusWord & (v1::status::OverloadTrip | v1::status::OverloadLockout), 0);
    QCOMPARE(at(t1 + 3 * kDay).relayState, v1::RelayState::Closed);

    // A short peak shorter than the delay does not trip; a forced relay ignores overload.
    b.meter.setLoadOverride(9000);
    QCOMPARE(at(b.nowMs + 9 * kSecond).relayState, v1::RelayState::Closed);
    b.meter.setLoadOverride(1000);
    QCOMPARE(at(b.nowMs + kHour).overloadTripCount, quint16(0));
    QCOMPARE(b.write1(v1::addr::RelayMode, 1), 0);
    b.meter.setLoadOverride(9000);
    t = at(b.nowMs + kHour);
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    QCOMPARE(t.overloadTripCount, quint16(0));
    // Limit 0 disables overload in AUTO.
    QCOMPARE(b.write(v1::addr::OverloadLimit, {0, 0}), 0);
    QCOMPARE(b.write1(v1::addr::RelayMode, 0), 0);
    QCOMPARE(at(b.nowMs + kHour).relayState, v1::RelayState::Closed);
}

void TestSimMeter::tariffBlock()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 1'000'000;
    Bench b(spec, kMonday + 9 * kHour);
    QCOMPARE(b.read(v1::addr::Tariff, 26),
        tariffRegisters(
            {12100, 9800, 6500, 3100}, 1, {{0, 3}, {480, 2}, {600, 0}, {720, 2}, {900, 1}, {1200, 2}, {1320, 3}}));
    // Flat all day at 1.0000 CNY/kWh: exactly 1 fen per 0.01 kWh.
    const QList<quint16> block = tariffRegisters({20000, 15000, 10000, 5000}, 7, {{0, 2}, {1200, 3}});
    QCOMPARE(b.write(v1::addr::Tariff, block), 0);
    QCOMPARE(b.lastResult(), CommandResult::ParametersUpdated);
    QCOMPARE(b.read16(v1::addr::TariffVersionActive), quint16(7));
    QCOMPARE(b.read(v1::addr::Tariff, 26), block);
    QCOMPARE(b.read16(v1::addr::CurrentTariffIndex), quint16(TariffSlot::Flat));
    QCOMPARE(b.truth().tariffVersionActive, quint16(7));

    b.meter.setLoadOverride(6000); // 10 increments a minute
    const MeterTruth before = b.truth();
    b.advance(10 * kMinute);
    const MeterTruth after = b.truth();
    QCOMPARE(after.energyWh - before.energyWh, 1000);
    QCOMPARE(after.consumedMoneyFen - before.consumedMoneyFen, 100);
    QCOMPARE(after.balanceFen, before.balanceFen - 100);
    // 20:00 → valley at 0.5000: half a fen per increment.
    b.nowMs = kMonday + 20 * kHour;
    const MeterTruth evening = b.truth();
    b.advance(10 * kMinute);
    QCOMPARE(b.truth().consumedMoneyFen - evening.consumedMoneyFen, 50);
    QCOMPARE(b.read16(v1::addr::CurrentTariffIndex), quint16(TariffSlot::Valley));
}

void TestSimMeter::tariffRejected_data()
{
    QTest::addColumn<QList<quint16>>("block");
    const std::array<quint32, 4> prices{12100, 9800, 6500, 3100};
    QTest::newRow("version 0") << tariffRegisters(prices, 0, {{0, 2}});
    QTest::newRow("tou_count 0") << tariffRegisters(prices, 2, {});
    QList<quint16> nine
        = tariffRegisters(prices, 2, {{0, 0}, {60, 1}, {120, 2}, {180, 3}, {240, 0}, {300, 1}, {360, 2}, {420, 3}});
    nine[9] = 9;
    QTest::newRow("tou_count 9") << nine;
    QTest::newRow("first start not 0") << tariffRegisters(prices, 2, {{5, 2}, {600, 0}});
    QTest::newRow("unsorted") << tariffRegisters(prices, 2, {{0, 2}, {720, 0}, {600, 1}});
    QTest::newRow("equal starts") << tariffRegisters(prices, 2, {{0, 2}, {600, 0}, {600, 1}});
    QTest::newRow("minute 1440") << tariffRegisters(prices, 2, {{0, 2}, {1440, 0}});
    QTest::newRow("slot index 4") << tariffRegisters(prices, 2, {{0, 2}, {600, 4}});
    QTest::newRow("price 0") << tariffRegisters({12100, 0, 6500, 3100}, 2, {{0, 2}});
    QTest::newRow("all prices 0") << tariffRegisters({0, 0, 0, 0}, 2, {{0, 2}});
}

void TestSimMeter::tariffRejected()
{
    QFETCH(QList<quint16>, block);
    Bench b(prepaidSpec());
    const QList<quint16> before = b.read(v1::addr::Tariff, 26);
    QCOMPARE(b.write(v1::addr::Tariff, block), 3);
    QCOMPARE(b.lastResult(), CommandResult::ParametersRejected);
    QCOMPARE(b.read(v1::addr::Tariff, 26), before);
    QCOMPARE(b.read16(v1::addr::TariffVersionActive), quint16(1));
}

void TestSimMeter::thresholds()
{
    MeterSpec spec = prepaidSpec();
    spec.balanceFen = 4000;
    Bench b(spec);
    QCOMPARE(b.read(v1::addr::Thresholds, 12), (QList<quint16>{0, 5000, 0, 2000, 0, 0, 0, 0, 10, 60, 3, 0}));
    QCOMPARE(b.truth().statusWord & (v1::status::Alarm1 | v1::status::Alarm2), v1::status::Alarm1);
    // Written separately: alarm2 alone, then a u16 alone with FC 0x06.
    QCOMPARE(b.write(v1::addr::Alarm2Threshold, {0, 4000}), 0); // ≤: alarm 2 at exactly the threshold
    QCOMPARE(b.lastResult(), CommandResult::ParametersUpdated);
    QCOMPARE(b.read16(v1::addr::StatusWord) & (v1::status::Alarm1 | v1::status::Alarm2),
        v1::status::Alarm1 | v1::status::Alarm2);
    QCOMPARE(b.write1(v1::addr::OverloadRecoverDelay, 120), 0);
    QCOMPARE(b.read16(v1::addr::OverloadRecoverDelay), quint16(120));
    // alarm2 ≤ alarm1, checked against the other's current value.
    QCOMPARE(b.write(v1::addr::Alarm1Threshold, {0, 3999}), 3);
    QCOMPARE(b.lastResult(), CommandResult::ParametersRejected);
    QCOMPARE(b.read32(v1::addr::Alarm1Threshold), 5000u);
    // All twelve at once; a bad one refuses the lot.
    const QList<quint16> all{0, 3000, 0, 1000, 0, 2000, 0, 8000, 5, 30, 2, 1};
    QList<quint16> bad = all;
    bad[11] = 2;
    QCOMPARE(b.write(v1::addr::Thresholds, bad), 3);
    QCOMPARE(b.read(v1::addr::Thresholds, 12), (QList<quint16>{0, 5000, 0, 4000, 0, 0, 0, 0, 10, 120, 3, 0}));
    QCOMPARE(b.write(v1::addr::Thresholds, all), 0);
    QCOMPARE(b.read(v1::addr::Thresholds, 12), all);
    QCOMPARE(b.truth().statusWord & (v1::status::Alarm1 | v1::status::Alarm2), 0);

    // A lower overdraft limit acts at once.
    b.meter.setLoadOverride(6000);
    QCOMPARE(b.write1(v1::addr::RelayMode, 1), 0);
    while (b.truth().balanceFen > -500)
        b.advance(kMinute);
    QCOMPARE(b.write1(v1::addr::RelayMode, 0), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Closed); // limit 20.00 CNY
    QCOMPARE(b.write(v1::addr::OverdraftLimit, {0, 0}), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Open);
    QCOMPARE(b.truth().tripReason, TripReason::Arrears);
}

void TestSimMeter::clock()
{
    Bench b(prepaidSpec(), kMonday + 9 * kHour);
    QCOMPARE(b.read32(v1::addr::MeterTime), quint32(b.nowMs / 1000));
    QCOMPARE(b.read32(v1::addr::SetTime), quint32(b.nowMs / 1000));
    QCOMPARE(b.read16(v1::addr::CurrentTariffIndex), quint16(TariffSlot::Flat)); // 09:00
    // Set two hours ahead: 11:00 on the meter's clock is sharp.
    const quint32 set = quint32(b.nowMs / 1000 + 2 * 3600);
    QCOMPARE(b.write(v1::addr::SetTime, {v1::high(set), v1::low(set)}), 0);
    QCOMPARE(b.lastResult(), CommandResult::ParametersUpdated);
    QCOMPARE(b.read32(v1::addr::MeterTime), set);
    QCOMPARE(b.read16(v1::addr::CurrentTariffIndex), quint16(TariffSlot::Sharp));
    b.advance(90 * kSecond + 400);
    QCOMPARE(b.read32(v1::addr::MeterTime), set + 90);
    // Deductions follow the meter's clock: a constant load now lands in the sharp slot.
    b.meter.setLoadOverride(6000);
    const MeterTruth before = b.truth();
    b.advance(30 * kMinute);
    const MeterTruth after = b.truth();
    QCOMPARE(after.slotEnergyWh[int(TariffSlot::Sharp)] - before.slotEnergyWh[int(TariffSlot::Sharp)], 3000);
    QCOMPARE(after.slotEnergyWh[int(TariffSlot::Flat)], before.slotEnergyWh[int(TariffSlot::Flat)]);

    // A meter whose clock was never set: bit 9, a clock running from 2000-01-01, until set.
    MeterSpec unset = prepaidSpec();
    unset.clockSet = false;
    Bench u(unset, kMonday);
    QVERIFY(u.read16(v1::addr::StatusWord) & v1::status::ClockNotSet);
    QVERIFY(u.truth().statusWord & v1::status::ClockNotSet);
    QCOMPARE(u.read32(v1::addr::MeterTime), 946'684'800u);
    u.advance(kHour);
    QCOMPARE(u.read32(v1::addr::MeterTime), 946'684'800u + 3600);
    const quint32 now = quint32(u.nowMs / 1000);
    QCOMPARE(u.write(v1::addr::SetTime, {v1::high(now), v1::low(now)}), 0);
    QCOMPARE(u.read16(v1::addr::StatusWord) & v1::status::ClockNotSet, 0);
    QCOMPARE(u.read32(v1::addr::MeterTime), now);
}

void TestSimMeter::statusBits()
{
    // Not configured: bit 10, registers 0, nothing charged.
    MeterSpec spec = prepaidSpec();
    spec.tariff = {};
    Bench b(spec, kMonday + 9 * kHour);
    QCOMPARE(b.read16(v1::addr::StatusWord) & v1::status::TariffNotConfigured, v1::status::TariffNotConfigured);
    QCOMPARE(b.read(v1::addr::Tariff, 26), QList<quint16>(26, 0));
    QCOMPARE(b.read16(v1::addr::TariffVersionActive), quint16(0));
    b.meter.setLoadOverride(6000);
    b.advance(kHour);
    MeterTruth t = b.truth();
    QCOMPARE(t.consumedMoneyFen, 0);
    QCOMPARE(t.balanceFen, 10000);
    QVERIFY(t.energyWh > spec.energyWh);
    QCOMPARE(b.write(v1::addr::Tariff, tariffRegisters({10000, 10000, 10000, 10000}, 3, {{0, 1}})), 0);
    QCOMPARE(b.read16(v1::addr::StatusWord) & v1::status::TariffNotConfigured, 0);
    // Every bit defined is one of 0..10; the reserved ones never show.
    QCOMPARE(b.read16(v1::addr::StatusWord) & ~v1::status::DefinedBits, 0);
    QCOMPARE(b.read16(v1::addr::StatusWord), quint16(0));
    // Alarm bits follow the balance down.
    b.meter.setLoadOverride(60000); // 1.00 CNY a minute
    bool seenAlarm1Only = false;
    bool seenBoth = false;
    while (b.truth().relayState == v1::RelayState::Closed) {
        b.advance(kMinute);
        t = b.truth();
        QCOMPARE(bool(t.statusWord & v1::status::Alarm1), t.balanceFen <= 5000);
        QCOMPARE(bool(t.statusWord & v1::status::Alarm2), t.balanceFen <= 2000);
        seenAlarm1Only = seenAlarm1Only || (t.balanceFen <= 5000 && t.balanceFen > 2000);
        seenBoth = seenBoth || t.balanceFen <= 2000;
    }
    QVERIFY(seenAlarm1Only && seenBoth);
}

void TestSimMeter::touAttributionOfAConstantLoad()
{
    // 6 kW for a whole Monday: 100 Wh in every minute, each slot gets its minutes of the
    // schedule exactly, and each is charged at its own price.
    MeterSpec spec = prepaidSpec();
    spec.energyWh = 1'000'000;
    spec.balanceFen = 1'000'000;
    Bench b(spec);
    b.meter.setLoadOverride(6000);
    const MeterTruth before = b.truth();
    b.advance(kDay);
    const MeterTruth after = b.truth();
    const std::array<qint64, 4> minutes{120, 300, 420, 600}; // sharp, peak, flat, valley
    qint64 expectedUnits = 0;
    for (int i = 0; i < 4; ++i) {
        QCOMPARE(after.slotEnergyWh[i] - before.slotEnergyWh[i], minutes[i] * 100);
        expectedUnits += minutes[i] * 100 * touTariff().prices[i];
    }
    QCOMPARE(after.energyWh - before.energyWh, 144'000);
    QCOMPARE(after.consumedMoneyFen * 100'000 + after.remainderUnits, expectedUnits);
    const QList<quint16> regs = b.read(v1::addr::EnergySharp, 8);
    for (int i = 0; i < 4; ++i)
        QCOMPARE(qint64(v1::u32(regs[2 * i], regs[2 * i + 1])) * 10, after.slotEnergyWh[i]);
}

void TestSimMeter::energyIsTheIntegralOfTheProfile_data()
{
    QTest::addColumn<int>("kind");
    for (LoadProfileKind kind : {LoadProfileKind::Restaurant, LoadProfileKind::Retail, LoadProfileKind::Office,
             LoadProfileKind::ColdStore, LoadProfileKind::Idle})
        QTest::newRow(qPrintable(loadProfileName(kind))) << int(kind);
}

void TestSimMeter::energyIsTheIntegralOfTheProfile()
{
    // Over a week of random, uneven steps, with the relay held closed: the energy is the exact
    // integral of the profile (summed here minute by minute, independently), each increment is
    // in the slot of the minute it completed in, and the charge is Σ increments × their price.
    QFETCH(int, kind);
    QRandomGenerator rng(test::testSeed());
    MeterSpec spec = prepaidSpec();
    spec.profile = LoadProfileKind(kind);
    spec.deviceType = v1::DeviceType::ThreePhase;
    spec.maxCurrentMa = 80000;
    spec.energyWh = 3'000'007; // not a whole 10 Wh: the first increment needs 3 Wh
    spec.balanceFen = 100'000'000;
    spec.relayMode = RelayMode::ForceOn;
    const qint64 start = kMonday + 13 * kMinute + 1234;
    Bench b(spec, start);
    const LoadProfile &profile = b.meter.loadProfile();
    const MeterTruth before = b.truth();
    const qint64 end = start + 7 * kDay;
    while (b.nowMs < end) {
        const int pick = int(rng.bounded(3));
        const qint64 step = pick == 0 ? qint64(rng.bounded(1000))
            : pick == 1               ? qint64(rng.bounded(5 * 60'000)) + 1
                                      : qint64(rng.bounded(3 * 3'600'000)) + 1;
        b.nowMs = std::min(end, b.nowMs + step);
        b.meter.advanceTo(b.nowMs);
    }
    const MeterTruth after = b.truth();

    // The oracle: W·ms minute by minute, increments attributed to the minute they complete in.
    qint64 wms = 7 * kWmsPerWh; // the 7 Wh already on the meter beyond the last 10 Wh
    std::array<qint64, 4> slotUnits{};
    for (qint64 t = start; t < end;) {
        const qint64 minuteEnd = std::min(end, (t / kMinute + 1) * kMinute);
        const qint64 before10 = wms / (10 * kWmsPerWh);
        wms += profile.powerW(t) * (minuteEnd - t);
        const int minuteOfDay = int(((t / kMinute) + kUtcOffset) % 1440);
        slotUnits[int(demoSlot(minuteOfDay))] += wms / (10 * kWmsPerWh) - before10;
        t = minuteEnd;
    }
    QCOMPARE(after.energyWh - before.energyWh, wms / kWmsPerWh - 7);
    qint64 charged = 0;
    for (int i = 0; i < 4; ++i) {
        QCOMPARE(after.slotEnergyWh[i] - before.slotEnergyWh[i], slotUnits[i] * 10);
        charged += slotUnits[i] * 10 * touTariff().prices[i];
    }
    QCOMPARE(after.consumedMoneyFen * 100'000 + after.remainderUnits, charged);
    QCOMPARE(after.balanceFen, spec.balanceFen - after.consumedMoneyFen);
    QVERIFY(after.energyWh - before.energyWh > (LoadProfileKind(kind) == LoadProfileKind::Idle ? 1000 : 100'000));
}

void TestSimMeter::energyRegistersWrap()
{
    MeterSpec spec = prepaidSpec();
    spec.energyWh = (qint64(1) << 32) * 10 - 50; // 5 increments before the wrap
    spec.balanceFen = 1'000'000;
    Bench b(spec);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), 0xFFFF'FFFBu);
    b.meter.setLoadOverride(6000);
    b.advance(kMinute); // + 10 increments
    QCOMPARE(b.read32(v1::addr::EnergyTotal), 5u);
    QCOMPARE(b.read32(v1::addr::AcrelEnergyTotal), 5u);
    QCOMPARE(b.truth().energyRegister, 5u);
    QCOMPARE(b.truth().energyWh, (qint64(1) << 32) * 10 + 50); // the truth does not wrap
}

void TestSimMeter::metersWithoutTouRegisters()
{
    MeterSpec spec = prepaidSpec();
    spec.hasTouRegisters = false;
    Bench b(spec, kMonday + 9 * kHour);
    b.meter.setLoadOverride(6000);
    b.advance(3 * kHour);
    QCOMPARE(b.read(v1::addr::EnergySharp, 8), QList<quint16>(8, 0));
    QCOMPARE(b.read(0x0002, 8), QList<quint16>(8, 0));
    QCOMPARE(b.read32(v1::addr::EnergyTotal), quint32(b.truth().energyWh / 10));
    // The meter still bills by its schedule (the truth keeps the slots).
    QCOMPARE(b.truth().slotEnergyWh[int(TariffSlot::Sharp)] - (123'456 * 10 / 100) * 10, 12'000);
}

void TestSimMeter::remoteOnlyMeter()
{
    Bench b(remoteOnlySpec(), kMonday + 9 * kHour);
    b.meter.setLoadOverride(3000);
    b.advance(kDay);
    MeterTruth t = b.truth();
    QCOMPARE(t.energyWh, remoteOnlySpec().energyWh + 72'000);
    QCOMPARE(t.balanceFen, 0);
    QCOMPARE(t.consumedMoneyFen, 0);
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    QCOMPARE(b.read32(0x0000), quint32(t.energyWh / 10));
    QCOMPARE(b.read(0x0002, 8), QList<quint16>(8, 0)); // ADL200: no TOU registers
    QCOMPARE(qint16(b.read16(0x000D)), qint16(3000));
    // The relay follows the force registers, and nothing else.
    QCOMPARE(b.write(0x0057, {1, 1}), 0);
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Open);
    QCOMPARE(t.tripReason, TripReason::ForcedOff);
    QCOMPARE(b.read16(0x000D), quint16(0));
    b.advance(kDay);
    QCOMPARE(b.truth().energyWh, t.energyWh);
    QCOMPARE(b.write(0x0057, {0, 0}), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Closed);
    QCOMPARE(b.write(0x0057, {1, 0}), 0);
    QCOMPARE(b.truth().relayState, v1::RelayState::Closed);
    QCOMPARE(b.read(0x0057, 2), (QList<quint16>{1, 0}));

    // An ADL400 (remote-only, with TOU registers) counts its slots.
    MeterSpec adl400 = remoteOnlySpec();
    adl400.hasTouRegisters = true;
    adl400.deviceType = v1::DeviceType::ThreePhase;
    Bench c(adl400, kMonday + 10 * kHour);
    const quint32 sharp = c.read32(0x0002);
    c.meter.setLoadOverride(6000);
    c.advance(kHour);
    QCOMPARE(c.read32(0x0002), sharp + 600);
}

void TestSimMeter::faultCounterReset()
{
    Bench b(prepaidSpec(), kMonday + 9 * kHour);
    b.meter.setLoadOverride(6000);
    b.advance(30 * kMinute); // flat, 0.65 fen per 0.01 kWh
    const MeterTruth before = b.truth();
    b.meter.injectCounterReset();
    QCOMPARE(b.read(v1::addr::EnergyTotal, 10), QList<quint16>(10, 0));
    QCOMPARE(b.read32(0x0000), 0u);
    QCOMPARE(b.truth().energyWh, before.energyWh);
    b.advance(kMinute);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), 10u);
    QCOMPARE(b.read32(v1::addr::EnergyFlat), 10u);
    QCOMPARE(b.truth().energyWh, before.energyWh + 100);
    QCOMPARE(b.truth().balanceFen, before.balanceFen - 6); // billing goes on: 10 × 0.65 fen
}

void TestSimMeter::faultRollover()
{
    Bench b(prepaidSpec(), kMonday + 9 * kHour);
    b.meter.setLoadOverride(6000);
    const MeterTruth before = b.truth();
    b.meter.injectRollover(3);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), 0xFFFF'FFFDu);
    QCOMPARE(b.truth().energyRegister, 0xFFFF'FFFDu);
    b.advance(kMinute);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), 7u);
    QCOMPARE(b.truth().energyWh, before.energyWh + 100);
}

void TestSimMeter::faultSwap()
{
    Bench b(prepaidSpec(), kMonday + 9 * kHour);
    b.meter.setLoadOverride(6000);
    QCOMPARE(b.recharge(5000, 5, 1), 0);
    b.advance(kHour);
    b.meter.injectSwap(24099999);
    QCOMPARE(b.meter.serial(), 24099999u);
    QCOMPARE(b.meter.spec().serial, 24099999u);
    QCOMPARE(b.read32(v1::addr::SerialNumber), 24099999u);
    MeterTruth t = b.truth();
    QCOMPARE(t.serial, 24099999u);
    QCOMPARE(t.energyWh, 0);
    QCOMPARE(t.energyRegister, 0u);
    QCOMPARE(t.purchaseCount, quint16(0));
    QCOMPARE(t.balanceFen, 0);
    QCOMPARE(t.totalPurchasedFen, 0);
    QCOMPARE(t.consumedMoneyFen, 0);
    QCOMPARE(t.lastRechargeTxn, 0u);
    QCOMPARE(t.relayState, v1::RelayState::Open); // no credit yet
    QCOMPARE(t.tripReason, TripReason::Arrears);
    QCOMPARE(b.read(v1::addr::EnergyTotal, 10), QList<quint16>(10, 0));
    QCOMPARE(b.read16(v1::addr::TariffVersionActive), quint16(1)); // programmed at installation
    // The balance transfer is recharge 1 of the new meter.
    QCOMPARE(b.recharge(4000, 1, 2), 0);
    t = b.truth();
    QCOMPARE(t.relayState, v1::RelayState::Closed);
    b.advance(kMinute);
    QCOMPARE(b.truth().energyWh, 100);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), 10u);
}

void TestSimMeter::faultFrozen()
{
    Bench b(prepaidSpec(), kMonday + 9 * kHour);
    b.meter.setLoadOverride(6000);
    b.advance(kMinute);
    const quint32 frozenAt = b.read32(v1::addr::EnergyTotal);
    const quint32 flatAt = b.read32(v1::addr::EnergyFlat);
    const MeterTruth before = b.truth();
    b.meter.setFrozen(true);
    b.advance(kHour);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), frozenAt);
    QCOMPARE(b.read32(v1::addr::EnergyFlat), flatAt);
    QCOMPARE(qint32(b.read32(v1::addr::ActivePowerTotal)), 6000); // the power still shows
    MeterTruth t = b.truth();
    QCOMPARE(t.frozen, true);
    QCOMPARE(t.energyWh, before.energyWh + 6000);
    QCOMPARE(t.balanceFen, before.balanceFen); // nothing measured, nothing charged
    b.meter.setFrozen(false);
    b.advance(kMinute);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), frozenAt + 10);
    QCOMPARE(b.truth().frozen, false);
    QVERIFY(b.truth().balanceFen < before.balanceFen);
}

void TestSimMeter::faultJump()
{
    Bench b(prepaidSpec(), kMonday + 3 * kHour);
    const quint32 before = b.read32(v1::addr::EnergyTotal);
    const qint64 truthBefore = b.truth().energyWh;
    b.meter.injectJump(123'450);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), before + 12'345);
    QCOMPARE(b.read32(0x0000), before + 12'345);
    b.meter.injectJump(-50'000);
    QCOMPARE(b.read32(v1::addr::EnergyTotal), before + 7'345);
    QCOMPARE(b.truth().energyWh, truthBefore);
}

void TestSimMeter::injectedExceptions()
{
    Bench b(prepaidSpec());
    b.meter.setDeviceFailure(true);
    QCOMPARE(b.send(readPdu(0x1000, 1)), hex("8304"));
    QCOMPARE(b.send(writeSinglePdu(0x1110, 1)), hex("8604"));
    QCOMPARE(b.send(hex("0400000001")), hex("8401"));
    QCOMPARE(b.truth().relayMode, RelayMode::Auto);
    b.meter.setDeviceFailure(false);
    b.meter.setBusy(true);
    QCOMPARE(b.send(readPdu(0x1000, 1)), hex("8306"));
    b.meter.setBusy(false);
    QCOMPARE(b.read16(0x1000), quint16(0x0100));
}

void TestSimMeter::determinism()
{
    const auto run = [](quint64 seed) {
        MeterSpec spec = prepaidSpec();
        spec.profile = LoadProfileKind::Restaurant;
        spec.balanceFen = 3000;
        Bench b(spec, kMonday, seed);
        QByteArray replies;
        QRandomGenerator rng(12345); // the same script for both meters
        quint16 seq = 5;
        for (int i = 0; i < 400; ++i) {
            b.advance(qint64(rng.bounded(2 * 3'600'000)));
            if (rng.bounded(4) == 0)
                replies += b.send(writeMultiplePdu(
                    0x1100, v1::RechargeMailbox{rng.bounded(5000u) + 1, seq++, quint32(i)}.registers()));
            replies += b.send(readPdu(0x1000, 48));
        }
        return std::make_pair(b.truth(), replies);
    };
    const auto [a, aReplies] = run(1);
    const auto [b, bReplies] = run(1);
    const auto [c, cReplies] = run(2);
    QCOMPARE(aReplies, bReplies);
    QCOMPARE(a.energyWh, b.energyWh);
    QCOMPARE(a.slotEnergyWh, b.slotEnergyWh);
    QCOMPARE(a.balanceFen, b.balanceFen);
    QCOMPARE(a.remainderUnits, b.remainderUnits);
    QCOMPARE(a.statusWord, b.statusWord);
    QCOMPARE(a.activePowerW, b.activePowerW);
    QVERIFY(a.energyWh != c.energyWh); // another seed, another shop
    QVERIFY(aReplies != cReplies);
}

void TestSimMeter::longRandomRun()
{
    // Sixty simulated days of a busy meter driven by a seeded random script: recharges (right,
    // duplicate, wrong), relay modes and actions, thresholds, tariffs, clock, load overrides,
    // uneven steps. After every step the registers agree with the truth, the balance
    // invariant holds, the relay obeys the rules, and the energy never exceeds the profile.
    const quint32 seed = test::testSeed();
    QRandomGenerator rng(seed);
    MeterSpec spec = prepaidSpec();
    spec.profile = LoadProfileKind::Restaurant;
    spec.deviceType = v1::DeviceType::ThreePhase;
    spec.maxCurrentMa = 80000;
    spec.balanceFen = 2000;
    spec.totalPurchasedFen = 2000;
    spec.purchaseCount = 1;
    const qint64 initialFen = spec.balanceFen - spec.totalPurchasedFen;
    Bench b(spec, kMonday + qint64(rng.bounded(kDay)));
    const LoadProfile &profile = b.meter.loadProfile();
    std::optional<qint64> override;
    quint32 txn = 1;
    const qint64 end = b.nowMs + 60 * kDay;
    MeterTruth last = b.truth();
    int applied = 0;
    int trips = 0;
    while (b.nowMs < end) {
        const int op = int(rng.bounded(100));
        if (op < 12) {
            // Less money comes in than the restaurant spends, so the meter keeps tripping.
            const quint16 next = quint16(last.purchaseCount + 1);
            const quint32 amount = rng.bounded(2'500u) + 1;
            if (b.recharge(amount, next, ++txn) == 0)
                ++applied;
            if (rng.bounded(3) == 0) { // a resend after a lost reply
                QCOMPARE(b.recharge(amount, next, txn), 0);
                QCOMPARE(b.lastResult(), CommandResult::RechargeDuplicate);
            }
        } else if (op < 15) {
            QCOMPARE(b.recharge(100, quint16(last.purchaseCount + 2), ++txn), 3);
        } else if (op < 20) {
            QCOMPARE(b.write1(v1::addr::RelayMode, quint16(rng.bounded(3))), 0);
        } else if (op < 23) {
            QCOMPARE(b.write1(v1::addr::RelayAction, quint16(rng.bounded(2) + 1)), 0);
        } else if (op < 28) {
            const quint32 limit = rng.bounded(3000u);
            QCOMPARE(b.write(v1::addr::OverdraftLimit, {v1::high(limit), v1::low(limit)}), 0);
            QCOMPARE(b.write1(v1::addr::ClosePolicy, quint16(rng.bounded(2))), 0);
        } else if (op < 31) {
            const quint32 limit = rng.bounded(2) ? quint32(0) : rng.bounded(20'000u) + 5000;
            QCOMPARE(b.write(v1::addr::OverloadLimit, {v1::high(limit), v1::low(limit)}), 0);
            QCOMPARE(b.write(v1::addr::OverloadDelay,
                         {quint16(rng.bounded(120)), quint16(rng.bounded(600)), quint16(rng.bounded(5) + 1)}),
                0);
        } else if (op < 34) {
            std::array<quint32, 4> prices{};
            for (quint32 &p : prices)
                p = rng.bounded(20'000u) + 1;
            QCOMPARE(b.write(v1::addr::Tariff,
                         tariffRegisters(prices, quint16(rng.bounded(1000u) + 1),
                             {{0, 3}, {quint16(rng.bounded(1439u) + 1), quint16(rng.bounded(4))}})),
                0);
        } else if (op < 37) {
            override = rng.bounded(2) ? std::optional<qint64>() : std::optional<qint64>(rng.bounded(40'000));
            b.meter.setLoadOverride(override);
        } else if (op < 38) {
            const quint32 now = quint32(b.nowMs / 1000 + rng.bounded(600) - 300);
            QCOMPARE(b.write(v1::addr::SetTime, {v1::high(now), v1::low(now)}), 0);
        }

        // Advance, and bound the energy by what the load could have drawn meanwhile.
        const MeterTruth pre = b.truth();
        const qint64 from = b.nowMs;
        const qint64 to = std::min(end, from + qint64(rng.bounded(rng.bounded(4) ? 600'000 : 4 * 3'600'000)) + 1);
        qint64 maxWms = 0;
        for (qint64 t = from; t < to;) {
            const qint64 next = std::min(to, (t / kMinute + 1) * kMinute);
            maxWms += (override ? *override : profile.powerW(t)) * (next - t);
            t = next;
        }
        b.nowMs = to;
        const MeterTruth t = b.truth();
        QVERIFY(t.energyWh >= pre.energyWh);
        QVERIFY2(t.energyWh - pre.energyWh <= maxWms / kWmsPerWh + 1, qPrintable(QStringLiteral("seed %1").arg(seed)));
        if (pre.relayMode == RelayMode::ForceOn) // closed all along: the whole integral
            QVERIFY(t.energyWh - pre.energyWh >= maxWms / kWmsPerWh - 1);
        if (t.tripReason == TripReason::Arrears && last.tripReason != TripReason::Arrears)
            ++trips;

        // The invariant and the registers.
        QCOMPARE(t.balanceFen, initialFen + t.totalPurchasedFen - t.consumedMoneyFen);
        QVERIFY(t.remainderUnits >= 0 && t.remainderUnits < 100'000);
        const QList<quint16> r = b.read(v1::addr::BlockB, v1::kBlockBCount);
        QCOMPARE(r.size(), v1::kBlockBCount);
        const auto at32 = [&r](quint16 a) { return v1::u32(r[a - 0x1000], r[a - 0x1000 + 1]); };
        QCOMPARE(r[v1::addr::StatusWord - 0x1000], t.statusWord);
        QCOMPARE(r[v1::addr::RelayState - 0x1000], quint16(t.relayState));
        QCOMPARE(r[v1::addr::TripReason - 0x1000], quint16(t.tripReason));
        QCOMPARE(r[v1::addr::PurchaseCount - 0x1000], t.purchaseCount);
        QCOMPARE(qint32(at32(v1::addr::Balance)), qint32(t.balanceFen));
        QCOMPARE(at32(v1::addr::TotalPurchased), quint32(t.totalPurchasedFen));
        QCOMPARE(at32(v1::addr::ConsumedMoneyTotal), quint32(t.consumedMoneyFen));
        QCOMPARE(at32(v1::addr::EnergyTotal), quint32(t.energyWh / 10));
        QCOMPARE(qint32(at32(v1::addr::ActivePowerTotal)), qint32(t.activePowerW));
        QCOMPARE(r[v1::addr::TariffVersionActive - 0x1000], t.tariffVersionActive);
        QCOMPARE(r[v1::addr::OverloadTripCount - 0x1000], t.overloadTripCount);
        quint32 slots = 0;
        for (int i = 0; i < 4; ++i)
            slots += at32(quint16(v1::addr::EnergySharp + 2 * i));
        QCOMPARE(slots, at32(v1::addr::EnergyTotal));

        // The relay rules.
        const qint64 limit = qint64(b.read32(v1::addr::OverdraftLimit));
        switch (t.relayMode) {
        case RelayMode::ForceOn: QCOMPARE(t.relayState, v1::RelayState::Closed); break;
        case RelayMode::ForceOff: QCOMPARE(t.tripReason, TripReason::ForcedOff); break;
        case RelayMode::Auto:
            if (t.balanceFen <= -limit)
                QCOMPARE(t.relayState, v1::RelayState::Open);
            if (t.tripReason == TripReason::Arrears && b.read16(v1::addr::ClosePolicy) == 0)
                QVERIFY(t.balanceFen <= 0);
            break;
        }
        if (t.relayState == v1::RelayState::Open)
            QCOMPARE(t.activePowerW, 0);
        last = t;
    }
    qInfo("%d recharges applied, %d arrears trips", applied, trips);
    QVERIFY(applied > 50);
    QVERIFY(trips > 0);
}

void TestSimMeter::loadProfileShapes()
{
    // Averages over four weeks of a quarter hour around a local time, so the noise does not
    // decide.
    const auto average = [](const LoadProfile &p, int weekday, int minuteOfDay) {
        qint64 sum = 0;
        for (int week = 0; week < 4; ++week) {
            for (int m = minuteOfDay - 7; m <= minuteOfDay + 7; ++m)
                sum += p.powerW(kMonday + (week * 7 + weekday) * kDay + m * kMinute);
        }
        return double(sum) / (4 * 15);
    };
    const auto peak
        = [](LoadProfileKind kind) { return LoadProfile::defaultPeakW(kind, v1::DeviceType::SinglePhase, 60000); };
    const LoadProfile restaurant(LoadProfileKind::Restaurant, peak(LoadProfileKind::Restaurant), 3, kUtcOffset);
    const double lunch = average(restaurant, 2, 12 * 60 + 15);
    const double dinner = average(restaurant, 2, 19 * 60);
    const double afternoon = average(restaurant, 2, 16 * 60);
    const double night = average(restaurant, 2, 3 * 60);
    QVERIFY(lunch > 0.8 * peak(LoadProfileKind::Restaurant));
    QVERIFY(dinner > 0.8 * peak(LoadProfileKind::Restaurant));
    QVERIFY(afternoon < 0.5 * lunch && afternoon < 0.5 * dinner);
    QVERIFY(night < 0.1 * lunch); // closed late at night

    const LoadProfile retail(LoadProfileKind::Retail, peak(LoadProfileKind::Retail), 3, kUtcOffset);
    QVERIFY(average(retail, 2, 15 * 60) > 8 * average(retail, 2, 3 * 60));
    QVERIFY(average(retail, 2, 9 * 60) < 0.15 * average(retail, 2, 11 * 60));  // opens at 10:00
    QVERIFY(average(retail, 2, 23 * 60) < 0.15 * average(retail, 2, 21 * 60)); // closed after 22:00
    QVERIFY(average(retail, 5, 15 * 60) > 1.15 * average(retail, 2, 15 * 60)); // busier on Saturday

    const LoadProfile office(LoadProfileKind::Office, peak(LoadProfileKind::Office), 3, kUtcOffset);
    QVERIFY(average(office, 2, 10 * 60) > 5 * average(office, 5, 10 * 60));     // Wednesday vs Saturday
    QVERIFY(average(office, 6, 10 * 60) < 0.2 * peak(LoadProfileKind::Office)); // Sunday
    QVERIFY(average(office, 2, 10 * 60) > 5 * average(office, 2, 3 * 60));
    QVERIFY(average(office, 2, 12 * 60 + 45) < 0.85 * average(office, 2, 10 * 60)); // lunch dip

    // Cold store: the compressor cycles (two levels), but every hour looks much the same.
    const LoadProfile cold(LoadProfileKind::ColdStore, peak(LoadProfileKind::ColdStore), 3, kUtcOffset);
    int high = 0;
    std::array<qint64, 24> hourly{};
    for (qint64 m = 0; m < 1440; ++m) {
        const qint64 w = cold.powerW(kMonday + m * kMinute);
        high += w > 0.7 * peak(LoadProfileKind::ColdStore) ? 1 : 0;
        hourly[m / 60] += w;
    }
    QVERIFY2(high > 1440 / 3 && high < 1440 * 9 / 10, qPrintable(QString::number(high)));
    const auto [lo, hi] = std::minmax_element(hourly.begin(), hourly.end());
    QVERIFY(double(*hi) < 1.6 * double(*lo));

    const LoadProfile idle(LoadProfileKind::Idle, peak(LoadProfileKind::Idle), 3, kUtcOffset);
    for (qint64 m = 0; m < 7 * 1440; m += 7) {
        const qint64 w = idle.powerW(kMonday + m * kMinute);
        QVERIFY(w > 0 && w <= 20);
    }

    // Constant within a minute, deterministic, seeded.
    const LoadProfile again(LoadProfileKind::Restaurant, peak(LoadProfileKind::Restaurant), 3, kUtcOffset);
    const LoadProfile other(LoadProfileKind::Restaurant, peak(LoadProfileKind::Restaurant), 4, kUtcOffset);
    int differ = 0;
    for (qint64 m = 0; m < 1440; ++m) {
        const qint64 t = kMonday + m * kMinute;
        QCOMPARE(restaurant.powerW(t), restaurant.powerW(t + kMinute - 1));
        QCOMPARE(restaurant.powerW(t), again.powerW(t));
        differ += restaurant.powerW(t) != other.powerW(t) ? 1 : 0;
    }
    QVERIFY(differ > 1000);
    // Local time: at 03:00 UTC (11:00 in Sanming) the +08:00 restaurant is busy, the UTC one asleep.
    const LoadProfile utc(LoadProfileKind::Restaurant, peak(LoadProfileKind::Restaurant), 3, 0);
    const qint64 threeUtc = kMonday + 2 * kDay + 11 * kHour + 45 * kMinute;
    QVERIFY(restaurant.powerW(threeUtc) > 5 * utc.powerW(threeUtc));
    // Sizes: three phases carry three times what one does.
    QCOMPARE(LoadProfile::defaultPeakW(LoadProfileKind::Retail, v1::DeviceType::ThreePhase, 60000),
        3 * LoadProfile::defaultPeakW(LoadProfileKind::Retail, v1::DeviceType::SinglePhase, 60000));
}

void TestSimMeter::buildingParseErrors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");

    // A valid file with one gateway of two buses; each row breaks one thing.
    const auto building = [](const char *top, const char *bus0, const char *bus1) -> QByteArray {
        return QByteArray("{\"name\": \"t\", ") + top + R"("gateways": [{"name": "g", "buses": [)"
            + R"({"name": "b0", "meters": [)" + bus0 + "]}, " + R"({"name": "b1", "meters": [)" + bus1 + "]}]}]}";
    };
    const char *ok0 = R"({"unit_id": 1, "serial": 11}, {"unit_id": 2, "serial": 12})";
    const char *ok1 = R"({"unit_id": 61, "serial": 21})";
    const auto row = [](const char *name, const QByteArray &json, const char *message) {
        QTest::newRow(name) << json << QString::fromUtf8(message);
    };
    row("valid", building("", ok0, ok1), "");
    row("not json", "{\"name\": ", "not valid JSON at offset");
    row("not an object", "[1, 2]", "a building file is one JSON object");
    row("no gateways", "{\"name\": \"x\"}", "(top level): missing \"gateways\"");
    row("unknown top-level key", building(R"("colour": "red", )", ok0, ok1), "(top level): unknown key \"colour\"");
    row("unit id 248", building("", ok0, R"({"unit_id": 248, "serial": 21})"),
        "gateways[0].buses[1].meters[0].unit_id: 248 is not in 1..247");
    row("unit id 0", building("", R"({"unit_id": 0, "serial": 11})", ok1),
        "gateways[0].buses[0].meters[0].unit_id: 0 is not in 1..247");
    row("unit id a string", building("", R"({"unit_id": "1", "serial": 11})", ok1),
        "gateways[0].buses[0].meters[0].unit_id: expected an integer, got a string");
    row("unit id fractional", building("", R"({"unit_id": 1.5, "serial": 11})", ok1),
        "gateways[0].buses[0].meters[0].unit_id: 1.5 is not an integer");
    row("unit id missing", building("", R"({"serial": 11})", ok1),
        "gateways[0].buses[0].meters[0]: missing \"unit_id\"");
    row("serial missing", building("", R"({"unit_id": 1})", ok1), "gateways[0].buses[0].meters[0]: missing \"serial\"");
    row("duplicate unit id across buses", building("", ok0, R"({"unit_id": 2, "serial": 21})"),
        "gateways[0].buses[1].meters[0].unit_id: 2 is already used on this gateway by gateways[0].buses[0].meters[1]");
    row("duplicate serial", building("", ok0, R"({"unit_id": 61, "serial": 12})"),
        "gateways[0].buses[1].meters[0].serial: 12 is already used by gateways[0].buses[0].meters[1]");
    row("serial 0", building("", R"({"unit_id": 1, "serial": 0})", ok1), "meters[0].serial: 0 is not in 1..4294967295");
    row("serial beyond u32", building("", R"({"unit_id": 1, "serial": 4294967296})", ok1),
        "meters[0].serial: 4294967296 is not in 1..4294967295");
    row("unknown meter key", building("", R"({"unit_id": 1, "serial": 11, "colour": 1})", ok1),
        "gateways[0].buses[0].meters[0]: unknown key \"colour\"");
    row("device type", building("", R"({"unit_id": 1, "serial": 11, "device_type": "two_phase"})", ok1),
        "meters[0].device_type: \"two_phase\" is not one of single_phase, three_phase");
    row("capability", building("", R"({"unit_id": 1, "serial": 11, "capability": 1})", ok1),
        "meters[0].capability: expected one of prepaid, remote_only, got a number");
    row("profile", building("", R"({"unit_id": 1, "serial": 11, "profile": "bakery"})", ok1),
        "meters[0].profile: \"bakery\" is not one of restaurant, retail, office, cold_store, idle");
    row("relay mode", building("", R"({"unit_id": 1, "serial": 11, "relay_mode": "on"})", ok1),
        "meters[0].relay_mode: \"on\" is not one of auto, force_on, force_off");
    row("has_tou_registers not a bool", building("", R"({"unit_id": 1, "serial": 11, "has_tou_registers": 1})", ok1),
        "meters[0].has_tou_registers: expected true or false, got a number");
    row("max below rated",
        building("", R"({"unit_id": 1, "serial": 11, "rated_current_ma": 10000, "max_current_ma": 5000})", ok1),
        "meters[0].max_current_ma: 5000 is below rated_current_ma 10000");
    row("balance beyond i32", building("", R"({"unit_id": 1, "serial": 11, "balance_fen": 2147483648})", ok1),
        "meters[0].balance_fen: 2147483648 is not in -2147483648..2147483647");
    row("purchase count", building("", R"({"unit_id": 1, "serial": 11, "purchase_count": 65536})", ok1),
        "meters[0].purchase_count: 65536 is not in 0..65535");
    row("negative energy", building("", R"({"unit_id": 1, "serial": 11, "energy_wh": -1})", ok1),
        "meters[0].energy_wh: -1 is not in");
    row("remote_only with a balance",
        building("", R"({"unit_id": 1, "serial": 11, "capability": "remote_only", "balance_fen": 100})", ok1),
        "meters[0].balance_fen: a remote_only meter has no balance");
    row("baud", building("", ok0, ok1).replace("\"name\": \"b0\"", "\"name\": \"b0\", \"baud\": 9601"),
        "gateways[0].buses[0].baud: 9601 is not a standard rate");
    row("bits per char", building("", ok0, ok1).replace("\"name\": \"b1\"", "\"name\": \"b1\", \"bits_per_char\": 12"),
        "gateways[0].buses[1].bits_per_char: 12 is not in 10..11");
    row("turnaround min above max",
        building("", ok0, ok1)
            .replace("\"name\": \"b0\"", "\"name\": \"b0\", \"turnaround_min_ms\": 50, \"turnaround_max_ms\": 40"),
        "gateways[0].buses[0].turnaround_min_ms: 50 is above turnaround_max_ms 40");
    row("bus without meters",
        building("", ok0, ok1).replace(R"("meters": [{"unit_id": 61, "serial": 21}])", R"("x": 1)"),
        "gateways[0].buses[1]: unknown key \"x\"");
    row("gateway without buses", R"({"gateways": [{"name": "g"}]})", "gateways[0]: missing \"buses\"");
    row("empty gateways", R"({"gateways": []})", "gateways: a building has at least one gateway");
    row("meters not an array", R"({"gateways": [{"buses": [{"meters": {}}]}]})",
        "gateways[0].buses[0].meters: expected an array, got an object");
    row("utc offset", building(R"("utc_offset_minutes": 900, )", ok0, ok1),
        "utc_offset_minutes: 900 is not in -720..840");
    row("tou not starting at 0",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}, "tou": [[60, "flat"]]}, )",
            ok0, ok1),
        "tariff.tou[0]: the first segment starts at 60, not at minute 0");
    row("tou not ascending",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}, "tou": [[0, "flat"], [600, "peak"], [600, "sharp"]]}, )",
            ok0, ok1),
        "tariff.tou[2]: start 600 is not after the previous start 600");
    row("tou minute 1440",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}, "tou": [[0, "flat"], [1440, "peak"]]}, )",
            ok0, ok1),
        "tariff.tou[1][0]: 1440 is not in 0..1439");
    row("tou slot name",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}, "tou": [[0, "noon"]]}, )",
            ok0, ok1),
        "tariff.tou[0][1]: \"noon\" is not one of sharp, peak, flat, valley");
    row("tou pair shape",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}, "tou": [[0]]}, )",
            ok0, ok1),
        "tariff.tou[0]: expected [start minute, slot]");
    row("nine tou segments",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}, "tou": [[0, "flat"], [1, "flat"], [2, "flat"], [3, "flat"], [4, "flat"], [5, "flat"], [6, "flat"], [7, "flat"], [8, "flat"]]}, )",
            ok0, ok1),
        "tariff.tou: 9 segments; a meter holds 1..8");
    row("price 0",
        building(
            R"("tariff": {"version": 1, "prices": {"sharp": 0, "peak": 1, "flat": 1, "valley": 1}, "tou": [[0, "flat"]]}, )",
            ok0, ok1),
        "tariff.prices.sharp: 0 is not in 1..4294967295");
    row("price missing",
        building(R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1}, "tou": [[0, "flat"]]}, )",
            ok0, ok1),
        "tariff.prices: missing \"valley\"");
    row("tariff without tou",
        building(R"("tariff": {"version": 1, "prices": {"sharp": 1, "peak": 1, "flat": 1, "valley": 1}}, )", ok0, ok1),
        "tariff: version 1 needs \"prices\" and \"tou\"");
    row("alarm2 above alarm1", building(R"("thresholds": {"alarm1_fen": 1000, "alarm2_fen": 2000}, )", ok0, ok1),
        "thresholds.alarm2_fen: 2000 is above alarm1_fen 1000");
    row("meter's alarm2 above the building's alarm1",
        building("", R"({"unit_id": 1, "serial": 11, "thresholds": {"alarm2_fen": 6000}})", ok1),
        "gateways[0].buses[0].meters[0].thresholds.alarm2_fen: 6000 is above alarm1_fen 5000");
    row("close policy", building(R"("thresholds": {"close_policy": "never"}, )", ok0, ok1),
        "thresholds.close_policy: \"never\" is not one of auto_close, wait_for_permit");
    row("overload max trips 0", building(R"("thresholds": {"overload_max_trips": 0}, )", ok0, ok1),
        "thresholds.overload_max_trips: 0 is not in 1..65535");
    row("unknown threshold", building(R"("thresholds": {"alarm3_fen": 1}, )", ok0, ok1),
        "thresholds: unknown key \"alarm3_fen\"");
    row("seed negative", building(R"("seed": -1, )", ok0, ok1), "seed: -1 is not in 0..");
}

void TestSimMeter::buildingParseErrors()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    QString error;
    const std::optional<BuildingSpec> building = BuildingSpec::parse(json, &error);
    if (message.isEmpty()) {
        QVERIFY2(building, qPrintable(error));
        QCOMPARE(building->meterCount(), 3);
        return;
    }
    QVERIFY(!building);
    QVERIFY2(error.contains(message), qPrintable(QStringLiteral("got \"%1\"").arg(error)));
}

void TestSimMeter::buildingParseDefaultsAndMerge()
{
    const QByteArray json = R"({
        "name": "三明商会大厦", "seed": 99,
        "tariff": {"version": 1, "prices": {"sharp": 12100, "peak": 9800, "flat": 6500, "valley": 3100},
                   "tou": [[0, "valley"], [480, "flat"]]},
        "thresholds": {"alarm1_fen": 6000, "overdraft_limit_fen": 100},
        "gateways": [{"name": "A", "buses": [{"name": "A-COM1", "baud": 19200, "bits_per_char": 10, "meters": [
            {"unit_id": 1, "serial": 11},
            {"unit_id": 2, "serial": 12, "device_type": "three_phase", "capability": "remote_only",
             "has_tou_registers": false, "profile": "cold_store", "metering_point": "B1-001",
             "energy_wh": 123, "relay_mode": "force_on", "clock_set": false},
            {"unit_id": 3, "serial": 13, "balance_fen": -500, "purchase_count": 3, "total_purchased_fen": 9000,
             "thresholds": {"overdraft_limit_fen": 20000, "close_policy": "wait_for_permit"},
             "tariff": {"version": 2}},
            {"unit_id": 4, "serial": 14, "tariff": {"version": 0}}
        ]}]}]
    })";
    QString error;
    const std::optional<BuildingSpec> b = BuildingSpec::parse(json, &error);
    QVERIFY2(b, qPrintable(error));
    QCOMPARE(b->name, QStringLiteral("三明商会大厦"));
    QCOMPARE(b->utcOffsetMinutes, 480);
    QCOMPARE(b->seed, quint64(99));
    QCOMPARE(b->meterCount(), 4);
    const BusSpec &bus = b->gateways[0].buses[0];
    QCOMPARE(bus.baud, 19200);
    QCOMPARE(bus.bitsPerChar, 10);
    QCOMPARE(bus.turnaroundMinMs, 10);
    QCOMPARE(bus.turnaroundMaxMs, 30);
    const MeterSpec &m1 = bus.meters[0];
    QCOMPARE(m1.deviceType, v1::DeviceType::SinglePhase);
    QVERIFY(m1.prepaid);
    QVERIFY(m1.hasTouRegisters);
    QCOMPARE(m1.profile, LoadProfileKind::Retail);
    QCOMPARE(m1.relayMode, RelayMode::Auto);
    QCOMPARE(m1.tariff.version, quint16(1));
    QCOMPARE(m1.tariff.segments.size(), 2);
    QCOMPARE(m1.thresholds.alarm1Fen, 6000u);
    QCOMPARE(m1.thresholds.alarm2Fen, 2000u); // struct default under the building's
    QCOMPARE(m1.thresholds.overdraftLimitFen, 100u);
    QVERIFY(m1.clockSet);
    const MeterSpec &m2 = bus.meters[1];
    QVERIFY(!m2.prepaid);
    QVERIFY(!m2.hasTouRegisters);
    QCOMPARE(m2.deviceType, v1::DeviceType::ThreePhase);
    QCOMPARE(m2.profile, LoadProfileKind::ColdStore);
    QCOMPARE(m2.meteringPoint, QStringLiteral("B1-001"));
    QCOMPARE(m2.energyWh, 123);
    QCOMPARE(m2.relayMode, RelayMode::ForceOn);
    QVERIFY(!m2.clockSet);
    const MeterSpec &m3 = bus.meters[2];
    QCOMPARE(m3.balanceFen, -500);
    QCOMPARE(m3.purchaseCount, quint16(3));
    QCOMPARE(m3.totalPurchasedFen, 9000);
    QCOMPARE(m3.thresholds.overdraftLimitFen, 20000u); // the meter's own
    QCOMPARE(m3.thresholds.alarm1Fen, 6000u);          // the building's
    QCOMPARE(m3.thresholds.closePolicy, v1::ClosePolicy::WaitForPermit);
    QCOMPARE(m3.tariff.version, quint16(2));
    QCOMPARE(m3.tariff.prices[0], 12100u); // prices and schedule from the building
    QCOMPARE(bus.meters[3].tariff.version, quint16(0));
    QVERIFY(bus.meters[3].tariff.segments.isEmpty());
    QCOMPARE(loadProfileName(LoadProfileKind::ColdStore), QStringLiteral("cold_store"));
    QCOMPARE(loadProfileName(LoadProfileKind::Idle), QStringLiteral("idle"));
}

void TestSimMeter::demoBuildingLoads()
{
    const BuildingSpec demo = BuildingSpec::demo();
    QCOMPARE(demo.name, QStringLiteral("三明商会大厦"));
    QCOMPARE(demo.meterCount(), 300);
    QCOMPARE(demo.gateways.size(), 3);
    QCOMPARE(demo.utcOffsetMinutes, 480);
    int prepaid = 0;
    for (const GatewaySpec &g : demo.gateways) {
        for (const BusSpec &bus : g.buses) {
            for (const MeterSpec &m : bus.meters) {
                QCOMPARE(m.tariff.version, quint16(1));
                QCOMPARE(m.tariff.prices, (std::array<quint32, 4>{12100, 9800, 6500, 3100}));
                QCOMPARE(m.tariff.segments, touTariff().segments);
                QVERIFY(m.energyWh >= 1'000'000 && m.energyWh <= 9'000'000);
                if (!m.prepaid)
                    continue;
                ++prepaid;
                QVERIFY(m.balanceFen >= 8000 && m.balanceFen <= 80000);
                QCOMPARE(m.totalPurchasedFen, m.balanceFen);
                QCOMPARE(m.purchaseCount, quint16(1));
            }
        }
    }
    QCOMPARE(prepaid, 276);
    // Every demo meter runs: a simulated day of the whole building keeps every invariant.
    for (const GatewaySpec &g : demo.gateways) {
        for (const BusSpec &bus : g.buses) {
            for (const MeterSpec &spec : bus.meters) {
                SimMeter meter(spec, demo.utcOffsetMinutes, demo.seed, kMonday);
                const MeterTruth t = meter.truth(kMonday + kDay);
                QCOMPARE(t.balanceFen, spec.balanceFen - t.consumedMoneyFen);
                QVERIFY(t.energyWh >= spec.energyWh);
            }
        }
    }
}

QTEST_GUILESS_MAIN(TestSimMeter)
#include "tst_simmeter.moc"
