// Refunds of QR top-ups to the payer, end to end on real parts: a real SQLite store seeded with
// the demo building, the real Alipay / WeChat Pay / UnionPay adapters over real TLS, the
// PaymentService and its NotifyEndpoint (the top-ups are really paid through the sandbox), the
// RefundService, against the provider sandbox in process. Between the adapters and the network
// sits a transport that can lose a refund call before it leaves (a network failure) or swallow it
// for good (prepayd stopping mid-call); every call it passes on reaches the real sandbox.
#include "accounts/takeover.h"
#include "api/clock.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "payments/alipay.h"
#include "payments/counter.h"
#include "payments/notifyendpoint.h"
#include "payments/payhttp.h"
#include "payments/paymentservice.h"
#include "payments/refunds.h"
#include "payments/refundservice.h"
#include "payments/unionpay.h"
#include "payments/wechatpay.h"
#include "sandboxcontrol.h"
#include "sandboxmerchant.h"
#include "sim/pay/paysandbox.h"
#include "staff/approvals.h"
#include "staff/staffsettings.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

using namespace prepay;
using namespace prepay::payments;

namespace {

QString keyFile(const QString &name)
{
    return test::sandboxKeyFile(name);
}

// The business content of a refund call as it went on the wire: WeChat's JSON body; Alipay's
// biz_content (raw, still form-encoded). Empty for any other call.
QByteArray refundBusiness(const HttpCall &call)
{
    if (call.method == "POST" && call.url.path() == u"/v3/refund/domestic/refunds")
        return call.body;
    if (call.url.path() != u"/gateway.do")
        return {};
    QByteArray method, biz;
    for (const QByteArray &pair : call.body.split('&')) {
        const qsizetype eq = pair.indexOf('=');
        if (eq < 0)
            continue;
        if (pair.left(eq) == "method")
            method = pair.mid(eq + 1);
        else if (pair.left(eq) == "biz_content")
            biz = pair.mid(eq + 1);
    }
    return method == "alipay.trade.refund" ? biz : QByteArray();
}

// Passes every call to the real transport, except refund calls the test asks it to lose:
// `drop` fails them before they leave (the provider never sees them; the adapter hears a
// transport failure), `hold` keeps them forever (sent nowhere, never answered: prepayd stopped
// mid-call). Records every call it is given.
class LossyTransport final : public Transport
{
public:
    explicit LossyTransport(Transport &inner)
        : m_inner(inner)
    { }

    void send(const HttpCall &call, std::function<void(const HttpReply &)> done) override
    {
        calls.append(call);
        if (!refundBusiness(call).isEmpty()) {
            if (drop > 0) {
                --drop;
                HttpReply failed;
                failed.transport = HttpReply::Transport::Failed;
                failed.error = QStringLiteral("connection reset (lost by the test)");
                QTimer::singleShot(0, [done, failed] { done(failed); });
                return;
            }
            if (hold > 0) {
                --hold;
                held.append(std::move(done));
                return;
            }
        }
        m_inner.send(call, std::move(done));
    }

    QList<QByteArray> refundBodies() const
    {
        QList<QByteArray> bodies;
        for (const HttpCall &c : calls) {
            if (const QByteArray b = refundBusiness(c); !b.isEmpty())
                bodies << b;
        }
        return bodies;
    }

    QList<HttpCall> calls;
    int drop = 0;
    int hold = 0;
    QList<std::function<void(const HttpReply &)>> held;

private:
    Transport &m_inner;
};

HttpHeaders headersFromJson(const QString &text)
{
    HttpHeaders headers;
    for (const QJsonValue &pair : QJsonDocument::fromJson(text.toUtf8()).array()) {
        const QJsonArray p = pair.toArray();
        headers.append({p.at(0).toString().toLatin1(), p.at(1).toString().toLatin1()});
    }
    return headers;
}

} // namespace

class TestRefunds : public QObject
{
    Q_OBJECT

    SystemClock m_clock;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Connection> m_reader;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    staff::StaffSettings m_settings;
    std::unique_ptr<sim::pay::PaySandbox> m_sandbox;
    std::unique_ptr<NetworkTransport> m_transport;
    std::unique_ptr<LossyTransport> m_lossy;
    std::unique_ptr<Provider> m_alipay, m_wechat, m_unionpay;
    std::unique_ptr<PaymentService> m_payments;
    std::unique_ptr<NotifyEndpoint> m_endpoint;
    std::unique_ptr<RefundService> m_refunds;
    const qint64 m_maker = 7;   // asks for refunds
    const qint64 m_checker = 8; // the second person

    static RefundSchedule fastSchedule()
    {
        RefundSchedule fast;
        fast.tickMs = 100;
        fast.firstQueryMs = 300;
        fast.queryEveryMs = 300;
        return fast;
    }

    void startRefundService(const RefundSchedule &schedule = fastSchedule())
    {
        m_refunds = std::make_unique<RefundService>(*m_store, *m_biller, m_clock);
        m_refunds->setSchedule(schedule);
        m_refunds->setProvider(m_alipay.get());
        m_refunds->setProvider(m_wechat.get());
        m_refunds->setProvider(m_unionpay.get());
        m_refunds->start();
    }

    // The sandbox's control API.
    QJsonObject control(const QByteArray &method, const QString &path, const QJsonObject &body = {})
    {
        return test::sandboxControl(*m_transport, m_sandbox->baseUrl(), method, path, body);
    }

    // The sandbox's own record of the refunds of one order.
    QJsonArray providerRefunds(const QString &outTradeNo)
    {
        for (const QJsonValue &o : control("GET", QStringLiteral("/sandbox/orders")).value(QStringLiteral("orders")).toArray()) {
            if (o.toObject().value(QStringLiteral("out_trade_no")).toString() == outTradeNo)
                return o.toObject().value(QStringLiteral("refunds")).toArray();
        }
        return {};
    }

