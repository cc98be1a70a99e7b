#include "directory.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonValue>

#include <cstdio>
#include <limits>

namespace prepay::sync {

namespace {

void appendString(QByteArray &out, const QString &text)
{
    out += '"';
    const QByteArray utf8 = text.toUtf8();
    for (const char c : utf8) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
                out += escaped;
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void appendOptional(QByteArray &out, const std::optional<qint64> &value)
{
    if (value)
        out += QByteArray::number(*value);
    else
        out += "null";
}

void appendSlots(QByteArray &out, const std::array<qint64, 4> &slots)
{
    out += '[';
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (i > 0)
            out += ',';
        out += QByteArray::number(slots[i]);
    }
    out += ']';
}

void appendInts(QByteArray &out, const QList<qint64> &values)
{
    out += '[';
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i > 0)
            out += ',';
        out += QByteArray::number(values.at(i));
    }
    out += ']';
}

QByteArray dayText(QDate day)
{
    return day.toString(Qt::ISODate).toLatin1();
}

QByteArray monthText(QDate month)
{
    return month.toString(Qt::ISODate).toLatin1().left(7);
}

// A JSON number that is an integer (QJsonValue keeps integers exactly up to 2^63).
bool intValue(const QJsonValue &v, qint64 *out)
{
    if (!v.isDouble())
        return false;
    constexpr qint64 low = std::numeric_limits<qint64>::min();
    constexpr qint64 high = std::numeric_limits<qint64>::max();
    const qint64 a = v.toInteger(low);
    if (a == low && v.toInteger(high) == high)
        return false;
    *out = a;
    return true;
}

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

bool optionalInt(const QJsonObject &o, QLatin1StringView key, std::optional<qint64> *out, QString *error)
{
    const QJsonValue v = o.value(key);
    if (v.isNull()) {
        out->reset();
        return true;
    }
    qint64 n = 0;
    if (!intValue(v, &n))
        return fail(error, QStringLiteral("%1: an integer or null").arg(key));
    *out = n;
    return true;
}

// [text, Wh, fen] with text parsed by `parse`, Wh and fen ≥ 0.
template<typename Parse>
bool usageEntry(const QJsonValue &v, Parse parse, QDate *when, qint64 *wh, qint64 *fen)
{
    const QJsonArray a = v.toArray();
    if (!v.isArray() || a.size() != 3 || !a.at(0).isString())
        return false;
    *when = parse(a.at(0).toString());
    return when->isValid() && intValue(a.at(1), wh) && intValue(a.at(2), fen) && *wh >= 0 && *fen >= 0;
}

// [a, b, c, d] of integers ≥ 0.
bool fourInts(const QJsonValue &v, std::array<qint64, 4> *out)
{
    const QJsonArray a = v.toArray();
    if (!v.isArray() || a.size() != 4)
        return false;
    for (qsizetype i = 0; i < 4; ++i) {
        if (!intValue(a.at(i), &(*out)[std::size_t(i)]) || (*out)[std::size_t(i)] < 0)
            return false;
    }
    return true;
}

// An array of integers > 0 (tier bounds) or ≥ 0 (adders), at most 9 (tariff_tiers.tier_no).
bool intList(const QJsonValue &v, qint64 minimum, QList<qint64> *out)
{
    if (!v.isArray() || v.toArray().size() > 9)
        return false;
    for (const QJsonValue &e : v.toArray()) {
        qint64 n = 0;
        if (!intValue(e, &n) || n < minimum)
            return false;
        out->append(n);
    }
    return true;
}

// The slot split of each usage entry (issue 8): absent (an older server) leaves it all zero;
// present, one [sharp, peak, flat, valley] per entry of `entries`, in the same order.
template<typename Usage>
bool slotSplit(const QJsonObject &o, QLatin1StringView key, QList<Usage> *entries, QString *error)
{
    if (!o.contains(key))
        return true;
    const QJsonValue v = o.value(key);
    if (!v.isArray() || v.toArray().size() != entries->size())
        return fail(error, QStringLiteral("%1: an array with one entry per usage entry").arg(key));
    const QJsonArray a = v.toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (!fourInts(a.at(i), &(*entries)[i].slotWh))
            return fail(error, QStringLiteral("%1[%2]: [sharp, peak, flat, valley] Wh ≥ 0").arg(key).arg(i));
    }
    return true;
}

