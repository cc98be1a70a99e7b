// The meter ↔ ledger reconciliation (control/reconcile.h) through the readings path as prepayd
// wires it (recorder → biller → controller → alarms → reconciliation, one transaction per batch),
// on the demo building with its takeover done. The meters here are simulated in the test: each
// keeps its balance, purchase count and purchased total as a meter-map v1 meter does (deducting
// slot energy × slot price, never a tier adder), so a consistent meter must never alarm and every
// inconsistency we inject must.
#include "accounts/takeover.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "commands/commandstore.h"
#include "control/pipeline.h"
#include "control/reconcile.h"
#include "ctl/command.h"
#include "ctl/controlcommands.h"
#include "manualclock.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::poller;
using namespace prepay::store;

namespace {

// 2026-11-18 (a Wednesday) 10:00 +08:00: a workday, inside the sharp slot 10:00–12:00.
constexpr qint64 kT0 = 1'794'967'200'000;
constexpr qint64 kHalfHourMs = 30 * 60'000;
constexpr qint64 kSharpPrice = 12'100; // TOU-COM sharp, 0.0001 CNY/kWh
constexpr qint64 kTierBasePrice = 7'000; // TIER-SMALL slot price; tier 3 adds 3000

// A meter-map v1 meter as the test drives it.
struct SimMeter
{
    qint64 id = 0;
    qint64 energyWh = 1'000'000;
    qint64 balanceFen = 0;
    qint64 purchaseCount = 0;
    qint64 purchasedFen = 0;
    qint64 consumedFen = 0;

    // Uses `wh` (a multiple of 100 Wh at these prices, so the cost is whole fen) in the sharp slot.
    void use(qint64 wh, qint64 price)
    {
        energyWh += wh;
        const qint64 units = wh * price;
        QVERIFY(units % 100'000 == 0);
        balanceFen -= units / 100'000;
        consumedFen += units / 100'000;
    }
    void recharge(qint64 fen)
    {
        ++purchaseCount;
        purchasedFen += fen;
        balanceFen += fen;
    }
};

} // namespace

class TestReconcile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void consistentMeterNeverAlarms();
    void rechargeWeNeverSentRaisesCountDriftUntilRebaselined();
    void balanceDriftBeyondOneIntervalAlarmsAndClears();
    void rechargeInFlightIsNotDrift();
    void tieredTariffDoesNotLookLikeDrift();
    void remoteOnlyMetersAreNotReconciled();
    void prepayctlListsTheDrifts();

private:
    // The current meter of the n-th open, prepaid, TOU-register point matching `where`.
    SimMeter prepaidMeter(const QString &where, int n = 0);
    // One batch: each meter read at `takenAtMs` as it stands.
    void cycle(qint64 takenAtMs, const QList<SimMeter *> &meters);
    qint64 scalar(const QString &sql);
    qint64 openAlarms(const QString &kind, qint64 meterId)
    {
        return scalar(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = '%1' AND subject_kind = 'meter' AND "
                                     "subject_id = %2 AND cleared_at_ms IS NULL")
                          .arg(kind)
                          .arg(meterId));
    }
    qint64 alarmEpisodes(const QString &kind, qint64 meterId)
    {
        return scalar(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = '%1' AND subject_kind = 'meter' AND "
                                     "subject_id = %2")
                          .arg(kind)
                          .arg(meterId));
    }
    qint64 rec(const QString &column, qint64 meterId)
    {
        return scalar(QStringLiteral("SELECT %1 FROM meter_reconciliation WHERE meter_id = %2").arg(column).arg(meterId));
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock{kT0};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Connection> m_reader;
    PollPlan m_plan;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::unique_ptr<Recorder> m_recorder;
    std::unique_ptr<control::BatchPipeline> m_pipeline;
    std::unique_ptr<commands::CommandStore> m_commands;
};

