#include "cupsoutput.h"

#include "printer/cupsprinter.h"
#include "printer/receiptfacts.h"

#include <QtCore/QPointer>
#include <QtCore/QTemporaryDir>

namespace prepay::kiosk {

namespace {

struct Seen
{
    QString health; // "ok", "offline", …
    QString detail;
};

// The printer's state as the kiosk reports it; a CUPS that cannot be asked is "offline".
Seen readHealth(printer::CupsClient &cups, const QString &queue)
{
    QString error;
    const std::optional<printer::PrinterState> state = cups.printerState(queue, &error);
    if (!state)
        return {QStringLiteral("offline"), error};
    return {printer::healthCode(state->health()), state->message};
}

} // namespace

CupsReceiptOutput::CupsReceiptOutput(const QString &queue, const QString &server, printer::Paper paper, QObject *parent)
    : ReceiptOutput(parent)
    , m_queue(queue)
    , m_server(server)
    , m_paper(paper)
{
    m_worker.setMaxThreadCount(1);
    m_poll.setInterval(kHealthPollMs);
    connect(&m_poll, &QTimer::timeout, this, &CupsReceiptOutput::pollHealth);
    if (available()) {
        m_poll.start();
        pollHealth();
    }
}

CupsReceiptOutput::~CupsReceiptOutput()
{
    m_worker.waitForDone();
}

void CupsReceiptOutput::pollHealth()
{
    if (!available())
        return;
    const QString queue = m_queue;
    const QString server = m_server;
    m_worker.start([this, queue, server] {
        printer::CupsClient cups(server);
        const Seen seen = readHealth(cups, queue);
        QMetaObject::invokeMethod(this, [this, seen] { setHealth(seen.health, seen.detail); }, Qt::QueuedConnection);
    });
}

void CupsReceiptOutput::setHealth(const QString &health, const QString &detail)
{
    if (health == m_health && detail == m_detail)
        return;
    m_health = health;
    m_detail = detail;
    Q_EMIT healthChanged();
}

void CupsReceiptOutput::print(const QJsonObject &facts, const QString &language, std::function<void(const PrintOutcome &)> done)
{
    const printer::ReceiptLanguage lang
        = language == QLatin1String("en") ? printer::ReceiptLanguage::English : printer::ReceiptLanguage::Chinese;
    QString error;
    const std::optional<printer::ReceiptData> data = printer::receiptFromFacts(facts, lang, &error);
    if (!available() || !data) {
        PrintOutcome outcome;
        outcome.printer = health();
        outcome.detail = available() ? error : QStringLiteral("no printer configured");
        QMetaObject::invokeMethod(this, [done, outcome] { done(outcome); }, Qt::QueuedConnection);
        return;
    }
    const QString queue = m_queue;
    const QString server = m_server;
    const printer::Paper paper = m_paper;
    m_worker.start([this, queue, server, paper, lang, data = *data, done] {
        PrintOutcome outcome;
        QString problem;
        printer::CupsClient cups(server);
        QTemporaryDir dir;
        const QString pdf = dir.filePath(QStringLiteral("receipt.pdf"));
        if (!dir.isValid() || !printer::renderReceipt(data, paper, lang, pdf, &problem)) {
            outcome.detail = problem.isEmpty() ? QStringLiteral("no temporary directory") : problem;
        } else if (const std::optional<int> id = cups.print(queue, pdf, QStringLiteral("receipt %1").arg(data.receiptNo), &problem)) {
            if (const std::optional<printer::FollowedJob> followed = cups.followJob(*id, queue, kJobTimeoutMs, &problem)) {
                outcome.printed = followed->end == printer::FollowedJob::End::Completed;
                if (!outcome.printed) {
                    if (!followed->job.finished()) {
                        QString ignored;
                        cups.cancel(*id, &ignored);
                    }
                    outcome.detail = QStringLiteral("job %1 %2").arg(*id).arg(printer::jobStateCode(followed->job.state));
                }
            }
        }
        if (outcome.detail.isEmpty() && !problem.isEmpty())
            outcome.detail = problem;
        const Seen seen = readHealth(cups, queue);
        outcome.printer = seen.health;
        if (!outcome.printed && !seen.detail.isEmpty())
            outcome.detail += (outcome.detail.isEmpty() ? QString() : QStringLiteral("; ")) + seen.detail;
        if (!outcome.printed && outcome.printer == QLatin1String("ok"))
            outcome.printer = QStringLiteral("error"); // the job failed, whatever the printer says now
        QMetaObject::invokeMethod(this, [this, done, outcome, seen] {
            setHealth(seen.health, seen.detail);
            done(outcome);
        }, Qt::QueuedConnection);
    });
}

} // namespace prepay::kiosk
