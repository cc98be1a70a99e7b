// The meter profiles over a real ModbusClient, against a simulated meter (SimMeter) behind a
// server that loses requests and replies on cue. The recharge algorithm of the map is checked
// step by step: a lost request is resent with the identical frame, a lost reply is recognised
// by reading back, a restart in between finds the recharge applied, a sequence taken by
// another recharge is never reused — and the meter's balance moves exactly once every time.
#include "manualclock.h"
#include "modbus/profile.h"
#include "simmeterrig.h"

#include <QtTest/QTest>

#include <mutex>

using namespace prepay;
using namespace prepay::modbus;
using namespace prepay::meter::v1;
using Behaviour = prepay::test::FakeModbusServer::Behaviour;

namespace {

constexpr quint8 kUnit = 9;

sim::MeterSpec prepaidSpec()
{
    return test::prepaidTestMeter(kUnit, 24050153);
}

using Rig = test::SimMeterRig;

const MeterProfile &v1()
{
    return *profileNamed(u"prepay-v1");
}

} // namespace

class TestProfiles : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void snapshotMatchesTheMeter();
    void rechargeApplied();
    void planThenExecuteSavesARead();
    void lostRequestIsResentIdentically();
    void lostReplyIsRecognisedByReadingBack();
    void restartBetweenSendAndReadBack();
    void gatewayTargetFailureIsUncertainNotRefused();
    void sequenceTakenByAnotherRechargeIsNeverReused();
    void meterRefusalIsRejected();
    void badAmountsNeverLeave();
    void relayModesAreVerified();
    void tariffThresholdsAndClockAreVerified();
    void lyingMeterIsCaughtByReadBack();
    void acrelRemoteProfile();

private:
    test::ManualClock m_clock;
};

void TestProfiles::snapshotMatchesTheMeter()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const Result<MeterSnapshot> s = v1().readSnapshot(*client, kUnit);
    QVERIFY2(s.ok(), qPrintable(s.error.message));
    const sim::MeterTruth t = rig.truth();
    QCOMPARE(*s.value.serialNumber, t.serial);
    QCOMPARE(*s.value.balanceFen, t.balanceFen);
    QCOMPARE(*s.value.purchaseCount, t.purchaseCount);
    QCOMPARE(s.value.energyTotalRegister, t.energyRegister);
    QCOMPARE(s.value.relayState, t.relayState);
    QCOMPARE(*s.value.tariffVersionActive, quint16(1));
}

void TestProfiles::rechargeApplied()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const Result<RechargePlan> plan = v1().planRecharge(*client, kUnit, 5000, 0xCAFE);
    QVERIFY2(plan.ok(), qPrintable(plan.error.message));
    QCOMPARE(plan.value.sequence, quint16(5));
    const Result<RechargeOutcome> done = v1().executeRecharge(*client, kUnit, plan.value);
    QVERIFY2(done.ok(), qPrintable(done.error.message));
    QCOMPARE(done.value, RechargeOutcome::Applied);
    const sim::MeterTruth t = rig.truth();
    QCOMPARE(t.balanceFen, 15000);
    QCOMPARE(t.purchaseCount, quint16(5));
    QCOMPARE(t.lastRechargeTxn, 0xCAFEu);
    QCOMPARE(rig.mailboxWrites().size(), 1);

    // Running the same plan again changes nothing.
    const Result<RechargeOutcome> again = v1().executeRecharge(*client, kUnit, plan.value);
    QCOMPARE(again.value, RechargeOutcome::AlreadyApplied);
    QCOMPARE(rig.truth().balanceFen, 15000);
    QCOMPARE(rig.mailboxWrites().size(), 1);
}

