// The model-based ledger test (RELIABILITY.md §8.1, T1): random operation sequences run against
// the real ledger — LedgerWriter, Biller::billReading and Controller::evaluate, each operation
// one write job of the store (Store::write, the real path) on one temporary SQLite file with the
// demo seed — and against an in-memory reference model: plain maps, written from the contracts
// in ledger.h, biller.h and policy.h, that never calls the code under test to decide an outcome
// (rowids, the only thing it takes from SQLite, are predicted and compared too).
//
// Operations that exist (and nothing else; RELIABILITY.md lists more):
//  - recharge: a topup order and a payment attempt, the credit and the attempt marked credited,
//    in one transaction;
//  - duplicate recharge: the same attempt again (Duplicate); with another amount, tenant or
//    channel (Conflict); a credit of a credited attempt under another key (Conflict: the link);
//  - charge: a reading stored and billed (Biller::billReading) in one transaction, on the flat
//    tariff FLAT-COM (0.8500/kWh) assigned to every point of the test: the first reading opens
//    the segment, an unchanged register makes no interval, the sub-fen remainder is carried;
//  - refund: a refunds row and refundRequested (refused beyond the balance), paid at once or
//    later (refundPaid), a payout replayed (Duplicate) or replayed with another amount (Conflict);
//  - reversal of recharges, transfers and adjustments (with and without an approved overdraft),
//    a replayed reversal request, its key reused for another entry, a reversal of a reversal
//    and of a missing entry;
//  - transfer and adjustment (credit, debit, zero, to the same wallet), replayed with the same
//    and with other content;
//  - policy evaluation: Controller::evaluate on the sequence's points — control_state (desired,
//    reason, decision_seq, balance), the one command of each crossing, the balance alarms.
// Meter swaps are not among them: the account lifecycle that moves a point to another meter
// does not exist yet, and the test does not pretend to cover it.
//
// After every operation: the outcome and entry id of every post; the new ledger entries and
// postings exactly as the model posted them (kind, key, links, postings); the entry count; the
// cached balance and the running Σ of postings of every ledger account the operation may have
// touched (the sequence's wallets also by a full Σ query); Σ of all cached balances = 0; and per
// operation its own rows (charge intervals and billing cursor, attempt state, control_state,
// commands, alarms). Every kCheckpointEverySequences sequences and at the end: verifyLedger()
// ok, billing::recompute() without mismatch, every account's cache and Σ postings against the
// model, full counts, and UPDATE/DELETE on the ledger and charge intervals refused (I7).
//
// The database is created once (migrations cost ~30 ms); sequence k works on 3 tenants taken
// in rotation from the eligible ones (open, one point, AUTO, no infrastructure mark) and starts
// from whatever earlier sequences left. The model is loaded from the database once and then
// kept across sequences, so a divergence left by one sequence is not absorbed by the next.
//
// PREPAY_TEST_SEED=<n> replays a run (tests/support/randomseed.h); PREPAY_MODEL_SEQUENCES=<n>
// changes the number of sequences (default 10,000). A mismatch names the seed, the sequence,
// the operation and what differed, and ends the run.
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/controller.h"
#include "control/policy.h"
#include "ledger/ledger.h"
#include "ledger/verify.h"
#include "manualclock.h"
#include "randomseed.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDate>
#include <QtCore/QElapsedTimer>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

using namespace prepay;
using control::Desired;
using control::Reason;
using ledger::EntryKind;
using ledger::PostOutcome;
using ledger::PostResult;
using store::SqlError;
using store::Statement;
using store::Transaction;

