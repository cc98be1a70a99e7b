#include "staffsettings.h"

#include "store/sqlite.h"

namespace prepay::staff {

namespace {

bool readInt(store::Connection &db, const QString &key, qint64 min, qint64 max, qint64 *value, QString *error)
{
    store::Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    switch (s.step()) {
    case store::Statement::Step::Done: return true; // missing: the default stays
    case store::Statement::Step::Error:
        *error = QStringLiteral("cannot read setting %1: %2").arg(key, s.error().toString());
        return false;
    case store::Statement::Step::Row: break;
    }
    const QString text = s.text(0);
    bool ok = false;
    const qint64 parsed = text.toLongLong(&ok);
    if (!ok || parsed < min || parsed > max) {
        *error = QStringLiteral("setting %1 is '%2', expected a whole number from %3 to %4")
                     .arg(key, text)
                     .arg(min)
                     .arg(max);
        return false;
    }
    *value = parsed;
    return true;
}

} // namespace

std::optional<StaffSettings> loadStaffSettings(store::Connection &db, QString *error)
{
    using S = StaffSettings;
    S s;
    qint64 failuresMax = s.loginFailuresMax;
    const bool ok = readInt(db, QStringLiteral("staff.session_idle_timeout_ms"), S::kSessionIdleTimeoutMsMin,
                        S::kSessionIdleTimeoutMsMax, &s.sessionIdleTimeoutMs, error)
        && readInt(db, QStringLiteral("staff.session_max_ms"), S::kSessionMaxMsMin, S::kSessionMaxMsMax,
            &s.sessionMaxMs, error)
        && readInt(db, QStringLiteral("staff.login_failures_max"), S::kLoginFailuresMaxMin, S::kLoginFailuresMaxMax,
            &failuresMax, error)
        && readInt(db, QStringLiteral("staff.lockout_ms"), S::kLockoutMsMin, S::kLockoutMsMax, &s.lockoutMs, error)
        && readInt(db, QStringLiteral("approval.money_threshold_fen"), 0, S::kApprovalMoneyThresholdFenMax,
            &s.approvalMoneyThresholdFen, error)
        && readInt(db, QStringLiteral("approval.expiry_ms"), S::kApprovalExpiryMsMin, S::kApprovalExpiryMsMax,
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
