// The kiosk's link to the backoffice (kiosk/link) against a real prepayd process: the demo
// building's database (its gateways pointed at ports where nothing answers: no meter is polled),
// prepayd on free loopback ports, a kiosk of building A enrolled through kiosk::enrol() exactly
// as `prepay-kiosk --enrol` does. The test cases run in order on that one prepayd:
//  - enrolment writes the state directory (private key 0600), refuses a second enrolment into it
//    and a wrong pairing code;
//  - LinkBackend takes a snapshot (the rows of building A, as the database has them), goes
//    Online, and a cash recharge made by an administrator over the API reaches it as
//    directoryChanged with the new balance within seconds;
//  - checkPin right / wrong / locked, recentRecharges newest first, answers never inside the call;
//  - prepayd killed: Offline, rows still readable, calls answer unavailable at once; a report()
//    made offline survives a restart of the kiosk (a new LinkBackend on the same directory);
//    prepayd restarted: Online again by itself, and the event is stored exactly once.
#include "accounts/takeover.h"
#include "api/clock.h"
#include "api/rpcclient.h"
#include "demosite.h"
#include "freeports.h"
#include "link/linkbackend.h"
#include "link/statedir.h"
#include "store/store.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

#include <array>

using namespace prepay;

namespace {

const QString adminPassword = QStringLiteral("link-password-0123");
constexpr int kOnlineWaitMs = 20'000;

QString describe(const rpc::Outcome &outcome)
{
    return rpc::succeeded(outcome) ? QStringLiteral("ok") : std::get<rpc::Error>(outcome).message;
}

} // namespace

class TestKioskLink : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void enrolmentWritesTheStateDirectory();
    void snapshotThenLiveUpdates();
    void pinsAndRecharges();
    void topUpOverTheLink();
    void offlineThenBackByItself();

private:
    bool startDaemon();
    void stopDaemon();
    std::unique_ptr<rpc::RpcClient> connectStaff();
    qint64 scalar(const QString &sql);
    qint64 balanceOf(const QString &shop);

    QTemporaryDir m_dir;
    QString m_data;
    QString m_config;
    QString m_stateDir;
    QProcess m_daemon;
    QByteArray m_daemonLog;
    quint16 m_staffPort = 0;
    quint16 m_kioskPort = 0;
    QSslCertificate m_ca;
    QString m_setupCode;
    std::unique_ptr<rpc::RpcClient> m_admin;
    SystemClock m_clock;
    std::unique_ptr<kiosk::LinkBackend> m_link;
};

