#include "receiptfacts.h"

#include "receipts/verification.h"
#include "store/sqlite.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QTimeZone>

#include <algorithm>

namespace prepay::receipts {

namespace {

using store::ReadTransaction;
using store::Statement;

FactsResult outcome(FactsOutcome what, const QString &message)
{
    FactsResult r;
    r.outcome = what;
    r.message = message;
    return r;
}

FactsResult storeFailed(const Statement &s, const QString &doing)
{
    return outcome(FactsOutcome::StoreFailed, QStringLiteral("%1: %2").arg(doing, s.error().toString()));
}

// What the receipt number names, before anything else is read.
struct Subject
{
    ReceiptKind kind = ReceiptKind::TopUp;
    qint64 id = 0; // payment_attempts.id or refunds.id
    qint64 accountId = 0;
    QString channel;
    qint64 amountFen = 0;
    QString providerTxnId;
    QString state;
    bool late = false;
    qint64 kioskId = 0;    // top-up: the kiosk that created it
    qint64 operatorId = 0; // top-up: the cashier; refund: who asked
    qint64 entryId = 0;    // the entry that moved the wallet (0: none yet)
    qint64 atMs = 0;       // credited / completed (0: not yet)
    QString originalReceiptNo;
    QString originalProviderTxnId;
};

// A top-up's receipt: the attempt, its order and its recharge entry (unique per attempt).
const char *const kTopUpSql
    = "SELECT a.id, o.account_id, a.channel, a.amount_fen, coalesce(a.provider_txn_id, ''), a.state, a.late, "
      " coalesce(o.kiosk_id, 0), coalesce(o.operator_id, 0), coalesce(e.id, 0), coalesce(e.created_at_ms, 0) "
      "FROM payment_attempts a JOIN topup_orders o ON o.id = a.order_id "
      "LEFT JOIN ledger_entries e ON e.kind = 'recharge' AND e.payment_attempt_id = a.id "
      "WHERE a.out_trade_no = ?1";

// A refund's slip: the refund, the top-up it pays back (none for a closed account's cash refund)
// and its request entry — the one that took the money out of the wallet (ledger.h's key).
const char *const kRefundSql
    = "SELECT r.id, r.account_id, r.channel, r.amount_fen, coalesce(r.provider_refund_id, ''), r.state, "
      " r.requested_by, coalesce(e.id, 0), coalesce(r.completed_at_ms, 0), coalesce(a.out_trade_no, ''), "
      " coalesce(a.provider_txn_id, '') "
      "FROM refunds r LEFT JOIN payment_attempts a ON a.id = r.payment_attempt_id "
      "LEFT JOIN ledger_entries e ON e.idempotency_key = 'refund:' || r.id || ':request' AND e.kind = 'refund' "
      " AND e.refund_id = r.id "
      "WHERE r.out_refund_no = ?1";

// The account's points held at ?2 (linked by then, not unlinked before — a closing refund is
// written in the same instant as the unlinking), each with the meter installed on it then (the
// newest one when a swap happened in that very millisecond); in the order they were linked.
const char *const kPointsAtSql
    = "SELECT mp.code, mp.building_id, "
      " (SELECT m.serial_number FROM meter_installations i JOIN meters m ON m.id = i.meter_id "
      "   WHERE i.metering_point_id = mp.id AND i.installed_at_ms <= ?2 "
      "     AND (i.removed_at_ms IS NULL OR i.removed_at_ms >= ?2) "
      "   ORDER BY i.installed_at_ms DESC, i.id DESC LIMIT 1), mp.id "
      "FROM account_metering_points amp JOIN metering_points mp ON mp.id = amp.metering_point_id "
      "WHERE amp.account_id = ?1 AND amp.linked_at_ms <= ?2 "
      "  AND (amp.unlinked_at_ms IS NULL OR amp.unlinked_at_ms >= ?2) "
      "ORDER BY amp.linked_at_ms, amp.id";

// The wallet's posting of the entry, and the wallet's running balance just after it.
const char *const kBalanceSql = "SELECT p.amount_fen, (SELECT sum(q.amount_fen) FROM ledger_postings q "
                                "   WHERE q.ledger_account_id = p.ledger_account_id AND q.entry_id <= p.entry_id) "
                                "FROM ledger_postings p JOIN ledger_accounts w ON w.id = p.ledger_account_id "
                                "WHERE p.entry_id = ?1 AND w.kind = 'wallet' AND w.account_id = ?2";

// The tariff of point ?2 of account ?1 on the local day ?3: the point's own assignment, else the
// account's (billing/tariff.h), with the version in force that day.
const char *const kTariffSql
    = "SELECT t.code, t.name, v.kind, v.version, v.price_sharp, v.price_peak, v.price_flat, v.price_valley "
      "FROM tariffs t JOIN tariff_versions v ON v.id = (SELECT y.id FROM tariff_versions y "
      "  WHERE y.tariff_id = t.id AND y.effective_date <= ?3 ORDER BY y.effective_date DESC LIMIT 1) "
      "WHERE t.id = coalesce("
      " (SELECT ta.tariff_id FROM tariff_assignments ta WHERE ta.metering_point_id = ?2 AND ta.effective_date <= ?3 "
      "   ORDER BY ta.effective_date DESC LIMIT 1), "
      " (SELECT ta.tariff_id FROM tariff_assignments ta WHERE ta.account_id = ?1 AND ta.effective_date <= ?3 "
      "   ORDER BY ta.effective_date DESC LIMIT 1))";

QString setting(store::Connection &db, const QString &key, const QString &fallback, bool *ok)
{
    Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    switch (s.step()) {
    case Statement::Step::Row: return s.text(0);
    case Statement::Step::Done: return fallback;
    case Statement::Step::Error: *ok = false; return fallback;
    }
    return fallback;
}

std::optional<Subject> findTopUp(store::Connection &db, const QString &receiptNo, FactsResult *failure)
{
    Statement s = db.prepare(QString::fromLatin1(kTopUpSql));
    s.bind(1, receiptNo);
    switch (s.step()) {
    case Statement::Step::Row: break;
    case Statement::Step::Done: return std::nullopt;
    case Statement::Step::Error: *failure = storeFailed(s, QStringLiteral("reading the top-up")); return std::nullopt;
    }
    Subject t;
    t.kind = ReceiptKind::TopUp;
    t.id = s.int64(0);
    t.accountId = s.int64(1);
    t.channel = s.text(2);
    t.amountFen = s.int64(3);
    t.providerTxnId = s.text(4);
    t.state = s.text(5);
    t.late = s.int64(6) != 0;
    t.kioskId = s.int64(7);
    t.operatorId = s.int64(8);
    t.entryId = s.int64(9);
    t.atMs = s.int64(10);
    return t;
}

std::optional<Subject> findRefund(store::Connection &db, const QString &receiptNo, FactsResult *failure)
{
    Statement s = db.prepare(QString::fromLatin1(kRefundSql));
    s.bind(1, receiptNo);
    switch (s.step()) {
    case Statement::Step::Row: break;
    case Statement::Step::Done: return std::nullopt;
    case Statement::Step::Error: *failure = storeFailed(s, QStringLiteral("reading the refund")); return std::nullopt;
    }
    Subject r;
    r.kind = ReceiptKind::Refund;
    r.id = s.int64(0);
    r.accountId = s.int64(1);
    r.channel = s.text(2);
    r.amountFen = s.int64(3);
    r.providerTxnId = s.text(4);
    r.state = s.text(5);
    r.operatorId = s.int64(6);
    r.entryId = s.int64(7);
    r.atMs = s.int64(8);
    r.originalReceiptNo = s.text(9);
    r.originalProviderTxnId = s.text(10);
    return r;
}

// Whether staff member `operatorId` may see building `buildingId` (no operator_buildings row:
// every building). *ok false when the statement failed.
bool staffMaySee(store::Connection &db, qint64 operatorId, qint64 buildingId, bool *ok)
{
    if (operatorId == 0)
        return true;
    Statement s = db.prepare(
        QStringLiteral("SELECT NOT EXISTS (SELECT 1 FROM operator_buildings WHERE operator_id = ?1) "
                       "OR EXISTS (SELECT 1 FROM operator_buildings WHERE operator_id = ?1 AND building_id = ?2)"));
    s.bind(1, operatorId).bind(2, buildingId);
    if (s.step() != Statement::Step::Row) {
        *ok = false;
        return false;
    }
    return s.int64(0) != 0;
}

QTimeZone siteZone(const QString &name)
{
    const QTimeZone zone(name.toUtf8());
    return zone.isValid() ? zone : QTimeZone(8 * 3600); // Asia/Shanghai's offset: the schema's default
}

} // namespace

QString receiptKindCode(ReceiptKind kind)
{
    switch (kind) {
    case ReceiptKind::TopUp: return QStringLiteral("topup");
    case ReceiptKind::Refund: return QStringLiteral("refund");
    }
    return QStringLiteral("topup");
}

QString issuerKindCode(IssuerKind kind)
{
    switch (kind) {
    case IssuerKind::None: return QStringLiteral("none");
    case IssuerKind::Kiosk: return QStringLiteral("kiosk");
    case IssuerKind::Operator: return QStringLiteral("operator");
    }
    return QStringLiteral("none");
}

QString factsOutcomeCode(FactsOutcome outcome)
{
    switch (outcome) {
    case FactsOutcome::Found: return QStringLiteral("found");
    case FactsOutcome::NotFound: return QStringLiteral("not_found");
    case FactsOutcome::NotIssued: return QStringLiteral("not_issued");
    case FactsOutcome::TooOld: return QStringLiteral("too_old");
    case FactsOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

FactsResult readReceiptFacts(store::Connection &db, const QString &receiptNo, const Viewer &viewer, qint64 nowMs)
{
    const FactsResult unknown = outcome(FactsOutcome::NotFound, QStringLiteral("no receipt %1").arg(receiptNo));
    if (receiptNo.size() < kReceiptNoMinChars || receiptNo.size() > kReceiptNoMaxChars)
        return unknown;
    ReadTransaction read(db);
    if (!read.error().ok())
        return outcome(FactsOutcome::StoreFailed, QStringLiteral("BEGIN: ") + read.error().toString());

    // 1. What the number names.
    FactsResult failure = outcome(FactsOutcome::NotFound, QString());
    std::optional<Subject> subject = findTopUp(db, receiptNo, &failure);
    if (!subject && failure.outcome == FactsOutcome::NotFound)
        subject = findRefund(db, receiptNo, &failure);
    if (failure.outcome != FactsOutcome::NotFound)
        return failure;
    if (!subject)
        return unknown;

    // 2. The account and the points it held then — which decide the building, so visibility is
    //    settled before anything says whether the receipt exists yet. A top-up not credited has
    //    no time of its own: its points are today's.
    ReceiptFacts f;
    f.kind = subject->kind;
    f.receiptNo = receiptNo;
    f.accountId = subject->accountId;
    f.atMs = subject->atMs;
    const qint64 pointsAtMs = subject->atMs != 0 ? subject->atMs : nowMs;
    {
        Statement a = db.prepare(QStringLiteral("SELECT shop_no, display_name FROM accounts WHERE id = ?1"));
        a.bind(1, subject->accountId);
        if (a.step() != Statement::Step::Row)
            return storeFailed(a, QStringLiteral("reading the account"));
        f.shopNo = a.text(0);
        f.shopName = a.text(1);
    }
    qint64 firstPointId = 0;
    {
        Statement p = db.prepare(QString::fromLatin1(kPointsAtSql));
        p.bind(1, subject->accountId).bind(2, pointsAtMs);
        Statement::Step step;
        while ((step = p.step()) == Statement::Step::Row) {
            if (firstPointId == 0) {
                firstPointId = p.int64(3);
                f.buildingId = p.int64(1);
            }
            if (f.meters.size() < kMetersOnReceiptMax)
                f.meters.append(MeterFact{p.text(0), p.isNull(2) ? std::nullopt : std::optional<qint64>(p.int64(2))});
        }
        if (step == Statement::Step::Error)
            return storeFailed(p, QStringLiteral("reading the metering points"));
        std::sort(f.meters.begin(), f.meters.end(),
            [](const MeterFact &x, const MeterFact &y) { return x.pointCode < y.pointCode; });
    }
    if (f.buildingId != 0) {
        Statement b = db.prepare(QStringLiteral("SELECT code, name, office_phone FROM buildings WHERE id = ?1"));
        b.bind(1, f.buildingId);
        if (b.step() != Statement::Step::Row)
            return storeFailed(b, QStringLiteral("reading the building"));
        f.buildingCode = b.text(0);
        f.buildingName = b.text(1);
        f.officePhone = b.isNull(2) ? QString() : b.text(2);
    }

    // Visibility (see the header): another building's receipt does not exist for this viewer.
    bool ok = true;
    if (viewer.kiosk && viewer.kioskBuildingId && *viewer.kioskBuildingId != f.buildingId)
        return unknown;
    if (!viewer.kiosk && !staffMaySee(db, viewer.operatorId, f.buildingId, &ok))
        return ok ? unknown : outcome(FactsOutcome::StoreFailed, QStringLiteral("reading operator_buildings"));

    // 3. Whether there is a receipt at all yet.
    if (subject->kind == ReceiptKind::TopUp && subject->entryId == 0)
        return outcome(FactsOutcome::NotIssued,
            QStringLiteral("top-up %1 is %2, not credited: it has no receipt").arg(receiptNo, subject->state));
    if (subject->kind == ReceiptKind::Refund && subject->state != u"succeeded")
        return outcome(FactsOutcome::NotIssued,
            QStringLiteral("refund %1 is %2: a refund slip exists once it is paid out").arg(receiptNo, subject->state));
    if (subject->entryId == 0 || subject->atMs == 0)
        return outcome(FactsOutcome::StoreFailed,
            QStringLiteral("receipt %1: the ledger has no entry that moved its money").arg(receiptNo));
    if (viewer.kiosk && nowMs - f.atMs > kKioskReceiptAgeMaxMs)
        return outcome(FactsOutcome::TooOld,
            QStringLiteral("receipt %1 is older than %2 days: the property office can print it")
                .arg(receiptNo)
                .arg(kKioskReceiptAgeMaxMs / (24 * 3600 * 1000)));

    // 4. The money, from the ledger: the wallet's posting of the entry and its running balance.
    f.ledgerEntryId = subject->entryId;
    f.amountFen = subject->amountFen;
    f.channel = subject->channel;
    f.providerTxnId = subject->providerTxnId;
    f.state = subject->state;
    f.late = subject->late;
    f.originalReceiptNo = subject->originalReceiptNo;
    f.originalProviderTxnId = subject->originalProviderTxnId;
    {
        Statement w = db.prepare(QString::fromLatin1(kBalanceSql));
        w.bind(1, subject->entryId).bind(2, subject->accountId);
        if (w.step() != Statement::Step::Row)
            return w.error().ok() ? outcome(FactsOutcome::StoreFailed,
                       QStringLiteral("ledger entry %1 of receipt %2 has no posting on the account's wallet")
                           .arg(subject->entryId)
                           .arg(receiptNo))
                                  : storeFailed(w, QStringLiteral("reading the wallet's balance"));
        const qint64 posted = w.int64(0);
        const qint64 expected = subject->kind == ReceiptKind::TopUp ? subject->amountFen : -subject->amountFen;
        if (posted != expected)
            return outcome(FactsOutcome::StoreFailed,
                QStringLiteral("receipt %1: the wallet's posting (%2 fen) is not its amount (%3 fen)")
                    .arg(receiptNo)
                    .arg(posted)
                    .arg(expected));
        f.balanceAfterFen = w.int64(1);
        f.balanceBeforeFen = f.balanceAfterFen - posted;
    }

    // 5. The office, the tariff of the day, who issued it.
    f.siteName = setting(db, QStringLiteral("site.name"), QString(), &ok);
    f.officeName = setting(db, QStringLiteral("site.office_name"), QString(), &ok);
    if (f.officePhone.isEmpty())
        f.officePhone = setting(db, QStringLiteral("kiosk.office_phone"), QString(), &ok);
    const QTimeZone zone
        = siteZone(setting(db, QStringLiteral("site.time_zone"), QStringLiteral("Asia/Shanghai"), &ok));
    if (!ok)
        return outcome(FactsOutcome::StoreFailed, QStringLiteral("reading the settings"));
    if (firstPointId != 0) {
        const QString day = QDateTime::fromMSecsSinceEpoch(f.atMs, zone).date().toString(Qt::ISODate);
        Statement t = db.prepare(QString::fromLatin1(kTariffSql));
        t.bind(1, subject->accountId).bind(2, firstPointId).bind(3, day);
        switch (t.step()) {
        case Statement::Step::Row:
            f.tariff = TariffFact{
                t.text(0), t.text(1), t.text(2), int(t.int64(3)), t.int64(4), t.int64(5), t.int64(6), t.int64(7)};
            break;
        case Statement::Step::Done: break; // no tariff assigned that day
        case Statement::Step::Error: return storeFailed(t, QStringLiteral("reading the tariff"));
        }
    }
    if (subject->kioskId != 0) {
        Statement k = db.prepare(QStringLiteral("SELECT name FROM kiosks WHERE id = ?1"));
        k.bind(1, subject->kioskId);
        if (k.step() != Statement::Step::Row)
            return storeFailed(k, QStringLiteral("reading the kiosk"));
        f.issuerKind = IssuerKind::Kiosk;
        f.issuedBy = k.text(0);
    } else if (subject->operatorId != 0) {
        Statement o = db.prepare(QStringLiteral("SELECT display_name FROM operators WHERE id = ?1"));
        o.bind(1, subject->operatorId);
        if (o.step() != Statement::Step::Row)
            return storeFailed(o, QStringLiteral("reading the operator"));
        f.issuerKind = IssuerKind::Operator;
        f.issuedBy = o.text(0);
    }

    // 6. The QR's verification string, under the site's secret (made on first use by the caller).
    QString error;
    const std::optional<QByteArray> secret = readSecret(db, &error);
    if (!error.isEmpty())
        return outcome(FactsOutcome::StoreFailed, error);
    FactsResult found;
    found.outcome = FactsOutcome::Found;
    found.message = QStringLiteral("receipt %1").arg(receiptNo);
    if (secret)
        f.verification = verificationString(*secret, f.receiptNo, f.amountFen, f.atMs);
    found.secretMissing = !secret;
    found.facts = f;
    return found;
}

QJsonObject factsJson(const ReceiptFacts &f)
{
    QJsonArray meters;
    for (const MeterFact &m : f.meters) {
        meters.append(QJsonObject{{QStringLiteral("point_code"), m.pointCode},
            {QStringLiteral("meter_serial"),
                m.meterSerial ? QJsonValue(*m.meterSerial) : QJsonValue(QJsonValue::Null)}});
    }
    const auto textOrNull = [](const QString &s) { return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(s); };
    QJsonObject o{{QStringLiteral("kind"), receiptKindCode(f.kind)}, {QStringLiteral("receipt_no"), f.receiptNo},
        {QStringLiteral("at_ms"), f.atMs},
        {QStringLiteral("building"),
            f.buildingId == 0 ? QJsonValue(QJsonValue::Null)
                              : QJsonValue(QJsonObject{
                                  {QStringLiteral("code"), f.buildingCode}, {QStringLiteral("name"), f.buildingName}})},
        {QStringLiteral("site_name"), f.siteName}, {QStringLiteral("office_name"), f.officeName},
        {QStringLiteral("office_phone"), f.officePhone}, {QStringLiteral("shop_no"), f.shopNo},
        {QStringLiteral("shop_name"), f.shopName}, {QStringLiteral("meters"), meters},
        {QStringLiteral("amount_fen"), f.amountFen}, {QStringLiteral("channel"), f.channel},
        {QStringLiteral("provider_txn_id"), textOrNull(f.providerTxnId)}, {QStringLiteral("entry_id"), f.ledgerEntryId},
        {QStringLiteral("balance_before_fen"), f.balanceBeforeFen},
        {QStringLiteral("balance_after_fen"), f.balanceAfterFen},
        {QStringLiteral("issued_by"),
            f.issuerKind == IssuerKind::None
                ? QJsonValue(QJsonValue::Null)
                : QJsonValue(QJsonObject{
                    {QStringLiteral("kind"), issuerKindCode(f.issuerKind)}, {QStringLiteral("name"), f.issuedBy}})},
        {QStringLiteral("late"), f.late}, {QStringLiteral("state"), f.state},
        {QStringLiteral("verification"), f.verification}};
    if (f.tariff) {
        o.insert(QStringLiteral("tariff"),
            QJsonObject{{QStringLiteral("code"), f.tariff->code}, {QStringLiteral("name"), f.tariff->name},
                {QStringLiteral("kind"), f.tariff->kind}, {QStringLiteral("version"), f.tariff->version},
                {QStringLiteral("prices"),
                    QJsonObject{{QStringLiteral("sharp"), f.tariff->priceSharp},
                        {QStringLiteral("peak"), f.tariff->pricePeak}, {QStringLiteral("flat"), f.tariff->priceFlat},
                        {QStringLiteral("valley"), f.tariff->priceValley}}}});
    } else {
        o.insert(QStringLiteral("tariff"), QJsonValue(QJsonValue::Null));
    }
    if (f.kind == ReceiptKind::Refund) {
        o.insert(QStringLiteral("original_receipt_no"), textOrNull(f.originalReceiptNo));
        o.insert(QStringLiteral("original_provider_txn_id"), textOrNull(f.originalProviderTxnId));
    }
    return o;
}

} // namespace prepay::receipts
