#include "receiptcommands.h"

#include "api/money.h"
#include "ctl/prepaydclient.h"
#include "printer/cupsprinter.h"
#include "printer/receiptfacts.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QLocale>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimeZone>

namespace prepay::ctl {

namespace {

constexpr int exitPrintFailed = 2;  // the printer did not print it (its reason printed)
constexpr int exitNoCups = 3;       // CUPS cannot be reached, or the queue does not exist
constexpr int exitStillWaiting = 5; // the job was neither printed nor failed within --timeout
constexpr int exitNotValid = 1;     // receipt verify: the string is not a genuine receipt's

// prepayd's failures (--receipt, verify), numbered apart from the printer's so a script can tell
// "no such receipt" from "no paper".
const PrepaydExitCodes prepaydCodes{6, 7, 8, 9};

const QCommandLineOption sampleOption(QStringLiteral("sample"),
    QStringLiteral("The fixed sample receipt (a late WeChat Pay top-up of 100.00 for A-1F-105)."));
const QCommandLineOption receiptOption(QStringLiteral("receipt"),
    QStringLiteral("A real receipt from prepayd (receipt.get, with --server, --ca, --login): a top-up's receipt no. "
                   "(P…, CSH…) or a refund's (R…, CLS…)."),
    QStringLiteral("NO"));
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
// (*rc: the exit code). A real receipt is fetched from prepayd (logged in for this one call).
std::optional<Choice> chosen(const Invocation &in, int *rc)
{
    const bool sample = in.parser.isSet(sampleOption);
    const bool real = in.parser.isSet(receiptOption);
    if (sample == real) {
        *rc = in.fail(exitUsage, QStringLiteral("--sample or --receipt NO: which receipt (one of them)"));
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
    choice.language = *lang;
    choice.paper = *size;
    if (sample) {
        choice.data = printer::sampleReceipt(*lang);
        return choice;
    }
    const QString receiptNo = in.parser.value(receiptOption).trimmed().toUpper();
    std::optional<printer::ReceiptData> fetched;
    *rc = loggedIn(in, prepaydCodes, [&](rpc::RpcClient &client) {
        const rpc::Outcome outcome = client.callBlocking(
            QStringLiteral("receipt.get"), QJsonObject{{QStringLiteral("receipt_no"), receiptNo}}, kPrepaydCallTimeoutMs);
        if (!rpc::succeeded(outcome))
            return failWith(in, prepaydCodes, std::get<rpc::Error>(outcome));
        QString error;
        fetched = printer::receiptFromFacts(std::get<QJsonValue>(outcome).toObject(), *lang, &error);
        if (!fetched)
            return in.fail(prepaydCodes.refused, QStringLiteral("receipt %1: prepayd's answer %2").arg(receiptNo, error));
        return 0;
    });
    if (!fetched)
        return std::nullopt;
    choice.data = *fetched;
    return choice;
}

int render(const Invocation &in)
{
    if (!in.parser.isSet(outOption))
        return in.fail(exitUsage, QStringLiteral("--out: the PDF to write"));
    int rc = 0;
    const std::optional<Choice> choice = chosen(in, &rc);
    if (!choice)
        return rc;
    const printer::ReceiptData &data = choice->data;
    QString error;
    if (!printer::renderReceipt(data, choice->paper, choice->language, in.parser.value(outOption), &error))
        return in.fail(73, error);
    in.out << "receipt " << data.receiptNo << " written to " << in.parser.value(outOption) << '\n';
    return 0;
}

int print(const Invocation &in)
{
    if (!in.parser.isSet(queueOption))
        return in.fail(exitUsage, QStringLiteral("--queue: the print queue (lpstat -p lists them)"));
    bool ok = false;
    const int timeoutS = in.parser.value(timeoutOption).toInt(&ok);
    if (!ok || timeoutS < 1 || timeoutS > 3600)
        return in.fail(exitUsage, QStringLiteral("--timeout: 1 to 3600 seconds"));
    int rc = 0;
    const std::optional<Choice> choice = chosen(in, &rc);
    if (!choice)
        return rc;
    const printer::ReceiptData &data = choice->data;
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
    const std::optional<printer::FollowedJob> followed = cups.followJob(*id, queue, timeoutS * 1000, &error);
    if (!followed)
        return in.fail(exitNoCups, error);
    const QString state = printer::jobStateCode(followed->job.state);
    switch (followed->end) {
    case printer::FollowedJob::End::Completed:
        in.out << "job " << *id << " completed\n";
        return 0;
    case printer::FollowedJob::End::Failed:
        in.err << "prepayctl: job " << *id << " " << state << " (" << followed->why() << ")\n";
        return exitPrintFailed;
    case printer::FollowedJob::End::Stuck:
        in.err << "prepayctl: job " << *id << " is " << state << ": the printer cannot print (" << followed->why()
               << "); it stays queued and prints when the printer is fixed, or cancel it with lprm " << *id << '\n';
        return exitPrintFailed;
    case printer::FollowedJob::End::TimedOut:
        break;
    }
    in.err << "prepayctl: job " << *id << " is still " << state << " after " << timeoutS << " s (" << followed->why()
           << "); it stays queued: cancel it with lprm " << *id << '\n';
    return exitStillWaiting;
}

QString yuan(qint64 fen)
{
    return Money::fromFen(fen).toDecimalString();
}

int verify(const Invocation &in)
{
    const QString text = in.positional.value(0).trimmed();
    if (text.isEmpty())
        return in.fail(exitUsage, QStringLiteral("STRING: the receipt's QR content (PREPAY-R1:…)"));
    return loggedIn(in, prepaydCodes, [&](rpc::RpcClient &client) {
        const rpc::Outcome outcome = client.callBlocking(QStringLiteral("receipt.verify"),
            QJsonObject{{QStringLiteral("verification"), text}}, kPrepaydCallTimeoutMs);
        if (!rpc::succeeded(outcome))
            return failWith(in, prepaydCodes, std::get<rpc::Error>(outcome));
        const QJsonObject r = std::get<QJsonValue>(outcome).toObject();
        const bool valid = r.value(QLatin1String("valid")).toBool();
        if (in.parser.isSet(jsonOption())) {
            in.out << QString::fromUtf8(QJsonDocument(r).toJson(QJsonDocument::Indented));
        } else if (!valid) {
            in.out << "NOT VALID (" << r.value(QLatin1String("reason")).toString()
                   << "): " << r.value(QLatin1String("message")).toString() << '\n';
        } else {
            const qint64 atMs = r.value(QLatin1String("at_ms")).toInteger();
            in.out << "valid: " << r.value(QLatin1String("kind")).toString() << ' '
                   << r.value(QLatin1String("receipt_no")).toString() << ", "
                   << yuan(r.value(QLatin1String("amount_fen")).toInteger()) << " CNY, shop "
                   << r.value(QLatin1String("shop_no")).toString() << ", "
                   << QDateTime::fromMSecsSinceEpoch(atMs, QTimeZone(8 * 3600))
                          .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss '(UTC+8)'"))
                   << ", balance " << yuan(r.value(QLatin1String("balance_before_fen")).toInteger()) << " -> "
                   << yuan(r.value(QLatin1String("balance_after_fen")).toInteger()) << '\n';
        }
        in.out.flush();
        return valid ? 0 : exitNotValid;
    });
}

QString exitCodes()
{
    return QStringLiteral("\n\nExit codes: 0 done; 2 the printer did not print it, or cannot print it now (out of paper, "
                          "cover open, offline: its reason printed; the job then stays queued); 3 CUPS cannot be "
                          "reached or the queue does not exist; 5 still waiting after --timeout (the job stays "
                          "queued); with --receipt: 6 prepayd refused (no such receipt, not credited or not paid "
                          "out yet; its message printed), 7 cannot connect to prepayd, 8 login failed, 9 no "
                          "answer from prepayd; 64 usage; 66 cannot read --ca or --password-file; 73 the PDF "
                          "cannot be written.");
}

} // namespace

QList<Command> receiptCommands()
{
    const QString w = QStringLiteral("receipt");
    const QList<QCommandLineOption> which = QList<QCommandLineOption>{sampleOption, receiptOption} + prepaydOptions();
    return {
        {{w, QStringLiteral("render")},
            QStringLiteral("--sample|--receipt NO [--server --ca --login] [--lang zh_CN|en] [--paper 80mm|a5|a4] "
                           "--out FILE.pdf   draw a receipt"),
            QStringLiteral("Draw a receipt into a PDF: 80 mm thermal paper (as long as it needs) or A5/A4, in Chinese "
                           "or English, the font embedded (pdftotext reads it back). Look at it with pdftoppm -png. "
                           "--sample draws the fixed sample; --receipt NO draws that real receipt as prepayd reports "
                           "it (receipt.get: a counter sale's CSH…, a QR top-up's P…, a refund slip's R… or CLS…), "
                           "logged in as --login (password from --password-file, PREPAY_PASSWORD or standard input) "
                           "at --server, trusting only --ca (DATA/pki/ca.crt).")
                + exitCodes(),
            which + QList<QCommandLineOption>{langOption, paperOption, outOption}, {}, {}, render},
        {{w, QStringLiteral("print")},
            QStringLiteral("--sample|--receipt NO [--server --ca --login] --queue NAME [--cups SERVER] [--lang] "
                           "[--paper] [--timeout S]   print and follow the job"),
            QStringLiteral("Print a receipt on a CUPS queue and wait for the job's end: completed, or why not (paper "
                           "out, offline, cover open, …). --sample or --receipt NO as for receipt render: this is "
                           "how staff print counter-sale receipts and refund slips.")
                + exitCodes(),
            which + QList<QCommandLineOption>{queueOption, cupsOption, langOption, paperOption, timeoutOption}, {}, {},
            print},
        {{w, QStringLiteral("verify")},
            QStringLiteral("--server --ca --login [--json]   is a receipt's QR genuine?"),
            QStringLiteral("Ask prepayd (receipt.verify) whether STRING — what a receipt's QR holds, "
                           "PREPAY-R1:<receipt no>:<amount fen>:<at ms>:<mac> — is genuine: its mac is the site's and "
                           "the receipt still says that amount and time. Prints what the receipt says, or why it "
                           "is not valid (malformed, bad_mac, unknown_receipt, amount_mismatch, time_mismatch).\n\n"
                           "Exit codes: 0 valid; 1 not valid (also with --json); 6 prepayd refused; 7 cannot "
                           "connect; 8 login failed; 9 no answer; 64 usage; 66 cannot read --ca or --password-file."),
            prepaydOptions() + QList<QCommandLineOption>{jsonOption()}, {QStringLiteral("STRING")}, {}, verify},
    };
}

} // namespace prepay::ctl
