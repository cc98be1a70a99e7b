// bench: poll batches validated, rated, charged and committed, against plain inserts of the rows
//
// What prepayd does with one poll round, at site scale: a temporary database holds a site of
// --meters meters (default 10,000; ≤ 247 per bus, every tenant open, on the demo's TOU tariff,
// with an opening balance credited through the ledger), and the real readings path runs on it —
// poller::Recorder with one batch per round (batchMax = meters) and control::BatchPipeline
// installed (biller + controller + meter alarms, in the batch's transaction), exactly as prepayd
// wires it. --intervals rounds (default 48, one day of half hours) each record one successful
// read per meter (energy rising by a plausible half-hour's worth, the delta in the TOU slot the
// schedule gives that half hour, serial = the installed one) and flush: one timed N-meter batch.
//
// Round 0 opens every segment (nothing charged: the installations have no initial readings).
// Every later round is a charged round: one reading, one charge interval, one ledger charge (two
// postings) per meter. The figures:
//   batch_10k_ms    median flush time of the steady rounds (round 2 on; round 1 is the first
//                   charged round and is reported alone as batch_first_charged_ms); batch_max_ms
//                   is their maximum. The key keeps its name for any --meters.
//   readings_per_s  readings of the charged rounds / total flush time of those rounds.
//   raw_insert_per_s  the same rows the pipeline wrote in the charged rounds — readings,
//                   charge_intervals, ledger_entries, ledger_postings, read back from the first
//                   database — inserted into a second database with the same schema and site with
//                   plain prepared INSERTs, one transaction per round through Store::write (same
//                   WAL, synchronous=FULL, foreign keys, indexes and triggers); counted the same
//                   way: readings per second, each reading carrying its share of the other rows.
//   ratio           readings_per_s / raw_insert_per_s: the share of bare insert speed that the
//                   whole path (validation, meter_state, billing reads, rating, ledger checks,
//                   cursors, control evaluation, alarms) keeps. Issue targets: ratio ≥ 0.5 and
//                   one 10,000-meter batch in < 300 ms.
// Then --profile-rounds further rounds (default 3) run with an instrumented copy of the
// pipeline's batch hook (the same calls in the same order, timed) to say where a batch's time
// goes: recorder (validation, reading inserts, meter_state; validation alone is also timed on
// the same data), billing, points of charged accounts, controller evaluation, meter alarms, and
// commit — plus two references: the recorder's linear search of the meters a batch touched,
// replicated alone, and control::preview() (the controller's point query and decision for every
// point in one pass). Finally `ledger verify` must pass on the first database and
// charge_intervals must be meters × (charged rounds + profile rounds); otherwise the exit code
// is 1 ("failures" in the JSON counts what went wrong).
// Options: --meters N --intervals K --profile-rounds P. The last line is one JSON object.
#include "api/clock.h"
#include "api/money.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/alarms.h"
#include "control/controller.h"
#include "control/pipeline.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "manualclock.h"
#include "modbus/mapv1.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "poller/validation.h"
#include "store/store.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimeZone>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

using namespace prepay;

namespace {

constexpr qint64 kHalfHourMs = 30 * 60'000;
constexpr qint64 kDayMs = 24 * 3'600'000LL;
constexpr int kBusesPerGateway = 8;
constexpr int kMetersPerBusTarget = 200;       // ≤ PollLimits::metersPerBusMax (247)
constexpr qint64 kOpeningBalanceFen = 100'000; // 1,000.00 CNY: a day of heavy use stays far above the alarms
static_assert(kMetersPerBusTarget <= poller::PollLimits::metersPerBusMax);
static_assert(poller::PollLimits::metersMax / kMetersPerBusTarget <= poller::PollLimits::busesMax);

struct Site
{
    int meters = 0;
    int buses = 0;
    int perBus = 0;
    int gateways = 0;
    qint64 startMs = 0; // the first round: local midnight of a workday
};

double msOf(qint64 ns)
{
    return double(ns) / 1e6;
}

double round3(double v)
{
    return std::round(v * 1000) / 1000;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

bool runJob(store::Store &store, const std::function<void(store::Transaction &)> &job, const char *what)
{
    const auto written = store.write([&job](store::Transaction &tx) { job(tx); }).get();
    if (!written.committed())
        std::fprintf(stderr, "%s: %s %s\n", what, qPrintable(store::writeStatusCode(written.status)),
            qPrintable(written.status == store::WriteStatus::RolledBack ? written.reason : written.error.toString()));
    return written.committed();
}

// The site, by SQL in one write job. The parameters go into a temporary table through a prepared
// statement, so the script itself is constant.
const char kSiteSql[] = R"SQL(
INSERT INTO settings (key, value, updated_at_ms) VALUES ('site.time_zone', 'Asia/Shanghai', 0)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;

WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g, temp.bench_site p WHERE i < p.gateways)
INSERT INTO buildings (id, code, name, created_at_ms)
SELECT i, 'G' || i, 'bench building ' || i, p.t_site FROM g, temp.bench_site p;

WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g, temp.bench_site p WHERE i < p.gateways)
INSERT INTO gateways (id, building_id, name, host, port, created_at_ms)
SELECT i, i, 'GW' || i, '127.0.0.1', 1500 + i, p.t_site FROM g, temp.bench_site p;

