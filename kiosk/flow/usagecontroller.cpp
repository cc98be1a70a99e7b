#include "usagecontroller.h"

#include "format.h"

#include <QtCore/QDateTime>

namespace prepay::kiosk {

QList<UsageBar> dailyBars(const sync::DirectoryRow &row, QDate today)
{
    QList<UsageBar> bars;
    for (int back = sync::kDailyDays - 1; back >= 0; --back) {
        const QDate day = today.addDays(-back);
        UsageBar bar;
        bar.label = format::day(day);
        bar.current = back == 0;
        for (const sync::DayUsage &d : row.daily) {
            if (d.day == day) {
                bar.present = true;
                bar.energyWh = d.energyWh;
                bar.amountFen = d.amountFen;
                bar.slotWh = d.slotWh;
            }
        }
        bars.append(bar);
    }
    return bars;
}

QList<UsageBar> monthlyBars(const sync::DirectoryRow &row, QDate today)
{
    QList<UsageBar> bars;
    const QDate first(today.year(), today.month(), 1);
    for (int back = sync::kMonthlyMonths - 1; back >= 0; --back) {
        const QDate month = first.addMonths(-back);
        UsageBar bar;
        bar.label = format::month(month);
        bar.current = back == 0;
        for (const sync::MonthUsage &m : row.monthly) {
            if (m.month == month) {
                bar.present = true;
                bar.energyWh = m.energyWh;
                bar.amountFen = m.amountFen;
                bar.slotWh = m.slotWh;
            }
        }
        bars.append(bar);
    }
    return bars;
}

UsageController::UsageController(QObject *parent)
    : QObject(parent)
{ }

void UsageController::load(qint64 accountId)
{
    m_accountId = accountId;
    m_monthly = false;
    refresh();
}

void UsageController::refresh()
{
    std::optional<sync::DirectoryRow> row;
    if (m_backend && m_accountId != 0)
        row = m_backend->account(m_accountId);
    if (!row) {
        m_tou = false;
        m_bars.setBars({});
        m_bars.setError(m_accountId != 0 ? QStringLiteral("unknown_account") : QString(), {});
        Q_EMIT changed();
        return;
    }
    const qint64 nowMs = m_clock ? m_clock->wallMs() : QDateTime::currentMSecsSinceEpoch();
    const QDate today = QDateTime::fromMSecsSinceEpoch(nowMs).toLocalTime().date();
    m_tou = row->tariff && row->tariff->kind.startsWith(QLatin1String("tou"));
    m_bars.setError({}, {});
    m_bars.setBars(m_monthly ? monthlyBars(*row, today) : dailyBars(*row, today));
    Q_EMIT changed();
}

void UsageController::clear()
{
    m_accountId = 0;
    m_monthly = false;
    m_tou = false;
    m_bars.clear();
    Q_EMIT changed();
}

void UsageController::setMonthly(bool monthly)
{
    if (monthly == m_monthly)
        return;
    m_monthly = monthly;
    refresh();
}

QString UsageController::totalEnergyText() const
{
    qint64 wh = 0;
    for (const UsageBar &b : m_bars.bars())
        wh += b.energyWh;
    return format::energy(wh);
}

QString UsageController::totalCostText() const
{
    qint64 fen = 0;
    for (const UsageBar &b : m_bars.bars())
        fen += b.amountFen;
    return format::money(fen);
}

int UsageController::gapCount() const
{
    int gaps = 0;
    for (const UsageBar &b : m_bars.bars())
        gaps += b.present ? 0 : 1;
    return gaps;
}

QStringList UsageController::slotEnergyTexts() const
{
    sync::SlotEnergy total{};
    for (const UsageBar &b : m_bars.bars()) {
        for (size_t i = 0; i < total.size(); ++i)
            total[i] += b.slotWh[i];
    }
    QStringList texts;
    for (const qint64 wh : total)
        texts.append(format::energy(wh));
    return texts;
}

QList<qreal> UsageController::slotFractions() const
{
    sync::SlotEnergy total{};
    qint64 all = 0;
    for (const UsageBar &b : m_bars.bars()) {
        for (size_t i = 0; i < total.size(); ++i) {
            total[i] += b.slotWh[i];
            all += b.slotWh[i];
        }
    }
    QList<qreal> fractions;
    for (const qint64 wh : total)
        fractions.append(all > 0 ? qreal(wh) / qreal(all) : 0.0);
    return fractions;
}

} // namespace prepay::kiosk
