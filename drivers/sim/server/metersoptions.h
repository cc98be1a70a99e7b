// The command line of "prepay-sim meters", parsed and checked into a SimulationConfig, so the
// executable only composes. Every bad option is reported with the option's name; the exit codes
// follow sysexits.h like the other prepay tools.
#pragma once

#include "simulation.h"

#include <QtCore/QString>
#include <QtCore/QStringList>

namespace prepay::sim {

struct MetersCommandLine
{
    enum class Outcome {
        Run,      // config is complete
        Help,     // print `text` on stdout, exit 0
        BadUsage, // exit 64: a missing or bad option
        BadData,  // exit 65: the building file is not a valid building
        NoInput,  // exit 66: the building file cannot be read
    };
    Outcome outcome = Outcome::Run;
    QString text; // help, or what is wrong
    SimulationConfig config;
    bool verbose = false;

    int exitCode() const;
};

// `arguments` are what follows "prepay-sim meters"; `program` names the command in messages.
MetersCommandLine parseMetersCommandLine(const QString &program, const QStringList &arguments);

// "10..30" or "20" (min = max), in ms; nullopt if malformed.
std::optional<std::pair<int, int>> parseTurnaroundMs(QStringView text);
// ISO 8601 date-time; without a zone it is the building's local time (utcOffsetMinutes).
std::optional<qint64> parseStartMs(const QString &text, int utcOffsetMinutes);

} // namespace prepay::sim
