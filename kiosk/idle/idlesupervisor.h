// The idle supervisor of the tenant kiosk (issue 8): after `idleMs` without a touch it shows a
// countdown of `countdownMs`, then says expired() once, so the flow goes back to Attract and
// wipes every trace of the session. A touch during the countdown cancels it. It only watches
// while armed (a tenant session is open); Attract and Out of service are never timed out.
//
// Time is injected (STYLE.md habit 9): tick() reads the Clock and is driven by a 250 ms QTimer
// in production; tests advance a manual clock and call tick() themselves. Qt Core only.
#pragma once

#include "api/clock.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

namespace prepay::kiosk {

class IdleSupervisor : public QObject
{
    Q_OBJECT
    Q_PROPERTY(bool counting READ counting NOTIFY countingChanged)
    Q_PROPERTY(int secondsLeft READ secondsLeft NOTIFY secondsLeftChanged)

public:
    static constexpr qint64 kIdleDefaultMs = 60'000;   // a screen without a touch for a minute
    static constexpr qint64 kIdleQrMs = 120'000;       // the QR screen: paying on a phone takes longer
    static constexpr qint64 kCountdownMs = 10'000;     // the "are you still there?" overlay
    static constexpr int kTickMs = 250;
    static_assert(kCountdownMs < kIdleDefaultMs && kIdleDefaultMs < kIdleQrMs);

    explicit IdleSupervisor(QObject *parent = nullptr);

    // The clock to read (not owned; must outlive this). Default: the system clock.
    void setClock(const Clock *clock);

    // Starts watching from now (a session opened) or stops (back on Attract).
    void arm(bool armed);
    bool armed() const { return m_armed; }
    // The idle time before the countdown, from the next touch on (and from now).
    void setIdleMs(qint64 idleMs);
    qint64 idleMs() const { return m_idleMs; }

    bool counting() const { return m_counting; }
    int secondsLeft() const { return m_secondsLeft; }

    // A touch anywhere: the idle time starts again and a countdown in progress is cancelled.
    Q_INVOKABLE void touched();
    // Re-reads the clock: starts the countdown, updates it, or expires.
    void tick();

Q_SIGNALS:
    void countingChanged();
    void secondsLeftChanged();
    void expired();

private:
    void setCounting(bool counting, int secondsLeft);

    SystemClock m_systemClock;
    const Clock *m_clock = &m_systemClock;
    QTimer m_timer;
    bool m_armed = false;
    bool m_counting = false;
    int m_secondsLeft = 0;
    qint64 m_idleMs = kIdleDefaultMs;
    qint64 m_lastTouchMs = 0;
};

// Tells the supervisor about every press or touch the application receives (install it on the
// QGuiApplication with installEventFilter). Events pass on untouched.
class ActivityFilter : public QObject
{
    Q_OBJECT

public:
    explicit ActivityFilter(IdleSupervisor *idle, QObject *parent = nullptr);
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    IdleSupervisor *m_idle;
};

} // namespace prepay::kiosk
