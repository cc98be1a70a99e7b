#include "publisher.h"

#include "synclog.h"

#include "store/store.h"

#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QList>
#include <QtCore/QSet>

#include <algorithm>
#include <map>
#include <type_traits>
#include <utility>

namespace prepay::sync {

using store::Connection;
using store::ReadTransaction;
using store::SqlError;
using store::Statement;

namespace {

// The account that held a reading's point when the reading was taken (links are half-open:
// [linked_at_ms, unlinked_at_ms)), through the point-history index of schema v5; and the account
// holding the point now (its last reading time changes too).
const char *const kOwner
    = "(SELECT amp.account_id FROM account_metering_points amp WHERE amp.metering_point_id = r.metering_point_id "
      " AND amp.linked_at_ms <= r.taken_at_ms AND (amp.unlinked_at_ms IS NULL OR amp.unlinked_at_ms > r.taken_at_ms) "
      " ORDER BY amp.linked_at_ms DESC, amp.id DESC LIMIT 1)";
const char *const kCurrent = "(SELECT amp.account_id FROM account_metering_points amp "
                             " WHERE amp.metering_point_id = r.metering_point_id AND amp.unlinked_at_ms IS NULL)";

// Readings: taken_at_ms, owner, current account. Intervals: taken_at_ms of the reading that ends
// them, its owner, energy, amount. ?1, ?2: the id range (new rows), or the window's first
// instant and the last id (the rebuild, which reads the window's readings point by point
// through readings_point_time).
QString newReadingsSql()
{
    return QStringLiteral("SELECT r.taken_at_ms, %1, %2 FROM readings r WHERE r.id > ?1 AND r.id <= ?2")
        .arg(QLatin1StringView(kOwner), QLatin1StringView(kCurrent));
}

QString newIntervalsSql()
{
    return QStringLiteral("SELECT r.taken_at_ms, %1, ci.energy_wh, ci.amount_fen, ci.energy_sharp_wh, "
                          "ci.energy_peak_wh, ci.energy_flat_wh, ci.energy_valley_wh FROM charge_intervals ci "
                          "JOIN readings r ON r.id = ci.to_reading_id WHERE ci.id > ?1 AND ci.id <= ?2")
        .arg(QLatin1StringView(kOwner));
}

QString windowReadingsSql()
{
    return QStringLiteral("SELECT r.taken_at_ms, %1, %2 FROM metering_points mp CROSS JOIN readings r "
                          "WHERE r.metering_point_id = mp.id AND r.taken_at_ms >= ?1 AND r.id <= ?2")
        .arg(QLatin1StringView(kOwner), QLatin1StringView(kCurrent));
}

QString windowIntervalsSql()
{
    return QStringLiteral("SELECT r.taken_at_ms, %1, ci.energy_wh, ci.amount_fen, ci.energy_sharp_wh, "
                          "ci.energy_peak_wh, ci.energy_flat_wh, ci.energy_valley_wh "
                          "FROM metering_points mp CROSS JOIN readings r CROSS JOIN charge_intervals ci "
                          "WHERE r.metering_point_id = mp.id AND r.taken_at_ms >= ?1 "
                          "AND ci.to_reading_id = r.id AND ci.id <= ?2")
        .arg(QLatin1StringView(kOwner));
}

// One row per account id of the JSON array ?1: the account (NULL columns if it does not exist),
// its wallet, the newest reading of its current points, the highest balance alarm open on them
// (3 arrears, 2 alarm2, 1 alarm1), whether a meter installed at one of them is offline, and the
// row as published.
const char *const kRowsSql
    = "SELECT j.value, a.id, a.shop_no, a.display_name, a.status, w.balance_fen, "
      " (SELECT max((SELECT max(r.taken_at_ms) FROM readings r WHERE r.metering_point_id = amp.metering_point_id)) "
      "    FROM account_metering_points amp WHERE amp.account_id = a.id AND amp.unlinked_at_ms IS NULL), "
      " (SELECT max(CASE al.kind WHEN 'arrears' THEN 3 WHEN 'alarm2' THEN 2 ELSE 1 END) "
      "    FROM account_metering_points amp CROSS JOIN alarms al "
      "   WHERE amp.account_id = a.id AND amp.unlinked_at_ms IS NULL "
      "     AND al.kind IN ('alarm1', 'alarm2', 'arrears') AND al.subject_kind = 'metering_point' "
      "     AND al.subject_id = amp.metering_point_id AND al.cleared_at_ms IS NULL), "
      " EXISTS (SELECT 1 FROM account_metering_points amp CROSS JOIN meter_installations i CROSS JOIN alarms al "
      "   WHERE amp.account_id = a.id AND amp.unlinked_at_ms IS NULL "
      "     AND i.metering_point_id = amp.metering_point_id AND i.removed_at_ms IS NULL "
      "     AND al.kind = 'meter_offline' AND al.subject_kind = 'meter' AND al.subject_id = i.meter_id "
      "     AND al.cleared_at_ms IS NULL), "
      " d.payload "
      "FROM json_each(?1) j LEFT JOIN accounts a ON a.id = j.value "
      "LEFT JOIN ledger_accounts w ON w.account_id = a.id "
      "LEFT JOIN sync_directory d ON d.account_id = j.value";

// The current metering points of the accounts of the JSON array ?1, by account and code: the relay
// as the installed meter last reported it, the control mode, whether the meter is offline.
const char *const kPointsSql
    = "SELECT amp.account_id, mp.code, coalesce(ms.relay_state, 'unknown'), coalesce(cs.control_mode, 'auto'), "
      " EXISTS (SELECT 1 FROM alarms al WHERE al.kind = 'meter_offline' AND al.subject_kind = 'meter' "
      "   AND al.subject_id = i.meter_id AND al.cleared_at_ms IS NULL) "
      "FROM json_each(?1) j CROSS JOIN account_metering_points amp CROSS JOIN metering_points mp "
      "LEFT JOIN meter_installations i ON i.metering_point_id = mp.id AND i.removed_at_ms IS NULL "
      "LEFT JOIN meter_state ms ON ms.meter_id = i.meter_id "
      "LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id "
      "WHERE amp.account_id = j.value AND amp.unlinked_at_ms IS NULL AND mp.id = amp.metering_point_id "
      "ORDER BY amp.account_id, mp.code";

// The tariff of the accounts of ?1 on the local day ?2: the account's own assignment in force,
// else that of its first current point (by code) that has one; with the tariff's version in
// force that day and its tiers as [[upper_bound_wh or null, adder]…] by tier number.
const char *const kTariffsSql
    = "WITH chosen AS (SELECT j.value AS account_id, coalesce("
      "   (SELECT ta.tariff_id FROM tariff_assignments ta WHERE ta.account_id = j.value AND ta.effective_date <= ?2 "
      "     ORDER BY ta.effective_date DESC LIMIT 1), "
      "   (SELECT ta.tariff_id FROM account_metering_points amp CROSS JOIN metering_points mp "
      "      CROSS JOIN tariff_assignments ta "
      "     WHERE amp.account_id = j.value AND amp.unlinked_at_ms IS NULL AND mp.id = amp.metering_point_id "
      "       AND ta.metering_point_id = mp.id AND ta.effective_date <= ?2 "
      "     ORDER BY mp.code, ta.effective_date DESC LIMIT 1)) AS tariff_id FROM json_each(?1) j) "
      "SELECT c.account_id, t.name, v.kind, v.price_sharp, v.price_peak, v.price_flat, v.price_valley, "
      " (SELECT json_group_array(json_array(x.upper_bound_wh, x.price_adder)) FROM (SELECT upper_bound_wh, "
      "   price_adder FROM tariff_tiers WHERE tariff_version_id = v.id ORDER BY tier_no) x) "
      "FROM chosen c JOIN tariffs t ON t.id = c.tariff_id "
      "JOIN tariff_versions v ON v.id = (SELECT y.id FROM tariff_versions y WHERE y.tariff_id = t.id "
      "  AND y.effective_date <= ?2 ORDER BY y.effective_date DESC LIMIT 1)";

bool readPoints(store::Transaction &tx, const QString &ids, QHash<qint64, QList<PointState>> &into, SqlError *error)
{
    Statement s = tx.prepare(QString::fromUtf8(kPointsSql));
    s.bind(1, ids);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row)
        into[s.int64(0)].append(PointState{s.text(1), s.text(2), s.text(3), s.int64(4) != 0});
    if (step == Statement::Step::Error) {
        *error = s.error();
        return false;
    }
    return true;
}

bool readTariffs(
    store::Transaction &tx, const QString &ids, QDate today, QHash<qint64, TariffSummary> &into, SqlError *error)
{
    Statement s = tx.prepare(QString::fromUtf8(kTariffsSql));
    s.bind(1, ids).bind(2, today.toString(Qt::ISODate));
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        TariffSummary t;
        t.name = s.text(1);
        t.kind = s.text(2);
        t.prices = {s.int64(3), s.int64(4), s.int64(5), s.int64(6)};
        const QJsonArray tiers = QJsonDocument::fromJson(s.blob(7)).array();
        for (const QJsonValue &tier : tiers) {
            const QJsonArray pair = tier.toArray();
            if (!pair.at(0).isNull())
                t.tierUpperWh.append(pair.at(0).toInteger());
            t.tierAdders.append(pair.at(1).toInteger());
        }
        into.insert(s.int64(0), t);
    }
    if (step == Statement::Step::Error) {
        *error = s.error();
        return false;
    }
    return true;
}

