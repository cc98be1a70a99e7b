// The settings that govern staff logins, sessions and approvals (the settings table's staff.* and
// approval.* rows), read once and checked, so a bad value stops prepayd at start with the key
// named instead of locking everyone out at the first login.
#pragma once

#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <optional>

namespace prepay::store {
class Connection;
}

namespace prepay::staff {

struct StaffSettings
{
    // Bounds each value must lie in (whole numbers; a value outside is an error naming the key).
    static constexpr qint64 kMinuteMs = 60'000;
    static constexpr qint64 kDayMs = 86'400'000;
    static constexpr qint64 kSessionIdleTimeoutMsMin = kMinuteMs;
    static constexpr qint64 kSessionIdleTimeoutMsMax = kDayMs;
    static constexpr qint64 kSessionMaxMsMin = kMinuteMs;
    static constexpr qint64 kSessionMaxMsMax = 7 * kDayMs;
    static constexpr int kLoginFailuresMaxMin = 1;
    static constexpr int kLoginFailuresMaxMax = 100;
    static constexpr qint64 kLockoutMsMin = 1'000;
    static constexpr qint64 kLockoutMsMax = kDayMs; // also the cap of the increasing delay (auth.h)
    static constexpr qint64 kApprovalMoneyThresholdFenMax = 10'000'000'000; // 100 million yuan
    static constexpr qint64 kApprovalExpiryMsMin = kMinuteMs;
    static constexpr qint64 kApprovalExpiryMsMax = 30 * kDayMs;
    static_assert(kSessionIdleTimeoutMsMin <= kSessionMaxMsMin, "an idle timeout must fit in a session");

    qint64 sessionIdleTimeoutMs = 900'000;     // staff.session_idle_timeout_ms (15 min without a call)
    qint64 sessionMaxMs = 43'200'000;          // staff.session_max_ms (12 h after login, whatever happens)
    int loginFailuresMax = 5;                  // staff.login_failures_max (the failure that locks)
    qint64 lockoutMs = 900'000;                // staff.lockout_ms (the first lock; later ones double)
    qint64 approvalMoneyThresholdFen = 50'000; // approval.money_threshold_fen (refunds above it)
    qint64 approvalExpiryMs = 86'400'000;      // approval.expiry_ms (a request not decided by then lapses)
};

// Reads the six rows. A missing row keeps the default above (the migration inserts every row,
// so one only goes missing by hand); a value that is not a whole number within the bounds, or an
// idle timeout longer than the session itself, is an error naming the key: nullopt and *error.
std::optional<StaffSettings> loadStaffSettings(store::Connection &db, QString *error);

} // namespace prepay::staff
