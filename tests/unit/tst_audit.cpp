// The audit chain against a real temporary database (head schema): append() links each row to
// the one before and writes it in the caller's transaction (a rolled-back job leaves no row);
// verify() passes an intact chain and names the first broken row after plain-SQL tampering
// (the append-only triggers dropped first, as someone with the file and the sqlite3 shell
// could): a changed field, NULL turned into '', a deleted row (the gap), two rows swapped, a
// forged genesis. The encoding itself is pinned byte for byte, keeps field boundaries and NULL
// apart; 10,000 rows are appended and verified, with the times printed.
#include "audit/audit.h"
#include "manualclock.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QElapsedTimer>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::store;

namespace {

constexpr qint64 kT0 = 1'795'000'000'000;

const char *const kFixture = R"sql(
INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, password_params,
                       created_at_ms, updated_at_ms)
VALUES (1, 'test-operator', 'Test Operator', 'operator', zeroblob(32), zeroblob(16), 'none', 0, 0);
INSERT INTO staff_sessions (id, operator_id, token_hash, source_address, created_at_ms, last_seen_ms, expires_at_ms)
VALUES (7, 1, zeroblob(32), '192.168.1.20:53122', 0, 0, 1);
)sql";

// The rows of a small chain: a mix of set and empty (NULL) fields.
audit::Entry entryNo(int i)
{
    audit::Entry e;
    e.atMs = kT0 + i * 1000;
    if (i % 2 == 1) {
        e.operatorId = 1;
        e.sessionId = 7;
        e.sourceAddress = QStringLiteral("192.168.1.20:53122");
    }
    e.action = i % 3 == 0 ? QStringLiteral("ledger.adjust") : QStringLiteral("account.open");
    e.subjectKind = QStringLiteral("account");
    e.subjectId = QString::number(i);
    if (i % 3 == 0)
        e.beforeJson = QByteArrayLiteral(R"({"balance_fen":100})");
    e.afterJson = QStringLiteral(R"({"balance_fen":%1,"name":"店铺 %1"})").arg(i).toUtf8();
    e.reason = i % 2 == 0 ? QStringLiteral("每月调整 %1").arg(i) : QString();
    e.correlationId = QStringLiteral("req-%1").arg(i);
    return e;
}

QString describe(const audit::VerifyReport &r)
{
    return QStringLiteral("ok=%1 rows=%2 firstBroken=%3 problem=%4")
        .arg(r.ok)
        .arg(r.rowsChecked)
        .arg(r.firstBrokenSeq ? QString::number(*r.firstBrokenSeq) : QStringLiteral("-"), r.problem);
}

} // namespace

class TestAudit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void encodingIsPinned();
    void fieldBoundariesAreUnambiguous();
    void nullDiffersFromEmpty();
    void appendChainsRowsAndVerifies();
    void appendIsInTheCallersTransaction();
    void changedFieldIsNamed_data();
    void changedFieldIsNamed();
    void deletedRowIsAGap();
    void deletedFirstRowIsNamed();
    void swappedRowsAreDetected_data();
    void swappedRowsAreDetected();
    void forgedGenesisIsNamed();
    void tenThousandRows();

private:
    // Appends entryNo(1..n), one transaction each; fails the test if one does not commit.
    void appendRows(int n);
    // A read-write connection of its own, as the sqlite3 shell would be, for tampering.
    void tamper(const QString &sql);
    audit::VerifyReport verify(int pageRows = 2) { return audit::verify(*m_reader, pageRows); }

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock{kT0};
    std::unique_ptr<Store> m_store;
    std::unique_ptr<Connection> m_reader;
};

void TestAudit::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    OpenResult opened = Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    QVERIFY(test::runScript(*m_store, QString::fromUtf8(kFixture)));
    m_reader = m_store->openReader();
    QVERIFY(m_reader);
}

void TestAudit::cleanup()
{
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
}

void TestAudit::appendRows(int n)
{
    for (int i = 1; i <= n; ++i) {
        const auto written = m_store->write([i](Transaction &tx) { return audit::append(tx, entryNo(i)); }).get();
        QVERIFY2(written.committed(), qPrintable(written.error.toString()));
        QCOMPARE(written.value, qint64(i));
    }
}

void TestAudit::tamper(const QString &sql)
{
    SqlError error;
    const auto db = Connection::open(m_store->path(), Connection::Mode::ReadWrite, 5000, &error);
    QVERIFY2(db, qPrintable(error.toString()));
    const SqlError e = db->exec(sql);
    QVERIFY2(e.ok(), qPrintable(e.toString()));
}

