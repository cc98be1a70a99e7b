// The kiosk end to end: a tenant tops up at the lobby kiosk, every part real. The demo backoffice
// (tests/support/topupsite.h: prepayd as a process polling the simulated demo building, the
// provider sandbox over TLS), a kiosk enrolled with a pairing code into its own state directory
// (kiosk::enrol, as `prepay-kiosk --enrol` does) and the kiosk itself in this process as
// prepay-kiosk composes it — LinkBackend, TenantFlow, the QML UI (Main.qml) in an offscreen
// window. The test only taps: it finds the button by its words on the screen and clicks its
// centre, as a finger would. The tenant's phone is Debian's chromium, headless, opening the QR
// that zbarimg read from the kiosk's picture.
//
//   "English" (on Attract: begins) → B-9F-901 on the keypad → "Yes, continue" → the account (in arrears,
//   the power off) → "Top up" → "100 yuan" → "Next" → "Alipay" → the QR → paid in chromium →
//   "Payment received", the new balance → "Power restored" (the simulator's relay closed) →
//   the receipt printed by itself on a private cupsd's queue (its PDF read back) and reported to
//   the backoffice → "Back to my account" with the balance increased exactly once. Any QML
//   warning fails it.
//
// Then the printer runs out of paper (its queue's backend now fails with media-empty, as a real
// thermal printer's does): a second top-up (WeChat Pay) is credited all the same, the kiosk says
// no receipt was printed, that the payment is safe and where to reprint it; the backoffice hears
// it (kiosk_events receipt_failed, the kiosk's health in kiosk.list says paper_out). Paper
// refilled, the tenant prints that receipt from Recharges and the health is ok again.
#include "api/clock.h"
#include "cupsrig.h"
#include "flow/format.h"
#include "flow/tenantflow.h"
#include "headlessbrowser.h"
#include "link/linkbackend.h"
#include "link/statedir.h"
#include "pdftext.h"
#include "qrimageprovider.h"
#include "receipts/cupsoutput.h"
#include "topupsite.h"
#include "zbar.h"

#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickWindow>
#include <QtTest/QtTest>

#include <atomic>

Q_IMPORT_QML_PLUGIN(PrepayPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_KioskPlugin)

using namespace prepay;

namespace {

constexpr auto shop = "B-9F-901"; // in arrears in the demo building: its supply is cut

std::atomic<int> qmlWarnings{0};
QtMessageHandler previousHandler = nullptr;
QStringList warningTexts;

void countingHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtWarningMsg || type == QtCriticalMsg || type == QtFatalMsg) {
        const QString category = QString::fromLatin1(context.category ? context.category : "");
        if (category == QLatin1String("qml") || category == QLatin1String("js") || category == QLatin1String("default")
            || category.startsWith(QLatin1String("qt.qml"))) {
            ++qmlWarnings;
            warningTexts << message;
        }
    }
    if (previousHandler)
        previousHandler(type, context, message);
}

// Every visible item under `item` (itself included).
void visibleItems(QQuickItem *item, QList<QQuickItem *> *out)
{
    if (!item->isVisible())
        return;
    out->append(item);
    const QList<QQuickItem *> children = item->childItems();
    for (QQuickItem *child : children)
        visibleItems(child, out);
}

} // namespace

class TestKioskEndToEnd : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void tenantTopsUpAtTheKiosk();
    void printerOutOfPaper();

