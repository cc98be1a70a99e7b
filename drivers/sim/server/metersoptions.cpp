#include "metersoptions.h"

#include "busline.h"
#include "simclock.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QRegularExpression>
#include <QtCore/QTimeZone>

namespace prepay::sim {

int MetersCommandLine::exitCode() const
{
    switch (outcome) {
    case Outcome::Run:
    case Outcome::Help: return 0;
    case Outcome::BadUsage: return 64;
    case Outcome::BadData: return 65;
    case Outcome::NoInput: return 66;
    }
    return 64;
}

std::optional<std::pair<int, int>> parseTurnaroundMs(QStringView text)
{
    const qsizetype dots = text.indexOf(u"..");
    bool okMin = false;
    bool okMax = false;
    const int min = (dots < 0 ? text : text.left(dots)).toInt(&okMin);
    const int max = dots < 0 ? min : text.mid(dots + 2).toInt(&okMax);
    if (!okMin || (dots >= 0 && !okMax))
        return std::nullopt;
    return std::make_pair(min, max);
}

std::optional<qint64> parseStartMs(const QString &text, int utcOffsetMinutes)
{
    QDateTime parsed = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!parsed.isValid()) {
        const QDate date = QDate::fromString(text, Qt::ISODate);
        if (!date.isValid())
            return std::nullopt;
        parsed = QDateTime(date, QTime(0, 0), Qt::LocalTime);
    }
    if (parsed.timeSpec() == Qt::LocalTime) // no zone given: the building's wall clock
        parsed = QDateTime(parsed.date(), parsed.time(), QTimeZone(utcOffsetMinutes * 60));
    return parsed.toMSecsSinceEpoch();
}