bool decodePoints(const QJsonObject &o, QList<PointState> *out, QString *error)
{
    if (!o.contains(QLatin1StringView("points")))
        return true;
    const QJsonValue v = o.value(QLatin1StringView("points"));
    if (!v.isArray())
        return fail(error, QStringLiteral("points: an array"));
    const QJsonArray a = v.toArray();
    for (qsizetype i = 0; i < a.size(); ++i) {
        const QJsonObject p = a.at(i).toObject();
        const QJsonValue code = p.value(QLatin1StringView("point_code"));
        const QJsonValue relay = p.value(QLatin1StringView("relay"));
        const QJsonValue mode = p.value(QLatin1StringView("control_mode"));
        const QJsonValue offline = p.value(QLatin1StringView("offline"));
        if (!a.at(i).isObject() || !code.isString() || !relay.isString() || !mode.isString() || !offline.isBool())
            return fail(error,
                QStringLiteral("points[%1]: {point_code, relay, control_mode: strings, offline: a boolean}").arg(i));
        out->append(PointState{code.toString(), relay.toString(), mode.toString(), offline.toBool()});
    }
    return true;
}

bool decodeTariff(const QJsonObject &o, std::optional<TariffSummary> *out, QString *error)
{
    const QJsonValue v = o.value(QLatin1StringView("tariff"));
    out->reset();
    if (v.isNull() || v.isUndefined())
        return true;
    const QJsonObject t = v.toObject();
    TariffSummary s;
    if (!v.isObject() || !t.value(QLatin1StringView("name")).isString()
        || !t.value(QLatin1StringView("kind")).isString())
        return fail(error, QStringLiteral("tariff: null or an object with name and kind strings"));
    s.name = t.value(QLatin1StringView("name")).toString();
    s.kind = t.value(QLatin1StringView("kind")).toString();
    if (!fourInts(t.value(QLatin1StringView("prices")), &s.prices))
        return fail(error, QStringLiteral("tariff.prices: [sharp, peak, flat, valley] ≥ 0"));
    if (!intList(t.value(QLatin1StringView("tier_upper_wh")), 1, &s.tierUpperWh))
        return fail(error, QStringLiteral("tariff.tier_upper_wh: an array of at most 9 integers > 0"));
    if (!intList(t.value(QLatin1StringView("tier_adders")), 0, &s.tierAdders))
        return fail(error, QStringLiteral("tariff.tier_adders: an array of at most 9 integers ≥ 0"));
    *out = std::move(s);
    return true;
}

QDate parseDay(const QString &text)
{
    if (text.size() != 10)
        return {};
    return QDate::fromString(text, Qt::ISODate);
}

QDate parseMonth(const QString &text)
{
    if (text.size() != 7)
        return {};
    return QDate::fromString(text + QStringLiteral("-01"), Qt::ISODate);
}

QJsonObject objectOf(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

} // namespace

QString accountStatusCode(AccountStatus status)
{
    switch (status) {
    case AccountStatus::Normal: return QStringLiteral("normal");
    case AccountStatus::Alarm1: return QStringLiteral("alarm1");
    case AccountStatus::Alarm2: return QStringLiteral("alarm2");
    case AccountStatus::Arrears: return QStringLiteral("arrears");
    case AccountStatus::NotOpened: return QStringLiteral("not_opened");
    case AccountStatus::Offline: return QStringLiteral("offline");
    }
    return QStringLiteral("normal");
}

std::optional<AccountStatus> accountStatusFromCode(QStringView code)
{
    for (const AccountStatus s : {AccountStatus::Normal, AccountStatus::Alarm1, AccountStatus::Alarm2,
             AccountStatus::Arrears, AccountStatus::NotOpened, AccountStatus::Offline}) {
        if (code == accountStatusCode(s))
            return s;
    }
    return std::nullopt;
}

