// prepayctl backup, restore, verify and audit verify, run in-process on real temporary
// databases (head schema, demo seed, audit rows): a backup taken while another thread keeps
// writing verifies; backup never overwrites a file, and keeps a copy of a database whose audit
// chain is broken but exits 2; a restore brings the file back to the
// backup (a later change disappears) and keeps the file it replaced; restore refuses a damaged
// backup, one with a newer schema, one whose audit chain is broken (unless --force), and a
// database that is open — each time changing nothing; an older backup is accepted; verify and
// audit verify name a broken audit row with exit 1.
#include "audit/audit.h"
#include "ctl/auditcommands.h"
#include "ctl/backupcommands.h"
#include "ctl/command.h"
#include "manualclock.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <atomic>
#include <thread>

using namespace prepay;
using namespace prepay::store;

namespace {

constexpr qint64 kT0 = 1'795'000'000'000; // 2026-11-18 11:06:40 UTC

const char *const kFixture = R"sql(
INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, password_params,
                       created_at_ms, updated_at_ms)
VALUES (1, 'test-operator', 'Test Operator', 'operator', zeroblob(32), zeroblob(16), 'none', 0, 0);
)sql";

struct Ran
{
    int rc = -1;
    QString out;
    QString err;
};

QString describe(const Ran &r)
{
    return QStringLiteral("exit %1\n--- stdout\n%2--- stderr\n%3").arg(r.rc).arg(r.out, r.err);
}

audit::Entry entryNo(qint64 i)
{
    audit::Entry e;
    e.atMs = kT0 + i;
    e.operatorId = 1;
    e.sourceAddress = QStringLiteral("local");
    e.action = QStringLiteral("account.open");
    e.subjectKind = QStringLiteral("account");
    e.subjectId = QString::number(i);
    e.afterJson = QStringLiteral(R"({"n":%1})").arg(i).toUtf8();
    return e;
}

QByteArray fileHash(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    h.addData(&f);
    return h.result().toHex();
}

qint64 auditRows(const QString &path)
{
    SqlError error;
    const auto db = Connection::open(path, Connection::Mode::ReadOnly, 5000, &error);
    if (!db)
        return -1;
    return db->queryInt(QStringLiteral("SELECT count(*) FROM audit_log"), &error);
}

} // namespace

class TestBackup : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void backupWhileAnotherThreadWrites();
    void backupNeverOverwrites();
    void backupOfABrokenChainIsKeptButSaysSo();
    void restoreRoundTrip();
    void restoreRefusesAnOpenDatabase();
    void restoreRefusesADamagedBackup_data();
    void restoreRefusesADamagedBackup();
    void restoreRefusesANewerSchema();
    void restoreAcceptsAnOlderSchema();
    void restoreNeedsForceForABrokenAuditChain();
    void verifyNamesABrokenAuditRow();

private:
    Ran prepayctl(const QStringList &arguments);
    QString path(const QString &name) const { return m_dir->filePath(name); }
    void appendAudit(qint64 from, qint64 count);
    // A backup of the fixture at `name`, through the command.
    void takeBackup(const QString &name);
    void closeStore();
    QStringList files() const { return QDir(m_dir->path()).entryList(QDir::Files | QDir::Hidden, QDir::Name); }

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock{kT0};
    std::unique_ptr<Store> m_store;
    QString m_db;
};

void TestBackup::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_db = path(QStringLiteral("prepay.db"));
    OpenResult opened = Store::open(m_db, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QCOMPARE(applySeed(*m_store, QStringLiteral("demo")).outcome, SeedOutcome::Applied);
    QVERIFY(test::runScript(*m_store, QString::fromUtf8(kFixture)));
    appendAudit(1, 5);
}

void TestBackup::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

Ran TestBackup::prepayctl(const QStringList &arguments)
{
    Ran r;
    QTextStream o(&r.out);
    QTextStream e(&r.err);
    r.rc = ctl::runCommandLine(QStringList{QStringLiteral("prepayctl")} + arguments,
        ctl::auditCommands() + ctl::backupCommands(m_clock), o, e);
    o.flush();
    e.flush();
    return r;
}

void TestBackup::appendAudit(qint64 from, qint64 count)
{
    const auto written = m_store
                             ->write([from, count](Transaction &tx) {
                                 for (qint64 i = from; i < from + count && !tx.rollbackRequested(); ++i)
                                     audit::append(tx, entryNo(i));
                             })
                             .get();
    QVERIFY2(written.committed(), qPrintable(written.error.toString()));
}

void TestBackup::takeBackup(const QString &name)
{
    const Ran r = prepayctl({QStringLiteral("backup"), QStringLiteral("--db"), m_db, QStringLiteral("--out"), path(name)});
    QVERIFY2(r.rc == 0, qPrintable(describe(r)));
}

