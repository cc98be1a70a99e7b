#include "ledger.h"

#include "ledgerlog.h"

#include "api/check.h"
#include "store/store.h"

#include <QtCore/QHash>

#include <openssl/evp.h>

#include <algorithm>
#include <optional>

namespace prepay::ledger {

using store::SqlError;
using store::Statement;

QString entryKindCode(EntryKind kind)
{
    switch (kind) {
    case EntryKind::Recharge: return QStringLiteral("recharge");
    case EntryKind::Charge: return QStringLiteral("charge");
    case EntryKind::Refund: return QStringLiteral("refund");
    case EntryKind::Reversal: return QStringLiteral("reversal");
    case EntryKind::Transfer: return QStringLiteral("transfer");
    case EntryKind::Adjustment: return QStringLiteral("adjustment");
    }
    PREPAY_CHECK(false);
    return {};
}

std::optional<EntryKind> entryKindFromCode(QStringView code)
{
    for (EntryKind k : {EntryKind::Recharge, EntryKind::Charge, EntryKind::Refund, EntryKind::Reversal,
             EntryKind::Transfer, EntryKind::Adjustment}) {
        if (code == entryKindCode(k))
            return k;
    }
    return std::nullopt;
}

QString channelCode(Channel channel)
{
    switch (channel) {
    case Channel::Cash: return QStringLiteral("cash");
    case Channel::Alipay: return QStringLiteral("alipay");
    case Channel::Wechat: return QStringLiteral("wechat");
    case Channel::Unionpay: return QStringLiteral("unionpay");
    }
    PREPAY_CHECK(false);
    return {};
}

std::optional<Channel> channelFromCode(QStringView code)
{
    for (Channel c : {Channel::Cash, Channel::Alipay, Channel::Wechat, Channel::Unionpay}) {
        if (code == channelCode(c))
            return c;
    }
    return std::nullopt;
}

qint64 clearingAccount(Channel channel)
{
    switch (channel) {
    case Channel::Cash: return account::ClearingCash;
    case Channel::Alipay: return account::ClearingAlipay;
    case Channel::Wechat: return account::ClearingWechat;
    case Channel::Unionpay: return account::ClearingUnionpay;
    }
    PREPAY_CHECK(false);
    return 0;
}

QString postOutcomeCode(PostOutcome outcome)
{
    switch (outcome) {
    case PostOutcome::Posted: return QStringLiteral("posted");
    case PostOutcome::Duplicate: return QStringLiteral("duplicate");
    case PostOutcome::Conflict: return QStringLiteral("conflict");
    case PostOutcome::Invalid: return QStringLiteral("invalid");
    case PostOutcome::UnknownAccount: return QStringLiteral("unknown_account");
    case PostOutcome::InsufficientFunds: return QStringLiteral("insufficient_funds");
    case PostOutcome::NotReversible: return QStringLiteral("not_reversible");
    case PostOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    PREPAY_CHECK(false);
    return {};
}

namespace {

void appendField(QByteArray &out, const char *name, const QByteArray &value)
{
    // name=<length>:<bytes>; — length-prefixed, so no value can forge a field boundary.
    out += name;
    out += '=';
    out += QByteArray::number(value.size());
    out += ':';
    out += value;
    out += ';';
}

void appendOptional(QByteArray &out, const char *name, const std::optional<qint64> &value)
{
    appendField(out, name, value ? QByteArray::number(*value) : QByteArray("-"));
}

QList<Posting> sortedPostings(QList<Posting> postings)
{
    std::sort(postings.begin(), postings.end(),
        [](const Posting &a, const Posting &b) { return a.ledgerAccountId < b.ledgerAccountId; });
    return postings;
}

PostResult result(PostOutcome outcome, QString message, qint64 entryId = 0)
{
    return PostResult{outcome, entryId, std::move(message)};
}

qsizetype characters(const QString &text)
{
    return text.toUcs4().size();
}

} // namespace

QByteArray canonicalContent(const EntryRequest &r)
{
    QByteArray out("prepay-ledger-entry-v1;");
    appendField(out, "kind", entryKindCode(r.kind).toUtf8());
    QByteArray legs;
    for (const Posting &p : sortedPostings(r.postings)) {
        legs += QByteArray::number(p.ledgerAccountId);
        legs += ':';
        legs += QByteArray::number(p.amount.fen());
        legs += ',';
    }
    appendField(out, "postings", legs);
    appendOptional(out, "payment_attempt", r.paymentAttemptId);
    appendOptional(out, "charge_interval", r.chargeIntervalId);
    appendOptional(out, "refund", r.refundId);
    appendOptional(out, "reverses", r.reversesEntryId);
    appendOptional(out, "operator", r.operatorId);
    appendOptional(out, "approval", r.approvalId);
    appendField(out, "reason", r.reason.toUtf8());
    return out;
}

namespace {

// SHA-256 through OpenSSL with a digest and context kept per thread: a fifth of the cost of a
// one-shot hash (one per ledger entry, 10,000 in a poll batch).
class Sha256
{
public:
    Sha256()
        : m_md(EVP_MD_fetch(nullptr, "SHA256", nullptr))
        , m_ctx(EVP_MD_CTX_new())
    {
        PREPAY_CHECK(m_md && m_ctx);
    }
    ~Sha256()
    {
        EVP_MD_CTX_free(m_ctx);
        EVP_MD_free(m_md);
    }
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    QByteArray operator()(const QByteArray &data)
    {
        QByteArray out(32, Qt::Uninitialized);
        unsigned int length = 0;
        const bool ok = EVP_DigestInit_ex(m_ctx, m_md, nullptr) == 1
            && EVP_DigestUpdate(m_ctx, data.constData(), size_t(data.size())) == 1
            && EVP_DigestFinal_ex(m_ctx, reinterpret_cast<unsigned char *>(out.data()), &length) == 1;
        PREPAY_CHECK(ok && length == 32);
        return out;
    }

private:
    EVP_MD *m_md;
    EVP_MD_CTX *m_ctx;
};

} // namespace

QByteArray requestHash(const EntryRequest &request)
{
    thread_local Sha256 sha256;
    return sha256(canonicalContent(request));
}

struct LedgerWriter::Impl
{
    store::Transaction &tx;
    const qint64 nowMs;
    std::optional<Statement> findKey, insertEntry, insertPosting, updateBalance, accountInfo, walletOfAccount,
        entryPostings, entryInfo, reversedBy, insertWallet;
    // What this writer has already seen exist, kept for its life (one transaction): the kind of
    // ledger accounts and the wallet of tenant accounts. Both stay true until the transaction
    // ends: a ledger account is never deleted and never changes its kind or tenant (the schema's
    // triggers), and nothing here rolls back to a savepoint. Balances are never kept: a check
    // that needs one reads it.
    QHash<qint64, QString> kinds;     // ledger account id → kind
    QHash<qint64, qint64> wallets;    // tenant account id → its wallet's ledger account id

    Statement &prepared(std::optional<Statement> &slot, const char *sql)
    {
        if (!slot)
            slot.emplace(tx.prepare(QString::fromUtf8(sql)));
        return *slot;
    }

    PostResult storeFailed(const SqlError &error)
    {
        qCWarning(lcLedger, "ledger write failed: %s", qUtf8Printable(error.toString()));
        tx.fail(error);
        return result(PostOutcome::StoreFailed, error.toString());
    }

    struct AccountInfo
    {
        QString kind;
        Money balance;
    };
    std::optional<AccountInfo> info(qint64 ledgerAccountId, SqlError *error)
    {
        Statement &s = prepared(accountInfo, "SELECT kind, balance_fen FROM ledger_accounts WHERE id = ?1");
        s.bind(1, ledgerAccountId);
        std::optional<AccountInfo> found;
        const Statement::Step step = s.step();
        if (step == Statement::Step::Row) {
            found = AccountInfo{s.text(0), Money::fromFen(s.int64(1))};
            kinds.insert(ledgerAccountId, found->kind);
        }
        else if (step == Statement::Step::Error)
            *error = s.error();
        s.reset();
        return found;
    }

    QString ruleProblem(const EntryRequest &r) const
    {
        if (r.idempotencyKey.isEmpty() || characters(r.idempotencyKey) > 255)
            return QStringLiteral("idempotencyKey: must be 1..255 characters");
        if (r.postings.size() < 2)
            return QStringLiteral("postings: an entry needs at least two postings");
        qint64 sum = 0;
        QList<qint64> seen;
        for (qsizetype i = 0; i < r.postings.size(); ++i) {
            const Posting &p = r.postings.at(i);
            if (p.amount == Money::zero())
                return QStringLiteral("postings[%1].amount: must not be 0").arg(i);
            if (seen.contains(p.ledgerAccountId))
                return QStringLiteral("postings[%1]: account %2 appears twice").arg(i).arg(p.ledgerAccountId);
            seen.append(p.ledgerAccountId);
            sum = checked::add(sum, p.amount.fen());
        }
        if (sum != 0)
            return QStringLiteral("postings: debits and credits differ by %1 fen").arg(sum);
        switch (r.kind) {
        case EntryKind::Recharge:
            if (!r.paymentAttemptId)
                return QStringLiteral("paymentAttemptId: a recharge credits one payment attempt");
            break;
        case EntryKind::Charge:
            if (!r.chargeIntervalId)
                return QStringLiteral("chargeIntervalId: a charge traces to one charge interval");
            break;
        case EntryKind::Refund:
            if (!r.refundId)
                return QStringLiteral("refundId: a refund belongs to a refunds row");
            break;
        case EntryKind::Reversal:
            if (!r.reversesEntryId)
                return QStringLiteral("reversesEntryId: a reversal names the entry it undoes");
            if (r.reason.trimmed().isEmpty())
                return QStringLiteral("reason: a reversal needs a reason");
            break;
        case EntryKind::Transfer:
        case EntryKind::Adjustment:
            if (!r.operatorId)
                return QStringLiteral("operatorId: %1 is a staff action").arg(entryKindCode(r.kind));
            if (r.reason.trimmed().isEmpty())
                return QStringLiteral("reason: %1 needs a reason").arg(entryKindCode(r.kind));
            break;
        }
        if (r.kind != EntryKind::Reversal && r.reversesEntryId)
            return QStringLiteral("reversesEntryId: only a reversal names a reversed entry");
        return {};
    }
};

LedgerWriter::LedgerWriter(store::Transaction &tx, qint64 nowMs)
    : m_impl(std::make_unique<Impl>(Impl{tx, nowMs, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}}))
{ }

LedgerWriter::~LedgerWriter() = default;

store::Transaction &LedgerWriter::transaction()
{
    return m_impl->tx;
}

PostResult LedgerWriter::post(const EntryRequest &r)
{
    Impl &d = *m_impl;
    if (const QString problem = d.ruleProblem(r); !problem.isEmpty())
        return result(PostOutcome::Invalid, problem);

    const QByteArray hash = requestHash(r);
    // The key, and the links one entry may hold at most once (the schema's UNIQUE indexes,
    // checked first so the caller gets a named outcome rather than a constraint error), in one
    // read through the three indexes.
    {
        Statement &s = d.prepared(d.findKey,
            "SELECT id, request_hash, idempotency_key = ?1 FROM ledger_entries WHERE idempotency_key = ?1 "
            "OR (kind = 'recharge' AND payment_attempt_id = ?2) OR charge_interval_id = ?3");
        s.bind(1, r.idempotencyKey);
        if (r.kind == EntryKind::Recharge)
            s.bind(2, *r.paymentAttemptId);
        else
            s.bindNull(2);
        if (r.chargeIntervalId)
            s.bind(3, *r.chargeIntervalId);
        else
            s.bindNull(3);
        // At most three rows (one per unique index); the key's own entry decides when present.
        qint64 keyEntry = 0, linkEntry = 0;
        bool sameContent = false;
        Statement::Step step;
        while ((step = s.step()) == Statement::Step::Row) {
            if (s.int64(2) != 0) {
                keyEntry = s.int64(0);
                sameContent = s.blob(1) == hash;
            } else if (linkEntry == 0) {
                linkEntry = s.int64(0);
            }
        }
        const SqlError e = s.error();
        s.reset();
        if (step == Statement::Step::Error)
            return d.storeFailed(e);
        if (keyEntry != 0 && sameContent)
            return result(PostOutcome::Duplicate, QStringLiteral("entry %1 already posted with this key").arg(keyEntry),
                keyEntry);
        if (keyEntry != 0)
            return result(PostOutcome::Conflict,
                QStringLiteral("idempotency key %1 was used for entry %2 with other content")
                    .arg(r.idempotencyKey)
                    .arg(keyEntry),
                keyEntry);
        if (linkEntry != 0)
            return result(PostOutcome::Conflict,
                r.kind == EntryKind::Recharge
                    ? QStringLiteral("payment attempt %1 is already credited by entry %2")
                          .arg(*r.paymentAttemptId)
                          .arg(linkEntry)
                    : QStringLiteral("charge interval %1 is already charged by entry %2")
                          .arg(*r.chargeIntervalId)
                          .arg(linkEntry),
                linkEntry);
    }

    if (r.kind == EntryKind::Reversal) {
        Statement &target = d.prepared(d.entryInfo, "SELECT kind FROM ledger_entries WHERE id = ?1");
        target.bind(1, *r.reversesEntryId);
        const Statement::Step step = target.step();
        const QString kind = step == Statement::Step::Row ? target.text(0) : QString();
        const SqlError e = target.error();
        target.reset();
        if (step == Statement::Step::Error)
            return d.storeFailed(e);
        if (step != Statement::Step::Row)
            return result(PostOutcome::NotReversible, QStringLiteral("entry %1 does not exist").arg(*r.reversesEntryId));
        if (kind == entryKindCode(EntryKind::Reversal))
            return result(PostOutcome::NotReversible,
                QStringLiteral("entry %1 is itself a reversal; post the original again instead").arg(*r.reversesEntryId));
        Statement &by = d.prepared(d.reversedBy, "SELECT id FROM ledger_entries WHERE reverses_entry_id = ?1");
        by.bind(1, *r.reversesEntryId);
        const Statement::Step byStep = by.step();
        const qint64 reversal = byStep == Statement::Step::Row ? by.int64(0) : 0;
        const SqlError byError = by.error();
        by.reset();
        if (byStep == Statement::Step::Error)
            return d.storeFailed(byError);
        if (reversal != 0)
            return result(PostOutcome::NotReversible,
                QStringLiteral("entry %1 is already reversed by entry %2").arg(*r.reversesEntryId).arg(reversal));
    }

    // Accounts exist; debited wallets keep their funds (charges excepted, see the header).
    for (const Posting &p : r.postings) {
        const bool mayOverdraw = r.kind == EntryKind::Charge || r.overdraftApproved;
        // An account this writer already saw exist still does, with the same kind (Impl::kinds);
        // only a debit of a wallet that may not be overdrawn needs the balance as it is now.
        if (const auto known = d.kinds.constFind(p.ledgerAccountId); known != d.kinds.cend()) {
            const bool needsBalance
                = *known == QLatin1StringView("wallet") && p.amount < Money::zero() && !mayOverdraw;
            if (!needsBalance)
                continue;
        }
        SqlError error;
        const std::optional<Impl::AccountInfo> account = d.info(p.ledgerAccountId, &error);
        if (!error.ok())
            return d.storeFailed(error);
        if (!account)
            return result(PostOutcome::UnknownAccount, QStringLiteral("no ledger account %1").arg(p.ledgerAccountId));
        if (account->kind == QLatin1StringView("wallet") && p.amount < Money::zero() && !mayOverdraw
            && account->balance + p.amount < Money::zero()) {
            return result(PostOutcome::InsufficientFunds,
                QStringLiteral("wallet %1 holds %2 yuan; taking %3 yuan would leave it below zero")
                    .arg(p.ledgerAccountId)
                    .arg(account->balance.toDecimalString(), (-p.amount).toDecimalString()));
        }
    }

    Statement &entry = d.prepared(d.insertEntry,
        "INSERT INTO ledger_entries (kind, idempotency_key, request_hash, reverses_entry_id, payment_attempt_id, "
        "charge_interval_id, refund_id, operator_id, approval_id, reason, created_at_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    auto bindOptional = [&entry](int index, const std::optional<qint64> &value) {
        if (value)
            entry.bind(index, *value);
        else
            entry.bindNull(index);
    };
    entry.bind(1, entryKindCode(r.kind)).bind(2, r.idempotencyKey).bind(3, hash);
    bindOptional(4, r.reversesEntryId);
    bindOptional(5, r.paymentAttemptId);
    bindOptional(6, r.chargeIntervalId);
    bindOptional(7, r.refundId);
    bindOptional(8, r.operatorId);
    bindOptional(9, r.approvalId);
    if (r.reason.isEmpty())
        entry.bindNull(10);
    else
        entry.bind(10, r.reason);
    entry.bind(11, d.nowMs);
    if (const SqlError e = entry.run(); !e.ok())
        return d.storeFailed(e);
    const qint64 entryId = d.tx.db().lastInsertRowId();

    Statement &posting = d.prepared(d.insertPosting,
        "INSERT INTO ledger_postings (entry_id, ledger_account_id, amount_fen) VALUES (?1, ?2, ?3)");
    Statement &balance = d.prepared(d.updateBalance,
        "UPDATE ledger_accounts SET balance_fen = balance_fen + ?2, updated_at_ms = ?3 WHERE id = ?1");
    for (const Posting &p : r.postings) {
        posting.bind(1, entryId).bind(2, p.ledgerAccountId).bind(3, p.amount.fen());
        if (const SqlError e = posting.run(); !e.ok())
            return d.storeFailed(e);
        balance.bind(1, p.ledgerAccountId).bind(2, p.amount.fen()).bind(3, d.nowMs);
        if (const SqlError e = balance.run(); !e.ok())
            return d.storeFailed(e);
    }
    return result(PostOutcome::Posted, {}, entryId);
}

namespace {

PostResult noWallet(qint64 accountId)
{
    return result(PostOutcome::UnknownAccount, QStringLiteral("account %1 has no wallet").arg(accountId));
}

} // namespace

PostResult LedgerWriter::recharge(qint64 accountId, Channel channel, qint64 paymentAttemptId, Money amount)
{
    const std::optional<qint64> wallet = walletOf(accountId);
    if (!wallet)
        return noWallet(accountId);
    if (amount <= Money::zero())
        return result(PostOutcome::Invalid, QStringLiteral("amount: a recharge is more than 0"));
    EntryRequest r;
    r.kind = EntryKind::Recharge;
    r.idempotencyKey = QStringLiteral("recharge:attempt:%1").arg(paymentAttemptId);
    r.postings = {{clearingAccount(channel), -amount}, {*wallet, amount}};
    r.paymentAttemptId = paymentAttemptId;
    return post(r);
}

PostResult LedgerWriter::charge(qint64 accountId, qint64 chargeIntervalId, Money amount)
{
    const std::optional<qint64> wallet = walletOf(accountId);
    if (!wallet)
        return noWallet(accountId);
    if (amount <= Money::zero())
        return result(PostOutcome::Invalid, QStringLiteral("amount: a charge is more than 0"));
    EntryRequest r;
    r.kind = EntryKind::Charge;
    r.idempotencyKey = QStringLiteral("charge:interval:%1").arg(chargeIntervalId);
    r.postings = {{*wallet, -amount}, {account::Revenue, amount}};
    r.chargeIntervalId = chargeIntervalId;
    return post(r);
}

PostResult LedgerWriter::reverse(qint64 entryId, const QString &idempotencyKey, const QString &reason,
    std::optional<qint64> operatorId, std::optional<qint64> approvalId, bool overdraftApproved)
{
    Impl &d = *m_impl;
    EntryRequest r;
    r.kind = EntryKind::Reversal;
    r.idempotencyKey = idempotencyKey;
    r.reversesEntryId = entryId;
    r.operatorId = operatorId;
    r.approvalId = approvalId;
    r.reason = reason;
    r.overdraftApproved = overdraftApproved;
    Statement &s = d.prepared(d.entryPostings,
        "SELECT ledger_account_id, amount_fen FROM ledger_postings WHERE entry_id = ?1 ORDER BY id");
    s.bind(1, entryId);
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row)
        r.postings.append({s.int64(0), -Money::fromFen(s.int64(1))});
    const SqlError e = s.error();
    s.reset();
    if (step == Statement::Step::Error)
        return d.storeFailed(e);
    if (r.postings.isEmpty())
        return result(PostOutcome::NotReversible, QStringLiteral("entry %1 does not exist").arg(entryId));
    return post(r);
}

