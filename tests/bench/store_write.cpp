// bench: write transactions through the store's one writer (WAL, synchronous=FULL)
//
// Measures what one business event costs on this machine's disk: one submitter waiting for
// each commit (latency), and 8 submitters queueing at once (throughput). Prints one JSON
// object on the last line. Options: --transactions N (per phase, default 20000).
#include "api/clock.h"
#include "store/store.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <thread>

using namespace prepay::store;

namespace {

const char schema[] = "CREATE TABLE events (id INTEGER PRIMARY KEY, submitter INTEGER NOT NULL, "
                      "seq INTEGER NOT NULL, amount_fen INTEGER NOT NULL, UNIQUE (submitter, seq)) STRICT;";

auto insertJob(int submitter, int seq)
{
    return [submitter, seq](Transaction &tx) {
        Statement s = tx.prepare(QStringLiteral("INSERT INTO events (submitter, seq, amount_fen) VALUES (?1, ?2, ?3)"));
        s.bind(1, submitter).bind(2, seq).bind(3, qint64(seq) * 100);
        if (const SqlError e = s.run(); !e.ok())
            tx.fail(e);
    };
}

double percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    const size_t index = std::min(values.size() - 1, size_t(p * double(values.size())));
    return values[index];
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption countOption(QStringLiteral("transactions"), QStringLiteral("Transactions per phase."),
        QStringLiteral("N"), QStringLiteral("20000"));
    parser.addOption(countOption);
    parser.process(app);
    const int count = std::max(100, parser.value(countOption).toInt());
    constexpr int submitters = 8;

    QTemporaryDir dir;
    prepay::SystemClock clock;
    StoreOptions options;
    options.migrations = {Migration{1, QStringLiteral("0001_bench.sql"), QString::fromLatin1(schema)}};
    OpenResult opened = Store::open(dir.filePath(QStringLiteral("bench.db")), clock, options);
    if (!opened.store) {
        std::fprintf(stderr, "cannot open the store: %s\n", qPrintable(opened.message));
        return 1;
    }
    Store &store = *opened.store;
    int failures = 0;

    // Phase 1: one submitter, each write waited for (a payment notify, a recharge).
    std::vector<double> latencies;
    latencies.reserve(size_t(count));
    QElapsedTimer total;
    total.start();
    for (int i = 0; i < count; ++i) {
        QElapsedTimer one;
        one.start();
        if (!store.write(insertJob(0, i)).get().committed())
            ++failures;
        latencies.push_back(double(one.nsecsElapsed()) / 1e6);
    }
    const double sequentialSeconds = double(total.nsecsElapsed()) / 1e9;
    std::fprintf(stderr, "sequential: %d commits in %.2f s\n", count, sequentialSeconds);

    // Phase 2: 8 submitters queueing at once (a poll cycle's batches plus kiosk top-ups).
    total.restart();
    std::vector<std::thread> threads;
    std::atomic<int> concurrentFailures{0};
    for (int t = 1; t <= submitters; ++t) {
        threads.emplace_back([&store, &concurrentFailures, t, count] {
            std::vector<std::future<Written<std::monostate>>> futures;
            for (int i = 0; i < count / submitters; ++i)
                futures.push_back(store.write(insertJob(t, i)));
            for (auto &f : futures) {
                if (!f.get().committed())
                    ++concurrentFailures;
            }
        });
    }
    for (auto &th : threads)
        th.join();
    const double concurrentSeconds = double(total.nsecsElapsed()) / 1e9;
    const int concurrentCount = (count / submitters) * submitters;
    std::fprintf(stderr, "concurrent: %d commits from %d submitters in %.2f s\n", concurrentCount, submitters,
        concurrentSeconds);
    failures += concurrentFailures;

    const auto round2 = [](double v) { return double(qRound64(v * 100)) / 100; };
    const auto round4 = [](double v) { return double(qRound64(v * 10000)) / 10000; };
    const QJsonObject figures{
        {QStringLiteral("bench"), QStringLiteral("store_write")},
        {QStringLiteral("journal_mode"), QStringLiteral("wal")},
        {QStringLiteral("synchronous"), QStringLiteral("full")},
        {QStringLiteral("sequential_transactions"), count},
        {QStringLiteral("sequential_tx_per_s"), round2(count / sequentialSeconds)},
        {QStringLiteral("sequential_p50_ms"), round4(percentile(latencies, 0.50))},
        {QStringLiteral("sequential_p99_ms"), round4(percentile(latencies, 0.99))},
        {QStringLiteral("sequential_max_ms"), round4(*std::max_element(latencies.begin(), latencies.end()))},
        {QStringLiteral("concurrent_submitters"), submitters},
        {QStringLiteral("concurrent_transactions"), concurrentCount},
        {QStringLiteral("concurrent_tx_per_s"), round2(concurrentCount / concurrentSeconds)},
        {QStringLiteral("failures"), failures},
    };
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    return failures == 0 ? 0 : 1;
}
