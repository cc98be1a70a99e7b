// The History screen's controller: the shop's last 10 recharges (QR and cash), newest first,
// asked from prepayd (online only; offline the list says so). Reprinting a receipt is the
// receipts issue's.
#pragma once

#include "backend.h"
#include "listmodels.h"

#include <QtCore/QObject>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class HistoryController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("made by TenantFlow")
    Q_PROPERTY(prepay::kiosk::RechargeListModel *recharges READ recharges CONSTANT)

public:
    explicit HistoryController(QObject *parent = nullptr);
    void setBackend(Backend *backend) { m_backend = backend; }

    RechargeListModel *recharges() { return &m_model; }
    // Asks for the shop's recent recharges (the list shows `loading` meanwhile).
    void load(const QString &shopNo);
    void clear();

private:
    Backend *m_backend = nullptr;
    RechargeListModel m_model;
    quint64 m_generation = 0;
};

} // namespace prepay::kiosk
