#include "biller.h"

#include "billinglog.h"
#include "rating.h"

#include "api/check.h"
#include "ledger/ledger.h"
#include "poller/recorder.h"
#include "store/store.h"


#include <optional>
#include <tuple>

namespace prepay::billing {

using store::SqlError;
using store::Statement;

namespace {

// 2^32 register units of 10 Wh: where a meter's energy registers wrap.
constexpr qint64 kWrapWh = 42'949'672'960;

qint64 unwrapDelta(qint64 to, qint64 from)
{
    return ((to - from) % kWrapWh + kWrapWh) % kWrapWh;
}

// What billing needs of a reading (or of an installation's initial reading).
struct Point
{
    qint64 takenAtMs = 0;
    qint64 totalWh = 0;
    std::optional<std::array<qint64, 4>> slotsWh; // all four registers present
};

std::optional<std::array<qint64, 4>> slotsFrom(const Statement &s, int first)
{
    std::array<qint64, 4> out{};
    for (int i = 0; i < 4; ++i) {
        if (s.isNull(first + i))
            return std::nullopt;
        out[size_t(i)] = s.int64(first + i);
    }
    return out;
}

struct Cursor
{
    qint64 installationId = 0;
    std::optional<qint64> lastChargedReadingId;
    Remainder remainder;
    TierAccumulator month;
    TierAccumulator year;
    std::optional<Point> lastCharged; // the reading lastChargedReadingId names, read with the cursor
    qint64 accountId = 0;             // the point's account (accountOf()), read with the cursor
    bool accountOpen = false;
};

struct IntervalPlan
{
    std::optional<qint64> fromReadingId;
    qint64 toReadingId = 0;
    Point from;
    Point to;
    bool held = false;
};

TierAccumulator advanced(const TierAccumulator &acc, const QString &key, qint64 energyWh)
{
    const qint64 before = acc.periodKey == key ? acc.energyWh : 0;
    return TierAccumulator{key, checked::add(before, energyWh)};
}

// The statements of one billing pass, prepared once per transaction.
class Pass
{
public:
    Pass(store::Transaction &tx, const TariffBook &book, qint64 nowMs)
        : m_tx(tx)
        , m_book(book)
        , m_nowMs(nowMs)
        , m_ledger(tx, nowMs)
    { }

    bool failed() const { return m_failed; }
    BillingOutcome outcome;

    // A reading already stored, read back by id (billReading()).
    void bill(qint64 readingId)
    {
        if (m_failed)
            return;
        Statement &r = prepared(m_reading,
            "SELECT installation_id, metering_point_id, taken_at_ms, energy_total_wh, energy_sharp_wh, energy_peak_wh, "
            "energy_flat_wh, energy_valley_wh, validation FROM readings WHERE id = ?1");
        r.bind(1, readingId);
        if (r.step() != Statement::Step::Row)
            return fail(r.error(), QStringLiteral("reading %1 not found").arg(readingId));
        Reading reading;
        reading.id = readingId;
        reading.installationId = r.int64(0);
        reading.pointId = r.int64(1);
        reading.point = Point{r.int64(2), r.int64(3), slotsFrom(r, 4)};
        const QString validation = r.text(8);
        r.reset();
        reading.swapHeld = validation == QLatin1StringView("swap_held");
        reading.held = validation == QLatin1StringView("reset_held") || validation == QLatin1StringView("jump_held");
        bill(reading);
    }

    // A reading of the batch just stored, as the recorder handed it over: the same values the row
    // holds (StoredReading carries the energy columns as inserted), without reading it back.
    void bill(const poller::StoredReading &stored)
    {
        if (m_failed)
            return;
        Reading reading;
        reading.id = stored.readingId;
        reading.installationId = stored.installationId;
        reading.pointId = stored.meteringPointId;
        reading.point = Point{stored.takenAtMs, stored.energyTotalWh, stored.slotEnergyWh};
        const poller::ValidationStatus status = stored.validation.status;
        reading.swapHeld = status == poller::ValidationStatus::SwapHeld;
        reading.held = status == poller::ValidationStatus::ResetHeld || status == poller::ValidationStatus::JumpHeld;
        bill(reading);
    }

private:
    // What billing needs of the reading it charges to.
    struct Reading
    {
        qint64 id = 0;
        qint64 installationId = 0;
        qint64 pointId = 0;
        Point point;
        bool swapHeld = false; // another meter answered: never a baseline, never charged
        bool held = false;     // reset_held, jump_held: ends a held interval
    };

