#include "profile.h"

#include <QtCore/QStringList>

namespace prepay::modbus {

using namespace prepay::meter::v1;

namespace {

DriverError notSupported(const MeterProfile &profile, const char *operation)
{
    return DriverError::make(ErrorKind::NotSupported,
        QStringLiteral("the %1 profile cannot %2").arg(profile.name(), QLatin1StringView(operation)));
}

DriverError rejected(QString why)
{
    return DriverError::make(ErrorKind::Rejected, std::move(why));
}

template<typename T>
Result<T> failed(DriverError e)
{
    Result<T> r;
    r.error = std::move(e);
    return r;
}

bool isUncertain(const DriverError &e)
{
    // The frame may or may not have reached the meter. A gateway's 0x0B (the target did not
    // answer) and 0x0A (no path) and a busy 0x06 say nothing about whether the meter acted:
    // only a read tells.
    if (e.kind == ErrorKind::Exception) {
        return e.exceptionCode == int(ExceptionCode::GatewayTargetFailedToRespond)
            || e.exceptionCode == int(ExceptionCode::GatewayPathUnavailable)
            || e.exceptionCode == int(ExceptionCode::ServerDeviceBusy);
    }
    return e.kind == ErrorKind::Timeout || e.kind == ErrorKind::BadReply || e.kind == ErrorKind::ConnectionLost;
}

// The full v1 map.
class PrepayV1Profile final : public MeterProfile
{
public:
    QString name() const override { return QStringLiteral("prepay-v1"); }

    Result<MeterSnapshot> readSnapshot(ModbusClient &client, quint8 unit) const override
    {
        const Result<QList<quint16>> regs = client.readRegisters(unit, addr::BlockB, kBlockBCount);
        if (!regs.ok())
            return failed<MeterSnapshot>(regs.error);
        Result<MeterSnapshot> snapshot = decodeBlockB(regs.value);
        if (!snapshot.ok())
            snapshot.error.message = QStringLiteral("%1 unit %2: %3")
                                         .arg(client.endpoint().toString())
                                         .arg(unit)
                                         .arg(snapshot.error.message);
        return snapshot;
    }

    Result<RechargePlan> planRecharge(
        ModbusClient &client, quint8 unit, qint64 amountFen, quint32 txn, MeterSnapshot *basis) const override
    {
        if (amountFen < kRechargeAmountMinFen || amountFen > kRechargeAmountMaxFen)
            return failed<RechargePlan>(DriverError::make(ErrorKind::InvalidArgument,
                QStringLiteral("a recharge of %1 fen is outside 1..100000000").arg(amountFen)));
        const Result<MeterSnapshot> s = readSnapshot(client, unit);
        if (!s.ok())
            return failed<RechargePlan>(s.error);
        Result<RechargePlan> r;
        r.value.amountFen = amountFen;
        r.value.txn = txn;
        const quint16 count = *s.value.purchaseCount;
        const bool alreadyThere = s.value.lastRechargeTxn == txn && s.value.lastRechargeAmountFen == amountFen;
        // The sequence wraps 65535 → 0 like the meter's purchase count.
        r.value.sequence = alreadyThere ? count : quint16(count + 1);
        if (basis)
            *basis = s.value;
        return r;
    }

