#include "admincommands.h"

#include "ctl/prepaydclient.h"

#include "api/money.h"
#include "api/rpcclient.h"
#include "api/schema.h"
#include "catalog/csv.h"

#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QLocale>
#include <QtCore/QRandomGenerator>
#include <QtCore/QRegularExpression>
#include <QtCore/QSaveFile>
#include <QtCore/QTimeZone>
#include <QtCore/QTimer>

namespace prepay::ctl {

namespace {

constexpr int exitFileRefused = 1;
constexpr int exitRefused = 2;
constexpr int exitCannotConnect = 3;
constexpr int exitLoginFailed = 4;
constexpr int exitNoAnswer = 5;
constexpr int exitNotPaid = 6;
constexpr int exitCannotCreate = 73; // EX_CANTCREAT
const PrepaydExitCodes adminCodes{exitRefused, exitCannotConnect, exitLoginFailed, exitNoAnswer};

constexpr int importTimeoutMs = 300'000; // 10,000 meters checked and written in one transaction

const QCommandLineOption codeOption(QStringLiteral("code"),
    QStringLiteral("The one-time setup code prepayd printed at its start."), QStringLiteral("CODE"));
const QCommandLineOption newLoginOption(QStringLiteral("login"),
    QStringLiteral("The new administrator's login (letters, digits, '.', '-', '_')."), QStringLiteral("LOGIN"));
const QCommandLineOption nameOption(QStringLiteral("name"), QStringLiteral("Display name."), QStringLiteral("TEXT"));
const QCommandLineOption dryRunOption(
    QStringLiteral("dry-run"), QStringLiteral("Check every row as a real import would, then import nothing."));
const QCommandLineOption fromOption(QStringLiteral("from"),
    QStringLiteral("ledger: entries at or after DATE (YYYY-MM-DD: 00:00 in --tz; or ISO 8601 with Z or an offset)."),
    QStringLiteral("DATE"));
const QCommandLineOption toOption(QStringLiteral("to"),
    QStringLiteral("ledger: entries before DATE (exclusive), as --from."), QStringLiteral("DATE"));
const QCommandLineOption tzOption(QStringLiteral("tz"),
    QStringLiteral("The time zone of --from/--to dates (default Asia/Shanghai, prepayd's default site.time_zone)."),
    QStringLiteral("ZONE"));
const QCommandLineOption outOption(QStringLiteral("out"),
    QStringLiteral("Write the CSV to this new file (never overwritten) instead of standard output."),
    QStringLiteral("FILE"));
const QCommandLineOption bomOption(QStringLiteral("bom"),
    QStringLiteral("Start the CSV with a UTF-8 byte order mark (what Excel needs to read Chinese text)."));
const QCommandLineOption shopOption(QStringLiteral("shop"), QStringLiteral("The shop number."), QStringLiteral("NO"));
const QCommandLineOption pointsOption(QStringLiteral("points"),
    QStringLiteral("The metering points, comma-separated (A-1F-101,A-1F-102)."), QStringLiteral("A,B"));
const QCommandLineOption tariffOption(
    QStringLiteral("tariff"), QStringLiteral("Tariff code assigned from today."), QStringLiteral("CODE"));
const QCommandLineOption phoneOption(QStringLiteral("phone"),
    QStringLiteral("Contact phone for SMS alarms (digits, optional +)."), QStringLiteral("NUMBER"));
const QCommandLineOption contactOption(
    QStringLiteral("contact"), QStringLiteral("Contact person."), QStringLiteral("TEXT"));
const QCommandLineOption settleOption(QStringLiteral("settle"),
    QStringLiteral("What happens to the balance: none (only for 0.00), refund-cash or transfer."),
    QStringLiteral("HOW"));
const QCommandLineOption toShopOption(QStringLiteral("to"),
    QStringLiteral("With --settle transfer: the open shop receiving the balance."), QStringLiteral("SHOP"));
const QCommandLineOption reasonOption(
    QStringLiteral("reason"), QStringLiteral("Why (kept in the audit log)."), QStringLiteral("TEXT"));
const QCommandLineOption amountOption(QStringLiteral("amount"),
    QStringLiteral("The cash paid, in yuan (100.00; at most two decimals)."), QStringLiteral("YUAN"));
const QCommandLineOption keyOption(QStringLiteral("key"),
    QStringLiteral("Idempotency key (8-64 of A-Z a-z 0-9 . _ : -); generated and printed when absent. Repeating "
                   "a recharge with the same key carries it out at most once."),
    QStringLiteral("KEY"));
const QCommandLineOption channelOption(QStringLiteral("channel"),
    QStringLiteral("The QR's provider: alipay, wechat or unionpay."), QStringLiteral("NAME"));
const QCommandLineOption waitOption(QStringLiteral("wait"),
    QStringLiteral("Seconds to wait for the payment (default 180; 0: print the QR and return)."),
    QStringLiteral("SECONDS"));
const QCommandLineOption attemptOption(QStringLiteral("attempt"),
    QStringLiteral("The paid QR top-up (its attempt id, as topup prints it)."), QStringLiteral("ID"));
const QCommandLineOption rejectOption(QStringLiteral("reject"), QStringLiteral("Reject instead of approve."));
const QCommandLineOption openOnlyOption(QStringLiteral("open"), QStringLiteral("Only the findings not settled yet."));
const QCommandLineOption kioskNameOption(QStringLiteral("name"),
    QStringLiteral("Where the kiosk stands, e.g. A座大堂 (1-64 characters)."), QStringLiteral("TEXT"));
const QCommandLineOption buildingOption(QStringLiteral("building"),
    QStringLiteral("Limit the kiosk to one building's tenants (its code)."), QStringLiteral("CODE"));
const QCommandLineOption noteOption(
    QStringLiteral("note"), QStringLiteral("approve: a note for the requester; settle: what was found and done."),
    QStringLiteral("TEXT"));

QString exitCodesHelp()
{
    return QStringLiteral(
        "\n\nExit codes: 0 done; 1 import refused (each bad row printed as \"line N, column C: message\"); "
        "2 refused by prepayd (its message printed); 3 cannot connect (refused, TLS, wrong CA); 4 login failed "
        "(wrong login or password, locked, session ended); 5 no answer in time or the connection dropped after the "
        "request was sent: the outcome is unknown (repeat a recharge with the same --key); 6 the QR top-up was not "
        "paid (closed, or still waiting when --wait ran out); 64 usage; 66 cannot read "
        "a file named on the command line; 73 cannot write --out.");
}

QString money(qint64 fen)
{
    return Money::fromFen(fen).toString(QLocale());
}

QString utc(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
}

// ---- setup, whoami

int setup(const Invocation &in)
{
    const QString code = in.parser.value(codeOption);
    const QString login = in.parser.value(newLoginOption);
    const QString name = in.parser.value(nameOption);
    if (code.isEmpty() || login.isEmpty() || name.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--code CODE, --login LOGIN and --name TEXT are required"));
    rpc::Endpoint endpoint;
    if (const int rc = endpointFrom(in, &endpoint))
        return rc;
    int rc = 0;
    const std::optional<QString> password
        = passwordFrom(in, QStringLiteral("New password for %1 (10 to 256 characters): ").arg(login), &rc);
    if (!password)
        return rc;
    rpc::RpcClient client;
    if ((rc = connectTo(in, adminCodes, client, endpoint)))
        return rc;
    return callAndPrint(in, adminCodes, client, QStringLiteral("setup.create_admin"),
        QJsonObject{{QStringLiteral("setup_code"), code}, {QStringLiteral("login"), login},
            {QStringLiteral("display_name"), name}, {QStringLiteral("password"), *password}},
        [&](const QJsonObject &r) {
            in.out << "administrator " << r.value(QLatin1String("login")).toString() << " created (operator id "
                   << r.value(QLatin1String("operator_id")).toInteger() << "); log in with --login "
                   << r.value(QLatin1String("login")).toString() << "\n";
        });
}

int whoami(const Invocation &in)
{
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("session.whoami"), {}, [&](const QJsonObject &r) {
            const QJsonObject staff = r.value(QLatin1String("staff")).toObject();
            in.out << staff.value(QLatin1String("login")).toString() << " ("
                   << r.value(QLatin1String("principal")).toString() << ", "
                   << staff.value(QLatin1String("display_name")).toString() << ")";
            if (staff.value(QLatin1String("must_change_password")).toBool())
                in.out << " — must change the password";
            in.out << '\n';
        });
    });
}