void TestBackup::closeStore()
{
    m_store.reset();
    QVERIFY(!QFile::exists(m_db + QStringLiteral("-wal")));
}

void TestBackup::backupWhileAnotherThreadWrites()
{
    // The writer commits one audit row per transaction, as fast as it can, for the whole test.
    std::atomic<bool> stop{false};
    std::atomic<qint64> committed{5};
    std::atomic<bool> writerFailed{false};
    std::thread writer([&] {
        while (!stop.load()) {
            const qint64 next = committed.load() + 1;
            const auto w = m_store->write([next](Transaction &tx) { audit::append(tx, entryNo(next)); }).get();
            if (!w.committed()) {
                writerFailed = true;
                return;
            }
            committed = next;
        }
    });
    const auto waitFor = [&committed](qint64 rows) {
        for (int i = 0; i < 2000 && committed.load() < rows; ++i)
            QTest::qSleep(5);
    };

    QList<qint64> copied;
    for (int n = 1; n <= 3; ++n) {
        waitFor(committed.load() + 50);
        const qint64 before = committed.load();
        const QString out = path(QStringLiteral("backup-%1.db").arg(n));
        const Ran r = prepayctl({QStringLiteral("backup"), QStringLiteral("--db"), m_db, QStringLiteral("--out"), out});
        const qint64 after = committed.load();
        QVERIFY2(r.rc == 0, qPrintable(describe(r)));
        QVERIFY2(r.out.contains(QStringLiteral("copy audit verify:")), qPrintable(r.out));
        const qint64 rows = auditRows(out);
        QVERIFY2(rows >= before && rows <= after, qPrintable(QStringLiteral("%1 ≤ %2 ≤ %3").arg(before).arg(rows).arg(after)));
        copied.append(rows);

        const Ran verified = prepayctl({QStringLiteral("verify"), QStringLiteral("--db"), out});
        QVERIFY2(verified.rc == 0, qPrintable(describe(verified)));
        QVERIFY2(verified.out.contains(QStringLiteral("audit verify:       ok: %1 rows").arg(rows)), qPrintable(verified.out));
    }
    waitFor(committed.load() + 50);
    stop = true;
    writer.join();
    QVERIFY(!writerFailed.load());
    QVERIFY2(copied.last() > copied.first() && committed.load() > copied.last(),
        qPrintable(QStringLiteral("copies %1, %2, %3 of %4 rows").arg(copied[0]).arg(copied[1]).arg(copied[2]).arg(committed.load())));
    qInfo("backups of %lld, %lld and %lld audit rows while %lld were written", copied[0], copied[1], copied[2],
        committed.load());

    // Only the database and the three backups are left: no partial files, no journals.
    QStringList expected{QStringLiteral("backup-1.db"), QStringLiteral("backup-2.db"), QStringLiteral("backup-3.db"),
        QStringLiteral("prepay.db"), QStringLiteral("prepay.db-shm"), QStringLiteral("prepay.db-wal")};
    QCOMPARE(files(), expected);
}

void TestBackup::backupNeverOverwrites()
{
    const QString out = path(QStringLiteral("keep.db"));
    {
        QFile f(out);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("keep me");
    }
    const Ran r = prepayctl({QStringLiteral("backup"), QStringLiteral("--db"), m_db, QStringLiteral("--out"), out});
    QVERIFY2(r.rc == 73 && r.err.contains(QStringLiteral("never overwrites")), qPrintable(describe(r)));
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("keep me"));

    const Ran noOut = prepayctl({QStringLiteral("backup"), QStringLiteral("--db"), m_db});
    QCOMPARE(noOut.rc, 64);
    const Ran noDir = prepayctl({QStringLiteral("backup"), QStringLiteral("--db"), m_db, QStringLiteral("--out"),
        path(QStringLiteral("missing/x.db"))});
    QCOMPARE(noDir.rc, 73);
}

void TestBackup::backupOfABrokenChainIsKeptButSaysSo()
{
    closeStore();
    {
        SqlError error;
        const auto db = Connection::open(m_db, Connection::Mode::ReadWrite, 5000, &error);
        QVERIFY(db);
        QVERIFY(db->exec(QStringLiteral("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3;")).ok());
    }
    const QString out = path(QStringLiteral("b.db"));
    const Ran r = prepayctl({QStringLiteral("backup"), QStringLiteral("--db"), m_db, QStringLiteral("--out"), out});
    QVERIFY2(r.rc == 2 && r.out.contains(QStringLiteral("copy audit verify:       broken at seq 3")), qPrintable(describe(r)));
    QVERIFY(QFile::exists(out));
    QCOMPARE(auditRows(out), 4);
}

