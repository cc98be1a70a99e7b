#include "client.h"

#include "api/check.h"
#include "api/clock.h"
#include "mapv1.h"

#include <QtCore/QLoggingCategory>

#include <modbus/modbus.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/select.h>
#include <thread>
#include <unistd.h>

namespace prepay::modbus {

namespace {

Q_LOGGING_CATEGORY(lcModbus, "prepay.modbus")

// libmodbus's modbus_strerror() falls back to strerror(), which is not thread-safe; the
// messages people see are ours.
QString exceptionName(int code)
{
    switch (code) {
    case 0x01: return QStringLiteral("illegal function");
    case 0x02: return QStringLiteral("illegal data address");
    case 0x03: return QStringLiteral("illegal data value");
    case 0x04: return QStringLiteral("server device failure");
    case 0x05: return QStringLiteral("acknowledge");
    case 0x06: return QStringLiteral("server device busy");
    case 0x08: return QStringLiteral("memory parity error");
    case 0x0A: return QStringLiteral("gateway path unavailable");
    case 0x0B: return QStringLiteral("gateway target device failed to respond");
    default: return QStringLiteral("exception");
    }
}

QString hex4(quint16 v)
{
    return QStringLiteral("0x") + QString::number(v, 16).toUpper().rightJustified(4, u'0');
}

} // namespace

QString DriverError::code() const
{
    switch (kind) {
    case ErrorKind::None: return QStringLiteral("ok");
    case ErrorKind::Timeout: return QStringLiteral("timeout");
    case ErrorKind::Exception: return QStringLiteral("exception_%1").arg(exceptionCode);
    case ErrorKind::ConnectionRefused: return QStringLiteral("connection_refused");
    case ErrorKind::ConnectionLost: return QStringLiteral("connection_lost");
    case ErrorKind::BadReply: return QStringLiteral("bad_reply");
    case ErrorKind::InvalidData: return QStringLiteral("invalid_data");
    case ErrorKind::Backoff: return QStringLiteral("backoff");
    case ErrorKind::DescriptorTooLarge: return QStringLiteral("descriptor_too_large");
    case ErrorKind::NotSupported: return QStringLiteral("not_supported");
    case ErrorKind::Rejected: return QStringLiteral("rejected");
    case ErrorKind::InvalidArgument: return QStringLiteral("invalid_argument");
    }
    Q_UNREACHABLE();
}

DriverError DriverError::make(ErrorKind kind, QString message, int exceptionCode)
{
    DriverError e;
    e.kind = kind;
    e.message = std::move(message);
    e.exceptionCode = exceptionCode;
    return e;
}

int exitCodeFor(const DriverError &error)
{
    switch (error.kind) {
    case ErrorKind::None: return 0;
    case ErrorKind::Timeout: return 3;
    case ErrorKind::ConnectionRefused: return 4;
    case ErrorKind::Backoff:
    case ErrorKind::ConnectionLost: return 5;
    case ErrorKind::BadReply: return 6;
    case ErrorKind::InvalidData: return 7;
    case ErrorKind::NotSupported: return 8;
    case ErrorKind::Rejected: return 9;
    case ErrorKind::Exception: return 10 + error.exceptionCode;
    case ErrorKind::DescriptorTooLarge: return 71; // EX_OSERR
    case ErrorKind::InvalidArgument: return 64;    // EX_USAGE
    }
    Q_UNREACHABLE();
}

QString Endpoint::toString() const
{
    if (kind == Kind::Tcp)
        return QStringLiteral("tcp %1:%2").arg(host).arg(port);
    return QStringLiteral("rtu %1 %2 %3%4%5")
        .arg(device)
        .arg(baud)
        .arg(dataBits)
        .arg(QChar(char16_t(parity)))
        .arg(stopBits);
}

BusTiming BusTiming::forEndpoint(const Endpoint &endpoint)
{
    BusTiming t;
    if (endpoint.baud <= 0) {
        // Unknown line speed (or a gateway we know nothing about): libmodbus's own scale, doubled.
        t.responseTimeoutMs = 1000;
        return t;
    }
    // 11 bits per character (8E1, or 8N2 as the serial-line spec asks); 8N1 lines are faster.
    const double charMs = 11.0 * 1000.0 / endpoint.baud;
    // The longest exchange of the map: a 125-register read (8 + 255 bytes) plus both 3.5-char
    // silences, a slow meter's turnaround (up to 200 ms, FIELD-PROTOCOLS §4.1) and margin.
    const double longestMs = (8 + 255 + 7) * charMs + 200;
    if (endpoint.kind == Endpoint::Kind::Tcp) {
        // Behind a gateway the request may also wait for the one already on the line.
        t.responseTimeoutMs = int(std::clamp(2 * longestMs + 100, 500.0, 5000.0));
    } else {
        t.responseTimeoutMs = int(std::clamp(longestMs + 50, 200.0, 3000.0));
        t.byteTimeoutMs = int(std::clamp(10 * charMs, 20.0, 200.0));
        t.interFrameGapUs = int(std::max(3.5 * charMs * 1000.0, 1750.0));
    }
    return t;
}

ModbusClient::ModbusClient(Endpoint endpoint, BusTiming timing, const Clock &clock, ReconnectLimits limits)
    : m_endpoint(std::move(endpoint))
    , m_timing(timing)
    , m_clock(clock)
    , m_limits(limits)
{ }

ModbusClient::~ModbusClient()
{
    close();
}

void ModbusClient::close()
{
    if (m_ctx) {
        modbus_close(m_ctx);
        modbus_free(m_ctx);
        m_ctx = nullptr;
    }
    m_connected = false;
    m_flushBeforeNext = false;
}

DriverError ModbusClient::connect()
{
    return ensureConnected();
}

DriverError ModbusClient::ensureConnected()
{
    if (m_connected)
        return {};
    const qint64 now = m_clock.monotonicMs();
    if (now < m_nextConnectAtMs) {
        return DriverError::make(ErrorKind::Backoff,
            QStringLiteral("%1: not retrying for another %2 ms after the last failure")
                .arg(m_endpoint.toString())
                .arg(m_nextConnectAtMs - now));
    }

    close();
    // libmodbus 3.1.6 waits with select(), also inside modbus_connect(): a descriptor at or
    // above FD_SETSIZE would corrupt memory before we could look at it. A new descriptor takes
    // the lowest free number, so probe that first (and check the real one again below).
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe >= 0)
        ::close(probe);
    if (probe < 0 || probe >= FD_SETSIZE) {
        return DriverError::make(ErrorKind::DescriptorTooLarge,
            QStringLiteral("%1: the next descriptor would be ≥ %2; the process has too many open files")
                .arg(m_endpoint.toString())
                .arg(FD_SETSIZE));
    }
    if (m_endpoint.kind == Endpoint::Kind::Tcp) {
        m_ctx = modbus_new_tcp(m_endpoint.host.toUtf8().constData(), m_endpoint.port);
    } else {
        m_ctx = modbus_new_rtu(m_endpoint.device.toUtf8().constData(), m_endpoint.baud, m_endpoint.parity,
            m_endpoint.dataBits, m_endpoint.stopBits);
    }
    if (!m_ctx)
        return DriverError::make(
            ErrorKind::InvalidArgument, QStringLiteral("%1: invalid endpoint").arg(m_endpoint.toString()));

