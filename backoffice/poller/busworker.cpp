#include "busworker.h"

#include "api/check.h"
#include "api/clock.h"
#include "pollerlog.h"
#include "store/sqlite.h"

#include <algorithm>
#include <chrono>

namespace prepay::poller {

using modbus::DriverError;
using modbus::ErrorKind;

namespace {

// Worth trying again at once: the request may simply have been lost on the line. A refused
// connection or the client's back-off fails fast (the gateway is down), and an exception from
// the meter itself is its answer.
bool worthRetrying(const DriverError &e)
{
    switch (e.kind) {
    case ErrorKind::Timeout:
    case ErrorKind::BadReply:
    case ErrorKind::ConnectionLost: return true;
    case ErrorKind::Exception:
        return e.exceptionCode == int(meter::v1::ExceptionCode::GatewayTargetFailedToRespond)
            || e.exceptionCode == int(meter::v1::ExceptionCode::ServerDeviceBusy);
    default: return false;
    }
}

// How long the worker sleeps at most before looking at the clock again (delayed jobs are
// scheduled on the injected clock, which a test may move).
constexpr auto kIdleWake = std::chrono::milliseconds(50);

} // namespace

BusWorker::BusWorker(BusPlan bus, const PollPlan &settings, const Clock &clock, Hooks hooks, WorkerLimits limits)
    : m_bus(std::move(bus))
    , m_offlineAfterFailures(std::max(1, settings.offlineAfterFailures))
    , m_offlineProbeCapMs(std::max<qint64>(1000, settings.offlineProbeIntervalMs))
    , m_clock(clock)
    , m_hooks(std::move(hooks))
    , m_limits(limits)
    , m_breakers(size_t(m_bus.meters.size()))
{
    PREPAY_CHECK(m_bus.meters.size() <= PollLimits::metersPerBusMax);
    for (int i = 0; i < m_bus.meters.size(); ++i)
        m_indexOfMeter.insert(m_bus.meters[i].meterId, i);
    m_cycleIntervalMs = settings.cycleIntervalMsByBuilding.value(m_bus.buildingId, 1'800'000);
    m_health.busId = m_bus.busId;
}

BusWorker::~BusWorker()
{
    stop();
}

void BusWorker::start()
{
    PREPAY_CHECK(!m_thread.joinable());
    m_thread = std::thread([this] { run(); });
}

void BusWorker::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

void BusWorker::setCycleIntervalMs(qint64 ms)
{
    std::lock_guard lock(m_mutex);
    m_cycleIntervalMs = ms;
}

void BusWorker::enqueueLocked(int priority, Job job)
{
    if (job.kind == JobKind::Read) {
        // One read per meter in the queue: a more urgent one replaces a less urgent one.
        const auto queued = m_queuedRead.constFind(job.meterIndex);
        if (queued != m_queuedRead.cend()) {
            if (queued->first <= priority)
                return;
            const Job old = m_queue.at(*queued);
            m_queue.erase(*queued);
            if (old.reason == ReadReason::Cycle && job.reason != ReadReason::Cycle)
                job.reason = ReadReason::Cycle; // still counts for the cycle
        }
    }
    job.priority = priority;
    const Key key{priority, m_sequence++};
    m_queue.emplace(key, job);
    if (job.kind == JobKind::Read)
        m_queuedRead.insert(job.meterIndex, key);
    m_wake.notify_one();
}

bool BusWorker::startCycle()
{
    std::lock_guard lock(m_mutex);
    if (m_cycleRemaining > 0)
        return false;
    m_cycleStartedAtMs = m_clock.monotonicMs();
    m_health.lastCycleStartedAtMs = m_clock.wallMs();
    m_cycleErrors = 0;
    m_cycleMeters = 0;
    for (int i = 0; i < m_bus.meters.size(); ++i) {
        if (m_breakers[size_t(i)].state == CommState::Offline)
            continue; // its probes take care of it
        Job job;
        job.meterIndex = i;
        job.reason = ReadReason::Cycle;
        enqueueLocked(JobPriority::kCycle, job);
        // Counted if the meter's queued read is now a cycle read (a read-now already queued
        // for it stays what it is and the cycle does not wait for it).
        const auto queued = m_queuedRead.constFind(i);
        if (queued != m_queuedRead.cend() && m_queue.at(*queued).reason == ReadReason::Cycle)
            ++m_cycleRemaining;
    }
    m_cycleMeters = m_cycleRemaining;
    if (m_cycleRemaining == 0) {
        m_health.lastCycleDurationMs = 0;
        m_health.lastCycleMeters = 0;
        m_health.lastCycleErrors = 0;
    }
    return true;
}

void BusWorker::readNow(qint64 meterId)
{
    std::lock_guard lock(m_mutex);
    const auto index = m_indexOfMeter.constFind(meterId);
    if (index == m_indexOfMeter.cend())
        return;
    Job job;
    job.meterIndex = *index;
    job.reason = ReadReason::ReadNow;
    enqueueLocked(JobPriority::kReadNow, job);
}

void BusWorker::enqueueCommand(qint64 commandId, qint64 meterId, int priority, qint64 notBeforeMs)
{
    std::lock_guard lock(m_mutex);
    const auto index = m_indexOfMeter.constFind(meterId);
    if (index == m_indexOfMeter.cend())
        return;
    Job job;
    job.kind = JobKind::Command;
    job.meterIndex = *index;
    job.commandId = commandId;
    job.notBeforeMs = notBeforeMs;
    enqueueLocked(std::clamp(priority, 0, JobPriority::kReadNow - 1), job);
}

BusHealth BusWorker::health() const
{
    std::lock_guard lock(m_mutex);
    BusHealth h = m_health;
    h.offlineMeters = int(std::count_if(
        m_breakers.begin(), m_breakers.end(), [](const Breaker &b) { return b.state == CommState::Offline; }));
    return h;
}

bool BusWorker::cycleRunning() const
{
    std::lock_guard lock(m_mutex);
    return m_cycleRemaining > 0;
}

int BusWorker::queuedJobs() const
{
    std::lock_guard lock(m_mutex);
    return int(m_queue.size());
}

void BusWorker::scheduleProbeLocked(int meterIndex)
{
    Breaker &b = m_breakers[size_t(meterIndex)];
    const qint64 cap = std::min(m_offlineProbeCapMs, std::max<qint64>(1000, m_cycleIntervalMs));
    b.probeBackoffMs
        = b.probeBackoffMs == 0 ? std::min(m_limits.firstProbeDelayMs, cap) : std::min(b.probeBackoffMs * 2, cap);
    Job job;
    job.meterIndex = meterIndex;
    job.reason = ReadReason::Probe;
    job.notBeforeMs = m_clock.monotonicMs() + b.probeBackoffMs;
    enqueueLocked(JobPriority::kProbe, job);
}

void BusWorker::finishCycleJobLocked()
{
    if (m_cycleRemaining <= 0 || --m_cycleRemaining > 0)
        return;
    m_health.lastCycleDurationMs = m_clock.monotonicMs() - m_cycleStartedAtMs;
    m_health.lastCycleMeters = m_cycleMeters;
    m_health.lastCycleErrors = m_cycleErrors;
}

bool BusWorker::noteOutcome(int meterIndex, bool ok, CommState *previous)
{
    std::lock_guard lock(m_mutex);
    Breaker &b = m_breakers[size_t(meterIndex)];
    if (previous)
        *previous = b.state;
    ++m_health.requestsTotal;
    if (ok) {
        b.consecutiveFailures = 0;
        b.probeBackoffMs = 0;
        const bool changed = b.state != CommState::Online;
        b.state = CommState::Online;
        return changed;
    }
    ++m_health.errorsTotal;
    ++b.consecutiveFailures;
    if (b.state != CommState::Offline && b.consecutiveFailures >= m_offlineAfterFailures) {
        b.state = CommState::Offline;
        return true;
    }
    return false;
}

void BusWorker::run()
{
    m_client = std::make_unique<modbus::ModbusClient>(m_bus.endpoint, m_bus.timing, m_clock);
    if (m_hooks.openReader)
        m_reader = m_hooks.openReader();

    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            for (;;) {
                if (m_stopping)
                    return;
                const qint64 now = m_clock.monotonicMs();
                auto due = std::find_if(m_queue.begin(), m_queue.end(),
                    [now](const auto &entry) { return entry.second.notBeforeMs <= now; });
                if (due != m_queue.end()) {
                    job = due->second;
                    if (job.kind == JobKind::Read)
                        m_queuedRead.remove(job.meterIndex);
                    m_queue.erase(due);
                    break;
                }
                m_wake.wait_for(lock, kIdleWake);
            }
        }
        execute(job);
    }
}

