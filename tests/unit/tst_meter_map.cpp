// The map in code (drivers/modbus/mapv1.*) against the shared contract
// (../shared/meters/prepay-meter-map-v1.csv), the worked recharge frame of the map, the tariff
// and threshold blocks, and the driver's decoding of Block B: every value a reply can carry
// is checked, and a reply that breaks the map is refused naming the field.
#include "modbus/mapv1.h"
#include "modbus/snapshot.h"

#include <QtCore/QFile>
#include <QtTest/QTest>

using namespace prepay::meter::v1;
using namespace prepay::modbus;

namespace {

// A plausible Block B: single-phase, relay closed, auto.
QList<quint16> blockB()
{
    QList<quint16> r(kBlockBCount, 0);
    const auto set = [&r](quint16 address, quint16 value) { r[address - addr::BlockB] = value; };
    const auto set32 = [&](quint16 address, quint32 value) {
        set(address, high(value));
        set(quint16(address + 1), low(value));
    };
    set(addr::MapVersion, kMapVersion);
    set(addr::DeviceType, 1);
    set32(addr::SerialNumber, 24050017);
    set(addr::PurchaseCount, 4);
    set32(addr::Balance, quint32(-1234)); // −12.34 yuan
    set32(addr::TotalPurchased, 50000);
    set32(addr::LastRechargeAmount, 10000);
    set32(addr::LastRechargeTxn, 0x12345678);
    set32(addr::EnergyTotal, 123456);
    set32(addr::EnergyPeak, 100000);
    set32(addr::EnergyValley, 23456);
    set32(addr::ActivePowerTotal, 2300);
    set(addr::VoltageA, 2201);
    set(addr::CurrentA, 1045);
    set(addr::PowerFactor, 998);
    set(addr::Frequency, 5002);
    set(addr::TariffVersionActive, 3);
    set(addr::CurrentTariffIndex, 1);
    set32(addr::MeterTime, 1795000000);
    set(addr::LastCmdResult, 1);
    set32(addr::ConsumedMoneyTotal, 51234);
    set(addr::StatusWord, status::Overdraft | status::Alarm1 | status::Alarm2);
    return r;
}

} // namespace

class TestMeterMap : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fieldTableMatchesTheSharedCsv();
    void holesAndFieldLookup();
    void workedRechargeFrame();
    void mailboxRejectsABadCheck();
    void tariffBlockRoundTripAndValidation_data();
    void tariffBlockRoundTripAndValidation();
    void thresholdBlockRoundTripAndValidation();
    void decodesBlockB();
    void derivesRelayMode();
    void refusesRepliesThatBreakTheMap_data();
    void refusesRepliesThatBreakTheMap();
    void decodesTheAcrelAlias();
};

void TestMeterMap::fieldTableMatchesTheSharedCsv()
{
    QFile csv(QStringLiteral(PREPAY_SHARED_DIR "/meters/prepay-meter-map-v1.csv"));
    QVERIFY2(csv.open(QIODevice::ReadOnly),
        qPrintable(QStringLiteral("cannot read %1: the contract lives in ../shared").arg(csv.fileName())));
    const QStringList lines = QString::fromUtf8(csv.readAll()).split(u'\n', Qt::SkipEmptyParts);
    QVERIFY(lines.first().startsWith(u"address_hex,address_dec,registers,name,type"));
    const auto table = fields();
    QCOMPARE(qsizetype(table.size()), lines.size() - 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QStringList c = lines[i].split(u',');
        const Field &f = table[size_t(i - 1)];
        QCOMPARE(f.address, quint16(c[1].toUInt()));
        QCOMPARE(int(f.count), c[2].toInt());
        QCOMPARE(QString::fromLatin1(f.name), c[3]);
        const QString type = c[4] == u"u16[16]" ? QStringLiteral("u16") : c[4];
        static const char *const types[] = {"u16", "i16", "u32", "i32"};
        QCOMPARE(QString::fromLatin1(types[int(f.type)]), type);
        static const char *const access[] = {"RO", "RW", "WO"};
        QCOMPARE(QString::fromLatin1(access[int(f.access)]), c[7]);
        QCOMPARE(QString(QChar(char16_t(f.block))), c[10]);
    }
}

