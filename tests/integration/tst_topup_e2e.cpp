// A QR top-up end to end, every part real: prepayd as a process (its API over TLS 1.3, the
// Alipay/WeChat/UnionPay adapters, its HTTPS notify endpoint, the poller) polling the demo
// building on prepay-sim meters (RS-485 timing), the provider sandbox (prepay-sim pay's library,
// in this process) and an enrolled kiosk on the kiosk port (mutual TLS). The tenant's phone is
// Debian's chromium, headless: it opens the QR's pay page and the test clicks "Pay" in it.
//
//   kiosk topup.create → QR → chromium opens it, clicks Pay → the sandbox notifies prepayd →
//   credited once (ledger) → the meter's relay closes (the simulator's ground truth) → the
//   kiosk receives events.topup with the new balance.
// And the tenant who gives up: topup.cancel → the provider's order closed → events.topup closed.
// And T10: a prepaid meter offline when its top-up is paid — credited at once, the recharge job
// retried until the meter answers again, delivered to the meter exactly once, nothing refunded.
#include "api/clock.h"
#include "api/rpcclient.h"
#include "accounts/takeover.h"
#include "headlessbrowser.h"
#include "payments/payhttp.h"
#include "sandboxcontrol.h"
#include "sandboxmerchant.h"
#include "topupsite.h"
#include "pki/pki.h"
#include "sim/pay/paysandbox.h"
#include "store/store.h"

#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

#include <array>

using namespace prepay;

namespace {

QString keyFile(const QString &name)
{
    return test::sandboxKeyFile(name);
}

constexpr auto shop = "B-9F-901"; // in arrears in the demo building: its supply is cut

QString describe(const rpc::Outcome &outcome)
{
    return rpc::succeeded(outcome) ? QStringLiteral("ok") : std::get<rpc::Error>(outcome).message;
}

} // namespace

class TestTopUpEndToEnd : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void paidInTheBrowserCreditsOnceAndClosesTheRelay();
    void refundsToThePayer();
    void cancelledTopUpIsClosed();
    void offlineMeterGetsTheRechargeLater();

private:
    QString relayState();
    bool waitForTopUp(qint64 attemptId, const std::function<bool(const QJsonObject &)> &done, int timeoutMs);

    test::TopUpSite m_site;
    std::unique_ptr<rpc::RpcClient> m_kiosk;
    QList<QJsonObject> m_events; // events.topup the kiosk received
    qint64 m_paidAttempt = 0;
    int m_gateway = 0;
    int m_unit = 0;
};

void TestTopUpEndToEnd::initTestCase()
{
    // Refunds above 20.00 wait for a second person (the default is 500.00); failed meter
    // commands are retried after 1 s (doubling), not 5 s (T10 waits for that).
    QString error;
    QVERIFY2(m_site.start({{QStringLiteral("approval.money_threshold_fen"), QStringLiteral("2000")},
                              {QStringLiteral("command.retry_base_ms"), QStringLiteral("1000")}},
                 &error),
        qPrintable(error));
    const std::optional<std::pair<int, int>> meter = m_site.meterOf(QString::fromLatin1(shop));
    QVERIFY(meter);
    std::tie(m_gateway, m_unit) = *meter;

    // A kiosk enrolled with a pairing code.
    const QString pairing = m_site.pairKiosk(QStringLiteral("B座大堂"));
    QVERIFY(!pairing.isEmpty());
    const std::optional<pki::KeyAndCsr> csr = pki::makeCsr(QStringLiteral("kiosk"), &error);
    QVERIFY2(csr, qPrintable(error));
    auto enroller = m_site.connectStaff();
    QVERIFY(enroller);
    const rpc::Outcome enrolled = enroller->callBlocking(QStringLiteral("kiosk.enrol"),
        {{QStringLiteral("pairing_code"), pairing}, {QStringLiteral("csr_pem"), QString::fromLatin1(csr->csrPem)}});
    QVERIFY(rpc::succeeded(enrolled));
    rpc::Endpoint kiosk;
    kiosk.host = QStringLiteral("127.0.0.1");
    kiosk.port = m_site.kioskPort();
    kiosk.ca = m_site.ca();
    kiosk.clientCertificate = QSslCertificate(
        std::get<QJsonValue>(enrolled).toObject().value(QLatin1String("certificate_pem")).toString().toLatin1(), QSsl::Pem);
    kiosk.clientKey = QSslKey(csr->keyPem, QSsl::Ec, QSsl::Pem);
    m_kiosk = std::make_unique<rpc::RpcClient>();
    QVERIFY2(m_kiosk->openBlocking(kiosk, 10000, &error), qPrintable(error));
    connect(m_kiosk.get(), &rpc::RpcClient::notification, this, [this](const QString &method, const QJsonObject &params) {
        if (method == QLatin1String("events.topup"))
            m_events << params;
    });
}

