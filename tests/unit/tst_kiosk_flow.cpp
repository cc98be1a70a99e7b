// The tenant flow (kiosk/flow) and the idle supervisor (kiosk/idle) without QML: the state
// machine's transitions, the top-up's money rules (one idempotency key per top-up, reused when
// a create is retried after `unavailable`; no second create on a double tap; leaving the QR
// cancels it), the idle wipe, offline behaviour, and the Account and Usage figures (days left,
// stale data, gaps). The backend is a scripted fake: every call is queued and answered when the
// test says so, like the real link answers later, never from inside the call.
#include "tenantflow.h"
#include "manualclock.h"

#include <QtCore/QDateTime>
#include <QtCore/QTimeZone>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <deque>
#include <functional>

using namespace prepay;
using namespace prepay::kiosk;

namespace {

class ScriptedBackend final : public Backend
{
public:
    LinkState link = LinkState::Online;
    KioskProfile prof;
    QList<sync::DirectoryRow> rows;
    qint64 syncMs = 1;
    QList<TopUpRequest> creates;
    QList<qint64> cancels;
    QStringList pins;
    std::deque<std::function<void()>> pending; // answers not delivered yet

    ScriptedBackend()
    {
        prof.buildingName = QStringLiteral("三明商会大厦");
        prof.channels = {QStringLiteral("alipay"), QStringLiteral("wechat")};
    }

