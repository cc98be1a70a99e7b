// The receipt of the tenant's session: printed by itself once a top-up is paid (TenantFlow asks),
// again from History ("Reprint"). One print at a time; the facts come from prepayd
// (Backend::receiptFacts, so the receipt says what the ledger says), the paper from a
// ReceiptOutput. What happened is reported to the backoffice through the outbox —
// `receipt_printed` or `receipt_failed` with the receipt number and the printer's state — and
// every change of the printer's health as `printer_state`. A print failure never touches money:
// the screen says the payment is safe and how to get the receipt (reprint, or the office).
//
// The screens bind to `state` ("idle", "printing", "printed", "failed"), `failure` (why:
// "paper_out", "offline", "door_open", "error", "unavailable" — no facts from prepayd — or
// "not_found") and `receiptNo`; `printerHealth` is the printer's state now ("ok", "paper_out",
// "offline", "door_open", "error", "paper_low"; "none" without a printer) so a tenant learns
// before paying that no receipt will come out (`printerDown`). clear() (the session wiped) forgets the state; a print already
// under way still finishes and is reported.
#pragma once

#include "backend.h"
#include "receiptoutput.h"

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtQml/qqmlregistration.h>

namespace prepay::kiosk {

class ReceiptController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("owned by TenantFlow")
    Q_PROPERTY(bool available READ available NOTIFY changed)
    Q_PROPERTY(QString state READ state NOTIFY changed)
    Q_PROPERTY(QString failure READ failure NOTIFY changed)
    Q_PROPERTY(QString receiptNo READ receiptNo NOTIFY changed)
    Q_PROPERTY(bool busy READ busy NOTIFY changed)
    Q_PROPERTY(QString printerHealth READ printerHealth NOTIFY changed)
    Q_PROPERTY(bool printerDown READ printerDown NOTIFY changed)

public:
    explicit ReceiptController(QObject *parent = nullptr);

    void setBackend(Backend *backend);
    void setOutput(ReceiptOutput *output);
    ReceiptOutput *output() const { return m_output; }

    bool available() const { return m_output && m_output->available(); }
    QString state() const { return m_state; }
    QString failure() const { return m_failure; }
    QString receiptNo() const { return m_receiptNo; }
    bool busy() const { return m_busy; }
    QString printerHealth() const { return m_output ? m_output->health() : QStringLiteral("none"); }
    // A printer that is configured and cannot print now (paper out, offline, cover open, error).
    bool printerDown() const;

    // Prints receipt `receiptNo` in `language`; ignored while one is printing or without a printer.
    Q_INVOKABLE void print(const QString &receiptNo, const QString &language);
    void clear();

Q_SIGNALS:
    void changed();

private:
    void finish(quint64 generation, const QString &receiptNo, const PrintOutcome &outcome, const QString &failure);
    void onHealthChanged();

    QPointer<Backend> m_backend;
    QPointer<ReceiptOutput> m_output;
    QString m_state = QStringLiteral("idle");
    QString m_failure;
    QString m_receiptNo;
    bool m_busy = false;
    quint64 m_generation = 0; // of the session: a print that ends after a wipe shows nothing
    QString m_reportedHealth; // the printer's health as last reported to the backend
};

} // namespace prepay::kiosk