    Result<RechargeOutcome> executeRecharge(
        ModbusClient &client, quint8 unit, const RechargePlan &plan, const RechargeExecution &how) const override
    {
        if (plan.amountFen < kRechargeAmountMinFen || plan.amountFen > kRechargeAmountMaxFen)
            return failed<RechargeOutcome>(DriverError::make(ErrorKind::InvalidArgument,
                QStringLiteral("a recharge of %1 fen is outside 1..100000000").arg(plan.amountFen)));
        const QList<quint16> frame = plan.mailbox().registers();
        const auto applied = [&plan](const MeterSnapshot &s) {
            return s.purchaseCount == plan.sequence && s.lastRechargeTxn == plan.txn
                && s.lastRechargeAmountFen == plan.amountFen;
        };
        DriverError lastUncertain;
        bool sent = false;
        for (int sends = 0;; ++sends) {
            // Read before every send: after a lost reply the meter may already have applied it.
            // The first time, a read made just before (the plan's) will do.
            Result<MeterSnapshot> s;
            if (sends == 0 && how.justRead)
                s.value = *how.justRead;
            else
                s = readSnapshot(client, unit);
            if (!s.ok())
                return failed<RechargeOutcome>(s.error);
            if (applied(s.value)) {
                if (how.readBack)
                    *how.readBack = s.value;
                Result<RechargeOutcome> r;
                r.value = sent ? RechargeOutcome::Applied : RechargeOutcome::AlreadyApplied;
                return r;
            }
            if (*s.value.purchaseCount != quint16(plan.sequence - 1)) {
                return failed<RechargeOutcome>(
                    rejected(QStringLiteral("unit %1 is at purchase count %2, but recharge txn %3 "
                                            "was planned as sequence %4: another recharge took "
                                            "the sequence; nothing was sent")
                                 .arg(unit)
                                 .arg(*s.value.purchaseCount)
                                 .arg(plan.txn)
                                 .arg(plan.sequence)));
            }
            if (sends > resendsMax)
                return failed<RechargeOutcome>(lastUncertain);

            const DriverError e = client.writeRegisters(unit, addr::RechargeMailbox, frame);
            sent = true;
            if (e.ok()) {
                // Acknowledged: the read-back must show it, or the meter is lying.
                if (how.onAcknowledged)
                    how.onAcknowledged();
                const Result<MeterSnapshot> after = readSnapshot(client, unit);
                if (!after.ok())
                    return failed<RechargeOutcome>(after.error); // unknown: retry the same plan later
                if (!applied(after.value)) {
                    return failed<RechargeOutcome>(rejected(QStringLiteral("unit %1 acknowledged recharge txn %2 but "
                                                                           "reads purchase count %3")
                                                                .arg(unit)
                                                                .arg(plan.txn)
                                                                .arg(*after.value.purchaseCount)));
                }
                if (how.readBack)
                    *how.readBack = after.value;
                Result<RechargeOutcome> r;
                r.value = RechargeOutcome::Applied;
                return r;
            }
            if (isUncertain(e)) {
                lastUncertain = e; // the next read tells whether it arrived
                continue;
            }
            if (e.kind == ErrorKind::Exception) {
                const Result<MeterSnapshot> after = readSnapshot(client, unit);
                const QString result = after.ok() && after.value.lastCommandResult
                    ? commandResultName(*after.value.lastCommandResult)
                    : QStringLiteral("unknown");
                return failed<RechargeOutcome>(rejected(QStringLiteral("unit %1 refused recharge txn %2 (%3): %4")
                                                            .arg(unit)
                                                            .arg(plan.txn)
                                                            .arg(result, e.message)));
            }
            return failed<RechargeOutcome>(e); // not sent (refused, back-off): retry the same plan later
        }
    }

    DriverError setRelayMode(ModbusClient &client, quint8 unit, RelayMode mode) const override
    {
        const quint16 value = quint16(mode);
        if (DriverError e = client.writeRegisters(unit, addr::RelayMode, {&value, 1}); !e.ok())
            return e;
        const Result<MeterSnapshot> s = readSnapshot(client, unit);
        if (!s.ok())
            return s.error;
        if (s.value.relayMode != mode) {
            return rejected(QStringLiteral("unit %1 reads relay mode %2 after being set to %3")
                                .arg(unit)
                                .arg(relayModeName(s.value.relayMode), relayModeName(mode)));
        }
        return {};
    }

    DriverError relayAction(ModbusClient &client, quint8 unit, RelayAction action) const override
    {
        const quint16 value = quint16(action);
        if (DriverError e = client.writeRegisters(unit, addr::RelayAction, {&value, 1}); !e.ok())
            return e;
        const Result<MeterSnapshot> s = readSnapshot(client, unit);
        if (!s.ok())
            return s.error;
        const quint16 status = s.value.statusWord.value_or(0);
        if (action == RelayAction::ClosePermit && (status & status::ClosePermitPending))
            return rejected(QStringLiteral("unit %1 still waits for a close permit").arg(unit));
        if (action == RelayAction::ClearOverloadLockout && (status & status::OverloadLockout))
            return rejected(QStringLiteral("unit %1 is still locked out after overload").arg(unit));
        return {};
    }