void TestTopUpEndToEnd::cleanupTestCase()
{
    m_kiosk.reset();
    if (const QString dir = qEnvironmentVariable("PREPAY_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QFile log(dir + QStringLiteral("/prepayd.log"));
        if (log.open(QIODevice::WriteOnly))
            log.write(m_site.daemonLog());
    }
    QCOMPARE(m_site.stop(), 0);
}

QString TestTopUpEndToEnd::relayState()
{
    return m_site.truth(m_gateway, m_unit).value(QLatin1String("relay_state")).toString();
}

bool TestTopUpEndToEnd::waitForTopUp(qint64 attemptId, const std::function<bool(const QJsonObject &)> &done, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        for (const QJsonObject &event : std::as_const(m_events)) {
            if (event.value(QLatin1String("attempt_id")).toInteger() == attemptId && done(event))
                return true;
        }
        QTest::qWait(20);
    }
    return false;
}

void TestTopUpEndToEnd::paidInTheBrowserCreditsOnceAndClosesTheRelay()
{
    // The supply is cut before (the first poll cycle trips the shop in arrears).
    QTRY_COMPARE_WITH_TIMEOUT(relayState(), QStringLiteral("open"), 60000);
    const qint64 balanceBefore = m_site.scalar(QStringLiteral(
        "SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id WHERE a.shop_no = 'B-9F-901'"));

    const rpc::Outcome created = m_kiosk->callBlocking(QStringLiteral("topup.create"),
        {{QStringLiteral("shop_no"), QString::fromLatin1(shop)}, {QStringLiteral("amount_fen"), 10000},
            {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("idempotency_key"), QStringLiteral("e2e-topup-0001")}});
    QVERIFY2(rpc::succeeded(created), qPrintable(describe(created)));
    const QJsonObject topUp = std::get<QJsonValue>(created).toObject();
    QCOMPARE(topUp.value(QLatin1String("state")).toString(), QStringLiteral("qr_issued"));
    const qint64 attemptId = topUp.value(QLatin1String("attempt_id")).toInteger();
    const QString qr = topUp.value(QLatin1String("qr_payload")).toString();
    QVERIFY2(qr.startsWith(m_site.sandbox().baseUrl() + QStringLiteral("/pay/")), qPrintable(qr));

    // The tenant's phone: chromium opens the QR's page (trusting the sandbox's certificate only)
    // and "Pay" is clicked in it.
    test::HeadlessBrowser phone;
    QString error;
    QVERIFY2(phone.start({QStringLiteral("--ignore-certificate-errors-spki-list=")
                             + test::HeadlessBrowser::spkiPin(keyFile(QStringLiteral("tls-server.pem")))},
                 &error),
        qPrintable(error));
    QVERIFY2(phone.navigate(qr, &error), qPrintable(error));
    const QString amount = phone.waitForText(
        QStringLiteral("document.querySelector('#amount') ? document.querySelector('#amount').textContent : ''"), 15000, &error);
    QCOMPARE(amount, QStringLiteral("¥100.00"));
    const QString shotDir = qEnvironmentVariable("PREPAY_SCREENSHOT_DIR", m_site.dir());
    QVERIFY2(phone.screenshot(shotDir + QStringLiteral("/paypage.png"), &error), qPrintable(error));
    QElapsedTimer sincePay;
    sincePay.start();
    QVERIFY2(phone.evaluate(QStringLiteral("document.querySelector('#pay').click(), 'clicked'"), &error), qPrintable(error));
    const QString result = phone.waitForText(
        QStringLiteral("document.querySelector('#result') ? document.querySelector('#result').textContent : ''"), 15000, &error);
    QVERIFY2(result.contains(QStringLiteral("支付成功")), qPrintable(result + error));
    QVERIFY2(phone.screenshot(shotDir + QStringLiteral("/paypage-paid.png"), &error), qPrintable(error));

    // The kiosk hears of it: credited, with the new balance.
    QVERIFY2(waitForTopUp(attemptId, [](const QJsonObject &e) { return e.value(QLatin1String("paid")).toBool(); }, 20000),
        "no events.topup with paid = true");
    const qint64 payToEventMs = sincePay.elapsed();
    m_paidAttempt = attemptId;
    QJsonObject paid;
    for (const QJsonObject &event : std::as_const(m_events)) {
        if (event.value(QLatin1String("attempt_id")).toInteger() == attemptId && event.value(QLatin1String("paid")).toBool())
            paid = event;
    }
    QCOMPARE(paid.value(QLatin1String("state")).toString(), QStringLiteral("credited"));
    QCOMPARE(paid.value(QLatin1String("balance_fen")).toInteger(), balanceBefore + 10000);
    QCOMPARE(paid.value(QLatin1String("late")).toBool(), false);

    // Ground truth: the meter's relay closes.
    QTRY_VERIFY2_WITH_TIMEOUT(relayState() == QLatin1String("closed"), m_site.daemonLog().right(4000).constData(), 30000);
    const qint64 payToRelayMs = sincePay.elapsed();
    qInfo("pay click → events.topup %lld ms, → relay closed (simulator truth) %lld ms", payToEventMs, payToRelayMs);

    // Exactly once: one credit for the attempt however many notifications and queries came.
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = %1")
                        .arg(attemptId)),
        qint64(1));
    QTest::qWait(1500); // the sandbox's notification retries and prepayd's next query
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = %1")
                        .arg(attemptId)),
        qint64(1));
    QVERIFY(m_site.scalar(QStringLiteral("SELECT count(*) FROM provider_events WHERE payment_attempt_id = %1").arg(attemptId)) >= 1);

    // topup.get answers the same, and the same key gives the same top-up (no second QR).
    const rpc::Outcome again = m_kiosk->callBlocking(QStringLiteral("topup.create"),
        {{QStringLiteral("shop_no"), QString::fromLatin1(shop)}, {QStringLiteral("amount_fen"), 10000},
            {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("idempotency_key"), QStringLiteral("e2e-topup-0001")}});
    QVERIFY(rpc::succeeded(again));
    QCOMPARE(std::get<QJsonValue>(again).toObject().value(QLatin1String("attempt_id")).toInteger(), attemptId);
    QCOMPARE(std::get<QJsonValue>(again).toObject().value(QLatin1String("already")).toBool(), true);
    QCOMPARE(std::get<QJsonValue>(again).toObject().value(QLatin1String("state")).toString(), QStringLiteral("credited"));

    // prepayctl ledger verify on the live file.
    const QByteArray verified = m_site.ledgerVerifyFailure();
    QVERIFY2(verified.isEmpty(), verified.constData());
}

