// The real prepay-kiosk, run as a process: `--screenshots DIR` over the offline fixture writes a
// PNG of every screen and state in both languages (portrait, plus landscape); each is a real
// picture (the window's size, many colours, not blank), the two languages differ, and the QR on
// the QR screen, read from the PNG by zbarimg (an independent decoder), is the fixture's
// payment string. `--self-test --offline-fixture` visits every screen without a QML warning.
#include "fixturebackend.h"
#include "zbar.h"

#include <QtCore/QDir>
#include <QtCore/QProcess>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QTest>

using namespace prepay::kiosk;

namespace {

QString kioskBinary()
{
    return qEnvironmentVariable("PREPAY_BIN_DIR") + QStringLiteral("/prepay-kiosk");
}

// Distinct colours on a coarse grid: a blank or one-colour image has one or two.
int colourCount(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7) {
        for (int x = 0; x < image.width(); x += 7)
            colours.insert(image.pixel(x, y));
    }
    return int(colours.size());
}

} // namespace

class TestKioskScreenshots : public QObject
{
    Q_OBJECT

    QTemporaryDir dir;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariable("PREPAY_BIN_DIR").isEmpty(), "PREPAY_BIN_DIR is set by CTest");
        QVERIFY(dir.isValid());
        QProcess kiosk;
        kiosk.setProcessChannelMode(QProcess::MergedChannels);
        kiosk.start(kioskBinary(), {QStringLiteral("--screenshots"), dir.path()});
        QVERIFY2(kiosk.waitForFinished(120'000), qPrintable(kiosk.errorString()));
        const QString output = QString::fromUtf8(kiosk.readAll());
        QVERIFY2(kiosk.exitStatus() == QProcess::NormalExit && kiosk.exitCode() == 0, qPrintable(output));
    }

    void everyScreenIsAPicture()
    {
        const QStringList files = QDir(dir.path()).entryList({QStringLiteral("*.png")}, QDir::Files, QDir::Name);
        QVERIFY2(files.size() >= 80, qPrintable(QStringLiteral("%1 PNG files").arg(files.size())));
        // Every state named by the issue is there, in both languages.
        for (const QString &lang : {QStringLiteral("zh_CN"), QStringLiteral("en")}) {
            for (const QString &state : {QStringLiteral("attract"), QStringLiteral("identify-confirm"), QStringLiteral("pin"),
                     QStringLiteral("account-normal-tou"), QStringLiteral("account-alarm1-flat"), QStringLiteral("account-alarm2"),
                     QStringLiteral("account-arrears-power-off"), QStringLiteral("account-force-on"),
                     QStringLiteral("account-meter-offline"), QStringLiteral("usage-daily-tou"), QStringLiteral("usage-monthly-tou"),
                     QStringLiteral("history"), QStringLiteral("topup-amount"), QStringLiteral("topup-channel"),
                     QStringLiteral("topup-qr"), QStringLiteral("topup-success-power-restored"), QStringLiteral("topup-failure"),
                     QStringLiteral("topup-timeout"), QStringLiteral("offline-account"), QStringLiteral("out-of-service"),
                     QStringLiteral("idle-countdown"), QStringLiteral("topup-channel-printer-out"),
                     QStringLiteral("topup-success-receipt-paper-out"), QStringLiteral("history-receipt-paper-out")}) {
                const QStringList match = QDir(dir.path()).entryList(
                    {lang + QStringLiteral("-portrait-[0-9][0-9]-") + state + QStringLiteral(".png")}, QDir::Files);
                QVERIFY2(match.size() == 1, qPrintable(lang + u' ' + state));
            }
            QVERIFY2(!QDir(dir.path()).entryList({lang + QStringLiteral("-landscape-*.png")}, QDir::Files).isEmpty(),
                qPrintable(lang + QStringLiteral(" landscape")));
        }
        for (const QString &file : files) {
            const QImage image(dir.filePath(file));
            QVERIFY2(!image.isNull(), qPrintable(file));
            const bool landscape = file.contains(QLatin1String("-landscape-"));
            QCOMPARE(image.size(), landscape ? QSize(1920, 1080) : QSize(1080, 1920));
            QVERIFY2(QFileInfo(dir.filePath(file)).size() > 20'000, qPrintable(file + QStringLiteral(" is too small")));
            QVERIFY2(colourCount(image) >= 8, qPrintable(file + QStringLiteral(" looks blank")));
        }
    }

    void languagesDiffer()
    {
        QFile zh(dir.filePath(QStringLiteral("zh_CN-portrait-07-account-normal-tou.png")));
        QFile en(dir.filePath(QStringLiteral("en-portrait-07-account-normal-tou.png")));
        QVERIFY(zh.open(QIODevice::ReadOnly));
        QVERIFY(en.open(QIODevice::ReadOnly));
        QVERIFY(zh.readAll() != en.readAll());
    }

    void qrDecodesToThePaymentString()
    {
        const QString expected = FixtureBackend::paymentPayload(1, 10'000);
        for (const QString &name : {QStringLiteral("zh_CN-portrait-02-topup-qr.png"), QStringLiteral("en-portrait-02-topup-qr.png"),
                 QStringLiteral("en-landscape-02-topup-qr.png")}) {
            QCOMPARE(prepay::test::decodeQr(dir.filePath(name)), expected);
        }
    }

    void selfTestVisitsEveryScreenWithoutWarnings()
    {
        QProcess kiosk;
        kiosk.setProcessChannelMode(QProcess::MergedChannels);
        kiosk.start(kioskBinary(), {QStringLiteral("--self-test"), QStringLiteral("--offline-fixture")});
        QVERIFY2(kiosk.waitForFinished(120'000), qPrintable(kiosk.errorString()));
        QVERIFY2(kiosk.exitCode() == 0, qPrintable(QString::fromUtf8(kiosk.readAll())));
    }
};

QTEST_GUILESS_MAIN(TestKioskScreenshots)
#include "tst_kiosk_screenshots.moc"
