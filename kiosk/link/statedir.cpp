#include "statedir.h"

#include "api/rpcclient.h"
#include "pki/pki.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <cstdio>

namespace prepay::kiosk {

namespace {

const QLatin1StringView kEnrolmentFormat("prepay.kiosk-enrolment/1");

QByteArray readAll(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return {};
    }
    return f.readAll();
}

bool writeFile(const QString &path, const QByteArray &content, QFileDevice::Permissions permissions, QString *error)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || !f.setPermissions(permissions) || f.write(content) != content.size()
        || !f.commit()) {
        *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

} // namespace

StateFiles::StateFiles(const QString &stateDir)
    : dir(stateDir)
    , enrolment(stateDir + QStringLiteral("/enrolment.json"))
    , ca(stateDir + QStringLiteral("/ca.pem"))
    , certificate(stateDir + QStringLiteral("/client.pem"))
    , key(stateDir + QStringLiteral("/client.key"))
    , directory(stateDir + QStringLiteral("/directory.json"))
    , profile(stateDir + QStringLiteral("/profile.json"))
    , outbox(stateDir + QStringLiteral("/outbox.jsonl"))
{ }

QString defaultStateDir()
{
    QString base = qEnvironmentVariable("XDG_STATE_HOME");
    if (base.isEmpty())
        base = QDir::homePath() + QStringLiteral("/.local/state");
    return base + QStringLiteral("/prepay-kiosk");
}

bool parseHostPort(const QString &text, QString *host, quint16 *port)
{
    const qsizetype colon = text.lastIndexOf(QLatin1Char(':'));
    if (colon <= 0)
        return false;
    QString h = text.left(colon);
    if (h.startsWith(QLatin1Char('[')) && h.endsWith(QLatin1Char(']')))
        h = h.mid(1, h.size() - 2);
    else if (h.contains(QLatin1Char(':')))
        return false; // an IPv6 address needs its brackets
    bool ok = false;
    const uint p = text.mid(colon + 1).toUInt(&ok);
    if (h.isEmpty() || !ok || p == 0 || p > 65535)
        return false;
    *host = h;
    *port = quint16(p);
    return true;
}

std::optional<Enrolment> loadEnrolment(const QString &stateDir, QString *error)
{
    const StateFiles files(stateDir);
    const QByteArray json = readAll(files.enrolment, error);
    if (json.isEmpty()) {
        if (error->isEmpty())
            *error = files.enrolment + QStringLiteral(": empty");
        return std::nullopt;
    }
    const QJsonObject o = QJsonDocument::fromJson(json).object();
    Enrolment e;
    e.kioskId = o.value(QLatin1StringView("kiosk_id")).toInteger();
    e.name = o.value(QLatin1StringView("name")).toString();
    e.host = o.value(QLatin1StringView("host")).toString();
    const qint64 kioskPort = o.value(QLatin1StringView("kiosk_port")).toInteger();
    const qint64 staffPort = o.value(QLatin1StringView("staff_port")).toInteger();
    if (o.value(QLatin1StringView("format")).toString() != kEnrolmentFormat || e.kioskId < 1 || e.host.isEmpty()
        || kioskPort < 1 || kioskPort > 65535 || staffPort < 0 || staffPort > 65535) {
        *error = files.enrolment + QStringLiteral(": not a kiosk enrolment (%1)").arg(kEnrolmentFormat);
        return std::nullopt;
    }
    e.kioskPort = quint16(kioskPort);
    e.staffPort = quint16(staffPort);
    QByteArray pem = readAll(files.ca, error);
    e.ca = QSslCertificate(pem, QSsl::Pem);
    if (e.ca.isNull()) {
        *error = files.ca + QStringLiteral(": no PEM certificate");
        return std::nullopt;
    }
    pem = readAll(files.certificate, error);
    e.certificate = QSslCertificate(pem, QSsl::Pem);
    if (e.certificate.isNull()) {
        *error = files.certificate + QStringLiteral(": no PEM certificate");
        return std::nullopt;
    }
    pem = readAll(files.key, error);
    e.key = QSslKey(pem, QSsl::Ec, QSsl::Pem);
    if (e.key.isNull()) {
        *error = files.key + QStringLiteral(": no PEM EC private key");
        return std::nullopt;
    }
    return e;
}

