// The tariff model and the rating engine (backoffice/billing): golden intervals whose fen and
// remainders are worked out by hand in the comments — flat, TOU with measured slots (and slots
// that do not add up to the total), TOU split by time across midnight, the day types (holiday,
// workday, weekend, worked weekend 调休), tiers across a month boundary and across a tier bound,
// TOU with tiers, the version in force (point over account, effective dates) and a version change
// mid-month; the partition property (one interval, 48 intervals and random partitions of a day
// cost the same to the fen and the remainder); splitByTime()'s exact sums and ties; and
// TariffBook::load() on a real database with the demo seed, including versions it must refuse.
#include "billing/rating.h"
#include "billing/tariff.h"
#include "manualclock.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <algorithm>

using namespace prepay;
using namespace prepay::billing;

namespace {

constexpr qint64 kMinuteMs = 60'000;
// The seed of the random partitions; PREPAY_TEST_SEED replays another one.
constexpr quint32 kDefaultSeed = 20'260'105;

quint32 fixedSeed()
{
    bool ok = false;
    const quint32 pinned = qEnvironmentVariable("PREPAY_TEST_SEED").toUInt(&ok);
    const quint32 seed = ok ? pinned : kDefaultSeed;
    qInfo("random seed %u (replay with PREPAY_TEST_SEED=%u)", seed, seed);
    return seed;
}

const QTimeZone &shanghai()
{
    static const QTimeZone tz("Asia/Shanghai");
    return tz;
}

// A local time in Asia/Shanghai as UTC ms.
qint64 at(int year, int month, int day, int hour, int minute = 0)
{
    return QDateTime(QDate(year, month, day), QTime(hour, minute), shanghai()).toMSecsSinceEpoch();
}

Price price(qint64 tenThousandthYuan)
{
    return Price::fromTenThousandthYuan(tenThousandthYuan);
}

QList<DaySegment> segments(std::initializer_list<std::pair<int, Slot>> list)
{
    QList<DaySegment> result;
    for (const auto &[start, slot] : list) {
        DaySegment s;
        s.startMinute = start;
        s.slot = slot;
        result.append(s);
    }
    return result;
}

Tier tier(std::optional<qint64> upperBoundWh, qint64 adder)
{
    Tier t;
    t.upperBoundWh = upperBoundWh;
    t.adder = price(adder);
    return t;
}

TariffVersion baseVersion(qint64 id, qint64 tariffId, const QString &code, TariffKind kind)
{
    TariffVersion v;
    v.id = id;
    v.tariffId = tariffId;
    v.tariffCode = code;
    v.version = 1;
    v.effectiveDate = QDate(2025, 6, 1);
    v.kind = kind;
    return v;
}

// The demo's schedules: workday 00-08 valley, 08-10 flat, 10-12 sharp, 12-15 flat, 15-20 peak,
// 20-22 flat, 22-24 valley; weekend and holiday 00-08 valley, 08-22 flat, 22-24 valley.
void setDemoSchedule(TariffVersion &v)
{
    v.schedule[size_t(DayType::Workday)] = segments({{0, Slot::Valley}, {480, Slot::Flat}, {600, Slot::Sharp},
        {720, Slot::Flat}, {900, Slot::Peak}, {1200, Slot::Flat}, {1320, Slot::Valley}});
    const QList<DaySegment> restDay = segments({{0, Slot::Valley}, {480, Slot::Flat}, {1320, Slot::Valley}});
    v.schedule[size_t(DayType::Weekend)] = restDay;
    v.schedule[size_t(DayType::Holiday)] = restDay;
}

// TOU-COM: 尖 1.2100, 峰 0.9800, 平 0.6500, 谷 0.3100.
TariffVersion touVersion()
{
    TariffVersion v = baseVersion(1, 1, QStringLiteral("TOU-COM"), TariffKind::Tou);
    v.prices = {price(12100), price(9800), price(6500), price(3100)};
    setDemoSchedule(v);
    return v;
}

// FLAT-COM: 0.8500 around the clock.
TariffVersion flatVersion()
{
    TariffVersion v = baseVersion(2, 2, QStringLiteral("FLAT-COM"), TariffKind::Flat);
    v.prices = {price(8500), price(8500), price(8500), price(8500)};
    return v;
}

// TIER-SMALL: 0.7000; month tiers: < 500 kWh +0, < 2000 kWh +0.0500, beyond +0.3000.
TariffVersion tieredVersion()
{
    TariffVersion v = baseVersion(3, 3, QStringLiteral("TIER-SMALL"), TariffKind::Tiered);
    v.prices = {price(7000), price(7000), price(7000), price(7000)};
    v.tierPeriod = TierPeriod::Month;
    v.tiers = {tier(500'000, 0), tier(2'000'000, 500), tier(std::nullopt, 3000)};
    return v;
}

// TOU-COM's prices and schedule with month tiers: < 100 kWh +0, beyond +0.1000.
TariffVersion touTieredVersion()
{
    TariffVersion v = touVersion();
    v.id = 4;
    v.tariffId = 4;
    v.tariffCode = QStringLiteral("TOU-TIER");
    v.kind = TariffKind::TouTiered;
    v.tierPeriod = TierPeriod::Month;
    v.tiers = {tier(100'000, 0), tier(std::nullopt, 1000)};
    return v;
}

// The demo calendar around New Year 2026: 1-3 January holidays, Sunday 4 January worked (调休).
Calendar newYearCalendar()
{
    Calendar cal;
    cal.set(QDate(2026, 1, 1), DayType::Holiday);
    cal.set(QDate(2026, 1, 2), DayType::Holiday);
    cal.set(QDate(2026, 1, 3), DayType::Holiday);
    cal.set(QDate(2026, 1, 4), DayType::Workday);
    return cal;
}

IntervalEnergy interval(qint64 fromMs, qint64 toMs, qint64 totalWh)
{
    IntervalEnergy e;
    e.fromMs = fromMs;
    e.toMs = toMs;
    e.totalWh = totalWh;
    return e;
}

IntervalEnergy measured(qint64 fromMs, qint64 toMs, qint64 totalWh, std::array<qint64, 4> slotWh)
{
    IntervalEnergy e = interval(fromMs, toMs, totalWh);
    e.slotWh = slotWh;
    e.slotsMeasured = true;
    return e;
}

Remainder remainder(qint64 units)
{
    Remainder r;
    r.units = units;
    return r;
}

ChargeLine line(const QString &what, qint64 wh, qint64 priceUnits)
{
    ChargeLine l;
    l.what = what;
    l.energyWh = wh;
    l.price = price(priceUnits);
    l.units = wh * priceUnits;
    return l;
}

using Slots = std::array<qint64, 4>;

QByteArray slotsText(const Slots &s)
{
    return QByteArrayLiteral("{") + QByteArray::number(s[0]) + ", " + QByteArray::number(s[1]) + ", "
        + QByteArray::number(s[2]) + ", " + QByteArray::number(s[3]) + "}";
}

// The day type of a local date under `cal`, and the slot of every minute of it, counted minute
// by minute: the oracle splitByTime() is checked against.
Slots minutesPerSlot(const TariffVersion &v, const Calendar &cal, qint64 fromMs, qint64 toMs)
{
    Slots minutes{};
    for (qint64 ms = fromMs; ms < toMs; ms += kMinuteMs) {
        const QDateTime local = QDateTime::fromMSecsSinceEpoch(ms, shanghai());
        const int minute = local.time().hour() * 60 + local.time().minute();
        ++minutes[size_t(v.slotAt(cal.dayType(local.date()), minute))];
    }
    return minutes;
}

} // namespace

// What QCOMPARE prints when these differ (found by argument-dependent lookup).
namespace prepay {
char *toString(const Money &m);
char *toString(const Money &m)
{
    return qstrdup(QByteArray(QByteArray::number(m.fen()) + " fen").constData());
}
char *toString(const Remainder &r);
char *toString(const Remainder &r)
{
    return qstrdup(QByteArray(QByteArray::number(r.units) + " units").constData());
}
} // namespace prepay

namespace prepay::billing {
char *toString(const TierAccumulator &a);
char *toString(const TierAccumulator &a)
{
    return qstrdup(QByteArray("{" + a.periodKey.toUtf8() + ", " + QByteArray::number(a.energyWh) + " Wh}").constData());
}
char *toString(const ChargeLine &l);
char *toString(const ChargeLine &l)
{
    const QByteArray text = "{" + l.what.toUtf8() + ", " + QByteArray::number(l.energyWh) + " Wh, "
        + l.price.toDecimalString().toUtf8() + ", " + QByteArray::number(l.units) + "}";
    return qstrdup(text.constData());
}
} // namespace prepay::billing

namespace QTest {
template<>
char *toString(const Slots &s)
{
    return qstrdup(slotsText(s).constData());
}
template<>
char *toString(const QList<ChargeLine> &lines)
{
    QByteArray text = "[";
    for (const ChargeLine &l : lines) {
        char *one = prepay::billing::toString(l);
        text += one;
        text += ' ';
        delete[] one;
    }
    text += ']';
    return qstrdup(text.constData());
}
} // namespace QTest

class TestRating : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanup();

    void codes();
    void calendarDayTypes();
    void slotAtFollowsTheSchedule();
    void versionProblems();

    void flatInterval();
    void touMeasuredSlots();
    void touMeasuredSlotsReconciledToTheTotal();
    void touEstimatedAcrossMidnight();
    void dayTypesDecideTheSchedule();
    void tiersResetAtTheMonthBoundary();
    void intervalStraddlingATierBound();
    void yearTiersRunAcrossMonths();
    void touWithTiers();
    void versionForPointAccountAndDates();
    void versionChangeMidMonthKeepsTheTierAccumulator();
    void partitionsCostTheSame_data();
    void partitionsCostTheSame();

    void splitByTimeOverAWeekend();
    void splitByTimeTiesGoToTheLowerSlot();
    void splitByTimeLargestRemainder();
    void splitByTimeEmptyInterval();
    void splitByTimeMatchesAMinuteCount();

    void loadTheDemoTariffs();
    void loadRefusesATouVersionWithoutWeekendSegments();
    void loadRefusesABoundedLastTier();
    void loadRefusesAnUnknownTimeZone();

private:
    void openDemoStore();
    std::unique_ptr<store::Connection> reader() { return m_store->openReader(); }

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock;
    std::unique_ptr<store::Store> m_store;
};

void TestRating::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

void TestRating::openDemoStore()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    const store::SeedReport seeded = store::applySeed(*m_store, QStringLiteral("demo"));
    QVERIFY2(seeded.outcome == store::SeedOutcome::Applied, qPrintable(seeded.message));
}

// ---- Model ------------------------------------------------------------------------------------

void TestRating::codes()
{
    for (Slot s : {Slot::Sharp, Slot::Peak, Slot::Flat, Slot::Valley})
        QCOMPARE(slotFromCode(slotCode(s)), s);
    QCOMPARE(slotCode(Slot::Sharp), QStringLiteral("sharp"));
    QCOMPARE(slotCode(Slot::Valley), QStringLiteral("valley"));
    QCOMPARE(int(Slot::Sharp), 0); // the meter's register order
    QCOMPARE(int(Slot::Valley), 3);
    QVERIFY(!slotFromCode(u"Sharp"));
    for (DayType d : {DayType::Workday, DayType::Weekend, DayType::Holiday})
        QCOMPARE(dayTypeFromCode(dayTypeCode(d)), d);
    QCOMPARE(dayTypeCode(DayType::Holiday), QStringLiteral("holiday"));
    for (TariffKind k : {TariffKind::Flat, TariffKind::Tou, TariffKind::Tiered, TariffKind::TouTiered})
        QCOMPARE(tariffKindFromCode(tariffKindCode(k)), k);
    QCOMPARE(tariffKindCode(TariffKind::TouTiered), QStringLiteral("tou_tiered"));
    QCOMPARE(tierPeriodFromCode(u"year"), TierPeriod::Year);
    QCOMPARE(standingPeriodFromCode(u"month"), StandingPeriod::Month);
    QCOMPARE(tierPeriodKey(TierPeriod::Month, QDate(2026, 1, 31)), QStringLiteral("2026-01"));
    QCOMPARE(tierPeriodKey(TierPeriod::Year, QDate(2026, 1, 31)), QStringLiteral("2026"));
}

void TestRating::calendarDayTypes()
{
    const Calendar cal = newYearCalendar();
    QCOMPARE(cal.dayType(QDate(2026, 1, 1)), DayType::Holiday);  // Thursday, 元旦
    QCOMPARE(cal.dayType(QDate(2026, 1, 3)), DayType::Holiday);  // Saturday, 元旦
    QCOMPARE(cal.dayType(QDate(2026, 1, 4)), DayType::Workday);  // Sunday, 调休上班
    QCOMPARE(cal.dayType(QDate(2026, 1, 5)), DayType::Workday);  // Monday
    QCOMPARE(cal.dayType(QDate(2026, 1, 10)), DayType::Weekend); // Saturday
    QCOMPARE(cal.dayType(QDate(2026, 1, 11)), DayType::Weekend); // Sunday

    // Local dates and minutes are in the book's zone, not the process's: 2026-01-05 23:59:59.999
    // in Shanghai is 15:59:59.999 UTC, and one ms later it is the 6th.
    TariffBook book;
    QCOMPARE(book.timeZone().id(), QByteArrayLiteral("Asia/Shanghai"));
    const qint64 midnight = at(2026, 1, 6, 0);
    QCOMPARE(midnight, QDateTime(QDate(2026, 1, 5), QTime(16, 0), Qt::UTC).toMSecsSinceEpoch());
    QCOMPARE(book.localDate(midnight - 1), QDate(2026, 1, 5));
    QCOMPARE(book.localMinute(midnight - 1), 1439);
    QCOMPARE(book.localDate(midnight), QDate(2026, 1, 6));
    QCOMPARE(book.localMinute(midnight), 0);
}

void TestRating::slotAtFollowsTheSchedule()
{
    const TariffVersion v = touVersion();
    QCOMPARE(v.slotAt(DayType::Workday, 0), Slot::Valley);
    QCOMPARE(v.slotAt(DayType::Workday, 479), Slot::Valley);
    QCOMPARE(v.slotAt(DayType::Workday, 480), Slot::Flat);
    QCOMPARE(v.slotAt(DayType::Workday, 600), Slot::Sharp);
    QCOMPARE(v.slotAt(DayType::Workday, 719), Slot::Sharp);
    QCOMPARE(v.slotAt(DayType::Workday, 900), Slot::Peak);
    QCOMPARE(v.slotAt(DayType::Workday, 1439), Slot::Valley);
    QCOMPARE(v.slotAt(DayType::Holiday, 600), Slot::Flat);
    QCOMPARE(v.slotAt(DayType::Weekend, 1320), Slot::Valley);
    QCOMPARE(flatVersion().slotAt(DayType::Workday, 600), Slot::Flat);
    QCOMPARE(tieredVersion().slotAt(DayType::Holiday, 0), Slot::Flat);
}

void TestRating::versionProblems()
{
    QVERIFY(versionProblem(touVersion()).isEmpty());
    QVERIFY(versionProblem(flatVersion()).isEmpty());
    QVERIFY(versionProblem(tieredVersion()).isEmpty());
    QVERIFY(versionProblem(touTieredVersion()).isEmpty());

    TariffVersion v = touVersion();
    v.schedule[size_t(DayType::Weekend)].clear();
    QCOMPARE(versionProblem(v), QStringLiteral("has no weekend segments"));
    v = touVersion();
    v.schedule[size_t(DayType::Holiday)] = segments({{60, Slot::Valley}, {480, Slot::Flat}});
    QCOMPARE(versionProblem(v), QStringLiteral("holiday schedule starts at minute 60, not at 0"));
    v = touVersion();
    v.schedule[size_t(DayType::Workday)] = segments({{0, Slot::Valley}, {480, Slot::Flat}, {480, Slot::Peak}});
    QVERIFY2(versionProblem(v).contains(QStringLiteral("must ascend")), qPrintable(versionProblem(v)));
    v = touVersion();
    v.schedule[size_t(DayType::Workday)]
        = segments({{0, Slot::Valley}, {100, Slot::Flat}, {200, Slot::Peak}, {300, Slot::Flat}, {400, Slot::Peak},
            {500, Slot::Flat}, {600, Slot::Peak}, {700, Slot::Flat}, {800, Slot::Sharp}});
    QVERIFY2(versionProblem(v).contains(QStringLiteral("at most 8")), qPrintable(versionProblem(v)));

    v = flatVersion();
    v.prices[size_t(Slot::Peak)] = price(9000);
    QCOMPARE(versionProblem(v), QStringLiteral("is flat but its four slot prices differ"));
    v = flatVersion();
    setDemoSchedule(v);
    QVERIFY2(versionProblem(v).contains(QStringLiteral("not a TOU kind")), qPrintable(versionProblem(v)));

    v = tieredVersion();
    v.tiers.last().upperBoundWh = 9'000'000;
    QVERIFY2(versionProblem(v).contains(QStringLiteral("must be unbounded")), qPrintable(versionProblem(v)));
    v = tieredVersion();
    v.tiers[1].upperBoundWh = 500'000;
    QVERIFY2(versionProblem(v).contains(QStringLiteral("does not ascend")), qPrintable(versionProblem(v)));
    v = tieredVersion();
    v.tiers[0].upperBoundWh.reset();
    QVERIFY2(versionProblem(v).contains(QStringLiteral("not the last tier")), qPrintable(versionProblem(v)));
    v = tieredVersion();
    v.tiers.clear();
    QCOMPARE(versionProblem(v), QStringLiteral("is tiered but has no tiers"));
    v = flatVersion();
    v.tiers = {tier(std::nullopt, 100)};
    QCOMPARE(versionProblem(v), QStringLiteral("has tiers but is not a tiered kind"));
    v = flatVersion();
    v.standingCharge = Money::fromFen(500);
    QVERIFY(!versionProblem(v).isEmpty());
    v.standingPeriod = StandingPeriod::Month;
    QVERIFY(versionProblem(v).isEmpty());
}

// ---- Golden intervals -------------------------------------------------------------------------

void TestRating::flatInterval()
{
    const TariffVersion v = flatVersion();
    const Calendar cal;
    // 1234 Wh × 8500 = 10,489,000 units; with 50,000 carried: 10,539,000 → 105 fen, 39,000 left.
    const Rated r
        = rate(v, cal, shanghai(), interval(at(2026, 1, 5, 10), at(2026, 1, 5, 10, 30), 1234), {}, remainder(50'000));
    QCOMPARE(r.amount, Money::fromFen(105));
    QCOMPARE(r.remainderAfter, remainder(39'000));
    QCOMPARE(r.slotWh, (Slots{0, 0, 1234, 0}));
    QVERIFY(!r.estimated);
    QCOMPARE(r.lines, QList<ChargeLine>{line(QStringLiteral("flat"), 1234, 8500)});
    QCOMPARE(r.lines.first().units, 10'489'000);
    QVERIFY(!r.tiered);
    QCOMPARE(r.tierAfter, TierAccumulator{});

    // The same without a carried remainder: 10,489,000 → 104 fen, 89,000 left.
    const Rated fresh = rate(v, cal, shanghai(), interval(at(2026, 1, 5, 10), at(2026, 1, 5, 10, 30), 1234), {}, {});
    QCOMPARE(fresh.amount, Money::fromFen(104));
    QCOMPARE(fresh.remainderAfter, remainder(89'000));

    // Measured slots are kept for the record on a flat tariff; the money is the same at one price:
    // (100 + 200 + 900 + 34) × 8500 + 50,000 = 10,539,000 → 105 fen, 39,000 left.
    const Rated withSlots = rate(v, cal, shanghai(),
        measured(at(2026, 1, 5, 10), at(2026, 1, 5, 10, 30), 1234, {100, 200, 900, 34}), {}, remainder(50'000));
    QCOMPARE(withSlots.slotWh, (Slots{100, 200, 900, 34}));
    QVERIFY(!withSlots.estimated);
    QCOMPARE(withSlots.amount, Money::fromFen(105));
    QCOMPARE(withSlots.remainderAfter, remainder(39'000));
    QCOMPARE(withSlots.lines.size(), 4);

    // Nothing used: no lines, nothing charged, the remainder carried unchanged.
    const Rated zero = rate(v, cal, shanghai(), interval(at(2026, 1, 5, 10), at(2026, 1, 5, 11), 0), {}, remainder(7));
    QCOMPARE(zero.amount, Money::zero());
    QCOMPARE(zero.remainderAfter, remainder(7));
    QVERIFY(zero.lines.isEmpty());
}

void TestRating::touMeasuredSlots()
{
    const TariffVersion v = touVersion();
    // Measured by the meter, so the hours of the interval do not matter:
    //   sharp  1230 × 12100 = 14,883,000
    //   peak   2010 ×  9800 = 19,698,000
    //   flat   3330 ×  6500 = 21,645,000
    //   valley 4440 ×  3100 = 13,764,000
    //   sum 69,990,000 + 20,000 carried = 70,010,000 → 700 fen, 10,000 left.
    const Rated r = rate(v, newYearCalendar(), shanghai(),
        measured(at(2026, 1, 5, 0), at(2026, 1, 6, 0), 11'010, {1230, 2010, 3330, 4440}), {}, remainder(20'000));
    QCOMPARE(r.slotWh, (Slots{1230, 2010, 3330, 4440}));
    QVERIFY(!r.estimated);
    QCOMPARE(r.amount, Money::fromFen(700));
    QCOMPARE(r.remainderAfter, remainder(10'000));
    const QList<ChargeLine> expected
        = {line(QStringLiteral("sharp"), 1230, 12100), line(QStringLiteral("peak"), 2010, 9800),
            line(QStringLiteral("flat"), 3330, 6500), line(QStringLiteral("valley"), 4440, 3100)};
    QCOMPARE(r.lines, expected);

    // Slots with no energy leave no line: only peak and valley.
    //   600 × 9800 = 5,880,000; 400 × 3100 = 1,240,000; 7,120,000 → 71 fen, 20,000 left.
    const Rated two = rate(
        v, Calendar(), shanghai(), measured(at(2026, 1, 5, 15), at(2026, 1, 5, 23), 1000, {0, 600, 0, 400}), {}, {});
    QCOMPARE(two.lines.size(), 2);
    QCOMPARE(two.lines[0].what, QStringLiteral("peak"));
    QCOMPARE(two.lines[1].what, QStringLiteral("valley"));
    QCOMPARE(two.amount, Money::fromFen(71));
    QCOMPARE(two.remainderAfter, remainder(20'000));
}

void TestRating::touMeasuredSlotsReconciledToTheTotal()
{
    // The slot registers add up to 11,010 Wh, the total register moved 11,020 Wh (each rounds on
    // its own). The total is charged; the measured slots say where, in proportion (sum 11,010):
    //   sharp  11020 × 1230 = 13,554,600 = 1231 × 11010 + 1,290
    //   peak   11020 × 2010 = 22,150,200 = 2011 × 11010 + 9,090   ← largest remainder: +1
    //   flat   11020 × 3330 = 36,696,600 = 3333 × 11010 +   270
    //   valley 11020 × 4440 = 48,928,800 = 4444 × 11010 +   360
    //   floors 11,019, one Wh left → peak 2012.
    const Rated r = rate(touVersion(), Calendar(), shanghai(),
        measured(at(2026, 1, 5, 0), at(2026, 1, 6, 0), 11'020, {1230, 2010, 3330, 4440}), {}, {});
    QCOMPARE(r.slotWh, (Slots{1231, 2012, 3333, 4444}));
    QVERIFY(!r.estimated);
    // 1231×12100 + 2012×9800 + 3333×6500 + 4444×3100
    //   = 14,895,100 + 19,717,600 + 21,664,500 + 13,776,400 = 70,053,600 → 700 fen, 53,600 left.
    QCOMPARE(r.amount, Money::fromFen(700));
    QCOMPARE(r.remainderAfter, remainder(53'600));

    // Measured slots that are all 0 while the total is not say nothing about where: split by time
    // (10:00–12:00 on a workday is all sharp) and marked estimated.
    const Rated none = rate(touVersion(), Calendar(), shanghai(),
        measured(at(2026, 1, 5, 10), at(2026, 1, 5, 12), 100, {0, 0, 0, 0}), {}, {});
    QCOMPARE(none.slotWh, (Slots{100, 0, 0, 0}));
    QVERIFY(none.estimated);
}

void TestRating::touEstimatedAcrossMidnight()
{
    // Monday 21:00 → Tuesday 09:00, both workdays: 21–22 flat (60 min), 22–08 valley (600 min),
    // 08–09 flat (60 min): flat 120, valley 600 of 720 minutes.
    //   flat   1000 × 120 / 720 = 166 rem 480   ← larger remainder: +1 → 167
    //   valley 1000 × 600 / 720 = 833 rem 240
    // Money, flat first: 167 × 6500 = 1,085,500 → 10 fen, 85,500 left;
    //   + 833 × 3100 = 2,582,300 → 2,667,800 → 26 fen, 67,800 left. 36 fen.
    const Rated r = rate(
        touVersion(), newYearCalendar(), shanghai(), interval(at(2026, 1, 5, 21), at(2026, 1, 6, 9), 1000), {}, {});
    QCOMPARE(r.slotWh, (Slots{0, 0, 167, 833}));
    QVERIFY(r.estimated);
    QCOMPARE(r.amount, Money::fromFen(36));
    QCOMPARE(r.remainderAfter, remainder(67'800));
    QCOMPARE(r.lines,
        (QList<ChargeLine>{line(QStringLiteral("flat"), 167, 6500), line(QStringLiteral("valley"), 833, 3100)}));
}

void TestRating::dayTypesDecideTheSchedule()
{
    const TariffVersion v = touVersion();
    const Calendar cal = newYearCalendar();
    // 09:00–13:00 with 1000 Wh. On a workday: 09–10 flat, 10–12 sharp, 12–13 flat = sharp 120,
    // flat 120 minutes → 500 + 500 Wh: 500 × 12100 + 500 × 6500 = 6,050,000 + 3,250,000
    // = 9,300,000 → 93 fen. On a weekend or holiday 08–22 is flat: 1000 × 6500 = 6,500,000 → 65 fen.
    struct Case
    {
        QDate day;
        Slots slots;
        qint64 fen;
    };
    const QList<Case> cases = {
        {QDate(2026, 1, 5), {500, 0, 500, 0}, 93}, // Monday: workday
        {QDate(2026, 1, 1), {0, 0, 1000, 0}, 65},  // Thursday 元旦: holiday by the calendar
        {QDate(2026, 1, 4), {500, 0, 500, 0}, 93}, // Sunday 调休上班: worked, so workday prices
        {QDate(2026, 1, 10), {0, 0, 1000, 0}, 65}, // Saturday: weekend
        {QDate(2026, 1, 3), {0, 0, 1000, 0}, 65},  // Saturday and holiday
    };
    for (const Case &c : cases) {
        const qint64 from = QDateTime(c.day, QTime(9, 0), shanghai()).toMSecsSinceEpoch();
        const qint64 to = QDateTime(c.day, QTime(13, 0), shanghai()).toMSecsSinceEpoch();
        const Rated r = rate(v, cal, shanghai(), interval(from, to, 1000), {}, {});
        QVERIFY2(r.slotWh == c.slots, qPrintable(c.day.toString(Qt::ISODate)));
        QCOMPARE(r.amount, Money::fromFen(c.fen));
        QCOMPARE(r.remainderAfter, remainder(0));
        QVERIFY(r.estimated);
    }
    // Without the calendar, 1 January is just a Thursday.
    const Rated plain = rate(v, Calendar(), shanghai(), interval(at(2026, 1, 1, 9), at(2026, 1, 1, 13), 1000), {}, {});
    QCOMPARE(plain.slotWh, (Slots{500, 0, 500, 0}));
}

void TestRating::tiersResetAtTheMonthBoundary()
{
    const TariffVersion v = tieredVersion();
    const Calendar cal;
    // 31 January: the month has 1,999,000 Wh; 3333 Wh more occupy [1,999,000, 2,002,333):
    // 1000 Wh in tier 2 (below 2,000,000), 2333 Wh in tier 3.
    //   flat  3333 × 7000 = 23,331,000
    //   tier2 1000 ×  500 =    500,000
    //   tier3 2333 × 3000 =  6,999,000
    //   30,830,000 → 308 fen, 30,000 left.
    const TierAccumulator january{QStringLiteral("2026-01"), 1'999'000};
    const Rated jan = rate(v, cal, shanghai(), interval(at(2026, 1, 31, 12), at(2026, 1, 31, 20), 3333), january, {});
    QCOMPARE(jan.amount, Money::fromFen(308));
    QCOMPARE(jan.remainderAfter, remainder(30'000));
    QVERIFY(jan.tiered);
    QCOMPARE(jan.tierBefore, january);
    QCOMPARE(jan.tierAfter, (TierAccumulator{QStringLiteral("2026-01"), 2'002'333}));
    const QList<ChargeLine> janLines = {line(QStringLiteral("flat"), 3333, 7000),
        line(QStringLiteral("tier2"), 1000, 500), line(QStringLiteral("tier3"), 2333, 3000)};
    QCOMPARE(jan.lines, janLines);

    // 23:50 on 31 January → 00:20 on 1 February: the interval ends in February, so it counts in
    // February, whose accumulator starts from 0: 400 Wh all in tier 1 (+0, no line).
    //   400 × 7000 = 2,800,000 + 30,000 carried = 2,830,000 → 28 fen, 30,000 left.
    const Rated feb = rate(v, cal, shanghai(), interval(at(2026, 1, 31, 23, 50), at(2026, 2, 1, 0, 20), 400),
        jan.tierAfter, jan.remainderAfter);
    QCOMPARE(feb.tierBefore, (TierAccumulator{QStringLiteral("2026-02"), 0}));
    QCOMPARE(feb.tierAfter, (TierAccumulator{QStringLiteral("2026-02"), 400}));
    QCOMPARE(feb.lines, QList<ChargeLine>{line(QStringLiteral("flat"), 400, 7000)});
    QCOMPARE(feb.amount, Money::fromFen(28));
    QCOMPARE(feb.remainderAfter, remainder(30'000));

    // A point with no accumulator yet starts from 0 as well.
    const Rated first = rate(v, cal, shanghai(), interval(at(2026, 2, 1, 1), at(2026, 2, 1, 2), 10), {}, {});
    QCOMPARE(first.tierAfter, (TierAccumulator{QStringLiteral("2026-02"), 10}));

    const QJsonObject expected = QJsonDocument::fromJson(R"({"version": 3, "estimated": false,
        "lines": [{"what": "flat", "wh": 3333, "price": "0.7000", "units": 23331000},
                  {"what": "tier2", "wh": 1000, "price": "0.0500", "units": 500000},
                  {"what": "tier3", "wh": 2333, "price": "0.3000", "units": 6999000}],
        "tier": {"period": "2026-01", "before_wh": 1999000, "after_wh": 2002333}})")
                                     .object();
    QCOMPARE(jan.breakdown(), expected);
}

void TestRating::intervalStraddlingATierBound()
{
    // 499,500 Wh so far in February; 1000 Wh more: 500 Wh below the 500 kWh bound (tier 1, +0)
    // and 500 Wh above it (tier 2, +0.0500).
    //   flat  1000 × 7000 = 7,000,000
    //   tier2  500 ×  500 =   250,000
    //   7,250,000 → 72 fen, 50,000 left.
    const Rated r
        = rate(tieredVersion(), Calendar(), shanghai(), interval(at(2026, 2, 10, 8), at(2026, 2, 10, 9), 1000),
            TierAccumulator{QStringLiteral("2026-02"), 499'500}, {});
    QCOMPARE(r.lines,
        (QList<ChargeLine>{line(QStringLiteral("flat"), 1000, 7000), line(QStringLiteral("tier2"), 500, 500)}));
    QCOMPARE(r.amount, Money::fromFen(72));
    QCOMPARE(r.remainderAfter, remainder(50'000));
    QCOMPARE(r.tierAfter.energyWh, 500'500);

    // Exactly at the bound: [500,000, 500,010) is all tier 2.
    const Rated onBound = rate(tieredVersion(), Calendar(), shanghai(),
        interval(at(2026, 2, 10, 9), at(2026, 2, 10, 10), 10), TierAccumulator{QStringLiteral("2026-02"), 500'000}, {});
    QCOMPARE(onBound.lines.last(), line(QStringLiteral("tier2"), 10, 500));
    // Ending exactly on it: [499,990, 500,000) is all tier 1.
    const Rated toBound = rate(tieredVersion(), Calendar(), shanghai(),
        interval(at(2026, 2, 10, 9), at(2026, 2, 10, 10), 10), TierAccumulator{QStringLiteral("2026-02"), 499'990}, {});
    QCOMPARE(toBound.lines, QList<ChargeLine>{line(QStringLiteral("flat"), 10, 7000)});

    // One interval across all three tiers: [400,000, 2,100,000):
    //   tier1 100,000 (+0), tier2 1,500,000 × 500 = 750,000,000, tier3 100,000 × 3000 = 300,000,000
    //   flat 1,700,000 × 7000 = 11,900,000,000; total 12,950,000,000 → 129,500 fen, 0 left.
    const Rated across
        = rate(tieredVersion(), Calendar(), shanghai(), interval(at(2026, 2, 1, 0), at(2026, 2, 20, 0), 1'700'000),
            TierAccumulator{QStringLiteral("2026-02"), 400'000}, {});
    QCOMPARE(across.lines,
        (QList<ChargeLine>{line(QStringLiteral("flat"), 1'700'000, 7000), line(QStringLiteral("tier2"), 1'500'000, 500),
            line(QStringLiteral("tier3"), 100'000, 3000)}));
    QCOMPARE(across.amount, Money::fromFen(129'500));
}

void TestRating::yearTiersRunAcrossMonths()
{
    TariffVersion v = tieredVersion();
    v.tierPeriod = TierPeriod::Year;
    // A yearly accumulator keeps counting from January into February…
    const Rated feb = rate(v, Calendar(), shanghai(), interval(at(2026, 1, 31, 23), at(2026, 2, 1, 1), 100),
        TierAccumulator{QStringLiteral("2026"), 1'999'950}, {});
    QCOMPARE(feb.tierAfter, (TierAccumulator{QStringLiteral("2026"), 2'000'050}));
    // …50 Wh tier 2, 50 Wh tier 3: 100 × 7000 + 50 × 500 + 50 × 3000 = 875,000 → 8 fen, 75,000 left.
    QCOMPARE(feb.amount, Money::fromFen(8));
    QCOMPARE(feb.remainderAfter, remainder(75'000));
    // …and restarts with the local new year: 2027-01-01 00:30 Shanghai is still 2026 in UTC.
    const Rated newYear = rate(
        v, Calendar(), shanghai(), interval(at(2026, 12, 31, 23), at(2027, 1, 1, 0, 30), 100), feb.tierAfter, {});
    QCOMPARE(newYear.tierAfter, (TierAccumulator{QStringLiteral("2027"), 100}));
}

void TestRating::touWithTiers()
{
    // TOU prices plus month tiers (< 100 kWh +0, beyond +0.1000). 99,800 Wh so far in March;
    // measured peak 600 and valley 400 Wh: [99,800, 100,800) is 200 Wh tier 1, 800 Wh tier 2.
    // The adder applies to tier energy whatever its slot:
    //   peak   600 × 9800 = 5,880,000
    //   valley 400 × 3100 = 1,240,000
    //   tier2  800 × 1000 =   800,000
    //   7,920,000 → 79 fen, 20,000 left.
    const Rated r = rate(touTieredVersion(), Calendar(), shanghai(),
        measured(at(2026, 3, 2, 15), at(2026, 3, 2, 23), 1000, {0, 600, 0, 400}),
        TierAccumulator{QStringLiteral("2026-03"), 99'800}, {});
    QCOMPARE(r.amount, Money::fromFen(79));
    QCOMPARE(r.remainderAfter, remainder(20'000));
    QVERIFY(!r.estimated);
    const QJsonObject expected = QJsonDocument::fromJson(R"({"version": 4, "estimated": false,
        "lines": [{"what": "peak", "wh": 600, "price": "0.9800", "units": 5880000},
                  {"what": "valley", "wh": 400, "price": "0.3100", "units": 1240000},
                  {"what": "tier2", "wh": 800, "price": "0.1000", "units": 800000}],
        "tier": {"period": "2026-03", "before_wh": 99800, "after_wh": 100800}})")
                                     .object();
    QCOMPARE(r.breakdown(), expected);
    // The text stored with the interval is the same object, written directly, plus the biller's
    // members; odd characters in a line's name stay valid JSON.
    QJsonParseError parseError;
    const QJsonObject stored = QJsonDocument::fromJson(r.breakdownJson("\"held\":true"), &parseError).object();
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    QJsonObject expectedStored = expected;
    expectedStored.insert(QStringLiteral("held"), true);
    QCOMPARE(stored, expectedStored);
    Rated odd = r;
    odd.lines[0].what = QStringLiteral("峰 \"quoted\" \\ \n\t");
    const QJsonObject oddParsed = QJsonDocument::fromJson(odd.breakdownJson(), &parseError).object();
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    QCOMPARE(oddParsed.value(QStringLiteral("lines")).toArray().at(0).toObject().value(QStringLiteral("what")).toString(),
        odd.lines[0].what);

    // The same estimated: Monday 2 March 15:00–23:00 is peak 15–20 (300 min), flat 20–22 (120),
    // valley 22–23 (60) of 480: 1000 × 300/480 = 625, × 120/480 = 250, × 60/480 = 125, exact.
    //   625 × 9800 = 6,125,000; 250 × 6500 = 1,625,000; 125 × 3100 = 387,500; tier2 800 × 1000
    //   = 800,000; 8,937,500 → 89 fen, 37,500 left.
    const Rated est = rate(touTieredVersion(), Calendar(), shanghai(),
        interval(at(2026, 3, 2, 15), at(2026, 3, 2, 23), 1000), TierAccumulator{QStringLiteral("2026-03"), 99'800}, {});
    QCOMPARE(est.slotWh, (Slots{0, 625, 250, 125}));
    QVERIFY(est.estimated);
    QCOMPARE(est.amount, Money::fromFen(89));
    QCOMPARE(est.remainderAfter, remainder(37'500));
    QCOMPARE(est.breakdown().value(QStringLiteral("estimated")).toBool(), true);
}

void TestRating::versionForPointAccountAndDates()
{
    TariffBook book;
    // Tariff 1 has two versions (1 and 15 January), tariff 2 one, tariff 3 none yet.
    TariffVersion a1 = flatVersion();
    a1.id = 11;
    a1.tariffId = 1;
    a1.effectiveDate = QDate(2026, 1, 1);
    TariffVersion a2 = a1;
    a2.id = 12;
    a2.version = 2;
    a2.effectiveDate = QDate(2026, 1, 15);
    TariffVersion b1 = touVersion();
    b1.id = 21;
    b1.tariffId = 2;
    b1.effectiveDate = QDate(2026, 1, 1);
    book.addVersion(a2); // any order
    book.addVersion(b1);
    book.addVersion(a1);
    QCOMPARE(book.versionCount(), 3);
    // Account 100 is on tariff 1; its point 7 gets its own tariff 2 from 20 January (一表一价),
    // its point 8 has none of its own; point 9 is on tariff 3, which has no version.
    book.assignToAccount(100, 1, QDate(2026, 1, 1));
    book.assignToPoint(7, 2, QDate(2026, 1, 20));
    book.assignToPoint(9, 3, QDate(2026, 1, 1));

    auto idFor = [&book](qint64 point, qint64 account, QDate day) -> qint64 {
        const TariffVersion *v = book.versionFor(point, account, day);
        return v ? v->id : 0;
    };
    QCOMPARE(idFor(8, 100, QDate(2025, 12, 31)), 0); // before any assignment
    QCOMPARE(idFor(8, 100, QDate(2026, 1, 1)), 11);  // the account's tariff, version 1
    QCOMPARE(idFor(8, 100, QDate(2026, 1, 14)), 11);
    QCOMPARE(idFor(8, 100, QDate(2026, 1, 15)), 12); // version 2 from its effective date
    QCOMPARE(idFor(8, 100, QDate(2026, 12, 31)), 12);
    QCOMPARE(idFor(7, 100, QDate(2026, 1, 19)), 12); // point assignment not yet in force
    QCOMPARE(idFor(7, 100, QDate(2026, 1, 20)), 21); // the point's own tariff wins
    QCOMPARE(idFor(7, 0, QDate(2026, 1, 20)), 21);   // also without an account
    QCOMPARE(idFor(8, 0, QDate(2026, 1, 20)), 0);    // no account, no assignment
    QCOMPARE(idFor(9, 100, QDate(2026, 1, 20)), 0);  // its tariff has no version: no fallback
    QCOMPARE(idFor(8, 101, QDate(2026, 1, 20)), 0);  // an account without assignment
    QCOMPARE(book.version(21)->tariffCode, QStringLiteral("TOU-COM"));
    QVERIFY(!book.version(99));

    // A later account assignment switches the whole account, but not the point with its own.
    book.assignToAccount(100, 2, QDate(2026, 2, 1));
    QCOMPARE(idFor(8, 100, QDate(2026, 1, 31)), 12);
    QCOMPARE(idFor(8, 100, QDate(2026, 2, 1)), 21);
}

void TestRating::versionChangeMidMonthKeepsTheTierAccumulator()
{
    // TIER-SMALL at 0.7000 until 14 January, 0.7500 from 15 January; tiers < 500 kWh +0,
    // beyond +0.0500. The accumulator belongs to the point and the month, not to the version.
    TariffBook book;
    TariffVersion v1 = tieredVersion();
    v1.id = 31;
    v1.effectiveDate = QDate(2026, 1, 1);
    v1.tiers = {tier(500'000, 0), tier(std::nullopt, 500)};
    TariffVersion v2 = v1;
    v2.id = 32;
    v2.version = 2;
    v2.effectiveDate = QDate(2026, 1, 15);
    v2.prices = {price(7500), price(7500), price(7500), price(7500)};
    book.addVersion(v1);
    book.addVersion(v2);
    book.assignToAccount(100, v1.tariffId, QDate(2026, 1, 1));

    TierAccumulator acc{QStringLiteral("2026-01"), 499'000};
    Remainder rem;

    // Wednesday 14 January 10:00–20:00, 600 Wh, priced by version 1 (in force on the 14th):
    //   600 × 7000 = 4,200,000 → 42 fen; all tier 1 (499,000 → 499,600).
    const IntervalEnergy first = interval(at(2026, 1, 14, 10), at(2026, 1, 14, 20), 600);
    const TariffVersion *vFirst = book.versionFor(7, 100, book.localDate(first.toMs));
    QVERIFY(vFirst);
    QCOMPARE(vFirst->id, 31);
    const Rated r1 = rate(*vFirst, book.calendar(), book.timeZone(), first, acc, rem);
    QCOMPARE(r1.amount, Money::fromFen(42));
    QCOMPARE(r1.remainderAfter, remainder(0));
    acc = r1.tierAfter;
    rem = r1.remainderAfter;

    // 14 January 20:00 → 16 January 08:00, 1000 Wh: the version in force on the 16th (2) prices
    // all of it; the accumulator goes on from 499,600: 400 Wh tier 1, 600 Wh tier 2.
    //   1000 × 7500 = 7,500,000; tier2 600 × 500 = 300,000; 7,800,000 → 78 fen.
    const IntervalEnergy second = interval(first.toMs, at(2026, 1, 16, 8), 1000);
    const TariffVersion *vSecond = book.versionFor(7, 100, book.localDate(second.toMs));
    QVERIFY(vSecond);
    QCOMPARE(vSecond->id, 32);
    const Rated r2 = rate(*vSecond, book.calendar(), book.timeZone(), second, acc, rem);
    QCOMPARE(r2.tierBefore.energyWh, 499'600);
    QCOMPARE(r2.lines,
        (QList<ChargeLine>{line(QStringLiteral("flat"), 1000, 7500), line(QStringLiteral("tier2"), 600, 500)}));
    QCOMPARE(r2.amount, Money::fromFen(78));
    QCOMPARE(r2.tierAfter, (TierAccumulator{QStringLiteral("2026-01"), 500'600}));
    QCOMPARE(r2.breakdown().value(QStringLiteral("version")).toInteger(), 32);
}

void TestRating::partitionsCostTheSame_data()
{
    QTest::addColumn<int>("which");
    QTest::newRow("tou_tiered, measured slots") << 0;
    QTest::newRow("tiered, no slots") << 1;
    QTest::newRow("tou, measured slots") << 2;
}

void TestRating::partitionsCostTheSame()
{
    QFETCH(int, which);
    // A workday (Monday 5 January) of a meter with TOU registers: the energy of minute m is
    // 5 + (37 m mod 23) Wh in the slot of that minute; cumulative[m] holds the four registers at
    // minute m. Tiers are small (10 kWh, 20 kWh) so the day crosses two bounds.
    TariffVersion v;
    bool slotsMeasured = true;
    switch (which) {
    case 0:
        v = touTieredVersion();
        v.tiers = {tier(10'000, 0), tier(20'000, 700), tier(std::nullopt, 1500)};
        break;
    case 1:
        v = tieredVersion();
        v.tiers = {tier(10'000, 0), tier(20'000, 700), tier(std::nullopt, 1500)};
        slotsMeasured = false;
        break;
    default: v = touVersion(); break;
    }
    QVERIFY(versionProblem(v).isEmpty());
    const Calendar cal = newYearCalendar();
    const qint64 dayStart = at(2026, 1, 5, 0);
    constexpr int kMinutes = TariffLimits::minutesPerDay;

    std::vector<Slots> cumulative(kMinutes + 1);
    const TariffVersion tou = touVersion();
    for (int m = 0; m < kMinutes; ++m) {
        cumulative[size_t(m + 1)] = cumulative[size_t(m)];
        cumulative[size_t(m + 1)][size_t(tou.slotAt(DayType::Workday, m))] += 5 + (37 * m) % 23;
    }
    const TierAccumulator startAcc{QStringLiteral("2026-01"), 3'000};
    const Remainder startRem = remainder(12'345);

    struct Outcome
    {
        qint64 fen = 0;
        Remainder rem;
        TierAccumulator acc;
    };
    auto rateCuts = [&](QList<int> cuts) {
        cuts.prepend(0);
        cuts.append(kMinutes);
        Outcome o;
        o.rem = startRem;
        o.acc = startAcc;
        for (qsizetype i = 1; i < cuts.size(); ++i) {
            const int a = cuts[i - 1];
            const int b = cuts[i];
            IntervalEnergy e = interval(dayStart + a * kMinuteMs, dayStart + b * kMinuteMs, 0);
            for (size_t s = 0; s < 4; ++s) {
                e.slotWh[s] = cumulative[size_t(b)][s] - cumulative[size_t(a)][s];
                e.totalWh += e.slotWh[s];
            }
            e.slotsMeasured = slotsMeasured;
            const Rated r = rate(v, cal, shanghai(), e, o.acc, o.rem);
            o.fen += r.amount.fen();
            o.rem = r.remainderAfter;
            if (v.isTiered())
                o.acc = r.tierAfter;
        }
        return o;
    };

    // The oracle: the day's exact units at once, floored once.
    const Slots &day = cumulative.back();
    const qint64 dayWh = day[0] + day[1] + day[2] + day[3];
    qint64 units = startRem.units;
    if (slotsMeasured) {
        for (size_t s = 0; s < 4; ++s)
            units += day[s] * v.prices[s].tenThousandthYuan();
    } else {
        units += dayWh * v.price(Slot::Flat).tenThousandthYuan();
    }
    if (v.isTiered()) {
        // [3,000, 3,000 + dayWh): tier 2 is [10,000, 20,000), tier 3 from 20,000.
        QVERIFY(dayWh > 20'000);
        units += 10'000 * 700 + (startAcc.energyWh + dayWh - 20'000) * 1500;
    }

    const Outcome once = rateCuts({});
    QCOMPARE(once.fen, units / Remainder::kUnitsPerFen);
    QCOMPARE(once.rem.units, units % Remainder::kUnitsPerFen);
    if (v.isTiered())
        QCOMPARE(once.acc, (TierAccumulator{QStringLiteral("2026-01"), 3'000 + dayWh}));

    QList<int> halfHours;
    for (int m = 30; m < kMinutes; m += 30)
        halfHours.append(m);
    QCOMPARE(halfHours.size(), 47);
    const Outcome fortyEight = rateCuts(halfHours);
    QCOMPARE(fortyEight.fen, once.fen);
    QCOMPARE(fortyEight.rem, once.rem);
    QCOMPARE(fortyEight.acc, once.acc);

    QList<int> everyMinute;
    for (int m = 1; m < kMinutes; ++m)
        everyMinute.append(m);
    const Outcome minutes = rateCuts(everyMinute);
    QCOMPARE(minutes.fen, once.fen);
    QCOMPARE(minutes.rem, once.rem);

    // Random partitions, repeated cuts (empty intervals) included.
    QRandomGenerator rng(fixedSeed());
    for (int round = 0; round < 50; ++round) {
        QList<int> cuts;
        const int n = rng.bounded(1, 300);
        for (int i = 0; i < n; ++i)
            cuts.append(rng.bounded(0, kMinutes + 1));
        std::sort(cuts.begin(), cuts.end());
        const Outcome o = rateCuts(cuts);
        QVERIFY2(o.fen == once.fen && o.rem == once.rem && o.acc == once.acc,
            qPrintable(QStringLiteral("round %1 (%2 cuts): %3 fen + %4, expected %5 fen + %6")
                           .arg(round)
                           .arg(n)
                           .arg(o.fen)
                           .arg(o.rem.units)
                           .arg(once.fen)
                           .arg(once.rem.units)));
    }
}

// ---- splitByTime ------------------------------------------------------------------------------

void TestRating::splitByTimeOverAWeekend()
{
    // Friday 9 January 00:00 → Monday 12 January 00:00 (no calendar overrides): one workday and
    // two weekend days.
    //   workday: sharp 120, peak 300, flat 120 + 180 + 120 = 420, valley 480 + 120 = 600 minutes
    //   weekend: flat 840, valley 600 minutes (each)
    //   sum: sharp 120, peak 300, flat 2100, valley 1800 = 4320 minutes.
    // With 4320 Wh every minute is worth 1 Wh exactly.
    const Slots s
        = splitByTime(touVersion(), newYearCalendar(), shanghai(), at(2026, 1, 9, 0), at(2026, 1, 12, 0), 4320);
    QCOMPARE(s, (Slots{120, 300, 2100, 1800}));
    // The same three days starting on 2 January: holiday, holiday (Saturday), worked Sunday.
    const Slots h
        = splitByTime(touVersion(), newYearCalendar(), shanghai(), at(2026, 1, 2, 0), at(2026, 1, 5, 0), 4320);
    QCOMPARE(h, (Slots{120, 300, 2100, 1800}));
    // Non-TOU kinds put everything in flat.
    QCOMPARE(splitByTime(flatVersion(), Calendar(), shanghai(), at(2026, 1, 9, 0), at(2026, 1, 12, 0), 4321),
        (Slots{0, 0, 4321, 0}));
}

void TestRating::splitByTimeTiesGoToTheLowerSlot()
{
    // Every day: 00–12 sharp, 12–24 peak. A whole day with 3 Wh: 1.5 each; floors 1 + 1, the
    // remainders tie, the lower slot (sharp) gets the last Wh.
    TariffVersion half = baseVersion(5, 5, QStringLiteral("HALF"), TariffKind::Tou);
    half.prices = {price(2), price(1), price(1), price(1)};
    for (auto &day : half.schedule)
        day = segments({{0, Slot::Sharp}, {720, Slot::Peak}});
    QVERIFY(versionProblem(half).isEmpty());
    QCOMPARE(splitByTime(half, Calendar(), shanghai(), at(2026, 1, 5, 0), at(2026, 1, 6, 0), 3), (Slots{2, 1, 0, 0}));

    // 00–08 sharp, 08–16 peak, 16–24 flat: a third each.
    //   2 Wh: floors 0, 0, 0, remainders equal → sharp, then peak.
    //   5 Wh: floors 1, 1, 1, two left → sharp, peak.
    TariffVersion thirds = half;
    for (auto &day : thirds.schedule)
        day = segments({{0, Slot::Sharp}, {480, Slot::Peak}, {960, Slot::Flat}});
    QCOMPARE(splitByTime(thirds, Calendar(), shanghai(), at(2026, 1, 5, 0), at(2026, 1, 6, 0), 2), (Slots{1, 1, 0, 0}));
    QCOMPARE(splitByTime(thirds, Calendar(), shanghai(), at(2026, 1, 5, 0), at(2026, 1, 6, 0), 5), (Slots{2, 2, 1, 0}));
    // Shifted so that the tie is between peak and flat (08:00 → 24:00): peak gets it.
    QCOMPARE(splitByTime(thirds, Calendar(), shanghai(), at(2026, 1, 5, 8), at(2026, 1, 6, 0), 1), (Slots{0, 1, 0, 0}));
}

void TestRating::splitByTimeLargestRemainder()
{
    // Monday 09:30 → 10:45: flat 30 min, sharp 45 min of 75; 10 Wh:
    //   sharp 10 × 45/75 = 6 exactly, flat 10 × 30/75 = 4 exactly.
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), at(2026, 1, 5, 9, 30), at(2026, 1, 5, 10, 45), 10),
        (Slots{6, 0, 4, 0}));
    // 11 Wh: sharp 495/75 = 6 rem 45, flat 330/75 = 4 rem 30 → the extra Wh to sharp: 7 + 4.
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), at(2026, 1, 5, 9, 30), at(2026, 1, 5, 10, 45), 11),
        (Slots{7, 0, 4, 0}));
    // 13 Wh: sharp 585/75 = 7 rem 60, flat 390/75 = 5 rem 15 → 8 + 5.
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), at(2026, 1, 5, 9, 30), at(2026, 1, 5, 10, 45), 13),
        (Slots{8, 0, 5, 0}));
    // To the millisecond: 09:59:59.999 → 10:00:00.001 is 1 ms flat, 1 ms sharp; 1 Wh ties → sharp.
    const qint64 ten = at(2026, 1, 5, 10);
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), ten - 1, ten + 1, 1), (Slots{1, 0, 0, 0}));
    // 09:59:59.998 → 10:00:00.001: flat 2 ms, sharp 1 ms; 1 Wh → flat.
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), ten - 2, ten + 1, 1), (Slots{0, 0, 1, 0}));
}

void TestRating::splitByTimeEmptyInterval()
{
    // No time passed (or the clock went back): everything to the slot in force at toMs.
    const qint64 t = at(2026, 1, 5, 10, 30); // workday, sharp
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), t, t, 40), (Slots{40, 0, 0, 0}));
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), t + kMinuteMs, t, 40), (Slots{40, 0, 0, 0}));
    QCOMPARE(
        splitByTime(touVersion(), newYearCalendar(), shanghai(), at(2026, 1, 1, 10, 30), at(2026, 1, 1, 10, 30), 40),
        (Slots{0, 0, 40, 0}));
    QCOMPARE(splitByTime(touVersion(), Calendar(), shanghai(), t, t + kMinuteMs, 0), (Slots{}));
}

void TestRating::splitByTimeMatchesAMinuteCount()
{
    // Minute-aligned random intervals of up to four days around New Year and the Spring
    // Festival: the parts add up to the total exactly, and each is the floor or the ceiling of
    // its exact share of the minutes counted one by one.
    const TariffVersion v = touVersion();
    Calendar cal = newYearCalendar();
    cal.set(QDate(2026, 2, 14), DayType::Workday);
    for (int d = 15; d <= 23; ++d)
        cal.set(QDate(2026, 2, d), DayType::Holiday);
    const qint64 base = at(2025, 12, 29, 0);
    QRandomGenerator rng(fixedSeed());
    for (int round = 0; round < 300; ++round) {
        const qint64 from = base + rng.bounded(0, 60 * 24 * 60) * kMinuteMs;
        const qint64 to = from + rng.bounded(1, 4 * 24 * 60) * kMinuteMs;
        const qint64 total = rng.bounded(0, 2'000'000);
        const Slots parts = splitByTime(v, cal, shanghai(), from, to, total);
        const Slots minutes = minutesPerSlot(v, cal, from, to);
        const qint64 allMinutes = (to - from) / kMinuteMs;
        qint64 sum = 0;
        for (size_t s = 0; s < 4; ++s) {
            sum += parts[s];
            const qint64 floor = total * minutes[s] / allMinutes;
            const bool exact = total * minutes[s] % allMinutes == 0;
            QVERIFY2(parts[s] == floor || (!exact && parts[s] == floor + 1),
                qPrintable(QStringLiteral("round %1: %2 from %3 minutes")
                               .arg(round)
                               .arg(QString::fromLatin1(slotsText(parts)), QString::fromLatin1(slotsText(minutes)))));
        }
        QCOMPARE(sum, total);
    }
}

// ---- Loading ----------------------------------------------------------------------------------

void TestRating::loadTheDemoTariffs()
{
    openDemoStore();
    auto db = reader();
    QVERIFY(db);
    TariffBook book;
    QString error;
    QVERIFY2(TariffBook::load(*db, &book, &error), qPrintable(error));
    QCOMPARE(book.versionCount(), 3);
    QCOMPARE(book.timeZone().id(), QByteArrayLiteral("Asia/Shanghai"));

    const TariffVersion *tou = book.version(1);
    QVERIFY(tou);
    QCOMPARE(tou->tariffCode, QStringLiteral("TOU-COM"));
    QCOMPARE(tou->kind, TariffKind::Tou);
    QCOMPARE(tou->effectiveDate, QDate(2025, 6, 1));
    QCOMPARE(tou->price(Slot::Sharp), price(12100));
    QCOMPARE(tou->price(Slot::Valley), price(3100));
    QCOMPARE(tou->schedule[size_t(DayType::Workday)].size(), 7);
    QCOMPARE(tou->schedule[size_t(DayType::Weekend)].size(), 3);
    QCOMPARE(tou->slotAt(DayType::Workday, 600), Slot::Sharp);
    QCOMPARE(tou->slotAt(DayType::Holiday, 600), Slot::Flat);
    QVERIFY(!tou->tierPeriod);
    QVERIFY(!tou->standingCharge);
    // The loaded version prices like the hand-built one.
    const IntervalEnergy e = interval(at(2026, 1, 5, 21), at(2026, 1, 6, 9), 1000);
    QCOMPARE(rate(*tou, book.calendar(), book.timeZone(), e, {}, {}).amount, Money::fromFen(36));

    const TariffVersion *flat = book.version(2);
    QVERIFY(flat);
    QCOMPARE(flat->tariffCode, QStringLiteral("FLAT-COM"));
    QCOMPARE(flat->kind, TariffKind::Flat);
    QCOMPARE(flat->price(Slot::Peak), price(8500));

    const TariffVersion *tiered = book.version(3);
    QVERIFY(tiered);
    QCOMPARE(tiered->tariffCode, QStringLiteral("TIER-SMALL"));
    QCOMPARE(tiered->kind, TariffKind::Tiered);
    QCOMPARE(tiered->tierPeriod, TierPeriod::Month);
    QCOMPARE(tiered->tiers.size(), 3);
    QCOMPARE(tiered->tiers[0].upperBoundWh, std::optional<qint64>(500'000));
    QCOMPARE(tiered->tiers[1].adder, price(500));
    QVERIFY(!tiered->tiers[2].upperBoundWh);

    // The demo calendar.
    QCOMPARE(book.calendar().dayType(QDate(2026, 1, 1)), DayType::Holiday);
    QCOMPARE(book.calendar().dayType(QDate(2026, 1, 4)), DayType::Workday);
    QCOMPARE(book.calendar().dayType(QDate(2026, 2, 14)), DayType::Workday);
    QCOMPARE(book.calendar().dayType(QDate(2026, 1, 10)), DayType::Weekend);

    // Assignments: a basement point is on FLAT-COM by its own assignment, an office on floor 5
    // of building B on TIER-SMALL and a shop of building A on TOU-COM through their accounts.
    auto pointAndAccount = [&db](const QString &where) {
        store::Statement s = db->prepare(QStringLiteral("SELECT mp.id, coalesce(a.id, 0) FROM metering_points mp "
                                                        "  LEFT JOIN accounts a ON a.shop_no = mp.code WHERE ")
            + where + QStringLiteral(" ORDER BY mp.id LIMIT 1"));
        if (s.step() != store::Statement::Step::Row) {
            qWarning("%s", qPrintable(s.error().toString()));
            return std::pair<qint64, qint64>{0, 0};
        }
        return std::pair<qint64, qint64>{s.int64(0), s.int64(1)};
    };
    const auto basement = pointAndAccount(QStringLiteral("mp.building_id = 3"));
    const auto office = pointAndAccount(QStringLiteral("mp.building_id = 2 AND mp.floor = 5 AND a.id IS NOT NULL"));
    const auto shop = pointAndAccount(QStringLiteral("mp.building_id = 1 AND a.id IS NOT NULL"));
    QVERIFY(basement.first != 0 && office.first != 0 && shop.first != 0);
    const QDate day(2026, 1, 5);
    QVERIFY(book.versionFor(basement.first, basement.second, day));
    QCOMPARE(book.versionFor(basement.first, basement.second, day)->id, 2);
    QVERIFY(book.versionFor(office.first, office.second, day));
    QCOMPARE(book.versionFor(office.first, office.second, day)->id, 3);
    QVERIFY(book.versionFor(shop.first, shop.second, day));
    QCOMPARE(book.versionFor(shop.first, shop.second, day)->id, 1);
    QVERIFY(!book.versionFor(shop.first, shop.second, QDate(2025, 5, 31)));
}

void TestRating::loadRefusesATouVersionWithoutWeekendSegments()
{
    openDemoStore();
    QVERIFY(test::runScript(*m_store, QStringLiteral(R"(
        INSERT INTO tariffs (id, code, name, created_at_ms) VALUES (10, 'TOU-BROKEN', 'broken', 0);
        INSERT INTO tariff_versions (id, tariff_id, version, effective_date, kind,
                                     price_sharp, price_peak, price_flat, price_valley, created_at_ms)
            VALUES (10, 10, 2, '2026-01-01', 'tou', 12100, 9800, 6500, 3100, 0);
        INSERT INTO tariff_day_segments (tariff_version_id, day_type, start_minute, slot) VALUES
            (10, 'workday', 0, 'valley'), (10, 'workday', 480, 'flat'), (10, 'holiday', 0, 'flat');
    )")));
    auto db = reader();
    TariffBook book;
    book.addVersion(flatVersion()); // untouched by a failed load
    QString error;
    QVERIFY(!TariffBook::load(*db, &book, &error));
    QCOMPARE(error, QStringLiteral("tariff TOU-BROKEN v2 (version id 10) is not usable: has no weekend segments"));
    QCOMPARE(book.versionCount(), 1);
}

void TestRating::loadRefusesABoundedLastTier()
{
    openDemoStore();
    QVERIFY(test::runScript(*m_store, QStringLiteral(R"(
        INSERT INTO tariffs (id, code, name, created_at_ms) VALUES (11, 'TIER-BROKEN', 'broken', 0);
        INSERT INTO tariff_versions (id, tariff_id, version, effective_date, kind,
                                     price_sharp, price_peak, price_flat, price_valley, tier_period, created_at_ms)
            VALUES (11, 11, 1, '2026-01-01', 'tiered', 7000, 7000, 7000, 7000, 'year', 0);
        INSERT INTO tariff_tiers (tariff_version_id, tier_no, upper_bound_wh, price_adder) VALUES
            (11, 1, 500000, 0), (11, 2, 900000, 500);
    )")));
    auto db = reader();
    TariffBook book;
    QString error;
    QVERIFY(!TariffBook::load(*db, &book, &error));
    QVERIFY2(error.startsWith(QStringLiteral("tariff TIER-BROKEN v1 (version id 11) is not usable: last tier (2)")),
        qPrintable(error));

    // A gap in the tier numbers is refused too.
    QVERIFY(test::runScript(*m_store,
        QStringLiteral("DELETE FROM tariff_tiers WHERE tariff_version_id = 11; "
                       "INSERT INTO tariff_tiers VALUES (11, 1, 500000, 0), (11, 3, NULL, 500);")));
    QVERIFY(!TariffBook::load(*db, &book, &error));
    QVERIFY2(
        error.contains(QStringLiteral("TIER-BROKEN v1")) && error.contains(QStringLiteral("tier 3 follows tier 1")),
        qPrintable(error));
}

void TestRating::loadRefusesAnUnknownTimeZone()
{
    openDemoStore();
    QVERIFY(test::runScript(
        *m_store, QStringLiteral("UPDATE settings SET value = 'Mars/Olympus' WHERE key = 'site.time_zone'")));
    auto db = reader();
    TariffBook book;
    QString error;
    QVERIFY(!TariffBook::load(*db, &book, &error));
    QVERIFY2(error.contains(QStringLiteral("Mars/Olympus")), qPrintable(error));

    // A missing row means the default zone.
    QVERIFY(test::runScript(*m_store, QStringLiteral("DELETE FROM settings WHERE key = 'site.time_zone'")));
    QVERIFY2(TariffBook::load(*db, &book, &error), qPrintable(error));
    QCOMPARE(book.timeZone().id(), QByteArrayLiteral("Asia/Shanghai"));
}

QTEST_GUILESS_MAIN(TestRating)
#include "tst_rating.moc"
