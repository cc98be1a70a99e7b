// bench: full poll cycles of prepayd's poller against prepay-sim with RS-485 wire time
//
// Builds a building of --meters meters on --buses buses (one gateway per bus, each on its own
// port), writes it as a database and as a simulator building file, starts prepay-sim with wire
// time at --baud, and runs the real poller (busworkers, recorder, commands) in this process:
//   1. one full cycle, timed (cycle_s), against the physical bound of the busiest bus;
//   2. a second cycle with recharge commands issued at random moments (command latency:
//      enqueued → the meter acknowledged the mailbox write);
//   3. a naive baseline: every meter read once, one request at a time, in one thread.
// Options: --meters N --buses N --baud B --offline-percent P --dead-gateways N --commands N
// --no-naive. The last line is one JSON object with the figures and the targets.
#include "api/clock.h"
#include "eventloop.h"
#include "commands/commandexecutor.h"
#include "commands/commandstore.h"
#include "modbus/profile.h"
#include "poller/poller.h"
#include "store/store.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtNetwork/QTcpServer>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace prepay;

namespace {

constexpr int kTurnaroundMinMs = 10;
constexpr int kTurnaroundMaxMs = 30;
constexpr int kResponseTimeoutMs = 500;
// The gateways give up on a silent meter (and answer 0x0B) before the poller's timeout, as a
// well-configured site does: otherwise a dead meter holds the line past the client's timeout
// and the next request times out in the gateway's queue (FIELD-PROTOCOLS.md §4.4).
constexpr int kGatewayTimeoutMs = 300;
constexpr int kReadRetries = 1; // PollerOptions' default, named for the offline target

struct Layout
{
    int meters = 300;
    int buses = 3;
    int baud = 9600;
    // meters on each bus
    QList<int> perBus;
};

double seconds(qint64 ns)
{
    return double(ns) / 1e9;
}

double round3(double v)
{
    return std::round(v * 1000) / 1000;
}

// One FC 0x03 of Block B on the wire, µs (FIELD-PROTOCOLS.md §4.2, 11 bits per character).
double blockBReadUs(int baud, double turnaroundMs)
{
    if (baud <= 0)
        return 0;
    const double characterUs = 11.0 * 1e6 / baud;
    const int request = 8, reply = 5 + 2 * meter::v1::kBlockBCount;
    return (request + reply + 7) * characterUs + turnaroundMs * 1000;
}

bool portsFree(quint16 base, int count, quint16 control)
{
    QList<quint16> ports;
    for (int i = 0; i < count; ++i)
        ports.append(quint16(base + i));
    ports.append(control);
    for (quint16 p : ports) {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, p))
            return false;
    }
    return true;
}

quint32 serialOf(int meter)
{
    return quint32(60000000 + meter);
}

// The simulator's building file: gateway g carries bus g with its meters at unit 1, 2, ….
QByteArray buildingJson(const Layout &l)
{
    QJsonArray gateways;
    int meter = 0;
    for (int b = 0; b < l.buses; ++b) {
        QJsonArray meters;
        for (int u = 1; u <= l.perBus[b]; ++u, ++meter) {
            meters.append(
                QJsonObject{{QStringLiteral("unit_id"), u}, {QStringLiteral("serial"), qint64(serialOf(meter))},
                    {QStringLiteral("model"), QStringLiteral("DDSY1352-NK")},
                    {QStringLiteral("profile"), QStringLiteral("retail")}, {QStringLiteral("balance_fen"), 100000},
                    {QStringLiteral("purchase_count"), 1}, {QStringLiteral("total_purchased_fen"), 100000},
                    {QStringLiteral("energy_wh"), 1'000'000}});
        }
        const QJsonObject bus{{QStringLiteral("name"), QStringLiteral("BUS%1").arg(b + 1)},
            {QStringLiteral("baud"), l.baud}, {QStringLiteral("bits_per_char"), 11},
            {QStringLiteral("turnaround_min_ms"), kTurnaroundMinMs},
            {QStringLiteral("turnaround_max_ms"), kTurnaroundMaxMs}, {QStringLiteral("meters"), meters}};
        gateways.append(QJsonObject{
            {QStringLiteral("name"), QStringLiteral("GW%1").arg(b + 1)}, {QStringLiteral("buses"), QJsonArray{bus}}});
    }
    const QJsonObject building{{QStringLiteral("name"), QStringLiteral("bench")}, {QStringLiteral("seed"), 7},
        {QStringLiteral("gateways"), gateways},
        {QStringLiteral("tariff"),
            QJsonObject{{QStringLiteral("version"), 1},
                {QStringLiteral("prices"),
                    QJsonObject{{QStringLiteral("sharp"), 12100}, {QStringLiteral("peak"), 9800},
                        {QStringLiteral("flat"), 6500}, {QStringLiteral("valley"), 3100}}},
                {QStringLiteral("tou"), QJsonArray{QJsonArray{0, QStringLiteral("flat")}}}}}};
    return QJsonDocument(building).toJson(QJsonDocument::Compact);
}

