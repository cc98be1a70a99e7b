#include "config.h"

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtNetwork/QHostAddress>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>

#include <functional>

namespace prepay::service {

namespace {

// One key: how to read it into a Config and how to write it back.
struct KeyHandler
{
    ConfigKey key;
    std::function<QString(const QString &value, Config *config)> parse; // empty string = accepted
    std::function<QString(const Config &config)> format;
};

QString parseInt(const QString &value, qint64 min, qint64 max, qint64 *out)
{
    static const QRegularExpression digits(QStringLiteral("^-?[0-9]{1,18}$"));
    if (!digits.match(value).hasMatch())
        return QStringLiteral("must be an integer from %1 to %2").arg(min).arg(max);
    const qint64 parsed = value.toLongLong();
    if (parsed < min || parsed > max)
        return QStringLiteral("must be an integer from %1 to %2").arg(min).arg(max);
    *out = parsed;
    return {};
}

KeyHandler intKey(const QString &name, qint64 min, qint64 max, const QString &meaning, int Config::*member)
{
    KeyHandler handler;
    handler.key = ConfigKey{name, QString::number(Config().*member), meaning};
    handler.parse = [min, max, member](const QString &value, Config *config) {
        qint64 parsed = 0;
        const QString problem = parseInt(value, min, max, &parsed);
        if (problem.isEmpty())
            config->*member = static_cast<int>(parsed);
        return problem;
    };
    handler.format = [member](const Config &config) { return QString::number(config.*member); };
    return handler;
}

KeyHandler portKey(const QString &name, bool zeroAllowed, const QString &meaning, quint16 Config::*member)
{
    KeyHandler handler;
    handler.key = ConfigKey{name, QString::number(Config().*member), meaning};
    handler.parse = [zeroAllowed, member](const QString &value, Config *config) {
        qint64 parsed = 0;
        const QString problem = parseInt(value, zeroAllowed ? 0 : 1, 65535, &parsed);
        if (problem.isEmpty())
            config->*member = static_cast<quint16>(parsed);
        return problem;
    };
    handler.format = [member](const Config &config) { return QString::number(config.*member); };
    return handler;
}

KeyHandler addressKey(const QString &name, const QString &meaning, QString Config::*member)
{
    KeyHandler handler;
    handler.key = ConfigKey{name, Config().*member, meaning};
    handler.parse = [member](const QString &value, Config *config) {
        QHostAddress address;
        if (!address.setAddress(value))
            return QStringLiteral("must be an IPv4 or IPv6 address (0.0.0.0 listens on every interface)");
        config->*member = value;
        return QString();
    };
    handler.format = [member](const Config &config) { return config.*member; };
    return handler;
}

QList<KeyHandler> handlers()
{
    QList<KeyHandler> list;
    list << addressKey(QStringLiteral("api.listen_address"),
        QStringLiteral("address the API listens on (0.0.0.0: every interface)"), &Config::listenAddress);
    list << portKey(QStringLiteral("api.staff_port"), false,
        QStringLiteral("TLS 1.3 port for staff logins and kiosk enrolment (server certificate only)"),
        &Config::staffPort);
    list << portKey(QStringLiteral("api.kiosk_port"), false,
        QStringLiteral("TLS 1.3 port for enrolled kiosks (mutual TLS: the kiosk's certificate is required)"),
        &Config::kioskPort);

    KeyHandler names;
    names.key = ConfigKey{QStringLiteral("api.server_names"), QString(),
        QStringLiteral("comma-separated host names or addresses clients use to reach prepayd, added to the "
                       "server certificate (localhost, 127.0.0.1 and this host's name are always in it)")};
    names.parse = [](const QString &value, Config *config) {
        static const QRegularExpression hostName(
            QStringLiteral("^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$"));
        QStringList parsed;
        for (const QString &part : value.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QString name = part.trimmed();
            if (!hostName.match(name).hasMatch() && QHostAddress(name).isNull())
                return QStringLiteral("'%1' is neither a host name nor an IP address").arg(name);
            parsed << name;
        }
        config->serverNames = parsed;
        return QString();
    };
    names.format = [](const Config &config) { return config.serverNames.join(QStringLiteral(", ")); };
    list << names;

    list << intKey(QStringLiteral("api.frame_max_bytes"), 1024, 16 * 1024 * 1024,
        QStringLiteral("largest request frame accepted; a larger one is refused without being parsed"),
        &Config::frameMaxBytes);
    list << intKey(QStringLiteral("api.connections_max"), 1, 10000,
        QStringLiteral("connections open at once over both ports; more are refused"), &Config::connectionsMax);
    list << intKey(QStringLiteral("api.requests_per_second"), 1, 100000,
        QStringLiteral("requests one connection may send per second, sustained"), &Config::requestsPerSecond);
    list << intKey(QStringLiteral("api.requests_burst"), 1, 100000,
        QStringLiteral("requests one connection may send at once before the rate applies"), &Config::requestsBurst);
    list << intKey(QStringLiteral("api.login_hashes_concurrent_max"), 1, 64,
        QStringLiteral("password hashes computed at once (each costs ~0.1 s of a core and 32 MiB)"),
        &Config::loginHashesConcurrentMax);

    list << addressKey(QStringLiteral("health.listen_address"),
        QStringLiteral("address of the plain-HTTP health endpoint (keep it on loopback)"), &Config::healthAddress);
    list << portKey(QStringLiteral("health.port"), true,
        QStringLiteral("port of GET /health (0: no health endpoint)"), &Config::healthPort);

    KeyHandler format;
    format.key = ConfigKey{QStringLiteral("log.format"), QStringLiteral("text"),
        QStringLiteral("text: one readable line per event; json: one JSON object per line")};
    format.parse = [](const QString &value, Config *config) {
        if (value == QLatin1String("text"))
            config->logFormat = LogFormat::Text;
        else if (value == QLatin1String("json"))
            config->logFormat = LogFormat::Json;
        else
            return QStringLiteral("must be text or json");
        return QString();
    };
    format.format = [](const Config &config) {
        return config.logFormat == LogFormat::Json ? QStringLiteral("json") : QStringLiteral("text");
    };
    list << format;

    KeyHandler verbose;
    verbose.key = ConfigKey{QStringLiteral("log.verbose"), QStringLiteral("false"),
        QStringLiteral("true: debug messages too (as --verbose)")};
    verbose.parse = [](const QString &value, Config *config) {
        if (value == QLatin1String("true"))
            config->logVerbose = true;
        else if (value == QLatin1String("false"))
            config->logVerbose = false;
        else
            return QStringLiteral("must be true or false");
        return QString();
    };
    verbose.format = [](const Config &config) {
        return config.logVerbose ? QStringLiteral("true") : QStringLiteral("false");
    };
    list << verbose;
    return list;
}

// Limits that only make sense together.
QString checkRelations(const Config &config)
{
    if (config.staffPort == config.kioskPort)
        return QStringLiteral("api.staff_port and api.kiosk_port must differ (both are %1)").arg(config.staffPort);
    if (config.healthPort != 0 && (config.healthPort == config.staffPort || config.healthPort == config.kioskPort))
        return QStringLiteral("health.port %1 is already an API port").arg(config.healthPort);
    if (config.requestsBurst < config.requestsPerSecond)
        return QStringLiteral("api.requests_burst (%1) must be at least api.requests_per_second (%2)")
            .arg(config.requestsBurst)
            .arg(config.requestsPerSecond);
    return {};
}

} // namespace

QList<ConfigKey> configKeys()
{
    QList<ConfigKey> keys;
    for (const KeyHandler &handler : handlers())
        keys << handler.key;
    return keys;
}

std::optional<Config> parseConfig(const QByteArray &text, const QString &fileName, QString *error)
{
    const QList<KeyHandler> all = handlers();
    QHash<QString, const KeyHandler *> byName;
    QSet<QString> sections;
    for (const KeyHandler &handler : all) {
        byName.insert(handler.key.name, &handler);
        sections.insert(handler.key.name.section(QLatin1Char('.'), 0, 0));
    }

    const QString decoded = QString::fromUtf8(text);
    if (decoded.toUtf8() != text) {
        *error = QStringLiteral("%1: not UTF-8 text").arg(fileName);
        return std::nullopt;
    }

    Config config;
    QString section;
    QSet<QString> seen;
    const QStringList lines = decoded.split(QLatin1Char('\n'));
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString where = QStringLiteral("%1:%2").arg(fileName).arg(i + 1);
        const QString line = lines.at(i).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1Char(';')))
            continue;
        if (line.startsWith(QLatin1Char('['))) {
            if (!line.endsWith(QLatin1Char(']'))) {
                *error = QStringLiteral("%1: '%2' is not a [section] line").arg(where, line);
                return std::nullopt;
            }
            section = line.mid(1, line.size() - 2).trimmed();
            if (!sections.contains(section)) {
                *error = QStringLiteral("%1: unknown section [%2] (known: %3)")
                             .arg(where, section, QStringList(sections.values()).join(QStringLiteral(", ")));
                return std::nullopt;
            }
            continue;
        }
        const qsizetype equals = line.indexOf(QLatin1Char('='));
        if (equals < 0) {
            *error = QStringLiteral("%1: '%2' is neither 'key = value', a [section] nor a # comment").arg(where, line);
            return std::nullopt;
        }
        if (section.isEmpty()) {
            *error = QStringLiteral("%1: a key before the first [section]").arg(where);
            return std::nullopt;
        }
        const QString key = section + QLatin1Char('.') + line.left(equals).trimmed();
        const QString value = line.mid(equals + 1).trimmed();
        const KeyHandler *handler = byName.value(key);
        if (!handler) {
            *error = QStringLiteral("%1: unknown key %2").arg(where, key);
            return std::nullopt;
        }
        if (seen.contains(key)) {
            *error = QStringLiteral("%1: %2 is set twice").arg(where, key);
            return std::nullopt;
        }
        seen.insert(key);
        const QString problem = handler->parse(value, &config);
        if (!problem.isEmpty()) {
            *error = QStringLiteral("%1: %2 = %3: %4").arg(where, key, value, problem);
            return std::nullopt;
        }
    }
    const QString problem = checkRelations(config);
    if (!problem.isEmpty()) {
        *error = QStringLiteral("%1: %2").arg(fileName, problem);
        return std::nullopt;
    }
    return config;
}

std::optional<Config> loadConfigFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the configuration file %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    constexpr qint64 fileMaxBytes = 1024 * 1024;
    const QByteArray text = file.read(fileMaxBytes + 1);
    if (text.size() > fileMaxBytes) {
        *error = QStringLiteral("%1: larger than 1 MiB, not a configuration file").arg(path);
        return std::nullopt;
    }
    return parseConfig(text, path, error);
}

QString formatConfig(const Config &config)
{
    QString out;
    QString section;
    for (const KeyHandler &handler : handlers()) {
        const QString keySection = handler.key.name.section(QLatin1Char('.'), 0, 0);
        if (keySection != section) {
            if (!section.isEmpty())
                out += QLatin1Char('\n');
            section = keySection;
            out += QStringLiteral("[%1]\n").arg(section);
        }
        out += QStringLiteral("# %1\n%2 = %3\n")
                   .arg(handler.key.meaning, handler.key.name.section(QLatin1Char('.'), 1), handler.format(config));
    }
    return out;
}

} // namespace prepay::service
