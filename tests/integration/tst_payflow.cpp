// The QR payment flow end to end on real parts: a real SQLite store seeded with the demo
// building, the real adapters (Alipay, WeChat Pay, UnionPay) over real TLS through
// NetworkTransport, the PaymentService and its NotifyEndpoint (HTTPS), against the provider
// sandbox (prepay-sim pay's library) in process. The sandbox is the only "phone": the test pays
// through its control API, exactly what the pay page's button does.
#include "accounts/takeover.h"
#include "api/clock.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "payments/alipay.h"
#include "payments/notifyendpoint.h"
#include "payments/paymentservice.h"
#include "payments/payhttp.h"
#include "payments/unionpay.h"
#include "payments/wechatpay.h"
#include "ledger/verify.h"
#include "sandboxcontrol.h"
#include "sandboxmerchant.h"
#include "sim/pay/paysandbox.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using namespace prepay;
using namespace prepay::payments;

namespace {

QString keyFile(const QString &name)
{
    return test::sandboxKeyFile(name);
}

} // namespace

class TestPayFlow : public QObject
{
    Q_OBJECT

    SystemClock m_clock;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Connection> m_reader;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::unique_ptr<sim::pay::PaySandbox> m_sandbox;
    std::unique_ptr<NetworkTransport> m_transport;
    std::unique_ptr<Provider> m_alipay, m_wechat, m_unionpay;
    std::unique_ptr<PaymentService> m_service;
    std::unique_ptr<NotifyEndpoint> m_endpoint;
    QString m_notifyBase;

    // The sandbox's control API (the "phone").
    QJsonObject control(const QByteArray &method, const QString &path, const QJsonObject &body = {})
    {
        return test::sandboxControl(*m_transport, m_sandbox->baseUrl(), method, path, body);
    }

    qint64 count(const QString &sql)
    {
        store::SqlError error;
        return m_reader->queryInt(sql, &error);
    }
    qint64 credits(qint64 attemptId)
    {
        return count(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = %1")
                         .arg(attemptId));
    }
    QString stateOf(qint64 attemptId)
    {
        std::optional<Attempt> a = findAttempt(*m_reader, attemptId);
        return a ? attemptStateCode(a->state) : QString();
    }

    Attempt createTopUp(Channel channel, qint64 fen, const QString &key)
    {
        QrTopUp request;
        request.shopNo = QStringLiteral("A-1F-105");
        request.amountFen = fen;
        request.channel = channel;
        request.idempotencyKey = key;
        std::optional<CreateTopUpResult> result;
        m_service->createTopUp(request, [&result](const CreateTopUpResult &r) { result = r; });
        if (!QTest::qWaitFor([&] { return result.has_value(); }, 15000))
            return {};
        return result->attempt;
    }

    void pay(Channel channel, const Attempt &attempt)
    {
        const QJsonObject who{{QStringLiteral("channel"), channelCode(channel)},
            {QStringLiteral("out_trade_no"), attempt.outTradeNo}};
        control("POST", QStringLiteral("/sandbox/scan"), who);
        const QJsonObject paid = control("POST", QStringLiteral("/sandbox/pay"), who);
        QVERIFY2(paid.value(QStringLiteral("_status")).toInt() == 200, QJsonDocument(paid).toJson().constData());
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        m_store = std::move(opened.store);
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        const qint64 seededMs = m_clock.wallMs();
        QVERIFY(m_store->write([seededMs](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, seededMs); })
                    .get()
                    .committed());
        m_reader = m_store->openReader();
        m_book = std::make_shared<billing::TariffBook>();
        QString error;
        QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
        m_biller = std::make_unique<billing::Biller>(m_book);

        sim::pay::PaySandboxConfig sandbox = test::sandboxConfig(0.0005);
        m_sandbox = std::make_unique<sim::pay::PaySandbox>(sandbox);
        QVERIFY2(m_sandbox->start(&error), qPrintable(error));
        m_transport = NetworkTransport::create(keyFile(QStringLiteral("tls-ca.pem")), &error);
        QVERIFY2(m_transport, qPrintable(error));

