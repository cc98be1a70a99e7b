#include "modes.h"

#include "controller.h"

#include "store/store.h"

namespace prepay::control {

QString modeOutcomeCode(ModeOutcome outcome)
{
    switch (outcome) {
    case ModeOutcome::Changed: return QStringLiteral("changed");
    case ModeOutcome::Unchanged: return QStringLiteral("unchanged");
    case ModeOutcome::NotFound: return QStringLiteral("not_found");
    case ModeOutcome::Invalid: return QStringLiteral("invalid");
    case ModeOutcome::StoreFailed: return QStringLiteral("store_failed");
    }
    return QStringLiteral("store_failed");
}

ModeResult setMode(store::Transaction &tx, const billing::TariffBook &book, const ModeChange &change, qint64 nowMs)
{
    ModeResult result;
    const auto refuse = [&](ModeOutcome outcome, const QString &message) {
        tx.rollback(message);
        result.outcome = outcome;
        result.message = message;
        return result;
    };
    if (change.mode != Mode::Auto && change.reason.trimmed().isEmpty())
        return refuse(ModeOutcome::Invalid, QStringLiteral("reason: required for %1").arg(modeCode(change.mode)));
    if (change.untilMs && (change.mode == Mode::Auto || *change.untilMs <= nowMs))
        return refuse(ModeOutcome::Invalid,
            change.mode == Mode::Auto ? QStringLiteral("until_ms: only a forced mode ends")
                                      : QStringLiteral("until_ms: must be in the future"));

    store::Statement point = tx.prepare(QStringLiteral(
        "SELECT mp.id, coalesce(cs.control_mode, 'auto'), cs.mode_expires_at_ms FROM metering_points mp "
        "LEFT JOIN control_settings cs ON cs.metering_point_id = mp.id WHERE mp.code = ?1"));
    point.bind(1, change.pointCode);
    if (point.step() != store::Statement::Step::Row)
        return refuse(ModeOutcome::NotFound, QStringLiteral("no metering point %1").arg(change.pointCode));
    result.pointId = point.int64(0);
    result.before = point.text(1);
    const std::optional<qint64> expiresBefore = point.isNull(2) ? std::nullopt : std::optional<qint64>(point.int64(2));
    if (result.before == modeCode(change.mode) && expiresBefore == change.untilMs) {
        result.outcome = ModeOutcome::Unchanged;
        result.message = QStringLiteral("%1 is in %2 already").arg(change.pointCode, result.before);
        return result;
    }

    const bool automatic = change.mode == Mode::Auto;
    store::Statement write = tx.prepare(QStringLiteral(
        "INSERT INTO control_settings (metering_point_id, control_mode, mode_reason, mode_expires_at_ms, mode_set_by, "
        "mode_set_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
        "ON CONFLICT (metering_point_id) DO UPDATE SET control_mode = excluded.control_mode, "
        "mode_reason = excluded.mode_reason, mode_expires_at_ms = excluded.mode_expires_at_ms, "
        "mode_set_by = excluded.mode_set_by, mode_set_at_ms = excluded.mode_set_at_ms, "
        "updated_at_ms = excluded.updated_at_ms"));
    write.bind(1, result.pointId).bind(2, modeCode(change.mode)).bind(5, change.operatorId).bind(6, nowMs);
    change.reason.isEmpty() ? write.bindNull(3) : write.bind(3, change.reason);
    if (change.untilMs && !automatic)
        write.bind(4, *change.untilMs);
    else
        write.bindNull(4);
    if (const store::SqlError e = write.run(); !e.ok()) {
        tx.fail(e);
        result.message = e.toString();
        return result;
    }
    result.commandIds = Controller::evaluate(tx, book, {result.pointId}, nowMs);
    if (!tx.error().ok()) {
        result.message = tx.error().toString();
        return result;
    }
    result.outcome = ModeOutcome::Changed;
    result.message = QStringLiteral("%1: %2 → %3").arg(change.pointCode, result.before, modeCode(change.mode));
    return result;
}

} // namespace prepay::control
