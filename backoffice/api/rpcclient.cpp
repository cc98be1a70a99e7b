#include "rpcclient.h"

#include <QtCore/QEventLoop>
#include <QtCore/QJsonDocument>
#include <QtCore/QTimer>
#include <QtNetwork/QSslConfiguration>
#include <QtWebSockets/QWebSocket>

namespace prepay::rpc {

RpcClient::RpcClient(QObject *parent)
    : QObject(parent)
{
}

RpcClient::~RpcClient()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
    failAll(QStringLiteral("the client was destroyed"));
}

void RpcClient::open(const Endpoint &endpoint)
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
        m_socket->deleteLater();
    }
    m_lastError.clear();
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    ssl.setProtocol(QSsl::TlsV1_3);
    ssl.setCaCertificates({endpoint.ca});
    ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (!endpoint.clientCertificate.isNull()) {
        ssl.setLocalCertificate(endpoint.clientCertificate);
        ssl.setPrivateKey(endpoint.clientKey);
    }
    m_socket->setSslConfiguration(ssl);
    connect(m_socket, &QWebSocket::connected, this, &RpcClient::connected);
    connect(m_socket, &QWebSocket::textMessageReceived, this, &RpcClient::onFrame);
    connect(m_socket, &QWebSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        QStringList what;
        for (const QSslError &e : errors)
            what << e.errorString();
        m_lastError = QStringLiteral("TLS: ") + what.join(QStringLiteral("; "));
    });
    connect(m_socket, qOverload<QAbstractSocket::SocketError>(&QWebSocket::error), this, [this](QAbstractSocket::SocketError) {
        if (m_lastError.isEmpty())
            m_lastError = m_socket->errorString();
    });
    connect(m_socket, &QWebSocket::disconnected, this, [this] {
        const QString reason = m_lastError.isEmpty()
            ? QStringLiteral("connection closed (%1 %2)").arg(int(m_socket->closeCode())).arg(m_socket->closeReason())
            : m_lastError;
        failAll(reason);
        Q_EMIT failed(reason);
        Q_EMIT disconnected();
    });
    QUrl url;
    url.setScheme(QStringLiteral("wss"));
    url.setHost(endpoint.host);
    url.setPort(endpoint.port);
    url.setPath(QStringLiteral("/"));
    m_socket->open(url);
}

bool RpcClient::openBlocking(const Endpoint &endpoint, int timeoutMs, QString *error)
{
    QEventLoop loop;
    bool ok = false;
    QString reason = QStringLiteral("no answer within %1 ms").arg(timeoutMs);
    const QMetaObject::Connection a = connect(this, &RpcClient::connected, &loop, [&] {
        ok = true;
        loop.quit();
    });
    const QMetaObject::Connection b = connect(this, &RpcClient::failed, &loop, [&](const QString &why) {
        reason = why;
        loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    open(endpoint);
    loop.exec();
    disconnect(a);
    disconnect(b);
    if (!ok && error)
        *error = reason;
    return ok;
}

void RpcClient::close()
{
    if (m_socket)
        m_socket->close();
}

bool RpcClient::isOpen() const
{
    return m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
}

qint64 RpcClient::call(const QString &method, const QJsonObject &params, std::function<void(const Outcome &)> done)
{
    const qint64 id = ++m_nextId;
    if (!isOpen()) {
        Error error;
        error.code = ErrorCode::Unavailable;
        error.message = QStringLiteral("not connected to prepayd");
        done(error);
        return id;
    }
    m_pending.insert(id, std::move(done));
    QJsonObject request{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")}, {QStringLiteral("id"), id},
        {QStringLiteral("method"), method}};
    if (!params.isEmpty())
        request.insert(QStringLiteral("params"), params);
    m_socket->sendTextMessage(QString::fromUtf8(QJsonDocument(request).toJson(QJsonDocument::Compact)));
    return id;
}

Outcome RpcClient::callBlocking(const QString &method, const QJsonObject &params, int timeoutMs)
{
    QEventLoop loop;
    std::optional<Outcome> result;
    const qint64 id = call(method, params, [&](const Outcome &outcome) {
        result = outcome;
        loop.quit();
    });
    if (!result) {
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    if (!result) {
        m_pending.remove(id);
        Error error;
        error.code = ErrorCode::Unavailable;
        error.message = QStringLiteral("no reply to %1 within %2 ms").arg(method).arg(timeoutMs);
        return error;
    }
    return *result;
}

QJsonObject RpcClient::sendRawBlocking(const QByteArray &frame, int timeoutMs)
{
    QEventLoop loop;
    QJsonObject reply;
    m_rawWaiter = [&](const QJsonObject &object) {
        reply = object;
        loop.quit();
    };
    const QMetaObject::Connection gone = connect(this, &RpcClient::disconnected, &loop, &QEventLoop::quit);
    if (isOpen())
        m_socket->sendTextMessage(QString::fromUtf8(frame));
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    if (isOpen())
        loop.exec();
    disconnect(gone);
    m_rawWaiter = nullptr;
    return reply;
}

void RpcClient::onFrame(const QString &text)
{
    const QJsonObject object = QJsonDocument::fromJson(text.toUtf8()).object();
    if (m_rawWaiter) {
        const auto waiter = std::exchange(m_rawWaiter, nullptr);
        waiter(object);
        return;
    }
    if (!object.contains(QLatin1String("id"))) {
        Q_EMIT notification(object.value(QLatin1String("method")).toString(),
            object.value(QLatin1String("params")).toObject());
        return;
    }
    const qint64 id = object.value(QLatin1String("id")).toInteger(-1);
    const auto done = m_pending.take(id);
    if (!done)
        return; // a reply after its caller gave up
    if (object.contains(QLatin1String("error"))) {
        const QJsonObject e = object.value(QLatin1String("error")).toObject();
        Error error;
        error.code = ErrorCode(e.value(QLatin1String("code")).toInt());
        error.message = e.value(QLatin1String("message")).toString();
        error.data = e.value(QLatin1String("data")).toObject();
        done(error);
    } else {
        done(object.value(QLatin1String("result")));
    }
}

void RpcClient::failAll(const QString &reason)
{
    const auto pending = std::exchange(m_pending, {});
    for (const auto &done : pending) {
        Error error;
        error.code = ErrorCode::Unavailable;
        error.message = reason;
        done(error);
    }
}

} // namespace prepay::rpc
