// prepayd's configuration file: defaults, every refusal with its line, key, value and reason,
// and the shipped packaging/prepayd.conf kept equal to the parser's table.
#include "service/config.h"

#include <QtCore/QFile>
#include <QtCore/QRegularExpression>
#include <QtTest/QtTest>

using namespace prepay::service;

class TestConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyFileGivesDefaults()
    {
        QString error;
        const std::optional<Config> config = parseConfig(QByteArray("# nothing\n\n"), QStringLiteral("t.conf"), &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->staffPort, quint16(7443));
        QCOMPARE(config->kioskPort, quint16(7444));
        QCOMPARE(config->loginHashesConcurrentMax, 2);
        QCOMPARE(config->logFormat, LogFormat::Text);
    }

    void valuesAreRead()
    {
        QString error;
        const std::optional<Config> config = parseConfig(QByteArray("[api]\n"
                                                                    "  staff_port = 9443  \n"
                                                                    "kiosk_port=9444\n"
                                                                    "server_names = prepay.lan, 10.0.0.5\n"
                                                                    "; a comment\n"
                                                                    "[log]\nformat = json\nverbose = true\n"
                                                                    "[health]\nport = 0\n"),
            QStringLiteral("t.conf"), &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->staffPort, quint16(9443));
        QCOMPARE(config->kioskPort, quint16(9444));
        QCOMPARE(config->serverNames, QStringList({QStringLiteral("prepay.lan"), QStringLiteral("10.0.0.5")}));
        QCOMPARE(config->logFormat, LogFormat::Json);
        QVERIFY(config->logVerbose);
        QCOMPARE(config->healthPort, quint16(0));
    }

    void refusals_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("port too big") << QByteArray("[api]\nstaff_port = 70000\n")
                                      << QStringLiteral("t.conf:2: api.staff_port = 70000: must be an integer from 1 to 65535");
        QTest::newRow("port zero") << QByteArray("[api]\nkiosk_port = 0\n")
                                   << QStringLiteral("t.conf:2: api.kiosk_port = 0: must be an integer from 1 to 65535");
        QTest::newRow("not a number") << QByteArray("\n[api]\nrequests_per_second = 1e3\n")
                                      << QStringLiteral("t.conf:3: api.requests_per_second = 1e3: must be an integer");
        QTest::newRow("address") << QByteArray("[api]\nlisten_address = everywhere\n")
                                 << QStringLiteral("t.conf:2: api.listen_address = everywhere: must be an IPv4 or IPv6");
        QTest::newRow("unknown key") << QByteArray("[api]\nport = 1\n") << QStringLiteral("t.conf:2: unknown key api.port");
        QTest::newRow("unknown section") << QByteArray("[db]\n") << QStringLiteral("t.conf:1: unknown section [db]");
        QTest::newRow("twice") << QByteArray("[log]\nformat = text\nformat = json\n")
                               << QStringLiteral("t.conf:3: log.format is set twice");
        QTest::newRow("enum") << QByteArray("[log]\nformat = xml\n") << QStringLiteral("t.conf:2: log.format = xml: must be text or json");
        QTest::newRow("bool") << QByteArray("[log]\nverbose = yes\n")
                              << QStringLiteral("t.conf:2: log.verbose = yes: must be true or false");
        QTest::newRow("no section") << QByteArray("staff_port = 1\n") << QStringLiteral("t.conf:1: a key before the first [section]");
        QTest::newRow("garbage line") << QByteArray("[api]\nstaff_port\n") << QStringLiteral("t.conf:2: 'staff_port' is neither");
        QTest::newRow("bad section line") << QByteArray("[api\n") << QStringLiteral("t.conf:1: '[api' is not a [section] line");
        QTest::newRow("server name") << QByteArray("[api]\nserver_names = ok.lan, bad name\n")
                                     << QStringLiteral("t.conf:2: api.server_names = ok.lan, bad name: 'bad name' is neither");
        QTest::newRow("same ports") << QByteArray("[api]\nstaff_port = 8000\nkiosk_port = 8000\n")
                                    << QStringLiteral("t.conf: api.staff_port and api.kiosk_port must differ");
        QTest::newRow("health on api port") << QByteArray("[health]\nport = 7443\n")
                                            << QStringLiteral("t.conf: health.port 7443 is already an API port");
        QTest::newRow("burst below rate") << QByteArray("[api]\nrequests_per_second = 50\n")
                                          << QStringLiteral("t.conf: api.requests_burst (40) must be at least");
        QTest::newRow("payment url") << QByteArray("[alipay]\ngateway = ftp://alipay\n")
                                     << QStringLiteral("t.conf:2: alipay.gateway = ftp://alipay: must be an http:// or https:// URL");
        QTest::newRow("merchant id") << QByteArray("[wechat]\nmchid = 19 00\n")
                                     << QStringLiteral("t.conf:2: wechat.mchid = 19 00: must be letters, digits");
        QTest::newRow("half alipay") << QByteArray("[alipay]\napp_id = 2021000000000001\n")
                                     << QStringLiteral("t.conf: [alipay] with app_id needs seller_id");
        QTest::newRow("wechat notify http")
            << QByteArray("[wechat]\nnotify_url = http://pay.example.com/notify/wechat\n")
            << QStringLiteral("t.conf: wechat.notify_url must be https");
        QTest::newRow("notify on api port") << QByteArray("[payments]\nnotify_port = 7444\n")
                                            << QStringLiteral("t.conf: payments.notify_port 7444 is already another port");
        QTest::newRow("notify cert alone") << QByteArray("[payments]\nnotify_tls_cert = /etc/prepay/notify.pem\n")
                                           << QStringLiteral("t.conf: payments.notify_tls_cert and payments.notify_tls_key go together");
        QTest::newRow("not utf-8") << QByteArray("[api]\n# \xff\xfe\n") << QStringLiteral("t.conf: not UTF-8 text");
    }

    void paymentChannelsAreRead()
    {
        QString error;
        const std::optional<Config> config = parseConfig(QByteArray("[payments]\nnotify_port = 7445\n"
                                                                    "[wechat]\nmchid = 1900000109\nappid = wxd678efh567hg6787\n"
                                                                    "merchant_key_file = /k/m.key\nmerchant_cert_file = /k/m.pem\n"
                                                                    "api_v3_key_file = /k/v3.txt\n"
                                                                    "platform_cert_files = /k/p1.pem, /k/p2.pem\n"
                                                                    "notify_url = https://pay.example.com/notify/wechat\n"),
            QStringLiteral("t.conf"), &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(config->payments.notifyPort, quint16(7445));
        QCOMPARE(config->payments.wechatMchid, QStringLiteral("1900000109"));
        QCOMPARE(config->payments.wechatPlatformCertFiles,
            QStringList({QStringLiteral("/k/p1.pem"), QStringLiteral("/k/p2.pem")}));
        QVERIFY(config->payments.alipayAppId.isEmpty()); // not offered
        QCOMPARE(config->payments.alipayGateway, QStringLiteral("https://openapi.alipay.com/gateway.do"));
    }

    void refusals()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        QString error;
        QVERIFY(!parseConfig(text, QStringLiteral("t.conf"), &error));
        QVERIFY2(error.startsWith(expected), qPrintable(error));
    }

    void missingFileIsNamed()
    {
        QString error;
        QVERIFY(!loadConfigFile(QStringLiteral("/nonexistent/prepayd.conf"), &error));
        QVERIFY2(error.contains(QStringLiteral("/nonexistent/prepayd.conf")), qPrintable(error));
    }

    void printedConfigParsesBack()
    {
        Config changed;
        changed.staffPort = 1234;
        changed.serverNames = {QStringLiteral("a.lan"), QStringLiteral("192.168.1.2")};
        changed.logFormat = LogFormat::Json;
        QString error;
        const std::optional<Config> back = parseConfig(formatConfig(changed).toUtf8(), QStringLiteral("printed"), &error);
        QVERIFY2(back, qPrintable(error));
        QCOMPARE(formatConfig(*back), formatConfig(changed));
    }

    // packaging/prepayd.conf documents every key with its default, in the parser's order, and
    // nothing else; as shipped (everything commented) it parses to the defaults.
    void shippedFileMatchesTheTable()
    {
        QFile file(QStringLiteral(PREPAY_SOURCE_DIR "/packaging/prepayd.conf"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QString error;
        const std::optional<Config> config = parseConfig(text, file.fileName(), &error);
        QVERIFY2(config, qPrintable(error));
        QCOMPARE(formatConfig(*config), formatConfig(Config()));

        static const QRegularExpression keyLine(QStringLiteral("^# ([a-z0-9_]+) =(.*)$"));
        QStringList documented;
        QString section;
        QString previousLine;
        for (const QString &line : QString::fromUtf8(text).split(QLatin1Char('\n'))) {
            if (line.startsWith(QLatin1Char('[')))
                section = line.mid(1, line.size() - 2);
            const QRegularExpressionMatch match = keyLine.match(line);
            if (match.hasMatch()) {
                documented << QStringLiteral("%1.%2 = %3 (%4)")
                                  .arg(section, match.captured(1), match.captured(2).trimmed(), previousLine.mid(2));
            }
            previousLine = line;
        }
        QStringList table;
        for (const ConfigKey &key : configKeys())
            table << QStringLiteral("%1 = %2 (%3)").arg(key.name, key.defaultValue, key.meaning);
        QCOMPARE(documented, table);
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
