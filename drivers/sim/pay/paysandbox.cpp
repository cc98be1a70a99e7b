#include "paysandbox.h"

#include "payformats.h"

#include "api/schema.h"
#include "payments/paycanon.h"
#include "payments/paycrypto.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPointer>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtHttpServer/QAbstractHttpServer>
#include <QtHttpServer/QHttpServerRequest>
#include <QtHttpServer/QHttpServerResponder>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>
#include <QtNetwork/QTcpSocket>

#include <algorithm>
#include <functional>
#include <map>

namespace prepay::sim::pay {

namespace pc = prepay::payments;

namespace {

Q_LOGGING_CATEGORY(lcPaySandbox, "prepay.sim.pay")

using Status = QHttpServerResponder::StatusCode;

// The sandbox merchant identities (keys/README.md).
constexpr char alipayAppId[] = "2021000000000001";
constexpr char alipaySellerId[] = "2088000000000001";
constexpr char wechatMchid[] = "1900000109";
constexpr char wechatAppid[] = "wxd678efh567hg6787";
constexpr char unionpayMerId[] = "777290058110048";
constexpr qint64 beijingOffsetS = 8 * 3600;
// How far an Alipay request's timestamp may be from the sandbox's clock.
constexpr qint64 alipayTimestampWindowMs = 15 * 60 * 1000;

enum class Channel {
    Alipay,
    Wechat,
    Unionpay
};

QString channelName(Channel c)
{
    switch (c) {
    case Channel::Alipay: return QStringLiteral("alipay");
    case Channel::Wechat: return QStringLiteral("wechat");
    case Channel::Unionpay: return QStringLiteral("unionpay");
    }
    return {};
}

std::optional<Channel> channelFromName(const QString &name)
{
    if (name == u"alipay")
        return Channel::Alipay;
    if (name == u"wechat")
        return Channel::Wechat;
    if (name == u"unionpay")
        return Channel::Unionpay;
    return std::nullopt;
}

enum class OrderState {
    Created,
    Paid,
    Closed
};

struct Refund
{
    QByteArray requestNo; // Alipay out_request_no / WeChat out_refund_no
    QByteArray refundId;
    qint64 amountFen = 0;
    qint64 atMs = 0;
};

struct Order
{
    Channel channel = Channel::Alipay;
    QByteArray outTradeNo;
    QByteArray params; // the business parameters as received, to tell a retry from a conflict
    QByteArray token;  // the pay page's
    QByteArray tradeNo;
    qint64 amountFen = 0;
    QString subject;
    QByteArray notifyUrl;
    QByteArray attach;
    QByteArray txnTime; // UnionPay's original txnTime
    QByteArray bizType;
    OrderState state = OrderState::Created;
    bool scanned = false;
    qint64 expiresMs = 0;       // 0: no deadline; unpaid past it the order closes
    qint64 alipayTimeoutMs = 0; // Alipay timeout_express: counts from the scan (§1.4)
    qint64 createdMs = 0;
    qint64 paidMs = 0;
    qint64 closedMs = 0;
    QList<Refund> refunds;
    int notifiesSent = 0;
    int notifiesAcked = 0;

    qint64 refundedFen() const
    {
        qint64 sum = 0;
        for (const Refund &r : refunds)
            sum += r.amountFen;
        return sum;
    }
};

struct BillExtra
{
    Channel channel = Channel::Alipay;
    QByteArray outTradeNo;
    qint64 amountFen = 0;
    qint64 atMs = 0;
};

struct Faults
{
    qint64 duplicateNotifies = 0;
    bool outOfOrder = false;
    bool notifyOff = false;
    qint64 notifyBeforeQueryMs = 0;
    bool badSignature = false;
    qint64 amountMismatchFen = 0;
    qint64 http5xx = 0;
    qint64 timeoutMs = 0;
    qint64 timeoutCalls = 0;
    bool lateSuccessAfterClose = false;
    qint64 closeRequiresMinAgeMs = 0;
    qint64 clockSkewMs = 0;
    QString wechatSignWith = QStringLiteral("platform-1");
    bool alipayCancelRetry = false;
    // Alipay certificate mode (K2): 0 off (public-key mode), 1 or 2 = which certificate signs, 3 =
    // "rogue": a certificate that does not chain to the Alipay root (wechat-platform-1's, self-signed).
    int alipayCert = 0;

    QJsonObject toJson() const
    {
        return QJsonObject{
            {QStringLiteral("duplicate_notifies"), duplicateNotifies},
            {QStringLiteral("out_of_order"), outOfOrder},
            {QStringLiteral("notify"), notifyOff ? QStringLiteral("off") : QStringLiteral("on")},
            {QStringLiteral("notify_before_query_ms"), notifyBeforeQueryMs},
            {QStringLiteral("bad_signature"), badSignature},
            {QStringLiteral("amount_mismatch_fen"), amountMismatchFen},
            {QStringLiteral("http_5xx"), http5xx},
            {QStringLiteral("timeout_ms"), timeoutMs},
            {QStringLiteral("timeout_calls"), timeoutCalls},
            {QStringLiteral("late_success_after_close"), lateSuccessAfterClose},
            {QStringLiteral("close_requires_min_age_ms"), closeRequiresMinAgeMs},
            {QStringLiteral("clock_skew_ms"), clockSkewMs},
            {QStringLiteral("wechat_sign_with"), wechatSignWith},
            {QStringLiteral("alipay_cancel_retry"), alipayCancelRetry},
            {QStringLiteral("alipay_cert"),
                alipayCert == 0 ? QStringLiteral("off")
                                : (alipayCert == 3 ? QStringLiteral("rogue") : QString::number(alipayCert))},
        };
    }
};

struct NotifyLogEntry
{
    qint64 atMs = 0;
    Channel channel = Channel::Alipay;
    QByteArray outTradeNo;
    QString kind;
    int attempt = 0;
    int copy = 0;
    int httpStatus = 0;
    QString excerpt;
    bool acknowledged = false;
};

struct NotifyJob
{
    Channel channel = Channel::Alipay;
    QByteArray outTradeNo;
    QString kind;
    QUrl url;
    QByteArray body;
    bool wechatSigned = false;
    bool corruptSignature = false;
    int attempt = 0;
    bool done = false;
    quint64 generation = 0;
    // Sent once the first attempt of this job has been answered (the out_of_order fault's
    // stale message, so it reaches the merchant after the success).
    std::shared_ptr<NotifyJob> followUp;
};

// An answer before it is written: the status, the extra headers and the body.
struct Answer
{
    int status = 200;
    QByteArray contentType;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;
};

Answer textAnswer(int status, const QByteArray &contentType, const QByteArray &body)
{
    Answer a;
    a.status = status;
    a.contentType = contentType;
    a.body = body;
    return a;
}

Answer jsonAnswer(int status, const QJsonObject &object)
{
    return textAnswer(status, "application/json", QJsonDocument(object).toJson(QJsonDocument::Compact));
}

Answer controlError(int status, const QString &message)
{
    return jsonAnswer(status, QJsonObject{{QStringLiteral("error"), message}});
}

QString beijing(qint64 ms, const QString &format)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::OffsetFromUTC, int(beijingOffsetS)).toString(format);
}

QByteArray beijingText(qint64 ms)
{
    return beijing(ms, QStringLiteral("yyyy-MM-dd HH:mm:ss")).toUtf8();
}

QByteArray rfc3339(qint64 ms)
{
    return (beijing(ms, QStringLiteral("yyyy-MM-ddTHH:mm:ss")) + QStringLiteral("+08:00")).toUtf8();
}

QDate beijingDate(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::OffsetFromUTC, int(beijingOffsetS)).date();
}

QByteArray randomHex(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    for (qsizetype i = 0; i < raw.size(); ++i)
        raw[i] = char(QRandomGenerator::system()->bounded(256));
    return raw.toHex();
}

QByteArray randomDigits(int count)
{
    QByteArray out;
    for (int i = 0; i < count; ++i)
        out.append(char('0' + QRandomGenerator::system()->bounded(10)));
    return out;
}

QByteArray randomAlnum(int count)
{
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QByteArray out;
    for (int i = 0; i < count; ++i)
        out.append(alphabet[QRandomGenerator::system()->bounded(int(sizeof(alphabet) - 1))]);
    return out;
}

// Yuan with two decimals for any sign (bills show refunds negative).
QByteArray yuanSigned(qint64 fen)
{
    if (fen < 0)
        return '-' + pc::yuanFromFen(Money::fromFen(-fen));
    return pc::yuanFromFen(Money::fromFen(fen));
}

QByteArray fieldOf(const pc::FormFields &fields, QByteArrayView key)
{
    for (const auto &[k, v] : fields) {
        if (k == key)
            return v;
    }
    return {};
}

QByteArray methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get: return "GET";
    case QHttpServerRequest::Method::Post: return "POST";
    case QHttpServerRequest::Method::Put: return "PUT";
    case QHttpServerRequest::Method::Delete: return "DELETE";
    case QHttpServerRequest::Method::Head: return "HEAD";
    case QHttpServerRequest::Method::Patch: return "PATCH";
    default: return "OTHER";
    }
}

// The path and query exactly as received, the URL a WeChat Pay signature covers.
QByteArray canonicalUrl(const QHttpServerRequest &request)
{
    const QUrl url = request.url();
    QByteArray out = url.path(QUrl::FullyEncoded).toUtf8();
    if (url.hasQuery())
        out += '?' + url.query(QUrl::FullyEncoded).toUtf8();
    return out;
}

// The value of `name="…"` in a WeChat Authorization header; empty when absent.
QByteArray authParam(QByteArrayView params, QByteArrayView name)
{
    const QList<QByteArray> parts = params.toByteArray().split(',');
    for (const QByteArray &part : parts) {
        const qsizetype eq = part.indexOf('=');
        if (eq <= 0)
            continue;
        if (part.left(eq).trimmed() != name)
            continue;
        QByteArray value = part.mid(eq + 1).trimmed();
        if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
            return value.mid(1, value.size() - 2);
        return value;
    }
    return {};
}

QByteArray corrupt(const QByteArray &signatureBase64)
{
    std::optional<QByteArray> raw = pc::decodeBase64Strict(signatureBase64);
    if (!raw || raw->isEmpty())
        return "AAAA";
    (*raw)[raw->size() / 2] = char((*raw)[raw->size() / 2] ^ 0x5a);
    return pc::encodeBase64(*raw);
}

bool isDigits(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// HTTP server glue: QAbstractHttpServer hands us the request and the socket, so an answer can
// be delayed (the timeout fault) by keeping the responder alive.
class HttpFront : public QAbstractHttpServer
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

void writeAnswer(QHttpServerResponder &responder, const Answer &answer)
{
    responder.writeStatusLine(Status(answer.status));
    if (!answer.contentType.isEmpty())
        responder.writeHeader("Content-Type", answer.contentType);
    responder.writeHeader("Content-Length", QByteArray::number(answer.body.size()));
    for (const auto &[k, v] : answer.headers)
        responder.writeHeader(k, v);
    responder.writeBody(answer.body);
}

const QList<qint64> &retryScheduleS(Channel channel)
{
    static const QList<qint64> alipay{0, 4 * 60, 10 * 60, 10 * 60, 3600, 2 * 3600, 6 * 3600, 15 * 3600};
    static const QList<qint64> wechat{
        0, 15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 3 * 3600, 3 * 3600, 3 * 3600, 6 * 3600, 6 * 3600};
    static const QList<qint64> unionpay{0, 60, 120, 240, 480, 960};
    switch (channel) {
    case Channel::Alipay: return alipay;
    case Channel::Wechat: return wechat;
    case Channel::Unionpay: return unionpay;
    }
    return alipay;
}

} // namespace

// ---- The sandbox ---------------------------------------------------------------------------------

class PaySandboxPrivate
{
public:
    PaySandboxPrivate(PaySandbox *q_, PaySandboxConfig config_)
        : q(q_)
        , config(std::move(config_))
    { }

    PaySandbox *q;
    PaySandboxConfig config;
    HttpFront *http = nullptr;
    QNetworkAccessManager *network = nullptr;
    quint16 boundPort = 0;

    // Keys (keys/README.md): the sandbox signs with the platform halves and verifies with the
    // merchant halves.
    pc::PrivateKey alipayPlatformKey; // also the key of alipay-cert-1.pem
    pc::PublicKey alipayAppPublic;
    // Certificate mode (K2): two Alipay certificates by the sandbox root (cert 1 holds the
    // platform key, cert 2 the next one), their SNs and PEM (served by alipaycert.download), and
    // the SNs a merchant in certificate mode must send.
    pc::PrivateKey alipayCert2Key;
    QByteArray alipayCertSn[3]; // 1, 2, rogue
    QByteArray alipayCertPem[3];
    QByteArray alipayAppCertSn, alipayRootCertSn;
    pc::Certificate wechatMerchantCert;
    pc::PrivateKey wechatPlatformKey[2];
    QByteArray wechatPlatformSerial[2];
    QByteArray wechatPlatformPem[2];
    pc::PrivateKey wechatPubkeyKey;
    QByteArray wechatPubkeyId;
    QByteArray wechatApiV3Key;
    pc::Certificate unionpayMerchantCert;
    pc::PrivateKey unionpaySignKey;
    QByteArray unionpaySignPem;

    std::map<std::pair<int, QByteArray>, Order> orders;
    QHash<QByteArray, std::pair<int, QByteArray>> tokens;
    QList<BillExtra> billExtras;
    struct BillFile
    {
        QByteArray contentType;
        QByteArray body;
        qint64 expiresMs = 0; // 0: no expiry
        bool needsWechatAuth = false;
    };
    QHash<QByteArray, BillFile> bills;
    Faults faults;
    QList<NotifyLogEntry> notifyLog;
    quint64 generation = 1; // bumped by reset: late notify replies of an old generation are dropped

