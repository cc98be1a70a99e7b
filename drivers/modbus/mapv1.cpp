#include "mapv1.h"

#include <QtCore/QtEndian>

#include <algorithm>

namespace prepay::meter::v1 {

namespace {

// Generated once from ../shared/meters/prepay-meter-map-v1.csv; tst_meter_map checks it
// against that file.
constexpr Field kFields[] = {
    {0x0000, 2, "acrel_energy_total", Type::U32, Access::ReadOnly, 'A'},
    {0x0002, 2, "acrel_energy_sharp", Type::U32, Access::ReadOnly, 'A'},
    {0x0004, 2, "acrel_energy_peak", Type::U32, Access::ReadOnly, 'A'},
    {0x0006, 2, "acrel_energy_flat", Type::U32, Access::ReadOnly, 'A'},
    {0x0008, 2, "acrel_energy_valley", Type::U32, Access::ReadOnly, 'A'},
    {0x000A, 1, "acrel_password", Type::U16, Access::ReadWrite, 'A'},
    {0x000B, 1, "acrel_voltage", Type::U16, Access::ReadOnly, 'A'},
    {0x000C, 1, "acrel_current", Type::U16, Access::ReadOnly, 'A'},
    {0x000D, 1, "acrel_active_power", Type::I16, Access::ReadOnly, 'A'},
    {0x000E, 1, "acrel_reactive_power", Type::I16, Access::ReadOnly, 'A'},
    {0x000F, 1, "acrel_apparent_power", Type::U16, Access::ReadOnly, 'A'},
    {0x0010, 1, "acrel_power_factor", Type::I16, Access::ReadOnly, 'A'},
    {0x0057, 1, "acrel_force_enable", Type::U16, Access::ReadWrite, 'A'},
    {0x0058, 1, "acrel_force_state", Type::U16, Access::ReadWrite, 'A'},
    {0x1000, 1, "map_version", Type::U16, Access::ReadOnly, 'B'},
    {0x1001, 1, "device_type", Type::U16, Access::ReadOnly, 'B'},
    {0x1002, 2, "serial_number", Type::U32, Access::ReadOnly, 'B'},
    {0x1004, 1, "status_word", Type::U16, Access::ReadOnly, 'B'},
    {0x1005, 1, "relay_state", Type::U16, Access::ReadOnly, 'B'},
    {0x1006, 1, "trip_reason", Type::U16, Access::ReadOnly, 'B'},
    {0x1007, 1, "purchase_count", Type::U16, Access::ReadOnly, 'B'},
    {0x1008, 2, "balance", Type::I32, Access::ReadOnly, 'B'},
    {0x100A, 2, "total_purchased", Type::U32, Access::ReadOnly, 'B'},
    {0x100C, 2, "last_recharge_amount", Type::U32, Access::ReadOnly, 'B'},
    {0x100E, 2, "last_recharge_txn", Type::U32, Access::ReadOnly, 'B'},
    {0x1010, 2, "energy_total", Type::U32, Access::ReadOnly, 'B'},
    {0x1012, 2, "energy_sharp", Type::U32, Access::ReadOnly, 'B'},
    {0x1014, 2, "energy_peak", Type::U32, Access::ReadOnly, 'B'},
    {0x1016, 2, "energy_flat", Type::U32, Access::ReadOnly, 'B'},
    {0x1018, 2, "energy_valley", Type::U32, Access::ReadOnly, 'B'},
    {0x101A, 2, "active_power_total", Type::I32, Access::ReadOnly, 'B'},
    {0x101C, 1, "voltage_a", Type::U16, Access::ReadOnly, 'B'},
    {0x101D, 1, "voltage_b", Type::U16, Access::ReadOnly, 'B'},
    {0x101E, 1, "voltage_c", Type::U16, Access::ReadOnly, 'B'},
    {0x101F, 1, "current_a", Type::U16, Access::ReadOnly, 'B'},
    {0x1020, 1, "current_b", Type::U16, Access::ReadOnly, 'B'},
    {0x1021, 1, "current_c", Type::U16, Access::ReadOnly, 'B'},
    {0x1022, 1, "power_factor", Type::I16, Access::ReadOnly, 'B'},
    {0x1023, 1, "frequency", Type::U16, Access::ReadOnly, 'B'},
    {0x1024, 1, "tariff_version_active", Type::U16, Access::ReadOnly, 'B'},
    {0x1025, 1, "current_tariff_index", Type::U16, Access::ReadOnly, 'B'},
    {0x1026, 2, "meter_time", Type::U32, Access::ReadOnly, 'B'},
    {0x1028, 1, "last_cmd_result", Type::U16, Access::ReadOnly, 'B'},
    {0x1029, 1, "overload_trip_count", Type::U16, Access::ReadOnly, 'B'},
    {0x102A, 2, "consumed_money_total", Type::U32, Access::ReadOnly, 'B'},
    {0x102C, 4, "reserved_b", Type::U16, Access::ReadOnly, 'B'},
    {0x1100, 2, "rc_amount", Type::U32, Access::WriteOnly, 'C'},
    {0x1102, 1, "rc_seq", Type::U16, Access::WriteOnly, 'C'},
    {0x1103, 2, "rc_txn", Type::U32, Access::WriteOnly, 'C'},
    {0x1105, 1, "rc_check", Type::U16, Access::WriteOnly, 'C'},
    {0x1110, 1, "relay_mode", Type::U16, Access::ReadWrite, 'C'},
    {0x1111, 1, "relay_action", Type::U16, Access::WriteOnly, 'C'},
    {0x1200, 2, "price_sharp", Type::U32, Access::ReadWrite, 'D'},
    {0x1202, 2, "price_peak", Type::U32, Access::ReadWrite, 'D'},
    {0x1204, 2, "price_flat", Type::U32, Access::ReadWrite, 'D'},
    {0x1206, 2, "price_valley", Type::U32, Access::ReadWrite, 'D'},
    {0x1208, 1, "tariff_version", Type::U16, Access::ReadWrite, 'D'},
    {0x1209, 1, "tou_count", Type::U16, Access::ReadWrite, 'D'},
    {0x120A, 16, "tou_segments", Type::U16, Access::ReadWrite, 'D'},
    {0x1220, 2, "alarm1_threshold", Type::U32, Access::ReadWrite, 'D'},
    {0x1222, 2, "alarm2_threshold", Type::U32, Access::ReadWrite, 'D'},
    {0x1224, 2, "overdraft_limit", Type::U32, Access::ReadWrite, 'D'},
    {0x1226, 2, "overload_limit", Type::U32, Access::ReadWrite, 'D'},
    {0x1228, 1, "overload_delay", Type::U16, Access::ReadWrite, 'D'},
    {0x1229, 1, "overload_recover_delay", Type::U16, Access::ReadWrite, 'D'},
    {0x122A, 1, "overload_max_trips", Type::U16, Access::ReadWrite, 'D'},
    {0x122B, 1, "close_policy", Type::U16, Access::ReadWrite, 'D'},
    {0x1300, 2, "set_time", Type::U32, Access::ReadWrite, 'E'},
};

} // namespace

std::span<const Field> fields()
{
    return kFields;
}

const Field *fieldAt(quint16 address)
{
    for (const Field &f : kFields) {
        if (address >= f.address && address < f.address + f.count)
            return &f;
    }
    return nullptr;
}

const Field *fieldNamed(QStringView name)
{
    for (const Field &f : kFields) {
        if (name == QLatin1StringView(f.name))
            return &f;
    }
    return nullptr;
}

quint16 crc16(QByteArrayView bytes)
{
    quint16 crc = 0xFFFF;
    for (const char c : bytes) {
        crc ^= quint8(c);
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1) ? quint16((crc >> 1) ^ 0xA001) : quint16(crc >> 1);
    }
    return crc;
}

