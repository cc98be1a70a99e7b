#include "recorder.h"

#include "api/check.h"
#include "api/clock.h"
#include "pollerlog.h"
#include "store/store.h"

#include <QtCore/QSet>

#include <deque>

namespace prepay::poller {

using store::SqlError;
using store::Statement;
using store::Transaction;
namespace v1 = meter::v1;

namespace {

QString sourceOf(ReadReason reason)
{
    switch (reason) {
    case ReadReason::Cycle:
    case ReadReason::Probe: return QStringLiteral("poll");
    case ReadReason::ReadNow: return QStringLiteral("on_demand");
    case ReadReason::Verify: return QStringLiteral("verify");
    }
    Q_UNREACHABLE();
}

// readings.trip_reason has a closed set from schema v1 that folds the map's rarer reasons into
// 'other'; meter_state keeps the map's own name.
QString readingTripReason(v1::TripReason reason)
{
    switch (reason) {
    case v1::TripReason::MalignantLoad:
    case v1::TripReason::TimeControl: return QStringLiteral("other");
    default: return v1::tripReasonName(reason);
    }
}

v1::RelayState relayStateFrom(const QString &name)
{
    return name == u"open" ? v1::RelayState::Open : v1::RelayState::Closed;
}

v1::RelayMode relayModeFrom(const QString &name)
{
    if (name == u"force_on")
        return v1::RelayMode::ForceOn;
    if (name == u"force_off")
        return v1::RelayMode::ForceOff;
    return v1::RelayMode::Auto;
}

v1::TripReason tripReasonFrom(const QString &name)
{
    for (auto r : {v1::TripReason::Arrears, v1::TripReason::Overload, v1::TripReason::ForcedOff,
             v1::TripReason::MalignantLoad, v1::TripReason::TimeControl}) {
        if (name == v1::tripReasonName(r))
            return r;
    }
    return v1::TripReason::None;
}

CommState commStateFrom(const QString &name)
{
    if (name == u"online")
        return CommState::Online;
    if (name == u"offline")
        return CommState::Offline;
    return CommState::Unknown;
}

template<typename T>
void bindOptional(Statement &s, int index, const std::optional<T> &value)
{
    if (value)
        s.bind(index, qint64(*value));
    else
        s.bindNull(index);
}

void bindText(Statement &s, int index, const QString &value)
{
    if (value.isNull())
        s.bindNull(index);
    else
        s.bind(index, value);
}

template<typename T>
std::optional<T> optionalColumn(const Statement &s, int column)
{
    if (s.isNull(column))
        return std::nullopt;
    return T(s.int64(column));
}

PreviousReading previousOf(qint64 readingId, qint64 takenAtMs, const modbus::MeterSnapshot &s)
{
    PreviousReading p;
    p.readingId = readingId;
    p.takenAtMs = takenAtMs;
    p.energyRegister = s.energyTotalRegister;
    for (int i = 0; i < 4; ++i)
        p.slotRegisters[i] = quint32(s.slotEnergyWh[i] / v1::kWhPerEnergyUnit);
    p.serial = s.serialNumber.value_or(0);
    p.powerW = s.activePowerW;
    return p;
}

const QString kInsertReading = QStringLiteral(
    "INSERT INTO readings (installation_id, meter_id, metering_point_id, taken_at_ms, meter_time_ms, source, "
    "    energy_total_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, power_w, balance_fen, "
    "    purchase_count, total_purchased_fen, consumed_total_fen, last_recharge_txn, relay_state, relay_mode, "
    "    trip_reason, status_word, tariff_version_active, validation, serial_number, validation_note) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
    "    ?23, ?24, ?25)");

// The twin is updated in place (a plain UPDATE by its key costs about half an upsert, and every
// meter of a batch has one); a meter seen for the first time gets its row inserted.
const QString kUpdateState = QStringLiteral(
    "UPDATE meter_state SET last_reading_id = ?2, last_read_at_ms = ?3, energy_total_wh = ?4, power_w = ?5, "
    "    balance_fen = ?6, purchase_count = ?7, relay_state = ?8, relay_mode = ?9, trip_reason = ?10, "
    "    status_word = ?11, comm_state = ?12, comm_state_since_ms = ?13, consecutive_failures = ?14, "
    "    last_error = ?15, last_error_code = ?16, last_error_at_ms = ?17, updated_at_ms = ?18 "
    "WHERE meter_id = ?1");
const QString kInsertState = QStringLiteral(
    "INSERT INTO meter_state (meter_id, last_reading_id, last_read_at_ms, energy_total_wh, power_w, balance_fen, "
    "    purchase_count, relay_state, relay_mode, trip_reason, status_word, comm_state, comm_state_since_ms, "
    "    consecutive_failures, last_error, last_error_code, last_error_at_ms, updated_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)");

const QString kUpsertHealth = QStringLiteral(
    "INSERT INTO bus_health (bus_id, last_cycle_started_at_ms, last_cycle_duration_ms, last_cycle_meters, "
    "    last_cycle_errors, offline_meters, requests_total, errors_total, updated_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (bus_id) DO UPDATE SET last_cycle_started_at_ms = excluded.last_cycle_started_at_ms, "
    "    last_cycle_duration_ms = excluded.last_cycle_duration_ms, last_cycle_meters = excluded.last_cycle_meters, "
    "    last_cycle_errors = excluded.last_cycle_errors, offline_meters = excluded.offline_meters, "
    "    requests_total = excluded.requests_total, errors_total = excluded.errors_total, "
    "    updated_at_ms = excluded.updated_at_ms");

// The energy registers as a readings row stores them: the raw total register in Wh (not
// unwrapped: a reading is what the meter showed), and the slot registers only if the meter has
// them. One place, for the INSERT and for the StoredReading handed to the batch hook.
struct StoredEnergy
{
    qint64 totalWh = 0;
    std::optional<std::array<qint64, 4>> slotsWh;
};

StoredEnergy storedEnergy(const MeterTarget &m, const modbus::MeterSnapshot &snap)
{
    StoredEnergy e;
    e.totalWh = qint64(snap.energyTotalRegister) * v1::kWhPerEnergyUnit;
    if (m.hasTouRegisters)
        e.slotsWh = snap.slotEnergyWh;
    return e;
}

SqlError insertReading(
    Statement &s, const MeterTarget &m, const ReadingResult &r, const Validation &v, const StoredEnergy &energy)
{
    const modbus::MeterSnapshot &snap = *r.snapshot;
    s.bind(1, m.installationId).bind(2, m.meterId).bind(3, m.meteringPointId).bind(4, r.takenAtMs);
    if (snap.meterTimeS)
        s.bind(5, *snap.meterTimeS * 1000);
    else
        s.bindNull(5);
    s.bind(6, sourceOf(r.reason));
    s.bind(7, energy.totalWh);
    for (int i = 0; i < 4; ++i) {
        if (energy.slotsWh)
            s.bind(8 + i, (*energy.slotsWh)[size_t(i)]);
        else
            s.bindNull(8 + i);
    }
    s.bind(12, snap.activePowerW);
    // A remote-only meter keeps no money: whatever a profile might decode there is not a balance.
    const auto prepaidOnly = [&m](const auto &value) { return m.prepaid ? value : std::nullopt; };
    bindOptional(s, 13, prepaidOnly(snap.balanceFen));
    bindOptional(s, 14, prepaidOnly(snap.purchaseCount));
    bindOptional(s, 15, prepaidOnly(snap.totalPurchasedFen));
    bindOptional(s, 16, prepaidOnly(snap.consumedMoneyTotalFen));
    bindOptional(s, 17, prepaidOnly(snap.lastRechargeTxn));
    s.bind(18, v1::relayStateName(snap.relayState));
    s.bind(19, v1::relayModeName(snap.relayMode));
    s.bind(20, readingTripReason(snap.tripReason));
    bindOptional(s, 21, snap.statusWord);
    bindOptional(s, 22, snap.tariffVersionActive);
    s.bind(23, validationCode(v.status));
    bindOptional(s, 24, snap.serialNumber);
    bindText(s, 25, v.note.isEmpty() ? QString() : v.note);
    return s.run();
}

SqlError bindState(Statement &s, const MeterStateView &view, const MeterTarget &m, qint64 nowMs)
{
    s.bind(1, view.meterId);
    bindOptional(s, 2, view.lastReadingId);
    if (view.lastReadingId)
        s.bind(3, view.lastReadAtMs);
    else
        s.bindNull(3);
    if (const auto &snap = view.lastSnapshot) {
        s.bind(4, qint64(snap->energyTotalRegister) * v1::kWhPerEnergyUnit);
        s.bind(5, snap->activePowerW);
        bindOptional(s, 6, m.prepaid ? snap->balanceFen : std::nullopt);
        bindOptional(s, 7, m.prepaid ? snap->purchaseCount : std::nullopt);
        s.bind(8, v1::relayStateName(snap->relayState));
        s.bind(9, v1::relayModeName(snap->relayMode));
        s.bind(10, v1::tripReasonName(snap->tripReason));
        bindOptional(s, 11, snap->statusWord);
    } else {
        for (int i = 4; i <= 11; ++i)
            s.bindNull(i);
    }
    s.bind(12, commStateCode(view.commState));
    s.bind(13, view.commStateSinceMs);
    s.bind(14, view.consecutiveFailures);
    bindText(s, 15, view.lastErrorAtMs ? view.lastError : QString());
    bindText(s, 16, view.lastErrorAtMs ? view.lastErrorCode : QString());
    if (view.lastErrorAtMs)
        s.bind(17, view.lastErrorAtMs);
    else
        s.bindNull(17);
    s.bind(18, nowMs);
    return s.run();
}

// Writes the twin of one meter: UPDATE, or INSERT when it has no row yet.
SqlError writeState(store::Connection &db, Statement &update, Statement &insert, const MeterStateView &view,
    const MeterTarget &m, qint64 nowMs)
{
    if (const SqlError e = bindState(update, view, m, nowMs); !e.ok() || db.changes() > 0)
        return e;
    return bindState(insert, view, m, nowMs);
}

SqlError upsertHealth(Statement &s, const BusHealth &h, qint64 nowMs)
{
    s.bind(1, h.busId);
    if (h.lastCycleStartedAtMs)
        s.bind(2, h.lastCycleStartedAtMs);
    else
        s.bindNull(2);
    s.bind(3, h.lastCycleDurationMs).bind(4, h.lastCycleMeters).bind(5, h.lastCycleErrors).bind(6, h.offlineMeters);
    s.bind(7, h.requestsTotal).bind(8, h.errorsTotal).bind(9, nowMs);
    return s.run();
}

} // namespace

struct Recorder::Impl
{
    // What one batch job hands back; applied to the caches only once the batch committed.
    struct BatchOutcome
    {
        QHash<qint64, PreviousReading> previous; // by installation
        QHash<qint64, MeterStateView> states;    // by meter
        QList<StoredReading> stored;
    };
    enum class FlushResult {
        Nothing,
        Committed,
        Failed
    };
    struct Pending
    {
        qint64 arrivedMs = 0; // monotonic
        ReadingResult result;
    };

