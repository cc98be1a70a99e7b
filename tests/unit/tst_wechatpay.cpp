// The WeChat Pay APIv3 adapter (wechatpay.h) against a scripted Transport that checks every
// outgoing call and answers with bodies signed here by the sandbox's "WeChat" keys
// (drivers/sim/pay/keys: wechat-platform-1/-2, wechat-pubkey). What is checked:
//  - C5: B2 is still reproduced through paycanon; our Authorization verifies with
//    wechat-merchant.pem's key over exactly the bytes sent (base-URL prefix included);
//  - create / query / close / refund / refund query / bill happy paths and their mappings;
//  - an answer with a bad signature, a 5xx or a timeout is Unknown; T9: +6 min is Unknown and
//    says the timestamp is outside the window, +4 min is Ok;
//  - notifications: B3 verifies and decrypts; probe → BadSignature; H2 stale; unknown serial →
//    UnknownKey, then a scripted /v3/certificates makes it Valid; H7 refresh bounded; H8
//    PUB_KEY_ID match / mismatch; K1 two overlapping platform certificates; H9 resource
//    errors → Malformed; H6 foreign mchid; H15 JSON / content type / size; REFUND.* → Refund;
//  - the bill: SHA-1 mismatch → Unknown; rows parsed from the documented format;
//  - loadWechat's errors name the file and never hold key bytes.
#include "manualclock.h"
#include "payments/paycanon.h"
#include "payments/paycrypto.h"
#include "payments/wechatpay.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <openssl/evp.h>

using namespace prepay;
using namespace prepay::payments;

namespace {

const QString keysDir = QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys/");
const QString dataDir = QStringLiteral(PREPAY_TEST_DATA_DIR "/payments/");
const QString sandboxMchid = QStringLiteral("1900000109");
const QString sandboxAppid = QStringLiteral("wxd678efh567hg6787");
constexpr qint64 nowSec = 1'795'000'000; // the ManualClock's default wall time (2026-11-18T11:06:40Z), in seconds

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

QByteArray keyFile(const char *name)
{
    return readFile(keysDir + QLatin1String(name));
}

QByteArray trimmed(QByteArray text)
{
    return text.trimmed();
}

// Who signs an answer: a private key and the serial it announces.
struct Signer
{
    PrivateKey key;
    QByteArray serial;
};

Signer platformSigner(int which)
{
    const QByteArray base = "wechat-platform-" + QByteArray::number(which);
    const QByteArray keyName = base + ".key";
    const QByteArray certName = base + ".pem";
    return Signer{
        PrivateKey::load(keyFile(keyName.constData())), Certificate::load(keyFile(certName.constData())).serialHex()};
}

Signer pubkeySigner()
{
    return Signer{PrivateKey::load(keyFile("wechat-pubkey.key")), trimmed(keyFile("wechat-pubkey-id.txt"))};
}

HttpHeaders signedHeaders(const Signer &signer, qint64 timestampSec, const QByteArray &body)
{
    const QByteArray ts = QByteArray::number(timestampSec);
    const QByteArray nonce = QByteArrayLiteral("5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
    const QByteArray signature = encodeBase64(*signRsaSha256(signer.key, *wechatResponseMessage(ts, nonce, body)));
    return HttpHeaders{{"Request-ID", "08F78BB5AF0610"}, {"Wechatpay-Nonce", nonce}, {"Wechatpay-Signature", signature},
        {"Wechatpay-Timestamp", ts}, {"Wechatpay-Serial", signer.serial},
        {"Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"}};
}

HttpReply signedReply(int status, const QByteArray &body, const Signer &signer, qint64 timestampSec = nowSec)
{
    HttpReply reply;
    reply.transport = HttpReply::Transport::Ok;
    reply.status = status;
    reply.body = body;
    reply.headers = signedHeaders(signer, timestampSec, body);
    if (!body.isEmpty())
        reply.headers.prepend({"Content-Type", "application/json"});
    return reply;
}

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// AES-GCM sealing, what WeChat does to a resource (paycrypto only opens).
QByteArray gcmSeal(const QByteArray &key, const QByteArray &nonce, const QByteArray &aad, const QByteArray &plain)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    QByteArray out(plain.size() + 16, '\0');
    int len = 0;
    EVP_EncryptInit_ex(ctx, key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, nullptr, nullptr);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, int(nonce.size()), nullptr);
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char *>(key.constData()),
        reinterpret_cast<const unsigned char *>(nonce.constData()));
    EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char *>(aad.constData()), int(aad.size()));
    EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char *>(out.data()), &len,
        reinterpret_cast<const unsigned char *>(plain.constData()), int(plain.size()));
    EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char *>(out.data()) + len, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plain.size());
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

// One scripted exchange: what we expect to be sent, and the answer.
struct Step
{
    QByteArray method;
    QByteArray pathAndQuery;
    std::function<HttpReply(const HttpCall &)> answer;
};

class ScriptedTransport final : public Transport
{
public:
    QList<Step> script;
    QList<HttpCall> calls;
    QStringList mismatches;

    void expect(
        const QByteArray &method, const QByteArray &pathAndQuery, std::function<HttpReply(const HttpCall &)> answer)
    {
        script.append(Step{method, pathAndQuery, std::move(answer)});
    }

    void send(const HttpCall &call, std::function<void(const HttpReply &)> done) override
    {
        calls.append(call);
        const QByteArray sent = call.url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority);
        if (script.isEmpty()) {
            mismatches.append(QStringLiteral("unscripted call %1").arg(QString::fromLatin1(sent)));
            HttpReply failed;
            failed.error = QStringLiteral("unscripted");
            done(failed);
            return;
        }
        const Step step = script.takeFirst();
        if (call.method != step.method || sent != step.pathAndQuery)
            mismatches.append(QStringLiteral("expected %1 %2, got %3 %4")
                                  .arg(QString::fromLatin1(step.method), QString::fromLatin1(step.pathAndQuery),
                                      QString::fromLatin1(call.method), QString::fromLatin1(sent)));
        done(step.answer(call));
    }
};

QByteArray headerOf(const HttpHeaders &headers, QByteArrayView name)
{
    HttpReply lookup;
    lookup.headers = headers;
    return lookup.header(name);
}

