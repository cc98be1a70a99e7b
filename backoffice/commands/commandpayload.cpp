#include "commandpayload.h"

#include <QtCore/QJsonArray>
#include <QtCore/QStringList>

#include <cmath>

namespace prepay::commands {

using namespace prepay::meter::v1;

namespace {

constexpr qint64 kU16Max = 0xFFFF;
constexpr qint64 kU32Max = 0xFFFF'FFFFLL;

// Collects the first problem; every parser below stops at it.
struct Problem
{
    QString text;
    bool set(QString t)
    {
        if (text.isEmpty())
            text = std::move(t);
        return false;
    }
};

template<typename T>
std::optional<T> report(const Problem &p, QString *why)
{
    if (why)
        *why = p.text;
    return std::nullopt;
}

// A JSON number that is a whole number in min..max. JSON has only doubles; every range here is
// within 2^53, where a double holds integers exactly.
std::optional<qint64> wholeNumber(const QJsonValue &v, qint64 min, qint64 max)
{
    if (!v.isDouble())
        return std::nullopt;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d != std::trunc(d) || d < double(min) || d > double(max))
        return std::nullopt;
    return qint64(d);
}

bool integerField(const QJsonObject &o, QLatin1StringView key, qint64 min, qint64 max, qint64 *out, Problem &p)
{
    const QJsonValue v = o.value(key);
    if (v.isUndefined())
        return p.set(QStringLiteral("payload.%1: missing").arg(key));
    const std::optional<qint64> n = wholeNumber(v, min, max);
    if (!n)
        return p.set(QStringLiteral("payload.%1: must be a whole number in %2..%3").arg(key).arg(min).arg(max));
    *out = *n;
    return true;
}

// No field besides `allowed`: a typo ("alarm_1_fen") must not silently fall back to nothing.
bool onlyFields(const QJsonObject &o, std::initializer_list<QLatin1StringView> allowed, Problem &p)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool known = false;
        for (QLatin1StringView a : allowed)
            known = known || it.key() == a;
        if (!known)
            return p.set(QStringLiteral("payload.%1: not a field of this command").arg(it.key()));
    }
    return true;
}

std::optional<TariffSlot> slotNamed(const QString &name)
{
    for (TariffSlot s : {TariffSlot::Sharp, TariffSlot::Peak, TariffSlot::Flat, TariffSlot::Valley}) {
        if (name == tariffSlotName(s))
            return s;
    }
    return std::nullopt;
}

std::optional<ClosePolicy> closePolicyNamed(const QString &name)
{
    if (name == u"auto_close")
        return ClosePolicy::AutoClose;
    if (name == u"wait_for_permit")
        return ClosePolicy::WaitForPermit;
    return std::nullopt;
}

QString closePolicyName(ClosePolicy policy)
{
    return policy == ClosePolicy::AutoClose ? QStringLiteral("auto_close") : QStringLiteral("wait_for_permit");
}

} // namespace

std::optional<RelayMode> modeFromPayload(const QJsonObject &payload, QString *why)
{
    Problem p;
    if (!onlyFields(payload, {QLatin1StringView("mode")}, p))
        return report<RelayMode>(p, why);
    const QJsonValue v = payload.value(QLatin1StringView("mode"));
    if (v.isUndefined()) {
        p.set(QStringLiteral("payload.mode: missing"));
        return report<RelayMode>(p, why);
    }
    for (RelayMode m : {RelayMode::Auto, RelayMode::ForceOn, RelayMode::ForceOff}) {
        if (v.isString() && v.toString() == relayModeName(m))
            return m;
    }
    p.set(QStringLiteral("payload.mode: must be \"auto\", \"force_on\" or \"force_off\""));
    return report<RelayMode>(p, why);
}

QJsonObject modePayload(RelayMode mode)
{
    return QJsonObject{{QStringLiteral("mode"), relayModeName(mode)}};
}

std::optional<TariffBlock> tariffFromPayload(const QJsonObject &payload, QString *why)
{
    Problem p;
    TariffBlock t;
    qint64 version = 0;
    if (!onlyFields(payload, {QLatin1StringView("version"), QLatin1StringView("prices"), QLatin1StringView("tou")}, p)
        || !integerField(payload, QLatin1StringView("version"), 1, kU16Max, &version, p))
        return report<TariffBlock>(p, why);
    t.version = quint16(version);

    const QJsonValue prices = payload.value(QLatin1StringView("prices"));
    if (!prices.isArray() || prices.toArray().size() != 4) {
        p.set(QStringLiteral("payload.prices: must be 4 prices [sharp, peak, flat, valley] in 0.0001 yuan/kWh"));
        return report<TariffBlock>(p, why);
    }
    for (int i = 0; i < 4; ++i) {
        const std::optional<qint64> price = wholeNumber(prices.toArray().at(i), 1, kU32Max);
        if (!price) {
            p.set(QStringLiteral("payload.prices[%1]: must be a whole number in 1..%2").arg(i).arg(kU32Max));
            return report<TariffBlock>(p, why);
        }
        t.prices[size_t(i)] = quint32(*price);
    }

    const QJsonValue tou = payload.value(QLatin1StringView("tou"));
    if (!tou.isArray() || tou.toArray().isEmpty() || tou.toArray().size() > kTouSegmentsMax) {
        p.set(QStringLiteral("payload.tou: must be 1..%1 segments [start minute, slot]").arg(kTouSegmentsMax));
        return report<TariffBlock>(p, why);
    }
    const QJsonArray segments = tou.toArray();
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const QJsonArray seg = segments.at(i).toArray();
        const std::optional<qint64> start = seg.size() == 2 ? wholeNumber(seg.at(0), 0, 1439) : std::nullopt;
        const std::optional<TariffSlot> slot = seg.size() == 2 ? slotNamed(seg.at(1).toString()) : std::nullopt;
        if (!start || !slot) {
            p.set(QStringLiteral("payload.tou[%1]: must be [start minute 0..1439, \"sharp\"|\"peak\"|\"flat\"|"
                                 "\"valley\"]")
                      .arg(i));
            return report<TariffBlock>(p, why);
        }
        t.segments.append({quint16(*start), *slot});
    }

    // The meter's own rules (first segment at 0, ascending starts) in the one place that has them.
    QString rule;
    if (!TariffBlock::fromRegisters(t.registers(), &rule)) {
        p.set(QStringLiteral("payload.tou: %1").arg(rule));
        return report<TariffBlock>(p, why);
    }
    return t;
}