EnrolResult enrol(const EnrolRequest &request)
{
    EnrolResult result;
    const StateFiles files(request.stateDir);
    if (QFile::exists(files.enrolment)) {
        result.error = QStringLiteral("%1 holds an enrolment already (kiosk state in %2): enrol into another directory")
                           .arg(files.enrolment, request.stateDir);
        return result;
    }
    QString error;
    const QByteArray caPem = readAll(request.caFile, &error);
    const QSslCertificate ca(caPem, QSsl::Pem);
    if (ca.isNull()) {
        result.error = error.isEmpty() ? request.caFile + QStringLiteral(": no PEM certificate") : error;
        return result;
    }
    const std::optional<pki::KeyAndCsr> csr = pki::makeCsr(QStringLiteral("prepay-kiosk"), &error);
    if (!csr) {
        result.error = QStringLiteral("could not make the kiosk's key: ") + error;
        return result;
    }
    rpc::RpcClient client;
    rpc::Endpoint endpoint;
    endpoint.host = request.host;
    endpoint.port = request.staffPort;
    endpoint.ca = ca;
    if (!client.openBlocking(endpoint, request.timeoutMs, &error)) {
        result.error = QStringLiteral("cannot connect to prepayd at %1:%2: %3")
                           .arg(request.host)
                           .arg(request.staffPort)
                           .arg(error);
        return result;
    }
    QJsonObject params{{QStringLiteral("pairing_code"), request.pairingCode},
        {QStringLiteral("csr_pem"), QString::fromLatin1(csr->csrPem)}};
    if (!request.appVersion.isEmpty())
        params.insert(QStringLiteral("app_version"), request.appVersion);
    const rpc::Outcome outcome = client.callBlocking(QStringLiteral("kiosk.enrol"), params, request.timeoutMs);
    client.close();
    if (!rpc::succeeded(outcome)) {
        result.error = QStringLiteral("prepayd refused the enrolment: ") + std::get<rpc::Error>(outcome).message;
        return result;
    }
    const QJsonObject reply = std::get<QJsonValue>(outcome).toObject();
    const QSslCertificate certificate(
        reply.value(QLatin1StringView("certificate_pem")).toString().toLatin1(), QSsl::Pem);
    const QSslCertificate answeredCa(reply.value(QLatin1StringView("ca_pem")).toString().toLatin1(), QSsl::Pem);
    const qint64 kioskPort = reply.value(QLatin1StringView("kiosk_port")).toInteger();
    if (certificate.isNull() || answeredCa != ca || kioskPort < 1 || kioskPort > 65535) {
        result.error = QStringLiteral("prepayd's answer to kiosk.enrol is unusable (certificate, CA or kiosk port)");
        return result;
    }
    result.kioskId = reply.value(QLatin1StringView("kiosk_id")).toInteger();
    result.name = reply.value(QLatin1StringView("name")).toString();

    if (!QDir().mkpath(request.stateDir)
        || !QFile::setPermissions(
            request.stateDir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner)) {
        result.error = QStringLiteral("cannot create the state directory %1").arg(request.stateDir);
        return result;
    }
    const QFileDevice::Permissions privateFile = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    const QFileDevice::Permissions publicFile = privateFile | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    const QJsonObject enrolment{{QStringLiteral("format"), QString(kEnrolmentFormat)},
        {QStringLiteral("kiosk_id"), result.kioskId}, {QStringLiteral("name"), result.name},
        {QStringLiteral("host"), request.host}, {QStringLiteral("kiosk_port"), kioskPort},
        {QStringLiteral("staff_port"), request.staffPort},
        {QStringLiteral("enrolled_at_ms"), QDateTime::currentMSecsSinceEpoch()}};
    // The enrolment file last: a directory without it is no enrolment, whatever else it holds.
    if (!writeFile(files.key, csr->keyPem, privateFile, &error) || !writeFile(files.ca, caPem, publicFile, &error)
        || !writeFile(files.certificate, certificate.toPem(), publicFile, &error)
        || !writeFile(files.enrolment, QJsonDocument(enrolment).toJson(), publicFile, &error)) {
        result.error = error;
        return result;
    }
    result.ok = true;
    return result;
}

int enrolCommand(const QString &hostPort, const QString &pairingCode, const QString &caFile, const QString &stateDir,
    const QString &appVersion)
{
    EnrolRequest request;
    if (!parseHostPort(hostPort, &request.host, &request.staffPort)) {
        std::fprintf(
            stderr, "prepay-kiosk: --enrol takes HOST:PORT (prepayd's staff port), not '%s'\n", qPrintable(hostPort));
        return 64;
    }
    if (pairingCode.isEmpty() || caFile.isEmpty()) {
        std::fprintf(stderr, "prepay-kiosk: --enrol needs --pairing-code CODE and --ca FILE (prepayd's pki/ca.crt)\n");
        return 64;
    }
    request.pairingCode = pairingCode;
    request.caFile = caFile;
    request.stateDir = stateDir.isEmpty() ? defaultStateDir() : stateDir;
    request.appVersion = appVersion;
    const EnrolResult result = enrol(request);
    if (!result.ok) {
        std::fprintf(stderr, "prepay-kiosk: not enrolled: %s\n", qPrintable(result.error));
        return 1;
    }
    std::fprintf(stdout, "enrolled as kiosk %lld (%s); its state is in %s\n", qlonglong(result.kioskId),
        qPrintable(result.name), qPrintable(request.stateDir));
    return 0;
}

} // namespace prepay::kiosk
