// The daily reconciliation (对账) of one channel's bill for one day, PAYMENT-PROVIDERS.md §3.7: the
// provider's bill ↔ payment_attempts ↔ the ledger (the recharge entry of each attempt, refunds)
// ↔ meter_commands (the recharge jobs credit.h queued), keyed by out_trade_no and the refund
// numbers. Everything here runs inside the caller's ONE write transaction; the reconciler
// (reconciler.h) downloads the bill and runs it on the store's writer.
//
// What reconcileBill() writes, and nothing else:
//  - the bill as downloaded in provider_bills, once per (channel, day): immutable, for audit. A
//    later download of the same day is matched but not stored again (the first one is the
//    record; the summary says whether the later one had other bytes);
//  - one payment_findings row per difference, unique per (channel, bill_date, kind,
//    out_trade_no), so a re-run adds nothing twice. The `action` says in plain words what
//    prepayd did or what staff must do.
// It never credits, never debits and never moves an attempt: a bill row is not a verified
// answer about one trade. A payment the bill shows that we never credited is only recorded
// (provider_paid_not_credited); the reconciler then QUERIES the provider and applies the answer
// through applyTrade() (attempts.h), in its own transaction, and notes the result on the finding
// (confirmPaidNotCredited() below).
//
// The day is a Beijing (UTC+8) calendar day, as the providers cut their bills.
#pragma once

#include "payments/provider.h"

#include <QtCore/QDate>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

#include <array>
#include <optional>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::store {
class Connection;
class Transaction;
struct SqlError;
} // namespace prepay::store

namespace prepay::payments {

struct ApplyResult;

// The kinds of sql/0007_payments.sql, in its order.
enum class FindingKind {
    ProviderPaidNotCredited, // the bill says paid, we had not credited: query, then credit late
    CreditedNotInBill,       // we credited a payment of that day the bill does not have: investigate
    AmountMismatch,          // the bill's amount is not the attempt's or not what the ledger credited
    RefundMismatch,          // a refund in the bill that we do not have as succeeded, or the reverse
    MeterNotRecharged,       // credited, but a meter's recharge job failed, was cancelled or is overdue
    DoublePayment,           // the top-up order of a paid attempt was paid by another attempt too
    UnknownInBill,           // a bill row for an out_trade_no we never issued on that channel
};
inline constexpr int findingKindCount = 7;
QString findingKindCode(FindingKind kind); // as stored: "provider_paid_not_credited", …
std::optional<FindingKind> findingKindFromCode(QStringView code);

// Limits of the matching (STYLE.md habit 8).
struct ReconcileLimits
{
    // A recharge job not yet verified this long after it was queued counts as not delivered
    // (the poller retries a job for at most a day: command.deadline_ms).
    qint64 meterJobOverdueMs = 6 * 3600 * 1000;
    // Bigger bills are refused whole (Invalid): one transaction must stay short.
    qsizetype billRowsMax = 50000;
    // Identifiers as the schema allows them (payment_attempts, refunds).
    static constexpr qsizetype outTradeNoCharsMax = 64;
};
static_assert(ReconcileLimits{}.meterJobOverdueMs > 0 && ReconcileLimits{}.billRowsMax > 0);

enum class ReconcileOutcome {
    Reconciled,  // the bill is stored (or was), the findings are written
    Invalid,     // the input is not a bill we can match (message says why); nothing written
    StoreFailed, // SQLite refused; the transaction is failed
};
QString reconcileOutcomeCode(ReconcileOutcome outcome);

struct ReconcileSummary
{
    ReconcileOutcome outcome = ReconcileOutcome::StoreFailed;
    QString message;
    Channel channel = Channel::Alipay;
    QDate billDate;
    bool billStored = false;  // this run stored the bill (the first download of the day)
    bool billDiffers = false; // a bill was stored before with other bytes (matched: this one)
    int rows = 0;             // bill rows: payments + refunds
    int paymentRows = 0;
    int refundRows = 0;
    int matched = 0;     // bill rows that agree with our attempts or refunds, the ledger and the meter jobs
    int newFindings = 0; // written by this run
    std::array<int, findingKindCount> findings{}; // the day's findings by kind (this run and earlier ones)
    int openFindings = 0;                         // the day's findings nobody settled yet
    qint64 billPaidFen = 0;                       // Σ payment rows
    qint64 billRefundedFen = 0;                   // Σ refund rows
    qint64 creditedFen = 0; // Σ ledger recharges of our attempts of the channel paid within the day
    qint64 refundedFen = 0; // Σ our refunds of the channel that succeeded within the day
    // Attempts of this channel with an open provider_paid_not_credited finding (this day or an
    // earlier one) that are still payable: the reconciler queries each and applies the answer.
    QList<qint64> toConfirm;

