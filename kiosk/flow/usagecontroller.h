// The Usage screen's controller: the account's daily bars for the last 31 local days or monthly
// bars for the last 12 months, from the replica row. A day (month) without readings is absent
// from the row and becomes a gap here (present = false), never a zero bar; a day with readings
// and no consumption is a real zero. Totals and the TOU split (sharp/peak/flat/valley) are of
// the periods shown.
#pragma once

#include "backend.h"
#include "listmodels.h"

#include "api/clock.h"

#include <QtCore/QObject>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

// The bars for `row` ending at `today` (local): kDailyDays or kMonthlyMonths, oldest first.
QList<UsageBar> dailyBars(const sync::DirectoryRow &row, QDate today);
QList<UsageBar> monthlyBars(const sync::DirectoryRow &row, QDate today);

class UsageController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by TenantFlow")
    Q_PROPERTY(bool monthly READ monthly WRITE setMonthly NOTIFY changed)
    Q_PROPERTY(prepay::kiosk::UsageBarModel *bars READ bars CONSTANT)
    Q_PROPERTY(QString totalEnergyText READ totalEnergyText NOTIFY changed)
    Q_PROPERTY(QString totalCostText READ totalCostText NOTIFY changed)
    Q_PROPERTY(int gapCount READ gapCount NOTIFY changed)
    Q_PROPERTY(QString firstLabel READ firstLabel NOTIFY changed) // the oldest bar's day or month
    Q_PROPERTY(bool touSplit READ touSplit NOTIFY changed) // the tariff is time-of-use
    Q_PROPERTY(QStringList slotEnergyTexts READ slotEnergyTexts NOTIFY changed) // sharp, peak, flat, valley
    Q_PROPERTY(QList<qreal> slotFractions READ slotFractions NOTIFY changed)     // display only

public:
    explicit UsageController(QObject *parent = nullptr);
    void setBackend(Backend *backend) { m_backend = backend; }
    void setClock(const Clock *clock) { m_clock = clock; }

    void load(qint64 accountId);
    void refresh();
    void clear();

    bool monthly() const { return m_monthly; }
    void setMonthly(bool monthly);
    UsageBarModel *bars() { return &m_bars; }
    QString totalEnergyText() const;
    QString totalCostText() const;
    int gapCount() const;
    QString firstLabel() const { return m_bars.bars().isEmpty() ? QString() : m_bars.bars().first().label; }
    bool touSplit() const { return m_tou; }
    QStringList slotEnergyTexts() const;
    QList<qreal> slotFractions() const;

Q_SIGNALS:
    void changed();

private:
    Backend *m_backend = nullptr;
    const Clock *m_clock = nullptr;
    qint64 m_accountId = 0;
    bool m_monthly = false;
    bool m_tou = false;
    UsageBarModel m_bars;
};

} // namespace prepay::kiosk
