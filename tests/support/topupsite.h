// The demo backoffice with QR payments, every part real, for end-to-end tests: prepay-sim meters
// serving the demo building (RS-485 timing), a database seeded with it (the meters' balances
// taken over into the ledger), the provider sandbox (prepay-sim pay's library, in this process,
// over TLS) and prepayd as a process with its API (TLS 1.3), the Alipay/WeChat adapters and its
// HTTPS notify endpoint — plus the first administrator, logged in. Tests only.
//
//   test::TopUpSite site;
//   QVERIFY2(site.start({{"command.retry_base_ms", "1000"}}, &error), qPrintable(error));
//   site.admin().callBlocking(...);   site.truth(gateway, unit);   site.scalar("SELECT …");
#pragma once

#include "demosite.h"
#include "sandboxmerchant.h"

#include "accounts/takeover.h"
#include "api/clock.h"
#include "api/rpcclient.h"
#include "sim/pay/paysandbox.h"
#include "store/store.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

#include <array>
#include <memory>
#include <optional>
#include <utility>

namespace prepay::test {

class TopUpSite
{
public:
    TopUpSite() = default;
    TopUpSite(const TopUpSite &) = delete;
    TopUpSite &operator=(const TopUpSite &) = delete;
    ~TopUpSite() { stop(); }

