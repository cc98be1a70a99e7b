// bench: staff API latency (account.get/list/usage) from 30 TLS clients while 1,000 meters are polled
//
// What staff feel at the counter while prepayd does its real work: a temporary database holds a
// building of --meters meters (default 1,000; one gateway per RS-485 bus of at most 125 meters,
// every shop open with one point and a prepaid meter whose balance is taken over into its wallet
// like the demo's, on the demo's TOU tariff) and prepay-sim serves the same building as Modbus TCP
// with RS-485 wire time (--baud, default 9600). This process composes what prepayd composes —
// the poller with its bus workers, the recorder with the billing and control pipeline installed,
// durable commands, and the Service (TLS 1.3 WebSocket API, the directory feed refreshed every
// 2 s) — and keeps the poller cycling back to back for the whole run.
//
// In process rather than the prepayd executable, so the bench can seed the usage history it queries
// and read its figures without a second process; the composition is prepayd.cpp's (poller, billing
// and control pipeline, commands, service with billing), and the clients still talk to it only
// over TLS WebSockets on loopback, from their own thread.
//
// --clients staff connections (default 30), each its own TLS WebSocket, logged in (as the one
// administrator: a session each), run on a second thread with its own event loop. Each makes
// --calls calls (default 300) at --rate calls per second (default 10, within the default
// per-connection budget of 20/s, so prepayd's own rate limit never refuses them; 0 = back to
// back, with the limit lifted): 50 % account.get of a random shop, 25 % account.list with a
// random 3-digit query (about ten matches), 25 % account.usage of a random shop by day or month.
// Latency is measured on the client, from sending the request to its reply.
//
// The usage aggregates hold 31 days and 12 months of history per account, written directly into
// sync_usage_daily / _monthly (what a year of readings would have left there), so account.usage
// answers full windows. meters_polled is the number of distinct meters with a reading stored
// between the first and the last call (from the database).
// Options: --clients N --calls N --rate R --meters N --baud B. The last line is one JSON object.
#include "benchsite.h"
#include "eventloop.h"
#include "api/clock.h"
#include "api/rpcclient.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "commands/commandexecutor.h"
#include "commands/commandstore.h"
#include "control/pipeline.h"
#include "poller/poller.h"
#include "poller/pollplan.h"
#include "service/config.h"
#include "service/service.h"
#include "store/store.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtCore/QTimeZone>
#include <QtCore/QTimer>
#include <QtNetwork/QTcpServer>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

using namespace prepay;

namespace {

constexpr int kDefaultRateLimit = 20; // service::Config::requestsPerSecond's default
constexpr double kTargetP99Ms = 20.0; // the target, on loopback

const QString kPassword = QStringLiteral("bench password 1");

struct Sample
{
    int method = 0; // index into kMethods
    double ms = 0;
    bool ok = false;
};

const char *const kMethods[] = {"account.get", "account.list", "account.usage"};

// The staff clients, on their own thread: open and log in every connection, then run the load.
// Everything here lives on that thread; the main thread reads the results after it finished.
class Load : public QObject
{
public:
    Load(rpc::Endpoint endpoint, int clients, int calls, double rate, int meters)
        : m_endpoint(std::move(endpoint))
        , m_clients(clients)
        , m_calls(calls)
        , m_rate(rate)
        , m_meters(meters)
        , m_rng(2026)
    { }

