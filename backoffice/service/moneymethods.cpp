// The staff actions that move money or a relay: account.open/close, account.recharge_cash,
// ledger.adjust/reverse, control.set_mode, and the maker-checker queue (approval.*).
//
// Maker-checker: what staff::needsApproval() says needs a second person (a cash refund above
// approval.money_threshold_fen, every reversal, every adjustment, every FORCE_ON) is not carried
// out by the maker's call: it becomes an approvals row holding the exact action (its params)
// and the reply says pending_approval. approval.decide by ANOTHER operator approves it and
// carries the action out in the same transaction as the decision (run() below, with the
// approval's id); if the action fails then (insufficient funds by now, …) nothing is kept and
// the request stays pending. Each step writes its audit row in its own transaction.
#include "accounts/lifecycle.h"
#include "api/clock.h"
#include "audit/audit.h"
#include "billing/biller.h"
#include "control/controller.h"
#include "control/modes.h"
#include "ledger/ledger.h"
#include "payments/counter.h"
#include "payments/refunds.h"
#include "payments/refundservice.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"
#include "staff/approvals.h"

#include <QtCore/QJsonArray>

namespace prepay::service {

namespace {

// What an action did: the reply, and the meter commands to hand to the poller after the commit.
struct ActionOutcome
{
    JobOutcome job;
    QList<qint64> commandIds;
};

// Everything an action needs inside its write job.
struct ActionContext
{
    store::Transaction &tx;
    billing::Biller &biller;
    qint64 operatorId = 0;              // who asked (the maker)
    std::optional<qint64> approvalId;   // set when carried out by an approval
    qint64 nowMs = 0;
};

using Action = ActionOutcome (*)(ActionContext &, const QJsonObject &params);

ActionOutcome refused(store::Transaction &tx, rpc::ErrorCode code, const QString &message)
{
    ActionOutcome outcome;
    outcome.job = JobOutcome::refuse(tx, code, message);
    return outcome;
}

// A statement failed: the transaction is failed already (or is rolled back here); the reply is
// an internal error.
ActionOutcome storeFailed(store::Transaction &tx, const QString &message)
{
    if (tx.error().ok() && !tx.rollbackRequested())
        tx.rollback(message);
    return ActionOutcome();
}

rpc::ErrorCode codeFor(accounts::LifecycleOutcome outcome)
{
    switch (outcome) {
    case accounts::LifecycleOutcome::NotFound: return rpc::ErrorCode::NotFound;
    case accounts::LifecycleOutcome::Conflict:
    case accounts::LifecycleOutcome::InArrears: return rpc::ErrorCode::Conflict;
    default: return rpc::ErrorCode::InvalidParams;
    }
}

std::optional<qint64> openAccountOfShop(store::Transaction &tx, const QString &shopNo)
{
    store::Statement s = tx.prepare(QStringLiteral("SELECT id FROM accounts WHERE shop_no = ?1 AND status = 'open'"));
    s.bind(1, shopNo);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    return s.int64(0);
}

std::optional<Money> walletBalance(store::Transaction &tx, qint64 accountId, qint64 nowMs)
{
    ledger::LedgerWriter ledger(tx, nowMs);
    return ledger.walletBalance(accountId);
}

QJsonObject done(qint64 accountId, std::optional<Money> balance)
{
    return QJsonObject{{QStringLiteral("status"), QStringLiteral("done")}, {QStringLiteral("account_id"), accountId},
        {QStringLiteral("balance_fen"), balance ? QJsonValue(balance->fen()) : QJsonValue()}};
}

QList<qint64> evaluateAccount(ActionContext &a, qint64 accountId)
{
    return control::Controller::evaluate(
        a.tx, *a.biller.book(), control::Controller::pointsOfAccounts(a.tx, {accountId}), a.nowMs);
}

ActionOutcome lifecycleOutcome(store::Transaction &tx, const accounts::LifecycleResult &result)
{
    if (result.outcome == accounts::LifecycleOutcome::StoreFailed)
        return storeFailed(tx, result.message);
    if (!result.ok())
        return refused(tx, codeFor(result.outcome), result.message);
    ActionOutcome outcome;
    outcome.commandIds = result.commandIds;
    outcome.job = JobOutcome::ok(QJsonObject{{QStringLiteral("status"), QStringLiteral("done")},
        {QStringLiteral("account_id"), result.accountId}, {QStringLiteral("message"), result.message},
        {QStringLiteral("settled_fen"), result.settled.fen()}, {QStringLiteral("final_charges_fen"), result.finalCharges.fen()},
        {QStringLiteral("already"), result.outcome == accounts::LifecycleOutcome::AlreadyDone}});
    return outcome;
}

// ---- the actions ---------------------------------------------------------------------------

ActionOutcome openAccount(ActionContext &a, const QJsonObject &p)
{
    accounts::OpenAccountRequest request;
    request.shopNo = p.value(QLatin1String("shop_no")).toString();
    request.displayName = p.value(QLatin1String("display_name")).toString();
    request.contactName = p.value(QLatin1String("contact_name")).toString();
    request.contactPhone = p.value(QLatin1String("contact_phone")).toString();
    for (const QJsonValue &code : p.value(QLatin1String("point_codes")).toArray())
        request.pointCodes << code.toString();
    request.tariffCode = p.value(QLatin1String("tariff_code")).toString();
    const auto money = [&p](const char *name) -> std::optional<Money> {
        if (!p.contains(QLatin1String(name)))
            return std::nullopt;
        return Money::fromFen(p.value(QLatin1String(name)).toInteger());
    };
    request.thresholds.alarm1 = money("alarm1_fen");
    request.thresholds.alarm2 = money("alarm2_fen");
    request.thresholds.overdraftLimit = money("overdraft_limit_fen");
    request.operatorId = a.operatorId;
    return lifecycleOutcome(a.tx, accounts::openAccount(a.tx, a.biller, request, a.nowMs));
}

ActionOutcome closeAccount(ActionContext &a, const QJsonObject &p)
{
    accounts::CloseAccountRequest request;
    request.shopNo = p.value(QLatin1String("shop_no")).toString();
    const QString settlement = p.value(QLatin1String("settlement")).toString();
    request.settlement = settlement == QLatin1String("refund_cash") ? accounts::Settlement::RefundCash
        : settlement == QLatin1String("transfer")                  ? accounts::Settlement::Transfer
                                                                    : accounts::Settlement::None;
    request.transferToShopNo = p.value(QLatin1String("transfer_to_shop_no")).toString();
    request.operatorId = a.operatorId;
    request.reason = p.value(QLatin1String("reason")).toString();
    return lifecycleOutcome(a.tx, accounts::closeAccount(a.tx, a.biller, request, a.nowMs));
}

ActionOutcome rechargeCash(ActionContext &a, const QJsonObject &p)
{
    payments::CashTopUp request;
    request.shopNo = p.value(QLatin1String("shop_no")).toString();
    request.amount = Money::fromFen(p.value(QLatin1String("amount_fen")).toInteger());
    request.idempotencyKey = p.value(QLatin1String("idempotency_key")).toString();
    request.operatorId = a.operatorId;
    const payments::TopUpResult result = payments::creditCash(a.tx, *a.biller.book(), request, a.nowMs);
    switch (result.outcome) {
    case payments::TopUpOutcome::Credited:
    case payments::TopUpOutcome::Duplicate: break;
    case payments::TopUpOutcome::NotFound: return refused(a.tx, rpc::ErrorCode::NotFound, result.message);
    case payments::TopUpOutcome::Conflict: return refused(a.tx, rpc::ErrorCode::Conflict, result.message);
    case payments::TopUpOutcome::StoreFailed: return storeFailed(a.tx, result.message);
    }
    ActionOutcome outcome;
    outcome.commandIds = result.commandIds;
    QJsonObject reply = done(result.accountId, result.balance);
    reply.insert(QStringLiteral("entry_id"), result.entryId);
    reply.insert(QStringLiteral("receipt_no"), result.receiptNo);
    reply.insert(QStringLiteral("already"), result.outcome == payments::TopUpOutcome::Duplicate);
    outcome.job = JobOutcome::ok(reply);
    return outcome;
}

ActionOutcome ledgerOutcome(ActionContext &a, qint64 accountId, const ledger::PostResult &posted)
{
    if (posted.outcome == ledger::PostOutcome::StoreFailed)
        return storeFailed(a.tx, posted.message);
    if (!posted.ok()) {
        return refused(a.tx,
            posted.outcome == ledger::PostOutcome::InsufficientFunds || posted.outcome == ledger::PostOutcome::Conflict
                    || posted.outcome == ledger::PostOutcome::NotReversible
                ? rpc::ErrorCode::Conflict
                : rpc::ErrorCode::InvalidParams,
            QStringLiteral("%1: %2").arg(ledger::postOutcomeCode(posted.outcome), posted.message));
    }
    ActionOutcome outcome;
    // A credit may lift a cut, a debit may trip: the policy looks at the account's points now.
    outcome.commandIds = evaluateAccount(a, accountId);
    if (!a.tx.error().ok())
        return storeFailed(a.tx, a.tx.error().toString());
    QJsonObject reply = done(accountId, walletBalance(a.tx, accountId, a.nowMs));
    reply.insert(QStringLiteral("entry_id"), posted.entryId);
    outcome.job = JobOutcome::ok(reply);
    return outcome;
}

ActionOutcome adjust(ActionContext &a, const QJsonObject &p)
{
    const QString shopNo = p.value(QLatin1String("shop_no")).toString();
    const std::optional<qint64> accountId = openAccountOfShop(a.tx, shopNo);
    if (!accountId)
        return refused(a.tx, rpc::ErrorCode::NotFound, QStringLiteral("no open account for shop %1").arg(shopNo));
    ledger::LedgerWriter ledger(a.tx, a.nowMs);
    const ledger::PostResult posted = ledger.adjust(*accountId,
        Money::fromFen(p.value(QLatin1String("amount_fen")).toInteger()),
        QStringLiteral("adjust:") + p.value(QLatin1String("idempotency_key")).toString(), a.operatorId,
        p.value(QLatin1String("reason")).toString(), a.approvalId);
    return ledgerOutcome(a, *accountId, posted);
}

ActionOutcome reverse(ActionContext &a, const QJsonObject &p)
{
    const qint64 entryId = p.value(QLatin1String("entry_id")).toInteger();
    store::Statement owner = a.tx.prepare(QStringLiteral(
        "SELECT la.account_id FROM ledger_postings lp JOIN ledger_accounts la ON la.id = lp.ledger_account_id "
        "WHERE lp.entry_id = ?1 AND la.account_id IS NOT NULL LIMIT 1"));
    owner.bind(1, entryId);
    const qint64 accountId = owner.step() == store::Statement::Step::Row ? owner.int64(0) : 0;
    ledger::LedgerWriter ledger(a.tx, a.nowMs);
    const ledger::PostResult posted = ledger.reverse(entryId,
        QStringLiteral("reverse:") + p.value(QLatin1String("idempotency_key")).toString(),
        p.value(QLatin1String("reason")).toString(), a.operatorId, a.approvalId);
    if (accountId == 0 && posted.ok()) {
        ActionOutcome outcome;
        outcome.job = JobOutcome::ok(QJsonObject{{QStringLiteral("status"), QStringLiteral("done")},
            {QStringLiteral("entry_id"), posted.entryId}});
        return outcome;
    }
    return ledgerOutcome(a, accountId, posted);
}

ActionOutcome setMode(ActionContext &a, const QJsonObject &p)
{
    control::ModeChange change;
    change.pointCode = p.value(QLatin1String("point_code")).toString();
    change.mode = control::modeFromCode(p.value(QLatin1String("mode")).toString()).value_or(control::Mode::Auto);
    change.reason = p.value(QLatin1String("reason")).toString();
    if (p.contains(QLatin1String("until_ms")))
        change.untilMs = p.value(QLatin1String("until_ms")).toInteger();
    change.operatorId = a.operatorId;
    const control::ModeResult result = control::setMode(a.tx, *a.biller.book(), change, a.nowMs);
    switch (result.outcome) {
    case control::ModeOutcome::Changed:
    case control::ModeOutcome::Unchanged: break;
    case control::ModeOutcome::NotFound: return refused(a.tx, rpc::ErrorCode::NotFound, result.message);
    case control::ModeOutcome::Invalid: return refused(a.tx, rpc::ErrorCode::InvalidParams, result.message);
    case control::ModeOutcome::StoreFailed: return storeFailed(a.tx, result.message);
    }
    ActionOutcome outcome;
    outcome.commandIds = result.commandIds;
    outcome.job = JobOutcome::ok(QJsonObject{{QStringLiteral("status"), QStringLiteral("done")},
        {QStringLiteral("point_code"), change.pointCode}, {QStringLiteral("before"), result.before},
        {QStringLiteral("mode"), control::modeCode(change.mode)}, {QStringLiteral("message"), result.message}});
    return outcome;
}

// ---- which action, and whether it needs a second person ------------------------------------

struct ActionSpec
{
    QString method;
    Action run;
    std::optional<staff::ApprovalKind> kind; // the approvals kind, when it can need one
};

const QList<ActionSpec> &actions()
{
    static const QList<ActionSpec> list{
        {QStringLiteral("account.open"), &openAccount, std::nullopt},
        {QStringLiteral("account.close"), &closeAccount, staff::ApprovalKind::Refund},
        {QStringLiteral("account.recharge_cash"), &rechargeCash, std::nullopt},
        {QStringLiteral("ledger.adjust"), &adjust, staff::ApprovalKind::Adjustment},
        {QStringLiteral("ledger.reverse"), &reverse, staff::ApprovalKind::Reversal},
        {QStringLiteral("control.set_mode"), &setMode, staff::ApprovalKind::ForceOn},
    };
    return list;
}

const ActionSpec *actionForMethod(const QString &method)
{
    for (const ActionSpec &spec : actions()) {
        if (spec.method == method)
            return &spec;
    }
    return nullptr;
}

// The one place that asks staff::needsApproval() for a call: the amount that counts is the
// refund (the balance being paid out in cash) or the adjustment; FORCE_ON and reversals always.
bool needsSecondPerson(store::Transaction &tx, const ActionSpec &spec, const QJsonObject &p,
    const staff::StaffSettings &settings, qint64 nowMs)
{
    if (!spec.kind)
        return false;
    switch (*spec.kind) {
    case staff::ApprovalKind::Refund: {
        if (p.value(QLatin1String("settlement")).toString() != QLatin1String("refund_cash"))
            return false;
        const std::optional<qint64> account = openAccountOfShop(tx, p.value(QLatin1String("shop_no")).toString());
        const std::optional<Money> balance = account ? walletBalance(tx, *account, nowMs) : std::nullopt;
        return balance && staff::needsApproval(staff::ApprovalKind::Refund, balance->fen(), settings);
    }
    case staff::ApprovalKind::ForceOn:
        return p.value(QLatin1String("mode")).toString() == QLatin1String("force_on")
            && staff::needsApproval(staff::ApprovalKind::ForceOn, 0, settings);
    case staff::ApprovalKind::Adjustment:
        return staff::needsApproval(*spec.kind, qAbs(p.value(QLatin1String("amount_fen")).toInteger()), settings);
    default: return staff::needsApproval(*spec.kind, 0, settings);
    }
}

QString subjectOf(const QJsonObject &p)
{
    if (p.contains(QLatin1String("shop_no")))
        return p.value(QLatin1String("shop_no")).toString();
    if (p.contains(QLatin1String("point_code")))
        return p.value(QLatin1String("point_code")).toString();
    return QString::number(p.value(QLatin1String("entry_id")).toInteger());
}

QString subjectKindOf(const QJsonObject &p)
{
    if (p.contains(QLatin1String("shop_no")))
        return QStringLiteral("account");
    if (p.contains(QLatin1String("point_code")))
        return QStringLiteral("metering_point");
    return QStringLiteral("ledger_entry");
}

// The subject as the audit row records it before and after an action: an account's status and
// wallet balance, a point's control mode, an entry's kind and whether it is reversed.
QJsonObject subjectState(store::Transaction &tx, const QJsonObject &p, qint64 nowMs)
{
    if (p.contains(QLatin1String("shop_no"))) {
        store::Statement s = tx.prepare(QStringLiteral(
            "SELECT id, status FROM accounts WHERE shop_no = ?1 ORDER BY status = 'open' DESC, id DESC LIMIT 1"));
        s.bind(1, p.value(QLatin1String("shop_no")).toString());
        if (s.step() != store::Statement::Step::Row)
            return QJsonObject{{QStringLiteral("exists"), false}};
        const qint64 accountId = s.int64(0);
        const QString status = s.text(1);
        const std::optional<Money> balance = walletBalance(tx, accountId, nowMs);
        return QJsonObject{{QStringLiteral("account_id"), accountId}, {QStringLiteral("status"), status},
            {QStringLiteral("balance_fen"), balance ? QJsonValue(balance->fen()) : QJsonValue()}};
    }
    if (p.contains(QLatin1String("point_code"))) {
        store::Statement s = tx.prepare(QStringLiteral(
            "SELECT coalesce(cs.control_mode, 'auto'), cs.mode_expires_at_ms FROM metering_points mp "
            "LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id WHERE mp.code = ?1"));
        s.bind(1, p.value(QLatin1String("point_code")).toString());
        if (s.step() != store::Statement::Step::Row)
            return QJsonObject{{QStringLiteral("exists"), false}};
        return QJsonObject{{QStringLiteral("control_mode"), s.text(0)}, {QStringLiteral("mode_expires_at_ms"), intOrNull(s, 1)}};
    }
    store::Statement s = tx.prepare(QStringLiteral(
        "SELECT e.kind, (SELECT count(*) FROM ledger_entries r WHERE r.reverses_entry_id = e.id) "
        "FROM ledger_entries e WHERE e.id = ?1"));
    s.bind(1, p.value(QLatin1String("entry_id")).toInteger());
    if (s.step() != store::Statement::Step::Row)
        return QJsonObject{{QStringLiteral("exists"), false}};
    return QJsonObject{{QStringLiteral("kind"), s.text(0)}, {QStringLiteral("reversed"), s.int64(1) > 0}};
}

void finishAction(ServiceContext &context, const CallPtr &call, const store::Written<ActionOutcome> &written)
{
    if (written.committed() && !written.value.commandIds.isEmpty() && context.dispatchCommands)
        context.dispatchCommands(written.value.commandIds);
    store::Written<JobOutcome> reply;
    reply.status = written.status;
    reply.value = written.value.job;
    reply.error = written.error;
    reply.reason = written.reason;
    replyFrom(call, reply);
}

// A staff action: carried out now, or queued for a second person.
void act(ServiceContext &context, const CallPtr &call, const ActionSpec &spec)
{
    if (!context.biller) {
        call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("billing is not running in this prepayd"));
        return;
    }
    billing::Biller &biller = *context.biller;
    const QJsonObject params = call->params();
    if (spec.method == QLatin1String("ledger.adjust") && params.value(QLatin1String("amount_fen")).toInteger() == 0) {
        // Refused now rather than after a second person approved nothing.
        call->fail(rpc::ErrorCode::InvalidParams, QStringLiteral("params.amount_fen must not be 0"),
            QJsonObject{{QStringLiteral("field"), QStringLiteral("params.amount_fen")}});
        return;
    }
    const qint64 operatorId = call->client->staff->operatorId;
    const staff::StaffSettings settings = context.staffSettings;
    audit::Entry entry = auditEntry(context, *call, spec.method, subjectKindOf(params), subjectOf(params));
    entry.reason = params.value(QLatin1String("reason")).toString();
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [&biller, spec, params, operatorId, settings, entry, nowMs](store::Transaction &tx) mutable {
            if (needsSecondPerson(tx, spec, params, settings, nowMs)) {
                QString problem;
                const std::optional<qint64> id = staff::requestApproval(tx, *spec.kind, params,
                    params.value(QLatin1String("reason")).toString(QStringLiteral("(no reason given)")), operatorId,
                    nowMs, settings.approvalExpiryMs, &problem);
                if (!id)
                    return tx.error().ok() ? refused(tx, rpc::ErrorCode::InvalidParams, problem) : storeFailed(tx, problem);
                const QJsonObject pending{{QStringLiteral("status"), QStringLiteral("pending_approval")},
                    {QStringLiteral("approval_id"), *id}};
                entry.action = QStringLiteral("approval.request");
                entry.afterJson = compact(QJsonObject{{QStringLiteral("method"), spec.method},
                    {QStringLiteral("params"), params}, {QStringLiteral("approval_id"), *id}});
                audit::append(tx, entry);
                ActionOutcome outcome;
                outcome.job = JobOutcome::ok(pending);
                return outcome;
            }
            const QJsonObject before = subjectState(tx, params, nowMs);
            ActionContext a{tx, biller, operatorId, std::nullopt, nowMs};
            ActionOutcome outcome = spec.run(a, params);
            if (outcome.job.error || !tx.error().ok() || tx.rollbackRequested())
                return outcome;
            entry.beforeJson = compact(before);
            entry.afterJson = compact(QJsonObject{{QStringLiteral("subject"), subjectState(tx, params, nowMs)},
                {QStringLiteral("result"), outcome.job.result}});
            audit::append(tx, entry);
            return outcome;
        },
        [&context, call](const store::Written<ActionOutcome> &written) { finishAction(context, call, written); });
}