// ---- import, export

int importFile(const Invocation &in)
{
    const QString kind = in.positional.at(0);
    const QString path = in.positional.at(1);
    if (kind != u"buildings" && kind != u"gateways" && kind != u"meters")
        return in.fail(exitUsage, QStringLiteral("KIND '%1': buildings, gateways or meters").arg(kind));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return in.fail(exitCannotRead, QStringLiteral("%1: %2").arg(path, file.errorString()));
    if (file.size() > catalog::CsvLimits::textCharsMax * 4)
        return in.fail(exitFileRefused, QStringLiteral("%1: %2 bytes; split the file").arg(path).arg(file.size()));
    QString error;
    const std::optional<QString> text = catalog::decodeUtf8(file.readAll(), &error);
    if (!text)
        return in.fail(exitFileRefused, QStringLiteral("%1: %2").arg(path, error));

    // prepayd's API refuses a text with control characters other than line breaks (a tab, a
    // NUL) as a whole; said here by line, a person can find them.
    const QStringList lines
        = QString(*text).replace(QStringLiteral("\r\n"), QStringLiteral("\n")).split(QLatin1Char('\n'));
    bool forbidden = false;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (rpc::hasForbiddenCharacters(lines.at(i))) {
            in.err << path << ": line " << (i + 1)
                   << ": a control character (a tab, a lone carriage return, …) or invalid Unicode\n";
            forbidden = true;
        }
    }
    if (forbidden)
        return in.fail(exitFileRefused, QStringLiteral("%1: not sent; nothing was imported").arg(path));

    const bool dryRun = in.parser.isSet(dryRunOption);
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        QJsonObject params{{QStringLiteral("kind"), kind}, {QStringLiteral("csv"), *text}};
        if (dryRun)
            params.insert(QStringLiteral("dry_run"), true);
        const rpc::Outcome outcome = client.callBlocking(QStringLiteral("import.csv"), params, importTimeoutMs);
        if (!rpc::succeeded(outcome)) {
            const rpc::Error &e = std::get<rpc::Error>(outcome);
            if (e.code != rpc::ErrorCode::InvalidParams || !e.data.contains(QLatin1String("rows")))
                return failWith(in, adminCodes, e);
            if (in.parser.isSet(jsonOption())) {
                printJson(in,
                    QJsonObject{{QStringLiteral("error"),
                        QJsonObject{{QStringLiteral("code"), int(e.code)}, {QStringLiteral("message"), e.message},
                            {QStringLiteral("data"), e.data}}}});
            }
            for (const QJsonValue &v : e.data.value(QLatin1String("rows")).toArray()) {
                const QJsonObject row = v.toObject();
                const qint64 line = row.value(QLatin1String("line")).toInteger();
                const QString column = row.value(QLatin1String("column")).toString();
                in.err << path << ": " << (line > 0 ? QStringLiteral("line %1").arg(line) : QStringLiteral("the file"));
                if (!column.isEmpty())
                    in.err << ", column " << column;
                in.err << ": " << row.value(QLatin1String("message")).toString() << '\n';
            }
            if (const qint64 omitted = e.data.value(QLatin1String("omitted")).toInteger(); omitted > 0)
                in.err << path << ": … and " << omitted << " more\n";
            return in.fail(exitFileRefused, e.message);
        }
        const QJsonObject result = std::get<QJsonValue>(outcome).toObject();
        if (in.parser.isSet(jsonOption())) {
            printJson(in, result);
            return 0;
        }
        in.out << result.value(QLatin1String("message")).toString() << '\n';
        const QJsonObject counts = result.value(QLatin1String("counts")).toObject();
        for (auto it = counts.begin(); it != counts.end(); ++it)
            in.out << "  " << it.key() << ": " << it.value().toInteger() << '\n';
        in.out.flush();
        return 0;
    });
}

