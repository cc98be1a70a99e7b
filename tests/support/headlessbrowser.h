// A real browser for tests and benchmarks: Debian's chromium, headless, driven over the Chrome
// DevTools Protocol (a WebSocket to the page). It opens a page the way a tenant's phone would
// (a 390×844 window), runs JavaScript in it (to read it or to click its buttons), and saves
// screenshots. No mock: when chromium is missing, start() fails and says so.
#pragma once

#include <QtCore/QCryptographicHash>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtCore/QDir>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslKey>
#include <QtWebSockets/QWebSocket>

#include <optional>

namespace prepay::test {

class HeadlessBrowser
{
public:
    HeadlessBrowser() = default;
    HeadlessBrowser(const HeadlessBrowser &) = delete;
    HeadlessBrowser &operator=(const HeadlessBrowser &) = delete;
    ~HeadlessBrowser() { stop(); }

    // The value of --ignore-certificate-errors-spki-list that makes chromium accept exactly the
    // server certificate in `pemFile` (a sandbox's private TLS), and nothing else.
    static QString spkiPin(const QString &pemFile)
    {
        QFile file(pemFile);
        if (!file.open(QIODevice::ReadOnly))
            return {};
        const QList<QSslCertificate> certs = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        if (certs.isEmpty())
            return {};
        return QString::fromLatin1(
            QCryptographicHash::hash(certs.first().publicKey().toDer(), QCryptographicHash::Sha256).toBase64());
    }

    // Starts chromium on about:blank and attaches to its page. False and *error when chromium is
    // missing or does not come up.
    bool start(const QStringList &extraArguments, QString *error)
    {
        const QString chromium = QStandardPaths::findExecutable(QStringLiteral("chromium"));
        if (chromium.isEmpty()) {
            *error = QStringLiteral("chromium is not installed (packaging/debian-packages.txt lists it)");
            return false;
        }
        if (!m_profile.isValid()) {
            *error = QStringLiteral("no temporary directory for the browser profile");
            return false;
        }
        m_process.setProgram(chromium);
        m_process.setArguments(QStringList{QStringLiteral("--headless=new"), QStringLiteral("--no-sandbox"),
                                   QStringLiteral("--disable-gpu"), QStringLiteral("--disable-dev-shm-usage"),
                                   QStringLiteral("--no-first-run"), QStringLiteral("--no-default-browser-check"),
                                   QStringLiteral("--user-data-dir=") + m_profile.path(),
                                   QStringLiteral("--window-size=390,844"), QStringLiteral("--remote-debugging-port=0"),
                                   QStringLiteral("--remote-allow-origins=*")}
            + extraArguments + QStringList{QStringLiteral("about:blank")});
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.start();
        if (!m_process.waitForStarted(10000)) {
            *error = QStringLiteral("chromium does not start: %1").arg(m_process.errorString());
            return false;
        }
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…" on stderr.
        static const QRegularExpression listening(QStringLiteral("DevTools listening on ws://127\\.0\\.0\\.1:(\\d+)/"));
        QByteArray banner;
        QRegularExpressionMatch m;
        const QDeadlineTimer deadline(30000);
        while (!deadline.hasExpired()) {
            m_process.waitForReadyRead(200);
            banner += m_process.readAllStandardError();
            m = listening.match(QString::fromUtf8(banner));
            if (m.hasMatch() || m_process.state() == QProcess::NotRunning)
                break;
        }
        if (!m.hasMatch()) {
            *error = QStringLiteral("chromium did not open its DevTools port: %1").arg(QString::fromUtf8(banner.right(2000)));
            return false;
        }
        m_port = m.captured(1).toUShort();
        // The page target's WebSocket.
        QNetworkAccessManager manager;
        QNetworkReply *reply = manager.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/json/list").arg(m_port))));
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        QTimer::singleShot(10000, &loop, &QEventLoop::quit);
        loop.exec();
        QString pageSocket;
        for (const QJsonValue &target : QJsonDocument::fromJson(reply->readAll()).array()) {
            if (target[QStringLiteral("type")].toString() == QLatin1String("page")) {
                pageSocket = target[QStringLiteral("webSocketDebuggerUrl")].toString();
                break;
            }
        }
        reply->deleteLater();
        if (pageSocket.isEmpty()) {
            *error = QStringLiteral("chromium shows no page target");
            return false;
        }
        QObject::connect(&m_socket, &QWebSocket::textMessageReceived, [this](const QString &text) {
            const QJsonObject message = QJsonDocument::fromJson(text.toUtf8()).object();
            if (message.contains(QLatin1String("id")))
                m_replies.insert(message.value(QLatin1String("id")).toInt(), message);
        });
        QEventLoop connected;
        QObject::connect(&m_socket, &QWebSocket::connected, &connected, &QEventLoop::quit);
        QTimer::singleShot(10000, &connected, &QEventLoop::quit);
        m_socket.open(QUrl(pageSocket));
        connected.exec();
        if (m_socket.state() != QAbstractSocket::ConnectedState) {
            *error = QStringLiteral("cannot attach to chromium's page: %1").arg(m_socket.errorString());
            return false;
        }
        return true;
    }

