// The staff library against a real temporary database (head schema, no seed):
//  - the hash limiter: a scrypt hash costs ≥ 50 ms (measured and printed); ten verifications at
//    once never run more than two at a time (the limiter's own count and an independent one),
//    results arrive on the context's thread; beyond the queue a request is refused at once as
//    busy; stop() drops the waiting ones and refuses new ones;
//  - settings: defaults, a bad value named by its key, an idle timeout longer than a session;
//  - login: the right password gives a session (token shown once, stored only as SHA-256);
//    five wrong ones lock, each further failure after the lock runs out locks twice as long (up
//    to 24 h); a locked account gets no session even with the right password; success resets
//    the count; an unknown login costs a hash too and writes nothing; a disabled operator gets
//    nothing; changes between the read and the write job are seen by the write job;
//  - sessions: idle timeout and absolute expiry on a manual clock, touches that never revive,
//    lapsed sessions marked with the moment they lapsed, logout, malformed and unknown tokens,
//    a password change revoking the other sessions, an administrator's reset;
//  - approvals: the one rule of what needs a second person; each decide outcome (approved,
//    rejected, not found, not pending, expired, self-approval), cancel, executed once only,
//    the pending queue, and the schema's CHECKs refusing what the code never writes.
#include "manualclock.h"
#include "staff/approvals.h"
#include "staff/auth.h"
#include "staff/hashlimiter.h"
#include "staff/operators.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QTest>

#include <atomic>
#include <future>

using namespace prepay;
using namespace prepay::staff;
using namespace prepay::store;
using namespace Qt::StringLiterals;

namespace {

constexpr qint64 kT0 = 1'795'000'000'000;
constexpr qint64 kMinuteMs = 60'000;
constexpr int kDeliveryTimeoutMs = 60'000; // hashes on a loaded 2-core machine

const QString kPassword = QStringLiteral("correct horse battery");
const QString kWrong = QStringLiteral("wrong horse battery");

qint64 queryInt(Connection &db, const QString &sql)
{
    SqlError error;
    const qint64 n = db.queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return n;
}

} // namespace

class TestStaff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    // Hash limiter
    void hashCostsAtLeast50Ms();
    void limiterRunsAtMostTwoAtOnce();
    void limiterRefusesBeyondItsQueue();
    void limiterStopDropsWaitingJobs();

    // Settings
    void settingsLoadWithDefaults();
    void settingsNameTheBadKey();

    // Login
    void rightPasswordGivesSession();
    void tokenIsStoredOnlyHashed();
    void fiveFailuresLockWithIncreasingDelay();
    void lockoutDelayIsCapped();
    void lockedAccountGetsNoSessionEvenWithTheRightPassword();
    void successResetsTheFailureCount();
    void unknownLoginCostsAHashAndWritesNothing();
    void disabledOperatorGetsNothing();
    void finishSeesChangesSinceTheCheck();

    // Sessions
    void idleTimeout();
    void absoluteExpiry();
    void logoutEndsTheSession();
    void unknownAndMalformedTokens();
    void changePasswordRevokesOtherSessions();
    void resetPasswordUnlocksAndRevokes();

    // Approvals
    void needsApprovalRule();
    void approveThenExecuteOnce();
    void rejectNotFoundNotPending();
    void expiredRequest();
    void makerCannotDecide();
    void cancelByTheMakerOnly();
    void requestValidation();
    void schemaChecksRefuse();

private:
    template<typename F>
    auto write(F f)
    {
        auto written = m_store->write(f).get();
        if (!written.committed())
            qWarning("write %s: %s %s", qPrintable(writeStatusCode(written.status)),
                qPrintable(written.error.toString()), qPrintable(written.reason));
        return written;
    }
    qint64 now() const { return m_clock->wallMs(); }
    qint64 count(const QString &sql) { return queryInt(*m_reader, sql); }

    // An operator with kPassword (hashed once for the whole run), must_change_password as given.
    qint64 addOperator(const QString &login, const QString &role = QStringLiteral("operator"), bool mustChange = false);
    // The three steps of a login as the service runs them (the hash here on this thread).
    LoginResult login(const QString &login, const QString &password, SessionContext ctx = {});
    std::optional<Session> resolve(const QString &token)
    {
        return resolveSession(*m_reader, token.toLatin1(), now(), m_settings);
    }

    PasswordHash m_hash;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<test::ManualClock> m_clock; // a fresh one per test
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Connection> m_reader;
    StaffSettings m_settings;
};

void TestStaff::initTestCase()
{
    QString error;
    const std::optional<PasswordHash> h = hashPassword(kPassword, &error);
    QVERIFY2(h, qPrintable(error));
    m_hash = *h;
}

void TestStaff::init()
{
    m_clock = std::make_unique<test::ManualClock>(kT0);
    m_dir = std::make_unique<QTemporaryDir>();
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("prepay.db")), *m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    m_reader = m_store->openReader();
    QVERIFY(m_reader);
    QString error;
    const std::optional<StaffSettings> s = loadStaffSettings(*m_reader, &error);
    QVERIFY2(s, qPrintable(error));
    m_settings = *s;
}

void TestStaff::cleanup()
{
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
}

qint64 TestStaff::addOperator(const QString &login, const QString &role, bool mustChange)
{
    const auto written = write([&](Transaction &tx) -> qint64 {
        Statement s = tx.prepare(QStringLiteral(
            "INSERT INTO operators (login, display_name, role, password_hash, password_salt, password_params, "
            "must_change_password, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"));
        s.bind(1, login).bind(2, login.toUpper()).bind(3, role).bind(4, m_hash.hash).bind(5, m_hash.salt);
        s.bind(6, m_hash.params).bind(7, mustChange ? 1 : 0).bind(8, now());
        if (const SqlError e = s.run(); !e.ok()) {
            tx.fail(e);
            return 0;
        }
        return tx.db().lastInsertRowId();
    });
    return written.value;
}

LoginResult TestStaff::login(const QString &name, const QString &password, SessionContext ctx)
{
    const LoginCheck check = prepareLogin(*m_reader, name, now());
    const bool matched = verifyPassword(password, check.hashToVerify);
    const auto written
        = write([&](Transaction &tx) { return finishLogin(tx, check, matched, ctx, m_settings, now()); });
    if (!written.committed())
        qWarning("login job: %s", qPrintable(writeStatusCode(written.status)));
    return written.value;
}

// ---- Hash limiter ---------------------------------------------------------------------------

