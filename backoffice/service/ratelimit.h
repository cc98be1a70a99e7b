// A token bucket: `burst` requests at once, then `perSecond` sustained. One per connection (and
// one per source address for logins), on the monotonic clock, so a client that floods gets
// RateLimited errors instead of slowing everyone else down.
#pragma once

#include <QtCore/QtGlobal>

namespace prepay {
class Clock;
}

namespace prepay::service {

class TokenBucket
{
public:
    TokenBucket(const Clock &clock, int perSecond, int burst);

    // Takes one token if there is one.
    bool take();

private:
    const Clock &m_clock;
    qint64 m_perSecond;
    qint64 m_capacityMilli; // tokens × 1000, so refills of a fraction of a token are kept exactly
    qint64 m_tokensMilli;
    qint64 m_lastMs;
};

} // namespace prepay::service