MetersCommandLine parseMetersCommandLine(const QString &program, const QStringList &arguments)
{
    MetersCommandLine result;
    SimulationConfig &config = result.config;
    const auto usage = [&result, &program](const QString &message) {
        result.outcome = MetersCommandLine::Outcome::BadUsage;
        result.text = program + QStringLiteral(": ") + message + QStringLiteral(" (see --help)");
        return result;
    };

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Simulates the gateways and meters of a building: one Modbus TCP gateway per gateway of the building "
        "on 127.0.0.1:P+i (unit id → meter, per-bus FIFO with RS-485 wire time), optionally each bus as Modbus "
        "RTU on its own pty, and an HTTP control interface (status, meter truth, faults, time, load) on "
        "127.0.0.1:C. Prints one line per gateway (and per RTU bus), then \"ready\"; runs until SIGTERM or "
        "SIGINT.\n\n"
        "--baud, --bits and --turnaround-ms override every bus of the building file; --baud 0 turns wire-time "
        "emulation off.\n\n"
        "Exit codes: 0 stopped cleanly, 64 bad command line, 65 bad building file (or one that cannot be "
        "simulated), 66 building file unreadable, "
        "69 a port is taken, 71 cannot create a pty."));
    parser.addHelpOption();
    const QCommandLineOption building(QStringLiteral("building"),
        QStringLiteral("The building: a building file (JSON, see drivers/sim/meters/building.h) or \"demo\"."),
        QStringLiteral("FILE|demo"));
    const QCommandLineOption portBase(QStringLiteral("port-base"),
        QStringLiteral("Gateway i listens on 127.0.0.1:P+i (default %1).").arg(SimulationConfig::kPortBaseDefault),
        QStringLiteral("P"));
    const QCommandLineOption rtu(QStringLiteral("rtu"), QStringLiteral("Also serve every bus as Modbus RTU on a pty."));
    const QCommandLineOption rtuLinkDir(QStringLiteral("rtu-link-dir"),
        QStringLiteral("With --rtu: a symlink DIR/<bus name> to each bus's pty."), QStringLiteral("DIR"));
    const QCommandLineOption baud(QStringLiteral("baud"),
        QStringLiteral("Baud rate of every bus; 0 = no wire-time emulation."), QStringLiteral("B"));
    const QCommandLineOption bits(QStringLiteral("bits"),
        QStringLiteral("Bits per character of every bus: 11 (8E1, 8N2) or 10 (8N1)."), QStringLiteral("10|11"));
    const QCommandLineOption turnaround(QStringLiteral("turnaround-ms"),
        QStringLiteral("Meter turnaround of every bus, uniform in MIN..MAX ms."), QStringLiteral("MIN..MAX"));
    const QCommandLineOption timeFactor(QStringLiteral("time-factor"),
        QStringLiteral("Simulated seconds per real second, %1..%2 (default 1).")
            .arg(SimClock::kTimeFactorMin)
            .arg(SimClock::kTimeFactorMax),
        QStringLiteral("F"));
    const QCommandLineOption start(QStringLiteral("start"),
        QStringLiteral("Simulated start time, ISO 8601 (without a zone: the building's local time); default now."),
        QStringLiteral("ISO8601"));
    const QCommandLineOption controlPort(QStringLiteral("control-port"),
        QStringLiteral("Port of the HTTP control interface (default P+%1).").arg(SimulationConfig::kControlPortOffset),
        QStringLiteral("C"));
    const QCommandLineOption seed(QStringLiteral("seed"),
        QStringLiteral("Seed of the load noise and the turnaround jitter (default: the building file's)."),
        QStringLiteral("S"));
    const QCommandLineOption gatewayTimeout(QStringLiteral("gateway-timeout-ms"),
        QStringLiteral("How long a gateway waits for a silent meter or unknown unit (default %1).")
            .arg(SimulationConfig::kGatewayTimeoutDefaultMs),
        QStringLiteral("MS"));
    const QCommandLineOption noAnswer(QStringLiteral("no-answer"),
        QStringLiteral("What a gateway answers for an unknown unit or a silent meter: exception (0x0B, default) or "
                       "silence."),
        QStringLiteral("exception|silence"));
    const QCommandLineOption verbose(QStringLiteral("verbose"), QStringLiteral("Log debug messages too."));
    parser.addOptions({building, portBase, rtu, rtuLinkDir, baud, bits, turnaround, timeFactor, start, controlPort,
        seed, gatewayTimeout, noAnswer, verbose});

    if (!parser.parse(QStringList{program} + arguments))
        return usage(parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        result.outcome = MetersCommandLine::Outcome::Help;
        // Qt names the executable in the usage line; name the command instead.
        result.text = parser.helpText().replace(
            QRegularExpression(QStringLiteral("^Usage: \\S+")), QStringLiteral("Usage: ") + program);
        return result;
    }
    if (!parser.positionalArguments().isEmpty())
        return usage(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    result.verbose = parser.isSet(verbose);

    const auto integer = [&parser](const QCommandLineOption &option, qint64 min, qint64 max, qint64 *out) {
        bool ok = false;
        const qint64 value = parser.value(option).toLongLong(&ok);
        if (!ok || value < min || value > max)
            return false;
        *out = value;
        return true;
    };
    qint64 n = 0;
    if (parser.isSet(portBase)) {
        if (!integer(portBase, 1, 65535, &n))
            return usage(QStringLiteral("--port-base: '%1' is not a port (1..65535)").arg(parser.value(portBase)));
        config.portBase = quint16(n);
    }
    if (parser.isSet(controlPort)) {
        if (!integer(controlPort, 1, 65535, &n))
            return usage(
                QStringLiteral("--control-port: '%1' is not a port (1..65535)").arg(parser.value(controlPort)));
        config.controlPort = quint16(n);
    } else if (int(config.portBase) + SimulationConfig::kControlPortOffset > 65535) {
        return usage(QStringLiteral("--port-base %1 leaves no room for the control port; give --control-port")
                         .arg(config.portBase));
    }
    config.rtu = parser.isSet(rtu);
    if (parser.isSet(rtuLinkDir)) {
        if (!config.rtu)
            return usage(QStringLiteral("--rtu-link-dir needs --rtu"));
        config.rtuLinkDir = parser.value(rtuLinkDir);
    }
    if (parser.isSet(baud)) {
        if (!integer(baud, 0, WireTiming::kBaudMax, &n))
            return usage(QStringLiteral("--baud: '%1' is not 0..%2").arg(parser.value(baud)).arg(WireTiming::kBaudMax));
        config.baud = int(n);
    }
    if (parser.isSet(bits)) {
        if (!integer(bits, 10, 11, &n))
            return usage(QStringLiteral("--bits: '%1' is not 10 or 11").arg(parser.value(bits)));
        config.bitsPerChar = int(n);
    }
    if (parser.isSet(turnaround)) {
        const auto range = parseTurnaroundMs(parser.value(turnaround));
        if (!range || range->first < 0 || range->second < range->first || range->second > WireTiming::kTurnaroundMaxMs)
            return usage(QStringLiteral("--turnaround-ms: '%1' is not MIN..MAX with 0 ≤ MIN ≤ MAX ≤ %2")
                             .arg(parser.value(turnaround))
                             .arg(WireTiming::kTurnaroundMaxMs));
        config.turnaroundMs = range;
    }
    if (parser.isSet(timeFactor)) {
        bool ok = false;
        config.timeFactor = parser.value(timeFactor).toDouble(&ok);
        if (!ok || !SimClock::validTimeFactor(config.timeFactor))
            return usage(QStringLiteral("--time-factor: '%1' is not within %2..%3")
                             .arg(parser.value(timeFactor))
                             .arg(SimClock::kTimeFactorMin)
                             .arg(SimClock::kTimeFactorMax));
    }
    if (parser.isSet(seed)) {
        bool ok = false;
        config.seed = parser.value(seed).toULongLong(&ok);
        if (!ok)
            return usage(QStringLiteral("--seed: '%1' is not an unsigned integer").arg(parser.value(seed)));
    }
    if (parser.isSet(gatewayTimeout)) {
        if (!integer(gatewayTimeout, 0, BusLine::kGatewayTimeoutMaxMs, &n))
            return usage(QStringLiteral("--gateway-timeout-ms: '%1' is not 0..%2")
                             .arg(parser.value(gatewayTimeout))
                             .arg(BusLine::kGatewayTimeoutMaxMs));
        config.gatewayTimeoutMs = int(n);
    }
    if (parser.isSet(noAnswer)) {
        const QString value = parser.value(noAnswer);
        if (value != u"exception" && value != u"silence")
            return usage(QStringLiteral("--no-answer: '%1' is not exception or silence").arg(value));
        config.silentOnNoAnswer = value == u"silence";
    }

    // The building last: its local time is needed to read --start.
    if (!parser.isSet(building))
        return usage(QStringLiteral("--building FILE|demo is required"));
    const QString source = parser.value(building);
    if (source == u"demo") {
        config.building = BuildingSpec::demo();
    } else {
        QFile file(source);
        if (!file.open(QIODevice::ReadOnly)) {
            result.outcome = MetersCommandLine::Outcome::NoInput;
            result.text
                = QStringLiteral("%1: cannot read the building file %2: %3").arg(program, source, file.errorString());
            return result;
        }
        QString error;
        const std::optional<BuildingSpec> parsed = BuildingSpec::parse(file.readAll(), &error);
        if (!parsed) {
            result.outcome = MetersCommandLine::Outcome::BadData;
            result.text = QStringLiteral("%1: %2: %3").arg(program, source, error);
            return result;
        }
        config.building = *parsed;
    }
    if (parser.isSet(start)) {
        const std::optional<qint64> ms = parseStartMs(parser.value(start), config.building.utcOffsetMinutes);
        if (!ms)
            return usage(QStringLiteral("--start: '%1' is not an ISO 8601 date-time").arg(parser.value(start)));
        config.startSimMs = ms;
    }
    return result;
}

} // namespace prepay::sim
