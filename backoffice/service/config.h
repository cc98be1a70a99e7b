// prepayd's configuration file: what differs between one host and another (addresses, ports,
// limits of the API, log format). Business settings (thresholds, tariffs, timeouts of sessions)
// live in the database's settings table instead, so staff change them through the API and the
// change is audited.
//
// The format is a small INI: `[section]` lines, `key = value` lines, whole-line comments starting
// with '#' or ';'. Every key has a default (the table in config.cpp, mirrored with its meaning in
// packaging/prepayd.conf, which a test compares against the table); a file may set any subset.
// Anything the parser does not understand — an unknown section or key, a key set twice, a value
// of the wrong type or out of range — is refused with the file, line, key, value and reason, and
// prepayd does not start (exit 78).
#pragma once

#include "payments/paymentsconfig.h"

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace prepay::service {

enum class LogFormat { Text, Json };

struct Config
{
    // [api] — the JSON-RPC over WebSocket listener, TLS 1.3 only.
    QString listenAddress = QStringLiteral("0.0.0.0");
    quint16 staffPort = 7443; // server-authenticated TLS: staff logins and kiosk enrolment
    quint16 kioskPort = 7444; // mutual TLS: enrolled kiosks only
    QStringList serverNames;  // extra names for the server certificate (localhost and the host name always)
    int frameMaxBytes = 256 * 1024;
    int connectionsMax = 256;
    int requestsPerSecond = 20; // per connection, sustained
    int requestsBurst = 40;     // per connection, at once
    int loginHashesConcurrentMax = 2;

    // [health] — plain HTTP GET /health, meant for loopback (systemd, monitoring).
    QString healthAddress = QStringLiteral("127.0.0.1");
    quint16 healthPort = 7480; // 0: no health endpoint

    // [log]
    LogFormat logFormat = LogFormat::Text;
    bool logVerbose = false;

    // [payments], [alipay], [wechat], [unionpay] — the QR channels and the notify endpoint.
    payments::PaymentsConfig payments;
};

struct ConfigKey
{
    QString name;         // "api.staff_port"
    QString defaultValue; // as written in the file
    QString meaning;      // one line, for --help-config and the default file
};

// Every key, in file order.
QList<ConfigKey> configKeys();

// Parses `text` (the file's contents; `fileName` only names it in errors). nullopt and *error
// ("prepayd.conf:12: api.staff_port = 70000: must be an integer from 1 to 65535") on the first
// problem.
std::optional<Config> parseConfig(const QByteArray &text, const QString &fileName, QString *error);

// Reads and parses a file; a missing or unreadable file is an error naming the path.
std::optional<Config> loadConfigFile(const QString &path, QString *error);

// The effective configuration as a complete file (every key, with its value), for
// `prepayd --print-config`.
QString formatConfig(const Config &config);

} // namespace prepay::service
