#include "verify.h"

#include "ledger.h"

#include "store/sqlite.h"

#include <QtCore/QHash>

namespace prepay::ledger {

using store::Connection;
using store::SqlError;
using store::Statement;

namespace {

// 2^32 register units of 10 Wh: where a meter's energy register wraps.
constexpr qint64 kWrapWh = 42'949'672'960;

struct Check
{
    const char *code;
    const char *sql; // one TEXT column: the message of each violation
};

// Each query returns one row per violation, its message already written for people.
const Check kChecks[] = {
    {"I1.entry_unbalanced",
        "SELECT printf('entry %d (%s, key %s): postings sum to %d fen, not 0', e.id, e.kind, e.idempotency_key, "
        "sum(p.amount_fen)) FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id "
        "GROUP BY e.id HAVING sum(p.amount_fen) <> 0 ORDER BY e.id"},
    {"I1.too_few_postings",
        "SELECT printf('entry %d (%s, key %s) has %d posting(s); an entry needs at least two', e.id, e.kind, "
        "e.idempotency_key, count(p.id)) FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.id "
        "GROUP BY e.id HAVING count(p.id) < 2 ORDER BY e.id"},
    {"I1.total",
        "SELECT printf('all postings together sum to %d fen, not 0', s) "
        "FROM (SELECT coalesce(sum(amount_fen), 0) AS s FROM ledger_postings) WHERE s <> 0"},
    {"I2.cached_balance",
        "SELECT printf('account %d (%s): cached balance %d fen, but its postings sum to %d fen', a.id, a.code, "
        "a.balance_fen, coalesce(s.total, 0)) FROM ledger_accounts a "
        "LEFT JOIN (SELECT ledger_account_id, sum(amount_fen) AS total FROM ledger_postings "
        "GROUP BY ledger_account_id) s ON s.ledger_account_id = a.id "
        "WHERE a.balance_fen <> coalesce(s.total, 0) ORDER BY a.id"},
    {"I3.paid_not_credited",
        "SELECT printf('payment attempt %d (%s, %s) is %s but no entry credits it', pa.id, pa.out_trade_no, "
        "pa.channel, pa.state) FROM payment_attempts pa "
        "WHERE pa.state IN ('paid', 'credited', 'partially_refunded', 'refunded') "
        "AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind = 'recharge' AND e.payment_attempt_id = pa.id) "
        "ORDER BY pa.id"},
    {"I3.credit_mismatch",
        "SELECT printf('payment attempt %d is credited by %d entries; exactly one may', payment_attempt_id, count(*)) "
        "FROM ledger_entries WHERE kind = 'recharge' GROUP BY payment_attempt_id HAVING count(*) > 1"},
    {"I3.credit_mismatch",
        "SELECT printf('entry %d credits payment attempt %d: expected %d fen from clearing:%s to the wallet of "
        "account %d', e.id, pa.id, pa.amount_fen, pa.channel, o.account_id) "
        "FROM ledger_entries e JOIN payment_attempts pa ON pa.id = e.payment_attempt_id "
        "JOIN topup_orders o ON o.id = pa.order_id WHERE e.kind = 'recharge' AND ("
        " NOT EXISTS (SELECT 1 FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.ledger_account_id "
        "  WHERE p.entry_id = e.id AND a.kind = 'clearing' AND a.channel = pa.channel AND p.amount_fen = -pa.amount_fen)"
        " OR NOT EXISTS (SELECT 1 FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.ledger_account_id "
        "  WHERE p.entry_id = e.id AND a.account_id = o.account_id AND p.amount_fen = pa.amount_fen)"
        " OR (SELECT count(*) FROM ledger_postings p WHERE p.entry_id = e.id) <> 2) ORDER BY e.id"},
    {"I3.credit_not_paid",
        "SELECT printf('entry %d credits payment attempt %d, which is %s (not paid)', e.id, pa.id, pa.state) "
        "FROM ledger_entries e JOIN payment_attempts pa ON pa.id = e.payment_attempt_id "
        "WHERE e.kind = 'recharge' AND pa.state NOT IN ('paid', 'credited', 'partially_refunded', 'refunded') "
        "ORDER BY e.id"},
    {"I4.charge_without_interval",
        "SELECT printf('charge entry %d (key %s) traces to no charge interval', id, idempotency_key) "
        "FROM ledger_entries WHERE kind = 'charge' AND charge_interval_id IS NULL ORDER BY id"},
    {"I4.charge_mismatch",
        "SELECT printf('entry %d charges interval %d: expected %d fen from the wallet of account %s to revenue', "
        "e.id, ci.id, ci.amount_fen, ifnull(ci.account_id, '(none)')) "
        "FROM ledger_entries e JOIN charge_intervals ci ON ci.id = e.charge_interval_id WHERE e.kind = 'charge' AND ("
        " NOT EXISTS (SELECT 1 FROM ledger_postings p JOIN ledger_accounts w ON w.id = p.ledger_account_id "
        "  WHERE p.entry_id = e.id AND w.account_id = ci.account_id AND p.amount_fen = -ci.amount_fen)"
        " OR NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.id AND p.ledger_account_id = 5 "
        "  AND p.amount_fen = ci.amount_fen)"
        " OR (SELECT count(*) FROM ledger_postings p WHERE p.entry_id = e.id) <> 2) ORDER BY e.id"},
    {"I4.interval_not_charged",
        "SELECT printf('charge interval %d (point %d) costs %d fen but %s', ci.id, ci.metering_point_id, "
        "ci.amount_fen, CASE WHEN ci.account_id IS NULL THEN 'names no account to charge' "
        "ELSE 'no entry charges it' END) FROM charge_intervals ci WHERE ci.amount_fen > 0 AND (ci.account_id IS NULL "
        "OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind = 'charge' AND e.charge_interval_id = ci.id)) "
        "ORDER BY ci.id"},
    {"I4.interval_gap",
        "WITH ordered AS (SELECT ci.id, ci.installation_id, ci.from_reading_id, ci.to_reading_id, "
        " lag(ci.to_reading_id) OVER w AS prev_to, row_number() OVER w AS n FROM charge_intervals ci "
        " WINDOW w AS (PARTITION BY ci.installation_id ORDER BY ci.id)) "
        "SELECT printf('charge interval %d (installation %d) starts at reading %s; expected %s', o.id, "
        " o.installation_id, ifnull(o.from_reading_id, 'the segment start'), CASE "
        " WHEN o.n > 1 THEN printf('reading %d, where the previous interval ended', o.prev_to) "
        " WHEN i.initial_energy_wh IS NOT NULL THEN 'the segment start (the installation''s initial reading)' "
        " ELSE printf('reading %s, the first of the installation', ifnull((SELECT min(r.id) FROM readings r "
        "  WHERE r.installation_id = o.installation_id AND r.validation <> 'swap_held'), '(none)')) END) "
        "FROM ordered o JOIN meter_installations i ON i.id = o.installation_id WHERE "
        " (o.n > 1 AND o.from_reading_id IS NOT o.prev_to) "
        " OR (o.n = 1 AND i.initial_energy_wh IS NOT NULL AND o.from_reading_id IS NOT NULL) "
        " OR (o.n = 1 AND i.initial_energy_wh IS NULL AND o.from_reading_id IS NOT (SELECT min(r.id) FROM readings r "
        "  WHERE r.installation_id = o.installation_id AND r.validation <> 'swap_held')) "
        "UNION ALL "
        "SELECT printf('charge interval %d ends at reading %d, which is not of installation %d', ci.id, "
        " ci.to_reading_id, ci.installation_id) FROM charge_intervals ci JOIN readings r ON r.id = ci.to_reading_id "
        " WHERE r.installation_id <> ci.installation_id OR ci.to_reading_id <= coalesce(ci.from_reading_id, 0)"},
    {"I4.interval_energy",
        "SELECT printf('charge interval %d (installation %d, readings %s → %d): energy %d Wh, slots %d Wh, "
        "held %d, amount %d fen; the readings say %d Wh', ci.id, ci.installation_id, "
        "ifnull(ci.from_reading_id, 'start'), ci.to_reading_id, ci.energy_wh, "
        "ci.energy_sharp_wh + ci.energy_peak_wh + ci.energy_flat_wh + ci.energy_valley_wh, ci.held, ci.amount_fen, "
        "(t.energy_total_wh - coalesce(f.energy_total_wh, i.initial_energy_wh) + ?1) % ?1) "
        "FROM charge_intervals ci JOIN readings t ON t.id = ci.to_reading_id "
        "LEFT JOIN readings f ON f.id = ci.from_reading_id JOIN meter_installations i ON i.id = ci.installation_id "
        "WHERE ci.energy_wh <> ci.energy_sharp_wh + ci.energy_peak_wh + ci.energy_flat_wh + ci.energy_valley_wh "
        " OR (ci.held = 1 AND (ci.energy_wh <> 0 OR ci.amount_fen <> 0)) "
        " OR (ci.held = 0 AND ci.energy_wh IS NOT (t.energy_total_wh - coalesce(f.energy_total_wh, i.initial_energy_wh) "
        "  + ?1) % ?1) ORDER BY ci.id"},
    {"I4.remainder",
        "SELECT printf('metering point %d carries a remainder of %d × 0.00001 fen; its last charge interval left %d',"
        " b.metering_point_id, b.sub_fen_remainder, coalesce(l.r, 0)) FROM billing_state b "
        "LEFT JOIN (SELECT metering_point_id, sub_fen_remainder_after AS r FROM charge_intervals "
        " WHERE id IN (SELECT max(id) FROM charge_intervals GROUP BY metering_point_id)) l "
        " ON l.metering_point_id = b.metering_point_id "
        "WHERE b.sub_fen_remainder <> coalesce(l.r, 0) ORDER BY b.metering_point_id"},
    {"I6.reversal",
        "SELECT printf('reversal %d of entry %d does not flip exactly its postings', r.id, r.reverses_entry_id) "
        "FROM ledger_entries r WHERE r.kind = 'reversal' AND ("
        " (SELECT count(*) FROM ledger_postings WHERE entry_id = r.id) "
        "  <> (SELECT count(*) FROM ledger_postings WHERE entry_id = r.reverses_entry_id) "
        " OR EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = r.id AND NOT EXISTS ("
        "  SELECT 1 FROM ledger_postings q WHERE q.entry_id = r.reverses_entry_id "
        "  AND q.ledger_account_id = p.ledger_account_id AND q.amount_fen = -p.amount_fen))) "
        "UNION ALL "
        "SELECT printf('reversal %d undoes entry %d, which is itself a reversal', r.id, t.id) "
        "FROM ledger_entries r JOIN ledger_entries t ON t.id = r.reverses_entry_id WHERE t.kind = 'reversal' "
        "UNION ALL "
        "SELECT printf('entry %d is reversed %d times; at most once', reverses_entry_id, count(*)) "
        "FROM ledger_entries WHERE reverses_entry_id IS NOT NULL GROUP BY reverses_entry_id HAVING count(*) > 1"},
};

const char *const kAppendOnlyTriggers[] = {
    "ledger_entries_no_update",
    "ledger_entries_no_delete",
    "ledger_postings_no_update",
    "ledger_postings_no_delete",
    "ledger_accounts_no_delete",
    "ledger_accounts_fixed_columns",
    "charge_intervals_no_update",
    "charge_intervals_no_delete",
};

class Collector
{
public:
    Collector(VerifyReport &report, int maxPerCheck)
        : m_report(report)
        , m_max(maxPerCheck)
    { }

