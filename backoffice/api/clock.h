// Time, injected (STYLE.md habit 9). Everything that waits, expires or stamps takes a Clock&
// from its constructor, so tests advance a manual clock instead of sleeping and the simulator
// can run its building faster than real time.
#pragma once

#include <QtCore/QDateTime>
#include <QtCore/QtGlobal>

namespace prepay {

class Clock
{
public:
    virtual ~Clock() = default;
    // Milliseconds on a clock that never jumps (timeouts, back-off, rate limits).
    virtual qint64 monotonicMs() const = 0;
    // Milliseconds since the Unix epoch, UTC (what the database stores in *_ms columns).
    virtual qint64 wallMs() const = 0;

    QDateTime wallNow() const { return QDateTime::fromMSecsSinceEpoch(wallMs(), Qt::UTC); }
};

// The machine's clocks: steady_clock and the system's real-time clock.
class SystemClock final : public Clock
{
public:
    qint64 monotonicMs() const override;
    qint64 wallMs() const override;
};

} // namespace prepay
