#include "simulation.h"

#include "busline.h"
#include "controlserver.h"
#include "gatewayserver.h"
#include "rtuport.h"
#include "serverlog.h"
#include "simbuilding.h"
#include "simclock.h"

#include "api/check.h"
#include "api/clock.h"

#include <QtCore/QDir>
#include <QtCore/QSet>

namespace prepay::sim {

quint16 SimulationConfig::effectiveControlPort() const
{
    return controlPort != 0 ? controlPort : quint16(portBase + kControlPortOffset);
}

int MeterSimulation::StartResult::exitCode() const
{
    switch (outcome) {
    case StartOutcome::Started: return 0;
    case StartOutcome::BadConfig: return 65;
    case StartOutcome::CannotListen: return 69;
    case StartOutcome::CannotOpenPty: return 71;
    }
    return 70;
}

MeterSimulation::MeterSimulation(const Clock &clock, const SimulationConfig &config, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_config(config)
{ }

MeterSimulation::~MeterSimulation()
{
    delete m_control;
    for (const QList<RtuPort *> &ports : std::as_const(m_rtuPorts))
        qDeleteAll(ports);
    qDeleteAll(m_gateways);
    for (const QList<BusLine *> &buses : std::as_const(m_buses))
        qDeleteAll(buses);
    m_building.reset();
}

WireTiming MeterSimulation::wireTiming(int gateway, int bus) const
{
    const BusSpec &spec = m_config.building.gateways.at(gateway).buses.at(bus);
    WireTiming wire{spec.baud, spec.bitsPerChar, spec.turnaroundMinMs, spec.turnaroundMaxMs};
    if (m_config.baud)
        wire.baud = *m_config.baud;
    if (m_config.bitsPerChar)
        wire.bitsPerChar = *m_config.bitsPerChar;
    if (m_config.turnaroundMs) {
        wire.turnaroundMinMs = m_config.turnaroundMs->first;
        wire.turnaroundMaxMs = m_config.turnaroundMs->second;
    }
    return wire;
}

MeterSimulation::StartResult MeterSimulation::start()
{
    PREPAY_CHECK(!m_building); // once
    const BuildingSpec &spec = m_config.building;
    if (!SimClock::validTimeFactor(m_config.timeFactor))
        return {StartOutcome::BadConfig,
            QStringLiteral("time factor %1 is not within %2..%3")
                .arg(m_config.timeFactor)
                .arg(SimClock::kTimeFactorMin)
                .arg(SimClock::kTimeFactorMax)};
    if (m_config.gatewayTimeoutMs < 0 || m_config.gatewayTimeoutMs > BusLine::kGatewayTimeoutMaxMs)
        return {StartOutcome::BadConfig,
            QStringLiteral("gateway timeout %1 ms is not within 0..%2 ms")
                .arg(m_config.gatewayTimeoutMs)
                .arg(BusLine::kGatewayTimeoutMaxMs)};
    if (spec.gateways.isEmpty())
        return {StartOutcome::BadConfig, QStringLiteral("the building has no gateways")};
    if (int(m_config.portBase) + spec.gateways.size() - 1 > 65535)
        return {StartOutcome::BadConfig,
            QStringLiteral("port base %1 leaves no room for %2 gateways")
                .arg(m_config.portBase)
                .arg(spec.gateways.size())};
    QSet<QString> busNames;
    for (int g = 0; g < spec.gateways.size(); ++g) {
        for (int b = 0; b < spec.gateways.at(g).buses.size(); ++b) {
            const QString problem = wireTiming(g, b).validate();
            if (!problem.isEmpty())
                return {StartOutcome::BadConfig,
                    QStringLiteral("bus %1: %2").arg(spec.gateways.at(g).buses.at(b).name, problem)};
            const QString name = spec.gateways.at(g).buses.at(b).name;
            if (m_config.rtu && !m_config.rtuLinkDir.isEmpty() && busNames.contains(name))
                return {StartOutcome::BadConfig,
                    QStringLiteral("two buses are named %1; --rtu-link-dir needs unique bus names").arg(name)};
            busNames.insert(name);
        }
    }

    const quint64 seed = m_config.seed.value_or(spec.seed);
    m_simClock
        = std::make_unique<SimClock>(m_clock, m_config.startSimMs.value_or(m_clock.wallMs()), m_config.timeFactor);
    QString error;
    m_building = SimBuilding::create(spec, *m_simClock, seed, &error);
    if (!m_building)
        return {StartOutcome::BadConfig, error};

    for (int g = 0; g < spec.gateways.size(); ++g) {
        const GatewaySpec &gateway = spec.gateways.at(g);
        QList<BusLine *> buses;
        for (int b = 0; b < gateway.buses.size(); ++b) {
            BusLine::Config bus;
            bus.gateway = g;
            bus.bus = b;
            bus.name = gateway.buses.at(b).name;
            bus.wire = wireTiming(g, b);
            bus.gatewayTimeoutMs = m_config.gatewayTimeoutMs;
            bus.gatewaySilentOnNoAnswer = m_config.silentOnNoAnswer;
            bus.seed = seed;
            buses.append(new BusLine(*m_building, m_faults, bus, this));
        }
        m_buses.append(buses);

        GatewayServer::Config config;
        config.gateway = g;
        config.name = gateway.name;
        config.port = quint16(m_config.portBase + g);
        config.gatewayTimeoutMs = m_config.gatewayTimeoutMs;
        config.silentOnNoAnswer = m_config.silentOnNoAnswer;
        auto *server = new GatewayServer(*m_building, buses, config, this);
        m_gateways.append(server);
        if (!server->listen(&error))
            return {StartOutcome::CannotListen, error};

        QList<RtuPort *> ports;
        if (m_config.rtu) {
            for (BusLine *bus : std::as_const(buses)) {
                auto *port = new RtuPort(*bus, this);
                ports.append(port);
                const QString link = m_config.rtuLinkDir.isEmpty()
                    ? QString()
                    : QDir(m_config.rtuLinkDir).filePath(bus->config().name);
                if (!port->open(link, &error)) {
                    m_rtuPorts.append(ports);
                    return {StartOutcome::CannotOpenPty, error};
                }
            }
        }
        m_rtuPorts.append(ports);
    }

    m_control = new ControlServer(*this, this);
    if (!m_control->listen(controlPort(), &error))
        return {StartOutcome::CannotListen, error};

    m_building->startTicking();
    qCInfo(lcSimServer, "building %s: %d meters on %lld gateways, time factor %g, seed %llu", qUtf8Printable(spec.name),
        m_building->meterCount(), qlonglong(spec.gateways.size()), m_config.timeFactor,
        static_cast<unsigned long long>(seed));
    return {};
}

QStringList MeterSimulation::startLines() const
{
    QStringList lines;
    const BuildingSpec &spec = m_config.building;
    for (int g = 0; g < m_gateways.size(); ++g) {
        lines << QStringLiteral("gateway %1 %2: 127.0.0.1:%3, %4 buses, %5 meters")
                     .arg(g)
                     .arg(spec.gateways.at(g).name)
                     .arg(m_gateways.at(g)->config().port)
                     .arg(spec.gateways.at(g).buses.size())
                     .arg(m_building->gatewayMeterCount(g));
    }
    for (const QList<RtuPort *> &ports : m_rtuPorts) {
        for (const RtuPort *port : ports)
            lines << QStringLiteral("bus %1: %2").arg(port->bus().config().name, port->ptyPath());
    }
    lines << QStringLiteral("control: http://127.0.0.1:%1/status").arg(controlPort());
    return lines;
}

const RtuPort *MeterSimulation::rtuPort(int gateway, int bus) const
{
    if (gateway < 0 || gateway >= m_rtuPorts.size() || bus < 0 || bus >= m_rtuPorts.at(gateway).size())
        return nullptr;
    return m_rtuPorts.at(gateway).at(bus);
}

std::optional<FaultTarget> MeterSimulation::resolveTarget(const TargetSpec &spec, QString *error) const
{
    FaultTarget target;
    if (spec.serial) {
        if (spec.gateway || spec.unit || spec.bus) {
            *error = QStringLiteral("target: \"serial\" stands alone (no \"gateway\", \"unit\" or \"bus\" with it)");
            return std::nullopt;
        }
        const int index = m_building->meterIndexBySerial(*spec.serial);
        if (index < 0) {
            *error = QStringLiteral("target.serial: no meter has serial %1").arg(*spec.serial);
            return std::nullopt;
        }
        target.scope = FaultTarget::Scope::Meter;
        target.meterIndex = index;
        target.gateway = m_building->location(index).gateway;
        target.bus = m_building->location(index).bus;
        target.serial = spec.serial;
        return target;
    }
    if (!spec.gateway) {
        *error = QStringLiteral("target: give {\"gateway\", \"unit\"}, {\"serial\"}, {\"gateway\", \"bus\"} or "
                                "{\"gateway\"}");
        return std::nullopt;
    }
    if (*spec.gateway < 0 || *spec.gateway >= gatewayCount()) {
        *error
            = QStringLiteral("target.gateway: %1 is not a gateway (0..%2)").arg(*spec.gateway).arg(gatewayCount() - 1);
        return std::nullopt;
    }
    target.gateway = *spec.gateway;
    if (spec.unit && spec.bus) {
        *error = QStringLiteral("target: give \"unit\" or \"bus\", not both");
        return std::nullopt;
    }
    if (spec.unit) {
        const int index
            = *spec.unit >= 1 && *spec.unit <= 247 ? m_building->meterIndex(target.gateway, quint8(*spec.unit)) : -1;
        if (index < 0) {
            *error = QStringLiteral("target.unit: %1 is not a meter of gateway %2").arg(*spec.unit).arg(target.gateway);
            return std::nullopt;
        }
        target.scope = FaultTarget::Scope::Meter;
        target.meterIndex = index;
        target.bus = m_building->location(index).bus;
        return target;
    }
    if (spec.bus) {
        const int bus = m_building->busIndex(target.gateway, *spec.bus);
        if (bus < 0) {
            *error
                = QStringLiteral("target.bus: gateway %1 has no bus named \"%2\"").arg(target.gateway).arg(*spec.bus);
            return std::nullopt;
        }
        target.scope = FaultTarget::Scope::Bus;
        target.bus = bus;
        return target;
    }
    target.scope = FaultTarget::Scope::Gateway;
    return target;
}

QList<int> MeterSimulation::meterIndexes(const FaultTarget &target) const
{
    switch (target.scope) {
    case FaultTarget::Scope::Meter: return {target.meterIndex};
    case FaultTarget::Scope::Bus: return m_building->busMeters(target.gateway, target.bus);
    case FaultTarget::Scope::Gateway: {
        QList<int> all;
        for (int b = 0; b < m_buses.at(target.gateway).size(); ++b)
            all += m_building->busMeters(target.gateway, b);
        return all;
    }
    }
    return {};
}

QString MeterSimulation::describeTarget(const FaultTarget &target) const
{
    switch (target.scope) {
    case FaultTarget::Scope::Meter: {
        const QString where = QStringLiteral("gateway %1 unit %2")
                                  .arg(target.gateway)
                                  .arg(m_building->meterSpec(target.meterIndex).unitId);
        return target.serial ? QStringLiteral("serial %1 (%2)").arg(*target.serial).arg(where) : where;
    }
    case FaultTarget::Scope::Bus:
        return QStringLiteral("gateway %1 bus %2")
            .arg(target.gateway)
            .arg(m_config.building.gateways.at(target.gateway).buses.at(target.bus).name);
    case FaultTarget::Scope::Gateway: return QStringLiteral("gateway %1").arg(target.gateway);
    }
    return {};
}

MeterSimulation::AddFaultResult MeterSimulation::addFault(
    FaultKind kind, const FaultTarget &target, const FaultParams &params)
{
    const QString name = faultKindName(kind);
    const bool gatewayOnly = kind == FaultKind::Disconnect || kind == FaultKind::Refuse;
    const bool meterOnly = !isTransportFault(kind) && !gatewayOnly;
    if (gatewayOnly && target.scope != FaultTarget::Scope::Gateway)
        return {0, false, QStringLiteral("target: %1 applies to a whole gateway: {\"gateway\": G}").arg(name)};
    if (meterOnly && target.scope != FaultTarget::Scope::Meter)
        return {0, false,
            QStringLiteral("target: %1 applies to one meter: {\"gateway\": G, \"unit\": U} or {\"serial\": S}")
                .arg(name)};
    if (kind == FaultKind::Swap) {
        const int other = m_building->meterIndexBySerial(params.newSerial);
        if (other >= 0 && other != target.meterIndex)
            return {0, false,
                QStringLiteral("new_serial: %1 is already the serial of another meter").arg(params.newSerial)};
    }

    Fault fault{m_faults.allocateId(), kind, target, params};
    SimMeter *meter = target.scope == FaultTarget::Scope::Meter ? &m_building->meter(target.meterIndex) : nullptr;
    if (meter) // counter faults act on the energy counted so far
        meter->advanceTo(m_simClock->nowMs());
    switch (kind) {
    case FaultKind::Disconnect: m_gateways.at(target.gateway)->dropConnections(); break;
    case FaultKind::Refuse: {
        QString error;
        m_gateways.at(target.gateway)->setRefusing(true, &error);
        break;
    }
    case FaultKind::CounterReset: meter->injectCounterReset(); break;
    case FaultKind::Rollover: meter->injectRollover(params.unitsBeforeWrap); break;
    case FaultKind::Swap:
        meter->injectSwap(params.newSerial);
        m_building->reindexSerials();
        break;
    case FaultKind::Frozen: meter->setFrozen(true); break;
    case FaultKind::Jump: meter->injectJump(params.wh); break;
    case FaultKind::DeviceFailure: meter->setDeviceFailure(true); break;
    case FaultKind::Busy: meter->setBusy(true); break;
    default: break; // transport faults act per transaction, from the table
    }
    const bool persistent = isPersistentFault(kind);
    if (persistent)
        m_faults.add(fault);
    qCInfo(lcSimServer, "fault %d: %s on %s", fault.id, qUtf8Printable(name), qUtf8Printable(describeTarget(target)));
    return {fault.id, persistent, {}};
}

void MeterSimulation::undo(const Fault &fault)
{
    switch (fault.kind) {
    case FaultKind::Refuse:
        if (!m_faults.hasGatewayFault(FaultKind::Refuse, fault.target.gateway)) {
            QString error;
            if (!m_gateways.at(fault.target.gateway)->setRefusing(false, &error))
                qCWarning(lcSimServer, "%s", qUtf8Printable(error));
        }
        break;
    case FaultKind::Frozen:
    case FaultKind::DeviceFailure:
    case FaultKind::Busy: {
        // Another fault of the same kind on the meter keeps the state on.
        if (m_faults.hasMeterFault(fault.kind, fault.target.meterIndex))
            break;
        SimMeter &meter = m_building->meter(fault.target.meterIndex);
        meter.advanceTo(m_simClock->nowMs());
        if (fault.kind == FaultKind::Frozen)
            meter.setFrozen(false);
        else if (fault.kind == FaultKind::DeviceFailure)
            meter.setDeviceFailure(false);
        else
            meter.setBusy(false);
        break;
    }
    default: break;
    }
    qCInfo(lcSimServer, "fault %d (%s) cleared", fault.id, qUtf8Printable(faultKindName(fault.kind)));
}

std::optional<Fault> MeterSimulation::clearFault(int id)
{
    std::optional<Fault> removed = m_faults.remove(id);
    if (removed)
        undo(*removed);
    return removed;
}

QList<Fault> MeterSimulation::clearFaults()
{
    const QList<Fault> removed = m_faults.takeAll();
    for (const Fault &fault : removed)
        undo(fault);
    return removed;
}

bool MeterSimulation::advanceMs(qint64 ms)
{
    if (!m_simClock->advanceMs(ms))
        return false;
    m_building->advanceAll(); // relays and balances follow the jump at once
    return true;
}

bool MeterSimulation::setTimeFactor(double factor)
{
    m_building->advanceAll(); // what was consumed at the old rate is booked first
    return m_simClock->setTimeFactor(factor);
}

int MeterSimulation::setLoad(const FaultTarget &target, std::optional<qint64> watts)
{
    const QList<int> indexes = meterIndexes(target);
    for (const int index : indexes)
        m_building->setLoadOverride(index, watts);
    return int(indexes.size());
}

} // namespace prepay::sim
