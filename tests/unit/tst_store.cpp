// The store's writer: many threads submitting at once all commit, in order per submitter,
// with no SQLITE_BUSY surfacing; a job that rolls back or fails keeps nothing; shutting down
// finishes what was submitted. And the schema's append-only tables refuse UPDATE and DELETE.
#include "manualclock.h"
#include "store/store.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <atomic>
#include <thread>

using namespace prepay;
using namespace prepay::store;

namespace {

StoreOptions eventsSchema()
{
    StoreOptions options;
    options.migrations = {Migration{1, QStringLiteral("0001_events.sql"),
        QStringLiteral("CREATE TABLE events (id INTEGER PRIMARY KEY, submitter INTEGER "
                       "NOT NULL, seq INTEGER NOT NULL, UNIQUE (submitter, seq)) STRICT;")}};
    return options;
}

SqlError insertEvent(Transaction &tx, qint64 submitter, qint64 seq)
{
    Statement s = tx.prepare(QStringLiteral("INSERT INTO events (submitter, seq) VALUES (?1, ?2)"));
    s.bind(1, submitter).bind(2, seq);
    return s.run();
}

qint64 count(Connection &db, const QString &sql)
{
    SqlError error;
    const qint64 n = db.queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s", qPrintable(error.toString()));
    return n;
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void concurrentSubmittersAllCommitInOrder();
    void rollbackKeepsNothing();
    void failedStatementKeepsNothingAndSaysWhy();
    void throwingJobKeepsNothing();
    void stopFinishesQueuedJobsThenRefuses();
    void readersSeeOnlyCommittedData();
    void appendOnlyTablesRefuseUpdateAndDelete_data();
    void appendOnlyTablesRefuseUpdateAndDelete();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_path;
    test::ManualClock m_clock;
};

void TestStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(QStringLiteral("prepay.db"));
}

void TestStore::concurrentSubmittersAllCommitInOrder()
{
    OpenResult opened = Store::open(m_path, m_clock, eventsSchema());
    QVERIFY2(opened.store, qPrintable(opened.message));
    Store &store = *opened.store;

    constexpr int submitters = 8;
    constexpr int perSubmitter = 10'000;
    std::atomic<int> committed{0};
    std::atomic<int> notCommitted{0};
    std::atomic<bool> writing{true};
    std::atomic<qint64> readerQueries{0};
    QStringList problems;
    std::mutex problemsMutex;

    // A reader polls the table the whole time: WAL readers never block the writer, and the
    // writer never makes them see SQLITE_BUSY.
    std::thread reader([&] {
        auto db = store.openReader();
        qint64 last = 0;
        while (writing) {
            SqlError error;
            const qint64 n = db->queryInt(QStringLiteral("SELECT count(*) FROM events"), &error);
            std::lock_guard lock(problemsMutex);
            if (!error.ok())
                problems.append(QStringLiteral("reader: ") + error.toString());
            if (n < last)
                problems.append(QStringLiteral("reader saw the count go back from %1 to %2").arg(last).arg(n));
            last = n;
            ++readerQueries;
        }
    });

    std::vector<std::thread> threads;
    for (int t = 0; t < submitters; ++t) {
        threads.emplace_back([&, t] {
            std::vector<std::future<Written<SqlError>>> futures;
            futures.reserve(perSubmitter);
            for (int seq = 0; seq < perSubmitter; ++seq) {
                futures.push_back(store.write([t, seq](Transaction &tx) {
                    SqlError e = insertEvent(tx, t, seq);
                    if (!e.ok())
                        tx.fail(e);
                    return e;
                }));
            }
            for (auto &f : futures) {
                const Written<SqlError> w = f.get();
                if (w.committed()) {
                    ++committed;
                } else {
                    ++notCommitted;
                    std::lock_guard lock(problemsMutex);
                    if (problems.size() < 10)
                        problems.append(writeStatusCode(w.status) + u' ' + w.error.toString());
                }
            }
        });
    }
    for (auto &th : threads)
        th.join();
    writing = false;
    reader.join();

    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    QCOMPARE(notCommitted.load(), 0);
    QCOMPARE(committed.load(), submitters * perSubmitter);
    QVERIFY(readerQueries > 0);

    auto db = store.openReader();
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(submitters * perSubmitter));
    // In order per submitter: row ids (commit order) rise with each submitter's sequence.
    QCOMPARE(count(*db,
                 QStringLiteral("SELECT count(*) FROM events a JOIN events b ON a.submitter = b.submitter "
                                "AND b.seq = a.seq + 1 WHERE b.id < a.id")),
        qint64(0));
    for (int t = 0; t < submitters; ++t) {
        QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events WHERE submitter = %1").arg(t)),
            qint64(perSubmitter));
    }
}

