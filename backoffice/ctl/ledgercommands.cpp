#include "ledgercommands.h"

#include "readonlydb.h"

#include "accounts/takeover.h"
#include "api/clock.h"
#include "ledger/verify.h"
#include "store/store.h"
#include "store/sqlite.h"

#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace prepay::ctl {

namespace {

const QCommandLineOption dbOption(QStringLiteral("db"),
    QStringLiteral("The database file (read only; prepayd may be running)."), QStringLiteral("FILE"));
const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text."));

int ledgerVerify(const Invocation &in)
{
    int rc = 0;
    const std::unique_ptr<store::Connection> db = openReadOnlyDatabase(in, dbOption, &rc);
    if (!db)
        return rc;
    const ledger::VerifyReport report = ledger::verifyLedger(*db);
    if (in.parser.isSet(jsonOption)) {
        QJsonArray violations;
        for (const ledger::Violation &v : report.violations)
            violations.append(QJsonObject{{QStringLiteral("code"), v.code}, {QStringLiteral("message"), v.message}});
        QJsonObject o{{QStringLiteral("ok"), report.ok()}, {QStringLiteral("entries"), report.entries},
            {QStringLiteral("postings"), report.postings}, {QStringLiteral("accounts"), report.accounts},
            {QStringLiteral("charge_intervals"), report.chargeIntervals}, {QStringLiteral("violations"), violations}};
        if (!report.error.isEmpty())
            o.insert(QStringLiteral("error"), report.error);
        in.out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
    } else {
        in.out << "checked " << report.entries << " entries, " << report.postings << " postings, " << report.accounts
               << " accounts, " << report.chargeIntervals << " charge intervals\n";
        for (const ledger::Violation &v : report.violations)
            in.out << "VIOLATION " << v.code << ": " << v.message << '\n';
        if (report.ok())
            in.out << "ledger ok: every invariant holds\n";
        else if (report.error.isEmpty())
            in.out << report.violations.size() << " violation(s)\n";
    }
    if (!report.error.isEmpty())
        return in.fail(74, QStringLiteral("could not finish: %1").arg(report.error));
    return report.ok() ? 0 : 1;
}

int ledgerTakeover(const Invocation &in)
{
    const QString path = in.parser.value(dbOption);
    if (path.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--db FILE is required"));
    if (!QFileInfo::exists(path))
        return in.fail(66, path + QStringLiteral(" does not exist"));
    SystemClock clock;
    store::OpenResult opened = store::Store::open(path, clock);
    if (!opened.store)
        return in.fail(store::exitCodeFor(opened.outcome), opened.message);
    const auto written = opened.store
                             ->write([&clock](store::Transaction &tx) {
                                 return accounts::takeOverMeterBalances(tx, clock.wallMs());
                             })
                             .get();
    const accounts::TakeoverReport &r = written.value;
    for (const QString &p : r.problems)
        in.err << "prepayctl: " << p << '\n';
    if (!written.committed()) {
        return in.fail(70, QStringLiteral("nothing credited (%1): %2")
                               .arg(store::writeStatusCode(written.status),
                                   written.status == store::WriteStatus::Failed ? written.error.toString() : written.reason));
    }
    in.out << "credited " << r.credited << " meter balance(s) to " << r.accounts << " wallet(s): "
           << r.total.toDecimalString() << " CNY";
    if (r.alreadyCredited > 0)
        in.out << " (" << r.alreadyCredited << " credited by an earlier run)";
    in.out << '\n';
    return 0;
}

} // namespace

QList<Command> ledgerCommands()
{
    return {
        {{QStringLiteral("ledger"), QStringLiteral("verify")},
            QStringLiteral("--db FILE [--json]   check every ledger invariant"),
            QStringLiteral("Check the ledger contract on a database: balanced entries, cached balances equal to their "
                           "postings, stored request hashes, one credit per paid payment attempt, every charge traced "
                           "to a contiguous reading interval, carried remainders, reversals, append-only triggers. "
                           "Prints each violation. Read only; prepayd may be running.\n"
                           "Exit codes: 0 every invariant holds, 1 violations found, 65 schema not this "
                           "prepayctl's, 66 cannot open, 74 could not finish reading."),
            {dbOption, jsonOption}, {}, {}, ledgerVerify},
        {{QStringLiteral("ledger"), QStringLiteral("takeover")},
            QStringLiteral("--db FILE   credit the balances prepaid meters were installed with"),
            QStringLiteral("Commissioning: credit each open tenant's wallet with the meter-side balance its prepaid meters "
                           "held when they were installed (meter_installations.initial_balance_fen), once per "
                           "installation, as a cash top-up through the ledger. Running it again credits nothing twice. "
                           "Run it before prepayd first polls the building, or the control policy sees empty wallets.\n"
                           "Exit codes: 0 ok, 65/66/70/73/74 as prepayctl db migrate, 70 nothing credited."),
            {dbOption}, {}, {}, ledgerTakeover},
    };
}

} // namespace prepay::ctl
