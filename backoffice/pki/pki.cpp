#include "pki.h"

#include "ossl.h"
#include "pkilog.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>

#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include <ctime>
#include <utility>

namespace prepay::pki {

namespace {

constexpr qint64 hourMs = 3600 * 1000;
constexpr qint64 dayMs = 24 * hourMs;
constexpr int serialBytes = 16; // 128 random bits (CA/B Forum asks for >= 64)

const QFileDevice::Permissions ownerReadWrite = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
const QFileDevice::Permissions ownerOnlyDir = ownerReadWrite | QFileDevice::ExeOwner;
const QFileDevice::Permissions publicFile = ownerReadWrite | QFileDevice::ReadGroup | QFileDevice::ReadOther;

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

// A DNS name for subjectAltName: ASCII letters, digits and hyphens in dot-separated labels of
// 1..63 characters, 253 at most in all. No wildcards: a building has few names, all known.
bool isDnsName(const QString &name)
{
    if (name.isEmpty() || name.size() > 253)
        return false;
    const QStringList labels = name.split(QLatin1Char('.'));
    for (const QString &label : labels) {
        if (label.isEmpty() || label.size() > 63 || label.startsWith(QLatin1Char('-'))
            || label.endsWith(QLatin1Char('-')))
            return false;
        for (const QChar c : label) {
            const bool ok = (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
                || (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) || (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
                || c == QLatin1Char('-');
            if (!ok)
                return false;
        }
    }
    return true;
}

// The octets of an IPv4 or IPv6 address in text form, or an empty handle.
ossl::OctetString ipOctets(const QString &text)
{
    if (text.isEmpty() || text.size() > 64)
        return ossl::OctetString();
    const QByteArray ascii = text.toLatin1();
    return ossl::OctetString(a2i_IPADDRESS(ascii.constData()));
}

bool isIpAddress(const QString &text)
{
    const ossl::ErrorQueueGuard errors;
    return bool(ipOctets(text));
}

// Everything in a spec that can be wrong before OpenSSL is asked anything; "" when fine.
QString specProblem(const CertSpec &spec)
{
    if (spec.commonName.isEmpty() || spec.commonName.size() > commonNameCharsMax)
        return QStringLiteral("common name must have 1..%1 characters").arg(commonNameCharsMax);
    if (spec.notAfterMs <= spec.notBeforeMs)
        return QStringLiteral("notAfter must be later than notBefore");
    for (const QString &name : spec.dnsNames) {
        if (!isDnsName(name))
            return QStringLiteral("'%1' is not a DNS name").arg(name);
    }
    for (const QString &ip : spec.ipAddresses) {
        if (!isIpAddress(ip))
            return QStringLiteral("'%1' is not an IP address").arg(ip);
    }
    return QString();
}

bool setTime(ASN1_TIME *field, qint64 ms)
{
    // Whole seconds, rounded down; ASN1_TIME_set picks UTCTime before 2050, GeneralizedTime after
    // (RFC 5280 §4.1.2.5).
    const qint64 seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    return ASN1_TIME_set(field, time_t(seconds)) != nullptr;
}

std::optional<qint64> timeMs(const ASN1_TIME *field)
{
    struct tm parts = {};
    if (field == nullptr || ASN1_TIME_to_tm(field, &parts) != 1)
        return std::nullopt;
    const QDateTime at(QDate(parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday),
        QTime(parts.tm_hour, parts.tm_min, parts.tm_sec), Qt::UTC);
    if (!at.isValid())
        return std::nullopt;
    return at.toMSecsSinceEpoch();
}

bool setCommonName(X509_NAME *name, const QString &commonName)
{
    const QByteArray utf8 = commonName.toUtf8();
    return X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
               reinterpret_cast<const unsigned char *>(utf8.constData()), int(utf8.size()), -1, 0)
        == 1;
}

bool setRandomSerial(X509 *cert)
{
    unsigned char bytes[serialBytes];
    if (RAND_bytes(bytes, serialBytes) != 1)
        return false;
    // A serial must be positive and non-zero (RFC 5280 §4.1.2.2); BN_bin2bn reads it unsigned.
    bytes[serialBytes - 1] |= 1;
    ossl::BigNum number(BN_bin2bn(bytes, serialBytes, nullptr));
    return number && BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert)) != nullptr;
}

// One extension in OpenSSL's configuration syntax; `value` is always a constant of ours, never
// caller text (names go through addSubjectAltNames, which builds the structure directly).
bool addExtension(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    ossl::Extension extension(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
    return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

bool addSubjectAltNames(X509 *cert, const QStringList &dnsNames, const QStringList &ipAddresses)
{
    if (dnsNames.isEmpty() && ipAddresses.isEmpty())
        return true;
    ossl::GeneralNames names(sk_GENERAL_NAME_new_null());
    if (!names)
        return false;
    const auto push = [&names](int type, void *value) {
        ossl::GeneralName name(GENERAL_NAME_new());
        if (!name)
            return false;
        GENERAL_NAME_set0_value(name.get(), type, value);
        if (sk_GENERAL_NAME_push(names.get(), name.get()) <= 0)
            return false;
        name.release(); // owned by the stack now
        return true;
    };
    for (const QString &dns : dnsNames) {
        const QByteArray ascii = dns.toLatin1();
        ossl::Ia5String value(ASN1_IA5STRING_new());
        if (!value || ASN1_STRING_set(value.get(), ascii.constData(), int(ascii.size())) != 1)
            return false;
        if (!push(GEN_DNS, value.get()))
            return false;
        value.release();
    }
    for (const QString &ip : ipAddresses) {
        ossl::OctetString value = ipOctets(ip);
        if (!value || !push(GEN_IPADD, value.get()))
            return false;
        value.release();
    }
    return X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

// A certificate for `subjectKey` (only its public half is used), signed by `signingKey`.
// `issuer` null means self-signed (the CA); otherwise the leaf is a client or server certificate.
ossl::Cert buildCert(EVP_PKEY *subjectKey, const CertSpec &spec, X509 *issuer, EVP_PKEY *signingKey, QString *error)
{
    const bool isCa = issuer == nullptr;
    ossl::Cert cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1 || !setRandomSerial(cert.get())) {
        setError(error, ossl::failure(QStringLiteral("cannot create a certificate")));
        return ossl::Cert();
    }
    if (!setTime(X509_getm_notBefore(cert.get()), spec.notBeforeMs)
        || !setTime(X509_getm_notAfter(cert.get()), spec.notAfterMs)) {
        setError(error, ossl::failure(QStringLiteral("cannot set the validity")));
        return ossl::Cert();
    }
    if (!setCommonName(X509_get_subject_name(cert.get()), spec.commonName)
        || X509_set_issuer_name(cert.get(), isCa ? X509_get_subject_name(cert.get()) : X509_get_subject_name(issuer))
            != 1
        || X509_set_pubkey(cert.get(), subjectKey) != 1) {
        setError(error, ossl::failure(QStringLiteral("cannot set subject, issuer or key")));
        return ossl::Cert();
    }

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, isCa ? cert.get() : issuer, cert.get(), nullptr, nullptr, 0);
    bool ok = true;
    if (isCa) {
        ok = addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")
            && addExtension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign")
            && addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    } else {
        ok = addExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE")
            && addExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature")
            && addExtension(
                cert.get(), &ctx, NID_ext_key_usage, spec.usage == Usage::Server ? "serverAuth" : "clientAuth")
            && addExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash")
            && addExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always")
            && addSubjectAltNames(cert.get(), spec.dnsNames, spec.ipAddresses);
    }
    if (!ok) {
        setError(error, ossl::failure(QStringLiteral("cannot add the certificate's extensions")));
        return ossl::Cert();
    }
    if (X509_sign(cert.get(), signingKey, EVP_sha256()) <= 0) {
        setError(error, ossl::failure(QStringLiteral("cannot sign the certificate")));
        return ossl::Cert();
    }
    return cert;
}

std::optional<KeyAndCert> toPem(EVP_PKEY *key, X509 *cert, QString *error)
{
    KeyAndCert out;
    out.keyPem = ossl::privateKeyPem(key);
    out.certPem = ossl::certPem(cert);
    if (out.keyPem.isEmpty() || out.certPem.isEmpty()) {
        setError(error, ossl::failure(QStringLiteral("cannot encode PEM")));
        return std::nullopt;
    }
    return out;
}

struct ParsedPair
{
    ossl::PKey key;
    ossl::Cert cert;
};

// A key and certificate that belong together; keyWhat/certWhat name them in errors.
std::optional<ParsedPair> parsePair(
    const KeyAndCert &pair, const QString &keyWhat, const QString &certWhat, QString *error)
{
    ParsedPair parsed;
    parsed.key = ossl::readPrivateKey(pair.keyPem);
    if (!parsed.key) {
        setError(error, ossl::failure(QStringLiteral("%1: not a readable unencrypted PEM private key").arg(keyWhat)));
        return std::nullopt;
    }
    parsed.cert = ossl::readCert(pair.certPem);
    if (!parsed.cert) {
        setError(error, ossl::failure(QStringLiteral("%1: not a readable PEM certificate").arg(certWhat)));
        return std::nullopt;
    }
    if (X509_check_private_key(parsed.cert.get(), parsed.key.get()) != 1) {
        setError(error, ossl::failure(QStringLiteral("%1 does not match %2").arg(keyWhat, certWhat)));
        return std::nullopt;
    }
    return parsed;
}

std::optional<ParsedPair> parseCa(const KeyAndCert &ca, QString *error)
{
    std::optional<ParsedPair> parsed
        = parsePair(ca, QStringLiteral("the CA key"), QStringLiteral("the CA certificate"), error);
    if (!parsed)
        return std::nullopt;
    if (X509_check_ca(parsed->cert.get()) < 1) {
        setError(error, QStringLiteral("the CA certificate is not a CA certificate"));
        return std::nullopt;
    }
    return parsed;
}

// The CSR's key is acceptable: EC on P-256, or RSA of at least 2048 bits; "" when fine.
QString keyProblem(EVP_PKEY *key)
{
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = {};
        size_t length = 0;
        if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1)
            return QStringLiteral("CSR key: EC key without a named curve");
        const QString curve = QString::fromLatin1(group, qsizetype(length));
        if (curve != QLatin1String("prime256v1") && curve != QLatin1String("P-256"))
            return QStringLiteral("CSR key: EC curve %1 not accepted (P-256 only)").arg(curve);
        return QString();
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        const int bits = EVP_PKEY_get_bits(key);
        if (bits < 2048)
            return QStringLiteral("CSR key: RSA %1 bits not accepted (at least 2048)").arg(bits);
        return QString();
    }
    const char *type = EVP_PKEY_get0_type_name(key);
    return QStringLiteral("CSR key: type %1 not accepted (EC P-256 or RSA >= 2048 bits)")
        .arg(type ? QString::fromLatin1(type) : QStringLiteral("unknown"));
}

