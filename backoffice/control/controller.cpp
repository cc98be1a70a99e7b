#include "controller.h"

#include "alarms.h"
#include "controllog.h"

#include "billing/tariff.h"
#include "commands/commandstore.h"
#include "store/store.h"

#include <QtCore/QHash>
#include <QtCore/QJsonObject>

#include <optional>
#include <vector>

namespace prepay::control {

using store::Connection;
using store::SqlError;
using store::Statement;

namespace {

// One row per active point, with the filter appended (kSomePoints in the batch path: the points
// given as a JSON array, each looked up by primary key; kAllPoints for the preview). Thresholds:
// point → building → site.
const char *const kPointsSql
    = "SELECT mp.id, mp.code, coalesce(cs.control_mode, 'auto'), cs.mode_expires_at_ms, "
      " coalesce(cs.feeds_infrastructure, 0), coalesce(cs.friendly_hours, 0), "
      " coalesce(cs.overdraft_limit_fen, b.overdraft_limit_fen, "
      "  (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'control.overdraft_limit_fen'), 0), "
      " coalesce(cs.alarm1_threshold_fen, b.alarm1_threshold_fen, "
      "  (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm1_threshold_fen'), 5000), "
      " coalesce(cs.alarm2_threshold_fen, b.alarm2_threshold_fen, "
      "  (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm2_threshold_fen'), 2000), "
      " a.id, a.shop_no, a.display_name, a.status, w.balance_fen, "
      " i.meter_id, m.capability, ms.relay_mode, ms.relay_state, ms.last_reading_id, "
      " st.desired, st.reason, st.decision_seq, st.command_id, "
      " (SELECT max(c.created_at_ms) FROM meter_commands c WHERE c.meter_id = i.meter_id AND c.cause = 'policy'), "
      " (SELECT count(*) FROM meter_commands c WHERE c.meter_id = i.meter_id "
      "  AND c.kind IN ('relay_trip', 'relay_close', 'set_mode') AND c.state IN ('queued', 'sent', 'acknowledged')), "
      " (SELECT count(*) FROM meter_commands c WHERE c.meter_id = i.meter_id "
      "  AND c.kind IN ('relay_trip', 'relay_close', 'set_mode') AND c.state IN ('verified', 'failed') "
      "  AND c.sent_at_ms IS NOT NULL AND c.finished_at_ms >= coalesce(ms.last_read_at_ms, 0)) "
      "FROM metering_points mp JOIN buildings b ON b.id = mp.building_id "
      "LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id "
      "LEFT JOIN account_metering_points amp ON amp.metering_point_id = mp.id AND amp.unlinked_at_ms IS NULL "
      "LEFT JOIN accounts a ON a.id = amp.account_id "
      "LEFT JOIN ledger_accounts w ON w.account_id = a.id "
      "LEFT JOIN meter_installations i ON i.metering_point_id = mp.id AND i.removed_at_ms IS NULL "
      "LEFT JOIN meters m ON m.id = i.meter_id "
      "LEFT JOIN meter_state ms ON ms.meter_id = i.meter_id "
      "LEFT JOIN control_state st ON st.metering_point_id = mp.id "
      "WHERE mp.state = 'active' ";
const char *const kSomePoints = "AND mp.id IN (SELECT value FROM json_each(?1)) ORDER BY mp.id";
const char *const kAllPoints = "ORDER BY mp.id";

struct Row
{
    PointEvaluation e;
    Money alarm1;
    Money alarm2;
    bool accountOpen = false;
    bool infrastructure = false;
    bool keepsFriendlyHours = false;
    std::optional<qint64> modeExpiresAtMs;
    std::optional<qint64> lastReadingId;
    qint64 previousSeq = 0;
    std::optional<qint64> lastPolicyCommandAtMs;
    int liveRelayCommands = 0;
    // A relay command went out to the meter after its last reading: the relay mode that reading
    // shows may no longer be the meter's (a trip verified a moment ago).
    bool observationStale = false;
};

std::optional<qint64> optionalInt(const Statement &s, int column)
{
    if (s.isNull(column))
        return std::nullopt;
    return s.int64(column);
}

Row rowFrom(const Statement &s)
{
    Row r;
    r.e.pointId = s.int64(0);
    r.e.pointCode = s.text(1);
    r.e.mode = modeFromCode(s.text(2)).value_or(Mode::Auto);
    r.modeExpiresAtMs = optionalInt(s, 3);
    r.infrastructure = s.int64(4) != 0;
    r.keepsFriendlyHours = s.int64(5) != 0;
    r.e.overdraftLimit = Money::fromFen(s.int64(6));
    r.alarm1 = Money::fromFen(s.int64(7));
    r.alarm2 = Money::fromFen(s.int64(8));
    r.e.accountId = s.isNull(9) ? 0 : s.int64(9);
    r.e.shopNo = s.text(10);
    r.e.displayName = s.text(11);
    r.accountOpen = s.text(12) == QLatin1StringView("open") && !s.isNull(13);
    r.e.balance = Money::fromFen(s.isNull(13) ? 0 : s.int64(13));
    r.e.meterId = optionalInt(s, 14);
    r.e.meterCapability = s.text(15);
    r.e.observedRelayMode = s.text(16);
    r.e.observedRelayState = s.text(17);
    r.lastReadingId = optionalInt(s, 18);
    r.e.previousDesired = desiredFromCode(s.text(19));
    r.e.previousReason = reasonFromCode(s.text(20));
    r.previousSeq = s.isNull(21) ? 0 : s.int64(21);
    r.lastPolicyCommandAtMs = optionalInt(s, 23);
    r.liveRelayCommands = int(s.int64(24));
    r.observationStale = s.int64(25) > 0;
    return r;
}

// A set of ids as the JSON array the set-based statements take through json_each(): one bound
// parameter, so the statement stays prepared, whatever the number of ids.
QString jsonIds(const QList<qint64> &ids)
{
    QByteArray out;
    out.reserve(ids.size() * 8 + 2);
    out += '[';
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (i > 0)
            out += ',';
        out += QByteArray::number(ids.at(i));
    }
    out += ']';
    return QString::fromLatin1(out);
}

// The balance alarms a point has open, as bits.
enum BalanceAlarm : quint8 {
    Alarm1Open = 1,
    Alarm2Open = 2,
    ArrearsOpen = 4,
};

struct Settings
{
    FriendlyHours friendly;
    qint64 relayMinIntervalMs = 300'000;
};

QString setting(Connection &db, const char *key, const QString &fallback)
{
    Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, QString::fromLatin1(key));
    return s.step() == Statement::Step::Row ? s.text(0) : fallback;
}