namespace {

// ---- Limits and fixed facts --------------------------------------------------------------------

constexpr qint64 kT0 = 1'795'000'000'000; // 2026-11-19, as ManualClock
constexpr int kSequencesDefault = 10'000;
constexpr int kOpsPerSequenceMin = 5;
constexpr int kOpsPerSequenceMax = 40;
constexpr int kAccountsPerSequence = 3;
constexpr int kCheckpointEverySequences = 250;
constexpr int kReplaySequences = 50;
constexpr qint64 kStepMsMin = 10'000;       // the clock moves 10 s..20 min per operation
constexpr qint64 kStepMsMax = 20 * 60'000;
constexpr int kSequenceLogLinesMax = 40; // printed with a mismatch
static_assert(kOpsPerSequenceMin >= 1 && kOpsPerSequenceMin <= kOpsPerSequenceMax);
static_assert(kSequenceLogLinesMax >= kOpsPerSequenceMax);

constexpr qint64 kOperatorId = 1;
constexpr qint64 kFlatTariffId = 2;      // FLAT-COM in the demo seed
constexpr qint64 kFlatVersionId = 2;     // its version 1, from 2025-06-01
constexpr qint64 kFlatPrice = 8500;      // 0.8500 yuan/kWh in 0.0001 yuan/kWh
constexpr qint64 kUnitsPerFen = 100'000; // 1 Wh × 0.0001 yuan/kWh = 0.00001 fen
static_assert(kUnitsPerFen == Remainder::kUnitsPerFen);
constexpr qint64 kOverdraftLimitFen = 3000; // every 4th point of the test may overdraw 30.00
constexpr qint64 kLocalOffsetMs = 8 * 3'600'000; // Asia/Shanghai: UTC+8, no daylight saving
constexpr qint64 kMsPerDay = 86'400'000;
constexpr int kFriendlyStartMinute = 22 * 60; // the seeded 'control.friendly_hours_*'
constexpr int kFriendlyEndMinute = 8 * 60;

// The fixed ledger accounts (sql/0001_initial.sql).
constexpr qint64 kClearing[4] = {1, 2, 3, 4}; // by ledger::Channel: cash, alipay, wechat, unionpay
constexpr qint64 kRevenue = 5;
constexpr qint64 kRefundsPayable = 6;
constexpr qint64 kAdjustments = 7;
constexpr qint64 kSystemAccountsMax = 8;

enum class Op {
    Recharge,
    DuplicateRecharge,
    Charge,
    Refund,
    Reversal,
    Transfer,
    Adjustment,
    Policy,
};
constexpr int kOpKinds = 8;
// How often each operation is drawn, in percent, in the order of Op.
constexpr std::array<int, kOpKinds> kOpWeights{18, 7, 25, 9, 11, 9, 9, 12};

constexpr int weightSum()
{
    int sum = 0;
    for (int w : kOpWeights)
        sum += w;
    return sum;
}
static_assert(weightSum() == 100);

QString opName(Op op)
{
    switch (op) {
    case Op::Recharge: return QStringLiteral("recharge");
    case Op::DuplicateRecharge: return QStringLiteral("duplicate_recharge");
    case Op::Charge: return QStringLiteral("charge");
    case Op::Refund: return QStringLiteral("refund");
    case Op::Reversal: return QStringLiteral("reversal");
    case Op::Transfer: return QStringLiteral("transfer");
    case Op::Adjustment: return QStringLiteral("adjustment");
    case Op::Policy: return QStringLiteral("policy");
    }
    return {};
}

const char *const kOperatorFixture = R"sql(
INSERT INTO operators (id, login, display_name, role, password_hash, password_salt, password_params,
                       created_at_ms, updated_at_ms)
VALUES (1, 'model-operator', 'Model Operator', 'operator', zeroblob(32), zeroblob(16), 'none', 0, 0);
)sql";

// The tenants the test may use: open, one current point, AUTO with no overdraft or alarm
// override of its own, not feeding infrastructure. Their points get FLAT-COM below.
const char *const kEligibleSql
    = "SELECT a.id, w.id, mp.id, mp.building_id, i.id, i.meter_id, cs.friendly_hours, b.alarm1_threshold_fen, "
      " b.alarm2_threshold_fen, b.overdraft_limit_fen, bs.installation_id, bs.last_charged_reading_id, "
      " bs.sub_fen_remainder, (SELECT r.energy_total_wh FROM readings r WHERE r.id = bs.last_charged_reading_id), "
      " (SELECT r.energy_total_wh FROM readings r WHERE r.installation_id = i.id ORDER BY r.id DESC LIMIT 1), "
      " st.desired, st.reason, st.decision_seq, st.command_id "
      "FROM accounts a "
      "JOIN account_metering_points amp ON amp.account_id = a.id AND amp.unlinked_at_ms IS NULL "
      "JOIN metering_points mp ON mp.id = amp.metering_point_id "
      "JOIN buildings b ON b.id = mp.building_id "
      "JOIN control_settings cs ON cs.metering_point_id = mp.id "
      "JOIN meter_installations i ON i.metering_point_id = mp.id AND i.removed_at_ms IS NULL "
      "JOIN ledger_accounts w ON w.account_id = a.id "
      "JOIN billing_state bs ON bs.metering_point_id = mp.id "
      "LEFT JOIN control_state st ON st.metering_point_id = mp.id "
      "WHERE a.status = 'open' AND mp.state = 'active' AND cs.control_mode = 'auto' AND cs.feeds_infrastructure = 0 "
      " AND cs.overdraft_limit_fen IS NULL AND cs.alarm1_threshold_fen IS NULL AND cs.alarm2_threshold_fen IS NULL "
      " AND i.initial_energy_wh IS NULL "
      " AND (SELECT count(*) FROM account_metering_points x WHERE x.account_id = a.id AND x.unlinked_at_ms IS NULL) = 1 "
      "ORDER BY a.id";

// ---- Randomness ----------------------------------------------------------------------------------

// std::mt19937_64's output is fixed by the standard; the reduction below is ours, so a seed
// draws the same operations with every standard library (the distributions of <random> are not
// specified that far). The modulo bias is irrelevant here.
class Random
{
public:
    explicit Random(quint64 seed)
        : m_engine(seed)
    { }

    qint64 between(qint64 lo, qint64 hi) // [lo, hi]
    {
        PREPAY_CHECK(lo <= hi);
        const quint64 span = quint64(hi - lo) + 1;
        return lo + qint64(m_engine() % span);
    }
    bool chance(int percent) { return between(0, 99) < percent; }
    template<typename T>
    const T &pick(const std::vector<T> &from)
    {
        PREPAY_CHECK(!from.empty());
        return from[size_t(between(0, qint64(from.size()) - 1))];
    }

private:
    std::mt19937_64 m_engine;
};

// ---- The model's view of an entry -----------------------------------------------------------------

using Postings = std::vector<std::pair<qint64, qint64>>; // (ledger account, fen), sorted

