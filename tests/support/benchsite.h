// The benchmarks' building: --meters prepaid meters, one RS-485 bus (and gateway) per 125, every
// shop open with one point and a meter whose balance the takeover credits into its wallet (the
// first `arrears` shops hold nothing), on the demo's time-of-use tariff, with 31 days and 12
// months of usage history in the directory aggregates — in a database (writeSite) and as
// prepay-sim's building file, served by prepay-sim meters with RS-485 wire time (startSimulator).
// Used by bench_api and bench_topup.
#pragma once

#include "accounts/takeover.h"
#include "billing/tariff.h"
#include "poller/pollplan.h"
#include "store/store.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDate>
#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTimeZone>
#include <QtNetwork/QTcpServer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace prepay::bench {

constexpr int kMetersPerBusMax = 125; // a well-loaded RS-485 line; ≤ PollLimits::metersPerBusMax
constexpr int kTurnaroundMinMs = 10;
constexpr int kTurnaroundMaxMs = 30;
constexpr int kGatewayTimeoutMs = 300;
constexpr qint64 kOpeningBalanceFen = 100'000;
static_assert(kMetersPerBusMax <= poller::PollLimits::metersPerBusMax);

struct Layout
{
    int meters = 1000;
    int buses = 8;
    int baud = 9600;
    int arrears = 0; // the first N shops start with nothing: 0.00 in the wallet and on the meter
    QList<int> perBus;

    // One bus (and gateway) per kMetersPerBusMax meters, the meters spread evenly.
    void spread()
    {
        buses = (meters + kMetersPerBusMax - 1) / kMetersPerBusMax;
        perBus.clear();
        for (int b = 0; b < buses; ++b)
            perBus.append(meters / buses + (b < meters % buses ? 1 : 0));
    }
};

inline double round3(double v)
{
    return std::round(v * 1000) / 1000;
}

inline double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const size_t rank = size_t(std::ceil(p * double(v.size())));
    return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

inline quint32 serialOf(int meter)
{
    return quint32(61000000 + meter);
}

inline QString shopOf(int meter)
{
    return QStringLiteral("X-%1").arg(meter + 1, 4, 10, QLatin1Char('0'));
}

inline bool portsFree(quint16 base, int count)
{
    for (int i = 0; i <= count; ++i) {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, quint16(base + i)))
            return false;
    }
    return true;
}

// The simulator's building: gateway g carries bus g, its meters at units 1, 2, …; each holds the
// balance the database's installation records, so the takeover credits the same money.
inline QByteArray buildingJson(const Layout &l)
{
    QJsonArray gateways;
    int meter = 0;
    for (int b = 0; b < l.buses; ++b) {
        QJsonArray meters;
        for (int u = 1; u <= l.perBus[b]; ++u, ++meter) {
            meters.append(QJsonObject{{QStringLiteral("unit_id"), u},
                {QStringLiteral("serial"), qint64(serialOf(meter))},
                {QStringLiteral("model"), QStringLiteral("DDSY1352-NK")},
                {QStringLiteral("profile"), QStringLiteral("retail")},
                {QStringLiteral("balance_fen"), meter < l.arrears ? 0 : kOpeningBalanceFen},
                {QStringLiteral("purchase_count"), 1},
                {QStringLiteral("total_purchased_fen"), meter < l.arrears ? 0 : kOpeningBalanceFen},
                {QStringLiteral("energy_wh"), 1'000'000}});
        }
        const QJsonObject bus{{QStringLiteral("name"), QStringLiteral("BUS%1").arg(b + 1)},
            {QStringLiteral("baud"), l.baud > 0 ? l.baud : 9600}, {QStringLiteral("bits_per_char"), 11},
            {QStringLiteral("turnaround_min_ms"), kTurnaroundMinMs},
            {QStringLiteral("turnaround_max_ms"), kTurnaroundMaxMs}, {QStringLiteral("meters"), meters}};
        gateways.append(QJsonObject{
            {QStringLiteral("name"), QStringLiteral("GW%1").arg(b + 1)}, {QStringLiteral("buses"), QJsonArray{bus}}});
    }
    const QJsonObject building{{QStringLiteral("name"), QStringLiteral("bench")}, {QStringLiteral("seed"), 11},
        {QStringLiteral("gateways"), gateways},
        {QStringLiteral("tariff"),
            QJsonObject{{QStringLiteral("version"), 1},
                {QStringLiteral("prices"),
                    QJsonObject{{QStringLiteral("sharp"), 12100}, {QStringLiteral("peak"), 9800},
                        {QStringLiteral("flat"), 6500}, {QStringLiteral("valley"), 3100}}},
                {QStringLiteral("tou"), QJsonArray{QJsonArray{0, QStringLiteral("flat")}}}}}};
    return QJsonDocument(building).toJson(QJsonDocument::Compact);
}