// Staff pay part of the top-up back to the payer: 10.00 at once, 30.00 after a second person's
// approval; the sandbox refunds each once; the wallet and the top-up's state follow.
void TestTopUpEndToEnd::refundsToThePayer()
{
    QVERIFY(m_paidAttempt != 0);
    const QString walletSql = QStringLiteral(
        "SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id WHERE a.shop_no = 'B-9F-901'");
    const qint64 before = m_site.scalar(walletSql);
    const auto refundState = [this](qint64 refundId) {
        const rpc::Outcome o = m_site.admin().callBlocking(QStringLiteral("refund.get"), {{QStringLiteral("refund_id"), refundId}});
        return rpc::succeeded(o) ? std::get<QJsonValue>(o).toObject().value(QLatin1String("state")).toString() : QString();
    };

    const QJsonObject small{{QStringLiteral("attempt_id"), m_paidAttempt}, {QStringLiteral("amount_fen"), 1000},
        {QStringLiteral("reason"), QStringLiteral("tenant moved out early")},
        {QStringLiteral("idempotency_key"), QStringLiteral("e2e-refund-0001")}};
    const rpc::Outcome asked = m_site.admin().callBlocking(QStringLiteral("refund.request"), small);
    QVERIFY2(rpc::succeeded(asked), qPrintable(describe(asked)));
    const QJsonObject first = std::get<QJsonValue>(asked).toObject();
    QCOMPARE(first.value(QLatin1String("status")).toString(), QStringLiteral("done"));
    QCOMPARE(first.value(QLatin1String("balance_fen")).toInteger(), before - 1000);
    const qint64 firstId = first.value(QLatin1String("refund_id")).toInteger();
    QTRY_COMPARE_WITH_TIMEOUT(refundState(firstId), QStringLiteral("succeeded"), 20000);
    // The same key again is the same refund.
    const rpc::Outcome again = m_site.admin().callBlocking(QStringLiteral("refund.request"), small);
    QVERIFY(rpc::succeeded(again));
    QCOMPARE(std::get<QJsonValue>(again).toObject().value(QLatin1String("refund_id")).toInteger(), firstId);
    // More than the wallet holds is refused and changes nothing.
    const rpc::Outcome tooMuch = m_site.admin().callBlocking(QStringLiteral("refund.request"),
        {{QStringLiteral("attempt_id"), m_paidAttempt}, {QStringLiteral("amount_fen"), 9500},
            {QStringLiteral("reason"), QStringLiteral("all of it")}, {QStringLiteral("idempotency_key"), QStringLiteral("e2e-refund-0002")}});
    QVERIFY(!rpc::succeeded(tooMuch));
    QCOMPARE(m_site.scalar(walletSql), before - 1000);

    // Above the threshold: a second person decides.
    const rpc::Outcome big = m_site.admin().callBlocking(QStringLiteral("refund.request"),
        {{QStringLiteral("attempt_id"), m_paidAttempt}, {QStringLiteral("amount_fen"), 3000},
            {QStringLiteral("reason"), QStringLiteral("overpaid by mistake")},
            {QStringLiteral("idempotency_key"), QStringLiteral("e2e-refund-0003")}});
    QVERIFY2(rpc::succeeded(big), qPrintable(describe(big)));
    const QJsonObject pending = std::get<QJsonValue>(big).toObject();
    QCOMPARE(pending.value(QLatin1String("status")).toString(), QStringLiteral("pending_approval"));
    const qint64 approvalId = pending.value(QLatin1String("approval_id")).toInteger();
    const qint64 bigId = pending.value(QLatin1String("refund_id")).toInteger();
    QCOMPARE(refundState(bigId), QStringLiteral("pending_approval"));
    QCOMPARE(m_site.scalar(walletSql), before - 4000);
    QVERIFY(rpc::succeeded(m_site.admin().callBlocking(QStringLiteral("operator.create"),
        {{QStringLiteral("login"), QStringLiteral("checker")}, {QStringLiteral("display_name"), QStringLiteral("复核员")},
            {QStringLiteral("role"), QStringLiteral("operator")}, {QStringLiteral("password"), QStringLiteral("first-password-1")}})));
    auto checker = m_site.connectStaff();
    QVERIFY(rpc::succeeded(checker->callBlocking(QStringLiteral("session.login"),
        {{QStringLiteral("login"), QStringLiteral("checker")}, {QStringLiteral("password"), QStringLiteral("first-password-1")}})));
    QVERIFY(rpc::succeeded(checker->callBlocking(QStringLiteral("session.change_password"),
        {{QStringLiteral("old_password"), QStringLiteral("first-password-1")},
            {QStringLiteral("new_password"), QStringLiteral("second-password-2")}})));
    // The maker cannot approve their own request.
    QCOMPARE(std::get<rpc::Error>(m_site.admin().callBlocking(QStringLiteral("approval.decide"),
                                      {{QStringLiteral("approval_id"), approvalId}, {QStringLiteral("decision"), QStringLiteral("approve")}}))
                 .code,
        rpc::ErrorCode::Forbidden);
    const rpc::Outcome decided = checker->callBlocking(QStringLiteral("approval.decide"),
        {{QStringLiteral("approval_id"), approvalId}, {QStringLiteral("decision"), QStringLiteral("approve")}});
    QVERIFY2(rpc::succeeded(decided), qPrintable(describe(decided)));
    QCOMPARE(std::get<QJsonValue>(decided).toObject().value(QLatin1String("refund_id")).toInteger(), bigId);
    QTRY_COMPARE_WITH_TIMEOUT(refundState(bigId), QStringLiteral("succeeded"), 20000);

    // The top-up is partially refunded; the sandbox paid back 40.00 once; the ledger holds.
    const rpc::Outcome topUp = m_site.admin().callBlocking(QStringLiteral("topup.get"), {{QStringLiteral("attempt_id"), m_paidAttempt}});
    QCOMPARE(std::get<QJsonValue>(topUp).toObject().value(QLatin1String("state")).toString(), QStringLiteral("partially_refunded"));
    QCOMPARE(m_site.scalar(walletSql), before - 4000);
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM refunds WHERE payment_attempt_id = %1 AND state = 'succeeded'")
                        .arg(m_paidAttempt)),
        qint64(2));
    const QByteArray verified = m_site.ledgerVerifyFailure();
    QVERIFY2(verified.isEmpty(), verified.constData());
}

