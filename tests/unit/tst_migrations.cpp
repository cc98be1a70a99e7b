// Migrations: empty → head; re-open is a no-op; a database newer than the code is refused and
// left untouched; a failed migration (one step or the last of several) leaves the original
// content in place and a copy beside it; a failed copy applies nothing.
#include "manualclock.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::store;

namespace {

Migration migration(int version, const char *sql)
{
    return Migration{version, QStringLiteral("%1_test.sql").arg(version, 4, 10, QChar(u'0')), QString::fromUtf8(sql)};
}

const char createAccounts[] = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT;"
                              "INSERT INTO accounts (name) VALUES ('闽味小馆'), ('星河便利店');";
const char addShops[] = "CREATE TABLE shops (id INTEGER PRIMARY KEY, code TEXT NOT NULL) STRICT;"
                        "INSERT INTO shops (code) VALUES ('A-3F-301');";
// Fails half-way: the table is created, then the INSERT names a missing column.
const char broken[] = "CREATE TABLE meters (id INTEGER PRIMARY KEY) STRICT;"
                      "INSERT INTO meters (serial) VALUES (1);";

StoreOptions withMigrations(std::initializer_list<Migration> migrations)
{
    StoreOptions options;
    options.migrations = migrations;
    return options;
}

QByteArray fileHash(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

// Schema and content of a database as text, to compare "the same database" across runs.
QString dump(const QString &path)
{
    SqlError error;
    auto db = Connection::open(path, Connection::Mode::ReadOnly, 1000, &error);
    if (!db)
        return QStringLiteral("cannot open: ") + error.message;
    QString text = QStringLiteral("user_version=%1\n").arg(db->queryInt(QStringLiteral("PRAGMA user_version"), &error));
    Statement tables = db->prepare(QStringLiteral("SELECT name, sql FROM sqlite_schema ORDER BY name"));
    QStringList names;
    while (tables.step() == Statement::Step::Row) {
        text += tables.text(1) + u'\n';
        if (tables.text(1).startsWith(u"CREATE TABLE"))
            names.append(tables.text(0));
    }
    for (const QString &name : names) {
        Statement rows = db->prepare(QStringLiteral("SELECT * FROM \"%1\" ORDER BY 1").arg(name));
        while (rows.step() == Statement::Step::Row)
            text += name + u':' + rows.text(0) + u',' + rows.text(1) + u'\n';
    }
    return text;
}

int userVersion(const QString &path)
{
    SqlError error;
    auto db = Connection::open(path, Connection::Mode::ReadOnly, 1000, &error);
    return db ? int(db->queryInt(QStringLiteral("PRAGMA user_version"), &error)) : -1;
}

QStringList backups(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral("*.bak")}, QDir::Files);
}

} // namespace

class TestMigrations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void builtInMigrationsAreWellFormed();
    void emptyToHead();
    void reopenIsNoOp();
    void newerThanCodeIsRefusedUntouched();
    void failedMigrationLeavesOriginalIntact();
    void failedLastOfSeveralRestoresOriginal();
    void scriptThatCommitsItselfIsRefused();
    void failedCopyAppliesNothing();
    void notADatabaseIsRefused();

private:
    void openAtVersion1()
    {
        QVERIFY(Store::open(m_path, m_clock, withMigrations({migration(1, createAccounts)})).store);
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    test::ManualClock m_clock;
};

void TestMigrations::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(QStringLiteral("prepay.db"));
}

void TestMigrations::builtInMigrationsAreWellFormed()
{
    const QList<Migration> migrations = builtInMigrations();
    QVERIFY(!migrations.isEmpty());
    // The runner owns the transaction and the version: a script must not touch either. (A
    // trigger's "BEGIN <statement> … END;" is fine; "BEGIN;" or "COMMIT;" on its own is not.)
    static const QRegularExpression forbidden(
        QStringLiteral("\\bBEGIN(\\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?(\\s+TRANSACTION)?\\s*;"
                       "|^\\s*(COMMIT|ROLLBACK)(\\s+TRANSACTION)?\\s*;"
                       "|PRAGMA\\s+(user_version|journal_mode|foreign_keys)\\b"),
        QRegularExpression::CaseInsensitiveOption | QRegularExpression::MultilineOption);
    for (qsizetype i = 0; i < migrations.size(); ++i) {
        QCOMPARE(migrations[i].version, i + 1);
        const QRegularExpressionMatch match = forbidden.match(migrations[i].sql);
        QVERIFY2(!match.hasMatch(), qPrintable(migrations[i].name + QStringLiteral(" contains ") + match.captured(0)));
    }
}

