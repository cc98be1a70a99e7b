#include "busline.h"

#include "api/check.h"
#include "faults.h"
#include "serverlog.h"
#include "simbuilding.h"
#include "simclock.h"

#include "modbus/mapv1.h"

namespace prepay::sim {

namespace {

constexpr quint8 kExceptionFlag = 0x80;
constexpr qint64 kTimerSlackUs = 300; // a timer firing this early counts as on time

} // namespace

BusLine::BusLine(SimBuilding &building, const FaultTable &faults, const Config &config, QObject *parent)
    : QObject(parent)
    , m_building(building)
    , m_faults(faults)
    , m_config(config)
    , m_random(quint32(config.seed ^ (config.seed >> 32)) ^ quint32(config.gateway * 1000 + config.bus))
{
    PREPAY_CHECK(m_config.wire.validate().isEmpty());
    PREPAY_CHECK(m_config.gatewayTimeoutMs >= 0 && m_config.gatewayTimeoutMs <= kGatewayTimeoutMaxMs);
    m_elapsed.start();
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &BusLine::onTimer);
}

qint64 BusLine::nowUs() const
{
    return m_elapsed.nsecsElapsed() / 1000;
}

bool BusLine::submit(Transport transport, quint8 unitId, const QByteArray &pdu, QObject *owner, Done done)
{
    PREPAY_CHECK(owner != nullptr);
    PREPAY_CHECK(!pdu.isEmpty());
    if (m_queue.size() >= std::size_t(kQueueMax)) {
        qCDebug(lcSimServer, "bus %s: queue full (%d requests), request for unit %u refused",
            qUtf8Printable(m_config.name), kQueueMax, unitId);
        return false;
    }
    m_queue.push_back(Request{transport, unitId, pdu, owner, std::move(done), nowUs()});
    if (!m_current)
        startNext();
    return true;
}

void BusLine::cancel(QObject *owner)
{
    std::erase_if(m_queue, [owner](const Request &r) { return r.owner == owner; });
}

void BusLine::startNext()
{
    PREPAY_CHECK(!m_current);
    while (!m_queue.empty() && !m_queue.front().owner)
        m_queue.pop_front(); // its client left before the bus got to it
    if (m_queue.empty()) {
        m_phase = Phase::Idle;
        return;
    }
    m_current = std::move(m_queue.front());
    m_queue.pop_front();
    // A request that waited in the queue starts when the bus became free, not when the timer
    // got round to it: lateness of one transaction must not shift all later ones.
    const qint64 startUs = std::max(m_current->queuedUs, m_busFreeUs);
    m_phase = Phase::Request;
    armUntil(startUs + m_config.wire.requestUs(int(m_current->pdu.size())));
}

void BusLine::armUntil(qint64 deadlineUs)
{
    m_deadlineUs = deadlineUs;
    const qint64 remainingUs = deadlineUs - nowUs();
    // Round up: the answer must never come before the wire could have carried it.
    m_timer.start(remainingUs <= 0 ? 0 : int((remainingUs + 999) / 1000));
}

void BusLine::onTimer()
{
    if (nowUs() < m_deadlineUs - kTimerSlackUs) { // woken early: wait for the rest
        armUntil(m_deadlineUs);
        return;
    }
    switch (m_phase) {
    case Phase::Request: meterReceives(); break;
    case Phase::Response: finish(); break;
    case Phase::Idle: break;
    }
}

qint64 BusLine::turnaroundUs()
{
    if (!m_config.wire.emulated())
        return 0;
    const int ms = m_config.wire.turnaroundMinMs == m_config.wire.turnaroundMaxMs
        ? m_config.wire.turnaroundMinMs
        : int(m_random.bounded(m_config.wire.turnaroundMinMs, m_config.wire.turnaroundMaxMs + 1));
    return qint64(ms) * 1000;
}

QByteArray BusLine::exceptionPdu(const QByteArray &request, int code) const
{
    QByteArray pdu;
    pdu.append(char(quint8(request.at(0)) | kExceptionFlag));
    pdu.append(char(quint8(code)));
    return pdu;
}