void TestStaff::hashCostsAtLeast50Ms()
{
    QElapsedTimer timer;
    timer.start();
    QString error;
    const std::optional<PasswordHash> h = hashPassword(kPassword, &error);
    const qint64 hashMs = timer.elapsed();
    QVERIFY2(h, qPrintable(error));
    timer.restart();
    QVERIFY(verifyPassword(kPassword, *h));
    const qint64 verifyMs = timer.elapsed();
    timer.restart();
    QVERIFY(!verifyPassword(kPassword, dummyHash()));
    const qint64 dummyMs = timer.elapsed();
    qInfo("scrypt (%s): hash %lld ms, verify %lld ms, dummy verify %lld ms", qPrintable(h->params), hashMs, verifyMs,
        dummyMs);
    QVERIFY2(hashMs >= 50, qPrintable(QStringLiteral("hash took %1 ms").arg(hashMs)));
    QVERIFY2(verifyMs >= 50, qPrintable(QStringLiteral("verify took %1 ms").arg(verifyMs)));
    // An unknown login must cost a hash too: the dummy runs the same scrypt parameters.
    QCOMPARE(dummyHash().params, h->params);
    QVERIFY2(dummyMs >= 50, qPrintable(QStringLiteral("dummy verify took %1 ms").arg(dummyMs)));
}

void TestStaff::limiterRunsAtMostTwoAtOnce()
{
    QObject context; // destroyed after the limiter (declared first)
    {
        HashLimiter limiter;
        QCOMPARE(limiter.limits().maxConcurrent, 2);
        QCOMPARE(limiter.limits().queueMax, 32);
        int delivered = 0;
        int matchedCount = 0;
        bool allOnMainThread = true;
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < 10; ++i) {
            const QString attempt = i % 2 == 0 ? kPassword : kWrong;
            const HashLimiter::Admission a = limiter.verify(attempt, m_hash, &context, [&, i](bool matched) {
                ++delivered;
                allOnMainThread = allOnMainThread && QThread::currentThread() == context.thread();
                if (matched != (i % 2 == 0))
                    qWarning("verification %d answered %d", i, int(matched));
                else if (matched)
                    ++matchedCount;
            });
            QCOMPARE(a, HashLimiter::Admission::Accepted);
        }
        QTRY_COMPARE_WITH_TIMEOUT(delivered, 10, kDeliveryTimeoutMs);
        const qint64 elapsedMs = timer.elapsed();
        QCOMPARE(matchedCount, 5);
        QVERIFY(allOnMainThread);
        qInfo("10 verifications through the limiter: %lld ms, at most %d at once", elapsedMs, limiter.peakRunning());
        QCOMPARE(limiter.peakRunning(), 2);
        QCOMPARE(limiter.running(), 0);
        QCOMPARE(limiter.waiting(), 0);
    }
    {
        // The same, counted from inside the jobs rather than by the limiter's bookkeeping.
        HashLimiter limiter;
        std::atomic<int> inside{0};
        std::atomic<int> most{0};
        int delivered = 0;
        for (int i = 0; i < 10; ++i) {
            const HashLimiter::Admission a = limiter.submit(
                [&] {
                    const int n = ++inside;
                    int seen = most.load();
                    while (n > seen && !most.compare_exchange_weak(seen, n)) { }
                    QThread::msleep(30);
                    --inside;
                },
                &context, [&] { ++delivered; });
            QCOMPARE(a, HashLimiter::Admission::Accepted);
        }
        QTRY_COMPARE_WITH_TIMEOUT(delivered, 10, kDeliveryTimeoutMs);
        QCOMPARE(most.load(), 2);
    }
    {
        // hash() through the same limit.
        HashLimiter limiter;
        std::optional<PasswordHash> made;
        QString error = QStringLiteral("not called");
        QCOMPARE(limiter.hash(kPassword, &context,
                     [&](std::optional<PasswordHash> h, QString e) {
                         made = std::move(h);
                         error = std::move(e);
                     }),
            HashLimiter::Admission::Accepted);
        QTRY_VERIFY_WITH_TIMEOUT(made.has_value() || error != u"not called", kDeliveryTimeoutMs);
        QVERIFY2(made, qPrintable(error));
        QVERIFY(verifyPassword(kPassword, *made));
    }
}

void TestStaff::limiterRefusesBeyondItsQueue()
{
    QObject context;
    HashLimiter::Limits limits;
    limits.maxConcurrent = 2;
    limits.queueMax = 3;
    HashLimiter limiter(limits);
    std::promise<void> gate;
    const std::shared_future<void> open = gate.get_future().share();
    int delivered = 0;
    for (int i = 0; i < 5; ++i)
        QCOMPARE(
            limiter.submit([open] { open.wait(); }, &context, [&] { ++delivered; }), HashLimiter::Admission::Accepted);
    QTRY_COMPARE(limiter.running(), 2);
    QCOMPARE(limiter.waiting(), 3);
    bool called = false;
    const HashLimiter::Admission refused = limiter.verify(kPassword, m_hash, &context, [&](bool) { called = true; });
    QCOMPARE(refused, HashLimiter::Admission::Busy);
    QCOMPARE(admissionCode(refused), QStringLiteral("busy"));
    gate.set_value();
    QTRY_COMPARE_WITH_TIMEOUT(delivered, 5, kDeliveryTimeoutMs);
    QVERIFY(!called);
    // Room again once the queue drains.
    QTRY_COMPARE(limiter.running(), 0);
    QCOMPARE(limiter.submit([] {}, &context, [&] { ++delivered; }), HashLimiter::Admission::Accepted);
    QTRY_COMPARE(delivered, 6);
}

void TestStaff::limiterStopDropsWaitingJobs()
{
    QObject context;
    HashLimiter::Limits limits;
    limits.maxConcurrent = 1;
    limits.queueMax = 4;
    HashLimiter limiter(limits);
    std::promise<void> gate;
    const std::shared_future<void> open = gate.get_future().share();
    int delivered = 0;
    for (int i = 0; i < 3; ++i)
        QCOMPARE(
            limiter.submit([open] { open.wait(); }, &context, [&] { ++delivered; }), HashLimiter::Admission::Accepted);
    QTRY_COMPARE(limiter.running(), 1);
    limiter.stop();
    QCOMPARE(limiter.waiting(), 0);
    QCOMPARE(limiter.submit([] {}, &context, [&] { ++delivered; }), HashLimiter::Admission::Stopped);
    gate.set_value();
    QTRY_COMPARE_WITH_TIMEOUT(delivered, 1, kDeliveryTimeoutMs); // the running one delivers
    QTest::qWait(100);
    QCOMPARE(delivered, 1); // the two waiting ones never ran
}

// ---- Settings -------------------------------------------------------------------------------

