#include "tariff.h"

#include "billinglog.h"

#include "api/check.h"
#include "store/sqlite.h"

#include <QtCore/QDateTime>

namespace prepay::billing {

namespace {

constexpr std::array<Slot, 4> kSlots = {Slot::Sharp, Slot::Peak, Slot::Flat, Slot::Valley};
constexpr std::array<DayType, 3> kDayTypes = {DayType::Workday, DayType::Weekend, DayType::Holiday};

const QString &defaultTimeZoneId()
{
    static const QString id = QStringLiteral("Asia/Shanghai");
    return id;
}

// The latest entry of `byDate` with a date <= day; nullopt when every entry is later.
std::optional<qint64> latestOnOrBefore(const std::map<QDate, qint64> &byDate, QDate day)
{
    auto it = byDate.upper_bound(day);
    if (it == byDate.begin())
        return std::nullopt;
    --it;
    return it->second;
}

QString segmentsProblem(const TariffVersion &v)
{
    if (!v.isTou()) {
        for (DayType d : kDayTypes) {
            if (!v.schedule[size_t(d)].isEmpty())
                return QStringLiteral("has %1 day segments but is not a TOU kind").arg(dayTypeCode(d));
        }
        return {};
    }
    for (DayType d : kDayTypes) {
        const QList<DaySegment> &segments = v.schedule[size_t(d)];
        if (segments.isEmpty())
            return QStringLiteral("has no %1 segments").arg(dayTypeCode(d));
        if (segments.size() > TariffLimits::segmentsPerDayMax) {
            return QStringLiteral("has %1 %2 segments; a meter holds at most %3")
                .arg(segments.size())
                .arg(dayTypeCode(d))
                .arg(TariffLimits::segmentsPerDayMax);
        }
        if (segments.first().startMinute != 0) {
            return QStringLiteral("%1 schedule starts at minute %2, not at 0")
                .arg(dayTypeCode(d))
                .arg(segments.first().startMinute);
        }
        for (qsizetype i = 1; i < segments.size(); ++i) {
            const int start = segments[i].startMinute;
            if (start <= segments[i - 1].startMinute || start >= TariffLimits::minutesPerDay) {
                return QStringLiteral("%1 segment %2 starts at minute %3: starts must ascend below %4")
                    .arg(dayTypeCode(d))
                    .arg(i + 1)
                    .arg(start)
                    .arg(TariffLimits::minutesPerDay);
            }
        }
    }
    return {};
}

QString tiersProblem(const TariffVersion &v)
{
    if (!v.isTiered()) {
        if (v.tierPeriod)
            return QStringLiteral("has a tier period but is not a tiered kind");
        if (!v.tiers.isEmpty())
            return QStringLiteral("has tiers but is not a tiered kind");
        return {};
    }
    if (!v.tierPeriod)
        return QStringLiteral("is tiered but has no tier period");
    if (v.tiers.isEmpty())
        return QStringLiteral("is tiered but has no tiers");
    if (v.tiers.size() > TariffLimits::tiersMax)
        return QStringLiteral("has %1 tiers; at most %2 are allowed").arg(v.tiers.size()).arg(TariffLimits::tiersMax);
    qint64 previousBound = 0;
    for (qsizetype i = 0; i < v.tiers.size(); ++i) {
        const Tier &t = v.tiers[i];
        const bool last = i == v.tiers.size() - 1;
        if (t.adder.tenThousandthYuan() < 0)
            return QStringLiteral("tier %1 has a negative adder").arg(i + 1);
        if (last) {
            if (t.upperBoundWh)
                return QStringLiteral("last tier (%1) has an upper bound; the last tier must be unbounded").arg(i + 1);
            break;
        }
        if (!t.upperBoundWh)
            return QStringLiteral("tier %1 is unbounded but is not the last tier").arg(i + 1);
        if (*t.upperBoundWh <= previousBound) {
            return QStringLiteral("tier %1 bound %2 Wh does not ascend (previous %3 Wh)")
                .arg(i + 1)
                .arg(*t.upperBoundWh)
                .arg(previousBound);
        }
        previousBound = *t.upperBoundWh;
    }
    return {};
}

bool readTimeZone(store::Connection &db, QTimeZone *tz, QString *error)
{
    store::Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = 'site.time_zone'"));
    QString id = defaultTimeZoneId();
    switch (s.step()) {
    case store::Statement::Step::Done: break;
    case store::Statement::Step::Error:
        *error = QStringLiteral("cannot read setting site.time_zone: %1").arg(s.error().toString());
        return false;
    case store::Statement::Step::Row: id = s.text(0); break;
    }
    const QTimeZone zone(id.toUtf8());
    if (!zone.isValid()) {
        *error = QStringLiteral("setting site.time_zone is '%1', not a time zone known here").arg(id);
        return false;
    }
    *tz = zone;
    return true;
}

QDate parseDate(const QString &text)
{
    return QDate::fromString(text, Qt::ISODate);
}

} // namespace

// ---- Codes ------------------------------------------------------------------------------------

QString slotCode(Slot slot)
{
    switch (slot) {
    case Slot::Sharp: return QStringLiteral("sharp");
    case Slot::Peak: return QStringLiteral("peak");
    case Slot::Flat: return QStringLiteral("flat");
    case Slot::Valley: return QStringLiteral("valley");
    }
    Q_UNREACHABLE();
}

std::optional<Slot> slotFromCode(QStringView code)
{
    for (Slot s : kSlots) {
        if (code == slotCode(s))
            return s;
    }
    return std::nullopt;
}

QString dayTypeCode(DayType type)
{
    switch (type) {
    case DayType::Workday: return QStringLiteral("workday");
    case DayType::Weekend: return QStringLiteral("weekend");
    case DayType::Holiday: return QStringLiteral("holiday");
    }
    Q_UNREACHABLE();
}

std::optional<DayType> dayTypeFromCode(QStringView code)
{
    for (DayType d : kDayTypes) {
        if (code == dayTypeCode(d))
            return d;
    }
    return std::nullopt;
}

QString tariffKindCode(TariffKind kind)
{
    switch (kind) {
    case TariffKind::Flat: return QStringLiteral("flat");
    case TariffKind::Tou: return QStringLiteral("tou");
    case TariffKind::Tiered: return QStringLiteral("tiered");
    case TariffKind::TouTiered: return QStringLiteral("tou_tiered");
    }
    Q_UNREACHABLE();
}

std::optional<TariffKind> tariffKindFromCode(QStringView code)
{
    for (TariffKind k : {TariffKind::Flat, TariffKind::Tou, TariffKind::Tiered, TariffKind::TouTiered}) {
        if (code == tariffKindCode(k))
            return k;
    }
    return std::nullopt;
}

QString tierPeriodCode(TierPeriod period)
{
    switch (period) {
    case TierPeriod::Month: return QStringLiteral("month");
    case TierPeriod::Year: return QStringLiteral("year");
    }
    Q_UNREACHABLE();
}

std::optional<TierPeriod> tierPeriodFromCode(QStringView code)
{
    for (TierPeriod p : {TierPeriod::Month, TierPeriod::Year}) {
        if (code == tierPeriodCode(p))
            return p;
    }
    return std::nullopt;
}

QString tierPeriodKey(TierPeriod period, QDate day)
{
    PREPAY_CHECK(day.isValid());
    switch (period) {
    case TierPeriod::Month: return day.toString(QStringLiteral("yyyy-MM"));
    case TierPeriod::Year: return day.toString(QStringLiteral("yyyy"));
    }
    Q_UNREACHABLE();
}

QString standingPeriodCode(StandingPeriod period)
{
    switch (period) {
    case StandingPeriod::Day: return QStringLiteral("day");
    case StandingPeriod::Month: return QStringLiteral("month");
    }
    Q_UNREACHABLE();
}

std::optional<StandingPeriod> standingPeriodFromCode(QStringView code)
{
    for (StandingPeriod p : {StandingPeriod::Day, StandingPeriod::Month}) {
        if (code == standingPeriodCode(p))
            return p;
    }
    return std::nullopt;
}

// ---- TariffVersion ----------------------------------------------------------------------------

Slot TariffVersion::slotAt(DayType day, int minuteOfDay) const
{
    PREPAY_CHECK(minuteOfDay >= 0 && minuteOfDay < TariffLimits::minutesPerDay);
    if (!isTou())
        return Slot::Flat;
    Slot slot = Slot::Flat; // an empty schedule never passes versionProblem()
    for (const DaySegment &segment : schedule[size_t(day)]) {
        if (segment.startMinute > minuteOfDay)
            break;
        slot = segment.slot;
    }
    return slot;
}

QString TariffVersion::label() const
{
    return QStringLiteral("%1 v%2 (version id %3)").arg(tariffCode).arg(version).arg(id);
}

QString versionProblem(const TariffVersion &v)
{
    if (!v.effectiveDate.isValid())
        return QStringLiteral("has no valid effective date");
    for (Slot s : kSlots) {
        if (v.price(s).tenThousandthYuan() <= 0)
            return QStringLiteral("%1 price is not positive").arg(slotCode(s));
    }
    if (!v.isTou()) {
        for (Slot s : kSlots) {
            if (v.price(s) != v.price(Slot::Flat))
                return QStringLiteral("is %1 but its four slot prices differ").arg(tariffKindCode(v.kind));
        }
    }
    if (QString p = segmentsProblem(v); !p.isEmpty())
        return p;
    if (QString p = tiersProblem(v); !p.isEmpty())
        return p;
    if (v.standingCharge.has_value() != v.standingPeriod.has_value())
        return QStringLiteral("has a standing charge without a period, or a period without a charge");
    if (v.standingCharge && v.standingCharge->fen() <= 0)
        return QStringLiteral("has a standing charge that is not positive");
    return {};
}

// ---- Calendar ---------------------------------------------------------------------------------

void Calendar::set(QDate day, DayType type)
{
    PREPAY_CHECK(day.isValid());
    m_overrides.insert(day, type);
}

DayType Calendar::dayType(QDate day) const
{
    PREPAY_CHECK(day.isValid());
    if (auto it = m_overrides.constFind(day); it != m_overrides.cend())
        return it.value();
    const int weekday = day.dayOfWeek();
    return weekday == Qt::Saturday || weekday == Qt::Sunday ? DayType::Weekend : DayType::Workday;
}

QDate localDateAt(const QTimeZone &tz, qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, tz).date();
}

