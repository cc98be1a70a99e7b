#include "staffsettings.h"

#include "store/settings.h"
#include "store/sqlite.h"

namespace prepay::staff {

std::optional<StaffSettings> loadStaffSettings(store::Connection &db, QString *error)
{
    using S = StaffSettings;
    S s;
    qint64 failuresMax = s.loginFailuresMax;
    const bool ok = store::readIntSetting(db, QStringLiteral("staff.session_idle_timeout_ms"), S::kSessionIdleTimeoutMsMin,
                        S::kSessionIdleTimeoutMsMax, &s.sessionIdleTimeoutMs, error)
        && store::readIntSetting(db, QStringLiteral("staff.session_max_ms"), S::kSessionMaxMsMin, S::kSessionMaxMsMax,
            &s.sessionMaxMs, error)
        && store::readIntSetting(db, QStringLiteral("staff.login_failures_max"), S::kLoginFailuresMaxMin, S::kLoginFailuresMaxMax,
            &failuresMax, error)
        && store::readIntSetting(db, QStringLiteral("staff.lockout_ms"), S::kLockoutMsMin, S::kLockoutMsMax, &s.lockoutMs, error)
        && store::readIntSetting(db, QStringLiteral("approval.money_threshold_fen"), 0, S::kApprovalMoneyThresholdFenMax,
            &s.approvalMoneyThresholdFen, error)
        && store::readIntSetting(db, QStringLiteral("approval.expiry_ms"), S::kApprovalExpiryMsMin, S::kApprovalExpiryMsMax,
            &s.approvalExpiryMs, error);
    if (!ok)
        return std::nullopt;
    s.loginFailuresMax = int(failuresMax);
    if (s.sessionIdleTimeoutMs > s.sessionMaxMs) {
        *error = QStringLiteral("setting staff.session_idle_timeout_ms (%1) is longer than staff.session_max_ms (%2)")
                     .arg(s.sessionIdleTimeoutMs)
                     .arg(s.sessionMaxMs);
        return std::nullopt;
    }
    return s;
}

} // namespace prepay::staff
