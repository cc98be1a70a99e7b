// account.list, account.get, account.usage: what staff read about tenant accounts. Reads only,
// on the event loop's read-only connection, each call in one read transaction so its parts agree.
//
// Where the figures come from, so staff and the lobby kiosks never disagree:
//  - status (normal, alarm1, alarm2, arrears, not_opened, offline) is the colour the kiosk
//    directory feed last published for the account (sync_directory, refreshed every 2 s by the
//    service; the rule is in sync/directory.h, applied by sync/publisher.cpp) — no second copy
//    of the rule here. A closed account, or one opened since the last refresh, has none (null);
//  - balance_fen is the wallet's balance as it stands (ledger_accounts), so a cashier sees a
//    top-up at once; last_reading_ms is the directory's (the newest reading of its points);
//  - usage is the directory's per-day and per-month aggregates (sync_usage_daily / _monthly):
//    the readings of the points the account held when they were taken and the charges ending at
//    them; a day without any reading has no row, so it is absent from the answer (a gap).
//
// Visibility: a staff member limited to some buildings (operator_buildings; no row = every
// building) sees only the accounts of those buildings — another building's shop answers
// not_found, exactly like a shop that does not exist, and the list leaves it out. An account's
// building is the building of its first current metering point (or, once closed, of the first
// point it ever held). account.get shows the account's own points and the entries on its own
// wallet only: a transfer's other side is not shown.
#include "api/clock.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"
#include "store/store.h"
#include "sync/publisher.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTimeZone>

#include <algorithm>

