#include "auth.h"

#include "stafflog.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>

#include <openssl/rand.h>

namespace prepay::staff {

namespace {

constexpr auto kTokenEncoding = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QByteArray tokenHash(const QByteArray &tokenBytes)
{
    return QCryptographicHash::hash(tokenBytes, QCryptographicHash::Sha256);
}

// The 32 bytes behind a token's text, or empty when the text is not exactly a token.
QByteArray decodeToken(QByteArrayView token)
{
    if (token.size() != kSessionTokenChars)
        return {};
    const QByteArray::FromBase64Result decoded
        = QByteArray::fromBase64Encoding(token.toByteArray(), kTokenEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (decoded.decodingStatus != QByteArray::Base64DecodingStatus::Ok || decoded.decoded.size() != kSessionTokenBytes)
        return {};
    return decoded.decoded;
}

LoginResult failed(store::Transaction &tx, const store::SqlError &error)
{
    tx.fail(error);
    LoginResult r;
    r.outcome = LoginOutcome::Failed;
    r.error = error.toString();
    return r;
}

bool isLocked(const store::Statement &s, int column, qint64 nowMs)
{
    return !s.isNull(column) && s.int64(column) > nowMs;
}

} // namespace

const PasswordHash &dummyHash()
{
    // All-zero output: scrypt would have to produce 32 zero bytes for some password, which is as
    // likely as guessing a real hash. The salt is fixed and public; it protects nothing here.
    static const PasswordHash dummy{QByteArray(32, '\0'), QByteArray("prepay.dummy.slt"), passwordParams()};
    return dummy;
}

QString loginCheckOutcomeCode(LoginCheckOutcome outcome)
{
    switch (outcome) {
    case LoginCheckOutcome::Ready: return QStringLiteral("ready");
    case LoginCheckOutcome::Unknown: return QStringLiteral("unknown");
    case LoginCheckOutcome::Disabled: return QStringLiteral("disabled");
    case LoginCheckOutcome::Locked: return QStringLiteral("locked");
    case LoginCheckOutcome::Failed: return QStringLiteral("failed");
    }
    Q_UNREACHABLE();
}

QString loginOutcomeCode(LoginOutcome outcome)
{
    switch (outcome) {
    case LoginOutcome::Ok: return QStringLiteral("ok");
    case LoginOutcome::BadCredentials: return QStringLiteral("bad_credentials");
    case LoginOutcome::Locked: return QStringLiteral("locked");
    case LoginOutcome::Disabled: return QStringLiteral("disabled");
    case LoginOutcome::Failed: return QStringLiteral("failed");
    }
    Q_UNREACHABLE();
}

QString sessionEndCode(SessionEnd reason)
{
    switch (reason) {
    case SessionEnd::Logout: return QStringLiteral("logout");
    case SessionEnd::IdleTimeout: return QStringLiteral("idle_timeout");
    case SessionEnd::Expired: return QStringLiteral("expired");
    case SessionEnd::Revoked: return QStringLiteral("revoked");
    }
    Q_UNREACHABLE();
}

LoginCheck prepareLogin(store::Connection &reader, const QString &login, qint64 nowMs)
{
    LoginCheck check;
    check.hashToVerify = dummyHash();
    if (login.isEmpty() || login.size() > kLoginMaxChars)
        return check; // Unknown
    store::Statement s = reader.prepare(QStringLiteral(
        "SELECT id, login, role, password_hash, password_salt, password_params, disabled, locked_until_ms "
        "FROM operators WHERE login = ?1"));
    s.bind(1, login);
    switch (s.step()) {
    case store::Statement::Step::Done: return check; // Unknown
    case store::Statement::Step::Error:
        check.outcome = LoginCheckOutcome::Failed;
        check.error = s.error().toString();
        return check;
    case store::Statement::Step::Row: break;
    }
    check.operatorId = s.int64(0);
    check.login = s.text(1);
    check.role = s.text(2);
    if (s.int64(6) != 0) {
        check.outcome = LoginCheckOutcome::Disabled;
    } else if (isLocked(s, 7, nowMs)) {
        check.outcome = LoginCheckOutcome::Locked;
        check.lockedUntilMs = s.int64(7);
    } else {
        check.outcome = LoginCheckOutcome::Ready;
        check.hashToVerify = PasswordHash{s.blob(3), s.blob(4), s.text(5)};
    }
    return check;
}

qint64 lockoutDelayMs(int failedAttempts, const StaffSettings &settings)
{
    if (failedAttempts < settings.loginFailuresMax)
        return 0;
    qint64 delay = std::min(settings.lockoutMs, kLockoutCapMs);
    for (int i = settings.loginFailuresMax; i < failedAttempts && delay < kLockoutCapMs; ++i)
        delay = std::min(delay * 2, kLockoutCapMs);
    return delay;
}

LoginResult finishLogin(store::Transaction &tx, const LoginCheck &check, bool passwordMatched,
    const SessionContext &ctx, const StaffSettings &settings, qint64 nowMs)
{
    LoginResult result;
    result.operatorId = check.operatorId;
    switch (check.outcome) {
    case LoginCheckOutcome::Ready: break;
    case LoginCheckOutcome::Unknown: result.outcome = LoginOutcome::BadCredentials; return result;
    case LoginCheckOutcome::Disabled: result.outcome = LoginOutcome::Disabled; return result;
    case LoginCheckOutcome::Locked:
        result.outcome = LoginOutcome::Locked;
        result.lockedUntilMs = check.lockedUntilMs;
        return result;
    case LoginCheckOutcome::Failed:
        result.outcome = LoginOutcome::Failed;
        result.error = check.error;
        return result;
    }

    // The verification ran outside this transaction: the row may have changed since the check.
    store::Statement s = tx.prepare(QStringLiteral(
        "SELECT disabled, locked_until_ms, failed_attempts, password_hash, password_salt, password_params, "
        "must_change_password FROM operators WHERE id = ?1"));
    s.bind(1, check.operatorId);
    switch (s.step()) {
    case store::Statement::Step::Done: result.outcome = LoginOutcome::BadCredentials; return result;
    case store::Statement::Step::Error: return failed(tx, s.error());
    case store::Statement::Step::Row: break;
    }
    if (s.int64(0) != 0) {
        result.outcome = LoginOutcome::Disabled;
        return result;
    }
    if (isLocked(s, 1, nowMs)) {
        // Locked by a concurrent attempt: this one is refused unchecked, like any attempt while locked.
        result.outcome = LoginOutcome::Locked;
        result.lockedUntilMs = s.int64(1);
        return result;
    }
    if (s.blob(3) != check.hashToVerify.hash || s.blob(4) != check.hashToVerify.salt
        || s.text(5) != check.hashToVerify.params) {
        result.outcome = LoginOutcome::BadCredentials; // verified against a password since replaced
        return result;
    }
    const qint64 failedBefore = s.int64(2);
    const bool mustChange = s.int64(6) != 0;

    if (!passwordMatched) {
        const int failures = int(std::min<qint64>(failedBefore + 1, 1'000'000));
        const qint64 delay = lockoutDelayMs(failures, settings);
        store::Statement u = tx.prepare(
            QStringLiteral("UPDATE operators SET failed_attempts = ?2, locked_until_ms = ?3 WHERE id = ?1"));
        u.bind(1, check.operatorId).bind(2, qint64(failures));
        if (delay > 0)
            u.bind(3, nowMs + delay);
        else
            u.bindNull(3);
        if (const store::SqlError e = u.run(); !e.ok())
            return failed(tx, e);
        result.failedAttempts = failures;
        if (delay > 0) {
            result.outcome = LoginOutcome::Locked;
            result.lockedUntilMs = nowMs + delay;
            qCInfo(lcStaff, "operator %lld locked for %lld s after %d failed logins", check.operatorId, delay / 1000,
                failures);
        } else {
            result.outcome = LoginOutcome::BadCredentials;
        }
        return result;
    }

    QByteArray token(kSessionTokenBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char *>(token.data()), kSessionTokenBytes) != 1) {
        // Without randomness there is no safe token; nothing is written.
        return failed(tx,
            store::SqlError{1, 1, QStringLiteral("no random bytes for a session token (OpenSSL RAND_bytes failed)")});
    }
    store::Statement u = tx.prepare(QStringLiteral(
        "UPDATE operators SET failed_attempts = 0, locked_until_ms = NULL, last_login_at_ms = ?2 WHERE id = ?1"));
    u.bind(1, check.operatorId).bind(2, nowMs);
    if (const store::SqlError e = u.run(); !e.ok())
        return failed(tx, e);
    store::Statement ins = tx.prepare(QStringLiteral(
        "INSERT INTO staff_sessions (operator_id, token_hash, kiosk_id, source_address, created_at_ms, last_seen_ms, "
        "expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)"));
    ins.bind(1, check.operatorId).bind(2, tokenHash(token));
    if (ctx.kioskId)
        ins.bind(3, *ctx.kioskId);
    else
        ins.bindNull(3);
    if (ctx.sourceAddress.isEmpty())
        ins.bindNull(4);
    else
        ins.bind(4, ctx.sourceAddress);
    ins.bind(5, nowMs).bind(6, nowMs + settings.sessionMaxMs);
    if (const store::SqlError e = ins.run(); !e.ok())
        return failed(tx, e);
    result.outcome = LoginOutcome::Ok;
    result.sessionId = tx.db().lastInsertRowId();
    result.token = QString::fromLatin1(token.toBase64(kTokenEncoding));
    result.expiresAtMs = nowMs + settings.sessionMaxMs;
    result.mustChangePassword = mustChange;
    return result;
}

std::optional<Session> resolveSession(
    store::Connection &reader, QByteArrayView token, qint64 nowMs, const StaffSettings &settings)
{
    const QByteArray bytes = decodeToken(token);
    if (bytes.isEmpty())
        return std::nullopt;
    store::Statement s = reader.prepare(QStringLiteral(
        "SELECT s.id, s.operator_id, o.login, o.display_name, o.role, o.must_change_password, s.kiosk_id, "
        "s.source_address, s.created_at_ms, s.last_seen_ms, s.expires_at_ms, s.ended_at_ms, o.disabled "
        "FROM staff_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.token_hash = ?1"));
    s.bind(1, tokenHash(bytes));
    const store::Statement::Step step = s.step();
    if (step == store::Statement::Step::Error)
        qCWarning(lcStaff, "cannot resolve a session: %s", qPrintable(s.error().toString()));
    if (step != store::Statement::Step::Row)
        return std::nullopt;
    Session session;
    session.sessionId = s.int64(0);
    session.operatorId = s.int64(1);
    session.login = s.text(2);
    session.displayName = s.text(3);
    session.role = s.text(4);
    session.mustChangePassword = s.int64(5) != 0;
    if (!s.isNull(6))
        session.kioskId = s.int64(6);
    session.sourceAddress = s.text(7);
    session.createdAtMs = s.int64(8);
    session.lastSeenMs = s.int64(9);
    session.idleExpiresAtMs = session.lastSeenMs + settings.sessionIdleTimeoutMs;
    session.expiresAtMs = s.int64(10);
    const bool ended = !s.isNull(11);
    const bool disabled = s.int64(12) != 0;
    if (ended || disabled || nowMs >= session.idleExpiresAtMs || nowMs >= session.expiresAtMs)
        return std::nullopt;
    return session;
}

bool touchSession(store::Transaction &tx, qint64 sessionId, qint64 nowMs, const StaffSettings &settings)
{
    store::Statement s = tx.prepare(
        QStringLiteral("UPDATE staff_sessions SET last_seen_ms = max(last_seen_ms, ?2) "
                       "WHERE id = ?1 AND ended_at_ms IS NULL AND ?2 < expires_at_ms AND ?2 < last_seen_ms + ?3"));
    s.bind(1, sessionId).bind(2, nowMs).bind(3, settings.sessionIdleTimeoutMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return tx.db().changes() == 1;
}

bool endSession(store::Transaction &tx, qint64 sessionId, SessionEnd reason, qint64 nowMs)
{
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE staff_sessions SET ended_at_ms = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at_ms IS NULL"));
    s.bind(1, sessionId).bind(2, nowMs).bind(3, sessionEndCode(reason));
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return tx.db().changes() == 1;
}

int revokeSessionsOf(store::Transaction &tx, qint64 operatorId, qint64 nowMs, std::optional<qint64> keep)
{
    store::Statement s = tx.prepare(QStringLiteral("UPDATE staff_sessions SET ended_at_ms = ?2, end_reason = 'revoked' "
                                                   "WHERE operator_id = ?1 AND ended_at_ms IS NULL AND id <> ?3"));
    s.bind(1, operatorId).bind(2, nowMs).bind(3, keep.value_or(0)); // ids start at 1
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return 0;
    }
    return tx.db().changes();
}

int endLapsedSessions(store::Transaction &tx, qint64 nowMs, const StaffSettings &settings)
{
    // Stamped with the moment each one lapsed, not with now: whichever limit came first.
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE staff_sessions SET "
        "  end_reason = CASE WHEN last_seen_ms + ?2 < expires_at_ms THEN 'idle_timeout' ELSE 'expired' END, "
        "  ended_at_ms = min(last_seen_ms + ?2, expires_at_ms) "
        "WHERE ended_at_ms IS NULL AND ?1 >= min(last_seen_ms + ?2, expires_at_ms)"));
    s.bind(1, nowMs).bind(2, settings.sessionIdleTimeoutMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return 0;
    }
    return tx.db().changes();
}

