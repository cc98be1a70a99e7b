// What the poller polls: every installed meter of the building grouped by bus, with what a bus
// worker, the reading validation and the recorder need to know about it — loaded once from
// the database at start (and again when staff change the building). Plain data.
#pragma once

#include "modbus/client.h"
#include "modbus/profile.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::store {
class Connection;
}

namespace prepay::poller {

// Limits of one prepayd (DESIGN.md §6), in one place.
struct PollLimits
{
    static constexpr int busesMax = 64;
    static constexpr int metersMax = 10'000;
    static constexpr int metersPerBusMax = 247;
};

struct MeterTarget
{
    qint64 meterId = 0;
    quint8 unitId = 0;
    quint32 serial = 0;
    bool prepaid = true; // capability 'prepaid' (else remote_only)
    bool hasTouRegisters = true;
    qint64 maxPowerW = 0;      // Imax × 220 V (× 3 for three-phase): validation's "rated maximum"
    qint64 installationId = 0; // the current meter_installations row
    qint64 meteringPointId = 0;
    qint64 buildingId = 0;
    int floor = 0;
    const modbus::MeterProfile *profile = nullptr; // prepay-v1 or acrel-remote
};

// Validation's "rated maximum" of a meter: Imax × 220 V, × 3 for a three-phase meter.
qint64 ratedMaxPowerW(qint64 maxCurrentMa, bool threePhase);

struct BusPlan
{
    qint64 busId = 0;
    QString name;          // 'A-COM1'
    qint64 buildingId = 0; // of the gateway, or of the bus's meters for a local line
    modbus::Endpoint endpoint;
    modbus::BusTiming timing;
    QList<MeterTarget> meters;
};

struct PollPlan
{
    QList<BusPlan> buses;
    QHash<qint64, qint64> cycleIntervalMsByBuilding; // buildings.poll_interval_ms or the setting
    qint64 freshMaxAgeMs = 180'000;                  // 'poll.fresh_max_age_ms'
    int offlineAfterFailures = 3;                    // 'poll.offline_after_failures'
    qint64 offlineProbeIntervalMs = 600'000;         // 'poll.offline_probe_interval_ms': the back-off cap

    // nullptr when the meter is not in the plan. Linear searches (≤ 10,000 meters): callers on a
    // hot path keep their own index.
    const MeterTarget *meter(qint64 meterId) const;
    const BusPlan *busOfMeter(qint64 meterId) const;
    int meterCount() const;
};

// Reads the plan from the database (enabled buses, installed meters, current installations,
// settings). On error — a building beyond the limits, a unit id twice on a bus, a meter without
// a current installation, an unreadable setting — returns false and says what and where in
// *error (a missing settings row keeps the default above).
// Buses of a disabled gateway are left out like disabled buses. A gateway port's endpoint is
// the gateway's host with the bus's tcp_port (else the gateway's port); a local line is RTU
// (parity none/even/odd → N/E/O). Timing is BusTiming::forEndpoint() with the bus's
// response_timeout_ms; a local line's buildingId is that of its first meter.
bool loadPollPlan(store::Connection &db, PollPlan *plan, QString *error);

} // namespace prepay::poller
