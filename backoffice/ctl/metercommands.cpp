#include "metercommands.h"

#include "api/clock.h"
#include "api/money.h"
#include "modbus/profile.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QLocale>
#include <QtCore/QRegularExpression>

#include <functional>

namespace prepay::ctl {

namespace {

using namespace prepay::modbus;
using namespace prepay::meter::v1;

// ---- options shared by every meter command ---------------------------------------------------
const QCommandLineOption tcpOption(
    QStringLiteral("tcp"), QStringLiteral("A gateway port: HOST:PORT."), QStringLiteral("HOST:PORT"));
const QCommandLineOption rtuOption(
    QStringLiteral("rtu"), QStringLiteral("A local serial line (RS-485 adapter, pty)."), QStringLiteral("DEVICE"));
const QCommandLineOption baudOption(QStringLiteral("baud"),
    QStringLiteral("Line speed (RTU; for --tcp the speed behind the gateway, sets the timeout). Default 9600."),
    QStringLiteral("B"), QStringLiteral("9600"));
const QCommandLineOption parityOption(QStringLiteral("parity"),
    QStringLiteral("RTU parity: E, N or O. Default E (8E1)."), QStringLiteral("P"), QStringLiteral("E"));
const QCommandLineOption unitOption(
    QStringLiteral("unit"), QStringLiteral("The meter's unit id (slave address), 1..247."), QStringLiteral("N"));
const QCommandLineOption profileOption(QStringLiteral("profile"),
    QStringLiteral("prepay-v1 (default) or acrel-remote."), QStringLiteral("NAME"), QStringLiteral("prepay-v1"));
const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text."));
const QCommandLineOption timeoutOption(QStringLiteral("timeout-ms"),
    QStringLiteral("Response timeout; default from the line speed."), QStringLiteral("MS"));

QList<QCommandLineOption> connectionOptions()
{
    return {tcpOption, rtuOption, baudOption, parityOption, unitOption, profileOption, jsonOption, timeoutOption};
}

const char exitCodesHelp[] = "\nExit codes: 0 done; 3 timeout; 4 connection refused; 5 connection lost; 6 bad reply "
                             "(CRC, transaction id, length); 7 invalid data in the reply; 8 not supported by the "
                             "profile; 9 refused by the meter or read-back differs; 10+N Modbus exception N "
                             "(12 = illegal data address, 13 = illegal data value, 21 = gateway target failed to "
                             "respond); 64 bad command line.";

// Everything a meter command needs once its options are understood.
struct Target
{
    std::unique_ptr<ModbusClient> client;
    const MeterProfile *profile = nullptr;
    quint8 unit = 0;
    bool json = false;
};

// Parses the connection options; on a usage error prints it and returns nullopt.
std::optional<Target> parseTarget(const Invocation &in, const Clock &clock)
{
    const QCommandLineParser &p = in.parser;
    Endpoint endpoint;
    bool ok = false;
    const int baud = p.value(baudOption).toInt(&ok);
    if (!ok || baud < 0) {
        in.fail(exitUsage, QStringLiteral("--baud %1 is not a line speed").arg(p.value(baudOption)));
        return std::nullopt;
    }
    endpoint.baud = baud;
    if (p.isSet(tcpOption) == p.isSet(rtuOption)) {
        in.fail(exitUsage, QStringLiteral("give exactly one of --tcp HOST:PORT and --rtu DEVICE"));
        return std::nullopt;
    }
    if (p.isSet(tcpOption)) {
        static const QRegularExpression hostPort(QStringLiteral("^([^:]+):(\\d{1,5})$"));
        const QRegularExpressionMatch m = hostPort.match(p.value(tcpOption));
        const int port = m.captured(2).toInt();
        if (!m.hasMatch() || port < 1 || port > 65535) {
            in.fail(exitUsage, QStringLiteral("--tcp %1 is not HOST:PORT").arg(p.value(tcpOption)));
            return std::nullopt;
        }
        endpoint.kind = Endpoint::Kind::Tcp;
        endpoint.host = m.captured(1);
        endpoint.port = quint16(port);
    } else {
        endpoint.kind = Endpoint::Kind::Rtu;
        endpoint.device = p.value(rtuOption);
        const QString parity = p.value(parityOption).toUpper();
        if (parity != u"E" && parity != u"N" && parity != u"O") {
            in.fail(exitUsage, QStringLiteral("--parity %1 is not E, N or O").arg(p.value(parityOption)));
            return std::nullopt;
        }
        endpoint.parity = char(parity.at(0).unicode());
        endpoint.stopBits = parity == u"N" ? 2 : 1; // 11 bits per character either way
        if (baud == 0) {
            in.fail(exitUsage, QStringLiteral("--rtu needs a line speed (--baud)"));
            return std::nullopt;
        }
    }
    const int unit = p.value(unitOption).toInt(&ok);
    if (!p.isSet(unitOption) || !ok || unit < 1 || unit > 247) {
        in.fail(exitUsage,
            p.isSet(unitOption) ? QStringLiteral("--unit %1 is not in 1..247").arg(p.value(unitOption))
                                : QStringLiteral("--unit N is required"));
        return std::nullopt;
    }
    Target t;
    t.unit = quint8(unit);
    t.profile = profileNamed(p.value(profileOption));
    if (!t.profile) {
        in.fail(exitUsage,
            QStringLiteral("--profile %1 is not one of %2")
                .arg(p.value(profileOption), profileNames().join(QStringLiteral(", "))));
        return std::nullopt;
    }
    BusTiming timing = BusTiming::forEndpoint(endpoint);
    if (p.isSet(timeoutOption)) {
        const int ms = p.value(timeoutOption).toInt(&ok);
        if (!ok || ms < 1 || ms > 60'000) {
            in.fail(exitUsage, QStringLiteral("--timeout-ms %1 is not in 1..60000").arg(p.value(timeoutOption)));
            return std::nullopt;
        }
        timing.responseTimeoutMs = ms;
    }
    t.json = p.isSet(jsonOption);
    t.client = std::make_unique<ModbusClient>(endpoint, timing, clock);
    return t;
}

int driverFailure(const Invocation &in, const DriverError &e)
{
    return in.fail(exitCodeFor(e), e.message.isEmpty() ? e.code() : e.message);
}

void printJson(const Invocation &in, const QJsonObject &o)
{
    in.out << QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)) << '\n';
}

