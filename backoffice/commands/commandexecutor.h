// CommandExecutor: carries out ONE attempt of one durable command over a bus (issue 4;
// FEATURE-LANDSCAPE.md §4.3). It runs on a bus worker's thread, with that worker's
// ModbusClient and read-only connection; it owns neither, and no state between calls, so one
// executor serves every bus at once.
//
// One call of execute():
//  - loads the row; a final row is reported as it is, without I/O; a row past its deadline or
//    out of attempts is failed without I/O;
//  - writes 'sent' (and the attempt) BEFORE the first frame — for a recharge together with its
//    purchase sequence, planned from a read of the meter at the first send and never again: a
//    retry, a new connection or a restarted prepayd resends the identical frame, and the meter
//    map's sequence makes it apply at most once;
//  - writes 'acknowledged' when the meter answered the write and 'verified' when a read-back
//    shows it did it: the frame getting through and the meter doing it are different facts;
//  - on a transport failure (timeout, lost connection, bad reply, back-off, a gateway's
//    0x0A/0x0B, busy 0x06) keeps the row in its state and schedules the next attempt with an
//    exponential back-off ('command.retry_base_ms' doubling up to 'command.retry_max_ms');
//    when the attempts or the deadline run out, or the meter refuses, the row is failed with a
//    message for people.
// A recharge whose sequence was taken by another recharge is failed and never planned anew by
// itself: the two recharges and the meter's purchase history need a human (map §3).
#pragma once

#include "command.h"
#include "commandstore.h"

namespace prepay {
class Clock;
}

namespace prepay::modbus {
class MeterProfile;
class ModbusClient;
struct DriverError;
} // namespace prepay::modbus

namespace prepay::store {
class Connection;
}

namespace prepay::commands {

class CommandExecutor
{
public:
    // Reads the back-off settings once, now: a change applies after a restart of prepayd.
    CommandExecutor(CommandStore &store, const Clock &clock);

    // One attempt of command `commandId` on meter `unit` behind `client`. `reader` is a
    // read-only connection of the calling thread. The row's new state is written before this
    // returns; the result says what the caller does next (RetryLater: run again at
    // retryAtMs, wall clock) and carries the last good read of the meter, if one was made.
    ExecuteResult execute(qint64 commandId, store::Connection &reader, modbus::ModbusClient &client,
        const modbus::MeterProfile &profile, quint8 unit);

    const CommandLimits &limits() const { return m_limits; }
    // The wait before attempt `attemptNo + 1` after attempt `attemptNo` failed (1-based).
    qint64 backoffMs(int attemptNo) const;

private:
    class Attempt;

    CommandStore &m_store;
    const Clock &m_clock;
    const CommandLimits m_limits;
};

} // namespace prepay::commands
