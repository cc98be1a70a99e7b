// The receipt renderer (drivers/printer/receipt.h), golden files: the fixed sample receipt in
// Chinese and in English on 80 mm paper is drawn to PDF and compared with the stored references
// in tests/data/receipts — as a page image (pdftoppm, 100 dpi, byte for byte) and as text
// (pdftotext -layout) — and its QR is read back by an independent decoder (zbarimg). A mismatch
// writes NAME.fail.png / NAME.fail.txt next to the test binary; PREPAY_UPDATE_GOLDEN=1 rewrites
// the references (look at them before committing). A5 and A4 hold the same text. Bad data is
// refused by name and writes no file.
#include "printer/receipt.h"
#include "zbar.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtGui/QGuiApplication>
#include <QtTest/QtTest>

using namespace prepay;
using namespace prepay::printer;

namespace {

const QString goldenDir = QStringLiteral(PREPAY_TEST_DATA_DIR "/receipts/");

QByteArray run(const QString &program, const QStringList &arguments, QString *error)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(30000) || process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        *error = QStringLiteral("%1 %2 failed (is poppler-utils / zbar-tools installed?): %3")
                     .arg(program, arguments.join(u' '), QString::fromUtf8(process.readAllStandardError()));
        return {};
    }
    return process.readAllStandardOutput();
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

} // namespace

class TestReceipt : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    // Compares `actual` with the reference NAME.EXT; on a difference writes NAME.fail.EXT here.
    void compareGolden(const QString &name, const QString &ext, const QByteArray &actual)
    {
        const QString reference = goldenDir + name + u'.' + ext;
        if (qEnvironmentVariableIsSet("PREPAY_UPDATE_GOLDEN")) {
            QVERIFY2(writeFile(reference, actual), qPrintable(reference));
            qInfo("rewrote %s", qPrintable(reference));
            return;
        }
        const QByteArray expected = readFile(reference);
        QVERIFY2(!expected.isEmpty(), qPrintable(QStringLiteral("missing reference %1").arg(reference)));
        if (actual != expected) {
            const QString failed = QDir::currentPath() + u'/' + name + QStringLiteral(".fail.") + ext;
            writeFile(failed, actual);
            QFAIL(qPrintable(QStringLiteral("%1 differs from %2 (written: %3)").arg(name + u'.' + ext, reference, failed)));
        }
    }

