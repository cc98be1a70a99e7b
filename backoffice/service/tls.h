// The TLS side of the API: TLS 1.3 only, on both ports, with the building's own CA (created by
// backoffice/pki on first start). The staff port authenticates the server only (staff then log
// in with a password; an unenrolled kiosk presents its pairing code there); the kiosk port also
// requires a client certificate issued by the building's CA — nothing else, not the system's
// CAs — so a kiosk without one, with a foreign or an expired one never completes the handshake.
#pragma once

#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>

#include <optional>

namespace prepay::service {

struct TlsMaterial
{
    QSslCertificate ca;
    QSslCertificate serverCert;
    QSslKey serverKey;
};

// Reads PEM files; nullopt and *error naming the file when one is missing or unparsable.
std::optional<TlsMaterial> loadTlsMaterial(const QString &caCertPath, const QString &serverCertPath,
    const QString &serverKeyPath, QString *error);

QSslConfiguration staffTlsConfiguration(const TlsMaterial &material);
QSslConfiguration kioskTlsConfiguration(const TlsMaterial &material);

} // namespace prepay::service
