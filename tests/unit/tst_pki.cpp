// The building's PKI (backoffice/pki): a CA that Qt and the openssl CLI accept and that
// self-verifies; server certificates with the asked-for names that verify against it and only
// it; client certificates from a kiosk's CSR that carry clientAuth, the server's name and nothing
// the CSR asked for; CSRs with a broken signature, garbage, a weak or foreign key type, or too
// many bytes refused with a reason; expired certificates expired; the SHA-256 fingerprint equal to
// Qt's; ensureBuildingPki creating private files, changing nothing when nothing is due,
// re-issuing the server certificate when a name is missing, it nears expiry, or another CA made
// it, and never replacing the CA; and a real TLS 1.3 handshake with mutual authentication.
//
// Qt's and OpenSSL's verification use the machine's clock, so certificates that must verify are
// issued around the real current time; ensureBuildingPki's decisions use the injected time.
#include "pki/pki.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslCertificateExtension>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QSslSocket>
#include <QtTest/QTest>

#include <sys/stat.h>

using namespace prepay;
using namespace prepay::pki;

namespace {

constexpr qint64 hourMs = 3600 * 1000;
constexpr qint64 dayMs = 24 * hourMs;

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return QByteArray();
    return file.readAll();
}

bool writeAll(const QString &path, const QByteArray &data)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(data) == data.size();
}

int mode(const QString &path)
{
    struct stat info = {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return -1;
    return int(info.st_mode & 07777);
}

struct Run
{
    int exitCode = -1;
    QString output; // stdout and stderr
};

// The openssl command-line tool, an independent check of what the library produces.
Run openssl(const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(QStringLiteral("openssl"), arguments);
    Run run;
    if (!process.waitForStarted(10000) || !process.waitForFinished(60000)) {
        run.output = QStringLiteral("openssl did not run: ") + process.errorString();
        return run;
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.output = QString::fromLocal8Bit(process.readAll());
    return run;
}

// QSslCertificate::verify trusts the default configuration's CA certificates; this one only.
QList<QSslError> verifyWithCa(const QByteArray &caPem, const QByteArray &leafPem, const QString &hostName = QString())
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates({QSslCertificate(caPem)});
    QSslConfiguration::setDefaultConfiguration(configuration);
    return QSslCertificate::verify({QSslCertificate(leafPem)}, hostName);
}

QString errorsText(const QList<QSslError> &errors)
{
    QStringList lines;
    for (const QSslError &e : errors)
        lines.append(e.errorString());
    return lines.join(QLatin1String("; "));
}

bool hasError(const QList<QSslError> &errors, QSslError::SslError which)
{
    for (const QSslError &e : errors) {
        if (e.error() == which)
            return true;
    }
    return false;
}

QVariant extensionValue(const QSslCertificate &cert, const QString &name)
{
    const QList<QSslCertificateExtension> extensions = cert.extensions();
    for (const QSslCertificateExtension &extension : extensions) {
        if (extension.name() == name)
            return extension.value();
    }
    return QVariant();
}

QByteArray derOf(const QByteArray &pem)
{
    const QList<QByteArray> lines = pem.trimmed().split('\n');
    QByteArray body;
    for (qsizetype i = 1; i + 1 < lines.size(); ++i)
        body += lines.at(i);
    return QByteArray::fromBase64(body);
}

// Flips one bit of a PEM block's DER body (index counted from the end when negative).
QByteArray tamperPem(const QByteArray &pem, qsizetype index)
{
    const QList<QByteArray> lines = pem.trimmed().split('\n');
    QByteArray der = derOf(pem);
    const qsizetype at = index < 0 ? der.size() + index : index;
    der[at] = char(der.at(at) ^ 0x01);
    QByteArray out = lines.first() + '\n';
    const QByteArray base64 = der.toBase64();
    for (qsizetype i = 0; i < base64.size(); i += 64)
        out += base64.mid(i, 64) + '\n';
    return out + lines.last() + '\n';
}

CertSpec serverSpec(qint64 nowMs)
{
    CertSpec spec;
    spec.commonName = QStringLiteral("prepay.local");
    spec.dnsNames = {QStringLiteral("prepay.local"), QStringLiteral("localhost")};
    spec.ipAddresses = {QStringLiteral("127.0.0.1"), QStringLiteral("::1")};
    spec.notBeforeMs = nowMs - hourMs;
    spec.notAfterMs = nowMs + 365 * dayMs;
    spec.usage = Usage::Server;
    return spec;
}

CertSpec clientSpec(const QString &name, qint64 nowMs)
{
    CertSpec spec;
    spec.commonName = name;
    spec.notBeforeMs = nowMs - hourMs;
    spec.notAfterMs = nowMs + 365 * dayMs;
    spec.usage = Usage::Client;
    return spec;
}

} // namespace

class TestPki : public QObject
{
    Q_OBJECT

private:
    qint64 m_nowMs = 0;
    KeyAndCert m_ca;
    QTemporaryDir m_files; // PEM files for the openssl CLI

    QString file(const QString &name, const QByteArray &data)
    {
        const QString path = m_files.filePath(name);
        if (!writeAll(path, data))
            return QString();
        return path;
    }