std::optional<QByteArray> readSmallFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        setError(error, QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
        return std::nullopt;
    }
    if (file.size() > pemFileBytesMax) {
        setError(error, QStringLiteral("%1 is larger than %2 bytes").arg(path).arg(pemFileBytesMax));
        return std::nullopt;
    }
    const QByteArray data = file.read(pemFileBytesMax + 1);
    if (data.size() > pemFileBytesMax) {
        setError(error, QStringLiteral("%1 is larger than %2 bytes").arg(path).arg(pemFileBytesMax));
        return std::nullopt;
    }
    return data;
}

// Atomically (QSaveFile: a temporary file renamed over the target on commit). The permissions
// are set before the first byte is written, so a key is never readable by others, not even in
// the temporary file.
bool writeFileAtomically(
    const QString &path, const QByteArray &data, QFileDevice::Permissions permissions, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(permissions) || file.write(data) != data.size()
        || !file.commit()) {
        setError(error, QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    return true;
}

// Why the server certificate at hand must be re-issued, or "" when it can stay.
QString serverCertProblem(const BuildingPki &paths, const ParsedPair &ca, const QStringList &serverNames, qint64 nowMs)
{
    if (!QFileInfo::exists(paths.serverKeyPath) || !QFileInfo::exists(paths.serverCertPath))
        return QStringLiteral("missing");
    QString problem;
    const std::optional<KeyAndCert> files = loadKeyAndCert(paths.serverKeyPath, paths.serverCertPath, &problem);
    if (!files)
        return problem;
    const ossl::ErrorQueueGuard errors;
    const ossl::Cert cert = ossl::readCert(files->certPem);
    if (!cert)
        return QStringLiteral("unreadable");
    if (X509_check_issued(ca.cert.get(), cert.get()) != X509_V_OK || X509_verify(cert.get(), ca.key.get()) != 1)
        return QStringLiteral("not issued by this CA");
    if (X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0) != 1)
        return QStringLiteral("not a TLS server certificate");
    const std::optional<qint64> notBefore = timeMs(X509_get0_notBefore(cert.get()));
    const std::optional<qint64> notAfter = timeMs(X509_get0_notAfter(cert.get()));
    if (!notBefore || !notAfter)
        return QStringLiteral("unreadable validity");
    if (*notBefore > nowMs)
        return QStringLiteral("not yet valid");
    if (*notAfter - nowMs < serverCertRenewBeforeDays * dayMs)
        return QStringLiteral("expires within %1 days").arg(serverCertRenewBeforeDays);
    for (const QString &name : serverNames) {
        const QByteArray ascii = name.toLatin1();
        const bool named = isIpAddress(name) ? X509_check_ip_asc(cert.get(), ascii.constData(), 0) == 1
                                             : X509_check_host(cert.get(), ascii.constData(), size_t(ascii.size()),
                                                   X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr)
                == 1;
        if (!named)
            return QStringLiteral("does not name %1").arg(name);
    }
    return QString();
}

} // namespace

