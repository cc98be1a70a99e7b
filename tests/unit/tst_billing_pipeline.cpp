// The readings path as prepayd wires it — recorder → biller → controller → alarms, in one
// transaction per batch — against a real temporary database with the demo seed and its opening
// balances taken over: the first reading opens a segment, the next one is charged by the point's
// tariff (TOU with measured slots, flat per point, estimated slots on a meter without TOU
// registers) to the tenant's wallet; a held reading is not charged and becomes the baseline; a
// point without an open account is recorded unbilled; a tenant with an empty wallet is tripped
// by ONE durable command handed over only after the commit, alarms follow the balance, and a
// credit closes the supply again. After each step `ledger verify` and `billing recompute` hold.
#include "accounts/takeover.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/controller.h"
#include "control/pipeline.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "manualclock.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::poller;
using namespace prepay::store;

namespace {

// 2026-11-18 (a Wednesday) 10:00 +08:00: a workday, inside the sharp slot 10:00–12:00.
constexpr qint64 kT0 = 1'794'967'200'000;
constexpr qint64 kHalfHourMs = 30 * 60'000;

qint64 queryInt(Connection &db, const QString &sql)
{
    SqlError error;
    const qint64 n = db.queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return n;
}

} // namespace

class TestBillingPipeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void readingsAreChargedByTheirTariffs();
    void heldReadingsAreNotCharged();
    void pointsWithoutAnOpenAccountAreNotCharged();
    void anEmptyWalletTripsOnceAndACreditCloses();
    void aCreditAfterAVerifiedTripClosesAtOnce();

private:
    qint64 meterOf(const QString &pointCode);
    // One batch: a reading of each meter with its total register (and slot registers).
    void batch(qint64 takenAtMs, const QList<std::pair<qint64, quint32>> &readings, int slot = 0);
    void checkLedger();
    qint64 count(const QString &sql) { return queryInt(*m_reader, sql); }

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock{kT0};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Connection> m_reader;
    PollPlan m_plan;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::unique_ptr<Recorder> m_recorder;
    std::unique_ptr<control::BatchPipeline> m_pipeline;
    QList<qint64> m_dispatched;
};

void TestBillingPipeline::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QCOMPARE(applySeed(*m_store, QStringLiteral("demo")).outcome, SeedOutcome::Applied);
    const auto taken = m_store->write([this](Transaction &tx) { return accounts::takeOverMeterBalances(tx, m_clock.wallMs()); }).get();
    QVERIFY(taken.committed());
    QCOMPARE(taken.value.credited, 264);
    m_reader = m_store->openReader();
    QString error;
    QVERIFY2(loadPollPlan(*m_reader, &m_plan, &error), qPrintable(error));
    m_book = std::make_shared<billing::TariffBook>();
    QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
    m_biller = std::make_unique<billing::Biller>(m_book);
    m_recorder = std::make_unique<Recorder>(*m_store, m_clock, m_plan);
    m_pipeline = std::make_unique<control::BatchPipeline>(
        *m_biller, m_clock, [this](const QList<qint64> &ids) { m_dispatched += ids; });
    m_pipeline->install(*m_recorder);
}

void TestBillingPipeline::cleanup()
{
    m_recorder.reset();
    m_pipeline.reset();
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
    m_dispatched.clear();
}

qint64 TestBillingPipeline::meterOf(const QString &pointCode)
{
    return count(QStringLiteral("SELECT i.meter_id FROM meter_installations i JOIN metering_points mp ON mp.id = "
                                "i.metering_point_id WHERE mp.code = '%1' AND i.removed_at_ms IS NULL")
                     .arg(pointCode));
}

