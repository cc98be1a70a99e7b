#include "controlcommands.h"

#include "readonlydb.h"

#include "api/clock.h"
#include "api/money.h"
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
const QCommandLineOption driftingOption(
    QStringLiteral("drifting"), QStringLiteral("Only installations with a drift or an open drift alarm."));
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

QString fenText(qint64 fen)
{
    return Money::fromFen(fen).toDecimalString();
}

int controlReconcile(const Invocation &in)
{
    int rc = 0;
    const std::unique_ptr<store::Connection> db = openReadOnlyDatabase(in, dbOption, &rc);
    if (!db)
        return rc;
    // Every current installation of a prepaid meter, reconciled or not yet (never read with its
    // counters), with the figures of its last reconciliation and its open drift alarms.
    store::Statement s = db->prepare(QStringLiteral(
        "SELECT mp.code, m.id, m.serial_number, i.id, mr.installation_id IS NOT NULL, mr.baseline_reading_id, "
        "mr.baseline_balance_fen, mr.baseline_purchase_count, r.taken_at_ms, r.balance_fen, r.purchase_count, "
        "mr.balance_drift_fen, mr.tolerance_fen, mr.purchase_count_drift, mr.purchase_drift_fen, mr.delivered_count, "
        "mr.delivered_fen, mr.in_flight_count, mr.in_flight_fen, mr.charged_fen, mr.meter_cost_units / 100000, "
        "EXISTS (SELECT 1 FROM alarms a WHERE a.kind = 'balance_drift' AND a.subject_kind = 'meter' AND "
        "a.subject_id = m.id AND a.cleared_at_ms IS NULL), "
        "EXISTS (SELECT 1 FROM alarms a WHERE a.kind = 'purchase_count_drift' AND a.subject_kind = 'meter' AND "
        "a.subject_id = m.id AND a.cleared_at_ms IS NULL) "
        "FROM meter_installations i JOIN meters m ON m.id = i.meter_id "
        "JOIN metering_points mp ON mp.id = i.metering_point_id "
        "LEFT JOIN meter_reconciliation mr ON mr.installation_id = i.id "
        "LEFT JOIN readings r ON r.id = mr.last_reading_id "
        "WHERE i.removed_at_ms IS NULL AND m.capability = 'prepaid' AND (?1 = '' OR mp.code = ?1) ORDER BY mp.code"));
    s.bind(1, in.parser.value(pointOption));
    const bool json = in.parser.isSet(jsonOption);
    int installations = 0, reconciled = 0, balanceAlarms = 0, countAlarms = 0;
    QJsonArray rows;
    if (!json) {
        in.out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8  %9\n")
                      .arg(QStringLiteral("point"), -11)
                      .arg(QStringLiteral("meter"), 9)
                      .arg(QStringLiteral("balance"), 10)
                      .arg(QStringLiteral("expected"), 10)
                      .arg(QStringLiteral("drift"), 9)
                      .arg(QStringLiteral("toler."), 7)
                      .arg(QStringLiteral("count"), 5)
                      .arg(QStringLiteral("Δcount"), 6)
                      .arg(QStringLiteral("in flight / alarms"));
    }
    for (;;) {
        const store::Statement::Step step = s.step();
        if (step == store::Statement::Step::Error)
            return in.fail(74, s.error().toString());
        if (step == store::Statement::Step::Done)
            break;
        ++installations;
        const bool has = s.int64(4) != 0;
        const bool balanceAlarm = s.int64(21) != 0;
        const bool countAlarm = s.int64(22) != 0;
        reconciled += has;
        balanceAlarms += balanceAlarm;
        countAlarms += countAlarm;
        const qint64 balanceDrift = has ? s.int64(11) : 0;
        const qint64 countDrift = has ? s.int64(13) : 0;
        const bool drifting = balanceDrift != 0 || countDrift != 0 || (has && s.int64(14) != 0) || balanceAlarm
            || countAlarm;
        if (in.parser.isSet(driftingOption) && !drifting)
            continue;
        const QString point = s.text(0);
        const qint64 serial = s.int64(2);
        if (!has) {
            if (json) {
                rows.append(QJsonObject{{QStringLiteral("point"), point}, {QStringLiteral("meter_serial"), serial},
                    {QStringLiteral("installation_id"), s.int64(3)}, {QStringLiteral("reconciled"), false}});
            } else {
                in.out << QStringLiteral("%1 %2  not reconciled yet (no reading with its counters)\n")
                              .arg(point, -11)
                              .arg(serial, 9);
            }
            continue;
        }
        const qint64 balance = s.int64(9);
        const qint64 expected = balance - balanceDrift;
        QStringList notes;
        if (s.int64(17) > 0)
            notes.append(QStringLiteral("%1 in flight (%2)").arg(s.int64(17)).arg(fenText(s.int64(18))));
        if (balanceAlarm)
            notes.append(QStringLiteral("ALARM balance_drift"));
        if (countAlarm)
            notes.append(QStringLiteral("ALARM purchase_count_drift"));
        if (json) {
            QJsonObject o{{QStringLiteral("point"), point}, {QStringLiteral("meter_serial"), serial},
                {QStringLiteral("installation_id"), s.int64(3)}, {QStringLiteral("reconciled"), true},
                {QStringLiteral("baseline"),
                    s.isNull(5) ? QJsonValue(QStringLiteral("installation_counters")) : QJsonValue(s.int64(5))},
                {QStringLiteral("baseline_balance_fen"), s.int64(6)},
                {QStringLiteral("baseline_purchase_count"), s.int64(7)},
                {QStringLiteral("last_reading_at_ms"), s.int64(8)}, {QStringLiteral("balance_fen"), balance},
                {QStringLiteral("expected_balance_fen"), expected}, {QStringLiteral("balance_drift_fen"), balanceDrift},
                {QStringLiteral("tolerance_fen"), s.int64(12)}, {QStringLiteral("purchase_count"), s.int64(10)},
                {QStringLiteral("purchase_count_drift"), countDrift},
                {QStringLiteral("purchase_drift_fen"), s.int64(14)}, {QStringLiteral("delivered_count"), s.int64(15)},
                {QStringLiteral("delivered_fen"), s.int64(16)}, {QStringLiteral("in_flight_count"), s.int64(17)},
                {QStringLiteral("in_flight_fen"), s.int64(18)}, {QStringLiteral("charged_fen"), s.int64(19)},
                {QStringLiteral("meter_deductible_fen"), s.int64(20)},
                {QStringLiteral("balance_drift_alarm"), balanceAlarm},
                {QStringLiteral("purchase_count_drift_alarm"), countAlarm}};
            rows.append(o);
        } else {
            in.out << QStringLiteral("%1 %2 %3 %4 %5 %6 %7 %8  %9\n")
                          .arg(point, -11)
                          .arg(serial, 9)
                          .arg(fenText(balance), 10)
                          .arg(fenText(expected), 10)
                          .arg(fenText(balanceDrift), 9)
                          .arg(fenText(s.int64(12)), 7)
                          .arg(s.int64(10), 5)
                          .arg(countDrift, 6)
                          .arg(notes.join(QStringLiteral(", ")));
        }
    }
    if (json) {
        in.out << QJsonDocument(QJsonObject{{QStringLiteral("installations"), installations},
                                    {QStringLiteral("reconciled"), reconciled},
                                    {QStringLiteral("balance_drift_alarms"), balanceAlarms},
                                    {QStringLiteral("purchase_count_drift_alarms"), countAlarms},
                                    {QStringLiteral("rows"), rows}})
                      .toJson(QJsonDocument::Compact)
               << '\n';
    } else {
        in.out << installations << " prepaid installations, " << reconciled << " reconciled; open alarms: "
               << balanceAlarms << " balance_drift, " << countAlarms << " purchase_count_drift\n";
    }
    return 0;
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
        {{QStringLiteral("control"), QStringLiteral("reconcile")},
            QStringLiteral("--db FILE [--point CODE] [--drifting] [--json]   meter-side balances against the ledger"),
            QStringLiteral("List every current installation of a prepaid meter with its last reconciliation "
                           "(backoffice/control/reconcile.h): the meter's balance and the balance expected from the "
                           "baseline, the recharges delivered and the meter's share of the charges since; the "
                           "drift and the tolerance applied; the purchase count and its drift; recharges in "
                           "flight; open balance_drift / purchase_count_drift alarms. --drifting: only those "
                           "with a drift or an open alarm. Read only; prepayd may be running.\n"
                           "Exit codes: 0 ok, 65 schema not this prepayctl's, 66 cannot open, 74 read failed."),
            {dbOption, pointOption, driftingOption, jsonOption}, {}, {}, controlReconcile},
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
