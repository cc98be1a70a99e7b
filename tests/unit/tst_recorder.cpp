// The poll plan and the recorder against a real temporary database at the head schema with the
// demo seed: the plan of the demo building and every way loading a plan refuses; readings of
// several meters in one batch transaction; failures that touch meter_state only; offline and
// online transitions; the batch hook inside the transaction (a throwing or rolling-back hook
// keeps nothing and the results are retried); a restart that validates against what was stored
// (a reset after a restart is held; a swap_held reading is not a baseline); bus_health rows;
// eight threads recording at once; and the v1 → v2 migration of a seeded database.
#include "manualclock.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <atomic>
#include <stdexcept>
#include <thread>

using namespace prepay;
using namespace prepay::poller;
using namespace prepay::store;
namespace v1 = prepay::meter::v1;

namespace {

constexpr qint64 kT0 = 1'795'000'000'000;
constexpr qint64 kMinuteMs = 60'000;

qint64 queryInt(Connection &db, const QString &sql)
{
    SqlError error;
    const qint64 n = db.queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return n;
}

QString queryText(Connection &db, const QString &sql)
{
    Statement s = db.prepare(sql);
    if (s.step() != Statement::Step::Row)
        return QStringLiteral("<no row: %1>").arg(s.error().toString());
    return s.isNull(0) ? QStringLiteral("<null>") : s.text(0);
}

} // namespace

class TestRecorder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void planOfTheDemoBuilding();
    void planRefusesTooManyBuses();
    void planRefusesTooManyMeters();
    void planRefusesAUnitIdTwice();
    void planRefusesAMeterWithoutInstallation();
    void planRefusesABadSetting();
    void planSkipsDisabledAndReadsLocalLines();

    void batchStoresSeveralMetersInOneTransaction();
    void readingColumns();
    void failuresUpdateMeterStateOnly();
    void offlineAndOnlineTransitions();
    void validationChainsWithinABatch();
    void hookRunsInsideTheTransaction();
    void throwingHookKeepsNothingAndRetries();
    void rollingBackHookKeepsNothingAndRetries();
    void restartValidatesAgainstStoredReadings();
    void swapHeldIsNotABaseline();
    void stateViews();
    void busHealthRows();
    void flushIfDueWaitsForAgeOrSize();
    void concurrentRecordFromEightThreads();
    void schemaV2UpgradesASeededV1Database();

private:
    void openStore();
    PollPlan plan();
    const MeterTarget &target(qint64 meterId) const;
    ReadingResult success(qint64 meterId, qint64 takenAtMs, quint32 reg, qint64 powerW = 1000,
        ReadReason reason = ReadReason::Cycle) const;
    ReadingResult failure(qint64 meterId, qint64 takenAtMs, int failures, CommState state, bool changed) const;
    std::unique_ptr<Connection> reader() { return m_store->openReader(); }

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    test::ManualClock m_clock;
    std::unique_ptr<Store> m_store;
    PollPlan m_plan;
};

void TestRecorder::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(QStringLiteral("prepay.db"));
    openStore();
    QVERIFY(m_store);
    const SeedReport seeded = applySeed(*m_store, QStringLiteral("demo"));
    QVERIFY2(seeded.outcome == SeedOutcome::Applied, qPrintable(seeded.message));
    m_plan = plan();
    QCOMPARE(m_plan.meterCount(), 300);
}

void TestRecorder::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

