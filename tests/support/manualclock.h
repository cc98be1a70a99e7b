// A Clock that only moves when a test says so (STYLE.md habit 9): tests advance it instead of
// sleeping. For tests only; production code gets prepay::SystemClock.
#pragma once

#include "api/clock.h"

#include <atomic>

namespace prepay::test {

class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 wallMs = 1'795'000'000'000 /* 2026-11-19 */)
        : m_wallMs(wallMs)
    { }

    qint64 monotonicMs() const override { return m_monotonicMs.load(); }
    qint64 wallMs() const override { return m_wallMs.load(); }

    void advanceMs(qint64 ms)
    {
        m_monotonicMs += ms;
        m_wallMs += ms;
    }

private:
    std::atomic<qint64> m_monotonicMs{1'000'000};
    std::atomic<qint64> m_wallMs;
};

} // namespace prepay::test
