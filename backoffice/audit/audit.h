// The audit log: one append-only, hash-chained row per staff action (who, when, from where,
// what, before, after, why) in the audit_log table of sql/0001_initial.sql.
//
// What it owns: the canonical encoding of a row, the chain rule, append() and verify().
// What it does not own: deciding what is audited (the service's handlers and prepayctl's
// commands call append() in the transaction of the action they record — one business event,
// one transaction, so an action is never kept without its audit row nor the other way round),
// and the table (the append-only triggers of the schema refuse UPDATE and DELETE).
//
// The chain. Rows are numbered seq = 1, 2, 3, … without gaps, and
//     hash(seq) = SHA-256( prev_hash(seq) || canonical(row seq) )
//     prev_hash(1) = 32 zero bytes,  prev_hash(n) = hash(n − 1)
// so changing, removing, inserting or reordering any row breaks the chain from that row on,
// and verify() names the first row where it breaks. (Someone with the file can still rewrite
// the whole chain from a row on; the chain makes that a deliberate act, not an accident. Keep
// backups, or publish the latest hash elsewhere, to detect that too.)
//
// The canonical encoding, version 1 (change it only together with a new version tag, and keep
// verifying old rows with the old one). It is the concatenation of 14 fields, in this order:
//     1  the format tag, the text "prepay.audit.v1"
//     2  seq             3  at_ms            4  operator_id      5  session_id
//     6  kiosk_id        7  source_address   8  action           9  subject_kind
//     10 subject_id      11 before_json      12 after_json       13 reason
//     14 correlation_id
// each field encoded as
//     SQL NULL   → the single byte 0x00
//     a value    → the byte 0x01, the length in bytes of the value as a 4-byte big-endian
//                  unsigned integer, then the bytes of the value
// where the bytes of a value are: for an integer, its decimal text in ASCII ("-" for a
// negative number, no "+", no leading zeros: 0, 42, -7); for text (JSON included), its UTF-8
// exactly as stored in the column (JSON is not re-serialised: the hash covers the stored text).
// The length prefix makes field boundaries unambiguous ("ab"+"c" ≠ "a"+"bc"), the tag byte
// keeps NULL apart from the empty string, and seq inside the encoding ties each row to its
// place in the chain. prev_hash and hash themselves are not fields of the encoding.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Connection;
class Transaction;
} // namespace prepay::store

namespace prepay::audit {

// One action to record. Empty text fields are stored as NULL (one spelling of "nothing").
struct Entry
{
    qint64 atMs = 0;
    std::optional<qint64> operatorId, sessionId, kioskId; // operator_id NULL = prepayd itself or a kiosk
    QString sourceAddress;            // "192.168.1.20:53122"; "local" for prepayctl on the file; "" = NULL
    QString action;                   // 'account.open', 'ledger.adjust', 'control.force_on', 'session.login', …
    QString subjectKind, subjectId;   // 'account', '42'
    QByteArray beforeJson, afterJson; // compact JSON (UTF-8), or empty (= NULL)
    QString reason, correlationId;
};

// One stored row as the encoding sees it: every nullable column as an optional, text as the
// exact stored text. append() builds one from an Entry; verify() reads one per row.
struct Row
{
    qint64 seq = 0;
    qint64 atMs = 0;
    std::optional<qint64> operatorId, sessionId, kioskId;
    std::optional<QString> sourceAddress;
    QString action;
    std::optional<QString> subjectKind, subjectId, beforeJson, afterJson, reason, correlationId;
};

inline constexpr int hashBytes = 32; // SHA-256

// The 32 zero bytes that are prev_hash of seq 1.
QByteArray genesisHash();
// The canonical encoding of `row` (version 1, defined above).
QByteArray canonicalEncoding(const Row &row);
// SHA-256(prevHash || canonicalEncoding(row)).
QByteArray chainHash(const QByteArray &prevHash, const Row &row);

// Appends one row in the caller's write transaction (the same transaction as the action it
// records). O(1): reads the last row by its primary key. Returns the new seq; on a failed
// statement it has called tx.fail() (nothing of the job is kept) and returns 0.
// A programmer error (no action, or before/after that is not UTF-8 JSON) fails the same way:
// the CHECK constraints of the table refuse it.
qint64 append(store::Transaction &tx, const Entry &entry);

struct VerifyReport
{
    bool ok = true;
    qint64 rowsChecked = 0;               // rows whose chain link and hash held
    std::optional<qint64> firstBrokenSeq; // the first seq where the chain breaks (for a gap: the missing seq)
    QString problem;                      // in words; also set, without firstBrokenSeq, when the table could not be read
};

// Recomputes the chain from seq 1, reading in pages of `pageRows` (no transaction is held
// across pages, so it runs on a read-only connection while prepayd writes; rows appended while
// it runs are checked too). Stops at the first of: a seq gap (or a chain not starting at 1), a
// prev_hash that is not the previous row's hash (seq 1: not the zero hash), a hash that does not
// match the row's content.
VerifyReport verify(store::Connection &db, int pageRows = 1000);

} // namespace prepay::audit
