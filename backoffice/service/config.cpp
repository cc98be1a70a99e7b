#include "config.h"

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtNetwork/QHostAddress>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QUrl>

#include <functional>
#include <type_traits>

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

// A member of Config, or of its [payments]… part (Config::payments): the key helpers below
// serve both.
template<typename Owner, typename T>
struct Member
{
    T Owner::*member;
    T &of(Config &config) const
    {
        if constexpr (std::is_same_v<Owner, Config>)
            return config.*member;
        else
            return config.payments.*member;
    }
    const T &of(const Config &config) const
    {
        if constexpr (std::is_same_v<Owner, Config>)
            return config.*member;
        else
            return config.payments.*member;
    }
};

template<typename Owner>
KeyHandler intKey(const QString &name, qint64 min, qint64 max, const QString &meaning, int Owner::*member)
{
    const Member<Owner, int> field{member};
    KeyHandler handler;
    handler.key = ConfigKey{name, QString::number(field.of(Config())), meaning};
    handler.parse = [min, max, field](const QString &value, Config *config) {
        qint64 parsed = 0;
        const QString problem = parseInt(value, min, max, &parsed);
        if (problem.isEmpty())
            field.of(*config) = static_cast<int>(parsed);
        return problem;
    };
    handler.format = [field](const Config &config) { return QString::number(field.of(config)); };
    return handler;
}

template<typename Owner>
KeyHandler portKey(const QString &name, bool zeroAllowed, const QString &meaning, quint16 Owner::*member)
{
    const Member<Owner, quint16> field{member};
    KeyHandler handler;
    handler.key = ConfigKey{name, QString::number(field.of(Config())), meaning};
    handler.parse = [zeroAllowed, field](const QString &value, Config *config) {
        qint64 parsed = 0;
        const QString problem = parseInt(value, zeroAllowed ? 0 : 1, 65535, &parsed);
        if (problem.isEmpty())
            field.of(*config) = static_cast<quint16>(parsed);
        return problem;
    };
    handler.format = [field](const Config &config) { return QString::number(field.of(config)); };
    return handler;
}

template<typename Owner>
KeyHandler boolKey(const QString &name, const QString &meaning, bool Owner::*member)
{
    const Member<Owner, bool> field{member};
    KeyHandler handler;
    handler.key = ConfigKey{name, field.of(Config()) ? QStringLiteral("true") : QStringLiteral("false"), meaning};
    handler.parse = [field](const QString &value, Config *config) {
        if (value != u"true" && value != u"false")
            return QStringLiteral("must be true or false");
        field.of(*config) = value == u"true";
        return QString();
    };
    handler.format = [field](const Config &config) {
        return field.of(config) ? QStringLiteral("true") : QStringLiteral("false");
    };
    return handler;
}

template<typename Owner>
KeyHandler addressKey(const QString &name, const QString &meaning, QString Owner::*member)
{
    const Member<Owner, QString> field{member};
    KeyHandler handler;
    handler.key = ConfigKey{name, field.of(Config()), meaning};
    handler.parse = [field](const QString &value, Config *config) {
        QHostAddress address;
        if (!address.setAddress(value))
            return QStringLiteral("must be an IPv4 or IPv6 address (0.0.0.0 listens on every interface)");
        field.of(*config) = value;
        return QString();
    };
    handler.format = [field](const Config &config) { return field.of(config); };
    return handler;
}

// What a text key of the payment channels may hold.
enum class TextKind {
    Url,  // empty, or an absolute http(s) URL without a fragment
    Path, // empty, or a file name (checked when prepayd loads it)
    Id,   // empty, or a merchant/app id: letters, digits, '_' and '-'
};

