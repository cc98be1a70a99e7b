// The poller in this process against prepay-sim serving the demo building (300 meters, 8 buses,
// 3 gateways) and the demo database: full cycles, every fault class of the simulator while
// polling (what is stored, what is held, offline after 3 failures and back within a cycle),
// commands jumping the queue, fresh state on demand, read now by floor and building, a dead
// gateway touching only its own buses. The simulator's ground truth is the referee; the batch
// hook stands in for billing and checks that nothing held or repeated would reach it.
#include "api/clock.h"
#include "commands/commandexecutor.h"
#include "commands/commandstore.h"
#include "demosite.h"
#include "poller/poller.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::poller;

namespace {

QString bin(const QString &name)
{
    return qEnvironmentVariable("PREPAY_BIN_DIR") + u'/' + name;
}

qint64 scalar(store::Connection &db, const QString &sql)
{
    store::SqlError error;
    const qint64 v = db.queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return v;
}

} // namespace

class TestPoller : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();

    void fullCycleReadsEveryMeter();
    void transportFaultsWhilePolling_data();
    void transportFaultsWhilePolling();
    void deadAndLateMetersAreOfflineAfterThreeFailuresAndBackWithinACycle();
    void counterFaultsAreHeldOrFlaggedNeverCharged();
    void lateRepliesNeverBecomeAnotherMetersReading();
    void commandsJumpTheQueueAndAreVerified();
    void freshStateAndReadNow();
    void deadGatewayTouchesOnlyItsBuses();
    void cycleIntervalChangesAtRunTime();

private:
    QJsonObject ctl(const QStringList &arguments);
    void cycle(int timeoutMs = 60'000);
    std::unique_ptr<Poller> makePoller(WorkerLimits limits = {});
    qint64 meterAt(int gateway, int unit);

    QProcess m_sim;
    QTemporaryDir m_dir;
    quint16 m_base = 0;
    SystemClock m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<commands::CommandStore> m_commands;
    std::unique_ptr<commands::CommandExecutor> m_executor;
    std::unique_ptr<Poller> m_poller;
    QList<StoredReading> m_hooked; // what billing would have received
    std::mutex m_hookedMutex;
};

