// The QR of a payment (kiosk/qr): rendered to PNG through the image://qr/ provider and read back
// by zbarimg (zbar-tools, an independent decoder) — the decoded text must equal the payload —
// plus the quiet zone, crisp pixels, and the errors of the libqrencode wrapper.
#include "qr/qrcode.h"
#include "qrimageprovider.h"
#include "zbar.h"

#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QUrl>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::kiosk;

class TestKioskQr : public QObject
{
    Q_OBJECT

    QTemporaryDir dir;

    static QString decode(const QString &png) { return test::decodeQr(png); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir.isValid());
    }

    void roundTrip_data()
    {
        QTest::addColumn<QString>("payload");
        QTest::newRow("wechat") << QStringLiteral("weixin://wxpay/bizpayurl?pr=AbC123xyz");
        QTest::newRow("alipay") << QStringLiteral("https://qr.alipay.com/bax08791nkvzq7ypl2kj00a5");
        QTest::newRow("sandbox link with query") << QStringLiteral("http://127.0.0.1:8701/pay/unionpay/K20261124000123?amount=10000&sig=a%2Bb/c=");
    }

    void roundTrip()
    {
        QFETCH(QString, payload);
        QrImageProvider provider;
        QSize size;
        const QString id = QString::fromLatin1(QUrl::toPercentEncoding(payload));
        const QImage image = provider.requestImage(id, &size, QSize(400, 400));
        QVERIFY(!image.isNull());
        QCOMPARE(size, image.size());
        QVERIFY(image.width() <= 400);
        QVERIFY(image.width() >= 200); // whole pixels per module, as large as fits
        const QString png = dir.filePath(QString::fromLatin1(QTest::currentDataTag()).replace(u' ', u'_') + QStringLiteral(".png"));
        QVERIFY(image.save(png));
        QCOMPARE(decode(png), payload);
    }

    void quietZoneAndCrispPixels()
    {
        const auto matrix = qr::encode(QByteArrayLiteral("https://example.com/p?x=1"));
        QVERIFY(matrix);
        QVERIFY(matrix->size >= 21);
        const QImage image = qr::render(*matrix, 500);
        const int modules = matrix->size + 2 * qr::kQuietZoneModules;
        QCOMPARE(image.width() % modules, 0);
        const int scale = image.width() / modules;
        const int quietPx = qr::kQuietZoneModules * scale;
        for (int y = 0; y < image.height(); ++y) {
            for (int x = 0; x < image.width(); ++x) {
                const int v = qGray(image.pixel(x, y));
                QVERIFY2(v == 0 || v == 255, "a grey pixel: not crisp");
                const bool inQuietZone = x < quietPx || y < quietPx || x >= image.width() - quietPx || y >= image.height() - quietPx;
                if (inQuietZone)
                    QVERIFY2(v == 255, "a dark pixel in the quiet zone");
            }
        }
        // The finder pattern's corner module is dark.
        QCOMPARE(qGray(image.pixel(quietPx, quietPx)), 0);
    }

    void errors()
    {
        qr::EncodeError error = qr::EncodeError::None;
        QVERIFY(!qr::encode(QByteArray(), &error));
        QCOMPARE(error, qr::EncodeError::Empty);
        QVERIFY(!qr::encode(QByteArray(qr::kPayloadBytesMax + 1, 'x'), &error));
        QCOMPARE(error, qr::EncodeError::TooLong);
        QrImageProvider provider;
        QSize size(1, 1);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("cannot encode a QR payload")));
        QVERIFY(provider.requestImage(QString(), &size, QSize()).isNull());
        QVERIFY(!size.isValid());
    }
};

QTEST_GUILESS_MAIN(TestKioskQr)
#include "tst_kiosk_qr.moc"
