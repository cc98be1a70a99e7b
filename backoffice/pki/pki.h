// The building's own certificate authority (DESIGN.md §4 "Interfaces"): prepayd speaks TLS 1.3 to
// the kiosks and staff consoles of ONE building, on a network nobody else's CA has any say over.
// So each building gets a private CA, created on the backoffice machine on first start:
//   ca.key/ca.crt      — the CA (EC P-256, 20 years, pathlen:0: it signs leaves only). Its
//                        certificate is what clients pin; it is never replaced automatically,
//                        because every kiosk would have to be enrolled again.
//   server.key/.crt    — prepayd's TLS identity, signed by the CA, renewed automatically
//                        (ensureBuildingPki) when it nears expiry or the host names change.
//   kiosk certificates — a kiosk makes its own key and sends only a CSR (makeCsr); the server
//                        signs it as a client certificate (signCsr) once the kiosk has presented
//                        a valid pairing code.
//                        The kiosk's private key never leaves the kiosk.
// signCsr trusts nothing in the CSR but its public key and the proof that the requester holds
// the private key: the subject and the extensions it asks for are ignored; the server decides
// the name, the validity and the usage.
//
// All keys are EC P-256, all signatures ECDSA-SHA-256, all certificates X.509 v3; PEM in and
// out (private keys as unencrypted PKCS#8, protected by file permissions 0600 in a 0700 folder).
// Time is the caller's wall clock in ms (tests issue expired certificates by passing past
// times; nothing is clamped). Failures are values: nullopt and *error naming what was wrong.
// What it does not do: revocation (no CRL; whoever accepts connections decides whether a
// certificate's kiosk is still enrolled, e.g. by fingerprintSha256), and TLS itself (Qt Network).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace prepay::pki {

// Limits.
inline constexpr qsizetype csrPemBytesMax = 16 * 1024;  // signCsr refuses larger input
inline constexpr qsizetype pemFileBytesMax = 64 * 1024; // loadKeyAndCert refuses larger files
inline constexpr int caValidityYears = 20;
inline constexpr int serverCertValidityDays = 730;
inline constexpr int serverCertRenewBeforeDays = 30; // ensureBuildingPki re-issues then
inline constexpr qsizetype commonNameCharsMax = 64;  // X.520 ub-common-name
static_assert(serverCertRenewBeforeDays < serverCertValidityDays);

struct KeyAndCert
{
    QByteArray keyPem;  // PKCS#8 PEM private key
    QByteArray certPem; // X.509 PEM certificate
};

enum class Usage {
    Server,
    Client
};

struct CertSpec
{
    QString commonName;      // 1..64 characters
    QStringList dnsNames;    // subjectAltName DNS entries (server certs); no wildcards
    QStringList ipAddresses; // subjectAltName IP entries (server certs), e.g. "127.0.0.1", "::1"
    qint64 notBeforeMs = 0;  // wall clock ms since epoch
    qint64 notAfterMs = 0;   // > notBeforeMs
    Usage usage = Usage::Client;
};

// Building-local CA: EC P-256 key, self-signed, basicConstraints critical CA:TRUE pathlen:0,
// keyUsage keyCertSign+cRLSign, subjectKeyIdentifier; validity [nowMs - 1 h, nowMs + 20 years].
std::optional<KeyAndCert> createCa(const QString &commonName, qint64 nowMs, QString *error);

// A new EC P-256 key and a certificate for it signed by `ca` (serial: 128 random bits;
// basicConstraints CA:FALSE; extendedKeyUsage serverAuth or clientAuth; keyUsage
// digitalSignature; subject and authority key identifiers). Refuses a `ca` whose key does not
// match its certificate or whose certificate is not a CA.
std::optional<KeyAndCert> issue(const KeyAndCert &ca, const CertSpec &spec, QString *error);

// The kiosk side of enrolment: a fresh key and a PEM CSR (CN = commonName) signed with it.
struct KeyAndCsr
{
    QByteArray keyPem; // PKCS#8 PEM private key — stays on the kiosk
    QByteArray csrPem; // PKCS#10 PEM request
};
std::optional<KeyAndCsr> makeCsr(const QString &commonName, QString *error);

// The server side: verifies the CSR's self-signature, requires an EC P-256 (or RSA >= 2048) key,
// IGNORES the subject/extensions it asks for and issues a client certificate (clientAuth, no
// subjectAltName) with spec's CN and validity — spec.usage and spec's SAN lists are not used.
// Bad PEM, bad signature, wrong key type, oversize input (> csrPemBytesMax) → nullopt + error
// naming what was wrong.
std::optional<QByteArray> signCsr(const KeyAndCert &ca, const QByteArray &csrPem, const CertSpec &spec, QString *error);

// SHA-256 of the certificate's DER encoding (32 bytes); empty on unparsable PEM.
QByteArray fingerprintSha256(const QByteArray &certPem);

// The files of one building under DIR (created 0700): ca.key (0600), ca.crt, server.key (0600),
// server.crt. Creates what is missing (CA first, CN "<buildingName> prepay CA"); re-issues the
// server certificate (CN = serverNames[0], valid serverCertValidityDays) when either of its files
// is missing or unreadable, its key does not match, it expires within serverCertRenewBeforeDays
// or is not yet valid, it was not issued by this CA, it is not a TLS server certificate, or it
// does not name every one of serverNames (DNS names; entries that parse as IP addresses go into
// IP SANs). serverNames must not be empty.
// Never replaces an existing CA: a CA whose files are unreadable, mismatched, or only half there
// (ca.key without ca.crt or the reverse) is an error for a person to resolve. Writes each file
// atomically (QSaveFile), key before certificate, with its permissions set before any byte.
struct BuildingPki
{
    QString dir;
    QString caCertPath, caKeyPath, serverCertPath, serverKeyPath;
    bool createdCa = false;        // this call created the CA
    bool issuedServerCert = false; // this call (re-)issued the server certificate
};
std::optional<BuildingPki> ensureBuildingPki(
    const QString &dir, const QString &buildingName, const QStringList &serverNames, qint64 nowMs, QString *error);

// Reads a key and its certificate (each at most pemFileBytesMax) and checks they belong
// together. Missing/unreadable files, unparsable PEM or a mismatched pair → nullopt + error.
std::optional<KeyAndCert> loadKeyAndCert(const QString &keyPath, const QString &certPath, QString *error);

} // namespace prepay::pki
