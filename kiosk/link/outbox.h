// The kiosk's outbox: the events it reports to prepayd (receipt printed or failed, printer
// state), kept on disk until prepayd acknowledged them, so a crash, a power cut or a week
// offline loses none. Delivered in order, one at a time, with kiosk.report; each event carries
// its UUID, and prepayd stores an event id once, so sending again after a lost answer is safe:
// every event is stored exactly once.
//
// The file is append-only JSON lines, fsync'ed after every line: {"event_id","kind","at_ms",
// "fields"} for an event, {"ack":"<event_id>"} once prepayd took it. Loading replays it; a torn
// last line (a crash mid-write) is ignored. When nothing is pending the file is emptied, and it
// is rewritten with the pending events only once it holds more than compactLinesMin lines.
#pragma once

#include <QtCore/QFile>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>

namespace prepay::kiosk {

struct OutboxEvent
{
    QString eventId; // a UUID, lower case
    QString kind;    // receipt_printed, receipt_failed, printer_state
    qint64 atMs = 0;
    QJsonObject fields;
};

class Outbox
{
public:
    static constexpr int pendingMax = 10'000;     // beyond this the oldest events are dropped (logged)
    static constexpr int compactLinesMin = 1'000; // rewrite the file past this many lines

    // Opens (creating) the file and loads what is pending; false and *error if it cannot be used.
    bool open(const QString &path, QString *error);
    // Appends a new event (durably: written and fsync'ed before this returns true).
    bool append(const OutboxEvent &event, QString *error);
    // prepayd has it: it leaves the outbox (durably).
    bool acknowledge(const QString &eventId, QString *error);
    const QList<OutboxEvent> &pending() const { return m_pending; }

private:
    bool writeLine(const QJsonObject &line, QString *error);
    bool rewrite(QString *error);

    QString m_path;
    QFile m_file;
    QList<OutboxEvent> m_pending;
    int m_lines = 0;
};

} // namespace prepay::kiosk
