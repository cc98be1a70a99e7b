#include "snapshot.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>

namespace prepay::modbus {

using namespace prepay::meter::v1;

namespace {

// Register value at a map address inside a block read from `base`.
struct Block
{
    std::span<const quint16> regs;
    quint16 base;

    quint16 u16(quint16 address) const { return regs[address - base]; }
    qint16 i16(quint16 address) const { return qint16(regs[address - base]); }
    quint32 u32at(quint16 address) const { return u32(regs[address - base], regs[address - base + 1]); }
    qint32 i32at(quint16 address) const { return i32(regs[address - base], regs[address - base + 1]); }
};

Result<MeterSnapshot> invalid(const QString &why)
{
    Result<MeterSnapshot> r;
    r.error = DriverError::make(ErrorKind::InvalidData, why);
    return r;
}

template<typename T>
QJsonValue orNull(const std::optional<T> &v)
{
    return v ? QJsonValue(qint64(*v)) : QJsonValue(QJsonValue::Null);
}

} // namespace

Result<MeterSnapshot> decodeBlockB(std::span<const quint16> regs)
{
    if (regs.size() != size_t(kBlockBCount))
        return invalid(QStringLiteral("block B is %1 registers, got %2").arg(kBlockBCount).arg(regs.size()));
    const Block b{regs, addr::BlockB};
    MeterSnapshot s;
    s.profile = QStringLiteral("prepay-v1");

    if (b.u16(addr::MapVersion) != kMapVersion)
        return invalid(
            QStringLiteral("map_version is 0x%1, not 0x0100 (v1)").arg(b.u16(addr::MapVersion), 4, 16, QChar(u'0')));
    s.mapVersion = kMapVersion;
    const quint16 deviceType = b.u16(addr::DeviceType);
    if (deviceType != quint16(DeviceType::SinglePhase) && deviceType != quint16(DeviceType::ThreePhase))
        return invalid(
            QStringLiteral("device_type %1 is neither 1 (single-phase) nor 3 (three-phase)").arg(deviceType));
    s.deviceType = DeviceType(deviceType);
    s.serialNumber = b.u32at(addr::SerialNumber);

    const quint16 status = b.u16(addr::StatusWord);
    if (status & ~status::DefinedBits)
        return invalid(QStringLiteral("status_word 0x%1 has reserved bits set").arg(status, 4, 16, QChar(u'0')));
    s.statusWord = status;
    const quint16 relay = b.u16(addr::RelayState);
    if (relay > 1)
        return invalid(QStringLiteral("relay_state %1 is neither 0 (closed) nor 1 (open)").arg(relay));
    s.relayState = RelayState(relay);
    if (bool(status & status::RelayOpen) != (s.relayState == RelayState::Open))
        return invalid(QStringLiteral("status_word bit 0 disagrees with relay_state %1").arg(relay));
    const quint16 reason = b.u16(addr::TripReason);
    if (reason > quint16(TripReason::TimeControl))
        return invalid(QStringLiteral("trip_reason %1 is not 0..5").arg(reason));
    s.tripReason = TripReason(reason);

    // relay_mode is not in block B; the forced bit with the relay and trip reason tell it.
    if (!(status & status::Forced)) {
        s.relayMode = RelayMode::Auto;
    } else if (s.relayState == RelayState::Closed) {
        s.relayMode = RelayMode::ForceOn;
    } else if (s.tripReason == TripReason::ForcedOff) {
        s.relayMode = RelayMode::ForceOff;
    } else {
        return invalid(QStringLiteral("forced with the relay open for trip_reason %1, not forced_off").arg(reason));
    }

    s.purchaseCount = b.u16(addr::PurchaseCount);
    s.balanceFen = b.i32at(addr::Balance);
    s.totalPurchasedFen = b.u32at(addr::TotalPurchased);
    s.lastRechargeAmountFen = b.u32at(addr::LastRechargeAmount);
    s.lastRechargeTxn = b.u32at(addr::LastRechargeTxn);
    s.consumedMoneyTotalFen = b.u32at(addr::ConsumedMoneyTotal);

    s.energyTotalRegister = b.u32at(addr::EnergyTotal);
    s.energyTotalWh = qint64(s.energyTotalRegister) * kWhPerEnergyUnit;
    for (int i = 0; i < 4; ++i)
        s.slotEnergyWh[i] = qint64(b.u32at(quint16(addr::EnergySharp + 2 * i))) * kWhPerEnergyUnit;

    s.activePowerW = b.i32at(addr::ActivePowerTotal);
    for (int i = 0; i < 3; ++i) {
        s.voltageMv[i] = qint64(b.u16(quint16(addr::VoltageA + i))) * 100; // 0.1 V
        s.currentMa[i] = qint64(b.u16(quint16(addr::CurrentA + i))) * 10;  // 0.01 A
        if (s.voltageMv[i] > 600'000)
            return invalid(QStringLiteral("voltage_%1 is %2 V").arg(QChar(u'a' + i)).arg(s.voltageMv[i] / 1000));
    }
    s.powerFactorPermille = b.i16(addr::PowerFactor);
    if (s.powerFactorPermille < -1000 || s.powerFactorPermille > 1000)
        return invalid(QStringLiteral("power_factor %1 is not −1000..1000").arg(s.powerFactorPermille));
    const int frequency = b.u16(addr::Frequency);
    if (frequency != 0 && (frequency < 4500 || frequency > 6500))
        return invalid(QStringLiteral("frequency %1.%2 Hz is implausible")
                           .arg(frequency / 100)
                           .arg(frequency % 100, 2, 10, QChar(u'0')));
    s.frequencyCentiHz = frequency;

    s.tariffVersionActive = b.u16(addr::TariffVersionActive);
    const quint16 slot = b.u16(addr::CurrentTariffIndex);
    if (slot > 3)
        return invalid(QStringLiteral("current_tariff_index %1 is not 0..3").arg(slot));
    s.currentTariffSlot = TariffSlot(slot);
    s.meterTimeS = b.u32at(addr::MeterTime);
    const quint16 result = b.u16(addr::LastCmdResult);
    if (result > quint16(CommandResult::ParametersRejected))
        return invalid(QStringLiteral("last_cmd_result %1 is not 0..9").arg(result));
    s.lastCommandResult = CommandResult(result);
    s.overloadTripCount = b.u16(addr::OverloadTripCount);
    for (quint16 a = 0x102C; a < 0x1030; ++a) {
        if (b.u16(a) != 0)
            return invalid(QStringLiteral("reserved register 0x%1 is not 0").arg(a, 4, 16, QChar(u'0')));
    }

    Result<MeterSnapshot> r;
    r.value = std::move(s);
    return r;
}

Result<MeterSnapshot> decodeAcrel(std::span<const quint16> blockA, std::span<const quint16> force)
{
    if (blockA.size() != size_t(kAcrelBlockCount) || force.size() != 2)
        return invalid(QStringLiteral("the Acrel block is %1 + 2 registers, got %2 + %3")
                           .arg(kAcrelBlockCount)
                           .arg(blockA.size())
                           .arg(force.size()));
    const Block a{blockA, addr::AcrelEnergyTotal};
    MeterSnapshot s;
    s.profile = QStringLiteral("acrel-remote");
    s.energyTotalRegister = a.u32at(addr::AcrelEnergyTotal);
    s.energyTotalWh = qint64(s.energyTotalRegister) * kWhPerEnergyUnit;
    for (int i = 0; i < 4; ++i)
        s.slotEnergyWh[i] = qint64(a.u32at(quint16(0x0002 + 2 * i))) * kWhPerEnergyUnit;
    s.voltageMv[0] = qint64(a.u16(addr::AcrelVoltage)) * 100;
    s.currentMa[0] = qint64(a.u16(0x000C)) * 10;
    s.activePowerW = a.i16(0x000D); // 0.001 kW = 1 W
    s.powerFactorPermille = a.i16(addr::AcrelPowerFactor);
    if (s.voltageMv[0] > 600'000)
        return invalid(QStringLiteral("acrel_voltage is %1 V").arg(s.voltageMv[0] / 1000));
    if (s.powerFactorPermille < -1000 || s.powerFactorPermille > 1000)
        return invalid(QStringLiteral("acrel_power_factor %1 is not −1000..1000").arg(s.powerFactorPermille));

    const quint16 enable = force[0];
    const quint16 state = force[1];
    if (enable > 1 || state > 1)
        return invalid(QStringLiteral("acrel force registers (%1, %2) are not 0/1").arg(enable).arg(state));
    s.relayMode = enable == 0 ? RelayMode::Auto : (state == 0 ? RelayMode::ForceOn : RelayMode::ForceOff);
    // A remote-controlled meter holds no balance: its relay is open only when forced off.
    s.relayState = s.relayMode == RelayMode::ForceOff ? RelayState::Open : RelayState::Closed;
    s.tripReason = s.relayMode == RelayMode::ForceOff ? TripReason::ForcedOff : TripReason::None;

    Result<MeterSnapshot> r;
    r.value = std::move(s);
    return r;
}

QJsonObject MeterSnapshot::toJson() const
{
    QJsonObject o;
    o[QStringLiteral("profile")] = profile;
    o[QStringLiteral("map_version")] = orNull(mapVersion);
    o[QStringLiteral("device_type")] = deviceType
        ? QJsonValue(*deviceType == meter::v1::DeviceType::SinglePhase ? QStringLiteral("single_phase")
                                                                       : QStringLiteral("three_phase"))
        : QJsonValue(QJsonValue::Null);
    o[QStringLiteral("serial_number")] = orNull(serialNumber);
    o[QStringLiteral("status_word")] = orNull(statusWord);
    o[QStringLiteral("relay_state")] = relayStateName(relayState);
    o[QStringLiteral("relay_mode")] = relayModeName(relayMode);
    o[QStringLiteral("trip_reason")] = tripReasonName(tripReason);
    o[QStringLiteral("purchase_count")] = orNull(purchaseCount);
    o[QStringLiteral("balance_fen")] = orNull(balanceFen);
    o[QStringLiteral("total_purchased_fen")] = orNull(totalPurchasedFen);
    o[QStringLiteral("last_recharge_amount_fen")] = orNull(lastRechargeAmountFen);
    o[QStringLiteral("last_recharge_txn")] = orNull(lastRechargeTxn);
    o[QStringLiteral("consumed_money_total_fen")] = orNull(consumedMoneyTotalFen);
    o[QStringLiteral("energy_total_wh")] = energyTotalWh;
    static const char *const slotKeys[] = {"energy_sharp_wh", "energy_peak_wh", "energy_flat_wh", "energy_valley_wh"};
    for (int i = 0; i < 4; ++i)
        o[QLatin1StringView(slotKeys[i])] = slotEnergyWh[i];
    o[QStringLiteral("active_power_w")] = activePowerW;
    static const char *const phases[] = {"a", "b", "c"};
    for (int i = 0; i < 3; ++i) {
        o[QStringLiteral("voltage_%1_mv").arg(QLatin1StringView(phases[i]))] = voltageMv[i];
        o[QStringLiteral("current_%1_ma").arg(QLatin1StringView(phases[i]))] = currentMa[i];
    }
    o[QStringLiteral("power_factor_permille")] = powerFactorPermille;
    o[QStringLiteral("frequency_centi_hz")] = orNull(frequencyCentiHz);
    o[QStringLiteral("tariff_version_active")] = orNull(tariffVersionActive);
    o[QStringLiteral("current_tariff")]
        = currentTariffSlot ? QJsonValue(tariffSlotName(*currentTariffSlot)) : QJsonValue(QJsonValue::Null);
    o[QStringLiteral("meter_time")] = orNull(meterTimeS);
    o[QStringLiteral("meter_time_utc")] = meterTimeS
        ? QJsonValue(QDateTime::fromSecsSinceEpoch(*meterTimeS, Qt::UTC).toString(Qt::ISODate))
        : QJsonValue(QJsonValue::Null);
    o[QStringLiteral("last_cmd_result")]
        = lastCommandResult ? QJsonValue(commandResultName(*lastCommandResult)) : QJsonValue(QJsonValue::Null);
    o[QStringLiteral("overload_trip_count")] = orNull(overloadTripCount);
    return o;
}

} // namespace prepay::modbus