void TestStaff::settingsLoadWithDefaults()
{
    QCOMPARE(m_settings.sessionIdleTimeoutMs, 900'000);
    QCOMPARE(m_settings.sessionMaxMs, 43'200'000);
    QCOMPARE(m_settings.loginFailuresMax, 5);
    QCOMPARE(m_settings.lockoutMs, 900'000);
    QCOMPARE(m_settings.approvalMoneyThresholdFen, 50'000);
    QCOMPARE(m_settings.approvalExpiryMs, 86'400'000);
    // A missing row keeps the default.
    QVERIFY(write([](Transaction &tx) {
        tx.db().exec(QStringLiteral("DELETE FROM settings WHERE key = 'staff.lockout_ms'"));
    }).committed());
    QString error;
    const std::optional<StaffSettings> s = loadStaffSettings(*m_reader, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->lockoutMs, 900'000);
}

void TestStaff::settingsNameTheBadKey()
{
    const auto set = [this](const char *key, const char *value) {
        write([&](Transaction &tx) {
            Statement s = tx.prepare(QStringLiteral("UPDATE settings SET value = ?2 WHERE key = ?1"));
            s.bind(1, QString::fromLatin1(key)).bind(2, QString::fromLatin1(value));
            if (const SqlError e = s.run(); !e.ok())
                tx.fail(e);
        });
    };
    QString error;
    set("staff.login_failures_max", "five");
    QVERIFY(!loadStaffSettings(*m_reader, &error));
    QVERIFY2(error.contains(u"staff.login_failures_max") && error.contains(u"'five'"), qPrintable(error));
    set("staff.login_failures_max", "5");
    set("approval.money_threshold_fen", "-1");
    QVERIFY(!loadStaffSettings(*m_reader, &error));
    QVERIFY2(error.contains(u"approval.money_threshold_fen"), qPrintable(error));
    set("approval.money_threshold_fen", "50000");
    set("staff.session_idle_timeout_ms", "50000000");
    set("staff.session_max_ms", "40000000");
    QVERIFY(!loadStaffSettings(*m_reader, &error));
    QVERIFY2(
        error.contains(u"staff.session_idle_timeout_ms") && error.contains(u"staff.session_max_ms"), qPrintable(error));
    set("staff.session_idle_timeout_ms", "60000");
    QVERIFY2(loadStaffSettings(*m_reader, &error), qPrintable(error));
}

// ---- Login ----------------------------------------------------------------------------------

void TestStaff::rightPasswordGivesSession()
{
    const qint64 id = addOperator(QStringLiteral("li.ming"), QStringLiteral("cashier"), true);
    QVERIFY(id > 0);
    SessionContext ctx;
    ctx.sourceAddress = QStringLiteral("192.0.2.7");
    // The column ignores case, as the login does.
    const LoginResult r = login(QStringLiteral("Li.Ming"), kPassword, ctx);
    QCOMPARE(loginOutcomeCode(r.outcome), QStringLiteral("ok"));
    QCOMPARE(r.operatorId, id);
    QCOMPARE(r.token.size(), kSessionTokenChars);
    QVERIFY(!r.token.contains(u'=') && !r.token.contains(u'+') && !r.token.contains(u'/'));
    QCOMPARE(r.expiresAtMs, now() + m_settings.sessionMaxMs);
    QVERIFY(r.mustChangePassword);
    QCOMPARE(count(QStringLiteral("SELECT last_login_at_ms FROM operators WHERE id = %1").arg(id)), now());

    const std::optional<Session> s = resolve(r.token);
    QVERIFY(s);
    QCOMPARE(s->sessionId, r.sessionId);
    QCOMPARE(s->operatorId, id);
    QCOMPARE(s->login, QStringLiteral("li.ming"));
    QCOMPARE(s->displayName, QStringLiteral("LI.MING"));
    QCOMPARE(s->role, QStringLiteral("cashier"));
    QVERIFY(s->mustChangePassword);
    QCOMPARE(s->sourceAddress, QStringLiteral("192.0.2.7"));
    QVERIFY(!s->kioskId);
    QCOMPARE(s->expiresAtMs, r.expiresAtMs);
    QCOMPARE(s->idleExpiresAtMs, now() + m_settings.sessionIdleTimeoutMs);

    // Two logins, two sessions, two different tokens.
    const LoginResult again = login(QStringLiteral("li.ming"), kPassword);
    QCOMPARE(again.outcome, LoginOutcome::Ok);
    QVERIFY(again.token != r.token);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM staff_sessions WHERE operator_id = %1").arg(id)), 2);
}

void TestStaff::tokenIsStoredOnlyHashed()
{
    const qint64 id = addOperator(QStringLiteral("wang.fang"));
    const LoginResult r = login(QStringLiteral("wang.fang"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    const QByteArray raw = QByteArray::fromBase64(r.token.toLatin1(), QByteArray::Base64UrlEncoding);
    QCOMPARE(raw.size(), kSessionTokenBytes);

    Statement s = m_reader->prepare(QStringLiteral("SELECT * FROM staff_sessions WHERE operator_id = ?1"));
    s.bind(1, id);
    QCOMPARE(s.step(), Statement::Step::Row);
    Statement cols = m_reader->prepare(QStringLiteral("SELECT token_hash FROM staff_sessions WHERE operator_id = ?1"));
    cols.bind(1, id);
    QCOMPARE(cols.step(), Statement::Step::Row);
    const QByteArray stored = cols.blob(0);
    QCOMPARE(stored.size(), 32);
    QCOMPARE(stored, QCryptographicHash::hash(raw, QCryptographicHash::Sha256));
    QVERIFY(stored != raw);
    // No column of the row holds the token, in bytes or in text.
    for (int c = 0; c < 11; ++c) {
        QVERIFY(s.blob(c) != raw);
        QVERIFY(!s.text(c).contains(r.token));
    }
    // The stored hash is no token: presenting it (encoded) opens nothing.
    QVERIFY(
        !resolve(QString::fromLatin1(stored.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals))));
    QVERIFY(resolve(r.token));
}

void TestStaff::fiveFailuresLockWithIncreasingDelay()
{
    const qint64 id = addOperator(QStringLiteral("zhao.lei"));
    for (int i = 1; i <= 4; ++i) {
        const LoginResult r = login(QStringLiteral("zhao.lei"), kWrong);
        QCOMPARE(loginOutcomeCode(r.outcome), QStringLiteral("bad_credentials"));
        QCOMPARE(r.failedAttempts, i);
        QVERIFY(r.token.isEmpty());
        m_clock->advanceMs(1000);
    }
    LoginResult r = login(QStringLiteral("zhao.lei"), kWrong);
    QCOMPARE(loginOutcomeCode(r.outcome), QStringLiteral("locked"));
    QCOMPARE(r.failedAttempts, 5);
    QCOMPARE(r.lockedUntilMs, now() + 900'000);
    QCOMPARE(count(QStringLiteral("SELECT locked_until_ms FROM operators WHERE id = %1").arg(id)), now() + 900'000);

    // While locked, attempts are refused unchecked and not counted.
    m_clock->advanceMs(899'999);
    r = login(QStringLiteral("zhao.lei"), kWrong);
    QCOMPARE(r.outcome, LoginOutcome::Locked);
    QCOMPARE(count(QStringLiteral("SELECT failed_attempts FROM operators WHERE id = %1").arg(id)), 5);

    // After the lock, each further failure locks twice as long as the one before.
    qint64 expected = 900'000;
    for (int failures = 6; failures <= 8; ++failures) {
        m_clock->advanceMs(expected); // past the lock
        expected *= 2;
        r = login(QStringLiteral("zhao.lei"), kWrong);
        QCOMPARE(r.outcome, LoginOutcome::Locked);
        QCOMPARE(r.failedAttempts, failures);
        QCOMPARE(r.lockedUntilMs - now(), expected);
        QCOMPARE(lockoutDelayMs(failures, m_settings), expected);
    }
    QCOMPARE(expected, 7'200'000); // 15 min → 30 → 60 → 120
    // The right password after the lock has run out: in, and the slate is clean.
    m_clock->advanceMs(expected);
    r = login(QStringLiteral("zhao.lei"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    QCOMPARE(count(QStringLiteral("SELECT failed_attempts FROM operators WHERE id = %1").arg(id)), 0);
    QCOMPARE(count(QStringLiteral("SELECT locked_until_ms IS NULL FROM operators WHERE id = %1").arg(id)), 1);
}

void TestStaff::lockoutDelayIsCapped()
{
    QCOMPARE(lockoutDelayMs(0, m_settings), 0);
    QCOMPARE(lockoutDelayMs(4, m_settings), 0);
    QCOMPARE(lockoutDelayMs(5, m_settings), 900'000);
    QCOMPARE(lockoutDelayMs(6, m_settings), 1'800'000);
    QCOMPARE(lockoutDelayMs(11, m_settings), 57'600'000);    // 16 h
    QCOMPARE(lockoutDelayMs(12, m_settings), kLockoutCapMs); // 32 h → 24 h
    QCOMPARE(lockoutDelayMs(1'000'000, m_settings), kLockoutCapMs);
    StaffSettings s = m_settings;
    s.loginFailuresMax = 1;
    s.lockoutMs = StaffSettings::kLockoutMsMax;
    QCOMPARE(lockoutDelayMs(1, s), kLockoutCapMs);
    QCOMPARE(lockoutDelayMs(2, s), kLockoutCapMs);
}

void TestStaff::lockedAccountGetsNoSessionEvenWithTheRightPassword()
{
    const qint64 id = addOperator(QStringLiteral("sun.li"));
    for (int i = 0; i < 5; ++i)
        login(QStringLiteral("sun.li"), kWrong);
    const LoginCheck check = prepareLogin(*m_reader, QStringLiteral("sun.li"), now());
    QCOMPARE(loginCheckOutcomeCode(check.outcome), QStringLiteral("locked"));
    QCOMPARE(check.hashToVerify.hash, dummyHash().hash); // never the real hash while locked
    const LoginResult r = login(QStringLiteral("sun.li"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::Locked);
    QVERIFY(r.token.isEmpty());
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM staff_sessions WHERE operator_id = %1").arg(id)), 0);
    QCOMPARE(count(QStringLiteral("SELECT failed_attempts FROM operators WHERE id = %1").arg(id)), 5);
}

void TestStaff::successResetsTheFailureCount()
{
    const qint64 id = addOperator(QStringLiteral("zhou.qi"));
    for (int i = 0; i < 4; ++i)
        QCOMPARE(login(QStringLiteral("zhou.qi"), kWrong).outcome, LoginOutcome::BadCredentials);
    QCOMPARE(login(QStringLiteral("zhou.qi"), kPassword).outcome, LoginOutcome::Ok);
    QCOMPARE(count(QStringLiteral("SELECT failed_attempts FROM operators WHERE id = %1").arg(id)), 0);
    // Four more failures do not lock: the count started again.
    for (int i = 1; i <= 4; ++i) {
        const LoginResult r = login(QStringLiteral("zhou.qi"), kWrong);
        QCOMPARE(r.outcome, LoginOutcome::BadCredentials);
        QCOMPARE(r.failedAttempts, i);
    }
}

void TestStaff::unknownLoginCostsAHashAndWritesNothing()
{
    addOperator(QStringLiteral("known"));
    for (const QString &name : {QStringLiteral("nobody"), QString(), QString(65, u'x')}) {
        const LoginCheck check = prepareLogin(*m_reader, name, now());
        QCOMPARE(check.outcome, LoginCheckOutcome::Unknown);
        QCOMPARE(check.operatorId, 0);
        // What the caller verifies against: a hash with the real parameters (see hashCostsAtLeast50Ms).
        QCOMPARE(check.hashToVerify.params, passwordParams());
        QCOMPARE(check.hashToVerify.hash.size(), 32);
    }
    const LoginResult r = login(QStringLiteral("nobody"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::BadCredentials);
    QCOMPARE(r.failedAttempts, 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM staff_sessions")), 0);
    QCOMPARE(count(QStringLiteral("SELECT sum(failed_attempts) FROM operators")), 0);
}

void TestStaff::disabledOperatorGetsNothing()
{
    const qint64 id = addOperator(QStringLiteral("qian.bo"));
    const LoginResult first = login(QStringLiteral("qian.bo"), kPassword);
    QCOMPARE(first.outcome, LoginOutcome::Ok);
    QVERIFY(resolve(first.token));
    QVERIFY(write([&](Transaction &tx) {
        tx.db().exec(QStringLiteral("UPDATE operators SET disabled = 1 WHERE id = %1").arg(id));
    }).committed());
    // Its live session stops resolving at once, even before anyone revokes it.
    QVERIFY(!resolve(first.token));
    const LoginCheck check = prepareLogin(*m_reader, QStringLiteral("qian.bo"), now());
    QCOMPARE(check.outcome, LoginCheckOutcome::Disabled);
    QCOMPARE(check.hashToVerify.hash, dummyHash().hash);
    const LoginResult r = login(QStringLiteral("qian.bo"), kPassword);
    QCOMPARE(loginOutcomeCode(r.outcome), QStringLiteral("disabled"));
    QVERIFY(r.token.isEmpty());
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM staff_sessions WHERE operator_id = %1").arg(id)), 1);
}

void TestStaff::finishSeesChangesSinceTheCheck()
{
    const qint64 id = addOperator(QStringLiteral("he.yun"));
    // Disabled between the check and the write job.
    LoginCheck check = prepareLogin(*m_reader, QStringLiteral("he.yun"), now());
    QCOMPARE(check.outcome, LoginCheckOutcome::Ready);
    QCOMPARE(check.hashToVerify.hash, m_hash.hash);
    write([&](Transaction &tx) {
        tx.db().exec(QStringLiteral("UPDATE operators SET disabled = 1 WHERE id = %1").arg(id));
    });
    auto w = write([&](Transaction &tx) { return finishLogin(tx, check, true, {}, m_settings, now()); });
    QCOMPARE(w.value.outcome, LoginOutcome::Disabled);
    write([&](Transaction &tx) {
        tx.db().exec(QStringLiteral("UPDATE operators SET disabled = 0 WHERE id = %1").arg(id));
    });

    // Password replaced between the check and the write job: the old one no longer opens a session,
    // and the attempt is not counted against the operator.
    check = prepareLogin(*m_reader, QStringLiteral("he.yun"), now());
    const bool matched = verifyPassword(kPassword, check.hashToVerify);
    QVERIFY(matched);
    QString error;
    const std::optional<PasswordHash> replaced = hashPassword(QStringLiteral("a brand new secret"), &error);
    QVERIFY2(replaced, qPrintable(error));
    QVERIFY(write([&](Transaction &tx) { return changePassword(tx, id, *replaced, now()); }).value);
    w = write([&](Transaction &tx) { return finishLogin(tx, check, matched, {}, m_settings, now()); });
    QCOMPARE(w.value.outcome, LoginOutcome::BadCredentials);
    QCOMPARE(count(QStringLiteral("SELECT failed_attempts FROM operators WHERE id = %1").arg(id)), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM staff_sessions WHERE operator_id = %1").arg(id)), 0);

    // Locked by other attempts between the check and the write job.
    check = prepareLogin(*m_reader, QStringLiteral("he.yun"), now());
    write([&](Transaction &tx) {
        tx.db().exec(QStringLiteral("UPDATE operators SET failed_attempts = 5, locked_until_ms = %1 WHERE id = %2")
                         .arg(now() + 1000)
                         .arg(id));
    });
    w = write([&](Transaction &tx) { return finishLogin(tx, check, false, {}, m_settings, now()); });
    QCOMPARE(w.value.outcome, LoginOutcome::Locked);
    QCOMPARE(w.value.lockedUntilMs, now() + 1000);
    QCOMPARE(count(QStringLiteral("SELECT failed_attempts FROM operators WHERE id = %1").arg(id)), 5);
}

// ---- Sessions -------------------------------------------------------------------------------

void TestStaff::idleTimeout()
{
    addOperator(QStringLiteral("idle"));
    const LoginResult r = login(QStringLiteral("idle"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    const qint64 idle = m_settings.sessionIdleTimeoutMs;

    m_clock->advanceMs(idle - 1);
    std::optional<Session> s = resolve(r.token);
    QVERIFY(s);
    QVERIFY(s->needsTouch(now()));
    QVERIFY(write([&](Transaction &tx) { return touchSession(tx, r.sessionId, now(), m_settings); }).value);
    s = resolve(r.token);
    QVERIFY(s);
    QVERIFY(!s->needsTouch(now() + kMinuteMs - 1));
    QCOMPARE(s->idleExpiresAtMs, now() + idle);

    m_clock->advanceMs(idle - 1); // still alive thanks to the touch
    QVERIFY(resolve(r.token));
    const qint64 lastSeen = now() - (idle - 1);
    m_clock->advanceMs(1); // exactly idle since the touch
    QVERIFY(!resolve(r.token));
    // A touch never revives a lapsed session.
    QVERIFY(!write([&](Transaction &tx) { return touchSession(tx, r.sessionId, now(), m_settings); }).value);
    QVERIFY(!resolve(r.token));

    QCOMPARE(write([&](Transaction &tx) { return endLapsedSessions(tx, now(), m_settings); }).value, 1);
    Statement row
        = m_reader->prepare(QStringLiteral("SELECT end_reason, ended_at_ms FROM staff_sessions WHERE id = ?1"));
    row.bind(1, r.sessionId);
    QCOMPARE(row.step(), Statement::Step::Row);
    QCOMPARE(row.text(0), QStringLiteral("idle_timeout"));
    QCOMPARE(row.int64(1), lastSeen + idle);
    QCOMPARE(write([&](Transaction &tx) { return endLapsedSessions(tx, now(), m_settings); }).value, 0);
}

void TestStaff::absoluteExpiry()
{
    addOperator(QStringLiteral("busy"));
    const LoginResult r = login(QStringLiteral("busy"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    const qint64 loginAt = now();
    // Active all day: a call every 10 minutes, touched each time.
    while (now() + 10 * kMinuteMs < loginAt + m_settings.sessionMaxMs) {
        m_clock->advanceMs(10 * kMinuteMs);
        const std::optional<Session> s = resolve(r.token);
        QVERIFY2(s, qPrintable(QStringLiteral("lapsed %1 ms after login").arg(now() - loginAt)));
        QVERIFY(write([&](Transaction &tx) { return touchSession(tx, s->sessionId, now(), m_settings); }).value);
    }
    m_clock->advanceMs(loginAt + m_settings.sessionMaxMs - now()); // exactly 12 h
    QVERIFY(!resolve(r.token));
    QVERIFY(!write([&](Transaction &tx) { return touchSession(tx, r.sessionId, now(), m_settings); }).value);
    QCOMPARE(write([&](Transaction &tx) { return endLapsedSessions(tx, now(), m_settings); }).value, 1);
    QCOMPARE(
        count(QStringLiteral("SELECT count(*) FROM staff_sessions WHERE end_reason = 'expired' AND ended_at_ms = %1")
                  .arg(loginAt + m_settings.sessionMaxMs)),
        1);
}

void TestStaff::logoutEndsTheSession()
{
    const qint64 id = addOperator(QStringLiteral("bye"));
    // A session in staff mode on a kiosk keeps the kiosk's id.
    QVERIFY(write([](Transaction &tx) {
        tx.db().exec(QStringLiteral("INSERT INTO kiosks (id, name, state, revoked_at_ms, created_at_ms) "
                                    "VALUES (3, 'lobby', 'revoked', 1, 0)"));
    }).committed());
    SessionContext ctx;
    ctx.kioskId = 3;
    const LoginResult r = login(QStringLiteral("bye"), kPassword, ctx);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    const LoginResult other = login(QStringLiteral("bye"), kPassword);
    std::optional<Session> s = resolve(r.token);
    QVERIFY(s);
    QCOMPARE(s->kioskId, std::optional<qint64>(3));
    QVERIFY(write([&](Transaction &tx) { return endSession(tx, r.sessionId, SessionEnd::Logout, now()); }).value);
    QVERIFY(!resolve(r.token));
    QVERIFY(resolve(other.token)); // only that one
    QVERIFY(!write([&](Transaction &tx) { return endSession(tx, r.sessionId, SessionEnd::Logout, now()); }).value);
    QVERIFY(!write([&](Transaction &tx) { return endSession(tx, 999, SessionEnd::Logout, now()); }).value);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM staff_sessions WHERE id = %1 AND end_reason = 'logout'")
                       .arg(r.sessionId)),
        1);
    QCOMPARE(write([&](Transaction &tx) { return revokeSessionsOf(tx, id, now()); }).value, 1);
    QVERIFY(!resolve(other.token));
    QCOMPARE(sessionEndCode(SessionEnd::IdleTimeout), QStringLiteral("idle_timeout"));
    QCOMPARE(sessionEndCode(SessionEnd::Revoked), QStringLiteral("revoked"));
}

void TestStaff::unknownAndMalformedTokens()
{
    addOperator(QStringLiteral("tok"));
    const LoginResult r = login(QStringLiteral("tok"), kPassword);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    QVERIFY(resolve(r.token));
    const QString unknown = QString::fromLatin1(
        QByteArray(32, '\x5a').toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
    QCOMPARE(unknown.size(), kSessionTokenChars);
    const QStringList bad{
        unknown,
        QString(),
        r.token.left(42),
        r.token + u'A',
        r.token + u'=',
        QString(r.token).replace(0, 1, u'!'),
        QString(r.token).replace(5, 1, u'+'), // standard base64, not url-safe
        QStringLiteral("' OR 1=1 --"),
        QString(4096, u'A'),
    };
    for (const QString &t : bad)
        QVERIFY2(!resolve(t), qPrintable(t.left(60)));
    // The token is case-sensitive: a changed letter is another token.
    QString flipped = r.token;
    flipped[10] = flipped[10].isUpper() ? flipped[10].toLower() : flipped[10].toUpper();
    if (flipped != r.token)
        QVERIFY(!resolve(flipped));
}

void TestStaff::changePasswordRevokesOtherSessions()
{
    const qint64 id = addOperator(QStringLiteral("chen.jie"), QStringLiteral("operator"), true);
    const LoginResult a = login(QStringLiteral("chen.jie"), kPassword);
    const LoginResult b = login(QStringLiteral("chen.jie"), kPassword);
    QVERIFY(a.mustChangePassword);
    QString error;
    const QString newPassword = QStringLiteral("another long secret");
    const std::optional<PasswordHash> h = hashPassword(newPassword, &error); // before the transaction
    QVERIFY2(h, qPrintable(error));
    QVERIFY(write([&](Transaction &tx) { return changePassword(tx, id, *h, now(), a.sessionId); }).value);
    const std::optional<Session> kept = resolve(a.token);
    QVERIFY(kept);
    QVERIFY(!kept->mustChangePassword);
    QVERIFY(!resolve(b.token));
    QCOMPARE(login(QStringLiteral("chen.jie"), kPassword).outcome, LoginOutcome::BadCredentials);
    const LoginResult c = login(QStringLiteral("chen.jie"), newPassword);
    QCOMPARE(c.outcome, LoginOutcome::Ok);
    QVERIFY(!c.mustChangePassword);
    // Unknown or disabled operators: nothing written.
    QVERIFY(!write([&](Transaction &tx) { return changePassword(tx, 999, *h, now()); }).value);
    write([&](Transaction &tx) {
        tx.db().exec(QStringLiteral("UPDATE operators SET disabled = 1 WHERE id = %1").arg(id));
    });
    QVERIFY(!write([&](Transaction &tx) { return changePassword(tx, id, m_hash, now()); }).value);
}

void TestStaff::resetPasswordUnlocksAndRevokes()
{
    const qint64 id = addOperator(QStringLiteral("lin.tao"));
    const LoginResult a = login(QStringLiteral("lin.tao"), kPassword);
    for (int i = 0; i < 5; ++i)
        login(QStringLiteral("lin.tao"), kWrong);
    QCOMPARE(prepareLogin(*m_reader, QStringLiteral("lin.tao"), now()).outcome, LoginCheckOutcome::Locked);
    QString error;
    const QString temporary = QStringLiteral("temporary secret 1");
    const std::optional<PasswordHash> h = hashPassword(temporary, &error);
    QVERIFY2(h, qPrintable(error));
    QVERIFY(write([&](Transaction &tx) { return resetPassword(tx, id, *h, now()); }).value);
    QVERIFY(!resolve(a.token));
    const LoginResult r = login(QStringLiteral("lin.tao"), temporary);
    QCOMPARE(r.outcome, LoginOutcome::Ok);
    QVERIFY(r.mustChangePassword);
}

// ---- Approvals ------------------------------------------------------------------------------

void TestStaff::needsApprovalRule()
{
    StaffSettings s = m_settings;
    QVERIFY(!needsApproval(ApprovalKind::Refund, 50'000, s));
    QVERIFY(needsApproval(ApprovalKind::Refund, 50'001, s));
    QVERIFY(needsApproval(ApprovalKind::Refund, -50'001, s));
    QVERIFY(!needsApproval(ApprovalKind::Refund, 0, s));
    QVERIFY(needsApproval(ApprovalKind::Reversal, 1, s));
    QVERIFY(needsApproval(ApprovalKind::Adjustment, 0, s));
    QVERIFY(needsApproval(ApprovalKind::ForceOn, 0, s));
    QVERIFY(!needsApproval(ApprovalKind::ForceOff, 0, s));
    QVERIFY(!needsApproval(ApprovalKind::Transfer, 10'000'000, s));
    QVERIFY(!needsApproval(ApprovalKind::BulkCommand, 0, s));
    QVERIFY(!needsApproval(ApprovalKind::TariffChange, 0, s));
    QVERIFY(!needsApproval(ApprovalKind::AccountClose, 0, s));
    QVERIFY(!needsApproval(ApprovalKind::OperatorChange, 0, s));
    s.approvalMoneyThresholdFen = 0; // every refund
    QVERIFY(needsApproval(ApprovalKind::Refund, 1, s));
    // Every kind has a code the schema accepts, and back.
    for (const char *code : {"refund", "reversal", "adjustment", "transfer", "force_on", "force_off", "bulk_command",
             "tariff_change", "account_close", "operator_change"}) {
        const std::optional<ApprovalKind> k = approvalKindFromCode(QString::fromLatin1(code));
        QVERIFY2(k, code);
        QCOMPARE(approvalKindCode(*k), QString::fromLatin1(code));
    }
    QVERIFY(!approvalKindFromCode(QStringLiteral("Refund")));
}

void TestStaff::approveThenExecuteOnce()
{
    const qint64 maker = addOperator(QStringLiteral("maker"), QStringLiteral("cashier"));
    const qint64 checker = addOperator(QStringLiteral("checker"), QStringLiteral("admin"));
    QJsonObject payload;
    payload.insert(QStringLiteral("account_id"), 12);
    payload.insert(QStringLiteral("amount_fen"), 80'000);
    QString error;
    const auto req = write([&](Transaction &tx) {
        return requestApproval(tx, ApprovalKind::Refund, payload, QStringLiteral("  tenant moved out  "), maker, now(),
            m_settings.approvalExpiryMs, &error);
    });
    QVERIFY2(req.value, qPrintable(error));
    const qint64 id = *req.value;

    QString listError;
    std::optional<QList<Approval>> pending = listPending(*m_reader, now(), &listError);
    QVERIFY2(pending, qPrintable(listError));
    QCOMPARE(pending->size(), 1);
    const Approval &p = pending->first();
    QCOMPARE(p.id, id);
    QCOMPARE(p.kind, ApprovalKind::Refund);
    QCOMPARE(p.payload, payload);
    QCOMPARE(p.reason, QStringLiteral("tenant moved out"));
    QCOMPARE(p.requestedBy, maker);
    QCOMPARE(p.requestedByLogin, QStringLiteral("maker"));
    QCOMPARE(p.requestedByName, QStringLiteral("MAKER"));
    QCOMPARE(p.expiresAtMs, now() + m_settings.approvalExpiryMs);
    QCOMPARE(p.state, ApprovalState::Pending);

    m_clock->advanceMs(kMinuteMs);
    // Not executable before approval.
    QVERIFY(!write([&](Transaction &tx) { return markExecuted(tx, id, now()); }).value);
    // Approve and execute in one transaction, as the service must.
    const auto decided = write([&](Transaction &tx) {
        DecideResult d = decide(tx, id, checker, Decision::Approve, QStringLiteral("checked the receipt"), now());
        if (d.outcome == DecideOutcome::Approved)
            markExecuted(tx, id, now());
        return d;
    });
    QVERIFY(decided.committed());
    QCOMPARE(decideOutcomeCode(decided.value.outcome), QStringLiteral("approved"));
    QVERIFY(decided.value.approval);
    QCOMPARE(decided.value.approval->state, ApprovalState::Approved);
    QCOMPARE(decided.value.approval->decidedBy, std::optional<qint64>(checker));
    QCOMPARE(decided.value.approval->decidedAtMs, std::optional<qint64>(now()));
    QCOMPARE(decided.value.approval->decisionNote, QStringLiteral("checked the receipt"));
    QCOMPARE(decided.value.approval->payload, payload);

    const std::optional<Approval> after = loadApproval(*m_reader, id);
    QVERIFY(after);
    QCOMPARE(approvalStateCode(after->state), QStringLiteral("executed"));
    QCOMPARE(after->executedAtMs, std::optional<qint64>(now()));
    // A payload runs at most once.
    QVERIFY(!write([&](Transaction &tx) { return markExecuted(tx, id, now()); }).value);
    pending = listPending(*m_reader, now(), &listError);
    QVERIFY(pending && pending->isEmpty());
}

void TestStaff::rejectNotFoundNotPending()
{
    const qint64 maker = addOperator(QStringLiteral("maker"));
    const qint64 checker = addOperator(QStringLiteral("checker"));
    QString error;
    const qint64 id = *write([&](Transaction &tx) {
        return requestApproval(tx, ApprovalKind::Adjustment, QJsonObject{{QStringLiteral("fen"), -500}},
            QStringLiteral("meter misread"), maker, now(), m_settings.approvalExpiryMs, &error);
    }).value;
    auto d = write([&](Transaction &tx) { return decide(tx, id, checker, Decision::Reject, QString(), now()); });
    QCOMPARE(decideOutcomeCode(d.value.outcome), QStringLiteral("rejected"));
    QCOMPARE(d.value.approval->state, ApprovalState::Rejected);
    QVERIFY(d.value.approval->decisionNote.isEmpty());
    QVERIFY(!write([&](Transaction &tx) { return markExecuted(tx, id, now()); }).value);

    d = write([&](Transaction &tx) { return decide(tx, id, checker, Decision::Approve, QString(), now()); });
    QCOMPARE(decideOutcomeCode(d.value.outcome), QStringLiteral("not_pending"));
    QCOMPARE(d.value.approval->state, ApprovalState::Rejected);

    d = write([&](Transaction &tx) { return decide(tx, 4242, checker, Decision::Approve, QString(), now()); });
    QCOMPARE(decideOutcomeCode(d.value.outcome), QStringLiteral("not_found"));
    QVERIFY(!d.value.approval);
}

void TestStaff::expiredRequest()
{
    const qint64 maker = addOperator(QStringLiteral("maker"));
    const qint64 checker = addOperator(QStringLiteral("checker"));
    QString error;
    const auto make = [&] {
        return *write([&](Transaction &tx) {
            return requestApproval(tx, ApprovalKind::ForceOn, QJsonObject{{QStringLiteral("point_id"), 9}},
                QStringLiteral("hospital fridge"), maker, now(), m_settings.approvalExpiryMs, &error);
        }).value;
    };
    const qint64 first = make();
    const qint64 second = make();
    m_clock->advanceMs(m_settings.approvalExpiryMs);
    // Out of the queue at its expiry, before anyone marks it.
    QVERIFY(listPending(*m_reader, now(), &error)->isEmpty());
    auto d = write([&](Transaction &tx) { return decide(tx, first, checker, Decision::Approve, QString(), now()); });
    QCOMPARE(decideOutcomeCode(d.value.outcome), QStringLiteral("expired"));
    QCOMPARE(loadApproval(*m_reader, first)->state, ApprovalState::Expired);
    QVERIFY(!write([&](Transaction &tx) { return markExecuted(tx, first, now()); }).value);
    QCOMPARE(write([&](Transaction &tx) { return expireApprovals(tx, now()); }).value, 1); // the second
    QCOMPARE(loadApproval(*m_reader, second)->state, ApprovalState::Expired);
    d = write([&](Transaction &tx) { return decide(tx, second, checker, Decision::Approve, QString(), now()); });
    QCOMPARE(d.value.outcome, DecideOutcome::NotPending);
}

void TestStaff::makerCannotDecide()
{
    const qint64 maker = addOperator(QStringLiteral("maker"), QStringLiteral("admin"));
    QString error;
    const qint64 id = *write([&](Transaction &tx) {
        return requestApproval(tx, ApprovalKind::Reversal, QJsonObject{{QStringLiteral("entry_id"), 77}},
            QStringLiteral("double charge"), maker, now(), m_settings.approvalExpiryMs, &error);
    }).value;
    for (const Decision decision : {Decision::Approve, Decision::Reject}) {
        const auto d = write([&](Transaction &tx) { return decide(tx, id, maker, decision, QString(), now()); });
        QCOMPARE(decideOutcomeCode(d.value.outcome), QStringLiteral("self_approval"));
        QCOMPARE(d.value.approval->state, ApprovalState::Pending);
    }
    QCOMPARE(loadApproval(*m_reader, id)->state, ApprovalState::Pending);
    QCOMPARE(listPending(*m_reader, now(), &error)->size(), 1);
}

void TestStaff::cancelByTheMakerOnly()
{
    const qint64 maker = addOperator(QStringLiteral("maker"));
    const qint64 other = addOperator(QStringLiteral("other"));
    QString error;
    const qint64 id = *write([&](Transaction &tx) {
        return requestApproval(tx, ApprovalKind::BulkCommand, QJsonObject{}, QStringLiteral("sync clocks"), maker,
            now(), m_settings.approvalExpiryMs, &error);
    }).value;
    auto c = write([&](Transaction &tx) { return cancelApproval(tx, id, other, now()); });
    QCOMPARE(cancelOutcomeCode(c.value), QStringLiteral("not_requester"));
    c = write([&](Transaction &tx) { return cancelApproval(tx, id, maker, now()); });
    QCOMPARE(cancelOutcomeCode(c.value), QStringLiteral("cancelled"));
    QCOMPARE(loadApproval(*m_reader, id)->state, ApprovalState::Cancelled);
    c = write([&](Transaction &tx) { return cancelApproval(tx, id, maker, now()); });
    QCOMPARE(c.value, CancelOutcome::NotPending);
    c = write([&](Transaction &tx) { return cancelApproval(tx, 999, maker, now()); });
    QCOMPARE(c.value, CancelOutcome::NotFound);
    const auto d = write([&](Transaction &tx) { return decide(tx, id, other, Decision::Approve, QString(), now()); });
    QCOMPARE(d.value.outcome, DecideOutcome::NotPending);
}

void TestStaff::requestValidation()
{
    const qint64 maker = addOperator(QStringLiteral("maker"));
    QString error;
    const auto attempt = [&](const QString &reason, const QJsonObject &payload, qint64 expiryMs) {
        return write([&](Transaction &tx) {
            return requestApproval(tx, ApprovalKind::Refund, payload, reason, maker, now(), expiryMs, &error);
        }).value;
    };
    QVERIFY(!attempt(QStringLiteral("   "), {}, 1000));
    QVERIFY2(error.startsWith(u"reason"), qPrintable(error));
    QVERIFY(!attempt(QString(kApprovalReasonMaxChars + 1, u'x'), {}, 1000));
    QVERIFY2(error.startsWith(u"reason"), qPrintable(error));
    QVERIFY(!attempt(
        QStringLiteral("ok"), QJsonObject{{QStringLiteral("big"), QString(kApprovalPayloadMaxBytes, u'x')}}, 1000));
    QVERIFY2(error.startsWith(u"payload"), qPrintable(error));
    QVERIFY(!attempt(QStringLiteral("ok"), {}, 0));
    QVERIFY2(error.startsWith(u"expiry"), qPrintable(error));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM approvals")), 0);
    // An unknown maker is refused by the foreign key: the job fails, nothing kept.
    const auto w
        = m_store
              ->write([&](Transaction &tx) {
                  return requestApproval(tx, ApprovalKind::Refund, {}, QStringLiteral("ok"), 999, now(), 1000, &error);
              })
              .get();
    QCOMPARE(w.status, WriteStatus::Failed);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM approvals")), 0);
}

void TestStaff::schemaChecksRefuse()
{
    const qint64 maker = addOperator(QStringLiteral("maker"));
    const qint64 checker = addOperator(QStringLiteral("checker"));
    QString error;
    const qint64 id = *write([&](Transaction &tx) {
        return requestApproval(tx, ApprovalKind::Refund, {}, QStringLiteral("r"), maker, now(), 1000, &error);
    }).value;
    // What the code never writes, the schema refuses too.
    const QStringList refused{
        // the maker as the decider
        QStringLiteral(
            "UPDATE approvals SET state = 'approved', decided_by = requested_by, decided_at_ms = 1 WHERE id = %1"),
        // approved by nobody
        QStringLiteral("UPDATE approvals SET state = 'approved' WHERE id = %1"),
        // a decider without a time
        QStringLiteral("UPDATE approvals SET state = 'rejected', decided_by = %2 WHERE id = %1"),
        // executed without a time
        QStringLiteral("UPDATE approvals SET state = 'executed', decided_by = %2, decided_at_ms = 1 WHERE id = %1"),
        // a state or kind the schema does not know; a payload that is not JSON
        QStringLiteral("UPDATE approvals SET state = 'done' WHERE id = %1"),
        QStringLiteral("UPDATE approvals SET kind = 'gift' WHERE id = %1"),
        QStringLiteral("UPDATE approvals SET payload = '{not json' WHERE id = %1"),
    };
    for (const QString &sql : refused) {
        const QString statement
            = QString(sql).replace(u"%1"_s, QString::number(id)).replace(u"%2"_s, QString::number(checker));
        const auto w = m_store
                           ->write([&](Transaction &tx) {
                               const SqlError e = tx.db().exec(statement);
                               if (!e.ok())
                                   tx.fail(e);
                           })
                           .get();
        QVERIFY2(w.status == WriteStatus::Failed && w.error.isConstraint(), qPrintable(statement));
    }
    QCOMPARE(loadApproval(*m_reader, id)->state, ApprovalState::Pending);
    // The schema's own default.
    const std::optional<Approval> a = loadApproval(*m_reader, id);
    QVERIFY(!a->decidedBy && !a->decidedAtMs && !a->executedAtMs);
}

QTEST_GUILESS_MAIN(TestStaff)
#include "tst_staff.moc"
