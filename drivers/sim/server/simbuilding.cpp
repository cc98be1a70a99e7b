#include "simbuilding.h"

#include "api/check.h"
#include "serverlog.h"
#include "simclock.h"

namespace prepay::sim {

namespace {

// splitmix64: spreads the building seed and a serial into an independent per-meter seed.
quint64 mixSeed(quint64 seed, quint32 serial)
{
    quint64 z = seed + 0x9E3779B97F4A7C15ULL * (quint64(serial) + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

} // namespace

SimBuilding::SimBuilding(const BuildingSpec &spec, SimClock &clock, QObject *parent)
    : QObject(parent)
    , m_spec(spec)
    , m_clock(clock)
{
    connect(&m_tick, &QTimer::timeout, this, &SimBuilding::advanceAll);
}

std::unique_ptr<SimBuilding> SimBuilding::create(
    const BuildingSpec &spec, SimClock &clock, quint64 seed, QString *error, QObject *parent)
{
    std::unique_ptr<SimBuilding> building(new SimBuilding(spec, clock, parent));
    const qint64 startMs = clock.nowMs();
    building->m_meters.reserve(std::size_t(spec.meterCount()));
    for (int g = 0; g < spec.gateways.size(); ++g) {
        const GatewaySpec &gateway = spec.gateways.at(g);
        building->m_busMeters.append(QList<QList<int>>());
        building->m_byUnit.append(QHash<quint8, int>());
        QHash<quint8, QString> busOfUnit;
        for (int b = 0; b < gateway.buses.size(); ++b) {
            const BusSpec &bus = gateway.buses.at(b);
            QList<int> indexes;
            for (const MeterSpec &m : bus.meters) {
                if (busOfUnit.contains(m.unitId)) {
                    *error
                        = QStringLiteral("gateway %1 (%2): unit id %3 is on bus %4 and on bus %5; the gateway routes "
                                         "by unit id, so unit ids must be unique per gateway")
                              .arg(g)
                              .arg(gateway.name)
                              .arg(m.unitId)
                              .arg(busOfUnit.value(m.unitId), bus.name);
                    return nullptr;
                }
                busOfUnit.insert(m.unitId, bus.name);
                const int index = int(building->m_meters.size());
                building->m_meters.emplace_back(m, spec.utcOffsetMinutes, mixSeed(seed, m.serial), startMs);
                building->m_locations.push_back({g, b});
                building->m_loadOverrides.emplace_back();
                building->m_byUnit.last().insert(m.unitId, index);
                indexes.append(index);
            }
            building->m_busMeters.last().append(indexes);
        }
    }
    building->reindexSerials();
    return building;
}

SimMeter &SimBuilding::meter(int index)
{
    PREPAY_CHECK(index >= 0 && index < meterCount());
    return m_meters[std::size_t(index)];
}

SimBuilding::Location SimBuilding::location(int index) const
{
    PREPAY_CHECK(index >= 0 && index < meterCount());
    return m_locations[std::size_t(index)];
}

const MeterSpec &SimBuilding::meterSpec(int index) const
{
    PREPAY_CHECK(index >= 0 && index < meterCount());
    return m_meters[std::size_t(index)].spec();
}

int SimBuilding::meterIndex(int gateway, quint8 unitId) const
{
    if (gateway < 0 || gateway >= m_byUnit.size())
        return -1;
    return m_byUnit.at(gateway).value(unitId, -1);
}

int SimBuilding::meterIndexOnBus(int gateway, int bus, quint8 unitId) const
{
    const int index = meterIndex(gateway, unitId);
    if (index < 0 || m_locations[std::size_t(index)].bus != bus)
        return -1;
    return index;
}

int SimBuilding::meterIndexBySerial(quint32 serial) const
{
    return m_bySerial.value(serial, -1);
}

const QList<int> &SimBuilding::busMeters(int gateway, int bus) const
{
    PREPAY_CHECK(gateway >= 0 && gateway < m_busMeters.size());
    PREPAY_CHECK(bus >= 0 && bus < m_busMeters.at(gateway).size());
    return m_busMeters.at(gateway).at(bus);
}

int SimBuilding::gatewayMeterCount(int gateway) const
{
    PREPAY_CHECK(gateway >= 0 && gateway < m_byUnit.size());
    return int(m_byUnit.at(gateway).size());
}

int SimBuilding::busIndex(int gateway, QStringView name) const
{
    if (gateway < 0 || gateway >= m_spec.gateways.size())
        return -1;
    const QList<BusSpec> &buses = m_spec.gateways.at(gateway).buses;
    for (int b = 0; b < buses.size(); ++b) {
        if (buses.at(b).name == name)
            return b;
    }
    return -1;
}

void SimBuilding::reindexSerials()
{
    m_bySerial.clear();
    for (int i = 0; i < meterCount(); ++i) {
        const quint32 serial = m_meters[std::size_t(i)].serial();
        if (m_bySerial.contains(serial))
            qCWarning(lcSimServer, "serial %u is used by two meters; lookups by serial find the first", serial);
        else
            m_bySerial.insert(serial, i);
    }
}

void SimBuilding::setLoadOverride(int index, std::optional<qint64> watts)
{
    // The energy so far was drawn at the old load: bring the meter to now before changing it.
    meter(index).advanceTo(m_clock.nowMs());
    meter(index).setLoadOverride(watts);
    m_loadOverrides[std::size_t(index)] = watts;
}

std::optional<qint64> SimBuilding::loadOverride(int index) const
{
    PREPAY_CHECK(index >= 0 && index < meterCount());
    return m_loadOverrides[std::size_t(index)];
}

void SimBuilding::advanceAll()
{
    const qint64 nowMs = m_clock.nowMs();
    for (SimMeter &m : m_meters)
        m.advanceTo(nowMs);
}

void SimBuilding::startTicking(int intervalMs)
{
    m_tick.start(intervalMs);
}

} // namespace prepay::sim