int localMinuteAt(const QTimeZone &tz, qint64 ms)
{
    const QTime t = QDateTime::fromMSecsSinceEpoch(ms, tz).time();
    return t.hour() * 60 + t.minute();
}

// ---- TariffBook -------------------------------------------------------------------------------

TariffBook::TariffBook()
    : m_timeZone(defaultTimeZoneId().toUtf8())
{ }

void TariffBook::addVersion(TariffVersion v)
{
    PREPAY_CHECK(v.effectiveDate.isValid());
    PREPAY_CHECK(!m_versions.contains(v.id));
    auto &byDate = m_versionsByTariff[v.tariffId];
    PREPAY_CHECK(!byDate.contains(v.effectiveDate));
    byDate.emplace(v.effectiveDate, v.id);
    const qint64 id = v.id;
    m_versions.emplace(id, std::move(v));
}

void TariffBook::assignToAccount(qint64 accountId, qint64 tariffId, QDate from)
{
    PREPAY_CHECK(accountId != 0 && from.isValid());
    auto &byDate = m_accountAssignments[accountId];
    PREPAY_CHECK(!byDate.contains(from)); // one assignment per account and date (unique index)
    byDate.emplace(from, tariffId);
}

void TariffBook::assignToPoint(qint64 pointId, qint64 tariffId, QDate from)
{
    PREPAY_CHECK(from.isValid());
    auto &byDate = m_pointAssignments[pointId];
    PREPAY_CHECK(!byDate.contains(from)); // one assignment per point and date (unique index)
    byDate.emplace(from, tariffId);
}

