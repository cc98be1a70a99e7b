// CommandExecutor against a simulated meter (SimMeter) behind a Modbus TCP server that loses
// requests and replies on cue, with the rows in a real database. Every kind ends verified with
// the meter's own truth agreeing; "sent" is on disk before the frame reaches the meter; a
// recharge whose reply was lost is found applied after a restart (new store, new connection)
// and the meter's truth shows it exactly once; a recharge whose sequence another one took is
// failed without a frame; timeouts back off exponentially while the row stays 'sent', until
// the attempts run out; a deadline or a cancel ends a command without I/O; and a refusal is told
// apart from a read-back that disagrees ("acknowledged" or not).
#include "commands/commandexecutor.h"
#include "commands/commandpayload.h"
#include "commands/commandstore.h"
#include "manualclock.h"
#include "modbus/profile.h"
#include "simmeterrig.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <atomic>
#include <functional>
#include <mutex>

using namespace prepay;
using namespace prepay::commands;
using namespace prepay::modbus;
using namespace prepay::meter::v1;
using Behaviour = prepay::test::FakeModbusServer::Behaviour;

namespace {

constexpr quint8 kUnit = 9;
constexpr qint64 kMeter = 1; // the row's meter (prepaid, installed in the demo building)

sim::MeterSpec prepaidSpec()
{
    return test::prepaidTestMeter(kUnit, 24050017);
}

TariffBlock newTariff()
{
    TariffBlock t;
    t.version = 2;
    t.prices = {13000, 10000, 7000, 3500};
    t.segments = {{0, TariffSlot::Valley}, {420, TariffSlot::Flat}, {1200, TariffSlot::Sharp}};
    return t;
}

const ThresholdBlock kThresholds{8000, 3000, 500, 9000, 5, 30, 2, ClosePolicy::AutoClose};

using Rig = test::SimMeterRig;

const MeterProfile &v1()
{
    return *profileNamed(u"prepay-v1");
}

CommandRequest request(Kind kind, const QString &key)
{
    CommandRequest r;
    r.meterId = kMeter;
    r.kind = kind;
    r.idempotencyKey = key;
    r.cause = Cause::System;
    if (kind == Kind::Recharge) {
        r.amountFen = 5000;
        r.rechargeTxn = 0xCAFE;
        r.cause = Cause::Payment;
    }
    return r;
}

struct DbRow
{
    QString state;
    qint64 attempts = -1;
    std::optional<qint64> purchaseSeq, sentAt, acknowledgedAt, verifiedAt, finishedAt, nextAttemptAt;
    QString lastError;
};

DbRow readRow(store::Connection &db, qint64 id)
{
    store::Statement s = db.prepare(
        QStringLiteral("SELECT state, attempts, purchase_seq, sent_at_ms, acknowledged_at_ms, verified_at_ms, "
                       "finished_at_ms, next_attempt_at_ms, last_error FROM meter_commands WHERE id = ?1"));
    s.bind(1, id);
    DbRow r;
    if (s.step() != store::Statement::Step::Row)
        return r;
    const auto opt = [&s](int c) { return s.isNull(c) ? std::nullopt : std::optional<qint64>(s.int64(c)); };
    r.state = s.text(0);
    r.attempts = s.int64(1);
    r.purchaseSeq = opt(2);
    r.sentAt = opt(3);
    r.acknowledgedAt = opt(4);
    r.verifiedAt = opt(5);
    r.finishedAt = opt(6);
    r.nextAttemptAt = opt(7);
    r.lastError = s.text(8);
    return r;
}

} // namespace

class TestCommandExecutor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void backoffDoublesUpToTheMaximum();
    void everyKindIsVerified();
    void sentIsOnDiskBeforeTheFrame();
    void lostReplyThenRestartAppliesOnce();
    void sequenceTakenByAnotherRechargeFails();
    void timeoutsBackOffThenGiveUp();
    void gatewayTimeoutIsRetried();
    void deadlinePassedFailsWithoutIo();
    void cancelledCommandIsNotSent();
    void refusalIsNotAnAcknowledgement();
    void lyingReadBackIsAcknowledgedThenFailed();
    void relayCloseWithClosePermit();
    void relayCloseInArrearsFails();

