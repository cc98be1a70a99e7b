#include "csv.h"

#include <QtCore/QStringDecoder>

namespace prepay::catalog {

namespace {

constexpr QChar kQuote = u'"';
constexpr QChar kComma = u',';
constexpr QChar kLf = u'\n';
constexpr QChar kCr = u'\r';

bool endsField(QChar c)
{
    return c == kComma || c == kLf || c == kCr;
}

// The reader's position in the text, with the line it is on.
class Cursor
{
public:
    explicit Cursor(QStringView text)
        : m_text(text)
    { }

    bool atEnd() const { return m_i >= m_text.size(); }
    QChar peek(qsizetype ahead = 0) const { return m_i + ahead < m_text.size() ? m_text.at(m_i + ahead) : QChar(); }
    QChar take()
    {
        const QChar c = m_text.at(m_i++);
        if (c == kLf)
            ++m_line;
        return c;
    }
    void skip(qsizetype n)
    {
        for (qsizetype k = 0; k < n && !atEnd(); ++k)
            take();
    }
    int line() const { return m_line; }

    // Moves past the end of the current line (after a problem: the rest of it is not read).
    void skipLine()
    {
        while (!atEnd() && peek() != kLf)
            take();
        if (!atEnd())
            take();
    }

private:
    QStringView m_text;
    qsizetype m_i = 0;
    int m_line = 1;
};

} // namespace

CsvParse parseCsv(QStringView text)
{
    CsvParse result;
    const auto problem = [&result](int line, const QString &message) {
        result.problems.append(CsvProblem{line, QString(), message});
    };
    if (text.startsWith(QChar(0xFEFF)))
        text = text.mid(1);
    if (text.size() > CsvLimits::textCharsMax) {
        problem(0,
            QStringLiteral("the text has %1 characters; at most %2 are read at once: split the file")
                .arg(text.size())
                .arg(CsvLimits::textCharsMax));
        return result;
    }

    Cursor at(text);
    bool haveHeader = false;
    qsizetype recordsRead = 0;
    while (!at.atEnd()) {
        // A line with nothing on it is no record.
        if (at.peek() == kLf || (at.peek() == kCr && at.peek(1) == kLf)) {
            at.skip(at.peek() == kCr ? 2 : 1);
            continue;
        }
        const int recordLine = at.line();
        QStringList fields;
        bool bad = false;
        bool endOfRecord = false;
        while (!endOfRecord && !bad) {
            QString field;
            if (at.peek() == kQuote) {
                const int openedOn = at.line();
                at.take();
                bool closed = false;
                while (!at.atEnd()) {
                    const QChar c = at.take();
                    if (c != kQuote) {
                        field += c;
                        continue;
                    }
                    if (at.peek() == kQuote) {
                        at.take();
                        field += kQuote;
                        continue;
                    }
                    closed = true;
                    break;
                }
                if (!closed) {
                    // It swallowed the rest of the text: nothing after it can be read reliably.
                    problem(openedOn, QStringLiteral("a quoted field starts here and its closing quote is missing"));
                    return result;
                }
                if (!at.atEnd() && !endsField(at.peek())) {
                    problem(at.line(),
                        QStringLiteral("text after a closing quote (a quote inside a quoted field "
                                       "is written twice: \"\")"));
                    bad = true;
                }
            } else {
                while (!at.atEnd() && !endsField(at.peek())) {
                    if (at.peek() == kQuote) {
                        problem(at.line(),
                            QStringLiteral("a quote inside an unquoted field (quote the whole field "
                                           "and write the quote twice: \"a \"\"b\"\" c\")"));
                        bad = true;
                        break;
                    }
                    field += at.take();
                }
            }
            if (bad)
                break;
            if (field.size() > CsvLimits::fieldCharsMax) {
                problem(recordLine,
                    QStringLiteral("field %1 has %2 characters; at most %3")
                        .arg(fields.size() + 1)
                        .arg(field.size())
                        .arg(CsvLimits::fieldCharsMax));
                bad = true;
                break;
            }
            fields.append(field);
            if (at.atEnd()) {
                endOfRecord = true;
            } else if (at.peek() == kComma) {
                at.take(); // the next field follows, possibly empty at the end of the line
            } else if (at.peek() == kLf) {
                at.take();
                endOfRecord = true;
            } else if (at.peek(1) == kLf) { // CR LF
                at.skip(2);
                endOfRecord = true;
            } else {
                problem(at.line(), QStringLiteral("a carriage return without a line feed (lines end with CRLF or LF)"));
                bad = true;
            }
        }
        if (bad) {
            at.skipLine();
            continue;
        }
        if (++recordsRead > CsvLimits::recordsMax) {
            problem(recordLine, QStringLiteral("more than %1 lines: split the file").arg(CsvLimits::recordsMax - 1));
            return result;
        }
        if (fields.size() > CsvLimits::fieldsMax) {
            problem(recordLine, QStringLiteral("%1 fields; at most %2").arg(fields.size()).arg(CsvLimits::fieldsMax));
            continue;
        }
        if (!haveHeader) {
            haveHeader = true;
            result.table.headerLine = recordLine;
            result.table.header = fields;
            continue;
        }
        if (fields.size() != result.table.header.size()) {
            problem(recordLine,
                QStringLiteral("%1 fields where the header has %2 (a ragged row: a comma too many or "
                               "too few, or an unquoted comma inside a value)")
                    .arg(fields.size())
                    .arg(result.table.header.size()));
            continue;
        }
        result.table.records.append(CsvRecord{recordLine, fields});
    }
    if (!haveHeader && result.problems.isEmpty())
        problem(1, QStringLiteral("the text is empty: a header line is expected"));
    return result;
}

std::optional<QString> decodeUtf8(const QByteArray &bytes, QString *error)
{
    QStringDecoder decoder(QStringDecoder::Utf8);
    QString text = decoder.decode(bytes);
    if (decoder.hasError()) {
        if (error)
            *error = QStringLiteral("not UTF-8 text: save it as UTF-8 (a GBK file is converted with "
                                    "'iconv -f GBK -t UTF-8')");
        return std::nullopt;
    }
    return text;
}

QString csvField(const QString &value)
{
    const bool mustQuote = value.contains(kComma) || value.contains(kQuote) || value.contains(kCr)
        || value.contains(kLf) || (!value.isEmpty() && (value.front().isSpace() || value.back().isSpace()));
    if (!mustQuote)
        return value;
    QString quoted = value;
    quoted.replace(kQuote, QStringLiteral("\"\""));
    return kQuote + quoted + kQuote;
}

QString csvRecord(const QStringList &fields)
{
    QString line;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i > 0)
            line += kComma;
        line += csvField(fields.at(i));
    }
    line += QStringLiteral("\r\n");
    return line;
}

} // namespace prepay::catalog
