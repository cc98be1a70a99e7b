#include "pollplan.h"

#include "store/settings.h"
#include "store/sqlite.h"

#include <QtCore/QSet>

namespace prepay::poller {

qint64 ratedMaxPowerW(qint64 maxCurrentMa, bool threePhase)
{
    // The nominal voltage (GB/T 15284 meters on a 220/380 V supply): Imax × 220 V per phase.
    constexpr qint64 kNominalVoltageV = 220;
    return maxCurrentMa * kNominalVoltageV * (threePhase ? 3 : 1) / 1000;
}

namespace {

char parityLetter(const QString &parity)
{
    if (parity == u"none")
        return 'N';
    if (parity == u"odd")
        return 'O';
    return 'E'; // the schema allows none/even/odd only
}

QString busLabel(const BusPlan &bus)
{
    return QStringLiteral("bus %1 (id %2)").arg(bus.name).arg(bus.busId);
}

} // namespace

const MeterTarget *PollPlan::meter(qint64 meterId) const
{
    for (const BusPlan &bus : buses) {
        for (const MeterTarget &m : bus.meters) {
            if (m.meterId == meterId)
                return &m;
        }
    }
    return nullptr;
}

const BusPlan *PollPlan::busOfMeter(qint64 meterId) const
{
    for (const BusPlan &bus : buses) {
        for (const MeterTarget &m : bus.meters) {
            if (m.meterId == meterId)
                return &bus;
        }
    }
    return nullptr;
}

int PollPlan::meterCount() const
{
    qsizetype n = 0;
    for (const BusPlan &bus : buses)
        n += bus.meters.size();
    return int(n);
}

bool loadPollPlan(store::Connection &db, PollPlan *plan, QString *error)
{
    QString ignored;
    if (!error)
        error = &ignored;
    PollPlan p;

    // Site-wide settings first: a building without its own interval uses poll.interval_ms.
    qint64 defaultIntervalMs = 1'800'000;
    qint64 offlineAfterFailures = p.offlineAfterFailures;
    if (!store::readIntSetting(db, QStringLiteral("poll.interval_ms"), 60'000, 86'400'000, &defaultIntervalMs, error)
        || !store::readIntSetting(db, QStringLiteral("poll.fresh_max_age_ms"), 0, 86'400'000, &p.freshMaxAgeMs, error)
        || !store::readIntSetting(db, QStringLiteral("poll.offline_after_failures"), 1, 100, &offlineAfterFailures, error)
        || !store::readIntSetting(
            db, QStringLiteral("poll.offline_probe_interval_ms"), 1'000, 86'400'000, &p.offlineProbeIntervalMs, error))
        return false;
    p.offlineAfterFailures = int(offlineAfterFailures);

    {
        store::Statement s = db.prepare(QStringLiteral("SELECT id, poll_interval_ms FROM buildings ORDER BY id"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row)
            p.cycleIntervalMsByBuilding.insert(s.int64(0), s.isNull(1) ? defaultIntervalMs : s.int64(1));
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the buildings: %1").arg(s.error().toString());
            return false;
        }
    }

    // Enabled buses whose gateway (if any) is enabled too: a disabled gateway takes its ports
    // out of polling without editing each bus.
    QHash<qint64, int> busIndex;
    {
        store::Statement s = db.prepare(
            QStringLiteral("SELECT b.id, b.name, b.kind, b.tcp_port, b.device_path, b.baud, b.parity, b.stop_bits, "
                           "       b.response_timeout_ms, g.host, g.port, g.building_id "
                           "  FROM buses b LEFT JOIN gateways g ON g.id = b.gateway_id "
                           " WHERE b.enabled = 1 AND (b.gateway_id IS NULL OR g.enabled = 1) "
                           " ORDER BY b.id"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            BusPlan bus;
            bus.busId = s.int64(0);
            bus.name = s.text(1);
            modbus::Endpoint &e = bus.endpoint;
            e.baud = int(s.int64(5));
            e.parity = parityLetter(s.text(6));
            e.stopBits = int(s.int64(7));
            e.dataBits = 8;
            if (s.text(2) == u"gateway_port") {
                e.kind = modbus::Endpoint::Kind::Tcp;
                e.host = s.text(9);
                e.port = quint16(s.isNull(3) ? s.int64(10) : s.int64(3));
                bus.buildingId = s.int64(11);
            } else {
                e.kind = modbus::Endpoint::Kind::Rtu;
                e.device = s.text(4);
                // buildingId comes from the line's meters below.
            }
            bus.timing = modbus::BusTiming::forEndpoint(e);
            bus.timing.responseTimeoutMs = int(s.int64(8));
            busIndex.insert(bus.busId, int(p.buses.size()));
            p.buses.append(std::move(bus));
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the buses: %1").arg(s.error().toString());
            return false;
        }
    }
    if (p.buses.size() > PollLimits::busesMax) {
        *error = QStringLiteral("%1 buses are enabled; one prepayd polls at most %2")
                     .arg(p.buses.size())
                     .arg(PollLimits::busesMax);
        return false;
    }

    // Installed meters with their current installation (LEFT JOIN: a meter without one is an
    // error to report, not a row to drop silently).
    const modbus::MeterProfile *prepaid = modbus::profileNamed(u"prepay-v1");
    const modbus::MeterProfile *remoteOnly = modbus::profileNamed(u"acrel-remote");
    Q_ASSERT(prepaid && remoteOnly);
    QList<QHash<int, qint64>> unitsOfBus(p.buses.size()); // unit id → meter id
    int meters = 0;
    {
        store::Statement s = db.prepare(QStringLiteral(
            "SELECT m.id, m.bus_id, m.unit_id, m.serial_number, m.capability, m.has_tou_registers, m.device_type, "
            "       m.max_current_ma, mi.id, mi.metering_point_id, mp.building_id, mp.floor "
            "  FROM meters m "
            "  LEFT JOIN meter_installations mi ON mi.meter_id = m.id AND mi.removed_at_ms IS NULL "
            "  LEFT JOIN metering_points mp ON mp.id = mi.metering_point_id "
            " WHERE m.state = 'installed' "
            " ORDER BY m.bus_id, m.unit_id, m.id"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            const auto bi = busIndex.constFind(s.int64(1));
            if (bi == busIndex.cend())
                continue; // on a disabled bus
            BusPlan &bus = p.buses[*bi];
            MeterTarget m;
            m.meterId = s.int64(0);
            m.unitId = quint8(s.int64(2));
            m.serial = quint32(s.int64(3));
            m.prepaid = s.text(4) == u"prepaid";
            m.hasTouRegisters = s.int64(5) != 0;
            m.maxPowerW = ratedMaxPowerW(s.int64(7), s.text(6) == u"three_phase");
            m.profile = m.prepaid ? prepaid : remoteOnly;
            if (s.isNull(8)) {
                *error = QStringLiteral("meter %1 (serial %2) is installed on %3 but has no current installation")
                             .arg(m.meterId)
                             .arg(m.serial)
                             .arg(busLabel(bus));
                return false;
            }
            m.installationId = s.int64(8);
            m.meteringPointId = s.int64(9);
            m.buildingId = s.int64(10);
            m.floor = int(s.int64(11));

            QHash<int, qint64> &units = unitsOfBus[*bi];
            if (const auto other = units.constFind(m.unitId); other != units.cend()) {
                *error = QStringLiteral("%1: unit id %2 is used by meters %3 and %4")
                             .arg(busLabel(bus))
                             .arg(m.unitId)
                             .arg(*other)
                             .arg(m.meterId);
                return false;
            }
            units.insert(m.unitId, m.meterId);
            if (bus.meters.size() >= PollLimits::metersPerBusMax) {
                *error
                    = QStringLiteral("%1 has more than %2 meters").arg(busLabel(bus)).arg(PollLimits::metersPerBusMax);
                return false;
            }
            if (++meters > PollLimits::metersMax) {
                *error = QStringLiteral("more than %1 meters are installed on enabled buses (at %2, meter %3)")
                             .arg(PollLimits::metersMax)
                             .arg(busLabel(bus))
                             .arg(m.meterId);
                return false;
            }
            if (bus.endpoint.kind == modbus::Endpoint::Kind::Rtu && bus.buildingId == 0)
                bus.buildingId = m.buildingId;
            bus.meters.append(m);
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the meters: %1").arg(s.error().toString());
            return false;
        }
    }

    *plan = std::move(p);
    return true;
}

} // namespace prepay::poller
