#include "screenshottour.h"

#include "fixturebackend.h"
#include "fixtureprinter.h"
#include "tenantflow.h"

#include "api/clock.h"

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>
#include <QtGui/QImage>
#include <QtQuick/QQuickWindow>

#include <functional>
#include <memory>

namespace prepay::kiosk {

namespace {

// The system's clocks plus an offset the tour moves forward (the QR timeout, the idle countdown).
class TourClock final : public Clock
{
public:
    qint64 monotonicMs() const override { return m_system.monotonicMs() + offsetMs; }
    qint64 wallMs() const override { return m_system.wallMs() + offsetMs; }
    qint64 offsetMs = 0;

private:
    SystemClock m_system;
};

void settle(int ms = 30)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

class Tour
{
public:
    Tour(QQuickWindow *window, TenantFlow *flow, FixturePrinter *printer, const QString &dir)
        : m_window(window)
        , m_flow(flow)
        , m_printer(printer)
        , m_dir(dir)
    { }

    TourResult run()
    {
        Backend *original = m_flow->backend();
        m_flow->setClock(&m_clock);
        for (const QString &lang : {QStringLiteral("zh_CN"), QStringLiteral("en")}) {
            m_lang = lang;
            freshFixture();
            setLandscape(false);
            portrait();
            if (!m_result.error.isEmpty())
                break;
            freshFixture();
            setLandscape(true);
            landscape();
            setLandscape(false);
            if (!m_result.error.isEmpty())
                break;
        }
        m_flow->endSession();
        m_flow->setClock(nullptr);
        m_flow->setBackend(original);
        m_fixture.reset();
        return m_result;
    }

private:
    void freshFixture()
    {
        m_clock.offsetMs = 0;
        auto fixture = std::make_unique<FixtureBackend>();
        fixture->setClock(&m_clock);
        fixture->setReplyDelayMs(0);
        fixture->setPayAfterMs(0); // pays when the tour says so
        m_flow->setBackend(fixture.get());
        m_fixture = std::move(fixture);
        restart();
    }

    void setLandscape(bool landscape)
    {
        m_orientation = landscape ? QStringLiteral("landscape") : QStringLiteral("portrait");
        m_window->setProperty("landscape", landscape);
        settle();
    }

    // Back to Attract in the tour's language (a wipe brings Chinese back).
    void restart()
    {
        m_flow->endSession();
        m_flow->setLanguage(m_lang);
        settle(5);
    }

    void type(const QString &shopNo)
    {
        for (const QChar c : shopNo)
            m_flow->identify()->press(QString(c));
    }

    bool openShop(const QString &shopNo)
    {
        restart();
        m_flow->begin();
        type(shopNo);
        m_flow->identify()->lookUp();
        m_flow->identify()->confirm();
        settle(5);
        if (m_flow->state() != TenantFlow::Account) {
            m_result.error = QStringLiteral("could not open shop %1").arg(shopNo);
            return false;
        }
        return true;
    }

    void shot(const QString &name)
    {
        settle();
        if (!m_result.error.isEmpty())
            return;
        ++m_index;
        if (m_dir.isEmpty())
            return;
        const QString file = QDir(m_dir).filePath(QStringLiteral("%1-%2-%3-%4.png")
                                                     .arg(m_lang, m_orientation)
                                                     .arg(m_index, 2, 10, QLatin1Char('0'))
                                                     .arg(name));
        const QImage image = m_window->grabWindow();
        if (image.isNull() || !image.save(file))
            m_result.error = QStringLiteral("cannot save %1").arg(file);
        else
            m_result.files.append(file);
    }

    // The shop's top-up at the channel step, for preset amount `preset`.
    bool toChannel(const QString &shopNo, int preset)
    {
        if (!openShop(shopNo))
            return false;
        m_flow->startTopUp();
        m_flow->topUp()->choosePreset(preset);
        m_flow->topUp()->confirmAmount();
        return true;
    }

    bool toQr(const QString &shopNo, int preset, const QString &channel)
    {
        if (!toChannel(shopNo, preset))
            return false;
        m_flow->topUp()->chooseChannel(channel);
        settle(5);
        if (m_flow->topUp()->step() != TopUpController::Qr) {
            m_result.error = QStringLiteral("no QR for %1").arg(shopNo);
            return false;
        }
        return true;
    }

