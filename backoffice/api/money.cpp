#include "money.h"

#include "check.h"

#include <QtCore/QLocale>

namespace prepay {

namespace checked {

qint64 add(qint64 a, qint64 b)
{
    qint64 r = 0;
    PREPAY_CHECK(!__builtin_add_overflow(a, b, &r));
    return r;
}

qint64 sub(qint64 a, qint64 b)
{
    qint64 r = 0;
    PREPAY_CHECK(!__builtin_sub_overflow(a, b, &r));
    return r;
}

qint64 mul(qint64 a, qint64 b)
{
    qint64 r = 0;
    PREPAY_CHECK(!__builtin_mul_overflow(a, b, &r));
    return r;
}

qint64 neg(qint64 a)
{
    return sub(0, a);
}

} // namespace checked

namespace {

constexpr qint64 pow10(int n)
{
    qint64 r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

// Writes value / 10^decimals exactly, e.g. (-123456, 2) → "-1,234.56" for en. The magnitude is
// taken as unsigned so that the most negative int64 formats too.
QString formatScaled(qint64 value, int decimals, const QLocale *locale)
{
    const quint64 magnitude = value < 0 ? quint64(0) - quint64(value) : quint64(value);
    const quint64 scale = quint64(pow10(decimals));
    const quint64 whole = magnitude / scale;
    const QString fraction = QString::number(magnitude % scale).rightJustified(decimals, u'0');
    QString text;
    if (locale) {
        text = (value < 0 ? locale->negativeSign() : QString()) + locale->toString(whole);
        if (decimals > 0)
            text += locale->decimalPoint() + fraction;
    } else {
        text = (value < 0 ? QStringLiteral("-") : QString()) + QString::number(whole);
        if (decimals > 0)
            text += u'.' + fraction;
    }
    return text;
}

// Formats for people put the currency sign after the minus: "-¥3.20".
QString withCurrencySign(const QString &amount, const QLocale &locale)
{
    const QString minus = locale.negativeSign();
    if (amount.startsWith(minus))
        return minus + u'¥' + amount.mid(minus.size());
    return u'¥' + amount;
}

template<typename T, typename Make>
Parsed<T> convert(const Parsed<qint64> &raw, Make make)
{
    Parsed<T> result;
    result.error = raw.error;
    result.maxDecimals = raw.maxDecimals;
    result.input = raw.input;
    if (raw.ok())
        result.value = make(raw.value);
    return result;
}

int energyDecimals(qint64 wh)
{
    return wh % 10 == 0 ? 2 : 3;
}

qint64 energyScaled(qint64 wh)
{
    return wh % 10 == 0 ? wh / 10 : wh;
}

} // namespace

Parsed<Money> Money::parse(QStringView text)
{
    const DecimalFormat format{.maxDecimals = 2, .prefixes = {u"¥", u"￥"}, .suffixes = {u"元"}};
    return convert<Money>(parseScaledDecimal(text, format), &Money::fromFen);
}

QString Money::toString(const QLocale &locale) const
{
    return withCurrencySign(formatScaled(m_fen, 2, &locale), locale);
}

QString Money::toDecimalString() const
{
    return formatScaled(m_fen, 2, nullptr);
}

Parsed<Energy> Energy::parse(QStringView text)
{
    const DecimalFormat format{.maxDecimals = 3, .prefixes = {}, .suffixes = {u"kWh", u"度", u"千瓦时"}};
    return convert<Energy>(parseScaledDecimal(text, format), &Energy::fromWh);
}

QString Energy::toString(const QLocale &locale) const
{
    return formatScaled(energyScaled(m_wh), energyDecimals(m_wh), &locale) + QStringLiteral(" kWh");
}

QString Energy::toDecimalString() const
{
    return formatScaled(energyScaled(m_wh), energyDecimals(m_wh), nullptr);
}

Parsed<Price> Price::parse(QStringView text)
{
    const DecimalFormat format{.maxDecimals = 4,
        .prefixes = {u"¥", u"￥"},
        .suffixes = {u"元/kWh", u"元/度", u"/kWh", u"/度"},
        .prefixWithSuffix = true};
    return convert<Price>(parseScaledDecimal(text, format), &Price::fromTenThousandthYuan);
}

QString Price::toString(const QLocale &locale) const
{
    return withCurrencySign(formatScaled(m_units, 4, &locale), locale) + QStringLiteral("/kWh");
}

QString Price::toDecimalString() const
{
    return formatScaled(m_units, 4, nullptr);
}

Money cost(Energy energy, Price price, Remainder &remainder)
{
    PREPAY_CHECK(energy.wh() >= 0);
    PREPAY_CHECK(price.tenThousandthYuan() >= 0);
    PREPAY_CHECK(remainder.units >= 0 && remainder.units < Remainder::kUnitsPerFen);
    // 1 Wh at 0.0001 yuan/kWh is 0.001 kWh × 0.0001 yuan = 1e-7 yuan = 1e-5 fen: the product
    // is exact in remainder units, and one division is the only rounding in the product.
    const qint64 units = checked::add(checked::mul(energy.wh(), price.tenThousandthYuan()), remainder.units);
    remainder.units = units % Remainder::kUnitsPerFen;
    return Money::fromFen(units / Remainder::kUnitsPerFen);
}

} // namespace prepay
