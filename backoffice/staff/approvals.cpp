#include "approvals.h"

#include "stafflog.h"
#include "store/store.h"

#include <QtCore/QJsonDocument>

#include <array>

namespace prepay::staff {

namespace {

struct KindCode
{
    ApprovalKind kind;
    const char *code;
};

constexpr std::array<KindCode, 10> kKindCodes{{
    {ApprovalKind::Refund, "refund"},
    {ApprovalKind::Reversal, "reversal"},
    {ApprovalKind::Adjustment, "adjustment"},
    {ApprovalKind::Transfer, "transfer"},
    {ApprovalKind::ForceOn, "force_on"},
    {ApprovalKind::ForceOff, "force_off"},
    {ApprovalKind::BulkCommand, "bulk_command"},
    {ApprovalKind::TariffChange, "tariff_change"},
    {ApprovalKind::AccountClose, "account_close"},
    {ApprovalKind::OperatorChange, "operator_change"},
}};

struct StateCode
{
    ApprovalState state;
    const char *code;
};

constexpr std::array<StateCode, 6> kStateCodes{{
    {ApprovalState::Pending, "pending"},
    {ApprovalState::Approved, "approved"},
    {ApprovalState::Rejected, "rejected"},
    {ApprovalState::Cancelled, "cancelled"},
    {ApprovalState::Expired, "expired"},
    {ApprovalState::Executed, "executed"},
}};

const QString kSelectApproval = QStringLiteral(
    "SELECT a.id, a.kind, a.payload, a.reason, a.state, a.requested_by, o.login, o.display_name, a.requested_at_ms, "
    "a.decided_by, a.decided_at_ms, a.decision_note, a.expires_at_ms, a.executed_at_ms "
    "FROM approvals a JOIN operators o ON o.id = a.requested_by ");

std::optional<qint64> optionalInt(const store::Statement &s, int column)
{
    return s.isNull(column) ? std::nullopt : std::optional<qint64>(s.int64(column));
}

Approval approvalFromRow(const store::Statement &s)
{
    Approval a;
    a.id = s.int64(0);
    // The schema's CHECKs admit only the known codes; json_valid() only JSON text.
    a.kind = approvalKindFromCode(s.text(1)).value_or(ApprovalKind::Refund);
    a.payload = QJsonDocument::fromJson(s.text(2).toUtf8()).object();
    a.reason = s.text(3);
    a.state = approvalStateFromCode(s.text(4)).value_or(ApprovalState::Pending);
    a.requestedBy = s.int64(5);
    a.requestedByLogin = s.text(6);
    a.requestedByName = s.text(7);
    a.requestedAtMs = s.int64(8);
    a.decidedBy = optionalInt(s, 9);
    a.decidedAtMs = optionalInt(s, 10);
    a.decisionNote = s.text(11);
    a.expiresAtMs = s.int64(12);
    a.executedAtMs = optionalInt(s, 13);
    return a;
}

// One request; nullopt when absent or unreadable (*error set only for the latter).
std::optional<Approval> readApproval(store::Connection &db, qint64 id, store::SqlError *error)
{
    store::Statement s = db.prepare(kSelectApproval + QStringLiteral("WHERE a.id = ?1"));
    s.bind(1, id);
    switch (s.step()) {
    case store::Statement::Step::Row: return approvalFromRow(s);
    case store::Statement::Step::Done: return std::nullopt;
    case store::Statement::Step::Error: *error = s.error(); return std::nullopt;
    }
    Q_UNREACHABLE();
}

DecideResult decideFailed(store::Transaction &tx, const store::SqlError &error)
{
    tx.fail(error);
    DecideResult r;
    r.outcome = DecideOutcome::Failed;
    r.error = error.toString();
    return r;
}

} // namespace

QString approvalKindCode(ApprovalKind kind)
{
    for (const KindCode &k : kKindCodes) {
        if (k.kind == kind)
            return QString::fromLatin1(k.code);
    }
    Q_UNREACHABLE();
}

std::optional<ApprovalKind> approvalKindFromCode(const QString &code)
{
    for (const KindCode &k : kKindCodes) {
        if (code == QLatin1StringView(k.code))
            return k.kind;
    }
    return std::nullopt;
}

QString approvalStateCode(ApprovalState state)
{
    for (const StateCode &s : kStateCodes) {
        if (s.state == state)
            return QString::fromLatin1(s.code);
    }
    Q_UNREACHABLE();
}

std::optional<ApprovalState> approvalStateFromCode(const QString &code)
{
    for (const StateCode &s : kStateCodes) {
        if (code == QLatin1StringView(s.code))
            return s.state;
    }
    return std::nullopt;
}

bool needsApproval(ApprovalKind kind, qint64 amountFen, const StaffSettings &settings)
{
    // The one place that says which actions need a second person (issue 6, "Maker-checker"):
    // money leaving the ledger in large amounts, rewriting history, changing a balance by hand,
    // and keeping supply on against the balance are never one person's decision.
    switch (kind) {
    case ApprovalKind::Refund:
        return amountFen > settings.approvalMoneyThresholdFen || amountFen < -settings.approvalMoneyThresholdFen;
    case ApprovalKind::Reversal:
    case ApprovalKind::Adjustment:
    case ApprovalKind::ForceOn: return true;
    case ApprovalKind::Transfer:
    case ApprovalKind::ForceOff:
    case ApprovalKind::BulkCommand:
    case ApprovalKind::TariffChange:
    case ApprovalKind::AccountClose:
    case ApprovalKind::OperatorChange: return false;
    }
    Q_UNREACHABLE();
}

QString decideOutcomeCode(DecideOutcome outcome)
{
    switch (outcome) {
    case DecideOutcome::Approved: return QStringLiteral("approved");
    case DecideOutcome::Rejected: return QStringLiteral("rejected");
    case DecideOutcome::NotFound: return QStringLiteral("not_found");
    case DecideOutcome::NotPending: return QStringLiteral("not_pending");
    case DecideOutcome::Expired: return QStringLiteral("expired");
    case DecideOutcome::SelfApproval: return QStringLiteral("self_approval");
    case DecideOutcome::Failed: return QStringLiteral("failed");
    }
    Q_UNREACHABLE();
}

QString cancelOutcomeCode(CancelOutcome outcome)
{
    switch (outcome) {
    case CancelOutcome::Cancelled: return QStringLiteral("cancelled");
    case CancelOutcome::NotFound: return QStringLiteral("not_found");
    case CancelOutcome::NotPending: return QStringLiteral("not_pending");
    case CancelOutcome::NotRequester: return QStringLiteral("not_requester");
    case CancelOutcome::Failed: return QStringLiteral("failed");
    }
    Q_UNREACHABLE();
}

std::optional<qint64> requestApproval(store::Transaction &tx, ApprovalKind kind, const QJsonObject &payload,
    const QString &reason, qint64 requestedBy, qint64 nowMs, qint64 expiryMs, QString *error)
{
    const QString why = reason.trimmed();
    if (why.isEmpty() || why.size() > kApprovalReasonMaxChars) {
        *error = QStringLiteral("reason: 1 to %1 characters").arg(kApprovalReasonMaxChars);
        return std::nullopt;
    }
    const QByteArray json = QJsonDocument(payload).toJson(QJsonDocument::Compact);
    if (json.size() > kApprovalPayloadMaxBytes) {
        *error = QStringLiteral("payload: at most %1 bytes of JSON").arg(kApprovalPayloadMaxBytes);
        return std::nullopt;
    }
    if (expiryMs <= 0) {
        *error = QStringLiteral("expiry: must be positive, is %1 ms").arg(expiryMs);
        return std::nullopt;
    }
    store::Statement s = tx.prepare(
        QStringLiteral("INSERT INTO approvals (kind, payload, reason, requested_by, requested_at_ms, expires_at_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    s.bind(1, approvalKindCode(kind)).bind(2, QString::fromUtf8(json)).bind(3, why).bind(4, requestedBy);
    s.bind(5, nowMs).bind(6, nowMs + expiryMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        *error = e.toString();
        return std::nullopt;
    }
    return tx.db().lastInsertRowId();
}

DecideResult decide(
    store::Transaction &tx, qint64 approvalId, qint64 deciderId, Decision decision, const QString &note, qint64 nowMs)
{
    DecideResult result;
    store::SqlError readError;
    result.approval = readApproval(tx.db(), approvalId, &readError);
    if (!readError.ok())
        return decideFailed(tx, readError);
    if (!result.approval) {
        result.outcome = DecideOutcome::NotFound;
        return result;
    }
    if (result.approval->state != ApprovalState::Pending) {
        result.outcome = DecideOutcome::NotPending;
        return result;
    }
    if (nowMs >= result.approval->expiresAtMs) {
        store::Statement s
            = tx.prepare(QStringLiteral("UPDATE approvals SET state = 'expired' WHERE id = ?1 AND state = 'pending'"));
        s.bind(1, approvalId);
        if (const store::SqlError e = s.run(); !e.ok())
            return decideFailed(tx, e);
        result.approval->state = ApprovalState::Expired;
        result.outcome = DecideOutcome::Expired;
        return result;
    }
    if (deciderId == result.approval->requestedBy) {
        qCInfo(lcStaff, "operator %lld tried to decide their own request %lld", deciderId, approvalId);
        result.outcome = DecideOutcome::SelfApproval;
        return result;
    }
    const QString kept = note.trimmed().left(kApprovalNoteMaxChars);
    store::Statement s = tx.prepare(
        QStringLiteral("UPDATE approvals SET state = ?2, decided_by = ?3, decided_at_ms = ?4, decision_note = ?5 "
                       "WHERE id = ?1 AND state = 'pending'"));
    s.bind(1, approvalId)
        .bind(2, decision == Decision::Approve ? QStringLiteral("approved") : QStringLiteral("rejected"))
        .bind(3, deciderId)
        .bind(4, nowMs);
    if (kept.isEmpty())
        s.bindNull(5);
    else
        s.bind(5, kept);
    if (const store::SqlError e = s.run(); !e.ok())
        return decideFailed(tx, e);
    result.approval = readApproval(tx.db(), approvalId, &readError);
    if (!readError.ok() || !result.approval)
        return decideFailed(
            tx, readError.ok() ? store::SqlError{1, 1, QStringLiteral("approval vanished")} : readError);
    result.outcome = decision == Decision::Approve ? DecideOutcome::Approved : DecideOutcome::Rejected;
    return result;
}

CancelOutcome cancelApproval(store::Transaction &tx, qint64 approvalId, qint64 byOperator, qint64 nowMs)
{
    Q_UNUSED(nowMs) // the schema keeps no time for a withdrawal; the audit row has it
    store::SqlError readError;
    const std::optional<Approval> a = readApproval(tx.db(), approvalId, &readError);
    if (!readError.ok()) {
        tx.fail(readError);
        return CancelOutcome::Failed;
    }
    if (!a)
        return CancelOutcome::NotFound;
    if (a->state != ApprovalState::Pending)
        return CancelOutcome::NotPending;
    if (a->requestedBy != byOperator)
        return CancelOutcome::NotRequester;
    store::Statement s
        = tx.prepare(QStringLiteral("UPDATE approvals SET state = 'cancelled' WHERE id = ?1 AND state = 'pending'"));
    s.bind(1, approvalId);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return CancelOutcome::Failed;
    }
    return CancelOutcome::Cancelled;
}

bool markExecuted(store::Transaction &tx, qint64 approvalId, qint64 nowMs)
{
    store::Statement s = tx.prepare(QStringLiteral(
        "UPDATE approvals SET state = 'executed', executed_at_ms = ?2 WHERE id = ?1 AND state = 'approved'"));
    s.bind(1, approvalId).bind(2, nowMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return tx.db().changes() == 1;
}

int expireApprovals(store::Transaction &tx, qint64 nowMs)
{
    store::Statement s = tx.prepare(
        QStringLiteral("UPDATE approvals SET state = 'expired' WHERE state = 'pending' AND expires_at_ms <= ?1"));
    s.bind(1, nowMs);
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return 0;
    }
    return tx.db().changes();
}

std::optional<Approval> loadApproval(store::Connection &db, qint64 approvalId)
{
    store::SqlError error;
    std::optional<Approval> a = readApproval(db, approvalId, &error);
    if (!error.ok())
        qCWarning(lcStaff, "cannot read approval %lld: %s", approvalId, qPrintable(error.toString()));
    return a;
}

std::optional<QList<Approval>> listPending(store::Connection &reader, qint64 nowMs, QString *error, int limit)
{
    store::Statement s = reader.prepare(kSelectApproval
        + QStringLiteral(
            "WHERE a.state = 'pending' AND a.expires_at_ms > ?1 ORDER BY a.requested_at_ms, a.id LIMIT ?2"));
    s.bind(1, nowMs).bind(2, qint64(std::clamp(limit, 0, kApprovalListMax)));
    QList<Approval> list;
    for (;;) {
        switch (s.step()) {
        case store::Statement::Step::Row: list.append(approvalFromRow(s)); continue;
        case store::Statement::Step::Done: return list;
        case store::Statement::Step::Error: *error = s.error().toString(); return std::nullopt;
        }
    }
}

} // namespace prepay::staff
