// The recorder: where every read of every bus worker ends up. It validates each reading
// against the previous one of the same installation (validation.h), stores readings in
// batches — one write transaction per batch through the store's writer — and keeps the
// meter_state twin of each meter (last reading, balance and purchase count on the meter, relay,
// online/offline since, last error) and the bus_health rows, which the API and the kiosk read.
//
// Each reading is validated against the last one stored for its installation, whatever its
// status (a reset or a jump is the meter's new baseline) except swap_held (another meter's).
// Validation runs inside the batch's write job and the cache of previous readings is updated
// only once that job committed, so cache and database never disagree.
//
// Thread-safe: workers call record() from their threads; a batch is flushed when it is full or
// when its oldest result has waited flushAfterMs (the caller runs flushIfDue() on a timer), and
// at stop. A failed read is never a reading (a missed interval is a gap, not zero): it only
// updates meter_state. The batch hook lets billing charge the validated intervals in the same
// transaction as the readings (issue 5).
#pragma once

#include "pollplan.h"
#include "reading.h"
#include "validation.h"

#include <QtCore/QList>

#include <array>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace prepay {
class Clock;
}
namespace prepay::store {
class Store;
class Transaction;
} // namespace prepay::store

namespace prepay::poller {

struct RecorderLimits
{
    int batchMax = 500;         // readings per transaction
    qint64 flushAfterMs = 1000; // a result waits at most this long before it is stored
    // While SQLite refuses batches, results wait; beyond this many the oldest are dropped (a
    // dropped reading is a gap: the next stored one covers its interval, nothing is lost).
    int pendingMax = 50'000;
    qint64 retryAfterMs = 5000; // after a failed batch flushIfDue() waits this long (flush() does not)
};

// A reading as stored (after validation), handed to the batch hook.
struct StoredReading
{
    qint64 readingId = 0;
    qint64 meterId = 0;
    qint64 installationId = 0;
    qint64 meteringPointId = 0;
    qint64 takenAtMs = 0;
    Validation validation;
    modbus::MeterSnapshot snapshot;
    // The energy registers exactly as the readings row holds them (the same values the recorder
    // inserted), so the batch hook need not read the row back: the total in Wh, and the four slot
    // registers in Wh when the meter has them (NULL in the row otherwise).
    qint64 energyTotalWh = 0;
    std::optional<std::array<qint64, 4>> slotEnergyWh;
};

// What the API, the kiosk and "fresh state on demand" read about a meter.
struct MeterStateView
{
    qint64 meterId = 0;
    std::optional<qint64> lastReadingId;
    qint64 lastReadAtMs = 0; // 0 = never read
    std::optional<modbus::MeterSnapshot> lastSnapshot;
    CommState commState = CommState::Unknown;
    qint64 commStateSinceMs = 0;
    int consecutiveFailures = 0;
    QString lastError;     // the last failed read, for people (kept after the meter is back)
    QString lastErrorCode; // its DriverError::code(): "timeout", "exception_11", …
    qint64 lastErrorAtMs = 0;
};

class Recorder
{
public:
    using BatchHook = std::function<void(store::Transaction &, const QList<StoredReading> &)>;

    // Loads the previous reading of every current installation and the meter_state rows, so a
    // restart validates against what was stored before.
    Recorder(store::Store &store, const Clock &clock, const PollPlan &plan, RecorderLimits limits = {});
    // Flushes what is still pending (the store must outlive the recorder).
    ~Recorder();

    void record(ReadingResult result);     // any thread
    void recordHealth(const BusHealth &h); // any thread; stored with the next batch
    void flushIfDue();                     // stores the pending results if full or old enough
    // Stores everything pending now, in batches; returns when committed (or after the first batch
    // that failed). Never from the store's writer thread (a batch hook): it waits for that thread.
    void flush();

    // Runs on the store's writer thread inside each batch's transaction, after its readings are
    // inserted, with the batch's stored readings (not called for a batch of failed reads only).
    // Throwing or tx.rollback() keeps nothing of the batch: its results are retried later.
    void setBatchHook(BatchHook hook);
    // Runs after each batch that called the batch hook, on the flushing thread, outside the
    // transaction: committed or not. What the hook prepared for after the commit (commands to
    // hand to the buses) is carried out here, or dropped when the batch was not kept.
    void setAfterBatch(std::function<void(bool committed)> afterBatch);

    // What meter_state holds for the meter (committed batches only; after a restart the snapshot
    // has only what readings and meter_state keep: no voltages, currents, power factor). A meter
    // of the plan that has no row yet gets an empty view (commState Unknown, never read);
    // nullopt for a meter that is not in the plan.
    std::optional<MeterStateView> state(qint64 meterId) const;

    struct Stats
    {
        qint64 readingsStored = 0;
        qint64 batches = 0;
        qint64 failedBatches = 0;  // a batch SQLite refused (logged; its results are kept and retried)
        qint64 resultsDropped = 0; // beyond pendingMax while batches failed
    };
    Stats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace prepay::poller