namespace {

// Runs `prepayctl control reconcile …` in-process; returns (exit code, stdout).
std::pair<int, QString> prepayctl(const Clock &clock, const QStringList &arguments)
{
    QString out;
    QString err;
    QTextStream o(&out);
    QTextStream e(&err);
    const int rc = ctl::runCommandLine(QStringList{QStringLiteral("prepayctl")} + arguments,
        ctl::controlCommands(clock), o, e);
    o.flush();
    e.flush();
    if (rc != 0)
        qWarning("prepayctl: %s", qPrintable(err));
    return {rc, out};
}

} // namespace

void TestReconcile::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QCOMPARE(applySeed(*m_store, QStringLiteral("demo")).outcome, SeedOutcome::Applied);
    const auto taken = m_store
                           ->write([this](Transaction &tx) {
                               return accounts::takeOverMeterBalances(tx, m_clock.wallMs());
                           })
                           .get();
    QVERIFY(taken.committed());
    m_reader = m_store->openReader();
    QString error;
    QVERIFY2(loadPollPlan(*m_reader, &m_plan, &error), qPrintable(error));
    m_book = std::make_shared<billing::TariffBook>();
    QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
    m_biller = std::make_unique<billing::Biller>(m_book);
    m_recorder = std::make_unique<Recorder>(*m_store, m_clock, m_plan);
    m_pipeline = std::make_unique<control::BatchPipeline>(*m_biller, m_clock, [](const QList<qint64> &) { });
    m_pipeline->install(*m_recorder);
    m_commands = std::make_unique<commands::CommandStore>(*m_store, m_clock);
}

void TestReconcile::cleanup()
{
    m_commands.reset();
    m_recorder.reset();
    m_pipeline.reset();
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
}

qint64 TestReconcile::scalar(const QString &sql)
{
    SqlError error;
    const qint64 n = m_reader->queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return n;
}

SimMeter TestReconcile::prepaidMeter(const QString &where, int n)
{
    SimMeter m;
    m.id = scalar(QStringLiteral("SELECT i.meter_id FROM meter_installations i JOIN meters m ON m.id = i.meter_id "
                                 "JOIN metering_points mp ON mp.id = i.metering_point_id "
                                 "JOIN account_metering_points amp ON amp.metering_point_id = mp.id "
                                 "AND amp.unlinked_at_ms IS NULL JOIN accounts a ON a.id = amp.account_id "
                                 "WHERE i.removed_at_ms IS NULL AND m.capability = 'prepaid' AND m.has_tou_registers = 1 "
                                 "AND a.status = 'open' AND %1 ORDER BY mp.id LIMIT 1 OFFSET %2")
                      .arg(where)
                      .arg(n));
    // What the meter held when it was taken over: one purchase of its opening balance.
    m.balanceFen = scalar(QStringLiteral("SELECT initial_balance_fen FROM meter_installations WHERE meter_id = %1 "
                                         "AND removed_at_ms IS NULL")
                              .arg(m.id));
    m.purchaseCount = 1;
    m.purchasedFen = m.balanceFen;
    return m;
}

void TestReconcile::cycle(qint64 takenAtMs, const QList<SimMeter *> &meters)
{
    m_clock.advanceMs(takenAtMs - m_clock.wallMs());
    for (const SimMeter *sim : meters) {
        const MeterTarget *t = nullptr;
        for (const BusPlan &bus : m_plan.buses) {
            for (const MeterTarget &candidate : bus.meters) {
                if (candidate.meterId == sim->id)
                    t = &candidate;
            }
        }
        QVERIFY(t);
        ReadingResult r;
        r.meterId = sim->id;
        r.busId = m_plan.busOfMeter(sim->id)->busId;
        r.takenAtMs = takenAtMs;
        modbus::MeterSnapshot s;
        s.profile = t->profile->name();
        if (t->prepaid) {
            s.serialNumber = t->serial;
            s.purchaseCount = quint16(sim->purchaseCount);
            s.balanceFen = sim->balanceFen;
            s.totalPurchasedFen = sim->purchasedFen;
            s.consumedMoneyTotalFen = sim->consumedFen;
            s.statusWord = 0;
            s.relayMode = meter::v1::RelayMode::Auto;
        }
        s.energyTotalRegister = quint32(sim->energyWh / 10);
        s.energyTotalWh = sim->energyWh;
        s.slotEnergyWh[0] = sim->energyWh; // everything in the sharp slot (10:00–12:00)
        s.activePowerW = 1000;
        r.snapshot = s;
        r.commState = CommState::Online;
        m_recorder->record(r);
    }
    m_recorder->flush();
}