std::optional<KeyAndCert> createCa(const QString &commonName, qint64 nowMs, QString *error)
{
    const ossl::ErrorQueueGuard errors;
    CertSpec spec;
    spec.commonName = commonName;
    spec.notBeforeMs = nowMs - hourMs;
    spec.notAfterMs = QDateTime::fromMSecsSinceEpoch(nowMs, Qt::UTC).addYears(caValidityYears).toMSecsSinceEpoch();
    if (const QString problem = specProblem(spec); !problem.isEmpty()) {
        setError(error, problem);
        return std::nullopt;
    }
    const ossl::PKey key = ossl::generateEcKey("P-256");
    if (!key) {
        setError(error, ossl::failure(QStringLiteral("cannot generate the CA key")));
        return std::nullopt;
    }
    const ossl::Cert cert = buildCert(key.get(), spec, nullptr, key.get(), error);
    if (!cert)
        return std::nullopt;
    return toPem(key.get(), cert.get(), error);
}

std::optional<KeyAndCert> issue(const KeyAndCert &ca, const CertSpec &spec, QString *error)
{
    const ossl::ErrorQueueGuard errors;
    if (const QString problem = specProblem(spec); !problem.isEmpty()) {
        setError(error, problem);
        return std::nullopt;
    }
    const std::optional<ParsedPair> authority = parseCa(ca, error);
    if (!authority)
        return std::nullopt;
    const ossl::PKey key = ossl::generateEcKey("P-256");
    if (!key) {
        setError(error, ossl::failure(QStringLiteral("cannot generate a key")));
        return std::nullopt;
    }
    const ossl::Cert cert = buildCert(key.get(), spec, authority->cert.get(), authority->key.get(), error);
    if (!cert)
        return std::nullopt;
    return toPem(key.get(), cert.get(), error);
}

