// The daily reconciliation (对账) on real parts: a real SQLite store seeded with the demo
// building, the real adapters over real TLS, the PaymentService that takes the payments, and the
// Reconciler downloading each provider's real bill format (Alipay's zip of GBK CSV, WeChat Pay's
// back-ticked trade bill with its SHA-1) from the provider sandbox in process. Payments are made
// through the sandbox's control API (the "phone"); the bill of "today" (Beijing) is the one
// reconciled, since the sandbox's orders are all of today.
//
// (The target is tst_payreconcile: tests/unit already has a tst_reconcile, the meter ↔ ledger one.)
#include "accounts/lifecycle.h"
#include "accounts/takeover.h"
#include "api/clock.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "commands/commandstore.h"
#include "ledger/verify.h"
#include "manualclock.h"
#include "payments/alipay.h"
#include "payments/notifyendpoint.h"
#include "payments/payhttp.h"
#include "payments/paymentservice.h"
#include "payments/reconciler.h"
#include "payments/refunds.h"
#include "payments/unionpay.h"
#include "payments/wechatpay.h"
#include "sandboxcontrol.h"
#include "sandboxmerchant.h"
#include "sim/pay/paysandbox.h"
#include "staff/staffsettings.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimeZone>
#include <QtTest/QtTest>

using namespace prepay;
using namespace prepay::payments;

namespace {

QString keyFile(const QString &name)
{
    return test::sandboxKeyFile(name);
}

QDate beijingToday()
{
    return beijingDate(QDateTime::currentMSecsSinceEpoch());
}

} // namespace

class TestReconcile : public QObject
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
    std::unique_ptr<Reconciler> m_reconciler;
    int m_keys = 0;

    QJsonObject control(const QByteArray &method, const QString &path, const QJsonObject &body = {})
    {
        return test::sandboxControl(*m_transport, m_sandbox->baseUrl(), method, path, body);
    }

    qint64 count(const QString &sql)
    {
        store::SqlError error;
        const qint64 n = m_reader->queryInt(sql, &error);
        return error.ok() ? n : -1;
    }
    qint64 credits(qint64 attemptId)
    {
        return count(
            QStringLiteral("SELECT count(*) FROM ledger_entries WHERE kind = 'recharge' AND payment_attempt_id = %1")
                .arg(attemptId));
    }
    QString stateOf(qint64 attemptId)
    {
        const std::optional<Attempt> a = findAttempt(*m_reader, attemptId);
        return a ? attemptStateCode(a->state) : QString();
    }
    qint64 findingsCount() { return count(QStringLiteral("SELECT count(*) FROM payment_findings")); }
    qint64 openAlarm(int subject)
    {
        return count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'payment_unmatched' AND subject_kind = "
                                    "'system' AND subject_id = %1 AND cleared_at_ms IS NULL")
                         .arg(subject));
    }

    Attempt createTopUp(Channel channel, qint64 fen)
    {
        QrTopUp request;
        request.shopNo = QStringLiteral("A-1F-105");
        request.amountFen = fen;
        request.channel = channel;
        request.idempotencyKey = QStringLiteral("k-%1").arg(++m_keys);
        std::optional<CreateTopUpResult> result;
        m_service->createTopUp(request, [&result](const CreateTopUpResult &r) { result = r; });
        if (!QTest::qWaitFor([&] { return result.has_value(); }, 15000))
            return {};
        return result->attempt;
    }

    bool pay(Channel channel, const Attempt &attempt)
    {
        const QJsonObject who{
            {QStringLiteral("channel"), channelCode(channel)}, {QStringLiteral("out_trade_no"), attempt.outTradeNo}};
        control("POST", QStringLiteral("/sandbox/scan"), who);
        return control("POST", QStringLiteral("/sandbox/pay"), who).value(QStringLiteral("_status")).toInt() == 200;
    }

    // A top-up paid through the sandbox and credited through its notification.
    Attempt paidAndCredited(Channel channel, qint64 fen)
    {
        const Attempt attempt = createTopUp(channel, fen);
        if (attempt.id == 0 || !pay(channel, attempt))
            return {};
        if (!QTest::qWaitFor([&] { return stateOf(attempt.id) == u"credited"; }, 10000))
            return {};
        return *findAttempt(*m_reader, attempt.id);
    }

    DayResult reconcile(Channel channel, QDate day = beijingToday())
    {
        std::optional<DayResult> result;
        m_reconciler->reconcileDay(channel, day, [&result](const DayResult &r) { result = r; });
        if (!QTest::qWaitFor([&] { return result.has_value(); }, 20000)) {
            DayResult none;
            none.message = QStringLiteral("no answer from the reconciler");
            return none;
        }
        return *result;
    }

    QList<Finding> findings(std::optional<FindingKind> kind = std::nullopt)
    {
        FindingFilter filter;
        filter.kind = kind;
        return listFindings(*m_reader, filter);
    }

    std::unique_ptr<Provider> &adapter(Channel channel)
    {
        return channel == Channel::Alipay ? m_alipay : channel == Channel::WeChat ? m_wechat : m_unionpay;
    }

    // The two channels with a bill download (the data of most slots).
    static void channelRows()
    {
        QTest::addColumn<int>("channel");
        QTest::newRow("alipay") << int(Channel::Alipay);
        QTest::newRow("wechat") << int(Channel::WeChat);
    }