QString checkText(TextKind kind, const QString &value)
{
    if (value.isEmpty())
        return {};
    switch (kind) {
    case TextKind::Url: {
        const QUrl url(value, QUrl::StrictMode);
        if (!url.isValid() || url.host().isEmpty()
            || (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http")) || url.hasFragment())
            return QStringLiteral("must be an http:// or https:// URL");
        return {};
    }
    case TextKind::Path:
        if (value.contains(QLatin1Char(',')) || value.contains(QChar(0)))
            return QStringLiteral("must be one file name");
        return {};
    case TextKind::Id: {
        static const QRegularExpression id(QStringLiteral("^[A-Za-z0-9_-]{1,64}$"));
        if (!id.match(value).hasMatch())
            return QStringLiteral("must be letters, digits, '_' or '-' (at most 64)");
        return {};
    }
    }
    return {};
}

KeyHandler textKey(const QString &name, TextKind kind, const QString &meaning, QString payments::PaymentsConfig::*member)
{
    const Member<payments::PaymentsConfig, QString> field{member};
    KeyHandler handler;
    handler.key = ConfigKey{name, field.of(Config()), meaning};
    handler.parse = [kind, field](const QString &value, Config *config) {
        const QString problem = checkText(kind, value);
        if (problem.isEmpty())
            field.of(*config) = value;
        return problem;
    };
    handler.format = [field](const Config &config) { return field.of(config); };
    return handler;
}

KeyHandler pathListKey(const QString &name, const QString &meaning, QStringList payments::PaymentsConfig::*member)
{
    const Member<payments::PaymentsConfig, QStringList> field{member};
    KeyHandler handler;
    handler.key = ConfigKey{name, field.of(Config()).join(QStringLiteral(", ")), meaning};
    handler.parse = [field](const QString &value, Config *config) {
        QStringList parsed;
        for (const QString &part : value.split(QLatin1Char(','), Qt::SkipEmptyParts))
            parsed << part.trimmed();
        field.of(*config) = parsed;
        return QString();
    };
    handler.format = [field](const Config &config) { return field.of(config).join(QStringLiteral(", ")); };
    return handler;
}

// [payments], [alipay], [wechat], [unionpay]: the QR channels (payments/paymentsconfig.h).
void paymentHandlers(QList<KeyHandler> &list)
{
    using P = payments::PaymentsConfig;
    list << addressKey(QStringLiteral("payments.notify_listen_address"),
        QStringLiteral("address of the providers' notify endpoint (POST /notify/alipay, /notify/wechat, /notify/unionpay)"),
        &P::notifyListenAddress);
    list << portKey(QStringLiteral("payments.notify_port"), true,
        QStringLiteral("port of the notify endpoint (0: none; payments are then learnt by polling the providers alone)"),
        &P::notifyPort);
    list << textKey(QStringLiteral("payments.notify_tls_cert"), TextKind::Path,
        QStringLiteral("PEM certificate chain of the notify endpoint (empty: plain HTTP, behind an HTTPS relay)"),
        &P::notifyTlsCert);
    list << textKey(QStringLiteral("payments.notify_tls_key"), TextKind::Path,
        QStringLiteral("PEM private key of that certificate"), &P::notifyTlsKey);
    list << textKey(QStringLiteral("payments.provider_ca_file"), TextKind::Path,
        QStringLiteral("PEM CA certificates trusted for the providers' HTTPS besides the system's (a sandbox's CA)"),
        &P::providerCaFile);

    list << textKey(QStringLiteral("alipay.gateway"), TextKind::Url, QStringLiteral("Alipay's gateway URL"),
        &P::alipayGateway);
    list << textKey(QStringLiteral("alipay.app_id"), TextKind::Id,
        QStringLiteral("our Alipay app_id (empty: Alipay is not offered)"), &P::alipayAppId);
    list << textKey(QStringLiteral("alipay.seller_id"), TextKind::Id,
        QStringLiteral("our Alipay seller_id (2088…): notifications must name it"), &P::alipaySellerId);
    list << textKey(QStringLiteral("alipay.app_private_key_file"), TextKind::Path,
        QStringLiteral("our RSA private key that signs requests (PEM or bare base64)"), &P::alipayAppPrivateKeyFile);
    list << textKey(QStringLiteral("alipay.alipay_public_key_file"), TextKind::Path,
        QStringLiteral("public-key mode: ALIPAY's public key, which verifies its answers and notifications"),
        &P::alipayPublicKeyFile);
    list << pathListKey(QStringLiteral("alipay.alipay_cert_files"),
        QStringLiteral("certificate mode instead: Alipay's public-key certificates, comma-separated"),
        &P::alipayCertFiles);
    list << textKey(QStringLiteral("alipay.app_cert_file"), TextKind::Path,
        QStringLiteral("certificate mode: our app certificate (app_cert_sn)"), &P::alipayAppCertFile);
    list << textKey(QStringLiteral("alipay.root_cert_file"), TextKind::Path,
        QStringLiteral("certificate mode: Alipay's root certificate (alipay_root_cert_sn)"), &P::alipayRootCertFile);
    list << boolKey(QStringLiteral("alipay.download_certificates"),
        QStringLiteral("certificate mode: fetch a rotated Alipay certificate (it must chain to root_cert_file); false = refuse it"),
        &P::alipayDownloadCertificates);
    list << textKey(QStringLiteral("alipay.notify_url"), TextKind::Url,
        QStringLiteral("where Alipay posts results: the public URL of POST /notify/alipay"), &P::alipayNotifyUrl);

    list << textKey(QStringLiteral("wechat.base_url"), TextKind::Url, QStringLiteral("WeChat Pay's API base URL"),
        &P::wechatBaseUrl);
    list << textKey(QStringLiteral("wechat.mchid"), TextKind::Id,
        QStringLiteral("our WeChat Pay merchant id (empty: WeChat Pay is not offered)"), &P::wechatMchid);
    list << textKey(QStringLiteral("wechat.appid"), TextKind::Id, QStringLiteral("the appid bound to the merchant"),
        &P::wechatAppid);
    list << textKey(QStringLiteral("wechat.merchant_key_file"), TextKind::Path,
        QStringLiteral("apiclient_key.pem: our key that signs requests"), &P::wechatMerchantKeyFile);
    list << textKey(QStringLiteral("wechat.merchant_cert_file"), TextKind::Path,
        QStringLiteral("apiclient_cert.pem: its serial goes in the Authorization header"), &P::wechatMerchantCertFile);
    list << textKey(QStringLiteral("wechat.api_v3_key_file"), TextKind::Path,
        QStringLiteral("the 32-character APIv3 key that decrypts notifications"), &P::wechatApiV3KeyFile);
    list << pathListKey(QStringLiteral("wechat.platform_cert_files"),
        QStringLiteral("WeChat Pay platform certificates, comma-separated (chosen by serial)"),
        &P::wechatPlatformCertFiles);
    list << boolKey(QStringLiteral("wechat.download_certificates"),
        QStringLiteral("platform certificates: fetch new ones (GET /v3/certificates) on an unknown serial; false = refuse"),
        &P::wechatDownloadCertificates);
    list << textKey(QStringLiteral("wechat.public_key_file"), TextKind::Path,
        QStringLiteral("WeChat Pay public key mode: the key (with public_key_id; this mode, platform certificates, or both)"),
        &P::wechatPublicKeyFile);
    list << textKey(QStringLiteral("wechat.public_key_id"), TextKind::Id,
        QStringLiteral("its id, PUB_KEY_ID_…"), &P::wechatPublicKeyId);
    list << textKey(QStringLiteral("wechat.notify_url"), TextKind::Url,
        QStringLiteral("where WeChat Pay posts results: the public https URL of POST /notify/wechat"),
        &P::wechatNotifyUrl);

    list << textKey(QStringLiteral("unionpay.gateway"), TextKind::Url, QStringLiteral("UnionPay's gateway base URL"),
        &P::unionpayGateway);
    list << textKey(QStringLiteral("unionpay.mer_id"), TextKind::Id,
        QStringLiteral("our UnionPay merId (empty: UnionPay is not offered)"), &P::unionpayMerId);
    list << textKey(QStringLiteral("unionpay.sign_key_file"), TextKind::Path,
        QStringLiteral("our signing key (PEM or bare base64)"), &P::unionpaySignKeyFile);
    list << textKey(QStringLiteral("unionpay.sign_cert_file"), TextKind::Path,
        QStringLiteral("our signing certificate (its serial is certId)"), &P::unionpaySignCertFile);
    list << textKey(QStringLiteral("unionpay.root_cert_file"), TextKind::Path,
        QStringLiteral("UnionPay's root certificate: it must issue the key that signs notifications"),
        &P::unionpayRootCertFile);
    list << textKey(QStringLiteral("unionpay.back_url"), TextKind::Url,
        QStringLiteral("where UnionPay posts results: the public URL of POST /notify/unionpay"), &P::unionpayBackUrl);
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

    paymentHandlers(list);
    return list;
}

// Limits that only make sense together.
QString checkRelations(const Config &config)
{
    if (config.staffPort == config.kioskPort)
        return QStringLiteral("api.staff_port and api.kiosk_port must differ (both are %1)").arg(config.staffPort);
    if (config.healthPort != 0 && (config.healthPort == config.staffPort || config.healthPort == config.kioskPort))
        return QStringLiteral("health.port %1 is already an API port").arg(config.healthPort);
    const payments::PaymentsConfig &p = config.payments;
    if (p.notifyPort != 0
        && (p.notifyPort == config.staffPort || p.notifyPort == config.kioskPort || p.notifyPort == config.healthPort))
        return QStringLiteral("payments.notify_port %1 is already another port of prepayd").arg(p.notifyPort);
    if (p.notifyTlsCert.isEmpty() != p.notifyTlsKey.isEmpty())
        return QStringLiteral("payments.notify_tls_cert and payments.notify_tls_key go together");
    if (!p.alipayAppId.isEmpty() && (p.alipaySellerId.isEmpty() || p.alipayAppPrivateKeyFile.isEmpty()
            || (p.alipayPublicKeyFile.isEmpty() && p.alipayCertFiles.isEmpty()) || p.alipayNotifyUrl.isEmpty()))
        return QStringLiteral("[alipay] with app_id needs seller_id, app_private_key_file, notify_url and "
                              "alipay_public_key_file (or alipay_cert_files)");
    if (!p.wechatMchid.isEmpty() && (p.wechatAppid.isEmpty() || p.wechatMerchantKeyFile.isEmpty()
            || p.wechatMerchantCertFile.isEmpty() || p.wechatApiV3KeyFile.isEmpty() || p.wechatNotifyUrl.isEmpty()
            || (p.wechatPlatformCertFiles.isEmpty() && p.wechatPublicKeyFile.isEmpty())))
        return QStringLiteral("[wechat] with mchid needs appid, merchant_key_file, merchant_cert_file, api_v3_key_file, "
                              "notify_url and platform_cert_files or public_key_file");
    if (!p.wechatNotifyUrl.isEmpty() && !p.wechatNotifyUrl.startsWith(QLatin1String("https://")))
        return QStringLiteral("wechat.notify_url must be https (WeChat Pay posts nowhere else)");
    if (p.wechatPublicKeyFile.isEmpty() != p.wechatPublicKeyId.isEmpty())
        return QStringLiteral("wechat.public_key_file and wechat.public_key_id go together");
    if (!p.unionpayMerId.isEmpty() && (p.unionpaySignKeyFile.isEmpty() || p.unionpaySignCertFile.isEmpty()
            || p.unionpayRootCertFile.isEmpty() || p.unionpayBackUrl.isEmpty()))
        return QStringLiteral("[unionpay] with mer_id needs sign_key_file, sign_cert_file, root_cert_file and back_url");
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
