// The meter driver against the real simulator (prepay-sim meters with the demo building), over
// real Modbus TCP and over the RTU pty: every profile operation, every fault class the
// simulator can inject and how the driver names it, a recharge whose reply is lost — resent
// identically, applied once, also across a driver restart — and prepayctl meter end to end
// (JSON keys, exit codes per failure class). The simulator's ground truth is the referee.
#include "freeports.h"
#include "manualclock.h"
#include "modbus/profile.h"
#include "sim/meters/building.h"

#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::modbus;
using namespace prepay::meter::v1;

namespace {

QString bin(const QString &name)
{
    return qEnvironmentVariable("PREPAY_BIN_DIR") + u'/' + name;
}

struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
    QJsonObject json() const { return QJsonDocument::fromJson(out.toUtf8()).object(); }
    QString describe() const { return QStringLiteral("exit %1\n%2\n%3").arg(exitCode).arg(out, err); }
};

Run run(const QString &program, const QStringList &arguments)
{
    QProcess p;
    p.start(bin(program), arguments);
    Run r;
    if (!p.waitForFinished(60'000)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("timed out");
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

// A meter of the demo building, by where it is.
struct DemoMeter
{
    int gateway = 0;
    quint8 unit = 0;
    QString bus;
};

} // namespace

class TestMeterDriver : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();

    void snapshotMatchesTruth();
    void rechargeIsAppliedOnce();
    void lostReplyIsRetriedIdenticallyAndAppliedOnceAcrossARestart();
    void lostWriteRepliesAloneAreRecognisedByReadingBack();
    void relayTariffThresholdsAndClock();
    void acrelRemoteMeter();
    void transportFaults_data();
    void transportFaults();
    void lateReplyNeverAnswersTheNextRequest();
    void gatewayDisconnectAndRefuse();
    void counterFaultsAreVisible();
    void rtuOverThePty();
    void prepayctlMeterEndToEnd();
    void prepayctlExitCodes();

private:
    std::unique_ptr<ModbusClient> tcpClient(int gateway, int timeoutMs = 400);
    std::unique_ptr<ModbusClient> rtuClient(const QString &bus, int timeoutMs = 400);
    Run ctl(const QStringList &arguments);
    QJsonObject truth(const DemoMeter &m);
    DemoMeter prepaid(int nth);

    QProcess m_sim;
    QTemporaryDir m_dir;
    quint16 m_base = 0;
    test::ManualClock m_clock;
    sim::BuildingSpec m_building;
    QList<DemoMeter> m_prepaid;
    DemoMeter m_remote;
    const MeterProfile *m_v1 = profileNamed(u"prepay-v1");
};

void TestMeterDriver::initTestCase()
{
    m_building = sim::BuildingSpec::demo();
    for (int g = 0; g < m_building.gateways.size(); ++g) {
        for (const sim::BusSpec &bus : m_building.gateways[g].buses) {
            for (const sim::MeterSpec &m : bus.meters) {
                if (m.prepaid && m.relayMode == RelayMode::Auto)
                    m_prepaid.append({g, m.unitId, bus.name});
                else if (!m.prepaid && m_remote.unit == 0)
                    m_remote = {g, m.unitId, bus.name};
            }
        }
    }
    QVERIFY(m_prepaid.size() > 20);
    QVERIFY(m_remote.unit != 0);

    m_base = test::freeSimulatorPortBase(21000, 15000);
    m_sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_sim.start(bin(QStringLiteral("prepay-sim")),
        {QStringLiteral("meters"), QStringLiteral("--building"), QStringLiteral("demo"), QStringLiteral("--port-base"),
            QString::number(m_base), QStringLiteral("--baud"), QStringLiteral("0"), QStringLiteral("--rtu"),
            QStringLiteral("--rtu-link-dir"), m_dir.path(), QStringLiteral("--gateway-timeout-ms"),
            QStringLiteral("150")});
    QVERIFY2(m_sim.waitForStarted(), "prepay-sim must be built (PREPAY_BIN_DIR)");
    QByteArray banner;
    while (!banner.contains("ready\n") && m_sim.waitForReadyRead(30'000))
        banner += m_sim.readAllStandardOutput();
    QVERIFY2(banner.contains("ready\n"), banner.constData());
}

void TestMeterDriver::cleanupTestCase()
{
    m_sim.terminate();
    QVERIFY(m_sim.waitForFinished(10'000));
    QCOMPARE(m_sim.exitCode(), 0);
}

void TestMeterDriver::init()
{
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
}

std::unique_ptr<ModbusClient> TestMeterDriver::tcpClient(int gateway, int timeoutMs)
{
    Endpoint e;
    e.port = quint16(m_base + gateway);
    e.baud = 0;
    BusTiming t;
    t.responseTimeoutMs = timeoutMs;
    return std::make_unique<ModbusClient>(e, t, m_clock);
}

std::unique_ptr<ModbusClient> TestMeterDriver::rtuClient(const QString &bus, int timeoutMs)
{
    Endpoint e;
    e.kind = Endpoint::Kind::Rtu;
    e.device = m_dir.filePath(bus);
    e.baud = 9600;
    BusTiming t = BusTiming::forEndpoint(e);
    t.responseTimeoutMs = timeoutMs;
    return std::make_unique<ModbusClient>(e, t, m_clock);
}

Run TestMeterDriver::ctl(const QStringList &arguments)
{
    return run(QStringLiteral("prepay-sim"),
        QStringList{QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_base + 100)}
            + arguments);
}

QJsonObject TestMeterDriver::truth(const DemoMeter &m)
{
    const Run r = ctl({QStringLiteral("truth"), QString::number(m.gateway), QString::number(m.unit)});
    if (r.exitCode != 0)
        qWarning("%s", qPrintable(r.describe()));
    return r.json();
}

DemoMeter TestMeterDriver::prepaid(int nth)
{
    return m_prepaid.at(nth);
}

void TestMeterDriver::snapshotMatchesTruth()
{
    const DemoMeter m = prepaid(0);
    auto client = tcpClient(m.gateway);
    const Result<MeterSnapshot> s = m_v1->readSnapshot(*client, m.unit);
    QVERIFY2(s.ok(), qPrintable(s.error.message));
    const QJsonObject t = truth(m);
    QCOMPARE(qint64(*s.value.serialNumber), t[QStringLiteral("serial")].toInteger());
    QCOMPARE(*s.value.balanceFen, t[QStringLiteral("balance_fen")].toInteger());
    QCOMPARE(qint64(*s.value.purchaseCount), t[QStringLiteral("purchase_count")].toInteger());
    QCOMPARE(s.value.relayState == RelayState::Closed ? QStringLiteral("closed") : QStringLiteral("open"),
        t[QStringLiteral("relay_state")].toString());
    // Energy moves in real time: the register read a moment before the truth is not larger.
    QVERIFY(qint64(s.value.energyTotalRegister) <= t[QStringLiteral("energy_register_10wh")].toInteger());
    QVERIFY(qint64(s.value.energyTotalRegister) >= t[QStringLiteral("energy_register_10wh")].toInteger() - 10);
}

void TestMeterDriver::rechargeIsAppliedOnce()
{
    const DemoMeter m = prepaid(1);
    auto client = tcpClient(m.gateway);
    const QJsonObject before = truth(m);
    const Result<RechargePlan> plan = m_v1->planRecharge(*client, m.unit, 12345, 900001);
    QVERIFY2(plan.ok(), qPrintable(plan.error.message));
    QCOMPARE(qint64(plan.value.sequence), before[QStringLiteral("purchase_count")].toInteger() + 1);
    const Result<RechargeOutcome> done = m_v1->executeRecharge(*client, m.unit, plan.value);
    QVERIFY2(done.ok(), qPrintable(done.error.message));
    QCOMPARE(done.value, RechargeOutcome::Applied);
    const QJsonObject after = truth(m);
    QCOMPARE(after[QStringLiteral("total_purchased_fen")].toInteger(),
        before[QStringLiteral("total_purchased_fen")].toInteger() + 12345);
    QCOMPARE(
        after[QStringLiteral("purchase_count")].toInteger(), before[QStringLiteral("purchase_count")].toInteger() + 1);
    QCOMPARE(after[QStringLiteral("last_recharge_txn")].toInteger(), 900001);
}

void TestMeterDriver::lostReplyIsRetriedIdenticallyAndAppliedOnceAcrossARestart()
{
    const DemoMeter m = prepaid(2);
    const QJsonObject before = truth(m);
    RechargePlan plan;
    {
        auto client = tcpClient(m.gateway, 300);
        plan = m_v1->planRecharge(*client, m.unit, 5000, 900002).value; // persisted before sending
        QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("no_reply"),
                         QStringLiteral("--gateway"), QString::number(m.gateway), QStringLiteral("--unit"),
                         QString::number(m.unit)})
                     .exitCode,
            0);
        // The frame reaches the meter, the reply is lost on the line.
        QCOMPARE(
            client->writeRegisters(m.unit, addr::RechargeMailbox, plan.mailbox().registers()).kind, ErrorKind::Timeout);
        // The driver's own retry can't even read the meter while the line is broken.
        QCOMPARE(m_v1->executeRecharge(*client, m.unit, plan).error.kind, ErrorKind::Timeout);
    } // the driver process goes away
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
    QCOMPARE(truth(m)[QStringLiteral("purchase_count")].toInteger(),
        before[QStringLiteral("purchase_count")].toInteger() + 1);

    // A new driver resumes the persisted plan: it reads first and finds it applied.
    auto client = tcpClient(m.gateway);
    const Result<RechargeOutcome> resumed = m_v1->executeRecharge(*client, m.unit, plan);
    QVERIFY2(resumed.ok(), qPrintable(resumed.error.message));
    QCOMPARE(resumed.value, RechargeOutcome::AlreadyApplied);

    // A naive retry of the identical frame on the wire is acknowledged as a duplicate.
    QVERIFY(client->writeRegisters(m.unit, addr::RechargeMailbox, plan.mailbox().registers()).ok());
    const QJsonObject after = truth(m);
    QCOMPARE(after[QStringLiteral("last_command_result")].toString(), QStringLiteral("recharge_duplicate"));
    QCOMPARE(
        after[QStringLiteral("purchase_count")].toInteger(), before[QStringLiteral("purchase_count")].toInteger() + 1);
    QCOMPARE(after[QStringLiteral("total_purchased_fen")].toInteger(),
        before[QStringLiteral("total_purchased_fen")].toInteger() + 5000);
}

void TestMeterDriver::lostWriteRepliesAloneAreRecognisedByReadingBack()
{
    // Only the replies to writes (FC 0x10) are lost; reads go through.
    const DemoMeter m = prepaid(11);
    const QJsonObject before = truth(m);
    const Run added = ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("no_reply"),
        QStringLiteral("--gateway"), QString::number(m.gateway), QStringLiteral("--unit"), QString::number(m.unit),
        QStringLiteral("--function"), QStringLiteral("16")});
    QVERIFY2(added.exitCode == 0, qPrintable(added.describe()));
    auto client = tcpClient(m.gateway, 300);
    const RechargePlan plan = m_v1->planRecharge(*client, m.unit, 4321, 900005).value;
    const Result<RechargeOutcome> done = m_v1->executeRecharge(*client, m.unit, plan);
    QVERIFY2(done.ok(), qPrintable(done.error.message));
    QCOMPARE(done.value, RechargeOutcome::Applied); // the write timed out, the read showed it applied
    QCOMPARE(client->stats().timeouts, 1);
    const QJsonObject after = truth(m);
    QCOMPARE(
        after[QStringLiteral("purchase_count")].toInteger(), before[QStringLiteral("purchase_count")].toInteger() + 1);
    QCOMPARE(after[QStringLiteral("total_purchased_fen")].toInteger(),
        before[QStringLiteral("total_purchased_fen")].toInteger() + 4321);
}

