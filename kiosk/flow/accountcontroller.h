// The Account screen's controller: one account's row from the replica, said for the tenant —
// balance; status as a code the screen shows in colour AND words ("normal", "alarm1" low
// balance, "alarm2" very low, "arrears" power off, "force_on" in arrears but power kept on by
// management, "offline" meter not answering, "not_opened"); each meter with its relay; today's
// and this month's use and cost; the tariff's parts for a sentence in plain words; "about N days
// left at your recent usage"; the last reading's time; `stale` ("data may be out of date") when
// the link is not online or the last reading is older than 2 hours. Re-reads the row whenever
// the replica changes it (a late payment shows up by itself).
#pragma once

#include "backend.h"
#include "listmodels.h"

#include "api/clock.h"

#include <QtCore/QObject>
#include <QtCore/QStringList>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

// "about N days left": the balance over the average daily cost of the last kDaysLeftWindow
// complete days that have readings (today, still running, is left out). nullopt — say
// nothing — when there is no usage in that window or the balance is not positive.
std::optional<qint64> daysLeft(const sync::DirectoryRow &row, QDate today);
inline constexpr int kDaysLeftWindow = 7;
inline constexpr qint64 kStaleReadingMs = 2 * 3600 * 1000;

// The status the tenant sees (see the file comment).
QString tenantStatus(const sync::DirectoryRow &row);

class AccountController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by TenantFlow")
    Q_PROPERTY(bool loaded READ loaded NOTIFY changed)
    Q_PROPERTY(QString shopNo READ shopNo NOTIFY changed)
    Q_PROPERTY(QString displayName READ displayName NOTIFY changed)
    Q_PROPERTY(bool hasBalance READ hasBalance NOTIFY changed)
    Q_PROPERTY(QString balanceText READ balanceText NOTIFY changed)
    Q_PROPERTY(QString status READ status NOTIFY changed)
    Q_PROPERTY(prepay::kiosk::PointListModel *points READ points CONSTANT)
    Q_PROPERTY(bool hasToday READ hasToday NOTIFY changed)
    Q_PROPERTY(QString todayEnergyText READ todayEnergyText NOTIFY changed)
    Q_PROPERTY(QString todayCostText READ todayCostText NOTIFY changed)
    Q_PROPERTY(bool hasMonth READ hasMonth NOTIFY changed)
    Q_PROPERTY(QString monthEnergyText READ monthEnergyText NOTIFY changed)
    Q_PROPERTY(QString monthCostText READ monthCostText NOTIFY changed)
    Q_PROPERTY(QString tariffKind READ tariffKind NOTIFY changed)   // "", "flat", "tou", "tiered", "tou_tiered"
    Q_PROPERTY(QString tariffName READ tariffName NOTIFY changed)
    Q_PROPERTY(QStringList tariffPrices READ tariffPrices NOTIFY changed) // sharp, peak, flat, valley
    Q_PROPERTY(int tierCount READ tierCount NOTIFY changed)
    Q_PROPERTY(int daysLeft READ daysLeftValue NOTIFY changed)       // -1: say nothing
    Q_PROPERTY(bool hasReading READ hasReading NOTIFY changed)
    Q_PROPERTY(QString lastReadingText READ lastReadingText NOTIFY changed)
    Q_PROPERTY(bool stale READ stale NOTIFY changed)
    Q_PROPERTY(bool powerOff READ powerOff NOTIFY changed)           // some point's relay is open

public:
    explicit AccountController(QObject *parent = nullptr);
    void setBackend(Backend *backend) { m_backend = backend; }
    void setClock(const Clock *clock) { m_clock = clock; }

    void load(qint64 accountId);
    void refresh(); // re-reads the row and the link state
    void clear();

    qint64 accountId() const { return m_row ? m_row->accountId : 0; }
    const std::optional<sync::DirectoryRow> &row() const { return m_row; }

    bool loaded() const { return m_row.has_value(); }
    QString shopNo() const;
    QString displayName() const;
    bool hasBalance() const;
    QString balanceText() const;
    QString status() const;
    PointListModel *points() { return &m_points; }
    bool hasToday() const { return m_today.has_value(); }
    QString todayEnergyText() const;
    QString todayCostText() const;
    bool hasMonth() const { return m_month.has_value(); }
    QString monthEnergyText() const;
    QString monthCostText() const;
    QString tariffKind() const;
    QString tariffName() const;
    QStringList tariffPrices() const;
    int tierCount() const;
    int daysLeftValue() const { return m_daysLeft; }
    bool hasReading() const;
    QString lastReadingText() const;
    bool stale() const { return m_stale; }
    bool powerOff() const;

Q_SIGNALS:
    void changed();

private:
    Backend *m_backend = nullptr;
    const Clock *m_clock = nullptr;
    qint64 m_accountId = 0;
    std::optional<sync::DirectoryRow> m_row;
    std::optional<sync::DayUsage> m_today;
    std::optional<sync::MonthUsage> m_month;
    int m_daysLeft = -1;
    bool m_stale = false;
    PointListModel m_points;
};

} // namespace prepay::kiosk
