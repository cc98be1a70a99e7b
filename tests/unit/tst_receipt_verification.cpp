// The receipt's verification string (backoffice/receipts/verification.h): a fixed test vector
// computed outside this code (OpenSSL's command line), what parses and what does not, every
// altered mac refused, and the site secret — made once on a real SQLite file, never changed.
#include "api/clock.h"
#include "receipts/receiptfacts.h"
#include "receipts/verification.h"
#include "store/store.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace prepay;
using namespace prepay::receipts;

namespace {

// The key 00 01 02 … 1f. The mac was computed with
//   printf '%s' 'PREPAY-R1:P0000000042K7Q2M9XZ4:10000:1795000000000' |
//     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f
// (its first 16 hex digits, upper case).
QByteArray vectorKey()
{
    QByteArray key;
    for (char c = 0; c < 32; ++c)
        key.append(c);
    return key;
}
const QString vectorString = QStringLiteral("PREPAY-R1:P0000000042K7Q2M9XZ4:10000:1795000000000:0B77288B878F6514");

} // namespace

class TestReceiptVerification : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesTheTestVector()
    {
        QCOMPARE(
            verificationString(vectorKey(), QStringLiteral("P0000000042K7Q2M9XZ4"), 10000, Q_INT64_C(1795000000000)),
            vectorString);
        const std::optional<ParsedVerification> parsed = parseVerification(vectorString);
        QVERIFY(parsed);
        QCOMPARE(parsed->receiptNo, QStringLiteral("P0000000042K7Q2M9XZ4"));
        QCOMPARE(parsed->amountFen, 10000);
        QCOMPARE(parsed->atMs, Q_INT64_C(1795000000000));
        QVERIFY(macMatches(vectorKey(), *parsed));
        // Another key: another mac.
        QByteArray other = vectorKey();
        other[0] = 1;
        QVERIFY(!macMatches(other, *parsed));
        // The whole string is QR alphanumeric: upper case, digits, '-' and ':'.
        static const QRegularExpression alphanumeric(QStringLiteral("^[0-9A-Z $%*+./:-]+$"));
        QVERIFY(alphanumeric.match(vectorString).hasMatch());
    }

    void everyAlteredMacIsRefused()
    {
        const qsizetype macAt = vectorString.lastIndexOf(QLatin1Char(':')) + 1;
        for (qsizetype i = macAt; i < vectorString.size(); ++i) {
            QString altered = vectorString;
            altered[i] = altered.at(i) == QLatin1Char('0') ? QLatin1Char('1') : QLatin1Char('0');
            const std::optional<ParsedVerification> parsed = parseVerification(altered);
            QVERIFY(parsed);
            QVERIFY2(!macMatches(vectorKey(), *parsed), qPrintable(altered));
        }
        // The fields are covered: another amount, time or number under the same mac.
        for (const QString &altered :
            QStringList{QStringLiteral("PREPAY-R1:P0000000042K7Q2M9XZ4:10001:1795000000000:0B77288B878F6514"),
                QStringLiteral("PREPAY-R1:P0000000042K7Q2M9XZ4:10000:1795000000001:0B77288B878F6514"),
                QStringLiteral("PREPAY-R1:P0000000043K7Q2M9XZ4:10000:1795000000000:0B77288B878F6514")}) {
            const std::optional<ParsedVerification> parsed = parseVerification(altered);
            QVERIFY(parsed);
            QVERIFY2(!macMatches(vectorKey(), *parsed), qPrintable(altered));
        }
        // Lower-case hex and surrounding blanks are the same string.
        const std::optional<ParsedVerification> lower = parseVerification(
            QStringLiteral("  ") + vectorString.left(macAt) + vectorString.mid(macAt).toLower() + u'\n');
        QVERIFY(lower);
        QVERIFY(macMatches(vectorKey(), *lower));
    }

    void malformedStrings_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("empty") << QString();
        QTest::newRow("other prefix") << QStringLiteral(
            "PREPAY-R2:P0000000042K7Q2M9XZ4:10000:1795000000000:0B77288B878F6514");
        QTest::newRow("lower-case number")
            << QStringLiteral("PREPAY-R1:p0000000042k7q2m9xz4:10000:1795000000000:0B77288B878F6514");
        QTest::newRow("short number") << QStringLiteral("PREPAY-R1:P1234:10000:1795000000000:0B77288B878F6514");
        QTest::newRow("zero amount") << QStringLiteral(
            "PREPAY-R1:P0000000042K7Q2M9XZ4:0:1795000000000:0B77288B878F6514");
        QTest::newRow("negative amount") << QStringLiteral(
            "PREPAY-R1:P0000000042K7Q2M9XZ4:-100:1795000000000:0B77288B878F6514");
        QTest::newRow("short mac") << QStringLiteral(
            "PREPAY-R1:P0000000042K7Q2M9XZ4:10000:1795000000000:0B77288B878F651");
        QTest::newRow("long mac") << QStringLiteral(
            "PREPAY-R1:P0000000042K7Q2M9XZ4:10000:1795000000000:0B77288B878F65140");
        QTest::newRow("not hex") << QStringLiteral(
            "PREPAY-R1:P0000000042K7Q2M9XZ4:10000:1795000000000:0B77288B878F651G");
        QTest::newRow("extra field") << vectorString + QStringLiteral(":X");
        QTest::newRow("too long") << QStringLiteral("PREPAY-R1:") + QString(200, QLatin1Char('A'))
                + QStringLiteral(":1:1:0B77288B878F6514");
    }
    void malformedStrings()
    {
        QFETCH(QString, text);
        QVERIFY(!parseVerification(text));
    }

    // The secret on a real file: none before the first receipt, then 32 bytes, the same ever after;
    // the table refuses a change and a removal.
    void secretMadeOnceAndKept()
    {
        QTemporaryDir dir;
        SystemClock clock;
        store::OpenResult opened = store::Store::open(dir.filePath(QStringLiteral("prepay.db")), clock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        std::unique_ptr<store::Connection> reader = opened.store->openReader();
        QString error;
        QVERIFY(!readSecret(*reader, &error));
        QVERIFY(error.isEmpty());
        const auto ensure = [&] {
            return opened.store
                ->write([](store::Transaction &tx) {
                    QString e;
                    const std::optional<QByteArray> s = ensureSecret(tx, 1, &e);
                    if (!s)
                        tx.rollback(e);
                    return s.value_or(QByteArray());
                })
                .get();
        };
        const store::Written<QByteArray> first = ensure();
        QVERIFY(first.committed());
        QCOMPARE(first.value.size(), kSecretBytes);
        QVERIFY(first.value != QByteArray(kSecretBytes, '\0'));
        const store::Written<QByteArray> second = ensure();
        QCOMPARE(second.value, first.value);
        QCOMPARE(readSecret(*reader, &error).value_or(QByteArray()), first.value);
        for (const QString &sql : {QStringLiteral("UPDATE receipt_keys SET secret = zeroblob(32)"),
                 QStringLiteral("DELETE FROM receipt_keys"),
                 QStringLiteral("INSERT INTO receipt_keys (id, secret, created_at_ms) VALUES (2, zeroblob(32), 1)")}) {
            const bool written = opened.store
                                     ->write([sql](store::Transaction &tx) {
                                         if (const store::SqlError e = tx.db().exec(sql); !e.ok())
                                             tx.fail(e);
                                     })
                                     .get()
                                     .committed();
            QVERIFY2(!written, qPrintable(sql));
        }
        QCOMPARE(readSecret(*reader, &error).value_or(QByteArray()), first.value);

        // On an empty database every number is unknown, and a string can only be a forgery.
        QCOMPARE(readReceiptFacts(*reader, QStringLiteral("CSH00000001"), Viewer(), 0).outcome, FactsOutcome::NotFound);
        QCOMPARE(verifyReceipt(*reader, vectorString, Viewer(), 0).outcome, VerifyOutcome::BadMac);
        QCOMPARE(verifyReceipt(*reader, QStringLiteral("nonsense"), Viewer(), 0).outcome, VerifyOutcome::Malformed);
        const QString genuine = verificationString(first.value, QStringLiteral("CSH00000001"), 100, 5);
        QCOMPARE(verifyReceipt(*reader, genuine, Viewer(), 0).outcome, VerifyOutcome::UnknownReceipt);
        reader.reset();
        opened.store->stop();
    }
};

QTEST_GUILESS_MAIN(TestReceiptVerification)
#include "tst_receipt_verification.moc"
