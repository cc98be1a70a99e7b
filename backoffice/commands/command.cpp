#include "command.h"

namespace prepay::commands {

QString kindCode(Kind kind)
{
    switch (kind) {
    case Kind::Recharge: return QStringLiteral("recharge");
    case Kind::RelayClose: return QStringLiteral("relay_close");
    case Kind::RelayTrip: return QStringLiteral("relay_trip");
    case Kind::SetMode: return QStringLiteral("set_mode");
    case Kind::TariffPush: return QStringLiteral("tariff_push");
    case Kind::ThresholdPush: return QStringLiteral("threshold_push");
    case Kind::ClockSync: return QStringLiteral("clock_sync");
    case Kind::ReadNow: return QStringLiteral("read_now");
    }
    Q_UNREACHABLE();
}

std::optional<Kind> kindFromCode(QStringView code)
{
    for (Kind k : {Kind::Recharge, Kind::RelayClose, Kind::RelayTrip, Kind::SetMode, Kind::TariffPush,
             Kind::ThresholdPush, Kind::ClockSync, Kind::ReadNow}) {
        if (code == kindCode(k))
            return k;
    }
    return std::nullopt;
}

int priorityOf(Kind kind, const QJsonObject &payload)
{
    // A shop waiting in the dark after paying comes first: a recharge, a close and 保电
    // (force_on) all give supply back. Taking supply away (trip, force_off, back to auto, which
    // may trip an arrears meter) comes next; parameters after that; a read last.
    switch (kind) {
    case Kind::Recharge:
    case Kind::RelayClose: return 0;
    case Kind::SetMode: return payload.value(QLatin1StringView("mode")).toString() == u"force_on" ? 0 : 1;
    case Kind::RelayTrip: return 1;
    case Kind::TariffPush:
    case Kind::ThresholdPush:
    case Kind::ClockSync: return 2;
    case Kind::ReadNow: return 3;
    }
    Q_UNREACHABLE();
}

QString stateCode(State state)
{
    switch (state) {
    case State::Queued: return QStringLiteral("queued");
    case State::Sent: return QStringLiteral("sent");
    case State::Acknowledged: return QStringLiteral("acknowledged");
    case State::Verified: return QStringLiteral("verified");
    case State::Failed: return QStringLiteral("failed");
    case State::Cancelled: return QStringLiteral("cancelled");
    }
    Q_UNREACHABLE();
}

std::optional<State> stateFromCode(QStringView code)
{
    for (State s :
        {State::Queued, State::Sent, State::Acknowledged, State::Verified, State::Failed, State::Cancelled}) {
        if (code == stateCode(s))
            return s;
    }
    return std::nullopt;
}

QString causeCode(Cause cause)
{
    switch (cause) {
    case Cause::Operator: return QStringLiteral("operator");
    case Cause::Policy: return QStringLiteral("policy");
    case Cause::Payment: return QStringLiteral("payment");
    case Cause::Schedule: return QStringLiteral("schedule");
    case Cause::System: return QStringLiteral("system");
    }
    Q_UNREACHABLE();
}

QString enqueueOutcomeCode(EnqueueOutcome outcome)
{
    switch (outcome) {
    case EnqueueOutcome::Queued: return QStringLiteral("queued");
    case EnqueueOutcome::Duplicate: return QStringLiteral("duplicate");
    case EnqueueOutcome::Conflict: return QStringLiteral("conflict");
    case EnqueueOutcome::UnknownMeter: return QStringLiteral("unknown_meter");
    case EnqueueOutcome::Invalid: return QStringLiteral("invalid");
    case EnqueueOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    Q_UNREACHABLE();
}

QString executeOutcomeCode(ExecuteOutcome outcome)
{
    switch (outcome) {
    case ExecuteOutcome::Verified: return QStringLiteral("verified");
    case ExecuteOutcome::RetryLater: return QStringLiteral("retry_later");
    case ExecuteOutcome::Failed: return QStringLiteral("failed");
    case ExecuteOutcome::Cancelled: return QStringLiteral("cancelled");
    }
    Q_UNREACHABLE();
}

} // namespace prepay::commands
