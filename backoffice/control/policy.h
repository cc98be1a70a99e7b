// The control policy (DESIGN.md §3, FEATURE-LANDSCAPE.md §4.4): should a metering point's supply
// be on or off now, and why. A pure function of the point's settings, its tenant's balance, the
// local time and the previous decision; no I/O. The controller (controller.h) feeds it and turns
// a changed decision into one durable meter command.
//
// The rules, in this order:
//  1. FORCE_ON (保电) whose expiry has passed counts as AUTO (and the caller puts the point back
//     to AUTO: `modeExpired`).
//  2. FORCE_OFF (拉闸) → off (forced_off).
//  3. FORCE_ON → on (forced_on).
//  4. A point feeding infrastructure (the gateway's own supply) → on, whatever the balance.
//  5. No open account on the point (not opened, closed) → off (not_open).
//  6. AUTO, with b the wallet balance and L the overdraft limit:
//     - previously off for money (arrears, awaiting_credit): on only once b > 0 — a credit must
//       bring the balance above zero, not merely above the trip line (no chatter around −L);
//       otherwise off, as arrears while b ≤ −L and awaiting_credit above it;
//     - else b ≤ −L → off (arrears), except inside the friendly hours of a point that keeps
//       them (a daily window such as 22:00–08:00 and whole day types such as weekends and
//       holidays), where it stays on (friendly_hours);
//     - else on (funded).
// A decision changes only at a crossing, so re-evaluating after every batch and every credit is
// cheap and never toggles a relay back and forth (RELIABILITY.md I9).
#pragma once

#include "billing/tariff.h"

#include "api/money.h"

#include <QtCore/QList>
#include <QtCore/QString>

#include <optional>

namespace prepay::control {

enum class Mode {
    Auto,
    ForceOn, // 保电
    ForceOff // 拉闸
};
QString modeCode(Mode mode); // "auto", "force_on", "force_off" (control_settings.control_mode)
std::optional<Mode> modeFromCode(QStringView code);

enum class Desired {
    On,
    Off
};
QString desiredCode(Desired desired); // "on", "off"
std::optional<Desired> desiredFromCode(QStringView code);

enum class Reason {
    ForcedOn,
    ForcedOff,
    Infrastructure,
    NotOpen,
    Funded,
    Arrears,
    FriendlyHours,
    AwaitingCredit,
};
QString reasonCode(Reason reason); // as control_state.reason: "forced_on", …, "awaiting_credit"
std::optional<Reason> reasonFromCode(QStringView code);

// When AUTO never trips a point that keeps friendly hours: a daily local window (it may wrap
// midnight: 22:00–08:00) and whole day types ('control.friendly_hours_start', '_end',
// 'control.friendly_day_types'). start == end means no daily window.
struct FriendlyHours
{
    int startMinute = 22 * 60;
    int endMinute = 8 * 60;
    QList<billing::DayType> allDay{billing::DayType::Weekend, billing::DayType::Holiday};

    bool contains(billing::DayType day, int minuteOfDay) const;
    // Parses the settings' forms ("22:00", "08:00", "weekend,holiday"); false + *error naming
    // the value on anything else.
    static bool parse(const QString &start, const QString &end, const QString &dayTypes, FriendlyHours *out,
        QString *error);
};

struct PolicyInput
{
    Mode mode = Mode::Auto;
    std::optional<qint64> modeExpiresAtMs; // FORCE_ON only
    bool infrastructure = false;
    bool accountOpen = false;
    Money balance;       // the tenant's wallet (meaningful when accountOpen)
    Money overdraftLimit; // ≥ 0: AUTO trips at balance ≤ −limit
    bool keepsFriendlyHours = false;
    FriendlyHours friendly;
    billing::DayType dayType = billing::DayType::Workday; // of the local date now
    int minuteOfDay = 0;                                  // local, now
    qint64 nowMs = 0;
    std::optional<Desired> previousDesired;
    std::optional<Reason> previousReason;
};

struct Decision
{
    Desired desired = Desired::On;
    Reason reason = Reason::Funded;
    bool modeExpired = false; // FORCE_ON ran out: put the point back to AUTO
    QString explanation;      // for people ("balance -3.20 ≤ -0.00 (overdraft limit 0.00)")
};

Decision decide(const PolicyInput &in);

} // namespace prepay::control