void TestStore::rollbackKeepsNothing()
{
    OpenResult opened = Store::open(m_path, m_clock, eventsSchema());
    QVERIFY(opened.store);
    const Written<int> w = opened.store
                               ->write([](Transaction &tx) {
                                   insertEvent(tx, 1, 1);
                                   insertEvent(tx, 1, 2);
                                   tx.rollback(QStringLiteral("balance too low"));
                                   return 42;
                               })
                               .get();
    QCOMPARE(w.status, WriteStatus::RolledBack);
    QCOMPARE(w.reason, QStringLiteral("balance too low"));
    QCOMPARE(w.value, 42); // the job's own result comes back either way
    auto db = opened.store->openReader();
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(0));
}

void TestStore::failedStatementKeepsNothingAndSaysWhy()
{
    OpenResult opened = Store::open(m_path, m_clock, eventsSchema());
    QVERIFY(opened.store);
    const auto w = opened.store
                       ->write([](Transaction &tx) {
                           insertEvent(tx, 1, 1);
                           if (const SqlError e = insertEvent(tx, 1, 1); !e.ok()) // duplicate (submitter, seq)
                               tx.fail(e);
                       })
                       .get();
    QCOMPARE(w.status, WriteStatus::Failed);
    QVERIFY(w.error.isConstraint());
    QVERIFY2(w.error.message.contains(u"UNIQUE"), qPrintable(w.error.message));
    auto db = opened.store->openReader();
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(0));

    // The writer goes on after a failure.
    QVERIFY(opened.store->write([](Transaction &tx) { insertEvent(tx, 2, 1); }).get().committed());
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(1));
}

void TestStore::throwingJobKeepsNothing()
{
    OpenResult opened = Store::open(m_path, m_clock, eventsSchema());
    QVERIFY(opened.store);
    const auto w = opened.store
                       ->write([](Transaction &tx) {
                           insertEvent(tx, 1, 1);
                           throw std::runtime_error("out of paper");
                       })
                       .get();
    QCOMPARE(w.status, WriteStatus::Failed);
    QVERIFY2(w.error.message.contains(u"out of paper"), qPrintable(w.error.message));
    auto db = opened.store->openReader();
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(0));
}

void TestStore::stopFinishesQueuedJobsThenRefuses()
{
    OpenResult opened = Store::open(m_path, m_clock, eventsSchema());
    QVERIFY(opened.store);
    std::vector<std::future<Written<std::monostate>>> futures;
    for (int i = 0; i < 500; ++i)
        futures.push_back(opened.store->write([i](Transaction &tx) { insertEvent(tx, 1, i); }));
    opened.store->stop();
    for (auto &f : futures)
        QVERIFY(f.get().committed());
    const auto late = opened.store->write([](Transaction &tx) { insertEvent(tx, 9, 9); }).get();
    QCOMPARE(late.status, WriteStatus::Stopped);
    opened.store->stop(); // idempotent

    SqlError error;
    auto db = Connection::open(m_path, Connection::Mode::ReadOnly, 1000, &error);
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(500));
}

void TestStore::readersSeeOnlyCommittedData()
{
    OpenResult opened = Store::open(m_path, m_clock, eventsSchema());
    QVERIFY(opened.store);
    auto db = opened.store->openReader();
    std::promise<void> inside;
    std::promise<void> release;
    auto written = opened.store->write([&](Transaction &tx) {
        insertEvent(tx, 1, 1);
        inside.set_value();
        release.get_future().wait();
    });
    inside.get_future().wait();
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(0)); // not yet committed
    release.set_value();
    QVERIFY(written.get().committed());
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM events")), qint64(1));

    // A reader cannot write.
    QVERIFY(!db->exec(QStringLiteral("INSERT INTO events (submitter, seq) VALUES (5, 5)")).ok());
}

