#include "commandstore.h"

#include "commandpayload.h"
#include "commandslog.h"

#include "api/check.h"
#include "api/clock.h"
#include "modbus/mapv1.h"
#include "store/store.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QStringList>

#include <type_traits>

namespace prepay::commands {

using store::Connection;
using store::SqlError;
using store::Statement;
using store::Transaction;

namespace {

const QString kRowColumns = QStringLiteral(
    "id, meter_id, kind, state, priority, payload, idempotency_key, correlation_id, amount_fen, purchase_seq, "
    "recharge_txn, attempts, max_attempts, next_attempt_at_ms, deadline_ms, last_error, created_at_ms");

std::optional<qint64> optionalInt(const Statement &s, int column)
{
    if (s.isNull(column))
        return std::nullopt;
    return s.int64(column);
}

CommandRow rowFrom(const Statement &s)
{
    CommandRow row;
    row.id = s.int64(0);
    row.meterId = s.int64(1);
    const std::optional<Kind> kind = kindFromCode(s.text(2));
    const std::optional<State> state = stateFromCode(s.text(3));
    // The schema's CHECKs allow nothing else: another value means this code and the schema
    // disagree, and driving such a row could send anything.
    PREPAY_CHECK(kind && state);
    row.kind = *kind;
    row.state = *state;
    row.priority = int(s.int64(4));
    row.payload = QJsonDocument::fromJson(s.text(5).toUtf8()).object();
    row.idempotencyKey = s.text(6);
    row.correlationId = s.text(7);
    row.amountFen = optionalInt(s, 8);
    if (const std::optional<qint64> seq = optionalInt(s, 9))
        row.purchaseSeq = quint16(*seq);
    if (const std::optional<qint64> txn = optionalInt(s, 10))
        row.rechargeTxn = quint32(*txn);
    row.attempts = int(s.int64(11));
    row.maxAttempts = int(s.int64(12));
    row.nextAttemptAtMs = optionalInt(s, 13);
    row.deadlineMs = optionalInt(s, 14);
    row.lastError = s.text(15);
    row.createdAtMs = s.int64(16);
    return row;
}

// SQLite's length() of TEXT counts characters (code points), as the schema's CHECK does.
qsizetype characters(const QString &text)
{
    return text.toUcs4().size();
}

QString compactJson(const QJsonObject &o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// The checks that need no database, in the order a person would fix them.
QString requestProblem(const CommandRequest &r, qint64 nowMs)
{
    if (r.idempotencyKey.isEmpty())
        return QStringLiteral("idempotencyKey: required");
    if (characters(r.idempotencyKey) > CommandLimits::kIdempotencyKeyMaxChars)
        return QStringLiteral("idempotencyKey: %1 characters, at most %2")
            .arg(characters(r.idempotencyKey))
            .arg(CommandLimits::kIdempotencyKeyMaxChars);
    if (r.meterId <= 0)
        return QStringLiteral("meterId: %1 is not a meter id").arg(r.meterId);
    if (characters(r.correlationId) > CommandLimits::kCorrelationIdMaxChars)
        return QStringLiteral("correlationId: %1 characters, at most %2")
            .arg(characters(r.correlationId))
            .arg(CommandLimits::kCorrelationIdMaxChars);
    if (characters(r.reason) > CommandLimits::kReasonMaxChars)
        return QStringLiteral("reason: %1 characters, at most %2")
            .arg(characters(r.reason))
            .arg(CommandLimits::kReasonMaxChars);
    if (r.cause == Cause::Operator && !r.operatorId)
        return QStringLiteral("operatorId: required when the cause is operator");
    if (r.operatorId && *r.operatorId <= 0)
        return QStringLiteral("operatorId: %1 is not an operator id").arg(*r.operatorId);

    if (r.kind == Kind::Recharge) {
        if (!r.amountFen)
            return QStringLiteral("amountFen: required for a recharge");
        if (*r.amountFen < meter::v1::kRechargeAmountMinFen || *r.amountFen > meter::v1::kRechargeAmountMaxFen)
            return QStringLiteral("amountFen: %1 is outside %2..%3")
                .arg(*r.amountFen)
                .arg(meter::v1::kRechargeAmountMinFen)
                .arg(meter::v1::kRechargeAmountMaxFen);
        if (!r.rechargeTxn)
            return QStringLiteral("rechargeTxn: required for a recharge");
        if (r.ledgerEntryId && *r.ledgerEntryId <= 0)
            return QStringLiteral("ledgerEntryId: %1 is not a ledger entry id").arg(*r.ledgerEntryId);
    } else {
        if (r.amountFen)
            return QStringLiteral("amountFen: only a recharge carries an amount, not %1").arg(kindCode(r.kind));
        if (r.rechargeTxn)
            return QStringLiteral("rechargeTxn: only a recharge carries a txn, not %1").arg(kindCode(r.kind));
        if (r.ledgerEntryId)
            return QStringLiteral("ledgerEntryId: only a recharge delivers a ledger entry, not %1")
                .arg(kindCode(r.kind));
    }
    if (const QString p = payloadProblem(r.kind, r.payload); !p.isEmpty())
        return p;
    if (r.deadlineMs && *r.deadlineMs <= nowMs)
        return QStringLiteral("deadlineMs: %1 has already passed (now %2)").arg(*r.deadlineMs).arg(nowMs);
    return {};
}

// A meter that keeps no balance (remote_only, the Acrel profile) can only switch its relay and
// be read: anything else would sit in the queue until it failed as NotSupported.
bool needsPrepaidMeter(Kind kind)
{
    return kind == Kind::Recharge || kind == Kind::TariffPush || kind == Kind::ThresholdPush || kind == Kind::ClockSync;
}

std::optional<qint64> settingInt(Connection &db, const QString &key)
{
    Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    if (s.step() != Statement::Step::Row)
        return std::nullopt;
    bool ok = false;
    const qint64 v = s.text(0).toLongLong(&ok);
    return ok ? std::optional<qint64>(v) : std::nullopt;
}

// The settings in force; a missing or out-of-bounds value falls back to the default, loudly.
CommandLimits limitsFrom(Connection &db)
{
    CommandLimits limits;
    const auto take = [&db](const char *key, qint64 min, qint64 max, auto *field) {
        const QString k = QLatin1StringView(key);
        const std::optional<qint64> v = settingInt(db, k);
        if (v && *v >= min && *v <= max) {
            *field = std::remove_pointer_t<decltype(field)>(*v);
            return;
        }
        qCWarning(lcCommands, "setting %s is missing or outside %lld..%lld; using %lld", key, min, max, qint64(*field));
    };
    take("command.attempts_max", 1, CommandLimits::kAttemptsMaxLimit, &limits.attemptsMax);
    take("command.retry_base_ms", 1, CommandLimits::kRetryMaxMsLimit, &limits.retryBaseMs);
    take("command.retry_max_ms", 1, CommandLimits::kRetryMaxMsLimit, &limits.retryMaxMs);
    take("command.deadline_ms", 1, CommandLimits::kDeadlineMsLimit, &limits.deadlineMs);
    if (limits.retryMaxMs < limits.retryBaseMs) {
        qCWarning(lcCommands, "command.retry_max_ms %lld is below command.retry_base_ms %lld; using the base",
            limits.retryMaxMs, limits.retryBaseMs);
        limits.retryMaxMs = limits.retryBaseMs;
    }
    return limits;
}

EnqueueResult outcome(EnqueueOutcome o, QString message, qint64 id = 0)
{
    return EnqueueResult{o, id, std::move(message)};
}

// What a known key was first asked for, to tell a retry from a different request.
QStringList differences(const Statement &existing, const CommandRequest &r)
{
    QStringList diff;
    if (existing.int64(1) != r.meterId)
        diff << QStringLiteral("meter");
    if (existing.text(2) != kindCode(r.kind))
        diff << QStringLiteral("kind");
    if (QJsonDocument::fromJson(existing.text(3).toUtf8()).object() != r.payload)
        diff << QStringLiteral("payload");
    if (optionalInt(existing, 4) != r.amountFen)
        diff << QStringLiteral("amount");
    if (optionalInt(existing, 5) != (r.rechargeTxn ? std::optional<qint64>(*r.rechargeTxn) : std::nullopt))
        diff << QStringLiteral("txn");
    if (optionalInt(existing, 6) != r.ledgerEntryId)
        diff << QStringLiteral("ledger entry");
    return diff;
}

EnqueueResult enqueueIn(Transaction &tx, const CommandRequest &r, qint64 nowMs)
{
    const auto sqlFailed = [&tx](const SqlError &e) {
        tx.fail(e);
        return outcome(EnqueueOutcome::StoreFailed, e.toString());
    };

    // A known key first: a retried request is Duplicate even if the meter has since changed.
    {
        Statement s = tx.prepare(QStringLiteral("SELECT id, meter_id, kind, payload, amount_fen, recharge_txn, "
                                                "ledger_entry_id FROM meter_commands WHERE idempotency_key = ?1"));
        s.bind(1, r.idempotencyKey);
        const Statement::Step step = s.step();
        if (step == Statement::Step::Error)
            return sqlFailed(s.error());
        if (step == Statement::Step::Row) {
            const qint64 id = s.int64(0);
            const QStringList diff = differences(s, r);
            if (diff.isEmpty())
                return outcome(EnqueueOutcome::Duplicate, QStringLiteral("already command %1").arg(id), id);
            return outcome(EnqueueOutcome::Conflict,
                QStringLiteral("idempotencyKey: \"%1\" is command %2 with another %3")
                    .arg(r.idempotencyKey)
                    .arg(id)
                    .arg(diff.join(QStringLiteral(", "))));
        }
    }

    {
        Statement s = tx.prepare(QStringLiteral("SELECT state, capability FROM meters WHERE id = ?1"));
        s.bind(1, r.meterId);
        const Statement::Step step = s.step();
        if (step == Statement::Step::Error)
            return sqlFailed(s.error());
        if (step != Statement::Step::Row)
            return outcome(EnqueueOutcome::UnknownMeter, QStringLiteral("meterId: no meter %1").arg(r.meterId));
        if (s.text(0) != u"installed")
            return outcome(EnqueueOutcome::UnknownMeter,
                QStringLiteral("meterId: meter %1 is %2, not installed").arg(r.meterId).arg(s.text(0)));
        if (needsPrepaidMeter(r.kind) && s.text(1) != u"prepaid")
            return outcome(EnqueueOutcome::Invalid,
                QStringLiteral("kind: meter %1 is %2 and keeps no balance, tariff or clock; %3 needs a prepaid meter")
                    .arg(r.meterId)
                    .arg(s.text(1), kindCode(r.kind)));
    }

    const auto exists = [&tx](const QString &sql, qint64 id, SqlError *error) {
        Statement s = tx.prepare(sql);
        s.bind(1, id);
        const Statement::Step step = s.step();
        if (step == Statement::Step::Error)
            *error = s.error();
        return step == Statement::Step::Row ? std::optional<qint64>(s.int64(0)) : std::nullopt;
    };
    SqlError error;
    if (r.operatorId) {
        const auto found = exists(QStringLiteral("SELECT id FROM operators WHERE id = ?1"), *r.operatorId, &error);
        if (!error.ok())
            return sqlFailed(error);
        if (!found)
            return outcome(EnqueueOutcome::Invalid, QStringLiteral("operatorId: no operator %1").arg(*r.operatorId));
    }
    if (r.ledgerEntryId) {
        const auto found
            = exists(QStringLiteral("SELECT id FROM ledger_entries WHERE id = ?1"), *r.ledgerEntryId, &error);
        if (!error.ok())
            return sqlFailed(error);
        if (!found)
            return outcome(
                EnqueueOutcome::Invalid, QStringLiteral("ledgerEntryId: no ledger entry %1").arg(*r.ledgerEntryId));
        const auto taken = exists(
            QStringLiteral("SELECT id FROM meter_commands WHERE ledger_entry_id = ?1"), *r.ledgerEntryId, &error);
        if (!error.ok())
            return sqlFailed(error);
        if (taken)
            return outcome(EnqueueOutcome::Conflict,
                QStringLiteral("ledgerEntryId: ledger entry %1 is already delivered by command %2")
                    .arg(*r.ledgerEntryId)
                    .arg(*taken));
    }
    if (r.rechargeTxn) {
        // The meter map keys a recharge by its txn: a second command with the same txn under
        // another key is another request for the same money, never a second delivery.
        Statement s = tx.prepare(
            QStringLiteral("SELECT id, idempotency_key FROM meter_commands WHERE meter_id = ?1 AND recharge_txn = ?2"));
        s.bind(1, r.meterId).bind(2, qint64(*r.rechargeTxn));
        const Statement::Step step = s.step();
        if (step == Statement::Step::Error)
            return sqlFailed(s.error());
        if (step == Statement::Step::Row)
            return outcome(EnqueueOutcome::Conflict,
                QStringLiteral("rechargeTxn: txn %1 on meter %2 is already command %3 (key \"%4\")")
                    .arg(*r.rechargeTxn)
                    .arg(r.meterId)
                    .arg(s.int64(0))
                    .arg(s.text(1)));
    }

    const CommandLimits limits = limitsFrom(tx.db());
    Statement insert = tx.prepare(QStringLiteral(
        "INSERT INTO meter_commands (meter_id, kind, state, priority, payload, idempotency_key, correlation_id, "
        "cause, operator_id, reason, ledger_entry_id, amount_fen, recharge_txn, max_attempts, deadline_ms, "
        "created_at_ms, updated_at_ms) "
        "VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15)"));
    insert.bind(1, r.meterId)
        .bind(2, kindCode(r.kind))
        .bind(3, priorityOf(r.kind, r.payload))
        .bind(4, compactJson(r.payload))
        .bind(5, r.idempotencyKey)
        .bind(7, causeCode(r.cause))
        .bind(13, limits.attemptsMax)
        .bind(14, r.deadlineMs.value_or(nowMs + limits.deadlineMs))
        .bind(15, nowMs);
    r.correlationId.isEmpty() ? insert.bindNull(6) : insert.bind(6, r.correlationId);
    r.operatorId ? insert.bind(8, *r.operatorId) : insert.bindNull(8);
    r.reason.isEmpty() ? insert.bindNull(9) : insert.bind(9, r.reason);
    r.ledgerEntryId ? insert.bind(10, *r.ledgerEntryId) : insert.bindNull(10);
    r.amountFen ? insert.bind(11, *r.amountFen) : insert.bindNull(11);
    r.rechargeTxn ? insert.bind(12, qint64(*r.rechargeTxn)) : insert.bindNull(12);
    if (const SqlError e = insert.run(); !e.ok())
        return sqlFailed(e);
    const qint64 id = tx.db().lastInsertRowId();
    return outcome(EnqueueOutcome::Queued, QStringLiteral("command %1 queued").arg(id), id);
}

// The columns a transition decides on.
struct Current
{
    qint64 meterId = 0;
    Kind kind = Kind::ReadNow;
    State state = State::Queued;
    int attempts = 0;
    int maxAttempts = 0;
    std::optional<qint64> purchaseSeq;
};

// What a transition job returns: done, or why it was refused.
struct Transition
{
    bool done = false;
    QString refusal;
};

Transition refused(QString why)
{
    return Transition{false, std::move(why)};
}

std::optional<Current> current(Transaction &tx, qint64 id, QString *refusal)
{
    Statement s = tx.prepare(
        QStringLiteral("SELECT kind, state, attempts, max_attempts, purchase_seq, meter_id FROM meter_commands WHERE id = ?1"));
    s.bind(1, id);
    const Statement::Step step = s.step();
    if (step == Statement::Step::Error) {
        tx.fail(s.error());
        *refusal = s.error().toString();
        return std::nullopt;
    }
    if (step != Statement::Step::Row) {
        *refusal = QStringLiteral("no such command");
        return std::nullopt;
    }
    Current c;
    const std::optional<Kind> kind = kindFromCode(s.text(0));
    const std::optional<State> state = stateFromCode(s.text(1));
    PREPAY_CHECK(kind && state);
    c.kind = *kind;
    c.state = *state;
    c.attempts = int(s.int64(2));
    c.maxAttempts = int(s.int64(3));
    c.purchaseSeq = optionalInt(s, 4);
    c.meterId = s.int64(5);
    return c;
}

// ---- The 'command_failed' alarm -------------------------------------------------------------
// One episode per failed command (subject 'meter_command', its id), raised in the transaction
// that fails it. The alarm rows are control's (control/alarms.h), but control sits above this
// library, so the two statements are written here in the same form: an INSERT that does nothing
// while the episode is open (the schema's alarms_one_open index), an UPDATE that clears.

// Commands whose failure leaves money or supply wrong: a recharge not on the meter, a relay not
// where the policy or an operator wants it. The others (pushes, clock, reads) are warnings.
bool failureIsCritical(Kind kind)
{
    return kind == Kind::Recharge || kind == Kind::RelayClose || kind == Kind::RelayTrip || kind == Kind::SetMode;
}

// The kinds a later verified command of `kind` makes moot: the relay commands decide the same
// relay, so a later verified one of any of them supersedes a failed one; tariff, threshold and
// clock pushes and reads by their own kind. A recharge supersedes nothing: each one delivers
// its own ledger credit (meter_commands.ledger_entry_id is unique), so a failed recharge's money
// is still not on the meter after the next one succeeds; a person settles it.
QStringList supersededKinds(Kind kind)
{
    switch (kind) {
    case Kind::Recharge: return {};
    case Kind::RelayClose:
    case Kind::RelayTrip:
    case Kind::SetMode: return {kindCode(Kind::RelayClose), kindCode(Kind::RelayTrip), kindCode(Kind::SetMode)};
    case Kind::TariffPush:
    case Kind::ThresholdPush:
    case Kind::ClockSync:
    case Kind::ReadNow: return {kindCode(kind)};
    }
    PREPAY_CHECK(false);
    return {};
}

bool raiseCommandFailed(Transaction &tx, qint64 id, const Current &c, const QString &error, qint64 nowMs)
{
    Statement s = tx.prepare(QStringLiteral(
        "INSERT INTO alarms (kind, severity, subject_kind, subject_id, detail, raised_at_ms) "
        "VALUES ('command_failed', ?2, 'meter_command', ?1, json_object('meter_id', ?3, 'kind', ?4, 'attempts', ?5, "
        "'error', ?6), ?7) "
        "ON CONFLICT (kind, subject_kind, subject_id) WHERE cleared_at_ms IS NULL DO NOTHING"));
    s.bind(1, id).bind(2, failureIsCritical(c.kind) ? QStringLiteral("critical") : QStringLiteral("warning"));
    s.bind(3, c.meterId).bind(4, kindCode(c.kind)).bind(5, c.attempts).bind(6, error).bind(7, nowMs);
    if (const SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return true;
}

// Clears the command_failed alarms of the meter's earlier failed commands that the verified
// command `id` supersedes.
bool clearSupersededFailures(Transaction &tx, qint64 id, const Current &c, qint64 nowMs)
{
    const QStringList kinds = supersededKinds(c.kind);
    if (kinds.isEmpty())
        return true;
    Statement s = tx.prepare(QStringLiteral(
        "UPDATE alarms SET cleared_at_ms = max(?3, raised_at_ms) WHERE kind = 'command_failed' "
        "AND subject_kind = 'meter_command' AND cleared_at_ms IS NULL AND subject_id IN (SELECT mc.id FROM "
        "meter_commands mc WHERE mc.meter_id = ?1 AND mc.id < ?2 AND mc.state = 'failed' "
        "AND mc.kind IN (SELECT value FROM json_each(?4)))"));
    s.bind(1, c.meterId).bind(2, id).bind(3, nowMs);
    s.bind(4, QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(kinds)).toJson(QJsonDocument::Compact)));
    if (const SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    if (const int cleared = tx.db().changes(); cleared > 0)
        qCInfo(lcCommands, "command %lld verified: %d command_failed alarm(s) of meter %lld cleared", id, cleared,
            c.meterId);
    return true;
}

bool isLive(State s)
{
    return s == State::Queued || s == State::Sent || s == State::Acknowledged;
}

Transition update(Transaction &tx, Statement s)
{
    if (const SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return refused(e.toString());
    }
    // The row was read in this transaction and nothing else writes meanwhile (one writer).
    PREPAY_CHECK(tx.db().changes() == 1);
    return Transition{true, {}};
}

// Runs one transition job and waits until it is on disk; logs why when it did not happen.
template<typename Job>
bool runTransition(store::Store &store, const char *to, qint64 id, Job &&job)
{
    store::Written<Transition> written = store.write(std::forward<Job>(job)).get();
    if (!written.committed()) {
        const QString why = written.status == store::WriteStatus::Failed ? written.error.toString() : written.reason;
        qCWarning(lcCommands, "command %lld: → %s not written (%s): %s", id, to,
            qUtf8Printable(store::writeStatusCode(written.status)), qUtf8Printable(why));
        return false;
    }
    if (!written.value.done) {
        qCWarning(lcCommands, "command %lld: → %s refused: %s", id, to, qUtf8Printable(written.value.refusal));
        return false;
    }
    qCDebug(lcCommands, "command %lld: → %s", id, to);
    return true;
}

} // namespace

CommandStore::CommandStore(store::Store &store, const Clock &clock)
    : m_store(store)
    , m_clock(clock)
{ }

EnqueueResult CommandStore::enqueue(const CommandRequest &request)
{
    const qint64 now = m_clock.wallMs();
    if (const QString problem = requestProblem(request, now); !problem.isEmpty())
        return outcome(EnqueueOutcome::Invalid, problem);

    store::Written<EnqueueResult> written
        = m_store.write([&request, now](Transaction &tx) { return enqueueIn(tx, request, now); }).get();
    if (!written.committed()) {
        const QString why = written.status == store::WriteStatus::Failed ? written.error.toString() : written.reason;
        qCWarning(lcCommands, "enqueue of %s for meter %lld (key \"%s\") not written: %s: %s",
            qUtf8Printable(kindCode(request.kind)), request.meterId, qUtf8Printable(request.idempotencyKey),
            qUtf8Printable(store::writeStatusCode(written.status)), qUtf8Printable(why));
        return outcome(EnqueueOutcome::StoreFailed,
            QStringLiteral("the command was not written (%1): %2").arg(store::writeStatusCode(written.status), why));
    }
    const EnqueueResult &r = written.value;
    if (r.outcome == EnqueueOutcome::Queued) {
        qCInfo(lcCommands, "command %lld: %s for meter %lld queued (key \"%s\", cause %s)", r.commandId,
            qUtf8Printable(kindCode(request.kind)), request.meterId, qUtf8Printable(request.idempotencyKey),
            qUtf8Printable(causeCode(request.cause)));
    } else if (r.outcome != EnqueueOutcome::Duplicate) {
        qCInfo(lcCommands, "enqueue of %s for meter %lld refused (%s): %s", qUtf8Printable(kindCode(request.kind)),
            request.meterId, qUtf8Printable(enqueueOutcomeCode(r.outcome)), qUtf8Printable(r.message));
    }
    return r;
}

EnqueueResult CommandStore::enqueueWithin(Transaction &tx, const CommandRequest &request, qint64 nowMs)
{
    if (const QString problem = requestProblem(request, nowMs); !problem.isEmpty())
        return outcome(EnqueueOutcome::Invalid, problem);
    const EnqueueResult r = enqueueIn(tx, request, nowMs);
    if (r.outcome == EnqueueOutcome::Queued) {
        qCInfo(lcCommands, "command %lld: %s for meter %lld queued (key \"%s\", cause %s)", r.commandId,
            qUtf8Printable(kindCode(request.kind)), request.meterId, qUtf8Printable(request.idempotencyKey),
            qUtf8Printable(causeCode(request.cause)));
    }
    return r;
}

int CommandStore::supersedeWithin(
    Transaction &tx, qint64 meterId, const QList<Kind> &kinds, const QString &reason, qint64 nowMs)
{
    Statement s = tx.prepare(QStringLiteral(
        "UPDATE meter_commands SET state = 'cancelled', last_error = ?3, finished_at_ms = ?4, updated_at_ms = ?4 "
        "WHERE meter_id = ?1 AND kind = ?2 AND state = 'queued'"));
    int cancelled = 0;
    for (Kind kind : kinds) {
        s.bind(1, meterId).bind(2, kindCode(kind)).bind(3, reason).bind(4, nowMs);
        if (const SqlError e = s.run(); !e.ok()) {
            tx.fail(e);
            return -1;
        }
        cancelled += tx.db().changes();
    }
    if (cancelled > 0)
        qCInfo(lcCommands, "meter %lld: %d queued command(s) cancelled: %s", meterId, cancelled, qUtf8Printable(reason));
    return cancelled;
}

QList<CommandRow> CommandStore::loadLive(Connection &reader) const
{
    Statement s = reader.prepare(QStringLiteral("SELECT %1 FROM meter_commands "
                                                "WHERE state IN ('queued', 'sent', 'acknowledged') "
                                                "ORDER BY priority, id")
                                     .arg(kRowColumns));
    QList<CommandRow> rows;
    for (;;) {
        const Statement::Step step = s.step();
        if (step == Statement::Step::Row) {
            rows.append(rowFrom(s));
            continue;
        }
        if (step == Statement::Step::Error)
            qCWarning(lcCommands, "cannot read the live commands: %s", qUtf8Printable(s.error().toString()));
        return rows;
    }
}

std::optional<CommandRow> CommandStore::load(Connection &reader, qint64 id, SqlError *error) const
{
    Statement s = reader.prepare(QStringLiteral("SELECT %1 FROM meter_commands WHERE id = ?1").arg(kRowColumns));
    s.bind(1, id);
    const Statement::Step step = s.step();
    if (step == Statement::Step::Row)
        return rowFrom(s);
    if (step == Statement::Step::Error) {
        qCWarning(lcCommands, "cannot read command %lld: %s", id, qUtf8Printable(s.error().toString()));
        if (error)
            *error = s.error();
    }
    return std::nullopt;
}

CommandLimits CommandStore::readLimits() const
{
    SqlError error;
    const std::unique_ptr<Connection> reader = m_store.openReader(&error);
    if (!reader) {
        qCWarning(
            lcCommands, "cannot read the command settings (%s); using the defaults", qUtf8Printable(error.toString()));
        return {};
    }
    return limitsFrom(*reader);
}

bool CommandStore::markSent(qint64 id, int attemptNo, std::optional<quint16> purchaseSeq)
{
    const qint64 now = m_clock.wallMs();
    return runTransition(m_store, "sent", id, [=](Transaction &tx) {
        QString why;
        const std::optional<Current> c = current(tx, id, &why);
        if (!c)
            return refused(why);
        if (!isLive(c->state))
            return refused(QStringLiteral("the command is %1").arg(stateCode(c->state)));
        if (attemptNo != c->attempts + 1)
            return refused(
                QStringLiteral("attempt %1 is not the next one (%2 recorded)").arg(attemptNo).arg(c->attempts));
        if (attemptNo > c->maxAttempts)
            return refused(QStringLiteral("attempt %1 is beyond max_attempts %2").arg(attemptNo).arg(c->maxAttempts));
        if (c->kind == Kind::Recharge) {
            // The sequence is the recharge's identity on the wire (meter map §3): fixed before the
            // first frame, so every later frame is identical and none can apply twice.
            if (!purchaseSeq && !c->purchaseSeq)
                return refused(QStringLiteral("a recharge is sent only with its purchase sequence"));
            if (purchaseSeq && c->purchaseSeq && *c->purchaseSeq != *purchaseSeq)
                return refused(QStringLiteral("the recharge is sequence %1 since its first send, not %2")
                                   .arg(*c->purchaseSeq)
                                   .arg(*purchaseSeq));
        } else if (purchaseSeq) {
            return refused(QStringLiteral("only a recharge has a purchase sequence"));
        }
        Statement s = tx.prepare(QStringLiteral(
            "UPDATE meter_commands SET state = CASE state WHEN 'queued' THEN 'sent' ELSE state END, "
            "attempts = ?2, purchase_seq = COALESCE(purchase_seq, ?3), sent_at_ms = COALESCE(sent_at_ms, ?4), "
            "next_attempt_at_ms = NULL, updated_at_ms = ?4 WHERE id = ?1"));
        s.bind(1, id).bind(2, attemptNo).bind(4, now);
        purchaseSeq ? s.bind(3, qint64(*purchaseSeq)) : s.bindNull(3);
        return update(tx, std::move(s));
    });
}

bool CommandStore::markAcknowledged(qint64 id)
{
    const qint64 now = m_clock.wallMs();
    return runTransition(m_store, "acknowledged", id, [=](Transaction &tx) {
        QString why;
        const std::optional<Current> c = current(tx, id, &why);
        if (!c)
            return refused(why);
        if (c->state != State::Sent && c->state != State::Acknowledged)
            return refused(QStringLiteral("the command is %1, not sent").arg(stateCode(c->state)));
        Statement s = tx.prepare(QStringLiteral("UPDATE meter_commands SET state = 'acknowledged', "
                                                "acknowledged_at_ms = ?2, updated_at_ms = ?2 WHERE id = ?1"));
        s.bind(1, id).bind(2, now);
        return update(tx, std::move(s));
    });
}

bool CommandStore::markVerified(qint64 id)
{
    const qint64 now = m_clock.wallMs();
    return runTransition(m_store, "verified", id, [=](Transaction &tx) {
        QString why;
        const std::optional<Current> c = current(tx, id, &why);
        if (!c)
            return refused(why);
        if (c->state != State::Acknowledged)
            return refused(QStringLiteral("the command is %1, not acknowledged").arg(stateCode(c->state)));
        Statement s = tx.prepare(
            QStringLiteral("UPDATE meter_commands SET state = 'verified', verified_at_ms = ?2, finished_at_ms = ?2, "
                           "next_attempt_at_ms = NULL, updated_at_ms = ?2 WHERE id = ?1"));
        s.bind(1, id).bind(2, now);
        const Transition t = update(tx, std::move(s));
        if (t.done && !clearSupersededFailures(tx, id, *c, now))
            return refused(tx.error().toString());
        return t;
    });
}

bool CommandStore::scheduleRetry(qint64 id, int attemptNo, const QString &error, qint64 nextAttemptAtMs)
{
    const qint64 now = m_clock.wallMs();
    return runTransition(m_store, "retry", id, [=](Transaction &tx) {
        QString why;
        const std::optional<Current> c = current(tx, id, &why);
        if (!c)
            return refused(why);
        if (!isLive(c->state))
            return refused(QStringLiteral("the command is %1").arg(stateCode(c->state)));
        if (attemptNo != c->attempts && attemptNo != c->attempts + 1)
            return refused(
                QStringLiteral("attempt %1 is not the current one (%2 recorded)").arg(attemptNo).arg(c->attempts));
        if (attemptNo > c->maxAttempts)
            return refused(QStringLiteral("attempt %1 is beyond max_attempts %2").arg(attemptNo).arg(c->maxAttempts));
        Statement s = tx.prepare(QStringLiteral("UPDATE meter_commands SET attempts = ?2, last_error = ?3, "
                                                "next_attempt_at_ms = ?4, updated_at_ms = ?5 WHERE id = ?1"));
        s.bind(1, id).bind(2, attemptNo).bind(3, error).bind(4, nextAttemptAtMs).bind(5, now);
        return update(tx, std::move(s));
    });
}

bool CommandStore::markFailed(qint64 id, const QString &error)
{
    const qint64 now = m_clock.wallMs();
    return runTransition(m_store, "failed", id, [=](Transaction &tx) {
        QString why;
        const std::optional<Current> c = current(tx, id, &why);
        if (!c)
            return refused(why);
        if (!isLive(c->state))
            return refused(QStringLiteral("the command is already %1").arg(stateCode(c->state)));
        Statement s = tx.prepare(
            QStringLiteral("UPDATE meter_commands SET state = 'failed', last_error = ?2, finished_at_ms = ?3, "
                           "next_attempt_at_ms = NULL, updated_at_ms = ?3 WHERE id = ?1"));
        s.bind(1, id).bind(2, error).bind(3, now);
        const Transition t = update(tx, std::move(s));
        if (t.done && !raiseCommandFailed(tx, id, *c, error, now))
            return refused(tx.error().toString());
        return t;
    });
}

bool CommandStore::cancel(qint64 id, const QString &reason)
{
    const qint64 now = m_clock.wallMs();
    return runTransition(m_store, "cancelled", id, [=](Transaction &tx) {
        QString why;
        const std::optional<Current> c = current(tx, id, &why);
        if (!c)
            return refused(why);
        if (c->state != State::Queued)
            return refused(QStringLiteral("the command is %1: only a queued command can be cancelled, its frame "
                                          "may be out")
                               .arg(stateCode(c->state)));
        Statement s = tx.prepare(
            QStringLiteral("UPDATE meter_commands SET state = 'cancelled', last_error = ?2, finished_at_ms = ?3, "
                           "next_attempt_at_ms = NULL, updated_at_ms = ?3 WHERE id = ?1"));
        s.bind(1, id).bind(2, QStringLiteral("cancelled: %1").arg(reason)).bind(3, now);
        return update(tx, std::move(s));
    });
}

} // namespace prepay::commands
