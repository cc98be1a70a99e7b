// The kiosk's tenant methods (issue 8) end to end: prepayd's Service in process over real TLS 1.3
// WebSockets on loopback (a fresh database and PKI per test case, as tst_api), the demo building
// with its meters' balances taken over, kiosks enrolled with their own client certificates.
//  - kiosk.profile: the kiosk's and its building's names, the office phone and the PIN
//    requirement from the site settings and the building's overrides, the top-up limits;
//  - account.set_pin / kiosk.check_pin: only a hash stored (PBKDF2, a salt per account), the audit
//    row without the PIN; right, wrong (attempts left), locked after 5 wrong in a row (also for
//    the right PIN, and from another kiosk), unlocked by staff setting a PIN; removed with null;
//    bad PINs refused; who may call;
//  - kiosk.recharges: the last 10 credited recharges newest first, the kiosk's building only;
//  - kiosk.report: stored once per event id (a repeat answers already), a heartbeat updates the
//    kiosk's health without being stored, another kiosk's event id is a conflict.
#include "accounts/takeover.h"
#include "api/clock.h"
#include "api/rpcclient.h"
#include "apitest.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "pki/pki.h"
#include "service/config.h"
#include "service/service.h"
#include "store/seed.h"
#include "store/store.h"
#include "storescript.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtCore/QUuid>
#include <QtTest/QtTest>

using namespace prepay;
using rpc::ErrorCode;
using rpc::Outcome;
using test::codeOf;
using test::describe;
using test::resultOf;

namespace {

const QString adminPassword = QStringLiteral("correct horse battery");

QString newEventId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces);
}

} // namespace