    qint64 count(const QString &sql)
    {
        store::SqlError error;
        const qint64 n = m_reader->queryInt(sql, &error);
        return error.ok() ? n : -1;
    }
    QString attemptState(qint64 attemptId)
    {
        const std::optional<Attempt> a = findAttempt(*m_reader, attemptId);
        return a ? attemptStateCode(a->state) : QString();
    }
    QString refundState(qint64 refundId)
    {
        const std::optional<Refund> r = findRefund(*m_reader, refundId);
        return r ? refundStatusCode(r->status) : QString();
    }
    qint64 wallet(const QString &shopNo)
    {
        return count(QStringLiteral("SELECT l.balance_fen FROM ledger_accounts l JOIN accounts a ON l.code = 'wallet:' || a.id "
                                    "WHERE a.shop_no = '%1' AND a.status = 'open'")
                         .arg(shopNo));
    }
    qint64 payable() { return count(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE code = 'refunds:payable'")); }
    // Everything a refund must leave behind, whatever happened (the test's invariants).
    QString moneyProblems()
    {
        const ledger::VerifyReport report = ledger::verifyLedger(*m_reader);
        if (!report.ok())
            return report.violations.isEmpty() ? report.error
                                               : report.violations.first().code + QStringLiteral(": ") + report.violations.first().message;
        if (payable() != count(QStringLiteral("SELECT coalesce(sum(amount_fen), 0) FROM refunds "
                                              "WHERE state IN ('pending_approval', 'approved', 'submitted')")))
            return QStringLiteral("refunds:payable is not the refunds still under way");
        if (count(QStringLiteral(
                "SELECT count(*) FROM refunds r WHERE r.channel <> 'cash' AND ("
                "(SELECT count(*) FROM ledger_entries WHERE idempotency_key = 'refund:' || r.id || ':request') <> 1 OR "
                "(SELECT count(*) FROM ledger_entries WHERE idempotency_key = 'refund:' || r.id || ':paid') "
                "<> (r.state = 'succeeded') OR "
                "(SELECT count(*) FROM ledger_entries WHERE idempotency_key = 'refund:' || r.id || ':reversal') "
                "<> (r.state IN ('failed', 'rejected')))"))
            != 0)
            return QStringLiteral("a refund's ledger entries do not match its state");
        if (count(QStringLiteral(
                "SELECT count(*) FROM payment_attempts a JOIN (SELECT payment_attempt_id AS id, sum(amount_fen) AS done "
                "FROM refunds WHERE state = 'succeeded' GROUP BY payment_attempt_id) s ON s.id = a.id "
                "WHERE a.state <> CASE WHEN s.done >= a.amount_fen THEN 'refunded' ELSE 'partially_refunded' END"))
            != 0)
            return QStringLiteral("an attempt's state does not match its refunds");
        return {};
    }
    // The rows a refused request must not have touched.
    QString footprint()
    {
        return QStringLiteral("%1/%2/%3/%4/%5/%6")
            .arg(count(QStringLiteral("SELECT count(*) FROM refunds")))
            .arg(count(QStringLiteral("SELECT count(*) FROM ledger_entries")))
            .arg(count(QStringLiteral("SELECT count(*) FROM approvals")))
            .arg(count(QStringLiteral("SELECT count(*) FROM meter_commands")))
            .arg(count(QStringLiteral("SELECT coalesce(sum(balance_fen * id), 0) FROM ledger_accounts")))
            .arg(count(QStringLiteral("SELECT coalesce(sum(length(state) * id), 0) FROM payment_attempts")));
    }

    Attempt createTopUp(Channel channel, qint64 fen, const QString &key, const QString &shop)
    {
        QrTopUp request;
        request.shopNo = shop;
        request.amountFen = fen;
        request.channel = channel;
        request.idempotencyKey = key;
        std::optional<CreateTopUpResult> result;
        m_payments->createTopUp(request, [&result](const CreateTopUpResult &r) { result = r; });
        if (!QTest::qWaitFor([&] { return result.has_value(); }, 15000))
            return {};
        return result->attempt;
    }

    // A QR top-up really paid through the sandbox and credited.
    Attempt paid(Channel channel, qint64 fen, const QString &key, const QString &shop = QStringLiteral("A-1F-105"))
    {
        const Attempt attempt = createTopUp(channel, fen, key, shop);
        if (attempt.id == 0)
            return {};
        const QJsonObject who{{QStringLiteral("channel"), channelCode(channel)},
            {QStringLiteral("out_trade_no"), attempt.outTradeNo}};
        control("POST", QStringLiteral("/sandbox/scan"), who);
        control("POST", QStringLiteral("/sandbox/pay"), who);
        if (!QTest::qWaitFor([&] { return attemptState(attempt.id) == u"credited"; }, 10000))
            return {};
        return findAttempt(*m_reader, attempt.id).value_or(Attempt());
    }

    RefundRequestResult ask(qint64 attemptId, qint64 fen, const QString &key, qint64 operatorId = 7,
        const QString &reason = QStringLiteral("the tenant moves out"))
    {
        RefundAsk refund;
        refund.attemptId = attemptId;
        refund.amountFen = fen;
        refund.reason = reason;
        refund.operatorId = operatorId;
        refund.idempotencyKey = key;
        const qint64 now = m_clock.wallMs();
        std::shared_ptr<const billing::TariffBook> book = m_biller->book();
        const staff::StaffSettings settings = m_settings;
        store::Written<RefundRequestResult> written = m_store
                                                          ->write([&](store::Transaction &tx) {
                                                              return requestRefund(tx, *book, settings, refund, now);
                                                          })
                                                          .get();
        if (written.status == store::WriteStatus::Failed)
            written.value.message = written.error.toString();
        if (m_refunds && written.committed())
            m_refunds->wake();
        return written.value;
    }

    // The ledger debited by hand: stands for energy used since the top-up.
    void spend(const QString &shop, qint64 keepFen)
    {
        const qint64 now = m_clock.wallMs();
        const qint64 fen = wallet(shop) - keepFen;
        QVERIFY(fen > 0);
        const auto written = m_store
                                 ->write([&](store::Transaction &tx) {
                                     store::Statement s = tx.prepare(QStringLiteral(
                                         "SELECT id FROM accounts WHERE shop_no = ?1 AND status = 'open'"));
                                     s.bind(1, shop);
                                     s.step();
                                     ledger::LedgerWriter ledger(tx, now);
                                     return ledger.adjust(s.int64(0), Money::fromFen(-fen),
                                         QStringLiteral("test:spend:%1:%2").arg(shop).arg(now), m_maker,
                                         QStringLiteral("energy used since the top-up (test)"));
                                 })
                                 .get();
        QVERIFY(written.committed() && written.value.outcome == ledger::PostOutcome::Posted);
        QCOMPARE(wallet(shop), keepFen);
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
        QVERIFY(m_store
                    ->write([seededMs](store::Transaction &tx) {
                        // The maker and the checker (fixtures: nobody logs in here).
                        tx.db().exec(QStringLiteral(
                            "INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, "
                            "password_params, created_at_ms, updated_at_ms) VALUES "
                            "(7, 'li.ming', 'Li Ming', 'operator', zeroblob(32), zeroblob(16), 'none', 0, 0), "
                            "(8, 'wang.fang', 'Wang Fang', 'admin', zeroblob(32), zeroblob(16), 'none', 0, 0)"));
                        accounts::takeOverMeterBalances(tx, seededMs);
                    })
                    .get()
                    .committed());
        m_reader = m_store->openReader();
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM operators")), 2);
        m_book = std::make_shared<billing::TariffBook>();
        QString error;
        QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
        m_biller = std::make_unique<billing::Biller>(m_book);
        const std::optional<staff::StaffSettings> settings = staff::loadStaffSettings(*m_reader, &error);
        QVERIFY2(settings, qPrintable(error));
        m_settings = *settings;
        QCOMPARE(m_settings.approvalMoneyThresholdFen, 50000); // the seed's: refunds above 500.00 need two people

        const sim::pay::PaySandboxConfig sandbox = test::sandboxConfig(0.0005);
        m_sandbox = std::make_unique<sim::pay::PaySandbox>(sandbox);
        QVERIFY2(m_sandbox->start(&error), qPrintable(error));
        m_transport = NetworkTransport::create(keyFile(QStringLiteral("tls-ca.pem")), &error);
        QVERIFY2(m_transport, qPrintable(error));
        m_lossy = std::make_unique<LossyTransport>(*m_transport);

        m_payments = std::make_unique<PaymentService>(*m_store, *m_biller, m_clock);
        PaymentSchedule fast;
        fast.tickMs = 100;
        fast.firstQueryMs = 300;
        fast.secondQueryMs = 300;
        fast.queryEveryMs = 300;
        m_payments->setSchedule(fast);
        m_endpoint = std::make_unique<NotifyEndpoint>(*m_payments);
        QVERIFY2(m_endpoint->setTls(keyFile(QStringLiteral("tls-server.pem")), keyFile(QStringLiteral("tls-server.key")), &error),
            qPrintable(error));
        QVERIFY2(m_endpoint->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        const QString notify = QStringLiteral("https://127.0.0.1:%1/notify/").arg(m_endpoint->port());
        const QString base = m_sandbox->baseUrl();

        AlipayConfig alipay = test::sandboxAlipay(base, notify);
        alipay.timeoutMs = 1500; // a local sandbox answers in milliseconds; its timeout fault holds 3 s
        m_alipay = loadAlipay(alipay, *m_lossy, m_clock, &error);
        QVERIFY2(m_alipay, qPrintable(error));

        WechatConfig wechat = test::sandboxWechat(base, notify);
        wechat.timeoutMs = 1500;
        m_wechat = loadWechat(wechat, *m_lossy, m_clock, &error);
        QVERIFY2(m_wechat, qPrintable(error));

        m_unionpay = loadUnionPay(test::sandboxUnionPay(base, notify), *m_lossy, m_clock, &error);
        QVERIFY2(m_unionpay, qPrintable(error));

        m_payments->setProvider(m_alipay.get());
        m_payments->setProvider(m_wechat.get());
        m_payments->setProvider(m_unionpay.get());
        m_payments->start();
        startRefundService();
    }

    void cleanup()
    {
        m_refunds.reset();
        m_endpoint.reset();
        m_payments.reset();
        if (m_lossy)
            m_lossy->held.clear();
        m_alipay.reset();
        m_wechat.reset();
        m_unionpay.reset();
        m_lossy.reset();
        m_transport.reset();
        m_sandbox.reset();
        m_reader.reset();
        m_biller.reset();
        m_store.reset();
        m_dir.reset();
    }

    // A paid top-up refunded in two parts through its provider: each part succeeds once at the
    // provider, the wallet pays for it at the request, the attempt goes partially_refunded →
    // refunded, the channel's clearing account ends where it started, the ledger stays balanced.
    void partThenRest_data()
    {
        QTest::addColumn<int>("channel");
        QTest::newRow("alipay") << int(Channel::Alipay);
        QTest::newRow("wechat") << int(Channel::WeChat);
    }
    void partThenRest()
    {
        QFETCH(int, channel);
        const Attempt attempt = paid(Channel(channel), 10000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        const qint64 before = wallet(QStringLiteral("A-1F-105"));
        const QString clearing = QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE code = 'clearing:%1'")
                                     .arg(ledger::channelCode(channel == int(Channel::Alipay) ? ledger::Channel::Alipay
                                                                                             : ledger::Channel::Wechat));
        QCOMPARE(count(clearing), -10000);

        const RefundRequestResult first = ask(attempt.id, 3000, QStringLiteral("k-r1"));
        QVERIFY2(first.outcome == RefundRequestOutcome::Requested, qPrintable(first.message));
        QVERIFY2(QRegularExpression(QStringLiteral("^R[0-9]{10}[A-Z0-9]{9}$")).match(first.refund.outRefundNo).hasMatch(),
            qPrintable(first.refund.outRefundNo));
        QCOMPARE(first.refund.status, RefundStatus::Approved); // 30.00 is below the approval threshold
        QCOMPARE(first.balance.fen(), before - 3000);           // paid by the wallet at the request
        QCOMPARE(first.leftFen, 7000);
        QVERIFY(!first.metersHoldingBalance.isEmpty()); // A-1F-105's meter holds its own balance: named
        QTRY_COMPARE_WITH_TIMEOUT(refundState(first.refund.id), QStringLiteral("succeeded"), 10000);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("partially_refunded"));
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before - 3000);
        QCOMPARE(count(clearing), -7000);
        QCOMPARE(payable(), 0);
        QJsonArray atProvider = providerRefunds(attempt.outTradeNo);
        QCOMPARE(atProvider.size(), 1);
        QCOMPARE(atProvider.at(0).toObject().value(QStringLiteral("request_no")).toString(), first.refund.outRefundNo);
        QCOMPARE(atProvider.at(0).toObject().value(QStringLiteral("amount_fen")).toInteger(), 3000);
        QCOMPARE(moneyProblems(), QString());

        const RefundRequestResult rest = ask(attempt.id, 7000, QStringLiteral("k-r2"));
        QVERIFY2(rest.outcome == RefundRequestOutcome::Requested, qPrintable(rest.message));
        QVERIFY(rest.refund.outRefundNo != first.refund.outRefundNo);
        QCOMPARE(rest.leftFen, 0);
        QTRY_COMPARE_WITH_TIMEOUT(refundState(rest.refund.id), QStringLiteral("succeeded"), 10000);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("refunded"));
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before - 10000);
        QCOMPARE(count(clearing), 0);
        atProvider = providerRefunds(attempt.outTradeNo);
        QCOMPARE(atProvider.size(), 2);
        QCOMPARE(moneyProblems(), QString());
        QCOMPARE(m_lossy->refundBodies().size(), 2); // one call each: no retry was needed

        // Nothing is left: one more fen is refused, and nothing is written.
        const QString footprintBefore = footprint();
        const RefundRequestResult more = ask(attempt.id, 1, QStringLiteral("k-r3"));
        QCOMPARE(more.outcome, RefundRequestOutcome::NotRefundable);
        QVERIFY2(more.message.contains(QStringLiteral("refunded")), qPrintable(more.message));
        QCOMPARE(footprint(), footprintBefore);
    }