void TestReconcile::consistentMeterNeverAlarms()
{
    SimMeter a = prepaidMeter(QStringLiteral("mp.building_id = 1"), 0);
    SimMeter b = prepaidMeter(QStringLiteral("mp.building_id = 1"), 1);
    cycle(kT0, {&a, &b}); // opens the segments: the baselines
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM meter_reconciliation")), 2);
    QCOMPARE(rec(QStringLiteral("baseline_balance_fen"), a.id), a.balanceFen);
    QCOMPARE(rec(QStringLiteral("baseline_purchase_count"), a.id), 1);
    QVERIFY(rec(QStringLiteral("baseline_reading_id"), a.id) > 0); // no initial energy: the first reading
    for (int i = 1; i <= 3; ++i) {
        a.use(2'000, kSharpPrice); // 2 kWh × 1.2100 = 2.42 CNY
        cycle(kT0 + i * kHalfHourMs, {&a, &b});
    }
    QCOMPARE(rec(QStringLiteral("meter_cost_units"), a.id), 3 * 2'000 * kSharpPrice);
    QCOMPARE(rec(QStringLiteral("charged_fen"), a.id), 3 * 242);
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("purchase_drift_fen"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("tolerance_fen"), a.id), 242); // one interval's meter-side cost
    QCOMPARE(rec(QStringLiteral("tolerance_fen"), b.id), control::kBalanceDriftFloorFen); // idle: the floor
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), b.id), 0);
    QCOMPARE(rec(QStringLiteral("last_reading_id"), a.id),
        scalar(QStringLiteral("SELECT max(id) FROM readings WHERE meter_id = %1").arg(a.id)));
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM alarms WHERE kind IN ('balance_drift', "
                                   "'purchase_count_drift')")),
        0);
}

