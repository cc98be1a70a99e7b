#include "format.h"

#include "api/money.h"

#include <QtCore/QDateTime>
#include <QtCore/QLocale>

namespace prepay::kiosk::format {

namespace {

const QLocale &numbers()
{
    // The C locale groups with "," and writes "." in both languages the kiosk speaks.
    static const QLocale locale(QLocale::English, QLocale::UnitedStates);
    return locale;
}

} // namespace

QString money(qint64 fen)
{
    return Money::fromFen(fen).toString(numbers());
}

QString yuan(qint64 fen)
{
    QString text = money(fen < 0 ? -fen : fen);
    return text.mid(1);
}

QString energy(qint64 wh)
{
    // Whole hundredths of a kWh, rounded half up, trailing zeros dropped: "12.5 kWh".
    const bool negative = wh < 0;
    const qint64 absWh = negative ? -wh : wh;
    const qint64 hundredths = (absWh + 5) / 10;
    QString text = numbers().toString(hundredths / 100);
    const qint64 fraction = hundredths % 100;
    if (fraction != 0) {
        QString digits = QStringLiteral("%1").arg(fraction, 2, 10, QLatin1Char('0'));
        if (digits.endsWith(u'0'))
            digits.chop(1);
        text += u'.' + digits;
    }
    return (negative ? QStringLiteral("-") : QString()) + text + QStringLiteral(" kWh");
}

QString price(qint64 tenThousandths)
{
    return Price::fromTenThousandthYuan(tenThousandths).toString(numbers());
}

QString dateTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QString time(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms).toLocalTime().toString(QStringLiteral("HH:mm"));
}

QString day(QDate d)
{
    return d.toString(QStringLiteral("MM-dd"));
}

QString month(QDate m)
{
    return m.toString(QStringLiteral("yyyy-MM"));
}

QString countdown(qint64 ms)
{
    const qint64 seconds = ms > 0 ? (ms + 999) / 1000 : 0;
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

} // namespace prepay::kiosk::format