private:
    QQuickItem *itemWithText(const QString &text, bool enabledOnly) const;
    bool tap(const QString &text, QString *error);
    bool tapInRow(const QString &rowText, const QString &button, QString *error);
    bool payOnPhone(const QString &qr, const QString &expectedAmount, QString *error);
    QString kioskPrinterHealth();
    bool showing(const QString &text) const { return itemWithText(text, false) != nullptr; }
    QString screenText() const;
    QString shot(const QString &name);
    qint64 balanceFen();

    test::TopUpSite m_site;
    QTemporaryDir m_stateDir;
    SystemClock m_clock;
    test::CupsRig m_cups;
    std::unique_ptr<kiosk::CupsReceiptOutput> m_printer;
    std::unique_ptr<kiosk::LinkBackend> m_link;
    std::unique_ptr<kiosk::TenantFlow> m_flow;
    std::unique_ptr<QQmlApplicationEngine> m_engine;
    QQuickWindow *m_window = nullptr;
    QString m_shotDir;
    std::unique_ptr<test::HeadlessBrowser> m_phone;
};

void TestKioskEndToEnd::initTestCase()
{
    previousHandler = qInstallMessageHandler(countingHandler);
    QString error;
    QVERIFY2(m_site.start({}, &error), qPrintable(error));
    m_shotDir = qEnvironmentVariable("PREPAY_SCREENSHOT_DIR", m_site.dir());

    // Staff pair the kiosk; it enrols with the code, as `prepay-kiosk --enrol` does.
    QVERIFY(m_stateDir.isValid());
    const QString stateDir = m_stateDir.filePath(QStringLiteral("kiosk"));
    kiosk::EnrolRequest request;
    request.host = QStringLiteral("127.0.0.1");
    request.staffPort = m_site.staffPort();
    request.pairingCode = m_site.pairKiosk(QStringLiteral("B座大堂"));
    request.caFile = m_site.caPath();
    request.stateDir = stateDir;
    QVERIFY(!request.pairingCode.isEmpty());
    const kiosk::EnrolResult enrolled = kiosk::enrol(request);
    QVERIFY2(enrolled.ok, qPrintable(enrolled.error));

    // The kiosk as prepay-kiosk composes it.
    m_link = std::make_unique<kiosk::LinkBackend>(stateDir, m_clock);
    QVERIFY2(m_link->start(&error), qPrintable(error));
    // Its receipt printer: a queue of a private cupsd that keeps what it prints.
    QVERIFY2(m_cups.start(&error), qPrintable(error));
    QVERIFY2(m_cups.addQueue(QStringLiteral("Receipts"), QStringLiteral("capture:") + m_cups.captureDir(), &error),
        qPrintable(error));
    m_printer = std::make_unique<kiosk::CupsReceiptOutput>(QStringLiteral("Receipts"), m_cups.server(), printer::Paper::Thermal80mm);
    m_flow = std::make_unique<kiosk::TenantFlow>();
    m_flow->setBackend(m_link.get());
    m_flow->setReceiptOutput(m_printer.get());
    m_engine = std::make_unique<QQmlApplicationEngine>();
    m_engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
    m_engine->addImageProvider(QStringLiteral("qr"), new kiosk::QrImageProvider);
    m_engine->setInitialProperties({{QStringLiteral("flow"), QVariant::fromValue(m_flow.get())}});
    m_engine->load(QUrl(QStringLiteral("qrc:/qt/qml/Prepay/Main.qml")));
    QVERIFY(!m_engine->rootObjects().isEmpty());
    m_window = qobject_cast<QQuickWindow *>(m_engine->rootObjects().constFirst());
    QVERIFY(m_window);
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QTRY_VERIFY_WITH_TIMEOUT(m_flow->online(), 30000);
}

