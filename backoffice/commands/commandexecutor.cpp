#include "commandexecutor.h"

#include "commandpayload.h"
#include "commandslog.h"

#include "api/clock.h"
#include "modbus/profile.h"
#include "store/sqlite.h"

#include <algorithm>

namespace prepay::commands {

using modbus::DriverError;
using modbus::ErrorKind;
using modbus::MeterSnapshot;
using modbus::Result;
using namespace prepay::meter::v1;

namespace {

// The frame may not have arrived, or its answer was lost on the way back: trying again later
// is the only thing to do, and safe, because every command is idempotent on the meter (modes
// and parameters are set, not toggled; a recharge is keyed by its sequence).
bool isTransient(const DriverError &e)
{
    switch (e.kind) {
    case ErrorKind::Timeout:
    case ErrorKind::ConnectionLost:
    case ErrorKind::ConnectionRefused:
    case ErrorKind::BadReply:
    case ErrorKind::Backoff:
    case ErrorKind::DescriptorTooLarge: return true;
    case ErrorKind::Exception:
        return e.exceptionCode == int(ExceptionCode::GatewayPathUnavailable)
            || e.exceptionCode == int(ExceptionCode::GatewayTargetFailedToRespond)
            || e.exceptionCode == int(ExceptionCode::ServerDeviceBusy);
    case ErrorKind::None:
    case ErrorKind::InvalidData:
    case ErrorKind::NotSupported:
    case ErrorKind::Rejected:
    case ErrorKind::InvalidArgument: return false;
    }
    Q_UNREACHABLE();
}

// Whether a Rejected error of a profile came after the meter had acknowledged the write (the
// read-back disagreed) or instead of it (the meter refused with an exception, or nothing was
// sent). The profiles say which in their messages — "refused …", "… nothing was sent" — and
// those words are part of their contract with this file (tst_commandexecutor pins both kinds).
bool writeWasAcknowledged(const DriverError &e)
{
    return e.kind == ErrorKind::Rejected && !e.message.contains(u"refused") && !e.message.contains(u"nothing was sent");
}

ExecuteResult finalResult(const CommandRow &row)
{
    ExecuteResult r;
    switch (row.state) {
    case State::Verified: r.outcome = ExecuteOutcome::Verified; break;
    case State::Cancelled: r.outcome = ExecuteOutcome::Cancelled; break;
    default: r.outcome = ExecuteOutcome::Failed; break;
    }
    r.message = row.lastError.isEmpty() ? QStringLiteral("command %1 is %2").arg(row.id).arg(stateCode(row.state))
                                        : row.lastError;
    return r;
}

QString driverText(const DriverError &e)
{
    return QStringLiteral("%1: %2").arg(e.code(), e.message);
}

} // namespace

// One attempt: the row as loaded, the attempt's number, and the transitions in the order the
// state machine allows them. Each transition that the store refuses ends the attempt without
// another frame (the row moved under us: cancelled, or driven by someone else).
class CommandExecutor::Attempt
{
public:
    Attempt(CommandExecutor &executor, CommandRow loaded, store::Connection &readerOfThread, modbus::ModbusClient &bus,
        const modbus::MeterProfile &meterProfile, quint8 unitId)
        : m_ex(executor)
        , row(std::move(loaded))
        , attemptNo(row.attempts + 1)
        , reader(readerOfThread)
        , client(bus)
        , profile(meterProfile)
        , unit(unitId)
    { }

    CommandExecutor &m_ex;
    const CommandRow row;
    const int attemptNo;
    store::Connection &reader;
    modbus::ModbusClient &client;
    const modbus::MeterProfile &profile;
    const quint8 unit;
    ExecuteResult result;

    bool sent(std::optional<quint16> seq = std::nullopt) { return m_ex.m_store.markSent(row.id, attemptNo, seq); }
    // Idempotent within the attempt: the profile may already have reported the meter's answer.
    bool acknowledged()
    {
        if (!ackMarked)
            ackMarked = m_ex.m_store.markAcknowledged(row.id);
        return ackMarked;
    }
    bool ackMarked = false;