void TestBillingPipeline::batch(qint64 takenAtMs, const QList<std::pair<qint64, quint32>> &readings, int slot)
{
    m_clock.advanceMs(takenAtMs - m_clock.wallMs());
    for (const auto &[meterId, reg] : readings) {
        const MeterTarget *m = nullptr;
        for (const BusPlan &bus : m_plan.buses) {
            for (const MeterTarget &t : bus.meters) {
                if (t.meterId == meterId)
                    m = &t;
            }
        }
        QVERIFY(m);
        ReadingResult r;
        r.meterId = meterId;
        r.busId = m_plan.busOfMeter(meterId)->busId;
        r.takenAtMs = takenAtMs;
        modbus::MeterSnapshot s;
        s.profile = m->profile->name();
        if (m->prepaid) {
            s.serialNumber = m->serial;
            s.purchaseCount = 1;
            s.balanceFen = 10'000;
            s.totalPurchasedFen = 10'000;
            s.consumedMoneyTotalFen = 0;
            s.statusWord = 0;
            s.relayMode = meter::v1::RelayMode::Auto;
        }
        s.energyTotalRegister = reg;
        s.energyTotalWh = qint64(reg) * 10;
        if (m->hasTouRegisters)
            s.slotEnergyWh[size_t(slot)] = qint64(reg) * 10;
        s.activePowerW = 1000;
        r.snapshot = s;
        r.commState = CommState::Online;
        m_recorder->record(r);
    }
    m_recorder->flush();
}

void TestBillingPipeline::checkLedger()
{
    const ledger::VerifyReport report = ledger::verifyLedger(*m_reader);
    QStringList lines;
    for (const ledger::Violation &v : report.violations)
        lines.append(v.code + QStringLiteral(": ") + v.message);
    QVERIFY2(report.ok(), qPrintable(lines.join(u'\n') + report.error));
    const billing::RecomputeReport again = billing::recompute(*m_reader, *m_book);
    QVERIFY2(again.error.isEmpty(), qPrintable(again.error));
    QVERIFY2(again.mismatches.isEmpty(),
        again.mismatches.isEmpty() ? "" : qPrintable(again.mismatches.first().message));
    QCOMPARE(again.recomputedAmount, again.storedAmount);
}