void TestMeterMap::holesAndFieldLookup()
{
    QCOMPARE(QString::fromLatin1(fieldAt(0x1009)->name), QStringLiteral("balance")); // second word of balance
    QCOMPARE(QString::fromLatin1(fieldAt(0x1215)->name), QStringLiteral("tou_segments"));
    QVERIFY(fieldAt(0x0011) == nullptr); // between Block A and the force registers
    QVERIFY(fieldAt(0x121A) == nullptr); // between the tariff and the thresholds
    QVERIFY(fieldAt(0x1302) == nullptr); // past the end
    QCOMPARE(fieldNamed(u"rc_check")->address, quint16(0x1105));
    QVERIFY(fieldNamed(u"nothing") == nullptr);
}

void TestMeterMap::workedRechargeFrame()
{
    // Map §3: slave 1, 100.00 CNY, seq 5, txn 0x12345678, check 0x0C95:
    // 01 10 11 00 00 06 0C 00 00 27 10 00 05 12 34 56 78 0C 95 98 BA
    const RechargeMailbox m{10000, 5, 0x12345678};
    QCOMPARE(m.check(), quint16(0x0C95));
    QCOMPARE(m.registers(), (QList<quint16>{0x0000, 0x2710, 0x0005, 0x1234, 0x5678, 0x0C95}));
    const QByteArray frame = QByteArray::fromHex("011011000006"
                                                 "0C"
                                                 "00002710"
                                                 "0005"
                                                 "12345678"
                                                 "0C95");
    const quint16 crc = crc16(frame);
    QCOMPARE(quint8(crc & 0xFF), quint8(0x98)); // low byte first on the wire
    QCOMPARE(quint8(crc >> 8), quint8(0xBA));
    const auto back = RechargeMailbox::fromRegisters(m.registers());
    QVERIFY(back);
    QCOMPARE(back->amountFen, 10000u);
    QCOMPARE(back->sequence, quint16(5));
    QCOMPARE(back->txn, 0x12345678u);
}

void TestMeterMap::mailboxRejectsABadCheck()
{
    QList<quint16> regs = RechargeMailbox{10000, 5, 0x12345678}.registers();
    regs[5] ^= 1;
    QVERIFY(!RechargeMailbox::fromRegisters(regs));
    regs.removeLast();
    QVERIFY(!RechargeMailbox::fromRegisters(regs));
}

void TestMeterMap::tariffBlockRoundTripAndValidation_data()
{
    QTest::addColumn<QList<quint16>>("registers");
    QTest::addColumn<QString>("why"); // empty = valid
    TariffBlock t;
    t.prices = {12100, 9800, 6500, 3100};
    t.version = 7;
    t.segments = {{0, TariffSlot::Valley}, {480, TariffSlot::Flat}, {600, TariffSlot::Peak}, {1080, TariffSlot::Sharp},
        {1320, TariffSlot::Valley}};
    const QList<quint16> good = t.registers();
    QCOMPARE(good.size(), kTariffCount);
    QTest::newRow("valid") << good << QString();
    QList<quint16> r = good;
    r[1] = 0, r[0] = 0;
    QTest::newRow("zero price") << r << QStringLiteral("price 0 is 0");
    r = good, r[9] = 0;
    QTest::newRow("no segment") << r << QStringLiteral("tou_count 0");
    r = good, r[9] = 9;
    QTest::newRow("nine segments") << r << QStringLiteral("tou_count 9");
    r = good, r[10] = 5;
    QTest::newRow("first not at 0") << r << QStringLiteral("first segment starts at minute 5");
    r = good, r[13] = 4;
    QTest::newRow("slot 4") << r << QStringLiteral("tariff index 4");
    r = good, r[14] = 400;
    QTest::newRow("not ascending") << r << QStringLiteral("does not start after");
    r = good, r[18] = 1440;
    QTest::newRow("minute 1440") << r << QStringLiteral("minute 1440");
    r = good, r[8] = 0;
    QTest::newRow("version 0") << r << QStringLiteral("version 0");
    r = good, r.removeLast();
    QTest::newRow("short") << r << QStringLiteral("26 registers");
}