    void bill(const Reading &reading)
    {
        if (reading.swapHeld)
            return;
        const qint64 readingId = reading.id;
        const qint64 installationId = reading.installationId;
        const qint64 pointId = reading.pointId;
        const Point &to = reading.point;
        const bool held = reading.held;

        std::optional<Cursor> cursor = loadCursor(pointId, installationId);
        if (m_failed)
            return;
        if (!cursor || cursor->installationId != installationId) {
            qCWarning(lcBilling,
                "reading %lld of installation %lld is not the current segment of metering point %lld: not billed",
                readingId, installationId, pointId);
            return;
        }

        IntervalPlan plan;
        plan.toReadingId = readingId;
        plan.to = to;
        plan.held = held;
        if (cursor->lastChargedReadingId) {
            if (*cursor->lastChargedReadingId >= readingId)
                return; // already billed (a batch retried after its commit was reported late)
            plan.fromReadingId = cursor->lastChargedReadingId;
            if (!cursor->lastCharged)
                return fail(SqlError{}, QStringLiteral("baseline reading %1 not found").arg(*plan.fromReadingId));
            plan.from = *cursor->lastCharged;
        } else {
            const std::optional<Point> initial = loadInitial(installationId);
            if (m_failed)
                return;
            if (!initial) {
                // No initial reading recorded: this reading opens the segment, uncharged.
                moveCursor(pointId, readingId, *cursor);
                ++outcome.opened;
                return;
            }
            plan.from = *initial;
        }
        charge(pointId, installationId, *cursor, plan);
    }

    Statement &prepared(std::optional<Statement> &slot, const char *sql)
    {
        if (!slot)
            slot.emplace(m_tx.prepare(QString::fromUtf8(sql)));
        return *slot;
    }

    void fail(const SqlError &error, const QString &what)
    {
        if (m_failed)
            return;
        m_failed = true;
        const SqlError e = error.ok() ? SqlError{1, 1, what} : error;
        qCWarning(lcBilling, "billing failed: %s (%s)", qUtf8Printable(what), qUtf8Printable(e.toString()));
        m_tx.fail(e);
    }

    // The point's billing cursor, with what charging from it needs: the last charged reading and
    // the point's account (as accountOf() finds it), in one read.
    std::optional<Cursor> loadCursor(qint64 pointId, qint64 installationId)
    {
        Statement &s = prepared(m_cursor,
            "SELECT bs.installation_id, bs.last_charged_reading_id, bs.sub_fen_remainder, bs.tier_month, "
            "bs.tier_month_energy_wh, bs.tier_year, bs.tier_year_energy_wh, r.taken_at_ms, r.energy_total_wh, "
            "r.energy_sharp_wh, r.energy_peak_wh, r.energy_flat_wh, r.energy_valley_wh, a.id, "
            "a.status = 'open' AND amp.unlinked_at_ms IS NULL "
            "FROM billing_state bs LEFT JOIN readings r ON r.id = bs.last_charged_reading_id "
            "LEFT JOIN account_metering_points amp ON amp.id = (SELECT x.id FROM account_metering_points x "
            "  WHERE x.metering_point_id = bs.metering_point_id ORDER BY x.linked_at_ms DESC, x.id DESC LIMIT 1) "
            "LEFT JOIN accounts a ON a.id = amp.account_id WHERE bs.metering_point_id = ?1");
        s.bind(1, pointId);
        const Statement::Step step = s.step();
        if (step == Statement::Step::Error) {
            fail(s.error(), QStringLiteral("billing_state of point %1").arg(pointId));
            return std::nullopt;
        }
        if (step == Statement::Step::Done) {
            s.reset();
            // A point billed for the first time: its cursor starts at this installation.
            Statement &insert = prepared(m_insertCursor,
                "INSERT INTO billing_state (metering_point_id, installation_id, updated_at_ms) VALUES (?1, ?2, ?3)");
            insert.bind(1, pointId).bind(2, installationId).bind(3, m_nowMs);
            if (const SqlError e = insert.run(); !e.ok()) {
                fail(e, QStringLiteral("creating billing_state of point %1").arg(pointId));
                return std::nullopt;
            }
            Cursor fresh{installationId, std::nullopt, Remainder{}, {}, {}, std::nullopt, 0, false};
            std::tie(fresh.accountId, fresh.accountOpen) = accountOf(pointId);
            if (m_failed)
                return std::nullopt;
            return fresh;
        }
        Cursor c;
        c.installationId = s.int64(0);
        if (!s.isNull(1))
            c.lastChargedReadingId = s.int64(1);
        c.remainder.units = s.int64(2);
        c.month = TierAccumulator{s.text(3), s.int64(4)};
        c.year = TierAccumulator{s.text(5), s.int64(6)};
        if (!s.isNull(7))
            c.lastCharged = Point{s.int64(7), s.int64(8), slotsFrom(s, 9)};
        if (!s.isNull(13)) {
            c.accountId = s.int64(13);
            c.accountOpen = s.int64(14) != 0;
        }
        s.reset();
        return c;
    }