void TestPoller::initTestCase()
{
    m_base = test::freeSimulatorPortBase(40000, 10000);
    QString log;
    QVERIFY2(test::startDemoSimulator(m_sim, m_base,
                 {QStringLiteral("--baud"), QStringLiteral("0"), QStringLiteral("--gateway-timeout-ms"),
                     QStringLiteral("100")},
                 &log),
        qPrintable(log));
    store::OpenResult opened = store::Store::open(m_dir.filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QVERIFY(test::seedDemoDatabase(*m_store, m_base));
    m_commands = std::make_unique<commands::CommandStore>(*m_store, m_clock);
    m_executor = std::make_unique<commands::CommandExecutor>(*m_commands, m_clock);
}

void TestPoller::cleanupTestCase()
{
    m_poller.reset();
    m_sim.terminate();
    QVERIFY(m_sim.waitForFinished(10'000));
}

void TestPoller::init()
{
    QCOMPARE(
        ctl({QStringLiteral("fault"), QStringLiteral("clear")}).value(QStringLiteral("error")).toString(), QString());
    m_poller = makePoller();
    m_poller->start();
}

void TestPoller::cleanup()
{
    m_poller.reset();
    std::lock_guard lock(m_hookedMutex);
    m_hooked.clear();
}

std::unique_ptr<Poller> TestPoller::makePoller(WorkerLimits limits)
{
    PollPlan plan;
    QString error;
    auto reader = m_store->openReader();
    if (!loadPollPlan(*reader, &plan, &error))
        qFatal("%s", qPrintable(error));
    PollerOptions options;
    options.cycleAtStart = false;
    options.worker = limits;
    options.worker.firstProbeDelayMs = 300; // probes come quickly in a test
    auto poller = std::make_unique<Poller>(*m_store, m_clock, plan, m_commands.get(), m_executor.get(), options);
    poller->recorder().setBatchHook([this](store::Transaction &, const QList<StoredReading> &batch) {
        std::lock_guard lock(m_hookedMutex);
        m_hooked += batch;
    });
    return poller;
}

QJsonObject TestPoller::ctl(const QStringList &arguments)
{
    QProcess p;
    p.start(bin(QStringLiteral("prepay-sim")),
        QStringList{QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_base + 100)}
            + arguments);
    p.waitForFinished(30'000);
    const QByteArray out = p.readAllStandardOutput();
    if (p.exitCode() != 0)
        return QJsonObject{{QStringLiteral("error"), QString::fromUtf8(p.readAllStandardError() + out)}};
    return QJsonDocument::fromJson(out).object();
}

void TestPoller::cycle(int timeoutMs)
{
    QVERIFY(m_poller->startCycle() > 0);
    QTRY_VERIFY_WITH_TIMEOUT(!m_poller->cycleRunning(), timeoutMs);
    m_poller->recorder().flush();
}

qint64 TestPoller::meterAt(int gateway, int unit)
{
    auto reader = m_store->openReader();
    store::Statement s
        = reader->prepare(QStringLiteral("SELECT m.id FROM meters m JOIN buses b ON b.id = m.bus_id JOIN gateways g ON "
                                         "g.id = b.gateway_id WHERE g.id = ?1 AND m.unit_id = ?2"));
    s.bind(1, qint64(gateway + 1)).bind(2, qint64(unit));
    return s.step() == store::Statement::Step::Row ? s.int64(0) : 0;
}

void TestPoller::fullCycleReadsEveryMeter()
{
    auto db = m_store->openReader();
    const qint64 before = scalar(*db, QStringLiteral("SELECT count(*) FROM readings"));
    cycle();
    QCOMPARE(scalar(*db, QStringLiteral("SELECT count(*) FROM readings")) - before, 300);
    QCOMPARE(scalar(*db, QStringLiteral("SELECT count(*) FROM meter_state WHERE comm_state = 'online'")), 300);
    QCOMPARE(scalar(*db, QStringLiteral("SELECT count(*) FROM bus_health WHERE last_cycle_meters > 0")), 8);
    QCOMPARE(scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE validation <> 'valid'")), 0);
    // The recorder stored them in batches, far fewer transactions than readings.
    QVERIFY2(
        m_poller->recorder().stats().batches < 60, qPrintable(QString::number(m_poller->recorder().stats().batches)));
    // The meter_state twin holds what the meter said.
    const qint64 meter = meterAt(0, 1);
    const QJsonObject truth = ctl({QStringLiteral("truth"), QStringLiteral("0"), QStringLiteral("1")});
    QCOMPARE(scalar(*db, QStringLiteral("SELECT purchase_count FROM meter_state WHERE meter_id = %1").arg(meter)),
        truth[QStringLiteral("purchase_count")].toInteger());
    QCOMPARE(scalar(*db, QStringLiteral("SELECT balance_fen FROM meter_state WHERE meter_id = %1").arg(meter)),
        truth[QStringLiteral("balance_fen")].toInteger());
}

void TestPoller::transportFaultsWhilePolling_data()
{
    QTest::addColumn<QStringList>("fault");
    QTest::addColumn<QString>("errorCode"); // what meter_state records
    QTest::newRow("no reply") << QStringList{QStringLiteral("no_reply")} << QStringLiteral("timeout");
    QTest::newRow("late reply") << QStringList{QStringLiteral("late_reply"), QStringLiteral("--ms"),
        QStringLiteral("800")} << QStringLiteral("timeout");
    QTest::newRow("wrong tid") << QStringList{QStringLiteral("wrong_tid")} << QStringLiteral("bad_reply");
    QTest::newRow("crc garbage") << QStringList{QStringLiteral("crc_garbage")} << QStringLiteral("exception_11");
    QTest::newRow("exception 2") << QStringList{QStringLiteral("exception"), QStringLiteral("--code"),
        QStringLiteral("2")} << QStringLiteral("exception_2");
    QTest::newRow("device failure") << QStringList{QStringLiteral("device_failure")} << QStringLiteral("exception_4");
    QTest::newRow("busy") << QStringList{QStringLiteral("busy")} << QStringLiteral("exception_6");
    QTest::newRow("offline") << QStringList{QStringLiteral("offline")} << QStringLiteral("exception_11");
}

void TestPoller::transportFaultsWhilePolling()
{
    QFETCH(QStringList, fault);
    QFETCH(QString, errorCode);
    cycle();
    const qint64 meter = meterAt(2, 5); // basement, bus B1-COM1
    QJsonObject added
        = ctl(QStringList{QStringLiteral("fault"), QStringLiteral("add"), fault.first(), QStringLiteral("--gateway"),
                  QStringLiteral("2"), QStringLiteral("--unit"), QStringLiteral("5")}
            + fault.mid(1));
    QVERIFY2(!added.contains(QStringLiteral("error")), qPrintable(added.value(QStringLiteral("error")).toString()));
    auto db = m_store->openReader();
    const qint64 readingsBefore = scalar(*db, QStringLiteral("SELECT count(*) FROM readings"));
    const qint64 mineBefore
        = scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1").arg(meter));
    cycle();
    // Nothing stored for the faulty meter, everyone else read; the error is on its twin.
    QCOMPARE(scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1").arg(meter)), mineBefore);
    QCOMPARE(scalar(*db, QStringLiteral("SELECT count(*) FROM readings")) - readingsBefore, 299);
    store::Statement s = db->prepare(QStringLiteral("SELECT last_error_code FROM meter_state WHERE meter_id = ?1"));
    s.bind(1, meter);
    QCOMPARE(s.step(), store::Statement::Step::Row);
    QCOMPARE(s.text(0), errorCode);
    // The faulty meter cost its bus at most timeout × (retries + 1) = 2 × 500 ms (the gateway's
    // own timeout here is 100 ms): the bus's cycle stays well within a few seconds at --baud 0.
    for (const BusHealth &h : m_poller->health()) {
        QVERIFY2(h.lastCycleDurationMs < 1000 + 1500,
            qPrintable(QStringLiteral("bus %1: %2 ms").arg(h.busId).arg(h.lastCycleDurationMs)));
        QCOMPARE(h.lastCycleErrors, h.busId == m_poller->plan().busOfMeter(meter)->busId ? 1 : 0);
    }
    ctl({QStringLiteral("fault"), QStringLiteral("clear")});
}

void TestPoller::deadAndLateMetersAreOfflineAfterThreeFailuresAndBackWithinACycle()
{
    cycle(); // everyone online
    const qint64 dead = meterAt(0, 2);
    ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("offline"), QStringLiteral("--gateway"),
        QStringLiteral("0"), QStringLiteral("--unit"), QStringLiteral("2")});
    auto db = m_store->openReader();
    const qint64 readingsBefore
        = scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1").arg(dead));

    QElapsedTimer t;
    t.start();
    cycle(); // attempt + retry: 2 failures
    QCOMPARE(
        scalar(*db, QStringLiteral("SELECT consecutive_failures FROM meter_state WHERE meter_id = %1").arg(dead)), 2);
    QCOMPARE(
        scalar(*db, QStringLiteral("SELECT comm_state = 'online' FROM meter_state WHERE meter_id = %1").arg(dead)), 1);
    cycle(); // the third failure
    QCOMPARE(
        scalar(*db, QStringLiteral("SELECT comm_state = 'offline' FROM meter_state WHERE meter_id = %1").arg(dead)), 1);
    QVERIFY(scalar(*db, QStringLiteral("SELECT length(last_error) > 0 FROM meter_state WHERE meter_id = %1").arg(dead))
        == 1);
    // A missed interval is a gap: no reading was stored for the dead meter.
    QCOMPARE(
        scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1").arg(dead)), readingsBefore);
    // Offline meters are not in the cycle any more: it costs nothing.
    cycle();
    ctl({QStringLiteral("fault"), QStringLiteral("clear")});
    // Back online by a probe within the back-off (300 ms first, doubling).
    QTRY_COMPARE_WITH_TIMEOUT(m_poller->recorder().state(dead)->commState, CommState::Online, 10'000);
    m_poller->recorder().flush();
    QCOMPARE(
        scalar(*db, QStringLiteral("SELECT comm_state = 'online' FROM meter_state WHERE meter_id = %1").arg(dead)), 1);
    QVERIFY(
        scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1").arg(dead)) > readingsBefore);
}

void TestPoller::counterFaultsAreHeldOrFlaggedNeverCharged()
{
    // Validation measures time on prepayd's own clock (the meters' clocks are not trusted), so
    // this test lets real time pass instead of advancing the simulator's. Gateway 1's units
    // 1..6 are the three-phase shops of building B's ground floor (max 80 A: 52.8 kW).
    cycle(); // a baseline reading for everyone
    const auto fault = [this](int unit, const QStringList &kind) {
        ctl(QStringList{QStringLiteral("fault"), QStringLiteral("add")} + kind.mid(0, 1)
            + QStringList{QStringLiteral("--gateway"), QStringLiteral("1"), QStringLiteral("--unit"),
                QString::number(unit)}
            + kind.mid(1));
    };
    const auto load = [this](int unit, int watts) {
        ctl({QStringLiteral("load"), QStringLiteral("--gateway"), QStringLiteral("1"), QStringLiteral("--unit"),
            QString::number(unit), QStringLiteral("--watts"), QString::number(watts)});
    };
    fault(1, {QStringLiteral("counter_reset")});
    fault(2, {QStringLiteral("swap"), QStringLiteral("--new-serial"), QStringLiteral("39000001")});
    fault(3, {QStringLiteral("jump"), QStringLiteral("--wh"), QStringLiteral("5000000")});
    fault(4, {QStringLiteral("rollover"), QStringLiteral("--units-before-wrap"), QStringLiteral("1")});
    load(4, 12'000);
    load(5, 40'000);
    cycle(); // reset, swap and jump land; meter 4 jumps up to just below the wrap
    QTest::qWait(4000);
    cycle(); // meter 4 wraps (12 kW for 4 s: 13 Wh over 2^32); meter 5 draws 40 kW
    fault(5, {QStringLiteral("frozen")});
    // The counter moved between the last reading and the fault (by more under load, when the
    // fault command is slow to start): one more reading settles it, then nothing moves. That
    // reading is valid (it moved, or too little time passed to expect 30 Wh).
    cycle();
    QTest::qWait(3000);
    cycle(); // meter 5: power both times, the counter still (40 kW for ≥ 3 s: ≥ 33 Wh expected)

    auto db = m_store->openReader();
    const auto statusOf = [&](int unit) {
        store::Statement s = db->prepare(QStringLiteral(
            "SELECT validation FROM readings WHERE meter_id = ?1 AND validation <> 'valid' ORDER BY id"));
        s.bind(1, meterAt(1, unit));
        QStringList statuses;
        while (s.step() == store::Statement::Step::Row)
            statuses << s.text(0);
        return statuses;
    };
    QCOMPARE(statusOf(1), QStringList{QStringLiteral("reset_held")});
    QVERIFY2(statusOf(2).contains(QStringLiteral("swap_held")), qPrintable(statusOf(2).join(u',')));
    QCOMPARE(statusOf(3), QStringList{QStringLiteral("jump_held")});
    // Put near the top by the fault (a jump, held), then over the wrap by real consumption.
    QCOMPARE(statusOf(4), (QStringList{QStringLiteral("jump_held"), QStringLiteral("rollover")}));
    QCOMPARE(statusOf(5), QStringList{QStringLiteral("frozen_flagged")});

    // What billing received: nothing held is chargeable, no reading twice, the wrap exact.
    std::lock_guard lock(m_hookedMutex);
    QSet<qint64> seen;
    QHash<qint64, quint32> lastRegister; // by installation
    int rollovers = 0;
    for (const StoredReading &r : std::as_const(m_hooked)) {
        QVERIFY2(!seen.contains(r.readingId), "a reading handed to billing twice");
        seen.insert(r.readingId);
        const bool held = r.validation.status == ValidationStatus::ResetHeld
            || r.validation.status == ValidationStatus::SwapHeld || r.validation.status == ValidationStatus::JumpHeld;
        QVERIFY(!(held && r.validation.chargeable()));
        if (held)
            QCOMPARE(r.validation.deltaWh, 0);
        if (r.validation.status == ValidationStatus::Rollover) {
            // Exactly what the register moved across 2^32.
            const quint32 previous = lastRegister.value(r.installationId);
            QVERIFY(r.snapshot.energyTotalRegister < previous);
            QCOMPARE(r.validation.deltaWh, qint64(quint32(r.snapshot.energyTotalRegister - previous)) * 10);
            QVERIFY(r.validation.deltaWh >= 10 && r.validation.deltaWh <= 40);
            ++rollovers;
        }
        lastRegister[r.installationId] = r.snapshot.energyTotalRegister;
    }
    QCOMPARE(rollovers, 1);
}

void TestPoller::lateRepliesNeverBecomeAnotherMetersReading()
{
    cycle();
    auto db = m_store->openReader();
    const qint64 lastBefore = scalar(*db, QStringLiteral("SELECT max(id) FROM readings"));
    // A meter on gateway 2 answers late (after the 500 ms timeout of the demo buses).
    ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("late_reply"), QStringLiteral("--gateway"),
        QStringLiteral("2"), QStringLiteral("--unit"), QStringLiteral("1"), QStringLiteral("--ms"),
        QStringLiteral("700")});
    cycle();
    ctl({QStringLiteral("fault"), QStringLiteral("clear")});
    cycle();
    // A late reply matched to the next request would show up as another meter's serial (a swap)
    // or a jump on gateway 2's meters.
    QCOMPARE(
        scalar(*db,
            QStringLiteral(
                "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id JOIN buses b ON b.id = m.bus_id "
                "WHERE b.gateway_id = 3 AND r.id > %1 AND r.validation <> 'valid'")
                .arg(lastBefore)),
        0);
    QVERIFY(scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE id > %1").arg(lastBefore)) >= 2 * 299);
}

void TestPoller::commandsJumpTheQueueAndAreVerified()
{
    const qint64 meter = meterAt(0, 7);
    commands::CommandRequest trip;
    trip.meterId = meter;
    trip.kind = commands::Kind::RelayTrip;
    trip.idempotencyKey = QStringLiteral("test-trip-1");
    trip.cause = commands::Cause::System;
    // Submitted while a cycle is running: it waits at most for the transaction on the wire.
    QVERIFY(m_poller->startCycle() > 0);
    const commands::EnqueueResult queued = m_poller->submitCommand(trip);
    QCOMPARE(queued.outcome, commands::EnqueueOutcome::Queued);
    auto done = m_poller->commandDone(queued.commandId);
    QTRY_VERIFY_WITH_TIMEOUT(done.wait_for(std::chrono::seconds(0)) == std::future_status::ready, 20'000);
    QCOMPARE(done.get().outcome, commands::ExecuteOutcome::Verified);
    QTRY_VERIFY_WITH_TIMEOUT(!m_poller->cycleRunning(), 60'000);
    QCOMPARE(ctl({QStringLiteral("truth"), QStringLiteral("0"), QStringLiteral("7")})[QStringLiteral("relay_state")]
                 .toString(),
        QStringLiteral("open"));

    // The same request again is the same command.
    QCOMPARE(m_poller->submitCommand(trip).outcome, commands::EnqueueOutcome::Duplicate);

    commands::CommandRequest recharge;
    recharge.meterId = meter;
    recharge.kind = commands::Kind::Recharge;
    recharge.amountFen = 2500;
    recharge.rechargeTxn = 880001;
    recharge.idempotencyKey = QStringLiteral("test-recharge-1");
    recharge.cause = commands::Cause::Payment;
    const qint64 purchasedBefore = ctl(
        {QStringLiteral("truth"), QStringLiteral("0"), QStringLiteral("7")})[QStringLiteral("total_purchased_fen")]
                                       .toInteger();
    const commands::EnqueueResult r = m_poller->submitCommand(recharge);
    QCOMPARE(r.outcome, commands::EnqueueOutcome::Queued);
    auto rechargeDone = m_poller->commandDone(r.commandId);
    QTRY_VERIFY_WITH_TIMEOUT(rechargeDone.wait_for(std::chrono::seconds(0)) == std::future_status::ready, 20'000);
    QCOMPARE(rechargeDone.get().outcome, commands::ExecuteOutcome::Verified);
    QCOMPARE(
        ctl({QStringLiteral("truth"), QStringLiteral("0"), QStringLiteral("7")})[QStringLiteral("total_purchased_fen")]
            .toInteger(),
        purchasedBefore + 2500);
    auto db = m_store->openReader();
    QCOMPARE(
        scalar(*db,
            QStringLiteral(
                "SELECT count(*) FROM meter_commands WHERE id = %1 AND state = 'verified' AND purchase_seq IS NOT NULL "
                "AND sent_at_ms <= acknowledged_at_ms AND acknowledged_at_ms <= verified_at_ms")
                .arg(r.commandId)),
        1);
}

void TestPoller::freshStateAndReadNow()
{
    const qint64 meter = meterAt(2, 3);
    // Never read: fresh state asks the meter.
    auto first = m_poller->freshState(meter);
    QVERIFY(first.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    const std::optional<MeterStateView> view = first.get();
    QVERIFY(view && view->lastSnapshot);
    QCOMPARE(view->commState, CommState::Online);
    // Fresh enough now: answered at once from the last reading.
    auto second = m_poller->freshState(meter);
    QCOMPARE(second.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    QCOMPARE(second.get()->lastReadAtMs, view->lastReadAtMs);
    QVERIFY(!m_poller->freshState(999'999).get());

    auto db = m_store->openReader();
    const qint64 before = scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE source = 'on_demand'"));
    m_poller->readNowFloor(1, 3); // building A, 3rd floor: 6 shops
    QTRY_VERIFY_WITH_TIMEOUT(
        (m_poller->recorder().flush(),
            scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE source = 'on_demand'")) >= before + 6),
        20'000);
    m_poller->readNowBuilding(3); // the basement: 60 shops
    QTRY_VERIFY_WITH_TIMEOUT(
        (m_poller->recorder().flush(),
            scalar(*db, QStringLiteral("SELECT count(*) FROM readings WHERE source = 'on_demand'")) >= before + 66),
        20'000);
}

void TestPoller::deadGatewayTouchesOnlyItsBuses()
{
    ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("refuse"), QStringLiteral("--gateway"),
        QStringLiteral("0")});
    ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("disconnect"), QStringLiteral("--gateway"),
        QStringLiteral("0")});
    cycle();
    int failingBuses = 0;
    for (const BusHealth &h : m_poller->health()) {
        const auto bus = std::find_if(m_poller->plan().buses.cbegin(), m_poller->plan().buses.cend(),
            [&h](const BusPlan &b) { return b.busId == h.busId; });
        QVERIFY(bus != m_poller->plan().buses.cend());
        const bool onGatewayA = bus->endpoint.port == m_base;
        if (onGatewayA) {
            QCOMPARE(h.lastCycleErrors, h.lastCycleMeters); // every meter of gateway A failed
            ++failingBuses;
        } else {
            QCOMPARE(h.lastCycleErrors, 0);
        }
    }
    QCOMPARE(failingBuses, 3);
}

void TestPoller::cycleIntervalChangesAtRunTime()
{
    auto db = m_store->openReader();
    QVERIFY(m_poller->setCycleInterval(1, 10 * 60'000));
    QCOMPARE(scalar(*db, QStringLiteral("SELECT poll_interval_ms FROM buildings WHERE id = 1")), 600'000);
    QCOMPARE(m_poller->plan().cycleIntervalMsByBuilding.value(1), 600'000);
    QVERIFY(!m_poller->setCycleInterval(1, 59'000));     // below a minute
    QVERIFY(!m_poller->setCycleInterval(1, 86'400'001)); // above a day
    QVERIFY(!m_poller->setCycleInterval(99, 600'000));   // no such building
    QCOMPARE(scalar(*db, QStringLiteral("SELECT poll_interval_ms FROM buildings WHERE id = 1")), 600'000);
    QVERIFY(m_poller->setCycleInterval(1, 1'800'000));
}

QTEST_GUILESS_MAIN(TestPoller)
#include "tst_poller.moc"
