#include "lifecycle.h"

#include "billing/biller.h"
#include "billing/tariff.h"
#include "commands/commandstore.h"
#include "control/controller.h"
#include "ledger/ledger.h"
#include "poller/pollplan.h"
#include "poller/validation.h"
#include "store/store.h"

#include <QtCore/QRegularExpression>
#include <QtCore/QSet>

namespace prepay::accounts {

using store::SqlError;
using store::Statement;

QString lifecycleOutcomeCode(LifecycleOutcome outcome)
{
    switch (outcome) {
    case LifecycleOutcome::Done: return QStringLiteral("done");
    case LifecycleOutcome::AlreadyDone: return QStringLiteral("already_done");
    case LifecycleOutcome::Invalid: return QStringLiteral("invalid");
    case LifecycleOutcome::NotFound: return QStringLiteral("not_found");
    case LifecycleOutcome::Conflict: return QStringLiteral("conflict");
    case LifecycleOutcome::InArrears: return QStringLiteral("in_arrears");
    case LifecycleOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("invalid");
}

quint32 replacementRechargeTxn(qint64 installationId)
{
    return 0x8000'0000u | quint32(installationId & 0x7fff'ffff);
}

namespace {

constexpr qint64 kWhPerRegisterUnit = 10;

// One business event: its transaction, its result, and the way out when something is refused.
class Event
{
public:
    explicit Event(store::Transaction &tx)
        : m_tx(tx)
    { }

    store::Transaction &tx() { return m_tx; }
    LifecycleResult result;
    bool failed() const { return m_failed; }