void TestProfiles::planThenExecuteSavesARead()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    MeterSnapshot basis;
    const RechargePlan plan = v1().planRecharge(*client, kUnit, 600, 84, &basis).value;
    QCOMPARE(*basis.purchaseCount, quint16(4));
    RechargeExecution how;
    how.justRead = &basis;
    bool acknowledged = false;
    how.onAcknowledged = [&] {
        acknowledged = true;
        QCOMPARE(rig.server.requests(), 2); // told after the write's answer, before the read-back
    };
    MeterSnapshot after;
    how.readBack = &after;
    QCOMPARE(v1().executeRecharge(*client, kUnit, plan, how).value, RechargeOutcome::Applied);
    QVERIFY(acknowledged);
    QCOMPARE(*after.balanceFen, 10600);
    QCOMPARE(rig.server.requests(), 3); // plan's read, the write, the read-back
    QCOMPARE(rig.truth().balanceFen, 10600);
}

void TestProfiles::lostRequestIsResentIdentically()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const RechargePlan plan = v1().planRecharge(*client, kUnit, 2500, 77).value;
    // read (answered), write (lost on the way: the meter never saw it), then all answered.
    rig.server.push(Behaviour::Answer);
    rig.server.push(Behaviour::LostRequest);
    const Result<RechargeOutcome> done = v1().executeRecharge(*client, kUnit, plan);
    QVERIFY2(done.ok(), qPrintable(done.error.message));
    QCOMPARE(done.value, RechargeOutcome::Applied);
    const QList<QList<quint16>> frames = rig.mailboxWrites();
    QCOMPARE(frames.size(), 1); // the lost one never reached the server's handler
    QCOMPARE(frames.first(), plan.mailbox().registers());
    QCOMPARE(rig.truth().balanceFen, 12500);
    QCOMPARE(rig.truth().purchaseCount, quint16(5));
    QCOMPARE(client->stats().timeouts, 1);
}

void TestProfiles::lostReplyIsRecognisedByReadingBack()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const RechargePlan plan = v1().planRecharge(*client, kUnit, 2500, 78).value;
    rig.server.push(Behaviour::Answer);
    rig.server.push(Behaviour::LostReply); // applied by the meter, the answer lost
    const Result<RechargeOutcome> done = v1().executeRecharge(*client, kUnit, plan);
    QVERIFY2(done.ok(), qPrintable(done.error.message));
    QCOMPARE(done.value, RechargeOutcome::Applied);
    QCOMPARE(rig.mailboxWrites().size(), 1); // not resent: the read showed it applied
    QCOMPARE(rig.truth().balanceFen, 12500);
    QCOMPARE(rig.truth().purchaseCount, quint16(5));
}

void TestProfiles::restartBetweenSendAndReadBack()
{
    Rig rig(prepaidSpec());
    RechargePlan plan;
    {
        auto client = rig.client(m_clock);
        plan = v1().planRecharge(*client, kUnit, 8800, 79).value; // persisted by the caller
        rig.server.push(Behaviour::Answer);
        rig.server.push(Behaviour::LostReply);   // applied, answer lost
        rig.server.push(Behaviour::LostRequest); // the read-back is lost too: prepayd gives up (or dies)
        const Result<RechargeOutcome> interrupted = v1().executeRecharge(*client, kUnit, plan);
        QCOMPARE(interrupted.error.kind, ErrorKind::Timeout);
    }
    // A new process, a new connection, the same persisted plan.
    auto client = rig.client(m_clock);
    const Result<RechargeOutcome> resumed = v1().executeRecharge(*client, kUnit, plan);
    QVERIFY2(resumed.ok(), qPrintable(resumed.error.message));
    QCOMPARE(resumed.value, RechargeOutcome::AlreadyApplied);
    QCOMPARE(rig.truth().balanceFen, 18800);
    QCOMPARE(rig.truth().totalPurchasedFen, 48800);
    QCOMPARE(rig.mailboxWrites().size(), 1);
}

