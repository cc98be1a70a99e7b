// One bus served as Modbus RTU on a pseudo-terminal (FIELD-PROTOCOLS.md §3.6): the simulator
// holds the master side (posix_openpt, raw), a poller or mbpoll opens the slave /dev/pts/N as
// its serial port. The bytes are framed here (by length from the function code, else at a
// 3.5-character silence), checked (CRC-16/MODBUS; a bad CRC → silence), filtered (an address
// nobody on the bus has → silence; broadcast 0 → applied, no answer) and queued on the bus's
// BusLine, which emulates the wire time the pty itself does not have. Only plain RTU: one
// master at a time, which is what a serial line is.
//
// Owns the pty (both fds: it keeps the slave open itself so the master never reads EIO while
// no client is attached) and the optional stable symlink, removed again on destruction.
#pragma once

#include "framing.h"
#include "wiretime.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QTimer>

class QSocketNotifier;

namespace prepay::sim {

class BusLine;

class RtuPort : public QObject
{
    Q_OBJECT

public:
    // Without wire emulation (baud 0) a frame of unknown length still needs some silence.
    static constexpr int kSilenceWithoutEmulationMs = 5;

    explicit RtuPort(BusLine &bus, QObject *parent = nullptr);
    ~RtuPort() override;

    // Creates the pty; with a non-empty `linkPath` also a symlink there to the slave device
    // (replacing a stale symlink, never a regular file). False with *error on failure.
    bool open(const QString &linkPath, QString *error);

    const BusLine &bus() const { return m_bus; }
    QString ptyPath() const { return m_ptyPath; }
    QString linkPath() const { return m_linkPath; }
    qint64 framesDropped() const { return m_framesDropped; }

private:
    void onReadable();
    void onSilence();
    void handleFrame(const QByteArray &frame);
    void write(const QByteArray &frame);

    BusLine &m_bus;
    int m_master = -1;
    int m_slave = -1; // held open by us, see the header comment
    QString m_ptyPath;
    QString m_linkPath;
    QSocketNotifier *m_notifier = nullptr;
    RtuFramer m_framer;
    QTimer m_silence;
    qint64 m_framesDropped = 0;
};

} // namespace prepay::sim
