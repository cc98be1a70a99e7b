// Receipt facts from the backoffice (issue 9) on real parts: prepayd's Service in process over
// real TLS 1.3 WebSockets with billing, the QR payment flow and refunds — the real Alipay and WeChat Pay adapters
// over TLS against the provider sandbox (prepay-sim pay's library) with the HTTPS notify endpoint —
// on a real SQLite file seeded with the demo building and its meters' balances taken over.
//  - a cash sale at the counter and a QR top-up created by a kiosk and paid through the sandbox:
//    receipt.get reports exactly what the ledger holds (balance before and after = the wallet
//    just before and just after the credit, also once the wallet has moved on), the channel, the
//    provider's transaction id, the cashier or the kiosk, the building's office, meters, tariff;
//  - a refund slip (paid back through the sandbox), a refund that waits for a second person (no
//    slip yet), and the cash refund of a closed account (CLS…);
//  - a payment that came after the tenant gave up at the kiosk: its receipt says "late";
//  - a kiosk of another building is refused; a kiosk sees 90 days back only (the service's clock
//    moved on); a kiosk may not verify;
//  - receipt.verify: the real string is valid; a changed amount, a changed mac, a malformed string
//    are not; a genuine mac (computed here from the database's secret, independently of
//    prepayd's code) for an unknown receipt or another amount names that;
//  - the secret (read from the file) appears in no reply, no log line and no audit row;
//  - prepayctl receipt render --receipt NO against the running service: a PDF whose text has the
//    receipt number, the amount and the balance after; prepayctl receipt verify's exit codes.
#include "accounts/takeover.h"
#include "api/clock.h"
#include "api/rpcclient.h"
#include "apitest.h"
#include "cupsrig.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "demosite.h"
#include "manualclock.h"
#include "payments/alipay.h"
#include "payments/notifyendpoint.h"
#include "payments/payhttp.h"
#include "payments/paymentservice.h"
#include "payments/refundservice.h"
#include "payments/wechatpay.h"
#include "pdftext.h"
#include "pki/pki.h"
#include "printer/receiptfacts.h"
#include "sandboxcontrol.h"
#include "sandboxmerchant.h"
#include "service/service.h"
#include "sim/pay/paysandbox.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QMessageAuthenticationCode>
#include <QtCore/QMutex>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QSslKey>
#include <QtTest/QtTest>

using namespace prepay;
using rpc::ErrorCode;
using rpc::Outcome;
using test::codeOf;
using test::describe;
using test::resultOf;

namespace {

const QString adminPassword = QStringLiteral("correct horse battery");
const QString cashierPassword = QStringLiteral("cashier password 22");
const QString shopA = QStringLiteral("A-1F-105"); // building A, TOU tariff (demo seed)

// Every log line of this process (prepayd's Service runs in it), for the secret check.
QMutex logMutex;
QStringList logLines;
QtMessageHandler previousHandler = nullptr;

void captureMessage(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        QMutexLocker lock(&logMutex);
        logLines << message;
    }
    if (previousHandler)
        previousHandler(type, context, message);
}

// As the receipt prints money: "¥150.00", "-¥12.50".
QString yuan(qint64 fen)
{
    return QStringLiteral("%1¥%2.%3")
        .arg(fen < 0 ? QStringLiteral("-") : QString())
        .arg(qAbs(fen) / 100)
        .arg(qAbs(fen) % 100, 2, 10, QLatin1Char('0'));
}

} // namespace

