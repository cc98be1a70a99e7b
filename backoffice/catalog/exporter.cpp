#include "exporter.h"

#include "catalog/csv.h"

#include "api/money.h"
#include "store/sqlite.h"

#include <QtCore/QDateTime>
#include <QtCore/QStringList>

#include <functional>
#include <limits>

namespace prepay::catalog {

using store::Connection;
using store::SqlError;
using store::Statement;

namespace {

// One read transaction on the connection (unless one is open already), ended when it goes.
class ReadSnapshot
{
public:
    explicit ReadSnapshot(Connection &db)
        : m_db(db)
        , m_own(!db.inTransaction())
    {
        if (m_own)
            m_error = db.exec(QStringLiteral("BEGIN"));
    }
    ~ReadSnapshot()
    {
        if (m_own && m_error.ok())
            m_db.exec(QStringLiteral("COMMIT"));
    }
    ReadSnapshot(const ReadSnapshot &) = delete;
    ReadSnapshot &operator=(const ReadSnapshot &) = delete;
    const SqlError &error() const { return m_error; }

private:
    Connection &m_db;
    bool m_own = false;
    SqlError m_error;
};

QString utc(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

// The cell of a nullable column, through `format` when it holds a value.
QString cell(const Statement &s, int column, const std::function<QString(qint64)> &format = {})
{
    if (s.isNull(column))
        return QString();
    return format ? format(s.int64(column)) : s.text(column);
}

QString yuan(qint64 fen)
{
    return Money::fromFen(fen).toDecimalString();
}

QString kwh(qint64 wh)
{
    return Energy::fromWh(wh).toDecimalString();
}

// Milliamperes as amperes with as few decimals as exact (10000 → "10", 1500 → "1.5").
QString amperes(qint64 ma)
{
    QString text = QString::number(ma / 1000);
    qint64 rest = ma % 1000;
    if (rest == 0)
        return text;
    QString decimals = QStringLiteral("%1").arg(rest, 3, 10, QLatin1Char('0'));
    while (decimals.endsWith(QLatin1Char('0')))
        decimals.chop(1);
    return text + QLatin1Char('.') + decimals;
}

// Runs `s`, appending one record per row from `row`; false when the store fails or the rows
// exceed the limit (the result says which).
bool collect(Statement &s, const std::function<QStringList(const Statement &)> &row, ExportResult &result)
{
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        if (++result.rows > ExportLimits::rowsMax) {
            result.outcome = ExportResult::Outcome::TooManyRows;
            result.message = QStringLiteral("more than %1 rows: export a shorter period").arg(ExportLimits::rowsMax);
            result.csv.clear();
            return false;
        }
        result.csv += csvRecord(row(s));
    }
    if (step == Statement::Step::Error) {
        result.outcome = ExportResult::Outcome::StoreFailed;
        result.message = s.error().toString();
        result.csv.clear();
        return false;
    }
    return true;
}

void exportAccounts(Connection &db, ExportResult &result)
{
    result.csv = csvRecord({QStringLiteral("account_id"), QStringLiteral("shop_no"), QStringLiteral("display_name"),
        QStringLiteral("contact_name"), QStringLiteral("contact_phone"), QStringLiteral("status"),
        QStringLiteral("points"), QStringLiteral("balance_yuan"), QStringLiteral("opened_at"),
        QStringLiteral("closed_at")});
    Statement s = db.prepare(
        QStringLiteral("SELECT a.id, a.shop_no, a.display_name, a.contact_name, a.contact_phone, a.status, "
                       "       (SELECT group_concat(code, ';') FROM (SELECT mp.code FROM account_metering_points amp "
                       "          JOIN metering_points mp ON mp.id = amp.metering_point_id "
                       "         WHERE amp.account_id = a.id AND amp.unlinked_at_ms IS NULL ORDER BY mp.code)), "
                       "       w.balance_fen, a.opened_at_ms, a.closed_at_ms "
                       "  FROM accounts a LEFT JOIN ledger_accounts w ON w.account_id = a.id "
                       " ORDER BY a.shop_no, a.id"));
    collect(
        s,
        [](const Statement &r) {
            return QStringList{QString::number(r.int64(0)), r.text(1), r.text(2), cell(r, 3), cell(r, 4), r.text(5),
                cell(r, 6), cell(r, 7, yuan), cell(r, 8, utc), cell(r, 9, utc)};
        },
        result);
}

void exportMeters(Connection &db, ExportResult &result)
{
    // The meters import's columns first (an export of installed meters reads back into an empty
    // building once the last three columns are removed), then the state.
    result.csv = csvRecord({QStringLiteral("point"), QStringLiteral("building"), QStringLiteral("floor"),
        QStringLiteral("room"), QStringLiteral("meter_box"), QStringLiteral("description"), QStringLiteral("serial"),
        QStringLiteral("model"), QStringLiteral("device_type"), QStringLiteral("capability"),
        QStringLiteral("has_tou_registers"), QStringLiteral("rated_current_a"), QStringLiteral("max_current_a"),
        QStringLiteral("bus"), QStringLiteral("unit"), QStringLiteral("initial_kwh"),
        QStringLiteral("initial_balance_yuan"), QStringLiteral("initial_purchase_count"),
        QStringLiteral("initial_purchased_yuan"), QStringLiteral("state"), QStringLiteral("comm_state"),
        QStringLiteral("last_read_at")});
    Statement s = db.prepare(QStringLiteral(
        "SELECT mp.code, b.code, mp.floor, mp.room, mp.meter_box, mp.description, m.serial_number, m.model, "
        "       m.device_type, m.capability, m.has_tou_registers, m.rated_current_ma, m.max_current_ma, bus.name, "
        "       m.unit_id, mi.initial_energy_wh, mi.initial_balance_fen, mi.initial_purchase_count, "
        "       mi.initial_purchased_fen, m.state, ms.comm_state, ms.last_read_at_ms "
        "  FROM meters m "
        "  LEFT JOIN meter_installations mi ON mi.meter_id = m.id AND mi.removed_at_ms IS NULL "
        "  LEFT JOIN metering_points mp ON mp.id = mi.metering_point_id "
        "  LEFT JOIN buildings b ON b.id = mp.building_id "
        "  LEFT JOIN buses bus ON bus.id = m.bus_id "
        "  LEFT JOIN meter_state ms ON ms.meter_id = m.id "
        " ORDER BY m.state <> 'installed', mp.code, m.serial_number"));
    collect(
        s,
        [](const Statement &r) {
            return QStringList{cell(r, 0), cell(r, 1), cell(r, 2), cell(r, 3), cell(r, 4), cell(r, 5),
                QString::number(r.int64(6)), r.text(7), r.text(8), r.text(9), QString::number(r.int64(10)),
                amperes(r.int64(11)), amperes(r.int64(12)), cell(r, 13), cell(r, 14), cell(r, 15, kwh),
                cell(r, 16, yuan), cell(r, 17), cell(r, 18, yuan), r.text(19), cell(r, 20), cell(r, 21, utc)};
        },
        result);
}

void exportLedger(Connection &db, std::optional<qint64> fromMs, std::optional<qint64> toMs, ExportResult &result)
{
    // One row per posting: an entry's rows sum to 0.00; amount > 0 credits the ledger account.
    result.csv = csvRecord({QStringLiteral("entry_id"), QStringLiteral("created_at"), QStringLiteral("created_at_ms"),
        QStringLiteral("kind"), QStringLiteral("ledger_account"), QStringLiteral("shop_no"),
        QStringLiteral("amount_yuan"), QStringLiteral("operator"), QStringLiteral("reason"),
        QStringLiteral("reverses_entry_id"), QStringLiteral("idempotency_key")});
    Statement s = db.prepare(
        QStringLiteral("SELECT e.id, e.created_at_ms, e.kind, la.code, acc.shop_no, p.amount_fen, o.login, e.reason, "
                       "       e.reverses_entry_id, e.idempotency_key "
                       "  FROM ledger_entries e "
                       "  JOIN ledger_postings p ON p.entry_id = e.id "
                       "  JOIN ledger_accounts la ON la.id = p.ledger_account_id "
                       "  LEFT JOIN accounts acc ON acc.id = la.account_id "
                       "  LEFT JOIN operators o ON o.id = e.operator_id "
                       " WHERE e.created_at_ms >= ?1 AND e.created_at_ms < ?2 "
                       " ORDER BY e.id, p.id"));
    s.bind(1, fromMs.value_or(std::numeric_limits<qint64>::min()));
    s.bind(2, toMs.value_or(std::numeric_limits<qint64>::max()));
    collect(
        s,
        [](const Statement &r) {
            return QStringList{QString::number(r.int64(0)), utc(r.int64(1)), QString::number(r.int64(1)), r.text(2),
                r.text(3), cell(r, 4), yuan(r.int64(5)), cell(r, 6), cell(r, 7), cell(r, 8), r.text(9)};
        },
        result);
}

} // namespace

QString exportWhatName(ExportWhat what)
{
    switch (what) {
    case ExportWhat::Accounts: return QStringLiteral("accounts");
    case ExportWhat::Meters: return QStringLiteral("meters");
    case ExportWhat::Ledger: return QStringLiteral("ledger");
    }
    return {};
}

std::optional<ExportWhat> exportWhatFromName(QStringView name)
{
    for (ExportWhat w : {ExportWhat::Accounts, ExportWhat::Meters, ExportWhat::Ledger}) {
        if (name == exportWhatName(w))
            return w;
    }
    return std::nullopt;
}

ExportResult exportCsv(Connection &db, ExportWhat what, std::optional<qint64> fromMs, std::optional<qint64> toMs)
{
    ExportResult result;
    const ReadSnapshot snapshot(db);
    if (!snapshot.error().ok()) {
        result.message = snapshot.error().toString();
        return result;
    }
    result.outcome = ExportResult::Outcome::Done;
    switch (what) {
    case ExportWhat::Accounts: exportAccounts(db, result); break;
    case ExportWhat::Meters: exportMeters(db, result); break;
    case ExportWhat::Ledger: exportLedger(db, fromMs, toMs, result); break;
    }
    if (result.outcome != ExportResult::Outcome::Done)
        result.rows = 0;
    return result;
}

} // namespace prepay::catalog
