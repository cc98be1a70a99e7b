// account.list, account.get and account.usage end to end: prepayd's Service in process over real
// TLS 1.3 WebSockets on loopback (a fresh database and PKI per test case, as tst_api), seeded with
// the demo building and its meters' balances taken over; readings go through the real readings
// path (recorder → biller → controller → alarms) and the kiosk directory feed's refresh, and every
// answer is compared with what the database says.
//  - list: every account, paging that neither skips nor repeats, the query by shop number or
//    name (case-insensitive, and hostile strings — '%', '_', quotes, "' OR 1=1 --" — are plain
//    text: they match exactly the accounts that contain them), the status and building filters;
//  - get: tenant, wallet balance, status, points with their meters and thresholds, tariff and the
//    last ledger entries equal to the tables; a shop number held by a closed and a live account
//    names the live one;
//  - usage: per local day and month equal to the charge intervals, a day without readings
//    absent, a day with readings and no consumption zero; another account's usage not mixed in;
//  - not_found for an unknown shop, and for a shop in a building the staff member is not
//    limited to (operator_buildings), which the list leaves out as well.
#include "accounts/takeover.h"
#include "api/clock.h"
#include "api/rpcclient.h"
#include "apitest.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "control/pipeline.h"
#include "poller/pollplan.h"
#include "poller/recorder.h"
#include "service/config.h"
#include "service/service.h"
#include "store/seed.h"
#include "store/store.h"
#include "sync/publisher.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimeZone>
#include <QtNetwork/QTcpServer>
#include <QtTest/QtTest>

#include <map>

using namespace prepay;
using rpc::ErrorCode;
using rpc::Outcome;
using test::codeOf;
using test::describe;
using test::resultOf;

namespace {

const QString adminPassword = QStringLiteral("correct horse battery");
constexpr qint64 kMinuteMs = 60'000;
constexpr qint64 kHourMs = 60 * kMinuteMs;

struct AccountFacts
{
    qint64 id = 0;
    QString shopNo;
    QString displayName;
    QString buildingCode;
    QString state;
};

} // namespace

