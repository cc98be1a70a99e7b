#include "wechatpay.h"

#include "api/clock.h"
#include "api/schema.h"
#include "payments/paycanon.h"
#include "payments/paycrypto.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QLoggingCategory>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimeZone>

#include <algorithm>

namespace {
Q_LOGGING_CATEGORY(lcWechat, "prepay.payments.wechat")
}

namespace prepay::payments {

struct WechatProvider::State
{
    WechatConfig config;
    Transport *transport = nullptr;
    const Clock *clock = nullptr;
    PrivateKey merchantKey;
    QByteArray merchantSerial;
    QByteArray apiV3Key;
    WechatKeys keys;
    bool refreshed = false;       // a certificate download has been started at least once
    qint64 lastRefreshMonoMs = 0; // when (monotonic: a wall-clock jump must not unlock or block it)
    bool refreshInFlight = false;
    // Who waits for the refresh in flight. Shared with the transport callback, so the waiters
    // are still answered (false) if the adapter is destroyed before the download ends.
    std::shared_ptr<QList<std::function<void(bool)>>> refreshWaiters;
};

namespace {

using State = WechatProvider::State;
using WeakState = std::weak_ptr<State>;

constexpr qsizetype apiV3KeyBytes = 32;
constexpr qsizetype keyFileBytesMax = qsizetype(64) * 1024;
const QString destroyedMessage = QStringLiteral("the WeChat Pay adapter was destroyed before the answer came");

// ---- files ---------------------------------------------------------------------------------

std::optional<QByteArray> readSmallFile(const QString &fileName, const QString &what, QString *error)
{
    QFile file(fileName);
    if (fileName.isEmpty()) {
        *error = QStringLiteral("wechat: no %1 file configured").arg(what);
        return std::nullopt;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("wechat: cannot read %1 %2: %3").arg(what, fileName, file.errorString());
        return std::nullopt;
    }
    QByteArray data = file.read(keyFileBytesMax + 1);
    if (data.size() > keyFileBytesMax) {
        *error = QStringLiteral("wechat: %1 %2 is larger than %3 bytes").arg(what, fileName).arg(keyFileBytesMax);
        return std::nullopt;
    }
    return data;
}

QString keyLoadText(KeyLoadStatus status)
{
    switch (status) {
    case KeyLoadStatus::Loaded: return QStringLiteral("loaded");
    case KeyLoadStatus::NotPemOrBase64: return QStringLiteral("neither PEM nor base64");
    case KeyLoadStatus::Encrypted: return QStringLiteral("passphrase-protected (not supported)");
    case KeyLoadStatus::Malformed: return QStringLiteral("malformed");
    case KeyLoadStatus::NotRsa: return QStringLiteral("not an RSA key");
    case KeyLoadStatus::BadKeySize: return QStringLiteral("RSA key size outside 2048..4096 bits");
    }
    return QStringLiteral("unusable");
}

// ---- small helpers -------------------------------------------------------------------------

QByteArray randomNonce()
{
    QByteArray raw(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), raw.size() / 4);
    return raw.toHex().toUpper();
}

// RFC 3339 in Beijing time, the way WeChat writes it: 2024-01-01T12:05:00+08:00.
QString beijingTime(qint64 utcMs)
{
    const QDateTime at = QDateTime::fromMSecsSinceEpoch(utcMs, QTimeZone(8 * 3600));
    return at.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss")) + QStringLiteral("+08:00");
}

// RFC 3339 with an offset (or Z) → UTC ms; 0 when absent or unparsable.
qint64 rfc3339Ms(const QString &text)
{
    if (text.isEmpty())
        return 0;
    const QDateTime at = QDateTime::fromString(text, Qt::ISODate);
    return at.isValid() ? at.toMSecsSinceEpoch() : 0;
}

// A JSON integer amount in fen; nothing for a fraction, a negative, a string or absence.
std::optional<qint64> jsonFen(const QJsonValue &value)
{
    if (!rpc::isSafeInteger(value) || value.toInteger() < 0)
        return std::nullopt;
    return value.toInteger();
}

QString truncatedChars(const QString &text, qsizetype charsMax)
{
    // Counts code points, and never splits a surrogate pair.
    qsizetype count = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i).isLowSurrogate())
            continue;
        if (count == charsMax)
            return text.first(i);
        ++count;
    }
    return text;
}

bool validOutTradeNo(const QString &no)
{
    if (no.size() < 6 || no.size() > 32)
        return false;
    return std::all_of(no.begin(), no.end(), [](QChar c) {
        return (c >= u'0' && c <= u'9') || (c >= u'A' && c <= u'Z') || (c >= u'a' && c <= u'z') || c == u'_'
            || c == u'-' || c == u'|' || c == u'*';
    });
}

bool validOutRefundNo(const QString &no)
{
    if (no.isEmpty() || no.size() > 64)
        return false;
    return std::all_of(no.begin(), no.end(), [](QChar c) {
        return (c >= u'0' && c <= u'9') || (c >= u'A' && c <= u'Z') || (c >= u'a' && c <= u'z') || c == u'_'
            || c == u'-' || c == u'|' || c == u'*' || c == u'@';
    });
}

QByteArray compactJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

