// The UnionPay adapter (PAYMENT-PROVIDERS.md Appendix C): the direct ACP ("全渠道") protocol,
// version 5.1.0, signMethod=01, for merchant-presented QR codes (txnType 01 / txnSubType 07).
// The wire contract shared with the sandbox:
//   - every call is a UTF-8 form POST; every answer and notification is a form;
//   - signing: all fields except `signature`, empty values dropped, sorted by key (byte order),
//     joined `k=v&…`; digest = lowercase hex SHA-256 of that UTF-8 string; signature =
//     base64(RSA-SHA256(key, the hex digest TEXT)) — see unionPayDigest();
//   - requests carry version=5.1.0, encoding=UTF-8, signMethod=01, certId (decimal serial of our
//     certificate), accessType=0, merId, bizType=000000;
//   - answers and notifications carry `signPubKeyCert` (PEM, itself one of the signed fields) and
//     `signature`: the certificate must be issued by the configured root (one level), be within
//     its validity now, and have a subject CN containing 中国银联股份有限公司.
// Mapping: create respCode 00 → qrCode; query respCode 00 → origRespCode 00 Paid, 03/04/05
// WaitingPayment, others Failed; query respCode 34 → Ok + NotFound. respCode 03/04/05 on any
// call (timeout / state unknown / accepted) is Outcome::Unknown (deviation from "any other
// respCode is Rejected": ACP says those outcomes are not known); other respCodes are Rejected.
// abandon: no call — UnionPay QR orders expire at payTimeout (Ok, message says so).
// refund, refundQuery and bill: not implemented for UnionPay — Rejected, code "NOT_SUPPORTED".
#pragma once

#include "payments/paycanon.h"
#include "payments/provider.h"

namespace prepay {
class Clock;
}

namespace prepay::payments {

struct UnionPayConfig
{
    QUrl gateway;          // base, e.g. https://127.0.0.1:8701 (paths /gateway/api/… are appended)
    QString merId;         // ours: notifications must name it; an answer naming another is Unknown
    QString signKeyFile;   // our signing key (PEM or bare base64)
    QString signCertFile;  // our certificate: certId = its decimal serial
    QString rootCertFile;  // UnionPay's root: signPubKeyCert must be issued by it
    QUrl backUrl;          // where UnionPay posts results
    int timeoutMs = 10000; // per HTTP call
};

// The digest UnionPay signs: lowercase hex SHA-256 of the sorted `k=v&…` string (all fields but
// `signature`, empty values dropped). Nothing when a key repeats (ambiguous).
std::optional<QByteArray> unionPayDigest(const FormFields &fields);

class UnionPayProvider final : public Provider
{
public:
    ~UnionPayProvider() override;

    Channel channel() const override { return Channel::UnionPay; }
    void create(const CreateRequest &request, std::function<void(const CreateResult &)> done) override;
    void query(const TradeRef &trade, std::function<void(const QueryResult &)> done) override;
    void abandon(const TradeRef &trade, std::function<void(const AbandonResult &)> done) override;
    void refund(const RefundRequest &request, std::function<void(const RefundResult &)> done) override;
    void refundQuery(
        const TradeRef &trade, const QString &outRefundNo, std::function<void(const RefundResult &)> done) override;
    void bill(QDate date, std::function<void(const BillResult &)> done) override;

    Notification readNotification(const NotifyRequest &request, qint64 nowMs) const override;
    // accepted → 200 text/plain "ok"; otherwise 400 "fail" (UnionPay retries).
    NotifyReply notifyReply(bool accepted, const QString &message) const override;

    struct Keys;

private:
    friend std::unique_ptr<UnionPayProvider> loadUnionPay(
        const UnionPayConfig &config, Transport &transport, const prepay::Clock &clock, QString *error);
    UnionPayProvider(
        const UnionPayConfig &config, Transport &transport, const prepay::Clock &clock, std::unique_ptr<Keys> keys);

    struct Verified;
    // Checks signPubKeyCert and the signature of a decoded form at `nowMs`.
    Verified verify(const FormFields &fields, qint64 nowMs) const;
    void call(const QString &path, FormFields fields, std::function<void(const Verified &)> done);

    UnionPayConfig m_config;
    Transport &m_transport;
    const prepay::Clock &m_clock;
    std::unique_ptr<Keys> m_keys;
};

// Loads key, certificate and root named in `config`. On failure: null, and *error names the file
// and what is wrong — never the key.
std::unique_ptr<UnionPayProvider> loadUnionPay(
    const UnionPayConfig &config, Transport &transport, const prepay::Clock &clock, QString *error);

} // namespace prepay::payments