    DriverError pushTariff(ModbusClient &client, quint8 unit, const TariffBlock &tariff) const override
    {
        QString why;
        const QList<quint16> regs = tariff.registers();
        if (!TariffBlock::fromRegisters(regs, &why))
            return DriverError::make(ErrorKind::InvalidArgument, QStringLiteral("tariff not valid: %1").arg(why));
        if (DriverError e = client.writeRegisters(unit, addr::Tariff, regs); !e.ok()) {
            if (e.kind == ErrorKind::Exception && e.exceptionCode == int(ExceptionCode::IllegalDataValue))
                return rejected(QStringLiteral("unit %1 refused tariff version %2: %3")
                                    .arg(unit)
                                    .arg(tariff.version)
                                    .arg(e.message));
            return e;
        }
        const Result<TariffBlock> back = readTariff(client, unit);
        if (!back.ok())
            return back.error;
        if (!(back.value == tariff))
            return rejected(QStringLiteral("unit %1 reads back a different tariff than was written").arg(unit));
        const Result<MeterSnapshot> s = readSnapshot(client, unit);
        if (!s.ok())
            return s.error;
        if (s.value.tariffVersionActive != tariff.version) {
            return rejected(QStringLiteral("unit %1 runs tariff version %2, not %3")
                                .arg(unit)
                                .arg(s.value.tariffVersionActive.value_or(0))
                                .arg(tariff.version));
        }
        return {};
    }

    Result<TariffBlock> readTariff(ModbusClient &client, quint8 unit) const override
    {
        const Result<QList<quint16>> regs = client.readRegisters(unit, addr::Tariff, kTariffCount);
        if (!regs.ok())
            return failed<TariffBlock>(regs.error);
        QString why;
        const std::optional<TariffBlock> t = TariffBlock::fromRegisters(regs.value, &why);
        if (!t)
            return failed<TariffBlock>(
                DriverError::make(ErrorKind::InvalidData, QStringLiteral("unit %1 tariff: %2").arg(unit).arg(why)));
        Result<TariffBlock> r;
        r.value = *t;
        return r;
    }

    DriverError pushThresholds(ModbusClient &client, quint8 unit, const ThresholdBlock &thresholds) const override
    {
        QString why;
        const QList<quint16> regs = thresholds.registers();
        if (!ThresholdBlock::fromRegisters(regs, &why))
            return DriverError::make(ErrorKind::InvalidArgument, QStringLiteral("thresholds not valid: %1").arg(why));
        if (DriverError e = client.writeRegisters(unit, addr::Thresholds, regs); !e.ok()) {
            if (e.kind == ErrorKind::Exception && e.exceptionCode == int(ExceptionCode::IllegalDataValue))
                return rejected(QStringLiteral("unit %1 refused the thresholds: %2").arg(unit).arg(e.message));
            return e;
        }
        const Result<ThresholdBlock> back = readThresholds(client, unit);
        if (!back.ok())
            return back.error;
        if (!(back.value == thresholds))
            return rejected(QStringLiteral("unit %1 reads back different thresholds than were written").arg(unit));
        return {};
    }

    Result<ThresholdBlock> readThresholds(ModbusClient &client, quint8 unit) const override
    {
        const Result<QList<quint16>> regs = client.readRegisters(unit, addr::Thresholds, kThresholdsCount);
        if (!regs.ok())
            return failed<ThresholdBlock>(regs.error);
        QString why;
        const std::optional<ThresholdBlock> t = ThresholdBlock::fromRegisters(regs.value, &why);
        if (!t)
            return failed<ThresholdBlock>(
                DriverError::make(ErrorKind::InvalidData, QStringLiteral("unit %1 thresholds: %2").arg(unit).arg(why)));
        Result<ThresholdBlock> r;
        r.value = *t;
        return r;
    }

    DriverError setClock(ModbusClient &client, quint8 unit, qint64 unixSeconds) const override
    {
        if (unixSeconds < 0 || unixSeconds > 0xFFFFFFFFll)
            return DriverError::make(
                ErrorKind::InvalidArgument, QStringLiteral("%1 is not a 32-bit Unix time").arg(unixSeconds));
        const quint32 t = quint32(unixSeconds);
        const quint16 regs[] = {high(t), low(t)};
        if (DriverError e = client.writeRegisters(unit, addr::SetTime, regs); !e.ok())
            return e;
        const Result<MeterSnapshot> s = readSnapshot(client, unit);
        if (!s.ok())
            return s.error;
        if (!s.value.meterTimeS || qAbs(*s.value.meterTimeS - unixSeconds) > clockToleranceS)
            return rejected(QStringLiteral("unit %1 reads time %2 after being set to %3")
                                .arg(unit)
                                .arg(s.value.meterTimeS.value_or(0))
                                .arg(unixSeconds));
        return {};
    }
};

// Acrel meters in remote fee control: energies and the force relay only.
class AcrelRemoteProfile final : public MeterProfile
{
public:
    QString name() const override { return QStringLiteral("acrel-remote"); }

