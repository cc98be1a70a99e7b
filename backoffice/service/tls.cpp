#include "tls.h"

#include <QtCore/QFile>

namespace prepay::service {

namespace {

QByteArray readPem(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    return file.read(64 * 1024);
}

QSslConfiguration common(const TlsMaterial &material)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setProtocol(QSsl::TlsV1_3);
    configuration.setLocalCertificate(material.serverCert);
    configuration.setPrivateKey(material.serverKey);
    configuration.setCaCertificates({material.ca}); // the building's CA only, never the system's
    return configuration;
}

} // namespace

std::optional<TlsMaterial> loadTlsMaterial(const QString &caCertPath, const QString &serverCertPath,
    const QString &serverKeyPath, QString *error)
{
    TlsMaterial material;
    const QByteArray caPem = readPem(caCertPath, error);
    const QByteArray certPem = caPem.isEmpty() ? QByteArray() : readPem(serverCertPath, error);
    const QByteArray keyPem = certPem.isEmpty() ? QByteArray() : readPem(serverKeyPath, error);
    if (keyPem.isEmpty()) {
        if (error->isEmpty())
            *error = QStringLiteral("empty PEM file");
        return std::nullopt;
    }
    material.ca = QSslCertificate(caPem, QSsl::Pem);
    material.serverCert = QSslCertificate(certPem, QSsl::Pem);
    material.serverKey = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (material.ca.isNull()) {
        *error = QStringLiteral("%1 is not a PEM certificate").arg(caCertPath);
        return std::nullopt;
    }
    if (material.serverCert.isNull()) {
        *error = QStringLiteral("%1 is not a PEM certificate").arg(serverCertPath);
        return std::nullopt;
    }
    if (material.serverKey.isNull()) {
        *error = QStringLiteral("%1 is not a PEM EC private key").arg(serverKeyPath);
        return std::nullopt;
    }
    return material;
}

QSslConfiguration staffTlsConfiguration(const TlsMaterial &material)
{
    QSslConfiguration configuration = common(material);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone);
    return configuration;
}

QSslConfiguration kioskTlsConfiguration(const TlsMaterial &material)
{
    QSslConfiguration configuration = common(material);
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    return configuration;
}

} // namespace prepay::service