    // Refuses the request: nothing of the transaction is kept.
    LifecycleResult refuse(LifecycleOutcome outcome, const QString &message)
    {
        if (!m_failed) {
            m_failed = true;
            m_tx.rollback(message);
        }
        result.outcome = outcome;
        result.message = message;
        result.commandIds.clear();
        return result;
    }
    LifecycleResult storeFailed(const SqlError &error, const QString &what)
    {
        if (!m_failed) {
            m_failed = true;
            m_tx.fail(error);
        }
        result.outcome = LifecycleOutcome::StoreFailed;
        result.message = QStringLiteral("%1: %2").arg(what, error.toString());
        result.commandIds.clear();
        return result;
    }
    // A statement that returns no rows; false (and the transaction failed) on error.
    bool run(Statement &s, const QString &what)
    {
        if (const SqlError e = s.run(); !e.ok()) {
            storeFailed(e, what);
            return false;
        }
        return true;
    }

private:
    store::Transaction &m_tx;
    bool m_failed = false;
};

bool operatorExists(store::Transaction &tx, qint64 operatorId)
{
    Statement s = tx.prepare(QStringLiteral("SELECT 1 FROM operators WHERE id = ?1 AND disabled = 0"));
    s.bind(1, operatorId);
    return s.step() == Statement::Step::Row;
}

std::optional<qint64> pointIdByCode(store::Transaction &tx, const QString &code, bool *active)
{
    Statement s = tx.prepare(QStringLiteral("SELECT id, state = 'active' FROM metering_points WHERE code = ?1"));
    s.bind(1, code);
    if (s.step() != Statement::Step::Row)
        return std::nullopt;
    *active = s.int64(1) != 0;
    return s.int64(0);
}

// A register value a person typed: whole 0.01 kWh, not negative.
QString registerProblem(const QString &field, Energy e)
{
    if (e.wh() < 0)
        return QStringLiteral("%1: %2 kWh is negative").arg(field, e.toDecimalString());
    if (e.wh() % kWhPerRegisterUnit != 0)
        return QStringLiteral("%1: %2 kWh is finer than the meter's 0.01 kWh").arg(field, e.toDecimalString());
    if (e.wh() / kWhPerRegisterUnit > qint64(0xffff'ffff))
        return QStringLiteral("%1: %2 kWh is beyond the meter's register").arg(field, e.toDecimalString());
    return {};
}

QString registersProblem(const QString &field, const ManualRegisters &r)
{
    if (QString p = registerProblem(field + QStringLiteral(".total"), r.total); !p.isEmpty())
        return p;
    if (r.slots) {
        static const char *const names[] = {"sharp", "peak", "flat", "valley"};
        qint64 sum = 0;
        for (size_t i = 0; i < 4; ++i) {
            const QString name = field + QLatin1Char('.') + QLatin1StringView(names[i]);
            if (QString p = registerProblem(name, (*r.slots)[i]); !p.isEmpty())
                return p;
            sum += (*r.slots)[i].wh();
        }
        // Each register rounds on its own: the slots add up to the total within their rounding.
        if (std::abs(sum - r.total.wh()) > 4 * kWhPerRegisterUnit)
            return QStringLiteral("%1: the slots add up to %2 kWh, the total is %3 kWh")
                .arg(field, Energy::fromWh(sum).toDecimalString(), r.total.toDecimalString());
    }
    if (r.purchaseCount && (*r.purchaseCount < 0 || *r.purchaseCount > 65535))
        return QStringLiteral("%1.purchase_count: %2 is outside 0..65535").arg(field).arg(*r.purchaseCount);
    if (r.totalPurchased && *r.totalPurchased < Money::zero())
        return QStringLiteral("%1.total_purchased: must not be negative").arg(field);
    return {};
}

// The installed meter of a point, as a replacement or a final reading needs it.
struct Installed
{
    qint64 installationId = 0;
    qint64 pointId = 0;
    qint64 meterId = 0;
    quint32 serial = 0;
    QString model;
    QString deviceType;
    QString capability;
    bool hasTou = true;
    qint64 ratedCurrentMa = 0;
    qint64 maxCurrentMa = 0;
    qint64 busId = 0;
    qint64 unitId = 0;
};

std::optional<Installed> installedAt(store::Transaction &tx, qint64 pointId, SqlError *error)
{
    Statement s = tx.prepare(QStringLiteral(
        "SELECT i.id, m.id, m.serial_number, m.model, m.device_type, m.capability, m.has_tou_registers, "
        "m.rated_current_ma, m.max_current_ma, m.bus_id, m.unit_id FROM meter_installations i "
        "JOIN meters m ON m.id = i.meter_id WHERE i.metering_point_id = ?1 AND i.removed_at_ms IS NULL"));
    s.bind(1, pointId);
    const Statement::Step step = s.step();
    if (step == Statement::Step::Error)
        *error = s.error();
    if (step != Statement::Step::Row)
        return std::nullopt;
    Installed m;
    m.installationId = s.int64(0);
    m.pointId = pointId;
    m.meterId = s.int64(1);
    m.serial = quint32(s.int64(2));
    m.model = s.text(3);
    m.deviceType = s.text(4);
    m.capability = s.text(5);
    m.hasTou = s.int64(6) != 0;
    m.ratedCurrentMa = s.int64(7);
    m.maxCurrentMa = s.int64(8);
    m.busId = s.isNull(9) ? 0 : s.int64(9);
    m.unitId = s.isNull(10) ? 0 : s.int64(10);
    return m;
}

// The registers an installation ended (or stands) with: its last reading that came from its own
// meter, else its recorded initial registers.
struct LastRegisters
{
    std::optional<qint64> readingId;
    qint64 atMs = 0;
    qint64 totalWh = 0;
    std::optional<std::array<qint64, 4>> slotsWh;
    qint64 powerW = 0;
};

std::optional<LastRegisters> lastRegisters(store::Transaction &tx, qint64 installationId, SqlError *error)
{
    Statement s = tx.prepare(QStringLiteral(
        "SELECT id, taken_at_ms, energy_total_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, "
        "coalesce(power_w, 0) FROM readings WHERE installation_id = ?1 AND validation <> 'swap_held' "
        "ORDER BY taken_at_ms DESC, id DESC LIMIT 1"));
    s.bind(1, installationId);
    Statement::Step step = s.step();
    if (step == Statement::Step::Error) {
        *error = s.error();
        return std::nullopt;
    }
    auto slots = [&s](int first) -> std::optional<std::array<qint64, 4>> {
        std::array<qint64, 4> out{};
        for (int i = 0; i < 4; ++i) {
            if (s.isNull(first + i))
                return std::nullopt;
            out[size_t(i)] = s.int64(first + i);
        }
        return out;
    };
    if (step == Statement::Step::Row) {
        LastRegisters r;
        r.readingId = s.int64(0);
        r.atMs = s.int64(1);
        r.totalWh = s.int64(2);
        r.slotsWh = slots(3);
        r.powerW = s.int64(7);
        return r;
    }
    Statement i = tx.prepare(QStringLiteral(
        "SELECT installed_at_ms, initial_energy_wh, initial_sharp_wh, initial_peak_wh, initial_flat_wh, "
        "initial_valley_wh FROM meter_installations WHERE id = ?1"));
    i.bind(1, installationId);
    step = i.step();
    if (step == Statement::Step::Error)
        *error = i.error();
    if (step != Statement::Step::Row || i.isNull(1))
        return std::nullopt;
    LastRegisters r;
    r.atMs = i.int64(0);
    r.totalWh = i.int64(1);
    std::array<qint64, 4> out{};
    bool all = true;
    for (int k = 0; k < 4; ++k) {
        all = all && !i.isNull(2 + k);
        out[size_t(k)] = all ? i.int64(2 + k) : 0;
    }
    if (all)
        r.slotsWh = out;
    return r;
}

// Stores a reading a person took from the meter's display, validated exactly like a poll
// against the installation's last one, and charges it. Returns the reading id, or nullopt with
// the event refused or failed.
std::optional<qint64> recordManualReading(Event &ev, billing::Biller &biller, const Installed &m,
    const ManualRegisters &regs, const QString &field, qint64 nowMs)
{
    store::Transaction &tx = ev.tx();
    SqlError error;
    const std::optional<LastRegisters> last = lastRegisters(tx, m.installationId, &error);
    if (!error.ok()) {
        ev.storeFailed(error, QStringLiteral("reading the last registers of installation %1").arg(m.installationId));
        return std::nullopt;
    }
    if (last && last->atMs >= nowMs) {
        ev.refuse(LifecycleOutcome::Conflict,
            QStringLiteral("%1: the meter already has a reading at or after now; check the clock").arg(field));
        return std::nullopt;
    }
    std::optional<poller::PreviousReading> previous;
    if (last) {
        poller::PreviousReading p;
        p.readingId = last->readingId.value_or(0);
        p.takenAtMs = last->atMs;
        p.energyRegister = quint32(last->totalWh / kWhPerRegisterUnit);
        if (last->slotsWh) {
            for (size_t i = 0; i < 4; ++i)
                p.slotRegisters[i] = quint32((*last->slotsWh)[i] / kWhPerRegisterUnit);
        }
        p.serial = m.serial;
        p.powerW = last->powerW;
        previous = p;
    }
    modbus::MeterSnapshot snap;
    snap.profile = QStringLiteral("manual");
    snap.serialNumber = m.serial;
    snap.energyTotalRegister = quint32(regs.total.wh() / kWhPerRegisterUnit);
    snap.energyTotalWh = regs.total.wh();
    if (regs.slots) {
        for (size_t i = 0; i < 4; ++i)
            snap.slotEnergyWh[i] = (*regs.slots)[i].wh();
    }
    poller::MeterTarget target;
    target.meterId = m.meterId;
    target.serial = m.serial;
    target.prepaid = m.capability == u"prepaid";
    target.hasTouRegisters = m.hasTou && regs.slots.has_value() && (!last || last->slotsWh.has_value());
    target.maxPowerW = poller::ratedMaxPowerW(m.maxCurrentMa, m.deviceType == u"three_phase");
    target.installationId = m.installationId;
    target.meteringPointId = m.pointId;
    const poller::Validation v = poller::validateReading(previous, snap, nowMs, target);
    if (!v.chargeable()) {
        ev.refuse(LifecycleOutcome::Invalid,
            QStringLiteral("%1: %2 kWh cannot follow the last reading (%3 kWh): %4")
                .arg(field, regs.total.toDecimalString(),
                    last ? Energy::fromWh(last->totalWh).toDecimalString() : QStringLiteral("-"), v.note));
        return std::nullopt;
    }

    Statement s = tx.prepare(QStringLiteral(
        "INSERT INTO readings (installation_id, meter_id, metering_point_id, taken_at_ms, source, energy_total_wh, "
        "energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, balance_fen, purchase_count, "
        "total_purchased_fen, validation) VALUES (?1, ?2, ?3, ?4, 'manual', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    s.bind(1, m.installationId).bind(2, m.meterId).bind(3, m.pointId).bind(4, nowMs).bind(5, regs.total.wh());
    for (int i = 0; i < 4; ++i) {
        if (regs.slots)
            s.bind(6 + i, (*regs.slots)[size_t(i)].wh());
        else
            s.bindNull(6 + i);
    }
    if (regs.balance)
        s.bind(10, regs.balance->fen());
    else
        s.bindNull(10);
    if (regs.purchaseCount)
        s.bind(11, qint64(*regs.purchaseCount));
    else
        s.bindNull(11);
    if (regs.totalPurchased)
        s.bind(12, regs.totalPurchased->fen());
    else
        s.bindNull(12);
    s.bind(13, poller::validationCode(v.status));
    if (!ev.run(s, QStringLiteral("storing the reading of %1").arg(field)))
        return std::nullopt;
    const qint64 readingId = tx.db().lastInsertRowId();
    const billing::BillingOutcome billed = biller.billReading(tx, readingId, nowMs);
    if (tx.rollbackRequested() || !tx.error().ok()) {
        ev.storeFailed(tx.error(), QStringLiteral("charging the reading of %1").arg(field));
        return std::nullopt;
    }
    if (billed.unpriced > 0) {
        ev.refuse(LifecycleOutcome::Conflict,
            QStringLiteral("%1: the metering point has no tariff in force today; the reading could not be charged")
                .arg(field));
        return std::nullopt;
    }
    ev.result.finalCharges += billed.amount;
    return readingId;
}

// The policy looks at the points at once; the commands it queues go to the buses after commit.
bool evaluatePolicy(Event &ev, const billing::TariffBook &book, const QSet<qint64> &points, qint64 nowMs)
{
    if (points.isEmpty())
        return true;
    const QList<qint64> queued = control::Controller::evaluate(ev.tx(), book, points, nowMs);
    if (!ev.tx().error().ok()) {
        ev.storeFailed(ev.tx().error(), QStringLiteral("evaluating the control policy"));
        return false;
    }
    ev.result.commandIds += queued;
    return true;
}

const QRegularExpression &phonePattern()
{
    static const QRegularExpression re(QStringLiteral("^\\+?[0-9]{5,19}$"));
    return re;
}

QString thresholdsProblem(const PointThresholds &t)
{
    for (const auto &[name, value] : {std::pair{"alarm1", t.alarm1}, std::pair{"alarm2", t.alarm2},
             std::pair{"overdraft_limit", t.overdraftLimit}}) {
        if (value && *value < Money::zero())
            return QStringLiteral("%1: must not be negative").arg(QLatin1StringView(name));
    }
    if (t.alarm1 && t.alarm2 && *t.alarm2 > *t.alarm1)
        return QStringLiteral("alarm2: %1 is above alarm1 (%2); alarm 2 is the later, lower warning")
            .arg(t.alarm2->toDecimalString(), t.alarm1->toDecimalString());
    return {};
}

struct LiveAccount
{
    qint64 id = 0;
    QString status;
    QString displayName;
};

std::optional<LiveAccount> liveAccount(store::Transaction &tx, const QString &shopNo, SqlError *error)
{
    Statement s = tx.prepare(
        QStringLiteral("SELECT id, status, display_name FROM accounts WHERE shop_no = ?1 AND status <> 'closed'"));
    s.bind(1, shopNo);
    const Statement::Step step = s.step();
    if (step == Statement::Step::Error)
        *error = s.error();
    if (step != Statement::Step::Row)
        return std::nullopt;
    return LiveAccount{s.int64(0), s.text(1), s.text(2)};
}

QSet<qint64> linkedPoints(store::Transaction &tx, qint64 accountId)
{
    QSet<qint64> out;
    Statement s = tx.prepare(QStringLiteral(
        "SELECT metering_point_id FROM account_metering_points WHERE account_id = ?1 AND unlinked_at_ms IS NULL"));
    s.bind(1, accountId);
    while (s.step() == Statement::Step::Row)
        out.insert(s.int64(0));
    return out;
}

} // namespace

// ---- open ------------------------------------------------------------------------------------

LifecycleResult openAccount(store::Transaction &tx, billing::Biller &biller, const OpenAccountRequest &request,
    qint64 nowMs)
{
    Event ev(tx);
    const QString shopNo = request.shopNo.trimmed();
    const QString name = request.displayName.trimmed();
    if (shopNo.isEmpty() || shopNo.size() > 32)
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("shop_no: 1 to 32 characters"));
    if (name.size() > 100)
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("display_name: at most 100 characters"));
    if (!request.contactPhone.isEmpty() && !phonePattern().match(request.contactPhone).hasMatch())
        return ev.refuse(LifecycleOutcome::Invalid,
            QStringLiteral("contact_phone: '%1' is not 5 to 20 digits (with an optional leading +)")
                .arg(request.contactPhone));
    if (const QString p = thresholdsProblem(request.thresholds); !p.isEmpty())
        return ev.refuse(LifecycleOutcome::Invalid, p);
    if (request.operatorId && !operatorExists(tx, *request.operatorId))
        return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("operator %1 does not exist").arg(*request.operatorId));

    QSet<qint64> points;
    for (const QString &code : request.pointCodes) {
        bool active = false;
        const std::optional<qint64> id = pointIdByCode(tx, code, &active);
        if (!id)
            return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("point: '%1' does not exist").arg(code));
        if (!active)
            return ev.refuse(LifecycleOutcome::Conflict, QStringLiteral("point: '%1' is retired").arg(code));
        if (points.contains(*id))
            return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("point: '%1' is named twice").arg(code));
        points.insert(*id);
    }

