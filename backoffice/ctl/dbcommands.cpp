#include "dbcommands.h"

#include "api/clock.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QFileInfo>

namespace prepay::ctl {

namespace {

const QCommandLineOption dbOption(QStringLiteral("db"), QStringLiteral("The database file."), QStringLiteral("FILE"));

QString requireDb(const Invocation &in)
{
    const QString db = in.parser.value(dbOption);
    if (db.isEmpty())
        in.fail(exitUsage, QStringLiteral("--db FILE is required"));
    return db;
}

int dbStatus(const Invocation &in)
{
    const QString path = requireDb(in);
    if (path.isEmpty())
        return exitUsage;
    if (!QFileInfo::exists(path))
        return in.fail(66, path + QStringLiteral(" does not exist"));
    store::SqlError error;
    const auto db = store::Connection::open(path, store::Connection::Mode::ReadOnly, 5000, &error);
    if (!db)
        return in.fail(66, error.message);
    const qint64 version = db->queryInt(QStringLiteral("PRAGMA user_version"), &error);
    const int codeVersion = int(store::builtInMigrations().size());
    in.out << "database:        " << QFileInfo(path).absoluteFilePath() << '\n'
           << "schema version:  " << version << " (this prepayctl knows up to " << codeVersion << ")\n";
    if (version > codeVersion) {
        in.out << "state:           newer than this prepayctl; use a newer one\n";
        return 65;
    }
    if (version < codeVersion) {
        in.out << "state:           needs migrating (prepayctl db migrate, or start prepayd)\n";
        return 0;
    }
    in.out << "state:           up to date\n";
    static const char *const tables[] = {"buildings", "gateways", "buses", "meters", "metering_points", "accounts",
        "tariffs", "readings", "ledger_entries", "operators", "kiosks"};
    for (const char *table : tables) {
        const qint64 n = db->queryInt(QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1StringView(table)), &error);
        in.out << QStringLiteral("%1 %2\n").arg(QLatin1StringView(table) + u':', -16).arg(n);
    }
    return 0;
}

int openForWrite(const Invocation &in, const QString &path, std::unique_ptr<store::Store> *opened)
{
    SystemClock clock;
    store::OpenResult result = store::Store::open(path, clock);
    if (!result.store)
        return in.fail(store::exitCodeFor(result.outcome), result.message);
    in.out << result.message << '\n';
    if (!result.migration.backupPath.isEmpty())
        in.out << "copy of the database before migrating: " << result.migration.backupPath << '\n';
    *opened = std::move(result.store);
    return 0;
}

int dbMigrate(const Invocation &in)
{
    const QString path = requireDb(in);
    if (path.isEmpty())
        return exitUsage;
    std::unique_ptr<store::Store> opened;
    return openForWrite(in, path, &opened);
}

int dbSeed(const Invocation &in)
{
    const QString path = requireDb(in);
    if (path.isEmpty())
        return exitUsage;
    std::unique_ptr<store::Store> opened;
    if (const int rc = openForWrite(in, path, &opened); rc != 0)
        return rc;
    const store::SeedReport report = store::applySeed(*opened, in.positional.at(0));
    if (report.outcome != store::SeedOutcome::Applied)
        return in.fail(report.outcome == store::SeedOutcome::Failed ? 70 : 65, report.message);
    in.out << report.message << '\n';
    return 0;
}

} // namespace

QList<Command> dbCommands()
{
    const QString seeds = store::builtInSeeds().join(QStringLiteral(", "));
    return {
        {{QStringLiteral("db"), QStringLiteral("status")},
            QStringLiteral("--db FILE   schema version and contents (changes nothing)"),
            QStringLiteral("Show the schema version of a database and what it holds. Changes nothing.\n"
                           "Exit codes: 0 ok, 65 newer than this prepayctl, 66 cannot open."),
            {dbOption}, {}, {}, dbStatus},
        {{QStringLiteral("db"), QStringLiteral("migrate")},
            QStringLiteral("--db FILE   create, or migrate to the newest schema"),
            QStringLiteral("Create a database or migrate it to the newest schema (a copy is taken first).\n"
                           "Exit codes: 0 ok, 65 newer than this prepayctl, 66 cannot open, 70 migration failed "
                           "(database restored), 73 cannot copy it, 74 cannot configure it."),
            {dbOption}, {}, {}, dbMigrate},
        {{QStringLiteral("db"), QStringLiteral("seed")},
            QStringLiteral("--db FILE   fill an empty database (NAME: %1)").arg(seeds),
            QStringLiteral("Fill an empty, migrated database with seed data (%1).\n"
                           "Exit codes: 0 ok, 65 not empty or unknown seed, 70 the seed failed (nothing kept).")
                .arg(seeds),
            {dbOption}, {QStringLiteral("NAME")}, {}, dbSeed},
    };
}

} // namespace prepay::ctl