    void stop()
    {
        m_socket.close();
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(5000)) {
                m_process.kill();
                m_process.waitForFinished(5000);
            }
        }
        // chromium's helper processes may still write to the profile for a moment after the
        // browser has gone: remove it once they are done (else QTemporaryDir warns).
        for (int attempt = 0; attempt < 50 && m_profile.isValid() && QDir(m_profile.path()).exists(); ++attempt) {
            if (m_profile.remove())
                break;
            QThread::msleep(100);
        }
    }

    // One DevTools command; its "result", or nothing and *error.
    std::optional<QJsonObject> call(const QString &method, const QJsonObject &params, QString *error, int timeoutMs = 15000)
    {
        const int id = ++m_nextId;
        m_socket.sendTextMessage(QString::fromUtf8(
            QJsonDocument(QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("method"), method},
                              {QStringLiteral("params"), params}})
                .toJson(QJsonDocument::Compact)));
        const QDeadlineTimer deadline(timeoutMs);
        while (!m_replies.contains(id) && !deadline.hasExpired() && m_socket.state() == QAbstractSocket::ConnectedState) {
            QEventLoop loop;
            QTimer::singleShot(10, &loop, &QEventLoop::quit);
            loop.exec();
        }
        if (!m_replies.contains(id)) {
            *error = QStringLiteral("%1: no answer from chromium").arg(method);
            return std::nullopt;
        }
        const QJsonObject reply = m_replies.take(id);
        if (reply.contains(QLatin1String("error"))) {
            *error = QStringLiteral("%1: %2").arg(method,
                QString::fromUtf8(QJsonDocument(reply.value(QLatin1String("error")).toObject()).toJson(QJsonDocument::Compact)));
            return std::nullopt;
        }
        return reply.value(QLatin1String("result")).toObject();
    }

    bool navigate(const QString &url, QString *error)
    {
        return call(QStringLiteral("Page.navigate"), {{QStringLiteral("url"), url}}, error).has_value();
    }

    // The value of a JavaScript expression in the page (nothing while the page is navigating, or
    // when it threw).
    std::optional<QJsonValue> evaluate(const QString &expression, QString *error)
    {
        const std::optional<QJsonObject> result = call(QStringLiteral("Runtime.evaluate"),
            {{QStringLiteral("expression"), expression}, {QStringLiteral("returnByValue"), true}}, error);
        if (!result)
            return std::nullopt;
        if (result->contains(QLatin1String("exceptionDetails"))) {
            *error = QStringLiteral("the page threw: %1")
                         .arg(QString::fromUtf8(QJsonDocument(result->value(QLatin1String("exceptionDetails")).toObject())
                                                    .toJson(QJsonDocument::Compact)));
            return std::nullopt;
        }
        return result->value(QLatin1String("result")).toObject().value(QLatin1String("value"));
    }

    // Evaluates `expression` until it gives a non-empty string (a page loading, an element
    // appearing) or the time runs out.
    QString waitForText(const QString &expression, int timeoutMs, QString *error)
    {
        const QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            const std::optional<QJsonValue> value = evaluate(expression, error);
            if (value && value->isString() && !value->toString().isEmpty())
                return value->toString();
            QEventLoop loop;
            QTimer::singleShot(20, &loop, &QEventLoop::quit);
            loop.exec();
        }
        if (error->isEmpty())
            *error = QStringLiteral("'%1' stayed empty for %2 ms").arg(expression).arg(timeoutMs);
        return {};
    }

    bool screenshot(const QString &pngPath, QString *error)
    {
        const std::optional<QJsonObject> shot
            = call(QStringLiteral("Page.captureScreenshot"), {{QStringLiteral("format"), QStringLiteral("png")}}, error);
        if (!shot)
            return false;
        QFile file(pngPath);
        if (!file.open(QIODevice::WriteOnly)) {
            *error = QStringLiteral("cannot write %1").arg(pngPath);
            return false;
        }
        file.write(QByteArray::fromBase64(shot->value(QLatin1String("data")).toString().toLatin1()));
        return true;
    }

private:
    QProcess m_process;
    QTemporaryDir m_profile;
    QWebSocket m_socket;
    quint16 m_port = 0;
    int m_nextId = 0;
    QHash<int, QJsonObject> m_replies;
};

} // namespace prepay::test