    std::optional<qint64> tariffId;
    if (!request.tariffCode.isEmpty()) {
        Statement t = tx.prepare(QStringLiteral("SELECT id, archived FROM tariffs WHERE code = ?1"));
        t.bind(1, request.tariffCode);
        if (t.step() != Statement::Step::Row)
            return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("tariff: '%1' does not exist").arg(request.tariffCode));
        if (t.int64(1) != 0)
            return ev.refuse(LifecycleOutcome::Conflict,
                QStringLiteral("tariff: '%1' is archived (not offered for new assignments)").arg(request.tariffCode));
        tariffId = t.int64(0);
    }

    SqlError error;
    const std::optional<LiveAccount> live = liveAccount(tx, shopNo, &error);
    if (!error.ok())
        return ev.storeFailed(error, QStringLiteral("reading account %1").arg(shopNo));
    qint64 accountId = 0;
    if (live && live->status == u"open") {
        const QSet<qint64> current = linkedPoints(tx, live->id);
        ev.result.accountId = live->id;
        if (points.isEmpty() || current == points) {
            ev.result.outcome = LifecycleOutcome::AlreadyDone;
            ev.result.message = QStringLiteral("shop %1 is already open (account %2)").arg(shopNo).arg(live->id);
            return ev.result;
        }
        return ev.refuse(LifecycleOutcome::Conflict,
            QStringLiteral("shop_no: %1 is already open (account %2) with other points").arg(shopNo).arg(live->id));
    }
    if (live) {
        // Created 'not_opened' (by the seed, an import): open that account.
        accountId = live->id;
        Statement u = tx.prepare(QStringLiteral(
            "UPDATE accounts SET status = 'open', opened_at_ms = ?2, display_name = coalesce(nullif(?3, ''), display_name), "
            "contact_name = coalesce(nullif(?4, ''), contact_name), contact_phone = coalesce(nullif(?5, ''), contact_phone) "
            "WHERE id = ?1"));
        u.bind(1, accountId).bind(2, nowMs).bind(3, name).bind(4, request.contactName.trimmed()).bind(5, request.contactPhone);
        if (!ev.run(u, QStringLiteral("opening account %1").arg(accountId)))
            return ev.result;
        if (points.isEmpty())
            points = linkedPoints(tx, accountId);
    } else {
        if (name.isEmpty())
            return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("display_name: required for a new account"));
        Statement i = tx.prepare(QStringLiteral(
            "INSERT INTO accounts (shop_no, display_name, contact_name, contact_phone, status, opened_at_ms, created_at_ms) "
            "VALUES (?1, ?2, nullif(?3, ''), nullif(?4, ''), 'open', ?5, ?5)"));
        i.bind(1, shopNo).bind(2, name).bind(3, request.contactName.trimmed()).bind(4, request.contactPhone).bind(5, nowMs);
        if (!ev.run(i, QStringLiteral("creating account %1").arg(shopNo)))
            return ev.result;
        accountId = tx.db().lastInsertRowId();
    }
    ev.result.accountId = accountId;
    if (points.isEmpty())
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("point: an account needs at least one metering point"));

    // The links: exactly the requested points.
    const QSet<qint64> current = linkedPoints(tx, accountId);
    for (qint64 p : points) {
        if (current.contains(p))
            continue;
        Statement other = tx.prepare(QStringLiteral(
            "SELECT a.shop_no FROM account_metering_points amp JOIN accounts a ON a.id = amp.account_id "
            "WHERE amp.metering_point_id = ?1 AND amp.unlinked_at_ms IS NULL"));
        other.bind(1, p);
        if (other.step() == Statement::Step::Row)
            return ev.refuse(LifecycleOutcome::Conflict,
                QStringLiteral("point: %1 is linked to shop %2; close or move that first").arg(p).arg(other.text(0)));
        Statement link = tx.prepare(QStringLiteral(
            "INSERT INTO account_metering_points (account_id, metering_point_id, linked_at_ms) VALUES (?1, ?2, ?3)"));
        link.bind(1, accountId).bind(2, p).bind(3, nowMs);
        if (!ev.run(link, QStringLiteral("linking point %1").arg(p)))
            return ev.result;
    }
    for (qint64 p : current) {
        if (points.contains(p))
            continue;
        Statement unlink = tx.prepare(QStringLiteral(
            "UPDATE account_metering_points SET unlinked_at_ms = ?3 WHERE account_id = ?1 AND metering_point_id = ?2 "
            "AND unlinked_at_ms IS NULL"));
        unlink.bind(1, accountId).bind(2, p).bind(3, nowMs);
        if (!ev.run(unlink, QStringLiteral("unlinking point %1").arg(p)))
            return ev.result;
    }

    const std::shared_ptr<const billing::TariffBook> currentBook = biller.book();
    const QString today = currentBook->localDate(nowMs).toString(Qt::ISODate);
    if (tariffId) {
        Statement existing = tx.prepare(QStringLiteral(
            "SELECT tariff_id FROM tariff_assignments WHERE account_id = ?1 AND effective_date = ?2"));
        existing.bind(1, accountId).bind(2, today);
        if (existing.step() == Statement::Step::Row) {
            if (existing.int64(0) != *tariffId)
                return ev.refuse(LifecycleOutcome::Conflict,
                    QStringLiteral("tariff: account %1 already has another tariff assigned from %2").arg(accountId).arg(today));
        } else {
            Statement assign = tx.prepare(QStringLiteral(
                "INSERT INTO tariff_assignments (tariff_id, account_id, effective_date, assigned_by, created_at_ms) "
                "VALUES (?1, ?2, ?3, ?4, ?5)"));
            assign.bind(1, *tariffId).bind(2, accountId).bind(3, today);
            if (request.operatorId)
                assign.bind(4, *request.operatorId);
            else
                assign.bindNull(4);
            assign.bind(5, nowMs);
            if (!ev.run(assign, QStringLiteral("assigning the tariff")))
                return ev.result;
        }
    }
    // Every point must be priced from today: read the assignments back as billing will.
    billing::TariffBook book;
    QString bookError;
    if (!billing::TariffBook::load(tx.db(), &book, &bookError))
        return ev.refuse(LifecycleOutcome::Conflict, QStringLiteral("tariffs: %1").arg(bookError));
    for (qint64 p : points) {
        if (!book.versionFor(p, accountId, book.localDate(nowMs)))
            return ev.refuse(LifecycleOutcome::Invalid,
                QStringLiteral("tariff: metering point %1 would have no tariff in force today; name one").arg(p));
    }

    const PointThresholds &t = request.thresholds;
    if (t.alarm1 || t.alarm2 || t.overdraftLimit) {
        for (qint64 p : points) {
            Statement upsert = tx.prepare(QStringLiteral(
                "INSERT INTO control_settings (metering_point_id, alarm1_threshold_fen, alarm2_threshold_fen, "
                "overdraft_limit_fen, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
                "ON CONFLICT (metering_point_id) DO UPDATE SET "
                "alarm1_threshold_fen = coalesce(excluded.alarm1_threshold_fen, alarm1_threshold_fen), "
                "alarm2_threshold_fen = coalesce(excluded.alarm2_threshold_fen, alarm2_threshold_fen), "
                "overdraft_limit_fen = coalesce(excluded.overdraft_limit_fen, overdraft_limit_fen), "
                "updated_at_ms = excluded.updated_at_ms"));
            upsert.bind(1, p);
            int index = 2;
            for (const std::optional<Money> &v : {t.alarm1, t.alarm2, t.overdraftLimit}) {
                if (v)
                    upsert.bind(index, v->fen());
                else
                    upsert.bindNull(index);
                ++index;
            }
            upsert.bind(5, nowMs);
            if (const SqlError e = upsert.run(); !e.ok()) {
                if (e.isConstraint())
                    return ev.refuse(LifecycleOutcome::Invalid,
                        QStringLiteral("thresholds: with the point's own settings, alarm 2 would be above alarm 1 "
                                       "on point %1").arg(p));
                return ev.storeFailed(e, QStringLiteral("thresholds of point %1").arg(p));
            }
        }
    }

    ledger::LedgerWriter ledger(tx, nowMs);
    ledger.ensureWallet(accountId, QStringLiteral("wallet %1").arg(shopNo));
    if (!tx.error().ok())
        return ev.storeFailed(tx.error(), QStringLiteral("creating the wallet"));

    if (!evaluatePolicy(ev, book, points, nowMs))
        return ev.result;
    ev.result.outcome = LifecycleOutcome::Done;
    ev.result.message = QStringLiteral("shop %1 open (account %2, %3 metering point(s))")
                            .arg(shopNo)
                            .arg(accountId)
                            .arg(points.size());
    return ev.result;
}

