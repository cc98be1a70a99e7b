// The ledger: where money moves, and the only code that writes ledger_entries, ledger_postings
// and the cached balances of ledger_accounts (DESIGN.md §3, RELIABILITY.md §7, docs/data-model.md
// "Ledger"). Double-entry and append-only: a business event is ONE entry whose postings sum to
// zero; a correction is a new entry (a reversal points at the entry it undoes), never an edit.
//
// Sign convention (as the schema): a posting's amount > 0 credits its account, < 0 debits it;
// a wallet's balance is the tenant's balance (negative = overdraft).
//
// Every entry carries an idempotency key and the SHA-256 of its canonical content (kind,
// postings, links, operator, reason). Posting the same key again with the same content is the
// named outcome Duplicate (the existing entry, nothing written); with other content, Conflict.
// The cached balance of every account an entry touches is updated in the same statement batch,
// inside the caller's transaction; `prepayctl ledger verify` (verify.h) checks cache = Σ postings.
//
// LedgerWriter works inside a write job of the store (store::Transaction): the caller owns the
// transaction, so a payment, its credit and its meter job — or a readings batch and its charges —
// commit together or not at all. A refused post writes nothing; the caller decides whether the
// rest of its transaction goes on (a batch goes on; a single business event rolls back).
//
// What it does not do: decide prices (billing), decide who may ask (api), talk to providers
// (payments). It checks only what money itself requires: balanced entries, known accounts,
// links each kind needs, reversals of existing, not yet reversed entries, and funds — a refund,
// a transfer, or a debit adjustment never takes a wallet below zero, and a reversal that would
// is refused unless the caller says the overdraft was approved (energy charges are never
// refused: the energy is already used; the control policy trips the supply instead).
#pragma once

#include "api/money.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

#include <memory>
#include <optional>

namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::ledger {

enum class EntryKind {
    Recharge,   // clearing:<channel> → wallet, for one paid payment attempt
    Charge,     // wallet → revenue:energy, for one charge interval
    Refund,     // wallet → refunds:payable (requested), refunds:payable → clearing (paid out)
    Reversal,   // every posting of the reversed entry with its sign flipped
    Transfer,   // wallet → wallet (account to account), staff with reason
    Adjustment, // adjustments ↔ wallet, staff with reason
};
QString entryKindCode(EntryKind kind); // as stored: "recharge", "charge", …
std::optional<EntryKind> entryKindFromCode(QStringView code);

enum class Channel {
    Cash,
    Alipay,
    Wechat,
    Unionpay
};
QString channelCode(Channel channel); // "cash", "alipay", "wechat", "unionpay"
std::optional<Channel> channelFromCode(QStringView code);

// The fixed system accounts (sql/0001_initial.sql inserts them with these ids and codes).
namespace account {
inline constexpr qint64 ClearingCash = 1;
inline constexpr qint64 ClearingAlipay = 2;
inline constexpr qint64 ClearingWechat = 3;
inline constexpr qint64 ClearingUnionpay = 4;
inline constexpr qint64 Revenue = 5;
inline constexpr qint64 RefundsPayable = 6;
inline constexpr qint64 Adjustments = 7;
inline constexpr qint64 Suspense = 8;
} // namespace account
qint64 clearingAccount(Channel channel);

// One leg of an entry.
struct Posting
{
    qint64 ledgerAccountId = 0;
    Money amount; // > 0 credit, < 0 debit, never 0
};

struct EntryRequest
{
    EntryKind kind = EntryKind::Adjustment;
    QString idempotencyKey; // 1..255 characters
    QList<Posting> postings;
    std::optional<qint64> paymentAttemptId; // Recharge (required)
    std::optional<qint64> chargeIntervalId; // Charge (required)
    std::optional<qint64> refundId;         // Refund (required)
    std::optional<qint64> reversesEntryId;  // Reversal (required)
    std::optional<qint64> operatorId;       // Transfer, Adjustment (required); who asked, else prepayd
    std::optional<qint64> approvalId;       // the second staff member, when one was required
    QString reason;                         // Transfer, Adjustment, Reversal (required)
    // A debit may take a wallet below zero (an approved overdraft). Charges always may.
    bool overdraftApproved = false;
};

// The canonical content an entry's request_hash is the SHA-256 of (stable; verify recomputes it).
QByteArray canonicalContent(const EntryRequest &request);
QByteArray requestHash(const EntryRequest &request);

// Named, stable outcomes (STYLE.md habit 6).
enum class PostOutcome {
    Posted,            // a new entry
    Duplicate,         // same key, same content: the existing entry, nothing written
    Conflict,          // same key, other content (or another entry already holds the link)
    Invalid,           // the request breaks a rule (message names it); nothing written
    UnknownAccount,    // a posting names no ledger account, or a tenant has no wallet
    InsufficientFunds, // the debit would take a wallet below zero
    NotReversible,     // reversal of a missing entry, of a reversal, or of one already reversed
    StoreFailed,       // SQLite refused (message says why); nothing of this entry written
};
QString postOutcomeCode(PostOutcome outcome);

struct PostResult
{
    PostOutcome outcome = PostOutcome::Invalid;
    qint64 entryId = 0; // Posted, Duplicate
    QString message;
    bool ok() const { return outcome == PostOutcome::Posted || outcome == PostOutcome::Duplicate; }
};

class LedgerWriter
{
public:
    // Prepares statements lazily and keeps them for the life of the writer (one transaction), as
    // it keeps what cannot change within it: a tenant's wallet once found, and the kind of a
    // ledger account once seen (never deleted nor re-typed: schema triggers). Balances are always
    // read afresh where a check needs one.
    LedgerWriter(store::Transaction &tx, qint64 nowMs);
    ~LedgerWriter();
    LedgerWriter(const LedgerWriter &) = delete;
    LedgerWriter &operator=(const LedgerWriter &) = delete;

    store::Transaction &transaction();

    // The one path by which money moves.
    PostResult post(const EntryRequest &request);

    // ---- The business events, each building its EntryRequest -------------------------------
    // Key "recharge:attempt:<id>". The attempt's channel and amount are the caller's to check.
    PostResult recharge(qint64 accountId, Channel channel, qint64 paymentAttemptId, Money amount);
    // Key "charge:interval:<id>"; amount > 0.
    PostResult charge(qint64 accountId, qint64 chargeIntervalId, Money amount);
    // Every posting of `entryId` flipped; key given by the caller (an operator request id).
    PostResult reverse(qint64 entryId, const QString &idempotencyKey, const QString &reason,
        std::optional<qint64> operatorId, std::optional<qint64> approvalId, bool overdraftApproved = false);
    PostResult transfer(qint64 fromAccountId, qint64 toAccountId, Money amount, const QString &idempotencyKey,
        qint64 operatorId, const QString &reason, std::optional<qint64> approvalId = std::nullopt);
    // amount > 0 credits the wallet, < 0 debits it.
    PostResult adjust(qint64 accountId, Money amount, const QString &idempotencyKey, qint64 operatorId,
        const QString &reason, std::optional<qint64> approvalId = std::nullopt);
    // Wallet → refunds payable (key "refund:<id>:request"), then refunds payable → clearing when
    // the money went out (key "refund:<id>:paid").
    PostResult refundRequested(qint64 accountId, qint64 refundId, Money amount);
    PostResult refundPaid(qint64 refundId, Channel channel, Money amount);

    // ---- Accounts ---------------------------------------------------------------------------
    // The tenant's wallet (ledger account id); nullopt if it has none.
    std::optional<qint64> walletOf(qint64 accountId);
    // Creates the wallet of a tenant account if missing; returns its id.
    qint64 ensureWallet(qint64 accountId, const QString &name);
    // The cached balance of a ledger account (kept equal to Σ postings by post()).
    std::optional<Money> balance(qint64 ledgerAccountId);
    std::optional<Money> walletBalance(qint64 accountId);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Read side, for any connection.
std::optional<Money> walletBalance(store::Connection &db, qint64 accountId);

} // namespace prepay::ledger