PostResult LedgerWriter::transfer(qint64 fromAccountId, qint64 toAccountId, Money amount,
    const QString &idempotencyKey, qint64 operatorId, const QString &reason, std::optional<qint64> approvalId)
{
    const std::optional<qint64> from = walletOf(fromAccountId);
    if (!from)
        return noWallet(fromAccountId);
    const std::optional<qint64> to = walletOf(toAccountId);
    if (!to)
        return noWallet(toAccountId);
    if (amount <= Money::zero())
        return result(PostOutcome::Invalid, QStringLiteral("amount: a transfer is more than 0"));
    EntryRequest r;
    r.kind = EntryKind::Transfer;
    r.idempotencyKey = idempotencyKey;
    r.postings = {{*from, -amount}, {*to, amount}};
    r.operatorId = operatorId;
    r.approvalId = approvalId;
    r.reason = reason;
    return post(r);
}

PostResult LedgerWriter::adjust(qint64 accountId, Money amount, const QString &idempotencyKey, qint64 operatorId,
    const QString &reason, std::optional<qint64> approvalId)
{
    const std::optional<qint64> wallet = walletOf(accountId);
    if (!wallet)
        return noWallet(accountId);
    EntryRequest r;
    r.kind = EntryKind::Adjustment;
    r.idempotencyKey = idempotencyKey;
    r.postings = {{account::Adjustments, -amount}, {*wallet, amount}};
    r.operatorId = operatorId;
    r.approvalId = approvalId;
    r.reason = reason;
    return post(r);
}

