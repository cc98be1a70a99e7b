// What the lobby kiosk's tenant screens need besides the directory feed (issue 8):
//  - kiosk.profile: the kiosk's name, its building's name, the office phone, the QR channels this
//    prepayd takes, the top-up limits and whether tenants must enter their PIN;
//  - account.set_pin (staff, audited without the PIN) and kiosk.check_pin: the tenant's 4–6
//    digit PIN, stored as a PBKDF2 hash (accounts/pin.h), computed off the event loop under the
//    hash limiter; kiosk.pin_failures_max wrong PINs in a row lock the account's PIN for
//    kiosk.pin_lockout_ms, counted here on the server (never on the kiosk);
//  - kiosk.recharges: a shop's last 10 credited recharges (QR and cash) for the History screen;
//  - kiosk.report: one event of the kiosk's outbox (receipt printed or failed, printer state,
//    heartbeat), idempotent by its UUID so the outbox may send it again after a lost answer.
//    printer_state and heartbeat also update the kiosk's health as kiosk.report_health does;
//    heartbeats are not stored as events (one a minute per kiosk would only grow the table).
// A kiosk of one building sees that building's tenants only: another building's shop is
// not_found, as if it did not exist.
#include "accounts/pin.h"
#include "api/clock.h"
#include "audit/audit.h"
#include "payments/attempts.h"
#include "payments/paymentservice.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"
#include "staff/hashlimiter.h"
#include "store/settings.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QPointer>

#include <memory>

