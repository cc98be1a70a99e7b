// CommandStore on a real database (migrated to the newest schema, the demo building seeded):
// every kind is queued with the right priority and limits; a bad request is refused with a
// message naming the field and writes nothing; a retried key is Duplicate, a reused key with
// another request is Conflict, and so is a second command for a recharge txn or a ledger entry;
// transitions move only from the state they expect, and a recharge's purchase sequence is
// written once and never changes; the live rows come back in the order they must run; and
// eight threads racing with the same keys leave exactly one row per key; a failed command raises
// command_failed in the same transaction, cleared when a later command of the meter supersedes it.
#include "commands/commandpayload.h"
#include "commands/commandstore.h"
#include "manualclock.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QJsonArray>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace prepay;
using namespace prepay::commands;
using namespace prepay::meter::v1;

namespace {

constexpr qint64 kMeter = 1; // A-1F-101, prepaid, installed

TariffBlock sampleTariff()
{
    TariffBlock t;
    t.version = 2;
    t.prices = {13000, 10000, 7000, 3500};
    t.segments = {{0, TariffSlot::Valley}, {420, TariffSlot::Flat}, {1200, TariffSlot::Sharp}};
    return t;
}

const ThresholdBlock kThresholds{8000, 3000, 500, 9000, 5, 30, 2, ClosePolicy::WaitForPermit};

CommandRequest request(Kind kind, const QString &key, qint64 meterId = kMeter)
{
    CommandRequest r;
    r.meterId = meterId;
    r.kind = kind;
    r.idempotencyKey = key;
    r.cause = Cause::System;
    switch (kind) {
    case Kind::Recharge:
        r.amountFen = 5000;
        r.rechargeTxn = 0xCAFE;
        r.cause = Cause::Payment;
        break;
    case Kind::SetMode: r.payload = modePayload(RelayMode::ForceOn); break;
    case Kind::TariffPush: r.payload = tariffPayload(sampleTariff()); break;
    case Kind::ThresholdPush: r.payload = thresholdsPayload(kThresholds); break;
    default: break;
    }
    return r;
}

// The columns the state machine maintains, as the database has them.
struct DbRow
{
    QString state;
    qint64 attempts = -1;
    std::optional<qint64> purchaseSeq, sentAt, acknowledgedAt, verifiedAt, finishedAt, nextAttemptAt, deadline;
    QString lastError;
    qint64 updatedAt = 0;
    qint64 maxAttempts = 0;
    qint64 priority = -1;
    QString payload;
};

std::optional<qint64> opt(const store::Statement &s, int c)
{
    return s.isNull(c) ? std::nullopt : std::optional<qint64>(s.int64(c));
}

struct TestIds
{
    qint64 remoteMeter = 0;
    qint64 stockMeter = 0;
    qint64 operatorId = 0;
    qint64 ledgerEntry = 0;
};

struct Case
{
    const char *name;
    std::function<void(CommandRequest &, const TestIds &)> change;
    EnqueueOutcome outcome;
    QString message; // a fragment of it
};

QJsonObject with(QJsonObject o, const QString &key, const QJsonValue &v)
{
    o.insert(key, v);
    return o;
}

QList<Case> invalidRequests()
{
    const QJsonObject tariff = tariffPayload(sampleTariff());
    const QJsonObject thresholds = thresholdsPayload(kThresholds);
    using O = EnqueueOutcome;
    return {
        {"empty key", [](CommandRequest &r, const TestIds &) { r.idempotencyKey.clear(); }, O::Invalid,
            QStringLiteral("idempotencyKey: required")},
        {"key too long", [](CommandRequest &r, const TestIds &) { r.idempotencyKey = QString(256, u'k'); }, O::Invalid,
            QStringLiteral("idempotencyKey: 256 characters, at most 255")},
        {"meter id 0", [](CommandRequest &r, const TestIds &) { r.meterId = 0; }, O::Invalid,
            QStringLiteral("meterId: 0 is not a meter id")},
        {"no such meter", [](CommandRequest &r, const TestIds &) { r.meterId = 99'999; }, O::UnknownMeter,
            QStringLiteral("meterId: no meter 99999")},
        {"meter in stock", [](CommandRequest &r, const TestIds &ids) { r.meterId = ids.stockMeter; }, O::UnknownMeter,
            QStringLiteral("is in_stock, not installed")},
        {"operator cause without operator", [](CommandRequest &r, const TestIds &) { r.cause = Cause::Operator; },
            O::Invalid, QStringLiteral("operatorId: required when the cause is operator")},
        {"unknown operator",
            [](CommandRequest &r, const TestIds &) {
                r.cause = Cause::Operator;
                r.operatorId = 999;
            },
            O::Invalid, QStringLiteral("operatorId: no operator 999")},
        {"reason too long", [](CommandRequest &r, const TestIds &) { r.reason = QString(1001, u'x'); }, O::Invalid,
            QStringLiteral("reason: 1001 characters, at most 1000")},
        {"correlation id too long", [](CommandRequest &r, const TestIds &) { r.correlationId = QString(300, u'c'); },
            O::Invalid, QStringLiteral("correlationId: 300 characters")},
        {"recharge without amount",
            [](CommandRequest &r, const TestIds &) {
                r = request(Kind::Recharge, r.idempotencyKey);
                r.amountFen.reset();
            },
            O::Invalid, QStringLiteral("amountFen: required for a recharge")},
        {"recharge of 0 fen",
            [](CommandRequest &r, const TestIds &) {
                r = request(Kind::Recharge, r.idempotencyKey);
                r.amountFen = 0;
            },
            O::Invalid, QStringLiteral("amountFen: 0 is outside 1..100000000")},
        {"recharge above the mailbox's maximum",
            [](CommandRequest &r, const TestIds &) {
                r = request(Kind::Recharge, r.idempotencyKey);
                r.amountFen = 100'000'001;
            },
            O::Invalid, QStringLiteral("amountFen: 100000001 is outside")},
        {"recharge without txn",
            [](CommandRequest &r, const TestIds &) {
                r = request(Kind::Recharge, r.idempotencyKey);
                r.rechargeTxn.reset();
            },
            O::Invalid, QStringLiteral("rechargeTxn: required for a recharge")},
        {"recharge with a payload",
            [](CommandRequest &r, const TestIds &) {
                r = request(Kind::Recharge, r.idempotencyKey);
                r.payload = QJsonObject{{QStringLiteral("amount"), 5}};
            },
            O::Invalid, QStringLiteral("payload.amount: not a field of this command")},
        {"recharge of an unknown ledger entry",
            [](CommandRequest &r, const TestIds &) {
                r = request(Kind::Recharge, r.idempotencyKey);
                r.ledgerEntryId = 4242;
            },
            O::Invalid, QStringLiteral("ledgerEntryId: no ledger entry 4242")},
        {"recharge of a remote-only meter",
            [](CommandRequest &r, const TestIds &ids) {
                r = request(Kind::Recharge, r.idempotencyKey, ids.remoteMeter);
            },
            O::Invalid, QStringLiteral("is remote_only and keeps no balance")},
        {"amount on a trip", [](CommandRequest &r, const TestIds &) { r.amountFen = 100; }, O::Invalid,
            QStringLiteral("amountFen: only a recharge carries an amount, not relay_trip")},
        {"txn on a trip", [](CommandRequest &r, const TestIds &) { r.rechargeTxn = 7; }, O::Invalid,
            QStringLiteral("rechargeTxn: only a recharge carries a txn")},
        {"ledger entry on a trip", [](CommandRequest &r, const TestIds &ids) { r.ledgerEntryId = ids.ledgerEntry; },
            O::Invalid, QStringLiteral("ledgerEntryId: only a recharge delivers a ledger entry")},
        {"set_mode without a mode",
            [](CommandRequest &r, const TestIds &) {
                r.kind = Kind::SetMode;
                r.payload = {};
            },
            O::Invalid, QStringLiteral("payload.mode: missing")},
        {"set_mode to an unknown mode",
            [](CommandRequest &r, const TestIds &) {
                r.kind = Kind::SetMode;
                r.payload = QJsonObject{{QStringLiteral("mode"), QStringLiteral("on")}};
            },
            O::Invalid, QStringLiteral("payload.mode: must be \"auto\", \"force_on\" or \"force_off\"")},
        {"tariff version 0",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("version"), 0);
            },
            O::Invalid, QStringLiteral("payload.version: must be a whole number in 1..65535")},
        {"tariff with three prices",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("prices"), QJsonArray{1, 2, 3});
            },
            O::Invalid, QStringLiteral("payload.prices: must be 4 prices")},
        {"tariff with a free slot",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("prices"), QJsonArray{1, 2, 0, 4});
            },
            O::Invalid, QStringLiteral("payload.prices[2]: must be a whole number in 1..4294967295")},
        {"tariff with a fractional price",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("prices"), QJsonArray{1.5, 2, 3, 4});
            },
            O::Invalid, QStringLiteral("payload.prices[0]")},
        {"tariff starting at 01:00",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("tou"),
                    QJsonArray{QJsonArray{60, QStringLiteral("flat")}, QJsonArray{600, QStringLiteral("peak")}});
            },
            O::Invalid, QStringLiteral("payload.tou: the first segment starts at minute 60, not 0")},
        {"tariff segments out of order",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("tou"),
                    QJsonArray{QJsonArray{0, QStringLiteral("flat")}, QJsonArray{600, QStringLiteral("peak")},
                        QJsonArray{500, QStringLiteral("valley")}});
            },
            O::Invalid, QStringLiteral("payload.tou: segment 2 does not start after segment 1")},
        {"tariff with an unknown slot",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                r.payload = with(tariff, QStringLiteral("tou"),
                    QJsonArray{QJsonArray{0, QStringLiteral("flat")}, QJsonArray{600, QStringLiteral("night")}});
            },
            O::Invalid, QStringLiteral("payload.tou[1]: must be [start minute 0..1439")},
        {"tariff with nine segments",
            [tariff](CommandRequest &r, const TestIds &) {
                r.kind = Kind::TariffPush;
                QJsonArray tou;
                for (int i = 0; i < 9; ++i)
                    tou.append(QJsonArray{i * 100, QStringLiteral("flat")});
                r.payload = with(tariff, QStringLiteral("tou"), tou);
            },
            O::Invalid, QStringLiteral("payload.tou: must be 1..8 segments")},
        {"thresholds with alarm2 above alarm1",
            [thresholds](CommandRequest &r, const TestIds &) {
                r.kind = Kind::ThresholdPush;
                r.payload = with(thresholds, QStringLiteral("alarm2_fen"), 9000);
            },
            O::Invalid, QStringLiteral("payload.alarm2_fen: 9000 is above alarm1_fen 8000")},
        {"thresholds locking out without a trip",
            [thresholds](CommandRequest &r, const TestIds &) {
                r.kind = Kind::ThresholdPush;
                r.payload = with(thresholds, QStringLiteral("overload_max_trips"), 0);
            },
            O::Invalid, QStringLiteral("payload.overload_max_trips: must be a whole number in 1..65535")},
        {"thresholds without a delay",
            [thresholds](CommandRequest &r, const TestIds &) {
                r.kind = Kind::ThresholdPush;
                r.payload = thresholds;
                r.payload.remove(QStringLiteral("overload_delay_s"));
            },
            O::Invalid, QStringLiteral("payload.overload_delay_s: missing")},
        {"thresholds with a negative alarm",
            [thresholds](CommandRequest &r, const TestIds &) {
                r.kind = Kind::ThresholdPush;
                r.payload = with(thresholds, QStringLiteral("alarm1_fen"), -1);
            },
            O::Invalid, QStringLiteral("payload.alarm1_fen: must be a whole number in 0..4294967295")},
        {"thresholds with an unknown close policy",
            [thresholds](CommandRequest &r, const TestIds &) {
                r.kind = Kind::ThresholdPush;
                r.payload = with(thresholds, QStringLiteral("close_policy"), QStringLiteral("manual"));
            },
            O::Invalid, QStringLiteral("payload.close_policy: must be \"auto_close\" or \"wait_for_permit\"")},
        {"thresholds with a misspelt field",
            [thresholds](CommandRequest &r, const TestIds &) {
                r.kind = Kind::ThresholdPush;
                r.payload = with(thresholds, QStringLiteral("alarm_1_fen"), 100);
            },
            O::Invalid, QStringLiteral("payload.alarm_1_fen: not a field of this command")},
        {"tariff for a remote-only meter",
            [tariff](CommandRequest &r, const TestIds &ids) {
                r.kind = Kind::TariffPush;
                r.payload = tariff;
                r.meterId = ids.remoteMeter;
            },
            O::Invalid, QStringLiteral("tariff_push needs a prepaid meter")},
        {"deadline already passed",
            [](CommandRequest &r, const TestIds &) { r.deadlineMs = test::ManualClock().wallMs() - 1; }, O::Invalid,
            QStringLiteral("deadlineMs: ")},
    };
}

} // namespace

class TestCommandStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void everyKindIsQueued();
    void priorities();
    void limitsComeFromTheSettings();
    void invalidRequestsWriteNothing_data();
    void invalidRequestsWriteNothing();
    void keyLengthCountsCharacters();
    void duplicateAndConflict();
    void rechargeTxnIsOneCommandPerMeter();
    void ledgerEntryIsDeliveredOnce();
    void transitionsOfTheHappyPath();
    void staleTransitionsAreRefused();
    void failedCommandsRaiseAnAlarmUntilSuperseded();
    void purchaseSequenceIsWrittenOnce();
    void retryKeepsTheState();
    void loadLiveRunsByPriorityThenId();
    void concurrentEnqueuesLeaveOneRowPerKey();
    void stoppedStoreIsANamedOutcome();

private:
    DbRow dbRow(qint64 id);
    qint64 count(const QString &sql);
    void exec(const QString &sql);
    qint64 enqueued(const CommandRequest &r);

    std::unique_ptr<QTemporaryDir> m_dir;
    test::ManualClock m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<CommandStore> m_commands;
    std::unique_ptr<store::Connection> m_reader;
    TestIds m_ids;
};

void TestCommandStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
    QVERIFY2(opened.store, qPrintable(opened.message));
    m_store = std::move(opened.store);
    const store::SeedReport seeded = store::applySeed(*m_store, QStringLiteral("demo"));
    QVERIFY2(seeded.outcome == store::SeedOutcome::Applied, qPrintable(seeded.message));
    // An operator, a ledger entry and a meter from stock for the rules that need them.
    exec(QStringLiteral("INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, "
                        "password_params, created_at_ms, updated_at_ms) VALUES (7, 'lin', '林', 'operator', "
                        "zeroblob(32), zeroblob(16), 'scrypt:N=16,r=8,p=1', 0, 0)"));
    exec(QStringLiteral("INSERT INTO ledger_entries (id, kind, idempotency_key, request_hash, operator_id, reason, "
                        "created_at_ms) VALUES (31, 'adjustment', 'op:test-31', zeroblob(32), 7, 'test', 0), "
                        "(32, 'adjustment', 'op:test-32', zeroblob(32), 7, 'test', 0)"));
    exec(QStringLiteral("INSERT INTO meters (id, serial_number, model, device_type, capability, rated_current_ma, "
                        "max_current_ma, created_at_ms) VALUES (5001, 99000001, 'DDSY1352-NK', 'single_phase', "
                        "'prepaid', 10000, 60000, 0)"));
    m_ids.operatorId = 7;
    m_ids.ledgerEntry = 31;
    m_ids.stockMeter = 5001;
    m_ids.remoteMeter = count(QStringLiteral("SELECT min(id) FROM meters WHERE capability = 'remote_only'"));
    QVERIFY(m_ids.remoteMeter > 0);
    m_commands = std::make_unique<CommandStore>(*m_store, m_clock);
    m_reader = m_store->openReader();
    QVERIFY(m_reader);
}

