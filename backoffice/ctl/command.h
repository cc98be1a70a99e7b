// prepayctl's commands: each one a small table entry (its words, options, positional
// arguments and a handler), run by one dispatcher that owns --help, --version, usage errors
// and exit codes. The handlers live next to the library they drive (db → store, meter →
// drivers/modbus) and are testable without a process.
#pragma once

#include <QtCore/QCommandLineOption>
#include <QtCore/QCommandLineParser>
#include <QtCore/QStringList>
#include <QtCore/QTextStream>

#include <functional>

namespace prepay::ctl {

inline constexpr int exitUsage = 64; // EX_USAGE

struct Invocation
{
    const QCommandLineParser &parser;
    QStringList positional;
    QTextStream &out;
    QTextStream &err;

    // Prints "prepayctl: <message>" to err and returns `code` (for `return invocation.fail(…)`).
    int fail(int code, const QString &message) const;
};

struct Command
{
    QStringList words;   // {"meter", "read"}
    QString synopsis;    // one line for the overview: "--tcp HOST:PORT --unit N"
    QString description; // what it does, for --help
    QList<QCommandLineOption> options;
    QStringList positional;         // names of required positional arguments
    QStringList optionalPositional; // names of optional ones, after the required
    std::function<int(const Invocation &)> run;
};

// Dispatches `arguments` (argv, program name first) to the matching command and returns the
// process exit code.
int runCommandLine(const QStringList &arguments, const QList<Command> &commands, QTextStream &out, QTextStream &err);

} // namespace prepay::ctl