// Checks our Authorization header over the call as sent, with the merchant certificate's key.
QString authorizationProblem(const HttpCall &call)
{
    const QByteArray auth = headerOf(call.headers, "Authorization");
    const QByteArray scheme = "WECHATPAY2-SHA256-RSA2048 ";
    if (!auth.startsWith(scheme))
        return QStringLiteral("no WECHATPAY2 Authorization");
    QHash<QByteArray, QByteArray> items;
    for (const QByteArray &item : auth.sliced(scheme.size()).split(',')) {
        const qsizetype eq = item.indexOf('=');
        items.insert(item.first(eq), item.sliced(eq + 1).chopped(1).sliced(1));
    }
    const Certificate merchant = Certificate::load(keyFile("wechat-merchant.pem"));
    if (items.value("serial_no") != merchant.serialHex())
        return QStringLiteral("serial_no is not the merchant certificate's");
    if (items.value("mchid") != sandboxMchid.toUtf8())
        return QStringLiteral("wrong mchid");
    const QByteArray canonical = call.url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority);
    const std::optional<QByteArray> message
        = wechatRequestMessage(call.method, canonical, items.value("timestamp"), items.value("nonce_str"), call.body);
    if (!message)
        return QStringLiteral("no message");
    if (verifyRsaSha256(merchant.publicKey(), *message, items.value("signature")) != VerifyStatus::Valid)
        return QStringLiteral("the signature does not verify with wechat-merchant.pem");
    return {};
}

struct Fixture
{
    QTemporaryDir dir;
    test::ManualClock clock;
    ScriptedTransport transport;
    WechatConfig config;
    std::unique_ptr<WechatProvider> provider;
    QString error;

    Fixture()
    {
        config.baseUrl = QUrl(QStringLiteral("https://127.0.0.1:8701"));
        config.mchid = sandboxMchid;
        config.appid = sandboxAppid;
        config.merchantKeyFile = keysDir + QStringLiteral("wechat-merchant.key");
        config.merchantCertFile = keysDir + QStringLiteral("wechat-merchant.pem");
        config.apiV3KeyFile = keysDir + QStringLiteral("wechat-apiv3.txt");
        config.platformCertFiles = {keysDir + QStringLiteral("wechat-platform-1.pem")};
        config.notifyUrl = QUrl(QStringLiteral("https://pay.example.com/wechat/notify"));
    }
    bool load()
    {
        provider = loadWechat(config, transport, clock, &error);
        return provider != nullptr;
    }
    QByteArray apiV3Key() const { return readFile(config.apiV3KeyFile).trimmed(); }
};

struct Resource
{
    QString algorithm = QStringLiteral("AEAD_AES_256_GCM");
    QByteArray nonce = "0123456789ab";
    std::optional<QByteArray> aad = QByteArray("transaction");
    QByteArray key;             // the APIv3 key to seal with
    QString ciphertextOverride; // non-empty: sent instead of the real ciphertext
};

QByteArray envelope(const QByteArray &eventType, const QByteArray &plaintext, const Resource &r)
{
    QJsonObject resource;
    resource.insert(QStringLiteral("algorithm"), r.algorithm);
    resource.insert(QStringLiteral("original_type"), QStringLiteral("transaction"));
    resource.insert(QStringLiteral("nonce"), QString::fromLatin1(r.nonce));
    if (r.aad)
        resource.insert(QStringLiteral("associated_data"), QString::fromLatin1(*r.aad));
    resource.insert(QStringLiteral("ciphertext"),
        r.ciphertextOverride.isEmpty()
            ? QString::fromLatin1(encodeBase64(gcmSeal(r.key, r.nonce, r.aad.value_or(QByteArray()), plaintext)))
            : r.ciphertextOverride);
    QJsonObject body;
    body.insert(QStringLiteral("id"), QStringLiteral("EV-0001"));
    body.insert(QStringLiteral("create_time"), QStringLiteral("2026-11-19T12:00:00+08:00"));
    body.insert(QStringLiteral("event_type"), QString::fromLatin1(eventType));
    body.insert(QStringLiteral("resource_type"), QStringLiteral("encrypt-resource"));
    body.insert(QStringLiteral("resource"), resource);
    return json(body);
}

QByteArray transactionPlain(const QString &mchid = sandboxMchid)
{
    QJsonObject amount{{QStringLiteral("total"), 5000}, {QStringLiteral("payer_total"), 5000},
        {QStringLiteral("currency"), QStringLiteral("CNY")}};
    QJsonObject tx{{QStringLiteral("mchid"), mchid}, {QStringLiteral("appid"), sandboxAppid},
        {QStringLiteral("out_trade_no"), QStringLiteral("K261119A0000001")},
        {QStringLiteral("transaction_id"), QStringLiteral("4200000000202611190000000001")},
        {QStringLiteral("trade_type"), QStringLiteral("NATIVE")},
        {QStringLiteral("trade_state"), QStringLiteral("SUCCESS")},
        {QStringLiteral("success_time"), QStringLiteral("2026-11-19T12:00:00+08:00")},
        {QStringLiteral("amount"), amount}};
    return json(tx);
}

NotifyRequest notifyRequest(const QByteArray &body, const Signer &signer, qint64 timestampSec = nowSec)
{
    NotifyRequest request;
    request.method = "POST";
    request.path = "/wechat/notify";
    request.headers = signedHeaders(signer, timestampSec, body);
    request.headers.prepend({"Content-Type", "application/json"});
    request.body = body;
    return request;
}

// The /v3/certificates answer carrying `certPem` encrypted with the APIv3 key, signed by `signer`.
HttpReply certificatesReply(const QByteArray &apiV3Key, const QByteArray &certPem, const Signer &signer)
{
    const QByteArray nonce = "certnonce012";
    QJsonObject enc{{QStringLiteral("algorithm"), QStringLiteral("AEAD_AES_256_GCM")},
        {QStringLiteral("nonce"), QString::fromLatin1(nonce)},
        {QStringLiteral("associated_data"), QStringLiteral("certificate")},
        {QStringLiteral("ciphertext"),
            QString::fromLatin1(encodeBase64(gcmSeal(apiV3Key, nonce, "certificate", certPem)))}};
    QJsonObject entry{{QStringLiteral("serial_no"), QString::fromLatin1(Certificate::load(certPem).serialHex())},
        {QStringLiteral("effective_time"), QStringLiteral("2026-01-01T00:00:00+08:00")},
        {QStringLiteral("expire_time"), QStringLiteral("2031-01-01T00:00:00+08:00")},
        {QStringLiteral("encrypt_certificate"), enc}};
    QJsonObject body{{QStringLiteral("data"), QJsonArray{entry}}};
    return signedReply(200, json(body), signer);
}

const QByteArray billHeader
    = QByteArrayLiteral("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
                        "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
                        "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注");