void TestCommandStore::cleanup()
{
    m_reader.reset();
    m_commands.reset();
    m_store.reset();
    m_dir.reset();
}

void TestCommandStore::exec(const QString &sql)
{
    QVERIFY(test::runScript(*m_store, sql));
}

qint64 TestCommandStore::count(const QString &sql)
{
    const std::unique_ptr<store::Connection> reader = m_store->openReader();
    store::SqlError error;
    const qint64 n = reader->queryInt(sql, &error);
    if (!error.ok())
        qWarning("%s", qPrintable(error.toString()));
    return n;
}

DbRow TestCommandStore::dbRow(qint64 id)
{
    store::Statement s = m_reader->prepare(QStringLiteral(
        "SELECT state, attempts, purchase_seq, sent_at_ms, acknowledged_at_ms, verified_at_ms, finished_at_ms, "
        "next_attempt_at_ms, deadline_ms, last_error, updated_at_ms, max_attempts, priority, payload "
        "FROM meter_commands WHERE id = ?1"));
    s.bind(1, id);
    DbRow r;
    if (s.step() != store::Statement::Step::Row)
        return r;
    r.state = s.text(0);
    r.attempts = s.int64(1);
    r.purchaseSeq = opt(s, 2);
    r.sentAt = opt(s, 3);
    r.acknowledgedAt = opt(s, 4);
    r.verifiedAt = opt(s, 5);
    r.finishedAt = opt(s, 6);
    r.nextAttemptAt = opt(s, 7);
    r.deadline = opt(s, 8);
    r.lastError = s.text(9);
    r.updatedAt = s.int64(10);
    r.maxAttempts = s.int64(11);
    r.priority = s.int64(12);
    r.payload = s.text(13);
    return r;
}

qint64 TestCommandStore::enqueued(const CommandRequest &r)
{
    const EnqueueResult result = m_commands->enqueue(r);
    if (result.outcome != EnqueueOutcome::Queued) {
        qWarning("enqueue: %s: %s", qPrintable(enqueueOutcomeCode(result.outcome)), qPrintable(result.message));
        return 0;
    }
    return result.commandId;
}