void TestMeterDriver::relayTariffThresholdsAndClock()
{
    const DemoMeter m = prepaid(3);
    auto client = tcpClient(m.gateway);
    QVERIFY(m_v1->setRelayMode(*client, m.unit, RelayMode::ForceOff).ok());
    QCOMPARE(truth(m)[QStringLiteral("relay_state")].toString(), QStringLiteral("open"));
    QVERIFY(m_v1->setRelayMode(*client, m.unit, RelayMode::ForceOn).ok());
    QCOMPARE(truth(m)[QStringLiteral("relay_mode")].toString(), QStringLiteral("force_on"));
    QVERIFY(m_v1->setRelayMode(*client, m.unit, RelayMode::Auto).ok());
    QCOMPARE(truth(m)[QStringLiteral("relay_mode")].toString(), QStringLiteral("auto"));

    TariffBlock tariff;
    tariff.version = 42;
    tariff.prices = {15000, 11000, 7000, 3000};
    tariff.segments = {{0, TariffSlot::Valley}, {480, TariffSlot::Peak}, {1320, TariffSlot::Valley}};
    const DriverError pushed = m_v1->pushTariff(*client, m.unit, tariff);
    QVERIFY2(pushed.ok(), qPrintable(pushed.message));
    QCOMPARE(truth(m)[QStringLiteral("tariff_version_active")].toInteger(), 42);

    const ThresholdBlock thresholds{9000, 4000, 1000, 12000, 15, 90, 2, ClosePolicy::AutoClose};
    QVERIFY(m_v1->pushThresholds(*client, m.unit, thresholds).ok());
    QVERIFY(m_v1->readThresholds(*client, m.unit).value == thresholds);

    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QVERIFY(m_v1->setClock(*client, m.unit, now - 3600).ok());
    const qint64 meterTime = *m_v1->readSnapshot(*client, m.unit).value.meterTimeS;
    QVERIFY2(qAbs(meterTime - (now - 3600)) <= 2, qPrintable(QString::number(meterTime - now)));
}

