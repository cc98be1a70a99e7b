// The prepay meter map v1 (../shared/meters/prepay-meter-map-v1.md): the register contract
// that the driver (drivers/modbus) speaks and the simulator (drivers/sim) implements. This
// header is the map in code — addresses, the field table, enums, status bits, the recharge
// mailbox check — and nothing else: no I/O, no libmodbus. A test compares the field table with
// the shared CSV, so the two cannot drift apart.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <array>
#include <optional>
#include <span>
#include <utility>

namespace prepay::meter::v1 {

inline constexpr quint16 kMapVersion = 0x0100; // register 0x1000

// ---- Modbus protocol limits -----------------------------------------------------------------
inline constexpr int kReadQuantityMax = 125;  // FC 0x03
inline constexpr int kWriteQuantityMax = 123; // FC 0x10

enum FunctionCode : quint8 {
    ReadHoldingRegisters = 0x03,
    WriteSingleRegister = 0x06,
    WriteMultipleRegisters = 0x10,
};

enum class ExceptionCode : quint8 {
    IllegalFunction = 0x01,
    IllegalDataAddress = 0x02,
    IllegalDataValue = 0x03,
    ServerDeviceFailure = 0x04,
    ServerDeviceBusy = 0x06,
    GatewayPathUnavailable = 0x0A,
    GatewayTargetFailedToRespond = 0x0B,
};

// ---- The field table ------------------------------------------------------------------------
enum class Type : quint8 {
    U16,
    I16,
    U32,
    I32
};
enum class Access : quint8 {
    ReadOnly,
    ReadWrite,
    WriteOnly
};

struct Field
{
    quint16 address;
    quint8 count;     // registers (2 for 32-bit values; 16 for tou_segments, 4 for reserved_b)
    const char *name; // as in the map
    Type type;
    Access access;
    char block; // 'A'..'E'
};

// Every field of the map, in address order.
std::span<const Field> fields();
// The field that contains `address`, or nullptr for a hole.
const Field *fieldAt(quint16 address);
const Field *fieldNamed(QStringView name);

// ---- Addresses used by name -----------------------------------------------------------------
namespace addr {
inline constexpr quint16 AcrelEnergyTotal = 0x0000;
inline constexpr quint16 AcrelVoltage = 0x000B;
inline constexpr quint16 AcrelPowerFactor = 0x0010;
inline constexpr quint16 AcrelForceEnable = 0x0057; // write 0x0057–0x0058 together
inline constexpr quint16 AcrelForceState = 0x0058;

inline constexpr quint16 BlockB = 0x1000; // the poll block: one FC 0x03 of BlockBCount
inline constexpr quint16 MapVersion = 0x1000;
inline constexpr quint16 DeviceType = 0x1001;
inline constexpr quint16 SerialNumber = 0x1002;
inline constexpr quint16 StatusWord = 0x1004;
inline constexpr quint16 RelayState = 0x1005;
inline constexpr quint16 TripReason = 0x1006;
inline constexpr quint16 PurchaseCount = 0x1007;
inline constexpr quint16 Balance = 0x1008;
inline constexpr quint16 TotalPurchased = 0x100A;
inline constexpr quint16 LastRechargeAmount = 0x100C;
inline constexpr quint16 LastRechargeTxn = 0x100E;
inline constexpr quint16 EnergyTotal = 0x1010;
inline constexpr quint16 EnergySharp = 0x1012;
inline constexpr quint16 EnergyPeak = 0x1014;
inline constexpr quint16 EnergyFlat = 0x1016;
inline constexpr quint16 EnergyValley = 0x1018;
inline constexpr quint16 ActivePowerTotal = 0x101A;
inline constexpr quint16 VoltageA = 0x101C;
inline constexpr quint16 CurrentA = 0x101F;
inline constexpr quint16 PowerFactor = 0x1022;
inline constexpr quint16 Frequency = 0x1023;
inline constexpr quint16 TariffVersionActive = 0x1024;
inline constexpr quint16 CurrentTariffIndex = 0x1025;
inline constexpr quint16 MeterTime = 0x1026;
inline constexpr quint16 LastCmdResult = 0x1028;
inline constexpr quint16 OverloadTripCount = 0x1029;
inline constexpr quint16 ConsumedMoneyTotal = 0x102A;

inline constexpr quint16 RechargeMailbox = 0x1100; // FC 0x10, exactly RechargeMailboxCount
inline constexpr quint16 RelayMode = 0x1110;
inline constexpr quint16 RelayAction = 0x1111;

inline constexpr quint16 Tariff = 0x1200; // FC 0x10, exactly TariffCount
inline constexpr quint16 PriceSharp = 0x1200;
inline constexpr quint16 TariffVersion = 0x1208;
inline constexpr quint16 TouCount = 0x1209;
inline constexpr quint16 TouSegments = 0x120A;
inline constexpr quint16 Thresholds = 0x1220; // FC 0x10, up to ThresholdsCount
inline constexpr quint16 Alarm1Threshold = 0x1220;
inline constexpr quint16 Alarm2Threshold = 0x1222;
inline constexpr quint16 OverdraftLimit = 0x1224;
inline constexpr quint16 OverloadLimit = 0x1226;
inline constexpr quint16 OverloadDelay = 0x1228;
inline constexpr quint16 OverloadRecoverDelay = 0x1229;
inline constexpr quint16 OverloadMaxTrips = 0x122A;
inline constexpr quint16 ClosePolicy = 0x122B;
inline constexpr quint16 SetTime = 0x1300;
} // namespace addr

inline constexpr int kBlockBCount = 48;         // 0x1000–0x102F
inline constexpr int kAcrelBlockCount = 17;     // 0x0000–0x0010
inline constexpr int kRechargeMailboxCount = 6; // 0x1100–0x1105
inline constexpr int kTariffCount = 26;         // 0x1200–0x1219
inline constexpr int kThresholdsCount = 12;     // 0x1220–0x122B
inline constexpr int kTouSegmentsMax = 8;

// ---- Enums ----------------------------------------------------------------------------------
enum class DeviceType : quint16 {
    SinglePhase = 1,
    ThreePhase = 3
};
enum class RelayState : quint16 {
    Closed = 0,
    Open = 1
};
enum class TripReason : quint16 {
    None = 0,
    Arrears = 1,
    Overload = 2,
    ForcedOff = 3,
    MalignantLoad = 4,
    TimeControl = 5
};
enum class RelayMode : quint16 {
    Auto = 0,
    ForceOn = 1,
    ForceOff = 2
};
enum class RelayAction : quint16 {
    ClosePermit = 1,
    ClearOverloadLockout = 2
};
enum class TariffSlot : quint16 {
    Sharp = 0,
    Peak = 1,
    Flat = 2,
    Valley = 3
};
enum class ClosePolicy : quint16 {
    AutoClose = 0,
    WaitForPermit = 1
};

enum class CommandResult : quint16 {
    None = 0,
    RechargeApplied = 1,
    RechargeDuplicate = 2,
    RechargeRejectedSequence = 3,
    RechargeRejectedCheck = 4,
    RechargeRejectedAmount = 5,
    RelayModeSet = 6,
    ClosePermitAccepted = 7,
    ParametersUpdated = 8,
    ParametersRejected = 9,
};

// status_word (0x1004) bits.
namespace status {
inline constexpr quint16 RelayOpen = 1u << 0;
inline constexpr quint16 Forced = 1u << 1;
inline constexpr quint16 ArrearsTrip = 1u << 2;
inline constexpr quint16 Alarm1 = 1u << 3;
inline constexpr quint16 Alarm2 = 1u << 4;
inline constexpr quint16 Overdraft = 1u << 5;
inline constexpr quint16 OverloadTrip = 1u << 6;
inline constexpr quint16 OverloadLockout = 1u << 7;
inline constexpr quint16 ClosePermitPending = 1u << 8;
inline constexpr quint16 ClockNotSet = 1u << 9;
inline constexpr quint16 TariffNotConfigured = 1u << 10;
inline constexpr quint16 DefinedBits = 0x07FF; // bits 11–15 are reserved and read 0
} // namespace status

// The enums' names in logs, JSON and the control API (lower_snake_case, stable).
QString deviceTypeName(DeviceType type);         // "single_phase", "three_phase"
QString relayStateName(RelayState state);        // "closed", "open"
QString relayModeName(RelayMode mode);           // "auto", "force_on", "force_off"
QString tripReasonName(TripReason reason);       // "none", "arrears", …
QString tariffSlotName(TariffSlot slot);         // "sharp", "peak", "flat", "valley"
QString commandResultName(CommandResult result); // "recharge_applied", …

// ---- Values -----------------------------------------------------------------------------------
inline constexpr qint64 kRechargeAmountMinFen = 1;
inline constexpr qint64 kRechargeAmountMaxFen = 100'000'000;
inline constexpr qint64 kWhPerEnergyUnit = 10; // energy registers count 0.01 kWh

// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF): the RTU frame check and rc_check.
quint16 crc16(QByteArrayView bytes);

// 32-bit values occupy two registers, high word first.
inline quint32 u32(quint16 high, quint16 low)
{
    return (quint32(high) << 16) | low;
}
inline qint32 i32(quint16 high, quint16 low)
{
    return qint32(u32(high, low));
}
inline quint16 high(quint32 v)
{
    return quint16(v >> 16);
}
inline quint16 low(quint32 v)
{
    return quint16(v & 0xFFFF);
}

struct RechargeMailbox
{
    quint32 amountFen = 0;
    quint16 sequence = 0;
    quint32 txn = 0;