void TestTopUpEndToEnd::cancelledTopUpIsClosed()
{
    const rpc::Outcome created = m_kiosk->callBlocking(QStringLiteral("topup.create"),
        {{QStringLiteral("shop_no"), QString::fromLatin1(shop)}, {QStringLiteral("amount_fen"), 5000},
            {QStringLiteral("channel"), QStringLiteral("wechat")}, {QStringLiteral("idempotency_key"), QStringLiteral("e2e-topup-0002")}});
    QVERIFY(rpc::succeeded(created));
    const qint64 attemptId = std::get<QJsonValue>(created).toObject().value(QLatin1String("attempt_id")).toInteger();
    QVERIFY(rpc::succeeded(m_kiosk->callBlocking(QStringLiteral("topup.cancel"), {{QStringLiteral("attempt_id"), attemptId}})));
    QVERIFY2(waitForTopUp(attemptId,
                 [](const QJsonObject &e) { return e.value(QLatin1String("state")).toString() == QLatin1String("closed"); },
                 30000),
        "no events.topup with state closed");
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE payment_attempt_id = %1").arg(attemptId)),
        qint64(0));

    // A staff member sees it too; a kiosk cannot see another's top-up (here: none exists).
    const rpc::Outcome seen = m_site.admin().callBlocking(QStringLiteral("topup.get"), {{QStringLiteral("attempt_id"), attemptId}});
    QVERIFY(rpc::succeeded(seen));
    QCOMPARE(std::get<QJsonValue>(seen).toObject().value(QLatin1String("state")).toString(), QStringLiteral("closed"));
    QVERIFY(!rpc::succeeded(m_kiosk->callBlocking(QStringLiteral("topup.get"), {{QStringLiteral("attempt_id"), 999999}})));

    // The reconciliation's findings: none yet (today's bill is reconciled tomorrow); a bad date
    // is refused by name; a kiosk may not look.
    const rpc::Outcome findings = m_site.admin().callBlocking(QStringLiteral("payments.findings"), {{QStringLiteral("open_only"), true}});
    QVERIFY2(rpc::succeeded(findings), qPrintable(describe(findings)));
    QCOMPARE(std::get<QJsonValue>(findings).toObject().value(QLatin1String("findings")).toArray().size(), 0);
    QCOMPARE(std::get<QJsonValue>(findings).toObject().value(QLatin1String("open_total")).toInteger(), 0);
    const rpc::Outcome badDate = m_site.admin().callBlocking(QStringLiteral("payments.findings"), {{QStringLiteral("from"), QStringLiteral("2026-13-01")}});
    QVERIFY(!rpc::succeeded(badDate));
    QCOMPARE(std::get<rpc::Error>(badDate).code, rpc::ErrorCode::InvalidParams);
    QCOMPARE(std::get<rpc::Error>(m_kiosk->callBlocking(QStringLiteral("payments.findings"), {})).code, rpc::ErrorCode::Forbidden);
    // The same through prepayctl, as staff at the office would.
    QProcess ctl;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("PREPAY_PASSWORD"), m_site.password());
    ctl.setProcessEnvironment(env);
    ctl.setProcessChannelMode(QProcess::MergedChannels);
    const QStringList connection{QStringLiteral("--server"), QStringLiteral("127.0.0.1:%1").arg(m_site.staffPort()),
        QStringLiteral("--ca"), m_site.caPath(), QStringLiteral("--login"), QStringLiteral("root")};
    ctl.start(test::binaryPath(QStringLiteral("prepayctl")),
        QStringList{QStringLiteral("admin"), QStringLiteral("findings"), QStringLiteral("--open")} + connection);
    QVERIFY(ctl.waitForFinished(30000));
    const QByteArray listed = ctl.readAll();
    QVERIFY2(ctl.exitCode() == 0 && listed.contains("no open finding") && listed.contains("0 open in all"), listed.constData());
    ctl.start(test::binaryPath(QStringLiteral("prepayctl")),
        QStringList{QStringLiteral("admin"), QStringLiteral("settle"), QStringLiteral("424242"), QStringLiteral("--note"),
            QStringLiteral("checked with Alipay")} + connection);
    QVERIFY(ctl.waitForFinished(30000));
    const QByteArray settled = ctl.readAll();
    QVERIFY2(ctl.exitCode() == 2 && settled.contains("no finding 424242"), settled.constData());

    // Settling: an unknown finding is not_found, a note is required, a kiosk may not.
    const rpc::Outcome unknown = m_site.admin().callBlocking(QStringLiteral("payments.settle_finding"),
        {{QStringLiteral("finding_id"), 424242}, {QStringLiteral("note"), QStringLiteral("checked with Alipay")}});
    QVERIFY(!rpc::succeeded(unknown));
    QCOMPARE(std::get<rpc::Error>(unknown).code, rpc::ErrorCode::NotFound);
    const rpc::Outcome noNote = m_site.admin().callBlocking(QStringLiteral("payments.settle_finding"), {{QStringLiteral("finding_id"), 1}});
    QVERIFY(!rpc::succeeded(noNote));
    QCOMPARE(std::get<rpc::Error>(noNote).code, rpc::ErrorCode::InvalidParams);
    QCOMPARE(std::get<rpc::Error>(m_kiosk->callBlocking(QStringLiteral("payments.settle_finding"),
                                      {{QStringLiteral("finding_id"), 1}, {QStringLiteral("note"), QStringLiteral("no")}}))
                 .code,
        rpc::ErrorCode::Forbidden);
}