struct State
{
    QString feedId;
    bool built = false;
    QString timeZone;
    QString windowDay;
    qint64 readingsThrough = 0;
    qint64 intervalsThrough = 0;
    qint64 postingsThrough = 0;
    qint64 headSeq = 0;
    qint64 prunedThrough = 0;
};

bool readState(Connection &db, State *out, SqlError *error)
{
    Statement s = db.prepare(QStringLiteral(
        "SELECT feed_id, built, coalesce(time_zone, ''), coalesce(window_day, ''), readings_through_id, "
        "intervals_through_id, postings_through_id, head_seq, pruned_through_seq FROM sync_state WHERE id = 1"));
    switch (s.step()) {
    case Statement::Step::Row: break;
    case Statement::Step::Done:
        *error = SqlError{1, 1, QStringLiteral("sync_state has no row (schema v6 not applied?)")};
        return false;
    case Statement::Step::Error: *error = s.error(); return false;
    }
    out->feedId = s.text(0);
    out->built = s.int64(1) != 0;
    out->timeZone = s.text(2);
    out->windowDay = s.text(3);
    out->readingsThrough = s.int64(4);
    out->intervalsThrough = s.int64(5);
    out->postingsThrough = s.int64(6);
    out->headSeq = s.int64(7);
    out->prunedThrough = s.int64(8);
    return true;
}