    // The six registers of one FC 0x10 at 0x1100, rc_check included.
    QList<quint16> registers() const;
    // rc_check: CRC-16/MODBUS over the 10 big-endian bytes of amount, seq and txn.
    quint16 check() const;
    // Reads the six registers back; nullopt when rc_check does not match.
    static std::optional<RechargeMailbox> fromRegisters(std::span<const quint16> regs);
};

// Block D, tariff part (0x1200–0x1219, written in one FC 0x10 of kTariffCount registers).
struct TariffBlock
{
    std::array<quint32, 4> prices{}; // by TariffSlot, 0.0001 yuan/kWh
    quint16 version = 0;
    QList<std::pair<quint16, TariffSlot>> segments; // (start minute of day, slot), ascending, first at 0

    QList<quint16> registers() const;
    // Decodes and validates what a meter accepts: a version other than 0 (0 reads as "not
    // configured"), 1..8 segments, ascending starts < 1440, first start 0, slot indexes 0..3,
    // prices > 0. nullopt + *why otherwise.
    static std::optional<TariffBlock> fromRegisters(std::span<const quint16> regs, QString *why = nullptr);
    bool operator==(const TariffBlock &) const = default;
};

// Block D, thresholds part (0x1220–0x122B). The defaults are a new meter's factory settings.
struct ThresholdBlock
{
    quint32 alarm1Fen = 5000;
    quint32 alarm2Fen = 2000; // ≤ alarm1
    quint32 overdraftLimitFen = 0;
    quint32 overloadLimitW = 0; // 0 = disabled
    quint16 overloadDelayS = 10;
    quint16 overloadRecoverDelayS = 60;
    quint16 overloadMaxTrips = 3; // ≥ 1: "lock out after 0 trips" would never re-close
    ClosePolicy closePolicy = ClosePolicy::AutoClose;

    // Decodes and validates what a meter accepts: alarm2 ≤ alarm1, at least one trip before
    // lockout, close_policy 0 or 1.
    QList<quint16> registers() const;
    static std::optional<ThresholdBlock> fromRegisters(std::span<const quint16> regs, QString *why = nullptr);
    bool operator==(const ThresholdBlock &) const = default;
};

} // namespace prepay::meter::v1
