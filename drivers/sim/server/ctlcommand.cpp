#include "ctlcommand.h"

#include "faults.h"
#include "simulation.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QEventLoop>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QTextStream>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>

#include <functional>
#include <optional>

namespace prepay::sim {

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitRefused = 65;
constexpr int kExitUnavailable = 69;

struct HttpResult
{
    int status = 0; // 0: no answer at all
    QJsonObject json;
    QString transportError;
};

HttpResult call(quint16 port, const QByteArray &method, const QString &path, const QJsonObject &body = {})
{
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    request.setTransferTimeout(kCtlRequestTimeoutMs);
    QByteArray payload;
    if (method == "POST") {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        payload = QJsonDocument(body).toJson(QJsonDocument::Compact);
    }
    QNetworkReply *reply = manager.sendCustomRequest(request, method, payload);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    HttpResult result;
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray data = reply->readAll();
    if (result.status == 0)
        result.transportError = reply->errorString();
    result.json = QJsonDocument::fromJson(data).object();
    reply->deleteLater();
    return result;
}

struct Context
{
    QString program; // "prepay-sim ctl fault add"
    const QCommandLineParser &parser;
    QStringList positional;
    quint16 port = 0;
    QTextStream &out;
    QTextStream &err;

    int usage(const QString &message) const
    {
        err << program << ": " << message << " (see --help)\n";
        return kExitUsage;
    }

    // Sends the request; on success returns the JSON, else prints the error and sets *exitCode.
    std::optional<QJsonObject> request(
        const QByteArray &method, const QString &path, int *exitCode, const QJsonObject &body = {}) const
    {
        const HttpResult r = call(port, method, path, body);
        if (r.status == 0) {
            err << program << ": no prepay-sim control interface on 127.0.0.1:" << port << " (" << r.transportError
                << ")\n";
            *exitCode = kExitUnavailable;
            return std::nullopt;
        }
        if (r.status != 200) {
            const QString message = r.json.value(QStringLiteral("error")).toString();
            err << program << ": " << (message.isEmpty() ? QStringLiteral("HTTP %1").arg(r.status) : message) << '\n';
            *exitCode = r.status >= 500 ? kExitUnavailable : kExitRefused;
            return std::nullopt;
        }
        return r.json;
    }

    void print(const QJsonObject &json) const
    {
        out << QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Indented));
    }

    // A strictly parsed integer option or positional; nullopt after printing the usage error.
    std::optional<qint64> integer(const QString &what, const QString &text, qint64 min, qint64 max) const
    {
        bool ok = false;
        const qint64 value = text.toLongLong(&ok);
        if (!ok || value < min || value > max) {
            usage(QStringLiteral("%1: '%2' is not an integer in %3..%4").arg(what, text).arg(min).arg(max));
            return std::nullopt;
        }
        return value;
    }

    // {"gateway", "unit"} / {"serial"} / {"gateway", "bus"} / {"gateway"} from the options.
    std::optional<QJsonObject> target() const
    {
        QJsonObject t;
        if (parser.isSet(QStringLiteral("serial"))) {
            const auto serial
                = integer(QStringLiteral("--serial"), parser.value(QStringLiteral("serial")), 0, 0xFFFFFFFFLL);
            if (!serial)
                return std::nullopt;
            t.insert(QStringLiteral("serial"), *serial);
        }
        if (parser.isSet(QStringLiteral("gateway"))) {
            const auto gateway
                = integer(QStringLiteral("--gateway"), parser.value(QStringLiteral("gateway")), 0, 65535);
            if (!gateway)
                return std::nullopt;
            t.insert(QStringLiteral("gateway"), *gateway);
        }
        if (parser.isSet(QStringLiteral("unit"))) {
            const auto unit = integer(QStringLiteral("--unit"), parser.value(QStringLiteral("unit")), 1, 247);
            if (!unit)
                return std::nullopt;
            t.insert(QStringLiteral("unit"), *unit);
        }
        if (parser.isSet(QStringLiteral("bus")))
            t.insert(QStringLiteral("bus"), parser.value(QStringLiteral("bus")));
        if (t.isEmpty()) {
            usage(QStringLiteral("give --gateway G [--unit U | --bus NAME], or --serial S"));
            return std::nullopt;
        }
        return t;
    }
};

struct Command
{
    QStringList words;
    QString synopsis;
    QStringList positional; // names; a trailing '?' marks an optional one
    QList<QCommandLineOption> options;
    std::function<int(const Context &)> run;
};

QCommandLineOption opt(const char *name, const QString &description, const char *value = nullptr)
{
    return value ? QCommandLineOption(QString::fromLatin1(name), description, QString::fromLatin1(value))
                 : QCommandLineOption(QString::fromLatin1(name), description);
}

