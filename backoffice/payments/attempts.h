// QR top-ups and their payment attempts in the database (PAYMENT-PROVIDERS.md §3): every
// function here runs inside the caller's ONE write transaction, so each transition of the §3.4
// state machine is one transaction, and a paid attempt's credit and meter jobs (credit.h) are
// written in the same one as the transition.
//
//   created → qr_issued → scanned → credited (paid and credited at once) → (partially_)refunded
//        \→ closing → closed           closing / closed / expired_unknown → credited = late success
//        \→ expired_unknown → (query) → credited | closed
//   any open state → disputed          the provider's amount is not ours: never credited
//
// States only move forward: a transition is a compare-and-set (UPDATE … WHERE state IN (…)), so
// a duplicate notification, a query racing a notification or a replay after a restart finds the
// attempt past the point and changes nothing.
#pragma once

#include "api/money.h"
#include "payments/provider.h"

#include <QtCore/QString>

#include <optional>

namespace prepay::billing {
class TariffBook;
}
namespace prepay::store {
class Connection;
class Transaction;
}

namespace prepay::payments {

enum class AttemptState {
    Created,
    QrIssued,
    Scanned,
    Paid,
    Credited,
    PartiallyRefunded,
    Refunded,
    Closing,
    Closed,
    ExpiredUnknown,
    Disputed,
};
QString attemptStateCode(AttemptState state); // as stored: "qr_issued", …
std::optional<AttemptState> attemptStateFromCode(QStringView code);
bool isOpen(AttemptState state);              // the provider may still be asked about it
bool isPaid(AttemptState state);              // paid, credited, (partially_)refunded

struct Attempt
{
    qint64 id = 0;
    qint64 orderId = 0;
    qint64 accountId = 0;
    QString shopNo;
    qint64 kioskId = 0; // 0: not from a kiosk
    Channel channel = Channel::Alipay;
    QString outTradeNo;
    qint64 amountFen = 0;
    AttemptState state = AttemptState::Created;
    QString qrPayload;
    qint64 expiresAtMs = 0;
    qint64 createdAtMs = 0;
    qint64 paidAtMs = 0;
    qint64 abandonedAtMs = 0;
    qint64 nextQueryAtMs = 0; // 0: not scheduled
    int queryCount = 0;
    bool late = false;
    bool flagged = false;
    QString flagReason;
    QString providerTxnId;
    QString lastError;
    qint64 providerReversedAtMs = 0; // the provider returned the payment on cancel (0: no)
};

std::optional<Attempt> findAttempt(store::Connection &db, qint64 attemptId);
std::optional<Attempt> findAttempt(store::Connection &db, Channel channel, const QString &outTradeNo);

// ---- creating a top-up (topup.create)

struct TopUpLimits
{
    qint64 minFen = 100;
    qint64 maxFen = 500000;
    qint64 qrTimeoutMs = 150000; // how long the kiosk shows the QR; the provider deadline adds a margin
};
TopUpLimits readTopUpLimits(store::Connection &db); // settings payment.* (defaults when absent)

struct QrTopUp
{
    QString shopNo;
    qint64 amountFen = 0;
    Channel channel = Channel::Alipay;
    QString idempotencyKey; // the kiosk's, one per top-up
    qint64 kioskId = 0;    // the kiosk showing the QR (0: none)
    qint64 operatorId = 0; // the cashier showing it at the counter (0: none)
};

enum class CreateOutcome {
    Created,  // a new order and attempt (state created): ask the provider for the QR
    Existing, // the key's earlier top-up, same request: its attempt as it is now
    Conflict, // the key was used for another request
    NotFound, // no open account with that shop number
    Invalid,  // amount outside the limits (message says which)
    StoreFailed,
};
QString createOutcomeCode(CreateOutcome outcome);

struct CreateTopUpResult
{
    CreateOutcome outcome = CreateOutcome::StoreFailed;
    QString message;
    Attempt attempt;
};

// One QR top-up is one order with ONE attempt: the kiosk's idempotency key names the top-up, and
// the same key with another channel or amount is a Conflict, so a tenant who switches provider or
// tries again after a timeout starts a new top-up (new key, new order). Hence the race of
// PAYMENT-PROVIDERS.md T8 — two phones paying two attempts of one order — cannot be made through
// the API; a second payment of the same out_trade_no is refused by the provider (the sandbox
// tests it), and the reconciliation still reports two paid attempts of one order as
// double_payment should one ever exist (reconciliation.h).
CreateTopUpResult createTopUp(store::Transaction &tx, const QrTopUp &request, qint64 nowMs);

// out_trade_no: "P" + the attempt id (10 digits) + 9 characters [A-Z0-9] (a check of the id and
// random): 20 characters, valid for all three providers, never reused.
QString makeOutTradeNo(qint64 attemptId, QByteArrayView random9);

// ---- what the provider said

// create() answered: created → qr_issued with the QR (Ok); created → closed (Rejected); Unknown
// leaves it created (the poller queries, then retries the identical call).
bool recordCreated(store::Transaction &tx, qint64 attemptId, const CreateResult &result, qint64 nextQueryAtMs,
    qint64 nowMs);

enum class ApplyOutcome {
    Credited,        // paid: the transition, the ledger credit and the meter jobs are written
    AlreadyPaid,     // paid before: a duplicate, nothing written
    Disputed,        // the provider's amount or currency is not ours: disputed, alarm, no credit
    Updated,         // a non-paid state change (scanned, closed)
    NoChange,        // nothing to do (still waiting, not found, terminal)
    UnknownAttempt,  // no attempt of ours has this out_trade_no (suspense, for notifications)
    StoreFailed,
};
QString applyOutcomeCode(ApplyOutcome outcome);

struct ApplyResult
{
    ApplyOutcome outcome = ApplyOutcome::StoreFailed;
    QString message;
    qint64 attemptId = 0;
    qint64 accountId = 0;
    qint64 entryId = 0;
    bool late = false;
    Money balance;
    QList<qint64> commandIds; // after the commit, to the poller
};

// The one place a provider's word about a trade changes an attempt (query answers,
// notifications, bill rows after a confirming query). Paid with our amount → credited (late when
// the attempt was given up); another amount → disputed; Closed/Failed → closed; WaitingPayment →
// scanned. A paid attempt never moves back.
ApplyResult applyTrade(store::Transaction &tx, const billing::TariffBook &book, Channel channel, const Trade &trade,
    qint64 nowMs);

// The poller's bookkeeping after a query that changed nothing: count it and set the next time.
bool recordQueried(store::Transaction &tx, qint64 attemptId, qint64 nextQueryAtMs, qint64 nowMs);

// The kiosk gave up or the deadline passed: open → closing (abandoned_at_ms set once; a payment
// after it is late). Already closing/closed/paid: nothing.
bool recordAbandonRequested(store::Transaction &tx, qint64 attemptId, qint64 nowMs);

// abandon() answered. Ok/Rejected-not-paid → stays closing until the final query says closed;
// alreadyPaid → the caller queries and applies; an unknown outcome keeps it closing.
bool recordAbandonAnswer(store::Transaction &tx, qint64 attemptId, const AbandonResult &result, qint64 nextQueryAtMs,
    qint64 nowMs);

// The provider's cancel returned a payment to the payer (Alipay cancel, action=refund — 冲正 of a
// trade paid a moment before): recorded once on the attempt (flagged); a success reported for it
// from now on is never credited (applyTrade: NoChange); a credit made before this answer arrived
// is undone by a compensating reversal of its recharge entry (key "cancel-refund:attempt:<id>",
// the wallet may go below zero: the money is gone), the attempt → refunded, and the control
// policy runs (its commands in the result).
ApplyResult recordCancelRefunded(store::Transaction &tx, const billing::TariffBook &book, qint64 attemptId, qint64 nowMs);

// Past the deadline and the grace with no final answer: closing/created/qr_issued/scanned →
// expired_unknown (still queried on the slow schedule, alarm when stuck).
bool recordExpiredUnknown(store::Transaction &tx, qint64 attemptId, qint64 nextQueryAtMs, qint64 nowMs);

} // namespace prepay::payments
