#include "replica.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QSaveFile>

namespace prepay::sync {

namespace {

const QLatin1StringView kFormatKey("format");
const QLatin1StringView kFormat("prepay.directory-replica/1");

} // namespace

QString applyOutcomeCode(ApplyOutcome outcome)
{
    switch (outcome) {
    case ApplyOutcome::Applied: return QStringLiteral("applied");
    case ApplyOutcome::Duplicate: return QStringLiteral("duplicate");
    case ApplyOutcome::Gap: return QStringLiteral("gap");
    case ApplyOutcome::ResyncNeeded: return QStringLiteral("resync_needed");
    case ApplyOutcome::Invalid: return QStringLiteral("invalid");
    }
    return QStringLiteral("invalid");
}

void Replica::applySnapshot(const DirectorySnapshot &snapshot)
{
    m_feedId = snapshot.feedId;
    m_lastSeq = snapshot.seq;
    m_rows.clear();
    m_shops.clear();
    for (const DirectoryRow &r : snapshot.rows)
        put(r);
}

ApplyOutcome Replica::applyBatch(const DirectoryBatch &batch, QString *error)
{
    if (!hasSnapshot() || batch.resyncNeeded || batch.feedId != m_feedId)
        return ApplyOutcome::ResyncNeeded;
    // Checked whole before anything is applied: a batch is taken all or nothing.
    if (batch.toSeq < batch.fromSeq) {
        if (error)
            *error = QStringLiteral("to_seq %1 before from_seq %2").arg(batch.toSeq).arg(batch.fromSeq);
        return ApplyOutcome::Invalid;
    }
    qint64 previous = batch.fromSeq;
    for (const DirectoryEvent &e : batch.events) {
        if (e.seq <= previous || e.seq > batch.toSeq) {
            if (error)
                *error = QStringLiteral("event seq %1 outside (%2, %3] or out of order")
                             .arg(e.seq)
                             .arg(batch.fromSeq)
                             .arg(batch.toSeq);
            return ApplyOutcome::Invalid;
        }
        if (e.row && e.row->accountId != e.accountId) {
            if (error)
                *error = QStringLiteral("event seq %1 names two accounts").arg(e.seq);
            return ApplyOutcome::Invalid;
        }
        previous = e.seq;
    }
    if (batch.toSeq <= m_lastSeq)
        return ApplyOutcome::Duplicate;
    if (batch.fromSeq > m_lastSeq)
        return ApplyOutcome::Gap;
    for (const DirectoryEvent &e : batch.events) {
        if (e.seq <= m_lastSeq)
            continue; // already applied through an earlier, overlapping batch
        if (e.row)
            put(*e.row);
        else
            remove(e.accountId);
    }
    m_lastSeq = batch.toSeq;
    return ApplyOutcome::Applied;
}

std::optional<DirectoryRow> Replica::findShop(const QString &shopNo) const
{
    const auto it = m_shops.constFind(shopNo);
    if (it == m_shops.cend())
        return std::nullopt;
    return m_rows.value(it.value());
}

DirectorySnapshot Replica::toSnapshot() const
{
    DirectorySnapshot s;
    s.feedId = m_feedId;
    s.seq = m_lastSeq;
    s.rows = m_rows.values();
    return s;
}

bool Replica::save(const QString &path, QString *error) const
{
    QJsonObject json = snapshotToJson(toSnapshot());
    json.insert(kFormatKey, kFormat);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    file.write(QJsonDocument(json).toJson(QJsonDocument::Compact));
    if (!file.commit()) {
        *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool Replica::load(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    QJsonParseError parse;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parse);
    if (parse.error != QJsonParseError::NoError || !doc.isObject()) {
        *error = QStringLiteral("%1: not a JSON object (%2)").arg(path, parse.errorString());
        return false;
    }
    if (doc.object().value(kFormatKey).toString() != kFormat) {
        *error = QStringLiteral("%1: not a directory replica of format %2").arg(path, kFormat);
        return false;
    }
    QString why;
    const std::optional<DirectorySnapshot> s = snapshotFromJson(doc.object(), &why);
    if (!s) {
        *error = QStringLiteral("%1: %2").arg(path, why);
        return false;
    }
    applySnapshot(*s);
    return true;
}

void Replica::put(const DirectoryRow &row)
{
    // The old row's shop number, if it changed, no longer leads here.
    if (const auto old = m_rows.constFind(row.accountId); old != m_rows.cend() && old->shopNo != row.shopNo) {
        if (m_shops.value(old->shopNo) == row.accountId)
            m_shops.remove(old->shopNo);
    }
    m_rows.insert(row.accountId, row);
    m_shops.insert(row.shopNo, row.accountId);
}

void Replica::remove(qint64 accountId)
{
    const auto it = m_rows.find(accountId);
    if (it == m_rows.end())
        return;
    if (m_shops.value(it->shopNo) == accountId)
        m_shops.remove(it->shopNo);
    m_rows.erase(it);
}

} // namespace prepay::sync
