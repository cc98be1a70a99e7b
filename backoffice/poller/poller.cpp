#include "poller.h"

#include "api/check.h"
#include "api/clock.h"
#include "commands/commandexecutor.h"
#include "commands/commandstore.h"
#include "pollerlog.h"
#include "store/store.h"

#include <algorithm>

namespace prepay::poller {

namespace {

constexpr qint64 kCycleIntervalMinMs = 60'000;
constexpr qint64 kCycleIntervalMaxMs = 86'400'000;

MeterStateView viewOf(const ReadingResult &r, std::optional<MeterStateView> previous)
{
    MeterStateView v = previous.value_or(MeterStateView{});
    v.meterId = r.meterId;
    v.commState = r.commState;
    v.consecutiveFailures = r.consecutiveFailures;
    if (r.ok()) {
        v.lastSnapshot = r.snapshot;
        v.lastReadAtMs = r.takenAtMs;
    } else {
        v.lastError = r.error.message;
        v.lastErrorAtMs = r.takenAtMs;
    }
    return v;
}

} // namespace

Poller::Poller(store::Store &store, const Clock &clock, PollPlan plan, commands::CommandStore *commandStore,
    commands::CommandExecutor *executor, PollerOptions options, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_clock(clock)
    , m_plan(std::move(plan))
    , m_commandStore(commandStore)
    , m_executor(executor)
    , m_options(options)
{
    PREPAY_CHECK(m_plan.buses.size() <= PollLimits::busesMax);
    m_recorder = std::make_unique<Recorder>(m_store, m_clock, m_plan, m_options.recorder);

    BusWorker::Hooks hooks;
    hooks.onReading = [this](ReadingResult r) { onReading(std::move(r)); };
    hooks.onHealth = [this](const BusHealth &h) { m_recorder->recordHealth(h); };
    hooks.openReader = [this] { return m_store.openReader(); };
    if (m_executor) {
        hooks.runCommand = [this](qint64 commandId, store::Connection *reader, modbus::ModbusClient &client,
                               const MeterTarget &meter) {
            PREPAY_CHECK(reader);
            return m_executor->execute(commandId, *reader, client, *meter.profile, meter.unitId);
        };
    }
    hooks.onCommand = [this](qint64 commandId, const commands::ExecuteResult &r) { onCommand(commandId, r); };
    for (const BusPlan &bus : std::as_const(m_plan.buses))
        m_workers.push_back(std::make_unique<BusWorker>(bus, m_plan, m_clock, hooks, m_options.worker));

    m_flushTimer.setInterval(int(m_options.flushEveryMs));
    connect(&m_flushTimer, &QTimer::timeout, this, [this] { m_recorder->flushIfDue(); });
}

Poller::~Poller()
{
    stop();
}

void Poller::start()
{
    PREPAY_CHECK(!m_started);
    m_started = true;
    for (auto &w : m_workers)
        w->start();
    m_flushTimer.start();
    for (auto it = m_plan.cycleIntervalMsByBuilding.cbegin(); it != m_plan.cycleIntervalMsByBuilding.cend(); ++it) {
        const qint64 building = it.key();
        auto timer = std::make_unique<QTimer>();
        timer->setInterval(int(it.value()));
        connect(timer.get(), &QTimer::timeout, this, [this, building] { startCycle(building); });
        timer->start();
        m_cycleTimers[building] = std::move(timer);
    }
    dispatchLiveCommands();
    if (m_options.cycleAtStart)
        startCycle();
    qCInfo(lcPoller, "polling %d meters on %d buses", m_plan.meterCount(), int(m_workers.size()));
}

void Poller::stop()
{
    if (!m_started)
        return;
    m_started = false;
    m_cycleTimers.clear();
    m_flushTimer.stop();
    for (auto &w : m_workers)
        w->stop();
    m_recorder->flush();
    // Nobody will answer the waiters any more.
    std::lock_guard lock(m_waitersMutex);
    for (auto &[meter, promise] : m_stateWaiters)
        promise.set_value(m_recorder->state(meter));
    m_stateWaiters.clear();
    for (auto &[command, promise] : m_commandWaiters) {
        commands::ExecuteResult r;
        r.outcome = commands::ExecuteOutcome::RetryLater;
        r.message = QStringLiteral("prepayd stopped; the command stays in the database");
        promise.set_value(r);
    }
    m_commandWaiters.clear();
}

int Poller::startCycle(qint64 buildingId)
{
    int started = 0;
    for (auto &w : m_workers) {
        if (buildingId != 0 && w->bus().buildingId != buildingId)
            continue;
        if (w->startCycle())
            ++started;
        else
            qCWarning(lcPoller, "bus %s is still busy with its previous cycle; this cycle is skipped there",
                qUtf8Printable(w->bus().name));
    }
    return started;
}

bool Poller::cycleRunning() const
{
    return std::any_of(m_workers.begin(), m_workers.end(), [](const auto &w) { return w->cycleRunning(); });
}

BusWorker *Poller::workerOfMeter(qint64 meterId) const
{
    const BusPlan *bus = m_plan.busOfMeter(meterId);
    if (!bus)
        return nullptr;
    for (const auto &w : m_workers) {
        if (w->bus().busId == bus->busId)
            return w.get();
    }
    return nullptr;
}

void Poller::readNowMeter(qint64 meterId)
{
    if (BusWorker *w = workerOfMeter(meterId))
        w->readNow(meterId);
}

void Poller::readNowFloor(qint64 buildingId, int floor)
{
    for (const BusPlan &bus : std::as_const(m_plan.buses)) {
        for (const MeterTarget &m : bus.meters) {
            if (m.buildingId == buildingId && m.floor == floor)
                readNowMeter(m.meterId);
        }
    }
}

void Poller::readNowBuilding(qint64 buildingId)
{
    for (const BusPlan &bus : std::as_const(m_plan.buses)) {
        for (const MeterTarget &m : bus.meters) {
            if (m.buildingId == buildingId)
                readNowMeter(m.meterId);
        }
    }
}

std::future<std::optional<MeterStateView>> Poller::freshState(qint64 meterId, qint64 maxAgeMs)
{
    std::promise<std::optional<MeterStateView>> promise;
    std::future<std::optional<MeterStateView>> future = promise.get_future();
    BusWorker *worker = workerOfMeter(meterId);
    if (!worker) {
        promise.set_value(std::nullopt);
        return future;
    }
    const qint64 maxAge = maxAgeMs >= 0 ? maxAgeMs : m_plan.freshMaxAgeMs;
    const std::optional<MeterStateView> known = m_recorder->state(meterId);
    if (known && known->lastReadAtMs > 0 && m_clock.wallMs() - known->lastReadAtMs <= maxAge) {
        promise.set_value(known);
        return future;
    }
    {
        std::lock_guard lock(m_waitersMutex);
        m_stateWaiters.emplace(meterId, std::move(promise));
    }
    worker->readNow(meterId);
    return future;
}

bool Poller::setCycleInterval(qint64 buildingId, qint64 intervalMs)
{
    if (!m_plan.cycleIntervalMsByBuilding.contains(buildingId) || intervalMs < kCycleIntervalMinMs
        || intervalMs > kCycleIntervalMaxMs)
        return false;
    const auto written = m_store
                             .write([buildingId, intervalMs](store::Transaction &tx) {
                                 store::Statement s = tx.prepare(
                                     QStringLiteral("UPDATE buildings SET poll_interval_ms = ?1 WHERE id = ?2"));
                                 s.bind(1, intervalMs).bind(2, buildingId);
                                 if (const store::SqlError e = s.run(); !e.ok())
                                     tx.fail(e);
                             })
                             .get();
    if (!written.committed()) {
        qCWarning(lcPoller, "cannot store the cycle interval of building %lld: %s", buildingId,
            qUtf8Printable(written.error.toString()));
        return false;
    }
    m_plan.cycleIntervalMsByBuilding[buildingId] = intervalMs;
    const auto timer = m_cycleTimers.find(buildingId);
    if (timer != m_cycleTimers.end())
        timer->second->setInterval(int(intervalMs));
    for (auto &w : m_workers) {
        if (w->bus().buildingId == buildingId)
            w->setCycleIntervalMs(intervalMs);
    }
    qCInfo(lcPoller, "building %lld: a full cycle every %lld s", buildingId, intervalMs / 1000);
    return true;
}

commands::EnqueueResult Poller::submitCommand(const commands::CommandRequest &request)
{
    PREPAY_CHECK(m_commandStore);
    const commands::EnqueueResult result = m_commandStore->enqueue(request);
    if (result.outcome == commands::EnqueueOutcome::Queued) {
        if (BusWorker *w = workerOfMeter(request.meterId))
            w->enqueueCommand(result.commandId, request.meterId, commands::priorityOf(request.kind, request.payload));
    }
    return result;
}

void Poller::dispatchCommands(const QList<qint64> &commandIds)
{
    if (!m_commandStore || !m_executor || commandIds.isEmpty())
        return;
    store::SqlError error;
    const std::unique_ptr<store::Connection> reader = m_store.openReader(&error);
    if (!reader) {
        qCCritical(lcPoller, "cannot read commands to dispatch: %s", qUtf8Printable(error.toString()));
        return;
    }
    for (qint64 id : commandIds) {
        const std::optional<commands::CommandRow> row = m_commandStore->load(*reader, id, &error);
        if (!row || commands::isFinal(row->state))
            continue;
        if (BusWorker *w = workerOfMeter(row->meterId))
            w->enqueueCommand(row->id, row->meterId, row->priority);
        else
            qCWarning(lcPoller, "command %lld: meter %lld is on no polled bus; it waits", row->id, row->meterId);
    }
}

std::future<commands::ExecuteResult> Poller::commandDone(qint64 commandId)
{
    std::promise<commands::ExecuteResult> promise;
    std::future<commands::ExecuteResult> future = promise.get_future();
    std::lock_guard lock(m_waitersMutex);
    m_commandWaiters.emplace(commandId, std::move(promise));
    return future;
}

QList<BusHealth> Poller::health() const
{
    QList<BusHealth> all;
    for (const auto &w : m_workers)
        all.append(w->health());
    return all;
}

void Poller::onReading(ReadingResult result)
{
    const qint64 meterId = result.meterId;
    std::optional<MeterStateView> view;
    bool waited = false;
    {
        std::lock_guard lock(m_waitersMutex);
        waited = m_stateWaiters.count(meterId) > 0;
    }
    if (waited)
        view = viewOf(result, m_recorder->state(meterId));
    m_recorder->record(std::move(result));
    if (!waited)
        return;
    std::lock_guard lock(m_waitersMutex);
    auto [first, last] = m_stateWaiters.equal_range(meterId);
    for (auto it = first; it != last; ++it)
        it->second.set_value(view);
    m_stateWaiters.erase(first, last);
}

void Poller::onCommand(qint64 commandId, const commands::ExecuteResult &result)
{
    if (result.outcome == commands::ExecuteOutcome::RetryLater)
        return;
    std::lock_guard lock(m_waitersMutex);
    auto [first, last] = m_commandWaiters.equal_range(commandId);
    for (auto it = first; it != last; ++it)
        it->second.set_value(result);
    m_commandWaiters.erase(first, last);
}

void Poller::dispatchLiveCommands()
{
    if (!m_commandStore || !m_executor)
        return;
    store::SqlError error;
    const std::unique_ptr<store::Connection> reader = m_store.openReader(&error);
    if (!reader) {
        qCCritical(lcPoller, "cannot read the live commands: %s", qUtf8Printable(error.toString()));
        return;
    }
    const QList<commands::CommandRow> live = m_commandStore->loadLive(*reader);
    const qint64 wallNow = m_clock.wallMs();
    const qint64 monotonicNow = m_clock.monotonicMs();
    for (const commands::CommandRow &row : live) {
        BusWorker *w = workerOfMeter(row.meterId);
        if (!w) {
            qCWarning(lcPoller, "command %lld: meter %lld is on no polled bus; it waits", row.id, row.meterId);
            continue;
        }
        const qint64 notBefore
            = row.nextAttemptAtMs ? monotonicNow + std::max<qint64>(0, *row.nextAttemptAtMs - wallNow) : 0;
        w->enqueueCommand(row.id, row.meterId, row.priority, notBefore);
    }
    if (!live.isEmpty())
        qCInfo(lcPoller, "driving %d command(s) found in the database", int(live.size()));
}

} // namespace prepay::poller