void TestRecorder::openStore()
{
    OpenResult opened = Store::open(m_path, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
}

PollPlan TestRecorder::plan()
{
    auto db = reader();
    PollPlan p;
    QString error;
    if (!loadPollPlan(*db, &p, &error))
        qWarning("loadPollPlan: %s", qPrintable(error));
    return p;
}

const MeterTarget &TestRecorder::target(qint64 meterId) const
{
    const MeterTarget *m = m_plan.meter(meterId);
    Q_ASSERT(m);
    return *m;
}

ReadingResult TestRecorder::success(
    qint64 meterId, qint64 takenAtMs, quint32 reg, qint64 powerW, ReadReason reason) const
{
    const MeterTarget &m = target(meterId);
    ReadingResult r;
    r.meterId = meterId;
    r.busId = m_plan.busOfMeter(meterId)->busId;
    r.takenAtMs = takenAtMs;
    r.reason = reason;
    modbus::MeterSnapshot s;
    s.profile = m.profile->name();
    if (m.prepaid) {
        s.serialNumber = m.serial;
        s.purchaseCount = 3;
        s.balanceFen = 12'345;
        s.totalPurchasedFen = 50'000;
        s.consumedMoneyTotalFen = 37'655;
        s.lastRechargeTxn = 4711;
        s.statusWord = 0;
        s.tariffVersionActive = 2;
        s.meterTimeS = takenAtMs / 1000;
    }
    s.energyTotalRegister = reg;
    s.energyTotalWh = qint64(reg) * 10;
    s.slotEnergyWh = {0, 0, qint64(reg) * 10, 0};
    s.activePowerW = powerW;
    r.snapshot = s;
    r.commState = CommState::Online;
    return r;
}

ReadingResult TestRecorder::failure(qint64 meterId, qint64 takenAtMs, int failures, CommState state, bool changed) const
{
    ReadingResult r;
    r.meterId = meterId;
    r.busId = m_plan.busOfMeter(meterId)->busId;
    r.takenAtMs = takenAtMs;
    r.error
        = modbus::DriverError::make(modbus::ErrorKind::Timeout, QStringLiteral("no reply from unit %1").arg(meterId));
    r.attempts = 2;
    r.commState = state;
    r.commStateChanged = changed;
    r.consecutiveFailures = failures;
    return r;
}

// ---- The plan -------------------------------------------------------------------------------

void TestRecorder::planOfTheDemoBuilding()
{
    const PollPlan &p = m_plan;
    QCOMPARE(p.buses.size(), 8);
    QCOMPARE(p.meterCount(), 300);
    const QStringList names
        = {QStringLiteral("A-COM1"), QStringLiteral("A-COM2"), QStringLiteral("A-COM3"), QStringLiteral("B-COM1"),
            QStringLiteral("B-COM2"), QStringLiteral("B-COM3"), QStringLiteral("B1-COM1"), QStringLiteral("B1-COM2")};
    const int ports[] = {1502, 1502, 1502, 1503, 1503, 1503, 1504, 1504};
    const qint64 buildings[] = {1, 1, 1, 2, 2, 2, 3, 3};
    const int meters[] = {40, 40, 40, 40, 40, 40, 30, 30};
    for (int i = 0; i < 8; ++i) {
        const BusPlan &bus = p.buses[i];
        QCOMPARE(bus.busId, qint64(i + 1));
        QCOMPARE(bus.name, names[i]);
        QCOMPARE(bus.buildingId, buildings[i]);
        QCOMPARE(bus.meters.size(), meters[i]);
        QCOMPARE(bus.endpoint.kind, modbus::Endpoint::Kind::Tcp);
        QCOMPARE(bus.endpoint.host, QStringLiteral("127.0.0.1"));
        QCOMPARE(bus.endpoint.port, quint16(ports[i]));
        QCOMPARE(bus.endpoint.baud, 9600);
        QCOMPARE(bus.endpoint.parity, 'E');
        QCOMPARE(bus.endpoint.stopBits, 1);
        QCOMPARE(bus.timing.responseTimeoutMs, 500); // buses.response_timeout_ms
        // Unit ids are unique per gateway: bus n of a gateway counts from 60(n − 1) + 1.
        const int portIndex = i < 6 ? i % 3 : i - 6;
        QCOMPARE(int(bus.meters.first().unitId), portIndex * 60 + 1);
        for (const MeterTarget &m : bus.meters) {
            QCOMPARE(m.buildingId, bus.buildingId);
            QCOMPARE(p.busOfMeter(m.meterId), &bus);
            QCOMPARE(p.meter(m.meterId), &m);
        }
    }
    QCOMPARE(p.cycleIntervalMsByBuilding.value(1), qint64(1'800'000));
    QCOMPARE(p.cycleIntervalMsByBuilding.value(2), qint64(1'800'000));
    QCOMPARE(p.cycleIntervalMsByBuilding.value(3), qint64(900'000)); // the basement's own
    QCOMPARE(p.freshMaxAgeMs, qint64(180'000));
    QCOMPARE(p.offlineAfterFailures, 3);
    QCOMPARE(p.offlineProbeIntervalMs, qint64(600'000));

    // Profiles by capability, maximum power by phases, installations and points as seeded
    // (metering point n has meter n and installation n).
    int remote = 0;
    auto db = reader();
    for (const BusPlan &bus : p.buses) {
        for (const MeterTarget &m : bus.meters) {
            QCOMPARE(m.installationId, m.meterId);
            QCOMPARE(m.meteringPointId, m.meterId);
            QCOMPARE(m.profile->name(), m.prepaid ? QStringLiteral("prepay-v1") : QStringLiteral("acrel-remote"));
            if (!m.prepaid)
                ++remote;
            Statement s = db->prepare(
                QStringLiteral("SELECT m.device_type, m.serial_number, m.has_tou_registers, mp.floor FROM meters m "
                               "JOIN metering_points mp ON mp.id = ?1 WHERE m.id = ?1"));
            s.bind(1, m.meterId);
            QCOMPARE(s.step(), Statement::Step::Row);
            QCOMPARE(m.maxPowerW, s.text(0) == u"three_phase" ? qint64(80 * 220 * 3) : qint64(60 * 220));
            QCOMPARE(qint64(m.serial), s.int64(1));
            QCOMPARE(m.hasTouRegisters, s.int64(2) != 0);
            QCOMPARE(qint64(m.floor), s.int64(3));
        }
    }
    QCOMPARE(remote, 24);                            // B floors 9 and 10
    QCOMPARE(p.meter(1)->maxPowerW, qint64(52'800)); // A-1F-101: three-phase 10(80) A
    QCOMPARE(p.meter(8)->maxPowerW, qint64(13'200)); // A-2F-202: single-phase 10(60) A
    QVERIFY(!p.meter(999));
    QVERIFY(!p.busOfMeter(999));
}

void TestRecorder::planRefusesTooManyBuses()
{
    // 65 local lines in a building of their own, on a database without the demo.
    m_store.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    m_path = m_dir->filePath(QStringLiteral("prepay.db"));
    openStore();
    QVERIFY(test::runScript(*m_store,
        QStringLiteral("INSERT INTO buildings (id, code, name, created_at_ms) VALUES (1, 'A', 'A', 0);"
                       "WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 65) "
                       "INSERT INTO buses (name, kind, device_path, created_at_ms) "
                       "SELECT printf('L%d', i), 'local_serial', printf('/dev/ttyS%d', i), 0 FROM n;")));
    auto db = reader();
    PollPlan p;
    QString error;
    QVERIFY(!loadPollPlan(*db, &p, &error));
    QVERIFY2(error.contains(u"65 buses") && error.contains(u"64"), qPrintable(error));

    // 64 are fine.
    QVERIFY(test::runScript(*m_store, QStringLiteral("UPDATE buses SET enabled = 0 WHERE name = 'L65'")));
    QVERIFY2(loadPollPlan(*db, &p, &error), qPrintable(error));
    QCOMPARE(p.buses.size(), 64);
}

void TestRecorder::planRefusesTooManyMeters()
{
    // 41 local lines of 245 meters each (10,045 meters), each with point and installation.
    m_store.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    m_path = m_dir->filePath(QStringLiteral("prepay.db"));
    openStore();
    QVERIFY(test::runScript(*m_store,
        QStringLiteral("INSERT INTO buildings (id, code, name, created_at_ms) VALUES (1, 'A', 'A', 0);"
                       "WITH RECURSIVE n(i) AS (VALUES (1) UNION ALL SELECT i + 1 FROM n WHERE i < 41) "
                       "INSERT INTO buses (id, name, kind, device_path, created_at_ms) "
                       "SELECT i, printf('L%d', i), 'local_serial', printf('/dev/ttyS%d', i), 0 FROM n;"
                       "WITH RECURSIVE n(i) AS (VALUES (0) UNION ALL SELECT i + 1 FROM n WHERE i < 41 * 245 - 1) "
                       "INSERT INTO metering_points (id, code, building_id, floor, created_at_ms) "
                       "SELECT i + 1, printf('P%d', i), 1, 1, 0 FROM n;"
                       "INSERT INTO meters (id, serial_number, model, device_type, capability, rated_current_ma, "
                       "    max_current_ma, state, bus_id, unit_id, created_at_ms) "
                       "SELECT id, id, 'X', 'single_phase', 'prepaid', 10000, 60000, 'installed', (id - 1) / 245 + 1, "
                       "    (id - 1) % 245 + 1, 0 FROM metering_points;"
                       "INSERT INTO meter_installations (id, metering_point_id, meter_id, installed_at_ms) "
                       "SELECT id, id, id, 0 FROM metering_points;")));
    auto db = reader();
    PollPlan p;
    QString error;
    QVERIFY(!loadPollPlan(*db, &p, &error));
    QVERIFY2(error.contains(u"more than 10000 meters") && error.contains(u"bus L41"), qPrintable(error));

    QVERIFY(test::runScript(*m_store, QStringLiteral("UPDATE buses SET enabled = 0 WHERE id = 41")));
    QVERIFY2(loadPollPlan(*db, &p, &error), qPrintable(error));
    QCOMPARE(p.meterCount(), 40 * 245);
}

void TestRecorder::planRefusesAUnitIdTwice()
{
    // The schema's unique index keeps this out of a healthy database; the plan checks anyway.
    QVERIFY(test::runScript(
        *m_store, QStringLiteral("DROP INDEX meters_bus_unit; UPDATE meters SET unit_id = 1 WHERE id = 2;")));
    auto db = reader();
    PollPlan p;
    QString error;
    QVERIFY(!loadPollPlan(*db, &p, &error));
    QVERIFY2(error.contains(u"bus A-COM1") && error.contains(u"unit id 1") && error.contains(u"meters 1 and 2"),
        qPrintable(error));
}

void TestRecorder::planRefusesAMeterWithoutInstallation()
{
    QVERIFY(test::runScript(
        *m_store, QStringLiteral("UPDATE meter_installations SET removed_at_ms = installed_at_ms WHERE id = 45")));
    auto db = reader();
    PollPlan p;
    QString error;
    QVERIFY(!loadPollPlan(*db, &p, &error));
    QVERIFY2(error.contains(u"meter 45") && error.contains(u"bus A-COM2") && error.contains(u"no current installation"),
        qPrintable(error));
}

void TestRecorder::planRefusesABadSetting()
{
    QVERIFY(
        test::runScript(*m_store, QStringLiteral("UPDATE settings SET value = 'soon' WHERE key = 'poll.interval_ms'")));
    auto db = reader();
    PollPlan p;
    QString error;
    QVERIFY(!loadPollPlan(*db, &p, &error));
    QVERIFY2(error.contains(u"poll.interval_ms") && error.contains(u"'soon'"), qPrintable(error));

    QVERIFY(test::runScript(*m_store,
        QStringLiteral("UPDATE settings SET value = '1800000' WHERE key = 'poll.interval_ms';"
                       "UPDATE settings SET value = '0' WHERE key = 'poll.offline_after_failures';")));
    QVERIFY(!loadPollPlan(*db, &p, &error));
    QVERIFY2(error.contains(u"poll.offline_after_failures"), qPrintable(error));

    QVERIFY(test::runScript(*m_store,
        QStringLiteral("UPDATE settings SET value = '5' WHERE key = 'poll.offline_after_failures';"
                       "UPDATE settings SET value = '1200000' WHERE key = 'poll.interval_ms';"
                       "UPDATE settings SET value = '60000' WHERE key = 'poll.fresh_max_age_ms';")));
    QVERIFY2(loadPollPlan(*db, &p, &error), qPrintable(error));
    QCOMPARE(p.offlineAfterFailures, 5);
    QCOMPARE(p.freshMaxAgeMs, qint64(60'000));
    QCOMPARE(p.cycleIntervalMsByBuilding.value(1), qint64(1'200'000));
    QCOMPARE(p.cycleIntervalMsByBuilding.value(3), qint64(900'000));
}

void TestRecorder::planSkipsDisabledAndReadsLocalLines()
{
    // A disabled bus and every bus of a disabled gateway are not polled; a local line is RTU.
    // Meters 291..300 (B1-COM2's last ten) move to a local line in building 3.
    QVERIFY(test::runScript(*m_store,
        QStringLiteral(
            "UPDATE buses SET enabled = 0 WHERE name = 'A-COM2';"
            "UPDATE gateways SET enabled = 0 WHERE id = 2;"
            "UPDATE buses SET tcp_port = 1602 WHERE name = 'A-COM3';"
            "INSERT INTO buses (id, name, kind, device_path, baud, parity, stop_bits, response_timeout_ms, "
            "    created_at_ms) VALUES (9, 'B1-USB', 'local_serial', '/dev/ttyUSB0', 19200, 'none', 2, 300, 0);"
            "UPDATE meters SET bus_id = 9, unit_id = id - 290 WHERE id > 290;")));
    const PollPlan p = plan();
    QStringList names;
    for (const BusPlan &b : p.buses)
        names.append(b.name);
    QCOMPARE(names,
        QStringList({QStringLiteral("A-COM1"), QStringLiteral("A-COM3"), QStringLiteral("B1-COM1"),
            QStringLiteral("B1-COM2"), QStringLiteral("B1-USB")}));
    QCOMPARE(p.meterCount(), 40 + 40 + 30 + 30);
    QCOMPARE(p.buses[1].endpoint.port, quint16(1602)); // its own TCP port
    const BusPlan &local = p.buses[4];
    QCOMPARE(local.endpoint.kind, modbus::Endpoint::Kind::Rtu);
    QCOMPARE(local.endpoint.device, QStringLiteral("/dev/ttyUSB0"));
    QCOMPARE(local.endpoint.baud, 19200);
    QCOMPARE(local.endpoint.parity, 'N');
    QCOMPARE(local.endpoint.stopBits, 2);
    QCOMPARE(local.timing.responseTimeoutMs, 300);
    QVERIFY(local.timing.interFrameGapUs > 0); // RTU timing from the endpoint, the timeout from the bus
    QCOMPARE(local.buildingId, qint64(3));     // from its meters
    QCOMPARE(local.meters.size(), 10);
    QVERIFY(!p.meter(150)); // on B's disabled gateway
}

// ---- The recorder ---------------------------------------------------------------------------

void TestRecorder::batchStoresSeveralMetersInOneTransaction()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    for (qint64 meter = 1; meter <= 10; ++meter)
        recorder.record(success(meter, kT0 + meter, quint32(1000 * meter)));
    QCOMPARE(recorder.stats().batches, qint64(0)); // nothing until a flush
    recorder.flush();
    const Recorder::Stats stats = recorder.stats();
    QCOMPARE(stats.batches, qint64(1));
    QCOMPARE(stats.readingsStored, qint64(10));
    QCOMPARE(stats.failedBatches, qint64(0));

    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(10));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings WHERE validation = 'valid'")), qint64(10));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM meter_state WHERE comm_state = 'online'")), qint64(10));
    QCOMPARE(queryInt(*db,
                 QStringLiteral("SELECT count(*) FROM meter_state ms JOIN readings r ON r.id = ms.last_reading_id "
                                "WHERE r.meter_id = ms.meter_id AND ms.energy_total_wh = r.energy_total_wh "
                                "AND ms.last_read_at_ms = r.taken_at_ms")),
        qint64(10));
    // One transaction: the ten readings have consecutive ids, all in one batch.
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT max(id) - min(id) FROM readings")), qint64(9));

    // The next flush validates against them: 1 kWh more each.
    for (qint64 meter = 1; meter <= 10; ++meter)
        recorder.record(success(meter, kT0 + 30 * kMinuteMs + meter, quint32(1000 * meter + 100)));
    QList<StoredReading> seen;
    recorder.setBatchHook([&seen](Transaction &, const QList<StoredReading> &batch) { seen += batch; });
    recorder.flush();
    QCOMPARE(recorder.stats().batches, qint64(2));
    QCOMPARE(seen.size(), 10);
    for (const StoredReading &s : seen) {
        QCOMPARE(s.validation.status, ValidationStatus::Valid);
        QCOMPARE(s.validation.deltaWh, qint64(1000));
        QCOMPARE(s.installationId, s.meterId);
    }
}

void TestRecorder::readingColumns()
{
    // A prepaid meter, read now, with a rare trip reason; a remote-only single-phase meter
    // (no TOU registers) whose snapshot claims a balance; a verify read; a probe.
    qint64 remoteSingle = 0;
    for (const BusPlan &b : m_plan.buses) {
        for (const MeterTarget &m : b.meters) {
            if (!m.prepaid && !m.hasTouRegisters && !remoteSingle)
                remoteSingle = m.meterId;
        }
    }
    QVERIFY(remoteSingle);
    Recorder recorder(*m_store, m_clock, m_plan);
    ReadingResult prepaid = success(1, kT0, 4242, 777, ReadReason::ReadNow);
    prepaid.snapshot->tripReason = v1::TripReason::MalignantLoad;
    prepaid.snapshot->relayState = v1::RelayState::Open;
    prepaid.snapshot->relayMode = v1::RelayMode::ForceOff;
    prepaid.snapshot->statusWord = v1::status::RelayOpen | v1::status::Forced;
    prepaid.snapshot->slotEnergyWh = {10, 20, 42'390, 0};
    recorder.record(prepaid);
    ReadingResult remote = success(remoteSingle, kT0, 999, 50, ReadReason::Verify);
    remote.snapshot->balanceFen = 100; // whatever a profile decodes, a remote-only meter has no balance
    remote.snapshot->purchaseCount = 1;
    recorder.record(remote);
    recorder.record(success(2, kT0, 5, 0, ReadReason::Probe));
    recorder.flush();

    auto db = reader();
    Statement s = db->prepare(QStringLiteral(
        "SELECT source, energy_total_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, power_w, "
        "       balance_fen, purchase_count, total_purchased_fen, consumed_total_fen, last_recharge_txn, relay_state, "
        "       relay_mode, trip_reason, status_word, tariff_version_active, meter_time_ms, validation, serial_number, "
        "       validation_note, installation_id, metering_point_id "
        "  FROM readings WHERE meter_id = ?1"));
    s.bind(1, qint64(1));
    QCOMPARE(s.step(), Statement::Step::Row);
    QCOMPARE(s.text(0), QStringLiteral("on_demand"));
    QCOMPARE(s.int64(1), qint64(42'420));
    QCOMPARE(s.int64(2), qint64(10));
    QCOMPARE(s.int64(3), qint64(20));
    QCOMPARE(s.int64(4), qint64(42'390));
    QCOMPARE(s.int64(5), qint64(0));
    QCOMPARE(s.int64(6), qint64(777));
    QCOMPARE(s.int64(7), qint64(12'345));
    QCOMPARE(s.int64(8), qint64(3));
    QCOMPARE(s.int64(9), qint64(50'000));
    QCOMPARE(s.int64(10), qint64(37'655));
    QCOMPARE(s.int64(11), qint64(4711));
    QCOMPARE(s.text(12), QStringLiteral("open"));
    QCOMPARE(s.text(13), QStringLiteral("force_off"));
    QCOMPARE(s.text(14), QStringLiteral("other")); // malignant_load folds into 'other' in readings
    QCOMPARE(s.int64(15), qint64(3));
    QCOMPARE(s.int64(16), qint64(2));
    QCOMPARE(s.int64(17), (kT0 / 1000) * 1000);
    QCOMPARE(s.text(18), QStringLiteral("valid"));
    QCOMPARE(s.int64(19), qint64(target(1).serial));
    QVERIFY(s.text(20).contains(u"first reading"));
    QCOMPARE(s.int64(21), target(1).installationId);
    QCOMPARE(s.int64(22), target(1).meteringPointId);
    QCOMPARE(queryText(*db, QStringLiteral("SELECT trip_reason FROM meter_state WHERE meter_id = 1")),
        QStringLiteral("malignant_load"));
    QCOMPARE(queryText(*db, QStringLiteral("SELECT relay_mode FROM meter_state WHERE meter_id = 1")),
        QStringLiteral("force_off"));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT balance_fen FROM meter_state WHERE meter_id = 1")), qint64(12'345));

    s = db->prepare(QStringLiteral(
        "SELECT source, energy_sharp_wh IS NULL AND energy_peak_wh IS NULL AND energy_flat_wh IS NULL "
        "       AND energy_valley_wh IS NULL, balance_fen IS NULL AND purchase_count IS NULL "
        "       AND total_purchased_fen IS NULL AND consumed_total_fen IS NULL AND last_recharge_txn IS NULL, "
        "       serial_number IS NULL, meter_time_ms IS NULL, status_word IS NULL "
        "  FROM readings WHERE meter_id = ?1"));
    s.bind(1, remoteSingle);
    QCOMPARE(s.step(), Statement::Step::Row);
    QCOMPARE(s.text(0), QStringLiteral("verify"));
    for (int column = 1; column <= 5; ++column)
        QVERIFY2(s.int64(column) == 1, qPrintable(QString::number(column)));
    QCOMPARE(queryInt(*db,
                 QStringLiteral("SELECT count(*) FROM meter_state WHERE meter_id = %1 AND balance_fen IS NULL "
                                "AND purchase_count IS NULL")
                     .arg(remoteSingle)),
        qint64(1));
    QCOMPARE(queryText(*db, QStringLiteral("SELECT source FROM readings WHERE meter_id = 2")), QStringLiteral("poll"));
}

void TestRecorder::failuresUpdateMeterStateOnly()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    recorder.record(failure(7, kT0, 1, CommState::Unknown, false));
    recorder.record(failure(8, kT0, 1, CommState::Unknown, false));
    recorder.flush();
    QCOMPARE(recorder.stats().batches, qint64(1));
    QCOMPARE(recorder.stats().readingsStored, qint64(0));

    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(0));
    Statement s = db->prepare(QStringLiteral(
        "SELECT comm_state, consecutive_failures, last_error, last_error_code, last_error_at_ms, "
        "       last_reading_id IS NULL AND last_read_at_ms IS NULL AND energy_total_wh IS NULL, comm_state_since_ms "
        "  FROM meter_state WHERE meter_id = 7"));
    QCOMPARE(s.step(), Statement::Step::Row);
    QCOMPARE(s.text(0), QStringLiteral("unknown"));
    QCOMPARE(s.int64(1), qint64(1));
    QCOMPARE(s.text(2), QStringLiteral("no reply from unit 7"));
    QCOMPARE(s.text(3), QStringLiteral("timeout"));
    QCOMPARE(s.int64(4), kT0);
    QCOMPARE(s.int64(5), qint64(1));
    QCOMPARE(s.int64(6), kT0);
    s.reset(); // a statement left on a row keeps its read snapshot open

    // A good read after a failure keeps the last error (for staff) and stores the reading.
    recorder.record(success(7, kT0 + kMinuteMs, 100));
    recorder.flush();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(1));
    QCOMPARE(queryText(*db, QStringLiteral("SELECT last_error_code FROM meter_state WHERE meter_id = 7")),
        QStringLiteral("timeout"));
    QCOMPARE(queryText(*db, QStringLiteral("SELECT comm_state FROM meter_state WHERE meter_id = 7")),
        QStringLiteral("online"));
    QCOMPARE(
        queryInt(*db, QStringLiteral("SELECT consecutive_failures FROM meter_state WHERE meter_id = 7")), qint64(0));
}

void TestRecorder::offlineAndOnlineTransitions()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    auto db = reader();
    const auto commOf7 = [&db] {
        return queryText(*db,
            QStringLiteral("SELECT comm_state || ' ' || comm_state_since_ms || ' ' || "
                           "consecutive_failures FROM meter_state WHERE meter_id = 7"));
    };
    recorder.record(success(7, kT0, 100));
    recorder.flush();
    QCOMPARE(commOf7(), QStringLiteral("online %1 0").arg(kT0));

    // Two failures: still online since kT0; the third: offline since then.
    recorder.record(failure(7, kT0 + 1 * kMinuteMs, 1, CommState::Online, false));
    recorder.record(failure(7, kT0 + 2 * kMinuteMs, 2, CommState::Online, false));
    recorder.flush();
    QCOMPARE(commOf7(), QStringLiteral("online %1 2").arg(kT0));
    recorder.record(failure(7, kT0 + 3 * kMinuteMs, 3, CommState::Offline, true));
    recorder.flush();
    QCOMPARE(commOf7(), QStringLiteral("offline %1 3").arg(kT0 + 3 * kMinuteMs));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM meter_state WHERE comm_state = 'offline'")), qint64(1));
    std::optional<MeterStateView> view = recorder.state(7);
    QVERIFY(view);
    QCOMPARE(view->commState, CommState::Offline);
    QCOMPARE(view->commStateSinceMs, kT0 + 3 * kMinuteMs);
    QCOMPARE(view->consecutiveFailures, 3);
    QCOMPARE(view->lastReadAtMs, kT0); // the last good read stays

    // A probe fails again (no change), then one succeeds: online since then.
    recorder.record(failure(7, kT0 + 13 * kMinuteMs, 4, CommState::Offline, false));
    recorder.flush();
    QCOMPARE(commOf7(), QStringLiteral("offline %1 4").arg(kT0 + 3 * kMinuteMs));
    ReadingResult back = success(7, kT0 + 23 * kMinuteMs, 130, 1000, ReadReason::Probe);
    back.commStateChanged = true;
    recorder.record(back);
    recorder.flush();
    QCOMPARE(commOf7(), QStringLiteral("online %1 0").arg(kT0 + 23 * kMinuteMs));
    view = recorder.state(7);
    QCOMPARE(view->commState, CommState::Online);
    QCOMPARE(view->lastReadAtMs, kT0 + 23 * kMinuteMs);
    QCOMPARE(view->lastError, QStringLiteral("no reply from unit 7"));
    QCOMPARE(view->lastErrorCode, QStringLiteral("timeout"));
    QCOMPARE(view->lastErrorAtMs, kT0 + 13 * kMinuteMs);
    // The gap while offline is a gap, not zero: one interval, 300 Wh over 23 minutes.
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = 7")), qint64(2));
}

void TestRecorder::validationChainsWithinABatch()
{
    // Three readings of one meter in one batch: each is validated against the one before it,
    // including a reset that becomes the baseline of the next.
    Recorder recorder(*m_store, m_clock, m_plan);
    QList<StoredReading> seen;
    recorder.setBatchHook([&seen](Transaction &, const QList<StoredReading> &batch) { seen += batch; });
    recorder.record(success(3, kT0, 50'000));
    recorder.record(success(3, kT0 + 30 * kMinuteMs, 50'200));
    recorder.record(success(3, kT0 + 60 * kMinuteMs, 10));
    recorder.record(success(3, kT0 + 90 * kMinuteMs, 110));
    recorder.flush();
    QCOMPARE(recorder.stats().batches, qint64(1));
    QCOMPARE(seen.size(), 4);
    QCOMPARE(seen[0].validation.deltaWh, qint64(0));
    QCOMPARE(seen[1].validation.deltaWh, qint64(2000));
    QCOMPARE(seen[2].validation.status, ValidationStatus::ResetHeld);
    QCOMPARE(seen[2].validation.deltaWh, qint64(0));
    QCOMPARE(seen[3].validation.status, ValidationStatus::Valid);
    QCOMPARE(seen[3].validation.deltaWh, qint64(1000));
    auto db = reader();
    QCOMPARE(queryText(*db,
                 QStringLiteral("SELECT group_concat(validation, ',') FROM (SELECT validation FROM readings "
                                "WHERE meter_id = 3 ORDER BY id)")),
        QStringLiteral("valid,valid,reset_held,valid"));
    QVERIFY(queryText(*db, QStringLiteral("SELECT validation_note FROM readings WHERE validation = 'reset_held'"))
                .contains(u"went back"));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings WHERE validation_note IS NULL")), qint64(2));
}

void TestRecorder::hookRunsInsideTheTransaction()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    qint64 insideCount = -1, outsideCount = -1;
    QList<qint64> ids;
    recorder.setBatchHook([&](Transaction &tx, const QList<StoredReading> &batch) {
        // The hook's own connection is the writer's: it sees the batch; a reader does not yet.
        SqlError error;
        insideCount = tx.db().queryInt(QStringLiteral("SELECT count(*) FROM readings"), &error);
        auto other = m_store->openReader();
        outsideCount = other->queryInt(QStringLiteral("SELECT count(*) FROM readings"), &error);
        for (const StoredReading &s : batch)
            ids.append(s.readingId);
        // What billing would do: write in the same transaction.
        Statement s
            = tx.prepare(QStringLiteral("UPDATE billing_state SET updated_at_ms = ?1 WHERE metering_point_id = ?2"));
        s.bind(1, qint64(42)).bind(2, batch.first().meteringPointId);
        if (const SqlError e = s.run(); !e.ok())
            tx.fail(e);
    });
    recorder.record(success(11, kT0, 10));
    recorder.record(success(12, kT0, 20));
    recorder.record(failure(13, kT0, 1, CommState::Unknown, false)); // not handed to the hook
    recorder.flush();
    QCOMPARE(insideCount, qint64(2));
    QCOMPARE(outsideCount, qint64(0));
    QCOMPARE(ids.size(), 2);
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT updated_at_ms FROM billing_state WHERE metering_point_id = 11")),
        qint64(42));

    // A batch of failures only does not call the hook.
    ids.clear();
    recorder.record(failure(13, kT0 + kMinuteMs, 2, CommState::Unknown, false));
    recorder.flush();
    QVERIFY(ids.isEmpty());
    QCOMPARE(recorder.stats().batches, qint64(2));
}

void TestRecorder::throwingHookKeepsNothingAndRetries()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    recorder.record(success(21, kT0, 1000));
    recorder.flush();
    std::atomic<int> calls{0};
    bool fail = true;
    QList<StoredReading> seen;
    recorder.setBatchHook([&](Transaction &, const QList<StoredReading> &batch) {
        ++calls;
        if (fail)
            throw std::runtime_error("billing is broken");
        seen += batch;
    });
    recorder.record(success(21, kT0 + 30 * kMinuteMs, 1100));
    recorder.record(success(21, kT0 + 60 * kMinuteMs, 1300));
    recorder.record(failure(22, kT0 + 60 * kMinuteMs, 1, CommState::Online, false));
    recorder.recordHealth(BusHealth{1, kT0, 0, 40, 1, 0, 40, 1});
    QTest::ignoreMessage(
        QtWarningMsg, QRegularExpression(QStringLiteral("batch of 3 results was not stored.*billing is broken")));
    recorder.flush();
    QCOMPARE(calls.load(), 1);
    QCOMPARE(recorder.stats().failedBatches, qint64(1));
    QCOMPARE(recorder.stats().readingsStored, qint64(1));
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(1));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM meter_state WHERE meter_id = 22")), qint64(0));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM bus_health")), qint64(0));
    QCOMPARE(recorder.state(21)->lastReadAtMs, kT0); // the view follows the database

    // flushIfDue waits retryAfterMs after a failure; then the batch goes again (logged once).
    recorder.flushIfDue();
    QCOMPARE(calls.load(), 1);
    m_clock.advanceMs(5000);
    recorder.flushIfDue();
    QCOMPARE(calls.load(), 2);
    QCOMPARE(recorder.stats().failedBatches, qint64(2));

    fail = false;
    recorder.flush();
    QCOMPARE(recorder.stats().failedBatches, qint64(2));
    QCOMPARE(seen.size(), 2);
    // Validated against the stored reading, in order, as if nothing had happened.
    QCOMPARE(seen[0].validation.deltaWh, qint64(1000));
    QCOMPARE(seen[1].validation.deltaWh, qint64(2000));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(3));
    QCOMPARE(
        queryInt(*db, QStringLiteral("SELECT consecutive_failures FROM meter_state WHERE meter_id = 22")), qint64(1));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT last_cycle_errors FROM bus_health WHERE bus_id = 1")), qint64(1));
    QCOMPARE(recorder.state(21)->lastReadAtMs, kT0 + 60 * kMinuteMs);
}

void TestRecorder::rollingBackHookKeepsNothingAndRetries()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    bool refuse = true;
    recorder.setBatchHook([&refuse](Transaction &tx, const QList<StoredReading> &) {
        if (refuse)
            tx.rollback(QStringLiteral("tariff missing"));
    });
    recorder.record(success(31, kT0, 10));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("rolled_back: tariff missing")));
    recorder.flush();
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(0));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM meter_state")), qint64(0));
    QCOMPARE(recorder.stats().failedBatches, qint64(1));
    refuse = false;
    recorder.flush();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(1));
    QCOMPARE(recorder.stats().readingsStored, qint64(1));
}

void TestRecorder::restartValidatesAgainstStoredReadings()
{
    {
        Recorder recorder(*m_store, m_clock, m_plan);
        ReadingResult r = success(41, kT0, 80'000, 2500);
        r.snapshot->tripReason = v1::TripReason::TimeControl;
        r.snapshot->relayState = v1::RelayState::Open;
        recorder.record(r);
        recorder.record(failure(41, kT0 + kMinuteMs, 1, CommState::Online, false));
        recorder.record(success(42, kT0, 500));
    } // the destructor flushes
    m_store.reset();
    openStore();

    Recorder recorder(*m_store, m_clock, m_plan);
    // The view comes back from meter_state and the last reading.
    const std::optional<MeterStateView> view = recorder.state(41);
    QVERIFY(view);
    QVERIFY(view->lastReadingId);
    QCOMPARE(view->lastReadAtMs, kT0);
    QCOMPARE(view->commState, CommState::Online);
    QCOMPARE(view->consecutiveFailures, 1);
    QCOMPARE(view->lastErrorCode, QStringLiteral("timeout"));
    QVERIFY(view->lastSnapshot);
    QCOMPARE(view->lastSnapshot->energyTotalWh, qint64(800'000));
    QCOMPARE(view->lastSnapshot->energyTotalRegister, quint32(80'000));
    QCOMPARE(view->lastSnapshot->balanceFen, std::optional<qint64>(12'345));
    QCOMPARE(view->lastSnapshot->purchaseCount, std::optional<quint16>(3));
    QCOMPARE(view->lastSnapshot->tripReason, v1::TripReason::TimeControl); // exact, from meter_state
    QCOMPARE(view->lastSnapshot->relayState, v1::RelayState::Open);
    QCOMPARE(view->lastSnapshot->serialNumber, std::optional<quint32>(target(41).serial));
    QCOMPARE(view->lastSnapshot->activePowerW, qint64(2500));
    QCOMPARE(view->lastSnapshot->slotEnergyWh[2], qint64(800'000));

    QList<StoredReading> seen;
    recorder.setBatchHook([&seen](Transaction &, const QList<StoredReading> &batch) { seen += batch; });
    recorder.record(success(41, kT0 + 30 * kMinuteMs, 0)); // a reset after the restart
    recorder.record(success(42, kT0 + 30 * kMinuteMs, 650));
    recorder.flush();
    QCOMPARE(seen.size(), 2);
    QCOMPARE(seen[0].validation.status, ValidationStatus::ResetHeld);
    QCOMPARE(seen[1].validation.status, ValidationStatus::Valid);
    QCOMPARE(seen[1].validation.deltaWh, qint64(1500));
    QCOMPARE(seen[1].validation.impliedPowerW, qint64(3000));
    auto db = reader();
    QCOMPARE(
        queryText(*db, QStringLiteral("SELECT validation FROM readings WHERE meter_id = 41 ORDER BY id DESC LIMIT 1")),
        QStringLiteral("reset_held"));
}

void TestRecorder::swapHeldIsNotABaseline()
{
    QList<StoredReading> seen;
    {
        Recorder recorder(*m_store, m_clock, m_plan);
        recorder.record(success(51, kT0, 1000));
        ReadingResult other = success(51, kT0 + 30 * kMinuteMs, 5);
        other.snapshot->serialNumber = 123;
        recorder.record(other);
        recorder.setBatchHook([&seen](Transaction &, const QList<StoredReading> &batch) { seen += batch; });
        recorder.flush();
        QCOMPARE(seen.size(), 2);
        QCOMPARE(seen[1].validation.status, ValidationStatus::SwapHeld);
        // The installed meter again: compared with its own last reading, the whole hour.
        recorder.record(success(51, kT0 + 60 * kMinuteMs, 1200));
        recorder.record(other);
        recorder.flush();
        QCOMPARE(seen.size(), 4);
        QCOMPARE(seen[2].validation.status, ValidationStatus::Valid);
        QCOMPARE(seen[2].validation.deltaWh, qint64(2000));
    }
    // And after a restart, the last reading (swap_held) is not the baseline either.
    Recorder recorder(*m_store, m_clock, m_plan);
    seen.clear();
    recorder.setBatchHook([&seen](Transaction &, const QList<StoredReading> &batch) { seen += batch; });
    recorder.record(success(51, kT0 + 90 * kMinuteMs, 1300));
    recorder.flush();
    QCOMPARE(seen.size(), 1);
    QCOMPARE(seen[0].validation.status, ValidationStatus::Valid);
    QCOMPARE(seen[0].validation.deltaWh, qint64(1000));
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT serial_number FROM readings WHERE validation = 'swap_held' LIMIT 1")),
        qint64(123));
}

void TestRecorder::stateViews()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    std::optional<MeterStateView> view = recorder.state(61);
    QVERIFY(view);
    QCOMPARE(view->meterId, qint64(61));
    QCOMPARE(view->commState, CommState::Unknown);
    QCOMPARE(view->lastReadAtMs, qint64(0));
    QVERIFY(!view->lastReadingId);
    QVERIFY(!view->lastSnapshot);
    QVERIFY(!recorder.state(100'000)); // not in the plan

    ReadingResult r = success(61, kT0, 321, 4321);
    r.snapshot->voltageMv = {230'000, 0, 0};
    recorder.record(r);
    QCOMPARE(recorder.state(61)->lastReadAtMs, qint64(0)); // recorded, not yet stored
    recorder.flush();
    view = recorder.state(61);
    QVERIFY(view->lastReadingId);
    QCOMPARE(view->lastReadAtMs, kT0);
    QCOMPARE(view->commState, CommState::Online);
    QCOMPARE(view->lastSnapshot->activePowerW, qint64(4321));
    QCOMPARE(view->lastSnapshot->voltageMv[0], qint64(230'000)); // the whole snapshot while running
    auto db = reader();
    QCOMPARE(*view->lastReadingId,
        queryInt(*db, QStringLiteral("SELECT last_reading_id FROM meter_state WHERE meter_id = 61")));

    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("meter 100000.*not in the poll plan")));
    ReadingResult stray = r;
    stray.meterId = 100'000;
    recorder.record(stray);
    recorder.flush();
    QCOMPARE(recorder.stats().readingsStored, qint64(1));
}

void TestRecorder::busHealthRows()
{
    Recorder recorder(*m_store, m_clock, m_plan);
    recorder.recordHealth(BusHealth{1, kT0, 0, 0, 0, 0, 0, 0});
    recorder.recordHealth(BusHealth{2, kT0, 41'000, 40, 2, 1, 82, 3});
    recorder.flush(); // health alone makes a batch
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM bus_health")), qint64(2));
    QCOMPARE(queryText(*db,
                 QStringLiteral("SELECT last_cycle_started_at_ms || ' ' || last_cycle_duration_ms || ' ' || "
                                "last_cycle_meters || ' ' || last_cycle_errors || ' ' || offline_meters || "
                                "' ' || requests_total || ' ' || errors_total FROM bus_health WHERE bus_id = 2")),
        QStringLiteral("%1 41000 40 2 1 82 3").arg(kT0));

    // The latest figures of a bus replace the earlier ones, pending or stored.
    recorder.recordHealth(BusHealth{2, kT0 + 1, 0, 0, 0, 1, 83, 3});
    recorder.recordHealth(BusHealth{2, kT0 + 1, 40'500, 40, 0, 0, 122, 3});
    recorder.record(success(1, kT0, 1));
    recorder.flush();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM bus_health")), qint64(2));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT requests_total FROM bus_health WHERE bus_id = 2")), qint64(122));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT last_cycle_duration_ms FROM bus_health WHERE bus_id = 2")),
        qint64(40'500));
    QVERIFY(queryText(*db, QStringLiteral("SELECT last_cycle_started_at_ms FROM bus_health WHERE bus_id = 1"))
        == QString::number(kT0));

    // A bus the database does not know costs only its own row, never the readings.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("bus_health of bus 99 not stored")));
    recorder.recordHealth(BusHealth{99, kT0, 0, 0, 0, 0, 0, 0});
    recorder.record(success(1, kT0 + kMinuteMs, 2));
    recorder.flush();
    QCOMPARE(recorder.stats().failedBatches, qint64(0));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), qint64(2));
}

void TestRecorder::flushIfDueWaitsForAgeOrSize()
{
    RecorderLimits limits;
    limits.batchMax = 5;
    limits.flushAfterMs = 1000;
    Recorder recorder(*m_store, m_clock, m_plan, limits);
    recorder.flushIfDue(); // nothing pending
    QCOMPARE(recorder.stats().batches, qint64(0));
    recorder.record(success(1, kT0, 1));
    recorder.flushIfDue();
    QCOMPARE(recorder.stats().batches, qint64(0)); // too young
    m_clock.advanceMs(999);
    recorder.flushIfDue();
    QCOMPARE(recorder.stats().batches, qint64(0));
    m_clock.advanceMs(1);
    recorder.flushIfDue();
    QCOMPARE(recorder.stats().batches, qint64(1));

    // Full batches go at once, as many as are full; the rest waits for its age.
    for (qint64 meter = 1; meter <= 12; ++meter)
        recorder.record(success(meter, kT0 + kMinuteMs, quint32(meter)));
    recorder.flushIfDue();
    QCOMPARE(recorder.stats().batches, qint64(3));
    QCOMPARE(recorder.stats().readingsStored, qint64(11));
    m_clock.advanceMs(1000);
    recorder.flushIfDue();
    QCOMPARE(recorder.stats().batches, qint64(4));
    QCOMPARE(recorder.stats().readingsStored, qint64(13));

    // flush() takes everything in batches of at most batchMax.
    for (qint64 meter = 1; meter <= 12; ++meter)
        recorder.record(success(meter, kT0 + 2 * kMinuteMs, quint32(meter + 10)));
    recorder.flush();
    QCOMPARE(recorder.stats().batches, qint64(7));
    QCOMPARE(recorder.stats().readingsStored, qint64(25));
}

void TestRecorder::concurrentRecordFromEightThreads()
{
    RecorderLimits limits;
    limits.batchMax = 64;
    limits.flushAfterMs = 0;
    Recorder recorder(*m_store, m_clock, m_plan, limits);
    QList<qint64> stored;
    std::mutex storedMutex;
    recorder.setBatchHook([&](Transaction &, const QList<StoredReading> &batch) {
        std::lock_guard lock(storedMutex);
        for (const StoredReading &s : batch) {
            if (!s.validation.chargeable() || (s.validation.deltaWh != 0 && s.validation.deltaWh != 100))
                stored.append(-s.readingId); // marks a wrong validation
        }
    });

    constexpr int threads = 8;
    constexpr int metersPerThread = 10;
    constexpr int readsPerMeter = 50;
    std::atomic<bool> recording{true};
    std::thread flusher([&] {
        while (recording)
            recorder.flushIfDue();
    });
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            for (int k = 0; k < readsPerMeter; ++k) {
                for (int i = 0; i < metersPerThread; ++i) {
                    const qint64 meter = 1 + t * metersPerThread + i;
                    recorder.record(success(meter, kT0 + k * kMinuteMs, quint32(1000 + 10 * k)));
                    if ((k + i) % 7 == 0)
                        recorder.record(failure(meter, kT0 + k * kMinuteMs + 1, 1, CommState::Online, false));
                }
            }
        });
    }
    for (auto &w : workers)
        w.join();
    recording = false;
    flusher.join();
    recorder.flush();

    const qint64 total = threads * metersPerThread * readsPerMeter;
    QCOMPARE(recorder.stats().readingsStored, total);
    QCOMPARE(recorder.stats().failedBatches, qint64(0));
    QVERIFY(recorder.stats().batches >= total / limits.batchMax);
    QVERIFY2(stored.isEmpty(), "every reading valid with delta 0 (first) or 100 Wh");
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings")), total);
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM readings WHERE validation <> 'valid'")), qint64(0));
    // Per meter, in order: ids rise with the register.
    QCOMPARE(queryInt(*db,
                 QStringLiteral("SELECT count(*) FROM readings a JOIN readings b ON a.meter_id = b.meter_id "
                                "AND b.energy_total_wh > a.energy_total_wh WHERE b.id < a.id")),
        qint64(0));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM meter_state")), qint64(threads * metersPerThread));
    for (qint64 meter = 1; meter <= threads * metersPerThread; ++meter)
        QCOMPARE(recorder.state(meter)->lastSnapshot->energyTotalRegister, quint32(1000 + 10 * (readsPerMeter - 1)));
}

void TestRecorder::schemaV2UpgradesASeededV1Database()
{
    m_store.reset();
    m_dir = std::make_unique<QTemporaryDir>();
    m_path = m_dir->filePath(QStringLiteral("prepay.db"));
    const QList<Migration> all = builtInMigrations();
    QVERIFY(all.size() >= 2);
    {
        StoreOptions v1Only;
        v1Only.migrations = {all.first()};
        OpenResult opened = Store::open(m_path, m_clock, v1Only);
        QVERIFY(opened.store);
        // The demo seed as it was at schema v1 (today's needs the columns of later schemas).
        QFile v1Seed(QStringLiteral(PREPAY_TEST_DATA_DIR "/demo-seed-v1.sql"));
        QVERIFY(v1Seed.open(QIODevice::ReadOnly));
        QVERIFY(test::runScript(*opened.store, QString::fromUtf8(v1Seed.readAll())));
        QVERIFY(test::runScript(*opened.store,
            QStringLiteral("UPDATE meters SET comm_state = 'offline', comm_failures = 3 "
                           "WHERE id = 1")));
    }
    OpenResult opened = Store::open(m_path, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    QCOMPARE(opened.migration.outcome, MigrationOutcome::Migrated);
    QCOMPARE(opened.migration.fromVersion, 1);
    m_store = std::move(opened.store);
    auto db = reader();
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM meters")), qint64(300));
    QCOMPARE(queryInt(*db,
                 QStringLiteral("SELECT count(*) FROM pragma_table_info('meters') "
                                "WHERE name IN ('comm_state', 'comm_failures', 'last_seen_ms')")),
        qint64(0));
    QCOMPARE(queryInt(*db, QStringLiteral("SELECT count(*) FROM pragma_foreign_key_check")), qint64(0));
    QCOMPARE(queryText(*db, QStringLiteral("PRAGMA integrity_check")), QStringLiteral("ok"));
    m_plan = plan();
    QCOMPARE(m_plan.meterCount(), 300);
    Recorder recorder(*m_store, m_clock, m_plan);
    recorder.record(success(1, kT0, 1));
    recorder.flush();
    QCOMPARE(recorder.stats().readingsStored, qint64(1));

    // Readings stay evidence, new columns included.
    const auto w
        = m_store
              ->write([](Transaction &tx) {
                  if (const SqlError e = tx.db().exec(QStringLiteral("UPDATE readings SET validation_note = 'x'"));
                      !e.ok())
                      tx.fail(e);
              })
              .get();
    QCOMPARE(w.status, WriteStatus::Failed);
    QVERIFY2(w.error.message.contains(u"evidence"), qPrintable(w.error.message));
}

QTEST_GUILESS_MAIN(TestRecorder)
#include "tst_recorder.moc"