void TestMeterDriver::acrelRemoteMeter()
{
    const MeterProfile &acrel = *profileNamed(u"acrel-remote");
    auto client = tcpClient(m_remote.gateway);
    const Result<MeterSnapshot> s = acrel.readSnapshot(*client, m_remote.unit);
    QVERIFY2(s.ok(), qPrintable(s.error.message));
    QVERIFY(qint64(s.value.energyTotalRegister) <= truth(m_remote)[QStringLiteral("energy_register_10wh")].toInteger());
    QVERIFY(acrel.setRelayMode(*client, m_remote.unit, RelayMode::ForceOff).ok());
    QCOMPARE(truth(m_remote)[QStringLiteral("relay_state")].toString(), QStringLiteral("open"));
    QVERIFY(acrel.setRelayMode(*client, m_remote.unit, RelayMode::Auto).ok());
    QCOMPARE(truth(m_remote)[QStringLiteral("relay_state")].toString(), QStringLiteral("closed"));
    // Asked for the v1 blocks, a remote-only meter answers "illegal data address".
    const Result<MeterSnapshot> wrong = m_v1->readSnapshot(*client, m_remote.unit);
    QCOMPARE(wrong.error.kind, ErrorKind::Exception);
    QCOMPARE(wrong.error.exceptionCode, 2);
}

