// Faults injected at run time (the control interface's POST /faults): what a broken field
// installation does to the transport, and the counter faults a broken or tampered meter shows.
// This is the table and its vocabulary; the bus (busline.h) and the gateway (gatewayserver.h)
// read it per transaction, MeterSimulation applies the one-shot kinds and the meter states.
//
// Kinds, the targets they take, and what they do (README.md has the user's view):
//   transport, any target (meter, bus, gateway), persistent until cleared:
//     no_reply     the meter applies the request, its reply is lost (the client times out)
//     late_reply   the meter answers after `ms` instead of its turnaround
//     crc_garbage  the reply's CRC is corrupted: RTU sends it as is; a TCP gateway sees a bad
//                  frame and answers like for a silent meter (0x0B or nothing, its policy)
//     wrong_tid    TCP only: the reply carries another transaction id (RTU unaffected)
//     exception    every request is answered with exception `code` (1..255), not applied
//     offline      the meter is gone: TCP → the gateway answers 0x0B after its timeout, or
//                  stays silent (`silence`, default: the gateway's policy); RTU → silence
//   gateway only:
//     disconnect   one-shot: drop every TCP connection of the gateway now
//     refuse       persistent: stop listening (connection refused) until cleared
//   meter only (forwarded to SimMeter):
//     counter_reset, rollover (`units_before_wrap`), swap (`new_serial`), jump (`wh`) one-shot;
//     frozen       persistent: energy registers stop until cleared
//     device_failure, busy  persistent: the meter itself answers 0x04 / 0x06 (after checking the
//                  function code, unlike the transport's blanket `exception`) until cleared
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QtGlobal>

#include <optional>

namespace prepay::sim {

enum class FaultKind {
    NoReply,
    LateReply,
    CrcGarbage,
    WrongTid,
    Exception,
    Offline,
    Disconnect,
    Refuse,
    CounterReset,
    Rollover,
    Swap,
    Frozen,
    Jump,
    DeviceFailure,
    Busy,
};

QString faultKindName(FaultKind kind); // "no_reply", "late_reply", …
std::optional<FaultKind> faultKindFromName(QStringView name);
QStringList faultKindNames();
// Transport faults change what the bus answers; the others act on a gateway or a meter.
bool isTransportFault(FaultKind kind);
// Persistent faults stay in the table until cleared; the others act once when added.
bool isPersistentFault(FaultKind kind);

// Limits of the fault parameters.
inline constexpr qint64 kLateReplyMaxMs = 600'000;
inline constexpr int kExceptionCodeMin = 1;
inline constexpr int kExceptionCodeMax = 255;
inline constexpr qint64 kJumpMaxWh = 1'000'000'000; // 1 GWh, far beyond any counter's wrap
inline constexpr int kFunctionCodeMin = 1;
inline constexpr int kFunctionCodeMax = 127;

// What a fault applies to, resolved against the building (indexes, not names).
struct FaultTarget
{
    enum class Scope {
        Meter,
        Bus,
        Gateway
    };
    Scope scope = Scope::Gateway;
    int gateway = 0;
    int bus = -1;        // Scope::Bus: bus index within the gateway
    int meterIndex = -1; // Scope::Meter: SimBuilding's meter index
    // As the client named it, for listing: a meter by serial stays "by serial".
    std::optional<quint32> serial;
};

struct FaultParams
{
    qint64 ms = 0;               // late_reply
    int code = 0;                // exception
    std::optional<bool> silence; // offline: true = no answer, false = 0x0B; unset = gateway policy
    quint32 unitsBeforeWrap = 0; // rollover
    quint32 newSerial = 0;       // swap
    qint64 wh = 0;               // jump
    // Transport faults: only requests of this function code (0x03 reads, 0x10 writes, …) are
    // hit; unset = every request. "The reply to the recharge write is lost, reads go through."
    std::optional<int> function;
};

struct Fault
{
    int id = 0;
    FaultKind kind = FaultKind::NoReply;
    FaultTarget target;
    FaultParams params;
};

// The persistent faults in force, in the order they were added. Ids are never reused.
class FaultTable
{
public:
    // A fresh id (one-shot faults take one too, so every POST /faults answers with an id).
    int allocateId() { return ++m_lastId; }
    // Keeps `fault` (its id from allocateId()).
    void add(const Fault &fault);
    std::optional<Fault> remove(int id);
    QList<Fault> takeAll();
    const QList<Fault> &all() const { return m_faults; }

    // The transport fault for a transaction with function code `function` to meter
    // `meterIndex` (−1: no meter) on bus `bus` of `gateway`: the most specific one in force
    // (meter before bus before gateway; the latest added within a level), or nullptr.
    const Fault *transportFault(int gateway, int bus, int meterIndex, int function) const;
    // Whether a persistent fault of `kind` targets exactly this gateway / meter.
    bool hasGatewayFault(FaultKind kind, int gateway) const;
    bool hasMeterFault(FaultKind kind, int meterIndex) const;

private:
    QList<Fault> m_faults;
    int m_lastId = 0;
};

} // namespace prepay::sim
