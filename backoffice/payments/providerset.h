// The QR payment channels one prepayd runs, from its configuration file ([payments], [alipay],
// [wechat], [unionpay] of packaging/prepayd.conf): the one HTTPS transport to the providers and
// an adapter per configured channel. A channel is configured when its merchant id is set; one
// that is configured but cannot be used (a key file missing, a URL wrong) stops prepayd at start
// with the reason, so a building never runs believing it takes a channel it does not.
#pragma once

#include "payments/alipay.h"
#include "payments/paymentsconfig.h"
#include "payments/payhttp.h"
#include "payments/unionpay.h"
#include "payments/wechatpay.h"

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <memory>

namespace prepay {
class Clock;
}

namespace prepay::payments {

class ProviderSet
{
public:
    // Nothing and *error ("[wechat] merchant_key_file …: …") when a configured channel cannot be
    // used. No channel configured is fine: an empty set (topup.create answers 'unavailable').
    static std::unique_ptr<ProviderSet> load(const PaymentsConfig &config, const Clock &clock, QString *error);
    ~ProviderSet();

    QList<Provider *> providers() const; // the configured ones
    QStringList channelCodes() const;    // "alipay", … for logs and system.health

private:
    ProviderSet() = default;
    std::unique_ptr<NetworkTransport> m_transport;
    std::unique_ptr<AlipayProvider> m_alipay;
    std::unique_ptr<WechatProvider> m_wechat;
    std::unique_ptr<UnionPayProvider> m_unionpay;
};

} // namespace prepay::payments
