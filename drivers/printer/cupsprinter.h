// The CUPS printer driver: libcups (2.4) wrapped once (STYLE.md habit 10), for the kiosk's
// receipts (issue 9). It talks to one CUPS server — the system's, or any other named by
// `server` ("host:port", or the path of its domain socket, as a test's private cupsd) — and
// turns libcups' answers into typed values:
//   - queues(): the print queues the server has;
//   - printerState(): a queue's state, printer-state-reasons and message, and what they mean for
//     the kiosk (health(): ok, offline, paper_out, paper_low, door_open, error — the values of
//     kiosk.report_health's `printer`);
//   - print(): submits a PDF file to a queue (the job id), jobState() reads a job, followJob()
//     follows it to its end (completed, or stopped / aborted / cancelled with the reasons) or
//     until the printer is plainly stuck (out of paper, cover open: nobody waits a minute at
//     the printer to learn that), cancel() gives up on one.
// Every call is blocking (libcups is) and opens its own connection (a restarted cupsd is no
// matter): the kiosk calls it from a worker thread, never the GUI's.
// Failures come back as an error string naming the queue, the operation and CUPS' own message;
// nothing here retries — the caller decides (a print failure never touches money).
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace prepay::printer {

// What the kiosk reports as its printer's health (kiosk.report_health `printer`).
enum class Health {
    Ok,
    Offline,  // the printer does not answer (offline-report, connecting-to-device, a stopped queue)
    PaperOut, // media-empty / media-needed
    PaperLow, // media-low: still prints
    DoorOpen, // door-open / cover-open
    Error,    // any other *-error reason, or a queue that refuses jobs
};
QString healthCode(Health health); // "ok", "offline", "paper_out", "paper_low", "door_open", "error"

struct PrinterState
{
    enum class State { Idle, Processing, Stopped };
    QString queue;
    State state = State::Idle;
    QStringList reasons; // printer-state-reasons without "none", severity suffixes kept ("media-empty-error")
    QString message;     // printer-state-message, e.g. "out of paper"
    bool accepting = true;
    // What the reasons mean for a receipt printer, the worst first.
    Health health() const;
};

struct JobState
{
    enum class State { Pending, Held, Processing, Stopped, Cancelled, Aborted, Completed };
    int id = 0;
    State state = State::Pending;
    QStringList reasons; // job-state-reasons ("job-completed-successfully", "printer-stopped", …)
    QString message;     // job-printer-state-message or job-state-message, when CUPS gave one
    bool finished() const { return state >= State::Cancelled; }
};
QString jobStateCode(JobState::State state); // "pending", …, "completed"

// A job followed by followJob(): its last state and, unless it completed, the printer's.
struct FollowedJob
{
    enum class End {
        Completed,
        Failed,   // cancelled or aborted
        Stuck,    // not finished, and the printer has said for a while why it cannot print
        TimedOut, // not finished by the deadline, the printer saying nothing wrong
    };
    End end = End::TimedOut;
    JobState job;
    std::optional<PrinterState> printer; // the queue's state when the job did not complete
    QString printerError;                // why the printer's state could not be read
    // What the printer said, for a person: "paper_out: out of paper", or the job's own reason.
    QString why() const;
};

class CupsClient
{
public:
    // server: "" for the default (CUPS_SERVER, client.conf, the local socket), "host:port", or
    // the path of a domain socket ("/run/cups/cups.sock").
    explicit CupsClient(QString server = {});
    ~CupsClient();
    CupsClient(const CupsClient &) = delete;
    CupsClient &operator=(const CupsClient &) = delete;

    std::optional<QStringList> queues(QString *error);
    std::optional<PrinterState> printerState(const QString &queue, QString *error);
    // Submits `pdfFile` (application/pdf) as one job titled `title`; its id.
    std::optional<int> print(const QString &queue, const QString &pdfFile, const QString &title, QString *error);
    std::optional<JobState> jobState(int jobId, QString *error);
    bool cancel(int jobId, QString *error);
    // Polls the job every pollMs until it is finished, or timeoutMs passed, or its queue has
    // reported a problem that stops it (paper out, cover open, an error) for kStuckGraceMs — or,
    // offline (a printer also says connecting-to-device for a moment at every job),
    // kOfflineGraceMs. Leaves the job as it is: the caller cancels it or lets it wait. nullopt
    // only when CUPS could not be asked about the job at all.
    static constexpr int kStuckGraceMs = 2000;
    static constexpr int kOfflineGraceMs = 10000;
    std::optional<FollowedJob> followJob(int jobId, const QString &queue, int timeoutMs, QString *error, int pollMs = 200);

private:
    QString m_server;
};

} // namespace prepay::printer