Settings readSettings(Connection &db)
{
    Settings out;
    QString error;
    if (!FriendlyHours::parse(setting(db, "control.friendly_hours_start", QStringLiteral("22:00")),
            setting(db, "control.friendly_hours_end", QStringLiteral("08:00")),
            setting(db, "control.friendly_day_types", QStringLiteral("weekend,holiday")), &out.friendly, &error)) {
        qCWarning(lcControl, "%s; using 22:00-08:00, weekends and holidays", qUtf8Printable(error));
        out.friendly = FriendlyHours{};
    }
    bool ok = false;
    const qint64 interval = setting(db, "control.relay_min_interval_ms", QStringLiteral("300000")).toLongLong(&ok);
    if (ok && interval >= 0)
        out.relayMinIntervalMs = interval;
    return out;
}

// What carrying out a decision takes: the command and the relay mode the meter shows after it.
void plan(PointEvaluation &e)
{
    if (e.decision.desired == Desired::Off) {
        e.commandKind = QStringLiteral("relay_trip");
        e.wantedRelayMode = QStringLiteral("force_off");
        return;
    }
    if (e.decision.reason == Reason::Funded) {
        e.commandKind = QStringLiteral("relay_close");
        e.wantedRelayMode = QStringLiteral("auto");
        return;
    }
    e.commandKind = QStringLiteral("set_mode");
    e.wantedRelayMode = QStringLiteral("force_on");
}

QString wantedModeOf(std::optional<Desired> desired, std::optional<Reason> reason)
{
    if (!desired || !reason)
        return {};
    PointEvaluation e;
    e.decision.desired = *desired;
    e.decision.reason = *reason;
    plan(e);
    return e.wantedRelayMode;
}

void decideRow(Row &r, const billing::TariffBook &book, const Settings &settings, qint64 nowMs)
{
    PolicyInput in;
    in.mode = r.e.mode;
    in.modeExpiresAtMs = r.modeExpiresAtMs;
    in.infrastructure = r.infrastructure;
    in.accountOpen = r.accountOpen;
    in.balance = r.e.balance;
    in.overdraftLimit = r.e.overdraftLimit;
    in.keepsFriendlyHours = r.keepsFriendlyHours;
    in.friendly = settings.friendly;
    in.dayType = book.calendar().dayType(book.localDate(nowMs));
    in.minuteOfDay = book.localMinute(nowMs);
    in.nowMs = nowMs;
    in.previousDesired = r.e.previousDesired;
    in.previousReason = r.e.previousReason;
    r.e.decision = decide(in);
    plan(r.e);
    r.e.changed = !r.e.previousDesired || r.e.previousDesired != r.e.decision.desired
        || wantedModeOf(r.e.previousDesired, r.e.previousReason) != r.e.wantedRelayMode;
}