void TestCommandStore::everyKindIsQueued()
{
    const QList<std::pair<Kind, int>> kinds = {{Kind::Recharge, 0}, {Kind::RelayClose, 0}, {Kind::RelayTrip, 1},
        {Kind::SetMode, 0}, {Kind::TariffPush, 2}, {Kind::ThresholdPush, 2}, {Kind::ClockSync, 2}, {Kind::ReadNow, 3}};
    for (const auto &[kind, priority] : kinds) {
        CommandRequest r = request(kind, QStringLiteral("every:") + kindCode(kind));
        r.correlationId = QStringLiteral("corr-1");
        r.reason = QStringLiteral("测试");
        if (kind == Kind::RelayTrip) {
            r.cause = Cause::Operator;
            r.operatorId = m_ids.operatorId;
        }
        if (kind == Kind::Recharge)
            r.ledgerEntryId = m_ids.ledgerEntry;
        const EnqueueResult result = m_commands->enqueue(r);
        QVERIFY2(result.outcome == EnqueueOutcome::Queued, qPrintable(kindCode(kind) + u' ' + result.message));
        QVERIFY(result.commandId > 0);

        const std::optional<CommandRow> row = m_commands->load(*m_reader, result.commandId);
        QVERIFY(row);
        QCOMPARE(row->kind, kind);
        QCOMPARE(row->state, State::Queued);
        QCOMPARE(row->priority, priority);
        QCOMPARE(row->meterId, kMeter);
        QCOMPARE(row->payload, r.payload);
        QCOMPARE(row->idempotencyKey, r.idempotencyKey);
        QCOMPARE(row->correlationId, QStringLiteral("corr-1"));
        QCOMPARE(row->amountFen, r.amountFen);
        QCOMPARE(row->rechargeTxn, r.rechargeTxn);
        QVERIFY(!row->purchaseSeq);
        QCOMPARE(row->attempts, 0);
        QCOMPARE(row->maxAttempts, 5);
        QCOMPARE(row->createdAtMs, m_clock.wallMs());
        QCOMPARE(row->deadlineMs, m_clock.wallMs() + 86'400'000);
        QVERIFY(!row->nextAttemptAtMs);
    }
    // The payloads decode back to the blocks they came from.
    const QList<CommandRow> live = m_commands->loadLive(*m_reader);
    QCOMPARE(live.size(), kinds.size());
    for (const CommandRow &row : live) {
        if (row.kind == Kind::TariffPush)
            QVERIFY(tariffFromPayload(row.payload) == sampleTariff());
        if (row.kind == Kind::ThresholdPush)
            QVERIFY(thresholdsFromPayload(row.payload) == kThresholds);
        if (row.kind == Kind::SetMode)
            QCOMPARE(modeFromPayload(row.payload), RelayMode::ForceOn);
    }
    QCOMPARE(count(QStringLiteral("SELECT operator_id FROM meter_commands WHERE kind = 'relay_trip'")), 7);
    QCOMPARE(count(QStringLiteral("SELECT ledger_entry_id FROM meter_commands WHERE kind = 'recharge'")), 31);
}

void TestCommandStore::priorities()
{
    QCOMPARE(priorityOf(Kind::Recharge, {}), 0);
    QCOMPARE(priorityOf(Kind::RelayClose, {}), 0);
    QCOMPARE(priorityOf(Kind::SetMode, modePayload(RelayMode::ForceOn)), 0);
    QCOMPARE(priorityOf(Kind::RelayTrip, {}), 1);
    QCOMPARE(priorityOf(Kind::SetMode, modePayload(RelayMode::Auto)), 1);
    QCOMPARE(priorityOf(Kind::SetMode, modePayload(RelayMode::ForceOff)), 1);
    QCOMPARE(priorityOf(Kind::TariffPush, {}), 2);
    QCOMPARE(priorityOf(Kind::ThresholdPush, {}), 2);
    QCOMPARE(priorityOf(Kind::ClockSync, {}), 2);
    QCOMPARE(priorityOf(Kind::ReadNow, {}), 3);
    QVERIFY(priorityOf(Kind::ReadNow, {}) < kPollPriority);
    // The codes round-trip.
    for (Kind k : {Kind::Recharge, Kind::RelayClose, Kind::RelayTrip, Kind::SetMode, Kind::TariffPush,
             Kind::ThresholdPush, Kind::ClockSync, Kind::ReadNow})
        QCOMPARE(kindFromCode(kindCode(k)), k);
    QVERIFY(!kindFromCode(u"reboot"));
    QCOMPARE(stateFromCode(u"acknowledged"), State::Acknowledged);
}

