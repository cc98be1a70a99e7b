// What one read of a meter says, decoded and validated. Everything the rest of prepay knows
// about a meter's registers comes through here: values are integers in the units their names
// say, enums are checked, and a reply that breaks the map (an unknown enum, reserved bits set,
// an impossible combination) is an InvalidData error naming the field — it never leaves the
// driver as data.
#pragma once

#include "client.h"
#include "mapv1.h"

#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <array>
#include <optional>
#include <span>

namespace prepay::modbus {

struct MeterSnapshot
{
    QString profile; // "prepay-v1" or "acrel-remote"

    // Identity (prepay-v1 only).
    std::optional<quint16> mapVersion;
    std::optional<meter::v1::DeviceType> deviceType;
    std::optional<quint32> serialNumber;

    // Relay.
    meter::v1::RelayState relayState = meter::v1::RelayState::Closed;
    meter::v1::RelayMode relayMode = meter::v1::RelayMode::Auto;
    meter::v1::TripReason tripReason = meter::v1::TripReason::None;
    std::optional<quint16> statusWord;

    // Meter-side prepaid (prepay-v1 only).
    std::optional<quint16> purchaseCount;
    std::optional<qint64> balanceFen;
    std::optional<qint64> totalPurchasedFen;
    std::optional<qint64> lastRechargeAmountFen;
    std::optional<quint32> lastRechargeTxn;
    std::optional<qint64> consumedMoneyTotalFen;

    // Energy: the raw register (0.01 kWh, wraps at 2^32) and in Wh.
    quint32 energyTotalRegister = 0;
    qint64 energyTotalWh = 0;
    std::array<qint64, 4> slotEnergyWh{}; // by TariffSlot

    // Instantaneous values.
    qint64 activePowerW = 0;
    std::array<qint64, 3> voltageMv{}; // phases A, B, C (B and C 0 on single-phase)
    std::array<qint64, 3> currentMa{};
    int powerFactorPermille = 0; // −1000..1000
    std::optional<int> frequencyCentiHz;

    // Tariff, clock, commands (prepay-v1 only).
    std::optional<quint16> tariffVersionActive;
    std::optional<meter::v1::TariffSlot> currentTariffSlot;
    std::optional<qint64> meterTimeS; // Unix seconds, UTC
    std::optional<meter::v1::CommandResult> lastCommandResult;
    std::optional<quint16> overloadTripCount;

    // One JSON object whose keys are the map's field names with units in the key
    // (balance_fen, purchase_count, energy_total_wh, …); absent values are null.
    QJsonObject toJson() const;
};

// Decodes the 48 registers of Block B (0x1000–0x102F).
Result<MeterSnapshot> decodeBlockB(std::span<const quint16> regs);
// Decodes Block A (0x0000–0x0010, 17 registers) and the force pair (0x0057–0x0058).
Result<MeterSnapshot> decodeAcrel(std::span<const quint16> blockA, std::span<const quint16> force);

// The map's names for its enums (relayStateName, …) live with the map, in mapv1.h.
using meter::v1::commandResultName;
using meter::v1::deviceTypeName;
using meter::v1::relayModeName;
using meter::v1::relayStateName;
using meter::v1::tariffSlotName;
using meter::v1::tripReasonName;

} // namespace prepay::modbus