// DATE as ms: YYYY-MM-DD at 00:00 in `zone`, or an ISO 8601 date-time that says its offset.
std::optional<qint64> instantFrom(const QString &text, const QTimeZone &zone)
{
    if (QRegularExpression(QStringLiteral("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).match(text).hasMatch()) {
        const QDate date = QDate::fromString(text, Qt::ISODate);
        if (!date.isValid())
            return std::nullopt;
        return QDateTime(date, QTime(0, 0), zone).toMSecsSinceEpoch();
    }
    // Without Z or an offset a time would be read as this machine's local time: refused.
    if (!QRegularExpression(QStringLiteral("(Z|[+-][0-9]{2}:?[0-9]{2})$")).match(text).hasMatch())
        return std::nullopt;
    const QDateTime at = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!at.isValid())
        return std::nullopt;
    return at.toMSecsSinceEpoch();
}

int exportList(const Invocation &in)
{
    const QString what = in.positional.at(0);
    if (what != u"accounts" && what != u"meters" && what != u"ledger")
        return in.fail(exitUsage, QStringLiteral("WHAT '%1': accounts, meters or ledger").arg(what));
    QJsonObject params{{QStringLiteral("what"), what}};
    if ((in.parser.isSet(fromOption) || in.parser.isSet(toOption)) && what != u"ledger")
        return in.fail(exitUsage, QStringLiteral("--from and --to apply to the ledger only"));
    const QTimeZone zone(in.parser.isSet(tzOption) ? in.parser.value(tzOption).toUtf8() : QByteArray("Asia/Shanghai"));
    if (!zone.isValid())
        return in.fail(
            exitUsage, QStringLiteral("--tz %1: not a time zone this machine knows").arg(in.parser.value(tzOption)));
    for (const auto &[option, key] :
        {std::pair{&fromOption, QStringLiteral("from_ms")}, std::pair{&toOption, QStringLiteral("to_ms")}}) {
        if (!in.parser.isSet(*option))
            continue;
        const std::optional<qint64> ms = instantFrom(in.parser.value(*option), zone);
        if (!ms || *ms < 0)
            return in.fail(exitUsage,
                QStringLiteral("--%1 '%2': YYYY-MM-DD or an ISO 8601 time with Z or an offset")
                    .arg(option->names().first(), in.parser.value(*option)));
        params.insert(key, *ms);
    }
    const QString outPath = in.parser.value(outOption);
    if (!outPath.isEmpty() && QFileInfo::exists(outPath))
        return in.fail(
            exitCannotCreate, QStringLiteral("--out %1 exists already; it is never overwritten").arg(outPath));

    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        const rpc::Outcome outcome = client.callBlocking(QStringLiteral("export.csv"), params, importTimeoutMs);
        if (!rpc::succeeded(outcome))
            return failWith(in, adminCodes, std::get<rpc::Error>(outcome));
        const QJsonObject result = std::get<QJsonValue>(outcome).toObject();
        QByteArray bytes = result.value(QLatin1String("csv")).toString().toUtf8();
        if (in.parser.isSet(bomOption))
            bytes.prepend("\xEF\xBB\xBF");
        const qint64 rows = result.value(QLatin1String("rows")).toInteger();
        if (outPath.isEmpty()) {
            if (in.parser.isSet(jsonOption())) {
                printJson(in, result);
            } else {
                if (in.parser.isSet(bomOption))
                    in.out << QChar(0xFEFF);
                in.out << result.value(QLatin1String("csv")).toString();
                in.out.flush();
            }
            return 0;
        }
        QSaveFile file(outPath);
        if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
            return in.fail(exitCannotCreate, QStringLiteral("--out %1: %2").arg(outPath, file.errorString()));
        if (in.parser.isSet(jsonOption()))
            printJson(in,
                QJsonObject{
                    {QStringLiteral("what"), what}, {QStringLiteral("rows"), rows}, {QStringLiteral("out"), outPath}});
        else
            in.out << rows << " rows of " << what << " written to " << outPath << '\n';
        return 0;
    });
}

// ---- accounts and money (docs/api.md: account.open, account.close, account.recharge_cash)

void printPending(const Invocation &in, const QJsonObject &r)
{
    in.out << "waiting for a second person's approval: request #" << r.value(QLatin1String("approval_id")).toInteger()
           << " (someone else runs: prepayctl admin approve " << r.value(QLatin1String("approval_id")).toInteger()
           << ")\n";
}

int accountOpen(const Invocation &in)
{
    const QString shop = in.parser.value(shopOption);
    const QString name = in.parser.value(nameOption);
    QStringList points;
    for (const QString &p : in.parser.value(pointsOption).split(QLatin1Char(','), Qt::SkipEmptyParts))
        points << p.trimmed();
    if (shop.isEmpty() || name.isEmpty() || points.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--shop NO, --name TEXT and --points A,B are required"));
    QJsonObject params{{QStringLiteral("shop_no"), shop}, {QStringLiteral("display_name"), name},
        {QStringLiteral("point_codes"), QJsonArray::fromStringList(points)}};
    if (in.parser.isSet(tariffOption))
        params.insert(QStringLiteral("tariff_code"), in.parser.value(tariffOption));
    if (in.parser.isSet(phoneOption))
        params.insert(QStringLiteral("contact_phone"), in.parser.value(phoneOption));
    if (in.parser.isSet(contactOption))
        params.insert(QStringLiteral("contact_name"), in.parser.value(contactOption));
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("account.open"), params, [&](const QJsonObject &r) {
            in.out << (r.value(QLatin1String("already")).toBool() ? "already open: " : "opened: ") << shop
                   << " (account " << r.value(QLatin1String("account_id")).toInteger() << ")";
            if (const QString message = r.value(QLatin1String("message")).toString(); !message.isEmpty())
                in.out << " — " << message;
            in.out << '\n';
        });
    });
}

