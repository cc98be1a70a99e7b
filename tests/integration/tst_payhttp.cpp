// The real Transport (payhttp.h) over real TLS: a tiny HTTPS server in this process (QSslServer
// with the sandbox's tls-server.pem, trusted through tls-ca.pem) answers scripted paths, and
// the transport must hand back exactly what went over the wire. What is checked:
//  - the raw body bytes (NUL, CR LF, non-UTF-8) and all headers in order, request headers and
//    body as sent, a custom method;
//  - 204 with an empty body; 500 with its body is an answer, not a transport failure;
//  - a 302 is returned, not followed;
//  - a server that never answers → Transport::Timeout within the call's timeout;
//  - a server whose certificate is not signed by the given CA → Transport::Failed;
//  - create() names an unreadable or certificate-less CA file.
// The server is event-driven on the test's thread; the test waits with QTRY_*, never waitFor*.
#include "payments/payhttp.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QSslServer>
#include <QtNetwork/QSslSocket>
#include <QtTest/QTest>

using namespace prepay::payments;

namespace {

const QString keysDir = QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys/");

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

const QByteArray binaryBody = QByteArray("\x00\x01\xff\r\n{\"a\":\"\\/\"}\r\n", 18);

// One request as the server read it.
struct Received
{
    QByteArray requestLine;
    QList<QByteArray> headerLines;
    QByteArray body;
};

// A minimal HTTP/1.1 server: one request per connection, answered by path, then closed.
class TinyHttpsServer : public QObject
{
public:
    QSslServer server;
    QList<Received> received;

    bool start()
    {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(QSslCertificate(readFile(keysDir + QStringLiteral("tls-server.pem"))));
        tls.setPrivateKey(QSslKey(readFile(keysDir + QStringLiteral("tls-server.key")), QSsl::Rsa));
        tls.setPeerVerifyMode(QSslSocket::VerifyNone);
        server.setSslConfiguration(tls);
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [this] {
            while (QTcpSocket *socket = server.nextPendingConnection())
                serve(socket);
        });
        return server.listen(QHostAddress::LocalHost);
    }

    QUrl url(const QString &path) const
    {
        return QUrl(QStringLiteral("https://127.0.0.1:%1%2").arg(server.serverPort()).arg(path));
    }

private:
    void serve(QTcpSocket *socket)
    {
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            buffer->append(socket->readAll());
            const qsizetype end = buffer->indexOf("\r\n\r\n");
            if (end < 0)
                return;
            QList<QByteArray> lines = buffer->first(end).split('\n');
            for (QByteArray &line : lines)
                line = line.trimmed();
            qsizetype length = 0;
            for (const QByteArray &line : lines) {
                if (line.toLower().startsWith("content-length:"))
                    length = line.sliced(15).trimmed().toLongLong();
            }
            if (buffer->size() < end + 4 + length)
                return;
            Received r;
            r.requestLine = lines.takeFirst();
            r.headerLines = lines;
            r.body = buffer->sliced(end + 4, length);
            received.append(r);
            answer(socket, r.requestLine.split(' ').value(1));
        });
    }

    static void answer(QTcpSocket *socket, const QByteArray &path)
    {
        QByteArray response;
        if (path == "/body") {
            response = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nWechatpay-Nonce: n1\r\n"
                       "X-Repeat: first\r\nX-Repeat: second\r\nContent-Length: "
                + QByteArray::number(binaryBody.size()) + "\r\nConnection: close\r\n\r\n" + binaryBody;
        } else if (path == "/empty") {
            response = "HTTP/1.1 204 No Content\r\nWechatpay-Serial: S1\r\nConnection: close\r\n\r\n";
        } else if (path == "/error") {
            const QByteArray body = R"({"code":"SYSTEM_ERROR","message":"busy"})";
            response = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: "
                + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        } else if (path == "/redirect") {
            response = "HTTP/1.1 302 Found\r\nLocation: /body\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        } else if (path == "/slow") {
            return; // never answers
        } else {
            response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        }
        socket->write(response);
        socket->disconnectFromHost();
    }
};

struct Sent
{
    std::optional<HttpReply> reply;
    int answers = 0;
};

std::function<void(const HttpReply &)> recorder(Sent &sent)
{
    return [&sent](const HttpReply &reply) {
        sent.reply = reply;
        ++sent.answers;
    };
}

HttpCall get(const QUrl &url, int timeoutMs = 5000)
{
    HttpCall call;
    call.method = "GET";
    call.url = url;
    call.timeoutMs = timeoutMs;
    return call;
}

} // namespace

class TestPayHttp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void rawBodyAndHeaders();
    void emptyAndErrorStatuses();
    void redirectNotFollowed();
    void timeout();
    void wrongCa();
    void caFileErrors();

private:
    TinyHttpsServer m_server;
    std::unique_ptr<NetworkTransport> m_transport;
};

void TestPayHttp::initTestCase()
{
    QVERIFY(QSslSocket::supportsSsl());
    QVERIFY(m_server.start());
    QString error;
    m_transport = NetworkTransport::create(keysDir + QStringLiteral("tls-ca.pem"), &error);
    QVERIFY2(m_transport, qPrintable(error));
}

