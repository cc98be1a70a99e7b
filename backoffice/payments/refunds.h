// Refunds of a QR top-up back to its payer through the provider (退电 to the original payment,
// PAYMENT-PROVIDERS.md §3.8), in the database. Every function here runs inside the caller's ONE
// write transaction: a refused request writes nothing (the transaction is rolled back), and every
// state change of a refund commits with its ledger entry, the attempt's state and the control
// policy's commands, or not at all. Talking to the providers is refundservice.h's.
//
//   request ──▶ pending_approval ──(approved)──▶ approved ──▶ submitted ──▶ succeeded
//                       │                           │             │
//                       └─(rejected, lapsed)──▶ rejected          └──(definite failure)──▶ failed
//   approved at once when staff::needsApproval() says one person may do it.
//
// Money (ledger.h, docs/data-model.md "How events post"):
//  - request:   refundRequested, wallet → refunds:payable, in the request's transaction — the
//               money leaves the wallet at once, so a pending refund cannot be spent twice
//               (on energy or on a second refund) while it waits for a second person or the
//               provider; the control policy runs on the account's points (the balance went
//               down: credit.h does the same after a credit), its commands are returned;
//  - succeeded: refundPaid, refunds:payable → clearing:<channel>, with the attempt's state
//               (credited → partially_refunded → refunded);
//  - rejected / failed: a reversal of the request entry (money back to the wallet, key
//               "refund:<id>:reversal"), and the control policy again (the supply may return).
//  refunds:payable therefore holds exactly the refunds pending approval, approved or submitted.
//
// What may be refunded (each a named refusal that writes nothing):
//  - one paid QR attempt (credited or partially_refunded) of Alipay or WeChat Pay, to the same
//    channel; a cash sale is paid back at the counter (account close), never here; UnionPay is
//    refused: our adapter does not implement its refund (unionpay.h);
//  - at most what is left of the attempt: its amount minus its refunds pending approval,
//    approved, submitted or succeeded (failed and rejected ones gave their share back);
//  - at most the wallet's balance: the account is prepaid, and energy already charged is spent.
//
// Meters that hold their own balance (decision): the wallet is the tenant's money and the only
// thing refunded — as when an account is closed with its balance paid out in cash
// (accounts/lifecycle.h) and as credit.h says ("the wallet, not the meters, decides the relay").
// The money a top-up loaded onto such a meter cannot be taken back remotely: the meter map v1
// has no debit (a recharge is 1..100,000,000 fen, PAYMENT-PROVIDERS §3.8 "deduct from the meter
// first" is not possible), so after a refund the meter shows more than the wallet. That is safe:
// the controller trips the supply by the wallet (relay_trip, force_off, whatever the meter holds),
// every kWh is still charged to the wallet from the readings, and the meter ↔ ledger
// reconciliation (control/reconcile.h) compares the meter with what was delivered to it, which a
// refund does not change — so no drift alarm either. The request's result names the meters
// (metersHoldingBalance) so staff can tell the tenant that the meter display is not the balance.
//
// Idempotent by the staff client's key: the same key with the same request (attempt, amount,
// reason, operator) answers the first refund again (Duplicate, nothing written); with another
// request it is a Conflict.
#pragma once