// The writes of one evaluation, each statement prepared once per pass.
class Pass
{
public:
    Pass(store::Transaction &tx, qint64 nowMs)
        : m_tx(tx)
        , m_nowMs(nowMs)
        , m_alarms(tx)
    { }
    bool failed() const { return m_failed; }

    void fail(const SqlError &e)
    {
        if (!m_failed)
            m_tx.fail(e);
        m_failed = true;
    }

    void expireForceOn(qint64 pointId)
    {
        Statement &s = prepared(m_expire,
            "UPDATE control_settings SET control_mode = 'auto', mode_reason = NULL, mode_expires_at_ms = NULL, "
            "mode_set_by = NULL, mode_set_at_ms = ?2, updated_at_ms = ?2 WHERE metering_point_id = ?1");
        s.bind(1, pointId).bind(2, m_nowMs);
        if (const SqlError e = s.run(); !e.ok())
            fail(e);
        else
            qCInfo(lcControl, "metering point %lld: 保电 expired, back to AUTO", pointId);
    }

    void writeState(const Row &r, qint64 seq, std::optional<qint64> commandId)
    {
        Statement &s = prepared(m_state,
            "INSERT INTO control_state (metering_point_id, desired, reason, decision_seq, balance_fen, decided_at_ms, "
            "command_id, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6) "
            "ON CONFLICT (metering_point_id) DO UPDATE SET desired = excluded.desired, reason = excluded.reason, "
            "decision_seq = excluded.decision_seq, balance_fen = excluded.balance_fen, "
            "decided_at_ms = CASE WHEN control_state.decision_seq = excluded.decision_seq "
            "THEN control_state.decided_at_ms ELSE excluded.decided_at_ms END, "
            "command_id = coalesce(excluded.command_id, control_state.command_id), updated_at_ms = excluded.updated_at_ms");
        s.bind(1, r.e.pointId).bind(2, desiredCode(r.e.decision.desired)).bind(3, reasonCode(r.e.decision.reason));
        s.bind(4, seq);
        if (r.e.accountId != 0)
            s.bind(5, r.e.balance.fen());
        else
            s.bindNull(5);
        s.bind(6, m_nowMs);
        if (commandId)
            s.bind(7, *commandId);
        else
            s.bindNull(7);
        if (const SqlError e = s.run(); !e.ok())
            fail(e);
    }

    std::optional<qint64> command(const Row &r, const QString &key)
    {
        commands::CommandRequest req;
        req.meterId = *r.e.meterId;
        req.idempotencyKey = key;
        req.correlationId = QStringLiteral("policy:%1").arg(r.e.pointId);
        req.cause = commands::Cause::Policy;
        req.reason = r.e.decision.explanation;
        if (r.e.commandKind == QLatin1StringView("relay_trip")) {
            req.kind = commands::Kind::RelayTrip;
        } else if (r.e.commandKind == QLatin1StringView("relay_close")) {
            req.kind = commands::Kind::RelayClose;
        } else {
            req.kind = commands::Kind::SetMode;
            req.payload = QJsonObject{{QStringLiteral("mode"), QStringLiteral("force_on")}};
        }
        const commands::EnqueueResult result = commands::CommandStore::enqueueWithin(m_tx, req, m_nowMs);
        switch (result.outcome) {
        case commands::EnqueueOutcome::Queued: return result.commandId;
        case commands::EnqueueOutcome::Duplicate: return std::nullopt;
        case commands::EnqueueOutcome::StoreFailed: m_failed = true; return std::nullopt;
        default:
            qCWarning(lcControl, "metering point %lld: %s not queued (%s): %s", r.e.pointId,
                qUtf8Printable(r.e.commandKind), qUtf8Printable(commands::enqueueOutcomeCode(result.outcome)),
                qUtf8Printable(result.message));
            return std::nullopt;
        }
    }