class TestApiAccounts : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    SystemClock m_clock;
    QTimeZone m_tz{QByteArrayLiteral("Asia/Shanghai")};
    std::unique_ptr<store::Store> m_store;
    std::unique_ptr<store::Connection> m_reader;
    std::unique_ptr<service::Service> m_service;
    QSslCertificate m_ca;
    QString m_setupCode;
    poller::PollPlan m_plan;
    std::shared_ptr<billing::TariffBook> m_book;
    std::unique_ptr<billing::Biller> m_biller;
    std::unique_ptr<poller::Recorder> m_recorder;
    std::unique_ptr<control::BatchPipeline> m_pipeline;

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

    // A staff member of `role` who has changed the first password already; *operatorId set.
    std::unique_ptr<rpc::RpcClient> staffOf(rpc::RpcClient &root, const QString &role, qint64 *operatorId = nullptr)
    {
        const QString login = QStringLiteral("u-") + role;
        const QString first = QStringLiteral("first password 1");
        const QString own = QStringLiteral("own password 22");
        const Outcome created = root.callBlocking(QStringLiteral("operator.create"),
            {{QStringLiteral("login"), login}, {QStringLiteral("display_name"), role}, {QStringLiteral("role"), role},
                {QStringLiteral("password"), first}});
        if (operatorId)
            *operatorId = resultOf(created).value(QLatin1String("operator_id")).toInteger();
        auto client = connectStaff();
        client->callBlocking(
            QStringLiteral("session.login"), {{QStringLiteral("login"), login}, {QStringLiteral("password"), first}});
        const Outcome changed = client->callBlocking(QStringLiteral("session.change_password"),
            {{QStringLiteral("old_password"), first}, {QStringLiteral("new_password"), own}});
        if (!rpc::succeeded(changed))
            qWarning("change password %s: %s", qPrintable(login), qPrintable(describe(changed)));
        return client;
    }

    qint64 queryInt(const QString &sql, const QList<QString> &texts = {})
    {
        store::Statement s = m_reader->prepare(sql);
        for (int i = 0; i < texts.size(); ++i)
            s.bind(i + 1, texts.at(i));
        if (s.step() != store::Statement::Step::Row) {
            qWarning("%s: %s", qPrintable(sql), qPrintable(s.error().toString()));
            return -1;
        }
        return s.isNull(0) ? -1 : s.int64(0);
    }

    QString queryText(const QString &sql, const QList<QString> &texts = {})
    {
        store::Statement s = m_reader->prepare(sql);
        for (int i = 0; i < texts.size(); ++i)
            s.bind(i + 1, texts.at(i));
        if (s.step() != store::Statement::Step::Row)
            return {};
        return s.isNull(0) ? QString() : s.text(0);
    }

    // Every account with the building the API is expected to give it, from the tables.
    QList<AccountFacts> allAccounts()
    {
        QList<AccountFacts> out;
        store::Statement s = m_reader->prepare(QStringLiteral(
            "SELECT a.id, a.shop_no, a.display_name, a.status, "
            " (SELECT b.code FROM account_metering_points amp JOIN metering_points mp ON mp.id = amp.metering_point_id "
            "   JOIN buildings b ON b.id = mp.building_id WHERE amp.account_id = a.id "
            "   ORDER BY amp.unlinked_at_ms IS NOT NULL, amp.linked_at_ms, amp.id LIMIT 1) "
            "FROM accounts a"));
        while (s.step() == store::Statement::Step::Row) {
            AccountFacts f;
            f.id = s.int64(0);
            f.shopNo = s.text(1);
            f.displayName = s.text(2);
            f.state = s.text(3);
            f.buildingCode = s.isNull(4) ? QString() : s.text(4);
            out.append(f);
        }
        return out;
    }

    // Every page of account.list with `params` (limit `page`), concatenated; *total from the first.
    QJsonArray listAll(rpc::RpcClient &client, QJsonObject params, int page, qint64 *total)
    {
        QJsonArray all;
        params.insert(QStringLiteral("limit"), page);
        for (int offset = 0;; offset += page) {
            params.insert(QStringLiteral("offset"), offset);
            const Outcome o = client.callBlocking(QStringLiteral("account.list"), params);
            if (!rpc::succeeded(o)) {
                qWarning("account.list: %s", qPrintable(describe(o)));
                return all;
            }
            const QJsonObject r = resultOf(o);
            if (offset == 0)
                *total = r.value(QLatin1String("total")).toInteger();
            const QJsonArray rows = r.value(QLatin1String("accounts")).toArray();
            for (const QJsonValue &row : rows)
                all.append(row);
            if (rows.size() < page)
                return all;
        }
    }

    bool refreshDirectory()
    {
        const qint64 now = m_clock.wallMs();
        const auto written
            = m_store->write([this, now](store::Transaction &tx) { return sync::refresh(tx, now, m_tz); }).get();
        return written.committed() && written.value.outcome != sync::RefreshOutcome::StoreFailed;
    }

    qint64 localMs(QDate day, int hour, int minute) const
    {
        return QDateTime(day, QTime(hour, minute), m_tz).toMSecsSinceEpoch();
    }

    const poller::MeterTarget *target(qint64 meterId) const
    {
        for (const poller::BusPlan &bus : m_plan.buses) {
            for (const poller::MeterTarget &t : bus.meters) {
                if (t.meterId == meterId)
                    return &t;
            }
        }
        return nullptr;
    }

    // One successful read of `meterId` at `atMs` with its total register in Wh, through the
    // recorder and the billing pipeline (one batch).
    void poll(qint64 meterId, qint64 atMs, qint64 totalWh)
    {
        const poller::MeterTarget *m = target(meterId);
        QVERIFY(m);
        poller::ReadingResult r;
        r.meterId = meterId;
        r.busId = m_plan.busOfMeter(meterId)->busId;
        r.takenAtMs = atMs;
        modbus::MeterSnapshot s;
        s.profile = m->profile->name();
        if (m->prepaid) {
            s.serialNumber = m->serial;
            s.purchaseCount = 1;
            s.balanceFen = 10'000;
            s.totalPurchasedFen = 10'000;
            s.consumedMoneyTotalFen = 0;
            s.statusWord = 0;
            s.relayMode = meter::v1::RelayMode::Auto;
        }
        s.energyTotalRegister = quint32(totalWh / 10);
        s.energyTotalWh = totalWh;
        if (m->hasTouRegisters)
            s.slotEnergyWh[2] = totalWh; // all in the flat slot
        s.activePowerW = 1000;
        r.snapshot = s;
        r.commState = poller::CommState::Online;
        m_recorder->record(r);
        m_recorder->flush();
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
        QVERIFY2(poller::loadPollPlan(*m_reader, &m_plan, &error), qPrintable(error));
        m_book = std::make_shared<billing::TariffBook>();
        QVERIFY2(billing::TariffBook::load(*m_reader, m_book.get(), &error), qPrintable(error));
        m_biller = std::make_unique<billing::Biller>(m_book);
        m_recorder = std::make_unique<poller::Recorder>(*m_store, m_clock, m_plan);
        m_pipeline = std::make_unique<control::BatchPipeline>(*m_biller, m_clock, [](const QList<qint64> &) {});
        m_pipeline->install(*m_recorder);

        test::RunningService running =
            test::startService(m_clock, *m_store, m_dir->path(), test::loopbackConfig(), m_biller.get());
        QVERIFY2(running.service, qPrintable(running.error));
        m_service = std::move(running.service);
        m_setupCode = running.setupCode;
        m_ca = running.ca;
        QVERIFY(!m_ca.isNull());
        QVERIFY(refreshDirectory());
    }

    void cleanup()
    {
        m_service.reset();
        m_recorder.reset();
        m_pipeline.reset();
        m_reader.reset();
        m_store->stop();
        m_store.reset();
        m_dir.reset();
    }

    void listFiltersPagingAndQuery()
    {
        auto root = admin();
        const QList<AccountFacts> accounts = allAccounts();
        QVERIFY(accounts.size() > 250);

        // Everything, in pages of 37: each account exactly once, ordered by shop number, with
        // the building, state, directory status and wallet balance of the tables.
        qint64 total = 0;
        const QJsonArray all = listAll(*root, {}, 37, &total);
        QCOMPARE(total, qint64(accounts.size()));
        QCOMPARE(all.size(), accounts.size());
        std::map<qint64, AccountFacts> byId;
        for (const AccountFacts &f : accounts)
            byId[f.id] = f;
        QSet<qint64> seen;
        QString previous;
        for (const QJsonValue &v : all) {
            const QJsonObject row = v.toObject();
            const qint64 id = row.value(QLatin1String("account_id")).toInteger();
            QVERIFY2(!seen.contains(id), qPrintable(QStringLiteral("account %1 listed twice").arg(id)));
            seen.insert(id);
            const AccountFacts &f = byId.at(id);
            const QString shop = row.value(QLatin1String("shop_no")).toString();
            QCOMPARE(shop, f.shopNo);
            QVERIFY(previous <= shop);
            previous = shop;
            QCOMPARE(row.value(QLatin1String("display_name")).toString(), f.displayName);
            QCOMPARE(row.value(QLatin1String("building_code")).toString(), f.buildingCode);
            QCOMPARE(row.value(QLatin1String("state")).toString(), f.state);
            const QString published = queryText(
                QStringLiteral("SELECT payload ->> '$.status' FROM sync_directory WHERE account_id = %1").arg(id));
            QCOMPARE(row.value(QLatin1String("status")).toString(), published);
            QCOMPARE(row.value(QLatin1String("status")).isNull(), f.state == u"closed");
            QCOMPARE(row.value(QLatin1String("balance_fen")).toInteger(-1),
                queryInt(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE account_id = %1").arg(id)));
        }
        // The default page is 100 rows.
        const QJsonObject firstPage = resultOf(root->callBlocking(QStringLiteral("account.list"), {}));
        QCOMPARE(firstPage.value(QLatin1String("accounts")).toArray().size(), 100);
        QCOMPARE(firstPage.value(QLatin1String("total")).toInteger(), total);
        // Past the end: no rows, the total still told.
        const QJsonObject past = resultOf(root->callBlocking(
            QStringLiteral("account.list"), {{QStringLiteral("offset"), int(total)}, {QStringLiteral("limit"), 5}}));
        QVERIFY(past.value(QLatin1String("accounts")).toArray().isEmpty());
        QCOMPARE(past.value(QLatin1String("total")).toInteger(), total);

        // The query: a substring of the shop number or the name, case-insensitive; hostile text
        // matches exactly the accounts containing it literally (none, here).
        const QStringList queries{QStringLiteral("A-1F"), QStringLiteral("a-1f-10"), QStringLiteral("b1-0"),
            QStringLiteral("茶"), QStringLiteral("便利"), QStringLiteral("办公室 B-1"), QStringLiteral("%"),
            QStringLiteral("_"), QStringLiteral("A-1F%"), QStringLiteral("A_1F"), QStringLiteral("' OR 1=1 --"),
            QStringLiteral("\" OR \"\"=\""), QStringLiteral("'); DROP TABLE accounts; --"), QStringLiteral("\\"),
            QStringLiteral("*"), QStringLiteral("[A]")};
        for (const QString &q : queries) {
            qint64 n = 0;
            const QJsonArray found = listAll(*root, {{QStringLiteral("query"), q}}, 1000, &n);
            QSet<qint64> want;
            for (const AccountFacts &f : accounts) {
                if (f.shopNo.contains(q, Qt::CaseInsensitive) || f.displayName.contains(q, Qt::CaseInsensitive))
                    want.insert(f.id);
            }
            QSet<qint64> got;
            for (const QJsonValue &v : found)
                got.insert(v.toObject().value(QLatin1String("account_id")).toInteger());
            QVERIFY2(got == want,
                qPrintable(QStringLiteral("query %1: %2 rows, want %3").arg(q).arg(got.size()).arg(want.size())));
            QCOMPARE(n, qint64(want.size()));
            const bool hostile = q.contains(u'%') || q.contains(u'_') || q.contains(u'\'') || q.contains(u'"')
                || q == u"\\" || q == u"*" || q == u"[A]";
            if (hostile)
                QVERIFY2(want.isEmpty(), qPrintable(q)); // the demo holds none of these characters
            else
                QVERIFY2(!want.isEmpty(), qPrintable(q));
        }
        QCOMPARE(queryInt(QStringLiteral("SELECT count(*) FROM accounts")), qint64(accounts.size()));

        // Status: exactly the accounts the directory shows in it.
        for (const QString &status : {QStringLiteral("normal"), QStringLiteral("alarm1"), QStringLiteral("alarm2"),
                 QStringLiteral("arrears"), QStringLiteral("not_opened"), QStringLiteral("offline")}) {
            qint64 n = 0;
            const QJsonArray found = listAll(*root, {{QStringLiteral("status"), status}}, 1000, &n);
            const qint64 want = queryInt(
                QStringLiteral("SELECT count(*) FROM sync_directory WHERE payload ->> '$.status' = ?1"), {status});
            QCOMPARE(n, want);
            QCOMPARE(qint64(found.size()), want);
            for (const QJsonValue &v : found)
                QCOMPARE(v.toObject().value(QLatin1String("status")).toString(), status);
        }
        QVERIFY(queryInt(QStringLiteral("SELECT count(*) FROM accounts WHERE status = 'not_opened'")) > 0);

        // Building, combined with a query.
        qint64 n = 0;
        const QJsonArray b1 = listAll(*root, {{QStringLiteral("building_code"), QStringLiteral("B1")}}, 1000, &n);
        const auto inB1 = std::count_if(
            accounts.cbegin(), accounts.cend(), [](const AccountFacts &f) { return f.buildingCode == u"B1"; });
        QVERIFY(inB1 > 0);
        QCOMPARE(n, qint64(inB1));
        for (const QJsonValue &v : b1)
            QCOMPARE(v.toObject().value(QLatin1String("building_code")).toString(), QStringLiteral("B1"));
        const QJsonArray b1Shops = listAll(*root,
            {{QStringLiteral("building_code"), QStringLiteral("B1")},
                {QStringLiteral("query"), QStringLiteral("b1-00")}},
            1000, &n);
        QVERIFY(n > 0 && n < inB1);
        listAll(*root, {{QStringLiteral("building_code"), QStringLiteral("Z")}}, 1000, &n);
        QCOMPARE(n, qint64(0));

        // The schema's bounds hold before any SQL runs.
        QCOMPARE(codeOf(root->callBlocking(QStringLiteral("account.list"), {{QStringLiteral("limit"), 0}})),
            ErrorCode::InvalidParams);
        QCOMPARE(codeOf(root->callBlocking(QStringLiteral("account.list"), {{QStringLiteral("query"), QString()}})),
            ErrorCode::InvalidParams);
    }

    void getMatchesTheDatabase()
    {
        auto root = admin();
        auto cashier = staffOf(*root, QStringLiteral("cashier"));

        // A two-point tenant with a ledger: a reading on each meter, then the directory refreshed.
        const QString shop = QStringLiteral("A-1F-101");
        const qint64 accountId
            = queryInt(QStringLiteral("SELECT id FROM accounts WHERE shop_no = ?1 AND status <> 'closed'"), {shop});
        const qint64 walletId
            = queryInt(QStringLiteral("SELECT id FROM ledger_accounts WHERE account_id = %1").arg(accountId));
        QVERIFY(accountId > 0 && walletId > 0);
        store::Statement meters = m_reader->prepare(
            QStringLiteral("SELECT i.meter_id FROM account_metering_points amp JOIN meter_installations i "
                           "ON i.metering_point_id = amp.metering_point_id AND i.removed_at_ms IS NULL "
                           "WHERE amp.account_id = ?1 AND amp.unlinked_at_ms IS NULL ORDER BY i.meter_id"));
        meters.bind(1, accountId);
        QList<qint64> meterIds;
        while (meters.step() == store::Statement::Step::Row)
            meterIds.append(meters.int64(0));
        QCOMPARE(meterIds.size(), 2);
        const qint64 readAt = m_clock.wallMs() - 10 * kMinuteMs;
        for (const qint64 meter : meterIds)
            poll(meter, readAt, 3'000'000);
        QVERIFY(refreshDirectory());

        const Outcome o = cashier->callBlocking(QStringLiteral("account.get"), {{QStringLiteral("shop_no"), shop}});
        QVERIFY2(rpc::succeeded(o), qPrintable(describe(o)));
        const QJsonObject a = resultOf(o);
        QCOMPARE(a.value(QLatin1String("account_id")).toInteger(), accountId);
        QCOMPARE(a.value(QLatin1String("shop_no")).toString(), shop);
        QCOMPARE(a.value(QLatin1String("display_name")).toString(), QStringLiteral("闽味小馆"));
        QCOMPARE(a.value(QLatin1String("contact_name")).toString(), QStringLiteral("陈先生"));
        QCOMPARE(a.value(QLatin1String("contact_phone")).toString(), QStringLiteral("13805981101"));
        QCOMPARE(a.value(QLatin1String("state")).toString(), QStringLiteral("open"));
        QCOMPARE(a.value(QLatin1String("building_code")).toString(), QStringLiteral("A"));
        QCOMPARE(a.value(QLatin1String("balance_fen")).toInteger(),
            queryInt(QStringLiteral("SELECT balance_fen FROM ledger_accounts WHERE id = %1").arg(walletId)));
        QCOMPARE(a.value(QLatin1String("status")).toString(),
            queryText(QStringLiteral("SELECT payload ->> '$.status' FROM sync_directory WHERE account_id = %1")
                          .arg(accountId)));
        QCOMPARE(a.value(QLatin1String("last_reading_ms")).toInteger(), readAt);
        QCOMPARE(a.value(QLatin1String("tariff")).toObject().value(QLatin1String("code")).toString(),
            queryText(QStringLiteral("SELECT t.code FROM tariff_assignments ta JOIN tariffs t ON t.id = ta.tariff_id "
                                     "WHERE ta.account_id = %1 ORDER BY ta.effective_date DESC LIMIT 1")
                          .arg(accountId)));

        // Its points and meters, as the tables and the poller's twin say.
        const QJsonArray points = a.value(QLatin1String("points")).toArray();
        QCOMPARE(points.size(), 2);
        QStringList codes;
        for (const QJsonValue &v : points) {
            const QJsonObject p = v.toObject();
            const QString code = p.value(QLatin1String("point_code")).toString();
            codes << code;
            QCOMPARE(p.value(QLatin1String("building_code")).toString(), QStringLiteral("A"));
            QCOMPARE(p.value(QLatin1String("control_mode")).toString(),
                queryText(QStringLiteral("SELECT coalesce(cs.control_mode, 'auto') FROM metering_points mp LEFT JOIN "
                                         "control_settings cs ON cs.metering_point_id = mp.id WHERE mp.code = ?1"),
                    {code}));
            const QJsonObject thresholds = p.value(QLatin1String("thresholds")).toObject();
            QCOMPARE(thresholds.value(QLatin1String("alarm1_fen")).toInteger(), 5000); // the site's default
            QCOMPARE(thresholds.value(QLatin1String("alarm2_fen")).toInteger(), 2000);
            QVERIFY(!p.value(QLatin1String("tariff")).toObject().value(QLatin1String("code")).toString().isEmpty());
            const QJsonObject meter = p.value(QLatin1String("meter")).toObject();
            const qint64 meterId = queryInt(QStringLiteral("SELECT i.meter_id FROM meter_installations i JOIN "
                                                           "metering_points mp ON mp.id = i.metering_point_id WHERE "
                                                           "mp.code = ?1 AND i.removed_at_ms IS NULL"),
                {code});
            QCOMPARE(meter.value(QLatin1String("serial_number")).toInteger(),
                queryInt(QStringLiteral("SELECT serial_number FROM meters WHERE id = %1").arg(meterId)));
            QCOMPARE(meter.value(QLatin1String("unit_id")).toInteger(),
                queryInt(QStringLiteral("SELECT unit_id FROM meters WHERE id = %1").arg(meterId)));
            QCOMPARE(meter.value(QLatin1String("bus")).toString(),
                queryText(QStringLiteral("SELECT b.name FROM meters m JOIN buses b ON b.id = m.bus_id WHERE m.id = %1")
                              .arg(meterId)));
            QCOMPARE(meter.value(QLatin1String("comm_state")).toString(), QStringLiteral("online"));
            QCOMPARE(meter.value(QLatin1String("last_reading_ms")).toInteger(), readAt);
            QCOMPARE(meter.value(QLatin1String("energy_total_wh")).toInteger(), 3'000'000);
        }
        QCOMPARE(codes, (QStringList{QStringLiteral("A-1F-101"), QStringLiteral("A-1F-102")}));

        // The last entries on its own wallet, newest first, with this wallet's amounts.
        const QJsonArray ledger = a.value(QLatin1String("ledger")).toArray();
        const qint64 postings = queryInt(
            QStringLiteral("SELECT count(*) FROM ledger_postings WHERE ledger_account_id = %1").arg(walletId));
        QVERIFY(postings > 0);
        QCOMPARE(qint64(ledger.size()), std::min<qint64>(postings, 10));
        qint64 previousEntry = std::numeric_limits<qint64>::max();
        for (const QJsonValue &v : ledger) {
            const QJsonObject e = v.toObject();
            const qint64 entry = e.value(QLatin1String("entry_id")).toInteger();
            QVERIFY(entry < previousEntry);
            previousEntry = entry;
            QCOMPARE(e.value(QLatin1String("amount_fen")).toInteger(),
                queryInt(QStringLiteral("SELECT amount_fen FROM ledger_postings WHERE entry_id = %1 AND "
                                        "ledger_account_id = %2")
                             .arg(entry)
                             .arg(walletId)));
            QCOMPARE(e.value(QLatin1String("kind")).toString(),
                queryText(QStringLiteral("SELECT kind FROM ledger_entries WHERE id = %1").arg(entry)));
        }
        QCOMPARE(ledger.at(0).toObject().value(QLatin1String("entry_id")).toInteger(),
            queryInt(QStringLiteral("SELECT max(entry_id) FROM ledger_postings WHERE ledger_account_id = %1")
                         .arg(walletId)));

        // A shop number held by a closed tenant and by the one who took the shop over: the live one.
        const Outcome taken = root->callBlocking(
            QStringLiteral("account.get"), {{QStringLiteral("shop_no"), QStringLiteral("A-3F-302")}});
        QCOMPARE(resultOf(taken).value(QLatin1String("display_name")).toString(), QStringLiteral("拾光书咖"));
        QCOMPARE(resultOf(taken).value(QLatin1String("state")).toString(), QStringLiteral("open"));

        // A shop not opened yet: its status, no ledger entries.
        const QString waiting
            = queryText(QStringLiteral("SELECT shop_no FROM accounts WHERE status = 'not_opened' LIMIT 1"));
        const QJsonObject notOpened
            = resultOf(root->callBlocking(QStringLiteral("account.get"), {{QStringLiteral("shop_no"), waiting}}));
        QCOMPARE(notOpened.value(QLatin1String("state")).toString(), QStringLiteral("not_opened"));
        QCOMPARE(notOpened.value(QLatin1String("status")).toString(), QStringLiteral("not_opened"));
        QVERIFY(notOpened.value(QLatin1String("ledger")).toArray().isEmpty());
    }

    void usageByLocalDayAndMonthWithGaps()
    {
        auto root = admin();
        const QString shop = QStringLiteral("A-1F-105");
        const qint64 accountId
            = queryInt(QStringLiteral("SELECT id FROM accounts WHERE shop_no = ?1 AND status <> 'closed'"), {shop});
        const qint64 meter = queryInt(
            QStringLiteral(
                "SELECT i.meter_id FROM meter_installations i JOIN metering_points mp ON mp.id = i.metering_point_id "
                "WHERE mp.code = ?1 AND i.removed_at_ms IS NULL"),
            {shop});
        QVERIFY(accountId > 0 && meter > 0);
        const QDate today = QDateTime::fromMSecsSinceEpoch(m_clock.wallMs(), m_tz).date();
        const QDate d1 = today.addDays(-6), d2 = today.addDays(-5), d3 = today.addDays(-4), d4 = today.addDays(-3),
                    d5 = today.addDays(-1);
        qint64 wh = 2'000'000;
        // d1: opens the segment at 10:00, +500 Wh by 23:50; d2 00:10 +300 Wh; d3 nothing at all
        // (a gap); d4 two readings, nothing used; d5 +1 kWh. Today: no reading yet.
        poll(meter, localMs(d1, 10, 0), wh);
        poll(meter, localMs(d1, 23, 50), wh += 500);
        poll(meter, localMs(d2, 0, 10), wh += 300);
        poll(meter, localMs(d4, 9, 0), wh);
        poll(meter, localMs(d4, 15, 0), wh);
        poll(meter, localMs(d5, 9, 0), wh += 1'000);
        QVERIFY(refreshDirectory());

        // What the charge intervals say, per local day.
        const auto amountOn = [this, meter](QDate day) {
            return queryInt(QStringLiteral("SELECT coalesce(sum(ci.amount_fen), 0) FROM charge_intervals ci JOIN "
                                           "readings r ON r.id = ci.to_reading_id WHERE r.meter_id = %1 AND "
                                           "r.taken_at_ms >= %2 AND r.taken_at_ms < %3")
                                .arg(meter)
                                .arg(localMs(day, 0, 0))
                                .arg(localMs(day.addDays(1), 0, 0)));
        };
        struct Period
        {
            QString period;
            qint64 wh;
            qint64 fen;
        };
        const QList<Period> days{{d1.toString(Qt::ISODate), 500, amountOn(d1)},
            {d2.toString(Qt::ISODate), 300, amountOn(d2)}, {d4.toString(Qt::ISODate), 0, 0},
            {d5.toString(Qt::ISODate), 1'000, amountOn(d5)}};
        QVERIFY(days.at(0).fen > 0 && days.at(1).fen > 0 && days.at(3).fen > 0);
        const auto compare = [](const QJsonObject &reply, const QList<Period> &want) {
            const QJsonArray got = reply.value(QLatin1String("periods")).toArray();
            if (got.size() != want.size())
                return QStringLiteral("%1 periods, want %2: %3")
                    .arg(got.size())
                    .arg(want.size())
                    .arg(QString::fromUtf8(QJsonDocument(reply).toJson(QJsonDocument::Compact)));
            for (int i = 0; i < got.size(); ++i) {
                const QJsonObject g = got.at(i).toObject();
                const Period &w = want.at(i);
                if (g.value(QLatin1String("period")).toString() != w.period
                    || g.value(QLatin1String("energy_wh")).toInteger() != w.wh
                    || g.value(QLatin1String("amount_fen")).toInteger() != w.fen)
                    return QStringLiteral("period %1: got %2, want %3 %4 Wh %5 fen")
                        .arg(i)
                        .arg(QString::fromUtf8(QJsonDocument(g).toJson(QJsonDocument::Compact)), w.period)
                        .arg(w.wh)
                        .arg(w.fen);
            }
            return QString();
        };

        const Outcome daily = root->callBlocking(QStringLiteral("account.usage"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("granularity"), QStringLiteral("day")}});
        QVERIFY2(rpc::succeeded(daily), qPrintable(describe(daily)));
        QString diff = compare(resultOf(daily), days);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        for (const QJsonValue &v : resultOf(daily).value(QLatin1String("periods")).toArray())
            QVERIFY(v.toObject().value(QLatin1String("period")).toString() != d3.toString(Qt::ISODate)); // the gap
        QCOMPARE(resultOf(daily).value(QLatin1String("granularity")).toString(), QStringLiteral("day"));
        QCOMPARE(resultOf(daily).value(QLatin1String("from")).toString(), today.addDays(-30).toString(Qt::ISODate));
        QCOMPARE(resultOf(daily).value(QLatin1String("to")).toString(), today.toString(Qt::ISODate));

        // The last 4 days only: d4 and d5 (d5 + 1 … today hold nothing).
        const Outcome recent = root->callBlocking(QStringLiteral("account.usage"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("granularity"), QStringLiteral("day")},
                {QStringLiteral("periods"), 4}});
        diff = compare(resultOf(recent), days.mid(2));
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        // A year asked: answered from what the aggregates keep, and `from` says so.
        const Outcome year = root->callBlocking(QStringLiteral("account.usage"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("granularity"), QStringLiteral("day")},
                {QStringLiteral("periods"), 366}});
        diff = compare(resultOf(year), days);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        QCOMPARE(resultOf(year).value(QLatin1String("from")).toString(),
            today.addDays(-(sync::SyncLimits::usageDaysKept - 1)).toString(Qt::ISODate));

        // Per month: the days summed by local month (they may straddle a month's end).
        QList<Period> months;
        for (const Period &d : days) {
            const QString month = d.period.left(7);
            if (months.isEmpty() || months.last().period != month)
                months.append({month, 0, 0});
            months.last().wh += d.wh;
            months.last().fen += d.fen;
        }
        const Outcome monthly = root->callBlocking(QStringLiteral("account.usage"),
            {{QStringLiteral("shop_no"), shop}, {QStringLiteral("granularity"), QStringLiteral("month")}});
        diff = compare(resultOf(monthly), months);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
        QCOMPARE(resultOf(monthly).value(QLatin1String("to")).toString(), today.toString(Qt::ISODate).left(7));

        // Another tenant's usage holds none of it.
        const Outcome other = root->callBlocking(QStringLiteral("account.usage"),
            {{QStringLiteral("shop_no"), QStringLiteral("A-1F-106")},
                {QStringLiteral("granularity"), QStringLiteral("day")}});
        QVERIFY2(rpc::succeeded(other), qPrintable(describe(other)));
        QVERIFY(resultOf(other).value(QLatin1String("periods")).toArray().isEmpty());
    }

    void notFoundAndBuildingScope()
    {
        auto root = admin();
        for (const QString &shop : {QStringLiteral("Z-99F-999"), QStringLiteral("' OR 1=1 --"), QStringLiteral("%"),
                 QStringLiteral("a-1f-101")}) {
            for (const QString &method : {QStringLiteral("account.get"), QStringLiteral("account.usage")}) {
                QJsonObject params{{QStringLiteral("shop_no"), shop}};
                if (method == u"account.usage")
                    params.insert(QStringLiteral("granularity"), QStringLiteral("month"));
                const Outcome o = root->callBlocking(method, params);
                QCOMPARE(codeOf(o), ErrorCode::NotFound);
                QVERIFY2(std::get<rpc::Error>(o).message.contains(shop), qPrintable(describe(o)));
                QCOMPARE(std::get<rpc::Error>(o).data.value(QLatin1String("field")).toString(),
                    QStringLiteral("params.shop_no"));
            }
        }

        // A technician limited to building B sees building B only: A's shops do not exist for
        // them, and the list leaves them out.
        qint64 technicianId = 0;
        auto technician = staffOf(*root, QStringLiteral("technician"), &technicianId);
        QVERIFY(technicianId > 0);
        QVERIFY(m_store
                    ->write([technicianId](store::Transaction &tx) {
                        store::Statement s = tx.prepare(QStringLiteral(
                            "INSERT INTO operator_buildings (operator_id, building_id) SELECT ?1, id FROM buildings "
                            "WHERE code = 'B'"));
                        s.bind(1, technicianId);
                        if (const store::SqlError e = s.run(); !e.ok())
                            tx.fail(e);
                    })
                    .get()
                    .committed());
        const Outcome hidden = technician->callBlocking(
            QStringLiteral("account.get"), {{QStringLiteral("shop_no"), QStringLiteral("A-1F-101")}});
        QCOMPARE(codeOf(hidden), ErrorCode::NotFound);
        QCOMPARE(std::get<rpc::Error>(hidden).message, QStringLiteral("no account with shop number 'A-1F-101'"));
        QCOMPARE(codeOf(technician->callBlocking(QStringLiteral("account.usage"),
                     {{QStringLiteral("shop_no"), QStringLiteral("A-1F-101")},
                         {QStringLiteral("granularity"), QStringLiteral("day")}})),
            ErrorCode::NotFound);
        const Outcome visible = technician->callBlocking(
            QStringLiteral("account.get"), {{QStringLiteral("shop_no"), QStringLiteral("B-1F-101")}});
        QVERIFY2(rpc::succeeded(visible), qPrintable(describe(visible)));
        QCOMPARE(resultOf(visible).value(QLatin1String("points")).toArray().size(), 3);

        qint64 total = 0;
        const QJsonArray seen = listAll(*technician, {}, 1000, &total);
        const QList<AccountFacts> accounts = allAccounts();
        const auto inB = std::count_if(
            accounts.cbegin(), accounts.cend(), [](const AccountFacts &f) { return f.buildingCode == u"B"; });
        QVERIFY(inB > 0 && inB < accounts.size());
        QCOMPARE(total, qint64(inB));
        for (const QJsonValue &v : seen)
            QCOMPARE(v.toObject().value(QLatin1String("building_code")).toString(), QStringLiteral("B"));
        qint64 none = 0;
        listAll(*technician, {{QStringLiteral("building_code"), QStringLiteral("A")}}, 1000, &none);
        QCOMPARE(none, qint64(0));
        // The administrator, not limited, still sees every building.
        qint64 everything = 0;
        listAll(*root, {}, 1000, &everything);
        QCOMPARE(everything, qint64(accounts.size()));
    }
};

QTEST_GUILESS_MAIN(TestApiAccounts)
#include "tst_api_accounts.moc"
