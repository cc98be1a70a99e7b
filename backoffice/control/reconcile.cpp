#include "reconcile.h"

#include "alarms.h"
#include "controllog.h"

#include "api/check.h"
#include "api/money.h"
#include "poller/recorder.h"
#include "store/store.h"

#include <QtCore/QJsonObject>
#include <QtCore/QSet>

#include <algorithm>
#include <functional>
#include <optional>

namespace prepay::control {

using store::SqlError;
using store::Statement;

namespace {

const QString kBalanceDrift = QStringLiteral("balance_drift");
const QString kCountDrift = QStringLiteral("purchase_count_drift");
const QString kMeter = QStringLiteral("meter");

// The meter's purchase counter is a u16 that wraps (meter map: 65535 → 0).
constexpr qint64 kPurchaseCountModulo = 65'536;

// A difference of two purchase counts, as the meter's wrapping counter sees it: −32768..32767.
qint64 countDifference(qint64 a, qint64 b)
{
    const qint64 d = ((a - b) % kPurchaseCountModulo + kPurchaseCountModulo) % kPurchaseCountModulo;
    return d >= kPurchaseCountModulo / 2 ? d - kPurchaseCountModulo : d;
}

qint64 ceilFen(qint64 units)
{
    return (units + Remainder::kUnitsPerFen - 1) / Remainder::kUnitsPerFen;
}

// What meter_reconciliation holds for one installation, as read at the start of a reading.
struct Row
{
    std::optional<qint64> baselineReadingId; // nullopt = the installation's counters
    qint64 baselineBalanceFen = 0;
    qint64 baselinePurchaseCount = 0;
    qint64 baselinePurchasedFen = 0;
    qint64 chargedFen = 0;
    qint64 meterCostUnits = 0;
    qint64 intervalsThroughId = 0;
    qint64 commandsThroughId = 0;
    qint64 deliveredCount = 0;
    qint64 deliveredFen = 0;
    qint64 toleranceFen = kBalanceDriftFloorFen;
};

// The statements of one reconciliation pass, prepared once per batch.
class Pass
{
public:
    Pass(store::Transaction &tx, qint64 nowMs)
        : m_tx(tx)
        , m_nowMs(nowMs)
    { }

    bool failed() const { return m_failed; }
    ReconcileOutcome outcome;