    void portrait()
    {
        m_index = 0;
        shot(QStringLiteral("attract"));

        // The first QR of a fresh fixture: attempt 1, 100 元 (the test decodes this one).
        if (!toQr(QStringLiteral("A-1F-101"), 1, QStringLiteral("wechat")))
            return;
        shot(QStringLiteral("topup-qr"));
        m_fixture->payNow();
        shot(QStringLiteral("topup-success"));

        restart();
        m_flow->begin();
        shot(QStringLiteral("identify"));
        type(QStringLiteral("A-1F-10"));
        m_flow->identify()->lookUp();
        shot(QStringLiteral("identify-not-found"));
        type(QStringLiteral("4"));
        m_flow->identify()->lookUp();
        shot(QStringLiteral("identify-confirm"));

        const QList<std::pair<QString, QString>> shops = {
            {QStringLiteral("A-1F-101"), QStringLiteral("account-normal-tou")},
            {QStringLiteral("A-1F-103"), QStringLiteral("account-alarm1-flat")},
            {QStringLiteral("A-1F-104"), QStringLiteral("account-alarm2")},
            {QStringLiteral("A-2F-201"), QStringLiteral("account-arrears-power-off")},
            {QStringLiteral("A-2F-202"), QStringLiteral("account-force-on")},
            {QStringLiteral("A-3F-301"), QStringLiteral("account-meter-offline")},
            {QStringLiteral("A-4F-401"), QStringLiteral("account-tiered")},
        };
        for (const auto &[shopNo, name] : shops) {
            if (!openShop(shopNo))
                return;
            shot(name);
        }

        if (!openShop(QStringLiteral("A-1F-101")))
            return;
        m_flow->showUsage();
        shot(QStringLiteral("usage-daily-tou"));
        m_flow->usage()->setMonthly(true);
        shot(QStringLiteral("usage-monthly-tou"));
        if (!openShop(QStringLiteral("A-1F-103")))
            return;
        m_flow->showUsage();
        shot(QStringLiteral("usage-daily-flat"));

        if (!openShop(QStringLiteral("A-1F-101")))
            return;
        m_flow->showHistory();
        shot(QStringLiteral("history"));

        if (!openShop(QStringLiteral("A-1F-104")))
            return;
        m_flow->startTopUp();
        shot(QStringLiteral("topup-amount"));
        m_flow->topUp()->choosePreset(2);
        shot(QStringLiteral("topup-amount-preset"));
        for (const QChar c : QStringLiteral("9999"))
            m_flow->topUp()->pressDigit(QString(c));
        shot(QStringLiteral("topup-amount-too-large"));
        m_flow->topUp()->choosePreset(0);
        m_flow->topUp()->confirmAmount();
        shot(QStringLiteral("topup-channel"));

        // Paying a shop that was cut off: success, then the relay closes.
        if (!toQr(QStringLiteral("A-2F-201"), 0, QStringLiteral("alipay")))
            return;
        m_fixture->payNow();
        shot(QStringLiteral("topup-success-power-pending"));
        settle(50);
        shot(QStringLiteral("topup-success-power-restored"));

        if (!toQr(QStringLiteral("A-1F-103"), 3, QStringLiteral("unionpay")))
            return;
        m_fixture->failNow();
        shot(QStringLiteral("topup-failure"));

        // The receipt printer out of paper: said before paying, after paying (the payment safe),
        // and again when the tenant tries to print it from Recharges.
        if (m_printer) {
            m_printer->setPaperOut(true);
            if (!toChannel(QStringLiteral("A-1F-104"), 0))
                return;
            shot(QStringLiteral("topup-channel-printer-out"));
            if (!toQr(QStringLiteral("A-1F-104"), 0, QStringLiteral("wechat")))
                return;
            m_fixture->payNow();
            settle(5);
            shot(QStringLiteral("topup-success-receipt-paper-out"));
            const QString receiptNo = m_flow->topUp()->receiptNo();
            m_flow->showAccount();
            m_flow->showHistory();
            settle(5);
            m_flow->receipts()->print(receiptNo, m_lang);
            settle(5);
            shot(QStringLiteral("history-receipt-paper-out"));
            m_printer->setPaperOut(false);
        }

        if (!toQr(QStringLiteral("A-1F-103"), 1, QStringLiteral("alipay")))
            return;
        m_clock.offsetMs += FixtureBackend::kQrLifetimeMs + 1'000;
        m_flow->topUp()->tick();
        shot(QStringLiteral("topup-timeout"));
        m_clock.offsetMs = 0;

        // Offline: cached data marked stale, top-ups disabled with a plain explanation.
        m_fixture->setOnline(false);
        if (!openShop(QStringLiteral("A-1F-101")))
            return;
        shot(QStringLiteral("offline-account"));
        m_flow->showHistory();
        shot(QStringLiteral("offline-history"));
        restart();
        shot(QStringLiteral("offline-attract"));
        m_fixture->setReplicaPresent(false);
        shot(QStringLiteral("out-of-service"));
        m_fixture->setReplicaPresent(true);
        m_fixture->setOnline(true);

        // PIN, where the building asks for one.
        m_fixture->setPinRequired(true);
        restart();
        m_flow->begin();
        type(QStringLiteral("A-1F-101"));
        m_flow->identify()->lookUp();
        m_flow->identify()->confirm();
        m_flow->identify()->pressPinDigit(QStringLiteral("1"));
        m_flow->identify()->pressPinDigit(QStringLiteral("2"));
        shot(QStringLiteral("pin"));
        m_flow->identify()->pressPinDigit(QStringLiteral("3"));
        m_flow->identify()->pressPinDigit(QStringLiteral("4"));
        m_flow->identify()->submitPin();
        settle(5);
        shot(QStringLiteral("pin-wrong"));
        m_fixture->setPinRequired(false);

        // The idle countdown over the account.
        if (!openShop(QStringLiteral("A-1F-101")))
            return;
        m_clock.offsetMs += IdleSupervisor::kIdleDefaultMs + 2'000;
        m_flow->idle()->tick();
        shot(QStringLiteral("idle-countdown"));
        m_clock.offsetMs = 0;
        m_flow->idle()->touched();

        // High contrast, once.
        m_window->setProperty("highContrast", true);
        if (!openShop(QStringLiteral("A-1F-104")))
            return;
        shot(QStringLiteral("account-alarm2-high-contrast"));
        m_window->setProperty("highContrast", false);
        restart();
    }