void BusWorker::execute(const Job &job)
{
    if (job.kind == JobKind::Command)
        runCommand(job);
    else
        readMeter(job.meterIndex, job.reason);
}

void BusWorker::readMeter(int meterIndex, ReadReason reason)
{
    const MeterTarget &meter = m_bus.meters[meterIndex];
    ReadingResult result;
    result.meterId = meter.meterId;
    result.busId = m_bus.busId;
    result.reason = reason;

    bool offline = false;
    {
        std::lock_guard lock(m_mutex);
        offline = m_breakers[size_t(meterIndex)].state == CommState::Offline;
    }
    // An offline meter gets one request per probe; an online one a retry for a lost frame.
    const int attemptsMax = offline ? 1 : 1 + m_limits.readRetries;
    bool changed = false;
    CommState before = CommState::Unknown;
    for (int attempt = 1; attempt <= attemptsMax; ++attempt) {
        modbus::Result<modbus::MeterSnapshot> read = meter.profile->readSnapshot(*m_client, meter.unitId);
        result.attempts = attempt;
        result.takenAtMs = m_clock.wallMs();
        CommState previous = CommState::Unknown;
        if (noteOutcome(meterIndex, read.ok(), &previous)) {
            if (!changed)
                before = previous;
            changed = true;
        }
        if (read.ok()) {
            result.snapshot = std::move(read.value);
            result.error = {};
            break;
        }
        result.error = read.error;
        {
            std::lock_guard lock(m_mutex);
            if (m_breakers[size_t(meterIndex)].state == CommState::Offline)
                break; // gone offline with this failure: no more of the line's time for it
        }
        if (!worthRetrying(read.error))
            break;
    }

    {
        std::lock_guard lock(m_mutex);
        const Breaker &b = m_breakers[size_t(meterIndex)];
        result.commState = b.state;
        result.consecutiveFailures = b.consecutiveFailures;
        result.commStateChanged = changed;
        if (!result.ok() && b.state == CommState::Offline)
            scheduleProbeLocked(meterIndex);
        if (reason == ReadReason::Cycle) {
            if (!result.ok())
                ++m_cycleErrors;
            finishCycleJobLocked();
        }
    }
    // Staff care about a meter lost and a meter back; the first good read of each is routine.
    if (changed && (result.commState == CommState::Offline || before == CommState::Offline)) {
        qCInfo(lcPoller, "bus %s unit %d (meter %lld) is %s%s", qUtf8Printable(m_bus.name), meter.unitId, meter.meterId,
            qUtf8Printable(commStateCode(result.commState)),
            result.ok() ? "" : qPrintable(QStringLiteral(": ") + result.error.message));
    }
    const bool cycleFinished = reason == ReadReason::Cycle && !cycleRunning();
    if (m_hooks.onReading)
        m_hooks.onReading(std::move(result));
    if (cycleFinished && m_hooks.onHealth)
        m_hooks.onHealth(health());
}