private:
    void openStore();
    void restart();
    qint64 enqueued(const CommandRequest &r);
    ExecuteResult execute(qint64 id, ModbusClient &client);
    DbRow row(qint64 id) { return readRow(*m_reader, id); }
    void exec(const QString &sql);

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<CommandStore> m_commands;
    std::unique_ptr<CommandExecutor> m_executor;
    std::unique_ptr<store::Connection> m_reader;
};

void TestCommandExecutor::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    openStore();
    QVERIFY(m_store);
    const store::SeedReport seeded = store::applySeed(*m_store, QStringLiteral("demo"));
    QVERIFY2(seeded.outcome == store::SeedOutcome::Applied, qPrintable(seeded.message));
}

void TestCommandExecutor::cleanup()
{
    m_executor.reset();
    m_commands.reset();
    m_reader.reset();
    m_store.reset();
    m_dir.reset();
}

void TestCommandExecutor::openStore()
{
    store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    m_commands = std::make_unique<CommandStore>(*m_store, m_clock);
    m_executor = std::make_unique<CommandExecutor>(*m_commands, m_clock);
    m_reader = m_store->openReader();
    QVERIFY(m_reader);
}

// What prepayd's restart does to the command layer: everything in memory is gone.
void TestCommandExecutor::restart()
{
    m_executor.reset();
    m_commands.reset();
    m_reader.reset();
    m_store.reset();
    openStore();
}

void TestCommandExecutor::exec(const QString &sql)
{
    QVERIFY(test::runScript(*m_store, sql));
}

qint64 TestCommandExecutor::enqueued(const CommandRequest &r)
{
    const EnqueueResult result = m_commands->enqueue(r);
    if (result.outcome != EnqueueOutcome::Queued)
        qWarning("enqueue: %s: %s", qPrintable(enqueueOutcomeCode(result.outcome)), qPrintable(result.message));
    return result.commandId;
}

ExecuteResult TestCommandExecutor::execute(qint64 id, ModbusClient &client)
{
    return m_executor->execute(id, *m_reader, client, v1(), kUnit);
}