private Q_SLOTS:
    void golden_data()
    {
        QTest::addColumn<QString>("lang");
        QTest::newRow("Chinese") << QStringLiteral("zh_CN");
        QTest::newRow("English") << QStringLiteral("en");
    }
    void golden()
    {
        QFETCH(QString, lang);
        const ReceiptLanguage language = *receiptLanguageFromCode(lang);
        const QString pdf = m_dir.filePath(QStringLiteral("sample-%1.pdf").arg(lang));
        QString error;
        QVERIFY2(renderReceipt(sampleReceipt(language), Paper::Thermal80mm, language, pdf, &error), qPrintable(error));

        const QString name = QStringLiteral("sample-%1-80mm").arg(lang);
        const QString prefix = m_dir.filePath(name);
        run(QStringLiteral("pdftoppm"), {QStringLiteral("-r"), QStringLiteral("100"), QStringLiteral("-png"),
                                            QStringLiteral("-singlefile"), pdf, prefix},
            &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QByteArray png = readFile(prefix + QStringLiteral(".png"));
        QVERIFY(!png.isEmpty());
        compareGolden(name, QStringLiteral("png"), png);

        const QByteArray text = run(QStringLiteral("pdftotext"), {QStringLiteral("-layout"), pdf, QStringLiteral("-")}, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        compareGolden(name, QStringLiteral("txt"), text);
        // What must be on it, whatever the layout: the digits survive extraction.
        for (const char *needed : {"P0000000042K7Q2M9XZ4", "2026-11-24 14:35:08", "A-1F-105", "¥100.00", "-¥12.50",
                 "¥87.50", "4200002026112412345678901234", "0591-8765 4321"})
            QVERIFY2(text.contains(needed), needed);
        QVERIFY(text.contains(lang == u"en" ? "Late payment credited" : "逾期到账"));
        QVERIFY(text.contains(lang == u"en" ? "WeChat Pay" : "微信支付"));

        // The QR, read by an independent decoder from the page image.
        QCOMPARE(test::decodeQr(prefix + QStringLiteral(".png")), QStringLiteral("PREPAY1:P0000000042K7Q2M9XZ4:10000:9F3A61C2"));
    }

    void otherPapersHoldTheSameText_data()
    {
        QTest::addColumn<QString>("paper");
        QTest::newRow("A5") << QStringLiteral("a5");
        QTest::newRow("A4") << QStringLiteral("a4");
    }
    void otherPapersHoldTheSameText()
    {
        QFETCH(QString, paper);
        const QString pdf = m_dir.filePath(QStringLiteral("sample-%1.pdf").arg(paper));
        QString error;
        QVERIFY2(renderReceipt(sampleReceipt(ReceiptLanguage::English), *paperFromCode(paper), ReceiptLanguage::English,
                     pdf, &error),
            qPrintable(error));
        const QByteArray info = run(QStringLiteral("pdfinfo"), {pdf}, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY2(info.contains(paper == u"a4" ? "(A4)" : "(A5)"), info.constData());
        const QByteArray text = run(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")}, &error);
        QVERIFY2(text.contains("P0000000042K7Q2M9XZ4") && text.contains("¥100.00") && text.contains("Top-up receipt"),
            text.constData());
    }

    void refundSlipSaysRefund()
    {
        ReceiptData d = sampleReceipt(ReceiptLanguage::Chinese);
        d.kind = ReceiptKind::Refund;
        d.receiptNo = QStringLiteral("R0000000007ABCDEFGHI");
        d.originalReceiptNo = QStringLiteral("P0000000042K7Q2M9XZ4");
        d.amountFen = 2000;
        d.late = false;
        d.issuedByKiosk = false;
        d.issuedBy = QStringLiteral("li.ming 李明");
        const QString pdf = m_dir.filePath(QStringLiteral("refund.pdf"));
        QString error;
        QVERIFY2(renderReceipt(d, Paper::Thermal80mm, ReceiptLanguage::Chinese, pdf, &error), qPrintable(error));
        const QByteArray text = run(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")}, &error);
        for (const char *needed :
            {"退款凭证", "退款金额", "¥20.00", "R0000000007ABCDEFGHI", "原充值凭证", "P0000000042K7Q2M9XZ4", "操作员", "li.ming"})
            QVERIFY2(text.contains(needed), needed);
        QVERIFY(!text.contains("逾期到账"));
    }

    void badDataIsRefusedAndWritesNothing_data()
    {
        QTest::addColumn<QString>("field");
        QTest::newRow("no receipt number") << QStringLiteral("receipt_no");
        QTest::newRow("amount 0") << QStringLiteral("amount_fen");
        QTest::newRow("unknown channel") << QStringLiteral("channel");
        QTest::newRow("no time") << QStringLiteral("at_ms");
    }
    void badDataIsRefusedAndWritesNothing()
    {
        QFETCH(QString, field);
        ReceiptData d = sampleReceipt(ReceiptLanguage::English);
        if (field == u"receipt_no")
            d.receiptNo.clear();
        else if (field == u"amount_fen")
            d.amountFen = 0;
        else if (field == u"channel")
            d.channel = QStringLiteral("bitcoin");
        else
            d.atMs = 0;
        const QString pdf = m_dir.filePath(QStringLiteral("bad-%1.pdf").arg(field));
        QString error;
        QVERIFY(!renderReceipt(d, Paper::Thermal80mm, ReceiptLanguage::English, pdf, &error));
        QVERIFY2(error.startsWith(field), qPrintable(error));
        QVERIFY(!QFile::exists(pdf));
    }
};

QTEST_MAIN(TestReceipt)
#include "tst_receipt.moc"
