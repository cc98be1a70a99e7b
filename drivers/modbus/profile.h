// Meter profiles: what a family of meters can do, in the words of the business (read, recharge,
// relay, tariff, thresholds, clock), over a ModbusClient. Two profiles exist:
//  - "prepay-v1": everything of the v1 map — the meter keeps its own balance;
//  - "acrel-remote": Block A only (energies, V/I/P/PF) and the force relay at 0x0057/0x0058;
//    the wallet stays in the backoffice (远程费控) and every other operation is NotSupported.
// Every write is verified by reading back: "the frame got through" is not "the meter did it".
// A profile holds no state and no connection; the caller owns the client, one per bus.
#pragma once

#include "client.h"
#include "mapv1.h"
#include "snapshot.h"

#include <functional>

namespace prepay::modbus {

// One recharge, as the caller persists it BEFORE the first frame goes out (map §3, driver
// algorithm): the sequence is fixed once, so a retry after a lost reply or a restart sends the
// identical frame, and a sequence is never reused for another transaction.
struct RechargePlan
{
    qint64 amountFen = 0; // 1..100 000 000
    quint32 txn = 0;      // the backoffice order id (low 32 bits)
    quint16 sequence = 0; // the meter's purchase_count + 1 when planned

    meter::v1::RechargeMailbox mailbox() const;
};

enum class RechargeOutcome {
    Applied,        // this call's frame was applied (read back)
    AlreadyApplied, // the meter already shows this recharge (an earlier, unanswered frame)
};

// How executeRecharge may save time and tell more than its outcome.
struct RechargeExecution
{
    // The read planRecharge just made, taken as the first read instead of asking the meter
    // again at once — one transaction of the line less. Only ever a read made right
    // before; a plan resumed later (after a timeout, a restart) reads first.
    const MeterSnapshot *justRead = nullptr;
    // Called when the meter answered the mailbox write normally, before the read-back: the
    // moment the recharge reached the meter ("acknowledged" — not yet "verified").
    std::function<void()> onAcknowledged;
    // Receives the read that showed the recharge applied (for the caller's records).
    MeterSnapshot *readBack = nullptr;
};

class MeterProfile
{
public:
    virtual ~MeterProfile() = default;
    virtual QString name() const = 0;

    virtual Result<MeterSnapshot> readSnapshot(ModbusClient &client, quint8 unit) const = 0;

    // Reads the meter's purchase count and fixes the sequence of a new recharge. `basis`, if
    // given, receives the read the plan was made from.
    virtual Result<RechargePlan> planRecharge(
        ModbusClient &client, quint8 unit, qint64 amountFen, quint32 txn, MeterSnapshot *basis = nullptr) const;
    // Carries out a persisted plan: reads first (already applied? sequence moved?), sends the
    // identical frame, and on a timeout reads again before resending it (at most
    // `resendsMax` times). Rejected if the meter refuses or another recharge took the sequence.
    virtual Result<RechargeOutcome> executeRecharge(
        ModbusClient &client, quint8 unit, const RechargePlan &plan, const RechargeExecution &how = {}) const;

    virtual DriverError setRelayMode(ModbusClient &client, quint8 unit, meter::v1::RelayMode mode) const = 0;
    virtual DriverError relayAction(ModbusClient &client, quint8 unit, meter::v1::RelayAction action) const;
    virtual DriverError pushTariff(ModbusClient &client, quint8 unit, const meter::v1::TariffBlock &tariff) const;
    virtual Result<meter::v1::TariffBlock> readTariff(ModbusClient &client, quint8 unit) const;
    virtual DriverError pushThresholds(
        ModbusClient &client, quint8 unit, const meter::v1::ThresholdBlock &thresholds) const;
    virtual Result<meter::v1::ThresholdBlock> readThresholds(ModbusClient &client, quint8 unit) const;
    virtual DriverError setClock(ModbusClient &client, quint8 unit, qint64 unixSeconds) const;

    static constexpr int resendsMax = 2;
    static constexpr int clockToleranceS = 2;
};

// "prepay-v1" or "acrel-remote"; nullptr for anything else.
const MeterProfile *profileNamed(QStringView name);
QStringList profileNames();

} // namespace prepay::modbus