    void landscape()
    {
        m_index = 0;
        shot(QStringLiteral("attract"));
        if (!toQr(QStringLiteral("A-1F-101"), 1, QStringLiteral("alipay")))
            return;
        shot(QStringLiteral("topup-qr"));
        restart();
        m_flow->begin();
        type(QStringLiteral("A-1F-104"));
        m_flow->identify()->lookUp();
        shot(QStringLiteral("identify-confirm"));
        if (!openShop(QStringLiteral("A-2F-202")))
            return;
        shot(QStringLiteral("account-force-on"));
        m_flow->showUsage();
        shot(QStringLiteral("usage-daily-tou"));
        if (!openShop(QStringLiteral("A-1F-103")))
            return;
        m_flow->startTopUp();
        m_flow->topUp()->choosePreset(1);
        shot(QStringLiteral("topup-amount"));
        restart();
    }

    QQuickWindow *m_window;
    TenantFlow *m_flow;
    FixturePrinter *m_printer;
    QString m_dir;
    TourClock m_clock;
    std::unique_ptr<FixtureBackend> m_fixture;
    QString m_lang;
    QString m_orientation;
    int m_index = 0;
    TourResult m_result;
};

} // namespace

TourResult runScreenshotTour(QQuickWindow *window, TenantFlow *flow, FixturePrinter *printer, const QString &dir)
{
    if (!dir.isEmpty() && !QDir().mkpath(dir)) {
        TourResult result;
        result.error = QStringLiteral("cannot create %1").arg(dir);
        return result;
    }
    Tour tour(window, flow, printer, dir);
    return tour.run();
}

} // namespace prepay::kiosk