void TestPayHttp::rawBodyAndHeaders()
{
    HttpCall call = get(m_server.url(QStringLiteral("/body")));
    call.method = "POST";
    call.body = R"({"mchid":"1900000109"})";
    call.headers = {{"Authorization", "WECHATPAY2-SHA256-RSA2048 mchid=\"1\""}, {"Content-Type", "application/json"},
        {"Accept", "application/json"}};
    Sent sent;
    m_transport->send(call, recorder(sent));
    QTRY_COMPARE_WITH_TIMEOUT(sent.answers, 1, 10000);
    QCOMPARE(sent.reply->transport, HttpReply::Transport::Ok);
    QCOMPARE(sent.reply->status, 200);
    QCOMPARE(sent.reply->body, binaryBody);
    QCOMPARE(sent.reply->header("wechatpay-nonce"), QByteArray("n1"));
    // Every header, in wire order, repeated names included.
    QList<QByteArray> names;
    for (const auto &[name, value] : sent.reply->headers)
        names.append(name.toLower());
    QVERIFY2(names.indexOf("content-type") < names.indexOf("wechatpay-nonce"), names.join(' ').constData());
    // QNetworkReply joins a repeated header into one value, in order.
    QCOMPARE(names.count("x-repeat"), 1);
    QCOMPARE(sent.reply->header("X-Repeat"), QByteArray("first, second"));

    QCOMPARE(m_server.received.size(), 1);
    const Received &r = m_server.received.constFirst();
    QCOMPARE(r.requestLine, QByteArray("POST /body HTTP/1.1"));
    QCOMPARE(r.body, call.body);
    QVERIFY(r.headerLines.contains(QByteArray("Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1\"")));
    QVERIFY(r.headerLines.contains(QByteArray("Accept-Encoding: identity")));

    Sent custom;
    HttpCall put = get(m_server.url(QStringLiteral("/empty")));
    put.method = "DELETE";
    m_transport->send(put, recorder(custom));
    QTRY_COMPARE_WITH_TIMEOUT(custom.answers, 1, 10000);
    QCOMPARE(m_server.received.constLast().requestLine, QByteArray("DELETE /empty HTTP/1.1"));
}

void TestPayHttp::emptyAndErrorStatuses()
{
    Sent empty;
    m_transport->send(get(m_server.url(QStringLiteral("/empty"))), recorder(empty));
    Sent error;
    m_transport->send(get(m_server.url(QStringLiteral("/error"))), recorder(error));
    QTRY_COMPARE_WITH_TIMEOUT(empty.answers + error.answers, 2, 10000);
    QCOMPARE(empty.reply->transport, HttpReply::Transport::Ok);
    QCOMPARE(empty.reply->status, 204);
    QVERIFY(empty.reply->body.isEmpty());
    QCOMPARE(empty.reply->header("Wechatpay-Serial"), QByteArray("S1"));
    QCOMPARE(error.reply->transport, HttpReply::Transport::Ok);
    QCOMPARE(error.reply->status, 500);
    QCOMPARE(error.reply->body, QByteArray(R"({"code":"SYSTEM_ERROR","message":"busy"})"));
}

void TestPayHttp::redirectNotFollowed()
{
    const qsizetype before = m_server.received.size();
    Sent sent;
    m_transport->send(get(m_server.url(QStringLiteral("/redirect"))), recorder(sent));
    QTRY_COMPARE_WITH_TIMEOUT(sent.answers, 1, 10000);
    QCOMPARE(sent.reply->transport, HttpReply::Transport::Ok);
    QCOMPARE(sent.reply->status, 302);
    QCOMPARE(sent.reply->header("Location"), QByteArray("/body"));
    QTest::qWait(200); // a followed redirect would show up as a second request
    QCOMPARE(m_server.received.size(), before + 1);
}

void TestPayHttp::timeout()
{
    Sent sent;
    m_transport->send(get(m_server.url(QStringLiteral("/slow")), 500), recorder(sent));
    QTRY_COMPARE_WITH_TIMEOUT(sent.answers, 1, 10000);
    QCOMPARE(sent.reply->transport, HttpReply::Transport::Timeout);
    QCOMPARE(sent.reply->status, 0);
    QTest::qWait(100);
    QCOMPARE(sent.answers, 1); // exactly once
}

void TestPayHttp::wrongCa()
{
    QString error;
    // UnionPay's sandbox root is a real CA certificate, but not the one that signed the server.
    auto other = NetworkTransport::create(keysDir + QStringLiteral("unionpay-root.pem"), &error);
    QVERIFY2(other, qPrintable(error));
    Sent sent;
    other->send(get(m_server.url(QStringLiteral("/body"))), recorder(sent));
    QTRY_COMPARE_WITH_TIMEOUT(sent.answers, 1, 10000);
    QCOMPARE(sent.reply->transport, HttpReply::Transport::Failed);
    QVERIFY(!sent.reply->error.isEmpty());
    QCOMPARE(sent.reply->status, 0);
    QVERIFY(sent.reply->body.isEmpty());
}

void TestPayHttp::caFileErrors()
{
    QString error;
    QVERIFY(!NetworkTransport::create(keysDir + QStringLiteral("no-such-ca.pem"), &error));
    QVERIFY2(error.contains(QStringLiteral("no-such-ca.pem")), qPrintable(error));
    QVERIFY(!NetworkTransport::create(keysDir + QStringLiteral("wechat-apiv3.txt"), &error));
    QVERIFY2(error.contains(QStringLiteral("no PEM certificate")), qPrintable(error));
    QVERIFY(NetworkTransport::create(QString(), &error)); // the system CAs
}

QTEST_GUILESS_MAIN(TestPayHttp)
#include "tst_payhttp.moc"