QList<QCommandLineOption> targetOptions()
{
    return {opt("gateway", QStringLiteral("Gateway index (0, 1, … in building-file order)."), "G"),
        opt("unit", QStringLiteral("Unit id of a meter on that gateway."), "U"),
        opt("bus", QStringLiteral("Bus name of that gateway (a whole bus)."), "NAME"),
        opt("serial", QStringLiteral("A meter by its serial (instead of --gateway/--unit)."), "S")};
}

int status(const Context &c)
{
    int rc = 0;
    const auto json = c.request("GET", QStringLiteral("/status"), &rc);
    if (!json)
        return rc;
    c.print(*json);
    return 0;
}

int meters(const Context &c)
{
    int rc = 0;
    const auto json = c.request("GET", QStringLiteral("/meters"), &rc);
    if (!json)
        return rc;
    c.print(*json);
    return 0;
}

int truth(const Context &c)
{
    QString path;
    if (c.parser.isSet(QStringLiteral("serial"))) {
        if (!c.positional.isEmpty())
            return c.usage(QStringLiteral("give GATEWAY UNIT or --serial S, not both"));
        const auto serial
            = c.integer(QStringLiteral("--serial"), c.parser.value(QStringLiteral("serial")), 0, 0xFFFFFFFFLL);
        if (!serial)
            return kExitUsage;
        path = QStringLiteral("/meters/by-serial/%1").arg(*serial);
    } else {
        if (c.positional.size() != 2)
            return c.usage(QStringLiteral("expected GATEWAY UNIT, or --serial S"));
        const auto gateway = c.integer(QStringLiteral("GATEWAY"), c.positional.at(0), 0, 65535);
        const auto unit = gateway ? c.integer(QStringLiteral("UNIT"), c.positional.at(1), 1, 247) : std::nullopt;
        if (!unit)
            return kExitUsage;
        path = QStringLiteral("/meters/%1/%2").arg(*gateway).arg(*unit);
    }
    int rc = 0;
    const auto json = c.request("GET", path, &rc);
    if (!json)
        return rc;
    c.print(*json);
    return 0;
}

int faultAdd(const Context &c)
{
    const QString kind = c.positional.at(0);
    const auto target = c.target();
    if (!target)
        return kExitUsage;
    QJsonObject body{{QStringLiteral("kind"), kind}, {QStringLiteral("target"), *target}};
    // Integer parameters go as numbers; the simulator checks which kind takes which.
    const QList<std::pair<QString, QString>> integers
        = {{QStringLiteral("ms"), QStringLiteral("ms")}, {QStringLiteral("code"), QStringLiteral("code")},
            {QStringLiteral("units-before-wrap"), QStringLiteral("units_before_wrap")},
            {QStringLiteral("new-serial"), QStringLiteral("new_serial")}, {QStringLiteral("wh"), QStringLiteral("wh")},
            {QStringLiteral("function"), QStringLiteral("function")}};
    for (const auto &[option, key] : integers) {
        if (!c.parser.isSet(option))
            continue;
        QString text = c.parser.value(option);
        bool ok = false;
        const qint64 value
            = text.startsWith(QStringLiteral("0x")) ? text.mid(2).toLongLong(&ok, 16) : text.toLongLong(&ok);
        if (!ok)
            return c.usage(QStringLiteral("--%1: '%2' is not an integer").arg(option, text));
        body.insert(key, value);
    }
    if (c.parser.isSet(QStringLiteral("response")))
        body.insert(QStringLiteral("response"), c.parser.value(QStringLiteral("response")));
    int rc = 0;
    const auto json = c.request("POST", QStringLiteral("/faults"), &rc, body);
    if (!json)
        return rc;
    const bool persistent = json->value(QStringLiteral("persistent")).toBool();
    c.out << "fault " << json->value(QStringLiteral("id")).toInt() << (persistent ? " added: " : " applied: ")
          << json->value(QStringLiteral("kind")).toString() << " on " << json->value(QStringLiteral("where")).toString()
          << '\n';
    return 0;
}

int faultList(const Context &c)
{
    int rc = 0;
    const auto json = c.request("GET", QStringLiteral("/faults"), &rc);
    if (!json)
        return rc;
    c.print(*json);
    return 0;
}

int faultClear(const Context &c)
{
    QString path = QStringLiteral("/faults");
    if (!c.positional.isEmpty()) {
        const auto id = c.integer(QStringLiteral("ID"), c.positional.at(0), 1, 0x7FFFFFFF);
        if (!id)
            return kExitUsage;
        path += QStringLiteral("/%1").arg(*id);
    }
    int rc = 0;
    const auto json = c.request("DELETE", path, &rc);
    if (!json)
        return rc;
    QStringList ids;
    const QJsonArray cleared = json->value(QStringLiteral("cleared")).toArray();
    for (const QJsonValue &id : cleared)
        ids << QString::number(id.toInt());
    if (ids.isEmpty())
        c.out << "no faults were in force\n";
    else
        c.out << "cleared " << (ids.size() == 1 ? QStringLiteral("fault ") : QStringLiteral("faults "))
              << ids.join(QStringLiteral(", ")) << '\n';
    return 0;
}

