// import.csv, export.csv and prepayctl admin end to end: the CSV reader on its own (quotes,
// embedded line breaks, BOM, ragged rows), then prepayd's Service in process on free ports with
// a fresh database and PKI per test case, driven by prepayctl's admin commands run as functions
// (real TLS 1.3, real login) and by a raw API client where the error's data is the point:
// each kind imported, bad rows all reported by line with nothing written, dry runs, duplicates,
// hostile strings kept verbatim or refused, exports that parse back, the poll-plan guard, the
// exit codes of the failure classes, and docs/import.md against the columns of the code.
//
// Methods of the contract not implemented on this branch are bound to a handler that fails
// with internal_error (the Service refuses to start with unbound methods); it lives here only.
#include "accounts/takeover.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "api/clock.h"
#include "api/money.h"
#include "api/rpcclient.h"
#include "apitest.h"
#include "catalog/csv.h"
#include "catalog/importer.h"
#include "ctl/admincommands.h"
#include "pki/pki.h"
#include "poller/pollplan.h"
#include "service/config.h"
#include "service/service.h"
#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

using namespace prepay;
using catalog::parseCsv;
using rpc::ErrorCode;
using rpc::Outcome;
using test::describe;

namespace {

const QString adminPassword = QStringLiteral("correct horse battery");

struct Ran
{
    int rc = -1;
    QString out;
    QString err;
};

const QString buildingsCsv
    = QStringLiteral("code,name,poll_interval_min,alarm1_yuan,alarm2_yuan,overdraft_limit_yuan\r\n"
                     "C,C座,15,100.00,40.00,\r\n"
                     "D,\"D座, 东区\",,,,50\r\n");

const QString gatewaysCsv
    = QStringLiteral("building,name,host,port,buses,bus_tcp_ports,baud,parity,stop_bits,response_timeout_ms\n"
                     "C,C座通讯管理机,192.0.2.10,,C-COM1;;C-COM3,;;4003,19200,none,2,800\n"
                     "D,D座通讯管理机,gw-d.example.net,1502,D-COM1,,,,,\n");

const QString metersHeader = QStringLiteral(
    "point,building,floor,room,meter_box,description,serial,model,device_type,capability,has_tou_registers,"
    "rated_current_a,max_current_a,bus,unit,initial_kwh,initial_balance_yuan,initial_purchase_count,"
    "initial_purchased_yuan\n");

const QString metersCsv = metersHeader
    + QStringLiteral(
        "C-1F-101,C,1,101,,临街商铺,31000001,DDSY1352-NK,single_phase,prepaid,1,10,60,C-COM1,1,123.45,200.00,1,200.00\n"
        "C-1F-102,C,1,102,,,31000002,DTSY1352-NK,three_phase,prepaid,,1.5,6,C-COM1,2,,,,\n"
        "C-B1-001,C,-1,001,C-B1-MB1,,31000003,ADL200,single_phase,remote_only,no,10,60,C-COM3,1,0,,,\n");

} // namespace