QString yuan(std::optional<qint64> fen)
{
    return fen ? Money::fromFen(*fen).toString(QLocale::c()) : QStringLiteral("-");
}

void printSnapshot(const Invocation &in, const Target &t, const MeterSnapshot &s)
{
    const auto line = [&in](const char *key, const QString &value) {
        in.out << QLatin1StringView(key).toString().leftJustified(22) << value << '\n';
    };
    line("meter", QStringLiteral("unit %1 at %2 (%3)").arg(t.unit).arg(t.client->endpoint().toString(), s.profile));
    if (s.serialNumber)
        line("serial_number", QString::number(*s.serialNumber));
    line("relay",
        QStringLiteral("%1, mode %2, trip reason %3")
            .arg(relayStateName(s.relayState), relayModeName(s.relayMode), tripReasonName(s.tripReason)));
    if (s.balanceFen) {
        line("balance", yuan(s.balanceFen));
        line("purchase_count", QString::number(*s.purchaseCount));
        line("total_purchased", yuan(s.totalPurchasedFen));
        line("last_recharge", QStringLiteral("%1, txn %2").arg(yuan(s.lastRechargeAmountFen)).arg(*s.lastRechargeTxn));
        line("consumed_money_total", yuan(s.consumedMoneyTotalFen));
    }
    const QLocale c = QLocale::c();
    line("energy_total", Energy::fromWh(s.energyTotalWh).toString(c));
    line("energy_by_slot",
        QStringLiteral("sharp %1, peak %2, flat %3, valley %4")
            .arg(Energy::fromWh(s.slotEnergyWh[0]).toDecimalString(),
                Energy::fromWh(s.slotEnergyWh[1]).toDecimalString(),
                Energy::fromWh(s.slotEnergyWh[2]).toDecimalString(),
                Energy::fromWh(s.slotEnergyWh[3]).toDecimalString()));
    line("active_power", QStringLiteral("%1 W").arg(s.activePowerW));
    line("voltage_a", QStringLiteral("%1.%2 V").arg(s.voltageMv[0] / 1000).arg((s.voltageMv[0] % 1000) / 100));
    line("current_a",
        QStringLiteral("%1.%2 A").arg(s.currentMa[0] / 1000).arg((s.currentMa[0] % 1000) / 10, 2, 10, QChar(u'0')));
    if (s.statusWord)
        line("status_word", QStringLiteral("0x%1").arg(*s.statusWord, 4, 16, QChar(u'0')));
    if (s.tariffVersionActive)
        line("tariff",
            QStringLiteral("version %1, now %2").arg(*s.tariffVersionActive).arg(tariffSlotName(*s.currentTariffSlot)));
    if (s.meterTimeS)
        line("meter_time", QDateTime::fromSecsSinceEpoch(*s.meterTimeS, Qt::UTC).toString(Qt::ISODate));
    if (s.lastCommandResult)
        line("last_cmd_result", commandResultName(*s.lastCommandResult));
}