    int supersede(qint64 meterId, qint64 seq)
    {
        const int n = commands::CommandStore::supersedeWithin(m_tx, meterId,
            {commands::Kind::RelayTrip, commands::Kind::RelayClose, commands::Kind::SetMode},
            QStringLiteral("superseded by control decision %1").arg(seq), m_nowMs);
        if (n < 0)
            m_failed = true;
        return n;
    }

    // `open`: the point's balance alarms open before this evaluation (BalanceAlarm bits, read
    // once for the whole pass). Raising an open alarm and clearing a closed one change nothing
    // (alarms.h), so only a change of state is written: the same episodes, without three
    // statements per point and batch.
    void balanceAlarms(const Row &r, quint8 open)
    {
        const AlarmSubject subject{QStringLiteral("metering_point"), r.e.pointId};
        const bool watched = r.accountOpen;
        const Money b = r.e.balance;
        struct Condition
        {
            bool active;
            BalanceAlarm bit;
            const char *kind;
            Severity severity;
        };
        const Condition conditions[] = {
            {watched && b <= r.alarm1, Alarm1Open, "alarm1", Severity::Info},
            {watched && b <= r.alarm2, Alarm2Open, "alarm2", Severity::Warning},
            {watched && b <= Money::zero(), ArrearsOpen, "arrears", Severity::Critical},
        };
        std::optional<QJsonObject> detail;
        for (const Condition &c : conditions) {
            const bool isOpen = (open & c.bit) != 0;
            if (c.active == isOpen)
                continue;
            const QString kind = QString::fromLatin1(c.kind);
            if (c.active) {
                if (!detail) {
                    detail = QJsonObject{{QStringLiteral("balance_fen"), b.fen()},
                        {QStringLiteral("account_id"), r.e.accountId}, {QStringLiteral("alarm1_fen"), r.alarm1.fen()},
                        {QStringLiteral("alarm2_fen"), r.alarm2.fen()}};
                }
                m_alarms.raise(kind, c.severity, subject, *detail, m_nowMs);
            } else {
                m_alarms.clear(kind, subject, m_nowMs);
            }
        }
    }

private:
    Statement &prepared(std::optional<Statement> &slot, const char *sql)
    {
        if (!slot)
            slot.emplace(m_tx.prepare(QString::fromUtf8(sql)));
        return *slot;
    }

    store::Transaction &m_tx;
    const qint64 m_nowMs;
    bool m_failed = false;
    AlarmWriter m_alarms;
    std::optional<Statement> m_expire, m_state;
};

} // namespace

