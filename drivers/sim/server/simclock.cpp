#include "simclock.h"

#include "api/check.h"

#include <cmath>

namespace prepay::sim {

SimClock::SimClock(const Clock &monotonic, qint64 startSimMs, double timeFactor)
    : m_monotonic(monotonic)
    , m_baseSimMs(startSimMs)
    , m_baseMonotonicMs(monotonic.monotonicMs())
    , m_timeFactor(timeFactor)
{
    PREPAY_CHECK(validTimeFactor(timeFactor));
}

qint64 SimClock::nowMs() const
{
    const qint64 elapsedMs = m_monotonic.monotonicMs() - m_baseMonotonicMs;
    return m_baseSimMs + std::llround(double(elapsedMs) * m_timeFactor);
}

bool SimClock::validTimeFactor(double timeFactor)
{
    return std::isfinite(timeFactor) && timeFactor >= kTimeFactorMin && timeFactor <= kTimeFactorMax;
}

bool SimClock::setTimeFactor(double timeFactor)
{
    if (!validTimeFactor(timeFactor))
        return false;
    // Rebase first, so the time reached at the old rate is kept and nothing jumps.
    m_baseSimMs = nowMs();
    m_baseMonotonicMs = m_monotonic.monotonicMs();
    m_timeFactor = timeFactor;
    return true;
}

bool SimClock::advanceMs(qint64 ms)
{
    if (ms < 0 || ms > kAdvanceMaxMs)
        return false;
    m_baseSimMs = nowMs() + ms;
    m_baseMonotonicMs = m_monotonic.monotonicMs();
    return true;
}

} // namespace prepay::sim
