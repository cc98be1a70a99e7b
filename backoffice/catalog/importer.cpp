#include "importer.h"

#include "api/decimal.h"
#include "api/money.h"
#include "poller/pollplan.h"
#include "store/store.h"

#include <QtCore/QHash>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtNetwork/QHostAddress>

#include <algorithm>

namespace prepay::catalog {

using store::SqlError;
using store::Statement;
using store::Transaction;

namespace {

// Limits of the values (the schema's CHECKs, and what a person would plausibly type).
constexpr int nameCharsMax = 100;
constexpr int gatewayNameCharsMax = 64;
constexpr int codeCharsMax = 32; // point codes and bus names: what account.open accepts
constexpr int shortTextCharsMax = 32;
constexpr int descriptionCharsMax = 200;
constexpr qint64 thresholdFenMax = 100'000'000; // 1,000,000.00 CNY, as account.open
constexpr qint64 currentMaMax = 1'000'000;      // 1000 A
constexpr int defaultModbusPort = 502;

ImportColumn column(const QString &name, bool required, const QString &description)
{
    ImportColumn c;
    c.name = name;
    c.required = required;
    c.description = description;
    return c;
}

qsizetype characters(const QString &s)
{
    return QStringView(s).toUcs4().size();
}

bool hasControlCharacter(const QString &s)
{
    return std::any_of(s.cbegin(), s.cend(), [](QChar c) { return c.category() == QChar::Other_Control; });
}

const QRegularExpression &pattern(const QString &regex)
{
    thread_local QHash<QString, QRegularExpression> cache;
    auto it = cache.find(regex);
    if (it == cache.end())
        it = cache.insert(regex, QRegularExpression(QRegularExpression::anchoredPattern(regex)));
    return *it;
}

// The cells of one record and the problems found in them. Every reader trims the cell, records
// a problem naming the column when the value is wrong, and returns nullopt then (or when an
// optional column is empty or absent); the caller looks at failed() once at the end, so every
// wrong cell of a row is reported, not only the first.
class Row
{
public:
    Row(const CsvRecord &record, const QHash<QString, qsizetype> &index, QList<CsvProblem> &problems)
        : m_record(record)
        , m_index(index)
        , m_problems(problems)
        , m_problemsBefore(problems.size())
    { }

    int line() const { return m_record.line; }
    bool failed() const { return m_problems.size() > m_problemsBefore; }

    QString cell(const QString &col) const
    {
        const auto it = m_index.constFind(col);
        return it == m_index.cend() ? QString() : m_record.fields.at(*it).trimmed();
    }
    bool isEmpty(const QString &col) const { return cell(col).isEmpty(); }

    void problem(const QString &col, const QString &message)
    {
        m_problems.append(CsvProblem{m_record.line, col, message});
    }

    // Text of 1..maxChars characters, no control characters (no line breaks), optionally
    // matching `regex` (described by `what` in the message).
    std::optional<QString> text(
        const QString &col, bool required, int maxChars, const QString &regex = {}, const QString &what = {})
    {
        const QString value = cell(col);
        if (value.isEmpty()) {
            if (required)
                problem(col, QStringLiteral("required"));
            return std::nullopt;
        }
        if (hasControlCharacter(value)) {
            problem(col, QStringLiteral("contains a line break or another control character"));
            return std::nullopt;
        }
        if (characters(value) > maxChars) {
            problem(col, QStringLiteral("%1 characters; at most %2").arg(characters(value)).arg(maxChars));
            return std::nullopt;
        }
        if (!regex.isEmpty() && !pattern(regex).match(value).hasMatch()) {
            problem(col, QStringLiteral("'%1' is not %2").arg(value, what));
            return std::nullopt;
        }
        return value;
    }

    // A whole number in [min, max], ASCII digits with an optional leading minus.
    std::optional<qint64> integer(const QString &col, bool required, qint64 min, qint64 max)
    {
        const QString value = cell(col);
        if (value.isEmpty()) {
            if (required)
                problem(col, QStringLiteral("required"));
            return std::nullopt;
        }
        bool ok = pattern(QStringLiteral("-?[0-9]{1,12}")).match(value).hasMatch();
        const qint64 n = ok ? value.toLongLong(&ok) : 0;
        if (!ok || n < min || n > max) {
            problem(col, QStringLiteral("'%1' is not a whole number from %2 to %3").arg(value).arg(min).arg(max));
            return std::nullopt;
        }
        return n;
    }

    // One of `choices`, exactly as written there (lower case).
    std::optional<QString> choice(const QString &col, bool required, const QStringList &choices)
    {
        const QString value = cell(col);
        if (value.isEmpty()) {
            if (required)
                problem(col, QStringLiteral("required"));
            return std::nullopt;
        }
        if (!choices.contains(value)) {
            problem(col, QStringLiteral("'%1' is not one of %2").arg(value, choices.join(QStringLiteral(", "))));
            return std::nullopt;
        }
        return value;
    }

    std::optional<bool> flag(const QString &col)
    {
        const QString value = cell(col).toLower();
        if (value.isEmpty())
            return std::nullopt;
        if (value == u"1" || value == u"yes")
            return true;
        if (value == u"0" || value == u"no")
            return false;
        problem(col, QStringLiteral("'%1' is not 1, 0, yes or no").arg(cell(col)));
        return std::nullopt;
    }

    // Yuan with at most two decimals (Money::parse: "12", "12.50", "¥12.50"), at most maxFen.
    std::optional<qint64> yuan(const QString &col, qint64 maxFen)
    {
        const QString value = cell(col);
        if (value.isEmpty())
            return std::nullopt;
        const Parsed<Money> m = Money::parse(value);
        if (!m.ok()) {
            problem(col, m.errorMessage());
            return std::nullopt;
        }
        if (m.value.fen() > maxFen) {
            problem(col, QStringLiteral("%1 is more than %2").arg(value, Money::fromFen(maxFen).toDecimalString()));
            return std::nullopt;
        }
        return m.value.fen();
    }