class TestApiTenant : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    SystemClock m_clock;
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Connection> m_reader;
    std::unique_ptr<service::Service> m_service;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    QSslCertificate m_ca;
    QString m_setupCode;

    std::unique_ptr<rpc::RpcClient> connectStaff()
    {
        rpc::Endpoint e;
        e.host = QStringLiteral("127.0.0.1");
        e.port = m_service->staffPort();
        e.ca = m_ca;
        auto client = std::make_unique<rpc::RpcClient>();
        QString error;
        if (!client->openBlocking(e, 10000, &error))
            qWarning("connect: %s", qPrintable(error));
        return client;
    }

    std::unique_ptr<rpc::RpcClient> admin()
    {
        auto client = connectStaff();
        client->callBlocking(QStringLiteral("setup.create_admin"),
            {{QStringLiteral("setup_code"), m_setupCode}, {QStringLiteral("login"), QStringLiteral("root")},
                {QStringLiteral("display_name"), QStringLiteral("管理员")},
                {QStringLiteral("password"), adminPassword}});
        const Outcome o = client->callBlocking(QStringLiteral("session.login"),
            {{QStringLiteral("login"), QStringLiteral("root")}, {QStringLiteral("password"), adminPassword}});
        if (!rpc::succeeded(o))
            qWarning("admin login: %s", qPrintable(describe(o)));
        return client;
    }

    std::unique_ptr<rpc::RpcClient> staffOf(rpc::RpcClient &root, const QString &role)
    {
        const QString login = QStringLiteral("u-") + role;
        const QString first = QStringLiteral("first password 1");
        const QString own = QStringLiteral("own password 22");
        root.callBlocking(QStringLiteral("operator.create"),
            {{QStringLiteral("login"), login}, {QStringLiteral("display_name"), role}, {QStringLiteral("role"), role},
                {QStringLiteral("password"), first}});
        auto client = connectStaff();
        client->callBlocking(
            QStringLiteral("session.login"), {{QStringLiteral("login"), login}, {QStringLiteral("password"), first}});
        const Outcome changed = client->callBlocking(QStringLiteral("session.change_password"),
            {{QStringLiteral("old_password"), first}, {QStringLiteral("new_password"), own}});
        if (!rpc::succeeded(changed))
            qWarning("change password %s: %s", qPrintable(login), qPrintable(describe(changed)));
        return client;
    }

    // A kiosk paired (with a building, or for every building) and enrolled; a client connected
    // to the kiosk port with its certificate. *kioskId set.
    std::unique_ptr<rpc::RpcClient> kiosk(
        rpc::RpcClient &root, const QString &name, const QString &buildingCode, qint64 *kioskId = nullptr)
    {
        QJsonObject pairing{{QStringLiteral("name"), name}};
        if (!buildingCode.isEmpty())
            pairing.insert(QStringLiteral("building_code"), buildingCode);
        const Outcome paired = root.callBlocking(QStringLiteral("kiosk.pairing.create"), pairing);
        QString error;
        const std::optional<pki::KeyAndCsr> csr = pki::makeCsr(QStringLiteral("kiosk"), &error);
        if (!csr)
            qWarning("csr: %s", qPrintable(error));
        auto device = connectStaff();
        const Outcome enrolled = device->callBlocking(QStringLiteral("kiosk.enrol"),
            {{QStringLiteral("pairing_code"), resultOf(paired).value(QLatin1String("pairing_code")).toString()},
                {QStringLiteral("csr_pem"), QString::fromLatin1(csr->csrPem)}});
        if (!rpc::succeeded(enrolled))
            qWarning("enrol: %s", qPrintable(describe(enrolled)));
        if (kioskId)
            *kioskId = resultOf(enrolled).value(QLatin1String("kiosk_id")).toInteger();
        rpc::Endpoint e;
        e.host = QStringLiteral("127.0.0.1");
        e.port = m_service->kioskPort();
        e.ca = m_ca;
        e.clientCertificate = QSslCertificate(
            resultOf(enrolled).value(QLatin1String("certificate_pem")).toString().toLatin1(), QSsl::Pem);
        e.clientKey = QSslKey(csr->keyPem, QSsl::Ec, QSsl::Pem);
        auto client = std::make_unique<rpc::RpcClient>();
        if (!client->openBlocking(e, 10000, &error))
            qWarning("kiosk connect: %s", qPrintable(error));
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
        if (s.step() != store::Statement::Step::Row || s.isNull(0))
            return {};
        return s.text(0);
    }

    bool exec(const QString &sql) { return test::runScript(*m_store, sql); }

    Outcome checkPin(rpc::RpcClient &k, const QString &shop, const QString &pin)
    {
        return k.callBlocking(
            QStringLiteral("kiosk.check_pin"), {{QStringLiteral("shop_no"), shop}, {QStringLiteral("pin"), pin}});
    }

    Outcome setPin(rpc::RpcClient &staff, const QString &shop, const QJsonValue &pin)
    {
        return staff.callBlocking(
            QStringLiteral("account.set_pin"), {{QStringLiteral("shop_no"), shop}, {QStringLiteral("pin"), pin}});
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        store::OpenResult opened = store::Store::open(m_dir->filePath(QStringLiteral("prepay.db")), m_clock);
        QVERIFY2(opened.store, qPrintable(opened.message));
        m_store = std::move(opened.store);
        QCOMPARE(store::applySeed(*m_store, QStringLiteral("demo")).outcome, store::SeedOutcome::Applied);
        const qint64 nowMs = m_clock.wallMs();
        QVERIFY(m_store->write([nowMs](store::Transaction &tx) { accounts::takeOverMeterBalances(tx, nowMs); })
                    .get()
                    .committed());
        m_reader = m_store->openReader();
        QString error;
        m_book = std::make_shared<billing::TariffBook>();
        QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
        m_biller = std::make_unique<billing::Biller>(m_book);
        test::RunningService running
            = test::startService(m_clock, *m_store, m_dir->path(), test::loopbackConfig(), m_biller.get());
        QVERIFY2(running.service, qPrintable(running.error));
        m_service = std::move(running.service);
        m_setupCode = running.setupCode;
        m_ca = running.ca;
    }

    void cleanup()
    {
        m_service.reset();
        m_reader.reset();
        m_store->stop();
        m_store.reset();
        m_dir.reset();
    }

    void profileFromSettingsAndBuilding()
    {
        auto root = admin();
        auto lobby = kiosk(*root, QStringLiteral("A座大堂"), QStringLiteral("A"));
        auto site = kiosk(*root, QStringLiteral("总服务台"), QString());
        // Defaults: no office phone, no PIN, the limits of the settings; no QR channel here.
        Outcome o = lobby->callBlocking(QStringLiteral("kiosk.profile"), {});
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QJsonObject p = resultOf(o);
        QCOMPARE(p.value(QLatin1String("kiosk_name")).toString(), QStringLiteral("A座大堂"));
        QCOMPARE(p.value(QLatin1String("building_name")).toString(),
            queryText(QStringLiteral("SELECT name FROM buildings WHERE code = 'A'")));
        QVERIFY(!p.value(QLatin1String("building_name")).toString().isEmpty());
        QCOMPARE(p.value(QLatin1String("office_phone")).toString(), QStringLiteral("0598-8231234")); // the demo seed's
        QCOMPARE(p.value(QLatin1String("pin_required")), QJsonValue(false));
        QCOMPARE(p.value(QLatin1String("channels")).toArray(), QJsonArray());
        QCOMPARE(p.value(QLatin1String("topup_min_fen")).toInteger(), 100);
        QCOMPARE(p.value(QLatin1String("topup_max_fen")).toInteger(), 500000);

        // Site settings, then building A's overrides (the site-wide kiosk keeps the site's).
        QVERIFY(exec(QStringLiteral("UPDATE settings SET value = '0598-1234567' WHERE key = 'kiosk.office_phone'; "
                                    "UPDATE settings SET value = '1' WHERE key = 'kiosk.pin_required'; "
                                    "UPDATE settings SET value = '5000' WHERE key = 'payment.topup_min_fen'")));
        p = resultOf(lobby->callBlocking(QStringLiteral("kiosk.profile"), {}));
        QCOMPARE(p.value(QLatin1String("office_phone")).toString(), QStringLiteral("0598-1234567"));
        QCOMPARE(p.value(QLatin1String("pin_required")), QJsonValue(true));
        QCOMPARE(p.value(QLatin1String("topup_min_fen")).toInteger(), 5000);
        QVERIFY(exec(QStringLiteral(
            "UPDATE buildings SET office_phone = '0598-7654321', kiosk_pin_required = 0 WHERE code = 'A'")));
        p = resultOf(lobby->callBlocking(QStringLiteral("kiosk.profile"), {}));
        QCOMPARE(p.value(QLatin1String("office_phone")).toString(), QStringLiteral("0598-7654321"));
        QCOMPARE(p.value(QLatin1String("pin_required")), QJsonValue(false));
        p = resultOf(site->callBlocking(QStringLiteral("kiosk.profile"), {}));
        QCOMPARE(p.value(QLatin1String("building_name")).toString(),
            queryText(QStringLiteral("SELECT value FROM settings WHERE key = 'site.name'")));
        QCOMPARE(p.value(QLatin1String("office_phone")).toString(), QStringLiteral("0598-1234567"));
        QCOMPARE(p.value(QLatin1String("pin_required")), QJsonValue(true));

        // Staff may not call it.
        QCOMPARE(codeOf(root->callBlocking(QStringLiteral("kiosk.profile"), {})), ErrorCode::Forbidden);
    }

    void pinSetCheckedAndLocked()
    {
        auto root = admin();
        auto lobby = kiosk(*root, QStringLiteral("A座大堂"), QStringLiteral("A"));
        auto other = kiosk(*root, QStringLiteral("A座侧门"), QStringLiteral("A"));
        auto basement = kiosk(*root, QStringLiteral("B1"), QStringLiteral("B1"));
        const QString shop = QStringLiteral("A-1F-104");
        const QString idSql
            = QStringLiteral("(SELECT id FROM accounts WHERE shop_no = 'A-1F-104' AND status <> 'closed')");

        // No PIN yet: nothing to check.
        Outcome o = checkPin(*lobby, shop, QStringLiteral("0000"));
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QCOMPARE(resultOf(o).value(QLatin1String("pin_set")), QJsonValue(false));

        // Set by an operator: a hash with its own salt, the audit row without the PIN.
        auto ops = staffOf(*root, QStringLiteral("operator"));
        const qint64 auditBefore = queryInt(QStringLiteral("SELECT count(*) FROM audit_log"));
        o = setPin(*ops, shop, QStringLiteral("482916"));
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QCOMPARE(resultOf(o).value(QLatin1String("pin_set")), QJsonValue(true));
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM audit_log")), auditBefore + 1);
        const QString audit = queryText(QStringLiteral("SELECT action || ' ' || coalesce(before_json, '') || ' ' || "
                                                       "coalesce(after_json, '') FROM audit_log ORDER BY seq DESC "
                                                       "LIMIT 1"));
        QCOMPARE(audit, QStringLiteral("account.set_pin {\"pin_set\":false} {\"pin_set\":true}"));
        QCOMPARE(queryText(QStringLiteral("SELECT pin_params FROM accounts WHERE id = %1").arg(idSql)),
            QStringLiteral("pbkdf2-sha256:i=100000"));
        QCOMPARE(
            queryInt(
                QStringLiteral("SELECT length(pin_hash) + length(pin_salt) FROM accounts WHERE id = %1").arg(idSql)),
            32 + 16);
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM accounts WHERE instr(pin_hash, '482916') > 0")), 0);
        // Another account with the same PIN: another salt, another hash.
        QVERIFY(rpc::succeeded(setPin(*ops, QStringLiteral("A-1F-105"), QStringLiteral("482916"))));
        QCOMPARE(queryInt(QStringLiteral("SELECT count(DISTINCT pin_hash) + count(DISTINCT pin_salt) FROM accounts "
                                         "WHERE pin_hash IS NOT NULL")),
            4);

        // Right, then wrong with the attempts left; a right PIN resets the count.
        o = checkPin(*lobby, shop, QStringLiteral("482916"));
        QVERIFY2(rpc::succeeded(o) && resultOf(o).value(QLatin1String("ok")).toBool(), qPrintable(describe(o)));
        o = checkPin(*lobby, shop, QStringLiteral("482917"));
        QCOMPARE(codeOf(o), ErrorCode::WrongPin);
        QCOMPARE(std::get<rpc::Error>(o).data.value(QLatin1String("attempts_left")).toInteger(), 4);
        QVERIFY(rpc::succeeded(checkPin(*lobby, shop, QStringLiteral("482916"))));
        QCOMPARE(queryInt(QStringLiteral("SELECT pin_failed_attempts FROM accounts WHERE id = %1").arg(idSql)), 0);

        // Five wrong in a row, from two kiosks: locked for 15 minutes, the right PIN too.
        const qint64 before = m_clock.wallMs();
        for (int i = 0; i < 4; ++i)
            QCOMPARE(codeOf(checkPin(i % 2 ? *other : *lobby, shop, QStringLiteral("1111"))), ErrorCode::WrongPin);
        o = checkPin(*other, shop, QStringLiteral("1111"));
        QCOMPARE(codeOf(o), ErrorCode::Locked);
        const qint64 until = std::get<rpc::Error>(o).data.value(QLatin1String("locked_until_ms")).toInteger();
        QVERIFY2(until >= before + 15 * 60 * 1000 && until <= m_clock.wallMs() + 15 * 60 * 1000,
            qPrintable(QString::number(until - before)));
        QCOMPARE(codeOf(checkPin(*lobby, shop, QStringLiteral("482916"))), ErrorCode::Locked);
        // The other shop is not affected.
        QVERIFY(rpc::succeeded(checkPin(*lobby, QStringLiteral("A-1F-105"), QStringLiteral("482916"))));
        // The lock expires (moved into the past here): the right PIN works again.
        QVERIFY(exec(QStringLiteral("UPDATE accounts SET pin_locked_until_ms = 1 WHERE id = %1").arg(idSql)));
        QVERIFY(rpc::succeeded(checkPin(*lobby, shop, QStringLiteral("482916"))));
        // Staff setting a PIN again clears a lock.
        for (int i = 0; i < 5; ++i)
            checkPin(*lobby, shop, QStringLiteral("2222"));
        QCOMPARE(codeOf(checkPin(*lobby, shop, QStringLiteral("482916"))), ErrorCode::Locked);
        QVERIFY(rpc::succeeded(setPin(*root, shop, QStringLiteral("1357"))));
        QVERIFY(rpc::succeeded(checkPin(*lobby, shop, QStringLiteral("1357"))));

        // Another building's kiosk does not see the shop.
        QCOMPARE(codeOf(checkPin(*basement, shop, QStringLiteral("1357"))), ErrorCode::NotFound);
        // Bad PINs and callers.
        for (const QString &bad :
            {QStringLiteral("123"), QStringLiteral("1234567"), QStringLiteral("12a4"), QStringLiteral("１２３４")})
            QCOMPARE(codeOf(setPin(*root, shop, bad)), ErrorCode::InvalidParams);
        QCOMPARE(codeOf(setPin(*root, shop, 1234)), ErrorCode::InvalidParams);
        QCOMPARE(codeOf(checkPin(*lobby, shop, QStringLiteral("12a4"))), ErrorCode::InvalidParams);
        QCOMPARE(codeOf(setPin(*root, QStringLiteral("NO-SUCH"), QStringLiteral("1234"))), ErrorCode::NotFound);
        auto cashier = staffOf(*root, QStringLiteral("cashier"));
        QCOMPARE(codeOf(setPin(*cashier, shop, QStringLiteral("1234"))), ErrorCode::Forbidden);
        QCOMPARE(codeOf(setPin(*lobby, shop, QStringLiteral("1234"))), ErrorCode::Forbidden);
        QCOMPARE(codeOf(checkPin(*root, shop, QStringLiteral("1357"))), ErrorCode::Forbidden);
        QVERIFY(rpc::succeeded(checkPin(*lobby, shop, QStringLiteral("1357")))); // unchanged by the refusals

        // Removed with null.
        o = setPin(*root, shop, QJsonValue::Null);
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QCOMPARE(resultOf(o).value(QLatin1String("pin_set")), QJsonValue(false));
        QCOMPARE(
            queryInt(
                QStringLiteral("SELECT pin_hash IS NULL AND pin_salt IS NULL FROM accounts WHERE id = %1").arg(idSql)),
            1);
        QCOMPARE(resultOf(checkPin(*lobby, shop, QStringLiteral("1357"))).value(QLatin1String("pin_set")),
            QJsonValue(false));
    }

    void rechargesNewestFirst()
    {
        auto root = admin();
        auto lobby = kiosk(*root, QStringLiteral("A座大堂"), QStringLiteral("A"));
        auto basement = kiosk(*root, QStringLiteral("B1"), QStringLiteral("B1"));
        const QString shop = QStringLiteral("A-1F-104");
        // The takeover credited the meter's own balance as a cash recharge (if it had one).
        const Outcome initial
            = lobby->callBlocking(QStringLiteral("kiosk.recharges"), {{QStringLiteral("shop_no"), shop}});
        QVERIFY2(rpc::succeeded(initial), qPrintable(describe(initial)));
        const qint64 already = resultOf(initial).value(QLatin1String("recharges")).toArray().size();
        QVERIFY(already <= 1);

        QStringList receipts;
        for (int i = 1; i <= 12; ++i) {
            const Outcome paid = root->callBlocking(QStringLiteral("account.recharge_cash"),
                {{QStringLiteral("shop_no"), shop}, {QStringLiteral("amount_fen"), 100 * i},
                    {QStringLiteral("idempotency_key"), QStringLiteral("tenant-test-%1").arg(i)}});
            QVERIFY2(rpc::succeeded(paid), qPrintable(describe(paid)));
            receipts.prepend(resultOf(paid).value(QLatin1String("receipt_no")).toString());
        }
        const Outcome o = lobby->callBlocking(QStringLiteral("kiosk.recharges"), {{QStringLiteral("shop_no"), shop}});
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        const QJsonArray list = resultOf(o).value(QLatin1String("recharges")).toArray();
        QCOMPARE(list.size(), 10);
        qint64 previousAt = std::numeric_limits<qint64>::max();
        for (int i = 0; i < 10; ++i) {
            const QJsonObject r = list.at(i).toObject();
            QCOMPARE(r.value(QLatin1String("receipt_no")).toString(), receipts.at(i));
            QCOMPARE(r.value(QLatin1String("channel")).toString(), QStringLiteral("cash"));
            QCOMPARE(r.value(QLatin1String("amount_fen")).toInteger(), 100 * (12 - i));
            QCOMPARE(r.value(QLatin1String("state")).toString(), QStringLiteral("credited"));
            QCOMPARE(r.value(QLatin1String("late")), QJsonValue(false));
            QVERIFY(r.value(QLatin1String("at_ms")).toInteger() <= previousAt);
            previousAt = r.value(QLatin1String("at_ms")).toInteger();
        }
        // Another shop's list is its own; another building's kiosk does not see the shop.
        const QJsonArray neighbour = resultOf(lobby->callBlocking(QStringLiteral("kiosk.recharges"),
                                                  {{QStringLiteral("shop_no"), QStringLiteral("A-1F-105")}}))
                                         .value(QLatin1String("recharges"))
                                         .toArray();
        for (const QJsonValue &v : neighbour)
            QVERIFY(!receipts.contains(v.toObject().value(QLatin1String("receipt_no")).toString()));
        QCOMPARE(codeOf(basement->callBlocking(QStringLiteral("kiosk.recharges"), {{QStringLiteral("shop_no"), shop}})),
            ErrorCode::NotFound);
        QCOMPARE(codeOf(root->callBlocking(QStringLiteral("kiosk.recharges"), {{QStringLiteral("shop_no"), shop}})),
            ErrorCode::Forbidden);
    }

    void reportStoredOnce()
    {
        auto root = admin();
        qint64 lobbyId = 0;
        auto lobby = kiosk(*root, QStringLiteral("A座大堂"), QStringLiteral("A"), &lobbyId);
        auto other = kiosk(*root, QStringLiteral("B座大堂"), QStringLiteral("B"));
        const QString eventId = newEventId();
        const QJsonObject printed{{QStringLiteral("event_id"), eventId},
            {QStringLiteral("kind"), QStringLiteral("receipt_printed")}, {QStringLiteral("at_ms"), m_clock.wallMs()},
            {QStringLiteral("fields"), QJsonObject{{QStringLiteral("receipt_no"), QStringLiteral("CSH000000000001")}}}};
        Outcome o = lobby->callBlocking(QStringLiteral("kiosk.report"), printed);
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QCOMPARE(resultOf(o).value(QLatin1String("already")), QJsonValue(false));
        // The outbox sends it again (the answer was lost): acknowledged, stored once.
        o = lobby->callBlocking(QStringLiteral("kiosk.report"), printed);
        QVERIFY2(rpc::succeeded(o) && resultOf(o).value(QLatin1String("already")).toBool(), qPrintable(describe(o)));
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM kiosk_events")), 1);
        QCOMPARE(queryText(QStringLiteral("SELECT kiosk_id || ' ' || kind || ' ' || fields FROM kiosk_events")),
            QStringLiteral("%1 receipt_printed {\"receipt_no\":\"CSH000000000001\"}").arg(lobbyId));
        // Another kiosk with the same event id: refused, nothing stored.
        QCOMPARE(codeOf(other->callBlocking(QStringLiteral("kiosk.report"), printed)), ErrorCode::Conflict);
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM kiosk_events")), 1);

        // Printer state: stored, and the kiosk's health says so.
        o = lobby->callBlocking(QStringLiteral("kiosk.report"),
            {{QStringLiteral("event_id"), newEventId()}, {QStringLiteral("kind"), QStringLiteral("printer_state")},
                {QStringLiteral("at_ms"), m_clock.wallMs()},
                {QStringLiteral("fields"),
                    QJsonObject{{QStringLiteral("printer"), QStringLiteral("paper_out")},
                        {QStringLiteral("detail"), QStringLiteral("纸尽")}}}});
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM kiosk_events")), 2);
        QCOMPARE(queryText(QStringLiteral("SELECT health ->> '$.printer' FROM kiosks WHERE id = %1").arg(lobbyId)),
            QStringLiteral("paper_out"));
        // A heartbeat: the health (outbox, uptime), not stored as an event.
        o = lobby->callBlocking(QStringLiteral("kiosk.report"),
            {{QStringLiteral("event_id"), newEventId()}, {QStringLiteral("kind"), QStringLiteral("heartbeat")},
                {QStringLiteral("at_ms"), m_clock.wallMs()},
                {QStringLiteral("fields"),
                    QJsonObject{{QStringLiteral("outbox_pending"), 3}, {QStringLiteral("uptime_s"), 60},
                        {QStringLiteral("app_version"), QStringLiteral("kiosk 9")}}}});
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        QCOMPARE(resultOf(o).value(QLatin1String("stored")), QJsonValue(false));
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM kiosk_events")), 2);
        QCOMPARE(
            queryInt(QStringLiteral("SELECT health ->> '$.outbox_pending' FROM kiosks WHERE id = %1").arg(lobbyId)), 3);
        QCOMPARE(queryText(QStringLiteral("SELECT health ->> '$.printer' FROM kiosks WHERE id = %1").arg(lobbyId)),
            QStringLiteral("paper_out")); // kept
        QCOMPARE(queryText(QStringLiteral("SELECT app_version FROM kiosks WHERE id = %1").arg(lobbyId)),
            QStringLiteral("kiosk 9"));

        // Refused: not a UUID, an unknown kind or field; staff may not report.
        QJsonObject bad = printed;
        bad.insert(QStringLiteral("event_id"), QStringLiteral("not-a-uuid"));
        QCOMPARE(codeOf(lobby->callBlocking(QStringLiteral("kiosk.report"), bad)), ErrorCode::InvalidParams);
        bad = printed;
        bad.insert(QStringLiteral("kind"), QStringLiteral("coffee"));
        QCOMPARE(codeOf(lobby->callBlocking(QStringLiteral("kiosk.report"), bad)), ErrorCode::InvalidParams);
        bad = printed;
        bad.insert(QStringLiteral("event_id"), newEventId());
        bad.insert(QStringLiteral("fields"), QJsonObject{{QStringLiteral("pin"), QStringLiteral("1234")}});
        QCOMPARE(codeOf(lobby->callBlocking(QStringLiteral("kiosk.report"), bad)), ErrorCode::InvalidParams);
        QCOMPARE(codeOf(root->callBlocking(QStringLiteral("kiosk.report"), printed)), ErrorCode::Forbidden);
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM kiosk_events")), 2);
    }
};

QTEST_GUILESS_MAIN(TestApiTenant)
#include "tst_api_tenant.moc"
