#include "alipay.h"

#include "api/clock.h"
#include "payments/billzip.h"
#include "payments/paycanon.h"
#include "payments/paycrypto.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTimeZone>

namespace prepay::payments {

namespace {

Q_LOGGING_CATEGORY(lcAlipay, "prepay.payments.alipay")

// Beijing time, UTC+8 all year (no DST since 1991): Alipay's timestamps and bill times.
constexpr int beijingOffsetSeconds = 8 * 3600;
// A key, certificate or bundle file larger than this is not one.
constexpr qint64 keyFileBytesMax = 64 * 1024;

const QByteArray methodPrecreate = QByteArrayLiteral("alipay.trade.precreate");
const QByteArray methodQuery = QByteArrayLiteral("alipay.trade.query");
const QByteArray methodCancel = QByteArrayLiteral("alipay.trade.cancel");
const QByteArray methodClose = QByteArrayLiteral("alipay.trade.close");
const QByteArray methodRefund = QByteArrayLiteral("alipay.trade.refund");
const QByteArray methodRefundQuery = QByteArrayLiteral("alipay.trade.fastpay.refund.query");
const QByteArray methodBillUrl = QByteArrayLiteral("alipay.data.dataservice.bill.downloadurl.query");
const QByteArray methodCertDownload = QByteArrayLiteral("alipay.open.app.alipaycert.download");
// A certificate SN whose download failed is not asked for again before this (monotonic ms).
constexpr qint64 certRetryAfterMs = 60 * 1000;

QByteArray beijingText(qint64 utcMs)
{
    return QDateTime::fromMSecsSinceEpoch(utcMs, QTimeZone(beijingOffsetSeconds))
        .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
        .toUtf8();
}

// "yyyy-MM-dd HH:mm:ss" Beijing → UTC ms; nothing when it does not parse.
std::optional<qint64> beijingMs(const QString &text)
{
    const QDateTime local = QDateTime::fromString(text, QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    if (!local.isValid())
        return std::nullopt;
    return QDateTime(local.date(), local.time(), QTimeZone(beijingOffsetSeconds)).toMSecsSinceEpoch();
}

std::optional<qint64> fenFrom(const QString &yuan)
{
    const auto money = fenFromYuan(yuan.toUtf8());
    if (!money)
        return std::nullopt;
    return money->fen();
}

QByteArray compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

TradeState tradeState(const QString &status, bool *known)
{
    *known = true;
    if (status == QLatin1String("TRADE_SUCCESS") || status == QLatin1String("TRADE_FINISHED"))
        return TradeState::Paid;
    if (status == QLatin1String("WAIT_BUYER_PAY"))
        return TradeState::WaitingPayment;
    if (status == QLatin1String("TRADE_CLOSED"))
        return TradeState::Closed;
    *known = false;
    return TradeState::Failed;
}

QString fileError(const QString &file, const QString &what)
{
    return QStringLiteral("%1: %2").arg(file.isEmpty() ? QStringLiteral("(no file configured)") : file, what);
}

std::optional<QByteArray> readSmallFile(const QString &path, QString *error)
{
    QFile file(path);
    if (path.isEmpty() || !file.exists()) {
        *error = fileError(path, QStringLiteral("missing"));
        return std::nullopt;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = fileError(path, QStringLiteral("cannot be read"));
        return std::nullopt;
    }
    if (file.size() > keyFileBytesMax) {
        *error = fileError(path, QStringLiteral("too large for a key or certificate"));
        return std::nullopt;
    }
    return file.readAll();
}

QString keyLoadText(KeyLoadStatus status, const QString &expected)
{
    switch (status) {
    case KeyLoadStatus::Loaded: return QStringLiteral("loaded");
    case KeyLoadStatus::NotPemOrBase64: return QStringLiteral("not %1 (neither PEM nor base64)").arg(expected);
    case KeyLoadStatus::Encrypted: return QStringLiteral("an encrypted key (no passphrase is ever used)");
    case KeyLoadStatus::Malformed: return QStringLiteral("not %1 (wrong kind or malformed)").arg(expected);
    case KeyLoadStatus::NotRsa: return QStringLiteral("not an RSA key");
    case KeyLoadStatus::BadKeySize: return QStringLiteral("an RSA key of an unaccepted size");
    }
    return QStringLiteral("unusable");
}

// One CSV line split into fields: ',' separates, '"' quotes (with "" for a quote).
QStringList splitCsvLine(const QString &line)
{
    QStringList fields;
    QString current;
    bool quoted = false;
    for (qsizetype i = 0; i < line.size(); ++i) {
        const QChar c = line.at(i);
        if (quoted) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < line.size() && line.at(i + 1) == QLatin1Char('"')) {
                    current += c;
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                current += c;
            }
        } else if (c == QLatin1Char('"')) {
            quoted = true;
        } else if (c == QLatin1Char(',')) {
            fields.append(current.trimmed());
            current.clear();
        } else {
            current += c;
        }
    }
    fields.append(current.trimmed());
    return fields;
}

} // namespace