void TestMigrations::emptyToHead()
{
    const OpenResult opened = Store::open(m_path, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    QCOMPARE(opened.migration.outcome, MigrationOutcome::Migrated);
    QCOMPARE(opened.migration.fromVersion, 0);
    const int head = int(builtInMigrations().size());
    QCOMPARE(opened.migration.toVersion, head);
    QCOMPARE(opened.store->schemaVersion(), head);
    QVERIFY(opened.migration.backupPath.isEmpty()); // a new, empty file needs no copy
    QVERIFY(backups(m_dir->path()).isEmpty());

    auto reader = opened.store->openReader();
    QVERIFY(reader);
    SqlError error;
    for (const char *table : {"buildings", "gateways", "buses", "meters", "metering_points", "accounts", "tariffs",
             "tariff_versions", "readings", "ledger_entries", "ledger_postings", "payment_attempts", "meter_commands",
             "alarms", "operators", "audit_log", "kiosks", "settings", "meter_state", "bus_health"}) {
        Statement s
            = reader->prepare(QStringLiteral("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1"));
        s.bind(1, QString::fromLatin1(table));
        QCOMPARE(s.step(), Statement::Step::Row);
        QVERIFY2(s.int64(0) == 1, table);
    }
    Statement mode = reader->prepare(QStringLiteral("PRAGMA journal_mode"));
    QCOMPARE(mode.step(), Statement::Step::Row);
    QCOMPARE(mode.text(0), QStringLiteral("wal"));
}

void TestMigrations::reopenIsNoOp()
{
    {
        const OpenResult first = Store::open(m_path, m_clock);
        QVERIFY(first.store);
    }
    const QString before = dump(m_path);
    const OpenResult second = Store::open(m_path, m_clock);
    QVERIFY(second.store);
    QCOMPARE(second.migration.outcome, MigrationOutcome::UpToDate);
    QVERIFY(second.migration.backupPath.isEmpty());
    QVERIFY(backups(m_dir->path()).isEmpty());
    QCOMPARE(dump(m_path), before);
}

void TestMigrations::newerThanCodeIsRefusedUntouched()
{
    {
        openAtVersion1();
        SqlError error;
        auto db = Connection::open(m_path, Connection::Mode::ReadWrite, 1000, &error);
        QVERIFY(db->exec(QStringLiteral("PRAGMA user_version = 7")).ok());
    } // last connection closed: the WAL is folded into the file, which is now stable on disk
    const QByteArray hashBefore = fileHash(m_path);
    QVERIFY(!hashBefore.isEmpty());

    const StoreOptions options = withMigrations({migration(1, createAccounts), migration(2, addShops)});
    const OpenResult opened = Store::open(m_path, m_clock, options);
    QVERIFY(!opened.store);
    QCOMPARE(opened.outcome, OpenOutcome::NewerThanCode);
    QCOMPARE(exitCodeFor(opened.outcome), 65);
    QVERIFY2(opened.message.contains(u"schema version 7") && opened.message.contains(u"up to 2"),
        qPrintable(opened.message));
    QCOMPARE(fileHash(m_path), hashBefore);
    QCOMPARE(userVersion(m_path), 7);
    QVERIFY(backups(m_dir->path()).isEmpty());
}

void TestMigrations::failedMigrationLeavesOriginalIntact()
{
    openAtVersion1();
    const QString before = dump(m_path);

    const StoreOptions v2 = withMigrations({migration(1, createAccounts), migration(2, broken)});
    const OpenResult opened = Store::open(m_path, m_clock, v2);
    QVERIFY(!opened.store);
    QCOMPARE(opened.outcome, OpenOutcome::MigrationFailed);
    QCOMPARE(exitCodeFor(opened.outcome), 70);
    QVERIFY2(
        opened.message.contains(u"0002_test.sql") && opened.message.contains(u"serial"), qPrintable(opened.message));
    QVERIFY2(opened.message.contains(u"unchanged at schema version 1"), qPrintable(opened.message));

    QCOMPARE(dump(m_path), before); // no "meters" table, same rows, still v1
    QCOMPARE(backups(m_dir->path()).size(), 1);
    QCOMPARE(dump(m_dir->filePath(backups(m_dir->path()).first())), before);
}

void TestMigrations::failedLastOfSeveralRestoresOriginal()
{
    openAtVersion1();
    const QString before = dump(m_path);

    // v2 succeeds and commits; v3 fails: the file must go back to v1, not stay at v2.
    const StoreOptions v3
        = withMigrations({migration(1, createAccounts), migration(2, addShops), migration(3, broken)});
    const OpenResult opened = Store::open(m_path, m_clock, v3);
    QCOMPARE(opened.outcome, OpenOutcome::MigrationFailed);
    QCOMPARE(opened.migration.toVersion, 1);
    QCOMPARE(dump(m_path), before);
    QCOMPARE(userVersion(m_path), 1);

    // And the next start with a fixed v3 migrates cleanly from v1.
    m_clock.advanceMs(1000);
    const StoreOptions fixed = withMigrations({migration(1, createAccounts), migration(2, addShops),
        migration(3, "CREATE TABLE meters (id INTEGER PRIMARY KEY) STRICT;")});
    const OpenResult retried = Store::open(m_path, m_clock, fixed);
    QVERIFY2(retried.store, qPrintable(retried.message));
    QCOMPARE(retried.migration.fromVersion, 1);
    QCOMPARE(retried.store->schemaVersion(), 3);
}

void TestMigrations::scriptThatCommitsItselfIsRefused()
{
    openAtVersion1();
    const QString before = dump(m_path);

    const StoreOptions v2 = withMigrations(
        {migration(1, createAccounts), migration(2, "CREATE TABLE sneaky (x INTEGER) STRICT; COMMIT;")});
    const OpenResult opened = Store::open(m_path, m_clock, v2);
    QCOMPARE(opened.outcome, OpenOutcome::MigrationFailed);
    QVERIFY2(opened.message.contains(u"ended the migration's transaction"), qPrintable(opened.message));
    QCOMPARE(dump(m_path), before);
}

void TestMigrations::failedCopyAppliesNothing()
{
    openAtVersion1();
    const QString before = dump(m_path);

    // The copy's name is fixed by the clock; a directory in its place makes the copy fail.
    const QString stamp = m_clock.wallNow().toString(QStringLiteral("yyyyMMddThhmmsszzz"));
    QVERIFY(QDir().mkpath(QStringLiteral("%1.v1-%2.bak").arg(m_path, stamp)));

    const StoreOptions v2 = withMigrations({migration(1, createAccounts), migration(2, addShops)});
    const OpenResult opened = Store::open(m_path, m_clock, v2);
    QCOMPARE(opened.outcome, OpenOutcome::BackupFailed);
    QCOMPARE(exitCodeFor(opened.outcome), 73);
    QCOMPARE(dump(m_path), before);
}

void TestMigrations::notADatabaseIsRefused()
{
    QFile junk(m_path);
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write(QByteArray(8192, 'x'));
    junk.close();
    const QByteArray hashBefore = fileHash(m_path);
    const OpenResult opened = Store::open(m_path, m_clock);
    QCOMPARE(opened.outcome, OpenOutcome::CannotOpen);
    QCOMPARE(exitCodeFor(opened.outcome), 66);
    QVERIFY2(opened.message.contains(u"not a database"), qPrintable(opened.message));
    QCOMPARE(fileHash(m_path), hashBefore);
}

QTEST_GUILESS_MAIN(TestMigrations)
#include "tst_migrations.moc"