    void reconcile(const poller::StoredReading &r)
    {
        if (m_failed || r.validation.status == poller::ValidationStatus::SwapHeld)
            return;
        const modbus::MeterSnapshot &s = r.snapshot;
        if (!s.balanceFen || !s.purchaseCount || !s.totalPurchasedFen)
            return; // not a meter-side prepaid reading (remote_only profile, or incomplete)

        // The meter's capability and the row, in one primary-key read each.
        Statement &load = prepared(m_load,
            "SELECT m.capability = 'prepaid', mr.installation_id IS NOT NULL, mr.baseline_reading_id, "
            "mr.baseline_balance_fen, mr.baseline_purchase_count, mr.baseline_purchased_fen, mr.charged_fen, "
            "mr.meter_cost_units, mr.intervals_through_id, mr.commands_through_id, mr.delivered_count, "
            "mr.delivered_fen, mr.tolerance_fen FROM meters m LEFT JOIN meter_reconciliation mr "
            "ON mr.installation_id = ?2 WHERE m.id = ?1");
        load.bind(1, r.meterId).bind(2, r.installationId);
        if (load.step() != Statement::Step::Row)
            return fail(load.error(), QStringLiteral("meter %1 not found").arg(r.meterId));
        const bool prepaid = load.int64(0) != 0;
        const bool exists = load.int64(1) != 0;
        Row row;
        if (prepaid && exists) {
            if (!load.isNull(2))
                row.baselineReadingId = load.int64(2);
            row.baselineBalanceFen = load.int64(3);
            row.baselinePurchaseCount = load.int64(4);
            row.baselinePurchasedFen = load.int64(5);
            row.chargedFen = load.int64(6);
            row.meterCostUnits = load.int64(7);
            row.intervalsThroughId = load.int64(8);
            row.commandsThroughId = load.int64(9);
            row.deliveredCount = load.int64(10);
            row.deliveredFen = load.int64(11);
            row.toleranceFen = load.int64(12);
        }
        load.reset();
        if (!prepaid)
            return;
        if (!exists && !createBaseline(r, &row))
            return;

        // The installation's new charge intervals: what the meter should have deducted.
        Statement &intervals = prepared(m_intervals,
            "SELECT ci.id, ci.to_reading_id, ci.amount_fen, ci.energy_sharp_wh * tv.price_sharp + ci.energy_peak_wh * "
            "tv.price_peak + ci.energy_flat_wh * tv.price_flat + ci.energy_valley_wh * tv.price_valley "
            "FROM charge_intervals ci JOIN tariff_versions tv ON tv.id = ci.tariff_version_id "
            "WHERE ci.installation_id = ?1 AND ci.id > ?2 ORDER BY ci.id");
        intervals.bind(1, r.installationId).bind(2, row.intervalsThroughId);
        std::optional<qint64> latestUnits;
        for (;;) {
            const Statement::Step step = intervals.step();
            if (step == Statement::Step::Error)
                return fail(intervals.error(), QStringLiteral("intervals of installation %1").arg(r.installationId));
            if (step == Statement::Step::Done)
                break;
            row.intervalsThroughId = intervals.int64(0);
            const qint64 units = intervals.int64(3);
            latestUnits = units;
            if (row.baselineReadingId && intervals.int64(1) <= *row.baselineReadingId)
                continue; // ended before the baseline reading: already in its counters
            row.chargedFen = checked::add(row.chargedFen, intervals.int64(2));
            row.meterCostUnits = checked::add(row.meterCostUnits, units);
        }
        intervals.reset();
        if (latestUnits)
            row.toleranceFen = std::max(kBalanceDriftFloorFen, ceilFen(*latestUnits));

        // The meter's recharge commands past the cursor: finished ones at the front move it.
        Statement &commands = prepared(m_commands,
            "SELECT id, state, amount_fen, purchase_seq FROM meter_commands WHERE meter_id = ?1 AND kind = 'recharge' "
            "AND id > ?2 ORDER BY id");
        commands.bind(1, r.meterId).bind(2, row.commandsThroughId);
        bool prefixFinished = true;
        qint64 pendingVerifiedCount = 0; // verified, but behind a command still live: not persisted yet
        qint64 pendingVerifiedFen = 0;
        qint64 inFlightCount = 0;
        qint64 inFlightFen = 0;
        for (;;) {
            const Statement::Step step = commands.step();
            if (step == Statement::Step::Error)
                return fail(commands.error(), QStringLiteral("recharges of meter %1").arg(r.meterId));
            if (step == Statement::Step::Done)
                break;
            const QString state = commands.text(1);
            const qint64 amount = commands.int64(2);
            const bool live = state == QLatin1StringView("queued") || state == QLatin1StringView("sent")
                || state == QLatin1StringView("acknowledged");
            // A recharge belongs after the baseline when its sequence follows the baseline's count.
            const bool afterBaseline = !commands.isNull(3)
                && countDifference(commands.int64(3), row.baselinePurchaseCount) > 0;
            if (live) {
                prefixFinished = false;
                if (state != QLatin1StringView("queued")) { // queued: never sent, cannot be on the meter
                    ++inFlightCount;
                    inFlightFen = checked::add(inFlightFen, amount);
                }
                continue;
            }
            const bool delivered = state == QLatin1StringView("verified") && afterBaseline;
            if (prefixFinished) {
                row.commandsThroughId = commands.int64(0);
                if (delivered) {
                    ++row.deliveredCount;
                    row.deliveredFen = checked::add(row.deliveredFen, amount);
                }
            } else if (delivered) {
                ++pendingVerifiedCount;
                pendingVerifiedFen = checked::add(pendingVerifiedFen, amount);
            }
        }
        commands.reset();

        // The comparison.
        const qint64 deliveredCount = row.deliveredCount + pendingVerifiedCount;
        const qint64 deliveredFen = checked::add(row.deliveredFen, pendingVerifiedFen);
        const qint64 countDrift = countDifference(qint64(*s.purchaseCount), row.baselinePurchaseCount + deliveredCount);
        const qint64 purchaseDriftFen
            = checked::sub(checked::sub(*s.totalPurchasedFen, row.baselinePurchasedFen), deliveredFen);
        const qint64 expectedConsumedFen = row.meterCostUnits / Remainder::kUnitsPerFen;
        const qint64 expectedBalanceFen
            = checked::sub(checked::add(row.baselineBalanceFen, deliveredFen), expectedConsumedFen);
        const qint64 balanceDrift = checked::sub(*s.balanceFen, expectedBalanceFen);
        const bool countAlarm = countDrift < 0 || countDrift > inFlightCount;
        const bool balanceAlarm
            = balanceDrift < -row.toleranceFen || balanceDrift > checked::add(inFlightFen, row.toleranceFen);

        Statement &update = prepared(m_update,
            "UPDATE meter_reconciliation SET last_reading_id = ?2, balance_drift_fen = ?3, purchase_drift_fen = ?4, "
            "purchase_count_drift = ?5, charged_fen = ?6, meter_cost_units = ?7, intervals_through_id = ?8, "
            "commands_through_id = ?9, delivered_count = ?10, delivered_fen = ?11, in_flight_count = ?12, "
            "in_flight_fen = ?13, tolerance_fen = ?14, updated_at_ms = ?15 WHERE installation_id = ?1");
        update.bind(1, r.installationId).bind(2, r.readingId).bind(3, balanceDrift).bind(4, purchaseDriftFen);
        update.bind(5, countDrift).bind(6, row.chargedFen).bind(7, row.meterCostUnits).bind(8, row.intervalsThroughId);
        update.bind(9, row.commandsThroughId).bind(10, row.deliveredCount).bind(11, row.deliveredFen);
        update.bind(12, inFlightCount).bind(13, inFlightFen).bind(14, row.toleranceFen).bind(15, m_nowMs);
        if (const SqlError e = update.run(); !e.ok())
            return fail(e, QStringLiteral("reconciliation of installation %1").arg(r.installationId));
        ++outcome.reconciled;

        loadOpenAlarms();
        if (m_failed)
            return;
        // The alarm's detail, built only when an alarm is raised (a QJsonObject per meter and
        // batch would cost more than the reconciliation's reads).
        const auto detail = [&] {
            return QJsonObject{{QStringLiteral("installation_id"), r.installationId},
            {QStringLiteral("reading_id"), r.readingId}, {QStringLiteral("balance_fen"), *s.balanceFen},
            {QStringLiteral("expected_balance_fen"), expectedBalanceFen},
            {QStringLiteral("balance_drift_fen"), balanceDrift}, {QStringLiteral("tolerance_fen"), row.toleranceFen},
            {QStringLiteral("purchase_count"), qint64(*s.purchaseCount)},
            {QStringLiteral("expected_purchase_count"),
                (row.baselinePurchaseCount + deliveredCount) % kPurchaseCountModulo},
            {QStringLiteral("purchase_count_drift"), countDrift},
            {QStringLiteral("purchase_drift_fen"), purchaseDriftFen},
            {QStringLiteral("in_flight_count"), inFlightCount}, {QStringLiteral("in_flight_fen"), inFlightFen}};
        };
        setDriftAlarm(kCountDrift, Severity::Critical, countAlarm, r.meterId, detail, &m_openCount, &outcome.countAlarms);
        setDriftAlarm(kBalanceDrift, Severity::Warning, balanceAlarm, r.meterId, detail, &m_openBalance, &outcome.balanceAlarms);
    }

private:
    Statement &prepared(std::optional<Statement> &slot, const char *sql)
    {
        if (!slot)
            slot.emplace(m_tx.prepare(QString::fromUtf8(sql)));
        return *slot;
    }

