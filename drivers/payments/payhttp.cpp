#include "payhttp.h"

#include <QtCore/QFile>
#include <QtCore/QLoggingCategory>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/QSslCertificate>

namespace {
Q_LOGGING_CATEGORY(lcPayHttp, "prepay.payments.http")
}

namespace prepay::payments {

namespace {

constexpr qsizetype caFileBytesMax = qsizetype(1024) * 1024;

bool hasHeader(const HttpHeaders &headers, QByteArrayView name)
{
    return std::any_of(headers.begin(), headers.end(),
        [name](const auto &pair) { return pair.first.compare(name, Qt::CaseInsensitive) == 0; });
}

} // namespace

std::unique_ptr<NetworkTransport> NetworkTransport::create(const QString &caFile, QString *error)
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (!caFile.isEmpty()) {
        QFile file(caFile);
        if (!file.open(QIODevice::ReadOnly)) {
            if (error)
                *error = QStringLiteral("payhttp: cannot read CA file %1: %2").arg(caFile, file.errorString());
            return nullptr;
        }
        const QByteArray pem = file.read(caFileBytesMax + 1);
        const QList<QSslCertificate> cas = QSslCertificate::fromData(pem, QSsl::Pem);
        if (pem.size() > caFileBytesMax || cas.isEmpty()) {
            if (error)
                *error = QStringLiteral("payhttp: CA file %1 holds no PEM certificate").arg(caFile);
            return nullptr;
        }
        tls.addCaCertificates(cas);
    }
    if (error)
        error->clear();
    return std::unique_ptr<NetworkTransport>(new NetworkTransport(tls));
}

NetworkTransport::NetworkTransport(const QSslConfiguration &tls)
    : m_manager(new QNetworkAccessManager(this))
    , m_tls(tls)
{
    m_manager->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    m_manager->setAutoDeleteReplies(false);
}

NetworkTransport::~NetworkTransport()
{
    // Pending replies are aborted without answering: their callers are going away with us.
    const QList<QNetworkReply *> pending = m_manager->findChildren<QNetworkReply *>();
    for (QNetworkReply *reply : pending) {
        reply->disconnect();
        reply->abort();
    }
}

void NetworkTransport::send(const HttpCall &call, std::function<void(const HttpReply &)> done)
{
    QNetworkRequest request(call.url);
    request.setSslConfiguration(m_tls);
    request.setTransferTimeout(call.timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    for (const auto &[name, value] : call.headers)
        request.setRawHeader(name, value);
    if (!hasHeader(call.headers, "Accept-Encoding"))
        request.setRawHeader(QByteArrayLiteral("Accept-Encoding"), QByteArrayLiteral("identity"));

    QNetworkReply *reply = call.body.isEmpty() && call.method == "GET"
        ? m_manager->get(request)
        : m_manager->sendCustomRequest(request, call.method, call.body);
    connect(reply, &QNetworkReply::finished, this, [reply, done = std::move(done)] {
        reply->deleteLater();
        HttpReply answer;
        const QNetworkReply::NetworkError error = reply->error();
        const QVariant status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
        if (error == QNetworkReply::OperationCanceledError || error == QNetworkReply::TimeoutError) {
            // setTransferTimeout ends a stalled transfer with OperationCanceledError; we never
            // abort a reply ourselves except in the destructor, which disconnects first.
            answer.transport = HttpReply::Transport::Timeout;
            answer.error = reply->errorString();
        } else if (status.isValid()
            && (error == QNetworkReply::NoError
                || (error >= QNetworkReply::ContentAccessDenied && error <= QNetworkReply::UnknownContentError)
                || (error >= QNetworkReply::InternalServerError && error <= QNetworkReply::UnknownServerError))) {
            answer.transport = HttpReply::Transport::Ok;
            answer.status = status.toInt();
            answer.headers = reply->rawHeaderPairs();
            answer.body = reply->readAll();
        } else {
            answer.transport = HttpReply::Transport::Failed;
            answer.error = reply->errorString();
        }
        qCDebug(lcPayHttp) << reply->operation() << reply->url().toString(QUrl::RemoveQuery) << "status"
                           << answer.status << "transport" << int(answer.transport);
        done(answer);
    });
}

} // namespace prepay::payments
