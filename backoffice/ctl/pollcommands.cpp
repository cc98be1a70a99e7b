#include "pollcommands.h"

#include "store/migrations.h"
#include "store/sqlite.h"

#include <QtCore/QDateTime>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

namespace prepay::ctl {

namespace {

const QCommandLineOption dbOption(QStringLiteral("db"),
    QStringLiteral("The database file (read only; prepayd may be running)."), QStringLiteral("FILE"));
const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print one JSON object instead of text."));

QString ago(qint64 atMs, qint64 nowMs)
{
    if (atMs <= 0)
        return QStringLiteral("never");
    const qint64 s = std::max<qint64>(0, (nowMs - atMs) / 1000);
    if (s < 120)
        return QStringLiteral("%1 s ago").arg(s);
    if (s < 7200)
        return QStringLiteral("%1 min ago").arg(s / 60);
    return QStringLiteral("%1 h ago").arg(s / 3600);
}

int pollStatus(const Invocation &in)
{
    const QString path = in.parser.value(dbOption);
    if (path.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--db FILE is required"));
    if (!QFileInfo::exists(path))
        return in.fail(66, path + QStringLiteral(" does not exist"));
    store::SqlError error;
    const auto db = store::Connection::open(path, store::Connection::Mode::ReadOnly, 5000, &error);
    if (!db)
        return in.fail(66, error.message);
    const qint64 version = db->queryInt(QStringLiteral("PRAGMA user_version"), &error);
    const int codeVersion = int(store::builtInMigrations().size());
    if (version != codeVersion) {
        return in.fail(65,
            QStringLiteral("%1 has schema version %2, this prepayctl reads version %3: %4")
                .arg(path)
                .arg(version)
                .arg(codeVersion)
                .arg(version < codeVersion ? QStringLiteral("start prepayd on it, or run prepayctl db migrate")
                                           : QStringLiteral("use a newer prepayctl")));
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();

    store::Statement buses = db->prepare(QStringLiteral(
        "SELECT b.name, COALESCE(g.host || ':' || COALESCE(b.tcp_port, g.port), b.device_path), "
        "       (SELECT count(*) FROM meters m WHERE m.bus_id = b.id AND m.state = 'installed'), "
        "       h.last_cycle_started_at_ms, h.last_cycle_duration_ms, h.last_cycle_meters, h.last_cycle_errors, "
        "       h.offline_meters, h.requests_total, h.errors_total, b.enabled "
        "  FROM buses b LEFT JOIN gateways g ON g.id = b.gateway_id LEFT JOIN bus_health h ON h.bus_id = b.id "
        " ORDER BY b.id"));
    QJsonArray busList;
    while (buses.step() == store::Statement::Step::Row) {
        QJsonObject o{{QStringLiteral("bus"), buses.text(0)}, {QStringLiteral("where"), buses.text(1)},
            {QStringLiteral("meters"), buses.int64(2)}, {QStringLiteral("enabled"), buses.int64(10) == 1}};
        if (!buses.isNull(3)) {
            o[QStringLiteral("last_cycle_started_at_ms")] = buses.int64(3);
            o[QStringLiteral("last_cycle_duration_ms")] = buses.int64(4);
            o[QStringLiteral("last_cycle_meters")] = buses.int64(5);
            o[QStringLiteral("last_cycle_errors")] = buses.int64(6);
            o[QStringLiteral("offline_meters")] = buses.int64(7);
            o[QStringLiteral("requests_total")] = buses.int64(8);
            o[QStringLiteral("errors_total")] = buses.int64(9);
        }
        busList.append(o);
    }
    if (!buses.error().ok())
        return in.fail(70, buses.error().toString());

    const auto count = [&db](const char *sql) {
        store::SqlError e;
        return db->queryInt(QString::fromLatin1(sql), &e);
    };
    const QJsonObject meters{
        {QStringLiteral("installed"), count("SELECT count(*) FROM meters WHERE state = 'installed'")},
        {QStringLiteral("online"), count("SELECT count(*) FROM meter_state WHERE comm_state = 'online'")},
        {QStringLiteral("offline"), count("SELECT count(*) FROM meter_state WHERE comm_state = 'offline'")},
        {QStringLiteral("never_read"),
            count("SELECT count(*) FROM meters m WHERE m.state = 'installed' AND NOT EXISTS "
                  "(SELECT 1 FROM meter_state s WHERE s.meter_id = m.id AND s.last_reading_id IS NOT NULL)")},
    };
    const QJsonObject readings{
        {QStringLiteral("total"), count("SELECT count(*) FROM readings")},
        {QStringLiteral("held_for_review"),
            count("SELECT count(*) FROM readings WHERE validation IN ('reset_held', 'swap_held', "
                  "'jump_held') AND review_decision IS NULL")},
        {QStringLiteral("frozen_flagged"), count("SELECT count(*) FROM readings WHERE validation = 'frozen_flagged'")},
    };
    const QJsonObject commands{
        {QStringLiteral("live"),
            count("SELECT count(*) FROM meter_commands WHERE state IN ('queued', 'sent', 'acknowledged')")},
        {QStringLiteral("failed"), count("SELECT count(*) FROM meter_commands WHERE state = 'failed'")},
    };

    if (in.parser.isSet(jsonOption)) {
        const QJsonObject all{{QStringLiteral("buses"), busList}, {QStringLiteral("meters"), meters},
            {QStringLiteral("readings"), readings}, {QStringLiteral("commands"), commands}};
        in.out << QString::fromUtf8(QJsonDocument(all).toJson(QJsonDocument::Compact)) << '\n';
        return 0;
    }
    in.out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                  .arg(QStringLiteral("bus"), -10)
                  .arg(QStringLiteral("where"), -22)
                  .arg(QStringLiteral("meters"), 7)
                  .arg(QStringLiteral("last cycle"), -24)
                  .arg(QStringLiteral("errors"), 13)
                  .arg(QStringLiteral("offline"), 8);
    for (const QJsonValue &v : std::as_const(busList)) {
        const QJsonObject b = v.toObject();
        QString cycle = QStringLiteral("none yet");
        QString errors = QStringLiteral("-");
        if (b.contains(QStringLiteral("last_cycle_started_at_ms"))) {
            const qint64 duration = b[QStringLiteral("last_cycle_duration_ms")].toInteger();
            cycle = duration > 0 ? QStringLiteral("%1 s, started %2")
                                       .arg(double(duration) / 1000.0, 0, 'f', 1)
                                       .arg(ago(b[QStringLiteral("last_cycle_started_at_ms")].toInteger(), now))
                                 : QStringLiteral("running since %1")
                                       .arg(ago(b[QStringLiteral("last_cycle_started_at_ms")].toInteger(), now));
            const qint64 requests = b[QStringLiteral("requests_total")].toInteger();
            errors = QStringLiteral("%1/%2 (%3%)")
                         .arg(b[QStringLiteral("last_cycle_errors")].toInteger())
                         .arg(b[QStringLiteral("last_cycle_meters")].toInteger())
                         .arg(requests > 0
                                 ? 100.0 * double(b[QStringLiteral("errors_total")].toInteger()) / double(requests)
                                 : 0.0,
                             0, 'f', 1);
        }
        in.out << QStringLiteral("%1 %2 %3 %4 %5 %6\n")
                      .arg(b[QStringLiteral("bus")].toString(), -10)
                      .arg(b[QStringLiteral("where")].toString(), -22)
                      .arg(b[QStringLiteral("meters")].toInteger(), 7)
                      .arg(cycle, -24)
                      .arg(errors, 13)
                      .arg(b.contains(QStringLiteral("offline_meters"))
                              ? QString::number(b[QStringLiteral("offline_meters")].toInteger())
                              : QStringLiteral("-"),
                          8);
    }
    in.out << QStringLiteral("meters: %1 installed, %2 online, %3 offline (失联), %4 never read\n")
                  .arg(meters[QStringLiteral("installed")].toInteger())
                  .arg(meters[QStringLiteral("online")].toInteger())
                  .arg(meters[QStringLiteral("offline")].toInteger())
                  .arg(meters[QStringLiteral("never_read")].toInteger());
    in.out << QStringLiteral("readings: %1 stored, %2 held for staff review, %3 frozen counters flagged\n")
                  .arg(readings[QStringLiteral("total")].toInteger())
                  .arg(readings[QStringLiteral("held_for_review")].toInteger())
                  .arg(readings[QStringLiteral("frozen_flagged")].toInteger());
    in.out << QStringLiteral("commands: %1 in progress, %2 failed\n")
                  .arg(commands[QStringLiteral("live")].toInteger())
                  .arg(commands[QStringLiteral("failed")].toInteger());
    return 0;
}

} // namespace

QList<Command> pollCommands()
{
    return {
        {{QStringLiteral("poll"), QStringLiteral("status")},
            QStringLiteral("--db FILE   buses, cycle times, offline meters (--json)"),
            QStringLiteral(
                "What prepayd's poller reports: per bus its last cycle (time, errors), the error rate since prepayd "
                "started and the offline meters; meters online/offline, readings held for review, commands in "
                "progress. Reads the database only; prepayd may be running."),
            {dbOption, jsonOption}, {}, {}, pollStatus},
    };
}

} // namespace prepay::ctl
