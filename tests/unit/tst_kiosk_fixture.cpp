// The offline fixture (kiosk/fixture) under the real tenant flow: its shops cover every status
// the tenant can see, its dates follow the clock, and its scripted payment goes QR → paid →
// relay closed, once per idempotency key, with the flow on the success screen.
#include "fixturebackend.h"
#include "tenantflow.h"
#include "manualclock.h"

#include <QtCore/QDateTime>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace prepay;
using namespace prepay::kiosk;

class TestKioskFixture : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyStatusIsThere()
    {
        test::ManualClock clock;
        FixtureBackend fixture;
        fixture.setClock(&clock);
        QSet<QString> statuses;
        QSet<QString> tariffs;
        bool gaps = false;
        for (const QString &shopNo : {QStringLiteral("A-1F-101"), QStringLiteral("A-1F-103"), QStringLiteral("a-1f-104"),
                 QStringLiteral("A-2F-201"), QStringLiteral("A-2F-202"), QStringLiteral("A-3F-301"), QStringLiteral("A-4F-401")}) {
            const auto row = fixture.findShop(shopNo);
            QVERIFY2(row, qPrintable(shopNo));
            statuses.insert(tenantStatus(*row));
            tariffs.insert(row->tariff->kind);
            const QDate today = QDateTime::fromMSecsSinceEpoch(clock.wallMs()).toLocalTime().date();
            QVERIFY(row->daily.last().day <= today);
            QVERIFY(row->daily.last().day >= today.addDays(-1));
            gaps = gaps || row->daily.size() < sync::kDailyDays;
        }
        QCOMPARE(statuses, (QSet<QString>{QStringLiteral("normal"), QStringLiteral("alarm1"), QStringLiteral("alarm2"),
                               QStringLiteral("arrears"), QStringLiteral("force_on"), QStringLiteral("offline")}));
        QCOMPARE(tariffs, (QSet<QString>{QStringLiteral("tou"), QStringLiteral("flat"), QStringLiteral("tiered")}));
        QVERIFY(gaps);
        QVERIFY(!fixture.findShop(QStringLiteral("Z-9F-999")));
    }

    void scriptedPaymentRestoresPower()
    {
        FixtureBackend fixture;
        fixture.setReplyDelayMs(0);
        fixture.setPayAfterMs(0); // pays on payNow() only
        TenantFlow flow;
        flow.setBackend(&fixture);
        flow.begin();
        for (const QChar c : QStringLiteral("A-2F-201"))
            flow.identify()->press(QString(c));
        flow.identify()->lookUp();
        flow.identify()->confirm();
        QCOMPARE(flow.state(), TenantFlow::Account);
        QCOMPARE(flow.account()->status(), QStringLiteral("arrears"));
        QVERIFY(flow.account()->powerOff());
        flow.startTopUp();
        flow.topUp()->choosePreset(0);
        flow.topUp()->confirmAmount();
        flow.topUp()->chooseChannel(QStringLiteral("unionpay"));
        flow.topUp()->chooseChannel(QStringLiteral("unionpay"));
        QTRY_COMPARE(flow.topUp()->step(), TopUpController::Qr);
        QCOMPARE(fixture.createCount(), 1);
        QCOMPARE(flow.topUp()->qrPayload(), FixtureBackend::paymentPayload(fixture.lastAttemptId(), 5'000));
        fixture.payNow();
        QCOMPARE(flow.topUp()->step(), TopUpController::Success);
        QCOMPARE(flow.topUp()->newBalanceText(), QStringLiteral("¥37.70"));
        QVERIFY(flow.topUp()->powerPending());
        QTRY_VERIFY(flow.topUp()->powerRestored());
        QVERIFY(!flow.account()->powerOff());
        QCOMPARE(flow.account()->balanceText(), QStringLiteral("¥37.70"));
    }

    void offlineRefusesTopUps()
    {
        FixtureBackend fixture;
        fixture.setReplyDelayMs(0);
        TenantFlow flow;
        flow.setBackend(&fixture);
        fixture.setOnline(false);
        QVERIFY(!flow.topUpAvailable());
        QCOMPARE(flow.state(), TenantFlow::Attract); // the replica is there, stale
        fixture.setReplicaPresent(false);
        QCOMPARE(flow.state(), TenantFlow::OutOfService);
        fixture.setReplicaPresent(true);
        fixture.setOnline(true);
        QCOMPARE(flow.state(), TenantFlow::Attract);
    }
};

QTEST_GUILESS_MAIN(TestKioskFixture)
#include "tst_kiosk_fixture.moc"
