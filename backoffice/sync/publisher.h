// The producer of the kiosk directory feed (directory.h; schema v6, sql/0006_kiosk_sync.sql):
// keeps a published copy of the directory (sync_directory) up to date and appends one
// event_feed row (topic "directory.account", payload = the account's whole row, or its removal)
// per account whose row changed; answers sync.snapshot and events.subscribe from them. No
// network: the service (backoffice/service) calls these and sends what they return.
//
// refresh() is INCREMENTAL, so prepayd can run it every few seconds and after every readings
// batch (10,000 readings): it looks only at what is new since the last refresh —
//  - readings past a watermark: their local day (site time zone) and month, folded into
//    sync_usage_daily / _monthly for the account that held the point when the reading was
//    taken (account_metering_points at taken_at_ms); a day with readings gets a row, so a day
//    without any is a gap, never a zero;
//  - charge_intervals past a watermark: energy and amount added to the day and month of the
//    reading that ends them, for the same account;
//  - ledger_postings past a watermark: the wallets they moved;
//  - sync_dirty: accounts marked by the schema's triggers on the cold tables (accounts, point
//    links, meter installations, balance and offline alarms; since issue 8 a relay read back
//    differently, a control mode, a tariff assignment, version or name);
//  - the local day: when it changed, every row is re-derived (the windows moved) and usage
//    older than the windows is dropped from the aggregates.
// Only the rows of those accounts are recomputed (31 days and 12 months read from the
// aggregates, never from readings; their points and tariff read from the cold tables), and only those that differ from what was published produce
// an event. A refresh with nothing new reads three maxima, one row of sync_dirty and the state.
// The first refresh (or one after 'site.time_zone' changed) rebuilds the aggregates from the
// readings of the last 12 months, through the per-point reading index.
//
// Each function runs in the caller's transaction (refresh and prune in a store write job of
// their own: the published rows, their events and the cursors commit together) or read
// transaction (snapshot, eventsSince open one on the reader they are given, so rows and seq
// agree). A failed statement fails the write transaction: nothing of the refresh is kept.
//
// Retention: the directory's events are pruned by prune() / pruneByRetention(); a client whose
// cursor is older than what was pruned gets resync_needed and takes a snapshot. Other topics of
// event_feed are not touched.
#pragma once

#include "directory.h"

#include <QtCore/QString>
#include <QtCore/QTimeZone>

#include <optional>

namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::sync {

QString directoryTopic(); // "directory.account" (event_feed.topic)

struct SyncLimits
{
    static constexpr int eventsPerBatchMax = 5'000;       // eventsSince() clamps its limit to this
    static constexpr int usageDaysKept = kDailyDays + 31; // sync_usage_daily rows older are dropped
    static constexpr int usageMonthsKept = kMonthlyMonths + 12;
};
static_assert(SyncLimits::usageDaysKept > kDailyDays && SyncLimits::usageMonthsKept > kMonthlyMonths);

enum class RefreshOutcome {
    Published,   // at least one event appended
    UpToDate,    // every row was current: nothing appended
    StoreFailed, // a statement failed (error says which); the transaction is failed
};
QString refreshOutcomeCode(RefreshOutcome outcome); // "published", "up_to_date", "store_failed"

struct RefreshResult
{
    RefreshOutcome outcome = RefreshOutcome::StoreFailed;
    bool rebuilt = false;     // aggregates rebuilt (first refresh, or the time zone changed)
    bool windowMoved = false; // the local day changed since the last refresh
    int readingsFolded = 0;
    int intervalsFolded = 0;
    int accountsExamined = 0; // rows recomputed
    int rowsPublished = 0;    // events with a row
    int rowsRemoved = 0;      // removal events
    qint64 headSeq = 0;       // the directory's last event after this refresh
    QString error;
};

RefreshResult refresh(store::Transaction &tx, qint64 nowMs, const QTimeZone &timeZone);

struct PruneResult
{
    bool ok = false;
    int deleted = 0;
    qint64 prunedThroughSeq = 0; // a cursor below this needs a snapshot
    QString error;
};

// Deletes the directory events with seq < keepFromSeq; a cursor ≥ keepFromSeq − 1 (capped at
// the head) can still be continued, an older one gets resync_needed.
PruneResult prune(store::Transaction &tx, qint64 keepFromSeq);

struct Retention
{
    qint64 maxAgeMs = 6 * 3'600'000LL; // events older than this go …
    int eventsMax = 200'000;           // … and beyond this many newest ones
};
PruneResult pruneByRetention(store::Transaction &tx, qint64 nowMs, const Retention &retention);

// Every current row and the seq they are consistent with, read in one read transaction.
std::optional<DirectorySnapshot> snapshot(store::Connection &reader, QString *error);

// The directory events with sinceSeq < seq, in seq order, at most `limit` (1..eventsPerBatchMax),
// as one complete batch from sinceSeq; resyncNeeded (and no events) when sinceSeq is below what
// was pruned or above the head (a cursor from another database, or from before a restore).
std::optional<DirectoryBatch> eventsSince(store::Connection &reader, qint64 sinceSeq, int limit, QString *error);

} // namespace prepay::sync
