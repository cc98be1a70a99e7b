#include "outbox.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QLoggingCategory>
#include <QtCore/QSaveFile>

#include <unistd.h>

namespace prepay::kiosk {

namespace {

Q_LOGGING_CATEGORY(lcOutbox, "prepay.kiosk.outbox")

QJsonObject toJson(const OutboxEvent &e)
{
    return QJsonObject{{QStringLiteral("event_id"), e.eventId}, {QStringLiteral("kind"), e.kind},
        {QStringLiteral("at_ms"), e.atMs}, {QStringLiteral("fields"), e.fields}};
}

QByteArray lineOf(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

} // namespace

bool Outbox::open(const QString &path, QString *error)
{
    m_path = path;
    m_pending.clear();
    m_lines = 0;
    m_file.close();
    m_file.setFileName(path);
    if (!m_file.open(QIODevice::ReadWrite | QIODevice::Append)) {
        *error = QStringLiteral("%1: %2").arg(path, m_file.errorString());
        return false;
    }
    m_file.seek(0);
    const QByteArray content = m_file.readAll();
    for (const QByteArray &line : content.split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        ++m_lines;
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        if (o.contains(QLatin1StringView("ack"))) {
            const QString id = o.value(QLatin1StringView("ack")).toString();
            m_pending.removeIf([&id](const OutboxEvent &e) { return e.eventId == id; });
            continue;
        }
        OutboxEvent e;
        e.eventId = o.value(QLatin1StringView("event_id")).toString();
        e.kind = o.value(QLatin1StringView("kind")).toString();
        e.atMs = o.value(QLatin1StringView("at_ms")).toInteger();
        e.fields = o.value(QLatin1StringView("fields")).toObject();
        if (e.eventId.isEmpty() || e.kind.isEmpty()) {
            qCWarning(lcOutbox) << path << "ignoring an unreadable line (a write cut short?)";
            continue;
        }
        m_pending.append(e);
    }
    // A torn last line must not glue itself to the next one.
    if (!content.isEmpty() && !content.endsWith('\n'))
        return rewrite(error);
    if (m_pending.isEmpty() && m_lines > 0)
        return rewrite(error);
    return true;
}

bool Outbox::append(const OutboxEvent &event, QString *error)
{
    if (!writeLine(toJson(event), error))
        return false;
    m_pending.append(event);
    if (m_pending.size() > pendingMax) {
        qCWarning(lcOutbox) << "outbox full: dropping the oldest event" << m_pending.first().kind
                            << m_pending.first().eventId;
        return acknowledge(m_pending.first().eventId, error);
    }
    return true;
}

bool Outbox::acknowledge(const QString &eventId, QString *error)
{
    if (!m_pending.removeIf([&eventId](const OutboxEvent &e) { return e.eventId == eventId; }))
        return true;
    if (m_pending.isEmpty() || m_lines >= compactLinesMin)
        return rewrite(error);
    return writeLine(QJsonObject{{QStringLiteral("ack"), eventId}}, error);
}

bool Outbox::writeLine(const QJsonObject &line, QString *error)
{
    const QByteArray bytes = lineOf(line);
    if (m_file.write(bytes) != bytes.size() || !m_file.flush() || ::fsync(m_file.handle()) != 0) {
        *error = QStringLiteral("%1: %2").arg(m_path, m_file.errorString());
        return false;
    }
    ++m_lines;
    return true;
}

// The pending events only, replacing the file atomically (QSaveFile: the old file or the new one).
bool Outbox::rewrite(QString *error)
{
    m_file.close();
    QSaveFile f(m_path);
    QByteArray content;
    for (const OutboxEvent &e : m_pending)
        content += lineOf(toJson(e));
    if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size() || !f.commit()) {
        *error = QStringLiteral("%1: %2").arg(m_path, f.errorString());
        return false;
    }
    m_lines = int(m_pending.size());
    if (!m_file.open(QIODevice::ReadWrite | QIODevice::Append)) {
        *error = QStringLiteral("%1: %2").arg(m_path, m_file.errorString());
        return false;
    }
    return true;
}

} // namespace prepay::kiosk
