// The Alipay adapter (alipay.h) and the bill zip reader (billzip.h), without a network: a scripted
// Transport checks each outgoing call and answers with bytes signed here with the sandbox's
// "Alipay" key (drivers/sim/pay/keys/alipay-platform.key). What is checked:
//  - requests: POST to the gateway, every parameter in the form body, common parameters, Beijing
//    timestamp, biz_content, and a sign that verifies with alipay-app.pub and is byte-identical
//    to signing the string-to-sign again (C3: deterministic PKCS#1 v1.5);
//  - precreate, query (paid, ACQ.TRADE_NOT_EXIST → NotFound), cancel (retry_flag, action=refund),
//    close, refund (fund_change), refund query, bill (downloadurl → GET → zip → GBK CSV);
//  - everything unverifiable is Unknown: unsigned error_response (H11), a bad sign, 20000, HTTP
//    500, a timeout, and K3 (our own public key configured as Alipay's);
//  - notifications: vector A1 valid; changed amount and HTML-escaped fund_bill_list fail (C1,
//    H10); a correctly signed foreign app_id (H6); malformed shapes (H15); refund notifications
//    are Kind::Refund (P4); TRADE_CLOSED / WAIT_BUYER_PAY are not paid (H13);
//  - the zip reader: stored and deflated entries, GBK names, CRC and shape errors;
//  - load errors name the file and never carry key material.
#include "payments/alipay.h"
#include "payments/billzip.h"
#include "payments/paycanon.h"
#include "payments/paycrypto.h"

#include "manualclock.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimeZone>
#include <QtTest/QTest>

#include <zlib.h>

using namespace prepay;
using namespace prepay::payments;

namespace {

QString keyPath(const char *name)
{
    return QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys/") + QLatin1String(name);
}

QString dataPath(const char *name)
{
    return QStringLiteral(PREPAY_SOURCE_DIR "/tests/data/payments/") + QLatin1String(name);
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

PrivateKey privateKey(const char *name)
{
    return PrivateKey::load(readFile(keyPath(name)));
}

QByteArray signBase64(const PrivateKey &key, QByteArrayView message)
{
    const auto signature = signRsaSha256(key, message);
    if (!signature)
        qFatal("cannot sign");
    return encodeBase64(*signature);
}

// The transport of these tests: each call takes the next scripted step, which may check the call.
class ScriptedTransport final : public Transport
{
public:
    using Step = std::function<HttpReply(const HttpCall &)>;
    QList<Step> steps;
    QList<HttpCall> calls;
    int unexpected = 0;

    void send(const HttpCall &call, std::function<void(const HttpReply &)> done) override
    {
        calls.append(call);
        if (steps.isEmpty()) {
            ++unexpected;
            HttpReply reply;
            reply.error = QStringLiteral("unscripted call");
            done(reply);
            return;
        }
        done(steps.takeFirst()(call));
    }
};

HttpReply ok200(const QByteArray &body)
{
    HttpReply reply;
    reply.transport = HttpReply::Transport::Ok;
    reply.status = 200;
    reply.headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/html;charset=utf-8")});
    reply.body = body;
    return reply;
}

// `{"<method>_response":<node>,"sign":"…"}` with the node signed by `key`.
QByteArray signedResponse(const QByteArray &method, const QByteArray &node, const PrivateKey &key)
{
    const QByteArray nodeName = QByteArray(method).replace('.', '_') + "_response";
    return "{\"" + nodeName + "\":" + node + ",\"sign\":\"" + signBase64(key, node) + "\"}";
}

QByteArray value(const FormFields &fields, const char *key)
{
    for (const auto &[k, v] : fields) {
        if (k == key)
            return v;
    }
    return {};
}

bool hasKey(const FormFields &fields, const char *key)
{
    for (const auto &field : fields) {
        if (field.first == key)
            return true;
    }
    return false;
}

// Checks the shape and signature of one gateway call; returns its biz_content.
QJsonObject checkGatewayCall(const HttpCall &call, const QByteArray &method, bool *ok)
{
    *ok = false;
    const auto fields = formDecode(call.body);
    if (!fields || call.method != "POST" || call.url != QUrl(QStringLiteral("https://127.0.0.1:8701/gateway.do"))
        || value(*fields, "method") != method || value(*fields, "app_id") != "2021000000000001"
        || value(*fields, "format") != "JSON" || value(*fields, "charset") != "utf-8"
        || value(*fields, "sign_type") != "RSA2" || value(*fields, "version") != "1.0"
        || value(*fields, "timestamp") != "2026-11-20 10:13:20")
        return {};
    if (hasKey(*fields, "notify_url") != (method == "alipay.trade.precreate"))
        return {};
    const auto toSign = alipayStringToSign(*fields, AlipaySignScope::Request);
    const PublicKey appPublic = PublicKey::load(readFile(keyPath("alipay-app.pub")));
    if (!toSign || verifyRsaSha256(appPublic, *toSign, value(*fields, "sign")) != VerifyStatus::Valid)
        return {};
    // Deterministic PKCS#1 v1.5: signing the same string again gives the same bytes (C3).
    if (signBase64(privateKey("alipay-app.key"), *toSign) != value(*fields, "sign"))
        return {};
    const QJsonDocument biz = QJsonDocument::fromJson(value(*fields, "biz_content"));
    if (!biz.isObject())
        return {};
    *ok = true;
    return biz.object();
}

AlipayConfig sandboxConfig()
{
    AlipayConfig config;
    config.gateway = QUrl(QStringLiteral("https://127.0.0.1:8701/gateway.do"));
    config.appId = QStringLiteral("2021000000000001");
    config.sellerId = QStringLiteral("2088000000000001");
    config.appPrivateKeyFile = keyPath("alipay-app.key");
    config.alipayPublicKeyFile = keyPath("alipay-platform.pub");
    config.notifyUrl = QUrl(QStringLiteral("https://pay.example.cn/notify/alipay"));
    return config;
}

// A minimal ZIP writer for the tests: each entry stored or deflated (zlib raw deflate).
struct TestZipEntry
{
    QByteArray name; // raw bytes as written (GBK for Alipay's names)
    QByteArray data;
    bool deflate = false;
};

void put16(QByteArray &out, quint16 v)
{
    out.append(char(v & 0xff));
    out.append(char(v >> 8));
}

void put32(QByteArray &out, quint32 v)
{
    put16(out, quint16(v & 0xffff));
    put16(out, quint16(v >> 16));
}

QByteArray rawDeflate(const QByteArray &data)
{
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        qFatal("deflateInit2");
    QByteArray out(int(deflateBound(&stream, uLong(data.size()))), Qt::Uninitialized);
    stream.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.constData()));
    stream.avail_in = uInt(data.size());
    stream.next_out = reinterpret_cast<Bytef *>(out.data());
    stream.avail_out = uInt(out.size());
    if (deflate(&stream, Z_FINISH) != Z_STREAM_END)
        qFatal("deflate");
    out.truncate(qsizetype(stream.total_out));
    deflateEnd(&stream);
    return out;
}