void TestMeterMap::tariffBlockRoundTripAndValidation()
{
    QFETCH(QList<quint16>, registers);
    QFETCH(QString, why);
    QString reason;
    const std::optional<TariffBlock> t = TariffBlock::fromRegisters(registers, &reason);
    if (why.isEmpty()) {
        QVERIFY2(t, qPrintable(reason));
        QCOMPARE(t->registers(), registers);
        QCOMPARE(t->segments.size(), 5);
    } else {
        QVERIFY(!t);
        QVERIFY2(reason.contains(why), qPrintable(reason));
    }
}

void TestMeterMap::thresholdBlockRoundTripAndValidation()
{
    ThresholdBlock t{5000, 2000, 1000, 8000, 10, 60, 3, ClosePolicy::WaitForPermit};
    const auto back = ThresholdBlock::fromRegisters(t.registers());
    QVERIFY(back);
    QVERIFY(*back == t);
    QString why;
    t.alarm2Fen = 6000;
    QVERIFY(!ThresholdBlock::fromRegisters(t.registers(), &why));
    QVERIFY2(why.contains(u"alarm2"), qPrintable(why));
    QList<quint16> r = ThresholdBlock{}.registers();
    r[11] = 2;
    QVERIFY(!ThresholdBlock::fromRegisters(r, &why));
    QVERIFY2(why.contains(u"close_policy 2"), qPrintable(why));
}

void TestMeterMap::decodesBlockB()
{
    const Result<MeterSnapshot> r = decodeBlockB(blockB());
    QVERIFY2(r.ok(), qPrintable(r.error.message));
    const MeterSnapshot &s = r.value;
    QCOMPARE(*s.serialNumber, 24050017u);
    QCOMPARE(*s.balanceFen, -1234);
    QCOMPARE(*s.purchaseCount, quint16(4));
    QCOMPARE(*s.lastRechargeTxn, 0x12345678u);
    QCOMPARE(s.energyTotalWh, 1234560);
    QCOMPARE(s.slotEnergyWh[1], 1000000);
    QCOMPARE(s.slotEnergyWh[3], 234560);
    QCOMPARE(s.activePowerW, 2300);
    QCOMPARE(s.voltageMv[0], 220100);
    QCOMPARE(s.currentMa[0], 10450);
    QCOMPARE(*s.frequencyCentiHz, 5002);
    QCOMPARE(*s.currentTariffSlot, TariffSlot::Peak);
    QCOMPARE(*s.meterTimeS, 1795000000);
    QCOMPARE(s.relayMode, RelayMode::Auto);
    QCOMPARE(*s.lastCommandResult, CommandResult::RechargeApplied);

    const QJsonObject j = s.toJson();
    QCOMPARE(j[QStringLiteral("balance_fen")].toInteger(), -1234);
    QCOMPARE(j[QStringLiteral("purchase_count")].toInteger(), 4);
    QCOMPARE(j[QStringLiteral("energy_total_wh")].toInteger(), 1234560);
    QCOMPARE(j[QStringLiteral("energy_sharp_wh")].toInteger(), 0);
    QCOMPARE(j[QStringLiteral("relay_state")].toString(), QStringLiteral("closed"));
    QCOMPARE(j[QStringLiteral("relay_mode")].toString(), QStringLiteral("auto"));
    QCOMPARE(j[QStringLiteral("status_word")].toInteger(), status::Overdraft | status::Alarm1 | status::Alarm2);
    QCOMPARE(j[QStringLiteral("active_power_w")].toInteger(), 2300);
    QCOMPARE(j[QStringLiteral("meter_time")].toInteger(), 1795000000);
}

void TestMeterMap::derivesRelayMode()
{
    QList<quint16> r = blockB();
    r[addr::StatusWord - addr::BlockB] = status::Forced;
    QCOMPARE(decodeBlockB(r).value.relayMode, RelayMode::ForceOn);
    r[addr::StatusWord - addr::BlockB] = status::Forced | status::RelayOpen;
    r[addr::RelayState - addr::BlockB] = 1;
    r[addr::TripReason - addr::BlockB] = quint16(TripReason::ForcedOff);
    QCOMPARE(decodeBlockB(r).value.relayMode, RelayMode::ForceOff);
    r[addr::StatusWord - addr::BlockB] = status::RelayOpen | status::ArrearsTrip;
    r[addr::TripReason - addr::BlockB] = quint16(TripReason::Arrears);
    const Result<MeterSnapshot> arrears = decodeBlockB(r);
    QCOMPARE(arrears.value.relayMode, RelayMode::Auto);
    QCOMPARE(arrears.value.relayState, RelayState::Open);
}