void TestCommandStore::limitsComeFromTheSettings()
{
    exec(QStringLiteral("UPDATE settings SET value = '3' WHERE key = 'command.attempts_max'"));
    exec(QStringLiteral("UPDATE settings SET value = '60000' WHERE key = 'command.deadline_ms'"));
    exec(QStringLiteral("UPDATE settings SET value = 'soon' WHERE key = 'command.retry_base_ms'"));
    const qint64 id = enqueued(request(Kind::ReadNow, QStringLiteral("limits")));
    QVERIFY(id > 0);
    QCOMPARE(dbRow(id).maxAttempts, 3);
    QCOMPARE(dbRow(id).deadline, m_clock.wallMs() + 60'000);
    // An explicit deadline wins.
    CommandRequest r = request(Kind::ReadNow, QStringLiteral("limits:2"));
    r.deadlineMs = m_clock.wallMs() + 5;
    const qint64 id2 = enqueued(r);
    QCOMPARE(dbRow(id2).deadline, m_clock.wallMs() + 5);
    // A setting that is not a number falls back to its default.
    const CommandLimits limits = m_commands->readLimits();
    QCOMPARE(limits.attemptsMax, 3);
    QCOMPARE(limits.retryBaseMs, CommandLimits{}.retryBaseMs);
    QCOMPARE(limits.retryMaxMs, 600'000);
}

void TestCommandStore::invalidRequestsWriteNothing_data()
{
    QTest::addColumn<int>("index");
    const QList<Case> cases = invalidRequests();
    QVERIFY(cases.size() >= 15);
    for (int i = 0; i < cases.size(); ++i)
        QTest::newRow(cases[i].name) << i;
}

void TestCommandStore::invalidRequestsWriteNothing()
{
    QFETCH(int, index);
    const Case c = invalidRequests().at(index);
    CommandRequest r = request(Kind::RelayTrip, QStringLiteral("bad"));
    c.change(r, m_ids);
    const EnqueueResult result = m_commands->enqueue(r);
    QVERIFY2(result.outcome == c.outcome,
        qPrintable(QStringLiteral("%1: %2").arg(enqueueOutcomeCode(result.outcome), result.message)));
    QVERIFY2(result.message.contains(c.message), qPrintable(result.message));
    QCOMPARE(result.commandId, 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands")), 0);
}

void TestCommandStore::keyLengthCountsCharacters()
{
    // 255 characters of three UTF-8 bytes each: the schema counts characters, and so do we.
    CommandRequest r = request(Kind::ReadNow, QString(255, u'电'));
    QCOMPARE(m_commands->enqueue(r).outcome, EnqueueOutcome::Queued);
    // A character outside the BMP is one character (two UTF-16 units).
    QString astral;
    for (int i = 0; i < 255; ++i)
        astral += QString::fromUcs4(U"𠀋", 1);
    r = request(Kind::ReadNow, astral);
    QCOMPARE(m_commands->enqueue(r).outcome, EnqueueOutcome::Queued);
    r = request(Kind::ReadNow, astral + QStringLiteral("x"));
    QCOMPARE(m_commands->enqueue(r).outcome, EnqueueOutcome::Invalid);
}

void TestCommandStore::duplicateAndConflict()
{
    CommandRequest r = request(Kind::TariffPush, QStringLiteral("tariff:v2:meter1"));
    const EnqueueResult first = m_commands->enqueue(r);
    QCOMPARE(first.outcome, EnqueueOutcome::Queued);

    // The same request again (metadata may differ: who asked again, why): the same command.
    CommandRequest again = r;
    again.reason = QStringLiteral("retry from the API");
    again.correlationId = QStringLiteral("other");
    const EnqueueResult dup = m_commands->enqueue(again);
    QCOMPARE(dup.outcome, EnqueueOutcome::Duplicate);
    QCOMPARE(dup.commandId, first.commandId);

    // The same key for something else: refused, naming what differs.
    CommandRequest otherPayload = r;
    TariffBlock t = sampleTariff();
    t.prices[0] += 1;
    otherPayload.payload = tariffPayload(t);
    const EnqueueResult conflict = m_commands->enqueue(otherPayload);
    QCOMPARE(conflict.outcome, EnqueueOutcome::Conflict);
    QVERIFY2(conflict.message.contains(u"with another payload"), qPrintable(conflict.message));
    QCOMPARE(conflict.commandId, 0);

    CommandRequest otherMeter = r;
    otherMeter.meterId = 2;
    QCOMPARE(m_commands->enqueue(otherMeter).outcome, EnqueueOutcome::Conflict);
    CommandRequest otherKind = request(Kind::ReadNow, r.idempotencyKey);
    const EnqueueResult kindConflict = m_commands->enqueue(otherKind);
    QCOMPARE(kindConflict.outcome, EnqueueOutcome::Conflict);
    QVERIFY2(kindConflict.message.contains(u"kind, payload"), qPrintable(kindConflict.message));

    // Recharges: amount and txn are the request too.
    CommandRequest rc = request(Kind::Recharge, QStringLiteral("recharge:attempt:1"));
    QCOMPARE(m_commands->enqueue(rc).outcome, EnqueueOutcome::Queued);
    QCOMPARE(m_commands->enqueue(rc).outcome, EnqueueOutcome::Duplicate);
    CommandRequest rcAmount = rc;
    rcAmount.amountFen = 5001;
    QCOMPARE(m_commands->enqueue(rcAmount).outcome, EnqueueOutcome::Conflict);
    CommandRequest rcTxn = rc;
    rcTxn.rechargeTxn = 0xBEEF;
    QCOMPARE(m_commands->enqueue(rcTxn).outcome, EnqueueOutcome::Conflict);
    CommandRequest rcLedger = rc;
    rcLedger.ledgerEntryId = m_ids.ledgerEntry;
    QCOMPARE(m_commands->enqueue(rcLedger).outcome, EnqueueOutcome::Conflict);

    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands")), 2);
}

void TestCommandStore::rechargeTxnIsOneCommandPerMeter()
{
    const qint64 id = enqueued(request(Kind::Recharge, QStringLiteral("recharge:a")));
    QVERIFY(id > 0);
    // The same txn under another key: the same money asked for twice.
    const EnqueueResult second = m_commands->enqueue(request(Kind::Recharge, QStringLiteral("recharge:b")));
    QCOMPARE(second.outcome, EnqueueOutcome::Conflict);
    QVERIFY2(second.message.contains(QStringLiteral("rechargeTxn: txn 51966 on meter 1 is already command %1").arg(id)),
        qPrintable(second.message));
    // Another meter may carry the same txn number.
    QCOMPARE(
        m_commands->enqueue(request(Kind::Recharge, QStringLiteral("recharge:c"), 2)).outcome, EnqueueOutcome::Queued);
    // Even once the first has failed, its txn stays taken: the meter may have it.
    QVERIFY(m_commands->markFailed(id, QStringLiteral("test")));
    QCOMPARE(
        m_commands->enqueue(request(Kind::Recharge, QStringLiteral("recharge:d"))).outcome, EnqueueOutcome::Conflict);
}

void TestCommandStore::ledgerEntryIsDeliveredOnce()
{
    CommandRequest a = request(Kind::Recharge, QStringLiteral("ledger:a"));
    a.ledgerEntryId = m_ids.ledgerEntry;
    QCOMPARE(m_commands->enqueue(a).outcome, EnqueueOutcome::Queued);
    CommandRequest b = request(Kind::Recharge, QStringLiteral("ledger:b"));
    b.rechargeTxn = 0xB;
    b.ledgerEntryId = m_ids.ledgerEntry;
    const EnqueueResult r = m_commands->enqueue(b);
    QCOMPARE(r.outcome, EnqueueOutcome::Conflict);
    QVERIFY2(r.message.contains(u"ledgerEntryId: ledger entry 31 is already delivered"), qPrintable(r.message));
    b.ledgerEntryId = 32;
    QCOMPARE(m_commands->enqueue(b).outcome, EnqueueOutcome::Queued);
}

void TestCommandStore::transitionsOfTheHappyPath()
{
    const qint64 id = enqueued(request(Kind::RelayTrip, QStringLiteral("trip")));
    const qint64 t0 = m_clock.wallMs();
    QCOMPARE(dbRow(id).state, QStringLiteral("queued"));
    QCOMPARE(dbRow(id).updatedAt, t0);

    m_clock.advanceMs(10);
    QVERIFY(m_commands->markSent(id, 1));
    DbRow r = dbRow(id);
    QCOMPARE(r.state, QStringLiteral("sent"));
    QCOMPARE(r.attempts, 1);
    QCOMPARE(r.sentAt, t0 + 10);
    QVERIFY(!r.acknowledgedAt);
    QCOMPARE(r.updatedAt, t0 + 10);

    m_clock.advanceMs(10);
    QVERIFY(m_commands->markAcknowledged(id));
    r = dbRow(id);
    QCOMPARE(r.state, QStringLiteral("acknowledged"));
    QCOMPARE(r.acknowledgedAt, t0 + 20);
    QVERIFY(!r.verifiedAt);

    m_clock.advanceMs(10);
    QVERIFY(m_commands->markVerified(id));
    r = dbRow(id);
    QCOMPARE(r.state, QStringLiteral("verified"));
    QCOMPARE(r.verifiedAt, t0 + 30);
    QCOMPARE(r.finishedAt, t0 + 30);
    QCOMPARE(r.sentAt, t0 + 10);
    QCOMPARE(r.updatedAt, t0 + 30);
    QVERIFY(m_commands->loadLive(*m_reader).isEmpty());

    // Cancel and fail.
    const qint64 c = enqueued(request(Kind::ReadNow, QStringLiteral("read:c")));
    QVERIFY(m_commands->cancel(c, QStringLiteral("operator changed their mind")));
    QCOMPARE(dbRow(c).state, QStringLiteral("cancelled"));
    QCOMPARE(dbRow(c).lastError, QStringLiteral("cancelled: operator changed their mind"));
    QCOMPARE(dbRow(c).finishedAt, m_clock.wallMs());
    const qint64 f = enqueued(request(Kind::ReadNow, QStringLiteral("read:f")));
    QVERIFY(m_commands->markSent(f, 1));
    QVERIFY(m_commands->markFailed(f, QStringLiteral("meter refused")));
    QCOMPARE(dbRow(f).state, QStringLiteral("failed"));
    QCOMPARE(dbRow(f).lastError, QStringLiteral("meter refused"));
    QVERIFY(dbRow(f).finishedAt);
}

void TestCommandStore::staleTransitionsAreRefused()
{
    const qint64 id = enqueued(request(Kind::RelayTrip, QStringLiteral("stale")));
    QVERIFY(!m_commands->markAcknowledged(id)); // never sent
    QVERIFY(!m_commands->markVerified(id));
    QVERIFY(!m_commands->markSent(id, 2));             // not the next attempt
    QVERIFY(!m_commands->markSent(id, 1, quint16(3))); // not a recharge
    QVERIFY(!m_commands->markSent(424242, 1));         // no such command
    QCOMPARE(dbRow(id).state, QStringLiteral("queued"));
    QCOMPARE(dbRow(id).attempts, 0);

    QVERIFY(m_commands->markSent(id, 1));
    QVERIFY(!m_commands->markSent(id, 1));                        // the same attempt twice (another worker)
    QVERIFY(!m_commands->markVerified(id));                       // not acknowledged yet
    QVERIFY(!m_commands->cancel(id, QStringLiteral("too late"))); // its frame may be out
    QCOMPARE(dbRow(id).state, QStringLiteral("sent"));

    QVERIFY(m_commands->markAcknowledged(id));
    QVERIFY(m_commands->markAcknowledged(id)); // a later attempt's write answered again
    QVERIFY(m_commands->markVerified(id));
    // Final is final.
    QVERIFY(!m_commands->markVerified(id));
    QVERIFY(!m_commands->markFailed(id, QStringLiteral("late")));
    QVERIFY(!m_commands->markSent(id, 2));
    QVERIFY(!m_commands->scheduleRetry(id, 1, QStringLiteral("late"), m_clock.wallMs()));
    QVERIFY(!m_commands->cancel(id, QStringLiteral("late")));
    QCOMPARE(dbRow(id).state, QStringLiteral("verified"));
    QCOMPARE(dbRow(id).lastError, QString());

    // A cancelled command is never sent.
    const qint64 c = enqueued(request(Kind::ReadNow, QStringLiteral("stale:c")));
    QVERIFY(m_commands->cancel(c, QStringLiteral("no")));
    QVERIFY(!m_commands->markSent(c, 1));
    QCOMPARE(dbRow(c).attempts, 0);

    // No attempt beyond max_attempts.
    exec(QStringLiteral("UPDATE settings SET value = '2' WHERE key = 'command.attempts_max'"));
    const qint64 m = enqueued(request(Kind::ReadNow, QStringLiteral("stale:m")));
    QVERIFY(m_commands->markSent(m, 1));
    QVERIFY(m_commands->markSent(m, 2));
    QVERIFY(!m_commands->markSent(m, 3));
    QVERIFY(!m_commands->scheduleRetry(m, 3, QStringLiteral("x"), 0));
    QCOMPARE(dbRow(m).attempts, 2);
}

void TestCommandStore::failedCommandsRaiseAnAlarmUntilSuperseded()
{
    const auto openAlarm = [this](qint64 commandId) {
        return count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'command_failed' AND subject_kind = "
                                    "'meter_command' AND subject_id = %1 AND cleared_at_ms IS NULL")
                         .arg(commandId));
    };
    const auto verify = [this](qint64 commandId) {
        QVERIFY(m_commands->markSent(commandId, 1));
        QVERIFY(m_commands->markAcknowledged(commandId));
        QVERIFY(m_commands->markVerified(commandId));
    };

    // A trip that gives up: critical, in the same transaction as 'failed', with what happened.
    const qint64 trip = enqueued(request(Kind::RelayTrip, QStringLiteral("alarm:trip")));
    QVERIFY(m_commands->markSent(trip, 1));
    QVERIFY(m_commands->markFailed(trip, QStringLiteral("no reply within 1000 ms, 5 attempts")));
    QCOMPARE(openAlarm(trip), 1);
    QCOMPARE(count(QStringLiteral("SELECT severity = 'critical' AND json_extract(detail, '$.meter_id') = %1 AND "
                                  "json_extract(detail, '$.kind') = 'relay_trip' AND json_extract(detail, "
                                  "'$.attempts') = 1 FROM alarms WHERE subject_id = %2 AND kind = 'command_failed'")
                 .arg(kMeter)
                 .arg(trip)),
        1);
    // A failed clock sync: a warning.
    const qint64 clock = enqueued(request(Kind::ClockSync, QStringLiteral("alarm:clock")));
    QVERIFY(m_commands->markFailed(clock, QStringLiteral("exception 0x04")));
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE subject_id = %1 AND kind = 'command_failed' "
                                  "AND severity = 'warning' AND cleared_at_ms IS NULL")
                 .arg(clock)),
        1);
    // A failed recharge.
    const qint64 recharge = enqueued(request(Kind::Recharge, QStringLiteral("alarm:recharge")));
    QVERIFY(m_commands->markSent(recharge, 1, quint16(2)));
    QVERIFY(m_commands->markFailed(recharge, QStringLiteral("deadline passed")));
    QCOMPARE(openAlarm(recharge), 1);

    // Another meter's relay command, or a clock sync, supersedes nothing of this meter's trip.
    verify(enqueued(request(Kind::RelayClose, QStringLiteral("alarm:other-meter"), 2)));
    verify(enqueued(request(Kind::ClockSync, QStringLiteral("alarm:clock-again"))));
    QCOMPARE(openAlarm(trip), 1);
    QCOMPARE(openAlarm(clock), 0); // the clock sync of the same kind did

    // A later relay command of the same meter verified (here a close after a credit): cleared.
    verify(enqueued(request(Kind::RelayClose, QStringLiteral("alarm:close"))));
    QCOMPARE(openAlarm(trip), 0);
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM alarms WHERE kind = 'command_failed' AND subject_id = %1")
                 .arg(trip)),
        1); // one episode, now cleared

    // A later recharge verified does not deliver the failed one's money: still open.
    CommandRequest next = request(Kind::Recharge, QStringLiteral("alarm:recharge-2"));
    next.rechargeTxn = 0xBEEF;
    const qint64 second = enqueued(next);
    QVERIFY(m_commands->markSent(second, 1, quint16(2)));
    QVERIFY(m_commands->markAcknowledged(second));
    QVERIFY(m_commands->markVerified(second));
    QCOMPARE(openAlarm(recharge), 1);
    QCOMPARE(openAlarm(second), 0);
}

