// A simulated meter (SimMeter) behind the misbehaving fake server: the driver and the command
// executor are tested against the real meter logic over a real socket, with lost requests and
// replies on cue (FakeModbusServer::push). Simulated time stands still unless a test moves
// simMs. `observe` sees every request on the server's thread before the meter does (e.g. to
// look into the database at the moment a frame arrives). Tests only.
#pragma once

#include "fakemodbusserver.h"

#include "modbus/client.h"
#include "modbus/mapv1.h"
#include "sim/meters/simmeter.h"

#include <functional>
#include <memory>
#include <mutex>

namespace prepay::test {

// A prepaid single-phase meter with 100.00 yuan, purchase count 4 and the demo's TOU tariff,
// idle (no load), for tests that recharge, switch and push to it.
inline sim::MeterSpec prepaidTestMeter(quint8 unit, quint32 serial)
{
    sim::MeterSpec m;
    m.unitId = unit;
    m.serial = serial;
    m.model = QStringLiteral("DDSY1352-NK");
    m.profile = sim::LoadProfileKind::Idle;
    m.balanceFen = 10000;
    m.purchaseCount = 4;
    m.totalPurchasedFen = 40000;
    m.energyWh = 1'000'000;
    m.tariff.version = 1;
    m.tariff.prices = {12100, 9800, 6500, 3100};
    m.tariff.segments = {{0, meter::v1::TariffSlot::Valley}, {480, meter::v1::TariffSlot::Flat},
        {600, meter::v1::TariffSlot::Peak}, {1320, meter::v1::TariffSlot::Valley}};
    return m;
}

struct SimMeterRig
{
    static constexpr qint64 kStartMs = 1'795'000'000'000; // 2026-11-19, a Thursday
    static constexpr int kUtcOffsetMinutes = 480;

    explicit SimMeterRig(const sim::MeterSpec &spec)
        : meter(spec, kUtcOffsetMinutes, 7, kStartMs)
    {
        server.setHandler([this](quint8 unit, const QByteArray &pdu) {
            std::lock_guard lock(mutex);
            if (observe)
                observe(pdu);
            if (unit != meter.unitId())
                return QByteArray("\x83\x0B", 2); // the gateway: no such unit
            return meter.handlePdu(pdu, simMs);
        });
    }

    sim::MeterTruth truth()
    {
        std::lock_guard lock(mutex);
        return meter.truth(simMs);
    }

    std::unique_ptr<modbus::ModbusClient> client(const Clock &clock, int responseTimeoutMs = 150)
    {
        modbus::Endpoint e;
        e.port = server.port();
        e.baud = 0;
        modbus::BusTiming t;
        t.responseTimeoutMs = responseTimeoutMs;
        return std::make_unique<modbus::ModbusClient>(e, t, clock);
    }

    // The recharge mailbox frames that reached the meter.
    QList<QList<quint16>> mailboxWrites() const
    {
        QList<QList<quint16>> frames;
        for (const auto &[address, values] : server.writes()) {
            if (address == meter::v1::addr::RechargeMailbox)
                frames.append(values);
        }
        return frames;
    }

    std::mutex mutex;
    sim::SimMeter meter;
    qint64 simMs = kStartMs;
    std::function<void(const QByteArray &pdu)> observe;
    FakeModbusServer server;
};

} // namespace prepay::test