QByteArray sampleBill()
{
    return billHeader + "\r\n"
        + "`2026-11-18 10:00:00,`wxd678efh567hg6787,`1900000109,`0,`KIOSK-01,`4200000001,`K261118A0000001,"
          "`oUser1,`NATIVE,`SUCCESS,`OTHERS,`CNY,`50.00,`0.00,`0,`0,`0.00,`0.00,`,`,`电费充值, "
          "A-1F-101,`,`0.30000,`0.60%,"
          "`50.00,`0.00,`\r\n"
        + "`2026-11-18 11:30:15,`wxd678efh567hg6787,`1900000109,`0,`KIOSK-01,`4200000001,`K261118A0000001,"
          "`oUser1,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300000001,`R261118A0000001,`12.34,`0.00,"
          "`ORIGINAL,`SUCCESS,`电费充值,`,`-0.07000,`0.60%,`0.00,`12.34,`\r\n"
        + "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
        + "`2,`50.00,`12.34,`0.00,`0.23000,`50.00,`12.34\r\n";
}

} // namespace

class TestWechatPay : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void c5VectorsStillHold();
    void loadErrors();
    void createSignsAndMaps();
    void queryMapsStates();
    void closeAndAlreadyPaid();
    void refundAndRefundQuery();
    void billDownloadsAndParses();
    void billHashMismatchIsUnknown();
    void unverifiedAnswersAreUnknown();
    void clockSkewWindow();
    void answerWithNewSerialRefreshesOnce();
    void notifyB3Vector();
    void notifyProbeAndStale();
    void notifyUnknownSerialThenRefresh();
    void notifyPublicKeyId();
    void notifyTwoPlatformCertificates();
    void notifyMalformedResource();
    void notifyForeign();
    void notifyMalformedRequest();
    void notifyRefund();
    void notifyReplies();
};

void TestWechatPay::c5VectorsStillHold()
{
    const QByteArray body = readFile(dataDir + QStringLiteral("b2-body.json")).trimmed();
    const std::optional<QByteArray> message = wechatRequestMessage(
        "POST", "/v3/pay/transactions/native", "1704081600", "593BEC0C930BF1AFEB40B4A08C8FB242", body);
    QVERIFY(message);
    QCOMPARE(sha256(*message).toHex(), QByteArray("43c4e601dc1fe50f0b1e7ccbc71bb5bd615723f16a151b9ead696b631055c637"));
    const PrivateKey key = PrivateKey::load(readFile(dataDir + QStringLiteral("wechatpay-test-private-key.pem")));
    QCOMPARE(encodeBase64(*signRsaSha256(key, *message)), readFile(dataDir + QStringLiteral("b2-sign.txt")).trimmed());
}

void TestWechatPay::loadErrors()
{
    {
        Fixture f;
        QVERIFY(f.load());
        QCOMPARE(f.provider->merchantSerial(), Certificate::load(keyFile("wechat-merchant.pem")).serialHex());
    }
    {
        Fixture f;
        f.config.merchantKeyFile = keysDir + QStringLiteral("no-such.key");
        QVERIFY(!f.load());
        QVERIFY2(f.error.contains(QStringLiteral("no-such.key")), qPrintable(f.error));
    }
    {
        Fixture f; // a key of another pair: named, with the serial, never the key
        f.config.merchantKeyFile = keysDir + QStringLiteral("wechat-platform-1.key");
        QVERIFY(!f.load());
        QVERIFY2(f.error.contains(QStringLiteral("does not belong")), qPrintable(f.error));
        QVERIFY(!f.error.contains(QStringLiteral("PRIVATE KEY")));
        QVERIFY(!f.error.contains(QString::fromLatin1(keyFile("wechat-platform-1.key").sliced(28, 20))));
    }
    {
        Fixture f;
        QFile shortKey(f.dir.filePath(QStringLiteral("apiv3.txt")));
        QVERIFY(shortKey.open(QIODevice::WriteOnly));
        shortKey.write("testMchAPIv3Key0\n");
        shortKey.close();
        f.config.apiV3KeyFile = shortKey.fileName();
        QVERIFY(!f.load());
        QVERIFY2(f.error.contains(QStringLiteral("apiv3.txt")) && f.error.contains(QStringLiteral("32")),
            qPrintable(f.error));
        QVERIFY(!f.error.contains(QStringLiteral("testMchAPIv3Key0")));
    }
    {
        Fixture f;
        f.config.notifyUrl = QUrl(QStringLiteral("https://pay.example.com/notify?x=1"));
        QVERIFY(!f.load());
        f.config.notifyUrl = QUrl(QStringLiteral("https://pay.example.com/notify"));
        f.config.publicKeyId = QStringLiteral("PUB_KEY_ID_1");
        QVERIFY(!f.load()); // id without the file
    }
}

