// prepayd as a process against prepay-sim with the demo building: it polls at start (readings,
// the meter_state twin, bus health), and a recharge command survives prepayd being killed
// (SIGKILL) between "sent" and "acknowledged": after the restart it completes, and the meter's
// ground truth shows the money arrived exactly once.
#include "api/clock.h"
#include "commands/commandstore.h"
#include "demosite.h"
#include "prepaydconfig.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

using namespace prepay;

namespace {

QString bin(const QString &name)
{
    return qEnvironmentVariable("PREPAY_BIN_DIR") + u'/' + name;
}

} // namespace

class TestPrepaydPoll : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void pollsAtStart();
    void rechargeSurvivesSigkillBetweenSentAndAcknowledged();

private:
    QJsonObject truth(int gateway, int unit);
    int ctl(const QStringList &arguments);
    void startDaemon();
    QString commandState(qint64 id);
    qint64 scalar(const QString &sql);

    QProcess m_sim;
    QProcess m_daemon;
    QTemporaryDir m_dir;
    quint16 m_base = 0;
    QString m_dbPath;
};

void TestPrepaydPoll::initTestCase()
{
    m_base = test::freeSimulatorPortBase(50000, 10000);
    QString log;
    QVERIFY2(test::startDemoSimulator(m_sim, m_base, {QStringLiteral("--baud"), QStringLiteral("0")}, &log),
        qPrintable(log));

    // The demo database, its gateways where this simulator listens.
    m_dbPath = m_dir.filePath(QStringLiteral("prepay.db"));
    SystemClock clock;
    store::OpenResult opened = store::Store::open(m_dbPath, clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    QVERIFY(test::seedDemoDatabase(*opened.store, m_base));
}

void TestPrepaydPoll::cleanupTestCase()
{
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        m_daemon.waitForFinished(10'000);
    }
    m_sim.terminate();
    m_sim.waitForFinished(10'000);
}

QJsonObject TestPrepaydPoll::truth(int gateway, int unit)
{
    QProcess p;
    p.start(bin(QStringLiteral("prepay-sim")),
        {QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_base + 100),
            QStringLiteral("truth"), QString::number(gateway), QString::number(unit)});
    p.waitForFinished(30'000);
    return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}

int TestPrepaydPoll::ctl(const QStringList &arguments)
{
    QProcess p;
    p.start(bin(QStringLiteral("prepay-sim")),
        QStringList{QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_base + 100)}
            + arguments);
    p.waitForFinished(30'000);
    return p.exitCode();
}

void TestPrepaydPoll::startDaemon()
{
    m_daemon.setProcessChannelMode(QProcess::ForwardedChannels);
    m_daemon.start(bin(QStringLiteral("prepayd")),
        {QStringLiteral("--data"), m_dir.path(), QStringLiteral("--config"), test::writePrepaydConfig(m_dir.path())});
    QVERIFY(m_daemon.waitForStarted());
}

qint64 TestPrepaydPoll::scalar(const QString &sql)
{
    store::SqlError error;
    const auto db = store::Connection::open(m_dbPath, store::Connection::Mode::ReadOnly, 5000, &error);
    return db ? db->queryInt(sql, &error) : -1;
}

QString TestPrepaydPoll::commandState(qint64 id)
{
    store::SqlError error;
    const auto db = store::Connection::open(m_dbPath, store::Connection::Mode::ReadOnly, 5000, &error);
    if (!db)
        return {};
    store::Statement s = db->prepare(QStringLiteral("SELECT state FROM meter_commands WHERE id = ?1"));
    s.bind(1, id);
    return s.step() == store::Statement::Step::Row ? s.text(0) : QString();
}

void TestPrepaydPoll::pollsAtStart()
{
    startDaemon();
    // The first cycle runs at start: every meter gets a reading and a meter_state row.
    QTRY_VERIFY_WITH_TIMEOUT(
        scalar(QStringLiteral("SELECT count(*) FROM meter_state WHERE comm_state = 'online'")) == 300, 60'000);
    QVERIFY(scalar(QStringLiteral("SELECT count(*) FROM readings")) >= 300);
    QTRY_COMPARE_WITH_TIMEOUT(
        scalar(QStringLiteral("SELECT count(*) FROM bus_health WHERE last_cycle_duration_ms > 0")), 8, 30'000);

    // Staff see it with prepayctl while prepayd runs.
    QProcess status;
    status.start(bin(QStringLiteral("prepayctl")),
        {QStringLiteral("poll"), QStringLiteral("status"), QStringLiteral("--db"), m_dbPath});
    QVERIFY(status.waitForFinished(30'000));
    const QString text = QString::fromUtf8(status.readAllStandardOutput());
    QVERIFY2(status.exitCode() == 0, qPrintable(text + QString::fromUtf8(status.readAllStandardError())));
    QVERIFY2(text.contains(u"A-COM1") && text.contains(u"B1-COM2"), qPrintable(text));
    QVERIFY2(text.contains(u"meters: 300 installed, 300 online, 0 offline"), qPrintable(text));
    QProcess json;
    json.start(bin(QStringLiteral("prepayctl")),
        {QStringLiteral("poll"), QStringLiteral("status"), QStringLiteral("--db"), m_dbPath, QStringLiteral("--json")});
    QVERIFY(json.waitForFinished(30'000));
    const QJsonObject o = QJsonDocument::fromJson(json.readAllStandardOutput()).object();
    QCOMPARE(o[QStringLiteral("buses")].toArray().size(), 8);
    QCOMPARE(
        o[QStringLiteral("buses")].toArray().first().toObject()[QStringLiteral("last_cycle_meters")].toInteger(), 40);

    m_daemon.terminate();
    QVERIFY(m_daemon.waitForFinished(30'000));
    QCOMPARE(m_daemon.exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_daemon.exitCode(), 0);
}

void TestPrepaydPoll::rechargeSurvivesSigkillBetweenSentAndAcknowledged()
{
    // Gateway 0, unit 20: a prepaid meter of the demo building.
    const QJsonObject before = truth(0, 20);
    QVERIFY(before.contains(QStringLiteral("purchase_count")));
    qint64 meterId = 0;
    qint64 commandId = 0;
    {
        // prepayd is not running: the test may write the command itself.
        SystemClock clock;
        store::OpenResult opened = store::Store::open(m_dbPath, clock);
        QVERIFY(opened.store);
        {
            auto reader = opened.store->openReader();
            store::Statement s = reader->prepare(QStringLiteral(
                "SELECT m.id FROM meters m JOIN buses b ON b.id = m.bus_id WHERE b.gateway_id = 1 AND m.unit_id = 20"));
            QCOMPARE(s.step(), store::Statement::Step::Row);
            meterId = s.int64(0);
        }
        // The meter's bus waits 4 s for a reply: a wide window between "sent" and the
        // timeout that would let prepayd read back and finish by itself.
        QVERIFY(opened.store
                    ->write([meterId](store::Transaction &tx) {
                        store::Statement s
                            = tx.prepare(QStringLiteral("UPDATE buses SET response_timeout_ms = 4000 WHERE id = "
                                                        "(SELECT bus_id FROM meters WHERE id = ?1)"));
                        s.bind(1, meterId);
                        if (const store::SqlError e = s.run(); !e.ok())
                            tx.fail(e);
                    })
                    .get()
                    .committed());
        commands::CommandStore commands(*opened.store, clock);
        commands::CommandRequest r;
        r.meterId = meterId;
        r.kind = commands::Kind::Recharge;
        r.amountFen = 7777;
        r.rechargeTxn = 990001;
        r.idempotencyKey = QStringLiteral("sigkill-recharge");
        r.cause = commands::Cause::Payment;
        const commands::EnqueueResult e = commands.enqueue(r);
        QCOMPARE(e.outcome, commands::EnqueueOutcome::Queued);
        commandId = e.commandId;
    }
    // The meter gets the write and applies it, but its reply never comes back.
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("no_reply"),
                 QStringLiteral("--gateway"), QStringLiteral("0"), QStringLiteral("--unit"), QStringLiteral("20"),
                 QStringLiteral("--function"), QStringLiteral("16")}),
        0);
    startDaemon();
    QTRY_COMPARE_WITH_TIMEOUT(commandState(commandId), QStringLiteral("sent"), 30'000);
    QTRY_COMPARE_WITH_TIMEOUT(truth(0, 20)[QStringLiteral("purchase_count")].toInteger(),
        before[QStringLiteral("purchase_count")].toInteger() + 1, 10'000);
    m_daemon.kill(); // SIGKILL: no chance to tidy up
    QVERIFY(m_daemon.waitForFinished(10'000));
    QCOMPARE(commandState(commandId), QStringLiteral("sent"));

    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear")}), 0);
    startDaemon();
    QTRY_COMPARE_WITH_TIMEOUT(commandState(commandId), QStringLiteral("verified"), 60'000);
    const QJsonObject after = truth(0, 20);
    QCOMPARE(
        after[QStringLiteral("purchase_count")].toInteger(), before[QStringLiteral("purchase_count")].toInteger() + 1);
    QCOMPARE(after[QStringLiteral("total_purchased_fen")].toInteger(),
        before[QStringLiteral("total_purchased_fen")].toInteger() + 7777);
    QCOMPARE(after[QStringLiteral("last_recharge_txn")].toInteger(), 990001);
    m_daemon.terminate();
    QVERIFY(m_daemon.waitForFinished(30'000));
    QCOMPARE(m_daemon.exitCode(), 0);
}

QTEST_GUILESS_MAIN(TestPrepaydPoll)
#include "tst_prepayd_poll.moc"
