// Maker-checker (DESIGN.md §4): an action that one staff member may not take alone waits in the
// approvals table until a different one decides. The request carries the exact action (payload)
// that will be executed, so what is approved is what runs.
//
// Life of a request: pending → approved → executed, or pending → rejected / cancelled (by its
// maker) / expired (not decided within approval.expiry_ms). The maker can never decide their own
// request (also a CHECK in the schema); who else may decide which kind is the service's
// permissions matrix, not this module's.
//
// Executing an approved payload is the caller's: the service maps kind → action. Approve and
// execute must happen in ONE write transaction — decide(…, Approve) returns the request, the
// service performs it, then markExecuted() — so that a crash cannot leave a request approved but
// not executed, or executed twice. Audit rows are the caller's too, in the same transaction.
#pragma once

#include "staffsettings.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::staff {

// The schema's kinds.
enum class ApprovalKind {
    Refund,
    Reversal,
    Adjustment,
    Transfer,
    ForceOn,
    ForceOff,
    BulkCommand,
    TariffChange,
    AccountClose,
    OperatorChange,
};

// refund, reversal, adjustment, transfer, force_on, force_off, bulk_command, tariff_change,
// account_close, operator_change
QString approvalKindCode(ApprovalKind kind);
std::optional<ApprovalKind> approvalKindFromCode(const QString &code);

enum class ApprovalState {
    Pending,
    Approved,
    Rejected,
    Cancelled,
    Expired,
    Executed,
};

QString approvalStateCode(ApprovalState state); // the schema's: pending, approved, … executed
std::optional<ApprovalState> approvalStateFromCode(const QString &code);

// THE rule of what needs a second person (one place; the service asks it before every action
// of these kinds): a refund of more than approval.money_threshold_fen, every reversal, every
// balance adjustment, every FORCE_ON (保电: supply kept on whatever the balance). Everything else
// may be done alone. `amountFen` matters for refunds only.
bool needsApproval(ApprovalKind kind, qint64 amountFen, const StaffSettings &settings);

struct Approval
{
    qint64 id = 0;
    ApprovalKind kind = ApprovalKind::Refund;
    QJsonObject payload;
    QString reason;
    ApprovalState state = ApprovalState::Pending;
    qint64 requestedBy = 0;
    QString requestedByLogin;
    QString requestedByName;
    qint64 requestedAtMs = 0;
    std::optional<qint64> decidedBy;
    std::optional<qint64> decidedAtMs;
    QString decisionNote;
    qint64 expiresAtMs = 0;
    std::optional<qint64> executedAtMs;
};

// Limits, with units in the name.
constexpr int kApprovalReasonMaxChars = 500;
constexpr int kApprovalNoteMaxChars = 500;
constexpr int kApprovalPayloadMaxBytes = 64 * 1024;
constexpr int kApprovalListMax = 500;

// Files a request, pending until nowMs + expiryMs (the caller passes
// StaffSettings::approvalExpiryMs). The id, or nullopt with *error naming the field (reason
// empty or too long, payload too large, expiry not positive); nothing written then. A failed
// statement fails the transaction.
std::optional<qint64> requestApproval(store::Transaction &tx, ApprovalKind kind, const QJsonObject &payload,
    const QString &reason, qint64 requestedBy, qint64 nowMs, qint64 expiryMs, QString *error);

enum class Decision {
    Approve,
    Reject,
};

enum class DecideOutcome {
    Approved,     // now approved: execute it in this transaction, then markExecuted()
    Rejected,     // now rejected
    NotFound,     // no such request
    NotPending,   // already decided, cancelled, expired or executed (see `approval.state`)
    Expired,      // pending past its expiry: now marked expired
    SelfApproval, // the decider is the maker: refused, nothing changed
    Failed,       // a statement failed: the transaction is failed
};

QString decideOutcomeCode(DecideOutcome outcome); // approved, rejected, not_found, not_pending, expired,
                                                  // self_approval, failed

struct DecideResult
{
    DecideOutcome outcome = DecideOutcome::NotFound;
    std::optional<Approval> approval; // as it stands after the decision (unless NotFound/Failed)
    QString error;                    // Failed
};

// Decides a pending request. Checked in this order: found, pending, not expired (an expired one
// is marked 'expired' — commit the transaction to keep that), not the maker's own. `note` is
// kept as decision_note (at most kApprovalNoteMaxChars; longer is cut).
DecideResult decide(
    store::Transaction &tx, qint64 approvalId, qint64 deciderId, Decision decision, const QString &note, qint64 nowMs);

enum class CancelOutcome {
    Cancelled, // withdrawn by its maker
    NotFound,
    NotPending,
    NotRequester, // only the maker may withdraw a request
    Failed,
};

QString cancelOutcomeCode(CancelOutcome outcome); // cancelled, not_found, not_pending, not_requester, failed

CancelOutcome cancelApproval(store::Transaction &tx, qint64 approvalId, qint64 byOperator, qint64 nowMs);

// approved → executed. False when the request is not approved (never approved, or executed
// already: a payload runs at most once).
bool markExecuted(store::Transaction &tx, qint64 approvalId, qint64 nowMs);

// Marks every pending request past its expiry as expired. The number marked.
int expireApprovals(store::Transaction &tx, qint64 nowMs);

// One request, whatever its state, or nullopt.
std::optional<Approval> loadApproval(store::Connection &db, qint64 approvalId);

// The queue approvers see: pending and not yet expired at nowMs, oldest first, at most `limit`
// (≤ kApprovalListMax). Nullopt with *error when the database could not be read.
std::optional<QList<Approval>> listPending(
    store::Connection &reader, qint64 nowMs, QString *error, int limit = kApprovalListMax);

} // namespace prepay::staff
