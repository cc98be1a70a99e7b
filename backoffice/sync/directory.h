// The kiosk directory as the sync feed carries it (issue 6, "Sync for kiosks"): one row per
// tenant account that is not closed — shop number, display name, status colour, wallet balance,
// last reading time, daily usage of the last 31 local days and monthly usage of the last 12
// local months — and the protocol values that move it: a snapshot, and batches of events.
// Qt Core only (no store): prepayd encodes, the kiosk decodes, with the same code.
//
// One encoder. encodeRow() writes the canonical compact JSON of a row (keys in a fixed order,
// no spaces); it is what event_feed.payload and sync_directory.payload hold, so "did the row
// change" is a byte comparison and a row always encodes to the same bytes. The wire forms
// (QJsonObject, for the JSON-RPC layer) are derived from it, never built a second way.
//
// Row (event payload):
//   {"account_id":42,"shop_no":"A-1F-104","display_name":"闽味小馆","status":"normal",
//    "balance_fen":12345,"last_reading_ms":1794967200000,
//    "daily":[["2026-11-17",12000,1452],["2026-11-18",800,97]],
//    "monthly":[["2026-10",310000,37510],["2026-11",150000,18150]],
//    "daily_slot_wh":[[0,4000,6000,2000],[0,300,400,100]],
//    "monthly_slot_wh":[[0,100000,150000,60000],[0,50000,70000,30000]],
//    "points":[{"point_code":"A-1F-104","relay":"closed","control_mode":"auto","offline":false}],
//    "tariff":{"name":"商业分时电价","kind":"tou","prices":[13000,11000,7000,3500],
//              "tier_upper_wh":[],"tier_adders":[]}}
//   balance_fen: the wallet's balance (fen; negative = overdraft), null when the account has no
//   wallet yet. last_reading_ms: the newest reading among its current points, null if none.
//   daily: [local day, energy Wh, amount fen] ascending, only days with at least one reading of
//   the account's points — a day without a reading is absent (a gap), a day with readings and no
//   consumption is [day, 0, 0]. monthly: [local month 'YYYY-MM', Wh, fen], the same rule.
//   daily_slot_wh / monthly_slot_wh (issue 8): the TOU split [sharp, peak, flat, valley] Wh of
//   each entry of daily / monthly, in the same order — the slot energies of the charge intervals
//   that make the entry's Wh, as billing split them (rating.h); they sum to the entry's Wh.
//   points (issue 8): the account's current metering points by code — relay as the poller last
//   read it from the installed meter ("closed", "open", "unknown": never read, or no meter),
//   control_mode ("auto", "force_on" 保电, "force_off" 拉闸), offline (meter_offline open on it).
//   tariff (issue 8): the account's own tariff assignment in force today (else that of its first
//   point by code, for a 一表一价 account), with that tariff's version in force today: its name,
//   kind, slot prices and tiers (bounds ascending, the last tier unbounded and not listed); null
//   when none applies.
//   Decoding tolerates a row without the issue-8 keys (an older server): zero slots, no points,
//   no tariff.
// Removal (an account closed, or gone from the directory): {"account_id":42,"removed":true}.
//
// Status colours (DESIGN.md §3 "status colours"), from the account and the control's alarm
// episodes (backoffice/control: the controller raises alarm1 / alarm2 / arrears on a point
// by its thresholds point → building → site, syncMeterAlarms raises meter_offline on a meter),
// so the kiosk shows what staff see. First match wins:
//   not_opened  the account is not opened yet;
//   arrears     an arrears alarm is open on one of its points (balance ≤ 0);
//   offline     the meter installed at one of its points has meter_offline open (失联): the
//               balance and readings shown may be behind;
//   alarm2, alarm1  the balance alarm open on one of its points;
//   normal      otherwise.
// Money asking the tenant to act comes first; offline stands above the warnings because it
// says the figures may be stale.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QDate>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

#include <array>
#include <optional>