    // Blocking, on the load thread: connects and logs in (false and *error on the first failure).
    bool connectAll(QString *error)
    {
        for (int i = 0; i < m_clients; ++i) {
            auto client = std::make_unique<rpc::RpcClient>();
            if (!client->openBlocking(m_endpoint, 30'000, error))
                return false;
            const rpc::Outcome o = client->callBlocking(QStringLiteral("session.login"),
                {{QStringLiteral("login"), QStringLiteral("bench")}, {QStringLiteral("password"), kPassword}}, 60'000);
            if (!rpc::succeeded(o)) {
                *error = QStringLiteral("login %1: %2").arg(i).arg(std::get<rpc::Error>(o).message);
                return false;
            }
            m_connections.push_back(std::move(client));
        }
        return true;
    }

    // Runs every client's calls; returns when all have been answered.
    void run()
    {
        m_timer.start();
        m_next.assign(size_t(m_clients), 0);
        m_left.assign(size_t(m_clients), m_calls);
        for (int i = 0; i < m_clients; ++i) {
            // Spread the clients' schedules over the first interval.
            m_next[size_t(i)] = m_rate > 0 ? 1000.0 / m_rate * i / m_clients : 0;
            schedule(i);
        }
        test::runUntil([this] { return m_running == 0 && m_done == m_clients; }, 24 * 3'600'000LL);
        m_elapsedS = double(m_timer.nsecsElapsed()) / 1e9;
        m_connections.clear(); // on the thread they live on
    }

    const std::vector<Sample> &samples() const { return m_samples; }
    double elapsedS() const { return m_elapsedS; }
    QStringList firstErrors() const { return m_errors; }

private:
    void schedule(int i)
    {
        if (m_left[size_t(i)] == 0) {
            ++m_done;
            return;
        }
        const double waitMs = std::max(0.0, m_next[size_t(i)] - double(m_timer.nsecsElapsed()) / 1e6);
        ++m_running;
        QTimer::singleShot(int(waitMs), Qt::PreciseTimer, this, [this, i] { callOnce(i); });
    }

    void callOnce(int i)
    {
        --m_left[size_t(i)];
        const quint32 pick = m_rng.bounded(4u);
        const int method = pick < 2 ? 0 : pick == 2 ? 1 : 2;
        QJsonObject params;
        if (method == 1) {
            params.insert(QStringLiteral("query"),
                QStringLiteral("X-%1").arg(m_rng.bounded(qMax(1, m_meters / 10)), 3, 10, QLatin1Char('0')));
        } else {
            params.insert(QStringLiteral("shop_no"), bench::shopOf(int(m_rng.bounded(quint32(m_meters)))));
            if (method == 2)
                params.insert(QStringLiteral("granularity"),
                    m_rng.bounded(2u) == 0 ? QStringLiteral("day") : QStringLiteral("month"));
        }
        const qint64 sentNs = m_timer.nsecsElapsed();
        m_connections[size_t(i)]->call(
            QString::fromLatin1(kMethods[method]), params, [this, i, method, sentNs](const rpc::Outcome &o) {
                Sample s;
                s.method = method;
                s.ms = double(m_timer.nsecsElapsed() - sentNs) / 1e6;
                s.ok = rpc::succeeded(o);
                if (!s.ok && m_errors.size() < 5)
                    m_errors << QString::fromLatin1(kMethods[method]) + QStringLiteral(": ")
                            + std::get<rpc::Error>(o).message;
                m_samples.push_back(s);
                --m_running;
                m_next[size_t(i)] = m_rate > 0 ? m_next[size_t(i)] + 1000.0 / m_rate : 0;
                schedule(i);
            });
    }

    rpc::Endpoint m_endpoint;
    int m_clients;
    int m_calls;
    double m_rate;
    int m_meters;
    QRandomGenerator m_rng;
    std::vector<std::unique_ptr<rpc::RpcClient>> m_connections;
    std::vector<double> m_next; // ms since the start: when each client's next call is due
    std::vector<int> m_left;
    std::vector<Sample> m_samples;
    QStringList m_errors;
    QElapsedTimer m_timer;
    int m_running = 0;
    int m_done = 0;
    double m_elapsedS = 0;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Staff API latency while the poller polls the simulated building; JSON figures on the last line."));
    parser.addHelpOption();
    const auto option = [&parser](const char *name, const char *help, const char *fallback) {
        QCommandLineOption o(
            QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("N"), QString::fromLatin1(fallback));
        parser.addOption(o);
        return o;
    };
    const QCommandLineOption clientsOption = option("clients", "Staff connections, each logged in.", "30");
    const QCommandLineOption callsOption = option("calls", "Calls per client.", "300");
    const QCommandLineOption rateOption
        = option("rate", "Calls per second per client (0 = back to back, rate limit lifted).", "10");
    const QCommandLineOption metersOption = option("meters", "Meters (and shops) in the building.", "1000");
    const QCommandLineOption baudOption = option("baud", "RS-485 line speed; 0 = no wire emulation.", "9600");
    parser.process(app);

    const int clientCount = std::clamp(parser.value(clientsOption).toInt(), 1, 200);
    const int calls = std::max(1, parser.value(callsOption).toInt());
    const double rate = std::max(0.0, parser.value(rateOption).toDouble());
    bench::Layout l;
    l.meters = std::clamp(parser.value(metersOption).toInt(), 1, poller::PollLimits::metersMax);
    l.baud = std::max(0, parser.value(baudOption).toInt());
    l.spread();

    QTemporaryDir dir;
    QProcess sim;
    quint16 base = 0;
    if (!bench::startSimulator(sim, l, dir.path(), &base))
        return 1;
    const auto stopSim = qScopeGuard([&sim] {
        sim.terminate();
        sim.waitForFinished(10'000);
    });

    // ---- prepayd, composed as prepayd.cpp does ---------------------------------------------------
    SystemClock clock;
    store::OpenResult opened = store::Store::open(dir.filePath(QStringLiteral("prepay.db")), clock);
    if (!opened.store || !bench::writeSite(*opened.store, l, base, clock.wallMs()))
        return 1;
    store::Store &store = *opened.store;
    poller::PollPlan plan;
    auto book = std::make_shared<billing::TariffBook>();
    if (!bench::loadPlanAndBook(store, &plan, book.get()))
        return 1;
    billing::Biller biller(book);
    commands::CommandStore commandStore(store, clock);
    commands::CommandExecutor executor(commandStore, clock);
    poller::PollerOptions pollerOptions;
    pollerOptions.cycleAtStart = false; // started with the load, below
    poller::Poller poller(store, clock, std::move(plan), &commandStore, &executor, pollerOptions);
    control::BatchPipeline pipeline(
        biller, clock, [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    pipeline.install(poller.recorder());

    service::Config config;
    config.listenAddress = QStringLiteral("127.0.0.1");
    config.staffPort = 0;
    config.kioskPort = 0;
    config.healthPort = 0;
    QString note;
    if (rate <= 0 || rate > kDefaultRateLimit) {
        config.requestsPerSecond = 100'000;
        config.requestsBurst = 100'000;
        note = QStringLiteral("per-connection rate limit lifted for --rate %1").arg(rate);
    }
    config.connectionsMax = std::max(config.connectionsMax, clientCount + 8);
    service::Service service(clock, store, config, dir.path());
    service.setBilling(&biller, [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    {
        QString error;
        if (!service.start(&error)) {
            std::fprintf(stderr, "service: %s\n", qPrintable(error));
            return 1;
        }
    }
    QFile caFile(service.caCertPath());
    if (!caFile.open(QIODevice::ReadOnly))
        return 1;
    rpc::Endpoint endpoint;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = service.staffPort();
    endpoint.ca = QSslCertificate(caFile.readAll(), QSsl::Pem);
    {
        rpc::RpcClient setup;
        QString error;
        const rpc::Outcome o = setup.openBlocking(endpoint, 30'000, &error)
            ? setup.callBlocking(QStringLiteral("setup.create_admin"),
                {{QStringLiteral("setup_code"), service.setupCode().value_or(QString())},
                    {QStringLiteral("login"), QStringLiteral("bench")},
                    {QStringLiteral("display_name"), QStringLiteral("bench")}, {QStringLiteral("password"), kPassword}},
                60'000)
            : rpc::Outcome(rpc::Error{rpc::ErrorCode::Unavailable, error, QJsonObject()});
        if (!rpc::succeeded(o)) {
            std::fprintf(stderr, "setup.create_admin: %s\n", qPrintable(std::get<rpc::Error>(o).message));
            return 1;
        }
    }

    // ---- the clients' thread ----------------------------------------------------------------------
    QThread loadThread;
    Load load(endpoint, clientCount, calls, rate, l.meters);
    load.moveToThread(&loadThread);
    loadThread.start();
    std::atomic<int> phase{0}; // 1 connected, 2 finished, -1 failed
    QString loadError;
    QMetaObject::invokeMethod(
        &load, [&] { phase = load.connectAll(&loadError) ? 1 : -1; }, Qt::QueuedConnection);
    if (!test::runUntil([&phase] { return phase != 0; }, 600'000) || phase < 0) {
        std::fprintf(stderr, "clients: %s\n", qPrintable(loadError));
        loadThread.quit();
        loadThread.wait();
        return 1;
    }

    // The load and the poller together; the poller cycles back to back until the load is over.
    poller.start();
    poller.startCycle();
    int cycles = 0;
    QTimer keepPolling;
    keepPolling.setInterval(50);
    QObject::connect(&keepPolling, &QTimer::timeout, &app, [&poller, &cycles] {
        if (!poller.cycleRunning()) {
            ++cycles;
            poller.startCycle();
        }
    });
    keepPolling.start();
    const qint64 loadStartMs = clock.wallMs();
    QMetaObject::invokeMethod(
        &load,
        [&] {
            load.run();
            phase = 2;
        },
        Qt::QueuedConnection);
    test::runUntil([&phase] { return phase == 2; }, 24 * 3'600'000LL);
    const qint64 loadEndMs = clock.wallMs();
    keepPolling.stop();
    loadThread.quit();
    loadThread.wait();
    poller.stop();
    service.stop();

    // ---- figures --------------------------------------------------------------------------------
    qint64 metersPolled = 0, readings = 0, charges = 0;
    {
        auto reader = store.openReader();
        store::Statement s = reader->prepare(QStringLiteral(
            "SELECT count(DISTINCT meter_id), count(*), (SELECT count(*) FROM charge_intervals ci JOIN readings r ON "
            "r.id = ci.to_reading_id WHERE r.taken_at_ms BETWEEN ?1 AND ?2) FROM readings "
            "WHERE taken_at_ms BETWEEN ?1 AND ?2"));
        s.bind(1, loadStartMs).bind(2, loadEndMs);
        if (s.step() == store::Statement::Step::Row) {
            metersPolled = s.int64(0);
            readings = s.int64(1);
            charges = s.int64(2);
        }
    }
    std::vector<double> all;
    std::map<int, std::vector<double>> byMethod;
    int errors = 0;
    for (const Sample &s : load.samples()) {
        if (!s.ok) {
            ++errors;
            continue;
        }
        all.push_back(s.ms);
        byMethod[s.method].push_back(s.ms);
    }
    errors += clientCount * calls - int(load.samples().size());
    for (const QString &e : load.firstErrors())
        std::fprintf(stderr, "error: %s\n", qPrintable(e));
    QJsonObject methods;
    for (const auto &[method, v] : byMethod) {
        methods.insert(QString::fromLatin1(kMethods[method]),
            QJsonObject{{QStringLiteral("calls"), qint64(v.size())},
                {QStringLiteral("p50_ms"), bench::round3(bench::percentile(v, 0.5))},
                {QStringLiteral("p99_ms"), bench::round3(bench::percentile(v, 0.99))},
                {QStringLiteral("max_ms"), bench::round3(bench::percentile(v, 1.0))}});
    }
    const double p99 = bench::percentile(all, 0.99);
    QJsonObject figures{{QStringLiteral("bench"), QStringLiteral("api")}, {QStringLiteral("clients"), clientCount},
        {QStringLiteral("calls"), qint64(all.size())}, {QStringLiteral("calls_per_client"), calls},
        {QStringLiteral("rate_per_client"), rate}, {QStringLiteral("p50_ms"), bench::round3(bench::percentile(all, 0.5))},
        {QStringLiteral("p90_ms"), bench::round3(bench::percentile(all, 0.9))}, {QStringLiteral("p99_ms"), bench::round3(p99)},
        {QStringLiteral("max_ms"), bench::round3(bench::percentile(all, 1.0))},
        {QStringLiteral("calls_per_s"), bench::round3(double(all.size()) / std::max(load.elapsedS(), 1e-9))},
        {QStringLiteral("duration_s"), bench::round3(load.elapsedS())}, {QStringLiteral("errors"), errors},
        {QStringLiteral("meters"), l.meters}, {QStringLiteral("buses"), l.buses}, {QStringLiteral("baud"), l.baud},
        {QStringLiteral("meters_polled"), metersPolled}, {QStringLiteral("readings_stored"), readings},
        {QStringLiteral("charge_intervals"), charges}, {QStringLiteral("poll_cycles_completed"), cycles},
        {QStringLiteral("methods"), methods},
        {QStringLiteral("targets"), QJsonObject{{QStringLiteral("p99_lt_20ms"), p99 < kTargetP99Ms}}}};
    if (!note.isEmpty())
        figures.insert(QStringLiteral("note"), note);
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    return errors == 0 ? 0 : 1;
}
