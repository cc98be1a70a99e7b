// Money, Energy, Price and cost(): the properties the ledger relies on.
//  - cost() over any partition of a period equals cost() of the whole period, to the fen and
//    to the remainder (checked against an independent 128-bit oracle, 100,000 random cases);
//  - parsing accepts the documented forms and rejects a table of malformed inputs, each with
//    its named error;
//  - formatting is exact and locale-aware;
//  - overflow stops the process (checked in a child process).
#include "api/money.h"
#include "randomseed.h"

#include <QtCore/QLocale>
#include <QtCore/QProcess>
#include <QtTest/QTest>

#include <climits>

using namespace prepay;

namespace {

// floor((Σ energy_i × price_i + r0) / 1e5) and its remainder, in 128-bit arithmetic: the
// definition of what cost() must produce, computed without cost().
__extension__ typedef __int128 Int128; // GCC's 128-bit integer, fine for an oracle

struct Oracle
{
    Int128 units = 0;
    void add(qint64 wh, qint64 price) { units += Int128(wh) * price; }
    qint64 fen() const { return qint64(units / Remainder::kUnitsPerFen); }
    qint64 remainder() const { return qint64(units % Remainder::kUnitsPerFen); }
};

// Splits `total` into `pieces` non-negative parts at random cut points (zeros allowed: a poll
// that saw no consumption is a piece too).
QList<qint64> randomPartition(QRandomGenerator &rng, qint64 total, int pieces)
{
    QList<qint64> cuts;
    for (int i = 0; i < pieces - 1; ++i)
        cuts.append(total == 0 ? 0 : qint64(rng.bounded(quint64(total) + 1)));
    std::sort(cuts.begin(), cuts.end());
    QList<qint64> parts;
    qint64 previous = 0;
    for (qint64 c : cuts) {
        parts.append(c - previous);
        previous = c;
    }
    parts.append(total - previous);
    return parts;
}

} // namespace

class TestMoney : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void costOfPartitionsEqualsCostOfWhole();
    void costWithChangingPricesMatchesOracle();
    void costKnownValues();
    void parseAccepts_data();
    void parseAccepts();
    void parseRejects_data();
    void parseRejects();
    void parseEnergyAndPrice();
    void parseMessagesNameTheInput();
    void decimalStringRoundTrips();
    void formatsForPeople();
    void overflowStopsTheProcess_data();
    void overflowStopsTheProcess();
};

