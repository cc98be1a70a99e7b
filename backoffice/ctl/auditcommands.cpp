#include "auditcommands.h"

#include "filechecks.h"
#include "readonlydb.h"

#include "audit/audit.h"
#include "store/sqlite.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace prepay::ctl {

namespace {

const QCommandLineOption dbOption(QStringLiteral("db"),
    QStringLiteral("The database file (read only; prepayd may be running)."), QStringLiteral("FILE"));
const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text."));

int auditVerify(const Invocation &in)
{
    int rc = 0;
    const std::unique_ptr<store::Connection> db = openReadOnlyDatabase(in, dbOption, &rc);
    if (!db)
        return rc;
    const audit::VerifyReport report = audit::verify(*db);
    const bool unreadable = !report.ok && !report.firstBrokenSeq;
    if (in.parser.isSet(jsonOption)) {
        QJsonObject o{{QStringLiteral("ok"), report.ok}, {QStringLiteral("rows_checked"), report.rowsChecked}};
        if (report.firstBrokenSeq)
            o.insert(QStringLiteral("first_broken_seq"), *report.firstBrokenSeq);
        if (!report.problem.isEmpty())
            o.insert(unreadable ? QStringLiteral("error") : QStringLiteral("problem"), report.problem);
        in.out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
    } else if (!unreadable) {
        in.out << auditLine(report) << '\n';
    }
    if (unreadable)
        return in.fail(74, QStringLiteral("could not finish: %1").arg(report.problem));
    return report.ok ? 0 : 1;
}

} // namespace

QList<Command> auditCommands()
{
    return {
        {{QStringLiteral("audit"), QStringLiteral("verify")},
            QStringLiteral("--db FILE [--json]   recompute the audit chain, name the first broken row"),
            QStringLiteral("Recompute the hash chain of the audit log from its first row (each row's hash covers the "
                           "previous row's hash and the row's content, backoffice/audit/audit.h) and name the first "
                           "row where it breaks: a changed field, a missing or reordered row, a forged start. Read "
                           "only; prepayd may be running.\n"
                           "Exit codes: 0 the chain holds, 1 the chain is broken (the first broken seq is named), "
                           "65 schema not this prepayctl's, 66 cannot open, 74 could not finish reading."),
            {dbOption, jsonOption}, {}, {}, auditVerify},
    };
}

} // namespace prepay::ctl
