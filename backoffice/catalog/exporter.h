// Lists of the building as CSV text (csv.h's writer: RFC 4180, a header line, CRLF, UTF-8 once
// encoded): the accounts with their points and balances, the meters in the columns of the
// meters import (docs/import.md) plus their state, and the ledger's postings of a period. All
// statements of one export run in one read transaction, so the list is one consistent moment
// while prepayd keeps writing. Money is yuan with two decimals (Money::toDecimalString), times
// are UTC (ISO 8601 with 'Z') next to the same instant in ms.
//
// Cells are written verbatim: a name that starts with '=' stays one. Spreadsheets that execute
// such cells as formulas must be told to import text (docs/import.md says so).
#pragma once

#include <QtCore/QString>

#include <optional>

namespace prepay::store {
class Connection;
}

namespace prepay::catalog {

enum class ExportWhat {
    Accounts,
    Meters,
    Ledger,
};
QString exportWhatName(ExportWhat what); // "accounts", "meters", "ledger"
std::optional<ExportWhat> exportWhatFromName(QStringView name);

struct ExportLimits
{
    static constexpr qsizetype rowsMax = 100'000; // one reply; a longer ledger is exported by period
};

struct ExportResult
{
    enum class Outcome {
        Done,
        TooManyRows, // more than rowsMax: nothing returned (a shorter period)
        StoreFailed,
    };
    Outcome outcome = Outcome::StoreFailed;
    QString csv;
    qsizetype rows = 0; // data rows, without the header
    QString message;    // what went wrong
};

// Reads the list from `db` (a read-only connection of the calling thread, or any connection
// outside a write). The period [fromMs, toMs) applies to the ledger only; absent ends are open.
ExportResult exportCsv(
    store::Connection &db, ExportWhat what, std::optional<qint64> fromMs, std::optional<qint64> toMs);

} // namespace prepay::catalog