    void add(const QString &code, const QString &message)
    {
        int &n = m_counts[code];
        ++n;
        if (n <= m_max)
            m_report.violations.append({code, message});
    }

    void finish()
    {
        for (auto it = m_counts.cbegin(); it != m_counts.cend(); ++it) {
            if (it.value() > m_max) {
                m_report.violations.append(
                    {it.key(), QStringLiteral("… and %1 more of this kind").arg(it.value() - m_max)});
            }
        }
    }

private:
    VerifyReport &m_report;
    int m_max;
    QHash<QString, int> m_counts;
};

std::optional<qint64> optionalColumn(const Statement &s, int column)
{
    if (s.isNull(column))
        return std::nullopt;
    return s.int64(column);
}

// Recomputes each entry's request hash from what is stored.
bool checkHashes(Connection &db, Collector &collect, QString *error)
{
    Statement entries = db.prepare(QStringLiteral(
        "SELECT id, kind, idempotency_key, request_hash, payment_attempt_id, charge_interval_id, refund_id, "
        "reverses_entry_id, operator_id, approval_id, reason FROM ledger_entries ORDER BY id"));
    Statement postings = db.prepare(
        QStringLiteral("SELECT entry_id, ledger_account_id, amount_fen FROM ledger_postings ORDER BY entry_id, id"));
    Statement::Step postingStep = postings.step();
    Statement::Step step;
    while ((step = entries.step()) == Statement::Step::Row) {
        const qint64 id = entries.int64(0);
        EntryRequest r;
        const std::optional<EntryKind> kind = entryKindFromCode(entries.text(1));
        if (!kind) {
            collect.add(QStringLiteral("entry.content_hash"),
                QStringLiteral("entry %1 has an unknown kind '%2'").arg(id).arg(entries.text(1)));
            continue;
        }
        r.kind = *kind;
        r.idempotencyKey = entries.text(2);
        r.paymentAttemptId = optionalColumn(entries, 4);
        r.chargeIntervalId = optionalColumn(entries, 5);
        r.refundId = optionalColumn(entries, 6);
        r.reversesEntryId = optionalColumn(entries, 7);
        r.operatorId = optionalColumn(entries, 8);
        r.approvalId = optionalColumn(entries, 9);
        r.reason = entries.text(10);
        while (postingStep == Statement::Step::Row && postings.int64(0) < id)
            postingStep = postings.step();
        while (postingStep == Statement::Step::Row && postings.int64(0) == id) {
            r.postings.append({postings.int64(1), Money::fromFen(postings.int64(2))});
            postingStep = postings.step();
        }
        if (requestHash(r) != entries.blob(3)) {
            collect.add(QStringLiteral("entry.content_hash"),
                QStringLiteral("entry %1 (%2, key %3): its postings, links or reason are not what was posted "
                               "(the stored request hash does not match)")
                    .arg(id)
                    .arg(entries.text(1), r.idempotencyKey));
        }
    }
    if (step == Statement::Step::Error) {
        *error = entries.error().toString();
        return false;
    }
    if (postingStep == Statement::Step::Error) {
        *error = postings.error().toString();
        return false;
    }
    return true;
}

} // namespace

VerifyReport verifyLedger(Connection &db, int maxPerCheck)
{
    VerifyReport report;
    Collector collect(report, maxPerCheck);
    SqlError error;
    report.entries = db.queryInt(QStringLiteral("SELECT count(*) FROM ledger_entries"), &error);
    report.postings = db.queryInt(QStringLiteral("SELECT count(*) FROM ledger_postings"), &error);
    report.accounts = db.queryInt(QStringLiteral("SELECT count(*) FROM ledger_accounts"), &error);
    report.chargeIntervals = db.queryInt(QStringLiteral("SELECT count(*) FROM charge_intervals"), &error);
    if (!error.ok()) {
        report.error = error.toString();
        return report;
    }

    for (const char *name : kAppendOnlyTriggers) {
        Statement s = db.prepare(QStringLiteral("SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?1"));
        s.bind(1, QString::fromLatin1(name));
        if (s.step() != Statement::Step::Row) {
            collect.add(QStringLiteral("schema.trigger_missing"),
                QStringLiteral("trigger %1 is missing: the table it guards is no longer append-only")
                    .arg(QLatin1StringView(name)));
        }
    }

    for (const Check &check : kChecks) {
        Statement s = db.prepare(QString::fromUtf8(check.sql));
        if (QByteArrayView(check.sql).contains("?1"))
            s.bind(1, kWrapWh);
        Statement::Step step;
        while ((step = s.step()) == Statement::Step::Row)
            collect.add(QString::fromLatin1(check.code), s.text(0));
        if (step == Statement::Step::Error) {
            report.error = QStringLiteral("%1: %2").arg(QLatin1StringView(check.code), s.error().toString());
            collect.finish();
            return report;
        }
    }

    QString hashError;
    if (!checkHashes(db, collect, &hashError))
        report.error = hashError;
    collect.finish();
    return report;
}

} // namespace prepay::ledger
