#include "historycontroller.h"

#include <QtCore/QPointer>

namespace prepay::kiosk {

HistoryController::HistoryController(QObject *parent)
    : QObject(parent)
{ }

void HistoryController::load(const QString &shopNo)
{
    const quint64 generation = ++m_generation;
    m_model.setRecharges({});
    m_model.setError({}, {});
    if (!m_backend)
        return;
    m_model.setLoading(true);
    QPointer<HistoryController> self(this);
    m_backend->recentRecharges(shopNo, [self, generation](const std::optional<QList<Recharge>> &list, const BackendError &error) {
        if (!self || self->m_generation != generation)
            return;
        self->m_model.setLoading(false);
        if (list) {
            self->m_model.setRecharges(*list);
        } else {
            self->m_model.setError(error.code.isEmpty() ? QStringLiteral("refused") : error.code, error.message);
        }
    });
}

void HistoryController::clear()
{
    ++m_generation;
    m_model.clear();
}

} // namespace prepay::kiosk