// T10. A-1F-105's meter holds its own balance (prepaid): a paid top-up is credited to the
// wallet and queued as a recharge of the meter in the same transaction. The meter is offline
// (the gateway answers 0x0B) when the tenant pays: the credit is not held up, the recharge job
// fails and is retried; when the meter is back it is applied exactly once (purchase count +1,
// the amount once), and nothing is refunded.
void TestTopUpEndToEnd::offlineMeterGetsTheRechargeLater()
{
    const QString point = QStringLiteral("A-1F-105");
    const std::optional<std::pair<int, int>> meter = m_site.meterOf(point);
    QVERIFY(meter);
    const auto [gateway, unit] = *meter;
    const QJsonObject before = m_site.truth(gateway, unit);
    QVERIFY2(before.contains(QLatin1String("purchase_count")), QJsonDocument(before).toJson().constData());
    const QByteArray added = m_site.simCtl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("offline"),
        QStringLiteral("--gateway"), QString::number(gateway), QStringLiteral("--unit"), QString::number(unit),
        QStringLiteral("--response"), QStringLiteral("exception")});
    const QRegularExpressionMatch faultId = QRegularExpression(QStringLiteral("^fault (\\d+) added")).match(QString::fromUtf8(added));
    QVERIFY2(faultId.hasMatch(), added.constData());
    const QString walletSql = QStringLiteral(
        "SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id WHERE a.shop_no = '%1'").arg(point);
    const qint64 walletBefore = m_site.scalar(walletSql);

    const rpc::Outcome created = m_kiosk->callBlocking(QStringLiteral("topup.create"),
        {{QStringLiteral("shop_no"), point}, {QStringLiteral("amount_fen"), 8800},
            {QStringLiteral("channel"), QStringLiteral("wechat")}, {QStringLiteral("idempotency_key"), QStringLiteral("e2e-topup-t10")}});
    QVERIFY2(rpc::succeeded(created), qPrintable(describe(created)));
    const QJsonObject topUp = std::get<QJsonValue>(created).toObject();
    const qint64 attemptId = topUp.value(QLatin1String("attempt_id")).toInteger();
    std::unique_ptr<payments::NetworkTransport> transport
        = payments::NetworkTransport::create(keyFile(QStringLiteral("tls-ca.pem")), nullptr);
    QVERIFY(transport);
    const QJsonObject who{{QStringLiteral("channel"), QStringLiteral("wechat")},
        {QStringLiteral("out_trade_no"), topUp.value(QLatin1String("receipt_no")).toString()}};
    test::sandboxControl(*transport, m_site.sandbox().baseUrl(), "POST", QStringLiteral("/sandbox/scan"), who);
    const QJsonObject paid = test::sandboxControl(*transport, m_site.sandbox().baseUrl(), "POST", QStringLiteral("/sandbox/pay"), who);
    QVERIFY2(paid.value(QLatin1String("_status")).toInt() == 200, QJsonDocument(paid).toJson().constData());

    // Credited at once although the meter cannot be reached.
    QVERIFY2(waitForTopUp(attemptId, [](const QJsonObject &e) { return e.value(QLatin1String("paid")).toBool(); }, 20000),
        "no events.topup with paid = true");
    QCOMPARE(m_site.scalar(walletSql), walletBefore + 8800);
    const QString jobSql = QStringLiteral("SELECT %2 FROM meter_commands WHERE kind = 'recharge' AND idempotency_key LIKE "
                                          "'recharge:attempt:%1:%'").arg(attemptId);
    QCOMPARE(m_site.scalar(jobSql.arg(QStringLiteral("count(*)"))), qint64(1));
    // The job tries, fails, waits: the meter has not got the money; nothing is refunded.
    QTRY_VERIFY_WITH_TIMEOUT(m_site.scalar(jobSql.arg(QStringLiteral("attempts"))) >= 2, 60000);
    QVERIFY(m_site.scalar(jobSql.arg(QStringLiteral("state = 'verified'"))) == 0);
    QCOMPARE(m_site.truth(gateway, unit).value(QLatin1String("purchase_count")).toInteger(),
        before.value(QLatin1String("purchase_count")).toInteger());

    // The meter comes back: the retry delivers it, once.
    QVERIFY(!m_site.simCtl({QStringLiteral("fault"), QStringLiteral("clear"), faultId.captured(1)}).isNull());
    QTRY_COMPARE_WITH_TIMEOUT(m_site.scalar(jobSql.arg(QStringLiteral("state = 'verified'"))), qint64(1), 90000);
    const QJsonObject after = m_site.truth(gateway, unit);
    QCOMPARE(after.value(QLatin1String("purchase_count")).toInteger(), before.value(QLatin1String("purchase_count")).toInteger() + 1);
    QCOMPARE(after.value(QLatin1String("total_purchased_fen")).toInteger(),
        before.value(QLatin1String("total_purchased_fen")).toInteger() + 8800);
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = %1").arg(attemptId)),
        qint64(1));
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM refunds WHERE payment_attempt_id = %1").arg(attemptId)), qint64(0));
    const rpc::Outcome now = m_kiosk->callBlocking(QStringLiteral("topup.get"), {{QStringLiteral("attempt_id"), attemptId}});
    QVERIFY(rpc::succeeded(now));
    QCOMPARE(std::get<QJsonValue>(now).toObject().value(QLatin1String("state")).toString(), QStringLiteral("credited"));
    const QByteArray verified = m_site.ledgerVerifyFailure();
    QVERIFY2(verified.isEmpty(), verified.constData());
}

QTEST_GUILESS_MAIN(TestTopUpEndToEnd)
#include "tst_topup_e2e.moc"