void TestWechatPay::createSignsAndMaps()
{
    Fixture f;
    f.config.baseUrl = QUrl(QStringLiteral("https://127.0.0.1:8701/sandbox/"));
    f.config.publicKeyFile = keysDir + QStringLiteral("wechat-pubkey.pub");
    f.config.publicKeyId = QString::fromLatin1(pubkeySigner().serial);
    QVERIFY2(f.load(), qPrintable(f.error));
    HttpCall seen;
    f.transport.expect("POST", "/sandbox/v3/pay/transactions/native", [&](const HttpCall &call) {
        seen = call;
        return signedReply(200, R"({"code_url":"weixin://wxpay/bizpayurl?pr=abc123"})", platformSigner(1));
    });
    CreateRequest request;
    request.outTradeNo = QStringLiteral("K261119A0000001");
    request.amountFen = 5000;
    request.subject = QStringLiteral("电费充值 A-1F-101") + QString(200, u'x');
    request.terminalId = QStringLiteral("KIOSK-01");
    request.expiresAtMs = (nowSec + 300) * 1000;
    std::optional<CreateResult> result;
    f.provider->create(request, [&](const CreateResult &r) { result = r; });
    QVERIFY(result);
    QVERIFY2(f.transport.mismatches.isEmpty(), qPrintable(f.transport.mismatches.join(u'\n')));
    QCOMPARE(result->outcome, Outcome::Ok);
    QCOMPARE(result->qrPayload, QStringLiteral("weixin://wxpay/bizpayurl?pr=abc123"));

    const QString problem = authorizationProblem(seen);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(headerOf(seen.headers, "Accept"), QByteArray("application/json"));
    QCOMPARE(headerOf(seen.headers, "Content-Type"), QByteArray("application/json"));
    QVERIFY(!headerOf(seen.headers, "User-Agent").isEmpty());
    QCOMPARE(headerOf(seen.headers, "Wechatpay-Serial"), pubkeySigner().serial);
    QCOMPARE(seen.timeoutMs, 10000);

    const QJsonObject body = QJsonDocument::fromJson(seen.body).object();
    QCOMPARE(body.value(QStringLiteral("appid")).toString(), sandboxAppid);
    QCOMPARE(body.value(QStringLiteral("mchid")).toString(), sandboxMchid);
    QCOMPARE(body.value(QStringLiteral("out_trade_no")).toString(), request.outTradeNo);
    QCOMPARE(body.value(QStringLiteral("description")).toString().size(), 127);
    QVERIFY(body.value(QStringLiteral("description")).toString().startsWith(QStringLiteral("电费充值 A-1F-101")));
    // 1795000300 s = 2026-11-18T11:11:40Z = 19:11:40 in Beijing.
    QCOMPARE(body.value(QStringLiteral("time_expire")).toString(), QStringLiteral("2026-11-18T19:11:40+08:00"));
    QCOMPARE(
        body.value(QStringLiteral("notify_url")).toString(), QStringLiteral("https://pay.example.com/wechat/notify"));
    QCOMPARE(body.value(QStringLiteral("amount")).toObject().value(QStringLiteral("total")).toInteger(), 5000);
    QCOMPARE(body.value(QStringLiteral("amount")).toObject().value(QStringLiteral("currency")).toString(),
        QStringLiteral("CNY"));
    QCOMPARE(body.value(QStringLiteral("scene_info")).toObject().value(QStringLiteral("device_id")).toString(),
        QStringLiteral("KIOSK-01"));

    // Without a terminal there is no scene_info; a verified 400 is Rejected with its code.
    f.transport.expect("POST", "/sandbox/v3/pay/transactions/native", [&](const HttpCall &call) {
        seen = call;
        return signedReply(400, R"({"code":"PARAM_ERROR","message":"bad"})", pubkeySigner());
    });
    request.terminalId.clear();
    f.provider->create(request, [&](const CreateResult &r) { result = r; });
    QVERIFY(!QJsonDocument::fromJson(seen.body).object().contains(QStringLiteral("scene_info")));
    QCOMPARE(result->outcome, Outcome::Rejected);
    QCOMPARE(result->code, QStringLiteral("PARAM_ERROR"));

    // Bad input never reaches the wire.
    const qsizetype callsBefore = f.transport.calls.size();
    request.outTradeNo = QStringLiteral("K1");
    f.provider->create(request, [&](const CreateResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Rejected);
    QCOMPARE(f.transport.calls.size(), callsBefore);
}

void TestWechatPay::queryMapsStates()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray path = "/v3/pay/transactions/out-trade-no/K261119A0000001?mchid=1900000109";
    HttpCall seen;
    f.transport.expect("GET", path, [&](const HttpCall &call) {
        seen = call;
        return signedReply(200, transactionPlain(), platformSigner(1));
    });
    std::optional<QueryResult> result;
    const TradeRef ref{QStringLiteral("K261119A0000001"), 0};
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QVERIFY2(f.transport.mismatches.isEmpty(), qPrintable(f.transport.mismatches.join(u'\n')));
    QVERIFY(authorizationProblem(seen).isEmpty());
    QVERIFY(seen.body.isEmpty());
    QVERIFY(headerOf(seen.headers, "Content-Type").isEmpty());
    QCOMPARE(result->outcome, Outcome::Ok);
    QCOMPARE(result->trade.state, TradeState::Paid);
    QCOMPARE(result->trade.totalFen, 5000);
    QCOMPARE(result->trade.currency, QStringLiteral("CNY"));
    QCOMPARE(result->trade.providerTxnId, QStringLiteral("4200000000202611190000000001"));
    QCOMPARE(result->trade.paidAtMs, qint64(1'795'060'800'000)); // 2026-11-19T04:00:00Z

    const QList<std::pair<QString, TradeState>> states{{QStringLiteral("NOTPAY"), TradeState::WaitingPayment},
        {QStringLiteral("USERPAYING"), TradeState::WaitingPayment}, {QStringLiteral("REFUND"), TradeState::Paid},
        {QStringLiteral("CLOSED"), TradeState::Closed}, {QStringLiteral("REVOKED"), TradeState::Closed},
        {QStringLiteral("PAYERROR"), TradeState::Failed}};
    for (const auto &[raw, state] : states) {
        QJsonObject tx = QJsonDocument::fromJson(transactionPlain()).object();
        tx.insert(QStringLiteral("trade_state"), raw);
        f.transport.expect(
            "GET", path, [&, tx](const HttpCall &) { return signedReply(200, json(tx), platformSigner(1)); });
        f.provider->query(ref, [&](const QueryResult &r) { result = r; });
        QCOMPARE(result->outcome, Outcome::Ok);
        QCOMPARE(result->trade.state, state);
        QCOMPARE(result->trade.rawState, raw);
    }
    f.transport.expect("GET", path, [&](const HttpCall &) {
        return signedReply(404, R"({"code":"ORDER_NOT_EXIST","message":"订单不存在"})", platformSigner(1));
    });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Ok);
    QCOMPARE(result->trade.state, TradeState::NotFound);
    QVERIFY(f.transport.mismatches.isEmpty());
}