    // The staff client sends the same request twice (a retry after a lost reply): one refund,
    // one ledger debit, one refund at the provider. The same key for another amount: refused.
    void sameKeyTwiceIsOneRefund()
    {
        const Attempt attempt = paid(Channel::WeChat, 5000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        const qint64 before = wallet(QStringLiteral("A-1F-105"));
        const RefundRequestResult first = ask(attempt.id, 2000, QStringLiteral("k-same"));
        QVERIFY2(first.outcome == RefundRequestOutcome::Requested, qPrintable(first.message));
        const RefundRequestResult again = ask(attempt.id, 2000, QStringLiteral("k-same"));
        QCOMPARE(again.outcome, RefundRequestOutcome::Duplicate);
        QCOMPARE(again.refund.id, first.refund.id);
        QCOMPARE(again.refund.outRefundNo, first.refund.outRefundNo);
        QTRY_COMPARE_WITH_TIMEOUT(refundState(first.refund.id), QStringLiteral("succeeded"), 10000);
        const RefundRequestResult late = ask(attempt.id, 2000, QStringLiteral("k-same")); // after it succeeded
        QCOMPARE(late.outcome, RefundRequestOutcome::Duplicate);
        QCOMPARE(late.refund.status, RefundStatus::Succeeded);

        const QString footprintBefore = footprint();
        const RefundRequestResult other = ask(attempt.id, 2500, QStringLiteral("k-same"));
        QCOMPARE(other.outcome, RefundRequestOutcome::Conflict);
        QCOMPARE(footprint(), footprintBefore);

        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM refunds")), 1);
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before - 2000);
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 1);
        QCOMPARE(moneyProblems(), QString());
    }

    // Every refusal is named and writes nothing: more than is left of the attempt, more than the
    // wallet holds (energy used), nothing or less, no reason, an unknown attempt or operator, a
    // cash sale, an attempt not paid.
    void refusalsWriteNothing()
    {
        const QString shop = QStringLiteral("A-2F-201");
        const Attempt attempt = paid(Channel::Alipay, 5000, QStringLiteral("k-pay"), shop);
        QVERIFY(attempt.id > 0);
        const RefundRequestResult part = ask(attempt.id, 1000, QStringLiteral("k-part"));
        QVERIFY2(part.ok(), qPrintable(part.message));
        const Attempt open = createTopUp(Channel::WeChat, 3000, QStringLiteral("k-open"), shop);
        QCOMPARE(attemptStateCode(open.state), QStringLiteral("qr_issued"));
        const qint64 now = m_clock.wallMs();
        std::shared_ptr<const billing::TariffBook> book = m_biller->book();
        const auto cash = m_store
                              ->write([&](store::Transaction &tx) {
                                  CashTopUp sale;
                                  sale.shopNo = shop;
                                  sale.amount = Money::fromFen(10000);
                                  sale.idempotencyKey = QStringLiteral("k-cash");
                                  sale.operatorId = m_maker;
                                  return creditCash(tx, *book, sale, now);
                              })
                              .get();
        QVERIFY(cash.committed() && cash.value.outcome == TopUpOutcome::Credited);
        QTRY_COMPARE_WITH_TIMEOUT(refundState(part.refund.id), QStringLiteral("succeeded"), 10000);

        struct Case
        {
            qint64 attemptId;
            qint64 fen;
            qint64 operatorId;
            QString reason;
            RefundRequestOutcome expected;
            QString says;
        };
        const QList<Case> cases{
            {attempt.id, 4001, m_maker, QStringLiteral("r"), RefundRequestOutcome::ExceedsAttempt, QStringLiteral("4000 fen left")},
            {attempt.id, 0, m_maker, QStringLiteral("r"), RefundRequestOutcome::Invalid, QStringLiteral("amount_fen")},
            {attempt.id, -100, m_maker, QStringLiteral("r"), RefundRequestOutcome::Invalid, QStringLiteral("amount_fen")},
            {attempt.id, 100, m_maker, QStringLiteral("  "), RefundRequestOutcome::Invalid, QStringLiteral("reason")},
            {attempt.id, 100, m_maker, QString(201, QLatin1Char('x')), RefundRequestOutcome::Invalid, QStringLiteral("reason")},
            {attempt.id, 100, 99, QStringLiteral("r"), RefundRequestOutcome::NotFound, QStringLiteral("operator 99")},
            {999999, 100, m_maker, QStringLiteral("r"), RefundRequestOutcome::NotFound, QStringLiteral("attempt 999999")},
            {cash.value.attemptId, 100, m_maker, QStringLiteral("r"), RefundRequestOutcome::NotRefundable, QStringLiteral("cash")},
            {open.id, 100, m_maker, QStringLiteral("r"), RefundRequestOutcome::NotRefundable, QStringLiteral("qr_issued")},
        };
        const QString footprintBefore = footprint();
        int i = 0;
        for (const Case &c : cases) {
            const RefundRequestResult r = ask(c.attemptId, c.fen, QStringLiteral("k-refused-%1").arg(i++), c.operatorId, c.reason);
            QVERIFY2(r.outcome == c.expected,
                qPrintable(QStringLiteral("case %1: %2 %3").arg(i).arg(refundRequestOutcomeCode(r.outcome), r.message)));
            QVERIFY2(r.message.contains(c.says), qPrintable(r.message));
            QCOMPARE(footprint(), footprintBefore);
        }
        // The same key as the refund made, with another amount: a conflict, not a second refund.
        QCOMPARE(ask(attempt.id, 1500, QStringLiteral("k-part")).outcome, RefundRequestOutcome::Conflict);
        QCOMPARE(footprint(), footprintBefore);

        // Energy used since: the wallet holds 25.00, 30.00 of the attempt is asked back.
        spend(shop, 2500);
        const QString drained = footprint();
        const RefundRequestResult tooMuch = ask(attempt.id, 3000, QStringLiteral("k-wallet"));
        QCOMPARE(tooMuch.outcome, RefundRequestOutcome::ExceedsBalance);
        QVERIFY2(tooMuch.message.contains(QStringLiteral("25.00")) && tooMuch.message.contains(QStringLiteral("energy already used")),
            qPrintable(tooMuch.message));
        QCOMPARE(footprint(), drained);
        QCOMPARE(wallet(shop), 2500);
        QCOMPARE(moneyProblems(), QString());
    }

    // The wallet went down: the control policy runs as after a credit. Refunding all that is
    // left takes A-2F-201 (AUTO, no overdraft, no friendly hours) to 0: a relay trip is queued
    // and its id returned for the poller, and the arrears alarm is raised.
    void refundRunsControlPolicy()
    {
        const QString shop = QStringLiteral("A-2F-201");
        // The poller's last look at the shop's meter (no poller runs here): closed, in AUTO.
        const qint64 seen = m_clock.wallMs();
        QVERIFY(m_store
                    ->write([&](store::Transaction &tx) {
                        store::Statement s = tx.prepare(QStringLiteral(
                            "INSERT INTO meter_state (meter_id, relay_state, relay_mode, trip_reason, comm_state, "
                            "comm_state_since_ms, consecutive_failures, updated_at_ms) "
                            "SELECT i.meter_id, 'closed', 'auto', 'none', 'online', ?2, 0, ?2 FROM meter_installations i "
                            "JOIN account_metering_points ap ON ap.metering_point_id = i.metering_point_id "
                            "AND ap.unlinked_at_ms IS NULL JOIN accounts a ON a.id = ap.account_id AND a.status = 'open' "
                            "WHERE a.shop_no = ?1 AND i.removed_at_ms IS NULL "
                            "ON CONFLICT (meter_id) DO UPDATE SET relay_state = 'closed', relay_mode = 'auto'"));
                        s.bind(1, shop).bind(2, seen);
                        return s.run().ok() && tx.db().changes() == 1;
                    })
                    .get()
                    .value);
        const Attempt attempt = paid(Channel::WeChat, 5000, QStringLiteral("k-pay"), shop);
        QVERIFY(attempt.id > 0);
        spend(shop, 3000);
        const qint64 tripsBefore = count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE kind = 'relay_trip'"));
        const RefundRequestResult all = ask(attempt.id, 3000, QStringLiteral("k-all"));
        QVERIFY2(all.outcome == RefundRequestOutcome::Requested, qPrintable(all.message));
        QCOMPARE(all.balance.fen(), 0);
        QVERIFY(!all.commandIds.isEmpty());
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands WHERE kind = 'relay_trip'")), tripsBefore + 1);
        const QString ofShop = QStringLiteral(
            "FROM account_metering_points ap JOIN accounts a ON a.id = ap.account_id AND a.status = 'open' "
            "WHERE a.shop_no = '%1' AND ap.unlinked_at_ms IS NULL").arg(shop);
        const qint64 trip = count(QStringLiteral("SELECT max(c.id) FROM meter_commands c JOIN meter_installations i ON "
                                                 "i.meter_id = c.meter_id AND i.removed_at_ms IS NULL WHERE c.kind = 'relay_trip' "
                                                 "AND i.metering_point_id IN (SELECT ap.metering_point_id %1)")
                                      .arg(ofShop));
        QVERIFY(trip > 0);
        QVERIFY(all.commandIds.contains(trip)); // returned for the poller
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'arrears' AND cleared_at_ms IS NULL "
                                      "AND subject_kind = 'metering_point' AND subject_id IN (SELECT ap.metering_point_id %1)")
                           .arg(ofShop)),
            1);
        QTRY_COMPARE_WITH_TIMEOUT(refundState(all.refund.id), QStringLiteral("succeeded"), 10000);
        QCOMPARE(moneyProblems(), QString());
    }

    // The provider's answer is lost after it made the refund (5xx, or a timeout), and no refund
    // notification comes: the driver asks again about the SAME out_refund_no — never a new one —
    // and exactly one refund results.
    void lostAnswerSameRefund_data()
    {
        QTest::addColumn<int>("channel");
        QTest::addColumn<QString>("fault");
        QTest::newRow("alipay 5xx") << int(Channel::Alipay) << QStringLiteral("http_5xx");
        QTest::newRow("wechat 5xx") << int(Channel::WeChat) << QStringLiteral("http_5xx");
        QTest::newRow("alipay timeout") << int(Channel::Alipay) << QStringLiteral("timeout_ms");
        QTest::newRow("wechat timeout") << int(Channel::WeChat) << QStringLiteral("timeout_ms");
    }
    void lostAnswerSameRefund()
    {
        QFETCH(int, channel);
        QFETCH(QString, fault);
        const Attempt attempt = paid(Channel(channel), 8000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        const QJsonObject faults = control("POST", QStringLiteral("/sandbox/faults"),
            fault == u"http_5xx"
                ? QJsonObject{{fault, 1}, {QStringLiteral("notify"), QStringLiteral("off")}}
                : QJsonObject{{fault, 3000}, {QStringLiteral("timeout_calls"), 1}, {QStringLiteral("notify"), QStringLiteral("off")}});
        QCOMPARE(faults.value(QStringLiteral("_status")).toInt(), 200);
        const qsizetype callsBefore = m_lossy->calls.size();
        const RefundRequestResult r = ask(attempt.id, 5000, QStringLiteral("k-lost"));
        QVERIFY2(r.outcome == RefundRequestOutcome::Requested, qPrintable(r.message));
        QTRY_COMPARE_WITH_TIMEOUT(refundState(r.refund.id), QStringLiteral("succeeded"), 15000);
        const Refund done = findRefund(*m_reader, r.refund.id).value();
        QVERIFY2(done.queryCount >= 1, "the unknown outcome was settled by a query");
        // Every call about this refund named the same out_refund_no; none named another.
        int aboutIt = 0;
        for (qsizetype i = callsBefore; i < m_lossy->calls.size(); ++i) {
            const HttpCall &c = m_lossy->calls.at(i);
            const QByteArray wire = c.url.toEncoded() + c.body;
            if (wire.contains(done.outRefundNo.toLatin1()))
                ++aboutIt;
            QVERIFY(!QRegularExpression(QStringLiteral("R[0-9]{10}[A-Z0-9]{9}"))
                         .match(QString::fromLatin1(wire).remove(done.outRefundNo))
                         .hasMatch());
        }
        QVERIFY(aboutIt >= 2); // the refund call and at least one query
        const QJsonArray atProvider = providerRefunds(attempt.outTradeNo);
        QCOMPARE(atProvider.size(), 1);
        QCOMPARE(atProvider.at(0).toObject().value(QStringLiteral("request_no")).toString(), done.outRefundNo);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("partially_refunded"));
        QCOMPARE(moneyProblems(), QString());
    }

    // The refund call never reached the provider (the connection failed on the way): the query
    // finds no such refund, so the driver sends the identical call again — same out_refund_no,
    // byte-identical business content — and one refund results.
    void lostCallIsSentAgainIdentically_data()
    {
        QTest::addColumn<int>("channel");
        QTest::newRow("alipay") << int(Channel::Alipay);
        QTest::newRow("wechat") << int(Channel::WeChat);
    }
    void lostCallIsSentAgainIdentically()
    {
        QFETCH(int, channel);
        const Attempt attempt = paid(Channel(channel), 6000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        m_lossy->drop = 1;
        const RefundRequestResult r = ask(attempt.id, 6000, QStringLiteral("k-drop"));
        QVERIFY2(r.outcome == RefundRequestOutcome::Requested, qPrintable(r.message));
        QTRY_COMPARE_WITH_TIMEOUT(refundState(r.refund.id), QStringLiteral("succeeded"), 15000);
        const QList<QByteArray> bodies = m_lossy->refundBodies();
        QCOMPARE(bodies.size(), 2);
        QCOMPARE(bodies.at(1), bodies.at(0));
        QVERIFY(bodies.at(0).contains(r.refund.outRefundNo.toLatin1()));
        const Refund done = findRefund(*m_reader, r.refund.id).value();
        QCOMPARE(done.submitCount, 2);
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 1);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("refunded"));
        QCOMPARE(moneyProblems(), QString());
    }

    // prepayd stops while a refund call is on its way (it never arrives) and while another
    // refund is approved but not yet sent: the next start takes both up and finishes them, each
    // once at the provider.
    void restartTakesRefundsUp()
    {
        const Attempt attempt = paid(Channel::WeChat, 9000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        m_lossy->hold = 1;
        const RefundRequestResult inFlight = ask(attempt.id, 4000, QStringLiteral("k-a"));
        QVERIFY2(inFlight.ok(), qPrintable(inFlight.message));
        QTRY_COMPARE_WITH_TIMEOUT(m_lossy->held.size(), 1, 10000);
        QCOMPARE(refundState(inFlight.refund.id), QStringLiteral("submitted")); // recorded before the call
        m_refunds.reset(); // prepayd stops; the call is never answered
        const RefundRequestResult waiting = ask(attempt.id, 3000, QStringLiteral("k-b"));
        QVERIFY2(waiting.ok(), qPrintable(waiting.message));
        QTest::qWait(300);
        QCOMPARE(refundState(waiting.refund.id), QStringLiteral("approved"));
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 0);

        RefundSchedule slow = fastSchedule();
        slow.tickMs = 60000; // only start() may take them up
        startRefundService(slow);
        QTRY_COMPARE_WITH_TIMEOUT(refundState(waiting.refund.id), QStringLiteral("succeeded"), 10000);
        // The lost one: queried, not found at the provider, sent again identically.
        QTRY_VERIFY_WITH_TIMEOUT(findRefund(*m_reader, inFlight.refund.id)->providerAnswer == u"not_found"
                || refundState(inFlight.refund.id) == u"succeeded",
            10000);
        m_refunds->wake();
        QTRY_COMPARE_WITH_TIMEOUT(refundState(inFlight.refund.id), QStringLiteral("succeeded"), 10000);
        const QJsonArray atProvider = providerRefunds(attempt.outTradeNo);
        QCOMPARE(atProvider.size(), 2);
        QStringList numbers;
        for (const QJsonValue &v : atProvider)
            numbers << v.toObject().value(QStringLiteral("request_no")).toString();
        numbers.sort();
        QStringList ours{inFlight.refund.outRefundNo, waiting.refund.outRefundNo};
        ours.sort();
        QCOMPARE(numbers, ours);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("partially_refunded"));
        QCOMPARE(moneyProblems(), QString());
    }

    // Above the threshold a second person decides. Nothing goes to the provider meanwhile; the
    // maker cannot approve their own; a rejection puts the money back in the wallet (a reversal);
    // an approval sends it.
    void approvalDecides()
    {
        const Attempt attempt = paid(Channel::WeChat, 80000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        const qint64 before = wallet(QStringLiteral("A-1F-105"));
        const RefundRequestResult asked = ask(attempt.id, 60000, QStringLiteral("k-big"));
        QVERIFY2(asked.outcome == RefundRequestOutcome::Requested, qPrintable(asked.message));
        QCOMPARE(asked.refund.status, RefundStatus::PendingApproval);
        QVERIFY(asked.approvalId > 0);
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before - 60000); // held while it waits
        QCOMPARE(payable(), 60000);
        const std::optional<staff::Approval> approval = staff::loadApproval(*m_reader, asked.approvalId);
        QVERIFY(approval);
        QCOMPARE(approval->kind, staff::ApprovalKind::Refund);
        QVERIFY(isProviderRefund(approval->payload));
        QVERIFY(!approval->payload.contains(QStringLiteral("shop_no")));
        QTest::qWait(500);
        QCOMPARE(refundState(asked.refund.id), QStringLiteral("pending_approval"));
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 0);

        const auto decide = [&](qint64 approvalId, qint64 decider, bool approve) {
            const qint64 now = m_clock.wallMs();
            std::shared_ptr<const billing::TariffBook> book = m_biller->book();
            return m_store
                ->write([&](store::Transaction &tx) {
                    // What approval.decide does: staff::decide, then the refund, then executed.
                    RefundDecisionResult result;
                    const staff::DecideResult d = staff::decide(
                        tx, approvalId, decider, approve ? staff::Decision::Approve : staff::Decision::Reject, QString(), now);
                    if (d.outcome != staff::DecideOutcome::Approved && d.outcome != staff::DecideOutcome::Rejected) {
                        tx.rollback(staff::decideOutcomeCode(d.outcome));
                        result.outcome = RefundDecisionOutcome::NotPending;
                        result.message = staff::decideOutcomeCode(d.outcome);
                        return result;
                    }
                    result = decideRefund(tx, *book, approvalId, approve, decider, now);
                    if (approve && result.outcome == RefundDecisionOutcome::Approved)
                        staff::markExecuted(tx, approvalId, now);
                    return result;
                })
                .get()
                .value;
        };
        QCOMPARE(decide(asked.approvalId, m_maker, true).message, QStringLiteral("self_approval"));
        QCOMPARE(refundState(asked.refund.id), QStringLiteral("pending_approval"));

        const RefundDecisionResult rejected = decide(asked.approvalId, m_checker, false);
        QVERIFY2(rejected.outcome == RefundDecisionOutcome::Rejected, qPrintable(rejected.message));
        QCOMPARE(refundState(asked.refund.id), QStringLiteral("rejected"));
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before); // the money is back
        QCOMPARE(rejected.balance.fen(), before);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'reversal' AND operator_id = %1 "
                                      "AND approval_id = %2")
                           .arg(m_checker)
                           .arg(asked.approvalId)),
            1);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("credited"));
        QCOMPARE(decide(asked.approvalId, m_checker, true).outcome, RefundDecisionOutcome::NotPending);
        QCOMPARE(moneyProblems(), QString());

        // The rejected refund gave its share back: the same amount may be asked again.
        const RefundRequestResult again = ask(attempt.id, 60000, QStringLiteral("k-big-2"));
        QVERIFY2(again.outcome == RefundRequestOutcome::Requested, qPrintable(again.message));
        const RefundDecisionResult approved = decide(again.approvalId, m_checker, true);
        QVERIFY2(approved.outcome == RefundDecisionOutcome::Approved, qPrintable(approved.message));
        QCOMPARE(staff::loadApproval(*m_reader, again.approvalId)->state, staff::ApprovalState::Executed);
        m_refunds->wake();
        QTRY_COMPARE_WITH_TIMEOUT(refundState(again.refund.id), QStringLiteral("succeeded"), 10000);
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 1);
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before - 60000);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("partially_refunded"));
        QCOMPARE(moneyProblems(), QString());
    }

    // An approval nobody will decide (withdrawn by its maker): the driver's sweep gives the
    // money back; nothing reaches the provider.
    void lapsedApprovalGivesMoneyBack()
    {
        const Attempt attempt = paid(Channel::Alipay, 70000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        const qint64 before = wallet(QStringLiteral("A-1F-105"));
        const RefundRequestResult asked = ask(attempt.id, 55000, QStringLiteral("k-big"));
        QVERIFY2(asked.outcome == RefundRequestOutcome::Requested, qPrintable(asked.message));
        QCOMPARE(asked.refund.status, RefundStatus::PendingApproval);
        const qint64 now = m_clock.wallMs();
        QCOMPARE(m_store->write([&](store::Transaction &tx) { return staff::cancelApproval(tx, asked.approvalId, m_maker, now); })
                     .get()
                     .value,
            staff::CancelOutcome::Cancelled);
        QTRY_COMPARE_WITH_TIMEOUT(refundState(asked.refund.id), QStringLiteral("rejected"), 10000);
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before);
        QVERIFY2(findRefund(*m_reader, asked.refund.id)->lastError.contains(QStringLiteral("cancelled")),
            qPrintable(findRefund(*m_reader, asked.refund.id)->lastError));
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 0);
        QCOMPARE(moneyProblems(), QString());
    }

    // A definite refusal by the provider (the order was refunded on the merchant platform in the
    // meantime, so nothing is left there): failed, the money back in the wallet, an alarm.
    void definiteFailureGivesMoneyBack_data()
    {
        QTest::addColumn<int>("channel");
        QTest::newRow("alipay") << int(Channel::Alipay);
        QTest::newRow("wechat") << int(Channel::WeChat);
    }
    void definiteFailureGivesMoneyBack()
    {
        QFETCH(int, channel);
        const Attempt attempt = paid(Channel(channel), 5000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        Provider &provider = channel == int(Channel::Alipay) ? *m_alipay : *m_wechat;
        RefundRequest portal;
        portal.trade.outTradeNo = attempt.outTradeNo;
        portal.trade.createdAtMs = attempt.createdAtMs;
        portal.outRefundNo = QStringLiteral("PORTAL0000000001");
        portal.refundFen = 5000;
        portal.totalFen = 5000;
        std::optional<RefundResult> byHand;
        provider.refund(portal, [&byHand](const RefundResult &r) { byHand = r; });
        QTRY_VERIFY(byHand.has_value());
        QCOMPARE(byHand->outcome, Outcome::Ok);

        const qint64 before = wallet(QStringLiteral("A-1F-105"));
        const RefundRequestResult r = ask(attempt.id, 2000, QStringLiteral("k-fail"));
        QVERIFY2(r.outcome == RefundRequestOutcome::Requested, qPrintable(r.message));
        QTRY_COMPARE_WITH_TIMEOUT(refundState(r.refund.id), QStringLiteral("failed"), 10000);
        QCOMPARE(wallet(QStringLiteral("A-1F-105")), before);
        QVERIFY(!findRefund(*m_reader, r.refund.id)->lastError.isEmpty());
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'payment_unmatched' "
                                      "AND subject_kind = 'payment_attempt' AND subject_id = %1 AND cleared_at_ms IS NULL")
                           .arg(attempt.id)),
            1);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("credited"));
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 1); // the portal's only
        QCOMPARE(m_lossy->refundBodies().size(), 2);           // the portal's and ours, never sent again
        QCOMPARE(moneyProblems(), QString());
    }

    // A refund notification (WeChat REFUND.SUCCESS, Alipay's notice with refund_fee): the payment
    // service's notification path applies it through applyRefund — the refund succeeds once, by
    // the notification alone (the driver does not ask); the same notification applied again
    // changes nothing.
    void notificationAppliesOnce_data()
    {
        QTest::addColumn<int>("channel");
        QTest::newRow("alipay") << int(Channel::Alipay);
        QTest::newRow("wechat") << int(Channel::WeChat);
    }
    void notificationAppliesOnce()
    {
        QFETCH(int, channel);
        RefundSchedule patient = fastSchedule();
        patient.firstQueryMs = 600000; // the driver will not ask: only the notification can tell
        startRefundService(patient);
        const Attempt attempt = paid(Channel(channel), 4000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("http_5xx"), 1}});
        const RefundRequestResult r = ask(attempt.id, 1500, QStringLiteral("k-notify"));
        QVERIFY2(r.outcome == RefundRequestOutcome::Requested, qPrintable(r.message));
        // The refund call's answer is lost (5xx): only the notification can tell.
        // The sandbox made it and notified; the payment service stored the notification raw and
        // applied it.
        QTRY_COMPARE_WITH_TIMEOUT(refundState(r.refund.id), QStringLiteral("succeeded"), 10000);
        QCOMPARE(findRefund(*m_reader, r.refund.id)->queryCount, 0);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("partially_refunded"));
        QTRY_COMPARE_WITH_TIMEOUT(
            count(QStringLiteral("SELECT count(*) FROM provider_events WHERE outcome = 'refund: succeeded'")), 1, 10000);
        store::Statement s = m_reader->prepare(QStringLiteral(
            "SELECT headers, body FROM provider_events WHERE outcome = 'refund: succeeded' ORDER BY id LIMIT 1"));
        QVERIFY(s.step() == store::Statement::Step::Row);
        NotifyRequest request;
        request.method = "POST";
        request.headers = headersFromJson(s.text(0));
        request.body = s.blob(1);
        s.reset();
        const Provider &provider = channel == int(Channel::Alipay) ? *m_alipay : *m_wechat;
        const Notification notification = provider.readNotification(request, m_clock.wallMs());
        QCOMPARE(notification.verdict, NotifyVerdict::Valid);
        QCOMPARE(notification.kind, Notification::Kind::Refund);
        QCOMPARE(notification.refund.outRefundNo, r.refund.outRefundNo);

        const auto apply = [&]() {
            const qint64 now = m_clock.wallMs();
            std::shared_ptr<const billing::TariffBook> book = m_biller->book();
            return m_store
                ->write([&](store::Transaction &tx) {
                    return applyRefund(tx, *book, Channel(channel), notification.refund, now);
                })
                .get()
                .value;
        };
        const RefundApplyResult again = apply();
        QCOMPARE(again.outcome, RefundApplyOutcome::AlreadyDone);
        QCOMPARE(refundState(r.refund.id), QStringLiteral("succeeded"));
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries WHERE idempotency_key = 'refund:%1:paid'")
                           .arg(r.refund.id)),
            1);
        // A notice for a refund that is not ours: named, nothing written.
        RefundResult stranger = notification.refund;
        stranger.outRefundNo = QStringLiteral("R9999999999ZZZZZZZZZ");
        const qint64 now = m_clock.wallMs();
        std::shared_ptr<const billing::TariffBook> book = m_biller->book();
        QCOMPARE(m_store->write([&](store::Transaction &tx) { return applyRefund(tx, *book, Channel(channel), stranger, now); })
                     .get()
                     .value.outcome,
            RefundApplyOutcome::UnknownRefund);
        QCOMPARE(providerRefunds(attempt.outTradeNo).size(), 1);
        QCOMPARE(moneyProblems(), QString());
    }

    // UnionPay: our adapter does not refund, so the request is refused at once, clearly.
    void unionPayIsRefused()
    {
        const Attempt attempt = paid(Channel::UnionPay, 5000, QStringLiteral("k-pay"));
        QVERIFY(attempt.id > 0);
        const QString footprintBefore = footprint();
        const RefundRequestResult r = ask(attempt.id, 1000, QStringLiteral("k-up"));
        QCOMPARE(r.outcome, RefundRequestOutcome::NotSupported);
        QVERIFY2(r.message.contains(QStringLiteral("UnionPay")), qPrintable(r.message));
        QCOMPARE(footprint(), footprintBefore);
        QCOMPARE(attemptState(attempt.id), QStringLiteral("credited"));
    }
};

QTEST_GUILESS_MAIN(TestRefunds)
#include "tst_refunds.moc"