std::optional<KeyAndCsr> makeCsr(const QString &commonName, QString *error)
{
    const ossl::ErrorQueueGuard errors;
    if (commonName.isEmpty() || commonName.size() > commonNameCharsMax) {
        setError(error, QStringLiteral("common name must have 1..%1 characters").arg(commonNameCharsMax));
        return std::nullopt;
    }
    const ossl::PKey key = ossl::generateEcKey("P-256");
    if (!key) {
        setError(error, ossl::failure(QStringLiteral("cannot generate a key")));
        return std::nullopt;
    }
    const ossl::Req req(X509_REQ_new());
    if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1
        || !setCommonName(X509_REQ_get_subject_name(req.get()), commonName)
        || X509_REQ_set_pubkey(req.get(), key.get()) != 1 || X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
        setError(error, ossl::failure(QStringLiteral("cannot build the CSR")));
        return std::nullopt;
    }
    KeyAndCsr out;
    out.keyPem = ossl::privateKeyPem(key.get());
    out.csrPem = ossl::reqPem(req.get());
    if (out.keyPem.isEmpty() || out.csrPem.isEmpty()) {
        setError(error, ossl::failure(QStringLiteral("cannot encode PEM")));
        return std::nullopt;
    }
    return out;
}

std::optional<QByteArray> signCsr(const KeyAndCert &ca, const QByteArray &csrPem, const CertSpec &spec, QString *error)
{
    const ossl::ErrorQueueGuard errors;
    if (csrPem.size() > csrPemBytesMax) {
        setError(error, QStringLiteral("CSR too large: %1 bytes, at most %2").arg(csrPem.size()).arg(csrPemBytesMax));
        return std::nullopt;
    }
    // Only the name and validity come from the caller; usage and names are fixed here.
    CertSpec clientSpec;
    clientSpec.commonName = spec.commonName;
    clientSpec.notBeforeMs = spec.notBeforeMs;
    clientSpec.notAfterMs = spec.notAfterMs;
    clientSpec.usage = Usage::Client;
    if (const QString problem = specProblem(clientSpec); !problem.isEmpty()) {
        setError(error, problem);
        return std::nullopt;
    }
    const ossl::Req req = ossl::readReq(csrPem);
    if (!req) {
        setError(error, ossl::failure(QStringLiteral("CSR is not a readable PEM certificate request")));
        return std::nullopt;
    }
    EVP_PKEY *publicKey = X509_REQ_get0_pubkey(req.get()); // owned by req
    if (publicKey == nullptr) {
        setError(error, ossl::failure(QStringLiteral("CSR carries no usable public key")));
        return std::nullopt;
    }
    if (X509_REQ_verify(req.get(), publicKey) != 1) {
        setError(error, ossl::failure(QStringLiteral("CSR signature does not verify")));
        return std::nullopt;
    }
    if (const QString problem = keyProblem(publicKey); !problem.isEmpty()) {
        setError(error, problem);
        return std::nullopt;
    }
    const std::optional<ParsedPair> authority = parseCa(ca, error);
    if (!authority)
        return std::nullopt;
    const ossl::Cert cert = buildCert(publicKey, clientSpec, authority->cert.get(), authority->key.get(), error);
    if (!cert)
        return std::nullopt;
    QByteArray pem = ossl::certPem(cert.get());
    if (pem.isEmpty()) {
        setError(error, ossl::failure(QStringLiteral("cannot encode PEM")));
        return std::nullopt;
    }
    return pem;
}

