// The running building: every SimMeter of a BuildingSpec, where each one hangs (gateway, bus),
// and a periodic tick that advances all of them to the simulated now, so relays trip and
// balances run down also on meters nobody polls. This is the one owner of the meters; the
// buses, gateways and the control interface reach them through it by index.
//
// Meters live in a std::vector (SimMeter is move-only); an index is stable for the life of the
// building. A gateway routes by unit id across all its buses (FIELD-PROTOCOLS.md §4.4), so unit
// ids must be unique within a gateway; create() refuses a building where they are not.
#pragma once

#include "sim/meters/building.h"
#include "sim/meters/simmeter.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <memory>
#include <optional>
#include <vector>

namespace prepay::sim {

class SimClock;

class SimBuilding : public QObject
{
    Q_OBJECT

public:
    static constexpr int kTickIntervalMs = 1000; // real time between two "advance everyone"

    struct Location
    {
        int gateway = 0;
        int bus = 0; // index within the gateway
    };

    // Builds every meter of `spec`, starting at the clock's current time; `seed` makes the load
    // noise reproducible (each meter mixes in its serial). Returns nullptr and sets *error
    // when the building cannot be simulated (unit ids repeated within a gateway).
    static std::unique_ptr<SimBuilding> create(
        const BuildingSpec &spec, SimClock &clock, quint64 seed, QString *error, QObject *parent = nullptr);

    const BuildingSpec &spec() const { return m_spec; }
    SimClock &clock() { return m_clock; }
    const SimClock &clock() const { return m_clock; }

    int meterCount() const { return int(m_meters.size()); }
    SimMeter &meter(int index);
    Location location(int index) const;
    const MeterSpec &meterSpec(int index) const;

    // −1 when the gateway has no such unit id.
    int meterIndex(int gateway, quint8 unitId) const;
    // −1 when the bus has no such unit id.
    int meterIndexOnBus(int gateway, int bus, quint8 unitId) const;
    // By the meter's current serial (a swapped meter answers to its new one); −1 if none.
    int meterIndexBySerial(quint32 serial) const;
    const QList<int> &busMeters(int gateway, int bus) const;
    int gatewayMeterCount(int gateway) const;
    // −1 when the gateway has no bus of that name.
    int busIndex(int gateway, QStringView name) const;

    // After a swap fault: the meter now answers to another serial.
    void reindexSerials();

    // Fixed load instead of the profile (nullopt: back to the profile); remembered for truth.
    void setLoadOverride(int index, std::optional<qint64> watts);
    std::optional<qint64> loadOverride(int index) const;

    // Advances every meter to the simulated now.
    void advanceAll();
    // Calls advanceAll() every `intervalMs` of real time from now on.
    void startTicking(int intervalMs = kTickIntervalMs);

private:
    SimBuilding(const BuildingSpec &spec, SimClock &clock, QObject *parent);

    BuildingSpec m_spec;
    SimClock &m_clock;
    std::vector<SimMeter> m_meters;
    std::vector<Location> m_locations;
    std::vector<std::optional<qint64>> m_loadOverrides;
    QList<QList<QList<int>>> m_busMeters; // [gateway][bus] → meter indexes, file order
    QList<QHash<quint8, int>> m_byUnit;   // [gateway] unit id → meter index
    QHash<quint32, int> m_bySerial;
    QTimer m_tick;
};

} // namespace prepay::sim