WITH RECURSIVE b(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM b, temp.bench_site p WHERE i < p.buses)
INSERT INTO buses (id, name, kind, gateway_id, port_index, baud, parity, stop_bits, created_at_ms)
SELECT i, 'BUS' || i, 'gateway_port', (i - 1) / 8 + 1, (i - 1) % 8 + 1, 9600, 'even', 1, p.t_site
  FROM b, temp.bench_site p;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n, temp.bench_site p WHERE i < p.meters)
INSERT INTO metering_points (id, code, building_id, floor, room, created_at_ms)
SELECT i, printf('P%05d', i), ((i - 1) / p.per_bus) / 8 + 1, (i - 1) % 40 + 1, printf('%05d', i), p.t_site
  FROM n, temp.bench_site p;

-- Every 10th meter is a remote-only (Acrel-style) meter, half of those without TOU registers;
-- every 7th is three-phase.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n, temp.bench_site p WHERE i < p.meters)
INSERT INTO meters (id, serial_number, model, device_type, capability, has_tou_registers, rated_current_ma,
                    max_current_ma, state, bus_id, unit_id, created_at_ms)
SELECT i,
       CASE WHEN i % 10 = 0 THEN 23110000 + i ELSE 24050000 + i END,
       CASE WHEN i % 10 = 0 THEN 'ADL400' ELSE 'DDSY1352-NK' END,
       CASE WHEN i % 7 = 0 THEN 'three_phase' ELSE 'single_phase' END,
       CASE WHEN i % 10 = 0 THEN 'remote_only' ELSE 'prepaid' END,
       CASE WHEN i % 20 = 0 THEN 0 ELSE 1 END,
       10000,
       CASE WHEN i % 7 = 0 THEN 80000 ELSE 60000 END,
       'installed', (i - 1) / p.per_bus + 1, (i - 1) % p.per_bus + 1, p.t_site
  FROM n, temp.bench_site p;

-- Opening readings not recorded: the first reading opens each segment uncharged.
INSERT INTO meter_installations (id, metering_point_id, meter_id, installed_at_ms)
SELECT id, id, id, created_at_ms FROM metering_points ORDER BY id;

INSERT INTO billing_state (metering_point_id, installation_id, updated_at_ms)
SELECT id, id, created_at_ms FROM metering_points ORDER BY id;

INSERT INTO accounts (id, shop_no, display_name, status, opened_at_ms, created_at_ms)
SELECT id, code, '商铺 ' || code, 'open', created_at_ms, created_at_ms FROM metering_points ORDER BY id;

INSERT INTO account_metering_points (id, account_id, metering_point_id, linked_at_ms)
SELECT id, id, id, opened_at_ms FROM accounts ORDER BY id;

INSERT INTO ledger_accounts (code, kind, account_id, name, balance_fen, created_at_ms, updated_at_ms)
SELECT 'wallet:' || id, 'wallet', id, '钱包 ' || display_name, 0, created_at_ms, created_at_ms
  FROM accounts ORDER BY id;

INSERT INTO control_settings (metering_point_id, control_mode, friendly_hours, updated_at_ms)
SELECT id, 'auto', CASE WHEN floor = 1 THEN 1 ELSE 0 END, created_at_ms FROM metering_points ORDER BY id;

-- The demo's TOU-COM version 1 with its three day schedules (sql/seed/demo.sql).
INSERT INTO tariffs (id, code, name, description, created_at_ms)
SELECT 1, 'TOU-COM', '商业分时电价', 'Commercial time-of-use: sharp/peak/flat/valley', t_site FROM temp.bench_site;

INSERT INTO tariff_versions (id, tariff_id, version, effective_date, kind, price_sharp, price_peak, price_flat,
                             price_valley, tier_period, note, created_at_ms)
SELECT 1, 1, 1, '2025-06-01', 'tou', 12100, 9800, 6500, 3100, NULL, 'demo prices', t_site FROM temp.bench_site;

INSERT INTO tariff_day_segments (tariff_version_id, day_type, start_minute, slot) VALUES
    (1, 'workday',     0, 'valley'),
    (1, 'workday',   480, 'flat'),
    (1, 'workday',   600, 'sharp'),
    (1, 'workday',   720, 'flat'),
    (1, 'workday',   900, 'peak'),
    (1, 'workday',  1200, 'flat'),
    (1, 'workday',  1320, 'valley'),
    (1, 'weekend',     0, 'valley'),
    (1, 'weekend',   480, 'flat'),
    (1, 'weekend',  1320, 'valley'),
    (1, 'holiday',     0, 'valley'),
    (1, 'holiday',   480, 'flat'),
    (1, 'holiday',  1320, 'valley');

INSERT INTO tariff_assignments (tariff_id, account_id, effective_date, created_at_ms)
SELECT 1, id, '2025-06-01', created_at_ms FROM accounts ORDER BY id;
)SQL";

// The opening balances' payments (first database only): one paid cash top-up per tenant, credited
// afterwards with LedgerWriter::recharge() so the ledger holds real entries.
const char kOpeningPaymentsSql[] = R"SQL(
INSERT INTO topup_orders (id, account_id, amount_fen, idempotency_key, request_hash, state, created_at_ms,
                          updated_at_ms)
SELECT a.id, a.id, p.opening_fen, 'bench-opening-' || a.id, zeroblob(32), 'paid', p.t_open, p.t_open
  FROM accounts a, temp.bench_site p ORDER BY a.id;

