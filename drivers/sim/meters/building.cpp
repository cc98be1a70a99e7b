#include "building.h"

#include "api/check.h"

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QStringList>

#include <cmath>
#include <initializer_list>
#include <limits>

namespace prepay::sim {

namespace {

using meter::v1::ClosePolicy;
using meter::v1::DeviceType;
using meter::v1::RelayMode;
using meter::v1::TariffSlot;

// Limits of a building file. The Modbus ones come from the map and the RTU spec; the others
// keep every later product (W × ms, fen × count) far inside 64 bits.
constexpr qint64 kUnitIdMin = 1;
constexpr qint64 kUnitIdMax = 247;
constexpr qint64 kSerialMax = 0xFFFF'FFFFLL;
constexpr qint64 kCurrentMaMax = 1'000'000;        // 1000 A
constexpr qint64 kEnergyWhMax = 1'000'000'000'000; // 1 TWh: any meter, wrapping registers included
constexpr qint64 kTurnaroundMsMax = 1000;
constexpr qint64 kUtcOffsetMinutesMin = -12 * 60;
constexpr qint64 kUtcOffsetMinutesMax = 14 * 60;
constexpr qint64 kJsonIntegerMax = qint64(1) << 53; // what a JSON number carries exactly
constexpr int kMinutesPerDay = 1440;
constexpr std::initializer_list<int> kBauds = {0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200};

template<typename E>
struct EnumName
{
    const char *name;
    E value;
};

constexpr EnumName<DeviceType> kDeviceTypes[]
    = {{"single_phase", DeviceType::SinglePhase}, {"three_phase", DeviceType::ThreePhase}};
constexpr EnumName<bool> kCapabilities[] = {{"prepaid", true}, {"remote_only", false}};
constexpr EnumName<LoadProfileKind> kProfiles[] = {{"restaurant", LoadProfileKind::Restaurant},
    {"retail", LoadProfileKind::Retail}, {"office", LoadProfileKind::Office},
    {"cold_store", LoadProfileKind::ColdStore}, {"idle", LoadProfileKind::Idle}};
constexpr EnumName<RelayMode> kRelayModes[]
    = {{"auto", RelayMode::Auto}, {"force_on", RelayMode::ForceOn}, {"force_off", RelayMode::ForceOff}};
constexpr EnumName<TariffSlot> kSlots[] = {{"sharp", TariffSlot::Sharp}, {"peak", TariffSlot::Peak},
    {"flat", TariffSlot::Flat}, {"valley", TariffSlot::Valley}};
constexpr EnumName<ClosePolicy> kClosePolicies[]
    = {{"auto_close", ClosePolicy::AutoClose}, {"wait_for_permit", ClosePolicy::WaitForPermit}};

QString describe(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

QString numberText(double d)
{
    if (std::floor(d) == d && std::fabs(d) <= double(kJsonIntegerMax))
        return QString::number(qint64(d));
    return QString::number(d, 'g', 17);
}

// Reads one building file. The first error wins: every reader returns false once `failed` is
// set, so the callers simply stop, and the message names the place in the file.
class Reader
{
public:
    explicit Reader(QString *error)
        : m_error(error)
    { }

    bool fail(const QString &path, const QString &message)
    {
        if (!m_failed && m_error)
            *m_error = path.isEmpty() ? message : path + QStringLiteral(": ") + message;
        m_failed = true;
        return false;
    }
    bool failed() const { return m_failed; }

    static QString join(const QString &path, const QString &key) { return path.isEmpty() ? key : path + u'.' + key; }
    static QString index(const QString &path, qsizetype i) { return path + u'[' + QString::number(i) + u']'; }

    bool onlyKeys(const QJsonObject &object, const QString &path, std::initializer_list<const char *> allowed)
    {
        for (auto it = object.begin(); it != object.end(); ++it) {
            bool known = false;
            for (const char *key : allowed)
                known = known || it.key() == QLatin1StringView(key);
            if (!known)
                return fail(path.isEmpty() ? QStringLiteral("(top level)") : path,
                    QStringLiteral("unknown key \"%1\"").arg(it.key()));
        }
        return true;
    }

    bool object(const QJsonValue &value, const QString &path, QJsonObject *out)
    {
        if (!value.isObject())
            return fail(path, QStringLiteral("expected an object, got %1").arg(describe(value)));
        *out = value.toObject();
        return true;
    }

    bool array(const QJsonValue &value, const QString &path, QJsonArray *out)
    {
        if (!value.isArray())
            return fail(path, QStringLiteral("expected an array, got %1").arg(describe(value)));
        *out = value.toArray();
        return true;
    }

    // A whole number in [min, max]. Absent keys leave *out alone unless the key is required.
    template<typename T>
    bool integer(const QJsonObject &object, const char *key, const QString &path, qint64 min, qint64 max, T *out,
        bool required = false)
    {
        const QString keyPath = join(path, QLatin1StringView(key));
        const QJsonValue value = object.value(QLatin1StringView(key));
        if (value.isUndefined())
            return required ? fail(path.isEmpty() ? QStringLiteral("(top level)") : path,
                       QStringLiteral("missing \"%1\"").arg(QLatin1StringView(key)))
                            : true;
        qint64 v = 0;
        if (!integerValue(value, keyPath, min, max, &v))
            return false;
        *out = T(v);
        return true;
    }

    bool integerValue(const QJsonValue &value, const QString &path, qint64 min, qint64 max, qint64 *out)
    {
        if (!value.isDouble())
            return fail(path, QStringLiteral("expected an integer, got %1").arg(describe(value)));
        const double d = value.toDouble();
        if (std::floor(d) != d || std::fabs(d) > double(kJsonIntegerMax))
            return fail(path, QStringLiteral("%1 is not an integer").arg(numberText(d)));
        const qint64 v = qint64(d);
        if (v < min || v > max)
            return fail(path, QStringLiteral("%1 is not in %2..%3").arg(v).arg(min).arg(max));
        *out = v;
        return true;
    }

    bool boolean(const QJsonObject &object, const char *key, const QString &path, bool *out)
    {
        const QJsonValue value = object.value(QLatin1StringView(key));
        if (value.isUndefined())
            return true;
        if (!value.isBool())
            return fail(join(path, QLatin1StringView(key)),
                QStringLiteral("expected true or false, got %1").arg(describe(value)));
        *out = value.toBool();
        return true;
    }

    bool string(const QJsonObject &object, const char *key, const QString &path, QString *out)
    {
        const QJsonValue value = object.value(QLatin1StringView(key));
        if (value.isUndefined())
            return true;
        if (!value.isString())
            return fail(
                join(path, QLatin1StringView(key)), QStringLiteral("expected a string, got %1").arg(describe(value)));
        *out = value.toString();
        return true;
    }

    template<typename E, std::size_t N>
    bool enumValue(const QJsonValue &value, const QString &path, const EnumName<E> (&names)[N], E *out)
    {
        QStringList known;
        for (const auto &n : names)
            known.append(QLatin1StringView(n.name));
        if (!value.isString())
            return fail(path, QStringLiteral("expected one of %1, got %2").arg(known.join(u", "), describe(value)));
        for (const auto &n : names) {
            if (value.toString() == QLatin1StringView(n.name)) {
                *out = n.value;
                return true;
            }
        }
        return fail(path, QStringLiteral("\"%1\" is not one of %2").arg(value.toString(), known.join(u", ")));
    }

    template<typename E, std::size_t N>
    bool enumKey(const QJsonObject &object, const char *key, const QString &path, const EnumName<E> (&names)[N], E *out)
    {
        const QJsonValue value = object.value(QLatin1StringView(key));
        if (value.isUndefined())
            return true;
        return enumValue(value, join(path, QLatin1StringView(key)), names, out);
    }

    // "tariff": merged key by key onto `spec` (a meter's tariff onto the building's).
    bool tariff(const QJsonValue &value, const QString &path, TariffSpec *spec)
    {
        QJsonObject o;
        if (!object(value, path, &o) || !onlyKeys(o, path, {"version", "prices", "tou"}))
            return false;
        if (!integer(o, "version", path, 0, 0xFFFF, &spec->version))
            return false;
        if (o.contains(u"prices")) {
            const QString pricesPath = join(path, QStringLiteral("prices"));
            QJsonObject prices;
            if (!object(o.value(u"prices"), pricesPath, &prices)
                || !onlyKeys(prices, pricesPath, {"sharp", "peak", "flat", "valley"}))
                return false;
            for (const auto &slot : kSlots) {
                if (!integer(prices, slot.name, pricesPath, 1, 0xFFFF'FFFFLL, &spec->prices[int(slot.value)], true))
                    return false;
            }
        }
        if (o.contains(u"tou")) {
            const QString touPath = join(path, QStringLiteral("tou"));
            QJsonArray tou;
            if (!array(o.value(u"tou"), touPath, &tou))
                return false;
            if (tou.isEmpty() || tou.size() > meter::v1::kTouSegmentsMax)
                return fail(touPath,
                    QStringLiteral("%1 segments; a meter holds 1..%2").arg(tou.size()).arg(meter::v1::kTouSegmentsMax));
            spec->segments.clear();
            for (qsizetype i = 0; i < tou.size(); ++i) {
                const QString segmentPath = index(touPath, i);
                const QJsonArray pair = tou.at(i).toArray();
                if (!tou.at(i).isArray() || pair.size() != 2)
                    return fail(segmentPath, QStringLiteral("expected [start minute, slot]"));
                qint64 start = 0;
                TariffSlot slot = TariffSlot::Flat;
                if (!integerValue(pair.at(0), index(segmentPath, 0), 0, kMinutesPerDay - 1, &start)
                    || !enumValue(pair.at(1), index(segmentPath, 1), kSlots, &slot))
                    return false;
                if (i == 0 && start != 0)
                    return fail(
                        segmentPath, QStringLiteral("the first segment starts at %1, not at minute 0").arg(start));
                if (i > 0 && start <= spec->segments.last().first)
                    return fail(segmentPath,
                        QStringLiteral("start %1 is not after the previous start %2")
                            .arg(start)
                            .arg(spec->segments.last().first));
                spec->segments.append({quint16(start), slot});
            }
        }
        return true;
    }

    // A configured tariff (version ≥ 1) needs its prices and its day schedule; version 0 means
    // "not configured" and clears them (status bit 10, registers read 0).
    bool completeTariff(const QString &path, TariffSpec *spec)
    {
        if (spec->version == 0) {
            *spec = TariffSpec{};
            return true;
        }
        if (spec->prices[0] == 0 || spec->segments.isEmpty())
            return fail(path, QStringLiteral("version %1 needs \"prices\" and \"tou\"").arg(spec->version));
        return true;
    }

    bool thresholds(const QJsonValue &value, const QString &path, ThresholdSpec *spec)
    {
        QJsonObject o;
        if (!object(value, path, &o)
            || !onlyKeys(o, path,
                {"alarm1_fen", "alarm2_fen", "overdraft_limit_fen", "overload_limit_w", "overload_delay_s",
                    "overload_recover_delay_s", "overload_max_trips", "close_policy"}))
            return false;
        return integer(o, "alarm1_fen", path, 0, 0xFFFF'FFFFLL, &spec->alarm1Fen)
            && integer(o, "alarm2_fen", path, 0, 0xFFFF'FFFFLL, &spec->alarm2Fen)
            && integer(o, "overdraft_limit_fen", path, 0, 0xFFFF'FFFFLL, &spec->overdraftLimitFen)
            && integer(o, "overload_limit_w", path, 0, 0xFFFF'FFFFLL, &spec->overloadLimitW)
            && integer(o, "overload_delay_s", path, 0, 0xFFFF, &spec->overloadDelayS)
            && integer(o, "overload_recover_delay_s", path, 0, 0xFFFF, &spec->overloadRecoverDelayS)
            && integer(o, "overload_max_trips", path, 1, 0xFFFF, &spec->overloadMaxTrips)
            && enumKey(o, "close_policy", path, kClosePolicies, &spec->closePolicy);
    }

    bool completeThresholds(const QString &path, const ThresholdSpec &spec)
    {
        if (spec.alarm2Fen > spec.alarm1Fen)
            return fail(join(path, QStringLiteral("alarm2_fen")),
                QStringLiteral("%1 is above alarm1_fen %2").arg(spec.alarm2Fen).arg(spec.alarm1Fen));
        return true;
    }

    bool meter(const QJsonValue &value, const QString &path, const TariffSpec &tariffDefault,
        const ThresholdSpec &thresholdsDefault, MeterSpec *spec)
    {
        QJsonObject o;
        if (!object(value, path, &o)
            || !onlyKeys(o, path,
                {"unit_id", "serial", "model", "device_type", "capability", "has_tou_registers", "rated_current_ma",
                    "max_current_ma", "profile", "metering_point", "balance_fen", "purchase_count",
                    "total_purchased_fen", "energy_wh", "relay_mode", "tariff", "thresholds", "clock_set"}))
            return false;
        spec->tariff = tariffDefault;
        spec->thresholds = thresholdsDefault;
        if (!integer(o, "unit_id", path, kUnitIdMin, kUnitIdMax, &spec->unitId, true)
            || !integer(o, "serial", path, 1, kSerialMax, &spec->serial, true)
            || !string(o, "model", path, &spec->model)
            || !enumKey(o, "device_type", path, kDeviceTypes, &spec->deviceType)
            || !enumKey(o, "capability", path, kCapabilities, &spec->prepaid)
            || !boolean(o, "has_tou_registers", path, &spec->hasTouRegisters)
            || !integer(o, "rated_current_ma", path, 1, kCurrentMaMax, &spec->ratedCurrentMa)
            || !integer(o, "max_current_ma", path, 1, kCurrentMaMax, &spec->maxCurrentMa)
            || !enumKey(o, "profile", path, kProfiles, &spec->profile)
            || !string(o, "metering_point", path, &spec->meteringPoint)
            || !integer(o, "balance_fen", path, std::numeric_limits<qint32>::min(), std::numeric_limits<qint32>::max(),
                &spec->balanceFen)
            || !integer(o, "purchase_count", path, 0, 0xFFFF, &spec->purchaseCount)
            || !integer(o, "total_purchased_fen", path, 0, 0xFFFF'FFFFLL, &spec->totalPurchasedFen)
            || !integer(o, "energy_wh", path, 0, kEnergyWhMax, &spec->energyWh)
            || !enumKey(o, "relay_mode", path, kRelayModes, &spec->relayMode)
            || !boolean(o, "clock_set", path, &spec->clockSet))
            return false;
        if (spec->maxCurrentMa < spec->ratedCurrentMa)
            return fail(join(path, QStringLiteral("max_current_ma")),
                QStringLiteral("%1 is below rated_current_ma %2").arg(spec->maxCurrentMa).arg(spec->ratedCurrentMa));
        if (!spec->prepaid) {
            for (const char *key : {"balance_fen", "purchase_count", "total_purchased_fen", "thresholds"}) {
                if (o.contains(QLatin1StringView(key)))
                    return fail(join(path, QLatin1StringView(key)),
                        QStringLiteral("a remote_only meter has no balance, purchases or thresholds"));
            }
        }
        const QString tariffPath = join(path, QStringLiteral("tariff"));
        const QString thresholdsPath = join(path, QStringLiteral("thresholds"));
        if (o.contains(u"tariff") && !tariff(o.value(u"tariff"), tariffPath, &spec->tariff))
            return false;
        if (o.contains(u"thresholds") && !thresholds(o.value(u"thresholds"), thresholdsPath, &spec->thresholds))
            return false;
        return completeTariff(tariffPath, &spec->tariff) && completeThresholds(thresholdsPath, spec->thresholds);
    }

private:
    QString *m_error;
    bool m_failed = false;
};

} // namespace

int BuildingSpec::meterCount() const
{
    int count = 0;
    for (const GatewaySpec &gateway : gateways) {
        for (const BusSpec &bus : gateway.buses)
            count += int(bus.meters.size());
    }
    return count;
}

std::optional<BuildingSpec> BuildingSpec::parse(const QByteArray &json, QString *error)
{
    Reader r(error);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        r.fail(
            {}, QStringLiteral("not valid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString()));
        return std::nullopt;
    }
    if (!document.isObject()) {
        r.fail({}, QStringLiteral("a building file is one JSON object"));
        return std::nullopt;
    }
    const QJsonObject top = document.object();
    BuildingSpec building;
    TariffSpec tariffDefault;
    ThresholdSpec thresholdsDefault;
    QJsonArray gateways;
    if (!r.onlyKeys(top, {}, {"name", "utc_offset_minutes", "seed", "gateways", "tariff", "thresholds"})
        || !r.string(top, "name", {}, &building.name)
        || !r.integer(
            top, "utc_offset_minutes", {}, kUtcOffsetMinutesMin, kUtcOffsetMinutesMax, &building.utcOffsetMinutes)
        || !r.integer(top, "seed", {}, 0, kJsonIntegerMax, &building.seed))
        return std::nullopt;
    if (top.contains(u"tariff")
        && (!r.tariff(top.value(u"tariff"), QStringLiteral("tariff"), &tariffDefault)
            || !r.completeTariff(QStringLiteral("tariff"), &tariffDefault)))
        return std::nullopt;
    if (top.contains(u"thresholds")
        && (!r.thresholds(top.value(u"thresholds"), QStringLiteral("thresholds"), &thresholdsDefault)
            || !r.completeThresholds(QStringLiteral("thresholds"), thresholdsDefault)))
        return std::nullopt;
    if (!top.contains(u"gateways")) {
        r.fail(QStringLiteral("(top level)"), QStringLiteral("missing \"gateways\""));
        return std::nullopt;
    }
    if (!r.array(top.value(u"gateways"), QStringLiteral("gateways"), &gateways))
        return std::nullopt;
    if (gateways.isEmpty()) {
        r.fail(QStringLiteral("gateways"), QStringLiteral("a building has at least one gateway"));
        return std::nullopt;
    }

    QHash<quint32, QString> serialsSeen; // serial → where
    for (qsizetype g = 0; g < gateways.size(); ++g) {
        const QString gatewayPath = Reader::index(QStringLiteral("gateways"), g);
        GatewaySpec gateway;
        QJsonObject gatewayObject;
        QJsonArray buses;
        if (!r.object(gateways.at(g), gatewayPath, &gatewayObject)
            || !r.onlyKeys(gatewayObject, gatewayPath, {"name", "buses"})
            || !r.string(gatewayObject, "name", gatewayPath, &gateway.name))
            return std::nullopt;
        if (!gatewayObject.contains(u"buses")) {
            r.fail(gatewayPath, QStringLiteral("missing \"buses\""));
            return std::nullopt;
        }
        if (!r.array(gatewayObject.value(u"buses"), Reader::join(gatewayPath, QStringLiteral("buses")), &buses))
            return std::nullopt;
        if (buses.isEmpty()) {
            r.fail(
                Reader::join(gatewayPath, QStringLiteral("buses")), QStringLiteral("a gateway has at least one bus"));
            return std::nullopt;
        }
        // The gateway routes by unit id across all of its buses, so unit ids are unique per
        // gateway, not only per bus.
        QHash<quint8, QString> unitIdsSeen;
        for (qsizetype b = 0; b < buses.size(); ++b) {
            const QString busPath = Reader::index(Reader::join(gatewayPath, QStringLiteral("buses")), b);
            BusSpec bus;
            QJsonObject busObject;
            QJsonArray meters;
            if (!r.object(buses.at(b), busPath, &busObject)
                || !r.onlyKeys(busObject, busPath,
                    {"name", "baud", "bits_per_char", "turnaround_min_ms", "turnaround_max_ms", "meters"})
                || !r.string(busObject, "name", busPath, &bus.name)
                || !r.integer(busObject, "baud", busPath, 0, 115200, &bus.baud)
                || !r.integer(busObject, "bits_per_char", busPath, 10, 11, &bus.bitsPerChar)
                || !r.integer(busObject, "turnaround_min_ms", busPath, 0, kTurnaroundMsMax, &bus.turnaroundMinMs)
                || !r.integer(busObject, "turnaround_max_ms", busPath, 0, kTurnaroundMsMax, &bus.turnaroundMaxMs))
                return std::nullopt;
            if (std::find(kBauds.begin(), kBauds.end(), bus.baud) == kBauds.end()) {
                r.fail(Reader::join(busPath, QStringLiteral("baud")),
                    QStringLiteral("%1 is not a standard rate (0 = no wire time, 1200..115200)").arg(bus.baud));
                return std::nullopt;
            }
            if (bus.turnaroundMinMs > bus.turnaroundMaxMs) {
                r.fail(Reader::join(busPath, QStringLiteral("turnaround_min_ms")),
                    QStringLiteral("%1 is above turnaround_max_ms %2")
                        .arg(bus.turnaroundMinMs)
                        .arg(bus.turnaroundMaxMs));
                return std::nullopt;
            }
            if (!busObject.contains(u"meters")) {
                r.fail(busPath, QStringLiteral("missing \"meters\""));
                return std::nullopt;
            }
            if (!r.array(busObject.value(u"meters"), Reader::join(busPath, QStringLiteral("meters")), &meters))
                return std::nullopt;
            for (qsizetype m = 0; m < meters.size(); ++m) {
                const QString meterPath = Reader::index(Reader::join(busPath, QStringLiteral("meters")), m);
                MeterSpec meter;
                if (!r.meter(meters.at(m), meterPath, tariffDefault, thresholdsDefault, &meter))
                    return std::nullopt;
                if (const auto it = unitIdsSeen.constFind(meter.unitId); it != unitIdsSeen.constEnd()) {
                    r.fail(Reader::join(meterPath, QStringLiteral("unit_id")),
                        QStringLiteral("%1 is already used on this gateway by %2").arg(meter.unitId).arg(*it));
                    return std::nullopt;
                }
                if (const auto it = serialsSeen.constFind(meter.serial); it != serialsSeen.constEnd()) {
                    r.fail(Reader::join(meterPath, QStringLiteral("serial")),
                        QStringLiteral("%1 is already used by %2").arg(meter.serial).arg(*it));
                    return std::nullopt;
                }
                unitIdsSeen.insert(meter.unitId, meterPath);
                serialsSeen.insert(meter.serial, meterPath);
                bus.meters.append(std::move(meter));
            }
            gateway.buses.append(std::move(bus));
        }
        building.gateways.append(std::move(gateway));
    }
    return building;
}

BuildingSpec BuildingSpec::demo()
{
    // Compiled in from drivers/sim/buildings/demo.json; a broken file is a build defect (and
    // tst_simmeter / tst_demo_building catch it), so failing here is a programmer error.
    QFile file(QStringLiteral(":/sim/buildings/demo.json"));
    const bool opened = file.open(QIODevice::ReadOnly);
    PREPAY_CHECK(opened);
    QString error;
    std::optional<BuildingSpec> building = parse(file.readAll(), &error);
    if (!building)
        qFatal("the built-in demo building does not parse: %s", qUtf8Printable(error));
    return *std::move(building);
}

QString loadProfileName(LoadProfileKind kind)
{
    for (const auto &profile : kProfiles) {
        if (profile.value == kind)
            return QString::fromLatin1(profile.name);
    }
    Q_UNREACHABLE();
}

} // namespace prepay::sim