void TestProfiles::gatewayTargetFailureIsUncertainNotRefused()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const RechargePlan plan = v1().planRecharge(*client, kUnit, 1000, 80).value;
    rig.server.push(Behaviour::Answer);
    rig.server.push(Behaviour::Exception, 0x0B); // the gateway heard nothing back
    const Result<RechargeOutcome> done = v1().executeRecharge(*client, kUnit, plan);
    QVERIFY2(done.ok(), qPrintable(done.error.message));
    QCOMPARE(done.value, RechargeOutcome::Applied);
    QCOMPARE(rig.truth().balanceFen, 11000);
}

void TestProfiles::sequenceTakenByAnotherRechargeIsNeverReused()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const RechargePlan first = v1().planRecharge(*client, kUnit, 1000, 81).value;
    const RechargePlan second = v1().planRecharge(*client, kUnit, 2000, 82).value;
    QCOMPARE(first.sequence, second.sequence); // both planned against purchase count 4
    QCOMPARE(v1().executeRecharge(*client, kUnit, second).value, RechargeOutcome::Applied);
    const Result<RechargeOutcome> stale = v1().executeRecharge(*client, kUnit, first);
    QCOMPARE(stale.error.kind, ErrorKind::Rejected);
    QVERIFY2(stale.error.message.contains(u"another recharge took the sequence"), qPrintable(stale.error.message));
    QCOMPARE(rig.mailboxWrites().size(), 1); // nothing sent for the stale plan
    QCOMPARE(rig.truth().balanceFen, 12000);
    // Planned anew, it gets the next sequence.
    const RechargePlan again = v1().planRecharge(*client, kUnit, 1000, 81).value;
    QCOMPARE(again.sequence, quint16(6));
    QCOMPARE(v1().executeRecharge(*client, kUnit, again).value, RechargeOutcome::Applied);
    QCOMPARE(rig.truth().balanceFen, 13000);
}

void TestProfiles::meterRefusalIsRejected()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const RechargePlan plan = v1().planRecharge(*client, kUnit, 1000, 83).value;
    rig.server.push(Behaviour::Answer);
    rig.server.push(Behaviour::Exception, 0x03);
    const Result<RechargeOutcome> done = v1().executeRecharge(*client, kUnit, plan);
    QCOMPARE(done.error.kind, ErrorKind::Rejected);
    QVERIFY2(done.error.message.contains(u"refused recharge txn 83"), qPrintable(done.error.message));
    QCOMPARE(rig.truth().balanceFen, 10000);
}

void TestProfiles::badAmountsNeverLeave()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    QCOMPARE(v1().planRecharge(*client, kUnit, 0, 1).error.kind, ErrorKind::InvalidArgument);
    QCOMPARE(v1().planRecharge(*client, kUnit, kRechargeAmountMaxFen + 1, 1).error.kind, ErrorKind::InvalidArgument);
    QCOMPARE(v1().executeRecharge(*client, kUnit, RechargePlan{-5, 1, 5}).error.kind, ErrorKind::InvalidArgument);
    QCOMPARE(rig.server.requests(), 0);
}

void TestProfiles::relayModesAreVerified()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    QVERIFY(v1().setRelayMode(*client, kUnit, RelayMode::ForceOff).ok());
    QCOMPARE(rig.truth().relayState, RelayState::Open);
    QCOMPARE(rig.truth().tripReason, TripReason::ForcedOff);
    QVERIFY(v1().setRelayMode(*client, kUnit, RelayMode::ForceOn).ok());
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
    QCOMPARE(rig.truth().relayMode, RelayMode::ForceOn);
    QVERIFY(v1().setRelayMode(*client, kUnit, RelayMode::Auto).ok());
    QCOMPARE(rig.truth().relayMode, RelayMode::Auto);
    QCOMPARE(rig.truth().relayState, RelayState::Closed); // balance > 0
    QVERIFY(v1().relayAction(*client, kUnit, RelayAction::ClearOverloadLockout).ok());
}

