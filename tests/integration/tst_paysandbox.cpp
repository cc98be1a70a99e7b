// prepay-sim pay (prepay_sim_pay) in process over real TLS, talked to the way a merchant does:
// every request is signed in this test with prepay_paycrypto/paycanon and the merchant keys of
// drivers/sim/pay/keys, every answer and notification is verified with the platform keys.
// Nothing here uses the merchant-side adapters. What is checked:
//  - Alipay: precreate → query TRADE_NOT_EXIST before the scan → pay page (the scan) → query
//    WAIT_BUYER_PAY → pay → TRADE_SUCCESS; response signatures over the raw node; a one-byte
//    change gets a signed isv.invalid-signature (C3); retry vs CONTEXT_INCONSISTENT; a second
//    payment is refused (T8); close then pay is refused (P6); cancel retry_flag; refunds with
//    fund_change Y then N; the bill zip parses and its CSV decodes from GBK;
//  - notifications arrive signed, are retried until acknowledged ("fail" twice, then
//    "success"), the duplicate_notifies fault delivers extra copies; http_5xx applies then fails
//    (T4) and an identical retry gets the same QR;
//  - WeChat Pay: native create, query, close (signed 204), responses verify with platform-1,
//    platform-2 on request; bad Authorization → signed 401; the TRANSACTION.SUCCESS notify
//    verifies and decrypts; /v3/certificates decrypts to the platform certificates; the trade
//    bill matches its SHA-1 and needs a signed request;
//  - UnionPay: create, query (05 then 00), notify, all signed with unionpay-sign.pem's key;
//    a bad signature gets respCode 11.
#include "payments/paycanon.h"
#include "payments/paycrypto.h"
#include "sim/pay/payformats.h"
#include "sim/pay/paysandbox.h"

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtHttpServer/QHttpServer>
#include <QtHttpServer/QHttpServerRequest>
#include <QtHttpServer/QHttpServerResponse>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QSslConfiguration>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::payments;
using prepay::sim::pay::PaySandbox;
using prepay::sim::pay::PaySandboxConfig;

namespace {

QString keysDir()
{
    return QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys");
}

QByteArray readKeyFile(const char *name)
{
    QFile file(keysDir() + u'/' + QLatin1String(name));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read key file %s", name);
    return file.readAll();
}

struct Reply
{
    int status = 0;
    QByteArray body;
    QList<QNetworkReply::RawHeaderPair> headers;
    QString error;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[k, v] : headers) {
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
};

struct Received
{
    QString path;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[k, v] : headers) {
            if (k.compare(name, Qt::CaseInsensitive) == 0)
                return v;
        }
        return {};
    }
};

QByteArray field(const FormFields &fields, QByteArrayView key)
{
    for (const auto &[k, v] : fields) {
        if (k == key)
            return v;
    }
    return {};
}