void BusWorker::runCommand(const Job &job)
{
    const MeterTarget &meter = m_bus.meters[job.meterIndex];
    if (!m_hooks.runCommand)
        return;
    const commands::ExecuteResult result = m_hooks.runCommand(job.commandId, m_reader.get(), *m_client, meter);
    if (result.snapshot) {
        noteOutcome(job.meterIndex, true);
        ReadingResult reading;
        reading.meterId = meter.meterId;
        reading.busId = m_bus.busId;
        reading.reason = ReadReason::Verify;
        reading.snapshot = result.snapshot;
        reading.takenAtMs = result.snapshotAtMs != 0 ? result.snapshotAtMs : m_clock.wallMs();
        {
            std::lock_guard lock(m_mutex);
            reading.commState = m_breakers[size_t(job.meterIndex)].state;
        }
        if (m_hooks.onReading)
            m_hooks.onReading(std::move(reading));
    }
    if (result.outcome == commands::ExecuteOutcome::RetryLater) {
        std::lock_guard lock(m_mutex);
        Job again = job;
        // The executor speaks wall time; the queue waits on the monotonic clock.
        again.notBeforeMs = m_clock.monotonicMs() + std::max<qint64>(0, result.retryAtMs - m_clock.wallMs());
        enqueueLocked(job.priority, again);
    }
    if (m_hooks.onCommand)
        m_hooks.onCommand(job.commandId, result);
}

} // namespace prepay::poller