void TestCommandExecutor::backoffDoublesUpToTheMaximum()
{
    QCOMPARE(m_executor->limits().retryBaseMs, 5000);
    QCOMPARE(m_executor->backoffMs(1), 5000);
    QCOMPARE(m_executor->backoffMs(2), 10'000);
    QCOMPARE(m_executor->backoffMs(3), 20'000);
    QCOMPARE(m_executor->backoffMs(7), 320'000);
    QCOMPARE(m_executor->backoffMs(8), 600'000);
    QCOMPARE(m_executor->backoffMs(100), 600'000);
    // The settings are read once, when the executor is made.
    exec(QStringLiteral("UPDATE settings SET value = '100' WHERE key = 'command.retry_base_ms'"));
    exec(QStringLiteral("UPDATE settings SET value = '250' WHERE key = 'command.retry_max_ms'"));
    QCOMPARE(m_executor->backoffMs(1), 5000);
    const CommandExecutor fresh(*m_commands, m_clock);
    QCOMPARE(fresh.backoffMs(1), 100);
    QCOMPARE(fresh.backoffMs(2), 200);
    QCOMPARE(fresh.backoffMs(3), 250);
}

void TestCommandExecutor::everyKindIsVerified()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const auto verify = [&](const CommandRequest &r) -> std::optional<ExecuteResult> {
        const qint64 id = enqueued(r);
        if (id <= 0)
            return std::nullopt;
        const ExecuteResult result = execute(id, *client);
        if (result.outcome != ExecuteOutcome::Verified) {
            qWarning("%s: %s: %s", qPrintable(kindCode(r.kind)), qPrintable(executeOutcomeCode(result.outcome)),
                qPrintable(result.message));
            return std::nullopt;
        }
        const DbRow db = row(id);
        if (db.state != u"verified" || db.attempts != 1 || !db.sentAt || !db.acknowledgedAt || !db.verifiedAt
            || !db.finishedAt) {
            qWarning("%s: row %s attempts %lld", qPrintable(kindCode(r.kind)), qPrintable(db.state), db.attempts);
            return std::nullopt;
        }
        return result;
    };

    // Recharge: the meter's balance and purchase count move once; the row keeps its sequence.
    const qint64 rechargeId = enqueued(request(Kind::Recharge, QStringLiteral("k:recharge")));
    const ExecuteResult recharged = execute(rechargeId, *client);
    QCOMPARE(recharged.outcome, ExecuteOutcome::Verified);
    QVERIFY2(recharged.message.contains(u"applied as purchase 5"), qPrintable(recharged.message));
    QCOMPARE(rig.truth().balanceFen, 15000);
    QCOMPARE(rig.truth().purchaseCount, quint16(5));
    QCOMPARE(rig.truth().lastRechargeTxn, 0xCAFEu);
    QCOMPARE(row(rechargeId).purchaseSeq, 5);
    QCOMPARE(row(rechargeId).state, QStringLiteral("verified"));
    QVERIFY(recharged.snapshot);
    QCOMPARE(*recharged.snapshot->balanceFen, 15000); // the read after, not the plan's
    QCOMPARE(recharged.snapshotAtMs, m_clock.wallMs());
    // A final command is reported as it is, without a frame.
    const int requests = rig.server.requests();
    QCOMPARE(execute(rechargeId, *client).outcome, ExecuteOutcome::Verified);
    QCOMPARE(rig.server.requests(), requests);
    QCOMPARE(int(rig.mailboxWrites().size()), 1);

    // Trip (拉闸).
    std::optional<ExecuteResult> r = verify(request(Kind::RelayTrip, QStringLiteral("k:trip")));
    QVERIFY(r);
    QCOMPARE(rig.truth().relayState, RelayState::Open);
    QCOMPARE(rig.truth().tripReason, TripReason::ForcedOff);
    QCOMPARE(r->snapshot->relayState, RelayState::Open);

    // 保电.
    CommandRequest forceOn = request(Kind::SetMode, QStringLiteral("k:force_on"));
    forceOn.payload = modePayload(RelayMode::ForceOn);
    QVERIFY(verify(forceOn));
    QCOMPARE(rig.truth().relayMode, RelayMode::ForceOn);
    QCOMPARE(rig.truth().relayState, RelayState::Closed);

    // Close: back to prepaid logic with the supply on.
    r = verify(request(Kind::RelayClose, QStringLiteral("k:close")));
    QVERIFY(r);
    QCOMPARE(rig.truth().relayMode, RelayMode::Auto);
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
    QCOMPARE(r->snapshot->relayMode, RelayMode::Auto);

    // Tariff and thresholds: what the meter holds afterwards is what was asked for.
    CommandRequest tariff = request(Kind::TariffPush, QStringLiteral("k:tariff"));
    tariff.payload = tariffPayload(newTariff());
    r = verify(tariff);
    QVERIFY(r);
    QCOMPARE(rig.truth().tariffVersionActive, quint16(2));
    QVERIFY(v1().readTariff(*client, kUnit).value == newTariff());
    QCOMPARE(*r->snapshot->tariffVersionActive, quint16(2));

    CommandRequest thresholds = request(Kind::ThresholdPush, QStringLiteral("k:thresholds"));
    thresholds.payload = thresholdsPayload(kThresholds);
    QVERIFY(verify(thresholds));
    QVERIFY(v1().readThresholds(*client, kUnit).value == kThresholds);

    // Clock: the backoffice's time at execution.
    m_clock.advanceMs(3'600'000);
    r = verify(request(Kind::ClockSync, QStringLiteral("k:clock")));
    QVERIFY(r);
    QCOMPARE(*r->snapshot->meterTimeS, m_clock.wallMs() / 1000);

    // Read now: the snapshot is the meter's state.
    r = verify(request(Kind::ReadNow, QStringLiteral("k:read")));
    QVERIFY(r);
    QVERIFY(r->snapshot);
    QCOMPARE(*r->snapshot->balanceFen, rig.truth().balanceFen);
    QCOMPARE(r->snapshot->energyTotalRegister, rig.truth().energyRegister);
    QCOMPARE(*r->snapshot->serialNumber, rig.truth().serial);

    QVERIFY(m_commands->loadLive(*m_reader).isEmpty());
}

void TestCommandExecutor::sentIsOnDiskBeforeTheFrame()
{
    Rig rig(prepaidSpec());
    const QString path = m_store->path();
    struct Seen
    {
        quint16 address;
        QString state;
        std::optional<qint64> purchaseSeq;
    };
    QList<Seen> seen; // guarded by rig.mutex (the observer runs under it)
    std::atomic<qint64> watched = 0;
    std::unique_ptr<store::Connection> serverReader; // opened and used on the server's thread only
    rig.observe = [&](const QByteArray &pdu) {
        if (quint8(pdu[0]) != 0x10)
            return;
        if (!serverReader)
            serverReader = store::Connection::open(path, store::Connection::Mode::ReadOnly, 1000, nullptr);
        const DbRow db = readRow(*serverReader, watched.load());
        seen.append({quint16((quint8(pdu[1]) << 8) | quint8(pdu[2])), db.state, db.purchaseSeq});
    };
    auto client = rig.client(m_clock);

    const auto seenSoFar = [&] {
        std::lock_guard lock(rig.mutex);
        return seen;
    };

    watched = enqueued(request(Kind::Recharge, QStringLiteral("before:recharge")));
    QCOMPARE(execute(watched, *client).outcome, ExecuteOutcome::Verified);
    QList<Seen> s = seenSoFar();
    QCOMPARE(s.size(), 1);
    QCOMPARE(s[0].address, addr::RechargeMailbox);
    QCOMPARE(s[0].state, QStringLiteral("sent"));
    QCOMPARE(s[0].purchaseSeq, 5);

    watched = enqueued(request(Kind::RelayTrip, QStringLiteral("before:trip")));
    QCOMPARE(execute(watched, *client).outcome, ExecuteOutcome::Verified);
    s = seenSoFar();
    QCOMPARE(s.size(), 2);
    QCOMPARE(s[1].address, addr::RelayMode);
    QCOMPARE(s[1].state, QStringLiteral("sent"));
    QVERIFY(!s[1].purchaseSeq);

    std::lock_guard lock(rig.mutex); // the server thread is idle between requests
    rig.observe = nullptr;
    serverReader.reset();
}

void TestCommandExecutor::lostReplyThenRestartAppliesOnce()
{
    Rig rig(prepaidSpec());
    const qint64 id = enqueued(request(Kind::Recharge, QStringLiteral("restart")));
    ExecuteResult first;
    {
        auto client = rig.client(m_clock);
        rig.server.push(Behaviour::Answer);      // the plan's read
        rig.server.push(Behaviour::LostReply);   // the meter applies it, the answer is lost
        rig.server.push(Behaviour::LostRequest); // and the read that would tell is lost too
        first = execute(id, *client);
    }
    QCOMPARE(first.outcome, ExecuteOutcome::RetryLater);
    QCOMPARE(first.retryAtMs, m_clock.wallMs() + 5000);
    QVERIFY2(first.message.contains(u"timeout"), qPrintable(first.message));
    DbRow db = row(id);
    QCOMPARE(db.state, QStringLiteral("sent")); // the frame may be out, and the row says so
    QCOMPARE(db.purchaseSeq, 5);
    QCOMPARE(db.attempts, 1);
    QCOMPARE(db.nextAttemptAt, first.retryAtMs);
    QVERIFY(!db.acknowledgedAt);
    QCOMPARE(rig.truth().balanceFen, 15000); // it did arrive

    // prepayd restarts: a new store, a new executor, a new connection; the row drives it again.
    restart();
    const QList<CommandRow> live = m_commands->loadLive(*m_reader);
    QCOMPARE(live.size(), 1);
    QCOMPARE(live[0].id, id);
    QCOMPARE(live[0].purchaseSeq, quint16(5));
    m_clock.advanceMs(5000);
    auto client = rig.client(m_clock);
    const ExecuteResult resumed = execute(id, *client);
    QCOMPARE(resumed.outcome, ExecuteOutcome::Verified);
    QVERIFY2(resumed.message.contains(u"found applied as purchase 5"), qPrintable(resumed.message));
    db = row(id);
    QCOMPARE(db.state, QStringLiteral("verified"));
    QCOMPARE(db.attempts, 2);
    QCOMPARE(db.purchaseSeq, 5);

    // Exactly one application, by the meter's own truth.
    const sim::MeterTruth t = rig.truth();
    QCOMPARE(t.balanceFen, 15000);
    QCOMPARE(t.totalPurchasedFen, 45000);
    QCOMPARE(t.purchaseCount, quint16(5));
    QCOMPARE(int(rig.mailboxWrites().size()), 1);
}

void TestCommandExecutor::sequenceTakenByAnotherRechargeFails()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const qint64 id = enqueued(request(Kind::Recharge, QStringLiteral("taken")));
    // prepayd planned it as purchase 5 and wrote that down, then died before the frame left.
    QVERIFY(m_commands->markSent(id, 1, quint16(5)));
    // Meanwhile another recharge (prepayctl on site, another system) took purchase 5.
    const RechargePlan other = v1().planRecharge(*client, kUnit, 700, 0xD00D).value;
    QCOMPARE(other.sequence, quint16(5));
    QCOMPARE(v1().executeRecharge(*client, kUnit, other).value, RechargeOutcome::Applied);
    QCOMPARE(int(rig.mailboxWrites().size()), 1);

    const ExecuteResult r = execute(id, *client);
    QCOMPARE(r.outcome, ExecuteOutcome::Failed);
    QVERIFY2(r.message.contains(u"another recharge took the sequence"), qPrintable(r.message));
    QVERIFY2(r.message.contains(u"not planned again automatically: staff must"), qPrintable(r.message));
    QCOMPARE(int(rig.mailboxWrites().size()), 1); // nothing sent for it
    const DbRow db = row(id);
    QCOMPARE(db.state, QStringLiteral("failed"));
    QCOMPARE(db.purchaseSeq, 5);
    QCOMPARE(db.attempts, 2);
    QVERIFY(!db.acknowledgedAt);
    QCOMPARE(db.lastError, r.message);
    QCOMPARE(rig.truth().balanceFen, 10700); // only the other one
    // Failed is final: running it again sends nothing and re-plans nothing.
    QCOMPARE(execute(id, *client).outcome, ExecuteOutcome::Failed);
    QCOMPARE(int(rig.mailboxWrites().size()), 1);
}

void TestCommandExecutor::timeoutsBackOffThenGiveUp()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const qint64 id = enqueued(request(Kind::Recharge, QStringLiteral("timeouts")));
    rig.server.push(Behaviour::Answer);      // the plan's read
    rig.server.push(Behaviour::LostRequest); // the frame never arrives
    rig.server.push(Behaviour::LostRequest); // nor the read after it
    qint64 expectedWait = 5000;
    for (int attempt = 1; attempt <= 4; ++attempt) {
        if (attempt > 1)
            rig.server.push(Behaviour::LostRequest); // the read before resending
        const ExecuteResult r = execute(id, *client);
        QCOMPARE(r.outcome, ExecuteOutcome::RetryLater);
        QCOMPARE(r.retryAtMs - m_clock.wallMs(), expectedWait);
        const DbRow db = row(id);
        QCOMPARE(db.state, QStringLiteral("sent"));
        QCOMPARE(db.attempts, attempt);
        QCOMPARE(db.purchaseSeq, 5);
        QCOMPARE(db.nextAttemptAt, r.retryAtMs);
        QVERIFY2(db.lastError.contains(u"timeout"), qPrintable(db.lastError));
        m_clock.advanceMs(r.retryAtMs - m_clock.wallMs());
        expectedWait *= 2;
    }
    rig.server.push(Behaviour::LostRequest);
    const ExecuteResult last = execute(id, *client);
    QCOMPARE(last.outcome, ExecuteOutcome::Failed);
    QVERIFY2(last.message.contains(u"gave up after 5 attempts"), qPrintable(last.message));
    QVERIFY2(last.message.contains(u"purchase sequence 5) may have reached the meter"), qPrintable(last.message));
    const DbRow db = row(id);
    QCOMPARE(db.state, QStringLiteral("failed"));
    QCOMPARE(db.attempts, 5);
    QVERIFY(!db.nextAttemptAt);
    QCOMPARE(int(rig.mailboxWrites().size()), 0);
    QCOMPARE(rig.truth().balanceFen, 10000);
    QCOMPARE(rig.truth().purchaseCount, quint16(4));
}

void TestCommandExecutor::gatewayTimeoutIsRetried()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const qint64 id = enqueued(request(Kind::RelayTrip, QStringLiteral("0x0B")));
    rig.server.push(Behaviour::Exception, 0x0B); // the gateway heard nothing from the meter
    const ExecuteResult first = execute(id, *client);
    QCOMPARE(first.outcome, ExecuteOutcome::RetryLater);
    QVERIFY2(first.message.contains(u"exception_11"), qPrintable(first.message));
    QCOMPARE(row(id).state, QStringLiteral("sent"));
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
    m_clock.advanceMs(5000);
    const ExecuteResult second = execute(id, *client);
    QCOMPARE(second.outcome, ExecuteOutcome::Verified);
    QCOMPARE(row(id).attempts, 2);
    QCOMPARE(rig.truth().relayState, RelayState::Open);
}

void TestCommandExecutor::deadlinePassedFailsWithoutIo()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    CommandRequest r = request(Kind::ReadNow, QStringLiteral("deadline"));
    r.deadlineMs = m_clock.wallMs() + 1000;
    const qint64 id = enqueued(r);
    m_clock.advanceMs(1000);
    const ExecuteResult result = execute(id, *client);
    QCOMPARE(result.outcome, ExecuteOutcome::Failed);
    QVERIFY2(result.message.contains(u"deadline passed"), qPrintable(result.message));
    QCOMPARE(rig.server.requests(), 0);
    QCOMPARE(row(id).state, QStringLiteral("failed"));
    QCOMPARE(row(id).attempts, 0);

    // A back-off that would end after the deadline gives up now instead of waiting for nothing.
    CommandRequest soon = request(Kind::RelayTrip, QStringLiteral("deadline:soon"));
    soon.deadlineMs = m_clock.wallMs() + 4000; // < retry_base_ms
    const qint64 s = enqueued(soon);
    rig.server.push(Behaviour::LostRequest);
    const ExecuteResult gaveUp = execute(s, *client);
    QCOMPARE(gaveUp.outcome, ExecuteOutcome::Failed);
    QVERIFY2(gaveUp.message.contains(u"the deadline passes before attempt 2"), qPrintable(gaveUp.message));
    QCOMPARE(row(s).state, QStringLiteral("failed"));
}

