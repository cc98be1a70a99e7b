// bench: QR top-ups paid → credited → relay closed, while the poller polls 1,000 meters at 9600 baud
//
// What a tenant in a hurry feels after pressing "Pay" on the phone: the bench building
// (benchsite.h: --meters prepaid meters, default 1,000, one RS-485 bus per 125, served by
// prepay-sim meters with wire time at --baud, default 9600) whose first --count shops (default
// 50) start with nothing, so the control policy cuts them in the first cycle. This process
// composes what prepayd composes — the poller cycling back to back, the billing and control
// pipeline, durable commands, the PaymentService with the Alipay and WeChat Pay adapters over
// TLS, and its HTTPS notify endpoint — against the provider sandbox (prepay-sim pay's library).
//
// Once every cut shop's trip is verified on its meter, each shop in turn gets a top-up of 100.00
// (Alipay and WeChat Pay alternately): the QR is created, then paid through the sandbox's control
// API (what the pay page's button does). Measured from that pay request:
//   pay_to_credit   the ledger credit committed (the service's attemptChanged on the credited
//                   attempt; the sandbox's notification is what brings it)
//   pay_to_relay_closed  the meter's relay closed in the simulator's ground truth (its control
//                   API, read every 10 ms)
// double_credits counts attempts with more than one recharge entry after the run (and waiting
// for the sandbox's duplicate notifications and prepayd's queries to pass). Targets (issue 7):
// pay → credit p99 < 200 ms, pay → relay closed p99 < 1 s.
// Options: --count N --meters N --baud B. The last line is one JSON object.
#include "benchsite.h"
#include "eventloop.h"
#include "sandboxmerchant.h"
#include "api/clock.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "commands/commandexecutor.h"
#include "commands/commandstore.h"
#include "control/pipeline.h"
#include "payments/alipay.h"
#include "payments/notifyendpoint.h"
#include "payments/paymentservice.h"
#include "payments/payhttp.h"
#include "payments/wechatpay.h"
#include "poller/poller.h"
#include "sim/pay/paysandbox.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QElapsedTimer>
#include <QtCore/QScopeGuard>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QSslConfiguration>

using namespace prepay;

