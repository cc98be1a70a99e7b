// The API end to end over real TLS 1.3 WebSockets on loopback: prepayd's Service in process
// (a fresh database and PKI per test case), real clients (prepay_rpcclient, raw QSslSocket).
// Covers the first-admin setup, logins and lockout, the permissions matrix over every method and
// every principal, kiosk enrolment and mutual TLS, the TLS refusals, hostile payloads, rate
// limits, the audit chain of staff actions, and docs/api.md against the method table.
#include "api/clock.h"
#include "api/methods.h"
#include "api/rpcclient.h"
#include "apitest.h"
#include "audit/audit.h"
#include "pki/pki.h"
#include "service/config.h"
#include "service/service.h"
#include "store/seed.h"
#include "store/store.h"
#include "accounts/takeover.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "ledger/verify.h"
#include "sync/publisher.h"
#include "sync/replica.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QSslSocket>
#include <QtNetwork/QTcpServer>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QtTest>

#include <map>

using namespace prepay;
using rpc::ErrorCode;
using rpc::Outcome;
using rpc::Principal;
using test::codeOf;
using test::describe;
using test::resultOf;

namespace {

const QString adminPassword = QStringLiteral("correct horse battery");

QSslCertificate pemCert(const QByteArray &pem)
{
    return QSslCertificate(pem, QSsl::Pem);
}

} // namespace