void TestCommandStore::purchaseSequenceIsWrittenOnce()
{
    const qint64 id = enqueued(request(Kind::Recharge, QStringLiteral("seq")));
    QVERIFY(!m_commands->markSent(id, 1)); // a recharge leaves only with its sequence
    QCOMPARE(dbRow(id).state, QStringLiteral("queued"));

    QVERIFY(m_commands->markSent(id, 1, quint16(7)));
    QCOMPARE(dbRow(id).purchaseSeq, 7);
    QCOMPARE(m_commands->load(*m_reader, id)->purchaseSeq, quint16(7));
    QVERIFY(m_commands->scheduleRetry(id, 1, QStringLiteral("timeout"), m_clock.wallMs() + 5000));

    QVERIFY(!m_commands->markSent(id, 2, quint16(8))); // never another sequence
    QCOMPARE(dbRow(id).purchaseSeq, 7);
    QCOMPARE(dbRow(id).attempts, 1);
    QVERIFY(m_commands->markSent(id, 2)); // the stored one goes on
    QCOMPARE(dbRow(id).purchaseSeq, 7);
    QVERIFY(m_commands->markSent(id, 3, quint16(7))); // the same one may be restated
    QCOMPARE(dbRow(id).purchaseSeq, 7);
    QCOMPARE(dbRow(id).attempts, 3);
    QVERIFY(m_commands->markFailed(id, QStringLiteral("gave up")));
    QCOMPARE(dbRow(id).purchaseSeq, 7); // kept as evidence

    // Sequence 0 (after the count wrapped) is a sequence like any other.
    CommandRequest wrap = request(Kind::Recharge, QStringLiteral("seq:0"));
    wrap.rechargeTxn = 99;
    const qint64 w = enqueued(wrap);
    QVERIFY(m_commands->markSent(w, 1, quint16(0)));
    QVERIFY(!m_commands->markSent(w, 2, quint16(1)));
    QCOMPARE(dbRow(w).purchaseSeq, 0);
}

