#include "ossl.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>

namespace prepay::pki::ossl {

namespace {

// The passphrase callback for every PEM read: there is no passphrase, so an encrypted key fails
// to load instead of OpenSSL's default callback prompting on the controlling terminal.
int noPassphrase(char *, int, int, void *)
{
    return 0;
}

// A read-only memory BIO over `data` (which must outlive it); empty on oversize input.
Bio readBio(const QByteArray &data)
{
    if (data.size() > INT_MAX)
        return Bio();
    return Bio(BIO_new_mem_buf(data.constData(), int(data.size())));
}

// Everything written into a memory BIO.
QByteArray contents(BIO *bio)
{
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    if (length <= 0 || data == nullptr)
        return QByteArray();
    return QByteArray(data, qsizetype(length));
}

} // namespace

ErrorQueueGuard::ErrorQueueGuard()
{
    ERR_clear_error();
}

ErrorQueueGuard::~ErrorQueueGuard()
{
    ERR_clear_error();
}

QString drainErrors()
{
    QString text;
    for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        if (!text.isEmpty())
            text += QLatin1String("; ");
        text += QString::fromLatin1(buffer);
    }
    return text;
}

QString failure(const QString &what)
{
    const QString queue = drainErrors();
    return queue.isEmpty() ? what : what + QLatin1String(": ") + queue;
}

PKey readPrivateKey(const QByteArray &pem)
{
    Bio bio = readBio(pem);
    if (!bio)
        return PKey();
    return PKey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &noPassphrase, nullptr));
}

Cert readCert(const QByteArray &pem)
{
    Bio bio = readBio(pem);
    if (!bio)
        return Cert();
    return Cert(PEM_read_bio_X509(bio.get(), nullptr, &noPassphrase, nullptr));
}

Req readReq(const QByteArray &pem)
{
    Bio bio = readBio(pem);
    if (!bio)
        return Req();
    return Req(PEM_read_bio_X509_REQ(bio.get(), nullptr, &noPassphrase, nullptr));
}

QByteArray privateKeyPem(EVP_PKEY *key)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return QByteArray();
    return contents(bio.get());
}

QByteArray certPem(X509 *cert)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        return QByteArray();
    return contents(bio.get());
}

QByteArray reqPem(X509_REQ *req)
{
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509_REQ(bio.get(), req) != 1)
        return QByteArray();
    return contents(bio.get());
}

QByteArray certDer(X509 *cert)
{
    const int length = i2d_X509(cert, nullptr);
    if (length <= 0)
        return QByteArray();
    QByteArray der(length, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(der.data());
    if (i2d_X509(cert, &out) != length)
        return QByteArray();
    return der;
}

PKey generateEcKey(const char *curve)
{
    PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_group_name(ctx.get(), curve) != 1)
        return PKey();
    EVP_PKEY *key = nullptr;
    if (EVP_PKEY_generate(ctx.get(), &key) != 1)
        return PKey();
    return PKey(key);
}

} // namespace prepay::pki::ossl