// The keys, loaded once: ours to sign, Alipay's to verify (one key, or certificates by SN).
struct AlipayProvider::Keys
{
    PrivateKey appKey;
    PublicKey alipayKey;                      // public-key mode
    QHash<QByteArray, PublicKey> alipayCerts; // certificate mode: alipay_cert_sn → key
    QByteArray appCertSn, rootCertSn;         // certificate mode, sent on requests
    QList<Certificate> roots;                 // certificate mode: what a downloaded certificate must chain to
    // Downloads (certificate mode): who waits for which SN, when an SN last failed, and the
    // unknown SN the last notification named (for refreshKeys).
    QHash<QByteArray, QList<std::function<void(bool)>>> fetching;
    QHash<QByteArray, qint64> failedAtMono;
    QByteArray notifiedUnknownSn;

    bool certificateMode() const { return !alipayCerts.isEmpty(); }
};

// A verified answer (or why there is none).
struct AlipayProvider::Answer
{
    Outcome outcome = Outcome::Unknown; // Ok: code 10000; Rejected: a verified refusal
    QString code;                       // sub_code, else code
    QString message;
    QJsonObject node; // the verified response node (also on Rejected)
};

AlipayProvider::AlipayProvider(
    const AlipayConfig &config, Transport &transport, const prepay::Clock &clock, std::unique_ptr<Keys> keys)
    : m_config(config)
    , m_transport(transport)
    , m_clock(clock)
    , m_keys(std::move(keys))
{ }

AlipayProvider::~AlipayProvider() = default;

std::unique_ptr<AlipayProvider> loadAlipay(
    const AlipayConfig &config, Transport &transport, const prepay::Clock &clock, QString *error)
{
    QString ignored;
    QString &why = error ? *error : ignored;
    if (!config.gateway.isValid() || config.gateway.scheme().isEmpty() || config.gateway.hasQuery()) {
        why = QStringLiteral("alipay: gateway must be an absolute URL without a query");
        return nullptr;
    }
    if (config.appId.isEmpty() || config.sellerId.isEmpty()) {
        why = QStringLiteral("alipay: app_id and seller_id are required");
        return nullptr;
    }
    if (config.notifyUrl.hasQuery()) {
        why = QStringLiteral("alipay: notify_url must not carry a query (Alipay does not sign it)");
        return nullptr;
    }
    const bool publicKeyMode = !config.alipayPublicKeyFile.isEmpty();
    const bool certificateMode = !config.alipayCertFiles.isEmpty();
    if (publicKeyMode == certificateMode) {
        why = QStringLiteral("alipay: configure exactly one of the Alipay public key file or the Alipay certificates");
        return nullptr;
    }
    auto keys = std::make_unique<AlipayProvider::Keys>();
    KeyLoadStatus status = KeyLoadStatus::Loaded;

    const auto appKeyText = readSmallFile(config.appPrivateKeyFile, &why);
    if (!appKeyText)
        return nullptr;
    keys->appKey = PrivateKey::load(*appKeyText, &status);
    if (keys->appKey.isNull()) {
        why = fileError(config.appPrivateKeyFile, keyLoadText(status, QStringLiteral("a private key")));
        return nullptr;
    }

    if (publicKeyMode) {
        const auto text = readSmallFile(config.alipayPublicKeyFile, &why);
        if (!text)
            return nullptr;
        keys->alipayKey = PublicKey::load(*text, &status);
        if (keys->alipayKey.isNull()) {
            why = fileError(config.alipayPublicKeyFile, keyLoadText(status, QStringLiteral("a public key")));
            return nullptr;
        }
    } else {
        for (const QString &path : config.alipayCertFiles) {
            const auto text = readSmallFile(path, &why);
            if (!text)
                return nullptr;
            const Certificate cert = Certificate::load(*text, &status);
            if (cert.isNull()) {
                why = fileError(path, keyLoadText(status, QStringLiteral("a certificate")));
                return nullptr;
            }
            const PublicKey key = cert.publicKey();
            if (key.isNull()) {
                why = fileError(path, QStringLiteral("the certificate's key is not an RSA key of an accepted size"));
                return nullptr;
            }
            keys->alipayCerts.insert(alipayCertSn(cert), key);
        }
        const auto appCertText = readSmallFile(config.appCertFile, &why);
        if (!appCertText)
            return nullptr;
        const Certificate appCert = Certificate::load(*appCertText, &status);
        if (appCert.isNull()) {
            why = fileError(config.appCertFile, keyLoadText(status, QStringLiteral("a certificate")));
            return nullptr;
        }
        keys->appCertSn = alipayCertSn(appCert);
        const auto rootText = readSmallFile(config.rootCertFile, &why);
        if (!rootText)
            return nullptr;
        const auto rootSn = alipayRootCertSn(*rootText);
        if (!rootSn || rootSn->isEmpty()) {
            why = fileError(
                config.rootCertFile, QStringLiteral("not a certificate bundle with an RSA-signed certificate"));
            return nullptr;
        }
        keys->rootCertSn = *rootSn;
        keys->roots = loadCertificateBundle(*rootText).value_or(QList<Certificate>());
    }
    if (error)
        error->clear();
    return std::unique_ptr<AlipayProvider>(new AlipayProvider(config, transport, clock, std::move(keys)));
}

