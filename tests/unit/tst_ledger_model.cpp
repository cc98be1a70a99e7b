// The model-based ledger test (RELIABILITY.md §8.1, T1): random operation sequences run against
// the real ledger — LedgerWriter, Biller::billReading and Controller::evaluate, each operation
// one write job of the store (Store::write, the real path) on one temporary SQLite file with the
// demo seed — and against an in-memory reference model: plain maps, written from the contracts
// in ledger.h, biller.h and policy.h, that never calls the code under test to decide an outcome
// (it predicts entry and interval ids too; it takes from SQLite only the ids of the rows the
// test inserts itself: orders, attempts, readings, refunds, commands).
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
//    reason, decision_seq, balance, command), the command a crossing needs (every meter of the
//    test is seen online in AUTO and never read, so no repair command), the queued commands a
//    crossing supersedes, and the balance alarms. Some points may overdraw, some keep friendly
//    hours, so arrears, awaiting_credit and friendly_hours all happen.
//  - swap: accounts::replaceMeter() on a point (换表): the old meter's final reading given by hand
//    (charged on the old installation like any reading) or not, the new meter's initial registers
//    given (its first reading is charged from them) or not (its first reading opens the segment),
//    the old meter's queued commands cancelled, the balance it held queued as one recharge of the
//    new meter (prepaid meters), the billing cursor moved with the remainder kept, the wallet
//    untouched, and the policy evaluated on the point. The new meter is never read here, so the
//    controller has no relay state of it and queues no relay command for it.
// Not among them: the audit chain (I10); no staff money action writes audit rows yet.
//
// After every operation: the outcome and entry id of every post; the new ledger entries and
// postings exactly as the model posted them (kind, key, links, postings: I1, I3, I6); the entry
// count; the cached balance and the running Σ of the postings of every ledger account the
// operation may have touched, against the model (I2); Σ of all cached balances = 0; and the
// operation's own rows (charge interval and billing cursor: I4; attempt state; control_state,
// commands, alarms). After every sequence: the full Σ of postings of its wallets. Every
// kCheckpointEverySequences sequences and at the end: verifyLedger() ok, billing::recompute()
// without a mismatch, every account's cache and Σ postings against the model, the counts, and
// UPDATE/DELETE on the ledger and charge intervals refused (I7).
//
// The database is created once (migrations cost ~30 ms); sequence k works on 3 tenants taken
// in rotation from the eligible ones (open, one point, AUTO, no overrides of their own) and
// starts from whatever earlier sequences left. The model is loaded from the database once and
// then kept across sequences, so a divergence left by one sequence is not absorbed by the next.
// Every operation is one synchronous=FULL commit, so the run time follows the disk's fsync.
//
// PREPAY_TEST_SEED=<n> replays a run (tests/support/randomseed.h); PREPAY_MODEL_SEQUENCES=<n>
// changes the number of sequences (default 10,000). A mismatch names the seed, the sequence,
// the operation and what differed, and ends the run.
#include "accounts/lifecycle.h"
#include "api/check.h"
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
#include <QtCore/QScopeGuard>
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
constexpr int kCheckpointEverySequences = 1000;
constexpr int kReplaySequences = 50;
constexpr int kProgressEverySequences = 1000;
constexpr qint64 kStepMsMin = 10'000; // the clock moves 10 s..20 min per operation
constexpr qint64 kStepMsMax = 20 * 60'000;
constexpr int kSequenceLogLinesMax = 40; // printed with a mismatch
static_assert(kOpsPerSequenceMin >= 1 && kOpsPerSequenceMin <= kOpsPerSequenceMax);
static_assert(kSequenceLogLinesMax >= kOpsPerSequenceMax);

constexpr qint64 kOperatorId = 1;
constexpr qint64 kSwapSerialBase = 70'000'000; // serials of the meters swapped in (not in the seed)
constexpr qint64 kFlatTariffId = 2;      // FLAT-COM in the demo seed
constexpr qint64 kFlatVersionId = 2;     // its version 1, from 2025-06-01
constexpr qint64 kFlatPrice = 8500;      // 0.8500 yuan/kWh in 0.0001 yuan/kWh
constexpr qint64 kUnitsPerFen = 100'000; // 1 Wh × 0.0001 yuan/kWh = 0.00001 fen
static_assert(kUnitsPerFen == Remainder::kUnitsPerFen);
constexpr qint64 kOverdraftLimitFen = 3000;      // every 4th point of the test may overdraw 30.00
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
    Swap,
};
constexpr int kOpKinds = 9;
// How often each operation is drawn, in percent, in the order of Op.
constexpr std::array<int, kOpKinds> kOpWeights{18, 7, 24, 9, 10, 9, 9, 11, 3};

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
    case Op::Swap: return QStringLiteral("swap");
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
      " st.desired, st.reason, st.decision_seq, st.command_id, st.balance_fen, m.capability = 'prepaid', "
      " i.initial_balance_fen, mp.code "
      "FROM accounts a "
      "JOIN account_metering_points amp ON amp.account_id = a.id AND amp.unlinked_at_ms IS NULL "
      "JOIN metering_points mp ON mp.id = amp.metering_point_id "
      "JOIN buildings b ON b.id = mp.building_id "
      "JOIN control_settings cs ON cs.metering_point_id = mp.id "
      "JOIN meter_installations i ON i.metering_point_id = mp.id AND i.removed_at_ms IS NULL "
      "JOIN meters m ON m.id = i.meter_id "
      "JOIN ledger_accounts w ON w.account_id = a.id "
      "JOIN billing_state bs ON bs.metering_point_id = mp.id "
      "LEFT JOIN control_state st ON st.metering_point_id = mp.id "
      "WHERE a.status = 'open' AND mp.state = 'active' AND cs.control_mode = 'auto' AND cs.feeds_infrastructure = 0 "
      " AND cs.overdraft_limit_fen IS NULL AND cs.alarm1_threshold_fen IS NULL AND cs.alarm2_threshold_fen IS NULL "
      " AND i.initial_energy_wh IS NULL "
      " AND (SELECT count(*) FROM account_metering_points x WHERE x.account_id = a.id AND x.unlinked_at_ms IS NULL) = "
      "1 "
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
        const bool needsReason
            = c.kind == EntryKind::Reversal || c.kind == EntryKind::Transfer || c.kind == EntryKind::Adjustment;
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
    QString pointCode;
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
    std::optional<qint64> commandId;    // control_state.command_id: the last command queued for it
    std::optional<qint64> decidedBalance; // control_state.balance_fen: the wallet when the decision was taken
    std::vector<qint64> queuedCommands; // its meter's relay commands still queued (none is ever sent here)
    // Meter: whether it holds its own balance, the balance its installation started with, the
    // initial registers of an installation not read yet, and whether prepayd has seen its relay.
    bool prepaid = false;
    std::optional<qint64> installationBalanceFen;
    std::optional<qint64> segmentInitialWh;
    bool observed = true; // meters of the seed have a meter_state row; a swapped-in one has none
    int swaps = 0;
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

// A crossing of the control policy on one point, as the model expects it carried out.
struct Crossing
{
    size_t point = 0;              // index into ModelRun::m_points
    std::vector<qint64> cancelled; // its meter's queued relay commands, superseded
    bool command = false;          // the meter does not show the wanted mode: one command
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
    const QStringList &sequenceLog() const { return m_sequenceLog; }
    qint64 operations() const { return m_opNo; }
    int sequencesRun() const { return m_sequencesRun; }
    int checkpoints() const { return m_checkpoints; }
    qint64 checkpointMs() const { return m_checkpointMs; }
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
    PostResult payOut(const RefundMade &refund, qint64 amountFen);
    void opReversal(Sequence &s);
    void opTransfer(Sequence &s);
    void opAdjustment(Sequence &s);
    void opPolicy(Sequence &s);
    void opSwap(Sequence &s);

    // What billing a stored reading of point p does, in the model (biller.h); updates p.
    struct ReadingModel
    {
        int opened = 0;
        int intervals = 0;
        int charged = 0;
        qint64 amount = 0;
        QString expectedInterval; // as checkCharge() prints it; empty: no interval
    };
    ReadingModel modelReading(PointModel &p, qint64 readingId, qint64 energy, bool noteOutcome = true);
    // The policy's decisions for these points (indices into m_points, in point order); updates them.
    std::vector<Crossing> modelPolicy(const std::vector<size_t> &order);

    // Runs `call` in one write job; a refused post rolls the job back.
    PostResult post(const std::function<PostResult(ledger::LedgerWriter &)> &call);
    void expectPost(const Expect &expected, const PostResult &actual, const QString &what);
    void note(const QString &outcome);

    Decided decide(const PointModel &p) const;
    bool insideFriendlyHours(qint64 nowMs) const;

    void checkLedger(const Sequence &s);
    void checkWallets(const Sequence &s);
    void checkAttempt(qint64 attemptId, bool credited);
    void checkCharge(const PointModel &p, const QString &expectedInterval);
    // `before`: the commands the operation queues ahead of the policy's (as checkPolicy prints them).
    // `evaluated`: the points (indices into m_points) the evaluation covered.
    void checkPolicy(const std::vector<size_t> &evaluated, const QList<qint64> &queued,
        const std::vector<Crossing> &crossings, const QStringList &before = {});
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
    std::map<qint64, qint64> m_walletOf;                       // tenant account → its wallet (ledger account)
    std::map<qint64, std::vector<qint64>> m_reversible;        // wallet → recharges, transfers, adjustments
    std::map<qint64, std::vector<qint64>> m_reversalsOfWallet; // wallet → reversals touching it
    qint64 m_intervalCount = 0;
    qint64 m_paymentNo = 0;
    qint64 m_swapNo = 0;
    qint64 m_lastManualReadingId = 0;

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
    qint64 m_checkpointMs = 0;
    qint64 m_opNo = 0;
    Op m_op = Op::Recharge;
    QString m_opLine;
    QStringList m_sequenceLog;
    QCryptographicHash m_log{QCryptographicHash::Sha256};
    QStringList m_mismatches;
    std::map<Op, std::map<QString, qint64>> m_outcomes;
    std::map<Op, qint64> m_opNs;           // time per kind: the write job and the checks after it
    std::map<QString, qint64> m_decisions; // policy: decisions by reason, crossings, commands, supersessions

