// Alarms (DESIGN.md §2.4): one row of `alarms` per episode — raised when a condition starts,
// cleared when it ends — never one per poll. The partial unique index of the schema allows one
// open alarm per (kind, subject); raise() of an open one and clear() of a closed one do nothing,
// so callers simply state the condition every time they evaluate it (that is the hysteresis:
// an episode, not a stream). Stored for the alarm report and, later, for SMS.
//
// Everything here runs inside the caller's write transaction.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <memory>

namespace prepay::store {
class Transaction;
}

namespace prepay::control {

enum class Severity {
    Info,
    Warning,
    Critical
};

// Alarm kinds and subjects are the schema's codes ('alarm1', 'metering_point', …).
struct AlarmSubject
{
    QString kind;        // 'metering_point', 'meter', 'meter_command', …
    qint64 id = 0;
};

// Raises the alarm if it is not open yet (true when this call raised it). A failed statement
// fails the transaction.
bool raiseAlarm(store::Transaction &tx, const QString &kind, Severity severity, const AlarmSubject &subject,
    const QJsonObject &detail, qint64 nowMs);
// Clears the open alarm, if any (true when this call cleared it).
bool clearAlarm(store::Transaction &tx, const QString &kind, const AlarmSubject &subject, qint64 nowMs);
// raiseAlarm() when `active`, clearAlarm() otherwise.
bool setAlarm(store::Transaction &tx, bool active, const QString &kind, Severity severity, const AlarmSubject &subject,
    const QJsonObject &detail, qint64 nowMs);

// raiseAlarm() and clearAlarm() with their statements prepared once, for a pass that states many
// conditions in one transaction (the controller's balance alarms of a whole batch). Same SQL, same
// results; it lives as long as the pass, inside the transaction it was made for.
class AlarmWriter
{
public:
    explicit AlarmWriter(store::Transaction &tx);
    ~AlarmWriter();
    AlarmWriter(const AlarmWriter &) = delete;
    AlarmWriter &operator=(const AlarmWriter &) = delete;

    bool raise(const QString &kind, Severity severity, const AlarmSubject &subject, const QJsonObject &detail,
        qint64 nowMs);
    bool clear(const QString &kind, const AlarmSubject &subject, qint64 nowMs);

private:
    struct Statements;
    store::Transaction &m_tx;
    std::unique_ptr<Statements> m_statements;
};

// The meter alarms that follow the poller's twin: meter_offline while meter_state says offline
// (失联), reading_held while a meter has held readings nobody reviewed. Two set-based statements
// each way; run after every batch.
void syncMeterAlarms(store::Transaction &tx, qint64 nowMs);

} // namespace prepay::control