void TestWechatPay::closeAndAlreadyPaid()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray path = "/v3/pay/transactions/out-trade-no/K261119A0000001/close";
    HttpCall seen;
    f.transport.expect("POST", path, [&](const HttpCall &call) {
        seen = call;
        return signedReply(204, {}, platformSigner(1));
    });
    std::optional<AbandonResult> result;
    const TradeRef ref{QStringLiteral("K261119A0000001"), 0};
    f.provider->abandon(ref, [&](const AbandonResult &r) { result = r; });
    QCOMPARE(seen.body, QByteArray(R"({"mchid":"1900000109"})"));
    QVERIFY(authorizationProblem(seen).isEmpty());
    QCOMPARE(result->outcome, Outcome::Ok);
    QVERIFY(!result->alreadyPaid);

    f.transport.expect("POST", path, [&](const HttpCall &) {
        return signedReply(400, R"({"code":"ORDER_PAID","message":"订单已支付"})", platformSigner(1));
    });
    f.provider->abandon(ref, [&](const AbandonResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Rejected);
    QCOMPARE(result->code, QStringLiteral("ORDER_PAID"));
    QVERIFY(result->alreadyPaid);

    // A 204 whose (empty-body) signature does not verify is not a close.
    f.transport.expect("POST", path, [&](const HttpCall &) {
        HttpReply reply = signedReply(204, {}, platformSigner(1));
        reply.body = "x";
        return reply;
    });
    f.provider->abandon(ref, [&](const AbandonResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QVERIFY(f.transport.mismatches.isEmpty());
}

void TestWechatPay::refundAndRefundQuery()
{
    Fixture f;
    QVERIFY(f.load());
    HttpCall seen;
    f.transport.expect("POST", "/v3/refund/domestic/refunds", [&](const HttpCall &call) {
        seen = call;
        return signedReply(200,
            R"({"refund_id":"50300000001","out_refund_no":"R261119A0000001","out_trade_no":"K261119A0000001","status":"PROCESSING","amount":{"refund":1234,"total":5000,"currency":"CNY"}})",
            platformSigner(1));
    });
    RefundRequest request;
    request.trade = TradeRef{QStringLiteral("K261119A0000001"), 0};
    request.outRefundNo = QStringLiteral("R261119A0000001");
    request.refundFen = 1234;
    request.totalFen = 5000;
    request.reason = QStringLiteral("电表故障");
    std::optional<RefundResult> result;
    f.provider->refund(request, [&](const RefundResult &r) { result = r; });
    QVERIFY(authorizationProblem(seen).isEmpty());
    const QJsonObject body = QJsonDocument::fromJson(seen.body).object();
    QCOMPARE(body.value(QStringLiteral("out_trade_no")).toString(), request.trade.outTradeNo);
    QCOMPARE(body.value(QStringLiteral("out_refund_no")).toString(), request.outRefundNo);
    QCOMPARE(body.value(QStringLiteral("reason")).toString(), request.reason);
    QCOMPARE(body.value(QStringLiteral("amount")).toObject().value(QStringLiteral("refund")).toInteger(), 1234);
    QCOMPARE(body.value(QStringLiteral("amount")).toObject().value(QStringLiteral("total")).toInteger(), 5000);
    QCOMPARE(result->outcome, Outcome::Ok);
    QCOMPARE(result->state, RefundState::Processing);
    QCOMPARE(result->providerRefundId, QStringLiteral("50300000001"));
    QCOMPARE(result->refundFen, 1234);

    f.transport.expect("GET", "/v3/refund/domestic/refunds/R261119A0000001", [&](const HttpCall &) {
        return signedReply(200,
            R"({"refund_id":"50300000001","out_refund_no":"R261119A0000001","status":"SUCCESS","amount":{"refund":1234,"total":5000}})",
            platformSigner(1));
    });
    f.provider->refundQuery(request.trade, request.outRefundNo, [&](const RefundResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Ok);
    QCOMPARE(result->state, RefundState::Succeeded);
    QVERIFY2(f.transport.mismatches.isEmpty(), qPrintable(f.transport.mismatches.join(u'\n')));
}

void TestWechatPay::billDownloadsAndParses()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray bill = sampleBill();
    const QByteArray sha1 = QCryptographicHash::hash(bill, QCryptographicHash::Sha1).toHex();
    f.transport.expect("GET", "/v3/bill/tradebill?bill_date=2026-11-18&bill_type=ALL", [&](const HttpCall &) {
        return signedReply(200,
            R"({"hash_type":"SHA1","hash_value":")" + sha1
                + R"(","download_url":"https://127.0.0.1:8701/v3/billdownload/file?token=T0K3N"})",
            platformSigner(1));
    });
    HttpCall download;
    f.transport.expect("GET", "/v3/billdownload/file?token=T0K3N", [&](const HttpCall &call) {
        download = call;
        HttpReply reply;
        reply.transport = HttpReply::Transport::Ok;
        reply.status = 200;
        reply.body = bill; // not signed
        return reply;
    });
    std::optional<BillResult> result;
    f.provider->bill(QDate(2026, 11, 18), [&](const BillResult &r) { result = r; });
    QVERIFY2(f.transport.mismatches.isEmpty(), qPrintable(f.transport.mismatches.join(u'\n')));
    QVERIFY2(authorizationProblem(download).isEmpty(), qPrintable(authorizationProblem(download)));
    QVERIFY(result);
    QVERIFY2(result->outcome == Outcome::Ok, qPrintable(result->message));
    QCOMPARE(result->raw, bill);
    QCOMPARE(result->rows.size(), 2);
    QCOMPARE(result->rows.at(0).kind, BillRow::Kind::Payment);
    QCOMPARE(result->rows.at(0).outTradeNo, QStringLiteral("K261118A0000001"));
    QCOMPARE(result->rows.at(0).providerTxnId, QStringLiteral("4200000001"));
    QCOMPARE(result->rows.at(0).amountFen, 5000);
    QCOMPARE(result->rows.at(0).atMs, qint64(1'794'967'200'000)); // 2026-11-18T02:00:00Z
    QCOMPARE(result->rows.at(1).kind, BillRow::Kind::Refund);
    QCOMPARE(result->rows.at(1).outRefundNo, QStringLiteral("R261118A0000001"));
    QCOMPARE(result->rows.at(1).amountFen, 1234);

    QString error;
    QVERIFY(!parseWechatTradeBill(QByteArray(bill).replace("`SUCCESS", "`NOTPAY"), &error));
    QVERIFY2(error.contains(QStringLiteral("line 2")), qPrintable(error));
    QVERIFY(!parseWechatTradeBill(QByteArray(bill).replace("`50.00,`0.00,`\r\n", "`50.001,`0.00,`\r\n"), &error));
    QVERIFY(!parseWechatTradeBill(bill.first(bill.indexOf("总交易单数")), &error));
}