    modbus_set_error_recovery(m_ctx, MODBUS_ERROR_RECOVERY_NONE);
    modbus_set_response_timeout(
        m_ctx, uint32_t(m_timing.responseTimeoutMs / 1000), uint32_t((m_timing.responseTimeoutMs % 1000) * 1000));
    // A byte timeout of 0/0 makes the whole reply fit in the response timeout (TCP).
    modbus_set_byte_timeout(
        m_ctx, uint32_t(m_timing.byteTimeoutMs / 1000), uint32_t((m_timing.byteTimeoutMs % 1000) * 1000));

    ++m_stats.connects;
    if (modbus_connect(m_ctx) == -1) {
        const int savedErrno = errno;
        ++m_stats.connectFailures;
        close();
        m_backoffMs = m_backoffMs == 0 ? m_limits.firstBackoffMs : std::min(m_backoffMs * 2, m_limits.maxBackoffMs);
        m_nextConnectAtMs = now + m_backoffMs;
        // 3.1.6 reports a TCP connect timeout without a meaningful errno (fixed in 3.1.11).
        const QString reason = savedErrno == ECONNREFUSED ? QStringLiteral("connection refused")
                                                          : QString::fromLocal8Bit(strerrordesc_np(savedErrno));
        qCInfo(lcModbus, "%s: cannot connect (%s); next try in %d ms", qUtf8Printable(m_endpoint.toString()),
            qUtf8Printable(reason), m_backoffMs);
        return DriverError::make(
            ErrorKind::ConnectionRefused, QStringLiteral("%1: %2").arg(m_endpoint.toString(), reason));
    }

    if (modbus_get_socket(m_ctx) >= FD_SETSIZE) {
        // Another thread took the probed descriptor meanwhile.
        close();
        return DriverError::make(ErrorKind::DescriptorTooLarge,
            QStringLiteral("%1: descriptor ≥ %2; the process has too many open files")
                .arg(m_endpoint.toString())
                .arg(FD_SETSIZE));
    }
    if (m_endpoint.kind == Endpoint::Kind::Rtu && m_endpoint.rs485
        && modbus_rtu_set_serial_mode(m_ctx, MODBUS_RTU_RS485) == -1) {
        // Many USB adapters switch direction themselves and refuse the ioctl: not fatal.
        qCInfo(lcModbus, "%s: RS-485 mode not available, continuing", qUtf8Printable(m_endpoint.toString()));
    }
    m_connected = true;
    m_backoffMs = 0;
    m_nextConnectAtMs = 0;
    return {};
}