void TestKioskLink::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_data = m_dir.filePath(QStringLiteral("data"));
    m_stateDir = m_dir.filePath(QStringLiteral("kiosk-state"));
    QVERIFY(QDir().mkpath(m_data));
    {
        store::OpenResult opened = store::Store::open(m_data + QStringLiteral("/prepay.db"), m_clock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        // Gateways on ports where nothing listens: prepayd polls nothing (and commands no relay).
        QVERIFY(test::seedDemoDatabase(*opened.store, test::freeSimulatorPortBase(47000, 5000)));
        const qint64 now = m_clock.wallMs();
        QVERIFY(opened.store->write([now](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, now); })
                    .get()
                    .committed());
        opened.store->stop();
    }
    std::array<QTcpServer, 4> probes; // held open together, so the ports differ
    for (QTcpServer &probe : probes)
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    m_staffPort = probes[0].serverPort();
    m_kioskPort = probes[1].serverPort();
    m_config = m_dir.filePath(QStringLiteral("prepayd.conf"));
    QFile conf(m_config);
    QVERIFY(conf.open(QIODevice::WriteOnly));
    // Alipay configured (its gateway is never called here): the kiosk's profile names that channel.
    const QString keys = QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys/");
    conf.write(
        QStringLiteral("[api]\nlisten_address = 127.0.0.1\nstaff_port = %1\nkiosk_port = %2\n[health]\nport = %3\n"
                       "[payments]\nnotify_listen_address = 127.0.0.1\nnotify_port = %4\n"
                       "notify_tls_cert = %5tls-server.pem\nnotify_tls_key = %5tls-server.key\n"
                       "provider_ca_file = %5tls-ca.pem\n"
                       "[alipay]\ngateway = https://127.0.0.1:9/gateway.do\napp_id = 2021000000000001\n"
                       "seller_id = 2088000000000001\napp_private_key_file = %5alipay-app.key\n"
                       "alipay_public_key_file = %5alipay-platform.pub\n"
                       "notify_url = https://127.0.0.1:%4/notify/alipay\n")
            .arg(m_staffPort)
            .arg(m_kioskPort)
            .arg(probes[2].serverPort())
            .arg(probes[3].serverPort())
            .arg(keys)
            .toUtf8());
    conf.close();
    for (QTcpServer &probe : probes)
        probe.close();

    connect(&m_daemon, &QProcess::readyRead, this, [this] {
        // Drained as it comes (a full pipe would stall prepayd); the last 256 KiB kept.
        m_daemonLog += m_daemon.readAll();
        if (m_daemonLog.size() > 512 * 1024)
            m_daemonLog = m_daemonLog.right(256 * 1024);
    });
    QVERIFY2(startDaemon(), m_daemonLog.constData());
    const QRegularExpressionMatch code
        = QRegularExpression(QStringLiteral("One-time setup code: ([A-Z0-9-]+)")).match(QString::fromUtf8(m_daemonLog));
    QVERIFY2(code.hasMatch(), m_daemonLog.constData());
    QFile caFile(m_data + QStringLiteral("/pki/ca.crt"));
    QVERIFY(caFile.open(QIODevice::ReadOnly));
    m_ca = QSslCertificate(caFile.readAll(), QSsl::Pem);
    QVERIFY(!m_ca.isNull());

    auto setup = connectStaff();
    QVERIFY(setup);
    QVERIFY(rpc::succeeded(setup->callBlocking(QStringLiteral("setup.create_admin"),
        {{QStringLiteral("setup_code"), code.captured(1)}, {QStringLiteral("login"), QStringLiteral("root")},
            {QStringLiteral("display_name"), QStringLiteral("管理员")}, {QStringLiteral("password"), adminPassword}})));
    m_admin = connectStaff();
    QVERIFY(m_admin);
    QVERIFY(rpc::succeeded(m_admin->callBlocking(QStringLiteral("session.login"),
        {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}})));
}

void TestKioskLink::cleanupTestCase()
{
    m_link.reset();
    m_admin.reset();
    stopDaemon();
}

bool TestKioskLink::startDaemon()
{
    m_daemonLog.clear();
    m_daemon.setProcessChannelMode(QProcess::MergedChannels);
    m_daemon.start(test::binaryPath(QStringLiteral("prepayd")),
        {QStringLiteral("--data"), m_data, QStringLiteral("--config"), m_config});
    if (!m_daemon.waitForStarted())
        return false;
    QDeadlineTimer deadline(60000);
    while (!m_daemonLog.contains(" ready: ") && !deadline.hasExpired() && m_daemon.state() == QProcess::Running)
        QTest::qWait(50);
    return m_daemonLog.contains(" ready: ");
}

void TestKioskLink::stopDaemon()
{
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        if (!m_daemon.waitForFinished(20000))
            m_daemon.kill();
    }
}

std::unique_ptr<rpc::RpcClient> TestKioskLink::connectStaff()
{
    rpc::Endpoint endpoint;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = m_staffPort;
    endpoint.ca = m_ca;
    auto client = std::make_unique<rpc::RpcClient>();
    QString error;
    if (!client->openBlocking(endpoint, 10000, &error)) {
        qWarning("staff connection: %s", qPrintable(error));
        return nullptr;
    }
    return client;
}

qint64 TestKioskLink::scalar(const QString &sql)
{
    store::SqlError error;
    const auto db = store::Connection::open(
        m_data + QStringLiteral("/prepay.db"), store::Connection::Mode::ReadOnly, 5000, &error);
    if (!db)
        return -1;
    const qint64 n = db->queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
    return n;
}

qint64 TestKioskLink::balanceOf(const QString &shop)
{
    return scalar(QStringLiteral("SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id "
                                 "WHERE a.shop_no = '%1' AND a.status <> 'closed'")
                      .arg(shop));
}