class TestReceiptFacts : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    SystemClock m_payClock;                         // the providers sign with real time
    test::ManualClock m_clock{m_payClock.wallMs()}; // the service's: real time at the start, moved on by the last test
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Connection> m_reader;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::unique_ptr<sim::pay::PaySandbox> m_sandbox;
    std::unique_ptr<payments::NetworkTransport> m_transport;
    std::unique_ptr<payments::Provider> m_alipay;
    std::unique_ptr<payments::Provider> m_wechat;
    std::unique_ptr<payments::PaymentService> m_payments;
    std::unique_ptr<payments::NotifyEndpoint> m_notify;
    std::unique_ptr<payments::RefundService> m_refunds;
    std::unique_ptr<service::Service> m_service;
    QSslCertificate m_ca;
    std::unique_ptr<rpc::RpcClient> m_root;
    std::unique_ptr<rpc::RpcClient> m_cashier;
    std::unique_ptr<rpc::RpcClient> m_kioskA;    // paired with building A
    std::unique_ptr<rpc::RpcClient> m_kioskB;    // paired with building B
    std::unique_ptr<rpc::RpcClient> m_kioskSite; // every building
    QStringList m_replies;                       // every answer of every call, for the secret check

    // Set by the tests in order.
    QString m_cashReceipt;
    qint64 m_cashBefore = 0;
    qint64 m_cashAfter = 0;
    QString m_cashVerification;
    QString m_qrReceipt;
    qint64 m_qrAttempt = 0;
    QString m_refundReceipt;
    QString m_wechatRefundReceipt;
    QString m_wechatRefundId; // WeChat Pay's own refund id
    QString m_wechatReceipt;

    Outcome call(rpc::RpcClient &client, const QString &method, const QJsonObject &params)
    {
        const Outcome o = client.callBlocking(method, params, 20000);
        m_replies << describe(o);
        return o;
    }

    // A control call to the provider sandbox (/sandbox/scan, /sandbox/pay, /sandbox/faults).
    QJsonObject sandbox(const QString &path, const QJsonObject &body)
    {
        return test::sandboxControl(*m_transport, m_sandbox->baseUrl(), "POST", path, body);
    }

    // The tenant's phone: scans the QR of `outTradeNo` and pays; empty, or why the pay failed.
    QByteArray scanAndPay(const QString &channel, const QString &outTradeNo)
    {
        const QJsonObject who{{QStringLiteral("channel"), channel}, {QStringLiteral("out_trade_no"), outTradeNo}};
        sandbox(QStringLiteral("/sandbox/scan"), who);
        const QJsonObject paid = sandbox(QStringLiteral("/sandbox/pay"), who);
        return paid.value(QStringLiteral("_status")).toInt() == 200 ? QByteArray() : QJsonDocument(paid).toJson();
    }

    Outcome receiptGet(rpc::RpcClient &client, const QString &receiptNo)
    {
        return call(client, QStringLiteral("receipt.get"), {{QStringLiteral("receipt_no"), receiptNo}});
    }

    QJsonObject verify(rpc::RpcClient &client, const QString &text)
    {
        const Outcome o = call(client, QStringLiteral("receipt.verify"), {{QStringLiteral("verification"), text}});
        if (!rpc::succeeded(o))
            qWarning("receipt.verify: %s", qPrintable(describe(o)));
        return resultOf(o);
    }

    std::unique_ptr<rpc::RpcClient> connectStaff()
    {
        auto client = std::make_unique<rpc::RpcClient>();
        QString error;
        if (!client->openBlocking(test::staffEndpoint(*m_service, m_ca), 10000, &error))
            qWarning("connect: %s", qPrintable(error));
        return client;
    }

    std::unique_ptr<rpc::RpcClient> loggedIn(const QString &login, const QString &password)
    {
        auto client = connectStaff();
        const Outcome o = call(*client, QStringLiteral("session.login"),
            {{QStringLiteral("login"), login}, {QStringLiteral("password"), password}});
        if (!rpc::succeeded(o))
            qWarning("login %s: %s", qPrintable(login), qPrintable(describe(o)));
        return client;
    }

    // A kiosk paired (with a building, or for every building), enrolled, connected on the kiosk port.
    std::unique_ptr<rpc::RpcClient> kiosk(const QString &name, const QString &buildingCode)
    {
        QJsonObject pairing{{QStringLiteral("name"), name}};
        if (!buildingCode.isEmpty())
            pairing.insert(QStringLiteral("building_code"), buildingCode);
        const Outcome paired = call(*m_root, QStringLiteral("kiosk.pairing.create"), pairing);
        QString error;
        const std::optional<pki::KeyAndCsr> csr = pki::makeCsr(QStringLiteral("kiosk"), &error);
        if (!csr) {
            qWarning("csr: %s", qPrintable(error));
            return nullptr;
        }
        auto device = connectStaff();
        const Outcome enrolled = device->callBlocking(QStringLiteral("kiosk.enrol"),
            {{QStringLiteral("pairing_code"), resultOf(paired).value(QLatin1String("pairing_code")).toString()},
                {QStringLiteral("csr_pem"), QString::fromLatin1(csr->csrPem)}});
        if (!rpc::succeeded(enrolled))
            qWarning("enrol: %s", qPrintable(describe(enrolled)));
        rpc::Endpoint e;
        e.host = QStringLiteral("127.0.0.1");
        e.port = m_service->kioskPort();
        e.ca = m_ca;
        e.clientCertificate = QSslCertificate(
            resultOf(enrolled).value(QLatin1String("certificate_pem")).toString().toLatin1(), QSsl::Pem);
        e.clientKey = QSslKey(csr->keyPem, QSsl::Ec, QSsl::Pem);
        auto client = std::make_unique<rpc::RpcClient>();
        if (!client->openBlocking(e, 10000, &error))
            qWarning("kiosk connect: %s", qPrintable(error));
        return client;
    }

    qint64 queryInt(const QString &sql)
    {
        store::SqlError error;
        const qint64 n = m_reader->queryInt(sql, &error);
        if (!error.ok())
            qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
        return n;
    }

    QString queryText(const QString &sql)
    {
        store::Statement s = m_reader->prepare(sql);
        if (s.step() != store::Statement::Step::Row || s.isNull(0))
            return {};
        return s.text(0);
    }

    bool exec(const QString &sql) { return test::runScript(*m_store, sql); }

    qint64 wallet(const QString &shop)
    {
        return queryInt(QStringLiteral("SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = "
                                       "w.account_id WHERE a.shop_no = '%1' AND a.status = 'open'")
                            .arg(shop));
    }

    QByteArray secret()
    {
        store::Statement s = m_reader->prepare(QStringLiteral("SELECT secret FROM receipt_keys WHERE id = 1"));
        return s.step() == store::Statement::Step::Row ? s.blob(0) : QByteArray();
    }

    // The spec of the verification string, computed here without prepayd's code.
    static QString expectedVerification(const QByteArray &key, const QString &receiptNo, qint64 amountFen, qint64 atMs)
    {
        const QString text = QStringLiteral("PREPAY-R1:%1:%2:%3").arg(receiptNo).arg(amountFen).arg(atMs);
        const QByteArray mac = QMessageAuthenticationCode::hash(text.toUtf8(), key, QCryptographicHash::Sha256);
        return text + QLatin1Char(':') + QString::fromLatin1(mac.toHex().left(16).toUpper());
    }

    // What every receipt of shop A says about the shop, its building and office, its meter and tariff.
    void checkShopA(const QJsonObject &r)
    {
        QCOMPARE(r.value(QLatin1String("shop_no")).toString(), shopA);
        QCOMPARE(r.value(QLatin1String("shop_name")).toString(), QStringLiteral("茶香阁茶叶店"));
        QCOMPARE(
            r.value(QLatin1String("building")).toObject().value(QLatin1String("code")).toString(), QStringLiteral("A"));
        QCOMPARE(r.value(QLatin1String("building")).toObject().value(QLatin1String("name")).toString(),
            QStringLiteral("A座"));
        QCOMPARE(r.value(QLatin1String("office_name")).toString(), QStringLiteral("三明商会大厦物业服务中心"));
        QCOMPARE(r.value(QLatin1String("site_name")).toString(), QStringLiteral("三明商会大厦"));
        QCOMPARE(r.value(QLatin1String("office_phone")).toString(), QStringLiteral("0598-1111111")); // building A's own
        const QJsonArray meters = r.value(QLatin1String("meters")).toArray();
        QCOMPARE(meters.size(), 1);
        QCOMPARE(meters.at(0).toObject().value(QLatin1String("point_code")).toString(), shopA);
        const qint64 serial = queryInt(
            QStringLiteral("SELECT m.serial_number FROM meters m JOIN meter_installations i ON i.meter_id = m.id "
                           "AND i.removed_at_ms IS NULL JOIN metering_points p ON p.id = i.metering_point_id WHERE "
                           "p.code = 'A-1F-105'"));
        QVERIFY(serial > 0);
        QCOMPARE(meters.at(0).toObject().value(QLatin1String("meter_serial")).toInteger(), serial);
        const QJsonObject tariff = r.value(QLatin1String("tariff")).toObject();
        QCOMPARE(tariff.value(QLatin1String("code")).toString(),
            queryText(QStringLiteral("SELECT t.code FROM tariffs t JOIN tariff_assignments ta ON ta.tariff_id = t.id "
                                     "JOIN accounts a ON a.id = ta.account_id WHERE a.shop_no = 'A-1F-105'")));
        QCOMPARE(tariff.value(QLatin1String("name")).toString(),
            queryText(QStringLiteral("SELECT t.name FROM tariffs t JOIN tariff_assignments ta ON ta.tariff_id = t.id "
                                     "JOIN accounts a ON a.id = ta.account_id WHERE a.shop_no = 'A-1F-105'")));
        QCOMPARE(tariff.value(QLatin1String("kind")).toString(), QStringLiteral("tou"));
        QCOMPARE(tariff.value(QLatin1String("prices")).toObject().value(QLatin1String("peak")).toInteger(),
            queryInt(QStringLiteral("SELECT v.price_peak FROM tariff_versions v JOIN tariff_assignments ta ON "
                                    "ta.tariff_id = v.tariff_id JOIN accounts a ON a.id = ta.account_id WHERE "
                                    "a.shop_no = 'A-1F-105' ORDER BY v.effective_date DESC LIMIT 1")));
    }

    // Runs prepayctl (a process) while this event loop keeps serving the API.
    int prepayctl(const QStringList &args, QByteArray *output)
    {
        QProcess p;
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(test::binaryPath(QStringLiteral("prepayctl")), args);
        if (!p.waitForStarted(10000))
            return -1;
        const bool done = QTest::qWaitFor([&p] { return p.state() == QProcess::NotRunning; }, 60000);
        *output = p.readAll();
        return done && p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    }

    QStringList connection(const QString &login, const QString &passwordFile) const
    {
        return {QStringLiteral("--server"), QStringLiteral("127.0.0.1:%1").arg(m_service->staffPort()),
            QStringLiteral("--ca"), m_service->caCertPath(), QStringLiteral("--login"), login,
            QStringLiteral("--password-file"), passwordFile};
    }

    QString passwordFile(const QString &name, const QString &password)
    {
        QFile f(m_dir->filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(password.toUtf8() + '\n');
        return f.fileName();
    }

private Q_SLOTS:
    void initTestCase()
    {
        previousHandler = qInstallMessageHandler(captureMessage);
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_payClock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        m_store = std::move(opened.store);
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        const qint64 nowMs = m_payClock.wallMs();
        QVERIFY(m_store->write([nowMs](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, nowMs); })
                    .get()
                    .committed());
        // The office on receipts (site name, site phone, building A's own phone); refunds from
        // 25.00 wait for a second person.
        QVERIFY(exec(
            QStringLiteral("UPDATE settings SET value = '三明商会大厦物业服务中心' WHERE key = 'site.office_name'; "
                           "UPDATE settings SET value = '0598-8888888' WHERE key = 'kiosk.office_phone'; "
                           "UPDATE buildings SET office_phone = '0598-1111111' WHERE code = 'A'; "
                           "UPDATE settings SET value = '2500' WHERE key = 'approval.money_threshold_fen';")));
        m_reader = m_store->openReader();
        QString error;
        m_book = std::make_shared<billing::TariffBook>();
        QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
        m_biller = std::make_unique<billing::Biller>(m_book);

        // The provider sandbox, the Alipay adapter, the payment flow, its notify URL, refunds.
        m_sandbox = std::make_unique<sim::pay::PaySandbox>(test::sandboxConfig(0.0005));
        QVERIFY2(m_sandbox->start(&error), qPrintable(error));
        m_transport = payments::NetworkTransport::create(test::sandboxKeyFile(QStringLiteral("tls-ca.pem")), &error);
        QVERIFY2(m_transport, qPrintable(error));
        m_payments = std::make_unique<payments::PaymentService>(*m_store, *m_biller, m_payClock);
        payments::PaymentSchedule fast;
        fast.tickMs = 100;
        fast.firstQueryMs = 300;
        fast.secondQueryMs = 300;
        fast.queryEveryMs = 300;
        m_payments->setSchedule(fast);
        m_notify = std::make_unique<payments::NotifyEndpoint>(*m_payments);
        QVERIFY2(m_notify->setTls(test::sandboxKeyFile(QStringLiteral("tls-server.pem")),
                     test::sandboxKeyFile(QStringLiteral("tls-server.key")), &error),
            qPrintable(error));
        QVERIFY2(m_notify->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        const QString notify = QStringLiteral("https://127.0.0.1:%1/notify/").arg(m_notify->port());
        m_alipay
            = payments::loadAlipay(test::sandboxAlipay(m_sandbox->baseUrl(), notify), *m_transport, m_payClock, &error);
        QVERIFY2(m_alipay, qPrintable(error));
        m_wechat
            = payments::loadWechat(test::sandboxWechat(m_sandbox->baseUrl(), notify), *m_transport, m_payClock, &error);
        QVERIFY2(m_wechat, qPrintable(error));
        m_payments->setProvider(m_alipay.get());
        m_payments->setProvider(m_wechat.get());
        m_payments->start();
        m_refunds = std::make_unique<payments::RefundService>(*m_store, *m_biller, m_payClock);
        payments::RefundSchedule refundsFast;
        refundsFast.tickMs = 100;
        refundsFast.firstQueryMs = 300;
        refundsFast.queryEveryMs = 300;
        m_refunds->setSchedule(refundsFast);
        m_refunds->setProvider(m_alipay.get());
        m_refunds->setProvider(m_wechat.get());
        m_refunds->start();

        // prepayd's Service with all of it.
        m_service = std::make_unique<service::Service>(m_clock, *m_store, test::loopbackConfig(), m_dir->path());
        m_service->setBilling(m_biller.get(), [](const QList<qint64> &) {});
        m_service->setPayments(m_payments.get(), m_refunds.get());
        QVERIFY2(m_service->start(&error), qPrintable(error));
        QFile ca(m_service->caCertPath());
        QVERIFY(ca.open(QIODevice::ReadOnly));
        m_ca = QSslCertificate(ca.readAll(), QSsl::Pem);

        // The administrator, a cashier, kiosks of building A, of building B and of every building.
        auto setup = connectStaff();
        QVERIFY(rpc::succeeded(call(*setup, QStringLiteral("setup.create_admin"),
            {{QStringLiteral("setup_code"), m_service->setupCode().value_or(QString())},
                {QStringLiteral("login"), QStringLiteral("root")},
                {QStringLiteral("display_name"), QStringLiteral("管理员")},
                {QStringLiteral("password"), adminPassword}})));
        m_root = loggedIn(QStringLiteral("root"), adminPassword);
        QVERIFY(rpc::succeeded(call(*m_root, QStringLiteral("operator.create"),
            {{QStringLiteral("login"), QStringLiteral("cashier1")},
                {QStringLiteral("display_name"), QStringLiteral("收银员小王")},
                {QStringLiteral("role"), QStringLiteral("cashier")},
                {QStringLiteral("password"), QStringLiteral("first password 1")}})));
        m_cashier = loggedIn(QStringLiteral("cashier1"), QStringLiteral("first password 1"));
        QVERIFY(rpc::succeeded(call(*m_cashier, QStringLiteral("session.change_password"),
            {{QStringLiteral("old_password"), QStringLiteral("first password 1")},
                {QStringLiteral("new_password"), cashierPassword}})));
        m_kioskA = kiosk(QStringLiteral("A座大堂"), QStringLiteral("A"));
        m_kioskB = kiosk(QStringLiteral("B座大堂"), QStringLiteral("B"));
        m_kioskSite = kiosk(QStringLiteral("总服务台"), QString());
        QVERIFY(m_kioskA && m_kioskB && m_kioskSite);
    }

    void cleanupTestCase()
    {
        m_kioskA.reset();
        m_kioskB.reset();
        m_kioskSite.reset();
        m_cashier.reset();
        m_root.reset();
        m_service.reset();
        m_refunds.reset();
        m_notify.reset();
        m_payments.reset();
        m_alipay.reset();
        m_wechat.reset();
        m_transport.reset();
        m_sandbox.reset();
        m_reader.reset();
        m_biller.reset();
        if (m_store)
            m_store->stop();
        m_store.reset();
        qInstallMessageHandler(previousHandler);
    }

    // A cash sale at the counter: its receipt says what the ledger holds — also after the wallet
    // moved on with a second sale — and who sold it.
    void cashSaleReceipt()
    {
        QVERIFY(secret().isEmpty()); // made by the first receipt, not before
        m_cashBefore = wallet(shopA);
        const Outcome sold = call(*m_cashier, QStringLiteral("account.recharge_cash"),
            {{QStringLiteral("shop_no"), shopA}, {QStringLiteral("amount_fen"), 15000},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-cash-0001")}});
        QVERIFY2(rpc::succeeded(sold), qPrintable(describe(sold)));
        m_cashReceipt = resultOf(sold).value(QLatin1String("receipt_no")).toString();
        QVERIFY2(m_cashReceipt.startsWith(QStringLiteral("CSH")), qPrintable(m_cashReceipt));
        m_cashAfter = wallet(shopA);
        QCOMPARE(m_cashAfter, m_cashBefore + 15000);
        QCOMPARE(resultOf(sold).value(QLatin1String("balance_fen")).toInteger(), m_cashAfter);

        // A second sale moves the wallet on; the first receipt keeps its own before and after.
        QVERIFY(rpc::succeeded(call(*m_cashier, QStringLiteral("account.recharge_cash"),
            {{QStringLiteral("shop_no"), shopA}, {QStringLiteral("amount_fen"), 2300},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-cash-0002")}})));
        QCOMPARE(wallet(shopA), m_cashAfter + 2300);

        const Outcome got = receiptGet(*m_cashier, m_cashReceipt);
        QVERIFY2(rpc::succeeded(got), qPrintable(describe(got)));
        const QJsonObject r = resultOf(got);
        QCOMPARE(r.value(QLatin1String("kind")).toString(), QStringLiteral("topup"));
        QCOMPARE(r.value(QLatin1String("receipt_no")).toString(), m_cashReceipt);
        QCOMPARE(r.value(QLatin1String("amount_fen")).toInteger(), 15000);
        QCOMPARE(r.value(QLatin1String("channel")).toString(), QStringLiteral("cash"));
        QVERIFY(r.value(QLatin1String("provider_txn_id")).isNull());
        QCOMPARE(r.value(QLatin1String("balance_before_fen")).toInteger(), m_cashBefore);
        QCOMPARE(r.value(QLatin1String("balance_after_fen")).toInteger(), m_cashAfter);
        QCOMPARE(r.value(QLatin1String("entry_id")).toInteger(),
            resultOf(sold).value(QLatin1String("entry_id")).toInteger());
        QCOMPARE(r.value(QLatin1String("at_ms")).toInteger(),
            queryInt(QStringLiteral("SELECT created_at_ms FROM ledger_entries WHERE id = %1")
                         .arg(r.value(QLatin1String("entry_id")).toInteger())));
        QCOMPARE(r.value(QLatin1String("issued_by")).toObject(),
            (QJsonObject{{QStringLiteral("kind"), QStringLiteral("operator")},
                {QStringLiteral("name"), QStringLiteral("收银员小王")}}));
        QCOMPARE(r.value(QLatin1String("late")).toBool(), false);
        QCOMPARE(r.value(QLatin1String("state")).toString(), QStringLiteral("credited"));
        checkShopA(r);

        // The verification string: made under the secret the first receipt created (32 bytes).
        const QByteArray key = secret();
        QCOMPARE(key.size(), 32);
        m_cashVerification = r.value(QLatin1String("verification")).toString();
        QCOMPARE(m_cashVerification,
            expectedVerification(key, m_cashReceipt, 15000, r.value(QLatin1String("at_ms")).toInteger()));
        // The same receipt again is the same, under the same secret.
        QCOMPARE(resultOf(receiptGet(*m_root, m_cashReceipt)).value(QLatin1String("verification")).toString(),
            m_cashVerification);
        QCOMPARE(secret(), key);

        // Unknown numbers and badly formed ones.
        QCOMPARE(codeOf(receiptGet(*m_cashier, QStringLiteral("CSH99999999"))), ErrorCode::NotFound);
        QCOMPARE(codeOf(receiptGet(*m_cashier, QStringLiteral("csh-1"))), ErrorCode::InvalidParams);
        // Anonymous: log in first.
        auto anonymous = connectStaff();
        QCOMPARE(codeOf(receiptGet(*anonymous, m_cashReceipt)), ErrorCode::Unauthenticated);
    }

    // A QR top-up a kiosk created, paid through the sandbox: the kiosk's receipt.
    void qrTopUpReceipt()
    {
        const qint64 before = wallet(shopA);
        const Outcome created = call(*m_kioskA, QStringLiteral("topup.create"),
            {{QStringLiteral("shop_no"), shopA}, {QStringLiteral("amount_fen"), 8800},
                {QStringLiteral("channel"), QStringLiteral("alipay")},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-qr-0001")}});
        QVERIFY2(rpc::succeeded(created), qPrintable(describe(created)));
        m_qrAttempt = resultOf(created).value(QLatin1String("attempt_id")).toInteger();
        m_qrReceipt = resultOf(created).value(QLatin1String("receipt_no")).toString();
        QVERIFY(m_qrReceipt.startsWith(QLatin1Char('P')));
        // Not paid yet: no receipt.
        QCOMPARE(codeOf(receiptGet(*m_kioskA, m_qrReceipt)), ErrorCode::Conflict);

        // The tenant's phone: the sandbox's scan and pay.
        const QByteArray notPaid = scanAndPay(QStringLiteral("alipay"), m_qrReceipt);
        QVERIFY2(notPaid.isEmpty(), notPaid.constData());
        QTRY_COMPARE_WITH_TIMEOUT(
            queryText(QStringLiteral("SELECT state FROM payment_attempts WHERE id = %1").arg(m_qrAttempt)),
            QStringLiteral("credited"), 20000);
        const qint64 after = wallet(shopA);
        QCOMPARE(after, before + 8800);

        const Outcome got = receiptGet(*m_kioskA, m_qrReceipt);
        QVERIFY2(rpc::succeeded(got), qPrintable(describe(got)));
        const QJsonObject r = resultOf(got);
        QCOMPARE(r.value(QLatin1String("kind")).toString(), QStringLiteral("topup"));
        QCOMPARE(r.value(QLatin1String("amount_fen")).toInteger(), 8800);
        QCOMPARE(r.value(QLatin1String("channel")).toString(), QStringLiteral("alipay"));
        const QString txn
            = queryText(QStringLiteral("SELECT provider_txn_id FROM payment_attempts WHERE id = %1").arg(m_qrAttempt));
        QVERIFY(!txn.isEmpty());
        QCOMPARE(r.value(QLatin1String("provider_txn_id")).toString(), txn);
        QCOMPARE(r.value(QLatin1String("balance_before_fen")).toInteger(), before);
        QCOMPARE(r.value(QLatin1String("balance_after_fen")).toInteger(), after);
        QCOMPARE(r.value(QLatin1String("entry_id")).toInteger(),
            queryInt(QStringLiteral("SELECT id FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = %1")
                         .arg(m_qrAttempt)));
        QCOMPARE(r.value(QLatin1String("issued_by")).toObject(),
            (QJsonObject{{QStringLiteral("kind"), QStringLiteral("kiosk")},
                {QStringLiteral("name"), QStringLiteral("A座大堂")}}));
        QCOMPARE(r.value(QLatin1String("late")).toBool(), false);
        checkShopA(r);
        QCOMPARE(r.value(QLatin1String("verification")).toString(),
            expectedVerification(secret(), m_qrReceipt, 8800, r.value(QLatin1String("at_ms")).toInteger()));
        // Staff see the same receipt.
        const QJsonObject staff = resultOf(receiptGet(*m_root, m_qrReceipt));
        QCOMPARE(staff, r);
    }

    // A kiosk of another building is refused, one of every building is not; kiosks do not verify.
    void otherBuildingsKioskRefused()
    {
        QVERIFY(!m_qrReceipt.isEmpty());
        const Outcome other = receiptGet(*m_kioskB, m_qrReceipt);
        QCOMPARE(codeOf(other), ErrorCode::NotFound);
        QCOMPARE(codeOf(receiptGet(*m_kioskB, m_cashReceipt)), ErrorCode::NotFound);
        QVERIFY2(rpc::succeeded(receiptGet(*m_kioskSite, m_qrReceipt)), "a kiosk of every building sees it");
        QVERIFY2(rpc::succeeded(receiptGet(*m_kioskA, m_cashReceipt)), "the counter's receipt, building A's kiosk");
        QCOMPARE(codeOf(call(*m_kioskA, QStringLiteral("receipt.verify"),
                     {{QStringLiteral("verification"), m_cashVerification}})),
            ErrorCode::Forbidden);
        // A staff member limited to building B does not see building A's receipts either.
        QVERIFY(exec(QStringLiteral("INSERT INTO operator_buildings (operator_id, building_id) SELECT o.id, b.id "
                                    "FROM operators o, buildings b WHERE o.login = 'cashier1' AND b.code = 'B'")));
        QCOMPARE(codeOf(receiptGet(*m_cashier, m_cashReceipt)), ErrorCode::NotFound);
        QVERIFY(exec(QStringLiteral("DELETE FROM operator_buildings")));
        QVERIFY(rpc::succeeded(receiptGet(*m_cashier, m_cashReceipt)));
    }

    // Refund slips: one paid back through the sandbox; one waiting for a second person has none.
    void refundSlip()
    {
        QVERIFY(m_qrAttempt != 0);
        const qint64 before = wallet(shopA);
        const Outcome asked = call(*m_root, QStringLiteral("refund.request"),
            {{QStringLiteral("attempt_id"), m_qrAttempt}, {QStringLiteral("amount_fen"), 2000},
                {QStringLiteral("reason"), QStringLiteral("paid twice by mistake")},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-refund-0001")}});
        QVERIFY2(rpc::succeeded(asked), qPrintable(describe(asked)));
        const qint64 refundId = resultOf(asked).value(QLatin1String("refund_id")).toInteger();
        m_refundReceipt = resultOf(asked).value(QLatin1String("out_refund_no")).toString();
        QCOMPARE(wallet(shopA), before - 2000);
        QTRY_COMPARE_WITH_TIMEOUT(queryText(QStringLiteral("SELECT state FROM refunds WHERE id = %1").arg(refundId)),
            QStringLiteral("succeeded"), 20000);

        const Outcome got = receiptGet(*m_kioskA, m_refundReceipt);
        QVERIFY2(rpc::succeeded(got), qPrintable(describe(got)));
        const QJsonObject r = resultOf(got);
        QCOMPARE(r.value(QLatin1String("kind")).toString(), QStringLiteral("refund"));
        QCOMPARE(r.value(QLatin1String("receipt_no")).toString(), m_refundReceipt);
        QCOMPARE(r.value(QLatin1String("amount_fen")).toInteger(), 2000);
        QCOMPARE(r.value(QLatin1String("channel")).toString(), QStringLiteral("alipay"));
        QCOMPARE(r.value(QLatin1String("balance_before_fen")).toInteger(), before);
        QCOMPARE(r.value(QLatin1String("balance_after_fen")).toInteger(), before - 2000);
        QCOMPARE(r.value(QLatin1String("original_receipt_no")).toString(), m_qrReceipt);
        QCOMPARE(r.value(QLatin1String("original_provider_txn_id")).toString(),
            queryText(QStringLiteral("SELECT provider_txn_id FROM payment_attempts WHERE id = %1").arg(m_qrAttempt)));
        const QString refundTxn
            = queryText(QStringLiteral("SELECT provider_refund_id FROM refunds WHERE id = %1").arg(refundId));
        // Alipay has no refund id of its own (a refund is known by the trade and our number).
        QCOMPARE(r.value(QLatin1String("provider_txn_id")).isNull(), refundTxn.isEmpty());
        QCOMPARE(r.value(QLatin1String("provider_txn_id")).toString(), refundTxn);
        QCOMPARE(r.value(QLatin1String("at_ms")).toInteger(),
            queryInt(QStringLiteral("SELECT completed_at_ms FROM refunds WHERE id = %1").arg(refundId)));
        QCOMPARE(r.value(QLatin1String("entry_id")).toInteger(),
            queryInt(QStringLiteral("SELECT id FROM ledger_entries WHERE idempotency_key = 'refund:%1:request'")
                         .arg(refundId)));
        QCOMPARE(r.value(QLatin1String("issued_by")).toObject(),
            (QJsonObject{{QStringLiteral("kind"), QStringLiteral("operator")},
                {QStringLiteral("name"), QStringLiteral("管理员")}}));
        QCOMPARE(r.value(QLatin1String("state")).toString(), QStringLiteral("succeeded"));
        checkShopA(r);
        QCOMPARE(r.value(QLatin1String("verification")).toString(),
            expectedVerification(secret(), m_refundReceipt, 2000, r.value(QLatin1String("at_ms")).toInteger()));
        // The top-up's own receipt is unchanged by the refund (its state moved on).
        const QJsonObject topUp = resultOf(receiptGet(*m_root, m_qrReceipt));
        QCOMPARE(topUp.value(QLatin1String("amount_fen")).toInteger(), 8800);
        QCOMPARE(topUp.value(QLatin1String("state")).toString(), QStringLiteral("partially_refunded"));

        // 30.00 waits for a second person: the money left the wallet, but there is no slip yet.
        const Outcome waiting = call(*m_root, QStringLiteral("refund.request"),
            {{QStringLiteral("attempt_id"), m_qrAttempt}, {QStringLiteral("amount_fen"), 3000},
                {QStringLiteral("reason"), QStringLiteral("tenant asked")},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-refund-0002")}});
        QVERIFY2(rpc::succeeded(waiting), qPrintable(describe(waiting)));
        QCOMPARE(resultOf(waiting).value(QLatin1String("status")).toString(), QStringLiteral("pending_approval"));
        const Outcome none = receiptGet(*m_root, resultOf(waiting).value(QLatin1String("out_refund_no")).toString());
        QCOMPARE(codeOf(none), ErrorCode::Conflict);
    }

    // A WeChat Pay refund: WeChat gives the refund an id of its own, and the slip shows it (an
    // Alipay slip shows the original trade's); both name the receipt they pay back.
    void wechatRefundSlip()
    {
        const Outcome created = call(*m_kioskA, QStringLiteral("topup.create"),
            {{QStringLiteral("shop_no"), shopA}, {QStringLiteral("amount_fen"), 6000},
                {QStringLiteral("channel"), QStringLiteral("wechat")},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-wx-0001")}});
        QVERIFY2(rpc::succeeded(created), qPrintable(describe(created)));
        const qint64 attempt = resultOf(created).value(QLatin1String("attempt_id")).toInteger();
        m_wechatReceipt = resultOf(created).value(QLatin1String("receipt_no")).toString();
        const QByteArray notPaid = scanAndPay(QStringLiteral("wechat"), m_wechatReceipt);
        QVERIFY2(notPaid.isEmpty(), notPaid.constData());
        QTRY_COMPARE_WITH_TIMEOUT(
            queryText(QStringLiteral("SELECT state FROM payment_attempts WHERE id = %1").arg(attempt)),
            QStringLiteral("credited"), 20000);

        const qint64 before = wallet(shopA);
        const Outcome asked = call(*m_root, QStringLiteral("refund.request"),
            {{QStringLiteral("attempt_id"), attempt}, {QStringLiteral("amount_fen"), 1500},
                {QStringLiteral("reason"), QStringLiteral("typed 60 for 45")},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-wx-refund-0001")}});
        QVERIFY2(rpc::succeeded(asked), qPrintable(describe(asked)));
        const qint64 refundId = resultOf(asked).value(QLatin1String("refund_id")).toInteger();
        m_wechatRefundReceipt = resultOf(asked).value(QLatin1String("out_refund_no")).toString();
        QTRY_COMPARE_WITH_TIMEOUT(queryText(QStringLiteral("SELECT state FROM refunds WHERE id = %1").arg(refundId)),
            QStringLiteral("succeeded"), 20000);
        m_wechatRefundId = queryText(QStringLiteral("SELECT provider_refund_id FROM refunds WHERE id = %1").arg(refundId));
        QVERIFY(!m_wechatRefundId.isEmpty());

        const Outcome got = receiptGet(*m_root, m_wechatRefundReceipt);
        QVERIFY2(rpc::succeeded(got), qPrintable(describe(got)));
        const QJsonObject r = resultOf(got);
        QCOMPARE(r.value(QLatin1String("kind")).toString(), QStringLiteral("refund"));
        QCOMPARE(r.value(QLatin1String("channel")).toString(), QStringLiteral("wechat"));
        QCOMPARE(r.value(QLatin1String("amount_fen")).toInteger(), 1500);
        QCOMPARE(r.value(QLatin1String("provider_txn_id")).toString(), m_wechatRefundId);
        QCOMPARE(r.value(QLatin1String("original_receipt_no")).toString(), m_wechatReceipt);
        QCOMPARE(r.value(QLatin1String("balance_before_fen")).toInteger(), before);
        QCOMPARE(r.value(QLatin1String("balance_after_fen")).toInteger(), before - 1500);
        QString error;
        const std::optional<printer::ReceiptData> data
            = printer::receiptFromFacts(r, printer::ReceiptLanguage::English, &error);
        QVERIFY2(data, qPrintable(error));
        QCOMPARE(data->kind, printer::ReceiptKind::Refund);
        QCOMPARE(data->providerTxnId, m_wechatRefundId); // WeChat's refund id, not the trade's
        QCOMPARE(data->originalReceiptNo, m_wechatReceipt);
        QCOMPARE(data->issuedByKiosk, false);
    }

    // An account closed with its balance paid out in cash: the CLS slip, taken after the close
    // (its point is unlinked in the very instant of the refund, and still on the slip).
    void closedAccountCashRefundSlip()
    {
        const QString shop = QStringLiteral("A-4F-405"); // not opened in the demo building
        const Outcome opened = call(*m_root, QStringLiteral("account.open"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("display_name"), QStringLiteral("新店")},
                {QStringLiteral("point_codes"), QJsonArray{shop}},
                {QStringLiteral("tariff_code"), QStringLiteral("TOU-COM")}});
        QVERIFY2(rpc::succeeded(opened), qPrintable(describe(opened)));
        QVERIFY(rpc::succeeded(call(*m_cashier, QStringLiteral("account.recharge_cash"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("amount_fen"), 1000},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-cash-0405")}})));
        const qint64 before = wallet(shop);
        QCOMPARE(before, 1000);
        const Outcome closed = call(*m_root, QStringLiteral("account.close"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("settlement"), QStringLiteral("refund_cash")},
                {QStringLiteral("reason"), QStringLiteral("lease ended")}});
        QVERIFY2(rpc::succeeded(closed), qPrintable(describe(closed)));
        const QString number = queryText(QStringLiteral("SELECT r.out_refund_no FROM refunds r JOIN accounts a ON a.id "
                                                        "= r.account_id WHERE a.shop_no = 'A-4F-405'"));
        QVERIFY2(number.startsWith(QStringLiteral("CLS")), qPrintable(number));

        const Outcome got = receiptGet(*m_root, number);
        QVERIFY2(rpc::succeeded(got), qPrintable(describe(got)));
        const QJsonObject r = resultOf(got);
        QCOMPARE(r.value(QLatin1String("kind")).toString(), QStringLiteral("refund"));
        QCOMPARE(r.value(QLatin1String("channel")).toString(), QStringLiteral("cash"));
        QCOMPARE(r.value(QLatin1String("amount_fen")).toInteger(), 1000);
        QCOMPARE(r.value(QLatin1String("balance_before_fen")).toInteger(), 1000);
        QCOMPARE(r.value(QLatin1String("balance_after_fen")).toInteger(), 0);
        QVERIFY(r.value(QLatin1String("original_receipt_no")).isNull());
        QVERIFY(r.value(QLatin1String("provider_txn_id")).isNull());
        QCOMPARE(r.value(QLatin1String("shop_no")).toString(), shop);
        QCOMPARE(r.value(QLatin1String("meters")).toArray().size(), 1);
        QCOMPARE(
            r.value(QLatin1String("meters")).toArray().at(0).toObject().value(QLatin1String("point_code")).toString(),
            shop);
        QCOMPARE(
            r.value(QLatin1String("building")).toObject().value(QLatin1String("code")).toString(), QStringLiteral("A"));
        QCOMPARE(r.value(QLatin1String("issued_by")).toObject().value(QLatin1String("name")).toString(),
            QStringLiteral("管理员"));
        QCOMPARE(r.value(QLatin1String("tariff")).toObject().value(QLatin1String("code")).toString(),
            QStringLiteral("TOU-COM"));
        QCOMPARE(queryText(QStringLiteral("SELECT status FROM accounts WHERE shop_no = 'A-4F-405'")),
            QStringLiteral("closed"));
    }

    // The tenant gave up at the kiosk, the provider closed the order, and the payment still got
    // through: credited all the same, and the receipt says it came late.
    void lateTopUpReceipt()
    {
        sandbox(QStringLiteral("/sandbox/faults"), {{QStringLiteral("late_success_after_close"), true}});
        const Outcome created = call(*m_kioskA, QStringLiteral("topup.create"),
            {{QStringLiteral("shop_no"), shopA}, {QStringLiteral("amount_fen"), 5000},
                {QStringLiteral("channel"), QStringLiteral("alipay")},
                {QStringLiteral("idempotency_key"), QStringLiteral("rcpt-qr-late1")}});
        QVERIFY2(rpc::succeeded(created), qPrintable(describe(created)));
        const qint64 attempt = resultOf(created).value(QLatin1String("attempt_id")).toInteger();
        const QString number = resultOf(created).value(QLatin1String("receipt_no")).toString();
        // The tenant scans (the provider's trade exists), then walks away.
        const QJsonObject who{
            {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), number}};
        sandbox(QStringLiteral("/sandbox/scan"), who);
        QVERIFY(
            rpc::succeeded(call(*m_kioskA, QStringLiteral("topup.cancel"), {{QStringLiteral("attempt_id"), attempt}})));
        QTRY_COMPARE_WITH_TIMEOUT(
            queryText(QStringLiteral("SELECT state FROM payment_attempts WHERE id = %1").arg(attempt)),
            QStringLiteral("closed"), 20000);
        QCOMPARE(codeOf(receiptGet(*m_kioskA, number)), ErrorCode::Conflict); // closed, not paid: no receipt
        const QJsonObject paid = sandbox(QStringLiteral("/sandbox/pay"), who);
        QVERIFY2(paid.value(QStringLiteral("_status")).toInt() == 200, QJsonDocument(paid).toJson().constData());
        QTRY_COMPARE_WITH_TIMEOUT(
            queryText(QStringLiteral("SELECT state FROM payment_attempts WHERE id = %1").arg(attempt)),
            QStringLiteral("credited"), 20000);
        sandbox(QStringLiteral("/sandbox/faults"), {{QStringLiteral("late_success_after_close"), false}});

        const Outcome got = receiptGet(*m_kioskA, number);
        QVERIFY2(rpc::succeeded(got), qPrintable(describe(got)));
        QCOMPARE(resultOf(got).value(QLatin1String("late")).toBool(), true);
        QCOMPARE(resultOf(got).value(QLatin1String("amount_fen")).toInteger(), 5000);
        QCOMPARE(resultOf(got).value(QLatin1String("balance_after_fen")).toInteger()
                - resultOf(got).value(QLatin1String("balance_before_fen")).toInteger(),
            5000);
        // The receipt's words for it.
        QString error;
        const std::optional<printer::ReceiptData> data
            = printer::receiptFromFacts(resultOf(got), printer::ReceiptLanguage::English, &error);
        QVERIFY2(data, qPrintable(error));
        QVERIFY(data->late);
        QCOMPARE(data->receiptNo, number);
        QCOMPARE(data->issuedByKiosk, true);
        QCOMPARE(data->issuedBy, QStringLiteral("A座大堂"));
        QCOMPARE(data->meters,
            QStringList{QStringLiteral("A-1F-105 (%1)")
                            .arg(queryInt(QStringLiteral(
                                "SELECT m.serial_number FROM meters m JOIN meter_installations i ON "
                                "i.meter_id = m.id AND i.removed_at_ms IS NULL JOIN metering_points p ON "
                                "p.id = i.metering_point_id WHERE p.code = 'A-1F-105'")))});
        QVERIFY2(data->tariff.contains(QStringLiteral("peak")) && data->tariff.endsWith(QStringLiteral("yuan/kWh")),
            qPrintable(data->tariff));
    }

    // receipt.verify: genuine, altered, forged, unknown; checked against a mac computed here.
    void verifyGenuineAndAltered()
    {
        QVERIFY(!m_cashVerification.isEmpty());
        QJsonObject v = verify(*m_cashier, m_cashVerification);
        QCOMPARE(v.value(QLatin1String("valid")).toBool(), true);
        QCOMPARE(v.value(QLatin1String("receipt_no")).toString(), m_cashReceipt);
        QCOMPARE(v.value(QLatin1String("amount_fen")).toInteger(), 15000);
        QCOMPARE(v.value(QLatin1String("balance_after_fen")).toInteger(), m_cashAfter);
        // The mac's hex digits in lower case are the same mac.
        const qsizetype cut = m_cashVerification.lastIndexOf(QLatin1Char(':')) + 1;
        QCOMPARE(verify(*m_root, m_cashVerification.left(cut) + m_cashVerification.mid(cut).toLower())
                     .value(QLatin1String("valid"))
                     .toBool(),
            true);

        // A changed amount under the old mac; a changed mac; a changed number; garbage.
        QString amount = m_cashVerification;
        amount.replace(QStringLiteral(":15000:"), QStringLiteral(":95000:"));
        QVERIFY(amount != m_cashVerification);
        v = verify(*m_root, amount);
        QCOMPARE(v.value(QLatin1String("valid")).toBool(), false);
        QCOMPARE(v.value(QLatin1String("reason")).toString(), QStringLiteral("bad_mac"));
        QString mac = m_cashVerification;
        mac[mac.size() - 1] = mac.endsWith(QLatin1Char('0')) ? QLatin1Char('1') : QLatin1Char('0');
        v = verify(*m_root, mac);
        QCOMPARE(v.value(QLatin1String("reason")).toString(), QStringLiteral("bad_mac"));
        QCOMPARE(v.value(QLatin1String("valid")).toBool(), false);
        QString number = m_cashVerification;
        number.replace(m_cashReceipt, QStringLiteral("CSH99999999"));
        QCOMPARE(verify(*m_root, number).value(QLatin1String("reason")).toString(), QStringLiteral("bad_mac"));
        for (const QString &garbage :
            QStringList{QStringLiteral("hello"), QStringLiteral("PREPAY-R1:CSH00000001:100:1:XYZ"),
                QString(QStringLiteral("PREPAY-R2:") + m_cashVerification.mid(10))}) {
            v = verify(*m_root, garbage);
            QCOMPARE(v.value(QLatin1String("valid")).toBool(), false);
            QCOMPARE(v.value(QLatin1String("reason")).toString(), QStringLiteral("malformed"));
        }

        // A genuine mac — the site's secret, computed here — for a receipt that does not exist,
        // and for the real receipt with another amount or time.
        const QByteArray key = secret();
        const qint64 atMs = resultOf(receiptGet(*m_root, m_cashReceipt)).value(QLatin1String("at_ms")).toInteger();
        v = verify(*m_root, expectedVerification(key, QStringLiteral("CSH99999999"), 15000, atMs));
        QCOMPARE(v.value(QLatin1String("valid")).toBool(), false);
        QCOMPARE(v.value(QLatin1String("reason")).toString(), QStringLiteral("unknown_receipt"));
        v = verify(*m_root, expectedVerification(key, m_cashReceipt, 95000, atMs));
        QCOMPARE(v.value(QLatin1String("reason")).toString(), QStringLiteral("amount_mismatch"));
        QCOMPARE(v.value(QLatin1String("receipt")).toObject().value(QLatin1String("amount_fen")).toInteger(), 15000);
        v = verify(*m_root, expectedVerification(key, m_cashReceipt, 15000, atMs + 1000));
        QCOMPARE(v.value(QLatin1String("reason")).toString(), QStringLiteral("time_mismatch"));
        // The refund slip's string is genuine too.
        const QString slip
            = resultOf(receiptGet(*m_root, m_refundReceipt)).value(QLatin1String("verification")).toString();
        QCOMPARE(verify(*m_root, slip).value(QLatin1String("kind")).toString(), QStringLiteral("refund"));
    }

    // prepayctl against the running service: a real receipt drawn, its text read back; verify.
    void prepayctlRendersAndVerifies()
    {
        QVERIFY(!m_cashReceipt.isEmpty());
        const QString cashierFile = passwordFile(QStringLiteral("cashier.pw"), cashierPassword);
        const QString rootFile = passwordFile(QStringLiteral("root.pw"), adminPassword);
        QByteArray out;

        // The counter sale, in English.
        const QString pdf = m_dir->filePath(QStringLiteral("cash.pdf"));
        int rc
            = prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("render"), QStringLiteral("--receipt"),
                            m_cashReceipt, QStringLiteral("--lang"), QStringLiteral("en"), QStringLiteral("--out"), pdf}
                    + connection(QStringLiteral("cashier1"), cashierFile),
                &out);
        QVERIFY2(rc == 0, out.constData());
        const QString words = test::pdfText(pdf, test::PdfLayout::Physical);
        QVERIFY2(words.contains(m_cashReceipt), qPrintable(words));
        QVERIFY2(words.contains(QStringLiteral("150.00")), qPrintable(words));
        QVERIFY2(words.contains(yuan(m_cashAfter)), qPrintable(words + QStringLiteral(" / ") + yuan(m_cashAfter)));
        QVERIFY2(words.contains(yuan(m_cashBefore)), qPrintable(words));
        QVERIFY2(words.contains(QStringLiteral("收银员小王")), qPrintable(words));
        QVERIFY2(words.contains(QStringLiteral("0598-1111111")), qPrintable(words));
        QVERIFY2(words.contains(QStringLiteral("三明商会大厦 A座")), qPrintable(words));

        // The refund slip, in Chinese, on A5.
        const QString slipPdf = m_dir->filePath(QStringLiteral("slip.pdf"));
        rc = prepayctl(
            QStringList{QStringLiteral("receipt"), QStringLiteral("render"), QStringLiteral("--receipt"),
                m_refundReceipt, QStringLiteral("--paper"), QStringLiteral("a5"), QStringLiteral("--out"), slipPdf}
                + connection(QStringLiteral("root"), rootFile),
            &out);
        QVERIFY2(rc == 0, out.constData());
        const QString slip = test::pdfText(slipPdf);
        QVERIFY2(slip.contains(QStringLiteral("退款凭证")), qPrintable(slip));
        QVERIFY2(slip.contains(m_refundReceipt), qPrintable(slip));
        QVERIFY2(slip.contains(QStringLiteral("20.00")), qPrintable(slip));
        const QString trade
            = queryText(QStringLiteral("SELECT provider_txn_id FROM payment_attempts WHERE id = %1").arg(m_qrAttempt));
        QVERIFY2(slip.contains(trade), qPrintable(slip + trade)); // Alipay's refund: the original trade
        QVERIFY2(slip.contains(QStringLiteral("原充值凭证")) && slip.contains(m_qrReceipt), qPrintable(slip));

        // The WeChat refund slip, in English: WeChat's refund id and the receipt it pays back.
        const QString wechatPdf = m_dir->filePath(QStringLiteral("wechat-slip.pdf"));
        rc = prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("render"), QStringLiteral("--receipt"),
                           m_wechatRefundReceipt, QStringLiteral("--lang"), QStringLiteral("en"), QStringLiteral("--out"),
                           wechatPdf}
                + connection(QStringLiteral("root"), rootFile),
            &out);
        QVERIFY2(rc == 0, out.constData());
        const QString wechatSlip = test::pdfText(wechatPdf);
        for (const QString &needed : {QStringLiteral("Refund slip"), m_wechatRefundReceipt, QStringLiteral("Refund of receipt"),
                 m_wechatReceipt, m_wechatRefundId, QStringLiteral("WeChat Pay"), QStringLiteral("15.00")})
            QVERIFY2(wechatSlip.contains(needed), qPrintable(needed + QStringLiteral(" not in:\n") + wechatSlip));
        // To look at them: PREPAY_SCREENSHOT_DIR=DIR keeps both PDFs.
        if (const QString keep = qEnvironmentVariable("PREPAY_SCREENSHOT_DIR"); !keep.isEmpty()) {
            QFile::copy(pdf, keep + QStringLiteral("/receipt-cash-en.pdf"));
            QFile::copy(slipPdf, keep + QStringLiteral("/receipt-refund-zh-a5.pdf"));
            QFile::copy(wechatPdf, keep + QStringLiteral("/receipt-refund-wechat-en.pdf"));
        }

        // Refusals have their own exit codes: no such receipt 6, wrong password 8, nothing drawn.
        const QString missing = m_dir->filePath(QStringLiteral("missing.pdf"));
        rc = prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("render"), QStringLiteral("--receipt"),
                           QStringLiteral("CSH99999999"), QStringLiteral("--out"), missing}
                + connection(QStringLiteral("cashier1"), cashierFile),
            &out);
        QVERIFY2(rc == 6, out.constData());
        QVERIFY(!QFile::exists(missing));
        rc = prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("render"), QStringLiteral("--receipt"),
                           m_cashReceipt, QStringLiteral("--out"), missing}
                + connection(QStringLiteral("cashier1"), rootFile),
            &out);
        QVERIFY2(rc == 8, out.constData());
        QVERIFY(!QFile::exists(missing));

        // receipt verify: 0 genuine, 1 altered.
        rc = prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("verify"), m_cashVerification}
                + connection(QStringLiteral("cashier1"), cashierFile),
            &out);
        QVERIFY2(rc == 0, out.constData());
        QVERIFY2(
            out.contains(QByteArray("valid: topup " + m_cashReceipt.toLatin1() + ", 150.00 CNY")), out.constData());
        QString altered = m_cashVerification;
        altered.replace(QStringLiteral(":15000:"), QStringLiteral(":15001:"));
        rc = prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("verify"), altered}
                + connection(QStringLiteral("cashier1"), cashierFile),
            &out);
        QVERIFY2(rc == 1, out.constData());
        QVERIFY2(out.contains("NOT VALID (bad_mac)"), out.constData());
        rc = prepayctl(
            QStringList{QStringLiteral("receipt"), QStringLiteral("verify"), altered, QStringLiteral("--json")}
                + connection(QStringLiteral("cashier1"), cashierFile),
            &out);
        QVERIFY2(rc == 1, out.constData());
        QCOMPARE(
            QJsonDocument::fromJson(out).object().value(QLatin1String("reason")).toString(), QStringLiteral("bad_mac"));
    }

    // prepayctl receipt print --receipt: the counter sale printed on a real queue (a private
    // cupsd), followed to completed, the paper read back; out of paper said within seconds with
    // the printer's reason (exit 2), the job left queued for the refill.
    void prepayctlPrintsOnAQueue()
    {
        QVERIFY(!m_cashReceipt.isEmpty());
        test::CupsRig cups;
        QString error;
        QVERIFY2(cups.start(&error), qPrintable(error));
        QVERIFY2(cups.addQueue(QStringLiteral("Counter"), QStringLiteral("capture:") + cups.captureDir(), &error),
            qPrintable(error));
        QVERIFY2(cups.addQueue(QStringLiteral("Empty"), QStringLiteral("fail:/media-empty"), &error), qPrintable(error));
        const QString cashierFile = passwordFile(QStringLiteral("cashier-print.pw"), cashierPassword);
        const auto print = [&](const QString &queue, QByteArray *out) {
            return prepayctl(QStringList{QStringLiteral("receipt"), QStringLiteral("print"), QStringLiteral("--receipt"),
                                 m_cashReceipt, QStringLiteral("--queue"), queue, QStringLiteral("--cups"), cups.server(),
                                 QStringLiteral("--paper"), QStringLiteral("a5"), QStringLiteral("--timeout"),
                                 QStringLiteral("60")}
                    + connection(QStringLiteral("cashier1"), cashierFile),
                out);
        };
        QByteArray out;
        QVERIFY2(print(QStringLiteral("Counter"), &out) == 0, out.constData());
        QVERIFY2(out.contains("completed"), out.constData());
        const QStringList printed = QDir(cups.captureDir()).entryList({QStringLiteral("*.pdf")}, QDir::Files);
        QCOMPARE(printed.size(), 1);
        const QString words = test::pdfText(QDir(cups.captureDir()).filePath(printed.constFirst()));
        QVERIFY2(words.contains(m_cashReceipt) && words.contains(QStringLiteral("150.00")), qPrintable(words));

        QElapsedTimer took;
        took.start();
        QVERIFY2(print(QStringLiteral("Empty"), &out) == 2, out.constData());
        QVERIFY2(out.contains("paper_out") && out.contains("stays queued"), out.constData());
        QVERIFY2(took.elapsed() < 30000, qPrintable(QString::number(took.elapsed())));
    }

    // The secret is in the database only: no reply, log line or audit row holds it in any form.
    void secretNeverLeaves()
    {
        const QByteArray key = secret();
        QCOMPARE(key.size(), 32);
        const QList<QByteArray> forms{key.toHex(), key.toHex().toUpper(), key.toBase64(),
            key.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals), key};
        QStringList audit;
        store::Statement rows = m_reader->prepare(QStringLiteral(
            "SELECT coalesce(before_json, '') || coalesce(after_json, '') || coalesce(reason, '') FROM audit_log"));
        while (rows.step() == store::Statement::Step::Row)
            audit << rows.text(0);
        QVERIFY(!audit.isEmpty());
        QStringList logs;
        {
            QMutexLocker lock(&logMutex);
            logs = logLines;
        }
        QVERIFY(m_replies.size() > 20);
        for (const QByteArray &form : forms) {
            const QString needle = QString::fromLatin1(form);
            for (const QString &reply : std::as_const(m_replies))
                QVERIFY2(!reply.contains(needle), qPrintable(reply));
            for (const QString &line : std::as_const(logs))
                QVERIFY2(!line.contains(needle), qPrintable(line));
            for (const QString &row : std::as_const(audit))
                QVERIFY2(!row.contains(needle), qPrintable(row));
        }
        // Nor can anybody change it: the table refuses.
        QVERIFY(!exec(QStringLiteral("UPDATE receipt_keys SET secret = zeroblob(32)")));
        QVERIFY(!exec(QStringLiteral("DELETE FROM receipt_keys")));
        QCOMPARE(secret(), key);
    }

    // A kiosk reprints 90 days back; the property office (staff) any receipt.
    void kioskSeesNinetyDays()
    {
        QVERIFY(rpc::succeeded(receiptGet(*m_kioskA, m_qrReceipt)));
        m_clock.advanceMs(Q_INT64_C(91) * 24 * 3600 * 1000);
        const Outcome old = receiptGet(*m_kioskA, m_qrReceipt);
        QCOMPARE(codeOf(old), ErrorCode::Forbidden);
        QVERIFY2(describe(old).contains(QStringLiteral("90 days")), qPrintable(describe(old)));
        QCOMPARE(codeOf(receiptGet(*m_kioskSite, m_cashReceipt)), ErrorCode::Forbidden);
        auto office = loggedIn(QStringLiteral("root"), adminPassword);
        const Outcome staff = receiptGet(*office, m_qrReceipt);
        QVERIFY2(rpc::succeeded(staff), qPrintable(describe(staff)));
        QCOMPARE(resultOf(staff).value(QLatin1String("amount_fen")).toInteger(), 8800);
    }
};

QTEST_GUILESS_MAIN(TestReceiptFacts)
#include "tst_receipt_facts.moc"