void TestCommandExecutor::cancelledCommandIsNotSent()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    const qint64 id = enqueued(request(Kind::RelayTrip, QStringLiteral("cancel")));
    QVERIFY(m_commands->cancel(id, QStringLiteral("tenant paid in cash")));
    const ExecuteResult r = execute(id, *client);
    QCOMPARE(r.outcome, ExecuteOutcome::Cancelled);
    QVERIFY2(r.message.contains(u"tenant paid in cash"), qPrintable(r.message));
    QCOMPARE(rig.server.requests(), 0);
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
    QCOMPARE(row(id).attempts, 0);
}

void TestCommandExecutor::refusalIsNotAnAcknowledgement()
{
    Rig rig(prepaidSpec());
    auto client = rig.client(m_clock);
    CommandRequest r = request(Kind::TariffPush, QStringLiteral("refused"));
    r.payload = tariffPayload(newTariff());
    const qint64 id = enqueued(r);
    rig.server.push(Behaviour::Exception, 0x03); // the meter says no to the block
    const ExecuteResult result = execute(id, *client);
    QCOMPARE(result.outcome, ExecuteOutcome::Failed);
    QVERIFY2(result.message.contains(u"refused tariff version 2"), qPrintable(result.message));
    const DbRow db = row(id);
    QCOMPARE(db.state, QStringLiteral("failed"));
    QVERIFY(db.sentAt);
    QVERIFY(!db.acknowledgedAt);
    QCOMPARE(rig.truth().tariffVersionActive, quint16(1));
}

