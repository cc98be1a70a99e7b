#include "hashlimiter.h"

#include "stafflog.h"

#include <QtCore/QMetaObject>
#include <QtCore/QObject>

namespace prepay::staff {

HashLimiter::HashLimiter()
    : HashLimiter(Limits{})
{ }

HashLimiter::HashLimiter(Limits limits)
    : m_limits(limits)
{
    // A limit of zero workers would accept jobs that never run; a programmer error, not input.
    Q_ASSERT(limits.maxConcurrent >= 1 && limits.maxConcurrent <= kMaxConcurrentLimit);
    Q_ASSERT(limits.queueMax >= 0 && limits.queueMax <= kQueueMaxLimit);
    m_workers.reserve(size_t(m_limits.maxConcurrent));
    for (int i = 0; i < m_limits.maxConcurrent; ++i)
        m_workers.emplace_back([this] { workerLoop(); });
}

HashLimiter::~HashLimiter()
{
    stop();
    for (std::thread &t : m_workers)
        t.join();
}

HashLimiter::Admission HashLimiter::verify(
    const QString &password, const PasswordHash &stored, QObject *context, std::function<void(bool matched)> done)
{
    // The result travels from the worker to `done` through a shared slot: the work writes it before
    // the queued call is posted, which orders the write before the read on the context's thread.
    auto matched = std::make_shared<bool>(false);
    return submit([password, stored, matched] { *matched = verifyPassword(password, stored); }, context,
        [matched, done = std::move(done)] { done(*matched); });
}

HashLimiter::Admission HashLimiter::hash(const QString &password, QObject *context,
    std::function<void(std::optional<PasswordHash> hash, QString error)> done)
{
    struct Result
    {
        std::optional<PasswordHash> hash;
        QString error;
    };
    auto result = std::make_shared<Result>();
    return submit([password, result] { result->hash = hashPassword(password, &result->error); }, context,
        [result, done = std::move(done)] { done(result->hash, result->error); });
}

HashLimiter::Admission HashLimiter::submit(std::function<void()> work, QObject *context, std::function<void()> done)
{
    Q_ASSERT(context && work && done);
    {
        const std::lock_guard lock(m_mutex);
        if (m_stopping)
            return Admission::Stopped;
        if (m_running + int(m_waiting.size()) >= m_limits.maxConcurrent + m_limits.queueMax)
            return Admission::Busy;
        m_waiting.push_back(Job{std::move(work), context, std::move(done)});
    }
    m_wake.notify_one();
    return Admission::Accepted;
}

void HashLimiter::stop()
{
    std::deque<Job> dropped;
    {
        const std::lock_guard lock(m_mutex);
        if (m_stopping)
            return;
        m_stopping = true;
        dropped.swap(m_waiting);
    }
    m_wake.notify_all();
    if (!dropped.empty())
        qCInfo(lcStaff, "hash limiter stopping: %d waiting jobs dropped", int(dropped.size()));
}

int HashLimiter::running() const
{
    const std::lock_guard lock(m_mutex);
    return m_running;
}

int HashLimiter::waiting() const
{
    const std::lock_guard lock(m_mutex);
    return int(m_waiting.size());
}

int HashLimiter::peakRunning() const
{
    const std::lock_guard lock(m_mutex);
    return m_peakRunning;
}

void HashLimiter::workerLoop()
{
    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_waiting.empty(); });
            if (m_waiting.empty())
                return; // stopping, nothing left
            job = std::move(m_waiting.front());
            m_waiting.pop_front();
            ++m_running;
            m_peakRunning = std::max(m_peakRunning, m_running);
        }
        job.work();
        // Counted as running until the result is posted, so a caller that sees running() == 0
        // knows every accepted job has delivered (or been dropped).
        QMetaObject::invokeMethod(job.context, std::move(job.done), Qt::QueuedConnection);
        {
            const std::lock_guard lock(m_mutex);
            --m_running;
        }
    }
}

QString admissionCode(HashLimiter::Admission admission)
{
    switch (admission) {
    case HashLimiter::Admission::Accepted: return QStringLiteral("accepted");
    case HashLimiter::Admission::Busy: return QStringLiteral("busy");
    case HashLimiter::Admission::Stopped: return QStringLiteral("stopped");
    }
    Q_UNREACHABLE();
}

} // namespace prepay::staff