    Impl(store::Store &s, const Clock &c, const PollPlan &p, RecorderLimits l)
        : store(s)
        , clock(c)
        , plan(p)
        , limits(l)
    {
        for (const BusPlan &bus : std::as_const(plan.buses)) {
            for (const MeterTarget &m : bus.meters)
                targets.insert(m.meterId, &m);
        }
    }

    bool load(QString *error);
    FlushResult flushOne();
    bool dueLocked(qint64 nowMs) const;
    BatchOutcome runBatch(Transaction &tx, const QList<ReadingResult> &batch, const QList<BusHealth> &health,
        BatchOutcome known, const BatchHook &hook, qint64 nowMs) const;

    store::Store &store;
    const Clock &clock;
    const PollPlan plan; // owns the targets below; never changes
    const RecorderLimits limits;
    QHash<qint64, const MeterTarget *> targets;

    // One batch in flight at a time, so the caches a job starts from are the committed state.
    // Held while waiting for the writer; the writer thread never takes it.
    std::mutex flushMutex;

    // Everything below is guarded by `mutex`, which is never held while waiting for the writer.
    mutable std::mutex mutex;
    std::deque<Pending> pending;
    QHash<qint64, BusHealth> pendingHealth;
    qint64 healthArrivedMs = -1;
    bool loaded = false;
    QHash<qint64, PreviousReading> previous; // by installation: the last reading stored for it
    QHash<qint64, MeterStateView> states;    // by meter: as in meter_state
    BatchHook hook;
    std::function<void(bool)> afterBatch;
    Stats stats;
    bool failing = false; // the last batch failed (logged once per episode)
    qint64 retryAtMs = 0; // monotonic; flushIfDue() waits until then after a failure
};

// Reads the previous reading of each planned installation and the meter_state rows, through a
// reader (committed data only). Only this recorder writes readings for these installations
// while it runs, so what it finds plus what it stores later is the complete history.
bool Recorder::Impl::load(QString *error)
{
    SqlError e;
    std::unique_ptr<store::Connection> db = store.openReader(&e);
    if (!db) {
        *error = QStringLiteral("cannot open a reader: %1").arg(e.toString());
        return false;
    }
    QHash<qint64, PreviousReading> loadedPrevious;
    QHash<qint64, MeterStateView> loadedStates;
    QHash<qint64, qint64> lastReadingInstallation; // meter → installation of its last reading

    Statement st = db->prepare(QStringLiteral(
        "SELECT ms.meter_id, ms.last_reading_id, ms.last_read_at_ms, ms.energy_total_wh, ms.power_w, ms.balance_fen, "
        "       ms.purchase_count, ms.relay_state, ms.relay_mode, ms.trip_reason, ms.status_word, ms.comm_state, "
        "       ms.comm_state_since_ms, ms.consecutive_failures, ms.last_error, ms.last_error_code, "
        "       ms.last_error_at_ms, r.installation_id, r.meter_time_ms, r.energy_sharp_wh, r.energy_peak_wh, "
        "       r.energy_flat_wh, r.energy_valley_wh, r.total_purchased_fen, r.consumed_total_fen, "
        "       r.last_recharge_txn, r.tariff_version_active, r.serial_number, r.validation "
        "  FROM meter_state ms LEFT JOIN readings r ON r.id = ms.last_reading_id"));
    Statement::Step step;
    while ((step = st.step()) == Statement::Step::Row) {
        const MeterTarget *target = targets.value(st.int64(0));
        if (!target)
            continue;
        MeterStateView view;
        view.meterId = target->meterId;
        if (!st.isNull(1)) {
            view.lastReadingId = st.int64(1);
            view.lastReadAtMs = st.int64(2);
            modbus::MeterSnapshot snap;
            snap.profile = target->profile ? target->profile->name() : QString();
            snap.energyTotalWh = st.int64(3);
            snap.energyTotalRegister = quint32(snap.energyTotalWh / v1::kWhPerEnergyUnit);
            snap.activePowerW = st.int64(4);
            snap.balanceFen = optionalColumn<qint64>(st, 5);
            snap.purchaseCount = optionalColumn<quint16>(st, 6);
            snap.relayState = relayStateFrom(st.text(7));
            snap.relayMode = relayModeFrom(st.text(8));
            snap.tripReason = tripReasonFrom(st.text(9));
            snap.statusWord = optionalColumn<quint16>(st, 10);
            if (!st.isNull(18))
                snap.meterTimeS = st.int64(18) / 1000;
            for (int i = 0; i < 4; ++i)
                snap.slotEnergyWh[i] = st.isNull(19 + i) ? 0 : st.int64(19 + i);
            snap.totalPurchasedFen = optionalColumn<qint64>(st, 23);
            snap.consumedMoneyTotalFen = optionalColumn<qint64>(st, 24);
            snap.lastRechargeTxn = optionalColumn<quint32>(st, 25);
            snap.tariffVersionActive = optionalColumn<quint16>(st, 26);
            snap.serialNumber = optionalColumn<quint32>(st, 27);
            if (!st.isNull(17))
                lastReadingInstallation.insert(view.meterId, st.int64(17));
            if (st.int64(17) == target->installationId && st.text(28) != u"swap_held")
                loadedPrevious.insert(target->installationId, previousOf(*view.lastReadingId, view.lastReadAtMs, snap));
            view.lastSnapshot = std::move(snap);
        }
        view.commState = commStateFrom(st.text(11));
        view.commStateSinceMs = st.int64(12);
        view.consecutiveFailures = int(st.int64(13));
        if (!st.isNull(16)) {
            view.lastError = st.text(14);
            view.lastErrorCode = st.text(15);
            view.lastErrorAtMs = st.int64(16);
        }
        loadedStates.insert(view.meterId, std::move(view));
    }
    if (step == Statement::Step::Error) {
        *error = QStringLiteral("cannot read meter_state: %1").arg(st.error().toString());
        return false;
    }

    // An installation whose meter's last reading is not its own usable one (a new installation,
    // a swap_held reading, meter_state lost): its latest other reading by time, if any.
    Statement latest = db->prepare(QStringLiteral(
        "SELECT id, taken_at_ms, energy_total_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, "
        "       power_w, serial_number "
        "  FROM readings WHERE installation_id = ?1 AND validation <> 'swap_held' "
        " ORDER BY taken_at_ms DESC, id DESC LIMIT 1"));
    for (const MeterTarget *m : std::as_const(targets)) {
        if (loadedPrevious.contains(m->installationId))
            continue;
        latest.reset();
        latest.bind(1, m->installationId);
        step = latest.step();
        if (step == Statement::Step::Error) {
            *error = QStringLiteral("cannot read the readings of installation %1: %2")
                         .arg(m->installationId)
                         .arg(latest.error().toString());
            return false;
        }
        if (step != Statement::Step::Row)
            continue;
        PreviousReading p;
        p.readingId = latest.int64(0);
        p.takenAtMs = latest.int64(1);
        p.energyRegister = quint32(latest.int64(2) / v1::kWhPerEnergyUnit);
        for (int i = 0; i < 4; ++i)
            p.slotRegisters[i] = latest.isNull(3 + i) ? 0 : quint32(latest.int64(3 + i) / v1::kWhPerEnergyUnit);
        p.powerW = latest.isNull(7) ? 0 : latest.int64(7);
        p.serial = latest.isNull(8) ? m->serial : quint32(latest.int64(8));
        loadedPrevious.insert(m->installationId, p);
    }

    std::lock_guard lock(mutex);
    previous = std::move(loadedPrevious);
    states = std::move(loadedStates);
    loaded = true;
    return true;
}

// The batch's write job, on the writer thread: validate each reading against the last one stored
// for its installation (`known` holds the committed caches for this batch's meters, and is
// updated as the batch goes, so two readings of one meter in a batch chain), insert it, keep the
// meter_state twin and bus_health, then the hook. Any failure keeps nothing.
Recorder::Impl::BatchOutcome Recorder::Impl::runBatch(Transaction &tx, const QList<ReadingResult> &batch,
    const QList<BusHealth> &health, BatchOutcome known, const BatchHook &batchHook, qint64 nowMs) const
{
    Statement insert = tx.prepare(kInsertReading);
    QList<qint64> touched; // meters whose meter_state row changes, in first-seen order
    QSet<qint64> touchedSet;
    for (const ReadingResult &r : batch) {
        const MeterTarget *m = targets.value(r.meterId);
        if (!m)
            continue; // filtered out by record()
        auto viewIt = known.states.find(r.meterId);
        if (viewIt == known.states.end()) {
            MeterStateView fresh;
            fresh.meterId = r.meterId;
            fresh.commStateSinceMs = r.takenAtMs;
            viewIt = known.states.insert(r.meterId, fresh);
            touched.append(r.meterId);
            touchedSet.insert(r.meterId);
        } else if (!touchedSet.contains(r.meterId)) {
            touched.append(r.meterId);
            touchedSet.insert(r.meterId);
        }
        MeterStateView &view = *viewIt;

        if (r.ok()) {
            const auto prevIt = known.previous.constFind(m->installationId);
            const std::optional<PreviousReading> prev
                = prevIt == known.previous.cend() ? std::nullopt : std::optional<PreviousReading>(*prevIt);
            const Validation v = validateReading(prev, *r.snapshot, r.takenAtMs, *m);
            const StoredEnergy energy = storedEnergy(*m, *r.snapshot);
            if (const SqlError e = insertReading(insert, *m, r, v, energy); !e.ok()) {
                tx.fail(e);
                return {};
            }
            const qint64 id = tx.db().lastInsertRowId();
            // A swap_held reading came from another meter: the next reading of the installed
            // one is compared with its own last reading, so the interval stays whole.
            if (v.status != ValidationStatus::SwapHeld)
                known.previous.insert(m->installationId, previousOf(id, r.takenAtMs, *r.snapshot));
            view.lastReadingId = id;
            view.lastReadAtMs = r.takenAtMs;
            view.lastSnapshot = *r.snapshot;
            known.stored.append(StoredReading{id, m->meterId, m->installationId, m->meteringPointId, r.takenAtMs, v,
                *r.snapshot, energy.totalWh, energy.slotsWh});
        } else {
            view.lastError = r.error.message.isEmpty() ? r.error.code() : r.error.message;
            view.lastErrorCode = r.error.code();
            view.lastErrorAtMs = r.takenAtMs;
        }
        // The worker owns the circuit breaker; the twin records what it decided.
        if (view.commState != r.commState)
            view.commStateSinceMs = r.takenAtMs;
        view.commState = r.commState;
        view.consecutiveFailures = r.consecutiveFailures;
    }

    Statement updateState = tx.prepare(kUpdateState);
    Statement insertState = tx.prepare(kInsertState);
    for (qint64 meterId : std::as_const(touched)) {
        if (const SqlError e = writeState(
                tx.db(), updateState, insertState, known.states[meterId], *targets.value(meterId), nowMs);
            !e.ok()) {
            tx.fail(e);
            return {};
        }
    }

    // Health is for people: a row SQLite refuses (a bus deleted meanwhile) must not cost the
    // readings, so it is logged and skipped (the failed statement alone is undone).
    Statement busHealth = tx.prepare(kUpsertHealth);
    for (const BusHealth &h : health) {
        if (const SqlError e = upsertHealth(busHealth, h, nowMs); !e.ok())
            qCWarning(lcPoller, "bus_health of bus %lld not stored: %s", h.busId, qUtf8Printable(e.toString()));
    }

    if (batchHook && !known.stored.isEmpty())
        batchHook(tx, known.stored);
    return known;
}

bool Recorder::Impl::dueLocked(qint64 nowMs) const
{
    if (pending.empty() && pendingHealth.isEmpty())
        return false;
    if (failing && nowMs < retryAtMs)
        return false;
    if (qsizetype(pending.size()) >= limits.batchMax)
        return true;
    const qint64 oldest = pending.empty() ? healthArrivedMs
        : pendingHealth.isEmpty()         ? pending.front().arrivedMs
                                          : std::min(healthArrivedMs, pending.front().arrivedMs);
    return nowMs - oldest >= limits.flushAfterMs;
}

// One batch: take up to batchMax results (and all health) under the mutex, run the job without
// it, then apply or put back. The caller holds flushMutex.
Recorder::Impl::FlushResult Recorder::Impl::flushOne()
{
    if (!loaded) {
        QString why;
        if (!load(&why)) {
            std::lock_guard lock(mutex);
            ++stats.failedBatches;
            if (!failing)
                qCCritical(lcPoller, "cannot load the previous readings; nothing is stored until it works: %s",
                    qUtf8Printable(why));
            failing = true;
            retryAtMs = clock.monotonicMs() + limits.retryAfterMs;
            return FlushResult::Failed;
        }
    }

    QList<ReadingResult> batch;
    QList<BusHealth> health;
    BatchOutcome known;
    BatchHook batchHook;
    std::function<void(bool)> afterThisBatch;
    {
        std::lock_guard lock(mutex);
        if (pending.empty() && pendingHealth.isEmpty())
            return FlushResult::Nothing;
        const qsizetype n = std::min<qsizetype>(qsizetype(pending.size()), limits.batchMax);
        batch.reserve(n);
        for (qsizetype i = 0; i < n; ++i) {
            batch.append(std::move(pending.front().result));
            pending.pop_front();
        }
        health = pendingHealth.values();
        pendingHealth.clear();
        healthArrivedMs = -1;
        for (const ReadingResult &r : std::as_const(batch)) {
            if (const auto s = states.constFind(r.meterId); s != states.cend())
                known.states.insert(r.meterId, *s);
            const qint64 installation = targets.value(r.meterId)->installationId;
            if (const auto p = previous.constFind(installation); p != previous.cend())
                known.previous.insert(installation, *p);
        }
        batchHook = hook;
        afterThisBatch = afterBatch;
    }

    const qint64 nowMs = clock.wallMs();
    auto future = store.write([this, batch, health, known, batchHook, nowMs](
                                  Transaction &tx) { return runBatch(tx, batch, health, known, batchHook, nowMs); });
    store::Written<BatchOutcome> written = future.get();
    if (afterThisBatch && batchHook)
        afterThisBatch(written.committed());

    std::lock_guard lock(mutex);
    if (written.committed()) {
        for (auto it = written.value.previous.cbegin(); it != written.value.previous.cend(); ++it)
            previous.insert(it.key(), it.value());
        for (auto it = written.value.states.cbegin(); it != written.value.states.cend(); ++it)
            states.insert(it.key(), it.value());
        stats.readingsStored += written.value.stored.size();
        ++stats.batches;
        if (failing)
            qCInfo(lcPoller, "storing readings again");
        failing = false;
        for (const StoredReading &s : std::as_const(written.value.stored)) {
            const Validation &v = s.validation;
            if (!v.chargeable())
                qCWarning(lcPoller, "meter %lld: reading %lld held for review (%s): %s", s.meterId, s.readingId,
                    qUtf8Printable(validationCode(v.status)), qUtf8Printable(v.note));
            else if (v.status != ValidationStatus::Valid)
                qCInfo(lcPoller, "meter %lld: reading %lld %s: %s", s.meterId, s.readingId,
                    qUtf8Printable(validationCode(v.status)), qUtf8Printable(v.note));
        }
        return FlushResult::Committed;
    }

    // Nothing of the batch was kept: put it back in front, in order, for the next attempt.
    const qint64 monoNow = clock.monotonicMs();
    for (auto it = batch.rbegin(); it != batch.rend(); ++it)
        pending.push_front(Pending{monoNow, std::move(*it)});
    for (const BusHealth &h : std::as_const(health)) {
        if (!pendingHealth.contains(h.busId))
            pendingHealth.insert(h.busId, h);
    }
    if (!pendingHealth.isEmpty() && healthArrivedMs < 0)
        healthArrivedMs = monoNow;
    ++stats.failedBatches;
    if (!failing) {
        const QString why
            = written.status == store::WriteStatus::RolledBack ? written.reason : written.error.toString();
        qCWarning(lcPoller, "a batch of %lld results was not stored (%s: %s); kept and retried", qint64(batch.size()),
            qUtf8Printable(store::writeStatusCode(written.status)), qUtf8Printable(why));
    }
    failing = true;
    retryAtMs = monoNow + limits.retryAfterMs;
    return FlushResult::Failed;
}

Recorder::Recorder(store::Store &store, const Clock &clock, const PollPlan &plan, RecorderLimits limits)
    : m_impl(std::make_unique<Impl>(store, clock, plan, limits))
{
    PREPAY_CHECK(limits.batchMax >= 1 && limits.pendingMax >= limits.batchMax);
    QString why;
    if (!m_impl->load(&why))
        qCCritical(
            lcPoller, "cannot load the previous readings (tried again before each batch): %s", qUtf8Printable(why));
}

Recorder::~Recorder()
{
    flush();
    std::lock_guard lock(m_impl->mutex);
    if (!m_impl->pending.empty())
        qCWarning(lcPoller, "%lld read results were not stored", qint64(m_impl->pending.size()));
}

void Recorder::record(ReadingResult result)
{
    Impl &d = *m_impl;
    if (!d.targets.contains(result.meterId)) {
        qCWarning(lcPoller, "a result for meter %lld, which is not in the poll plan, is ignored", result.meterId);
        return;
    }
    const qint64 now = d.clock.monotonicMs();
    std::lock_guard lock(d.mutex);
    if (qsizetype(d.pending.size()) >= d.limits.pendingMax) {
        if (d.stats.resultsDropped == 0)
            qCWarning(lcPoller, "more than %d results wait to be stored; dropping the oldest (gaps, not losses)",
                d.limits.pendingMax);
        d.pending.pop_front();
        ++d.stats.resultsDropped;
    }
    d.pending.push_back(Impl::Pending{now, std::move(result)});
}

void Recorder::recordHealth(const BusHealth &h)
{
    Impl &d = *m_impl;
    const qint64 now = d.clock.monotonicMs();
    std::lock_guard lock(d.mutex);
    d.pendingHealth.insert(h.busId, h);
    if (d.healthArrivedMs < 0)
        d.healthArrivedMs = now;
}

void Recorder::flushIfDue()
{
    Impl &d = *m_impl;
    std::unique_lock flushing(d.flushMutex, std::try_to_lock);
    if (!flushing.owns_lock())
        return; // a flush is running; the next tick looks again
    for (;;) {
        {
            std::lock_guard lock(d.mutex);
            if (!d.dueLocked(d.clock.monotonicMs()))
                return;
        }
        if (d.flushOne() != Impl::FlushResult::Committed)
            return;
    }
}

void Recorder::flush()
{
    Impl &d = *m_impl;
    std::lock_guard flushing(d.flushMutex);
    qsizetype batches = 0;
    {
        std::lock_guard lock(d.mutex);
        batches = qsizetype(d.pending.size()) / d.limits.batchMax + 1;
    }
    // What was pending when flush() was called; results arriving meanwhile may wait for the next.
    for (qsizetype i = 0; i < batches; ++i) {
        if (d.flushOne() != Impl::FlushResult::Committed)
            return;
    }
}

void Recorder::setBatchHook(BatchHook hook)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->hook = std::move(hook);
}

void Recorder::setAfterBatch(std::function<void(bool committed)> afterBatch)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->afterBatch = std::move(afterBatch);
}

std::optional<MeterStateView> Recorder::state(qint64 meterId) const
{
    if (!m_impl->targets.contains(meterId))
        return std::nullopt;
    std::lock_guard lock(m_impl->mutex);
    if (const auto it = m_impl->states.constFind(meterId); it != m_impl->states.cend())
        return *it;
    MeterStateView never;
    never.meterId = meterId;
    return never;
}

Recorder::Stats Recorder::stats() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->stats;
}

} // namespace prepay::poller
