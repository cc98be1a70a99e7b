// Durable meter commands (DESIGN.md §3, FEATURE-LANDSCAPE.md §4.3): every command to a meter is
// a row of meter_commands with a state machine
//
//     queued → sent → acknowledged → verified        (and failed / cancelled, from any live state)
//
// "sent" is written before the frame leaves; "acknowledged" when the meter answered the write;
// "verified" only when a read-back shows the meter did it. Retries with back-off until the
// attempts or the deadline run out. Commands survive a restart of prepayd: the live rows are
// loaded at start and driven again; a recharge carries its purchase sequence from the first
// "sent" on, so it is applied at most once (meter map §3).
//
// This header is the vocabulary: kinds, priorities, requests, rows and outcomes. CommandStore
// (commandstore.h) writes the rows; CommandExecutor (commandexecutor.h) carries one out on a
// bus worker's connection.
#pragma once

#include "modbus/mapv1.h"
#include "modbus/snapshot.h"

#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <optional>

namespace prepay::commands {

enum class Kind {
    Recharge,      // payload: {}; amountFen + rechargeTxn (the meter map's mailbox)
    RelayClose,    // AUTO with the relay closed: close permit if the meter waits for one
    RelayTrip,     // FORCE_OFF (拉闸)
    SetMode,       // payload: {"mode": "auto"|"force_on"|"force_off"}
    TariffPush,    // payload: {"version": V, "prices": [s, p, f, v], "tou": [[minute, "slot"], …]}
    ThresholdPush, // payload: {"alarm1_fen", "alarm2_fen", "overdraft_limit_fen", "overload_limit_w",
                   //           "overload_delay_s", "overload_recover_delay_s", "overload_max_trips",
                   //           "close_policy": "auto_close"|"wait_for_permit"}
    ClockSync,     // payload: {} (the backoffice clock at execution)
    ReadNow,       // payload: {}: a read recorded like a poll, as a durable request
};
QString kindCode(Kind kind); // as stored: "recharge", "relay_close", …
std::optional<Kind> kindFromCode(QStringView code);

// Commands jump the poll queue (issue 4): recharge and close > trip > tariff and threshold
// pushes > reads > polling. Lower runs first; every command is below kPollPriority.
int priorityOf(Kind kind, const QJsonObject &payload);
inline constexpr int kPollPriority = 10;

enum class State {
    Queued,
    Sent,
    Acknowledged,
    Verified,
    Failed,
    Cancelled
};
QString stateCode(State state);
std::optional<State> stateFromCode(QStringView code);
inline bool isFinal(State s)
{
    return s == State::Verified || s == State::Failed || s == State::Cancelled;
}

enum class Cause {
    Operator,
    Policy,
    Payment,
    Schedule,
    System
};
QString causeCode(Cause cause);

// What a caller asks for. The idempotency key makes a retried request the same command.
struct CommandRequest
{
    qint64 meterId = 0;
    Kind kind = Kind::ReadNow;
    QJsonObject payload;
    QString idempotencyKey; // required, 1..255 characters
    QString correlationId;  // optional: ties the commands of one business event
    Cause cause = Cause::System;
    std::optional<qint64> operatorId; // required when cause is Operator
    QString reason;
    std::optional<qint64> amountFen; // Recharge only: 1..100 000 000
    std::optional<quint32> rechargeTxn;
    std::optional<qint64> ledgerEntryId; // Recharge: the credit it delivers (billing issue)
    std::optional<qint64> deadlineMs;    // absolute; default: now + 'command.deadline_ms'
};

// A row of meter_commands as the executor needs it.
struct CommandRow
{
    qint64 id = 0;
    qint64 meterId = 0;
    Kind kind = Kind::ReadNow;
    State state = State::Queued;
    int priority = 0;
    QJsonObject payload;
    QString idempotencyKey;
    QString correlationId;
    std::optional<qint64> amountFen;
    std::optional<quint16> purchaseSeq; // Recharge: fixed at the first "sent", never changed
    std::optional<quint32> rechargeTxn;
    int attempts = 0;
    int maxAttempts = 5;
    std::optional<qint64> nextAttemptAtMs;
    std::optional<qint64> deadlineMs;
    QString lastError;
    qint64 createdAtMs = 0;
};

// Named, stable outcomes (STYLE.md habit 6).
enum class EnqueueOutcome {
    Queued,       // a new row
    Duplicate,    // the same key with the same request: the existing row, nothing changed
    Conflict,     // the same key with a different request: refused
    UnknownMeter, // no installed meter with that id
    Invalid,      // the request breaks a rule (message says which field)
    StoreFailed,  // the database refused the write or is shutting down: nothing written, ask again
};
QString enqueueOutcomeCode(EnqueueOutcome outcome);

struct EnqueueResult
{
    EnqueueOutcome outcome = EnqueueOutcome::Invalid;
    qint64 commandId = 0; // Queued, Duplicate
    QString message;
};

// What one execution attempt came to; the executor has already written the row's new state.
enum class ExecuteOutcome {
    Verified,   // done, read back
    RetryLater, // not done yet; run again at retryAtMs (attempts left, deadline not passed)
    Failed,     // given up: the meter refused, or attempts/deadline exhausted
    Cancelled,  // found cancelled
};
QString executeOutcomeCode(ExecuteOutcome outcome); // "verified", "retry_later", "failed", "cancelled"

struct ExecuteResult
{
    ExecuteOutcome outcome = ExecuteOutcome::Failed;
    qint64 retryAtMs = 0;
    QString message;
    // The last good read of the meter made while executing (the read-back), for the recorder.
    std::optional<modbus::MeterSnapshot> snapshot;
    qint64 snapshotAtMs = 0;
};

} // namespace prepay::commands
