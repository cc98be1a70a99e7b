#include "audit.h"

#include "auditlog.h"

#include "store/sqlite.h"
#include "store/store.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QtEndian>

#include <limits>

namespace prepay::audit {

namespace {

constexpr char kFormatTag[] = "prepay.audit.v1";
constexpr char kNullTag = 0x00;
constexpr char kValueTag = 0x01;

void appendValue(QByteArray &out, const QByteArray &bytes)
{
    // A row is bounded far below 4 GiB by SQLite's own limits (1 GB per value by default).
    Q_ASSERT(quint64(bytes.size()) <= 0xffffffffu);
    out.append(kValueTag);
    char length[4];
    qToBigEndian(quint32(bytes.size()), length);
    out.append(length, 4);
    out.append(bytes);
}

void appendInt(QByteArray &out, const std::optional<qint64> &value)
{
    if (value)
        appendValue(out, QByteArray::number(*value));
    else
        out.append(kNullTag);
}

void appendText(QByteArray &out, const std::optional<QString> &value)
{
    if (value)
        appendValue(out, value->toUtf8());
    else
        out.append(kNullTag);
}

std::optional<QString> nullIfEmpty(const QString &text)
{
    if (text.isEmpty())
        return std::nullopt;
    return text;
}

std::optional<QString> nullIfEmpty(const QByteArray &utf8)
{
    if (utf8.isEmpty())
        return std::nullopt;
    return QString::fromUtf8(utf8);
}

void bindOptional(store::Statement &s, int index, const std::optional<qint64> &value)
{
    if (value)
        s.bind(index, *value);
    else
        s.bindNull(index);
}

void bindOptional(store::Statement &s, int index, const std::optional<QString> &value)
{
    if (value)
        s.bind(index, *value);
    else
        s.bindNull(index);
}

std::optional<qint64> optionalInt(const store::Statement &s, int column)
{
    if (s.isNull(column))
        return std::nullopt;
    return s.int64(column);
}

std::optional<QString> optionalText(const store::Statement &s, int column)
{
    if (s.isNull(column))
        return std::nullopt;
    return s.text(column);
}

QString hex(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toHex());
}

} // namespace

QByteArray genesisHash()
{
    return QByteArray(hashBytes, '\0');
}

QByteArray canonicalEncoding(const Row &row)
{
    QByteArray out;
    out.reserve(256);
    appendValue(out, QByteArray(kFormatTag));
    appendInt(out, row.seq);
    appendInt(out, row.atMs);
    appendInt(out, row.operatorId);
    appendInt(out, row.sessionId);
    appendInt(out, row.kioskId);
    appendText(out, row.sourceAddress);
    appendText(out, row.action);
    appendText(out, row.subjectKind);
    appendText(out, row.subjectId);
    appendText(out, row.beforeJson);
    appendText(out, row.afterJson);
    appendText(out, row.reason);
    appendText(out, row.correlationId);
    return out;
}

QByteArray chainHash(const QByteArray &prevHash, const Row &row)
{
    QCryptographicHash sha(QCryptographicHash::Sha256);
    sha.addData(prevHash);
    sha.addData(canonicalEncoding(row));
    return sha.result();
}