int accountClose(const Invocation &in)
{
    const QString shop = in.parser.value(shopOption);
    const QString settle = in.parser.value(settleOption);
    const QString reason = in.parser.value(reasonOption);
    if (shop.isEmpty() || settle.isEmpty() || reason.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--shop NO, --settle HOW and --reason TEXT are required"));
    QString settlement;
    if (settle == u"none")
        settlement = QStringLiteral("none");
    else if (settle == u"refund-cash")
        settlement = QStringLiteral("refund_cash");
    else if (settle == u"transfer")
        settlement = QStringLiteral("transfer");
    else
        return in.fail(exitUsage, QStringLiteral("--settle '%1': none, refund-cash or transfer").arg(settle));
    if ((settlement == u"transfer") != in.parser.isSet(toShopOption))
        return in.fail(exitUsage, QStringLiteral("--to SHOP goes with --settle transfer, and only with it"));
    QJsonObject params{{QStringLiteral("shop_no"), shop}, {QStringLiteral("settlement"), settlement},
        {QStringLiteral("reason"), reason}};
    if (in.parser.isSet(toShopOption))
        params.insert(QStringLiteral("transfer_to_shop_no"), in.parser.value(toShopOption));
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("account.close"), params, [&](const QJsonObject &r) {
            if (r.value(QLatin1String("status")).toString() == u"pending_approval") {
                printPending(in, r);
                return;
            }
            in.out << "closed: " << shop;
            if (const QString message = r.value(QLatin1String("message")).toString(); !message.isEmpty())
                in.out << " — " << message;
            in.out << '\n';
        });
    });
}

QString newIdempotencyKey()
{
    static const QString alphabet = QStringLiteral("abcdefghijkmnpqrstuvwxyz23456789");
    QString key = QStringLiteral("ctl-");
    for (int i = 0; i < 20; ++i)
        key += alphabet.at(int(QRandomGenerator::system()->bounded(quint32(alphabet.size()))));
    return key;
}

int recharge(const Invocation &in)
{
    const QString shop = in.parser.value(shopOption);
    if (shop.isEmpty() || !in.parser.isSet(amountOption))
        return in.fail(exitUsage, QStringLiteral("--shop NO and --amount YUAN are required"));
    const Parsed<Money> amount = Money::parse(in.parser.value(amountOption));
    if (!amount.ok())
        return in.fail(exitUsage, QStringLiteral("--amount: %1").arg(amount.errorMessage()));
    QString key = in.parser.value(keyOption);
    if (key.isEmpty()) {
        key = newIdempotencyKey();
        // Before the call: if the answer is lost, the key is what makes a retry safe.
        in.err << "prepayctl: idempotency key " << key << " (to retry: the same command with --key " << key << ")\n";
        in.err.flush();
    } else if (!QRegularExpression(QStringLiteral("^[A-Za-z0-9._:-]{8,64}$")).match(key).hasMatch()) {
        return in.fail(exitUsage, QStringLiteral("--key '%1': 8 to 64 of A-Z a-z 0-9 . _ : -").arg(key));
    }
    const QJsonObject params{{QStringLiteral("shop_no"), shop}, {QStringLiteral("amount_fen"), amount.value.fen()},
        {QStringLiteral("idempotency_key"), key}};
    const int rc = loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("account.recharge_cash"), params, [&](const QJsonObject &r) {
            in.out << "recharged " << money(amount.value.fen()) << " to " << shop << ": balance "
                   << money(r.value(QLatin1String("balance_fen")).toInteger()) << ", receipt "
                   << r.value(QLatin1String("receipt_no")).toString() << ", ledger entry "
                   << r.value(QLatin1String("entry_id")).toInteger() << " (key " << key << ")\n";
        });
    });
    if (rc == exitNoAnswer)
        in.err << "prepayctl: run it again with --key " << key << ": it is carried out at most once\n";
    return rc;
}

// ---- a QR top-up at the counter

QString topUpLine(const QJsonObject &t)
{
    QString line = QStringLiteral("top-up %1 (receipt %2): %3 to %4 by %5, %6")
                       .arg(t.value(QLatin1String("attempt_id")).toInteger())
                       .arg(t.value(QLatin1String("receipt_no")).toString(),
                           money(t.value(QLatin1String("amount_fen")).toInteger()),
                           t.value(QLatin1String("shop_no")).toString(), t.value(QLatin1String("channel")).toString(),
                           t.value(QLatin1String("state")).toString());
    if (t.value(QLatin1String("paid")).toBool())
        line += QStringLiteral(": balance %1%2").arg(money(t.value(QLatin1String("balance_fen")).toInteger()),
            t.value(QLatin1String("late")).toBool() ? QStringLiteral(" (paid late, after the QR was given up)") : QString());
    else if (t.contains(QLatin1String("message")))
        line += QStringLiteral(" (%1)").arg(t.value(QLatin1String("message")).toString());
    return line;
}

bool topUpFinal(const QJsonObject &t)
{
    const QString state = t.value(QLatin1String("state")).toString();
    return t.value(QLatin1String("paid")).toBool() || state == QLatin1String("closed")
        || state == QLatin1String("disputed");
}