void TestKioskEndToEnd::cleanupTestCase()
{
    m_phone.reset();
    m_engine.reset();
    m_flow.reset();
    m_printer.reset();
    m_link.reset();
    m_cups.stop();
    if (const QString dir = qEnvironmentVariable("PREPAY_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QFile log(dir + QStringLiteral("/prepayd-kiosk-e2e.log"));
        if (log.open(QIODevice::WriteOnly))
            log.write(m_site.daemonLog());
    }
    QCOMPARE(m_site.stop(), 0);
    qInstallMessageHandler(previousHandler);
}

// The visible item whose `text` is exactly `text` (a KioskButton, a Text), enabled if asked.
QQuickItem *TestKioskEndToEnd::itemWithText(const QString &text, bool enabledOnly) const
{
    QList<QQuickItem *> items;
    visibleItems(m_window->contentItem(), &items);
    for (QQuickItem *item : std::as_const(items)) {
        const QVariant value = item->property("text");
        if (value.isValid() && value.toString() == text && (!enabledOnly || item->isEnabled()))
            return item;
    }
    return nullptr;
}

// Every visible text on the screen, one per line: what a failure message shows.
QString TestKioskEndToEnd::screenText() const
{
    QList<QQuickItem *> items;
    visibleItems(m_window->contentItem(), &items);
    QStringList texts;
    for (QQuickItem *item : std::as_const(items)) {
        const QVariant value = item->property("text");
        if (value.isValid() && !value.toString().isEmpty() && !texts.contains(value.toString()))
            texts << value.toString();
    }
    return texts.join(QStringLiteral(" | "));
}

// A finger on the centre of the button that says `text` (waiting up to 10 s for it to show).
bool TestKioskEndToEnd::tap(const QString &text, QString *error)
{
    QQuickItem *item = nullptr;
    if (!QTest::qWaitFor([&] { return (item = itemWithText(text, true)) != nullptr; }, 10000)) {
        *error = QStringLiteral("no button \"%1\" on the screen: %2").arg(text, screenText());
        return false;
    }
    const QPointF centre = item->mapToScene(QPointF(item->width() / 2, item->height() / 2));
    QTest::mouseClick(m_window, Qt::LeftButton, Qt::NoModifier, centre.toPoint());
    QTest::qWait(30); // the frame after the tap
    return true;
}

// A finger on the button `button` in the same row as the text that starts with `rowText` (a
// History row: "Receipt K… · credited" beside its "Print receipt").
bool TestKioskEndToEnd::tapInRow(const QString &rowText, const QString &button, QString *error)
{
    QQuickItem *target = nullptr;
    const auto find = [&] {
        QList<QQuickItem *> items;
        visibleItems(m_window->contentItem(), &items);
        for (QQuickItem *item : std::as_const(items)) {
            if (!item->property("text").toString().startsWith(rowText))
                continue;
            for (QQuickItem *row = item->parentItem(); row; row = row->parentItem()) {
                QList<QQuickItem *> inRow;
                visibleItems(row, &inRow);
                for (QQuickItem *candidate : std::as_const(inRow)) {
                    if (candidate->property("text").toString() == button && candidate->isEnabled()) {
                        target = candidate;
                        return true;
                    }
                }
            }
        }
        return false;
    };
    if (!QTest::qWaitFor(find, 10000)) {
        *error = QStringLiteral("no \"%1\" beside \"%2\" on the screen: %3").arg(button, rowText, screenText());
        return false;
    }
    const QPointF centre = target->mapToScene(QPointF(target->width() / 2, target->height() / 2));
    QTest::mouseClick(m_window, Qt::LeftButton, Qt::NoModifier, centre.toPoint());
    QTest::qWait(30);
    return true;
}

// The tenant's phone (headless chromium) opens the QR's page, checks the amount and presses Pay.
// The phone stays on (m_phone) until the next payment: the page's request is still on its way.
bool TestKioskEndToEnd::payOnPhone(const QString &qr, const QString &expectedAmount, QString *error)
{
    m_phone = std::make_unique<test::HeadlessBrowser>();
    test::HeadlessBrowser &phone = *m_phone;
    if (!phone.start({QStringLiteral("--ignore-certificate-errors-spki-list=")
                         + test::HeadlessBrowser::spkiPin(test::sandboxKeyFile(QStringLiteral("tls-server.pem")))},
            error)
        || !phone.navigate(qr, error))
        return false;
    const QString amount = phone.waitForText(
        QStringLiteral("document.querySelector('#amount') ? document.querySelector('#amount').textContent : ''"), 15000, error);
    if (amount != expectedAmount) {
        *error = QStringLiteral("the pay page shows %1, not %2 (%3)").arg(amount, expectedAmount, *error);
        return false;
    }
    return phone.evaluate(QStringLiteral("document.querySelector('#pay').click(), 'clicked'"), error).has_value();
}

// The kiosk's printer as the backoffice sees it: kiosk.list over the staff API, as the office's
// screen and `prepayctl admin kiosks` show it.
QString TestKioskEndToEnd::kioskPrinterHealth()
{
    const rpc::Outcome listed = m_site.admin().callBlocking(QStringLiteral("kiosk.list"), QJsonObject{}, 10000);
    if (!rpc::succeeded(listed))
        return QStringLiteral("(kiosk.list failed: %1)").arg(std::get<rpc::Error>(listed).message);
    const QJsonArray kiosks = std::get<QJsonValue>(listed).toObject().value(QLatin1String("kiosks")).toArray();
    for (const QJsonValue &kiosk : kiosks) {
        const QJsonObject k = kiosk.toObject();
        if (k.value(QLatin1String("name")).toString() == QStringLiteral("B座大堂"))
            return k.value(QLatin1String("health")).toObject().value(QLatin1String("printer")).toString();
    }
    return QStringLiteral("(kiosk not listed: %1)").arg(QString::fromUtf8(QJsonDocument(kiosks).toJson(QJsonDocument::Compact)));
}

QString TestKioskEndToEnd::shot(const QString &name)
{
    const QString path = QDir(m_shotDir).filePath(name);
    m_window->grabWindow().save(path);
    return path;
}

qint64 TestKioskEndToEnd::balanceFen()
{
    return m_site.scalar(QStringLiteral("SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id "
                                        "WHERE a.shop_no = '%1'")
                             .arg(QLatin1String(shop)));
}

void TestKioskEndToEnd::tenantTopsUpAtTheKiosk()
{
    const std::optional<std::pair<int, int>> meter = m_site.meterOf(QString::fromLatin1(shop));
    QVERIFY(meter);
    const auto relay = [&] { return m_site.truth(meter->first, meter->second).value(QLatin1String("relay_state")).toString(); };
    QTRY_COMPARE_WITH_TIMEOUT(relay(), QStringLiteral("open"), 60000); // the first poll cycle cuts the shop
    // … and the kiosk hears of it once the poller read the relay back (the directory feed).
    const auto kioskSeesPowerOff = [&] {
        const std::optional<sync::DirectoryRow> row = m_link->findShop(QString::fromLatin1(shop));
        return row && !row->points.isEmpty() && row->points.constFirst().relay == QLatin1String("open");
    };
    QTRY_VERIFY_WITH_TIMEOUT(kioskSeesPowerOff(), 30000);
    const qint64 before = balanceFen();
    const qint64 attemptsBefore = m_site.scalar(QStringLiteral("SELECT count(*) FROM payment_attempts"));
    QString error;

    // Attract: any touch begins, the language switch too (in the language chosen).
    QCOMPARE(m_flow->state(), kiosk::TenantFlow::Attract);
    QVERIFY2(tap(QStringLiteral("English"), &error), qPrintable(error));
    QTRY_COMPARE(m_flow->language(), QStringLiteral("en"));
    QTRY_COMPARE(m_flow->state(), kiosk::TenantFlow::Identify);

    // The shop number on the kiosk's keypad; its name shown to confirm.
    for (const QChar key : QStringLiteral("B-9F-901"))
        QVERIFY2(tap(QString(key), &error), qPrintable(error));
    QCOMPARE(m_flow->identify()->entry(), QStringLiteral("B-9F-901"));
    QVERIFY2(tap(QStringLiteral("Find my shop"), &error), qPrintable(error));
    QTRY_VERIFY2(showing(QStringLiteral("Is this your shop?")), qPrintable(screenText()));
    const QString shopName = m_flow->identify()->candidateName();
    QVERIFY(!shopName.isEmpty());
    QVERIFY2(screenText().contains(shopName), qPrintable(screenText()));
    QVERIFY2(tap(QStringLiteral("Yes, continue"), &error), qPrintable(error));

    // The account: in arrears, the power off, and its balance as the ledger has it.
    QTRY_COMPARE(m_flow->state(), kiosk::TenantFlow::Account);
    QTRY_COMPARE(m_flow->account()->balanceText(), kiosk::format::money(before));
    QVERIFY2(showing(kiosk::format::money(before)), qPrintable(screenText()));
    shot(QStringLiteral("kiosk-e2e-account.png"));

    // Top up 100 yuan with Alipay.
    QVERIFY2(tap(QStringLiteral("Top up"), &error), qPrintable(error));
    QTRY_COMPARE(m_flow->state(), kiosk::TenantFlow::TopUp);
    QVERIFY2(tap(QStringLiteral("100 yuan"), &error), qPrintable(error));
    QVERIFY2(tap(QStringLiteral("Next: choose how to pay"), &error), qPrintable(error));
    QVERIFY2(tap(QStringLiteral("Alipay"), &error), qPrintable(error));
    kiosk::TopUpController *topUp = m_flow->topUp();
    QTRY_VERIFY2_WITH_TIMEOUT(topUp->qrReady(), qPrintable(screenText()), 20000);
    // A second tap on the way cannot make a second top-up: one attempt was created.
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM payment_attempts")), attemptsBefore + 1);
    QVERIFY2(showing(QStringLiteral("Scan the code with Alipay on your phone and pay.")), qPrintable(screenText()));
    QTest::qWait(200); // the QR image drawn

    // The phone scans the QR on the kiosk's screen (read by zbarimg from its picture).
    const QString qr = test::decodeQr(shot(QStringLiteral("kiosk-e2e-qr.png")));
    QCOMPARE(qr, topUp->qrPayload());
    QVERIFY2(qr.startsWith(m_site.sandbox().baseUrl() + QStringLiteral("/pay/")), qPrintable(qr));
    QVERIFY2(payOnPhone(qr, QStringLiteral("¥100.00"), &error), qPrintable(error));
    QElapsedTimer sincePay;
    sincePay.start();

    // The kiosk: payment received, the new balance; then the power back on (ground truth first).
    QTRY_VERIFY2_WITH_TIMEOUT(showing(QStringLiteral("Payment received. Thank you!")), qPrintable(screenText()), 20000);
    const qint64 payToScreenMs = sincePay.elapsed();
    const QString receiptNo = topUp->receiptNo();
    QVERIFY2(showing(QStringLiteral("Receipt %1").arg(receiptNo)), qPrintable(screenText()));
    QCOMPARE(balanceFen(), before + 10000);
    QVERIFY2(showing(QStringLiteral("New balance: %1").arg(topUp->newBalanceText())), qPrintable(screenText()));
    shot(QStringLiteral("kiosk-e2e-paid.png"));
    QTRY_VERIFY2_WITH_TIMEOUT(showing(QStringLiteral("Power restored.")), qPrintable(screenText()), 30000);
    const qint64 payToPowerMs = sincePay.elapsed();
    QCOMPARE(relay(), QStringLiteral("closed"));

    // The receipt came out of the printer by itself: the PDF CUPS printed holds the receipt
    // number, the amount and the new balance (as text: the font keeps digits extractable); the
    // kiosk said so, and told the backoffice (its outbox → kiosk_events).
    QTRY_VERIFY2_WITH_TIMEOUT(showing(QStringLiteral("Your receipt is printed: please take it from the slot below the screen.")),
        qPrintable(screenText() + m_cups.log()), 30000);
    const QStringList printed = QDir(m_cups.captureDir()).entryList({QStringLiteral("*.pdf")}, QDir::Files);
    QCOMPARE(printed.size(), 1);
    const QString receiptText = test::pdfText(QDir(m_cups.captureDir()).filePath(printed.constFirst()));
    for (const QString &needed : {receiptNo, QStringLiteral("100.00"), QString::fromLatin1(shop)})
        QVERIFY2(receiptText.contains(needed), qPrintable(needed + QStringLiteral(" not in:\n") + receiptText));
    QTRY_COMPARE_WITH_TIMEOUT(m_site.scalar(QStringLiteral("SELECT count(*) FROM kiosk_events WHERE kind = 'receipt_printed'")),
        qint64(1), 15000);
    shot(QStringLiteral("kiosk-e2e-power-restored.png"));
    qInfo("pay click → kiosk shows paid %lld ms, → shows power restored %lld ms", payToScreenMs, payToPowerMs);

    // Back on the account: the balance increased once.
    QVERIFY2(tap(QStringLiteral("Back to my account"), &error), qPrintable(error));
    QTRY_COMPARE(m_flow->state(), kiosk::TenantFlow::Account);
    QTRY_COMPARE(m_flow->account()->balanceText(), kiosk::format::money(before + 10000));
    QVERIFY2(showing(kiosk::format::money(before + 10000)), qPrintable(screenText()));
    shot(QStringLiteral("kiosk-e2e-account-after.png"));
    QTest::qWait(1500); // the sandbox's notification retries and prepayd's next query
    QCOMPARE(balanceFen(), before + 10000);
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM ledger_entries e JOIN payment_attempts a "
                                          "ON a.id = e.payment_attempt_id WHERE e.kind = 'recharge' AND a.out_trade_no = '%1'")
                               .arg(receiptNo)),
        qint64(1));
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM payment_attempts")), attemptsBefore + 1);
    const QByteArray verified = m_site.ledgerVerifyFailure();
    QVERIFY2(verified.isEmpty(), verified.constData());
    QVERIFY2(qmlWarnings.load() == 0, qPrintable(warningTexts.join(u'\n')));
}