// Local days of UTC instants, with the last day's bounds cached: a batch's readings nearly all
// fall on one local day, and converting through QTimeZone for each would dominate the fold.
class LocalCalendar
{
public:
    explicit LocalCalendar(const QTimeZone &tz)
        : m_tz(tz)
    { }

    QDate dayOf(qint64 ms)
    {
        if (ms >= m_start && ms < m_end)
            return m_day;
        m_day = QDateTime::fromMSecsSinceEpoch(ms, m_tz).date();
        const qint64 start = startOf(m_day);
        const qint64 end = startOf(m_day.addDays(1));
        // Cached only when the bounds are sound (a zone whose midnight does not exist some day
        // is converted instant by instant that day).
        if (start <= ms && ms < end) {
            m_start = start;
            m_end = end;
        } else {
            m_start = 1;
            m_end = 0;
        }
        return m_day;
    }

    qint64 startOf(QDate day) const { return QDateTime(day, QTime(0, 0), m_tz).toMSecsSinceEpoch(); }

private:
    QTimeZone m_tz;
    qint64 m_start = 1;
    qint64 m_end = 0;
    QDate m_day;
};

QString dayText(QDate day)
{
    return day.toString(Qt::ISODate);
}

QString monthText(QDate day)
{
    return day.toString(Qt::ISODate).left(7);
}

QDate firstOfMonth(QDate day)
{
    return QDate(day.year(), day.month(), 1);
}

struct Usage
{
    qint64 readings = 0;
    qint64 energyWh = 0;
    qint64 amountFen = 0;
    SlotEnergy slotWh{};
};

// Usage per (account, local day) and (account, local month), accumulated in memory and then
// written as one upsert per key (adding to what the aggregates hold).
class Fold
{
public:
    explicit Fold(const QTimeZone &tz)
        : m_calendar(tz)
    { }

    void reading(qint64 accountId, qint64 takenAtMs)
    {
        Usage &d = m_daily[{accountId, m_calendar.dayOf(takenAtMs).toJulianDay()}];
        Usage &m = m_monthly[{accountId, firstOfMonth(m_calendar.dayOf(takenAtMs)).toJulianDay()}];
        ++d.readings;
        ++m.readings;
    }

    void interval(qint64 accountId, qint64 takenAtMs, qint64 energyWh, qint64 amountFen, const SlotEnergy &slotWh)
    {
        const QDate day = m_calendar.dayOf(takenAtMs);
        Usage &d = m_daily[{accountId, day.toJulianDay()}];
        Usage &m = m_monthly[{accountId, firstOfMonth(day).toJulianDay()}];
        d.energyWh += energyWh;
        d.amountFen += amountFen;
        m.energyWh += energyWh;
        m.amountFen += amountFen;
        for (std::size_t i = 0; i < slotWh.size(); ++i) {
            d.slotWh[i] += slotWh[i];
            m.slotWh[i] += slotWh[i];
        }
    }

