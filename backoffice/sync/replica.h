// A kiosk's copy of the account directory (directory.h), fed by snapshots and event batches of
// the sync feed, and kept across restarts in one file. Qt Core only, no store: the kiosk links
// it (prepay_sync_replica).
//
// The protocol rule it enforces (directory.h): a batch covers every directory event in
// (from_seq, to_seq]. Seqs are shared with the feed's other topics, so a missing event cannot be
// seen from seqs alone; instead a batch is accepted only if it continues the replica's cursor
// (from_seq ≤ lastSeq < to_seq). Then:
//   - a lost batch shows as the next one starting past lastSeq → Gap: nothing applied; the
//     client subscribes again with since_seq = lastSeq;
//   - a duplicated or late batch (to_seq ≤ lastSeq) → Duplicate: nothing applied; an overlapping
//     one (from_seq < lastSeq < to_seq) applies only its events past lastSeq;
//   - resync_needed, another feed_id, or no snapshot yet → ResyncNeeded: take sync.snapshot;
//   - events out of order or outside (from_seq, to_seq] → Invalid: nothing applied.
// Hence no update is missed (every accepted batch starts where the replica stands and is complete
// for its range) and none is applied twice (the cursor only moves forward past what was applied).
// A batch is applied whole or not at all.
#pragma once

#include "directory.h"

#include <QtCore/QHash>
#include <QtCore/QMap>
#include <QtCore/QString>

#include <optional>

namespace prepay::sync {

enum class ApplyOutcome {
    Applied,      // the replica now stands at the batch's to_seq
    Duplicate,    // nothing new in it (to_seq ≤ lastSeq): ignored
    Gap,          // it starts past lastSeq: subscribe again from lastSeq
    ResyncNeeded, // take a snapshot
    Invalid,      // malformed (error says how): ignored
};
QString applyOutcomeCode(ApplyOutcome outcome); // "applied", "duplicate", "gap", "resync_needed", "invalid"

class Replica
{
public:
    // Replaces everything with the snapshot; lastSeq = its seq.
    void applySnapshot(const DirectorySnapshot &snapshot);
    ApplyOutcome applyBatch(const DirectoryBatch &batch, QString *error = nullptr);

    bool hasSnapshot() const { return !m_feedId.isEmpty(); }
    const QString &feedId() const { return m_feedId; }
    qint64 lastSeq() const { return m_lastSeq; }
    const QMap<qint64, DirectoryRow> &rows() const { return m_rows; } // by account id
    // The row a tenant finds by typing the shop number (unique among accounts not closed).
    std::optional<DirectoryRow> findShop(const QString &shopNo) const;
    // The replica as a snapshot (rows ascending): what save() writes.
    DirectorySnapshot toSnapshot() const;

    // The file is snapshotToJson() plus "format":"prepay.directory-replica/1", written through
    // QSaveFile (a crash leaves the old file or the new one, never a half-written one).
    bool save(const QString &path, QString *error) const;
    // Replaces the replica with the file's content; on any error the replica is left unchanged.
    bool load(const QString &path, QString *error);

private:
    void put(const DirectoryRow &row);
    void remove(qint64 accountId);

    QString m_feedId;
    qint64 m_lastSeq = 0;
    QMap<qint64, DirectoryRow> m_rows;
    QHash<QString, qint64> m_shops; // shop number → account id
};

} // namespace prepay::sync