// ---- approvals -----------------------------------------------------------------------------

QJsonObject approvalJson(const staff::Approval &approval)
{
    QJsonObject o{{QStringLiteral("approval_id"), approval.id},
        {QStringLiteral("kind"), staff::approvalKindCode(approval.kind)}, {QStringLiteral("payload"), approval.payload},
        {QStringLiteral("reason"), approval.reason}, {QStringLiteral("requested_by"), approval.requestedBy},
        {QStringLiteral("requested_by_login"), approval.requestedByLogin},
        {QStringLiteral("requested_at_ms"), approval.requestedAtMs}, {QStringLiteral("expires_at_ms"), approval.expiresAtMs}};
    return o;
}

void listApprovals(ServiceContext &context, const CallPtr &call)
{
    QString error;
    const std::optional<QList<staff::Approval>> pending =
        staff::listPending(context.reader, context.clock.wallMs(), &error);
    if (!pending) {
        failInternal(call, error);
        return;
    }
    QJsonArray list;
    for (const staff::Approval &approval : *pending)
        list.append(approvalJson(approval));
    call->reply(QJsonObject{{QStringLiteral("approvals"), list}});
}

// The method an approval carries out: the payload holds the maker's params; the kind says which.
const ActionSpec *actionForApproval(const staff::Approval &approval)
{
    for (const ActionSpec &spec : actions()) {
        if (spec.kind == approval.kind)
            return &spec;
    }
    return nullptr;
}