    std::optional<Point> loadInitial(qint64 installationId)
    {
        Statement &s = prepared(m_initial,
            "SELECT installed_at_ms, initial_energy_wh, initial_sharp_wh, initial_peak_wh, initial_flat_wh, "
            "initial_valley_wh FROM meter_installations WHERE id = ?1");
        s.bind(1, installationId);
        if (s.step() != Statement::Step::Row) {
            fail(s.error(), QStringLiteral("installation %1 not found").arg(installationId));
            return std::nullopt;
        }
        std::optional<Point> p;
        if (!s.isNull(1))
            p = Point{s.int64(0), s.int64(1), slotsFrom(s, 2)};
        s.reset();
        return p;
    }

    // The point's account: (id, billed). The current link's account, billed when it is open; a
    // point left vacant keeps the last account it had (its tariff prices the unbilled interval).
    // 0 = never linked.
    std::pair<qint64, bool> accountOf(qint64 pointId)
    {
        Statement &s = prepared(m_account,
            "SELECT a.id, a.status = 'open' AND amp.unlinked_at_ms IS NULL FROM account_metering_points amp "
            "JOIN accounts a ON a.id = amp.account_id WHERE amp.metering_point_id = ?1 "
            "ORDER BY amp.linked_at_ms DESC, amp.id DESC LIMIT 1");
        s.bind(1, pointId);
        std::pair<qint64, bool> out{0, false};
        const Statement::Step step = s.step();
        if (step == Statement::Step::Row)
            out = {s.int64(0), s.int64(1) != 0};
        else if (step == Statement::Step::Error)
            fail(s.error(), QStringLiteral("account of point %1").arg(pointId));
        s.reset();
        return out;
    }

    void moveCursor(qint64 pointId, qint64 readingId, const Cursor &c)
    {
        Statement &s = prepared(m_updateCursor,
            "UPDATE billing_state SET last_charged_reading_id = ?2, sub_fen_remainder = ?3, tier_month = ?4, "
            "tier_month_energy_wh = ?5, tier_year = ?6, tier_year_energy_wh = ?7, updated_at_ms = ?8 "
            "WHERE metering_point_id = ?1");
        s.bind(1, pointId).bind(2, readingId).bind(3, c.remainder.units);
        if (c.month.periodKey.isEmpty())
            s.bindNull(4);
        else
            s.bind(4, c.month.periodKey);
        s.bind(5, c.month.energyWh);
        if (c.year.periodKey.isEmpty())
            s.bindNull(6);
        else
            s.bind(6, c.year.periodKey);
        s.bind(7, c.year.energyWh).bind(8, m_nowMs);
        if (const SqlError e = s.run(); !e.ok())
            fail(e, QStringLiteral("moving the cursor of point %1").arg(pointId));
    }