// ---- close -----------------------------------------------------------------------------------

LifecycleResult closeAccount(store::Transaction &tx, billing::Biller &biller, const CloseAccountRequest &request,
    qint64 nowMs)
{
    Event ev(tx);
    const QString shopNo = request.shopNo.trimmed();
    if (shopNo.isEmpty())
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("shop_no: required"));
    if (request.reason.trimmed().isEmpty())
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("reason: required"));
    if (!operatorExists(tx, request.operatorId))
        return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("operator %1 does not exist").arg(request.operatorId));
    if (request.settlement == Settlement::Transfer && request.transferToShopNo.trimmed().isEmpty())
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("transfer_to: the shop that receives the balance"));

    SqlError error;
    const std::optional<LiveAccount> live = liveAccount(tx, shopNo, &error);
    if (!error.ok())
        return ev.storeFailed(error, QStringLiteral("reading account %1").arg(shopNo));
    if (!live) {
        Statement closed = tx.prepare(QStringLiteral(
            "SELECT id FROM accounts WHERE shop_no = ?1 AND status = 'closed' ORDER BY closed_at_ms DESC LIMIT 1"));
        closed.bind(1, shopNo);
        if (closed.step() == Statement::Step::Row) {
            ev.result.accountId = closed.int64(0);
            ev.result.outcome = LifecycleOutcome::AlreadyDone;
            ev.result.message = QStringLiteral("shop %1 is already closed (account %2)").arg(shopNo).arg(ev.result.accountId);
            return ev.result;
        }
        return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("shop_no: no account '%1'").arg(shopNo));
    }
    if (live->status != u"open")
        return ev.refuse(LifecycleOutcome::Conflict, QStringLiteral("shop %1 was never opened").arg(shopNo));
    const qint64 accountId = live->id;
    ev.result.accountId = accountId;
    // A payment of it that the provider's bill does not show is frozen (sql/0010): the balance
    // is not paid out or moved until staff settle the reconciliation finding.
    Statement frozen = tx.prepare(QStringLiteral(
        "SELECT a.id, a.frozen_by_finding_id FROM payment_attempts a JOIN topup_orders o ON o.id = a.order_id "
        "WHERE o.account_id = ?1 AND a.frozen_by_finding_id IS NOT NULL ORDER BY a.id LIMIT 1"));
    frozen.bind(1, accountId);
    if (frozen.step() == Statement::Step::Row)
        return ev.refuse(LifecycleOutcome::Conflict,
            QStringLiteral("shop %1 has a payment under review (attempt %2, reconciliation finding %3: the provider's "
                           "bill does not show it); settle the finding first (payments.settle_finding)")
                .arg(shopNo)
                .arg(frozen.int64(0))
                .arg(frozen.int64(1)));
    if (!frozen.error().ok())
        return ev.storeFailed(frozen.error(), QStringLiteral("reading frozen payments of %1").arg(shopNo));
    const QSet<qint64> points = linkedPoints(tx, accountId);

    // Final readings, charged while the account is still open.
    QSet<qint64> finalised;
    for (const CloseFinalReading &f : request.finalReadings) {
        const QString field = QStringLiteral("final[%1]").arg(f.pointCode);
        if (const QString p = registersProblem(field, f.registers); !p.isEmpty())
            return ev.refuse(LifecycleOutcome::Invalid, p);
        bool active = false;
        const std::optional<qint64> pointId = pointIdByCode(tx, f.pointCode, &active);
        if (!pointId || !points.contains(*pointId))
            return ev.refuse(LifecycleOutcome::Invalid,
                QStringLiteral("%1: not a metering point of shop %2").arg(field, shopNo));
        if (finalised.contains(*pointId))
            return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("%1: given twice").arg(field));
        finalised.insert(*pointId);
        const std::optional<Installed> m = installedAt(tx, *pointId, &error);
        if (!error.ok())
            return ev.storeFailed(error, field);
        if (!m)
            return ev.refuse(LifecycleOutcome::Conflict, QStringLiteral("%1: no meter is installed").arg(field));
        if (!recordManualReading(ev, biller, *m, f.registers, field, nowMs))
            return ev.result;
    }

    ledger::LedgerWriter ledger(tx, nowMs);
    const std::optional<Money> balance = ledger.walletBalance(accountId);
    const Money remaining = balance.value_or(Money::zero());
    if (remaining < Money::zero())
        return ev.refuse(LifecycleOutcome::InArrears,
            QStringLiteral("shop %1 owes %2 CNY: take the payment (a cash top-up) before closing")
                .arg(shopNo, (-remaining).toDecimalString()));
    if (remaining > Money::zero()) {
        switch (request.settlement) {
        case Settlement::None:
            return ev.refuse(LifecycleOutcome::Invalid,
                QStringLiteral("settlement: %1 CNY remains; refund it in cash or transfer it to another shop")
                    .arg(remaining.toDecimalString()));
        case Settlement::RefundCash: {
            Statement refund = tx.prepare(QStringLiteral(
                "INSERT INTO refunds (account_id, channel, out_refund_no, amount_fen, state, reason, requested_by, "
                "created_at_ms, updated_at_ms, completed_at_ms) VALUES (?1, 'cash', ?2, ?3, 'succeeded', ?4, ?5, ?6, ?6, ?6)"));
            refund.bind(1, accountId).bind(2, QStringLiteral("CLS%1").arg(accountId, 8, 10, QLatin1Char('0')));
            refund.bind(3, remaining.fen()).bind(4, request.reason.trimmed()).bind(5, request.operatorId).bind(6, nowMs);
            if (!ev.run(refund, QStringLiteral("recording the refund")))
                return ev.result;
            const qint64 refundId = tx.db().lastInsertRowId();
            const ledger::PostResult requested = ledger.refundRequested(accountId, refundId, remaining);
            if (requested.outcome != ledger::PostOutcome::Posted)
                return ev.refuse(LifecycleOutcome::Conflict,
                    QStringLiteral("refund: %1 (%2)").arg(ledger::postOutcomeCode(requested.outcome), requested.message));
            const ledger::PostResult paid = ledger.refundPaid(refundId, ledger::Channel::Cash, remaining);
            if (paid.outcome != ledger::PostOutcome::Posted)
                return ev.refuse(LifecycleOutcome::Conflict,
                    QStringLiteral("refund payout: %1 (%2)").arg(ledger::postOutcomeCode(paid.outcome), paid.message));
            break;
        }
        case Settlement::Transfer: {
            const QString to = request.transferToShopNo.trimmed();
            const std::optional<LiveAccount> target = liveAccount(tx, to, &error);
            if (!error.ok())
                return ev.storeFailed(error, QStringLiteral("reading account %1").arg(to));
            if (!target || target->status != u"open")
                return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("transfer_to: no open account '%1'").arg(to));
            if (target->id == accountId)
                return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("transfer_to: the account being closed"));
            ledger.ensureWallet(target->id, QStringLiteral("wallet %1").arg(to));
            const ledger::PostResult posted = ledger.transfer(accountId, target->id, remaining,
                QStringLiteral("close:account:%1:transfer").arg(accountId), request.operatorId,
                QStringLiteral("closing shop %1: %2").arg(shopNo, request.reason.trimmed()));
            if (posted.outcome != ledger::PostOutcome::Posted)
                return ev.refuse(LifecycleOutcome::Conflict,
                    QStringLiteral("transfer: %1 (%2)").arg(ledger::postOutcomeCode(posted.outcome), posted.message));
            break;
        }
        }
        ev.result.settled = remaining;
    }
    if (!tx.error().ok())
        return ev.storeFailed(tx.error(), QStringLiteral("settling"));

    Statement unlink = tx.prepare(QStringLiteral(
        "UPDATE account_metering_points SET unlinked_at_ms = ?2 WHERE account_id = ?1 AND unlinked_at_ms IS NULL"));
    unlink.bind(1, accountId).bind(2, nowMs);
    if (!ev.run(unlink, QStringLiteral("unlinking the points")))
        return ev.result;
    Statement close = tx.prepare(QStringLiteral(
        "UPDATE accounts SET status = 'closed', closed_at_ms = ?2, "
        "note = trim(coalesce(note || ' ', '') || ?3) WHERE id = ?1"));
    close.bind(1, accountId).bind(2, nowMs).bind(3, QStringLiteral("closed: %1").arg(request.reason.trimmed()));
    if (!ev.run(close, QStringLiteral("closing the account")))
        return ev.result;

    if (!evaluatePolicy(ev, *biller.book(), points, nowMs))
        return ev.result;
    ev.result.outcome = LifecycleOutcome::Done;
    ev.result.message = QStringLiteral("shop %1 closed (account %2)").arg(shopNo).arg(accountId);
    if (ev.result.settled > Money::zero())
        ev.result.message += request.settlement == Settlement::RefundCash
            ? QStringLiteral("; %1 CNY paid out in cash").arg(ev.result.settled.toDecimalString())
            : QStringLiteral("; %1 CNY moved to shop %2")
                  .arg(ev.result.settled.toDecimalString(), request.transferToShopNo.trimmed());
    return ev.result;
}