    // `atMs`: verify as of that time instead of now.
    Run opensslVerify(const QByteArray &caPem, const QByteArray &leafPem, const QString &purpose, qint64 atMs = 0)
    {
        QStringList arguments
            = {QStringLiteral("verify"), QStringLiteral("-x509_strict"), QStringLiteral("-purpose"), purpose};
        if (atMs != 0)
            arguments += {QStringLiteral("-attime"), QString::number(atMs / 1000)};
        return openssl(arguments
            + QStringList{QStringLiteral("-CAfile"), file(QStringLiteral("verify-ca.crt"), caPem),
                file(QStringLiteral("verify-leaf.crt"), leafPem)});
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_files.isValid());
        m_nowMs = QDateTime::currentMSecsSinceEpoch();
        QString error;
        const std::optional<KeyAndCert> ca = createCa(QStringLiteral("Test Building prepay CA"), m_nowMs, &error);
        QVERIFY2(ca, qPrintable(error));
        m_ca = *ca;
        const Run version = openssl({QStringLiteral("version")});
        QVERIFY2(version.exitCode == 0, qPrintable(version.output)); // a test tool, never skipped
    }

    void caIsASelfSignedCa()
    {
        QVERIFY(m_ca.keyPem.startsWith("-----BEGIN PRIVATE KEY-----"));
        QVERIFY(!QSslKey(m_ca.keyPem, QSsl::Ec).isNull());
        const QSslCertificate cert(m_ca.certPem);
        QVERIFY(!cert.isNull());
        QVERIFY(cert.isSelfSigned());
        QCOMPARE(cert.version(), QByteArray("3"));
        QCOMPARE(cert.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("Test Building prepay CA")});
        QCOMPARE(cert.publicKey().algorithm(), QSsl::Ec);
        QCOMPARE(cert.publicKey().length(), 256);
        QCOMPARE(cert.effectiveDate().toSecsSinceEpoch(), (m_nowMs - hourMs) / 1000);
        QCOMPARE(cert.expiryDate(), QDateTime::fromMSecsSinceEpoch(m_nowMs / 1000 * 1000, Qt::UTC).addYears(20));
        const QVariantMap constraints = extensionValue(cert, QStringLiteral("basicConstraints")).toMap();
        QCOMPARE(constraints.value(QStringLiteral("ca")).toBool(), true);
        QCOMPARE(constraints.value(QStringLiteral("pathLenConstraint")).toInt(), 0);
        QVERIFY(extensionValue(cert, QStringLiteral("subjectKeyIdentifier")).isValid());

        const QList<QSslError> errors = verifyWithCa(m_ca.certPem, m_ca.certPem);
        QVERIFY2(errors.isEmpty(), qPrintable(errorsText(errors)));
        const Run cli = openssl({QStringLiteral("verify"), QStringLiteral("-x509_strict"), QStringLiteral("-CAfile"),
            file(QStringLiteral("ca.crt"), m_ca.certPem), file(QStringLiteral("ca.crt"), m_ca.certPem)});
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.output));
        const Run text = openssl({QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-text"),
            QStringLiteral("-in"), file(QStringLiteral("ca.crt"), m_ca.certPem)});
        QVERIFY2(text.output.contains(QLatin1String("CA:TRUE, pathlen:0")), qPrintable(text.output));
        QVERIFY2(text.output.contains(QLatin1String("Certificate Sign, CRL Sign")), qPrintable(text.output));
        QVERIFY2(text.output.contains(QLatin1String("ecdsa-with-SHA256")), qPrintable(text.output));
    }

    void serverCertVerifiesAgainstTheCa()
    {
        QString error;
        const std::optional<KeyAndCert> server = issue(m_ca, serverSpec(m_nowMs), &error);
        QVERIFY2(server, qPrintable(error));
        QVERIFY(!QSslKey(server->keyPem, QSsl::Ec).isNull());
        const QSslCertificate cert(server->certPem);
        QVERIFY(!cert.isNull());
        QVERIFY(!cert.isSelfSigned());
        QCOMPARE(cert.issuerInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("Test Building prepay CA")});
        QCOMPARE(cert.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("prepay.local")});
        QCOMPARE(QByteArray::fromHex(cert.serialNumber().replace(':', "")).size(), 16); // 128 bits

        const QMultiMap<QSsl::AlternativeNameEntryType, QString> names = cert.subjectAlternativeNames();
        QCOMPARE(names.values(QSsl::DnsEntry).size(), 2);
        QVERIFY(names.contains(QSsl::DnsEntry, QStringLiteral("prepay.local")));
        QVERIFY(names.contains(QSsl::DnsEntry, QStringLiteral("localhost")));
        QVERIFY(names.contains(QSsl::IpAddressEntry, QStringLiteral("127.0.0.1")));
        QCOMPARE(names.values(QSsl::IpAddressEntry).size(), 2);

        for (const QString &host : {QStringLiteral("prepay.local"), QStringLiteral("localhost")}) {
            const QList<QSslError> errors = verifyWithCa(m_ca.certPem, server->certPem, host);
            QVERIFY2(errors.isEmpty(), qPrintable(host + QLatin1String(": ") + errorsText(errors)));
        }
        QVERIFY(hasError(
            verifyWithCa(m_ca.certPem, server->certPem, QStringLiteral("other.local")), QSslError::HostNameMismatch));

        const Run asServer = opensslVerify(m_ca.certPem, server->certPem, QStringLiteral("sslserver"));
        QVERIFY2(asServer.exitCode == 0, qPrintable(asServer.output));
        const Run asClient = opensslVerify(m_ca.certPem, server->certPem, QStringLiteral("sslclient"));
        QVERIFY2(asClient.exitCode != 0, qPrintable(asClient.output)); // serverAuth only
        const Run ip = openssl(
            {QStringLiteral("verify"), QStringLiteral("-CAfile"), file(QStringLiteral("ca.crt"), m_ca.certPem),
                QStringLiteral("-verify_ip"), QStringLiteral("::1"), file(QStringLiteral("s.crt"), server->certPem)});
        QVERIFY2(ip.exitCode == 0, qPrintable(ip.output));
        const Run text = openssl({QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-text"),
            QStringLiteral("-in"), file(QStringLiteral("s.crt"), server->certPem)});
        QVERIFY2(text.output.contains(QLatin1String("TLS Web Server Authentication")), qPrintable(text.output));
        QVERIFY2(text.output.contains(QLatin1String("X509v3 Authority Key Identifier")), qPrintable(text.output));
        QVERIFY2(text.output.contains(QLatin1String("Digital Signature")), qPrintable(text.output));
        QVERIFY2(text.output.contains(QLatin1String("CA:FALSE")), qPrintable(text.output));
    }

    void clientCertFromCsr()
    {
        QString error;
        const std::optional<KeyAndCsr> csr = makeCsr(QStringLiteral("kiosk asking"), &error);
        QVERIFY2(csr, qPrintable(error));
        QVERIFY(csr->csrPem.startsWith("-----BEGIN CERTIFICATE REQUEST-----"));
        QVERIFY(!QSslKey(csr->keyPem, QSsl::Ec).isNull());

        // The caller's usage and names are not used: a CSR always becomes a client certificate.
        CertSpec spec = serverSpec(m_nowMs);
        spec.commonName = QStringLiteral("kiosk-7");
        const std::optional<QByteArray> certPem = signCsr(m_ca, csr->csrPem, spec, &error);
        QVERIFY2(certPem, qPrintable(error));
        const QSslCertificate cert(*certPem);
        QCOMPARE(cert.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("kiosk-7")});
        QVERIFY(cert.subjectAlternativeNames().isEmpty());
        const QList<QSslError> errors = verifyWithCa(m_ca.certPem, *certPem);
        QVERIFY2(errors.isEmpty(), qPrintable(errorsText(errors)));

        const Run asClient = opensslVerify(m_ca.certPem, *certPem, QStringLiteral("sslclient"));
        QVERIFY2(asClient.exitCode == 0, qPrintable(asClient.output));
        const Run asServer = opensslVerify(m_ca.certPem, *certPem, QStringLiteral("sslserver"));
        QVERIFY2(asServer.exitCode != 0, qPrintable(asServer.output));

        // The certificate carries the CSR's key (the one that stays on the kiosk).
        const Run certKey = openssl({QStringLiteral("x509"), QStringLiteral("-noout"), QStringLiteral("-pubkey"),
            QStringLiteral("-in"), file(QStringLiteral("k.crt"), *certPem)});
        const Run kioskKey = openssl({QStringLiteral("pkey"), QStringLiteral("-pubout"), QStringLiteral("-in"),
            file(QStringLiteral("k.key"), csr->keyPem)});
        QCOMPARE(certKey.exitCode, 0);
        QCOMPARE(certKey.output, kioskKey.output);
    }

    void csrRequestsAreIgnored()
    {
        // A CSR made elsewhere that asks to be a CA, for a server name, under another subject.
        const QString key = m_files.filePath(QStringLiteral("greedy.key"));
        const QString csr = m_files.filePath(QStringLiteral("greedy.csr"));
        const Run made = openssl({QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"),
            QStringLiteral("ec"), QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"),
            QStringLiteral("-nodes"), QStringLiteral("-subj"), QStringLiteral("/CN=root/O=Evil"),
            QStringLiteral("-addext"), QStringLiteral("basicConstraints=critical,CA:TRUE"), QStringLiteral("-addext"),
            QStringLiteral("subjectAltName=DNS:prepay.local"), QStringLiteral("-addext"),
            QStringLiteral("extendedKeyUsage=serverAuth"), QStringLiteral("-keyout"), key, QStringLiteral("-out"),
            csr});
        QVERIFY2(made.exitCode == 0, qPrintable(made.output));
        QString error;
        const std::optional<QByteArray> certPem
            = signCsr(m_ca, readAll(csr), clientSpec(QStringLiteral("kiosk-8"), m_nowMs), &error);
        QVERIFY2(certPem, qPrintable(error));
        const QSslCertificate cert(*certPem);
        QCOMPARE(cert.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("kiosk-8")});
        QVERIFY(cert.subjectInfo(QSslCertificate::Organization).isEmpty());
        QVERIFY(cert.subjectAlternativeNames().isEmpty());
        QCOMPARE(extensionValue(cert, QStringLiteral("basicConstraints")).toMap().value(QStringLiteral("ca")).toBool(),
            false);
        QVERIFY(opensslVerify(m_ca.certPem, *certPem, QStringLiteral("sslserver")).exitCode != 0);
        QCOMPARE(opensslVerify(m_ca.certPem, *certPem, QStringLiteral("sslclient")).exitCode, 0);
    }

    void rsa2048CsrIsAccepted()
    {
        const QString csr = m_files.filePath(QStringLiteral("rsa2048.csr"));
        const Run made = openssl({QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"),
            QStringLiteral("rsa:2048"), QStringLiteral("-nodes"), QStringLiteral("-subj"), QStringLiteral("/CN=x"),
            QStringLiteral("-keyout"), m_files.filePath(QStringLiteral("rsa2048.key")), QStringLiteral("-out"), csr});
        QVERIFY2(made.exitCode == 0, qPrintable(made.output));
        QString error;
        const std::optional<QByteArray> certPem
            = signCsr(m_ca, readAll(csr), clientSpec(QStringLiteral("kiosk-rsa"), m_nowMs), &error);
        QVERIFY2(certPem, qPrintable(error));
        QCOMPARE(QSslCertificate(*certPem).publicKey().algorithm(), QSsl::Rsa);
        QCOMPARE(opensslVerify(m_ca.certPem, *certPem, QStringLiteral("sslclient")).exitCode, 0);
    }

    void badCsrIsRefused_data()
    {
        QTest::addColumn<QByteArray>("csr");
        QTest::addColumn<QString>("reason");

        QString error;
        const std::optional<KeyAndCsr> good = makeCsr(QStringLiteral("kiosk"), &error);
        QVERIFY2(good, qPrintable(error));
        QTest::newRow("signature byte") << tamperPem(good->csrPem, -1) << QStringLiteral("signature does not verify");
        // "kiosk" -> "jiosk" in the signed subject: the signature no longer fits.
        const qsizetype subject = derOf(good->csrPem).indexOf("kiosk");
        QVERIFY(subject > 0);
        QTest::newRow("subject byte") << tamperPem(good->csrPem, subject)
                                      << QStringLiteral("signature does not verify");
        QTest::newRow("garbage") << QByteArray(
            "-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all\n-----END CERTIFICATE REQUEST-----\n")
                                 << QStringLiteral("not a readable PEM certificate request");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("not a readable PEM certificate request");
        QTest::newRow("certificate, not a CSR")
            << m_ca.certPem << QStringLiteral("not a readable PEM certificate request");
        QTest::newRow("huge") << (good->csrPem + QByteArray(csrPemBytesMax, '\n')) << QStringLiteral("CSR too large");

        const auto other = [this](const QString &name, const QStringList &keyOptions) {
            const QString csr = m_files.filePath(name + QLatin1String(".csr"));
            const Run made = openssl(QStringList{QStringLiteral("req"), QStringLiteral("-new")} + keyOptions
                + QStringList{QStringLiteral("-nodes"), QStringLiteral("-subj"), QStringLiteral("/CN=x"),
                    QStringLiteral("-keyout"), m_files.filePath(name + QLatin1String(".key")), QStringLiteral("-out"),
                    csr});
            return made.exitCode == 0 ? readAll(csr) : QByteArray();
        };
        const QByteArray p384 = other(QStringLiteral("p384"),
            {QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                QStringLiteral("ec_paramgen_curve:P-384")});
        QVERIFY(!p384.isEmpty());
        QTest::newRow("EC P-384") << p384 << QStringLiteral("EC curve secp384r1 not accepted");
        const QByteArray rsa1024
            = other(QStringLiteral("rsa1024"), {QStringLiteral("-newkey"), QStringLiteral("rsa:1024")});
        QVERIFY(!rsa1024.isEmpty());
        QTest::newRow("RSA 1024") << rsa1024 << QStringLiteral("RSA 1024 bits not accepted");
        const QByteArray ed25519
            = other(QStringLiteral("ed25519"), {QStringLiteral("-newkey"), QStringLiteral("ed25519")});
        QVERIFY(!ed25519.isEmpty());
        QTest::newRow("Ed25519") << ed25519 << QStringLiteral("type ED25519 not accepted");
    }

    void badCsrIsRefused()
    {
        QFETCH(QByteArray, csr);
        QFETCH(QString, reason);
        QString error;
        const std::optional<QByteArray> certPem
            = signCsr(m_ca, csr, clientSpec(QStringLiteral("kiosk-9"), m_nowMs), &error);
        QVERIFY(!certPem);
        QVERIFY2(error.contains(reason), qPrintable(error));
    }

    void foreignCaDoesNotVerify()
    {
        QString error;
        const std::optional<KeyAndCert> foreign
            = createCa(QStringLiteral("Test Building prepay CA"), m_nowMs, &error); // same name
        QVERIFY2(foreign, qPrintable(error));
        const std::optional<KeyAndCert> server = issue(*foreign, serverSpec(m_nowMs), &error);
        QVERIFY2(server, qPrintable(error));
        const std::optional<KeyAndCsr> csr = makeCsr(QStringLiteral("kiosk"), &error);
        QVERIFY2(csr, qPrintable(error));
        const std::optional<QByteArray> client
            = signCsr(*foreign, csr->csrPem, clientSpec(QStringLiteral("kiosk-1"), m_nowMs), &error);
        QVERIFY2(client, qPrintable(error));

        for (const QByteArray &pem : {server->certPem, *client}) {
            QVERIFY(!verifyWithCa(m_ca.certPem, pem).isEmpty());
            QVERIFY(verifyWithCa(foreign->certPem, pem).isEmpty()); // the control
            const Run cli = openssl({QStringLiteral("verify"), QStringLiteral("-CAfile"),
                file(QStringLiteral("ours.crt"), m_ca.certPem), file(QStringLiteral("theirs.crt"), pem)});
            QVERIFY2(cli.exitCode != 0, qPrintable(cli.output));
        }
    }

    void unusableCaIsRefused()
    {
        QString error;
        const std::optional<KeyAndCert> other = createCa(QStringLiteral("Other"), m_nowMs, &error);
        QVERIFY2(other, qPrintable(error));
        KeyAndCert mismatched = m_ca;
        mismatched.keyPem = other->keyPem;
        QVERIFY(!issue(mismatched, serverSpec(m_nowMs), &error));
        QVERIFY2(error.contains(QLatin1String("does not match")), qPrintable(error));

        const std::optional<KeyAndCert> leaf = issue(m_ca, serverSpec(m_nowMs), &error);
        QVERIFY2(leaf, qPrintable(error));
        QVERIFY(!issue(*leaf, serverSpec(m_nowMs), &error));
        QVERIFY2(error.contains(QLatin1String("not a CA")), qPrintable(error));

        KeyAndCert garbage;
        garbage.keyPem = "nope";
        garbage.certPem = m_ca.certPem;
        QVERIFY(!issue(garbage, serverSpec(m_nowMs), &error));
        QVERIFY2(error.contains(QLatin1String("private key")), qPrintable(error));
    }

    void badSpecIsRefused_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("reason");
        QTest::newRow("empty name") << QStringLiteral("cn:") << QStringLiteral("common name");
        QTest::newRow("long name") << QStringLiteral("cn:") + QString(65, QLatin1Char('x'))
                                   << QStringLiteral("common name");
        QTest::newRow("no validity") << QStringLiteral("validity") << QStringLiteral("notAfter");
        QTest::newRow("bad dns") << QStringLiteral("dns:a b.local") << QStringLiteral("not a DNS name");
        QTest::newRow("wildcard") << QStringLiteral("dns:*.local") << QStringLiteral("not a DNS name");
        QTest::newRow("empty label") << QStringLiteral("dns:a..local") << QStringLiteral("not a DNS name");
        QTest::newRow("bad ip") << QStringLiteral("ip:999.1.1.1") << QStringLiteral("not an IP address");
        QTest::newRow("name as ip") << QStringLiteral("ip:localhost") << QStringLiteral("not an IP address");
    }

    void badSpecIsRefused()
    {
        QFETCH(QString, field);
        QFETCH(QString, reason);
        CertSpec spec = serverSpec(m_nowMs);
        if (field.startsWith(QLatin1String("cn:")))
            spec.commonName = field.mid(3);
        else if (field == QLatin1String("validity"))
            spec.notAfterMs = spec.notBeforeMs;
        else if (field.startsWith(QLatin1String("dns:")))
            spec.dnsNames.append(field.mid(4));
        else
            spec.ipAddresses.append(field.mid(3));
        QString error;
        QVERIFY(!issue(m_ca, spec, &error));
        QVERIFY2(error.contains(reason), qPrintable(error));
    }

    void expiredCertIsExpired()
    {
        CertSpec spec = clientSpec(QStringLiteral("kiosk-old"), m_nowMs);
        spec.notBeforeMs = m_nowMs - 10 * dayMs;
        spec.notAfterMs = m_nowMs - dayMs;
        QString error;
        const std::optional<KeyAndCert> old = issue(m_ca, spec, &error);
        QVERIFY2(old, qPrintable(error));
        const QSslCertificate cert(old->certPem);
        QCOMPARE(cert.expiryDate().toSecsSinceEpoch(), (m_nowMs - dayMs) / 1000);
        QVERIFY(cert.expiryDate() < QDateTime::currentDateTimeUtc());
        QVERIFY(hasError(verifyWithCa(m_ca.certPem, old->certPem), QSslError::CertificateExpired));
        const Run cli = opensslVerify(m_ca.certPem, old->certPem, QStringLiteral("sslclient"));
        QVERIFY2(cli.exitCode != 0 && cli.output.contains(QLatin1String("expired")), qPrintable(cli.output));
    }

    void fingerprintIsSha256OfDer()
    {
        QString error;
        const std::optional<KeyAndCert> server = issue(m_ca, serverSpec(m_nowMs), &error);
        QVERIFY2(server, qPrintable(error));
        for (const QByteArray &pem : {m_ca.certPem, server->certPem}) {
            const QByteArray fingerprint = fingerprintSha256(pem);
            QCOMPARE(fingerprint.size(), 32);
            QCOMPARE(fingerprint, QSslCertificate(pem).digest(QCryptographicHash::Sha256));
        }
        QVERIFY(fingerprintSha256(m_ca.certPem) != fingerprintSha256(server->certPem));
        QVERIFY(fingerprintSha256("garbage").isEmpty());
        QVERIFY(fingerprintSha256(QByteArray()).isEmpty());
    }

    void ensureCreatesPrivateFiles()
    {
        QTemporaryDir root;
        const QString dir = root.filePath(QStringLiteral("data/pki"));
        const QStringList names = {QStringLiteral("prepay.local"), QStringLiteral("192.168.1.10")};
        QString error;
        const std::optional<BuildingPki> pki
            = ensureBuildingPki(dir, QStringLiteral("Tower A"), names, m_nowMs, &error);
        QVERIFY2(pki, qPrintable(error));
        QVERIFY(pki->createdCa);
        QVERIFY(pki->issuedServerCert);
        QCOMPARE(pki->caKeyPath, dir + QLatin1String("/ca.key"));
        QCOMPARE(pki->caCertPath, dir + QLatin1String("/ca.crt"));
        QCOMPARE(pki->serverKeyPath, dir + QLatin1String("/server.key"));
        QCOMPARE(pki->serverCertPath, dir + QLatin1String("/server.crt"));
        QCOMPARE(mode(dir), 0700);
        QCOMPARE(mode(pki->caKeyPath), 0600);
        QCOMPARE(mode(pki->serverKeyPath), 0600);
        QCOMPARE(mode(pki->caCertPath), 0644);
        QCOMPARE(mode(pki->serverCertPath), 0644);
        QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden).size(), 4); // no temporary files left

        const QByteArray caPem = readAll(pki->caCertPath);
        const QByteArray serverPem = readAll(pki->serverCertPath);
        QCOMPARE(QSslCertificate(caPem).subjectInfo(QSslCertificate::CommonName),
            QStringList{QStringLiteral("Tower A prepay CA")});
        const QSslCertificate server(serverPem);
        QCOMPARE(server.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("prepay.local")});
        QVERIFY(server.subjectAlternativeNames().contains(QSsl::DnsEntry, QStringLiteral("prepay.local")));
        QVERIFY(server.subjectAlternativeNames().contains(QSsl::IpAddressEntry, QStringLiteral("192.168.1.10")));
        QCOMPARE(server.expiryDate().toSecsSinceEpoch(), (m_nowMs + serverCertValidityDays * dayMs) / 1000);
        const QList<QSslError> errors = verifyWithCa(caPem, serverPem, QStringLiteral("prepay.local"));
        QVERIFY2(errors.isEmpty(), qPrintable(errorsText(errors)));
        const Run cli = opensslVerify(caPem, serverPem, QStringLiteral("sslserver"));
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.output));
        QVERIFY(loadKeyAndCert(pki->caKeyPath, pki->caCertPath, &error));
        QVERIFY(loadKeyAndCert(pki->serverKeyPath, pki->serverCertPath, &error));

        // Nothing due: nothing written.
        QMap<QString, QByteArray> before;
        QMap<QString, QDateTime> modified;
        for (const QString &path : {pki->caKeyPath, pki->caCertPath, pki->serverKeyPath, pki->serverCertPath}) {
            before.insert(path, readAll(path));
            modified.insert(path, QFileInfo(path).lastModified());
        }
        const std::optional<BuildingPki> again
            = ensureBuildingPki(dir, QStringLiteral("Tower A"), names, m_nowMs + dayMs, &error);
        QVERIFY2(again, qPrintable(error));
        QVERIFY(!again->createdCa);
        QVERIFY(!again->issuedServerCert);
        for (auto it = before.cbegin(); it != before.cend(); ++it) {
            QCOMPARE(readAll(it.key()), it.value());
            QCOMPARE(QFileInfo(it.key()).lastModified(), modified.value(it.key()));
        }
    }

    void ensureReissuesTheServerCert_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("a name added") << QStringLiteral("name");
        QTest::newRow("an IP added") << QStringLiteral("ip");
        QTest::newRow("29 days left") << QStringLiteral("near expiry");
        QTest::newRow("certificate deleted") << QStringLiteral("delete cert");
        QTest::newRow("key deleted") << QStringLiteral("delete key");
        QTest::newRow("another key") << QStringLiteral("other key");
        QTest::newRow("garbage certificate") << QStringLiteral("garbage");
        QTest::newRow("from a foreign CA") << QStringLiteral("foreign");
        QTest::newRow("a client certificate") << QStringLiteral("client");
    }

    void ensureReissuesTheServerCert()
    {
        QFETCH(QString, change);
        QTemporaryDir root;
        const QString dir = root.filePath(QStringLiteral("pki"));
        QStringList names = {QStringLiteral("prepay.local")};
        QString error;
        const std::optional<BuildingPki> pki = ensureBuildingPki(dir, QStringLiteral("B"), names, m_nowMs, &error);
        QVERIFY2(pki, qPrintable(error));
        const QByteArray caKey = readAll(pki->caKeyPath);
        const QByteArray caCert = readAll(pki->caCertPath);
        const QByteArray serverCert = readAll(pki->serverCertPath);
        qint64 nowMs = m_nowMs;

        CertSpec spec = serverSpec(m_nowMs);
        spec.dnsNames = names;
        spec.ipAddresses.clear();
        if (change == QLatin1String("name")) {
            names.append(QStringLiteral("backoffice.tower-a.lan"));
        } else if (change == QLatin1String("ip")) {
            names.append(QStringLiteral("fd00::10"));
        } else if (change == QLatin1String("near expiry")) {
            // 31 days before expiry nothing is due; 29 days before, it is.
            nowMs = m_nowMs + (serverCertValidityDays - 31) * dayMs;
            const std::optional<BuildingPki> notYet = ensureBuildingPki(dir, QStringLiteral("B"), names, nowMs, &error);
            QVERIFY2(notYet, qPrintable(error));
            QVERIFY(!notYet->issuedServerCert);
            nowMs = m_nowMs + (serverCertValidityDays - 29) * dayMs;
        } else if (change == QLatin1String("delete cert")) {
            QVERIFY(QFile::remove(pki->serverCertPath));
        } else if (change == QLatin1String("delete key")) {
            QVERIFY(QFile::remove(pki->serverKeyPath));
        } else if (change == QLatin1String("other key")) {
            const std::optional<KeyAndCert> other = issue(KeyAndCert{caKey, caCert}, spec, &error);
            QVERIFY2(other, qPrintable(error));
            QVERIFY(writeAll(pki->serverKeyPath, other->keyPem));
        } else if (change == QLatin1String("garbage")) {
            QVERIFY(writeAll(pki->serverCertPath, "garbage"));
        } else if (change == QLatin1String("foreign")) {
            const std::optional<KeyAndCert> foreignCa = createCa(QStringLiteral("B prepay CA"), m_nowMs, &error);
            QVERIFY2(foreignCa, qPrintable(error));
            const std::optional<KeyAndCert> foreign = issue(*foreignCa, spec, &error);
            QVERIFY2(foreign, qPrintable(error));
            QVERIFY(writeAll(pki->serverKeyPath, foreign->keyPem));
            QVERIFY(writeAll(pki->serverCertPath, foreign->certPem));
        } else if (change == QLatin1String("client")) {
            spec.usage = Usage::Client;
            const std::optional<KeyAndCert> client = issue(KeyAndCert{caKey, caCert}, spec, &error);
            QVERIFY2(client, qPrintable(error));
            QVERIFY(writeAll(pki->serverKeyPath, client->keyPem));
            QVERIFY(writeAll(pki->serverCertPath, client->certPem));
        }

        const std::optional<BuildingPki> after = ensureBuildingPki(dir, QStringLiteral("B"), names, nowMs, &error);
        QVERIFY2(after, qPrintable(error));
        QVERIFY(!after->createdCa);
        QVERIFY(after->issuedServerCert);
        QCOMPARE(readAll(pki->caKeyPath), caKey); // the CA stays
        QCOMPARE(readAll(pki->caCertPath), caCert);
        const QByteArray reissued = readAll(pki->serverCertPath);
        QVERIFY(reissued != serverCert);
        QCOMPARE(mode(pki->serverKeyPath), 0600);
        QVERIFY2(loadKeyAndCert(pki->serverKeyPath, pki->serverCertPath, &error), qPrintable(error));
        const Run cli = opensslVerify(caCert, reissued, QStringLiteral("sslserver"), nowMs);
        QVERIFY2(cli.exitCode == 0, qPrintable(cli.output));
        const QSslCertificate cert(reissued);
        for (const QString &name : std::as_const(names)) {
            const bool ip = name.contains(QLatin1Char(':'));
            QVERIFY2(cert.subjectAlternativeNames().contains(ip ? QSsl::IpAddressEntry : QSsl::DnsEntry, name),
                qPrintable(name));
        }
        const std::optional<BuildingPki> settled = ensureBuildingPki(dir, QStringLiteral("B"), names, nowMs, &error);
        QVERIFY2(settled, qPrintable(error));
        QVERIFY(!settled->issuedServerCert);
    }

    void ensureNeverReplacesTheCa_data()
    {
        QTest::addColumn<QString>("change");
        QTest::newRow("ca.crt deleted") << QStringLiteral("delete cert");
        QTest::newRow("ca.key deleted") << QStringLiteral("delete key");
        QTest::newRow("ca.crt garbage") << QStringLiteral("garbage cert");
        QTest::newRow("ca.key garbage") << QStringLiteral("garbage key");
        QTest::newRow("ca.key of another CA") << QStringLiteral("other key");
    }

    void ensureNeverReplacesTheCa()
    {
        QFETCH(QString, change);
        QTemporaryDir root;
        const QString dir = root.filePath(QStringLiteral("pki"));
        const QStringList names = {QStringLiteral("prepay.local")};
        QString error;
        const std::optional<BuildingPki> pki = ensureBuildingPki(dir, QStringLiteral("B"), names, m_nowMs, &error);
        QVERIFY2(pki, qPrintable(error));
        QString remaining; // the file that must survive untouched
        if (change == QLatin1String("delete cert")) {
            QVERIFY(QFile::remove(pki->caCertPath));
            remaining = pki->caKeyPath;
        } else if (change == QLatin1String("delete key")) {
            QVERIFY(QFile::remove(pki->caKeyPath));
            remaining = pki->caCertPath;
        } else if (change == QLatin1String("garbage cert")) {
            QVERIFY(writeAll(pki->caCertPath, "garbage"));
            remaining = pki->caKeyPath;
        } else if (change == QLatin1String("garbage key")) {
            QVERIFY(writeAll(pki->caKeyPath, "garbage"));
            remaining = pki->caCertPath;
        } else {
            const std::optional<KeyAndCert> other = createCa(QStringLiteral("Other"), m_nowMs, &error);
            QVERIFY2(other, qPrintable(error));
            QVERIFY(writeAll(pki->caKeyPath, other->keyPem));
            remaining = pki->caCertPath;
        }
        const QByteArray kept = readAll(remaining);
        const QByteArray serverCert = readAll(pki->serverCertPath);
        error.clear();
        QVERIFY(!ensureBuildingPki(dir, QStringLiteral("B"), names, m_nowMs, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY2(error.contains(QLatin1String("ca.")), qPrintable(error));
        QCOMPARE(readAll(remaining), kept);
        QCOMPARE(readAll(pki->serverCertPath), serverCert);
    }

    void ensureNeedsAServerName()
    {
        QTemporaryDir root;
        QString error;
        QVERIFY(!ensureBuildingPki(root.filePath(QStringLiteral("pki")), QStringLiteral("B"), {}, m_nowMs, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!ensureBuildingPki(
            root.filePath(QStringLiteral("pki")), QStringLiteral("B"), {QStringLiteral("bad name")}, m_nowMs, &error));
        QVERIFY2(error.contains(QLatin1String("not a DNS name")), qPrintable(error));
        QVERIFY(!QFileInfo::exists(root.filePath(QStringLiteral("pki")))); // refused before anything was created
    }

    void loadKeyAndCertReportsWhatIsWrong()
    {
        QTemporaryDir root;
        const QString key = root.filePath(QStringLiteral("k.key"));
        const QString cert = root.filePath(QStringLiteral("k.crt"));
        QString error;
        QVERIFY(!loadKeyAndCert(key, cert, &error));
        QVERIFY2(error.contains(key), qPrintable(error));
        QVERIFY(writeAll(key, m_ca.keyPem));
        QVERIFY(!loadKeyAndCert(key, cert, &error));
        QVERIFY2(error.contains(cert), qPrintable(error));
        QVERIFY(writeAll(cert, "garbage"));
        QVERIFY(!loadKeyAndCert(key, cert, &error));
        QVERIFY2(error.contains(QLatin1String("not a readable PEM certificate")), qPrintable(error));
        const std::optional<KeyAndCert> other = createCa(QStringLiteral("Other"), m_nowMs, &error);
        QVERIFY2(other, qPrintable(error));
        QVERIFY(writeAll(cert, other->certPem));
        QVERIFY(!loadKeyAndCert(key, cert, &error));
        QVERIFY2(error.contains(QLatin1String("does not match")), qPrintable(error));
        QVERIFY(writeAll(cert, QByteArray(pemFileBytesMax + 1, 'x')));
        QVERIFY(!loadKeyAndCert(key, cert, &error));
        QVERIFY2(error.contains(QLatin1String("larger than")), qPrintable(error));
        QVERIFY(writeAll(cert, m_ca.certPem));
        const std::optional<KeyAndCert> loaded = loadKeyAndCert(key, cert, &error);
        QVERIFY2(loaded, qPrintable(error));
        QCOMPARE(loaded->certPem, m_ca.certPem);
        QCOMPARE(loaded->keyPem, m_ca.keyPem);
    }

    // Mutual TLS 1.3 with what ensureBuildingPki and signCsr produce, through Qt's own sockets.
    void tls13Handshake_data()
    {
        QTest::addColumn<QString>("client");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("enrolled kiosk") << QStringLiteral("ours") << true;
        QTest::newRow("no client certificate") << QStringLiteral("none") << false;
        QTest::newRow("kiosk of a foreign CA") << QStringLiteral("foreign") << false;
        QTest::newRow("expired kiosk certificate") << QStringLiteral("expired") << false;
    }

    void tls13Handshake()
    {
        QFETCH(QString, client);
        QFETCH(bool, accepted);
        QTemporaryDir root;
        QString error;
        const std::optional<BuildingPki> pki = ensureBuildingPki(
            root.filePath(QStringLiteral("pki")), QStringLiteral("B"), {QStringLiteral("localhost")}, m_nowMs, &error);
        QVERIFY2(pki, qPrintable(error));
        const std::optional<KeyAndCert> ca = loadKeyAndCert(pki->caKeyPath, pki->caCertPath, &error);
        QVERIFY2(ca, qPrintable(error));
        const std::optional<KeyAndCert> server = loadKeyAndCert(pki->serverKeyPath, pki->serverCertPath, &error);
        QVERIFY2(server, qPrintable(error));

        QSslConfiguration serverConfig = QSslConfiguration::defaultConfiguration();
        serverConfig.setCaCertificates({QSslCertificate(ca->certPem)});
        serverConfig.setLocalCertificate(QSslCertificate(server->certPem));
        serverConfig.setPrivateKey(QSslKey(server->keyPem, QSsl::Ec));
        serverConfig.setProtocol(QSsl::TlsV1_3OrLater);
        serverConfig.setPeerVerifyMode(QSslSocket::VerifyPeer);
        QSslServer listener;
        listener.setSslConfiguration(serverConfig);
        QVERIFY(listener.listen(QHostAddress::LocalHost));

        QSslConfiguration clientConfig = QSslConfiguration::defaultConfiguration();
        clientConfig.setCaCertificates({QSslCertificate(ca->certPem)});
        clientConfig.setProtocol(QSsl::TlsV1_3OrLater);
        if (client != QLatin1String("none")) {
            KeyAndCert issuer = *ca;
            CertSpec spec = clientSpec(QStringLiteral("kiosk-1"), m_nowMs);
            if (client == QLatin1String("foreign")) {
                const std::optional<KeyAndCert> foreign = createCa(QStringLiteral("B prepay CA"), m_nowMs, &error);
                QVERIFY2(foreign, qPrintable(error));
                issuer = *foreign;
            } else if (client == QLatin1String("expired")) {
                spec.notBeforeMs = m_nowMs - 10 * dayMs;
                spec.notAfterMs = m_nowMs - dayMs;
            }
            const std::optional<KeyAndCsr> csr = makeCsr(QStringLiteral("kiosk"), &error);
            QVERIFY2(csr, qPrintable(error));
            const std::optional<QByteArray> cert = signCsr(issuer, csr->csrPem, spec, &error);
            QVERIFY2(cert, qPrintable(error));
            clientConfig.setLocalCertificate(QSslCertificate(*cert));
            clientConfig.setPrivateKey(QSslKey(csr->keyPem, QSsl::Ec));
        }

        QSslSocket socket;
        socket.setSslConfiguration(clientConfig);
        bool clientFailed = false;
        connect(&socket, &QSslSocket::errorOccurred, this, [&clientFailed] { clientFailed = true; });
        connect(&socket, &QSslSocket::disconnected, this, [&clientFailed] { clientFailed = true; });
        QList<QSslError> serverErrors;
        connect(&listener, &QSslServer::sslErrors, this,
            [&serverErrors](QSslSocket *, const QList<QSslError> &errors) { serverErrors += errors; });
        bool serverFailed = false;
        connect(&listener, &QSslServer::errorOccurred, this, [&serverFailed] { serverFailed = true; });
        socket.connectToHostEncrypted(QStringLiteral("localhost"), listener.serverPort());

        if (accepted) {
            QTRY_VERIFY_WITH_TIMEOUT(listener.hasPendingConnections(), 10000);
            QTRY_VERIFY_WITH_TIMEOUT(socket.isEncrypted(), 10000);
            QCOMPARE(socket.sessionProtocol(), QSsl::TlsV1_3);
            auto *peer = qobject_cast<QSslSocket *>(listener.nextPendingConnection());
            QVERIFY(peer);
            QCOMPARE(peer->peerCertificate().subjectInfo(QSslCertificate::CommonName),
                QStringList{QStringLiteral("kiosk-1")});
            QCOMPARE(fingerprintSha256(peer->peerCertificate().toPem()),
                peer->peerCertificate().digest(QCryptographicHash::Sha256));
            QVERIFY2(serverErrors.isEmpty(), qPrintable(errorsText(serverErrors)));
            QVERIFY(socket.sslHandshakeErrors().isEmpty());
            delete peer;
        } else {
            // TLS 1.3: the client may finish its side before the server has judged the client's
            // certificate; the server then aborts, and the client sees the connection end.
            QTRY_VERIFY_WITH_TIMEOUT(serverFailed, 10000);
            QTRY_VERIFY_WITH_TIMEOUT(clientFailed, 10000);
            QVERIFY(!listener.hasPendingConnections());
        }
    }
};

QTEST_GUILESS_MAIN(TestPki)
#include "tst_pki.moc"