    SqlError write(store::Transaction &tx) const
    {
        if (SqlError e = upsert(tx,
                QStringLiteral(
                    "INSERT INTO sync_usage_daily (account_id, day, readings, energy_wh, amount_fen, "
                    "sharp_wh, peak_wh, flat_wh, valley_wh) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                    "ON CONFLICT (account_id, day) DO UPDATE SET "
                    "readings = readings + excluded.readings, energy_wh = energy_wh + excluded.energy_wh, "
                    "amount_fen = amount_fen + excluded.amount_fen, sharp_wh = sharp_wh + excluded.sharp_wh, "
                    "peak_wh = peak_wh + excluded.peak_wh, flat_wh = flat_wh + excluded.flat_wh, "
                    "valley_wh = valley_wh + excluded.valley_wh"),
                m_daily, dayText);
            !e.ok())
            return e;
        return upsert(tx,
            QStringLiteral("INSERT INTO sync_usage_monthly (account_id, month, readings, energy_wh, amount_fen, "
                           "sharp_wh, peak_wh, flat_wh, valley_wh) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                           "ON CONFLICT (account_id, month) DO UPDATE SET "
                           "readings = readings + excluded.readings, energy_wh = energy_wh + excluded.energy_wh, "
                           "amount_fen = amount_fen + excluded.amount_fen, sharp_wh = sharp_wh + excluded.sharp_wh, "
                           "peak_wh = peak_wh + excluded.peak_wh, flat_wh = flat_wh + excluded.flat_wh, "
                           "valley_wh = valley_wh + excluded.valley_wh"),
            m_monthly, monthText);
    }

    LocalCalendar &calendar() { return m_calendar; }

private:
    using Key = std::pair<qint64, qint64>; // account id, Julian day
    using Sums = std::map<Key, Usage>;     // ordered: the upserts walk the primary key in order

    static SqlError upsert(store::Transaction &tx, const QString &sql, const Sums &sums, QString (*text)(QDate))
    {
        if (sums.empty())
            return {};
        Statement s = tx.prepare(sql);
        for (const auto &[key, usage] : sums) {
            s.bind(1, key.first)
                .bind(2, text(QDate::fromJulianDay(key.second)))
                .bind(3, usage.readings)
                .bind(4, usage.energyWh)
                .bind(5, usage.amountFen)
                .bind(6, usage.slotWh[0])
                .bind(7, usage.slotWh[1])
                .bind(8, usage.slotWh[2])
                .bind(9, usage.slotWh[3]);
            if (SqlError e = s.run(); !e.ok())
                return e;
            s.reset();
        }
        return {};
    }

    LocalCalendar m_calendar;
    Sums m_daily;
    Sums m_monthly;
};

// A set of ids as the JSON array json_each() takes: one bound parameter, whatever the count.
QString jsonIds(const QList<qint64> &ids)
{
    QByteArray out;
    out.reserve(ids.size() * 7 + 2);
    out += '[';
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (i > 0)
            out += ',';
        out += QByteArray::number(ids.at(i));
    }
    out += ']';
    return QString::fromLatin1(out);
}

// Runs `sql` (?1 = lower bound or window start, ?2 = upper id) and folds each row: columns
// taken_at_ms, owner account (NULL = the point had none), then for readings the current account,
// for intervals energy and amount.
bool foldReadings(store::Transaction &tx, const QString &sql, qint64 a, qint64 b, Fold &fold, QSet<qint64> &touched,
    int *count, SqlError *error)
{
    Statement s = tx.prepare(sql);
    s.bind(1, a).bind(2, b);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        ++*count;
        if (!s.isNull(1)) {
            fold.reading(s.int64(1), s.int64(0));
            touched.insert(s.int64(1));
        }
        if (!s.isNull(2))
            touched.insert(s.int64(2));
    }
    if (step == Statement::Step::Error) {
        *error = s.error();
        return false;
    }
    return true;
}

bool foldIntervals(store::Transaction &tx, const QString &sql, qint64 a, qint64 b, Fold &fold, QSet<qint64> &touched,
    int *count, SqlError *error)
{
    Statement s = tx.prepare(sql);
    s.bind(1, a).bind(2, b);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        ++*count;
        if (!s.isNull(1)) {
            fold.interval(s.int64(1), s.int64(0), s.int64(2), s.int64(3),
                SlotEnergy{s.int64(4), s.int64(5), s.int64(6), s.int64(7)});
            touched.insert(s.int64(1));
        }
    }
    if (step == Statement::Step::Error) {
        *error = s.error();
        return false;
    }
    return true;
}

