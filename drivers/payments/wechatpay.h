// The WeChat Pay APIv3 Native adapter (PAYMENT-PROVIDERS.md §2, card §2.6): Provider calls
// become signed JSON requests to /v3/…, every answer is verified on its raw bytes before a
// field of it is believed, and notifications are verified, decrypted and mapped.
//
// What it owns: the merchant's signing key and certificate serial, the APIv3 key, and the
// verification key store (wechatkeys.h), all loaded once by loadWechat(). What it does not:
// state about attempts (paycore keeps it), the HTTP connection (the Transport), the clock.
//
// Outcomes (provider.h's rules): transport failure, timeout, 5xx, or an answer that does not
// verify (bad signature, unknown serial after one bounded certificate refresh, timestamp
// outside ±300 s) → Unknown; a verified 4xx {"code","message"} → Rejected with the code, except
// query ORDER_NOT_EXIST → Ok/NotFound and close ORDER_PAID → Rejected with alreadyPaid.
#pragma once

#include "payments/provider.h"
#include "payments/wechatkeys.h"

#include <QtCore/QStringList>

#include <memory>

namespace prepay {
class Clock;
}

namespace prepay::payments {

// Limits (STYLE.md habit 8).
inline constexpr qsizetype wechatNotifyBodyBytesMax = qsizetype(64) * 1024;
inline constexpr qsizetype wechatDescriptionCharsMax = 127;
// At most one GET /v3/certificates per this much wall-clock time, however many unknown
// serials arrive (minibear2021/wechatpayv3#9 looped forever).
inline constexpr qint64 wechatCertificateRefreshIntervalMs = qint64(60) * 1000;
// A bill larger than this is refused rather than held in memory (a busy kiosk fleet makes a
// few hundred rows a day, ~100 KiB).
inline constexpr qsizetype wechatBillBytesMax = qsizetype(64) * 1024 * 1024;

struct WechatConfig
{
    QUrl baseUrl;                       // https://api.mch.weixin.qq.com or the sandbox; /v3/… is appended to its path
    QString mchid, appid;               // ours: sent, and checked in every notification
    QString merchantKeyFile;            // apiclient_key.pem: signs requests
    QString merchantCertFile;           // apiclient_cert.pem: its serial is serial_no
    QString apiV3KeyFile;               // 32 ASCII bytes used as-is (one final newline is tolerated)
    QStringList platformCertFiles;      // legacy platform certificates, chosen by serial
    QString publicKeyFile, publicKeyId; // "WeChat Pay public key" mode (PUB_KEY_ID_…); either mode or both
    QUrl notifyUrl;                     // https, no query
    int timeoutMs = 10000;
    bool downloadCertificates = true; // unknown serial → one bounded GET /v3/certificates
};

class WechatProvider final : public Provider
{
public:
    ~WechatProvider() override;
    Channel channel() const override { return Channel::WeChat; }

    void create(const CreateRequest &request, std::function<void(const CreateResult &)> done) override;
    void query(const TradeRef &trade, std::function<void(const QueryResult &)> done) override;
    void abandon(const TradeRef &trade, std::function<void(const AbandonResult &)> done) override;
    void refund(const RefundRequest &request, std::function<void(const RefundResult &)> done) override;
    void refundQuery(
        const TradeRef &trade, const QString &outRefundNo, std::function<void(const RefundResult &)> done) override;
    void bill(QDate date, std::function<void(const BillResult &)> done) override;

    Notification readNotification(const NotifyRequest &request, qint64 nowMs) const override;
    NotifyReply notifyReply(bool accepted, const QString &message) const override;
    // GET /v3/certificates, at most once per wechatCertificateRefreshIntervalMs of wall time
    // (a call inside the interval answers false without touching the transport). Answers false
    // when downloadCertificates is off.
    void refreshKeys(std::function<void(bool changed)> done) override;

    const WechatKeys &keys() const;
    QByteArray merchantSerial() const; // the serial_no we send

    struct State;

private:
    friend std::unique_ptr<WechatProvider> loadWechat(
        const WechatConfig &config, Transport &transport, const prepay::Clock &clock, QString *error);
    explicit WechatProvider(std::shared_ptr<State> state);
    std::shared_ptr<State> m_state; // shared with in-flight callbacks through weak pointers
};

// Loads every file once and checks the config; nothing (and *error naming the file and the
// problem, never key bytes) when anything is wrong.
std::unique_ptr<WechatProvider> loadWechat(
    const WechatConfig &config, Transport &transport, const prepay::Clock &clock, QString *error);

// The trade bill as WeChat serves it (and the sandbox produces it), parsed; see wechatpay.cpp
// for the exact format. Nothing, and *error saying which line, when it does not parse.
std::optional<QList<BillRow>> parseWechatTradeBill(QByteArrayView raw, QString *error);

} // namespace prepay::payments
