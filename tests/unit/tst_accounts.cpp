// The account lifecycle (accounts/lifecycle.h) on a real temporary database with the demo seed,
// its opening balances taken over, and readings stored by the real recorder + billing pipeline:
//  - open: a 'not opened' shop and a new shop with two points (one wallet), tariff and thresholds;
//    each refusal (unknown tariff, a point of another shop, alarm 2 above alarm 1) changes nothing;
//    opening again is AlreadyDone;
//  - close: final reading charged, balance paid out in cash (refund rows and ledger), points
//    unlinked, supply tripped by one command; in arrears refused; a balance left unsettled
//    refused; transfer to another shop; closing again is AlreadyDone;
//  - replace a meter mid-month on a tiered (阶梯) point: the old meter's final reading charged on
//    the old installation, the new meter installed on the same address, the month's tier
//    accumulation continuing across the swap (the first interval of the new meter priced in tier
//    2), the old meter's balance recharged onto the new one by one command, and prepayd's poll
//    plan (reloaded, as at a restart) polling the new meter.
// After each case `ledger verify` and `billing recompute` hold.
#include "accounts/lifecycle.h"
#include "accounts/takeover.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/pipeline.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "manualclock.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::accounts;
using namespace prepay::poller;
using namespace prepay::store;

namespace {

// 2026-11-02 (a Monday) 10:00 +08:00: early in the billing month, so two-day steps stay inside it.
constexpr qint64 kT0 = 1'793'584'800'000;
constexpr qint64 kDayMs = 86'400'000;

ManualRegisters registers(qint64 totalWh)
{
    ManualRegisters r;
    r.total = Energy::fromWh(totalWh);
    return r;
}

} // namespace

class TestAccounts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void openingAShop();
    void openingRefusalsChangeNothing();
    void closingChargesTheFinalReadingAndPaysOut();
    void closingRefusesArrearsAndUnsettledBalances();
    void closingByTransfer();
    void replacingAMeterKeepsTiersAndMovesTheBalance();

private:
    qint64 count(const QString &sql)
    {
        SqlError error;
        const qint64 n = m_reader->queryInt(sql, &error);
        if (!error.ok())
            qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
        return n;
    }
    qint64 wallet(const QString &shopNo)
    {
        return count(QStringLiteral("SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id "
                                    "WHERE a.shop_no = '%1' ORDER BY a.id DESC LIMIT 1")
                         .arg(shopNo));
    }
    qint64 meterOf(const QString &pointCode)
    {
        return count(QStringLiteral("SELECT i.meter_id FROM meter_installations i JOIN metering_points mp ON mp.id = "
                                    "i.metering_point_id WHERE mp.code = '%1' AND i.removed_at_ms IS NULL")
                         .arg(pointCode));
    }
    // prepayd's readings path, built from the database as at a start.
    void startPoller();
    // One poll of one meter at `atMs`: total register in Wh (whole 10 Wh), the meter's balance.
    void poll(qint64 meterId, qint64 atMs, qint64 totalWh, qint64 balanceFen = 10'000);
    template<typename F>
    LifecycleResult event(F f)
    {
        const auto written = m_store->write([&](Transaction &tx) { return f(tx); }).get();
        return written.value;
    }
    void checkLedger();
    qint64 snapshotCounts()
    {
        return count(QStringLiteral("SELECT (SELECT count(*) FROM ledger_entries) * 1000000 + (SELECT count(*) FROM "
                                    "accounts) * 10000 + (SELECT count(*) FROM account_metering_points) * 100 + "
                                    "(SELECT count(*) FROM meter_installations WHERE removed_at_ms IS NULL)"));
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock{kT0};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Connection> m_reader;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    PollPlan m_plan;
    std::unique_ptr<Recorder> m_recorder;
    std::unique_ptr<control::BatchPipeline> m_pipeline;
    qint64 m_operator = 0;
};

void TestAccounts::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QCOMPARE(applySeed(*m_store, QStringLiteral("demo")).outcome, SeedOutcome::Applied);
    const auto taken = m_store
                           ->write([this](Transaction &tx) {
                               // A staff member for the events that need one (a fixture: no login).
                               tx.db().exec(QStringLiteral(
                                   "INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, "
                                   "password_params, created_at_ms, updated_at_ms) VALUES (7, 'li.ming', 'Li Ming', "
                                   "'operator', zeroblob(32), zeroblob(16), 'none', 0, 0)"));
                               return accounts::takeOverMeterBalances(tx, m_clock.wallMs());
                           })
                           .get();
    QVERIFY(taken.committed());
    m_operator = 7;
    m_reader = m_store->openReader();
    m_book = std::make_shared<billing::TariffBook>();
    QString error;
    QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
    m_biller = std::make_unique<billing::Biller>(m_book);
    startPoller();
}