QByteArray writeZip(const QList<TestZipEntry> &entries)
{
    QByteArray out;
    QByteArray directory;
    for (const TestZipEntry &entry : entries) {
        const QByteArray stored = entry.deflate ? rawDeflate(entry.data) : entry.data;
        const quint32 crc = quint32(crc32(
            crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef *>(entry.data.constData()), uInt(entry.data.size())));
        const quint16 method = entry.deflate ? 8 : 0;
        const auto offset = quint32(out.size());
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0);
        put16(out, method);
        put16(out, 0);
        put16(out, 0);
        put32(out, crc);
        put32(out, quint32(stored.size()));
        put32(out, quint32(entry.data.size()));
        put16(out, quint16(entry.name.size()));
        put16(out, 0);
        out += entry.name;
        out += stored;
        put32(directory, 0x02014b50);
        put16(directory, 20);
        put16(directory, 20);
        put16(directory, 0);
        put16(directory, method);
        put16(directory, 0);
        put16(directory, 0);
        put32(directory, crc);
        put32(directory, quint32(stored.size()));
        put32(directory, quint32(entry.data.size()));
        put16(directory, quint16(entry.name.size()));
        put16(directory, 0);
        put16(directory, 0);
        put16(directory, 0);
        put16(directory, 0);
        put32(directory, 0);
        put32(directory, offset);
        directory += entry.name;
    }
    const auto directoryOffset = quint32(out.size());
    out += directory;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, quint16(entries.size()));
    put16(out, quint16(entries.size()));
    put32(out, quint32(directory.size()));
    put32(out, directoryOffset);
    put16(out, 0);
    return out;
}

// The bill as the sandbox will write it (columns agreed in alipay.h).
QString billCsv()
{
    return QStringLiteral(
        "#支付宝业务明细查询\r\n"
        "#账号：[2088000000000001]\r\n"
        "#起始日期：[2026年11月24日 00:00:00]   终止日期：[2026年11月25日 00:00:00]\r\n"
        "#-----------------------------------------业务明细列表----------------------------------------\r\n"
        "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
        "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
        "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\r\n"
        "2026112422001400001000000001\t,P0001A\t,交易,电费充值 A-1F-101,2026-11-24 10:00:00,2026-11-24 "
        "10:00:30,,,,K01,buy***@example.cn,88.88,88.88,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.53,0.00,\r\n"
        "2026112422001400001000000001\t,P0001A\t,退款,电费充值 A-1F-101,2026-11-24 10:00:00,2026-11-24 "
        "12:00:00,,,,K01,buy***@example.cn,-10.00,-10.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,R0001A,0.06,0.00,\r\n"
        "#-----------------------------------------业务明细列表结束------------------------------------\r\n"
        "#交易合计：1笔，退款合计：1笔\r\n"
        "#导出时间：[2026年11月25日 09:00:00]\r\n");
}

qint64 beijing(const char *text)
{
    return QDateTime(QDateTime::fromString(QLatin1String(text), QStringLiteral("yyyy-MM-dd HH:mm:ss")).date(),
        QDateTime::fromString(QLatin1String(text), QStringLiteral("yyyy-MM-dd HH:mm:ss")).time(), QTimeZone(8 * 3600))
        .toMSecsSinceEpoch();
}

// A1 (tests/data/payments): a real Alipay notification, as form fields with sign_type and sign.
FormFields a1Fields()
{
    FormFields fields;
    const QByteArray text = readFile(dataPath("a1-string-to-sign.txt"));
    for (const QByteArray &pair : text.split('&')) {
        const qsizetype equals = pair.indexOf('=');
        fields.append({pair.first(equals), pair.sliced(equals + 1)});
    }
    fields.append({QByteArrayLiteral("sign_type"), QByteArrayLiteral("RSA2")});
    fields.append({QByteArrayLiteral("sign"), readFile(dataPath("a1-sign.txt")).trimmed()});
    return fields;
}

void add(FormFields &fields, const char *key, const QByteArray &v)
{
    fields.append({QByteArray(key), v});
}