void TestMeterDriver::transportFaults_data()
{
    QTest::addColumn<QStringList>("fault");
    QTest::addColumn<QString>("expected"); // DriverError::code()
    QTest::newRow("no reply") << QStringList{QStringLiteral("no_reply")} << QStringLiteral("timeout");
    QTest::newRow("late reply") << QStringList{QStringLiteral("late_reply"), QStringLiteral("--ms"),
        QStringLiteral("900")} << QStringLiteral("timeout");
    QTest::newRow("wrong transaction id") << QStringList{QStringLiteral("wrong_tid")} << QStringLiteral("bad_reply");
    QTest::newRow("exception 2") << QStringList{QStringLiteral("exception"), QStringLiteral("--code"),
        QStringLiteral("2")} << QStringLiteral("exception_2");
    QTest::newRow("exception 3") << QStringList{QStringLiteral("exception"), QStringLiteral("--code"),
        QStringLiteral("3")} << QStringLiteral("exception_3");
    QTest::newRow("device failure") << QStringList{QStringLiteral("device_failure")} << QStringLiteral("exception_4");
    QTest::newRow("busy") << QStringList{QStringLiteral("busy")} << QStringLiteral("exception_6");
    QTest::newRow("offline, gateway says 0x0B") << QStringList{QStringLiteral("offline"), QStringLiteral("--response"),
        QStringLiteral("exception")} << QStringLiteral("exception_11");
    QTest::newRow("offline, gateway silent") << QStringList{QStringLiteral("offline"), QStringLiteral("--response"),
        QStringLiteral("silence")} << QStringLiteral("timeout");
    QTest::newRow("crc garbage behind the gateway")
        << QStringList{QStringLiteral("crc_garbage")} << QStringLiteral("exception_11");
}