// ---- the commands ----------------------------------------------------------------------------

int meterRead(const Invocation &in, const Clock &clock)
{
    std::optional<Target> t = parseTarget(in, clock);
    if (!t)
        return exitUsage;
    const Result<MeterSnapshot> s = t->profile->readSnapshot(*t->client, t->unit);
    if (!s.ok())
        return driverFailure(in, s.error);
    if (t->json)
        printJson(in, s.value.toJson());
    else
        printSnapshot(in, *t, s.value);
    return 0;
}

const QCommandLineOption amountOption(
    QStringLiteral("amount"), QStringLiteral("Amount in yuan: 100, 100.50."), QStringLiteral("YUAN"));
const QCommandLineOption txnOption(
    QStringLiteral("txn"), QStringLiteral("The order id the meter records (0..4294967295)."), QStringLiteral("N"));
const QCommandLineOption seqOption(QStringLiteral("seq"),
    QStringLiteral(
        "Continue a recharge planned before with this sequence (after a timeout), instead of planning anew."),
    QStringLiteral("S"));

int meterRecharge(const Invocation &in, const Clock &clock)
{
    std::optional<Target> t = parseTarget(in, clock);
    if (!t)
        return exitUsage;
    if (!in.parser.isSet(amountOption) || !in.parser.isSet(txnOption))
        return in.fail(exitUsage, QStringLiteral("--amount YUAN and --txn N are required"));
    const Parsed<Money> amount = Money::parse(in.parser.value(amountOption));
    if (!amount.ok())
        return in.fail(exitUsage, QStringLiteral("--amount: ") + amount.errorMessage());
    if (amount.value.fen() < kRechargeAmountMinFen || amount.value.fen() > kRechargeAmountMaxFen)
        return in.fail(exitUsage, QStringLiteral("--amount must be between 0.01 and 1000000.00 yuan"));
    bool ok = false;
    const qulonglong txn = in.parser.value(txnOption).toULongLong(&ok);
    if (!ok || txn > 0xFFFFFFFFull)
        return in.fail(exitUsage, QStringLiteral("--txn %1 is not in 0..4294967295").arg(in.parser.value(txnOption)));

    RechargePlan plan;
    std::optional<MeterSnapshot> justRead;
    if (in.parser.isSet(seqOption)) {
        const uint seq = in.parser.value(seqOption).toUInt(&ok);
        if (!ok || seq > 65535)
            return in.fail(exitUsage, QStringLiteral("--seq %1 is not in 0..65535").arg(in.parser.value(seqOption)));
        plan = RechargePlan{amount.value.fen(), quint32(txn), quint16(seq)};
    } else {
        MeterSnapshot basis;
        const Result<RechargePlan> planned
            = t->profile->planRecharge(*t->client, t->unit, amount.value.fen(), quint32(txn), &basis);
        if (!planned.ok())
            return driverFailure(in, planned.error);
        plan = planned.value;
        justRead = basis;
        if (!t->json)
            in.out << "planned: sequence " << plan.sequence << " for txn " << plan.txn << " (rerun with --seq "
                   << plan.sequence << " if this one times out)\n";
    }
    RechargeExecution how;
    how.justRead = justRead ? &*justRead : nullptr;
    const Result<RechargeOutcome> done = t->profile->executeRecharge(*t->client, t->unit, plan, how);
    if (!done.ok())
        return driverFailure(in, done.error);
    const Result<MeterSnapshot> after = t->profile->readSnapshot(*t->client, t->unit);
    const QString outcome
        = done.value == RechargeOutcome::Applied ? QStringLiteral("applied") : QStringLiteral("already_applied");
    if (t->json) {
        QJsonObject o{{QStringLiteral("outcome"), outcome}, {QStringLiteral("sequence"), plan.sequence},
            {QStringLiteral("txn"), qint64(plan.txn)}, {QStringLiteral("amount_fen"), plan.amountFen}};
        if (after.ok()) {
            o[QStringLiteral("balance_fen")] = *after.value.balanceFen;
            o[QStringLiteral("purchase_count")] = *after.value.purchaseCount;
        }
        printJson(in, o);
    } else {
        in.out << outcome << ": " << Money::fromFen(plan.amountFen).toString(QLocale::c()) << " as sequence "
               << plan.sequence;
        if (after.ok())
            in.out << "; balance now " << yuan(after.value.balanceFen) << ", purchase count "
                   << *after.value.purchaseCount;
        in.out << '\n';
    }
    return 0;
}