    LinkState linkState() const override { return link; }
    KioskProfile profile() const override { return prof; }
    std::optional<sync::DirectoryRow> findShop(const QString &shopNo) const override
    {
        for (const auto &r : rows) {
            if (r.shopNo.compare(shopNo, Qt::CaseInsensitive) == 0)
                return r;
        }
        return std::nullopt;
    }
    std::optional<sync::DirectoryRow> account(qint64 id) const override
    {
        for (const auto &r : rows) {
            if (r.accountId == id)
                return r;
        }
        return std::nullopt;
    }
    qint64 lastSyncMs() const override { return syncMs; }
    void checkPin(const QString &, const QString &pin, Reply<bool> done) override
    {
        pins.append(pin);
        pending.push_back([pin, done] { done(pin == QLatin1String("2468"), {}); });
    }
    void createTopUp(const TopUpRequest &request, Reply<TopUp> done) override
    {
        creates.append(request);
        createReplies.push_back(done);
    }
    void cancelTopUp(qint64 attemptId, Reply<TopUp> done) override
    {
        cancels.append(attemptId);
        pending.push_back([done] { done(std::nullopt, BackendError{QStringLiteral("unavailable"), {}}); });
    }
    void recentRecharges(const QString &, Reply<QList<Recharge>> done) override
    {
        pending.push_back([done] {
            QList<Recharge> list;
            for (int i = 0; i < 12; ++i) {
                Recharge r;
                r.receiptNo = QStringLiteral("R%1").arg(i);
                r.channel = QStringLiteral("alipay");
                r.amountFen = 10'000;
                r.atMs = 1'000'000 + i;
                list.append(r);
            }
            done(list, {});
        });
    }
    void receiptFacts(const QString &receiptNo, Reply<QJsonObject> done) override
    {
        factRequests.append(receiptNo);
        const bool online = link == LinkState::Online;
        pending.push_back([receiptNo, done, online] {
            if (!online)
                done(std::nullopt, BackendError{QStringLiteral("unavailable"), {}});
            else if (receiptNo.startsWith(u'X'))
                done(std::nullopt, BackendError{QStringLiteral("not_found"), QStringLiteral("another building's")});
            else
                done(QJsonObject{{QStringLiteral("receipt_no"), receiptNo}, {QStringLiteral("amount_fen"), 10'000}}, {});
        });
    }
    void report(const QString &kind, const QJsonObject &fields) override
    {
        QJsonObject r = fields;
        r.insert(QStringLiteral("kind"), kind);
        reports.append(r);
    }

    QList<Reply<TopUp>> createReplies;
    QStringList factRequests;
    QList<QJsonObject> reports;

    void answerAll()
    {
        while (!pending.empty()) {
            auto f = pending.front();
            pending.pop_front();
            f();
        }
    }
    void answerCreate(const std::optional<TopUp> &topUp, const BackendError &error = {})
    {
        QVERIFY(!createReplies.isEmpty());
        createReplies.takeFirst()(topUp, error);
    }
    void setLink(LinkState state)
    {
        link = state;
        Q_EMIT linkStateChanged();
    }
    void updateRow(const sync::DirectoryRow &row)
    {
        for (auto &r : rows) {
            if (r.accountId == row.accountId)
                r = row;
        }
        Q_EMIT directoryChanged({row.accountId});
    }
};

QDate localDate(const Clock &clock)
{
    return QDateTime::fromMSecsSinceEpoch(clock.wallMs()).toLocalTime().date();
}

sync::DirectoryRow shop(const Clock &clock, qint64 id, const QString &shopNo, qint64 balanceFen)
{
    sync::DirectoryRow row;
    row.accountId = id;
    row.shopNo = shopNo;
    row.displayName = QStringLiteral("沙县小吃");
    row.balanceFen = balanceFen;
    row.lastReadingMs = clock.wallMs() - 30 * 60 * 1000;
    sync::PointState p;
    p.pointCode = shopNo;
    p.relay = QStringLiteral("closed");
    p.controlMode = QStringLiteral("auto");
    row.points = {p};
    const QDate today = localDate(clock);
    for (int back = 10; back >= 0; --back) {
        if (back == 4)
            continue; // a day without readings: a gap
        sync::DayUsage d;
        d.day = today.addDays(-back);
        d.energyWh = 10'000;
        d.amountFen = 1'000; // 10.00 a day
        d.slotWh = {1'000, 3'000, 4'000, 2'000};
        row.daily.append(d);
    }
    sync::MonthUsage m;
    m.month = QDate(today.year(), today.month(), 1);
    m.energyWh = 100'000;
    m.amountFen = 10'000;
    row.monthly = {m};
    return row;
}

TopUp issued(qint64 id, const TopUpRequest &request, qint64 expiresAtMs)
{
    TopUp t;
    t.attemptId = id;
    t.receiptNo = QStringLiteral("K%1").arg(id);
    t.shopNo = request.shopNo;
    t.channel = request.channel;
    t.amountFen = request.amountFen;
    t.state = QStringLiteral("qr_issued");
    t.expiresAtMs = expiresAtMs;
    t.qrPayload = QStringLiteral("https://pay.example/qr/%1?x=支付 1&y=2").arg(id);
    return t;
}

// A printer whose jobs the test finishes: print() only records; finish() answers the oldest.
class ScriptedPrinter final : public ReceiptOutput
{
public:
    bool available() const override { return true; }
    QString health() const override { return state; }
    QString healthDetail() const override { return QString(); }
    void print(const QJsonObject &facts, const QString &language, std::function<void(const PrintOutcome &)> done) override
    {
        printed.append(facts.value(QLatin1String("receipt_no")).toString() + u'/' + language);
        jobs.append(done);
    }
    void finish(bool ok)
    {
        PrintOutcome outcome;
        outcome.printed = ok;
        outcome.printer = ok ? QStringLiteral("ok") : QStringLiteral("paper_out");
        outcome.detail = ok ? QString() : QStringLiteral("media-empty");
        jobs.takeFirst()(outcome);
    }
    void setState(const QString &s)
    {
        state = s;
        Q_EMIT healthChanged();
    }

    QString state = QStringLiteral("ok");
    QStringList printed;
    QList<std::function<void(const PrintOutcome &)>> jobs;
};

} // namespace

class TestKioskFlow : public QObject
{
    Q_OBJECT

    test::ManualClock clock;
    ScriptedBackend *backend = nullptr;
    TenantFlow *flow = nullptr;

    void toAccount(const QString &shopNo = QStringLiteral("A-1F-104"))
    {
        flow->begin();
        for (const QChar c : shopNo)
            flow->identify()->press(QString(c));
        flow->identify()->lookUp();
        QVERIFY(flow->identify()->candidateFound());
        flow->identify()->confirm();
    }

    void toChannel(int preset = 1)
    {
        toAccount();
        QCOMPARE(flow->state(), TenantFlow::Account);
        flow->startTopUp();
        QCOMPARE(flow->state(), TenantFlow::TopUp);
        flow->topUp()->choosePreset(preset);
        flow->topUp()->confirmAmount();
        QCOMPARE(flow->topUp()->step(), TopUpController::Channel);
    }

private Q_SLOTS:
    void init()
    {
        backend = new ScriptedBackend;
        backend->rows = {shop(clock, 7, QStringLiteral("A-1F-104"), 12'345)};
        flow = new TenantFlow;
        flow->setClock(&clock);
        flow->setBackend(backend);
    }

    void cleanup()
    {
        delete flow;
        delete backend;
    }

    void transitions()
    {
        QCOMPARE(flow->state(), TenantFlow::Attract);
        flow->begin();
        QCOMPARE(flow->state(), TenantFlow::Identify);
        for (const QString &k : {QStringLiteral("a"), QStringLiteral("-"), QStringLiteral("x"), QStringLiteral("1")})
            flow->identify()->press(k);
        QCOMPARE(flow->identify()->entry(), QStringLiteral("A-1")); // "x" is not a key
        flow->identify()->lookUp();
        QCOMPARE(flow->identify()->error(), QStringLiteral("not_found"));
        flow->identify()->clearEntry();
        for (const QChar c : QStringLiteral("A-1F-104"))
            flow->identify()->press(QString(c));
        flow->identify()->lookUp();
        QVERIFY(flow->identify()->candidateFound());
        QCOMPARE(flow->identify()->candidateName(), QStringLiteral("沙县小吃"));
        QCOMPARE(flow->state(), TenantFlow::Identify); // the name is shown to confirm first
        flow->identify()->confirm();
        QCOMPARE(flow->state(), TenantFlow::Account);
        QCOMPARE(flow->account()->balanceText(), QStringLiteral("¥123.45"));
        flow->showUsage();
        QCOMPARE(flow->state(), TenantFlow::Usage);
        flow->back();
        QCOMPARE(flow->state(), TenantFlow::Account);
        flow->showHistory();
        QCOMPARE(flow->state(), TenantFlow::History);
        QVERIFY(flow->history()->recharges()->loading());
        backend->answerAll();
        QCOMPARE(flow->history()->recharges()->rowCount(), 10); // the last 10 of 12
        QCOMPARE(flow->history()->recharges()->data(flow->history()->recharges()->index(0, 0),
                     RechargeListModel::ReceiptNoRole).toString(), QStringLiteral("R11")); // newest first
        flow->back();
        flow->startTopUp();
        QCOMPARE(flow->state(), TenantFlow::TopUp);
        flow->back(); // Amount is the first step: back to Account
        QCOMPARE(flow->state(), TenantFlow::Account);
        flow->back();
        QCOMPARE(flow->state(), TenantFlow::Attract);
        QCOMPARE(flow->account()->accountId(), 0);
    }

    void pinWhenRequired()
    {
        backend->prof.pinRequired = true;
        toAccount();
        QCOMPARE(flow->state(), TenantFlow::Pin);
        for (const QChar c : QStringLiteral("135"))
            flow->identify()->pressPinDigit(QString(c));
        flow->identify()->submitPin();
        QCOMPARE(flow->identify()->pinError(), QStringLiteral("too_short"));
        QVERIFY(backend->pins.isEmpty());
        flow->identify()->pressPinDigit(QStringLiteral("7"));
        flow->identify()->submitPin();
        flow->identify()->submitPin(); // a double tap: one check
        QCOMPARE(backend->pins.size(), 1);
        backend->answerAll();
        QCOMPARE(flow->identify()->pinError(), QStringLiteral("wrong_pin"));
        QCOMPARE(flow->state(), TenantFlow::Pin);
        for (const QChar c : QStringLiteral("2468"))
            flow->identify()->pressPinDigit(QString(c));
        flow->identify()->submitPin();
        backend->answerAll();
        QCOMPARE(flow->state(), TenantFlow::Account);
    }

    void idempotencyKeyReusedOnRetry()
    {
        toChannel();
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        QCOMPARE(backend->creates.size(), 1);
        QVERIFY(flow->topUp()->busy());
        const QString key = backend->creates.at(0).idempotencyKey;
        QVERIFY(!QUuid::fromString(key).isNull());
        QCOMPARE(backend->creates.at(0).amountFen, 10'000);
        backend->answerCreate(std::nullopt, BackendError{QStringLiteral("unavailable"), {}});
        QCOMPARE(flow->topUp()->createError(), QStringLiteral("unavailable"));
        QCOMPARE(flow->topUp()->step(), TopUpController::Channel);
        flow->topUp()->chooseChannel(QStringLiteral("alipay")); // retry
        QCOMPARE(backend->creates.size(), 2);
        QCOMPARE(backend->creates.at(1).idempotencyKey, key);
        backend->answerCreate(issued(5, backend->creates.at(1), clock.wallMs() + 300'000));
        QCOMPARE(flow->topUp()->step(), TopUpController::Qr);
        QVERIFY(flow->topUp()->qrImageUrl().startsWith(QStringLiteral("image://qr/https%3A%2F%2F")));
        QCOMPARE(flow->topUp()->countdownText(), QStringLiteral("5:00"));
        // Another top-up after this one: another key.
        QVERIFY(flow->topUp()->back()); // leaves the QR: cancelled
        QCOMPARE(backend->cancels, QList<qint64>{5});
        flow->topUp()->choosePreset(1);
        flow->topUp()->confirmAmount();
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        QCOMPARE(backend->creates.size(), 3);
        QVERIFY(backend->creates.at(2).idempotencyKey != key);
    }

    void otherChannelAfterFailureGetsNewKey()
    {
        toChannel();
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        backend->answerCreate(std::nullopt, BackendError{QStringLiteral("unavailable"), {}});
        flow->topUp()->chooseChannel(QStringLiteral("wechat"));
        QCOMPARE(backend->creates.size(), 2);
        QVERIFY(backend->creates.at(1).idempotencyKey != backend->creates.at(0).idempotencyKey);
    }

    void noDoubleCreate()
    {
        toChannel();
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        flow->topUp()->chooseChannel(QStringLiteral("wechat"));
        flow->back(); // ignored while the create is in flight
        QCOMPARE(backend->creates.size(), 1);
        QCOMPARE(flow->topUp()->step(), TopUpController::Channel);
        backend->answerCreate(issued(9, backend->creates.at(0), clock.wallMs() + 300'000));
        flow->topUp()->chooseChannel(QStringLiteral("alipay")); // on the QR now: nothing
        QCOMPARE(backend->creates.size(), 1);
    }

    void paymentSuccessAndPowerRestored()
    {
        auto row = backend->rows.at(0);
        row.balanceFen = -500;
        row.status = sync::AccountStatus::Arrears;
        row.points[0].relay = QStringLiteral("open");
        backend->rows = {row};
        toChannel(0);
        QCOMPARE(flow->account()->status(), QStringLiteral("arrears"));
        QVERIFY(flow->account()->powerOff());
        flow->topUp()->chooseChannel(QStringLiteral("wechat"));
        backend->answerCreate(issued(11, backend->creates.at(0), clock.wallMs() + 300'000));
        TopUp paid = issued(11, backend->creates.at(0), clock.wallMs() + 300'000);
        paid.paid = true;
        paid.state = QStringLiteral("credited");
        paid.balanceFen = 4'500;
        Q_EMIT backend->topUpChanged(paid);
        QCOMPARE(flow->topUp()->step(), TopUpController::Success);
        QCOMPARE(flow->topUp()->newBalanceText(), QStringLiteral("¥45.00"));
        QVERIFY(flow->topUp()->powerPending());
        QVERIFY(!flow->topUp()->powerRestored()); // not before the relay really closed
        row.balanceFen = 4'500;
        row.status = sync::AccountStatus::Normal;
        backend->updateRow(row); // balance credited, relay still open
        QVERIFY(!flow->topUp()->powerRestored());
        row.points[0].relay = QStringLiteral("closed");
        backend->updateRow(row);
        QVERIFY(flow->topUp()->powerRestored());
        QVERIFY(backend->cancels.isEmpty());
        flow->back();
        QCOMPARE(flow->state(), TenantFlow::Account);
        QCOMPARE(flow->account()->balanceText(), QStringLiteral("¥45.00"));
    }

    // Paid: the receipt prints by itself, once, in the tenant's language, with the facts from
    // prepayd; what happened goes to the outbox; a failure says why; a reprint from History;
    // the printer's health reported on change; the session's wipe forgets the state.
    void receiptPrintsOnceAfterPayment()
    {
        ScriptedPrinter printer;
        flow->setReceiptOutput(&printer);
        QVERIFY(flow->receipts()->available());
        QCOMPARE(backend->reports.size(), 1); // the printer's first health
        QCOMPARE(backend->reports.at(0).value(QLatin1String("kind")).toString(), QStringLiteral("printer_state"));
        flow->setLanguage(QStringLiteral("en"));
        toChannel(0);
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        backend->answerCreate(issued(21, backend->creates.at(0), clock.wallMs() + 300'000));
        TopUp paid = issued(21, backend->creates.at(0), clock.wallMs() + 300'000);
        paid.paid = true;
        paid.state = QStringLiteral("credited");
        paid.balanceFen = 22'345;
        Q_EMIT backend->topUpChanged(paid);
        Q_EMIT backend->topUpChanged(paid); // the same event twice: still one receipt
        QCOMPARE(flow->receipts()->state(), QStringLiteral("printing"));
        QCOMPARE(backend->factRequests, QStringList{QStringLiteral("K21")});
        backend->answerAll();
        QCOMPARE(printer.printed, QStringList{QStringLiteral("K21/en")});
        printer.finish(true);
        QCOMPARE(flow->receipts()->state(), QStringLiteral("printed"));
        QCOMPARE(backend->reports.last().value(QLatin1String("kind")).toString(), QStringLiteral("receipt_printed"));
        QCOMPARE(backend->reports.last().value(QLatin1String("receipt_no")).toString(), QStringLiteral("K21"));

        // A reprint from History that fails for want of paper: said, reported, money untouched.
        flow->back();
        flow->showHistory();
        flow->receipts()->print(QStringLiteral("K21"), flow->language());
        flow->receipts()->print(QStringLiteral("K21"), flow->language()); // a double tap: ignored
        backend->answerAll();
        QCOMPARE(printer.printed.size(), 2);
        printer.finish(false);
        QCOMPARE(flow->receipts()->state(), QStringLiteral("failed"));
        QCOMPARE(flow->receipts()->failure(), QStringLiteral("paper_out"));
        QCOMPARE(backend->reports.last().value(QLatin1String("kind")).toString(), QStringLiteral("receipt_failed"));
        QCOMPARE(backend->reports.last().value(QLatin1String("printer")).toString(), QStringLiteral("paper_out"));
        QCOMPARE(backend->creates.size(), 1);

        // The printer's health: reported when it changes, not when it stays.
        const qsizetype before = backend->reports.size();
        printer.setState(QStringLiteral("paper_out"));
        printer.setState(QStringLiteral("paper_out"));
        QCOMPARE(backend->reports.size(), before + 1);
        QCOMPARE(backend->reports.last().value(QLatin1String("printer")).toString(), QStringLiteral("paper_out"));
        QCOMPARE(flow->receipts()->printerHealth(), QStringLiteral("paper_out"));
        QVERIFY(flow->receipts()->printerDown()); // the screens warn before paying
        printer.setState(QStringLiteral("paper_low"));
        QVERIFY(!flow->receipts()->printerDown()); // still prints
        printer.setState(QStringLiteral("ok"));
        QCOMPARE(flow->receipts()->printerHealth(), QStringLiteral("ok"));
        QVERIFY(!flow->receipts()->printerDown());
        QCOMPARE(backend->reports.size(), before + 3);

        // The session ends: nothing of it stays on screen.
        flow->endSession();
        QCOMPARE(flow->receipts()->state(), QStringLiteral("idle"));
        QVERIFY(flow->receipts()->receiptNo().isEmpty());
    }

    // A printer whose health changed before the flow had a backend: reported once there is one;
    // without a printer the health is "none".
    void printerHealthBeforeTheBackend()
    {
        ScriptedBackend later;
        TenantFlow lonely;
        QCOMPARE(lonely.receipts()->printerHealth(), QStringLiteral("none"));
        ScriptedPrinter printer;
        lonely.setReceiptOutput(&printer);
        printer.setState(QStringLiteral("door_open"));
        QCOMPARE(lonely.receipts()->printerHealth(), QStringLiteral("door_open"));
        lonely.setBackend(&later);
        QCOMPARE(later.reports.size(), 1);
        QCOMPARE(later.reports.at(0).value(QLatin1String("kind")).toString(), QStringLiteral("printer_state"));
        QCOMPARE(later.reports.at(0).value(QLatin1String("printer")).toString(), QStringLiteral("door_open"));
        lonely.setBackend(nullptr);
    }

    // Facts prepayd cannot give (offline, or another building's receipt): no paper, said why.
    void receiptWithoutFacts()
    {
        ScriptedPrinter printer;
        flow->setReceiptOutput(&printer);
        toAccount();
        flow->showHistory();
        flow->receipts()->print(QStringLiteral("X1"), flow->language());
        backend->answerAll();
        QCOMPARE(flow->receipts()->state(), QStringLiteral("failed"));
        QCOMPARE(flow->receipts()->failure(), QStringLiteral("not_found"));
        backend->link = LinkState::Offline;
        flow->receipts()->print(QStringLiteral("K99"), flow->language());
        QCOMPARE(flow->receipts()->state(), QStringLiteral("printing"));
        backend->answerAll();
        QCOMPARE(flow->receipts()->state(), QStringLiteral("failed"));
        QCOMPARE(flow->receipts()->failure(), QStringLiteral("unavailable"));
        QVERIFY(printer.printed.isEmpty()); // nothing to print without the facts
        QCOMPARE(backend->reports.last().value(QLatin1String("kind")).toString(), QStringLiteral("receipt_failed"));
        QCOMPARE(backend->reports.last().value(QLatin1String("receipt_no")).toString(), QStringLiteral("K99"));
    }

    void timeoutCancelsAndLatePaymentShows()
    {
        toChannel();
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        backend->answerCreate(issued(21, backend->creates.at(0), clock.wallMs() + 60'000));
        clock.advanceMs(30'000);
        flow->topUp()->tick();
        QCOMPARE(flow->topUp()->secondsLeft(), 30);
        clock.advanceMs(30'000);
        flow->topUp()->tick();
        QCOMPARE(flow->topUp()->step(), TopUpController::Failure);
        QCOMPARE(flow->topUp()->failure(), QStringLiteral("timeout"));
        QCOMPARE(backend->cancels, QList<qint64>{21});
        TopUp late = issued(21, backend->creates.at(0), 0);
        late.paid = true;
        late.late = true;
        late.state = QStringLiteral("credited");
        late.balanceFen = 22'345;
        Q_EMIT backend->topUpChanged(late);
        QCOMPARE(flow->topUp()->step(), TopUpController::Success);
        QVERIFY(flow->topUp()->late());
    }

    void closedByProvider()
    {
        toChannel();
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        backend->answerCreate(issued(31, backend->creates.at(0), clock.wallMs() + 60'000));
        TopUp closed = issued(31, backend->creates.at(0), clock.wallMs() + 60'000);
        closed.state = QStringLiteral("closed");
        closed.qrPayload.clear();
        Q_EMIT backend->topUpChanged(closed);
        QCOMPARE(flow->topUp()->step(), TopUpController::Failure);
        QCOMPARE(flow->topUp()->failure(), QStringLiteral("closed"));
        TopUp other = closed;
        other.attemptId = 99;
        other.paid = true;
        Q_EMIT backend->topUpChanged(other); // not ours
        QCOMPARE(flow->topUp()->step(), TopUpController::Failure);
    }

    void amountLimits()
    {
        backend->prof.topUpMinFen = 1'000;
        backend->prof.topUpMaxFen = 30'000;
        toAccount();
        flow->startTopUp();
        auto *t = flow->topUp();
        t->pressDigit(QStringLiteral("0")); // no leading zero
        QCOMPARE(t->customEntry(), QString());
        t->pressDigit(QStringLiteral("5"));
        QCOMPARE(t->amountError(), QStringLiteral("below_min"));
        t->confirmAmount();
        QCOMPARE(t->step(), TopUpController::Amount);
        t->pressDigit(QStringLiteral("0"));
        QVERIFY(t->amountValid());
        QCOMPARE(t->amountText(), QStringLiteral("¥50.00"));
        t->choosePreset(3); // 500 元 > 300 元
        QCOMPARE(t->amountError(), QStringLiteral("above_max"));
        QVERIFY(!t->amountValid());
    }

    void offlineDisablesTopUpAndRecovers()
    {
        toAccount();
        QVERIFY(flow->topUpAvailable());
        QVERIFY(!flow->account()->stale());
        QSignalSpy link(flow, &TenantFlow::linkChanged);
        backend->setLink(LinkState::Offline);
        QVERIFY(!link.isEmpty());
        QVERIFY(!flow->topUpAvailable());
        QVERIFY(flow->account()->stale());
        QCOMPARE(flow->state(), TenantFlow::Account); // the replica still answers
        flow->startTopUp();
        QCOMPARE(flow->state(), TenantFlow::Account);
        backend->setLink(LinkState::Online);
        QVERIFY(flow->topUpAvailable());
        QVERIFY(!flow->account()->stale());
        flow->startTopUp();
        QCOMPARE(flow->state(), TenantFlow::TopUp);
    }

    void outOfServiceWithoutReplica()
    {
        backend->syncMs = 0;
        backend->setLink(LinkState::Connecting);
        QCOMPARE(flow->state(), TenantFlow::OutOfService);
        flow->begin();
        QCOMPARE(flow->state(), TenantFlow::OutOfService);
        backend->setLink(LinkState::Online);
        QCOMPARE(flow->state(), TenantFlow::Attract);
    }

    void idleWipesSession()
    {
        toChannel();
        flow->setLanguage(QStringLiteral("en"));
        flow->topUp()->chooseChannel(QStringLiteral("alipay"));
        backend->answerCreate(issued(41, backend->creates.at(0), clock.wallMs() + 900'000));
        auto *idle = flow->idle();
        QVERIFY(idle->armed());
        QCOMPARE(idle->idleMs(), IdleSupervisor::kIdleQrMs); // longer on the QR
        clock.advanceMs(IdleSupervisor::kIdleDefaultMs + 1'000);
        idle->tick();
        QVERIFY(!idle->counting());
        clock.advanceMs(IdleSupervisor::kIdleQrMs - IdleSupervisor::kIdleDefaultMs);
        idle->tick();
        QVERIFY(idle->counting());
        QCOMPARE(idle->secondsLeft(), 9);
        idle->touched(); // still there
        QVERIFY(!idle->counting());
        QCOMPARE(flow->state(), TenantFlow::TopUp);
        clock.advanceMs(IdleSupervisor::kIdleQrMs + IdleSupervisor::kCountdownMs);
        QSignalSpy expired(idle, &IdleSupervisor::expired);
        idle->tick();
        QCOMPARE(expired.size(), 1);
        QCOMPARE(flow->state(), TenantFlow::Attract);
        QCOMPARE(flow->language(), QStringLiteral("zh_CN"));
        QCOMPARE(backend->cancels, QList<qint64>{41});
        QCOMPARE(flow->account()->accountId(), 0);
        QCOMPARE(flow->account()->displayName(), QString());
        QCOMPARE(flow->identify()->entry(), QString());
        QCOMPARE(flow->topUp()->qrPayload(), QString());
        QCOMPARE(flow->topUp()->amountFen(), 0);
        QCOMPARE(flow->usage()->bars()->rowCount(), 0);
        QCOMPARE(flow->history()->recharges()->rowCount(), 0);
        QVERIFY(!idle->armed());
        // A late answer for the wiped session changes nothing.
        TopUp paid = issued(41, backend->creates.at(0), 0);
        paid.paid = true;
        Q_EMIT backend->topUpChanged(paid);
        QCOMPARE(flow->state(), TenantFlow::Attract);
        QCOMPARE(flow->topUp()->step(), TopUpController::Amount);
    }

    void daysLeftMaths_data()
    {
        QTest::addColumn<qint64>("balanceFen");
        QTest::addColumn<QList<qint64>>("dailyFen"); // oldest first, ending yesterday; -1 = gap
        QTest::addColumn<qint64>("todayFen");
        QTest::addColumn<int>("expected"); // -1: say nothing
        QTest::newRow("10 a day, 123.45") << qint64(12'345) << QList<qint64>{1'000, 1'000, 1'000, 1'000, 1'000, 1'000, 1'000} << qint64(50'000) << 12;
        QTest::newRow("only the last 7 days with readings") << qint64(10'000)
            << QList<qint64>{90'000, 2'000, -1, 2'000, 2'000, -1, 2'000, 2'000, 2'000, 2'000} << qint64(0) << 5;
        QTest::newRow("no usage") << qint64(10'000) << QList<qint64>{0, 0, 0} << qint64(0) << -1;
        QTest::newRow("no readings") << qint64(10'000) << QList<qint64>{} << qint64(500) << -1;
        QTest::newRow("in arrears") << qint64(-100) << QList<qint64>{1'000} << qint64(0) << -1;
        QTest::newRow("rounds down") << qint64(2'999) << QList<qint64>{1'000, 1'000} << qint64(0) << 2;
    }

    void daysLeftMaths()
    {
        QFETCH(qint64, balanceFen);
        QFETCH(QList<qint64>, dailyFen);
        QFETCH(qint64, todayFen);
        QFETCH(int, expected);
        const QDate today = localDate(clock);
        sync::DirectoryRow row;
        row.balanceFen = balanceFen;
        for (int i = 0; i < dailyFen.size(); ++i) {
            if (dailyFen.at(i) < 0)
                continue;
            sync::DayUsage d;
            d.day = today.addDays(i - dailyFen.size());
            d.amountFen = dailyFen.at(i);
            row.daily.append(d);
        }
        sync::DayUsage t;
        t.day = today;
        t.amountFen = todayFen;
        row.daily.append(t);
        const auto days = daysLeft(row, today);
        QCOMPARE(days ? int(*days) : -1, expected);
    }

    void accountFigures()
    {
        auto row = backend->rows.at(0);
        row.lastReadingMs = clock.wallMs() - 3 * 3600 * 1000;
        row.points.append(row.points.at(0));
        row.points[1].pointCode = QStringLiteral("A-1F-104-2");
        row.points[1].controlMode = QStringLiteral("force_on");
        row.status = sync::AccountStatus::Arrears;
        sync::TariffSummary tariff;
        tariff.name = QStringLiteral("商业分时");
        tariff.kind = QStringLiteral("tou");
        tariff.prices = {12'000, 9'800, 6'500, 3'200};
        row.tariff = tariff;
        backend->rows = {row};
        toAccount();
        auto *a = flow->account();
        QAbstractItemModelTester tester(a->points(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(a->status(), QStringLiteral("force_on")); // in arrears, kept on by management
        QCOMPARE(a->points()->rowCount(), 2);
        QVERIFY(a->stale()); // the last reading is 3 h old
        QCOMPARE(a->todayEnergyText(), QStringLiteral("10 kWh"));
        QCOMPARE(a->todayCostText(), QStringLiteral("¥10.00"));
        QCOMPARE(a->monthCostText(), QStringLiteral("¥100.00"));
        QCOMPARE(a->daysLeftValue(), 12);
        QCOMPARE(a->tariffPrices(), (QStringList{QStringLiteral("¥1.2000/kWh"), QStringLiteral("¥0.9800/kWh"),
                                        QStringLiteral("¥0.6500/kWh"), QStringLiteral("¥0.3200/kWh")}));
    }

    void usageGapsAreGaps()
    {
        toAccount();
        flow->showUsage();
        auto *bars = flow->usage()->bars();
        QAbstractItemModelTester tester(bars, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(bars->rowCount(), sync::kDailyDays);
        const auto present = [bars](int row) { return bars->data(bars->index(row, 0), UsageBarModel::PresentRole).toBool(); };
        QVERIFY(present(30));            // today
        QVERIFY(!present(30 - 4));       // the day without readings: a gap
        QVERIFY(!present(0));            // before the row's history: gaps too
        QCOMPARE(bars->data(bars->index(30 - 4, 0), UsageBarModel::FractionRole).toDouble(), 0.0);
        QCOMPARE(bars->data(bars->index(30 - 4, 0), UsageBarModel::EnergyTextRole).toString(), QString());
        QCOMPARE(flow->usage()->gapCount(), 21);
        QCOMPARE(flow->usage()->totalEnergyText(), QStringLiteral("100 kWh"));
        QCOMPARE(flow->usage()->slotEnergyTexts().at(1), QStringLiteral("30 kWh"));
        flow->usage()->setMonthly(true);
        QCOMPARE(bars->rowCount(), sync::kMonthlyMonths);
        QCOMPARE(flow->usage()->gapCount(), 11);
    }
};

QTEST_GUILESS_MAIN(TestKioskFlow)
#include "tst_kiosk_flow.moc"
