#include "readonlydb.h"

#include "store/migrations.h"

#include <QtCore/QFileInfo>

namespace prepay::ctl {

std::unique_ptr<store::Connection> openReadOnlyDatabase(
    const Invocation &in, const QCommandLineOption &dbOption, int *rc)
{
    const QString path = in.parser.value(dbOption);
    if (path.isEmpty()) {
        *rc = in.fail(exitUsage, QStringLiteral("--db FILE is required"));
        return nullptr;
    }
    if (!QFileInfo::exists(path)) {
        *rc = in.fail(66, path + QStringLiteral(" does not exist"));
        return nullptr;
    }
    store::SqlError error;
    auto db = store::Connection::open(path, store::Connection::Mode::ReadOnly, 5000, &error);
    if (!db) {
        *rc = in.fail(66, error.message);
        return nullptr;
    }
    const qint64 version = db->queryInt(QStringLiteral("PRAGMA user_version"), &error);
    const int known = int(store::builtInMigrations().size());
    if (version != known) {
        *rc = in.fail(65,
            QStringLiteral("%1 is at schema v%2; this prepayctl reads v%3 (prepayctl db migrate, or start prepayd)")
                .arg(path)
                .arg(version)
                .arg(known));
        return nullptr;
    }
    return db;
}

} // namespace prepay::ctl