void TestMeterDriver::transportFaults()
{
    QFETCH(QStringList, fault);
    QFETCH(QString, expected);
    const DemoMeter m = prepaid(4);
    QStringList add = {QStringLiteral("fault"), QStringLiteral("add")};
    add << fault.first() << QStringLiteral("--gateway") << QString::number(m.gateway) << QStringLiteral("--unit")
        << QString::number(m.unit) << fault.mid(1);
    const Run added = ctl(add);
    QVERIFY2(added.exitCode == 0, qPrintable(added.describe()));

    auto client = tcpClient(m.gateway, 400);
    const Result<MeterSnapshot> s = m_v1->readSnapshot(*client, m.unit);
    QCOMPARE(s.error.code(), expected);
    QVERIFY(!s.error.message.isEmpty());

    // A meter on another bus of the same gateway is unaffected (on the same bus it would wait
    // for the line, as it does on a real RS-485 line), and the meter itself recovers.
    for (const DemoMeter &n : std::as_const(m_prepaid)) {
        if (n.gateway == m.gateway && n.bus != m.bus) {
            const Result<MeterSnapshot> neighbour = m_v1->readSnapshot(*client, n.unit);
            QVERIFY2(neighbour.ok(), qPrintable(neighbour.error.message));
            break;
        }
    }
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
    // Once the line is free again (a late reply holds it until it is sent).
    QTRY_VERIFY_WITH_TIMEOUT(m_v1->readSnapshot(*client, m.unit).ok(), 5000);
}

void TestMeterDriver::lateReplyNeverAnswersTheNextRequest()
{
    const DemoMeter m = prepaid(6);
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("late_reply"),
                     QStringLiteral("--gateway"), QString::number(m.gateway), QStringLiteral("--unit"),
                     QString::number(m.unit), QStringLiteral("--ms"), QStringLiteral("600")})
                 .exitCode,
        0);
    auto client = tcpClient(m.gateway, 300);
    QCOMPARE(client->readRegisters(m.unit, addr::TariffVersionActive, 1).error.kind, ErrorKind::Timeout);
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
    // The next request asks for something else; the late answer (one register) must not be it.
    const Result<QList<quint16>> next = client->readRegisters(m.unit, addr::BlockB, kBlockBCount);
    QVERIFY2(next.ok(), qPrintable(next.error.message));
    QCOMPARE(next.value.size(), kBlockBCount);
    QCOMPARE(next.value.first(), kMapVersion);
    QTest::qWait(700); // let the late reply arrive on the old connection, then ask again
    QVERIFY(decodeBlockB(client->readRegisters(m.unit, addr::BlockB, kBlockBCount).value).ok());
}

void TestMeterDriver::gatewayDisconnectAndRefuse()
{
    const DemoMeter m = prepaid(7);
    auto client = tcpClient(m.gateway);
    QVERIFY(m_v1->readSnapshot(*client, m.unit).ok());
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("disconnect"),
                     QStringLiteral("--gateway"), QString::number(m.gateway)})
                 .exitCode,
        0);
    const Result<MeterSnapshot> cut = m_v1->readSnapshot(*client, m.unit);
    QVERIFY2(cut.error.kind == ErrorKind::ConnectionLost || cut.error.kind == ErrorKind::Timeout,
        qPrintable(cut.error.code()));
    QVERIFY2(m_v1->readSnapshot(*client, m.unit).ok(), "reconnects after a dropped connection");

    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("refuse"), QStringLiteral("--gateway"),
                     QString::number(m.gateway)})
                 .exitCode,
        0);
    auto fresh = tcpClient(m.gateway);
    QCOMPARE(m_v1->readSnapshot(*fresh, m.unit).error.kind, ErrorKind::ConnectionRefused);
    QCOMPARE(m_v1->readSnapshot(*fresh, m.unit).error.kind, ErrorKind::Backoff);
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
    m_clock.advanceMs(ReconnectLimits{}.maxBackoffMs);
    QVERIFY(m_v1->readSnapshot(*fresh, m.unit).ok());
}

