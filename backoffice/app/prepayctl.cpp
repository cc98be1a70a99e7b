// prepayctl — the command line for administrators, scripts and benchmarks. Composition root
// only: each command parses its arguments and calls into a library.
#include "api/clock.h"
#include "api/logging.h"
#include "api/process.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFileInfo>
#include <QtCore/QTextStream>

#include <functional>

namespace {

constexpr int exitUsage = 64;

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream &err()
{
    static QTextStream stream(stderr);
    return stream;
}

const char overview[] = "Usage: prepayctl COMMAND [options]\n"
                        "\n"
                        "Commands:\n"
                        "  db status  --db FILE       schema version of FILE and what it holds (changes nothing)\n"
                        "  db migrate --db FILE       create FILE or bring it to the newest schema (copy taken first)\n"
                        "  db seed NAME --db FILE     fill an empty, migrated FILE with seed data (NAME: %1)\n"
                        "\n"
                        "Run 'prepayctl COMMAND --help' for a command's options; --version prints the version.\n";

struct Command
{
    QStringList words;
    QString synopsis;
    QStringList positional; // names of required positional arguments
    std::function<int(const QCommandLineParser &, const QStringList &args)> run;
};

QString requireDb(const QCommandLineParser &parser)
{
    QString db = parser.value(QStringLiteral("db"));
    if (db.isEmpty())
        err() << "prepayctl: --db FILE is required\n";
    return db;
}

int dbStatus(const QCommandLineParser &parser, const QStringList &)
{
    const QString path = requireDb(parser);
    if (path.isEmpty())
        return exitUsage;
    if (!QFileInfo::exists(path)) {
        err() << "prepayctl: " << path << " does not exist\n";
        return 66;
    }
    prepay::store::SqlError error;
    const auto db = prepay::store::Connection::open(path, prepay::store::Connection::Mode::ReadOnly, 5000, &error);
    if (!db) {
        err() << "prepayctl: " << error.message << '\n';
        return 66;
    }
    const qint64 version = db->queryInt(QStringLiteral("PRAGMA user_version"), &error);
    const int codeVersion = int(prepay::store::builtInMigrations().size());
    out() << "database:        " << QFileInfo(path).absoluteFilePath() << '\n'
          << "schema version:  " << version << " (this prepayctl knows up to " << codeVersion << ")\n";
    if (version > codeVersion) {
        out() << "state:           newer than this prepayctl; use a newer one\n";
        return 65;
    }
    if (version < codeVersion) {
        out() << "state:           needs migrating (prepayctl db migrate, or start prepayd)\n";
        return 0;
    }
    out() << "state:           up to date\n";
    static const char *const tables[] = {"buildings", "gateways", "buses", "meters", "metering_points", "accounts",
        "tariffs", "readings", "ledger_entries", "operators", "kiosks"};
    for (const char *table : tables) {
        const qint64 n = db->queryInt(QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1StringView(table)), &error);
        out() << QStringLiteral("%1 %2\n").arg(QLatin1StringView(table) + u':', -16).arg(n);
    }
    return 0;
}

int openForWrite(const QString &path, std::unique_ptr<prepay::store::Store> *store)
{
    prepay::SystemClock clock;
    prepay::store::OpenResult opened = prepay::store::Store::open(path, clock);
    if (!opened.store) {
        err() << "prepayctl: " << opened.message << '\n';
        return prepay::store::exitCodeFor(opened.outcome);
    }
    out() << opened.message << '\n';
    if (!opened.migration.backupPath.isEmpty())
        out() << "copy of the database before migrating: " << opened.migration.backupPath << '\n';
    *store = std::move(opened.store);
    return 0;
}

int dbMigrate(const QCommandLineParser &parser, const QStringList &)
{
    const QString path = requireDb(parser);
    if (path.isEmpty())
        return exitUsage;
    std::unique_ptr<prepay::store::Store> store;
    return openForWrite(path, &store);
}

int dbSeed(const QCommandLineParser &parser, const QStringList &args)
{
    const QString path = requireDb(parser);
    if (path.isEmpty())
        return exitUsage;
    std::unique_ptr<prepay::store::Store> store;
    if (const int rc = openForWrite(path, &store); rc != 0)
        return rc;
    const prepay::store::SeedReport report = prepay::store::applySeed(*store, args.at(0));
    if (report.outcome != prepay::store::SeedOutcome::Applied) {
        err() << "prepayctl: " << report.message << '\n';
        return report.outcome == prepay::store::SeedOutcome::Failed ? 70 : 65;
    }
    out() << report.message << '\n';
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("prepayctl"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());
    prepay::installLogging(prepay::LogVerbosity::Quiet);

    const QString seeds = prepay::store::builtInSeeds().join(QStringLiteral(", "));
    const QList<Command> commands = {
        {{QStringLiteral("db"), QStringLiteral("status")},
            QStringLiteral("Show the schema version of a database and what it holds."), {}, dbStatus},
        {{QStringLiteral("db"), QStringLiteral("migrate")},
            QStringLiteral("Create a database or migrate it to the newest schema."), {}, dbMigrate},
        {{QStringLiteral("db"), QStringLiteral("seed")},
            QStringLiteral("Fill an empty database with seed data (%1).").arg(seeds), {QStringLiteral("NAME")}, dbSeed},
    };

    const QStringList arguments = app.arguments();
    const auto printOverview = [&](QTextStream &stream) { stream << QString::fromUtf8(overview).arg(seeds); };
    if (arguments.size() < 2 || arguments.at(1) == u"--help" || arguments.at(1) == u"-h"
        || arguments.at(1) == u"help") {
        printOverview(out());
        return arguments.size() < 2 ? exitUsage : 0;
    }
    if (arguments.at(1) == u"--version" || arguments.at(1) == u"-v") {
        out() << prepay::versionLine(app.applicationName()) << '\n';
        return 0;
    }

    for (const Command &command : commands) {
        if (arguments.mid(1, command.words.size()) != command.words)
            continue;
        QCommandLineParser parser;
        parser.setApplicationDescription(command.synopsis);
        parser.addHelpOption();
        parser.addOption({QStringLiteral("db"), QStringLiteral("The database file."), QStringLiteral("FILE")});
        for (const QString &name : command.positional)
            parser.addPositionalArgument(name, name);
        QStringList own = {arguments.at(0) + u' ' + command.words.join(u' ')};
        own += arguments.mid(1 + command.words.size());
        parser.process(own);
        const QStringList positional = parser.positionalArguments();
        if (positional.size() != command.positional.size()) {
            err() << "prepayctl " << command.words.join(u' ') << ": expected "
                  << (command.positional.isEmpty() ? QStringLiteral("no arguments") : command.positional.join(u' '))
                  << ", got " << (positional.isEmpty() ? QStringLiteral("none") : positional.join(u' ')) << '\n';
            return exitUsage;
        }
        return command.run(parser, positional);
    }
    err() << "prepayctl: unknown command '" << arguments.mid(1).join(u' ') << "'\n\n";
    printOverview(err());
    return exitUsage;
}