void TestKioskLink::enrolmentWritesTheStateDirectory()
{
    const rpc::Outcome paired = m_admin->callBlocking(QStringLiteral("kiosk.pairing.create"),
        {{QStringLiteral("name"), QStringLiteral("A座大堂")}, {QStringLiteral("building_code"), QStringLiteral("A")}});
    QVERIFY2(rpc::succeeded(paired), qPrintable(describe(paired)));
    const QString code = std::get<QJsonValue>(paired).toObject().value(QLatin1String("pairing_code")).toString();

    kiosk::EnrolRequest request;
    request.host = QStringLiteral("127.0.0.1");
    request.staffPort = m_staffPort;
    request.caFile = m_data + QStringLiteral("/pki/ca.crt");
    request.stateDir = m_stateDir;
    request.appVersion = QStringLiteral("tst_kiosk_link");
    // A wrong code: refused, nothing written.
    request.pairingCode = QStringLiteral("ZZZZ-ZZZZ");
    kiosk::EnrolResult result = kiosk::enrol(request);
    QVERIFY(!result.ok);
    QVERIFY2(result.error.contains(QStringLiteral("refused")), qPrintable(result.error));
    QVERIFY(!QFile::exists(m_stateDir + QStringLiteral("/enrolment.json")));

    request.pairingCode = code;
    result = kiosk::enrol(request);
    QVERIFY2(result.ok, qPrintable(result.error));
    QCOMPARE(result.name, QStringLiteral("A座大堂"));
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM kiosks WHERE id = %1 AND state = 'enrolled' "
                                   "AND app_version = 'tst_kiosk_link'")
                        .arg(result.kioskId)),
        1);
    QString error;
    const std::optional<kiosk::Enrolment> loaded = kiosk::loadEnrolment(m_stateDir, &error);
    QVERIFY2(loaded, qPrintable(error));
    QCOMPARE(loaded->kioskId, result.kioskId);
    QCOMPARE(loaded->kioskPort, m_kioskPort);
    QCOMPARE(loaded->ca, m_ca);
    QCOMPARE(QFile::permissions(m_stateDir + QStringLiteral("/client.key")),
        QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser | QFileDevice::WriteUser);
    // Enrolling into it again is refused (its key is kept).
    const QByteArray key = [this] {
        QFile f(m_stateDir + QStringLiteral("/client.key"));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    result = kiosk::enrol(request);
    QVERIFY(!result.ok);
    QVERIFY2(result.error.contains(QStringLiteral("holds an enrolment already")), qPrintable(result.error));
    QFile f(m_stateDir + QStringLiteral("/client.key"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), key);

    // The command line's form of it: bad arguments are refused before anything happens.
    QCOMPARE(kiosk::enrolCommand(QStringLiteral("localhost"), code, request.caFile, m_stateDir, QString()), 64);
    QCOMPARE(kiosk::enrolCommand(
                 QStringLiteral("127.0.0.1:%1").arg(m_staffPort), QString(), request.caFile, m_stateDir, QString()),
        64);
    QCOMPARE(kiosk::enrolCommand(
                 QStringLiteral("127.0.0.1:%1").arg(m_staffPort), code, request.caFile, m_stateDir, QString()),
        1); // enrolled already

    QString host;
    quint16 port = 0;
    QVERIFY(kiosk::parseHostPort(QStringLiteral("192.168.1.5:7443"), &host, &port));
    QCOMPARE(host, QStringLiteral("192.168.1.5"));
    QCOMPARE(port, quint16(7443));
    QVERIFY(kiosk::parseHostPort(QStringLiteral("[::1]:7443"), &host, &port) && host == QStringLiteral("::1"));
    QVERIFY(!kiosk::parseHostPort(QStringLiteral("host"), &host, &port));
    QVERIFY(!kiosk::parseHostPort(QStringLiteral("host:0"), &host, &port));
    QVERIFY(!kiosk::parseHostPort(QStringLiteral("::1:7443"), &host, &port));
}

