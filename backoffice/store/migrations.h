// Schema migrations: the numbered files of sql/ (NNNN_name.sql), applied in order, each in one
// BEGIN IMMEDIATE transaction that also sets PRAGMA user_version = NNNN (STYLE.md habit 13).
//
// Before the first pending migration runs, a copy of the database is taken next to it
// (VACUUM INTO "<file>.v<from>-<stamp>.bak"). If any migration fails, it is rolled back and
// the database is put back exactly as it was from that copy, so a failed upgrade never leaves
// a half-migrated file behind. A database whose user_version is above the newest migration was
// written by a newer prepay and is refused, untouched.
#pragma once

#include "sqlite.h"

#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::store {

struct Migration
{
    int version = 0; // NNNN of the file name; 1, 2, 3, … without gaps
    QString name;    // file name, for messages
    QString sql;     // the script; no BEGIN/COMMIT, no PRAGMA user_version
};

// The migrations compiled into this build (sql/*.sql as Qt resources), in order.
QList<Migration> builtInMigrations();

// Reads NNNN_name.sql files from a directory (":/sql" for the built-in ones). A gap or a
// duplicate number in the sequence is a programmer error and stops the process.
QList<Migration> loadMigrations(const QString &directory);

enum class MigrationOutcome {
    UpToDate,      // nothing to do
    Migrated,      // every pending migration applied
    NewerThanCode, // user_version above the newest migration: refused, file untouched
    BackupFailed,  // the copy could not be written: nothing applied
    Failed,        // a migration failed: rolled back and the original content restored
    RestoreFailed, // … and putting the original back failed too: use the backup file
};

struct MigrationReport
{
    MigrationOutcome outcome = MigrationOutcome::UpToDate;
    int fromVersion = 0;
    int toVersion = 0;   // the version the database has now
    int codeVersion = 0; // the newest migration this build knows
    QString backupPath;  // the copy taken before migrating (empty if none was needed)
    QString message;     // for people: what happened, and what to do about it

    bool ok() const { return outcome == MigrationOutcome::UpToDate || outcome == MigrationOutcome::Migrated; }
};

QString migrationOutcomeCode(MigrationOutcome outcome);

// Brings the database of `db` (a read-write connection, no transaction open) up to the newest
// of `migrations`. `stamp` makes the backup name unique (the caller passes a wall-clock time).
MigrationReport migrate(Connection &db, const QList<Migration> &migrations, const QString &stamp);

} // namespace prepay::store
