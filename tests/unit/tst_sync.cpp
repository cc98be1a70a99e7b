// The kiosk directory feed (backoffice/sync): the producer against a real temporary database with
// the demo building, its opening balances taken over and the real readings path (recorder →
// biller → controller → alarms); the protocol values and the kiosk's Replica.
//  - The first refresh publishes every account not closed; later ones publish exactly the rows
//    that changed (balance, status colour, last reading, usage), a closed account as a removal,
//    and nothing when nothing changed.
//  - Usage is by local day (Asia/Shanghai) and month, equal to the charge intervals it comes from;
//    a day without a reading is absent, a day with readings and no consumption is zero; the
//    windows move with the local day.
//  - Replica rules (duplicate, gap, overlap, invalid, resync, another feed) and its file.
//  - A model run: random recharges, debits, readings through the pipeline, openings, closings,
//    offline meters, pruning; a replica fed through a lossy channel (batches dropped,
//    duplicated, reordered; disconnects; kiosk restarts from its file). At random checkpoints
//    and at the end it equals a fresh snapshot exactly, and the snapshot equals the directory
//    recomputed from scratch from the base tables (an oracle that shares no code with refresh).
//    Seed printed; PREPAY_TEST_SEED replays.
//  - The refresh cost on a 10,000-account building after a 10,000-reading batch (printed).
#include "accounts/lifecycle.h"
#include "accounts/takeover.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/controller.h"
#include "control/pipeline.h"
#include "ledger/ledger.h"
#include "manualclock.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "randomseed.h"
#include "store/seed.h"
#include "store/store.h"
#include "sync/publisher.h"
#include "sync/replica.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <map>
#include <set>

using namespace prepay;
using namespace prepay::poller;
using namespace prepay::store;

namespace {

// 2026-11-18 (a Wednesday) 10:00 +08:00.
constexpr qint64 kT0 = 1'794'967'200'000;
constexpr qint64 kMinuteMs = 60'000;
constexpr qint64 kHourMs = 60 * kMinuteMs;
constexpr qint64 kDayMs = 24 * kHourMs;
constexpr qint64 kOperator = 7;

qint64 queryInt(Connection &db, const QString &sql)
{
    SqlError error;
    const qint64 n = db.queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return n;
}

QString describe(const sync::DirectoryRow &r)
{
    return QString::fromUtf8(sync::encodeRow(r));
}

// The first difference between two directories, for a failure message.
QString firstDifference(const QList<sync::DirectoryRow> &got, const QList<sync::DirectoryRow> &want)
{
    QMap<qint64, sync::DirectoryRow> a, b;
    for (const sync::DirectoryRow &r : got)
        a.insert(r.accountId, r);
    for (const sync::DirectoryRow &r : want)
        b.insert(r.accountId, r);
    for (auto it = b.cbegin(); it != b.cend(); ++it) {
        if (!a.contains(it.key()))
            return QStringLiteral("missing %1").arg(describe(it.value()));
        if (!(a.value(it.key()) == it.value()))
            return QStringLiteral("got  %1\nwant %2").arg(describe(a.value(it.key())), describe(it.value()));
    }
    for (auto it = a.cbegin(); it != a.cend(); ++it) {
        if (!b.contains(it.key()))
            return QStringLiteral("extra %1").arg(describe(it.value()));
    }
    return {};
}

} // namespace

class TestSync : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void firstRefreshPublishesEveryLiveAccount();
    void onlyChangedRowsArePublished();
    void usageIsByLocalDayWithGaps();
    void pointsAndTariffArePublished();
    void rowsEncodeCanonically();
    void rowsWithoutTheNewKeysDecode();
    void replicaFollowsTheProtocol();
    void eventsSinceAndPruning();
    void replicaFollowsThroughALossyChannel();
    void refreshCostOnTenThousandAccounts();

private:
    sync::RefreshResult refreshNow();
    sync::DirectorySnapshot snapshotNow();
    sync::DirectoryBatch eventsSince(qint64 since, int limit = sync::SyncLimits::eventsPerBatchMax);
    QList<sync::DirectoryRow> expected();
    sync::DirectoryRow rowOf(const QString &shopNo);
    qint64 accountOf(const QString &shopNo);
    qint64 meterOf(const QString &pointCode);
    const MeterTarget *target(qint64 meterId) const;
    // One readings batch through the recorder and the pipeline: each meter with its total
    // register in Wh (multiple of 10); `failed` meters report a timeout and go offline.
    void poll(qint64 atMs, const QList<std::pair<qint64, qint64>> &readings, const QList<qint64> &failed = {});
    // A paid cash top-up credited to the wallet, then the controller on the account's points.
    bool recharge(qint64 accountId, qint64 amountFen);
    // A staff debit of the wallet (never below zero), then the controller.
    bool debit(qint64 accountId, qint64 amountFen);
    qint64 count(const QString &sql) { return queryInt(*m_reader, sql); }
    // The slot energies of a meter's charge intervals ending at readings taken in [fromMs, toMs).
    sync::SlotEnergy slotsOn(qint64 meterId, qint64 fromMs, qint64 toMs);

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock{kT0};
    QTimeZone m_tz{QByteArrayLiteral("Asia/Shanghai")};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Connection> m_reader;
    PollPlan m_plan;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::unique_ptr<Recorder> m_recorder;
    std::unique_ptr<control::BatchPipeline> m_pipeline;
    qint64 m_orderNo = 0;
    QSet<qint64> m_openRelays; // meters poll() reports with their relay open
};

void TestSync::init()
{
    m_clock.advanceMs(kT0 - m_clock.wallMs());
    m_openRelays.clear();
    m_dir = std::make_unique<QTemporaryDir>();
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QVERIFY(m_store->schemaVersion() >= 6); // the kiosk sync schema (0006) is in
    QCOMPARE(applySeed(*m_store, QStringLiteral("demo")).outcome, SeedOutcome::Applied);
    const auto taken
        = m_store
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
    m_reader = m_store->openReader();
    QString error;
    QVERIFY2(loadPollPlan(*m_reader, &m_plan, &error), qPrintable(error));
    m_book = std::make_shared<billing::TariffBook>();
    QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
    m_biller = std::make_unique<billing::Biller>(m_book);
    m_recorder = std::make_unique<Recorder>(*m_store, m_clock, m_plan);
    m_pipeline = std::make_unique<control::BatchPipeline>(*m_biller, m_clock, [](const QList<qint64> &) {});
    m_pipeline->install(*m_recorder);
}

void TestSync::cleanup()
{
    m_recorder.reset();
    m_pipeline.reset();
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
}

sync::RefreshResult TestSync::refreshNow()
{
    const qint64 now = m_clock.wallMs();
    const auto written = m_store->write([this, now](Transaction &tx) { return sync::refresh(tx, now, m_tz); }).get();
    if (!written.committed())
        qWarning("refresh: %s %s", qPrintable(writeStatusCode(written.status)), qPrintable(written.error.toString()));
    return written.value;
}

sync::DirectorySnapshot TestSync::snapshotNow()
{
    QString error;
    const std::optional<sync::DirectorySnapshot> s = sync::snapshot(*m_reader, &error);
    if (!s)
        qWarning("snapshot: %s", qPrintable(error));
    return s.value_or(sync::DirectorySnapshot{});
}

sync::DirectoryBatch TestSync::eventsSince(qint64 since, int limit)
{
    QString error;
    const std::optional<sync::DirectoryBatch> b = sync::eventsSince(*m_reader, since, limit, &error);
    if (!b)
        qWarning("eventsSince: %s", qPrintable(error));
    return b.value_or(sync::DirectoryBatch{});
}

qint64 TestSync::accountOf(const QString &shopNo)
{
    return count(QStringLiteral("SELECT id FROM accounts WHERE shop_no = '%1' AND status <> 'closed'").arg(shopNo));
}

sync::DirectoryRow TestSync::rowOf(const QString &shopNo)
{
    const qint64 id = accountOf(shopNo);
    for (const sync::DirectoryRow &r : snapshotNow().rows) {
        if (r.accountId == id)
            return r;
    }
    return {};
}

qint64 TestSync::meterOf(const QString &pointCode)
{
    return count(QStringLiteral("SELECT i.meter_id FROM meter_installations i JOIN metering_points mp ON mp.id = "
                                "i.metering_point_id WHERE mp.code = '%1' AND i.removed_at_ms IS NULL")
                     .arg(pointCode));
}

const MeterTarget *TestSync::target(qint64 meterId) const
{
    for (const BusPlan &bus : m_plan.buses) {
        for (const MeterTarget &t : bus.meters) {
            if (t.meterId == meterId)
                return &t;
        }
    }
    return nullptr;
}

void TestSync::poll(qint64 atMs, const QList<std::pair<qint64, qint64>> &readings, const QList<qint64> &failed)
{
    m_clock.advanceMs(atMs - m_clock.wallMs());
    for (const auto &[meterId, totalWh] : readings) {
        const MeterTarget *m = target(meterId);
        QVERIFY(m);
        ReadingResult r;
        r.meterId = meterId;
        r.busId = m_plan.busOfMeter(meterId)->busId;
        r.takenAtMs = atMs;
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
        s.energyTotalRegister = quint32(totalWh / 10);
        s.energyTotalWh = totalWh;
        if (m->hasTouRegisters)
            s.slotEnergyWh[2] = totalWh; // all in the flat slot
        s.activePowerW = 1000;
        s.relayState = m_openRelays.contains(meterId) ? meter::v1::RelayState::Open : meter::v1::RelayState::Closed;
        r.snapshot = s;
        r.commState = CommState::Online;
        m_recorder->record(r);
    }
    for (const qint64 meterId : failed) {
        ReadingResult r;
        r.meterId = meterId;
        r.busId = m_plan.busOfMeter(meterId)->busId;
        r.takenAtMs = atMs;
        r.error = modbus::DriverError::make(modbus::ErrorKind::Timeout, QStringLiteral("no reply (test)"));
        r.commState = CommState::Offline;
        r.commStateChanged = true;
        r.consecutiveFailures = 3;
        m_recorder->record(r);
    }
    m_recorder->flush();
}

