#include "receiptcontroller.h"

namespace prepay::kiosk {

ReceiptController::ReceiptController(QObject *parent)
    : QObject(parent)
{
}

bool ReceiptController::printerDown() const
{
    if (!available())
        return false;
    const QString health = m_output->health();
    return health == u"paper_out" || health == u"offline" || health == u"door_open" || health == u"error";
}

void ReceiptController::setBackend(Backend *backend)
{
    m_backend = backend;
    onHealthChanged();
}

void ReceiptController::setOutput(ReceiptOutput *output)
{
    if (m_output)
        disconnect(m_output, nullptr, this, nullptr);
    m_output = output;
    if (m_output) {
        connect(m_output, &ReceiptOutput::healthChanged, this, &ReceiptController::onHealthChanged);
        onHealthChanged();
    }
    Q_EMIT changed();
}

void ReceiptController::print(const QString &receiptNo, const QString &language)
{
    if (m_busy || !available() || receiptNo.isEmpty() || !m_backend)
        return;
    m_busy = true;
    m_state = QStringLiteral("printing");
    m_failure.clear();
    m_receiptNo = receiptNo;
    Q_EMIT changed();
    const quint64 generation = m_generation;
    const QPointer<ReceiptController> self(this);
    m_backend->receiptFacts(receiptNo, [self, generation, receiptNo, language](const std::optional<QJsonObject> &facts,
                                            const BackendError &error) {
        if (!self)
            return;
        if (!facts || !self->m_output) {
            PrintOutcome none;
            none.printer = self->m_output ? self->m_output->health() : QStringLiteral("none");
            none.detail = error.message;
            self->finish(generation, receiptNo, none,
                error.code == QLatin1String("not_found") || error.code == QLatin1String("forbidden")
                    ? QStringLiteral("not_found")
                    : QStringLiteral("unavailable"));
            return;
        }
        self->m_output->print(*facts, language, [self, generation, receiptNo](const PrintOutcome &outcome) {
            if (!self)
                return;
            QString failure;
            if (!outcome.printed) {
                failure = outcome.printer == QLatin1String("paper_out") || outcome.printer == QLatin1String("offline")
                        || outcome.printer == QLatin1String("door_open")
                    ? outcome.printer
                    : QStringLiteral("error");
            }
            self->finish(generation, receiptNo, outcome, failure);
        });
    });
}

void ReceiptController::finish(quint64 generation, const QString &receiptNo, const PrintOutcome &outcome,
    const QString &failure)
{
    m_busy = false;
    if (m_backend) {
        QJsonObject fields{{QStringLiteral("receipt_no"), receiptNo}, {QStringLiteral("printer"), outcome.printer}};
        if (!outcome.detail.isEmpty())
            fields.insert(QStringLiteral("detail"), outcome.detail.left(200));
        m_backend->report(outcome.printed ? QStringLiteral("receipt_printed") : QStringLiteral("receipt_failed"), fields);
    }
    if (generation == m_generation) {
        m_state = outcome.printed ? QStringLiteral("printed") : QStringLiteral("failed");
        m_failure = failure;
    }
    Q_EMIT changed();
}

void ReceiptController::clear()
{
    ++m_generation;
    m_state = QStringLiteral("idle");
    m_failure.clear();
    m_receiptNo.clear();
    Q_EMIT changed();
}

void ReceiptController::onHealthChanged()
{
    if (!m_output || !m_output->available())
        return;
    const QString health = m_output->health();
    if (health == m_reportedHealth)
        return;
    if (m_backend) { // else reported once there is one (setBackend)
        m_reportedHealth = health;
        QJsonObject fields{{QStringLiteral("printer"), health}};
        if (!m_output->healthDetail().isEmpty())
            fields.insert(QStringLiteral("detail"), m_output->healthDetail().left(200));
        m_backend->report(QStringLiteral("printer_state"), fields);
    }
    Q_EMIT changed();
}

} // namespace prepay::kiosk
