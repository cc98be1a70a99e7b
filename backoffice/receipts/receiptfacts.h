// Receipt facts (issue 9): everything a printed receipt says, read from the database in ONE read
// transaction, so its parts agree — the building and its property office, the shop, its metering
// points and meters, the amount, the channel and the provider's transaction id, the balance
// before and after, the tariff, who issued it, the late flag and the verification string of its
// QR. The renderer (drivers/printer/receipt.h) draws what this reports; it decides nothing.
//
// A receipt number is one of ours:
//  - a top-up's out_trade_no — a QR payment ("P…", topup.create) or a cash sale at the counter
//    ("CSH…", account.recharge_cash). A top-up has a receipt once it is credited (its ledger
//    recharge entry exists); "when" is that entry's time;
//  - a refund's out_refund_no — paid back to the payer through the provider ("R…", refund.request)
//    or in cash when an account was closed ("CLS…"). A refund slip exists once the refund
//    succeeded (the money is out); "when" is its completion.
// Numbers are looked up among top-ups first, then refunds (the prefixes never overlap).
//
// Where each figure comes from (never recomputed from anything else):
//  - amount: the top-up's / refund's amount, checked equal to the wallet's posting of the entry;
//  - balance before / after: the wallet's running balance just before and just after the ledger
//    entry that moved the money — the recharge entry of a top-up, the request entry
//    ("refund:<id>:request", wallet → refunds:payable) of a refund — i.e. the sum of the
//    wallet's postings up to that entry (entry ids only grow: one writer, append-only), never
//    the meter's balance;
//  - building: that of the account's first metering point held at that time (as account.get
//    says: in the order they were linked), with the site's name (setting `site.name`); the
//    office phone is the building's `office_phone`, else setting `kiosk.office_phone`; the
//    office name setting `site.office_name`;
//  - meters: the account's points held at that time (by code), each with the meter installed
//    on it then;
//  - tariff: the tariff of the first point on the receipt's local day (site.time_zone) — the
//    point's own assignment, else the account's (billing/tariff.h) — with the version in force:
//    raw facts (code, name, kind, slot prices); the words are the receipt's business;
//  - issued by: the kiosk that created the top-up, else the staff member (cashier) who did; for
//    a refund, the staff member who asked for it;
//  - late: the payment arrived after the QR had been given up (payment_attempts.late).
//
// Who may see which receipt (the API's rule, applied here so every caller applies the same):
// a kiosk paired with a building sees the receipts of that building's tenants only, and only
// those of the last kKioskReceiptAgeMaxMs; a staff member limited to some buildings
// (operator_buildings) sees only theirs. Another building's receipt is NotFound — as if it did
// not exist, like another building's shop everywhere else in the API.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Connection;
}

namespace prepay::receipts {

// Limits (STYLE.md habit 8).
inline constexpr qint64 kKioskReceiptAgeMaxMs = Q_INT64_C(90) * 24 * 3600 * 1000; // a kiosk reprints 90 days back
inline constexpr int kReceiptNoMinChars = 6;                                      // payment_attempts / refunds CHECKs
inline constexpr int kReceiptNoMaxChars = 64;                                     // refunds.out_refund_no
inline constexpr int kMetersOnReceiptMax = 32;                                    // account.open's point_codes
static_assert(kReceiptNoMinChars <= kReceiptNoMaxChars);

enum class ReceiptKind {
    TopUp,  // money in: a QR payment or a cash sale
    Refund, // money back to the payer
};
QString receiptKindCode(ReceiptKind kind); // "topup", "refund"

enum class IssuerKind {
    None,     // prepayd itself (e.g. a takeover credit at commissioning)
    Kiosk,    // the kiosk that created the top-up
    Operator, // the staff member who sold it or asked for the refund
};
QString issuerKindCode(IssuerKind kind); // "none", "kiosk", "operator"

struct MeterFact
{
    QString pointCode;                 // "A-1F-105"
    std::optional<qint64> meterSerial; // the meter installed on it then (none: no meter then)
};

struct TariffFact
{
    QString code; // "TOU-COM"
    QString name; // "商业分时电价"
    QString kind; // "flat", "tou", "tiered", "tou_tiered"
    int version = 0;
    qint64 priceSharp = 0; // 0.0001 CNY/kWh, as tariff_versions stores them
    qint64 pricePeak = 0;
    qint64 priceFlat = 0;
    qint64 priceValley = 0;
};

struct ReceiptFacts
{
    ReceiptKind kind = ReceiptKind::TopUp;
    QString receiptNo;
    qint64 atMs = 0; // credited (top-up) or completed (refund), UTC ms
    qint64 accountId = 0;
    qint64 buildingId = 0; // 0: the account had no metering point then
    QString buildingCode;
    QString buildingName;
    QString siteName;    // setting site.name: the property as a whole ("三明商会大厦")
    QString officeName;  // '' = none
    QString officePhone; // '' = none
    QString shopNo;
    QString shopName;
    QList<MeterFact> meters;
    qint64 amountFen = 0;  // > 0: credited, or refunded
    QString channel;       // "alipay", "wechat", "unionpay", "cash"
    QString providerTxnId; // top-up: the provider's trade id; refund: the provider's refund id ('' = none)
    qint64 ledgerEntryId = 0;
    qint64 balanceBeforeFen = 0; // the wallet just before the entry
    qint64 balanceAfterFen = 0;  // the wallet just after it
    std::optional<TariffFact> tariff;
    IssuerKind issuerKind = IssuerKind::None;
    QString issuedBy; // the kiosk's name or the operator's display name
    bool late = false;
    QString state; // the top-up's or refund's state now ("credited", "partially_refunded", "succeeded", …)
    // Refund slips: the top-up paid back (none for the cash refund of a closed account).
    QString originalReceiptNo;
    QString originalProviderTxnId;
    QString verification; // the QR's content (verification.h); '' while the site has no secret yet
};

// Who asks: the API's principal, reduced to what decides visibility.
struct Viewer
{
    bool kiosk = false;
    std::optional<qint64> kioskBuildingId; // a kiosk paired with one building
    qint64 operatorId = 0;                 // staff: their operator_buildings limit them (0: none)
};

enum class FactsOutcome {
    Found,
    NotFound,    // no such number, or not visible to the viewer
    NotIssued,   // a top-up not credited (yet), a refund not paid out (yet, or never): no receipt
    TooOld,      // a kiosk asked for one older than kKioskReceiptAgeMaxMs
    StoreFailed, // SQLite refused, or the ledger does not show the money (message says which)
};
QString factsOutcomeCode(FactsOutcome outcome); // "found", "not_found", "not_issued", "too_old", "store_failed"

struct FactsResult
{
    FactsOutcome outcome = FactsOutcome::StoreFailed;
    QString message;
    ReceiptFacts facts;         // Found
    bool secretMissing = false; // Found without a verification: the site has no secret yet
};

// Reads the receipt `receiptNo` for `viewer` at `nowMs` in one read transaction on `db` (its
// own BEGIN … COMMIT, unless `db` is already inside a transaction).
FactsResult readReceiptFacts(store::Connection &db, const QString &receiptNo, const Viewer &viewer, qint64 nowMs);

// The facts as the API answers them (docs/api.md receipt.get).
QJsonObject factsJson(const ReceiptFacts &facts);

} // namespace prepay::receipts
