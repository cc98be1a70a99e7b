// The simulated building's clock: Unix milliseconds (UTC) that run `timeFactor` times faster
// than the injected monotonic clock, plus whatever the control interface advances by hand.
// Every meter, the tick and the control interface read the time here, so the whole building
// shares one simulated "now". The monotonic part comes from a prepay::Clock (STYLE.md habit 9):
// a test hands in a manual clock and steps it instead of sleeping.
#pragma once

#include "api/clock.h"

#include <QtCore/QtGlobal>

namespace prepay::sim {

class SimClock
{
public:
    static constexpr double kTimeFactorMin = 1.0;
    static constexpr double kTimeFactorMax = 3600.0; // one simulated hour per real second
    // One advance moves at most this far (a meter integrates its load over the jump).
    static constexpr qint64 kAdvanceMaxMs = 400LL * 24 * 3600 * 1000;

    // `monotonic` must outlive the SimClock; only its monotonicMs() is used. `startSimMs` is
    // the simulated Unix time at construction; `timeFactor` must be within the limits.
    SimClock(const Clock &monotonic, qint64 startSimMs, double timeFactor);

    // Simulated Unix time in ms; never decreases.
    qint64 nowMs() const;
    double timeFactor() const { return m_timeFactor; }

    // Changes the rate from now on (the time reached so far is kept). False if out of range.
    bool setTimeFactor(double timeFactor);
    // Jumps ahead by `ms` (0..kAdvanceMaxMs); false if out of range.
    bool advanceMs(qint64 ms);

    static bool validTimeFactor(double timeFactor);

private:
    const Clock &m_monotonic;
    qint64 m_baseSimMs;       // simulated time at m_baseMonotonicMs
    qint64 m_baseMonotonicMs; // rebased on every factor change and advance
    double m_timeFactor;
};

} // namespace prepay::sim
