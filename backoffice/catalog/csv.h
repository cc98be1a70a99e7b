// CSV as prepay reads and writes it: RFC 4180 with a header line, UTF-8, comma separated. The
// reader is strict where a guess could put a value in the wrong column and lenient only where
// nothing can be misread:
//  - a field is quoted ("…") or not; inside quotes "" is one quote, and commas and line breaks
//    are data; a quote inside an unquoted field, text after a closing quote and a quote never
//    closed are refused, each with the line where it happened;
//  - records end with CRLF (the RFC) or LF (what editors on Linux write); a lone CR outside
//    quotes is refused; the last line break is optional;
//  - a UTF-8 byte order mark at the start is dropped (spreadsheets write one);
//  - every record must have as many fields as the header (a ragged row is refused, not padded);
//  - a line with nothing on it is skipped (a spreadsheet's trailing blank lines).
// Line numbers are those of the file as an editor shows them, counting the line breaks inside
// quoted fields, so "line 12" is where a person finds the record.
//
// The writer quotes a field only when it must (comma, quote, CR or LF inside, or blanks at
// either end) and ends every record with CRLF, so its output reads back to the same cells.
#pragma once

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace prepay::catalog {

// Limits of one file (STYLE.md habit 8). The API refuses a text above 4 MiB before we see it.
struct CsvLimits
{
    static constexpr qsizetype textCharsMax = 4 * 1024 * 1024;
    static constexpr qsizetype recordsMax = 20'000; // header included
    static constexpr qsizetype fieldsMax = 64;
    static constexpr qsizetype fieldCharsMax = 4096;
};

// One problem found in a file: where (a 1-based line, a column name from the header or empty
// when the problem is the whole record) and what, as a sentence for the person who fixes it.
struct CsvProblem
{
    int line = 0;
    QString column;
    QString message;
};

struct CsvRecord
{
    int line = 0; // where the record starts
    QStringList fields;
};

struct CsvTable
{
    int headerLine = 1;
    QStringList header;       // as in the file (not trimmed)
    QList<CsvRecord> records; // the data records, without the header
};

struct CsvParse
{
    CsvTable table;             // as far as it could be read
    QList<CsvProblem> problems; // empty = the whole text is valid CSV
    bool ok() const { return problems.isEmpty(); }
};

// Reads `text` (already decoded). Every syntax problem is reported; after one, reading goes on
// at the next line, except after a quote that is never closed (it swallowed the rest).
CsvParse parseCsv(QStringView text);

// Decodes bytes read from a file as UTF-8; nullopt and *error (with the byte offset) when they
// are not UTF-8 — a file in GBK must be converted, not guessed at.
std::optional<QString> decodeUtf8(const QByteArray &bytes, QString *error);

// One field as the writer puts it in a record.
QString csvField(const QString &value);
// One record: the fields joined by commas, ending with CRLF.
QString csvRecord(const QStringList &fields);

} // namespace prepay::catalog