class TestApi : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    SystemClock m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<service::Service> m_service;
    QSslCertificate m_ca;
    QString m_setupCode;

    rpc::Endpoint staffEndpoint() const { return test::staffEndpoint(*m_service, m_ca); }

    // (Re)starts the Service on this test's store and directory, with billing when given.
    void restart(const service::Config &config, billing::Biller *biller = nullptr, QList<qint64> *dispatched = nullptr)
    {
        m_service.reset();
        test::RunningService running = test::startService(m_clock, *m_store, m_dir->path(), config, biller, dispatched);
        QVERIFY2(running.service, qPrintable(running.error));
        m_service = std::move(running.service);
        m_ca = running.ca;
        m_setupCode = running.setupCode;
        QVERIFY(!m_ca.isNull());
        QVERIFY(!m_setupCode.isEmpty());
    }

    std::unique_ptr<rpc::RpcClient> connectStaff()
    {
        auto client = std::make_unique<rpc::RpcClient>();
        QString error;
        if (!client->openBlocking(staffEndpoint(), 10000, &error))
            qWarning("connect: %s", qPrintable(error));
        return client;
    }

    std::unique_ptr<rpc::RpcClient> loggedIn(const QString &login, const QString &password)
    {
        auto client = connectStaff();
        const Outcome o = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), login}, {QStringLiteral("password"), password}});
        if (!rpc::succeeded(o))
            qWarning("login %s: %s", qPrintable(login), qPrintable(describe(o)));
        return client;
    }

    std::unique_ptr<rpc::RpcClient> admin()
    {
        auto client = connectStaff();
        const Outcome created = client->callBlocking(QStringLiteral("setup.create_admin"),
            {{QStringLiteral("setup_code"), m_setupCode}, {QStringLiteral("login"), QStringLiteral("root")},
                {QStringLiteral("display_name"), QStringLiteral("管理员")}, {QStringLiteral("password"), adminPassword}});
        Q_UNUSED(created); // already created in an earlier call of this test: fine
        const Outcome o = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}});
        if (!rpc::succeeded(o))
            qWarning("admin login: %s", qPrintable(describe(o)));
        return client;
    }

    // A staff member of `role` who has changed the first password already.
    std::unique_ptr<rpc::RpcClient> staffOf(rpc::RpcClient &adminClient, const QString &role)
    {
        const QString login = QStringLiteral("u-") + role;
        const QString first = QStringLiteral("first password 1");
        const QString own = QStringLiteral("own password 22");
        adminClient.callBlocking(QStringLiteral("operator.create"),
            {{QStringLiteral("login"), login}, {QStringLiteral("display_name"), role},
                {QStringLiteral("role"), role}, {QStringLiteral("password"), first}});
        auto client = connectStaff();
        Outcome o = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), login}, {QStringLiteral("password"), own}});
        if (!rpc::succeeded(o)) {
            client->callBlocking(QStringLiteral("session.login"),
                {{QStringLiteral("login"), login}, {QStringLiteral("password"), first}});
            o = client->callBlocking(QStringLiteral("session.change_password"),
                {{QStringLiteral("old_password"), first}, {QStringLiteral("new_password"), own}});
            if (!rpc::succeeded(o))
                qWarning("change password %s: %s", qPrintable(login), qPrintable(describe(o)));
        }
        return client;
    }

    struct EnrolledKiosk
    {
        qint64 id = 0;
        QSslCertificate certificate;
        QSslKey key;
    };

    EnrolledKiosk enrolKiosk(rpc::RpcClient &adminClient, const QString &name, const QString &buildingCode = QString())
    {
        EnrolledKiosk kiosk;
        QJsonObject pairing{{QStringLiteral("name"), name}};
        if (!buildingCode.isEmpty())
            pairing.insert(QStringLiteral("building_code"), buildingCode);
        const Outcome paired = adminClient.callBlocking(QStringLiteral("kiosk.pairing.create"), pairing);
        const QString code = resultOf(paired).value(QLatin1String("pairing_code")).toString();
        QString error;
        const std::optional<pki::KeyAndCsr> csr = pki::makeCsr(QStringLiteral("kiosk"), &error);
        auto device = connectStaff();
        const Outcome enrolled = device->callBlocking(QStringLiteral("kiosk.enrol"),
            {{QStringLiteral("pairing_code"), code}, {QStringLiteral("csr_pem"), QString::fromLatin1(csr->csrPem)},
                {QStringLiteral("app_version"), QStringLiteral("test 1")}});
        if (!rpc::succeeded(enrolled)) {
            qWarning("enrol: %s", qPrintable(describe(enrolled)));
            return kiosk;
        }
        kiosk.id = resultOf(enrolled).value(QLatin1String("kiosk_id")).toInteger();
        kiosk.certificate = pemCert(resultOf(enrolled).value(QLatin1String("certificate_pem")).toString().toLatin1());
        kiosk.key = QSslKey(csr->keyPem, QSsl::Ec, QSsl::Pem);
        return kiosk;
    }

    rpc::Endpoint kioskEndpoint(const QSslCertificate &certificate, const QSslKey &key) const
    {
        rpc::Endpoint e;
        e.host = QStringLiteral("127.0.0.1");
        e.port = m_service->kioskPort();
        e.ca = m_ca;
        e.clientCertificate = certificate;
        e.clientKey = key;
        return e;
    }

    qint64 auditRows()
    {
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        store::SqlError error;
        return reader->queryInt(QStringLiteral("SELECT count(*) FROM audit_log"), &error);
    }

    // The demo building with its meters' balances taken over, and a Service that runs billing
    // (the account and money methods need it), as prepayd composes it.
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;

    void startWithBilling(QList<qint64> *dispatched)
    {
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        const qint64 seededMs = m_clock.wallMs();
        QVERIFY(m_store->write([seededMs](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, seededMs); }).get().committed());
        m_book = std::make_shared<billing::TariffBook>();
        {
            std::unique_ptr<store::Connection> reader = m_store->openReader();
            QString error;
            QVERIFY2(billing::TariffBook::load(*reader, m_book.get(), &error), qPrintable(error));
        }
        m_biller = std::make_unique<billing::Biller>(m_book);
        restart(test::loopbackConfig(), m_biller.get(), dispatched);
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        m_store = std::move(opened.store);
        restart(test::loopbackConfig());
    }

    void cleanup()
    {
        m_service.reset();
        m_biller.reset();
        m_store->stop();
        m_store.reset();
        m_dir.reset();
    }

    void setupCodeCreatesTheFirstAdminOnce()
    {
        auto client = connectStaff();
        QVERIFY(client->isOpen());
        const QJsonObject base{{QStringLiteral("login"), QStringLiteral("root")},
            {QStringLiteral("display_name"), QStringLiteral("Root")}, {QStringLiteral("password"), adminPassword}};
        QJsonObject wrong = base;
        wrong.insert(QStringLiteral("setup_code"), QStringLiteral("AAAA-AAAA-AAAA"));
        QCOMPARE(codeOf(client->callBlocking(QStringLiteral("setup.create_admin"), wrong)), ErrorCode::Forbidden);
        QJsonObject right = base;
        right.insert(QStringLiteral("setup_code"), m_setupCode.toLower()); // case and dashes do not matter
        const Outcome created = client->callBlocking(QStringLiteral("setup.create_admin"), right);
        QVERIFY2(rpc::succeeded(created), qPrintable(describe(created)));
        const Outcome again = client->callBlocking(QStringLiteral("setup.create_admin"), right);
        QCOMPARE(codeOf(again), ErrorCode::Forbidden);

        // The admin chose the password: no change forced; the action is in the audit log.
        const Outcome login = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}});
        QVERIFY2(rpc::succeeded(login), qPrintable(describe(login)));
        QCOMPARE(resultOf(login).value(QLatin1String("must_change_password")).toBool(), false);
        QCOMPARE(resultOf(login).value(QLatin1String("token")).toString().size(), 43);
        const Outcome rows = client->callBlocking(QStringLiteral("audit.list"), {});
        const QJsonArray list = resultOf(rows).value(QLatin1String("rows")).toArray();
        QCOMPARE(list.size(), 2);
        QCOMPARE(list.at(0).toObject().value(QLatin1String("action")).toString(), QStringLiteral("setup.create_admin"));
        QCOMPARE(list.at(1).toObject().value(QLatin1String("action")).toString(), QStringLiteral("session.login"));
        QVERIFY(list.at(1).toObject().value(QLatin1String("source_address")).toString().startsWith(QStringLiteral("127.0.0.1:")));
    }

    void loginLockoutAndSessions()
    {
        auto root = admin();
        auto cashier = staffOf(*root, QStringLiteral("cashier"));
        const Outcome who = cashier->callBlocking(QStringLiteral("session.whoami"), {});
        QCOMPARE(resultOf(who).value(QLatin1String("principal")).toString(), QStringLiteral("cashier"));

        auto stranger = connectStaff();
        const QJsonObject wrong{{QStringLiteral("login"), QStringLiteral("u-cashier")},
            {QStringLiteral("password"), QStringLiteral("not the password")}};
        for (int i = 0; i < 4; ++i)
            QCOMPARE(codeOf(stranger->callBlocking(QStringLiteral("session.login"), wrong)), ErrorCode::Unauthenticated);
        const Outcome fifth = stranger->callBlocking(QStringLiteral("session.login"), wrong);
        QCOMPARE(codeOf(fifth), ErrorCode::Locked);
        QVERIFY(std::get<rpc::Error>(fifth).data.value(QLatin1String("locked_until_ms")).toInteger() > m_clock.wallMs());
        // Locked: even the right password gets no session.
        const Outcome right = stranger->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("u-cashier")}, {QStringLiteral("password"), QStringLiteral("own password 22")}});
        QCOMPARE(codeOf(right), ErrorCode::Locked);
        // Unknown logins answer like wrong passwords.
        QCOMPARE(codeOf(stranger->callBlocking(QStringLiteral("session.login"),
                     {{QStringLiteral("login"), QStringLiteral("nobody")}, {QStringLiteral("password"), QStringLiteral("whatever")}})),
            ErrorCode::Unauthenticated);

        // The token resumes the session on a new connection; logout ends it everywhere.
        auto first = connectStaff();
        const Outcome login = first->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}});
        const QString token = resultOf(login).value(QLatin1String("token")).toString();
        auto second = connectStaff();
        QVERIFY(rpc::succeeded(second->callBlocking(QStringLiteral("session.resume"), {{QStringLiteral("token"), token}})));
        QVERIFY(rpc::succeeded(second->callBlocking(QStringLiteral("kiosk.list"), {})));
        QVERIFY(rpc::succeeded(first->callBlocking(QStringLiteral("session.logout"), {})));
        QCOMPARE(codeOf(first->callBlocking(QStringLiteral("kiosk.list"), {})), ErrorCode::Unauthenticated);
        auto third = connectStaff();
        QCOMPARE(codeOf(third->callBlocking(QStringLiteral("session.resume"), {{QStringLiteral("token"), token}})),
            ErrorCode::Unauthenticated);
    }

    void mustChangePasswordFirst()
    {
        auto root = admin();
        QVERIFY(rpc::succeeded(root->callBlocking(QStringLiteral("operator.create"),
            {{QStringLiteral("login"), QStringLiteral("newbie")}, {QStringLiteral("display_name"), QStringLiteral("New")},
                {QStringLiteral("role"), QStringLiteral("auditor")}, {QStringLiteral("password"), QStringLiteral("temporary 123")}})));
        auto client = loggedIn(QStringLiteral("newbie"), QStringLiteral("temporary 123"));
        const Outcome blocked = client->callBlocking(QStringLiteral("audit.list"), {});
        QCOMPARE(codeOf(blocked), ErrorCode::Forbidden);
        QVERIFY(std::get<rpc::Error>(blocked).message.contains(QStringLiteral("change your password")));
        QCOMPARE(codeOf(client->callBlocking(QStringLiteral("session.change_password"),
                     {{QStringLiteral("old_password"), QStringLiteral("wrong one")}, {QStringLiteral("new_password"), QStringLiteral("brand new pass")}})),
            ErrorCode::Unauthenticated);
        const Outcome changed = client->callBlocking(QStringLiteral("session.change_password"),
            {{QStringLiteral("old_password"), QStringLiteral("temporary 123")}, {QStringLiteral("new_password"), QStringLiteral("brand new pass")}});
        QVERIFY2(rpc::succeeded(changed), qPrintable(describe(changed)));
        QVERIFY(rpc::succeeded(client->callBlocking(QStringLiteral("audit.list"), {})));
    }

    // Every method × every principal: allowed ones get past the matrix (to the schema check,
    // which the probe field fails on purpose, so nothing runs); the others are refused. Then the
    // audit log proves no refused call changed anything.
    void permissionsMatrix()
    {
        auto root = admin();
        std::map<Principal, std::unique_ptr<rpc::RpcClient>> clients;
        clients[Principal::Anonymous] = connectStaff();
        for (const QString &role : {QStringLiteral("operator"), QStringLiteral("cashier"), QStringLiteral("technician"),
                 QStringLiteral("auditor")})
            clients[*rpc::principalFromName(role)] = staffOf(*root, role);
        clients[Principal::Admin] = staffOf(*root, QStringLiteral("admin"));
        const EnrolledKiosk kiosk = enrolKiosk(*root, QStringLiteral("大堂"));
        auto kioskClient = std::make_unique<rpc::RpcClient>();
        QString error;
        QVERIFY2(kioskClient->openBlocking(kioskEndpoint(kiosk.certificate, kiosk.key), 10000, &error), qPrintable(error));
        clients[Principal::Kiosk] = std::move(kioskClient);

        const qint64 auditBefore = auditRows();
        int pairs = 0;
        int unexpectedAllows = 0;
        int unexpectedDenials = 0;
        for (const rpc::MethodSpec &spec : rpc::methodTable()) {
            for (const auto &[principal, client] : clients) {
                const Outcome o = client->callBlocking(spec.name, {{QStringLiteral("zz_probe"), true}});
                ++pairs;
                const bool refused = codeOf(o) == ErrorCode::Forbidden || codeOf(o) == ErrorCode::Unauthenticated;
                const bool expected = spec.allowed.contains(principal);
                if (expected && refused) {
                    ++unexpectedDenials;
                    qWarning("%s as %s: %s", qPrintable(spec.name), qPrintable(rpc::principalName(principal)), qPrintable(describe(o)));
                }
                if (!expected && !refused) {
                    ++unexpectedAllows;
                    qWarning("%s as %s: %s", qPrintable(spec.name), qPrintable(rpc::principalName(principal)), qPrintable(describe(o)));
                }
                if (expected)
                    QCOMPARE(codeOf(o), ErrorCode::InvalidParams); // stopped at the schema: nothing ran
            }
        }
        QCOMPARE(pairs, int(rpc::methodTable().size()) * 7);
        QCOMPARE(unexpectedAllows, 0);
        QCOMPARE(unexpectedDenials, 0);
        QCOMPARE(auditRows(), auditBefore);
        qInfo("permissions matrix: %d method x principal pairs, 0 unexpected allows", pairs);
    }

    void kioskEnrolmentAndMutualTls()
    {
        auto root = admin();
        const EnrolledKiosk kiosk = enrolKiosk(*root, QStringLiteral("A座大堂"));
        QVERIFY(kiosk.id > 0);
        QVERIFY(!kiosk.certificate.isNull());

        rpc::RpcClient device;
        QString error;
        QVERIFY2(device.openBlocking(kioskEndpoint(kiosk.certificate, kiosk.key), 10000, &error), qPrintable(error));
        const Outcome who = device.callBlocking(QStringLiteral("session.whoami"), {});
        QCOMPARE(resultOf(who).value(QLatin1String("principal")).toString(), QStringLiteral("kiosk"));
        QCOMPARE(resultOf(who).value(QLatin1String("kiosk")).toObject().value(QLatin1String("kiosk_id")).toInteger(), kiosk.id);
        const Outcome reported = device.callBlocking(QStringLiteral("kiosk.report_health"),
            {{QStringLiteral("health"), QJsonObject{{QStringLiteral("printer"), QStringLiteral("paper_out")}}}});
        QVERIFY2(rpc::succeeded(reported), qPrintable(describe(reported)));
        const QJsonArray kiosks = resultOf(root->callBlocking(QStringLiteral("kiosk.list"), {})).value(QLatin1String("kiosks")).toArray();
        QCOMPARE(kiosks.size(), 1);
        QCOMPARE(kiosks.at(0).toObject().value(QLatin1String("health")).toObject().value(QLatin1String("printer")).toString(),
            QStringLiteral("paper_out"));
        // The kiosk cannot report for another kiosk: the method has no kiosk parameter at all.
        QCOMPARE(codeOf(device.callBlocking(QStringLiteral("kiosk.report_health"),
                     {{QStringLiteral("health"), QJsonObject{}}, {QStringLiteral("kiosk_id"), kiosk.id + 1}})),
            ErrorCode::InvalidParams);

        // The pairing code works once.
        const Outcome paired = root->callBlocking(QStringLiteral("kiosk.pairing.create"), {{QStringLiteral("name"), QStringLiteral("B座")}});
        const QString code = resultOf(paired).value(QLatin1String("pairing_code")).toString();
        const std::optional<pki::KeyAndCsr> csr = pki::makeCsr(QStringLiteral("k"), &error);
        auto enroller = connectStaff();
        const QJsonObject enrolParams{{QStringLiteral("pairing_code"), code}, {QStringLiteral("csr_pem"), QString::fromLatin1(csr->csrPem)}};
        QVERIFY(rpc::succeeded(enroller->callBlocking(QStringLiteral("kiosk.enrol"), enrolParams)));
        QCOMPARE(codeOf(enroller->callBlocking(QStringLiteral("kiosk.enrol"), enrolParams)), ErrorCode::Forbidden);
        // A garbage certificate request is refused by name.
        const Outcome again = root->callBlocking(QStringLiteral("kiosk.pairing.create"), {{QStringLiteral("name"), QStringLiteral("C座")}});
        const Outcome garbage = enroller->callBlocking(QStringLiteral("kiosk.enrol"),
            {{QStringLiteral("pairing_code"), resultOf(again).value(QLatin1String("pairing_code")).toString()},
                {QStringLiteral("csr_pem"), QString(200, QLatin1Char('A'))}});
        QCOMPARE(codeOf(garbage), ErrorCode::InvalidParams);

        // Revoked: the open connection closes and the certificate is refused from then on.
        QSignalSpy closed(&device, &rpc::RpcClient::disconnected);
        QVERIFY(rpc::succeeded(root->callBlocking(QStringLiteral("kiosk.revoke"),
            {{QStringLiteral("kiosk_id"), kiosk.id}, {QStringLiteral("reason"), QStringLiteral("stolen")}})));
        QVERIFY(closed.wait(5000) || closed.count() > 0);
        rpc::RpcClient after;
        after.openBlocking(kioskEndpoint(kiosk.certificate, kiosk.key), 5000, &error); // TLS may complete
        QTRY_VERIFY_WITH_TIMEOUT(!after.isOpen(), 5000); // but prepayd closes it at once
        QCOMPARE(codeOf(after.callBlocking(QStringLiteral("session.whoami"), {}, 2000)), ErrorCode::Unavailable);
        QVERIFY(m_service->connectionCount() >= 1);
    }

    void tlsRefusals()
    {
        auto root = admin();
        const EnrolledKiosk kiosk = enrolKiosk(*root, QStringLiteral("lobby"));
        QString error;
        const auto refused = [&](const rpc::Endpoint &endpoint, const char *what) {
            rpc::RpcClient client;
            QString why;
            bool opened = client.openBlocking(endpoint, 10000, &why);
            if (opened) {
                // Some refusals arrive just after the client thinks the handshake is done.
                const Outcome o = client.callBlocking(QStringLiteral("system.version"), {}, 3000);
                opened = rpc::succeeded(o);
            }
            if (opened)
                qInfo("%s: accepted", what);
            return !opened;
        };
        // No client certificate on the kiosk port.
        QVERIFY(refused(kioskEndpoint(QSslCertificate(), QSslKey()), "no client certificate"));
        // A certificate from a foreign CA.
        const std::optional<pki::KeyAndCert> foreignCa = pki::createCa(QStringLiteral("elsewhere"), m_clock.wallMs(), &error);
        pki::CertSpec spec;
        spec.commonName = QStringLiteral("kiosk-1");
        spec.notBeforeMs = m_clock.wallMs() - 3600000;
        spec.notAfterMs = m_clock.wallMs() + 3600000;
        const std::optional<pki::KeyAndCert> foreign = pki::issue(*foreignCa, spec, &error);
        QVERIFY(refused(kioskEndpoint(pemCert(foreign->certPem), QSslKey(foreign->keyPem, QSsl::Ec)), "foreign CA"));
        // An expired certificate of our own CA.
        const std::optional<pki::KeyAndCert> ourCa = pki::loadKeyAndCert(
            m_dir->filePath(QStringLiteral("pki/ca.key")), m_dir->filePath(QStringLiteral("pki/ca.crt")), &error);
        QVERIFY2(ourCa, qPrintable(error));
        spec.notBeforeMs = m_clock.wallMs() - 2 * 86400000LL;
        spec.notAfterMs = m_clock.wallMs() - 86400000LL;
        const std::optional<pki::KeyAndCert> expired = pki::issue(*ourCa, spec, &error);
        QVERIFY2(expired, qPrintable(error));
        QVERIFY(refused(kioskEndpoint(pemCert(expired->certPem), QSslKey(expired->keyPem, QSsl::Ec)), "expired"));
        // A valid certificate of our CA that belongs to no enrolled kiosk.
        spec.notAfterMs = m_clock.wallMs() + 86400000LL;
        const std::optional<pki::KeyAndCert> stray = pki::issue(*ourCa, spec, &error);
        QVERIFY(refused(kioskEndpoint(pemCert(stray->certPem), QSslKey(stray->keyPem, QSsl::Ec)), "not enrolled"));
        // The enrolled kiosk itself gets in (the control case).
        QVERIFY(!refused(kioskEndpoint(kiosk.certificate, kiosk.key), "enrolled kiosk"));

        // TLS 1.2 on both ports (Qt refuses to offer anything older at all); the same socket set up for TLS 1.3 gets through (the
        // control: the refusal is the protocol version, not the socket). The server runs on this
        // thread, so the waits process events instead of blocking.
        for (const quint16 port : {m_service->staffPort(), m_service->kioskPort()}) {
            for (const QSsl::SslProtocol protocol : {QSsl::TlsV1_3, QSsl::TlsV1_2}) {
                QSslSocket socket;
                QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
                ssl.setProtocol(protocol);
                ssl.setCaCertificates({m_ca});
                ssl.setLocalCertificate(kiosk.certificate);
                ssl.setPrivateKey(kiosk.key);
                socket.setSslConfiguration(ssl);
                bool failed = false;
                connect(&socket, &QSslSocket::errorOccurred, this, [&failed] { failed = true; });
                connect(&socket, &QSslSocket::disconnected, this, [&failed] { failed = true; });
                socket.connectToHostEncrypted(QStringLiteral("127.0.0.1"), port);
                QVERIFY(QTest::qWaitFor([&] { return socket.isEncrypted() || failed; }, 5000));
                if (protocol == QSsl::TlsV1_3)
                    QVERIFY2(socket.isEncrypted(), qPrintable(socket.errorString()));
                else
                    QVERIFY2(!socket.isEncrypted() && failed, qPrintable(QStringLiteral("protocol %1 accepted on port %2").arg(int(protocol)).arg(port)));
            }
        }
        // Plaintext on the TLS ports: a WebSocket upgrade in clear text is never answered 101.
        for (const quint16 port : {m_service->staffPort(), m_service->kioskPort()}) {
            QTcpSocket plain;
            plain.connectToHost(QStringLiteral("127.0.0.1"), port);
            QTRY_VERIFY_WITH_TIMEOUT(plain.state() == QAbstractSocket::ConnectedState, 5000);
            plain.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            QByteArray answer;
            connect(&plain, &QTcpSocket::readyRead, this, [&] { answer += plain.readAll(); });
            QTRY_VERIFY_WITH_TIMEOUT(plain.state() == QAbstractSocket::UnconnectedState, 15000);
            QVERIFY2(!answer.contains("101"), answer.constData());
        }
    }

    void malformedAndHostileInput()
    {
        auto client = connectStaff();
        QCOMPARE(client->sendRawBlocking("not json").value(QLatin1String("error")).toObject().value(QLatin1String("code")).toInt(),
            int(ErrorCode::ParseError));
        QCOMPARE(client->sendRawBlocking(R"([{"jsonrpc":"2.0","id":1,"method":"system.version"}])")
                     .value(QLatin1String("error")).toObject().value(QLatin1String("code")).toInt(),
            int(ErrorCode::InvalidRequest));
        const QJsonObject unknown = client->sendRawBlocking(R"({"jsonrpc":"2.0","id":"x-1","method":"ledger.drop_all"})");
        QCOMPARE(unknown.value(QLatin1String("id")).toString(), QStringLiteral("x-1"));
        QCOMPARE(unknown.value(QLatin1String("error")).toObject().value(QLatin1String("code")).toInt(), int(ErrorCode::MethodNotFound));
        // A field of the wrong type is named.
        const Outcome typed = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), 42}, {QStringLiteral("password"), QStringLiteral("x")}});
        QCOMPARE(codeOf(typed), ErrorCode::InvalidParams);
        QCOMPARE(std::get<rpc::Error>(typed).data.value(QLatin1String("field")).toString(), QStringLiteral("params.login"));

        // Hostile strings in every free-text parameter an anonymous caller reaches: never an
        // internal error, never a session, never a row.
        auto root = admin();
        const qint64 before = auditRows();
        QFile file(QStringLiteral(PREPAY_SOURCE_DIR "/tests/data/hostile-strings.txt"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        int tried = 0;
        for (const QByteArray &line : file.readAll().split('\n')) {
            if (line.isEmpty() || line.startsWith('#') || line.contains("\\x") || line.startsWith('@'))
                continue; // the plain-text entries; the escaped ones are the decoder's unit test
            const QString hostile = QString::fromUtf8(line);
            for (const QString &field : {QStringLiteral("login"), QStringLiteral("password")}) {
                QJsonObject params{{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), QStringLiteral("x")}};
                params.insert(field, hostile);
                const Outcome o = client->callBlocking(QStringLiteral("session.login"), params);
                QVERIFY2(codeOf(o) == ErrorCode::InvalidParams || codeOf(o) == ErrorCode::Unauthenticated
                        || codeOf(o) == ErrorCode::Locked,
                    qPrintable(describe(o)));
                ++tried;
            }
            const Outcome enrol = client->callBlocking(QStringLiteral("kiosk.enrol"),
                {{QStringLiteral("pairing_code"), hostile}, {QStringLiteral("csr_pem"), hostile}});
            QVERIFY2(codeOf(enrol) == ErrorCode::InvalidParams || codeOf(enrol) == ErrorCode::Forbidden, qPrintable(describe(enrol)));
            const Outcome pairing = root->callBlocking(QStringLiteral("kiosk.pairing.create"),
                {{QStringLiteral("name"), hostile}, {QStringLiteral("building_code"), hostile}});
            QVERIFY2(codeOf(pairing) == ErrorCode::InvalidParams || codeOf(pairing) == ErrorCode::NotFound,
                qPrintable(describe(pairing)));
            tried += 2;
        }
        QVERIFY2(tried > 200, qPrintable(QString::number(tried)));
        // Failed logins of the known login 'root' are audited (and may lock it); nothing else wrote.
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        store::SqlError error;
        const qint64 others = reader->queryInt(QStringLiteral(
            "SELECT count(*) FROM audit_log WHERE action NOT IN ('session.login_failed')"), &error);
        QCOMPARE(others, before);
        QCOMPARE(reader->queryInt(QStringLiteral("SELECT count(*) FROM kiosks"), &error), 0);
        QCOMPARE(reader->queryInt(QStringLiteral("SELECT count(*) FROM operators"), &error), 1);
        qInfo("hostile payloads: %d calls, 0 internal errors", tried);
    }

    void rateLimitPerConnection()
    {
        service::Config config = test::loopbackConfig();
        config.requestsPerSecond = 5;
        config.requestsBurst = 10;
        restart(config);
        auto client = connectStaff();
        int limited = 0;
        for (int i = 0; i < 30; ++i)
            limited += codeOf(client->callBlocking(QStringLiteral("system.version"), {})) == ErrorCode::RateLimited ? 1 : 0;
        QVERIFY2(limited >= 15, qPrintable(QString::number(limited)));
        // Another connection has its own budget.
        auto other = connectStaff();
        QVERIFY(rpc::succeeded(other->callBlocking(QStringLiteral("system.version"), {})));
    }

    void healthEndpoint()
    {
        QTcpSocket http;
        QByteArray answer;
        connect(&http, &QTcpSocket::readyRead, this, [&] { answer += http.readAll(); });
        http.connectToHost(QStringLiteral("127.0.0.1"), m_service->healthPort());
        QTRY_VERIFY_WITH_TIMEOUT(http.state() == QAbstractSocket::ConnectedState, 5000);
        http.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(answer.contains("}"), 5000);
        QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer.constData());
        const QJsonObject body = QJsonDocument::fromJson(answer.mid(answer.indexOf("\r\n\r\n") + 4)).object();
        QCOMPARE(body.value(QLatin1String("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(body.value(QLatin1String("schema_version")).toInt(), m_store->schemaVersion());
    }

    void auditChainOfStaffActions()
    {
        auto root = admin();
        auto tech = staffOf(*root, QStringLiteral("technician"));
        QVERIFY(rpc::succeeded(tech->callBlocking(QStringLiteral("kiosk.pairing.create"), {{QStringLiteral("name"), QStringLiteral("K1")}})));
        const Outcome verified = root->callBlocking(QStringLiteral("audit.verify"), {});
        QVERIFY2(resultOf(verified).value(QLatin1String("ok")).toBool(), qPrintable(describe(verified)));
        const QJsonArray rows = resultOf(root->callBlocking(QStringLiteral("audit.list"), {{QStringLiteral("limit"), 500}}))
                                    .value(QLatin1String("rows")).toArray();
        QStringList actions;
        for (const QJsonValue &row : rows)
            actions << row.toObject().value(QLatin1String("action")).toString();
        QVERIFY2(actions.contains(QStringLiteral("operator.create")), qPrintable(actions.join(QLatin1Char(','))));
        QVERIFY(actions.contains(QStringLiteral("session.change_password")));
        QVERIFY(actions.contains(QStringLiteral("kiosk.pairing.create")));
        const QJsonObject pairing = rows.last().toObject();
        QCOMPARE(pairing.value(QLatin1String("operator_login")).toString(), QStringLiteral("u-technician"));
        QVERIFY(pairing.value(QLatin1String("after")).toObject().contains(QStringLiteral("name")));
        QVERIFY(!QJsonDocument(pairing).toJson().contains("pairing_code_hash"));
        QVERIFY(pairing.value(QLatin1String("correlation_id")).toString().startsWith(QLatin1Char('c')));
    }

    // A kiosk's replica fed over the wire: snapshot, subscribe, pushed batches; a disconnect
    // while the directory changes, then a resubscribe from the replica's seq. At each step the
    // replica equals a fresh snapshot read from the database.
    void directoryFeedOverTheWire()
    {
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        auto root = admin();
        const EnrolledKiosk kiosk = enrolKiosk(*root, QStringLiteral("lobby"));
        sync::Replica replica;
        int gaps = 0;
        const auto current = [this] {
            std::unique_ptr<store::Connection> reader = m_store->openReader();
            QString error;
            const std::optional<sync::DirectorySnapshot> snap = sync::snapshot(*reader, &error);
            return snap ? sync::snapshotToJson(*snap).value(QLatin1String("rows")).toArray() : QJsonArray();
        };
        const auto held = [&replica] {
            return sync::snapshotToJson(replica.toSnapshot()).value(QLatin1String("rows")).toArray();
        };
        const auto connectKiosk = [&](rpc::RpcClient &client) {
            QString error;
            QVERIFY2(client.openBlocking(kioskEndpoint(kiosk.certificate, kiosk.key), 10000, &error), qPrintable(error));
            connect(&client, &rpc::RpcClient::notification, this, [&](const QString &method, const QJsonObject &params) {
                QCOMPARE(method, QStringLiteral("events.directory"));
                QString problem;
                const std::optional<sync::DirectoryBatch> batch = sync::batchFromJson(params, &problem);
                QVERIFY2(batch, qPrintable(problem));
                const sync::ApplyOutcome outcome = replica.applyBatch(*batch, &problem);
                if (outcome == sync::ApplyOutcome::Gap)
                    ++gaps;
                QVERIFY2(outcome == sync::ApplyOutcome::Applied || outcome == sync::ApplyOutcome::Duplicate,
                    qPrintable(sync::applyOutcomeCode(outcome) + QLatin1Char(' ') + problem));
            });
            if (!replica.hasSnapshot()) {
                const Outcome snap = client.callBlocking(QStringLiteral("sync.snapshot"), {});
                QString problem;
                const std::optional<sync::DirectorySnapshot> parsed = sync::snapshotFromJson(resultOf(snap), &problem);
                QVERIFY2(parsed, qPrintable(describe(snap) + problem));
                replica.applySnapshot(*parsed);
            }
            const Outcome first = client.callBlocking(QStringLiteral("events.subscribe"), {{QStringLiteral("since_seq"), replica.lastSeq()}});
            QString problem;
            const std::optional<sync::DirectoryBatch> batch = sync::batchFromJson(resultOf(first), &problem);
            QVERIFY2(batch, qPrintable(describe(first) + problem));
            const sync::ApplyOutcome outcome = replica.applyBatch(*batch, &problem);
            QVERIFY2(outcome == sync::ApplyOutcome::Applied || outcome == sync::ApplyOutcome::Duplicate, qPrintable(problem));
        };

        {
            // The seed's accounts (293 in the directory) appear within a refresh or two; the first snapshot may
            // precede them: the pushed batches bring the replica up to date.
            rpc::RpcClient device;
            connectKiosk(device);
            QTRY_VERIFY_WITH_TIMEOUT(current().size() > 250 && held() == current(), 15000);
            // Money moves: the meters' balances taken over into the wallets reach the kiosk.
            const qint64 nowMs = m_clock.wallMs();
            QVERIFY(m_store->write([nowMs](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, nowMs); }).get().committed());
            QTRY_VERIFY_WITH_TIMEOUT(held() == current(), 15000);
            QVERIFY(held().at(0).toObject().value(QLatin1String("balance_fen")).isDouble());
        }
        // Offline while three shops are renamed; back, the resubscription brings exactly those.
        const qint64 seqBefore = replica.lastSeq();
        QVERIFY(m_store->write([](store::Transaction &tx) {
            tx.db().exec(QStringLiteral("UPDATE accounts SET display_name = display_name || ' (new)' WHERE id IN (1, 2, 3)"));
        }).get().committed());
        QTRY_VERIFY_WITH_TIMEOUT(current() != held(), 15000);
        rpc::RpcClient again;
        connectKiosk(again);
        QTRY_VERIFY_WITH_TIMEOUT(held() == current(), 15000);
        QVERIFY(replica.lastSeq() > seqBefore);
        QCOMPARE(gaps, 0);
        QVERIFY(held().at(0).toObject().value(QLatin1String("display_name")).toString().endsWith(QStringLiteral(" (new)")));

        // A kiosk of the basement reads the basement's tenants, nobody else's.
        const EnrolledKiosk basement = enrolKiosk(*root, QStringLiteral("B1 lift lobby"), QStringLiteral("B1"));
        rpc::RpcClient local;
        QString error;
        QVERIFY2(local.openBlocking(kioskEndpoint(basement.certificate, basement.key), 10000, &error), qPrintable(error));
        const QJsonArray rows = resultOf(local.callBlocking(QStringLiteral("sync.snapshot"), {})).value(QLatin1String("rows")).toArray();
        QVERIFY(!rows.isEmpty());
        QVERIFY(rows.size() < current().size());
        for (const QJsonValue &row : rows)
            QVERIFY2(row.toObject().value(QLatin1String("shop_no")).toString().startsWith(QStringLiteral("B1-")),
                qPrintable(row.toObject().value(QLatin1String("shop_no")).toString()));
        const Outcome since = local.callBlocking(QStringLiteral("events.subscribe"), {{QStringLiteral("since_seq"), 0}});
        for (const QJsonValue &event : resultOf(since).value(QLatin1String("events")).toArray()) {
            const QJsonObject payload = event.toObject().value(QLatin1String("payload")).toObject();
            QVERIFY(payload.contains(QStringLiteral("removed")) || payload.value(QLatin1String("shop_no")).toString().startsWith(QStringLiteral("B1-")));
        }
    }

    // Money through the API with billing running: a cash top-up (idempotent by key), the
    // maker-checker queue for an adjustment, a FORCE_ON and a large cash refund, and the direct
    // actions; the ledger and the audit chain verify afterwards.
    void moneyAndMakerChecker()
    {
        QList<qint64> dispatched;
        startWithBilling(&dispatched);
        if (QTest::currentTestFailed())
            return;

        auto root = admin();
        auto ops = staffOf(*root, QStringLiteral("operator"));
        auto cashier = staffOf(*root, QStringLiteral("cashier"));
        const auto balanceOf = [this](const QString &shop) {
            std::unique_ptr<store::Connection> reader = m_store->openReader();
            store::Statement s = reader->prepare(QStringLiteral(
                "SELECT la.balance_fen FROM ledger_accounts la JOIN accounts a ON a.id = la.account_id WHERE a.shop_no = ?1"));
            s.bind(1, shop);
            return s.step() == store::Statement::Step::Row ? s.int64(0) : qint64(-1);
        };

        // Cash at the counter: credited once per key, the meters' jobs queued and dispatched.
        const qint64 before = balanceOf(QStringLiteral("A-1F-101"));
        const QJsonObject topUp{{QStringLiteral("shop_no"), QStringLiteral("A-1F-101")},
            {QStringLiteral("amount_fen"), 10000}, {QStringLiteral("idempotency_key"), QStringLiteral("counter-0001")}};
        const Outcome paid = cashier->callBlocking(QStringLiteral("account.recharge_cash"), topUp);
        QVERIFY2(rpc::succeeded(paid), qPrintable(describe(paid)));
        QCOMPARE(resultOf(paid).value(QLatin1String("balance_fen")).toInteger(), before + 10000);
        QVERIFY(resultOf(paid).value(QLatin1String("receipt_no")).toString().startsWith(QStringLiteral("CSH")));
        QVERIFY(!dispatched.isEmpty()); // A-1F-101's two prepaid meters get their shares
        const Outcome again = cashier->callBlocking(QStringLiteral("account.recharge_cash"), topUp);
        QVERIFY2(rpc::succeeded(again) && resultOf(again).value(QLatin1String("already")).toBool(), qPrintable(describe(again)));
        QCOMPARE(balanceOf(QStringLiteral("A-1F-101")), before + 10000);
        QJsonObject other = topUp;
        other.insert(QStringLiteral("amount_fen"), 20000);
        QCOMPARE(codeOf(cashier->callBlocking(QStringLiteral("account.recharge_cash"), other)), ErrorCode::Conflict);
        QCOMPARE(codeOf(ops->callBlocking(QStringLiteral("account.recharge_cash"), topUp)), ErrorCode::Forbidden);

        // An adjustment waits for a second person; the maker cannot approve it.
        const Outcome asked = ops->callBlocking(QStringLiteral("ledger.adjust"),
            {{QStringLiteral("shop_no"), QStringLiteral("A-1F-101")}, {QStringLiteral("amount_fen"), -2500},
                {QStringLiteral("reason"), QStringLiteral("meter misread in May")},
                {QStringLiteral("idempotency_key"), QStringLiteral("adj-0001")}});
        QVERIFY2(resultOf(asked).value(QLatin1String("status")).toString() == QStringLiteral("pending_approval"), qPrintable(describe(asked)));
        const qint64 approvalId = resultOf(asked).value(QLatin1String("approval_id")).toInteger();
        QCOMPARE(balanceOf(QStringLiteral("A-1F-101")), before + 10000);
        QCOMPARE(codeOf(ops->callBlocking(QStringLiteral("approval.decide"),
                     {{QStringLiteral("approval_id"), approvalId}, {QStringLiteral("decision"), QStringLiteral("approve")}})),
            ErrorCode::Forbidden);
        const QJsonArray queue = resultOf(root->callBlocking(QStringLiteral("approval.list"), {})).value(QLatin1String("approvals")).toArray();
        QCOMPARE(queue.size(), 1);
        QCOMPARE(queue.at(0).toObject().value(QLatin1String("requested_by_login")).toString(), QStringLiteral("u-operator"));
        const Outcome approved = root->callBlocking(QStringLiteral("approval.decide"),
            {{QStringLiteral("approval_id"), approvalId}, {QStringLiteral("decision"), QStringLiteral("approve")}});
        QVERIFY2(rpc::succeeded(approved), qPrintable(describe(approved)));
        QCOMPARE(balanceOf(QStringLiteral("A-1F-101")), before + 10000 - 2500);
        QCOMPARE(codeOf(root->callBlocking(QStringLiteral("approval.decide"),
                     {{QStringLiteral("approval_id"), approvalId}, {QStringLiteral("decision"), QStringLiteral("approve")}})),
            ErrorCode::Conflict); // carried out once

        // 保电 waits; 拉闸 and back to auto do not.
        const Outcome forceOn = ops->callBlocking(QStringLiteral("control.set_mode"),
            {{QStringLiteral("point_code"), QStringLiteral("A-1F-104")}, {QStringLiteral("mode"), QStringLiteral("force_on")},
                {QStringLiteral("reason"), QStringLiteral("hospital fridge")}});
        QCOMPARE(resultOf(forceOn).value(QLatin1String("status")).toString(), QStringLiteral("pending_approval"));
        const Outcome rejected = root->callBlocking(QStringLiteral("approval.decide"),
            {{QStringLiteral("approval_id"), resultOf(forceOn).value(QLatin1String("approval_id")).toInteger()},
                {QStringLiteral("decision"), QStringLiteral("reject")}, {QStringLiteral("note"), QStringLiteral("use a generator")}});
        QCOMPARE(resultOf(rejected).value(QLatin1String("status")).toString(), QStringLiteral("rejected"));
        const Outcome forceOff = ops->callBlocking(QStringLiteral("control.set_mode"),
            {{QStringLiteral("point_code"), QStringLiteral("A-1F-104")}, {QStringLiteral("mode"), QStringLiteral("force_off")},
                {QStringLiteral("reason"), QStringLiteral("unsafe wiring")}});
        QVERIFY2(resultOf(forceOff).value(QLatin1String("status")).toString() == QStringLiteral("done"), qPrintable(describe(forceOff)));

        // A cash refund above 500.00 waits; a shop is opened directly.
        const Outcome close = ops->callBlocking(QStringLiteral("account.close"),
            {{QStringLiteral("shop_no"), QStringLiteral("B1-001")}, {QStringLiteral("settlement"), QStringLiteral("refund_cash")},
                {QStringLiteral("reason"), QStringLiteral("lease ended")}});
        QCOMPARE(resultOf(close).value(QLatin1String("status")).toString(), QStringLiteral("pending_approval"));
        const Outcome closed = root->callBlocking(QStringLiteral("approval.decide"),
            {{QStringLiteral("approval_id"), resultOf(close).value(QLatin1String("approval_id")).toInteger()},
                {QStringLiteral("decision"), QStringLiteral("approve")}});
        QVERIFY2(rpc::succeeded(closed) && resultOf(closed).value(QLatin1String("settled_fen")).toInteger() > 50000, qPrintable(describe(closed)));
        const Outcome opened = ops->callBlocking(QStringLiteral("account.open"),
            {{QStringLiteral("shop_no"), QStringLiteral("A-4F-405")}, {QStringLiteral("display_name"), QStringLiteral("新店")},
                {QStringLiteral("point_codes"), QJsonArray{QStringLiteral("A-4F-405")}}, {QStringLiteral("tariff_code"), QStringLiteral("TOU-COM")}});
        QVERIFY2(rpc::succeeded(opened), qPrintable(describe(opened)));

        // Everything left the books balanced and the chain whole, each action in it.
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        const ledger::VerifyReport ledgerReport = ledger::verifyLedger(*reader);
        QVERIFY2(ledgerReport.ok(), qPrintable(QStringLiteral("%1 ledger violations %2").arg(ledgerReport.violations.size()).arg(ledgerReport.error)));
        QVERIFY(audit::verify(*reader).ok);
        // Before and after: the top-up's row holds the wallet on both sides.
        {
            store::Statement row = reader->prepare(QStringLiteral(
                "SELECT json_extract(before_json, '$.balance_fen'), json_extract(after_json, '$.subject.balance_fen') "
                "FROM audit_log WHERE action = 'account.recharge_cash' ORDER BY seq LIMIT 1"));
            QVERIFY(row.step() == store::Statement::Step::Row);
            QCOMPARE(row.int64(1) - row.int64(0), qint64(10000));
        }
        store::SqlError sqlError;
        for (const QString &action : {QStringLiteral("account.recharge_cash"), QStringLiteral("approval.request"),
                 QStringLiteral("approval.decide"), QStringLiteral("ledger.adjust"), QStringLiteral("control.set_mode"),
                 QStringLiteral("account.close"), QStringLiteral("account.open")}) {
            store::Statement count = reader->prepare(QStringLiteral("SELECT count(*) FROM audit_log WHERE action = ?1"));
            count.bind(1, action);
            QVERIFY2(count.step() == store::Statement::Step::Row && count.int64(0) > 0, qPrintable(action));
        }
    }

    // Every free-text parameter of every method, with each plain hostile string of
    // tests/data/hostile-strings.txt (SQL injection classics, quotes, format strings, huge,
    // JSON-looking, RTL, emoji …), called by a principal allowed to call it, in an otherwise valid
    // request: never an internal error, and afterwards the file, the ledger and the audit chain
    // verify and no table lost a row.
    void hostileTextInEveryParameter()
    {
        QList<qint64> dispatched;
        startWithBilling(&dispatched);
        if (QTest::currentTestFailed())
            return;
        auto root = admin();
        auto cashier = staffOf(*root, QStringLiteral("cashier"));
        const EnrolledKiosk kiosk = enrolKiosk(*root, QStringLiteral("lobby"));
        rpc::RpcClient device;
        QString error;
        QVERIFY2(device.openBlocking(kioskEndpoint(kiosk.certificate, kiosk.key), 10000, &error), qPrintable(error));

        // A valid request of each method (fields not listed keep these values).
        const QHash<QString, QJsonObject> examples{
            {QStringLiteral("account.list"), {{QStringLiteral("query"), QStringLiteral("A-1F")}, {QStringLiteral("building_code"), QStringLiteral("A")}}},
            {QStringLiteral("account.get"), {{QStringLiteral("shop_no"), QStringLiteral("A-1F-101")}}},
            {QStringLiteral("account.usage"), {{QStringLiteral("shop_no"), QStringLiteral("A-1F-101")}, {QStringLiteral("granularity"), QStringLiteral("day")}}},
            {QStringLiteral("account.open"), {{QStringLiteral("shop_no"), QStringLiteral("A-6F-610")}, {QStringLiteral("display_name"), QStringLiteral("x")},
                {QStringLiteral("contact_name"), QStringLiteral("y")}, {QStringLiteral("point_codes"), QJsonArray{QStringLiteral("A-6F-610")}},
                {QStringLiteral("tariff_code"), QStringLiteral("TOU-COM")}}},
            {QStringLiteral("account.close"), {{QStringLiteral("shop_no"), QStringLiteral("nobody")}, {QStringLiteral("settlement"), QStringLiteral("none")},
                {QStringLiteral("transfer_to_shop_no"), QStringLiteral("nobody")}, {QStringLiteral("reason"), QStringLiteral("test")}}},
            {QStringLiteral("account.recharge_cash"), {{QStringLiteral("shop_no"), QStringLiteral("nobody")}, {QStringLiteral("amount_fen"), 100},
                {QStringLiteral("idempotency_key"), QStringLiteral("hostile-0001")}}},
            {QStringLiteral("ledger.adjust"), {{QStringLiteral("shop_no"), QStringLiteral("nobody")}, {QStringLiteral("amount_fen"), 100},
                {QStringLiteral("reason"), QStringLiteral("test")}, {QStringLiteral("idempotency_key"), QStringLiteral("hostile-0002")}}},
            {QStringLiteral("ledger.reverse"), {{QStringLiteral("entry_id"), 999999}, {QStringLiteral("reason"), QStringLiteral("test")},
                {QStringLiteral("idempotency_key"), QStringLiteral("hostile-0003")}}},
            {QStringLiteral("control.set_mode"), {{QStringLiteral("point_code"), QStringLiteral("nowhere")}, {QStringLiteral("mode"), QStringLiteral("force_off")},
                {QStringLiteral("reason"), QStringLiteral("test")}}},
            {QStringLiteral("approval.decide"), {{QStringLiteral("approval_id"), 999999}, {QStringLiteral("decision"), QStringLiteral("reject")},
                {QStringLiteral("note"), QStringLiteral("n")}}},
            {QStringLiteral("operator.create"), {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("display_name"), QStringLiteral("n")},
                {QStringLiteral("role"), QStringLiteral("auditor")}, {QStringLiteral("password"), QStringLiteral("long enough 123")}}},
            {QStringLiteral("operator.reset_password"), {{QStringLiteral("operator_id"), 999999}, {QStringLiteral("password"), QStringLiteral("long enough 123")},
                {QStringLiteral("reason"), QStringLiteral("test")}}},
            {QStringLiteral("operator.set_disabled"), {{QStringLiteral("operator_id"), 999999}, {QStringLiteral("disabled"), false},
                {QStringLiteral("reason"), QStringLiteral("test")}}},
            {QStringLiteral("kiosk.pairing.create"), {{QStringLiteral("name"), QStringLiteral("lobby")}, {QStringLiteral("building_code"), QStringLiteral("A")}}},
            {QStringLiteral("kiosk.revoke"), {{QStringLiteral("kiosk_id"), 999999}, {QStringLiteral("reason"), QStringLiteral("test")}}},
            {QStringLiteral("kiosk.report_health"), {{QStringLiteral("health"), QJsonObject{{QStringLiteral("printer_detail"), QStringLiteral("ok")}}},
                {QStringLiteral("app_version"), QStringLiteral("1")}}},
            {QStringLiteral("import.csv"), {{QStringLiteral("kind"), QStringLiteral("buildings")}, {QStringLiteral("csv"), QStringLiteral("code,name\n")},
                {QStringLiteral("dry_run"), true}}},
        };
        // Passwords cost a hash each (they are length-checked only, like any string); the setup
        // code and the kiosk enrolment have their own hostile test above.
        const QStringList skipped{QStringLiteral("password"), QStringLiteral("old_password"), QStringLiteral("new_password")};

        QFile file(QStringLiteral(PREPAY_SOURCE_DIR "/tests/data/hostile-strings.txt"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QStringList hostile;
        for (const QByteArray &line : file.readAll().split('\n')) {
            if (!line.isEmpty() && !line.startsWith('#') && !line.contains("\\x") && !line.startsWith('@'))
                hostile << QString::fromUtf8(line);
        }
        hostile << QString(5000, QLatin1Char('A')) << QStringLiteral("' OR '1'='1") << QStringLiteral("A-1F-101' --");

        const auto counts = [this] {
            std::unique_ptr<store::Connection> reader = m_store->openReader();
            QMap<QString, qint64> n;
            store::SqlError e;
            for (const char *table : {"accounts", "ledger_entries", "ledger_postings", "meters", "metering_points", "operators",
                     "kiosks", "buildings", "gateways", "readings", "settings", "approvals"})
                n.insert(QLatin1String(table), reader->queryInt(QStringLiteral("SELECT count(*) FROM %1").arg(QLatin1String(table)), &e));
            return n;
        };
        const QMap<QString, qint64> before = counts();
        int calls = 0;
        int internal = 0;
        for (const rpc::MethodSpec &spec : rpc::methodTable()) {
            rpc::RpcClient *client = spec.allowed.contains(Principal::Admin) ? root.get()
                : spec.allowed.contains(Principal::Kiosk)                 ? &device
                : spec.allowed.contains(Principal::Cashier)               ? cashier.get()
                                                                          : nullptr;
            if (!client)
                continue; // anonymous-only methods: covered by malformedAndHostileInput
            QJsonObject base = examples.value(spec.name);
            for (const rpc::Field &field : spec.params) {
                if (skipped.contains(field.name))
                    continue;
                const bool text = field.type == rpc::FieldType::String || field.type == rpc::FieldType::Enum;
                const bool textList = field.type == rpc::FieldType::Array && field.items && field.items->type == rpc::FieldType::String;
                const bool object = field.type == rpc::FieldType::Object;
                if (!text && !textList && !object)
                    continue;
                for (const QString &value : std::as_const(hostile)) {
                    QJsonObject params = base;
                    if (text)
                        params.insert(field.name, value);
                    else if (textList)
                        params.insert(field.name, QJsonArray{value});
                    else
                        params.insert(field.name, QJsonObject{{QStringLiteral("printer_detail"), value}});
                    const Outcome o = client->callBlocking(spec.name, params);
                    ++calls;
                    if (codeOf(o) == ErrorCode::InternalError || codeOf(o) == ErrorCode::Unavailable) {
                        ++internal;
                        qWarning("%s.%s = %s: %s", qPrintable(spec.name), qPrintable(field.name),
                            qPrintable(rpc::printable(value, 40)), qPrintable(describe(o)));
                    }
                }
            }
        }
        qInfo("hostile text in every parameter: %d calls, %d internal errors", calls, internal);
        QCOMPARE(internal, 0);
        QVERIFY(calls > 2000);

        const QMap<QString, qint64> after = counts();
        for (auto it = before.cbegin(); it != before.cend(); ++it)
            QVERIFY2(after.value(it.key()) >= it.value(), qPrintable(it.key())); // nothing dropped or deleted
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        store::SqlError e;
        store::Statement integrity = reader->prepare(QStringLiteral("PRAGMA integrity_check"));
        QVERIFY(integrity.step() == store::Statement::Step::Row && integrity.text(0) == QStringLiteral("ok"));
        QVERIFY(ledger::verifyLedger(*reader).ok());
        QVERIFY(audit::verify(*reader).ok);
        // The only new ledger entries are recharges and adjustments nobody asked for: none.
        QCOMPARE(after.value(QStringLiteral("ledger_entries")), before.value(QStringLiteral("ledger_entries")));
    }

    // docs/api.md lists exactly the server's methods, each with the principals of the matrix.
    void docsMatchTheMethodTable()
    {
        QFile file(QStringLiteral(PREPAY_SOURCE_DIR "/docs/api.md"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        // The matrix: "| `method` | ✓ | · | … |" rows under a header naming the principals.
        static const QRegularExpression row(QStringLiteral("^\\| `([a-z0-9_.]+)` \\|((?: [✓·] \\|){7})$"),
            QRegularExpression::MultilineOption);
        const QList<Principal> order{Principal::Anonymous, Principal::Kiosk, Principal::Admin, Principal::Operator,
            Principal::Cashier, Principal::Technician, Principal::Auditor};
        QMap<QString, QList<Principal>> documented;
        for (auto it = row.globalMatch(text); it.hasNext();) {
            const QRegularExpressionMatch m = it.next();
            const QStringList cells = m.captured(2).split(QLatin1Char('|'), Qt::SkipEmptyParts);
            QList<Principal> allowed;
            for (int i = 0; i < 7; ++i) {
                if (cells.at(i).trimmed() == QStringLiteral("✓"))
                    allowed << order.at(i);
            }
            QVERIFY2(!documented.contains(m.captured(1)), qPrintable(m.captured(1) + QStringLiteral(" twice")));
            documented.insert(m.captured(1), allowed);
        }
        QMap<QString, QList<Principal>> table;
        for (const rpc::MethodSpec &spec : rpc::methodTable()) {
            QList<Principal> allowed;
            for (const Principal p : order) {
                if (spec.allowed.contains(p))
                    allowed << p;
            }
            table.insert(spec.name, allowed);
            // Each method also has its own section with its params.
            QVERIFY2(text.contains(QStringLiteral("### `%1`").arg(spec.name)), qPrintable(spec.name));
            for (const rpc::Field &field : spec.params)
                QVERIFY2(text.contains(QStringLiteral("`%1`").arg(field.name)), qPrintable(spec.name + QLatin1Char('.') + field.name));
        }
        QCOMPARE(documented.keys(), table.keys());
        for (auto it = table.cbegin(); it != table.cend(); ++it)
            QVERIFY2(documented.value(it.key()) == it.value(), qPrintable(it.key()));
    }
};

QTEST_GUILESS_MAIN(TestApi)
#include "tst_api.moc"
