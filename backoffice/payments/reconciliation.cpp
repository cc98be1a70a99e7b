#include "reconciliation.h"

#include "control/alarms.h"
#include "payments/attempts.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QSet>
#include <QtCore/QTimeZone>

namespace prepay::payments {

namespace {

// States as stored, for the SQL below (attempts.h holds the state machine).
const char paidStates[] = "('paid', 'credited', 'partially_refunded', 'refunded')";
const char payableStates[] = "('created', 'qr_issued', 'scanned', 'closing', 'closed', 'expired_unknown')";

QString providerName(Channel channel)
{
    switch (channel) {
    case Channel::Alipay: return QStringLiteral("Alipay");
    case Channel::WeChat: return QStringLiteral("WeChat Pay");
    case Channel::UnionPay: return QStringLiteral("UnionPay");
    }
    return QStringLiteral("the provider");
}

QString yuan(qint64 fen)
{
    return Money::fromFen(fen).toDecimalString() + QStringLiteral(" yuan");
}

QString json(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

// The matching of one bill in one transaction: the statements are prepared once and reused for
// every row (a bill may hold thousands), and the first failure fails the transaction.
class Matcher
{
public:
    Matcher(store::Transaction &tx, Channel channel, QDate day, qint64 nowMs, const ReconcileLimits &limits)
        : m_tx(tx)
        , m_channel(channel)
        , m_dayText(day.toString(Qt::ISODate))
        , m_nowMs(nowMs)
        , m_limits(limits)
    { }

    bool failed() const { return !m_tx.error().ok(); }

    // The attempt of this channel with this out_trade_no, with its recharge entry.
    struct Ours
    {
        qint64 id = 0;
        qint64 orderId = 0;
        QString state;
        qint64 amountFen = 0;
        qint64 providerAmountFen = -1;
        QString providerTxnId;
        qint64 paidAtMs = 0;
        QString shopNo;
        qint64 entryId = 0; // its recharge entry, 0: none
    };

    std::optional<Ours> attempt(const QString &outTradeNo)
    {
        store::Statement &s = prepared(m_attempt,
            QStringLiteral("SELECT a.id, a.order_id, a.state, a.amount_fen, coalesce(a.provider_amount_fen, -1), "
                           "coalesce(a.provider_txn_id, ''), coalesce(a.paid_at_ms, 0), acc.shop_no, "
                           "coalesce((SELECT e.id FROM ledger_entries e WHERE e.kind = 'recharge' AND "
                           "e.payment_attempt_id = a.id), 0) "
                           "FROM payment_attempts a JOIN topup_orders o ON o.id = a.order_id JOIN accounts acc ON "
                           "acc.id = o.account_id "
                           "WHERE a.out_trade_no = ?1 AND a.channel = ?2"));
        s.bind(1, outTradeNo).bind(2, channelCode(m_channel));
        std::optional<Ours> found;
        if (s.step() == store::Statement::Step::Row) {
            Ours o;
            o.id = s.int64(0);
            o.orderId = s.int64(1);
            o.state = s.text(2);
            o.amountFen = s.int64(3);
            o.providerAmountFen = s.int64(4);
            o.providerTxnId = s.text(5);
            o.paidAtMs = s.int64(6);
            o.shopNo = s.text(7);
            o.entryId = s.int64(8);
            found = o;
        }
        check(s);
        s.reset();
        return found;
    }

    // What the ledger credited the tenant for a recharge entry, net of its reversal.
    qint64 credited(qint64 entryId)
    {
        if (entryId == 0)
            return 0;
        store::Statement &s = prepared(m_credited,
            QStringLiteral(
                "SELECT coalesce(sum(p.amount_fen), 0) FROM ledger_postings p "
                "JOIN ledger_accounts la ON la.id = p.ledger_account_id AND la.kind = 'wallet' "
                "WHERE p.entry_id = ?1 OR p.entry_id IN (SELECT id FROM ledger_entries WHERE reverses_entry_id = ?1)"));
        s.bind(1, entryId);
        const qint64 fen = s.step() == store::Statement::Step::Row ? s.int64(0) : 0;
        check(s);
        s.reset();
        return fen;
    }

    // The channel an out_trade_no was issued on, if not this one (empty: never issued).
    QString issuedOn(const QString &outTradeNo)
    {
        store::Statement &s
            = prepared(m_issuedOn, QStringLiteral("SELECT channel FROM payment_attempts WHERE out_trade_no = ?1"));
        s.bind(1, outTradeNo);
        const QString channel = s.step() == store::Statement::Step::Row ? s.text(0) : QString();
        check(s);
        s.reset();
        return channel;
    }

    bool inSuspense(const QString &outTradeNo)
    {
        store::Statement &s = prepared(m_suspense,
            QStringLiteral("SELECT count(*) FROM payment_suspense WHERE channel = ?1 AND out_trade_no = ?2"));
        s.bind(1, channelCode(m_channel)).bind(2, outTradeNo);
        const bool found = s.step() == store::Statement::Step::Row && s.int64(0) > 0;
        check(s);
        s.reset();
        return found;
    }

    // The recharge jobs of an attempt's credit that did not reach the meter (failed, cancelled,
    // or not verified long after they were queued).
    QJsonArray undeliveredJobs(qint64 attemptId)
    {
        // The keys are "recharge:attempt:<id>:meter:<meter id>" (credit.h): a range on the
        // unique index of idempotency_key (';' follows ':').
        store::Statement &s = prepared(m_jobs,
            QStringLiteral(
                "SELECT c.id, c.meter_id, m.serial_number, c.state, c.amount_fen, c.attempts, coalesce(c.last_error, "
                "''), "
                "coalesce(c.reason, ''), c.created_at_ms FROM meter_commands c JOIN meters m ON m.id = c.meter_id "
                "WHERE c.idempotency_key >= ?1 AND c.idempotency_key < ?2 AND c.kind = 'recharge' "
                "AND (c.state IN ('failed', 'cancelled') OR (c.state <> 'verified' AND c.created_at_ms < ?3)) ORDER BY "
                "c.id"));
        const QString prefix = QStringLiteral("recharge:attempt:%1:").arg(attemptId);
        s.bind(1, prefix).bind(2, QStringLiteral("recharge:attempt:%1;").arg(attemptId));
        s.bind(3, m_nowMs - m_limits.meterJobOverdueMs);
        QJsonArray jobs;
        while (s.step() == store::Statement::Step::Row) {
            jobs.append(QJsonObject{{QStringLiteral("command_id"), s.int64(0)},
                {QStringLiteral("meter_id"), s.int64(1)}, {QStringLiteral("meter_serial"), s.int64(2)},
                {QStringLiteral("state"), s.text(3)}, {QStringLiteral("amount_fen"), s.int64(4)},
                {QStringLiteral("attempts"), s.int64(5)}, {QStringLiteral("last_error"), s.text(6)},
                {QStringLiteral("reason"), s.text(7)}, {QStringLiteral("queued_at_ms"), s.int64(8)}});
        }
        check(s);
        s.reset();
        return jobs;
    }

    // The other paid attempts of the same top-up order.
    QJsonArray otherPayments(const Ours &ours)
    {
        store::Statement &s = prepared(m_others,
            QStringLiteral("SELECT out_trade_no, channel, amount_fen, state FROM payment_attempts "
                           "WHERE order_id = ?1 AND id <> ?2 AND state IN ")
                + QLatin1String(paidStates) + QStringLiteral(" ORDER BY id"));
        s.bind(1, ours.orderId).bind(2, ours.id);
        QJsonArray others;
        while (s.step() == store::Statement::Step::Row) {
            others.append(
                QJsonObject{{QStringLiteral("out_trade_no"), s.text(0)}, {QStringLiteral("channel"), s.text(1)},
                    {QStringLiteral("amount_fen"), s.int64(2)}, {QStringLiteral("state"), s.text(3)}});
        }
        check(s);
        s.reset();
        return others;
    }

    struct OurRefund
    {
        qint64 id = 0;
        QString state;
        qint64 amountFen = 0;
        QString outTradeNo;
        qint64 paidEntryFen = -1; // the ledger's "refund:<id>:paid" entry; -1: none
    };

    std::optional<OurRefund> refund(const QString &outRefundNo)
    {
        store::Statement &s = prepared(m_refund,
            QStringLiteral(
                "SELECT r.id, r.state, r.amount_fen, coalesce(a.out_trade_no, ''), "
                "(SELECT sum(p.amount_fen) FROM ledger_entries e JOIN ledger_postings p ON p.entry_id = e.id "
                " WHERE e.idempotency_key = 'refund:' || r.id || ':paid' AND p.amount_fen > 0) "
                "FROM refunds r LEFT JOIN payment_attempts a ON a.id = r.payment_attempt_id "
                "WHERE r.out_refund_no = ?1 AND r.channel = ?2"));
        s.bind(1, outRefundNo).bind(2, channelCode(m_channel));
        std::optional<OurRefund> found;
        if (s.step() == store::Statement::Step::Row) {
            OurRefund r;
            r.id = s.int64(0);
            r.state = s.text(1);
            r.amountFen = s.int64(2);
            r.outTradeNo = s.text(3);
            r.paidEntryFen = s.isNull(4) ? -1 : s.int64(4);
            found = r;
        }
        check(s);
        s.reset();
        return found;
    }

    // One finding; nothing when the (channel, day, kind, out_trade_no) is known already.
    void record(
        FindingKind kind, const QString &outTradeNo, qint64 attemptId, const QJsonObject &detail, const QString &action)
    {
        if (failed())
            return;
        store::Statement &s = prepared(m_insert,
            QStringLiteral("INSERT INTO payment_findings (channel, bill_date, kind, out_trade_no, payment_attempt_id, "
                           "detail, action, "
                           "found_at_ms) VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), ?6, ?7, ?8) "
                           "ON CONFLICT (channel, bill_date, kind, out_trade_no) DO NOTHING"));
        s.bind(1, channelCode(m_channel)).bind(2, m_dayText).bind(3, findingKindCode(kind)).bind(4, outTradeNo);
        s.bind(5, attemptId).bind(6, json(detail)).bind(7, action).bind(8, m_nowMs);
        if (const store::SqlError e = s.run(); !e.ok()) {
            m_tx.fail(e);
            return;
        }
        if (m_tx.db().changes() > 0)
            ++m_newFindings;
        s.reset();
    }

    // Freezes an attempt by its open credited_not_in_bill finding of this bill (sql/0010): the
    // first such finding holds it; a settled one never freezes again.
    void freeze(qint64 attemptId, const QString &outTradeNo)
    {
        if (failed())
            return;
        store::Statement &s = prepared(m_freeze,
            QStringLiteral("UPDATE payment_attempts SET frozen_by_finding_id = ("
                           "  SELECT f.id FROM payment_findings f WHERE f.channel = ?2 AND f.bill_date = ?3 "
                           "  AND f.kind = 'credited_not_in_bill' AND f.out_trade_no = ?4 AND f.settled_at_ms IS NULL) "
                           "WHERE id = ?1 AND frozen_by_finding_id IS NULL"));
        s.bind(1, attemptId).bind(2, channelCode(m_channel)).bind(3, m_dayText).bind(4, outTradeNo);
        if (const store::SqlError e = s.run(); !e.ok())
            m_tx.fail(e);
        s.reset();
    }

    int newFindings() const { return m_newFindings; }
    Channel channel() const { return m_channel; }
    const QString &dayText() const { return m_dayText; }
    qint64 nowMs() const { return m_nowMs; }

private:
    store::Statement &prepared(std::optional<store::Statement> &slot, const QString &sql)
    {
        if (!slot)
            slot.emplace(m_tx.prepare(sql));
        return *slot;
    }
    void check(const store::Statement &s)
    {
        if (!s.error().ok() && m_tx.error().ok())
            m_tx.fail(s.error());
    }

    store::Transaction &m_tx;
    const Channel m_channel;
    const QString m_dayText;
    const qint64 m_nowMs;
    const ReconcileLimits m_limits;
    int m_newFindings = 0;
    std::optional<store::Statement> m_attempt, m_credited, m_issuedOn, m_suspense, m_jobs, m_others, m_refund, m_insert,
        m_freeze;
};

QString validate(QDate day, const QList<BillRow> &rows, const ReconcileLimits &limits)
{
    if (!day.isValid())
        return QStringLiteral("bill_date is not a date");
    if (rows.size() > limits.billRowsMax)
        return QStringLiteral("the bill has %1 rows, more than the %2 one reconciliation takes")
            .arg(rows.size())
            .arg(limits.billRowsMax);
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const BillRow &row = rows.at(i);
        const QString where = QStringLiteral("bill row %1").arg(i + 1);
        if (row.outTradeNo.isEmpty() || row.outTradeNo.size() > ReconcileLimits::outTradeNoCharsMax)
            return where
                + QStringLiteral(": out_trade_no is empty or longer than %1 characters")
                      .arg(ReconcileLimits::outTradeNoCharsMax);
        if (row.kind == BillRow::Kind::Refund
            && (row.outRefundNo.isEmpty() || row.outRefundNo.size() > ReconcileLimits::outTradeNoCharsMax))
            return where + QStringLiteral(": a refund without its out_refund_no");
        if (row.amountFen <= 0)
            return where + QStringLiteral(": amount %1 fen is not positive").arg(row.amountFen);
    }
    return {};
}

// One bill payment row (or several with one out_trade_no) against our attempt.
void matchPayment(Matcher &m, const QString &outTradeNo, const QList<BillRow> &paid, int *matched)
{
    const Channel channel = m.channel();
    const QString provider = providerName(channel);
    const BillRow &row = paid.first();
    QJsonArray billRows;
    for (const BillRow &r : paid)
        billRows.append(QJsonObject{{QStringLiteral("provider_txn_id"), r.providerTxnId},
            {QStringLiteral("amount_fen"), r.amountFen}, {QStringLiteral("at_ms"), r.atMs}});

    const std::optional<Matcher::Ours> ours = m.attempt(outTradeNo);
    if (m.failed())
        return;
    if (!ours) {
        const QString elsewhere = m.issuedOn(outTradeNo);
        QJsonObject detail{{QStringLiteral("bill_fen"), row.amountFen},
            {QStringLiteral("provider_txn_id"), row.providerTxnId}, {QStringLiteral("paid_at_ms"), row.atMs},
            {QStringLiteral("bill_rows"), billRows}, {QStringLiteral("in_suspense"), m.inSuspense(outTradeNo)}};
        if (!elsewhere.isEmpty())
            detail.insert(QStringLiteral("issued_on"), elsewhere);
        m.record(FindingKind::UnknownInBill, outTradeNo, 0, detail,
            QStringLiteral("%1 took %2 for out_trade_no %3 (%1 trade %4), which prepayd never issued on %1%5: nothing "
                           "was credited. Staff: find the payer with %1 and refund them there, or credit the right "
                           "account by hand with this finding as the reason.")
                .arg(provider, yuan(row.amountFen), outTradeNo, row.providerTxnId,
                    elsewhere.isEmpty() ? QString() : QStringLiteral(" (it is a %1 attempt of ours)").arg(elsewhere)));
        return;
    }

    bool agrees = true;
    const QJsonObject base{{QStringLiteral("bill_fen"), row.amountFen},
        {QStringLiteral("attempt_fen"), ours->amountFen}, {QStringLiteral("state"), ours->state},
        {QStringLiteral("shop_no"), ours->shopNo}, {QStringLiteral("provider_txn_id"), row.providerTxnId},
        {QStringLiteral("paid_at_ms"), row.atMs}};

    if (paid.size() > 1) {
        agrees = false;
        QJsonObject detail = base;
        detail.insert(QStringLiteral("bill_rows"), billRows);
        m.record(FindingKind::DoublePayment, outTradeNo, ours->id, detail,
            QStringLiteral("%1's bill shows %2 payments for the one out_trade_no %3 (shop %4); prepayd credited at "
                           "most one. Staff: ask %1 which trade stands and refund the other there.")
                .arg(provider)
                .arg(paid.size())
                .arg(outTradeNo, ours->shopNo));
    }

    const std::optional<AttemptState> state = attemptStateFromCode(ours->state);
    const bool isPaidState = state && isPaid(*state);
    const qint64 credited = m.credited(ours->entryId);
    if (ours->state == u"disputed") {
        agrees = false;
        QJsonObject detail = base;
        detail.insert(QStringLiteral("provider_fen"), ours->providerAmountFen);
        m.record(FindingKind::AmountMismatch, outTradeNo, ours->id, detail,
            QStringLiteral("disputed: %1 reported %2 when it was paid and the bill says %3; the attempt is for %4 and "
                           "nothing was credited. Staff: settle it with %1 by hand (refund there, or credit by hand).")
                .arg(provider, yuan(ours->providerAmountFen), yuan(row.amountFen), yuan(ours->amountFen)));
    } else if (row.amountFen != ours->amountFen || (ours->entryId != 0 && credited != ours->amountFen)) {
        agrees = false;
        QJsonObject detail = base;
        detail.insert(QStringLiteral("credited_fen"), credited);
        m.record(FindingKind::AmountMismatch, outTradeNo, ours->id, detail,
            QStringLiteral("%1's bill says %2, the attempt is for %3%4. Staff: find out with %1 which is right, then "
                           "correct the wallet of shop %5 with a reversal or an adjustment (never an edit).")
                .arg(provider, yuan(row.amountFen), yuan(ours->amountFen),
                    ours->entryId != 0 ? QStringLiteral(" and the ledger credited %1").arg(yuan(credited))
                                       : QStringLiteral(" and nothing was credited yet"),
                    ours->shopNo));
    }

    if (!isPaidState && ours->state != u"disputed") {
        agrees = false;
        m.record(FindingKind::ProviderPaidNotCredited, outTradeNo, ours->id, base,
            QStringLiteral("%1's bill says paid, prepayd had not credited it (attempt %2): prepayd queries %1 and "
                           "credits it late if the query confirms the payment.")
                .arg(provider, ours->state));
        return;
    }
    if (isPaidState && ours->entryId == 0) {
        agrees = false;
        m.record(FindingKind::ProviderPaidNotCredited, outTradeNo, ours->id, base,
            QStringLiteral("the attempt is %1 but the ledger has no credit for it: a fault of prepayd. Staff: "
                           "investigate (prepay verify names it); prepayd does not credit it again by itself.")
                .arg(ours->state));
    }
    if (isPaidState && ours->entryId != 0) {
        const QJsonArray jobs = m.undeliveredJobs(ours->id);
        if (!jobs.isEmpty()) {
            agrees = false;
            QJsonObject detail = base;
            detail.insert(QStringLiteral("jobs"), jobs);
            QStringList what;
            for (const QJsonValue &j : jobs) {
                const QJsonObject job = j.toObject();
                what << QStringLiteral("meter %1: %2 %3%4")
                            .arg(QString::number(job.value(QStringLiteral("meter_serial")).toInteger()),
                                job.value(QStringLiteral("state")).toString(),
                                yuan(job.value(QStringLiteral("amount_fen")).toInteger()),
                                job.value(QStringLiteral("last_error")).toString().isEmpty() ? QString()
                                                                                             : QStringLiteral(" (")
                                        + job.value(QStringLiteral("last_error")).toString() + QLatin1Char(')'));
            }
            m.record(FindingKind::MeterNotRecharged, outTradeNo, ours->id, detail,
                QStringLiteral("credited to the wallet of shop %1, but the meter's recharge was not delivered (%2). "
                               "The money is in the wallet. Staff: check the meter and its bus, compare its balance "
                               "with the ledger, and send the recharge again by hand if it is missing.")
                    .arg(ours->shopNo, what.join(QStringLiteral("; "))));
        }
        const QJsonArray others = m.otherPayments(*ours);
        if (!others.isEmpty()) {
            agrees = false;
            QJsonObject detail = base;
            detail.insert(QStringLiteral("other_payments"), others);
            QStringList names;
            for (const QJsonValue &o : others)
                names << o.toObject().value(QStringLiteral("out_trade_no")).toString();
            m.record(FindingKind::DoublePayment, outTradeNo, ours->id, detail,
                QStringLiteral("the top-up of shop %1 was paid more than once (also %2); every payment was credited. "
                               "Nothing to do unless the tenant asks for one to be refunded.")
                    .arg(ours->shopNo, names.join(QStringLiteral(", "))));
        }
    }
    if (agrees && !m.failed())
        ++*matched;
}

} // namespace

QString findingKindCode(FindingKind kind)
{
    switch (kind) {
    case FindingKind::ProviderPaidNotCredited: return QStringLiteral("provider_paid_not_credited");
    case FindingKind::CreditedNotInBill: return QStringLiteral("credited_not_in_bill");
    case FindingKind::AmountMismatch: return QStringLiteral("amount_mismatch");
    case FindingKind::RefundMismatch: return QStringLiteral("refund_mismatch");
    case FindingKind::MeterNotRecharged: return QStringLiteral("meter_not_recharged");
    case FindingKind::DoublePayment: return QStringLiteral("double_payment");
    case FindingKind::UnknownInBill: return QStringLiteral("unknown_in_bill");
    }
    return QStringLiteral("unknown_in_bill");
}

std::optional<FindingKind> findingKindFromCode(QStringView code)
{
    for (int i = 0; i < findingKindCount; ++i) {
        if (code == findingKindCode(FindingKind(i)))
            return FindingKind(i);
    }
    return std::nullopt;
}

QString reconcileOutcomeCode(ReconcileOutcome outcome)
{
    switch (outcome) {
    case ReconcileOutcome::Reconciled: return QStringLiteral("reconciled");
    case ReconcileOutcome::Invalid: return QStringLiteral("invalid");
    case ReconcileOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

QString confirmOutcomeCode(ConfirmResult::Outcome outcome)
{
    switch (outcome) {
    case ConfirmResult::Outcome::Credited: return QStringLiteral("credited");
    case ConfirmResult::Outcome::AlreadyPaid: return QStringLiteral("already_paid");
    case ConfirmResult::Outcome::Disputed: return QStringLiteral("disputed");
    case ConfirmResult::Outcome::NotPaid: return QStringLiteral("not_paid");
    case ConfirmResult::Outcome::QueryFailed: return QStringLiteral("query_failed");
    case ConfirmResult::Outcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

std::pair<qint64, qint64> beijingDayMs(QDate day)
{
    const QTimeZone beijing(8 * 3600); // UTC+8 all year: the providers' bill days
    return {QDateTime(day, QTime(0, 0), beijing).toMSecsSinceEpoch(),
        QDateTime(day.addDays(1), QTime(0, 0), beijing).toMSecsSinceEpoch()};
}

QDate beijingDate(qint64 utcMs)
{
    return QDateTime::fromMSecsSinceEpoch(utcMs, QTimeZone(8 * 3600)).date();
}

ReconcileSummary reconcileBill(store::Transaction &tx, Channel channel, QDate billDate, const QList<BillRow> &rows,
    const QByteArray &raw, qint64 nowMs, const ReconcileLimits &limits)
{
    ReconcileSummary summary;
    summary.channel = channel;
    summary.billDate = billDate;
    const auto storeFailed = [&]() {
        summary.outcome = ReconcileOutcome::StoreFailed;
        summary.message = tx.error().toString();
        return summary;
    };
    if (const QString invalid = validate(billDate, rows, limits); !invalid.isEmpty()) {
        tx.rollback(invalid);
        summary.outcome = ReconcileOutcome::Invalid;
        summary.message = invalid;
        return summary;
    }
    const QString code = channelCode(channel);
    const QString dayText = billDate.toString(Qt::ISODate);
    const QString provider = providerName(channel);

    // 1. The bill as downloaded, once per day.
    const QByteArray sha = QCryptographicHash::hash(raw, QCryptographicHash::Sha256);
    store::Statement stored
        = tx.prepare(QStringLiteral("SELECT raw_sha256 FROM provider_bills WHERE channel = ?1 AND bill_date = ?2"));
    stored.bind(1, code).bind(2, dayText);
    const store::Statement::Step step = stored.step();
    if (step == store::Statement::Step::Error) {
        tx.fail(stored.error());
        return storeFailed();
    }
    if (step == store::Statement::Step::Row) {
        summary.billDiffers = stored.blob(0) != sha;
    } else {
        store::Statement insert = tx.prepare(
            QStringLiteral("INSERT INTO provider_bills (channel, bill_date, raw, raw_sha256, rows, downloaded_at_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
        insert.bind(1, code).bind(2, dayText).bind(3, raw).bind(4, sha).bind(5, qint64(rows.size())).bind(6, nowMs);
        if (const store::SqlError e = insert.run(); !e.ok()) {
            tx.fail(e);
            return storeFailed();
        }
        summary.billStored = true;
    }

    // 2. The bill's rows, by out_trade_no (payments) and out_refund_no (refunds), in bill order.
    QList<QString> paymentOrder;
    QHash<QString, QList<BillRow>> payments;
    QList<BillRow> refundRows;
    for (const BillRow &row : rows) {
        if (row.kind == BillRow::Kind::Payment) {
            if (!payments.contains(row.outTradeNo))
                paymentOrder.append(row.outTradeNo);
            payments[row.outTradeNo].append(row);
            summary.billPaidFen += row.amountFen;
            ++summary.paymentRows;
        } else {
            refundRows.append(row);
            summary.billRefundedFen += row.amountFen;
            ++summary.refundRows;
        }
    }
    summary.rows = int(rows.size());

    Matcher m(tx, channel, billDate, nowMs, limits);
    int matched = 0;
    for (const QString &outTradeNo : paymentOrder) {
        matchPayment(m, outTradeNo, payments.value(outTradeNo), &matched);
        if (m.failed())
            return storeFailed();
    }

    // 3. Refunds: every refund row against our refund with that number, the ledger's payout
    // entry; then our refunds of the day the bill lacks. Problems are gathered per payment
    // (out_trade_no), so two refunds of one payment make one finding.
    struct RefundIssue
    {
        QJsonArray refunds;
        QStringList what;
        qint64 attemptId = 0;
    };
    QList<QString> issueOrder;
    QHash<QString, RefundIssue> issues;
    const auto issue = [&](const QString &outTradeNo, const QJsonObject &refund, const QString &what) {
        if (!issues.contains(outTradeNo))
            issueOrder.append(outTradeNo);
        RefundIssue &i = issues[outTradeNo];
        i.refunds.append(refund);
        i.what.append(what);
    };
    QSet<QString> billRefundNos;
    for (const BillRow &row : refundRows) {
        billRefundNos.insert(row.outRefundNo);
        const std::optional<Matcher::OurRefund> ours = m.refund(row.outRefundNo);
        if (m.failed())
            return storeFailed();
        QJsonObject detail{{QStringLiteral("out_refund_no"), row.outRefundNo},
            {QStringLiteral("bill_fen"), row.amountFen}, {QStringLiteral("provider_txn_id"), row.providerTxnId},
            {QStringLiteral("at_ms"), row.atMs}};
        if (!ours) {
            issue(row.outTradeNo, detail,
                QStringLiteral("%1 refunded %2 (out_refund_no %3) that prepayd has no record of")
                    .arg(provider, yuan(row.amountFen), row.outRefundNo));
            continue;
        }
        detail.insert(QStringLiteral("our_fen"), ours->amountFen);
        detail.insert(QStringLiteral("state"), ours->state);
        detail.insert(QStringLiteral("ledger_paid_fen"), ours->paidEntryFen);
        QStringList problems;
        if (ours->outTradeNo != row.outTradeNo)
            problems << QStringLiteral("it refunds %1, ours refunds %2").arg(row.outTradeNo, ours->outTradeNo);
        if (ours->amountFen != row.amountFen)
            problems << QStringLiteral("the bill says %1, ours is %2").arg(yuan(row.amountFen), yuan(ours->amountFen));
        if (ours->state != u"succeeded")
            problems << QStringLiteral("ours is %1, not succeeded").arg(ours->state);
        else if (ours->paidEntryFen != row.amountFen)
            problems << (ours->paidEntryFen < 0
                    ? QStringLiteral("the ledger has no payout entry for it")
                    : QStringLiteral("the ledger paid out %1").arg(yuan(ours->paidEntryFen)));
        if (problems.isEmpty()) {
            ++matched;
            continue;
        }
        issue(row.outTradeNo, detail,
            QStringLiteral("refund %1: %2").arg(row.outRefundNo, problems.join(QStringLiteral(", "))));
    }
    {
        const auto [from, to] = beijingDayMs(billDate);
        store::Statement ourRefunds = tx.prepare(QStringLiteral(
            "SELECT r.out_refund_no, r.amount_fen, coalesce(a.out_trade_no, ''), coalesce(a.id, 0) FROM refunds r "
            "LEFT JOIN payment_attempts a ON a.id = r.payment_attempt_id WHERE r.channel = ?1 AND r.state = "
            "'succeeded' "
            "AND r.completed_at_ms >= ?2 AND r.completed_at_ms < ?3 ORDER BY r.id"));
        ourRefunds.bind(1, code).bind(2, from).bind(3, to);
        while (ourRefunds.step() == store::Statement::Step::Row) {
            summary.refundedFen += ourRefunds.int64(1);
            if (billRefundNos.contains(ourRefunds.text(0)))
                continue;
            issue(ourRefunds.text(2),
                QJsonObject{{QStringLiteral("out_refund_no"), ourRefunds.text(0)},
                    {QStringLiteral("our_fen"), ourRefunds.int64(1)},
                    {QStringLiteral("state"), QStringLiteral("succeeded")}, {QStringLiteral("in_bill"), false}},
                QStringLiteral("prepayd has refund %1 of %2 as succeeded, the bill does not have it")
                    .arg(ourRefunds.text(0), yuan(ourRefunds.int64(1))));
            issues[ourRefunds.text(2)].attemptId = ourRefunds.int64(3);
        }
        if (!ourRefunds.error().ok()) {
            tx.fail(ourRefunds.error());
            return storeFailed();
        }
    }
    for (const QString &outTradeNo : issueOrder) {
        const RefundIssue &i = issues.value(outTradeNo);
        qint64 attemptId = i.attemptId;
        if (attemptId == 0) {
            if (const std::optional<Matcher::Ours> ours = m.attempt(outTradeNo))
                attemptId = ours->id;
        }
        m.record(FindingKind::RefundMismatch, outTradeNo, attemptId,
            QJsonObject{{QStringLiteral("refunds"), i.refunds}},
            i.what.join(QStringLiteral("; "))
                + QStringLiteral(". Staff: query the refund with %1, then fix the ledger with a compensating entry "
                                 "(never an edit).")
                      .arg(provider));
        if (m.failed())
            return storeFailed();
    }

    // 4. Our side: every attempt of this channel paid within the day must be in the bill.
    {
        const auto [from, to] = beijingDayMs(billDate);
        store::Statement ourPaid = tx.prepare(
            QStringLiteral(
                "SELECT a.id, a.out_trade_no, a.amount_fen, a.state, a.paid_at_ms, coalesce(a.provider_txn_id, ''), "
                "acc.shop_no, coalesce((SELECT e.id FROM ledger_entries e WHERE e.kind = 'recharge' "
                "AND e.payment_attempt_id = a.id), 0) FROM payment_attempts a JOIN topup_orders o ON o.id = a.order_id "
                "JOIN accounts acc ON acc.id = o.account_id WHERE a.channel = ?1 AND a.paid_at_ms >= ?2 "
                "AND a.paid_at_ms < ?3 AND a.state IN ")
            + QLatin1String(paidStates) + QStringLiteral(" ORDER BY a.id"));
        ourPaid.bind(1, code).bind(2, from).bind(3, to);
        struct Paid
        {
            qint64 id;
            QString outTradeNo;
            qint64 amountFen;
            QString state;
            qint64 paidAtMs;
            QString txnId;
            QString shopNo;
            qint64 entryId;
        };
        QList<Paid> paidOnDay;
        while (ourPaid.step() == store::Statement::Step::Row)
            paidOnDay.append(Paid{ourPaid.int64(0), ourPaid.text(1), ourPaid.int64(2), ourPaid.text(3),
                ourPaid.int64(4), ourPaid.text(5), ourPaid.text(6), ourPaid.int64(7)});
        if (!ourPaid.error().ok()) {
            tx.fail(ourPaid.error());
            return storeFailed();
        }
        for (const Paid &p : paidOnDay) {
            const qint64 credited = m.credited(p.entryId);
            summary.creditedFen += credited;
            if (payments.contains(p.outTradeNo))
                continue;
            m.record(FindingKind::CreditedNotInBill, p.outTradeNo, p.id,
                QJsonObject{{QStringLiteral("attempt_fen"), p.amountFen}, {QStringLiteral("credited_fen"), credited},
                    {QStringLiteral("state"), p.state}, {QStringLiteral("paid_at_ms"), p.paidAtMs},
                    {QStringLiteral("provider_txn_id"), p.txnId}, {QStringLiteral("shop_no"), p.shopNo}},
                QStringLiteral("prepayd credited %1 to shop %2 for a %3 payment (trade %4) that %3's bill for %5 "
                               "does not have: a fault or a fraud. Frozen: no refund of this payment and no closing "
                               "of the account until staff settle this finding (payments.settle_finding). Staff: "
                               "ask %3; if it confirms it was never paid, reverse the credit (ledger.reverse) first.")
                    .arg(yuan(credited), p.shopNo, provider, p.txnId.isEmpty() ? QStringLiteral("unknown") : p.txnId,
                        dayText));
            m.freeze(p.id, p.outTradeNo);
            if (m.failed())
                return storeFailed();
        }
    }

    // 5. Findings of earlier runs (any day of this channel) that resolved themselves: a payment
    // the bill showed uncredited that a notification or the poller has credited since.
    {
        store::Statement resolved = tx.prepare(QStringLiteral(
            "UPDATE payment_findings SET settled_at_ms = ?2, action = action || ' Settled by prepayd: credited since "
            "(ledger entry ' || (SELECT e.id FROM ledger_entries e WHERE e.kind = 'recharge' "
            "AND e.payment_attempt_id = payment_findings.payment_attempt_id) || ').' "
            "WHERE channel = ?1 AND kind = 'provider_paid_not_credited' AND settled_at_ms IS NULL "
            "AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.kind = 'recharge' "
            "AND e.payment_attempt_id = payment_findings.payment_attempt_id)"));
        resolved.bind(1, code).bind(2, nowMs);
        if (const store::SqlError e = resolved.run(); !e.ok()) {
            tx.fail(e);
            return storeFailed();
        }
    }

    // 6. What the reconciler queries next, and the day's tally.
    store::Statement confirm = tx.prepare(
        QStringLiteral("SELECT DISTINCT f.payment_attempt_id FROM payment_findings f JOIN payment_attempts a "
                       "ON a.id = f.payment_attempt_id WHERE f.channel = ?1 AND f.kind = 'provider_paid_not_credited' "
                       "AND f.settled_at_ms IS NULL AND a.state IN ")
        + QLatin1String(payableStates) + QStringLiteral(" ORDER BY 1"));
    confirm.bind(1, code);
    while (confirm.step() == store::Statement::Step::Row)
        summary.toConfirm.append(confirm.int64(0));
    store::Statement tally = tx.prepare(QStringLiteral(
        "SELECT kind, count(*), sum(settled_at_ms IS NULL) FROM payment_findings WHERE channel = ?1 AND bill_date = ?2 "
        "GROUP BY kind"));
    tally.bind(1, code).bind(2, dayText);
    while (tally.step() == store::Statement::Step::Row) {
        if (const std::optional<FindingKind> kind = findingKindFromCode(tally.text(0)))
            summary.findings[size_t(*kind)] = int(tally.int64(1));
        summary.openFindings += int(tally.int64(2));
    }
    if (!confirm.error().ok() || !tally.error().ok()) {
        tx.fail(!confirm.error().ok() ? confirm.error() : tally.error());
        return storeFailed();
    }
    summary.matched = matched;
    summary.newFindings = m.newFindings();
    summary.outcome = ReconcileOutcome::Reconciled;
    summary.message = QStringLiteral("%1 %2: %3 rows, %4 matched, %5 new findings (%6 open)")
                          .arg(code, dayText)
                          .arg(summary.rows)
                          .arg(summary.matched)
                          .arg(summary.newFindings)
                          .arg(summary.openFindings);
    return summary;
}

ConfirmResult confirmPaidNotCredited(store::Transaction &tx, const billing::TariffBook &book, Channel channel,
    qint64 attemptId, const QueryResult &query, qint64 nowMs)
{
    ConfirmResult result;
    result.attemptId = attemptId;
    const QString provider = providerName(channel);
    const std::optional<Attempt> attempt = findAttempt(tx.db(), attemptId);
    if (!attempt || attempt->channel != channel) {
        result.outcome = ConfirmResult::Outcome::StoreFailed;
        result.action = QStringLiteral("no %1 attempt %2").arg(channelCode(channel)).arg(attemptId);
        return result;
    }
    Trade trade = query.trade;
    if (trade.outTradeNo.isEmpty())
        trade.outTradeNo = attempt->outTradeNo;
    bool settled = false;
    if (query.outcome != Outcome::Ok || trade.outTradeNo != attempt->outTradeNo) {
        result.outcome = ConfirmResult::Outcome::QueryFailed;
        result.action = QStringLiteral("%1's bill says paid, prepayd had not credited it. prepayd queried %1 and got "
                                       "no verified answer (%2 %3): it asks again at the next reconciliation.")
                            .arg(provider, outcomeCode(query.outcome), query.message.left(200));
    } else if (trade.state != TradeState::Paid) {
        result.outcome = ConfirmResult::Outcome::NotPaid;
        result.action = QStringLiteral("%1's bill says paid, but %1's query answers %2 (%3): nothing was credited. "
                                       "Staff: ask %1 which is right; credit by hand only on its word.")
                            .arg(provider, tradeStateCode(trade.state), trade.rawState);
    } else {
        // Found only by the reconciliation: the tenant saw no credit at the kiosk, so the
        // payment is a late one — the attempt is given up first (attempts.h), which makes the
        // credit late and flagged exactly as any late success.
        recordAbandonRequested(tx, attempt->id, nowMs);
        if (!tx.error().ok()) {
            result.outcome = ConfirmResult::Outcome::StoreFailed;
            return result;
        }
        const ApplyResult applied = applyTrade(tx, book, channel, trade, nowMs);
        switch (applied.outcome) {
        case ApplyOutcome::Credited: {
            // A clearer reason than the generic late one, for the staff who look at it.
            store::Statement flag = tx.prepare(
                QStringLiteral("UPDATE payment_attempts SET flag_reason = ?2 WHERE id = ?1 AND flagged = 1"));
            flag.bind(1, attempt->id)
                .bind(2,
                    QStringLiteral("late payment: found in %1's bill by the daily reconciliation, credited after "
                                   "a confirming query")
                        .arg(provider));
            if (const store::SqlError e = flag.run(); !e.ok()) {
                tx.fail(e);
                result.outcome = ConfirmResult::Outcome::StoreFailed;
                return result;
            }
            result.outcome = ConfirmResult::Outcome::Credited;
            result.entryId = applied.entryId;
            result.commandIds = applied.commandIds;
            result.action = QStringLiteral("%1's bill says paid, prepayd had not credited it. prepayd queried %1 "
                                           "(paid %2) and credited it late (ledger entry %3); the attempt is flagged "
                                           "for a look.")
                                .arg(provider, yuan(trade.totalFen))
                                .arg(applied.entryId);
            settled = true;
            break;
        }
        case ApplyOutcome::AlreadyPaid:
            result.outcome = ConfirmResult::Outcome::AlreadyPaid;
            result.action = QStringLiteral("%1's bill says paid, prepayd had not credited it; it was credited before "
                                           "prepayd's confirming query (a notification or the poller).")
                                .arg(provider);
            settled = true;
            break;
        case ApplyOutcome::StoreFailed:
            result.outcome = ConfirmResult::Outcome::StoreFailed;
            result.action = applied.message;
            return result;
        default:
            result.outcome = ConfirmResult::Outcome::Disputed;
            result.action = QStringLiteral("%1's bill says paid, prepayd had not credited it. prepayd queried %1: "
                                           "%2. Nothing was credited. Staff: settle it with %1 by hand.")
                                .arg(provider, applied.message);
            break;
        }
    }
    store::Statement note = tx.prepare(QStringLiteral(
        "UPDATE payment_findings SET action = ?2, settled_at_ms = nullif(?3, 0) WHERE payment_attempt_id = ?1 "
        "AND kind = 'provider_paid_not_credited' AND settled_at_ms IS NULL"));
    note.bind(1, attempt->id).bind(2, result.action).bind(3, settled ? nowMs : 0);
    if (const store::SqlError e = note.run(); !e.ok()) {
        tx.fail(e);
        result.outcome = ConfirmResult::Outcome::StoreFailed;
    }
    return result;
}

int openFindingsCount(store::Connection &db)
{
    store::SqlError error;
    const qint64 n
        = db.queryInt(QStringLiteral("SELECT count(*) FROM payment_findings WHERE settled_at_ms IS NULL"), &error);
    return error.ok() ? int(n) : -1;
}

int refreshFindingsAlarm(store::Transaction &tx, qint64 nowMs, const QJsonObject &detail)
{
    const int open = openFindingsCount(tx.db());
    if (open < 0) {
        tx.fail(store::SqlError{1, 0, QStringLiteral("counting the open findings")});
        return -1;
    }
    QJsonObject what = detail;
    what.insert(QStringLiteral("what"), QStringLiteral("reconciliation findings need staff"));
    what.insert(QStringLiteral("open_findings"), open);
    control::setAlarm(tx, open > 0, QStringLiteral("payment_unmatched"), control::Severity::Warning,
        control::AlarmSubject{QStringLiteral("system"), findingsAlarmSubjectId}, what, nowMs);
    return tx.error().ok() ? open : -1;
}

QString settleOutcomeCode(SettleOutcome outcome)
{
    switch (outcome) {
    case SettleOutcome::Settled: return QStringLiteral("settled");
    case SettleOutcome::NotFound: return QStringLiteral("not_found");
    case SettleOutcome::AlreadySettled: return QStringLiteral("already_settled");
    case SettleOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

SettleResult settleFinding(
    store::Transaction &tx, qint64 findingId, qint64 operatorId, const QString &note, qint64 nowMs)
{
    SettleResult result;
    const auto failed = [&tx, &result](const store::SqlError &error) {
        if (!error.ok())
            tx.fail(error);
        result.outcome = SettleOutcome::StoreFailed;
        result.message = tx.error().toString();
        return result;
    };
    store::Statement f = tx.prepare(QStringLiteral("SELECT settled_at_ms IS NOT NULL FROM payment_findings WHERE id = ?1"));
    f.bind(1, findingId);
    const store::Statement::Step step = f.step();
    if (step == store::Statement::Step::Error)
        return failed(f.error());
    if (step != store::Statement::Step::Row) {
        result.outcome = SettleOutcome::NotFound;
        result.message = QStringLiteral("no finding %1").arg(findingId);
        return result;
    }
    if (f.int64(0) != 0) {
        result.outcome = SettleOutcome::AlreadySettled;
        result.message = QStringLiteral("finding %1 is settled already").arg(findingId);
        return result;
    }
    store::Statement released = tx.prepare(QStringLiteral("SELECT id FROM payment_attempts WHERE frozen_by_finding_id = ?1 ORDER BY id"));
    released.bind(1, findingId);
    while (released.step() == store::Statement::Step::Row)
        result.released << released.int64(0);
    if (!released.error().ok())
        return failed(released.error());
    store::Statement settle = tx.prepare(QStringLiteral(
        "UPDATE payment_findings SET settled_at_ms = ?2, settled_by = ?3, settle_note = ?4 WHERE id = ?1"));
    settle.bind(1, findingId).bind(2, nowMs).bind(3, operatorId).bind(4, note);
    if (const store::SqlError e = settle.run(); !e.ok())
        return failed(e);
    store::Statement release = tx.prepare(QStringLiteral(
        "UPDATE payment_attempts SET frozen_by_finding_id = NULL WHERE frozen_by_finding_id = ?1"));
    release.bind(1, findingId);
    if (const store::SqlError e = release.run(); !e.ok())
        return failed(e);
    result.openFindings = refreshFindingsAlarm(tx, nowMs, QJsonObject{{QStringLiteral("settled_finding"), findingId}});
    if (result.openFindings < 0)
        return failed(store::SqlError());
    result.outcome = SettleOutcome::Settled;
    result.message = result.released.isEmpty()
        ? QStringLiteral("finding %1 settled").arg(findingId)
        : QStringLiteral("finding %1 settled; attempt %2 released").arg(findingId).arg(result.released.constFirst());
    return result;
}

qint64 freezingFinding(store::Connection &db, qint64 attemptId)
{
    store::Statement s = db.prepare(QStringLiteral(
        "SELECT coalesce(frozen_by_finding_id, 0) FROM payment_attempts WHERE id = ?1"));
    s.bind(1, attemptId);
    return s.step() == store::Statement::Step::Row ? s.int64(0) : 0;
}

QList<Finding> listFindings(store::Connection &db, const FindingFilter &filter, store::SqlError *error)
{
    store::Statement s = db.prepare(QStringLiteral(
        "SELECT id, channel, bill_date, kind, coalesce(out_trade_no, ''), coalesce(payment_attempt_id, 0), detail, "
        "action, found_at_ms, coalesce(settled_at_ms, 0), coalesce(settled_by, 0), coalesce(settle_note, ''), "
        "EXISTS (SELECT 1 FROM payment_attempts a WHERE a.frozen_by_finding_id = payment_findings.id) "
        "FROM payment_findings "
        "WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR bill_date >= ?2) AND (?3 IS NULL OR bill_date <= ?3) "
        "AND (?4 IS NULL OR kind = ?4) AND (?5 = 0 OR settled_at_ms IS NULL) AND id > ?6 ORDER BY id LIMIT ?7"));
    if (filter.channel)
        s.bind(1, channelCode(*filter.channel));
    else
        s.bindNull(1);
    if (filter.from.isValid())
        s.bind(2, filter.from.toString(Qt::ISODate));
    else
        s.bindNull(2);
    if (filter.to.isValid())
        s.bind(3, filter.to.toString(Qt::ISODate));
    else
        s.bindNull(3);
    if (filter.kind)
        s.bind(4, findingKindCode(*filter.kind));
    else
        s.bindNull(4);
    s.bind(5, filter.openOnly ? 1 : 0).bind(6, filter.afterId);
    s.bind(7, qBound(1, filter.limit, FindingFilter::findingsListMax));
    QList<Finding> findings;
    while (s.step() == store::Statement::Step::Row) {
        Finding f;
        f.id = s.int64(0);
        f.channel = channelFromCode(s.text(1)).value_or(Channel::Alipay);
        f.billDate = QDate::fromString(s.text(2), Qt::ISODate);
        f.kind = findingKindFromCode(s.text(3)).value_or(FindingKind::UnknownInBill);
        f.outTradeNo = s.text(4);
        f.attemptId = s.int64(5);
        f.detail = QJsonDocument::fromJson(s.text(6).toUtf8()).object();
        f.action = s.text(7);
        f.foundAtMs = s.int64(8);
        f.settledAtMs = s.int64(9);
        f.settledBy = s.int64(10);
        f.settleNote = s.text(11);
        f.freezing = s.int64(12) != 0;
        findings.append(f);
    }
    if (error)
        *error = s.error();
    return findings;
}

} // namespace prepay::payments