// The same building in the database, by one constant script; the sizes come in through a
// temporary table filled by a prepared statement.
inline const char kSiteSql[] = R"SQL(
WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g, temp.bench p WHERE i < p.buses)
INSERT INTO gateways (id, building_id, name, host, port, created_at_ms)
SELECT i, 1, 'GW' || i, '127.0.0.1', p.port_base + i - 1, p.t_site FROM g, temp.bench p;

WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g, temp.bench p WHERE i < p.buses)
INSERT INTO buses (id, name, kind, gateway_id, port_index, baud, response_timeout_ms, created_at_ms)
SELECT i, 'BUS' || i, 'gateway_port', i, 1, p.baud, 500, p.t_site FROM g, temp.bench p;

INSERT INTO metering_points (id, code, building_id, floor, room, created_at_ms)
SELECT m.meter + 1, m.shop_no, 1, m.meter % 30 + 1, printf('%04d', m.meter + 1), p.t_site
  FROM temp.bench_meters m, temp.bench p ORDER BY m.meter;

INSERT INTO meters (id, serial_number, model, device_type, capability, has_tou_registers, rated_current_ma,
                    max_current_ma, state, bus_id, unit_id, created_at_ms)
SELECT m.meter + 1, m.serial, 'DDSY1352-NK', 'single_phase', 'prepaid', 1, 10000, 60000, 'installed', m.bus, m.unit,
       p.t_site
  FROM temp.bench_meters m, temp.bench p ORDER BY m.meter;

-- The balances the meters hold, recorded at installation: the takeover credits them.
INSERT INTO meter_installations (id, metering_point_id, meter_id, installed_at_ms, initial_balance_fen,
                                 initial_purchase_count, initial_purchased_fen)
SELECT id, id, id, created_at_ms, CASE WHEN id <= p.arrears THEN 0 ELSE p.opening_fen END, 1,
       CASE WHEN id <= p.arrears THEN 0 ELSE p.opening_fen END
  FROM metering_points, temp.bench p ORDER BY id;

INSERT INTO billing_state (metering_point_id, installation_id, updated_at_ms)
SELECT id, id, created_at_ms FROM metering_points ORDER BY id;

INSERT INTO accounts (id, shop_no, display_name, status, opened_at_ms, created_at_ms)
SELECT id, code, '商铺 ' || code, 'open', created_at_ms, created_at_ms FROM metering_points ORDER BY id;

INSERT INTO account_metering_points (id, account_id, metering_point_id, linked_at_ms)
SELECT id, id, id, opened_at_ms FROM accounts ORDER BY id;

INSERT INTO ledger_accounts (code, kind, account_id, name, balance_fen, created_at_ms, updated_at_ms)
SELECT 'wallet:' || id, 'wallet', id, '钱包 ' || display_name, 0, created_at_ms, created_at_ms
  FROM accounts ORDER BY id;

INSERT INTO control_settings (metering_point_id, control_mode, updated_at_ms)
SELECT id, 'auto', created_at_ms FROM metering_points ORDER BY id;

INSERT INTO tariffs (id, code, name, description, created_at_ms)
SELECT 1, 'TOU-COM', '商业分时电价', 'Commercial time-of-use', t_site FROM temp.bench;

INSERT INTO tariff_versions (id, tariff_id, version, effective_date, kind, price_sharp, price_peak, price_flat,
                             price_valley, tier_period, note, created_at_ms)
SELECT 1, 1, 1, '2025-06-01', 'tou', 12100, 9800, 6500, 3100, NULL, 'demo prices', t_site FROM temp.bench;