int meterRelay(const Invocation &in, const Clock &clock)
{
    const QString what = in.positional.at(0);
    std::optional<Target> t = parseTarget(in, clock);
    if (!t)
        return exitUsage;
    DriverError e;
    if (what == u"auto")
        e = t->profile->setRelayMode(*t->client, t->unit, RelayMode::Auto);
    else if (what == u"force-on")
        e = t->profile->setRelayMode(*t->client, t->unit, RelayMode::ForceOn);
    else if (what == u"force-off")
        e = t->profile->setRelayMode(*t->client, t->unit, RelayMode::ForceOff);
    else if (what == u"close-permit")
        e = t->profile->relayAction(*t->client, t->unit, RelayAction::ClosePermit);
    else if (what == u"clear-lockout")
        e = t->profile->relayAction(*t->client, t->unit, RelayAction::ClearOverloadLockout);
    else
        return in.fail(exitUsage,
            QStringLiteral("relay %1: say auto, force-on, force-off, close-permit or clear-lockout").arg(what));
    if (!e.ok())
        return driverFailure(in, e);
    const Result<MeterSnapshot> s = t->profile->readSnapshot(*t->client, t->unit);
    if (!s.ok())
        return driverFailure(in, s.error);
    if (t->json)
        printJson(in,
            {{QStringLiteral("relay_state"), relayStateName(s.value.relayState)},
                {QStringLiteral("relay_mode"), relayModeName(s.value.relayMode)}});
    else
        in.out << "relay " << relayStateName(s.value.relayState) << ", mode " << relayModeName(s.value.relayMode)
               << '\n';
    return 0;
}

const QCommandLineOption versionOption(
    QStringLiteral("set-version"), QStringLiteral("Push a tariff with this version (1..65535)."), QStringLiteral("V"));
const QCommandLineOption pricesOption(QStringLiteral("prices"),
    QStringLiteral("Yuan per kWh for sharp,peak,flat,valley: 1.21,0.98,0.65,0.31."), QStringLiteral("S,P,F,V"));
const QCommandLineOption touOption(QStringLiteral("tou"),
    QStringLiteral("Day schedule, up to 8 segments from 00:00: 00:00=valley,08:00=flat,10:00=peak,…"),
    QStringLiteral("SCHEDULE"));