void TestBillingPipeline::readingsAreChargedByTheirTariffs()
{
    const qint64 restaurant = meterOf(QStringLiteral("A-1F-104")); // TOU, TOU registers
    const qint64 basement = meterOf(QStringLiteral("B1-020"));     // flat 0.8500, per point (一表一价)
    const qint64 wallet = count(QStringLiteral("SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON "
                                               "a.id = w.account_id WHERE a.shop_no = 'B1-020'"));
    // Opening readings: nothing charged.
    batch(kT0, {{restaurant, 100'000}, {basement, 50'000}}, 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM charge_intervals")), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM billing_state WHERE last_charged_reading_id IS NOT NULL")), 2);
    // Half an hour later: 10 kWh at the restaurant, in the sharp slot (the meter's own register
    // says so), 2 kWh in the basement (a single-phase meter: 10 kWh would imply 20 kW, a jump).
    batch(kT0 + kHalfHourMs, {{restaurant, 101'000}, {basement, 50'200}}, 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM charge_intervals")), 2);
    // 10 kWh × 1.2100 (sharp) = 12.10 CNY; 2 kWh × 0.8500 = 1.70 CNY.
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM charge_intervals WHERE installation_id = %1").arg(restaurant)), 1210);
    QCOMPARE(count(QStringLiteral("SELECT energy_sharp_wh FROM charge_intervals WHERE installation_id = %1").arg(restaurant)),
        10'000);
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM charge_intervals WHERE installation_id = %1").arg(basement)), 170);
    QCOMPARE(count(QStringLiteral("SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id "
                                  "WHERE a.shop_no = 'B1-020'")),
        wallet - 170);
    QCOMPARE(count(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE code = 'revenue:energy'")), 1380);
    // A meter without TOU registers on the TOU tariff: split by time, marked estimated.
    const qint64 remote = meterOf(QStringLiteral("B-9F-903")); // ADL200: no TOU registers
    batch(kT0 + 2 * kHalfHourMs, {{remote, 7'000}});
    batch(kT0 + 3 * kHalfHourMs, {{remote, 7'100}});
    QCOMPARE(count(QStringLiteral("SELECT slots_estimated FROM charge_intervals WHERE installation_id = %1").arg(remote)), 1);
    // 11:00–11:30: all sharp; 1 kWh × 1.2100 = 1.21 CNY (to a wallet of 0: overdraft).
    QCOMPARE(count(QStringLiteral("SELECT energy_sharp_wh FROM charge_intervals WHERE installation_id = %1").arg(remote)), 1000);
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM charge_intervals WHERE installation_id = %1").arg(remote)), 121);
    // The same reading twice (a retried batch) changes nothing; no consumption makes no interval.
    batch(kT0 + 4 * kHalfHourMs, {{restaurant, 101'000}});
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM charge_intervals")), 3);
    checkLedger();
}

void TestBillingPipeline::heldReadingsAreNotCharged()
{
    const qint64 meter = meterOf(QStringLiteral("A-1F-105"));
    batch(kT0, {{meter, 200'000}});
    batch(kT0 + kHalfHourMs, {{meter, 200'500}});
    // The register went back without a plausible wrap: held, not charged, the new baseline.
    batch(kT0 + 2 * kHalfHourMs, {{meter, 300}});
    QCOMPARE(count(QStringLiteral("SELECT held FROM charge_intervals WHERE installation_id = %1 ORDER BY id DESC LIMIT 1").arg(meter)), 1);
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM charge_intervals WHERE installation_id = %1 ORDER BY id DESC LIMIT 1").arg(meter)), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'reading_held' AND subject_id = %1 AND cleared_at_ms IS NULL").arg(meter)), 1);
    batch(kT0 + 3 * kHalfHourMs, {{meter, 400}});
    // 1 kWh from the held baseline, in the sharp slot of an 11:30 reading.
    QCOMPARE(count(QStringLiteral("SELECT energy_wh FROM charge_intervals WHERE installation_id = %1 ORDER BY id DESC LIMIT 1").arg(meter)), 1000);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM charge_intervals WHERE installation_id = %1").arg(meter)), 3);
    checkLedger();
}

void TestBillingPipeline::pointsWithoutAnOpenAccountAreNotCharged()
{
    // Every 23rd point's tenant is not opened yet (the seed).
    const qint64 meter = meterOf(QStringLiteral("A-4F-405"));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM accounts WHERE shop_no = 'A-4F-405' AND status = 'not_opened'")), 1);
    batch(kT0, {{meter, 1'000}});
    batch(kT0 + kHalfHourMs, {{meter, 1'050}});
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM charge_intervals WHERE installation_id = %1 AND account_id IS NULL "
                                  "AND amount_fen = 0 AND energy_wh = 500").arg(meter)),
        1);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'charge'")), 0);
    checkLedger();
}

void TestBillingPipeline::anEmptyWalletTripsOnceAndACreditCloses()
{
    // B-9F-902: a remote-only meter whose tenant has nothing in the wallet.
    const qint64 meter = meterOf(QStringLiteral("B-9F-902"));
    const qint64 point = count(QStringLiteral("SELECT id FROM metering_points WHERE code = 'B-9F-902'"));
    const qint64 account = count(QStringLiteral("SELECT id FROM accounts WHERE shop_no = 'B-9F-902'"));
    QCOMPARE(count(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE account_id = %1").arg(account)), 0);
    // Its first reading shows the relay in AUTO (closed): the policy wants it off — one trip.
    batch(kT0, {{meter, 1'000}});
    QCOMPARE(count(QStringLiteral("SELECT desired = 'off' AND reason = 'arrears' FROM control_state WHERE metering_point_id = %1").arg(point)), 1);
    batch(kT0 + kHalfHourMs, {{meter, 1'010}});
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE meter_id = %1 AND kind = 'relay_trip' AND cause = 'policy'").arg(meter)), 1);
    QCOMPARE(m_dispatched.size(), 1);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE subject_kind = 'metering_point' AND subject_id = %1 AND cleared_at_ms IS NULL").arg(point)), 3);
    // Re-evaluating the same situation sends nothing new.
    batch(kT0 + 2 * kHalfHourMs, {{meter, 1'010}});
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE meter_id = %1").arg(meter)), 1);

    // A credit (a cash top-up, as the payments module will post it) and the policy right after.
    QVERIFY(test::runScript(*m_store, QStringLiteral(
        "INSERT INTO topup_orders (id, account_id, amount_fen, idempotency_key, request_hash, state, created_at_ms, updated_at_ms) "
        "VALUES (9001, %1, 20000, 'test-topup', zeroblob(32), 'paid', 0, 0); "
        "INSERT INTO payment_attempts (id, order_id, channel, out_trade_no, amount_fen, state, paid_at_ms, created_at_ms, updated_at_ms) "
        "VALUES (9001, 9001, 'cash', 'TEST9001', 20000, 'credited', 1, 0, 0)").arg(account)));
    QList<qint64> queued;
    const auto written = m_store->write([&](Transaction &tx) {
        ledger::LedgerWriter w(tx, m_clock.wallMs());
        const ledger::PostResult r = w.recharge(account, ledger::Channel::Cash, 9001, Money::fromFen(20000));
        if (r.outcome != ledger::PostOutcome::Posted)
            tx.rollback(r.message);
        queued = control::Controller::evaluate(tx, *m_book, control::Controller::pointsOfAccounts(tx, {account}), m_clock.wallMs());
    }).get();
    QVERIFY(written.committed());
    // The trip never went out (nothing drives commands here): it is cancelled, and as the meter
    // still shows AUTO, nothing needs to be sent.
    QCOMPARE(queued.size(), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE meter_id = %1 AND kind = 'relay_trip' AND state = 'cancelled'").arg(meter)), 1);
    QCOMPARE(count(QStringLiteral("SELECT desired = 'on' AND reason = 'funded' FROM control_state WHERE metering_point_id = %1").arg(point)), 1);
    // 200.00 CNY minus 0.10 kWh charged: every balance alarm cleared.
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE subject_kind = 'metering_point' AND subject_id = %1 AND cleared_at_ms IS NULL").arg(point)), 0);
    checkLedger();
}

// The trip went out and was verified after the last reading (that reading still shows AUTO):
// a credit now must send the close — the meter is in FORCE_OFF whatever the reading says.
void TestBillingPipeline::aCreditAfterAVerifiedTripClosesAtOnce()
{
    const qint64 meter = meterOf(QStringLiteral("B-9F-902"));
    const qint64 account = count(QStringLiteral("SELECT id FROM accounts WHERE shop_no = 'B-9F-902'"));
    batch(kT0, {{meter, 1'000}});
    batch(kT0 + kHalfHourMs, {{meter, 1'010}});
    const qint64 trip = count(QStringLiteral(
        "SELECT id FROM meter_commands WHERE meter_id = %1 AND kind = 'relay_trip' AND cause = 'policy'").arg(meter));
    QVERIFY(trip > 0);
    QVERIFY(test::runScript(*m_store, QStringLiteral(
        "UPDATE meter_commands SET state = 'verified', attempts = 1, sent_at_ms = %2, acknowledged_at_ms = %2, "
        "verified_at_ms = %2, finished_at_ms = %2, updated_at_ms = %2 WHERE id = %1; "
        "INSERT INTO topup_orders (id, account_id, amount_fen, idempotency_key, request_hash, state, created_at_ms, updated_at_ms) "
        "VALUES (9002, %3, 20000, 'test-topup-2', zeroblob(32), 'paid', 0, 0); "
        "INSERT INTO payment_attempts (id, order_id, channel, out_trade_no, amount_fen, state, paid_at_ms, created_at_ms, updated_at_ms) "
        "VALUES (9002, 9002, 'cash', 'TEST9002', 20000, 'credited', 1, 0, 0)").arg(trip).arg(kT0 + kHalfHourMs + 1000).arg(account)));
    QList<qint64> queued;
    const auto written = m_store->write([&](Transaction &tx) {
        ledger::LedgerWriter w(tx, m_clock.wallMs());
        const ledger::PostResult r = w.recharge(account, ledger::Channel::Cash, 9002, Money::fromFen(20000));
        if (r.outcome != ledger::PostOutcome::Posted)
            tx.rollback(r.message);
        queued = control::Controller::evaluate(tx, *m_book, control::Controller::pointsOfAccounts(tx, {account}), m_clock.wallMs());
    }).get();
    QVERIFY(written.committed());
    QCOMPARE(queued.size(), 1);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE id = %1 AND kind = 'relay_close'").arg(queued.first())), 1);
    checkLedger();
}

QTEST_GUILESS_MAIN(TestBillingPipeline)
#include "tst_billing_pipeline.moc"