    // Everything up, prepayd ready and the administrator "root" logged in; `settings` are written
    // into the database first (key, value). False and *error saying what did not come up.
    bool start(const QList<std::pair<QString, QString>> &settings, QString *error)
    {
        if (!m_dir.isValid())
            return fail(error, QStringLiteral("no temporary directory"));
        m_base = freeSimulatorPortBase(40000, 10000);
        QString log;
        if (!startDemoSimulator(m_sim, m_base, {}, &log))
            return fail(error, QStringLiteral("prepay-sim meters: ") + log);

        m_dbPath = m_dir.filePath(QStringLiteral("prepay.db"));
        {
            SystemClock clock;
            store::OpenResult opened = store::Store::open(m_dbPath, clock);
            if (!opened.store)
                return fail(error, opened.message);
            if (!seedDemoDatabase(*opened.store, m_base))
                return fail(error, QStringLiteral("cannot seed the demo building"));
            const qint64 now = clock.wallMs();
            const bool written = opened.store
                                     ->write([now, &settings](store::Transaction &tx) {
                                         accounts::takeOverMeterBalances(tx, now);
                                         for (const auto &[key, value] : settings) {
                                             store::Statement s = tx.prepare(QStringLiteral(
                                                 "INSERT INTO settings (key, value, updated_at_ms) VALUES (?1, ?2, 0) "
                                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
                                             s.bind(1, key);
                                             s.bind(2, value);
                                             if (const store::SqlError e = s.run(); !e.ok())
                                                 tx.fail(e);
                                         }
                                     })
                                     .get()
                                     .committed();
            opened.store->stop();
            if (!written)
                return fail(error, QStringLiteral("cannot write the takeover and the settings"));
        }

        m_sandbox = std::make_unique<sim::pay::PaySandbox>(sandboxConfig(0.001));
        if (!m_sandbox->start(error))
            return false;

        std::array<QTcpServer, 4> probes; // held open together, so the ports differ
        for (QTcpServer &probe : probes) {
            if (!probe.listen(QHostAddress::LocalHost, 0))
                return fail(error, QStringLiteral("no free port"));
        }
        m_staffPort = probes[0].serverPort();
        m_kioskPort = probes[1].serverPort();
        const QString pay = m_sandbox->baseUrl();
        const QString notify = QStringLiteral("https://127.0.0.1:%1/notify/").arg(probes[3].serverPort());
        const QString keys = sandboxKeyFile(QString());
        QFile conf(m_dir.filePath(QStringLiteral("prepayd.conf")));
        if (!conf.open(QIODevice::WriteOnly))
            return fail(error, conf.errorString());
        conf.write(QStringLiteral("[api]\nlisten_address = 127.0.0.1\nstaff_port = %1\nkiosk_port = %2\n"
                                  "[health]\nport = %3\n"
                                  "[payments]\nnotify_listen_address = 127.0.0.1\nnotify_port = %4\n"
                                  "notify_tls_cert = %5tls-server.pem\nnotify_tls_key = %5tls-server.key\n"
                                  "provider_ca_file = %5tls-ca.pem\n"
                                  "[alipay]\ngateway = %6/gateway.do\napp_id = 2021000000000001\n"
                                  "seller_id = 2088000000000001\n"
                                  "app_private_key_file = %5alipay-app.key\nalipay_public_key_file = %5alipay-platform.pub\n"
                                  "notify_url = %7alipay\n"
                                  "[wechat]\nbase_url = %6\nmchid = 1900000109\nappid = wxd678efh567hg6787\n"
                                  "merchant_key_file = %5wechat-merchant.key\nmerchant_cert_file = %5wechat-merchant.pem\n"
                                  "api_v3_key_file = %5wechat-apiv3.txt\nplatform_cert_files = %5wechat-platform-1.pem\n"
                                  "notify_url = %7wechat\n")
                       .arg(m_staffPort)
                       .arg(m_kioskPort)
                       .arg(probes[2].serverPort())
                       .arg(probes[3].serverPort())
                       .arg(keys, pay, notify)
                       .toUtf8());
        conf.close();
        for (QTcpServer &probe : probes)
            probe.close();

        m_daemon.setProcessChannelMode(QProcess::MergedChannels);
        m_daemon.start(binaryPath(QStringLiteral("prepayd")),
            {QStringLiteral("--data"), m_dir.path(), QStringLiteral("--config"), conf.fileName()});
        if (!m_daemon.waitForStarted())
            return fail(error, QStringLiteral("prepayd does not start: ") + m_daemon.errorString());
        // prepayd's output is read as it comes (a full pipe would stall it), the last 256 KiB
        // kept for a failure's message.
        QObject::connect(&m_daemon, &QProcess::readyRead, &m_daemon, [this] {
            m_daemonLog += m_daemon.readAll();
            if (m_daemonLog.size() > 512 * 1024)
                m_daemonLog = m_daemonLog.right(256 * 1024);
        });
        const QDeadlineTimer deadline(60000);
        while (!m_daemonLog.contains(" ready: ") && !deadline.hasExpired() && m_daemon.state() == QProcess::Running)
            QTest::qWait(50);
        const QString out = QString::fromUtf8(m_daemonLog);
        if (!out.contains(QLatin1String(" ready: ")))
            return fail(error, QStringLiteral("prepayd did not come up: ") + out.right(4000));
        if (!out.contains(QLatin1String("QR payments: alipay, wechat (notify on port")))
            return fail(error, QStringLiteral("prepayd takes no QR payments: ") + out.right(4000));
        const QRegularExpressionMatch code
            = QRegularExpression(QStringLiteral("One-time setup code: ([A-Z0-9-]+)")).match(out);
        if (!code.hasMatch())
            return fail(error, QStringLiteral("prepayd printed no setup code"));
        QFile caFile(caPath());
        if (!caFile.open(QIODevice::ReadOnly))
            return fail(error, caFile.fileName() + QStringLiteral(": ") + caFile.errorString());
        m_ca = QSslCertificate(caFile.readAll(), QSsl::Pem);

        // The first administrator, logged in.
        auto setup = connectStaff();
        if (!setup)
            return fail(error, QStringLiteral("cannot connect to the staff port"));
        if (!rpc::succeeded(setup->callBlocking(QStringLiteral("setup.create_admin"),
                {{QStringLiteral("setup_code"), code.captured(1)}, {QStringLiteral("login"), QStringLiteral("root")},
                    {QStringLiteral("display_name"), QStringLiteral("管理员")},
                    {QStringLiteral("password"), password()}})))
            return fail(error, QStringLiteral("setup.create_admin refused"));
        m_admin = connectStaff();
        if (!m_admin
            || !rpc::succeeded(m_admin->callBlocking(QStringLiteral("session.login"),
                {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), password()}})))
            return fail(error, QStringLiteral("the administrator cannot log in"));
        return true;
    }

    // prepayd stopped (its exit code: 0 when it stopped cleanly), the sandbox and the simulator too.
    int stop()
    {
        m_admin.reset();
        int rc = 0;
        if (m_daemon.state() != QProcess::NotRunning) {
            m_daemon.terminate();
            rc = m_daemon.waitForFinished(20000) ? m_daemon.exitCode() : -1;
        }
        m_sandbox.reset();
        if (m_sim.state() != QProcess::NotRunning) {
            m_sim.terminate();
            m_sim.waitForFinished(10000);
        }
        return rc;
    }

    static QString password() { return QStringLiteral("e2e-password-0123"); } // the administrator "root"

    QString dir() const { return m_dir.path(); }
    QString dbPath() const { return m_dbPath; }
    QString caPath() const { return m_dir.filePath(QStringLiteral("pki/ca.crt")); }
    quint16 simulatorBase() const { return m_base; }
    quint16 staffPort() const { return m_staffPort; }
    quint16 kioskPort() const { return m_kioskPort; }
    const QSslCertificate &ca() const { return m_ca; }
    rpc::RpcClient &admin() { return *m_admin; }
    sim::pay::PaySandbox &sandbox() { return *m_sandbox; }
    const QByteArray &daemonLog() const { return m_daemonLog; }

