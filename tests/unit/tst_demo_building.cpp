// The simulator's built-in building (drivers/sim/buildings/demo.json, BuildingSpec::demo())
// and the database's demo seed (sql/seed/demo.sql) describe the same meters: every meter of
// the one is in the other, at the same place (gateway and its TCP port, bus, unit id), with
// the same identity (serial, model, device type, capability, TOU registers, currents,
// metering point) and the same control mode. When the seed changes, regenerate demo.json with
// drivers/sim/buildings/make-demo.sh; this test says when that was forgotten.
#include "api/clock.h"
#include "manualclock.h"
#include "sim/meters/building.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QHash>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::sim;
namespace v1 = prepay::meter::v1;

namespace {

// The port the simulator serves gateway i (0-based, in id order) on.
constexpr int kFirstGatewayPort = 1502;

struct DbMeter
{
    int gatewayIndex = -1;
    int gatewayPort = 0;
    int busIndex = -1; // within its gateway, in id order
    QString busName;
    int baud = 0;
    int unitId = 0;
    quint32 serial = 0;
    QString model;
    QString deviceType;
    QString capability;
    bool hasTouRegisters = false;
    qint64 ratedCurrentMa = 0;
    qint64 maxCurrentMa = 0;
    QString point;
    QString controlMode;
    QString tenantStatus;
};

using v1::deviceTypeName;
using v1::relayModeName;

} // namespace

class TestDemoBuilding : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void everyMeterMatchesTheSeed();
    void buildingDefaultsMatchTheSeed();

private:
    QTemporaryDir m_dir;
    test::ManualClock m_clock;
    QList<DbMeter> m_meters;
    QHash<QString, qint64> m_settings;
    QList<QList<qint64>> m_touSegments; // (start minute, slot index) of the workday schedule
};