    int count(FindingKind kind) const { return findings[size_t(kind)]; }
};

// [start, end) of a Beijing calendar day in UTC ms.
std::pair<qint64, qint64> beijingDayMs(QDate day);
// The Beijing calendar day of a UTC instant.
QDate beijingDate(qint64 utcMs);

// Stores the bill and writes the findings of (channel, billDate) in the caller's transaction.
// `raw` is the bill file as downloaded (BillResult::raw), `rows` its parsed rows. Invalid input
// (a date that is not one, more than billRowsMax rows, a row without an out_trade_no, a refund
// row without its out_refund_no, an amount ≤ 0) rolls the transaction back and writes nothing.
ReconcileSummary reconcileBill(store::Transaction &tx, Channel channel, QDate billDate, const QList<BillRow> &rows,
    const QByteArray &raw, qint64 nowMs, const ReconcileLimits &limits = {});

// What the confirming query of an attempt with a provider_paid_not_credited finding found.
struct ConfirmResult
{
    enum class Outcome {
        Credited,    // paid and our amount: credited now (late, flagged); the finding is settled
        AlreadyPaid, // credited meanwhile (a notification, the poller): the finding is settled
        Disputed,    // paid, another amount: disputed (no credit); the finding stays open
        NotPaid,     // the provider's query says it is not paid: the bill and the query disagree; open
        QueryFailed, // no verified answer: asked again at the next run; open
        StoreFailed,
    };
    Outcome outcome = Outcome::StoreFailed;
    QString action; // what was written on the finding
    qint64 attemptId = 0;
    qint64 entryId = 0;
    QList<qint64> commandIds; // meter jobs the credit queued: to the poller after the commit
};
QString confirmOutcomeCode(ConfirmResult::Outcome outcome);

// In the caller's transaction: applies the provider's answer to the query of `attemptId` (only
// a verified answer; `query.outcome != Ok` records QueryFailed) through applyTrade(), marks a
// payment found this way as late (the tenant saw no credit at the kiosk) and flagged, and writes
// the outcome on the attempt's open provider_paid_not_credited findings — settled (by prepayd)
// when the attempt is credited, open otherwise.
ConfirmResult confirmPaidNotCredited(store::Transaction &tx, const billing::TariffBook &book, Channel channel,
    qint64 attemptId, const QueryResult &query, qint64 nowMs);

// The open findings that need staff, all channels and days (the reconciler's alarm).
int openFindingsCount(store::Connection &db);

// The alarm subject ("system", this id) of the open-findings alarm.
inline constexpr qint64 findingsAlarmSubjectId = 3;
// The findings alarm (payment_unmatched on system/3): raised while any finding is open, cleared
// when none is; `detail` is added to the alarm's. In the caller's transaction; the open count, or
// -1 with the transaction failed.
int refreshFindingsAlarm(store::Transaction &tx, qint64 nowMs, const QJsonObject &detail = {});

// ---- staff settle a finding (payments.settle_finding)

enum class SettleOutcome {
    Settled,
    NotFound,       // no such finding
    AlreadySettled, // settled before (by prepayd or staff): nothing changed
    StoreFailed,
};
QString settleOutcomeCode(SettleOutcome outcome);

struct SettleResult
{
    SettleOutcome outcome = SettleOutcome::StoreFailed;
    QString message;
    QList<qint64> released; // attempts this finding had frozen, free again
    int openFindings = 0;   // after this one
};

// In the caller's transaction: marks the finding settled by `operatorId` with `note` (what staff
// found and did), releases the attempts it froze (credited_not_in_bill, sql/0010) and refreshes
// the findings alarm. A refusal changes nothing.
SettleResult settleFinding(
    store::Transaction &tx, qint64 findingId, qint64 operatorId, const QString &note, qint64 nowMs);

// The finding that freezes an attempt (credited_not_in_bill, not settled yet), or 0. Refunds of
// it are refused while it holds (and accounts/lifecycle.cpp refuses to close its account).
qint64 freezingFinding(store::Connection &db, qint64 attemptId);

// ---- reading the findings (the API's list for staff)

struct Finding
{
    qint64 id = 0;
    Channel channel = Channel::Alipay;
    QDate billDate;
    FindingKind kind = FindingKind::UnknownInBill;
    QString outTradeNo;
    qint64 attemptId = 0; // 0: none (unknown_in_bill, a refund we do not have)
    QJsonObject detail;   // what was compared: amounts in fen, states, provider ids
    QString action;       // what prepayd did or what staff must do
    qint64 foundAtMs = 0;
    qint64 settledAtMs = 0; // 0: open
    qint64 settledBy = 0;   // operator id; 0 with settledAtMs set: settled by prepayd
    QString settleNote;     // staff's words when they settled it
    bool freezing = false;  // it freezes its attempt now (credited_not_in_bill, open)
};

struct FindingFilter
{
    std::optional<Channel> channel;
    QDate from; // bill dates, inclusive; invalid = unbounded
    QDate to;
    std::optional<FindingKind> kind;
    bool openOnly = false;
    qint64 afterId = 0; // paging: ids greater than this, ascending
    int limit = 200;    // 1..findingsListMax
    static constexpr int findingsListMax = 1000;
};

// Ascending by id. A read that fails returns what it has and sets *error.
QList<Finding> listFindings(store::Connection &db, const FindingFilter &filter, store::SqlError *error = nullptr);

} // namespace prepay::payments
