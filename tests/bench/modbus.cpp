// bench: Modbus round trips through ModbusClient against a raw libmodbus loop (prepay-sim, loopback, no wire time)
//
// Starts prepay-sim with the demo building and no wire-time emulation, then reads Block B
// (48 registers) of one meter over and over: with a bare libmodbus loop, with the wrapper
// (ModbusClient::readRegisters), and decoded (MeterProfile::readSnapshot). The phases are
// interleaved in rounds so that drift of the machine hits them alike; each figure is the best
// round. The wrapper must keep ≥ 0.9 of the raw loop. Options: --reads N (per phase and round,
// default 5000), --rounds R (default 5).
#include "api/clock.h"
#include "freeports.h"
#include "modbus/profile.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>

#include <modbus/modbus.h>

#include <algorithm>
#include <cstdio>

using namespace prepay;
using namespace prepay::modbus;

namespace {

constexpr quint8 kUnit = 1;

double perSecond(int n, qint64 ns)
{
    return ns > 0 ? double(n) * 1e9 / double(ns) : 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption readsOption(QStringLiteral("reads"), QStringLiteral("Reads per phase and round."),
        QStringLiteral("N"), QStringLiteral("5000"));
    const QCommandLineOption roundsOption(
        QStringLiteral("rounds"), QStringLiteral("Rounds."), QStringLiteral("R"), QStringLiteral("5"));
    parser.addOptions({readsOption, roundsOption});
    parser.process(app);
    const int reads = std::max(10, parser.value(readsOption).toInt());
    const int rounds = std::max(1, parser.value(roundsOption).toInt());

    const quint16 base = test::freeSimulatorPortBase(20000, 20000);
    QProcess sim;
    sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    const QString simPath = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../prepay-sim"));
    sim.start(simPath,
        {QStringLiteral("meters"), QStringLiteral("--building"), QStringLiteral("demo"), QStringLiteral("--port-base"),
            QString::number(base), QStringLiteral("--baud"), QStringLiteral("0")});
    QByteArray banner;
    while (!banner.contains("ready") && sim.waitForReadyRead(30'000))
        banner += sim.readAllStandardOutput();
    if (!banner.contains("ready")) {
        std::fprintf(stderr, "prepay-sim (%s) did not come up: %s\n", qPrintable(simPath), banner.constData());
        return 1;
    }
    const auto stopSim = qScopeGuard([&sim] {
        sim.terminate();
        sim.waitForFinished(10'000);
    });

    int failures = 0;
    qint64 bestRawNs = std::numeric_limits<qint64>::max();
    qint64 bestWrapperNs = bestRawNs;
    qint64 bestSnapshotNs = bestRawNs;

    // The bare loop: what libmodbus alone costs.
    modbus_t *raw = modbus_new_tcp("127.0.0.1", base);
    modbus_set_response_timeout(raw, 1, 0);
    if (modbus_connect(raw) == -1) {
        std::fprintf(stderr, "raw libmodbus cannot connect to 127.0.0.1:%u\n", base);
        return 1;
    }
    modbus_set_slave(raw, kUnit);

    SystemClock clock;
    Endpoint endpoint;
    endpoint.port = base;
    endpoint.baud = 0;
    ModbusClient client(endpoint, BusTiming::forEndpoint(endpoint), clock);
    const MeterProfile *profile = profileNamed(u"prepay-v1");

    for (int round = 0; round < rounds; ++round) {
        uint16_t regs[meter::v1::kBlockBCount];
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < reads; ++i) {
            if (modbus_read_registers(raw, meter::v1::addr::BlockB, meter::v1::kBlockBCount, regs)
                != meter::v1::kBlockBCount)
                ++failures;
        }
        const qint64 rawNs = t.nsecsElapsed();
        bestRawNs = std::min(bestRawNs, rawNs);

        t.restart();
        for (int i = 0; i < reads; ++i) {
            if (!client.readRegisters(kUnit, meter::v1::addr::BlockB, meter::v1::kBlockBCount).ok())
                ++failures;
        }
        const qint64 wrapperNs = t.nsecsElapsed();
        bestWrapperNs = std::min(bestWrapperNs, wrapperNs);

        t.restart();
        for (int i = 0; i < reads; ++i) {
            if (!profile->readSnapshot(client, kUnit).ok())
                ++failures;
        }
        const qint64 snapshotNs = t.nsecsElapsed();
        bestSnapshotNs = std::min(bestSnapshotNs, snapshotNs);
        std::fprintf(stderr, "round %d: raw %.0f/s, wrapper %.0f/s, snapshot %.0f/s\n", round + 1,
            perSecond(reads, rawNs), perSecond(reads, wrapperNs), perSecond(reads, snapshotNs));
    }
    modbus_close(raw);
    modbus_free(raw);

    const double rawRate = perSecond(reads, bestRawNs);
    const double wrapperRate = perSecond(reads, bestWrapperNs);
    const auto round2 = [](double v) { return double(qRound64(v * 100)) / 100; };
    const QJsonObject figures{
        {QStringLiteral("bench"), QStringLiteral("modbus")},
        {QStringLiteral("registers_per_read"), meter::v1::kBlockBCount},
        {QStringLiteral("reads_per_round"), reads},
        {QStringLiteral("rounds"), rounds},
        {QStringLiteral("round_trips_per_s"), round2(wrapperRate)},
        {QStringLiteral("raw_libmodbus_round_trips_per_s"), round2(rawRate)},
        {QStringLiteral("ratio"), double(qRound64((rawRate > 0 ? wrapperRate / rawRate : 0) * 1000)) / 1000},
        {QStringLiteral("decoded_snapshots_per_s"), round2(perSecond(reads, bestSnapshotNs))},
        {QStringLiteral("failures"), failures},
    };
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    return failures == 0 ? 0 : 1;
}