void ModbusClient::waitInterFrameGap()
{
    if (m_endpoint.kind != Endpoint::Kind::Rtu || m_timing.interFrameGapUs <= 0)
        return;
    using namespace std::chrono;
    const qint64 nowUs = duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
    const qint64 waitUs = m_lastIoMonotonicUs + m_timing.interFrameGapUs - nowUs;
    if (waitUs > 0)
        std::this_thread::sleep_for(microseconds(waitUs));
    if (m_flushBeforeNext) {
        modbus_flush(m_ctx);
        m_flushBeforeNext = false;
    }
}

void ModbusClient::noteIoDone()
{
    using namespace std::chrono;
    m_lastIoMonotonicUs = duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

DriverError ModbusClient::failure(int savedErrno, const QString &what)
{
    const QString where = m_endpoint.toString() + QStringLiteral(": ") + what;
    if (savedErrno > MODBUS_ENOBASE && savedErrno <= EMBXGTAR) {
        ++m_stats.exceptions;
        const int code = savedErrno - MODBUS_ENOBASE;
        return DriverError::make(ErrorKind::Exception,
            QStringLiteral("%1: exception 0x%2 (%3)").arg(where).arg(code, 2, 16, QChar(u'0')).arg(exceptionName(code)),
            code);
    }

    // Everything below leaves the connection in an unknown state: a reply may still be on its
    // way. TCP: close, so the late bytes are never read as the answer to the next request.
    // RTU: flush after the inter-frame silence before the next request.
    const auto discardInFlight = [this] {
        if (m_endpoint.kind == Endpoint::Kind::Tcp)
            close();
        else
            m_flushBeforeNext = true;
    };
    switch (savedErrno) {
    case ETIMEDOUT:
        ++m_stats.timeouts;
        discardInFlight();
        return DriverError::make(
            ErrorKind::Timeout, QStringLiteral("%1: no reply within %2 ms").arg(where).arg(m_timing.responseTimeoutMs));
    case EMBBADCRC:
    case EMBBADDATA:
    case EMBBADEXC:
    case EMBUNKEXC:
    case EMBMDATA:
    case EMBBADSLAVE: {
        ++m_stats.badReplies;
        discardInFlight();
        static const char *const names[] = {"bad CRC", "reply does not match the request", "bad exception code",
            "unknown exception code", "too many data", "reply from another unit"};
        return DriverError::make(
            ErrorKind::BadReply, QStringLiteral("%1: %2").arg(where, QLatin1StringView(names[savedErrno - EMBBADCRC])));
    }
    default:
        close();
        return DriverError::make(ErrorKind::ConnectionLost,
            QStringLiteral("%1: %2").arg(where, QString::fromLocal8Bit(strerrordesc_np(savedErrno))));
    }
}

Result<QList<quint16>> ModbusClient::readRegisters(quint8 unit, quint16 address, int count)
{
    Result<QList<quint16>> result;
    const QString what = QStringLiteral("read %1 register(s) at %2 of unit %3").arg(count).arg(hex4(address)).arg(unit);
    if (unit < 1 || unit > 247 || count < 1 || count > meter::v1::kReadQuantityMax) {
        result.error
            = DriverError::make(ErrorKind::InvalidArgument, QStringLiteral("%1: outside the protocol").arg(what));
        return result;
    }
    if (DriverError e = ensureConnected(); !e.ok()) {
        result.error = e;
        return result;
    }
    waitInterFrameGap();
    modbus_set_slave(m_ctx, unit);
    ++m_stats.requests;
    result.value.resize(count);
    const int rc = modbus_read_registers(m_ctx, address, count, result.value.data());
    const int savedErrno = errno;
    noteIoDone();
    if (rc != count) {
        result.value.clear();
        result.error = rc == -1 ? failure(savedErrno, what) : failure(EMBBADDATA, what);
    }
    return result;
}

DriverError ModbusClient::writeRegisters(quint8 unit, quint16 address, std::span<const quint16> values)
{
    const int count = int(values.size());
    const QString what
        = QStringLiteral("write %1 register(s) at %2 of unit %3").arg(count).arg(hex4(address)).arg(unit);
    if (unit > 247 || count < 1 || count > meter::v1::kWriteQuantityMax)
        return DriverError::make(ErrorKind::InvalidArgument, QStringLiteral("%1: outside the protocol").arg(what));
    if (DriverError e = ensureConnected(); !e.ok())
        return e;
    waitInterFrameGap();
    modbus_set_slave(m_ctx, unit);
    ++m_stats.requests;
    const int rc = modbus_write_registers(m_ctx, address, count, values.data());
    const int savedErrno = errno;
    noteIoDone();
    if (unit == 0)
        return {}; // broadcast: nobody answers, libmodbus does not wait
    if (rc != count)
        return rc == -1 ? failure(savedErrno, what) : failure(EMBBADDATA, what);
    return {};
}

} // namespace prepay::modbus