void TestAudit::encodingIsPinned()
{
    // Written out by hand from the definition in audit.h, so a change of the encoding (which
    // would make every stored chain fail to verify) cannot go unnoticed.
    audit::Row row;
    row.seq = 12;
    row.atMs = -5;
    row.operatorId = 3;
    row.sourceAddress = QString();
    row.action = QStringLiteral("x.y");
    row.reason = QStringLiteral("é");
    const QByteArray expected = QByteArrayLiteral("\x01\x00\x00\x00\x0fprepay.audit.v1"
                                                  "\x01\x00\x00\x00\x02"
                                                  "12"
                                                  "\x01\x00\x00\x00\x02-5"
                                                  "\x01\x00\x00\x00\x01"
                                                  "3"
                                                  "\x00\x00"               // session_id, kiosk_id
                                                  "\x01\x00\x00\x00\x00"   // source_address ''
                                                  "\x01\x00\x00\x00\x03x.y"
                                                  "\x00\x00\x00\x00"       // subject_kind … after_json
                                                  "\x01\x00\x00\x00\x02\xc3\xa9" // reason 'é'
                                                  "\x00");                 // correlation_id
    QCOMPARE(audit::canonicalEncoding(row).toHex(' '), expected.toHex(' '));

    const QByteArray prev(32, '\x11');
    QCOMPARE(audit::chainHash(prev, row), QCryptographicHash::hash(QByteArray(prev + expected), QCryptographicHash::Sha256));
    QCOMPARE(audit::genesisHash(), QByteArray(32, '\0'));
}

void TestAudit::fieldBoundariesAreUnambiguous()
{
    audit::Row a;
    a.seq = 1;
    a.action = QStringLiteral("x");
    a.subjectKind = QStringLiteral("ab");
    a.subjectId = QStringLiteral("c");
    audit::Row b = a;
    b.subjectKind = QStringLiteral("a");
    b.subjectId = QStringLiteral("bc");
    QVERIFY(audit::canonicalEncoding(a) != audit::canonicalEncoding(b));
    QVERIFY(audit::chainHash(audit::genesisHash(), a) != audit::chainHash(audit::genesisHash(), b));

    // Across an integer and a text field too: at_ms 11 + action "1" against at_ms 1 + "11".
    audit::Row c;
    c.seq = 1;
    c.atMs = 11;
    c.action = QStringLiteral("1");
    audit::Row d = c;
    d.atMs = 1;
    d.action = QStringLiteral("11");
    QVERIFY(audit::chainHash(audit::genesisHash(), c) != audit::chainHash(audit::genesisHash(), d));

    // And the same content in a neighbouring column.
    audit::Row e = a;
    e.subjectKind.reset();
    e.subjectId = QStringLiteral("abc");
    audit::Row f = a;
    f.subjectKind = QStringLiteral("abc");
    f.subjectId.reset();
    QVERIFY(audit::chainHash(audit::genesisHash(), e) != audit::chainHash(audit::genesisHash(), f));
}

void TestAudit::nullDiffersFromEmpty()
{
    audit::Row a;
    a.seq = 1;
    a.action = QStringLiteral("x");
    audit::Row b = a;
    b.reason = QString();
    QVERIFY(audit::chainHash(audit::genesisHash(), a) != audit::chainHash(audit::genesisHash(), b));
    audit::Row c = a;
    c.operatorId = 0;
    QVERIFY(audit::chainHash(audit::genesisHash(), a) != audit::chainHash(audit::genesisHash(), c));

    // In the database: row 2 was written with source_address NULL; '' is a change.
    appendRows(3);
    QVERIFY(verify().ok);
    tamper(QStringLiteral("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET source_address = '' WHERE seq = 2;"));
    const audit::VerifyReport r = verify();
    QVERIFY2(!r.ok && r.firstBrokenSeq == 2, qPrintable(describe(r)));
}