qint64 append(store::Transaction &tx, const Entry &entry)
{
    // The chain's head, by the primary key: one index step however long the log is. Inside the
    // writer's transaction nobody else can append between this read and the insert.
    qint64 lastSeq = 0;
    QByteArray prevHash = genesisHash();
    {
        store::Statement last = tx.prepare(QStringLiteral("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
        switch (last.step()) {
        case store::Statement::Step::Row:
            lastSeq = last.int64(0);
            prevHash = last.blob(1);
            break;
        case store::Statement::Step::Done: break;
        case store::Statement::Step::Error:
            qCWarning(lcAudit, "cannot read the chain's head: %s", qUtf8Printable(last.error().toString()));
            tx.fail(last.error());
            return 0;
        }
    }

    Row row;
    row.seq = lastSeq + 1;
    row.atMs = entry.atMs;
    row.operatorId = entry.operatorId;
    row.sessionId = entry.sessionId;
    row.kioskId = entry.kioskId;
    row.sourceAddress = nullIfEmpty(entry.sourceAddress);
    row.action = entry.action;
    row.subjectKind = nullIfEmpty(entry.subjectKind);
    row.subjectId = nullIfEmpty(entry.subjectId);
    row.beforeJson = nullIfEmpty(entry.beforeJson);
    row.afterJson = nullIfEmpty(entry.afterJson);
    row.reason = nullIfEmpty(entry.reason);
    row.correlationId = nullIfEmpty(entry.correlationId);
    const QByteArray hash = chainHash(prevHash, row);

    store::Statement insert = tx.prepare(QStringLiteral(
        "INSERT INTO audit_log (seq, at_ms, operator_id, session_id, kiosk_id, source_address, action, subject_kind, "
        "subject_id, before_json, after_json, reason, correlation_id, prev_hash, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"));
    insert.bind(1, row.seq).bind(2, row.atMs);
    bindOptional(insert, 3, row.operatorId);
    bindOptional(insert, 4, row.sessionId);
    bindOptional(insert, 5, row.kioskId);
    bindOptional(insert, 6, row.sourceAddress);
    insert.bind(7, row.action);
    bindOptional(insert, 8, row.subjectKind);
    bindOptional(insert, 9, row.subjectId);
    bindOptional(insert, 10, row.beforeJson);
    bindOptional(insert, 11, row.afterJson);
    bindOptional(insert, 12, row.reason);
    bindOptional(insert, 13, row.correlationId);
    insert.bind(14, prevHash).bind(15, hash);
    if (const store::SqlError e = insert.run(); !e.ok()) {
        qCWarning(lcAudit, "cannot append audit row %lld (%s): %s", row.seq, qUtf8Printable(row.action),
            qUtf8Printable(e.toString()));
        tx.fail(e);
        return 0;
    }
    return row.seq;
}

VerifyReport verify(store::Connection &db, int pageRows)
{
    Q_ASSERT(pageRows > 0);
    VerifyReport report;
    qint64 expectedSeq = 1;
    QByteArray prevHash = genesisHash();
    const auto broken = [&report](qint64 seq, const QString &problem) {
        report.ok = false;
        report.firstBrokenSeq = seq;
        report.problem = problem;
        return report;
    };

    store::Statement page = db.prepare(QStringLiteral(
        "SELECT seq, at_ms, operator_id, session_id, kiosk_id, source_address, action, subject_kind, subject_id, "
        "before_json, after_json, reason, correlation_id, prev_hash, hash "
        "FROM audit_log WHERE seq >= ?1 ORDER BY seq LIMIT ?2"));
    for (;;) {
        // Each page is its own statement (its own read snapshot): nothing is held between pages,
        // so a long log does not keep the writer's WAL from being checkpointed.
        // The first page starts below 1, so a row planted at seq 0 or below is seen too.
        page.reset();
        page.bind(1, expectedSeq == 1 ? std::numeric_limits<qint64>::min() : expectedSeq).bind(2, qint64(pageRows));
        qint64 rowsInPage = 0;
        store::Statement::Step step = page.step();
        for (; step == store::Statement::Step::Row; step = page.step()) {
            ++rowsInPage;
            Row row;
            row.seq = page.int64(0);
            if (row.seq != expectedSeq) {
                page.reset();
                if (expectedSeq == 1)
                    return broken(1, QStringLiteral("the chain does not start at seq 1: its first row is seq %1").arg(row.seq));
                return broken(expectedSeq,
                    QStringLiteral("seq %1 is missing: seq %2 is followed by seq %3")
                        .arg(expectedSeq)
                        .arg(expectedSeq - 1)
                        .arg(row.seq));
            }
            row.atMs = page.int64(1);
            row.operatorId = optionalInt(page, 2);
            row.sessionId = optionalInt(page, 3);
            row.kioskId = optionalInt(page, 4);
            row.sourceAddress = optionalText(page, 5);
            row.action = page.text(6);
            row.subjectKind = optionalText(page, 7);
            row.subjectId = optionalText(page, 8);
            row.beforeJson = optionalText(page, 9);
            row.afterJson = optionalText(page, 10);
            row.reason = optionalText(page, 11);
            row.correlationId = optionalText(page, 12);
            const QByteArray storedPrev = page.blob(13);
            const QByteArray storedHash = page.blob(14);
            if (storedPrev != prevHash) {
                page.reset();
                if (row.seq == 1)
                    return broken(1, QStringLiteral("seq 1 has prev_hash %1, not the 32 zero bytes").arg(hex(storedPrev)));
                return broken(row.seq,
                    QStringLiteral("seq %1 has prev_hash %2, but the hash of seq %3 is %4")
                        .arg(row.seq)
                        .arg(hex(storedPrev))
                        .arg(row.seq - 1)
                        .arg(hex(prevHash)));
            }
            const QByteArray computed = chainHash(prevHash, row);
            if (storedHash != computed) {
                page.reset();
                return broken(row.seq,
                    QStringLiteral("seq %1 (%2) does not match its hash: stored %3, its content hashes to %4")
                        .arg(row.seq)
                        .arg(row.action, hex(storedHash), hex(computed)));
            }
            prevHash = storedHash;
            ++expectedSeq;
            ++report.rowsChecked;
        }
        if (step == store::Statement::Step::Error) {
            report.ok = false;
            report.problem = QStringLiteral("cannot read audit_log: %1").arg(page.error().toString());
            return report;
        }
        if (rowsInPage < pageRows)
            return report;
    }
}

} // namespace prepay::audit