PostResult LedgerWriter::refundRequested(qint64 accountId, qint64 refundId, Money amount)
{
    const std::optional<qint64> wallet = walletOf(accountId);
    if (!wallet)
        return noWallet(accountId);
    if (amount <= Money::zero())
        return result(PostOutcome::Invalid, QStringLiteral("amount: a refund is more than 0"));
    EntryRequest r;
    r.kind = EntryKind::Refund;
    r.idempotencyKey = QStringLiteral("refund:%1:request").arg(refundId);
    r.postings = {{*wallet, -amount}, {account::RefundsPayable, amount}};
    r.refundId = refundId;
    return post(r);
}

PostResult LedgerWriter::refundPaid(qint64 refundId, Channel channel, Money amount)
{
    if (amount <= Money::zero())
        return result(PostOutcome::Invalid, QStringLiteral("amount: a refund is more than 0"));
    EntryRequest r;
    r.kind = EntryKind::Refund;
    r.idempotencyKey = QStringLiteral("refund:%1:paid").arg(refundId);
    r.postings = {{account::RefundsPayable, -amount}, {clearingAccount(channel), amount}};
    r.refundId = refundId;
    return post(r);
}

std::optional<qint64> LedgerWriter::walletOf(qint64 accountId)
{
    Impl &d = *m_impl;
    if (const auto known = d.wallets.constFind(accountId); known != d.wallets.cend())
        return *known;
    Statement &s = d.prepared(d.walletOfAccount, "SELECT id FROM ledger_accounts WHERE account_id = ?1");
    s.bind(1, accountId);
    std::optional<qint64> id;
    if (s.step() == Statement::Step::Row)
        id = s.int64(0);
    s.reset();
    // Only a wallet found is kept: one created later in this transaction is then found too.
    if (id) {
        d.wallets.insert(accountId, *id);
        d.kinds.insert(*id, QStringLiteral("wallet")); // account_id is set on wallets only (schema CHECK)
    }
    return id;
}