void TestMoney::costOfPartitionsEqualsCostOfWhole()
{
    QRandomGenerator rng(test::testSeed());
    constexpr int cases = 100'000;
    for (int c = 0; c < cases; ++c) {
        // Up to 100 MWh in a period, up to 5 yuan/kWh, up to 60 pieces, any starting remainder.
        const qint64 total = qint64(rng.bounded(quint64(100'000'001)));
        const Price price = Price::fromTenThousandthYuan(rng.bounded(50'001));
        const int pieces = 1 + int(rng.bounded(60));
        const Remainder start{qint64(rng.bounded(100'000))};

        Remainder whole = start;
        const Money once = cost(Energy::fromWh(total), price, whole);

        Remainder carried = start;
        Money sum;
        for (qint64 part : randomPartition(rng, total, pieces))
            sum += cost(Energy::fromWh(part), price, carried);

        Oracle oracle;
        oracle.units = start.units;
        oracle.add(total, price.tenThousandthYuan());

        if (sum != once || carried != whole || once.fen() != oracle.fen() || whole.units != oracle.remainder()) {
            QFAIL(qPrintable(QStringLiteral("case %1: %2 Wh at %3 in %4 pieces from remainder %5: pieces %6 fen "
                                            "(rem %7), once %8 fen (rem %9), oracle %10 fen (rem %11)")
                                 .arg(c)
                                 .arg(total)
                                 .arg(price.tenThousandthYuan())
                                 .arg(pieces)
                                 .arg(start.units)
                                 .arg(sum.fen())
                                 .arg(carried.units)
                                 .arg(once.fen())
                                 .arg(whole.units)
                                 .arg(oracle.fen())
                                 .arg(oracle.remainder())));
        }
    }
}

void TestMoney::costWithChangingPricesMatchesOracle()
{
    // TOU: consecutive pieces at different prices, one remainder per metering point. The total
    // must be the floor of the exact sum: no fen lost or made at a price change.
    QRandomGenerator rng(test::testSeed());
    for (int c = 0; c < 20'000; ++c) {
        Remainder carried{qint64(rng.bounded(100'000))};
        Oracle oracle;
        oracle.units = carried.units;
        Money sum;
        const int pieces = 1 + int(rng.bounded(100));
        for (int i = 0; i < pieces; ++i) {
            const qint64 wh = qint64(rng.bounded(2'000'000));
            const qint64 price = rng.bounded(30'001);
            sum += cost(Energy::fromWh(wh), Price::fromTenThousandthYuan(price), carried);
            oracle.add(wh, price);
        }
        QCOMPARE(sum.fen(), oracle.fen());
        QCOMPARE(carried.units, oracle.remainder());
    }
}

void TestMoney::costKnownValues()
{
    Remainder r;
    // 1 kWh at 0.6500 yuan/kWh is 65 fen.
    QCOMPARE(cost(Energy::fromWh(1000), Price::fromTenThousandthYuan(6500), r).fen(), 65);
    QCOMPARE(r.units, 0);
    // 10 Wh at 0.6500: 0.65 fen, nothing charged yet, carried.
    QCOMPARE(cost(Energy::fromWh(10), Price::fromTenThousandthYuan(6500), r).fen(), 0);
    QCOMPARE(r.units, 65'000);
    // Another 10 Wh: 1.30 fen in total, 1 fen charged, 0.30 carried.
    QCOMPARE(cost(Energy::fromWh(10), Price::fromTenThousandthYuan(6500), r).fen(), 1);
    QCOMPARE(r.units, 30'000);
    // Zero energy or a zero price costs nothing and keeps the remainder.
    QCOMPARE(cost(Energy::zero(), Price::fromTenThousandthYuan(9800), r).fen(), 0);
    QCOMPARE(cost(Energy::fromWh(123456), Price::fromTenThousandthYuan(0), r).fen(), 0);
    QCOMPARE(r.units, 30'000);
}

void TestMoney::parseAccepts_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<qint64>("fen");
    QTest::newRow("integer") << QStringLiteral("12") << qint64(1200);
    QTest::newRow("one decimal") << QStringLiteral("12.5") << qint64(1250);
    QTest::newRow("two decimals") << QStringLiteral("12.50") << qint64(1250);
    QTest::newRow("yuan suffix spaced") << QStringLiteral("12.50 元") << qint64(1250);
    QTest::newRow("yuan suffix") << QStringLiteral("12.50元") << qint64(1250);
    QTest::newRow("yen sign") << QStringLiteral("¥12.50") << qint64(1250);
    QTest::newRow("full-width yen sign") << QStringLiteral("￥12.5") << qint64(1250);
    QTest::newRow("yen sign spaced") << QStringLiteral("¥ 8") << qint64(800);
    QTest::newRow("blanks around") << QStringLiteral("  12 ") << qint64(1200);
    QTest::newRow("ideographic space") << QStringLiteral("12　元") << qint64(1200);
    QTest::newRow("zero") << QStringLiteral("0") << qint64(0);
    QTest::newRow("one fen") << QStringLiteral("0.01") << qint64(1);
    QTest::newRow("leading zeros") << QStringLiteral("007") << qint64(700);
    QTest::newRow("large") << QStringLiteral("100000000") << qint64(10'000'000'000);
    QTest::newRow("largest") << QStringLiteral("92233720368547758.07") << qint64(LLONG_MAX);
}

void TestMoney::parseAccepts()
{
    QFETCH(QString, input);
    QFETCH(qint64, fen);
    const Parsed<Money> parsed = Money::parse(input);
    QVERIFY2(parsed.ok(), qPrintable(parsed.errorMessage()));
    QCOMPARE(parsed.value.fen(), fen);
}

void TestMoney::parseRejects_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("code");
    const auto row = [](const char *name, const QString &input, const char *code) {
        QTest::newRow(name) << input << QString::fromLatin1(code);
    };
    row("empty", QString(), "empty");
    row("blanks", QStringLiteral("   "), "empty");
    row("tab", QStringLiteral("\t"), "empty");
    row("only currency sign", QStringLiteral("¥"), "empty");
    row("negative", QStringLiteral("-5"), "negative");
    row("negative cents", QStringLiteral("-0.01"), "negative");
    row("negative zero", QStringLiteral("-0"), "negative");
    row("unicode minus", QStringLiteral("−5"), "negative");
    row("full-width minus", QStringLiteral("－5"), "negative");
    row("minus after sign", QStringLiteral("¥-5"), "negative");
    row("double minus", QStringLiteral("--5"), "negative");
    row("plus", QStringLiteral("+5"), "sign_not_allowed");
    row("exponent", QStringLiteral("1e3"), "exponent");
    row("capital exponent", QStringLiteral("1E3"), "exponent");
    row("exponent after decimals", QStringLiteral("1.5e2"), "exponent");
    row("NaN", QStringLiteral("NaN"), "not_a_number");
    row("nan", QStringLiteral("nan"), "not_a_number");
    row("inf", QStringLiteral("inf"), "not_a_number");
    row("Infinity", QStringLiteral("Infinity"), "not_a_number");
    row("letters", QStringLiteral("abc"), "not_a_number");
    row("hex", QStringLiteral("0x10"), "not_a_number");
    row("unit first", QStringLiteral("元12"), "not_a_number");
    row("full-width digits", QStringLiteral("１２"), "non_ascii_digit");
    row("arabic-indic digits", QStringLiteral("١٢"), "non_ascii_digit");
    row("mixed full-width digit", QStringLiteral("1２"), "non_ascii_digit");
    row("three decimals", QStringLiteral("12.345"), "too_many_decimals");
    row("sub-fen", QStringLiteral("0.001"), "too_many_decimals");
    row("thousands separator", QStringLiteral("1,000"), "grouping_separator");
    row("thousands with decimals", QStringLiteral("1,000.00"), "grouping_separator");
    row("decimal comma", QStringLiteral("12,5"), "grouping_separator");
    row("trailing point", QStringLiteral("12."), "malformed");
    row("leading point", QStringLiteral(".5"), "malformed");
    row("two points", QStringLiteral("1.2.3"), "malformed");
    row("inner blank", QStringLiteral("1 2"), "malformed");
    row("point then letter", QStringLiteral("12.x"), "malformed");
    row("energy unit", QStringLiteral("12 kWh"), "wrong_unit");
    row("unit twice", QStringLiteral("12元元"), "wrong_unit");
    row("sign and unit", QStringLiteral("¥12 元"), "wrong_unit");
    row("trailing words", QStringLiteral("12.50 元 please"), "wrong_unit");
    row("trailing minus", QStringLiteral("5-"), "wrong_unit");
    row("underscore", QStringLiteral("1_000"), "wrong_unit");
    row("twenty digits", QStringLiteral("99999999999999999999"), "too_large");
    row("just above int64", QStringLiteral("92233720368547758.08"), "too_large");
}

void TestMoney::parseRejects()
{
    QFETCH(QString, input);
    QFETCH(QString, code);
    const Parsed<Money> parsed = Money::parse(input);
    QVERIFY2(!parsed.ok(), qPrintable(QStringLiteral("accepted \"%1\" as %2 fen").arg(input).arg(parsed.value.fen())));
    QCOMPARE(parsed.errorCode(), code);
    QVERIFY(!parsed.errorMessage().isEmpty());
    QCOMPARE(parsed.value, Money::zero()); // a rejected input never carries a value
}

void TestMoney::parseEnergyAndPrice()
{
    QCOMPARE(Energy::parse(u"12.345 kWh").value, Energy::fromWh(12'345));
    QCOMPARE(Energy::parse(u"12 度").value, Energy::fromWh(12'000));
    QCOMPARE(Energy::parse(u"0.01").value, Energy::fromWh(10));
    QCOMPARE(Energy::parse(u"1.2345").errorCode(), QStringLiteral("too_many_decimals"));
    QCOMPARE(Energy::parse(u"12 元").errorCode(), QStringLiteral("wrong_unit"));

    QCOMPARE(Price::parse(u"0.65").value, Price::fromTenThousandthYuan(6500));
    QCOMPARE(Price::parse(u"0.6500 元/kWh").value, Price::fromTenThousandthYuan(6500));
    QCOMPARE(Price::parse(u"¥1.21/kWh").value, Price::fromTenThousandthYuan(12100));
    QCOMPARE(Price::parse(u"0.31 元/度").value, Price::fromTenThousandthYuan(3100));
    QCOMPARE(Price::parse(u"0.65001").errorCode(), QStringLiteral("too_many_decimals"));
    QCOMPARE(Price::parse(u"-0.65").errorCode(), QStringLiteral("negative"));
    QCOMPARE(Price::parse(u"0.65 kWh").errorCode(), QStringLiteral("wrong_unit"));
}

void TestMoney::parseMessagesNameTheInput()
{
    const Parsed<Money> parsed = Money::parse(u"12.345");
    QVERIFY2(parsed.errorMessage().contains(u"\"12.345\""), qPrintable(parsed.errorMessage()));
    QVERIFY2(parsed.errorMessage().contains(u"2 decimal"), qPrintable(parsed.errorMessage()));
    QCOMPARE(Money::parse(u"").errorMessage(), QStringLiteral("Enter an amount."));
}

void TestMoney::decimalStringRoundTrips()
{
    QRandomGenerator rng(test::testSeed());
    for (int i = 0; i < 10'000; ++i) {
        const qint64 v = qint64(rng.generate64() >> 1); // any non-negative int64
        const Money m = Money::fromFen(v);
        QCOMPARE(Money::parse(m.toDecimalString()).value, m);
        const Energy e = Energy::fromWh(v);
        QCOMPARE(Energy::parse(e.toDecimalString()).value, e);
        const Price p = Price::fromTenThousandthYuan(v);
        QCOMPARE(Price::parse(p.toDecimalString()).value, p);
    }
    QCOMPARE(Money::fromFen(LLONG_MIN).toDecimalString(), QStringLiteral("-92233720368547758.08"));
    QCOMPARE(Money::fromFen(-5).toDecimalString(), QStringLiteral("-0.05"));
}

void TestMoney::formatsForPeople()
{
    const QLocale zh(QLocale::Chinese, QLocale::China);
    const QLocale en(QLocale::English, QLocale::UnitedStates);
    const QLocale de(QLocale::German, QLocale::Germany);
    QCOMPARE(Money::fromFen(123456).toString(zh), QStringLiteral("¥1,234.56"));
    QCOMPARE(Money::fromFen(123456).toString(en), QStringLiteral("¥1,234.56"));
    QCOMPARE(Money::fromFen(123456).toString(de), QStringLiteral("¥1.234,56"));
    QCOMPARE(Money::fromFen(-320).toString(en), QStringLiteral("-¥3.20"));
    QCOMPARE(Money::fromFen(5).toString(zh), QStringLiteral("¥0.05"));
    QCOMPARE(Energy::fromWh(1'234'560).toString(en), QStringLiteral("1,234.56 kWh"));
    QCOMPARE(Energy::fromWh(1'234'567).toString(en), QStringLiteral("1,234.567 kWh"));
    QCOMPARE(Energy::fromWh(0).toString(zh), QStringLiteral("0.00 kWh"));
    QCOMPARE(Price::fromTenThousandthYuan(6500).toString(zh), QStringLiteral("¥0.6500/kWh"));
}

void TestMoney::overflowStopsTheProcess_data()
{
    QTest::addColumn<QString>("operation");
    for (const char *op : {"add", "sub", "negate", "cost", "negative-energy", "remainder-out-of-range"})
        QTest::newRow(op) << QString::fromLatin1(op);
}

void TestMoney::overflowStopsTheProcess()
{
    QFETCH(QString, operation);
    QProcess child;
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--overflow"), operation});
    QVERIFY(child.waitForFinished(30'000));
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);
    const QString stderrText = QString::fromUtf8(child.readAllStandardError());
    QVERIFY2(stderrText.contains(u"prepay check failed"), qPrintable(stderrText));
}

// The child side of overflowStopsTheProcess: each operation must stop the process before the
// line that prints "survived".
static int runOverflowChild(const char *operation)
{
    const QByteArray op(operation);
    Remainder r;
    volatile qint64 big = LLONG_MAX; // volatile: keep the compiler from folding the overflow
    if (op == "add")
        (void)(Money::fromFen(big) + Money::fromFen(1));
    else if (op == "sub")
        (void)(Money::fromFen(-big) - Money::fromFen(2));
    else if (op == "negate")
        (void)(-Money::fromFen(LLONG_MIN));
    else if (op == "cost")
        (void)cost(Energy::fromWh(big / 1000), Price::fromTenThousandthYuan(10'000), r);
    else if (op == "negative-energy")
        (void)cost(Energy::fromWh(-10), Price::fromTenThousandthYuan(6500), r);
    else if (op == "remainder-out-of-range") {
        r.units = Remainder::kUnitsPerFen;
        (void)cost(Energy::fromWh(10), Price::fromTenThousandthYuan(6500), r);
    }
    fprintf(stderr, "survived %s\n", operation);
    return 0;
}

int main(int argc, char *argv[])
{
    if (argc == 3 && qstrcmp(argv[1], "--overflow") == 0)
        return runOverflowChild(argv[2]);
    QCoreApplication app(argc, argv);
    TestMoney test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_money.moc"
