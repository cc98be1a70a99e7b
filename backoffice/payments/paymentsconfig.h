// What prepayd's configuration file says about the QR payment channels ([payments], [alipay],
// [wechat], [unionpay] of packaging/prepayd.conf; service/config.cpp parses them). URLs and file
// names are kept as written: ProviderSet::load() (providerset.h) checks them and loads the keys.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

namespace prepay::payments {

// As written in the file (URLs and paths as text; load() checks them).
struct PaymentsConfig
{
    // [payments]
    QString notifyListenAddress = QStringLiteral("0.0.0.0");
    quint16 notifyPort = 0;     // 0: no notify endpoint (payments are learnt by polling alone)
    QString notifyTlsCert;      // empty: plain HTTP (behind an HTTPS relay)
    QString notifyTlsKey;
    QString providerCaFile;     // trusted besides the system's CAs (a sandbox's private CA)

    // [alipay] — configured when app_id is set
    QString alipayGateway = QStringLiteral("https://openapi.alipay.com/gateway.do");
    QString alipayAppId, alipaySellerId, alipayAppPrivateKeyFile, alipayPublicKeyFile;
    QStringList alipayCertFiles;
    QString alipayAppCertFile, alipayRootCertFile, alipayNotifyUrl;
    bool alipayDownloadCertificates = true;

    // [wechat] — configured when mchid is set
    QString wechatBaseUrl = QStringLiteral("https://api.mch.weixin.qq.com");
    QString wechatMchid, wechatAppid, wechatMerchantKeyFile, wechatMerchantCertFile, wechatApiV3KeyFile;
    QStringList wechatPlatformCertFiles;
    bool wechatDownloadCertificates = true;
    QString wechatPublicKeyFile, wechatPublicKeyId, wechatNotifyUrl;

    // [unionpay] — configured when mer_id is set
    QString unionpayGateway = QStringLiteral("https://gateway.95516.com");
    QString unionpayMerId, unionpaySignKeyFile, unionpaySignCertFile, unionpayRootCertFile, unionpayBackUrl;
};

} // namespace prepay::payments
