#include "decimal.h"

#include <QtCore/QCoreApplication>

namespace prepay {

namespace {

bool isAsciiDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

QStringView trimmed(QStringView s)
{
    // QChar::isSpace covers the ideographic space (U+3000) a Chinese keyboard types.
    while (!s.isEmpty() && s.front().isSpace())
        s = s.mid(1);
    while (!s.isEmpty() && s.back().isSpace())
        s.chop(1);
    return s;
}

bool isMinus(QChar c)
{
    return c == u'-' || c == QChar(0x2212) /* − */ || c == QChar(0xFF0D) /* － */;
}

bool isPlus(QChar c)
{
    return c == u'+' || c == QChar(0xFF0B) /* ＋ */;
}

Parsed<qint64> failure(QStringView text, const DecimalFormat &format, ParseError error)
{
    Parsed<qint64> result;
    result.error = error;
    result.maxDecimals = format.maxDecimals;
    result.input = text.toString();
    return result;
}

bool matchesAny(QStringView s, std::initializer_list<QStringView> candidates)
{
    for (QStringView c : candidates) {
        if (s.compare(c, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

} // namespace

Parsed<qint64> parseScaledDecimal(QStringView text, const DecimalFormat &format)
{
    Q_ASSERT(format.maxDecimals >= 0 && format.maxDecimals <= 6);
    const auto fail = [&](ParseError e) { return failure(text, format, e); };

    QStringView s = trimmed(text);
    if (s.isEmpty())
        return fail(ParseError::Empty);

    // A sign may stand before or after the currency prefix ("-¥5", "¥-5"); neither is accepted.
    const auto checkSign = [&](QStringView v) -> ParseError {
        if (!v.isEmpty() && isMinus(v.front()))
            return ParseError::Negative;
        if (!v.isEmpty() && isPlus(v.front()))
            return ParseError::SignNotAllowed;
        return ParseError::None;
    };
    if (const ParseError e = checkSign(s); e != ParseError::None)
        return fail(e);

    bool hadPrefix = false;
    for (QStringView prefix : format.prefixes) {
        if (s.startsWith(prefix, Qt::CaseInsensitive)) {
            s = trimmed(s.mid(prefix.size()));
            hadPrefix = true;
            break;
        }
    }
    if (const ParseError e = checkSign(s); e != ParseError::None)
        return fail(e);
    if (s.isEmpty())
        return fail(ParseError::Empty);

    qsizetype i = 0;
    const auto scanDigits = [&]() {
        const qsizetype start = i;
        while (i < s.size() && isAsciiDigit(s[i]))
            ++i;
        return s.mid(start, i - start);
    };

    const QStringView integerDigits = scanDigits();
    if (integerDigits.isEmpty()) {
        if (s.front().isDigit())
            return fail(ParseError::NonAsciiDigit);
        if (s.front() == u'.' && s.size() > 1 && isAsciiDigit(s[1]))
            return fail(ParseError::Malformed); // ".5": write "0.5"
        return fail(ParseError::NotANumber);    // "abc", "NaN", "inf"
    }

    QStringView fractionDigits;
    if (i < s.size() && s[i] == u'.') {
        ++i;
        fractionDigits = scanDigits();
        if (fractionDigits.isEmpty())
            return fail(ParseError::Malformed); // "12." or "12.x"
    }

    // What may follow the number tells the most useful error.
    if (i < s.size()) {
        const QChar next = s[i];
        if (next.isDigit())
            return fail(ParseError::NonAsciiDigit);
        if (next == u'e' || next == u'E')
            return fail(ParseError::Exponent);
        if (next == u'x' || next == u'X')
            return fail(ParseError::NotANumber);
        if ((next == u',' || next == QChar(0xFF0C)) && i + 1 < s.size() && isAsciiDigit(s[i + 1]))
            return fail(ParseError::GroupingSeparator);
        if (next == u'.')
            return fail(ParseError::Malformed); // "1.2.3"
    }
    if (fractionDigits.size() > format.maxDecimals)
        return fail(ParseError::TooManyDecimals);

    const QStringView rest = trimmed(s.mid(i));
    if (!rest.isEmpty()) {
        if (isAsciiDigit(rest.front()))
            return fail(ParseError::Malformed); // "1 2"
        if (!matchesAny(rest, format.suffixes))
            return fail(ParseError::WrongUnit);
        if (hadPrefix && !format.prefixWithSuffix)
            return fail(ParseError::WrongUnit); // "¥12 元": give the unit once
    }

    qint64 value = 0;
    const auto appendDigit = [&value](QChar digit) {
        return !__builtin_mul_overflow(value, qint64(10), &value)
            && !__builtin_add_overflow(value, qint64(digit.unicode() - u'0'), &value);
    };
    for (QChar d : integerDigits) {
        if (!appendDigit(d))
            return fail(ParseError::TooLarge);
    }
    for (int k = 0; k < format.maxDecimals; ++k) {
        if (!appendDigit(k < fractionDigits.size() ? fractionDigits[k] : QChar(u'0')))
            return fail(ParseError::TooLarge);
    }

    Parsed<qint64> result;
    result.value = value;
    result.maxDecimals = format.maxDecimals;
    result.input = text.toString();
    return result;
}

QString parseErrorCode(ParseError error)
{
    switch (error) {
    case ParseError::None: return QStringLiteral("ok");
    case ParseError::Empty: return QStringLiteral("empty");
    case ParseError::Negative: return QStringLiteral("negative");
    case ParseError::SignNotAllowed: return QStringLiteral("sign_not_allowed");
    case ParseError::Exponent: return QStringLiteral("exponent");
    case ParseError::NotANumber: return QStringLiteral("not_a_number");
    case ParseError::NonAsciiDigit: return QStringLiteral("non_ascii_digit");
    case ParseError::GroupingSeparator: return QStringLiteral("grouping_separator");
    case ParseError::Malformed: return QStringLiteral("malformed");
    case ParseError::TooManyDecimals: return QStringLiteral("too_many_decimals");
    case ParseError::TooLarge: return QStringLiteral("too_large");
    case ParseError::WrongUnit: return QStringLiteral("wrong_unit");
    }
    Q_UNREACHABLE();
}

QString parseErrorMessage(ParseError error, QStringView text, int maxDecimals)
{
    const auto tr = [](const char *source) { return QCoreApplication::translate("prepay::Parse", source); };
    const QString quoted = u'"' + text.toString() + u'"';
    switch (error) {
    case ParseError::None: return {};
    case ParseError::Empty: return tr("Enter an amount.");
    case ParseError::Negative: return tr("%1 is negative; enter an amount of zero or more.").arg(quoted);
    case ParseError::SignNotAllowed: return tr("%1 has a sign; enter the digits only.").arg(quoted);
    case ParseError::Exponent: return tr("%1 uses an exponent; write the number out in full.").arg(quoted);
    case ParseError::NotANumber: return tr("%1 is not a number.").arg(quoted);
    case ParseError::NonAsciiDigit: return tr("%1 contains full-width or other non-ASCII digits; use 0-9.").arg(quoted);
    case ParseError::GroupingSeparator:
        return tr("%1 contains a thousands separator; write the digits without commas.").arg(quoted);
    case ParseError::Malformed: return tr("%1 is not written like an amount (for example 12 or 12.50).").arg(quoted);
    case ParseError::TooManyDecimals:
        return QCoreApplication::translate(
            "prepay::Parse", "%1 has more than %n decimal place(s).", nullptr, maxDecimals)
            .arg(quoted);
    case ParseError::TooLarge: return tr("%1 is too large.").arg(quoted);
    case ParseError::WrongUnit: return tr("%1 has something after the number that is not accepted here.").arg(quoted);
    }
    Q_UNREACHABLE();
}

} // namespace prepay