    std::unique_ptr<rpc::RpcClient> connectStaff()
    {
        rpc::Endpoint endpoint;
        endpoint.host = QStringLiteral("127.0.0.1");
        endpoint.port = m_staffPort;
        endpoint.ca = m_ca;
        auto client = std::make_unique<rpc::RpcClient>();
        QString error;
        if (!client->openBlocking(endpoint, 10000, &error)) {
            qWarning("staff connection: %s", qPrintable(error));
            return nullptr;
        }
        return client;
    }

    // A kiosk registered by the administrator: its one-time pairing code, or empty.
    QString pairKiosk(const QString &name, const QString &buildingCode = {})
    {
        QJsonObject params{{QStringLiteral("name"), name}};
        if (!buildingCode.isEmpty())
            params.insert(QStringLiteral("building_code"), buildingCode);
        const rpc::Outcome paired = m_admin->callBlocking(QStringLiteral("kiosk.pairing.create"), params);
        return rpc::succeeded(paired)
            ? std::get<QJsonValue>(paired).toObject().value(QLatin1String("pairing_code")).toString()
            : QString();
    }

    // `prepay-sim ctl ARGS` against the simulator: its standard output, empty when it failed.
    QByteArray simCtl(const QStringList &args) const
    {
        QProcess ctl;
        ctl.start(binaryPath(QStringLiteral("prepay-sim")),
            QStringList{QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_base + 100)} + args);
        if (!ctl.waitForFinished(10000) || ctl.exitCode() != 0)
            return {};
        return ctl.readAllStandardOutput();
    }

    // The simulator's ground truth of one meter.
    QJsonObject truth(int gateway, int unit) const
    {
        return QJsonDocument::fromJson(simCtl({QStringLiteral("truth"), QString::number(gateway), QString::number(unit)}))
            .object();
    }

    // The simulator address (gateway index, unit) of the meter installed at a metering point.
    std::optional<std::pair<int, int>> meterOf(const QString &pointCode) const
    {
        store::SqlError error;
        const auto db = store::Connection::open(m_dbPath, store::Connection::Mode::ReadOnly, 5000, &error);
        if (!db)
            return std::nullopt;
        store::Statement s = db->prepare(QStringLiteral(
            "SELECT b.gateway_id - 1, m.unit_id FROM meters m JOIN buses b ON b.id = m.bus_id "
            "JOIN meter_installations i ON i.meter_id = m.id AND i.removed_at_ms IS NULL "
            "JOIN metering_points p ON p.id = i.metering_point_id WHERE p.code = ?1"));
        s.bind(1, pointCode);
        if (s.step() != store::Statement::Step::Row)
            return std::nullopt;
        return std::make_pair(int(s.int64(0)), int(s.int64(1)));
    }

    // One integer from the live database (read-only), -1 when it cannot be read.
    qint64 scalar(const QString &sql) const
    {
        store::SqlError error;
        const auto db = store::Connection::open(m_dbPath, store::Connection::Mode::ReadOnly, 5000, &error);
        return db ? db->queryInt(sql, &error) : -1;
    }

    // `prepayctl ledger verify` on the live file: empty when it passes, else its output.
    QByteArray ledgerVerifyFailure() const
    {
        QProcess verify;
        verify.setProcessChannelMode(QProcess::MergedChannels);
        verify.start(binaryPath(QStringLiteral("prepayctl")),
            {QStringLiteral("ledger"), QStringLiteral("verify"), QStringLiteral("--db"), m_dbPath});
        if (!verify.waitForFinished(30000))
            return QByteArrayLiteral("prepayctl ledger verify did not finish");
        return verify.exitCode() == 0 ? QByteArray()
                                      : verify.readAll() + QByteArrayLiteral(" (prepayctl ledger verify failed)");
    }

private:
    static bool fail(QString *error, const QString &message)
    {
        *error = message;
        return false;
    }

    QTemporaryDir m_dir;
    QProcess m_sim;
    QProcess m_daemon;
    QByteArray m_daemonLog;
    std::unique_ptr<sim::pay::PaySandbox> m_sandbox;
    quint16 m_base = 0;
    quint16 m_staffPort = 0;
    quint16 m_kioskPort = 0;
    QString m_dbPath;
    QSslCertificate m_ca;
    std::unique_ptr<rpc::RpcClient> m_admin;
};

} // namespace prepay::test
