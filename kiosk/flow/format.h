// How the tenant screens write numbers (STYLE.md habit 5): money, energy, prices and times are
// formatted here in C++ with QLocale, and QML receives strings. Every string here reads the same
// in Chinese and English ("¥1,234.50", "12.5 kWh", "11-24 09:30"); the words around them are
// qsTr() in QML. Integer fen and Wh in, never a double.
#pragma once

#include <QtCore/QDate>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

namespace prepay::kiosk::format {

QString money(qint64 fen);             // "¥1,234.50", "-¥3.20"
QString yuan(qint64 fen);              // "1,234.50" (no sign; amounts next to a 元 label)
QString energy(qint64 wh);             // "12.5 kWh": kWh with up to two decimals
QString price(qint64 tenThousandths);  // "¥0.6500/kWh"
QString dateTime(qint64 ms);           // "2026-11-24 09:30", local time
QString time(qint64 ms);               // "09:30", local time
QString day(QDate day);                // "11-24"
QString month(QDate month);            // "2026-11"
QString countdown(qint64 ms);          // "4:59", never negative

} // namespace prepay::kiosk::format