class TestImport : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    SystemClock m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<service::Service> m_service;
    QSslCertificate m_ca;
    QString m_setupCode;
    QString m_passwordFile;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;

    QString server() const { return QStringLiteral("127.0.0.1:%1").arg(m_service->staffPort()); }

    Ran prepayctl(const QStringList &arguments)
    {
        Ran r;
        QTextStream o(&r.out);
        QTextStream e(&r.err);
        r.rc = ctl::runCommandLine(QStringList{QStringLiteral("prepayctl")} + arguments, ctl::adminCommands(), o, e);
        o.flush();
        e.flush();
        return r;
    }

    // prepayctl admin WORDS… as root (or another login), with the connection options.
    Ran admin(const QStringList &words, const QString &login = QStringLiteral("root"), const QString &passwordFile = {})
    {
        return prepayctl(QStringList{QStringLiteral("admin")} + words
            + QStringList{QStringLiteral("--server"), server(), QStringLiteral("--ca"), m_service->caCertPath(),
                QStringLiteral("--login"), login, QStringLiteral("--password-file"),
                passwordFile.isEmpty() ? m_passwordFile : passwordFile});
    }

    // The Service as prepayd composes it, on free ports; with billing (the money methods need it)
    // when `book` is given.
    void startService(std::shared_ptr<billing::TariffBook> book = {})
    {
        m_service.reset();
        m_biller.reset();
        if (book) {
            m_book = book;
            m_biller = std::make_unique<billing::Biller>(m_book);
        }
        test::RunningService running =
            test::startService(m_clock, *m_store, m_dir->path(), test::loopbackConfig(), m_biller.get());
        QVERIFY2(running.service, qPrintable(running.error));
        m_service = std::move(running.service);
        m_setupCode = running.setupCode;
        m_ca = running.ca;
    }

    QString writeFile(const QString &name, const QByteArray &bytes)
    {
        const QString path = m_dir->filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
            qWarning("cannot write %s", qPrintable(path));
        return path;
    }

    Ran importFile(const QString &kind, const QString &csv, const QStringList &more = {})
    {
        const QString path = writeFile(kind + QStringLiteral(".csv"), csv.toUtf8());
        return admin(QStringList{QStringLiteral("import"), kind, path} + more);
    }

    void createAdmin()
    {
        const Ran r = prepayctl({QStringLiteral("admin"), QStringLiteral("setup"), QStringLiteral("--server"), server(),
            QStringLiteral("--ca"), m_service->caCertPath(), QStringLiteral("--code"), m_setupCode,
            QStringLiteral("--login"), QStringLiteral("root"), QStringLiteral("--name"), QStringLiteral("管理员"),
            QStringLiteral("--password-file"), m_passwordFile});
        QVERIFY2(r.rc == 0, qPrintable(r.err));
    }

    std::unique_ptr<rpc::RpcClient> rootClient()
    {
        auto client = std::make_unique<rpc::RpcClient>();
        rpc::Endpoint e;
        e.host = QStringLiteral("127.0.0.1");
        e.port = m_service->staffPort();
        e.ca = m_ca;
        QString error;
        if (!client->openBlocking(e, 10000, &error))
            qWarning("connect: %s", qPrintable(error));
        const Outcome o = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}});
        if (!rpc::succeeded(o))
            qWarning("login: %s", qPrintable(describe(o)));
        return client;
    }

    qint64 queryInt(const QString &sql)
    {
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        store::SqlError error;
        const qint64 n = reader->queryInt(sql, &error);
        if (!error.ok())
            qWarning("%s: %s", qPrintable(sql), qPrintable(error.toString()));
        return n;
    }

    QString queryText(const QString &sql)
    {
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        store::Statement s = reader->prepare(sql);
        return s.step() == store::Statement::Step::Row ? s.text(0) : QStringLiteral("<no row>");
    }

    // Row counts of every table an import writes, and of its audit rows.
    QMap<QString, qint64> counts()
    {
        QMap<QString, qint64> c;
        for (const QString &table : {QStringLiteral("buildings"), QStringLiteral("gateways"), QStringLiteral("buses"),
                 QStringLiteral("meters"), QStringLiteral("metering_points"), QStringLiteral("meter_installations"),
                 QStringLiteral("billing_state")})
            c.insert(table, queryInt(QStringLiteral("SELECT count(*) FROM ") + table));
        // Every prepayctl run logs in and out (audited); only the imports' rows matter here.
        c.insert(QStringLiteral("audit_log import.csv"),
            queryInt(QStringLiteral("SELECT count(*) FROM audit_log WHERE action = 'import.csv'")));
        return c;
    }

    void importBase()
    {
        Ran r = importFile(QStringLiteral("buildings"), buildingsCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        r = importFile(QStringLiteral("gateways"), gatewaysCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        m_store = std::move(opened.store);
        startService();
        m_passwordFile = writeFile(QStringLiteral("password"), adminPassword.toUtf8() + "\n");
    }

    void cleanup()
    {
        m_service.reset();
        m_biller.reset();
        m_store->stop();
        m_store.reset();
        m_dir.reset();
    }

    // ---- the CSV reader on its own

    void csvQuotesCommasAndLineBreaks()
    {
        const catalog::CsvParse p = parseCsv(QStringLiteral("a,b,c\r\n"
                                                            "1,\"two, with comma\",\"say \"\"hi\"\"\"\r\n"
                                                            "\"multi\r\nline\nfield\",,\"\"\r\n"
                                                            "x,y,z")); // no final line break
        QVERIFY2(p.ok(), qPrintable(p.problems.value(0).message));
        QCOMPARE(p.table.header, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
        QCOMPARE(p.table.records.size(), 3);
        QCOMPARE(p.table.records.at(0).fields,
            (QStringList{QStringLiteral("1"), QStringLiteral("two, with comma"), QStringLiteral("say \"hi\"")}));
        QCOMPARE(p.table.records.at(1).fields.at(0), QStringLiteral("multi\r\nline\nfield"));
        QCOMPARE(p.table.records.at(1).fields.at(1), QString());
        QCOMPARE(p.table.records.at(1).fields.at(2), QString());
        // Line numbers as an editor shows them: the quoted line breaks count.
        QCOMPARE(p.table.records.at(0).line, 2);
        QCOMPARE(p.table.records.at(1).line, 3);
        QCOMPARE(p.table.records.at(2).line, 6);
    }

    void csvBomBlankLinesAndLf()
    {
        const catalog::CsvParse p = parseCsv(QStringLiteral("\uFEFFcode,name\n\nA,甲\n\r\nB,乙\n\n"));
        QVERIFY(p.ok());
        QCOMPARE(p.table.header.at(0), QStringLiteral("code")); // not "\uFEFFcode"
        QCOMPARE(p.table.records.size(), 2);
        QCOMPARE(p.table.records.at(1).fields.at(1), QStringLiteral("乙"));
        QCOMPARE(p.table.records.at(1).line, 5);
    }

    void csvRefusesRaggedAndBrokenQuoting()
    {
        const catalog::CsvParse p = parseCsv(QStringLiteral("a,b,c\n"
                                                            "1,2\n"        // line 2: too few
                                                            "1,2,3,4\n"    // line 3: too many
                                                            "1,x\"y,3\n"   // line 4: quote inside an unquoted field
                                                            "\"1\"x,2,3\n" // line 5: text after the closing quote
                                                            "1,2\r3\n"     // line 6: a lone CR
                                                            "ok,ok,ok\n"   // line 7: fine
                                                            "\"never closed,2,3\n"));
        QCOMPARE(p.table.records.size(), 1);
        QCOMPARE(p.table.records.at(0).line, 7);
        QList<int> lines;
        for (const catalog::CsvProblem &problem : p.problems)
            lines << problem.line;
        QCOMPARE(lines, (QList<int>{2, 3, 4, 5, 6, 8}));
        QVERIFY(p.problems.at(0).message.contains(QStringLiteral("2 fields where the header has 3")));
        QVERIFY(p.problems.last().message.contains(QStringLiteral("closing quote is missing")));
        QVERIFY(!parseCsv(QString()).ok());
    }

    void csvWriterReadsBack()
    {
        const QStringList cells{QStringLiteral("plain"), QStringLiteral("a,b"), QStringLiteral("say \"x\""),
            QStringLiteral("two\r\nlines"), QStringLiteral(" padded "), QString(), QStringLiteral("=1+1"),
            QStringLiteral("商会")};
        const QString text = catalog::csvRecord(cells) + catalog::csvRecord(cells);
        QVERIFY(text.endsWith(QStringLiteral("\r\n")));
        const catalog::CsvParse p = parseCsv(text);
        QVERIFY(p.ok());
        QCOMPARE(p.table.header, cells);
        QCOMPARE(p.table.records.at(0).fields, cells);
    }

    void utf8IsRequired()
    {
        QString error;
        QVERIFY(catalog::decodeUtf8(QByteArray("code,name\nA,\xBC\xD7\n"), &error) == std::nullopt); // GBK 甲
        QVERIFY(error.contains(QStringLiteral("UTF-8")));
        QCOMPARE(*catalog::decodeUtf8(QStringLiteral("A,甲").toUtf8(), &error), QStringLiteral("A,甲"));
    }

    // ---- prepayctl admin setup / whoami and the failure classes

    void setupWhoamiAndExitCodes()
    {
        createAdmin();
        // The setup code is single use: a second administrator is refused by prepayd.
        Ran again = prepayctl({QStringLiteral("admin"), QStringLiteral("setup"), QStringLiteral("--server"), server(),
            QStringLiteral("--ca"), m_service->caCertPath(), QStringLiteral("--code"), m_setupCode,
            QStringLiteral("--login"), QStringLiteral("root2"), QStringLiteral("--name"), QStringLiteral("x"),
            QStringLiteral("--password-file"), m_passwordFile});
        QCOMPARE(again.rc, 2);
        QVERIFY2(again.err.contains(QStringLiteral("forbidden")), qPrintable(again.err));

        Ran who = admin({QStringLiteral("whoami")});
        QVERIFY2(who.rc == 0, qPrintable(who.err));
        QCOMPARE(who.out, QStringLiteral("root (admin, 管理员)\n"));
        who = admin({QStringLiteral("whoami"), QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(who.out.toUtf8()).object().value(QLatin1String("principal")).toString(),
            QStringLiteral("admin"));

        // The password from the environment when no file is given.
        qputenv("PREPAY_PASSWORD", adminPassword.toUtf8());
        who = prepayctl({QStringLiteral("admin"), QStringLiteral("whoami"), QStringLiteral("--server"), server(),
            QStringLiteral("--ca"), m_service->caCertPath(), QStringLiteral("--login"), QStringLiteral("root")});
        qunsetenv("PREPAY_PASSWORD");
        QVERIFY2(who.rc == 0, qPrintable(who.err));

        // 4: a wrong password.
        const QString wrong = writeFile(QStringLiteral("wrong"), "not the password\n");
        Ran r = prepayctl({QStringLiteral("admin"), QStringLiteral("whoami"), QStringLiteral("--server"), server(),
            QStringLiteral("--ca"), m_service->caCertPath(), QStringLiteral("--login"), QStringLiteral("root"),
            QStringLiteral("--password-file"), wrong});
        QCOMPARE(r.rc, 4);
        // 3: nobody listening; and a CA that did not sign prepayd's certificate (TLS refused).
        r = prepayctl({QStringLiteral("admin"), QStringLiteral("whoami"), QStringLiteral("--server"),
            QStringLiteral("127.0.0.1:%1").arg(test::freeLoopbackPort()), QStringLiteral("--ca"), m_service->caCertPath(),
            QStringLiteral("--login"), QStringLiteral("root"), QStringLiteral("--password-file"), m_passwordFile});
        QCOMPARE(r.rc, 3);
        QTemporaryDir other;
        QString error;
        const std::optional<pki::BuildingPki> otherPki = pki::ensureBuildingPki(other.filePath(QStringLiteral("pki")),
            QStringLiteral("other"), {QStringLiteral("127.0.0.1")}, m_clock.wallMs(), &error);
        QVERIFY2(otherPki, qPrintable(error));
        r = prepayctl({QStringLiteral("admin"), QStringLiteral("whoami"), QStringLiteral("--server"), server(),
            QStringLiteral("--ca"), otherPki->caCertPath, QStringLiteral("--login"), QStringLiteral("root"),
            QStringLiteral("--password-file"), m_passwordFile});
        QCOMPARE(r.rc, 3);
        QVERIFY2(r.err.contains(QStringLiteral("TLS")), qPrintable(r.err));
        // 64: no --ca; 66: a CA file that is not there.
        r = prepayctl(
            {QStringLiteral("admin"), QStringLiteral("whoami"), QStringLiteral("--login"), QStringLiteral("root")});
        QCOMPARE(r.rc, 64);
        r = prepayctl({QStringLiteral("admin"), QStringLiteral("whoami"), QStringLiteral("--ca"),
            m_dir->filePath(QStringLiteral("missing.crt")), QStringLiteral("--login"), QStringLiteral("root")});
        QCOMPARE(r.rc, 66);
        // 2: prepayd refuses (a second setup: an administrator exists already).
        r = prepayctl({QStringLiteral("admin"), QStringLiteral("setup"), QStringLiteral("--server"), server(),
            QStringLiteral("--ca"), m_service->caCertPath(), QStringLiteral("--code"), m_setupCode,
            QStringLiteral("--login"), QStringLiteral("root2"), QStringLiteral("--name"), QStringLiteral("x"),
            QStringLiteral("--password-file"), m_passwordFile});
        QCOMPARE(r.rc, 2);
        QVERIFY2(r.err.contains(QStringLiteral("administrator exists")), qPrintable(r.err));
        // 64: amounts are parsed strictly before anything is sent.
        r = admin({QStringLiteral("recharge"), QStringLiteral("--shop"), QStringLiteral("A-1F-101"),
            QStringLiteral("--amount"), QStringLiteral("1,000.00")});
        QCOMPARE(r.rc, 64);
        QVERIFY2(r.err.contains(QStringLiteral("--amount")), qPrintable(r.err));
    }

    // ---- the staff's money commands against the real handlers: open, cash top-up (once per
    // key), a refund that waits for a second person, the approval queue and the decision

    void moneyAndApprovalCommandsEndToEnd()
    {
        // The demo building with its balances taken over, and billing running as in prepayd.
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        const qint64 nowMs = m_clock.wallMs();
        QVERIFY(m_store->write([nowMs](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, nowMs); }).get().committed());
        auto book = std::make_shared<billing::TariffBook>();
        {
            std::unique_ptr<store::Connection> reader = m_store->openReader();
            QString error;
            QVERIFY2(billing::TariffBook::load(*reader, book.get(), &error), qPrintable(error));
        }
        startService(book);
        if (QTest::currentTestFailed())
            return;
        createAdmin();
        // A second person (an operator) for the maker-checker steps.
        {
            auto root = rootClient();
            QVERIFY(rpc::succeeded(root->callBlocking(QStringLiteral("operator.create"),
                {{QStringLiteral("login"), QStringLiteral("clerk")}, {QStringLiteral("display_name"), QStringLiteral("柜员")},
                    {QStringLiteral("role"), QStringLiteral("operator")}, {QStringLiteral("password"), QStringLiteral("first password 1")}})));
        }
        rpc::RpcClient clerk;
        rpc::Endpoint e;
        e.host = QStringLiteral("127.0.0.1");
        e.port = m_service->staffPort();
        e.ca = m_ca;
        QString error;
        QVERIFY2(clerk.openBlocking(e, 10000, &error), qPrintable(error));
        QVERIFY(rpc::succeeded(clerk.callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("clerk")}, {QStringLiteral("password"), QStringLiteral("first password 1")}})));
        QVERIFY(rpc::succeeded(clerk.callBlocking(QStringLiteral("session.change_password"),
            {{QStringLiteral("old_password"), QStringLiteral("first password 1")}, {QStringLiteral("new_password"), QStringLiteral("clerk password 22")}})));
        const QString clerkPassword = writeFile(QStringLiteral("clerk-password"), "clerk password 22\n");

        // Open an unopened shop.
        Ran r = admin({QStringLiteral("account"), QStringLiteral("open"), QStringLiteral("--shop"), QStringLiteral("A-4F-405"),
            QStringLiteral("--name"), QStringLiteral("新开小店"), QStringLiteral("--points"), QStringLiteral("A-4F-405"),
            QStringLiteral("--tariff"), QStringLiteral("TOU-COM"), QStringLiteral("--phone"), QStringLiteral("+8613800000000")});
        QVERIFY2(r.rc == 0 && r.out.contains(QStringLiteral("A-4F-405")), qPrintable(r.out + r.err));
        QCOMPARE(queryText(QStringLiteral("SELECT status FROM accounts WHERE shop_no = 'A-4F-405'")), QStringLiteral("open"));

        // A cash top-up: the wallet grows by exactly the amount, once per key.
        const qint64 before = queryInt(QStringLiteral(
            "SELECT la.balance_fen FROM ledger_accounts la JOIN accounts a ON a.id = la.account_id WHERE a.shop_no = 'A-1F-101'"));
        r = admin({QStringLiteral("recharge"), QStringLiteral("--shop"), QStringLiteral("A-1F-101"), QStringLiteral("--amount"),
            QStringLiteral("100.50"), QStringLiteral("--key"), QStringLiteral("counter-test-1")});
        QVERIFY2(r.rc == 0 && r.out.contains(QStringLiteral("CSH")), qPrintable(r.out + r.err));
        r = admin({QStringLiteral("recharge"), QStringLiteral("--shop"), QStringLiteral("A-1F-101"), QStringLiteral("--amount"),
            QStringLiteral("100.50"), QStringLiteral("--key"), QStringLiteral("counter-test-1")});
        QVERIFY2(r.rc == 0, qPrintable(r.out + r.err));
        QCOMPARE(queryInt(QStringLiteral(
                     "SELECT la.balance_fen FROM ledger_accounts la JOIN accounts a ON a.id = la.account_id WHERE a.shop_no = 'A-1F-101'")),
            before + 10050);
        // The contract refuses what the client would let through (below 1.00): exit 2, the field named.
        r = admin({QStringLiteral("recharge"), QStringLiteral("--shop"), QStringLiteral("A-1F-101"), QStringLiteral("--amount"),
            QStringLiteral("0.50")});
        QCOMPARE(r.rc, 2);
        QVERIFY2(r.err.contains(QStringLiteral("amount_fen")), qPrintable(r.err));

        // The clerk closes a shop with a large balance: the refund waits for root.
        r = admin({QStringLiteral("account"), QStringLiteral("close"), QStringLiteral("--shop"), QStringLiteral("B1-001"),
                      QStringLiteral("--settle"), QStringLiteral("refund-cash"), QStringLiteral("--reason"), QStringLiteral("租约到期")},
            QStringLiteral("clerk"), clerkPassword);
        QVERIFY2(r.rc == 0 && r.out.contains(QStringLiteral("request #")), qPrintable(r.out + r.err));
        const QString id = r.out.section(QStringLiteral("request #"), 1).section(QRegularExpression(QStringLiteral("[^0-9]")), 0, 0);
        QCOMPARE(queryText(QStringLiteral("SELECT status FROM accounts WHERE shop_no = 'B1-001'")), QStringLiteral("open"));
        r = admin({QStringLiteral("approve"), id}, QStringLiteral("clerk"), clerkPassword);
        QCOMPARE(r.rc, 2); // not one's own
        r = admin({QStringLiteral("approvals")});
        QVERIFY2(r.rc == 0 && r.out.contains(QStringLiteral("#") + id) && r.out.contains(QStringLiteral("clerk")), qPrintable(r.out + r.err));
        r = admin({QStringLiteral("approve"), id, QStringLiteral("--note"), QStringLiteral("核对无误")});
        QVERIFY2(r.rc == 0, qPrintable(r.out + r.err));
        QCOMPARE(queryText(QStringLiteral("SELECT status FROM accounts WHERE shop_no = 'B1-001'")), QStringLiteral("closed"));
        r = admin({QStringLiteral("approve"), id});
        QCOMPARE(r.rc, 2); // carried out once
    }

    // ---- each kind

    void importEachKind()
    {
        createAdmin();
        const qint64 auditBefore = queryInt(QStringLiteral("SELECT count(*) FROM audit_log"));
        Ran r = importFile(QStringLiteral("buildings"), buildingsCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("2 buildings imported")), qPrintable(r.out));
        QCOMPARE(queryInt(QStringLiteral("SELECT poll_interval_ms FROM buildings WHERE code = 'C'")), 900000);
        QCOMPARE(queryInt(QStringLiteral(
                     "SELECT alarm1_threshold_fen + alarm2_threshold_fen FROM buildings WHERE code = 'C'")),
            14000);
        QCOMPARE(queryText(QStringLiteral("SELECT name FROM buildings WHERE code = 'D'")), QStringLiteral("D座, 东区"));
        QCOMPARE(queryInt(QStringLiteral("SELECT overdraft_limit_fen FROM buildings WHERE code = 'D'")), 5000);

        r = importFile(QStringLiteral("gateways"), gatewaysCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("restart")), qPrintable(r.out));
        QCOMPARE(queryInt(QStringLiteral("SELECT port FROM gateways WHERE name = 'C座通讯管理机'")), 502);
        QCOMPARE(
            queryText(QStringLiteral(
                "SELECT group_concat(name || ':' || port_index || ':' || coalesce(tcp_port, '-') || ':' || baud || "
                "parity || stop_bits || ':' || response_timeout_ms, ' ') FROM (SELECT * FROM buses ORDER BY name)")),
            QStringLiteral("C-COM1:1:-:19200none2:800 C-COM3:3:4003:19200none2:800 D-COM1:1:-:9600even1:500"));

        r = importFile(QStringLiteral("meters"), metersCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("restart it to poll the new meters")), qPrintable(r.out));
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM meters WHERE state = 'installed'")), 3);
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM billing_state")), 3);
        QCOMPARE(queryText(QStringLiteral(
                     "SELECT mp.code || ' ' || m.serial_number || ' ' || b.name || '/' || m.unit_id || ' ' || "
                     "m.rated_current_ma || '-' || m.max_current_ma || ' ' || mi.initial_energy_wh || ' ' || "
                     "mi.initial_balance_fen || ' ' || mp.description || ' ' || o.login "
                     "FROM meters m JOIN meter_installations mi ON mi.meter_id = m.id "
                     "JOIN metering_points mp ON mp.id = mi.metering_point_id JOIN buses b ON b.id = m.bus_id "
                     "JOIN operators o ON o.id = mi.installed_by WHERE m.serial_number = 31000001")),
            QStringLiteral("C-1F-101 31000001 C-COM1/1 10000-60000 123450 20000 临街商铺 root"));
        QCOMPARE(queryText(QStringLiteral("SELECT device_type || ' ' || rated_current_ma || '-' || max_current_ma "
                                          "FROM meters WHERE serial_number = 31000002")),
            QStringLiteral("three_phase 1500-6000"));
        QCOMPARE(queryInt(QStringLiteral("SELECT has_tou_registers FROM meters WHERE serial_number = 31000003")), 0);
        QCOMPARE(queryInt(QStringLiteral("SELECT floor FROM metering_points WHERE code = 'C-B1-001'")), -1);

        // What prepayd would poll after a restart.
        std::unique_ptr<store::Connection> reader = m_store->openReader();
        poller::PollPlan plan;
        QString error;
        QVERIFY2(poller::loadPollPlan(*reader, &plan, &error), qPrintable(error));
        QCOMPARE(plan.meterCount(), 3);

        // One audit row per import, with the counts and the text's hash, never the text.
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM audit_log WHERE action = 'import.csv'")), 3);
        const QJsonObject after = QJsonDocument::fromJson(
            queryText(QStringLiteral(
                          "SELECT after_json FROM audit_log WHERE action = 'import.csv' AND subject_id = 'meters'"))
                .toUtf8())
                                      .object();
        QCOMPARE(after.value(QLatin1String("counts")).toObject().value(QLatin1String("meters")).toInteger(), 3);
        QCOMPARE(after.value(QLatin1String("csv_sha256")).toString().size(), 64);
        QVERIFY(!queryText(QStringLiteral("SELECT after_json FROM audit_log WHERE subject_id = 'meters'"))
                     .contains(QStringLiteral("DDSY1352-NK")));
        QVERIFY(queryInt(QStringLiteral("SELECT count(*) FROM audit_log")) > auditBefore + 3); // logins too

        // The imported values come back out of the export in the same columns.
        const QString out = m_dir->filePath(QStringLiteral("meters-out.csv"));
        r = admin({QStringLiteral("export"), QStringLiteral("meters"), QStringLiteral("--out"), out});
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const catalog::CsvParse exported = parseCsv(QString::fromUtf8(f.readAll()));
        QVERIFY(exported.ok());
        const catalog::CsvParse original = parseCsv(metersCsv);
        QCOMPARE(exported.table.header.mid(0, original.table.header.size()), original.table.header);
        QCOMPARE(exported.table.records.size(), 3);
        const QStringList row = exported.table.records.at(0).fields; // ordered by point: C-1F-101 first
        QCOMPARE(row.mid(0, 19),
            (QStringList{QStringLiteral("C-1F-101"), QStringLiteral("C"), QStringLiteral("1"), QStringLiteral("101"),
                QString(), QStringLiteral("临街商铺"), QStringLiteral("31000001"), QStringLiteral("DDSY1352-NK"),
                QStringLiteral("single_phase"), QStringLiteral("prepaid"), QStringLiteral("1"), QStringLiteral("10"),
                QStringLiteral("60"), QStringLiteral("C-COM1"), QStringLiteral("1"), QStringLiteral("123.45"),
                QStringLiteral("200.00"), QStringLiteral("1"), QStringLiteral("200.00")}));
        QCOMPARE(row.at(19), QStringLiteral("installed"));
        // --out never overwrites.
        r = admin({QStringLiteral("export"), QStringLiteral("meters"), QStringLiteral("--out"), out});
        QCOMPARE(r.rc, 73);
    }

    // ---- refusals: every bad row, nothing written

    void badRowsAreAllReportedAndNothingIsWritten()
    {
        createAdmin();
        importBase();
        const QMap<QString, qint64> before = counts();
        const QString header = QStringLiteral(
            "point,building,floor,serial,model,device_type,capability,rated_current_a,max_current_a,bus,unit\n");
        const QString bad = header
            + QStringLiteral(
                "C-2F-201,C,0,31000010,M,single_phase,prepaid,10,60,C-COM1,10\n"             // 2: floor
                "C-2F-202,X,2,31000011,M,single_phase,prepaid,10,60,C-COM1,11\n"             // 3: building
                "\"C-2F\n-203\",C,2,31000012,M,single_phase,prepaid,10,60,C-COM1,12\n"       // 4: point (line break)
                "C-2F-204,C,2,abc,M,single_phase,prepaid,10,60,C-COM1,13\n"                  // 6: serial
                "C-2F-205,C,2,31000014,M,four_phase,prepaid,10,60,NOBUS,300\n"               // 7: three columns
                "C-2F-206,C,2,31000015,M,single_phase,prepaid,60,10,C-COM1,14\n"             // 8: max < rated
                "C-2F-207,C,2,31000016,M,single_phase,prepaid,10,60,C-COM1,15\n"             // 9: fine
                "C-2F-208,C,2,31000017,M,single_phase,prepaid,10,60,C-COM1,15\n"             // 10: unit of line 9
                "C-2F-209,C,2,31000018,M,single_phase,remote_only,10,60,C-COM1,16,extra\n"); // 11: ragged

        // Straight through the API: the error's data names every row and column.
        auto client = rootClient();
        const Outcome o = client->callBlocking(QStringLiteral("import.csv"),
            {{QStringLiteral("kind"), QStringLiteral("meters")}, {QStringLiteral("csv"), bad}});
        QVERIFY(!rpc::succeeded(o));
        const rpc::Error &e = std::get<rpc::Error>(o);
        QCOMPARE(e.code, ErrorCode::InvalidParams);
        QVERIFY2(e.message.contains(QStringLiteral("nothing was imported")), qPrintable(e.message));
        QSet<QString> found;
        for (const QJsonValue &v : e.data.value(QLatin1String("rows")).toArray()) {
            const QJsonObject row = v.toObject();
            found.insert(QStringLiteral("%1:%2")
                             .arg(row.value(QLatin1String("line")).toInteger())
                             .arg(row.value(QLatin1String("column")).toString()));
            QVERIFY(!row.value(QLatin1String("message")).toString().isEmpty());
        }
        const QSet<QString> expected{QStringLiteral("2:floor"), QStringLiteral("3:building"), QStringLiteral("3:point"),
            QStringLiteral("4:point"), QStringLiteral("6:serial"), QStringLiteral("7:device_type"),
            QStringLiteral("7:bus"), QStringLiteral("7:unit"), QStringLiteral("8:max_current_a"),
            QStringLiteral("10:unit"), QStringLiteral("11:")};
        QCOMPARE(found, expected);
        QCOMPARE(counts(), before);

        // The same file through prepayctl: exit 1, one line per problem.
        const Ran r = importFile(QStringLiteral("meters"), bad);
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("line 2, column floor: there is no floor 0")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("line 10, column unit: unit 15 on this gateway's shared port")),
            qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("line 11: 12 fields where the header has 11")), qPrintable(r.err));
        QCOMPARE(r.err.count(QStringLiteral(": line ")), 11);
        QCOMPARE(counts(), before);

        // A header that is wrong stops before the rows: unknown, twice, or a required one missing.
        const Ran h = importFile(QStringLiteral("buildings"), QStringLiteral("code,nmae,code\nE,x,E\n"));
        QCOMPARE(h.rc, 1);
        QVERIFY2(h.err.contains(QStringLiteral("column nmae: unknown column")), qPrintable(h.err));
        QVERIFY2(h.err.contains(QStringLiteral("column code: appears twice")), qPrintable(h.err));
        QVERIFY2(h.err.contains(QStringLiteral("column name: required column missing")), qPrintable(h.err));
        QCOMPARE(counts(), before);
    }

    void dryRunWritesNothing()
    {
        createAdmin();
        importBase();
        const QMap<QString, qint64> before = counts();
        Ran r = importFile(QStringLiteral("meters"), metersCsv, {QStringLiteral("--dry-run")});
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains(QStringLiteral("3 rows are valid; nothing was imported (dry run)")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QStringLiteral("meters: 3")), qPrintable(r.out)); // what it would insert
        QCOMPARE(counts(), before);
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM audit_log WHERE action = 'import.csv'")), 2);

        // A dry run of a bad file reports like a real one.
        r = importFile(QStringLiteral("meters"),
            metersHeader + QStringLiteral("C-9F-901,C,9,,,,0,M,single_phase,prepaid,,10,60,C-COM1,1,,,,\n"),
            {QStringLiteral("--dry-run")});
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("line 2, column serial")), qPrintable(r.err));

        // And the real import of the checked file then works.
        r = importFile(QStringLiteral("meters"), metersCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
    }

    void duplicatesInTheFileAndInTheDatabase()
    {
        createAdmin();
        importBase();
        // Importing the same buildings again: each code exists already.
        Ran r = importFile(QStringLiteral("buildings"), buildingsCsv);
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("line 2, column code: building 'C' exists already")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("line 3, column code: building 'D' exists already")), qPrintable(r.err));
        // Twice in one file (case does not make a new building).
        r = importFile(QStringLiteral("buildings"), QStringLiteral("code,name\nE,一\ne,二\n"));
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("line 3, column code: 'e' is on line 2 already")), qPrintable(r.err));
        // Gateways: the same name, the same host:port, a bus name taken.
        r = importFile(QStringLiteral("gateways"),
            QStringLiteral("building,name,host,port,buses\n"
                           "C,新网关,192.0.2.10,502,X-COM1\n"
                           "C,C座通讯管理机,192.0.2.11,502,C-COM1\n"
                           "C,另一网关,192.0.2.12,502,X-COM1;X-COM2\n"));
        QCOMPARE(r.rc, 1);
        QVERIFY2(
            r.err.contains(QStringLiteral("line 2, column host: 192.0.2.10:502 is gateway 'C座通讯管理机' already")),
            qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("line 3, column name: gateway 'C座通讯管理机' exists already")),
            qPrintable(r.err));
        QVERIFY2(
            r.err.contains(QStringLiteral("line 3, column buses: bus 'C-COM1' exists already")), qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("line 4, column buses: bus 'X-COM1' is on line 2 already")),
            qPrintable(r.err));
        // Meters: a serial, a point and a unit twice in the file, then against the database.
        r = importFile(QStringLiteral("meters"), metersCsv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        const QMap<QString, qint64> before = counts();
        r = importFile(QStringLiteral("meters"),
            metersHeader
                + QStringLiteral("C-2F-201,C,2,,,,31000020,M,single_phase,prepaid,,10,60,C-COM3,5,,,,\n"
                                 "C-2F-201,C,2,,,,31000020,M,single_phase,prepaid,,10,60,C-COM3,5,,,,\n"
                                 "C-1F-101,C,1,,,,31000001,M,single_phase,prepaid,,10,60,C-COM1,2,,,,\n"));
        QCOMPARE(r.rc, 1);
        for (const QString &expected : {QStringLiteral("line 3, column point: 'C-2F-201' is on line 2 already"),
                 QStringLiteral("line 3, column serial: 31000020 is on line 2 already"),
                 QStringLiteral("line 3, column unit: unit 5 on this bus is on line 2 already"),
                 QStringLiteral("line 4, column point: metering point 'C-1F-101' exists already"),
                 QStringLiteral("line 4, column serial: meter 31000001 exists already (installed)"),
                 QStringLiteral("line 4, column unit: unit 2 on this gateway's shared port (the gateway routes by unit "
                                "id) is meter 31000002 on bus C-COM1 already")})
            QVERIFY2(r.err.contains(expected), qPrintable(expected + QStringLiteral("\n---\n") + r.err));
        QCOMPARE(counts(), before);
    }

    void hostileStringsAreStoredVerbatimOrRefused()
    {
        createAdmin();
        importBase();
        const QString bobby = QStringLiteral("Robert'); DROP TABLE buildings;--");
        const QString union_ = QStringLiteral("x' UNION SELECT login FROM operators --");
        const QString formula = QStringLiteral("=HYPERLINK(\"http://evil\",\"x\")");
        QString csv = QStringLiteral("code,name\n") + QStringLiteral("H,") + catalog::csvField(bobby)
            + QLatin1Char('\n') + QStringLiteral("J,") + catalog::csvField(union_) + QLatin1Char('\n');
        Ran r = importFile(QStringLiteral("buildings"), csv);
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QCOMPARE(queryText(QStringLiteral("SELECT name FROM buildings WHERE code = 'H'")), bobby);
        QCOMPARE(queryText(QStringLiteral("SELECT name FROM buildings WHERE code = 'J'")), union_);
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM buildings")), 4);

        // Where a pattern applies, the same strings are refused, not executed.
        const QMap<QString, qint64> before = counts();
        csv = QStringLiteral("code,name\n\"K'; DROP TABLE meters;--\",x\nL,\"bell\a\"\n");
        r = importFile(QStringLiteral("buildings"), csv);
        QCOMPARE(r.rc, 1); // refused by prepayctl before sending: the API takes no BEL
        QVERIFY2(r.err.contains(QStringLiteral("line 3: a control character")), qPrintable(r.err));
        csv = QStringLiteral("code,name\n\"K'; DROP TABLE meters;--\",x\n");
        r = importFile(QStringLiteral("buildings"), csv);
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("line 2, column code")), qPrintable(r.err));
        // A line break inside a quoted name reaches prepayd, which names the cell.
        r = importFile(QStringLiteral("buildings"), QStringLiteral("code,name\nL,\"two\nlines\"\n"));
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("line 2, column name: contains a line break or another control")),
            qPrintable(r.err));
        r = importFile(QStringLiteral("gateways"),
            QStringLiteral("building,name,host,buses\nC,g,\"127.0.0.1; rm -rf /\",\"Z-1'--\"\n"));
        QCOMPARE(r.rc, 1);
        QVERIFY2(r.err.contains(QStringLiteral("column host: '127.0.0.1; rm -rf /' is not an IP address")),
            qPrintable(r.err));
        QVERIFY2(r.err.contains(QStringLiteral("column buses: 'Z-1'--' is not a bus name")), qPrintable(r.err));
        QCOMPARE(counts(), before);

        // A meter's description holds anything printable, and comes back out verbatim.
        const QString description = formula + QStringLiteral("; ' OR '1'='1");
        r = importFile(QStringLiteral("meters"),
            metersHeader + QStringLiteral("H-1F-101,H,1,,,") + catalog::csvField(description)
                + QStringLiteral(",31000099,M,single_phase,prepaid,,10,60,D-COM1,9,,,,\n"));
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QCOMPARE(
            queryText(QStringLiteral("SELECT description FROM metering_points WHERE code = 'H-1F-101'")), description);
        r = admin({QStringLiteral("export"), QStringLiteral("meters")});
        QCOMPARE(r.rc, 0);
        const catalog::CsvParse exported = parseCsv(r.out);
        QVERIFY(exported.ok());
        QCOMPARE(exported.table.records.size(), 1);
        QCOMPARE(exported.table.records.at(0).fields.at(5), description);
        QCOMPARE(queryText(QStringLiteral("SELECT count(*) FROM sqlite_schema WHERE name IN ('buildings', 'meters')")),
            QStringLiteral("2"));
    }

    // ---- the poll-plan guard: a file prepayd could not poll is refused as a whole

    void fileThatWouldStopPrepaydIsRefused()
    {
        createAdmin();
        importBase(); // 3 buses
        QString csv = QStringLiteral("building,name,host,port,buses\n");
        for (int g = 0; g < 3; ++g) {
            QStringList buses;
            for (int b = 1; b <= 21; ++b)
                buses << QStringLiteral("G%1-COM%2").arg(g).arg(b);
            csv += QStringLiteral("C,网关%1,192.0.2.%2,502,%3\n").arg(g).arg(100 + g).arg(buses.join(QLatin1Char(';')));
        }
        const QMap<QString, qint64> before = counts();
        const Ran r = importFile(QStringLiteral("gateways"), csv); // 3 + 63 buses: one prepayd polls at most 64
        QCOMPARE(r.rc, 1);
        QVERIFY2(
            r.err.contains(QStringLiteral("the file: with these rows prepayd could not load its poll plan: 66 buses")),
            qPrintable(r.err));
        QCOMPARE(counts(), before);
    }

    // ---- exports of the demo building

    void exportsOfTheDemoBuilding()
    {
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        const qint64 before = m_clock.wallMs();
        const auto taken
            = m_store
                  ->write([&](store::Transaction &tx) { return accounts::takeOverMeterBalances(tx, m_clock.wallMs()); })
                  .get();
        QVERIFY(taken.committed());
        createAdmin();

        // Meters: the CSV parses and names every meter.
        Ran r = admin({QStringLiteral("export"), QStringLiteral("meters")});
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        catalog::CsvParse p = parseCsv(r.out);
        QVERIFY(p.ok());
        const qsizetype serialColumn = p.table.header.indexOf(QStringLiteral("serial"));
        QVERIFY(serialColumn >= 0);
        QSet<QString> exported;
        for (const catalog::CsvRecord &rec : std::as_const(p.table.records))
            exported.insert(rec.fields.at(serialColumn));
        QSet<QString> inDatabase;
        {
            std::unique_ptr<store::Connection> reader = m_store->openReader();
            store::Statement s = reader->prepare(QStringLiteral("SELECT serial_number FROM meters"));
            while (s.step() == store::Statement::Step::Row)
                inDatabase.insert(QString::number(s.int64(0)));
        }
        QCOMPARE(inDatabase.size(), 300);
        QCOMPARE(exported, inDatabase);
        QCOMPARE(p.table.records.size(), 300);

        // Accounts, with a BOM for spreadsheets, through --json.
        r = admin({QStringLiteral("export"), QStringLiteral("accounts"), QStringLiteral("--json")});
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        const QJsonObject json = QJsonDocument::fromJson(r.out.toUtf8()).object();
        p = parseCsv(json.value(QLatin1String("csv")).toString());
        QVERIFY(p.ok());
        QCOMPARE(p.table.records.size(), queryInt(QStringLiteral("SELECT count(*) FROM accounts")));
        QCOMPARE(json.value(QLatin1String("rows")).toInteger(), p.table.records.size());
        QVERIFY(p.table.header.contains(QStringLiteral("balance_yuan")));

        // The ledger of a period: the takeover's credits, two postings each, summing to zero.
        const QString from = QDateTime::fromMSecsSinceEpoch(before - 1000, Qt::UTC).toString(Qt::ISODate);
        const QString to = QDateTime::fromMSecsSinceEpoch(m_clock.wallMs() + 60'000, Qt::UTC).toString(Qt::ISODate);
        const QString out = m_dir->filePath(QStringLiteral("ledger.csv"));
        r = admin({QStringLiteral("export"), QStringLiteral("ledger"), QStringLiteral("--from"), from,
            QStringLiteral("--to"), to, QStringLiteral("--out"), out, QStringLiteral("--bom")});
        QVERIFY2(r.rc == 0, qPrintable(r.err));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY(bytes.startsWith("\xEF\xBB\xBF"));
        p = parseCsv(QString::fromUtf8(bytes));
        QVERIFY(p.ok());
        const qint64 entries = queryInt(QStringLiteral("SELECT count(*) FROM ledger_entries"));
        QVERIFY(entries > 0);
        QCOMPARE(p.table.records.size(), 2 * entries);
        const qsizetype amount = p.table.header.indexOf(QStringLiteral("amount_yuan"));
        qint64 sumFen = 0;
        for (const catalog::CsvRecord &rec : std::as_const(p.table.records)) {
            const QString text = rec.fields.at(amount);
            const Parsed<Money> m = Money::parse(text.startsWith(QLatin1Char('-')) ? text.mid(1) : text);
            QVERIFY2(m.ok(), qPrintable(text));
            sumFen += text.startsWith(QLatin1Char('-')) ? -m.value.fen() : m.value.fen();
        }
        QCOMPARE(sumFen, 0);
        // A period before any entry is empty; --from after --to is refused by prepayd; dates
        // without an offset are refused before anything is sent.
        r = admin(
            {QStringLiteral("export"), QStringLiteral("ledger"), QStringLiteral("--to"), QStringLiteral("2020-01-01")});
        QCOMPARE(r.rc, 0);
        QCOMPARE(parseCsv(r.out).table.records.size(), 0);
        r = admin({QStringLiteral("export"), QStringLiteral("ledger"), QStringLiteral("--from"), to,
            QStringLiteral("--to"), from});
        QCOMPARE(r.rc, 2);
        r = admin({QStringLiteral("export"), QStringLiteral("ledger"), QStringLiteral("--from"),
            QStringLiteral("2026-01-01T08:00:00")});
        QCOMPARE(r.rc, 64);
        r = admin({QStringLiteral("export"), QStringLiteral("meters"), QStringLiteral("--from"),
            QStringLiteral("2026-01-01")});
        QCOMPARE(r.rc, 64);
    }

    // ---- docs/import.md names every column of every kind

    void docsListEveryColumn()
    {
        QFile doc(QStringLiteral(PREPAY_SOURCE_DIR "/docs/import.md"));
        QVERIFY(doc.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(doc.readAll());
        for (catalog::ImportKind kind :
            {catalog::ImportKind::Buildings, catalog::ImportKind::Gateways, catalog::ImportKind::Meters}) {
            const qsizetype section = text.indexOf(QStringLiteral("## ") + catalog::importKindName(kind));
            QVERIFY2(section >= 0, qPrintable(catalog::importKindName(kind)));
            const qsizetype next = text.indexOf(QStringLiteral("\n## "), section + 3);
            const QString body = text.mid(section, next < 0 ? -1 : next - section);
            for (const catalog::ImportColumn &c : catalog::importColumns(kind)) {
                const QString row = QStringLiteral("| `%1` | %2 |")
                                        .arg(c.name, c.required ? QStringLiteral("yes") : QStringLiteral("no"));
                QVERIFY2(body.contains(row), qPrintable(catalog::importKindName(kind) + QStringLiteral(": ") + row));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestImport)
#include "tst_import.moc"