QByteArray encodeRow(const DirectoryRow &row)
{
    QByteArray out;
    out.reserve(
        300 + 60 * int(row.daily.size() + row.monthly.size() + row.points.size()) + 3 * int(row.displayName.size()));
    out += "{\"account_id\":";
    out += QByteArray::number(row.accountId);
    out += ",\"shop_no\":";
    appendString(out, row.shopNo);
    out += ",\"display_name\":";
    appendString(out, row.displayName);
    out += ",\"status\":\"";
    out += accountStatusCode(row.status).toLatin1();
    out += "\",\"balance_fen\":";
    appendOptional(out, row.balanceFen);
    out += ",\"last_reading_ms\":";
    appendOptional(out, row.lastReadingMs);
    out += ",\"daily\":[";
    for (qsizetype i = 0; i < row.daily.size(); ++i) {
        const DayUsage &d = row.daily.at(i);
        out += i == 0 ? "[\"" : ",[\"";
        out += dayText(d.day);
        out += "\",";
        out += QByteArray::number(d.energyWh);
        out += ',';
        out += QByteArray::number(d.amountFen);
        out += ']';
    }
    out += "],\"monthly\":[";
    for (qsizetype i = 0; i < row.monthly.size(); ++i) {
        const MonthUsage &m = row.monthly.at(i);
        out += i == 0 ? "[\"" : ",[\"";
        out += monthText(m.month);
        out += "\",";
        out += QByteArray::number(m.energyWh);
        out += ',';
        out += QByteArray::number(m.amountFen);
        out += ']';
    }
    out += "],\"daily_slot_wh\":[";
    for (qsizetype i = 0; i < row.daily.size(); ++i) {
        out += i == 0 ? "" : ",";
        appendSlots(out, row.daily.at(i).slotWh);
    }
    out += "],\"monthly_slot_wh\":[";
    for (qsizetype i = 0; i < row.monthly.size(); ++i) {
        out += i == 0 ? "" : ",";
        appendSlots(out, row.monthly.at(i).slotWh);
    }
    out += "],\"points\":[";
    for (qsizetype i = 0; i < row.points.size(); ++i) {
        const PointState &p = row.points.at(i);
        out += i == 0 ? "{\"point_code\":" : ",{\"point_code\":";
        appendString(out, p.pointCode);
        out += ",\"relay\":";
        appendString(out, p.relay);
        out += ",\"control_mode\":";
        appendString(out, p.controlMode);
        out += p.offline ? ",\"offline\":true}" : ",\"offline\":false}";
    }
    out += "],\"tariff\":";
    if (row.tariff) {
        const TariffSummary &t = *row.tariff;
        out += "{\"name\":";
        appendString(out, t.name);
        out += ",\"kind\":";
        appendString(out, t.kind);
        out += ",\"prices\":";
        appendSlots(out, t.prices);
        out += ",\"tier_upper_wh\":";
        appendInts(out, t.tierUpperWh);
        out += ",\"tier_adders\":";
        appendInts(out, t.tierAdders);
        out += '}';
    } else {
        out += "null";
    }
    out += '}';
    return out;
}

QByteArray encodeRemoval(qint64 accountId)
{
    return "{\"account_id\":" + QByteArray::number(accountId) + ",\"removed\":true}";
}

