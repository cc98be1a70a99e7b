#include "alarms.h"

#include "api/check.h"
#include "store/store.h"

#include <QtCore/QJsonDocument>

#include <optional>

namespace prepay::control {

using store::SqlError;
using store::Statement;

namespace {

QString severityCode(Severity s)
{
    switch (s) {
    case Severity::Info: return QStringLiteral("info");
    case Severity::Warning: return QStringLiteral("warning");
    case Severity::Critical: return QStringLiteral("critical");
    }
    PREPAY_CHECK(false);
    return {};
}

bool runChanged(store::Transaction &tx, Statement &s)
{
    if (const SqlError e = s.run(); !e.ok()) {
        tx.fail(e);
        return false;
    }
    return tx.db().changes() > 0;
}

} // namespace

struct AlarmWriter::Statements
{
    std::optional<Statement> raise, clear;
};

AlarmWriter::AlarmWriter(store::Transaction &tx)
    : m_tx(tx)
    , m_statements(std::make_unique<Statements>())
{ }

AlarmWriter::~AlarmWriter() = default;

bool AlarmWriter::raise(
    const QString &kind, Severity severity, const AlarmSubject &subject, const QJsonObject &detail, qint64 nowMs)
{
    if (!m_statements->raise) {
        m_statements->raise.emplace(m_tx.prepare(QStringLiteral(
            "INSERT INTO alarms (kind, severity, subject_kind, subject_id, detail, raised_at_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
            "ON CONFLICT (kind, subject_kind, subject_id) WHERE cleared_at_ms IS NULL DO NOTHING")));
    }
    Statement &s = *m_statements->raise;
    s.bind(1, kind).bind(2, severityCode(severity)).bind(3, subject.kind).bind(4, subject.id);
    s.bind(5, QString::fromUtf8(QJsonDocument(detail).toJson(QJsonDocument::Compact))).bind(6, nowMs);
    return runChanged(m_tx, s);
}

bool AlarmWriter::clear(const QString &kind, const AlarmSubject &subject, qint64 nowMs)
{
    if (!m_statements->clear) {
        m_statements->clear.emplace(m_tx.prepare(QStringLiteral(
            "UPDATE alarms SET cleared_at_ms = max(?4, raised_at_ms) WHERE kind = ?1 AND subject_kind = ?2 "
            "AND subject_id = ?3 AND cleared_at_ms IS NULL")));
    }
    Statement &s = *m_statements->clear;
    s.bind(1, kind).bind(2, subject.kind).bind(3, subject.id).bind(4, nowMs);
    return runChanged(m_tx, s);
}

bool raiseAlarm(store::Transaction &tx, const QString &kind, Severity severity, const AlarmSubject &subject,
    const QJsonObject &detail, qint64 nowMs)
{
    return AlarmWriter(tx).raise(kind, severity, subject, detail, nowMs);
}

bool clearAlarm(store::Transaction &tx, const QString &kind, const AlarmSubject &subject, qint64 nowMs)
{
    return AlarmWriter(tx).clear(kind, subject, nowMs);
}

bool setAlarm(store::Transaction &tx, bool active, const QString &kind, Severity severity, const AlarmSubject &subject,
    const QJsonObject &detail, qint64 nowMs)
{
    return active ? raiseAlarm(tx, kind, severity, subject, detail, nowMs) : clearAlarm(tx, kind, subject, nowMs);
}

void syncMeterAlarms(store::Transaction &tx, qint64 nowMs)
{
    static const char *const statements[] = {
        // Offline (失联) meters without an open alarm.
        "INSERT INTO alarms (kind, severity, subject_kind, subject_id, detail, raised_at_ms) "
        "SELECT 'meter_offline', 'warning', 'meter', ms.meter_id, json_object('since_ms', ms.comm_state_since_ms, "
        "'last_error', ms.last_error), ?1 FROM meter_state ms WHERE ms.comm_state = 'offline' "
        "AND NOT EXISTS (SELECT 1 FROM alarms a WHERE a.kind = 'meter_offline' AND a.subject_kind = 'meter' "
        "AND a.subject_id = ms.meter_id AND a.cleared_at_ms IS NULL)",
        // Back online.
        "UPDATE alarms SET cleared_at_ms = max(?1, raised_at_ms) WHERE kind = 'meter_offline' AND subject_kind = "
        "'meter' AND cleared_at_ms IS NULL AND subject_id IN (SELECT meter_id FROM meter_state WHERE comm_state = "
        "'online')",
        // Held readings waiting for review (through the partial index of exactly those, so the
        // cost follows the review queue, not every reading ever stored).
        "INSERT INTO alarms (kind, severity, subject_kind, subject_id, detail, raised_at_ms) "
        "SELECT 'reading_held', 'warning', 'meter', r.meter_id, json_object('reading_id', max(r.id), 'validation', "
        "r.validation, 'note', r.validation_note), ?1 FROM readings r INDEXED BY readings_review_queue "
        "WHERE r.validation IN ('reset_held', 'swap_held', 'jump_held') AND r.review_decision IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM alarms a WHERE a.kind = 'reading_held' AND a.subject_kind = 'meter' "
        "AND a.subject_id = r.meter_id AND a.cleared_at_ms IS NULL) GROUP BY r.meter_id",
        // Reviewed.
        "UPDATE alarms SET cleared_at_ms = max(?1, raised_at_ms) WHERE kind = 'reading_held' AND subject_kind = "
        "'meter' AND cleared_at_ms IS NULL AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = "
        "alarms.subject_id AND r.validation IN ('reset_held', 'swap_held', 'jump_held') AND r.review_decision IS NULL)",
    };
    for (const char *sql : statements) {
        Statement s = tx.prepare(QString::fromUtf8(sql));
        s.bind(1, nowMs);
        if (const SqlError e = s.run(); !e.ok()) {
            tx.fail(e);
            return;
        }
    }
}

} // namespace prepay::control