INSERT INTO payment_attempts (id, order_id, channel, out_trade_no, amount_fen, state, paid_at_ms, created_at_ms,
                              updated_at_ms)
SELECT o.id, o.id, 'cash', printf('BENCH%08d', o.id), o.amount_fen, 'credited', o.created_at_ms, o.created_at_ms,
       o.created_at_ms
  FROM topup_orders o ORDER BY o.id;
)SQL";

bool writeSite(store::Store &store, const Site &site, bool openingPayments)
{
    return runJob(
        store,
        [&site, openingPayments](store::Transaction &tx) {
            if (const store::SqlError e = tx.db().exec(QStringLiteral(
                    "CREATE TEMP TABLE bench_site (meters INTEGER, per_bus INTEGER, buses INTEGER, gateways INTEGER, "
                    "t_site INTEGER, t_open INTEGER, opening_fen INTEGER)"));
                !e.ok())
                return tx.fail(e);
            store::Statement params = tx.prepare(QStringLiteral("INSERT INTO temp.bench_site VALUES (?1, ?2, ?3, ?4, "
                                                                "?5, ?6, ?7)"));
            params.bind(1, site.meters).bind(2, site.perBus).bind(3, site.buses).bind(4, site.gateways);
            params.bind(5, site.startMs - 30 * kDayMs).bind(6, site.startMs - kDayMs).bind(7, kOpeningBalanceFen);
            if (const store::SqlError e = params.run(); !e.ok())
                return tx.fail(e);
            if (const store::SqlError e = tx.db().exec(QString::fromUtf8(kSiteSql)); !e.ok())
                return tx.fail(e);
            if (openingPayments) {
                if (const store::SqlError e = tx.db().exec(QString::fromUtf8(kOpeningPaymentsSql)); !e.ok())
                    return tx.fail(e);
            }
            if (const store::SqlError e = tx.db().exec(QStringLiteral("DROP TABLE temp.bench_site")); !e.ok())
                return tx.fail(e);
        },
        "cannot write the bench site");
}

bool creditOpeningBalances(store::Store &store, int meters, qint64 nowMs)
{
    return runJob(
        store,
        [meters, nowMs](store::Transaction &tx) {
            ledger::LedgerWriter writer(tx, nowMs);
            for (qint64 id = 1; id <= meters; ++id) {
                const ledger::PostResult r
                    = writer.recharge(id, ledger::Channel::Cash, id, Money::fromFen(kOpeningBalanceFen));
                if (r.outcome != ledger::PostOutcome::Posted) {
                    if (tx.error().ok())
                        tx.rollback(QStringLiteral("recharge of account %1: %2 (%3)")
                                        .arg(id)
                                        .arg(ledger::postOutcomeCode(r.outcome), r.message));
                    return;
                }
            }
        },
        "cannot credit the opening balances");
}

// One simulated meter: its registers as they stand.
struct MeterSim
{
    const poller::MeterTarget *target = nullptr;
    qint64 busId = 0;
    quint32 energyRegister = 0;             // 0.01 kWh units
    std::array<quint32, 4> slotRegisters{}; // by TariffSlot, adding up to energyRegister
    qint64 powerW = 0;
    // What the meter itself has deducted, as a real prepaid meter does at its slot prices
    // (Wh × 0.0001 CNY/kWh = 0.00001 fen): its balance follows the ledger, so the reconciliation
    // runs its usual no-drift path instead of raising an alarm for every meter.
    qint64 deductedUnits = 0;
};

// Register units (10 Wh) a meter uses in the half hour ending with round r: 10 Wh … 1.2 kWh
// (0.02 … 2.4 kW on average), never 0, so every charged round makes one interval per meter; far
// below the 1.2 × Imax × 220 V a half hour may hold (7.9 kWh on the smallest meter).
quint32 unitsUsed(qint64 meterId, int round)
{
    quint64 h = quint64(meterId) * 0x9E3779B97F4A7C15ULL + quint64(round) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return quint32(1 + h % 120);
}