// The same building in the database: one building, a gateway per bus, its meters installed.
bool writeDatabase(store::Store &store, const Layout &l, quint16 base)
{
    const auto written
        = store
              .write([&l, base](store::Transaction &tx) {
                  const qint64 t = 1'795'000'000'000;
                  const auto run = [&tx](const QString &sql, const QList<qint64> &values) {
                      store::Statement s = tx.prepare(sql);
                      for (int i = 0; i < values.size(); ++i)
                          s.bind(i + 1, values[i]);
                      if (const store::SqlError e = s.run(); !e.ok()) {
                          tx.fail(e);
                          return false;
                      }
                      return true;
                  };
                  if (!run(QStringLiteral("INSERT INTO buildings (id, code, name, poll_interval_ms, created_at_ms) "
                                          "VALUES (1, 'X', 'bench', 86400000, ?1)"),
                          {t}))
                      return;
                  int meter = 0;
                  for (int b = 0; b < l.buses; ++b) {
                      const qint64 id = b + 1;
                      if (!run(QStringLiteral("INSERT INTO gateways (id, building_id, name, host, port, created_at_ms) "
                                              "VALUES (?1, 1, 'GW' || ?1, '127.0.0.1', ?2, ?3)"),
                              {id, base + b, t})
                          || !run(QStringLiteral("INSERT INTO buses (id, name, kind, gateway_id, port_index, baud, "
                                                 "response_timeout_ms, created_at_ms) VALUES (?1, 'BUS' || ?1, "
                                                 "'gateway_port', ?1, 1, ?2, ?3, ?4)"),
                              {id, qint64(l.baud > 0 ? l.baud : 115200), kResponseTimeoutMs, t}))
                          return;
                      for (int u = 1; u <= l.perBus[b]; ++u, ++meter) {
                          const qint64 m = meter + 1;
                          if (!run(QStringLiteral("INSERT INTO metering_points (id, code, building_id, floor, "
                                                  "created_at_ms) VALUES (?1, 'X-' || ?1, 1, 1, ?2)"),
                                  {m, t})
                              || !run(
                                  QStringLiteral("INSERT INTO meters (id, serial_number, model, device_type, "
                                                 "capability, rated_current_ma, max_current_ma, state, bus_id, "
                                                 "unit_id, created_at_ms) VALUES (?1, ?2, 'DDSY1352-NK', "
                                                 "'single_phase', 'prepaid', 10000, 60000, 'installed', ?3, ?4, ?5)"),
                                  {m, qint64(serialOf(meter)), id, u, t})
                              || !run(QStringLiteral("INSERT INTO meter_installations (id, metering_point_id, "
                                                     "meter_id, installed_at_ms) VALUES (?1, ?1, ?1, ?2)"),
                                  {m, t}))
                              return;
                      }
                  }
              })
              .get();
    if (!written.committed())
        std::fprintf(stderr, "cannot write the bench building: %s\n", qPrintable(written.error.toString()));
    return written.committed();
}