QByteArray BusLine::gatewayException(const QByteArray &request) const
{
    return exceptionPdu(request, int(meter::v1::ExceptionCode::GatewayTargetFailedToRespond));
}

void BusLine::meterReceives()
{
    PREPAY_CHECK(m_current);
    const Request &r = *m_current;
    const WireTiming &wire = m_config.wire;
    const qint64 simMs = m_building.clock().nowMs();
    const bool tcp = r.transport == Transport::Tcp;
    const int function = r.pdu.isEmpty() ? -1 : int(quint8(r.pdu.at(0)));
    m_answer = Answer{};
    qint64 remainingUs = 0;

    if (r.unitId == 0) {
        // Broadcast: every meter on the bus applies it; nobody answers, so the bus is free as
        // soon as the request (and its gap) is over. A meter that is offline or answering only
        // exceptions does not apply it.
        for (const int index : m_building.busMeters(m_config.gateway, m_config.bus)) {
            const Fault *fault = m_faults.transportFault(m_config.gateway, m_config.bus, index, function);
            if (fault && (fault->kind == FaultKind::Offline || fault->kind == FaultKind::Exception))
                continue;
            m_building.meter(index).handlePdu(r.pdu, simMs);
        }
    } else if (const int index = m_building.meterIndexOnBus(m_config.gateway, m_config.bus, r.unitId); index < 0) {
        // RTU to an address nobody on this bus has: the request used the wire, then silence.
    } else {
        const Fault *fault = m_faults.transportFault(m_config.gateway, m_config.bus, index, function);
        const bool gatewaySilent = m_config.gatewaySilentOnNoAnswer;
        if (fault && fault->kind == FaultKind::Offline) {
            // Nobody answers. A TCP gateway waits its timeout, then reports (or not); an RTU
            // master just times out, and the bus is free at once.
            if (tcp) {
                remainingUs = qint64(m_config.gatewayTimeoutMs) * 1000;
                if (!fault->params.silence.value_or(gatewaySilent))
                    m_answer = Answer{Answer::Kind::Reply, gatewayException(r.pdu)};
            }
        } else if (fault && fault->kind == FaultKind::Exception) {
            m_answer = Answer{Answer::Kind::Reply, exceptionPdu(r.pdu, fault->params.code)};
            remainingUs = wire.responseUs(int(m_answer.pdu.size()), turnaroundUs());
        } else {
            // The meter applies the request; the remaining faults only spoil its answer.
            const QByteArray response = m_building.meter(index).handlePdu(r.pdu, simMs);
            m_answer = Answer{Answer::Kind::Reply, response};
            if (fault && fault->kind == FaultKind::LateReply)
                remainingUs = fault->params.ms * 1000 + wire.responseUs(int(response.size()), 0);
            else
                remainingUs = wire.responseUs(int(response.size()), turnaroundUs());
            if (fault && fault->kind == FaultKind::NoReply) {
                m_answer = Answer{};
            } else if (fault && fault->kind == FaultKind::CrcGarbage) {
                if (!tcp)
                    m_answer.corruptCrc = true;
                else // the gateway got a frame with a bad CRC: as if the meter were silent
                    m_answer = gatewaySilent ? Answer{} : Answer{Answer::Kind::Reply, gatewayException(r.pdu)};
            } else if (fault && fault->kind == FaultKind::WrongTid) {
                m_answer.wrongTid = tcp;
            }
        }
    }
    m_phase = Phase::Response;
    armUntil(m_deadlineUs + remainingUs);
}

void BusLine::finish()
{
    PREPAY_CHECK(m_current);
    Request r = std::move(*m_current);
    m_current.reset();
    m_busFreeUs = m_deadlineUs;
    ++m_served;
    const Answer answer = std::move(m_answer);
    m_answer = Answer{};
    // Start the next transaction before delivering: the callback may submit again.
    startNext();
    if (r.owner && r.done)
        r.done(answer);
}

} // namespace prepay::sim
