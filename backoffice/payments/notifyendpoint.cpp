#include "notifyendpoint.h"

#include "paymentservice.h"

#include <QtCore/QFile>
#include <QtCore/QPointer>
#include <QtHttpServer/QAbstractHttpServer>
#include <QtHttpServer/QHttpServerRequest>
#include <QtHttpServer/QHttpServerResponder>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QTcpSocket>

namespace prepay::payments {

namespace {

using Status = QHttpServerResponder::StatusCode;

void writeReply(QHttpServerResponder &responder, int status, const QByteArray &contentType, const QByteArray &body)
{
    responder.writeStatusLine(Status(status));
    if (!contentType.isEmpty())
        responder.writeHeader("Content-Type", contentType);
    responder.writeHeader("Content-Length", QByteArray::number(body.size()));
    responder.writeBody(body);
}

class Front : public QAbstractHttpServer
{
public:
    std::function<void(const QHttpServerRequest &, QTcpSocket *)> handler;
    static QHttpServerResponder responderFor(const QHttpServerRequest &request, QTcpSocket *socket)
    {
        return makeResponder(request, socket);
    }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        handler(request, socket);
        return true;
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override { }
};

} // namespace

struct NotifyEndpoint::Private
{
    explicit Private(PaymentService &s)
        : service(s)
    { }
    PaymentService &service;
    Front front;
    quint16 port = 0;
};

NotifyEndpoint::NotifyEndpoint(PaymentService &service, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(service))
{
    d->front.handler = [this](const QHttpServerRequest &request, QTcpSocket *socket) {
        QHttpServerResponder responder = Front::responderFor(request, socket);
        const QString path = request.url().path();
        std::optional<Channel> channel;
        if (path.startsWith(u"/notify/"))
            channel = channelFromCode(QStringView(path).mid(8));
        if (!channel) {
            writeReply(responder, 404, "text/plain", "not found\n");
            return;
        }
        if (request.method() != QHttpServerRequest::Method::Post) {
            writeReply(responder, 405, "text/plain", "POST only\n");
            return;
        }
        if (request.body().size() > bodyBytesMax) {
            writeReply(responder, 413, "text/plain", "body too large\n");
            return;
        }
        NotifyRequest notify;
        notify.method = "POST";
        notify.path = request.url().path(QUrl::FullyEncoded).toLatin1();
        notify.query = request.url().query(QUrl::FullyEncoded).toLatin1();
        notify.headers = request.headers();
        notify.body = request.body();
        notify.remoteAddress = request.remoteAddress().toString();
        // The answer waits for the commit. If the provider hung up meanwhile the responder is
        // left alone (Qt 6.4 must not destroy a responder whose socket is gone); it retries.
        auto *held = new QHttpServerResponder(std::move(responder));
        QPointer<QTcpSocket> alive(socket);
        d->service.handleNotification(*channel, notify, [held, alive](const NotifyReply &reply) {
            if (alive && alive->state() == QAbstractSocket::ConnectedState) {
                writeReply(*held, reply.status, reply.contentType, reply.body);
                delete held;
            }
        });
    };
}

NotifyEndpoint::~NotifyEndpoint() = default;

bool NotifyEndpoint::setTls(const QString &certFile, const QString &keyFile, QString *error)
{
    QFile certs(certFile);
    QFile keyIn(keyFile);
    if (!certs.open(QIODevice::ReadOnly) || !keyIn.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("notify endpoint: cannot read %1 or %2").arg(certFile, keyFile);
        return false;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certs.readAll(), QSsl::Pem);
    const QByteArray keyPem = keyIn.readAll();
    QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
    if (chain.isEmpty() || key.isNull()) {
        *error = QStringLiteral("notify endpoint: %1 or %2 is not a PEM certificate / key").arg(certFile, keyFile);
        return false;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    d->front.sslSetup(tls);
    return true;
}

bool NotifyEndpoint::listen(const QHostAddress &address, quint16 port, QString *error)
{
    d->port = d->front.listen(address, port);
    if (d->port == 0) {
        *error = QStringLiteral("notify endpoint: cannot listen on %1:%2").arg(address.toString()).arg(port);
        return false;
    }
    return true;
}

quint16 NotifyEndpoint::port() const
{
    return d->port;
}

} // namespace prepay::payments