        m_service = std::make_unique<PaymentService>(*m_store, *m_biller, m_clock);
        PaymentSchedule fast;
        fast.tickMs = 100;
        fast.firstQueryMs = 300;
        fast.secondQueryMs = 300;
        fast.queryEveryMs = 300;
        m_service->setSchedule(fast);
        m_endpoint = std::make_unique<NotifyEndpoint>(*m_service);
        QVERIFY2(m_endpoint->setTls(keyFile(QStringLiteral("tls-server.pem")), keyFile(QStringLiteral("tls-server.key")), &error),
            qPrintable(error));
        QVERIFY2(m_endpoint->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        const QString notify = QStringLiteral("https://127.0.0.1:%1/notify/").arg(m_endpoint->port());
        m_notifyBase = notify;
        const QString base = m_sandbox->baseUrl();

        m_alipay = loadAlipay(test::sandboxAlipay(base, notify), *m_transport, m_clock, &error);
        QVERIFY2(m_alipay, qPrintable(error));
        m_wechat = loadWechat(test::sandboxWechat(base, notify), *m_transport, m_clock, &error);
        QVERIFY2(m_wechat, qPrintable(error));
        m_unionpay = loadUnionPay(test::sandboxUnionPay(base, notify), *m_transport, m_clock, &error);
        QVERIFY2(m_unionpay, qPrintable(error));

        m_service->setProvider(m_alipay.get());
        m_service->setProvider(m_wechat.get());
        m_service->setProvider(m_unionpay.get());
        m_service->start();
    }

    void cleanup()
    {
        m_endpoint.reset();
        m_service.reset();
        m_alipay.reset();
        m_wechat.reset();
        m_unionpay.reset();
        m_transport.reset();
        m_sandbox.reset();
        m_reader.reset();
        m_biller.reset();
        m_store.reset();
        m_dir.reset();
    }

