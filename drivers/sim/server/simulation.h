// MeterSimulation: the whole "prepay-sim meters" process as one object — the building's meters
// (SimBuilding), its clock (SimClock), one BusLine per bus, one GatewayServer per gateway on
// 127.0.0.1:portBase+i, optionally one RtuPort per bus, the fault table and the HTTP control
// interface (ControlServer). It composes them and offers the run-time operations the control
// interface exposes (faults, time, load), so prepay-sim.cpp stays a thin composition root and
// a test or benchmark can run a building in its own process the same way.
//
// Owns everything above; borrows the Clock it is given (its monotonic time drives SimClock).
#pragma once

#include "faults.h"
#include "sim/meters/building.h"
#include "wiretime.h"

#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <memory>
#include <optional>

namespace prepay {
class Clock;
}

namespace prepay::sim {

class BusLine;
class ControlServer;
class GatewayServer;
class RtuPort;
class SimBuilding;
class SimClock;

struct SimulationConfig
{
    static constexpr int kGatewayTimeoutDefaultMs = 1000;
    static constexpr quint16 kPortBaseDefault = 1502;
    static constexpr quint16 kControlPortOffset = 100; // default control port: portBase + 100

    BuildingSpec building;
    quint16 portBase = kPortBaseDefault; // gateway i listens on portBase + i
    quint16 controlPort = 0;             // 0: portBase + kControlPortOffset
    bool rtu = false;                    // also serve every bus on its own pty
    QString rtuLinkDir;                  // non-empty: DIR/<bus name> → /dev/pts/N
    // Overrides for every bus of the building (unset: the building file's values).
    std::optional<int> baud;
    std::optional<int> bitsPerChar;
    std::optional<std::pair<int, int>> turnaroundMs; // min, max
    double timeFactor = 1.0;
    std::optional<qint64> startSimMs; // unset: the wall clock at start
    std::optional<quint64> seed;      // unset: the building's seed
    int gatewayTimeoutMs = kGatewayTimeoutDefaultMs;
    bool silentOnNoAnswer = false; // unknown unit / silent meter: silence instead of 0x0B

    quint16 effectiveControlPort() const;
};

// Where a client wants a fault or a load change, before it is checked against the building.
struct TargetSpec
{
    std::optional<int> gateway;
    std::optional<int> unit;
    std::optional<QString> bus;
    std::optional<quint32> serial;
};

class MeterSimulation : public QObject
{
    Q_OBJECT

public:
    enum class StartOutcome {
        Started,
        BadConfig,     // a building that cannot be simulated as given (repeated unit ids, …)
        CannotListen,  // a gateway or control port is taken
        CannotOpenPty, // posix_openpt and friends, or the symlink
    };
    struct StartResult
    {
        StartOutcome outcome = StartOutcome::Started;
        QString message;

        // sysexits.h: 0, 65 (EX_DATAERR), 69 (EX_UNAVAILABLE), 71 (EX_OSERR).
        int exitCode() const;
    };

    MeterSimulation(const Clock &clock, const SimulationConfig &config, QObject *parent = nullptr);
    ~MeterSimulation() override;

    // Builds the meters and opens every port. On anything but Started nothing keeps running.
    StartResult start();
    // What prepay-sim prints once started: one line per gateway ("gateway 0 A座通讯管理机:
    // 127.0.0.1:1502, 3 buses, 120 meters"), one per RTU bus ("bus A-COM1: /dev/pts/4") and the
    // control interface.
    QStringList startLines() const;

    const SimulationConfig &config() const { return m_config; }
    SimBuilding &building() { return *m_building; }
    const SimBuilding &building() const { return *m_building; }
    SimClock &clock() { return *m_simClock; }
    const SimClock &clock() const { return *m_simClock; }
    const FaultTable &faults() const { return m_faults; }
    int gatewayCount() const { return int(m_gateways.size()); }
    const GatewayServer &gateway(int index) const { return *m_gateways.at(index); }
    const BusLine &bus(int gateway, int bus) const { return *m_buses.at(gateway).at(bus); }
    // nullptr without --rtu.
    const RtuPort *rtuPort(int gateway, int bus) const;
    quint16 controlPort() const { return m_config.effectiveControlPort(); }
    // The effective wire timing of a bus (the file's, with the command line's overrides).
    WireTiming wireTiming(int gateway, int bus) const;

    // ---- Run-time operations (the control interface) ---------------------------------------
    // Checks a target against the building; errors name the field ("target.unit: 99 is not a
    // meter of gateway 0").
    std::optional<FaultTarget> resolveTarget(const TargetSpec &spec, QString *error) const;
    // "gateway 0 unit 5", "gateway 0 bus A-COM1", "gateway 1", "serial 24050017 (gateway 0 unit 5)".
    QString describeTarget(const FaultTarget &target) const;
    // The meters a target covers.
    QList<int> meterIndexes(const FaultTarget &target) const;

    struct AddFaultResult
    {
        int id = 0; // 0 on error
        bool persistent = false;
        QString error;
    };
    // Applies a one-shot fault at once, or keeps a persistent one until cleared.
    AddFaultResult addFault(FaultKind kind, const FaultTarget &target, const FaultParams &params);
    std::optional<Fault> clearFault(int id);
    QList<Fault> clearFaults();

    bool advanceMs(qint64 ms);
    bool setTimeFactor(double factor);
    // Fixed load on every meter of `target` (nullopt: back to the profile); how many meters.
    int setLoad(const FaultTarget &target, std::optional<qint64> watts);

private:
    void undo(const Fault &fault);

    const Clock &m_clock;
    SimulationConfig m_config;
    std::unique_ptr<SimClock> m_simClock;
    FaultTable m_faults;
    // The destructor tears down in dependency order: control, ports, gateways, buses, building.
    std::unique_ptr<SimBuilding> m_building;
    QList<QList<BusLine *>> m_buses; // [gateway][bus], children of this
    QList<GatewayServer *> m_gateways;
    QList<QList<RtuPort *>> m_rtuPorts;
    ControlServer *m_control = nullptr;
};

} // namespace prepay::sim
