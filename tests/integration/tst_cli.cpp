// The four executables as a user runs them: --help and --version, prepayctl's database
// commands, prepayd starting on a data directory and stopping cleanly on SIGTERM, prepayd
// refusing a database from a newer prepay, and the kiosk's self-test (no QML warnings).
#include "prepaydconfig.h"
#include "store/sqlite.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QTest>

using namespace prepay::store;

namespace {

QString binary(const QString &name)
{
    const QString dir = qEnvironmentVariable("PREPAY_BIN_DIR");
    return dir + u'/' + name;
}

struct Run
{
    int exitCode = -1;
    QProcess::ExitStatus status = QProcess::CrashExit;
    QString out;
    QString err;
};

Run run(const QString &program, const QStringList &arguments, int timeoutMs = 60'000,
    const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess p;
    p.setProcessEnvironment(environment);
    p.start(binary(program), arguments);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("timed out: ") + program + u' ' + arguments.join(u' ');
        return r;
    }
    r.exitCode = p.exitCode();
    r.status = p.exitStatus();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

QString describe(const Run &r)
{
    return QStringLiteral("exit %1\n--- stdout\n%2\n--- stderr\n%3").arg(r.exitCode).arg(r.out, r.err);
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void helpAndVersion_data();
    void helpAndVersion();
    void prepayctlMigrateSeedStatus();
    void prepayctlRejectsBadCommands();
    void prepaydRunsUntilSigterm();
    void prepaydRefusesNewerDatabase();
    void prepaydNeedsDataDirectory();
    void prepaydConfigFile();
    void kioskSelfTestHasNoQmlWarnings();
};

void TestCli::initTestCase()
{
    QVERIFY2(!qEnvironmentVariable("PREPAY_BIN_DIR").isEmpty(), "PREPAY_BIN_DIR is set by CTest");
}

void TestCli::helpAndVersion_data()
{
    QTest::addColumn<QString>("program");
    for (const char *p : {"prepayd", "prepayctl", "prepay-kiosk", "prepay-sim"})
        QTest::newRow(p) << QString::fromLatin1(p);
}

void TestCli::helpAndVersion()
{
    QFETCH(QString, program);
    const Run version = run(program, {QStringLiteral("--version")});
    QVERIFY2(version.exitCode == 0, qPrintable(describe(version)));
    QVERIFY2(version.out.startsWith(program + QStringLiteral(" 0.")), qPrintable(describe(version)));
    QVERIFY2(version.out.contains(u"(commit "), qPrintable(describe(version)));

    const Run help = run(program, {QStringLiteral("--help")});
    QVERIFY2(help.exitCode == 0, qPrintable(describe(help)));
    QVERIFY2(help.out.contains(u"Usage:"), qPrintable(describe(help)));
}

void TestCli::prepayctlMigrateSeedStatus()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("prepay.db"));

    const Run migrate = run(
        QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--db"), db});
    QVERIFY2(migrate.exitCode == 0 && migrate.out.contains(u"migrated from schema v0"), qPrintable(describe(migrate)));

    const Run seed = run(QStringLiteral("prepayctl"),
        {QStringLiteral("db"), QStringLiteral("seed"), QStringLiteral("demo"), QStringLiteral("--db"), db});
    QVERIFY2(seed.exitCode == 0 && seed.out.contains(u"applied seed \"demo\""), qPrintable(describe(seed)));

    // A seed goes into an empty database only.
    const Run again = run(QStringLiteral("prepayctl"),
        {QStringLiteral("db"), QStringLiteral("seed"), QStringLiteral("demo"), QStringLiteral("--db"), db});
    QVERIFY2(again.exitCode == 65 && again.err.contains(u"already has buildings"), qPrintable(describe(again)));

    const Run status = run(
        QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("status"), QStringLiteral("--db"), db});
    QVERIFY2(status.exitCode == 0 && status.out.contains(u"up to date"), qPrintable(describe(status)));
    SqlError error;
    auto reader = Connection::open(db, Connection::Mode::ReadOnly, 1000, &error);
    QVERIFY(reader);
    const qint64 meters = reader->queryInt(QStringLiteral("SELECT count(*) FROM meters"), &error);
    QVERIFY2(meters >= 250 && meters <= 350, qPrintable(QString::number(meters)));
    QVERIFY2(status.out.contains(QStringLiteral("meters:          %1").arg(meters)), qPrintable(describe(status)));
    QCOMPARE(reader->queryInt(QStringLiteral("SELECT count(*) FROM operators"), &error),
        qint64(0)); // no default password, ever
}

