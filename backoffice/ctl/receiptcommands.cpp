#include "receiptcommands.h"

#include "printer/cupsprinter.h"
#include "printer/receipt.h"

#include <QtCore/QTemporaryDir>

namespace prepay::ctl {

namespace {

constexpr int exitPrintFailed = 2;  // the printer did not print it (its reason printed)
constexpr int exitNoCups = 3;       // CUPS cannot be reached, or the queue does not exist
constexpr int exitStillWaiting = 5; // the job was neither printed nor failed within --timeout

const QCommandLineOption sampleOption(QStringLiteral("sample"),
    QStringLiteral("The fixed sample receipt (a late WeChat Pay top-up of 100.00 for A-1F-105)."));
const QCommandLineOption langOption(QStringLiteral("lang"),
    QStringLiteral("zh_CN (default) or en."), QStringLiteral("LANG"), QStringLiteral("zh_CN"));
const QCommandLineOption paperOption(QStringLiteral("paper"),
    QStringLiteral("80mm (default, thermal roll), a5 or a4."), QStringLiteral("PAPER"), QStringLiteral("80mm"));
const QCommandLineOption outOption(QStringLiteral("out"), QStringLiteral("The PDF to write."), QStringLiteral("FILE"));
const QCommandLineOption queueOption(QStringLiteral("queue"), QStringLiteral("The CUPS print queue."), QStringLiteral("NAME"));
const QCommandLineOption cupsOption(QStringLiteral("cups"),
    QStringLiteral("The CUPS server: host:port or the path of its socket (default: the system's)."),
    QStringLiteral("SERVER"));
const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
    QStringLiteral("Seconds to wait for the job's end (default 60)."), QStringLiteral("SECONDS"), QStringLiteral("60"));

struct Choice
{
    printer::ReceiptData data;
    printer::ReceiptLanguage language = printer::ReceiptLanguage::Chinese;
    printer::Paper paper = printer::Paper::Thermal80mm;
};

// The receipt, language and paper the options ask for; nothing after saying what is wrong
// (*rc: the exit code).
std::optional<Choice> chosen(const Invocation &in, int *rc)
{
    if (!in.parser.isSet(sampleOption)) {
        *rc = in.fail(exitUsage, QStringLiteral("--sample: only the sample receipt can be rendered here for now"));
        return std::nullopt;
    }
    const auto lang = printer::receiptLanguageFromCode(in.parser.value(langOption));
    if (!lang) {
        *rc = in.fail(exitUsage, QStringLiteral("--lang '%1': zh_CN or en").arg(in.parser.value(langOption)));
        return std::nullopt;
    }
    const auto size = printer::paperFromCode(in.parser.value(paperOption));
    if (!size) {
        *rc = in.fail(exitUsage, QStringLiteral("--paper '%1': 80mm, a5 or a4").arg(in.parser.value(paperOption)));
        return std::nullopt;
    }
    Choice choice;
    choice.data = printer::sampleReceipt(*lang);
    choice.language = *lang;
    choice.paper = *size;
    return choice;
}

int render(const Invocation &in)
{
    int rc = 0;
    const std::optional<Choice> choice = chosen(in, &rc);
    if (!choice)
        return rc;
    const printer::ReceiptData &data = choice->data;
    if (!in.parser.isSet(outOption))
        return in.fail(exitUsage, QStringLiteral("--out: the PDF to write"));
    QString error;
    if (!printer::renderReceipt(data, choice->paper, choice->language, in.parser.value(outOption), &error))
        return in.fail(73, error);
    in.out << "receipt " << data.receiptNo << " written to " << in.parser.value(outOption) << '\n';
    return 0;
}

int print(const Invocation &in)
{
    int rc = 0;
    const std::optional<Choice> choice = chosen(in, &rc);
    if (!choice)
        return rc;
    const printer::ReceiptData &data = choice->data;
    if (!in.parser.isSet(queueOption))
        return in.fail(exitUsage, QStringLiteral("--queue: the print queue (lpstat -p lists them)"));
    bool ok = false;
    const int timeoutS = in.parser.value(timeoutOption).toInt(&ok);
    if (!ok || timeoutS < 1 || timeoutS > 3600)
        return in.fail(exitUsage, QStringLiteral("--timeout: 1 to 3600 seconds"));
    const QString queue = in.parser.value(queueOption);
    QTemporaryDir dir;
    const QString pdf = dir.filePath(QStringLiteral("receipt.pdf"));
    QString error;
    if (!dir.isValid() || !printer::renderReceipt(data, choice->paper, choice->language, pdf, &error))
        return in.fail(73, error.isEmpty() ? QStringLiteral("no temporary directory") : error);

    printer::CupsClient cups(in.parser.value(cupsOption));
    const std::optional<printer::PrinterState> before = cups.printerState(queue, &error);
    if (!before)
        return in.fail(exitNoCups, error);
    const std::optional<int> id = cups.print(queue, pdf, QStringLiteral("receipt %1").arg(data.receiptNo), &error);
    if (!id)
        return in.fail(exitNoCups, error);
    in.out << "job " << *id << " sent to " << queue << '\n';
    in.out.flush();
    const std::optional<printer::JobState> job = cups.waitForJob(*id, timeoutS * 1000, &error);
    if (!job)
        return in.fail(exitNoCups, error);
    const std::optional<printer::PrinterState> after = cups.printerState(queue, &error);
    const QString why = after ? QStringLiteral("printer %1%2").arg(printer::healthCode(after->health()),
                                    after->message.isEmpty() ? QString() : QStringLiteral(": ") + after->message)
                              : error;
    if (job->state == printer::JobState::State::Completed) {
        in.out << "job " << *id << " completed\n";
        return 0;
    }
    if (!job->finished()) {
        in.err << "prepayctl: job " << *id << " is still " << printer::jobStateCode(job->state) << " after "
               << timeoutS << " s (" << why << "); it stays queued: cancel it with lprm " << *id << '\n';
        return exitStillWaiting;
    }
    in.err << "prepayctl: job " << *id << " " << printer::jobStateCode(job->state) << " (" << why << ")\n";
    return exitPrintFailed;
}

QString exitCodes()
{
    return QStringLiteral("\n\nExit codes: 0 done; 2 the printer did not print it (its reason printed); 3 CUPS cannot be "
                          "reached or the queue does not exist; 5 still waiting after --timeout (the job stays "
                          "queued); 64 usage; 73 the PDF cannot be written.");
}

} // namespace

QList<Command> receiptCommands()
{
    const QString w = QStringLiteral("receipt");
    return {
        {{w, QStringLiteral("render")},
            QStringLiteral("--sample [--lang zh_CN|en] [--paper 80mm|a5|a4] --out FILE.pdf   draw a receipt"),
            QStringLiteral("Draw the sample receipt into a PDF: 80 mm thermal paper (as long as it needs) or A5/A4, "
                           "in Chinese or English, the font embedded (pdftotext reads it back). Look at it with "
                           "pdftoppm -png.")
                + exitCodes(),
            {sampleOption, langOption, paperOption, outOption}, {}, {}, render},
        {{w, QStringLiteral("print")},
            QStringLiteral("--sample --queue NAME [--cups SERVER] [--lang] [--paper] [--timeout S]   print and follow "
                           "the job"),
            QStringLiteral("Print the sample receipt on a CUPS queue and wait for the job's end: completed, or why "
                           "not (paper out, offline, cover open, …).")
                + exitCodes(),
            {sampleOption, queueOption, cupsOption, langOption, paperOption, timeoutOption}, {}, {}, print},
    };
}

} // namespace prepay::ctl