void TestAudit::appendChainsRowsAndVerifies()
{
    appendRows(5);
    const audit::VerifyReport r = verify();
    QVERIFY2(r.ok, qPrintable(describe(r)));
    QCOMPARE(r.rowsChecked, 5);
    QVERIFY(!r.firstBrokenSeq);
    QCOMPARE(audit::verify(*m_reader, 1000).rowsChecked, 5);

    // Stored as given, empty as NULL; the chain links each row to the one before.
    Statement s = m_reader->prepare(QStringLiteral(
        "SELECT seq, operator_id, session_id, source_address, reason, before_json, after_json, prev_hash, hash "
        "FROM audit_log ORDER BY seq"));
    QByteArray prev = audit::genesisHash();
    for (int i = 1; i <= 5; ++i) {
        QCOMPARE(s.step(), Statement::Step::Row);
        const audit::Entry e = entryNo(i);
        QCOMPARE(s.int64(0), qint64(i));
        QCOMPARE(s.isNull(1), !e.operatorId.has_value());
        QCOMPARE(s.isNull(2), !e.sessionId.has_value());
        QCOMPARE(s.isNull(3), e.sourceAddress.isEmpty());
        QCOMPARE(s.isNull(4), e.reason.isEmpty());
        QCOMPARE(s.text(4), e.reason);
        QCOMPARE(s.isNull(5), e.beforeJson.isEmpty());
        QCOMPARE(s.text(6).toUtf8(), e.afterJson);
        QCOMPARE(s.blob(7), prev);
        prev = s.blob(8);
        QCOMPARE(prev.size(), 32);
    }
    QCOMPARE(s.step(), Statement::Step::Done);
}

void TestAudit::appendIsInTheCallersTransaction()
{
    appendRows(2);
    const auto rolledBack = m_store
                                ->write([](Transaction &tx) {
                                    const qint64 seq = audit::append(tx, entryNo(3));
                                    tx.rollback(QStringLiteral("the action it records was refused"));
                                    return seq;
                                })
                                .get();
    QCOMPARE(rolledBack.status, WriteStatus::RolledBack);
    QCOMPARE(rolledBack.value, 3);
    SqlError error;
    QCOMPARE(m_reader->queryInt(QStringLiteral("SELECT count(*) FROM audit_log"), &error), 2);

    // A row the table refuses (after_json not JSON) fails the whole job; the chain is intact.
    const auto failed = m_store
                            ->write([](Transaction &tx) {
                                audit::Entry e = entryNo(3);
                                e.afterJson = QByteArrayLiteral("{not json");
                                return audit::append(tx, e);
                            })
                            .get();
    QCOMPARE(failed.status, WriteStatus::Failed);
    QCOMPARE(failed.value, 0);
    QVERIFY(failed.error.isConstraint());

    const auto next = m_store->write([](Transaction &tx) { return audit::append(tx, entryNo(3)); }).get();
    QVERIFY(next.committed());
    QCOMPARE(next.value, 3);
    const audit::VerifyReport r = verify();
    QVERIFY2(r.ok && r.rowsChecked == 3, qPrintable(describe(r)));
}

void TestAudit::changedFieldIsNamed_data()
{
    QTest::addColumn<int>("seq");
    QTest::addColumn<QString>("assignment");
    QTest::newRow("reason of the first") << 1 << QStringLiteral("reason = 'no reason'");
    QTest::newRow("amount inside after_json") << 3 << QStringLiteral("after_json = '{\"balance_fen\":30,\"name\":\"店铺 3\"}'");
    QTest::newRow("time") << 4 << QStringLiteral("at_ms = at_ms + 1");
    QTest::newRow("operator removed") << 5 << QStringLiteral("operator_id = NULL");
    QTest::newRow("action") << 2 << QStringLiteral("action = 'account.close'");
    QTest::newRow("hash of the last") << 6 << QStringLiteral("hash = zeroblob(32)");
}

void TestAudit::changedFieldIsNamed()
{
    QFETCH(int, seq);
    QFETCH(QString, assignment);
    appendRows(6);
    tamper(QStringLiteral("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET %1 WHERE seq = %2;").arg(assignment).arg(seq));
    const audit::VerifyReport r = verify();
    QVERIFY2(!r.ok && r.firstBrokenSeq == seq, qPrintable(describe(r)));
    QCOMPARE(r.rowsChecked, seq - 1);
    QVERIFY2(r.problem.contains(QStringLiteral("seq %1").arg(seq)), qPrintable(r.problem));
}

void TestAudit::deletedRowIsAGap()
{
    appendRows(5);
    tamper(QStringLiteral("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3;"));
    for (const int pageRows : {1, 2, 1000}) {
        const audit::VerifyReport r = audit::verify(*m_reader, pageRows);
        QVERIFY2(!r.ok && r.firstBrokenSeq == 3, qPrintable(describe(r)));
        QVERIFY2(r.problem.contains(QStringLiteral("seq 3 is missing")), qPrintable(r.problem));
        QCOMPARE(r.rowsChecked, 2);
    }
}

