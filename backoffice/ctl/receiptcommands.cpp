#include "receiptcommands.h"

#include "api/money.h"
#include "ctl/prepaydclient.h"
#include "printer/cupsprinter.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
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

// A price in 0.0001 CNY/kWh as "1.2000".
QString price(qint64 tenThousandths)
{
    return QStringLiteral("%1.%2").arg(tenThousandths / 10000).arg(tenThousandths % 10000, 4, 10, QLatin1Char('0'));
}

// The tariff in the receipt's words: its name, then the slot prices (sharp only where it differs
// from peak, as most TOU plans have none; one price for flat and tiered plans).
QString tariffWords(const QJsonObject &t, printer::ReceiptLanguage language)
{
    const bool zh = language == printer::ReceiptLanguage::Chinese;
    const QString kind = t.value(QLatin1String("kind")).toString();
    const QJsonObject p = t.value(QLatin1String("prices")).toObject();
    const qint64 sharp = p.value(QLatin1String("sharp")).toInteger();
    const qint64 peak = p.value(QLatin1String("peak")).toInteger();
    const qint64 flat = p.value(QLatin1String("flat")).toInteger();
    const qint64 valley = p.value(QLatin1String("valley")).toInteger();
    const QString name = t.value(QLatin1String("name")).toString();
    const bool tou = kind == u"tou" || kind == u"tou_tiered";
    const bool tiered = kind == u"tiered" || kind == u"tou_tiered";
    QStringList parts;
    if (tou) {
        if (sharp != peak)
            parts << (zh ? QStringLiteral("尖 ") : QStringLiteral("sharp ")) + price(sharp);
        parts << (zh ? QStringLiteral("峰 ") : QStringLiteral("peak ")) + price(peak)
              << (zh ? QStringLiteral("平 ") : QStringLiteral("flat ")) + price(flat)
              << (zh ? QStringLiteral("谷 ") : QStringLiteral("valley ")) + price(valley);
    } else {
        parts << price(flat);
    }
    const QString tiers = tiered ? (zh ? QStringLiteral("（阶梯加价另计）") : QStringLiteral(" (plus tier adders)")) : QString();
    if (zh)
        return name + QLatin1Char(' ') + parts.join(QLatin1Char(' ')) + QStringLiteral(" 元/kWh") + tiers;
    return name + QStringLiteral(": ") + parts.join(QStringLiteral(", ")) + QStringLiteral(" yuan/kWh") + tiers;
}

} // namespace

std::optional<printer::ReceiptData> receiptFromFacts(
    const QJsonObject &facts, printer::ReceiptLanguage language, QString *error)
{
    const auto missing = [error](const char *member) {
        *error = QStringLiteral("has no %1").arg(QLatin1String(member));
        return std::nullopt;
    };
    printer::ReceiptData d;
    const QString kind = facts.value(QLatin1String("kind")).toString();
    if (kind != u"topup" && kind != u"refund")
        return missing("kind (topup or refund)");
    d.kind = kind == u"refund" ? printer::ReceiptKind::Refund : printer::ReceiptKind::TopUp;
    d.receiptNo = facts.value(QLatin1String("receipt_no")).toString();
    if (d.receiptNo.isEmpty())
        return missing("receipt_no");
    if (!facts.value(QLatin1String("at_ms")).isDouble())
        return missing("at_ms");
    d.atMs = facts.value(QLatin1String("at_ms")).toInteger();
    if (!facts.value(QLatin1String("amount_fen")).isDouble())
        return missing("amount_fen");
    d.amountFen = facts.value(QLatin1String("amount_fen")).toInteger();
    d.channel = facts.value(QLatin1String("channel")).toString();
    // The heading: the property and the building ("三明商会大厦 A座"), either alone when the other is unknown.
    const QString site = facts.value(QLatin1String("site_name")).toString();
    const QString building = facts.value(QLatin1String("building")).toObject().value(QLatin1String("name")).toString();
    d.buildingName = site.isEmpty() || building.isEmpty() || building.startsWith(site)
        ? (building.isEmpty() ? site : building)
        : site + QLatin1Char(' ') + building;
    d.officeName = facts.value(QLatin1String("office_name")).toString();
    d.officePhone = facts.value(QLatin1String("office_phone")).toString();
    d.shopNo = facts.value(QLatin1String("shop_no")).toString();
    d.shopName = facts.value(QLatin1String("shop_name")).toString();
    const QJsonArray meters = facts.value(QLatin1String("meters")).toArray();
    for (const QJsonValue &m : meters) {
        const QJsonObject meter = m.toObject();
        const QJsonValue serial = meter.value(QLatin1String("meter_serial"));
        const QString point = meter.value(QLatin1String("point_code")).toString();
        d.meters << (serial.isDouble() ? QStringLiteral("%1 (%2)").arg(point).arg(serial.toInteger()) : point);
    }
    // A refund slip names the provider's refund id where it has one (WeChat Pay); Alipay knows a
    // refund by the original trade, so the slip then shows that trade's id.
    d.providerTxnId = facts.value(QLatin1String("provider_txn_id")).toString();
    if (d.providerTxnId.isEmpty() && d.kind == printer::ReceiptKind::Refund)
        d.providerTxnId = facts.value(QLatin1String("original_provider_txn_id")).toString();
    if (facts.value(QLatin1String("balance_before_fen")).isDouble())
        d.balanceBeforeFen = facts.value(QLatin1String("balance_before_fen")).toInteger();
    if (facts.value(QLatin1String("balance_after_fen")).isDouble())
        d.balanceAfterFen = facts.value(QLatin1String("balance_after_fen")).toInteger();
    if (facts.value(QLatin1String("tariff")).isObject())
        d.tariff = tariffWords(facts.value(QLatin1String("tariff")).toObject(), language);
    const QJsonObject issuer = facts.value(QLatin1String("issued_by")).toObject();
    d.issuedBy = issuer.value(QLatin1String("name")).toString();
    d.issuedByKiosk = issuer.value(QLatin1String("kind")).toString() == u"kiosk";
    d.late = facts.value(QLatin1String("late")).toBool();
    d.verification = facts.value(QLatin1String("verification")).toString();
    return d;
}

