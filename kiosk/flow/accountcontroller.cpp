#include "accountcontroller.h"

#include "format.h"

#include <QtCore/QDateTime>

#include <algorithm>

namespace prepay::kiosk {

std::optional<qint64> daysLeft(const sync::DirectoryRow &row, QDate today)
{
    if (!row.balanceFen || *row.balanceFen <= 0)
        return std::nullopt;
    qint64 costFen = 0;
    qint64 days = 0;
    for (auto it = row.daily.crbegin(); it != row.daily.crend() && days < kDaysLeftWindow; ++it) {
        if (it->day >= today)
            continue;
        costFen += it->amountFen;
        ++days;
    }
    if (days == 0 || costFen <= 0)
        return std::nullopt;
    // balance / (cost / days), in integers: whole days, rounded down.
    return *row.balanceFen * days / costFen;
}

QString tenantStatus(const sync::DirectoryRow &row)
{
    bool forceOn = false;
    for (const sync::PointState &p : row.points)
        forceOn = forceOn || p.controlMode == QLatin1String("force_on");
    if (row.status == sync::AccountStatus::Arrears && forceOn)
        return QStringLiteral("force_on");
    return sync::accountStatusCode(row.status);
}

AccountController::AccountController(QObject *parent)
    : QObject(parent)
{ }

void AccountController::load(qint64 accountId)
{
    m_accountId = accountId;
    refresh();
}

void AccountController::refresh()
{
    m_row.reset();
    m_today.reset();
    m_month.reset();
    m_daysLeft = -1;
    m_stale = false;
    if (m_backend && m_accountId != 0)
        m_row = m_backend->account(m_accountId);
    if (m_row) {
        const qint64 nowMs = m_clock ? m_clock->wallMs() : QDateTime::currentMSecsSinceEpoch();
        const QDate today = QDateTime::fromMSecsSinceEpoch(nowMs).toLocalTime().date();
        const QDate firstOfMonth(today.year(), today.month(), 1);
        for (const sync::DayUsage &d : m_row->daily) {
            if (d.day == today)
                m_today = d;
        }
        for (const sync::MonthUsage &m : m_row->monthly) {
            if (m.month == firstOfMonth)
                m_month = m;
        }
        if (const auto days = daysLeft(*m_row, today))
            m_daysLeft = int(std::min<qint64>(*days, 9999));
        const bool online = m_backend->linkState() == LinkState::Online;
        const bool oldReading = !m_row->lastReadingMs || nowMs - *m_row->lastReadingMs > kStaleReadingMs;
        m_stale = !online || oldReading;
        m_points.setPoints(m_row->points);
        m_points.setError({}, {});
    } else {
        m_points.setPoints({});
        if (m_accountId != 0)
            m_points.setError(QStringLiteral("unknown_account"), {});
    }
    Q_EMIT changed();
}

void AccountController::clear()
{
    m_accountId = 0;
    m_row.reset();
    m_today.reset();
    m_month.reset();
    m_daysLeft = -1;
    m_stale = false;
    m_points.clear();
    Q_EMIT changed();
}

QString AccountController::shopNo() const
{
    return m_row ? m_row->shopNo : QString();
}

QString AccountController::displayName() const
{
    return m_row ? m_row->displayName : QString();
}

bool AccountController::hasBalance() const
{
    return m_row && m_row->balanceFen.has_value();
}

QString AccountController::balanceText() const
{
    return hasBalance() ? format::money(*m_row->balanceFen) : QString();
}

QString AccountController::status() const
{
    return m_row ? tenantStatus(*m_row) : QString();
}

QString AccountController::todayEnergyText() const
{
    return m_today ? format::energy(m_today->energyWh) : QString();
}

QString AccountController::todayCostText() const
{
    return m_today ? format::money(m_today->amountFen) : QString();
}

QString AccountController::monthEnergyText() const
{
    return m_month ? format::energy(m_month->energyWh) : QString();
}

QString AccountController::monthCostText() const
{
    return m_month ? format::money(m_month->amountFen) : QString();
}

QString AccountController::tariffKind() const
{
    return m_row && m_row->tariff ? m_row->tariff->kind : QString();
}

QString AccountController::tariffName() const
{
    return m_row && m_row->tariff ? m_row->tariff->name : QString();
}

QStringList AccountController::tariffPrices() const
{
    QStringList prices;
    if (m_row && m_row->tariff) {
        for (const qint64 p : m_row->tariff->prices)
            prices.append(format::price(p));
    }
    return prices;
}

int AccountController::tierCount() const
{
    return m_row && m_row->tariff ? int(m_row->tariff->tierUpperWh.size()) + 1 : 0;
}

bool AccountController::hasReading() const
{
    return m_row && m_row->lastReadingMs.has_value();
}

QString AccountController::lastReadingText() const
{
    return hasReading() ? format::dateTime(*m_row->lastReadingMs) : QString();
}

bool AccountController::powerOff() const
{
    if (!m_row)
        return false;
    for (const sync::PointState &p : m_row->points) {
        if (p.relay == QLatin1String("open"))
            return true;
    }
    return false;
}

} // namespace prepay::kiosk
