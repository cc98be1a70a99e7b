// The UnionPay adapter (unionpay.h, ACP 5.1.0 signMethod=01) without a network: a scripted
// Transport checks each outgoing form and answers with forms signed here by the sandbox's
// "UnionPay" signing certificate (drivers/sim/pay/keys/unionpay-sign.{key,pem}, issued by
// unionpay-root.pem). What is checked:
//  - the digest rule (signature left out, empty values dropped, byte-order sort, hex SHA-256);
//  - create: endpoint, common fields, certId = decimal serial, txnTime/payTimeout in Beijing
//    time, txnAmt in fen, a signature that verifies with the merchant certificate; qrCode back;
//    another respCode → Rejected; 04 → Unknown;
//  - query: origRespCode 00 → Paid with queryId, txnAmt and CNY; respCode 34 → NotFound;
//  - answers and notifications that are forged (wrong key), signed by a certificate not issued
//    by the root, by a certificate without UnionPay's CN, or outside the validity → Unknown /
//    BadSignature; a verified notification for another merId → Foreign; malformed shapes;
//  - abandon answers Ok without a call; refund / refund query / bill are NOT_SUPPORTED.
#include "payments/paycanon.h"
#include "payments/paycrypto.h"
#include "payments/unionpay.h"

#include "manualclock.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QTimeZone>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::payments;

