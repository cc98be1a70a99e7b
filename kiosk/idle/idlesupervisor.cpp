#include "idlesupervisor.h"

#include <QtCore/QEvent>

namespace prepay::kiosk {

IdleSupervisor::IdleSupervisor(QObject *parent)
    : QObject(parent)
{
    m_timer.setInterval(kTickMs);
    connect(&m_timer, &QTimer::timeout, this, &IdleSupervisor::tick);
}

void IdleSupervisor::setClock(const Clock *clock)
{
    m_clock = clock ? clock : &m_systemClock;
    m_lastTouchMs = m_clock->monotonicMs();
}

void IdleSupervisor::arm(bool armed)
{
    if (armed == m_armed)
        return;
    m_armed = armed;
    m_lastTouchMs = m_clock->monotonicMs();
    setCounting(false, 0);
    if (m_armed)
        m_timer.start();
    else
        m_timer.stop();
}

void IdleSupervisor::setIdleMs(qint64 idleMs)
{
    m_idleMs = idleMs > kCountdownMs ? idleMs : kIdleDefaultMs;
}

void IdleSupervisor::touched()
{
    m_lastTouchMs = m_clock->monotonicMs();
    setCounting(false, 0);
}

void IdleSupervisor::tick()
{
    if (!m_armed)
        return;
    const qint64 quietMs = m_clock->monotonicMs() - m_lastTouchMs;
    if (quietMs < m_idleMs) {
        setCounting(false, 0);
        return;
    }
    const qint64 leftMs = m_idleMs + kCountdownMs - quietMs;
    if (leftMs <= 0) {
        // Disarm first: whoever handles expired() starts a fresh, unarmed state.
        arm(false);
        Q_EMIT expired();
        return;
    }
    setCounting(true, int((leftMs + 999) / 1000));
}

void IdleSupervisor::setCounting(bool counting, int secondsLeft)
{
    if (counting != m_counting) {
        m_counting = counting;
        Q_EMIT countingChanged();
    }
    if (secondsLeft != m_secondsLeft) {
        m_secondsLeft = secondsLeft;
        Q_EMIT secondsLeftChanged();
    }
}

ActivityFilter::ActivityFilter(IdleSupervisor *idle, QObject *parent)
    : QObject(parent)
    , m_idle(idle)
{ }

bool ActivityFilter::eventFilter(QObject *watched, QEvent *event)
{
    switch (event->type()) {
    case QEvent::MouseButtonPress:
    case QEvent::TouchBegin:
    case QEvent::KeyPress:
        m_idle->touched();
        break;
    default:
        break;
    }
    return QObject::eventFilter(watched, event);
}

} // namespace prepay::kiosk
