// Bulk import of the building's devices from CSV (docs/import.md): buildings, then gateways
// with their RS-485 buses, then meters — each meter with its metering point and its
// installation on a bus. One file is one kind and one business event: every row is checked
// first (types, ranges, references to what exists, duplicates within the file and against the
// database), and only a file without a single problem is written, in the caller's write
// transaction. Refused rows are reported all at once, each with its line and column, so a
// person fixes the file in one pass instead of one error per attempt.
//
// What it owns: the columns of each kind (importColumns(), which docs/import.md lists) and the
// rules of a row. What it does not own: the transaction (the caller's — prepayd's writer or,
// later, prepayctl on the file), the audit row (the caller writes it, with the counts below),
// and the poll plan of a running prepayd: that is read at start, so new meters are polled once
// prepayd restarts. Because a file that prepayd could not poll would stop it at that restart
// (exit 78), the import finally loads the poll plan from its own transaction (poller/pollplan.h)
// and refuses the file if the plan would not load.
//
// A dry run does everything a real import does — the inserts included, so constraints of the
// schema are checked too — and then rolls the transaction back.
#pragma once

#include "catalog/csv.h"

#include <QtCore/QJsonObject>

#include <optional>

namespace prepay::store {
class Transaction;
}

namespace prepay::catalog {

enum class ImportKind {
    Buildings,
    Gateways, // with their buses
    Meters,   // with their metering points and installations
};
QString importKindName(ImportKind kind); // "buildings", "gateways", "meters"
std::optional<ImportKind> importKindFromName(QStringView name);

struct ImportLimits
{
    static constexpr qsizetype rowsMax = 10'000;  // = the most meters one prepayd polls
    static constexpr qsizetype problemsMax = 200; // reported; the rest counted
    static constexpr int busesPerGatewayMax = 32; // buses.port_index 1..32
};

struct ImportColumn
{
    QString name;
    bool required = false;
    QString description; // for people: unit, range, default
};
// The columns of a kind, in the order a template file has them.
QList<ImportColumn> importColumns(ImportKind kind);

struct ImportCounts
{
    qsizetype buildings = 0;
    qsizetype gateways = 0;
    qsizetype buses = 0;
    qsizetype meters = 0;
    qsizetype meteringPoints = 0;
    qsizetype installations = 0;
    QJsonObject toJson() const; // only the kinds this import touches
};

struct ImportReport
{
    ImportKind kind = ImportKind::Buildings;
    bool dryRun = false;
    qsizetype rows = 0;         // data rows in the file
    ImportCounts counts;        // what was (or, in a dry run, would have been) inserted
    QList<CsvProblem> problems; // every problem, by line (at most problemsMax)
    qsizetype problemsOmitted = 0;
    bool written = false; // the rows are in the transaction and it may commit
    bool ok() const { return problems.isEmpty(); }
};

// Checks and (unless `dryRun`) writes the records of `table` as `kind` within `tx`. On any
// problem, and for a dry run, it calls tx.rollback() itself, so nothing of it can be committed
// by mistake; report.written says whether the caller may add its audit row and commit. A
// statement failing for another reason than a constraint is a store failure: tx.fail().
// `operatorId` is recorded as who installed imported meters.
ImportReport importRows(store::Transaction &tx, ImportKind kind, const CsvTable &table, bool dryRun, qint64 nowMs,
    std::optional<qint64> operatorId);

// parseCsv() and importRows() in one: the CSV's syntax problems are reported together with
// those of the rows that could be read, and refuse the file like them.
ImportReport importCsv(store::Transaction &tx, ImportKind kind, QStringView csvText, bool dryRun, qint64 nowMs,
    std::optional<qint64> operatorId);

} // namespace prepay::catalog
