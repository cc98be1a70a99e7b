#include "rtuport.h"

#include "busline.h"
#include "serverlog.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QSocketNotifier>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace prepay::sim {

namespace {

QString errnoText(const char *what)
{
    return QStringLiteral("%1: %2").arg(QLatin1StringView(what), QString::fromLocal8Bit(std::strerror(errno)));
}

} // namespace

RtuPort::RtuPort(BusLine &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
{
    m_silence.setSingleShot(true);
    m_silence.setTimerType(Qt::PreciseTimer);
    const WireTiming &wire = bus.config().wire;
    m_silence.setInterval(wire.emulated() ? int((wire.gapUs() + 999) / 1000) : kSilenceWithoutEmulationMs);
    connect(&m_silence, &QTimer::timeout, this, &RtuPort::onSilence);
}

RtuPort::~RtuPort()
{
    if (!m_linkPath.isEmpty())
        QFile::remove(m_linkPath);
    if (m_master >= 0)
        ::close(m_master);
    if (m_slave >= 0)
        ::close(m_slave);
}

bool RtuPort::open(const QString &linkPath, QString *error)
{
    const QString bus = m_bus.config().name;
    m_master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m_master < 0) {
        *error = QStringLiteral("bus %1: ").arg(bus) + errnoText("posix_openpt");
        return false;
    }
    char name[128] = {};
    if (::grantpt(m_master) != 0 || ::unlockpt(m_master) != 0 || ::ptsname_r(m_master, name, sizeof name) != 0) {
        *error = QStringLiteral("bus %1: ").arg(bus) + errnoText("grantpt/unlockpt/ptsname");
        return false;
    }
    m_ptyPath = QString::fromLocal8Bit(name);
    // Raw on our side: no echo, no line editing, no CR/LF mangling of binary frames. On Linux
    // the master's termios are the slave's, so a client opening the slave finds it raw too.
    termios tio{};
    if (::tcgetattr(m_master, &tio) == 0) {
        ::cfmakeraw(&tio);
        ::tcsetattr(m_master, TCSANOW, &tio);
    }
    // Keep the slave open ourselves: otherwise the master reads EIO whenever no client has it.
    m_slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m_slave < 0) {
        *error = QStringLiteral("bus %1: ").arg(bus) + errnoText("open pty slave");
        return false;
    }
    const int flags = ::fcntl(m_master, F_GETFL);
    ::fcntl(m_master, F_SETFL, flags | O_NONBLOCK);

    if (!linkPath.isEmpty()) {
        const QFileInfo existing(linkPath);
        if (existing.isSymLink()) {
            QFile::remove(linkPath); // a stale link from an earlier run
        } else if (existing.exists()) {
            *error = QStringLiteral("bus %1: %2 exists and is not a symlink").arg(bus, linkPath);
            return false;
        }
        if (!QFile::link(m_ptyPath, linkPath)) {
            *error = QStringLiteral("bus %1: cannot create the symlink %2").arg(bus, linkPath);
            return false;
        }
        m_linkPath = linkPath;
    }

    m_notifier = new QSocketNotifier(m_master, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &RtuPort::onReadable);
    qCInfo(lcSimServer, "bus %s: RTU on %s", qUtf8Printable(bus), name);
    return true;
}

void RtuPort::onReadable()
{
    char chunk[512];
    for (;;) {
        const ssize_t n = ::read(m_master, chunk, sizeof chunk);
        if (n > 0) {
            const QList<QByteArray> frames = m_framer.feed(QByteArrayView(chunk, n));
            for (const QByteArray &frame : frames)
                handleFrame(frame);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            // Should not happen while we hold the slave; stop reading rather than spin.
            qCWarning(lcSimServer, "bus %s: reading the pty failed (%s); RTU stopped",
                qUtf8Printable(m_bus.config().name), std::strerror(errno));
            m_notifier->setEnabled(false);
        }
        break;
    }
    // A frame whose length the function code does not tell ends at the next silence; each new
    // byte restarts the silence.
    if (m_framer.hasPartialFrame())
        m_silence.start();
    else
        m_silence.stop();
}

void RtuPort::onSilence()
{
    const QByteArray frame = m_framer.endOfSilence();
    if (!frame.isEmpty())
        handleFrame(frame);
}

void RtuPort::handleFrame(const QByteArray &frame)
{
    if (frame.size() < kRtuFrameMinBytes || !rtuCrcValid(frame)) {
        // A real slave cannot tell garbage from noise: it stays silent.
        ++m_framesDropped;
        qCDebug(lcSimServer, "bus %s: dropped an RTU frame with a bad CRC (%s)", qUtf8Printable(m_bus.config().name),
            frame.toHex(' ').constData());
        return;
    }
    const quint8 address = quint8(frame.at(0));
    const QByteArray pdu = frame.mid(1, frame.size() - 3);
    const bool queued
        = m_bus.submit(BusLine::Transport::Rtu, address, pdu, this, [this, address](const BusLine::Answer &answer) {
              if (answer.kind == BusLine::Answer::Kind::Reply)
                  write(encodeRtu(address, answer.pdu, answer.corruptCrc));
          });
    if (!queued)
        ++m_framesDropped; // a serial line has no "busy": the master just times out
}

void RtuPort::write(const QByteArray &frame)
{
    // An answer the client never read (it timed out and moved on) would otherwise be the first
    // thing it reads next time; on a real line it is long gone. Discard it first.
    ::tcflush(m_slave, TCIFLUSH);
    const ssize_t n = ::write(m_master, frame.constData(), std::size_t(frame.size()));
    if (n != frame.size())
        qCWarning(lcSimServer, "bus %s: writing %lld bytes to the pty wrote %lld", qUtf8Printable(m_bus.config().name),
            qlonglong(frame.size()), qlonglong(n));
}

} // namespace prepay::sim