QJsonObject tariffJson(const TariffBlock &t)
{
    QJsonObject prices;
    for (int i = 0; i < 4; ++i)
        prices[tariffSlotName(TariffSlot(i))] = Price::fromTenThousandthYuan(t.prices[i]).toDecimalString();
    QJsonArray tou;
    for (const auto &[minute, slot] : t.segments)
        tou.append(QStringLiteral("%1:%2=%3")
                       .arg(minute / 60, 2, 10, QChar(u'0'))
                       .arg(minute % 60, 2, 10, QChar(u'0'))
                       .arg(tariffSlotName(slot)));
    return {{QStringLiteral("version"), t.version}, {QStringLiteral("prices_yuan_per_kwh"), prices},
        {QStringLiteral("tou"), tou}};
}

std::optional<TariffBlock> parseTariff(const Invocation &in)
{
    TariffBlock t;
    bool ok = false;
    const uint version = in.parser.value(versionOption).toUInt(&ok);
    if (!ok || version < 1 || version > 65535) {
        in.fail(exitUsage, QStringLiteral("--set-version %1 is not in 1..65535").arg(in.parser.value(versionOption)));
        return std::nullopt;
    }
    t.version = quint16(version);
    const QStringList prices = in.parser.value(pricesOption).split(u',');
    if (prices.size() != 4) {
        in.fail(exitUsage, QStringLiteral("--prices needs four prices: sharp,peak,flat,valley"));
        return std::nullopt;
    }
    for (int i = 0; i < 4; ++i) {
        const Parsed<Price> p = Price::parse(prices[i]);
        if (!p.ok() || p.value.tenThousandthYuan() == 0 || p.value.tenThousandthYuan() > 0xFFFFFFFFll) {
            in.fail(exitUsage,
                QStringLiteral("--prices, %1: %2")
                    .arg(tariffSlotName(TariffSlot(i)), p.ok() ? QStringLiteral("must be above 0") : p.errorMessage()));
            return std::nullopt;
        }
        t.prices[i] = quint32(p.value.tenThousandthYuan());
    }
    static const QRegularExpression segment(QStringLiteral("^(\\d{2}):(\\d{2})=(sharp|peak|flat|valley)$"));
    for (const QString &part : in.parser.value(touOption).split(u',', Qt::SkipEmptyParts)) {
        const QRegularExpressionMatch m = segment.match(part.trimmed());
        if (!m.hasMatch()) {
            in.fail(exitUsage, QStringLiteral("--tou: \"%1\" is not HH:MM=sharp|peak|flat|valley").arg(part));
            return std::nullopt;
        }
        const int minute = m.captured(1).toInt() * 60 + m.captured(2).toInt();
        static const QStringList names
            = {QStringLiteral("sharp"), QStringLiteral("peak"), QStringLiteral("flat"), QStringLiteral("valley")};
        t.segments.append({quint16(minute), TariffSlot(names.indexOf(m.captured(3)))});
    }
    QString why;
    if (!TariffBlock::fromRegisters(t.registers(), &why)) {
        in.fail(exitUsage, QStringLiteral("tariff not valid: %1").arg(why));
        return std::nullopt;
    }
    return t;
}