#include "api/money.h"
#include "payments/provider.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::staff {
struct StaffSettings;
}
namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::payments {

// Limits (STYLE.md habit 8).
constexpr int kRefundReasonMaxChars = 200; // Alipay takes 256, WeChat 80 (its adapter cuts)
constexpr int kRefundKeyMaxChars = 255;    // the schema's idempotency_key
constexpr int kRefundListMax = 500;

// The refunds row's state, as stored. (provider.h's RefundState is the provider's view.)
enum class RefundStatus {
    PendingApproval,
    Approved,
    Submitted,
    Succeeded,
    Failed,
    Rejected,
};
QString refundStatusCode(RefundStatus status); // "pending_approval", "approved", …
std::optional<RefundStatus> refundStatusFromCode(QStringView code);
bool isFinished(RefundStatus status); // succeeded, failed, rejected

struct Refund
{
    qint64 id = 0;
    qint64 accountId = 0;
    QString shopNo;
    Channel channel = Channel::Alipay;
    qint64 attemptId = 0;
    QString outTradeNo; // the attempt's
    qint64 attemptAmountFen = 0;
    qint64 attemptCreatedAtMs = 0;
    QString providerTxnId; // the attempt's trade_no / transaction_id
    QString outRefundNo;
    QString providerRefundId;
    qint64 amountFen = 0;
    RefundStatus status = RefundStatus::PendingApproval;
    QString reason;
    qint64 requestedBy = 0;
    qint64 approvalId = 0; // 0: none needed
    QString idempotencyKey;
    QString lastError;
    QString providerAnswer; // sql/0008_refunds.sql: unknown, processing, not_found, rejected, abnormal
    int submitCount = 0;
    int queryCount = 0;
    qint64 submittedAtMs = 0;
    qint64 nextActionAtMs = 0; // 0: nothing scheduled
    qint64 createdAtMs = 0;
    qint64 updatedAtMs = 0;
    qint64 completedAtMs = 0;
};

// Provider refunds only (a cash refund of an account close has no attempt).
std::optional<Refund> findRefund(store::Connection &db, qint64 refundId);
std::optional<Refund> findRefund(store::Connection &db, Channel channel, const QString &outRefundNo);
std::optional<Refund> findRefundOfApproval(store::Connection &db, qint64 approvalId);
// An attempt's refunds, oldest first (at most kRefundListMax).
QList<Refund> refundsOfAttempt(store::Connection &db, qint64 attemptId);

// out_refund_no: "R" + the refund id (10 digits) + 9 characters [A-Z0-9] (random): 20
// characters, valid for Alipay's out_request_no and WeChat's out_refund_no, never reused (the
// rows are never deleted and their number never changes: triggers of sql/0008_refunds.sql).
QString makeOutRefundNo(qint64 refundId, QByteArrayView random9);

// ---- asking for a refund (staff) ----------------------------------------------------------

struct RefundAsk
{
    qint64 attemptId = 0;   // the paid QR attempt
    qint64 amountFen = 0;   // > 0
    QString reason;         // 1..kRefundReasonMaxChars, told to the provider
    qint64 operatorId = 0;  // who asks (the maker)
    QString idempotencyKey; // the staff client's, 1..kRefundKeyMaxChars
};

enum class RefundRequestOutcome {
    Requested,      // written: pending_approval (approvalId set) or approved (the driver submits it)
    Duplicate,      // the key's earlier refund, same request: nothing written
    Conflict,       // the key was used for another request
    NotFound,       // no such attempt, or no such enabled operator
    NotRefundable,  // not a paid QR attempt (cash, unpaid, disputed, refunded) or the account is closed
    NotSupported,   // UnionPay: our adapter does not refund
    Invalid,        // amount ≤ 0, reason or key empty or too long
    ExceedsAttempt, // more than is left of the attempt after its other refunds
    ExceedsBalance, // more than the wallet holds
    StoreFailed,    // SQLite refused; the transaction is failed
};
QString refundRequestOutcomeCode(RefundRequestOutcome outcome); // "requested", "duplicate", …

struct RefundRequestResult
{
    RefundRequestOutcome outcome = RefundRequestOutcome::StoreFailed;
    QString message;
    Refund refund;                      // Requested, Duplicate
    qint64 approvalId = 0;              // pending_approval: the approvals row a second person decides
    Money balance;                      // the wallet after the request
    qint64 leftFen = 0;                 // what is left of the attempt after this refund
    QList<qint64> metersHoldingBalance; // the account's meters with their own balance (see above)
    QList<qint64> commandIds;           // the control policy's: hand them to the poller after the commit
    bool ok() const { return outcome == RefundRequestOutcome::Requested || outcome == RefundRequestOutcome::Duplicate; }
};

// Checks, writes the refunds row (out_refund_no final before any provider call), the ledger's
// refundRequested and — when `settings` say a second person is needed — the approvals row
// (kind refund, payload below), then runs the control policy. Refusals roll the transaction back.
RefundRequestResult requestRefund(store::Transaction &tx, const billing::TariffBook &book,
    const staff::StaffSettings &settings, const RefundAsk &ask, qint64 nowMs);

// The approvals payload of a provider refund: {"action": "payments.refund", "refund_id",
// "out_refund_no", "payment_attempt_id", "out_trade_no", "shop", "channel", "amount_fen"}. It
// deliberately has no "shop_no": the service's approval.decide maps kind 'refund' to
// account.close, whose action reads shop_no — without one it refuses rather than closing a shop.
// The service tells the two apart with isProviderRefund() and calls decideRefund() instead.
bool isProviderRefund(const QJsonObject &approvalPayload);

// ---- the second person's decision (approval.decide) ---------------------------------------

enum class RefundDecisionOutcome {
    Approved,   // pending_approval → approved: the driver submits it (the caller marks the approval executed)
    Rejected,   // pending_approval → rejected, the money back in the wallet
    NotFound,   // no provider refund waits on this approval
    NotPending, // the refund is past pending_approval (decided or lapsed before)
    StoreFailed,
};
QString refundDecisionOutcomeCode(RefundDecisionOutcome outcome);

struct RefundDecisionResult
{
    RefundDecisionOutcome outcome = RefundDecisionOutcome::StoreFailed;
    QString message;
    Refund refund;
    Money balance;            // the wallet after it
    QList<qint64> commandIds; // rejected: the control policy's (the balance went up)
};

// Called by approval.decide in ITS transaction, after staff::decide() returned Approved or
// Rejected for `approvalId` (the maker-checker rules — not the maker, not expired — are
// staff::decide()'s). `deciderId` is named on the reversal of a rejected refund. NotFound and
// NotPending write nothing and leave the transaction alone: the caller decides what follows.
RefundDecisionResult decideRefund(store::Transaction &tx, const billing::TariffBook &book, qint64 approvalId,
    bool approved, qint64 deciderId, qint64 nowMs);

// The safety net for approvals nobody will decide: a refund pending on an approval that is
// cancelled, rejected or expired (or pending past its expiry) becomes rejected with its money
// back; one on an approval executed becomes approved. The refunds settled now (the driver calls
// this on every tick; at most kRefundListMax per call).
QList<RefundDecisionResult> settleLapsedApprovals(
    store::Transaction &tx, const billing::TariffBook &book, qint64 nowMs);

// ---- what the provider said ---------------------------------------------------------------

enum class RefundApplyOutcome {
    Succeeded,     // → succeeded: refundPaid, the attempt partially_refunded / refunded
    Failed,        // → failed (a definite failure): the money back in the wallet, alarm
    Updated,       // still under way: what the provider said is recorded (processing, abnormal, …)
    AlreadyDone,   // finished before in the same way: a duplicate, nothing written
    Mismatch,      // the provider's word contradicts ours (amount, or success after we failed it): alarm, no change
    UnknownRefund, // no refund of ours has this out_refund_no on this channel
    NoChange,      // nothing to do (not a verified answer, or nothing new)
    StoreFailed,
};
QString refundApplyOutcomeCode(RefundApplyOutcome outcome);

struct RefundApplyResult
{
    RefundApplyOutcome outcome = RefundApplyOutcome::StoreFailed;
    QString message;
    qint64 refundId = 0;
    qint64 attemptId = 0;
    qint64 accountId = 0;
    QString attemptState;     // after a success: "partially_refunded" or "refunded"
    Money balance;            // the wallet after it
    QList<qint64> commandIds; // failed: the control policy's (the balance went up)
};

// A refund notification (provider.h Notification kind Refund: WeChat REFUND.*, Alipay's
// notifications with refund_fee), applied idempotently — the notification path calls it inside
// the transaction that records the provider_events row. Matched by (channel, out_refund_no).
// Succeeded → succeeded (once); Closed → failed; Abnormal → recorded, alarm; Processing → recorded.
// Amounts: WeChat's amount.refund must be ours; Alipay's refund_fee is the trade's cumulative
// refunds, so it must be at least ours. A notification that is not Outcome::Ok changes nothing.
RefundApplyResult applyRefund(
    store::Transaction &tx, const billing::TariffBook &book, Channel channel, const RefundResult &info, qint64 nowMs);

// ---- the driver's bookkeeping (refundservice.h) ------------------------------------------

// approved (or submitted, to send the identical call again) → submitted, before the provider
// call: submit_count + 1, submitted_at_ms set once, next_action_at_ms = when to query if no
// answer comes (a restart finds it then). False when the refund is not approved/submitted.
bool recordSubmitting(store::Transaction &tx, qint64 refundId, qint64 nextActionAtMs, qint64 nowMs);

enum class ProviderCall {
    Refund,
    RefundQuery
};

// The answer of one refund() or refundQuery() call for this refund:
//  - Ok with a state: succeeded / processing / closed (a definite failure) / abnormal (alarm);
//  - Unknown, or a refusal that means "try again" (ACQ.SYSTEM_ERROR, SYSTEM_ERROR,
//    FREQUENCY_LIMITED): query at nextQueryAtMs, never a new out_refund_no;
//  - "no such refund" from a query (Alipay's bare answer, WeChat RESOURCE_NOT_EXISTS): the
//    identical refund call again at once — unless the provider refused that very call before,
//    then it is a definite failure;
//  - a verified refusal of the refund call: a definite failure when no earlier call of this
//    refund can have taken effect (its first call, or a resend after "no such refund");
//    otherwise the provider may be refusing a duplicate of a refund it made: query first.
// Also counts the query, and raises an alarm once the refund has been under way for
// `stuckAfterMs` without a final answer.
RefundApplyResult recordProviderAnswer(store::Transaction &tx, const billing::TariffBook &book, qint64 refundId,
    ProviderCall call, const RefundResult &answer, qint64 nextQueryAtMs, qint64 stuckAfterMs, qint64 nowMs);

// True for a query answer that says the provider has no such refund.
bool isRefundNotFound(const RefundResult &answer);
// True for a refusal that means "call again with the same parameters", not "no".
bool isRetryableRefusal(const RefundResult &answer);

} // namespace prepay::payments