poller::ReadingResult readingOf(const MeterSim &m, qint64 takenAtMs, bool first)
{
    const poller::MeterTarget &t = *m.target;
    poller::ReadingResult r;
    r.meterId = t.meterId;
    r.busId = m.busId;
    r.takenAtMs = takenAtMs;
    r.reason = poller::ReadReason::Cycle;
    modbus::MeterSnapshot s;
    s.profile = t.profile->name();
    if (t.prepaid) {
        s.mapVersion = 1;
        s.serialNumber = t.serial;
        const qint64 deductedFen = m.deductedUnits / Remainder::kUnitsPerFen;
        s.purchaseCount = 1;
        s.balanceFen = kOpeningBalanceFen - deductedFen;
        s.totalPurchasedFen = kOpeningBalanceFen;
        s.consumedMoneyTotalFen = deductedFen;
        s.lastRechargeTxn = 1;
        s.statusWord = 0;
        s.tariffVersionActive = 1;
        s.meterTimeS = takenAtMs / 1000;
    }
    s.energyTotalRegister = m.energyRegister;
    s.energyTotalWh = qint64(m.energyRegister) * meter::v1::kWhPerEnergyUnit;
    if (t.hasTouRegisters) {
        for (size_t i = 0; i < 4; ++i)
            s.slotEnergyWh[i] = qint64(m.slotRegisters[i]) * meter::v1::kWhPerEnergyUnit;
    }
    s.activePowerW = m.powerW;
    s.voltageMv = {220'000, 0, 0};
    s.currentMa = {m.powerW * 1000 / 220, 0, 0};
    s.powerFactorPermille = 1000;
    s.frequencyCentiHz = 5000;
    r.snapshot = s;
    r.commState = poller::CommState::Online;
    r.commStateChanged = first;
    return r;
}

poller::PreviousReading previousOf(const poller::ReadingResult &r)
{
    poller::PreviousReading p;
    p.takenAtMs = r.takenAtMs;
    p.energyRegister = r.snapshot->energyTotalRegister;
    for (size_t i = 0; i < 4; ++i)
        p.slotRegisters[i] = quint32(r.snapshot->slotEnergyWh[i] / meter::v1::kWhPerEnergyUnit);
    p.serial = r.snapshot->serialNumber.value_or(0);
    p.powerW = r.snapshot->activePowerW;
    return p;
}

qint64 queryInt(store::Connection &db, const QString &sql)
{
    store::SqlError e;
    const qint64 v = db.queryInt(sql, &e);
    if (!e.ok())
        std::fprintf(stderr, "%s: %s\n", qPrintable(sql), qPrintable(e.toString()));
    return v;
}

// ---- The raw-insert baseline ------------------------------------------------------------------

struct Cell
{
    enum class Kind {
        Null,
        Int,
        Text,
        Blob
    };
    Kind kind = Kind::Null;
    qint64 i = 0;
    QString t;
    QByteArray b;
};

struct TableCopy
{
    QString name;
    QStringList columns;
    QList<Cell::Kind> kinds; // from the STRICT declared types
    QString select;          // the rows of a round: ?1, ?2 = its first and last reading id
    QString insert;
    QList<QList<Cell>> rows;
};

bool describe(store::Connection &db, TableCopy *t, const QString &where)
{
    store::Statement s = db.prepare(QStringLiteral("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid"));
    s.bind(1, t->name);
    while (s.step() == store::Statement::Step::Row) {
        t->columns.append(s.text(0));
        const QString type = s.text(1).toUpper();
        t->kinds.append(type == u"INTEGER" ? Cell::Kind::Int : type == u"BLOB" ? Cell::Kind::Blob : Cell::Kind::Text);
    }
    if (!s.error().ok() || t->columns.isEmpty()) {
        std::fprintf(stderr, "cannot describe %s: %s\n", qPrintable(t->name), qPrintable(s.error().toString()));
        return false;
    }
    // Names from the schema itself, not from input: the only SQL built here.
    const QString list = t->columns.join(QStringLiteral(", "));
    t->select = QStringLiteral("SELECT %1 FROM %2 WHERE %3 ORDER BY id").arg(list, t->name, where);
    QStringList params;
    for (qsizetype i = 0; i < t->columns.size(); ++i)
        params.append(QStringLiteral("?%1").arg(i + 1));
    t->insert = QStringLiteral("INSERT INTO %1 (%2) VALUES (%3)").arg(t->name, list, params.join(QStringLiteral(", ")));
    return true;
}

bool readRows(store::Connection &db, TableCopy *t, qint64 firstReading, qint64 lastReading)
{
    t->rows.clear();
    store::Statement s = db.prepare(t->select);
    s.bind(1, firstReading).bind(2, lastReading);
    store::Statement::Step step;
    while ((step = s.step()) == store::Statement::Step::Row) {
        QList<Cell> row(t->columns.size());
        for (int c = 0; c < int(t->columns.size()); ++c) {
            Cell &cell = row[c];
            if (s.isNull(c))
                continue;
            cell.kind = t->kinds[c];
            switch (cell.kind) {
            case Cell::Kind::Int: cell.i = s.int64(c); break;
            case Cell::Kind::Text: cell.t = s.text(c); break;
            case Cell::Kind::Blob: cell.b = s.blob(c); break;
            case Cell::Kind::Null: break;
            }
        }
        t->rows.append(std::move(row));
    }
    if (step == store::Statement::Step::Error) {
        std::fprintf(stderr, "cannot read %s: %s\n", qPrintable(t->name), qPrintable(s.error().toString()));
        return false;
    }
    return true;
}

// One transaction inserting every row of `tables`, in order, with plain prepared INSERTs.
bool insertRows(store::Store &store, const QList<TableCopy> &tables)
{
    return runJob(
        store,
        [&tables](store::Transaction &tx) {
            for (const TableCopy &t : tables) {
                store::Statement s = tx.prepare(t.insert);
                for (const QList<Cell> &row : t.rows) {
                    for (int c = 0; c < int(row.size()); ++c) {
                        const Cell &cell = row[c];
                        switch (cell.kind) {
                        case Cell::Kind::Null: s.bindNull(c + 1); break;
                        case Cell::Kind::Int: s.bind(c + 1, cell.i); break;
                        case Cell::Kind::Text: s.bind(c + 1, cell.t); break;
                        case Cell::Kind::Blob: s.bind(c + 1, cell.b); break;
                        }
                    }
                    if (const store::SqlError e = s.run(); !e.ok())
                        return tx.fail(e);
                }
            }
        },
        "raw insert");
}

// ---- The profile: the pipeline's batch hook, timed ------------------------------------------------

struct PhaseMarks
{
    qint64 hookStart = 0, billed = 0, points = 0, evaluated = 0, hookEnd = 0;
    int intervals = 0;
};

// The same calls, in the same order, as control::BatchPipeline::install() (pipeline.cpp), with a
// timestamp after each. Used only for the profile rounds; the measured rounds run the real one.
poller::Recorder::BatchHook timedHook(billing::Biller &biller, const Clock &clock, PhaseMarks &marks)
{
    return [&biller, &clock, &marks](store::Transaction &tx, const QList<poller::StoredReading> &readings) {
        marks.hookStart = nowNs();
        const qint64 now = clock.wallMs();
        const billing::BillingOutcome billed = biller.billBatch(tx, readings, now);
        marks.billed = nowNs();
        marks.intervals = billed.intervals;
        if (tx.rollbackRequested() || !tx.error().ok())
            return;
        QSet<qint64> points = control::Controller::pointsOfAccounts(tx, billed.accounts);
        for (const poller::StoredReading &r : readings)
            points.insert(r.meteringPointId);
        marks.points = nowNs();
        control::Controller::evaluate(tx, *biller.book(), points, now);
        marks.evaluated = nowNs();
        control::syncMeterAlarms(tx, now);
        marks.hookEnd = nowNs();
    };
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Poll batches through validation, billing, ledger and control, against plain inserts of the "
                       "same rows; JSON figures on the last line."));
    parser.addHelpOption();
    const QCommandLineOption metersOption(QStringLiteral("meters"),
        QStringLiteral("Meters in the site (at most %1).").arg(poller::PollLimits::metersMax), QStringLiteral("N"),
        QStringLiteral("10000"));
    const QCommandLineOption intervalsOption(QStringLiteral("intervals"),
        QStringLiteral("Poll rounds, 30 minutes apart (at least 3; the first opens the segments)."),
        QStringLiteral("K"), QStringLiteral("48"));
    const QCommandLineOption profileOption(QStringLiteral("profile-rounds"),
        QStringLiteral("Extra rounds with the batch hook timed phase by phase (0: none)."), QStringLiteral("P"),
        QStringLiteral("3"));
    parser.addOption(metersOption);
    parser.addOption(intervalsOption);
    parser.addOption(profileOption);
    parser.process(app);

    Site site;
    site.meters = std::clamp(parser.value(metersOption).toInt(), 1, poller::PollLimits::metersMax);
    const int intervals = std::max(3, parser.value(intervalsOption).toInt());
    const int profileRounds = std::max(0, parser.value(profileOption).toInt());
    site.buses = (site.meters + kMetersPerBusTarget - 1) / kMetersPerBusTarget;
    site.perBus = (site.meters + site.buses - 1) / site.buses;
    site.gateways = (site.buses + kBusesPerGateway - 1) / kBusesPerGateway;
    // Monday 2026-11-16 00:00 in Shanghai: a workday, so a day of rounds crosses all four slots.
    site.startMs = QDateTime(QDate(2026, 11, 16), QTime(0, 0), QTimeZone(QByteArrayLiteral("Asia/Shanghai")))
                       .toMSecsSinceEpoch();
    int failures = 0;

    QTemporaryDir dir;
    if (!dir.isValid()) {
        std::fprintf(stderr, "cannot create a temporary directory\n");
        return 1;
    }
    test::ManualClock clock(site.startMs);
    store::OpenResult opened = store::Store::open(dir.filePath(QStringLiteral("billing.db")), clock);
    if (!opened.store) {
        std::fprintf(stderr, "cannot open the store: %s\n", qPrintable(opened.message));
        return 1;
    }
    store::Store &store = *opened.store;
    QElapsedTimer setup;
    setup.start();
    if (!writeSite(store, site, true) || !creditOpeningBalances(store, site.meters, site.startMs - kDayMs))
        return 1;
    std::fprintf(stderr, "site of %d meters on %d buses (%d gateways) written and funded in %.2f s\n", site.meters,
        site.buses, site.gateways, double(setup.elapsed()) / 1000);

    std::unique_ptr<store::Connection> reader = store.openReader();
    if (!reader) {
        std::fprintf(stderr, "cannot open a reader\n");
        return 1;
    }
    poller::PollPlan plan;
    auto book = std::make_shared<billing::TariffBook>();
    QString error;
    if (!poller::loadPollPlan(*reader, &plan, &error) || !billing::TariffBook::load(*reader, book.get(), &error)) {
        std::fprintf(stderr, "cannot load the plan or the tariffs: %s\n", qPrintable(error));
        return 1;
    }
    if (plan.meterCount() != site.meters) {
        std::fprintf(stderr, "the plan has %d meters, expected %d\n", plan.meterCount(), site.meters);
        return 1;
    }

    // The meters as simulated, in bus order (the order a cycle's results arrive in, roughly).
    std::vector<MeterSim> sims;
    sims.reserve(size_t(site.meters));
    for (const poller::BusPlan &bus : std::as_const(plan.buses)) {
        for (const poller::MeterTarget &t : bus.meters) {
            MeterSim m;
            m.target = &t;
            m.busId = bus.busId;
            // Some 1,000 kWh already on the meter, spread over the four slots.
            const quint32 total = 100'000 + quint32(t.meterId % 997) * 37;
            m.slotRegisters = {total / 10, total / 5, total * 3 / 10, 0};
            m.slotRegisters[3] = total - m.slotRegisters[0] - m.slotRegisters[1] - m.slotRegisters[2];
            m.energyRegister = total;
            sims.push_back(m);
        }
    }

    poller::RecorderLimits limits;
    limits.batchMax = site.meters; // one batch per poll round
    limits.pendingMax = std::max(limits.pendingMax, site.meters);
    auto recorder = std::make_unique<poller::Recorder>(store, clock, plan, limits);
    billing::Biller biller(book);
    qint64 dispatched = 0;
    control::BatchPipeline pipeline(
        biller, clock, [&dispatched](const QList<qint64> &ids) { dispatched += ids.size(); });
    pipeline.install(*recorder);

    const billing::TariffVersion *tou = book->versionFor(1, 1, book->localDate(site.startMs));
    if (!tou) {
        std::fprintf(stderr, "no tariff in force for point 1\n");
        return 1;
    }

    // One round: every meter's half hour, recorded, then flushed (timed). Returns the flush in ns.
    std::vector<std::optional<poller::PreviousReading>> previous(sims.size());
    qint64 validationNs = 0; // validateReading alone on the round's data (profile rounds only)
    qint64 flushStartNs = 0; // when the last round's flush began
    const auto runRound = [&](int round, bool timeValidation) -> qint64 {
        const qint64 takenAtMs = clock.wallMs();
        if (round > 0) {
            // The slot of the half hour that just ended (the schedule changes on half hours only).
            const qint64 midMs = takenAtMs - kHalfHourMs / 2;
            const billing::Slot slot
                = tou->slotAt(book->calendar().dayType(book->localDate(midMs)), book->localMinute(midMs));
            for (MeterSim &m : sims) {
                const quint32 units = unitsUsed(m.target->meterId, round);
                m.energyRegister += units;
                m.slotRegisters[size_t(slot)] += units;
                m.deductedUnits += qint64(units) * meter::v1::kWhPerEnergyUnit * tou->price(slot).tenThousandthYuan();
                m.powerW = qint64(units) * meter::v1::kWhPerEnergyUnit * 2; // Wh in half an hour → W
            }
        }
        QList<poller::ReadingResult> results;
        results.reserve(qsizetype(sims.size()));
        for (const MeterSim &m : sims)
            results.append(readingOf(m, takenAtMs, round == 0));
        if (timeValidation) {
            const qint64 v0 = nowNs();
            int chargeable = 0;
            for (size_t i = 0; i < sims.size(); ++i)
                chargeable
                    += poller::validateReading(previous[i], *results[qsizetype(i)].snapshot, takenAtMs, *sims[i].target)
                           .chargeable();
            validationNs += nowNs() - v0;
            if (chargeable != site.meters)
                ++failures;
        }
        for (size_t i = 0; i < sims.size(); ++i)
            previous[i] = previousOf(results[qsizetype(i)]);
        for (poller::ReadingResult &r : results)
            recorder->record(std::move(r));
        flushStartNs = nowNs();
        recorder->flush();
        return nowNs() - flushStartNs;
    };

    // ---- The measured rounds --------------------------------------------------------------------
    std::vector<double> roundMs;
    std::vector<qint64> lastReadingOfRound; // readings.id of each round's last reading
    std::vector<qint64> intervalsOfRound;
    qint64 chargedNs = 0;
    qint64 intervalsSoFar = 0;
    for (int round = 0; round < intervals; ++round) {
        if (round > 0)
            clock.advanceMs(kHalfHourMs);
        const qint64 storedBefore = recorder->stats().readingsStored;
        const qint64 ns = runRound(round, false);
        roundMs.push_back(msOf(ns));
        if (round > 0)
            chargedNs += ns;
        const poller::Recorder::Stats stats = recorder->stats();
        if (stats.readingsStored - storedBefore != site.meters || stats.failedBatches != 0) {
            std::fprintf(stderr, "round %d: %lld readings stored, %lld failed batches\n", round,
                stats.readingsStored - storedBefore, stats.failedBatches);
            ++failures;
        }
        lastReadingOfRound.push_back(queryInt(*reader, QStringLiteral("SELECT coalesce(max(id), 0) FROM readings")));
        const qint64 total = queryInt(*reader, QStringLiteral("SELECT count(*) FROM charge_intervals"));
        intervalsOfRound.push_back(total - intervalsSoFar);
        intervalsSoFar = total;
        std::fprintf(
            stderr, "round %2d: %8.1f ms, %lld charge intervals\n", round, roundMs.back(), intervalsOfRound.back());
    }
    const int chargedRounds = intervals - 1;
    const qint64 chargedReadings = qint64(site.meters) * chargedRounds;
    const std::vector<double> steady(roundMs.begin() + 2, roundMs.end());
    const double batchMedianMs = median(steady);
    const double batchMaxMs = *std::max_element(steady.begin(), steady.end());
    const double readingsPerS = double(chargedReadings) / (double(chargedNs) / 1e9);
    for (int round = 0; round < intervals; ++round) {
        if (intervalsOfRound[size_t(round)] != (round == 0 ? 0 : site.meters)) {
            std::fprintf(stderr, "round %d made %lld charge intervals\n", round, intervalsOfRound[size_t(round)]);
            ++failures;
        }
    }

    // ---- The profile rounds: the same hook, timed phase by phase ------------------------------------
    PhaseMarks marks;
    std::vector<double> pRecorder, pValidation, pBilling, pPoints, pEvaluate, pAlarms, pCommit, pTotal;
    if (profileRounds > 0) {
        recorder->setBatchHook(timedHook(biller, clock, marks));
        for (int p = 0; p < profileRounds; ++p) {
            clock.advanceMs(kHalfHourMs);
            const qint64 validationBefore = validationNs;
            const qint64 ns = runRound(intervals + p, true);
            const qint64 start = flushStartNs;
            const qint64 flushEnd = start + ns;
            pTotal.push_back(msOf(ns));
            pValidation.push_back(msOf(validationNs - validationBefore));
            pRecorder.push_back(msOf(marks.hookStart - start));
            pBilling.push_back(msOf(marks.billed - marks.hookStart));
            pPoints.push_back(msOf(marks.points - marks.billed));
            pEvaluate.push_back(msOf(marks.evaluated - marks.points));
            pAlarms.push_back(msOf(marks.hookEnd - marks.evaluated));
            pCommit.push_back(msOf(flushEnd - marks.hookEnd));
            if (marks.intervals != site.meters)
                ++failures;
        }
    }
    recorder.reset(); // flushes nothing more: every round was flushed

    // Two references for the profile, outside any transaction: the recorder's bookkeeping of the
    // meters a batch touched (a QList searched linearly for each reading, as in recorder.cpp's
    // runBatch), and the controller's query and decision for every point in one pass (preview(),
    // the same SELECT with ?1 = 0) — against controller_evaluate_ms, which runs it once per point.
    double touchedListMs = 0;
    double previewAllMs = 0;
    if (profileRounds > 0) {
        const qint64 t0 = nowNs();
        QList<qint64> touched;
        // Allocated before the first contains(): Qt 6.4's QList::indexOf() does pointer arithmetic
        // on the null data of a never-allocated list, which this optimised build turned into a
        // crash (RelWithDebInfo only).
        touched.reserve(qsizetype(sims.size()));
        for (const MeterSim &m : sims) {
            if (!touched.contains(m.target->meterId))
                touched.append(m.target->meterId);
        }
        touchedListMs = msOf(nowNs() - t0);
        if (touched.size() != site.meters)
            ++failures;
        const qint64 t1 = nowNs();
        const QList<control::PointEvaluation> all = control::preview(*reader, *book, clock.wallMs(), &error);
        previewAllMs = msOf(nowNs() - t1);
        if (all.size() != site.meters)
            ++failures;
    }

    // ---- Correctness ------------------------------------------------------------------------------
    const qint64 verifyStart = nowNs();
    const ledger::VerifyReport verified = ledger::verifyLedger(*reader);
    const double verifyS = double(nowNs() - verifyStart) / 1e9;
    for (const ledger::Violation &v : verified.violations)
        std::fprintf(stderr, "ledger verify: %s: %s\n", qPrintable(v.code), qPrintable(v.message));
    if (!verified.error.isEmpty())
        std::fprintf(stderr, "ledger verify: %s\n", qPrintable(verified.error));
    const qint64 chargeIntervals = queryInt(*reader, QStringLiteral("SELECT count(*) FROM charge_intervals"));
    const qint64 expectedIntervals = qint64(site.meters) * (chargedRounds + profileRounds);
    if (!verified.ok() || chargeIntervals != expectedIntervals)
        ++failures;

    // ---- The baseline: the same rows, plain INSERTs, into a second database -------------------------
    QList<TableCopy> tables(4);
    tables[0].name = QStringLiteral("readings");
    tables[1].name = QStringLiteral("charge_intervals");
    tables[2].name = QStringLiteral("ledger_entries");
    tables[3].name = QStringLiteral("ledger_postings");
    const QString ofRound = QStringLiteral("SELECT id FROM charge_intervals WHERE to_reading_id BETWEEN ?1 AND ?2");
    const QString entriesOfRound
        = QStringLiteral("SELECT id FROM ledger_entries WHERE charge_interval_id IN (%1)").arg(ofRound);
    const bool described = describe(*reader, &tables[0], QStringLiteral("id BETWEEN ?1 AND ?2"))
        && describe(*reader, &tables[1], QStringLiteral("to_reading_id BETWEEN ?1 AND ?2"))
        && describe(*reader, &tables[2], QStringLiteral("charge_interval_id IN (%1)").arg(ofRound))
        && describe(*reader, &tables[3], QStringLiteral("entry_id IN (%1)").arg(entriesOfRound));
    test::ManualClock rawClock(site.startMs);
    store::OpenResult rawOpened = store::Store::open(dir.filePath(QStringLiteral("raw.db")), rawClock);
    qint64 rawNs = 0;
    std::vector<double> rawRoundMs;
    qint64 rawReadings = 0;
    qint64 rawRows = 0;
    bool rawOk = described && rawOpened.store && writeSite(*rawOpened.store, site, false);
    if (rawOk) {
        // Round 0's readings are the baselines round 1's intervals start from: copied, untimed.
        rawOk = readRows(*reader, &tables[0], 1, lastReadingOfRound[0]) && insertRows(*rawOpened.store, {tables[0]});
        for (int round = 1; rawOk && round < intervals; ++round) {
            const qint64 first = lastReadingOfRound[size_t(round - 1)] + 1;
            const qint64 last = lastReadingOfRound[size_t(round)];
            for (TableCopy &t : tables)
                rawOk = rawOk && readRows(*reader, &t, first, last);
            if (!rawOk)
                break;
            const qint64 t0 = nowNs();
            rawOk = insertRows(*rawOpened.store, tables);
            rawNs += nowNs() - t0;
            rawRoundMs.push_back(msOf(nowNs() - t0));
            rawReadings += tables[0].rows.size();
            for (const TableCopy &t : std::as_const(tables))
                rawRows += t.rows.size();
        }
    }
    if (!rawOk || rawReadings != chargedReadings) {
        std::fprintf(
            stderr, "the raw-insert baseline failed (%lld of %lld readings copied)\n", rawReadings, chargedReadings);
        ++failures;
    }
    const double rawPerS = rawNs > 0 ? double(rawReadings) / (double(rawNs) / 1e9) : 0;
    const double ratio = rawPerS > 0 ? readingsPerS / rawPerS : 0;
    std::fprintf(stderr, "pipeline: %.0f readings/s; raw inserts: %.0f readings/s (%lld rows); ratio %.3f\n",
        readingsPerS, rawPerS, rawRows, ratio);

    QJsonObject phases;
    if (profileRounds > 0) {
        phases = QJsonObject{
            {QStringLiteral("rounds"), profileRounds},
            {QStringLiteral("batch_ms"), round3(median(pTotal))},
            {QStringLiteral("recorder_ms"), round3(median(pRecorder))},
            {QStringLiteral("validation_alone_ms"), round3(median(pValidation))},
            {QStringLiteral("billing_ms"), round3(median(pBilling))},
            {QStringLiteral("points_of_accounts_ms"), round3(median(pPoints))},
            {QStringLiteral("controller_evaluate_ms"), round3(median(pEvaluate))},
            {QStringLiteral("meter_alarms_ms"), round3(median(pAlarms))},
            {QStringLiteral("commit_ms"), round3(median(pCommit))},
            {QStringLiteral("recorder_touched_list_alone_ms"), round3(touchedListMs)},
            {QStringLiteral("controller_preview_all_points_ms"), round3(previewAllMs)},
            {QStringLiteral("note"),
                QStringLiteral("medians of the profile rounds, run after the measured ones with a timed copy of "
                               "BatchPipeline's hook: recorder = flush start to hook start (validation, reading "
                               "inserts, meter_state, handing the job to the writer, BEGIN); validation_alone = "
                               "validateReading on the same data outside the transaction (part of recorder); "
                               "commit = hook end to flush return (COMMIT with fsync, the caches); "
                               "recorder_touched_list_alone = a replica of runBatch's linear QList search of "
                               "touched meters, for one batch (part of recorder); controller_preview_all_points = "
                               "control::preview(): the controller's point query and decision for every point in "
                               "one pass (controller_evaluate reads the batch's points the same way, then writes what changed)")},
        };
    }
    QJsonObject targets;
    targets[QStringLiteral("ratio_ge_0.5")] = ratio >= 0.5;
    if (site.meters >= 10'000)
        targets[QStringLiteral("batch_10k_lt_300ms")] = batchMedianMs < 300;

    const QJsonObject figures{
        {QStringLiteral("bench"), QStringLiteral("billing")},
        {QStringLiteral("meters"), site.meters},
        {QStringLiteral("intervals"), intervals},
        {QStringLiteral("buses"), site.buses},
        {QStringLiteral("charged_rounds"), chargedRounds},
        {QStringLiteral("readings"), chargedReadings},
        {QStringLiteral("readings_per_s"), qRound64(readingsPerS)},
        {QStringLiteral("raw_insert_per_s"), qRound64(rawPerS)},
        {QStringLiteral("ratio"), round3(ratio)},
        {QStringLiteral("batch_10k_ms"), round3(batchMedianMs)},
        {QStringLiteral("batch_max_ms"), round3(batchMaxMs)},
        {QStringLiteral("batch_open_ms"), round3(roundMs[0])},
        {QStringLiteral("batch_first_charged_ms"), round3(roundMs[1])},
        {QStringLiteral("raw_rows"), rawRows},
        {QStringLiteral("raw_batch_ms"), round3(median(rawRoundMs))},
        {QStringLiteral("ledger_ok"), verified.ok()},
        {QStringLiteral("ledger_entries"), verified.entries},
        {QStringLiteral("ledger_verify_s"), round3(verifyS)},
        {QStringLiteral("charge_intervals"), chargeIntervals},
        {QStringLiteral("expected_charge_intervals"), expectedIntervals},
        {QStringLiteral("commands_dispatched"), dispatched},
        {QStringLiteral("phases_ms"), phases},
        {QStringLiteral("targets"), targets},
        {QStringLiteral("failures"), failures},
        {QStringLiteral("note"),
            QStringLiteral(
                "readings_per_s: readings of the charged rounds (1..intervals-1) / their total flush time through "
                "Recorder + BatchPipeline (validate, store, rate, charge, control, commit). raw_insert_per_s: the "
                "rows those rounds wrote to readings, charge_intervals, ledger_entries and ledger_postings, "
                "inserted with plain prepared INSERTs into a second database of the same schema and site, one "
                "transaction per round through Store::write, counted as readings per second. ratio = "
                "readings_per_s / raw_insert_per_s. batch_10k_ms: median flush of rounds 2.. (batch_max_ms their "
                "maximum), for the meters given; raw_batch_ms: median time of one round's plain inserts. "
                "charge_intervals includes the profile rounds.")},
    };
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    return failures == 0 ? 0 : 1;
}