namespace {

constexpr qint64 kTopUpFen = 10'000;
constexpr double kTargetCreditP99Ms = 200.0;
constexpr double kTargetRelayP99Ms = 1000.0;

QString keyFile(const QString &name)
{
    return test::sandboxKeyFile(name);
}

// One HTTP(S) request, waited for; the body (empty on failure).
QByteArray fetch(QNetworkAccessManager &net, QNetworkRequest request, const QByteArray *postBody, int *status)
{
    request.setTransferTimeout(10'000);
    QNetworkReply *reply = postBody ? net.post(request, *postBody) : net.get(request);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    reply->deleteLater();
    return body;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("QR top-ups: pay → credit → relay closed, while 1,000 meters are polled."));
    parser.addHelpOption();
    const auto option = [&parser](const char *name, const char *help, const char *value) {
        QCommandLineOption o(QString::fromLatin1(name), QString::fromLatin1(help), QStringLiteral("N"), QString::fromLatin1(value));
        parser.addOption(o);
        return o;
    };
    const QCommandLineOption countOption = option("count", "Top-ups paid, one after another (shops cut for arrears).", "50");
    const QCommandLineOption metersOption = option("meters", "Meters (and shops) in the building.", "1000");
    const QCommandLineOption baudOption = option("baud", "RS-485 line speed; 0 = no wire emulation.", "9600");
    parser.process(app);

    bench::Layout l;
    l.meters = std::clamp(parser.value(metersOption).toInt(), 1, poller::PollLimits::metersMax);
    l.baud = std::max(0, parser.value(baudOption).toInt());
    const int count = std::clamp(parser.value(countOption).toInt(), 1, l.meters);
    l.arrears = count;
    l.spread();

    QTemporaryDir dir;
    QProcess sim;
    quint16 base = 0;
    if (!bench::startSimulator(sim, l, dir.path(), &base))
        return 1;
    const auto stopSim = qScopeGuard([&sim] {
        sim.terminate();
        sim.waitForFinished(10'000);
    });
    const quint16 simControl = quint16(base + l.buses);

    // ---- prepayd, composed as prepayd.cpp does ---------------------------------------------------
    SystemClock clock;
    store::OpenResult opened = store::Store::open(dir.filePath(QStringLiteral("prepay.db")), clock);
    if (!opened.store || !bench::writeSite(*opened.store, l, base, clock.wallMs()))
        return 1;
    store::Store &store = *opened.store;
    poller::PollPlan plan;
    auto book = std::make_shared<billing::TariffBook>();
    if (!bench::loadPlanAndBook(store, &plan, book.get()))
        return 1;
    billing::Biller biller(book);
    commands::CommandStore commandStore(store, clock);
    commands::CommandExecutor executor(commandStore, clock);
    poller::Poller poller(store, clock, std::move(plan), &commandStore, &executor);
    control::BatchPipeline pipeline(
        biller, clock, [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    pipeline.install(poller.recorder());

    // The provider sandbox, the adapters, the payment service and its notify endpoint.
    sim::pay::PaySandbox sandbox(test::sandboxConfig(0.001));
    QString error;
    std::unique_ptr<payments::NetworkTransport> transport;
    if (!sandbox.start(&error) || !(transport = payments::NetworkTransport::create(keyFile(QStringLiteral("tls-ca.pem")), &error))) {
        std::fprintf(stderr, "sandbox: %s\n", qPrintable(error));
        return 1;
    }
    payments::PaymentService service(store, biller, clock);
    QObject::connect(&service, &payments::PaymentService::commandsQueued, &app,
        [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    payments::NotifyEndpoint endpoint(service);
    if (!endpoint.setTls(keyFile(QStringLiteral("tls-server.pem")), keyFile(QStringLiteral("tls-server.key")), &error)
        || !endpoint.listen(QHostAddress::LocalHost, 0, &error)) {
        std::fprintf(stderr, "notify endpoint: %s\n", qPrintable(error));
        return 1;
    }
    const QString notify = QStringLiteral("https://127.0.0.1:%1/notify/").arg(endpoint.port());
    const auto alipay = payments::loadAlipay(test::sandboxAlipay(sandbox.baseUrl(), notify), *transport, clock, &error);
    const auto wechat = alipay ? payments::loadWechat(test::sandboxWechat(sandbox.baseUrl(), notify), *transport, clock, &error) : nullptr;
    if (!alipay || !wechat) {
        std::fprintf(stderr, "adapters: %s\n", qPrintable(error));
        return 1;
    }
    service.setProvider(alipay.get());
    service.setProvider(wechat.get());
    service.start();

    // The poller cycles back to back for the whole run.
    poller.start();
    int cycles = 0;
    QTimer keepPolling;
    keepPolling.setInterval(50);
    QObject::connect(&keepPolling, &QTimer::timeout, &app, [&poller, &cycles] {
        if (!poller.cycleRunning()) {
            ++cycles;
            poller.startCycle();
        }
    });
    keepPolling.start();

    // Every cut shop's trip verified on its meter (the first cycle reads them all).
    auto reader = store.openReader();
    const auto scalar = [&reader](const QString &sql) {
        store::SqlError e;
        return reader->queryInt(sql, &e);
    };
    QElapsedTimer setup;
    setup.start();
    const bool tripped = test::runUntil(
        [&] {
            return scalar(QStringLiteral("SELECT count(DISTINCT meter_id) FROM meter_commands WHERE kind = 'relay_trip' "
                                         "AND state = 'verified' AND meter_id <= %1")
                              .arg(count))
                >= count;
        },
        15 * 60'000);
    if (!tripped) {
        std::fprintf(stderr, "the %d shops in arrears were not all tripped within 15 minutes\n", count);
        return 1;
    }
    const double setupS = double(setup.elapsed()) / 1000.0;

    // ---- the top-ups ----------------------------------------------------------------------------
    QNetworkAccessManager net;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    {
        QFile ca(keyFile(QStringLiteral("tls-ca.pem")));
        if (!ca.open(QIODevice::ReadOnly))
            return 1;
        QList<QSslCertificate> cas = tls.caCertificates();
        cas << QSslCertificate::fromData(ca.readAll(), QSsl::Pem);
        tls.setCaCertificates(cas);
    }
    qint64 creditedAttempt = 0;
    qint64 creditedAtNs = 0;
    QElapsedTimer clockNs;
    clockNs.start();
    QObject::connect(&service, &payments::PaymentService::attemptChanged, &app, [&](qint64 attemptId) {
        if (attemptId != creditedAttempt || creditedAtNs != 0)
            return;
        const std::optional<payments::Attempt> a = payments::findAttempt(*reader, attemptId);
        if (a && payments::isPaid(a->state))
            creditedAtNs = clockNs.nsecsElapsed();
    });
    std::vector<double> toCredit, toRelay;
    QList<qint64> attemptIds;
    int failures = 0;
    int meter = 0;
    for (int b = 0; b < l.buses && meter < count; ++b) {
        for (int unit = 1; unit <= l.perBus[b] && meter < count; ++unit, ++meter) {
            payments::QrTopUp request;
            request.shopNo = bench::shopOf(meter);
            request.amountFen = kTopUpFen;
            request.channel = meter % 2 == 0 ? payments::Channel::Alipay : payments::Channel::WeChat;
            request.idempotencyKey = QStringLiteral("bench-topup-%1").arg(meter);
            std::optional<payments::CreateTopUpResult> created;
            service.createTopUp(request, [&created](const payments::CreateTopUpResult &r) { created = r; });
            test::runUntil([&created] { return created.has_value(); }, 30'000);
            if (!created || created->attempt.state != payments::AttemptState::QrIssued) {
                std::fprintf(stderr, "top-up %d: no QR (%s)\n", meter, created ? qPrintable(created->message) : "no answer");
                ++failures;
                continue;
            }
            attemptIds << created->attempt.id;
            creditedAttempt = created->attempt.id;
            creditedAtNs = 0;

            // The tenant presses "Pay".
            QNetworkRequest pay(QUrl(sandbox.baseUrl() + QStringLiteral("/sandbox/pay")));
            pay.setSslConfiguration(tls);
            pay.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
            const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("channel"), payments::channelCode(request.channel)},
                                                      {QStringLiteral("out_trade_no"), created->attempt.outTradeNo}})
                                        .toJson(QJsonDocument::Compact);
            const qint64 paidAtNs = clockNs.nsecsElapsed();
            int status = 0;
            fetch(net, pay, &body, &status);
            if (status != 200) {
                std::fprintf(stderr, "top-up %d: the sandbox refused the payment (HTTP %d)\n", meter, status);
                ++failures;
                continue;
            }
            // The meter's relay, as the simulator knows it.
            QNetworkRequest truth(QUrl(QStringLiteral("http://127.0.0.1:%1/meters/%2/%3").arg(simControl).arg(b).arg(unit)));
            qint64 relayAtNs = 0;
            test::runUntil(
                [&] {
                    int s = 0;
                    const QJsonObject t = QJsonDocument::fromJson(fetch(net, truth, nullptr, &s)).object();
                    if (t.value(QLatin1String("relay_state")).toString() == QLatin1String("closed")) {
                        relayAtNs = clockNs.nsecsElapsed();
                        return true;
                    }
                    QEventLoop wait;
                    QTimer::singleShot(10, &wait, &QEventLoop::quit);
                    wait.exec();
                    return false;
                },
                30'000);
            test::runUntil([&creditedAtNs] { return creditedAtNs != 0; }, 30'000);
            if (creditedAtNs == 0 || relayAtNs == 0) {
                std::fprintf(stderr, "top-up %d: %s\n", meter, creditedAtNs == 0 ? "never credited" : "relay never closed");
                ++failures;
                continue;
            }
            toCredit.push_back(double(creditedAtNs - paidAtNs) / 1e6);
            toRelay.push_back(double(relayAtNs - paidAtNs) / 1e6);
        }
    }

    // Duplicate notifications and the poller's queries come after the first credit: let them.
    test::runUntil([] { return false; }, 3'000);
    keepPolling.stop();
    poller.stop();
    QStringList ids;
    for (qint64 id : std::as_const(attemptIds))
        ids << QString::number(id);
    const QString inList = ids.isEmpty() ? QStringLiteral("0") : ids.join(QLatin1Char(','));
    const qint64 credits = scalar(
        QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id IN (%1)").arg(inList));
    const qint64 doubles = scalar(QStringLiteral("SELECT count(*) FROM (SELECT payment_attempt_id FROM ledger_entries "
                                                 "WHERE kind = 'recharge' AND payment_attempt_id IN (%1) "
                                                 "GROUP BY payment_attempt_id HAVING count(*) > 1)")
                                      .arg(inList));

    const double creditP99 = bench::percentile(toCredit, 0.99);
    const double relayP99 = bench::percentile(toRelay, 0.99);
    const QJsonObject figures{{QStringLiteral("bench"), QStringLiteral("topup")}, {QStringLiteral("count"), count},
        {QStringLiteral("paid"), int(toCredit.size())}, {QStringLiteral("failures"), failures},
        {QStringLiteral("meters"), l.meters}, {QStringLiteral("buses"), l.buses}, {QStringLiteral("baud"), l.baud},
        {QStringLiteral("pay_to_credit_p50_ms"), bench::round3(bench::percentile(toCredit, 0.5))},
        {QStringLiteral("pay_to_credit_p99_ms"), bench::round3(creditP99)},
        {QStringLiteral("pay_to_credit_max_ms"), bench::round3(bench::percentile(toCredit, 1.0))},
        {QStringLiteral("pay_to_relay_closed_p50_ms"), bench::round3(bench::percentile(toRelay, 0.5))},
        {QStringLiteral("pay_to_relay_closed_p99_ms"), bench::round3(relayP99)},
        {QStringLiteral("credits"), credits}, {QStringLiteral("double_credits"), doubles},
        {QStringLiteral("poll_cycles_completed"), cycles}, {QStringLiteral("setup_s"), bench::round3(setupS)},
        {QStringLiteral("targets"),
            QJsonObject{{QStringLiteral("pay_to_credit_p99_lt_200ms"), !toCredit.empty() && creditP99 < kTargetCreditP99Ms},
                {QStringLiteral("pay_to_relay_closed_p99_lt_1s"), !toRelay.empty() && relayP99 < kTargetRelayP99Ms}}}};
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    reader.reset();
    store.stop();
    return failures == 0 && doubles == 0 && credits == qint64(attemptIds.size()) ? 0 : 1;
}
