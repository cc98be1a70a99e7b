// One RS-485 bus of the simulated building: a FIFO of requests that is served one transaction
// at a time, in arrival order, each holding the bus for the wire time of wiretime.h — exactly
// what a gateway's serial port does with the requests of all its TCP clients
// (FIELD-PROTOCOLS.md §4.4), and what a pty-attached RTU master sees. The TCP gateway and the
// RTU port of a bus both submit here, so they share the bus as two masters would.
//
// A transaction runs in two halves on real time (QTimer, not the simulated clock: the wire
// does not speed up with the time factor):
//   1. the request frame and its gap; then the meter "has" the request: the transport fault in
//      force is looked up and the meter's SimMeter::handlePdu runs at the simulated now;
//   2. turnaround, response frame and gap (or the gateway's timeout, or a late reply's delay);
//      then the answer is handed to whoever submitted the request, and the next one starts.
// Deadlines are absolute from the transaction's start, and a queued transaction starts at the
// previous one's deadline, so timer jitter does not add up over a long poll cycle.
//
// Does not own the meters (SimBuilding) nor the faults (FaultTable); owns no sockets.
#pragma once

#include "wiretime.h"

#include <QtCore/QByteArray>
#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>

#include <deque>
#include <functional>
#include <optional>

namespace prepay::sim {

class FaultTable;
struct Fault;
class SimBuilding;

class BusLine : public QObject
{
    Q_OBJECT

public:
    static constexpr int kQueueMax = 64; // a gateway's queue per serial port; beyond: busy
    static constexpr int kGatewayTimeoutMaxMs = 60'000;

    enum class Transport {
        Tcp,
        Rtu
    };

    // What goes back to the master once the transaction is over.
    struct Answer
    {
        enum class Kind {
            Reply,
            Silence
        };
        Kind kind = Kind::Silence;
        QByteArray pdu;          // Kind::Reply: the response PDU (normal or exception)
        bool corruptCrc = false; // RTU: send it with a broken CRC
        bool wrongTid = false;   // TCP: send it under another transaction id
    };
    using Done = std::function<void(const Answer &)>;

    struct Config
    {
        int gateway = 0;
        int bus = 0; // index within the gateway
        QString name;
        WireTiming wire;
        int gatewayTimeoutMs = 1000;          // how long the TCP gateway waits for a silent meter
        bool gatewaySilentOnNoAnswer = false; // TCP: silence instead of exception 0x0B
        quint64 seed = 1;                     // turnaround jitter
    };

    BusLine(SimBuilding &building, const FaultTable &faults, const Config &config, QObject *parent = nullptr);

    // Queues one request PDU for `unitId` (0 = broadcast: every meter on the bus applies it,
    // nobody answers). `done` runs once when the answer is due, unless `owner` has been
    // destroyed by then; a request whose owner is gone before it starts is dropped without
    // using the bus. Returns false, queueing nothing, when kQueueMax requests are waiting.
    bool submit(Transport transport, quint8 unitId, const QByteArray &pdu, QObject *owner, Done done);

    // Drops the queued requests of `owner` (a client that left); the transaction in flight runs
    // to its end, as it would on a real line, and its answer goes nowhere.
    void cancel(QObject *owner);

    const Config &config() const { return m_config; }
    int queueLength() const { return int(m_queue.size()); }
    bool busy() const { return m_current.has_value(); }
    qint64 transactionsServed() const { return m_served; }

private:
    struct Request
    {
        Transport transport = Transport::Tcp;
        quint8 unitId = 0;
        QByteArray pdu;
        QPointer<QObject> owner;
        Done done;
        qint64 queuedUs = 0;
    };
    enum class Phase {
        Idle,
        Request,
        Response
    };

    void startNext();
    void onTimer();
    // End of the request half: the meter has the request; decides the answer and its time.
    void meterReceives();
    void finish();
    void armUntil(qint64 deadlineUs);
    qint64 nowUs() const;
    qint64 turnaroundUs();
    QByteArray gatewayException(const QByteArray &request) const;
    QByteArray exceptionPdu(const QByteArray &request, int code) const;

    SimBuilding &m_building;
    const FaultTable &m_faults;
    Config m_config;
    QRandomGenerator m_random;
    std::deque<Request> m_queue;
    std::optional<Request> m_current;
    Phase m_phase = Phase::Idle;
    Answer m_answer;
    qint64 m_deadlineUs = 0; // of the current phase, on m_elapsed
    qint64 m_busFreeUs = 0;  // when the last transaction ended, on m_elapsed
    qint64 m_served = 0;
    QElapsedTimer m_elapsed;
    QTimer m_timer;
};

} // namespace prepay::sim