void TestBackup::restoreRoundTrip()
{
    takeBackup(QStringLiteral("b.db"));
    appendAudit(6, 3); // the change made after the backup
    closeStore();
    QCOMPARE(auditRows(m_db), 8);

    m_clock.advanceMs(60'000);
    const Ran r = prepayctl(
        {QStringLiteral("restore"), QStringLiteral("--db"), m_db, QStringLiteral("--from"), path(QStringLiteral("b.db"))});
    QVERIFY2(r.rc == 0, qPrintable(describe(r)));
    const QString kept = m_db + QStringLiteral(".before-restore-20261118T110740Z");
    QVERIFY2(r.out.contains(kept), qPrintable(r.out));

    QCOMPARE(auditRows(m_db), 5);
    QCOMPARE(auditRows(kept), 8);
    QCOMPARE(files(),
        (QStringList{QStringLiteral("b.db"), QStringLiteral("prepay.db"), QFileInfo(kept).fileName()}));

    // prepayd opens the restored file as usual and goes on appending to the chain.
    OpenResult opened = Store::open(m_db, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    appendAudit(6, 1);
    closeStore();
    const Ran verified = prepayctl({QStringLiteral("verify"), QStringLiteral("--db"), m_db});
    QVERIFY2(verified.rc == 0 && verified.out.contains(QStringLiteral("ok: 6 rows")), qPrintable(describe(verified)));
}

void TestBackup::restoreRefusesAnOpenDatabase()
{
    takeBackup(QStringLiteral("b.db"));
    appendAudit(6, 1);
    const QStringList before = files();
    const Ran r = prepayctl(
        {QStringLiteral("restore"), QStringLiteral("--db"), m_db, QStringLiteral("--from"), path(QStringLiteral("b.db"))});
    QVERIFY2(r.rc == 75 && r.err.contains(QStringLiteral("prepayd seems to be running")), qPrintable(describe(r)));
    QCOMPARE(files(), before);
    closeStore();
    QCOMPARE(auditRows(m_db), 6);
}

void TestBackup::restoreRefusesADamagedBackup_data()
{
    QTest::addColumn<QString>("damage");
    QTest::newRow("truncated to half") << QStringLiteral("truncate");
    QTest::newRow("pages garbled") << QStringLiteral("pages");
    QTest::newRow("header garbled") << QStringLiteral("header");
    QTest::newRow("a table's root page garbled") << QStringLiteral("table");
}

void TestBackup::restoreRefusesADamagedBackup()
{
    QFETCH(QString, damage);
    takeBackup(QStringLiteral("b.db"));
    closeStore();
    qint64 rootPage = 0;
    {
        SqlError error;
        const auto db = Connection::open(path(QStringLiteral("b.db")), Connection::Mode::ReadOnly, 5000, &error);
        QVERIFY(db);
        rootPage = db->queryInt(QStringLiteral("SELECT rootpage FROM sqlite_schema WHERE name = 'ledger_accounts'"), &error);
        QVERIFY(rootPage > 1);
    }
    QFile backup(path(QStringLiteral("b.db")));
    QVERIFY(backup.open(QIODevice::ReadWrite));
    const qint64 size = backup.size();
    constexpr qint64 kPage = 4096;
    if (damage == u"truncate") {
        QVERIFY(backup.resize(size / 2));
    } else if (damage == u"pages") {
        for (qint64 page = 2; page * kPage < size; page += 2) {
            QVERIFY(backup.seek((page - 1) * kPage));
            backup.write(QByteArray(64, '\xa5'));
        }
    } else if (damage == u"table") {
        QVERIFY(backup.seek((rootPage - 1) * kPage));
        backup.write(QByteArray(64, '\xa5'));
    } else {
        backup.write(QByteArray(16, 'x'));
    }
    backup.close();

    const QByteArray current = fileHash(m_db);
    const QStringList before = files();
    for (const bool force : {false, true}) {
        QStringList arguments{QStringLiteral("restore"), QStringLiteral("--db"), m_db, QStringLiteral("--from"),
            path(QStringLiteral("b.db"))};
        if (force)
            arguments << QStringLiteral("--force");
        const Ran r = prepayctl(arguments);
        QVERIFY2(r.rc == 1 && r.err.contains(QStringLiteral("Nothing changed")), qPrintable(describe(r)));
        if (!force)
            qInfo("%s", qPrintable(r.out + r.err));
        QCOMPARE(files(), before);
        QCOMPARE(fileHash(m_db), current);
    }
}

void TestBackup::restoreRefusesANewerSchema()
{
    takeBackup(QStringLiteral("b.db"));
    closeStore();
    {
        SqlError error;
        const auto db = Connection::open(path(QStringLiteral("b.db")), Connection::Mode::ReadWrite, 5000, &error);
        QVERIFY(db);
        QVERIFY(db->exec(QStringLiteral("PRAGMA user_version = %1").arg(builtInMigrations().size() + 1)).ok());
    }
    const QByteArray current = fileHash(m_db);
    const QStringList before = files();
    const Ran r = prepayctl(
        {QStringLiteral("restore"), QStringLiteral("--db"), m_db, QStringLiteral("--from"), path(QStringLiteral("b.db"))});
    QVERIFY2(r.rc == 65 && r.err.contains(QStringLiteral("newer than this prepayctl")), qPrintable(describe(r)));
    QCOMPARE(files(), before);
    QCOMPARE(fileHash(m_db), current);
}

void TestBackup::restoreAcceptsAnOlderSchema()
{
    closeStore();
    const QString old = path(QStringLiteral("old.db"));
    {
        StoreOptions options;
        options.migrations = builtInMigrations().mid(0, 3);
        OpenResult opened = Store::open(old, m_clock, options);
        QVERIFY2(opened.store, qPrintable(opened.message));
    }
    const Ran r = prepayctl({QStringLiteral("restore"), QStringLiteral("--db"), m_db, QStringLiteral("--from"), old});
    QVERIFY2(r.rc == 0, qPrintable(describe(r)));
    QVERIFY2(r.out.contains(QStringLiteral("ledger verify:      skipped: schema v3")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("prepayd migrates it to v%1").arg(builtInMigrations().size())), qPrintable(r.out));
    OpenResult opened = Store::open(m_db, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    QCOMPARE(opened.migration.fromVersion, 3);
    QCOMPARE(opened.store->schemaVersion(), int(builtInMigrations().size()));
}

void TestBackup::restoreNeedsForceForABrokenAuditChain()
{
    takeBackup(QStringLiteral("b.db"));
    closeStore();
    {
        SqlError error;
        const auto db = Connection::open(path(QStringLiteral("b.db")), Connection::Mode::ReadWrite, 5000, &error);
        QVERIFY(db);
        QVERIFY(db->exec(QStringLiteral("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = 'x' WHERE seq = 4;"))
                    .ok());
    }
    const QStringList arguments{
        QStringLiteral("restore"), QStringLiteral("--db"), m_db, QStringLiteral("--from"), path(QStringLiteral("b.db"))};
    const QStringList before = files();
    const Ran refused = prepayctl(arguments);
    QVERIFY2(refused.rc == 1 && refused.out.contains(QStringLiteral("broken at seq 4")), qPrintable(describe(refused)));
    QCOMPARE(files(), before);

    const Ran forced = prepayctl(arguments + QStringList{QStringLiteral("--force")});
    QVERIFY2(forced.rc == 0, qPrintable(describe(forced)));
    const Ran verified = prepayctl({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--db"), m_db});
    QCOMPARE(verified.rc, 1);
}

void TestBackup::verifyNamesABrokenAuditRow()
{
    const Ran intact = prepayctl({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--db"), m_db});
    QVERIFY2(intact.rc == 0 && intact.out == u"audit chain ok: 5 rows\n", qPrintable(describe(intact)));

    {
        SqlError error;
        const auto db = Connection::open(m_db, Connection::Mode::ReadWrite, 5000, &error);
        QVERIFY(db);
        QVERIFY(db->exec(QStringLiteral("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET at_ms = 0 WHERE seq = 2;"))
                    .ok());
    }
    const Ran audit = prepayctl({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--db"), m_db});
    QVERIFY2(audit.rc == 1 && audit.out.startsWith(QStringLiteral("audit chain broken at seq 2: ")), qPrintable(describe(audit)));

    const Ran json = prepayctl(
        {QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--db"), m_db, QStringLiteral("--json")});
    QCOMPARE(json.rc, 1);
    const QJsonObject o = QJsonDocument::fromJson(json.out.toUtf8()).object();
    QCOMPARE(o.value(QStringLiteral("ok")).toBool(true), false);
    QCOMPARE(o.value(QStringLiteral("first_broken_seq")).toInteger(), 2);
    QCOMPARE(o.value(QStringLiteral("rows_checked")).toInteger(), 1);

    const Ran all = prepayctl({QStringLiteral("verify"), QStringLiteral("--db"), m_db});
    QVERIFY2(all.rc == 1, qPrintable(describe(all)));
    const QStringList lines = all.out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines.at(0), QStringLiteral("integrity_check:    ok"));
    QCOMPARE(lines.at(1), QStringLiteral("foreign_key_check:  ok"));
    QVERIFY2(lines.at(2).startsWith(QStringLiteral("ledger verify:      ok: ")), qPrintable(lines.at(2)));
    QVERIFY2(lines.at(3).startsWith(QStringLiteral("audit verify:       broken at seq 2: ")), qPrintable(lines.at(3)));
}

QTEST_GUILESS_MAIN(TestBackup)
#include "tst_backup.moc"
