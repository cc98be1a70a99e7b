// The simulator's physics and framing as pure functions: wire time against the table of
// FIELD-PROTOCOLS.md §4.2, MBAP and RTU frames byte by byte, the RTU framer cutting a stream by
// length and by silence, and the simulated clock's factor and advances on a manual clock.
#include "manualclock.h"
#include "modbus/mapv1.h"
#include "sim/server/framing.h"
#include "sim/server/simclock.h"
#include "sim/server/wiretime.h"

#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::sim;

class TestSimWire : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void wireTimeMatchesTheFieldTable_data();
    void wireTimeMatchesTheFieldTable();
    void wireTimeDetails();
    void mbapFrames();
    void rtuFrames();
    void rtuFramerCutsByLengthAndSilence();
    void simClockRunsAtItsFactor();
};

void TestSimWire::wireTimeMatchesTheFieldTable_data()
{
    // FIELD-PROTOCOLS.md §4.2, "Computed values (t_turn = 30 ms)": a read of N registers, ms.
    QTest::addColumn<int>("baud");
    QTest::addColumn<int>("registers");
    QTest::addColumn<int>("ms");
    const int counts[] = {2, 10, 30, 48, 125};
    const struct
    {
        int baud;
        int ms[5];
    } table[] = {{2400, {140, 213, 397, 562, 1268}}, {4800, {85, 122, 213, 296, 649}}, {9600, {58, 76, 122, 163, 339}},
        {19200, {44, 53, 76, 97, 185}}};
    for (const auto &row : table) {
        for (int i = 0; i < 5; ++i)
            QTest::addRow("%d baud, %d registers", row.baud, counts[i]) << row.baud << counts[i] << row.ms[i];
    }
}

void TestSimWire::wireTimeMatchesTheFieldTable()
{
    QFETCH(int, baud);
    QFETCH(int, registers);
    QFETCH(int, ms);
    WireTiming w;
    w.baud = baud;
    w.bitsPerChar = 11;
    QVERIFY(w.validate().isEmpty());
    // FC 0x03 request PDU: function, address 2, quantity 2; reply PDU: function, count, data.
    const qint64 us = w.transactionUs(5, 2 + 2 * registers, 30'000);
    QVERIFY2(qAbs(us - qint64(ms) * 1000) <= 1000, qPrintable(QStringLiteral("%1 us").arg(us)));
}

void TestSimWire::wireTimeDetails()
{
    WireTiming w; // 9600 baud, 11 bits
    QCOMPARE(w.characterNs(), 1'145'833);
    QCOMPARE(w.gapUs(), 4010);
    QCOMPARE(w.requestUs(5) + w.responseUs(98, 20'000), w.transactionUs(5, 98, 20'000));
    w.baud = 38400;
    QCOMPARE(w.gapUs(), WireTiming::kFixedGapUs); // above 19200 the gap is fixed
    w.baud = 0;
    QVERIFY(!w.emulated());
    QCOMPARE(w.transactionUs(5, 98, 20'000), 0);
    w.baud = 9600;
    w.bitsPerChar = 9;
    QVERIFY(!w.validate().isEmpty());
    w.bitsPerChar = 11;
    w.turnaroundMinMs = 40;
    w.turnaroundMaxMs = 30;
    QVERIFY(!w.validate().isEmpty());
}

void TestSimWire::mbapFrames()
{
    const QByteArray pdu = QByteArray::fromHex("0310000030");
    QByteArray stream = encodeMbap(0x1234, 7, pdu);
    QCOMPARE(stream.toHex(), QByteArray("123400000006070310000030"));
    stream += encodeMbap(0x1235, 8, pdu).left(9); // and part of the next one
    MbapFrame frame;
    QCOMPARE(takeMbapFrame(stream, &frame), MbapStatus::Frame);
    QCOMPARE(frame.transactionId, quint16(0x1234));
    QCOMPARE(frame.unitId, quint8(7));
    QCOMPARE(frame.pdu, pdu);
    QCOMPARE(takeMbapFrame(stream, &frame), MbapStatus::NeedMore);
    QCOMPARE(stream.size(), 9);

    QByteArray badProtocol = QByteArray::fromHex("000100010006070310000030");
    QCOMPARE(takeMbapFrame(badProtocol, &frame), MbapStatus::BadProtocolId);
    QByteArray badLength = QByteArray::fromHex("000100000001070310000030");
    QCOMPARE(takeMbapFrame(badLength, &frame), MbapStatus::BadLength);
}

void TestSimWire::rtuFrames()
{
    // The map's worked recharge frame (§3).
    const QByteArray pdu = QByteArray::fromHex("10110000060C000027100005123456780C95");
    const QByteArray frame = encodeRtu(1, pdu);
    QCOMPARE(frame.toHex(), QByteArray("0110110000060c000027100005123456780c9598ba"));
    QVERIFY(rtuCrcValid(frame));
    QVERIFY(!rtuCrcValid(encodeRtu(1, pdu, true)));
    QCOMPARE(rtuRequestLength(frame), frame.size());
    QCOMPARE(rtuRequestLength(frame.left(3)), 0);                    // FC 0x10: needs the byte count
    QCOMPARE(rtuRequestLength(QByteArray::fromHex("0103")), 8);      // FC 0x03: always 8
    QCOMPARE(rtuRequestLength(QByteArray::fromHex("012b0e01")), -1); // FC 0x2B: only silence tells
}

void TestSimWire::rtuFramerCutsByLengthAndSilence()
{
    const QByteArray read = encodeRtu(3, QByteArray::fromHex("0310000030"));
    const QByteArray write = encodeRtu(4, QByteArray::fromHex("1011100001020000"));
    RtuFramer framer;
    QList<QByteArray> frames = framer.feed(QByteArray(read + write.left(5)));
    QCOMPARE(frames, QList<QByteArray>{read});
    QVERIFY(framer.hasPartialFrame());
    frames = framer.feed(write.mid(5));
    QCOMPARE(frames, QList<QByteArray>{write});
    QVERIFY(!framer.hasPartialFrame());
    // A function code that does not tell its length ends at a silence.
    const QByteArray odd = encodeRtu(5, QByteArray::fromHex("2b0e0100"));
    QVERIFY(framer.feed(odd).isEmpty());
    QCOMPARE(framer.endOfSilence(), odd);
}

void TestSimWire::simClockRunsAtItsFactor()
{
    test::ManualClock wall;
    SimClock sim(wall, 1'795'000'000'000, 60);
    QCOMPARE(sim.nowMs(), 1'795'000'000'000);
    wall.advanceMs(1000);
    QCOMPARE(sim.nowMs(), 1'795'000'060'000); // one real second is a simulated minute
    QVERIFY(sim.advanceMs(3'600'000));
    QCOMPARE(sim.nowMs(), 1'795'003'660'000);
    QVERIFY(sim.setTimeFactor(1));
    QVERIFY(!sim.setTimeFactor(0));
    wall.advanceMs(1000);
    QCOMPARE(sim.nowMs(), 1'795'003'661'000); // the factor change does not jump the clock
}

QTEST_GUILESS_MAIN(TestSimWire)
#include "tst_sim_wire.moc"