bool collectIds(store::Transaction &tx, const QString &sql, std::optional<std::pair<qint64, qint64>> range,
    QSet<qint64> &into, SqlError *error)
{
    Statement s = tx.prepare(sql);
    if (range)
        s.bind(1, range->first).bind(2, range->second);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row)
        into.insert(s.int64(0));
    if (step == Statement::Step::Error) {
        *error = s.error();
        return false;
    }
    return true;
}

// Rows of sync_usage_daily or _monthly (account, day or month, Wh, fen) into per-account lists.
template<typename Entry>
bool readUsage(store::Transaction &tx, const QString &sql, const QString &ids, const QString &from, const QString &to,
    QHash<qint64, QList<Entry>> &into, QDate (*parse)(const QString &), SqlError *error)
{
    Statement s = tx.prepare(sql);
    s.bind(1, ids).bind(2, from).bind(3, to);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        Entry u;
        u.energyWh = s.int64(2);
        u.amountFen = s.int64(3);
        u.slotWh = SlotEnergy{s.int64(4), s.int64(5), s.int64(6), s.int64(7)};
        if constexpr (std::is_same_v<Entry, DayUsage>)
            u.day = parse(s.text(1));
        else
            u.month = parse(s.text(1));
        into[s.int64(0)].append(u);
    }
    if (step == Statement::Step::Error) {
        *error = s.error();
        return false;
    }
    return true;
}

QDate parseDay(const QString &text)
{
    return QDate::fromString(text, Qt::ISODate);
}

QDate parseMonth(const QString &text)
{
    return QDate::fromString(text + QStringLiteral("-01"), Qt::ISODate);
}

RefreshResult failed(store::Transaction &tx, const SqlError &error, RefreshResult r)
{
    tx.fail(error);
    r.outcome = RefreshOutcome::StoreFailed;
    r.error = error.toString();
    qCWarning(lcSync) << "directory refresh failed:" << r.error;
    return r;
}

} // namespace

QString directoryTopic()
{
    return QStringLiteral("directory.account");
}