void TestKioskEndToEnd::printerOutOfPaper()
{
    QString error;
    QTRY_COMPARE_WITH_TIMEOUT(kioskPrinterHealth(), QStringLiteral("ok"), 15000);
    // The paper runs out: the queue's device now fails as an empty thermal printer does.
    QVERIFY2(m_cups.addQueue(QStringLiteral("Receipts"), QStringLiteral("fail:/media-empty"), &error), qPrintable(error));
    const qint64 before = balanceFen();
    const int printedBefore = QDir(m_cups.captureDir()).entryList({QStringLiteral("*.pdf")}, QDir::Files).size();

    // The same tenant, still on the account screen, tops up 50 yuan with WeChat Pay.
    QTRY_COMPARE(m_flow->state(), kiosk::TenantFlow::Account);
    QVERIFY2(tap(QStringLiteral("Top up"), &error), qPrintable(error));
    QVERIFY2(tap(QStringLiteral("50 yuan"), &error), qPrintable(error));
    QVERIFY2(tap(QStringLiteral("Next: choose how to pay"), &error), qPrintable(error));
    QVERIFY2(tap(QStringLiteral("WeChat Pay"), &error), qPrintable(error));
    kiosk::TopUpController *topUp = m_flow->topUp();
    QTRY_VERIFY2_WITH_TIMEOUT(topUp->qrReady(), qPrintable(screenText()), 20000);
    QTest::qWait(200);
    const QString qr = test::decodeQr(shot(QStringLiteral("kiosk-e2e-paper-out-qr.png")));
    QCOMPARE(qr, topUp->qrPayload());
    QVERIFY2(payOnPhone(qr, QStringLiteral("¥50.00"), &error), qPrintable(error));
    QElapsedTimer sincePay;
    sincePay.start();

    // Paid and credited; no receipt, and the kiosk says so: the payment is safe, reprint later.
    QTRY_VERIFY2_WITH_TIMEOUT(showing(QStringLiteral("Payment received. Thank you!")), qPrintable(screenText()), 20000);
    const QString receiptNo = topUp->receiptNo();
    QCOMPARE(balanceFen(), before + 5000);
    const QString paperOut = QStringLiteral("The receipt printer is out of paper, so no receipt was printed. Your payment is "
                                            "safe and credited. You can print the receipt later under Recharges.");
    QTRY_VERIFY2_WITH_TIMEOUT(screenText().contains(paperOut), qPrintable(screenText() + m_cups.log()), 30000);
    qInfo("pay click → kiosk says the printer is out of paper %lld ms", sincePay.elapsed());
    shot(QStringLiteral("kiosk-e2e-paper-out.png"));
    QCOMPARE(QDir(m_cups.captureDir()).entryList({QStringLiteral("*.pdf")}, QDir::Files).size(), printedBefore);

    // The backoffice heard it: the failed receipt (with the printer's reason) and the health.
    QTRY_COMPARE_WITH_TIMEOUT(m_site.scalar(QStringLiteral("SELECT count(*) FROM kiosk_events WHERE kind = 'receipt_failed' "
                                                           "AND json_extract(fields, '$.receipt_no') = '%1' "
                                                           "AND json_extract(fields, '$.printer') = 'paper_out'")
                                                .arg(receiptNo)),
        qint64(1), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(kioskPrinterHealth(), QStringLiteral("paper_out"), 15000);
    QCOMPARE(m_site.scalar(QStringLiteral("SELECT count(*) FROM kiosk_events WHERE kind = 'printer_state' "
                                          "AND json_extract(fields, '$.printer') = 'paper_out'")),
        qint64(1));

    // The paper refilled: the tenant prints that receipt from Recharges.
    QVERIFY2(m_cups.addQueue(QStringLiteral("Receipts"), QStringLiteral("capture:") + m_cups.captureDir(), &error),
        qPrintable(error));
    QVERIFY2(tap(QStringLiteral("Back to my account"), &error), qPrintable(error));
    QVERIFY2(tap(QStringLiteral("Recharges"), &error), qPrintable(error));
    QVERIFY2(tapInRow(QStringLiteral("Receipt %1").arg(receiptNo), QStringLiteral("Print receipt"), &error), qPrintable(error));
    QTRY_VERIFY2_WITH_TIMEOUT(
        showing(QStringLiteral("Your receipt is printed: please take it from the slot below the screen.")),
        qPrintable(screenText() + m_cups.log()), 30000);
    shot(QStringLiteral("kiosk-e2e-reprinted.png"));
    const QStringList printed = QDir(m_cups.captureDir()).entryList({QStringLiteral("*.pdf")}, QDir::Files, QDir::Time);
    QCOMPARE(printed.size(), printedBefore + 1);
    const QString receiptText = test::pdfText(QDir(m_cups.captureDir()).filePath(printed.constFirst()));
    for (const QString &needed : {receiptNo, QStringLiteral("50.00"), QStringLiteral("WeChat Pay")})
        QVERIFY2(receiptText.contains(needed), qPrintable(needed + QStringLiteral(" not in:\n") + receiptText));
    QTRY_COMPARE_WITH_TIMEOUT(kioskPrinterHealth(), QStringLiteral("ok"), 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_site.scalar(QStringLiteral("SELECT count(*) FROM kiosk_events WHERE kind = 'receipt_printed' "
                                                           "AND json_extract(fields, '$.receipt_no') = '%1'")
                                                .arg(receiptNo)),
        qint64(1), 15000);
    // Money untouched by any of it.
    QCOMPARE(balanceFen(), before + 5000);
    const QByteArray verified = m_site.ledgerVerifyFailure();
    QVERIFY2(verified.isEmpty(), verified.constData());
    QVERIFY2(qmlWarnings.load() == 0, qPrintable(warningTexts.join(u'\n')));
}

QTEST_MAIN(TestKioskEndToEnd)
#include "tst_kiosk_e2e.moc"