namespace prepay::sync {

// The windows a row carries.
inline constexpr int kDailyDays = 31;     // today and the 30 local days before it
inline constexpr int kMonthlyMonths = 12; // this local month and the 11 before it

enum class AccountStatus {
    Normal,
    Alarm1,
    Alarm2,
    Arrears,
    NotOpened,
    Offline,
};
QString accountStatusCode(AccountStatus status); // "normal", "alarm1", "alarm2", "arrears", "not_opened", "offline"
std::optional<AccountStatus> accountStatusFromCode(QStringView code);

// The TOU split of a period's energy, by billing::Slot order: sharp (尖), peak (峰), flat (平),
// valley (谷). Sums to energyWh (the charge intervals' slot energies, billing/rating.h).
using SlotEnergy = std::array<qint64, 4>;

struct DayUsage
{
    QDate day; // local
    qint64 energyWh = 0;
    qint64 amountFen = 0;
    SlotEnergy slotWh{};
    friend bool operator==(const DayUsage &, const DayUsage &) = default;
};

struct MonthUsage
{
    QDate month; // local; the first of the month
    qint64 energyWh = 0;
    qint64 amountFen = 0;
    SlotEnergy slotWh{};
    friend bool operator==(const MonthUsage &, const MonthUsage &) = default;
};

// One current metering point of the account as the kiosk shows it.
struct PointState
{
    QString pointCode;            // "A-3F-301"
    QString relay;                // "closed", "open", "unknown" (as the poller last verified it)
    QString controlMode;          // "auto", "force_on" (保电: kept on by management), "force_off"
    bool offline = false;         // the meter has meter_offline open (失联)
    friend bool operator==(const PointState &, const PointState &) = default;
};

// The tariff in force for the account today, enough to say it in plain words. Prices in 0.0001
// yuan per kWh (prepay::Price units).
struct TariffSummary
{
    QString name;                  // the tariff's display name
    QString kind;                  // "flat", "tou", "tiered", "tou_tiered"
    std::array<qint64, 4> prices{}; // by slot (sharp, peak, flat, valley); all equal unless TOU
    QList<qint64> tierUpperWh;     // tiered kinds: tier bounds (the last tier unbounded, not listed)
    QList<qint64> tierAdders;      // tiered kinds: adder per tier, same units as prices
    friend bool operator==(const TariffSummary &, const TariffSummary &) = default;
};

struct DirectoryRow
{
    qint64 accountId = 0;
    QString shopNo;
    QString displayName;
    AccountStatus status = AccountStatus::Normal;
    std::optional<qint64> balanceFen;
    std::optional<qint64> lastReadingMs;
    QList<DayUsage> daily;     // ascending days, at most kDailyDays
    QList<MonthUsage> monthly; // ascending months, at most kMonthlyMonths
    QList<PointState> points;  // current metering points by code (issue 8)
    std::optional<TariffSummary> tariff; // the account's tariff today, if assigned (issue 8)
    friend bool operator==(const DirectoryRow &, const DirectoryRow &) = default;
};

// The canonical payloads (compact JSON, UTF-8).
QByteArray encodeRow(const DirectoryRow &row);
QByteArray encodeRemoval(qint64 accountId);

// One change of the directory: the account's new row, or its removal (row unset).
struct DirectoryEvent
{
    qint64 seq = 0; // event_feed.seq: grows, shared with the feed's other topics (not contiguous)
    qint64 accountId = 0;
    std::optional<DirectoryRow> row;
    friend bool operator==(const DirectoryEvent &, const DirectoryEvent &) = default;
};

// Parses a payload (row or removal) into *out (seq untouched). Unknown keys are ignored (a newer
// server may add fields); a missing or mistyped known key is an error naming it.
bool decodePayload(const QJsonObject &payload, DirectoryEvent *out, QString *error);
bool decodePayload(const QByteArray &json, DirectoryEvent *out, QString *error);

// ---- The protocol ------------------------------------------------------------------------------
//
// sync.snapshot → DirectorySnapshot: every current row and the seq it is consistent with (read
// in one read transaction). events.subscribe(since_seq) and every server push → DirectoryBatch:
// the directory events with since_seq < seq ≤ to_seq, in seq order, COMPLETE for that range.
// Because seqs are shared with other topics, a client cannot see a gap in the seqs themselves;
// it sees it in the batch: from_seq names the cursor the batch continues. A client holding
// last_seq applies a batch only if from_seq ≤ last_seq < to_seq (events ≤ last_seq are
// duplicates and skipped), then holds to_seq; from_seq > last_seq means batches were lost —
// subscribe again with since_seq = last_seq; resync_needed (the server pruned events the client
// still needs, or the client is ahead of the server) or another feed_id (another database)
// means: take a new snapshot. `more`: the batch stopped at a limit; ask again from to_seq.
// Replica (replica.h) implements exactly this.

struct DirectorySnapshot
{
    QString feedId;
    qint64 seq = 0;           // the rows include every directory event with seq ≤ this
    QList<DirectoryRow> rows; // ascending account id
};

struct DirectoryBatch
{
    QString feedId;
    qint64 fromSeq = 0;           // the since_seq this batch continues from
    qint64 toSeq = 0;             // the cursor after it: every directory event ≤ toSeq is covered
    bool more = false;            // stopped at the limit: more events after toSeq
    bool resyncNeeded = false;    // since_seq cannot be continued: take a snapshot (no events)
    QList<DirectoryEvent> events; // ascending seq, each in (fromSeq, toSeq]
};

// Wire forms. {"feed_id","seq","rows":[row…]} and {"feed_id","from_seq","to_seq","more",
// "resync_needed","events":[{"seq":n,"payload":row-or-removal}…]}.
QJsonObject snapshotToJson(const DirectorySnapshot &snapshot);
std::optional<DirectorySnapshot> snapshotFromJson(const QJsonObject &json, QString *error);
QJsonObject batchToJson(const DirectoryBatch &batch);
std::optional<DirectoryBatch> batchFromJson(const QJsonObject &json, QString *error);

} // namespace prepay::sync