Postings sorted(Postings postings)
{
    std::sort(postings.begin(), postings.end());
    return postings;
}

Postings flipped(const Postings &postings)
{
    Postings out;
    for (const auto &[account, fen] : postings)
        out.push_back({account, -fen});
    return sorted(out);
}

// Everything an entry's request hash covers (ledger.h): equal content = Duplicate.
struct Content
{
    EntryKind kind = EntryKind::Adjustment;
    Postings postings;
    std::optional<qint64> attempt;
    std::optional<qint64> interval;
    std::optional<qint64> refund;
    std::optional<qint64> reverses;
    std::optional<qint64> operatorId;
    std::optional<qint64> approval;
    QString reason;
    bool operator==(const Content &) const = default;
};

QString optionalText(const std::optional<qint64> &v)
{
    return v ? QString::number(*v) : QStringLiteral("-");
}

QString describe(const Content &c)
{
    QStringList legs;
    for (const auto &[account, fen] : c.postings)
        legs.append(QStringLiteral("%1:%2").arg(account).arg(fen));
    return QStringLiteral("%1 [%2] attempt=%3 interval=%4 refund=%5 reverses=%6 operator=%7 approval=%8 reason='%9'")
        .arg(ledger::entryKindCode(c.kind), legs.join(u' '), optionalText(c.attempt), optionalText(c.interval),
            optionalText(c.refund), optionalText(c.reverses), optionalText(c.operatorId), optionalText(c.approval),
            c.reason);
}

struct ModelEntry
{
    qint64 id = 0;
    QString key;
    Content content;
    std::optional<qint64> reversedBy;
};

struct Expect
{
    PostOutcome outcome = PostOutcome::Invalid;
    qint64 entryId = 0; // Posted, Duplicate, Conflict: the entry posted, found, or holding the key or link
};

// The reference ledger: LedgerWriter::post's rules (ledger.h), in its order.
class ModelLedger
{
public:
    std::map<qint64, qint64> balance; // every ledger account → fen
    std::set<qint64> wallets;
    std::map<qint64, ModelEntry> entries;
    std::vector<ModelEntry> posted; // by the current operation, for the check after it

    Expect post(const QString &key, const Content &c, bool overdraftApproved)
    {
        // The request's own rules.
        if (key.isEmpty() || key.size() > 255 || c.postings.size() < 2)
            return {PostOutcome::Invalid};
        std::set<qint64> seen;
        qint64 sum = 0;
        for (const auto &[account, fen] : c.postings) {
            if (fen == 0 || !seen.insert(account).second)
                return {PostOutcome::Invalid};
            sum += fen;
        }
        if (sum != 0)
            return {PostOutcome::Invalid};
        const bool needsReason = c.kind == EntryKind::Reversal || c.kind == EntryKind::Transfer
            || c.kind == EntryKind::Adjustment;
        if ((c.kind == EntryKind::Recharge && !c.attempt) || (c.kind == EntryKind::Charge && !c.interval)
            || (c.kind == EntryKind::Refund && !c.refund) || (c.kind == EntryKind::Reversal && !c.reverses)
            || ((c.kind == EntryKind::Transfer || c.kind == EntryKind::Adjustment) && !c.operatorId)
            || (needsReason && c.reason.trimmed().isEmpty()) || (c.kind != EntryKind::Reversal && c.reverses))
            return {PostOutcome::Invalid};
        // The key: the same content is the same entry, other content a conflict.
        if (const auto k = m_keys.find(key); k != m_keys.end())
            return {entries.at(k->second).content == c ? PostOutcome::Duplicate : PostOutcome::Conflict, k->second};
        // Links held at most once.
        if (c.kind == EntryKind::Recharge) {
            if (const auto a = m_creditOfAttempt.find(*c.attempt); a != m_creditOfAttempt.end())
                return {PostOutcome::Conflict, a->second};
        }
        if (c.interval) {
            if (const auto i = m_chargeOfInterval.find(*c.interval); i != m_chargeOfInterval.end())
                return {PostOutcome::Conflict, i->second};
        }
        if (c.kind == EntryKind::Reversal) {
            const auto target = entries.find(*c.reverses);
            if (target == entries.end() || target->second.content.kind == EntryKind::Reversal
                || target->second.reversedBy)
                return {PostOutcome::NotReversible};
        }
        // Accounts, and funds: no debit takes a wallet below zero, except a charge or an
        // approved overdraft.
        for (const auto &[account, fen] : c.postings) {
            if (!balance.count(account))
                return {PostOutcome::UnknownAccount};
            const bool mayOverdraw = c.kind == EntryKind::Charge || overdraftApproved;
            if (wallets.count(account) && fen < 0 && !mayOverdraw && balance.at(account) + fen < 0)
                return {PostOutcome::InsufficientFunds};
        }
        ModelEntry e{m_lastEntryId + 1, key, c, std::nullopt};
        m_lastEntryId = e.id;
        for (const auto &[account, fen] : c.postings)
            balance[account] += fen;
        m_keys[key] = e.id;
        if (c.kind == EntryKind::Recharge)
            m_creditOfAttempt[*c.attempt] = e.id;
        if (c.interval)
            m_chargeOfInterval[*c.interval] = e.id;
        if (c.reverses)
            entries.at(*c.reverses).reversedBy = e.id;
        entries[e.id] = e;
        posted.push_back(e);
        return {PostOutcome::Posted, e.id};
    }