    void keep(const MeterSnapshot &s)
    {
        result.snapshot = s;
        result.snapshotAtMs = m_ex.m_clock.wallMs();
    }

    // A read after success for the recorder; the command is done whether or not it answers.
    void readAfter()
    {
        const Result<MeterSnapshot> s = profile.readSnapshot(client, unit);
        if (s.ok())
            keep(s.value);
    }

    ExecuteResult verified(const QString &message)
    {
        if (!m_ex.m_store.markVerified(row.id))
            return stale();
        qCInfo(lcCommands, "command %lld: %s verified on unit %d (attempt %d): %s", row.id,
            qUtf8Printable(kindCode(row.kind)), unit, attemptNo, qUtf8Printable(message));
        result.outcome = ExecuteOutcome::Verified;
        result.message = message;
        return result;
    }

    ExecuteResult failed(const QString &message)
    {
        if (!m_ex.m_store.markFailed(row.id, message))
            return stale();
        qCWarning(lcCommands, "command %lld: %s failed on unit %d (attempt %d): %s", row.id,
            qUtf8Printable(kindCode(row.kind)), unit, attemptNo, qUtf8Printable(message));
        result.outcome = ExecuteOutcome::Failed;
        result.message = message;
        return result;
    }

    // The attempt did not get through: again later, unless the attempts or the deadline are
    // used up.
    ExecuteResult retry(const QString &error)
    {
        const qint64 now = m_ex.m_clock.wallMs();
        if (attemptNo >= row.maxAttempts)
            return failed(QStringLiteral("gave up after %1 attempts: %2%3").arg(attemptNo).arg(error, mayBeOut()));
        const qint64 at = now + m_ex.backoffMs(attemptNo);
        if (row.deadlineMs && at >= *row.deadlineMs)
            return failed(QStringLiteral("the deadline passes before attempt %1: %2%3")
                              .arg(attemptNo + 1)
                              .arg(error, mayBeOut()));
        if (!m_ex.m_store.scheduleRetry(row.id, attemptNo, error, at))
            return stale();
        qCInfo(lcCommands, "command %lld: %s on unit %d, attempt %d of %d did not get through (%s); next in %lld ms",
            row.id, qUtf8Printable(kindCode(row.kind)), unit, attemptNo, row.maxAttempts, qUtf8Printable(error),
            at - now);
        result.outcome = ExecuteOutcome::RetryLater;
        result.retryAtMs = at;
        result.message = error;
        return result;
    }

    // What a failed profile call means for the row: transport trouble → retry; the meter
    // refused or disagreed → failed, after recording the acknowledgement if there was one.
    ExecuteResult onError(const QString &what, const DriverError &e)
    {
        const QString text = QStringLiteral("%1: %2").arg(what, driverText(e));
        if (isTransient(e))
            return retry(text);
        if (writeWasAcknowledged(e) && !acknowledged())
            return stale();
        return failed(text);
    }

    // A recharge that may have left: whoever reads the failure must reconcile, not re-credit.
    QString mayBeOut() const
    {
        if (row.kind != Kind::Recharge)
            return {};
        const std::optional<quint16> seq = row.purchaseSeq ? row.purchaseSeq : plannedSeq;
        if (!seq)
            return QStringLiteral(" (nothing was sent)");
        return QStringLiteral(" — the frame (purchase sequence %1) may have reached the meter: compare its purchase "
                              "count and last recharge txn before crediting again")
            .arg(*seq);
    }

