#include "refunds.h"

#include "control/alarms.h"
#include "control/controller.h"
#include "ledger/ledger.h"
#include "payments/reconciliation.h"
#include "staff/approvals.h"
#include "staff/staffsettings.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>

#include <functional>

namespace prepay::payments {

namespace {

using store::Statement;

// The refunds that hold their share of an attempt (and their money in refunds:payable).
const char holdingStates[] = "('pending_approval', 'approved', 'submitted', 'succeeded')";
// A provider refund may be under way (the driver's states).
const char underWayStates[] = "('approved', 'submitted')";

const char refundColumns[]
    = "r.id, r.account_id, acc.shop_no, r.channel, r.payment_attempt_id, a.out_trade_no, a.amount_fen, "
      "a.created_at_ms, coalesce(a.provider_txn_id, ''), r.out_refund_no, coalesce(r.provider_refund_id, ''), "
      "r.amount_fen, r.state, r.reason, r.requested_by, coalesce(r.approval_id, 0), coalesce(r.idempotency_key, ''), "
      "coalesce(r.last_error, ''), coalesce(r.provider_answer, ''), r.submit_count, r.query_count, "
      "coalesce(r.submitted_at_ms, 0), coalesce(r.next_action_at_ms, 0), r.created_at_ms, r.updated_at_ms, "
      "coalesce(r.completed_at_ms, 0) "
      "FROM refunds r JOIN payment_attempts a ON a.id = r.payment_attempt_id JOIN accounts acc ON acc.id = "
      "r.account_id "
      "WHERE r.channel <> 'cash' ";

Refund refundFromRow(const Statement &s)
{
    Refund r;
    r.id = s.int64(0);
    r.accountId = s.int64(1);
    r.shopNo = s.text(2);
    r.channel = channelFromCode(s.text(3)).value_or(Channel::Alipay);
    r.attemptId = s.int64(4);
    r.outTradeNo = s.text(5);
    r.attemptAmountFen = s.int64(6);
    r.attemptCreatedAtMs = s.int64(7);
    r.providerTxnId = s.text(8);
    r.outRefundNo = s.text(9);
    r.providerRefundId = s.text(10);
    r.amountFen = s.int64(11);
    r.status = refundStatusFromCode(s.text(12)).value_or(RefundStatus::PendingApproval);
    r.reason = s.text(13);
    r.requestedBy = s.int64(14);
    r.approvalId = s.int64(15);
    r.idempotencyKey = s.text(16);
    r.lastError = s.text(17);
    r.providerAnswer = s.text(18);
    r.submitCount = int(s.int64(19));
    r.queryCount = int(s.int64(20));
    r.submittedAtMs = s.int64(21);
    r.nextActionAtMs = s.int64(22);
    r.createdAtMs = s.int64(23);
    r.updatedAtMs = s.int64(24);
    r.completedAtMs = s.int64(25);
    return r;
}

std::optional<Refund> findWhere(
    store::Connection &db, const QString &where, const std::function<void(Statement &)> &bind)
{
    Statement s = db.prepare(QStringLiteral("SELECT ") + QLatin1String(refundColumns) + where);
    bind(s);
    if (s.step() != Statement::Step::Row)
        return std::nullopt;
    return refundFromRow(s);
}

ledger::Channel ledgerChannel(Channel channel)
{
    switch (channel) {
    case Channel::Alipay: return ledger::Channel::Alipay;
    case Channel::WeChat: return ledger::Channel::Wechat;
    case Channel::UnionPay: return ledger::Channel::Unionpay;
    }
    return ledger::Channel::Alipay;
}

QString requestKey(qint64 refundId)
{
    return QStringLiteral("refund:%1:request").arg(refundId);
}

QString reversalKey(qint64 refundId)
{
    return QStringLiteral("refund:%1:reversal").arg(refundId);
}

// Runs a statement that returns no rows; false (the transaction failed) when SQLite refused.
bool run(store::Transaction &tx, Statement &s)
{
    if (const store::SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return true;
}

QList<qint64> evaluateAccount(store::Transaction &tx, const billing::TariffBook &book, qint64 accountId, qint64 nowMs)
{
    return control::Controller::evaluate(tx, book, control::Controller::pointsOfAccounts(tx, {accountId}), nowMs);
}

// What is left of an attempt after the refunds that hold a share of it.
std::optional<qint64> refundedOrHeld(store::Transaction &tx, qint64 attemptId)
{
    Statement s
        = tx.prepare(QStringLiteral("SELECT coalesce(sum(amount_fen), 0) FROM refunds WHERE payment_attempt_id = ?1 "
                                    "AND state IN ")
            + QLatin1String(holdingStates));
    s.bind(1, attemptId);
    if (s.step() != Statement::Step::Row) {
        tx.fail(s.error());
        return std::nullopt;
    }
    return s.int64(0);
}

QJsonObject refundDetail(const Refund &r, const QString &what)
{
    return QJsonObject{{QStringLiteral("what"), what}, {QStringLiteral("refund_id"), r.id},
        {QStringLiteral("out_refund_no"), r.outRefundNo}, {QStringLiteral("out_trade_no"), r.outTradeNo},
        {QStringLiteral("channel"), channelCode(r.channel)}, {QStringLiteral("shop"), r.shopNo},
        {QStringLiteral("amount_fen"), r.amountFen}};
}

RefundApplyResult applyResult(RefundApplyOutcome outcome, const Refund &r, const QString &message)
{
    RefundApplyResult result;
    result.outcome = outcome;
    result.refundId = r.id;
    result.attemptId = r.attemptId;
    result.accountId = r.accountId;
    result.message = message;
    return result;
}

RefundApplyResult applyFailed(store::Transaction &tx, const Refund &r, const QString &message)
{
    RefundApplyResult result = applyResult(RefundApplyOutcome::StoreFailed, r, message);
    if (!tx.error().ok())
        result.message = tx.error().toString();
    else if (!tx.rollbackRequested())
        tx.rollback(message);
    return result;
}

// The money of a refund that will not be paid out goes back to the wallet: the refund becomes
// `to` (rejected from pending_approval, failed from approved/submitted), its request entry is
// reversed, and the control policy looks at the account again. False when the refund was not in
// a state it could leave (nothing written), or when the transaction failed (tx says which).
bool returnMoney(store::Transaction &tx, const billing::TariffBook &book, const Refund &r, RefundStatus to,
    const QString &why, std::optional<qint64> operatorId, std::optional<qint64> approvalId, qint64 nowMs,
    Money *balance, QList<qint64> *commandIds)
{
    const QString from = to == RefundStatus::Rejected ? QStringLiteral("('pending_approval')")
                                                      : QString(QLatin1String(underWayStates));
    Statement s = tx.prepare(
        QStringLiteral("UPDATE refunds SET state = ?2, last_error = ?3, completed_at_ms = ?4, updated_at_ms = ?4, "
                       "next_action_at_ms = NULL WHERE id = ?1 AND state IN ")
        + from);
    s.bind(1, r.id).bind(2, refundStatusCode(to)).bind(3, why.left(500)).bind(4, nowMs);
    if (!run(tx, s) || tx.db().changes() == 0)
        return false;
    Statement entry = tx.prepare(QStringLiteral("SELECT id FROM ledger_entries WHERE idempotency_key = ?1"));
    entry.bind(1, requestKey(r.id));
    if (entry.step() != Statement::Step::Row) {
        if (entry.error().ok())
            tx.rollback(QStringLiteral("refund %1 has no request entry to reverse").arg(r.id));
        else
            tx.fail(entry.error());
        return false;
    }
    const qint64 entryId = entry.int64(0);
    ledger::LedgerWriter ledger(tx, nowMs);
    const ledger::PostResult reversed = ledger.reverse(entryId, reversalKey(r.id),
        QStringLiteral("refund %1 %2: %3").arg(r.outRefundNo, refundStatusCode(to), why).left(500), operatorId,
        approvalId);
    if (reversed.outcome != ledger::PostOutcome::Posted) {
        if (tx.error().ok())
            tx.rollback(QStringLiteral("the ledger refused the reversal of refund %1: %2 (%3)")
                            .arg(r.id)
                            .arg(ledger::postOutcomeCode(reversed.outcome), reversed.message));
        return false;
    }
    *commandIds = evaluateAccount(tx, book, r.accountId, nowMs);
    if (!tx.error().ok())
        return false;
    *balance = ledger.walletBalance(r.accountId).value_or(Money());
    return true;
}

// submitted/approved → succeeded: the payout leaves refunds:payable for the channel's clearing
// account, and the attempt shows how much of it went back.
RefundApplyResult succeed(store::Transaction &tx, const Refund &r, const QString &providerRefundId, qint64 nowMs)
{
    Statement s = tx.prepare(QStringLiteral("UPDATE refunds SET state = 'succeeded', provider_refund_id = "
                                            "coalesce(nullif(?2, ''), provider_refund_id), "
                                            "provider_answer = NULL, last_error = NULL, completed_at_ms = ?3, "
                                            "updated_at_ms = ?3, next_action_at_ms = NULL "
                                            "WHERE id = ?1 AND state IN ")
        + QLatin1String(underWayStates));
    s.bind(1, r.id).bind(2, providerRefundId).bind(3, nowMs);
    if (!run(tx, s))
        return applyFailed(tx, r, QString());
    if (tx.db().changes() == 0)
        return applyResult(RefundApplyOutcome::NoChange, r, QStringLiteral("refund %1 is not under way").arg(r.id));
    ledger::LedgerWriter ledger(tx, nowMs);
    const ledger::PostResult paid = ledger.refundPaid(r.id, ledgerChannel(r.channel), Money::fromFen(r.amountFen));
    if (paid.outcome != ledger::PostOutcome::Posted)
        return applyFailed(tx, r,
            QStringLiteral("the ledger refused the payout of refund %1: %2 (%3)")
                .arg(r.id)
                .arg(ledger::postOutcomeCode(paid.outcome), paid.message));
    Statement sum = tx.prepare(QStringLiteral(
        "SELECT coalesce(sum(amount_fen), 0) FROM refunds WHERE payment_attempt_id = ?1 AND state = 'succeeded'"));
    sum.bind(1, r.attemptId);
    if (sum.step() != Statement::Step::Row) {
        tx.fail(sum.error());
        return applyFailed(tx, r, QString());
    }
    const qint64 refunded = sum.int64(0);
    const QString attemptState
        = refunded >= r.attemptAmountFen ? QStringLiteral("refunded") : QStringLiteral("partially_refunded");
    Statement attempt
        = tx.prepare(QStringLiteral("UPDATE payment_attempts SET state = ?2, updated_at_ms = ?3 WHERE id = ?1 "
                                    "AND state IN ('paid', 'credited', 'partially_refunded')"));
    attempt.bind(1, r.attemptId).bind(2, attemptState).bind(3, nowMs);
    if (!run(tx, attempt))
        return applyFailed(tx, r, QString());
    if (tx.db().changes() == 0)
        return applyFailed(tx, r, QStringLiteral("attempt %1 cannot become %2").arg(r.attemptId).arg(attemptState));
    RefundApplyResult result = applyResult(RefundApplyOutcome::Succeeded, r,
        QStringLiteral("refund %1: %2 fen back to the payer through %3; attempt %4 %5")
            .arg(r.outRefundNo)
            .arg(r.amountFen)
            .arg(channelCode(r.channel))
            .arg(r.attemptId)
            .arg(attemptState));
    result.attemptState = attemptState;
    result.balance = ledger.walletBalance(r.accountId).value_or(Money());
    return result;
}

// A definite failure: failed, the money back in the wallet, an alarm for staff (the tenant did
// not get the refund and may ask again).
RefundApplyResult fail(
    store::Transaction &tx, const billing::TariffBook &book, const Refund &r, const QString &why, qint64 nowMs)
{
    RefundApplyResult result = applyResult(RefundApplyOutcome::Failed, r,
        QStringLiteral("refund %1 failed: %2; %3 fen back in the wallet").arg(r.outRefundNo, why).arg(r.amountFen));
    if (!returnMoney(tx, book, r, RefundStatus::Failed, why, std::nullopt, std::nullopt, nowMs, &result.balance,
            &result.commandIds)) {
        if (!tx.error().ok() || tx.rollbackRequested())
            return applyFailed(tx, r, tx.reason());
        return applyResult(RefundApplyOutcome::NoChange, r, QStringLiteral("refund %1 is not under way").arg(r.id));
    }
    QJsonObject detail = refundDetail(r, QStringLiteral("refund failed: the money is back in the wallet"));
    detail.insert(QStringLiteral("why"), why.left(300));
    control::raiseAlarm(tx, QStringLiteral("payment_unmatched"), control::Severity::Warning,
        control::AlarmSubject{QStringLiteral("payment_attempt"), r.attemptId}, detail, nowMs);
    if (!tx.error().ok())
        return applyFailed(tx, r, QString());
    return result;
}

// The provider contradicts what we recorded: a person must look. Nothing else changes.
RefundApplyResult mismatch(store::Transaction &tx, const Refund &r, const QString &why, qint64 nowMs)
{
    QJsonObject detail = refundDetail(r, QStringLiteral("refund: the provider contradicts our records"));
    detail.insert(QStringLiteral("why"), why.left(300));
    detail.insert(QStringLiteral("state"), refundStatusCode(r.status));
    control::raiseAlarm(tx, QStringLiteral("payment_disputed"), control::Severity::Critical,
        control::AlarmSubject{QStringLiteral("payment_attempt"), r.attemptId}, detail, nowMs);
    if (!isFinished(r.status)) {
        // Stop asking: the answer will not change by itself, and staff settle it by hand.
        Statement s = tx.prepare(QStringLiteral(
            "UPDATE refunds SET last_error = ?2, next_action_at_ms = NULL, updated_at_ms = ?3 WHERE id = ?1"));
        s.bind(1, r.id).bind(2, why.left(500)).bind(3, nowMs);
        run(tx, s);
    }
    if (!tx.error().ok())
        return applyFailed(tx, r, QString());
    return applyResult(RefundApplyOutcome::Mismatch, r, QStringLiteral("refund %1: %2").arg(r.outRefundNo, why));
}

// Records what the provider said about a refund still under way. `next` unset keeps the schedule.
RefundApplyResult noteAnswer(store::Transaction &tx, const Refund &r, const QString &answer, const QString &error,
    std::optional<qint64> next, qint64 nowMs)
{
    Statement s = tx.prepare(
        QStringLiteral(
            "UPDATE refunds SET provider_answer = coalesce(nullif(?2, ''), provider_answer), "
            "last_error = coalesce(nullif(?3, ''), last_error), next_action_at_ms = CASE WHEN ?4 THEN ?5 ELSE "
            "next_action_at_ms END, updated_at_ms = ?6 WHERE id = ?1 AND state IN ")
        + QLatin1String(underWayStates));
    s.bind(1, r.id).bind(2, answer).bind(3, error.left(500)).bind(4, next ? 1 : 0).bind(5, next.value_or(0));
    s.bind(6, nowMs);
    if (!run(tx, s))
        return applyFailed(tx, r, QString());
    if (tx.db().changes() == 0)
        return applyResult(RefundApplyOutcome::NoChange, r, QStringLiteral("refund %1 is not under way").arg(r.id));
    return applyResult(RefundApplyOutcome::Updated, r,
        QStringLiteral("refund %1: %2%3")
            .arg(r.outRefundNo, answer.isEmpty() ? QStringLiteral("no answer") : answer,
                error.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(error)));
}

// A verified provider state for one of our refunds (query answers, refund answers, notifications).
RefundApplyResult applyState(store::Transaction &tx, const billing::TariffBook &book, const Refund &r,
    const RefundResult &info, std::optional<qint64> next, qint64 nowMs)
{
    switch (info.state) {
    case RefundState::Succeeded: {
        // WeChat reports this refund's amount; Alipay's notifications the trade's cumulative refunds.
        const bool amountOk = info.refundFen < 0
            || (r.channel == Channel::Alipay ? info.refundFen >= r.amountFen : info.refundFen == r.amountFen);
        if (!amountOk)
            return mismatch(tx, r,
                QStringLiteral("the provider reports %1 fen refunded, the refund is %2 fen")
                    .arg(info.refundFen)
                    .arg(r.amountFen),
                nowMs);
        switch (r.status) {
        case RefundStatus::Succeeded:
            return applyResult(
                RefundApplyOutcome::AlreadyDone, r, QStringLiteral("refund %1 succeeded before").arg(r.outRefundNo));
        case RefundStatus::Failed:
        case RefundStatus::Rejected:
        case RefundStatus::PendingApproval:
            return mismatch(tx, r,
                QStringLiteral("the provider paid out a refund we hold as %1: the wallet was not debited for it")
                    .arg(refundStatusCode(r.status)),
                nowMs);
        case RefundStatus::Approved:
        case RefundStatus::Submitted: break;
        }
        return succeed(tx, r, info.providerRefundId, nowMs);
    }
    case RefundState::Closed:
        if (r.status == RefundStatus::Failed)
            return applyResult(
                RefundApplyOutcome::AlreadyDone, r, QStringLiteral("refund %1 failed before").arg(r.outRefundNo));
        if (r.status == RefundStatus::Succeeded)
            return mismatch(tx, r, QStringLiteral("the provider says closed, we recorded it paid out"), nowMs);
        if (isFinished(r.status) || r.status == RefundStatus::PendingApproval)
            return applyResult(
                RefundApplyOutcome::NoChange, r, QStringLiteral("refund %1 is not under way").arg(r.outRefundNo));
        return fail(tx, book, r,
            QStringLiteral("the provider closed the refund%1")
                .arg(info.message.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(info.message)),
            nowMs);
    case RefundState::Abnormal: {
        if (isFinished(r.status) || r.status == RefundStatus::PendingApproval)
            return applyResult(
                RefundApplyOutcome::NoChange, r, QStringLiteral("refund %1 is not under way").arg(r.outRefundNo));
        RefundApplyResult noted = noteAnswer(tx, r, QStringLiteral("abnormal"),
            QStringLiteral("the provider could not pay the refund out (abnormal): settle it on the merchant platform"),
            next, nowMs);
        if (noted.outcome != RefundApplyOutcome::Updated)
            return noted;
        control::raiseAlarm(tx, QStringLiteral("payment_unmatched"), control::Severity::Warning,
            control::AlarmSubject{QStringLiteral("payment_attempt"), r.attemptId},
            refundDetail(r, QStringLiteral("refund abnormal: the provider could not pay it out")), nowMs);
        if (!tx.error().ok())
            return applyFailed(tx, r, QString());
        return noted;
    }
    case RefundState::Processing:
        if (isFinished(r.status) || r.status == RefundStatus::PendingApproval)
            return applyResult(
                RefundApplyOutcome::NoChange, r, QStringLiteral("refund %1 is not under way").arg(r.outRefundNo));
        return noteAnswer(tx, r, QStringLiteral("processing"), QString(), next, nowMs);
    }
    return applyResult(RefundApplyOutcome::NoChange, r, QString());
}

RefundRequestResult requestRefused(store::Transaction &tx, RefundRequestOutcome outcome, const QString &message)
{
    tx.rollback(message);
    RefundRequestResult result;
    result.outcome = outcome;
    result.message = message;
    return result;
}

RefundRequestResult requestFailed(store::Transaction &tx, const store::SqlError &error)
{
    if (!error.ok())
        tx.fail(error);
    RefundRequestResult result;
    result.outcome = RefundRequestOutcome::StoreFailed;
    result.message = tx.error().ok() ? tx.reason() : tx.error().toString();
    return result;
}

int characters(const QString &text)
{
    return int(text.toUcs4().size());
}

} // namespace

QString refundStatusCode(RefundStatus status)
{
    switch (status) {
    case RefundStatus::PendingApproval: return QStringLiteral("pending_approval");
    case RefundStatus::Approved: return QStringLiteral("approved");
    case RefundStatus::Submitted: return QStringLiteral("submitted");
    case RefundStatus::Succeeded: return QStringLiteral("succeeded");
    case RefundStatus::Failed: return QStringLiteral("failed");
    case RefundStatus::Rejected: return QStringLiteral("rejected");
    }
    return QStringLiteral("pending_approval");
}

std::optional<RefundStatus> refundStatusFromCode(QStringView code)
{
    for (int i = 0; i <= int(RefundStatus::Rejected); ++i) {
        if (code == refundStatusCode(RefundStatus(i)))
            return RefundStatus(i);
    }
    return std::nullopt;
}

bool isFinished(RefundStatus status)
{
    return status == RefundStatus::Succeeded || status == RefundStatus::Failed || status == RefundStatus::Rejected;
}

std::optional<Refund> findRefund(store::Connection &db, qint64 refundId)
{
    return findWhere(db, QStringLiteral("AND r.id = ?1"), [&](Statement &s) { s.bind(1, refundId); });
}

std::optional<Refund> findRefund(store::Connection &db, Channel channel, const QString &outRefundNo)
{
    return findWhere(db, QStringLiteral("AND r.out_refund_no = ?1 AND r.channel = ?2"),
        [&](Statement &s) { s.bind(1, outRefundNo).bind(2, channelCode(channel)); });
}

std::optional<Refund> findRefundOfApproval(store::Connection &db, qint64 approvalId)
{
    return findWhere(db, QStringLiteral("AND r.approval_id = ?1"), [&](Statement &s) { s.bind(1, approvalId); });
}

QList<Refund> refundsOfAttempt(store::Connection &db, qint64 attemptId)
{
    Statement s = db.prepare(QStringLiteral("SELECT ") + QLatin1String(refundColumns)
        + QStringLiteral("AND r.payment_attempt_id = ?1 ORDER BY r.id LIMIT %1").arg(kRefundListMax));
    s.bind(1, attemptId);
    QList<Refund> list;
    while (s.step() == Statement::Step::Row)
        list << refundFromRow(s);
    return list;
}

QString makeOutRefundNo(qint64 refundId, QByteArrayView random9)
{
    static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    QString out = QStringLiteral("R%1").arg(refundId % Q_INT64_C(10000000000), 10, 10, QLatin1Char('0'));
    for (qsizetype i = 0; i < 9; ++i) {
        const auto byte = quint8(i < random9.size() ? random9.at(i) : 0);
        out += QLatin1Char(alphabet[byte % 36]);
    }
    return out;
}

QString refundRequestOutcomeCode(RefundRequestOutcome outcome)
{
    switch (outcome) {
    case RefundRequestOutcome::Requested: return QStringLiteral("requested");
    case RefundRequestOutcome::Duplicate: return QStringLiteral("duplicate");
    case RefundRequestOutcome::Conflict: return QStringLiteral("conflict");
    case RefundRequestOutcome::NotFound: return QStringLiteral("not_found");
    case RefundRequestOutcome::NotRefundable: return QStringLiteral("not_refundable");
    case RefundRequestOutcome::NotSupported: return QStringLiteral("not_supported");
    case RefundRequestOutcome::Invalid: return QStringLiteral("invalid");
    case RefundRequestOutcome::ExceedsAttempt: return QStringLiteral("exceeds_attempt");
    case RefundRequestOutcome::ExceedsBalance: return QStringLiteral("exceeds_balance");
    case RefundRequestOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

QString refundDecisionOutcomeCode(RefundDecisionOutcome outcome)
{
    switch (outcome) {
    case RefundDecisionOutcome::Approved: return QStringLiteral("approved");
    case RefundDecisionOutcome::Rejected: return QStringLiteral("rejected");
    case RefundDecisionOutcome::NotFound: return QStringLiteral("not_found");
    case RefundDecisionOutcome::NotPending: return QStringLiteral("not_pending");
    case RefundDecisionOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

QString refundApplyOutcomeCode(RefundApplyOutcome outcome)
{
    switch (outcome) {
    case RefundApplyOutcome::Succeeded: return QStringLiteral("succeeded");
    case RefundApplyOutcome::Failed: return QStringLiteral("failed");
    case RefundApplyOutcome::Updated: return QStringLiteral("updated");
    case RefundApplyOutcome::AlreadyDone: return QStringLiteral("already_done");
    case RefundApplyOutcome::Mismatch: return QStringLiteral("mismatch");
    case RefundApplyOutcome::UnknownRefund: return QStringLiteral("unknown_refund");
    case RefundApplyOutcome::NoChange: return QStringLiteral("no_change");
    case RefundApplyOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

bool isProviderRefund(const QJsonObject &approvalPayload)
{
    return approvalPayload.value(QLatin1String("action")).toString() == QLatin1String("payments.refund")
        && approvalPayload.contains(QLatin1String("refund_id"));
}

// ---- request -----------------------------------------------------------------------------------

RefundRequestResult requestRefund(store::Transaction &tx, const billing::TariffBook &book,
    const staff::StaffSettings &settings, const RefundAsk &ask, qint64 nowMs)
{
    using O = RefundRequestOutcome;
    const QString reason = ask.reason.trimmed();
    if (ask.amountFen <= 0)
        return requestRefused(tx, O::Invalid, QStringLiteral("amount_fen: a refund is at least 1 fen"));
    if (reason.isEmpty() || characters(reason) > kRefundReasonMaxChars)
        return requestRefused(tx, O::Invalid, QStringLiteral("reason: 1..%1 characters").arg(kRefundReasonMaxChars));
    if (ask.idempotencyKey.isEmpty() || characters(ask.idempotencyKey) > kRefundKeyMaxChars)
        return requestRefused(
            tx, O::Invalid, QStringLiteral("idempotency_key: 1..%1 characters").arg(kRefundKeyMaxChars));

    // The same key first: a retry of a refund made is answered even if the wallet changed since.
    const QByteArray hash = QCryptographicHash::hash(QStringLiteral("refund;attempt=%1;amount=%2;operator=%3;reason=%4")
                                                         .arg(ask.attemptId)
                                                         .arg(ask.amountFen)
                                                         .arg(ask.operatorId)
                                                         .arg(reason)
                                                         .toUtf8(),
        QCryptographicHash::Sha256);
    {
        Statement earlier
            = tx.prepare(QStringLiteral("SELECT id, request_hash FROM refunds WHERE idempotency_key = ?1"));
        earlier.bind(1, ask.idempotencyKey);
        const Statement::Step step = earlier.step();
        if (step == Statement::Step::Error)
            return requestFailed(tx, earlier.error());
        if (step == Statement::Step::Row) {
            if (earlier.blob(1) != hash)
                return requestRefused(tx, O::Conflict,
                    QStringLiteral("idempotency_key %1 was used for another refund request").arg(ask.idempotencyKey));
            const std::optional<Refund> existing = findRefund(tx.db(), earlier.int64(0));
            if (!existing)
                return requestFailed(
                    tx, store::SqlError{1, 1, QStringLiteral("refund %1 cannot be read back").arg(earlier.int64(0))});
            RefundRequestResult result;
            result.outcome = O::Duplicate;
            result.message = QStringLiteral("this refund was asked for already (%1, %2)")
                                 .arg(existing->outRefundNo, refundStatusCode(existing->status));
            result.refund = *existing;
            result.approvalId = existing->approvalId;
            const std::optional<qint64> held = refundedOrHeld(tx, existing->attemptId);
            result.leftFen = held ? existing->attemptAmountFen - *held : 0;
            result.balance = ledger::walletBalance(tx.db(), existing->accountId).value_or(Money());
            return result;
        }
    }

    Statement op = tx.prepare(QStringLiteral("SELECT 1 FROM operators WHERE id = ?1 AND disabled = 0"));
    op.bind(1, ask.operatorId);
    if (op.step() != Statement::Step::Row)
        return op.error().ok() ? requestRefused(
                   tx, O::NotFound, QStringLiteral("operator %1 does not exist or is disabled").arg(ask.operatorId))
                               : requestFailed(tx, op.error());

    Statement a = tx.prepare(QStringLiteral(
        "SELECT a.channel, a.state, a.amount_fen, o.account_id, acc.status, acc.shop_no, a.out_trade_no "
        "FROM payment_attempts a JOIN topup_orders o ON o.id = a.order_id JOIN accounts acc ON acc.id = o.account_id "
        "WHERE a.id = ?1"));
    a.bind(1, ask.attemptId);
    if (a.step() != Statement::Step::Row)
        return a.error().ok()
            ? requestRefused(tx, O::NotFound, QStringLiteral("payment attempt %1 does not exist").arg(ask.attemptId))
            : requestFailed(tx, a.error());
    const QString channelText = a.text(0);
    const QString state = a.text(1);
    const qint64 attemptFen = a.int64(2);
    const qint64 accountId = a.int64(3);
    const QString accountStatus = a.text(4);
    const QString shopNo = a.text(5);
    const QString outTradeNo = a.text(6);
    if (channelText == u"cash")
        return requestRefused(tx, O::NotRefundable,
            QStringLiteral("attempt %1 is a cash sale: cash is paid back at the counter, not through a provider")
                .arg(ask.attemptId));
    const std::optional<Channel> channel = channelFromCode(channelText);
    if (!channel)
        return requestRefused(
            tx, O::NotRefundable, QStringLiteral("attempt %1 has no provider channel").arg(ask.attemptId));
    if (*channel == Channel::UnionPay)
        return requestRefused(tx, O::NotSupported,
            QStringLiteral("attempt %1 was paid through UnionPay: our UnionPay adapter does not refund; pay it back "
                           "in cash at the counter or through UnionPay's merchant service")
                .arg(ask.attemptId));
    if (state != u"credited" && state != u"partially_refunded")
        return requestRefused(tx, O::NotRefundable,
            QStringLiteral("attempt %1 is %2: only a paid and credited attempt (credited, partially_refunded) is "
                           "refunded")
                .arg(ask.attemptId)
                .arg(state));
    if (accountStatus != u"open")
        return requestRefused(tx, O::NotRefundable,
            QStringLiteral("shop %1's account is %2: its balance was settled when it closed")
                .arg(shopNo, accountStatus));
    if (const qint64 finding = freezingFinding(tx.db(), ask.attemptId); finding != 0)
        return requestRefused(tx, O::NotRefundable,
            QStringLiteral("attempt %1 (%2) is frozen by reconciliation finding %3: %4's bill does not show this "
                           "payment, so nothing of it is paid out until staff settle the finding "
                           "(payments.settle_finding)")
                .arg(ask.attemptId)
                .arg(outTradeNo)
                .arg(finding)
                .arg(channelText));

    const std::optional<qint64> held = refundedOrHeld(tx, ask.attemptId);
    if (!held)
        return requestFailed(tx, store::SqlError());
    const qint64 left = attemptFen - *held;
    if (ask.amountFen > left)
        return requestRefused(tx, O::ExceedsAttempt,
            QStringLiteral("attempt %1 (%2, %3 fen) has %4 fen left to refund after its other refunds; %5 fen asked")
                .arg(ask.attemptId)
                .arg(outTradeNo)
                .arg(attemptFen)
                .arg(left)
                .arg(ask.amountFen));

    ledger::LedgerWriter ledger(tx, nowMs);
    const std::optional<Money> balance = ledger.walletBalance(accountId);
    if (!tx.error().ok())
        return requestFailed(tx, store::SqlError());
    if (!balance || balance->fen() < ask.amountFen)
        return requestRefused(tx, O::ExceedsBalance,
            QStringLiteral("shop %1's wallet holds %2 CNY: energy already used is not refunded; %3 CNY asked")
                .arg(shopNo, balance.value_or(Money()).toDecimalString(),
                    Money::fromFen(ask.amountFen).toDecimalString()));

    // Meters holding their own balance keep it (see the header): named in the result.
    Statement prepaid = tx.prepare(QStringLiteral(
        "SELECT m.id FROM account_metering_points ap "
        "JOIN meter_installations i ON i.metering_point_id = ap.metering_point_id AND i.removed_at_ms IS NULL "
        "JOIN meters m ON m.id = i.meter_id "
        "WHERE ap.account_id = ?1 AND ap.unlinked_at_ms IS NULL AND m.capability = 'prepaid' ORDER BY m.id"));
    prepaid.bind(1, accountId);
    QList<qint64> prepaidMeters;
    while (prepaid.step() == Statement::Step::Row)
        prepaidMeters << prepaid.int64(0);
    if (!prepaid.error().ok())
        return requestFailed(tx, prepaid.error());

    // One writer: the next id is known before the insert, so out_refund_no is final at once.
    Statement next = tx.prepare(QStringLiteral("SELECT coalesce(max(id), 0) + 1 FROM refunds"));
    if (next.step() != Statement::Step::Row)
        return requestFailed(tx, next.error());
    const qint64 refundId = next.int64(0);
    const QByteArray random = QCryptographicHash::hash(
        QStringLiteral("%1;%2;%3;%4").arg(refundId).arg(nowMs).arg(ask.idempotencyKey).arg(ask.attemptId).toUtf8(),
        QCryptographicHash::Sha256);
    const QString outRefundNo = makeOutRefundNo(refundId, QByteArrayView(random).first(9));

    qint64 approvalId = 0;
    if (staff::needsApproval(staff::ApprovalKind::Refund, ask.amountFen, settings)) {
        const QJsonObject payload{{QStringLiteral("action"), QStringLiteral("payments.refund")},
            {QStringLiteral("refund_id"), refundId}, {QStringLiteral("out_refund_no"), outRefundNo},
            {QStringLiteral("payment_attempt_id"), ask.attemptId}, {QStringLiteral("out_trade_no"), outTradeNo},
            {QStringLiteral("shop"), shopNo}, {QStringLiteral("channel"), channelCode(*channel)},
            {QStringLiteral("amount_fen"), ask.amountFen}};
        QString problem;
        const std::optional<qint64> id = staff::requestApproval(tx, staff::ApprovalKind::Refund, payload, reason,
            ask.operatorId, nowMs, settings.approvalExpiryMs, &problem);
        if (!id)
            return tx.error().ok() ? requestRefused(tx, O::Invalid, problem) : requestFailed(tx, store::SqlError());
        approvalId = *id;
    }

    Statement insert = tx.prepare(QStringLiteral(
        "INSERT INTO refunds (id, account_id, channel, payment_attempt_id, out_refund_no, amount_fen, state, reason, "
        "requested_by, approval_id, idempotency_key, request_hash, next_action_at_ms, created_at_ms, updated_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, nullif(?10, 0), ?11, ?12, ?13, ?14, ?14)"));
    insert.bind(1, refundId).bind(2, accountId).bind(3, channelCode(*channel)).bind(4, ask.attemptId);
    insert.bind(5, outRefundNo).bind(6, ask.amountFen);
    insert.bind(7, approvalId > 0 ? QStringLiteral("pending_approval") : QStringLiteral("approved"));
    insert.bind(8, reason).bind(9, ask.operatorId).bind(10, approvalId).bind(11, ask.idempotencyKey).bind(12, hash);
    if (approvalId > 0)
        insert.bindNull(13);
    else
        insert.bind(13, nowMs); // the driver submits it at its next look
    insert.bind(14, nowMs);
    if (const store::SqlError e = insert.run(); !e.ok())
        return requestFailed(tx, e);

    const ledger::PostResult posted = ledger.refundRequested(accountId, refundId, Money::fromFen(ask.amountFen));
    if (posted.outcome == ledger::PostOutcome::StoreFailed)
        return requestFailed(tx, store::SqlError());
    if (posted.outcome == ledger::PostOutcome::InsufficientFunds)
        return requestRefused(tx, O::ExceedsBalance, posted.message);
    if (posted.outcome != ledger::PostOutcome::Posted)
        return requestRefused(tx, O::Conflict,
            QStringLiteral("the ledger refused the refund: %1 (%2)")
                .arg(ledger::postOutcomeCode(posted.outcome), posted.message));

    RefundRequestResult result;
    result.commandIds = evaluateAccount(tx, book, accountId, nowMs);
    if (!tx.error().ok())
        return requestFailed(tx, store::SqlError());
    const std::optional<Refund> written = findRefund(tx.db(), refundId);
    if (!written)
        return requestFailed(tx, store::SqlError{1, 1, QStringLiteral("refund %1 cannot be read back").arg(refundId)});
    result.outcome = O::Requested;
    result.refund = *written;
    result.approvalId = approvalId;
    result.balance = ledger.walletBalance(accountId).value_or(Money());
    result.leftFen = left - ask.amountFen;
    result.metersHoldingBalance = prepaidMeters;
    result.message
        = QStringLiteral("refund %1 of %2 CNY to the payer of %3 (%4): %5")
              .arg(outRefundNo, Money::fromFen(ask.amountFen).toDecimalString(), outTradeNo, channelCode(*channel),
                  approvalId > 0 ? QStringLiteral("waits for a second person (approval %1)").arg(approvalId)
                                 : QStringLiteral("approved, to be sent to the provider"));
    if (!prepaidMeters.isEmpty())
        result.message += QStringLiteral("; the shop's %1 meter(s) with their own balance keep showing the refunded "
                                         "money (the wallet decides the supply)")
                              .arg(prepaidMeters.size());
    return result;
}

// ---- decision ----------------------------------------------------------------------------------

namespace {

RefundDecisionResult decisionResult(RefundDecisionOutcome outcome, const QString &message)
{
    RefundDecisionResult result;
    result.outcome = outcome;
    result.message = message;
    return result;
}

// pending_approval → approved (the driver submits it) or → rejected (money back).
RefundDecisionResult settleDecision(store::Transaction &tx, const billing::TariffBook &book, const Refund &r,
    bool approved, const QString &why, std::optional<qint64> deciderId, qint64 nowMs)
{
    if (r.status != RefundStatus::PendingApproval) {
        RefundDecisionResult result = decisionResult(RefundDecisionOutcome::NotPending,
            QStringLiteral("refund %1 is %2, not pending approval").arg(r.outRefundNo, refundStatusCode(r.status)));
        result.refund = r;
        return result;
    }
    RefundDecisionResult result;
    if (approved) {
        Statement s = tx.prepare(
            QStringLiteral("UPDATE refunds SET state = 'approved', next_action_at_ms = ?2, updated_at_ms = ?2 "
                           "WHERE id = ?1 AND state = 'pending_approval'"));
        s.bind(1, r.id).bind(2, nowMs);
        if (!run(tx, s))
            return decisionResult(RefundDecisionOutcome::StoreFailed, tx.error().toString());
        result.outcome = RefundDecisionOutcome::Approved;
        result.message = QStringLiteral("refund %1 approved: it goes to the provider").arg(r.outRefundNo);
        result.balance = ledger::walletBalance(tx.db(), r.accountId).value_or(Money());
    } else {
        if (!returnMoney(tx, book, r, RefundStatus::Rejected, why, deciderId,
                r.approvalId > 0 ? std::optional<qint64>(r.approvalId) : std::nullopt, nowMs, &result.balance,
                &result.commandIds)) {
            if (!tx.error().ok() || tx.rollbackRequested())
                return decisionResult(
                    RefundDecisionOutcome::StoreFailed, tx.error().ok() ? tx.reason() : tx.error().toString());
            return decisionResult(
                RefundDecisionOutcome::NotPending, QStringLiteral("refund %1 is not pending").arg(r.id));
        }
        result.outcome = RefundDecisionOutcome::Rejected;
        result.message = QStringLiteral("refund %1 rejected (%2): %3 CNY back in shop %4's wallet")
                             .arg(r.outRefundNo, why, Money::fromFen(r.amountFen).toDecimalString(), r.shopNo);
    }
    result.refund = findRefund(tx.db(), r.id).value_or(r);
    return result;
}

} // namespace

RefundDecisionResult decideRefund(store::Transaction &tx, const billing::TariffBook &book, qint64 approvalId,
    bool approved, qint64 deciderId, qint64 nowMs)
{
    const std::optional<Refund> r = findRefundOfApproval(tx.db(), approvalId);
    if (!r)
        return decisionResult(
            RefundDecisionOutcome::NotFound, QStringLiteral("no provider refund waits on approval %1").arg(approvalId));
    return settleDecision(
        tx, book, *r, approved, QStringLiteral("rejected by operator %1").arg(deciderId), deciderId, nowMs);
}

QList<RefundDecisionResult> settleLapsedApprovals(store::Transaction &tx, const billing::TariffBook &book, qint64 nowMs)
{
    Statement s = tx.prepare(QStringLiteral(
        "SELECT r.id, ap.state, ap.expires_at_ms FROM refunds r JOIN approvals ap ON ap.id = r.approval_id "
        "WHERE r.state = 'pending_approval' AND (ap.state <> 'pending' OR ap.expires_at_ms <= ?1) ORDER BY r.id "
        "LIMIT %1")
                                 .arg(kRefundListMax));
    s.bind(1, nowMs);
    QList<std::pair<qint64, QString>> lapsed;
    while (s.step() == Statement::Step::Row)
        lapsed.append({s.int64(0), s.text(1)});
    QList<RefundDecisionResult> settled;
    if (!s.error().ok()) {
        tx.fail(s.error());
        return settled;
    }
    for (const auto &[refundId, approvalState] : lapsed) {
        const std::optional<Refund> r = findRefund(tx.db(), refundId);
        if (!r)
            continue;
        const bool approved = approvalState == u"approved" || approvalState == u"executed";
        const QString why = approvalState == u"pending"
            ? QStringLiteral("approval %1 expired undecided").arg(r->approvalId)
            : QStringLiteral("approval %1 %2").arg(r->approvalId).arg(approvalState);
        RefundDecisionResult result = settleDecision(tx, book, *r, approved, why, std::nullopt, nowMs);
        if (result.outcome == RefundDecisionOutcome::StoreFailed)
            return {result};
        settled << result;
    }
    return settled;
}

// ---- provider answers --------------------------------------------------------------------------

bool isRefundNotFound(const RefundResult &answer)
{
    if (answer.outcome == Outcome::Ok)
        return answer.code == QLatin1String("REFUND_NOT_EXIST"); // Alipay: a bare 10000 without the refund
    return answer.outcome == Outcome::Rejected
        && (answer.code == QLatin1String("RESOURCE_NOT_EXISTS") || answer.code == QLatin1String("REFUND_NOT_EXIST"));
}

bool isRetryableRefusal(const RefundResult &answer)
{
    // Alipay's refund documentation: ACQ.SYSTEM_ERROR — call again with the same parameters.
    // WeChat: SYSTEM_ERROR and FREQUENCY_LIMITED — the same. None of them says "no".
    return answer.outcome == Outcome::Rejected
        && (answer.code == QLatin1String("ACQ.SYSTEM_ERROR") || answer.code == QLatin1String("SYSTEM_ERROR")
            || answer.code == QLatin1String("FREQUENCY_LIMITED"));
}

RefundApplyResult applyRefund(
    store::Transaction &tx, const billing::TariffBook &book, Channel channel, const RefundResult &info, qint64 nowMs)
{
    if (info.outcome != Outcome::Ok) {
        RefundApplyResult result;
        result.outcome = RefundApplyOutcome::NoChange;
        result.message = QStringLiteral("not a verified refund state: %1").arg(outcomeCode(info.outcome));
        return result;
    }
    const std::optional<Refund> r = findRefund(tx.db(), channel, info.outRefundNo);
    if (!r) {
        RefundApplyResult result;
        result.outcome = RefundApplyOutcome::UnknownRefund;
        result.message
            = QStringLiteral("no %1 refund has out_refund_no %2").arg(channelCode(channel), info.outRefundNo);
        return result;
    }
    return applyState(tx, book, *r, info, std::nullopt, nowMs);
}

bool recordSubmitting(store::Transaction &tx, qint64 refundId, qint64 nextActionAtMs, qint64 nowMs)
{
    Statement s = tx.prepare(
        QStringLiteral("UPDATE refunds SET state = 'submitted', submit_count = submit_count + 1, "
                       "submitted_at_ms = coalesce(submitted_at_ms, ?2), next_action_at_ms = ?3, updated_at_ms = ?2 "
                       "WHERE id = ?1 AND state IN ")
        + QLatin1String(underWayStates));
    s.bind(1, refundId).bind(2, nowMs).bind(3, nextActionAtMs);
    return run(tx, s) && tx.db().changes() > 0;
}

RefundApplyResult recordProviderAnswer(store::Transaction &tx, const billing::TariffBook &book, qint64 refundId,
    ProviderCall call, const RefundResult &answer, qint64 nextQueryAtMs, qint64 stuckAfterMs, qint64 nowMs)
{
    const std::optional<Refund> found = findRefund(tx.db(), refundId);
    if (!found) {
        RefundApplyResult result;
        result.outcome = RefundApplyOutcome::UnknownRefund;
        result.message = QStringLiteral("no provider refund %1").arg(refundId);
        return result;
    }
    const Refund &r = *found;
    const bool query = call == ProviderCall::RefundQuery;
    const QString said = QStringLiteral("%1 %2: %3 %4")
                             .arg(query ? QStringLiteral("refund query") : QStringLiteral("refund"),
                                 outcomeCode(answer.outcome), answer.code, answer.message)
                             .trimmed();
    if (query && (r.status == RefundStatus::Approved || r.status == RefundStatus::Submitted)) {
        Statement counted = tx.prepare(QStringLiteral("UPDATE refunds SET query_count = query_count + 1 WHERE id = ?1"));
        counted.bind(1, r.id);
        if (!run(tx, counted))
            return applyFailed(tx, r, QString());
    }
    RefundApplyResult result;
    if (answer.outcome == Outcome::Ok && !answer.outRefundNo.isEmpty() && answer.outRefundNo != r.outRefundNo) {
        // The adapters check this already; a wrong echo is never believed.
        result = noteAnswer(tx, r, QStringLiteral("unknown"),
            QStringLiteral("%1: an answer about %2").arg(said, answer.outRefundNo), nextQueryAtMs, nowMs);
    } else if (query && isRefundNotFound(answer)) {
        if (r.providerAnswer == u"rejected")
            return fail(tx, book, r,
                QStringLiteral("the provider refused the refund and has no record of it (%1)").arg(said), nowMs);
        // It never got there: the identical call again, at once.
        result = noteAnswer(tx, r, QStringLiteral("not_found"), said, nowMs, nowMs);
    } else if (answer.outcome == Outcome::Ok) {
        result = applyState(tx, book, r, answer, nextQueryAtMs, nowMs);
    } else if (answer.outcome == Outcome::Unknown || isRetryableRefusal(answer)) {
        result = noteAnswer(tx, r, query ? QString() : QStringLiteral("unknown"), said, nextQueryAtMs, nowMs);
    } else if (!query) {
        // A verified refusal of the refund call.
        if (r.providerAnswer.isEmpty() || r.providerAnswer == u"not_found")
            return fail(tx, book, r,
                QStringLiteral("the provider refused it: %1 %2").arg(answer.code, answer.message).trimmed(), nowMs);
        // An earlier call may have taken effect: the provider may be refusing a duplicate.
        result = noteAnswer(tx, r, QStringLiteral("rejected"), said, nowMs, nowMs);
    } else {
        result = noteAnswer(tx, r, QString(), said, nextQueryAtMs, nowMs);
    }
    if (result.outcome == RefundApplyOutcome::Updated && r.submittedAtMs > 0
        && nowMs - r.submittedAtMs >= stuckAfterMs) {
        control::raiseAlarm(tx, QStringLiteral("payment_unmatched"), control::Severity::Warning,
            control::AlarmSubject{QStringLiteral("payment_attempt"), r.attemptId},
            refundDetail(r, QStringLiteral("refund under way without a final answer")), nowMs);
        if (!tx.error().ok())
            return applyFailed(tx, r, QString());
    }
    return result;
}

} // namespace prepay::payments
