#include "rating.h"

#include "api/check.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonDocument>

#include <limits>

namespace prepay::billing {

namespace {

// Products of an energy and a duration in milliseconds can pass 2^63 (a year of ms is 3.2e10):
// the allocation divides them in 128 bits. __extension__ tells -Wpedantic we mean it.
__extension__ typedef __int128 Wide;

constexpr std::array<Slot, 4> kSlots = {Slot::Sharp, Slot::Peak, Slot::Flat, Slot::Valley};
constexpr qint64 kMinuteMs = 60'000;

// Splits `total` in proportion to `weights` (all >= 0, sum > 0), exactly: floors first, then
// one unit each to the largest remainders, ties to the lower index.
std::array<qint64, 4> allocate(qint64 total, const std::array<qint64, 4> &weights)
{
    Wide sum = 0;
    for (qint64 w : weights) {
        PREPAY_CHECK(w >= 0);
        sum += w;
    }
    PREPAY_CHECK(sum > 0 && total >= 0);
    std::array<qint64, 4> parts{};
    std::array<Wide, 4> remainders{};
    qint64 left = total;
    for (size_t i = 0; i < parts.size(); ++i) {
        const Wide product = Wide(total) * weights[i];
        parts[i] = qint64(product / sum);
        remainders[i] = product % sum;
        left -= parts[i];
    }
    // Fewer units are left than slots with a remainder (each remainder is < sum, and the
    // remainders add up to left × sum), so every unit finds a slot.
    PREPAY_CHECK(left >= 0 && left < qint64(parts.size()));
    for (; left > 0; --left) {
        size_t best = 0;
        for (size_t i = 1; i < parts.size(); ++i) {
            if (remainders[i] > remainders[best])
                best = i;
        }
        PREPAY_CHECK(remainders[best] > 0);
        ++parts[best];
        remainders[best] = -1;
    }
    return parts;
}

// The slot in force at local `minute` of a day of type `day`, and the minute its segment ends
// (the next segment's start, or 1440 = midnight).
struct SegmentAt
{
    Slot slot = Slot::Flat;
    int endMinute = TariffLimits::minutesPerDay;
};

SegmentAt segmentAt(const TariffVersion &v, DayType day, int minute)
{
    SegmentAt at;
    if (!v.isTou())
        return at;
    for (const DaySegment &segment : v.schedule[size_t(day)]) {
        if (segment.startMinute > minute) {
            at.endMinute = segment.startMinute;
            break;
        }
        at.slot = segment.slot;
    }
    return at;
}

Slot slotAtInstant(const TariffVersion &v, const Calendar &cal, const QTimeZone &tz, qint64 ms)
{
    const QDateTime local = QDateTime::fromMSecsSinceEpoch(ms, tz);
    const QTime t = local.time();
    return v.slotAt(cal.dayType(local.date()), t.hour() * 60 + t.minute());
}

QString tierName(qsizetype index)
{
    return QStringLiteral("tier%1").arg(index + 1);
}

void addLine(Rated &r, const QString &what, qint64 energyWh, Price price, Remainder &remainder)
{
    if (energyWh == 0)
        return;
    ChargeLine line;
    line.what = what;
    line.energyWh = energyWh;
    line.price = price;
    line.units = checked::mul(energyWh, price.tenThousandthYuan());
    r.amount += cost(Energy::fromWh(energyWh), price, remainder);
    r.lines.append(line);
}

} // namespace

std::array<qint64, 4> splitByTime(
    const TariffVersion &v, const Calendar &cal, const QTimeZone &tz, qint64 fromMs, qint64 toMs, qint64 totalWh)
{
    PREPAY_CHECK(totalWh >= 0);
    std::array<qint64, 4> result{};
    if (toMs <= fromMs) {
        result[size_t(slotAtInstant(v, cal, tz, toMs))] = totalWh;
        return result;
    }

    // Walk the interval segment by segment: from the cursor to the end of the segment it is in
    // (or to toMs), adding the milliseconds to that segment's slot.
    std::array<qint64, 4> spentMs{};
    qint64 cursor = fromMs;
    while (cursor < toMs) {
        const QDateTime local = QDateTime::fromMSecsSinceEpoch(cursor, tz);
        const QDate date = local.date();
        const QTime time = local.time();
        const SegmentAt at = segmentAt(v, cal.dayType(date), time.hour() * 60 + time.minute());
        const QDateTime end = at.endMinute == TariffLimits::minutesPerDay
            ? QDateTime(date.addDays(1), QTime(0, 0), tz)
            : QDateTime(date, QTime(at.endMinute / 60, at.endMinute % 60), tz);
        qint64 endMs = end.isValid() ? end.toMSecsSinceEpoch() : cursor;
        if (endMs <= cursor) {
            // Only around a daylight-saving fold or gap can the segment's end resolve to an
            // instant not after the cursor: go by the wall clock's distance to it instead, which
            // always moves forward.
            endMs = cursor + qint64(at.endMinute) * kMinuteMs - time.msecsSinceStartOfDay();
        }
        const qint64 next = std::min(endMs, toMs);
        spentMs[size_t(at.slot)] += next - cursor;
        cursor = next;
    }
    return allocate(totalWh, spentMs);
}

Rated rate(const TariffVersion &v, const Calendar &cal, const QTimeZone &tz, const IntervalEnergy &e,
    const TierAccumulator &tierBefore, Remainder remainderBefore)
{
    PREPAY_CHECK(e.totalWh >= 0);
    PREPAY_CHECK(tierBefore.energyWh >= 0);
    Rated r;
    r.versionId = v.id;

    // Slots.
    qint64 measuredSum = 0;
    if (e.slotsMeasured) {
        for (qint64 wh : e.slotWh) {
            PREPAY_CHECK(wh >= 0);
            measuredSum = checked::add(measuredSum, wh);
        }
    }
    if (e.slotsMeasured && measuredSum == e.totalWh) {
        r.slotWh = e.slotWh;
    } else if (e.slotsMeasured && measuredSum > 0) {
        // The slot registers round on their own: the total register decides how much, the slot
        // registers decide where.
        r.slotWh = allocate(e.totalWh, e.slotWh);
    } else if (v.isTou()) {
        r.slotWh = splitByTime(v, cal, tz, e.fromMs, e.toMs, e.totalWh);
        r.estimated = true;
    } else {
        r.slotWh[size_t(Slot::Flat)] = e.totalWh;
    }

    Remainder remainder = remainderBefore;
    for (Slot s : kSlots)
        addLine(r, slotCode(s), r.slotWh[size_t(s)], v.price(s), remainder);

    // Tiers.
    r.tiered = v.isTiered();
    if (r.tiered) {
        PREPAY_CHECK(v.tierPeriod.has_value());
        const QString key = tierPeriodKey(*v.tierPeriod, localDateAt(tz, e.toMs));
        const qint64 before = tierBefore.periodKey == key ? tierBefore.energyWh : 0;
        const qint64 after = checked::add(before, e.totalWh);
        r.tierBefore = TierAccumulator{key, before};
        r.tierAfter = TierAccumulator{key, after};
        qint64 lower = 0;
        for (qsizetype i = 0; i < v.tiers.size(); ++i) {
            const Tier &tier = v.tiers[i];
            const qint64 upper = tier.upperBoundWh.value_or(std::numeric_limits<qint64>::max());
            const qint64 inTier = std::max<qint64>(0, std::min(after, upper) - std::max(before, lower));
            if (tier.adder.tenThousandthYuan() > 0)
                addLine(r, tierName(i), inTier, tier.adder, remainder);
            lower = upper;
        }
    } else {
        r.tierBefore = tierBefore;
        r.tierAfter = tierBefore;
    }

    r.remainderAfter = remainder;
    return r;
}

QJsonObject Rated::breakdown() const
{
    return QJsonDocument::fromJson(breakdownJson()).object();
}

namespace {

// A JSON string literal of `text` (RFC 8259: quote, backslash and control characters escaped).
void appendJsonString(QByteArray &out, const QString &text)
{
    out += '"';
    for (const char c : text.toUtf8()) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += "0123456789abcdef"[u >> 4];
            out += "0123456789abcdef"[u & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
}

} // namespace

QByteArray Rated::breakdownJson(QByteArrayView extraMembers) const
{
    QByteArray out;
    out.reserve(200);
    out += "{\"version\":";
    out += QByteArray::number(versionId);
    out += ",\"lines\":[";
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const ChargeLine &line = lines.at(i);
        out += i == 0 ? "{\"what\":" : ",{\"what\":";
        appendJsonString(out, line.what);
        out += ",\"wh\":";
        out += QByteArray::number(line.energyWh);
        out += ",\"price\":\"";
        out += line.price.toDecimalString().toLatin1();
        out += "\",\"units\":";
        out += QByteArray::number(line.units);
        out += '}';
    }
    out += "],\"estimated\":";
    out += estimated ? "true" : "false";
    if (tiered) {
        out += ",\"tier\":{\"period\":";
        appendJsonString(out, tierAfter.periodKey);
        out += ",\"before_wh\":";
        out += QByteArray::number(tierBefore.energyWh);
        out += ",\"after_wh\":";
        out += QByteArray::number(tierAfter.energyWh);
        out += '}';
    }
    if (!extraMembers.isEmpty()) {
        out += ',';
        out += extraMembers;
    }
    out += '}';
    return out;
}

} // namespace prepay::billing