void TestCommandStore::retryKeepsTheState()
{
    // A failure before the first frame (planning read timed out): still queued, attempt counted.
    const qint64 q = enqueued(request(Kind::Recharge, QStringLiteral("retry:q")));
    QVERIFY(m_commands->scheduleRetry(q, 1, QStringLiteral("timeout planning"), m_clock.wallMs() + 5000));
    DbRow r = dbRow(q);
    QCOMPARE(r.state, QStringLiteral("queued"));
    QCOMPARE(r.attempts, 1);
    QCOMPARE(r.nextAttemptAt, m_clock.wallMs() + 5000);
    QCOMPARE(r.lastError, QStringLiteral("timeout planning"));
    QVERIFY(!r.purchaseSeq);
    QVERIFY(m_commands->markSent(q, 2, quint16(5))); // the next attempt
    r = dbRow(q);
    QCOMPARE(r.state, QStringLiteral("sent"));
    QVERIFY(!r.nextAttemptAt); // being worked on

    // After the frame: a recharge in 'sent' stays 'sent'.
    QVERIFY(m_commands->scheduleRetry(q, 2, QStringLiteral("timeout"), m_clock.wallMs() + 10'000));
    r = dbRow(q);
    QCOMPARE(r.state, QStringLiteral("sent"));
    QCOMPARE(r.attempts, 2);
    QCOMPARE(r.nextAttemptAt, m_clock.wallMs() + 10'000);
    QCOMPARE(m_commands->load(*m_reader, q)->nextAttemptAtMs, m_clock.wallMs() + 10'000);

    // An acknowledged command stays acknowledged; a later attempt never moves it back.
    const qint64 a = enqueued(request(Kind::RelayTrip, QStringLiteral("retry:a")));
    QVERIFY(m_commands->markSent(a, 1));
    QVERIFY(m_commands->markAcknowledged(a));
    QVERIFY(m_commands->scheduleRetry(a, 1, QStringLiteral("read-back timed out"), m_clock.wallMs() + 1));
    QCOMPARE(dbRow(a).state, QStringLiteral("acknowledged"));
    QVERIFY(m_commands->markSent(a, 2));
    QCOMPARE(dbRow(a).state, QStringLiteral("acknowledged"));
    QCOMPARE(dbRow(a).attempts, 2);
}

void TestCommandStore::loadLiveRunsByPriorityThenId()
{
    const qint64 read = enqueued(request(Kind::ReadNow, QStringLiteral("live:read")));
    const qint64 tariff = enqueued(request(Kind::TariffPush, QStringLiteral("live:tariff")));
    const qint64 trip = enqueued(request(Kind::RelayTrip, QStringLiteral("live:trip")));
    const qint64 recharge = enqueued(request(Kind::Recharge, QStringLiteral("live:recharge")));
    const qint64 clock = enqueued(request(Kind::ClockSync, QStringLiteral("live:clock")));
    const qint64 close = enqueued(request(Kind::RelayClose, QStringLiteral("live:close")));
    const qint64 done = enqueued(request(Kind::RelayClose, QStringLiteral("live:done"), 2));
    const qint64 gone = enqueued(request(Kind::ReadNow, QStringLiteral("live:gone"), 2));
    const qint64 failed = enqueued(request(Kind::ReadNow, QStringLiteral("live:failed"), 3));
    QVERIFY(m_commands->markSent(done, 1));
    QVERIFY(m_commands->markAcknowledged(done));
    QVERIFY(m_commands->markVerified(done));
    QVERIFY(m_commands->cancel(gone, QStringLiteral("x")));
    QVERIFY(m_commands->markFailed(failed, QStringLiteral("x")));
    // Live rows in every live state.
    QVERIFY(m_commands->markSent(recharge, 1, quint16(5)));
    QVERIFY(m_commands->markSent(trip, 1));
    QVERIFY(m_commands->markAcknowledged(trip));

    QList<qint64> ids;
    QList<State> states;
    for (const CommandRow &row : m_commands->loadLive(*m_reader)) {
        ids << row.id;
        states << row.state;
    }
    QCOMPARE(ids, (QList<qint64>{recharge, close, trip, tariff, clock, read}));
    QCOMPARE(states,
        (QList<State>{State::Sent, State::Queued, State::Acknowledged, State::Queued, State::Queued, State::Queued}));
}

void TestCommandStore::concurrentEnqueuesLeaveOneRowPerKey()
{
    constexpr int threads = 8;
    constexpr int keys = 40;
    std::atomic<int> queued{0}, duplicates{0}, others{0};
    std::mutex mutex;
    std::map<int, std::set<qint64>> idsByKey;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < keys; ++i) {
                const int k = (i + t * 5) % keys; // every thread starts elsewhere, all overlap
                CommandRequest r
                    = request(k % 2 ? Kind::ReadNow : Kind::Recharge, QStringLiteral("race:%1").arg(k), 1 + k % 6);
                if (r.kind == Kind::Recharge)
                    r.rechargeTxn = quint32(1000 + k);
                const EnqueueResult result = m_commands->enqueue(r);
                if (result.outcome == EnqueueOutcome::Queued)
                    ++queued;
                else if (result.outcome == EnqueueOutcome::Duplicate)
                    ++duplicates;
                else
                    ++others;
                std::lock_guard lock(mutex);
                idsByKey[k].insert(result.commandId);
            }
        });
    }
    for (std::thread &th : pool)
        th.join();
    QCOMPARE(others.load(), 0);
    QCOMPARE(queued.load(), keys);
    QCOMPARE(duplicates.load(), keys * (threads - 1));
    QCOMPARE(int(idsByKey.size()), keys);
    for (const auto &[key, ids] : idsByKey)
        QCOMPARE(int(ids.size()), 1); // every thread was told the same command
    QCOMPARE(count(QStringLiteral("SELECT count(*) FROM meter_commands")), keys);
    QCOMPARE(count(QStringLiteral("SELECT count(DISTINCT idempotency_key) FROM meter_commands")), keys);
}

void TestCommandStore::stoppedStoreIsANamedOutcome()
{
    const qint64 id = enqueued(request(Kind::ReadNow, QStringLiteral("stop:1")));
    m_store->stop();
    const EnqueueResult r = m_commands->enqueue(request(Kind::ReadNow, QStringLiteral("stop:2")));
    QCOMPARE(r.outcome, EnqueueOutcome::StoreFailed);
    QVERIFY2(r.message.contains(u"stopped"), qPrintable(r.message));
    QVERIFY(!m_commands->markSent(id, 1));
    QCOMPARE(dbRow(id).state, QStringLiteral("queued"));
}

QTEST_GUILESS_MAIN(TestCommandStore)
#include "tst_commandstore.moc"
