#include "ratelimit.h"

#include "api/clock.h"

#include <algorithm>

namespace prepay::service {

TokenBucket::TokenBucket(const Clock &clock, int perSecond, int burst)
    : m_clock(clock)
    , m_perSecond(perSecond)
    , m_capacityMilli(qint64(burst) * 1000)
    , m_tokensMilli(m_capacityMilli)
    , m_lastMs(clock.monotonicMs())
{
}

bool TokenBucket::take()
{
    const qint64 now = m_clock.monotonicMs();
    // perSecond tokens per 1000 ms = perSecond milli-tokens per ms.
    m_tokensMilli = std::min(m_capacityMilli, m_tokensMilli + (now - m_lastMs) * m_perSecond);
    m_lastMs = now;
    if (m_tokensMilli < 1000)
        return false;
    m_tokensMilli -= 1000;
    return true;
}

} // namespace prepay::service
