// The Alipay adapter (PAYMENT-PROVIDERS.md §1, card §1.7): Face-to-Face pre-create over the
// classic `gateway.do` protocol, RSA2, public-key mode or certificate mode.
//
// Every call is one POST to the gateway with all parameters in a form body we encode ourselves
// (common parameters + biz_content JSON, signed with alipayStringToSign(Request)). The answer is
// verified on the raw `<method>_response` node with the ALIPAY key (certificate mode: chosen by
// alipay_cert_sn) before a single field is believed; anything unverifiable — transport failure,
// non-200, an `error_response`, a bad or missing sign, code 20000 — is Outcome::Unknown.
// Verified refusals are Rejected with code = sub_code (or code when there is none), except:
//   - query: ACQ.TRADE_NOT_EXIST → Ok, TradeState::NotFound (not scanned yet);
//   - cancel/close: ACQ.TRADE_NOT_EXIST → Ok, nothing to abandon (message says so).
// Certificate mode and rotation (K2): Alipay signs with the certificate named by alipay_cert_sn.
// An SN we do not hold — Alipay rotated its certificate — is fetched once with
// alipay.open.app.alipaycert.download (when downloadCertificates), and believed only when the
// certificate's SN is the one asked for, it is valid now, and it chains (through any certificates
// sent with it) to a certificate of the configured root bundle. A sync answer is then verified
// again; a notification is re-read through refreshKeys(). Downloads off, or a certificate that
// does not chain: fail closed (Unknown / notification rejected, the provider re-sends). A failed
// SN is not fetched again for a minute, so a flood of unknown SNs cannot loop.
// Refunds: alipay.trade.refund answers fund_change; Y → Succeeded (money moved in this call),
// N → Processing (a repeat, or not moved yet: confirm with refundQuery). refundQuery uses
// alipay.trade.fastpay.refund.query: per Alipay's documentation a refund exists when the answer
// carries it (out_request_no / refund_amount) and refund_status is REFUND_SUCCESS or absent →
// Succeeded; an answer without the refund means "no such refund (yet)": Ok, Processing, code
// "REFUND_NOT_EXIST" — the caller retries alipay.trade.refund with the same outRefundNo.
//
// The adapter keeps no per-attempt state; keys are loaded once by loadAlipay(). It must outlive
// the calls it has in flight (their callbacks refer to it).
#pragma once

#include "payments/provider.h"

#include <QtCore/QHash>
#include <QtCore/QStringList>

namespace prepay {
class Clock;
}

namespace prepay::payments {

class PrivateKey;
class PublicKey;

struct AlipayConfig
{
    QUrl gateway;                      // https://openapi.alipay.com/gateway.do, or the sandbox's
    QString appId, sellerId;           // ours; responses and notifications must name them
    QString appPrivateKeyFile;         // PEM or bare base64 (PKCS#1 / PKCS#8)
    QString alipayPublicKeyFile;       // public-key mode: the ALIPAY key, not ours
    QStringList alipayCertFiles;       // certificate mode instead: Alipay's certificates, by alipay_cert_sn
    QString appCertFile, rootCertFile; // certificate mode: app_cert_sn, alipay_root_cert_sn on requests
    bool downloadCertificates = true;  // certificate mode: fetch an unknown alipay_cert_sn (see above)
    QUrl notifyUrl;                    // common parameter notify_url (precreate), no query
    QString timeoutExpress = QStringLiteral("5m");
    int timeoutMs = 10000; // per HTTP call
};

// One row kind of the daily bill we read, by column name (see parseAlipayBill).
struct AlipayBill
{
    QList<BillRow> rows;
    int skippedRows = 0; // rows of other business types (not 交易 / 退款)
};

// Parses the decoded (UTF-8) text of the bill's detail CSV (业务明细). Lines starting with '#'
// are comments; the first other line is the header; every later line is a data row. Columns
// used, found by header name (the others are ignored, their order does not matter):
//   支付宝交易号 → providerTxnId, 商户订单号 → outTradeNo, 业务类型 (交易 → Payment,
//   退款 → Refund, others skipped and counted), 订单金额（元） → amountFen (a refund's negative
//   sign dropped: amounts are positive), 退款批次号/请求号 → outRefundNo (refunds),
//   完成时间 (Beijing "yyyy-MM-dd HH:mm:ss") → atMs.
// Values are trimmed (Alipay pads with spaces and tabs); double-quoted values are unquoted.
// Nothing, with *error set, when a column is missing or a row does not parse.
std::optional<AlipayBill> parseAlipayBill(const QString &csv, QString *error);

class AlipayProvider final : public Provider
{
public:
    ~AlipayProvider() override;

    Channel channel() const override { return Channel::Alipay; }
    void create(const CreateRequest &request, std::function<void(const CreateResult &)> done) override;
    void query(const TradeRef &trade, std::function<void(const QueryResult &)> done) override;
    // alipay.trade.cancel (撤销): action close|refund, retry_flag=Y → retry.
    void abandon(const TradeRef &trade, std::function<void(const AbandonResult &)> done) override;
    // alipay.trade.close: only for WAIT_BUYER_PAY; never refunds.
    void close(const TradeRef &trade, std::function<void(const AbandonResult &)> done);
    void refund(const RefundRequest &request, std::function<void(const RefundResult &)> done) override;
    void refundQuery(
        const TradeRef &trade, const QString &outRefundNo, std::function<void(const RefundResult &)> done) override;
    // downloadurl.query, then an unsigned GET of the URL (a ZIP of GBK CSV; the 业务明细 entry).
    void bill(QDate date, std::function<void(const BillResult &)> done) override;

    Notification readNotification(const NotifyRequest &request, qint64 nowMs) const override;
    NotifyReply notifyReply(bool accepted, const QString &message) const override;
    // Certificate mode: fetches the unknown alipay_cert_sn the last notification named.
    void refreshKeys(std::function<void(bool changed)> done) override;

    struct Keys;

private:
    friend std::unique_ptr<AlipayProvider> loadAlipay(
        const AlipayConfig &config, Transport &transport, const prepay::Clock &clock, QString *error);
    AlipayProvider(
        const AlipayConfig &config, Transport &transport, const prepay::Clock &clock, std::unique_ptr<Keys> keys);

    struct Answer;
    QByteArray requestBody(const QByteArray &method, const QByteArray &bizContent, bool withNotifyUrl) const;
    HttpCall gatewayCall(const QByteArray &method, const QByteArray &bizContent, bool withNotifyUrl) const;
    void call(const QByteArray &method, const QByteArray &bizContent, bool withNotifyUrl,
        std::function<void(const Answer &)> done);
    void verifyAnswer(const QByteArray &method, const HttpReply &reply, bool mayFetch, std::function<void(const Answer &)> done);
    void fetchCertificate(const QByteArray &sn, std::function<void(bool added)> done);
    void certificateArrived(const QByteArray &sn, const HttpReply &reply);

    AlipayConfig m_config;
    Transport &m_transport;
    const prepay::Clock &m_clock;
    std::unique_ptr<Keys> m_keys;
};

// Loads the keys named in `config` and checks the config. On failure: null, and *error names the
// file and what is wrong with it (missing, not a key, wrong kind) — never the key.
std::unique_ptr<AlipayProvider> loadAlipay(
    const AlipayConfig &config, Transport &transport, const prepay::Clock &clock, QString *error);

} // namespace prepay::payments
