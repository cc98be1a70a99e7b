// The kiosk's receipt printer: a ReceiptOutput (kiosk/flow/receiptoutput.h) over CUPS. print()
// words the facts (drivers/printer/receiptfacts.h), then on its worker thread renders the PDF
// (drivers/printer/receipt.h), submits it to the configured queue and follows the job
// (drivers/printer/cupsprinter.h, followJob) for up to kJobTimeoutMs, or until the printer says it
// is stuck (paper out, cover open: within seconds — the tenant is standing there); a job not done
// then is cancelled — a receipt that comes out an hour later, when someone refills the paper,
// helps nobody — and the answer says why, with the printer's state. Every kHealthPollMs (and after each job) the
// worker reads the printer's state; a change is healthChanged().
//
// libcups blocks, so every CUPS call and the rendering run on one worker thread of its own (one
// at a time, in order); answers come back on the main thread. The destructor waits for it.
#pragma once

#include "flow/receiptoutput.h"
#include "printer/receipt.h"

#include <QtCore/QThreadPool>
#include <QtCore/QTimer>

namespace prepay::kiosk {

class CupsReceiptOutput final : public ReceiptOutput
{
    Q_OBJECT

public:
    static constexpr int kJobTimeoutMs = 60'000;
    static constexpr int kHealthPollMs = 30'000;

    // queue: the CUPS queue ("" = no printer); server: "" for the system's CUPS, else host:port
    // or a socket path.
    CupsReceiptOutput(const QString &queue, const QString &server, printer::Paper paper, QObject *parent = nullptr);
    ~CupsReceiptOutput() override;

    bool available() const override { return !m_queue.isEmpty(); }
    QString health() const override { return m_queue.isEmpty() ? QStringLiteral("none") : m_health; }
    QString healthDetail() const override { return m_detail; }
    void print(const QJsonObject &facts, const QString &language, std::function<void(const PrintOutcome &)> done) override;

    // Reads the printer's state now (on the worker); healthChanged() if it changed.
    void pollHealth();

private:
    void setHealth(const QString &health, const QString &detail);

    const QString m_queue;
    const QString m_server;
    const printer::Paper m_paper;
    QString m_health = QStringLiteral("ok");
    QString m_detail;
    QTimer m_poll;
    QThreadPool m_worker;
};

} // namespace prepay::kiosk
