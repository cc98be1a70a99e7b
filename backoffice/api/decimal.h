// Strict parsing of decimal amounts typed by people or found in files (top-up amounts,
// tariff prices, CSV columns, config values). The grammar is deliberately small:
//
//     [prefix] digits [ "." digits ] [ [space] suffix ]      with optional spaces around
//
// where the prefix and suffixes come from the caller (e.g. "¥" and "元") and the number of
// decimals is bounded. Everything outside it is rejected with a named, stable error rather
// than guessed at: a wrong amount is worse than a refused one.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringView>
#include <QtCore/QtGlobal>

#include <initializer_list>

namespace prepay {

// Stable outcome codes of a parse; stored and logged by name (STYLE.md habit 6).
enum class ParseError {
    None,
    Empty,             // nothing but blanks
    Negative,          // "-5"
    SignNotAllowed,    // "+5"
    Exponent,          // "1e3"
    NotANumber,        // "abc", "NaN", "inf", "0x10"
    NonAsciiDigit,     // "１２" (full-width) or other non-ASCII digits
    GroupingSeparator, // "1,000"
    Malformed,         // "12.", ".5", "1.2.3", "1 2", a unit in the wrong place
    TooManyDecimals,   // "12.345" where two decimals are allowed
    TooLarge,          // does not fit the value type
    WrongUnit,         // "12 kWh" where yuan is expected, "¥12 元"
};

// The name stored in logs and databases ("too_many_decimals").
QString parseErrorCode(ParseError error);
// A sentence for a person, naming what was wrong with `text` (translatable, English source).
QString parseErrorMessage(ParseError error, QStringView text, int maxDecimals);

template<typename T>
struct Parsed
{
    T value{};
    ParseError error = ParseError::None;
    int maxDecimals = 0; // for the message
    QString input;       // the text as given, for the message

    bool ok() const { return error == ParseError::None; }
    QString errorCode() const { return parseErrorCode(error); }
    QString errorMessage() const { return parseErrorMessage(error, input, maxDecimals); }
};

struct DecimalFormat
{
    int maxDecimals = 2;
    std::initializer_list<QStringView> prefixes; // accepted before the digits, e.g. "¥"
    std::initializer_list<QStringView> suffixes; // accepted after the digits, e.g. "元"
    bool prefixWithSuffix = false;               // "¥0.65/kWh" yes, "¥12 元" no
};

// Parses `text` as a non-negative decimal and returns it scaled by 10^maxDecimals
// ("12.5" with 2 decimals → 1250).
Parsed<qint64> parseScaledDecimal(QStringView text, const DecimalFormat &format);

} // namespace prepay