QByteArray fingerprintSha256(const QByteArray &certPem)
{
    const ossl::ErrorQueueGuard errors;
    const ossl::Cert cert = ossl::readCert(certPem);
    if (!cert)
        return QByteArray();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1)
        return QByteArray();
    return QByteArray(reinterpret_cast<const char *>(digest), qsizetype(length));
}

std::optional<KeyAndCert> loadKeyAndCert(const QString &keyPath, const QString &certPath, QString *error)
{
    const ossl::ErrorQueueGuard errors;
    std::optional<QByteArray> keyPem = readSmallFile(keyPath, error);
    if (!keyPem)
        return std::nullopt;
    std::optional<QByteArray> certPem = readSmallFile(certPath, error);
    if (!certPem)
        return std::nullopt;
    KeyAndCert pair;
    pair.keyPem = std::move(*keyPem);
    pair.certPem = std::move(*certPem);
    if (!parsePair(pair, keyPath, certPath, error))
        return std::nullopt;
    return pair;
}

std::optional<BuildingPki> ensureBuildingPki(
    const QString &dir, const QString &buildingName, const QStringList &serverNames, qint64 nowMs, QString *error)
{
    if (serverNames.isEmpty()) {
        setError(error, QStringLiteral("the server certificate needs at least one host name or address"));
        return std::nullopt;
    }
    CertSpec serverSpec;
    serverSpec.commonName = serverNames.first();
    serverSpec.notBeforeMs = nowMs - hourMs;
    serverSpec.notAfterMs = nowMs + serverCertValidityDays * dayMs;
    serverSpec.usage = Usage::Server;
    for (const QString &name : serverNames)
        (isIpAddress(name) ? serverSpec.ipAddresses : serverSpec.dnsNames).append(name);
    if (const QString problem = specProblem(serverSpec); !problem.isEmpty()) {
        setError(error, QStringLiteral("server names: %1").arg(problem));
        return std::nullopt;
    }

    BuildingPki pki;
    pki.dir = QDir(dir).absolutePath();
    pki.caKeyPath = pki.dir + QLatin1String("/ca.key");
    pki.caCertPath = pki.dir + QLatin1String("/ca.crt");
    pki.serverKeyPath = pki.dir + QLatin1String("/server.key");
    pki.serverCertPath = pki.dir + QLatin1String("/server.crt");

    if (!QFileInfo(pki.dir).isDir()) {
        if (!QDir().mkpath(pki.dir) || !QFile::setPermissions(pki.dir, ownerOnlyDir)) {
            setError(error, QStringLiteral("cannot create %1").arg(pki.dir));
            return std::nullopt;
        }
    }

    // The CA: loaded when both files are there, created when neither is, an error otherwise.
    const bool caKeyExists = QFileInfo::exists(pki.caKeyPath);
    const bool caCertExists = QFileInfo::exists(pki.caCertPath);
    KeyAndCert caFiles;
    if (caKeyExists && caCertExists) {
        std::optional<KeyAndCert> loaded = loadKeyAndCert(pki.caKeyPath, pki.caCertPath, error);
        if (!loaded)
            return std::nullopt;
        caFiles = std::move(*loaded);
    } else if (caKeyExists || caCertExists) {
        setError(error,
            QStringLiteral("%1 exists without %2; refusing to replace the building's CA")
                .arg(caKeyExists ? pki.caKeyPath : pki.caCertPath, caKeyExists ? pki.caCertPath : pki.caKeyPath));
        return std::nullopt;
    } else {
        const QString caName = QStringLiteral("%1 prepay CA").arg(buildingName.left(commonNameCharsMax - 10)).trimmed();
        std::optional<KeyAndCert> created = createCa(caName, nowMs, error);
        if (!created || !writeFileAtomically(pki.caKeyPath, created->keyPem, ownerReadWrite, error)
            || !writeFileAtomically(pki.caCertPath, created->certPem, publicFile, error))
            return std::nullopt;
        caFiles = std::move(*created);
        pki.createdCa = true;
        qCInfo(lcPki).noquote() << "created the building CA" << caName << "in" << pki.dir;
    }

    std::optional<ParsedPair> ca;
    {
        const ossl::ErrorQueueGuard errors;
        ca = parseCa(caFiles, error);
    }
    if (!ca)
        return std::nullopt;

    const QString problem = serverCertProblem(pki, *ca, serverNames, nowMs);
    if (!problem.isEmpty()) {
        std::optional<KeyAndCert> server = issue(caFiles, serverSpec, error);
        if (!server || !writeFileAtomically(pki.serverKeyPath, server->keyPem, ownerReadWrite, error)
            || !writeFileAtomically(pki.serverCertPath, server->certPem, publicFile, error))
            return std::nullopt;
        pki.issuedServerCert = true;
        qCInfo(lcPki).noquote() << "issued the server certificate for" << serverNames.join(QLatin1String(", "))
                                << "- the previous one:" << problem;
    }
    return pki;
}

} // namespace prepay::pki
