#include "controlserver.h"

#include "busline.h"
#include "gatewayserver.h"
#include "rtuport.h"
#include "serverlog.h"
#include "simbuilding.h"
#include "simclock.h"
#include "simulation.h"

#include "modbus/mapv1.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QMetaEnum>
#include <QtHttpServer/QHttpServer>
#include <QtHttpServer/QHttpServerRequest>
#include <QtHttpServer/QHttpServerResponse>

#include <cmath>

namespace prepay::sim {

namespace {

using Status = QHttpServerResponder::StatusCode;
using Method = QHttpServerRequest::Method;
namespace v1 = meter::v1;

QHttpServerResponse failure(Status status, const QString &message)
{
    return QHttpServerResponse(QJsonObject{{QStringLiteral("error"), message}}, status);
}

QHttpServerResponse badRequest(const QString &message)
{
    return failure(Status::BadRequest, message);
}

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

// ---- Strict reading of request bodies ----------------------------------------------------------

std::optional<QJsonObject> bodyObject(const QHttpServerRequest &request, QString *error)
{
    const QByteArray body = request.body();
    if (body.size() > ControlServer::kRequestBodyMaxBytes) {
        *error = QStringLiteral("body: larger than %1 bytes").arg(ControlServer::kRequestBodyMaxBytes);
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("body: not valid JSON (%1 at offset %2)")
                     .arg(parseError.errorString())
                     .arg(parseError.offset);
        return std::nullopt;
    }
    if (!document.isObject()) {
        *error = QStringLiteral("body: not a JSON object");
        return std::nullopt;
    }
    return document.object();
}

// Every key of `object` must be one of `allowed`; `path` prefixes the field in the message.
bool onlyKnownFields(const QJsonObject &object, const QStringList &allowed, const QString &path, QString *error)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!allowed.contains(it.key())) {
            *error = QStringLiteral("%1%2: unknown field (known: %3)")
                         .arg(path, it.key(), allowed.join(QStringLiteral(", ")));
            return false;
        }
    }
    return true;
}

bool readInteger(const QJsonValue &value, const QString &field, qint64 min, qint64 max, qint64 *out, QString *error)
{
    const double d = value.toDouble();
    if (!value.isDouble() || !std::isfinite(d) || d != std::floor(d)) {
        *error = QStringLiteral("%1: not an integer").arg(field);
        return false;
    }
    if (d < double(min) || d > double(max)) {
        *error = QStringLiteral("%1: %2 is not within %3..%4").arg(field).arg(qint64(d)).arg(min).arg(max);
        return false;
    }
    *out = qint64(d);
    return true;
}

bool readNumber(const QJsonValue &value, const QString &field, double min, double max, double *out, QString *error)
{
    const double d = value.toDouble();
    if (!value.isDouble() || !std::isfinite(d)) {
        *error = QStringLiteral("%1: not a number").arg(field);
        return false;
    }
    if (d < min || d > max) {
        *error = QStringLiteral("%1: %2 is not within %3..%4").arg(field).arg(d).arg(min).arg(max);
        return false;
    }
    *out = d;
    return true;
}

// ---- JSON shapes --------------------------------------------------------------------------------

QJsonValue optionalWatts(std::optional<qint64> watts)
{
    return watts ? QJsonValue(*watts) : QJsonValue(QJsonValue::Null);
}

} // namespace

ControlServer::ControlServer(MeterSimulation &simulation, QObject *parent)
    : QObject(parent)
    , m_simulation(simulation)
    , m_http(new QHttpServer(this))
{
    addRoutes();
}

ControlServer::~ControlServer() = default;

bool ControlServer::listen(quint16 port, QString *error)
{
    if (m_http->listen(QHostAddress::LocalHost, port) == port)
        return true;
    *error = QStringLiteral("control interface: cannot listen on 127.0.0.1:%1").arg(port);
    return false;
}

