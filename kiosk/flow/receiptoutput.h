// Where the kiosk's receipts come out: the interface between the flow's ReceiptController and a
// printer — the CUPS one (kiosk/receipts: render the receipt, print it, follow the job) or the
// fixture's. Like Backend, every answer comes later through the event loop, never from inside
// the call; main thread only.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>

namespace prepay::kiosk {

// How one receipt went. `printed`, or why not: `printer` is the printer's health code as
// kiosk.report_health has it ("ok", "offline", "paper_out", "paper_low", "door_open", "error",
// "none" when no printer is configured) and `detail` what CUPS said, for the backoffice.
struct PrintOutcome
{
    bool printed = false;
    QString printer;
    QString detail;
};

class ReceiptOutput : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // A printer is configured (without one the kiosk offers no receipt).
    virtual bool available() const = 0;
    // The printer's health code as last seen ("ok", "paper_out", …; "none" without a printer).
    virtual QString health() const = 0;
    virtual QString healthDetail() const = 0;
    // Prints the receipt `facts` (receipt.get's result) worded in `language` ("zh_CN" or "en").
    virtual void print(const QJsonObject &facts, const QString &language, std::function<void(const PrintOutcome &)> done) = 0;

Q_SIGNALS:
    // The printer's health changed (the kiosk reports it to the backoffice).
    void healthChanged();
};

} // namespace prepay::kiosk
