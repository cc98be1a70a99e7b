#include "accountcommands.h"

#include "accounts/lifecycle.h"
#include "api/clock.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "staff/operators.h"
#include "store/store.h"

#include <QtCore/QFileInfo>
#include <QtCore/QLocale>
#include <QtCore/QTextStream>

#include <cstdio>

namespace prepay::ctl {

namespace {

const QCommandLineOption dbOption(QStringLiteral("db"), QStringLiteral("The database file."), QStringLiteral("FILE"));
const QCommandLineOption operatorOption(QStringLiteral("operator"),
    QStringLiteral("Who does it: an operator's login (prepayctl operator add)."), QStringLiteral("LOGIN"));
const QCommandLineOption shopOption(QStringLiteral("shop"), QStringLiteral("The shop number."), QStringLiteral("NO"));
const QCommandLineOption nameOption(QStringLiteral("name"), QStringLiteral("Display name."), QStringLiteral("TEXT"));
const QCommandLineOption contactOption(
    QStringLiteral("contact"), QStringLiteral("Contact person."), QStringLiteral("TEXT"));
const QCommandLineOption phoneOption(
    QStringLiteral("phone"), QStringLiteral("Contact phone (SMS alarms): digits, optional +."), QStringLiteral("NUMBER"));
const QCommandLineOption pointOption(QStringLiteral("point"),
    QStringLiteral("A metering point code (A-1F-101); repeat for an account with several meters."),
    QStringLiteral("CODE"));
const QCommandLineOption tariffOption(
    QStringLiteral("tariff"), QStringLiteral("Tariff code assigned from today (TOU-COM)."), QStringLiteral("CODE"));
const QCommandLineOption alarm1Option(
    QStringLiteral("alarm1"), QStringLiteral("Alarm 1 threshold in yuan."), QStringLiteral("YUAN"));
const QCommandLineOption alarm2Option(
    QStringLiteral("alarm2"), QStringLiteral("Alarm 2 threshold in yuan."), QStringLiteral("YUAN"));
const QCommandLineOption overdraftOption(QStringLiteral("overdraft"),
    QStringLiteral("Overdraft limit in yuan (AUTO trips at balance <= -limit)."), QStringLiteral("YUAN"));
const QCommandLineOption reasonOption(QStringLiteral("reason"), QStringLiteral("Why (kept with the entries)."),
    QStringLiteral("TEXT"));
const QCommandLineOption refundCashOption(
    QStringLiteral("refund-cash"), QStringLiteral("Pay the remaining balance out in cash at the counter."));
const QCommandLineOption transferToOption(QStringLiteral("transfer-to"),
    QStringLiteral("Move the remaining balance to this open shop's wallet."), QStringLiteral("NO"));
const QCommandLineOption finalOption(QStringLiteral("final"),
    QStringLiteral("A final reading read on the meter's display: CODE=KWH or CODE=KWH:SHARP,PEAK,FLAT,VALLEY "
                   "(repeatable). Without it the last stored reading is final."),
    QStringLiteral("CODE=KWH[:S,P,F,V]"));
const QCommandLineOption newSerialOption(
    QStringLiteral("new-serial"), QStringLiteral("The new meter's serial number."), QStringLiteral("N"));
const QCommandLineOption oldFinalOption(QStringLiteral("old-final"),
    QStringLiteral("The old meter's final registers from its display. Without it the last stored reading is final."),
    QStringLiteral("KWH[:S,P,F,V]"));
const QCommandLineOption oldBalanceOption(QStringLiteral("old-balance"),
    QStringLiteral("The old meter's final balance from its display (else from its last reading)."), QStringLiteral("YUAN"));
const QCommandLineOption newInitialOption(QStringLiteral("new-initial"),
    QStringLiteral("The new meter's registers as installed. Without it the first poll opens the segment."),
    QStringLiteral("KWH[:S,P,F,V]"));
const QCommandLineOption newBalanceOption(QStringLiteral("new-balance"),
    QStringLiteral("The balance the new meter arrived with (yuan)."), QStringLiteral("YUAN"));
const QCommandLineOption newPurchaseCountOption(QStringLiteral("new-purchase-count"),
    QStringLiteral("The purchase count the new meter arrived with."), QStringLiteral("N"));
const QCommandLineOption noteOption(QStringLiteral("note"), QStringLiteral("A note for the record."), QStringLiteral("TEXT"));
const QCommandLineOption loginOption(QStringLiteral("login"), QStringLiteral("The new operator's login."), QStringLiteral("LOGIN"));
const QCommandLineOption roleOption(QStringLiteral("role"),
    QStringLiteral("admin, operator, cashier, technician or auditor."), QStringLiteral("ROLE"));

// "12.34" or "12.34:1.00,5.00,4.34,2.00" (kWh).
bool parseRegisters(const QString &text, accounts::ManualRegisters *out, QString *error)
{
    const QStringList parts = text.split(QLatin1Char(':'));
    if (parts.size() > 2) {
        *error = QStringLiteral("'%1': KWH or KWH:SHARP,PEAK,FLAT,VALLEY").arg(text);
        return false;
    }
    const Parsed<Energy> total = Energy::parse(parts[0].trimmed());
    if (!total.ok()) {
        *error = total.errorMessage();
        return false;
    }
    out->total = total.value;
    if (parts.size() == 2) {
        const QStringList slots = parts[1].split(QLatin1Char(','));
        if (slots.size() != 4) {
            *error = QStringLiteral("'%1': four slot values (sharp, peak, flat, valley)").arg(parts[1]);
            return false;
        }
        std::array<Energy, 4> values;
        for (size_t i = 0; i < 4; ++i) {
            const Parsed<Energy> e = Energy::parse(slots[qsizetype(i)].trimmed());
            if (!e.ok()) {
                *error = e.errorMessage();
                return false;
            }
            values[i] = e.value;
        }
        out->slots = values;
    }
    return true;
}

bool parseYuan(const Invocation &in, const QCommandLineOption &option, std::optional<Money> *out, QString *error)
{
    if (!in.parser.isSet(option))
        return true;
    const QString text = in.parser.value(option);
    const Parsed<Money> m = Money::parse(text);
    if (!m.ok()) {
        *error = QStringLiteral("--%1: %2").arg(option.names().first(), m.errorMessage());
        return false;
    }
    *out = m.value;
    return true;
}

// Runs one lifecycle event on the file, in one write transaction.
template<typename Job>
int runEvent(const Invocation &in, const Clock &clock, bool needsOperator, Job job)
{
    const QString path = in.parser.value(dbOption);
    if (path.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--db FILE is required"));
    if (needsOperator && !in.parser.isSet(operatorOption))
        return in.fail(exitUsage, QStringLiteral("--operator LOGIN is required"));
    if (!QFileInfo::exists(path))
        return in.fail(66, path + QStringLiteral(" does not exist"));
    store::OpenResult opened = store::Store::open(path, clock);
    if (!opened.store)
        return in.fail(store::exitCodeFor(opened.outcome), opened.message);
    const qint64 nowMs = clock.wallMs();
    const QString login = in.parser.value(operatorOption);
    const auto written = opened.store
                             ->write([&](store::Transaction &tx) {
                                 accounts::LifecycleResult r;
                                 std::optional<qint64> operatorId;
                                 if (!login.isEmpty()) {
                                     operatorId = staff::operatorIdByLogin(tx, login);
                                     if (!operatorId) {
                                         r.outcome = accounts::LifecycleOutcome::NotFound;
                                         r.message = QStringLiteral("--operator: no enabled operator '%1'").arg(login);
                                         tx.rollback(r.message);
                                         return r;
                                     }
                                 }
                                 auto book = std::make_shared<billing::TariffBook>();
                                 QString why;
                                 if (!billing::TariffBook::load(tx.db(), book.get(), &why)) {
                                     r.outcome = accounts::LifecycleOutcome::Conflict;
                                     r.message = QStringLiteral("tariffs: %1").arg(why);
                                     tx.rollback(r.message);
                                     return r;
                                 }
                                 billing::Biller biller(book);
                                 return job(tx, biller, operatorId, nowMs);
                             })
                             .get();
    const accounts::LifecycleResult &r = written.value;
    if (!r.ok()) {
        const int rc = r.outcome == accounts::LifecycleOutcome::StoreFailed ? 70 : 1;
        return in.fail(rc, QStringLiteral("%1: %2 (nothing changed)").arg(accounts::lifecycleOutcomeCode(r.outcome), r.message));
    }
    if (!written.committed() && r.outcome != accounts::LifecycleOutcome::AlreadyDone)
        return in.fail(70, QStringLiteral("not committed: %1").arg(written.error.toString()));
    in.out << r.message;
    if (r.outcome == accounts::LifecycleOutcome::AlreadyDone)
        in.out << " (nothing to do)";
    in.out << '\n';
    if (r.finalCharges > Money::zero())
        in.out << "final readings charged: " << r.finalCharges.toDecimalString() << " CNY\n";
    if (!r.commandIds.isEmpty())
        in.out << r.commandIds.size() << " meter command(s) queued; prepayd sends them (restart it if it is running)\n";
    return 0;
}

int accountOpen(const Invocation &in, const Clock &clock)
{
    accounts::OpenAccountRequest request;
    request.shopNo = in.parser.value(shopOption);
    request.displayName = in.parser.value(nameOption);
    request.contactName = in.parser.value(contactOption);
    request.contactPhone = in.parser.value(phoneOption);
    request.pointCodes = in.parser.values(pointOption);
    request.tariffCode = in.parser.value(tariffOption);
    QString error;
    if (!parseYuan(in, alarm1Option, &request.thresholds.alarm1, &error)
        || !parseYuan(in, alarm2Option, &request.thresholds.alarm2, &error)
        || !parseYuan(in, overdraftOption, &request.thresholds.overdraftLimit, &error))
        return in.fail(exitUsage, error);
    if (request.shopNo.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--shop NO is required"));
    return runEvent(in, clock, false,
        [&request](store::Transaction &tx, billing::Biller &biller, std::optional<qint64> operatorId, qint64 nowMs) {
            request.operatorId = operatorId;
            return accounts::openAccount(tx, biller, request, nowMs);
        });
}

int accountClose(const Invocation &in, const Clock &clock)
{
    accounts::CloseAccountRequest request;
    request.shopNo = in.parser.value(shopOption);
    request.reason = in.parser.value(reasonOption);
    if (request.shopNo.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--shop NO is required"));
    if (in.parser.isSet(refundCashOption) && in.parser.isSet(transferToOption))
        return in.fail(exitUsage, QStringLiteral("--refund-cash and --transfer-to exclude each other"));
    if (in.parser.isSet(refundCashOption))
        request.settlement = accounts::Settlement::RefundCash;
    if (in.parser.isSet(transferToOption)) {
        request.settlement = accounts::Settlement::Transfer;
        request.transferToShopNo = in.parser.value(transferToOption);
    }
    for (const QString &f : in.parser.values(finalOption)) {
        const qsizetype eq = f.indexOf(QLatin1Char('='));
        if (eq <= 0)
            return in.fail(exitUsage, QStringLiteral("--final '%1': CODE=KWH[:S,P,F,V]").arg(f));
        accounts::CloseFinalReading reading;
        reading.pointCode = f.left(eq).trimmed();
        QString error;
        if (!parseRegisters(f.mid(eq + 1), &reading.registers, &error))
            return in.fail(exitUsage, QStringLiteral("--final %1").arg(error));
        request.finalReadings.append(reading);
    }
    return runEvent(in, clock, true,
        [&request](store::Transaction &tx, billing::Biller &biller, std::optional<qint64> operatorId, qint64 nowMs) {
            request.operatorId = operatorId.value_or(0);
            return accounts::closeAccount(tx, biller, request, nowMs);
        });
}

int meterReplace(const Invocation &in, const Clock &clock)
{
    accounts::ReplaceMeterRequest request;
    request.pointCode = in.parser.value(pointOption);
    request.note = in.parser.value(noteOption);
    if (request.pointCode.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--point CODE is required"));
    bool ok = false;
    const qulonglong serial = in.parser.value(newSerialOption).toULongLong(&ok);
    if (!ok || serial == 0 || serial > 0xffff'ffffULL)
        return in.fail(exitUsage, QStringLiteral("--new-serial: 1..4294967295"));
    request.newSerial = quint32(serial);
    QString error;
    if (in.parser.isSet(oldFinalOption)) {
        accounts::ManualRegisters r;
        if (!parseRegisters(in.parser.value(oldFinalOption), &r, &error))
            return in.fail(exitUsage, QStringLiteral("--old-final %1").arg(error));
        request.oldFinal = r;
    }
    std::optional<Money> oldBalance;
    if (!parseYuan(in, oldBalanceOption, &oldBalance, &error))
        return in.fail(exitUsage, error);
    if (oldBalance) {
        if (!request.oldFinal)
            return in.fail(exitUsage, QStringLiteral("--old-balance goes with --old-final (read both on the display)"));
        request.oldFinal->balance = oldBalance;
    }
    if (in.parser.isSet(newInitialOption)) {
        accounts::ManualRegisters r;
        if (!parseRegisters(in.parser.value(newInitialOption), &r, &error))
            return in.fail(exitUsage, QStringLiteral("--new-initial %1").arg(error));
        if (!parseYuan(in, newBalanceOption, &r.balance, &error))
            return in.fail(exitUsage, error);
        if (in.parser.isSet(newPurchaseCountOption)) {
            const int count = in.parser.value(newPurchaseCountOption).toInt(&ok);
            if (!ok)
                return in.fail(exitUsage, QStringLiteral("--new-purchase-count: a whole number 0..65535"));
            r.purchaseCount = count;
        }
        request.newInitial = r;
    } else if (in.parser.isSet(newBalanceOption) || in.parser.isSet(newPurchaseCountOption)) {
        return in.fail(exitUsage, QStringLiteral("--new-balance and --new-purchase-count go with --new-initial"));
    }
    return runEvent(in, clock, true,
        [&request](store::Transaction &tx, billing::Biller &biller, std::optional<qint64> operatorId, qint64 nowMs) {
            request.operatorId = operatorId.value_or(0);
            return accounts::replaceMeter(tx, biller, request, nowMs);
        });
}

int operatorAdd(const Invocation &in, const Clock &clock)
{
    const QString path = in.parser.value(dbOption);
    if (path.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--db FILE is required"));
    if (!QFileInfo::exists(path))
        return in.fail(66, path + QStringLiteral(" does not exist"));
    staff::NewOperator op;
    op.login = in.parser.value(loginOption);
    op.displayName = in.parser.value(nameOption);
    op.role = in.parser.value(roleOption);
    // The password comes on standard input (one line), never on the command line.
    QTextStream input(stdin);
    op.password = input.readLine();
    store::OpenResult opened = store::Store::open(path, clock);
    if (!opened.store)
        return in.fail(store::exitCodeFor(opened.outcome), opened.message);
    QString error;
    const auto written = opened.store
                             ->write([&](store::Transaction &tx) -> std::optional<qint64> {
                                 std::optional<qint64> id = staff::createOperator(tx, op, clock.wallMs(), &error);
                                 if (!id && tx.error().ok())
                                     tx.rollback(error);
                                 return id;
                             })
                             .get();
    if (!written.value)
        return in.fail(1, QStringLiteral("%1 (nothing changed)").arg(error));
    if (!written.committed())
        return in.fail(70, QStringLiteral("not committed: %1").arg(written.error.toString()));
    in.out << "operator " << op.login << " (" << op.role << ") created as id " << *written.value
           << "; the password must be changed at first login\n";
    return 0;
}

} // namespace

QList<Command> accountCommands(const Clock &clock)
{
    const QString exits = QStringLiteral(
        "\nExit codes: 0 done (or already done), 1 refused (the message says what was wrong; nothing changed), "
        "64 usage, 65 schema not this prepayctl's, 66 cannot open, 70 the database refused the write.");
    return {
        {{QStringLiteral("account"), QStringLiteral("open")},
            QStringLiteral("--db FILE --shop NO --name TEXT --point CODE… [--tariff CODE]   open a tenant account"),
            QStringLiteral("Open a tenant account: a new one, or one created 'not opened'. Links its metering points "
                           "(several points share one wallet), assigns the tariff from today, sets alarm thresholds "
                           "and overdraft on its points, creates the wallet, and lets the control policy look at the "
                           "points at once (a new wallet is empty: AUTO trips until the first top-up).")
                + exits,
            {dbOption, shopOption, nameOption, contactOption, phoneOption, pointOption, tariffOption, alarm1Option,
                alarm2Option, overdraftOption, operatorOption},
            {}, {}, [&clock](const Invocation &in) { return accountOpen(in, clock); }},
        {{QStringLiteral("account"), QStringLiteral("close")},
            QStringLiteral("--db FILE --shop NO --operator LOGIN --reason TEXT [--refund-cash|--transfer-to NO]   close"),
            QStringLiteral("Close a tenant account: charge the final readings (--final, read on the display; else the "
                           "last stored reading is final), settle the balance — paid out in cash (--refund-cash) or "
                           "moved to another open shop (--transfer-to) — unlink the points and trip their supply. "
                           "An account in arrears is not closed: take the payment first.")
                + exits,
            {dbOption, shopOption, operatorOption, reasonOption, refundCashOption, transferToOption, finalOption}, {},
            {}, [&clock](const Invocation &in) { return accountClose(in, clock); }},
        {{QStringLiteral("meter"), QStringLiteral("replace")},
            QStringLiteral("--db FILE --point CODE --new-serial N --operator LOGIN [--old-final KWH] [--new-initial KWH]"),
            QStringLiteral("Replace the meter of a metering point: the old meter's final reading is charged and its "
                           "installation closed (final registers and meter-side balance kept), the new meter takes "
                           "the same bus address (registered as the old one's model if it is not in stock), and "
                           "billing continues on the point with its remainder and tier accumulation. What the old "
                           "prepaid meter held is recharged onto the new one by a durable command (换表补电); the "
                           "wallet already holds that money, so no ledger entry moves.")
                + exits,
            {dbOption, pointOption, newSerialOption, operatorOption, oldFinalOption, oldBalanceOption,
                newInitialOption, newBalanceOption, newPurchaseCountOption, noteOption},
            {}, {}, [&clock](const Invocation &in) { return meterReplace(in, clock); }},
        {{QStringLiteral("operator"), QStringLiteral("add")},
            QStringLiteral("--db FILE --login LOGIN --name TEXT --role ROLE   create a staff account (password on stdin)"),
            QStringLiteral("Create a staff account. There is no default account, ever: the first admin is created "
                           "this way by someone who holds the database file. The password (10 to 256 characters) is "
                           "read from the first line of standard input, stored as an scrypt hash, and must be "
                           "changed at first login.")
                + exits,
            {dbOption, loginOption, nameOption, roleOption}, {}, {},
            [&clock](const Invocation &in) { return operatorAdd(in, clock); }},
    };
}

} // namespace prepay::ctl