void decide(ServiceContext &context, const CallPtr &call)
{
    if (!context.biller) {
        call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("billing is not running in this prepayd"));
        return;
    }
    billing::Biller &biller = *context.biller;
    const qint64 approvalId = call->params().value(QLatin1String("approval_id")).toInteger();
    const bool approve = call->params().value(QLatin1String("decision")).toString() == QLatin1String("approve");
    const QString note = call->params().value(QLatin1String("note")).toString();
    const qint64 deciderId = call->client->staff->operatorId;
    audit::Entry entry =
        auditEntry(context, *call, QStringLiteral("approval.decide"), QStringLiteral("approval"), QString::number(approvalId));
    entry.reason = note;
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [&biller, approvalId, approve, note, deciderId, entry, nowMs](store::Transaction &tx) mutable {
            const staff::DecideResult decided = staff::decide(
                tx, approvalId, deciderId, approve ? staff::Decision::Approve : staff::Decision::Reject, note, nowMs);
            switch (decided.outcome) {
            case staff::DecideOutcome::Approved:
            case staff::DecideOutcome::Rejected: break;
            case staff::DecideOutcome::NotFound:
                return refused(tx, rpc::ErrorCode::NotFound, QStringLiteral("no approval request %1").arg(approvalId));
            case staff::DecideOutcome::SelfApproval:
                return refused(tx, rpc::ErrorCode::Forbidden,
                    QStringLiteral("you asked for this yourself: another person must decide"));
            case staff::DecideOutcome::NotPending:
            case staff::DecideOutcome::Expired:
                if (decided.outcome == staff::DecideOutcome::Expired) {
                    // The expiry is recorded (the job commits), and the decider told.
                    ActionOutcome outcome;
                    rpc::Error error;
                    error.code = rpc::ErrorCode::Conflict;
                    error.message = QStringLiteral("request %1 has expired").arg(approvalId);
                    outcome.job.error = error;
                    return outcome;
                }
                return refused(tx, rpc::ErrorCode::Conflict,
                    QStringLiteral("request %1 was decided already (%2)").arg(approvalId).arg(decided.error));
            case staff::DecideOutcome::Failed: return storeFailed(tx, decided.error);
            }
            const staff::Approval &approval = *decided.approval;
            entry.afterJson = compact(QJsonObject{{QStringLiteral("decision"), approve ? QStringLiteral("approve") : QStringLiteral("reject")},
                {QStringLiteral("kind"), staff::approvalKindCode(approval.kind)}, {QStringLiteral("payload"), approval.payload}});
            if (payments::isProviderRefund(approval.payload)) {
                // A refund to the payer (refund.request): approved → the refund driver submits it;
                // rejected → the money back in the wallet, in this transaction.
                const payments::RefundDecisionResult r
                    = payments::decideRefund(tx, *biller.book(), approvalId, approve, deciderId, nowMs);
                switch (r.outcome) {
                case payments::RefundDecisionOutcome::Approved:
                case payments::RefundDecisionOutcome::Rejected: break;
                case payments::RefundDecisionOutcome::NotFound:
                case payments::RefundDecisionOutcome::NotPending: return refused(tx, rpc::ErrorCode::Conflict, r.message);
                case payments::RefundDecisionOutcome::StoreFailed: return storeFailed(tx, r.message);
                }
                if (approve && !staff::markExecuted(tx, approvalId, nowMs))
                    return storeFailed(tx, QStringLiteral("marking the approval executed"));
                audit::append(tx, entry);
                ActionOutcome outcome;
                outcome.commandIds = r.commandIds;
                outcome.job = JobOutcome::ok(QJsonObject{
                    {QStringLiteral("status"), approve ? QStringLiteral("done") : QStringLiteral("rejected")},
                    {QStringLiteral("approval_id"), approvalId}, {QStringLiteral("refund_id"), r.refund.id},
                    {QStringLiteral("refund_state"), payments::refundStatusCode(r.refund.status)},
                    {QStringLiteral("balance_fen"), r.balance.fen()}});
                return outcome;
            }
            if (!approve) {
                audit::append(tx, entry);
                ActionOutcome outcome;
                outcome.job = JobOutcome::ok(QJsonObject{{QStringLiteral("status"), QStringLiteral("rejected")},
                    {QStringLiteral("approval_id"), approvalId}});
                return outcome;
            }
            const ActionSpec *spec = actionForApproval(approval);
            if (!spec)
                return refused(tx, rpc::ErrorCode::Conflict,
                    QStringLiteral("prepayd cannot carry out a %1 request").arg(staff::approvalKindCode(approval.kind)));
            // The maker's action, on the maker's behalf, with the approval named in the ledger.
            const QJsonObject before = subjectState(tx, approval.payload, nowMs);
            ActionContext a{tx, biller, approval.requestedBy, approvalId, nowMs};
            ActionOutcome outcome = spec->run(a, approval.payload);
            if (outcome.job.error || !tx.error().ok() || tx.rollbackRequested())
                return outcome;
            if (!staff::markExecuted(tx, approvalId, nowMs))
                return storeFailed(tx, QStringLiteral("marking the approval executed"));
            audit::append(tx, entry);
            audit::Entry done = entry;
            done.action = spec->method;
            done.subjectKind = subjectKindOf(approval.payload);
            done.subjectId = subjectOf(approval.payload);
            done.reason = approval.reason;
            done.beforeJson = compact(before);
            done.afterJson = compact(QJsonObject{{QStringLiteral("subject"), subjectState(tx, approval.payload, nowMs)},
                {QStringLiteral("result"), outcome.job.result}});
            audit::append(tx, done);
            QJsonObject reply = outcome.job.result.toObject();
            reply.insert(QStringLiteral("approval_id"), approvalId);
            outcome.job.result = reply;
            return outcome;
        },
        [&context, call](const store::Written<ActionOutcome> &written) {
            finishAction(context, call, written);
            if (context.refunds && written.committed())
                context.refunds->wake(); // an approved refund goes to the provider now
        });
}