QList<qint64> Controller::evaluate(store::Transaction &tx, const billing::TariffBook &book, const QSet<qint64> &points,
    qint64 nowMs, QList<PointEvaluation> *evaluations)
{
    QList<qint64> queued;
    if (points.isEmpty())
        return queued;
    const Settings settings = readSettings(tx.db());
    QList<qint64> sorted = points.values();
    std::sort(sorted.begin(), sorted.end());
    const QString ids = jsonIds(sorted);
    Pass pass(tx, nowMs);

    // Every point's row first, in one statement, then the decisions and their writes, in point
    // order as before. Reading ahead is the same as reading each row just before its point is
    // decided: what the controller writes for a point (its control_state, control_settings, its
    // meter's commands, its alarms) is in no other point's row — a meter is installed at one point
    // at a time, and wallets, accounts and settings are not written here.
    std::vector<Row> rows;
    rows.reserve(size_t(sorted.size()));
    {
        Statement s = tx.prepare(QString::fromUtf8(kPointsSql) + QString::fromUtf8(kSomePoints));
        s.bind(1, ids);
        Statement::Step step;
        while ((step = s.step()) == Statement::Step::Row)
            rows.push_back(rowFrom(s));
        if (step == Statement::Step::Error) {
            pass.fail(s.error());
            return {};
        }
    }
    // The balance alarms open now for these points (through the partial index of open alarms).
    QHash<qint64, quint8> openAlarms;
    {
        Statement s = tx.prepare(QStringLiteral(
            "SELECT kind, subject_id FROM alarms WHERE kind IN ('alarm1', 'alarm2', 'arrears') "
            "AND subject_kind = 'metering_point' AND cleared_at_ms IS NULL "
            "AND subject_id IN (SELECT value FROM json_each(?1))"));
        s.bind(1, ids);
        Statement::Step step;
        while ((step = s.step()) == Statement::Step::Row) {
            const QString kind = s.text(0);
            const quint8 bit = kind == u"alarm1" ? Alarm1Open : kind == u"alarm2" ? Alarm2Open : ArrearsOpen;
            openAlarms[s.int64(1)] |= bit;
        }
        if (step == Statement::Step::Error) {
            pass.fail(s.error());
            return {};
        }
    }

    for (Row &r : rows) {
        decideRow(r, book, settings, nowMs);
        if (r.e.decision.modeExpired)
            pass.expireForceOn(r.e.pointId);

        const bool shows = r.e.observedRelayMode == r.e.wantedRelayMode;
        qint64 seq = r.previousSeq;
        if (r.e.changed) {
            seq = r.previousSeq + 1;
            int inFlight = 0;
            if (r.e.meterId) {
                // What an earlier decision queued and never sent is replaced by this one; what
                // is already out will change the relay, so this decision then needs its own.
                const int cancelled = pass.supersede(*r.e.meterId, seq);
                inFlight = r.liveRelayCommands - std::max(cancelled, 0);
            }
            if (r.e.meterId && !r.e.observedRelayMode.isEmpty() && (!shows || inFlight > 0 || r.observationStale))
                r.e.commandId = pass.command(r, QStringLiteral("policy:%1:%2").arg(r.e.pointId).arg(seq));
            // The first decision of a point is not a crossing worth a line each (300 at a first start).
            if (r.e.previousDesired)
                qCInfo(lcControl, "metering point %s: %s (%s) — %s", qUtf8Printable(r.e.pointCode),
                    qUtf8Printable(desiredCode(r.e.decision.desired)), qUtf8Printable(reasonCode(r.e.decision.reason)),
                    qUtf8Printable(r.e.decision.explanation));
            else
                qCDebug(lcControl, "metering point %s: first decision %s (%s) — %s", qUtf8Printable(r.e.pointCode),
                    qUtf8Printable(desiredCode(r.e.decision.desired)), qUtf8Printable(reasonCode(r.e.decision.reason)),
                    qUtf8Printable(r.e.decision.explanation));
        } else if (r.e.meterId && r.lastReadingId && !r.e.observedRelayMode.isEmpty() && !shows
            && r.liveRelayCommands == 0
            && (!r.lastPolicyCommandAtMs || nowMs - *r.lastPolicyCommandAtMs >= settings.relayMinIntervalMs)) {
            // The meter disagrees and nothing is on its way: once more (keyed by the reading
            // that showed it, so a re-evaluation of the same reading sends nothing new).
            r.e.commandId = pass.command(
                r, QStringLiteral("policy:%1:%2:repair:%3").arg(r.e.pointId).arg(seq).arg(*r.lastReadingId));
        }
        if (seq == 0)
            seq = 1;
        // control_state keeps the decision (and the wallet when it was taken): a point whose
        // decision and reason stand and that sent nothing is not rewritten (10,000 rows a batch).
        if (!r.e.previousDesired || r.e.changed || r.e.previousReason != r.e.decision.reason || r.e.commandId)
            pass.writeState(r, seq, r.e.commandId);
        pass.balanceAlarms(r, openAlarms.value(r.e.pointId));
        if (pass.failed())
            break;
        if (r.e.commandId)
            queued.append(*r.e.commandId);
        if (evaluations)
            evaluations->append(r.e);
    }
    return pass.failed() ? QList<qint64>{} : queued;
}

QSet<qint64> Controller::pointsOfAccounts(store::Transaction &tx, const QSet<qint64> &accounts)
{
    QSet<qint64> out;
    if (accounts.isEmpty())
        return out;
    // One statement for all of them (the account index, once per account in the array).
    Statement s = tx.prepare(
        QStringLiteral("SELECT metering_point_id FROM account_metering_points WHERE account_id IN "
                       "(SELECT value FROM json_each(?1)) AND unlinked_at_ms IS NULL"));
    s.bind(1, jsonIds(accounts.values()));
    while (s.step() == Statement::Step::Row)
        out.insert(s.int64(0));
    return out;
}

QList<PointEvaluation> preview(Connection &db, const billing::TariffBook &book, qint64 nowMs, QString *error)
{
    QList<PointEvaluation> out;
    const Settings settings = readSettings(db);
    Statement s = db.prepare(QString::fromUtf8(kPointsSql) + QString::fromUtf8(kAllPoints));
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        Row r = rowFrom(s);
        decideRow(r, book, settings, nowMs);
        out.append(r.e);
    }
    if (step == Statement::Step::Error && error)
        *error = s.error().toString();
    return out;
}

} // namespace prepay::control