bool decodePayload(const QJsonObject &o, DirectoryEvent *out, QString *error)
{
    qint64 accountId = 0;
    if (!intValue(o.value(QLatin1StringView("account_id")), &accountId) || accountId < 1)
        return fail(error, QStringLiteral("account_id: a positive integer"));
    if (o.contains(QLatin1StringView("removed"))) {
        if (o.value(QLatin1StringView("removed")) != QJsonValue(true))
            return fail(error, QStringLiteral("removed: true when present"));
        out->accountId = accountId;
        out->row.reset();
        return true;
    }
    DirectoryRow row;
    row.accountId = accountId;
    const QJsonValue shop = o.value(QLatin1StringView("shop_no"));
    const QJsonValue name = o.value(QLatin1StringView("display_name"));
    if (!shop.isString())
        return fail(error, QStringLiteral("shop_no: a string"));
    if (!name.isString())
        return fail(error, QStringLiteral("display_name: a string"));
    row.shopNo = shop.toString();
    row.displayName = name.toString();
    const std::optional<AccountStatus> status = accountStatusFromCode(o.value(QLatin1StringView("status")).toString());
    if (!status)
        return fail(error, QStringLiteral("status: one of normal, alarm1, alarm2, arrears, not_opened, offline"));
    row.status = *status;
    if (!optionalInt(o, QLatin1StringView("balance_fen"), &row.balanceFen, error)
        || !optionalInt(o, QLatin1StringView("last_reading_ms"), &row.lastReadingMs, error))
        return false;

    const QJsonValue daily = o.value(QLatin1StringView("daily"));
    if (!daily.isArray() || daily.toArray().size() > kDailyDays)
        return fail(error, QStringLiteral("daily: an array of at most %1 entries").arg(kDailyDays));
    const QJsonArray days = daily.toArray();
    for (qsizetype i = 0; i < days.size(); ++i) {
        DayUsage d;
        if (!usageEntry(days.at(i), parseDay, &d.day, &d.energyWh, &d.amountFen))
            return fail(error, QStringLiteral("daily[%1]: [\"YYYY-MM-DD\", Wh ≥ 0, fen ≥ 0]").arg(i));
        if (!row.daily.isEmpty() && row.daily.constLast().day >= d.day)
            return fail(error, QStringLiteral("daily[%1]: days must ascend").arg(i));
        row.daily.append(d);
    }
    const QJsonValue monthly = o.value(QLatin1StringView("monthly"));
    if (!monthly.isArray() || monthly.toArray().size() > kMonthlyMonths)
        return fail(error, QStringLiteral("monthly: an array of at most %1 entries").arg(kMonthlyMonths));
    const QJsonArray months = monthly.toArray();
    for (qsizetype i = 0; i < months.size(); ++i) {
        MonthUsage m;
        if (!usageEntry(months.at(i), parseMonth, &m.month, &m.energyWh, &m.amountFen))
            return fail(error, QStringLiteral("monthly[%1]: [\"YYYY-MM\", Wh ≥ 0, fen ≥ 0]").arg(i));
        if (!row.monthly.isEmpty() && row.monthly.constLast().month >= m.month)
            return fail(error, QStringLiteral("monthly[%1]: months must ascend").arg(i));
        row.monthly.append(m);
    }
    if (!slotSplit(o, QLatin1StringView("daily_slot_wh"), &row.daily, error)
        || !slotSplit(o, QLatin1StringView("monthly_slot_wh"), &row.monthly, error)
        || !decodePoints(o, &row.points, error) || !decodeTariff(o, &row.tariff, error))
        return false;
    out->accountId = accountId;
    out->row = std::move(row);
    return true;
}

bool decodePayload(const QByteArray &json, DirectoryEvent *out, QString *error)
{
    QJsonParseError parse;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parse);
    if (parse.error != QJsonParseError::NoError || !doc.isObject())
        return fail(error, QStringLiteral("payload: not a JSON object (%1)").arg(parse.errorString()));
    return decodePayload(doc.object(), out, error);
}

QJsonObject snapshotToJson(const DirectorySnapshot &snapshot)
{
    QJsonArray rows;
    for (const DirectoryRow &r : snapshot.rows)
        rows.append(objectOf(encodeRow(r)));
    return QJsonObject{{QStringLiteral("feed_id"), snapshot.feedId}, {QStringLiteral("seq"), snapshot.seq},
        {QStringLiteral("rows"), rows}};
}