bool TestSync::recharge(qint64 accountId, qint64 amountFen)
{
    const qint64 n = ++m_orderNo;
    const qint64 now = m_clock.wallMs();
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  Statement order = tx.prepare(QStringLiteral(
                      "INSERT INTO topup_orders (account_id, amount_fen, idempotency_key, request_hash, state, "
                      "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, zeroblob(32), 'paid', ?4, ?4)"));
                  order.bind(1, accountId)
                      .bind(2, amountFen)
                      .bind(3, QStringLiteral("sync-order-%1").arg(n))
                      .bind(4, now);
                  if (const SqlError e = order.run(); !e.ok())
                      return tx.fail(e);
                  Statement attempt = tx.prepare(QStringLiteral(
                      "INSERT INTO payment_attempts (order_id, channel, out_trade_no, amount_fen, state, paid_at_ms, "
                      "created_at_ms, updated_at_ms) VALUES (?1, 'cash', ?2, ?3, 'credited', ?4, ?4, ?4)"));
                  attempt.bind(1, tx.db().lastInsertRowId())
                      .bind(2, QStringLiteral("S%1").arg(n, 12, 10, QLatin1Char('0')))
                      .bind(3, amountFen)
                      .bind(4, now);
                  if (const SqlError e = attempt.run(); !e.ok())
                      return tx.fail(e);
                  const qint64 attemptId = tx.db().lastInsertRowId();
                  ledger::LedgerWriter writer(tx, now);
                  const ledger::PostResult post
                      = writer.recharge(accountId, ledger::Channel::Cash, attemptId, Money::fromFen(amountFen));
                  if (post.outcome != ledger::PostOutcome::Posted)
                      return tx.rollback(post.message);
                  // As the payments module will: the policy looks at the account's points after a credit.
                  control::Controller::evaluate(
                      tx, *m_book, control::Controller::pointsOfAccounts(tx, {accountId}), now);
              })
              .get();
    return written.committed();
}

bool TestSync::debit(qint64 accountId, qint64 amountFen)
{
    const qint64 n = ++m_orderNo;
    const qint64 now = m_clock.wallMs();
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  ledger::LedgerWriter writer(tx, now);
                  const ledger::PostResult post = writer.adjust(accountId, Money::fromFen(-amountFen),
                      QStringLiteral("op:sync-debit-%1").arg(n), kOperator, QStringLiteral("test debit"));
                  if (post.outcome != ledger::PostOutcome::Posted)
                      return tx.rollback(post.message);
                  control::Controller::evaluate(
                      tx, *m_book, control::Controller::pointsOfAccounts(tx, {accountId}), now);
              })
              .get();
    return written.committed();
}

sync::SlotEnergy TestSync::slotsOn(qint64 meterId, qint64 fromMs, qint64 toMs)
{
    sync::SlotEnergy out{};
    const char *const columns[] = {"energy_sharp_wh", "energy_peak_wh", "energy_flat_wh", "energy_valley_wh"};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = count(QStringLiteral("SELECT coalesce(sum(ci.%1), 0) FROM charge_intervals ci JOIN readings r ON "
                                      "r.id = ci.to_reading_id WHERE r.meter_id = %2 AND r.taken_at_ms >= %3 AND "
                                      "r.taken_at_ms < %4")
                           .arg(QLatin1StringView(columns[i]))
                           .arg(meterId)
                           .arg(fromMs)
                           .arg(toMs));
    }
    return out;
}

// The directory recomputed from the base tables, without the aggregates, watermarks or dirty
// marks refresh() relies on: every reading and interval, its owner found in C++ from the links,
// its local day converted through QTimeZone one by one.
QList<sync::DirectoryRow> TestSync::expected()
{
    Connection &db = *m_reader;
    struct Link
    {
        qint64 id = 0;
        qint64 account = 0;
        qint64 linkedAt = 0;
        std::optional<qint64> unlinkedAt;
    };
    QHash<qint64, QList<Link>> links; // by point
    {
        Statement s = db.prepare(QStringLiteral(
            "SELECT id, account_id, metering_point_id, linked_at_ms, unlinked_at_ms FROM account_metering_points"));
        while (s.step() == Statement::Step::Row) {
            Link l;
            l.id = s.int64(0);
            l.account = s.int64(1);
            l.linkedAt = s.int64(3);
            if (!s.isNull(4))
                l.unlinkedAt = s.int64(4);
            links[s.int64(2)].append(l);
        }
    }
    const auto owner = [&links](qint64 point, qint64 t) {
        const Link *best = nullptr;
        for (const Link &l : links.value(point)) {
            if (l.linkedAt <= t && (!l.unlinkedAt || *l.unlinkedAt > t)
                && (!best || l.linkedAt > best->linkedAt || (l.linkedAt == best->linkedAt && l.id > best->id)))
                best = &l;
        }
        return best ? best->account : 0;
    };
    const auto localDay = [this](qint64 ms) { return QDateTime::fromMSecsSinceEpoch(ms, m_tz).date(); };
    std::set<std::pair<qint64, QDate>> dayPresent, monthPresent;
    struct Sums
    {
        qint64 wh = 0;
        qint64 fen = 0;
        sync::SlotEnergy slots{};
    };
    std::map<std::pair<qint64, QDate>, Sums> daySums, monthSums;
    {
        Statement s = db.prepare(QStringLiteral("SELECT metering_point_id, taken_at_ms FROM readings"));
        while (s.step() == Statement::Step::Row) {
            if (const qint64 a = owner(s.int64(0), s.int64(1)); a != 0) {
                const QDate d = localDay(s.int64(1));
                dayPresent.insert({a, d});
                monthPresent.insert({a, QDate(d.year(), d.month(), 1)});
            }
        }
    }
    {
        Statement s = db.prepare(QStringLiteral(
            "SELECT r.metering_point_id, r.taken_at_ms, ci.energy_wh, ci.amount_fen, ci.energy_sharp_wh, "
            "ci.energy_peak_wh, ci.energy_flat_wh, ci.energy_valley_wh "
            "FROM charge_intervals ci JOIN readings r ON r.id = ci.to_reading_id"));
        while (s.step() == Statement::Step::Row) {
            if (const qint64 a = owner(s.int64(0), s.int64(1)); a != 0) {
                const QDate d = localDay(s.int64(1));
                for (Sums *sums : {&daySums[{a, d}], &monthSums[{a, QDate(d.year(), d.month(), 1)}]}) {
                    sums->wh += s.int64(2);
                    sums->fen += s.int64(3);
                    for (int i = 0; i < 4; ++i)
                        sums->slots[std::size_t(i)] += s.int64(4 + i);
                }
            }
        }
    }
    const QDate today = localDay(m_clock.wallMs());
    const QDate thisMonth(today.year(), today.month(), 1);

    Statement points = db.prepare(QStringLiteral(
        "SELECT amp.metering_point_id, mp.code FROM account_metering_points amp JOIN metering_points mp ON mp.id = "
        "amp.metering_point_id WHERE amp.account_id = ?1 AND amp.unlinked_at_ms IS NULL ORDER BY mp.code"));
    Statement relay = db.prepare(QStringLiteral(
        "SELECT ms.relay_state FROM meter_installations i JOIN meter_state ms ON ms.meter_id = i.meter_id "
        "WHERE i.metering_point_id = ?1 AND i.removed_at_ms IS NULL"));
    Statement mode
        = db.prepare(QStringLiteral("SELECT control_mode FROM control_settings WHERE metering_point_id = ?1"));
    // Assignments in force today: the latest effective date not after it.
    const QString todayText = localDay(m_clock.wallMs()).toString(Qt::ISODate);
    Statement accountTariff = db.prepare(QStringLiteral(
        "SELECT tariff_id, effective_date FROM tariff_assignments WHERE account_id = ?1 AND effective_date <= ?2"));
    Statement pointTariff = db.prepare(QStringLiteral("SELECT tariff_id, effective_date FROM tariff_assignments "
                                                      "WHERE metering_point_id = ?1 AND effective_date <= ?2"));
    const auto latest = [&todayText](Statement &st, qint64 id) {
        st.bind(1, id).bind(2, todayText);
        std::optional<qint64> tariff;
        QString best;
        while (st.step() == Statement::Step::Row) {
            if (st.text(1) > best) {
                best = st.text(1);
                tariff = st.int64(0);
            }
        }
        st.reset();
        return tariff;
    };
    Statement versions = db.prepare(QStringLiteral(
        "SELECT t.name, v.id, v.effective_date, v.kind, v.price_sharp, v.price_peak, v.price_flat, v.price_valley "
        "FROM tariffs t JOIN tariff_versions v ON v.tariff_id = t.id WHERE t.id = ?1"));
    Statement tiers = db.prepare(
        QStringLiteral("SELECT tier_no, upper_bound_wh, price_adder FROM tariff_tiers WHERE tariff_version_id = ?1"));
    Statement last = db.prepare(QStringLiteral("SELECT max(taken_at_ms) FROM readings WHERE metering_point_id = ?1"));
    Statement alarms = db.prepare(QStringLiteral(
        "SELECT kind FROM alarms WHERE cleared_at_ms IS NULL AND subject_kind = 'metering_point' AND subject_id = ?1"));
    Statement offline = db.prepare(
        QStringLiteral("SELECT count(*) FROM alarms al JOIN meter_installations i ON i.meter_id = al.subject_id "
                       "WHERE al.kind = 'meter_offline' AND al.subject_kind = 'meter' AND al.cleared_at_ms IS NULL "
                       "AND i.metering_point_id = ?1 AND i.removed_at_ms IS NULL"));
    QList<sync::DirectoryRow> rows;
    Statement s = db.prepare(QStringLiteral("SELECT a.id, a.shop_no, a.display_name, a.status, "
                                            "(SELECT balance_fen FROM ledger_accounts WHERE account_id = a.id) "
                                            "FROM accounts a WHERE a.status <> 'closed' ORDER BY a.id"));
    while (s.step() == Statement::Step::Row) {
        sync::DirectoryRow r;
        r.accountId = s.int64(0);
        r.shopNo = s.text(1);
        r.displayName = s.text(2);
        if (!s.isNull(4))
            r.balanceFen = s.int64(4);
        QSet<QString> open;
        bool isOffline = false;
        std::optional<qint64> tariffId = latest(accountTariff, r.accountId);
        points.bind(1, r.accountId);
        while (points.step() == Statement::Step::Row) {
            const qint64 point = points.int64(0);
            sync::PointState p;
            p.pointCode = points.text(1);
            relay.bind(1, point);
            p.relay
                = relay.step() == Statement::Step::Row && !relay.isNull(0) ? relay.text(0) : QStringLiteral("unknown");
            relay.reset();
            mode.bind(1, point);
            p.controlMode = mode.step() == Statement::Step::Row ? mode.text(0) : QStringLiteral("auto");
            mode.reset();
            if (!tariffId)
                tariffId = latest(pointTariff, point);
            last.bind(1, point);
            if (last.step() == Statement::Step::Row && !last.isNull(0))
                r.lastReadingMs = std::max(r.lastReadingMs.value_or(0), last.int64(0));
            last.reset();
            alarms.bind(1, point);
            while (alarms.step() == Statement::Step::Row)
                open.insert(alarms.text(0));
            alarms.reset();
            offline.bind(1, point);
            if (offline.step() == Statement::Step::Row && offline.int64(0) > 0) {
                isOffline = true;
                p.offline = true;
            }
            offline.reset();
            r.points.append(p);
        }
        points.reset();
        if (tariffId) {
            sync::TariffSummary t;
            qint64 versionId = 0;
            QString best;
            versions.bind(1, *tariffId);
            while (versions.step() == Statement::Step::Row) {
                if (versions.text(2) <= todayText && versions.text(2) > best) {
                    best = versions.text(2);
                    versionId = versions.int64(1);
                    t.name = versions.text(0);
                    t.kind = versions.text(3);
                    t.prices = {versions.int64(4), versions.int64(5), versions.int64(6), versions.int64(7)};
                }
            }
            versions.reset();
            if (versionId != 0) {
                std::map<qint64, std::pair<std::optional<qint64>, qint64>> byTier;
                tiers.bind(1, versionId);
                while (tiers.step() == Statement::Step::Row)
                    byTier[tiers.int64(0)]
                        = {tiers.isNull(1) ? std::nullopt : std::optional<qint64>(tiers.int64(1)), tiers.int64(2)};
                tiers.reset();
                for (const auto &[no, tier] : byTier) {
                    if (tier.first)
                        t.tierUpperWh.append(*tier.first);
                    t.tierAdders.append(tier.second);
                }
                r.tariff = t;
            }
        }
        if (s.text(3) == u"not_opened")
            r.status = sync::AccountStatus::NotOpened;
        else if (open.contains(QStringLiteral("arrears")))
            r.status = sync::AccountStatus::Arrears;
        else if (isOffline)
            r.status = sync::AccountStatus::Offline;
        else if (open.contains(QStringLiteral("alarm2")))
            r.status = sync::AccountStatus::Alarm2;
        else if (open.contains(QStringLiteral("alarm1")))
            r.status = sync::AccountStatus::Alarm1;
        for (QDate d = today.addDays(-30); d <= today; d = d.addDays(1)) {
            if (dayPresent.count({r.accountId, d}) > 0) {
                const Sums sums = daySums.count({r.accountId, d}) > 0 ? daySums.at({r.accountId, d}) : Sums{};
                r.daily.append(sync::DayUsage{d, sums.wh, sums.fen, sums.slots});
            }
        }
        for (QDate m = thisMonth.addMonths(-11); m <= thisMonth; m = m.addMonths(1)) {
            if (monthPresent.count({r.accountId, m}) > 0) {
                const Sums sums = monthSums.count({r.accountId, m}) > 0 ? monthSums.at({r.accountId, m}) : Sums{};
                r.monthly.append(sync::MonthUsage{m, sums.wh, sums.fen, sums.slots});
            }
        }
        rows.append(r);
    }
    return rows;
}