    void charge(qint64 pointId, qint64 installationId, Cursor cursor, const IntervalPlan &plan)
    {
        const qint64 accountId = cursor.accountId;
        const bool accountOpen = cursor.accountOpen;
        const QDate day = m_book.localDate(plan.to.takenAtMs);
        const TariffVersion *version = m_book.versionFor(pointId, accountId, day);
        if (!version) {
            ++outcome.unpriced;
            qCWarning(lcBilling, "metering point %lld has no tariff in force on %s: reading %lld not charged yet",
                pointId, qUtf8Printable(day.toString(Qt::ISODate)), plan.toReadingId);
            return;
        }

        IntervalEnergy e;
        e.fromMs = plan.from.takenAtMs;
        e.toMs = plan.to.takenAtMs;
        if (!plan.held) {
            e.totalWh = unwrapDelta(plan.to.totalWh, plan.from.totalWh);
            if (plan.from.slotsWh && plan.to.slotsWh) {
                e.slotsMeasured = true;
                for (size_t i = 0; i < 4; ++i)
                    e.slotWh[i] = unwrapDelta((*plan.to.slotsWh)[i], (*plan.from.slotsWh)[i]);
            }
            if (e.totalWh == 0)
                return; // nothing used: no interval, the baseline stays
        }

        const QString monthKey = tierPeriodKey(TierPeriod::Month, day);
        const QString yearKey = tierPeriodKey(TierPeriod::Year, day);
        const TierAccumulator &tierBefore
            = version->tierPeriod == TierPeriod::Year ? cursor.year : cursor.month;
        const bool billed = accountOpen && !plan.held;
        const Rated rated = rate(*version, m_book.calendar(), m_book.timeZone(), e, tierBefore, cursor.remainder);

        const Money amount = billed ? rated.amount : Money::zero();
        const Remainder remainderAfter = billed ? rated.remainderAfter : cursor.remainder;
        const QByteArray breakdown = rated.breakdownJson(plan.held ? QByteArrayView("\"held\":true")
                : accountOpen                                      ? QByteArrayView()
                : accountId == 0 ? QByteArrayView("\"unbilled\":\"no account\"")
                                 : QByteArrayView("\"unbilled\":\"account not open\""));

        Statement &s = prepared(m_insertInterval,
            "INSERT INTO charge_intervals (metering_point_id, installation_id, from_reading_id, to_reading_id, "
            "tariff_version_id, energy_wh, energy_sharp_wh, energy_peak_wh, energy_flat_wh, energy_valley_wh, "
            "slots_estimated, amount_fen, sub_fen_remainder_after, breakdown, created_at_ms, account_id, held) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)");
        s.bind(1, pointId).bind(2, installationId);
        if (plan.fromReadingId)
            s.bind(3, *plan.fromReadingId);
        else
            s.bindNull(3);
        s.bind(4, plan.toReadingId).bind(5, version->id).bind(6, plan.held ? 0 : e.totalWh);
        for (int i = 0; i < 4; ++i)
            s.bind(7 + i, plan.held ? 0 : rated.slotWh[size_t(i)]);
        s.bind(11, qint64(!plan.held && rated.estimated)).bind(12, amount.fen()).bind(13, remainderAfter.units);
        s.bind(14, QString::fromUtf8(breakdown)).bind(15, m_nowMs);
        if (billed)
            s.bind(16, accountId);
        else
            s.bindNull(16);
        s.bind(17, qint64(plan.held));
        if (const SqlError err = s.run(); !err.ok())
            return fail(err, QStringLiteral("charge interval of point %1").arg(pointId));
        const qint64 intervalId = m_tx.db().lastInsertRowId();

        if (billed && amount > Money::zero()) {
            const ledger::PostResult posted = m_ledger.charge(accountId, intervalId, amount);
            if (posted.outcome != ledger::PostOutcome::Posted) {
                if (!m_failed && posted.outcome != ledger::PostOutcome::StoreFailed)
                    fail(SqlError{}, QStringLiteral("ledger refused the charge of interval %1: %2 (%3)")
                                         .arg(intervalId)
                                         .arg(ledger::postOutcomeCode(posted.outcome), posted.message));
                m_failed = true;
                return;
            }
            ++outcome.charged;
            outcome.amount += amount;
        }

        const qint64 energy = plan.held ? 0 : e.totalWh;
        cursor.remainder = remainderAfter;
        cursor.month = advanced(cursor.month, monthKey, energy);
        cursor.year = advanced(cursor.year, yearKey, energy);
        moveCursor(pointId, plan.toReadingId, cursor);

        ++outcome.intervals;
        if (plan.held)
            ++outcome.held;
        else if (!accountOpen)
            ++outcome.unbilled;
        outcome.points.insert(pointId);
        if (billed)
            outcome.accounts.insert(accountId);
    }

