#include "identifycontroller.h"

#include <QtCore/QPointer>

namespace prepay::kiosk {

IdentifyController::IdentifyController(QObject *parent)
    : QObject(parent)
{ }

QStringList IdentifyController::letterKeys() const
{
    // Shop numbers are written like "A-1F-104" and "B1-07": building letters, F for floor, dash.
    return {QStringLiteral("A"), QStringLiteral("B"), QStringLiteral("F"), QStringLiteral("-")};
}

void IdentifyController::press(const QString &key)
{
    if (key.size() != 1 || m_entry.size() >= kEntryMax)
        return;
    const QChar c = key.at(0).toUpper();
    if (!c.isDigit() && !letterKeys().contains(QString(c)))
        return;
    m_entry += c;
    m_error.clear();
    m_candidateId = 0;
    Q_EMIT changed();
}

void IdentifyController::backspace()
{
    if (m_entry.isEmpty())
        return;
    m_entry.chop(1);
    m_error.clear();
    m_candidateId = 0;
    Q_EMIT changed();
}

void IdentifyController::clearEntry()
{
    m_entry.clear();
    m_error.clear();
    m_candidateId = 0;
    Q_EMIT changed();
}

void IdentifyController::lookUp()
{
    m_candidateId = 0;
    m_candidateShopNo.clear();
    m_candidateName.clear();
    if (m_entry.isEmpty()) {
        m_error = QStringLiteral("empty");
    } else if (const auto row = m_backend ? m_backend->findShop(m_entry) : std::nullopt) {
        m_error.clear();
        m_candidateId = row->accountId;
        m_candidateShopNo = row->shopNo;
        m_candidateName = row->displayName;
    } else {
        m_error = QStringLiteral("not_found");
    }
    Q_EMIT changed();
}

void IdentifyController::confirm()
{
    if (m_candidateId == 0)
        return;
    Q_EMIT confirmed(m_candidateId);
}

void IdentifyController::reject()
{
    m_candidateId = 0;
    m_candidateShopNo.clear();
    m_candidateName.clear();
    m_entry.clear();
    Q_EMIT changed();
}

void IdentifyController::pressPinDigit(const QString &digit)
{
    if (m_pinBusy || digit.size() != 1 || !digit.at(0).isDigit() || m_pin.size() >= kPinMax)
        return;
    m_pin += digit;
    m_pinError.clear();
    m_pinMessage.clear();
    Q_EMIT changed();
}

void IdentifyController::pinBackspace()
{
    if (m_pinBusy || m_pin.isEmpty())
        return;
    m_pin.chop(1);
    Q_EMIT changed();
}

void IdentifyController::submitPin()
{
    if (m_pinBusy || m_candidateId == 0 || !m_backend)
        return;
    if (m_pin.size() < kPinMin) {
        m_pinError = QStringLiteral("too_short");
        Q_EMIT changed();
        return;
    }
    m_pinBusy = true;
    m_pinError.clear();
    m_pinMessage.clear();
    Q_EMIT changed();
    const quint64 generation = m_generation;
    QPointer<IdentifyController> self(this);
    m_backend->checkPin(m_candidateShopNo, m_pin, [self, generation](const std::optional<bool> &ok, const BackendError &error) {
        if (!self || self->m_generation != generation)
            return;
        self->m_pinBusy = false;
        self->m_pin.clear();
        if (ok && *ok) {
            Q_EMIT self->changed();
            Q_EMIT self->pinAccepted();
            return;
        }
        self->m_pinError = ok ? QStringLiteral("wrong_pin") : (error.code.isEmpty() ? QStringLiteral("refused") : error.code);
        self->m_pinMessage = error.message;
        Q_EMIT self->changed();
    });
}

void IdentifyController::clearPin()
{
    m_pin.clear();
    m_pinError.clear();
    m_pinMessage.clear();
    Q_EMIT changed();
}

void IdentifyController::clear()
{
    ++m_generation;
    m_entry.clear();
    m_candidateId = 0;
    m_candidateShopNo.clear();
    m_candidateName.clear();
    m_error.clear();
    m_pin.clear();
    m_pinBusy = false;
    m_pinError.clear();
    m_pinMessage.clear();
    Q_EMIT changed();
}

} // namespace prepay::kiosk
