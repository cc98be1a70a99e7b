// Staff login, lockout and sessions (DESIGN.md §4 "Who may do what").
//
// A login is split in three so that no scrypt runs inside the store's writer transaction (one
// hash would hold every other write for 0.1 s):
//   1. prepareLogin(reader, login)   — on a read connection: who is this, may they try at all;
//   2. verify the password            — through the HashLimiter, ALWAYS exactly once per attempt,
//                                       against check.hashToVerify (the operator's hash when
//                                       Ready, dummyHash() otherwise), so an unknown, disabled or
//                                       locked login costs the same time as a real one and the
//                                       answer's timing does not tell which logins exist;
//   3. finishLogin(tx, check, matched) — in one write job: re-reads the operator (it may have
//                                       been locked, disabled or given a new password meanwhile),
//                                       counts the failure or resets it, and creates the session.
// The job must commit whatever the outcome: a failure's count and lock are the point of it.
//
// Lockout: the loginFailuresMax-th consecutive failure locks the account for lockoutMs; each
// further failure (tried after the lock has run out — attempts while locked are refused without
// being checked or counted) locks it again for twice as long as the previous one, up to 24 h.
// A successful login resets the count. The clock is the wall clock (locked_until_ms is stored).
//
// Sessions: a bearer token of 32 random bytes, given to the client once as base64url without
// padding (43 characters); the database keeps only SHA-256 of the 32 bytes, so a copy of the file
// lets nobody in. A session ends at logout, after sessionIdleTimeoutMs without a touch, at
// sessionMaxMs after login whatever happens, when revoked, or when its operator is disabled.
// A session whose operator must change the password is valid but restricted: the service allows
// it nothing but changing the password and logging out (Session::mustChangePassword).
//
// What this does not own: roles' permissions (the service's matrix), the audit rows (the caller
// appends them in the same transaction), the hash computations (hashlimiter.h).
#pragma once

#include "operators.h"
#include "staffsettings.h"

#include <QtCore/QByteArrayView>
#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::staff {

// Limits of this module, with units in the name.
constexpr qint64 kLockoutCapMs = StaffSettings::kDayMs; // the increasing delay stops growing here
constexpr int kSessionTokenBytes = 32;
constexpr int kSessionTokenChars = 43;             // base64url of 32 bytes, no padding
constexpr qint64 kSessionTouchIntervalMs = 60'000; // the server touches a session at most this often
constexpr int kLoginMaxChars = 64;                 // the schema's CHECK on operators.login
static_assert(kLockoutCapMs >= StaffSettings::kLockoutMsMax, "the first lock must fit under the cap");
static_assert(kSessionTouchIntervalMs <= StaffSettings::kSessionIdleTimeoutMsMin,
    "touching once a minute must keep the shortest idle timeout from lapsing in active use");

// A hash with today's scrypt parameters that no password matches: what the caller verifies
// against when there is no real hash to verify (unknown, disabled or locked login).
const PasswordHash &dummyHash();

// ---- Login ----------------------------------------------------------------------------------

enum class LoginCheckOutcome {
    Ready,    // an enabled, unlocked operator: verify the password against their hash
    Unknown,  // no such login
    Disabled, // the operator is disabled
    Locked,   // locked until lockedUntilMs
    Failed,   // the database could not be read (error says why)
};

QString loginCheckOutcomeCode(LoginCheckOutcome outcome); // ready, unknown, disabled, locked, failed

struct LoginCheck
{
    LoginCheckOutcome outcome = LoginCheckOutcome::Unknown;
    qint64 operatorId = 0; // set unless Unknown/Failed
    QString login;         // as stored (the column ignores case)
    QString role;
    PasswordHash hashToVerify; // the operator's hash when Ready, dummyHash() otherwise: verify it always
    qint64 lockedUntilMs = 0;  // Locked
    QString error;             // Failed
};

// Step 1, on a read connection. A login longer than the schema allows, or empty, is Unknown
// without a query.
LoginCheck prepareLogin(store::Connection &reader, const QString &login, qint64 nowMs);

enum class LoginOutcome {
    Ok,             // session created (check mustChangePassword)
    BadCredentials, // wrong password or unknown login: the client is told no more than this
    Locked,         // locked until lockedUntilMs (this attempt, if it locked, is counted)
    Disabled,       // the operator is disabled
    Failed,         // a statement failed: the transaction is failed (tx.fail), nothing kept
};

QString loginOutcomeCode(LoginOutcome outcome); // ok, bad_credentials, locked, disabled, failed

struct SessionContext
{
    QString sourceAddress;         // the client's address as the server saw it ('192.0.2.7')
    std::optional<qint64> kioskId; // staff mode on an enrolled kiosk
};