void TestCommandExecutor::lyingReadBackIsAcknowledgedThenFailed()
{
    Rig rig(prepaidSpec());
    // This meter acknowledges a relay mode write and keeps its old mode.
    rig.server.setHandler([&rig](quint8, const QByteArray &pdu) {
        std::lock_guard lock(rig.mutex);
        if (quint8(pdu[0]) == 0x10 && pdu.mid(1, 2) == QByteArray("\x11\x10", 2))
            return pdu.left(5);
        return rig.meter.handlePdu(pdu, rig.simMs);
    });
    auto client = rig.client(m_clock);
    const qint64 id = enqueued(request(Kind::RelayTrip, QStringLiteral("liar")));
    const ExecuteResult result = execute(id, *client);
    QCOMPARE(result.outcome, ExecuteOutcome::Failed);
    QVERIFY2(
        result.message.contains(u"reads relay mode auto after being set to force_off"), qPrintable(result.message));
    const DbRow db = row(id);
    QCOMPARE(db.state, QStringLiteral("failed"));
    QVERIFY(db.acknowledgedAt); // the frame got through …
    QVERIFY(!db.verifiedAt);    // … the meter did not do it
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
}

void TestCommandExecutor::relayCloseWithClosePermit()
{
    sim::MeterSpec spec = prepaidSpec();
    spec.balanceFen = -300;
    spec.thresholds.closePolicy = ClosePolicy::WaitForPermit;
    Rig rig(spec);
    QCOMPARE(rig.truth().relayState, RelayState::Open);
    QCOMPARE(rig.truth().tripReason, TripReason::Arrears);
    auto client = rig.client(m_clock);

    // The tenant pays: the recharge, then the close the payment policy asks for.
    QCOMPARE(execute(enqueued(request(Kind::Recharge, QStringLiteral("permit:recharge"))), *client).outcome,
        ExecuteOutcome::Verified);
    QVERIFY(rig.truth().statusWord & status::ClosePermitPending);
    QCOMPARE(rig.truth().relayState, RelayState::Open);
    const qint64 id = enqueued(request(Kind::RelayClose, QStringLiteral("permit:close")));
    const ExecuteResult r = execute(id, *client);
    QCOMPARE(r.outcome, ExecuteOutcome::Verified);
    QCOMPARE(rig.truth().relayState, RelayState::Closed);
    QVERIFY(!(rig.truth().statusWord & status::ClosePermitPending));
    QCOMPARE(r.snapshot->relayState, RelayState::Closed);
    QCOMPARE(rig.truth().lastCommandResult, CommandResult::ClosePermitAccepted);
}

void TestCommandExecutor::relayCloseInArrearsFails()
{
    sim::MeterSpec spec = prepaidSpec();
    spec.balanceFen = -300;
    Rig rig(spec);
    QCOMPARE(rig.truth().relayState, RelayState::Open);
    auto client = rig.client(m_clock);
    const qint64 id = enqueued(request(Kind::RelayClose, QStringLiteral("arrears")));
    const ExecuteResult r = execute(id, *client);
    QCOMPARE(r.outcome, ExecuteOutcome::Failed);
    QVERIFY2(r.message.contains(u"stays tripped for arrears (balance -300 fen)"), qPrintable(r.message));
    QVERIFY(r.snapshot); // the read that showed it, for the recorder
    QCOMPARE(*r.snapshot->balanceFen, -300);
    const DbRow db = row(id);
    QCOMPARE(db.state, QStringLiteral("failed"));
    QVERIFY(db.acknowledgedAt); // the mode write was answered
    QCOMPARE(rig.truth().relayState, RelayState::Open);
}

QTEST_GUILESS_MAIN(TestCommandExecutor)
#include "tst_commandexecutor.moc"