namespace {

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
        fetched = receiptFromFacts(std::get<QJsonValue>(outcome).toObject(), *lang, &error);
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

QString yuan(qint64 fen)
{
    return Money::fromFen(fen).toDecimalString();
}

int verify(const Invocation &in)
{
    const QString text = in.positional.value(0).trimmed();
    if (text.isEmpty())
        return in.fail(exitUsage, QStringLiteral("STRING: the receipt's QR content (PREPAY-R1:…)"));
    bool valid = false;
    const int rc = loggedIn(in, prepaydCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, prepaydCodes, client, QStringLiteral("receipt.verify"),
            QJsonObject{{QStringLiteral("verification"), text}}, [&](const QJsonObject &r) {
                valid = r.value(QLatin1String("valid")).toBool();
                if (!valid) {
                    in.out << "NOT VALID (" << r.value(QLatin1String("reason")).toString()
                           << "): " << r.value(QLatin1String("message")).toString() << '\n';
                    return;
                }
                const qint64 atMs = r.value(QLatin1String("at_ms")).toInteger();
                in.out << "valid: " << r.value(QLatin1String("kind")).toString() << ' '
                       << r.value(QLatin1String("receipt_no")).toString() << ", "
                       << yuan(r.value(QLatin1String("amount_fen")).toInteger()) << " CNY, shop "
                       << r.value(QLatin1String("shop_no")).toString() << ", "
                       << QDateTime::fromMSecsSinceEpoch(atMs, QTimeZone(8 * 3600))
                              .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss '(UTC+8)'"))
                       << ", balance " << yuan(r.value(QLatin1String("balance_before_fen")).toInteger()) << " -> "
                       << yuan(r.value(QLatin1String("balance_after_fen")).toInteger()) << '\n';
            });
    });
    if (rc != 0)
        return rc;
    if (in.parser.optionNames().contains(QStringLiteral("json")))
        return 0; // the answer is printed; --json says "valid" itself
    return valid ? 0 : exitNotValid;
}

QString exitCodes()
{
    return QStringLiteral("\n\nExit codes: 0 done; 2 the printer did not print it (its reason printed); 3 CUPS cannot be "
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
            QStringLiteral("STRING --server --ca --login [--json]   is a receipt's QR genuine?"),
            QStringLiteral("Ask prepayd (receipt.verify) whether STRING — what a receipt's QR holds, "
                           "PREPAY-R1:<receipt no>:<amount fen>:<at ms>:<mac> — is genuine: its mac is the site's and "
                           "the receipt still says that amount and time. Prints what the receipt says, or why it "
                           "is not valid (malformed, bad_mac, unknown_receipt, amount_mismatch, time_mismatch).\n\n"
                           "Exit codes: 0 valid (or --json: answered); 1 not valid; 6 prepayd refused; 7 cannot "
                           "connect; 8 login failed; 9 no answer; 64 usage; 66 cannot read --ca or --password-file."),
            prepaydOptions() + QList<QCommandLineOption>{jsonOption()}, {QStringLiteral("STRING")}, {}, verify},
    };
}

} // namespace prepay::ctl
