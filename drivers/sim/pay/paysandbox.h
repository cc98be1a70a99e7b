// prepay-sim pay: a local payment provider — the PROVIDER side of Alipay (classic gateway.do,
// face-to-face pre-create), WeChat Pay APIv3 Native and UnionPay QR (ACP 5.1.0) — for the demo,
// the tests and the benchmark. One HTTP(S) server carries the three provider APIs, the pay
// pages a phone opens ("the scan"), the bill downloads and a JSON control API (/sandbox/…) that
// plays the buyer and injects faults. Notifications go out with each provider's retry schedule
// (scaled by timeScale) until acknowledged.
//
// It is an independent implementation of the wire protocols in PAYMENT-PROVIDERS.md: it uses
// prepay_paycrypto (keys, RSA-SHA256, form codec, string-to-sign) and never the merchant-side
// adapters, so a shared misreading of the protocol does not hide itself.
//
// What it owns: the orders (in memory, keyed by provider and out_trade_no), the notify log and
// the faults. What it does not: persistence (a restart forgets everything), real money.
#pragma once

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtNetwork/QHostAddress>

#include <memory>

namespace prepay::sim::pay {

struct PaySandboxConfig
{
    QHostAddress listen = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 8701;      // 0: any free port (tests)
    bool plain = false;       // HTTP instead of HTTPS
    QString keysDir;          // drivers/sim/pay/keys
    QString publicUrl;        // base of pay-page and bill links; empty: http(s)://<listen>:<port>
    double timeScale = 0.001; // notify retry schedule multiplier
    QString notifyCaFile;     // extra CA trusted when notifying an https notify_url
    bool noNotify = false;    // never send notifications (polling-only runs)
};

// The parsed command line of "prepay-sim pay".
struct PayCommandLine
{
    enum class Outcome {
        Run,
        Help,
        Error
    };
    Outcome outcome = Outcome::Error;
    PaySandboxConfig config;
    QString text; // the help text or the error message
    int exitCode() const { return outcome == Outcome::Error ? 64 : 0; }
};
PayCommandLine parsePayCommandLine(const QString &program, const QStringList &arguments);

class PaySandboxPrivate;

class PaySandbox : public QObject
{
    Q_OBJECT
public:
    explicit PaySandbox(PaySandboxConfig config, QObject *parent = nullptr);
    ~PaySandbox() override;

    // Loads the keys and starts listening. False with a message naming the file or the address
    // (never key material) on failure.
    bool start(QString *error);
    quint16 port() const;
    QString baseUrl() const; // the public URL of this server (pay links, bill links)
    QStringList startLines() const;

    // Limits (STYLE.md habit 8).
    static constexpr qsizetype requestBodyBytesMax = 64 * 1024;
    static constexpr qint64 wechatTimestampWindowS = 300;
    static constexpr qint64 billUrlLifetimeMs = 30 * 1000;
    static constexpr int notifyLogMax = 2000;

private:
    std::unique_ptr<PaySandboxPrivate> d;
};

} // namespace prepay::sim::pay
