#include "controlcommands.h"

#include "readonlydb.h"

#include "api/clock.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/controller.h"
#include "store/sqlite.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace prepay::ctl {

namespace {

const QCommandLineOption dbOption(QStringLiteral("db"),
    QStringLiteral("The database file (read only; prepayd may be running)."), QStringLiteral("FILE"));
const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text."));
const QCommandLineOption allOption(QStringLiteral("all"), QStringLiteral("List every point, not only the ones cut."));
const QCommandLineOption pointOption(
    QStringLiteral("point"), QStringLiteral("Only this metering point (its code, e.g. A-3F-301)."), QStringLiteral("CODE"));

struct Opened
{
    std::unique_ptr<store::Connection> db;
    billing::TariffBook book;
};

int open(const Invocation &in, Opened *out)
{
    int rc = 0;
    out->db = openReadOnlyDatabase(in, dbOption, &rc);
    if (!out->db)
        return rc;
    QString why;
    if (!billing::TariffBook::load(*out->db, &out->book, &why))
        return in.fail(78, why);
    return 0;
}

int controlPreview(const Invocation &in, const Clock &clock)
{
    Opened o;
    if (const int rc = open(in, &o); rc != 0)
        return rc;
    QString error;
    const QList<control::PointEvaluation> all = control::preview(*o.db, o.book, clock.wallMs(), &error);
    if (!error.isEmpty())
        return in.fail(74, error);
    int off = 0;
    int cut = 0;
    QJsonArray rows;
    for (const control::PointEvaluation &e : all) {
        const bool isOff = e.decision.desired == control::Desired::Off;
        // "Would be cut now": the policy wants it off and the meter, as last read, is not off yet
        // (a meter never read is not counted: nobody knows).
        const bool wouldCut = isOff && e.meterId && !e.observedRelayMode.isEmpty() && e.observedRelayMode != e.wantedRelayMode;
        off += isOff;
        cut += wouldCut;
        if (!in.parser.isSet(allOption) && !isOff)
            continue;
        if (in.parser.isSet(jsonOption)) {
            rows.append(QJsonObject{{QStringLiteral("point"), e.pointCode}, {QStringLiteral("shop_no"), e.shopNo},
                {QStringLiteral("name"), e.displayName}, {QStringLiteral("balance"), e.balance.toDecimalString()},
                {QStringLiteral("mode"), control::modeCode(e.mode)},
                {QStringLiteral("desired"), control::desiredCode(e.decision.desired)},
                {QStringLiteral("reason"), control::reasonCode(e.decision.reason)},
                {QStringLiteral("why"), e.decision.explanation},
                {QStringLiteral("meter_relay_mode"), e.observedRelayMode},
                {QStringLiteral("would_cut_now"), wouldCut}});
        } else {
            in.out << QStringLiteral("%1 %2 %3 %4 %5  %6\n")
                          .arg(e.pointCode, -11)
                          .arg(e.displayName.left(14), -14)
                          .arg(e.balance.toDecimalString(), 10)
                          .arg(control::desiredCode(e.decision.desired) + (wouldCut ? QStringLiteral(" (cut now)") : QString()), -14)
                          .arg(control::reasonCode(e.decision.reason), -15)
                          .arg(e.decision.explanation);
        }
    }
    if (in.parser.isSet(jsonOption)) {
        in.out << QJsonDocument(QJsonObject{{QStringLiteral("points"), qint64(all.size())},
                                    {QStringLiteral("off"), off}, {QStringLiteral("cut_now"), cut},
                                    {QStringLiteral("rows"), rows}})
                      .toJson(QJsonDocument::Compact)
               << '\n';
    } else {
        in.out << all.size() << " points: " << off << " off by policy, " << cut
               << " of them would be cut now (their meter, as last read, is not off)\n";
    }
    return 0;
}

int billingRecompute(const Invocation &in)
{
    Opened o;
    if (const int rc = open(in, &o); rc != 0)
        return rc;
    qint64 pointId = 0;
    if (in.parser.isSet(pointOption)) {
        store::Statement s = o.db->prepare(QStringLiteral("SELECT id FROM metering_points WHERE code = ?1"));
        s.bind(1, in.parser.value(pointOption));
        if (s.step() != store::Statement::Step::Row)
            return in.fail(exitUsage, QStringLiteral("--point: no metering point %1").arg(in.parser.value(pointOption)));
        pointId = s.int64(0);
    }
    const billing::RecomputeReport r = billing::recompute(*o.db, o.book, pointId);
    if (!r.error.isEmpty())
        return in.fail(74, r.error);
    for (const billing::RecomputeMismatch &m : r.mismatches)
        in.out << "MISMATCH interval " << m.intervalId << ": " << m.message << '\n';
    in.out << "recomputed " << r.intervals << " charge intervals: stored " << r.storedAmount.toDecimalString()
           << " CNY, recomputed " << r.recomputedAmount.toDecimalString() << " CNY, " << r.mismatches.size()
           << " mismatch(es)\n";
    return r.mismatches.isEmpty() ? 0 : 1;
}

} // namespace

QList<Command> controlCommands(const Clock &clock)
{
    return {
        {{QStringLiteral("control"), QStringLiteral("preview")},
            QStringLiteral("--db FILE [--all] [--json]   who the policy would cut now, and why"),
            QStringLiteral("Apply the control policy to every metering point now, without writing anything: which "
                           "points it wants off (arrears, 拉闸, not open) and whether their meter would be cut now, "
                           "with the balance and the reason; --all lists the points kept on too (保电, friendly "
                           "hours, infrastructure, funded). Read only; prepayd may be running.\n"
                           "Exit codes: 0 ok, 65 schema not this prepayctl's, 66 cannot open, 78 tariffs unusable."),
            {dbOption, allOption, jsonOption}, {}, {}, [&clock](const Invocation &in) { return controlPreview(in, clock); }},
        {{QStringLiteral("billing"), QStringLiteral("recompute")},
            QStringLiteral("--db FILE [--point CODE]   recompute stored charges from readings and tariffs"),
            QStringLiteral("Replay every stored charge interval (of one point, or all) from its readings and the tariff "
                           "versions, from a zero remainder, and report any interval whose amount, remainder, slots "
                           "or version differ. Read only.\n"
                           "Exit codes: 0 every charge reproduced to the fen, 1 mismatches, 65/66/78 as above."),
            {dbOption, pointOption}, {}, {}, billingRecompute},
    };
}

} // namespace prepay::ctl