void TestMeterMap::refusesRepliesThatBreakTheMap_data()
{
    QTest::addColumn<quint16>("address");
    QTest::addColumn<quint16>("value");
    QTest::addColumn<QString>("why");
    QTest::newRow("map version") << addr::MapVersion << quint16(0x0200) << QStringLiteral("map_version");
    QTest::newRow("device type") << addr::DeviceType << quint16(2) << QStringLiteral("device_type 2");
    QTest::newRow("reserved status bit") << addr::StatusWord << quint16(0x8000) << QStringLiteral("reserved bits");
    QTest::newRow("relay state") << addr::RelayState << quint16(2) << QStringLiteral("relay_state 2");
    QTest::newRow("relay disagrees with status") << addr::RelayState << quint16(1) << QStringLiteral("disagrees");
    QTest::newRow("trip reason") << addr::TripReason << quint16(9) << QStringLiteral("trip_reason 9");
    QTest::newRow("voltage") << addr::VoltageA << quint16(9000) << QStringLiteral("voltage_a is 900 V");
    QTest::newRow("power factor") << addr::PowerFactor << quint16(1200) << QStringLiteral("power_factor 1200");
    QTest::newRow("frequency") << addr::Frequency << quint16(3000) << QStringLiteral("frequency 30.00 Hz");
    QTest::newRow("tariff index") << addr::CurrentTariffIndex << quint16(4) << QStringLiteral("current_tariff_index 4");
    QTest::newRow("command result") << addr::LastCmdResult << quint16(10) << QStringLiteral("last_cmd_result 10");
    QTest::newRow("reserved register") << quint16(0x102E) << quint16(1) << QStringLiteral("reserved register 0x102e");
}

void TestMeterMap::refusesRepliesThatBreakTheMap()
{
    QFETCH(quint16, address);
    QFETCH(quint16, value);
    QFETCH(QString, why);
    QList<quint16> r = blockB();
    r[address - addr::BlockB] = value;
    const Result<MeterSnapshot> s = decodeBlockB(r);
    QCOMPARE(s.error.kind, ErrorKind::InvalidData);
    QVERIFY2(s.error.message.contains(why), qPrintable(s.error.message));
    QVERIFY(!decodeBlockB(QList<quint16>(47, 0)).ok());
}

void TestMeterMap::decodesTheAcrelAlias()
{
    QList<quint16> a(kAcrelBlockCount, 0);
    a[0] = high(98765), a[1] = low(98765);
    a[0x000B] = 2305;
    a[0x000C] = 512;
    a[0x000D] = quint16(qint16(-150)); // exporting 150 W
    a[0x0010] = 950;
    Result<MeterSnapshot> s = decodeAcrel(a, QList<quint16>{1, 1});
    QVERIFY2(s.ok(), qPrintable(s.error.message));
    QCOMPARE(s.value.energyTotalWh, 987650);
    QCOMPARE(s.value.activePowerW, -150);
    QCOMPARE(s.value.relayMode, RelayMode::ForceOff);
    QCOMPARE(s.value.relayState, RelayState::Open);
    QVERIFY(!s.value.balanceFen);
    QVERIFY(s.value.toJson()[QStringLiteral("balance_fen")].isNull());
    QCOMPARE(decodeAcrel(a, QList<quint16>{0, 1}).value.relayMode, RelayMode::Auto);
    QCOMPARE(decodeAcrel(a, QList<quint16>{1, 0}).value.relayMode, RelayMode::ForceOn);
    QCOMPARE(decodeAcrel(a, QList<quint16>{2, 0}).error.kind, ErrorKind::InvalidData);
}

QTEST_GUILESS_MAIN(TestMeterMap)
#include "tst_meter_map.moc"