    // LedgerWriter::reverse: every posting of the entry flipped (a missing entry has none).
    Expect reverse(qint64 target, const QString &key, const QString &reason, bool overdraftApproved)
    {
        const auto t = entries.find(target);
        if (t == entries.end())
            return {PostOutcome::NotReversible};
        Content c;
        c.kind = EntryKind::Reversal;
        c.postings = flipped(t->second.content.postings);
        c.reverses = target;
        c.operatorId = kOperatorId;
        c.reason = reason;
        return post(key, c, overdraftApproved);
    }

    qint64 entryCount() const { return qint64(entries.size()); }
    qint64 lastEntryId() const { return m_lastEntryId; }
    bool credited(qint64 attempt) const { return m_creditOfAttempt.count(attempt) != 0; }

private:
    qint64 m_lastEntryId = 0;
    std::map<QString, qint64> m_keys;
    std::map<qint64, qint64> m_creditOfAttempt;
    std::map<qint64, qint64> m_chargeOfInterval;
};

// One metering point of the test, with its tenant, as the model knows it.
struct PointModel
{
    qint64 accountId = 0;
    qint64 walletId = 0;
    qint64 pointId = 0;
    qint64 installationId = 0;
    qint64 meterId = 0;
    bool friendly = false;
    qint64 overdraftLimitFen = 0;
    qint64 alarm1Fen = 0;
    qint64 alarm2Fen = 0;
    // Billing: the last reading stored, the baseline (last charged reading) and the remainder.
    std::optional<qint64> lastEnergyWh;
    std::optional<qint64> baselineReadingId;
    qint64 baselineEnergyWh = 0;
    qint64 remainder = 0;
    // Control: the last decision.
    std::optional<Desired> desired;
    std::optional<Reason> reason;
    qint64 decisionSeq = 0;
    std::optional<qint64> commandId;
};

struct Decided
{
    Desired desired = Desired::On;
    Reason reason = Reason::Funded;
};

QString wantedRelayMode(Desired desired, Reason reason)
{
    if (desired == Desired::Off)
        return QStringLiteral("force_off");
    return reason == Reason::Funded ? QStringLiteral("auto") : QStringLiteral("force_on");
}

QString commandKindFor(Desired desired, Reason reason)
{
    if (desired == Desired::Off)
        return QStringLiteral("relay_trip");
    return reason == Reason::Funded ? QStringLiteral("relay_close") : QStringLiteral("set_mode");
}

// What one sequence did, for its duplicates, replays and reversals.
struct RechargeMade
{
    qint64 accountId = 0;
    ledger::Channel channel = ledger::Channel::Cash;
    qint64 attemptId = 0;
    qint64 amountFen = 0;
};

struct StaffRequest
{
    EntryKind kind = EntryKind::Transfer;
    qint64 fromAccount = 0; // adjustment: the account
    qint64 toAccount = 0;
    qint64 amountFen = 0;
    QString key;
    QString reason;
};

struct ReversalRequest
{
    qint64 target = 0;
    QString key;
    QString reason;
    bool overdraftApproved = false;
};

struct RefundMade
{
    qint64 refundId = 0;
    qint64 amountFen = 0;
};

struct Sequence
{
    int number = 0;
    std::array<size_t, kAccountsPerSequence> points{}; // indices into ModelRun::m_points
    std::vector<RechargeMade> recharges;
    std::vector<StaffRequest> staffRequests;
    std::vector<ReversalRequest> reversals;
    std::vector<RefundMade> unpaidRefunds;
    std::vector<RefundMade> paidRefunds;
};

const QString kReasons[] = {QStringLiteral("冲正：重复入账"), QStringLiteral("wrong tenant"),
    QStringLiteral("meter fault credit"), QStringLiteral("old meter → new")};

QString describe(const ledger::VerifyReport &report)
{
    QStringList lines;
    for (const ledger::Violation &v : report.violations)
        lines.append(v.code + QStringLiteral(": ") + v.message);
    if (!report.error.isEmpty())
        lines.append(QStringLiteral("error: ") + report.error);
    return lines.join(u'\n');
}

// ---- One run: a database, the model, and the sequences ------------------------------------------

class ModelRun
{
public:
    explicit ModelRun(quint32 seed)
        : m_seed(seed)
        , m_random(seed)
        , m_clock(kT0)
    { }

    bool open(QString *error);
    void run(int sequences);

    const QStringList &mismatches() const { return m_mismatches; }
    qint64 operations() const { return m_opNo; }
    int sequencesRun() const { return m_sequencesRun; }
    int checkpoints() const { return m_checkpoints; }
    // The operation log and the final balances of every ledger account.
    QByteArray logHash();
    QStringList statistics() const;

private:
    struct Done; // results of write jobs, below

    void runSequence(Sequence &s);
    void runOp(Sequence &s, Op op);
    PointModel &pickPoint(Sequence &s, size_t *index = nullptr);
    qint64 debitAmount(qint64 balance);

    void opRecharge(Sequence &s);
    void opDuplicateRecharge(Sequence &s);
    void opCharge(Sequence &s);
    void opRefund(Sequence &s);
    void opReversal(Sequence &s);
    void opTransfer(Sequence &s);
    void opAdjustment(Sequence &s);
    void opPolicy(Sequence &s);

