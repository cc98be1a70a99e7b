// The tenant screens' lists (STYLE.md habit 19): each a QAbstractListModel with `loading` and
// `errorCode`/`errorMessage`, filled by its controller and cleared when the session is wiped.
//  - PointListModel: the account's metering points with their relay state (Account);
//  - UsageBarModel: 31 daily or 12 monthly bars, a missing period is a gap (present = false),
//    never a zero bar; each with its TOU split (Usage);
//  - RechargeListModel: the last recharges, newest first (History).
// errorCode is a stable code the QML turns into words ("unavailable", "refused", "unknown_account");
// errorMessage is the backoffice's own reason when it gave one.
#pragma once

#include "sync/directory.h"
#include "backend.h"

#include <QtCore/QAbstractListModel>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class KioskListModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(QString errorCode READ errorCode NOTIFY errorChanged)
    Q_PROPERTY(QString errorMessage READ errorMessage NOTIFY errorChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)

public:
    using QAbstractListModel::QAbstractListModel;

    bool loading() const { return m_loading; }
    QString errorCode() const { return m_errorCode; }
    QString errorMessage() const { return m_errorMessage; }
    int count() const { return rowCount(); }

    void setLoading(bool loading);
    void setError(const QString &code, const QString &message);
    // Empties the list and forgets loading and error (the session was wiped).
    virtual void clear() = 0;

Q_SIGNALS:
    void loadingChanged();
    void errorChanged();
    void countChanged();

private:
    bool m_loading = false;
    QString m_errorCode;
    QString m_errorMessage;
};

class PointListModel : public prepay::kiosk::KioskListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by AccountController")

public:
    enum Role { PointCodeRole = Qt::UserRole + 1, RelayRole, ControlModeRole, OfflineRole };
    using KioskListModel::KioskListModel;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setPoints(const QList<sync::PointState> &points);
    void clear() override;

private:
    QList<sync::PointState> m_points;
};

// One bar of the Usage screen.
struct UsageBar
{
    QString label;            // "11-24" or "2026-11"
    bool present = false;     // false: no reading in that period — a gap, drawn as a gap
    qint64 energyWh = 0;
    qint64 amountFen = 0;
    sync::SlotEnergy slotWh{};
    bool current = false;     // today / this month
};

class UsageBarModel : public prepay::kiosk::KioskListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by UsageController")
    Q_PROPERTY(qint64 maxEnergyWh READ maxEnergyWh NOTIFY countChanged)

public:
    enum Role {
        LabelRole = Qt::UserRole + 1,
        PresentRole,
        EnergyWhRole,
        EnergyTextRole,
        CostTextRole,
        FractionRole,   // energy / the largest bar, 0..1, for the bar's height (display only)
        SharpFractionRole, PeakFractionRole, FlatFractionRole, ValleyFractionRole, // of this bar
        CurrentRole,
    };
    using KioskListModel::KioskListModel;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setBars(const QList<UsageBar> &bars);
    const QList<UsageBar> &bars() const { return m_bars; }
    qint64 maxEnergyWh() const { return m_maxWh; }
    void clear() override;

private:
    QList<UsageBar> m_bars;
    qint64 m_maxWh = 0;
};

class RechargeListModel : public prepay::kiosk::KioskListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by HistoryController")

public:
    static constexpr int kRechargesMax = 10;
    enum Role { ReceiptNoRole = Qt::UserRole + 1, ChannelRole, AmountTextRole, TimeTextRole, LateRole, StateRole };
    using KioskListModel::KioskListModel;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    void setRecharges(const QList<Recharge> &recharges); // keeps the newest kRechargesMax
    void clear() override;

private:
    QList<Recharge> m_recharges;
};

} // namespace prepay::kiosk