qint64 LedgerWriter::ensureWallet(qint64 accountId, const QString &name)
{
    if (const std::optional<qint64> existing = walletOf(accountId))
        return *existing;
    Impl &d = *m_impl;
    Statement &s = d.prepared(d.insertWallet,
        "INSERT INTO ledger_accounts (code, kind, account_id, name, balance_fen, created_at_ms, updated_at_ms) "
        "VALUES ('wallet:' || ?1, 'wallet', ?1, ?2, 0, ?3, ?3)");
    s.bind(1, accountId).bind(2, name).bind(3, d.nowMs);
    if (const SqlError e = s.run(); !e.ok()) {
        d.storeFailed(e);
        return 0;
    }
    return d.tx.db().lastInsertRowId();
}

std::optional<Money> LedgerWriter::balance(qint64 ledgerAccountId)
{
    SqlError error;
    const std::optional<Impl::AccountInfo> found = m_impl->info(ledgerAccountId, &error);
    if (!found)
        return std::nullopt;
    return found->balance;
}

std::optional<Money> LedgerWriter::walletBalance(qint64 accountId)
{
    const std::optional<qint64> wallet = walletOf(accountId);
    if (!wallet)
        return std::nullopt;
    return balance(*wallet);
}

std::optional<Money> walletBalance(store::Connection &db, qint64 accountId)
{
    Statement s = db.prepare(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE account_id = ?1"));
    s.bind(1, accountId);
    if (s.step() != Statement::Step::Row)
        return std::nullopt;
    return Money::fromFen(s.int64(0));
}

} // namespace prepay::ledger