int meterTariff(const Invocation &in, const Clock &clock)
{
    std::optional<Target> t = parseTarget(in, clock);
    if (!t)
        return exitUsage;
    const bool push = in.parser.isSet(versionOption) || in.parser.isSet(pricesOption) || in.parser.isSet(touOption);
    if (push) {
        if (!in.parser.isSet(versionOption) || !in.parser.isSet(pricesOption) || !in.parser.isSet(touOption))
            return in.fail(
                exitUsage, QStringLiteral("to push a tariff give --set-version, --prices and --tou together"));
        const std::optional<TariffBlock> tariff = parseTariff(in);
        if (!tariff)
            return exitUsage;
        if (const DriverError e = t->profile->pushTariff(*t->client, t->unit, *tariff); !e.ok())
            return driverFailure(in, e);
    }
    const Result<TariffBlock> now = t->profile->readTariff(*t->client, t->unit);
    if (!now.ok())
        return driverFailure(in, now.error);
    const QJsonObject o = tariffJson(now.value);
    if (t->json) {
        printJson(in, o);
    } else {
        in.out << (push ? "pushed and verified: " : "") << "tariff version " << now.value.version << "\n";
        for (int i = 0; i < 4; ++i)
            in.out << "  " << tariffSlotName(TariffSlot(i)).leftJustified(7)
                   << Price::fromTenThousandthYuan(now.value.prices[i]).toString(QLocale::c()) << '\n';
        QStringList tou;
        for (const QJsonValue &v : o[QStringLiteral("tou")].toArray())
            tou << v.toString();
        in.out << "  tou    " << tou.join(QStringLiteral(", ")) << '\n';
    }
    return 0;
}

const QCommandLineOption alarm1Option(
    QStringLiteral("alarm1"), QStringLiteral("Alarm 1 at this balance (yuan)."), QStringLiteral("YUAN"));
const QCommandLineOption alarm2Option(
    QStringLiteral("alarm2"), QStringLiteral("Alarm 2 at this balance (yuan), ≤ alarm 1."), QStringLiteral("YUAN"));
const QCommandLineOption overdraftOption(
    QStringLiteral("overdraft"), QStringLiteral("Trip at −this balance (yuan)."), QStringLiteral("YUAN"));
const QCommandLineOption overloadOption(
    QStringLiteral("overload-w"), QStringLiteral("Overload trip above this power; 0 = off."), QStringLiteral("W"));
const QCommandLineOption overloadDelayOption(QStringLiteral("overload-delay-s"),
    QStringLiteral("Seconds above the limit before tripping."), QStringLiteral("S"));
const QCommandLineOption recoverDelayOption(QStringLiteral("recover-delay-s"),
    QStringLiteral("Seconds before re-closing after an overload trip."), QStringLiteral("S"));
const QCommandLineOption maxTripsOption(
    QStringLiteral("max-trips"), QStringLiteral("Overload trips before lockout."), QStringLiteral("N"));
const QCommandLineOption closePolicyOption(QStringLiteral("close-policy"),
    QStringLiteral("auto or permit: re-close by itself after a recharge, or wait for close-permit."),
    QStringLiteral("auto|permit"));