int topUp(const Invocation &in)
{
    const QString shop = in.parser.value(shopOption);
    const QString channel = in.parser.value(channelOption);
    if (shop.isEmpty() || !in.parser.isSet(amountOption) || channel.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--shop NO, --amount YUAN and --channel NAME are required"));
    if (channel != QLatin1String("alipay") && channel != QLatin1String("wechat") && channel != QLatin1String("unionpay"))
        return in.fail(exitUsage, QStringLiteral("--channel '%1': alipay, wechat or unionpay").arg(channel));
    const Parsed<Money> amount = Money::parse(in.parser.value(amountOption));
    if (!amount.ok())
        return in.fail(exitUsage, QStringLiteral("--amount: %1").arg(amount.errorMessage()));
    int waitSeconds = 180;
    if (in.parser.isSet(waitOption)) {
        bool ok = false;
        waitSeconds = in.parser.value(waitOption).toInt(&ok);
        if (!ok || waitSeconds < 0 || waitSeconds > 3600)
            return in.fail(exitUsage, QStringLiteral("--wait '%1': 0 to 3600 seconds").arg(in.parser.value(waitOption)));
    }
    QString key = in.parser.value(keyOption);
    if (key.isEmpty()) {
        key = newIdempotencyKey();
        in.err << "prepayctl: idempotency key " << key << " (to see this top-up again: the same command with --key "
               << key << ")\n";
        in.err.flush();
    } else if (!QRegularExpression(QStringLiteral("^[A-Za-z0-9._:-]{8,64}$")).match(key).hasMatch()) {
        return in.fail(exitUsage, QStringLiteral("--key '%1': 8 to 64 of A-Z a-z 0-9 . _ : -").arg(key));
    }
    const QJsonObject params{{QStringLiteral("shop_no"), shop}, {QStringLiteral("amount_fen"), amount.value.fen()},
        {QStringLiteral("channel"), channel}, {QStringLiteral("idempotency_key"), key}};
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        // Every events.topup of this connection, kept from before the call: a payment may be
        // credited before the reply is read.
        QJsonObject latest;
        QEventLoop loop;
        QObject::connect(&client, &rpc::RpcClient::notification, &loop,
            [&latest, &loop, &in](const QString &method, const QJsonObject &event) {
                if (method != QLatin1String("events.topup"))
                    return;
                if (!latest.isEmpty() && event.value(QLatin1String("attempt_id")) != latest.value(QLatin1String("attempt_id")))
                    return;
                latest = event;
                if (!in.parser.isSet(jsonOption())) {
                    in.out << topUpLine(event) << '\n';
                    in.out.flush();
                }
                if (topUpFinal(event))
                    loop.quit();
            });
        QObject::connect(&client, &rpc::RpcClient::disconnected, &loop, &QEventLoop::quit);
        const rpc::Outcome created = client.callBlocking(QStringLiteral("topup.create"), params, kPrepaydCallTimeoutMs);
        if (!rpc::succeeded(created))
            return failWith(in, adminCodes, std::get<rpc::Error>(created));
        const QJsonObject first = std::get<QJsonValue>(created).toObject();
        if (latest.isEmpty() || latest.value(QLatin1String("attempt_id")) != first.value(QLatin1String("attempt_id")))
            latest = first;
        if (!in.parser.isSet(jsonOption())) {
            in.out << topUpLine(first) << '\n';
            if (first.contains(QLatin1String("qr_payload")))
                in.out << "scan to pay (or open in a browser): " << first.value(QLatin1String("qr_payload")).toString()
                       << '\n';
            in.out.flush();
        }
        if (waitSeconds > 0 && !topUpFinal(latest)) {
            if (!in.parser.isSet(jsonOption())) {
                in.out << "waiting up to " << waitSeconds << " s for the payment (Ctrl-C stops waiting; the top-up "
                       << "stays valid until its QR expires)\n";
                in.out.flush();
            }
            QTimer::singleShot(waitSeconds * 1000, &loop, &QEventLoop::quit);
            loop.exec();
        }
        if (in.parser.isSet(jsonOption()))
            printJson(in, latest);
        if (waitSeconds == 0)
            return 0;
        return latest.value(QLatin1String("paid")).toBool() ? 0 : exitNotPaid;
    });
}

// ---- a refund to the payer

QString refundLine(const QJsonObject &r)
{
    QString line = QStringLiteral("refund %1 (%2) of top-up %3: %4 to the %5 payer of %6, %7")
                       .arg(r.value(QLatin1String("refund_id")).toInteger())
                       .arg(r.value(QLatin1String("out_refund_no")).toString())
                       .arg(r.value(QLatin1String("attempt_id")).toInteger())
                       .arg(money(r.value(QLatin1String("amount_fen")).toInteger()),
                           r.value(QLatin1String("channel")).toString(), r.value(QLatin1String("shop_no")).toString(),
                           r.value(QLatin1String("state")).toString());
    if (r.contains(QLatin1String("message")))
        line += QStringLiteral(" (%1)").arg(r.value(QLatin1String("message")).toString());
    return line;
}