    // Runs `call` in one write job; a refused post rolls the job back.
    PostResult post(const std::function<PostResult(ledger::LedgerWriter &)> &call);
    void expectPost(const Expect &expected, const PostResult &actual, const QString &what);
    void note(const QString &outcome);

    Decided decide(const PointModel &p) const;
    bool insideFriendlyHours(qint64 nowMs) const;

    void checkLedger(const Sequence &s);
    void checkAttempt(qint64 attemptId, bool credited);
    void checkPolicy(const Sequence &s, const QList<qint64> &queued, const std::vector<size_t> &crossed);
    void checkpoint();
    void mismatch(const QString &what);

    Statement &reader(std::optional<Statement> &slot, const char *sql);
    bool finished(Statement &s, Statement::Step step);
    std::optional<qint64> scalar(std::optional<Statement> &slot, const char *sql, const std::vector<qint64> &args);

    const quint32 m_seed;
    Random m_random;
    test::ManualClock m_clock;
    qint64 m_now = kT0;
    QTemporaryDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Connection> m_reader;
    std::shared_ptr<const billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::map<QDate, billing::DayType> m_calendar;

    ModelLedger m_model;
    std::vector<PointModel> m_points;
    std::map<qint64, std::vector<qint64>> m_reversible;       // wallet → recharges, transfers, adjustments
    std::map<qint64, std::vector<qint64>> m_reversalsOfWallet; // wallet → reversals touching it
    qint64 m_intervalCount = 0;
    qint64 m_paymentNo = 0;

    // What the checks have seen of the database so far.
    qint64 m_seenEntryId = 0;
    qint64 m_seenPostingId = 0;
    qint64 m_seenIntervalId = 0;
    qint64 m_seenCommandId = 0;
    qint64 m_dbEntryCount = 0;
    std::map<qint64, qint64> m_dbPostingSum; // ledger account → Σ postings seen

    // The run.
    int m_sequenceNo = 0;
    int m_sequencesRun = 0;
    int m_checkpoints = 0;
    qint64 m_opNo = 0;
    Op m_op = Op::Recharge;
    QString m_opLine;
    QStringList m_sequenceLog;
    QCryptographicHash m_log{QCryptographicHash::Sha256};
    QStringList m_mismatches;
    std::map<Op, std::map<QString, qint64>> m_outcomes;

    std::optional<Statement> m_qNewPostings, m_qNewEntries, m_qBalance, m_qWalletSum, m_qTotal, m_qAttempt,
        m_qNewIntervals, m_qCursor, m_qControl, m_qNewCommands, m_qAlarms;
};

// ---- Setting up ----------------------------------------------------------------------------------