// ---- replace a meter -------------------------------------------------------------------------

LifecycleResult replaceMeter(store::Transaction &tx, billing::Biller &biller, const ReplaceMeterRequest &request,
    qint64 nowMs)
{
    Event ev(tx);
    if (!operatorExists(tx, request.operatorId))
        return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("operator %1 does not exist").arg(request.operatorId));
    if (request.newSerial == 0)
        return ev.refuse(LifecycleOutcome::Invalid, QStringLiteral("new_serial: 1..4294967295"));
    if (request.oldFinal) {
        if (const QString p = registersProblem(QStringLiteral("old_final"), *request.oldFinal); !p.isEmpty())
            return ev.refuse(LifecycleOutcome::Invalid, p);
    }
    if (request.newInitial) {
        if (const QString p = registersProblem(QStringLiteral("new_initial"), *request.newInitial); !p.isEmpty())
            return ev.refuse(LifecycleOutcome::Invalid, p);
    }
    bool active = false;
    const std::optional<qint64> pointId = pointIdByCode(tx, request.pointCode, &active);
    if (!pointId)
        return ev.refuse(LifecycleOutcome::NotFound, QStringLiteral("point: '%1' does not exist").arg(request.pointCode));
    SqlError error;
    const std::optional<Installed> old = installedAt(tx, *pointId, &error);
    if (!error.ok())
        return ev.storeFailed(error, QStringLiteral("reading the installed meter"));
    if (!old)
        return ev.refuse(LifecycleOutcome::Conflict, QStringLiteral("point: no meter is installed on %1").arg(request.pointCode));
    if (old->serial == request.newSerial) {
        ev.result.installationId = old->installationId;
        ev.result.outcome = LifecycleOutcome::AlreadyDone;
        ev.result.message = QStringLiteral("meter %1 already serves %2 (installation %3)")
                                .arg(request.newSerial)
                                .arg(request.pointCode)
                                .arg(old->installationId);
        return ev.result;
    }

    // The new meter: from stock, or registered now as the old one's model.
    qint64 newMeterId = 0;
    QString newCapability = old->capability;
    {
        Statement m = tx.prepare(QStringLiteral("SELECT id, state, capability FROM meters WHERE serial_number = ?1"));
        m.bind(1, qint64(request.newSerial));
        if (m.step() == Statement::Step::Row) {
            if (m.text(1) != u"in_stock")
                return ev.refuse(LifecycleOutcome::Conflict,
                    QStringLiteral("new_serial: meter %1 is %2, not in stock").arg(request.newSerial).arg(m.text(1)));
            newMeterId = m.int64(0);
            newCapability = m.text(2);
        } else {
            Statement add = tx.prepare(QStringLiteral(
                "INSERT INTO meters (serial_number, model, device_type, capability, has_tou_registers, rated_current_ma, "
                "max_current_ma, state, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'in_stock', ?8)"));
            add.bind(1, qint64(request.newSerial)).bind(2, old->model).bind(3, old->deviceType).bind(4, old->capability);
            add.bind(5, qint64(old->hasTou)).bind(6, old->ratedCurrentMa).bind(7, old->maxCurrentMa).bind(8, nowMs);
            if (!ev.run(add, QStringLiteral("registering meter %1").arg(request.newSerial)))
                return ev.result;
            newMeterId = tx.db().lastInsertRowId();
        }
    }

    // The old meter's final reading, charged on the old installation.
    if (request.oldFinal
        && !recordManualReading(ev, biller, *old, *request.oldFinal, QStringLiteral("old_final"), nowMs))
        return ev.result;
    const std::optional<LastRegisters> ended = lastRegisters(tx, old->installationId, &error);
    if (!error.ok())
        return ev.storeFailed(error, QStringLiteral("reading the old meter's last registers"));
    std::optional<qint64> finalBalance;
    if (request.oldFinal && request.oldFinal->balance)
        finalBalance = request.oldFinal->balance->fen();
    else {
        // The last balance the meter reported; never read since installed: what it came with.
        Statement held = tx.prepare(QStringLiteral(
            "SELECT coalesce((SELECT balance_fen FROM readings WHERE installation_id = ?1 AND validation <> 'swap_held' "
            "AND balance_fen IS NOT NULL ORDER BY taken_at_ms DESC, id DESC LIMIT 1), "
            "(SELECT initial_balance_fen FROM meter_installations WHERE id = ?1))"));
        held.bind(1, old->installationId);
        if (held.step() == Statement::Step::Row && !held.isNull(0))
            finalBalance = held.int64(0);
    }

    Statement remove = tx.prepare(QStringLiteral(
        "UPDATE meter_installations SET removed_at_ms = ?2, removed_by = ?3, final_energy_wh = ?4, final_sharp_wh = ?5, "
        "final_peak_wh = ?6, final_flat_wh = ?7, final_valley_wh = ?8, final_balance_fen = ?9, "
        "note = trim(coalesce(note || ' ', '') || ?10) WHERE id = ?1"));
    remove.bind(1, old->installationId).bind(2, nowMs).bind(3, request.operatorId);
    if (ended) {
        remove.bind(4, ended->totalWh);
        for (int i = 0; i < 4; ++i) {
            if (ended->slotsWh)
                remove.bind(5 + i, (*ended->slotsWh)[size_t(i)]);
            else
                remove.bindNull(5 + i);
        }
    } else {
        for (int i = 4; i <= 8; ++i)
            remove.bindNull(i);
    }
    if (finalBalance)
        remove.bind(9, *finalBalance);
    else
        remove.bindNull(9);
    remove.bind(10, QStringLiteral("replaced by meter %1").arg(request.newSerial));
    if (!ev.run(remove, QStringLiteral("closing installation %1").arg(old->installationId)))
        return ev.result;

    // Commands still queued for the old meter would reach the new one at the same address.
    const QList<commands::Kind> allKinds{commands::Kind::Recharge, commands::Kind::RelayClose,
        commands::Kind::RelayTrip, commands::Kind::SetMode, commands::Kind::TariffPush,
        commands::Kind::ThresholdPush, commands::Kind::ClockSync, commands::Kind::ReadNow};
    if (commands::CommandStore::supersedeWithin(tx, old->meterId, allKinds,
            QStringLiteral("meter %1 replaced").arg(old->serial), nowMs)
        < 0)
        return ev.storeFailed(tx.error(), QStringLiteral("cancelling the old meter's queued commands"));

    Statement retire = tx.prepare(
        QStringLiteral("UPDATE meters SET state = 'retired', bus_id = NULL, unit_id = NULL WHERE id = ?1"));
    retire.bind(1, old->meterId);
    if (!ev.run(retire, QStringLiteral("retiring meter %1").arg(old->serial)))
        return ev.result;
    Statement install = tx.prepare(
        QStringLiteral("UPDATE meters SET state = 'installed', bus_id = ?2, unit_id = ?3 WHERE id = ?1"));
    install.bind(1, newMeterId).bind(2, old->busId).bind(3, old->unitId);
    if (!ev.run(install, QStringLiteral("installing meter %1").arg(request.newSerial)))
        return ev.result;

    Statement segment = tx.prepare(QStringLiteral(
        "INSERT INTO meter_installations (metering_point_id, meter_id, installed_at_ms, initial_energy_wh, "
        "initial_sharp_wh, initial_peak_wh, initial_flat_wh, initial_valley_wh, initial_balance_fen, "
        "initial_purchase_count, initial_purchased_fen, installed_by, note) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, nullif(?13, ''))"));
    segment.bind(1, *pointId).bind(2, newMeterId).bind(3, nowMs);
    const std::optional<ManualRegisters> &initial = request.newInitial;
    if (initial) {
        segment.bind(4, initial->total.wh());
        for (int i = 0; i < 4; ++i) {
            if (initial->slots)
                segment.bind(5 + i, (*initial->slots)[size_t(i)].wh());
            else
                segment.bindNull(5 + i);
        }
    } else {
        for (int i = 4; i <= 8; ++i)
            segment.bindNull(i);
    }
    if (initial && initial->balance)
        segment.bind(9, initial->balance->fen());
    else
        segment.bindNull(9);
    if (initial && initial->purchaseCount)
        segment.bind(10, qint64(*initial->purchaseCount));
    else
        segment.bindNull(10);
    if (initial && initial->totalPurchased)
        segment.bind(11, initial->totalPurchased->fen());
    else
        segment.bindNull(11);
    segment.bind(12, request.operatorId).bind(13, request.note.trimmed());
    if (!ev.run(segment, QStringLiteral("recording the new installation")))
        return ev.result;
    const qint64 installationId = tx.db().lastInsertRowId();
    ev.result.installationId = installationId;

    // History and tiers continue on the point: only the segment changes.
    Statement cursor = tx.prepare(QStringLiteral(
        "UPDATE billing_state SET installation_id = ?2, last_charged_reading_id = NULL, updated_at_ms = ?3 "
        "WHERE metering_point_id = ?1"));
    cursor.bind(1, *pointId).bind(2, installationId).bind(3, nowMs);
    if (!ev.run(cursor, QStringLiteral("moving the billing cursor")))
        return ev.result;

    // 换表补电: what the old meter held goes onto the new one (the wallet already holds it).
    if (newCapability == u"prepaid" && finalBalance && *finalBalance > 0) {
        commands::CommandRequest carry;
        carry.meterId = newMeterId;
        carry.kind = commands::Kind::Recharge;
        carry.idempotencyKey = QStringLiteral("replace:installation:%1:balance").arg(installationId);
        carry.correlationId = QStringLiteral("replace:installation:%1").arg(installationId);
        carry.cause = commands::Cause::Operator;
        carry.operatorId = request.operatorId;
        carry.reason = QStringLiteral("balance of replaced meter %1").arg(old->serial);
        carry.amountFen = *finalBalance;
        carry.rechargeTxn = replacementRechargeTxn(installationId);
        const commands::EnqueueResult queued = commands::CommandStore::enqueueWithin(tx, carry, nowMs);
        if (queued.outcome != commands::EnqueueOutcome::Queued) {
            if (queued.outcome == commands::EnqueueOutcome::StoreFailed)
                return ev.storeFailed(tx.error(), QStringLiteral("queueing the balance recharge"));
            return ev.refuse(LifecycleOutcome::Conflict,
                QStringLiteral("balance recharge: %1 (%2)")
                    .arg(commands::enqueueOutcomeCode(queued.outcome), queued.message));
        }
        ev.result.commandIds.append(queued.commandId);
        ev.result.settled = Money::fromFen(*finalBalance);
    }

    if (!evaluatePolicy(ev, *biller.book(), {*pointId}, nowMs))
        return ev.result;
    ev.result.outcome = LifecycleOutcome::Done;
    ev.result.message = QStringLiteral("meter %1 replaced by %2 on %3 (installation %4)")
                            .arg(old->serial)
                            .arg(request.newSerial)
                            .arg(request.pointCode)
                            .arg(installationId);
    if (ev.result.settled > Money::zero())
        ev.result.message += QStringLiteral("; %1 CNY the old meter held to be recharged onto the new one")
                                 .arg(ev.result.settled.toDecimalString());
    return ev.result;
}

} // namespace prepay::accounts
