// The tariff model of billing (DESIGN.md §3, FEATURE-LANDSCAPE.md §4.5): versioned price plans
// — flat, time-of-use (尖峰平谷 slots by day schedule and day type), tiered (阶梯, by energy
// accumulated over the month or year) and both combined — the holiday calendar that decides a
// date's day type, and the TariffBook that answers "which version prices this metering point on
// this local day" (一表一价: a point's own assignment wins over its account's).
//
// What it owns: plain values, loaded once from the tariff tables and immutable afterwards
// (history must stay recomputable, so a version in force is never edited; a changed tariff is a
// new version, and a new book is loaded). What it does not do: price anything (rating.h), write
// anything, push tariffs to meters, or keep the per-point tier accumulators (billing_state).
//
// Local time: every date and minute of day here is in the site's time zone (the setting
// 'site.time_zone'); instants are UTC milliseconds.
#pragma once

#include "api/money.h"

#include <QtCore/QDate>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringView>
#include <QtCore/QTimeZone>
#include <QtCore/QtGlobal>

#include <array>
#include <map>
#include <optional>

namespace prepay::store {
class Connection;
}

namespace prepay::billing {

// Limits of a tariff version, as the schema and the meter allow them.
struct TariffLimits
{
    static constexpr int slotCount = 4;
    static constexpr int dayTypeCount = 3;
    static constexpr int segmentsPerDayMax = 8; // what one meter's tariff block holds
    static constexpr int tiersMax = 9;          // tariff_tiers.tier_no 1..9
    static constexpr int minutesPerDay = 1440;
};

// The energy slots in the order of meter::v1::TariffSlot and the meter's slot registers, so an
// index is the same everywhere (arrays "by Slot" are indexed by int(slot)).
enum class Slot {
    Sharp = 0,  // 尖
    Peak = 1,   // 峰
    Flat = 2,   // 平
    Valley = 3, // 谷
};
QString slotCode(Slot slot); // "sharp", "peak", "flat", "valley" (as stored)
std::optional<Slot> slotFromCode(QStringView code);

enum class DayType {
    Workday = 0,
    Weekend = 1,
    Holiday = 2,
};
QString dayTypeCode(DayType type); // "workday", "weekend", "holiday"
std::optional<DayType> dayTypeFromCode(QStringView code);

enum class TariffKind {
    Flat,
    Tou,
    Tiered,
    TouTiered,
};
QString tariffKindCode(TariffKind kind); // "flat", "tou", "tiered", "tou_tiered"
std::optional<TariffKind> tariffKindFromCode(QStringView code);

enum class TierPeriod {
    Month,
    Year,
};
QString tierPeriodCode(TierPeriod period); // "month", "year"
std::optional<TierPeriod> tierPeriodFromCode(QStringView code);
// The accumulator key of the period holding local date `day`: "2026-01" (month) or "2026" (year),
// the forms of billing_state.tier_month and tier_year.
QString tierPeriodKey(TierPeriod period, QDate day);

enum class StandingPeriod {
    Day,
    Month,
};
QString standingPeriodCode(StandingPeriod period); // "day", "month"
std::optional<StandingPeriod> standingPeriodFromCode(QStringView code);

// One tier: applies while the energy accumulated in the tier period is below upperBoundWh
// (nullopt: the last tier, unbounded). The adder is added to the slot price.
struct Tier
{
    std::optional<qint64> upperBoundWh;
    Price adder;
};

// A TOU segment: from startMinute (local minute of the day) until the next segment's start, or
// until midnight for the last one.
struct DaySegment
{
    int startMinute = 0;
    Slot slot = Slot::Flat;
};

// One version of a tariff, in force from effectiveDate (local 00:00) until the tariff's next
// version.
struct TariffVersion
{
    qint64 id = 0; // tariff_versions.id
    qint64 tariffId = 0;
    QString tariffCode; // 'TOU-COM', for messages
    int version = 0;
    QDate effectiveDate;
    TariffKind kind = TariffKind::Flat;
    std::array<Price, 4> prices{};                // by Slot; all equal for flat and tiered kinds
    std::optional<TierPeriod> tierPeriod;         // tiered kinds only
    QList<Tier> tiers;                            // tiered kinds: ascending by tier_no, last unbounded
    std::array<QList<DaySegment>, 3> schedule;    // by DayType (TOU kinds): ascending, first at minute 0
    std::optional<Money> standingCharge;          // charged per standingPeriod, not by rating
    std::optional<StandingPeriod> standingPeriod; // set exactly when standingCharge is