bool ModelRun::open(QString *error)
{
    if (!m_dir.isValid()) {
        *error = QStringLiteral("no temporary directory");
        return false;
    }
    store::OpenResult opened = store::Store::open(m_dir.filePath(QStringLiteral("prepay.db")), m_clock);
    if (!opened.store) {
        *error = opened.message;
        return false;
    }
    m_store = std::move(opened.store);
    const store::SeedReport seeded = store::applySeed(*m_store, QStringLiteral("demo"));
    if (seeded.outcome != store::SeedOutcome::Applied) {
        *error = QStringLiteral("demo seed: ") + seeded.message;
        return false;
    }
    if (!test::runScript(*m_store, QString::fromUtf8(kOperatorFixture))) {
        *error = QStringLiteral("operator fixture refused");
        return false;
    }
    m_reader = m_store->openReader();
    if (!m_reader) {
        *error = QStringLiteral("no reader");
        return false;
    }

    // The settings the model's policy rules assume.
    const std::pair<const char *, const char *> settings[] = {{"site.time_zone", "Asia/Shanghai"},
        {"control.overdraft_limit_fen", "0"}, {"control.friendly_hours_start", "22:00"},
        {"control.friendly_hours_end", "08:00"}, {"control.friendly_day_types", "weekend,holiday"}};
    for (const auto &[key, value] : settings) {
        Statement s = m_reader->prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
        s.bind(1, QString::fromUtf8(key));
        if (s.step() != Statement::Step::Row || s.text(0) != QString::fromUtf8(value)) {
            *error = QStringLiteral("setting %1 is not '%2'").arg(QString::fromUtf8(key), QString::fromUtf8(value));
            return false;
        }
    }
    SqlError sqlError;
    const qint64 siteAlarm1 = m_reader->queryInt(
        QStringLiteral("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm1_threshold_fen'"), &sqlError);
    const qint64 siteAlarm2 = m_reader->queryInt(
        QStringLiteral("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm2_threshold_fen'"), &sqlError);
    if (!sqlError.ok()) {
        *error = sqlError.toString();
        return false;
    }
    {
        Statement s = m_reader->prepare(QStringLiteral("SELECT day, day_type FROM calendar_days"));
        while (s.step() == Statement::Step::Row) {
            m_calendar[QDate::fromString(s.text(0), Qt::ISODate)]
                = s.text(1) == QLatin1StringView("holiday") ? billing::DayType::Holiday : billing::DayType::Workday;
        }
    }

    // The model starts from the database as it is: every ledger account's balance (no entries
    // yet: the model cannot know the content of entries it did not see posted).
    if (m_reader->queryInt(QStringLiteral("SELECT count(*) FROM ledger_entries"), &sqlError) != 0 || !sqlError.ok()) {
        *error = QStringLiteral("the ledger is not empty");
        return false;
    }
    {
        Statement s = m_reader->prepare(QStringLiteral("SELECT id, kind, balance_fen FROM ledger_accounts"));
        while (s.step() == Statement::Step::Row) {
            m_model.balance[s.int64(0)] = s.int64(2);
            if (s.text(1) == QLatin1StringView("wallet"))
                m_model.wallets.insert(s.int64(0));
        }
    }
    m_seenPostingId = m_reader->queryInt(QStringLiteral("SELECT coalesce(max(id), 0) FROM ledger_postings"), &sqlError);
    m_seenIntervalId
        = m_reader->queryInt(QStringLiteral("SELECT coalesce(max(id), 0) FROM charge_intervals"), &sqlError);
    m_intervalCount = m_reader->queryInt(QStringLiteral("SELECT count(*) FROM charge_intervals"), &sqlError);
    m_seenCommandId = m_reader->queryInt(QStringLiteral("SELECT coalesce(max(id), 0) FROM meter_commands"), &sqlError);

    {
        Statement s = m_reader->prepare(QString::fromUtf8(kEligibleSql));
        while (s.step() == Statement::Step::Row) {
            if (!s.isNull(9))
                continue; // the building sets an overdraft limit: not what the model assumes
            PointModel p;
            p.accountId = s.int64(0);
            p.walletId = s.int64(1);
            p.pointId = s.int64(2);
            p.installationId = s.int64(4);
            p.meterId = s.int64(5);
            p.friendly = s.int64(6) != 0;
            p.alarm1Fen = s.isNull(7) ? siteAlarm1 : s.int64(7);
            p.alarm2Fen = s.isNull(8) ? siteAlarm2 : s.int64(8);
            if (s.int64(10) != p.installationId)
                continue; // the billing cursor is on another segment
            if (!s.isNull(11)) {
                p.baselineReadingId = s.int64(11);
                p.baselineEnergyWh = s.int64(13);
            }
            p.remainder = s.int64(12);
            if (!s.isNull(14))
                p.lastEnergyWh = s.int64(14);
            p.desired = control::desiredFromCode(s.text(15));
            p.reason = control::reasonFromCode(s.text(16));
            p.decisionSeq = s.isNull(17) ? 0 : s.int64(17);
            if (!s.isNull(18))
                p.commandId = s.int64(18);
            m_points.push_back(p);
        }
        if (s.error().code != 0) {
            *error = s.error().toString();
            return false;
        }
    }
    if (m_points.size() < size_t(kAccountsPerSequence)) {
        *error = QStringLiteral("only %1 eligible tenants").arg(m_points.size());
        return false;
    }
    // Every 4th point may overdraw (so 'awaiting_credit' happens); every point is on the flat
    // tariff from the seed's first day (a point's own assignment wins over its account's).
    for (size_t i = 0; i < m_points.size(); ++i)
        m_points[i].overdraftLimitFen = i % 4 == 1 ? kOverdraftLimitFen : 0;
    const auto configured = m_store
                                ->write([this](Transaction &tx) {
                                    Statement assign = tx.prepare(QStringLiteral(
                                        "INSERT INTO tariff_assignments (tariff_id, metering_point_id, effective_date, "
                                        "created_at_ms) SELECT ?1, ?2, '2025-06-01', 0 WHERE NOT EXISTS (SELECT 1 FROM "
                                        "tariff_assignments WHERE metering_point_id = ?2 AND effective_date = "
                                        "'2025-06-01' AND tariff_id = ?1)"));
                                    Statement limit = tx.prepare(QStringLiteral(
                                        "UPDATE control_settings SET overdraft_limit_fen = ?2 WHERE metering_point_id = ?1"));
                                    for (const PointModel &p : m_points) {
                                        assign.bind(1, kFlatTariffId).bind(2, p.pointId);
                                        if (const SqlError e = assign.run(); !e.ok())
                                            return tx.fail(e);
                                        assign.reset();
                                        if (p.overdraftLimitFen == 0)
                                            continue;
                                        limit.bind(1, p.pointId).bind(2, p.overdraftLimitFen);
                                        if (const SqlError e = limit.run(); !e.ok())
                                            return tx.fail(e);
                                        limit.reset();
                                    }
                                })
                                .get();
    if (!configured.committed()) {
        *error = QStringLiteral("configuring the points: ") + configured.error.toString();
        return false;
    }
    const qint64 flatPoints = m_reader->queryInt(
        QStringLiteral("SELECT count(*) FROM tariff_assignments WHERE metering_point_id IS NOT NULL AND tariff_id = 2"),
        &sqlError);
    if (flatPoints < qint64(m_points.size())) {
        *error = QStringLiteral("only %1 points have FLAT-COM").arg(flatPoints);
        return false;
    }

    auto book = std::make_shared<billing::TariffBook>();
    QString bookError;
    if (!billing::TariffBook::load(*m_reader, book.get(), &bookError)) {
        *error = QStringLiteral("tariff book: ") + bookError;
        return false;
    }
    m_book = book;
    m_biller = std::make_unique<billing::Biller>(m_book);
    m_now = m_clock.wallMs();
    return true;
}