void cancel(ServiceContext &context, const CallPtr &call)
{
    const qint64 approvalId = call->params().value(QLatin1String("approval_id")).toInteger();
    const qint64 operatorId = call->client->staff->operatorId;
    const audit::Entry entry =
        auditEntry(context, *call, QStringLiteral("approval.cancel"), QStringLiteral("approval"), QString::number(approvalId));
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [approvalId, operatorId, entry, nowMs](store::Transaction &tx) {
            switch (staff::cancelApproval(tx, approvalId, operatorId, nowMs)) {
            case staff::CancelOutcome::Cancelled: break;
            case staff::CancelOutcome::NotFound:
                return JobOutcome::refuse(tx, rpc::ErrorCode::NotFound, QStringLiteral("no approval request %1").arg(approvalId));
            case staff::CancelOutcome::NotPending:
                return JobOutcome::refuse(tx, rpc::ErrorCode::Conflict, QStringLiteral("request %1 is not pending").arg(approvalId));
            case staff::CancelOutcome::NotRequester:
                return JobOutcome::refuse(tx, rpc::ErrorCode::Forbidden, QStringLiteral("only the requester may withdraw it"));
            case staff::CancelOutcome::Failed: return JobOutcome();
            }
            audit::append(tx, entry);
            return JobOutcome::ok(QJsonObject{{QStringLiteral("status"), QStringLiteral("cancelled")},
                {QStringLiteral("approval_id"), approvalId}});
        },
        [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
}

} // namespace

void bindMoneyMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    for (const ActionSpec &spec : actions()) {
        const QString method = spec.method;
        dispatcher.bind(method, [&context, method](const CallPtr &call) { act(context, call, *actionForMethod(method)); });
    }
    dispatcher.bind(QStringLiteral("approval.list"), [&context](const CallPtr &call) { listApprovals(context, call); });
    dispatcher.bind(QStringLiteral("approval.decide"), [&context](const CallPtr &call) { decide(context, call); });
    dispatcher.bind(QStringLiteral("approval.cancel"), [&context](const CallPtr &call) { cancel(context, call); });
}

} // namespace prepay::service