void TestKioskLink::snapshotThenLiveUpdates()
{
    m_link = std::make_unique<kiosk::LinkBackend>(m_stateDir, m_clock);
    QSignalSpy changed(m_link.get(), &kiosk::Backend::directoryChanged);
    QString error;
    QVERIFY2(m_link->start(&error), qPrintable(error));
    QCOMPARE(m_link->linkState(), kiosk::LinkState::Connecting);
    QTRY_VERIFY_WITH_TIMEOUT(m_link->linkState() == kiosk::LinkState::Online, kOnlineWaitMs);

    // The snapshot: building A's tenants, each with its balance.
    const qint64 inA = scalar(QStringLiteral(
        "SELECT count(DISTINCT a.id) FROM accounts a JOIN account_metering_points ap ON ap.account_id = a.id "
        "JOIN metering_points mp ON mp.id = ap.metering_point_id JOIN buildings b ON b.id = mp.building_id "
        "WHERE b.code = 'A' AND a.status <> 'closed' AND a.id IN (SELECT account_id FROM sync_directory)"));
    QVERIFY(inA > 50);
    QCOMPARE(qint64(m_link->replica().rows().size()), inA);
    QVERIFY(changed.count() >= 1);
    const QString shop = QStringLiteral("A-1F-104");
    std::optional<sync::DirectoryRow> row = m_link->findShop(QStringLiteral("a-1f-104"));
    QVERIFY(row);
    QCOMPARE(row->shopNo, shop);
    QCOMPARE(row->balanceFen.value_or(-1), balanceOf(shop));
    QVERIFY(!row->points.isEmpty()); // the issue-8 fields come through
    QVERIFY(row->tariff);
    QVERIFY(!m_link->findShop(QStringLiteral("B-9F-901"))); // another building's tenant
    QCOMPARE(m_link->account(row->accountId)->shopNo, shop);
    QCOMPARE(m_link->profile().kioskName, QStringLiteral("A座大堂"));
    QVERIFY(!m_link->profile().buildingName.isEmpty());
    QCOMPARE(m_link->profile().channels, QStringList{QStringLiteral("alipay")});
    QCOMPARE(m_link->profile().topUpMaxFen, 500'000);
    QVERIFY(qAbs(m_link->lastSyncMs() - m_clock.wallMs()) < 1000);
    QVERIFY(QFile::exists(m_stateDir + QStringLiteral("/directory.json")));

    // A cash recharge at the counter: the kiosk hears of it by itself.
    changed.clear();
    const qint64 before = row->balanceFen.value_or(0);
    const rpc::Outcome paid = m_admin->callBlocking(QStringLiteral("account.recharge_cash"),
        {{QStringLiteral("shop_no"), shop}, {QStringLiteral("amount_fen"), 12'300},
            {QStringLiteral("idempotency_key"), QStringLiteral("link-cash-1")}});
    QVERIFY2(rpc::succeeded(paid), qPrintable(describe(paid)));
    QTRY_VERIFY_WITH_TIMEOUT(m_link->findShop(shop)->balanceFen.value_or(0) == before + 12'300, 10'000);
    bool named = false;
    for (const QList<QVariant> &args : std::as_const(changed))
        named = named || args.at(0).value<QList<qint64>>().contains(row->accountId);
    QVERIFY(named);
}

void TestKioskLink::pinsAndRecharges()
{
    QVERIFY(m_link && m_link->linkState() == kiosk::LinkState::Online);
    const QString shop = QStringLiteral("A-1F-104");
    QVERIFY(rpc::succeeded(m_admin->callBlocking(QStringLiteral("account.set_pin"),
        {{QStringLiteral("shop_no"), shop}, {QStringLiteral("pin"), QStringLiteral("2468")}})));

    struct PinAnswer
    {
        bool done = false;
        std::optional<bool> ok;
        kiosk::BackendError error;
    };
    const auto check = [this, &shop](const QString &pin) {
        auto answer = std::make_shared<PinAnswer>();
        bool returned = false;
        m_link->checkPin(shop, pin, [answer, &returned](const std::optional<bool> &ok, const kiosk::BackendError &e) {
            if (!returned)
                qWarning("checkPin answered inside the call");
            answer->done = true;
            answer->ok = ok;
            answer->error = e;
        });
        returned = true;
        if (!QTest::qWaitFor([&answer] { return answer->done; }, 10'000))
            qWarning("checkPin: no answer within 10 s");
        return *answer;
    };
    PinAnswer a = check(QStringLiteral("2468"));
    QVERIFY(a.done && a.ok.value_or(false));
    a = check(QStringLiteral("1357"));
    QVERIFY(a.done && !a.ok);
    QCOMPARE(a.error.code, QStringLiteral("wrong_pin"));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(check(QStringLiteral("1357")).error.code, QStringLiteral("wrong_pin"));
    QCOMPARE(check(QStringLiteral("1357")).error.code, QStringLiteral("locked"));
    QCOMPARE(check(QStringLiteral("2468")).error.code, QStringLiteral("locked"));

    // The History screen: the cash recharge of the previous case first.
    bool done = false;
    QList<kiosk::Recharge> list;
    m_link->recentRecharges(
        shop, [&](const std::optional<QList<kiosk::Recharge>> &value, const kiosk::BackendError &e) {
            done = true;
            QVERIFY2(value, qPrintable(e.message));
            list = *value;
        });
    QVERIFY(!done);
    QTRY_VERIFY_WITH_TIMEOUT(done, 10'000);
    QVERIFY(!list.isEmpty());
    QCOMPARE(list.first().amountFen, 12'300);
    QCOMPARE(list.first().channel, QStringLiteral("cash"));
    QCOMPARE(list.first().state, QStringLiteral("credited"));
    QVERIFY(list.first().receiptNo.startsWith(QStringLiteral("CSH")));
}

// topup.create and topup.cancel through the link (Alipay's gateway does not answer here, so the
// top-up stays without a QR); the same idempotency key gives the same top-up.
void TestKioskLink::topUpOverTheLink()
{
    QVERIFY(m_link && m_link->linkState() == kiosk::LinkState::Online);
    kiosk::TopUpRequest request;
    request.shopNo = QStringLiteral("A-1F-105");
    request.amountFen = 10'000;
    request.channel = QStringLiteral("alipay");
    request.idempotencyKey = QStringLiteral("link-topup-1");
    const auto create = [this, &request] {
        std::optional<kiosk::TopUp> topUp;
        kiosk::BackendError error;
        bool done = false;
        m_link->createTopUp(request, [&](const std::optional<kiosk::TopUp> &value, const kiosk::BackendError &e) {
            topUp = value;
            error = e;
            done = true;
        });
        if (done)
            qWarning("createTopUp answered inside the call");
        if (!QTest::qWaitFor([&done] { return done; }, 30'000))
            qWarning("createTopUp: no answer within 30 s");
        if (!topUp)
            qWarning("createTopUp: %s %s", qPrintable(error.code), qPrintable(error.message));
        return topUp;
    };
    const std::optional<kiosk::TopUp> first = create();
    QVERIFY(first);
    QVERIFY(first->attemptId > 0);
    QCOMPARE(first->shopNo, request.shopNo);
    QCOMPARE(first->amountFen, 10'000);
    QCOMPARE(first->channel, QStringLiteral("alipay"));
    QVERIFY(!first->receiptNo.isEmpty());
    QVERIFY(!first->state.isEmpty());
    QVERIFY(!first->paid);
    QVERIFY(first->createdAtMs > 0);
    const std::optional<kiosk::TopUp> again = create();
    QVERIFY(again);
    QCOMPARE(again->attemptId, first->attemptId);
    QCOMPARE(again->receiptNo, first->receiptNo);

    std::optional<kiosk::TopUp> cancelled;
    bool done = false;
    m_link->cancelTopUp(first->attemptId, [&](const std::optional<kiosk::TopUp> &value, const kiosk::BackendError &e) {
        cancelled = value;
        done = true;
        if (!value)
            qWarning("cancelTopUp: %s %s", qPrintable(e.code), qPrintable(e.message));
    });
    QTRY_VERIFY_WITH_TIMEOUT(done, 30'000);
    QVERIFY(cancelled);
    QCOMPARE(cancelled->attemptId, first->attemptId);
    QVERIFY(!cancelled->paid);
}

void TestKioskLink::offlineThenBackByItself()
{
    QVERIFY(m_link && m_link->linkState() == kiosk::LinkState::Online);
    const QString shop = QStringLiteral("A-1F-104");
    const qint64 balance = m_link->findShop(shop)->balanceFen.value_or(0);

    // prepayd dies: Offline within seconds; the rows stay readable; calls answer unavailable.
    m_daemon.kill();
    QVERIFY(m_daemon.waitForFinished(10000));
    QTRY_VERIFY_WITH_TIMEOUT(m_link->linkState() == kiosk::LinkState::Offline, 10'000);
    QCOMPARE(m_link->findShop(shop)->balanceFen.value_or(0), balance);
    const qint64 lastSync = m_link->lastSyncMs();
    QVERIFY(lastSync > 0 && lastSync <= m_clock.wallMs());
    bool done = false;
    bool inside = true;
    kiosk::BackendError error;
    QElapsedTimer answeredIn;
    answeredIn.start();
    kiosk::TopUpRequest request;
    request.shopNo = shop;
    request.amountFen = 5000;
    request.channel = QStringLiteral("alipay");
    request.idempotencyKey = QStringLiteral("link-offline-1");
    m_link->createTopUp(request, [&](const std::optional<kiosk::TopUp> &value, const kiosk::BackendError &e) {
        QVERIFY(!inside);
        QVERIFY(!value);
        error = e;
        done = true;
    });
    inside = false;
    QTRY_VERIFY_WITH_TIMEOUT(done, 1000);
    QVERIFY(answeredIn.elapsed() < 1000);
    QCOMPARE(error.code, QStringLiteral("unavailable"));

    // A receipt printed while offline goes to the outbox, which survives the kiosk's restart.
    m_link->report(QStringLiteral("receipt_printed"), {{QStringLiteral("receipt_no"), QStringLiteral("CSHLINK0001")}});
    QCOMPARE(m_link->outboxPending(), 1);
    m_link.reset();
    m_link = std::make_unique<kiosk::LinkBackend>(m_stateDir, m_clock);
    QString why;
    QVERIFY2(m_link->start(&why), qPrintable(why));
    QCOMPARE(m_link->outboxPending(), 1);
    QCOMPARE(m_link->findShop(shop)->balanceFen.value_or(0), balance); // from the file
    QCOMPARE(m_link->profile().kioskName, QStringLiteral("A座大堂"));  // cached
    QTRY_VERIFY_WITH_TIMEOUT(m_link->linkState() == kiosk::LinkState::Offline, 10'000);
    QVERIFY(m_link->lastSyncMs() >= lastSync - 1000 && m_link->lastSyncMs() <= lastSync + 1000);

    // prepayd back: the kiosk reconnects by itself and delivers the event once.
    QTest::qWait(3000);
    QVERIFY2(startDaemon(), m_daemonLog.constData());
    QTRY_VERIFY_WITH_TIMEOUT(m_link->linkState() == kiosk::LinkState::Online, 45'000);
    QTRY_COMPARE_WITH_TIMEOUT(m_link->outboxPending(), 0, 10'000);
    QCOMPARE(scalar(QStringLiteral("SELECT count(*) FROM kiosk_events WHERE kind = 'receipt_printed' "
                                   "AND fields ->> '$.receipt_no' = 'CSHLINK0001'")),
        1);
    QFile outbox(m_stateDir + QStringLiteral("/outbox.jsonl"));
    QVERIFY(outbox.open(QIODevice::ReadOnly));
    QCOMPARE(outbox.readAll(), QByteArray());
    // And the directory follows again (the administrator logs in anew: prepayd restarted).
    m_admin = connectStaff();
    QVERIFY(m_admin);
    QVERIFY(rpc::succeeded(m_admin->callBlocking(QStringLiteral("session.login"),
        {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}})));
    QVERIFY(rpc::succeeded(m_admin->callBlocking(QStringLiteral("account.recharge_cash"),
        {{QStringLiteral("shop_no"), shop}, {QStringLiteral("amount_fen"), 700},
            {QStringLiteral("idempotency_key"), QStringLiteral("link-cash-2")}})));
    QTRY_VERIFY_WITH_TIMEOUT(m_link->findShop(shop)->balanceFen.value_or(0) == balance + 700, 10'000);
}

QTEST_GUILESS_MAIN(TestKioskLink)
#include "tst_kiosk_link.moc"
