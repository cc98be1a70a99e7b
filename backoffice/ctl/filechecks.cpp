#include "filechecks.h"

#include "audit/audit.h"
#include "ledger/verify.h"
#include "store/migrations.h"
#include "store/sqlite.h"

#include <algorithm>

namespace prepay::ctl {

namespace {

// integrity_check lists at most this many problems; one is enough to refuse a file.
constexpr int kIntegrityProblemsMax = 10;
constexpr int kForeignKeyProblemsShown = 5;

FileCheck integrityCheck(store::Connection &db)
{
    FileCheck c{QStringLiteral("integrity_check"), FileCheck::Kind::Storage, false, false, {}};
    store::Statement s = db.prepare(QStringLiteral("PRAGMA integrity_check(%1)").arg(kIntegrityProblemsMax));
    QStringList problems;
    store::Statement::Step step = s.step();
    for (; step == store::Statement::Step::Row; step = s.step())
        problems.append(s.text(0));
    if (step == store::Statement::Step::Error) {
        c.summary = QStringLiteral("cannot run: %1").arg(s.error().toString());
        return c;
    }
    c.ok = problems == QStringList{QStringLiteral("ok")};
    c.summary = c.ok ? QStringLiteral("ok") : problems.join(QStringLiteral("; "));
    return c;
}

FileCheck foreignKeyCheck(store::Connection &db)
{
    FileCheck c{QStringLiteral("foreign_key_check"), FileCheck::Kind::Storage, false, false, {}};
    store::Statement s = db.prepare(QStringLiteral("PRAGMA foreign_key_check"));
    QStringList shown;
    qint64 count = 0;
    store::Statement::Step step = s.step();
    for (; step == store::Statement::Step::Row; step = s.step()) {
        if (++count <= kForeignKeyProblemsShown) {
            shown.append(QStringLiteral("%1 row %2 → %3")
                             .arg(s.text(0), s.isNull(1) ? QStringLiteral("?") : QString::number(s.int64(1)), s.text(2)));
        }
    }
    if (step == store::Statement::Step::Error) {
        c.summary = QStringLiteral("cannot run: %1").arg(s.error().toString());
        return c;
    }
    c.ok = count == 0;
    c.summary = c.ok ? QStringLiteral("ok")
                     : QStringLiteral("%1 row(s) point at nothing: %2%3")
                           .arg(count)
                           .arg(shown.join(QStringLiteral(", ")), count > shown.size() ? QStringLiteral(", …") : QString());
    return c;
}

FileCheck ledgerCheck(store::Connection &db, qint64 schemaVersion)
{
    FileCheck c{QStringLiteral("ledger verify"), FileCheck::Kind::Contents, false, false, {}};
    const qint64 known = store::builtInMigrations().size();
    if (schemaVersion != known) {
        c.ok = true;
        c.skipped = true;
        c.summary = QStringLiteral("skipped: schema v%1, this prepayctl checks v%2 (prepayd migrates it on start; "
                                   "then run prepayctl verify)")
                        .arg(schemaVersion)
                        .arg(known);
        return c;
    }
    const ledger::VerifyReport r = ledger::verifyLedger(db, 5);
    c.ok = r.ok();
    if (!r.error.isEmpty()) {
        c.summary = QStringLiteral("could not finish: %1").arg(r.error);
    } else if (r.ok()) {
        c.summary = QStringLiteral("ok: %1 entries, %2 postings, %3 accounts, %4 charge intervals")
                        .arg(r.entries)
                        .arg(r.postings)
                        .arg(r.accounts)
                        .arg(r.chargeIntervals);
    } else {
        const ledger::Violation &first = r.violations.constFirst();
        c.summary = QStringLiteral("%1 violation(s), first %2: %3 (prepayctl ledger verify lists them)")
                        .arg(r.violations.size())
                        .arg(first.code, first.message);
    }
    return c;
}

FileCheck auditCheck(store::Connection &db)
{
    const audit::VerifyReport r = audit::verify(db);
    FileCheck c{QStringLiteral("audit verify"), FileCheck::Kind::Contents, r.ok, false, {}};
    if (r.ok)
        c.summary = QStringLiteral("ok: %1 rows").arg(r.rowsChecked);
    else if (r.firstBrokenSeq)
        c.summary = QStringLiteral("broken at seq %1: %2").arg(*r.firstBrokenSeq).arg(r.problem);
    else
        c.summary = QStringLiteral("could not finish: %1").arg(r.problem);
    return c;
}

} // namespace

QString FileCheck::line() const
{
    return QStringLiteral("%1 %2").arg(name + u':', -19).arg(summary);
}

QJsonObject FileCheck::toJson() const
{
    QJsonObject o{{QStringLiteral("check"), name}, {QStringLiteral("ok"), ok}, {QStringLiteral("summary"), summary}};
    if (skipped)
        o.insert(QStringLiteral("skipped"), true);
    return o;
}

QList<FileCheck> checkDatabase(store::Connection &db, qint64 schemaVersion)
{
    QList<FileCheck> checks{integrityCheck(db), foreignKeyCheck(db)};
    // The business checks read through the b-trees integrity_check just found broken; their
    // findings would be noise, or worse, a crash of SQLite's reading on a bad page.
    if (!checks.at(0).ok) {
        for (const QString &name : {QStringLiteral("ledger verify"), QStringLiteral("audit verify")}) {
            checks.append(FileCheck{name, FileCheck::Kind::Contents, false, false,
                QStringLiteral("not run: the file is damaged (integrity_check)")});
        }
        return checks;
    }
    checks.append(ledgerCheck(db, schemaVersion));
    checks.append(auditCheck(db));
    return checks;
}

bool allOk(const QList<FileCheck> &checks)
{
    return std::all_of(checks.cbegin(), checks.cend(), [](const FileCheck &c) { return c.ok; });
}

bool allOk(const QList<FileCheck> &checks, FileCheck::Kind kind)
{
    return std::all_of(checks.cbegin(), checks.cend(), [kind](const FileCheck &c) { return c.kind != kind || c.ok; });
}

QString auditLine(const audit::VerifyReport &report)
{
    if (report.ok)
        return QStringLiteral("audit chain ok: %1 rows").arg(report.rowsChecked);
    if (!report.firstBrokenSeq)
        return QStringLiteral("audit chain not checked: %1").arg(report.problem);
    return QStringLiteral("audit chain broken at seq %1: %2 (%3 rows before it hold)")
        .arg(*report.firstBrokenSeq)
        .arg(report.problem)
        .arg(report.rowsChecked);
}

} // namespace prepay::ctl