int advance(const Context &c)
{
    bool ok = false;
    const double seconds = c.positional.at(0).toDouble(&ok);
    if (!ok)
        return c.usage(QStringLiteral("SECONDS: '%1' is not a number").arg(c.positional.at(0)));
    int rc = 0;
    const auto json = c.request("POST", QStringLiteral("/time/advance"), &rc, {{QStringLiteral("seconds"), seconds}});
    if (!json)
        return rc;
    c.out << "sim time " << json->value(QStringLiteral("sim_time")).toString() << '\n';
    return 0;
}

int factor(const Context &c)
{
    bool ok = false;
    const double factor = c.positional.at(0).toDouble(&ok);
    if (!ok)
        return c.usage(QStringLiteral("F: '%1' is not a number").arg(c.positional.at(0)));
    int rc = 0;
    const auto json = c.request("POST", QStringLiteral("/time/factor"), &rc, {{QStringLiteral("factor"), factor}});
    if (!json)
        return rc;
    c.out << "time factor " << json->value(QStringLiteral("time_factor")).toDouble() << ", sim time "
          << json->value(QStringLiteral("sim_time")).toString() << '\n';
    return 0;
}

int load(const Context &c)
{
    const auto target = c.target();
    if (!target)
        return kExitUsage;
    if (!c.parser.isSet(QStringLiteral("watts")))
        return c.usage(QStringLiteral("--watts W|profile is required"));
    const QString text = c.parser.value(QStringLiteral("watts"));
    QJsonValue watts(QJsonValue::Null);
    if (text != u"profile") {
        const auto w = c.integer(QStringLiteral("--watts"), text, 0, 10'000'000);
        if (!w)
            return kExitUsage;
        watts = *w;
    }
    int rc = 0;
    const auto json = c.request(
        "POST", QStringLiteral("/load"), &rc, {{QStringLiteral("target"), *target}, {QStringLiteral("watts"), watts}});
    if (!json)
        return rc;
    c.out << "load of " << json->value(QStringLiteral("where")).toString() << ": "
          << (watts.isNull() ? QStringLiteral("profile") : QStringLiteral("%1 W").arg(watts.toInteger())) << " ("
          << json->value(QStringLiteral("meters")).toInt() << " meters)\n";
    return 0;
}

} // namespace

