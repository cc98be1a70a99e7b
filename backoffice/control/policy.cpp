#include "policy.h"

#include "api/check.h"

#include <QtCore/QStringList>

namespace prepay::control {

QString modeCode(Mode mode)
{
    switch (mode) {
    case Mode::Auto: return QStringLiteral("auto");
    case Mode::ForceOn: return QStringLiteral("force_on");
    case Mode::ForceOff: return QStringLiteral("force_off");
    }
    PREPAY_CHECK(false);
    return {};
}

std::optional<Mode> modeFromCode(QStringView code)
{
    for (Mode m : {Mode::Auto, Mode::ForceOn, Mode::ForceOff}) {
        if (code == modeCode(m))
            return m;
    }
    return std::nullopt;
}

QString desiredCode(Desired desired)
{
    return desired == Desired::On ? QStringLiteral("on") : QStringLiteral("off");
}

std::optional<Desired> desiredFromCode(QStringView code)
{
    if (code == u"on")
        return Desired::On;
    if (code == u"off")
        return Desired::Off;
    return std::nullopt;
}

QString reasonCode(Reason reason)
{
    switch (reason) {
    case Reason::ForcedOn: return QStringLiteral("forced_on");
    case Reason::ForcedOff: return QStringLiteral("forced_off");
    case Reason::Infrastructure: return QStringLiteral("infrastructure");
    case Reason::NotOpen: return QStringLiteral("not_open");
    case Reason::Funded: return QStringLiteral("funded");
    case Reason::Arrears: return QStringLiteral("arrears");
    case Reason::FriendlyHours: return QStringLiteral("friendly_hours");
    case Reason::AwaitingCredit: return QStringLiteral("awaiting_credit");
    }
    PREPAY_CHECK(false);
    return {};
}

std::optional<Reason> reasonFromCode(QStringView code)
{
    for (Reason r : {Reason::ForcedOn, Reason::ForcedOff, Reason::Infrastructure, Reason::NotOpen, Reason::Funded,
             Reason::Arrears, Reason::FriendlyHours, Reason::AwaitingCredit}) {
        if (code == reasonCode(r))
            return r;
    }
    return std::nullopt;
}

bool FriendlyHours::contains(billing::DayType day, int minuteOfDay) const
{
    if (allDay.contains(day))
        return true;
    if (startMinute == endMinute)
        return false;
    if (startMinute < endMinute)
        return minuteOfDay >= startMinute && minuteOfDay < endMinute;
    return minuteOfDay >= startMinute || minuteOfDay < endMinute; // wraps midnight
}

namespace {

std::optional<int> parseClock(const QString &text)
{
    const QStringList parts = text.split(u':');
    if (parts.size() != 2 || parts.at(0).size() != 2 || parts.at(1).size() != 2)
        return std::nullopt;
    bool okH = false;
    bool okM = false;
    const int h = parts.at(0).toInt(&okH);
    const int m = parts.at(1).toInt(&okM);
    if (!okH || !okM || h < 0 || h > 23 || m < 0 || m > 59)
        return std::nullopt;
    return h * 60 + m;
}

QString yuan(Money m)
{
    return m.toDecimalString();
}

} // namespace

bool FriendlyHours::parse(const QString &start, const QString &end, const QString &dayTypes, FriendlyHours *out,
    QString *error)
{
    FriendlyHours f;
    const std::optional<int> s = parseClock(start);
    if (!s) {
        *error = QStringLiteral("control.friendly_hours_start: '%1' is not a time HH:MM").arg(start);
        return false;
    }
    const std::optional<int> e = parseClock(end);
    if (!e) {
        *error = QStringLiteral("control.friendly_hours_end: '%1' is not a time HH:MM").arg(end);
        return false;
    }
    f.startMinute = *s;
    f.endMinute = *e;
    f.allDay.clear();
    for (const QString &part : dayTypes.split(u',', Qt::SkipEmptyParts)) {
        const std::optional<billing::DayType> type = billing::dayTypeFromCode(part.trimmed());
        if (!type) {
            *error = QStringLiteral("control.friendly_day_types: '%1' is not workday, weekend or holiday").arg(part);
            return false;
        }
        f.allDay.append(*type);
    }
    *out = f;
    return true;
}

Decision decide(const PolicyInput &in)
{
    Decision d;
    Mode mode = in.mode;
    if (mode == Mode::ForceOn && in.modeExpiresAtMs && *in.modeExpiresAtMs <= in.nowMs) {
        mode = Mode::Auto;
        d.modeExpired = true;
    }
    auto decided = [&d](Desired desired, Reason reason, QString why) {
        d.desired = desired;
        d.reason = reason;
        d.explanation = std::move(why);
        return d;
    };
    if (mode == Mode::ForceOff)
        return decided(Desired::Off, Reason::ForcedOff, QStringLiteral("forced off (拉闸) by staff"));
    if (mode == Mode::ForceOn)
        return decided(Desired::On, Reason::ForcedOn, QStringLiteral("kept on (保电) by staff"));
    if (in.infrastructure)
        return decided(Desired::On, Reason::Infrastructure, QStringLiteral("feeds building infrastructure"));
    if (!in.accountOpen)
        return decided(Desired::Off, Reason::NotOpen, QStringLiteral("no open account on this point"));

    const Money tripLine = -in.overdraftLimit;
    const QString balanceText = QStringLiteral("balance %1, trips at ≤ %2").arg(yuan(in.balance), yuan(tripLine));
    const bool offForMoney = in.previousDesired == Desired::Off
        && (in.previousReason == Reason::Arrears || in.previousReason == Reason::AwaitingCredit);
    if (offForMoney) {
        if (in.balance > Money::zero())
            return decided(Desired::On, Reason::Funded, QStringLiteral("credited: %1").arg(balanceText));
        if (in.balance <= tripLine)
            return decided(Desired::Off, Reason::Arrears, QStringLiteral("in arrears: %1").arg(balanceText));
        return decided(Desired::Off, Reason::AwaitingCredit,
            QStringLiteral("off until a credit brings the balance above 0: %1").arg(balanceText));
    }
    if (in.balance <= tripLine) {
        if (in.keepsFriendlyHours && in.friendly.contains(in.dayType, in.minuteOfDay))
            return decided(Desired::On, Reason::FriendlyHours,
                QStringLiteral("in arrears but inside friendly hours: %1").arg(balanceText));
        return decided(Desired::Off, Reason::Arrears, QStringLiteral("in arrears: %1").arg(balanceText));
    }
    return decided(Desired::On, Reason::Funded, balanceText);
}

} // namespace prepay::control