void TestAccounts::cleanup()
{
    m_recorder.reset();
    m_pipeline.reset();
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
}

void TestAccounts::startPoller()
{
    m_recorder.reset();
    m_pipeline.reset();
    m_plan = PollPlan{};
    QString error;
    QVERIFY2(loadPollPlan(*m_reader, &m_plan, &error), qPrintable(error));
    m_recorder = std::make_unique<Recorder>(*m_store, m_clock, m_plan);
    m_pipeline = std::make_unique<control::BatchPipeline>(*m_biller, m_clock, [](const QList<qint64> &) { });
    m_pipeline->install(*m_recorder);
}

void TestAccounts::poll(qint64 meterId, qint64 atMs, qint64 totalWh, qint64 balanceFen)
{
    m_clock.advanceMs(atMs - m_clock.wallMs());
    const MeterTarget *m = nullptr;
    for (const BusPlan &bus : m_plan.buses) {
        for (const MeterTarget &t : bus.meters) {
            if (t.meterId == meterId)
                m = &t;
        }
    }
    QVERIFY2(m, "the meter is not in the poll plan");
    ReadingResult r;
    r.meterId = meterId;
    r.busId = m_plan.busOfMeter(meterId)->busId;
    r.takenAtMs = atMs;
    modbus::MeterSnapshot s;
    s.profile = m->profile->name();
    s.serialNumber = m->serial;
    s.purchaseCount = 1;
    s.balanceFen = balanceFen;
    s.totalPurchasedFen = 20'000;
    s.consumedMoneyTotalFen = 10'000;
    s.statusWord = 0;
    s.relayMode = meter::v1::RelayMode::Auto;
    s.energyTotalRegister = quint32(totalWh / 10);
    s.energyTotalWh = totalWh;
    s.slotEnergyWh[2] = totalWh; // all in the flat slot
    s.activePowerW = 1000;
    r.snapshot = s;
    r.commState = CommState::Online;
    m_recorder->record(r);
    m_recorder->flush();
}

void TestAccounts::checkLedger()
{
    const ledger::VerifyReport report = ledger::verifyLedger(*m_reader);
    QStringList lines;
    for (const ledger::Violation &v : report.violations)
        lines.append(v.code + QStringLiteral(": ") + v.message);
    QVERIFY2(report.ok(), qPrintable(lines.join(u'\n') + report.error));
    const billing::RecomputeReport again = billing::recompute(*m_reader, *m_book);
    QVERIFY2(again.error.isEmpty(), qPrintable(again.error));
    QVERIFY2(again.mismatches.isEmpty(), again.mismatches.isEmpty() ? "" : qPrintable(again.mismatches.first().message));
}