void TariffBook::setTimeZone(const QTimeZone &tz)
{
    PREPAY_CHECK(tz.isValid());
    m_timeZone = tz;
}

const TariffVersion *TariffBook::versionFor(qint64 pointId, qint64 accountId, QDate day) const
{
    std::optional<qint64> tariffId;
    if (auto it = m_pointAssignments.find(pointId); it != m_pointAssignments.end())
        tariffId = latestOnOrBefore(it->second, day);
    if (!tariffId && accountId != 0) {
        if (auto it = m_accountAssignments.find(accountId); it != m_accountAssignments.end())
            tariffId = latestOnOrBefore(it->second, day);
    }
    if (!tariffId)
        return nullptr;
    const auto versions = m_versionsByTariff.find(*tariffId);
    if (versions == m_versionsByTariff.end())
        return nullptr;
    const std::optional<qint64> versionId = latestOnOrBefore(versions->second, day);
    return versionId ? version(*versionId) : nullptr;
}

const TariffVersion *TariffBook::version(qint64 versionId) const
{
    const auto it = m_versions.find(versionId);
    return it == m_versions.end() ? nullptr : &it->second;
}

bool TariffBook::load(store::Connection &db, TariffBook *book, QString *error)
{
    PREPAY_CHECK(book);
    QString ignored;
    if (!error)
        error = &ignored;

    TariffBook b;
    QTimeZone tz;
    if (!readTimeZone(db, &tz, error))
        return false;
    b.setTimeZone(tz);

    // Versions first, keyed by id, so that segments and tiers can be attached to them; they go
    // into the book only once complete and checked.
    std::map<qint64, TariffVersion> versions;
    {
        store::Statement s = db.prepare(
            QStringLiteral("SELECT v.id, v.tariff_id, t.code, v.version, v.effective_date, v.kind, "
                           "       v.price_sharp, v.price_peak, v.price_flat, v.price_valley, v.tier_period, "
                           "       v.standing_charge_fen, v.standing_charge_period "
                           "  FROM tariff_versions v JOIN tariffs t ON t.id = v.tariff_id "
                           " ORDER BY v.id"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            TariffVersion v;
            v.id = s.int64(0);
            v.tariffId = s.int64(1);
            v.tariffCode = s.text(2);
            v.version = int(s.int64(3));
            v.effectiveDate = parseDate(s.text(4));
            const std::optional<TariffKind> kind = tariffKindFromCode(s.text(5));
            if (!kind) {
                *error = QStringLiteral("tariff %1: unknown kind '%2'").arg(v.label(), s.text(5));
                return false;
            }
            v.kind = *kind;
            for (int i = 0; i < TariffLimits::slotCount; ++i)
                v.prices[size_t(i)] = Price::fromTenThousandthYuan(s.int64(6 + i));
            if (!s.isNull(10)) {
                v.tierPeriod = tierPeriodFromCode(s.text(10));
                if (!v.tierPeriod) {
                    *error = QStringLiteral("tariff %1: unknown tier period '%2'").arg(v.label(), s.text(10));
                    return false;
                }
            }
            if (!s.isNull(11))
                v.standingCharge = Money::fromFen(s.int64(11));
            if (!s.isNull(12)) {
                v.standingPeriod = standingPeriodFromCode(s.text(12));
                if (!v.standingPeriod) {
                    *error
                        = QStringLiteral("tariff %1: unknown standing charge period '%2'").arg(v.label(), s.text(12));
                    return false;
                }
            }
            versions.emplace(v.id, std::move(v));
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the tariff versions: %1").arg(s.error().toString());
            return false;
        }
    }

    {
        store::Statement s = db.prepare(
            QStringLiteral("SELECT tariff_version_id, day_type, start_minute, slot FROM tariff_day_segments "
                           " ORDER BY tariff_version_id, day_type, start_minute"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            const auto it = versions.find(s.int64(0));
            if (it == versions.end()) {
                *error = QStringLiteral("day segments of unknown tariff version id %1").arg(s.int64(0));
                return false;
            }
            TariffVersion &v = it->second;
            const std::optional<DayType> day = dayTypeFromCode(s.text(1));
            const std::optional<Slot> slot = slotFromCode(s.text(3));
            if (!day || !slot) {
                *error = QStringLiteral("tariff %1: day segment with unknown day type '%2' or slot '%3'")
                             .arg(v.label(), s.text(1), s.text(3));
                return false;
            }
            DaySegment segment;
            segment.startMinute = int(s.int64(2));
            segment.slot = *slot;
            v.schedule[size_t(*day)].append(segment);
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the tariff day segments: %1").arg(s.error().toString());
            return false;
        }
    }

    {
        store::Statement s = db.prepare(
            QStringLiteral("SELECT tariff_version_id, tier_no, upper_bound_wh, price_adder FROM tariff_tiers "
                           " ORDER BY tariff_version_id, tier_no"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            const auto it = versions.find(s.int64(0));
            if (it == versions.end()) {
                *error = QStringLiteral("tiers of unknown tariff version id %1").arg(s.int64(0));
                return false;
            }
            TariffVersion &v = it->second;
            // Tiers are numbered 1..n without gaps: a gap would be a tier nobody priced.
            if (s.int64(1) != v.tiers.size() + 1) {
                *error = QStringLiteral("tariff %1 is not usable: tier %2 follows tier %3")
                             .arg(v.label())
                             .arg(s.int64(1))
                             .arg(v.tiers.size());
                return false;
            }
            Tier tier;
            if (!s.isNull(2))
                tier.upperBoundWh = s.int64(2);
            tier.adder = Price::fromTenThousandthYuan(s.int64(3));
            v.tiers.append(tier);
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the tariff tiers: %1").arg(s.error().toString());
            return false;
        }
    }

    for (auto &[id, v] : versions) {
        if (const QString problem = versionProblem(v); !problem.isEmpty()) {
            *error = QStringLiteral("tariff %1 is not usable: %2").arg(v.label(), problem);
            return false;
        }
        b.addVersion(std::move(v));
    }

    {
        store::Statement s = db.prepare(QStringLiteral("SELECT day, day_type FROM calendar_days ORDER BY day"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            const QDate day = parseDate(s.text(0));
            const std::optional<DayType> type = dayTypeFromCode(s.text(1));
            if (!day.isValid() || !type) {
                *error = QStringLiteral("calendar day '%1' has an unusable date or day type '%2'")
                             .arg(s.text(0), s.text(1));
                return false;
            }
            b.m_calendar.set(day, *type);
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the calendar days: %1").arg(s.error().toString());
            return false;
        }
    }

    {
        store::Statement s
            = db.prepare(QStringLiteral("SELECT id, tariff_id, account_id, metering_point_id, effective_date "
                                        "  FROM tariff_assignments ORDER BY id"));
        store::Statement::Step step;
        while ((step = s.step()) == store::Statement::Step::Row) {
            const qint64 tariffId = s.int64(1);
            const QDate from = parseDate(s.text(4));
            if (!from.isValid()) {
                *error = QStringLiteral("tariff assignment %1 has an unusable effective date '%2'")
                             .arg(s.int64(0))
                             .arg(s.text(4));
                return false;
            }
            // The schema's unique indexes rule out two assignments of one holder on one date.
            if (!s.isNull(3))
                b.assignToPoint(s.int64(3), tariffId, from);
            else
                b.assignToAccount(s.int64(2), tariffId, from);
        }
        if (step == store::Statement::Step::Error) {
            *error = QStringLiteral("cannot read the tariff assignments: %1").arg(s.error().toString());
            return false;
        }
    }

    qCDebug(lcBilling) << "tariff book:" << b.m_versions.size() << "versions in" << b.m_timeZone.id();
    *book = std::move(b);
    return true;
}

} // namespace prepay::billing