quint16 RechargeMailbox::check() const
{
    char bytes[10];
    qToBigEndian(amountFen, bytes);
    qToBigEndian(sequence, bytes + 4);
    qToBigEndian(txn, bytes + 6);
    return crc16(QByteArrayView(bytes, sizeof bytes));
}

QList<quint16> RechargeMailbox::registers() const
{
    return {high(amountFen), low(amountFen), sequence, high(txn), low(txn), check()};
}

std::optional<RechargeMailbox> RechargeMailbox::fromRegisters(std::span<const quint16> regs)
{
    if (regs.size() != kRechargeMailboxCount)
        return std::nullopt;
    RechargeMailbox m{u32(regs[0], regs[1]), regs[2], u32(regs[3], regs[4])};
    if (m.check() != regs[5])
        return std::nullopt;
    return m;
}

QList<quint16> TariffBlock::registers() const
{
    QList<quint16> r;
    r.reserve(kTariffCount);
    for (quint32 price : prices)
        r << high(price) << low(price);
    r << version << quint16(segments.size());
    for (int i = 0; i < kTouSegmentsMax; ++i) {
        if (i < segments.size())
            r << segments[i].first << quint16(segments[i].second);
        else
            r << 0 << 0;
    }
    return r;
}

std::optional<TariffBlock> TariffBlock::fromRegisters(std::span<const quint16> regs, QString *why)
{
    const auto fail = [why](QString text) -> std::optional<TariffBlock> {
        if (why)
            *why = std::move(text);
        return std::nullopt;
    };
    if (regs.size() != kTariffCount)
        return fail(QStringLiteral("the tariff block is %1 registers, not %2").arg(kTariffCount).arg(regs.size()));
    TariffBlock t;
    for (int i = 0; i < 4; ++i) {
        t.prices[i] = u32(regs[2 * i], regs[2 * i + 1]);
        if (t.prices[i] == 0)
            return fail(QStringLiteral("price %1 is 0").arg(i));
    }
    t.version = regs[8];
    if (t.version == 0)
        return fail(QStringLiteral("version 0 reads as \"not configured\"; a tariff needs a version"));
    const int count = regs[9];
    if (count < 1 || count > kTouSegmentsMax)
        return fail(QStringLiteral("tou_count %1 is not in 1..%2").arg(count).arg(kTouSegmentsMax));
    for (int i = 0; i < count; ++i) {
        const quint16 start = regs[10 + 2 * i];
        const quint16 slot = regs[11 + 2 * i];
        if (slot > 3)
            return fail(QStringLiteral("segment %1 has tariff index %2, not 0..3").arg(i).arg(slot));
        if (start >= 1440)
            return fail(QStringLiteral("segment %1 starts at minute %2, not 0..1439").arg(i).arg(start));
        if (i == 0 && start != 0)
            return fail(QStringLiteral("the first segment starts at minute %1, not 0").arg(start));
        if (i > 0 && start <= t.segments.last().first)
            return fail(QStringLiteral("segment %1 does not start after segment %2").arg(i).arg(i - 1));
        t.segments.append({start, TariffSlot(slot)});
    }
    return t;
}

