#include "listmodels.h"

#include "format.h"

#include <algorithm>

namespace prepay::kiosk {

void KioskListModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged();
}

void KioskListModel::setError(const QString &code, const QString &message)
{
    if (code == m_errorCode && message == m_errorMessage)
        return;
    m_errorCode = code;
    m_errorMessage = message;
    Q_EMIT errorChanged();
}

// ---- PointListModel

int PointListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_points.size());
}

QVariant PointListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const sync::PointState &p = m_points.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case PointCodeRole: return p.pointCode;
    case RelayRole: return p.relay;
    case ControlModeRole: return p.controlMode;
    case OfflineRole: return p.offline;
    default: return {};
    }
}

QHash<int, QByteArray> PointListModel::roleNames() const
{
    return {{PointCodeRole, "pointCode"}, {RelayRole, "relay"}, {ControlModeRole, "controlMode"},
        {OfflineRole, "offline"}};
}

void PointListModel::setPoints(const QList<sync::PointState> &points)
{
    if (points == m_points)
        return;
    const bool countChange = points.size() != m_points.size();
    beginResetModel();
    m_points = points;
    endResetModel();
    if (countChange)
        Q_EMIT countChanged();
}

void PointListModel::clear()
{
    setPoints({});
    setLoading(false);
    setError({}, {});
}

// ---- UsageBarModel

int UsageBarModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_bars.size());
}

namespace {

double share(qint64 part, qint64 whole)
{
    // Display geometry only (a bar's height); money and energy stay integers.
    return whole > 0 ? double(part) / double(whole) : 0.0;
}

} // namespace

QVariant UsageBarModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const UsageBar &b = m_bars.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case LabelRole: return b.label;
    case PresentRole: return b.present;
    case EnergyWhRole: return b.energyWh;
    case EnergyTextRole: return b.present ? format::energy(b.energyWh) : QString();
    case CostTextRole: return b.present ? format::money(b.amountFen) : QString();
    case FractionRole: return b.present ? share(b.energyWh, m_maxWh) : 0.0;
    case SharpFractionRole: return share(b.slotWh[0], b.energyWh);
    case PeakFractionRole: return share(b.slotWh[1], b.energyWh);
    case FlatFractionRole: return share(b.slotWh[2], b.energyWh);
    case ValleyFractionRole: return share(b.slotWh[3], b.energyWh);
    case CurrentRole: return b.current;
    default: return {};
    }
}

QHash<int, QByteArray> UsageBarModel::roleNames() const
{
    return {{LabelRole, "label"}, {PresentRole, "present"}, {EnergyWhRole, "energyWh"},
        {EnergyTextRole, "energyText"}, {CostTextRole, "costText"}, {FractionRole, "fraction"},
        {SharpFractionRole, "sharpFraction"}, {PeakFractionRole, "peakFraction"},
        {FlatFractionRole, "flatFraction"}, {ValleyFractionRole, "valleyFraction"}, {CurrentRole, "current"}};
}

void UsageBarModel::setBars(const QList<UsageBar> &bars)
{
    const bool countChange = bars.size() != m_bars.size();
    beginResetModel();
    m_bars = bars;
    m_maxWh = 0;
    for (const UsageBar &b : m_bars) {
        if (b.present)
            m_maxWh = std::max(m_maxWh, b.energyWh);
    }
    endResetModel();
    if (countChange)
        Q_EMIT countChanged();
}

void UsageBarModel::clear()
{
    setBars({});
    setLoading(false);
    setError({}, {});
}

// ---- RechargeListModel

int RechargeListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_recharges.size());
}

QVariant RechargeListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Recharge &r = m_recharges.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case ReceiptNoRole: return r.receiptNo;
    case ChannelRole: return r.channel;
    case AmountTextRole: return format::money(r.amountFen);
    case TimeTextRole: return format::dateTime(r.atMs);
    case LateRole: return r.late;
    case StateRole: return r.state;
    default: return {};
    }
}

QHash<int, QByteArray> RechargeListModel::roleNames() const
{
    return {{ReceiptNoRole, "receiptNo"}, {ChannelRole, "channel"}, {AmountTextRole, "amountText"},
        {TimeTextRole, "timeText"}, {LateRole, "late"}, {StateRole, "state"}};
}

void RechargeListModel::setRecharges(const QList<Recharge> &recharges)
{
    QList<Recharge> sorted = recharges;
    std::stable_sort(sorted.begin(), sorted.end(), [](const Recharge &a, const Recharge &b) { return a.atMs > b.atMs; });
    if (sorted.size() > kRechargesMax)
        sorted.resize(kRechargesMax);
    const bool countChange = sorted.size() != m_recharges.size();
    beginResetModel();
    m_recharges = sorted;
    endResetModel();
    if (countChange)
        Q_EMIT countChanged();
}

void RechargeListModel::clear()
{
    setRecharges({});
    setLoading(false);
    setError({}, {});
}

} // namespace prepay::kiosk
