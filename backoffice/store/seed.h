// Seed data: named SQL scripts in sql/seed/ (compiled in as :/sql/seed/NAME.sql) that fill a
// freshly migrated, empty database with a building — "demo" is the reference building the
// simulator plays (DESIGN.md §7). A seed runs as one write job, so it lands whole or not at all.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

namespace prepay::store {

class Store;

enum class SeedOutcome {
    Applied,
    UnknownSeed, // no sql/seed/NAME.sql in this build
    NotEmpty,    // the database already has buildings: a seed never merges into live data
    Failed,      // SQLite refused the script; nothing was kept
};

struct SeedReport
{
    SeedOutcome outcome = SeedOutcome::Failed;
    QString message;
};

QString seedOutcomeCode(SeedOutcome outcome);
QStringList builtInSeeds();
SeedReport applySeed(Store &store, const QString &name);

} // namespace prepay::store