QByteArray AlipayProvider::requestBody(const QByteArray &method, const QByteArray &bizContent, bool withNotifyUrl) const
{
    FormFields fields;
    fields.append({QByteArrayLiteral("app_id"), m_config.appId.toUtf8()});
    fields.append({QByteArrayLiteral("method"), method});
    fields.append({QByteArrayLiteral("format"), QByteArrayLiteral("JSON")});
    fields.append({QByteArrayLiteral("charset"), QByteArrayLiteral("utf-8")});
    fields.append({QByteArrayLiteral("sign_type"), QByteArrayLiteral("RSA2")});
    fields.append({QByteArrayLiteral("timestamp"), beijingText(m_clock.wallMs())});
    fields.append({QByteArrayLiteral("version"), QByteArrayLiteral("1.0")});
    if (withNotifyUrl && !m_config.notifyUrl.isEmpty())
        fields.append({QByteArrayLiteral("notify_url"), m_config.notifyUrl.toString(QUrl::FullyEncoded).toUtf8()});
    if (m_keys->certificateMode()) {
        fields.append({QByteArrayLiteral("app_cert_sn"), m_keys->appCertSn});
        fields.append({QByteArrayLiteral("alipay_root_cert_sn"), m_keys->rootCertSn});
    }
    fields.append({QByteArrayLiteral("biz_content"), bizContent});
    const auto toSign = alipayStringToSign(fields, AlipaySignScope::Request);
    const auto signature = toSign ? signRsaSha256(m_keys->appKey, *toSign) : std::nullopt;
    if (!signature)
        return {}; // cannot happen with a loaded key and unique keys; the caller answers Unknown
    fields.append({QByteArrayLiteral("sign"), encodeBase64(*signature)});
    return formEncode(fields);
}