int refund(const Invocation &in)
{
    bool idOk = false;
    const qint64 attemptId = in.parser.value(attemptOption).toLongLong(&idOk);
    const QString reason = in.parser.value(reasonOption);
    if (!idOk || attemptId < 1 || !in.parser.isSet(amountOption) || reason.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--attempt ID, --amount YUAN and --reason TEXT are required"));
    const Parsed<Money> amount = Money::parse(in.parser.value(amountOption));
    if (!amount.ok())
        return in.fail(exitUsage, QStringLiteral("--amount: %1").arg(amount.errorMessage()));
    int waitSeconds = 60;
    if (in.parser.isSet(waitOption)) {
        bool ok = false;
        waitSeconds = in.parser.value(waitOption).toInt(&ok);
        if (!ok || waitSeconds < 0 || waitSeconds > 3600)
            return in.fail(exitUsage, QStringLiteral("--wait '%1': 0 to 3600 seconds").arg(in.parser.value(waitOption)));
    }
    QString key = in.parser.value(keyOption);
    if (key.isEmpty()) {
        key = newIdempotencyKey();
        in.err << "prepayctl: idempotency key " << key << " (to retry: the same command with --key " << key << ")\n";
        in.err.flush();
    } else if (!QRegularExpression(QStringLiteral("^[A-Za-z0-9._:-]{8,64}$")).match(key).hasMatch()) {
        return in.fail(exitUsage, QStringLiteral("--key '%1': 8 to 64 of A-Z a-z 0-9 . _ : -").arg(key));
    }
    const QJsonObject params{{QStringLiteral("attempt_id"), attemptId}, {QStringLiteral("amount_fen"), amount.value.fen()},
        {QStringLiteral("reason"), reason}, {QStringLiteral("idempotency_key"), key}};
    const int rc = loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        const rpc::Outcome asked = client.callBlocking(QStringLiteral("refund.request"), params, kPrepaydCallTimeoutMs);
        if (!rpc::succeeded(asked))
            return failWith(in, adminCodes, std::get<rpc::Error>(asked));
        QJsonObject r = std::get<QJsonValue>(asked).toObject();
        if (!in.parser.isSet(jsonOption())) {
            in.out << refundLine(r) << "; wallet now " << money(r.value(QLatin1String("balance_fen")).toInteger()) << '\n';
            if (r.value(QLatin1String("status")).toString() == QLatin1String("pending_approval"))
                in.out << "waiting for a second person's approval: request #" << r.value(QLatin1String("approval_id")).toInteger()
                       << " (someone else runs: prepayctl admin approve " << r.value(QLatin1String("approval_id")).toInteger()
                       << ")\n";
            in.out.flush();
        }
        // Until the provider has answered for good (or --wait runs out).
        const auto finished = [](const QJsonObject &o) {
            const QString state = o.value(QLatin1String("state")).toString();
            return state == QLatin1String("succeeded") || state == QLatin1String("failed")
                || state == QLatin1String("rejected") || state == QLatin1String("pending_approval");
        };
        QElapsedTimer waited;
        waited.start();
        while (!finished(r) && waited.elapsed() < qint64(waitSeconds) * 1000) {
            QEventLoop pause;
            QTimer::singleShot(250, &pause, &QEventLoop::quit);
            pause.exec();
            const rpc::Outcome now = client.callBlocking(QStringLiteral("refund.get"),
                {{QStringLiteral("refund_id"), r.value(QLatin1String("refund_id"))}}, kPrepaydCallTimeoutMs);
            if (!rpc::succeeded(now))
                return failWith(in, adminCodes, std::get<rpc::Error>(now));
            const QJsonObject next = std::get<QJsonValue>(now).toObject();
            if (next.value(QLatin1String("state")) != r.value(QLatin1String("state")) && !in.parser.isSet(jsonOption())) {
                in.out << refundLine(next) << '\n';
                in.out.flush();
            }
            r = next;
        }
        if (in.parser.isSet(jsonOption()))
            printJson(in, r);
        const QString state = r.value(QLatin1String("state")).toString();
        return state == QLatin1String("failed") || state == QLatin1String("rejected") ? exitRefused : 0;
    });
    if (rc == exitNoAnswer)
        in.err << "prepayctl: run it again with --key " << key << ": the refund is made at most once\n";
    return rc;
}

// ---- approvals

int approvals(const Invocation &in)
{
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("approval.list"), {}, [&](const QJsonObject &r) {
            const QJsonArray list = r.value(QLatin1String("approvals")).toArray();
            if (list.isEmpty()) {
                in.out << "no request waits for a decision\n";
                return;
            }
            for (const QJsonValue &v : list) {
                const QJsonObject a = v.toObject();
                in.out << '#' << a.value(QLatin1String("approval_id")).toInteger() << ' '
                       << a.value(QLatin1String("kind")).toString() << " by "
                       << a.value(QLatin1String("requested_by_login")).toString() << " at "
                       << utc(a.value(QLatin1String("requested_at_ms")).toInteger());
                if (a.contains(QLatin1String("expires_at_ms")))
                    in.out << ", expires " << utc(a.value(QLatin1String("expires_at_ms")).toInteger());
                in.out << "\n    " << a.value(QLatin1String("reason")).toString() << "\n    "
                       << compactJson(a.value(QLatin1String("payload"))) << '\n';
            }
        });
    });
}

int approve(const Invocation &in)
{
    bool ok = false;
    const qint64 id = in.positional.at(0).toLongLong(&ok);
    if (!ok || id < 1)
        return in.fail(exitUsage,
            QStringLiteral("ID '%1': the request's number (prepayctl admin approvals)").arg(in.positional.at(0)));
    const bool reject = in.parser.isSet(rejectOption);
    QJsonObject params{{QStringLiteral("approval_id"), id},
        {QStringLiteral("decision"), reject ? QStringLiteral("reject") : QStringLiteral("approve")}};
    if (in.parser.isSet(noteOption))
        params.insert(QStringLiteral("note"), in.parser.value(noteOption));
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("approval.decide"), params, [&](const QJsonObject &r) {
            in.out << "request #" << id << (reject ? " rejected" : " approved");
            if (const QString status = r.value(QLatin1String("status")).toString(); !status.isEmpty())
                in.out << " (" << status << ")";
            in.out << '\n';
        });
    });
}

// ---- the daily reconciliation's findings

int findings(const Invocation &in)
{
    QJsonObject params;
    if (in.parser.isSet(openOnlyOption))
        params.insert(QStringLiteral("open_only"), true);
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("payments.findings"), params, [&](const QJsonObject &r) {
            const QJsonArray list = r.value(QLatin1String("findings")).toArray();
            if (list.isEmpty())
                in.out << (params.isEmpty() ? "no finding\n" : "no open finding\n");
            for (const QJsonValue &v : list) {
                const QJsonObject f = v.toObject();
                in.out << '#' << f.value(QLatin1String("finding_id")).toInteger() << ' '
                       << f.value(QLatin1String("channel")).toString() << ' '
                       << f.value(QLatin1String("bill_date")).toString() << ' '
                       << f.value(QLatin1String("kind")).toString();
                if (f.contains(QLatin1String("receipt_no")))
                    in.out << ' ' << f.value(QLatin1String("receipt_no")).toString();
                in.out << (f.value(QLatin1String("open")).toBool() ? " OPEN" : " settled")
                       << (f.value(QLatin1String("freezing")).toBool() ? " (payment frozen)" : "") << "\n    "
                       << f.value(QLatin1String("action")).toString() << '\n';
                if (f.contains(QLatin1String("settle_note")))
                    in.out << "    settled: " << f.value(QLatin1String("settle_note")).toString() << '\n';
            }
            in.out << r.value(QLatin1String("open_total")).toInteger() << " open in all\n";
        });
    });
}

