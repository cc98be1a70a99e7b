#include "unionpay.h"

#include "api/clock.h"
#include "payments/paycrypto.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTimeZone>

#include <algorithm>

namespace prepay::payments {

namespace {

Q_LOGGING_CATEGORY(lcUnionPay, "prepay.payments.unionpay")

constexpr int beijingOffsetSeconds = 8 * 3600;
constexpr qint64 keyFileBytesMax = 64 * 1024;
// txnAmt digits: 12 digits of fen is ten billion yuan, far beyond any order.
constexpr qsizetype amountDigitsMax = 12;

const QString unionPayCn = QStringLiteral("中国银联股份有限公司");

QByteArray beijingCompact(qint64 utcMs)
{
    return QDateTime::fromMSecsSinceEpoch(utcMs, QTimeZone(beijingOffsetSeconds))
        .toString(QStringLiteral("yyyyMMddHHmmss"))
        .toUtf8();
}

std::optional<qint64> fenFromDigits(const QByteArray &text)
{
    if (text.isEmpty() || text.size() > amountDigitsMax
        || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return text.toLongLong();
}

std::optional<QByteArray> readSmallFile(const QString &path, QString *error)
{
    QFile file(path);
    if (path.isEmpty() || !file.exists()) {
        *error = QStringLiteral("%1: missing").arg(path.isEmpty() ? QStringLiteral("(no file configured)") : path);
        return std::nullopt;
    }
    if (!file.open(QIODevice::ReadOnly) || file.size() > keyFileBytesMax) {
        *error = QStringLiteral("%1: cannot be read, or too large for a key or certificate").arg(path);
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

QUrl endpoint(const QUrl &base, const QString &path)
{
    QUrl url = base;
    QString basePath = url.path();
    while (basePath.endsWith(QLatin1Char('/')))
        basePath.chop(1);
    url.setPath(basePath + path);
    return url;
}

} // namespace

std::optional<QByteArray> unionPayDigest(const FormFields &fields)
{
    FormFields kept;
    for (const auto &field : fields) {
        if (field.first == "signature" || field.second.isEmpty())
            continue;
        kept.append(field);
    }
    std::sort(kept.begin(), kept.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    QByteArray text;
    for (qsizetype i = 0; i < kept.size(); ++i) {
        if (i > 0 && kept.at(i).first == kept.at(i - 1).first)
            return std::nullopt;
        if (i > 0)
            text += '&';
        text += kept.at(i).first + '=' + kept.at(i).second;
    }
    return sha256Hex(text);
}

struct UnionPayProvider::Keys
{
    PrivateKey signKey;
    QByteArray certId; // decimal serial of our certificate
    Certificate root;
};

// A form whose signature checked out (or why not).
struct UnionPayProvider::Verified
{
    NotifyVerdict verdict = NotifyVerdict::Malformed; // Valid when verified
    QString reason;
    QHash<QByteArray, QByteArray> values;
    QString text(const char *key) const { return QString::fromUtf8(values.value(QByteArray(key))); }
};

UnionPayProvider::UnionPayProvider(
    const UnionPayConfig &config, Transport &transport, const prepay::Clock &clock, std::unique_ptr<Keys> keys)
    : m_config(config)
    , m_transport(transport)
    , m_clock(clock)
    , m_keys(std::move(keys))
{ }

UnionPayProvider::~UnionPayProvider() = default;

std::unique_ptr<UnionPayProvider> loadUnionPay(
    const UnionPayConfig &config, Transport &transport, const prepay::Clock &clock, QString *error)
{
    QString ignored;
    QString &why = error ? *error : ignored;
    if (!config.gateway.isValid() || config.gateway.scheme().isEmpty() || config.gateway.hasQuery()) {
        why = QStringLiteral("unionpay: gateway must be an absolute URL without a query");
        return nullptr;
    }
    if (config.merId.isEmpty()) {
        why = QStringLiteral("unionpay: merId is required");
        return nullptr;
    }
    auto keys = std::make_unique<UnionPayProvider::Keys>();
    KeyLoadStatus status = KeyLoadStatus::Loaded;
    const auto keyText = readSmallFile(config.signKeyFile, &why);
    if (!keyText)
        return nullptr;
    keys->signKey = PrivateKey::load(*keyText, &status);
    if (keys->signKey.isNull()) {
        why = QStringLiteral("%1: %2").arg(config.signKeyFile, keyLoadText(status, QStringLiteral("a private key")));
        return nullptr;
    }
    const auto certText = readSmallFile(config.signCertFile, &why);
    if (!certText)
        return nullptr;
    const Certificate cert = Certificate::load(*certText, &status);
    if (cert.isNull()) {
        why = QStringLiteral("%1: %2").arg(config.signCertFile, keyLoadText(status, QStringLiteral("a certificate")));
        return nullptr;
    }
    keys->certId = cert.serialDecimal();
    const auto rootText = readSmallFile(config.rootCertFile, &why);
    if (!rootText)
        return nullptr;
    keys->root = Certificate::load(*rootText, &status);
    if (keys->root.isNull()) {
        why = QStringLiteral("%1: %2").arg(config.rootCertFile, keyLoadText(status, QStringLiteral("a certificate")));
        return nullptr;
    }
    if (error)
        error->clear();
    return std::unique_ptr<UnionPayProvider>(new UnionPayProvider(config, transport, clock, std::move(keys)));
}

UnionPayProvider::Verified UnionPayProvider::verify(const FormFields &fields, qint64 nowMs) const
{
    Verified out;
    for (const auto &[key, value] : fields) {
        if (out.values.contains(key)) {
            out.reason = QStringLiteral("duplicate field %1").arg(QString::fromUtf8(key));
            return out;
        }
        out.values.insert(key, value);
    }
    out.verdict = NotifyVerdict::BadSignature;
    const QByteArray certPem = out.values.value(QByteArrayLiteral("signPubKeyCert"));
    const QByteArray signature = out.values.value(QByteArrayLiteral("signature"));
    if (certPem.isEmpty() || signature.isEmpty()) {
        out.reason = QStringLiteral("no signPubKeyCert or signature");
        return out;
    }
    const Certificate cert = Certificate::load(certPem);
    if (cert.isNull()) {
        out.reason = QStringLiteral("signPubKeyCert is not a certificate");
        return out;
    }
    if (!cert.isIssuedBy(m_keys->root)) {
        out.reason = QStringLiteral("signPubKeyCert (serial %1) is not issued by the configured UnionPay root")
                         .arg(QString::fromLatin1(cert.serialDecimal()));
        return out;
    }
    if (!cert.isValidAt(nowMs)) {
        out.reason = QStringLiteral("signPubKeyCert (serial %1) is outside its validity")
                         .arg(QString::fromLatin1(cert.serialDecimal()));
        return out;
    }
    if (!cert.subjectCommonName().contains(unionPayCn)) {
        out.reason = QStringLiteral("signPubKeyCert (serial %1) is not UnionPay's (CN %2)")
                         .arg(QString::fromLatin1(cert.serialDecimal()), cert.subjectCommonName());
        return out;
    }
    const auto digest = unionPayDigest(fields);
    if (!digest || verifyRsaSha256(cert.publicKey(), *digest, signature) != VerifyStatus::Valid) {
        out.reason = QStringLiteral("signature does not verify");
        return out;
    }
    out.verdict = NotifyVerdict::Valid;
    return out;
}

void UnionPayProvider::call(const QString &path, FormFields fields, std::function<void(const Verified &)> done)
{
    fields.prepend({QByteArrayLiteral("bizType"), QByteArrayLiteral("000000")});
    fields.prepend({QByteArrayLiteral("merId"), m_config.merId.toUtf8()});
    fields.prepend({QByteArrayLiteral("accessType"), QByteArrayLiteral("0")});
    fields.prepend({QByteArrayLiteral("certId"), m_keys->certId});
    fields.prepend({QByteArrayLiteral("signMethod"), QByteArrayLiteral("01")});
    fields.prepend({QByteArrayLiteral("encoding"), QByteArrayLiteral("UTF-8")});
    fields.prepend({QByteArrayLiteral("version"), QByteArrayLiteral("5.1.0")});
    const auto digest = unionPayDigest(fields);
    const auto signature = digest ? signRsaSha256(m_keys->signKey, *digest) : std::nullopt;
    if (!signature) {
        Verified failed;
        failed.reason = QStringLiteral("%1: the request could not be signed").arg(path);
        done(failed);
        return;
    }
    fields.append({QByteArrayLiteral("signature"), encodeBase64(*signature)});
    HttpCall http;
    http.method = QByteArrayLiteral("POST");
    http.url = endpoint(m_config.gateway, path);
    http.headers.append(
        {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/x-www-form-urlencoded;charset=UTF-8")});
    http.body = formEncode(fields);
    http.timeoutMs = m_config.timeoutMs;
    m_transport.send(http, [this, path, done = std::move(done)](const HttpReply &reply) {
        Verified out;
        if (reply.transport != HttpReply::Transport::Ok) {
            out.reason = QStringLiteral("%1: %2 (%3)")
                             .arg(path,
                                 reply.transport == HttpReply::Transport::Timeout ? QStringLiteral("timeout")
                                                                                  : QStringLiteral("transport failure"),
                                 reply.error);
        } else if (reply.status != 200) {
            out.reason = QStringLiteral("%1: HTTP %2").arg(path).arg(reply.status);
        } else if (const auto form = formDecode(reply.body); !form) {
            out.reason = QStringLiteral("%1: the answer is not a form").arg(path);
        } else {
            out = verify(*form, m_clock.wallMs());
            if (out.verdict != NotifyVerdict::Valid) {
                qCWarning(lcUnionPay) << path << "answer not verified:" << out.reason;
                out.reason = QStringLiteral("%1: %2").arg(path, out.reason);
            } else if (!out.text("merId").isEmpty() && out.text("merId") != m_config.merId) {
                // Answers may leave merId out; one that names another merchant is not ours.
                out.verdict = NotifyVerdict::Foreign;
                out.reason = QStringLiteral("%1: answer for another merId").arg(path);
            }
        }
        done(out);
    });
}

namespace {

// respCode → outcome of a verified answer (03 timeout, 04 state unknown, 05 accepted: not known).
Outcome outcomeOf(const QString &respCode)
{
    if (respCode == QLatin1String("00"))
        return Outcome::Ok;
    if (respCode == QLatin1String("03") || respCode == QLatin1String("04") || respCode == QLatin1String("05"))
        return Outcome::Unknown;
    return Outcome::Rejected;
}

} // namespace

void UnionPayProvider::create(const CreateRequest &request, std::function<void(const CreateResult &)> done)
{
    if (request.amountFen <= 0 || request.outTradeNo.isEmpty()) {
        CreateResult result;
        result.outcome = Outcome::Rejected;
        result.code = QStringLiteral("INVALID_REQUEST");
        result.message = QStringLiteral("unionpay create: amount must be positive and orderId set");
        done(result);
        return;
    }
    FormFields fields;
    fields.append({QByteArrayLiteral("txnType"), QByteArrayLiteral("01")});
    fields.append({QByteArrayLiteral("txnSubType"), QByteArrayLiteral("07")});
    fields.append({QByteArrayLiteral("channelType"), QByteArrayLiteral("08")});
    fields.append({QByteArrayLiteral("orderId"), request.outTradeNo.toUtf8()});
    fields.append({QByteArrayLiteral("txnTime"), beijingCompact(request.createdAtMs)});
    fields.append({QByteArrayLiteral("txnAmt"), QByteArray::number(request.amountFen)});
    fields.append({QByteArrayLiteral("currencyCode"), QByteArrayLiteral("156")});
    fields.append({QByteArrayLiteral("backUrl"), m_config.backUrl.toString(QUrl::FullyEncoded).toUtf8()});
    fields.append({QByteArrayLiteral("payTimeout"), beijingCompact(request.expiresAtMs)});
    if (!request.terminalId.isEmpty())
        fields.append({QByteArrayLiteral("termId"), request.terminalId.toUtf8()});
    call(QStringLiteral("/gateway/api/backTransReq.do"), fields, [done = std::move(done)](const Verified &answer) {
        CreateResult result;
        if (answer.verdict != NotifyVerdict::Valid) {
            result.message = answer.reason;
            done(result);
            return;
        }
        const QString respCode = answer.text("respCode");
        result.outcome = outcomeOf(respCode);
        result.code = respCode;
        result.message = answer.text("respMsg");
        if (result.outcome == Outcome::Ok) {
            result.qrPayload = answer.text("qrCode");
            if (result.qrPayload.isEmpty()) {
                result.outcome = Outcome::Unknown;
                result.message = QStringLiteral("unionpay create: respCode 00 without qrCode");
            }
        }
        done(result);
    });
}

void UnionPayProvider::query(const TradeRef &trade, std::function<void(const QueryResult &)> done)
{
    FormFields fields;
    fields.append({QByteArrayLiteral("txnType"), QByteArrayLiteral("00")});
    fields.append({QByteArrayLiteral("txnSubType"), QByteArrayLiteral("00")});
    fields.append({QByteArrayLiteral("channelType"), QByteArrayLiteral("07")});
    fields.append({QByteArrayLiteral("orderId"), trade.outTradeNo.toUtf8()});
    fields.append({QByteArrayLiteral("txnTime"), beijingCompact(trade.createdAtMs)});
    const QString orderId = trade.outTradeNo;
    call(QStringLiteral("/gateway/api/queryTrans.do"), fields,
        [orderId, done = std::move(done)](const Verified &answer) {
            QueryResult result;
            result.trade.outTradeNo = orderId;
            if (answer.verdict != NotifyVerdict::Valid) {
                result.message = answer.reason;
                done(result);
                return;
            }
            const QString respCode = answer.text("respCode");
            result.code = respCode;
            result.message = answer.text("respMsg");
            if (respCode == QLatin1String("34")) {
                result.outcome = Outcome::Ok;
                result.trade.state = TradeState::NotFound;
                result.trade.rawState = respCode;
                done(result);
                return;
            }
            result.outcome = outcomeOf(respCode);
            if (result.outcome != Outcome::Ok) {
                done(result);
                return;
            }
            const QString orig = answer.text("origRespCode");
            result.code = orig;
            result.trade.rawState = orig;
            if (orig == QLatin1String("00"))
                result.trade.state = TradeState::Paid;
            else if (orig == QLatin1String("03") || orig == QLatin1String("04") || orig == QLatin1String("05"))
                result.trade.state = TradeState::WaitingPayment;
            else
                result.trade.state = TradeState::Failed;
            result.trade.providerTxnId = answer.text("queryId");
            const auto total = fenFromDigits(answer.values.value(QByteArrayLiteral("txnAmt")));
            result.trade.totalFen = total ? *total : -1;
            const QString currency = answer.text("currencyCode");
            result.trade.currency = currency == QLatin1String("156") ? QStringLiteral("CNY") : currency;
            const QString echoed = answer.text("orderId");
            if (orig.isEmpty() || (!echoed.isEmpty() && echoed != orderId)
                || (result.trade.state == TradeState::Paid && !total)) {
                result.outcome = Outcome::Unknown;
                result.message = QStringLiteral("unionpay query: no origRespCode, another orderId, or no txnAmt");
            }
            done(result);
        });
}

void UnionPayProvider::abandon(const TradeRef &trade, std::function<void(const AbandonResult &)> done)
{
    Q_UNUSED(trade);
    AbandonResult result;
    result.outcome = Outcome::Ok;
    result.message = QStringLiteral("unionpay: no close call; the QR order expires at its payTimeout — query after it");
    done(result);
}

void UnionPayProvider::refund(const RefundRequest &request, std::function<void(const RefundResult &)> done)
{
    RefundResult result;
    result.outcome = Outcome::Rejected;
    result.code = QStringLiteral("NOT_SUPPORTED");
    result.message = QStringLiteral("unionpay: refunds are not implemented");
    result.outRefundNo = request.outRefundNo;
    done(result);
}

void UnionPayProvider::refundQuery(
    const TradeRef &trade, const QString &outRefundNo, std::function<void(const RefundResult &)> done)
{
    Q_UNUSED(trade);
    RefundResult result;
    result.outcome = Outcome::Rejected;
    result.code = QStringLiteral("NOT_SUPPORTED");
    result.message = QStringLiteral("unionpay: refund queries are not implemented");
    result.outRefundNo = outRefundNo;
    done(result);
}

void UnionPayProvider::bill(QDate date, std::function<void(const BillResult &)> done)
{
    BillResult result;
    result.date = date;
    result.outcome = Outcome::Rejected;
    result.code = QStringLiteral("NOT_SUPPORTED");
    result.message = QStringLiteral("unionpay: bill download is not implemented");
    done(result);
}

Notification UnionPayProvider::readNotification(const NotifyRequest &request, qint64 nowMs) const
{
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
    if (request.body.size() > formBodyBytesMax)
        return malformed(QStringLiteral("body larger than %1 bytes").arg(formBodyBytesMax));
    const auto fields = formDecode(request.body);
    if (!fields)
        return malformed(QStringLiteral("body is not a strict form"));
    const Verified verified = verify(*fields, nowMs);
    if (verified.verdict != NotifyVerdict::Valid) {
        out.verdict = verified.verdict;
        out.reason = verified.reason;
        return out;
    }
    if (verified.text("merId") != m_config.merId) {
        out.verdict = NotifyVerdict::Foreign;
        out.reason = QStringLiteral("merId %1 is not ours").arg(verified.text("merId"));
        return out;
    }
    out.eventId = verified.text("queryId");
    out.trade.outTradeNo = verified.text("orderId");
    out.trade.providerTxnId = out.eventId;
    const QString respCode = verified.text("respCode");
    out.trade.rawState = respCode;
    const QString currency = verified.text("currencyCode");
    out.trade.currency = currency == QLatin1String("156") ? QStringLiteral("CNY") : currency;
    const auto total = fenFromDigits(verified.values.value(QByteArrayLiteral("txnAmt")));
    if (!total || out.trade.outTradeNo.isEmpty() || out.eventId.isEmpty())
        return malformed(QStringLiteral("verified, but txnAmt, orderId or queryId is missing or bad"));
    out.trade.totalFen = *total;
    out.verdict = NotifyVerdict::Valid;
    if (verified.text("txnType") != QLatin1String("01")) {
        out.kind = Notification::Kind::Other;
        out.reason = QStringLiteral("txnType %1 is not a consumption").arg(verified.text("txnType"));
        return out;
    }
    out.kind = Notification::Kind::Payment;
    out.trade.state = respCode == QLatin1String("00") ? TradeState::Paid : TradeState::Failed;
    return out;
}

NotifyReply UnionPayProvider::notifyReply(bool accepted, const QString &message) const
{
    Q_UNUSED(message);
    NotifyReply reply;
    reply.status = accepted ? 200 : 400;
    reply.contentType = QByteArrayLiteral("text/plain");
    reply.body = accepted ? QByteArrayLiteral("ok") : QByteArrayLiteral("fail");
    return reply;
}

} // namespace prepay::payments