bool changePassword(
    store::Transaction &tx, qint64 operatorId, const PasswordHash &newHash, qint64 nowMs, std::optional<qint64> keep)
{
    store::Statement s = tx.prepare(
        QStringLiteral("UPDATE operators SET password_hash = ?2, password_salt = ?3, password_params = ?4, "
                       "must_change_password = 0, updated_at_ms = ?5 WHERE id = ?1 AND disabled = 0"));
    s.bind(1, operatorId).bind(2, newHash.hash).bind(3, newHash.salt).bind(4, newHash.params).bind(5, nowMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    if (tx.db().changes() != 1)
        return false;
    revokeSessionsOf(tx, operatorId, nowMs, keep);
    return tx.error().ok();
}

bool resetPassword(store::Transaction &tx, qint64 operatorId, const PasswordHash &newHash, qint64 nowMs)
{
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE operators SET password_hash = ?2, password_salt = ?3, password_params = ?4, "
        "must_change_password = 1, failed_attempts = 0, locked_until_ms = NULL, updated_at_ms = ?5 WHERE id = ?1"));
    s.bind(1, operatorId).bind(2, newHash.hash).bind(3, newHash.salt).bind(4, newHash.params).bind(5, nowMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    if (tx.db().changes() != 1)
        return false;
    revokeSessionsOf(tx, operatorId, nowMs);
    return tx.error().ok();
}

} // namespace prepay::staff