void TestAccounts::openingAShop()
{
    // A shop the seed created 'not opened': opened with its point, tariff and thresholds.
    OpenAccountRequest r;
    r.shopNo = QStringLiteral("A-4F-405");
    r.contactPhone = QStringLiteral("13800000000");
    r.tariffCode = QStringLiteral("FLAT-COM");
    r.thresholds.alarm1 = Money::fromFen(6'000);
    r.thresholds.alarm2 = Money::fromFen(2'000);
    const LifecycleResult opened = event([&](Transaction &tx) { return openAccount(tx, *m_biller, r, kT0); });
    QVERIFY2(opened.outcome == LifecycleOutcome::Done, qPrintable(opened.message));
    QCOMPARE(count(QStringLiteral("SELECT status = 'open' AND contact_phone = '13800000000' FROM accounts WHERE id = %1")
                       .arg(opened.accountId)),
        1);
    QCOMPARE(wallet(QStringLiteral("A-4F-405")), 0);
    QCOMPARE(count(QStringLiteral("SELECT alarm1_threshold_fen FROM control_settings cs JOIN metering_points p ON "
                                  "p.id = cs.metering_point_id WHERE p.code = 'A-4F-405'")),
        6'000);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM tariff_assignments ta JOIN tariffs t ON t.id = ta.tariff_id "
                                  "WHERE ta.account_id = %1 AND t.code = 'FLAT-COM' AND ta.effective_date = '2026-11-02'")
                       .arg(opened.accountId)),
        1);
    // The policy looked at the point at once: an empty wallet in AUTO is off.
    QCOMPARE(count(QStringLiteral("SELECT desired = 'off' FROM control_state cs JOIN metering_points p ON p.id = "
                                  "cs.metering_point_id WHERE p.code = 'A-4F-405'")),
        1);
    // Again: already done, nothing written.
    const qint64 before = snapshotCounts();
    const LifecycleResult again = event([&](Transaction &tx) { return openAccount(tx, *m_biller, r, kT0 + 1000); });
    QCOMPARE(again.outcome, LifecycleOutcome::AlreadyDone);
    QCOMPARE(snapshotCounts(), before);

    // A new shop on the points of two shops closed now (A-1F-101 had two): one account, one
    // wallet, three points.
    CloseAccountRequest c;
    c.operatorId = m_operator;
    c.reason = QStringLiteral("moved out");
    c.settlement = Settlement::RefundCash;
    for (const char *shop : {"A-1F-101", "A-1F-103"}) {
        c.shopNo = QLatin1StringView(shop);
        const LifecycleResult closed = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, kT0 + 2000); });
        QVERIFY2(closed.outcome == LifecycleOutcome::Done, qPrintable(closed.message));
    }
    OpenAccountRequest two;
    two.shopNo = QStringLiteral("A-1F-101");
    two.displayName = QStringLiteral("茶叶店");
    two.pointCodes = {QStringLiteral("A-1F-101"), QStringLiteral("A-1F-102"), QStringLiteral("A-1F-103")};
    two.tariffCode = QStringLiteral("TOU-COM");
    const LifecycleResult second = event([&](Transaction &tx) { return openAccount(tx, *m_biller, two, kT0 + 3000); });
    QVERIFY2(second.outcome == LifecycleOutcome::Done, qPrintable(second.message));
    QVERIFY(second.accountId != count(QStringLiteral("SELECT id FROM accounts WHERE shop_no = 'A-1F-101' AND status = 'closed'")));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM account_metering_points WHERE account_id = %1 AND unlinked_at_ms IS NULL")
                       .arg(second.accountId)),
        3);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_accounts WHERE account_id = %1").arg(second.accountId)), 1);
    checkLedger();
}