private Q_SLOTS:
    void initTestCase()
    {
        // The sandbox's bill of a day holds what was paid that day (Beijing): keep a run clear of
        // midnight, so every payment of a slot falls on the day it reconciles.
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const qint64 toMidnight = beijingDayMs(beijingDate(now)).second - now;
        if (toMidnight < 60000)
            QTest::qWait(int(toMidnight) + 1000);
    }

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

        const sim::pay::PaySandboxConfig sandbox = test::sandboxConfig(0.0005);
        m_sandbox = std::make_unique<sim::pay::PaySandbox>(sandbox);
        QVERIFY2(m_sandbox->start(&error), qPrintable(error));
        m_transport = NetworkTransport::create(keyFile(QStringLiteral("tls-ca.pem")), &error);
        QVERIFY2(m_transport, qPrintable(error));

        // Notifications credit; the poller is slow enough never to run within a slot.
        m_service = std::make_unique<PaymentService>(*m_store, *m_biller, m_clock);
        PaymentSchedule slow;
        slow.tickMs = 100;
        slow.firstQueryMs = 600000;
        m_service->setSchedule(slow);
        m_endpoint = std::make_unique<NotifyEndpoint>(*m_service);
        QVERIFY2(m_endpoint->setTls(
                     keyFile(QStringLiteral("tls-server.pem")), keyFile(QStringLiteral("tls-server.key")), &error),
            qPrintable(error));
        QVERIFY2(m_endpoint->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        const QString notify = QStringLiteral("https://127.0.0.1:%1/notify/").arg(m_endpoint->port());
        const QString base = m_sandbox->baseUrl();

        m_alipay = loadAlipay(test::sandboxAlipay(base, notify), *m_transport, m_clock, &error);
        QVERIFY2(m_alipay, qPrintable(error));
        m_wechat = loadWechat(test::sandboxWechat(base, notify), *m_transport, m_clock, &error);
        QVERIFY2(m_wechat, qPrintable(error));
        m_unionpay = loadUnionPay(test::sandboxUnionPay(base, notify), *m_transport, m_clock, &error);
        QVERIFY2(m_unionpay, qPrintable(error));

        for (Provider *p : {m_alipay.get(), m_wechat.get(), m_unionpay.get()})
            m_service->setProvider(p);
        m_service->start();
        m_reconciler = std::make_unique<Reconciler>(*m_store, *m_biller, m_clock);
        for (Provider *p : {m_alipay.get(), m_wechat.get(), m_unionpay.get()})
            m_reconciler->setProvider(p);
    }

    void cleanup()
    {
        m_reconciler.reset();
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

    // Two payments credited through their notifications: the bill agrees row for row, the totals
    // agree, nothing is found and no alarm is open. The same day again stores no second bill,
    // finds nothing and credits nothing.
    void allAgree_data() { channelRows(); }
    void allAgree()
    {
        QFETCH(int, channel);
        const Channel ch = Channel(channel);
        const Attempt a = paidAndCredited(ch, 5000);
        const Attempt b = paidAndCredited(ch, 12345);
        QVERIFY(a.id > 0 && b.id > 0);

        const DayResult first = reconcile(ch);
        QCOMPARE(first.outcome, DayOutcome::Reconciled);
        QVERIFY2(first.summary.billStored, qPrintable(first.message));
        QCOMPARE(first.summary.rows, 2);
        QCOMPARE(first.summary.paymentRows, 2);
        QCOMPARE(first.summary.matched, 2);
        QCOMPARE(first.summary.newFindings, 0);
        QCOMPARE(first.summary.billPaidFen, 17345);
        QCOMPARE(first.summary.creditedFen, 17345);
        QVERIFY(first.summary.toConfirm.isEmpty());
        QCOMPARE(findingsCount(), 0);
        QCOMPARE(openAlarm(3), 0);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_bills WHERE channel = '%1' AND bill_date = '%2' "
                                      "AND rows = 2 AND length(raw) > 0")
                           .arg(channelCode(ch), beijingToday().toString(Qt::ISODate))),
            1);
        const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));

        const DayResult again = reconcile(ch);
        QCOMPARE(again.outcome, DayOutcome::Reconciled);
        QVERIFY(!again.summary.billStored);
        QCOMPARE(again.summary.matched, 2);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_bills")), 1);
        QCOMPARE(findingsCount(), 0);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
        QVERIFY(ledger::verifyLedger(*m_reader).ok());
    }

    // A bill row the sandbox never had an order for (P5): unknown_in_bill, nothing credited,
    // the alarm for staff; the paid one still matches. listFindings shows it to staff.
    void unknownInBill_data() { channelRows(); }
    void unknownInBill()
    {
        QFETCH(int, channel);
        const Channel ch = Channel(channel);
        QVERIFY(paidAndCredited(ch, 5000).id > 0);
        const QString stranger = QStringLiteral("PFOREIGN0000000000001");
        QCOMPARE(control("POST", QStringLiteral("/sandbox/bill/extra"),
                     {{QStringLiteral("channel"), channelCode(ch)}, {QStringLiteral("out_trade_no"), stranger},
                         {QStringLiteral("amount_fen"), 777}})
                     .value(QStringLiteral("_status"))
                     .toInt(),
            200);
        const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));

        const DayResult result = reconcile(ch);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.rows, 2);
        QCOMPARE(result.summary.matched, 1);
        QCOMPARE(result.summary.count(FindingKind::UnknownInBill), 1);
        QCOMPARE(result.summary.newFindings, 1);
        QCOMPARE(result.summary.billPaidFen, 5777);
        QCOMPARE(result.summary.creditedFen, 5000);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
        QCOMPARE(openAlarm(3), 1);

        const QList<Finding> found = findings();
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.first().kind, FindingKind::UnknownInBill);
        QCOMPARE(found.first().outTradeNo, stranger);
        QCOMPARE(found.first().attemptId, 0);
        QCOMPARE(found.first().channel, ch);
        QCOMPARE(found.first().billDate, beijingToday());
        QCOMPARE(found.first().detail.value(QStringLiteral("bill_fen")).toInteger(), 777);
        QVERIFY2(found.first().action.contains(QStringLiteral("never issued")), qPrintable(found.first().action));
        QCOMPARE(found.first().settledAtMs, 0);
        // The filters: another channel, another kind, a range of days without it.
        FindingFilter other;
        other.channel = ch == Channel::Alipay ? Channel::WeChat : Channel::Alipay;
        QCOMPARE(listFindings(*m_reader, other).size(), 0);
        FindingFilter kind;
        kind.kind = FindingKind::AmountMismatch;
        QCOMPARE(listFindings(*m_reader, kind).size(), 0);
        FindingFilter before;
        before.to = beijingToday().addDays(-1);
        QCOMPARE(listFindings(*m_reader, before).size(), 0);
        FindingFilter open;
        open.openOnly = true;
        open.channel = ch;
        open.from = beijingToday();
        QCOMPARE(listFindings(*m_reader, open).size(), 1);

        // Again: nothing added (the sandbox gives the extra row a new trade number each time).
        const DayResult again = reconcile(ch);
        QCOMPARE(again.outcome, DayOutcome::Reconciled);
        QCOMPARE(again.summary.newFindings, 0);
        QCOMPARE(again.summary.count(FindingKind::UnknownInBill), 1);
        QCOMPARE(findingsCount(), 1);
    }

    // A payment the service never heard of (notifications off, the poller not due): the bill
    // says paid → provider_paid_not_credited; the confirming query credits it once, late and
    // flagged, and settles the finding. A second run adds no row and no credit.
    void paidNotCreditedIsConfirmed_data() { channelRows(); }
    void paidNotCreditedIsConfirmed()
    {
        QFETCH(int, channel);
        const Channel ch = Channel(channel);
        QVERIFY(paidAndCredited(ch, 3000).id > 0);
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("notify"), QStringLiteral("off")}});
        const Attempt silent = createTopUp(ch, 8800);
        QVERIFY(pay(ch, silent));
        QTest::qWait(300);
        QCOMPARE(stateOf(silent.id), QStringLiteral("qr_issued"));
        QCOMPARE(credits(silent.id), 0);

        const DayResult result = reconcile(ch);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.matched, 1);
        QCOMPARE(result.summary.count(FindingKind::ProviderPaidNotCredited), 1);
        QCOMPARE(result.summary.toConfirm, QList<qint64>{silent.id});
        QCOMPARE(result.summary.creditedFen, 3000); // before the confirmation
        QCOMPARE(result.confirmed.size(), 1);
        QCOMPARE(result.confirmed.first().outcome, ConfirmResult::Outcome::Credited);
        QCOMPARE(result.creditedLate, 1);
        QVERIFY(!result.confirmed.first().commandIds.isEmpty()); // the meter's recharge job

        QCOMPARE(stateOf(silent.id), QStringLiteral("credited"));
        QCOMPARE(credits(silent.id), 1);
        const Attempt after = *findAttempt(*m_reader, silent.id);
        QVERIFY(after.late);
        QVERIFY(after.flagged);
        QVERIFY2(after.flagReason.contains(QStringLiteral("reconciliation")), qPrintable(after.flagReason));
        const QList<Finding> found = findings(FindingKind::ProviderPaidNotCredited);
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.first().attemptId, silent.id);
        QVERIFY(found.first().settledAtMs > 0);
        QCOMPARE(found.first().settledBy, 0);
        QVERIFY2(found.first().action.contains(QStringLiteral("credited it late")), qPrintable(found.first().action));
        QCOMPARE(result.openFindings, 0);
        QCOMPARE(openAlarm(3), 0);
        QVERIFY(ledger::verifyLedger(*m_reader).ok());

        const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));
        const qint64 rows = findingsCount();
        const DayResult again = reconcile(ch);
        QCOMPARE(again.outcome, DayOutcome::Reconciled);
        QCOMPARE(again.summary.matched, 2);
        QCOMPARE(again.summary.newFindings, 0);
        QVERIFY(again.confirmed.isEmpty());
        QCOMPARE(again.summary.creditedFen, 11800);
        QCOMPARE(findingsCount(), rows);
        QCOMPARE(credits(silent.id), 1);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
    }

    // The confirming query does not find it paid (the bill is ahead of the query, or wrong):
    // nothing is credited, the finding stays open for staff with what the query said.
    void paidInBillButQueryDisagrees()
    {
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("notify"), QStringLiteral("off")}});
        const Attempt waiting = createTopUp(Channel::WeChat, 4200);
        QVERIFY(waiting.id > 0);
        // The bill shows this out_trade_no paid, the provider's order is not (never paid).
        control("POST", QStringLiteral("/sandbox/bill/extra"),
            {{QStringLiteral("channel"), QStringLiteral("wechat")},
                {QStringLiteral("out_trade_no"), waiting.outTradeNo}, {QStringLiteral("amount_fen"), 4200}});
        const DayResult result = reconcile(Channel::WeChat);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.count(FindingKind::ProviderPaidNotCredited), 1);
        QCOMPARE(result.confirmed.size(), 1);
        QCOMPARE(result.confirmed.first().outcome, ConfirmResult::Outcome::NotPaid);
        QCOMPARE(credits(waiting.id), 0);
        QCOMPARE(stateOf(waiting.id), QStringLiteral("qr_issued"));
        const QList<Finding> found = findings(FindingKind::ProviderPaidNotCredited);
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.first().settledAtMs, 0);
        QVERIFY2(
            found.first().action.contains(QStringLiteral("query answers waiting")), qPrintable(found.first().action));
        QCOMPARE(openAlarm(3), 1);
    }

    // A credited attempt whose meter recharge job failed (the command store's own transition):
    // meter_not_recharged names the meter, the money stays in the wallet.
    void meterJobFailed_data() { channelRows(); }
    void meterJobFailed()
    {
        QFETCH(int, channel);
        const Channel ch = Channel(channel);
        const Attempt a = paidAndCredited(ch, 6600);
        QVERIFY(a.id > 0);
        store::Statement job = m_reader->prepare(
            QStringLiteral("SELECT id FROM meter_commands WHERE kind = 'recharge' AND idempotency_key LIKE ?1"));
        job.bind(1, QStringLiteral("recharge:attempt:%1:meter:%").arg(a.id));
        QVERIFY(job.step() == store::Statement::Step::Row);
        const qint64 commandId = job.int64(0);
        job.reset();
        commands::CommandStore commandStore(*m_store, m_clock);
        QVERIFY(commandStore.markFailed(commandId, QStringLiteral("no answer from the meter after 5 attempts")));

        const DayResult result = reconcile(ch);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.matched, 0);
        QCOMPARE(result.summary.count(FindingKind::MeterNotRecharged), 1);
        QCOMPARE(result.summary.newFindings, 1);
        const QList<Finding> found = findings();
        QCOMPARE(found.size(), 1);
        QCOMPARE(found.first().kind, FindingKind::MeterNotRecharged);
        QCOMPARE(found.first().attemptId, a.id);
        const QJsonArray jobs = found.first().detail.value(QStringLiteral("jobs")).toArray();
        QCOMPARE(jobs.size(), 1);
        QCOMPARE(jobs.first().toObject().value(QStringLiteral("command_id")).toInteger(), commandId);
        QCOMPARE(jobs.first().toObject().value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
        QVERIFY2(found.first().action.contains(QStringLiteral("no answer from the meter")),
            qPrintable(found.first().action));
        QCOMPARE(credits(a.id), 1);
        QCOMPARE(openAlarm(3), 1);
    }

    // A job still queued is the poller's business until it is overdue; then it is a finding too.
    void meterJobOverdue()
    {
        const Attempt a = paidAndCredited(Channel::Alipay, 2500);
        QVERIFY(a.id > 0);
        QCOMPARE(reconcile(Channel::Alipay).summary.newFindings, 0);
        ReconcileSchedule schedule = m_reconciler->schedule();
        schedule.limits.meterJobOverdueMs = 1;
        m_reconciler->setSchedule(schedule);
        QTest::qWait(5);
        const DayResult result = reconcile(Channel::Alipay);
        QCOMPARE(result.summary.count(FindingKind::MeterNotRecharged), 1);
        QCOMPARE(findings()
                     .first()
                     .detail.value(QStringLiteral("jobs"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("state")),
            QStringLiteral("queued"));
    }

    // Our amount tampered with after the credit (test-only SQL): amount_mismatch with all three
    // amounts; nothing is credited or debited by the reconciliation.
    void amountMismatch_data() { channelRows(); }
    void amountMismatch()
    {
        QFETCH(int, channel);
        const Channel ch = Channel(channel);
        const Attempt a = paidAndCredited(ch, 5000);
        QVERIFY(a.id > 0);
        QVERIFY(m_store
                    ->write([id = a.id](store::Transaction &tx) {
                        tx.db().exec(
                            QStringLiteral("UPDATE payment_attempts SET amount_fen = 5100 WHERE id = %1").arg(id));
                    })
                    .get()
                    .committed());
        const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));
        const DayResult result = reconcile(ch);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.count(FindingKind::AmountMismatch), 1);
        QCOMPARE(result.summary.matched, 0);
        const Finding f = findings().first();
        QCOMPARE(f.kind, FindingKind::AmountMismatch);
        QCOMPARE(f.detail.value(QStringLiteral("bill_fen")).toInteger(), 5000);
        QCOMPARE(f.detail.value(QStringLiteral("attempt_fen")).toInteger(), 5100);
        QCOMPARE(f.detail.value(QStringLiteral("credited_fen")).toInteger(), 5000);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
        QCOMPARE(reconcile(ch).summary.newFindings, 0);
        QCOMPARE(findingsCount(), 1);
    }

    // The provider forgets a payment we credited (the sandbox reset): credited_not_in_bill, the
    // alarm, and the freeze (sql/0010): no refund of that payment and no closing of the account
    // until staff settle the finding; the wallet itself is untouched. Settling releases it and
    // clears the alarm; settling twice is refused; a later run does not freeze it again.
    void creditedNotInBill()
    {
        const Attempt a = paidAndCredited(Channel::WeChat, 7000);
        QVERIFY(a.id > 0);
        control("POST", QStringLiteral("/sandbox/reset"));
        const DayResult result = reconcile(Channel::WeChat);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.rows, 0);
        QCOMPARE(result.summary.creditedFen, 7000);
        QCOMPARE(result.summary.count(FindingKind::CreditedNotInBill), 1);
        const Finding f = findings().first();
        QCOMPARE(f.outTradeNo, a.outTradeNo);
        QCOMPARE(f.attemptId, a.id);
        QVERIFY2(f.action.contains(QStringLiteral("Frozen")), qPrintable(f.action));
        // Only that channel's payments of that day: the Alipay bill of today and WeChat's of
        // yesterday find nothing of it.
        QCOMPARE(reconcile(Channel::Alipay).summary.count(FindingKind::CreditedNotInBill), 0);
        QCOMPARE(
            reconcile(Channel::WeChat, beijingToday().addDays(-1)).summary.count(FindingKind::CreditedNotInBill), 0);
        QCOMPARE(findingsCount(), 1);

        // Frozen.
        QCOMPARE(freezingFinding(*m_reader, a.id), f.id);
        QVERIFY(f.freezing);
        QCOMPARE(openAlarm(3), 1);
        QCOMPARE(stateOf(a.id), QStringLiteral("credited"));
        QVERIFY(m_store
                    ->write([](store::Transaction &tx) {
                        tx.db().exec(QStringLiteral(
                            "INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, "
                            "password_params, created_at_ms, updated_at_ms) VALUES "
                            "(7, 'li.ming', 'Li Ming', 'operator', zeroblob(32), zeroblob(16), 'none', 0, 0)"));
                    })
                    .get()
                    .committed());
        const auto refund = [this, &a](const QString &key) {
            RefundAsk ask;
            ask.attemptId = a.id;
            ask.amountFen = 1000;
            ask.reason = QStringLiteral("the tenant asks for it back");
            ask.operatorId = 7;
            ask.idempotencyKey = key;
            const qint64 now = m_clock.wallMs();
            std::shared_ptr<const billing::TariffBook> book = m_biller->book();
            return m_store->write([&](store::Transaction &tx) { return requestRefund(tx, *book, {}, ask, now); }).get();
        };
        const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));
        const store::Written<RefundRequestResult> refused = refund(QStringLiteral("k-frozen-1"));
        QCOMPARE(refused.value.outcome, RefundRequestOutcome::NotRefundable);
        QVERIFY2(refused.value.message.contains(QStringLiteral("frozen by reconciliation finding %1").arg(f.id)),
            qPrintable(refused.value.message));
        const store::Written<accounts::LifecycleResult> close = m_store
            ->write([this](store::Transaction &tx) {
                accounts::CloseAccountRequest request;
                request.shopNo = QStringLiteral("A-1F-105");
                request.settlement = accounts::Settlement::RefundCash;
                request.operatorId = 7;
                request.reason = QStringLiteral("moving out");
                return accounts::closeAccount(tx, *m_biller, request, m_clock.wallMs());
            })
            .get();
        QCOMPARE(close.value.outcome, accounts::LifecycleOutcome::Conflict);
        QVERIFY2(close.value.message.contains(QStringLiteral("finding %1").arg(f.id)), qPrintable(close.value.message));
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM refunds")), 0);

        // Staff settle it: released, the alarm cleared; not twice.
        const auto settle = [this](qint64 id) {
            return m_store
                ->write([this, id](store::Transaction &tx) {
                    return settleFinding(tx, id, 7, QStringLiteral("WeChat Pay confirmed the payment by phone"), m_clock.wallMs());
                })
                .get()
                .value;
        };
        const SettleResult settled = settle(f.id);
        QCOMPARE(settled.outcome, SettleOutcome::Settled);
        QCOMPARE(settled.released, QList<qint64>{a.id});
        QCOMPARE(settled.openFindings, 0);
        QCOMPARE(freezingFinding(*m_reader, a.id), 0);
        QCOMPARE(openAlarm(3), 0);
        const Finding after = findings().first();
        QVERIFY(after.settledAtMs > 0);
        QCOMPARE(after.settledBy, 7);
        QCOMPARE(after.settleNote, QStringLiteral("WeChat Pay confirmed the payment by phone"));
        QVERIFY(!after.freezing);
        QCOMPARE(settle(f.id).outcome, SettleOutcome::AlreadySettled);
        QCOMPARE(settle(f.id + 1000).outcome, SettleOutcome::NotFound);
        QCOMPARE(reconcile(Channel::WeChat).summary.newFindings, 0);
        QCOMPARE(freezingFinding(*m_reader, a.id), 0);
        QCOMPARE(openAlarm(3), 0);
        const store::Written<RefundRequestResult> allowed = refund(QStringLiteral("k-frozen-2"));
        QVERIFY2(allowed.value.ok(), qPrintable(allowed.value.message));
    }

    // A refund made at the provider that prepayd has no record of (someone used the merchant
    // portal): refund_mismatch on the payment's out_trade_no; the ledger is not touched.
    void refundAtProviderOnly_data() { channelRows(); }
    void refundAtProviderOnly()
    {
        QFETCH(int, channel);
        const Channel ch = Channel(channel);
        const Attempt a = paidAndCredited(ch, 9000);
        QVERIFY(a.id > 0);
        RefundRequest refund;
        refund.trade.outTradeNo = a.outTradeNo;
        refund.trade.createdAtMs = a.createdAtMs;
        refund.providerTxnId = a.providerTxnId;
        refund.outRefundNo = QStringLiteral("RPORTAL000001");
        refund.refundFen = 1500;
        refund.totalFen = 9000;
        refund.reason = QStringLiteral("portal");
        std::optional<RefundResult> refunded;
        adapter(ch)->refund(refund, [&refunded](const RefundResult &r) { refunded = r; });
        QTRY_VERIFY_WITH_TIMEOUT(refunded.has_value(), 10000);
        QCOMPARE(refunded->outcome, Outcome::Ok);
        const qint64 entries = count(QStringLiteral("SELECT count(*) FROM ledger_entries"));

        const DayResult result = reconcile(ch);
        QCOMPARE(result.outcome, DayOutcome::Reconciled);
        QCOMPARE(result.summary.refundRows, 1);
        QCOMPARE(result.summary.billRefundedFen, 1500);
        QCOMPARE(result.summary.refundedFen, 0);
        QCOMPARE(result.summary.matched, 1); // the payment itself agrees
        QCOMPARE(result.summary.count(FindingKind::RefundMismatch), 1);
        const Finding f = findings().first();
        QCOMPARE(f.kind, FindingKind::RefundMismatch);
        QCOMPARE(f.outTradeNo, a.outTradeNo);
        QCOMPARE(f.attemptId, a.id);
        QCOMPARE(f.detail.value(QStringLiteral("refunds"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("out_refund_no")),
            QStringLiteral("RPORTAL000001"));
        QVERIFY2(f.action.contains(QStringLiteral("no record")), qPrintable(f.action));
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM ledger_entries")), entries);
    }

    // Two attempts of one top-up order both paid (test-only SQL ties the second to the first's
    // order, as a second QR of the same top-up would): reported, both stay credited.
    void doublePayment()
    {
        const Attempt a = paidAndCredited(Channel::Alipay, 5000);
        const Attempt b = paidAndCredited(Channel::Alipay, 5000);
        QVERIFY(a.id > 0 && b.id > 0);
        QVERIFY(m_store
                    ->write([&](store::Transaction &tx) {
                        tx.db().exec(QStringLiteral("UPDATE payment_attempts SET order_id = %1 WHERE id = %2")
                                         .arg(a.orderId)
                                         .arg(b.id));
                    })
                    .get()
                    .committed());
        const DayResult result = reconcile(Channel::Alipay);
        QCOMPARE(result.summary.count(FindingKind::DoublePayment), 2); // each names the other
        QCOMPARE(credits(a.id), 1);
        QCOMPARE(credits(b.id), 1);
    }

    // UnionPay has no bill download: "not supported", nothing stored, nothing found.
    void unionPayNotSupported()
    {
        const DayResult result = reconcile(Channel::UnionPay);
        QCOMPARE(result.outcome, DayOutcome::NotSupported);
        QVERIFY2(result.message.contains(QStringLiteral("no bill download")), qPrintable(result.message));
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_bills")), 0);
        QCOMPARE(findingsCount(), 0);
    }

    // A download that fails writes nothing; a bill of a channel prepayd does not run is refused.
    void downloadFailureWritesNothing()
    {
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("http_5xx"), 1}});
        const DayResult failed = reconcile(Channel::WeChat);
        QCOMPARE(failed.outcome, DayOutcome::DownloadFailed);
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_bills")), 0);
        QCOMPARE(findingsCount(), 0);
        Reconciler bare(*m_store, *m_biller, m_clock);
        std::optional<DayResult> none;
        bare.reconcileDay(Channel::Alipay, beijingToday(), [&none](const DayResult &r) { none = r; });
        QVERIFY(none.has_value());
        QCOMPARE(none->outcome, DayOutcome::NotConfigured);
    }

    // Bad input to the matching itself: refused whole, nothing written.
    void invalidBillWritesNothing()
    {
        BillRow row;
        row.outTradeNo = QStringLiteral("P000000000100000000");
        row.amountFen = 0;
        const store::Written<ReconcileSummary> w
            = m_store
                  ->write([row](store::Transaction &tx) {
                      return reconcileBill(tx, Channel::Alipay, QDate(2026, 11, 19), {row}, QByteArray("x"), 1);
                  })
                  .get();
        QCOMPARE(w.status, store::WriteStatus::RolledBack);
        QCOMPARE(w.value.outcome, ReconcileOutcome::Invalid);
        QVERIFY2(w.value.message.contains(QStringLiteral("not positive")), qPrintable(w.value.message));
        QCOMPARE(count(QStringLiteral("SELECT count(*) FROM provider_bills")), 0);
    }

    // The schedule on a manual clock: after a "restart" two days later at 09:00 Beijing, the
    // day with payments that provider_bills lacks is caught up (yesterday is not due before
    // 10:30); a failed download is tried again after retryEveryMs; at 10:30 yesterday follows;
    // UnionPay is asked once and left alone. A day that keeps failing raises the alarm.
    void scheduleCatchesUpRetriesAndAlarms()
    {
        const Attempt a = paidAndCredited(Channel::Alipay, 5000);
        QVERIFY(a.id > 0);
        const QDate today = beijingToday();
        const QTimeZone beijing(8 * 3600);
        test::ManualClock clock(QDateTime(today.addDays(2), QTime(9, 0), beijing).toMSecsSinceEpoch());
        Reconciler scheduled(*m_store, *m_biller, clock);
        for (Provider *p : {m_alipay.get(), m_wechat.get(), m_unionpay.get()})
            scheduled.setProvider(p);
        ReconcileSchedule schedule;
        schedule.tickMs = 20;
        schedule.retryEveryMs = 60000;
        schedule.retriesMax = 1;
        // Nothing delivers meter jobs here, and this clock is two days ahead of them.
        schedule.limits.meterJobOverdueMs = 7LL * 24 * 3600000;
        scheduled.setSchedule(schedule);
        QList<DayResult> runs;
        connect(&scheduled, &Reconciler::dayReconciled, this, [&runs](const DayResult &r) { runs.append(r); });
        auto stored = [&](Channel ch, QDate day) {
            return count(QStringLiteral("SELECT count(*) FROM provider_bills WHERE channel = '%1' AND bill_date = '%2'")
                             .arg(channelCode(ch), day.toString(Qt::ISODate)));
        };

        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("http_5xx"), 1}});
        scheduled.start();
        // Alipay's download of today fails (the 5xx), WeChat's succeeds, UnionPay: not supported.
        QTRY_COMPARE_WITH_TIMEOUT(runs.size(), 3, 15000);
        QCOMPARE(runs.at(0).channel, Channel::Alipay);
        QCOMPARE(runs.at(0).date, today);
        QCOMPARE(runs.at(0).outcome, DayOutcome::DownloadFailed);
        QCOMPARE(runs.at(1).channel, Channel::WeChat);
        QCOMPARE(runs.at(1).outcome, DayOutcome::Reconciled);
        QCOMPARE(runs.at(2).channel, Channel::UnionPay);
        QCOMPARE(runs.at(2).outcome, DayOutcome::NotSupported);
        QTest::qWait(200); // ticks: nothing more is due (the retry waits, yesterday is not due)
        QCOMPARE(runs.size(), 3);
        QCOMPARE(stored(Channel::Alipay, today), 0);
        QCOMPARE(stored(Channel::WeChat, today), 1);
        QCOMPARE(stored(Channel::WeChat, today.addDays(1)), 0);

        clock.advanceMs(schedule.retryEveryMs);
        QTRY_COMPARE_WITH_TIMEOUT(runs.size(), 4, 15000);
        QCOMPARE(runs.at(3).outcome, DayOutcome::Reconciled);
        QCOMPARE(runs.at(3).summary.matched, 1);
        QCOMPARE(runs.at(3).summary.newFindings, 0);
        QCOMPARE(stored(Channel::Alipay, today), 1);

        // 10:30: yesterday's bills (no trades that day) for both channels.
        clock.advanceMs(90 * 60000);
        QTRY_COMPARE_WITH_TIMEOUT(runs.size(), 6, 15000);
        QCOMPARE(stored(Channel::Alipay, today.addDays(1)), 1);
        QCOMPARE(stored(Channel::WeChat, today.addDays(1)), 1);
        QTest::qWait(200);
        QCOMPARE(runs.size(), 6);
        QCOMPARE(openAlarm(4), 0);

        // The next day every download fails: one retry each, then the alarm.
        control("POST", QStringLiteral("/sandbox/faults"), {{QStringLiteral("http_5xx"), 100}});
        clock.advanceMs(24 * 3600000);
        QTRY_COMPARE_WITH_TIMEOUT(runs.size(), 8, 15000);
        clock.advanceMs(schedule.retryEveryMs);
        QTRY_COMPARE_WITH_TIMEOUT(runs.size(), 10, 15000);
        for (qsizetype i = 6; i < 10; ++i)
            QCOMPARE(runs.at(i).outcome, DayOutcome::DownloadFailed);
        QTRY_COMPARE_WITH_TIMEOUT(openAlarm(4), 1, 5000);
        clock.advanceMs(schedule.retryEveryMs);
        QTest::qWait(200);
        QCOMPARE(runs.size(), 10); // given up for this round
        QCOMPARE(findingsCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestReconcile)
#include "tst_reconcile.moc"