void TestMeterDriver::counterFaultsAreVisible()
{
    const DemoMeter m = prepaid(8);
    const auto addFault = [&](const QStringList &kindAndParams) {
        QStringList a = {QStringLiteral("fault"), QStringLiteral("add"), kindAndParams.first(),
            QStringLiteral("--gateway"), QString::number(m.gateway), QStringLiteral("--unit"), QString::number(m.unit)};
        return ctl(a + kindAndParams.mid(1)).exitCode;
    };
    auto client = tcpClient(m.gateway);
    const auto snapshot = [&] { return m_v1->readSnapshot(*client, m.unit).value; };

    QCOMPARE(addFault({QStringLiteral("counter_reset")}), 0);
    QVERIFY(snapshot().energyTotalRegister < 5);
    QCOMPARE(addFault({QStringLiteral("rollover"), QStringLiteral("--units-before-wrap"), QStringLiteral("1000")}), 0);
    QVERIFY(snapshot().energyTotalRegister >= 0xFFFFFFFFu - 1000);
    QCOMPARE(addFault({QStringLiteral("jump"), QStringLiteral("--wh"), QStringLiteral("50000")}), 0);
    QVERIFY(snapshot().energyTotalRegister < 5000); // wrapped past 2^32
    QCOMPARE(addFault({QStringLiteral("swap"), QStringLiteral("--new-serial"), QStringLiteral("31000001")}), 0);
    QCOMPARE(*snapshot().serialNumber, 31000001u);
    QCOMPARE(*snapshot().purchaseCount, quint16(0));

    // Frozen: power flows, the counter stands still.
    QCOMPARE(
        ctl({QStringLiteral("load"), QStringLiteral("--gateway"), QString::number(m.gateway), QStringLiteral("--unit"),
                QString::number(m.unit), QStringLiteral("--watts"), QStringLiteral("3600")})
            .exitCode,
        0);
    QCOMPARE(m_v1->setRelayMode(*client, m.unit, RelayMode::ForceOn).kind,
        ErrorKind::None); // the swapped meter has no money
    QCOMPARE(addFault({QStringLiteral("frozen")}), 0);
    const quint32 frozenAt = snapshot().energyTotalRegister;
    QCOMPARE(ctl({QStringLiteral("advance"), QStringLiteral("3600")}).exitCode, 0);
    const MeterSnapshot frozen = snapshot();
    QCOMPARE(frozen.energyTotalRegister, frozenAt);
    QVERIFY(frozen.activePowerW > 3000);
}

void TestMeterDriver::rtuOverThePty()
{
    // The first meter on bus A-COM1, over its pty.
    const sim::BusSpec &bus = m_building.gateways[0].buses[0];
    DemoMeter m{0, 0, bus.name};
    for (const sim::MeterSpec &s : bus.meters) {
        if (s.prepaid && s.relayMode == RelayMode::Auto) {
            m.unit = s.unitId;
            break;
        }
    }
    auto client = rtuClient(bus.name);
    const Result<MeterSnapshot> s = m_v1->readSnapshot(*client, m.unit);
    QVERIFY2(s.ok(), qPrintable(s.error.message));
    QCOMPARE(qint64(*s.value.serialNumber), truth(m)[QStringLiteral("serial")].toInteger());

    const QJsonObject before = truth(m);
    const RechargePlan plan = m_v1->planRecharge(*client, m.unit, 777, 900003).value;
    QCOMPARE(m_v1->executeRecharge(*client, m.unit, plan).value, RechargeOutcome::Applied);
    QCOMPARE(truth(m)[QStringLiteral("total_purchased_fen")].toInteger(),
        before[QStringLiteral("total_purchased_fen")].toInteger() + 777);

    // A corrupted CRC is a bad reply; a unit no meter on this bus has is silence.
    QCOMPARE(
        ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("crc_garbage"), QStringLiteral("--gateway"),
                QStringLiteral("0"), QStringLiteral("--unit"), QString::number(m.unit)})
            .exitCode,
        0);
    const Result<MeterSnapshot> garbled = m_v1->readSnapshot(*client, m.unit);
    QCOMPARE(garbled.error.code(), QStringLiteral("bad_reply"));
    QVERIFY2(garbled.error.message.contains(u"CRC"), qPrintable(garbled.error.message));
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
    QCOMPARE(m_v1->readSnapshot(*client, 247).error.code(), QStringLiteral("timeout"));
    QVERIFY(m_v1->readSnapshot(*client, m.unit).ok());
}