void TestCli::prepayctlRejectsBadCommands()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("prepay.db"));
    const Run none = run(QStringLiteral("prepayctl"), {});
    QVERIFY2(none.exitCode == 64 && none.out.contains(u"Usage: prepayctl COMMAND"), qPrintable(describe(none)));
    const Run unknown = run(QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("explode")});
    QVERIFY2(
        unknown.exitCode == 64 && unknown.err.contains(u"unknown command 'db explode'"), qPrintable(describe(unknown)));
    const Run noDb = run(QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("migrate")});
    QVERIFY2(noDb.exitCode == 64 && noDb.err.contains(u"--db FILE is required"), qPrintable(describe(noDb)));
    const Run noName
        = run(QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("seed"), QStringLiteral("--db"), db});
    QVERIFY2(noName.exitCode == 64 && noName.err.contains(u"expected NAME"), qPrintable(describe(noName)));
    const Run badSeed = run(QStringLiteral("prepayctl"),
        {QStringLiteral("db"), QStringLiteral("seed"), QStringLiteral("nowhere"), QStringLiteral("--db"), db});
    QVERIFY2(
        badSeed.exitCode == 65 && badSeed.err.contains(u"no seed named \"nowhere\""), qPrintable(describe(badSeed)));
    const Run missing = run(QStringLiteral("prepayctl"),
        {QStringLiteral("db"), QStringLiteral("status"), QStringLiteral("--db"),
            dir.filePath(QStringLiteral("absent.db"))});
    QVERIFY2(missing.exitCode == 66 && missing.err.contains(u"does not exist"), qPrintable(describe(missing)));
}