namespace prepay::service {

namespace {

constexpr int kListLimitDefault = 100;
constexpr int kLedgerEntriesShown = 10;
// account.usage answers from the directory's aggregates, which keep this much (sync/publisher.h).
constexpr int kUsageDaysMax = sync::SyncLimits::usageDaysKept;
constexpr int kUsageMonthsMax = sync::SyncLimits::usageMonthsKept;
static_assert(kUsageDaysMax >= sync::kDailyDays && kUsageMonthsMax >= sync::kMonthlyMonths,
    "the default windows (31 days, 12 months) must always be answered in full");

// The building an account belongs to (see the file comment): current links first, then the oldest.
const char *const kAccountBuildingSql
    = "(SELECT mp.building_id FROM account_metering_points amp "
      "  JOIN metering_points mp ON mp.id = amp.metering_point_id WHERE amp.account_id = a.id "
      "  ORDER BY amp.unlinked_at_ms IS NOT NULL, amp.linked_at_ms, amp.id LIMIT 1)";

// Whether staff member ?N may see building `building`: no operator_buildings row (every building)
// or a row for it. %1 = the building expression, %2 = the parameter number of the operator id.
QString visibleSql(const QString &building, int operatorParam)
{
    return QStringLiteral("(NOT EXISTS (SELECT 1 FROM operator_buildings ob WHERE ob.operator_id = ?%2) "
                          "OR EXISTS (SELECT 1 FROM operator_buildings ob WHERE ob.operator_id = ?%2 "
                          "AND ob.building_id = %1))")
        .arg(building)
        .arg(operatorParam);
}

using store::ReadTransaction;

qint64 operatorOf(const CallPtr &call)
{
    return call->client && call->client->staff ? call->client->staff->operatorId : 0;
}

void failNoShop(const CallPtr &call, const QString &shopNo)
{
    call->fail(rpc::ErrorCode::NotFound, QStringLiteral("no account with shop number '%1'").arg(shopNo),
        QJsonObject{{QStringLiteral("field"), QStringLiteral("params.shop_no")}});
}

// The local "today" the directory's windows end at (sync_state.window_day); before the first
// refresh, today in the site's time zone.
QDate localToday(ServiceContext &context, store::SqlError *error)
{
    store::Statement s = context.reader.prepare(
        QStringLiteral("SELECT (SELECT window_day FROM sync_state WHERE id = 1), "
                       "coalesce((SELECT value FROM settings WHERE key = 'site.time_zone'), 'Asia/Shanghai')"));
    if (s.step() != store::Statement::Step::Row) {
        *error = s.error();
        return {};
    }
    if (!s.isNull(0)) {
        const QDate day = QDate::fromString(s.text(0), Qt::ISODate);
        if (day.isValid())
            return day;
    }
    QTimeZone zone(s.text(1).toUtf8());
    if (!zone.isValid())
        zone = QTimeZone::utc();
    return QDateTime::fromMSecsSinceEpoch(context.clock.wallMs(), zone).date();
}

// The account a shop number names for this staff member: the live one (shop numbers are unique
// among accounts not closed), else the one closed last. nullopt when there is none or it is in
// a building they may not see; *error when a statement failed.
struct AccountRow
{
    qint64 id = 0;
    qint64 walletId = 0; // 0 = no wallet yet
};

std::optional<AccountRow> findAccount(
    ServiceContext &context, const QString &shopNo, qint64 operatorId, store::SqlError *error)
{
    store::Statement s = context.reader.prepare(
        QStringLiteral("SELECT a.id, coalesce(w.id, 0), %1 FROM accounts a "
                       "LEFT JOIN ledger_accounts w ON w.account_id = a.id WHERE a.shop_no = ?1 "
                       "ORDER BY a.status = 'closed', a.closed_at_ms DESC, a.id DESC LIMIT 1")
            .arg(visibleSql(QString::fromLatin1(kAccountBuildingSql), 2)));
    s.bind(1, shopNo).bind(2, operatorId);
    switch (s.step()) {
    case store::Statement::Step::Row: break;
    case store::Statement::Step::Done: return std::nullopt;
    case store::Statement::Step::Error: *error = s.error(); return std::nullopt;
    }
    if (s.int64(2) == 0)
        return std::nullopt;
    AccountRow row;
    row.id = s.int64(0);
    row.walletId = s.int64(1);
    return row;
}

// ---- account.list ------------------------------------------------------------------------------

void list(ServiceContext &context, const CallPtr &call)
{
    const QJsonObject &p = call->params();
    const qint64 limit = p.value(QLatin1String("limit")).toInteger(kListLimitDefault);
    const qint64 offset = p.value(QLatin1String("offset")).toInteger(0);
    // Optional filters are bound as NULL when absent. The query is matched with instr() on
    // lower-cased text, so '%', '_' and quotes in it are plain characters (no LIKE pattern).
    const auto bindFilters = [&p](store::Statement &s) {
        const auto bindOptional = [&s, &p](int index, const char *key) {
            const QJsonValue v = p.value(QLatin1String(key));
            v.isString() ? s.bind(index, v.toString()) : s.bindNull(index);
        };
        bindOptional(1, "query");
        bindOptional(2, "status");
        bindOptional(3, "building_code");
    };
    // Accounts with their building, published row and wallet; then the filters.
    const QString from
        = QStringLiteral("FROM (SELECT a.*, %1 AS building_id FROM accounts a) a "
                         "LEFT JOIN buildings b ON b.id = a.building_id "
                         "LEFT JOIN sync_directory d ON d.account_id = a.id "
                         "LEFT JOIN ledger_accounts w ON w.account_id = a.id "
                         "WHERE (?1 IS NULL OR instr(lower(a.shop_no), lower(?1)) > 0 "
                         "       OR instr(lower(a.display_name), lower(?1)) > 0) "
                         "AND (?2 IS NULL OR d.payload ->> '$.status' = ?2) "
                         "AND (?3 IS NULL OR b.code = ?3) "
                         "AND %2 ")
              .arg(QString::fromLatin1(kAccountBuildingSql), visibleSql(QStringLiteral("a.building_id"), 4));

    ReadTransaction read(context.reader);
    if (!read.error().ok()) {
        failInternal(call, read.error().toString());
        return;
    }
    store::Statement count = context.reader.prepare(QStringLiteral("SELECT count(*) ") + from);
    bindFilters(count);
    count.bind(4, operatorOf(call));
    if (count.step() != store::Statement::Step::Row) {
        failInternal(call, count.error().toString());
        return;
    }
    const qint64 total = count.int64(0);

    store::Statement s = context.reader.prepare(
        QStringLiteral("SELECT a.id, a.shop_no, a.display_name, b.code, a.status, d.payload ->> '$.status', "
                       "w.balance_fen, d.payload ->> '$.last_reading_ms' ")
        + from + QStringLiteral("ORDER BY a.shop_no, a.id LIMIT ?5 OFFSET ?6"));
    bindFilters(s);
    s.bind(4, operatorOf(call)).bind(5, limit).bind(6, offset);
    QJsonArray accounts;
    store::Statement::Step step;
    while ((step = s.step()) == store::Statement::Step::Row) {
        accounts.append(QJsonObject{{QStringLiteral("account_id"), s.int64(0)}, {QStringLiteral("shop_no"), s.text(1)},
            {QStringLiteral("display_name"), s.text(2)}, {QStringLiteral("building_code"), textOrNull(s, 3)},
            {QStringLiteral("state"), s.text(4)}, {QStringLiteral("status"), textOrNull(s, 5)},
            {QStringLiteral("balance_fen"), intOrNull(s, 6)},
            {QStringLiteral("last_reading_ms"), intOrNull(s, 7)}});
    }
    if (step == store::Statement::Step::Error) {
        failInternal(call, s.error().toString());
        return;
    }
    call->reply(QJsonObject{{QStringLiteral("accounts"), accounts}, {QStringLiteral("total"), total}});
}

// ---- account.get -------------------------------------------------------------------------------

// The account's current metering points: each with its building, control mode, thresholds
// (point → building → site, the chain the controller applies: control/controller.cpp), the
// tariff that applies today (the point's own assignment, else the account's: billing/tariff.h),
// its open alarms, and the installed meter as the poller last saw it (meter_state).
const char *const kPointsSql
    = "SELECT mp.code, b.code, mp.floor, mp.room, amp.linked_at_ms, "
      " coalesce(cs.control_mode, 'auto'), cs.mode_expires_at_ms, "
      " coalesce(cs.alarm1_threshold_fen, b.alarm1_threshold_fen, "
      "  (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm1_threshold_fen'), 5000), "
      " coalesce(cs.alarm2_threshold_fen, b.alarm2_threshold_fen, "
      "  (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm2_threshold_fen'), 2000), "
      " coalesce(cs.overdraft_limit_fen, b.overdraft_limit_fen, "
      "  (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'control.overdraft_limit_fen'), 0), "
      " t.code, t.name, "
      " (SELECT json_group_array(kind) FROM (SELECT al.kind FROM alarms al WHERE al.cleared_at_ms IS NULL "
      "    AND al.kind IN ('alarm1', 'alarm2', 'arrears') AND al.subject_kind = 'metering_point' "
      "    AND al.subject_id = mp.id "
      "  UNION ALL SELECT al.kind FROM alarms al WHERE al.cleared_at_ms IS NULL "
      "    AND al.kind IN ('meter_offline', 'balance_drift', 'purchase_count_drift', 'clock_drift', "
      "                    'command_failed', 'reading_held') "
      "    AND al.subject_kind = 'meter' AND al.subject_id = i.meter_id ORDER BY 1)), "
      " i.meter_id, m.serial_number, m.model, m.capability, bus.name, m.unit_id, i.installed_at_ms, "
      " ms.relay_state, ms.relay_mode, coalesce(ms.comm_state, 'unknown'), ms.last_read_at_ms, "
      " ms.energy_total_wh, ms.balance_fen "
      "FROM account_metering_points amp JOIN metering_points mp ON mp.id = amp.metering_point_id "
      "JOIN buildings b ON b.id = mp.building_id "
      "LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id "
      "LEFT JOIN tariffs t ON t.id = coalesce("
      "  (SELECT ta.tariff_id FROM tariff_assignments ta WHERE ta.metering_point_id = mp.id "
      "    AND ta.effective_date <= ?2 ORDER BY ta.effective_date DESC LIMIT 1), "
      "  (SELECT ta.tariff_id FROM tariff_assignments ta WHERE ta.account_id = amp.account_id "
      "    AND ta.effective_date <= ?2 ORDER BY ta.effective_date DESC LIMIT 1)) "
      "LEFT JOIN meter_installations i ON i.metering_point_id = mp.id AND i.removed_at_ms IS NULL "
      "LEFT JOIN meters m ON m.id = i.meter_id "
      "LEFT JOIN buses bus ON bus.id = m.bus_id "
      "LEFT JOIN meter_state ms ON ms.meter_id = i.meter_id "
      "WHERE amp.account_id = ?1 AND amp.unlinked_at_ms IS NULL ORDER BY mp.code";

std::optional<QJsonArray> pointsOf(store::Connection &db, qint64 accountId, QDate today, store::SqlError *error)
{
    store::Statement s = db.prepare(QString::fromLatin1(kPointsSql));
    s.bind(1, accountId).bind(2, today.toString(Qt::ISODate));
    QJsonArray points;
    store::Statement::Step step;
    while ((step = s.step()) == store::Statement::Step::Row) {
        QJsonObject point{{QStringLiteral("point_code"), s.text(0)}, {QStringLiteral("building_code"), s.text(1)},
            {QStringLiteral("floor"), s.int64(2)}, {QStringLiteral("room"), textOrNull(s, 3)},
            {QStringLiteral("linked_at_ms"), s.int64(4)}, {QStringLiteral("control_mode"), s.text(5)},
            {QStringLiteral("mode_expires_at_ms"), intOrNull(s, 6)},
            {QStringLiteral("thresholds"),
                QJsonObject{{QStringLiteral("alarm1_fen"), s.int64(7)}, {QStringLiteral("alarm2_fen"), s.int64(8)},
                    {QStringLiteral("overdraft_limit_fen"), s.int64(9)}}},
            {QStringLiteral("tariff"),
                s.isNull(10) ? QJsonValue(QJsonValue::Null)
                             : QJsonValue(QJsonObject{
                                 {QStringLiteral("code"), s.text(10)}, {QStringLiteral("name"), s.text(11)}})},
            {QStringLiteral("alarms"), QJsonDocument::fromJson(s.blob(12)).array()}};
        if (s.isNull(13)) {
            point.insert(QStringLiteral("meter"), QJsonValue(QJsonValue::Null));
        } else {
            point.insert(QStringLiteral("meter"),
                QJsonObject{{QStringLiteral("serial_number"), s.int64(14)}, {QStringLiteral("model"), s.text(15)},
                    {QStringLiteral("capability"), s.text(16)}, {QStringLiteral("bus"), textOrNull(s, 17)},
                    {QStringLiteral("unit_id"), intOrNull(s, 18)}, {QStringLiteral("installed_at_ms"), s.int64(19)},
                    {QStringLiteral("relay_state"), textOrNull(s, 20)},
                    {QStringLiteral("relay_mode"), textOrNull(s, 21)}, {QStringLiteral("comm_state"), s.text(22)},
                    {QStringLiteral("last_reading_ms"), intOrNull(s, 23)},
                    {QStringLiteral("energy_total_wh"), intOrNull(s, 24)},
                    {QStringLiteral("meter_balance_fen"), intOrNull(s, 25)}});
        }
        points.append(point);
    }
    if (step == store::Statement::Step::Error) {
        *error = s.error();
        return std::nullopt;
    }
    return points;
}

// The last entries that moved this wallet: each with this wallet's side of it only.
std::optional<QJsonArray> ledgerOf(store::Connection &db, qint64 walletId, store::SqlError *error)
{
    QJsonArray entries;
    if (walletId == 0)
        return entries;
    store::Statement s = db.prepare(
        QStringLiteral("SELECT e.id, e.kind, p.amount_fen, e.created_at_ms, e.reason FROM ledger_postings p "
                       "JOIN ledger_entries e ON e.id = p.entry_id WHERE p.ledger_account_id = ?1 "
                       "ORDER BY p.entry_id DESC LIMIT ?2"));
    s.bind(1, walletId).bind(2, kLedgerEntriesShown);
    store::Statement::Step step;
    while ((step = s.step()) == store::Statement::Step::Row) {
        entries.append(QJsonObject{{QStringLiteral("entry_id"), s.int64(0)}, {QStringLiteral("kind"), s.text(1)},
            {QStringLiteral("amount_fen"), s.int64(2)}, {QStringLiteral("created_at_ms"), s.int64(3)},
            {QStringLiteral("reason"), textOrNull(s, 4)}});
    }
    if (step == store::Statement::Step::Error) {
        *error = s.error();
        return std::nullopt;
    }
    return entries;
}

// The call's account (by shop, within the caller's buildings) and the site's local date, read in
// the caller's read transaction; answers not_found or internal_error itself when there is none.
struct Subject
{
    AccountRow account;
    QDate today;
};

std::optional<Subject> subjectOf(ServiceContext &context, const CallPtr &call, const ReadTransaction &read,
    const QString &shopNo)
{
    store::SqlError error = read.error();
    const std::optional<AccountRow> found
        = error.ok() ? findAccount(context, shopNo, operatorOf(call), &error) : std::nullopt;
    if (!error.ok()) {
        failInternal(call, error.toString());
        return std::nullopt;
    }
    if (!found) {
        failNoShop(call, shopNo);
        return std::nullopt;
    }
    const QDate today = localToday(context, &error);
    if (!error.ok()) {
        failInternal(call, error.toString());
        return std::nullopt;
    }
    return Subject{*found, today};
}

void get(ServiceContext &context, const CallPtr &call)
{
    const QString shopNo = call->params().value(QLatin1String("shop_no")).toString();
    ReadTransaction read(context.reader);
    const std::optional<Subject> subject = subjectOf(context, call, read, shopNo);
    if (!subject)
        return;
    const std::optional<AccountRow> found = subject->account;
    const QDate today = subject->today;
    store::SqlError error;

    store::Statement s = context.reader.prepare(QStringLiteral(
        "SELECT a.id, a.shop_no, a.display_name, a.contact_name, a.contact_phone, a.status, a.opened_at_ms, "
        " a.closed_at_ms, b.code, w.balance_fen, d.payload ->> '$.status', d.payload ->> '$.last_reading_ms', "
        " t.code, t.name, ta.effective_date "
        "FROM accounts a LEFT JOIN buildings b ON b.id = %1 "
        "LEFT JOIN ledger_accounts w ON w.account_id = a.id "
        "LEFT JOIN sync_directory d ON d.account_id = a.id "
        "LEFT JOIN tariff_assignments ta ON ta.id = (SELECT x.id FROM tariff_assignments x "
        "  WHERE x.account_id = a.id AND x.effective_date <= ?2 ORDER BY x.effective_date DESC LIMIT 1) "
        "LEFT JOIN tariffs t ON t.id = ta.tariff_id "
        "WHERE a.id = ?1")
                                                    .arg(QString::fromLatin1(kAccountBuildingSql)));
    s.bind(1, found->id).bind(2, today.toString(Qt::ISODate));
    if (s.step() != store::Statement::Step::Row) {
        failInternal(
            call, s.error().ok() ? QStringLiteral("account %1 vanished").arg(found->id) : s.error().toString());
        return;
    }
    QJsonObject account{{QStringLiteral("account_id"), s.int64(0)}, {QStringLiteral("shop_no"), s.text(1)},
        {QStringLiteral("display_name"), s.text(2)}, {QStringLiteral("contact_name"), textOrNull(s, 3)},
        {QStringLiteral("contact_phone"), textOrNull(s, 4)}, {QStringLiteral("state"), s.text(5)},
        {QStringLiteral("opened_at_ms"), intOrNull(s, 6)}, {QStringLiteral("closed_at_ms"), intOrNull(s, 7)},
        {QStringLiteral("building_code"), textOrNull(s, 8)}, {QStringLiteral("balance_fen"), intOrNull(s, 9)},
        {QStringLiteral("status"), textOrNull(s, 10)}, {QStringLiteral("last_reading_ms"), intOrNull(s, 11)},
        {QStringLiteral("tariff"),
            s.isNull(12) ? QJsonValue(QJsonValue::Null)
                         : QJsonValue(QJsonObject{{QStringLiteral("code"), s.text(12)},
                             {QStringLiteral("name"), s.text(13)}, {QStringLiteral("effective_date"), s.text(14)}})}};

    const std::optional<QJsonArray> points = pointsOf(context.reader, found->id, today, &error);
    const std::optional<QJsonArray> ledger = points ? ledgerOf(context.reader, found->walletId, &error) : std::nullopt;
    if (!points || !ledger) {
        failInternal(call, error.toString());
        return;
    }
    account.insert(QStringLiteral("points"), *points);
    account.insert(QStringLiteral("ledger"), *ledger);
    call->reply(account);
}

// ---- account.usage -----------------------------------------------------------------------------

void usage(ServiceContext &context, const CallPtr &call)
{
    const QString shopNo = call->params().value(QLatin1String("shop_no")).toString();
    const bool daily = call->params().value(QLatin1String("granularity")).toString() == QLatin1String("day");
    const qint64 asked
        = call->params().value(QLatin1String("periods")).toInteger(daily ? sync::kDailyDays : sync::kMonthlyMonths);
    // What the aggregates keep: a longer window is answered from its newest part, and `from`
    // says where the answer starts, so an older period is never mistaken for a gap.
    const int periods = int(std::min<qint64>(asked, daily ? kUsageDaysMax : kUsageMonthsMax));

    ReadTransaction read(context.reader);
    const std::optional<Subject> subject = subjectOf(context, call, read, shopNo);
    if (!subject)
        return;
    const std::optional<AccountRow> found = subject->account;
    const QDate today = subject->today;
    QString from, to;
    if (daily) {
        from = today.addDays(-(periods - 1)).toString(Qt::ISODate);
        to = today.toString(Qt::ISODate);
    } else {
        const QDate month(today.year(), today.month(), 1);
        from = month.addMonths(-(periods - 1)).toString(Qt::ISODate).left(7);
        to = month.toString(Qt::ISODate).left(7);
    }
    store::Statement s = context.reader.prepare(daily
            ? QStringLiteral("SELECT day, energy_wh, amount_fen FROM sync_usage_daily "
                             "WHERE account_id = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day")
            : QStringLiteral("SELECT month, energy_wh, amount_fen FROM sync_usage_monthly "
                             "WHERE account_id = ?1 AND month >= ?2 AND month <= ?3 ORDER BY month"));
    s.bind(1, found->id).bind(2, from).bind(3, to);
    QJsonArray rows;
    store::Statement::Step step;
    while ((step = s.step()) == store::Statement::Step::Row) {
        rows.append(QJsonObject{{QStringLiteral("period"), s.text(0)}, {QStringLiteral("energy_wh"), s.int64(1)},
            {QStringLiteral("amount_fen"), s.int64(2)}});
    }
    if (step == store::Statement::Step::Error) {
        failInternal(call, s.error().toString());
        return;
    }
    call->reply(QJsonObject{{QStringLiteral("granularity"), daily ? QStringLiteral("day") : QStringLiteral("month")},
        {QStringLiteral("from"), from}, {QStringLiteral("to"), to}, {QStringLiteral("periods"), rows}});
}

} // namespace

void bindAccountMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("account.list"), [&context](const CallPtr &call) { list(context, call); });
    dispatcher.bind(QStringLiteral("account.get"), [&context](const CallPtr &call) { get(context, call); });
    dispatcher.bind(QStringLiteral("account.usage"), [&context](const CallPtr &call) { usage(context, call); });
}

} // namespace prepay::service