int meterThresholds(const Invocation &in, const Clock &clock)
{
    std::optional<Target> t = parseTarget(in, clock);
    if (!t)
        return exitUsage;
    Result<ThresholdBlock> current = t->profile->readThresholds(*t->client, t->unit);
    if (!current.ok())
        return driverFailure(in, current.error);
    ThresholdBlock wanted = current.value;
    bool push = false;
    const auto money = [&](const QCommandLineOption &o, quint32 *into) {
        if (!in.parser.isSet(o))
            return true;
        const Parsed<Money> m = Money::parse(in.parser.value(o));
        if (!m.ok() || m.value.fen() > 0xFFFFFFFFll) {
            in.fail(exitUsage,
                QStringLiteral("--%1: %2")
                    .arg(o.names().first(), m.ok() ? QStringLiteral("too large") : m.errorMessage()));
            return false;
        }
        *into = quint32(m.value.fen());
        push = true;
        return true;
    };
    const auto number = [&](const QCommandLineOption &o, auto *into, qint64 max) {
        if (!in.parser.isSet(o))
            return true;
        bool ok = false;
        const qlonglong v = in.parser.value(o).toLongLong(&ok);
        if (!ok || v < 0 || v > max) {
            in.fail(exitUsage,
                QStringLiteral("--%1 %2 is not in 0..%3").arg(o.names().first(), in.parser.value(o)).arg(max));
            return false;
        }
        *into = std::remove_pointer_t<decltype(into)>(v);
        push = true;
        return true;
    };
    if (!money(alarm1Option, &wanted.alarm1Fen) || !money(alarm2Option, &wanted.alarm2Fen)
        || !money(overdraftOption, &wanted.overdraftLimitFen)
        || !number(overloadOption, &wanted.overloadLimitW, 0xFFFFFFFFll)
        || !number(overloadDelayOption, &wanted.overloadDelayS, 65535)
        || !number(recoverDelayOption, &wanted.overloadRecoverDelayS, 65535)
        || !number(maxTripsOption, &wanted.overloadMaxTrips, 65535))
        return exitUsage;
    if (in.parser.isSet(closePolicyOption)) {
        const QString v = in.parser.value(closePolicyOption);
        if (v != u"auto" && v != u"permit")
            return in.fail(exitUsage, QStringLiteral("--close-policy %1: say auto or permit").arg(v));
        wanted.closePolicy = v == u"auto" ? ClosePolicy::AutoClose : ClosePolicy::WaitForPermit;
        push = true;
    }
    if (push) {
        if (const DriverError e = t->profile->pushThresholds(*t->client, t->unit, wanted); !e.ok())
            return driverFailure(in, e);
        current.value = wanted;
    }
    const ThresholdBlock &v = current.value;
    if (t->json) {
        printJson(in,
            {{QStringLiteral("alarm1_fen"), qint64(v.alarm1Fen)}, {QStringLiteral("alarm2_fen"), qint64(v.alarm2Fen)},
                {QStringLiteral("overdraft_limit_fen"), qint64(v.overdraftLimitFen)},
                {QStringLiteral("overload_limit_w"), qint64(v.overloadLimitW)},
                {QStringLiteral("overload_delay_s"), v.overloadDelayS},
                {QStringLiteral("overload_recover_delay_s"), v.overloadRecoverDelayS},
                {QStringLiteral("overload_max_trips"), v.overloadMaxTrips},
                {QStringLiteral("close_policy"),
                    v.closePolicy == ClosePolicy::AutoClose ? QStringLiteral("auto") : QStringLiteral("permit")}});
    } else {
        in.out << (push ? "pushed and verified: " : "") << "alarm 1 at " << yuan(v.alarm1Fen) << ", alarm 2 at "
               << yuan(v.alarm2Fen) << ", trip at "
               << Money::fromFen(-qint64(v.overdraftLimitFen)).toString(QLocale::c()) << "\noverload "
               << v.overloadLimitW << " W for " << v.overloadDelayS << " s, re-close after " << v.overloadRecoverDelayS
               << " s, lockout after " << v.overloadMaxTrips << " trips; close policy "
               << (v.closePolicy == ClosePolicy::AutoClose ? "auto" : "permit") << '\n';
    }
    return 0;
}

const QCommandLineOption setTimeOption(QStringLiteral("set"),
    QStringLiteral("Set the clock: now, a Unix time, or ISO 8601 (2026-11-24T09:30:00+08:00)."),
    QStringLiteral("TIME"));

int meterClock(const Invocation &in, const Clock &clock)
{
    std::optional<Target> t = parseTarget(in, clock);
    if (!t)
        return exitUsage;
    if (in.parser.isSet(setTimeOption)) {
        const QString v = in.parser.value(setTimeOption);
        qint64 seconds = 0;
        bool ok = false;
        if (v == u"now") {
            seconds = clock.wallMs() / 1000;
        } else if (seconds = v.toLongLong(&ok); !ok) {
            const QDateTime dt = QDateTime::fromString(v, Qt::ISODate);
            if (!dt.isValid() || dt.timeSpec() == Qt::LocalTime)
                return in.fail(
                    exitUsage, QStringLiteral("--set %1: say now, a Unix time or ISO 8601 with a zone").arg(v));
            seconds = dt.toSecsSinceEpoch();
        }
        if (const DriverError e = t->profile->setClock(*t->client, t->unit, seconds); !e.ok())
            return driverFailure(in, e);
    }
    const Result<MeterSnapshot> s = t->profile->readSnapshot(*t->client, t->unit);
    if (!s.ok())
        return driverFailure(in, s.error);
    if (!s.value.meterTimeS)
        return driverFailure(in,
            DriverError::make(
                ErrorKind::NotSupported, QStringLiteral("the %1 profile has no clock").arg(t->profile->name())));
    const qint64 drift = *s.value.meterTimeS - clock.wallMs() / 1000;
    if (t->json) {
        printJson(in, {{QStringLiteral("meter_time"), *s.value.meterTimeS}, {QStringLiteral("drift_s"), drift}});
    } else {
        in.out << "meter time " << QDateTime::fromSecsSinceEpoch(*s.value.meterTimeS, Qt::UTC).toString(Qt::ISODate)
               << " (" << (drift >= 0 ? "+" : "") << drift << " s against this computer)\n";
    }
    return 0;
}

} // namespace