struct LoginResult
{
    LoginOutcome outcome = LoginOutcome::BadCredentials;
    qint64 operatorId = 0;
    // Ok only:
    QString token; // the bearer token; shown once, never stored, never logged
    qint64 sessionId = 0;
    qint64 expiresAtMs = 0; // the absolute end; the idle end moves with every touch
    bool mustChangePassword = false;
    // BadCredentials (of a known operator) and Locked:
    int failedAttempts = 0;
    qint64 lockedUntilMs = 0; // Locked: when the next attempt will be looked at
    QString error;            // Failed
};

// The lock that the `failedAttempts`-th consecutive failure sets: 0 below loginFailuresMax, then
// lockoutMs × 2^(failedAttempts − loginFailuresMax), at most kLockoutCapMs.
qint64 lockoutDelayMs(int failedAttempts, const StaffSettings &settings);

// Step 3, inside the caller's write job. For a check that was not Ready it writes nothing and
// answers from the check (Unknown → BadCredentials). Otherwise it re-reads the operator: now
// disabled → Disabled; locked → Locked (not counted); password hash changed since the check
// → BadCredentials (not counted: the attempt was checked against a hash that no longer exists);
// then a mismatch counts a failure (and locks, see lockoutDelayMs) and a match resets the count,
// stamps last_login_at_ms and creates the session.
LoginResult finishLogin(store::Transaction &tx, const LoginCheck &check, bool passwordMatched,
    const SessionContext &ctx, const StaffSettings &settings, qint64 nowMs);

// ---- Sessions -------------------------------------------------------------------------------

enum class SessionEnd {
    Logout,      // the operator logged out
    IdleTimeout, // no call for sessionIdleTimeoutMs
    Expired,     // sessionMaxMs after login
    Revoked,     // ended by an administrator, a password change or the operator's disabling
};

QString sessionEndCode(SessionEnd reason); // logout, idle_timeout, expired, revoked (the schema's)

struct Session
{
    qint64 sessionId = 0;
    qint64 operatorId = 0;
    QString login;
    QString displayName;
    QString role;
    bool mustChangePassword = false; // restricted: only a password change and logout
    std::optional<qint64> kioskId;
    QString sourceAddress;
    qint64 createdAtMs = 0;
    qint64 lastSeenMs = 0;
    qint64 idleExpiresAtMs = 0; // lastSeenMs + idle timeout
    qint64 expiresAtMs = 0;     // absolute

    // Whether the server should touch it now (at most once per kSessionTouchIntervalMs).
    bool needsTouch(qint64 nowMs) const { return nowMs - lastSeenMs >= kSessionTouchIntervalMs; }
};

// The live session of a token, or nullopt: malformed token, unknown, ended, idle too long, past
// its absolute end, operator disabled, or the database could not be read. Lapsed sessions are
// not marked here (a reader cannot write); endLapsedSessions() does that.
std::optional<Session> resolveSession(
    store::Connection &reader, QByteArrayView token, qint64 nowMs, const StaffSettings &settings);

// Moves the idle end of a live session forward to now + idle timeout. False when the session is
// unknown, ended or has already lapsed (a touch never revives one).
bool touchSession(store::Transaction &tx, qint64 sessionId, qint64 nowMs, const StaffSettings &settings);

// Ends one live session. False when unknown or already ended.
bool endSession(store::Transaction &tx, qint64 sessionId, SessionEnd reason, qint64 nowMs);

// Ends (Revoked) every live session of the operator, except `keep` if given. The number ended.
int revokeSessionsOf(
    store::Transaction &tx, qint64 operatorId, qint64 nowMs, std::optional<qint64> keep = std::nullopt);

// Marks the sessions that have lapsed without a logout: idle_timeout or expired. The number ended;
// the service runs it now and then so that the table tells the truth about open sessions.
int endLapsedSessions(store::Transaction &tx, qint64 nowMs, const StaffSettings &settings);

// ---- Passwords ------------------------------------------------------------------------------

// The operator's own change: stores `newHash` (computed before the transaction, through the
// HashLimiter, after the current password was verified the same way), clears
// must_change_password, and revokes the operator's other sessions (all but `keep`, the session
// that asked). False when the operator is unknown or disabled; nothing written then.
bool changePassword(store::Transaction &tx, qint64 operatorId, const PasswordHash &newHash, qint64 nowMs,
    std::optional<qint64> keep = std::nullopt);

// An administrator's reset: stores `newHash`, sets must_change_password, clears the failure count
// and any lock, and revokes every session of the operator. False when the operator is unknown.
bool resetPassword(store::Transaction &tx, qint64 operatorId, const PasswordHash &newHash, qint64 nowMs);

} // namespace prepay::staff
