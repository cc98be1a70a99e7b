// The value types every part of prepay speaks: Money (fen), Energy (Wh), Price (0.0001 yuan
// per kWh), and cost(), the one place in the product where energy becomes money and the one
// place that rounds (DESIGN.md §3). All three are int64 underneath; no floating point touches
// them. Arithmetic is checked: an overflow is a programmer error and stops the process
// (PREPAY_CHECK), it never wraps into a wrong balance.
//
// What they do not do: currency other than CNY, and limits of the business (the largest
// top-up, the overdraft) — those belong to configuration and the layers that enforce them.
#pragma once

#include "decimal.h"

#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <compare>

class QLocale;

namespace prepay {

namespace checked {
qint64 add(qint64 a, qint64 b);
qint64 sub(qint64 a, qint64 b);
qint64 mul(qint64 a, qint64 b);
qint64 neg(qint64 a);
} // namespace checked

// An amount of money in fen (0.01 CNY). Negative amounts exist (an overdrawn wallet, a debit).
class Money
{
public:
    constexpr Money() = default;
    static constexpr Money fromFen(qint64 fen) { return Money(fen); }
    static constexpr Money zero() { return Money(0); }

    constexpr qint64 fen() const { return m_fen; }

    Money operator+(Money other) const { return Money(checked::add(m_fen, other.m_fen)); }
    Money operator-(Money other) const { return Money(checked::sub(m_fen, other.m_fen)); }
    Money operator-() const { return Money(checked::neg(m_fen)); }
    Money &operator+=(Money other) { return *this = *this + other; }
    Money &operator-=(Money other) { return *this = *this - other; }
    constexpr auto operator<=>(const Money &) const = default;

    // User input in yuan: "12", "12.5", "12.50", "12.50 元", "¥12.50". Anything else (negative,
    // three decimals, exponent, NaN, grouping, empty, …) is rejected with a named error.
    static Parsed<Money> parse(QStringView text);

    // "¥1,234.50" / "-¥3.20", with the locale's grouping and decimal point; for people.
    QString toString(const QLocale &locale) const;
    // "1234.50" / "-3.20": yuan with exactly two decimals, ASCII, no grouping; for machines
    // (JSON, CSV, logs). parse() reads it back.
    QString toDecimalString() const;

private:
    constexpr explicit Money(qint64 fen)
        : m_fen(fen)
    { }
    qint64 m_fen = 0;
};

// Energy in watt-hours. Meters report 0.01 kWh = 10 Wh exactly; deltas are never negative
// where they are charged, but the type allows negative values for differences.
class Energy
{
public:
    constexpr Energy() = default;
    static constexpr Energy fromWh(qint64 wh) { return Energy(wh); }
    static constexpr Energy zero() { return Energy(0); }

    constexpr qint64 wh() const { return m_wh; }

    Energy operator+(Energy other) const { return Energy(checked::add(m_wh, other.m_wh)); }
    Energy operator-(Energy other) const { return Energy(checked::sub(m_wh, other.m_wh)); }
    Energy &operator+=(Energy other) { return *this = *this + other; }
    Energy &operator-=(Energy other) { return *this = *this - other; }
    constexpr auto operator<=>(const Energy &) const = default;

    // User input in kWh with at most three decimals (1 Wh): "12.5", "12.345 kWh", "12 度".
    static Parsed<Energy> parse(QStringView text);

    // "1,234.56 kWh": two decimals when the value is a whole number of 10 Wh (what meters
    // report), three otherwise, so the text is always exact.
    QString toString(const QLocale &locale) const;
    // "1234.56" kWh for machines, exact in the same way.
    QString toDecimalString() const;

private:
    constexpr explicit Energy(qint64 wh)
        : m_wh(wh)
    { }
    qint64 m_wh = 0;
};

// A price of energy in units of 0.0001 yuan per kWh (the meter map's unit): 0.6500 yuan/kWh
// is Price::fromTenThousandthYuan(6500). Never negative.
class Price
{
public:
    constexpr Price() = default;
    static constexpr Price fromTenThousandthYuan(qint64 units) { return Price(units); }

    constexpr qint64 tenThousandthYuan() const { return m_units; }
    constexpr auto operator<=>(const Price &) const = default;

    // User input in yuan per kWh with at most four decimals: "0.65", "0.6500 元/kWh".
    static Parsed<Price> parse(QStringView text);

    // "¥0.6500/kWh": always four decimals, the precision tariffs are written in.
    QString toString(const QLocale &locale) const;
    // "0.6500" for machines.
    QString toDecimalString() const;

private:
    constexpr explicit Price(qint64 units)
        : m_units(units)
    { }
    qint64 m_units = 0;
};

// The part of a fen not yet charged, carried per metering point between charges, in units of
// 0.00001 fen (1 Wh × 0.0001 yuan/kWh = 0.00001 fen, so every product Energy × Price is a whole
// number of these units). Always in [0, kUnitsPerFen).
struct Remainder
{
    static constexpr qint64 kUnitsPerFen = 100'000;
    qint64 units = 0;
    constexpr auto operator<=>(const Remainder &) const = default;
};

// The money owed for `energy` at `price`, rounding down to whole fen and carrying the rest in
// `remainder`. Charging a period in any number of pieces, each with the remainder left by the
// one before, gives exactly the fen (and the remainder) of charging it at once: the sum of the
// floors of a running total is the floor of the total. energy and price must not be negative.
Money cost(Energy energy, Price price, Remainder &remainder);

} // namespace prepay