void TestProfiles::tariffThresholdsAndClockAreVerified()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    TariffBlock tariff;
    tariff.version = 2;
    tariff.prices = {13000, 10000, 7000, 3500};
    tariff.segments = {{0, TariffSlot::Valley}, {420, TariffSlot::Flat}, {1200, TariffSlot::Sharp}};
    QVERIFY(v1().pushTariff(*client, kUnit, tariff).ok());
    QCOMPARE(rig.truth().tariffVersionActive, quint16(2));
    QVERIFY(v1().readTariff(*client, kUnit).value == tariff);

    // A tariff the meter would refuse never leaves.
    TariffBlock bad = tariff;
    bad.segments.first().first = 10;
    QCOMPARE(v1().pushTariff(*client, kUnit, bad).kind, ErrorKind::InvalidArgument);

    const ThresholdBlock thresholds{8000, 3000, 500, 9000, 5, 30, 2, ClosePolicy::WaitForPermit};
    QVERIFY(v1().pushThresholds(*client, kUnit, thresholds).ok());
    QVERIFY(v1().readThresholds(*client, kUnit).value == thresholds);

    const qint64 when = 1'796'000'000;
    QVERIFY(v1().setClock(*client, kUnit, when).ok());
    QCOMPARE(*v1().readSnapshot(*client, kUnit).value.meterTimeS, when);
}

void TestProfiles::lyingMeterIsCaughtByReadBack()
{
    Rig rig(prepaidSpec());
    // This meter acknowledges tariff writes and keeps its old tariff.
    rig.server.setHandler([&rig](quint8, const QByteArray &pdu) {
        std::lock_guard lock(rig.mutex);
        if (quint8(pdu[0]) == 0x10 && pdu.mid(1, 2) == QByteArray("\x12\x00", 2))
            return pdu.left(5);
        return rig.meter.handlePdu(pdu, rig.simMs);
    });
    auto client = rig.client(m_clock);
    TariffBlock tariff;
    tariff.version = 3;
    tariff.prices = {1, 2, 3, 4};
    tariff.segments = {{0, TariffSlot::Flat}};
    const DriverError e = v1().pushTariff(*client, kUnit, tariff);
    QCOMPARE(e.kind, ErrorKind::Rejected);
    QVERIFY2(e.message.contains(u"reads back a different tariff"), qPrintable(e.message));
}

void TestProfiles::acrelRemoteProfile()
{
    sim::MeterSpec spec = prepaidSpec();
    spec.prepaid = false;
    spec.model = QStringLiteral("ADL200");
    Rig rig(spec);
    auto client = rig.client(m_clock);
    const MeterProfile &acrel = *profileNamed(u"acrel-remote");
    const Result<MeterSnapshot> s = acrel.readSnapshot(*client, kUnit);
    QVERIFY2(s.ok(), qPrintable(s.error.message));
    QCOMPARE(s.value.energyTotalRegister, rig.truth().energyRegister);
    QVERIFY(!s.value.balanceFen);
    QVERIFY(acrel.setRelayMode(*client, kUnit, RelayMode::ForceOff).ok());
    QCOMPARE(rig.truth().relayState, RelayState::Open);
    QVERIFY(acrel.setRelayMode(*client, kUnit, RelayMode::Auto).ok());
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
    QCOMPARE(acrel.planRecharge(*client, kUnit, 100, 1).error.kind, ErrorKind::NotSupported);
    QCOMPARE(acrel.setClock(*client, kUnit, 0).kind, ErrorKind::NotSupported);
    // The v1 profile on a remote-only meter: Block B does not exist there.
    const Result<MeterSnapshot> wrong = v1().readSnapshot(*client, kUnit);
    QCOMPARE(wrong.error.kind, ErrorKind::Exception);
    QCOMPARE(wrong.error.exceptionCode, 2);
}

QTEST_GUILESS_MAIN(TestProfiles)
#include "tst_profiles.moc"