INSERT INTO tariff_day_segments (tariff_version_id, day_type, start_minute, slot) VALUES
    (1, 'workday', 0, 'valley'), (1, 'workday', 480, 'flat'), (1, 'workday', 600, 'sharp'),
    (1, 'workday', 720, 'flat'), (1, 'workday', 900, 'peak'), (1, 'workday', 1200, 'flat'),
    (1, 'workday', 1320, 'valley'), (1, 'weekend', 0, 'valley'), (1, 'weekend', 480, 'flat'),
    (1, 'weekend', 1320, 'valley'), (1, 'holiday', 0, 'valley'), (1, 'holiday', 480, 'flat'),
    (1, 'holiday', 1320, 'valley');

INSERT INTO tariff_assignments (tariff_id, account_id, effective_date, created_at_ms)
SELECT 1, id, '2025-06-01', created_at_ms FROM accounts ORDER BY id;

-- Usage history: every account used something on each of the last 31 local days and 12 months
-- (days and months given by the temporary tables), as the directory's aggregates hold it. The
-- aggregates count as built for today in the site's zone, so the first refresh only folds what
-- is new instead of rebuilding them from readings that do not exist.
INSERT INTO sync_usage_daily (account_id, day, readings, energy_wh, amount_fen)
SELECT a.id, d.day, 96, 2000 + (a.id * 37 + d.n * 11) % 9000, (2000 + (a.id * 37 + d.n * 11) % 9000) * 7 / 100
  FROM accounts a, temp.bench_days d ORDER BY a.id, d.day;

INSERT INTO sync_usage_monthly (account_id, month, readings, energy_wh, amount_fen)
SELECT a.id, m.month, 2900, 60000 + (a.id * 53 + m.n * 7) % 200000, (60000 + (a.id * 53 + m.n * 7) % 200000) * 7 / 100
  FROM accounts a, temp.bench_months m ORDER BY a.id, m.month;

UPDATE sync_state SET built = 1, time_zone = 'Asia/Shanghai', window_day = (SELECT today FROM temp.bench);
)SQL";