std::optional<DirectorySnapshot> snapshotFromJson(const QJsonObject &json, QString *error)
{
    DirectorySnapshot s;
    const QJsonValue feed = json.value(QLatin1StringView("feed_id"));
    if (!feed.isString() || feed.toString().isEmpty()) {
        fail(error, QStringLiteral("feed_id: a non-empty string"));
        return std::nullopt;
    }
    s.feedId = feed.toString();
    if (!intValue(json.value(QLatin1StringView("seq")), &s.seq) || s.seq < 0) {
        fail(error, QStringLiteral("seq: an integer ≥ 0"));
        return std::nullopt;
    }
    const QJsonValue rows = json.value(QLatin1StringView("rows"));
    if (!rows.isArray()) {
        fail(error, QStringLiteral("rows: an array"));
        return std::nullopt;
    }
    const QJsonArray list = rows.toArray();
    s.rows.reserve(list.size());
    for (qsizetype i = 0; i < list.size(); ++i) {
        DirectoryEvent e;
        QString why;
        if (!list.at(i).isObject() || !decodePayload(list.at(i).toObject(), &e, &why) || !e.row) {
            fail(error, QStringLiteral("rows[%1]: %2").arg(i).arg(why.isEmpty() ? QStringLiteral("a row") : why));
            return std::nullopt;
        }
        if (!s.rows.isEmpty() && s.rows.constLast().accountId >= e.accountId) {
            fail(error, QStringLiteral("rows[%1]: account ids must ascend").arg(i));
            return std::nullopt;
        }
        s.rows.append(std::move(*e.row));
    }
    return s;
}

QJsonObject batchToJson(const DirectoryBatch &batch)
{
    QJsonArray events;
    for (const DirectoryEvent &e : batch.events) {
        events.append(QJsonObject{{QStringLiteral("seq"), e.seq},
            {QStringLiteral("payload"), objectOf(e.row ? encodeRow(*e.row) : encodeRemoval(e.accountId))}});
    }
    return QJsonObject{{QStringLiteral("feed_id"), batch.feedId}, {QStringLiteral("from_seq"), batch.fromSeq},
        {QStringLiteral("to_seq"), batch.toSeq}, {QStringLiteral("more"), batch.more},
        {QStringLiteral("resync_needed"), batch.resyncNeeded}, {QStringLiteral("events"), events}};
}

std::optional<DirectoryBatch> batchFromJson(const QJsonObject &json, QString *error)
{
    DirectoryBatch b;
    const QJsonValue feed = json.value(QLatin1StringView("feed_id"));
    if (!feed.isString()) {
        fail(error, QStringLiteral("feed_id: a string"));
        return std::nullopt;
    }
    b.feedId = feed.toString();
    if (!intValue(json.value(QLatin1StringView("from_seq")), &b.fromSeq) || b.fromSeq < 0) {
        fail(error, QStringLiteral("from_seq: an integer ≥ 0"));
        return std::nullopt;
    }
    if (!intValue(json.value(QLatin1StringView("to_seq")), &b.toSeq) || b.toSeq < 0) {
        fail(error, QStringLiteral("to_seq: an integer ≥ 0"));
        return std::nullopt;
    }
    const QJsonValue more = json.value(QLatin1StringView("more"));
    const QJsonValue resync = json.value(QLatin1StringView("resync_needed"));
    if (!more.isBool() || !resync.isBool()) {
        fail(error, QStringLiteral("%1: a boolean").arg(more.isBool() ? u"resync_needed" : u"more"));
        return std::nullopt;
    }
    b.more = more.toBool();
    b.resyncNeeded = resync.toBool();
    const QJsonValue events = json.value(QLatin1StringView("events"));
    if (!events.isArray()) {
        fail(error, QStringLiteral("events: an array"));
        return std::nullopt;
    }
    const QJsonArray list = events.toArray();
    b.events.reserve(list.size());
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject o = list.at(i).toObject();
        DirectoryEvent e;
        QString why;
        if (!intValue(o.value(QLatin1StringView("seq")), &e.seq) || e.seq < 1) {
            fail(error, QStringLiteral("events[%1].seq: a positive integer").arg(i));
            return std::nullopt;
        }
        if (!o.value(QLatin1StringView("payload")).isObject()
            || !decodePayload(o.value(QLatin1StringView("payload")).toObject(), &e, &why)) {
            fail(error,
                QStringLiteral("events[%1].payload: %2").arg(i).arg(why.isEmpty() ? QStringLiteral("an object") : why));
            return std::nullopt;
        }
        b.events.append(std::move(e));
    }
    return b;
}

} // namespace prepay::sync