int simCtl(quint16 control, const QStringList &arguments)
{
    QProcess ctl;
    ctl.start(QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../prepay-sim")),
        QStringList{QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(control)} + arguments);
    ctl.waitForFinished(30'000);
    return ctl.exitCode();
}

double cpuSeconds()
{
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peakRssMb()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').first().toDouble() / 1024.0;
    }
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Poll cycles against prepay-sim; JSON figures on the last line."));
    parser.addHelpOption();
    const auto option = [&parser](const char *name, const char *help, const char *fallback) {
        QCommandLineOption o(
            QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("N"), QString::fromLatin1(fallback));
        parser.addOption(o);
        return o;
    };
    const QCommandLineOption metersOption = option("meters", "Meters in the building.", "300");
    const QCommandLineOption busesOption = option("buses", "RS-485 buses (one gateway each).", "3");
    const QCommandLineOption baudOption = option("baud", "Line speed; 0 = no wire emulation.", "9600");
    const QCommandLineOption offlineOption = option("offline-percent", "Meters that never answer, in %.", "0");
    const QCommandLineOption deadOption = option("dead-gateways", "Gateways down (connection refused).", "0");
    const QCommandLineOption commandsOption
        = option("commands", "Recharge commands issued during the second cycle.", "20");
    const QCommandLineOption noNaiveOption(QStringLiteral("no-naive"), QStringLiteral("Skip the sequential baseline."));
    parser.addOption(noNaiveOption);
    parser.process(app);

    Layout l;
    l.meters = std::clamp(parser.value(metersOption).toInt(), 1, poller::PollLimits::metersMax);
    l.buses = std::clamp(parser.value(busesOption).toInt(), 1, poller::PollLimits::busesMax);
    l.baud = std::max(0, parser.value(baudOption).toInt());
    const int offlinePercent = std::clamp(parser.value(offlineOption).toInt(), 0, 100);
    const int deadGateways = std::clamp(parser.value(deadOption).toInt(), 0, l.buses);
    const int commandCount = std::max(0, parser.value(commandsOption).toInt());
    QString note;
    // A bus addresses at most 247 meters (Modbus): more meters need more buses.
    const int busesNeeded = (l.meters + poller::PollLimits::metersPerBusMax - 1) / poller::PollLimits::metersPerBusMax;
    if (l.buses < busesNeeded) {
        note = QStringLiteral("%1 meters do not fit on %2 buses (247 addresses per bus): ran on %3 buses")
                   .arg(l.meters)
                   .arg(l.buses)
                   .arg(busesNeeded);
        l.buses = busesNeeded;
    }
    for (int b = 0; b < l.buses; ++b)
        l.perBus.append(l.meters / l.buses + (b < l.meters % l.buses ? 1 : 0));

    QTemporaryDir dir;
    QFile file(dir.filePath(QStringLiteral("building.json")));
    if (!file.open(QIODevice::WriteOnly) || file.write(buildingJson(l)) < 0)
        return 1;
    file.close();

    quint16 base = quint16(24000 + QCoreApplication::applicationPid() % 8000);
    while (!portsFree(base, l.buses, quint16(base + l.buses + 1)))
        base = quint16(base + 97);
    const quint16 control = quint16(base + l.buses + 1);

    QProcess sim;
    sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const QString simPath = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../prepay-sim"));
    sim.start(simPath,
        {QStringLiteral("meters"), QStringLiteral("--building"), file.fileName(), QStringLiteral("--port-base"),
            QString::number(base), QStringLiteral("--control-port"), QString::number(control), QStringLiteral("--baud"),
            QString::number(l.baud), QStringLiteral("--turnaround-ms"),
            QStringLiteral("%1..%2").arg(kTurnaroundMinMs).arg(kTurnaroundMaxMs),
            QStringLiteral("--gateway-timeout-ms"), QString::number(kGatewayTimeoutMs)});
    QByteArray banner;
    while (!banner.contains("ready") && sim.waitForReadyRead(60'000))
        banner += sim.readAllStandardOutput();
    if (!banner.contains("ready")) {
        std::fprintf(stderr, "prepay-sim did not come up: %s\n", banner.constData());
        return 1;
    }
    const auto stopSim = qScopeGuard([&sim] {
        sim.terminate();
        sim.waitForFinished(10'000);
    });

    // Faults: every n-th meter offline; the first gateways refused.
    QSet<int> unhealthy; // meter indexes expected to fail
    int offlineMeters = 0;
    if (offlinePercent > 0) {
        const int every = std::max(1, 100 / offlinePercent);
        int meter = 0;
        for (int b = 0; b < l.buses; ++b) {
            for (int u = 1; u <= l.perBus[b]; ++u, ++meter) {
                if (meter % every == 0) {
                    simCtl(control,
                        {QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("offline"),
                            QStringLiteral("--gateway"), QString::number(b), QStringLiteral("--unit"),
                            QString::number(u), QStringLiteral("--response"), QStringLiteral("exception")});
                    unhealthy.insert(meter);
                    ++offlineMeters;
                }
            }
        }
    }
    for (int g = 0; g < deadGateways; ++g) {
        simCtl(control,
            {QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("refuse"), QStringLiteral("--gateway"),
                QString::number(g)});
        simCtl(control,
            {QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("disconnect"), QStringLiteral("--gateway"),
                QString::number(g)});
        int first = 0;
        for (int b = 0; b < g; ++b)
            first += l.perBus[b];
        for (int i = 0; i < l.perBus[g]; ++i)
            unhealthy.insert(first + i);
    }

    SystemClock clock;
    store::OpenResult opened = store::Store::open(dir.filePath(QStringLiteral("bench.db")), clock);
    if (!opened.store || !writeDatabase(*opened.store, l, base))
        return 1;
    store::Store &store = *opened.store;
    poller::PollPlan plan;
    QString planError;
    {
        auto reader = store.openReader();
        if (!poller::loadPollPlan(*reader, &plan, &planError)) {
            std::fprintf(stderr, "poll plan: %s\n", qPrintable(planError));
            return 1;
        }
    }
    commands::CommandStore commandStore(store, clock);
    commands::CommandExecutor executor(commandStore, clock);
    poller::PollerOptions options;
    options.cycleAtStart = false;
    options.worker.readRetries = kReadRetries;
    poller::Poller poller(store, clock, plan, &commandStore, &executor, options);
    poller.start();

    // 1. One full cycle, timed.
    const double cpuBefore = cpuSeconds();
    QElapsedTimer cycleTimer;
    cycleTimer.start();
    poller.startCycle();
    if (!test::runUntil([&poller] { return !poller.cycleRunning(); }, 3'600'000)) {
        std::fprintf(stderr, "the cycle did not finish within an hour\n");
        return 1;
    }
    const qint64 cycleNs = cycleTimer.nsecsElapsed();
    const double cpuCores = (cpuSeconds() - cpuBefore) / seconds(cycleNs);
    poller.recorder().flush();
    int errors = 0;
    for (const poller::BusHealth &h : poller.health())
        errors += h.lastCycleErrors;
    std::fprintf(stderr, "cycle 1: %.3f s, %d read errors (%d meters expected unreachable)\n", seconds(cycleNs), errors,
        int(unhealthy.size()));
    errors = std::max(0, errors - int(unhealthy.size()));

    // 2. Recharges issued one at a time at random moments while cycles run: how long does a
    //    command wait for its meter's line? (Each waits for the previous one to be verified,
    //    so commands never queue behind each other.)
    QRandomGenerator rng(42);
    QList<qint64> commandIds;
    QList<int> healthy;
    for (int i = 0; i < l.meters; ++i) {
        if (!unhealthy.contains(i))
            healthy.append(i);
    }
    poller.startCycle();
    QElapsedTimer second;
    second.start();
    double steadyCycleS = 0;
    for (int c = 0; c < commandCount && !healthy.isEmpty(); ++c) {
        if (!poller.cycleRunning()) {
            if (steadyCycleS == 0)
                steadyCycleS = seconds(second.nsecsElapsed());
            poller.startCycle(); // always mid-cycle
        }
        const qint64 pauseMs = qint64(rng.bounded(300));
        QElapsedTimer pause;
        pause.start();
        test::runUntil([&pause, pauseMs] { return pause.elapsed() >= pauseMs; }, pauseMs + 1000);
        commands::CommandRequest r;
        r.meterId = healthy[int(rng.bounded(healthy.size()))] + 1;
        r.kind = commands::Kind::Recharge;
        r.amountFen = 1000;
        r.rechargeTxn = quint32(700000 + c);
        r.idempotencyKey = QStringLiteral("bench-%1").arg(c);
        r.cause = commands::Cause::System;
        const commands::EnqueueResult e = poller.submitCommand(r);
        if (e.outcome != commands::EnqueueOutcome::Queued) {
            ++errors;
            continue;
        }
        commandIds.append(e.commandId);
        std::future<commands::ExecuteResult> done = poller.commandDone(e.commandId);
        test::runUntil([&done] { return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, 120'000);
    }
    test::runUntil([&poller] { return !poller.cycleRunning(); }, 3'600'000);
    if (steadyCycleS == 0)
        steadyCycleS = seconds(second.nsecsElapsed());
    poller.stop();

    // Latency: enqueued → the meter acknowledged the mailbox write (and → "sent", just before
    // the frame left).
    std::vector<double> latencies;
    std::vector<double> toSent;
    {
        auto reader = store.openReader();
        for (qint64 id : std::as_const(commandIds)) {
            store::Statement s
                = reader->prepare(QStringLiteral("SELECT state, acknowledged_at_ms - created_at_ms, sent_at_ms - "
                                                 "created_at_ms FROM meter_commands WHERE id = ?1"));
            s.bind(1, id);
            if (s.step() != store::Statement::Step::Row || s.text(0) != u"verified") {
                ++errors;
                continue;
            }
            latencies.push_back(double(s.int64(1)));
            toSent.push_back(double(s.int64(2)));
        }
    }
    const auto percentile = [](std::vector<double> v, double p) {
        if (v.empty())
            return 0.0;
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, size_t(std::ceil(p * double(v.size()))) - 1)];
    };
    const double p99 = percentile(latencies, 0.99);

    // 3. The naive baseline: every meter, one request at a time.
    double naiveS = 0;
    if (!parser.isSet(noNaiveOption)) {
        std::vector<std::unique_ptr<modbus::ModbusClient>> clients;
        for (const poller::BusPlan &bus : std::as_const(plan.buses))
            clients.push_back(std::make_unique<modbus::ModbusClient>(bus.endpoint, bus.timing, clock));
        const modbus::MeterProfile &profile = *modbus::profileNamed(u"prepay-v1");
        QElapsedTimer naive;
        naive.start();
        for (int b = 0; b < plan.buses.size(); ++b) {
            for (const poller::MeterTarget &m : std::as_const(plan.buses[b].meters))
                profile.readSnapshot(*clients[size_t(b)], m.unitId);
        }
        naiveS = seconds(naive.nsecsElapsed());
    }

    // The physical bound: the busiest bus's meters × one Block B read (mean turnaround).
    const double readUs = blockBReadUs(l.baud, (kTurnaroundMinMs + kTurnaroundMaxMs) / 2.0);
    const int busiest = *std::max_element(l.perBus.begin(), l.perBus.end());
    const double boundS = busiest * readUs / 1e6;
    const double cycleS = seconds(cycleNs);
    const double efficiency = boundS > 0 ? boundS / cycleS : 0;
    const double offlineAllowanceS = double(offlineMeters) * kResponseTimeoutMs / 1000.0 * (kReadRetries + 1) / l.buses;

    QJsonObject targets;
    if (l.baud > 0 && offlinePercent == 0 && deadGateways == 0)
        targets[QStringLiteral("efficiency_ge_0.90")] = efficiency >= 0.90;
    if (l.baud > 0 && offlinePercent > 0)
        targets[QStringLiteral("cycle_le_bound_plus_offline_allowance_plus_5pct")]
            = cycleS <= (boundS + offlineAllowanceS) * 1.05;
    if (!parser.isSet(noNaiveOption) && naiveS > 0 && l.baud > 0 && offlinePercent == 0 && deadGateways == 0
        && l.buses == 3)
        targets[QStringLiteral("speedup_vs_naive_ge_2.7")] = naiveS / cycleS >= 2.7;
    if (l.baud > 0 && deadGateways > 0 && offlinePercent == 0)
        // The buses of the live gateways run as if nothing happened: within 10 % of their bound.
        targets[QStringLiteral("live_buses_cycle_le_1.10x_bound")] = cycleS <= 1.10 * boundS;
    // The command target is for a healthy line: with dead meters the transaction a
    // command waits for may be a gateway timeout (reported, not judged).
    if (l.baud == 9600 && commandCount > 0 && offlinePercent == 0)
        targets[QStringLiteral("command_latency_p99_lt_400ms")] = p99 < 400;
    if (l.meters >= 3000 && l.baud > 0)
        targets[QStringLiteral("below_one_core_and_150mb")] = cpuCores < 1.0 && peakRssMb() < 150;
    if (l.baud == 0 && l.meters >= 10000)
        targets[QStringLiteral("cycle_lt_2s")] = cycleS < 2.0;

    QJsonObject figures{
        {QStringLiteral("bench"), QStringLiteral("poll")},
        {QStringLiteral("meters"), l.meters},
        {QStringLiteral("buses"), l.buses},
        {QStringLiteral("baud"), l.baud},
        {QStringLiteral("offline_meters"), offlineMeters},
        {QStringLiteral("dead_gateways"), deadGateways},
        {QStringLiteral("cycle_s"), round3(cycleS)},
        {QStringLiteral("steady_cycle_s"), round3(steadyCycleS)},
        {QStringLiteral("bound_s"), round3(boundS)},
        {QStringLiteral("efficiency"), boundS > 0 ? QJsonValue(round3(efficiency)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("naive_cycle_s"), naiveS > 0 ? QJsonValue(round3(naiveS)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("speedup_vs_naive"),
            naiveS > 0 ? QJsonValue(round3(naiveS / cycleS)) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("command_latency_p99_ms"), latencies.empty() ? QJsonValue(QJsonValue::Null) : QJsonValue(p99)},
        {QStringLiteral("command_latency_p50_ms"),
            latencies.empty() ? QJsonValue(QJsonValue::Null) : QJsonValue(percentile(latencies, 0.5))},
        {QStringLiteral("command_to_sent_p99_ms"),
            toSent.empty() ? QJsonValue(QJsonValue::Null) : QJsonValue(percentile(toSent, 0.99))},
        {QStringLiteral("commands"), int(commandIds.size())},
        {QStringLiteral("poller_cpu_cores"), round3(cpuCores)},
        {QStringLiteral("poller_rss_mb"), round3(peakRssMb())},
        {QStringLiteral("readings_stored"), qint64(poller.recorder().stats().readingsStored)},
        {QStringLiteral("errors"), errors},
        {QStringLiteral("targets"), targets},
    };
    if (!note.isEmpty())
        figures[QStringLiteral("note")] = note;
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    return errors == 0 ? 0 : 1;
}