void TestMeterDriver::prepayctlMeterEndToEnd()
{
    const DemoMeter m = prepaid(9);
    const QStringList where = {QStringLiteral("--tcp"), QStringLiteral("127.0.0.1:%1").arg(m_base + m.gateway),
        QStringLiteral("--unit"), QString::number(m.unit)};
    const Run read = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--json")} + where);
    QVERIFY2(read.exitCode == 0, qPrintable(read.describe()));
    const QJsonObject j = read.json();
    for (const char *key :
        {"balance_fen", "purchase_count", "energy_total_wh", "energy_sharp_wh", "energy_peak_wh", "energy_flat_wh",
            "energy_valley_wh", "relay_state", "relay_mode", "status_word", "active_power_w", "meter_time"})
        QVERIFY2(j.contains(QLatin1StringView(key)) && !j[QLatin1StringView(key)].isNull(), key);
    const QJsonObject t = truth(m);
    QCOMPARE(j[QStringLiteral("serial_number")].toInteger(), t[QStringLiteral("serial")].toInteger());
    QCOMPARE(j[QStringLiteral("balance_fen")].toInteger(), t[QStringLiteral("balance_fen")].toInteger());

    const Run recharge = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("recharge"), QStringLiteral("--amount"),
            QStringLiteral("12.34"), QStringLiteral("--txn"), QStringLiteral("900004"), QStringLiteral("--json")}
            + where);
    QVERIFY2(recharge.exitCode == 0, qPrintable(recharge.describe()));
    QCOMPARE(recharge.json()[QStringLiteral("outcome")].toString(), QStringLiteral("applied"));
    QCOMPARE(truth(m)[QStringLiteral("total_purchased_fen")].toInteger(),
        t[QStringLiteral("total_purchased_fen")].toInteger() + 1234);
    // The same recharge again, continuing its sequence: nothing more is added.
    const Run again = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("recharge"), QStringLiteral("--amount"),
            QStringLiteral("12.34"), QStringLiteral("--txn"), QStringLiteral("900004"), QStringLiteral("--seq"),
            QString::number(recharge.json()[QStringLiteral("sequence")].toInteger())}
            + where);
    QVERIFY2(again.exitCode == 0 && again.out.startsWith(u"already_applied"), qPrintable(again.describe()));
    QCOMPARE(truth(m)[QStringLiteral("total_purchased_fen")].toInteger(),
        t[QStringLiteral("total_purchased_fen")].toInteger() + 1234);

    const Run relay = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("relay"), QStringLiteral("force-off")} + where);
    QVERIFY2(relay.exitCode == 0 && relay.out.contains(u"relay open, mode force_off"), qPrintable(relay.describe()));
    QCOMPARE(run(QStringLiteral("prepayctl"),
                 QStringList{QStringLiteral("meter"), QStringLiteral("relay"), QStringLiteral("auto")} + where)
                 .exitCode,
        0);

    const Run tariff = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("tariff"), QStringLiteral("--set-version"),
            QStringLiteral("9"), QStringLiteral("--prices"), QStringLiteral("1.21,0.98,0.65,0.31"),
            QStringLiteral("--tou"), QStringLiteral("00:00=valley,08:00=flat,10:00=peak,21:00=flat,23:00=valley")}
            + where);
    QVERIFY2(tariff.exitCode == 0 && tariff.out.contains(u"pushed and verified: tariff version 9"),
        qPrintable(tariff.describe()));
    const Run thresholds = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("thresholds"), QStringLiteral("--alarm1"),
            QStringLiteral("80"), QStringLiteral("--json")}
            + where);
    QVERIFY2(thresholds.exitCode == 0 && thresholds.json()[QStringLiteral("alarm1_fen")].toInteger() == 8000,
        qPrintable(thresholds.describe()));
    const Run clock = run(QStringLiteral("prepayctl"),
        QStringList{QStringLiteral("meter"), QStringLiteral("clock"), QStringLiteral("--set"), QStringLiteral("now")}
            + where);
    QVERIFY2(clock.exitCode == 0 && clock.out.startsWith(u"meter time "), qPrintable(clock.describe()));

    const QString pty = m_dir.filePath(m_building.gateways[0].buses[0].name);
    const Run rtu = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--rtu"), pty, QStringLiteral("--baud"),
            QStringLiteral("9600"), QStringLiteral("--unit"),
            QString::number(m_building.gateways[0].buses[0].meters.first().unitId)});
    QVERIFY2(rtu.exitCode == 0 && rtu.out.contains(u"rtu "), qPrintable(rtu.describe()));
}