    std::optional<Statement> m_qNewPostings, m_qNewEntries, m_qBalance, m_qWalletSum, m_qTotal, m_qAttempt,
        m_qNewIntervals, m_qCursor, m_qControl, m_qNewCommands, m_qCommandCancelled, m_qCommandQueued, m_qAlarms;
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
        QStringLiteral("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm1_threshold_fen'"),
        &sqlError);
    const qint64 siteAlarm2 = m_reader->queryInt(
        QStringLiteral("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'alarm.alarm2_threshold_fen'"),
        &sqlError);
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
            if (!s.isNull(19))
                p.decidedBalance = s.int64(19);
            p.prepaid = s.int64(20) != 0;
            if (!s.isNull(21))
                p.installationBalanceFen = s.int64(21);
            p.pointCode = s.text(22);
            m_walletOf[p.accountId] = p.walletId;
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
    // Every 4th point may overdraw (so 'awaiting_credit' happens); every 5th keeps friendly hours
    // (besides the street-level shops of the seed); every point is on the flat
    // tariff from the seed's first day (a point's own assignment wins over its account's); and
    // the poller has seen every meter online in AUTO with its relay closed, but no reading yet
    // (so the controller's repair path, which needs a reading, stays out of the model).
    for (size_t i = 0; i < m_points.size(); ++i) {
        m_points[i].overdraftLimitFen = i % 4 == 1 ? kOverdraftLimitFen : 0;
        m_points[i].friendly = m_points[i].friendly || i % 5 == 2;
    }
    const auto configured
        = m_store
              ->write([this](Transaction &tx) {
                  Statement assign = tx.prepare(
                      QStringLiteral("INSERT INTO tariff_assignments (tariff_id, metering_point_id, effective_date, "
                                     "created_at_ms) SELECT ?1, ?2, '2025-06-01', 0 WHERE NOT EXISTS (SELECT 1 FROM "
                                     "tariff_assignments WHERE metering_point_id = ?2 AND effective_date = "
                                     "'2025-06-01' AND tariff_id = ?1)"));
                  Statement limit = tx.prepare(QStringLiteral(
                      "UPDATE control_settings SET overdraft_limit_fen = ?2 WHERE metering_point_id = ?1"));
                  Statement friendly = tx.prepare(
                      QStringLiteral("UPDATE control_settings SET friendly_hours = ?2 WHERE metering_point_id = ?1"));
                  Statement seen = tx.prepare(
                      QStringLiteral("INSERT INTO meter_state (meter_id, relay_state, relay_mode, comm_state, "
                                     "comm_state_since_ms, consecutive_failures, updated_at_ms) "
                                     "VALUES (?1, 'closed', 'auto', 'online', 0, 0, 0)"));
                  for (const PointModel &p : m_points) {
                      seen.bind(1, p.meterId);
                      if (const SqlError e = seen.run(); !e.ok())
                          return tx.fail(e);
                      seen.reset();
                      friendly.bind(1, p.pointId).bind(2, qint64(p.friendly));
                      if (const SqlError e = friendly.run(); !e.ok())
                          return tx.fail(e);
                      friendly.reset();
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
    QElapsedTimer timer;
    timer.start();
    for (int k = 0; k < sequences && m_mismatches.isEmpty(); ++k) {
        if (k > 0 && k % kProgressEverySequences == 0)
            qInfo("  %d sequences, %lld operations, %.1f s", k, m_opNo, double(timer.elapsed()) / 1000.0);
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
    if (m_mismatches.isEmpty())
        checkWallets(s);
}

void ModelRun::runOp(Sequence &s, Op op)
{
    ++m_opNo;
    m_op = op;
    m_clock.advanceMs(m_random.between(kStepMsMin, kStepMsMax));
    m_now = m_clock.wallMs();
    m_opLine.clear();
    m_model.posted.clear();
    QElapsedTimer timer;
    timer.start();
    switch (op) {
    case Op::Recharge: opRecharge(s); break;
    case Op::DuplicateRecharge: opDuplicateRecharge(s); break;
    case Op::Charge: opCharge(s); break;
    case Op::Refund: opRefund(s); break;
    case Op::Reversal: opReversal(s); break;
    case Op::Transfer: opTransfer(s); break;
    case Op::Adjustment: opAdjustment(s); break;
    case Op::Policy: opPolicy(s); break;
    case Op::Swap: opSwap(s); break;
    }
    if (m_mismatches.isEmpty())
        checkLedger(s);
    m_opNs[m_op] += timer.nsecsElapsed();
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
    const qint64 amount = m_random.between(100, 10'000);
    const qint64 n = ++m_paymentNo;
    m_opLine = QStringLiteral("recharge account %1 %2 %3 fen")
                   .arg(p.accountId)
                   .arg(ledger::channelCode(channel))
                   .arg(amount);
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  Done out;
                  out.post.outcome = PostOutcome::StoreFailed;
                  Statement order = tx.prepare(QStringLiteral(
                      "INSERT INTO topup_orders (account_id, amount_fen, idempotency_key, request_hash, state, "
                      "created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, zeroblob(32), 'paid', ?4, ?4)"));
                  order.bind(1, p.accountId)
                      .bind(2, amount)
                      .bind(3, QStringLiteral("model-order-%1").arg(n))
                      .bind(4, m_now);
                  if (const SqlError e = order.run(); !e.ok()) {
                      tx.fail(e);
                      return out;
                  }
                  Statement attempt
                      = tx.prepare(QStringLiteral("INSERT INTO payment_attempts (order_id, channel, out_trade_no, "
                                                  "amount_fen, state, created_at_ms, "
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
                  Statement credited = tx.prepare(QStringLiteral("UPDATE payment_attempts SET state = 'credited', "
                                                                 "paid_at_ms = ?2, updated_at_ms = ?2 WHERE id = ?1"));
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
    if (s.recharges.empty()) {
        m_op = Op::Recharge; // nothing to repeat yet: a first recharge, counted as one
        return opRecharge(s);
    }
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

    const qint64 wallet = m_walletOf.at(again.accountId);
    const PostResult actual = post([&](ledger::LedgerWriter &w) {
        if (!otherKey)
            return w.recharge(again.accountId, again.channel, again.attemptId, Money::fromFen(again.amountFen));
        ledger::EntryRequest request;
        request.kind = EntryKind::Recharge;
        request.idempotencyKey = *otherKey;
        request.postings = {{kClearing[int(again.channel)], Money::fromFen(-again.amountFen)},
            {wallet, Money::fromFen(again.amountFen)}};
        request.paymentAttemptId = again.attemptId;
        return w.post(request);
    });
    Content c;
    c.kind = EntryKind::Recharge;
    c.postings = sorted({{kClearing[int(again.channel)], -again.amountFen}, {wallet, again.amountFen}});
    c.attempt = again.attemptId;
    const Expect e
        = m_model.post(otherKey.value_or(QStringLiteral("recharge:attempt:%1").arg(again.attemptId)), c, false);
    expectPost(e, actual, QStringLiteral("duplicate recharge of attempt %1").arg(again.attemptId));
    m_opLine += QStringLiteral(" entry %1").arg(actual.entryId);
    note(ledger::postOutcomeCode(actual.outcome));
    if (e.outcome == PostOutcome::Posted)
        m_reversible[wallet].push_back(e.entryId);
    checkAttempt(again.attemptId, m_model.credited(again.attemptId));
}

void ModelRun::opCharge(Sequence &s)
{
    PointModel &p = pickPoint(s);
    const qint64 draw = m_random.between(0, 99);
    const qint64 delta = draw < 10 ? 0 : draw < 40 ? m_random.between(1, 500) : m_random.between(1, 100'000);
    const qint64 energy = p.lastEnergyWh ? *p.lastEnergyWh + delta : m_random.between(0, 5'000'000);
    m_opLine = QStringLiteral("charge point %1 (account %2) reading %3 Wh").arg(p.pointId).arg(p.accountId).arg(energy);
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  Done out;
                  Statement reading = tx.prepare(QStringLiteral(
                      "INSERT INTO readings (installation_id, meter_id, metering_point_id, taken_at_ms, source, "
                      "energy_total_wh, validation) VALUES (?1, ?2, ?3, ?4, 'poll', ?5, 'valid')"));
                  reading.bind(1, p.installationId)
                      .bind(2, p.meterId)
                      .bind(3, p.pointId)
                      .bind(4, m_now)
                      .bind(5, energy);
                  if (const SqlError e = reading.run(); !e.ok()) {
                      tx.fail(e);
                      return out;
                  }
                  out.id = tx.db().lastInsertRowId();
                  out.billed = m_biller->billReading(tx, out.id, m_now);
                  return out;
              })
              .get();
    if (!written.committed()) {
        mismatch(QStringLiteral("the charge's transaction did not commit (%1): %2 %3")
                     .arg(store::writeStatusCode(written.status), written.error.toString(), written.reason));
        return;
    }
    const qint64 readingId = written.value.id;
    const billing::BillingOutcome &billed = written.value.billed;
    p.lastEnergyWh = energy;

    const ReadingModel m = modelReading(p, readingId, energy);
    const int intervals = m.intervals, charged = m.charged, opened = m.opened;
    const qint64 amount = m.amount;
    const QString &expectedInterval = m.expectedInterval;
    const QSet<qint64> accounts = intervals ? QSet<qint64>{p.accountId} : QSet<qint64>{};
    if (billed.intervals != intervals || billed.charged != charged || billed.opened != opened || billed.held != 0
        || billed.unbilled != 0 || billed.unpriced != 0 || billed.amount != Money::fromFen(amount)
        || billed.accounts != accounts) {
        mismatch(QStringLiteral("billReading said intervals %1, charged %2, opened %3, held %4, unbilled %5, "
                                "unpriced %6, amount %7 fen, %8 account(s); the model expects %9, %10, %11, 0, 0, 0, "
                                "%12 fen, %13 account(s)")
                     .arg(billed.intervals)
                     .arg(billed.charged)
                     .arg(billed.opened)
                     .arg(billed.held)
                     .arg(billed.unbilled)
                     .arg(billed.unpriced)
                     .arg(billed.amount.fen())
                     .arg(billed.accounts.size())
                     .arg(intervals)
                     .arg(charged)
                     .arg(opened)
                     .arg(amount)
                     .arg(accounts.size()));
    }
    checkCharge(p, expectedInterval);
}

// 换表: the point's meter replaced by a new one (accounts::replaceMeter), in one transaction.
void ModelRun::opSwap(Sequence &s)
{
    size_t slot = 0;
    PointModel &p = pickPoint(s, &slot);
    const size_t index = s.points[slot];
    const quint32 newSerial = quint32(kSwapSerialBase + m_swapNo++);
    accounts::ReplaceMeterRequest request;
    request.pointCode = p.pointCode;
    request.newSerial = newSerial;
    request.operatorId = kOperatorId;
    request.note = QStringLiteral("model swap");
    // A final reading by hand, half the time: the register just above the last stored reading
    // (at most one 10 Wh unit more: no validation can hold it), with the balance shown.
    std::optional<qint64> finalEnergy;
    std::optional<qint64> finalBalance = p.installationBalanceFen;
    if (m_random.between(0, 1) == 0) {
        finalEnergy = p.lastEnergyWh ? (*p.lastEnergyWh + 9) / 10 * 10 : m_random.between(0, 500'000) * 10;
        accounts::ManualRegisters regs;
        regs.total = Energy::fromWh(*finalEnergy);
        if (p.prepaid) {
            finalBalance = m_random.between(0, 3) == 0 ? 0 : m_random.between(1, 50'000);
            regs.balance = Money::fromFen(*finalBalance);
        }
        request.oldFinal = regs;
    }
    // The new meter's registers recorded at installation, half the time.
    std::optional<qint64> initialEnergy;
    std::optional<qint64> initialBalance;
    if (m_random.between(0, 1) == 0) {
        initialEnergy = m_random.between(0, 100'000) * 10;
        accounts::ManualRegisters regs;
        regs.total = Energy::fromWh(*initialEnergy);
        if (p.prepaid) {
            initialBalance = m_random.between(0, 1'000);
            regs.balance = Money::fromFen(*initialBalance);
        }
        request.newInitial = regs;
    }
    m_opLine = QStringLiteral("swap point %1 (account %2, meter %3) to serial %4, final %5, initial %6")
                   .arg(p.pointId)
                   .arg(p.accountId)
                   .arg(p.meterId)
                   .arg(newSerial)
                   .arg(finalEnergy ? QString::number(*finalEnergy) : QStringLiteral("none"),
                       initialEnergy ? QString::number(*initialEnergy) : QStringLiteral("none"));

    struct Swapped
    {
        accounts::LifecycleResult result;
        qint64 finalReadingId = 0;
        qint64 newMeterId = 0;
    };
    const qint64 oldInstallation = p.installationId;
    const auto written = m_store
                             ->write([&](Transaction &tx) {
                                 Swapped out;
                                 out.result = accounts::replaceMeter(tx, *m_biller, request, m_now);
                                 if (!out.result.ok())
                                     return out;
                                 Statement q = tx.prepare(QStringLiteral(
                                     "SELECT (SELECT coalesce(max(id), 0) FROM readings WHERE installation_id = ?1 "
                                     "AND source = 'manual'), (SELECT id FROM meters WHERE serial_number = ?2)"));
                                 q.bind(1, oldInstallation).bind(2, qint64(newSerial));
                                 if (q.step() == Statement::Step::Row) {
                                     out.finalReadingId = q.int64(0);
                                     out.newMeterId = q.int64(1);
                                 }
                                 return out;
                             })
                             .get();
    if (!written.committed() || written.value.result.outcome != accounts::LifecycleOutcome::Done) {
        mismatch(QStringLiteral("the swap did not happen (%1): %2 %3")
                     .arg(store::writeStatusCode(written.status),
                         accounts::lifecycleOutcomeCode(written.value.result.outcome), written.value.result.message));
        return;
    }
    const accounts::LifecycleResult &result = written.value.result;

    // The final reading, billed on the old installation like a polled one.
    ReadingModel finalRead;
    if (finalEnergy) {
        if (written.value.finalReadingId <= m_lastManualReadingId) {
            mismatch(QStringLiteral("no manual final reading was stored"));
            return;
        }
        m_lastManualReadingId = written.value.finalReadingId;
        finalRead = modelReading(p, written.value.finalReadingId, *finalEnergy, false);
    }
    if (result.finalCharges != Money::fromFen(finalRead.amount))
        mismatch(QStringLiteral("replaceMeter charged %1 fen for the final reading; the model %2")
                     .arg(result.finalCharges.fen())
                     .arg(finalRead.amount));

    // What the old meter had queued is cancelled; the new one takes the point's cursor.
    for (qint64 id : p.queuedCommands) {
        const std::optional<qint64> cancelled
            = scalar(m_qCommandCancelled, "SELECT state = 'cancelled' FROM meter_commands WHERE id = ?1", {id});
        if (cancelled != 1)
            mismatch(QStringLiteral("command %1 of the replaced meter %2 was not cancelled").arg(id).arg(p.meterId));
    }
    p.queuedCommands.clear();
    p.installationId = result.installationId;
    p.meterId = written.value.newMeterId;
    p.baselineReadingId.reset();
    p.baselineEnergyWh = 0;
    p.segmentInitialWh = initialEnergy;
    p.lastEnergyWh = initialEnergy;
    p.installationBalanceFen = initialBalance;
    p.observed = false;
    ++p.swaps;
    // The final reading's interval on the old installation; the cursor on the new one, at its
    // start, with the remainder kept.
    checkCharge(p, finalRead.expectedInterval);
    if (!m_mismatches.isEmpty())
        return;

    // 换表补电: the balance the old meter held, queued for the new one; the ledger moves nothing.
    QStringList before;
    const bool carried = p.prepaid && finalBalance && *finalBalance > 0;
    if (carried) {
        before.append(QStringLiteral("meter=%1 kind=recharge key=replace:installation:%2:balance cause=operator "
                                     "state=queued")
                          .arg(p.meterId)
                          .arg(p.installationId));
    }
    note(QStringLiteral("%1_%2%3")
             .arg(finalRead.charged ? QStringLiteral("final_charged")
                     : finalEnergy  ? QStringLiteral("final")
                                    : QStringLiteral("no_final"),
                 initialEnergy ? QStringLiteral("initial") : QStringLiteral("no_initial"),
                 carried ? QStringLiteral("_carried") : QString()));
    const std::vector<Crossing> crossings = modelPolicy({index});
    checkPolicy({index}, result.commandIds.mid(before.size()), crossings, before);
}

// The model's billing (biller.h): the first reading of the segment opens it, unless the
// installation recorded initial registers (then it is charged from them, "from start"); an
// unchanged register makes no interval; otherwise one interval from the baseline, priced at the
// flat price with the carried remainder, and a charge when it comes to at least 1 fen.
ModelRun::ReadingModel ModelRun::modelReading(PointModel &p, qint64 readingId, qint64 energy, bool noteOutcome)
{
    const auto outcome = [&](const QString &what) {
        if (noteOutcome)
            note(what);
        else
            m_opLine += QStringLiteral(" (final reading: %1)").arg(what);
    };
    ReadingModel m;
    if (!p.baselineReadingId && !p.segmentInitialWh) {
        m.opened = 1;
        p.baselineReadingId = readingId;
        p.baselineEnergyWh = energy;
        outcome(QStringLiteral("opened"));
        return m;
    }
    const qint64 from = p.baselineReadingId ? p.baselineEnergyWh : *p.segmentInitialWh;
    if (energy == from) {
        outcome(QStringLiteral("no_energy"));
        return m;
    }
    const qint64 used = energy - from;
    const qint64 units = p.remainder + used * kFlatPrice;
    m.amount = units / kUnitsPerFen;
    const qint64 remainderAfter = units % kUnitsPerFen;
    const qint64 intervalId = ++m_intervalCount; // ids are dense: the table is append-only
    m.intervals = 1;
    m.expectedInterval = QStringLiteral("id=%1 point=%2 installation=%3 from=%4 to=%5 version=%6 energy=%7 "
                                        "slots=0/0/%7/0 estimated=0 amount=%8 remainder=%9 account=%10 held=0")
                             .arg(intervalId)
                             .arg(p.pointId)
                             .arg(p.installationId)
                             .arg(p.baselineReadingId ? QString::number(*p.baselineReadingId) : QStringLiteral("start"))
                             .arg(readingId)
                             .arg(kFlatVersionId)
                             .arg(used)
                             .arg(m.amount)
                             .arg(remainderAfter)
                             .arg(p.accountId);
    if (m.amount > 0) {
        m.charged = 1;
        Content c;
        c.kind = EntryKind::Charge;
        c.postings = sorted({{p.walletId, -m.amount}, {kRevenue, m.amount}});
        c.interval = intervalId;
        const Expect e = m_model.post(QStringLiteral("charge:interval:%1").arg(intervalId), c, false);
        if (e.outcome != PostOutcome::Posted)
            mismatch(QStringLiteral("the model refused the charge of interval %1: %2")
                         .arg(intervalId)
                         .arg(ledger::postOutcomeCode(e.outcome)));
    }
    p.remainder = remainderAfter;
    p.baselineReadingId = readingId;
    p.baselineEnergyWh = energy;
    p.segmentInitialWh.reset();
    m_opLine += QStringLiteral(" interval %1: %2 Wh, %3 fen").arg(intervalId).arg(used).arg(m.amount);
    outcome(m.amount > 0 ? QStringLiteral("charged") : QStringLiteral("below_1_fen"));
    return m;
}

PostResult ModelRun::payOut(const RefundMade &refund, qint64 amountFen)
{
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  Done out;
                  ledger::LedgerWriter writer(tx, m_now);
                  out.post = writer.refundPaid(refund.refundId, ledger::Channel::Cash, Money::fromFen(amountFen));
                  if (out.post.outcome != PostOutcome::Posted) {
                      if (!tx.rollbackRequested() && tx.error().ok())
                          tx.rollback(ledger::postOutcomeCode(out.post.outcome));
                      return out;
                  }
                  Statement paid = tx.prepare(
                      QStringLiteral("UPDATE refunds SET state = 'succeeded', completed_at_ms = ?2, updated_at_ms = ?2 "
                                     "WHERE id = ?1"));
                  paid.bind(1, refund.refundId).bind(2, m_now);
                  if (const SqlError e = paid.run(); !e.ok())
                      tx.fail(e);
                  return out;
              })
              .get();
    if (written.status == store::WriteStatus::Failed)
        return PostResult{PostOutcome::StoreFailed, 0, written.error.toString()};
    return written.value.post;
}

void ModelRun::opRefund(Sequence &s)
{
    const qint64 draw = m_random.between(0, 99);
    if (!s.unpaidRefunds.empty() && draw < 25) {
        const size_t i = size_t(m_random.between(0, qint64(s.unpaidRefunds.size()) - 1));
        const RefundMade r = s.unpaidRefunds[i];
        s.unpaidRefunds.erase(s.unpaidRefunds.begin() + qsizetype(i));
        m_opLine = QStringLiteral("refund %1 paid out: %2 fen").arg(r.refundId).arg(r.amountFen);
        const PostResult actual = payOut(r, r.amountFen);
        Content c;
        c.kind = EntryKind::Refund;
        c.postings = sorted({{kRefundsPayable, -r.amountFen}, {kClearing[int(ledger::Channel::Cash)], r.amountFen}});
        c.refund = r.refundId;
        const Expect e = m_model.post(QStringLiteral("refund:%1:paid").arg(r.refundId), c, false);
        expectPost(e, actual, QStringLiteral("payout of refund %1").arg(r.refundId));
        note(QStringLiteral("paid_later_") + ledger::postOutcomeCode(actual.outcome));
        if (e.outcome == PostOutcome::Posted)
            s.paidRefunds.push_back(r);
        return;
    }
    if (!s.paidRefunds.empty() && draw < 35) {
        const RefundMade r = m_random.pick(s.paidRefunds);
        const qint64 amount = m_random.chance(70) ? r.amountFen : r.amountFen + m_random.between(1, 100);
        m_opLine = QStringLiteral("refund %1 paid out again: %2 fen").arg(r.refundId).arg(amount);
        const PostResult actual = payOut(r, amount);
        Content c;
        c.kind = EntryKind::Refund;
        c.postings = sorted({{kRefundsPayable, -amount}, {kClearing[int(ledger::Channel::Cash)], amount}});
        c.refund = r.refundId;
        const Expect e = m_model.post(QStringLiteral("refund:%1:paid").arg(r.refundId), c, false);
        expectPost(e, actual, QStringLiteral("repeated payout of refund %1").arg(r.refundId));
        note(QStringLiteral("paid_again_") + ledger::postOutcomeCode(actual.outcome));
        return;
    }

    PointModel &p = pickPoint(s);
    const qint64 amount = debitAmount(m_model.balance.at(p.walletId));
    const bool payNow = m_random.chance(40);
    m_opLine = QStringLiteral("refund account %1 %2 fen%3")
                   .arg(p.accountId)
                   .arg(amount)
                   .arg(payNow ? QStringLiteral(", paid at once") : QString());
    const auto written
        = m_store
              ->write([&](Transaction &tx) {
                  Done out;
                  out.post.outcome = PostOutcome::StoreFailed;
                  Statement refund = tx.prepare(QStringLiteral(
                      "INSERT INTO refunds (account_id, channel, out_refund_no, amount_fen, state, reason, "
                      "requested_by, "
                      "created_at_ms, updated_at_ms) VALUES (?1, 'cash', ?2, ?3, 'approved', 'leaving', ?4, ?5, ?5)"));
                  refund.bind(1, p.accountId)
                      .bind(2, QStringLiteral("MR%1").arg(m_opNo, 12, 10, QLatin1Char('0')))
                      .bind(3, amount)
                      .bind(4, kOperatorId)
                      .bind(5, m_now);
                  if (const SqlError e = refund.run(); !e.ok()) {
                      tx.fail(e);
                      return out;
                  }
                  out.id = tx.db().lastInsertRowId();
                  ledger::LedgerWriter writer(tx, m_now);
                  out.post = writer.refundRequested(p.accountId, out.id, Money::fromFen(amount));
                  if (out.post.outcome == PostOutcome::Posted && payNow) {
                      out.second = writer.refundPaid(out.id, ledger::Channel::Cash, Money::fromFen(amount));
                      if (out.second.outcome == PostOutcome::Posted) {
                          Statement paid = tx.prepare(QStringLiteral(
                              "UPDATE refunds SET state = 'succeeded', completed_at_ms = ?2, updated_at_ms = ?2 "
                              "WHERE id = ?1"));
                          paid.bind(1, out.id).bind(2, m_now);
                          if (const SqlError e = paid.run(); !e.ok())
                              tx.fail(e);
                          return out;
                      }
                  }
                  // A refused request (or payout) is a refused business event: nothing of it stays.
                  if ((out.post.outcome != PostOutcome::Posted || (payNow && out.second.outcome != PostOutcome::Posted))
                      && !tx.rollbackRequested() && tx.error().ok())
                      tx.rollback(QStringLiteral("refund refused"));
                  return out;
              })
              .get();
    if (written.status == store::WriteStatus::Failed) {
        mismatch(QStringLiteral("the refund's transaction failed: ") + written.error.toString());
        return;
    }
    const qint64 refundId = written.value.id;
    Content requested;
    requested.kind = EntryKind::Refund;
    requested.postings = sorted({{p.walletId, -amount}, {kRefundsPayable, amount}});
    requested.refund = refundId;
    const Expect e = m_model.post(QStringLiteral("refund:%1:request").arg(refundId), requested, false);
    expectPost(e, written.value.post, QStringLiteral("refund %1 requested").arg(refundId));
    QString outcome = ledger::postOutcomeCode(written.value.post.outcome);
    bool paidNow = false;
    if (e.outcome == PostOutcome::Posted && payNow) {
        Content paid;
        paid.kind = EntryKind::Refund;
        paid.postings = sorted({{kRefundsPayable, -amount}, {kClearing[int(ledger::Channel::Cash)], amount}});
        paid.refund = refundId;
        const Expect e2 = m_model.post(QStringLiteral("refund:%1:paid").arg(refundId), paid, false);
        expectPost(e2, written.value.second, QStringLiteral("refund %1 paid at once").arg(refundId));
        outcome += QStringLiteral("_and_paid");
        paidNow = e2.outcome == PostOutcome::Posted;
    }
    const bool kept = e.outcome == PostOutcome::Posted;
    if (kept != written.committed())
        mismatch(QStringLiteral("the refund's transaction %1; the model %2 it")
                     .arg(store::writeStatusCode(written.status),
                         kept ? QStringLiteral("keeps") : QStringLiteral("refuses")));
    m_opLine += QStringLiteral(" refund %1").arg(refundId);
    note(outcome);
    if (kept)
        (paidNow ? s.paidRefunds : s.unpaidRefunds).push_back({refundId, amount});
}

void ModelRun::opReversal(Sequence &s)
{
    std::vector<qint64> candidates;
    std::vector<qint64> reversals;
    for (size_t i : s.points) {
        const qint64 wallet = m_points[i].walletId;
        const std::vector<qint64> &mine = m_reversible[wallet];
        candidates.insert(candidates.end(), mine.begin(), mine.end());
        const std::vector<qint64> &undone = m_reversalsOfWallet[wallet];
        reversals.insert(reversals.end(), undone.begin(), undone.end());
    }
    const qint64 draw = m_random.between(0, 99);
    ReversalRequest request;
    QString variant;
    bool fresh = true;
    if (draw < 10 && !s.reversals.empty()) {
        variant = QStringLiteral("replayed");
        request = m_random.pick(s.reversals);
        fresh = false;
    } else if (draw < 15 && !s.reversals.empty() && !candidates.empty()) {
        variant = QStringLiteral("key reused for another entry");
        request = m_random.pick(s.reversals);
        request.target = m_random.pick(candidates);
        fresh = false;
    } else if (draw < 25 && !reversals.empty()) {
        variant = QStringLiteral("of a reversal");
        request.target = m_random.pick(reversals);
    } else if (draw < 30 || candidates.empty()) {
        variant = QStringLiteral("of a missing entry");
        request.target = m_model.lastEntryId() + m_random.between(1, 1000);
    } else {
        variant = QStringLiteral("new");
        request.target = m_random.pick(candidates);
    }
    if (fresh) {
        request.key = QStringLiteral("op:reversal:%1").arg(m_opNo);
        request.reason = kReasons[m_random.between(0, std::size(kReasons) - 1)];
        request.overdraftApproved = m_random.chance(30);
    }
    m_opLine = QStringLiteral("reversal (%1) of entry %2, key %3%4")
                   .arg(variant)
                   .arg(request.target)
                   .arg(request.key, request.overdraftApproved ? QStringLiteral(", overdraft approved") : QString());
    const PostResult actual = post([&](ledger::LedgerWriter &w) {
        return w.reverse(
            request.target, request.key, request.reason, kOperatorId, std::nullopt, request.overdraftApproved);
    });
    const Expect e = m_model.reverse(request.target, request.key, request.reason, request.overdraftApproved);
    expectPost(e, actual, QStringLiteral("reversal of entry %1").arg(request.target));
    m_opLine += QStringLiteral(" entry %1").arg(actual.entryId);
    note(ledger::postOutcomeCode(actual.outcome));
    if (fresh)
        s.reversals.push_back(request);
    if (e.outcome == PostOutcome::Posted) {
        for (const auto &[account, fen] : m_model.entries.at(e.entryId).content.postings) {
            if (m_model.wallets.count(account))
                m_reversalsOfWallet[account].push_back(e.entryId);
        }
    }
}

void ModelRun::opTransfer(Sequence &s)
{
    std::vector<StaffRequest> earlier;
    for (const StaffRequest &r : s.staffRequests) {
        if (r.kind == EntryKind::Transfer)
            earlier.push_back(r);
    }
    const qint64 draw = m_random.between(0, 99);
    StaffRequest request;
    QString variant;
    if (draw < 10 && !earlier.empty()) {
        variant = QStringLiteral("replayed");
        request = m_random.pick(earlier);
    } else if (draw < 15 && !earlier.empty()) {
        variant = QStringLiteral("replayed with another amount");
        request = m_random.pick(earlier);
        request.amountFen += m_random.between(1, 500);
    } else {
        size_t fromIndex = 0;
        const PointModel &from = pickPoint(s, &fromIndex);
        size_t toIndex = (fromIndex + size_t(m_random.between(1, kAccountsPerSequence - 1))) % kAccountsPerSequence;
        variant = QStringLiteral("new");
        if (draw >= 98) {
            variant = QStringLiteral("to the same wallet");
            toIndex = fromIndex;
        }
        request.kind = EntryKind::Transfer;
        request.fromAccount = from.accountId;
        request.toAccount = m_points[s.points[toIndex]].accountId;
        request.amountFen = debitAmount(m_model.balance.at(from.walletId));
        request.key = QStringLiteral("op:transfer:%1").arg(m_opNo);
        request.reason = kReasons[m_random.between(0, std::size(kReasons) - 1)];
        s.staffRequests.push_back(request);
    }
    m_opLine = QStringLiteral("transfer (%1) %2 fen from account %3 to %4, key %5")
                   .arg(variant)
                   .arg(request.amountFen)
                   .arg(request.fromAccount)
                   .arg(request.toAccount)
                   .arg(request.key);
    const PostResult actual = post([&](ledger::LedgerWriter &w) {
        return w.transfer(request.fromAccount, request.toAccount, Money::fromFen(request.amountFen), request.key,
            kOperatorId, request.reason);
    });
    const qint64 fromWallet = m_walletOf.at(request.fromAccount);
    const qint64 toWallet = m_walletOf.at(request.toAccount);
    Content c;
    c.kind = EntryKind::Transfer;
    c.postings = sorted({{fromWallet, -request.amountFen}, {toWallet, request.amountFen}});
    c.operatorId = kOperatorId;
    c.reason = request.reason;
    const Expect e = m_model.post(request.key, c, false);
    expectPost(e, actual, QStringLiteral("transfer %1").arg(request.key));
    m_opLine += QStringLiteral(" entry %1").arg(actual.entryId);
    note(ledger::postOutcomeCode(actual.outcome));
    if (e.outcome == PostOutcome::Posted) {
        m_reversible[fromWallet].push_back(e.entryId);
        m_reversible[toWallet].push_back(e.entryId);
    }
}

void ModelRun::opAdjustment(Sequence &s)
{
    std::vector<StaffRequest> earlier;
    for (const StaffRequest &r : s.staffRequests) {
        if (r.kind == EntryKind::Adjustment)
            earlier.push_back(r);
    }
    const qint64 draw = m_random.between(0, 99);
    StaffRequest request;
    QString variant;
    if (draw < 8 && !earlier.empty()) {
        variant = QStringLiteral("replayed");
        request = m_random.pick(earlier);
    } else if (draw < 12 && !earlier.empty()) {
        variant = QStringLiteral("replayed with another amount");
        request = m_random.pick(earlier);
        request.amountFen += m_random.between(1, 500);
    } else {
        const PointModel &p = pickPoint(s);
        request.kind = EntryKind::Adjustment;
        request.fromAccount = p.accountId;
        const qint64 sign = m_random.between(0, 99);
        if (sign < 2) {
            variant = QStringLiteral("zero");
            request.amountFen = 0;
        } else if (sign < 50) {
            variant = QStringLiteral("credit");
            request.amountFen = m_random.between(1, 20'000);
        } else {
            variant = QStringLiteral("debit");
            request.amountFen = -debitAmount(m_model.balance.at(p.walletId));
        }
        request.key = QStringLiteral("op:adjust:%1").arg(m_opNo);
        request.reason = kReasons[m_random.between(0, std::size(kReasons) - 1)];
        s.staffRequests.push_back(request);
    }
    m_opLine = QStringLiteral("adjustment (%1) %2 fen on account %3, key %4")
                   .arg(variant)
                   .arg(request.amountFen)
                   .arg(request.fromAccount)
                   .arg(request.key);
    const PostResult actual = post([&](ledger::LedgerWriter &w) {
        return w.adjust(
            request.fromAccount, Money::fromFen(request.amountFen), request.key, kOperatorId, request.reason);
    });
    const qint64 wallet = m_walletOf.at(request.fromAccount);
    Content c;
    c.kind = EntryKind::Adjustment;
    c.postings = sorted({{kAdjustments, -request.amountFen}, {wallet, request.amountFen}});
    c.operatorId = kOperatorId;
    c.reason = request.reason;
    const Expect e = m_model.post(request.key, c, false);
    expectPost(e, actual, QStringLiteral("adjustment %1").arg(request.key));
    m_opLine += QStringLiteral(" entry %1").arg(actual.entryId);
    note(ledger::postOutcomeCode(actual.outcome));
    if (e.outcome == PostOutcome::Posted)
        m_reversible[wallet].push_back(e.entryId);
}

void ModelRun::opPolicy(Sequence &s)
{
    QSet<qint64> points;
    std::vector<size_t> order(s.points.begin(), s.points.end());
    std::sort(
        order.begin(), order.end(), [this](size_t a, size_t b) { return m_points[a].pointId < m_points[b].pointId; });
    for (size_t i : order)
        points.insert(m_points[i].pointId);
    m_opLine = QStringLiteral("policy");
    const auto written = m_store
                             ->write([&](Transaction &tx) {
                                 Done out;
                                 out.queued = control::Controller::evaluate(tx, *m_book, points, m_now);
                                 return out;
                             })
                             .get();
    if (!written.committed()) {
        mismatch(QStringLiteral("the evaluation's transaction did not commit (%1): %2")
                     .arg(store::writeStatusCode(written.status), written.error.toString()));
        return;
    }
    const std::vector<Crossing> crossings = modelPolicy(order);
    note(crossings.empty() ? QStringLiteral("steady") : QStringLiteral("crossings_%1").arg(crossings.size()));
    checkPolicy(order, written.value.queued, crossings);
}

std::vector<Crossing> ModelRun::modelPolicy(const std::vector<size_t> &order)
{
    // The model (policy.h, controller.h): a decision per point; a crossing bumps decision_seq,
    // cancels what earlier decisions queued for the meter (nothing is ever sent here), and needs
    // one command unless the meter already shows the wanted relay mode (it shows 'auto'), and none
    // for a meter whose relay prepayd has not seen.
    std::vector<Crossing> crossings;
    for (size_t i : order) {
        PointModel &p = m_points[i];
        const Decided d = decide(p);
        const bool changed = !p.desired || *p.desired != d.desired
            || wantedRelayMode(*p.desired, p.reason.value_or(Reason::Funded)) != wantedRelayMode(d.desired, d.reason);
        if (changed) {
            ++p.decisionSeq;
            Crossing c;
            c.point = i;
            c.cancelled = p.queuedCommands;
            p.queuedCommands.clear();
            c.command = p.observed && wantedRelayMode(d.desired, d.reason) != QLatin1StringView("auto");
            crossings.push_back(c);
        }
        // control_state is written when the decision or its reason changes (or at the first one),
        // with the wallet of that moment; a standing decision keeps the balance it was taken at.
        if (changed || !p.reason || *p.reason != d.reason)
            p.decidedBalance = m_model.balance.at(p.walletId);
        p.desired = d.desired;
        p.reason = d.reason;
        ++m_decisions[control::reasonCode(d.reason)];
        if (changed) {
            ++m_decisions[QStringLiteral("crossings")];
            m_decisions[QStringLiteral("commands")] += crossings.back().command ? 1 : 0;
            m_decisions[QStringLiteral("superseded")] += qint64(crossings.back().cancelled.size());
        }
        m_opLine += QStringLiteral(" point %1 %2/%3 (balance %4%5)")
                        .arg(p.pointId)
                        .arg(control::desiredCode(d.desired), control::reasonCode(d.reason))
                        .arg(m_model.balance.at(p.walletId))
                        .arg(changed ? QStringLiteral(", crossing") : QString());
    }
    return crossings;
}

// ---- The model's control policy (policy.h) ---------------------------------------------------

Decided ModelRun::decide(const PointModel &p) const
{
    const qint64 b = m_model.balance.at(p.walletId);
    const qint64 tripLine = -p.overdraftLimitFen;
    const bool offForMoney
        = p.desired == Desired::Off && (p.reason == Reason::Arrears || p.reason == Reason::AwaitingCredit);
    if (offForMoney) {
        if (b > 0)
            return {Desired::On, Reason::Funded};
        if (b <= tripLine)
            return {Desired::Off, Reason::Arrears};
        return {Desired::Off, Reason::AwaitingCredit};
    }
    if (b <= tripLine) {
        if (p.friendly && insideFriendlyHours(m_now))
            return {Desired::On, Reason::FriendlyHours};
        return {Desired::Off, Reason::Arrears};
    }
    return {Desired::On, Reason::Funded};
}

bool ModelRun::insideFriendlyHours(qint64 nowMs) const
{
    const qint64 local = nowMs + kLocalOffsetMs;
    const QDate day = QDate(1970, 1, 1).addDays(local / kMsPerDay);
    const int minute = int((local % kMsPerDay) / 60'000);
    billing::DayType type = day.dayOfWeek() >= 6 ? billing::DayType::Weekend : billing::DayType::Workday;
    if (const auto it = m_calendar.find(day); it != m_calendar.end())
        type = it->second;
    if (type != billing::DayType::Workday)
        return true; // the seeded 'control.friendly_day_types': weekend, holiday
    return minute >= kFriendlyStartMinute || minute < kFriendlyEndMinute;
}

// ---- Checks --------------------------------------------------------------------------------------

void ModelRun::mismatch(const QString &what)
{
    m_mismatches.append(QStringLiteral("seed %1, sequence %2, operation %3 (%4: %5): %6")
                            .arg(m_seed)
                            .arg(m_sequenceNo)
                            .arg(m_opNo)
                            .arg(opName(m_op), m_opLine, what));
}

Statement &ModelRun::reader(std::optional<Statement> &slot, const char *sql)
{
    if (!slot)
        slot.emplace(m_reader->prepare(QString::fromUtf8(sql)));
    return *slot;
}

// Resets a reader statement (so the reader holds no snapshot); false after an error.
bool ModelRun::finished(Statement &s, Statement::Step step)
{
    const bool ok = step != Statement::Step::Error;
    if (!ok)
        mismatch(QStringLiteral("reading the database failed: ") + s.error().toString());
    s.reset();
    return ok;
}

std::optional<qint64> ModelRun::scalar(std::optional<Statement> &slot, const char *sql, const std::vector<qint64> &args)
{
    Statement &q = reader(slot, sql);
    for (size_t i = 0; i < args.size(); ++i)
        q.bind(int(i) + 1, args[i]);
    const Statement::Step step = q.step();
    std::optional<qint64> value;
    if (step == Statement::Step::Row && !q.isNull(0))
        value = q.int64(0);
    finished(q, step);
    return value;
}

void ModelRun::checkLedger(const Sequence &s)
{
    // The postings added since the last check, by entry, and the running Σ of every account.
    std::map<qint64, Postings> postingsOf;
    {
        Statement &q = reader(m_qNewPostings,
            "SELECT id, entry_id, ledger_account_id, amount_fen FROM ledger_postings WHERE id > ?1 ORDER BY id");
        q.bind(1, m_seenPostingId);
        Statement::Step step;
        while ((step = q.step()) == Statement::Step::Row) {
            m_seenPostingId = q.int64(0);
            postingsOf[q.int64(1)].push_back({q.int64(2), q.int64(3)});
            m_dbPostingSum[q.int64(2)] += q.int64(3);
        }
        if (!finished(q, step))
            return;
    }
    // The entries added since the last check: exactly what the model posted.
    std::vector<ModelEntry> found;
    {
        Statement &q = reader(m_qNewEntries,
            "SELECT id, kind, idempotency_key, payment_attempt_id, charge_interval_id, refund_id, reverses_entry_id, "
            "operator_id, approval_id, reason FROM ledger_entries WHERE id > ?1 ORDER BY id");
        q.bind(1, m_seenEntryId);
        auto optionalAt = [&q](int column) {
            return q.isNull(column) ? std::optional<qint64>() : std::optional<qint64>(q.int64(column));
        };
        Statement::Step step;
        while ((step = q.step()) == Statement::Step::Row) {
            ModelEntry e;
            e.id = q.int64(0);
            const std::optional<EntryKind> kind = ledger::entryKindFromCode(q.text(1));
            if (!kind)
                mismatch(QStringLiteral("entry %1 has the unknown kind '%2'").arg(e.id).arg(q.text(1)));
            e.content.kind = kind.value_or(EntryKind::Adjustment);
            e.key = q.text(2);
            e.content.attempt = optionalAt(3);
            e.content.interval = optionalAt(4);
            e.content.refund = optionalAt(5);
            e.content.reverses = optionalAt(6);
            e.content.operatorId = optionalAt(7);
            e.content.approval = optionalAt(8);
            e.content.reason = q.text(9);
            e.content.postings = sorted(postingsOf[e.id]);
            found.push_back(e);
        }
        if (!finished(q, step))
            return;
    }
    const qint64 seenBefore = m_seenEntryId;
    const std::vector<ModelEntry> &posted = m_model.posted;
    if (found.size() != posted.size()) {
        QStringList ids;
        for (const ModelEntry &e : found)
            ids.append(QStringLiteral("%1 (%2)").arg(e.id).arg(e.key));
        QStringList keys;
        for (const ModelEntry &e : posted)
            keys.append(QStringLiteral("%1 (%2)").arg(e.id).arg(e.key));
        mismatch(QStringLiteral("the ledger added %1 entries [%2]; the model posted %3 [%4]")
                     .arg(found.size())
                     .arg(ids.join(QStringLiteral(", ")))
                     .arg(posted.size())
                     .arg(keys.join(QStringLiteral(", "))));
    } else {
        for (size_t i = 0; i < found.size(); ++i) {
            if (found[i].id != posted[i].id || found[i].key != posted[i].key
                || !(found[i].content == posted[i].content)) {
                mismatch(QStringLiteral("entry %1 (key %2) is %3; the model posted entry %4 (key %5) %6")
                             .arg(found[i].id)
                             .arg(found[i].key, describe(found[i].content))
                             .arg(posted[i].id)
                             .arg(posted[i].key, describe(posted[i].content)));
            }
        }
    }
    for (const ModelEntry &e : found)
        m_seenEntryId = std::max(m_seenEntryId, e.id);
    for (const auto &[entryId, legs] : postingsOf) {
        if (entryId <= seenBefore)
            mismatch(
                QStringLiteral("%1 posting(s) were added to entry %2, posted earlier").arg(legs.size()).arg(entryId));
    }
    m_dbEntryCount += qint64(found.size());
    if (m_dbEntryCount != m_model.entryCount())
        mismatch(
            QStringLiteral("the ledger holds %1 entries; the model %2").arg(m_dbEntryCount).arg(m_model.entryCount()));

    // Balances: cache = Σ postings = model (I2), for every account the operation may have touched.
    std::set<qint64> accounts;
    for (qint64 a = 1; a <= kSystemAccountsMax; ++a)
        accounts.insert(a);
    for (size_t i : s.points)
        accounts.insert(m_points[i].walletId);
    for (const ModelEntry &e : posted) {
        for (const auto &[account, fen] : e.content.postings)
            accounts.insert(account);
    }
    for (qint64 account : accounts) {
        const std::optional<qint64> cached
            = scalar(m_qBalance, "SELECT balance_fen FROM ledger_accounts WHERE id = ?1", {account});
        const qint64 model = m_model.balance.count(account) ? m_model.balance.at(account) : 0;
        const qint64 sum = m_dbPostingSum[account];
        if (!cached || *cached != model || sum != model) {
            mismatch(QStringLiteral("ledger account %1: cached balance %2, Σ postings %3; the model %4")
                         .arg(account)
                         .arg(cached ? QString::number(*cached) : QStringLiteral("(none)"))
                         .arg(sum)
                         .arg(model));
        }
    }
    // I1 through the caches: all balances together are 0.
    const std::optional<qint64> total
        = scalar(m_qTotal, "SELECT coalesce(sum(balance_fen), 0) FROM ledger_accounts", {});
    if (total != 0)
        mismatch(QStringLiteral("all cached balances sum to %1, not 0").arg(total.value_or(-1)));
    m_model.posted.clear();
}

// The full Σ of the sequence's wallets' postings, once per sequence (after every operation the
// running Σ of the new postings stands for it: postings are append-only, which checkpoint()
// checks, and the full Σ of every account is compared there too).
void ModelRun::checkWallets(const Sequence &s)
{
    for (size_t i : s.points) {
        const qint64 wallet = m_points[i].walletId;
        const std::optional<qint64> sum = scalar(m_qWalletSum,
            "SELECT coalesce(sum(amount_fen), 0) FROM ledger_postings WHERE ledger_account_id = ?1", {wallet});
        if (sum != m_model.balance.at(wallet))
            mismatch(QStringLiteral("wallet %1: its postings sum to %2; the model %3")
                         .arg(wallet)
                         .arg(sum.value_or(0))
                         .arg(m_model.balance.at(wallet)));
    }
}

void ModelRun::checkAttempt(qint64 attemptId, bool credited)
{
    Statement &q = reader(m_qAttempt, "SELECT state FROM payment_attempts WHERE id = ?1");
    q.bind(1, attemptId);
    const Statement::Step step = q.step();
    const QString state = step == Statement::Step::Row ? q.text(0) : QStringLiteral("(no row)");
    if (!finished(q, step))
        return;
    // A credited attempt is marked in the credit's transaction; a refused one was rolled back.
    const QString expected = credited ? QStringLiteral("credited") : QStringLiteral("(no row)");
    if (state != expected)
        mismatch(QStringLiteral("payment attempt %1 is %2; the model expects %3").arg(attemptId).arg(state, expected));
}

void ModelRun::checkCharge(const PointModel &p, const QString &expectedInterval)
{
    QStringList intervals;
    {
        Statement &q = reader(m_qNewIntervals,
            "SELECT id, metering_point_id, installation_id, from_reading_id, to_reading_id, tariff_version_id, "
            "energy_wh, "
            "energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, slots_estimated, amount_fen, "
            "sub_fen_remainder_after, account_id, held FROM charge_intervals WHERE id > ?1 ORDER BY id");
        q.bind(1, m_seenIntervalId);
        Statement::Step step;
        while ((step = q.step()) == Statement::Step::Row) {
            m_seenIntervalId = q.int64(0);
            intervals.append(QStringLiteral("id=%1 point=%2 installation=%3 from=%4 to=%5 version=%6 energy=%7 "
                                            "slots=%8/%9/%10/%11 estimated=%12 amount=%13 remainder=%14 account=%15 "
                                            "held=%16")
                                 .arg(q.int64(0))
                                 .arg(q.int64(1))
                                 .arg(q.int64(2))
                                 .arg(q.isNull(3) ? QStringLiteral("start") : QString::number(q.int64(3)))
                                 .arg(q.int64(4))
                                 .arg(q.int64(5))
                                 .arg(q.int64(6))
                                 .arg(q.int64(7))
                                 .arg(q.int64(8))
                                 .arg(q.int64(9))
                                 .arg(q.int64(10))
                                 .arg(q.int64(11))
                                 .arg(q.int64(12))
                                 .arg(q.int64(13))
                                 .arg(q.isNull(14) ? QStringLiteral("none") : QString::number(q.int64(14)))
                                 .arg(q.int64(15)));
        }
        if (!finished(q, step))
            return;
    }
    const QStringList expected = expectedInterval.isEmpty() ? QStringList{} : QStringList{expectedInterval};
    if (intervals != expected)
        mismatch(QStringLiteral("new charge intervals [%1]; the model expects [%2]")
                     .arg(intervals.join(QStringLiteral("; ")), expected.join(QStringLiteral("; "))));

    Statement &q = reader(m_qCursor,
        "SELECT installation_id, last_charged_reading_id, sub_fen_remainder FROM billing_state WHERE metering_point_id "
        "= ?1");
    q.bind(1, p.pointId);
    const Statement::Step step = q.step();
    QString cursor = QStringLiteral("(no row)");
    if (step == Statement::Step::Row) {
        cursor = QStringLiteral("installation=%1 baseline=%2 remainder=%3")
                     .arg(q.int64(0))
                     .arg(q.isNull(1) ? QStringLiteral("none") : QString::number(q.int64(1)))
                     .arg(q.int64(2));
    }
    if (!finished(q, step))
        return;
    const QString model = QStringLiteral("installation=%1 baseline=%2 remainder=%3")
                              .arg(p.installationId)
                              .arg(p.baselineReadingId ? QString::number(*p.baselineReadingId) : QStringLiteral("none"))
                              .arg(p.remainder);
    if (cursor != model)
        mismatch(QStringLiteral("billing_state of point %1: %2; the model %3").arg(p.pointId).arg(cursor, model));
}

void ModelRun::checkPolicy(const std::vector<size_t> &evaluated, const QList<qint64> &queued,
    const std::vector<Crossing> &crossings, const QStringList &before)
{
    // One command per crossing that needs one, in point order, keyed by (point, decision_seq).
    QStringList commands;
    QList<qint64> ids;
    {
        Statement &q = reader(m_qNewCommands,
            "SELECT id, meter_id, kind, idempotency_key, cause, state FROM meter_commands WHERE id > ?1 ORDER BY id");
        q.bind(1, m_seenCommandId);
        Statement::Step step;
        while ((step = q.step()) == Statement::Step::Row) {
            m_seenCommandId = q.int64(0);
            ids.append(q.int64(0));
            commands.append(QStringLiteral("meter=%1 kind=%2 key=%3 cause=%4 state=%5")
                                .arg(q.int64(1))
                                .arg(q.text(2), q.text(3), q.text(4), q.text(5)));
        }
        if (!finished(q, step))
            return;
    }
    QStringList expected = before;
    std::vector<size_t> commanded;
    for (const Crossing &c : crossings) {
        if (!c.command)
            continue;
        const PointModel &p = m_points[c.point];
        commanded.push_back(c.point);
        expected.append(QStringLiteral("meter=%1 kind=%2 key=policy:%3:%4 cause=policy state=queued")
                            .arg(p.meterId)
                            .arg(commandKindFor(*p.desired, *p.reason))
                            .arg(p.pointId)
                            .arg(p.decisionSeq));
    }
    if (commands != expected) {
        mismatch(QStringLiteral("new commands [%1]; the model expects [%2]")
                     .arg(commands.join(QStringLiteral("; ")), expected.join(QStringLiteral("; "))));
        return;
    }
    if (queued != ids.mid(before.size()))
        mismatch(QStringLiteral("evaluate() returned %1 command id(s); %2 were written")
                     .arg(queued.size())
                     .arg(ids.size() - before.size()));
    // control_state.command_id as the controller keeps it today: a crossing that needs no command
    // leaves the previous decision's command there (writeState's coalesce), even though that
    // command was just cancelled and carries another decision_seq in its key. An open question
    // for the controller, not a choice of this test: if it changes to "none for a new decision",
    // reset commandId at every crossing in opPolicy().
    for (size_t n = 0; n < commanded.size(); ++n) {
        PointModel &p = m_points[commanded[n]];
        const qint64 id = ids[before.size() + qsizetype(n)];
        p.commandId = id;
        p.queuedCommands.push_back(id);
    }
    // What a crossing superseded is cancelled; what is still queued stays queued.
    for (const Crossing &c : crossings) {
        for (qint64 id : c.cancelled) {
            const std::optional<qint64> cancelled
                = scalar(m_qCommandCancelled, "SELECT state = 'cancelled' FROM meter_commands WHERE id = ?1", {id});
            if (cancelled != 1)
                mismatch(QStringLiteral("command %1 of point %2 was not cancelled by decision %3")
                             .arg(id)
                             .arg(m_points[c.point].pointId)
                             .arg(m_points[c.point].decisionSeq));
        }
    }

    for (size_t i : evaluated) {
        const PointModel &p = m_points[i];
        Statement &q = reader(m_qControl,
            "SELECT desired, reason, decision_seq, balance_fen, command_id FROM control_state WHERE metering_point_id "
            "= ?1");
        q.bind(1, p.pointId);
        const Statement::Step step = q.step();
        QString state = QStringLiteral("(no row)");
        if (step == Statement::Step::Row) {
            state = QStringLiteral("%1/%2 seq=%3 balance=%4 command=%5")
                        .arg(q.text(0), q.text(1))
                        .arg(q.int64(2))
                        .arg(q.isNull(3) ? QStringLiteral("null") : QString::number(q.int64(3)))
                        .arg(q.isNull(4) ? QStringLiteral("none") : QString::number(q.int64(4)));
        }
        if (!finished(q, step))
            return;
        const QString model = QStringLiteral("%1/%2 seq=%3 balance=%4 command=%5")
                                  .arg(control::desiredCode(*p.desired), control::reasonCode(*p.reason))
                                  .arg(p.decisionSeq)
                                  .arg(p.decidedBalance ? QString::number(*p.decidedBalance) : QStringLiteral("null"))
                                  .arg(p.commandId ? QString::number(*p.commandId) : QStringLiteral("none"));
        if (state != model)
            mismatch(QStringLiteral("control_state of point %1: %2; the model %3").arg(p.pointId).arg(state, model));
        for (qint64 id : p.queuedCommands) {
            const std::optional<qint64> stillQueued
                = scalar(m_qCommandQueued, "SELECT state = 'queued' FROM meter_commands WHERE id = ?1", {id});
            if (stillQueued != 1)
                mismatch(QStringLiteral("command %1 of point %2 is no longer queued").arg(id).arg(p.pointId));
        }

        // The balance alarms of the point: one open episode per condition that holds.
        QStringList open;
        {
            Statement &a = reader(m_qAlarms,
                "SELECT kind FROM alarms WHERE subject_kind = 'metering_point' AND subject_id = ?1 "
                "AND cleared_at_ms IS NULL ORDER BY kind");
            a.bind(1, p.pointId);
            Statement::Step alarmStep;
            while ((alarmStep = a.step()) == Statement::Step::Row)
                open.append(a.text(0));
            if (!finished(a, alarmStep))
                return;
        }
        const qint64 balance = m_model.balance.at(p.walletId);
        QStringList want;
        if (balance <= p.alarm1Fen)
            want.append(QStringLiteral("alarm1"));
        if (balance <= p.alarm2Fen)
            want.append(QStringLiteral("alarm2"));
        if (balance <= 0)
            want.append(QStringLiteral("arrears"));
        if (open != want)
            mismatch(QStringLiteral("open alarms of point %1 (balance %2): [%3]; the model expects [%4]")
                         .arg(p.pointId)
                         .arg(balance)
                         .arg(open.join(QStringLiteral(", ")), want.join(QStringLiteral(", "))));
    }
}

// The whole database against the model, and the contract's own checker.
void ModelRun::checkpoint()
{
    ++m_checkpoints;
    QElapsedTimer timer;
    timer.start();
    const auto timed = qScopeGuard([&] { m_checkpointMs += timer.elapsed(); });
    m_opLine = QStringLiteral("checkpoint after sequence %1").arg(m_sequenceNo);
    const ledger::VerifyReport report = ledger::verifyLedger(*m_reader);
    if (!report.ok())
        mismatch(QStringLiteral("ledger verify:\n") + describe(report));
    if (report.entries != m_model.entryCount() || report.chargeIntervals != m_intervalCount)
        mismatch(QStringLiteral("ledger verify counted %1 entries and %2 charge intervals; the model %3 and %4")
                     .arg(report.entries)
                     .arg(report.chargeIntervals)
                     .arg(m_model.entryCount())
                     .arg(m_intervalCount));

    const billing::RecomputeReport recomputed = billing::recompute(*m_reader, *m_book);
    if (!recomputed.error.isEmpty() || !recomputed.mismatches.isEmpty() || recomputed.intervals != m_intervalCount
        || recomputed.storedAmount != recomputed.recomputedAmount) {
        QStringList lines;
        for (const billing::RecomputeMismatch &m : recomputed.mismatches.mid(0, 10))
            lines.append(QStringLiteral("interval %1: %2").arg(m.intervalId).arg(m.message));
        mismatch(QStringLiteral("recompute: %1 intervals, stored %2 fen, recomputed %3 fen, error '%4'; %5")
                     .arg(recomputed.intervals)
                     .arg(recomputed.storedAmount.fen())
                     .arg(recomputed.recomputedAmount.fen())
                     .arg(recomputed.error, lines.join(QStringLiteral("; "))));
    }

    // Every account: its cache and the Σ of all its postings, against the model.
    {
        Statement q = m_reader->prepare(QStringLiteral(
            "SELECT a.id, a.balance_fen, coalesce(s.total, 0) FROM ledger_accounts a LEFT JOIN (SELECT "
            "ledger_account_id, sum(amount_fen) AS total FROM ledger_postings GROUP BY ledger_account_id) s "
            "ON s.ledger_account_id = a.id ORDER BY a.id"));
        size_t rows = 0;
        Statement::Step step;
        while ((step = q.step()) == Statement::Step::Row) {
            ++rows;
            const qint64 account = q.int64(0);
            const qint64 model = m_model.balance.count(account) ? m_model.balance.at(account) : 0;
            if (q.int64(1) != model || q.int64(2) != model)
                mismatch(QStringLiteral("ledger account %1: cached %2, Σ postings %3; the model %4")
                             .arg(account)
                             .arg(q.int64(1))
                             .arg(q.int64(2))
                             .arg(model));
        }
        if (finished(q, step) && rows != m_model.balance.size())
            mismatch(QStringLiteral("%1 ledger accounts; the model knows %2").arg(rows).arg(m_model.balance.size()));
    }

    // I7: the ledger and the charges refuse UPDATE and DELETE (each attempt must fail whole).
    if (m_model.entryCount() > 0 && m_intervalCount > 0) {
        const char *const tampering[] = {
            "UPDATE ledger_entries SET reason = 'tampered' WHERE id = (SELECT max(id) FROM ledger_entries)",
            "DELETE FROM ledger_entries WHERE id = (SELECT max(id) FROM ledger_entries)",
            "UPDATE ledger_postings SET amount_fen = amount_fen + 1 WHERE id = (SELECT max(id) FROM ledger_postings)",
            "DELETE FROM ledger_postings WHERE id = (SELECT max(id) FROM ledger_postings)",
            "UPDATE ledger_accounts SET code = code || '-x' WHERE id = 5",
            "DELETE FROM ledger_accounts WHERE id = 5",
            "UPDATE charge_intervals SET amount_fen = amount_fen + 1 WHERE id = (SELECT max(id) FROM charge_intervals)",
            "DELETE FROM charge_intervals WHERE id = (SELECT max(id) FROM charge_intervals)",
        };
        for (const char *sql : tampering) {
            const auto written = m_store
                                     ->write([sql](Transaction &tx) {
                                         if (const SqlError e = tx.db().exec(QString::fromUtf8(sql)); !e.ok())
                                             tx.fail(e);
                                     })
                                     .get();
            if (written.status != store::WriteStatus::Failed)
                mismatch(QStringLiteral("append-only: '%1' was not refused (%2)")
                             .arg(QString::fromUtf8(sql), store::writeStatusCode(written.status)));
        }
    }
}

QByteArray ModelRun::logHash()
{
    Statement q = m_reader->prepare(QStringLiteral("SELECT id, balance_fen FROM ledger_accounts ORDER BY id"));
    while (q.step() == Statement::Step::Row)
        m_log.addData(QStringLiteral("balance %1 %2\n").arg(q.int64(0)).arg(q.int64(1)).toUtf8());
    q.reset();
    return m_log.result();
}

QStringList ModelRun::statistics() const
{
    QStringList lines;
    for (const auto &[op, outcomes] : m_outcomes) {
        qint64 total = 0;
        QStringList parts;
        for (const auto &[outcome, n] : outcomes) {
            total += n;
            parts.append(QStringLiteral("%1 %2").arg(outcome).arg(n));
        }
        const auto ns = m_opNs.find(op);
        const double msEach = ns == m_opNs.end() || total == 0 ? 0.0 : double(ns->second) / double(total) / 1e6;
        lines.append(QStringLiteral("%1: %2, %3 ms each (%4)")
                         .arg(opName(op))
                         .arg(total)
                         .arg(msEach, 0, 'f', 2)
                         .arg(parts.join(QStringLiteral(", "))));
    }
    QStringList decisions;
    for (const auto &[what, n] : m_decisions)
        decisions.append(QStringLiteral("%1 %2").arg(what).arg(n));
    lines.append(QStringLiteral("policy decisions: ") + decisions.join(QStringLiteral(", ")));
    return lines;
}

} // namespace

class TestLedgerModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void randomSequencesMatchTheModel();
    void sameSeedReplaysIdentically();

private:
    quint32 m_seed = 0;
};

void TestLedgerModel::initTestCase()
{
    // Every crossing and command is logged at debug or info level: thousands of lines that would bury
    // the figures. Warnings stay on.
    QLoggingCategory::setFilterRules(QStringLiteral("prepay.*.debug=false\nprepay.*.info=false"));
    m_seed = test::testSeed();
}

void TestLedgerModel::randomSequencesMatchTheModel()
{
    bool ok = false;
    int sequences = qEnvironmentVariable("PREPAY_MODEL_SEQUENCES").toInt(&ok);
    if (!ok || sequences < 1)
        sequences = kSequencesDefault;
    ModelRun run(m_seed);
    QString error;
    QVERIFY2(run.open(&error), qPrintable(error));
    QElapsedTimer timer;
    timer.start();
    run.run(sequences);
    const double seconds = double(timer.elapsed()) / 1000.0;
    qInfo("ledger model: seed %u, %d sequences, %lld operations, %lld mismatches, %.1f s (of which %d checkpoints "
          "%.1f s)",
        m_seed, run.sequencesRun(), run.operations(), qint64(run.mismatches().size()), seconds, run.checkpoints(),
        double(run.checkpointMs()) / 1000.0);
    for (const QString &line : run.statistics())
        qInfo("  %s", qPrintable(line));
    qInfo("  operation log and final balances: sha256 %s", run.logHash().toHex().constData());
    if (!run.mismatches().isEmpty()) {
        for (const QString &line : run.sequenceLog())
            qInfo("  log %s", qPrintable(line));
        QFAIL(qPrintable(run.mismatches().join(u'\n')));
    }
    QCOMPARE(run.sequencesRun(), sequences);
}

void TestLedgerModel::sameSeedReplaysIdentically()
{
    ModelRun first(m_seed);
    ModelRun second(m_seed);
    ModelRun other(m_seed + 1);
    QString error;
    QVERIFY2(first.open(&error), qPrintable(error));
    QVERIFY2(second.open(&error), qPrintable(error));
    QVERIFY2(other.open(&error), qPrintable(error));
    first.run(kReplaySequences);
    second.run(kReplaySequences);
    other.run(kReplaySequences);
    QVERIFY2(first.mismatches().isEmpty(), qPrintable(first.mismatches().join(u'\n')));
    QVERIFY2(second.mismatches().isEmpty(), qPrintable(second.mismatches().join(u'\n')));
    QVERIFY2(other.mismatches().isEmpty(), qPrintable(other.mismatches().join(u'\n')));
    QCOMPARE(first.operations(), second.operations());
    const QByteArray hash = first.logHash();
    QCOMPARE(second.logHash().toHex(), hash.toHex());
    // The hash covers the run: another seed gives another log.
    QVERIFY(other.logHash() != hash);
}

QTEST_GUILESS_MAIN(TestLedgerModel)
#include "tst_ledger_model.moc"