QList<Command> meterCommands(const Clock &clock)
{
    const auto bind = [&clock](int (*f)(const Invocation &, const Clock &)) {
        return [f, &clock](const Invocation &in) { return f(in, clock); };
    };
    const QString where = QStringLiteral("--tcp HOST:PORT|--rtu DEV --unit N");
    const QString common
        = QStringLiteral("\n\nTalks to the meter directly (no prepayd needed): --tcp for a gateway port, --rtu for "
                         "a local serial line.")
        + QLatin1StringView(exitCodesHelp);
    QList<Command> commands;
    commands.append({{QStringLiteral("meter"), QStringLiteral("read")},
        where + QStringLiteral("   read one meter (--json)"),
        QStringLiteral("Read a meter's state in one request: identity, relay, balance, energy, power, clock.") + common,
        connectionOptions(), {}, {}, bind(meterRead)});
    commands.append({{QStringLiteral("meter"), QStringLiteral("recharge")},
        QStringLiteral("… --amount YUAN --txn N   put money on the meter, at most once"),
        QStringLiteral("Recharge a meter that holds its own balance, with the map's idempotent algorithm: the sequence "
                       "is fixed first, the frame is resent identically after a lost reply, and a recharge is "
                       "applied at most once. After a timeout, rerun with the printed --seq.")
            + common,
        connectionOptions() + QList<QCommandLineOption>{amountOption, txnOption, seqOption}, {}, {},
        bind(meterRecharge)});
    commands.append({{QStringLiteral("meter"), QStringLiteral("relay")},
        QStringLiteral("…   auto|force-on|force-off|close-permit|clear-lockout"),
        QStringLiteral(
            "Set the relay mode (auto, force-on = 保电, force-off = 拉闸) or send a relay action (close-permit, "
            "clear-lockout); verified by reading back.")
            + common,
        connectionOptions(), {QStringLiteral("ACTION")}, {}, bind(meterRelay)});
    commands.append({{QStringLiteral("meter"), QStringLiteral("tariff")},
        QStringLiteral("…   show, or push with --set-version --prices --tou"),
        QStringLiteral(
            "Show the meter's tariff, or push one (version, four prices, day schedule); verified by reading back.")
            + common,
        connectionOptions() + QList<QCommandLineOption>{versionOption, pricesOption, touOption}, {}, {},
        bind(meterTariff)});
    commands.append({{QStringLiteral("meter"), QStringLiteral("thresholds")},
        QStringLiteral("…   show, or change alarms, overdraft, overload"),
        QStringLiteral(
            "Show the meter's thresholds, or change the ones given (the others are kept); verified by reading back.")
            + common,
        connectionOptions()
            + QList<QCommandLineOption>{alarm1Option, alarm2Option, overdraftOption, overloadOption,
                overloadDelayOption, recoverDelayOption, maxTripsOption, closePolicyOption},
        {}, {}, bind(meterThresholds)});
    commands.append({{QStringLiteral("meter"), QStringLiteral("clock")}, QStringLiteral("…   show, or --set now|TIME"),
        QStringLiteral("Show the meter's clock and its drift against this computer, or set it.") + common,
        connectionOptions() + QList<QCommandLineOption>{setTimeOption}, {}, {}, bind(meterClock)});
    return commands;
}

} // namespace prepay::ctl
