#include "cupsprinter.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QThread>

#include <cups/cups.h>

#include <array>
#include <memory>

namespace prepay::printer {

namespace {

struct HttpClose
{
    void operator()(http_t *http) const { httpClose(http); }
};
using Http = std::unique_ptr<http_t, HttpClose>;

struct IppDelete
{
    void operator()(ipp_t *ipp) const { ippDelete(ipp); }
};
using Ipp = std::unique_ptr<ipp_t, IppDelete>;

constexpr int connectTimeoutMs = 10000;

QString cupsMessage()
{
    return QString::fromUtf8(cupsLastErrorString());
}

// One connection to the server: "" = the default one, "host:port", or a socket path.
Http connectTo(const QString &server, QString *error)
{
    QByteArray host;
    int port = ippPort();
    if (server.isEmpty()) {
        host = cupsServer();
    } else if (server.startsWith(u'/')) {
        host = server.toUtf8();
    } else {
        const qsizetype colon = server.lastIndexOf(u':');
        bool ok = colon > 0;
        const int parsed = ok ? server.mid(colon + 1).toInt(&ok) : 0;
        if (!ok || parsed < 1 || parsed > 65535) {
            *error = QStringLiteral("CUPS server '%1': give host:port or the path of its socket").arg(server);
            return nullptr;
        }
        host = server.left(colon).toUtf8();
        port = parsed;
    }
    Http http(httpConnect2(host.constData(), port, nullptr, AF_UNSPEC, HTTP_ENCRYPTION_IF_REQUESTED, 1,
        connectTimeoutMs, nullptr));
    if (!http)
        *error = QStringLiteral("cannot reach the CUPS server %1: %2")
                     .arg(server.isEmpty() ? QString::fromUtf8(host) : server, cupsMessage());
    return http;
}

// A request with the attributes every operation here carries.
Ipp request(ipp_op_t op, const char *uriName, const QByteArray &uri)
{
    Ipp ipp(ippNewRequest(op));
    ippAddString(ipp.get(), IPP_TAG_OPERATION, IPP_TAG_URI, uriName, nullptr, uri.constData());
    ippAddString(ipp.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, cupsUser());
    return ipp;
}

QByteArray printerUri(const QString &queue)
{
    std::array<char, HTTP_MAX_URI> uri{};
    httpAssembleURIf(HTTP_URI_CODING_ALL, uri.data(), int(uri.size()), "ipp", nullptr, "localhost", 0, "/printers/%s",
        queue.toUtf8().constData());
    return QByteArray(uri.data());
}

QByteArray jobUri(int jobId)
{
    return QByteArrayLiteral("ipp://localhost/jobs/") + QByteArray::number(jobId);
}

// Sends the request; the answer, or nothing and *error (CUPS' status and message).
Ipp ask(http_t *http, Ipp req, const QString &what, QString *error)
{
    Ipp answer(cupsDoRequest(http, req.release(), "/"));
    if (!answer || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
        *error = QStringLiteral("%1: %2").arg(what, cupsMessage());
        return nullptr;
    }
    return answer;
}

QStringList strings(ipp_t *ipp, const char *name)
{
    QStringList out;
    ipp_attribute_t *attr = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
    for (int i = 0; attr && i < ippGetCount(attr); ++i)
        out << QString::fromUtf8(ippGetString(attr, i, nullptr));
    return out;
}

QString text(ipp_t *ipp, const char *name)
{
    ipp_attribute_t *attr = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
    return attr ? QString::fromUtf8(ippGetString(attr, 0, nullptr)) : QString();
}

// "media-empty-error" → "media-empty"; reasons without a suffix are reports too.
bool hasReason(const QStringList &reasons, QStringView keyword)
{
    for (const QString &reason : reasons) {
        if (reason == keyword || (reason.startsWith(keyword) && reason.at(keyword.size()) == u'-'))
            return true;
    }
    return false;
}

} // namespace

QString healthCode(Health health)
{
    switch (health) {
    case Health::Ok: return QStringLiteral("ok");
    case Health::Offline: return QStringLiteral("offline");
    case Health::PaperOut: return QStringLiteral("paper_out");
    case Health::PaperLow: return QStringLiteral("paper_low");
    case Health::DoorOpen: return QStringLiteral("door_open");
    case Health::Error: return QStringLiteral("error");
    }
    return QStringLiteral("error");
}

Health PrinterState::health() const
{
    if (hasReason(reasons, u"media-empty") || hasReason(reasons, u"media-needed"))
        return Health::PaperOut;
    if (hasReason(reasons, u"door-open") || hasReason(reasons, u"cover-open"))
        return Health::DoorOpen;
    if (hasReason(reasons, u"offline") || hasReason(reasons, u"connecting-to-device")
        || hasReason(reasons, u"shutdown"))
        return Health::Offline;
    for (const QString &reason : reasons) {
        if (reason.endsWith(u"-error"))
            return Health::Error;
    }
    if (state == State::Stopped)
        return Health::Offline; // a paused queue prints nothing, whatever the device says
    if (!accepting)
        return Health::Error;
    if (hasReason(reasons, u"media-low"))
        return Health::PaperLow;
    return Health::Ok;
}

QString jobStateCode(JobState::State state)
{
    switch (state) {
    case JobState::State::Pending: return QStringLiteral("pending");
    case JobState::State::Held: return QStringLiteral("held");
    case JobState::State::Processing: return QStringLiteral("processing");
    case JobState::State::Stopped: return QStringLiteral("stopped");
    case JobState::State::Cancelled: return QStringLiteral("cancelled");
    case JobState::State::Aborted: return QStringLiteral("aborted");
    case JobState::State::Completed: return QStringLiteral("completed");
    }
    return QStringLiteral("pending");
}

CupsClient::CupsClient(QString server)
    : m_server(std::move(server))
{ }

CupsClient::~CupsClient() = default;

std::optional<QStringList> CupsClient::queues(QString *error)
{
    const Http http = connectTo(m_server, error);
    if (!http)
        return std::nullopt;
    Ipp req(ippNewRequest(IPP_OP_CUPS_GET_PRINTERS));
    ippAddString(req.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr, "printer-name");
    Ipp answer(cupsDoRequest(http.get(), req.release(), "/"));
    QStringList names;
    if (cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND)
        return names; // no queue at all
    if (!answer || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
        *error = QStringLiteral("listing the print queues: %1").arg(cupsMessage());
        return std::nullopt;
    }
    for (ipp_attribute_t *attr = ippFindAttribute(answer.get(), "printer-name", IPP_TAG_NAME); attr;
         attr = ippFindNextAttribute(answer.get(), "printer-name", IPP_TAG_NAME))
        names << QString::fromUtf8(ippGetString(attr, 0, nullptr));
    names.sort();
    return names;
}

std::optional<PrinterState> CupsClient::printerState(const QString &queue, QString *error)
{
    const Http http = connectTo(m_server, error);
    if (!http)
        return std::nullopt;
    Ipp req = request(IPP_OP_GET_PRINTER_ATTRIBUTES, "printer-uri", printerUri(queue));
    static const char *const wanted[]
        = {"printer-state", "printer-state-reasons", "printer-state-message", "printer-is-accepting-jobs"};
    ippAddStrings(req.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 4, nullptr, wanted);
    const Ipp answer = ask(http.get(), std::move(req), QStringLiteral("print queue '%1'").arg(queue), error);
    if (!answer)
        return std::nullopt;
    PrinterState state;
    state.queue = queue;
    switch (ippGetInteger(ippFindAttribute(answer.get(), "printer-state", IPP_TAG_ENUM), 0)) {
    case IPP_PSTATE_PROCESSING: state.state = PrinterState::State::Processing; break;
    case IPP_PSTATE_STOPPED: state.state = PrinterState::State::Stopped; break;
    default: state.state = PrinterState::State::Idle; break;
    }
    state.reasons = strings(answer.get(), "printer-state-reasons");
    state.reasons.removeAll(QStringLiteral("none"));
    state.message = text(answer.get(), "printer-state-message");
    ipp_attribute_t *accepting = ippFindAttribute(answer.get(), "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
    state.accepting = !accepting || ippGetBoolean(accepting, 0);
    return state;
}

std::optional<int> CupsClient::print(const QString &queue, const QString &pdfFile, const QString &title, QString *error)
{
    const Http http = connectTo(m_server, error);
    if (!http)
        return std::nullopt;
    cups_option_t *options = nullptr;
    int count = cupsAddOption("document-format", "application/pdf", 0, &options);
    const int id = cupsPrintFile2(http.get(), queue.toUtf8().constData(), pdfFile.toUtf8().constData(),
        title.toUtf8().constData(), count, options);
    cupsFreeOptions(count, options);
    if (id <= 0) {
        *error = QStringLiteral("printing %1 on '%2': %3").arg(pdfFile, queue, cupsMessage());
        return std::nullopt;
    }
    return id;
}

std::optional<JobState> CupsClient::jobState(int jobId, QString *error)
{
    const Http http = connectTo(m_server, error);
    if (!http)
        return std::nullopt;
    Ipp req = request(IPP_OP_GET_JOB_ATTRIBUTES, "job-uri", jobUri(jobId));
    static const char *const wanted[]
        = {"job-state", "job-state-reasons", "job-printer-state-message", "job-state-message"};
    ippAddStrings(req.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 4, nullptr, wanted);
    const Ipp answer = ask(http.get(), std::move(req), QStringLiteral("print job %1").arg(jobId), error);
    if (!answer)
        return std::nullopt;
    JobState job;
    job.id = jobId;
    switch (ippGetInteger(ippFindAttribute(answer.get(), "job-state", IPP_TAG_ENUM), 0)) {
    case IPP_JSTATE_HELD: job.state = JobState::State::Held; break;
    case IPP_JSTATE_PROCESSING: job.state = JobState::State::Processing; break;
    case IPP_JSTATE_STOPPED: job.state = JobState::State::Stopped; break;
    case IPP_JSTATE_CANCELED: job.state = JobState::State::Cancelled; break;
    case IPP_JSTATE_ABORTED: job.state = JobState::State::Aborted; break;
    case IPP_JSTATE_COMPLETED: job.state = JobState::State::Completed; break;
    default: job.state = JobState::State::Pending; break;
    }
    job.reasons = strings(answer.get(), "job-state-reasons");
    job.reasons.removeAll(QStringLiteral("none"));
    job.message = text(answer.get(), "job-printer-state-message");
    if (job.message.isEmpty())
        job.message = text(answer.get(), "job-state-message");
    return job;
}

bool CupsClient::cancel(int jobId, QString *error)
{
    const Http http = connectTo(m_server, error);
    if (!http)
        return false;
    return ask(http.get(), request(IPP_OP_CANCEL_JOB, "job-uri", jobUri(jobId)),
               QStringLiteral("cancelling print job %1").arg(jobId), error)
        != nullptr;
}

std::optional<FollowedJob> CupsClient::followJob(int jobId, const QString &queue, int timeoutMs, QString *error, int pollMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    FollowedJob followed;
    QDeadlineTimer stuckSince(QDeadlineTimer::Forever); // when the printer's problem began
    for (;;) {
        std::optional<JobState> job = jobState(jobId, error);
        if (!job)
            return std::nullopt;
        followed.job = *job;
        if (job->state == JobState::State::Completed) {
            followed.end = FollowedJob::End::Completed;
            return followed;
        }
        followed.printer = printerState(queue, &followed.printerError);
        if (job->finished()) {
            followed.end = FollowedJob::End::Failed;
            return followed;
        }
        const Health health = followed.printer ? followed.printer->health() : Health::Ok;
        if (health == Health::Ok || health == Health::PaperLow) {
            stuckSince = QDeadlineTimer(QDeadlineTimer::Forever);
        } else {
            if (stuckSince.isForever())
                stuckSince = QDeadlineTimer(health == Health::Offline ? kOfflineGraceMs : kStuckGraceMs);
            if (stuckSince.hasExpired()) {
                followed.end = FollowedJob::End::Stuck;
                return followed;
            }
        }
        if (deadline.hasExpired()) {
            followed.end = FollowedJob::End::TimedOut;
            return followed;
        }
        QThread::msleep(static_cast<unsigned long>(qMax(10, pollMs)));
    }
}

QString FollowedJob::why() const
{
    if (printer && printer->health() != Health::Ok) {
        return printer->message.isEmpty() ? healthCode(printer->health())
                                          : healthCode(printer->health()) + QStringLiteral(": ") + printer->message;
    }
    if (!printer && !printerError.isEmpty())
        return printerError;
    if (!job.message.isEmpty())
        return job.message;
    return job.reasons.join(QStringLiteral(", "));
}

} // namespace prepay::printer