    static qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }
    qint64 signingNowMs() const { return nowMs() + faults.clockSkewMs; }

    QString baseUrl() const
    {
        if (!config.publicUrl.isEmpty())
            return config.publicUrl.endsWith(u'/') ? config.publicUrl.chopped(1) : config.publicUrl;
        const QString host = config.listen.protocol() == QAbstractSocket::IPv6Protocol
            ? QStringLiteral("[%1]").arg(config.listen.toString())
            : config.listen.toString();
        return QStringLiteral("%1://%2:%3").arg(config.plain ? u"http" : u"https", host).arg(boundPort);
    }

    // ---- keys ------------------------------------------------------------------------------

    bool readKeyFile(const QString &name, QByteArray *out, QString *error) const
    {
        QFile file(config.keysDir + u'/' + name);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot read %1").arg(file.fileName());
            return false;
        }
        *out = file.readAll();
        return true;
    }

    template<typename T>
    bool loadKey(const QString &name, T *out, QString *error) const
    {
        QByteArray text;
        if (!readKeyFile(name, &text, error))
            return false;
        pc::KeyLoadStatus status = pc::KeyLoadStatus::Malformed;
        *out = T::load(text, &status);
        if (out->isNull()) {
            *error = QStringLiteral("%1/%2: not a usable key or certificate (status %3)")
                         .arg(config.keysDir, name)
                         .arg(int(status));
            return false;
        }
        return true;
    }

    bool loadKeys(QString *error)
    {
        pc::Certificate platformCert[2];
        pc::Certificate alipayCert[3];
        pc::Certificate alipayAppCert;
        QByteArray alipayRootPem;
        if (!loadKey(QStringLiteral("alipay-platform.key"), &alipayPlatformKey, error)
            || !loadKey(QStringLiteral("alipay-cert-2.key"), &alipayCert2Key, error)
            || !loadKey(QStringLiteral("alipay-cert-1.pem"), &alipayCert[0], error)
            || !loadKey(QStringLiteral("alipay-cert-2.pem"), &alipayCert[1], error)
            || !loadKey(QStringLiteral("wechat-platform-1.pem"), &alipayCert[2], error)
            || !loadKey(QStringLiteral("alipay-app-cert.pem"), &alipayAppCert, error)
            || !readKeyFile(QStringLiteral("alipay-cert-1.pem"), &alipayCertPem[0], error)
            || !readKeyFile(QStringLiteral("alipay-cert-2.pem"), &alipayCertPem[1], error)
            || !readKeyFile(QStringLiteral("wechat-platform-1.pem"), &alipayCertPem[2], error)
            || !readKeyFile(QStringLiteral("alipay-root.pem"), &alipayRootPem, error)
            || !loadKey(QStringLiteral("alipay-app.pub"), &alipayAppPublic, error)
            || !loadKey(QStringLiteral("wechat-merchant.pem"), &wechatMerchantCert, error)
            || !loadKey(QStringLiteral("wechat-platform-1.key"), &wechatPlatformKey[0], error)
            || !loadKey(QStringLiteral("wechat-platform-2.key"), &wechatPlatformKey[1], error)
            || !loadKey(QStringLiteral("wechat-platform-1.pem"), &platformCert[0], error)
            || !loadKey(QStringLiteral("wechat-platform-2.pem"), &platformCert[1], error)
            || !loadKey(QStringLiteral("wechat-pubkey.key"), &wechatPubkeyKey, error)
            || !loadKey(QStringLiteral("unionpay-merchant.pem"), &unionpayMerchantCert, error)
            || !loadKey(QStringLiteral("unionpay-sign.key"), &unionpaySignKey, error)
            || !readKeyFile(QStringLiteral("wechat-platform-1.pem"), &wechatPlatformPem[0], error)
            || !readKeyFile(QStringLiteral("wechat-platform-2.pem"), &wechatPlatformPem[1], error)
            || !readKeyFile(QStringLiteral("wechat-pubkey-id.txt"), &wechatPubkeyId, error)
            || !readKeyFile(QStringLiteral("wechat-apiv3.txt"), &wechatApiV3Key, error)
            || !readKeyFile(QStringLiteral("unionpay-sign.pem"), &unionpaySignPem, error))
            return false;
        for (int i = 0; i < 2; ++i)
            wechatPlatformSerial[i] = platformCert[i].serialHex();
        for (int i = 0; i < 3; ++i)
            alipayCertSn[i] = pc::alipayCertSn(alipayCert[i]);
        alipayAppCertSn = pc::alipayCertSn(alipayAppCert);
        alipayRootCertSn = pc::alipayRootCertSn(alipayRootPem).value_or(QByteArray());
        if (alipayRootCertSn.isEmpty()) {
            *error = QStringLiteral("%1/alipay-root.pem: not an RSA-signed certificate").arg(config.keysDir);
            return false;
        }
        wechatPubkeyId = wechatPubkeyId.trimmed();
        wechatApiV3Key = wechatApiV3Key.trimmed();
        if (wechatApiV3Key.size() != 32) {
            *error = QStringLiteral("%1/wechat-apiv3.txt: the APIv3 key must be 32 bytes").arg(config.keysDir);
            return false;
        }
        return true;
    }

    bool setupTls(QString *error)
    {
        QByteArray certPem;
        QByteArray keyPem;
        if (!readKeyFile(QStringLiteral("tls-server.pem"), &certPem, error)
            || !readKeyFile(QStringLiteral("tls-server.key"), &keyPem, error))
            return false;
        const QList<QSslCertificate> chain = QSslCertificate::fromData(certPem, QSsl::Pem);
        QSslKey key(keyPem, QSsl::Rsa, QSsl::Pem);
        if (key.isNull())
            key = QSslKey(keyPem, QSsl::Ec, QSsl::Pem);
        if (chain.isEmpty() || key.isNull()) {
            *error = QStringLiteral("%1/tls-server.pem or tls-server.key: not usable").arg(config.keysDir);
            return false;
        }
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificateChain(chain);
        tls.setPrivateKey(key);
        tls.setPeerVerifyMode(QSslSocket::VerifyNone);
        http->sslSetup(tls);
        return true;
    }

    // ---- orders ------------------------------------------------------------------------------

    Order *findOrder(Channel channel, const QByteArray &outTradeNo)
    {
        const auto it = orders.find({int(channel), outTradeNo});
        if (it == orders.end())
            return nullptr;
        expire(it->second);
        return &it->second;
    }

    // An unpaid order past its deadline is closed, lazily, whenever it is looked at.
    void expire(Order &order) const
    {
        if (order.state == OrderState::Created && order.expiresMs > 0 && nowMs() > order.expiresMs) {
            order.state = OrderState::Closed;
            order.closedMs = order.expiresMs;
        }
    }

    void markScanned(Order &order) const
    {
        if (order.state != OrderState::Created || order.scanned)
            return;
        order.scanned = true;
        if (order.alipayTimeoutMs > 0) {
            const qint64 deadline = nowMs() + order.alipayTimeoutMs;
            order.expiresMs = order.expiresMs > 0 ? qMin(order.expiresMs, deadline) : deadline;
        }
    }

    // A Beijing wall-clock text ("yyyy-MM-dd HH:mm:ss", "yyyyMMddHHmmss") to UTC ms; 0 if invalid.
    static qint64 beijingMs(const QString &text, const QString &format)
    {
        QDateTime t = QDateTime::fromString(text, format);
        if (!t.isValid())
            return 0;
        t.setOffsetFromUtc(int(beijingOffsetS));
        return t.toMSecsSinceEpoch();
    }

    // Alipay timeout_express: "90m", "2h", "1d", or "1c" (until the end of today, Beijing).
    std::optional<qint64> alipayTimeoutExpressMs(const QString &text) const
    {
        if (text.isEmpty())
            return qint64(0);
        if (text == u"1c") {
            const QDate today = beijingDate(nowMs());
            return beijingMs(today.addDays(1).toString(QStringLiteral("yyyy-MM-dd")) + QStringLiteral(" 00:00:00"),
                       QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                - nowMs();
        }
        bool ok = false;
        const qint64 n = text.chopped(1).toLongLong(&ok);
        if (!ok || n < 1 || text.size() < 2)
            return std::nullopt;
        const QChar unit = text.back();
        const qint64 perUnit = unit == u'm' ? 60000 : unit == u'h' ? 3600000 : unit == u'd' ? 86400000 : 0;
        if (perUnit == 0 || n > 15 * 86400000 / perUnit)
            return std::nullopt;
        return n * perUnit;
    }

    Order *findAlipayOrder(const QJsonObject &biz)
    {
        const QByteArray otn = biz.value(QStringLiteral("out_trade_no")).toString().toUtf8();
        if (!otn.isEmpty())
            return findOrder(Channel::Alipay, otn);
        const QByteArray tradeNo = biz.value(QStringLiteral("trade_no")).toString().toUtf8();
        for (auto &[key, order] : orders) {
            if (order.channel == Channel::Alipay && !tradeNo.isEmpty() && order.tradeNo == tradeNo)
                return &order;
        }
        return nullptr;
    }

    Order &addOrder(Channel channel, const QByteArray &outTradeNo)
    {
        Order &order = orders[{int(channel), outTradeNo}];
        order.channel = channel;
        order.outTradeNo = outTradeNo;
        order.token = randomHex(12);
        order.createdMs = nowMs();
        tokens.insert(order.token, {int(channel), outTradeNo});
        return order;
    }

    QByteArray payLink(const Order &order) const
    {
        return (baseUrl() + QStringLiteral("/pay/")).toUtf8() + order.token;
    }

    // What query reports: paid orders look unpaid for notify_before_query_ms after payment.
    OrderState visibleState(const Order &order) const
    {
        if (order.state == OrderState::Paid && nowMs() < order.paidMs + faults.notifyBeforeQueryMs)
            return OrderState::Created;
        return order.state;
    }

    enum class PayOutcome {
        Paid,
        AlreadyPaid,
        Closed
    };

    PayOutcome pay(Order &order)
    {
        if (order.state == OrderState::Paid)
            return PayOutcome::AlreadyPaid; // T8: the same out_trade_no is never paid twice
        if (order.state == OrderState::Closed && !faults.lateSuccessAfterClose)
            return PayOutcome::Closed; // P6
        order.state = OrderState::Paid;
        order.scanned = true;
        order.paidMs = nowMs();
        order.expiresMs = 0;
        if (order.tradeNo.isEmpty())
            order.tradeNo = newTradeNo(order.channel);
        qCInfo(lcPaySandbox) << "paid" << channelName(order.channel) << order.outTradeNo << order.amountFen << "fen";
        notifyPaid(order);
        return PayOutcome::Paid;
    }

    QByteArray newTradeNo(Channel channel) const
    {
        const QByteArray day = beijing(nowMs(), QStringLiteral("yyyyMMdd")).toUtf8();
        switch (channel) {
        case Channel::Alipay: return day + "22001" + randomDigits(15);
        case Channel::Wechat: return "4200" + randomDigits(6) + day + randomDigits(10);
        case Channel::Unionpay: return beijing(nowMs(), QStringLiteral("MMddHHmmss")).toUtf8() + randomDigits(11);
        }
        return randomDigits(20);
    }

    QJsonObject orderJson(const Order &o) const
    {
        static const char *const stateNames[] = {"created", "paid", "closed"};
        QJsonArray refunds;
        for (const Refund &r : o.refunds) {
            refunds.append(QJsonObject{{QStringLiteral("request_no"), QString::fromUtf8(r.requestNo)},
                {QStringLiteral("amount_fen"), r.amountFen},
                {QStringLiteral("at"), QString::fromUtf8(rfc3339(r.atMs))}});
        }
        return QJsonObject{
            {QStringLiteral("channel"), channelName(o.channel)},
            {QStringLiteral("out_trade_no"), QString::fromUtf8(o.outTradeNo)},
            {QStringLiteral("trade_no"), QString::fromUtf8(o.tradeNo)},
            {QStringLiteral("state"), QString::fromLatin1(stateNames[int(o.state)])},
            {QStringLiteral("scanned"), o.scanned},
            {QStringLiteral("amount_fen"), o.amountFen},
            {QStringLiteral("refunded_fen"), o.refundedFen()},
            {QStringLiteral("subject"), o.subject},
            {QStringLiteral("pay_url"), QString::fromUtf8(payLink(o))},
            {QStringLiteral("notify_url"), QString::fromUtf8(o.notifyUrl)},
            {QStringLiteral("notifies_sent"), o.notifiesSent},
            {QStringLiteral("notifies_acknowledged"), o.notifiesAcked},
            {QStringLiteral("refunds"), refunds},
        };
    }

    // ---- dispatch ----------------------------------------------------------------------------

    void onRequest(const QHttpServerRequest &request, QTcpSocket *socket)
    {
        const QString path = request.url().path();
        const bool api = path == u"/gateway.do" || path.startsWith(u"/v3/") || path.startsWith(u"/gateway/api/");
        Answer answer = request.body().size() > PaySandbox::requestBodyBytesMax
            ? textAnswer(413, "text/plain", "request body too large\n")
            : route(request, path);
        if (api && faults.http5xx > 0) {
            // T4: the effect above is applied, then the caller sees a server error.
            --faults.http5xx;
            answer = path.startsWith(u"/v3/")
                ? wechatAnswer(500, R"({"code":"SYSTEM_ERROR","message":"sandbox fault http_5xx"})")
                : textAnswer(500, "text/html", "<html><body>500 sandbox fault</body></html>");
        }
        QHttpServerResponder responder = HttpFront::responderFor(request, socket);
        if (api && faults.timeoutCalls > 0 && faults.timeoutMs > 0) {
            --faults.timeoutCalls;
            // The responder outlives this call. When the client has gone by the time the answer
            // is due, it is deliberately leaked: destroying a responder whose socket is gone is
            // not safe in Qt 6.4, and this only happens under an injected fault.
            auto *held = new QHttpServerResponder(std::move(responder));
            QPointer<QTcpSocket> alive(socket);
            QTimer::singleShot(faults.timeoutMs, q, [held, alive, answer]() {
                if (alive && alive->state() == QAbstractSocket::ConnectedState) {
                    writeAnswer(*held, answer);
                    delete held;
                }
            });
            return;
        }
        writeAnswer(responder, answer);
    }

    Answer route(const QHttpServerRequest &request, const QString &path)
    {
        using M = QHttpServerRequest::Method;
        const M method = request.method();
        if (path == u"/gateway.do" && method == M::Post)
            return alipay(request);
        if (path.startsWith(u"/v3/"))
            return wechat(request, path);
        if (path == u"/gateway/api/backTransReq.do" && method == M::Post)
            return unionpay(request, false);
        if (path == u"/gateway/api/queryTrans.do" && method == M::Post)
            return unionpay(request, true);
        if (path.startsWith(u"/pay/"))
            return payPage(request, path.mid(5));
        if (path.startsWith(u"/sandbox-bill/"))
            return billDownload(request, path.mid(14));
        if (path.startsWith(u"/sandbox/"))
            return control(request, path.mid(9));
        if (path == u"/" || path.isEmpty())
            return textAnswer(200, "text/plain; charset=utf-8",
                "prepay sandbox: alipay /gateway.do, wechat /v3, unionpay /gateway/api, pay pages /pay, control "
                "/sandbox\n");
        return textAnswer(404, "text/plain", "not found\n");
    }

    // ---- Alipay ------------------------------------------------------------------------------

    // The key Alipay signs with now: the platform key (public-key mode, and certificate 1), or
    // certificate 2's.
    const pc::PrivateKey &alipaySigningKey() const
    {
        if (faults.alipayCert == 3)
            return wechatPlatformKey[0];
        return faults.alipayCert == 2 ? alipayCert2Key : alipayPlatformKey;
    }
    // Certificate mode: the SN of the signing certificate, sent as alipay_cert_sn; else empty.
    QByteArray alipaySigningCertSn() const
    {
        return faults.alipayCert == 0 ? QByteArray() : alipayCertSn[faults.alipayCert - 1];
    }

    Answer alipayAnswer(const QByteArray &nodeName, const QJsonObject &node)
    {
        // Written first, then signed, then embedded verbatim: the signature covers these bytes.
        const QByteArray nodeText = QJsonDocument(node).toJson(QJsonDocument::Compact);
        const QByteArray sign = pc::encodeBase64(pc::signRsaSha256(alipaySigningKey(), nodeText).value_or(QByteArray()));
        const QByteArray certSn = alipaySigningCertSn();
        return textAnswer(200, "application/json;charset=utf-8",
            "{\"" + nodeName + "\":" + nodeText
                + (certSn.isEmpty() ? QByteArray() : ",\"alipay_cert_sn\":\"" + certSn + "\"") + ",\"sign\":\""
                + sign + "\"}");
    }

    Answer alipayError(const QByteArray &nodeName, const char *code, const char *msg, const char *subCode,
        const QString &subMsg, QJsonObject extra = {})
    {
        extra.insert(QStringLiteral("code"), QString::fromLatin1(code));
        extra.insert(QStringLiteral("msg"), QString::fromLatin1(msg));
        extra.insert(QStringLiteral("sub_code"), QString::fromLatin1(subCode));
        extra.insert(QStringLiteral("sub_msg"), subMsg);
        return alipayAnswer(nodeName, extra);
    }

    Answer alipayBusinessError(const QByteArray &nodeName, const char *subCode, const QString &subMsg)
    {
        return alipayError(nodeName, "40004", "Business Failed", subCode, subMsg);
    }

    static QJsonObject alipayOk()
    {
        return QJsonObject{
            {QStringLiteral("code"), QStringLiteral("10000")}, {QStringLiteral("msg"), QStringLiteral("Success")}};
    }

    Answer alipay(const QHttpServerRequest &request)
    {
        const std::optional<pc::FormFields> fields = pc::formDecode(request.body());
        if (!fields)
            return alipayError("error_response", "40002", "Invalid Arguments", "isv.invalid-parameter",
                QStringLiteral("请求体不是合法的表单编码"));
        const QByteArray method = fieldOf(*fields, "method");
        QByteArray nodeName = method;
        nodeName.replace('.', '_');
        nodeName = method.isEmpty() ? QByteArray("error_response") : nodeName + "_response";
        if (fieldOf(*fields, "app_id") != alipayAppId)
            return alipayError(
                nodeName, "40002", "Invalid Arguments", "isv.invalid-app-id", QStringLiteral("无效的AppID参数"));
        const std::optional<QByteArray> toSign = pc::alipayStringToSign(*fields, pc::AlipaySignScope::Request);
        if (!toSign || fieldOf(*fields, "sign_type") != "RSA2"
            || pc::verifyRsaSha256(alipayAppPublic, *toSign, fieldOf(*fields, "sign")) != pc::VerifyStatus::Valid)
            return alipayError(
                nodeName, "40002", "Invalid Arguments", "isv.invalid-signature", QStringLiteral("验签出错"));
        if (faults.alipayCert != 0 && fieldOf(*fields, "app_cert_sn") != alipayAppCertSn)
            return alipayError(nodeName, "40002", "Invalid Arguments", "isv.invalid-app-cert-sn",
                QStringLiteral("app_cert_sn 与应用公钥证书不匹配"));
        if (faults.alipayCert != 0 && fieldOf(*fields, "alipay_root_cert_sn") != alipayRootCertSn)
            return alipayError(nodeName, "40002", "Invalid Arguments", "isv.invalid-alipay-root-cert-sn",
                QStringLiteral("alipay_root_cert_sn 与支付宝根证书不匹配"));
        const qint64 sentMs
            = beijingMs(QString::fromUtf8(fieldOf(*fields, "timestamp")), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (sentMs == 0 || qAbs(sentMs - nowMs()) > alipayTimestampWindowMs)
            return alipayError(nodeName, "40002", "Invalid Arguments", "isv.invalid-timestamp",
                QStringLiteral("timestamp 须为北京时间 yyyy-MM-dd HH:mm:ss，且与当前时间相差不超过15分钟"));
        const QJsonDocument bizDoc = QJsonDocument::fromJson(fieldOf(*fields, "biz_content"));
        if (!bizDoc.isObject())
            return alipayError(nodeName, "40001", "Missing Required Arguments", "isv.missing-biz-content",
                QStringLiteral("biz_content 缺失或不是 JSON 对象"));
        const QJsonObject biz = bizDoc.object();
        if (method == "alipay.trade.precreate")
            return alipayPrecreate(nodeName, *fields, biz);
        if (method == "alipay.trade.query")
            return alipayQuery(nodeName, biz);
        if (method == "alipay.trade.close")
            return alipayClose(nodeName, biz, false);
        if (method == "alipay.trade.cancel")
            return alipayClose(nodeName, biz, true);
        if (method == "alipay.trade.refund")
            return alipayRefund(nodeName, biz);
        if (method == "alipay.trade.fastpay.refund.query")
            return alipayRefundQuery(nodeName, biz);
        if (method == "alipay.data.dataservice.bill.downloadurl.query")
            return alipayBillUrl(nodeName, biz);
        if (method == "alipay.open.app.alipaycert.download")
            return alipayCertDownload(nodeName, biz);
        return alipayError(
            "error_response", "40002", "Invalid Arguments", "isv.invalid-method", QStringLiteral("不存在的方法名"));
    }

    // Certificate mode (K2): the merchant met an alipay_cert_sn it does not hold and fetches the
    // certificate: alipay_cert_content = base64 of its PEM.
    Answer alipayCertDownload(const QByteArray &nodeName, const QJsonObject &biz)
    {
        const QByteArray sn = biz.value(QStringLiteral("alipay_cert_sn")).toString().toUtf8();
        for (int i = 0; i < 3; ++i) {
            if (!sn.isEmpty() && sn == alipayCertSn[i]) {
                QJsonObject node = alipayOk();
                node.insert(QStringLiteral("alipay_cert_content"), QString::fromLatin1(alipayCertPem[i].toBase64()));
                return alipayAnswer(nodeName, node);
            }
        }
        return alipayBusinessError(nodeName, "isv.alipay-cert-not-exist", QStringLiteral("支付宝公钥证书不存在"));
    }

    Answer alipayPrecreate(const QByteArray &nodeName, const pc::FormFields &fields, const QJsonObject &biz)
    {
        const QByteArray otn = biz.value(QStringLiteral("out_trade_no")).toString().toUtf8();
        const std::optional<Money> amount
            = pc::fenFromYuan(biz.value(QStringLiteral("total_amount")).toString().toUtf8());
        const QString subject = biz.value(QStringLiteral("subject")).toString();
        if (otn.isEmpty() || otn.size() > 64 || subject.isEmpty())
            return alipayError(nodeName, "40001", "Missing Required Arguments", "isv.missing-parameter",
                QStringLiteral("缺少 out_trade_no 或 subject"));
        if (!amount || amount->fen() < 1 || amount->fen() > 10000000000)
            return alipayError(
                nodeName, "40002", "Invalid Arguments", "isv.invalid-parameter", QStringLiteral("total_amount 不合法"));
        const std::optional<qint64> timeoutMs
            = alipayTimeoutExpressMs(biz.value(QStringLiteral("timeout_express")).toString());
        const QString timeExpire = biz.value(QStringLiteral("time_expire")).toString();
        const qint64 timeExpireMs
            = timeExpire.isEmpty() ? 0 : beijingMs(timeExpire, QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (!timeoutMs || (!timeExpire.isEmpty() && timeExpireMs == 0))
            return alipayError(nodeName, "40002", "Invalid Arguments", "isv.invalid-parameter",
                QStringLiteral("timeout_express 或 time_expire 不合法"));
        const QByteArray params = fieldOf(fields, "biz_content") + '\n' + fieldOf(fields, "notify_url");
        Order *existing = findOrder(Channel::Alipay, otn);
        if (existing && existing->params != params)
            return alipayBusinessError(nodeName, "ACQ.CONTEXT_INCONSISTENT", QStringLiteral("交易信息被篡改"));
        if (existing && existing->state == OrderState::Paid)
            return alipayBusinessError(nodeName, "ACQ.TRADE_HAS_SUCCESS", QStringLiteral("交易已被支付"));
        if (existing && existing->state == OrderState::Closed)
            return alipayBusinessError(nodeName, "ACQ.TRADE_HAS_CLOSE", QStringLiteral("交易已经关闭"));
        Order &order = existing ? *existing : addOrder(Channel::Alipay, otn);
        if (!existing) {
            order.params = params;
            order.amountFen = amount->fen();
            order.subject = subject;
            order.notifyUrl = fieldOf(fields, "notify_url");
            order.alipayTimeoutMs = *timeoutMs;
            order.expiresMs = timeExpireMs;
        }
        QJsonObject node = alipayOk();
        node.insert(QStringLiteral("out_trade_no"), QString::fromUtf8(otn));
        node.insert(QStringLiteral("qr_code"), QString::fromUtf8(payLink(order)));
        return alipayAnswer(nodeName, node);
    }

    QJsonArray fundBillList(qint64 fen) const
    {
        return QJsonArray{
            QJsonObject{{QStringLiteral("amount"), QString::fromUtf8(pc::yuanFromFen(Money::fromFen(fen)))},
                {QStringLiteral("fund_channel"), QStringLiteral("ALIPAYACCOUNT")}}};
    }

    static QString alipayStatus(const Order &o, OrderState visible)
    {
        if (visible == OrderState::Paid)
            return o.refundedFen() >= o.amountFen ? QStringLiteral("TRADE_CLOSED") : QStringLiteral("TRADE_SUCCESS");
        if (visible == OrderState::Closed)
            return QStringLiteral("TRADE_CLOSED");
        return QStringLiteral("WAIT_BUYER_PAY");
    }

    Answer alipayQuery(const QByteArray &nodeName, const QJsonObject &biz)
    {
        Order *order = findAlipayOrder(biz);
        if (!order || !order->scanned)
            return alipayBusinessError(nodeName, "ACQ.TRADE_NOT_EXIST", QStringLiteral("交易不存在"));
        const OrderState visible = visibleState(*order);
        QJsonObject node = alipayOk();
        node.insert(QStringLiteral("out_trade_no"), QString::fromUtf8(order->outTradeNo));
        if (order->tradeNo.isEmpty())
            order->tradeNo = newTradeNo(Channel::Alipay);
        node.insert(QStringLiteral("trade_no"), QString::fromUtf8(order->tradeNo));
        node.insert(QStringLiteral("buyer_logon_id"), QStringLiteral("san***@sandbox.example"));
        node.insert(QStringLiteral("trade_status"), alipayStatus(*order, visible));
        node.insert(
            QStringLiteral("total_amount"), QString::fromUtf8(pc::yuanFromFen(Money::fromFen(order->amountFen))));
        if (visible == OrderState::Paid) {
            const QString paid = QString::fromUtf8(pc::yuanFromFen(Money::fromFen(order->amountFen)));
            node.insert(QStringLiteral("buyer_pay_amount"), paid);
            node.insert(QStringLiteral("receipt_amount"), paid);
            node.insert(QStringLiteral("send_pay_date"), QString::fromUtf8(beijingText(order->paidMs)));
            node.insert(QStringLiteral("fund_bill_list"), fundBillList(order->amountFen));
            node.insert(QStringLiteral("buyer_user_id"), QStringLiteral("2088102177846880"));
        }
        return alipayAnswer(nodeName, node);
    }

    Answer alipayClose(const QByteArray &nodeName, const QJsonObject &biz, bool cancel)
    {
        Order *order = findAlipayOrder(biz);
        if (order && !order->scanned && order->state == OrderState::Created) {
            // Not scanned: the trade does not exist for Alipay yet, but the QR is dead from now on
            // (the community report of §1.4), so a later payment is refused.
            order->state = OrderState::Closed;
            order->closedMs = nowMs();
        }
        if (!order || !order->scanned)
            return alipayBusinessError(nodeName, "ACQ.TRADE_NOT_EXIST", QStringLiteral("交易不存在"));
        if (faults.closeRequiresMinAgeMs > 0 && nowMs() - order->createdMs < faults.closeRequiresMinAgeMs
            && order->state == OrderState::Created)
            return alipayBusinessError(
                nodeName, "ACQ.REASON_TRADE_STATUS_INVALID", QStringLiteral("交易创建时间过短，不能关闭"));
        QJsonObject node = alipayOk();
        node.insert(QStringLiteral("out_trade_no"), QString::fromUtf8(order->outTradeNo));
        node.insert(QStringLiteral("trade_no"), QString::fromUtf8(order->tradeNo));
        if (!cancel) {
            if (order->state == OrderState::Paid)
                return alipayBusinessError(nodeName, "ACQ.TRADE_STATUS_ERROR", QStringLiteral("交易状态不合法"));
            if (order->state != OrderState::Closed) {
                order->state = OrderState::Closed;
                order->closedMs = nowMs();
            }
            return alipayAnswer(nodeName, node);
        }
        if (faults.alipayCancelRetry) {
            faults.alipayCancelRetry = false;
            node.insert(QStringLiteral("retry_flag"), QStringLiteral("Y"));
            return alipayAnswer(nodeName, node);
        }
        node.insert(QStringLiteral("retry_flag"), QStringLiteral("N"));
        if (order->state == OrderState::Paid) {
            const qint64 left = order->amountFen - order->refundedFen();
            if (left > 0)
                addRefund(*order, order->outTradeNo + "_cancel", left);
            node.insert(QStringLiteral("action"), QStringLiteral("refund"));
        } else {
            if (order->state != OrderState::Closed) {
                order->state = OrderState::Closed;
                order->closedMs = nowMs();
            }
            node.insert(QStringLiteral("action"), QStringLiteral("close"));
        }
        return alipayAnswer(nodeName, node);
    }

    Refund &addRefund(Order &order, const QByteArray &requestNo, qint64 fen)
    {
        Refund r;
        r.requestNo = requestNo;
        r.refundId = order.channel == Channel::Wechat ? "5030" + randomDigits(25) : randomDigits(20);
        r.amountFen = fen;
        r.atMs = nowMs();
        order.refunds.append(r);
        notifyRefund(order, order.refunds.last());
        return order.refunds.last();
    }

    Answer alipayRefund(const QByteArray &nodeName, const QJsonObject &biz)
    {
        Order *order = findAlipayOrder(biz);
        if (!order || !order->scanned)
            return alipayBusinessError(nodeName, "ACQ.TRADE_NOT_EXIST", QStringLiteral("交易不存在"));
        if (order->state != OrderState::Paid)
            return alipayBusinessError(nodeName, "ACQ.TRADE_STATUS_ERROR", QStringLiteral("交易状态不合法"));
        const std::optional<Money> amount
            = pc::fenFromYuan(biz.value(QStringLiteral("refund_amount")).toString().toUtf8());
        if (!amount || amount->fen() < 1)
            return alipayError(nodeName, "40002", "Invalid Arguments", "isv.invalid-parameter",
                QStringLiteral("refund_amount 不合法"));
        QByteArray requestNo = biz.value(QStringLiteral("out_request_no")).toString().toUtf8();
        if (requestNo.isEmpty())
            requestNo = order->outTradeNo;
        bool moved = false;
        const auto it = std::find_if(
            order->refunds.cbegin(), order->refunds.cend(), [&](const Refund &r) { return r.requestNo == requestNo; });
        if (it == order->refunds.cend()) {
            if (amount->fen() > order->amountFen - order->refundedFen())
                return alipayBusinessError(nodeName, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", QStringLiteral("退款金额超限"));
            addRefund(*order, requestNo, amount->fen());
            moved = true;
        } else if (it->amountFen != amount->fen()) {
            return alipayBusinessError(
                nodeName, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", QStringLiteral("同一退款请求号金额不一致"));
        }
        QJsonObject node = alipayOk();
        node.insert(QStringLiteral("out_trade_no"), QString::fromUtf8(order->outTradeNo));
        node.insert(QStringLiteral("trade_no"), QString::fromUtf8(order->tradeNo));
        node.insert(QStringLiteral("buyer_logon_id"), QStringLiteral("san***@sandbox.example"));
        node.insert(QStringLiteral("fund_change"), moved ? QStringLiteral("Y") : QStringLiteral("N"));
        node.insert(
            QStringLiteral("refund_fee"), QString::fromUtf8(pc::yuanFromFen(Money::fromFen(order->refundedFen()))));
        node.insert(QStringLiteral("gmt_refund_pay"), QString::fromUtf8(beijingText(order->refunds.last().atMs)));
        return alipayAnswer(nodeName, node);
    }

    Answer alipayRefundQuery(const QByteArray &nodeName, const QJsonObject &biz)
    {
        Order *order = findAlipayOrder(biz);
        if (!order || !order->scanned)
            return alipayBusinessError(nodeName, "ACQ.TRADE_NOT_EXIST", QStringLiteral("交易不存在"));
        const QByteArray requestNo = biz.value(QStringLiteral("out_request_no")).toString().toUtf8();
        QJsonObject node = alipayOk();
        node.insert(QStringLiteral("out_trade_no"), QString::fromUtf8(order->outTradeNo));
        node.insert(QStringLiteral("trade_no"), QString::fromUtf8(order->tradeNo));
        for (const Refund &r : order->refunds) {
            if (r.requestNo != requestNo)
                continue;
            // Found: Alipay answers an unknown refund with a bare 10000 and no refund_status.
            node.insert(QStringLiteral("out_request_no"), QString::fromUtf8(r.requestNo));
            node.insert(
                QStringLiteral("refund_amount"), QString::fromUtf8(pc::yuanFromFen(Money::fromFen(r.amountFen))));
            node.insert(
                QStringLiteral("total_amount"), QString::fromUtf8(pc::yuanFromFen(Money::fromFen(order->amountFen))));
            node.insert(QStringLiteral("refund_status"), QStringLiteral("REFUND_SUCCESS"));
            node.insert(QStringLiteral("gmt_refund_pay"), QString::fromUtf8(beijingText(r.atMs)));
        }
        return alipayAnswer(nodeName, node);
    }

    Answer alipayBillUrl(const QByteArrayView nodeName, const QJsonObject &biz)
    {
        const QDate date
            = QDate::fromString(biz.value(QStringLiteral("bill_date")).toString(), QStringLiteral("yyyy-MM-dd"));
        if (biz.value(QStringLiteral("bill_type")).toString() != u"trade" || !date.isValid())
            return alipayError(nodeName.toByteArray(), "40002", "Invalid Arguments", "isv.invalid-parameter",
                QStringLiteral("bill_type 须为 trade，bill_date 须为 yyyy-MM-dd"));
        BillFile file;
        file.contentType = "application/zip";
        file.body = alipayBillZip(date);
        file.expiresMs = nowMs() + qMax<qint64>(1000, qint64(double(PaySandbox::billUrlLifetimeMs)));
        const QByteArray token = randomHex(16);
        bills.insert(token, file);
        QJsonObject node = alipayOk();
        node.insert(QStringLiteral("bill_download_url"),
            QString(baseUrl() + QStringLiteral("/sandbox-bill/alipay/") + QString::fromLatin1(token)));
        return alipayAnswer(nodeName.toByteArray(), node);
    }

    // ---- WeChat Pay ----------------------------------------------------------------------------

    Answer wechatAnswer(int status, const QByteArray &body)
    {
        const QByteArray timestamp = QByteArray::number(signingNowMs() / 1000);
        const QByteArray nonce = randomHex(16).toUpper();
        Answer answer = body.isEmpty() ? textAnswer(status, {}, {}) : textAnswer(status, "application/json", body);
        answer.headers = wechatSignedHeaders(timestamp, nonce, body);
        answer.headers.emplace_back("Request-ID", "08" + randomHex(14).toUpper());
        return answer;
    }

    QList<std::pair<QByteArray, QByteArray>> wechatSignedHeaders(
        const QByteArray &timestamp, const QByteArray &nonce, const QByteArray &body, bool corruptIt = false)
    {
        const pc::PrivateKey *key = &wechatPlatformKey[0];
        QByteArray serial = wechatPlatformSerial[0];
        if (faults.wechatSignWith == u"platform-2") {
            key = &wechatPlatformKey[1];
            serial = wechatPlatformSerial[1];
        } else if (faults.wechatSignWith == u"pubkey") {
            key = &wechatPubkeyKey;
            serial = wechatPubkeyId;
        }
        const std::optional<QByteArray> message = pc::wechatResponseMessage(timestamp, nonce, body);
        QByteArray signature
            = pc::encodeBase64(pc::signRsaSha256(*key, message.value_or(QByteArray())).value_or(QByteArray()));
        if (corruptIt)
            signature = corrupt(signature);
        return {{"Wechatpay-Timestamp", timestamp}, {"Wechatpay-Nonce", nonce}, {"Wechatpay-Serial", serial},
            {"Wechatpay-Signature", signature}, {"Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"}};
    }

    Answer wechatError(int status, const char *code, const QString &message)
    {
        return wechatAnswer(status,
            QJsonDocument(
                QJsonObject{{QStringLiteral("code"), QString::fromLatin1(code)}, {QStringLiteral("message"), message}})
                .toJson(QJsonDocument::Compact));
    }

    // Checks the Authorization header; an empty string when it is valid, else why not.
    QString wechatAuthProblem(const QHttpServerRequest &request) const
    {
        const QByteArray header = request.value("Authorization");
        static constexpr char scheme[] = "WECHATPAY2-SHA256-RSA2048 ";
        if (!header.startsWith(scheme))
            return QStringLiteral("Authorization: missing or not WECHATPAY2-SHA256-RSA2048");
        const QByteArrayView params = QByteArrayView(header).sliced(qsizetype(sizeof(scheme) - 1));
        const QByteArray mchid = authParam(params, "mchid");
        const QByteArray nonce = authParam(params, "nonce_str");
        const QByteArray timestamp = authParam(params, "timestamp");
        const QByteArray serial = authParam(params, "serial_no");
        const QByteArray signature = authParam(params, "signature");
        if (mchid != wechatMchid)
            return QStringLiteral("mchid: not the sandbox merchant");
        if (serial.toUpper() != wechatMerchantCert.serialHex())
            return QStringLiteral("serial_no: not the merchant certificate's serial");
        if (!isDigits(timestamp) || qAbs(timestamp.toLongLong() - nowMs() / 1000) >= PaySandbox::wechatTimestampWindowS)
            return QStringLiteral("timestamp: outside the 300 s window");
        const std::optional<QByteArray> message = pc::wechatRequestMessage(
            methodName(request.method()), canonicalUrl(request), timestamp, nonce, request.body());
        if (!message
            || pc::verifyRsaSha256(wechatMerchantCert.publicKey(), *message, signature) != pc::VerifyStatus::Valid)
            return QStringLiteral("signature: does not verify with the merchant certificate");
        return {};
    }

    Answer wechat(const QHttpServerRequest &request, const QString &path)
    {
        using M = QHttpServerRequest::Method;
        const QString problem = wechatAuthProblem(request);
        if (!problem.isEmpty())
            return wechatError(401, "SIGN_ERROR", QStringLiteral("签名错误: ") + problem);
        const M method = request.method();
        static const QString byOtn = QStringLiteral("/v3/pay/transactions/out-trade-no/");
        static const QString refunds = QStringLiteral("/v3/refund/domestic/refunds");
        if (path == u"/v3/pay/transactions/native" && method == M::Post)
            return wechatNative(request);
        if (path.startsWith(byOtn)) {
            QString rest = path.mid(byOtn.size());
            if (rest.endsWith(u"/close") && method == M::Post)
                return wechatClose(request, rest.chopped(6).toUtf8());
            if (!rest.contains(u'/') && method == M::Get)
                return wechatQuery(request, QUrl::fromPercentEncoding(rest.toUtf8()).toUtf8());
        }
        if (path == refunds && method == M::Post)
            return wechatRefund(request);
        if (path.startsWith(refunds + u'/') && method == M::Get)
            return wechatRefundQuery(path.mid(refunds.size() + 1).toUtf8());
        if (path == u"/v3/bill/tradebill" && method == M::Get)
            return wechatBill(request);
        if (path == u"/v3/certificates" && method == M::Get)
            return wechatCertificates();
        return wechatError(404, "NOT_FOUND", QStringLiteral("没有这个接口"));
    }

    Answer wechatNative(const QHttpServerRequest &request)
    {
        const QByteArray body = request.body();
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        const QJsonObject o = doc.object();
        const QByteArray otn = o.value(QStringLiteral("out_trade_no")).toString().toUtf8();
        const QJsonValue total = o.value(QStringLiteral("amount")).toObject().value(QStringLiteral("total"));
        const qint64 fen = rpc::isSafeInteger(total) ? total.toInteger() : 0;
        if (!doc.isObject() || otn.size() < 6 || otn.size() > 32 || fen < 1 || fen > Q_INT64_C(10000000000)
            || o.value(QStringLiteral("description")).toString().isEmpty()
            || o.value(QStringLiteral("notify_url")).toString().isEmpty())
            return wechatError(
                400, "PARAM_ERROR", QStringLiteral("参数错误: out_trade_no, description, notify_url, amount.total"));
        if (o.value(QStringLiteral("mchid")).toString() != QLatin1String(wechatMchid)
            || o.value(QStringLiteral("appid")).toString() != QLatin1String(wechatAppid))
            return wechatError(400, "INVALID_REQUEST", QStringLiteral("appid和mch_id不匹配"));
        const QString currency
            = o.value(QStringLiteral("amount")).toObject().value(QStringLiteral("currency")).toString();
        if (!currency.isEmpty() && currency != u"CNY")
            return wechatError(400, "PARAM_ERROR", QStringLiteral("currency 须为 CNY"));
        const QString timeExpire = o.value(QStringLiteral("time_expire")).toString();
        const QDateTime expires = QDateTime::fromString(timeExpire, Qt::ISODate);
        if (!timeExpire.isEmpty() && !expires.isValid())
            return wechatError(400, "PARAM_ERROR", QStringLiteral("time_expire 须为 RFC 3339"));
        Order *existing = findOrder(Channel::Wechat, otn);
        if (existing && existing->params != body)
            return wechatError(400, "OUT_TRADE_NO_USED", QStringLiteral("商户订单号重复"));
        if (existing && existing->state == OrderState::Paid)
            return wechatError(400, "ORDERPAID", QStringLiteral("该订单已支付"));
        if (existing && existing->state == OrderState::Closed)
            return wechatError(400, "ORDER_CLOSED", QStringLiteral("订单已关闭"));
        Order &order = existing ? *existing : addOrder(Channel::Wechat, otn);
        if (!existing) {
            order.params = body;
            order.amountFen = fen;
            order.subject = o.value(QStringLiteral("description")).toString();
            order.notifyUrl = o.value(QStringLiteral("notify_url")).toString().toUtf8();
            order.attach = o.value(QStringLiteral("attach")).toString().toUtf8();
            order.expiresMs = expires.isValid() ? expires.toMSecsSinceEpoch() : 0;
        }
        return wechatAnswer(200,
            QJsonDocument(QJsonObject{{QStringLiteral("code_url"), QString::fromUtf8(payLink(order))}})
                .toJson(QJsonDocument::Compact));
    }

    QJsonObject wechatTransaction(const Order &order, OrderState visible, qint64 extraFen = 0) const
    {
        QJsonObject t{{QStringLiteral("appid"), QLatin1String(wechatAppid)},
            {QStringLiteral("mchid"), QLatin1String(wechatMchid)},
            {QStringLiteral("out_trade_no"), QString::fromUtf8(order.outTradeNo)},
            {QStringLiteral("attach"), QString::fromUtf8(order.attach)}};
        QString state = QStringLiteral("NOTPAY");
        QString desc = QStringLiteral("订单未支付");
        if (visible == OrderState::Closed) {
            state = QStringLiteral("CLOSED");
            desc = QStringLiteral("订单已关闭");
        } else if (visible == OrderState::Paid) {
            state = order.refunds.isEmpty() ? QStringLiteral("SUCCESS") : QStringLiteral("REFUND");
            desc = order.refunds.isEmpty() ? QStringLiteral("支付成功") : QStringLiteral("订单发生过退款");
        }
        t.insert(QStringLiteral("trade_state"), state);
        t.insert(QStringLiteral("trade_state_desc"), desc);
        if (visible == OrderState::Paid) {
            const qint64 fen = order.amountFen + extraFen;
            t.insert(QStringLiteral("transaction_id"), QString::fromUtf8(order.tradeNo));
            t.insert(QStringLiteral("trade_type"), QStringLiteral("NATIVE"));
            t.insert(QStringLiteral("bank_type"), QStringLiteral("OTHERS"));
            t.insert(QStringLiteral("success_time"), QString::fromUtf8(rfc3339(order.paidMs)));
            t.insert(QStringLiteral("payer"),
                QJsonObject{{QStringLiteral("openid"), QStringLiteral("oSANDBOX0000000000000000buyer")}});
            t.insert(QStringLiteral("amount"),
                QJsonObject{{QStringLiteral("total"), fen}, {QStringLiteral("payer_total"), fen},
                    {QStringLiteral("currency"), QStringLiteral("CNY")},
                    {QStringLiteral("payer_currency"), QStringLiteral("CNY")}});
        } else {
            t.insert(QStringLiteral("amount"),
                QJsonObject{
                    {QStringLiteral("total"), order.amountFen}, {QStringLiteral("currency"), QStringLiteral("CNY")}});
        }
        return t;
    }

    Answer wechatQuery(const QHttpServerRequest &request, const QByteArray &otn)
    {
        if (request.query().queryItemValue(QStringLiteral("mchid")) != QLatin1String(wechatMchid))
            return wechatError(400, "PARAM_ERROR", QStringLiteral("mchid 缺失或不匹配"));
        Order *order = findOrder(Channel::Wechat, otn);
        if (!order)
            return wechatError(404, "ORDER_NOT_EXIST", QStringLiteral("订单不存在"));
        return wechatAnswer(
            200, QJsonDocument(wechatTransaction(*order, visibleState(*order))).toJson(QJsonDocument::Compact));
    }

    Answer wechatClose(const QHttpServerRequest &request, const QByteArray &otn)
    {
        const QJsonObject o = QJsonDocument::fromJson(request.body()).object();
        if (o.value(QStringLiteral("mchid")).toString() != QLatin1String(wechatMchid))
            return wechatError(400, "PARAM_ERROR", QStringLiteral("mchid 缺失或不匹配"));
        Order *order = findOrder(Channel::Wechat, QUrl::fromPercentEncoding(otn).toUtf8());
        if (!order)
            return wechatError(404, "ORDER_NOT_EXIST", QStringLiteral("订单不存在"));
        if (order->state == OrderState::Paid)
            return wechatError(400, "ORDERPAID", QStringLiteral("订单已支付"));
        if (faults.closeRequiresMinAgeMs > 0 && nowMs() - order->createdMs < faults.closeRequiresMinAgeMs)
            return wechatError(400, "INVALID_REQUEST", QStringLiteral("订单创建时间过短，不能关闭"));
        if (order->state != OrderState::Closed) {
            order->state = OrderState::Closed;
            order->closedMs = nowMs();
        }
        return wechatAnswer(204, {});
    }

    QJsonObject wechatRefundObject(const Order &order, const Refund &r) const
    {
        return QJsonObject{{QStringLiteral("refund_id"), QString::fromUtf8(r.refundId)},
            {QStringLiteral("out_refund_no"), QString::fromUtf8(r.requestNo)},
            {QStringLiteral("transaction_id"), QString::fromUtf8(order.tradeNo)},
            {QStringLiteral("out_trade_no"), QString::fromUtf8(order.outTradeNo)},
            {QStringLiteral("channel"), QStringLiteral("ORIGINAL")},
            {QStringLiteral("user_received_account"), QStringLiteral("支付用户零钱")},
            {QStringLiteral("success_time"), QString::fromUtf8(rfc3339(r.atMs))},
            {QStringLiteral("create_time"), QString::fromUtf8(rfc3339(r.atMs))},
            {QStringLiteral("status"), QStringLiteral("SUCCESS")},
            {QStringLiteral("amount"),
                QJsonObject{{QStringLiteral("total"), order.amountFen}, {QStringLiteral("refund"), r.amountFen},
                    {QStringLiteral("payer_total"), order.amountFen}, {QStringLiteral("payer_refund"), r.amountFen},
                    {QStringLiteral("currency"), QStringLiteral("CNY")}}}};
    }

    Answer wechatRefund(const QHttpServerRequest &request)
    {
        const QJsonObject o = QJsonDocument::fromJson(request.body()).object();
        const QByteArray refundNo = o.value(QStringLiteral("out_refund_no")).toString().toUtf8();
        const QJsonObject amount = o.value(QStringLiteral("amount")).toObject();
        const QJsonValue refund = amount.value(QStringLiteral("refund"));
        if (refundNo.isEmpty() || !refund.isDouble() || refund.toDouble() < 1
            || refund.toDouble() != double(qint64(refund.toDouble())))
            return wechatError(400, "PARAM_ERROR", QStringLiteral("参数错误: out_refund_no, amount.refund"));
        Order *order = findOrder(Channel::Wechat, o.value(QStringLiteral("out_trade_no")).toString().toUtf8());
        if (!order)
            return wechatError(404, "RESOURCE_NOT_EXISTS", QStringLiteral("订单不存在"));
        for (const Refund &r : std::as_const(order->refunds)) {
            if (r.requestNo == refundNo)
                return wechatAnswer(200, QJsonDocument(wechatRefundObject(*order, r)).toJson(QJsonDocument::Compact));
        }
        if (order->state != OrderState::Paid)
            return wechatError(403, "TRADE_STATE_ERROR", QStringLiteral("订单状态不正确"));
        if (qint64(amount.value(QStringLiteral("total")).toDouble()) != order->amountFen)
            return wechatError(400, "PARAM_ERROR", QStringLiteral("amount.total 与原订单金额不一致"));
        const qint64 fen = qint64(refund.toDouble());
        if (fen > order->amountFen - order->refundedFen())
            return wechatError(403, "NOT_ENOUGH", QStringLiteral("可退金额不足"));
        const Refund &r = addRefund(*order, refundNo, fen);
        return wechatAnswer(200, QJsonDocument(wechatRefundObject(*order, r)).toJson(QJsonDocument::Compact));
    }

    Answer wechatRefundQuery(const QByteArray &refundNo)
    {
        for (const auto &[key, order] : orders) {
            if (order.channel != Channel::Wechat)
                continue;
            for (const Refund &r : order.refunds) {
                if (r.requestNo == refundNo)
                    return wechatAnswer(
                        200, QJsonDocument(wechatRefundObject(order, r)).toJson(QJsonDocument::Compact));
            }
        }
        return wechatError(404, "RESOURCE_NOT_EXISTS", QStringLiteral("退款单不存在"));
    }

    Answer wechatBill(const QHttpServerRequest &request)
    {
        const QUrlQuery query = request.query();
        const QDate date
            = QDate::fromString(query.queryItemValue(QStringLiteral("bill_date")), QStringLiteral("yyyy-MM-dd"));
        const QString type = query.queryItemValue(QStringLiteral("bill_type"));
        if (!date.isValid() || (!type.isEmpty() && type != u"ALL"))
            return wechatError(400, "PARAM_ERROR", QStringLiteral("bill_date 须为 yyyy-MM-dd，bill_type 须为 ALL"));
        BillFile file;
        file.contentType = "text/plain; charset=utf-8";
        file.body = wechatBillText(date);
        file.needsWechatAuth = true;
        const QByteArray token = randomHex(16);
        bills.insert(token, file);
        return wechatAnswer(200,
            QJsonDocument(
                QJsonObject{{QStringLiteral("hash_type"), QStringLiteral("SHA1")},
                    {QStringLiteral("hash_value"), QString::fromLatin1(sha1Hex(file.body))},
                    {QStringLiteral("download_url"),
                        QString(baseUrl() + QStringLiteral("/sandbox-bill/wechat/") + QString::fromLatin1(token))}})
                .toJson(QJsonDocument::Compact));
    }

    Answer wechatCertificates()
    {
        QJsonArray data;
        for (int i = 0; i < 2; ++i) {
            const QList<QSslCertificate> certs = QSslCertificate::fromData(wechatPlatformPem[i], QSsl::Pem);
            if (certs.isEmpty())
                continue;
            const QByteArray nonce = randomAlnum(12);
            const std::optional<QByteArray> sealed
                = aesGcmSeal(wechatApiV3Key, nonce, "certificate", wechatPlatformPem[i]);
            data.append(QJsonObject{{QStringLiteral("serial_no"), QString::fromLatin1(wechatPlatformSerial[i])},
                {QStringLiteral("effective_time"),
                    QString::fromUtf8(rfc3339(certs.first().effectiveDate().toMSecsSinceEpoch()))},
                {QStringLiteral("expire_time"),
                    QString::fromUtf8(rfc3339(certs.first().expiryDate().toMSecsSinceEpoch()))},
                {QStringLiteral("encrypt_certificate"),
                    QJsonObject{{QStringLiteral("algorithm"), QStringLiteral("AEAD_AES_256_GCM")},
                        {QStringLiteral("nonce"), QString::fromLatin1(nonce)},
                        {QStringLiteral("associated_data"), QStringLiteral("certificate")},
                        {QStringLiteral("ciphertext"),
                            QString::fromLatin1(pc::encodeBase64(sealed.value_or(QByteArray())))}}}});
        }
        return wechatAnswer(
            200, QJsonDocument(QJsonObject{{QStringLiteral("data"), data}}).toJson(QJsonDocument::Compact));
    }

    // ---- UnionPay ------------------------------------------------------------------------------

    static QByteArray unionpayStringToSign(const pc::FormFields &fields)
    {
        QList<std::pair<QByteArray, QByteArray>> kept;
        for (const auto &kv : fields) {
            if (kv.first != "signature" && !kv.second.isEmpty())
                kept.append(kv);
        }
        std::sort(kept.begin(), kept.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        QByteArray out;
        for (const auto &[k, v] : kept) {
            if (!out.isEmpty())
                out += '&';
            out += k + '=' + v;
        }
        return out;
    }

    static QByteArray unionpayDigest(const pc::FormFields &fields)
    {
        return pc::sha256(unionpayStringToSign(fields)).toHex();
    }

    // Adds signPubKeyCert and signature (ACP 5.1.0 signMethod=01).
    pc::FormFields unionpaySigned(pc::FormFields fields, bool corruptIt = false) const
    {
        fields.emplace_back("signPubKeyCert", unionpaySignPem);
        QByteArray signature
            = pc::encodeBase64(pc::signRsaSha256(unionpaySignKey, unionpayDigest(fields)).value_or(QByteArray()));
        if (corruptIt)
            signature = corrupt(signature);
        fields.emplace_back("signature", signature);
        return fields;
    }

    Answer unionpayAnswer(pc::FormFields fields)
    {
        return textAnswer(
            200, "application/x-www-form-urlencoded;charset=UTF-8", pc::formEncode(unionpaySigned(std::move(fields))));
    }

    Answer unionpay(const QHttpServerRequest &request, bool query)
    {
        const std::optional<pc::FormFields> parsed = pc::formDecode(request.body());
        pc::FormFields echo;
        if (parsed) {
            for (const char *key : {"version", "encoding", "signMethod", "txnType", "txnSubType", "bizType",
                     "accessType", "merId", "orderId", "txnTime"}) {
                const QByteArray v = fieldOf(*parsed, key);
                if (!v.isEmpty())
                    echo.append({key, v});
            }
        }
        const auto fail = [&](const char *code, const QString &msg) {
            pc::FormFields f = echo;
            f.emplace_back("respCode", code);
            f.emplace_back("respMsg", msg.toUtf8());
            return unionpayAnswer(f);
        };
        if (!parsed)
            return fail("30", QStringLiteral("报文格式错误"));
        const pc::FormFields &f = *parsed;
        const QByteArray signature = fieldOf(f, "signature");
        if (fieldOf(f, "signMethod") != "01" || fieldOf(f, "certId") != unionpayMerchantCert.serialDecimal()
            || pc::verifyRsaSha256(unionpayMerchantCert.publicKey(), unionpayDigest(f), signature)
                != pc::VerifyStatus::Valid)
            return fail("11", QStringLiteral("验证签名失败"));
        if (fieldOf(f, "merId") != unionpayMerId)
            return fail("11", QStringLiteral("商户号不存在或状态不正确"));
        if (fieldOf(f, "version") != "5.1.0" || fieldOf(f, "encoding") != "UTF-8")
            return fail("30", QStringLiteral("报文格式错误: version/encoding"));
        const QByteArray orderId = fieldOf(f, "orderId");
        const QByteArray txnTime = fieldOf(f, "txnTime");
        if (orderId.isEmpty() || txnTime.size() != 14 || !isDigits(txnTime))
            return fail("30", QStringLiteral("报文格式错误: orderId/txnTime"));
        if (query) {
            if (fieldOf(f, "txnType") != "00" || fieldOf(f, "txnSubType") != "00")
                return fail("30", QStringLiteral("报文格式错误: txnType/txnSubType"));
            Order *order = findOrder(Channel::Unionpay, orderId);
            if (!order || order->txnTime != txnTime)
                return fail("34", QStringLiteral("查无此交易"));
            const OrderState visible = visibleState(*order);
            pc::FormFields out = echo;
            out.emplace_back("respCode", "00");
            out.emplace_back("respMsg", QStringLiteral("成功[0000000]").toUtf8());
            out.emplace_back("origRespCode",
                visible == OrderState::Paid         ? "00"
                    : visible == OrderState::Closed ? "03"
                                                    : "05");
            out.emplace_back("origRespMsg",
                (visible == OrderState::Paid            ? QStringLiteral("成功")
                        : visible == OrderState::Closed ? QStringLiteral("交易已关闭")
                                                        : QStringLiteral("交易处理中"))
                    .toUtf8());
            out.emplace_back("txnAmt", QByteArray::number(order->amountFen));
            out.emplace_back("currencyCode", "156");
            if (visible == OrderState::Paid) {
                out.emplace_back("queryId", order->tradeNo);
                out.emplace_back("traceNo", order->tradeNo.right(6));
                out.emplace_back("traceTime", beijing(order->paidMs, QStringLiteral("MMddHHmmss")).toUtf8());
            }
            return unionpayAnswer(out);
        }
        if (fieldOf(f, "txnType") != "01" || fieldOf(f, "txnSubType") != "07" || fieldOf(f, "channelType") != "08")
            return fail("30", QStringLiteral("报文格式错误: txnType/txnSubType/channelType"));
        const QByteArray txnAmt = fieldOf(f, "txnAmt");
        if (!isDigits(txnAmt) || txnAmt.size() > 12 || txnAmt.toLongLong() < 1 || fieldOf(f, "currencyCode") != "156"
            || fieldOf(f, "backUrl").isEmpty())
            return fail("30", QStringLiteral("报文格式错误: txnAmt/currencyCode/backUrl"));
        pc::FormFields business;
        for (const auto &kv : f) {
            if (kv.first != "signature" && kv.first != "certId")
                business.append(kv);
        }
        const QByteArray params = unionpayStringToSign(business);
        Order *existing = findOrder(Channel::Unionpay, orderId);
        if (existing && existing->params != params)
            return fail("12", QStringLiteral("重复交易"));
        Order &order = existing ? *existing : addOrder(Channel::Unionpay, orderId);
        if (!existing) {
            order.params = params;
            order.amountFen = txnAmt.toLongLong();
            order.subject = QStringLiteral("银联二维码支付");
            order.notifyUrl = fieldOf(f, "backUrl");
            order.txnTime = txnTime;
            order.bizType = fieldOf(f, "bizType");
            order.expiresMs
                = beijingMs(QString::fromLatin1(fieldOf(f, "payTimeout")), QStringLiteral("yyyyMMddHHmmss"));
        }
        pc::FormFields out = echo;
        out.emplace_back("respCode", "00");
        out.emplace_back("respMsg", QStringLiteral("成功[0000000]").toUtf8());
        out.emplace_back("qrCode", payLink(order));
        return unionpayAnswer(out);
    }

    // ---- notifications -------------------------------------------------------------------------

    void notifyPaid(Order &order)
    {
        if (config.noNotify || faults.notifyOff || order.notifyUrl.isEmpty())
            return;
        const qint64 extra = faults.amountMismatchFen;
        auto job = std::make_shared<NotifyJob>();
        job->channel = order.channel;
        job->outTradeNo = order.outTradeNo;
        job->kind = QStringLiteral("paid");
        job->url = QUrl(QString::fromUtf8(order.notifyUrl));
        job->corruptSignature = faults.badSignature;
        job->generation = generation;
        switch (order.channel) {
        case Channel::Alipay:
            job->body = alipayNotifyBody(order, QByteArray("TRADE_SUCCESS"), extra, nullptr, faults.badSignature);
            break;
        case Channel::Wechat:
            job->wechatSigned = true;
            job->body = wechatNotifyBody(order, extra, nullptr);
            break;
        case Channel::Unionpay: job->body = unionpayNotifyBody(order, extra, faults.badSignature); break;
        }
        if (faults.outOfOrder && order.channel == Channel::Alipay) {
            // A stale WAIT_BUYER_PAY after the success (H-series): a client must not go back.
            auto stale = std::make_shared<NotifyJob>(*job);
            stale->kind = QStringLiteral("stale WAIT_BUYER_PAY");
            stale->body = alipayNotifyBody(order, QByteArray("WAIT_BUYER_PAY"), 0, nullptr, false);
            job->followUp = stale;
        }
        startJob(job);
    }

    void notifyRefund(Order &order, const Refund &refund)
    {
        if (config.noNotify || faults.notifyOff || order.notifyUrl.isEmpty() || order.channel == Channel::Unionpay)
            return;
        auto job = std::make_shared<NotifyJob>();
        job->channel = order.channel;
        job->outTradeNo = order.outTradeNo;
        job->kind = QStringLiteral("refund ") + QString::fromUtf8(refund.requestNo);
        job->url = QUrl(QString::fromUtf8(order.notifyUrl));
        job->corruptSignature = faults.badSignature;
        job->generation = generation;
        if (order.channel == Channel::Alipay) {
            const QByteArray status = order.refundedFen() >= order.amountFen ? "TRADE_CLOSED" : "TRADE_SUCCESS";
            job->body = alipayNotifyBody(order, status, 0, &refund, faults.badSignature);
        } else {
            job->wechatSigned = true;
            job->body = wechatNotifyBody(order, 0, &refund);
        }
        startJob(job);
    }

    QByteArray alipayNotifyBody(
        const Order &order, const QByteArray &status, qint64 extraFen, const Refund *refund, bool corruptIt)
    {
        const QByteArray amount = pc::yuanFromFen(Money::fromFen(order.amountFen + extraFen));
        pc::FormFields f{{"notify_time", beijingText(signingNowMs())}, {"notify_type", "trade_status_sync"},
            {"notify_id", randomHex(16)}, {"app_id", alipayAppId}, {"charset", "utf-8"}, {"version", "1.0"},
            {"sign_type", "RSA2"}, {"trade_no", order.tradeNo}, {"out_trade_no", order.outTradeNo},
            {"seller_id", alipaySellerId}, {"trade_status", status}, {"total_amount", amount},
            {"subject", order.subject.toUtf8()}, {"gmt_create", beijingText(order.createdMs)},
            {"buyer_id", "2088102177846880"}};
        if (status != "WAIT_BUYER_PAY") {
            f.emplace_back("receipt_amount", amount);
            f.emplace_back("buyer_pay_amount", amount);
            f.emplace_back("gmt_payment", beijingText(order.paidMs));
            f.emplace_back("fund_bill_list", "[{\"amount\":\"" + amount + "\",\"fundChannel\":\"ALIPAYACCOUNT\"}]");
        }
        if (refund) {
            f.emplace_back("refund_fee", pc::yuanFromFen(Money::fromFen(order.refundedFen())));
            f.emplace_back("gmt_refund", beijingText(refund->atMs) + ".000");
            f.emplace_back("out_biz_no", refund->requestNo);
        }
        if (const QByteArray certSn = alipaySigningCertSn(); !certSn.isEmpty())
            f.emplace_back("alipay_cert_sn", certSn);
        const std::optional<QByteArray> toSign = pc::alipayStringToSign(f, pc::AlipaySignScope::Notification);
        QByteArray sign = pc::encodeBase64(
            pc::signRsaSha256(alipaySigningKey(), toSign.value_or(QByteArray())).value_or(QByteArray()));
        if (corruptIt)
            sign = corrupt(sign);
        f.emplace_back("sign", sign);
        return pc::formEncode(f);
    }

    QByteArray wechatNotifyBody(const Order &order, qint64 extraFen, const Refund *refund)
    {
        QByteArray plaintext;
        if (refund) {
            QJsonObject r = wechatRefundObject(order, *refund);
            r.insert(QStringLiteral("mchid"), QLatin1String(wechatMchid));
            r.insert(QStringLiteral("refund_status"), QStringLiteral("SUCCESS"));
            r.remove(QStringLiteral("status"));
            plaintext = QJsonDocument(r).toJson(QJsonDocument::Compact);
        } else {
            plaintext
                = QJsonDocument(wechatTransaction(order, OrderState::Paid, extraFen)).toJson(QJsonDocument::Compact);
        }
        const QByteArray aad = refund ? "refund" : "transaction";
        const QByteArray nonce = randomAlnum(12);
        const std::optional<QByteArray> sealed = aesGcmSeal(wechatApiV3Key, nonce, aad, plaintext);
        const QJsonObject envelope{{QStringLiteral("id"), QString::fromLatin1(randomHex(16))},
            {QStringLiteral("create_time"), QString::fromUtf8(rfc3339(signingNowMs()))},
            {QStringLiteral("resource_type"), QStringLiteral("encrypt-resource")},
            {QStringLiteral("event_type"),
                refund ? QStringLiteral("REFUND.SUCCESS") : QStringLiteral("TRANSACTION.SUCCESS")},
            {QStringLiteral("summary"), refund ? QStringLiteral("退款成功") : QStringLiteral("支付成功")},
            {QStringLiteral("resource"),
                QJsonObject{{QStringLiteral("original_type"),
                                refund ? QStringLiteral("refund") : QStringLiteral("transaction")},
                    {QStringLiteral("algorithm"), QStringLiteral("AEAD_AES_256_GCM")},
                    {QStringLiteral("ciphertext"),
                        QString::fromLatin1(pc::encodeBase64(sealed.value_or(QByteArray())))},
                    {QStringLiteral("associated_data"), QString::fromLatin1(aad)},
                    {QStringLiteral("nonce"), QString::fromLatin1(nonce)}}}};
        return QJsonDocument(envelope).toJson(QJsonDocument::Compact);
    }

    QByteArray unionpayNotifyBody(const Order &order, qint64 extraFen, bool corruptIt) const
    {
        pc::FormFields f{{"respCode", "00"}, {"respMsg", QStringLiteral("成功[0000000]").toUtf8()},
            {"orderId", order.outTradeNo}, {"txnTime", order.txnTime},
            {"txnAmt", QByteArray::number(order.amountFen + extraFen)}, {"currencyCode", "156"},
            {"queryId", order.tradeNo}, {"merId", unionpayMerId}, {"traceNo", order.tradeNo.right(6)},
            {"traceTime", beijing(order.paidMs, QStringLiteral("MMddHHmmss")).toUtf8()}, {"txnType", "01"},
            {"txnSubType", "07"}, {"bizType", order.bizType.isEmpty() ? QByteArray("000000") : order.bizType},
            {"accessType", "0"}, {"version", "5.1.0"}, {"encoding", "UTF-8"}, {"signMethod", "01"}};
        return pc::formEncode(unionpaySigned(f, corruptIt));
    }

    int scaledMs(qint64 seconds) const
    {
        const double ms = double(seconds) * 1000.0 * config.timeScale;
        return int(qBound(0.0, ms, 24.0 * 3600 * 1000));
    }

    void startJob(const std::shared_ptr<NotifyJob> &job)
    {
        if (!job->url.isValid() || (job->url.scheme() != u"http" && job->url.scheme() != u"https")) {
            logNotify(*job, 0, 0, QStringLiteral("notify_url is not an http(s) URL"), false);
            return;
        }
        sendAttempt(job);
    }

    void sendAttempt(const std::shared_ptr<NotifyJob> &job)
    {
        if (job->done || job->generation != generation || faults.notifyOff)
            return;
        ++job->attempt;
        const int copies = 1 + int(qBound(qint64(0), faults.duplicateNotifies, qint64(20)));
        for (int copy = 0; copy < copies; ++copy)
            sendCopy(job, copy);
    }

    void sendCopy(const std::shared_ptr<NotifyJob> &job, int copy)
    {
        QNetworkRequest request(job->url);
        request.setTransferTimeout(10000);
        if (job->channel == Channel::Wechat) {
            request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
            const QByteArray timestamp = QByteArray::number(signingNowMs() / 1000);
            for (const auto &[k, v] :
                wechatSignedHeaders(timestamp, randomHex(16).toUpper(), job->body, job->corruptSignature))
                request.setRawHeader(k, v);
        } else {
            request.setHeader(QNetworkRequest::ContentTypeHeader,
                job->channel == Channel::Alipay ? QByteArray("application/x-www-form-urlencoded; charset=utf-8")
                                                : QByteArray("application/x-www-form-urlencoded;charset=UTF-8"));
        }
        if (job->url.scheme() == u"https") {
            QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
            if (!config.notifyCaFile.isEmpty()) {
                QList<QSslCertificate> cas = tls.caCertificates();
                cas += QSslCertificate::fromPath(config.notifyCaFile, QSsl::Pem);
                tls.setCaCertificates(cas);
            }
            request.setSslConfiguration(tls);
        }
        Order *order = findOrder(job->channel, job->outTradeNo);
        if (order)
            ++order->notifiesSent;
        QNetworkReply *reply = network->post(request, job->body);
        const int attempt = job->attempt;
        QObject::connect(reply, &QNetworkReply::finished, q, [this, job, reply, attempt, copy]() {
            reply->deleteLater();
            if (job->generation != generation)
                return;
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            const QByteArray answer = reply->readAll();
            bool acked = false;
            switch (job->channel) {
            case Channel::Alipay: acked = status == 200 && answer == "success"; break;
            case Channel::Wechat: acked = status == 200 || status == 204; break;
            case Channel::Unionpay: acked = status == 200; break;
            }
            const QString excerpt = status == 0 ? reply->errorString() : QString::fromUtf8(answer.left(120));
            logNotify(*job, attempt, copy, excerpt, acked, status);
            if (job->followUp && attempt == 1 && copy == 0) {
                startJob(job->followUp);
                job->followUp.reset();
            }
            if (acked) {
                if (!job->done) {
                    if (Order *o = findOrder(job->channel, job->outTradeNo))
                        ++o->notifiesAcked;
                }
                job->done = true;
                return;
            }
            // Only the main copy of the latest attempt schedules the next one.
            if (copy != 0 || attempt != job->attempt || job->done)
                return;
            const QList<qint64> &schedule = retryScheduleS(job->channel);
            if (job->attempt >= schedule.size())
                return;
            QTimer::singleShot(scaledMs(schedule.at(job->attempt)), q, [this, job]() { sendAttempt(job); });
        });
    }

    void logNotify(const NotifyJob &job, int attempt, int copy, const QString &excerpt, bool acked, int status = 0)
    {
        NotifyLogEntry e;
        e.atMs = nowMs();
        e.channel = job.channel;
        e.outTradeNo = job.outTradeNo;
        e.kind = job.kind;
        e.attempt = attempt;
        e.copy = copy;
        e.httpStatus = status;
        e.excerpt = excerpt;
        e.acknowledged = acked;
        notifyLog.append(e);
        if (notifyLog.size() > PaySandbox::notifyLogMax)
            notifyLog.removeFirst();
        qCInfo(lcPaySandbox).noquote() << "notify" << channelName(job.channel) << job.outTradeNo << job.kind
                                       << "attempt" << attempt << "copy" << copy << "HTTP" << status
                                       << (acked ? "acknowledged" : "not acknowledged");
    }

    // ---- bills ---------------------------------------------------------------------------------

    QByteArray alipayBillZip(const QDate &date) const
    {
        const QString dateTag = date.toString(QStringLiteral("yyyyMMdd"));
        const QString fromText = date.toString(QStringLiteral("yyyy年MM月dd日")) + QStringLiteral(" 00:00:00");
        const QString toText = date.addDays(1).toString(QStringLiteral("yyyy年MM月dd日")) + QStringLiteral(" 00:00:00");
        QStringList lines{QStringLiteral("#支付宝业务明细查询"),
            QStringLiteral("#账号：[%1]").arg(QLatin1String(alipaySellerId)),
            QStringLiteral("#起始日期：[%1]   终止日期：[%2]").arg(fromText, toText),
            QStringLiteral(
                "#-----------------------------------------业务明细列表----------------------------------------"),
            QStringLiteral(
                "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
                "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
                "券核销金额（元）,"
                "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")};
        int trades = 0;
        int refundsCount = 0;
        qint64 tradeFen = 0;
        qint64 refundFen = 0;
        const auto row
            = [&](const QByteArray &tradeNo, const QByteArray &otn, const QString &kind, const QString &subject,
                  qint64 createdMs, qint64 doneMs, qint64 fen, const QByteArray &requestNo) {
                  const QString y = QString::fromLatin1(yuanSigned(fen));
                  QString safeSubject = subject;
                  safeSubject.replace(u',', u' ');
                  lines << QStringList{QString::fromUtf8(tradeNo), QString::fromUtf8(otn), kind, safeSubject,
                      QString::fromUtf8(beijingText(createdMs)), QString::fromUtf8(beijingText(doneMs)), QString(),
                      QString(), QString(), QString(), QStringLiteral("san***@sandbox.example"), y, y,
                      QStringLiteral("0.00"), QStringLiteral("0.00"), QStringLiteral("0.00"), QStringLiteral("0.00"),
                      QStringLiteral("0.00"), QString(), QStringLiteral("0.00"), QStringLiteral("0.00"),
                      QString::fromUtf8(requestNo), QStringLiteral("0.00"), QStringLiteral("0.00"), QString()}
                               .join(u',');
              };
        for (const auto &[key, o] : orders) {
            if (o.channel != Channel::Alipay)
                continue;
            if (o.state == OrderState::Paid && beijingDate(o.paidMs) == date) {
                row(o.tradeNo, o.outTradeNo, QStringLiteral("交易"), o.subject, o.createdMs, o.paidMs, o.amountFen, {});
                ++trades;
                tradeFen += o.amountFen;
            }
            for (const Refund &r : o.refunds) {
                if (beijingDate(r.atMs) != date)
                    continue;
                row(o.tradeNo, o.outTradeNo, QStringLiteral("退款"), o.subject, o.createdMs, r.atMs, -r.amountFen,
                    r.requestNo);
                ++refundsCount;
                refundFen += r.amountFen;
            }
        }
        for (const BillExtra &x : billExtras) {
            if (x.channel != Channel::Alipay || beijingDate(x.atMs) != date)
                continue;
            row(newTradeNo(Channel::Alipay), x.outTradeNo, QStringLiteral("交易"), QStringLiteral("provider-only"),
                x.atMs, x.atMs, x.amountFen, {});
            ++trades;
            tradeFen += x.amountFen;
        }
        lines << QStringLiteral(
            "#-----------------------------------------业务明细列表结束------------------------------------")
              << QStringLiteral("#交易合计：%1笔，商家实收共%2元，商家优惠共0.00元")
                     .arg(trades)
                     .arg(QString::fromLatin1(yuanSigned(tradeFen)))
              << QStringLiteral("#退款合计：%1笔，商家实收共%2元，商家优惠共0.00元")
                     .arg(refundsCount)
                     .arg(QString::fromLatin1(yuanSigned(-refundFen)))
              << QStringLiteral("#导出时间：[%1]").arg(beijing(nowMs(), QStringLiteral("yyyy年MM月dd日 HH:mm:ss")));
        const QByteArray gbk
            = toGbk(lines.join(QStringLiteral("\r\n")) + QStringLiteral("\r\n")).value_or(QByteArray());
        return zipStored({{QStringLiteral("20881234567890120156_%1_业务明细.csv").arg(dateTag), gbk}}, nowMs());
    }

    QByteArray wechatBillText(const QDate &date) const
    {
        QStringList lines{QStringLiteral(
            "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
            "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
            "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")};
        int count = 0;
        qint64 settled = 0;
        qint64 refunded = 0;
        const auto row = [&](qint64 atMs, const QByteArray &txn, const QByteArray &otn, const QString &state,
                             qint64 settleFen, const QByteArray &refundId, const QByteArray &refundNo, qint64 refundFen,
                             const QString &subject, const QByteArray &attach, qint64 orderFen) {
            QStringList cells{beijing(atMs, QStringLiteral("yyyy-MM-dd HH:mm:ss")), QLatin1String(wechatAppid),
                QLatin1String(wechatMchid), QStringLiteral("0"), QString(), QString::fromUtf8(txn),
                QString::fromUtf8(otn), QStringLiteral("oSANDBOX0000000000000000buyer"), QStringLiteral("NATIVE"),
                state, QStringLiteral("OTHERS"), QStringLiteral("CNY"), QString::fromLatin1(yuanSigned(settleFen)),
                QStringLiteral("0.00"), refundId.isEmpty() ? QStringLiteral("0") : QString::fromUtf8(refundId),
                refundNo.isEmpty() ? QStringLiteral("0") : QString::fromUtf8(refundNo),
                QString::fromLatin1(yuanSigned(refundFen)), QStringLiteral("0.00"),
                refundId.isEmpty() ? QString() : QStringLiteral("ORIGINAL"),
                refundId.isEmpty() ? QString() : QStringLiteral("SUCCESS"), subject, QString::fromUtf8(attach),
                QStringLiteral("0.00000"), QStringLiteral("0.60%"), QString::fromLatin1(yuanSigned(orderFen)),
                QString::fromLatin1(yuanSigned(refundFen)), QString()};
            for (QString &c : cells) {
                c.replace(u',', u' ');
                c.prepend(u'`');
            }
            lines << cells.join(u',');
            ++count;
        };
        for (const auto &[key, o] : orders) {
            if (o.channel != Channel::Wechat)
                continue;
            if (o.state == OrderState::Paid && beijingDate(o.paidMs) == date) {
                row(o.paidMs, o.tradeNo, o.outTradeNo, QStringLiteral("SUCCESS"), o.amountFen, {}, {}, 0, o.subject,
                    o.attach, o.amountFen);
                settled += o.amountFen;
            }
            for (const Refund &r : o.refunds) {
                if (beijingDate(r.atMs) != date)
                    continue;
                row(r.atMs, o.tradeNo, o.outTradeNo, QStringLiteral("REFUND"), 0, r.refundId, r.requestNo, r.amountFen,
                    o.subject, o.attach, o.amountFen);
                refunded += r.amountFen;
            }
        }
        for (const BillExtra &x : billExtras) {
            if (x.channel != Channel::Wechat || beijingDate(x.atMs) != date)
                continue;
            row(x.atMs, newTradeNo(Channel::Wechat), x.outTradeNo, QStringLiteral("SUCCESS"), x.amountFen, {}, {}, 0,
                QStringLiteral("provider-only"), {}, x.amountFen);
            settled += x.amountFen;
        }
        lines << QStringLiteral(
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额");
        QStringList summary{QString::number(count), QString::fromLatin1(yuanSigned(settled)),
            QString::fromLatin1(yuanSigned(refunded)), QStringLiteral("0.00"), QStringLiteral("0.00000"),
            QString::fromLatin1(yuanSigned(settled)), QString::fromLatin1(yuanSigned(refunded))};
        for (QString &c : summary)
            c.prepend(u'`');
        lines << summary.join(u',');
        return (lines.join(QStringLiteral("\r\n")) + QStringLiteral("\r\n")).toUtf8();
    }

    Answer billDownload(const QHttpServerRequest &request, const QString &rest)
    {
        const qsizetype slash = rest.indexOf(u'/');
        const QByteArray token = rest.mid(slash + 1).toLatin1();
        const auto it = bills.constFind(token);
        if (slash < 0 || it == bills.cend() || (it->expiresMs != 0 && nowMs() > it->expiresMs))
            return textAnswer(404, "text/plain", "bill link unknown or expired\n");
        if (it->needsWechatAuth) {
            const QString problem = wechatAuthProblem(request);
            if (!problem.isEmpty())
                return wechatError(401, "SIGN_ERROR", QStringLiteral("签名错误: ") + problem);
        }
        Answer a = textAnswer(200, it->contentType, it->body);
        return a;
    }

    // ---- pay pages -----------------------------------------------------------------------------

    Answer payPage(const QHttpServerRequest &request, const QString &rest)
    {
        const QStringList parts = rest.split(u'/');
        const auto key = tokens.constFind(parts.value(0).toLatin1());
        Order *order = key == tokens.cend() ? nullptr : findOrder(Channel(key->first), key->second);
        if (!order)
            return htmlPage(404, QStringLiteral("#666"), QStringLiteral("订单不存在 / Unknown order"),
                QStringLiteral("<p id=\"result\">订单不存在 / Unknown order</p>"));
        using M = QHttpServerRequest::Method;
        if (parts.size() == 1 && request.method() == M::Get) {
            markScanned(*order); // opening the page is the scan
            return orderPage(*order);
        }
        if (parts.size() == 2 && request.method() == M::Post && parts.at(1) == u"pay") {
            switch (pay(*order)) {
            case PayOutcome::Paid: return resultPage(*order, QStringLiteral("支付成功 / Paid"), 200);
            case PayOutcome::AlreadyPaid:
                return resultPage(*order, QStringLiteral("已支付过，不能重复支付 / Already paid"), 409);
            case PayOutcome::Closed:
                return resultPage(*order, QStringLiteral("订单已关闭，无法支付 / Order closed, not paid"), 409);
            }
        }
        if (parts.size() == 2 && request.method() == M::Post && parts.at(1) == u"cancel")
            return resultPage(*order, QStringLiteral("已取消 / Cancelled (not paid)"), 200);
        return textAnswer(404, "text/plain", "not found\n");
    }

    static QString providerTitle(Channel c)
    {
        switch (c) {
        case Channel::Alipay: return QStringLiteral("支付宝 Alipay");
        case Channel::Wechat: return QStringLiteral("微信支付 WeChat Pay");
        case Channel::Unionpay: return QStringLiteral("云闪付 UnionPay");
        }
        return {};
    }

    static QString providerColour(Channel c)
    {
        switch (c) {
        case Channel::Alipay: return QStringLiteral("#1677ff");
        case Channel::Wechat: return QStringLiteral("#07c160");
        case Channel::Unionpay: return QStringLiteral("#e60012");
        }
        return QStringLiteral("#333");
    }

    static QString stateText(const Order &o)
    {
        switch (o.state) {
        case OrderState::Created: return QStringLiteral("待支付 / Waiting for payment");
        case OrderState::Paid: return QStringLiteral("已支付 / Paid");
        case OrderState::Closed: return QStringLiteral("已关闭 / Closed");
        }
        return {};
    }

    Answer htmlPage(int status, const QString &colour, const QString &title, const QString &content) const
    {
        const QString html = QStringLiteral(
            "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>%1</title><style>"
            "body{margin:0;font-family:system-ui,'Noto Sans CJK SC',sans-serif;background:#f5f5f5;color:#222}"
            "header{background:%2;color:#fff;padding:20px 16px;font-size:22px;font-weight:600}"
            "main{padding:16px;max-width:480px;margin:auto}"
            ".card{background:#fff;border-radius:12px;padding:20px;margin-bottom:16px}"
            ".amount{font-size:44px;font-weight:700;text-align:center;margin:12px 0}"
            ".muted{color:#666;text-align:center}"
            "button{display:block;width:100%;min-height:64px;font-size:22px;border:0;border-radius:12px;margin:12px 0}"
            "#pay{background:%2;color:#fff}#cancel{background:#e0e0e0;color:#222}"
            "#result{font-size:26px;font-weight:600;text-align:center}"
            "</style></head><body><header>%1</header><main>%3</main></body></html>")
                                 .arg(title.toHtmlEscaped(), colour, content);
        return textAnswer(status, "text/html; charset=utf-8", html.toUtf8());
    }

    QString orderCard(const Order &o) const
    {
        return QStringLiteral("<div class=\"card\"><p class=\"muted\">prepay sandbox merchant</p>"
                              "<p class=\"amount\" id=\"amount\">¥%1</p><p class=\"muted\" id=\"subject\">%2</p>"
                              "<p class=\"muted\" id=\"state\">%3</p><p class=\"muted\">%4</p></div>")
            .arg(QString::fromLatin1(pc::yuanFromFen(Money::fromFen(o.amountFen))), o.subject.toHtmlEscaped(),
                stateText(o), QString::fromUtf8(o.outTradeNo).toHtmlEscaped());
    }

    Answer orderPage(const Order &o) const
    {
        const QString base = QStringLiteral("/pay/") + QString::fromLatin1(o.token);
        QString buttons;
        if (o.state != OrderState::Paid) {
            buttons = QStringLiteral("<form method=\"post\" action=\"%1/pay\"><button id=\"pay\" "
                                     "type=\"submit\">确认付款 / Pay</button></form>"
                                     "<form method=\"post\" action=\"%1/cancel\"><button id=\"cancel\" "
                                     "type=\"submit\">取消 / Cancel</button></form>")
                          .arg(base);
        }
        return htmlPage(200, providerColour(o.channel), providerTitle(o.channel), orderCard(o) + buttons);
    }

    Answer resultPage(const Order &o, const QString &text, int status) const
    {
        return htmlPage(status, providerColour(o.channel), providerTitle(o.channel),
            orderCard(o)
                + QStringLiteral("<div class=\"card\"><p id=\"result\">%1</p></div>").arg(text.toHtmlEscaped()));
    }

    // ---- control API ---------------------------------------------------------------------------

    Answer control(const QHttpServerRequest &request, const QString &what)
    {
        using M = QHttpServerRequest::Method;
        const M method = request.method();
        if (what == u"orders" && method == M::Get) {
            QJsonArray list;
            for (const auto &[key, o] : orders)
                list.append(orderJson(o));
            return jsonAnswer(200, QJsonObject{{QStringLiteral("orders"), list}});
        }
        if (what == u"notifies" && method == M::Get) {
            QJsonArray list;
            for (const NotifyLogEntry &e : std::as_const(notifyLog)) {
                list.append(QJsonObject{{QStringLiteral("at"), QString::fromUtf8(rfc3339(e.atMs))},
                    {QStringLiteral("channel"), channelName(e.channel)},
                    {QStringLiteral("out_trade_no"), QString::fromUtf8(e.outTradeNo)}, {QStringLiteral("kind"), e.kind},
                    {QStringLiteral("attempt"), e.attempt}, {QStringLiteral("copy"), e.copy},
                    {QStringLiteral("http_status"), e.httpStatus}, {QStringLiteral("body_excerpt"), e.excerpt},
                    {QStringLiteral("acknowledged"), e.acknowledged}});
            }
            return jsonAnswer(200, QJsonObject{{QStringLiteral("notifies"), list}});
        }
        if (what == u"faults" && method == M::Get)
            return jsonAnswer(200, faults.toJson());
        if (what == u"reset" && method == M::Post) {
            orders.clear();
            tokens.clear();
            billExtras.clear();
            bills.clear();
            notifyLog.clear();
            faults = Faults();
            ++generation;
            return jsonAnswer(200, QJsonObject{{QStringLiteral("reset"), true}});
        }
        if (method != M::Post)
            return controlError(404, QStringLiteral("unknown control call %1").arg(what));
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(request.body(), &parseError);
        if (!doc.isObject())
            return controlError(400, QStringLiteral("body: not a JSON object"));
        const QJsonObject body = doc.object();
        if (what == u"faults")
            return setFaults(body);
        const std::optional<Channel> channel = channelFromName(body.value(QStringLiteral("channel")).toString());
        if (!channel)
            return controlError(400, QStringLiteral("channel: one of alipay, wechat, unionpay"));
        const QByteArray otn = body.value(QStringLiteral("out_trade_no")).toString().toUtf8();
        if (otn.isEmpty())
            return controlError(400, QStringLiteral("out_trade_no: missing"));
        if (what == u"bill/extra") {
            const QJsonValue fen = body.value(QStringLiteral("amount_fen"));
            if (!rpc::isSafeInteger(fen) || fen.toInteger() < 1)
                return controlError(400, QStringLiteral("amount_fen: a positive integer"));
            BillExtra x;
            x.channel = *channel;
            x.outTradeNo = otn;
            x.amountFen = qint64(fen.toDouble());
            x.atMs = nowMs();
            billExtras.append(x);
            return jsonAnswer(200, QJsonObject{{QStringLiteral("added"), true}});
        }
        Order *order = findOrder(*channel, otn);
        if (!order)
            return controlError(
                404, QStringLiteral("no %1 order %2").arg(channelName(*channel), QString::fromUtf8(otn)));
        if (what == u"scan") {
            markScanned(*order);
            return jsonAnswer(200, orderJson(*order));
        }
        if (what == u"pay") {
            switch (pay(*order)) {
            case PayOutcome::Paid: return jsonAnswer(200, orderJson(*order));
            case PayOutcome::AlreadyPaid: return controlError(409, QStringLiteral("already paid"));
            case PayOutcome::Closed: return controlError(409, QStringLiteral("order closed"));
            }
        }
        return controlError(404, QStringLiteral("unknown control call %1").arg(what));
    }

    Answer setFaults(const QJsonObject &body)
    {
        Faults next = faults;
        for (auto it = body.begin(); it != body.end(); ++it) {
            const QString key = it.key();
            const QJsonValue v = it.value();
            const auto integer = [&](qint64 *out, qint64 min, qint64 max) {
                const double d = v.isBool() ? (v.toBool() ? 1 : 0) : v.toDouble(-1e300);
                if (d < double(min) || d > double(max) || d != double(qint64(d)))
                    return false;
                *out = qint64(d);
                return true;
            };
            const auto boolean = [&](bool *out) {
                if (!v.isBool())
                    return false;
                *out = v.toBool();
                return true;
            };
            bool ok = false;
            if (key == u"duplicate_notifies")
                ok = integer(&next.duplicateNotifies, 0, 20);
            else if (key == u"out_of_order")
                ok = boolean(&next.outOfOrder);
            else if (key == u"notify") {
                ok = v.toString() == u"on" || v.toString() == u"off";
                next.notifyOff = v.toString() == u"off";
            } else if (key == u"notify_before_query_ms")
                ok = integer(&next.notifyBeforeQueryMs, 0, 3600000);
            else if (key == u"bad_signature")
                ok = boolean(&next.badSignature);
            else if (key == u"amount_mismatch_fen")
                ok = integer(&next.amountMismatchFen, -1000000, 1000000);
            else if (key == u"http_5xx")
                ok = integer(&next.http5xx, 0, 1000);
            else if (key == u"timeout_ms") {
                ok = integer(&next.timeoutMs, 0, 600000);
                if (ok && !body.contains(QStringLiteral("timeout_calls")))
                    next.timeoutCalls = next.timeoutMs > 0 ? 1 : 0;
            } else if (key == u"timeout_calls")
                ok = integer(&next.timeoutCalls, 0, 1000);
            else if (key == u"late_success_after_close")
                ok = boolean(&next.lateSuccessAfterClose);
            else if (key == u"close_requires_min_age_ms")
                ok = integer(&next.closeRequiresMinAgeMs, 0, 86400000);
            else if (key == u"clock_skew_ms")
                ok = integer(&next.clockSkewMs, -86400000, 86400000);
            else if (key == u"wechat_sign_with") {
                const QString s = v.toString();
                ok = s == u"platform-1" || s == u"platform-2" || s == u"pubkey";
                next.wechatSignWith = s;
            } else if (key == u"alipay_cancel_retry")
                ok = boolean(&next.alipayCancelRetry);
            else if (key == u"alipay_cert") {
                const QString s = v.toString();
                ok = s == u"off" || s == u"1" || s == u"2" || s == u"rogue";
                next.alipayCert = s == u"off" ? 0 : (s == u"rogue" ? 3 : s.toInt());
            }
            else
                return controlError(400, QStringLiteral("%1: unknown fault").arg(key));
            if (!ok)
                return controlError(400, QStringLiteral("%1: bad value").arg(key));
        }
        faults = next;
        return jsonAnswer(200, faults.toJson());
    }
};

// ---- PaySandbox ------------------------------------------------------------------------------------

PaySandbox::PaySandbox(PaySandboxConfig config, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<PaySandboxPrivate>(this, std::move(config)))
{
    d->http = new HttpFront;
    d->http->setParent(this);
    d->http->handler = [this](const QHttpServerRequest &request, QTcpSocket *socket) { d->onRequest(request, socket); };
    d->network = new QNetworkAccessManager(this);
}

PaySandbox::~PaySandbox() = default;

bool PaySandbox::start(QString *error)
{
    if (!d->loadKeys(error))
        return false;
    if (!d->config.plain && !d->setupTls(error))
        return false;
    d->boundPort = d->http->listen(d->config.listen, d->config.port);
    if (d->boundPort == 0) {
        *error = QStringLiteral("cannot listen on %1:%2").arg(d->config.listen.toString()).arg(d->config.port);
        return false;
    }
    return true;
}

quint16 PaySandbox::port() const
{
    return d->boundPort;
}

QString PaySandbox::baseUrl() const
{
    return d->baseUrl();
}

QStringList PaySandbox::startLines() const
{
    QStringList lines{
        QStringLiteral("pay sandbox %1 (alipay /gateway.do, wechat /v3, unionpay /gateway/api, pay pages /pay, "
                       "control /sandbox)")
            .arg(d->baseUrl())};
    lines << QStringLiteral("keys %1").arg(d->config.keysDir);
    lines << (d->config.noNotify ? QStringLiteral("notifications off (--no-notify)")
                                 : QStringLiteral("notifications on, retry schedule x%1").arg(d->config.timeScale));
    return lines;
}

// ---- command line ------------------------------------------------------------------------------

PayCommandLine parsePayCommandLine(const QString &program, const QStringList &arguments)
{
    PayCommandLine c;
#ifdef PREPAY_SIM_PAY_KEYS_DIR
    c.config.keysDir = QStringLiteral(PREPAY_SIM_PAY_KEYS_DIR);
#endif
    const QString help = QStringLiteral(
        "Usage: %1 [--listen 127.0.0.1] [--port 8701] [--plain] [--keys DIR] [--public-url URL]\n"
        "          [--time-scale 0.001] [--notify-ca FILE] [--no-notify]\n"
        "\n"
        "Runs the payment-provider sandbox: Alipay (POST /gateway.do), WeChat Pay APIv3 (/v3/...),\n"
        "UnionPay QR (/gateway/api/...), pay pages (/pay/<token>), bills and the control API (/sandbox/...).\n"
        "\n"
        "  --listen ADDR       address to listen on (default 127.0.0.1; 0.0.0.0 for phones on the LAN)\n"
        "  --port N            TCP port (default 8701; 0 picks a free one)\n"
        "  --plain             HTTP instead of HTTPS\n"
        "  --keys DIR          key material (default %2)\n"
        "  --public-url URL    base of pay-page and bill links (default http(s)://<listen>:<port>)\n"
        "  --time-scale X      notify retry schedule multiplier (default 0.001; 1 = the real schedule)\n"
        "  --notify-ca FILE    CA to trust when notifying an https notify_url\n"
        "  --no-notify         never send notifications\n")
                             .arg(program, c.config.keysDir);
    const auto fail = [&](const QString &message) {
        c.outcome = PayCommandLine::Outcome::Error;
        c.text = QStringLiteral("%1: %2 (see --help)").arg(program, message);
        return c;
    };
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a == u"--help" || a == u"-h") {
            c.outcome = PayCommandLine::Outcome::Help;
            c.text = help;
            return c;
        }
        if (a == u"--plain") {
            c.config.plain = true;
            continue;
        }
        if (a == u"--no-notify") {
            c.config.noNotify = true;
            continue;
        }
        const bool takesValue = a == u"--listen" || a == u"--port" || a == u"--keys" || a == u"--public-url"
            || a == u"--time-scale" || a == u"--notify-ca";
        if (!takesValue)
            return fail(QStringLiteral("unknown option '%1'").arg(a));
        if (i + 1 >= arguments.size())
            return fail(QStringLiteral("%1 needs a value").arg(a));
        const QString v = arguments.at(++i);
        if (a == u"--listen") {
            if (!c.config.listen.setAddress(v))
                return fail(QStringLiteral("--listen: '%1' is not an IP address").arg(v));
        } else if (a == u"--port") {
            bool ok = false;
            const uint port = v.toUInt(&ok);
            if (!ok || port > 65535)
                return fail(QStringLiteral("--port: '%1' is not a port number").arg(v));
            c.config.port = quint16(port);
        } else if (a == u"--keys") {
            c.config.keysDir = v;
        } else if (a == u"--public-url") {
            const QUrl url(v, QUrl::StrictMode);
            if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty())
                return fail(QStringLiteral("--public-url: '%1' is not an http(s) URL").arg(v));
            c.config.publicUrl = v;
        } else if (a == u"--time-scale") {
            bool ok = false;
            const double scale = v.toDouble(&ok);
            if (!ok || !(scale >= 0.0) || scale > 1000.0)
                return fail(QStringLiteral("--time-scale: '%1' is not a number in 0..1000").arg(v));
            c.config.timeScale = scale;
        } else if (a == u"--notify-ca") {
            if (!QFile::exists(v))
                return fail(QStringLiteral("--notify-ca: no file '%1'").arg(v));
            c.config.notifyCaFile = v;
        }
    }
    if (c.config.keysDir.isEmpty())
        return fail(QStringLiteral("--keys: no default key folder in this build; give one"));
    c.outcome = PayCommandLine::Outcome::Run;
    return c;
}

} // namespace prepay::sim::pay