void TestCli::prepaydRunsUntilSigterm()
{
    QTemporaryDir dir;
    const QString data = dir.filePath(QStringLiteral("data"));
    QProcess daemon;
    daemon.setProcessChannelMode(QProcess::SeparateChannels);
    daemon.start(binary(QStringLiteral("prepayd")),
        {QStringLiteral("--data"), data, QStringLiteral("--config"), prepay::test::writePrepaydConfig(dir.path())});
    QVERIFY(daemon.waitForStarted());
    QString log;
    QTRY_VERIFY_WITH_TIMEOUT((log += QString::fromUtf8(daemon.readAllStandardError())).contains(u"ready"), 30'000);
    QVERIFY2(log.contains(u"applied migration 0001_"), qPrintable(log));
    QVERIFY(QFile::exists(data + QStringLiteral("/prepay.db")));

    daemon.terminate(); // SIGTERM
    QVERIFY(daemon.waitForFinished(30'000));
    log += QString::fromUtf8(daemon.readAllStandardError());
    QCOMPARE(daemon.exitStatus(), QProcess::NormalExit);
    QCOMPARE(daemon.exitCode(), 0);
    QVERIFY2(log.contains(u"stopped"), qPrintable(log));
}

void TestCli::prepaydRefusesNewerDatabase()
{
    QTemporaryDir dir;
    const QString db = dir.filePath(QStringLiteral("prepay.db"));
    QCOMPARE(
        run(QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("migrate"), QStringLiteral("--db"), db})
            .exitCode,
        0);
    {
        SqlError error;
        auto writer = Connection::open(db, Connection::Mode::ReadWrite, 1000, &error);
        QVERIFY(writer);
        QVERIFY(writer->exec(QStringLiteral("PRAGMA user_version = 999")).ok());
    }
    const Run daemon = run(QStringLiteral("prepayd"), {QStringLiteral("--data"), dir.path()});
    QVERIFY2(daemon.exitCode == 65, qPrintable(describe(daemon)));
    QVERIFY2(daemon.err.contains(u"written by a newer prepay"), qPrintable(describe(daemon)));

    const Run status = run(
        QStringLiteral("prepayctl"), {QStringLiteral("db"), QStringLiteral("status"), QStringLiteral("--db"), db});
    QVERIFY2(status.exitCode == 65 && status.out.contains(u"newer than this prepayctl"), qPrintable(describe(status)));
}

void TestCli::prepaydNeedsDataDirectory()
{
    const Run daemon = run(QStringLiteral("prepayd"), {});
    QVERIFY2(daemon.exitCode == 64 && daemon.err.contains(u"--data DIR is required"), qPrintable(describe(daemon)));
}

// --config: a bad value stops prepayd before it touches anything (exit 78, the line, key, value
// and reason); --print-config shows the effective values; log.format = json gives one JSON
// object per line.
void TestCli::prepaydConfigFile()
{
    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("bad.conf"));
    {
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("[api]\nstaff_port = 99999\n");
    }
    const Run refused = run(QStringLiteral("prepayd"),
        {QStringLiteral("--data"), dir.filePath(QStringLiteral("data")), QStringLiteral("--config"), bad});
    QVERIFY2(refused.exitCode == 78, qPrintable(describe(refused)));
    QVERIFY2(refused.err.contains(u"bad.conf:2: api.staff_port = 99999: must be an integer from 1 to 65535"),
        qPrintable(describe(refused)));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("data/prepay.db"))));

    const QString config = prepay::test::writePrepaydConfig(dir.path());
    {
        QFile file(config);
        QVERIFY(file.open(QIODevice::Append));
        file.write("[log]\nformat = json\n");
    }
    const Run printed = run(QStringLiteral("prepayd"), {QStringLiteral("--config"), config, QStringLiteral("--print-config")});
    QVERIFY2(printed.exitCode == 0 && printed.out.contains(u"format = json") && printed.out.contains(u"[health]"),
        qPrintable(describe(printed)));

    QProcess daemon;
    daemon.start(binary(QStringLiteral("prepayd")),
        {QStringLiteral("--data"), dir.filePath(QStringLiteral("data")), QStringLiteral("--config"), config});
    QVERIFY(daemon.waitForStarted());
    QString log;
    QTRY_VERIFY_WITH_TIMEOUT((log += QString::fromUtf8(daemon.readAllStandardError())).contains(u" ready: "), 30'000);
    daemon.terminate();
    QVERIFY(daemon.waitForFinished(30'000));
    QCOMPARE(daemon.exitCode(), 0);
    log += QString::fromUtf8(daemon.readAllStandardError());
    int lines = 0;
    for (const QString &line : log.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QJsonObject object = QJsonDocument::fromJson(line.toUtf8()).object();
        QVERIFY2(object.contains(QStringLiteral("time")) && object.contains(QStringLiteral("level"))
                && object.contains(QStringLiteral("category")) && object.contains(QStringLiteral("message")),
            qPrintable(line));
        ++lines;
    }
    QVERIFY(lines >= 3);
    // The setup code goes to stdout only, never into the log.
    const QString out = QString::fromUtf8(daemon.readAllStandardOutput());
    QVERIFY2(out.contains(u"One-time setup code: "), qPrintable(out));
    const QString code = out.section(QStringLiteral("One-time setup code: "), 1).left(14);
    QVERIFY(!log.contains(code));
}

void TestCli::kioskSelfTestHasNoQmlWarnings()
{
    // A kiosk not enrolled yet (an empty state directory): it says how to enrol and shows Out of
    // service, portrait by default, landscape when asked — without a QML warning either way.
    QTemporaryDir dir;
    const QString stateDir = dir.filePath(QStringLiteral("state"));
    const QString png = dir.filePath(QStringLiteral("kiosk.png"));
    const Run kiosk = run(QStringLiteral("prepay-kiosk"),
        {QStringLiteral("--self-test"), QStringLiteral("--screenshot"), png, QStringLiteral("--state-dir"), stateDir});
    QVERIFY2(kiosk.exitCode == 0, qPrintable(describe(kiosk)));
    QVERIFY2(kiosk.err.contains(QLatin1String("prepay-kiosk --enrol HOST:PORT")), qPrintable(kiosk.err));
    QCOMPARE(QImage(png).size(), QSize(1080, 1920));
    const Run landscape = run(QStringLiteral("prepay-kiosk"), {QStringLiteral("--self-test"), QStringLiteral("--screenshot"),
                                                                  png, QStringLiteral("--state-dir"), stateDir,
                                                                  QStringLiteral("--landscape")});
    QVERIFY2(landscape.exitCode == 0, qPrintable(describe(landscape)));
    QCOMPARE(QImage(png).size(), QSize(1920, 1080));

    // --help works over SSH, without a display; --enrol checks its arguments before anything.
    QProcessEnvironment noDisplay = QProcessEnvironment::systemEnvironment();
    for (const QString &name : {QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("DISPLAY"), QStringLiteral("WAYLAND_DISPLAY")})
        noDisplay.remove(name);
    const Run help = run(QStringLiteral("prepay-kiosk"), {QStringLiteral("--help")}, 60'000, noDisplay);
    QVERIFY2(help.exitCode == 0 && help.out.contains(QLatin1String("--enrol")), qPrintable(describe(help)));
    const Run badEnrol = run(QStringLiteral("prepay-kiosk"), {QStringLiteral("--enrol"), QStringLiteral("nowhere")});
    QCOMPARE(badEnrol.exitCode, 64);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