void TestMeterDriver::prepayctlExitCodes()
{
    const DemoMeter m = prepaid(10);
    const QString tcp = QStringLiteral("127.0.0.1:%1").arg(m_base + m.gateway);
    // Exception 2: the v1 profile on a remote-only meter.
    const Run exception = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--tcp"),
            QStringLiteral("127.0.0.1:%1").arg(m_base + m_remote.gateway), QStringLiteral("--unit"),
            QString::number(m_remote.unit)});
    QVERIFY2(
        exception.exitCode == 12 && exception.err.contains(u"illegal data address"), qPrintable(exception.describe()));
    // Timeout.
    QCOMPARE(
        ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("no_reply"), QStringLiteral("--gateway"),
                QString::number(m.gateway), QStringLiteral("--unit"), QString::number(m.unit)})
            .exitCode,
        0);
    const Run timeout = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--tcp"), tcp, QStringLiteral("--unit"),
            QString::number(m.unit), QStringLiteral("--timeout-ms"), QStringLiteral("200")});
    QVERIFY2(timeout.exitCode == 3 && timeout.err.contains(u"no reply within 200 ms"), qPrintable(timeout.describe()));
    // Bad reply.
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}).exitCode, 0);
    QCOMPARE(
        ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("wrong_tid"), QStringLiteral("--gateway"),
                QString::number(m.gateway), QStringLiteral("--unit"), QString::number(m.unit)})
            .exitCode,
        0);
    const Run bad = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--tcp"), tcp, QStringLiteral("--unit"),
            QString::number(m.unit)});
    QVERIFY2(bad.exitCode == 6, qPrintable(bad.describe()));
    // Connection refused.
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost));
    const quint16 closedPort = taken.serverPort();
    taken.close();
    const Run refused = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--tcp"),
            QStringLiteral("127.0.0.1:%1").arg(closedPort), QStringLiteral("--unit"), QStringLiteral("1")});
    QVERIFY2(refused.exitCode == 4 && refused.err.contains(u"connection refused"), qPrintable(refused.describe()));
    // Usage errors name the option.
    const Run usage = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("read"), QStringLiteral("--tcp"), tcp, QStringLiteral("--unit"),
            QStringLiteral("300")});
    QVERIFY2(usage.exitCode == 64 && usage.err.contains(u"--unit 300 is not in 1..247"), qPrintable(usage.describe()));
    const Run amount = run(QStringLiteral("prepayctl"),
        {QStringLiteral("meter"), QStringLiteral("recharge"), QStringLiteral("--tcp"), tcp, QStringLiteral("--unit"),
            QString::number(m.unit), QStringLiteral("--amount"), QStringLiteral("12.345"), QStringLiteral("--txn"),
            QStringLiteral("1")});
    QVERIFY2(amount.exitCode == 64 && amount.err.contains(u"more than 2 decimal"), qPrintable(amount.describe()));
}

QTEST_GUILESS_MAIN(TestMeterDriver)
#include "tst_meter_driver.moc"