std::optional<QJsonObject> parseObject(QByteArrayView bytes)
{
    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(bytes.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

WechatSignedHeaders signedHeaders(const HttpHeaders &headers)
{
    HttpReply lookup;
    lookup.headers = headers;
    WechatSignedHeaders result;
    result.timestamp = lookup.header("Wechatpay-Timestamp");
    result.nonce = lookup.header("Wechatpay-Nonce");
    result.signature = lookup.header("Wechatpay-Signature");
    result.serial = lookup.header("Wechatpay-Serial");
    return result;
}

// ---- requests ------------------------------------------------------------------------------

QUrl apiUrl(const State &state, const QString &path, const QString &query = {})
{
    QUrl url = state.config.baseUrl;
    QString prefix = url.path();
    while (prefix.endsWith(u'/'))
        prefix.chop(1);
    url.setPath(prefix + path);
    url.setQuery(query); // an empty query means none: no bare "?" on the wire
    url.setFragment(QString());
    return url;
}

// The request as it goes on the wire, with the Authorization over exactly those bytes.
std::optional<HttpCall> signedCall(
    const State &state, const QByteArray &method, const QUrl &url, const QByteArray &body, QString *error)
{
    QUrl wire = url;
    if (wire.query().isEmpty())
        wire.setQuery(QString()); // no bare "?" on the wire nor in the message
    const QByteArray canonical = wire.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority | QUrl::RemoveFragment);
    const QByteArray timestamp = QByteArray::number(state.clock->wallMs() / 1000);
    const QByteArray nonce = randomNonce();
    const std::optional<QByteArray> message = wechatRequestMessage(method, canonical, timestamp, nonce, body);
    if (!message) {
        *error = QStringLiteral("cannot build the request message for %1").arg(QString::fromLatin1(canonical));
        return std::nullopt;
    }
    const std::optional<QByteArray> signature = signRsaSha256(state.merchantKey, *message);
    if (!signature) {
        *error = QStringLiteral("signing with the merchant key failed");
        return std::nullopt;
    }
    WechatAuthorization auth;
    auth.mchid = state.config.mchid.toUtf8();
    auth.nonce = nonce;
    auth.timestamp = timestamp;
    auth.serialNo = state.merchantSerial;
    auth.signature = encodeBase64(*signature);
    const std::optional<QByteArray> authorization = wechatAuthorizationHeader(auth);
    if (!authorization) {
        *error = QStringLiteral("cannot build the Authorization header (check mchid)");
        return std::nullopt;
    }
    HttpCall call;
    call.method = method;
    call.url = wire;
    call.body = body;
    call.timeoutMs = state.config.timeoutMs;
    call.headers.append({QByteArrayLiteral("Authorization"), *authorization});
    call.headers.append({QByteArrayLiteral("Accept"), QByteArrayLiteral("application/json")});
    call.headers.append({QByteArrayLiteral("User-Agent"), QByteArrayLiteral("prepay/1 (WeChatPay-APIv3; Qt)")});
    if (!body.isEmpty())
        call.headers.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
    if (!state.config.publicKeyId.isEmpty())
        call.headers.append({QByteArrayLiteral("Wechatpay-Serial"), state.config.publicKeyId.toUtf8()});
    return call;
}

// One API answer after verification: outcome Ok (2xx, json holds the body, empty for 204),
// Rejected (verified 4xx with a code) or Unknown (everything else), per provider.h.
struct Answer
{
    Outcome outcome = Outcome::Unknown;
    QString code;
    QString message;
    int status = 0;
    QJsonObject json;
};

Answer unknown(const QString &message)
{
    Answer answer;
    answer.message = message;
    return answer;
}

void refreshCertificates(const std::shared_ptr<State> &state, std::function<void(bool)> done);

Answer classify(const HttpReply &reply, const WechatSignatureCheck &check)
{
    if (check.status != WechatSignatureStatus::Valid) {
        Answer answer = unknown(QStringLiteral("HTTP %1 answer not verified: %2").arg(reply.status).arg(check.message));
        answer.status = reply.status;
        return answer;
    }
    Answer answer;
    answer.status = reply.status;
    std::optional<QJsonObject> json;
    if (!reply.body.isEmpty())
        json = parseObject(reply.body);
    if (reply.status >= 200 && reply.status < 300) {
        if (!reply.body.isEmpty() && !json)
            return unknown(QStringLiteral("HTTP %1: the verified answer is not a JSON object").arg(reply.status));
        answer.outcome = Outcome::Ok;
        answer.json = json.value_or(QJsonObject());
        return answer;
    }
    if (reply.status >= 400 && reply.status < 500 && json && json->value(QStringLiteral("code")).isString()) {
        answer.outcome = Outcome::Rejected;
        answer.code = json->value(QStringLiteral("code")).toString();
        answer.message = QStringLiteral("HTTP %1 %2: %3")
                             .arg(reply.status)
                             .arg(answer.code, json->value(QStringLiteral("message")).toString());
        answer.json = *json;
        return answer;
    }
    answer.outcome = Outcome::Unknown;
    answer.message = QStringLiteral("HTTP %1 without a WeChat Pay error code").arg(reply.status);
    return answer;
}

// Sends a signed call and verifies the answer. An unknown serial triggers one bounded
// certificate refresh (when configured) and one more verification of the same bytes.
void callApi(const std::shared_ptr<State> &state, const QByteArray &method, const QUrl &url, const QByteArray &body,
    std::function<void(const Answer &)> done)
{
    QString error;
    const std::optional<HttpCall> call = signedCall(*state, method, url, body, &error);
    if (!call) {
        done(unknown(error));
        return;
    }
    const WeakState weak = state;
    state->transport->send(*call, [weak, done = std::move(done)](const HttpReply &reply) {
        const std::shared_ptr<State> live = weak.lock();
        if (!live) {
            done(unknown(destroyedMessage));
            return;
        }
        if (reply.transport == HttpReply::Transport::Timeout) {
            done(unknown(QStringLiteral("timed out: %1").arg(reply.error)));
            return;
        }
        if (reply.transport != HttpReply::Transport::Ok) {
            done(unknown(QStringLiteral("transport failed: %1").arg(reply.error)));
            return;
        }
        if (reply.status >= 500) {
            Answer answer = unknown(QStringLiteral("HTTP %1 (server error): the outcome is unknown").arg(reply.status));
            answer.status = reply.status;
            done(answer);
            return;
        }
        const WechatSignedHeaders headers = signedHeaders(reply.headers);
        const WechatSignatureCheck check = live->keys.verify(headers, reply.body, live->clock->wallMs());
        if (check.status != WechatSignatureStatus::UnknownKey || !live->config.downloadCertificates) {
            done(classify(reply, check));
            return;
        }
        refreshCertificates(live, [weak, reply, headers, done](bool) {
            const std::shared_ptr<State> again = weak.lock();
            if (!again) {
                done(unknown(destroyedMessage));
                return;
            }
            done(classify(reply, again->keys.verify(headers, reply.body, again->clock->wallMs())));
        });
    });
}

// ---- certificates --------------------------------------------------------------------------

void answerWaiters(const std::shared_ptr<QList<std::function<void(bool)>>> &waiters, bool changed)
{
    const QList<std::function<void(bool)>> pending = std::exchange(*waiters, {});
    for (const auto &waiter : pending)
        waiter(changed);
}

void finishRefresh(State &state, bool changed)
{
    state.refreshInFlight = false;
    const auto waiters = std::exchange(state.refreshWaiters, nullptr);
    if (waiters)
        answerWaiters(waiters, changed);
}

// GET /v3/certificates. Each data[] entry's encrypt_certificate is opened with the APIv3 key
// (AEAD_AES_256_GCM, the entry's associated_data, normally "certificate"): the GCM tag is what
// makes a certificate trustworthy, since only WeChat and we hold that key. The answer's own
// signature is then checked with the key of its Wechatpay-Serial, looked up among the keys we
// had plus the certificates of THIS answer — how the official SDKs bootstrap, since the first
// download is necessarily signed by a certificate we do not have yet. Only when that check
// passes are the new certificates added. A certificate whose serial differs from the entry's
// serial_no is refused.
void refreshCertificates(const std::shared_ptr<State> &state, std::function<void(bool)> done)
{
    if (!state->config.downloadCertificates) {
        done(false);
        return;
    }
    if (state->refreshInFlight) {
        state->refreshWaiters->append(std::move(done));
        return;
    }
    const qint64 nowMono = state->clock->monotonicMs();
    if (state->refreshed && nowMono - state->lastRefreshMonoMs < wechatCertificateRefreshIntervalMs) {
        qCInfo(lcWechat) << "certificate refresh skipped: the last one was less than"
                         << wechatCertificateRefreshIntervalMs / 1000 << "s ago";
        done(false);
        return;
    }
    state->refreshed = true;
    state->lastRefreshMonoMs = nowMono;
    state->refreshInFlight = true;
    state->refreshWaiters = std::make_shared<QList<std::function<void(bool)>>>();
    state->refreshWaiters->append(std::move(done));
    const auto waiters = state->refreshWaiters;

    QString error;
    const std::optional<HttpCall> call
        = signedCall(*state, QByteArrayLiteral("GET"), apiUrl(*state, QStringLiteral("/v3/certificates")), {}, &error);
    if (!call) {
        qCWarning(lcWechat) << "certificate refresh:" << error;
        finishRefresh(*state, false);
        return;
    }
    const WeakState weak = state;
    state->transport->send(*call, [weak, waiters](const HttpReply &reply) {
        const std::shared_ptr<State> live = weak.lock();
        if (!live) {
            answerWaiters(waiters, false); // callApi's waiters then answer Unknown themselves
            return;
        }
        if (reply.transport != HttpReply::Transport::Ok || reply.status != 200) {
            qCWarning(lcWechat) << "certificate refresh failed: transport" << int(reply.transport) << "status"
                                << reply.status << reply.error;
            finishRefresh(*live, false);
            return;
        }
        const std::optional<QJsonObject> json = parseObject(reply.body);
        const QJsonArray data = json ? json->value(QStringLiteral("data")).toArray() : QJsonArray();
        WechatKeys candidate = live->keys;
        QList<QByteArray> added;
        for (const QJsonValue &entryValue : data) {
            const QJsonObject entry = entryValue.toObject();
            const QByteArray serial = entry.value(QStringLiteral("serial_no")).toString().toUtf8().toUpper();
            const QJsonObject enc = entry.value(QStringLiteral("encrypt_certificate")).toObject();
            if (enc.value(QStringLiteral("algorithm")).toString() != QStringLiteral("AEAD_AES_256_GCM")) {
                qCWarning(lcWechat) << "certificate" << serial << "skipped: unsupported algorithm";
                continue;
            }
            const std::optional<QByteArray> ciphertext
                = decodeBase64Strict(enc.value(QStringLiteral("ciphertext")).toString().toLatin1());
            if (!ciphertext) {
                qCWarning(lcWechat) << "certificate" << serial << "skipped: ciphertext is not base64";
                continue;
            }
            const GcmOpened opened = aesGcmOpen(live->apiV3Key, enc.value(QStringLiteral("nonce")).toString().toUtf8(),
                enc.value(QStringLiteral("associated_data")).toString().toUtf8(), *ciphertext);
            if (opened.status != GcmStatus::Opened) {
                qCWarning(lcWechat) << "certificate" << serial << "skipped: decryption failed" << int(opened.status);
                continue;
            }
            const Certificate cert = Certificate::load(opened.plaintext);
            if (cert.isNull() || cert.serialHex().toUpper() != serial) {
                qCWarning(lcWechat) << "certificate" << serial << "skipped: not a certificate with that serial";
                continue;
            }
            const bool known = live->keys.knows(serial);
            if (candidate.addCertificate(cert) && !known)
                added.append(serial);
        }
        const WechatSignatureCheck check
            = candidate.verify(signedHeaders(reply.headers), reply.body, live->clock->wallMs());
        if (check.status != WechatSignatureStatus::Valid) {
            qCWarning(lcWechat) << "certificate refresh refused:" << check.message;
            finishRefresh(*live, false);
            return;
        }
        live->keys = candidate;
        qCInfo(lcWechat) << "certificates refreshed; new serials:" << added;
        finishRefresh(*live, !added.isEmpty());
    });
}

// ---- mapping -------------------------------------------------------------------------------

std::optional<TradeState> tradeStateOf(const QString &raw)
{
    if (raw == QStringLiteral("NOTPAY") || raw == QStringLiteral("USERPAYING") || raw == QStringLiteral("ACCEPT"))
        return TradeState::WaitingPayment;
    if (raw == QStringLiteral("SUCCESS") || raw == QStringLiteral("REFUND"))
        return TradeState::Paid;
    if (raw == QStringLiteral("CLOSED") || raw == QStringLiteral("REVOKED"))
        return TradeState::Closed;
    if (raw == QStringLiteral("PAYERROR"))
        return TradeState::Failed;
    return std::nullopt;
}

std::optional<RefundState> refundStateOf(const QString &raw)
{
    if (raw == QStringLiteral("SUCCESS"))
        return RefundState::Succeeded;
    if (raw == QStringLiteral("PROCESSING"))
        return RefundState::Processing;
    if (raw == QStringLiteral("CLOSED"))
        return RefundState::Closed;
    if (raw == QStringLiteral("ABNORMAL"))
        return RefundState::Abnormal;
    return std::nullopt;
}

// A Transaction object (query answer, TRANSACTION.* plaintext) → Trade; nothing + *why when a
// field we rely on is missing or unknown.
std::optional<Trade> tradeOf(const QJsonObject &tx, QString *why)
{
    Trade trade;
    trade.rawState = tx.value(QStringLiteral("trade_state")).toString();
    const std::optional<TradeState> state = tradeStateOf(trade.rawState);
    if (!state) {
        *why = QStringLiteral("unknown trade_state \"%1\"").arg(trade.rawState.left(32));
        return std::nullopt;
    }
    trade.state = *state;
    trade.outTradeNo = tx.value(QStringLiteral("out_trade_no")).toString();
    if (trade.outTradeNo.isEmpty()) {
        *why = QStringLiteral("no out_trade_no");
        return std::nullopt;
    }
    trade.providerTxnId = tx.value(QStringLiteral("transaction_id")).toString();
    const QJsonObject amount = tx.value(QStringLiteral("amount")).toObject();
    if (amount.contains(QStringLiteral("total"))) {
        const std::optional<qint64> total = jsonFen(amount.value(QStringLiteral("total")));
        if (!total) {
            *why = QStringLiteral("amount.total is not an integer number of fen");
            return std::nullopt;
        }
        trade.totalFen = *total;
    } else if (trade.state == TradeState::Paid) {
        *why = QStringLiteral("a paid trade without amount.total");
        return std::nullopt;
    }
    trade.currency = amount.value(QStringLiteral("currency")).toString();
    trade.paidAtMs = rfc3339Ms(tx.value(QStringLiteral("success_time")).toString());
    return trade;
}

// A Refund object (refund answers, REFUND.* plaintext: status or refund_status).
std::optional<RefundResult> refundOf(const QJsonObject &object, QString *why)
{
    RefundResult result;
    QString raw = object.value(QStringLiteral("status")).toString();
    if (raw.isEmpty())
        raw = object.value(QStringLiteral("refund_status")).toString();
    const std::optional<RefundState> state = refundStateOf(raw);
    if (!state) {
        *why = QStringLiteral("unknown refund status \"%1\"").arg(raw.left(32));
        return std::nullopt;
    }
    result.state = *state;
    result.outRefundNo = object.value(QStringLiteral("out_refund_no")).toString();
    result.providerRefundId = object.value(QStringLiteral("refund_id")).toString();
    if (result.outRefundNo.isEmpty()) {
        *why = QStringLiteral("no out_refund_no");
        return std::nullopt;
    }
    const QJsonObject amount = object.value(QStringLiteral("amount")).toObject();
    if (amount.contains(QStringLiteral("refund"))) {
        const std::optional<qint64> fen = jsonFen(amount.value(QStringLiteral("refund")));
        if (!fen) {
            *why = QStringLiteral("amount.refund is not an integer number of fen");
            return std::nullopt;
        }
        result.refundFen = *fen;
    }
    result.outcome = Outcome::Ok;
    return result;
}

template<typename Result>
Result copyCall(const Answer &answer)
{
    Result result;
    result.outcome = answer.outcome;
    result.code = answer.code;
    result.message = answer.message;
    return result;
}

template<typename Result>
Result localRefusal(const QString &message)
{
    // Nothing was sent: the call certainly did not take effect, so Rejected is true.
    Result result;
    result.outcome = Outcome::Rejected;
    result.code = QStringLiteral("LOCAL_INVALID_REQUEST");
    result.message = message;
    return result;
}

void answerRefund(const std::shared_ptr<State> &state, const QByteArray &method, const QUrl &url,
    const QByteArray &body, const QString &outRefundNo, std::function<void(const RefundResult &)> done)
{
    callApi(state, method, url, body, [outRefundNo, done = std::move(done)](const Answer &answer) {
        if (answer.outcome != Outcome::Ok) {
            RefundResult result = copyCall<RefundResult>(answer);
            result.outRefundNo = outRefundNo;
            done(result);
            return;
        }
        QString why;
        std::optional<RefundResult> refund = refundOf(answer.json, &why);
        if (!refund) {
            RefundResult result = copyCall<RefundResult>(unknown(QStringLiteral("refund answer: %1").arg(why)));
            result.outRefundNo = outRefundNo;
            done(result);
            return;
        }
        if (refund->outRefundNo != outRefundNo) {
            RefundResult result
                = copyCall<RefundResult>(unknown(QStringLiteral("refund answer is about another out_refund_no")));
            result.outRefundNo = outRefundNo;
            done(result);
            return;
        }
        refund->message = QStringLiteral("refund %1").arg(refundStateCode(refund->state));
        done(*refund);
    });
}

// The fields of one bill line after its first back-tick: split on ",`".
QList<QByteArray> splitBackticked(const QByteArray &rest)
{
    QList<QByteArray> fields;
    qsizetype from = 0;
    while (true) {
        const qsizetype at = rest.indexOf(",`", from);
        if (at < 0) {
            fields.append(rest.sliced(from));
            return fields;
        }
        fields.append(rest.sliced(from, at - from));
        from = at + 2;
    }
}

// ---- notifications -------------------------------------------------------------------------

Notification verdict(NotifyVerdict value, const QString &reason)
{
    Notification notification;
    notification.verdict = value;
    notification.reason = reason;
    return notification;
}

} // namespace