QByteArray unionpayDigest(const FormFields &fields)
{
    FormFields kept;
    for (const auto &kv : fields) {
        if (kv.first != "signature" && !kv.second.isEmpty())
            kept.append(kv);
    }
    std::sort(kept.begin(), kept.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    QByteArray text;
    for (const auto &[k, v] : kept)
        text += (text.isEmpty() ? QByteArray() : QByteArray("&")) + k + '=' + v;
    return sha256(text).toHex();
}

quint32 crc32Of(const QByteArray &data)
{
    quint32 crc = 0xffffffffu;
    for (const char c : data) {
        crc ^= quint8(c);
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

quint32 le(const QByteArray &b, qsizetype at, int bytes)
{
    quint32 v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | quint8(b.at(at + i));
    return v;
}

} // namespace

class TestPaySandbox : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<PaySandbox> m_sandbox;
    QNetworkAccessManager m_nam;
    QSslConfiguration m_tls;
    QHttpServer m_receiver;
    quint16 m_receiverPort = 0;
    QList<Received> m_received;
    int m_failFirst = 0; // the receiver answers "fail" (HTTP 500 for WeChat) this many times

    PrivateKey m_alipayApp;
    PublicKey m_alipayPlatform;
    PrivateKey m_wechatMerchant;
    QByteArray m_wechatMerchantSerial;
    Certificate m_wechatPlatform1;
    Certificate m_wechatPlatform2;
    PrivateKey m_unionpayMerchant;
    QByteArray m_unionpayCertId;
    Certificate m_unionpaySign;

    QString base() const { return m_sandbox->baseUrl(); }
    QByteArray notifyUrl(const char *channel) const
    {
        return "http://127.0.0.1:" + QByteArray::number(m_receiverPort) + '/' + channel;
    }

    Reply send(const QByteArray &verb, const QByteArray &url, const QByteArray &body,
        const QList<std::pair<QByteArray, QByteArray>> &headers = {})
    {
        QNetworkRequest request(QUrl::fromEncoded(url, QUrl::StrictMode));
        request.setSslConfiguration(m_tls);
        for (const auto &[k, v] : headers)
            request.setRawHeader(k, v);
        QNetworkReply *reply = m_nam.sendCustomRequest(request, verb, body);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(10000);
        Reply r;
        r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        r.body = reply->readAll();
        r.headers = reply->rawHeaderPairs();
        if (reply->error() != QNetworkReply::NoError)
            r.error = reply->errorString();
        reply->deleteLater();
        return r;
    }

    Reply control(const QByteArray &verb, const char *what, const QJsonObject &body = {})
    {
        return send(verb, (base() + QStringLiteral("/sandbox/")).toUtf8() + what,
            verb == "GET" ? QByteArray() : QJsonDocument(body).toJson(QJsonDocument::Compact),
            {{"Content-Type", "application/json"}});
    }

    // ---- Alipay ------------------------------------------------------------------------------

    FormFields alipayRequest(const QByteArray &method, const QJsonObject &biz)
    {
        FormFields f{{"app_id", "2021000000000001"}, {"method", method}, {"format", "JSON"}, {"charset", "utf-8"},
            {"sign_type", "RSA2"},
            {"timestamp",
                QDateTime::currentDateTimeUtc()
                    .addSecs(8 * 3600)
                    .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                    .toUtf8()},
            {"version", "1.0"}, {"notify_url", notifyUrl("alipay")},
            {"biz_content", QJsonDocument(biz).toJson(QJsonDocument::Compact)}};
        const std::optional<QByteArray> toSign = alipayStringToSign(f, AlipaySignScope::Request);
        f.emplace_back("sign", encodeBase64(signRsaSha256(m_alipayApp, toSign.value()).value()));
        return f;
    }

    // Posts a signed request; returns the verified response node (empty object if the
    // signature does not verify, which the callers' QCOMPAREs then show).
    QJsonObject alipayPost(const FormFields &fields, const QByteArray &method, bool *signatureValid = nullptr)
    {
        const Reply r = send("POST", (base() + QStringLiteral("/gateway.do")).toUtf8(), formEncode(fields),
            {{"Content-Type", "application/x-www-form-urlencoded;charset=utf-8"}});
        const AlipayResponse parsed = alipayResponseNode(r.body, method);
        const bool valid = parsed.status == AlipayResponse::Status::Found
            && verifyRsaSha256(m_alipayPlatform, parsed.node, parsed.sign) == VerifyStatus::Valid;
        if (signatureValid)
            *signatureValid = valid;
        if (!valid)
            qWarning() << "alipay response did not verify:" << r.status << r.body.left(300);
        return valid ? QJsonDocument::fromJson(parsed.node).object() : QJsonObject();
    }

    QJsonObject alipay(const QByteArray &method, const QJsonObject &biz)
    {
        return alipayPost(alipayRequest(method, biz), method);
    }

    QJsonObject precreate(const QString &otn, const QString &amount = QStringLiteral("0.01"))
    {
        return alipay("alipay.trade.precreate",
            QJsonObject{{QStringLiteral("out_trade_no"), otn}, {QStringLiteral("total_amount"), amount},
                {QStringLiteral("subject"), QStringLiteral("电费充值 top-up")}});
    }

    QJsonObject alipayQuery(const QString &otn)
    {
        return alipay("alipay.trade.query", QJsonObject{{QStringLiteral("out_trade_no"), otn}});
    }

    // ---- WeChat --------------------------------------------------------------------------------

    Reply wechat(
        const QByteArray &verb, const QByteArray &pathAndQuery, const QByteArray &body = {}, bool goodSignature = true)
    {
        const QByteArray timestamp = QByteArray::number(QDateTime::currentSecsSinceEpoch());
        const QByteArray nonce = QByteArray::number(QRandomGenerator::global()->generate64(), 16).toUpper();
        QByteArray signature = encodeBase64(
            signRsaSha256(m_wechatMerchant, wechatRequestMessage(verb, pathAndQuery, timestamp, nonce, body).value())
                .value());
        if (!goodSignature)
            signature = encodeBase64(signRsaSha256(m_wechatMerchant, "something else").value());
        WechatAuthorization auth;
        auth.mchid = "1900000109";
        auth.nonce = nonce;
        auth.timestamp = timestamp;
        auth.serialNo = m_wechatMerchantSerial;
        auth.signature = signature;
        QList<std::pair<QByteArray, QByteArray>> headers{
            {"Authorization", wechatAuthorizationHeader(auth).value()}, {"Accept", "application/json"}};
        if (!body.isEmpty())
            headers.emplace_back("Content-Type", "application/json");
        return send(verb, base().toUtf8() + pathAndQuery, body, headers);
    }

    static bool wechatSignedBy(const Certificate &cert, const QByteArray &timestamp, const QByteArray &nonce,
        const QByteArray &serial, const QByteArray &signature, const QByteArray &body)
    {
        const std::optional<QByteArray> message = wechatResponseMessage(timestamp, nonce, body);
        return message && serial == cert.serialHex()
            && verifyRsaSha256(cert.publicKey(), *message, signature) == VerifyStatus::Valid;
    }

    static bool wechatReplySignedBy(const Certificate &cert, const Reply &r)
    {
        return wechatSignedBy(cert, r.header("Wechatpay-Timestamp"), r.header("Wechatpay-Nonce"),
            r.header("Wechatpay-Serial"), r.header("Wechatpay-Signature"), r.body);
    }

    QByteArray nativeBody(const QString &otn, qint64 fen)
    {
        return QJsonDocument(
            QJsonObject{{QStringLiteral("appid"), QStringLiteral("wxd678efh567hg6787")},
                {QStringLiteral("mchid"), QStringLiteral("1900000109")},
                {QStringLiteral("description"), QStringLiteral("电费充值")}, {QStringLiteral("out_trade_no"), otn},
                {QStringLiteral("notify_url"), QString::fromUtf8(notifyUrl("wechat"))},
                {QStringLiteral("amount"),
                    QJsonObject{{QStringLiteral("total"), fen}, {QStringLiteral("currency"), QStringLiteral("CNY")}}}})
            .toJson(QJsonDocument::Compact);
    }

    // ---- UnionPay ------------------------------------------------------------------------------

    FormFields unionpaySign(FormFields f)
    {
        f.emplace_back("signature", encodeBase64(signRsaSha256(m_unionpayMerchant, unionpayDigest(f)).value()));
        return f;
    }

    FormFields unionpayCommon(const QByteArray &orderId, const QByteArray &txnTime)
    {
        return FormFields{{"version", "5.1.0"}, {"encoding", "UTF-8"}, {"signMethod", "01"},
            {"certId", m_unionpayCertId}, {"accessType", "0"}, {"merId", "777290058110048"}, {"bizType", "000000"},
            {"orderId", orderId}, {"txnTime", txnTime}};
    }

    // Posts; returns the response fields when the signature verifies with unionpay-sign.pem.
    std::optional<FormFields> unionpayPost(const char *path, const FormFields &fields)
    {
        const Reply r = send("POST", (base() + QLatin1String(path)).toUtf8(), formEncode(fields),
            {{"Content-Type", "application/x-www-form-urlencoded;charset=UTF-8"}});
        const std::optional<FormFields> answer = formDecode(r.body);
        if (!answer || !unionpaySignedBySandbox(*answer)) {
            qWarning() << "unionpay response did not verify:" << r.status << r.body.left(300);
            return std::nullopt;
        }
        return answer;
    }

    bool unionpaySignedBySandbox(const FormFields &fields) const
    {
        const Certificate carried = Certificate::load(field(fields, "signPubKeyCert"));
        return !carried.isNull() && carried.serialHex() == m_unionpaySign.serialHex()
            && verifyRsaSha256(m_unionpaySign.publicKey(), unionpayDigest(fields), field(fields, "signature"))
            == VerifyStatus::Valid;
    }

    QList<Received> receivedAt(const QString &path) const
    {
        QList<Received> out;
        for (const Received &r : m_received) {
            if (r.path == path)
                out.append(r);
        }
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_alipayApp = PrivateKey::load(readKeyFile("alipay-app.key"));
        m_alipayPlatform = PublicKey::load(readKeyFile("alipay-platform.pub"));
        m_wechatMerchant = PrivateKey::load(readKeyFile("wechat-merchant.key"));
        m_wechatMerchantSerial = Certificate::load(readKeyFile("wechat-merchant.pem")).serialHex();
        m_wechatPlatform1 = Certificate::load(readKeyFile("wechat-platform-1.pem"));
        m_wechatPlatform2 = Certificate::load(readKeyFile("wechat-platform-2.pem"));
        m_unionpayMerchant = PrivateKey::load(readKeyFile("unionpay-merchant.key"));
        m_unionpayCertId = Certificate::load(readKeyFile("unionpay-merchant.pem")).serialDecimal();
        m_unionpaySign = Certificate::load(readKeyFile("unionpay-sign.pem"));
        QVERIFY(!m_alipayApp.isNull() && !m_alipayPlatform.isNull() && !m_wechatMerchant.isNull());
        QVERIFY(!m_wechatPlatform1.isNull() && !m_wechatPlatform2.isNull() && !m_unionpayMerchant.isNull());
        QVERIFY(!m_unionpaySign.isNull() && !m_unionpayCertId.isEmpty());

        m_tls = QSslConfiguration::defaultConfiguration();
        m_tls.setCaCertificates(QSslCertificate::fromPath(keysDir() + QStringLiteral("/tls-ca.pem")));
        QVERIFY(!m_tls.caCertificates().isEmpty());

        // The merchant's notify endpoint: records everything, answers per m_failFirst.
        const auto record = [this](const QString &path, const QHttpServerRequest &request) {
            Received r;
            r.path = path;
            r.body = request.body();
            r.headers = request.headers();
            m_received.append(r);
            const bool fail = m_failFirst > 0;
            if (fail)
                --m_failFirst;
            return fail;
        };
        m_receiver.route(QStringLiteral("/alipay"), [record](const QHttpServerRequest &request) {
            return QHttpServerResponse("text/plain", record(QStringLiteral("alipay"), request) ? "fail" : "success");
        });
        m_receiver.route(QStringLiteral("/wechat"), [record](const QHttpServerRequest &request) {
            return record(QStringLiteral("wechat"), request)
                ? QHttpServerResponse("application/json", R"({"code":"FAIL","message":"try again"})",
                    QHttpServerResponder::StatusCode::InternalServerError)
                : QHttpServerResponse(QHttpServerResponder::StatusCode::NoContent);
        });
        m_receiver.route(QStringLiteral("/unionpay"), [record](const QHttpServerRequest &request) {
            return record(QStringLiteral("unionpay"), request)
                ? QHttpServerResponse("text/plain", "fail", QHttpServerResponder::StatusCode::InternalServerError)
                : QHttpServerResponse("text/plain", "ok");
        });
        m_receiverPort = m_receiver.listen(QHostAddress::LocalHost, 0);
        QVERIFY(m_receiverPort != 0);

        PaySandboxConfig config;
        config.port = 0;
        config.keysDir = keysDir();
        config.timeScale = 0.001;
        m_sandbox = std::make_unique<PaySandbox>(config);
        QString error;
        QVERIFY2(m_sandbox->start(&error), qPrintable(error));
        QVERIFY(base().startsWith(u"https://127.0.0.1:"));
    }

    void init()
    {
        QCOMPARE(control("POST", "reset").status, 200);
        m_received.clear();
        m_failFirst = 0;
    }

    void commandLine()
    {
        using prepay::sim::pay::parsePayCommandLine;
        using prepay::sim::pay::PayCommandLine;
        const PayCommandLine ok = parsePayCommandLine(QStringLiteral("prepay-sim pay"),
            {QStringLiteral("--port"), QStringLiteral("9000"), QStringLiteral("--plain"),
                QStringLiteral("--time-scale"), QStringLiteral("0.5"), QStringLiteral("--public-url"),
                QStringLiteral("http://192.168.1.5:9000")});
        QCOMPARE(ok.outcome, PayCommandLine::Outcome::Run);
        QCOMPARE(ok.config.port, quint16(9000));
        QVERIFY(ok.config.plain);
        QCOMPARE(ok.config.timeScale, 0.5);
        QVERIFY(!ok.config.keysDir.isEmpty());
        for (const QStringList &bad :
            {QStringList{QStringLiteral("--port"), QStringLiteral("70000")}, QStringList{QStringLiteral("--bogus")},
                QStringList{QStringLiteral("--listen"), QStringLiteral("nowhere")},
                QStringList{QStringLiteral("--time-scale")},
                QStringList{QStringLiteral("--public-url"), QStringLiteral("ftp://x")}}) {
            const PayCommandLine c = parsePayCommandLine(QStringLiteral("prepay-sim pay"), bad);
            QCOMPARE(c.outcome, PayCommandLine::Outcome::Error);
            QCOMPARE(c.exitCode(), 64);
            QVERIFY(c.text.contains(u"prepay-sim pay"));
        }
    }

    void alipayScanPayNotify()
    {
        const QString otn = QStringLiteral("K2611240001");
        const QJsonObject created = precreate(otn, QStringLiteral("12.34"));
        QCOMPARE(created.value(QStringLiteral("code")).toString(), QStringLiteral("10000"));
        const QString qr = created.value(QStringLiteral("qr_code")).toString();
        QVERIFY2(qr.startsWith(base() + QStringLiteral("/pay/")), qPrintable(qr));

        // Identical retry: the same QR; changed parameters: CONTEXT_INCONSISTENT.
        QCOMPARE(precreate(otn, QStringLiteral("12.34")).value(QStringLiteral("qr_code")).toString(), qr);
        const QJsonObject conflict = precreate(otn, QStringLiteral("12.35"));
        QCOMPARE(conflict.value(QStringLiteral("code")).toString(), QStringLiteral("40004"));
        QCOMPARE(conflict.value(QStringLiteral("sub_code")).toString(), QStringLiteral("ACQ.CONTEXT_INCONSISTENT"));

        QCOMPARE(alipayQuery(otn).value(QStringLiteral("sub_code")).toString(), QStringLiteral("ACQ.TRADE_NOT_EXIST"));

        const Reply page = send("GET", qr.toUtf8(), {});
        QCOMPARE(page.status, 200);
        const QString html = QString::fromUtf8(page.body);
        QVERIFY(html.contains(u"name=\"viewport\""));
        QVERIFY(html.contains(u"id=\"pay\""));
        QVERIFY(html.contains(u"id=\"cancel\""));
        QVERIFY(html.contains(u"12.34"));
        QVERIFY(html.contains(u"prepay sandbox merchant"));
        QVERIFY(html.contains(u"电费充值 top-up"));

        const QJsonObject waiting = alipayQuery(otn);
        QCOMPARE(waiting.value(QStringLiteral("code")).toString(), QStringLiteral("10000"));
        QCOMPARE(waiting.value(QStringLiteral("trade_status")).toString(), QStringLiteral("WAIT_BUYER_PAY"));

        m_failFirst = 2; // "fail", "fail", then "success"
        const Reply paid = send("POST", qr.toUtf8() + "/pay", {});
        QCOMPARE(paid.status, 200);
        QVERIFY(QString::fromUtf8(paid.body).contains(u"支付成功 / Paid"));
        QVERIFY(QString::fromUtf8(paid.body).contains(u"id=\"result\""));

        const QJsonObject success = alipayQuery(otn);
        QCOMPARE(success.value(QStringLiteral("trade_status")).toString(), QStringLiteral("TRADE_SUCCESS"));
        QCOMPARE(success.value(QStringLiteral("total_amount")).toString(), QStringLiteral("12.34"));

        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 3, 10000);
        QTest::qWait(300); // no fourth delivery after the acknowledgement (next would be at +600 ms)
        QCOMPARE(m_received.size(), 3);
        for (const Received &r : std::as_const(m_received)) {
            QVERIFY(r.header("Content-Type").startsWith("application/x-www-form-urlencoded"));
            const std::optional<FormFields> f = formDecode(r.body);
            QVERIFY(f);
            const std::optional<QByteArray> toSign = alipayStringToSign(*f, AlipaySignScope::Notification);
            QVERIFY(toSign);
            QCOMPARE(verifyRsaSha256(m_alipayPlatform, *toSign, field(*f, "sign")), VerifyStatus::Valid);
            QCOMPARE(field(*f, "trade_status"), QByteArray("TRADE_SUCCESS"));
            QCOMPARE(field(*f, "total_amount"), QByteArray("12.34"));
            QCOMPARE(field(*f, "app_id"), QByteArray("2021000000000001"));
            QCOMPARE(field(*f, "seller_id"), QByteArray("2088000000000001"));
            QCOMPARE(field(*f, "notify_type"), QByteArray("trade_status_sync"));
            QCOMPARE(field(*f, "out_trade_no"), otn.toUtf8());
            QVERIFY(QJsonDocument::fromJson(field(*f, "fund_bill_list")).isArray());
        }
        const QJsonArray log = QJsonDocument::fromJson(control("GET", "notifies").body)
                                   .object()
                                   .value(QStringLiteral("notifies"))
                                   .toArray();
        QCOMPARE(log.size(), 3);
        QCOMPARE(log.at(2).toObject().value(QStringLiteral("attempt")).toInt(), 3);
        QVERIFY(log.at(2).toObject().value(QStringLiteral("acknowledged")).toBool());
        QVERIFY(!log.at(0).toObject().value(QStringLiteral("acknowledged")).toBool());

        // T8: the same out_trade_no is not paid twice.
        QCOMPARE(send("POST", qr.toUtf8() + "/pay", {}).status, 409);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{
                         {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), otn}})
                     .status,
            409);
    }

    void alipayInvalidSignature()
    {
        FormFields f = alipayRequest("alipay.trade.precreate",
            QJsonObject{{QStringLiteral("out_trade_no"), QStringLiteral("K2611240002")},
                {QStringLiteral("total_amount"), QStringLiteral("1.00")},
                {QStringLiteral("subject"), QStringLiteral("x")}});
        for (auto &[k, v] : f) {
            if (k == "biz_content")
                v.replace("1.00", "9.00"); // one byte changed after signing
        }
        bool valid = false;
        const QJsonObject node = alipayPost(f, "alipay.trade.precreate", &valid);
        QVERIFY(valid); // the error answer is signed too
        QCOMPARE(node.value(QStringLiteral("code")).toString(), QStringLiteral("40002"));
        QCOMPARE(node.value(QStringLiteral("sub_code")).toString(), QStringLiteral("isv.invalid-signature"));
        const QJsonArray orders
            = QJsonDocument::fromJson(control("GET", "orders").body).object().value(QStringLiteral("orders")).toArray();
        QCOMPARE(orders.size(), 0);
    }

    void alipayCloseThenPayRefused()
    {
        const QString otn = QStringLiteral("K2611240003");
        const QString qr = precreate(otn).value(QStringLiteral("qr_code")).toString();
        QVERIFY(!qr.isEmpty());
        QCOMPARE(control("POST", "scan",
                     QJsonObject{
                         {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), otn}})
                     .status,
            200);
        const QJsonObject closed = alipay("alipay.trade.close", QJsonObject{{QStringLiteral("out_trade_no"), otn}});
        QCOMPARE(closed.value(QStringLiteral("code")).toString(), QStringLiteral("10000"));
        QCOMPARE(alipayQuery(otn).value(QStringLiteral("trade_status")).toString(), QStringLiteral("TRADE_CLOSED"));
        const Reply refused = send("POST", qr.toUtf8() + "/pay", {});
        QCOMPARE(refused.status, 409);
        QVERIFY(QString::fromUtf8(refused.body).contains(u"id=\"result\""));
        QCOMPARE(alipayQuery(otn).value(QStringLiteral("trade_status")).toString(), QStringLiteral("TRADE_CLOSED"));
        QCOMPARE(m_received.size(), 0);

        // Cancel: retry_flag=Y once under the fault, then action=close.
        const QString otn2 = QStringLiteral("K2611240004");
        precreate(otn2);
        QCOMPARE(control("POST", "scan",
                     QJsonObject{
                         {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), otn2}})
                     .status,
            200);
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("alipay_cancel_retry"), true}}).status, 200);
        const QJsonObject first = alipay("alipay.trade.cancel", QJsonObject{{QStringLiteral("out_trade_no"), otn2}});
        QCOMPARE(first.value(QStringLiteral("retry_flag")).toString(), QStringLiteral("Y"));
        const QJsonObject second = alipay("alipay.trade.cancel", QJsonObject{{QStringLiteral("out_trade_no"), otn2}});
        QCOMPARE(second.value(QStringLiteral("retry_flag")).toString(), QStringLiteral("N"));
        QCOMPARE(second.value(QStringLiteral("action")).toString(), QStringLiteral("close"));

        // An unknown fault is refused by name.
        const Reply bad = control("POST", "faults", QJsonObject{{QStringLiteral("no_such_fault"), 1}});
        QCOMPARE(bad.status, 400);
        QVERIFY(bad.body.contains("no_such_fault"));
    }

    void alipayRefundAndBill()
    {
        const QString otn = QStringLiteral("K2611240005");
        precreate(otn, QStringLiteral("2.00"));
        QCOMPARE(control("POST", "pay",
                     QJsonObject{
                         {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), otn}})
                     .status,
            200);
        const QJsonObject refundBiz{{QStringLiteral("out_trade_no"), otn},
            {QStringLiteral("refund_amount"), QStringLiteral("0.50")},
            {QStringLiteral("out_request_no"), QStringLiteral("R1")}};
        const QJsonObject r1 = alipay("alipay.trade.refund", refundBiz);
        QCOMPARE(r1.value(QStringLiteral("fund_change")).toString(), QStringLiteral("Y"));
        QCOMPARE(r1.value(QStringLiteral("refund_fee")).toString(), QStringLiteral("0.50"));
        const QJsonObject again = alipay("alipay.trade.refund", refundBiz);
        QCOMPARE(again.value(QStringLiteral("fund_change")).toString(), QStringLiteral("N"));
        QCOMPARE(again.value(QStringLiteral("refund_fee")).toString(), QStringLiteral("0.50"));
        const QJsonObject tooMuch = alipay("alipay.trade.refund",
            QJsonObject{{QStringLiteral("out_trade_no"), otn},
                {QStringLiteral("refund_amount"), QStringLiteral("1.51")},
                {QStringLiteral("out_request_no"), QStringLiteral("R2")}});
        QCOMPARE(tooMuch.value(QStringLiteral("code")).toString(), QStringLiteral("40004"));
        const QJsonObject rq = alipay("alipay.trade.fastpay.refund.query",
            QJsonObject{
                {QStringLiteral("out_trade_no"), otn}, {QStringLiteral("out_request_no"), QStringLiteral("R1")}});
        QCOMPARE(rq.value(QStringLiteral("refund_status")).toString(), QStringLiteral("REFUND_SUCCESS"));

        QCOMPARE(control("POST", "bill/extra",
                     QJsonObject{{QStringLiteral("channel"), QStringLiteral("alipay")},
                         {QStringLiteral("out_trade_no"), QStringLiteral("K2611249999")},
                         {QStringLiteral("amount_fen"), 777}})
                     .status,
            200);
        const QString today
            = QDateTime::currentDateTimeUtc().addSecs(8 * 3600).date().toString(QStringLiteral("yyyy-MM-dd"));
        const QJsonObject urlNode = alipay("alipay.data.dataservice.bill.downloadurl.query",
            QJsonObject{{QStringLiteral("bill_type"), QStringLiteral("trade")}, {QStringLiteral("bill_date"), today}});
        const QString url = urlNode.value(QStringLiteral("bill_download_url")).toString();
        QVERIFY2(url.startsWith(base() + QStringLiteral("/sandbox-bill/alipay/")), qPrintable(url));
        const Reply zip = send("GET", url.toUtf8(), {});
        QCOMPARE(zip.status, 200);

        // One stored entry: local header, name, data; CRC and sizes as recorded.
        const QByteArray z = zip.body;
        QVERIFY(z.size() > 30);
        QCOMPARE(le(z, 0, 4), 0x04034b50u);
        QCOMPARE(le(z, 8, 2), 0u); // stored
        const quint32 crc = le(z, 14, 4);
        const quint32 size = le(z, 18, 4);
        const quint32 nameLen = le(z, 26, 2);
        const quint32 extraLen = le(z, 28, 2);
        const QString name = QString::fromUtf8(z.mid(30, nameLen));
        QCOMPARE(name, QStringLiteral("20881234567890120156_%1_业务明细.csv").arg(QString(today).remove(u'-')));
        const QByteArray csv = z.mid(30 + nameLen + extraLen, size);
        QCOMPARE(quint32(csv.size()), size);
        QCOMPARE(crc32Of(csv), crc);
        QVERIFY(z.contains(QByteArray::fromHex("504b0506")));               // end of central directory
        QVERIFY(!csv.contains("支付宝"));                                   // not UTF-8 …
        const std::optional<QString> text = prepay::sim::pay::fromGbk(csv); // … but GBK
        QVERIFY(text);
        const QStringList lines = text->split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
        QCOMPARE(lines.value(0), QStringLiteral("#支付宝业务明细查询"));
        QCOMPARE(lines.value(1), QStringLiteral("#账号：[2088000000000001]"));
        QVERIFY(lines.value(4).startsWith(u"支付宝交易号,商户订单号,业务类型"));
        QCOMPARE(lines.value(4).split(u',').size(), 25);
        QVERIFY(text->contains(otn + QStringLiteral(",交易,")));
        QVERIFY(text->contains(otn + QStringLiteral(",退款,")));
        QVERIFY(text->contains(u"-0.50"));
        QVERIFY(text->contains(u"K2611249999"));
        QVERIFY(text->contains(QStringLiteral("#交易合计：2笔，商家实收共9.77元")));
        QVERIFY(text->contains(QStringLiteral("#退款合计：1笔")));
    }

    void http5xxAppliesThenFails()
    {
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("http_5xx"), 1}}).status, 200);
        const QByteArray method = "alipay.trade.precreate";
        const FormFields request = alipayRequest(method,
            QJsonObject{{QStringLiteral("out_trade_no"), QStringLiteral("K2611240006")},
                {QStringLiteral("total_amount"), QStringLiteral("1.00")},
                {QStringLiteral("subject"), QStringLiteral("x")}});
        const Reply failed = send("POST", (base() + QStringLiteral("/gateway.do")).toUtf8(), formEncode(request),
            {{"Content-Type", "application/x-www-form-urlencoded;charset=utf-8"}});
        QCOMPARE(failed.status, 500);
        const QJsonArray orders
            = QJsonDocument::fromJson(control("GET", "orders").body).object().value(QStringLiteral("orders")).toArray();
        QCOMPARE(orders.size(), 1); // applied
        const QJsonObject retried = alipayPost(request, method);
        QCOMPARE(retried.value(QStringLiteral("code")).toString(), QStringLiteral("10000"));
        QCOMPARE(retried.value(QStringLiteral("qr_code")).toString(),
            orders.at(0).toObject().value(QStringLiteral("pay_url")).toString());
    }

    void wechatCreateQueryClose()
    {
        const QByteArray body = nativeBody(QStringLiteral("W2611240001"), 8888);
        const Reply created = wechat("POST", "/v3/pay/transactions/native", body);
        QCOMPARE(created.status, 200);
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, created));
        QVERIFY(!created.header("Request-ID").isEmpty());
        const QString codeUrl
            = QJsonDocument::fromJson(created.body).object().value(QStringLiteral("code_url")).toString();
        QVERIFY(codeUrl.startsWith(base() + QStringLiteral("/pay/")));

        const Reply retry = wechat("POST", "/v3/pay/transactions/native", body);
        QCOMPARE(retry.status, 200);
        QCOMPARE(QJsonDocument::fromJson(retry.body).object().value(QStringLiteral("code_url")).toString(), codeUrl);
        const Reply used
            = wechat("POST", "/v3/pay/transactions/native", nativeBody(QStringLiteral("W2611240001"), 8889));
        QCOMPARE(used.status, 400);
        QCOMPARE(QJsonDocument::fromJson(used.body).object().value(QStringLiteral("code")).toString(),
            QStringLiteral("OUT_TRADE_NO_USED"));

        const Reply query = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240001?mchid=1900000109");
        QCOMPARE(query.status, 200);
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, query));
        QCOMPARE(QJsonDocument::fromJson(query.body).object().value(QStringLiteral("trade_state")).toString(),
            QStringLiteral("NOTPAY"));

        const Reply closed
            = wechat("POST", "/v3/pay/transactions/out-trade-no/W2611240001/close", R"({"mchid":"1900000109"})");
        QCOMPARE(closed.status, 204);
        QVERIFY(closed.body.isEmpty());
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, closed));
        QVERIFY(!wechatReplySignedBy(m_wechatPlatform2, closed));
        const Reply after = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240001?mchid=1900000109");
        QCOMPARE(QJsonDocument::fromJson(after.body).object().value(QStringLiteral("trade_state")).toString(),
            QStringLiteral("CLOSED"));
        QCOMPARE(send("POST", codeUrl.toUtf8() + "/pay", {}).status, 409); // P6

        const Reply unauthorised
            = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240001?mchid=1900000109", {}, false);
        QCOMPARE(unauthorised.status, 401);
        QCOMPARE(QJsonDocument::fromJson(unauthorised.body).object().value(QStringLiteral("code")).toString(),
            QStringLiteral("SIGN_ERROR"));
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, unauthorised));
        const Reply noAuth
            = send("GET", base().toUtf8() + "/v3/pay/transactions/out-trade-no/W2611240001?mchid=1900000109", {});
        QCOMPARE(noAuth.status, 401);

        QCOMPARE(
            control("POST", "faults", QJsonObject{{QStringLiteral("wechat_sign_with"), QStringLiteral("platform-2")}})
                .status,
            200);
        const Reply second = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240001?mchid=1900000109");
        QVERIFY(wechatReplySignedBy(m_wechatPlatform2, second));
        QVERIFY(!wechatReplySignedBy(m_wechatPlatform1, second));
    }

    void wechatNotifyDuplicates()
    {
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("duplicate_notifies"), 2}}).status, 200);
        QCOMPARE(
            wechat("POST", "/v3/pay/transactions/native", nativeBody(QStringLiteral("W2611240002"), 500)).status, 200);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{{QStringLiteral("channel"), QStringLiteral("wechat")},
                         {QStringLiteral("out_trade_no"), QStringLiteral("W2611240002")}})
                     .status,
            200);
        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 3, 10000); // the notify and two copies
        QTest::qWait(100);
        QCOMPARE(m_received.size(), 3);
        const QByteArray apiV3Key = readKeyFile("wechat-apiv3.txt").trimmed();
        for (const Received &r : std::as_const(m_received)) {
            QVERIFY(wechatSignedBy(m_wechatPlatform1, r.header("Wechatpay-Timestamp"), r.header("Wechatpay-Nonce"),
                r.header("Wechatpay-Serial"), r.header("Wechatpay-Signature"), r.body));
            const QJsonObject envelope = QJsonDocument::fromJson(r.body).object();
            QCOMPARE(envelope.value(QStringLiteral("event_type")).toString(), QStringLiteral("TRANSACTION.SUCCESS"));
            const QJsonObject resource = envelope.value(QStringLiteral("resource")).toObject();
            QCOMPARE(resource.value(QStringLiteral("nonce")).toString().size(), 12);
            const GcmOpened opened = aesGcmOpen(apiV3Key, resource.value(QStringLiteral("nonce")).toString().toUtf8(),
                resource.value(QStringLiteral("associated_data")).toString().toUtf8(),
                decodeBase64Strict(resource.value(QStringLiteral("ciphertext")).toString().toUtf8())
                    .value_or(QByteArray()));
            QCOMPARE(opened.status, GcmStatus::Opened);
            const QJsonObject txn = QJsonDocument::fromJson(opened.plaintext).object();
            QCOMPARE(txn.value(QStringLiteral("out_trade_no")).toString(), QStringLiteral("W2611240002"));
            QCOMPARE(txn.value(QStringLiteral("trade_state")).toString(), QStringLiteral("SUCCESS"));
            QCOMPARE(txn.value(QStringLiteral("mchid")).toString(), QStringLiteral("1900000109"));
            QCOMPARE(txn.value(QStringLiteral("amount")).toObject().value(QStringLiteral("total")).toInt(), 500);
        }
    }

    void wechatCertificatesAndBill()
    {
        const Reply certs = wechat("GET", "/v3/certificates");
        QCOMPARE(certs.status, 200);
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, certs));
        const QJsonArray data = QJsonDocument::fromJson(certs.body).object().value(QStringLiteral("data")).toArray();
        QCOMPARE(data.size(), 2);
        const QByteArray apiV3Key = readKeyFile("wechat-apiv3.txt").trimmed();
        QSet<QByteArray> serials;
        for (const QJsonValue &v : data) {
            const QJsonObject e = v.toObject().value(QStringLiteral("encrypt_certificate")).toObject();
            QCOMPARE(e.value(QStringLiteral("associated_data")).toString(), QStringLiteral("certificate"));
            const GcmOpened opened = aesGcmOpen(apiV3Key, e.value(QStringLiteral("nonce")).toString().toUtf8(),
                "certificate",
                decodeBase64Strict(e.value(QStringLiteral("ciphertext")).toString().toUtf8()).value_or(QByteArray()));
            QCOMPARE(opened.status, GcmStatus::Opened);
            const Certificate cert = Certificate::load(opened.plaintext);
            QVERIFY(!cert.isNull());
            QCOMPARE(cert.serialHex(), v.toObject().value(QStringLiteral("serial_no")).toString().toUtf8());
            serials.insert(cert.serialHex());
        }
        QVERIFY(serials.contains(m_wechatPlatform1.serialHex()));
        QVERIFY(serials.contains(m_wechatPlatform2.serialHex()));

        QCOMPARE(
            wechat("POST", "/v3/pay/transactions/native", nativeBody(QStringLiteral("W2611240003"), 1234)).status, 200);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{{QStringLiteral("channel"), QStringLiteral("wechat")},
                         {QStringLiteral("out_trade_no"), QStringLiteral("W2611240003")}})
                     .status,
            200);
        const QByteArray today
            = QDateTime::currentDateTimeUtc().addSecs(8 * 3600).date().toString(QStringLiteral("yyyy-MM-dd")).toUtf8();
        const Reply bill = wechat("GET", "/v3/bill/tradebill?bill_date=" + today + "&bill_type=ALL");
        QCOMPARE(bill.status, 200);
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, bill));
        const QJsonObject meta = QJsonDocument::fromJson(bill.body).object();
        QCOMPARE(meta.value(QStringLiteral("hash_type")).toString(), QStringLiteral("SHA1"));
        const QByteArray url = meta.value(QStringLiteral("download_url")).toString().toUtf8();
        QVERIFY(url.startsWith(QByteArray(base().toUtf8() + "/sandbox-bill/wechat/")));
        const QByteArray path = url.mid(base().toUtf8().size());
        QCOMPARE(send("GET", url, {}).status, 401); // the download needs a signed request
        const Reply file = wechat("GET", path);
        QCOMPARE(file.status, 200);
        QVERIFY(file.header("Wechatpay-Signature").isEmpty()); // the file is not signed
        QCOMPARE(prepay::sim::pay::sha1Hex(file.body), meta.value(QStringLiteral("hash_value")).toString().toUtf8());
        const QString text = QString::fromUtf8(file.body);
        QVERIFY(text.startsWith(u"交易时间,公众账号ID,商户号"));
        QVERIFY(text.contains(u"`W2611240003,"));
        QVERIFY(text.contains(u"`SUCCESS,"));
        QVERIFY(text.contains(u"`12.34,"));
        QVERIFY(text.contains(u"总交易单数,应结订单总金额"));
        QVERIFY(text.contains(u"`1,`12.34,`0.00"));
    }

    void unionpayCreateQueryNotify()
    {
        const QByteArray txnTime
            = QDateTime::currentDateTimeUtc().addSecs(8 * 3600).toString(QStringLiteral("yyyyMMddHHmmss")).toUtf8();
        FormFields create = unionpayCommon("U2611240001", txnTime);
        create.emplace_back("txnType", "01");
        create.emplace_back("txnSubType", "07");
        create.emplace_back("channelType", "08");
        create.emplace_back("txnAmt", "4321");
        create.emplace_back("currencyCode", "156");
        create.emplace_back("backUrl", notifyUrl("unionpay"));
        // An hour from now in Beijing time (a fixed date here would expire the order one day).
        const QByteArray payTimeout
            = QDateTime::currentDateTimeUtc().addSecs(9 * 3600).toString(QStringLiteral("yyyyMMddHHmmss")).toUtf8();
        create.emplace_back("payTimeout", payTimeout);
        const std::optional<FormFields> created = unionpayPost("/gateway/api/backTransReq.do", unionpaySign(create));
        QVERIFY(created);
        QCOMPARE(field(*created, "respCode"), QByteArray("00"));
        QCOMPARE(field(*created, "orderId"), QByteArray("U2611240001"));
        QVERIFY(field(*created, "qrCode").startsWith(QByteArray(base().toUtf8() + "/pay/")));

        FormFields query = unionpayCommon("U2611240001", txnTime);
        query.emplace_back("txnType", "00");
        query.emplace_back("txnSubType", "00");
        query.emplace_back("channelType", "07");
        const std::optional<FormFields> waiting = unionpayPost("/gateway/api/queryTrans.do", unionpaySign(query));
        QVERIFY(waiting);
        QCOMPARE(field(*waiting, "respCode"), QByteArray("00"));
        QCOMPARE(field(*waiting, "origRespCode"), QByteArray("05"));

        m_failFirst = 1;
        QCOMPARE(send("POST", field(*created, "qrCode") + "/pay", {}).status, 200);
        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 2, 10000); // failed once, then acknowledged
        for (const Received &r : std::as_const(m_received)) {
            const std::optional<FormFields> f = formDecode(r.body);
            QVERIFY(f);
            QVERIFY(unionpaySignedBySandbox(*f));
            QCOMPARE(field(*f, "respCode"), QByteArray("00"));
            QCOMPARE(field(*f, "txnAmt"), QByteArray("4321"));
            QCOMPARE(field(*f, "merId"), QByteArray("777290058110048"));
            QCOMPARE(field(*f, "orderId"), QByteArray("U2611240001"));
        }
        const std::optional<FormFields> paid = unionpayPost("/gateway/api/queryTrans.do", unionpaySign(query));
        QVERIFY(paid);
        QCOMPARE(field(*paid, "origRespCode"), QByteArray("00"));
        QVERIFY(!field(*paid, "queryId").isEmpty());

        FormFields tampered = unionpaySign(query);
        for (auto &[k, v] : tampered) {
            if (k == "orderId")
                v = "U2611240009";
        }
        const std::optional<FormFields> refused = unionpayPost("/gateway/api/queryTrans.do", tampered);
        QVERIFY(refused);
        QCOMPARE(field(*refused, "respCode"), QByteArray("11"));

        FormFields unknown = unionpayCommon("U2611240404", txnTime);
        unknown.emplace_back("txnType", "00");
        unknown.emplace_back("txnSubType", "00");
        unknown.emplace_back("channelType", "07");
        const std::optional<FormFields> notFound = unionpayPost("/gateway/api/queryTrans.do", unionpaySign(unknown));
        QVERIFY(notFound);
        QCOMPARE(field(*notFound, "respCode"), QByteArray("34"));
    }

    void timingFaults()
    {
        // timeout_ms: the effect is applied, the answer comes late.
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("timeout_ms"), 400}}).status, 200);
        QElapsedTimer timer;
        timer.start();
        const Reply slow
            = wechat("POST", "/v3/pay/transactions/native", nativeBody(QStringLiteral("W2611240010"), 100));
        QVERIFY2(timer.elapsed() >= 380, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(slow.status, 200);
        timer.restart();
        QCOMPARE(wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240010?mchid=1900000109").status, 200);
        QVERIFY(timer.elapsed() < 380); // only the next call stalls

        // clock_skew_ms shifts the signing timestamps (T9).
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("clock_skew_ms"), 360000}}).status, 200);
        const Reply skewed = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240010?mchid=1900000109");
        const qint64 skew = skewed.header("Wechatpay-Timestamp").toLongLong() - QDateTime::currentSecsSinceEpoch();
        QVERIFY2(skew >= 358 && skew <= 362, qPrintable(QString::number(skew)));
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, skewed)); // still a valid signature

        // notify_before_query_ms: the notify goes at once, query still says NOTPAY for a while.
        QCOMPARE(control("POST", "faults",
                     QJsonObject{{QStringLiteral("clock_skew_ms"), 0}, {QStringLiteral("notify_before_query_ms"), 600}})
                     .status,
            200);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{{QStringLiteral("channel"), QStringLiteral("wechat")},
                         {QStringLiteral("out_trade_no"), QStringLiteral("W2611240010")}})
                     .status,
            200);
        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 1, 5000);
        const auto state = [this]() {
            const Reply r = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240010?mchid=1900000109");
            return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("trade_state")).toString();
        };
        QCOMPARE(state(), QStringLiteral("NOTPAY"));
        QTRY_COMPARE_WITH_TIMEOUT(state(), QStringLiteral("SUCCESS"), 5000);
    }

    void notifyOffAndLateSuccess()
    {
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("notify"), QStringLiteral("off")}}).status, 200);
        QCOMPARE(
            wechat("POST", "/v3/pay/transactions/native", nativeBody(QStringLiteral("W2611240011"), 100)).status, 200);
        QCOMPARE(
            wechat("POST", "/v3/pay/transactions/out-trade-no/W2611240011/close", R"({"mchid":"1900000109"})").status,
            204);
        const QJsonObject payIt{{QStringLiteral("channel"), QStringLiteral("wechat")},
            {QStringLiteral("out_trade_no"), QStringLiteral("W2611240011")}};
        QCOMPARE(control("POST", "pay", payIt).status, 409);
        QCOMPARE(
            control("POST", "faults", QJsonObject{{QStringLiteral("late_success_after_close"), true}}).status, 200);
        QCOMPARE(control("POST", "pay", payIt).status, 200); // H12: the late success
        const Reply query = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240011?mchid=1900000109");
        QCOMPARE(QJsonDocument::fromJson(query.body).object().value(QStringLiteral("trade_state")).toString(),
            QStringLiteral("SUCCESS"));
        QTest::qWait(200);
        QCOMPARE(m_received.size(), 0); // notify off: polling only
    }

    void deadlines()
    {
        // WeChat time_expire in the past: the order is closed when looked at; paying is refused.
        QJsonObject body = QJsonDocument::fromJson(nativeBody(QStringLiteral("W2611240012"), 100)).object();
        body.insert(QStringLiteral("time_expire"),
            QDateTime::currentDateTimeUtc()
                .addSecs(8 * 3600 + 1)
                .toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss+08:00")));
        QCOMPARE(
            wechat("POST", "/v3/pay/transactions/native", QJsonDocument(body).toJson(QJsonDocument::Compact)).status,
            200);
        const auto state = [this]() {
            const Reply r = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240012?mchid=1900000109");
            return QJsonDocument::fromJson(r.body).object().value(QStringLiteral("trade_state")).toString();
        };
        QCOMPARE(state(), QStringLiteral("NOTPAY"));
        QTRY_COMPARE_WITH_TIMEOUT(state(), QStringLiteral("CLOSED"), 5000);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{{QStringLiteral("channel"), QStringLiteral("wechat")},
                         {QStringLiteral("out_trade_no"), QStringLiteral("W2611240012")}})
                     .status,
            409);

        // A malformed timeout_express is refused, a stale Alipay timestamp too.
        const QJsonObject bad = alipay("alipay.trade.precreate",
            QJsonObject{{QStringLiteral("out_trade_no"), QStringLiteral("K2611240012")},
                {QStringLiteral("total_amount"), QStringLiteral("1.00")},
                {QStringLiteral("subject"), QStringLiteral("x")},
                {QStringLiteral("timeout_express"), QStringLiteral("1.5h")}});
        QCOMPARE(bad.value(QStringLiteral("sub_code")).toString(), QStringLiteral("isv.invalid-parameter"));
        FormFields stale
            = alipayRequest("alipay.trade.query", QJsonObject{{QStringLiteral("out_trade_no"), QStringLiteral("x")}});
        for (auto &[k, v] : stale) {
            if (k == "timestamp")
                v = "2020-01-01 00:00:00";
            if (k == "sign")
                v.clear();
        }
        stale.removeIf([](const auto &kv) { return kv.first == "sign"; });
        stale.emplace_back("sign",
            encodeBase64(
                signRsaSha256(m_alipayApp, alipayStringToSign(stale, AlipaySignScope::Request).value()).value()));
        QCOMPARE(alipayPost(stale, "alipay.trade.query").value(QStringLiteral("sub_code")).toString(),
            QStringLiteral("isv.invalid-timestamp"));
    }

    void executable()
    {
        const QString binary = qEnvironmentVariable("PREPAY_BIN_DIR") + QStringLiteral("/prepay-sim");
        QVERIFY2(QFile::exists(binary), qPrintable(binary + QStringLiteral(" (PREPAY_BIN_DIR is set by CTest)")));
        QProcess bad;
        bad.start(binary, {QStringLiteral("pay"), QStringLiteral("--port"), QStringLiteral("nope")});
        QVERIFY(bad.waitForFinished(10000));
        QCOMPARE(bad.exitCode(), 64);
        QVERIFY(bad.readAllStandardError().contains("--port"));

        QProcess p;
        p.start(
            binary, {QStringLiteral("pay"), QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--plain")});
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += p.readAllStandardOutput()).contains("\nready\n"), 10000);
        QVERIFY2(out.startsWith("pay sandbox http://127.0.0.1:"), out.constData());
        QVERIFY(
            out.contains("(alipay /gateway.do, wechat /v3, unionpay /gateway/api, pay pages /pay, control /sandbox)"));
        p.terminate();
        QVERIFY(p.waitForFinished(10000));
    }

    void wechatRefundAndPublicKey()
    {
        QCOMPARE(
            wechat("POST", "/v3/pay/transactions/native", nativeBody(QStringLiteral("W2611240020"), 1000)).status, 200);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{{QStringLiteral("channel"), QStringLiteral("wechat")},
                         {QStringLiteral("out_trade_no"), QStringLiteral("W2611240020")}})
                     .status,
            200);
        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 1, 5000);
        const QByteArray refundBody
            = QJsonDocument(QJsonObject{{QStringLiteral("out_trade_no"), QStringLiteral("W2611240020")},
                                {QStringLiteral("out_refund_no"), QStringLiteral("RF1")},
                                {QStringLiteral("notify_url"), QString::fromUtf8(notifyUrl("wechat"))},
                                {QStringLiteral("amount"),
                                    QJsonObject{{QStringLiteral("refund"), 300}, {QStringLiteral("total"), 1000},
                                        {QStringLiteral("currency"), QStringLiteral("CNY")}}}})
                  .toJson(QJsonDocument::Compact);
        const Reply refund = wechat("POST", "/v3/refund/domestic/refunds", refundBody);
        QCOMPARE(refund.status, 200);
        QVERIFY(wechatReplySignedBy(m_wechatPlatform1, refund));
        const QJsonObject r = QJsonDocument::fromJson(refund.body).object();
        QCOMPARE(r.value(QStringLiteral("status")).toString(), QStringLiteral("SUCCESS"));
        QCOMPARE(r.value(QStringLiteral("amount")).toObject().value(QStringLiteral("refund")).toInt(), 300);
        const Reply again = wechat("POST", "/v3/refund/domestic/refunds", refundBody); // idempotent by out_refund_no
        QCOMPARE(QJsonDocument::fromJson(again.body).object().value(QStringLiteral("refund_id")),
            r.value(QStringLiteral("refund_id")));
        const Reply queried = wechat("GET", "/v3/refund/domestic/refunds/RF1");
        QCOMPARE(queried.status, 200);
        QCOMPARE(QJsonDocument::fromJson(queried.body).object().value(QStringLiteral("refund_id")),
            r.value(QStringLiteral("refund_id")));
        QCOMPARE(wechat("GET", "/v3/refund/domestic/refunds/RF404").status, 404);
        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 2, 5000); // one REFUND.SUCCESS, not two
        QTest::qWait(100);
        QCOMPARE(m_received.size(), 2);
        QCOMPARE(QJsonDocument::fromJson(m_received.at(1).body).object().value(QStringLiteral("event_type")).toString(),
            QStringLiteral("REFUND.SUCCESS"));
        const QJsonArray orders
            = QJsonDocument::fromJson(control("GET", "orders").body).object().value(QStringLiteral("orders")).toArray();
        QCOMPARE(orders.at(0).toObject().value(QStringLiteral("refunded_fen")).toInt(), 300);
        QCOMPARE(orders.at(0).toObject().value(QStringLiteral("notifies_acknowledged")).toInt(), 2);

        // The "WeChat Pay public key" mode: serial = PUB_KEY_ID_…, verifies with wechat-pubkey.pub.
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("wechat_sign_with"), QStringLiteral("pubkey")}})
                     .status,
            200);
        const Reply byKey = wechat("GET", "/v3/pay/transactions/out-trade-no/W2611240020?mchid=1900000109");
        QCOMPARE(byKey.header("Wechatpay-Serial"), readKeyFile("wechat-pubkey-id.txt").trimmed());
        QVERIFY(byKey.header("Wechatpay-Serial").startsWith("PUB_KEY_ID_"));
        QCOMPARE(
            verifyRsaSha256(PublicKey::load(readKeyFile("wechat-pubkey.pub")),
                wechatResponseMessage(byKey.header("Wechatpay-Timestamp"), byKey.header("Wechatpay-Nonce"), byKey.body)
                    .value(),
                byKey.header("Wechatpay-Signature")),
            VerifyStatus::Valid);
    }

    void alipayOutOfOrder()
    {
        QCOMPARE(control("POST", "faults", QJsonObject{{QStringLiteral("out_of_order"), true}}).status, 200);
        const QString otn = QStringLiteral("K2611240021");
        precreate(otn);
        QCOMPARE(control("POST", "pay",
                     QJsonObject{
                         {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), otn}})
                     .status,
            200);
        QTRY_COMPARE_WITH_TIMEOUT(m_received.size(), 2, 5000);
        const FormFields first = formDecode(m_received.at(0).body).value();
        const FormFields second = formDecode(m_received.at(1).body).value();
        QCOMPARE(field(first, "trade_status"), QByteArray("TRADE_SUCCESS"));
        QCOMPARE(field(second, "trade_status"), QByteArray("WAIT_BUYER_PAY"));
        QCOMPARE(verifyRsaSha256(m_alipayPlatform, alipayStringToSign(second, AlipaySignScope::Notification).value(),
                     field(second, "sign")),
            VerifyStatus::Valid);
    }

    void badSignatureAndAmountFaults()
    {
        QCOMPARE(control("POST", "faults",
                     QJsonObject{{QStringLiteral("bad_signature"), true}, {QStringLiteral("amount_mismatch_fen"), 5}})
                     .status,
            200);
        const QString otn = QStringLiteral("K2611240007");
        precreate(otn, QStringLiteral("1.00"));
        QCOMPARE(control("POST", "pay",
                     QJsonObject{
                         {QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), otn}})
                     .status,
            200);
        QTRY_VERIFY_WITH_TIMEOUT(!m_received.isEmpty(), 10000);
        const std::optional<FormFields> f = formDecode(m_received.first().body);
        QVERIFY(f);
        QCOMPARE(field(*f, "total_amount"), QByteArray("1.05"));
        QCOMPARE(verifyRsaSha256(m_alipayPlatform, alipayStringToSign(*f, AlipaySignScope::Notification).value(),
                     field(*f, "sign")),
            VerifyStatus::BadSignature);
    }
};

QTEST_GUILESS_MAIN(TestPaySandbox)
#include "tst_paysandbox.moc"