    bool isTou() const { return kind == TariffKind::Tou || kind == TariffKind::TouTiered; }
    bool isTiered() const { return kind == TariffKind::Tiered || kind == TariffKind::TouTiered; }
    Price price(Slot slot) const { return prices[size_t(slot)]; }

    // The slot of a local minute (0..1439) on a day of type `day`: the last segment starting at
    // or before it. Flat for non-TOU kinds (their prices are all equal anyway).
    Slot slotAt(DayType day, int minuteOfDay) const;
    // "TOU-COM v2 (version id 7)": how messages name a version.
    QString label() const;
};

// What makes a version unusable for billing, in one sentence; empty when it is usable.
//  - prices: all > 0; flat and tiered kinds have four equal prices;
//  - TOU kinds: each of the three day types has 1..8 segments, strictly ascending from minute 0,
//    below 1440; non-TOU kinds have no segments;
//  - tiered kinds: a tier period and 1..9 tiers whose bounds strictly ascend, every tier bounded
//    but the last, the last unbounded; non-tiered kinds have neither;
//  - a standing charge > 0 comes with its period and vice versa.
QString versionProblem(const TariffVersion &v);

// The day type of every local date: Saturday and Sunday are weekend days, other days workdays,
// unless calendar_days says otherwise (a public holiday, or a weekend day worked instead: 调休).
class Calendar
{
public:
    // Overrides the weekday rule for one date (calendar_days: holiday or workday).
    void set(QDate day, DayType type);
    DayType dayType(QDate day) const;

private:
    QHash<QDate, DayType> m_overrides;
};

// The local date and minute of day (0..1439) of a UTC instant in `tz`.
QDate localDateAt(const QTimeZone &tz, qint64 ms);
int localMinuteAt(const QTimeZone &tz, qint64 ms);

// Everything needed to price any metering point at any instant: every tariff version, the
// assignments of tariffs to accounts and points, the calendar and the site's time zone. Loaded
// once (load()) and then only read: safe to share between threads that only read it.
class TariffBook
{
public:
    TariffBook();

    // Reads tariffs, tariff_versions, tariff_day_segments, tariff_tiers, calendar_days,
    // tariff_assignments and the setting 'site.time_zone' (default "Asia/Shanghai" when the row
    // is missing). Every version must be usable (versionProblem()); otherwise, or on an SQL
    // error or an unknown time zone, returns false, leaves *book untouched and says what is
    // wrong in *error, naming the tariff code and version.
    static bool load(store::Connection &db, TariffBook *book, QString *error);

    // Building by hand (tests; load() uses them too). A version id or a (tariff, effective
    // date) given twice is a programmer error. Versions are not checked here: call
    // versionProblem() first where that matters.
    void addVersion(TariffVersion v);
    void assignToAccount(qint64 accountId, qint64 tariffId, QDate from);
    void assignToPoint(qint64 pointId, qint64 tariffId, QDate from);

    Calendar &calendar() { return m_calendar; }
    const Calendar &calendar() const { return m_calendar; }
    void setTimeZone(const QTimeZone &tz);
    const QTimeZone &timeZone() const { return m_timeZone; }

    // The version in force for a metering point on a local day. The tariff is the one of the
    // point's own assignment with the latest effective date <= day (一表一价); when the point
    // has none in force, the account's (accountId 0 = no account). Then that tariff's version
    // with the latest effective date <= day. nullptr when no assignment or no version applies
    // (a point assignment whose tariff has no version yet does not fall back to the account).
    const TariffVersion *versionFor(qint64 pointId, qint64 accountId, QDate day) const;
    // By tariff_versions.id; nullptr when unknown.
    const TariffVersion *version(qint64 versionId) const;
    int versionCount() const { return int(m_versions.size()); }

    QDate localDate(qint64 ms) const { return localDateAt(m_timeZone, ms); }
    int localMinute(qint64 ms) const { return localMinuteAt(m_timeZone, ms); }

private:
    // std::map keeps element addresses stable, so the pointers handed out stay valid.
    std::map<qint64, TariffVersion> m_versions;                     // by version id
    std::map<qint64, std::map<QDate, qint64>> m_versionsByTariff;   // tariff → date → version id
    std::map<qint64, std::map<QDate, qint64>> m_accountAssignments; // account → date → tariff
    std::map<qint64, std::map<QDate, qint64>> m_pointAssignments;   // point → date → tariff
    Calendar m_calendar;
    QTimeZone m_timeZone;
};

} // namespace prepay::billing