    // A decimal with at most `decimals` decimals, returned scaled (amperes → mA with 3).
    std::optional<qint64> scaled(const QString &col, bool required, int decimals, qint64 minScaled, qint64 maxScaled)
    {
        const QString value = cell(col);
        if (value.isEmpty()) {
            if (required)
                problem(col, QStringLiteral("required"));
            return std::nullopt;
        }
        DecimalFormat format;
        format.maxDecimals = decimals;
        const Parsed<qint64> p = parseScaledDecimal(value, format);
        if (!p.ok()) {
            problem(col, p.errorMessage());
            return std::nullopt;
        }
        if (p.value < minScaled || p.value > maxScaled) {
            problem(col, QStringLiteral("'%1' is out of range").arg(value));
            return std::nullopt;
        }
        return p.value;
    }

private:
    const CsvRecord &m_record;
    const QHash<QString, qsizetype> &m_index;
    QList<CsvProblem> &m_problems;
    qsizetype m_problemsBefore = 0;
};

// Where a value was first seen in the file, compared case-insensitively: 'a' and 'A' are the
// same building to a person reading a list.
class SeenInFile
{
public:
    // The earlier line holding `key`, or records this one and returns nullopt.
    std::optional<int> take(const QString &key, int line)
    {
        const QString folded = key.toCaseFolded();
        const auto it = m_lines.constFind(folded);
        if (it != m_lines.cend())
            return *it;
        m_lines.insert(folded, line);
        return std::nullopt;
    }

private:
    QHash<QString, int> m_lines;
};

// One lookup by a single text or integer parameter, prepared once per import.
class Lookup
{
public:
    Lookup(Transaction &tx, const QString &sql)
        : m_statement(tx.prepare(sql))
    { }
    // Runs with `key` bound to ?1 (and `second` to ?2 when given); true when a row came back.
    template<typename K>
    bool find(const K &key)
    {
        m_statement.reset();
        m_statement.bind(1, key);
        return step();
    }
    template<typename K1, typename K2>
    bool find(const K1 &key, const K2 &second)
    {
        m_statement.reset();
        m_statement.bind(1, key).bind(2, second);
        return step();
    }
    Statement &statement() { return m_statement; }
    const SqlError &error() const { return m_error; }

private:
    bool step()
    {
        const Statement::Step s = m_statement.step();
        if (s == Statement::Step::Error && m_error.ok())
            m_error = m_statement.error();
        return s == Statement::Step::Row;
    }
    Statement m_statement;
    SqlError m_error;
};

// The header: known names, none twice, every required one present.
QHash<QString, qsizetype> checkHeader(
    const CsvTable &table, const QList<ImportColumn> &columns, QList<CsvProblem> &problems)
{
    QHash<QString, qsizetype> index;
    QStringList known;
    for (const ImportColumn &c : columns)
        known << c.name;
    for (qsizetype i = 0; i < table.header.size(); ++i) {
        const QString name = table.header.at(i).trimmed().toLower();
        if (name.isEmpty()) {
            problems.append(CsvProblem{
                table.headerLine, QString(), QStringLiteral("column %1 of the header has no name").arg(i + 1)});
            continue;
        }
        if (!known.contains(name)) {
            problems.append(CsvProblem{table.headerLine, table.header.at(i).trimmed(),
                QStringLiteral("unknown column; the columns are %1").arg(known.join(QStringLiteral(", ")))});
            continue;
        }
        if (index.contains(name)) {
            problems.append(CsvProblem{table.headerLine, name, QStringLiteral("appears twice in the header")});
            continue;
        }
        index.insert(name, i);
    }
    for (const ImportColumn &c : columns) {
        if (c.required && !index.contains(c.name))
            problems.append(CsvProblem{table.headerLine, c.name, QStringLiteral("required column missing")});
    }
    return index;
}

// Runs an insert. A constraint the checks did not foresee becomes a problem of the row (the
// schema is the last word); anything else fails the transaction. False when the import stops.
bool insert(Transaction &tx, Statement &s, int line, QList<CsvProblem> &problems)
{
    const SqlError e = s.run();
    if (e.ok())
        return true;
    if (e.isConstraint()) {
        problems.append(
            CsvProblem{line, QString(), QStringLiteral("the database refused this row: %1").arg(e.message)});
        return false;
    }
    tx.fail(e);
    return false;
}

void bindOptional(Statement &s, int index, const std::optional<qint64> &value)
{
    if (value)
        s.bind(index, *value);
    else
        s.bindNull(index);
}

void bindOptionalText(Statement &s, int index, const std::optional<QString> &value)
{
    if (value)
        s.bind(index, *value);
    else
        s.bindNull(index);
}

// ---- buildings

struct BuildingRow
{
    int line = 0;
    QString code;
    QString name;
    std::optional<qint64> pollIntervalMs;
    std::optional<qint64> alarm1Fen, alarm2Fen, overdraftFen;
};

bool importBuildings(
    Transaction &tx, const CsvTable &table, const QHash<QString, qsizetype> &index, qint64 nowMs, ImportReport &report)
{
    Lookup existing(tx, QStringLiteral("SELECT code FROM buildings WHERE code = ?1 COLLATE NOCASE"));
    SeenInFile codes;
    QList<BuildingRow> rows;
    for (const CsvRecord &record : table.records) {
        Row row(record, index, report.problems);
        BuildingRow b;
        b.line = row.line();
        const std::optional<QString> code = row.text(QStringLiteral("code"), true, 8, QStringLiteral("[A-Za-z0-9]+"),
            QStringLiteral("1 to 8 letters or digits (it starts the building's point codes: 'A' in 'A-3F-301')"));
        if (code) {
            b.code = *code;
            if (const std::optional<int> earlier = codes.take(*code, row.line()))
                row.problem(
                    QStringLiteral("code"), QStringLiteral("'%1' is on line %2 already").arg(*code).arg(*earlier));
            else if (existing.find(*code))
                row.problem(QStringLiteral("code"),
                    QStringLiteral("building '%1' exists already").arg(existing.statement().text(0)));
        }
        b.name = row.text(QStringLiteral("name"), true, nameCharsMax).value_or(QString());
        if (const std::optional<qint64> minutes = row.integer(QStringLiteral("poll_interval_min"), false, 1, 1440))
            b.pollIntervalMs = *minutes * 60'000;
        b.alarm1Fen = row.yuan(QStringLiteral("alarm1_yuan"), thresholdFenMax);
        b.alarm2Fen = row.yuan(QStringLiteral("alarm2_yuan"), thresholdFenMax);
        b.overdraftFen = row.yuan(QStringLiteral("overdraft_limit_yuan"), thresholdFenMax);
        const bool alarm1Given = !row.isEmpty(QStringLiteral("alarm1_yuan"));
        const bool alarm2Given = !row.isEmpty(QStringLiteral("alarm2_yuan"));
        if (alarm1Given != alarm2Given)
            row.problem(alarm1Given ? QStringLiteral("alarm2_yuan") : QStringLiteral("alarm1_yuan"),
                QStringLiteral("alarm1_yuan and alarm2_yuan are given together or not at all"));
        else if (b.alarm1Fen && b.alarm2Fen && *b.alarm2Fen > *b.alarm1Fen)
            row.problem(QStringLiteral("alarm2_yuan"),
                QStringLiteral("alarm 2 (the later warning) must not be above "
                               "alarm 1"));
        if (!row.failed())
            rows.append(b);
    }
    if (!existing.error().ok()) {
        tx.fail(existing.error());
        return false;
    }
    if (!report.problems.isEmpty())
        return false;

    Statement add = tx.prepare(QStringLiteral(
        "INSERT INTO buildings (code, name, poll_interval_ms, alarm1_threshold_fen, alarm2_threshold_fen, "
        "overdraft_limit_fen, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    for (const BuildingRow &b : std::as_const(rows)) {
        add.reset();
        add.bind(1, b.code).bind(2, b.name).bind(7, nowMs);
        bindOptional(add, 3, b.pollIntervalMs);
        bindOptional(add, 4, b.alarm1Fen);
        bindOptional(add, 5, b.alarm2Fen);
        bindOptional(add, 6, b.overdraftFen);
        if (!insert(tx, add, b.line, report.problems))
            return false;
        ++report.counts.buildings;
    }
    return true;
}

// ---- gateways and their buses

struct BusSpec
{
    QString name;
    int portIndex = 0;
    std::optional<qint64> tcpPort; // nullopt: through the gateway's port, routed by unit id
};

struct GatewayRow
{
    int line = 0;
    qint64 buildingId = 0;
    QString name;
    QString host;
    qint64 port = defaultModbusPort;
    QList<BusSpec> buses;
    qint64 baud = 9600;
    QString parity = QStringLiteral("even");
    qint64 stopBits = 1;
    qint64 responseTimeoutMs = 500;
};

bool isHost(const QString &host)
{
    QHostAddress address;
    if (address.setAddress(host))
        return true;
    // A DNS name: labels of letters, digits and inner hyphens.
    return host.size() <= 253
        && pattern(QStringLiteral("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                                  "[A-Za-z0-9])?)*"))
               .match(host)
               .hasMatch();
}

bool importGateways(
    Transaction &tx, const CsvTable &table, const QHash<QString, qsizetype> &index, qint64 nowMs, ImportReport &report)
{
    Lookup building(tx, QStringLiteral("SELECT id FROM buildings WHERE code = ?1"));
    Lookup gatewayName(tx, QStringLiteral("SELECT name FROM gateways WHERE name = ?1 COLLATE NOCASE"));
    Lookup gatewayAddress(tx, QStringLiteral("SELECT name FROM gateways WHERE host = ?1 COLLATE NOCASE AND port = ?2"));
    Lookup busName(tx, QStringLiteral("SELECT name FROM buses WHERE name = ?1 COLLATE NOCASE"));
    SeenInFile names, addresses, busNames;
    QList<GatewayRow> rows;
    const QString busPattern = QStringLiteral("[A-Za-z0-9._-]{1,32}");
    for (const CsvRecord &record : table.records) {
        Row row(record, index, report.problems);
        GatewayRow g;
        g.line = row.line();
        if (const std::optional<QString> code = row.text(QStringLiteral("building"), true, 8)) {
            if (building.find(*code))
                g.buildingId = building.statement().int64(0);
            else
                row.problem(
                    QStringLiteral("building"), QStringLiteral("no building '%1' (import buildings first)").arg(*code));
        }
        if (const std::optional<QString> name = row.text(QStringLiteral("name"), true, gatewayNameCharsMax)) {
            g.name = *name;
            if (const std::optional<int> earlier = names.take(*name, row.line()))
                row.problem(
                    QStringLiteral("name"), QStringLiteral("'%1' is on line %2 already").arg(*name).arg(*earlier));
            else if (gatewayName.find(*name))
                row.problem(QStringLiteral("name"),
                    QStringLiteral("gateway '%1' exists already").arg(gatewayName.statement().text(0)));
        }
        const std::optional<QString> host = row.text(QStringLiteral("host"), true, 253);
        if (host && !isHost(*host))
            row.problem(QStringLiteral("host"), QStringLiteral("'%1' is not an IP address or a host name").arg(*host));
        g.host = host.value_or(QString());
        g.port = row.integer(QStringLiteral("port"), false, 1, 65535).value_or(defaultModbusPort);
        if (host && !row.failed()) {
            const QString address = QStringLiteral("%1:%2").arg(*host).arg(g.port);
            if (const std::optional<int> earlier = addresses.take(address, row.line()))
                row.problem(
                    QStringLiteral("host"), QStringLiteral("%1 is on line %2 already").arg(address).arg(*earlier));
            else if (gatewayAddress.find(*host, g.port))
                row.problem(QStringLiteral("host"),
                    QStringLiteral("%1 is gateway '%2' already").arg(address, gatewayAddress.statement().text(0)));
        }

        // buses: "A-COM1;A-COM2;;A-COM4" — the n-th place is COMn, an empty place skips a port.
        const QString busesCell = row.cell(QStringLiteral("buses"));
        const QStringList places = busesCell.split(QLatin1Char(';'));
        const QString portsCell = row.cell(QStringLiteral("bus_tcp_ports"));
        const QStringList ports = portsCell.isEmpty() ? QStringList() : portsCell.split(QLatin1Char(';'));
        if (busesCell.isEmpty()) {
            row.problem(QStringLiteral("buses"),
                QStringLiteral("required: the bus names in COM order, e.g. "
                               "'A-COM1;A-COM2'"));
        } else if (places.size() > ImportLimits::busesPerGatewayMax) {
            row.problem(QStringLiteral("buses"),
                QStringLiteral("%1 ports; a gateway has at most %2")
                    .arg(places.size())
                    .arg(ImportLimits::busesPerGatewayMax));
        } else if (!ports.isEmpty() && ports.size() != places.size()) {
            row.problem(QStringLiteral("bus_tcp_ports"),
                QStringLiteral("%1 places where buses has %2 (one per place, "
                               "in the same order)")
                    .arg(ports.size())
                    .arg(places.size()));
        } else {
            QSet<qint64> tcpPortsOfRow;
            for (qsizetype i = 0; i < places.size(); ++i) {
                const QString busNameText = places.at(i).trimmed();
                const QString portText = ports.isEmpty() ? QString() : ports.at(i).trimmed();
                if (busNameText.isEmpty()) {
                    if (!portText.isEmpty())
                        row.problem(QStringLiteral("bus_tcp_ports"),
                            QStringLiteral("place %1 has a TCP port but no bus").arg(i + 1));
                    continue;
                }
                if (!pattern(busPattern).match(busNameText).hasMatch()) {
                    row.problem(QStringLiteral("buses"),
                        QStringLiteral("'%1' is not a bus name (1 to 32 letters, "
                                       "digits, '.', '-', '_')")
                            .arg(busNameText));
                    continue;
                }
                if (const std::optional<int> earlier = busNames.take(busNameText, row.line())) {
                    row.problem(QStringLiteral("buses"),
                        QStringLiteral("bus '%1' is on line %2 already").arg(busNameText).arg(*earlier));
                    continue;
                }
                if (busName.find(busNameText)) {
                    row.problem(QStringLiteral("buses"),
                        QStringLiteral("bus '%1' exists already").arg(busName.statement().text(0)));
                    continue;
                }
                BusSpec bus;
                bus.name = busNameText;
                bus.portIndex = int(i + 1);
                if (!portText.isEmpty()) {
                    bool ok = pattern(QStringLiteral("[0-9]{1,5}")).match(portText).hasMatch();
                    const qint64 tcp = ok ? portText.toLongLong(&ok) : 0;
                    if (!ok || tcp < 1 || tcp > 65535) {
                        row.problem(QStringLiteral("bus_tcp_ports"),
                            QStringLiteral("'%1' is not a TCP port (1 to 65535)").arg(portText));
                        continue;
                    }
                    if (tcpPortsOfRow.contains(tcp)) {
                        row.problem(
                            QStringLiteral("bus_tcp_ports"), QStringLiteral("port %1 is given to two buses").arg(tcp));
                        continue;
                    }
                    tcpPortsOfRow.insert(tcp);
                    bus.tcpPort = tcp;
                }
                g.buses.append(bus);
            }
            if (g.buses.isEmpty() && !row.failed())
                row.problem(QStringLiteral("buses"), QStringLiteral("names no bus"));
        }
        g.baud = row.integer(QStringLiteral("baud"), false, 1200, 115200).value_or(9600);
        static const QList<qint64> bauds{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};
        if (!bauds.contains(g.baud))
            row.problem(QStringLiteral("baud"),
                QStringLiteral("%1 is not one of 1200, 2400, 4800, 9600, 19200, "
                               "38400, 57600, 115200")
                    .arg(g.baud));
        g.parity = row.choice(QStringLiteral("parity"), false,
                          {QStringLiteral("none"), QStringLiteral("even"), QStringLiteral("odd")})
                       .value_or(QStringLiteral("even"));
        g.stopBits = row.integer(QStringLiteral("stop_bits"), false, 1, 2).value_or(1);
        g.responseTimeoutMs = row.integer(QStringLiteral("response_timeout_ms"), false, 50, 10000).value_or(500);
        if (!row.failed())
            rows.append(g);
    }
    for (const Lookup *l : {&building, &gatewayName, &gatewayAddress, &busName}) {
        if (!l->error().ok()) {
            tx.fail(l->error());
            return false;
        }
    }
    if (!report.problems.isEmpty())
        return false;

    Statement addGateway = tx.prepare(QStringLiteral(
        "INSERT INTO gateways (building_id, name, host, port, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)"));
    Statement addBus
        = tx.prepare(QStringLiteral("INSERT INTO buses (name, kind, gateway_id, port_index, tcp_port, baud, parity, "
                                    "stop_bits, response_timeout_ms, "
                                    "created_at_ms) VALUES (?1, 'gateway_port', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    for (const GatewayRow &g : std::as_const(rows)) {
        addGateway.reset();
        addGateway.bind(1, g.buildingId).bind(2, g.name).bind(3, g.host).bind(4, g.port).bind(5, nowMs);
        if (!insert(tx, addGateway, g.line, report.problems))
            return false;
        ++report.counts.gateways;
        const qint64 gatewayId = tx.db().lastInsertRowId();
        for (const BusSpec &bus : g.buses) {
            addBus.reset();
            addBus.bind(1, bus.name).bind(2, gatewayId).bind(3, bus.portIndex).bind(5, g.baud).bind(6, g.parity);
            addBus.bind(7, g.stopBits).bind(8, g.responseTimeoutMs).bind(9, nowMs);
            bindOptional(addBus, 4, bus.tcpPort);
            if (!insert(tx, addBus, g.line, report.problems))
                return false;
            ++report.counts.buses;
        }
    }
    return true;
}

// ---- meters, with their metering points and installations

struct MeterRow
{
    int line = 0;
    QString point;
    qint64 buildingId = 0;
    qint64 floor = 0;
    std::optional<QString> room, meterBox, description;
    qint64 serial = 0;
    QString model;
    QString deviceType;
    QString capability;
    bool hasTou = true;
    qint64 ratedMa = 0;
    qint64 maxMa = 0;
    qint64 busId = 0;
    qint64 unit = 0;
    std::optional<qint64> initialWh, initialBalanceFen, initialPurchaseCount, initialPurchasedFen;
};

// A bus as the meters file names it, with the group its unit ids must be unique in: the
// gateway's shared TCP port (the gateway routes by unit id) or the bus itself.
struct BusInfo
{
    qint64 id = 0;
    QString routingKey; // "gateway:3" or "bus:7"
    std::optional<qint64> sharedGatewayId;
};

bool importMeters(Transaction &tx, const CsvTable &table, const QHash<QString, qsizetype> &index, qint64 nowMs,
    std::optional<qint64> operatorId, ImportReport &report)
{
    Lookup building(tx, QStringLiteral("SELECT id FROM buildings WHERE code = ?1"));
    Lookup point(tx, QStringLiteral("SELECT code FROM metering_points WHERE code = ?1 COLLATE NOCASE"));
    Lookup serial(tx, QStringLiteral("SELECT state FROM meters WHERE serial_number = ?1"));
    Lookup bus(tx, QStringLiteral("SELECT id, kind, gateway_id, tcp_port FROM buses WHERE name = ?1"));
    Lookup unitOnBus(tx,
        QStringLiteral("SELECT serial_number FROM meters WHERE bus_id = ?1 AND unit_id = ?2 AND state = 'installed'"));
    Lookup unitOnGateway(tx,
        QStringLiteral("SELECT m.serial_number, b.name FROM meters m JOIN buses b ON b.id = m.bus_id "
                       "WHERE b.gateway_id = ?1 AND b.tcp_port IS NULL AND m.unit_id = ?2 AND m.state = 'installed'"));
    QHash<QString, qint64> buildings; // code → id
    QHash<QString, BusInfo> buses;    // name → info
    SeenInFile points, serials, units;
    QList<MeterRow> rows;

    for (const CsvRecord &record : table.records) {
        Row row(record, index, report.problems);
        MeterRow m;
        m.line = row.line();
        const std::optional<QString> buildingCode = row.text(QStringLiteral("building"), true, 8);
        if (buildingCode) {
            if (!buildings.contains(*buildingCode) && building.find(*buildingCode))
                buildings.insert(*buildingCode, building.statement().int64(0));
            if (buildings.contains(*buildingCode))
                m.buildingId = buildings.value(*buildingCode);
            else
                row.problem(QStringLiteral("building"),
                    QStringLiteral("no building '%1' (import buildings first)").arg(*buildingCode));
        }
        if (const std::optional<QString> code = row.text(QStringLiteral("point"), true, codeCharsMax,
                QStringLiteral("[A-Za-z0-9._-]+"), QStringLiteral("a point code (letters, digits, '.', '-', '_')"))) {
            m.point = *code;
            if (buildingCode && !code->startsWith(*buildingCode + QLatin1Char('-')))
                row.problem(QStringLiteral("point"),
                    QStringLiteral("'%1' does not start with its building's code and a dash ('%2-')")
                        .arg(*code, *buildingCode));
            else if (const std::optional<int> earlier = points.take(*code, row.line()))
                row.problem(
                    QStringLiteral("point"), QStringLiteral("'%1' is on line %2 already").arg(*code).arg(*earlier));
            else if (point.find(*code))
                row.problem(QStringLiteral("point"),
                    QStringLiteral("metering point '%1' exists already (a meter swap is 'prepayctl meter replace')")
                        .arg(point.statement().text(0)));
        }
        if (const std::optional<qint64> floor = row.integer(QStringLiteral("floor"), true, -9, 200)) {
            if (*floor == 0)
                row.problem(QStringLiteral("floor"),
                    QStringLiteral("there is no floor 0: 1 is the ground floor, -1 "
                                   "the first basement"));
            m.floor = *floor;
        }
        m.room = row.text(QStringLiteral("room"), false, shortTextCharsMax);
        m.meterBox = row.text(QStringLiteral("meter_box"), false, shortTextCharsMax);
        m.description = row.text(QStringLiteral("description"), false, descriptionCharsMax);
        if (const std::optional<qint64> s = row.integer(QStringLiteral("serial"), true, 1, Q_INT64_C(4294967295))) {
            m.serial = *s;
            if (const std::optional<int> earlier = serials.take(QString::number(*s), row.line()))
                row.problem(QStringLiteral("serial"), QStringLiteral("%1 is on line %2 already").arg(*s).arg(*earlier));
            else if (serial.find(*s))
                row.problem(QStringLiteral("serial"),
                    QStringLiteral("meter %1 exists already (%2)").arg(*s).arg(serial.statement().text(0)));
        }
        m.model = row.text(QStringLiteral("model"), true, shortTextCharsMax).value_or(QString());
        m.deviceType = row.choice(QStringLiteral("device_type"), true,
                              {QStringLiteral("single_phase"), QStringLiteral("three_phase")})
                           .value_or(QString());
        m.capability
            = row.choice(QStringLiteral("capability"), true, {QStringLiteral("prepaid"), QStringLiteral("remote_only")})
                  .value_or(QString());
        m.hasTou = row.flag(QStringLiteral("has_tou_registers")).value_or(true);
        const std::optional<qint64> rated = row.scaled(QStringLiteral("rated_current_a"), true, 3, 1, currentMaMax);
        const std::optional<qint64> max = row.scaled(QStringLiteral("max_current_a"), true, 3, 1, currentMaMax);
        if (rated && max && *max < *rated)
            row.problem(QStringLiteral("max_current_a"),
                QStringLiteral("below rated_current_a (a 10(60)A meter is "
                               "rated 10, max 60)"));
        m.ratedMa = rated.value_or(0);
        m.maxMa = max.value_or(0);

        std::optional<BusInfo> busInfo;
        if (const std::optional<QString> busName = row.text(QStringLiteral("bus"), true, codeCharsMax)) {
            if (!buses.contains(*busName) && bus.find(*busName)) {
                const Statement &s = bus.statement();
                BusInfo info;
                info.id = s.int64(0);
                if (s.text(1) == u"gateway_port" && s.isNull(3)) {
                    info.sharedGatewayId = s.int64(2);
                    info.routingKey = QStringLiteral("gateway:%1").arg(s.int64(2));
                } else {
                    info.routingKey = QStringLiteral("bus:%1").arg(info.id);
                }
                buses.insert(*busName, info);
            }
            if (buses.contains(*busName)) {
                busInfo = buses.value(*busName);
                m.busId = busInfo->id;
            } else {
                row.problem(
                    QStringLiteral("bus"), QStringLiteral("no bus '%1' (import the gateways first)").arg(*busName));
            }
        }
        if (const std::optional<qint64> unit = row.integer(QStringLiteral("unit"), true, 1, 247)) {
            m.unit = *unit;
            if (busInfo) {
                const QString key = busInfo->routingKey + QLatin1Char('/') + QString::number(*unit);
                const QString where = busInfo->sharedGatewayId
                    ? QStringLiteral("on this gateway's shared port (the gateway routes by unit id)")
                    : QStringLiteral("on this bus");
                if (const std::optional<int> earlier = units.take(key, row.line()))
                    row.problem(QStringLiteral("unit"),
                        QStringLiteral("unit %1 %2 is on line %3 already").arg(*unit).arg(where).arg(*earlier));
                else if (busInfo->sharedGatewayId && unitOnGateway.find(*busInfo->sharedGatewayId, *unit))
                    row.problem(QStringLiteral("unit"),
                        QStringLiteral("unit %1 %2 is meter %3 on bus %4 already")
                            .arg(*unit)
                            .arg(where)
                            .arg(unitOnGateway.statement().int64(0))
                            .arg(unitOnGateway.statement().text(1)));
                else if (!busInfo->sharedGatewayId && unitOnBus.find(busInfo->id, *unit))
                    row.problem(QStringLiteral("unit"),
                        QStringLiteral("unit %1 %2 is meter %3 already")
                            .arg(*unit)
                            .arg(where)
                            .arg(unitOnBus.statement().int64(0)));
            }
        }
        if (const std::optional<qint64> wh
            = row.scaled(QStringLiteral("initial_kwh"), false, 3, 0, Q_INT64_C(999999999999)))
            m.initialWh = *wh;
        m.initialBalanceFen = row.yuan(QStringLiteral("initial_balance_yuan"), thresholdFenMax);
        m.initialPurchaseCount = row.integer(QStringLiteral("initial_purchase_count"), false, 0, 65535);
        m.initialPurchasedFen = row.yuan(QStringLiteral("initial_purchased_yuan"), Q_INT64_C(100'000'000'000));
        if (m.capability == u"remote_only") {
            for (const QString &col : {QStringLiteral("initial_balance_yuan"), QStringLiteral("initial_purchase_count"),
                     QStringLiteral("initial_purchased_yuan")}) {
                if (!row.isEmpty(col))
                    row.problem(col, QStringLiteral("a remote_only meter holds no balance: leave it empty"));
            }
        }
        if (!row.failed())
            rows.append(m);
    }
    for (const Lookup *l : {&building, &point, &serial, &bus, &unitOnBus, &unitOnGateway}) {
        if (!l->error().ok()) {
            tx.fail(l->error());
            return false;
        }
    }
    if (!report.problems.isEmpty())
        return false;

    Statement addPoint = tx.prepare(QStringLiteral(
        "INSERT INTO metering_points (code, building_id, floor, room, meter_box, description, created_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    Statement addMeter = tx.prepare(QStringLiteral(
        "INSERT INTO meters (serial_number, model, device_type, capability, has_tou_registers, rated_current_ma, "
        "max_current_ma, state, bus_id, unit_id, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'installed', ?8, "
        "?9, "
        "?10)"));
    Statement addInstallation = tx.prepare(QStringLiteral(
        "INSERT INTO meter_installations (metering_point_id, meter_id, installed_at_ms, initial_energy_wh, "
        "initial_balance_fen, initial_purchase_count, initial_purchased_fen, installed_by, note) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'import.csv')"));
    Statement addCursor = tx.prepare(QStringLiteral(
        "INSERT INTO billing_state (metering_point_id, installation_id, updated_at_ms) VALUES (?1, ?2, ?3)"));
    for (const MeterRow &m : std::as_const(rows)) {
        addPoint.reset();
        addPoint.bind(1, m.point).bind(2, m.buildingId).bind(3, m.floor).bind(7, nowMs);
        bindOptionalText(addPoint, 4, m.room);
        bindOptionalText(addPoint, 5, m.meterBox);
        bindOptionalText(addPoint, 6, m.description);
        if (!insert(tx, addPoint, m.line, report.problems))
            return false;
        const qint64 pointId = tx.db().lastInsertRowId();
        ++report.counts.meteringPoints;

        addMeter.reset();
        addMeter.bind(1, m.serial).bind(2, m.model).bind(3, m.deviceType).bind(4, m.capability);
        addMeter.bind(5, m.hasTou ? 1 : 0).bind(6, m.ratedMa).bind(7, m.maxMa).bind(8, m.busId).bind(9, m.unit);
        addMeter.bind(10, nowMs);
        if (!insert(tx, addMeter, m.line, report.problems))
            return false;
        const qint64 meterId = tx.db().lastInsertRowId();
        ++report.counts.meters;

        addInstallation.reset();
        addInstallation.bind(1, pointId).bind(2, meterId).bind(3, nowMs);
        bindOptional(addInstallation, 4, m.initialWh);
        bindOptional(addInstallation, 5, m.initialBalanceFen);
        bindOptional(addInstallation, 6, m.initialPurchaseCount);
        bindOptional(addInstallation, 7, m.initialPurchasedFen);
        bindOptional(addInstallation, 8, operatorId);
        if (!insert(tx, addInstallation, m.line, report.problems))
            return false;
        const qint64 installationId = tx.db().lastInsertRowId();
        ++report.counts.installations;

        // The point's billing cursor starts at this installation, as the seed's points do.
        addCursor.reset();
        addCursor.bind(1, pointId).bind(2, installationId).bind(3, nowMs);
        if (!insert(tx, addCursor, m.line, report.problems))
            return false;
    }
    return true;
}

void capProblems(ImportReport &report)
{
    std::stable_sort(report.problems.begin(), report.problems.end(),
        [](const CsvProblem &a, const CsvProblem &b) { return a.line < b.line; });
    if (report.problems.size() > ImportLimits::problemsMax) {
        report.problemsOmitted = report.problems.size() - ImportLimits::problemsMax;
        report.problems.resize(ImportLimits::problemsMax);
    }
}

} // namespace

QString importKindName(ImportKind kind)
{
    switch (kind) {
    case ImportKind::Buildings: return QStringLiteral("buildings");
    case ImportKind::Gateways: return QStringLiteral("gateways");
    case ImportKind::Meters: return QStringLiteral("meters");
    }
    return {};
}

std::optional<ImportKind> importKindFromName(QStringView name)
{
    for (ImportKind k : {ImportKind::Buildings, ImportKind::Gateways, ImportKind::Meters}) {
        if (name == importKindName(k))
            return k;
    }
    return std::nullopt;
}

QList<ImportColumn> importColumns(ImportKind kind)
{
    switch (kind) {
    case ImportKind::Buildings:
        return {column(QStringLiteral("code"), true,
                    QStringLiteral("1–8 letters or digits, unique ('A', 'B1'); starts the building's point codes")),
            column(QStringLiteral("name"), true, QStringLiteral("1–100 characters ('A座')")),
            column(QStringLiteral("poll_interval_min"), false,
                QStringLiteral("minutes between polls of its meters, 1–1440; empty: the site's poll.interval_ms")),
            column(QStringLiteral("alarm1_yuan"), false,
                QStringLiteral(
                    "alarm 1 below this balance, yuan (≤ 2 decimals); with alarm2_yuan; empty: site default")),
            column(QStringLiteral("alarm2_yuan"), false, QStringLiteral("alarm 2, yuan, not above alarm1_yuan")),
            column(QStringLiteral("overdraft_limit_yuan"), false,
                QStringLiteral("trip at a balance of minus this, yuan; empty: site default"))};
    case ImportKind::Gateways:
        return {column(QStringLiteral("building"), true, QStringLiteral("code of an existing building")),
            column(QStringLiteral("name"), true, QStringLiteral("1–64 characters, unique")),
            column(QStringLiteral("host"), true, QStringLiteral("IP address or host name of its Modbus TCP side")),
            column(QStringLiteral("port"), false, QStringLiteral("Modbus TCP port, 1–65535 (502)")),
            column(QStringLiteral("buses"), true,
                QStringLiteral("bus names in COM order, ';'-separated ('A-COM1;A-COM2'); an empty place skips a port")),
            column(QStringLiteral("bus_tcp_ports"), false,
                QStringLiteral("per place of buses, the port's own TCP port; empty: through port, routed by unit id")),
            column(QStringLiteral("baud"), false, QStringLiteral("1200 … 115200 (9600), for all its buses")),
            column(QStringLiteral("parity"), false, QStringLiteral("none, even or odd (even)")),
            column(QStringLiteral("stop_bits"), false, QStringLiteral("1 or 2 (1)")),
            column(QStringLiteral("response_timeout_ms"), false, QStringLiteral("50–10000 ms (500)"))};
    case ImportKind::Meters:
        return {column(QStringLiteral("point"), true,
                    QStringLiteral("new metering point code, starting with the building code and '-' ('A-3F-301')")),
            column(QStringLiteral("building"), true, QStringLiteral("code of an existing building")),
            column(QStringLiteral("floor"), true, QStringLiteral("-9 … 200, not 0 (-1 = first basement)")),
            column(QStringLiteral("room"), false, QStringLiteral("≤ 32 characters")),
            column(QStringLiteral("meter_box"), false, QStringLiteral("multi-user meter box, ≤ 32 characters")),
            column(QStringLiteral("description"), false, QStringLiteral("≤ 200 characters")),
            column(
                QStringLiteral("serial"), true, QStringLiteral("the serial the meter reports, 1–4294967295, unique")),
            column(QStringLiteral("model"), true, QStringLiteral("nameplate model, ≤ 32 characters ('DDSY1352-NK')")),
            column(QStringLiteral("device_type"), true, QStringLiteral("single_phase or three_phase")),
            column(QStringLiteral("capability"), true,
                QStringLiteral("prepaid (holds a balance) or remote_only (relay commands only)")),
            column(QStringLiteral("has_tou_registers"), false, QStringLiteral("1/0 or yes/no (1)")),
            column(QStringLiteral("rated_current_a"), true,
                QStringLiteral("Ib in amperes, ≤ 3 decimals (10 for 10(60)A)")),
            column(QStringLiteral("max_current_a"), true, QStringLiteral("Imax in amperes, ≥ rated (60 for 10(60)A)")),
            column(QStringLiteral("bus"), true, QStringLiteral("name of an existing bus")),
            column(QStringLiteral("unit"), true,
                QStringLiteral("Modbus address 1–247, free on the bus (on the gateway when buses share its port)")),
            column(QStringLiteral("initial_kwh"), false, QStringLiteral("total register when installed, kWh")),
            column(QStringLiteral("initial_balance_yuan"), false,
                QStringLiteral("prepaid only: balance the meter holds, yuan (ledger takeover credits it)")),
            column(QStringLiteral("initial_purchase_count"), false, QStringLiteral("prepaid only: 0–65535")),
            column(QStringLiteral("initial_purchased_yuan"), false,
                QStringLiteral("prepaid only: total bought on the meter, yuan"))};
    }
    return {};
}

QJsonObject ImportCounts::toJson() const
{
    QJsonObject o;
    const auto put = [&o](const QString &key, qsizetype n) {
        if (n > 0)
            o.insert(key, qint64(n));
    };
    put(QStringLiteral("buildings"), buildings);
    put(QStringLiteral("gateways"), gateways);
    put(QStringLiteral("buses"), buses);
    put(QStringLiteral("meters"), meters);
    put(QStringLiteral("metering_points"), meteringPoints);
    put(QStringLiteral("installations"), installations);
    return o;
}

namespace {

// The import proper; `earlier` holds problems found before (the CSV syntax), which refuse the
// file too but do not stop the rows that could be read from being checked.
ImportReport runImport(Transaction &tx, ImportKind kind, const CsvTable &table, bool dryRun, qint64 nowMs,
    std::optional<qint64> operatorId, const QList<CsvProblem> &earlier)
{
    ImportReport report;
    report.kind = kind;
    report.dryRun = dryRun;
    report.rows = table.records.size();
    report.problems = earlier;
    const auto refuse = [&report, &tx] {
        capProblems(report);
        if (tx.error().ok())
            tx.rollback(QStringLiteral("import.csv refused: %1 problems").arg(report.problems.size()));
        return report;
    };
    if (table.header.isEmpty()) // nothing could be read: the syntax problems say why
        return refuse();

    const QHash<QString, qsizetype> index = checkHeader(table, importColumns(kind), report.problems);
    if (table.records.isEmpty() && earlier.isEmpty())
        report.problems.append(CsvProblem{table.headerLine, QString(), QStringLiteral("no rows after the header")});
    if (table.records.size() > ImportLimits::rowsMax)
        report.problems.append(CsvProblem{table.headerLine, QString(),
            QStringLiteral("%1 rows; at most %2 at once").arg(table.records.size()).arg(ImportLimits::rowsMax)});
    if (report.problems.size() > earlier.size())
        return refuse(); // the header is wrong: the rows cannot be read by column

    bool done = false;
    switch (kind) {
    case ImportKind::Buildings: done = importBuildings(tx, table, index, nowMs, report); break;
    case ImportKind::Gateways: done = importGateways(tx, table, index, nowMs, report); break;
    case ImportKind::Meters: done = importMeters(tx, table, index, nowMs, operatorId, report); break;
    }
    if (!done)
        return refuse();

    // prepayd loads this plan at its next start: a file it could not poll is refused now.
    poller::PollPlan plan;
    QString planError;
    if (!poller::loadPollPlan(tx.db(), &plan, &planError)) {
        report.problems.append(CsvProblem{
            0, QString(), QStringLiteral("with these rows prepayd could not load its poll plan: %1").arg(planError)});
        return refuse();
    }
    if (dryRun) {
        tx.rollback(QStringLiteral("import.csv dry run"));
        return report;
    }
    report.written = true;
    return report;
}

} // namespace

ImportReport importRows(Transaction &tx, ImportKind kind, const CsvTable &table, bool dryRun, qint64 nowMs,
    std::optional<qint64> operatorId)
{
    return runImport(tx, kind, table, dryRun, nowMs, operatorId, {});
}

ImportReport importCsv(
    Transaction &tx, ImportKind kind, QStringView csvText, bool dryRun, qint64 nowMs, std::optional<qint64> operatorId)
{
    const CsvParse parsed = parseCsv(csvText);
    return runImport(tx, kind, parsed.table, dryRun, nowMs, operatorId, parsed.problems);
}

} // namespace prepay::catalog
