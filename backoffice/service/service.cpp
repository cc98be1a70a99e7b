#include "service.h"

#include "api/clock.h"
#include "api/methods.h"
#include "api/process.h"
#include "payments/paymentservice.h"
#include "pki/pki.h"
#include "service/apiserver.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/health.h"
#include "service/methods.h"
#include "service/servicelog.h"
#include "service/setupcode.h"
#include "staff/auth.h"
#include "staff/hashlimiter.h"
#include "store/store.h"
#include "sync/publisher.h"

#include <QtCore/QDir>
#include <QtCore/QTimer>
#include <QtNetwork/QHostInfo>

namespace prepay::service {

namespace {
constexpr int sessionCheckIntervalMs = 60 * 1000;
// How stale a kiosk's directory may get: a top-up's new balance reaches the kiosks within this.
constexpr int feedRefreshIntervalMs = 2000;
constexpr int feedPruneEveryRefreshes = 30;

QString siteName(store::Connection &reader)
{
    store::Statement s = reader.prepare(QStringLiteral("SELECT value FROM settings WHERE key = 'site.name'"));
    return s.step() == store::Statement::Step::Row ? s.text(0) : QStringLiteral("prepay");
}
} // namespace

Service::Service(const Clock &clock, store::Store &store, const Config &config, const QString &dataDir, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
    , m_store(store)
    , m_config(config)
    , m_dataDir(dataDir)
{
}

Service::~Service()
{
    stop();
}

void Service::setBilling(billing::Biller *biller, std::function<void(const QList<qint64> &commandIds)> dispatchCommands)
{
    m_biller = biller;
    m_dispatchCommands = std::move(dispatchCommands);
}

void Service::setPayments(payments::PaymentService *payments, payments::RefundService *refunds)
{
    m_payments = payments;
    m_refunds = refunds;
}

void Service::addHealthSource(const QString &name, std::function<QJsonObject()> source)
{
    m_healthSources.append({name, std::move(source)});
}

bool Service::start(QString *error)
{
    m_startedMs = m_clock.monotonicMs();
    store::SqlError sqlError;
    m_reader = m_store.openReader(&sqlError);
    if (!m_reader) {
        *error = QStringLiteral("cannot open a read connection: %1").arg(sqlError.toString());
        return false;
    }
    QString problem;
    const std::optional<staff::StaffSettings> staffSettings = staff::loadStaffSettings(*m_reader, &problem);
    if (!staffSettings) {
        *error = QStringLiteral("the staff settings in the database cannot be used: %1").arg(problem);
        return false;
    }

    // The building's PKI: created on first start, the server certificate renewed when needed.
    QStringList names{QStringLiteral("localhost"), QStringLiteral("127.0.0.1"), QStringLiteral("::1")};
    const QString host = QHostInfo::localHostName();
    if (!host.isEmpty() && !names.contains(host))
        names << host;
    for (const QString &name : std::as_const(m_config.serverNames)) {
        if (!names.contains(name))
            names << name;
    }
    const std::optional<pki::BuildingPki> files =
        pki::ensureBuildingPki(m_dataDir + QStringLiteral("/pki"), siteName(*m_reader), names, m_clock.wallMs(), &problem);
    if (!files) {
        *error = QStringLiteral("building PKI in %1/pki: %2").arg(m_dataDir, problem);
        return false;
    }
    m_caCertPath = files->caCertPath;
    const std::optional<pki::KeyAndCert> ca = pki::loadKeyAndCert(files->caKeyPath, files->caCertPath, &problem);
    const std::optional<TlsMaterial> tls =
        ca ? loadTlsMaterial(files->caCertPath, files->serverCertPath, files->serverKeyPath, &problem) : std::nullopt;
    if (!tls) {
        *error = problem;
        return false;
    }

    staff::HashLimiter::Limits limits;
    limits.maxConcurrent = m_config.loginHashesConcurrentMax;
    m_hashes = std::make_unique<staff::HashLimiter>(limits);
    m_context = std::unique_ptr<ServiceContext>(
        new ServiceContext{m_clock, m_store, *m_reader, *m_hashes, *staffSettings, m_config, *ca, this, nullptr,
            [this] { return health(); }, m_biller, m_dispatchCommands, m_payments, m_refunds});
    m_dispatcher = std::make_unique<Dispatcher>(m_clock, rpc::methodTable(), m_config.frameMaxBytes);
    bindAllMethods(*m_dispatcher, *m_context);
    const QStringList unbound = m_dispatcher->unbound();
    if (!unbound.isEmpty()) {
        *error = QStringLiteral("methods without a handler: %1").arg(unbound.join(QStringLiteral(", ")));
        return false;
    }

    store::Connection &reader = *m_reader;
    m_server = new ApiServer(m_clock, m_config, *m_dispatcher,
        [&reader](const QByteArray &fingerprint) -> std::optional<KioskIdentity> {
            store::Statement s = reader.prepare(
                QStringLiteral("SELECT id, name, building_id FROM kiosks WHERE cert_fingerprint = ?1 AND state = 'enrolled'"));
            s.bind(1, fingerprint);
            if (s.step() != store::Statement::Step::Row)
                return std::nullopt;
            KioskIdentity kiosk;
            kiosk.id = s.int64(0);
            kiosk.name = s.text(1);
            if (!s.isNull(2))
                kiosk.buildingId = s.int64(2);
            return kiosk;
        },
        this);
    m_context->server = m_server;
    if (!m_server->listen(*tls, error))
        return false;

    if (m_config.healthPort != 0) {
        m_health = new HealthEndpoint([this] { return health(); }, this);
        if (!m_health->listen(m_config.healthAddress, m_config.healthPort, error))
            return false;
    }

    const qint64 nowMs = m_clock.wallMs();
    store::Written<std::optional<QString>> issued =
        m_store.write([nowMs](store::Transaction &tx) { return issueSetupCodeIfNeeded(tx, nowMs); }).get();
    if (!issued.committed()) {
        *error = QStringLiteral("cannot issue the setup code: %1").arg(issued.error.toString());
        return false;
    }
    m_setupCode = issued.value;

    {
        store::Statement zone = m_reader->prepare(QStringLiteral("SELECT value FROM settings WHERE key = 'site.time_zone'"));
        m_timeZone = zone.step() == store::Statement::Step::Row ? zone.text(0).toUtf8() : QByteArray("Asia/Shanghai");
        if (!QTimeZone(m_timeZone).isValid()) {
            *error = QStringLiteral("settings site.time_zone = %1: not a time zone this machine knows")
                         .arg(QString::fromUtf8(m_timeZone));
            return false;
        }
    }
    m_feedTimer = new QTimer(this);
    m_feedTimer->setInterval(feedRefreshIntervalMs);
    connect(m_feedTimer, &QTimer::timeout, this, &Service::refreshDirectory);
    m_feedTimer->start();
    refreshDirectory();

    if (m_payments) {
        connect(m_payments, &payments::PaymentService::attemptChanged, this,
            [this](qint64 attemptId) { pushTopUpEvent(*m_context, attemptId); });
    }

    m_sessionTimer = new QTimer(this);
    m_sessionTimer->setInterval(sessionCheckIntervalMs);
    connect(m_sessionTimer, &QTimer::timeout, this, &Service::maintainSessions);
    m_sessionTimer->start();
    return true;
}

void Service::stop()
{
    if (m_feedTimer)
        m_feedTimer->stop();
    if (m_sessionTimer)
        m_sessionTimer->stop();
    if (m_server)
        m_server->close();
    if (m_hashes)
        m_hashes->stop();
    if (m_context)
        m_context->waiters->waitForDone();
}

quint16 Service::staffPort() const
{
    return m_server ? m_server->staffPort() : 0;
}

quint16 Service::kioskPort() const
{
    return m_server ? m_server->kioskPort() : 0;
}

quint16 Service::healthPort() const
{
    return m_health ? m_health->port() : 0;
}

int Service::connectionCount() const
{
    return m_server ? m_server->connectionCount() : 0;
}

QJsonObject Service::health() const
{
    QJsonObject report{{QStringLiteral("status"), QStringLiteral("ok")},
        {QStringLiteral("version"), versionLine(QStringLiteral("prepayd")).trimmed()},
        {QStringLiteral("schema_version"), m_store.schemaVersion()},
        {QStringLiteral("uptime_s"), (m_clock.monotonicMs() - m_startedMs) / 1000},
        {QStringLiteral("connections"), connectionCount()}};
    for (const auto &[name, source] : m_healthSources) {
        const QJsonObject part = source();
        if (part.value(QLatin1String("status")).toString(QStringLiteral("ok")) != QLatin1String("ok"))
            report.insert(QStringLiteral("status"), QStringLiteral("degraded"));
        report.insert(name, part);
    }
    return report;
}

// Once a minute: sessions in use get their idle end moved in the table (so session.resume works
// after a reconnect), lapsed ones are marked ended, and a connection whose session was ended
// elsewhere (logout on another connection, revoked, operator disabled) loses it.
void Service::maintainSessions()
{
    const qint64 nowMs = m_clock.wallMs();
    QList<qint64> touched;
    store::Statement live = m_reader->prepare(QStringLiteral(
        "SELECT s.ended_at_ms IS NULL AND o.disabled = 0 FROM staff_sessions s "
        "JOIN operators o ON o.id = s.operator_id WHERE s.id = ?1"));
    for (Client *client : m_server->clients()) {
        if (!client->staff)
            continue;
        live.reset();
        live.bind(1, client->staff->sessionId);
        if (live.step() != store::Statement::Step::Row || live.int64(0) == 0) {
            qCInfo(lcService, "c%llu: session %lld ended elsewhere", client->id(), client->staff->sessionId);
            client->staff.reset();
            continue;
        }
        if (client->staff->lastActiveMs > client->staff->checkedAtMs)
            touched << client->staff->sessionId;
        client->staff->checkedAtMs = nowMs;
    }
    const staff::StaffSettings settings = m_context->staffSettings;
    m_context->write(
        [touched, nowMs, settings](store::Transaction &tx) {
            for (const qint64 id : touched)
                staff::touchSession(tx, id, nowMs, settings);
            return staff::endLapsedSessions(tx, nowMs, settings);
        },
        [](const store::Written<int> &written) {
            if (!written.committed())
                qCWarning(lcService, "session upkeep failed: %s", qUtf8Printable(written.error.toString()));
        });
}

} // namespace prepay::service

namespace prepay::service {

// The directory feed: one refresh at a time on the writer (it is incremental: a refresh with
// nothing new costs a few reads), then every subscriber gets what is past its cursor.
void Service::refreshDirectory()
{
    if (m_refreshing)
        return;
    m_refreshing = true;
    const bool prune = ++m_refreshes % feedPruneEveryRefreshes == 0;
    const qint64 nowMs = m_clock.wallMs();
    const QTimeZone zone(m_timeZone);
    m_context->write(
        [nowMs, zone, prune](store::Transaction &tx) {
            const sync::RefreshResult result = sync::refresh(tx, nowMs, zone);
            if (prune && result.outcome != sync::RefreshOutcome::StoreFailed)
                sync::pruneByRetention(tx, nowMs, sync::Retention());
            return result;
        },
        [this](const store::Written<sync::RefreshResult> &written) {
            m_refreshing = false;
            if (!written.committed()) {
                qCWarning(lcService, "directory feed refresh failed: %s %s", qUtf8Printable(written.value.error),
                    qUtf8Printable(written.error.toString()));
                return;
            }
            if (written.value.outcome == sync::RefreshOutcome::Published) {
                qCDebug(lcService, "directory feed: %d rows published, %d removed (head seq %lld)",
                    written.value.rowsPublished, written.value.rowsRemoved, written.value.headSeq);
            }
            pushDirectoryEvents(*m_context);
        });
}

} // namespace prepay::service
