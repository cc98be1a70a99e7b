#include "command.h"

#include "api/process.h"

namespace prepay::ctl {

int Invocation::fail(int code, const QString &message) const
{
    err << "prepayctl: " << message << '\n';
    err.flush();
    return code;
}

namespace {

void printOverview(QTextStream &stream, const QList<Command> &commands)
{
    stream << "Usage: prepayctl COMMAND [options]\n\nCommands:\n";
    for (const Command &c : commands) {
        QString line = c.words.join(u' ');
        for (const QString &p : c.positional)
            line += u' ' + p;
        for (const QString &p : c.optionalPositional)
            line += QStringLiteral(" [%1]").arg(p);
        stream << "  " << line.leftJustified(26) << ' ' << c.synopsis << '\n';
    }
    stream << "\nRun 'prepayctl COMMAND --help' for a command's options; --version prints the version.\n";
}

} // namespace

int runCommandLine(const QStringList &arguments, const QList<Command> &commands, QTextStream &out, QTextStream &err)
{
    const QString first = arguments.value(1);
    if (arguments.size() < 2 || first == u"--help" || first == u"-h" || first == u"help") {
        printOverview(out, commands);
        return arguments.size() < 2 ? exitUsage : 0;
    }
    if (first == u"--version" || first == u"-v") {
        out << prepay::versionLine(QStringLiteral("prepayctl")) << '\n';
        return 0;
    }

    for (const Command &command : commands) {
        if (arguments.mid(1, command.words.size()) != command.words)
            continue;
        const QString name = QStringLiteral("prepayctl ") + command.words.join(u' ');
        QCommandLineParser parser;
        parser.setApplicationDescription(command.description);
        parser.addOptions(command.options);
        const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
        parser.addOption(help);
        for (const QString &p : command.positional)
            parser.addPositionalArgument(p, p);
        for (const QString &p : command.optionalPositional)
            parser.addPositionalArgument(p, p, QStringLiteral("[%1]").arg(p));
        QStringList own = {name};
        own += arguments.mid(1 + command.words.size());
        if (!parser.parse(own)) {
            err << name << ": " << parser.errorText() << " (see --help)\n";
            return exitUsage;
        }
        if (parser.isSet(help)) {
            // QCommandLineParser names the program after argv[0]; say the whole command.
            QString text = parser.helpText();
            const qsizetype endOfFirstLine = text.indexOf(u'\n');
            const qsizetype afterProgram = text.indexOf(u' ', 7);
            if (afterProgram > 0 && afterProgram < endOfFirstLine)
                text.replace(0, afterProgram, QStringLiteral("Usage: ") + name);
            out << text;
            return 0;
        }
        const QStringList positional = parser.positionalArguments();
        const qsizetype required = command.positional.size();
        const qsizetype most = required + command.optionalPositional.size();
        if (positional.size() < required || positional.size() > most) {
            QStringList expected = command.positional;
            for (const QString &p : command.optionalPositional)
                expected << QStringLiteral("[%1]").arg(p);
            err << name << ": expected " << (expected.isEmpty() ? QStringLiteral("no arguments") : expected.join(u' '))
                << ", got " << (positional.isEmpty() ? QStringLiteral("none") : positional.join(u' ')) << '\n';
            return exitUsage;
        }
        const Invocation invocation{parser, positional, out, err};
        return command.run(invocation);
    }
    err << "prepayctl: unknown command '" << arguments.mid(1).join(u' ') << "'\n\n";
    printOverview(err, commands);
    return exitUsage;
}

} // namespace prepay::ctl