void TestDemoBuilding::initTestCase()
{
    QVERIFY(m_dir.isValid());
    store::OpenResult opened = store::Store::open(m_dir.filePath(QStringLiteral("demo.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    const store::SeedReport seeded = store::applySeed(*opened.store, QStringLiteral("demo"));
    QVERIFY2(seeded.outcome == store::SeedOutcome::Applied, qPrintable(seeded.message));

    store::SqlError error;
    std::unique_ptr<store::Connection> db = opened.store->openReader(&error);
    QVERIFY2(db, qPrintable(error.toString()));
    store::Statement q = db->prepare(QStringLiteral(R"(
        SELECT g.id, g.port, b.id, b.name, b.baud, m.unit_id, m.serial_number, m.model, m.device_type,
               m.capability, m.has_tou_registers, m.rated_current_ma, m.max_current_ma, mp.code,
               coalesce(cs.control_mode, 'auto'), coalesce(a.status, 'none')
          FROM meters m
          JOIN buses b                ON b.id = m.bus_id
          JOIN gateways g             ON g.id = b.gateway_id
          JOIN meter_installations i  ON i.meter_id = m.id AND i.removed_at_ms IS NULL
          JOIN metering_points mp     ON mp.id = i.metering_point_id
          LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id
          LEFT JOIN account_metering_points amp ON amp.metering_point_id = mp.id AND amp.unlinked_at_ms IS NULL
          LEFT JOIN accounts a        ON a.id = amp.account_id
         WHERE m.state = 'installed'
         ORDER BY g.id, b.id, m.unit_id)"));
    QList<qint64> gatewayIds;
    QHash<qint64, QList<qint64>> busIds; // gateway id → bus ids in order
    store::Statement::Step step;
    while ((step = q.step()) == store::Statement::Step::Row) {
        DbMeter m;
        const qint64 gatewayId = q.int64(0);
        const qint64 busId = q.int64(2);
        if (!gatewayIds.contains(gatewayId))
            gatewayIds.append(gatewayId);
        if (!busIds[gatewayId].contains(busId))
            busIds[gatewayId].append(busId);
        m.gatewayIndex = int(gatewayIds.indexOf(gatewayId));
        m.gatewayPort = int(q.int64(1));
        m.busIndex = int(busIds[gatewayId].indexOf(busId));
        m.busName = q.text(3);
        m.baud = int(q.int64(4));
        m.unitId = int(q.int64(5));
        m.serial = quint32(q.int64(6));
        m.model = q.text(7);
        m.deviceType = q.text(8);
        m.capability = q.text(9);
        m.hasTouRegisters = q.int64(10) != 0;
        m.ratedCurrentMa = q.int64(11);
        m.maxCurrentMa = q.int64(12);
        m.point = q.text(13);
        m.controlMode = q.text(14);
        m.tenantStatus = q.text(15);
        m_meters.append(m);
    }
    QCOMPARE(step, store::Statement::Step::Done);
    QCOMPARE(m_meters.size(), 300);

    store::Statement s = db->prepare(
        QStringLiteral("SELECT key, CAST(value AS INTEGER) FROM settings WHERE key IN ('alarm.alarm1_threshold_fen', "
                       "'alarm.alarm2_threshold_fen', 'control.overdraft_limit_fen')"));
    while (s.step() == store::Statement::Step::Row)
        m_settings.insert(s.text(0), s.int64(1));
    QCOMPARE(m_settings.size(), 3);

    store::Statement t = db->prepare(QStringLiteral(R"(
        SELECT s.start_minute, CASE s.slot WHEN 'sharp' THEN 0 WHEN 'peak' THEN 1 WHEN 'flat' THEN 2 ELSE 3 END
          FROM tariff_day_segments s
          JOIN tariff_versions tv ON tv.id = s.tariff_version_id
          JOIN tariffs tr         ON tr.id = tv.tariff_id
         WHERE tr.code = 'TOU-COM' AND tv.version = 1 AND s.day_type = 'workday'
         ORDER BY s.start_minute)"));
    while (t.step() == store::Statement::Step::Row)
        m_touSegments.append({t.int64(0), t.int64(1)});
    QVERIFY(!m_touSegments.isEmpty());
}

void TestDemoBuilding::everyMeterMatchesTheSeed()
{
    QHash<quint32, int> bySerial;
    for (int i = 0; i < m_meters.size(); ++i)
        bySerial.insert(m_meters[i].serial, i);
    QCOMPARE(bySerial.size(), m_meters.size());

    const BuildingSpec demo = BuildingSpec::demo();
    QCOMPARE(demo.meterCount(), m_meters.size());
    QList<bool> matched(m_meters.size(), false);
    for (int g = 0; g < demo.gateways.size(); ++g) {
        const GatewaySpec &gateway = demo.gateways[g];
        for (int b = 0; b < gateway.buses.size(); ++b) {
            const BusSpec &bus = gateway.buses[b];
            for (const MeterSpec &spec : bus.meters) {
                const QString where = QStringLiteral("gateway %1 bus %2 unit %3 serial %4")
                                          .arg(g)
                                          .arg(bus.name)
                                          .arg(spec.unitId)
                                          .arg(spec.serial);
                const auto it = bySerial.constFind(spec.serial);
                QVERIFY2(it != bySerial.constEnd(), qPrintable(where + QStringLiteral(": not in the seed")));
                const DbMeter &m = m_meters[*it];
                QVERIFY2(!matched[*it], qPrintable(where + QStringLiteral(": twice in demo.json")));
                matched[*it] = true;
                QCOMPARE(m.gatewayIndex, g);
                QCOMPARE(m.gatewayPort, kFirstGatewayPort + g); // prepay-sim serves gateway g there
                QCOMPARE(m.busIndex, b);
                QCOMPARE(m.busName, bus.name);
                QCOMPARE(m.baud, bus.baud);
                QCOMPARE(m.unitId, int(spec.unitId));
                QCOMPARE(m.model, spec.model);
                QCOMPARE(m.deviceType, deviceTypeName(spec.deviceType));
                QCOMPARE(m.capability, spec.prepaid ? QStringLiteral("prepaid") : QStringLiteral("remote_only"));
                QCOMPARE(m.hasTouRegisters, spec.hasTouRegisters);
                QCOMPARE(m.ratedCurrentMa, spec.ratedCurrentMa);
                QCOMPARE(m.maxCurrentMa, spec.maxCurrentMa);
                QCOMPARE(m.point, spec.meteringPoint);
                QCOMPARE(m.controlMode, relayModeName(spec.relayMode));
                // An unopened shop draws (almost) nothing; an opened one is not idle.
                QCOMPARE(spec.profile == LoadProfileKind::Idle, m.tenantStatus != QStringLiteral("open"));
            }
        }
    }
    // And the other way round: every meter of the seed is in demo.json.
    for (int i = 0; i < m_meters.size(); ++i)
        QVERIFY2(matched[i], qPrintable(QStringLiteral("serial %1 is only in the seed").arg(m_meters[i].serial)));
}

void TestDemoBuilding::buildingDefaultsMatchTheSeed()
{
    const BuildingSpec demo = BuildingSpec::demo();
    const MeterSpec &first = demo.gateways[0].buses[0].meters[0]; // building A: the site defaults
    QCOMPARE(qint64(first.thresholds.alarm1Fen), m_settings.value(QStringLiteral("alarm.alarm1_threshold_fen")));
    QCOMPARE(qint64(first.thresholds.alarm2Fen), m_settings.value(QStringLiteral("alarm.alarm2_threshold_fen")));
    QCOMPARE(
        qint64(first.thresholds.overdraftLimitFen), m_settings.value(QStringLiteral("control.overdraft_limit_fen")));
    QCOMPARE(first.tariff.segments.size(), m_touSegments.size());
    for (int i = 0; i < m_touSegments.size(); ++i) {
        QCOMPARE(qint64(first.tariff.segments[i].first), m_touSegments[i][0]);
        QCOMPARE(qint64(first.tariff.segments[i].second), m_touSegments[i][1]);
    }
}

QTEST_GUILESS_MAIN(TestDemoBuilding)
#include "tst_demo_building.moc"
