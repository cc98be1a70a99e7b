#include "seed.h"

#include "store.h"

#include <QtCore/QDir>
#include <QtCore/QFile>

namespace prepay::store {

namespace {
const QString seedDirectory = QStringLiteral(":/sql/seed");
}

QString seedOutcomeCode(SeedOutcome outcome)
{
    switch (outcome) {
    case SeedOutcome::Applied: return QStringLiteral("applied");
    case SeedOutcome::UnknownSeed: return QStringLiteral("unknown_seed");
    case SeedOutcome::NotEmpty: return QStringLiteral("not_empty");
    case SeedOutcome::Failed: return QStringLiteral("failed");
    }
    Q_UNREACHABLE();
}

QStringList builtInSeeds()
{
    QStringList names = QDir(seedDirectory).entryList({QStringLiteral("*.sql")}, QDir::Files, QDir::Name);
    for (QString &name : names)
        name.chop(4);
    return names;
}

SeedReport applySeed(Store &store, const QString &name)
{
    QFile file(seedDirectory + u'/' + name + QStringLiteral(".sql"));
    if (!builtInSeeds().contains(name) || !file.open(QIODevice::ReadOnly)) {
        return {SeedOutcome::UnknownSeed,
            QStringLiteral("there is no seed named \"%1\" (known: %2)")
                .arg(name, builtInSeeds().join(QStringLiteral(", ")))};
    }
    const QString script = QString::fromUtf8(file.readAll());

    struct Result
    {
        bool notEmpty = false;
    };
    auto written = store
                       .write([&script](Transaction &tx) {
                           Result r;
                           SqlError error;
                           r.notEmpty = tx.db().queryInt(QStringLiteral("SELECT count(*) FROM buildings"), &error) > 0;
                           if (!error.ok())
                               tx.fail(error);
                           else if (r.notEmpty)
                               tx.rollback(QStringLiteral("the database already has buildings"));
                           else if (const SqlError e = tx.db().exec(script); !e.ok())
                               tx.fail(e);
                           return r;
                       })
                       .get();
    if (written.committed())
        return {SeedOutcome::Applied, QStringLiteral("applied seed \"%1\"").arg(name)};
    if (written.value.notEmpty) {
        return {SeedOutcome::NotEmpty,
            QStringLiteral("%1 already has buildings; a seed only goes into an empty database").arg(store.path())};
    }
    return {SeedOutcome::Failed,
        QStringLiteral("seed \"%1\" failed: %2; nothing was kept")
            .arg(name, written.error.ok() ? written.reason : written.error.toString())};
}

} // namespace prepay::store