void TestAccounts::openingRefusalsChangeNothing()
{
    const qint64 before = snapshotCounts();
    OpenAccountRequest r;
    r.shopNo = QStringLiteral("Z-001");
    r.displayName = QStringLiteral("Nobody");
    r.pointCodes = {QStringLiteral("A-3F-302")}; // another shop's point, but the tariff is refused first
    r.tariffCode = QStringLiteral("NO-SUCH");
    LifecycleResult out = event([&](Transaction &tx) { return openAccount(tx, *m_biller, r, kT0); });
    QCOMPARE(out.outcome, LifecycleOutcome::NotFound);
    QVERIFY2(out.message.contains(QStringLiteral("tariff")), qPrintable(out.message));

    r.tariffCode = QStringLiteral("TOU-COM");
    r.pointCodes = {QStringLiteral("A-1F-104")}; // the restaurant's
    out = event([&](Transaction &tx) { return openAccount(tx, *m_biller, r, kT0); });
    QCOMPARE(out.outcome, LifecycleOutcome::Conflict);
    QVERIFY2(out.message.contains(QStringLiteral("A-1F-104")), qPrintable(out.message));

    r.pointCodes = {QStringLiteral("A-3F-302")};
    r.thresholds.alarm1 = Money::fromFen(1'000);
    r.thresholds.alarm2 = Money::fromFen(5'000);
    out = event([&](Transaction &tx) { return openAccount(tx, *m_biller, r, kT0); });
    QCOMPARE(out.outcome, LifecycleOutcome::Invalid);
    QVERIFY2(out.message.startsWith(QStringLiteral("alarm2")), qPrintable(out.message));

    r.thresholds = {};
    r.contactPhone = QStringLiteral("call me");
    out = event([&](Transaction &tx) { return openAccount(tx, *m_biller, r, kT0); });
    QCOMPARE(out.outcome, LifecycleOutcome::Invalid);
    QVERIFY2(out.message.startsWith(QStringLiteral("contact_phone")), qPrintable(out.message));
    QCOMPARE(snapshotCounts(), before);
}

void TestAccounts::closingChargesTheFinalReadingAndPaysOut()
{
    const QString shop = QStringLiteral("A-1F-105"); // TOU-COM, three-phase prepaid meter
    const qint64 meter = meterOf(shop);
    poll(meter, kT0, 1'000'000);
    poll(meter, kT0 + kDayMs, 1'010'000); // 10 kWh, flat slot: 10 × 0.65 = 6.50
    const qint64 before = wallet(shop);
    const qint64 cashBefore = count(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE id = 1"));

    CloseAccountRequest c;
    c.shopNo = shop;
    c.operatorId = m_operator;
    c.reason = QStringLiteral("lease ended");
    c.settlement = Settlement::RefundCash;
    CloseFinalReading f;
    f.pointCode = shop;
    f.registers = registers(1'020'000); // 10 kWh more, read on the display at 14:00 (flat slot)
    f.registers.slots = std::array<Energy, 4>{Energy::zero(), Energy::zero(), Energy::fromWh(1'020'000), Energy::zero()};
    c.finalReadings = {f};
    m_clock.advanceMs(4 * 3'600'000);
    const LifecycleResult closed = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, m_clock.wallMs()); });
    QVERIFY2(closed.outcome == LifecycleOutcome::Done, qPrintable(closed.message));
    QCOMPARE(closed.finalCharges, Money::fromFen(650));
    QCOMPARE(closed.settled, Money::fromFen(before - 650));
    QCOMPARE(wallet(shop), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM readings WHERE source = 'manual' AND meter_id = %1").arg(meter)), 1);
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM refunds WHERE account_id = %1 AND state = 'succeeded' AND "
                                  "channel = 'cash'")
                       .arg(closed.accountId)),
        before - 650);
    // Cash went out of the drawer: the cash clearing account (negative = taken in) rises by it.
    QCOMPARE(count(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE id = 1")), cashBefore + before - 650);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM account_metering_points WHERE account_id = %1 AND "
                                  "unlinked_at_ms IS NULL")
                       .arg(closed.accountId)),
        0);
    // The supply is tripped: the meter was read in AUTO, so one command carries it out.
    QCOMPARE(closed.commandIds.size(), 1);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE id = %1 AND kind = 'relay_trip'")
                       .arg(closed.commandIds.first())),
        1);
    QCOMPARE(count(QStringLiteral("SELECT reason = 'not_open' FROM control_state cs JOIN metering_points p ON p.id = "
                                  "cs.metering_point_id WHERE p.code = '%1'")
                       .arg(shop)),
        1);
    // Later polls of the point are recorded, not charged to anybody.
    poll(meter, m_clock.wallMs() + kDayMs, 1'030'000);
    QCOMPARE(count(QStringLiteral("SELECT account_id IS NULL AND amount_fen = 0 FROM charge_intervals WHERE installation_id "
                                  "= (SELECT installation_id FROM readings WHERE meter_id = %1 ORDER BY id DESC LIMIT 1) "
                                  "ORDER BY id DESC LIMIT 1")
                       .arg(meter)),
        1);
    const LifecycleResult again = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, m_clock.wallMs()); });
    QCOMPARE(again.outcome, LifecycleOutcome::AlreadyDone);
    checkLedger();
}