void TestStore::appendOnlyTablesRefuseUpdateAndDelete_data()
{
    QTest::addColumn<QString>("statement");
    QTest::addColumn<QString>("refusal");
    const auto row = [](const char *name, const char *statement, const char *refusal) {
        QTest::newRow(name) << QString::fromUtf8(statement) << QString::fromUtf8(refusal);
    };
    row("update ledger entry", "UPDATE ledger_entries SET reason = 'edited'", "ledger_entries is append-only");
    row("delete ledger entry", "DELETE FROM ledger_entries", "ledger_entries is append-only");
    // REPLACE deletes the old row first; with recursive_triggers on, that delete is refused too.
    row("replace ledger entry",
        "INSERT OR REPLACE INTO ledger_entries (id, kind, idempotency_key, request_hash, created_at_ms) "
        "VALUES (1, 'charge', 'test-1', zeroblob(32), 0)",
        "ledger_entries is append-only");
    row("update posting", "UPDATE ledger_postings SET amount_fen = amount_fen * 2", "ledger_postings is append-only");
    row("delete posting", "DELETE FROM ledger_postings", "ledger_postings is append-only");
    row("update audit row", "UPDATE audit_log SET reason = 'edited'", "audit_log is append-only");
    row("delete audit row", "DELETE FROM audit_log", "audit_log is append-only");
    row("replace audit row",
        "INSERT OR REPLACE INTO audit_log (seq, at_ms, action, prev_hash, hash) "
        "VALUES (1, 0, 'forged', zeroblob(32), randomblob(32))",
        "audit_log is append-only");
    row("delete ledger account", "DELETE FROM ledger_accounts WHERE code = 'clearing:cash'",
        "ledger_accounts cannot be deleted");
    row("rename ledger account", "UPDATE ledger_accounts SET code = 'wallet:2' WHERE code = 'wallet:1'",
        "only balance_fen and updated_at_ms may change");
}

void TestStore::appendOnlyTablesRefuseUpdateAndDelete()
{
    QFETCH(QString, statement);
    QFETCH(QString, refusal);
    OpenResult opened = Store::open(m_path, m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    Store &store = *opened.store;

    // One balanced entry (a 1.00 yuan energy charge: wallet -> revenue) and one audit row.
    const auto seeded = store
                            .write([](Transaction &tx) {
                                const QString script = QStringLiteral(R"(
                INSERT INTO accounts (id, shop_no, display_name, status, opened_at_ms, created_at_ms)
                    VALUES (1, 'A-101', '闽味小馆', 'open', 1795000000000, 1795000000000);
                INSERT INTO ledger_accounts (id, code, kind, account_id, name, balance_fen, created_at_ms, updated_at_ms)
                    VALUES (100, 'wallet:1', 'wallet', 1, '闽味小馆', -100, 1795000000000, 1795000000000);
                INSERT INTO ledger_entries (id, kind, idempotency_key, request_hash, created_at_ms)
                    VALUES (1, 'charge', 'test-1', zeroblob(32), 1795000000000);
                INSERT INTO ledger_postings (entry_id, ledger_account_id, amount_fen)
                    VALUES (1, 100, -100),
                           (1, (SELECT id FROM ledger_accounts WHERE code = 'revenue:energy'), 100);
                INSERT INTO audit_log (seq, at_ms, action, subject_kind, subject_id, prev_hash, hash)
                    VALUES (1, 1795000000000, 'test', 'account', '1', zeroblob(32), randomblob(32));
            )");
                                if (const SqlError e = tx.db().exec(script); !e.ok())
                                    tx.fail(e);
                            })
                            .get();
    QVERIFY2(seeded.committed(), qPrintable(seeded.error.toString()));

    const auto w = store
                       .write([&statement](Transaction &tx) {
                           if (const SqlError e = tx.db().exec(statement); !e.ok())
                               tx.fail(e);
                       })
                       .get();
    QCOMPARE(w.status, WriteStatus::Failed);
    QVERIFY2(w.error.message.contains(refusal), qPrintable(w.error.message));

    auto db = store.openReader();
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'charge' AND reason IS NULL")),
        qint64(1));
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM ledger_postings")), qint64(2));
    QCOMPARE(count(*db, QStringLiteral("SELECT sum(amount_fen) FROM ledger_postings")), qint64(0));
    QCOMPARE(count(*db, QStringLiteral("SELECT count(*) FROM audit_log WHERE action = 'test' AND reason IS NULL")),
        qint64(1));
    QCOMPARE(
        count(*db, QStringLiteral("SELECT count(*) FROM ledger_accounts WHERE code IN ('clearing:cash', 'wallet:1')")),
        qint64(2));
}

QTEST_GUILESS_MAIN(TestStore)
#include "tst_store.moc"