void TestAudit::deletedFirstRowIsNamed()
{
    appendRows(3);
    tamper(QStringLiteral("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 1;"));
    const audit::VerifyReport r = verify();
    QVERIFY2(!r.ok && r.firstBrokenSeq == 1, qPrintable(describe(r)));
    QVERIFY2(r.problem.contains(QStringLiteral("does not start at seq 1")), qPrintable(r.problem));
}

void TestAudit::swappedRowsAreDetected_data()
{
    QTest::addColumn<QString>("columns");
    QTest::newRow("content only") << QStringLiteral(
        "at_ms, operator_id, session_id, source_address, action, subject_kind, subject_id, before_json, after_json, "
        "reason, correlation_id");
    QTest::newRow("content and hashes") << QStringLiteral(
        "at_ms, operator_id, session_id, source_address, action, subject_kind, subject_id, before_json, after_json, "
        "reason, correlation_id, prev_hash, hash");
}

void TestAudit::swappedRowsAreDetected()
{
    QFETCH(QString, columns);
    appendRows(5);
    // Rows 2 and 4 trade everything but seq (the hashes are UNIQUE: park row 4's first).
    QString fromTwo, fromFour;
    for (const QString &c : columns.split(QStringLiteral(", "))) {
        fromTwo += QStringLiteral("%1%2 = (SELECT %2 FROM saved WHERE seq = 2)").arg(fromTwo.isEmpty() ? QString() : QStringLiteral(", "), c);
        fromFour += QStringLiteral("%1%2 = (SELECT %2 FROM saved WHERE seq = 4)").arg(fromFour.isEmpty() ? QString() : QStringLiteral(", "), c);
    }
    tamper(QStringLiteral("DROP TRIGGER audit_log_no_update;"
                          "CREATE TEMP TABLE saved AS SELECT * FROM audit_log WHERE seq IN (2, 4);"
                          "UPDATE audit_log SET prev_hash = randomblob(32), hash = randomblob(32) WHERE seq = 4;"
                          "UPDATE audit_log SET %1 WHERE seq = 2;"
                          "UPDATE audit_log SET %2 WHERE seq = 4;")
               .arg(fromFour, fromTwo));
    SqlError error;
    QCOMPARE(m_reader->queryInt(QStringLiteral("SELECT subject_id = '4' FROM audit_log WHERE seq = 2"), &error), 1);
    const audit::VerifyReport r = verify();
    QVERIFY2(!r.ok && r.firstBrokenSeq == 2, qPrintable(describe(r)));
}

void TestAudit::forgedGenesisIsNamed()
{
    appendRows(2);
    tamper(QStringLiteral("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET prev_hash = randomblob(32) WHERE seq = 1;"));
    const audit::VerifyReport r = verify();
    QVERIFY2(!r.ok && r.firstBrokenSeq == 1, qPrintable(describe(r)));
    QVERIFY2(r.problem.contains(QStringLiteral("zero bytes")), qPrintable(r.problem));
}

void TestAudit::tenThousandRows()
{
    constexpr int kRows = 10'000;
    constexpr int kPerJob = 500;
    QElapsedTimer timer;
    timer.start();
    for (int first = 1; first <= kRows; first += kPerJob) {
        const auto written = m_store
                                 ->write([first](Transaction &tx) {
                                     qint64 last = 0;
                                     for (int i = first; i < first + kPerJob && !tx.rollbackRequested(); ++i)
                                         last = audit::append(tx, entryNo(i));
                                     return last;
                                 })
                                 .get();
        QVERIFY2(written.committed(), qPrintable(written.error.toString()));
        QCOMPARE(written.value, qint64(first + kPerJob - 1));
    }
    const qint64 appendMs = timer.restart();
    const audit::VerifyReport r = audit::verify(*m_reader);
    const qint64 verifyMs = timer.elapsed();
    QVERIFY2(r.ok, qPrintable(describe(r)));
    QCOMPARE(r.rowsChecked, kRows);
    qInfo("%d audit rows: appended in %lld ms (%d per transaction), verified in %lld ms", kRows, appendMs, kPerJob,
        verifyMs);
}

QTEST_GUILESS_MAIN(TestAudit)
#include "tst_audit.moc"