    store::Transaction &m_tx;
    const TariffBook &m_book;
    const qint64 m_nowMs;
    ledger::LedgerWriter m_ledger;
    bool m_failed = false;
    std::optional<Statement> m_reading, m_cursor, m_insertCursor, m_initial, m_account, m_updateCursor,
        m_insertInterval;
};

} // namespace

Biller::Biller(std::shared_ptr<const TariffBook> book)
    : m_book(std::move(book))
{
    PREPAY_CHECK(m_book);
}

void Biller::setBook(std::shared_ptr<const TariffBook> book)
{
    PREPAY_CHECK(book);
    std::lock_guard lock(m_mutex);
    m_book = std::move(book);
}

std::shared_ptr<const TariffBook> Biller::book() const
{
    std::lock_guard lock(m_mutex);
    return m_book;
}

BillingOutcome Biller::billBatch(store::Transaction &tx, const QList<poller::StoredReading> &readings, qint64 nowMs)
{
    const std::shared_ptr<const TariffBook> book = this->book();
    Pass pass(tx, *book, nowMs);
    for (const poller::StoredReading &r : readings) {
        pass.bill(r);
        if (pass.failed())
            break;
    }
    return pass.outcome;
}

BillingOutcome Biller::billReading(store::Transaction &tx, qint64 readingId, qint64 nowMs)
{
    const std::shared_ptr<const TariffBook> book = this->book();
    Pass pass(tx, *book, nowMs);
    pass.bill(readingId);
    return pass.outcome;
}

RecomputeReport recompute(store::Connection &db, const TariffBook &book, qint64 pointId)
{
    RecomputeReport report;
    Statement s = db.prepare(QStringLiteral(
        "SELECT ci.id, ci.metering_point_id, ci.tariff_version_id, ci.energy_wh, ci.energy_sharp_wh, "
        "ci.energy_peak_wh, ci.energy_flat_wh, ci.energy_valley_wh, ci.slots_estimated, ci.amount_fen, "
        "ci.sub_fen_remainder_after, ci.held, ci.account_id, t.taken_at_ms, coalesce(f.taken_at_ms, i.installed_at_ms), "
        "t.energy_total_wh, t.energy_sharp_wh, t.energy_peak_wh, t.energy_flat_wh, t.energy_valley_wh, "
        "coalesce(f.energy_total_wh, i.initial_energy_wh), "
        "CASE WHEN f.id IS NULL THEN i.initial_sharp_wh ELSE f.energy_sharp_wh END, "
        "CASE WHEN f.id IS NULL THEN i.initial_peak_wh ELSE f.energy_peak_wh END, "
        "CASE WHEN f.id IS NULL THEN i.initial_flat_wh ELSE f.energy_flat_wh END, "
        "CASE WHEN f.id IS NULL THEN i.initial_valley_wh ELSE f.energy_valley_wh END, "
        "(SELECT amp.account_id FROM account_metering_points amp WHERE amp.metering_point_id = ci.metering_point_id "
        " AND amp.linked_at_ms <= t.taken_at_ms ORDER BY amp.linked_at_ms DESC, amp.id DESC LIMIT 1) "
        "FROM charge_intervals ci JOIN readings t ON t.id = ci.to_reading_id "
        "LEFT JOIN readings f ON f.id = ci.from_reading_id JOIN meter_installations i ON i.id = ci.installation_id "
        "WHERE ?1 = 0 OR ci.metering_point_id = ?1 ORDER BY ci.metering_point_id, ci.id"));
    s.bind(1, pointId);

    struct State
    {
        Remainder remainder;
        TierAccumulator month, year;
    };
    QHash<qint64, State> states;
    Statement::Step step;
    while ((step = s.step()) == Statement::Step::Row) {
        ++report.intervals;
        const qint64 id = s.int64(0);
        const qint64 point = s.int64(1);
        const qint64 storedVersion = s.int64(2);
        const Money storedAmount = Money::fromFen(s.int64(9));
        const Remainder storedRemainder{s.int64(10)};
        const bool held = s.int64(11) != 0;
        const bool billed = !s.isNull(12);
        report.storedAmount += storedAmount;
        State &st = states[point];
        auto mismatch = [&](const QString &what) { report.mismatches.append({id, what}); };

        const qint64 toMs = s.int64(13);
        const QDate day = book.localDate(toMs);
        // The account linked at the time, or the last one before a vacancy (as the biller).
        const qint64 accountAtTheTime = s.isNull(25) ? 0 : s.int64(25);
        const TariffVersion *version = book.versionFor(point, accountAtTheTime, day);
        if (!version) {
            mismatch(QStringLiteral("no tariff in force for point %1 on %2 (stored: version %3)")
                         .arg(point)
                         .arg(day.toString(Qt::ISODate))
                         .arg(storedVersion));
            continue;
        }
        if (version->id != storedVersion)
            mismatch(QStringLiteral("priced with version %1; %2 is in force").arg(storedVersion).arg(version->label()));

        IntervalEnergy e;
        e.fromMs = s.int64(14);
        e.toMs = toMs;
        if (!held) {
            e.totalWh = unwrapDelta(s.int64(15), s.int64(20));
            bool slots = true;
            for (int i = 0; i < 4; ++i)
                slots = slots && !s.isNull(16 + i) && !s.isNull(21 + i);
            if (slots) {
                e.slotsMeasured = true;
                for (int i = 0; i < 4; ++i)
                    e.slotWh[size_t(i)] = unwrapDelta(s.int64(16 + i), s.int64(21 + i));
            }
        }
        const TierAccumulator &tierBefore = version->tierPeriod == TierPeriod::Year ? st.year : st.month;
        const Rated rated = rate(*version, book.calendar(), book.timeZone(), e, tierBefore, st.remainder);
        const bool charge = billed && !held;
        const Money amount = charge ? rated.amount : Money::zero();
        const Remainder after = charge ? rated.remainderAfter : st.remainder;
        report.recomputedAmount += amount;
        if (amount != storedAmount || after != storedRemainder) {
            mismatch(QStringLiteral("stored %1 fen, remainder %2; recomputed %3 fen, remainder %4")
                         .arg(storedAmount.fen())
                         .arg(storedRemainder.units)
                         .arg(amount.fen())
                         .arg(after.units));
        }
        if (!held) {
            for (int i = 0; i < 4; ++i) {
                if (rated.slotWh[size_t(i)] != s.int64(4 + i)) {
                    mismatch(QStringLiteral("slot %1: stored %2 Wh, recomputed %3 Wh")
                                 .arg(slotCode(Slot(i)))
                                 .arg(s.int64(4 + i))
                                 .arg(rated.slotWh[size_t(i)]));
                }
            }
        }
        const qint64 energy = held ? 0 : e.totalWh;
        st.remainder = after;
        st.month = advanced(st.month, tierPeriodKey(TierPeriod::Month, day), energy);
        st.year = advanced(st.year, tierPeriodKey(TierPeriod::Year, day), energy);
    }
    if (step == Statement::Step::Error)
        report.error = s.error().toString();
    return report;
}

} // namespace prepay::billing
