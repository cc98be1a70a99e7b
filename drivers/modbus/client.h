// The one wrapper around libmodbus 3.1.6 (STYLE.md habit 10; FIELD-PROTOCOLS.md §3).
//
// A ModbusClient owns one libmodbus context: one TCP connection to a gateway port, or one
// serial line. It is used by one thread at a time and has exactly one request in flight
// (libmodbus is synchronous). Every call returns a typed result instead of -1/errno, and the
// wrapper takes care of what libmodbus 3.1.6 leaves to its caller:
//  - timeouts come from the line's baud rate (BusTiming), never libmodbus's 0.5 s defaults;
//  - error recovery stays NONE (LINK recovery can loop forever on a dead gateway); instead a
//    lost or refused connection is reopened lazily, with back-off, on a later request;
//  - a late reply can never be matched to a later request: after a timeout or a reply that
//    does not belong to the request (wrong transaction id, CRC, length), a TCP connection is
//    closed — the late bytes die with it — and a serial line is flushed after a silence;
//  - a socket whose descriptor is ≥ FD_SETSIZE is refused (3.1.6 uses select());
//  - writes always use FC 0x10, whose reply 3.1.6 checks for quantity (FC 0x06 echoes are
//    not checked before 3.1.8); callers verify writes by reading back.
// What it does not do: decode values (MeterProfile does), retry (the command layer decides),
// or know about meters.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <span>

struct _modbus;

namespace prepay {
class Clock;
}

namespace prepay::modbus {

// Named, stable failure classes (stored and logged by code()).
enum class ErrorKind {
    None,
    Timeout,            // no (complete) reply within the response timeout
    Exception,          // the meter or gateway answered with a Modbus exception
    ConnectionRefused,  // TCP connect refused / serial device cannot be opened
    ConnectionLost,     // reset, broken pipe, I/O error on an open connection
    BadReply,           // CRC, wrong transaction id, wrong function, wrong length
    InvalidData,        // a well-formed reply whose values break the map (profile decoding)
    Backoff,            // not tried: the connection failed recently, waiting to retry
    DescriptorTooLarge, // the socket's descriptor is ≥ FD_SETSIZE
    NotSupported,       // the meter profile has no such operation
    Rejected,           // the meter refused the command (last_cmd_result) or read-back differs
    InvalidArgument,    // a programmer or user passed something outside the protocol
};

struct DriverError
{
    ErrorKind kind = ErrorKind::None;
    int exceptionCode = 0; // for Exception: 1..11
    QString message;       // one line for people, naming what was asked

    bool ok() const { return kind == ErrorKind::None; }
    // "timeout", "exception_2", "connection_refused", …
    QString code() const;
    static DriverError make(ErrorKind kind, QString message, int exceptionCode = 0);
};

template<typename T>
struct Result
{
    T value{};
    DriverError error;
    bool ok() const { return error.ok(); }
};

// Where a bus is: a gateway's TCP port, or a local serial device.
struct Endpoint
{
    enum class Kind {
        Tcp,
        Rtu
    };
    Kind kind = Kind::Tcp;
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 502;
    QString device;    // RTU: /dev/ttyUSB0, a pty
    int baud = 9600;   // RTU line speed; for TCP the speed of the gateway's serial side (0 = unknown)
    char parity = 'E'; // 'N', 'E', 'O'
    int dataBits = 8;
    int stopBits = 1;
    bool rs485 = false; // RTU: switch the UART to RS-485 mode (real adapters only; fails on a pty)

    QString toString() const; // "tcp 127.0.0.1:1502", "rtu /dev/pts/3 9600 8E1"
};

// Timeouts from the physics of the line (FIELD-PROTOCOLS.md §4.2): the response timeout
// covers the longest frame pair, the turnaround of a slow meter and, behind a gateway, its
// queue; the byte timeout bounds gaps inside a serial frame.
struct BusTiming
{
    int responseTimeoutMs = 1000;
    int byteTimeoutMs = 0;   // 0 = the whole reply within the response timeout (TCP)
    int interFrameGapUs = 0; // RTU: silence before each request (≥ 3.5 characters)

    static BusTiming forEndpoint(const Endpoint &endpoint);
};

// Limits on reconnecting, in one place.
struct ReconnectLimits
{
    int firstBackoffMs = 200;
    int maxBackoffMs = 10'000;
};
static_assert(ReconnectLimits{}.firstBackoffMs <= ReconnectLimits{}.maxBackoffMs);

struct ClientStats
{
    qint64 requests = 0;
    qint64 timeouts = 0;
    qint64 exceptions = 0;
    qint64 badReplies = 0;
    qint64 connects = 0;
    qint64 connectFailures = 0;
};

class ModbusClient
{
public:
    ModbusClient(Endpoint endpoint, BusTiming timing, const Clock &clock, ReconnectLimits limits = {});
    ~ModbusClient();
    ModbusClient(const ModbusClient &) = delete;
    ModbusClient &operator=(const ModbusClient &) = delete;

    const Endpoint &endpoint() const { return m_endpoint; }
    const BusTiming &timing() const { return m_timing; }
    const ClientStats &stats() const { return m_stats; }
    bool isConnected() const { return m_connected; }

    // Opens the connection now (requests also open it when needed). Respects the back-off.
    DriverError connect();
    void close();

    // FC 0x03: `count` holding registers from `address` of unit `unit` (1..247).
    Result<QList<quint16>> readRegisters(quint8 unit, quint16 address, int count);
    // FC 0x10: `values` from `address` (1..123 registers). Unit 0 broadcasts (no reply).
    DriverError writeRegisters(quint8 unit, quint16 address, std::span<const quint16> values);

private:
    DriverError ensureConnected();
    DriverError failure(int savedErrno, const QString &what);
    void waitInterFrameGap();
    void noteIoDone();

    Endpoint m_endpoint;
    BusTiming m_timing;
    const Clock &m_clock;
    ReconnectLimits m_limits;
    _modbus *m_ctx = nullptr;
    bool m_connected = false;
    bool m_flushBeforeNext = false;
    qint64 m_nextConnectAtMs = 0;
    int m_backoffMs = 0;
    qint64 m_lastIoMonotonicUs = 0;
    ClientStats m_stats;
};

// The process exit code of each failure class, for command-line tools (prepayctl meter …).
int exitCodeFor(const DriverError &error);

} // namespace prepay::modbus