void TestWechatPay::billHashMismatchIsUnknown()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray bill = sampleBill();
    const QByteArray sha1 = QCryptographicHash::hash(QByteArray(bill + "tampered"), QCryptographicHash::Sha1).toHex();
    f.transport.expect("GET", "/v3/bill/tradebill?bill_date=2026-11-18&bill_type=ALL", [&](const HttpCall &) {
        return signedReply(200,
            R"({"hash_type":"SHA1","hash_value":")" + sha1
                + R"(","download_url":"https://127.0.0.1:8701/v3/billdownload/file?token=T0K3N"})",
            platformSigner(1));
    });
    f.transport.expect("GET", "/v3/billdownload/file?token=T0K3N", [&](const HttpCall &) {
        HttpReply reply;
        reply.transport = HttpReply::Transport::Ok;
        reply.status = 200;
        reply.body = bill;
        return reply;
    });
    std::optional<BillResult> result;
    f.provider->bill(QDate(2026, 11, 18), [&](const BillResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QVERIFY2(result->message.contains(QStringLiteral("SHA-1")), qPrintable(result->message));
    QVERIFY(result->rows.isEmpty());

    // A download URL on another host never gets our Authorization.
    f.transport.expect("GET", "/v3/bill/tradebill?bill_date=2026-11-18&bill_type=ALL", [&](const HttpCall &) {
        return signedReply(200,
            R"({"hash_type":"SHA1","hash_value":")" + sha1
                + R"(","download_url":"https://evil.example.com/v3/billdownload/file?token=T0K3N"})",
            platformSigner(1));
    });
    f.provider->bill(QDate(2026, 11, 18), [&](const BillResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QCOMPARE(f.transport.calls.size(), 3);
    QVERIFY(f.transport.mismatches.isEmpty());
}

void TestWechatPay::unverifiedAnswersAreUnknown()
{
    Fixture f;
    f.config.downloadCertificates = false;
    QVERIFY(f.load());
    const QByteArray path = "/v3/pay/transactions/out-trade-no/K261119A0000001?mchid=1900000109";
    const TradeRef ref{QStringLiteral("K261119A0000001"), 0};
    std::optional<QueryResult> result;

    f.transport.expect("GET", path, [&](const HttpCall &) {
        HttpReply reply = signedReply(200, transactionPlain(), platformSigner(1));
        reply.body.replace("5000", "9000"); // the amount changed after signing
        return reply;
    });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QVERIFY2(result->message.contains(QStringLiteral("does not verify")), qPrintable(result->message));

    f.transport.expect("GET", path, [&](const HttpCall &) {
        return signedReply(400, R"({"code":"PARAM_ERROR","message":"x"})", platformSigner(2)); // not configured
    });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown); // an unverified refusal is not a refusal

    f.transport.expect("GET", path, [&](const HttpCall &) {
        return signedReply(500, R"({"code":"SYSTEM_ERROR","message":"x"})", platformSigner(1));
    });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);

    f.transport.expect("GET", path, [&](const HttpCall &) {
        HttpReply reply;
        reply.transport = HttpReply::Transport::Timeout;
        reply.error = QStringLiteral("transfer timeout");
        return reply;
    });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QVERIFY(f.transport.mismatches.isEmpty());
}

void TestWechatPay::clockSkewWindow()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray path = "/v3/pay/transactions/out-trade-no/K261119A0000001?mchid=1900000109";
    const TradeRef ref{QStringLiteral("K261119A0000001"), 0};
    std::optional<QueryResult> result;
    f.transport.expect("GET", path,
        [&](const HttpCall &) { return signedReply(200, transactionPlain(), platformSigner(1), nowSec + 6 * 60); });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QVERIFY2(result->message.contains(QStringLiteral("outside the 300 s window")), qPrintable(result->message));

    f.transport.expect("GET", path,
        [&](const HttpCall &) { return signedReply(200, transactionPlain(), platformSigner(1), nowSec + 4 * 60); });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Ok);
    QVERIFY(f.transport.mismatches.isEmpty());
}

void TestWechatPay::answerWithNewSerialRefreshesOnce()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray path = "/v3/pay/transactions/out-trade-no/K261119A0000001?mchid=1900000109";
    const TradeRef ref{QStringLiteral("K261119A0000001"), 0};
    std::optional<QueryResult> result;
    // An answer signed by a rotated-in certificate: one download, then the same bytes verify.
    f.transport.expect(
        "GET", path, [&](const HttpCall &) { return signedReply(200, transactionPlain(), platformSigner(2)); });
    f.transport.expect("GET", "/v3/certificates", [&](const HttpCall &) {
        return certificatesReply(f.apiV3Key(), keyFile("wechat-platform-2.pem"), platformSigner(2));
    });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QVERIFY2(f.transport.mismatches.isEmpty(), qPrintable(f.transport.mismatches.join(u'\n')));
    QVERIFY2(result->outcome == Outcome::Ok, qPrintable(result->message));
    QCOMPARE(result->trade.state, TradeState::Paid);

    // Another unknown serial within 60 s: no second download, the answer stays Unknown.
    Signer stranger = platformSigner(1);
    stranger.serial = "0123456789ABCDEF";
    f.transport.expect("GET", path, [&](const HttpCall &) { return signedReply(200, transactionPlain(), stranger); });
    f.provider->query(ref, [&](const QueryResult &r) { result = r; });
    QCOMPARE(result->outcome, Outcome::Unknown);
    QVERIFY2(result->message.contains(QStringLiteral("no verification key")), qPrintable(result->message));
    QCOMPARE(f.transport.calls.size(), 3);
    QVERIFY(f.transport.mismatches.isEmpty());
}

void TestWechatPay::notifyB3Vector()
{
    Fixture f;
    QFile apiV3(f.dir.filePath(QStringLiteral("b3-apiv3.txt")));
    QVERIFY(apiV3.open(QIODevice::WriteOnly));
    apiV3.write("KioskSandboxAPIv3Key0123456789ab");
    apiV3.close();
    f.config.apiV3KeyFile = apiV3.fileName();
    f.config.mchid = QStringLiteral("1230000109");
    f.config.platformCertFiles = {dataDir + QStringLiteral("wechatpay-test-cert.pem")};
    QVERIFY2(f.load(), qPrintable(f.error));
    NotifyRequest request;
    request.method = "POST";
    request.path = "/wechat/notify";
    request.body = readFile(dataDir + QStringLiteral("b3-body.json"));
    if (request.body.endsWith('\n'))
        request.body.chop(1);
    QCOMPARE(
        sha256(request.body).toHex(), QByteArray("ef9498cc68273ea0362170d8ad51439a68575e655fb7e1c80e1b8b24fd118e69"));
    request.headers = HttpHeaders{{"Content-Type", "application/json"}, {"Wechatpay-Timestamp", "1704081691"},
        {"Wechatpay-Nonce", "fcb7f2b9c1c54f8e9a0d3e2b7c6a5d41"}, {"Wechatpay-Serial", "D7CE59D1F522D701"},
        {"Wechatpay-Signature", readFile(dataDir + QStringLiteral("b3-signature.txt")).trimmed()},
        {"Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"}};
    const Notification n = f.provider->readNotification(request, qint64(1704081691) * 1000);
    QVERIFY2(n.verdict == NotifyVerdict::Valid, qPrintable(n.reason));
    QCOMPARE(n.kind, Notification::Kind::Payment);
    QCOMPARE(n.eventId, QStringLiteral("EV-TEST-0001"));
    QCOMPARE(n.trade.state, TradeState::Paid);
    QCOMPARE(n.trade.outTradeNo, QStringLiteral("K20240101000001"));
    QCOMPARE(n.trade.providerTxnId, QStringLiteral("4200000000202401011234567890"));
    QCOMPARE(n.trade.totalFen, 8888);
    QCOMPARE(n.trade.currency, QStringLiteral("CNY"));
    QCOMPARE(n.trade.paidAtMs, qint64(1704081690) * 1000);

    // The same bytes 10 minutes later are a replay.
    QCOMPARE(f.provider->readNotification(request, qint64(1704081691 + 600) * 1000).verdict, NotifyVerdict::Stale);
}