inline bool writeSite(store::Store &store, const Layout &l, quint16 portBase, qint64 nowMs)
{
    const QTimeZone zone(QByteArrayLiteral("Asia/Shanghai"));
    const QDate today = QDateTime::fromMSecsSinceEpoch(nowMs, zone).date();
    const auto written
        = store
              .write([&](store::Transaction &tx) {
                  const auto check = [&tx](const store::SqlError &e) {
                      if (!e.ok())
                          tx.fail(e);
                      return e.ok();
                  };
                  if (!check(tx.db().exec(QStringLiteral(
                          "CREATE TEMP TABLE bench (buses INTEGER, baud INTEGER, port_base INTEGER, t_site INTEGER, "
                          "opening_fen INTEGER, today TEXT, arrears INTEGER); "
                          "CREATE TEMP TABLE bench_meters (meter INTEGER, shop_no TEXT, serial INTEGER, bus INTEGER, "
                          "unit INTEGER); "
                          "CREATE TEMP TABLE bench_days (n INTEGER, day TEXT); "
                          "CREATE TEMP TABLE bench_months (n INTEGER, month TEXT); "
                          "UPDATE settings SET value = 'Asia/Shanghai' WHERE key = 'site.time_zone'; "
                          "INSERT INTO buildings (id, code, name, poll_interval_ms, created_at_ms) "
                          "VALUES (1, 'X', 'bench', 60000, 0)"))))
                      return;
                  store::Statement p
                      = tx.prepare(QStringLiteral("INSERT INTO temp.bench VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
                  p.bind(1, l.buses).bind(2, l.baud > 0 ? l.baud : 115200).bind(3, qint64(portBase));
                  p.bind(4, nowMs - 400 * 86'400'000LL)
                      .bind(5, kOpeningBalanceFen)
                      .bind(6, today.toString(Qt::ISODate))
                      .bind(7, l.arrears);
                  if (!check(p.run()))
                      return;
                  store::Statement m
                      = tx.prepare(QStringLiteral("INSERT INTO temp.bench_meters VALUES (?1, ?2, ?3, ?4, ?5)"));
                  int meter = 0;
                  for (int b = 0; b < l.buses; ++b) {
                      for (int u = 1; u <= l.perBus[b]; ++u, ++meter) {
                          m.bind(1, meter)
                              .bind(2, shopOf(meter))
                              .bind(3, qint64(serialOf(meter)))
                              .bind(4, b + 1)
                              .bind(5, u);
                          if (!check(m.run()))
                              return;
                          m.reset();
                      }
                  }
                  store::Statement d = tx.prepare(QStringLiteral("INSERT INTO temp.bench_days VALUES (?1, ?2)"));
                  for (int n = 0; n < 31; ++n) {
                      d.bind(1, n).bind(2, today.addDays(-n).toString(Qt::ISODate));
                      if (!check(d.run()))
                          return;
                      d.reset();
                  }
                  store::Statement mo = tx.prepare(QStringLiteral("INSERT INTO temp.bench_months VALUES (?1, ?2)"));
                  const QDate month(today.year(), today.month(), 1);
                  for (int n = 0; n < 12; ++n) {
                      mo.bind(1, n).bind(2, month.addMonths(-n).toString(Qt::ISODate).left(7));
                      if (!check(mo.run()))
                          return;
                      mo.reset();
                  }
                  if (!check(tx.db().exec(QString::fromUtf8(kSiteSql))))
                      return;
                  const accounts::TakeoverReport taken = accounts::takeOverMeterBalances(tx, nowMs);
                  if (tx.error().ok() && taken.credited != l.meters - l.arrears)
                      tx.rollback(QStringLiteral("takeover credited %1 of %2 meters: %3")
                                      .arg(taken.credited)
                                      .arg(l.meters - l.arrears)
                                      .arg(taken.problems.join(QStringLiteral("; "))));
                  check(tx.db().exec(
                      QStringLiteral("DROP TABLE temp.bench; DROP TABLE temp.bench_meters; DROP TABLE temp.bench_days; "
                                     "DROP TABLE temp.bench_months")));
              })
              .get();
    if (!written.committed())
        std::fprintf(stderr, "cannot write the bench building: %s %s\n", qPrintable(written.reason),
            qPrintable(written.error.toString()));
    return written.committed();
}

// Writes the building file into `dir`, starts prepay-sim meters on free ports (gateway g on
// *base + g, its control API on *base + buses) and waits for "ready".
inline bool startSimulator(QProcess &sim, const Layout &l, const QString &dir, quint16 *base)
{
    QFile file(QDir(dir).filePath(QStringLiteral("building.json")));
    if (!file.open(QIODevice::WriteOnly) || file.write(buildingJson(l)) < 0)
        return false;
    file.close();
    quint16 port = quint16(26000 + QCoreApplication::applicationPid() % 8000);
    while (!portsFree(port, l.buses + 1))
        port = quint16(port + 97);
    *base = port;
    sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    sim.start(QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../prepay-sim")),
        {QStringLiteral("meters"), QStringLiteral("--building"), file.fileName(), QStringLiteral("--port-base"),
            QString::number(port), QStringLiteral("--control-port"), QString::number(port + l.buses),
            QStringLiteral("--baud"), QString::number(l.baud), QStringLiteral("--turnaround-ms"),
            QStringLiteral("%1..%2").arg(kTurnaroundMinMs).arg(kTurnaroundMaxMs),
            QStringLiteral("--gateway-timeout-ms"), QString::number(kGatewayTimeoutMs)});
    QByteArray banner;
    while (!banner.contains("ready") && sim.waitForReadyRead(60'000))
        banner += sim.readAllStandardOutput();
    if (!banner.contains("ready")) {
        std::fprintf(stderr, "prepay-sim did not come up: %s\n", banner.constData());
        return false;
    }
    return true;
}

// What prepayd reads at start to poll and bill the building: its poll plan and tariff book.
inline bool loadPlanAndBook(store::Store &store, poller::PollPlan *plan, billing::TariffBook *book)
{
    QString error;
    const std::unique_ptr<store::Connection> reader = store.openReader();
    if (!reader || !poller::loadPollPlan(*reader, plan, &error) || !billing::TariffBook::load(*reader, book, &error)) {
        std::fprintf(stderr, "cannot poll or bill the bench building: %s\n", qPrintable(error));
        return false;
    }
    return true;
}

} // namespace prepay::bench
