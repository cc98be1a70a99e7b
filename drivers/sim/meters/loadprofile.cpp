#include "loadprofile.h"

#include "api/check.h"
#include "noise.h"

#include <algorithm>
#include <cmath>
#include <span>

namespace prepay::sim {

namespace {

constexpr qint64 kMsPerMinute = 60'000;
constexpr int kMinutesPerDay = 1440;
constexpr int kNoiseKnotMinutes = 15; // the slow noise changes its mind every quarter hour
constexpr double kJitter = 0.03;      // ± minute-to-minute flicker on top of the slow noise

// A point of a day's shape: at `minute` of local time the shop draws `level` × peak.
struct Knot
{
    int minute;
    double level;
};

constexpr int hm(int hours, int minutes)
{
    return hours * 60 + minutes;
}

// Weekday shapes. Levels are shares of the week's busiest hour; the weekend factor below
// lifts or lowers what is above the night base. Between knots the level is linear.
// Restaurant: fridges at night, prep from 9, a lunch and a dinner peak, closed after 23:30.
constexpr Knot kRestaurant[] = {{hm(0, 0), 0.10}, {hm(1, 0), 0.06}, {hm(7, 0), 0.06}, {hm(9, 0), 0.18},
    {hm(10, 30), 0.40}, {hm(11, 15), 0.80}, {hm(11, 45), 0.95}, {hm(12, 45), 0.95}, {hm(13, 45), 0.45},
    {hm(16, 0), 0.32}, {hm(17, 15), 0.70}, {hm(18, 0), 0.90}, {hm(19, 45), 0.90}, {hm(21, 0), 0.45}, {hm(22, 30), 0.18},
    {hm(23, 30), 0.10}, {hm(24, 0), 0.10}};
// Retail: open 10:00–22:00 (a small night base: fridges, security lights), busier towards evening.
constexpr Knot kRetail[] = {{hm(0, 0), 0.05}, {hm(9, 15), 0.05}, {hm(9, 45), 0.30}, {hm(10, 0), 0.62},
    {hm(12, 0), 0.68}, {hm(14, 0), 0.66}, {hm(17, 0), 0.74}, {hm(19, 30), 0.80}, {hm(21, 45), 0.76}, {hm(22, 0), 0.30},
    {hm(22, 30), 0.06}, {hm(24, 0), 0.05}};
// Office on a workday: 8:30–18:30 with a lunch dip; servers and standby at night.
constexpr Knot kOfficeWorkday[] = {{hm(0, 0), 0.08}, {hm(7, 30), 0.08}, {hm(8, 30), 0.70}, {hm(9, 30), 1.00},
    {hm(11, 45), 0.96}, {hm(12, 0), 0.72}, {hm(13, 30), 0.72}, {hm(13, 45), 0.98}, {hm(17, 30), 0.95},
    {hm(18, 30), 0.40}, {hm(20, 0), 0.15}, {hm(22, 0), 0.08}, {hm(24, 0), 0.08}};
// Office at the weekend: standby and the odd person coming in around midday.
constexpr Knot kOfficeWeekend[] = {
    {hm(0, 0), 0.07}, {hm(9, 30), 0.07}, {hm(11, 0), 0.13}, {hm(16, 0), 0.12}, {hm(17, 30), 0.07}, {hm(24, 0), 0.07}};
// Cold store: the compressor's duty cycle follows the day's heat and the loading hours.
constexpr Knot kColdStoreDuty[] = {{hm(0, 0), 0.55}, {hm(6, 0), 0.52}, {hm(8, 0), 0.68}, {hm(14, 0), 0.78},
    {hm(18, 0), 0.70}, {hm(21, 0), 0.58}, {hm(24, 0), 0.55}};

constexpr double kColdStoreBase = 0.30;       // fans, lights, controls
constexpr double kColdStoreCompressor = 0.68; // added while the compressor runs
constexpr int kColdStoreCycleMinutes = 30;

double interpolate(std::span<const Knot> knots, int minuteOfDay)
{
    for (std::size_t i = 1; i < knots.size(); ++i) {
        if (minuteOfDay < knots[i].minute) {
            const Knot &a = knots[i - 1];
            const Knot &b = knots[i];
            return a.level + (b.level - a.level) * double(minuteOfDay - a.minute) / double(b.minute - a.minute);
        }
    }
    return knots.back().level;
}

// What is above the night base scales at the weekend: shops busier, restaurants a little.
double weekendScaled(std::span<const Knot> knots, int minuteOfDay, double factor)
{
    const double base = knots.front().level;
    return base + (interpolate(knots, minuteOfDay) - base) * factor;
}

double noiseAmplitude(LoadProfileKind kind)
{
    switch (kind) {
    case LoadProfileKind::Restaurant: return 0.12;
    case LoadProfileKind::Retail: return 0.08;
    case LoadProfileKind::Office: return 0.08;
    case LoadProfileKind::ColdStore: return 0.04;
    case LoadProfileKind::Idle: return 0.20;
    }
    Q_UNREACHABLE();
}

} // namespace

LoadProfile::LoadProfile(LoadProfileKind kind, qint64 peakW, quint64 seed, int utcOffsetMinutes)
    : m_kind(kind)
    , m_peakW(peakW)
    , m_seed(seed)
    , m_utcOffsetMinutes(utcOffsetMinutes)
{
    PREPAY_CHECK(peakW >= 0);
}

qint64 LoadProfile::powerW(qint64 simMs) const
{
    // The draw is constant within each minute of simulated time: the meter integrates it
    // exactly, and a test can predict a meter's energy minute by minute.
    const qint64 minute = noise::floorDiv(simMs, kMsPerMinute);
    const qint64 localMinute = minute + m_utcOffsetMinutes;
    const qint64 day = noise::floorDiv(localMinute, kMinutesPerDay);
    const int minuteOfDay = int(localMinute - day * kMinutesPerDay);
    const int weekday = int(noise::floorMod(day + 3, 7)); // 1970-01-01 was a Thursday; 0 = Monday
    const bool weekend = weekday >= 5;

    double level = 0;
    switch (m_kind) {
    case LoadProfileKind::Restaurant: level = weekendScaled(kRestaurant, minuteOfDay, weekend ? 1.06 : 1.0); break;
    case LoadProfileKind::Retail: level = weekendScaled(kRetail, minuteOfDay, weekend ? 1.25 : 1.0); break;
    case LoadProfileKind::Office:
        level = weekend ? interpolate(kOfficeWeekend, minuteOfDay) : interpolate(kOfficeWorkday, minuteOfDay);
        break;
    case LoadProfileKind::ColdStore: {
        // The compressor runs for `duty` of every cycle; the cycle's phase drifts with the seed
        // so that two cold stores do not start together.
        const double duty = interpolate(kColdStoreDuty, minuteOfDay);
        const qint64 phase = qint64(noise::mix(m_seed ^ 0xC01D) % kColdStoreCycleMinutes);
        const qint64 inCycle = noise::floorMod(minute + phase, kColdStoreCycleMinutes);
        const bool running = double(inCycle) < duty * kColdStoreCycleMinutes;
        level = kColdStoreBase + (running ? kColdStoreCompressor : 0.0);
        break;
    }
    case LoadProfileKind::Idle: level = 1.0; break;
    }

    const double wobble = noiseAmplitude(m_kind) * noise::smooth(m_seed, 1, minute, kNoiseKnotMinutes)
        + kJitter * noise::unit(m_seed, 2, minute);
    return std::max<qint64>(0, std::llround(double(m_peakW) * level * (1.0 + wobble)));
}

qint64 LoadProfile::defaultPeakW(LoadProfileKind kind, meter::v1::DeviceType deviceType, qint64 maxCurrentMa)
{
    const qint64 phases = deviceType == meter::v1::DeviceType::ThreePhase ? 3 : 1;
    // What the meter carries at its maximum current on 220 V phases.
    const qint64 capacityW = 220 * maxCurrentMa * phases / 1000;
    switch (kind) {
    case LoadProfileKind::Restaurant: return capacityW * 35 / 100; // kitchens: the heaviest users
    case LoadProfileKind::Retail: return capacityW * 25 / 100;
    case LoadProfileKind::Office: return capacityW * 15 / 100;
    case LoadProfileKind::ColdStore: return capacityW * 40 / 100;
    case LoadProfileKind::Idle: return 12 * phases; // a standby supply and an exit sign
    }
    Q_UNREACHABLE();
}

} // namespace prepay::sim
