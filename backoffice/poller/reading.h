// What a bus worker hands to the recorder after each read of a meter: the decoded snapshot or
// the error, when, why it was read, and the meter's circuit-breaker state after this read.
// The recorder validates, stores in batches and keeps the meter_state twin; nothing in here is
// trusted for billing until it has been validated there.
#pragma once

#include "modbus/snapshot.h"

#include <optional>

namespace prepay::poller {

enum class ReadReason {
    Cycle,   // the building's full cycle
    ReadNow, // staff or a rule asked (one meter, a floor, a building), or fresh state on demand
    Probe,   // an offline meter, tried again after its back-off
    Verify,  // read-back after a command
};
QString readReasonCode(ReadReason reason); // "cycle", "read_now", "probe", "verify"

enum class CommState {
    Unknown,
    Online,
    Offline
};
QString commStateCode(CommState state); // "unknown", "online", "offline"

struct ReadingResult
{
    qint64 meterId = 0;
    qint64 busId = 0;
    qint64 takenAtMs = 0; // wall clock when the reply (or the last failure) came
    ReadReason reason = ReadReason::Cycle;
    std::optional<modbus::MeterSnapshot> snapshot; // set on success
    modbus::DriverError error;                     // set on failure (ok() on success)
    int attempts = 1;                              // requests this read took (retries included)

    // The circuit breaker after this read.
    CommState commState = CommState::Unknown;
    bool commStateChanged = false; // went offline, or came back online, with this read
    int consecutiveFailures = 0;

    bool ok() const { return snapshot.has_value(); }
};

// One bus's figures, for staff (per bus: cycle time, error rate, offline meters).
struct BusHealth
{
    qint64 busId = 0;
    qint64 lastCycleStartedAtMs = 0;
    qint64 lastCycleDurationMs = 0; // 0 until a cycle has finished
    int lastCycleMeters = 0;        // reads attempted in that cycle
    int lastCycleErrors = 0;        // of those, failed
    int offlineMeters = 0;          // now
    qint64 requestsTotal = 0;       // since start
    qint64 errorsTotal = 0;
};

} // namespace prepay::poller