QString refreshOutcomeCode(RefreshOutcome outcome)
{
    switch (outcome) {
    case RefreshOutcome::Published: return QStringLiteral("published");
    case RefreshOutcome::UpToDate: return QStringLiteral("up_to_date");
    case RefreshOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

RefreshResult refresh(store::Transaction &tx, qint64 nowMs, const QTimeZone &timeZone)
{
    RefreshResult r;
    SqlError error;
    State state;
    if (!readState(tx.db(), &state, &error))
        return failed(tx, error, r);
    r.headSeq = state.headSeq;

    // Where the append-only tables stand: everything up to these ids is committed and final.
    qint64 maxReading = 0, maxInterval = 0, maxPosting = 0;
    bool anyDirty = false;
    {
        Statement s = tx.prepare(QStringLiteral(
            "SELECT coalesce((SELECT max(id) FROM readings), 0), coalesce((SELECT max(id) FROM charge_intervals), 0), "
            "coalesce((SELECT max(id) FROM ledger_postings), 0), EXISTS (SELECT 1 FROM sync_dirty)"));
        if (s.step() != Statement::Step::Row)
            return failed(tx, s.error(), r);
        maxReading = s.int64(0);
        maxInterval = s.int64(1);
        maxPosting = s.int64(2);
        anyDirty = s.int64(3) != 0;
    }

    Fold fold(timeZone);
    const QDate today = fold.calendar().dayOf(nowMs);
    const QString zone = QString::fromUtf8(timeZone.id());
    const bool rebuild = !state.built || state.timeZone != zone;
    r.rebuilt = rebuild;
    r.windowMoved = state.windowDay != dayText(today);
    if (!rebuild && !r.windowMoved && !anyDirty && maxReading == state.readingsThrough
        && maxInterval == state.intervalsThrough && maxPosting == state.postingsThrough) {
        r.outcome = RefreshOutcome::UpToDate;
        return r;
    }

    const QDate dailyFrom = today.addDays(-(kDailyDays - 1));
    const QDate monthlyFrom = firstOfMonth(today).addMonths(-(kMonthlyMonths - 1));
    QSet<qint64> touched;

    // ---- Fold what is new into the usage aggregates ---------------------------------------------
    if (rebuild) {
        qCInfo(lcSync) << "rebuilding the directory's usage aggregates in" << zone << "from" << dayText(monthlyFrom);
        if (const SqlError e
            = tx.db().exec(QStringLiteral("DELETE FROM sync_usage_daily; DELETE FROM sync_usage_monthly"));
            !e.ok())
            return failed(tx, e, r);
        const qint64 fromMs = fold.calendar().startOf(monthlyFrom);
        if (!foldReadings(tx, windowReadingsSql(), fromMs, maxReading, fold, touched, &r.readingsFolded, &error)
            || !foldIntervals(tx, windowIntervalsSql(), fromMs, maxInterval, fold, touched, &r.intervalsFolded, &error))
            return failed(tx, error, r);
    } else {
        if (!foldReadings(
                tx, newReadingsSql(), state.readingsThrough, maxReading, fold, touched, &r.readingsFolded, &error)
            || !foldIntervals(
                tx, newIntervalsSql(), state.intervalsThrough, maxInterval, fold, touched, &r.intervalsFolded, &error))
            return failed(tx, error, r);
    }
    if (const SqlError e = fold.write(tx); !e.ok())
        return failed(tx, e, r);

    // ---- Which rows to recompute -----------------------------------------------------------------
    if (rebuild || r.windowMoved) {
        // Every row: the windows moved (or everything was rebuilt). Usage that has left the
        // windows for good is dropped from the aggregates.
        if (!collectIds(tx,
                QStringLiteral(
                    "SELECT id FROM accounts WHERE status <> 'closed' UNION SELECT account_id FROM sync_directory"),
                std::nullopt, touched, &error))
            return failed(tx, error, r);
        Statement d = tx.prepare(QStringLiteral("DELETE FROM sync_usage_daily WHERE day < ?1"));
        d.bind(1, dayText(today.addDays(-(SyncLimits::usageDaysKept - 1))));
        if (const SqlError e = d.run(); !e.ok())
            return failed(tx, e, r);
        Statement m = tx.prepare(QStringLiteral("DELETE FROM sync_usage_monthly WHERE month < ?1"));
        m.bind(1, monthText(firstOfMonth(today).addMonths(-(SyncLimits::usageMonthsKept - 1))));
        if (const SqlError e = m.run(); !e.ok())
            return failed(tx, e, r);
    } else {
        if (!collectIds(tx,
                QStringLiteral("SELECT DISTINCT la.account_id FROM ledger_postings p "
                               "JOIN ledger_accounts la ON la.id = p.ledger_account_id "
                               "WHERE p.id > ?1 AND p.id <= ?2 AND la.account_id IS NOT NULL"),
                std::pair{state.postingsThrough, maxPosting}, touched, &error)
            || !collectIds(tx, QStringLiteral("SELECT account_id FROM sync_dirty"), std::nullopt, touched, &error))
            return failed(tx, error, r);
    }

    // ---- Recompute them, publish what differs ----------------------------------------------------
    QList<qint64> ids = touched.values();
    std::sort(ids.begin(), ids.end());
    r.accountsExamined = int(ids.size());
    const QString idsJson = jsonIds(ids);
    QHash<qint64, QList<DayUsage>> daily;
    QHash<qint64, QList<MonthUsage>> monthly;
    if (!ids.isEmpty()
        && (!readUsage(tx,
                QStringLiteral("SELECT account_id, day, energy_wh, amount_fen, sharp_wh, peak_wh, flat_wh, "
                               "valley_wh FROM sync_usage_daily "
                               "WHERE account_id IN (SELECT value FROM json_each(?1)) AND day >= ?2 AND day <= ?3 "
                               "ORDER BY account_id, day"),
                idsJson, dayText(dailyFrom), dayText(today), daily, parseDay, &error)
            || !readUsage(tx,
                QStringLiteral("SELECT account_id, month, energy_wh, amount_fen, sharp_wh, peak_wh, flat_wh, "
                               "valley_wh FROM sync_usage_monthly "
                               "WHERE account_id IN (SELECT value FROM json_each(?1)) AND month >= ?2 AND month <= ?3 "
                               "ORDER BY account_id, month"),
                idsJson, monthText(monthlyFrom), monthText(today), monthly, parseMonth, &error)))
        return failed(tx, error, r);
    QHash<qint64, QList<PointState>> points;
    QHash<qint64, TariffSummary> tariffs;
    if (!ids.isEmpty()
        && (!readPoints(tx, idsJson, points, &error) || !readTariffs(tx, idsJson, today, tariffs, &error)))
        return failed(tx, error, r);

    if (!ids.isEmpty()) {
        Statement rows = tx.prepare(QString::fromUtf8(kRowsSql));
        rows.bind(1, idsJson);
        Statement event
            = tx.prepare(QStringLiteral("INSERT INTO event_feed (topic, payload, at_ms) VALUES (?1, ?2, ?3)"));
        Statement upsert = tx.prepare(QStringLiteral(
            "INSERT INTO sync_directory (account_id, payload, seq, updated_at_ms) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (account_id) DO UPDATE SET payload = excluded.payload, seq = excluded.seq, "
            "updated_at_ms = excluded.updated_at_ms"));
        Statement remove = tx.prepare(QStringLiteral("DELETE FROM sync_directory WHERE account_id = ?1"));
        const QString topic = directoryTopic();

        Statement::Step step;
        while ((step = rows.step()) == Statement::Step::Row) {
            const qint64 accountId = rows.int64(0);
            const bool published = !rows.isNull(9);
            const QByteArray before = published ? rows.blob(9) : QByteArray();
            const bool live = !rows.isNull(1) && rows.text(4) != u"closed";
            QByteArray payload;
            if (live) {
                DirectoryRow row;
                row.accountId = accountId;
                row.shopNo = rows.text(2);
                row.displayName = rows.text(3);
                if (!rows.isNull(5))
                    row.balanceFen = rows.int64(5);
                if (!rows.isNull(6))
                    row.lastReadingMs = rows.int64(6);
                const qint64 level = rows.isNull(7) ? 0 : rows.int64(7);
                const bool offline = rows.int64(8) != 0;
                if (rows.text(4) == u"not_opened")
                    row.status = AccountStatus::NotOpened;
                else if (level >= 3)
                    row.status = AccountStatus::Arrears;
                else if (offline)
                    row.status = AccountStatus::Offline;
                else if (level == 2)
                    row.status = AccountStatus::Alarm2;
                else if (level == 1)
                    row.status = AccountStatus::Alarm1;
                row.daily = daily.value(accountId);
                row.monthly = monthly.value(accountId);
                row.points = points.value(accountId);
                if (const auto t = tariffs.constFind(accountId); t != tariffs.cend())
                    row.tariff = *t;
                payload = encodeRow(row);
                if (published && payload == before)
                    continue;
            } else {
                if (!published)
                    continue;
                payload = encodeRemoval(accountId);
            }
            const QString text = QString::fromUtf8(payload);
            event.bind(1, topic).bind(2, text).bind(3, nowMs);
            if (const SqlError e = event.run(); !e.ok())
                return failed(tx, e, r);
            event.reset();
            const qint64 seq = tx.db().lastInsertRowId();
            r.headSeq = seq;
            if (live) {
                ++r.rowsPublished;
                upsert.bind(1, accountId).bind(2, text).bind(3, seq).bind(4, nowMs);
                if (const SqlError e = upsert.run(); !e.ok())
                    return failed(tx, e, r);
                upsert.reset();
            } else {
                ++r.rowsRemoved;
                remove.bind(1, accountId);
                if (const SqlError e = remove.run(); !e.ok())
                    return failed(tx, e, r);
                remove.reset();
            }
        }
        if (step == Statement::Step::Error)
            return failed(tx, rows.error(), r);
    }

    // ---- The cursors -------------------------------------------------------------------------------
    if (const SqlError e = tx.db().exec(QStringLiteral("DELETE FROM sync_dirty")); !e.ok())
        return failed(tx, e, r);
    Statement s = tx.prepare(QStringLiteral(
        "UPDATE sync_state SET built = 1, time_zone = ?1, window_day = ?2, readings_through_id = ?3, "
        "intervals_through_id = ?4, postings_through_id = ?5, head_seq = ?6, updated_at_ms = ?7 WHERE id = 1"));
    s.bind(1, zone)
        .bind(2, dayText(today))
        .bind(3, maxReading)
        .bind(4, maxInterval)
        .bind(5, maxPosting)
        .bind(6, r.headSeq)
        .bind(7, nowMs);
    if (const SqlError e = s.run(); !e.ok())
        return failed(tx, e, r);
    r.outcome = r.rowsPublished + r.rowsRemoved > 0 ? RefreshOutcome::Published : RefreshOutcome::UpToDate;
    qCDebug(lcSync) << "directory refresh:" << r.readingsFolded << "readings," << r.intervalsFolded << "intervals,"
                    << r.accountsExamined << "rows examined," << r.rowsPublished << "published," << r.rowsRemoved
                    << "removed; head" << r.headSeq;
    return r;
}

PruneResult prune(store::Transaction &tx, qint64 keepFromSeq)
{
    PruneResult out;
    SqlError error;
    State state;
    if (!readState(tx.db(), &state, &error)) {
        tx.fail(error);
        out.error = error.toString();
        return out;
    }
    const qint64 through = std::min(keepFromSeq - 1, state.headSeq);
    out.prunedThroughSeq = std::max(state.prunedThrough, through);
    if (through <= state.prunedThrough) {
        out.ok = true;
        return out;
    }
    Statement d = tx.prepare(QStringLiteral("DELETE FROM event_feed WHERE topic = ?1 AND seq <= ?2"));
    d.bind(1, directoryTopic()).bind(2, through);
    if (const SqlError e = d.run(); !e.ok()) {
        tx.fail(e);
        out.error = e.toString();
        return out;
    }
    out.deleted = tx.db().changes();
    Statement s = tx.prepare(QStringLiteral("UPDATE sync_state SET pruned_through_seq = ?1 WHERE id = 1"));
    s.bind(1, through);
    if (const SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        out.error = e.toString();
        return out;
    }
    out.ok = true;
    return out;
}

PruneResult pruneByRetention(store::Transaction &tx, qint64 nowMs, const Retention &retention)
{
    // The first seq to keep: the oldest event young enough, and no more than eventsMax of them.
    Statement s = tx.prepare(QStringLiteral(
        "SELECT max(coalesce((SELECT min(seq) FROM event_feed WHERE topic = ?1 AND at_ms >= ?2), "
        "                    (SELECT coalesce(max(seq), 0) + 1 FROM event_feed WHERE topic = ?1)), "
        "           coalesce((SELECT seq FROM event_feed WHERE topic = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?3), 0))"));
    s.bind(1, directoryTopic())
        .bind(2, nowMs - retention.maxAgeMs)
        .bind(3, qint64(std::max(retention.eventsMax, 1) - 1));
    if (s.step() != Statement::Step::Row) {
        PruneResult out;
        tx.fail(s.error());
        out.error = s.error().toString();
        return out;
    }
    return prune(tx, s.int64(0));
}

std::optional<DirectorySnapshot> snapshot(store::Connection &reader, QString *error)
{
    ReadTransaction read(reader);
    if (!read.error().ok()) {
        *error = read.error().toString();
        return std::nullopt;
    }
    State state;
    SqlError e;
    if (!readState(reader, &state, &e)) {
        *error = e.toString();
        return std::nullopt;
    }
    DirectorySnapshot out;
    out.feedId = state.feedId;
    out.seq = state.headSeq;
    Statement s = reader.prepare(QStringLiteral("SELECT account_id, payload FROM sync_directory ORDER BY account_id"));
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        DirectoryEvent row;
        QString why;
        if (!decodePayload(s.blob(1), &row, &why) || !row.row) {
            *error = QStringLiteral("sync_directory row of account %1: %2").arg(s.int64(0)).arg(why);
            return std::nullopt;
        }
        out.rows.append(std::move(*row.row));
    }
    if (step == Statement::Step::Error) {
        *error = s.error().toString();
        return std::nullopt;
    }
    return out;
}

std::optional<DirectoryBatch> eventsSince(store::Connection &reader, qint64 sinceSeq, int limit, QString *error)
{
    ReadTransaction read(reader);
    if (!read.error().ok()) {
        *error = read.error().toString();
        return std::nullopt;
    }
    State state;
    SqlError e;
    if (!readState(reader, &state, &e)) {
        *error = e.toString();
        return std::nullopt;
    }
    DirectoryBatch out;
    out.feedId = state.feedId;
    out.fromSeq = sinceSeq;
    out.toSeq = sinceSeq;
    if (sinceSeq < state.prunedThrough || sinceSeq > state.headSeq) {
        out.resyncNeeded = true;
        return out;
    }
    limit = std::clamp(limit, 1, SyncLimits::eventsPerBatchMax);
    Statement s = reader.prepare(
        QStringLiteral("SELECT seq, payload FROM event_feed WHERE topic = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"));
    s.bind(1, directoryTopic()).bind(2, sinceSeq).bind(3, limit);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        DirectoryEvent ev;
        ev.seq = s.int64(0);
        QString why;
        if (!decodePayload(s.blob(1), &ev, &why)) {
            *error = QStringLiteral("event_feed seq %1: %2").arg(ev.seq).arg(why);
            return std::nullopt;
        }
        out.events.append(std::move(ev));
    }
    if (step == Statement::Step::Error) {
        *error = s.error().toString();
        return std::nullopt;
    }
    out.toSeq = out.events.size() == limit ? out.events.constLast().seq : state.headSeq;
    out.more = out.toSeq < state.headSeq;
    return out;
}

} // namespace prepay::sync