void TestWechatPay::notifyProbeAndStale()
{
    Fixture f;
    QVERIFY(f.load());
    Resource r;
    r.key = f.apiV3Key();
    NotifyRequest request = notifyRequest(envelope("TRANSACTION.SUCCESS", transactionPlain(), r), platformSigner(1));
    QCOMPARE(f.provider->readNotification(request, nowSec * 1000).verdict, NotifyVerdict::Valid);

    NotifyRequest probe = request;
    for (auto &[name, value] : probe.headers) {
        if (name == "Wechatpay-Signature")
            value = "WECHATPAY/SIGNTEST/" + value.first(40);
    }
    QCOMPARE(f.provider->readNotification(probe, nowSec * 1000).verdict, NotifyVerdict::BadSignature);

    NotifyRequest unsigned_ = request;
    unsigned_.headers.removeIf([](const auto &h) { return h.first == "Wechatpay-Signature"; });
    QCOMPARE(f.provider->readNotification(unsigned_, nowSec * 1000).verdict, NotifyVerdict::BadSignature);

    NotifyRequest tampered = request;
    tampered.body.replace("EV-0001", "EV-0002");
    QCOMPARE(f.provider->readNotification(tampered, nowSec * 1000).verdict, NotifyVerdict::BadSignature);

    // H2: genuine but 5 minutes old (the window is exclusive at 300 s); 299 s is still fine.
    const NotifyRequest old = notifyRequest(request.body, platformSigner(1), nowSec - 300);
    const Notification stale = f.provider->readNotification(old, nowSec * 1000);
    QCOMPARE(stale.verdict, NotifyVerdict::Stale);
    QVERIFY(stale.reason.contains(QStringLiteral("window")));
    QCOMPARE(f.provider->readNotification(notifyRequest(request.body, platformSigner(1), nowSec - 299), nowSec * 1000)
                 .verdict,
        NotifyVerdict::Valid);
}