// One signed POST to the gateway (an empty body when it could not be signed).
HttpCall AlipayProvider::gatewayCall(const QByteArray &method, const QByteArray &bizContent, bool withNotifyUrl) const
{
    HttpCall http;
    http.method = QByteArrayLiteral("POST");
    http.url = m_config.gateway;
    http.headers.append(
        {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/x-www-form-urlencoded;charset=utf-8")});
    http.body = requestBody(method, bizContent, withNotifyUrl);
    http.timeoutMs = m_config.timeoutMs;
    return http;
}

void AlipayProvider::call(const QByteArray &method, const QByteArray &bizContent, bool withNotifyUrl,
    std::function<void(const Answer &)> done)
{
    const HttpCall http = gatewayCall(method, bizContent, withNotifyUrl);
    if (http.body.isEmpty()) {
        Answer answer;
        answer.message = QStringLiteral("%1: the request could not be signed").arg(QString::fromLatin1(method));
        done(answer);
        return;
    }
    m_transport.send(http, [this, method, done = std::move(done)](const HttpReply &reply) {
        verifyAnswer(method, reply, true, done);
    });
}

// Verifies one gateway answer. In certificate mode an unknown alipay_cert_sn is fetched once
// (mayFetch) and the same bytes verified again.
void AlipayProvider::verifyAnswer(
    const QByteArray &method, const HttpReply &reply, bool mayFetch, std::function<void(const Answer &)> done)
{
    const QString name = QString::fromLatin1(method);
    Answer answer;
    if (reply.transport != HttpReply::Transport::Ok) {
        answer.message
            = QStringLiteral("%1: %2 (%3)")
                  .arg(name,
                      reply.transport == HttpReply::Transport::Timeout ? QStringLiteral("timeout")
                                                                       : QStringLiteral("transport failure"),
                      reply.error);
        done(answer);
        return;
    }
    if (reply.status != 200) {
        answer.message = QStringLiteral("%1: HTTP %2").arg(name).arg(reply.status);
        done(answer);
        return;
    }
    const AlipayResponse response = alipayResponseNode(reply.body, method);
    if (response.status != AlipayResponse::Status::Found) {
        answer.message = response.status == AlipayResponse::Status::ErrorResponse
            ? QStringLiteral("%1: gateway error_response (not trusted)").arg(name)
            : QStringLiteral("%1: no %2_response node")
                  .arg(name, QString::fromLatin1(QByteArray(method).replace('.', '_')));
        done(answer);
        return;
    }
    PublicKey key = m_keys->alipayKey;
    if (m_keys->certificateMode()) {
        key = m_keys->alipayCerts.value(response.certSn);
        if (key.isNull() && mayFetch && m_config.downloadCertificates && !response.certSn.isEmpty()) {
            fetchCertificate(response.certSn, [this, method, reply, done](bool) {
                this->verifyAnswer(method, reply, false, done);
            });
            return;
        }
        if (key.isNull()) {
            answer.message
                = QStringLiteral("%1: unknown alipay_cert_sn %2").arg(name, QString::fromLatin1(response.certSn));
            done(answer);
            return;
        }
    }
    if (response.sign.isEmpty()) {
        answer.message = QStringLiteral("%1: unsigned response").arg(name);
        done(answer);
        return;
    }
    if (verifyRsaSha256(key, response.node, response.sign) != VerifyStatus::Valid) {
        qCWarning(lcAlipay) << name << "response signature does not verify";
        answer.message = QStringLiteral("%1: response signature does not verify").arg(name);
        done(answer);
        return;
    }
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(response.node, &parseError);
    if (!document.isObject()) {
        answer.message = QStringLiteral("%1: response node is not a JSON object").arg(name);
        done(answer);
        return;
    }
    answer.node = document.object();
    const QString code = answer.node.value(QLatin1String("code")).toString();
    const QString subCode = answer.node.value(QLatin1String("sub_code")).toString();
    const QString msg = answer.node.value(QLatin1String("sub_msg")).toString().isEmpty()
        ? answer.node.value(QLatin1String("msg")).toString()
        : answer.node.value(QLatin1String("sub_msg")).toString();
    answer.code = subCode.isEmpty() ? code : subCode;
    answer.message = QStringLiteral("%1: %2 %3").arg(name, answer.code, msg);
    if (code == QLatin1String("10000")) {
        answer.outcome = Outcome::Ok;
    } else if (code == QLatin1String("40001") || code == QLatin1String("40002") || code == QLatin1String("40003")
        || code == QLatin1String("40004") || code == QLatin1String("40006")) {
        answer.outcome = Outcome::Rejected; // a verified refusal: nothing happened
    } else {
        answer.outcome = Outcome::Unknown; // 20000 (system error), 10003, anything new
    }
    done(answer);
}

void AlipayProvider::fetchCertificate(const QByteArray &sn, std::function<void(bool added)> done)
{
    if (auto waiting = m_keys->fetching.find(sn); waiting != m_keys->fetching.end()) {
        waiting->append(std::move(done));
        return;
    }
    const auto failed = m_keys->failedAtMono.constFind(sn);
    if (failed != m_keys->failedAtMono.constEnd() && m_clock.monotonicMs() - *failed < certRetryAfterMs) {
        done(false);
        return;
    }
    m_keys->fetching.insert(sn, {std::move(done)});
    qCInfo(lcAlipay) << "fetching Alipay certificate" << sn;
    QJsonObject biz;
    biz.insert(QStringLiteral("alipay_cert_sn"), QString::fromLatin1(sn));
    const HttpCall http = gatewayCall(methodCertDownload, compactJson(biz), false);
    m_transport.send(http, [this, sn](const HttpReply &reply) { certificateArrived(sn, reply); });
}

// The download's answer. Its signature is made with the certificate it carries (that is why we
// asked), so the certificate is checked first: the SN asked for, valid now, chaining to our root
// bundle; only then does the answer's signature decide.
void AlipayProvider::certificateArrived(const QByteArray &sn, const HttpReply &reply)
{
    QString why;
    Certificate leaf;
    const AlipayResponse response = reply.transport == HttpReply::Transport::Ok && reply.status == 200
        ? alipayResponseNode(reply.body, methodCertDownload)
        : AlipayResponse();
    const QJsonObject node = response.status == AlipayResponse::Status::Found
        ? QJsonDocument::fromJson(response.node).object()
        : QJsonObject();
    const QByteArray content
        = QByteArray::fromBase64(node.value(QLatin1String("alipay_cert_content")).toString().toLatin1());
    const std::optional<QList<Certificate>> chain = loadCertificateBundle(content);
    if (response.status != AlipayResponse::Status::Found) {
        why = QStringLiteral("no verifiable answer (HTTP %1 %2)").arg(reply.status).arg(reply.error);
    } else if (node.value(QLatin1String("code")).toString() != QLatin1String("10000") || !chain) {
        why = QStringLiteral("refused or no certificate: %1 %2")
                  .arg(node.value(QLatin1String("sub_code")).toString(), node.value(QLatin1String("sub_msg")).toString());
    } else if (leaf = chain->first(); alipayCertSn(leaf) != sn) {
        why = QStringLiteral("the certificate sent is %1, not the one asked for").arg(QString::fromLatin1(alipayCertSn(leaf)));
    } else if (!leaf.isValidAt(m_clock.wallMs()) || leaf.publicKey().isNull()) {
        why = QStringLiteral("the certificate is not valid now or has no usable RSA key");
    } else {
        // leaf → (the certificates sent after it)* → a root of the configured bundle.
        Certificate current = leaf;
        bool anchored = false;
        for (int depth = 0; depth < 4 && !anchored; ++depth) {
            for (const Certificate &root : std::as_const(m_keys->roots))
                anchored = anchored || current.isIssuedBy(root);
            if (anchored)
                break;
            const auto issuer = std::find_if(chain->begin() + 1, chain->end(),
                [&current](const Certificate &candidate) { return current.isIssuedBy(candidate); });
            if (issuer == chain->end())
                break;
            current = *issuer;
        }
        const PublicKey signer = response.certSn == sn ? leaf.publicKey() : m_keys->alipayCerts.value(response.certSn);
        if (!anchored)
            why = QStringLiteral("the certificate does not chain to the configured Alipay root");
        else if (verifyRsaSha256(signer, response.node, response.sign) != VerifyStatus::Valid)
            why = QStringLiteral("the answer's signature does not verify");
    }
    const bool added = why.isEmpty();
    if (added) {
        m_keys->alipayCerts.insert(sn, leaf.publicKey());
        m_keys->failedAtMono.remove(sn);
        qCInfo(lcAlipay) << "Alipay certificate" << sn << "added";
    } else {
        m_keys->failedAtMono.insert(sn, m_clock.monotonicMs());
        qCWarning(lcAlipay) << "Alipay certificate" << sn << "refused:" << why;
    }
    const QList<std::function<void(bool)>> waiters = m_keys->fetching.take(sn);
    for (const auto &waiter : waiters)
        waiter(added);
}

void AlipayProvider::refreshKeys(std::function<void(bool changed)> done)
{
    const QByteArray sn = std::exchange(m_keys->notifiedUnknownSn, QByteArray());
    if (!m_keys->certificateMode() || !m_config.downloadCertificates || sn.isEmpty()) {
        done(false);
        return;
    }
    fetchCertificate(sn, std::move(done));
}

void AlipayProvider::create(const CreateRequest &request, std::function<void(const CreateResult &)> done)
{
    if (request.amountFen <= 0 || request.outTradeNo.isEmpty()) {
        CreateResult result;
        result.outcome = Outcome::Rejected;
        result.code = QStringLiteral("INVALID_REQUEST");
        result.message = QStringLiteral("alipay.trade.precreate: amount must be positive and out_trade_no set");
        done(result);
        return;
    }
    QJsonObject biz;
    biz.insert(QStringLiteral("out_trade_no"), request.outTradeNo);
    biz.insert(QStringLiteral("total_amount"), QString::fromLatin1(yuanFromFen(Money::fromFen(request.amountFen))));
    biz.insert(QStringLiteral("subject"), request.subject);
    biz.insert(QStringLiteral("timeout_express"), m_config.timeoutExpress);
    if (!request.terminalId.isEmpty())
        biz.insert(QStringLiteral("terminal_id"), request.terminalId);
    const QString outTradeNo = request.outTradeNo;
    call(methodPrecreate, compactJson(biz), true, [outTradeNo, done = std::move(done)](const Answer &answer) {
        CreateResult result;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        if (answer.outcome == Outcome::Ok) {
            result.qrPayload = answer.node.value(QLatin1String("qr_code")).toString();
            const QString echoed = answer.node.value(QLatin1String("out_trade_no")).toString();
            if (result.qrPayload.isEmpty() || (!echoed.isEmpty() && echoed != outTradeNo)) {
                result.outcome = Outcome::Unknown;
                result.qrPayload.clear();
                result.message
                    = QStringLiteral("alipay.trade.precreate: answer without qr_code or for another out_trade_no");
            }
        }
        done(result);
    });
}

void AlipayProvider::query(const TradeRef &trade, std::function<void(const QueryResult &)> done)
{
    QJsonObject biz;
    biz.insert(QStringLiteral("out_trade_no"), trade.outTradeNo);
    const QString outTradeNo = trade.outTradeNo;
    call(methodQuery, compactJson(biz), false, [outTradeNo, done = std::move(done)](const Answer &answer) {
        QueryResult result;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        result.trade.outTradeNo = outTradeNo;
        if (answer.outcome == Outcome::Rejected && answer.code == QLatin1String("ACQ.TRADE_NOT_EXIST")) {
            result.outcome = Outcome::Ok;
            result.trade.state = TradeState::NotFound;
            result.trade.rawState = answer.code;
        } else if (answer.outcome == Outcome::Ok) {
            const QJsonObject &node = answer.node;
            const QString echoed = node.value(QLatin1String("out_trade_no")).toString();
            const QString status = node.value(QLatin1String("trade_status")).toString();
            bool known = false;
            result.trade.state = tradeState(status, &known);
            result.trade.rawState = status;
            result.trade.providerTxnId = node.value(QLatin1String("trade_no")).toString();
            result.trade.currency = QStringLiteral("CNY");
            const auto total = fenFrom(node.value(QLatin1String("total_amount")).toString());
            result.trade.totalFen = total ? *total : -1;
            if (const auto paidAt = beijingMs(node.value(QLatin1String("send_pay_date")).toString()))
                result.trade.paidAtMs = *paidAt;
            if (!known || (!echoed.isEmpty() && echoed != outTradeNo)
                || (result.trade.state == TradeState::Paid && !total)) {
                result.outcome = Outcome::Unknown;
                result.message
                    = QStringLiteral("alipay.trade.query: unexpected trade_status %1, out_trade_no or total_amount")
                          .arg(status);
            }
        }
        done(result);
    });
}

void AlipayProvider::abandon(const TradeRef &trade, std::function<void(const AbandonResult &)> done)
{
    QJsonObject biz;
    biz.insert(QStringLiteral("out_trade_no"), trade.outTradeNo);
    call(methodCancel, compactJson(biz), false, [done = std::move(done)](const Answer &answer) {
        AbandonResult result;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        // retry_flag may come with a failure too (ACQ.SYSTEM_ERROR): Y means call again.
        result.retry = answer.node.value(QLatin1String("retry_flag")).toString() == QLatin1String("Y");
        if (answer.outcome == Outcome::Ok) {
            const QString action = answer.node.value(QLatin1String("action")).toString();
            result.refunded = action == QLatin1String("refund");
            result.message = QStringLiteral("alipay.trade.cancel: action=%1%2")
                                 .arg(action.isEmpty() ? QStringLiteral("(none)") : action,
                                     result.retry ? QStringLiteral(", retry_flag=Y") : QString());
        } else if (answer.outcome == Outcome::Rejected && answer.code == QLatin1String("ACQ.TRADE_NOT_EXIST")) {
            result.outcome = Outcome::Ok;
            result.message = QStringLiteral("alipay.trade.cancel: no such trade (never scanned): nothing to cancel");
        }
        done(result);
    });
}

void AlipayProvider::close(const TradeRef &trade, std::function<void(const AbandonResult &)> done)
{
    QJsonObject biz;
    biz.insert(QStringLiteral("out_trade_no"), trade.outTradeNo);
    call(methodClose, compactJson(biz), false, [done = std::move(done)](const Answer &answer) {
        AbandonResult result;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        if (answer.outcome == Outcome::Rejected && answer.code == QLatin1String("ACQ.TRADE_NOT_EXIST")) {
            result.outcome = Outcome::Ok;
            result.message = QStringLiteral("alipay.trade.close: no such trade (never scanned): nothing to close");
        }
        done(result);
    });
}

void AlipayProvider::refund(const RefundRequest &request, std::function<void(const RefundResult &)> done)
{
    if (request.refundFen <= 0 || request.outRefundNo.isEmpty()) {
        RefundResult result;
        result.outcome = Outcome::Rejected;
        result.code = QStringLiteral("INVALID_REQUEST");
        result.message = QStringLiteral("alipay.trade.refund: amount must be positive and out_request_no set");
        done(result);
        return;
    }
    QJsonObject biz;
    biz.insert(QStringLiteral("out_trade_no"), request.trade.outTradeNo);
    if (!request.providerTxnId.isEmpty())
        biz.insert(QStringLiteral("trade_no"), request.providerTxnId);
    biz.insert(QStringLiteral("refund_amount"), QString::fromLatin1(yuanFromFen(Money::fromFen(request.refundFen))));
    biz.insert(QStringLiteral("out_request_no"), request.outRefundNo);
    if (!request.reason.isEmpty())
        biz.insert(QStringLiteral("refund_reason"), request.reason);
    const QString outRefundNo = request.outRefundNo;
    const qint64 refundFen = request.refundFen;
    call(methodRefund, compactJson(biz), false, [outRefundNo, refundFen, done = std::move(done)](const Answer &answer) {
        RefundResult result;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        result.outRefundNo = outRefundNo;
        if (answer.outcome == Outcome::Ok) {
            result.fundChanged = answer.node.value(QLatin1String("fund_change")).toString() == QLatin1String("Y");
            // fund_change=N: a repeat of a done refund or one not settled yet; refundQuery says which.
            result.state = result.fundChanged ? RefundState::Succeeded : RefundState::Processing;
            result.refundFen = refundFen;
        }
        done(result);
    });
}

void AlipayProvider::refundQuery(
    const TradeRef &trade, const QString &outRefundNo, std::function<void(const RefundResult &)> done)
{
    QJsonObject biz;
    biz.insert(QStringLiteral("out_trade_no"), trade.outTradeNo);
    biz.insert(QStringLiteral("out_request_no"), outRefundNo);
    call(methodRefundQuery, compactJson(biz), false, [outRefundNo, done = std::move(done)](const Answer &answer) {
        RefundResult result;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        result.outRefundNo = outRefundNo;
        if (answer.outcome == Outcome::Ok) {
            const QJsonObject &node = answer.node;
            const QString status = node.value(QLatin1String("refund_status")).toString();
            const QString echoed = node.value(QLatin1String("out_request_no")).toString();
            const QString amount = node.value(QLatin1String("refund_amount")).toString();
            if (echoed.isEmpty() && amount.isEmpty()) {
                result.state = RefundState::Processing;
                result.code = QStringLiteral("REFUND_NOT_EXIST");
                result.message = QStringLiteral("alipay.trade.fastpay.refund.query: no such refund (yet): retry the "
                                                "refund with the same out_request_no");
            } else if (!echoed.isEmpty() && echoed != outRefundNo) {
                result.outcome = Outcome::Unknown;
                result.message = QStringLiteral("alipay.trade.fastpay.refund.query: answer for another out_request_no");
            } else if (status.isEmpty() || status == QLatin1String("REFUND_SUCCESS")) {
                result.state = RefundState::Succeeded;
                const auto fen = fenFrom(amount);
                result.refundFen = fen ? *fen : -1;
            } else {
                result.state = RefundState::Processing;
            }
        }
        done(result);
    });
}

void AlipayProvider::bill(QDate date, std::function<void(const BillResult &)> done)
{
    QJsonObject biz;
    biz.insert(QStringLiteral("bill_type"), QStringLiteral("trade"));
    biz.insert(QStringLiteral("bill_date"), date.toString(QStringLiteral("yyyy-MM-dd")));
    call(methodBillUrl, compactJson(biz), false, [this, date, done = std::move(done)](const Answer &answer) {
        BillResult result;
        result.date = date;
        result.outcome = answer.outcome;
        result.code = answer.code;
        result.message = answer.message;
        const QUrl url(answer.node.value(QLatin1String("bill_download_url")).toString());
        if (answer.outcome != Outcome::Ok) {
            done(result);
            return;
        }
        if (!url.isValid() || (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http"))) {
            result.outcome = Outcome::Unknown;
            result.message = QStringLiteral("bill: no usable bill_download_url");
            done(result);
            return;
        }
        HttpCall http;
        http.method = QByteArrayLiteral("GET");
        http.url = url;
        http.timeoutMs = m_config.timeoutMs;
        m_transport.send(http, [date, done](const HttpReply &reply) {
            BillResult bill;
            bill.date = date;
            if (reply.transport != HttpReply::Transport::Ok || reply.status != 200) {
                bill.message
                    = QStringLiteral("bill: download failed (%1)")
                          .arg(reply.transport == HttpReply::Transport::Ok ? QStringLiteral("HTTP %1").arg(reply.status)
                                                                           : reply.error);
                done(bill);
                return;
            }
            bill.raw = reply.body;
            const ZipArchive zip = readZip(reply.body);
            if (zip.status != ZipStatus::Ok) {
                bill.message = QStringLiteral("bill: not a readable zip (%1)").arg(zipStatusCode(zip.status));
                done(bill);
                return;
            }
            const ZipEntry *detail = nullptr;
            for (const ZipEntry &entry : zip.entries) {
                if (entry.name.endsWith(QStringLiteral("业务明细.csv")))
                    detail = &entry;
            }
            if (!detail) {
                bill.message = QStringLiteral("bill: the zip holds no 业务明细.csv entry");
                done(bill);
                return;
            }
            const auto text = decodeGbk(detail->data);
            if (!text) {
                bill.message = QStringLiteral("bill: %1 is not GBK text").arg(detail->name);
                done(bill);
                return;
            }
            QString error;
            const auto parsed = parseAlipayBill(*text, &error);
            if (!parsed) {
                bill.message = QStringLiteral("bill: %1: %2").arg(detail->name, error);
                done(bill);
                return;
            }
            bill.outcome = Outcome::Ok;
            bill.rows = parsed->rows;
            bill.message = QStringLiteral("bill: %1 rows, %2 of other business types skipped")
                               .arg(parsed->rows.size())
                               .arg(parsed->skippedRows);
            done(bill);
        });
    });
}

std::optional<AlipayBill> parseAlipayBill(const QString &csv, QString *error)
{
    QString ignored;
    QString &why = error ? *error : ignored;
    const QString colTradeNo = QStringLiteral("支付宝交易号");
    const QString colOutTradeNo = QStringLiteral("商户订单号");
    const QString colType = QStringLiteral("业务类型");
    const QString colAmount = QStringLiteral("订单金额（元）");
    const QString colRefundNo = QStringLiteral("退款批次号/请求号");
    const QString colFinished = QStringLiteral("完成时间");

    AlipayBill bill;
    QHash<QString, qsizetype> columns;
    bool haveHeader = false;
    int lineNo = 0;
    for (QString line : csv.split(QLatin1Char('\n'))) {
        ++lineNo;
        if (line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        if (line.startsWith(QChar(0xfeff)))
            line.remove(0, 1);
        if (line.trimmed().isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        const QStringList fields = splitCsvLine(line);
        if (!haveHeader) {
            for (qsizetype i = 0; i < fields.size(); ++i)
                columns.insert(fields.at(i), i);
            for (const QString &needed : {colTradeNo, colOutTradeNo, colType, colAmount, colRefundNo, colFinished}) {
                if (!columns.contains(needed)) {
                    why = QStringLiteral("header (line %1) lacks column %2").arg(lineNo).arg(needed);
                    return std::nullopt;
                }
            }
            haveHeader = true;
            continue;
        }
        if (fields.size() < columns.size()) {
            why = QStringLiteral("line %1: %2 columns, header has %3")
                      .arg(lineNo)
                      .arg(fields.size())
                      .arg(columns.size());
            return std::nullopt;
        }
        const QString type = fields.at(columns.value(colType));
        BillRow row;
        if (type == QStringLiteral("交易")) {
            row.kind = BillRow::Kind::Payment;
        } else if (type == QStringLiteral("退款")) {
            row.kind = BillRow::Kind::Refund;
            row.outRefundNo = fields.at(columns.value(colRefundNo));
        } else {
            ++bill.skippedRows;
            continue;
        }
        row.providerTxnId = fields.at(columns.value(colTradeNo));
        row.outTradeNo = fields.at(columns.value(colOutTradeNo));
        QString amount = fields.at(columns.value(colAmount));
        if (row.kind == BillRow::Kind::Refund && amount.startsWith(QLatin1Char('-')))
            amount.remove(0, 1);
        const auto fen = fenFrom(amount);
        const auto at = beijingMs(fields.at(columns.value(colFinished)));
        if (!fen || !at || row.outTradeNo.isEmpty() || row.providerTxnId.isEmpty()
            || (row.kind == BillRow::Kind::Refund && row.outRefundNo.isEmpty())) {
            why = QStringLiteral("line %1: bad amount, time or identifiers").arg(lineNo);
            return std::nullopt;
        }
        row.amountFen = *fen;
        row.atMs = *at;
        bill.rows.append(row);
    }
    if (!haveHeader) {
        why = QStringLiteral("no header row");
        return std::nullopt;
    }
    return bill;
}

Notification AlipayProvider::readNotification(const NotifyRequest &request, qint64 nowMs) const
{
    Q_UNUSED(nowMs); // Alipay notifications carry no replay window: notify_id dedupes
    Notification out;
    const auto malformed = [&out](const QString &reason) {
        out.verdict = NotifyVerdict::Malformed;
        out.reason = reason;
        return out;
    };
    if (request.method != "POST")
        return malformed(QStringLiteral("method is not POST"));
    if (!request.query.isEmpty())
        return malformed(QStringLiteral("notification carries a query string"));
    QByteArray contentType;
    for (const auto &[name, value] : request.headers) {
        if (name.compare("content-type", Qt::CaseInsensitive) == 0)
            contentType = value;
    }
    const QList<QByteArray> typeParts = contentType.split(';');
    if (typeParts.first().trimmed().toLower() != "application/x-www-form-urlencoded")
        return malformed(QStringLiteral("content type is not application/x-www-form-urlencoded"));
    for (qsizetype i = 1; i < typeParts.size(); ++i) {
        const QByteArray param = typeParts.at(i).trimmed().toLower();
        if (param.startsWith("charset=") && param != "charset=utf-8")
            return malformed(QStringLiteral("charset is not utf-8"));
    }
    if (request.body.size() > formBodyBytesMax)
        return malformed(QStringLiteral("body larger than %1 bytes").arg(formBodyBytesMax));
    const auto fields = formDecode(request.body);
    if (!fields)
        return malformed(QStringLiteral("body is not a strict form"));
    QHash<QByteArray, QByteArray> values;
    for (const auto &[key, value] : *fields) {
        if (values.contains(key))
            return malformed(QStringLiteral("duplicate field %1").arg(QString::fromUtf8(key)));
        values.insert(key, value);
    }
    const auto text = [&values](const char *key) { return QString::fromUtf8(values.value(QByteArray(key))); };

    out.verdict = NotifyVerdict::BadSignature;
    const QByteArray sign = values.value(QByteArrayLiteral("sign"));
    if (sign.isEmpty()) {
        out.reason = QStringLiteral("no sign");
        return out;
    }
    if (values.value(QByteArrayLiteral("sign_type")) != "RSA2") {
        out.reason = QStringLiteral("sign_type is not RSA2");
        return out;
    }
    const auto toVerify = alipayStringToSign(*fields, AlipaySignScope::Notification);
    if (!toVerify) {
        out.reason = QStringLiteral("no string to verify");
        return out;
    }
    bool verified = false;
    if (!m_keys->certificateMode()) {
        verified = verifyRsaSha256(m_keys->alipayKey, *toVerify, sign) == VerifyStatus::Valid;
    } else if (values.contains(QByteArrayLiteral("alipay_cert_sn"))) {
        const QByteArray certSn = values.value(QByteArrayLiteral("alipay_cert_sn"));
        const PublicKey key = m_keys->alipayCerts.value(certSn);
        if (key.isNull()) {
            m_keys->notifiedUnknownSn = certSn; // refreshKeys() fetches it
            out.verdict = NotifyVerdict::UnknownKey;
            out.reason = QStringLiteral("unknown alipay_cert_sn");
            return out;
        }
        verified = verifyRsaSha256(key, *toVerify, sign) == VerifyStatus::Valid;
    } else {
        for (const PublicKey &key : std::as_const(m_keys->alipayCerts))
            verified = verified || verifyRsaSha256(key, *toVerify, sign) == VerifyStatus::Valid;
    }
    if (!verified) {
        out.reason = QStringLiteral("signature does not verify with the Alipay key");
        return out;
    }
    if (text("app_id") != m_config.appId || text("seller_id") != m_config.sellerId) {
        out.verdict = NotifyVerdict::Foreign;
        out.reason = QStringLiteral("app_id %1 / seller_id %2 are not ours").arg(text("app_id"), text("seller_id"));
        return out;
    }

    out.eventId = text("notify_id");
    const QString status = text("trade_status");
    bool known = false;
    out.trade.state = tradeState(status, &known);
    out.trade.rawState = status;
    out.trade.outTradeNo = text("out_trade_no");
    out.trade.providerTxnId = text("trade_no");
    out.trade.currency = QStringLiteral("CNY");
    const auto total = fenFrom(text("total_amount"));
    if (!total || out.trade.outTradeNo.isEmpty() || out.eventId.isEmpty())
        return malformed(QStringLiteral("verified, but total_amount, out_trade_no or notify_id is missing or bad"));
    out.trade.totalFen = *total;
    if (const auto paidAt = beijingMs(text("gmt_payment")))
        out.trade.paidAtMs = *paidAt;

    const bool isRefund
        = !text("refund_fee").isEmpty() || !text("out_biz_no").isEmpty() || !text("gmt_refund").isEmpty();
    if (isRefund) {
        out.verdict = NotifyVerdict::Valid;
        out.kind = Notification::Kind::Refund;
        out.refund.outcome = Outcome::Ok;
        out.refund.state = RefundState::Succeeded;
        out.refund.outRefundNo = text("out_biz_no");
        const auto refunded = fenFrom(text("refund_fee"));
        out.refund.refundFen = refunded ? *refunded : -1; // cumulative over the trade's refunds
        out.reason = QStringLiteral("refund notification (refund_fee is cumulative): never a payment");
        return out;
    }
    out.verdict = NotifyVerdict::Valid;
    if (!known) {
        out.kind = Notification::Kind::Other;
        out.reason = QStringLiteral("trade_status %1 is not one we know").arg(status);
        return out;
    }
    out.kind = Notification::Kind::Payment;
    return out;
}

NotifyReply AlipayProvider::notifyReply(bool accepted, const QString &message) const
{
    Q_UNUSED(message); // Alipay reads the exact body only
    NotifyReply reply;
    reply.status = 200;
    reply.contentType = QByteArrayLiteral("text/plain");
    reply.body = accepted ? QByteArrayLiteral("success") : QByteArrayLiteral("fail");
    return reply;
}

} // namespace prepay::payments