    Result<MeterSnapshot> readSnapshot(ModbusClient &client, quint8 unit) const override
    {
        const Result<QList<quint16>> block = client.readRegisters(unit, addr::AcrelEnergyTotal, kAcrelBlockCount);
        if (!block.ok())
            return failed<MeterSnapshot>(block.error);
        const Result<QList<quint16>> force = client.readRegisters(unit, addr::AcrelForceEnable, 2);
        if (!force.ok())
            return failed<MeterSnapshot>(force.error);
        return decodeAcrel(block.value, force.value);
    }

    DriverError setRelayMode(ModbusClient &client, quint8 unit, RelayMode mode) const override
    {
        // (0x0057, 0x0058): (0, x) release force, (1, 0) force close, (1, 1) force trip.
        const quint16 regs[] = {quint16(mode == RelayMode::Auto ? 0 : 1), quint16(mode == RelayMode::ForceOff ? 1 : 0)};
        if (DriverError e = client.writeRegisters(unit, addr::AcrelForceEnable, regs); !e.ok())
            return e;
        const Result<MeterSnapshot> s = readSnapshot(client, unit);
        if (!s.ok())
            return s.error;
        if (s.value.relayMode != mode)
            return rejected(QStringLiteral("unit %1 reads relay mode %2 after being set to %3")
                                .arg(unit)
                                .arg(relayModeName(s.value.relayMode), relayModeName(mode)));
        return {};
    }
};

const PrepayV1Profile prepayV1;
const AcrelRemoteProfile acrelRemote;

} // namespace

RechargeMailbox RechargePlan::mailbox() const
{
    return RechargeMailbox{quint32(amountFen), sequence, txn};
}

Result<RechargePlan> MeterProfile::planRecharge(
    ModbusClient &client, quint8 unit, qint64 amountFen, quint32 txn, MeterSnapshot *basis) const
{
    Q_UNUSED(basis);
    Q_UNUSED(client);
    Q_UNUSED(unit);
    Q_UNUSED(amountFen);
    Q_UNUSED(txn);
    return failed<RechargePlan>(notSupported(*this, "recharge"));
}

Result<RechargeOutcome> MeterProfile::executeRecharge(
    ModbusClient &client, quint8 unit, const RechargePlan &plan, const RechargeExecution &how) const
{
    Q_UNUSED(how);
    Q_UNUSED(client);
    Q_UNUSED(unit);
    Q_UNUSED(plan);
    return failed<RechargeOutcome>(notSupported(*this, "recharge"));
}

DriverError MeterProfile::relayAction(ModbusClient &, quint8, RelayAction) const
{
    return notSupported(*this, "take relay actions");
}

DriverError MeterProfile::pushTariff(ModbusClient &, quint8, const TariffBlock &) const
{
    return notSupported(*this, "hold a tariff");
}

Result<TariffBlock> MeterProfile::readTariff(ModbusClient &, quint8) const
{
    return failed<TariffBlock>(notSupported(*this, "hold a tariff"));
}

DriverError MeterProfile::pushThresholds(ModbusClient &, quint8, const ThresholdBlock &) const
{
    return notSupported(*this, "hold thresholds");
}

Result<ThresholdBlock> MeterProfile::readThresholds(ModbusClient &, quint8) const
{
    return failed<ThresholdBlock>(notSupported(*this, "hold thresholds"));
}

DriverError MeterProfile::setClock(ModbusClient &, quint8, qint64) const
{
    return notSupported(*this, "set its clock");
}

const MeterProfile *profileNamed(QStringView name)
{
    if (name == prepayV1.name())
        return &prepayV1;
    if (name == acrelRemote.name())
        return &acrelRemote;
    return nullptr;
}

QStringList profileNames()
{
    return {prepayV1.name(), acrelRemote.name()};
}

} // namespace prepay::modbus