int settleFinding(const Invocation &in)
{
    bool ok = false;
    const qint64 id = in.positional.at(0).toLongLong(&ok);
    if (!ok || id < 1)
        return in.fail(exitUsage,
            QStringLiteral("ID '%1': the finding's number (prepayctl admin findings)").arg(in.positional.at(0)));
    if (!in.parser.isSet(noteOption))
        return in.fail(exitUsage, QStringLiteral("--note: say what was found and done"));
    const QJsonObject params{{QStringLiteral("finding_id"), id}, {QStringLiteral("note"), in.parser.value(noteOption)}};
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("payments.settle_finding"), params, [&](const QJsonObject &r) {
            in.out << "finding #" << id << " settled";
            const QJsonArray released = r.value(QLatin1String("released_attempts")).toArray();
            for (const QJsonValue &attempt : released)
                in.out << "; attempt " << attempt.toInteger() << " released";
            in.out << "; " << r.value(QLatin1String("open_total")).toInteger() << " open in all\n";
        });
    });
}

// ---- kiosks

int kioskPair(const Invocation &in)
{
    if (!in.parser.isSet(kioskNameOption))
        return in.fail(exitUsage, QStringLiteral("--name: say where the kiosk stands"));
    QJsonObject params{{QStringLiteral("name"), in.parser.value(kioskNameOption)}};
    if (in.parser.isSet(buildingOption))
        params.insert(QStringLiteral("building_code"), in.parser.value(buildingOption));
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("kiosk.pairing.create"), params, [&](const QJsonObject &r) {
            in.out << "kiosk " << r.value(QLatin1String("kiosk_id")).toInteger() << " ("
                   << r.value(QLatin1String("name")).toString() << "): pairing code "
                   << r.value(QLatin1String("pairing_code")).toString() << ", valid 30 minutes, once\n"
                   << "on the kiosk: prepay-kiosk --enrol "
                   << (in.parser.isSet(serverOption()) ? in.parser.value(serverOption()) : QStringLiteral("127.0.0.1:7443"))
                   << " --pairing-code " << r.value(QLatin1String("pairing_code")).toString() << " --ca "
                   << in.parser.value(caOption()) << '\n';
        });
    });
}

int kiosks(const Invocation &in)
{
    return loggedIn(in, adminCodes, [&](rpc::RpcClient &client) {
        return callAndPrint(in, adminCodes, client, QStringLiteral("kiosk.list"), {}, [&](const QJsonObject &r) {
            const QJsonArray list = r.value(QLatin1String("kiosks")).toArray();
            if (list.isEmpty())
                in.out << "no kiosk (pair one: prepayctl admin kiosk pair --name TEXT)\n";
            for (const QJsonValue &v : list) {
                const QJsonObject k = v.toObject();
                in.out << "kiosk " << k.value(QLatin1String("kiosk_id")).toInteger() << ' '
                       << k.value(QLatin1String("name")).toString() << ' ' << k.value(QLatin1String("state")).toString();
                if (k.contains(QLatin1String("building_code")))
                    in.out << " building " << k.value(QLatin1String("building_code")).toString();
                if (k.contains(QLatin1String("last_seen_ms")))
                    in.out << ", last seen " << utc(k.value(QLatin1String("last_seen_ms")).toInteger());
                const QJsonObject health = k.value(QLatin1String("health")).toObject();
                if (health.contains(QLatin1String("printer"))) {
                    in.out << ", printer " << health.value(QLatin1String("printer")).toString();
                    if (!health.value(QLatin1String("printer_detail")).toString().isEmpty())
                        in.out << " (" << health.value(QLatin1String("printer_detail")).toString() << ')';
                }
                if (health.value(QLatin1String("outbox_pending")).toInteger() > 0)
                    in.out << ", " << health.value(QLatin1String("outbox_pending")).toInteger() << " events queued";
                in.out << '\n';
            }
        });
    });
}

} // namespace