    void fail(const SqlError &error, const QString &what)
    {
        if (m_failed)
            return;
        m_failed = true;
        const SqlError e = error.ok() ? SqlError{1, 1, what} : error;
        qCWarning(lcControl, "reconciliation failed: %s (%s)", qUtf8Printable(what), qUtf8Printable(e.toString()));
        m_tx.fail(e);
    }

    // The installation's first comparison: its baseline, written as a new row.
    bool createBaseline(const poller::StoredReading &r, Row *row)
    {
        Statement &inst = prepared(m_installation,
            "SELECT initial_balance_fen, initial_purchase_count, initial_purchased_fen, initial_energy_wh "
            "FROM meter_installations WHERE id = ?1");
        inst.bind(1, r.installationId);
        if (inst.step() != Statement::Step::Row) {
            fail(inst.error(), QStringLiteral("installation %1 not found").arg(r.installationId));
            return false;
        }
        const bool counters = !inst.isNull(0) && !inst.isNull(1) && !inst.isNull(2) && !inst.isNull(3);
        std::optional<qint64> consumedFen;
        if (counters) {
            row->baselineBalanceFen = inst.int64(0);
            row->baselinePurchaseCount = inst.int64(1);
            row->baselinePurchasedFen = inst.int64(2);
        }
        inst.reset();
        if (!counters) {
            Statement &first = prepared(m_firstReading,
                "SELECT id, balance_fen, purchase_count, total_purchased_fen, consumed_total_fen FROM readings "
                "WHERE installation_id = ?1 AND balance_fen IS NOT NULL AND purchase_count IS NOT NULL "
                "AND total_purchased_fen IS NOT NULL AND validation <> 'swap_held' ORDER BY taken_at_ms, id LIMIT 1");
            first.bind(1, r.installationId);
            // This batch's reading is stored already, so there is at least one.
            if (first.step() != Statement::Step::Row) {
                fail(first.error(), QStringLiteral("first reading of installation %1").arg(r.installationId));
                return false;
            }
            row->baselineReadingId = first.int64(0);
            row->baselineBalanceFen = first.int64(1);
            row->baselinePurchaseCount = first.int64(2);
            row->baselinePurchasedFen = first.int64(3);
            if (!first.isNull(4))
                consumedFen = first.int64(4);
            first.reset();
        }
        Statement &insert = prepared(m_insert,
            "INSERT INTO meter_reconciliation (installation_id, meter_id, baseline_reading_id, baseline_balance_fen, "
            "baseline_purchase_count, baseline_purchased_fen, baseline_consumed_fen, tolerance_fen, updated_at_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        insert.bind(1, r.installationId).bind(2, r.meterId);
        row->baselineReadingId ? insert.bind(3, *row->baselineReadingId) : insert.bindNull(3);
        insert.bind(4, row->baselineBalanceFen).bind(5, row->baselinePurchaseCount).bind(6, row->baselinePurchasedFen);
        consumedFen ? insert.bind(7, *consumedFen) : insert.bindNull(7);
        insert.bind(8, row->toleranceFen).bind(9, m_nowMs);
        if (const SqlError e = insert.run(); !e.ok()) {
            fail(e, QStringLiteral("baseline of installation %1").arg(r.installationId));
            return false;
        }
        ++outcome.baselined;
        qCInfo(lcControl, "installation %lld (meter %lld): reconciliation baseline %s: balance %lld fen, %lld purchases",
            r.installationId, r.meterId,
            row->baselineReadingId ? qUtf8Printable(QStringLiteral("reading %1").arg(*row->baselineReadingId))
                                   : "the counters recorded at installation",
            row->baselineBalanceFen, row->baselinePurchaseCount);
        return true;
    }

    // The open drift alarms, once per batch: few, and read through the alarms_one_open index.
    void loadOpenAlarms()
    {
        if (m_alarmsLoaded)
            return;
        m_alarmsLoaded = true;
        Statement s = m_tx.prepare(QStringLiteral(
            "SELECT kind, subject_id FROM alarms WHERE kind IN ('balance_drift', 'purchase_count_drift') "
            "AND subject_kind = 'meter' AND cleared_at_ms IS NULL"));
        for (;;) {
            const Statement::Step step = s.step();
            if (step == Statement::Step::Error)
                return fail(s.error(), QStringLiteral("open drift alarms"));
            if (step == Statement::Step::Done)
                return;
            (s.text(0) == kBalanceDrift ? m_openBalance : m_openCount).insert(s.int64(1));
        }
    }

    // Writes the alarm only when its state changes.
    void setDriftAlarm(const QString &kind, Severity severity, bool active, qint64 meterId,
        const std::function<QJsonObject()> &makeDetail, QSet<qint64> *open, int *raisedCount)
    {
        const AlarmSubject subject{kMeter, meterId};
        if (active && !open->contains(meterId)) {
            const QJsonObject detail = makeDetail();
            if (raiseAlarm(m_tx, kind, severity, subject, detail, m_nowMs)) {
                ++*raisedCount;
                qCWarning(lcControl, "meter %lld: %s raised: balance drift %lld fen (tolerance %lld), purchase count "
                                     "drift %lld",
                    meterId, qUtf8Printable(kind), qint64(detail.value(QStringLiteral("balance_drift_fen")).toInteger()),
                    qint64(detail.value(QStringLiteral("tolerance_fen")).toInteger()),
                    qint64(detail.value(QStringLiteral("purchase_count_drift")).toInteger()));
            }
            open->insert(meterId);
        } else if (!active && open->contains(meterId)) {
            if (clearAlarm(m_tx, kind, subject, m_nowMs)) {
                ++outcome.cleared;
                qCInfo(lcControl, "meter %lld: %s cleared", meterId, qUtf8Printable(kind));
            }
            open->remove(meterId);
        }
        if (!m_tx.error().ok())
            m_failed = true;
    }

    store::Transaction &m_tx;
    const qint64 m_nowMs;
    bool m_failed = false;
    bool m_alarmsLoaded = false;
    QSet<qint64> m_openBalance;
    QSet<qint64> m_openCount;
    std::optional<Statement> m_load, m_installation, m_firstReading, m_insert, m_intervals, m_commands, m_update;
};

} // namespace

ReconcileOutcome reconcileBatch(store::Transaction &tx, const QList<poller::StoredReading> &readings, qint64 nowMs)
{
    Pass pass(tx, nowMs);
    for (const poller::StoredReading &r : readings) {
        pass.reconcile(r);
        if (pass.failed())
            break;
    }
    return pass.outcome;
}

bool rebaseline(store::Transaction &tx, qint64 installationId, qint64 nowMs)
{
    Statement s = tx.prepare(QStringLiteral(
        "SELECT mr.meter_id, mr.last_reading_id, r.balance_fen, r.purchase_count, r.total_purchased_fen, "
        "r.consumed_total_fen FROM meter_reconciliation mr JOIN readings r ON r.id = mr.last_reading_id "
        "WHERE mr.installation_id = ?1"));
    s.bind(1, installationId);
    const Statement::Step step = s.step();
    if (step == Statement::Step::Error) {
        tx.fail(s.error());
        return false;
    }
    if (step == Statement::Step::Done)
        return false;
    const qint64 meterId = s.int64(0);
    const qint64 readingId = s.int64(1);
    const qint64 balance = s.int64(2);
    const qint64 count = s.int64(3);
    const qint64 purchased = s.int64(4);
    const bool hasConsumed = !s.isNull(5); // a plain pair: GCC 12 -O2 misreads an optional here
    const qint64 consumed = s.int64(5);
    s.reset();
    // The cursors stay: intervals up to the reading are in its counters now (and later ones are
    // told apart by baseline_reading_id), finished recharges up to the cursor too, and the ones
    // past it are told apart by their purchase sequence against the new count.
    Statement u = tx.prepare(QStringLiteral(
        "UPDATE meter_reconciliation SET baseline_reading_id = ?2, baseline_balance_fen = ?3, "
        "baseline_purchase_count = ?4, baseline_purchased_fen = ?5, baseline_consumed_fen = ?6, charged_fen = 0, "
        "meter_cost_units = 0, delivered_count = 0, delivered_fen = 0, balance_drift_fen = 0, "
        "purchase_drift_fen = 0, purchase_count_drift = 0, in_flight_count = 0, in_flight_fen = 0, "
        "updated_at_ms = ?7 WHERE installation_id = ?1"));
    u.bind(1, installationId).bind(2, readingId).bind(3, balance).bind(4, count).bind(5, purchased);
    hasConsumed ? u.bind(6, consumed) : u.bindNull(6);
    u.bind(7, nowMs);
    if (const SqlError e = u.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    const AlarmSubject subject{kMeter, meterId};
    clearAlarm(tx, kBalanceDrift, subject, nowMs);
    clearAlarm(tx, kCountDrift, subject, nowMs);
    qCInfo(lcControl, "installation %lld (meter %lld): reconciliation rebaselined at reading %lld", installationId,
        meterId, readingId);
    return tx.error().ok();
}

} // namespace prepay::control
