// The checks prepayctl runs on a whole database file — `prepayctl verify`, and the copy that
// `backup` writes and `restore` puts in place: SQLite's integrity_check and foreign_key_check,
// the ledger contract (ledger/verify.h) and the audit chain (audit/audit.h). Read only.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::audit {
struct VerifyReport;
}

namespace prepay::store {
class Connection;
}

namespace prepay::ctl {

struct FileCheck
{
    enum class Kind {
        Storage,  // integrity_check, foreign_key_check: the file itself
        Contents, // ledger verify, audit verify: what the business wrote in it
    };

    QString name; // "integrity_check", "foreign_key_check", "ledger verify", "audit verify"
    Kind kind = Kind::Storage;
    bool ok = false;
    bool skipped = false; // not run (then ok is true and summary says why)
    QString summary;      // one line: "ok", "3 violation(s): …", "broken at seq 7: …"

    QString line() const; // "integrity_check    ok"
    QJsonObject toJson() const;
};

// Runs the four checks on `db`. The ledger check needs this prepayctl's schema; for a file at
// `schemaVersion` below it (an older backup) it is skipped with a note.
QList<FileCheck> checkDatabase(store::Connection &db, qint64 schemaVersion);

bool allOk(const QList<FileCheck> &checks);
// Whether every check of `kind` passed.
bool allOk(const QList<FileCheck> &checks, FileCheck::Kind kind);

// One line about an audit chain: "audit chain ok: 12 rows" / "audit chain broken at seq 7: …".
QString auditLine(const audit::VerifyReport &report);

} // namespace prepay::ctl