void TestWechatPay::notifyUnknownSerialThenRefresh()
{
    Fixture f;
    QVERIFY(f.load());
    Resource r;
    r.key = f.apiV3Key();
    const NotifyRequest request
        = notifyRequest(envelope("TRANSACTION.SUCCESS", transactionPlain(), r), platformSigner(2));
    QCOMPARE(f.provider->readNotification(request, nowSec * 1000).verdict, NotifyVerdict::UnknownKey);

    // Bootstrapping: the answer is signed by the certificate it delivers.
    HttpCall seen;
    f.transport.expect("GET", "/v3/certificates", [&](const HttpCall &call) {
        seen = call;
        return certificatesReply(f.apiV3Key(), keyFile("wechat-platform-2.pem"), platformSigner(2));
    });
    std::optional<bool> changed;
    f.provider->refreshKeys([&](bool c) { changed = c; });
    QVERIFY2(f.transport.mismatches.isEmpty(), qPrintable(f.transport.mismatches.join(u'\n')));
    QVERIFY(authorizationProblem(seen).isEmpty());
    QCOMPARE(changed, std::optional<bool>(true));
    QCOMPARE(f.provider->keys().certificateSerials().size(), 2);
    QCOMPARE(f.provider->readNotification(request, nowSec * 1000).verdict, NotifyVerdict::Valid);

    // H7: within 60 s a second refresh does not touch the transport.
    const qsizetype calls = f.transport.calls.size();
    f.clock.advanceMs(59'000);
    changed.reset();
    f.provider->refreshKeys([&](bool c) { changed = c; });
    QCOMPARE(changed, std::optional<bool>(false));
    QCOMPARE(f.transport.calls.size(), calls);

    // After the interval it may go again; a certificate sealed with another APIv3 key is refused.
    f.clock.advanceMs(2'000);
    f.transport.expect("GET", "/v3/certificates", [&](const HttpCall &) {
        return certificatesReply("0123456789abcdef0123456789abcdef", keyFile("wechat-merchant.pem"), platformSigner(1));
    });
    f.provider->refreshKeys([&](bool c) { changed = c; });
    QCOMPARE(changed, std::optional<bool>(false));
    QCOMPARE(f.transport.calls.size(), calls + 1);
    QCOMPARE(f.provider->keys().certificateSerials().size(), 2);
}

void TestWechatPay::notifyPublicKeyId()
{
    Fixture f;
    f.config.platformCertFiles.clear();
    f.config.publicKeyFile = keysDir + QStringLiteral("wechat-pubkey.pub");
    f.config.publicKeyId = QString::fromLatin1(pubkeySigner().serial);
    f.config.downloadCertificates = false;
    QVERIFY2(f.load(), qPrintable(f.error));
    Resource r;
    r.key = f.apiV3Key();
    const QByteArray body = envelope("TRANSACTION.SUCCESS", transactionPlain(), r);
    QCOMPARE(
        f.provider->readNotification(notifyRequest(body, pubkeySigner()), nowSec * 1000).verdict, NotifyVerdict::Valid);

    Signer otherId = pubkeySigner();
    otherId.serial = "PUB_KEY_ID_0119000001092025112400000000000002";
    QCOMPARE(
        f.provider->readNotification(notifyRequest(body, otherId), nowSec * 1000).verdict, NotifyVerdict::UnknownKey);
    // A platform-certificate serial has no key in public-key-only mode.
    QCOMPARE(f.provider->readNotification(notifyRequest(body, platformSigner(1)), nowSec * 1000).verdict,
        NotifyVerdict::UnknownKey);
}

void TestWechatPay::notifyTwoPlatformCertificates()
{
    Fixture f;
    f.config.platformCertFiles.append(keysDir + QStringLiteral("wechat-platform-2.pem"));
    QVERIFY(f.load());
    Resource r;
    r.key = f.apiV3Key();
    const QByteArray body = envelope("TRANSACTION.SUCCESS", transactionPlain(), r);
    QCOMPARE(f.provider->readNotification(notifyRequest(body, platformSigner(1)), nowSec * 1000).verdict,
        NotifyVerdict::Valid);
    QCOMPARE(f.provider->readNotification(notifyRequest(body, platformSigner(2)), nowSec * 1000).verdict,
        NotifyVerdict::Valid);
    Signer lower = platformSigner(2);
    lower.serial = lower.serial.toLower();
    QCOMPARE(f.provider->readNotification(notifyRequest(body, lower), nowSec * 1000).verdict, NotifyVerdict::Valid);
    // Platform-2's key announcing platform-1's serial is a bad signature, not a valid one.
    Signer swapped = platformSigner(2);
    swapped.serial = platformSigner(1).serial;
    QCOMPARE(
        f.provider->readNotification(notifyRequest(body, swapped), nowSec * 1000).verdict, NotifyVerdict::BadSignature);
}

void TestWechatPay::notifyMalformedResource()
{
    Fixture f;
    QVERIFY(f.load());
    const auto verdictOf = [&](const Resource &r) {
        return f.provider
            ->readNotification(
                notifyRequest(envelope("TRANSACTION.SUCCESS", transactionPlain(), r), platformSigner(1)), nowSec * 1000)
            .verdict;
    };
    Resource good;
    good.key = f.apiV3Key();
    QCOMPARE(verdictOf(good), NotifyVerdict::Valid);
    Resource wrongAlgorithm = good;
    wrongAlgorithm.algorithm = QStringLiteral("AEAD_AES_128_GCM");
    QCOMPARE(verdictOf(wrongAlgorithm), NotifyVerdict::Malformed);
    Resource noAad = good;
    noAad.aad.reset();
    QCOMPARE(verdictOf(noAad), NotifyVerdict::Malformed);
    Resource badBase64 = good;
    badBase64.ciphertextOverride = QStringLiteral("not*base64==");
    QCOMPARE(verdictOf(badBase64), NotifyVerdict::Malformed);
    Resource wrongKey = good;
    wrongKey.key = "0123456789abcdef0123456789abcdef";
    QCOMPARE(verdictOf(wrongKey), NotifyVerdict::Malformed);
    Resource shortNonce = good;
    shortNonce.nonce = "short";
    QCOMPARE(verdictOf(shortNonce), NotifyVerdict::Malformed);
}

void TestWechatPay::notifyForeign()
{
    Fixture f;
    QVERIFY(f.load());
    Resource r;
    r.key = f.apiV3Key();
    const Notification n = f.provider->readNotification(
        notifyRequest(
            envelope("TRANSACTION.SUCCESS", transactionPlain(QStringLiteral("1900000999")), r), platformSigner(1)),
        nowSec * 1000);
    QCOMPARE(n.verdict, NotifyVerdict::Foreign);
    QCOMPARE(n.eventId, QStringLiteral("EV-0001"));
}

void TestWechatPay::notifyMalformedRequest()
{
    Fixture f;
    QVERIFY(f.load());
    const QByteArray notJson = "{\"id\":\"EV-1\",";
    QCOMPARE(f.provider->readNotification(notifyRequest(notJson, platformSigner(1)), nowSec * 1000).verdict,
        NotifyVerdict::Malformed);

    Resource r;
    r.key = f.apiV3Key();
    NotifyRequest form = notifyRequest(envelope("TRANSACTION.SUCCESS", transactionPlain(), r), platformSigner(1));
    form.headers.first().second = "application/x-www-form-urlencoded";
    QCOMPARE(f.provider->readNotification(form, nowSec * 1000).verdict, NotifyVerdict::Malformed);

    NotifyRequest withQuery = notifyRequest(envelope("TRANSACTION.SUCCESS", transactionPlain(), r), platformSigner(1));
    withQuery.query = "a=1";
    QCOMPARE(f.provider->readNotification(withQuery, nowSec * 1000).verdict, NotifyVerdict::Malformed);

    QByteArray big = envelope("TRANSACTION.SUCCESS", transactionPlain(), r);
    big.chop(1);
    big += ",\"pad\":\"" + QByteArray(wechatNotifyBodyBytesMax, 'x') + "\"}";
    QCOMPARE(f.provider->readNotification(notifyRequest(big, platformSigner(1)), nowSec * 1000).verdict,
        NotifyVerdict::Malformed);
}

void TestWechatPay::notifyRefund()
{
    Fixture f;
    QVERIFY(f.load());
    Resource r;
    r.key = f.apiV3Key();
    r.aad = QByteArray("refund");
    const QByteArray plain
        = R"({"mchid":"1900000109","transaction_id":"4200000000202611190000000001","out_trade_no":"K261119A0000001","refund_id":"50300000001","out_refund_no":"R261119A0000001","refund_status":"SUCCESS","success_time":"2026-11-19T12:30:00+08:00","amount":{"total":5000,"refund":1234,"payer_total":5000,"payer_refund":1234}})";
    const Notification n = f.provider->readNotification(
        notifyRequest(envelope("REFUND.SUCCESS", plain, r), platformSigner(1)), nowSec * 1000);
    QVERIFY2(n.verdict == NotifyVerdict::Valid, qPrintable(n.reason));
    QCOMPARE(n.kind, Notification::Kind::Refund);
    QCOMPARE(n.refund.state, RefundState::Succeeded);
    QCOMPARE(n.refund.outRefundNo, QStringLiteral("R261119A0000001"));
    QCOMPARE(n.refund.providerRefundId, QStringLiteral("50300000001"));
    QCOMPARE(n.refund.refundFen, 1234);
    QCOMPARE(n.trade.outTradeNo, QStringLiteral("K261119A0000001"));
}

void TestWechatPay::notifyReplies()
{
    Fixture f;
    QVERIFY(f.load());
    const NotifyReply ok = f.provider->notifyReply(true, {});
    QCOMPARE(ok.status, 204);
    QVERIFY(ok.body.isEmpty());
    const NotifyReply fail = f.provider->notifyReply(false, QStringLiteral("签名错误"));
    QCOMPARE(fail.status, 401);
    QCOMPARE(fail.contentType, QByteArray("application/json"));
    const QJsonObject body = QJsonDocument::fromJson(fail.body).object();
    QCOMPARE(body.value(QStringLiteral("code")).toString(), QStringLiteral("FAIL"));
    QCOMPARE(body.value(QStringLiteral("message")).toString(), QStringLiteral("签名错误"));
}

QTEST_GUILESS_MAIN(TestWechatPay)
#include "tst_wechatpay.moc"