QJsonObject tariffPayload(const TariffBlock &tariff)
{
    QJsonArray prices;
    for (quint32 price : tariff.prices)
        prices.append(qint64(price));
    QJsonArray tou;
    for (const auto &[start, slot] : tariff.segments)
        tou.append(QJsonArray{int(start), tariffSlotName(slot)});
    return QJsonObject{
        {QStringLiteral("version"), int(tariff.version)},
        {QStringLiteral("prices"), prices},
        {QStringLiteral("tou"), tou},
    };
}

std::optional<ThresholdBlock> thresholdsFromPayload(const QJsonObject &payload, QString *why)
{
    Problem p;
    const QLatin1StringView alarm1("alarm1_fen"), alarm2("alarm2_fen"), overdraft("overdraft_limit_fen"),
        overload("overload_limit_w"), delay("overload_delay_s"), recover("overload_recover_delay_s"),
        maxTrips("overload_max_trips"), closePolicy("close_policy");
    qint64 a1 = 0, a2 = 0, od = 0, ol = 0, d = 0, r = 0, m = 0;
    if (!onlyFields(payload, {alarm1, alarm2, overdraft, overload, delay, recover, maxTrips, closePolicy}, p)
        || !integerField(payload, alarm1, 0, kU32Max, &a1, p) || !integerField(payload, alarm2, 0, kU32Max, &a2, p)
        || !integerField(payload, overdraft, 0, kU32Max, &od, p) || !integerField(payload, overload, 0, kU32Max, &ol, p)
        || !integerField(payload, delay, 0, kU16Max, &d, p) || !integerField(payload, recover, 0, kU16Max, &r, p)
        || !integerField(payload, maxTrips, 1, kU16Max, &m, p))
        return report<ThresholdBlock>(p, why);
    const QJsonValue policy = payload.value(closePolicy);
    const std::optional<ClosePolicy> cp = closePolicyNamed(policy.toString());
    if (policy.isUndefined()) {
        p.set(QStringLiteral("payload.close_policy: missing"));
        return report<ThresholdBlock>(p, why);
    }
    if (!policy.isString() || !cp) {
        p.set(QStringLiteral("payload.close_policy: must be \"auto_close\" or \"wait_for_permit\""));
        return report<ThresholdBlock>(p, why);
    }
    if (a2 > a1) {
        p.set(QStringLiteral("payload.alarm2_fen: %1 is above alarm1_fen %2").arg(a2).arg(a1));
        return report<ThresholdBlock>(p, why);
    }
    ThresholdBlock t;
    t.alarm1Fen = quint32(a1);
    t.alarm2Fen = quint32(a2);
    t.overdraftLimitFen = quint32(od);
    t.overloadLimitW = quint32(ol);
    t.overloadDelayS = quint16(d);
    t.overloadRecoverDelayS = quint16(r);
    t.overloadMaxTrips = quint16(m);
    t.closePolicy = *cp;
    QString rule;
    if (!ThresholdBlock::fromRegisters(t.registers(), &rule)) {
        p.set(QStringLiteral("payload: %1").arg(rule));
        return report<ThresholdBlock>(p, why);
    }
    return t;
}

QJsonObject thresholdsPayload(const ThresholdBlock &t)
{
    return QJsonObject{
        {QStringLiteral("alarm1_fen"), qint64(t.alarm1Fen)},
        {QStringLiteral("alarm2_fen"), qint64(t.alarm2Fen)},
        {QStringLiteral("overdraft_limit_fen"), qint64(t.overdraftLimitFen)},
        {QStringLiteral("overload_limit_w"), qint64(t.overloadLimitW)},
        {QStringLiteral("overload_delay_s"), int(t.overloadDelayS)},
        {QStringLiteral("overload_recover_delay_s"), int(t.overloadRecoverDelayS)},
        {QStringLiteral("overload_max_trips"), int(t.overloadMaxTrips)},
        {QStringLiteral("close_policy"), closePolicyName(t.closePolicy)},
    };
}

QString payloadProblem(Kind kind, const QJsonObject &payload)
{
    QString why;
    switch (kind) {
    case Kind::SetMode:
        if (!modeFromPayload(payload, &why))
            return why;
        return {};
    case Kind::TariffPush:
        if (!tariffFromPayload(payload, &why))
            return why;
        return {};
    case Kind::ThresholdPush:
        if (!thresholdsFromPayload(payload, &why))
            return why;
        return {};
    case Kind::Recharge:
    case Kind::RelayClose:
    case Kind::RelayTrip:
    case Kind::ClockSync:
    case Kind::ReadNow: {
        // Their arguments are columns (amount, txn) or the moment of execution: the payload is {}.
        Problem p;
        onlyFields(payload, {}, p);
        return p.text;
    }
    }
    Q_UNREACHABLE();
}

} // namespace prepay::commands