int runCtl(const QString &program, const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    const QString kinds = faultKindNames().join(QStringLiteral(", "));
    QList<QCommandLineOption> faultOptions = targetOptions();
    faultOptions += {opt("ms", QStringLiteral("late_reply: the reply comes after N ms."), "N"),
        opt("code", QStringLiteral("exception: the exception code (1..255, 0x.. allowed)."), "N"),
        opt("response", QStringLiteral("offline over TCP: exception (0x0B) or silence."), "exception|silence"),
        opt("units-before-wrap", QStringLiteral("rollover: energy register units (0.01 kWh) before it wraps."), "N"),
        opt("new-serial", QStringLiteral("swap: the new meter's serial."), "S"),
        opt("wh", QStringLiteral("jump: Wh the energy counter jumps by."), "WH"),
        opt("function",
            QStringLiteral(
                "transport faults: only requests of this function code (3 = reads, 16 = writes, 0x.. allowed)."),
            "FC")};
    QList<QCommandLineOption> loadOptions = targetOptions();
    loadOptions
        += opt("watts", QStringLiteral("Fixed load in W, or \"profile\" for the meter's load profile."), "W|profile");
    QList<QCommandLineOption> truthOptions = {opt("serial", QStringLiteral("The meter's serial."), "S")};

    const QList<Command> commands = {
        {{QStringLiteral("status")}, QStringLiteral("The simulator's building, time, gateways, buses and ptys (JSON)."),
            {}, {}, status},
        {{QStringLiteral("meters")}, QStringLiteral("Every meter: gateway, bus, unit id, serial (JSON)."), {}, {},
            meters},
        {{QStringLiteral("truth")},
            QStringLiteral("What a meter really is right now (JSON): truth GATEWAY UNIT, or truth --serial S."),
            {QStringLiteral("GATEWAY?"), QStringLiteral("UNIT?")}, truthOptions, truth},
        {{QStringLiteral("fault"), QStringLiteral("add")},
            QStringLiteral("Injects a fault. KIND: %1. Target: --gateway G [--unit U | --bus NAME], or --serial S.")
                .arg(kinds),
            {QStringLiteral("KIND")}, faultOptions, faultAdd},
        {{QStringLiteral("fault"), QStringLiteral("list")}, QStringLiteral("The faults in force (JSON)."), {}, {},
            faultList},
        {{QStringLiteral("fault"), QStringLiteral("clear")},
            QStringLiteral("Clears fault ID, or every fault without ID."), {QStringLiteral("ID?")}, {}, faultClear},
        {{QStringLiteral("advance")}, QStringLiteral("Moves the simulated time ahead by SECONDS."),
            {QStringLiteral("SECONDS")}, {}, advance},
        {{QStringLiteral("factor")}, QStringLiteral("Sets the time factor (simulated seconds per real second)."),
            {QStringLiteral("F")}, {}, factor},
        {{QStringLiteral("load")},
            QStringLiteral("Fixes the load of a meter (or bus, gateway), or returns it to its profile."), {},
            loadOptions, load},
    };

    QString overview = QStringLiteral("Usage: %1 [--control-port C] COMMAND [options]\n\n"
                                      "Talks to a running 'prepay-sim meters' (control port: its --port-base + %2, "
                                      "default %3).\n\nCommands:\n")
                           .arg(program)
                           .arg(SimulationConfig::kControlPortOffset)
                           .arg(SimulationConfig::kPortBaseDefault + SimulationConfig::kControlPortOffset);
    for (const Command &command : commands)
        overview += QStringLiteral("  %1  %2\n").arg(command.words.join(u' '), -12).arg(command.synopsis);
    overview += QStringLiteral("\nRun '%1 COMMAND --help' for a command's options.\n"
                               "Exit codes: 0 done, 64 bad command line, 65 the simulator refused the request, "
                               "69 no simulator on the control port.\n")
                    .arg(program);

    // --control-port may come before the command words too.
    QStringList args = arguments;
    QStringList portOption;
    if (!args.isEmpty() && args.first().startsWith(QStringLiteral("--control-port"))) {
        const qsizetype take = args.first().contains(u'=') ? 1 : 2;
        portOption = args.mid(0, take);
        args = args.mid(take);
    }
    if (args.isEmpty() || args.first() == u"--help" || args.first() == u"-h" || args.first() == u"help") {
        (args.isEmpty() ? err : out) << overview;
        return args.isEmpty() ? kExitUsage : 0;
    }

    for (const Command &command : commands) {
        if (args.mid(0, command.words.size()) != command.words)
            continue;
        const QString name = program + u' ' + command.words.join(u' ');
        QCommandLineParser parser;
        parser.setApplicationDescription(command.synopsis);
        parser.addHelpOption();
        const QCommandLineOption portOpt(QStringLiteral("control-port"),
            QStringLiteral("Control port of the simulator (default %1).")
                .arg(SimulationConfig::kPortBaseDefault + SimulationConfig::kControlPortOffset),
            QStringLiteral("C"));
        parser.addOption(portOpt);
        parser.addOptions(command.options);
        for (const QString &p : command.positional)
            parser.addPositionalArgument(p, p.endsWith(u'?') ? QStringLiteral("(optional)") : QString());
        if (!parser.parse(QStringList{name} + portOption + args.mid(command.words.size()))) {
            err << name << ": " << parser.errorText() << " (see --help)\n";
            return kExitUsage;
        }
        if (parser.isSet(QStringLiteral("help"))) {
            QString help = parser.helpText();
            help.replace(QRegularExpression(QStringLiteral("^Usage: \\S+")), QStringLiteral("Usage: ") + name);
            out << help;
            return 0;
        }
        const QStringList positional = parser.positionalArguments();
        qsizetype required = 0;
        for (const QString &p : command.positional)
            required += p.endsWith(u'?') ? 0 : 1;
        if (positional.size() < required || positional.size() > command.positional.size()) {
            err << name << ": expected "
                << (command.positional.isEmpty() ? QStringLiteral("no arguments") : command.positional.join(u' '))
                << ", got " << (positional.isEmpty() ? QStringLiteral("none") : positional.join(u' '))
                << " (see --help)\n";
            return kExitUsage;
        }
        quint16 port = SimulationConfig::kPortBaseDefault + SimulationConfig::kControlPortOffset;
        if (parser.isSet(portOpt)) {
            bool ok = false;
            const uint value = parser.value(portOpt).toUInt(&ok);
            if (!ok || value == 0 || value > 65535) {
                err << name << ": --control-port: '" << parser.value(portOpt) << "' is not a port (see --help)\n";
                return kExitUsage;
            }
            port = quint16(value);
        }
        const Context context{name, parser, positional, port, out, err};
        return command.run(context);
    }
    err << program << ": unknown command '" << args.join(u' ') << "'\n\n" << overview;
    return kExitUsage;
}

} // namespace prepay::sim