// ---- Running -------------------------------------------------------------------------------------

void ModelRun::run(int sequences)
{
    for (int k = 0; k < sequences && m_mismatches.isEmpty(); ++k) {
        Sequence s;
        s.number = k;
        for (size_t i = 0; i < size_t(kAccountsPerSequence); ++i)
            s.points[i] = (size_t(k) * kAccountsPerSequence + i) % m_points.size();
        runSequence(s);
        ++m_sequencesRun;
        if (m_mismatches.isEmpty() && ((k + 1) % kCheckpointEverySequences == 0 || k + 1 == sequences))
            checkpoint();
    }
}

void ModelRun::runSequence(Sequence &s)
{
    m_sequenceNo = s.number;
    m_sequenceLog.clear();
    const qint64 length = m_random.between(kOpsPerSequenceMin, kOpsPerSequenceMax);
    for (qint64 n = 0; n < length && m_mismatches.isEmpty(); ++n) {
        const qint64 draw = m_random.between(0, 99);
        int kind = 0;
        for (qint64 acc = kOpWeights[0]; draw >= acc; acc += kOpWeights[size_t(++kind)]) { }
        runOp(s, Op(kind));
    }
}

void ModelRun::runOp(Sequence &s, Op op)
{
    ++m_opNo;
    m_op = op;
    m_clock.advanceMs(m_random.between(kStepMsMin, kStepMsMax));
    m_now = m_clock.wallMs();
    m_opLine.clear();
    m_model.posted.clear();
    switch (op) {
    case Op::Recharge: opRecharge(s); break;
    case Op::DuplicateRecharge: opDuplicateRecharge(s); break;
    case Op::Charge: opCharge(s); break;
    case Op::Refund: opRefund(s); break;
    case Op::Reversal: opReversal(s); break;
    case Op::Transfer: opTransfer(s); break;
    case Op::Adjustment: opAdjustment(s); break;
    case Op::Policy: opPolicy(s); break;
    }
    if (m_mismatches.isEmpty())
        checkLedger(s);
    const QString line = QStringLiteral("%1.%2 t=%3 %4").arg(s.number).arg(m_opNo).arg(m_now).arg(m_opLine);
    m_log.addData(line.toUtf8());
    m_log.addData(QByteArrayView("\n"));
    m_sequenceLog.append(line);
    if (m_sequenceLog.size() > kSequenceLogLinesMax)
        m_sequenceLog.removeFirst();
}

PointModel &ModelRun::pickPoint(Sequence &s, size_t *index)
{
    const size_t i = size_t(m_random.between(0, kAccountsPerSequence - 1));
    if (index)
        *index = i;
    return m_points[s.points[i]];
}

// A debit: the whole balance, part of it, or more than there is.
qint64 ModelRun::debitAmount(qint64 balance)
{
    const qint64 r = m_random.between(0, 99);
    if (balance > 0 && r < 10)
        return balance;
    if (balance > 0 && r < 65)
        return m_random.between(1, balance);
    return std::max<qint64>(balance, 0) + m_random.between(1, 5000);
}

void ModelRun::note(const QString &outcome)
{
    ++m_outcomes[m_op][outcome];
    m_opLine += QStringLiteral(" → ") + outcome;
}

PostResult ModelRun::post(const std::function<PostResult(ledger::LedgerWriter &)> &call)
{
    const auto written = m_store
                             ->write([&](Transaction &tx) {
                                 ledger::LedgerWriter writer(tx, m_now);
                                 const PostResult r = call(writer);
                                 if (r.outcome != PostOutcome::Posted && !tx.rollbackRequested() && tx.error().ok())
                                     tx.rollback(QStringLiteral("refused: ") + ledger::postOutcomeCode(r.outcome));
                                 return r;
                             })
                             .get();
    if (written.status == store::WriteStatus::Failed)
        return PostResult{PostOutcome::StoreFailed, 0, written.error.toString()};
    if (written.value.outcome == PostOutcome::Posted && !written.committed())
        return PostResult{PostOutcome::StoreFailed, 0, QStringLiteral("posted but not committed: ") + written.reason};
    return written.value;
}

void ModelRun::expectPost(const Expect &expected, const PostResult &actual, const QString &what)
{
    const bool idMatters = expected.outcome == PostOutcome::Posted || expected.outcome == PostOutcome::Duplicate
        || expected.outcome == PostOutcome::Conflict;
    if (actual.outcome != expected.outcome || (idMatters && actual.entryId != expected.entryId)) {
        mismatch(QStringLiteral("%1: the ledger said %2 (entry %3: %4); the model expects %5 (entry %6)")
                     .arg(what, ledger::postOutcomeCode(actual.outcome))
                     .arg(actual.entryId)
                     .arg(actual.message, ledger::postOutcomeCode(expected.outcome))
                     .arg(expected.entryId));
    }
}

// ---- Operations ----------------------------------------------------------------------------------

struct ModelRun::Done
{
    PostResult post;
    PostResult second;
    qint64 id = 0; // the attempt, reading or refund the job created
    billing::BillingOutcome billed;
    QList<qint64> queued;
};