void setField(FormFields &fields, const char *key, const QByteArray &v)
{
    for (auto &field : fields) {
        if (field.first == key) {
            field.second = v;
            return;
        }
    }
    fields.append({QByteArray(key), v});
}

// A notification signed by the sandbox's "Alipay" key, for the sandbox identities.
FormFields platformNotification(const QByteArray &tradeStatus)
{
    FormFields fields;
    add(fields, "notify_time", "2026-11-24 10:00:31");
    add(fields, "notify_type", "trade_status_sync");
    add(fields, "notify_id", "2026112400222100031000000001");
    add(fields, "app_id", "2021000000000001");
    add(fields, "charset", "utf-8");
    add(fields, "version", "1.0");
    add(fields, "trade_no", "2026112422001400001000000001");
    add(fields, "out_trade_no", "P0001A");
    add(fields, "seller_id", "2088000000000001");
    add(fields, "trade_status", tradeStatus);
    add(fields, "total_amount", "88.88");
    add(fields, "subject", "电费充值 A-1F-101");
    add(fields, "gmt_payment", "2026-11-24 10:00:30");
    return fields;
}

NotifyRequest notifyRequest(FormFields fields, const PrivateKey *signer)
{
    if (signer) {
        setField(fields, "sign_type", "RSA2");
        const auto toSign = alipayStringToSign(fields, AlipaySignScope::Notification);
        if (!toSign)
            qFatal("cannot build the string to sign");
        setField(fields, "sign", signBase64(*signer, *toSign));
    }
    NotifyRequest request;
    request.method = QByteArrayLiteral("POST");
    request.path = QByteArrayLiteral("/notify/alipay");
    request.headers.append(
        {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/x-www-form-urlencoded; charset=utf-8")});
    request.body = formEncode(fields);
    return request;
}

} // namespace

class TestAlipay : public QObject
{
    Q_OBJECT

private:
    test::ManualClock m_clock{1795140800000LL}; // 2026-11-20 10:13:20 Beijing
    PrivateKey m_platform;
    PrivateKey m_app;

    std::unique_ptr<AlipayProvider> provider(ScriptedTransport &transport, const AlipayConfig &config = sandboxConfig())
    {
        QString error;
        auto loaded = loadAlipay(config, transport, m_clock, &error);
        if (!loaded)
            qWarning("loadAlipay: %s", qPrintable(error));
        return loaded;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_platform = privateKey("alipay-platform.key");
        m_app = privateKey("alipay-app.key");
        QVERIFY(!m_platform.isNull());
        QVERIFY(!m_app.isNull());
        QCOMPARE(QDateTime::fromMSecsSinceEpoch(m_clock.wallMs(), QTimeZone(8 * 3600)).toString(Qt::ISODate),
            QStringLiteral("2026-11-20T10:13:20+08:00"));
    }

    void precreateSignsAndReturnsQr()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        QVERIFY(alipay);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const QJsonObject biz = checkGatewayCall(call, "alipay.trade.precreate", &checked);
            const auto fields = formDecode(call.body);
            checked = checked && call.headers.size() == 1
                && call.headers.first().second == "application/x-www-form-urlencoded;charset=utf-8"
                && value(*fields, "notify_url") == "https://pay.example.cn/notify/alipay"
                && biz.value(QLatin1String("out_trade_no")).toString() == QLatin1String("P0001A")
                && biz.value(QLatin1String("total_amount")).toString() == QLatin1String("88.88")
                && biz.value(QLatin1String("subject")).toString() == QStringLiteral("电费充值 A-1F-101")
                && biz.value(QLatin1String("timeout_express")).toString() == QLatin1String("5m")
                && biz.value(QLatin1String("terminal_id")).toString() == QLatin1String("K01");
            return ok200(signedResponse("alipay.trade.precreate",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"P0001A\",\"qr_code\":\"https:\\/\\/"
                "qr.alipay.com\\/bax00001\"}",
                m_platform));
        });
        CreateRequest request;
        request.outTradeNo = QStringLiteral("P0001A");
        request.amountFen = 8888;
        request.subject = QStringLiteral("电费充值 A-1F-101");
        request.terminalId = QStringLiteral("K01");
        std::optional<CreateResult> result;
        alipay->create(request, [&](const CreateResult &r) { result = r; });
        QVERIFY(result);
        QVERIFY(checked);
        QCOMPARE(result->outcome, Outcome::Ok);
        QCOMPARE(result->qrPayload, QStringLiteral("https://qr.alipay.com/bax00001"));
        QCOMPARE(transport.calls.size(), 1);
    }

    void precreateRefusesBadAmountWithoutCall()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        CreateRequest request;
        request.outTradeNo = QStringLiteral("P0001A");
        request.amountFen = -5;
        std::optional<CreateResult> result;
        alipay->create(request, [&](const CreateResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Rejected);
        QCOMPARE(transport.calls.size(), 0);
    }

    void unverifiableAnswersAreUnknown_data()
    {
        QTest::addColumn<int>("kind");
        QTest::newRow("unsigned error_response (H11)") << 0;
        QTest::newRow("sign by the wrong key") << 1;
        QTest::newRow("code 20000") << 2;
        QTest::newRow("HTTP 500") << 3;
        QTest::newRow("timeout") << 4;
        QTest::newRow("node tampered after signing") << 5;
        QTest::newRow("no sign") << 6;
    }

    void unverifiableAnswersAreUnknown()
    {
        QFETCH(int, kind);
        ScriptedTransport transport;
        auto alipay = provider(transport);
        const QByteArray node = "{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"P0001A\",\"qr_code\":"
                                "\"https://qr.alipay.com/bax1\"}";
        transport.steps.append([&](const HttpCall &) {
            switch (kind) {
            case 0:
                return ok200("{\"error_response\":{\"code\":\"40002\",\"msg\":\"Invalid "
                             "Arguments\",\"sub_code\":\"isv.invalid-signature\",\"sub_msg\":\"验签出错\"}}");
            case 1: return ok200(signedResponse("alipay.trade.precreate", node, m_app));
            case 2:
                return ok200(signedResponse("alipay.trade.precreate",
                    "{\"code\":\"20000\",\"msg\":\"Service Currently Unavailable\",\"sub_code\":\"isp.unknow-error\"}",
                    m_platform));
            case 3: {
                HttpReply reply = ok200(signedResponse("alipay.trade.precreate", node, m_platform));
                reply.status = 500;
                return reply;
            }
            case 4: {
                HttpReply reply;
                reply.transport = HttpReply::Transport::Timeout;
                reply.error = QStringLiteral("timed out after 10000 ms");
                return reply;
            }
            case 5: {
                QByteArray body = signedResponse("alipay.trade.precreate", node, m_platform);
                body.replace("bax1", "bax2");
                return ok200(body);
            }
            default: return ok200("{\"alipay_trade_precreate_response\":" + node + "}");
            }
        });
        CreateRequest request;
        request.outTradeNo = QStringLiteral("P0001A");
        request.amountFen = 100;
        std::optional<CreateResult> result;
        alipay->create(request, [&](const CreateResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Unknown);
        QVERIFY(result->qrPayload.isEmpty());
    }

    // K3: our own app public key configured as "the Alipay key" makes every genuine answer fail.
    void ownKeyAsAlipayKeyFails()
    {
        ScriptedTransport transport;
        AlipayConfig config = sandboxConfig();
        config.alipayPublicKeyFile = keyPath("alipay-app.pub");
        auto alipay = provider(transport, config);
        QVERIFY(alipay);
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse("alipay.trade.query",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"P0001A\",\"trade_no\":\"T1\",\"trade_"
                "status\":\"TRADE_SUCCESS\",\"total_amount\":\"88.88\"}",
                m_platform));
        });
        std::optional<QueryResult> result;
        alipay->query(TradeRef{QStringLiteral("P0001A"), 0}, [&](const QueryResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Unknown);
    }

    void queryPaid()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const QJsonObject biz = checkGatewayCall(call, "alipay.trade.query", &checked);
            checked = checked && biz.value(QLatin1String("out_trade_no")).toString() == QLatin1String("P0001A");
            return ok200(signedResponse("alipay.trade.query",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"buyer_logon_id\":\"buy***@example.cn\",\"out_trade_no\":"
                "\"P0001A\",\"send_pay_date\":\"2026-11-24 "
                "10:00:30\",\"total_amount\":\"88.88\",\"trade_no\":\"2026112422001400001000000001\",\"trade_status\":"
                "\"TRADE_SUCCESS\"}",
                m_platform));
        });
        std::optional<QueryResult> result;
        alipay->query(TradeRef{QStringLiteral("P0001A"), 0}, [&](const QueryResult &r) { result = r; });
        QVERIFY(result);
        QVERIFY(checked);
        QCOMPARE(result->outcome, Outcome::Ok);
        QCOMPARE(result->trade.state, TradeState::Paid);
        QCOMPARE(result->trade.totalFen, 8888);
        QCOMPARE(result->trade.providerTxnId, QStringLiteral("2026112422001400001000000001"));
        QCOMPARE(result->trade.paidAtMs, beijing("2026-11-24 10:00:30"));
    }

    void queryNotExistIsNotFound()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse("alipay.trade.query",
                "{\"code\":\"40004\",\"msg\":\"Business "
                "Failed\",\"sub_code\":\"ACQ.TRADE_NOT_EXIST\",\"sub_msg\":\"交易不存在\",\"out_trade_no\":\"P0001A\"}",
                m_platform));
        });
        std::optional<QueryResult> result;
        alipay->query(TradeRef{QStringLiteral("P0001A"), 0}, [&](const QueryResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Ok);
        QCOMPARE(result->trade.state, TradeState::NotFound);
        QCOMPARE(result->code, QStringLiteral("ACQ.TRADE_NOT_EXIST"));
    }

    void otherBusinessFailureIsRejected()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse("alipay.trade.query",
                "{\"code\":\"40004\",\"msg\":\"Business "
                "Failed\",\"sub_code\":\"ACQ.INVALID_PARAMETER\",\"sub_msg\":\"参数无效\"}",
                m_platform));
        });
        std::optional<QueryResult> result;
        alipay->query(TradeRef{QStringLiteral("P0001A"), 0}, [&](const QueryResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Rejected);
        QCOMPARE(result->code, QStringLiteral("ACQ.INVALID_PARAMETER"));
    }

    // T6: cancel answers retry_flag=Y first, then action=refund.
    void cancelRetryThenRefund()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            checkGatewayCall(call, "alipay.trade.cancel", &checked);
            return ok200(signedResponse("alipay.trade.cancel",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"P0001A\",\"retry_flag\":\"Y\",\"action\":"
                "\"close\"}",
                m_platform));
        });
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse("alipay.trade.cancel",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"P0001A\",\"retry_flag\":\"N\",\"action\":"
                "\"refund\"}",
                m_platform));
        });
        std::optional<AbandonResult> first;
        std::optional<AbandonResult> second;
        alipay->abandon(TradeRef{QStringLiteral("P0001A"), 0}, [&](const AbandonResult &r) { first = r; });
        alipay->abandon(TradeRef{QStringLiteral("P0001A"), 0}, [&](const AbandonResult &r) { second = r; });
        QVERIFY(first && second);
        QVERIFY(checked);
        QCOMPARE(first->outcome, Outcome::Ok);
        QVERIFY(first->retry);
        QVERIFY(!first->refunded);
        QCOMPARE(second->outcome, Outcome::Ok);
        QVERIFY(!second->retry);
        QVERIFY(second->refunded);
    }

    void closeOfUnscannedTradeIsOk()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            checkGatewayCall(call, "alipay.trade.close", &checked);
            return ok200(signedResponse("alipay.trade.close",
                "{\"code\":\"40004\",\"msg\":\"Business "
                "Failed\",\"sub_code\":\"ACQ.TRADE_NOT_EXIST\",\"sub_msg\":\"交易不存在\"}",
                m_platform));
        });
        std::optional<AbandonResult> result;
        alipay->close(TradeRef{QStringLiteral("P0001A"), 0}, [&](const AbandonResult &r) { result = r; });
        QVERIFY(result);
        QVERIFY(checked);
        QCOMPARE(result->outcome, Outcome::Ok);
        QVERIFY(!result->refunded);
    }

    void refundFundChange()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const QJsonObject biz = checkGatewayCall(call, "alipay.trade.refund", &checked);
            checked = checked && biz.value(QLatin1String("refund_amount")).toString() == QLatin1String("10.00")
                && biz.value(QLatin1String("out_request_no")).toString() == QLatin1String("R0001A")
                && biz.value(QLatin1String("out_trade_no")).toString() == QLatin1String("P0001A")
                && biz.value(QLatin1String("trade_no")).toString() == QLatin1String("T1");
            return ok200(signedResponse("alipay.trade.refund",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"fund_change\":\"Y\",\"out_trade_no\":\"P0001A\",\"refund_"
                "fee\":\"10.00\",\"trade_no\":\"T1\"}",
                m_platform));
        });
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse("alipay.trade.refund",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"fund_change\":\"N\",\"out_trade_no\":\"P0001A\",\"refund_"
                "fee\":\"10.00\",\"trade_no\":\"T1\"}",
                m_platform));
        });
        RefundRequest request;
        request.trade.outTradeNo = QStringLiteral("P0001A");
        request.providerTxnId = QStringLiteral("T1");
        request.outRefundNo = QStringLiteral("R0001A");
        request.refundFen = 1000;
        request.totalFen = 8888;
        std::optional<RefundResult> first;
        std::optional<RefundResult> repeat;
        alipay->refund(request, [&](const RefundResult &r) { first = r; });
        alipay->refund(request, [&](const RefundResult &r) { repeat = r; });
        QVERIFY(first && repeat);
        QVERIFY(checked);
        QCOMPARE(first->outcome, Outcome::Ok);
        QVERIFY(first->fundChanged);
        QCOMPARE(first->state, RefundState::Succeeded);
        QCOMPARE(first->refundFen, 1000);
        QCOMPARE(repeat->outcome, Outcome::Ok);
        QVERIFY(!repeat->fundChanged);
        QCOMPARE(repeat->state, RefundState::Processing);
    }

    void refundQueryStates()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const QJsonObject biz = checkGatewayCall(call, "alipay.trade.fastpay.refund.query", &checked);
            checked = checked && biz.value(QLatin1String("out_request_no")).toString() == QLatin1String("R0001A");
            return ok200(signedResponse("alipay.trade.fastpay.refund.query",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"out_request_no\":\"R0001A\",\"out_trade_no\":\"P0001A\","
                "\"refund_amount\":\"10.00\",\"refund_status\":\"REFUND_SUCCESS\",\"total_amount\":\"88.88\",\"trade_"
                "no\":\"T1\"}",
                m_platform));
        });
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse(
                "alipay.trade.fastpay.refund.query", "{\"code\":\"10000\",\"msg\":\"Success\"}", m_platform));
        });
        std::optional<RefundResult> done;
        std::optional<RefundResult> absent;
        alipay->refundQuery(
            TradeRef{QStringLiteral("P0001A"), 0}, QStringLiteral("R0001A"), [&](const RefundResult &r) { done = r; });
        alipay->refundQuery(TradeRef{QStringLiteral("P0001A"), 0}, QStringLiteral("R0002A"),
            [&](const RefundResult &r) { absent = r; });
        QVERIFY(done && absent);
        QVERIFY(checked);
        QCOMPARE(done->outcome, Outcome::Ok);
        QCOMPARE(done->state, RefundState::Succeeded);
        QCOMPARE(done->refundFen, 1000);
        QCOMPARE(absent->outcome, Outcome::Ok);
        QCOMPARE(absent->state, RefundState::Processing);
        QCOMPARE(absent->code, QStringLiteral("REFUND_NOT_EXIST"));
    }

    void billDownloadZipGbk()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        const auto csv = encodeGbk(billCsv());
        const auto name = encodeGbk(QStringLiteral("20881234567890120156_20261124_业务明细.csv"));
        const auto summaryName = encodeGbk(QStringLiteral("20881234567890120156_20261124_业务明细(汇总).csv"));
        const auto summary = encodeGbk(QStringLiteral("#支付宝业务汇总查询\r\n"));
        QVERIFY(csv && name && summaryName && summary);
        const QByteArray zip = writeZip({TestZipEntry{*summaryName, *summary, false}, TestZipEntry{*name, *csv, true}});
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const QJsonObject biz = checkGatewayCall(call, "alipay.data.dataservice.bill.downloadurl.query", &checked);
            checked = checked && biz.value(QLatin1String("bill_type")).toString() == QLatin1String("trade")
                && biz.value(QLatin1String("bill_date")).toString() == QLatin1String("2026-11-24");
            return ok200(signedResponse("alipay.data.dataservice.bill.downloadurl.query",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"bill_download_url\":\"https:\\/\\/127.0.0.1:8701\\/bill\\/"
                "download?id=1\"}",
                m_platform));
        });
        transport.steps.append([&](const HttpCall &call) {
            checked = checked && call.method == "GET"
                && call.url == QUrl(QStringLiteral("https://127.0.0.1:8701/bill/download?id=1"));
            return ok200(zip);
        });
        std::optional<BillResult> result;
        alipay->bill(QDate(2026, 11, 24), [&](const BillResult &r) { result = r; });
        QVERIFY(result);
        QVERIFY(checked);
        QCOMPARE(result->outcome, Outcome::Ok);
        QCOMPARE(result->raw, zip);
        QCOMPARE(result->rows.size(), 2);
        const BillRow &paid = result->rows.at(0);
        QCOMPARE(paid.kind, BillRow::Kind::Payment);
        QCOMPARE(paid.outTradeNo, QStringLiteral("P0001A"));
        QCOMPARE(paid.providerTxnId, QStringLiteral("2026112422001400001000000001"));
        QCOMPARE(paid.amountFen, 8888);
        QCOMPARE(paid.atMs, beijing("2026-11-24 10:00:30"));
        const BillRow &refunded = result->rows.at(1);
        QCOMPARE(refunded.kind, BillRow::Kind::Refund);
        QCOMPARE(refunded.outRefundNo, QStringLiteral("R0001A"));
        QCOMPARE(refunded.amountFen, 1000);
        QCOMPARE(refunded.atMs, beijing("2026-11-24 12:00:00"));
    }

    void billBadDownloadIsNotOk()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        transport.steps.append([&](const HttpCall &) {
            return ok200(signedResponse("alipay.data.dataservice.bill.downloadurl.query",
                "{\"code\":\"10000\",\"msg\":\"Success\",\"bill_download_url\":\"https://127.0.0.1:8701/bill/"
                "download?id=1\"}",
                m_platform));
        });
        transport.steps.append([&](const HttpCall &) { return ok200("<html>expired</html>"); });
        std::optional<BillResult> result;
        alipay->bill(QDate(2026, 11, 24), [&](const BillResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Unknown);
        QVERIFY(result->rows.isEmpty());
    }

    void billParseErrors()
    {
        QString error;
        QVERIFY(!parseAlipayBill(QStringLiteral("#only comments\n"), &error));
        QVERIFY(!parseAlipayBill(QStringLiteral("支付宝交易号,商户订单号\nT1,P1\n"), &error));
        QVERIFY(error.contains(QStringLiteral("业务类型")));
        QString bad = billCsv();
        bad.replace(QStringLiteral(",88.88,88.88,"), QStringLiteral(",88.888,88.88,"));
        QVERIFY(!parseAlipayBill(bad, &error));
        QVERIFY(error.contains(QStringLiteral("line 6")));
        const auto good = parseAlipayBill(billCsv(), &error);
        QVERIFY(good);
        QCOMPARE(good->rows.size(), 2);
    }

    void zipReader()
    {
        const QByteArray text = QByteArray("hello, bill ").repeated(200);
        const QByteArray zip = writeZip({TestZipEntry{"a.txt", text, true}, TestZipEntry{"b.txt", "stored", false}});
        const ZipArchive archive = readZip(zip);
        QCOMPARE(archive.status, ZipStatus::Ok);
        QCOMPARE(archive.entries.size(), 2);
        QCOMPARE(archive.entries.at(0).name, QStringLiteral("a.txt"));
        QCOMPARE(archive.entries.at(0).data, text);
        QCOMPARE(archive.entries.at(1).data, QByteArray("stored"));
        QVERIFY(zip.size() < text.size()); // really deflated

        QCOMPARE(readZip("not a zip at all, just text").status, ZipStatus::NotZip);
        QCOMPARE(readZip(QByteArray()).status, ZipStatus::NotZip);
        QByteArray flipped = writeZip({TestZipEntry{"b.txt", "stored", false}});
        flipped[30 + 5] = 'X'; // a data byte of the stored entry: the CRC no longer matches
        QCOMPARE(readZip(flipped).status, ZipStatus::BadChecksum);
        QByteArray truncated = zip;
        truncated.remove(10, 40); // offsets now point past the data
        QVERIFY(readZip(truncated).status != ZipStatus::Ok);
    }

    void notificationA1Valid()
    {
        AlipayConfig config = sandboxConfig();
        config.appId = QStringLiteral("2019073166072302");
        config.sellerId = QStringLiteral("2088531891668739");
        config.alipayPublicKeyFile = dataPath("a1-alipay-public-key.txt");
        ScriptedTransport transport;
        auto alipay = provider(transport, config);
        QVERIFY(alipay);
        const Notification valid = alipay->readNotification(notifyRequest(a1Fields(), nullptr), 0);
        QCOMPARE(valid.verdict, NotifyVerdict::Valid);
        QCOMPARE(valid.kind, Notification::Kind::Payment);
        QCOMPARE(valid.trade.state, TradeState::Paid);
        QCOMPARE(valid.trade.totalFen, 10);
        QCOMPARE(valid.trade.outTradeNo, QStringLiteral("20190815155618536-564-57"));
        QCOMPARE(valid.trade.providerTxnId, QStringLiteral("2019081522001468450512505578"));
        QCOMPARE(valid.trade.paidAtMs, beijing("2019-08-15 15:56:24"));
        QCOMPARE(valid.eventId, QStringLiteral("2019081500222155624068450559358070"));

        FormFields changed = a1Fields();
        setField(changed, "total_amount", "0.11");
        QCOMPARE(alipay->readNotification(notifyRequest(changed, nullptr), 0).verdict, NotifyVerdict::BadSignature);

        // H10: a framework that HTML-escaped fund_bill_list must not be "fixed up" by us.
        FormFields escaped = a1Fields();
        setField(escaped, "fund_bill_list",
            "[{&quot;amount&quot;:&quot;0.10&quot;,&quot;fundChannel&quot;:&quot;ALIPAYACCOUNT&quot;}]");
        QCOMPARE(alipay->readNotification(notifyRequest(escaped, nullptr), 0).verdict, NotifyVerdict::BadSignature);

        FormFields unsigned_ = a1Fields();
        setField(unsigned_, "sign", "");
        QCOMPARE(alipay->readNotification(notifyRequest(unsigned_, nullptr), 0).verdict, NotifyVerdict::BadSignature);

        // The same verified vector under the sandbox identities is foreign.
        ScriptedTransport other;
        AlipayConfig sandbox = sandboxConfig();
        sandbox.alipayPublicKeyFile = dataPath("a1-alipay-public-key.txt");
        auto sandboxAlipay = provider(other, sandbox);
        QCOMPARE(
            sandboxAlipay->readNotification(notifyRequest(a1Fields(), nullptr), 0).verdict, NotifyVerdict::Foreign);
    }

    // H6: signed correctly by the platform key, but for another app or seller.
    void notificationForeign()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        FormFields fields = platformNotification("TRADE_SUCCESS");
        QCOMPARE(alipay->readNotification(notifyRequest(fields, &m_platform), 0).verdict, NotifyVerdict::Valid);
        setField(fields, "app_id", "2021000000000999");
        QCOMPARE(alipay->readNotification(notifyRequest(fields, &m_platform), 0).verdict, NotifyVerdict::Foreign);
        fields = platformNotification("TRADE_SUCCESS");
        setField(fields, "seller_id", "2088000000000999");
        QCOMPARE(alipay->readNotification(notifyRequest(fields, &m_platform), 0).verdict, NotifyVerdict::Foreign);
        // Signed by our own app key: not Alipay's word.
        QCOMPARE(alipay->readNotification(notifyRequest(platformNotification("TRADE_SUCCESS"), &m_app), 0).verdict,
            NotifyVerdict::BadSignature);
    }

    // H15
    void notificationMalformed()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        const NotifyRequest good = notifyRequest(platformNotification("TRADE_SUCCESS"), &m_platform);
        QCOMPARE(alipay->readNotification(good, 0).verdict, NotifyVerdict::Valid);

        NotifyRequest duplicate = good;
        duplicate.body += "&trade_status=TRADE_SUCCESS";
        QCOMPARE(alipay->readNotification(duplicate, 0).verdict, NotifyVerdict::Malformed);

        NotifyRequest json = good;
        json.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")}};
        QCOMPARE(alipay->readNotification(json, 0).verdict, NotifyVerdict::Malformed);

        NotifyRequest noType = good;
        noType.headers.clear();
        QCOMPARE(alipay->readNotification(noType, 0).verdict, NotifyVerdict::Malformed);

        NotifyRequest big = good;
        big.body += "&padding=" + QByteArray(formBodyBytesMax, 'x');
        QCOMPARE(alipay->readNotification(big, 0).verdict, NotifyVerdict::Malformed);

        NotifyRequest query = good;
        query.query = QByteArrayLiteral("a=1");
        QCOMPARE(alipay->readNotification(query, 0).verdict, NotifyVerdict::Malformed);

        NotifyRequest broken = good;
        broken.body += "&bad=%zz";
        QCOMPARE(alipay->readNotification(broken, 0).verdict, NotifyVerdict::Malformed);
    }

    // P4: refund notifications never count as a payment, even with trade_status TRADE_SUCCESS.
    void refundNotification()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        FormFields fields = platformNotification("TRADE_SUCCESS");
        add(fields, "refund_fee", "10.00");
        add(fields, "out_biz_no", "R0001A");
        add(fields, "gmt_refund", "2026-11-24 12:00:00.123");
        const Notification n = alipay->readNotification(notifyRequest(fields, &m_platform), 0);
        QCOMPARE(n.verdict, NotifyVerdict::Valid);
        QCOMPARE(n.kind, Notification::Kind::Refund);
        QCOMPARE(n.refund.outRefundNo, QStringLiteral("R0001A"));
        QCOMPARE(n.refund.refundFen, 1000);
        QCOMPARE(n.trade.outTradeNo, QStringLiteral("P0001A"));
    }

    // H13
    void notPaidStatuses_data()
    {
        QTest::addColumn<QByteArray>("status");
        QTest::addColumn<TradeState>("state");
        QTest::newRow("TRADE_CLOSED") << QByteArray("TRADE_CLOSED") << TradeState::Closed;
        QTest::newRow("WAIT_BUYER_PAY") << QByteArray("WAIT_BUYER_PAY") << TradeState::WaitingPayment;
    }

    void notPaidStatuses()
    {
        QFETCH(QByteArray, status);
        QFETCH(TradeState, state);
        ScriptedTransport transport;
        auto alipay = provider(transport);
        const Notification n = alipay->readNotification(notifyRequest(platformNotification(status), &m_platform), 0);
        QCOMPARE(n.verdict, NotifyVerdict::Valid);
        QCOMPARE(n.kind, Notification::Kind::Payment);
        QCOMPARE(n.trade.state, state);
        QVERIFY(n.trade.state != TradeState::Paid);
    }

    void notifyReplies()
    {
        ScriptedTransport transport;
        auto alipay = provider(transport);
        const NotifyReply yes = alipay->notifyReply(true, {});
        QCOMPARE(yes.status, 200);
        QCOMPARE(yes.body, QByteArray("success"));
        QCOMPARE(yes.contentType, QByteArray("text/plain"));
        const NotifyReply no = alipay->notifyReply(false, QStringLiteral("db busy"));
        QCOMPARE(no.status, 200);
        QCOMPARE(no.body, QByteArray("fail"));
    }

    // Certificate mode (§1.6), with stand-in certificates from the sandbox folder: requests carry
    // app_cert_sn and alipay_root_cert_sn; answers are verified with the certificate their
    // alipay_cert_sn names, and an unknown SN is never believed.
    void certificateMode()
    {
        AlipayConfig config = sandboxConfig();
        config.alipayPublicKeyFile.clear();
        config.alipayCertFiles = {keyPath("wechat-platform-1.pem")};
        config.appCertFile = keyPath("unionpay-merchant.pem");
        config.rootCertFile = keyPath("unionpay-root.pem");
        ScriptedTransport transport;
        auto alipay = provider(transport, config);
        QVERIFY(alipay);
        const Certificate alipayCert = Certificate::load(readFile(keyPath("wechat-platform-1.pem")));
        const Certificate appCert = Certificate::load(readFile(keyPath("unionpay-merchant.pem")));
        const PrivateKey certKey = privateKey("wechat-platform-1.key");
        const QByteArray node = "{\"code\":\"40004\",\"msg\":\"Business Failed\",\"sub_code\":\"ACQ.TRADE_NOT_EXIST\"}";
        const auto body = [&](const QByteArray &sn) -> QByteArray {
            return "{\"alipay_trade_query_response\":" + node + ",\"alipay_cert_sn\":\"" + sn + "\",\"sign\":\""
                + signBase64(certKey, node) + "\"}";
        };
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const auto fields = formDecode(call.body);
            checked = fields && value(*fields, "app_cert_sn") == alipayCertSn(appCert)
                && value(*fields, "alipay_root_cert_sn") == *alipayRootCertSn(readFile(keyPath("unionpay-root.pem")));
            return ok200(body(alipayCertSn(alipayCert)));
        });
        transport.steps.append([&](const HttpCall &) { return ok200(body("0123456789abcdef0123456789abcdef")); });
        std::optional<QueryResult> known;
        std::optional<QueryResult> unknown;
        alipay->query(TradeRef{QStringLiteral("P0001A"), 0}, [&](const QueryResult &r) { known = r; });
        alipay->query(TradeRef{QStringLiteral("P0001A"), 0}, [&](const QueryResult &r) { unknown = r; });
        QVERIFY(known && unknown);
        QVERIFY(checked);
        QCOMPARE(known->outcome, Outcome::Ok);
        QCOMPARE(known->trade.state, TradeState::NotFound);
        QCOMPARE(unknown->outcome, Outcome::Unknown);
    }

    void loadErrorsNameTheFile()
    {
        ScriptedTransport transport;
        const QByteArray appKeyText = readFile(keyPath("alipay-app.key"));
        const QByteArray keyLine = appKeyText.split('\n').value(1); // one line of key material

        AlipayConfig missing = sandboxConfig();
        missing.alipayPublicKeyFile = QStringLiteral("/nonexistent/alipay-public.pem");
        QString error;
        QVERIFY(!loadAlipay(missing, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("/nonexistent/alipay-public.pem")), qPrintable(error));
        QVERIFY(error.contains(QStringLiteral("missing")));

        AlipayConfig swapped = sandboxConfig();
        swapped.appPrivateKeyFile = keyPath("alipay-app.pub"); // a public key where the private one goes
        QVERIFY(!loadAlipay(swapped, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("alipay-app.pub")), qPrintable(error));
        QVERIFY(!error.contains(QLatin1String(keyLine)));
        QVERIFY(!error.contains(QStringLiteral("BEGIN")));

        AlipayConfig privateAsPublic = sandboxConfig();
        privateAsPublic.alipayPublicKeyFile = keyPath("alipay-app.key");
        QVERIFY(!loadAlipay(privateAsPublic, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("alipay-app.key")), qPrintable(error));
        QVERIFY(!error.contains(QLatin1String(keyLine)));

        AlipayConfig ec = sandboxConfig();
        ec.appPrivateKeyFile = dataPath("ec-p256-key.pem");
        QVERIFY(!loadAlipay(ec, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("ec-p256-key.pem")) && error.contains(QStringLiteral("RSA")),
            qPrintable(error));

        AlipayConfig both = sandboxConfig();
        both.alipayCertFiles = {dataPath("a4-alipayCertPublicKey_RSA2.crt")};
        QVERIFY(!loadAlipay(both, transport, m_clock, &error));

        QVERIFY(loadAlipay(sandboxConfig(), transport, m_clock, &error));
        QVERIFY(error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAlipay)
#include "tst_alipay.moc"