// ---- Producer -----------------------------------------------------------------------------------

void TestSync::firstRefreshPublishesEveryLiveAccount()
{
    const qint64 live = count(QStringLiteral("SELECT count(*) FROM accounts WHERE status <> 'closed'"));
    QVERIFY(count(QStringLiteral("SELECT count(*) FROM accounts WHERE status = 'closed'")) > 0); // the seed has some
    const sync::RefreshResult first = refreshNow();
    QCOMPARE(first.outcome, sync::RefreshOutcome::Published);
    QVERIFY(first.rebuilt);
    QCOMPARE(first.rowsPublished, int(live));
    QCOMPARE(first.rowsRemoved, 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM event_feed WHERE topic = 'directory.account'")), live);
    QCOMPARE(count(QStringLiteral("SELECT max(seq) FROM event_feed")), first.headSeq);

    const sync::DirectorySnapshot snap = snapshotNow();
    QCOMPARE(snap.seq, first.headSeq);
    QCOMPARE(snap.rows.size(), live);
    QVERIFY(!snap.feedId.isEmpty());
    const QString diff = firstDifference(snap.rows, expected());
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
    // The seed's unopened shops show as such; balances are the wallets taken over.
    const sync::DirectoryRow unopened = rowOf(QStringLiteral("A-4F-405"));
    QCOMPARE(unopened.status, sync::AccountStatus::NotOpened);
    const sync::DirectoryRow restaurant = rowOf(QStringLiteral("A-1F-104"));
    QCOMPARE(restaurant.balanceFen.value_or(-1),
        count(
            QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE account_id = %1").arg(restaurant.accountId)));
    QVERIFY(!restaurant.lastReadingMs);
    QVERIFY(restaurant.daily.isEmpty() && restaurant.monthly.isEmpty());

    // Nothing changed: nothing published, and the next refresh has nothing to read.
    const sync::RefreshResult again = refreshNow();
    QCOMPARE(again.outcome, sync::RefreshOutcome::UpToDate);
    QCOMPARE(again.accountsExamined, 0);
    QCOMPARE(again.headSeq, first.headSeq);
}

void TestSync::onlyChangedRowsArePublished()
{
    QCOMPARE(refreshNow().outcome, sync::RefreshOutcome::Published);
    const qint64 restaurant = meterOf(QStringLiteral("A-1F-104"));
    const qint64 basement = meterOf(QStringLiteral("B1-020"));
    const auto eventsAfter = [this](qint64 seq) {
        QSet<qint64> accounts;
        for (const sync::DirectoryEvent &e : eventsSince(seq).events)
            accounts.insert(e.accountId);
        return accounts;
    };

    // Readings of two meters: their two accounts, nobody else.
    qint64 head = snapshotNow().seq;
    poll(kT0, {{restaurant, 1'000'000}, {basement, 500'000}});
    sync::RefreshResult r = refreshNow();
    QCOMPARE(r.readingsFolded, 2);
    QCOMPARE(
        eventsAfter(head), (QSet<qint64>{accountOf(QStringLiteral("A-1F-104")), accountOf(QStringLiteral("B1-020"))}));
    sync::DirectoryRow row = rowOf(QStringLiteral("A-1F-104"));
    QCOMPARE(row.lastReadingMs.value_or(0), kT0);
    // A first reading opens the segment: the day is there, with nothing used yet.
    QCOMPARE(row.daily.size(), 1);
    QCOMPARE(row.daily.first(), (sync::DayUsage{QDate(2026, 11, 18), 0, 0}));

    // Consumption: usage equals the charge interval, the balance moved by its amount.
    const qint64 balanceBefore = row.balanceFen.value_or(0);
    head = snapshotNow().seq;
    poll(kT0 + 30 * kMinuteMs, {{restaurant, 1'010'000}});
    r = refreshNow();
    QCOMPARE(r.intervalsFolded, 1);
    QCOMPARE(eventsAfter(head), QSet<qint64>{accountOf(QStringLiteral("A-1F-104"))});
    row = rowOf(QStringLiteral("A-1F-104"));
    const qint64 charged = count(QStringLiteral("SELECT sum(amount_fen) FROM charge_intervals WHERE installation_id = "
                                                "(SELECT id FROM meter_installations WHERE meter_id = %1)")
                                     .arg(restaurant));
    QVERIFY(charged > 0);
    const sync::SlotEnergy slots = slotsOn(restaurant, 0, kT0 + kDayMs);
    QCOMPARE(slots[0] + slots[1] + slots[2] + slots[3], 10'000);
    QCOMPARE(row.daily.first(), (sync::DayUsage{QDate(2026, 11, 18), 10'000, charged, slots}));
    QCOMPARE(row.monthly.first(), (sync::MonthUsage{QDate(2026, 11, 1), 10'000, charged, slots}));
    QCOMPARE(row.balanceFen.value_or(0), balanceBefore - charged);

    // A credit: one event, that account's balance.
    const qint64 cafe = accountOf(QStringLiteral("A-1F-105"));
    head = snapshotNow().seq;
    QVERIFY(recharge(cafe, 5'000));
    QCOMPARE(refreshNow().rowsPublished, 1);
    QCOMPARE(eventsAfter(head), QSet<qint64>{cafe});

    // The status colours follow the controller's alarms: debit the café down to its thresholds.
    const qint64 balance = rowOf(QStringLiteral("A-1F-105")).balanceFen.value_or(0);
    QVERIFY(balance > 5'000);
    QVERIFY(debit(cafe, balance - 4'000)); // ≤ alarm 1 (50.00)
    refreshNow();
    QCOMPARE(rowOf(QStringLiteral("A-1F-105")).status, sync::AccountStatus::Alarm1);
    QVERIFY(debit(cafe, 2'500)); // 15.00 ≤ alarm 2 (20.00)
    refreshNow();
    QCOMPARE(rowOf(QStringLiteral("A-1F-105")).status, sync::AccountStatus::Alarm2);
    QVERIFY(debit(cafe, 1'500)); // 0.00: arrears
    refreshNow();
    QCOMPARE(rowOf(QStringLiteral("A-1F-105")).status, sync::AccountStatus::Arrears);
    QVERIFY(recharge(cafe, 10'000));
    refreshNow();
    QCOMPARE(rowOf(QStringLiteral("A-1F-105")).status, sync::AccountStatus::Normal);

    // A meter stops answering: offline once the batch's alarms say so, normal when it is back.
    poll(kT0 + kHourMs, {{basement, 500'100}}, {restaurant});
    refreshNow();
    QCOMPARE(rowOf(QStringLiteral("A-1F-104")).status, sync::AccountStatus::Offline);
    poll(kT0 + 2 * kHourMs, {{restaurant, 1'011'000}});
    refreshNow();
    QCOMPARE(rowOf(QStringLiteral("A-1F-104")).status, sync::AccountStatus::Normal);

    // Opening an unopened shop changes its colour; closing one removes it.
    const qint64 unopened = accountOf(QStringLiteral("A-4F-405"));
    head = snapshotNow().seq;
    const auto opened = m_store
                            ->write([this](Transaction &tx) {
                                accounts::OpenAccountRequest o;
                                o.shopNo = QStringLiteral("A-4F-405");
                                o.tariffCode = QStringLiteral("FLAT-COM");
                                return accounts::openAccount(tx, *m_biller, o, m_clock.wallMs());
                            })
                            .get();
    QVERIFY2(opened.committed() && opened.value.ok(), qPrintable(opened.value.message));
    refreshNow();
    QCOMPARE(eventsAfter(head), QSet<qint64>{unopened});
    QCOMPARE(rowOf(QStringLiteral("A-4F-405")).status, sync::AccountStatus::Arrears); // an empty wallet

    const qint64 closing = accountOf(QStringLiteral("B1-020"));
    head = snapshotNow().seq;
    const auto closed = m_store
                            ->write([this](Transaction &tx) {
                                accounts::CloseAccountRequest c;
                                c.shopNo = QStringLiteral("B1-020");
                                c.settlement = accounts::Settlement::RefundCash;
                                c.operatorId = kOperator;
                                c.reason = QStringLiteral("moved out");
                                return accounts::closeAccount(tx, *m_biller, c, m_clock.wallMs());
                            })
                            .get();
    QVERIFY2(closed.committed() && closed.value.ok(), qPrintable(closed.value.message));
    r = refreshNow();
    QCOMPARE(r.rowsRemoved, 1);
    const sync::DirectoryBatch removal = eventsSince(head);
    QCOMPARE(removal.events.size(), 1);
    QCOMPARE(removal.events.first().accountId, closing);
    QVERIFY(!removal.events.first().row);
    QVERIFY(count(QStringLiteral("SELECT count(*) FROM sync_directory WHERE account_id = %1").arg(closing)) == 0);

    QCOMPARE(refreshNow().outcome, sync::RefreshOutcome::UpToDate);
    const QString diff = firstDifference(snapshotNow().rows, expected());
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
}

void TestSync::usageIsByLocalDayWithGaps()
{
    refreshNow();
    const QString shop = QStringLiteral("A-1F-105");
    const qint64 meter = meterOf(shop);
    const qint64 nov18 = kT0 - 10 * kHourMs; // 2026-11-18 00:00 +08:00
    qint64 wh = 2'000'000;
    // Nov 18: 10:00 opens, 23:50 +500 Wh. Nov 19 00:10 (the same UTC day as 23:50): +300 Wh.
    poll(nov18 + 10 * kHourMs, {{meter, wh}});
    poll(nov18 + 23 * kHourMs + 50 * kMinuteMs, {{meter, wh += 500}});
    poll(nov18 + kDayMs + 10 * kMinuteMs, {{meter, wh += 300}});
    // Nov 20: no reading at all (a gap). Nov 21: two readings, nothing used. Nov 22: +1 kWh.
    poll(nov18 + 3 * kDayMs + 9 * kHourMs, {{meter, wh}});
    poll(nov18 + 3 * kDayMs + 15 * kHourMs, {{meter, wh}});
    poll(nov18 + 4 * kDayMs + 9 * kHourMs, {{meter, wh += 1'000}});
    // Dec 1: +2 kWh (another month).
    poll(nov18 + 13 * kDayMs + 9 * kHourMs, {{meter, wh += 2'000}});
    QCOMPARE(refreshNow().readingsFolded, 7);

    const auto amountOn = [this, meter](qint64 fromMs, qint64 toMs) {
        return count(
            QStringLiteral("SELECT coalesce(sum(ci.amount_fen), 0) FROM charge_intervals ci JOIN readings r ON "
                           "r.id = ci.to_reading_id WHERE r.meter_id = %1 AND r.taken_at_ms >= %2 AND "
                           "r.taken_at_ms < %3")
                .arg(meter)
                .arg(fromMs)
                .arg(toMs));
    };
    sync::DirectoryRow row = rowOf(shop);
    const auto slotsOnDay
        = [this, meter, nov18](int day) { return slotsOn(meter, nov18 + day * kDayMs, nov18 + (day + 1) * kDayMs); };
    const QList<sync::DayUsage> want{
        {QDate(2026, 11, 18), 500, amountOn(nov18, nov18 + kDayMs), slotsOnDay(0)},
        {QDate(2026, 11, 19), 300, amountOn(nov18 + kDayMs, nov18 + 2 * kDayMs), slotsOnDay(1)},
        {QDate(2026, 11, 21), 0, 0, {}},
        {QDate(2026, 11, 22), 1'000, amountOn(nov18 + 4 * kDayMs, nov18 + 5 * kDayMs), slotsOnDay(4)},
        {QDate(2026, 12, 1), 2'000, amountOn(nov18 + 13 * kDayMs, nov18 + 14 * kDayMs), slotsOnDay(13)},
    };
    for (const sync::DayUsage &d : want)
        QCOMPARE(d.slotWh[0] + d.slotWh[1] + d.slotWh[2] + d.slotWh[3], d.energyWh);
    QCOMPARE(row.daily, want);
    QVERIFY(want.at(0).amountFen > 0 && want.at(1).amountFen > 0);
    QCOMPARE(row.monthly,
        (QList<sync::MonthUsage>{{QDate(2026, 11, 1), 1'800, amountOn(nov18 - 17 * kDayMs, nov18 + 13 * kDayMs),
                                     slotsOn(meter, nov18 - 17 * kDayMs, nov18 + 13 * kDayMs)},
            {QDate(2026, 12, 1), 2'000, want.at(4).amountFen, want.at(4).slotWh}}));
    QCOMPARE(row.lastReadingMs.value_or(0), nov18 + 13 * kDayMs + 9 * kHourMs);

    // 40 days later, without readings: the days have left the 31-day window, the months stay;
    // the refresh saw the day change and re-derived the row.
    m_clock.advanceMs(40 * kDayMs);
    const sync::RefreshResult moved = refreshNow();
    QVERIFY(moved.windowMoved);
    QVERIFY(
        moved.accountsExamined >= int(count(QStringLiteral("SELECT count(*) FROM accounts WHERE status <> 'closed'"))));
    row = rowOf(shop);
    QVERIFY(row.daily.isEmpty());
    QCOMPARE(row.monthly.size(), 2);
    // A rebuild from the readings (as after a change of time zone) gives the same rows.
    const sync::DirectorySnapshot before = snapshotNow();
    QVERIFY(m_store->write([](Transaction &tx) { tx.db().exec(QStringLiteral("UPDATE sync_state SET built = 0")); })
                .get()
                .committed());
    const sync::RefreshResult rebuilt = refreshNow();
    QVERIFY(rebuilt.rebuilt);
    QCOMPARE(rebuilt.outcome, sync::RefreshOutcome::UpToDate);
    QCOMPARE(snapshotNow().rows, before.rows);
    const QString diff = firstDifference(snapshotNow().rows, expected());
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
}

// Issue 8: each point's relay, control mode and offline flag, and the tariff in force, follow
// the base tables, and a change of any of them publishes the row again (the dirty marks of
// sql/0010_kiosk_tenant.sql), and only that row.
void TestSync::pointsAndTariffArePublished()
{
    QCOMPARE(refreshNow().outcome, sync::RefreshOutcome::Published);
    const QString shop = QStringLiteral("A-1F-104");
    const qint64 account = accountOf(shop);
    const qint64 meter = meterOf(shop);
    const auto eventsAfter = [this](qint64 seq) {
        QSet<qint64> accounts;
        for (const sync::DirectoryEvent &e : eventsSince(seq).events)
            accounts.insert(e.accountId);
        return accounts;
    };

    // Before any reading: the point is there, its relay unknown; the TOU tariff of the seed.
    sync::DirectoryRow row = rowOf(shop);
    QCOMPARE(row.points, (QList<sync::PointState>{{shop, QStringLiteral("unknown"), QStringLiteral("auto"), false}}));
    QVERIFY(row.tariff);
    QCOMPARE(row.tariff->name, QStringLiteral("商业分时电价"));
    QCOMPARE(row.tariff->kind, QStringLiteral("tou"));
    QCOMPARE(row.tariff->prices, (std::array<qint64, 4>{12'100, 9'800, 6'500, 3'100}));
    QVERIFY(row.tariff->tierUpperWh.isEmpty() && row.tariff->tierAdders.isEmpty());

    // The relay as read back: closed, then open (only this account is published each time).
    qint64 head = snapshotNow().seq;
    poll(kT0, {{meter, 1'000'000}});
    refreshNow();
    QCOMPARE(rowOf(shop).points.first().relay, QStringLiteral("closed"));
    head = snapshotNow().seq;
    m_openRelays.insert(meter);
    poll(kT0 + 30 * kMinuteMs, {{meter, 1'000'000}});
    QCOMPARE(refreshNow().rowsPublished, 1);
    QCOMPARE(eventsAfter(head), QSet<qint64>{account});
    QCOMPARE(rowOf(shop).points.first().relay, QStringLiteral("open"));

    // 保电 set on the point by staff: published with the mode, nothing else touched.
    head = snapshotNow().seq;
    QVERIFY(m_store
                ->write([&](Transaction &tx) {
                    Statement st = tx.prepare(QStringLiteral(
                        "INSERT INTO control_settings (metering_point_id, control_mode, mode_reason, updated_at_ms) "
                        "SELECT id, 'force_on', 'test', 0 FROM metering_points WHERE code = ?1 "
                        "ON CONFLICT (metering_point_id) DO UPDATE SET control_mode = 'force_on', "
                        "mode_reason = 'test'"));
                    st.bind(1, shop);
                    if (const SqlError e = st.run(); !e.ok())
                        tx.fail(e);
                })
                .get()
                .committed());
    QCOMPARE(refreshNow().rowsPublished, 1);
    QCOMPARE(eventsAfter(head), QSet<qint64>{account});
    QCOMPARE(rowOf(shop).points.first().controlMode, QStringLiteral("force_on"));

    // The meter stops answering: the point says offline (and the status colour too).
    poll(kT0 + 2 * kHourMs, {{meterOf(QStringLiteral("B1-020")), 500'000}}, {meter});
    refreshNow();
    row = rowOf(shop);
    QVERIFY(row.points.first().offline);
    QCOMPARE(row.status, sync::AccountStatus::Offline);

    // A new tariff assigned from today: published with the tiered tariff and its tiers.
    head = snapshotNow().seq;
    const QString today = QDateTime::fromMSecsSinceEpoch(m_clock.wallMs(), m_tz).date().toString(Qt::ISODate);
    QVERIFY(m_store
                ->write([&](Transaction &tx) {
                    Statement st = tx.prepare(QStringLiteral(
                        "INSERT INTO tariff_assignments (tariff_id, account_id, effective_date, created_at_ms) "
                        "VALUES (3, ?1, ?2, 0)"));
                    st.bind(1, account).bind(2, today);
                    if (const SqlError e = st.run(); !e.ok())
                        tx.fail(e);
                })
                .get()
                .committed());
    QCOMPARE(refreshNow().rowsPublished, 1);
    QCOMPARE(eventsAfter(head), QSet<qint64>{account});
    row = rowOf(shop);
    QVERIFY(row.tariff);
    QCOMPARE(row.tariff->name, QStringLiteral("小商户阶梯电价"));
    QCOMPARE(row.tariff->kind, QStringLiteral("tiered"));
    QCOMPARE(row.tariff->tierUpperWh, (QList<qint64>{500'000, 2'000'000}));
    QCOMPARE(row.tariff->tierAdders, (QList<qint64>{0, 500, 3'000}));

    // A 一表一价 shop (basement, flat tariff on the point): the point's tariff.
    QCOMPARE(
        rowOf(QStringLiteral("B1-020")).tariff.value_or(sync::TariffSummary{}).name, QStringLiteral("商业单一电价"));

    QCOMPARE(refreshNow().outcome, sync::RefreshOutcome::UpToDate);
    const QString diff = firstDifference(snapshotNow().rows, expected());
    QVERIFY2(diff.isEmpty(), qPrintable(diff));
}

// ---- Protocol values and the replica --------------------------------------------------------------

void TestSync::rowsEncodeCanonically()
{
    sync::DirectoryRow row;
    row.accountId = 42;
    row.shopNo = QStringLiteral("A-1F-104");
    row.displayName = QStringLiteral("闽味\"小馆\"\\ \t\n\x01 end");
    row.status = sync::AccountStatus::Alarm2;
    row.balanceFen = -320;
    row.daily = {{QDate(2026, 11, 17), 12'000, 1'452, {0, 4'000, 6'000, 2'000}}, {QDate(2026, 11, 18), 0, 0, {}}};
    row.monthly = {{QDate(2026, 11, 1), 12'000, 1'452, {0, 4'000, 6'000, 2'000}}};
    row.points = {{QStringLiteral("A-1F-104"), QStringLiteral("closed"), QStringLiteral("auto"), false},
        {QStringLiteral("A-1F-104b"), QStringLiteral("unknown"), QStringLiteral("force_on"), true}};
    row.tariff = sync::TariffSummary{
        QStringLiteral("阶梯"), QStringLiteral("tiered"), {7'000, 7'000, 7'000, 7'000}, {500'000}, {0, 500}};
    const QByteArray json = sync::encodeRow(row);
    QJsonParseError parse;
    QVERIFY(QJsonDocument::fromJson(json, &parse).isObject());
    QCOMPARE(parse.error, QJsonParseError::NoError);
    QVERIFY(json.startsWith("{\"account_id\":42,\"shop_no\":\"A-1F-104\","));
    QVERIFY(json.contains("\"last_reading_ms\":null"));
    QVERIFY(json.contains("\"daily\":[[\"2026-11-17\",12000,1452],[\"2026-11-18\",0,0]]"));
    QVERIFY(json.contains("\"monthly\":[[\"2026-11\",12000,1452]],"
                          "\"daily_slot_wh\":[[0,4000,6000,2000],[0,0,0,0]],\"monthly_slot_wh\":[[0,4000,6000,2000]],"
                          "\"points\":[{\"point_code\":\"A-1F-104\",\"relay\":\"closed\",\"control_mode\":\"auto\","
                          "\"offline\":false},{\"point_code\":\"A-1F-104b\",\"relay\":\"unknown\","
                          "\"control_mode\":\"force_on\",\"offline\":true}],"));
    QVERIFY(json.endsWith(",\"tariff\":{\"name\":\"阶梯\",\"kind\":\"tiered\",\"prices\":[7000,7000,7000,7000],"
                          "\"tier_upper_wh\":[500000],\"tier_adders\":[0,500]}}"));
    sync::DirectoryEvent back;
    QString error;
    QVERIFY2(sync::decodePayload(json, &back, &error), qPrintable(error));
    QVERIFY(back.row);
    QCOMPARE(*back.row, row);
    // Through the wire forms as well.
    sync::DirectorySnapshot snap{QStringLiteral("feed"), 9, {row}};
    const auto snapBack = sync::snapshotFromJson(sync::snapshotToJson(snap), &error);
    QVERIFY2(snapBack, qPrintable(error));
    QCOMPARE(snapBack->rows, snap.rows);
    sync::DirectoryBatch batch{QStringLiteral("feed"), 9, 12, false, false, {{10, 42, row}, {12, 7, std::nullopt}}};
    const auto batchBack = sync::batchFromJson(sync::batchToJson(batch), &error);
    QVERIFY2(batchBack, qPrintable(error));
    QCOMPARE(batchBack->events, batch.events);
    QCOMPARE(sync::encodeRemoval(7), QByteArray("{\"account_id\":7,\"removed\":true}"));
    // Refused: wrong types and out-of-order usage, each naming the key.
    QJsonObject bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("balance_fen"), QStringLiteral("12"));
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("balance_fen")), qPrintable(error));
    bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("daily"), QJsonDocument::fromJson("[[\"2026-11-18\",1,1],[\"2026-11-17\",1,1]]").array());
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("daily[1]")), qPrintable(error));
    bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("status"), QStringLiteral("purple"));
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("status")), qPrintable(error));
    // The issue-8 keys, mistyped or of the wrong length.
    bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("daily_slot_wh"), QJsonDocument::fromJson("[[0,1,2,3]]").array());
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("daily_slot_wh")), qPrintable(error));
    bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("monthly_slot_wh"), QJsonDocument::fromJson("[[0,1,-2,3]]").array());
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("monthly_slot_wh[0]")), qPrintable(error));
    bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("points"), QJsonDocument::fromJson("[{\"point_code\":\"A\",\"relay\":1}]").array());
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("points[0]")), qPrintable(error));
    bad = QJsonDocument::fromJson(json).object();
    bad.insert(QStringLiteral("tariff"), QStringLiteral("flat"));
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("tariff")), qPrintable(error));
    bad = QJsonDocument::fromJson(json).object();
    QJsonObject tariff = bad.value(QStringLiteral("tariff")).toObject();
    tariff.insert(QStringLiteral("tier_upper_wh"), QJsonDocument::fromJson("[0]").array());
    bad.insert(QStringLiteral("tariff"), tariff);
    QVERIFY(!sync::decodePayload(bad, &back, &error));
    QVERIFY2(error.startsWith(QStringLiteral("tariff.tier_upper_wh")), qPrintable(error));
}

// A row from a server before issue 8 (no slot split, points or tariff) decodes, with zero slots,
// no points and no tariff.
void TestSync::rowsWithoutTheNewKeysDecode()
{
    const QByteArray old = "{\"account_id\":42,\"shop_no\":\"A-1F-104\",\"display_name\":\"闽味小馆\","
                           "\"status\":\"normal\",\"balance_fen\":12345,\"last_reading_ms\":null,"
                           "\"daily\":[[\"2026-11-17\",12000,1452]],\"monthly\":[[\"2026-11\",12000,1452]]}";
    sync::DirectoryEvent e;
    QString error;
    QVERIFY2(sync::decodePayload(old, &e, &error), qPrintable(error));
    QVERIFY(e.row);
    QCOMPARE(e.row->daily, (QList<sync::DayUsage>{{QDate(2026, 11, 17), 12'000, 1'452, {}}}));
    QCOMPARE(e.row->monthly, (QList<sync::MonthUsage>{{QDate(2026, 11, 1), 12'000, 1'452, {}}}));
    QVERIFY(e.row->points.isEmpty());
    QVERIFY(!e.row->tariff);
    // Re-encoded, it carries the new keys (empty), and decodes to the same row.
    const QByteArray again = sync::encodeRow(*e.row);
    QVERIFY(again.endsWith(
        ",\"daily_slot_wh\":[[0,0,0,0]],\"monthly_slot_wh\":[[0,0,0,0]],\"points\":[],\"tariff\":null}"));
    sync::DirectoryEvent back;
    QVERIFY2(sync::decodePayload(again, &back, &error), qPrintable(error));
    QCOMPARE(back.row, e.row);
}

void TestSync::replicaFollowsTheProtocol()
{
    const auto row = [](qint64 id, const char *shop, qint64 balance) {
        sync::DirectoryRow r;
        r.accountId = id;
        r.shopNo = QLatin1StringView(shop);
        r.displayName = QStringLiteral("shop %1").arg(id);
        r.balanceFen = balance;
        return r;
    };
    const QString feed = QStringLiteral("f1");
    sync::Replica replica;
    sync::DirectoryBatch b1{feed, 10, 20, false, false, {{12, 1, row(1, "S1", 100)}, {15, 2, row(2, "S2", 200)}}};
    QCOMPARE(replica.applyBatch(b1), sync::ApplyOutcome::ResyncNeeded); // no snapshot yet
    replica.applySnapshot({feed, 10, {row(1, "S1", 50), row(3, "S3", 300)}});
    QCOMPARE(replica.lastSeq(), 10);
    QCOMPARE(replica.applyBatch(b1), sync::ApplyOutcome::Applied);
    QCOMPARE(replica.lastSeq(), 20);
    QCOMPARE(replica.rows().size(), 3);
    QCOMPARE(replica.findShop(QStringLiteral("S1"))->balanceFen.value_or(0), 100);
    // The same batch again, or an older one: nothing applied.
    QCOMPARE(replica.applyBatch(b1), sync::ApplyOutcome::Duplicate);
    // A later batch whose predecessor was lost: a gap, nothing applied.
    sync::DirectoryBatch b3{feed, 25, 30, false, false, {{27, 1, row(1, "S1", 1)}}};
    QCOMPARE(replica.applyBatch(b3), sync::ApplyOutcome::Gap);
    QCOMPARE(replica.findShop(QStringLiteral("S1"))->balanceFen.value_or(0), 100);
    // An overlapping batch (a resubscription from an older cursor): only what is past lastSeq.
    sync::DirectoryBatch overlap{
        feed, 10, 25, false, false, {{12, 1, row(1, "S1", 999)}, {21, 3, std::nullopt}, {24, 2, row(2, "S2b", 222)}}};
    QCOMPARE(replica.applyBatch(overlap), sync::ApplyOutcome::Applied);
    QCOMPARE(replica.findShop(QStringLiteral("S1"))->balanceFen.value_or(0), 100); // seq 12 not applied again
    QVERIFY(!replica.rows().contains(3));
    QVERIFY(!replica.findShop(QStringLiteral("S2")));
    QCOMPARE(replica.findShop(QStringLiteral("S2b"))->balanceFen.value_or(0), 222);
    QCOMPARE(replica.applyBatch(b3), sync::ApplyOutcome::Applied); // now it continues
    QCOMPARE(replica.lastSeq(), 30);
    // Malformed batches are refused whole.
    sync::DirectoryBatch unordered{feed, 30, 40, false, false, {{35, 1, row(1, "S1", 5)}, {33, 2, row(2, "S2b", 6)}}};
    QString error;
    QCOMPARE(replica.applyBatch(unordered, &error), sync::ApplyOutcome::Invalid);
    QCOMPARE(replica.findShop(QStringLiteral("S1"))->balanceFen.value_or(0), 1);
    sync::DirectoryBatch outside{feed, 30, 40, false, false, {{41, 1, row(1, "S1", 5)}}};
    QCOMPARE(replica.applyBatch(outside, &error), sync::ApplyOutcome::Invalid);
    // The server asks for a resync, or answers from another database.
    QCOMPARE(replica.applyBatch({feed, 30, 30, false, true, {}}), sync::ApplyOutcome::ResyncNeeded);
    QCOMPARE(replica.applyBatch({QStringLiteral("f2"), 30, 31, false, false, {}}), sync::ApplyOutcome::ResyncNeeded);
    QCOMPARE(replica.lastSeq(), 30);

    // Kept across a restart; a damaged file changes nothing.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("directory.json"));
    QVERIFY2(replica.save(path, &error), qPrintable(error));
    sync::Replica restarted;
    QVERIFY2(restarted.load(path, &error), qPrintable(error));
    QCOMPARE(restarted.lastSeq(), 30);
    QCOMPARE(restarted.feedId(), feed);
    QCOMPARE(restarted.rows(), replica.rows());
    QCOMPARE(restarted.findShop(QStringLiteral("S2b"))->accountId, 2);
    QFile damaged(path);
    QVERIFY(damaged.open(QIODevice::WriteOnly | QIODevice::Truncate));
    damaged.write(
        "{\"format\":\"prepay.directory-replica/1\",\"feed_id\":\"f1\",\"seq\":3,\"rows\":[{\"account_id\":1}]}");
    damaged.close();
    QVERIFY(!restarted.load(path, &error));
    QVERIFY2(error.contains(QStringLiteral("rows[0]")), qPrintable(error));
    QCOMPARE(restarted.lastSeq(), 30);
    QCOMPARE(restarted.rows().size(), 2);
}

void TestSync::eventsSinceAndPruning()
{
    const sync::RefreshResult first = refreshNow();
    const qint64 live = first.rowsPublished;
    const sync::DirectorySnapshot snap = snapshotNow();
    const qint64 firstSeq = count(QStringLiteral("SELECT min(seq) FROM event_feed WHERE topic = 'directory.account'"));
    // Another topic's event in between is not the directory's.
    QVERIFY(m_store
                ->write([](Transaction &tx) {
                    tx.db().exec(QStringLiteral(
                        "INSERT INTO event_feed (topic, payload, at_ms) VALUES ('meter.status', '{}', 0)"));
                })
                .get()
                .committed());
    // From the start, in pages: complete, ordered, `more` until the head.
    qint64 cursor = firstSeq - 1;
    int seen = 0, pages = 0;
    for (;;) {
        const sync::DirectoryBatch b = eventsSince(cursor, 100);
        QVERIFY(!b.resyncNeeded);
        QCOMPARE(b.fromSeq, cursor);
        QCOMPARE(b.feedId, snap.feedId);
        seen += int(b.events.size());
        ++pages;
        cursor = b.toSeq;
        if (!b.more)
            break;
    }
    QCOMPARE(seen, int(live));
    QCOMPARE(pages, int((live + 99) / 100));
    QCOMPARE(cursor, snap.seq);
    // At the head: an empty batch that keeps the cursor.
    sync::DirectoryBatch atHead = eventsSince(snap.seq);
    QVERIFY(atHead.events.isEmpty() && !atHead.more && !atHead.resyncNeeded);
    QCOMPARE(atHead.toSeq, snap.seq);
    // A cursor ahead of the head (another database, a restore): resync.
    QVERIFY(eventsSince(snap.seq + 1000).resyncNeeded);

    // Pruned: a cursor older than what was pruned must take a snapshot; newer ones continue.
    const auto pruned = m_store->write([&](Transaction &tx) { return sync::prune(tx, firstSeq + 50); }).get();
    QVERIFY(pruned.committed() && pruned.value.ok);
    QCOMPARE(pruned.value.deleted, 50);
    QCOMPARE(pruned.value.prunedThroughSeq, firstSeq + 49);
    QVERIFY(eventsSince(firstSeq - 1).resyncNeeded);
    QVERIFY(eventsSince(firstSeq + 48).resyncNeeded);
    const sync::DirectoryBatch after = eventsSince(firstSeq + 49);
    QVERIFY(!after.resyncNeeded);
    QCOMPARE(after.events.first().seq, firstSeq + 50);
    // The other topic is untouched.
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM event_feed WHERE topic = 'meter.status'")), 1);
    // Retention by count: keep the 10 newest.
    const auto kept = m_store
                          ->write([this](Transaction &tx) {
                              return sync::pruneByRetention(tx, m_clock.wallMs(), sync::Retention{kDayMs, 10});
                          })
                          .get();
    QVERIFY(kept.committed() && kept.value.ok);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM event_feed WHERE topic = 'directory.account'")), 10);
    QVERIFY(eventsSince(snap.seq - 10).resyncNeeded == false);
    QVERIFY(eventsSince(snap.seq - 11).resyncNeeded);
    // By age: everything older than an hour goes; a replica at the head is still fine.
    m_clock.advanceMs(2 * kHourMs);
    QVERIFY(m_store
                ->write([this](Transaction &tx) {
                    return sync::pruneByRetention(tx, m_clock.wallMs(), sync::Retention{kHourMs, 1000}).ok;
                })
                .get()
                .value);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM event_feed WHERE topic = 'directory.account'")), 0);
    QVERIFY(!eventsSince(snap.seq).resyncNeeded);
    // The snapshot does not depend on the events.
    QCOMPARE(snapshotNow().rows, snap.rows);
}

// ---- The model run ----------------------------------------------------------------------------------

void TestSync::replicaFollowsThroughALossyChannel()
{
    const quint32 seed = test::testSeed();
    QRandomGenerator random(seed);
    const auto chance = [&random](int percent) { return int(random.bounded(100)) < percent; };
    // One id of the query's rows, chosen by the seeded generator (never by SQL, whose random
    // function no seed replays); 0 when there is none.
    const auto pick = [this, &random](const QString &sql) -> qint64 {
        QList<qint64> ids;
        Statement s = m_reader->prepare(sql);
        while (s.step() == Statement::Step::Row)
            ids.append(s.int64(0));
        return ids.isEmpty() ? 0 : ids.at(random.bounded(int(ids.size())));
    };
    const int steps = qEnvironmentVariableIntValue("PREPAY_SYNC_MODEL_STEPS") > 0
        ? qEnvironmentVariableIntValue("PREPAY_SYNC_MODEL_STEPS")
        : 400;

    // Meters and their registers (Wh).
    QList<qint64> meters;
    QHash<qint64, qint64> registers;
    for (const BusPlan &bus : m_plan.buses) {
        for (const MeterTarget &t : bus.meters) {
            meters.append(t.meterId);
            registers.insert(t.meterId, 10 * qint64(10'000 + random.bounded(90'000)));
        }
    }
    QVERIFY(meters.size() >= 100);
    QVERIFY(refreshNow().outcome == sync::RefreshOutcome::Published);

    // The link: a server-side subscription cursor and the messages in flight to the kiosk.
    struct Message
    {
        bool isSnapshot = false;
        QByteArray json;
    };
    QList<Message> inFlight;
    bool connected = false;
    qint64 serverCursor = 0;
    sync::Replica replica;
    const QString replicaPath = m_dir->filePath(QStringLiteral("kiosk-directory.json"));
    struct Stats
    {
        int batches = 0, dropped = 0, duplicated = 0, reordered = 0, applied = 0, duplicates = 0, gaps = 0, resyncs = 0,
            snapshots = 0, disconnects = 0, restarts = 0, prunes = 0, checkpoints = 0, events = 0;
    } stats;
    QString failure;

    const auto send = [&](Message m, bool lossy) {
        if (lossy && chance(10)) {
            ++stats.dropped;
            return;
        }
        if (lossy && chance(15) && !inFlight.isEmpty()) {
            ++stats.reordered;
            inFlight.insert(qsizetype(random.bounded(int(inFlight.size()) + 1)), m);
        } else {
            inFlight.append(m);
        }
        if (lossy && chance(8)) {
            ++stats.duplicated;
            inFlight.insert(qsizetype(random.bounded(int(inFlight.size()) + 1)), m);
        }
    };
    // The server pushes everything past the subscription's cursor, in batches of random size.
    const auto push = [&](bool lossy) {
        if (!connected)
            return;
        for (int guard = 0; guard < 10'000; ++guard) {
            const sync::DirectoryBatch b = eventsSince(serverCursor, 1 + int(random.bounded(60)));
            if (b.events.isEmpty() && !b.resyncNeeded)
                return;
            ++stats.batches;
            stats.events += int(b.events.size());
            send({false, QJsonDocument(sync::batchToJson(b)).toJson(QJsonDocument::Compact)}, lossy);
            if (b.resyncNeeded || !b.more) {
                serverCursor = b.toSeq;
                return;
            }
            serverCursor = b.toSeq;
        }
    };
    const auto serveSnapshot = [&](bool lossy) {
        const sync::DirectorySnapshot s = snapshotNow();
        ++stats.snapshots;
        send({true, QJsonDocument(sync::snapshotToJson(s)).toJson(QJsonDocument::Compact)}, lossy);
        serverCursor = s.seq; // the subscription continues after the snapshot
        push(lossy);
    };
    const auto subscribe = [&](bool lossy) {
        if (!replica.hasSnapshot()) {
            serveSnapshot(lossy);
            return;
        }
        serverCursor = replica.lastSeq();
        push(lossy);
    };
    // The kiosk handles one message.
    const auto receive = [&](const Message &m, bool lossy) {
        QString error;
        const QJsonObject json = QJsonDocument::fromJson(m.json).object();
        if (m.isSnapshot) {
            const auto s = sync::snapshotFromJson(json, &error);
            if (!s) {
                failure = QStringLiteral("snapshot refused: ") + error;
                return;
            }
            replica.applySnapshot(*s);
            return;
        }
        const auto b = sync::batchFromJson(json, &error);
        if (!b) {
            failure = QStringLiteral("batch refused: ") + error;
            return;
        }
        switch (replica.applyBatch(*b, &error)) {
        case sync::ApplyOutcome::Applied: ++stats.applied; break;
        case sync::ApplyOutcome::Duplicate: ++stats.duplicates; break;
        case sync::ApplyOutcome::Gap:
            ++stats.gaps;
            subscribe(lossy);
            break;
        case sync::ApplyOutcome::ResyncNeeded:
            ++stats.resyncs;
            serveSnapshot(lossy);
            break;
        case sync::ApplyOutcome::Invalid: failure = QStringLiteral("invalid batch: ") + error; break;
        }
    };
    const auto deliver = [&](int n, bool lossy) {
        for (int i = 0; i < n && !inFlight.isEmpty() && failure.isEmpty(); ++i) {
            const qsizetype at = lossy && chance(20) ? qsizetype(random.bounded(int(inFlight.size()))) : 0;
            const Message m = inFlight.takeAt(at);
            receive(m, lossy);
        }
    };
    // The link quiets down: what is in flight arrives, then the kiosk asks until it is current.
    const auto checkpoint = [&](const char *where) {
        ++stats.checkpoints;
        connected = true;
        deliver(100'000, false);
        for (int round = 0; round < 1'000 && failure.isEmpty(); ++round) {
            subscribe(false);
            if (inFlight.isEmpty())
                break;
            deliver(100'000, false);
        }
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        const sync::DirectorySnapshot fresh = snapshotNow();
        QVERIFY2(replica.feedId() == fresh.feedId, where);
        QVERIFY2(replica.lastSeq() == fresh.seq,
            qPrintable(QStringLiteral("%1: replica at %2, feed at %3")
                           .arg(QLatin1StringView(where))
                           .arg(replica.lastSeq())
                           .arg(fresh.seq)));
        QString diff = firstDifference(replica.toSnapshot().rows, fresh.rows);
        QVERIFY2(diff.isEmpty(),
            qPrintable(QStringLiteral("%1 (replica vs snapshot): %2").arg(QLatin1StringView(where), diff)));
        diff = firstDifference(fresh.rows, expected());
        QVERIFY2(diff.isEmpty(),
            qPrintable(QStringLiteral("%1 (snapshot vs recomputed): %2").arg(QLatin1StringView(where), diff)));
    };

    connected = true;
    subscribe(true);
    for (int step = 0; step < steps; ++step) {
        // Time passes: minutes mostly, sometimes days (gaps in usage, the windows move).
        const qint64 elapsed
            = chance(4) ? qint64(1 + random.bounded(3)) * kDayMs : qint64(5 + random.bounded(120)) * kMinuteMs;
        m_clock.advanceMs(elapsed);
        const int op = int(random.bounded(100));
        if (op < 40) {
            // A readings batch through the pipeline: some meters use energy, some do not, some fail.
            QList<std::pair<qint64, qint64>> batch;
            QList<qint64> failed;
            const int n = 1 + int(random.bounded(25));
            QSet<qint64> picked;
            for (int i = 0; i < n; ++i) {
                const qint64 meter = meters.at(random.bounded(int(meters.size())));
                if (picked.contains(meter))
                    continue;
                picked.insert(meter);
                if (chance(6)) {
                    failed.append(meter);
                    continue;
                }
                if (!chance(25))
                    registers[meter] += 10 * qint64(1 + random.bounded(150));
                batch.append({meter, registers.value(meter)});
            }
            if (!batch.isEmpty())
                poll(m_clock.wallMs(), batch, failed);
        } else if (op < 60) {
            const qint64 account = pick(QStringLiteral("SELECT id FROM accounts WHERE status = 'open' ORDER BY id"));
            recharge(account, 100 * qint64(1 + random.bounded(300)));
        } else if (op < 75) {
            const qint64 account
                = pick(QStringLiteral("SELECT a.id FROM accounts a JOIN ledger_accounts w ON "
                                      "w.account_id = a.id WHERE a.status = 'open' AND w.balance_fen > 0 "
                                      "ORDER BY a.id"));
            if (account > 0) {
                const qint64 balance = count(
                    QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE account_id = %1").arg(account));
                debit(account, 1 + qint64(random.bounded(quint32(std::min<qint64>(balance, 1'000'000)))));
            }
        } else if (op < 79) {
            // Close an open shop whose balance is not negative (refunded in cash).
            const qint64 account = pick(QStringLiteral(
                "SELECT a.id FROM accounts a JOIN ledger_accounts w ON w.account_id = a.id WHERE a.status = 'open' "
                "AND w.balance_fen >= 0 ORDER BY a.id"));
            m_store
                ->write([&](Transaction &tx) {
                    Statement s = tx.prepare(QStringLiteral("SELECT shop_no FROM accounts WHERE id = ?1"));
                    s.bind(1, account);
                    if (s.step() != Statement::Step::Row)
                        return;
                    accounts::CloseAccountRequest c;
                    c.shopNo = s.text(0);
                    c.settlement = accounts::Settlement::RefundCash;
                    c.operatorId = kOperator;
                    c.reason = QStringLiteral("model: moved out");
                    accounts::closeAccount(tx, *m_biller, c, m_clock.wallMs());
                })
                .get();
        } else if (op < 82) {
            const qint64 account
                = pick(QStringLiteral("SELECT id FROM accounts WHERE status = 'not_opened' ORDER BY id"));
            m_store
                ->write([&](Transaction &tx) {
                    Statement s = tx.prepare(QStringLiteral("SELECT shop_no FROM accounts WHERE id = ?1"));
                    s.bind(1, account);
                    if (s.step() != Statement::Step::Row)
                        return;
                    accounts::OpenAccountRequest o;
                    o.shopNo = s.text(0);
                    o.tariffCode = QStringLiteral("FLAT-COM");
                    accounts::openAccount(tx, *m_biller, o, m_clock.wallMs());
                })
                .get();
        } else if (op < 88) {
            // Pruning close to the head: a kiosk that lags (disconnected, batches lost) must resync.
            ++stats.prunes;
            const qint64 head = snapshotNow().seq;
            m_store->write([&](Transaction &tx) { sync::prune(tx, head - qint64(random.bounded(40))); }).get();
        }
        // prepayd refreshes every few seconds: usually after a change, sometimes a few changes at once.
        if (chance(75)) {
            const sync::RefreshResult r = refreshNow();
            QVERIFY2(r.outcome != sync::RefreshOutcome::StoreFailed, qPrintable(r.error));
            push(true);
        }

        // Halfway, whatever the seed: the kiosk is away while the feed changes and is pruned to
        // its head, so coming back it must be told to resync and take a snapshot.
        if (step == steps / 2) {
            const int resyncsBefore = stats.resyncs;
            connected = false;
            inFlight.clear();
            QVERIFY(recharge(count(QStringLiteral("SELECT min(id) FROM accounts WHERE status = 'open'")), 100));
            QVERIFY(refreshNow().rowsPublished > 0);
            const qint64 head = snapshotNow().seq;
            QVERIFY(m_store->write([&](Transaction &tx) { return sync::prune(tx, head + 1).ok; }).get().value);
            connected = true;
            subscribe(false);
            while (!inFlight.isEmpty() && stats.resyncs == resyncsBefore)
                deliver(1, false);
            QVERIFY2(stats.resyncs > resyncsBefore || !replica.hasSnapshot(), "a pruned cursor was not told to resync");
        }

        // The network.
        if (connected && chance(4)) {
            ++stats.disconnects;
            connected = false;
            inFlight.clear();
        } else if (!connected && chance(50)) {
            connected = true;
            subscribe(true);
        }
        if (chance(2)) {
            // The kiosk restarts from its file; what was in flight to the old process is lost.
            ++stats.restarts;
            QString error;
            if (replica.hasSnapshot())
                QVERIFY2(replica.save(replicaPath, &error), qPrintable(error));
            replica = sync::Replica{};
            if (QFile::exists(replicaPath))
                QVERIFY2(replica.load(replicaPath, &error), qPrintable(error));
            inFlight.clear();
            if (connected)
                subscribe(true);
        }
        if (connected)
            deliver(int(random.bounded(6)), true);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));

        if (chance(4) || step == steps - 1) {
            refreshNow();
            checkpoint(step == steps - 1 ? "end" : "checkpoint");
            if (QTest::currentTestFailed())
                return;
        }
    }
    qInfo("model: %d steps, %d batches (%d events): %d dropped, %d duplicated, %d reordered; replica: %d applied, %d "
          "duplicates, %d gaps, %d resyncs; %d snapshots, %d disconnects, %d restarts, %d prunes, %d checkpoints",
        steps, stats.batches, stats.events, stats.dropped, stats.duplicated, stats.reordered, stats.applied,
        stats.duplicates, stats.gaps, stats.resyncs, stats.snapshots, stats.disconnects, stats.restarts, stats.prunes,
        stats.checkpoints);
    // The faults happened (else the run proved little).
    QVERIFY(stats.dropped > 0 && stats.duplicated > 0 && stats.gaps > 0 && stats.duplicates > 0 && stats.resyncs > 0);
    QVERIFY(stats.checkpoints >= 2);
}

// ---- Cost --------------------------------------------------------------------------------------------

void TestSync::refreshCostOnTenThousandAccounts()
{
    // A fresh database of its own: 10,000 open accounts, one metering point and meter each.
    cleanup();
    constexpr int kAccounts = 10'000;
    m_dir = std::make_unique<QTemporaryDir>();
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("big.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    m_reader = m_store->openReader();
    const qint64 site = kT0 - 30 * kDayMs;
    const auto job = [this](const QString &script, qint64 a, qint64 b) {
        return m_store
            ->write([&](Transaction &tx) {
                Statement p
                    = tx.prepare(QStringLiteral("CREATE TEMP TABLE IF NOT EXISTS p (n INTEGER, a INTEGER, b INTEGER)"));
                if (const SqlError e = p.run(); !e.ok())
                    return tx.fail(e);
                tx.db().exec(QStringLiteral("DELETE FROM temp.p"));
                Statement v = tx.prepare(QStringLiteral("INSERT INTO temp.p VALUES (?1, ?2, ?3)"));
                v.bind(1, kAccounts).bind(2, a).bind(3, b);
                if (const SqlError e = v.run(); !e.ok())
                    return tx.fail(e);
                if (const SqlError e = tx.db().exec(script); !e.ok())
                    return tx.fail(e);
            })
            .get()
            .committed();
    };
    QVERIFY(
        job(QStringLiteral(
                "INSERT INTO buildings (id, code, name, created_at_ms) SELECT 1, 'S', 'sync bench', a FROM temp.p;"
                "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 7) "
                "INSERT INTO gateways (id, building_id, name, host, port, created_at_ms) "
                "SELECT i, 1, 'GW' || i, '127.0.0.1', 1500 + i, (SELECT a FROM temp.p) FROM g;"
                "WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b WHERE i < 50) "
                "INSERT INTO buses (id, name, kind, gateway_id, port_index, created_at_ms) "
                "SELECT i, 'BUS' || i, 'gateway_port', (i - 1) / 8 + 1, (i - 1) % 8 + 1, (SELECT a FROM temp.p) FROM b;"
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < (SELECT n FROM temp.p)) "
                "INSERT INTO metering_points (id, code, building_id, floor, created_at_ms) "
                "SELECT i, printf('P%05d', i), 1, (i - 1) % 40 + 1, (SELECT a FROM temp.p) FROM n;"
                "INSERT INTO meters (id, serial_number, model, device_type, capability, rated_current_ma, "
                "  max_current_ma, state, bus_id, unit_id, created_at_ms) "
                "SELECT id, 30000000 + id, 'DDSY1352-NK', 'single_phase', 'prepaid', 10000, 60000, 'installed', "
                "  (id - 1) / 200 + 1, (id - 1) % 200 + 1, created_at_ms FROM metering_points;"
                "INSERT INTO meter_installations (id, metering_point_id, meter_id, installed_at_ms) "
                "SELECT id, id, id, created_at_ms FROM metering_points;"
                "INSERT INTO accounts (id, shop_no, display_name, status, opened_at_ms, created_at_ms) "
                "SELECT id, code, '商铺 ' || code, 'open', created_at_ms, created_at_ms FROM metering_points;"
                "INSERT INTO account_metering_points (account_id, metering_point_id, linked_at_ms) "
                "SELECT id, id, created_at_ms FROM accounts;"
                "INSERT INTO ledger_accounts (code, kind, account_id, name, balance_fen, created_at_ms, updated_at_ms) "
                "SELECT 'wallet:' || id, 'wallet', id, '钱包', 0, created_at_ms, created_at_ms FROM accounts;"
                "INSERT INTO tariffs (id, code, name, created_at_ms) SELECT 1, 'FLAT', 'flat', a FROM temp.p;"
                "INSERT INTO tariff_versions (id, tariff_id, version, effective_date, kind, price_sharp, price_peak, "
                "  price_flat, price_valley, created_at_ms) "
                "SELECT 1, 1, 1, '2025-01-01', 'flat', 10000, 10000, 10000, 10000, a FROM temp.p;"),
            site, 0));
    // A poll batch as the pipeline leaves it: one reading per meter; from the second batch on, one
    // charge interval, one ledger charge (two postings) and the wallet's cached balance each.
    const QString readingsSql = QStringLiteral("INSERT INTO readings (installation_id, meter_id, metering_point_id, "
                                               "taken_at_ms, source, energy_total_wh, validation) "
                                               "SELECT id, id, id, (SELECT b FROM temp.p), 'poll', 1000000 + id * (1 + "
                                               "(SELECT b FROM temp.p) / 1000 % 7), 'valid' "
                                               "FROM metering_points;");
    const QString chargesSql = QStringLiteral(
        "INSERT INTO charge_intervals (metering_point_id, installation_id, from_reading_id, to_reading_id, "
        "  tariff_version_id, energy_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, "
        "  slots_estimated, amount_fen, sub_fen_remainder_after, created_at_ms, account_id) "
        "SELECT nw.metering_point_id, nw.installation_id, od.id, nw.id, 1, nw.energy_total_wh - od.energy_total_wh, 0, "
        "0, "
        "  nw.energy_total_wh - od.energy_total_wh, 0, 0, (nw.energy_total_wh - od.energy_total_wh) / 10, 0, "
        "nw.taken_at_ms, "
        "  nw.metering_point_id "
        "FROM readings nw JOIN readings od ON od.metering_point_id = nw.metering_point_id AND od.taken_at_ms = (SELECT "
        "a FROM temp.p) "
        "WHERE nw.taken_at_ms = (SELECT b FROM temp.p) AND nw.energy_total_wh > od.energy_total_wh;"
        "INSERT INTO ledger_entries (kind, idempotency_key, request_hash, charge_interval_id, created_at_ms) "
        "SELECT 'charge', 'charge:interval:' || id, zeroblob(32), id, created_at_ms FROM charge_intervals "
        "WHERE created_at_ms = (SELECT b FROM temp.p) AND amount_fen > 0;"
        "INSERT INTO ledger_postings (entry_id, ledger_account_id, amount_fen) "
        "SELECT e.id, w.id, -ci.amount_fen FROM ledger_entries e JOIN charge_intervals ci ON ci.id = "
        "e.charge_interval_id "
        "JOIN ledger_accounts w ON w.account_id = ci.account_id WHERE e.created_at_ms = (SELECT b FROM temp.p);"
        "INSERT INTO ledger_postings (entry_id, ledger_account_id, amount_fen) "
        "SELECT e.id, 5, ci.amount_fen FROM ledger_entries e JOIN charge_intervals ci ON ci.id = e.charge_interval_id "
        "WHERE e.created_at_ms = (SELECT b FROM temp.p);"
        "UPDATE ledger_accounts SET balance_fen = balance_fen - coalesce((SELECT ci.amount_fen FROM charge_intervals "
        "ci "
        "  WHERE ci.metering_point_id = ledger_accounts.account_id AND ci.created_at_ms = (SELECT b FROM temp.p)), 0) "
        "WHERE kind = 'wallet';");

    const auto timedRefresh = [this](const char *what) {
        QElapsedTimer timer;
        timer.start();
        const sync::RefreshResult r = refreshNow();
        const qint64 ms = timer.elapsed();
        qInfo("%s: %lld ms (%d readings, %d intervals folded; %d rows examined, %d published)", what, ms,
            r.readingsFolded, r.intervalsFolded, r.accountsExamined, r.rowsPublished);
        return std::pair{r, ms};
    };

    const auto [initial, initialMs] = timedRefresh("first refresh, 10,000 accounts, no readings");
    QCOMPARE(initial.rowsPublished, kAccounts);
    const qint64 t1 = kT0, t2 = kT0 + 30 * kMinuteMs;
    m_clock.advanceMs(t1 - m_clock.wallMs());
    QVERIFY(job(readingsSql, 0, t1));
    const auto [opening, openingMs] = timedRefresh("refresh after an opening batch of 10,000 readings");
    QCOMPARE(opening.readingsFolded, kAccounts);
    QCOMPARE(opening.rowsPublished, kAccounts);
    m_clock.advanceMs(t2 - m_clock.wallMs());
    QVERIFY(job(readingsSql + chargesSql, t1, t2));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM charge_intervals")), kAccounts);
    const auto [charged, chargedMs] = timedRefresh("refresh after a charged batch of 10,000 readings");
    QCOMPARE(charged.readingsFolded, kAccounts);
    QCOMPARE(charged.intervalsFolded, kAccounts);
    QCOMPARE(charged.rowsPublished, kAccounts);
    const auto [idle, idleMs] = timedRefresh("refresh with nothing new");
    QCOMPARE(idle.outcome, sync::RefreshOutcome::UpToDate);

    QElapsedTimer timer;
    timer.start();
    const sync::DirectorySnapshot snap = snapshotNow();
    const qint64 snapshotMs = timer.elapsed();
    QCOMPARE(snap.rows.size(), kAccounts);
    timer.restart();
    const sync::DirectoryBatch page = eventsSince(snap.seq - kAccounts, sync::SyncLimits::eventsPerBatchMax);
    const qint64 pageMs = timer.elapsed();
    QCOMPARE(page.events.size(), sync::SyncLimits::eventsPerBatchMax);
    // A row of the last batch: its day's energy is its interval's.
    const sync::DirectoryRow &r = snap.rows.at(41);
    QCOMPARE(r.daily.size(), 1);
    QCOMPARE(r.daily.first().energyWh,
        count(QStringLiteral("SELECT energy_wh FROM charge_intervals WHERE metering_point_id = %1").arg(r.accountId)));
    QCOMPARE(r.balanceFen.value_or(0), -r.daily.first().amountFen);
    qInfo("{\"accounts\":%d,\"first_refresh_ms\":%lld,\"refresh_after_opening_batch_ms\":%lld,"
          "\"refresh_after_charged_batch_ms\":%lld,\"refresh_idle_ms\":%lld,\"snapshot_ms\":%lld,\"events_page_%d_ms\":"
          "%lld}",
        kAccounts, initialMs, openingMs, chargedMs, idleMs, snapshotMs, sync::SyncLimits::eventsPerBatchMax, pageMs);
}

QTEST_GUILESS_MAIN(TestSync)
#include "tst_sync.moc"
