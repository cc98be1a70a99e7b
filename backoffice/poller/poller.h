// The poller of one prepayd: a BusWorker per bus (up to 64, in parallel), the recorder they
// all feed, the cycle timer of each building, and the door through which commands reach their
// meter's bus. It answers "read this meter / floor / building now", "the state of this meter,
// no older than 3 minutes", and carries out durable commands ahead of polling.
//
// Lives on the thread of an event loop (prepayd's main thread): cycles run on QTimers, the
// recorder is flushed on a timer; the workers run on their own threads.
#pragma once

#include "busworker.h"
#include "pollplan.h"
#include "recorder.h"

#include "commands/command.h"

#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace prepay {
class Clock;
}
namespace prepay::store {
class Store;
}
namespace prepay::commands {
class CommandStore;
class CommandExecutor;
} // namespace prepay::commands

namespace prepay::poller {

struct PollerOptions
{
    bool cycleAtStart = true;  // the first cycle of every building right away
    qint64 flushEveryMs = 200; // how often the recorder looks for a due batch
    WorkerLimits worker;
    RecorderLimits recorder;
};

class Poller : public QObject
{
    Q_OBJECT

public:
    // `commandStore` and `executor` may be null (polling only).
    Poller(store::Store &store, const Clock &clock, PollPlan plan, commands::CommandStore *commandStore,
        commands::CommandExecutor *executor, PollerOptions options = {}, QObject *parent = nullptr);
    ~Poller() override;

    const PollPlan &plan() const { return m_plan; }
    Recorder &recorder() { return *m_recorder; }

    // Starts the workers, the timers and drives the live commands found in the database.
    void start();
    // Stops the timers and the workers (each finishes its transaction in flight), then stores
    // everything recorded. Idempotent.
    void stop();

    // Starts a full cycle of one building (or every building: 0) now; returns the buses that
    // started one (a bus still busy with the previous cycle does not).
    int startCycle(qint64 buildingId = 0);
    bool cycleRunning() const;

    void readNowMeter(qint64 meterId);
    void readNowFloor(qint64 buildingId, int floor);
    void readNowBuilding(qint64 buildingId);

    // The meter's state no older than `maxAgeMs` (default: the plan's 3 minutes): at once from
    // the last reading, or after a read jumping the cycle queue. The future holds nullopt for
    // an unknown meter; a failed read gives the view with its error.
    std::future<std::optional<MeterStateView>> freshState(qint64 meterId, qint64 maxAgeMs = -1);

    // Changes a building's cycle interval at run time (60 s .. 24 h) and keeps it (buildings
    // table). False for an unknown building or an interval out of range.
    bool setCycleInterval(qint64 buildingId, qint64 intervalMs);

    // Stores a command (durable) and hands it to its meter's bus. Duplicate requests are not
    // handed over twice.
    commands::EnqueueResult submitCommand(const commands::CommandRequest &request);
    // Hands commands already stored (queued inside another transaction: a policy decision in a
    // batch, a payment's meter job) to their meters' buses. Ids that are not live are skipped.
    void dispatchCommands(const QList<qint64> &commandIds);
    // The outcome of a command as it becomes final (verified/failed/cancelled) in this process.
    std::future<commands::ExecuteResult> commandDone(qint64 commandId);

    QList<BusHealth> health() const;

private:
    void onReading(ReadingResult result);
    void onCommand(qint64 commandId, const commands::ExecuteResult &result);
    BusWorker *workerOfMeter(qint64 meterId) const;
    void dispatchLiveCommands();

    store::Store &m_store;
    const Clock &m_clock;
    PollPlan m_plan;
    commands::CommandStore *m_commandStore;
    commands::CommandExecutor *m_executor;
    PollerOptions m_options;
    std::unique_ptr<Recorder> m_recorder;
    std::vector<std::unique_ptr<BusWorker>> m_workers;
    std::map<qint64, std::unique_ptr<QTimer>> m_cycleTimers; // by building
    QTimer m_flushTimer;
    bool m_started = false;

    std::mutex m_waitersMutex;
    std::multimap<qint64, std::promise<std::optional<MeterStateView>>> m_stateWaiters; // by meter
    std::multimap<qint64, std::promise<commands::ExecuteResult>> m_commandWaiters;     // by command
};

} // namespace prepay::poller