// ---- the bill ------------------------------------------------------------------------------
//
// The trade bill file (GET download_url, bill_type=ALL, no tar_type), exactly as parsed here:
//  - UTF-8, an optional UTF-8 BOM; lines end in "\n" or "\r\n"; blank lines are ignored;
//  - line 1 is the column header, these 27 names joined by "," (compared exactly):
//    交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,
//    付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,
//    退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注
//  - then one line per trade; each of the 27 fields starts with a back-tick, so a line is split
//    on ",`" after its first back-tick (a comma inside 商品名称 therefore stays in the field);
//  - the data ends at a line starting with "总交易单数" (the summary header), followed by exactly
//    one summary line (back-ticked too); nothing may follow it. The summary is not cross-checked.
//  - 交易时间 is "yyyy-MM-dd HH:mm:ss" Beijing time (UTC+8) → atMs UTC;
//  - 交易状态 SUCCESS → Kind::Payment, amountFen = 订单金额 (yuan, via fenFromYuan);
//    交易状态 REFUND → Kind::Refund, amountFen = 申请退款金额 when it is non-zero, else 退款金额;
//    outRefundNo = 商户退款单号; any other 交易状态 makes the whole bill unparsable (a row we
//    cannot classify must not silently vanish from reconciliation);
//  - providerTxnId = 微信订单号, outTradeNo = 商户订单号.
std::optional<QList<BillRow>> parseWechatTradeBill(QByteArrayView raw, QString *error)
{
    static const QByteArray expectedHeader = QByteArrayLiteral(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
        "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
        "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注");
    constexpr qsizetype columns = 27;
    enum Column {
        Time = 0,
        TxnId = 5,
        OutTradeNo = 6,
        Status = 9,
        OutRefundNo = 15,
        RefundFee = 16,
        OrderAmount = 24,
        RefundRequested = 25
    };

    QByteArrayView text = raw;
    if (text.startsWith("\xEF\xBB\xBF"))
        text = text.sliced(3);
    QList<QByteArray> lines;
    for (const QByteArray &line : text.toByteArray().split('\n')) {
        QByteArray trimmed = line;
        if (trimmed.endsWith('\r'))
            trimmed.chop(1);
        if (!trimmed.isEmpty())
            lines.append(trimmed);
    }
    if (lines.isEmpty() || lines.first() != expectedHeader) {
        *error = QStringLiteral("bill line 1 is not the expected 27-column trade bill header");
        return std::nullopt;
    }
    QList<BillRow> rows;
    qsizetype i = 1;
    for (; i < lines.size() && !lines.at(i).startsWith("总交易单数"); ++i) {
        const QByteArray &line = lines.at(i);
        const QString where = QStringLiteral("bill line %1").arg(i + 1);
        if (!line.startsWith('`')) {
            *error = where + QStringLiteral(": a field does not start with a back-tick");
            return std::nullopt;
        }
        const QList<QByteArray> fields = splitBackticked(line.sliced(1));
        if (fields.size() != columns) {
            *error = where + QStringLiteral(": %1 fields, expected %2").arg(fields.size()).arg(columns);
            return std::nullopt;
        }
        BillRow row;
        const QDateTime at
            = QDateTime::fromString(QString::fromUtf8(fields.at(Time)), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (!at.isValid()) {
            *error = where + QStringLiteral(": 交易时间 is not yyyy-MM-dd HH:mm:ss");
            return std::nullopt;
        }
        QDateTime beijing = at;
        beijing.setTimeZone(QTimeZone(8 * 3600));
        row.atMs = beijing.toMSecsSinceEpoch();
        row.providerTxnId = QString::fromUtf8(fields.at(TxnId));
        row.outTradeNo = QString::fromUtf8(fields.at(OutTradeNo));
        const QByteArray status = fields.at(Status);
        std::optional<Money> amount;
        if (status == "SUCCESS") {
            row.kind = BillRow::Kind::Payment;
            amount = fenFromYuan(fields.at(OrderAmount));
        } else if (status == "REFUND") {
            row.kind = BillRow::Kind::Refund;
            row.outRefundNo = QString::fromUtf8(fields.at(OutRefundNo));
            amount = fenFromYuan(fields.at(RefundRequested));
            if (!amount || amount->fen() == 0)
                amount = fenFromYuan(fields.at(RefundFee));
        } else {
            *error = where + QStringLiteral(": unknown 交易状态 \"%1\"").arg(QString::fromUtf8(status.left(32)));
            return std::nullopt;
        }
        if (!amount) {
            *error = where + QStringLiteral(": the amount is not a yuan amount");
            return std::nullopt;
        }
        row.amountFen = amount->fen();
        if (row.outTradeNo.isEmpty()) {
            *error = where + QStringLiteral(": no 商户订单号");
            return std::nullopt;
        }
        rows.append(row);
    }
    if (i >= lines.size()) {
        *error = QStringLiteral("bill has no summary (总交易单数) section");
        return std::nullopt;
    }
    if (lines.size() - i != 2 || !lines.at(i + 1).startsWith('`')) {
        *error = QStringLiteral("bill summary must be one header line and one back-ticked line");
        return std::nullopt;
    }
    return rows;
}

// ---- the provider --------------------------------------------------------------------------

WechatProvider::WechatProvider(std::shared_ptr<State> state)
    : m_state(std::move(state))
{ }

WechatProvider::~WechatProvider() = default;

const WechatKeys &WechatProvider::keys() const
{
    return m_state->keys;
}

QByteArray WechatProvider::merchantSerial() const
{
    return m_state->merchantSerial;
}

void WechatProvider::create(const CreateRequest &request, std::function<void(const CreateResult &)> done)
{
    if (!validOutTradeNo(request.outTradeNo)) {
        done(localRefusal<CreateResult>(QStringLiteral("out_trade_no must be 6..32 of [0-9A-Za-z_-|*]")));
        return;
    }
    if (request.amountFen <= 0) {
        done(localRefusal<CreateResult>(QStringLiteral("the amount must be at least 1 fen")));
        return;
    }
    const State &state = *m_state;
    QJsonObject amount;
    amount.insert(QStringLiteral("total"), request.amountFen);
    amount.insert(QStringLiteral("currency"), QStringLiteral("CNY"));
    QJsonObject body;
    body.insert(QStringLiteral("appid"), state.config.appid);
    body.insert(QStringLiteral("mchid"), state.config.mchid);
    body.insert(QStringLiteral("description"), truncatedChars(request.subject, wechatDescriptionCharsMax));
    body.insert(QStringLiteral("out_trade_no"), request.outTradeNo);
    if (request.expiresAtMs > 0)
        body.insert(QStringLiteral("time_expire"), beijingTime(request.expiresAtMs));
    body.insert(QStringLiteral("notify_url"), state.config.notifyUrl.toString(QUrl::FullyEncoded));
    body.insert(QStringLiteral("amount"), amount);
    if (!request.terminalId.isEmpty()) {
        QJsonObject scene;
        scene.insert(QStringLiteral("device_id"), request.terminalId);
        body.insert(QStringLiteral("scene_info"), scene);
    }
    callApi(m_state, QByteArrayLiteral("POST"), apiUrl(state, QStringLiteral("/v3/pay/transactions/native")),
        compactJson(body), [done = std::move(done)](const Answer &answer) {
            CreateResult result = copyCall<CreateResult>(answer);
            if (answer.outcome == Outcome::Ok) {
                result.qrPayload = answer.json.value(QStringLiteral("code_url")).toString();
                if (result.qrPayload.isEmpty()) {
                    result.outcome = Outcome::Unknown;
                    result.message = QStringLiteral("the verified answer has no code_url");
                } else {
                    result.message = QStringLiteral("created");
                }
            }
            done(result);
        });
}

void WechatProvider::query(const TradeRef &trade, std::function<void(const QueryResult &)> done)
{
    if (!validOutTradeNo(trade.outTradeNo)) {
        done(localRefusal<QueryResult>(QStringLiteral("out_trade_no must be 6..32 of [0-9A-Za-z_-|*]")));
        return;
    }
    const State &state = *m_state;
    const QUrl url = apiUrl(state, QStringLiteral("/v3/pay/transactions/out-trade-no/") + trade.outTradeNo,
        QStringLiteral("mchid=") + QString::fromLatin1(QUrl::toPercentEncoding(state.config.mchid)));
    const QString outTradeNo = trade.outTradeNo;
    const QString mchid = state.config.mchid;
    callApi(
        m_state, QByteArrayLiteral("GET"), url, {}, [outTradeNo, mchid, done = std::move(done)](const Answer &answer) {
            QueryResult result = copyCall<QueryResult>(answer);
            result.trade.outTradeNo = outTradeNo;
            if (answer.outcome == Outcome::Rejected
                && (answer.code == QStringLiteral("ORDER_NOT_EXIST") || answer.status == 404)) {
                result.outcome = Outcome::Ok;
                result.trade.state = TradeState::NotFound;
                result.trade.rawState = answer.code;
                done(result);
                return;
            }
            if (answer.outcome != Outcome::Ok) {
                done(result);
                return;
            }
            QString why;
            const std::optional<Trade> parsed = tradeOf(answer.json, &why);
            if (!parsed || parsed->outTradeNo != outTradeNo
                || (answer.json.contains(QStringLiteral("mchid"))
                    && answer.json.value(QStringLiteral("mchid")).toString() != mchid)) {
                result.outcome = Outcome::Unknown;
                result.message = parsed ? QStringLiteral("the verified answer is about another trade or merchant")
                                        : QStringLiteral("query answer: %1").arg(why);
                done(result);
                return;
            }
            result.trade = *parsed;
            result.message = QStringLiteral("trade_state %1").arg(parsed->rawState);
            done(result);
        });
}

void WechatProvider::abandon(const TradeRef &trade, std::function<void(const AbandonResult &)> done)
{
    if (!validOutTradeNo(trade.outTradeNo)) {
        done(localRefusal<AbandonResult>(QStringLiteral("out_trade_no must be 6..32 of [0-9A-Za-z_-|*]")));
        return;
    }
    const State &state = *m_state;
    QJsonObject body;
    body.insert(QStringLiteral("mchid"), state.config.mchid);
    const QUrl url = apiUrl(
        state, QStringLiteral("/v3/pay/transactions/out-trade-no/") + trade.outTradeNo + QStringLiteral("/close"));
    callApi(m_state, QByteArrayLiteral("POST"), url, compactJson(body), [done = std::move(done)](const Answer &answer) {
        AbandonResult result = copyCall<AbandonResult>(answer);
        if (answer.outcome == Outcome::Rejected
            && (answer.code == QStringLiteral("ORDER_PAID") || answer.code == QStringLiteral("ORDERPAID")))
            result.alreadyPaid = true;
        if (answer.outcome == Outcome::Ok)
            result.message = QStringLiteral("closed");
        done(result);
    });
}

void WechatProvider::refund(const RefundRequest &request, std::function<void(const RefundResult &)> done)
{
    if (!validOutTradeNo(request.trade.outTradeNo) || !validOutRefundNo(request.outRefundNo)) {
        done(localRefusal<RefundResult>(QStringLiteral("out_trade_no or out_refund_no is not valid")));
        return;
    }
    if (request.refundFen <= 0 || request.totalFen <= 0 || request.refundFen > request.totalFen) {
        done(localRefusal<RefundResult>(QStringLiteral("the refund must be 1 fen .. the order total")));
        return;
    }
    const State &state = *m_state;
    QJsonObject amount;
    amount.insert(QStringLiteral("refund"), request.refundFen);
    amount.insert(QStringLiteral("total"), request.totalFen);
    amount.insert(QStringLiteral("currency"), QStringLiteral("CNY"));
    QJsonObject body;
    body.insert(QStringLiteral("out_trade_no"), request.trade.outTradeNo);
    body.insert(QStringLiteral("out_refund_no"), request.outRefundNo);
    if (!request.reason.isEmpty())
        body.insert(QStringLiteral("reason"), truncatedChars(request.reason, 80));
    body.insert(QStringLiteral("notify_url"), state.config.notifyUrl.toString(QUrl::FullyEncoded));
    body.insert(QStringLiteral("amount"), amount);
    answerRefund(m_state, QByteArrayLiteral("POST"), apiUrl(state, QStringLiteral("/v3/refund/domestic/refunds")),
        compactJson(body), request.outRefundNo, std::move(done));
}

void WechatProvider::refundQuery(
    const TradeRef &trade, const QString &outRefundNo, std::function<void(const RefundResult &)> done)
{
    Q_UNUSED(trade) // WeChat finds a refund by out_refund_no alone
    if (!validOutRefundNo(outRefundNo)) {
        done(localRefusal<RefundResult>(QStringLiteral("out_refund_no is not valid")));
        return;
    }
    answerRefund(m_state, QByteArrayLiteral("GET"),
        apiUrl(*m_state, QStringLiteral("/v3/refund/domestic/refunds/") + outRefundNo), {}, outRefundNo,
        std::move(done));
}

void WechatProvider::bill(QDate date, std::function<void(const BillResult &)> done)
{
    if (!date.isValid()) {
        done(localRefusal<BillResult>(QStringLiteral("invalid bill date")));
        return;
    }
    const State &state = *m_state;
    const QUrl url = apiUrl(state, QStringLiteral("/v3/bill/tradebill"),
        QStringLiteral("bill_date=") + date.toString(Qt::ISODate) + QStringLiteral("&bill_type=ALL"));
    const WeakState weak = m_state;
    callApi(m_state, QByteArrayLiteral("GET"), url, {}, [weak, date, done = std::move(done)](const Answer &answer) {
        BillResult result = copyCall<BillResult>(answer);
        result.date = date;
        if (answer.outcome != Outcome::Ok) {
            done(result);
            return;
        }
        const std::shared_ptr<State> live = weak.lock();
        if (!live) {
            result.outcome = Outcome::Unknown;
            result.message = destroyedMessage;
            done(result);
            return;
        }
        const QString hashType = answer.json.value(QStringLiteral("hash_type")).toString();
        const QByteArray hashValue = answer.json.value(QStringLiteral("hash_value")).toString().toLatin1().toLower();
        const QUrl download(answer.json.value(QStringLiteral("download_url")).toString(), QUrl::StrictMode);
        // The Authorization goes only to WeChat's own origin, never to a host a body names.
        if (hashType != QStringLiteral("SHA1") || hashValue.size() != 40 || !download.isValid()
            || download.scheme() != live->config.baseUrl.scheme() || download.host() != live->config.baseUrl.host()
            || download.port(443) != live->config.baseUrl.port(443)) {
            result.outcome = Outcome::Unknown;
            result.message = QStringLiteral("the bill answer lacks hash_type SHA1, a hash_value or a download_url on "
                                            "the API host");
            done(result);
            return;
        }
        QString error;
        const std::optional<HttpCall> call = signedCall(*live, QByteArrayLiteral("GET"), download, {}, &error);
        if (!call) {
            result.outcome = Outcome::Unknown;
            result.message = error;
            done(result);
            return;
        }
        live->transport->send(*call, [hashValue, result, done](const HttpReply &reply) mutable {
            result.outcome = Outcome::Unknown;
            result.code.clear();
            if (reply.transport != HttpReply::Transport::Ok) {
                result.message = QStringLiteral("bill download failed: %1").arg(reply.error);
                done(result);
                return;
            }
            if (reply.status != 200) {
                result.message = QStringLiteral("bill download: HTTP %1").arg(reply.status);
                done(result);
                return;
            }
            if (reply.body.size() > wechatBillBytesMax) {
                result.message = QStringLiteral("bill download larger than %1 bytes").arg(wechatBillBytesMax);
                done(result);
                return;
            }
            // The file itself is not signed: its SHA-1 from the signed answer is what ties it to WeChat.
            const QByteArray actual = QCryptographicHash::hash(reply.body, QCryptographicHash::Sha1).toHex();
            if (!constantTimeEquals(actual, hashValue)) {
                result.message = QStringLiteral("bill download: SHA-1 does not match hash_value");
                done(result);
                return;
            }
            QString parseError;
            const std::optional<QList<BillRow>> rows = parseWechatTradeBill(reply.body, &parseError);
            result.raw = reply.body;
            if (!rows) {
                result.message = parseError;
                done(result);
                return;
            }
            result.outcome = Outcome::Ok;
            result.rows = *rows;
            result.message = QStringLiteral("%1 rows").arg(rows->size());
            done(result);
        });
    });
}

Notification WechatProvider::readNotification(const NotifyRequest &request, qint64 nowMs) const
{
    const State &state = *m_state;
    if (request.method != "POST")
        return verdict(NotifyVerdict::Malformed, QStringLiteral("method is not POST"));
    if (!request.query.isEmpty())
        return verdict(NotifyVerdict::Malformed, QStringLiteral("the notify URL carries a query"));
    if (request.body.size() > wechatNotifyBodyBytesMax)
        return verdict(
            NotifyVerdict::Malformed, QStringLiteral("body larger than %1 bytes").arg(wechatNotifyBodyBytesMax));
    HttpReply lookup;
    lookup.headers = request.headers;
    const QByteArray contentType = lookup.header("Content-Type").trimmed().toLower();
    if (contentType != "application/json" && !contentType.startsWith("application/json;"))
        return verdict(NotifyVerdict::Malformed, QStringLiteral("content type is not application/json"));

    const WechatSignatureCheck check = state.keys.verify(signedHeaders(request.headers), request.body, nowMs);
    switch (check.status) {
    case WechatSignatureStatus::Valid: break;
    case WechatSignatureStatus::MissingHeaders:
    case WechatSignatureStatus::Probe:
    case WechatSignatureStatus::BadSignature: return verdict(NotifyVerdict::BadSignature, check.message);
    case WechatSignatureStatus::UnknownKey: return verdict(NotifyVerdict::UnknownKey, check.message);
    case WechatSignatureStatus::Stale: return verdict(NotifyVerdict::Stale, check.message);
    }

    const std::optional<QJsonObject> envelope = parseObject(request.body);
    if (!envelope)
        return verdict(NotifyVerdict::Malformed, QStringLiteral("the body is not a JSON object"));
    const QString eventId = envelope->value(QStringLiteral("id")).toString();
    const QString eventType = envelope->value(QStringLiteral("event_type")).toString();
    const QJsonObject resource = envelope->value(QStringLiteral("resource")).toObject();
    if (eventId.isEmpty() || eventType.isEmpty() || resource.isEmpty())
        return verdict(NotifyVerdict::Malformed, QStringLiteral("the envelope lacks id, event_type or resource"));
    if (resource.value(QStringLiteral("algorithm")).toString() != QStringLiteral("AEAD_AES_256_GCM"))
        return verdict(NotifyVerdict::Malformed, QStringLiteral("resource.algorithm is not AEAD_AES_256_GCM"));
    if (!resource.value(QStringLiteral("ciphertext")).isString() || !resource.value(QStringLiteral("nonce")).isString()
        || !resource.value(QStringLiteral("associated_data")).isString())
        return verdict(NotifyVerdict::Malformed, QStringLiteral("resource lacks ciphertext, nonce or associated_data"));
    const std::optional<QByteArray> ciphertext
        = decodeBase64Strict(resource.value(QStringLiteral("ciphertext")).toString().toUtf8());
    if (!ciphertext)
        return verdict(NotifyVerdict::Malformed, QStringLiteral("resource.ciphertext is not strict base64"));
    const GcmOpened opened = aesGcmOpen(state.apiV3Key, resource.value(QStringLiteral("nonce")).toString().toUtf8(),
        resource.value(QStringLiteral("associated_data")).toString().toUtf8(), *ciphertext);
    if (opened.status != GcmStatus::Opened)
        return verdict(NotifyVerdict::Malformed,
            QStringLiteral("resource does not decrypt with the APIv3 key (status %1)").arg(int(opened.status)));
    const std::optional<QJsonObject> plain = parseObject(opened.plaintext);
    if (!plain)
        return verdict(NotifyVerdict::Malformed, QStringLiteral("the decrypted resource is not a JSON object"));

    Notification notification;
    notification.eventId = eventId;
    const QString mchid = plain->value(QStringLiteral("mchid")).toString();
    if (eventType.startsWith(QStringLiteral("TRANSACTION."))) {
        const QString appid = plain->value(QStringLiteral("appid")).toString();
        if (mchid != state.config.mchid || appid != state.config.appid) {
            Notification foreign = verdict(NotifyVerdict::Foreign,
                QStringLiteral("verified, but for mchid %1 appid %2").arg(mchid.left(32), appid.left(32)));
            foreign.eventId = eventId;
            return foreign;
        }
        QString why;
        const std::optional<Trade> trade = tradeOf(*plain, &why);
        if (!trade)
            return verdict(NotifyVerdict::Malformed, QStringLiteral("transaction: %1").arg(why));
        notification.kind = Notification::Kind::Payment;
        notification.trade = *trade;
    } else if (eventType.startsWith(QStringLiteral("REFUND."))) {
        if (mchid != state.config.mchid) {
            Notification foreign
                = verdict(NotifyVerdict::Foreign, QStringLiteral("verified, but for mchid %1").arg(mchid.left(32)));
            foreign.eventId = eventId;
            return foreign;
        }
        QString why;
        const std::optional<RefundResult> refund = refundOf(*plain, &why);
        if (!refund)
            return verdict(NotifyVerdict::Malformed, QStringLiteral("refund: %1").arg(why));
        notification.kind = Notification::Kind::Refund;
        notification.refund = *refund;
        notification.trade.outTradeNo = plain->value(QStringLiteral("out_trade_no")).toString();
        notification.trade.providerTxnId = plain->value(QStringLiteral("transaction_id")).toString();
        notification.trade.state = TradeState::Paid;
        notification.trade.rawState = QStringLiteral("REFUND");
        const std::optional<qint64> total
            = jsonFen(plain->value(QStringLiteral("amount")).toObject().value(QStringLiteral("total")));
        notification.trade.totalFen = total.value_or(-1);
    } else {
        notification.kind = Notification::Kind::Other;
    }
    notification.verdict = NotifyVerdict::Valid;
    notification.reason = eventType;
    return notification;
}

NotifyReply WechatProvider::notifyReply(bool accepted, const QString &message) const
{
    NotifyReply reply;
    if (accepted) {
        reply.status = 204;
        return reply;
    }
    reply.status = 401;
    reply.contentType = QByteArrayLiteral("application/json");
    QJsonObject body;
    body.insert(QStringLiteral("code"), QStringLiteral("FAIL"));
    body.insert(QStringLiteral("message"), message.isEmpty() ? QStringLiteral("rejected") : message);
    reply.body = compactJson(body);
    return reply;
}

void WechatProvider::refreshKeys(std::function<void(bool changed)> done)
{
    refreshCertificates(m_state, std::move(done));
}

// ---- loading -------------------------------------------------------------------------------

std::unique_ptr<WechatProvider> loadWechat(
    const WechatConfig &config, Transport &transport, const prepay::Clock &clock, QString *error)
{
    QString scratch;
    if (!error)
        error = &scratch;
    auto state = std::make_shared<State>();
    state->config = config;
    state->transport = &transport;
    state->clock = &clock;

    if (!config.baseUrl.isValid() || config.baseUrl.scheme() != QStringLiteral("https")
        || config.baseUrl.host().isEmpty() || config.baseUrl.hasQuery()) {
        *error = QStringLiteral("wechat: base URL must be https://host[:port][/prefix] without a query");
        return nullptr;
    }
    if (!config.notifyUrl.isValid() || config.notifyUrl.scheme() != QStringLiteral("https")
        || config.notifyUrl.hasQuery() || config.notifyUrl.host().isEmpty()) {
        *error = QStringLiteral("wechat: notify URL must be https without a query");
        return nullptr;
    }
    const auto digitsOnly = [](const QString &s) {
        return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return c >= u'0' && c <= u'9'; });
    };
    if (!digitsOnly(config.mchid) || config.appid.isEmpty() || config.appid.size() > 32) {
        *error = QStringLiteral("wechat: mchid must be digits and appid non-empty");
        return nullptr;
    }
    if (config.timeoutMs <= 0) {
        *error = QStringLiteral("wechat: timeout must be positive");
        return nullptr;
    }

    std::optional<QByteArray> text = readSmallFile(config.merchantKeyFile, QStringLiteral("merchant key"), error);
    if (!text)
        return nullptr;
    KeyLoadStatus status = KeyLoadStatus::Malformed;
    state->merchantKey = PrivateKey::load(*text, &status);
    if (state->merchantKey.isNull()) {
        *error = QStringLiteral("wechat: merchant key %1: %2").arg(config.merchantKeyFile, keyLoadText(status));
        return nullptr;
    }
    text = readSmallFile(config.merchantCertFile, QStringLiteral("merchant certificate"), error);
    if (!text)
        return nullptr;
    const Certificate merchantCert = Certificate::load(*text, &status);
    if (merchantCert.isNull()) {
        *error
            = QStringLiteral("wechat: merchant certificate %1: %2").arg(config.merchantCertFile, keyLoadText(status));
        return nullptr;
    }
    state->merchantSerial = merchantCert.serialHex().toUpper();
    // The key and the certificate must be one pair, or WeChat answers every call SIGN_ERROR.
    const QByteArray probe = QByteArrayLiteral("prepay merchant key check");
    const std::optional<QByteArray> probeSignature = signRsaSha256(state->merchantKey, probe);
    if (!probeSignature
        || verifyRsaSha256(merchantCert.publicKey(), probe, encodeBase64(*probeSignature)) != VerifyStatus::Valid) {
        *error = QStringLiteral("wechat: merchant key %1 does not belong to certificate %2 (serial %3)")
                     .arg(config.merchantKeyFile, config.merchantCertFile, QString::fromLatin1(state->merchantSerial));
        return nullptr;
    }

    text = readSmallFile(config.apiV3KeyFile, QStringLiteral("APIv3 key"), error);
    if (!text)
        return nullptr;
    QByteArray apiV3 = *text;
    if (apiV3.endsWith('\n'))
        apiV3.chop(1);
    if (apiV3.endsWith('\r'))
        apiV3.chop(1);
    if (apiV3.size() != apiV3KeyBytes
        || !std::all_of(apiV3.begin(), apiV3.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
        *error = QStringLiteral("wechat: APIv3 key %1 must be exactly %2 printable ASCII characters")
                     .arg(config.apiV3KeyFile)
                     .arg(apiV3KeyBytes);
        return nullptr;
    }
    state->apiV3Key = apiV3;

    for (const QString &file : config.platformCertFiles) {
        text = readSmallFile(file, QStringLiteral("platform certificate"), error);
        if (!text)
            return nullptr;
        const Certificate cert = Certificate::load(*text, &status);
        if (cert.isNull() || !state->keys.addCertificate(cert)) {
            *error = QStringLiteral("wechat: platform certificate %1: %2")
                         .arg(file, cert.isNull() ? keyLoadText(status) : QStringLiteral("no usable RSA key"));
            return nullptr;
        }
    }
    if (config.publicKeyFile.isEmpty() != config.publicKeyId.isEmpty()) {
        *error = QStringLiteral("wechat: the public key file and the public key id go together");
        return nullptr;
    }
    if (!config.publicKeyFile.isEmpty()) {
        text = readSmallFile(config.publicKeyFile, QStringLiteral("WeChat Pay public key"), error);
        if (!text)
            return nullptr;
        const PublicKey key = PublicKey::load(*text, &status);
        if (key.isNull()) {
            *error = QStringLiteral("wechat: public key %1: %2").arg(config.publicKeyFile, keyLoadText(status));
            return nullptr;
        }
        if (!state->keys.setPublicKey(config.publicKeyId.toUtf8(), key)) {
            *error = QStringLiteral("wechat: public key id %1 does not start with PUB_KEY_ID_").arg(config.publicKeyId);
            return nullptr;
        }
    }
    if (state->keys.isEmpty() && !config.downloadCertificates) {
        *error = QStringLiteral("wechat: no platform certificate, no public key, and certificate download is off");
        return nullptr;
    }
    error->clear();
    return std::unique_ptr<WechatProvider>(new WechatProvider(std::move(state)));
}

} // namespace prepay::payments