QList<quint16> ThresholdBlock::registers() const
{
    return {high(alarm1Fen), low(alarm1Fen), high(alarm2Fen), low(alarm2Fen), high(overdraftLimitFen),
        low(overdraftLimitFen), high(overloadLimitW), low(overloadLimitW), overloadDelayS, overloadRecoverDelayS,
        overloadMaxTrips, quint16(closePolicy)};
}

std::optional<ThresholdBlock> ThresholdBlock::fromRegisters(std::span<const quint16> regs, QString *why)
{
    const auto fail = [why](QString text) -> std::optional<ThresholdBlock> {
        if (why)
            *why = std::move(text);
        return std::nullopt;
    };
    if (regs.size() != kThresholdsCount)
        return fail(
            QStringLiteral("the threshold block is %1 registers, not %2").arg(kThresholdsCount).arg(regs.size()));
    ThresholdBlock t;
    t.alarm1Fen = u32(regs[0], regs[1]);
    t.alarm2Fen = u32(regs[2], regs[3]);
    t.overdraftLimitFen = u32(regs[4], regs[5]);
    t.overloadLimitW = u32(regs[6], regs[7]);
    t.overloadDelayS = regs[8];
    t.overloadRecoverDelayS = regs[9];
    t.overloadMaxTrips = regs[10];
    if (regs[11] > 1)
        return fail(QStringLiteral("close_policy %1 is not 0 or 1").arg(regs[11]));
    t.closePolicy = ClosePolicy(regs[11]);
    if (t.alarm2Fen > t.alarm1Fen)
        return fail(QStringLiteral("alarm2 (%1 fen) is above alarm1 (%2 fen)").arg(t.alarm2Fen).arg(t.alarm1Fen));
    if (t.overloadMaxTrips == 0)
        return fail(QStringLiteral("overload_max_trips 0 would lock out without a trip"));
    return t;
}

QString relayStateName(RelayState state)
{
    return state == RelayState::Closed ? QStringLiteral("closed") : QStringLiteral("open");
}

QString relayModeName(RelayMode mode)
{
    switch (mode) {
    case RelayMode::Auto: return QStringLiteral("auto");
    case RelayMode::ForceOn: return QStringLiteral("force_on");
    case RelayMode::ForceOff: return QStringLiteral("force_off");
    }
    Q_UNREACHABLE();
}

QString tripReasonName(TripReason reason)
{
    switch (reason) {
    case TripReason::None: return QStringLiteral("none");
    case TripReason::Arrears: return QStringLiteral("arrears");
    case TripReason::Overload: return QStringLiteral("overload");
    case TripReason::ForcedOff: return QStringLiteral("forced_off");
    case TripReason::MalignantLoad: return QStringLiteral("malignant_load");
    case TripReason::TimeControl: return QStringLiteral("time_control");
    }
    Q_UNREACHABLE();
}

QString tariffSlotName(TariffSlot slot)
{
    static const char *const names[] = {"sharp", "peak", "flat", "valley"};
    return QLatin1StringView(names[int(slot)]);
}

QString commandResultName(CommandResult result)
{
    static const char *const names[] = {"none", "recharge_applied", "recharge_duplicate", "recharge_rejected_sequence",
        "recharge_rejected_check", "recharge_rejected_amount", "relay_mode_set", "close_permit_accepted",
        "parameters_updated", "parameters_rejected"};
    return QLatin1StringView(names[int(result)]);
}

QString deviceTypeName(DeviceType type)
{
    return type == DeviceType::ThreePhase ? QStringLiteral("three_phase") : QStringLiteral("single_phase");
}

} // namespace prepay::meter::v1