namespace prepay::service {

namespace {

constexpr int kRechargesShown = 10;
constexpr qint64 kPinFailuresMaxDefault = 5;
constexpr qint64 kPinLockoutMsDefault = 15 * 60 * 1000;

QString setting(store::Connection &db, const QString &key, const QString &fallback)
{
    store::Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    return s.step() == store::Statement::Step::Row ? s.text(0) : fallback;
}

// The live account (not closed) of a shop number that this caller may see: nullopt when there is
// none (or it belongs to another building than the kiosk's).
std::optional<qint64> visibleAccount(store::Connection &db, const Call &call, const QString &shopNo)
{
    store::Statement s = db.prepare(QStringLiteral(
        "SELECT a.id FROM accounts a WHERE a.shop_no = ?1 AND a.status <> 'closed' AND (?2 IS NULL OR EXISTS ("
        " SELECT 1 FROM account_metering_points ap JOIN metering_points mp ON mp.id = ap.metering_point_id "
        " WHERE ap.account_id = a.id AND mp.building_id = ?2)) "
        "AND (?3 IS NULL OR NOT EXISTS (SELECT 1 FROM operator_buildings ob WHERE ob.operator_id = ?3) OR EXISTS ("
        " SELECT 1 FROM account_metering_points ap JOIN metering_points mp ON mp.id = ap.metering_point_id "
        " JOIN operator_buildings ob ON ob.building_id = mp.building_id AND ob.operator_id = ?3 "
        " WHERE ap.account_id = a.id))"));
    s.bind(1, shopNo);
    const std::optional<qint64> building
        = call.principal == rpc::Principal::Kiosk && call.client ? call.client->kioskBuildingId : std::nullopt;
    building ? s.bind(2, *building) : s.bindNull(2);
    // A staff member limited to some buildings (operator_buildings) sees only their tenants.
    call.client &&call.client->staff ? s.bind(3, call.client->staff->operatorId) : s.bindNull(3);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    return s.int64(0);
}

void failUnknownShop(const CallPtr &call, const QString &shopNo)
{
    call->fail(rpc::ErrorCode::NotFound, QStringLiteral("no open account for shop %1").arg(shopNo),
        QJsonObject{{QStringLiteral("field"), QStringLiteral("params.shop_no")}});
}

// ---- kiosk.profile --------------------------------------------------------------------------------

void profile(ServiceContext &context, const CallPtr &call)
{
    store::Connection &db = context.reader;
    QString buildingName = setting(db, QStringLiteral("site.name"), QStringLiteral("prepay"));
    QString officePhone = setting(db, QStringLiteral("kiosk.office_phone"), QString());
    bool pinRequired = setting(db, QStringLiteral("kiosk.pin_required"), QStringLiteral("0")) == u"1";
    if (call->client && call->client->kioskBuildingId) {
        store::Statement b
            = db.prepare(QStringLiteral("SELECT name, office_phone, kiosk_pin_required FROM buildings WHERE id = ?1"));
        b.bind(1, *call->client->kioskBuildingId);
        if (b.step() == store::Statement::Step::Row) {
            buildingName = b.text(0);
            if (!b.isNull(1))
                officePhone = b.text(1);
            if (!b.isNull(2))
                pinRequired = b.int64(2) != 0;
        }
    }
    QJsonArray channels;
    if (context.payments) {
        for (const payments::Channel c :
            {payments::Channel::Alipay, payments::Channel::WeChat, payments::Channel::UnionPay}) {
            if (context.payments->provider(c))
                channels.append(payments::channelCode(c));
        }
    }
    const payments::TopUpLimits limits = payments::readTopUpLimits(db);
    call->reply(QJsonObject{{QStringLiteral("kiosk_name"), call->client ? call->client->kioskName : QString()},
        {QStringLiteral("building_name"), buildingName}, {QStringLiteral("office_phone"), officePhone},
        {QStringLiteral("channels"), channels}, {QStringLiteral("topup_min_fen"), limits.minFen},
        {QStringLiteral("topup_max_fen"), limits.maxFen}, {QStringLiteral("pin_required"), pinRequired}});
}

// ---- account.set_pin ------------------------------------------------------------------------------

void setPin(ServiceContext &context, const CallPtr &call)
{
    const QString shopNo = call->params().value(QLatin1String("shop_no")).toString();
    const QJsonValue pinValue = call->params().value(QLatin1String("pin"));
    const std::optional<qint64> accountId = visibleAccount(context.reader, *call, shopNo);
    if (!accountId) {
        failUnknownShop(call, shopNo);
        return;
    }
    audit::Entry entry = auditEntry(
        context, *call, QStringLiteral("account.set_pin"), QStringLiteral("account"), QString::number(*accountId));
    const auto write = [&context, call, entry, id = *accountId, shopNo](std::optional<accounts::PinHash> hash) {
        const qint64 nowMs = context.clock.wallMs();
        context.write(
            [id, shopNo, hash, entry, nowMs](store::Transaction &tx) mutable {
                store::Statement before = tx.prepare(
                    QStringLiteral("SELECT pin_hash IS NOT NULL FROM accounts WHERE id = ?1 AND status <> 'closed'"));
                before.bind(1, id);
                if (before.step() != store::Statement::Step::Row)
                    return JobOutcome::refuse(
                        tx, rpc::ErrorCode::NotFound, QStringLiteral("no open account for shop %1").arg(shopNo));
                const bool wasSet = before.int64(0) != 0;
                store::Statement u = tx.prepare(QStringLiteral(
                    "UPDATE accounts SET pin_hash = ?2, pin_salt = ?3, pin_params = ?4, pin_failed_attempts = 0, "
                    "pin_locked_until_ms = NULL WHERE id = ?1"));
                u.bind(1, id);
                if (hash)
                    u.bind(2, hash->hash).bind(3, hash->salt).bind(4, hash->params);
                else
                    u.bindNull(2).bindNull(3).bindNull(4);
                if (const store::SqlError e = u.run(); !e.ok()) {
                    tx.fail(e);
                    return JobOutcome();
                }
                // Whether a PIN is set, never the PIN or its hash.
                entry.atMs = nowMs;
                entry.beforeJson = compact(QJsonObject{{QStringLiteral("pin_set"), wasSet}});
                entry.afterJson = compact(QJsonObject{{QStringLiteral("pin_set"), bool(hash)}});
                audit::append(tx, entry);
                return JobOutcome::ok(QJsonObject{{QStringLiteral("account_id"), id},
                    {QStringLiteral("shop_no"), shopNo}, {QStringLiteral("pin_set"), bool(hash)}});
            },
            [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
    };
    if (pinValue.isNull()) {
        write(std::nullopt);
        return;
    }
    auto result = std::make_shared<std::optional<accounts::PinHash>>();
    auto problem = std::make_shared<QString>();
    const auto admission = context.hashes.submit(
        [pin = pinValue.toString(), result, problem] { *result = accounts::hashPin(pin, problem.get()); }, context.loop,
        [call, result, problem, write]() mutable {
            if (!*result) {
                failInternal(call, *problem);
                return;
            }
            write(*result);
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

// ---- kiosk.check_pin ------------------------------------------------------------------------------

struct PinState
{
    std::optional<accounts::PinHash> stored; // none: the account has no PIN
    std::optional<qint64> lockedUntilMs;
};

std::optional<PinState> readPinState(store::Connection &db, qint64 accountId)
{
    store::Statement s = db.prepare(
        QStringLiteral("SELECT pin_hash, pin_salt, pin_params, pin_locked_until_ms FROM accounts WHERE id = ?1"));
    s.bind(1, accountId);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    PinState state;
    if (!s.isNull(0))
        state.stored = accounts::PinHash{s.blob(0), s.blob(1), s.text(2)};
    if (!s.isNull(3))
        state.lockedUntilMs = s.int64(3);
    return state;
}

JobOutcome lockedOutcome(qint64 untilMs)
{
    JobOutcome out;
    rpc::Error e;
    e.code = rpc::ErrorCode::Locked;
    e.message = QStringLiteral("too many wrong PINs: try again later");
    e.data = QJsonObject{{QStringLiteral("locked_until_ms"), untilMs}};
    out.error = e;
    return out;
}

void checkPin(ServiceContext &context, const CallPtr &call)
{
    const QString shopNo = call->params().value(QLatin1String("shop_no")).toString();
    const QString pin = call->params().value(QLatin1String("pin")).toString();
    const std::optional<qint64> accountId = visibleAccount(context.reader, *call, shopNo);
    if (!accountId) {
        failUnknownShop(call, shopNo);
        return;
    }
    const std::optional<PinState> state = readPinState(context.reader, *accountId);
    if (!state) {
        failUnknownShop(call, shopNo);
        return;
    }
    const qint64 nowMs = context.clock.wallMs();
    if (state->lockedUntilMs && *state->lockedUntilMs > nowMs) {
        const JobOutcome locked = lockedOutcome(*state->lockedUntilMs);
        call->fail(locked.error->code, locked.error->message, locked.error->data);
        return;
    }
    if (!state->stored) {
        // Nothing to check: the tenant has no PIN (the kiosk asks for none).
        call->reply(QJsonObject{{QStringLiteral("ok"), true}, {QStringLiteral("pin_set"), false}});
        return;
    }
    qint64 failuresMax = kPinFailuresMaxDefault;
    qint64 lockoutMs = kPinLockoutMsDefault;
    QString ignored;
    store::readIntSetting(context.reader, QStringLiteral("kiosk.pin_failures_max"), 1, 100, &failuresMax, &ignored);
    store::readIntSetting(
        context.reader, QStringLiteral("kiosk.pin_lockout_ms"), 1000, 7 * 86'400'000LL, &lockoutMs, &ignored);

    auto matched = std::make_shared<bool>(false);
    const auto admission = context.hashes.submit(
        [pin, stored = *state->stored, matched] { *matched = accounts::verifyPin(pin, stored); }, context.loop,
        [&context, call, matched, id = *accountId, failuresMax, lockoutMs] {
            const qint64 now = context.clock.wallMs();
            const bool ok = *matched;
            context.write(
                [id, ok, now, failuresMax, lockoutMs](store::Transaction &tx) {
                    store::Statement s = tx.prepare(
                        QStringLiteral("SELECT pin_failed_attempts, pin_locked_until_ms FROM accounts WHERE id = ?1"));
                    s.bind(1, id);
                    if (s.step() != store::Statement::Step::Row)
                        return JobOutcome::refuse(tx, rpc::ErrorCode::NotFound, QStringLiteral("no such account"));
                    // Another kiosk may have locked it while this PIN was being hashed.
                    if (!s.isNull(1) && s.int64(1) > now)
                        return lockedOutcome(s.int64(1));
                    const qint64 failures = ok ? 0 : s.int64(0) + 1;
                    const bool lock = failures >= failuresMax;
                    store::Statement u = tx.prepare(QStringLiteral(
                        "UPDATE accounts SET pin_failed_attempts = ?2, pin_locked_until_ms = ?3 WHERE id = ?1"));
                    u.bind(1, id).bind(2, lock ? 0 : failures);
                    lock ? u.bind(3, now + lockoutMs) : u.bindNull(3);
                    if (const store::SqlError e = u.run(); !e.ok()) {
                        tx.fail(e);
                        return JobOutcome();
                    }
                    if (ok)
                        return JobOutcome::ok(
                            QJsonObject{{QStringLiteral("ok"), true}, {QStringLiteral("pin_set"), true}});
                    if (lock)
                        return lockedOutcome(now + lockoutMs); // committed: the lock is kept
                    JobOutcome wrong;
                    rpc::Error e;
                    e.code = rpc::ErrorCode::WrongPin;
                    e.message = QStringLiteral("wrong PIN");
                    e.data = QJsonObject{{QStringLiteral("attempts_left"), failuresMax - failures}};
                    wrong.error = e;
                    return wrong; // committed: the failure is counted
                },
                [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
        });
    if (admission != staff::HashLimiter::Admission::Accepted)
        failBusy(call);
}

// ---- kiosk.recharges ------------------------------------------------------------------------------

void recharges(ServiceContext &context, const CallPtr &call)
{
    const QString shopNo = call->params().value(QLatin1String("shop_no")).toString();
    const std::optional<qint64> accountId = visibleAccount(context.reader, *call, shopNo);
    if (!accountId) {
        failUnknownShop(call, shopNo);
        return;
    }
    store::Statement s = context.reader.prepare(
        QStringLiteral("SELECT pa.out_trade_no, pa.channel, pa.amount_fen, pa.paid_at_ms, pa.late, pa.state "
                       "FROM topup_orders o JOIN payment_attempts pa ON pa.order_id = o.id "
                       "WHERE o.account_id = ?1 AND pa.state IN ('credited', 'partially_refunded', 'refunded') "
                       "ORDER BY pa.paid_at_ms DESC, pa.id DESC LIMIT ?2"));
    s.bind(1, *accountId).bind(2, kRechargesShown);
    QJsonArray list;
    store::Statement::Step step;
    while ((step = s.step()) == store::Statement::Step::Row) {
        list.append(QJsonObject{{QStringLiteral("receipt_no"), s.text(0)}, {QStringLiteral("channel"), s.text(1)},
            {QStringLiteral("amount_fen"), s.int64(2)}, {QStringLiteral("at_ms"), s.int64(3)},
            {QStringLiteral("late"), s.int64(4) != 0}, {QStringLiteral("state"), s.text(5)}});
    }
    if (step == store::Statement::Step::Error) {
        failInternal(call, s.error().toString());
        return;
    }
    call->reply(QJsonObject{{QStringLiteral("shop_no"), shopNo}, {QStringLiteral("recharges"), list}});
}

// ---- kiosk.report ---------------------------------------------------------------------------------

void report(ServiceContext &context, const CallPtr &call)
{
    const qint64 kioskId = *call->client->kioskId; // the dispatcher admits kiosks only
    const QJsonObject &p = call->params();
    const QString eventId = p.value(QLatin1String("event_id")).toString().toLower();
    const QString kind = p.value(QLatin1String("kind")).toString();
    const qint64 atMs = p.value(QLatin1String("at_ms")).toInteger();
    const QJsonObject fields = p.value(QLatin1String("fields")).toObject();
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [kioskId, eventId, kind, atMs, fields, nowMs, source = call->sourceAddress](store::Transaction &tx) {
            // printer_state and heartbeat: the kiosk's health, as kiosk.report_health keeps it.
            if (kind == u"printer_state" || kind == u"heartbeat") {
                QJsonObject health;
                store::Statement h = tx.prepare(QStringLiteral("SELECT health FROM kiosks WHERE id = ?1"));
                h.bind(1, kioskId);
                if (h.step() == store::Statement::Step::Row && !h.isNull(0))
                    health = QJsonDocument::fromJson(h.text(0).toUtf8()).object();
                for (const char *key : {"printer", "outbox_pending", "uptime_s"}) {
                    const QString k = QString::fromLatin1(key);
                    if (fields.contains(k))
                        health.insert(k, fields.value(k));
                }
                if (fields.contains(QStringLiteral("detail")))
                    health.insert(QStringLiteral("printer_detail"), fields.value(QStringLiteral("detail")));
                store::Statement u = tx.prepare(
                    QStringLiteral("UPDATE kiosks SET health = ?2, last_seen_ms = ?3, last_address = ?4, "
                                   "app_version = coalesce(?5, app_version) WHERE id = ?1 AND state = 'enrolled'"));
                u.bind(1, kioskId).bind(2, QString::fromUtf8(compact(health))).bind(3, nowMs).bind(4, source);
                const QString version = fields.value(QLatin1String("app_version")).toString();
                version.isEmpty() ? u.bindNull(5) : u.bind(5, version);
                if (const store::SqlError e = u.run(); !e.ok()) {
                    tx.fail(e);
                    return JobOutcome();
                }
            }
            if (kind == u"heartbeat")
                return JobOutcome::ok(QJsonObject{{QStringLiteral("event_id"), eventId},
                    {QStringLiteral("already"), false}, {QStringLiteral("stored"), false}});
            store::Statement i = tx.prepare(
                QStringLiteral("INSERT INTO kiosk_events (kiosk_id, event_id, kind, at_ms, fields, received_at_ms) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (event_id) DO NOTHING"));
            i.bind(1, kioskId)
                .bind(2, eventId)
                .bind(3, kind)
                .bind(4, atMs)
                .bind(5, QString::fromUtf8(compact(fields)))
                .bind(6, nowMs);
            if (const store::SqlError e = i.run(); !e.ok()) {
                tx.fail(e);
                return JobOutcome();
            }
            if (tx.db().changes() == 0) {
                // A repeat: the same kiosk's event again is acknowledged; another kiosk's id is not ours.
                store::Statement o
                    = tx.prepare(QStringLiteral("SELECT kiosk_id FROM kiosk_events WHERE event_id = ?1"));
                o.bind(1, eventId);
                if (o.step() == store::Statement::Step::Row && o.int64(0) != kioskId)
                    return JobOutcome::refuse(tx, rpc::ErrorCode::Conflict,
                        QStringLiteral("event_id %1 belongs to another kiosk's event").arg(eventId));
                return JobOutcome::ok(QJsonObject{{QStringLiteral("event_id"), eventId},
                    {QStringLiteral("already"), true}, {QStringLiteral("stored"), true}});
            }
            return JobOutcome::ok(QJsonObject{{QStringLiteral("event_id"), eventId}, {QStringLiteral("already"), false},
                {QStringLiteral("stored"), true}});
        },
        [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
}

} // namespace

void bindTenantMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("kiosk.profile"), [&context](const CallPtr &call) { profile(context, call); });
    dispatcher.bind(QStringLiteral("account.set_pin"), [&context](const CallPtr &call) { setPin(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.check_pin"), [&context](const CallPtr &call) { checkPin(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.recharges"), [&context](const CallPtr &call) { recharges(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.report"), [&context](const CallPtr &call) { report(context, call); });
}

} // namespace prepay::service
