#include "migrations.h"

#include "api/check.h"
#include "storelog.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QRegularExpression>

namespace prepay::store {

QList<Migration> loadMigrations(const QString &directory)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d{4})_[a-z0-9_]+\\.sql$"));
    QList<Migration> result;
    const QDir dir(directory);
    const QStringList names = dir.entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
    for (const QString &name : names) {
        const QRegularExpressionMatch match = pattern.match(name);
        PREPAY_CHECK(match.hasMatch()); // every .sql directly in sql/ is a migration
        QFile file(dir.filePath(name));
        PREPAY_CHECK(file.open(QIODevice::ReadOnly));
        result.append(Migration{match.captured(1).toInt(), name, QString::fromUtf8(file.readAll())});
    }
    for (qsizetype i = 0; i < result.size(); ++i)
        PREPAY_CHECK(result[i].version == i + 1); // numbered 1, 2, 3, … without gaps
    return result;
}

QList<Migration> builtInMigrations()
{
    return loadMigrations(QStringLiteral(":/sql"));
}

QString migrationOutcomeCode(MigrationOutcome outcome)
{
    switch (outcome) {
    case MigrationOutcome::UpToDate: return QStringLiteral("up_to_date");
    case MigrationOutcome::Migrated: return QStringLiteral("migrated");
    case MigrationOutcome::NewerThanCode: return QStringLiteral("newer_than_code");
    case MigrationOutcome::BackupFailed: return QStringLiteral("backup_failed");
    case MigrationOutcome::Failed: return QStringLiteral("failed");
    case MigrationOutcome::RestoreFailed: return QStringLiteral("restore_failed");
    }
    Q_UNREACHABLE();
}

namespace {

bool hasAnySchema(Connection &db)
{
    SqlError error;
    return db.queryInt(QStringLiteral("SELECT count(*) FROM sqlite_schema"), &error) > 0;
}

} // namespace

MigrationReport migrate(Connection &db, const QList<Migration> &migrations, const QString &stamp)
{
    PREPAY_CHECK(!db.inTransaction());
    MigrationReport report;
    report.codeVersion = migrations.isEmpty() ? 0 : migrations.last().version;

    SqlError error;
    report.fromVersion = int(db.queryInt(QStringLiteral("PRAGMA user_version"), &error));
    report.toVersion = report.fromVersion;
    if (!error.ok()) {
        report.outcome = MigrationOutcome::Failed;
        report.message = QStringLiteral("cannot read the schema version of %1: %2").arg(db.path(), error.toString());
        return report;
    }

    if (report.fromVersion > report.codeVersion) {
        report.outcome = MigrationOutcome::NewerThanCode;
        report.message = QStringLiteral("%1 has schema version %2, but this prepay knows versions up to %3: it was "
                                        "written by a newer prepay. Run that version, or restore a backup made for "
                                        "this one. The file was not changed.")
                             .arg(db.path())
                             .arg(report.fromVersion)
                             .arg(report.codeVersion);
        return report;
    }
    if (report.fromVersion == report.codeVersion) {
        report.outcome = MigrationOutcome::UpToDate;
        report.message = QStringLiteral("schema version %1 is current").arg(report.fromVersion);
        return report;
    }

    // A brand-new, empty file needs no copy; anything else does.
    if (report.fromVersion > 0 || hasAnySchema(db)) {
        report.backupPath = QStringLiteral("%1.v%2-%3.bak").arg(db.path()).arg(report.fromVersion).arg(stamp);
        Statement vacuum = db.prepare(QStringLiteral("VACUUM INTO ?1"));
        vacuum.bind(1, report.backupPath);
        if (const SqlError e = vacuum.run(); !e.ok()) {
            report.outcome = MigrationOutcome::BackupFailed;
            report.message = QStringLiteral("cannot copy %1 to %2 before migrating: %3. Nothing was changed.")
                                 .arg(db.path(), report.backupPath, e.toString());
            return report;
        }
        qCInfo(lcStore, "copied %s to %s before migrating from schema v%d", qUtf8Printable(db.path()),
            qUtf8Printable(report.backupPath), report.fromVersion);
    }

    for (const Migration &m : migrations) {
        if (m.version <= report.fromVersion)
            continue;
        SqlError e = db.exec(QStringLiteral("BEGIN IMMEDIATE"));
        if (e.ok())
            e = db.exec(m.sql);
        if (e.ok() && !db.inTransaction())
            e = SqlError{1, 1, QStringLiteral("the script ended the migration's transaction itself (COMMIT/ROLLBACK)")};
        if (e.ok())
            e = db.exec(QStringLiteral("PRAGMA user_version = %1").arg(m.version));
        if (e.ok())
            e = db.exec(QStringLiteral("COMMIT"));
        if (e.ok()) {
            report.toVersion = m.version;
            qCInfo(lcStore, "applied migration %s", qUtf8Printable(m.name));
            continue;
        }

        if (db.inTransaction())
            db.exec(QStringLiteral("ROLLBACK"));
        report.outcome = MigrationOutcome::Failed;
        report.message = QStringLiteral("migration %1 failed: %2.").arg(m.name, e.toString());
        if (!report.backupPath.isEmpty()) {
            // Earlier steps of this run (or a script that committed by itself) may have
            // changed the file: put the original content back.
            if (const SqlError r = db.restoreFrom(report.backupPath); !r.ok()) {
                report.outcome = MigrationOutcome::RestoreFailed;
                report.message += QStringLiteral(" Restoring the original content also failed (%1); the original "
                                                 "is in %2.")
                                      .arg(r.toString(), report.backupPath);
                return report;
            }
            report.toVersion = report.fromVersion;
        }
        report.message += QStringLiteral(" The database is unchanged at schema version %1.").arg(report.fromVersion);
        if (!report.backupPath.isEmpty())
            report.message += QStringLiteral(" A copy is in %1.").arg(report.backupPath);
        return report;
    }

    report.outcome = MigrationOutcome::Migrated;
    report.message = QStringLiteral("migrated from schema v%1 to v%2").arg(report.fromVersion).arg(report.toVersion);
    return report;
}

} // namespace prepay::store
