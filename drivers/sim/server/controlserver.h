// The HTTP+JSON control interface of prepay-sim meters, on 127.0.0.1 only (QHttpServer):
//
//   GET    /status                   building, simulated time, gateways, buses, RTU ptys
//   GET    /meters                   every meter: gateway, bus, unit id, serial
//   GET    /meters/<gateway>/<unit>  a meter's truth (MeterTruth, units in the key names)
//   GET    /meters/by-serial/<serial>
//   POST   /faults                   {"target": …, "kind": "…", params} → {"id": N, …}
//   GET    /faults                   the persistent faults in force
//   DELETE /faults/<id>, /faults     clear one, clear all
//   POST   /time/advance             {"seconds": N}
//   POST   /time/factor              {"factor": F}
//   POST   /load                     {"target": …, "watts": W | null}
//
// Requests are checked strictly: bad JSON, unknown fields, wrong types and values out of range
// are answered 400 {"error": "…"} naming the field; unknown things 404 {"error": "…"}. The
// parsing and the JSON shapes live here; what the operations do is MeterSimulation's.
// drivers/sim/README.md documents the API for its users.
#pragma once

#include <QtCore/QObject>

class QHttpServer;

namespace prepay::sim {

class MeterSimulation;

class ControlServer : public QObject
{
    Q_OBJECT

public:
    static constexpr int kRequestBodyMaxBytes = 64 * 1024;
    static constexpr qint64 kLoadMaxW = 10'000'000; // 10 MW: more than any building's feeder

    explicit ControlServer(MeterSimulation &simulation, QObject *parent = nullptr);
    ~ControlServer() override;

    // Listens on 127.0.0.1:port; false with *error when it cannot.
    bool listen(quint16 port, QString *error);

private:
    void addRoutes();

    MeterSimulation &m_simulation;
    QHttpServer *m_http; // owned (child)
};

} // namespace prepay::sim