    // P1/P2 and Appendix C: the QR comes from the provider, the phone pays, the notification
    // credits the account exactly once and queues the meter's recharge.
    void notifyCreditsOnce_data()
    {
        QTest::addColumn<int>("channel");
        QTest::newRow("alipay") << int(Channel::Alipay);
        QTest::newRow("wechat") << int(Channel::WeChat);
        QTest::newRow("unionpay") << int(Channel::UnionPay);
    }
    void notifyCreditsOnce()
    {
        QFETCH(int, channel);
        // Polling slow enough that the notification is what credits.
        PaymentSchedule slow;
        slow.firstQueryMs = 60000;
        m_service->setSchedule(slow);
        const Attempt attempt = createTopUp(Channel(channel), 5000, QStringLiteral("k-notify"));
        QCOMPARE(stateOf(attempt.id), QStringLiteral("qr_issued"));
        QVERIFY2(attempt.qrPayload.startsWith(m_sandbox->baseUrl() + QStringLiteral("/pay/")), qPrintable(attempt.qrPayload));
        QCOMPARE(credits(attempt.id), 0);
        pay(Channel(channel), attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        QCOMPARE(credits(attempt.id), 1);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_events WHERE verification = 'valid' "
                                      "AND outcome = 'credited' AND payment_attempt_id = %1")
                           .arg(attempt.id)),
            1);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE kind = 'recharge' "
                                      "AND idempotency_key LIKE 'recharge:attempt:%1:%'")
                           .arg(attempt.id)),
            count(QStringLiteral("SELECT count(*) FROM account_metering_points ap JOIN meter_installations i "
                                 "ON i.metering_point_id = ap.metering_point_id AND i.removed_at_ms IS NULL JOIN meters m "
                                 "ON m.id = i.meter_id JOIN accounts a ON a.id = ap.account_id WHERE a.shop_no = 'A-1F-105' "
                                 "AND m.capability = 'prepaid' AND ap.unlinked_at_ms IS NULL")));
        // The same key and request again: the same attempt, no second QR.
        const Attempt again = createTopUp(Channel(channel), 5000, QStringLiteral("k-notify"));
        QCOMPARE(again.id, attempt.id);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM payment_attempts WHERE channel <> 'cash'")), 1);
    }

    // P3: notifications never arrive; the poller alone credits, once.
    void pollingAloneCredits()
    {
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("notify"), QStringLiteral("off")}});
        const Attempt attempt = createTopUp(Channel::WeChat, 10000, QStringLiteral("k-poll"));
        QCOMPARE(stateOf(attempt.id), QStringLiteral("qr_issued"));
        pay(Channel::WeChat, attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        QCOMPARE(credits(attempt.id), 1);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_events")), 0);
        QTest::qWait(1000); // further polls find it paid: nothing more
        QCOMPARE(credits(attempt.id), 1);
    }

    // Idempotency of the API's create: the same key with another request is refused.
    void sameKeyOtherRequestConflicts()
    {
        const Attempt first = createTopUp(Channel::Alipay, 5000, QStringLiteral("k-conflict"));
        QVERIFY(first.id > 0);
        QrTopUp other;
        other.shopNo = QStringLiteral("A-1F-105");
        other.amountFen = 6000;
        other.channel = Channel::Alipay;
        other.idempotencyKey = QStringLiteral("k-conflict");
        std::optional<CreateTopUpResult> result;
        m_service->createTopUp(other, [&result](const CreateTopUpResult &r) { result = r; });
        QTRY_VERIFY(result.has_value());
        QCOMPARE(result->outcome, CreateOutcome::Conflict);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM payment_attempts WHERE channel <> 'cash'")), 1);
    }

    // The same genuine notification 1,000 times in a row, then from 8 connections at once:
    // 1,000 + 800 success replies, exactly one credit. Then 1,000 forged copies: 0 credits,
    // 1,000 refusals and an alarm.
    void sameNotifyThousandTimes()
    {
        PaymentSchedule slow;
        slow.firstQueryMs = 600000;
        m_service->setSchedule(slow);
        const Attempt attempt = createTopUp(Channel::Alipay, 5000, QStringLiteral("k-replay"));
        pay(Channel::Alipay, attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        store::Statement s = m_reader->prepare(QStringLiteral(
            "SELECT body, body FROM provider_events WHERE outcome = 'credited' ORDER BY id LIMIT 1"));
        QVERIFY(s.step() == store::Statement::Step::Row);
        const QByteArray body = s.blob(1);
        s.reset(); // an unfinished statement would pin this reader's snapshot

        auto replay = [&](const QByteArray &payload, int copies, int connections) {
            int accepted = 0, refused = 0;
            int sent = 0;
            for (int wave = 0; wave < copies / connections; ++wave) {
                int waiting = connections;
                for (int c = 0; c < connections; ++c, ++sent) {
                    HttpCall call;
                    call.method = "POST";
                    call.url = QUrl(QStringLiteral("https://127.0.0.1:%1/notify/alipay").arg(m_endpoint->port()));
                    call.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
                    call.body = payload;
                    m_transport->send(call, [&](const HttpReply &r) {
                        (r.status == 200 && r.body == "success" ? accepted : refused)++;
                        --waiting;
                    });
                }
                if (!QTest::qWaitFor([&] { return waiting == 0; }, 20000))
                    break;
            }
            return std::pair<int, int>(accepted, refused);
        };
        const auto sequential = replay(body, 1000, 1);
        QCOMPARE(sequential.first, 1000);
        const auto concurrent = replay(body, 800, 8);
        QCOMPARE(concurrent.first, 800);
        QCOMPARE(credits(attempt.id), 1);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries e JOIN payment_attempts a ON a.id = e.payment_attempt_id "
                                 "WHERE e.kind = 'recharge' AND a.channel <> 'cash'")), 1);

        QByteArray forged = body;
        forged.replace("total_amount=50.00", "total_amount=500.00");
        QVERIFY(forged != body);
        const auto forgeries = replay(forged, 1000, 1);
        QCOMPARE(forgeries.first, 0);
        QCOMPARE(forgeries.second, 1000);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries e JOIN payment_attempts a ON a.id = e.payment_attempt_id "
                                 "WHERE e.kind = 'recharge' AND a.channel <> 'cash'")), 1);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_events WHERE verification = 'invalid'")), 1000);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'payment_unmatched' AND "
                                      "cleared_at_ms IS NULL AND subject_kind = 'system'")),
            1);
    }

    // H4: a correctly signed notification for another amount: disputed, alarm, never credited.
    void amountMismatchDisputes()
    {
        PaymentSchedule slow;
        slow.firstQueryMs = 600000;
        m_service->setSchedule(slow);
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("amount_mismatch_fen"), 1}});
        const Attempt attempt = createTopUp(Channel::WeChat, 5000, QStringLiteral("k-dispute"));
        pay(Channel::WeChat, attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("disputed"), 10000);
        QCOMPARE(credits(attempt.id), 0);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'payment_disputed' AND subject_id = %1")
                           .arg(attempt.id)),
            1);
    }

    // H12/T2: the kiosk gave up, the provider closed it... and a payment still got through:
    // credited once, flagged late.
    void lateSuccessAfterAbandon()
    {
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("late_success_after_close"), true}});
        const Attempt attempt = createTopUp(Channel::WeChat, 5000, QStringLiteral("k-late"));
        m_service->abandon(attempt.id);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("closed"), 10000);
        pay(Channel::WeChat, attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        QCOMPARE(credits(attempt.id), 1);
        const std::optional<Attempt> after = findAttempt(*m_reader, attempt.id);
        QVERIFY(after && after->late && after->flagged);
    }

    // T1: the notification comes before prepayd's first query: credited by it alone (no query
    // made), and what the kiosk asks next (topup.get reads the attempt) says paid.
    void notificationBeforeTheFirstQuery()
    {
        PaymentSchedule slow;
        slow.firstQueryMs = 60000;
        slow.tickMs = 100;
        m_service->setSchedule(slow);
        const Attempt attempt = createTopUp(Channel::Alipay, 3000, QStringLiteral("k-t1"));
        pay(Channel::Alipay, attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        const std::optional<Attempt> after = findAttempt(*m_reader, attempt.id);
        QVERIFY(after);
        QCOMPARE(after->queryCount, 0);
        QVERIFY(isPaid(after->state));
        QCOMPARE(credits(attempt.id), 1);
    }

    // T6: Alipay's cancel answers retry_flag=Y: prepayd cancels again, and the order is closed.
    void cancelRetried()
    {
        const QJsonObject faults
            = control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("alipay_cancel_retry"), true}});
        QCOMPARE(faults.value(QStringLiteral("_status")).toInt(), 200);
        const Attempt attempt = createTopUp(Channel::Alipay, 4000, QStringLiteral("k-t6-retry"));
        control("POST", QStringLiteral("/sandbox/scan"),
            {{QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), attempt.outTradeNo}});
        m_service->abandon(attempt.id);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("closed"), 10000);
        // The retry fault was used (the first cancel answered retry_flag=Y), and the order is dead.
        const QJsonObject now = control("POST", QStringLiteral("/sandbox/faults"), QJsonObject{});
        QCOMPARE(now.value(QStringLiteral("alipay_cancel_retry")).toBool(), false);
        const QJsonObject paid = control("POST", QStringLiteral("/sandbox/pay"),
            {{QStringLiteral("channel"), QStringLiteral("alipay")}, {QStringLiteral("out_trade_no"), attempt.outTradeNo}});
        QCOMPARE(paid.value(QStringLiteral("_status")).toInt(), 409);
        QCOMPARE(credits(attempt.id), 0);
    }

    // T6: the tenant paid a moment before the kiosk gave up; the notification is not in yet and
    // Alipay's cancel refunds the payment (action=refund, 冲正). Nothing is credited — not by the
    // final query (TRADE_CLOSED), not by the success notification that arrives after it.
    void cancelAfterPaymentRefundsIt()
    {
        PaymentSchedule slow;
        slow.firstQueryMs = 60000;
        slow.tickMs = 100;
        m_service->setSchedule(slow);
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("notify"), QStringLiteral("off")}});
        const qint64 walletBefore = count(QStringLiteral(
            "SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id WHERE a.shop_no = 'A-1F-105'"));
        const Attempt attempt = createTopUp(Channel::Alipay, 6000, QStringLiteral("k-t6-refund"));
        pay(Channel::Alipay, attempt);
        m_service->abandon(attempt.id);
        QTRY_VERIFY_WITH_TIMEOUT(findAttempt(*m_reader, attempt.id)->providerReversedAtMs > 0, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("closed"), 10000);
        const std::optional<Attempt> after = findAttempt(*m_reader, attempt.id);
        QVERIFY(after->flagged);
        // The success the provider reported before its cancel, arriving now: not credited.
        Trade stale;
        stale.outTradeNo = attempt.outTradeNo;
        stale.state = TradeState::Paid;
        stale.totalFen = attempt.amountFen;
        stale.providerTxnId = QStringLiteral("2026112422001400000000001");
        const qint64 now = m_clock.wallMs();
        const ApplyResult applied = m_store
                                        ->write([&](store::Transaction &tx) {
                                            return applyTrade(tx, *m_book, Channel::Alipay, stale, now);
                                        })
                                        .get()
                                        .value;
        QCOMPARE(applied.outcome, ApplyOutcome::NoChange);
        QCOMPARE(credits(attempt.id), 0);
        QCOMPARE(count(QStringLiteral(
                     "SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id WHERE a.shop_no = 'A-1F-105'")),
            walletBefore);
    }

    // T6, the other order: the success was credited before the cancel's answer (refunded) came:
    // the credit is reversed by a compensating entry, the attempt is refunded, the ledger holds.
    void cancelRefundAfterCreditReversesIt()
    {
        PaymentSchedule slow;
        slow.firstQueryMs = 60000;
        m_service->setSchedule(slow);
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("notify"), QStringLiteral("off")}});
        const QString walletSql = QStringLiteral(
            "SELECT w.balance_fen FROM ledger_accounts w JOIN accounts a ON a.id = w.account_id WHERE a.shop_no = 'A-1F-105'");
        const qint64 walletBefore = count(walletSql);
        const Attempt attempt = createTopUp(Channel::Alipay, 7000, QStringLiteral("k-t6-race"));
        pay(Channel::Alipay, attempt);
        Trade success;
        success.outTradeNo = attempt.outTradeNo;
        success.state = TradeState::Paid;
        success.totalFen = attempt.amountFen;
        success.providerTxnId = QStringLiteral("2026112422001400000000002");
        const qint64 now = m_clock.wallMs();
        QCOMPARE(m_store->write([&](store::Transaction &tx) { return applyTrade(tx, *m_book, Channel::Alipay, success, now); })
                     .get()
                     .value.outcome,
            ApplyOutcome::Credited);
        QCOMPARE(count(walletSql), walletBefore + 7000);
        const auto cancelled = [&] {
            return m_store->write([&](store::Transaction &tx) { return recordCancelRefunded(tx, *m_book, attempt.id, now); })
                .get();
        };
        const store::Written<ApplyResult> first = cancelled();
        QVERIFY(first.committed());
        QCOMPARE(first.value.outcome, ApplyOutcome::Updated);
        QCOMPARE(stateOf(attempt.id), QStringLiteral("refunded"));
        QCOMPARE(count(walletSql), walletBefore);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'reversal' AND idempotency_key = "
                                      "'cancel-refund:attempt:%1'").arg(attempt.id)),
            1);
        QCOMPARE(cancelled().value.outcome, ApplyOutcome::NoChange); // once
        const ledger::VerifyReport report = ledger::verifyLedger(*m_reader);
        QVERIFY(report.ok());
    }

    // T3: notifications (three copies each) and a fast poller race for the same payment: one credit.
    void notifyAndPollRace()
    {
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("duplicate_notifies"), 3}});
        const Attempt attempt = createTopUp(Channel::Alipay, 8000, QStringLiteral("k-race"));
        pay(Channel::Alipay, attempt);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        QTest::qWait(1500); // the remaining copies and polls arrive
        QCOMPARE(credits(attempt.id), 1);
        QVERIFY(count(QStringLiteral("SELECT count(*) FROM provider_events WHERE payment_attempt_id = %1").arg(attempt.id)) >= 2);
    }

    // T4: the provider applies the create, then answers 500: the attempt stays created, the
    // poller's query finds the order and the identical retry returns the same QR.
    void ambiguousCreateIsRetriedIdentically()
    {
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("http_5xx"), 1}});
        const Attempt attempt = createTopUp(Channel::WeChat, 5000, QStringLiteral("k-5xx"));
        QCOMPARE(attemptStateCode(attempt.state), QStringLiteral("created"));
        QVERIFY(attempt.qrPayload.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("qr_issued"), 10000);
        const QJsonObject orders = control("GET", QStringLiteral("/sandbox/orders"));
        QCOMPARE(orders.value(QStringLiteral("orders")).toArray().size(), 1); // one order at the provider
        pay(Channel::WeChat, findAttempt(*m_reader, attempt.id).value());
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        QCOMPARE(credits(attempt.id), 1);
    }

    // T7: the kiosk gives up on an order the phone has just paid: close is refused as paid, the
    // query that follows credits it once.
    // K2: Alipay in certificate mode. The sandbox signs with certificate 1, which we hold; then
    // Alipay rotates to certificate 2 before the tenant pays. With downloads on, the adapter
    // fetches it (alipay.open.app.alipaycert.download), checks that it chains to the root and
    // goes on: the payment is credited once, by the notification or — notifications off — by
    // the query, whose answer is signed with the new certificate too. With downloads off it
    // fails closed: nothing signed by certificate 2 is believed and nothing is credited, until
    // Alipay signs with a certificate we hold again — then the payment is credited, never lost.
    // A "rotated" certificate that does not chain to the Alipay root (rogue) is downloaded and
    // refused: the same as downloads off.
    void alipayCertificateRotation_data()
    {
        QTest::addColumn<bool>("download");
        QTest::addColumn<bool>("notify");
        QTest::addColumn<QString>("next");
        QTest::newRow("fetched, notification") << true << true << QStringLiteral("2");
        QTest::newRow("fetched, polling alone") << true << false << QStringLiteral("2");
        QTest::newRow("downloads off: fails closed") << false << true << QStringLiteral("2");
        QTest::newRow("not under the root: fails closed") << true << true << QStringLiteral("rogue");
    }
    void alipayCertificateRotation()
    {
        QFETCH(bool, download);
        QFETCH(bool, notify);
        QFETCH(QString, next);
        const bool trusted = download && next == u"2";
        const auto fault = [this](const QString &name, const QString &value) {
            const QJsonObject set = control("POST", QStringLiteral("/sandbox/faults"), QJsonObject{{name, value}});
            QVERIFY2(set.value(QStringLiteral("_status")).toInt() == 200, QJsonDocument(set).toJson().constData());
        };
        fault(QStringLiteral("alipay_cert"), QStringLiteral("1"));
        if (!notify)
            fault(QStringLiteral("notify"), QStringLiteral("off"));
        AlipayConfig config = test::sandboxAlipayCertificates(m_sandbox->baseUrl(), m_notifyBase);
        config.downloadCertificates = download;
        QString error;
        std::unique_ptr<Provider> certificateMode = loadAlipay(config, *m_transport, m_clock, &error);
        QVERIFY2(certificateMode, qPrintable(error));
        m_service->setProvider(certificateMode.get());
        m_alipay = std::move(certificateMode); // nothing was in flight on the public-key one

        const Attempt attempt = createTopUp(Channel::Alipay, 6600, QStringLiteral("k2-%1-%2").arg(download).arg(notify));
        QVERIFY(attempt.id > 0);
        QCOMPARE(stateOf(attempt.id), QStringLiteral("qr_issued")); // answered under certificate 1

        fault(QStringLiteral("alipay_cert"), next);
        pay(Channel::Alipay, attempt);
        if (trusted) {
            QTRY_COMPARE_WITH_TIMEOUT(credits(attempt.id), 1, 15000);
            QCOMPARE(stateOf(attempt.id), QStringLiteral("credited"));
            QTest::qWait(1500); // more queries (and notification copies) answer under certificate 2
            QCOMPARE(credits(attempt.id), 1);
            return;
        }
        QTest::qWait(3000); // notification copies and queries, all signed by the certificate we lack
        QCOMPARE(credits(attempt.id), 0);
        QVERIFY(stateOf(attempt.id) != QStringLiteral("credited"));
        const QJsonArray log = control("GET", QStringLiteral("/sandbox/notifies")).value(QStringLiteral("notifies")).toArray();
        QVERIFY(!log.isEmpty());
        for (const QJsonValue &entry : log)
            QVERIFY(!entry.toObject().value(QStringLiteral("acknowledged")).toBool());
        fault(QStringLiteral("alipay_cert"), QStringLiteral("1"));
        QTRY_COMPARE_WITH_TIMEOUT(credits(attempt.id), 1, 15000);
    }

    void closeOfPaidOrderCredits()
    {
        PaymentSchedule slow;
        slow.firstQueryMs = 600000;
        m_service->setSchedule(slow);
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("notify"), QStringLiteral("off")}});
        const Attempt attempt = createTopUp(Channel::WeChat, 5000, QStringLiteral("k-close-paid"));
        pay(Channel::WeChat, attempt);
        QCOMPARE(stateOf(attempt.id), QStringLiteral("qr_issued"));
        m_service->abandon(attempt.id);
        QTRY_COMPARE_WITH_TIMEOUT(stateOf(attempt.id), QStringLiteral("credited"), 10000);
        QCOMPARE(credits(attempt.id), 1);
    }
};

QTEST_GUILESS_MAIN(TestPayFlow)
#include "tst_payflow.moc"