    // The row moved under this attempt (or the store failed): report what it is now.
    ExecuteResult stale()
    {
        store::SqlError error;
        const std::optional<CommandRow> now = m_ex.m_store.load(reader, row.id, &error);
        if (now && isFinal(now->state)) {
            ExecuteResult r = finalResult(*now);
            r.snapshot = result.snapshot;
            r.snapshotAtMs = result.snapshotAtMs;
            return r;
        }
        const qint64 at = m_ex.m_clock.wallMs() + m_ex.m_limits.retryBaseMs;
        qCWarning(lcCommands,
            "command %lld: its row moved under attempt %d (now %s) or could not be written; "
            "looking again in %lld ms",
            row.id, attemptNo, now ? qUtf8Printable(stateCode(now->state)) : "unreadable", m_ex.m_limits.retryBaseMs);
        result.outcome = ExecuteOutcome::RetryLater;
        result.retryAtMs = at;
        result.message
            = QStringLiteral("command %1 changed while it was being carried out; not sent again yet").arg(row.id);
        return result;
    }

    std::optional<quint16> plannedSeq;
};

CommandExecutor::CommandExecutor(CommandStore &store, const Clock &clock)
    : m_store(store)
    , m_clock(clock)
    , m_limits(store.readLimits())
{ }

qint64 CommandExecutor::backoffMs(int attemptNo) const
{
    qint64 wait = m_limits.retryBaseMs;
    for (int i = 1; i < attemptNo && wait < m_limits.retryMaxMs; ++i)
        wait *= 2;
    return std::min(wait, m_limits.retryMaxMs);
}

namespace {

ExecuteResult runRecharge(auto &a)
{
    if (!a.row.amountFen || !a.row.rechargeTxn) // the schema's CHECKs make this impossible
        return a.failed(QStringLiteral("the recharge row has no amount or txn"));
    Result<modbus::RechargeOutcome> done;
    // "Acknowledged" is written the moment the meter answers the mailbox write, before the
    // profile reads back; the read-back itself is the verification and goes to the recorder.
    MeterSnapshot after;
    modbus::RechargeExecution how;
    how.onAcknowledged = [&a] { a.acknowledged(); };
    how.readBack = &after;
    if (!a.row.purchaseSeq) {
        // First send: fix the sequence from the meter's purchase count, persist it, then send.
        MeterSnapshot basis;
        const Result<modbus::RechargePlan> plan
            = a.profile.planRecharge(a.client, a.unit, *a.row.amountFen, *a.row.rechargeTxn, &basis);
        if (!plan.ok())
            return a.onError(QStringLiteral("planning the recharge"), plan.error);
        a.keep(basis);
        a.plannedSeq = plan.value.sequence;
        if (!a.sent(plan.value.sequence))
            return a.stale();
        how.justRead = &basis;
        done = a.profile.executeRecharge(a.client, a.unit, plan.value, how);
    } else {
        // The sequence is fixed: the same frame again. The profile reads first and finds an
        // earlier frame applied (a lost reply, a restart) without sending anything.
        if (!a.sent(a.row.purchaseSeq))
            return a.stale();
        const modbus::RechargePlan plan{*a.row.amountFen, *a.row.rechargeTxn, *a.row.purchaseSeq};
        done = a.profile.executeRecharge(a.client, a.unit, plan, how);
    }
    if (!done.ok()) {
        if (done.error.kind == ErrorKind::Rejected
            && done.error.message.contains(u"another recharge took the sequence"))
            return a.failed(QStringLiteral("%1 — not planned again automatically: staff must compare the meter's "
                                           "purchase history with this recharge before it is issued anew")
                                .arg(driverText(done.error)));
        return a.onError(QStringLiteral("recharge"), done.error);
    }
    if (!a.acknowledged())
        return a.stale();
    const QString outcome = done.value == modbus::RechargeOutcome::Applied
        ? QStringLiteral("applied as purchase %1").arg(a.row.purchaseSeq.value_or(a.plannedSeq.value_or(0)))
        : QStringLiteral("found applied as purchase %1 (an earlier frame)")
              .arg(a.row.purchaseSeq.value_or(a.plannedSeq.value_or(0)));
    const bool afterRead = after.purchaseCount.has_value();
    if (afterRead)
        a.keep(after); // the read that showed it applied: no extra read of the line
    else
        a.result.snapshot.reset(); // the plan's read is from before the recharge
    const ExecuteResult r = a.verified(outcome);
    if (r.outcome != ExecuteOutcome::Verified)
        return r;
    if (!afterRead)
        a.readAfter();
    return a.result;
}

// Why a relay that should be closed is open, for the people who asked to close it.
QString stillOpen(quint8 unit, const MeterSnapshot &s)
{
    const quint16 status = s.statusWord.value_or(0);
    if (s.tripReason == TripReason::Arrears || (status & status::ArrearsTrip))
        return QStringLiteral("unit %1 stays tripped for arrears (balance %2 fen): recharge first; closing a "
                              "meter in arrears is not this command's business")
            .arg(unit)
            .arg(s.balanceFen.value_or(0));
    if (status & status::OverloadLockout)
        return QStringLiteral("unit %1 is locked out after overload: clear the lockout on site first").arg(unit);
    if (s.tripReason == TripReason::Overload)
        return QStringLiteral("unit %1 is tripped for overload and re-closes by itself after its recover delay")
            .arg(unit);
    if (status & status::ClosePermitPending)
        return QStringLiteral("unit %1 still waits for a close permit").arg(unit);
    return QStringLiteral("unit %1 reads relay open (trip reason %2, mode %3) after being asked to close")
        .arg(unit)
        .arg(tripReasonName(s.tripReason), relayModeName(s.relayMode));
}

ExecuteResult runRelayClose(auto &a)
{
    if (!a.sent())
        return a.stale();
    if (const DriverError e = a.profile.setRelayMode(a.client, a.unit, RelayMode::Auto); !e.ok())
        return a.onError(QStringLiteral("setting relay mode auto"), e);
    if (!a.acknowledged())
        return a.stale();
    Result<MeterSnapshot> s = a.profile.readSnapshot(a.client, a.unit);
    if (!s.ok())
        return a.onError(QStringLiteral("reading the relay"), s.error);
    a.keep(s.value);
    if (s.value.statusWord.value_or(0) & status::ClosePermitPending) {
        // close_policy "wait for permit": the balance allows it, the meter waits for us (合闸允许).
        if (const DriverError e = a.profile.relayAction(a.client, a.unit, RelayAction::ClosePermit); !e.ok())
            return a.onError(QStringLiteral("close permit"), e);
        s = a.profile.readSnapshot(a.client, a.unit);
        if (!s.ok())
            return a.onError(QStringLiteral("reading the relay"), s.error);
        a.keep(s.value);
    }
    if (s.value.relayState != RelayState::Closed)
        return a.failed(stillOpen(a.unit, s.value));
    return a.verified(QStringLiteral("relay closed, mode auto"));
}

ExecuteResult runRelayTrip(auto &a)
{
    if (!a.sent())
        return a.stale();
    if (const DriverError e = a.profile.setRelayMode(a.client, a.unit, RelayMode::ForceOff); !e.ok())
        return a.onError(QStringLiteral("setting relay mode force_off"), e);
    if (!a.acknowledged())
        return a.stale();
    const Result<MeterSnapshot> s = a.profile.readSnapshot(a.client, a.unit);
    if (!s.ok())
        return a.onError(QStringLiteral("reading the relay"), s.error);
    a.keep(s.value);
    if (s.value.relayState != RelayState::Open)
        return a.failed(QStringLiteral("unit %1 reads relay closed in mode force_off").arg(a.unit));
    return a.verified(QStringLiteral("relay open, mode force_off"));
}

// The kinds whose profile call writes and verifies by itself: sent → call → acknowledged →
// verified, then one read for the recorder.
template<typename Call>
ExecuteResult runWriteThenVerify(auto &a, const QString &what, Call call)
{
    if (!a.sent())
        return a.stale();
    if (const DriverError e = call(); !e.ok())
        return a.onError(what, e);
    if (!a.acknowledged())
        return a.stale();
    const ExecuteResult r = a.verified(what + QStringLiteral(": read back"));
    if (r.outcome != ExecuteOutcome::Verified)
        return r;
    a.readAfter();
    return a.result;
}

ExecuteResult runReadNow(auto &a)
{
    if (!a.sent())
        return a.stale();
    const Result<MeterSnapshot> s = a.profile.readSnapshot(a.client, a.unit);
    if (!s.ok())
        return a.onError(QStringLiteral("reading the meter"), s.error);
    a.keep(s.value);
    if (!a.acknowledged())
        return a.stale();
    return a.verified(QStringLiteral("read"));
}

} // namespace

ExecuteResult CommandExecutor::execute(qint64 commandId, store::Connection &reader, modbus::ModbusClient &client,
    const modbus::MeterProfile &profile, quint8 unit)
{
    store::SqlError error;
    std::optional<CommandRow> loaded = m_store.load(reader, commandId, &error);
    if (!loaded) {
        ExecuteResult r;
        if (!error.ok()) {
            r.outcome = ExecuteOutcome::RetryLater;
            r.retryAtMs = m_clock.wallMs() + m_limits.retryBaseMs;
            r.message = QStringLiteral("command %1 could not be read: %2").arg(commandId).arg(error.toString());
        } else {
            r.outcome = ExecuteOutcome::Failed;
            r.message = QStringLiteral("there is no command %1").arg(commandId);
        }
        return r;
    }
    if (isFinal(loaded->state))
        return finalResult(*loaded);

    Attempt a(*this, std::move(*loaded), reader, client, profile, unit);
    const qint64 now = m_clock.wallMs();
    if (a.row.deadlineMs && now >= *a.row.deadlineMs)
        return a.failed(QStringLiteral("the deadline passed before the meter was verified%1").arg(a.mayBeOut()));
    if (a.row.attempts >= a.row.maxAttempts) // e.g. a restart right after the last attempt
        return a.failed(QStringLiteral("no attempt left (%1 of %2 made): %3%4")
                            .arg(a.row.attempts)
                            .arg(a.row.maxAttempts)
                            .arg(a.row.lastError, a.mayBeOut()));

    switch (a.row.kind) {
    case Kind::Recharge: return runRecharge(a);
    case Kind::RelayClose: return runRelayClose(a);
    case Kind::RelayTrip: return runRelayTrip(a);
    case Kind::SetMode: {
        QString why;
        const std::optional<RelayMode> mode = modeFromPayload(a.row.payload, &why);
        if (!mode)
            return a.failed(why);
        return runWriteThenVerify(a, QStringLiteral("setting relay mode %1").arg(relayModeName(*mode)),
            [&a, mode] { return a.profile.setRelayMode(a.client, a.unit, *mode); });
    }
    case Kind::TariffPush: {
        QString why;
        const std::optional<TariffBlock> tariff = tariffFromPayload(a.row.payload, &why);
        if (!tariff)
            return a.failed(why);
        return runWriteThenVerify(a, QStringLiteral("tariff version %1").arg(tariff->version),
            [&a, &tariff] { return a.profile.pushTariff(a.client, a.unit, *tariff); });
    }
    case Kind::ThresholdPush: {
        QString why;
        const std::optional<ThresholdBlock> thresholds = thresholdsFromPayload(a.row.payload, &why);
        if (!thresholds)
            return a.failed(why);
        return runWriteThenVerify(a, QStringLiteral("thresholds"),
            [&a, &thresholds] { return a.profile.pushThresholds(a.client, a.unit, *thresholds); });
    }
    case Kind::ClockSync:
        return runWriteThenVerify(a, QStringLiteral("clock"),
            [this, &a] { return a.profile.setClock(a.client, a.unit, m_clock.wallMs() / 1000); });
    case Kind::ReadNow: return runReadNow(a);
    }
    Q_UNREACHABLE();
}

} // namespace prepay::commands
