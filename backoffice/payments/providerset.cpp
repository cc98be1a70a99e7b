#include "providerset.h"

#include <QtCore/QUrl>

namespace prepay::payments {

namespace {

// "https://…" or "http://…" with a host: anything else is a typo that would only show at the
// first payment.
bool webUrl(const QString &text, QUrl *url, QString *problem)
{
    *url = QUrl(text, QUrl::StrictMode);
    if (!url->isValid() || url->host().isEmpty()
        || (url->scheme() != QLatin1String("https") && url->scheme() != QLatin1String("http"))) {
        *problem = QStringLiteral("'%1' is not an http(s) URL").arg(text);
        return false;
    }
    return true;
}

} // namespace

ProviderSet::~ProviderSet() = default;

std::unique_ptr<ProviderSet> ProviderSet::load(const PaymentsConfig &c, const Clock &clock, QString *error)
{
    std::unique_ptr<ProviderSet> set(new ProviderSet);
    const bool any = !c.alipayAppId.isEmpty() || !c.wechatMchid.isEmpty() || !c.unionpayMerId.isEmpty();
    if (!any)
        return set;
    QString problem;
    set->m_transport = NetworkTransport::create(c.providerCaFile, &problem);
    if (!set->m_transport) {
        *error = QStringLiteral("[payments] provider_ca_file: %1").arg(problem);
        return nullptr;
    }
    if (!c.alipayAppId.isEmpty()) {
        AlipayConfig a;
        QUrl notify;
        if (!webUrl(c.alipayGateway, &a.gateway, &problem) || !webUrl(c.alipayNotifyUrl, &notify, &problem)) {
            *error = QStringLiteral("[alipay] %1").arg(problem);
            return nullptr;
        }
        a.notifyUrl = notify;
        a.appId = c.alipayAppId;
        a.sellerId = c.alipaySellerId;
        a.appPrivateKeyFile = c.alipayAppPrivateKeyFile;
        a.alipayPublicKeyFile = c.alipayPublicKeyFile;
        a.alipayCertFiles = c.alipayCertFiles;
        a.appCertFile = c.alipayAppCertFile;
        a.rootCertFile = c.alipayRootCertFile;
        a.downloadCertificates = c.alipayDownloadCertificates;
        set->m_alipay = loadAlipay(a, *set->m_transport, clock, &problem);
        if (!set->m_alipay) {
            *error = QStringLiteral("[alipay] %1").arg(problem);
            return nullptr;
        }
    }
    if (!c.wechatMchid.isEmpty()) {
        WechatConfig w;
        if (!webUrl(c.wechatBaseUrl, &w.baseUrl, &problem) || !webUrl(c.wechatNotifyUrl, &w.notifyUrl, &problem)) {
            *error = QStringLiteral("[wechat] %1").arg(problem);
            return nullptr;
        }
        w.mchid = c.wechatMchid;
        w.appid = c.wechatAppid;
        w.merchantKeyFile = c.wechatMerchantKeyFile;
        w.merchantCertFile = c.wechatMerchantCertFile;
        w.apiV3KeyFile = c.wechatApiV3KeyFile;
        w.platformCertFiles = c.wechatPlatformCertFiles;
        w.downloadCertificates = c.wechatDownloadCertificates;
        w.publicKeyFile = c.wechatPublicKeyFile;
        w.publicKeyId = c.wechatPublicKeyId;
        set->m_wechat = loadWechat(w, *set->m_transport, clock, &problem);
        if (!set->m_wechat) {
            *error = QStringLiteral("[wechat] %1").arg(problem);
            return nullptr;
        }
    }
    if (!c.unionpayMerId.isEmpty()) {
        UnionPayConfig u;
        if (!webUrl(c.unionpayGateway, &u.gateway, &problem) || !webUrl(c.unionpayBackUrl, &u.backUrl, &problem)) {
            *error = QStringLiteral("[unionpay] %1").arg(problem);
            return nullptr;
        }
        u.merId = c.unionpayMerId;
        u.signKeyFile = c.unionpaySignKeyFile;
        u.signCertFile = c.unionpaySignCertFile;
        u.rootCertFile = c.unionpayRootCertFile;
        set->m_unionpay = loadUnionPay(u, *set->m_transport, clock, &problem);
        if (!set->m_unionpay) {
            *error = QStringLiteral("[unionpay] %1").arg(problem);
            return nullptr;
        }
    }
    return set;
}

QList<Provider *> ProviderSet::providers() const
{
    QList<Provider *> list;
    if (m_alipay)
        list << m_alipay.get();
    if (m_wechat)
        list << m_wechat.get();
    if (m_unionpay)
        list << m_unionpay.get();
    return list;
}

QStringList ProviderSet::channelCodes() const
{
    QStringList codes;
    for (const Provider *provider : providers())
        codes << channelCode(provider->channel());
    return codes;
}

} // namespace prepay::payments
