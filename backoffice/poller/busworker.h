// One bus, one worker: a thread that owns the bus's ModbusClient (one libmodbus context, exactly
// one request in flight) and serves a priority queue of jobs — commands first, then reads asked
// for now, then the building's cycle, offline probes last. After each transaction it takes the
// most urgent job due, so a command waits at most for the transaction already on the wire.
//
// It also keeps each meter's circuit breaker: after `offlineAfterFailures` consecutive failed
// requests a meter is offline; it is no longer part of the cycle but probed on its own with a
// back-off (capped, so it is tried at least once per cycle), and back online on the first good
// reply. A dead meter costs the line at most timeout × (retries + 1) once, then one probe per
// back-off; a dead gateway costs only its own buses (their requests fail fast on the client's
// connection back-off).
//
// The worker knows nothing of the database: readings go to onReading (the recorder), health to
// onHealth, and commands are carried out by runCommand (the command executor) on this thread.
#pragma once

#include "pollplan.h"
#include "reading.h"

#include "commands/command.h"

#include <QtCore/QHash>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace prepay {
class Clock;
}
namespace prepay::store {
class Connection;
}

namespace prepay::poller {

struct WorkerLimits
{
    int readRetries = 1;               // a failed read is tried once more at once (online meters only)
    qint64 firstProbeDelayMs = 30'000; // an offline meter's first probe; doubles up to the cap
};

// Job priorities (lower first); commands use commands::priorityOf() (0..3).
struct JobPriority
{
    static constexpr int kVerify = 4;
    static constexpr int kReadNow = 5;
    static constexpr int kCycle = commands::kPollPriority;
    static constexpr int kProbe = commands::kPollPriority + 1;
};
static_assert(JobPriority::kReadNow < JobPriority::kCycle && JobPriority::kCycle < JobPriority::kProbe);

class BusWorker
{
public:
    struct Hooks
    {
        std::function<void(ReadingResult)> onReading;
        std::function<void(const BusHealth &)> onHealth;
        // Opens this thread's read-only database connection (for the command executor).
        std::function<std::unique_ptr<store::Connection>()> openReader;
        // Carries out one attempt of a command on this bus; null = commands are not run here.
        std::function<commands::ExecuteResult(
            qint64 commandId, store::Connection *reader, modbus::ModbusClient &, const MeterTarget &)>
            runCommand;
        // Told after every attempt (for waiters and logs); may be null.
        std::function<void(qint64 commandId, const commands::ExecuteResult &)> onCommand;
    };

    BusWorker(BusPlan bus, const PollPlan &settings, const Clock &clock, Hooks hooks, WorkerLimits limits = {});
    ~BusWorker();
    BusWorker(const BusWorker &) = delete;
    BusWorker &operator=(const BusWorker &) = delete;

    const BusPlan &bus() const { return m_bus; }

    void start();
    // Finishes the transaction in flight and stops; queued jobs are dropped (commands stay in
    // the database and are driven again at the next start).
    void stop();

    // All thread-safe.
    // Queues a cycle read of every online (or not yet known) meter; false if the previous
    // cycle of this bus has not finished (the cycle overran its interval).
    bool startCycle();
    void readNow(qint64 meterId);
    void enqueueCommand(qint64 commandId, qint64 meterId, int priority, qint64 notBeforeMs = 0);
    // The meter's cycle interval caps its offline probe back-off.
    void setCycleIntervalMs(qint64 ms);

    BusHealth health() const;
    bool cycleRunning() const;
    int queuedJobs() const;

private:
    enum class JobKind {
        Read,
        Command
    };
    struct Job
    {
        JobKind kind = JobKind::Read;
        int priority = 0;
        int meterIndex = 0;
        ReadReason reason = ReadReason::Cycle;
        qint64 commandId = 0;
        qint64 notBeforeMs = 0;
    };
    struct Breaker
    {
        int consecutiveFailures = 0;
        CommState state = CommState::Unknown;
        qint64 probeBackoffMs = 0;
    };
    using Key = std::pair<int, quint64>; // (priority, sequence)

    void run();
    void execute(const Job &job);
    void readMeter(int meterIndex, ReadReason reason);
    void runCommand(const Job &job);
    void enqueueLocked(int priority, Job job);
    void scheduleProbeLocked(int meterIndex);
    void finishCycleJobLocked();
    // Updates the breaker after one request; returns true if the state changed (and the state
    // before in *previous).
    bool noteOutcome(int meterIndex, bool ok, CommState *previous = nullptr);

    const BusPlan m_bus;
    const int m_offlineAfterFailures;
    const qint64 m_offlineProbeCapMs;
    const Clock &m_clock;
    const Hooks m_hooks;
    const WorkerLimits m_limits;
    QHash<qint64, int> m_indexOfMeter;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<Key, Job> m_queue;
    quint64 m_sequence = 0;
    QHash<int, Key> m_queuedRead; // meter index → its queued read (one at a time)
    std::vector<Breaker> m_breakers;
    qint64 m_cycleIntervalMs = 0;
    int m_cycleRemaining = 0;
    int m_cycleErrors = 0;
    int m_cycleMeters = 0;
    qint64 m_cycleStartedAtMs = 0;
    BusHealth m_health;
    bool m_stopping = false;

    // Only the worker thread touches these.
    std::unique_ptr<modbus::ModbusClient> m_client;
    std::unique_ptr<store::Connection> m_reader;
    std::thread m_thread;
};

} // namespace prepay::poller