void ControlServer::addRoutes()
{
    // The routes outlive this function: they hold the simulation by pointer (it owns us).
    MeterSimulation *const sim = &m_simulation;

    const auto truthOf = [sim](int index) {
        SimBuilding &building = sim->building();
        const qint64 nowMs = sim->clock().nowMs();
        const MeterTruth t = building.meter(index).truth(nowMs);
        const MeterSpec &spec = building.meterSpec(index);
        const SimBuilding::Location where = building.location(index);
        return QJsonObject{
            {QStringLiteral("gateway"), where.gateway},
            {QStringLiteral("bus"), sim->config().building.gateways.at(where.gateway).buses.at(where.bus).name},
            {QStringLiteral("unit_id"), spec.unitId},
            {QStringLiteral("serial"), qint64(t.serial)},
            {QStringLiteral("model"), spec.model},
            {QStringLiteral("metering_point"), spec.meteringPoint},
            {QStringLiteral("sim_time_ms"), t.simTimeMs},
            {QStringLiteral("sim_time"), isoTime(t.simTimeMs)},
            {QStringLiteral("energy_wh"), t.energyWh},
            {QStringLiteral("energy_register_10wh"), qint64(t.energyRegister)},
            {QStringLiteral("slot_energy_wh"),
                QJsonObject{{QStringLiteral("sharp"), t.slotEnergyWh[0]}, {QStringLiteral("peak"), t.slotEnergyWh[1]},
                    {QStringLiteral("flat"), t.slotEnergyWh[2]}, {QStringLiteral("valley"), t.slotEnergyWh[3]}}},
            {QStringLiteral("balance_fen"), t.balanceFen},
            {QStringLiteral("remainder_0_00001_fen"), t.remainderUnits},
            {QStringLiteral("purchase_count"), t.purchaseCount},
            {QStringLiteral("total_purchased_fen"), t.totalPurchasedFen},
            {QStringLiteral("consumed_money_fen"), t.consumedMoneyFen},
            {QStringLiteral("last_recharge_txn"), qint64(t.lastRechargeTxn)},
            {QStringLiteral("last_recharge_amount_fen"), t.lastRechargeAmountFen},
            {QStringLiteral("relay_state"), relayStateName(t.relayState)},
            {QStringLiteral("relay_mode"), relayModeName(t.relayMode)},
            {QStringLiteral("trip_reason"), tripReasonName(t.tripReason)},
            {QStringLiteral("status_word"), t.statusWord},
            {QStringLiteral("active_power_w"), t.activePowerW},
            {QStringLiteral("load_override_w"), optionalWatts(building.loadOverride(index))},
            {QStringLiteral("tariff_version_active"), t.tariffVersionActive},
            {QStringLiteral("last_command_result"), commandResultName(t.lastCommandResult)},
            {QStringLiteral("overload_trip_count"), t.overloadTripCount},
            {QStringLiteral("frozen"), t.frozen},
        };
    };

    const auto faultJson = [sim](const Fault &f) {
        QJsonObject target;
        const FaultTarget &t = f.target;
        if (t.serial) {
            target.insert(QStringLiteral("serial"), qint64(*t.serial));
        } else {
            target.insert(QStringLiteral("gateway"), t.gateway);
            if (t.scope == FaultTarget::Scope::Meter)
                target.insert(QStringLiteral("unit"), sim->building().meterSpec(t.meterIndex).unitId);
            if (t.scope == FaultTarget::Scope::Bus)
                target.insert(
                    QStringLiteral("bus"), sim->config().building.gateways.at(t.gateway).buses.at(t.bus).name);
        }
        QJsonObject json{{QStringLiteral("id"), f.id}, {QStringLiteral("kind"), faultKindName(f.kind)},
            {QStringLiteral("target"), target}, {QStringLiteral("where"), sim->describeTarget(t)},
            {QStringLiteral("persistent"), isPersistentFault(f.kind)}};
        switch (f.kind) {
        case FaultKind::LateReply: json.insert(QStringLiteral("ms"), f.params.ms); break;
        case FaultKind::Exception: json.insert(QStringLiteral("code"), f.params.code); break;
        case FaultKind::Offline:
            if (f.params.silence)
                json.insert(QStringLiteral("response"),
                    *f.params.silence ? QStringLiteral("silence") : QStringLiteral("exception"));
            break;
        case FaultKind::Rollover:
            json.insert(QStringLiteral("units_before_wrap"), qint64(f.params.unitsBeforeWrap));
            break;
        case FaultKind::Swap: json.insert(QStringLiteral("new_serial"), qint64(f.params.newSerial)); break;
        case FaultKind::Jump: json.insert(QStringLiteral("wh"), f.params.wh); break;
        default: break;
        }
        if (f.params.function)
            json.insert(QStringLiteral("function"), *f.params.function);
        return json;
    };

    // Reads {"target": {...}} of a request body into a resolved target.
    const auto readTarget = [sim](const QJsonObject &body, QString *error) -> std::optional<FaultTarget> {
        const QJsonValue value = body.value(QStringLiteral("target"));
        if (value.isUndefined()) {
            *error = QStringLiteral("target: required");
            return std::nullopt;
        }
        if (!value.isObject()) {
            *error = QStringLiteral("target: not an object");
            return std::nullopt;
        }
        const QJsonObject object = value.toObject();
        if (!onlyKnownFields(object,
                {QStringLiteral("gateway"), QStringLiteral("unit"), QStringLiteral("bus"), QStringLiteral("serial")},
                QStringLiteral("target."), error))
            return std::nullopt;
        TargetSpec spec;
        qint64 n = 0;
        if (object.contains(QStringLiteral("gateway"))) {
            if (!readInteger(
                    object.value(QStringLiteral("gateway")), QStringLiteral("target.gateway"), 0, 65535, &n, error))
                return std::nullopt;
            spec.gateway = int(n);
        }
        if (object.contains(QStringLiteral("unit"))) {
            if (!readInteger(object.value(QStringLiteral("unit")), QStringLiteral("target.unit"), 1, 247, &n, error))
                return std::nullopt;
            spec.unit = int(n);
        }
        if (object.contains(QStringLiteral("serial"))) {
            if (!readInteger(object.value(QStringLiteral("serial")), QStringLiteral("target.serial"), 0, 0xFFFFFFFFLL,
                    &n, error))
                return std::nullopt;
            spec.serial = quint32(n);
        }
        if (object.contains(QStringLiteral("bus"))) {
            const QJsonValue bus = object.value(QStringLiteral("bus"));
            if (!bus.isString()) {
                *error = QStringLiteral("target.bus: not a string");
                return std::nullopt;
            }
            spec.bus = bus.toString();
        }
        return sim->resolveTarget(spec, error);
    };

    m_http->route(QStringLiteral("/status"), Method::Get, [sim] {
        const SimBuilding &building = sim->building();
        QJsonArray gateways;
        for (int g = 0; g < sim->gatewayCount(); ++g) {
            const GatewayServer &gateway = sim->gateway(g);
            QJsonArray buses;
            const GatewaySpec &spec = sim->config().building.gateways.at(g);
            for (int b = 0; b < spec.buses.size(); ++b) {
                const BusLine &bus = sim->bus(g, b);
                const WireTiming &wire = bus.config().wire;
                const RtuPort *port = sim->rtuPort(g, b);
                buses.append(QJsonObject{
                    {QStringLiteral("name"), bus.config().name},
                    {QStringLiteral("meters"), building.busMeters(g, b).size()},
                    {QStringLiteral("baud"), wire.baud},
                    {QStringLiteral("bits_per_char"), wire.bitsPerChar},
                    {QStringLiteral("turnaround_min_ms"), wire.turnaroundMinMs},
                    {QStringLiteral("turnaround_max_ms"), wire.turnaroundMaxMs},
                    {QStringLiteral("queue_length"), bus.queueLength()},
                    {QStringLiteral("transactions"), bus.transactionsServed()},
                    {QStringLiteral("pty"), port ? QJsonValue(port->ptyPath()) : QJsonValue(QJsonValue::Null)},
                    {QStringLiteral("pty_link"),
                        port && !port->linkPath().isEmpty() ? QJsonValue(port->linkPath())
                                                            : QJsonValue(QJsonValue::Null)},
                });
            }
            gateways.append(QJsonObject{
                {QStringLiteral("index"), g},
                {QStringLiteral("name"), gateway.config().name},
                {QStringLiteral("host"), QStringLiteral("127.0.0.1")},
                {QStringLiteral("port"), gateway.config().port},
                {QStringLiteral("listening"), gateway.listening()},
                {QStringLiteral("refusing"), gateway.refusing()},
                {QStringLiteral("connections"), gateway.connectionCount()},
                {QStringLiteral("requests"), gateway.requestsReceived()},
                {QStringLiteral("meters"), building.gatewayMeterCount(g)},
                {QStringLiteral("buses"), buses},
            });
        }
        const qint64 nowMs = sim->clock().nowMs();
        const SimulationConfig &config = sim->config();
        return QHttpServerResponse(QJsonObject{
            {QStringLiteral("building"), config.building.name},
            {QStringLiteral("meters"), building.meterCount()},
            {QStringLiteral("sim_time_ms"), nowMs},
            {QStringLiteral("sim_time"), isoTime(nowMs)},
            {QStringLiteral("time_factor"), sim->clock().timeFactor()},
            {QStringLiteral("seed"), QString::number(config.seed.value_or(config.building.seed))},
            {QStringLiteral("gateway_timeout_ms"), config.gatewayTimeoutMs},
            {QStringLiteral("no_answer"),
                config.silentOnNoAnswer ? QStringLiteral("silence") : QStringLiteral("exception")},
            {QStringLiteral("rtu"), config.rtu},
            {QStringLiteral("control_port"), sim->controlPort()},
            {QStringLiteral("faults"), sim->faults().all().size()},
            {QStringLiteral("gateways"), gateways},
        });
    });

    m_http->route(QStringLiteral("/meters"), Method::Get, [sim] {
        const SimBuilding &building = sim->building();
        QJsonArray meters;
        for (int i = 0; i < building.meterCount(); ++i) {
            const SimBuilding::Location where = building.location(i);
            const MeterSpec &spec = building.meterSpec(i);
            meters.append(QJsonObject{
                {QStringLiteral("gateway"), where.gateway},
                {QStringLiteral("bus"), sim->config().building.gateways.at(where.gateway).buses.at(where.bus).name},
                {QStringLiteral("unit_id"), spec.unitId},
                {QStringLiteral("serial"), qint64(sim->building().meter(i).serial())},
                {QStringLiteral("metering_point"), spec.meteringPoint},
            });
        }
        return QHttpServerResponse(QJsonObject{{QStringLiteral("meters"), meters}});
    });

    m_http->route(QStringLiteral("/meters/<arg>/<arg>"), Method::Get, [sim, truthOf](int gateway, int unit) {
        const int index = unit >= 1 && unit <= 247 ? sim->building().meterIndex(gateway, quint8(unit)) : -1;
        if (index < 0)
            return failure(
                Status::NotFound, QStringLiteral("gateway %1 has no meter with unit id %2").arg(gateway).arg(unit));
        return QHttpServerResponse(truthOf(index));
    });

    m_http->route(QStringLiteral("/meters/by-serial/<arg>"), Method::Get, [sim, truthOf](quint32 serial) {
        const int index = sim->building().meterIndexBySerial(serial);
        if (index < 0)
            return failure(Status::NotFound, QStringLiteral("no meter has serial %1").arg(serial));
        return QHttpServerResponse(truthOf(index));
    });

    m_http->route(QStringLiteral("/faults"), Method::Get, [sim, faultJson] {
        QJsonArray faults;
        for (const Fault &f : sim->faults().all())
            faults.append(faultJson(f));
        return QHttpServerResponse(QJsonObject{{QStringLiteral("faults"), faults}});
    });

    m_http->route(
        QStringLiteral("/faults"), Method::Post, [sim, readTarget, faultJson](const QHttpServerRequest &request) {
            QString error;
            const std::optional<QJsonObject> body = bodyObject(request, &error);
            if (!body)
                return badRequest(error);
            // Each parameter belongs to one kind; a parameter the kind does not take is an error.
            struct Param
            {
                QString key;
                FaultKind kind;
            };
            const QList<Param> params = {
                {QStringLiteral("ms"), FaultKind::LateReply},
                {QStringLiteral("code"), FaultKind::Exception},
                {QStringLiteral("response"), FaultKind::Offline},
                {QStringLiteral("units_before_wrap"), FaultKind::Rollover},
                {QStringLiteral("new_serial"), FaultKind::Swap},
                {QStringLiteral("wh"), FaultKind::Jump},
            };
            QStringList allowed = {QStringLiteral("target"), QStringLiteral("kind"), QStringLiteral("function")};
            for (const Param &p : params)
                allowed << p.key;
            if (!onlyKnownFields(*body, allowed, {}, &error))
                return badRequest(error);

            const QJsonValue kindValue = body->value(QStringLiteral("kind"));
            const QString kinds = faultKindNames().join(QStringLiteral(", "));
            if (!kindValue.isString())
                return badRequest(QStringLiteral("kind: required, a string: one of %1").arg(kinds));
            const std::optional<FaultKind> kind = faultKindFromName(kindValue.toString());
            if (!kind)
                return badRequest(QStringLiteral("kind: \"%1\" is not one of %2").arg(kindValue.toString(), kinds));
            for (const Param &p : params) {
                if (body->contains(p.key) && p.kind != *kind)
                    return badRequest(QStringLiteral("%1: not a parameter of %2 (%3 takes it)")
                                          .arg(p.key, faultKindName(*kind), faultKindName(p.kind)));
                if (!body->contains(p.key) && p.kind == *kind && p.kind != FaultKind::Offline)
                    return badRequest(QStringLiteral("%1: required for %2").arg(p.key, faultKindName(*kind)));
            }

            FaultParams fault;
            qint64 n = 0;
            if (body->contains(QStringLiteral("function"))) {
                if (!isTransportFault(*kind))
                    return badRequest(
                        QStringLiteral("function: only transport faults take it, not %1").arg(faultKindName(*kind)));
                if (!readInteger(body->value(QStringLiteral("function")), QStringLiteral("function"), kFunctionCodeMin,
                        kFunctionCodeMax, &n, &error))
                    return badRequest(error);
                fault.function = int(n);
            }
            switch (*kind) {
            case FaultKind::LateReply:
                if (!readInteger(
                        body->value(QStringLiteral("ms")), QStringLiteral("ms"), 1, kLateReplyMaxMs, &n, &error))
                    return badRequest(error);
                fault.ms = n;
                break;
            case FaultKind::Exception:
                if (!readInteger(body->value(QStringLiteral("code")), QStringLiteral("code"), kExceptionCodeMin,
                        kExceptionCodeMax, &n, &error))
                    return badRequest(error);
                fault.code = int(n);
                break;
            case FaultKind::Offline:
                if (body->contains(QStringLiteral("response"))) {
                    const QString response = body->value(QStringLiteral("response")).toString();
                    if (response != u"exception" && response != u"silence")
                        return badRequest(QStringLiteral("response: must be \"exception\" (0x0B) or \"silence\""));
                    fault.silence = response == u"silence";
                }
                break;
            case FaultKind::Rollover:
                if (!readInteger(body->value(QStringLiteral("units_before_wrap")), QStringLiteral("units_before_wrap"),
                        1, 0xFFFFFFFFLL, &n, &error))
                    return badRequest(error);
                fault.unitsBeforeWrap = quint32(n);
                break;
            case FaultKind::Swap:
                if (!readInteger(body->value(QStringLiteral("new_serial")), QStringLiteral("new_serial"), 1,
                        0xFFFFFFFFLL, &n, &error))
                    return badRequest(error);
                fault.newSerial = quint32(n);
                break;
            case FaultKind::Jump:
                if (!readInteger(
                        body->value(QStringLiteral("wh")), QStringLiteral("wh"), -kJumpMaxWh, kJumpMaxWh, &n, &error))
                    return badRequest(error);
                if (n == 0)
                    return badRequest(QStringLiteral("wh: a jump of 0 Wh changes nothing"));
                fault.wh = n;
                break;
            default: break;
            }

            const std::optional<FaultTarget> target = readTarget(*body, &error);
            if (!target)
                return badRequest(error);
            const MeterSimulation::AddFaultResult added = sim->addFault(*kind, *target, fault);
            if (added.id == 0)
                return badRequest(added.error);
            QJsonObject json = faultJson(Fault{added.id, *kind, *target, fault});
            json.insert(QStringLiteral("active"), added.persistent);
            return QHttpServerResponse(json);
        });

    m_http->route(QStringLiteral("/faults/<arg>"), Method::Delete, [sim](int id) {
        if (!sim->clearFault(id))
            return failure(Status::NotFound, QStringLiteral("no fault %1 in force").arg(id));
        return QHttpServerResponse(QJsonObject{{QStringLiteral("cleared"), QJsonArray{id}}});
    });

    m_http->route(QStringLiteral("/faults"), Method::Delete, [sim] {
        QJsonArray cleared;
        for (const Fault &f : sim->clearFaults())
            cleared.append(f.id);
        return QHttpServerResponse(QJsonObject{{QStringLiteral("cleared"), cleared}});
    });

    m_http->route(QStringLiteral("/time/advance"), Method::Post, [sim](const QHttpServerRequest &request) {
        QString error;
        const std::optional<QJsonObject> body = bodyObject(request, &error);
        if (!body)
            return badRequest(error);
        if (!onlyKnownFields(*body, {QStringLiteral("seconds")}, {}, &error))
            return badRequest(error);
        if (!body->contains(QStringLiteral("seconds")))
            return badRequest(QStringLiteral("seconds: required"));
        double seconds = 0;
        if (!readNumber(body->value(QStringLiteral("seconds")), QStringLiteral("seconds"), 0.001,
                double(SimClock::kAdvanceMaxMs) / 1000, &seconds, &error))
            return badRequest(error);
        sim->advanceMs(std::llround(seconds * 1000));
        const qint64 nowMs = sim->clock().nowMs();
        return QHttpServerResponse(
            QJsonObject{{QStringLiteral("sim_time_ms"), nowMs}, {QStringLiteral("sim_time"), isoTime(nowMs)}});
    });

    m_http->route(QStringLiteral("/time/factor"), Method::Post, [sim](const QHttpServerRequest &request) {
        QString error;
        const std::optional<QJsonObject> body = bodyObject(request, &error);
        if (!body)
            return badRequest(error);
        if (!onlyKnownFields(*body, {QStringLiteral("factor")}, {}, &error))
            return badRequest(error);
        if (!body->contains(QStringLiteral("factor")))
            return badRequest(QStringLiteral("factor: required"));
        double factor = 0;
        if (!readNumber(body->value(QStringLiteral("factor")), QStringLiteral("factor"), SimClock::kTimeFactorMin,
                SimClock::kTimeFactorMax, &factor, &error))
            return badRequest(error);
        sim->setTimeFactor(factor);
        const qint64 nowMs = sim->clock().nowMs();
        return QHttpServerResponse(QJsonObject{{QStringLiteral("time_factor"), sim->clock().timeFactor()},
            {QStringLiteral("sim_time_ms"), nowMs}, {QStringLiteral("sim_time"), isoTime(nowMs)}});
    });

    m_http->route(QStringLiteral("/load"), Method::Post, [sim, readTarget](const QHttpServerRequest &request) {
        QString error;
        const std::optional<QJsonObject> body = bodyObject(request, &error);
        if (!body)
            return badRequest(error);
        if (!onlyKnownFields(*body, {QStringLiteral("target"), QStringLiteral("watts")}, {}, &error))
            return badRequest(error);
        if (!body->contains(QStringLiteral("watts")))
            return badRequest(QStringLiteral("watts: required (a number of watts, or null for the load profile)"));
        std::optional<qint64> watts;
        const QJsonValue value = body->value(QStringLiteral("watts"));
        if (!value.isNull()) {
            qint64 n = 0;
            if (!readInteger(value, QStringLiteral("watts"), 0, kLoadMaxW, &n, &error))
                return badRequest(error);
            watts = n;
        }
        const std::optional<FaultTarget> target = readTarget(*body, &error);
        if (!target)
            return badRequest(error);
        const int meters = sim->setLoad(*target, watts);
        return QHttpServerResponse(QJsonObject{{QStringLiteral("meters"), meters},
            {QStringLiteral("where"), sim->describeTarget(*target)}, {QStringLiteral("watts"), optionalWatts(watts)}});
    });

    m_http->setMissingHandler([](const QHttpServerRequest &request, QHttpServerResponder &&responder) {
        const QString method = QString::fromLatin1(QMetaEnum::fromType<Method>().valueToKey(int(request.method())));
        responder.write(QJsonDocument(QJsonObject{{QStringLiteral("error"),
                            QStringLiteral("no such resource: %1 %2").arg(method.toUpper(), request.url().path())}}),
            Status::NotFound);
    });
}

} // namespace prepay::sim