void TestAccounts::closingRefusesArrearsAndUnsettledBalances()
{
    // A-1F-101 holds money: closing without saying where it goes is refused.
    CloseAccountRequest c;
    c.shopNo = QStringLiteral("A-1F-101");
    c.operatorId = m_operator;
    c.reason = QStringLiteral("test");
    LifecycleResult out = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, kT0); });
    QCOMPARE(out.outcome, LifecycleOutcome::Invalid);
    QVERIFY2(out.message.startsWith(QStringLiteral("settlement")), qPrintable(out.message));

    // A shop whose wallet is below zero is not closed, even with a refund asked for; a final
    // reading given with it is not kept either.
    const QString shop = QStringLiteral("A-1F-105");
    const qint64 meter = meterOf(shop);
    poll(meter, kT0, 1'000'000);
    const qint64 balance = wallet(shop);
    // Use more than the wallet holds: balance / 0.65 CNY per kWh, plus 10 kWh (days apart).
    const qint64 kwh = balance / 65 + 10;
    qint64 at = kT0;
    qint64 wh = 1'000'000;
    for (qint64 left = kwh; left > 0; left -= 300) {
        at += kDayMs;
        wh += std::min<qint64>(left, 300) * 1000;
        poll(meter, at, wh);
    }
    QVERIFY(wallet(shop) < 0);
    const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));
    c.shopNo = shop;
    c.settlement = Settlement::RefundCash;
    CloseFinalReading f;
    f.pointCode = shop;
    f.registers = registers(wh + 1000);
    c.finalReadings = {f};
    m_clock.advanceMs(3'600'000);
    out = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, m_clock.wallMs()); });
    QCOMPARE(out.outcome, LifecycleOutcome::InArrears);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM readings WHERE source = 'manual'")), 0);
    QCOMPARE(count(QStringLiteral("SELECT status = 'open' FROM accounts WHERE shop_no = '%1'").arg(shop)), 1);

    // A final reading that goes backwards is refused with the reading named.
    c.shopNo = QStringLiteral("A-1F-104");
    c.finalReadings = {CloseFinalReading{QStringLiteral("A-1F-104"), registers(0)}};
    poll(meterOf(QStringLiteral("A-1F-104")), m_clock.wallMs() + 60'000, 500'000);
    m_clock.advanceMs(60'000);
    out = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, m_clock.wallMs()); });
    QCOMPARE(out.outcome, LifecycleOutcome::Invalid);
    QVERIFY2(out.message.startsWith(QStringLiteral("final[A-1F-104]")), qPrintable(out.message));
    checkLedger();
}

void TestAccounts::closingByTransfer()
{
    const qint64 from = wallet(QStringLiteral("A-1F-101"));
    const qint64 to = wallet(QStringLiteral("A-1F-104"));
    QVERIFY(from > 0);
    CloseAccountRequest c;
    c.shopNo = QStringLiteral("A-1F-101");
    c.operatorId = m_operator;
    c.reason = QStringLiteral("merged into the restaurant");
    c.settlement = Settlement::Transfer;
    c.transferToShopNo = QStringLiteral("A-1F-104");
    const LifecycleResult closed = event([&](Transaction &tx) { return closeAccount(tx, *m_biller, c, kT0); });
    QVERIFY2(closed.outcome == LifecycleOutcome::Done, qPrintable(closed.message));
    QCOMPARE(wallet(QStringLiteral("A-1F-101")), 0);
    QCOMPARE(wallet(QStringLiteral("A-1F-104")), to + from);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'transfer' AND operator_id = %1")
                       .arg(m_operator)),
        1);
    checkLedger();
}

