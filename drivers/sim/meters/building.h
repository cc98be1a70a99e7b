// The simulated building: gateways → buses → meters, read from a building file (JSON) or the
// built-in reference building "demo" (DESIGN.md §7, the same layout as sql/seed/demo.sql).
// Plain data; the running simulation is SimBuilding (simbuilding.h) and SimMeter (simmeter.h).
//
// Building file format (all keys lower_snake_case; units in the key names):
// {
//   "name": "三明商会大厦",
//   "utc_offset_minutes": 480,          // meters keep local time for their TOU schedule
//   "seed": 1,                          // noise of the load profiles; same seed, same building
//   "gateways": [ {
//     "name": "A座通讯管理机",
//     "buses": [ {
//       "name": "A-COM1", "baud": 9600, "bits_per_char": 11,
//       "turnaround_min_ms": 10, "turnaround_max_ms": 30,
//       "meters": [ {
//         "unit_id": 1, "serial": 24050017, "model": "DTSY1352-NK",
//         "device_type": "three_phase" | "single_phase",
//         "capability": "prepaid" | "remote_only",
//         "has_tou_registers": true,
//         "rated_current_ma": 10000, "max_current_ma": 80000,
//         "profile": "restaurant" | "retail" | "office" | "cold_store" | "idle",
//         "metering_point": "A-1F-101",
//         "balance_fen": 20000, "purchase_count": 1, "total_purchased_fen": 20000,
//         "energy_wh": 1234560,
//         "relay_mode": "auto" | "force_on" | "force_off"
//       } ]
//     } ]
//   } ],
//   "tariff": { "version": 1, "prices": { "sharp": 12100, "peak": 9800, "flat": 6500,
//               "valley": 3100 },                     // 0.0001 yuan/kWh
//               "tou": [ [0, "valley"], [480, "flat"], … ] },   // minute of day, slot
//   "thresholds": { "alarm1_fen": 5000, "alarm2_fen": 2000, "overdraft_limit_fen": 0,
//                   "overload_limit_w": 0, "overload_delay_s": 10,
//                   "overload_recover_delay_s": 60, "overload_max_trips": 3,
//                   "close_policy": "auto_close" | "wait_for_permit" }
// }
// Per-meter keys other than unit_id and serial have defaults; "tariff" and "thresholds" are
// what every meter starts with (a meter may carry its own under the same keys: they are
// merged key by key onto the building's, so {"overdraft_limit_fen": 20000} changes only that).
// A meter may also say "clock_set": false (its clock starts unset, status bit 9). A tariff
// "version" of 0 means "not configured" (no prices, no schedule); any other version needs all
// four prices (> 0) and a "tou" of 1..8 segments, the first at minute 0, starts ascending.
// remote_only meters take no balance, purchase or threshold keys. Parsing is strict: an
// unknown key, a wrong type, a value out of range, a unit id used twice on one gateway (it
// routes by unit id across its buses) or a serial used twice in the building is an error.
#pragma once

#include "modbus/mapv1.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>

#include <array>
#include <optional>

namespace prepay::sim {

enum class LoadProfileKind {
    Restaurant,
    Retail,
    Office,
    ColdStore,
    Idle
};

// A meter's tariff and thresholds are the map's own blocks (drivers/modbus/mapv1.h): one
// definition and one validation for the driver that pushes them and the meter that takes them.
// A tariff version of 0 means "not configured" (status bit 10).
using TariffSpec = meter::v1::TariffBlock;
using ThresholdSpec = meter::v1::ThresholdBlock;

struct MeterSpec
{
    quint8 unitId = 1;
    quint32 serial = 0;
    QString model;
    meter::v1::DeviceType deviceType = meter::v1::DeviceType::SinglePhase;
    bool prepaid = true; // false: Acrel remote-only (Block A + force relay only)
    bool hasTouRegisters = true;
    qint64 ratedCurrentMa = 10000;
    qint64 maxCurrentMa = 60000;
    LoadProfileKind profile = LoadProfileKind::Retail;
    QString meteringPoint; // for people: "A-1F-101"
    qint64 balanceFen = 0;
    quint16 purchaseCount = 0;
    qint64 totalPurchasedFen = 0;
    qint64 energyWh = 0;
    meter::v1::RelayMode relayMode = meter::v1::RelayMode::Auto;
    TariffSpec tariff;
    ThresholdSpec thresholds;
    bool clockSet = true;
};

struct BusSpec
{
    QString name;
    int baud = 9600; // 0 = no wire-time emulation
    int bitsPerChar = 11;
    int turnaroundMinMs = 10;
    int turnaroundMaxMs = 30;
    QList<MeterSpec> meters;
};

struct GatewaySpec
{
    QString name;
    QList<BusSpec> buses;
};

struct BuildingSpec
{
    QString name;
    int utcOffsetMinutes = 480;
    quint64 seed = 1;
    QList<GatewaySpec> gateways;

    int meterCount() const;

    // Parses a building file. On error returns nullopt and sets *error to a message that names
    // the place ("gateways[1].buses[0].meters[7].unit_id: 248 is not in 1..247").
    static std::optional<BuildingSpec> parse(const QByteArray &json, QString *error);
    // The built-in reference building (drivers/sim/buildings/demo.json, compiled in).
    static BuildingSpec demo();
};

QString loadProfileName(LoadProfileKind kind);

} // namespace prepay::sim