QList<Command> adminCommands()
{
    const QList<QCommandLineOption> common{serverOption(), caOption(), loginOption(), passwordFileOption(), jsonOption()};
    const QString connection = QStringLiteral(
        " Talks to a running prepayd over TLS 1.3 (--server, default 127.0.0.1:7443), trusting only the building's "
        "CA (--ca); logs in as --login with the password from --password-file, PREPAY_PASSWORD or standard input "
        "(never an argument), and logs out at the end.");
    const QString w = QStringLiteral("admin");
    return {
        {{w, QStringLiteral("setup")},
            QStringLiteral("--ca FILE --code CODE --login L --name TEXT   create the first administrator"),
            QStringLiteral("Create the first administrator with the one-time setup code prepayd printed at its "
                           "start (only while no administrator exists). The password (10 to 256 characters) is "
                           "the new administrator's, from --password-file, PREPAY_PASSWORD or standard input.")
                + exitCodesHelp(),
            {serverOption(), caOption(), newLoginOption, passwordFileOption(), jsonOption(), codeOption, nameOption}, {}, {},
            setup},
        {{w, QStringLiteral("whoami")}, QStringLiteral("--ca FILE --login L   check a login against prepayd"),
            QStringLiteral("Log in and print who prepayd says you are.") + connection + exitCodesHelp(), common, {}, {},
            whoami},
        {{w, QStringLiteral("import")},
            QStringLiteral("--ca FILE --login L [--dry-run]   buildings, gateways or meters from CSV"),
            QStringLiteral("Import buildings, gateways (with their buses) or meters (with their metering points "
                           "and installations) from a UTF-8 CSV file with a header line; the columns are in "
                           "docs/import.md. prepayd checks every row and imports all of them or none; a refused "
                           "file prints every bad row as \"line N, column C: message\". --dry-run checks only. "
                           "prepayd polls new meters after its next restart.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{dryRunOption}, {QStringLiteral("KIND"), QStringLiteral("FILE")}, {},
            importFile},
        {{w, QStringLiteral("export")},
            QStringLiteral(
                "--ca FILE --login L [--from DATE --to DATE] [--out FILE]   accounts, meters or ledger as CSV"),
            QStringLiteral("Export accounts, meters (in the import's columns, plus their state) or the ledger's "
                           "postings (of a period with --from/--to) as CSV: RFC 4180, UTF-8, a header line. To "
                           "standard output, or to a new file with --out.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{fromOption, toOption, tzOption, outOption, bomOption},
            {QStringLiteral("WHAT")}, {}, exportList},
        {{w, QStringLiteral("account"), QStringLiteral("open")},
            QStringLiteral("--ca FILE --login L --shop NO --name TEXT --points A,B [--tariff CODE] [--phone N]"),
            QStringLiteral("Open a tenant account on one or more metering points (one wallet), with its tariff "
                           "from today (account.open).")
                + connection + exitCodesHelp(),
            common
                + QList<QCommandLineOption>{shopOption, nameOption, pointsOption, tariffOption, phoneOption,
                    contactOption},
            {}, {}, accountOpen},
        {{w, QStringLiteral("account"), QStringLiteral("close")},
            QStringLiteral(
                "--ca FILE --login L --shop NO --settle none|refund-cash|transfer [--to SHOP] --reason TEXT"),
            QStringLiteral("Close a tenant account: its balance refunded in cash or transferred to another open "
                           "shop, its supply tripped (account.close). A cash refund above the approval threshold "
                           "waits for a second person: the request number is printed.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{shopOption, settleOption, toShopOption, reasonOption}, {}, {},
            accountClose},
        {{w, QStringLiteral("recharge")},
            QStringLiteral("--ca FILE --login L --shop NO --amount YUAN [--key K]   a cash top-up at the counter"),
            QStringLiteral("A cash top-up (account.recharge_cash): the wallet credited, a prepaid meter recharged, "
                           "the supply restored when the balance allows. The amount is parsed strictly (yuan, at "
                           "most two decimals). Without --key a key is generated and printed first; repeating the "
                           "command with it carries the top-up out at most once.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{shopOption, amountOption, keyOption}, {}, {}, recharge},
        {{w, QStringLiteral("topup")},
            QStringLiteral("--ca FILE --login L --shop NO --amount YUAN --channel alipay|wechat|unionpay [--key K] "
                           "[--wait S]   a QR top-up at the counter"),
            QStringLiteral("A QR top-up (topup.create): prints the provider's QR payload — the link the tenant's "
                           "phone opens when scanning it — then waits for the payment and prints each change "
                           "(credited with the new balance, or closed). Without --key a key is generated and "
                           "printed first; the same command with it shows the same top-up, never a second one.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{shopOption, amountOption, channelOption, keyOption, waitOption}, {}, {},
            topUp},
        {{w, QStringLiteral("refund")},
            QStringLiteral("--ca FILE --login L --attempt ID --amount YUAN --reason TEXT [--key K] [--wait S]   pay "
                           "a QR top-up back to its payer"),
            QStringLiteral("A refund to the payer through the provider (refund.request): the amount leaves the "
                           "wallet at once; above the approval threshold it waits for a second person (the request "
                           "number is printed). Otherwise prepayctl follows it until the provider has paid it back "
                           "(or --wait seconds, default 60). Without --key a key is generated and printed first.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{attemptOption, amountOption, reasonOption, keyOption, waitOption}, {}, {},
            refund},
        {{w, QStringLiteral("approvals")}, QStringLiteral("--ca FILE --login L   requests waiting for a decision"),
            QStringLiteral("List the maker-checker requests waiting for a second person (approval.list).") + connection
                + exitCodesHelp(),
            common, {}, {}, approvals},
        {{w, QStringLiteral("approve")},
            QStringLiteral("--ca FILE --login L [--reject] [--note TEXT]   decide a request"),
            QStringLiteral("Approve — and thereby carry out — or reject someone else's request (approval.decide).")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{rejectOption, noteOption}, {QStringLiteral("ID")}, {}, approve},
        {{w, QStringLiteral("findings")},
            QStringLiteral("--ca FILE --login L [--open]   what the daily reconciliation found"),
            QStringLiteral("List the findings of the daily reconciliation of the providers' bills "
                           "(payments.findings), each with what prepayd did or staff must do; a payment the bill "
                           "does not show is frozen (no refund, no closing) until the finding is settled.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{openOnlyOption}, {}, {}, findings},
        {{w, QStringLiteral("settle")},
            QStringLiteral("--ca FILE --login L --note TEXT   settle a reconciliation finding"),
            QStringLiteral("Settle a finding after acting on it (payments.settle_finding): the note says what was "
                           "found and done; a payment it froze is released.")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{noteOption}, {QStringLiteral("ID")}, {}, settleFinding},
        {{w, QStringLiteral("kiosk"), QStringLiteral("pair")},
            QStringLiteral("--ca FILE --login L --name TEXT [--building CODE]   a one-time code to enrol a kiosk"),
            QStringLiteral("Register a lobby kiosk (or pair an existing one again: its old certificate stops "
                           "working) and print its one-time pairing code, valid 30 minutes, and the command to run "
                           "on the kiosk (kiosk.pairing.create).")
                + connection + exitCodesHelp(),
            common + QList<QCommandLineOption>{kioskNameOption, buildingOption}, {}, {}, kioskPair},
        {{w, QStringLiteral("kiosks")}, QStringLiteral("--ca FILE --login L   the kiosks and their health"),
            QStringLiteral("List the kiosks: enrolled or not, when last seen, their printer's state and events "
                           "still queued on them (kiosk.list).")
                + connection + exitCodesHelp(),
            common, {}, {}, kiosks},
    };
}

} // namespace prepay::ctl