void ModelRun::opRecharge(Sequence &s)
{
    PointModel &p = pickPoint(s);
    const auto channel = ledger::Channel(m_random.between(0, 3));
    const qint64 amount = m_random.between(100, 50'000);
    const qint64 n = ++m_paymentNo;
    m_opLine = QStringLiteral("recharge account %1 %2 %3 fen").arg(p.accountId).arg(ledger::channelCode(channel)).arg(amount);
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  Done out;
                  out.post.outcome = PostOutcome::StoreFailed;
                  Statement order = tx.prepare(QStringLiteral(
                      "INSERT INTO topup_orders (account_id, amount_fen, idempotency_key, request_hash, state, "
                      "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, zeroblob(32), 'paid', ?4, ?4)"));
                  order.bind(1, p.accountId).bind(2, amount).bind(3, QStringLiteral("model-order-%1").arg(n)).bind(4, m_now);
                  if (const SqlError e = order.run(); !e.ok()) {
                      tx.fail(e);
                      return out;
                  }
                  Statement attempt = tx.prepare(QStringLiteral(
                      "INSERT INTO payment_attempts (order_id, channel, out_trade_no, amount_fen, state, created_at_ms, "
                      "updated_at_ms) VALUES (?1, ?2, ?3, ?4, 'qr_issued', ?5, ?5)"));
                  attempt.bind(1, tx.db().lastInsertRowId())
                      .bind(2, ledger::channelCode(channel))
                      .bind(3, QStringLiteral("M%1").arg(n, 12, 10, QLatin1Char('0')))
                      .bind(4, amount)
                      .bind(5, m_now);
                  if (const SqlError e = attempt.run(); !e.ok()) {
                      tx.fail(e);
                      return out;
                  }
                  out.id = tx.db().lastInsertRowId();
                  // As the payments module will: the attempt credited in the credit's transaction.
                  ledger::LedgerWriter writer(tx, m_now);
                  out.post = writer.recharge(p.accountId, channel, out.id, Money::fromFen(amount));
                  if (out.post.outcome != PostOutcome::Posted) {
                      if (!tx.rollbackRequested() && tx.error().ok())
                          tx.rollback(ledger::postOutcomeCode(out.post.outcome));
                      return out;
                  }
                  Statement credited = tx.prepare(QStringLiteral(
                      "UPDATE payment_attempts SET state = 'credited', paid_at_ms = ?2, updated_at_ms = ?2 WHERE id = ?1"));
                  credited.bind(1, out.id).bind(2, m_now);
                  if (const SqlError e = credited.run(); !e.ok())
                      tx.fail(e);
                  return out;
              })
              .get();
    if (!written.committed()) {
        mismatch(QStringLiteral("the recharge's transaction did not commit (%1): %2 %3 %4")
                     .arg(store::writeStatusCode(written.status), written.error.toString(), written.reason,
                         written.value.post.message));
        return;
    }
    const qint64 attemptId = written.value.id;
    Content c;
    c.kind = EntryKind::Recharge;
    c.postings = sorted({{kClearing[int(channel)], -amount}, {p.walletId, amount}});
    c.attempt = attemptId;
    const Expect e = m_model.post(QStringLiteral("recharge:attempt:%1").arg(attemptId), c, false);
    expectPost(e, written.value.post, QStringLiteral("recharge of attempt %1").arg(attemptId));
    m_opLine += QStringLiteral(" attempt %1 entry %2").arg(attemptId).arg(written.value.post.entryId);
    note(ledger::postOutcomeCode(written.value.post.outcome));
    if (e.outcome == PostOutcome::Posted) {
        s.recharges.push_back({p.accountId, channel, attemptId, amount});
        m_reversible[p.walletId].push_back(e.entryId);
    }
    checkAttempt(attemptId, m_model.credited(attemptId));
}

void ModelRun::opDuplicateRecharge(Sequence &s)
{
    if (s.recharges.empty())
        return opRecharge(s);
    const RechargeMade r = m_random.pick(s.recharges);
    RechargeMade again = r;
    QString variant;
    std::optional<QString> otherKey;
    const qint64 draw = m_random.between(0, 99);
    if (draw < 50) {
        variant = QStringLiteral("same");
    } else if (draw < 70) {
        variant = QStringLiteral("other amount");
        again.amountFen = r.amountFen > 100 && m_random.chance(50) ? r.amountFen - m_random.between(1, 99)
                                                                   : r.amountFen + m_random.between(1, 1000);
    } else if (draw < 80) {
        variant = QStringLiteral("other tenant");
        for (size_t i : s.points) {
            if (m_points[i].accountId != r.accountId)
                again.accountId = m_points[i].accountId;
        }
    } else if (draw < 90) {
        variant = QStringLiteral("other channel");
        again.channel = ledger::Channel((int(r.channel) + m_random.between(1, 3)) % 4);
    } else {
        variant = QStringLiteral("other key");
        otherKey = QStringLiteral("recharge:again:%1").arg(m_opNo);
    }
    m_opLine = QStringLiteral("duplicate recharge (%1) of attempt %2: account %3 %4 %5 fen")
                   .arg(variant)
                   .arg(r.attemptId)
                   .arg(again.accountId)
                   .arg(ledger::channelCode(again.channel))
                   .arg(again.amountFen);