namespace {

QString keyPath(const char *name)
{
    return QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys/") + QLatin1String(name);
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

class ScriptedTransport final : public Transport
{
public:
    using Step = std::function<HttpReply(const HttpCall &)>;
    QList<Step> steps;
    QList<HttpCall> calls;

    void send(const HttpCall &call, std::function<void(const HttpReply &)> done) override
    {
        calls.append(call);
        HttpReply reply;
        if (steps.isEmpty()) {
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
    reply.body = body;
    return reply;
}

QByteArray value(const FormFields &fields, const char *key)
{
    for (const auto &[k, v] : fields) {
        if (k == key)
            return v;
    }
    return {};
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
    add(fields, key, v);
}

// Signs `fields` the ACP way with `keyFile`, carrying `certFile` as signPubKeyCert.
QByteArray signedForm(FormFields fields, const char *keyFile, const char *certFile)
{
    setField(fields, "signPubKeyCert", readFile(keyPath(certFile)));
    const auto digest = unionPayDigest(fields);
    const auto signature = digest ? signRsaSha256(PrivateKey::load(readFile(keyPath(keyFile))), *digest) : std::nullopt;
    if (!signature)
        qFatal("cannot sign");
    setField(fields, "signature", encodeBase64(*signature));
    return formEncode(fields);
}

FormFields answerBase()
{
    FormFields fields;
    add(fields, "version", "5.1.0");
    add(fields, "encoding", "UTF-8");
    add(fields, "signMethod", "01");
    add(fields, "accessType", "0");
    add(fields, "bizType", "000000");
    add(fields, "merId", "777290058110048");
    add(fields, "orderId", "U0001A");
    add(fields, "txnTime", "20261201150000");
    return fields;
}

FormFields notifyFields()
{
    FormFields fields = answerBase();
    add(fields, "txnType", "01");
    add(fields, "txnSubType", "07");
    add(fields, "respCode", "00");
    add(fields, "respMsg", "成功[0000000]");
    add(fields, "txnAmt", "8888");
    add(fields, "currencyCode", "156");
    add(fields, "queryId", "752612011500001234567");
    add(fields, "traceNo", "123456");
    add(fields, "traceTime", "1201150030");
    add(fields, "certId", "69026276696");
    return fields;
}

NotifyRequest notifyRequest(const QByteArray &body)
{
    NotifyRequest request;
    request.method = QByteArrayLiteral("POST");
    request.path = QByteArrayLiteral("/notify/unionpay");
    request.headers.append(
        {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/x-www-form-urlencoded;charset=UTF-8")});
    request.body = body;
    return request;
}

UnionPayConfig sandboxConfig()
{
    UnionPayConfig config;
    config.gateway = QUrl(QStringLiteral("https://127.0.0.1:8701"));
    config.merId = QStringLiteral("777290058110048");
    config.signKeyFile = keyPath("unionpay-merchant.key");
    config.signCertFile = keyPath("unionpay-merchant.pem");
    config.rootCertFile = keyPath("unionpay-root.pem");
    config.backUrl = QUrl(QStringLiteral("https://pay.example.cn/notify/unionpay"));
    return config;
}

qint64 beijingMs(int y, int mo, int d, int h, int mi, int s)
{
    return QDateTime(QDate(y, mo, d), QTime(h, mi, s), QTimeZone(8 * 3600)).toMSecsSinceEpoch();
}

} // namespace

class TestUnionPay : public QObject
{
    Q_OBJECT

private:
    // After the sandbox certificates' notBefore (2026-11-24 12:28:50 UTC).
    test::ManualClock m_clock{1796000000000LL};

    std::unique_ptr<UnionPayProvider> provider(
        ScriptedTransport &transport, const UnionPayConfig &config = sandboxConfig())
    {
        QString error;
        auto loaded = loadUnionPay(config, transport, m_clock, &error);
        if (!loaded)
            qWarning("loadUnionPay: %s", qPrintable(error));
        return loaded;
    }

    CreateRequest createRequest() const
    {
        CreateRequest request;
        request.outTradeNo = QStringLiteral("U0001A");
        request.amountFen = 8888;
        request.subject = QStringLiteral("电费充值");
        request.terminalId = QStringLiteral("K01");
        request.createdAtMs = beijingMs(2026, 12, 1, 15, 0, 0);
        request.expiresAtMs = beijingMs(2026, 12, 1, 15, 5, 0);
        return request;
    }

private Q_SLOTS:
    void digestRule()
    {
        FormFields fields;
        add(fields, "b", "2");
        add(fields, "signature", "ignored");
        add(fields, "a", "1");
        add(fields, "c", "");
        add(fields, "B", "upper");
        QCOMPARE(*unionPayDigest(fields), sha256(QByteArrayView("B=upper&a=1&b=2")).toHex());
        QCOMPARE(unionPayDigest(fields)->size(), 64);
        add(fields, "a", "again");
        QVERIFY(!unionPayDigest(fields));
    }

    void createSignsAndReturnsQr()
    {
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        QVERIFY(unionpay);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const auto fields = formDecode(call.body);
            const Certificate merchant = Certificate::load(readFile(keyPath("unionpay-merchant.pem")));
            const auto digest = fields ? unionPayDigest(*fields) : std::nullopt;
            checked = fields && call.method == "POST"
                && call.url == QUrl(QStringLiteral("https://127.0.0.1:8701/gateway/api/backTransReq.do"))
                && value(*fields, "version") == "5.1.0" && value(*fields, "encoding") == "UTF-8"
                && value(*fields, "signMethod") == "01" && value(*fields, "certId") == "69042905377"
                && value(*fields, "accessType") == "0" && value(*fields, "merId") == "777290058110048"
                && value(*fields, "bizType") == "000000" && value(*fields, "txnType") == "01"
                && value(*fields, "txnSubType") == "07" && value(*fields, "channelType") == "08"
                && value(*fields, "orderId") == "U0001A" && value(*fields, "txnTime") == "20261201150000"
                && value(*fields, "txnAmt") == "8888" && value(*fields, "currencyCode") == "156"
                && value(*fields, "backUrl") == "https://pay.example.cn/notify/unionpay"
                && value(*fields, "payTimeout") == "20261201150500" && value(*fields, "termId") == "K01" && digest
                && verifyRsaSha256(merchant.publicKey(), *digest, value(*fields, "signature")) == VerifyStatus::Valid;
            FormFields answer = answerBase();
            add(answer, "txnType", "01");
            add(answer, "respCode", "00");
            add(answer, "respMsg", "成功[0000000]");
            add(answer, "qrCode", "https://qr.95516.com/00010000/62220000000001");
            return ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
        });
        std::optional<CreateResult> result;
        unionpay->create(createRequest(), [&](const CreateResult &r) { result = r; });
        QVERIFY(result);
        QVERIFY(checked);
        QCOMPARE(result->outcome, Outcome::Ok);
        QCOMPARE(result->qrPayload, QStringLiteral("https://qr.95516.com/00010000/62220000000001"));
    }

    void createRespCodes_data()
    {
        QTest::addColumn<QByteArray>("respCode");
        QTest::addColumn<Outcome>("outcome");
        QTest::newRow("12 refused") << QByteArray("12") << Outcome::Rejected;
        QTest::newRow("04 state unknown") << QByteArray("04") << Outcome::Unknown;
    }

    void createRespCodes()
    {
        QFETCH(QByteArray, respCode);
        QFETCH(Outcome, outcome);
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        transport.steps.append([&](const HttpCall &) {
            FormFields answer = answerBase();
            add(answer, "respCode", respCode);
            add(answer, "respMsg", "重复交易");
            return ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
        });
        std::optional<CreateResult> result;
        unionpay->create(createRequest(), [&](const CreateResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, outcome);
        QCOMPARE(result->code, QString::fromLatin1(respCode));
        QVERIFY(result->qrPayload.isEmpty());
    }

    // Forged, unchained, wrong CN, timeouts: never believed.
    void unverifiableAnswersAreUnknown_data()
    {
        QTest::addColumn<int>("kind");
        QTest::newRow("signed with the merchant key (forged)") << 0;
        QTest::newRow("certificate not issued by the root") << 1;
        QTest::newRow("issued by the root, CN not UnionPay") << 2;
        QTest::newRow("tampered after signing") << 3;
        QTest::newRow("timeout") << 4;
        QTest::newRow("HTTP 502") << 5;
        QTest::newRow("unsigned") << 6;
        QTest::newRow("verified, another merId") << 7;
    }

    void unverifiableAnswersAreUnknown()
    {
        QFETCH(int, kind);
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        transport.steps.append([&](const HttpCall &) {
            FormFields answer = answerBase();
            add(answer, "respCode", "00");
            add(answer, "qrCode", "https://qr.95516.com/00010000/1");
            switch (kind) {
            case 0: return ok200(signedForm(answer, "unionpay-merchant.key", "unionpay-sign.pem"));
            case 1: return ok200(signedForm(answer, "wechat-platform-1.key", "wechat-platform-1.pem"));
            case 2: return ok200(signedForm(answer, "unionpay-root.key", "unionpay-root.pem"));
            case 3: {
                QByteArray body = signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem");
                body.replace("%2F1", "%2F2");
                return ok200(body);
            }
            case 4: {
                HttpReply reply;
                reply.transport = HttpReply::Transport::Timeout;
                return reply;
            }
            case 5: {
                HttpReply reply = ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
                reply.status = 502;
                return reply;
            }
            case 7: {
                setField(answer, "merId", "777290058119999");
                return ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
            }
            default: return ok200(formEncode(answer));
            }
        });
        std::optional<CreateResult> result;
        unionpay->create(createRequest(), [&](const CreateResult &r) { result = r; });
        QVERIFY(result);
        QCOMPARE(result->outcome, Outcome::Unknown);
        QVERIFY(result->qrPayload.isEmpty());
    }

    void queryPaidAndNotFound()
    {
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        bool checked = false;
        transport.steps.append([&](const HttpCall &call) {
            const auto fields = formDecode(call.body);
            checked = fields && call.url == QUrl(QStringLiteral("https://127.0.0.1:8701/gateway/api/queryTrans.do"))
                && value(*fields, "txnType") == "00" && value(*fields, "txnSubType") == "00"
                && value(*fields, "channelType") == "07" && value(*fields, "orderId") == "U0001A"
                && value(*fields, "txnTime") == "20261201150000" && value(*fields, "certId") == "69042905377";
            FormFields answer = answerBase();
            add(answer, "txnType", "00");
            add(answer, "respCode", "00");
            add(answer, "origRespCode", "00");
            add(answer, "queryId", "752612011500001234567");
            add(answer, "txnAmt", "8888");
            add(answer, "currencyCode", "156");
            return ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
        });
        transport.steps.append([&](const HttpCall &) {
            FormFields answer = answerBase();
            add(answer, "respCode", "34");
            add(answer, "respMsg", "查无此交易");
            return ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
        });
        transport.steps.append([&](const HttpCall &) {
            FormFields answer = answerBase();
            add(answer, "respCode", "00");
            add(answer, "origRespCode", "05");
            add(answer, "txnAmt", "8888");
            return ok200(signedForm(answer, "unionpay-sign.key", "unionpay-sign.pem"));
        });
        const TradeRef ref{QStringLiteral("U0001A"), beijingMs(2026, 12, 1, 15, 0, 0)};
        std::optional<QueryResult> paid;
        std::optional<QueryResult> missing;
        std::optional<QueryResult> waiting;
        unionpay->query(ref, [&](const QueryResult &r) { paid = r; });
        unionpay->query(ref, [&](const QueryResult &r) { missing = r; });
        unionpay->query(ref, [&](const QueryResult &r) { waiting = r; });
        QVERIFY(paid && missing && waiting);
        QVERIFY(checked);
        QCOMPARE(paid->outcome, Outcome::Ok);
        QCOMPARE(paid->trade.state, TradeState::Paid);
        QCOMPARE(paid->trade.providerTxnId, QStringLiteral("752612011500001234567"));
        QCOMPARE(paid->trade.totalFen, 8888);
        QCOMPARE(paid->trade.currency, QStringLiteral("CNY"));
        QCOMPARE(missing->outcome, Outcome::Ok);
        QCOMPARE(missing->trade.state, TradeState::NotFound);
        QCOMPARE(waiting->outcome, Outcome::Ok);
        QCOMPARE(waiting->trade.state, TradeState::WaitingPayment);
    }

    void notificationValid()
    {
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        const Notification n = unionpay->readNotification(
            notifyRequest(signedForm(notifyFields(), "unionpay-sign.key", "unionpay-sign.pem")), m_clock.wallMs());
        QCOMPARE(n.verdict, NotifyVerdict::Valid);
        QCOMPARE(n.kind, Notification::Kind::Payment);
        QCOMPARE(n.trade.state, TradeState::Paid);
        QCOMPARE(n.trade.outTradeNo, QStringLiteral("U0001A"));
        QCOMPARE(n.trade.totalFen, 8888);
        QCOMPARE(n.trade.currency, QStringLiteral("CNY"));
        QCOMPARE(n.eventId, QStringLiteral("752612011500001234567"));
        QCOMPARE(transport.calls.size(), 0);
    }

    void notificationRejections()
    {
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        const qint64 now = m_clock.wallMs();
        const auto verdict
            = [&](const QByteArray &body) { return unionpay->readNotification(notifyRequest(body), now).verdict; };

        QCOMPARE(verdict(signedForm(notifyFields(), "unionpay-merchant.key", "unionpay-sign.pem")),
            NotifyVerdict::BadSignature);
        QCOMPARE(verdict(signedForm(notifyFields(), "wechat-platform-1.key", "wechat-platform-1.pem")),
            NotifyVerdict::BadSignature);
        QCOMPARE(
            verdict(signedForm(notifyFields(), "unionpay-root.key", "unionpay-root.pem")), NotifyVerdict::BadSignature);
        QByteArray changed = signedForm(notifyFields(), "unionpay-sign.key", "unionpay-sign.pem");
        changed.replace("txnAmt=8888", "txnAmt=8889");
        QCOMPARE(verdict(changed), NotifyVerdict::BadSignature);
        QCOMPARE(verdict(formEncode(notifyFields())), NotifyVerdict::BadSignature);

        // Before the signing certificate's notBefore: not believed either.
        const QByteArray good = signedForm(notifyFields(), "unionpay-sign.key", "unionpay-sign.pem");
        QCOMPARE(unionpay->readNotification(notifyRequest(good), 1795000000000LL).verdict, NotifyVerdict::BadSignature);
        QCOMPARE(verdict(good), NotifyVerdict::Valid);

        FormFields foreign = notifyFields();
        setField(foreign, "merId", "777290058119999");
        QCOMPARE(verdict(signedForm(foreign, "unionpay-sign.key", "unionpay-sign.pem")), NotifyVerdict::Foreign);

        NotifyRequest json = notifyRequest(good);
        json.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")}};
        QCOMPARE(unionpay->readNotification(json, now).verdict, NotifyVerdict::Malformed);
        QCOMPARE(verdict(good + "&respCode=00"), NotifyVerdict::Malformed);
        QCOMPARE(verdict(good + "&pad=" + QByteArray(formBodyBytesMax, 'x')), NotifyVerdict::Malformed);

        FormFields failed = notifyFields();
        setField(failed, "respCode", "61");
        const Notification n = unionpay->readNotification(
            notifyRequest(signedForm(failed, "unionpay-sign.key", "unionpay-sign.pem")), now);
        QCOMPARE(n.verdict, NotifyVerdict::Valid);
        QVERIFY(n.trade.state != TradeState::Paid);
    }

    void unsupportedAndAbandon()
    {
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        std::optional<AbandonResult> abandoned;
        std::optional<RefundResult> refunded;
        std::optional<RefundResult> refundQueried;
        std::optional<BillResult> billed;
        unionpay->abandon(TradeRef{QStringLiteral("U0001A"), 0}, [&](const AbandonResult &r) { abandoned = r; });
        unionpay->refund(RefundRequest{}, [&](const RefundResult &r) { refunded = r; });
        unionpay->refundQuery(TradeRef{}, QStringLiteral("R1"), [&](const RefundResult &r) { refundQueried = r; });
        unionpay->bill(QDate(2026, 12, 1), [&](const BillResult &r) { billed = r; });
        QVERIFY(abandoned && refunded && refundQueried && billed);
        QCOMPARE(abandoned->outcome, Outcome::Ok);
        QVERIFY(abandoned->message.contains(QStringLiteral("payTimeout")));
        QCOMPARE(refunded->outcome, Outcome::Rejected);
        QCOMPARE(refunded->code, QStringLiteral("NOT_SUPPORTED"));
        QCOMPARE(refundQueried->code, QStringLiteral("NOT_SUPPORTED"));
        QCOMPARE(billed->code, QStringLiteral("NOT_SUPPORTED"));
        QCOMPARE(transport.calls.size(), 0);
    }

    void repliesAndLoadErrors()
    {
        ScriptedTransport transport;
        auto unionpay = provider(transport);
        QCOMPARE(unionpay->notifyReply(true, {}).status, 200);
        QCOMPARE(unionpay->notifyReply(true, {}).body, QByteArray("ok"));
        QCOMPARE(unionpay->notifyReply(false, {}).status, 400);
        QCOMPARE(unionpay->notifyReply(false, {}).body, QByteArray("fail"));

        QString error;
        UnionPayConfig swapped = sandboxConfig();
        swapped.signKeyFile = keyPath("unionpay-merchant.pem");
        QVERIFY(!loadUnionPay(swapped, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("unionpay-merchant.pem")), qPrintable(error));
        QVERIFY(!error.contains(QStringLiteral("BEGIN")));
        UnionPayConfig missing = sandboxConfig();
        missing.rootCertFile = QStringLiteral("/nonexistent/root.pem");
        QVERIFY(!loadUnionPay(missing, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("/nonexistent/root.pem")), qPrintable(error));
        UnionPayConfig keyAsCert = sandboxConfig();
        keyAsCert.signCertFile = keyPath("unionpay-merchant.key");
        QVERIFY(!loadUnionPay(keyAsCert, transport, m_clock, &error));
        QVERIFY2(error.contains(QStringLiteral("unionpay-merchant.key")), qPrintable(error));
    }

    void certificateChecks()
    {
        const Certificate root = Certificate::load(readFile(keyPath("unionpay-root.pem")));
        const Certificate sign = Certificate::load(readFile(keyPath("unionpay-sign.pem")));
        const Certificate other = Certificate::load(readFile(keyPath("wechat-platform-1.pem")));
        QVERIFY(sign.isIssuedBy(root));
        QVERIFY(!sign.isIssuedBy(other));
        QVERIFY(!other.isIssuedBy(root));
        QVERIFY(!root.isIssuedBy(sign));
        QCOMPARE(sign.subjectCommonName(), QStringLiteral("中国银联股份有限公司"));
        QCOMPARE(root.subjectCommonName(), QStringLiteral("CFCA sandbox root"));
        QVERIFY(sign.isValidAt(1796000000000LL));
        QVERIFY(!sign.isValidAt(1795000000000LL));
        QVERIFY(!sign.isValidAt(QDateTime(QDate(2127, 1, 1), QTime(0, 0), QTimeZone::utc()).toMSecsSinceEpoch()));
        QVERIFY(!Certificate().isIssuedBy(root));
        QCOMPARE(sha256Hex("abc"), QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }
};

QTEST_GUILESS_MAIN(TestUnionPay)
#include "tst_unionpay.moc"