void TestReconcile::rechargeWeNeverSentRaisesCountDriftUntilRebaselined()
{
    SimMeter a = prepaidMeter(QStringLiteral("mp.building_id = 1"));
    cycle(kT0, {&a});
    a.use(1'000, kSharpPrice);
    cycle(kT0 + kHalfHourMs, {&a});
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);

    // 200.00 CNY sold on the meter outside the system (a card from the old vending station).
    a.recharge(20'000);
    a.use(1'000, kSharpPrice);
    cycle(kT0 + 2 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("purchase_count_drift"), a.id), 1);
    QCOMPARE(rec(QStringLiteral("purchase_drift_fen"), a.id), 20'000);
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 20'000);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 1);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 1);
    QCOMPARE(scalar(QStringLiteral("SELECT severity = 'critical' FROM alarms WHERE kind = 'purchase_count_drift'")), 1);

    // Still there next cycle: the same episode, not a new alarm.
    a.use(1'000, kSharpPrice);
    cycle(kT0 + 3 * kHalfHourMs, {&a});
    QCOMPARE(alarmEpisodes(QStringLiteral("purchase_count_drift"), a.id), 1);
    QCOMPARE(alarmEpisodes(QStringLiteral("balance_drift"), a.id), 1);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 1);

    // A person settles it and rebaselines: the meter's last reading is the new baseline.
    const qint64 installation = rec(QStringLiteral("installation_id"), a.id);
    const auto done = m_store
                          ->write([&](Transaction &tx) {
                              return control::rebaseline(tx, installation, m_clock.wallMs());
                          })
                          .get();
    QVERIFY(done.committed());
    QVERIFY(done.value);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("baseline_purchase_count"), a.id), 2);

    a.use(1'000, kSharpPrice);
    cycle(kT0 + 4 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("meter_cost_units"), a.id), 1'000 * kSharpPrice); // since the new baseline
    QCOMPARE(alarmEpisodes(QStringLiteral("purchase_count_drift"), a.id), 1);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);

    // Nothing to rebaseline on an installation never reconciled.
    const auto none = m_store->write([&](Transaction &tx) { return control::rebaseline(tx, 999'999, 0); }).get();
    QVERIFY(none.committed());
    QVERIFY(!none.value);
}

void TestReconcile::balanceDriftBeyondOneIntervalAlarmsAndClears()
{
    SimMeter a = prepaidMeter(QStringLiteral("mp.building_id = 1"));
    cycle(kT0, {&a});
    // 5 kWh per half hour: one interval costs 6.05 CNY on the meter, the tolerance.
    a.use(5'000, kSharpPrice);
    cycle(kT0 + kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("tolerance_fen"), a.id), 605);

    // The meter deducts 6.00 CNY more than the energy explains: within one interval, no alarm.
    a.use(5'000, kSharpPrice);
    a.balanceFen -= 600;
    cycle(kT0 + 2 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), -600);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 0);

    // And 6.10 CNY more (12.10 in all): beyond one interval's consumption.
    a.use(5'000, kSharpPrice);
    a.balanceFen -= 610;
    cycle(kT0 + 3 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), -1'210);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 1);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(scalar(QStringLiteral("SELECT json_extract(detail, '$.balance_drift_fen') FROM alarms WHERE kind = "
                                   "'balance_drift' AND subject_id = %1")
                        .arg(a.id)),
        -1'210);

    // The meter more than the ledger says: also drift (money the tenant was never charged for).
    a.use(5'000, kSharpPrice);
    a.balanceFen += 1'210 + 1'000;
    cycle(kT0 + 4 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 1'000);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 1);
    QCOMPARE(alarmEpisodes(QStringLiteral("balance_drift"), a.id), 1);

    // Back in line (say the meter's tariff push arrived and it caught up): cleared.
    a.use(5'000, kSharpPrice);
    a.balanceFen -= 1'000;
    cycle(kT0 + 5 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 0);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 0);
    QCOMPARE(alarmEpisodes(QStringLiteral("balance_drift"), a.id), 1);
}

void TestReconcile::rechargeInFlightIsNotDrift()
{
    SimMeter a = prepaidMeter(QStringLiteral("mp.building_id = 1"));
    cycle(kT0, {&a});

    commands::CommandRequest request;
    request.meterId = a.id;
    request.kind = commands::Kind::Recharge;
    request.idempotencyKey = QStringLiteral("test:recharge:1");
    request.cause = commands::Cause::Payment;
    request.amountFen = 30'000;
    request.rechargeTxn = 4711;
    const commands::EnqueueResult queued = m_commands->enqueue(request);
    QCOMPARE(queued.outcome, commands::EnqueueOutcome::Queued);

    // Queued only: the meter cannot have it, and does not.
    a.use(1'000, kSharpPrice);
    cycle(kT0 + kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("in_flight_count"), a.id), 0);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 0);

    // Sent: the frame is out and the meter applied it, but nobody has read it back yet.
    QVERIFY(m_commands->markSent(queued.commandId, 1, quint16(a.purchaseCount + 1)));
    a.recharge(30'000);
    a.use(1'000, kSharpPrice);
    cycle(kT0 + 2 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("in_flight_count"), a.id), 1);
    QCOMPARE(rec(QStringLiteral("in_flight_fen"), a.id), 30'000);
    QCOMPARE(rec(QStringLiteral("purchase_count_drift"), a.id), 1);
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 30'000);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 0);

    // Verified: delivered, no longer in flight, no drift, and the cursor moved past it.
    QVERIFY(m_commands->markAcknowledged(queued.commandId));
    QVERIFY(m_commands->markVerified(queued.commandId));
    a.use(1'000, kSharpPrice);
    cycle(kT0 + 3 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("in_flight_count"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("delivered_count"), a.id), 1);
    QCOMPARE(rec(QStringLiteral("delivered_fen"), a.id), 30'000);
    QCOMPARE(rec(QStringLiteral("commands_through_id"), a.id), queued.commandId);
    QCOMPARE(rec(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 0);
    QCOMPARE(alarmEpisodes(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(alarmEpisodes(QStringLiteral("balance_drift"), a.id), 0);

    // In flight but never applied: the frame may still land, so no alarm either way.
    request.idempotencyKey = QStringLiteral("test:recharge:2");
    request.rechargeTxn = 4712;
    const commands::EnqueueResult second = m_commands->enqueue(request);
    QVERIFY(m_commands->markSent(second.commandId, 1, quint16(a.purchaseCount + 1)));
    a.use(1'000, kSharpPrice);
    cycle(kT0 + 4 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("in_flight_count"), a.id), 1);
    QCOMPARE(rec(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);
    QCOMPARE(openAlarms(QStringLiteral("balance_drift"), a.id), 0);

    // It fails (never applied): nothing in flight, still no drift; the cursor moves past it.
    QVERIFY(m_commands->markFailed(second.commandId, QStringLiteral("test: deadline")));
    a.use(1'000, kSharpPrice);
    cycle(kT0 + 5 * kHalfHourMs, {&a});
    QCOMPARE(rec(QStringLiteral("in_flight_count"), a.id), 0);
    QCOMPARE(rec(QStringLiteral("commands_through_id"), a.id), second.commandId);
    QCOMPARE(rec(QStringLiteral("delivered_count"), a.id), 1);
    QCOMPARE(openAlarms(QStringLiteral("purchase_count_drift"), a.id), 0);
}

void TestReconcile::tieredTariffDoesNotLookLikeDrift()
{
    // An office on the monthly tiered tariff (0.7000 + adders), already beyond tier 2 this month:
    // the ledger charges 0.7000 + 0.3000 per kWh, the meter deducts 0.7000.
    SimMeter a = prepaidMeter(QStringLiteral("mp.building_id = 2 AND mp.floor BETWEEN 5 AND 8"));
    QVERIFY(a.id > 0);
    const auto set = m_store
                         ->write([&](Transaction &tx) {
                             Statement s = tx.prepare(QStringLiteral(
                                 "UPDATE billing_state SET tier_month = '2026-11', tier_month_energy_wh = 2500000 "
                                 "WHERE installation_id = (SELECT id FROM meter_installations WHERE meter_id = ?1 "
                                 "AND removed_at_ms IS NULL)"));
                             s.bind(1, a.id);
                             return s.run().ok() && tx.db().changes() == 1;
                         })
                         .get();
    QVERIFY(set.committed() && set.value);
    cycle(kT0, {&a});
    for (int i = 1; i <= 5; ++i) {
        a.use(2'000, kTierBasePrice); // 1.40 CNY on the meter, 2.00 in the ledger
        cycle(kT0 + i * kHalfHourMs, {&a});
    }
    // The ledger charged 3.00 CNY more than the meter deducted, more than one interval (1.40)
    // and more than the floor: compared with the ledger's amount, this would be an alarm.
    QCOMPARE(rec(QStringLiteral("charged_fen"), a.id), 5 * 200);
    QCOMPARE(rec(QStringLiteral("meter_cost_units"), a.id) / 100'000, 5 * 140);
    QCOMPARE(rec(QStringLiteral("tolerance_fen"), a.id), 140);
    QCOMPARE(rec(QStringLiteral("balance_drift_fen"), a.id), 0);
    QCOMPARE(alarmEpisodes(QStringLiteral("balance_drift"), a.id), 0);
}

void TestReconcile::remoteOnlyMetersAreNotReconciled()
{
    SimMeter remote;
    remote.id = scalar(QStringLiteral("SELECT i.meter_id FROM meter_installations i JOIN meters m ON m.id = i.meter_id "
                                      "WHERE i.removed_at_ms IS NULL AND m.capability = 'remote_only' "
                                      "AND m.has_tou_registers = 1 ORDER BY i.id LIMIT 1"));
    QVERIFY(remote.id > 0);
    cycle(kT0, {&remote});
    remote.use(1'000, kSharpPrice);
    cycle(kT0 + kHalfHourMs, {&remote});
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1").arg(remote.id)), 2);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM meter_reconciliation")), 0);
}

void TestReconcile::prepayctlListsTheDrifts()
{
    SimMeter a = prepaidMeter(QStringLiteral("mp.building_id = 1"), 0);
    SimMeter b = prepaidMeter(QStringLiteral("mp.building_id = 1"), 1);
    cycle(kT0, {&a, &b});
    a.recharge(20'000); // sold outside the system
    a.use(1'000, kSharpPrice);
    b.use(1'000, kSharpPrice);
    cycle(kT0 + kHalfHourMs, {&a, &b});

    const QString db = m_dir->filePath(QStringLiteral("prepay.db"));
    const auto [rc, out] = prepayctl(m_clock,
        {QStringLiteral("control"), QStringLiteral("reconcile"), QStringLiteral("--db"), db, QStringLiteral("--json")});
    QCOMPARE(rc, 0);
    const QJsonObject o = QJsonDocument::fromJson(out.toUtf8()).object();
    const qint64 prepaid = scalar(QStringLiteral("SELECT count(*) FROM meter_installations i JOIN meters m ON m.id = "
                                                 "i.meter_id WHERE i.removed_at_ms IS NULL AND m.capability = 'prepaid'"));
    QCOMPARE(o.value(QStringLiteral("installations")).toInteger(), prepaid);
    QCOMPARE(o.value(QStringLiteral("reconciled")).toInteger(), 2);
    QCOMPARE(o.value(QStringLiteral("purchase_count_drift_alarms")).toInteger(), 1);
    QCOMPARE(o.value(QStringLiteral("balance_drift_alarms")).toInteger(), 1);
    const QJsonArray rows = o.value(QStringLiteral("rows")).toArray();
    QCOMPARE(rows.size(), prepaid);
    int found = 0;
    for (const QJsonValue &v : rows) {
        const QJsonObject row = v.toObject();
        if (row.value(QStringLiteral("installation_id")).toInteger() != rec(QStringLiteral("installation_id"), a.id))
            continue;
        ++found;
        QCOMPARE(row.value(QStringLiteral("balance_drift_fen")).toInteger(), 20'000);
        QCOMPARE(row.value(QStringLiteral("purchase_count_drift")).toInteger(), 1);
        QCOMPARE(row.value(QStringLiteral("balance_fen")).toInteger(), a.balanceFen);
        QCOMPARE(row.value(QStringLiteral("expected_balance_fen")).toInteger(), a.balanceFen - 20'000);
        QCOMPARE(row.value(QStringLiteral("meter_deductible_fen")).toInteger(), 121);
        QVERIFY(row.value(QStringLiteral("purchase_count_drift_alarm")).toBool());
    }
    QCOMPARE(found, 1);

    // Text, only the drifting ones: the one meter, with its alarms named.
    const auto [rc2, text] = prepayctl(m_clock,
        {QStringLiteral("control"), QStringLiteral("reconcile"), QStringLiteral("--db"), db, QStringLiteral("--drifting")});
    QCOMPARE(rc2, 0);
    const QStringList lines = text.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3); // heading, the meter, the summary
    QVERIFY2(lines[1].contains(QStringLiteral("200.00")) && lines[1].contains(QStringLiteral("ALARM purchase_count_drift")),
        qPrintable(lines[1]));
}

QTEST_GUILESS_MAIN(TestReconcile)
#include "tst_reconcile.moc"
