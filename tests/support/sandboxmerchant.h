// The merchant side of the provider sandbox (prepay-sim pay, drivers/sim/pay) for tests and
// benchmarks: the sandbox's key folder, a sandbox configuration for an in-process PaySandbox, and
// the adapters' configurations for our identities there (drivers/sim/pay/keys/README.md), with
// the notify URLs under `notifyBase` ("https://127.0.0.1:PORT/notify/"). Needs PREPAY_SOURCE_DIR.
#pragma once

#include "payments/alipay.h"
#include "payments/unionpay.h"
#include "payments/wechatpay.h"
#include "sim/pay/paysandbox.h"

#include <QtCore/QString>
#include <QtCore/QUrl>

namespace prepay::test {

inline QString sandboxKeyFile(const QString &name)
{
    return QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys/") + name;
}

// On any free port, notifying over TLS trusting the sandbox's own CA.
inline sim::pay::PaySandboxConfig sandboxConfig(double timeScale)
{
    sim::pay::PaySandboxConfig config;
    config.port = 0;
    config.keysDir = QStringLiteral(PREPAY_SOURCE_DIR "/drivers/sim/pay/keys");
    config.notifyCaFile = sandboxKeyFile(QStringLiteral("tls-ca.pem"));
    config.timeScale = timeScale;
    return config;
}

inline payments::AlipayConfig sandboxAlipay(const QString &sandboxBase, const QString &notifyBase)
{
    payments::AlipayConfig c;
    c.gateway = QUrl(sandboxBase + QStringLiteral("/gateway.do"));
    c.appId = QStringLiteral("2021000000000001");
    c.sellerId = QStringLiteral("2088000000000001");
    c.appPrivateKeyFile = sandboxKeyFile(QStringLiteral("alipay-app.key"));
    c.alipayPublicKeyFile = sandboxKeyFile(QStringLiteral("alipay-platform.pub"));
    c.notifyUrl = QUrl(notifyBase + QStringLiteral("alipay"));
    return c;
}

// Alipay in certificate mode (K2): Alipay's certificate 1 known, our app certificate and the
// sandbox's Alipay root; set the sandbox's alipay_cert fault to "1" or "2" to match.
inline payments::AlipayConfig sandboxAlipayCertificates(const QString &sandboxBase, const QString &notifyBase)
{
    payments::AlipayConfig c = sandboxAlipay(sandboxBase, notifyBase);
    c.alipayPublicKeyFile.clear();
    c.alipayCertFiles = {sandboxKeyFile(QStringLiteral("alipay-cert-1.pem"))};
    c.appCertFile = sandboxKeyFile(QStringLiteral("alipay-app-cert.pem"));
    c.rootCertFile = sandboxKeyFile(QStringLiteral("alipay-root.pem"));
    return c;
}

inline payments::WechatConfig sandboxWechat(const QString &sandboxBase, const QString &notifyBase)
{
    payments::WechatConfig c;
    c.baseUrl = QUrl(sandboxBase);
    c.mchid = QStringLiteral("1900000109");
    c.appid = QStringLiteral("wxd678efh567hg6787");
    c.merchantKeyFile = sandboxKeyFile(QStringLiteral("wechat-merchant.key"));
    c.merchantCertFile = sandboxKeyFile(QStringLiteral("wechat-merchant.pem"));
    c.apiV3KeyFile = sandboxKeyFile(QStringLiteral("wechat-apiv3.txt"));
    c.platformCertFiles = {sandboxKeyFile(QStringLiteral("wechat-platform-1.pem"))};
    c.notifyUrl = QUrl(notifyBase + QStringLiteral("wechat"));
    return c;
}

inline payments::UnionPayConfig sandboxUnionPay(const QString &sandboxBase, const QString &notifyBase)
{
    payments::UnionPayConfig c;
    c.gateway = QUrl(sandboxBase);
    c.merId = QStringLiteral("777290058110048");
    c.signKeyFile = sandboxKeyFile(QStringLiteral("unionpay-merchant.key"));
    c.signCertFile = sandboxKeyFile(QStringLiteral("unionpay-merchant.pem"));
    c.rootCertFile = sandboxKeyFile(QStringLiteral("unionpay-root.pem"));
    c.backUrl = QUrl(notifyBase + QStringLiteral("unionpay"));
    return c;
}

} // namespace prepay::test