void TestAccounts::replacingAMeterKeepsTiersAndMovesTheBalance()
{
    // B-5F-501: TIER-SMALL (0.7000 flat; +0.0500 from 500 kWh a month), a three-phase prepaid meter.
    const QString point = QStringLiteral("B-5F-501");
    const qint64 oldMeter = meterOf(point);
    const qint64 unit = count(QStringLiteral("SELECT unit_id FROM meters WHERE id = %1").arg(oldMeter));
    const qint64 start = wallet(point);
    poll(oldMeter, kT0, 1'000'000);                         // Nov 2: opens the segment
    poll(oldMeter, kT0 + 2 * kDayMs, 1'400'000, 12'345);  // Nov 4: 400 kWh in tier 1 = 280.00
    QCOMPARE(wallet(point), start - 28'000);

    // Nov 6: replaced. Final 1,550 kWh: 100 kWh in tier 1 + 50 kWh in tier 2 = 70.00 + 37.50.
    m_clock.advanceMs(kT0 + 4 * kDayMs - m_clock.wallMs());
    ReplaceMeterRequest r;
    r.pointCode = point;
    r.newSerial = 77'000'001;
    r.oldFinal = registers(1'550'000);
    ManualRegisters fresh = registers(0);
    fresh.slots = std::array<Energy, 4>{};
    fresh.balance = Money::zero();
    fresh.purchaseCount = 0;
    r.newInitial = fresh;
    r.operatorId = m_operator;
    const LifecycleResult replaced = event([&](Transaction &tx) { return replaceMeter(tx, *m_biller, r, m_clock.wallMs()); });
    QVERIFY2(replaced.outcome == LifecycleOutcome::Done, qPrintable(replaced.message));
    QCOMPARE(replaced.finalCharges, Money::fromFen(10'750));
    QCOMPARE(wallet(point), start - 28'000 - 10'750);
    const qint64 newMeter = meterOf(point);
    QVERIFY(newMeter != oldMeter);
    QCOMPARE(count(QStringLiteral("SELECT state = 'retired' AND bus_id IS NULL FROM meters WHERE id = %1").arg(oldMeter)), 1);
    QCOMPARE(count(QStringLiteral("SELECT unit_id FROM meters WHERE id = %1").arg(newMeter)), unit);
    QCOMPARE(count(QStringLiteral("SELECT final_energy_wh FROM meter_installations WHERE meter_id = %1").arg(oldMeter)),
        1'550'000);
    QCOMPARE(count(QStringLiteral("SELECT final_balance_fen FROM meter_installations WHERE meter_id = %1").arg(oldMeter)),
        12'345);
    // 换表补电: the balance the old meter last reported goes onto the new one, by one command.
    QCOMPARE(replaced.commandIds.size(), 1);
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM meter_commands WHERE id = %1 AND kind = 'recharge' AND meter_id "
                                  "= %2 AND recharge_txn = %3")
                       .arg(replaced.commandIds.first())
                       .arg(newMeter)
                       .arg(replacementRechargeTxn(replaced.installationId))),
        12'345);
    // Asking again: already done, no second command.
    const LifecycleResult again = event([&](Transaction &tx) { return replaceMeter(tx, *m_biller, r, m_clock.wallMs()); });
    QCOMPARE(again.outcome, LifecycleOutcome::AlreadyDone);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE meter_id = %1").arg(newMeter)), 1);

    // prepayd restarts and polls the new meter; Nov 8: 100 kWh, all in tier 2 (the month has
    // 550 kWh behind it across both meters) = 75.00, not the 70.00 a reset accumulator would give.
    startPoller();
    poll(newMeter, kT0 + 6 * kDayMs, 100'000, 0);
    QCOMPARE(count(QStringLiteral("SELECT amount_fen FROM charge_intervals WHERE installation_id = %1").arg(replaced.installationId)),
        7'500);
    QCOMPARE(count(QStringLiteral("SELECT from_reading_id IS NULL FROM charge_intervals WHERE installation_id = %1")
                       .arg(replaced.installationId)),
        1);
    QCOMPARE(count(QStringLiteral("SELECT tier_month_energy_wh FROM billing_state bs JOIN metering_points p ON p.id = "
                                  "bs.metering_point_id WHERE p.code = '%1'")
                       .arg(point)),
        650'000);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM readings WHERE meter_id = %1 AND validation = 'valid'").arg(newMeter)), 1);
    checkLedger();

    // Refusals: a serial installed elsewhere; registers finer than the meter counts.
    r.newSerial = quint32(count(QStringLiteral("SELECT serial_number FROM meters WHERE id = %1").arg(meterOf(QStringLiteral("A-1F-104")))));
    r.oldFinal.reset();
    LifecycleResult out = event([&](Transaction &tx) { return replaceMeter(tx, *m_biller, r, m_clock.wallMs()); });
    QCOMPARE(out.outcome, LifecycleOutcome::Conflict);
    r.newSerial = 77'000'002;
    r.oldFinal = registers(100'005);
    out = event([&](Transaction &tx) { return replaceMeter(tx, *m_biller, r, m_clock.wallMs()); });
    QCOMPARE(out.outcome, LifecycleOutcome::Invalid);
    QCOMPARE(meterOf(point), newMeter);
}

QTEST_GUILESS_MAIN(TestAccounts)
#include "tst_accounts.moc"
