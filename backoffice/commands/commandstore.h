// CommandStore: the only code that writes meter_commands (DESIGN.md §3; FEATURE-LANDSCAPE.md
// §4.3). It owns the rules of the state machine
//
//     queued → sent → acknowledged → verified          failed from any live state
//     queued → cancelled                                (live = queued, sent, acknowledged)
//
// and nothing else: it does no I/O to meters (CommandExecutor does) and it schedules nothing
// (the poller's bus workers do). It owns no connection either — writes go through the store's
// one writer (Store::write), reads through the caller's read-only connection.
//
// Every call is ONE write transaction that also checks the state it moves from, so two bus
// workers, a restart or an operator's cancel can never move a command twice: a transition that
// finds the row elsewhere is refused (returns false, logged) and changes nothing. The calls
// block until the transaction is on disk — "sent" must be durable before the frame leaves —
// so never call them from inside a write job.
//
// Thread-safe: any thread may call any method (each reader connection stays on its thread).
#pragma once

#include "command.h"

#include <QtCore/QList>

#include <optional>

namespace prepay {
class Clock;
}

namespace prepay::store {
class Connection;
class Store;
class Transaction;
struct SqlError;
} // namespace prepay::store

namespace prepay::commands {

// Limits of the command layer, in one place (STYLE.md habit 8). The settings table holds the
// values in force ('command.*'); these are the bounds a setting must respect and the defaults
// used when one is missing or out of bounds.
struct CommandLimits
{
    int attemptsMax = 5;            // 'command.attempts_max'
    qint64 retryBaseMs = 5'000;     // 'command.retry_base_ms': the wait after the first failure
    qint64 retryMaxMs = 600'000;    // 'command.retry_max_ms': the back-off never waits longer
    qint64 deadlineMs = 86'400'000; // 'command.deadline_ms': default deadline, from enqueue

    static constexpr int kAttemptsMaxLimit = 100;
    static constexpr qint64 kRetryMaxMsLimit = 86'400'000;
    static constexpr qint64 kDeadlineMsLimit = 30LL * 86'400'000;
    static constexpr int kIdempotencyKeyMaxChars = 255; // as the schema's CHECK
    static constexpr int kCorrelationIdMaxChars = 255;
    static constexpr int kReasonMaxChars = 1000;
};
static_assert(CommandLimits{}.attemptsMax >= 1 && CommandLimits{}.attemptsMax <= CommandLimits::kAttemptsMaxLimit);
static_assert(CommandLimits{}.retryBaseMs <= CommandLimits{}.retryMaxMs);
static_assert(CommandLimits{}.retryMaxMs <= CommandLimits::kRetryMaxMsLimit);
static_assert(CommandLimits{}.deadlineMs <= CommandLimits::kDeadlineMsLimit);

class CommandStore
{
public:
    CommandStore(store::Store &store, const Clock &clock);

    // Validates and records a request. Invalid: a field breaks a rule (the message names it:
    // "amountFen: …", "payload.tou[1]: …"); UnknownMeter: no installed meter with that id;
    // Duplicate: the key is known with the same request (kind, meter, payload, amount, txn,
    // ledger entry) — the existing id, nothing written; Conflict: the key is known with another
    // request, or the meter already has a recharge with this txn, or the ledger entry already
    // has a command. Otherwise a new 'queued' row: priority from priorityOf(), max_attempts
    // from 'command.attempts_max', deadline the request's or now + 'command.deadline_ms'.
    EnqueueResult enqueue(const CommandRequest &request);
    // The same inside the caller's write transaction (a policy decision in a readings batch, a
    // payment's meter job with its credit): the command exists exactly when that transaction
    // commits. A StoreFailed outcome has failed the transaction. The caller hands the queued id
    // to the poller after the commit (Poller::dispatchCommands()).
    static EnqueueResult enqueueWithin(store::Transaction &tx, const CommandRequest &request, qint64 nowMs);
    // Inside the caller's transaction: cancels the meter's commands of these kinds that are still
    // queued (never sent), because a newer decision replaces them; returns how many. Commands
    // already sent are left alone (their frame may be out). A failed statement fails the
    // transaction and returns -1.
    static int supersedeWithin(store::Transaction &tx, qint64 meterId, const QList<Kind> &kinds, const QString &reason,
        qint64 nowMs);

    // The rows still to be driven (queued, sent, acknowledged), by priority then id: at start,
    // prepayd hands them to the bus workers again.
    QList<CommandRow> loadLive(store::Connection &reader) const;
    // nullopt: no such command, or the read failed (then *error says why).
    std::optional<CommandRow> load(store::Connection &reader, qint64 id, store::SqlError *error = nullptr) const;

    // The limits in force, read from the settings now (a fresh read-only connection).
    CommandLimits readLimits() const;

    // ---- Transitions: each one transaction; false = refused (stale, or the store failed) ---
    // Attempt `attemptNo` (= attempts + 1, ≤ max_attempts) is about to send its first frame.
    // queued → sent; a row already sent or acknowledged keeps its state (it never moves back)
    // and counts the attempt. A recharge carries its purchase sequence: written at the first
    // send, required then, and never changed afterwards — a different one is refused.
    bool markSent(qint64 id, int attemptNo, std::optional<quint16> purchaseSeq = std::nullopt);
    // The meter answered the write: sent → acknowledged (again on a later attempt).
    bool markAcknowledged(qint64 id);
    // A read-back shows the meter did it: acknowledged → verified (final). In the same
    // transaction it clears the 'command_failed' alarms of the meter's earlier failed commands
    // this one supersedes: any relay command (relay_close, relay_trip, set_mode) those of the
    // relay commands, a push or read those of its own kind, a recharge none (each recharge
    // delivers its own credit: a failed one's money is still missing; a person settles it).
    bool markVerified(qint64 id);
    // Attempt `attemptNo` (the current attempts, or one more if it failed before markSent)
    // did not get through: the row keeps its state — a recharge in 'sent' stays 'sent', so a
    // restart knows its frame may be out — and records the error and when to try again.
    bool scheduleRetry(qint64 id, int attemptNo, const QString &error, qint64 nextAttemptAtMs);
    // Any live state → failed (final), with the error for people. In the same transaction it
    // raises 'command_failed' on the command (subject 'meter_command', its id; detail: meter,
    // kind, attempts, error): critical for recharges and relay commands, warning otherwise.
    bool markFailed(qint64 id, const QString &error);
    // queued → cancelled (final). A command already sent is not cancelled: its frame may be out.
    bool cancel(qint64 id, const QString &reason);

private:
    store::Store &m_store;
    const Clock &m_clock;
};

} // namespace prepay::commands
