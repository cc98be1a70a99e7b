#include "linkbackend.h"

#include "api/clock.h"
#include "api/rpcclient.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QLoggingCategory>
#include <QtCore/QSaveFile>
#include <QtCore/QUuid>

namespace prepay::kiosk {

namespace {

Q_LOGGING_CATEGORY(lcLink, "prepay.kiosk.link")

std::optional<rpc::ErrorCode> errorCode(const rpc::Outcome &outcome)
{
    if (rpc::succeeded(outcome))
        return std::nullopt;
    return std::get<rpc::Error>(outcome).code;
}

BackendError unavailable(const QString &why = QString())
{
    return BackendError{
        QStringLiteral("unavailable"), why.isEmpty() ? QStringLiteral("the backoffice cannot be reached") : why};
}

// The tenant's view of a refusal (backend.h BackendError).
BackendError errorOf(const rpc::Outcome &outcome)
{
    const rpc::Error &e = std::get<rpc::Error>(outcome);
    switch (e.code) {
    case rpc::ErrorCode::Unavailable: return unavailable(e.message);
    case rpc::ErrorCode::WrongPin: return BackendError{QStringLiteral("wrong_pin"), e.message};
    case rpc::ErrorCode::Locked: return BackendError{QStringLiteral("locked"), e.message};
    default: return BackendError{QStringLiteral("refused"), e.message};
    }
}

QJsonObject profileToJson(const KioskProfile &p)
{
    return QJsonObject{{QStringLiteral("kiosk_name"), p.kioskName}, {QStringLiteral("building_name"), p.buildingName},
        {QStringLiteral("office_phone"), p.officePhone},
        {QStringLiteral("channels"), QJsonArray::fromStringList(p.channels)},
        {QStringLiteral("topup_min_fen"), p.topUpMinFen}, {QStringLiteral("topup_max_fen"), p.topUpMaxFen},
        {QStringLiteral("pin_required"), p.pinRequired}};
}

KioskProfile profileFromJson(const QJsonObject &o, const KioskProfile &fallback)
{
    KioskProfile p = fallback;
    p.kioskName = o.value(QLatin1StringView("kiosk_name")).toString(p.kioskName);
    p.buildingName = o.value(QLatin1StringView("building_name")).toString(p.buildingName);
    p.officePhone = o.value(QLatin1StringView("office_phone")).toString(p.officePhone);
    if (o.value(QLatin1StringView("channels")).isArray()) {
        p.channels.clear();
        for (const QJsonValue &c : o.value(QLatin1StringView("channels")).toArray())
            p.channels << c.toString();
    }
    p.topUpMinFen = o.value(QLatin1StringView("topup_min_fen")).toInteger(p.topUpMinFen);
    p.topUpMaxFen = o.value(QLatin1StringView("topup_max_fen")).toInteger(p.topUpMaxFen);
    p.pinRequired = o.value(QLatin1StringView("pin_required")).toBool(p.pinRequired);
    return p;
}

bool sameProfile(const KioskProfile &a, const KioskProfile &b)
{
    return a.kioskName == b.kioskName && a.buildingName == b.buildingName && a.officePhone == b.officePhone
        && a.channels == b.channels && a.topUpMinFen == b.topUpMinFen && a.topUpMaxFen == b.topUpMaxFen
        && a.pinRequired == b.pinRequired;
}

QString newEventId()
{
    return QUuid::createUuid().toString(QUuid::WithoutBraces).toLower();
}

} // namespace

TopUp topUpFromJson(const QJsonObject &o)
{
    TopUp t;
    t.attemptId = o.value(QLatin1StringView("attempt_id")).toInteger();
    t.receiptNo = o.value(QLatin1StringView("receipt_no")).toString();
    t.shopNo = o.value(QLatin1StringView("shop_no")).toString();
    t.channel = o.value(QLatin1StringView("channel")).toString();
    t.amountFen = o.value(QLatin1StringView("amount_fen")).toInteger();
    t.state = o.value(QLatin1StringView("state")).toString();
    t.paid = o.value(QLatin1StringView("paid")).toBool();
    t.late = o.value(QLatin1StringView("late")).toBool();
    t.createdAtMs = o.value(QLatin1StringView("created_at_ms")).toInteger();
    t.expiresAtMs = o.value(QLatin1StringView("expires_at_ms")).toInteger();
    t.qrPayload = o.value(QLatin1StringView("qr_payload")).toString();
    if (o.value(QLatin1StringView("paid_at_ms")).isDouble())
        t.paidAtMs = o.value(QLatin1StringView("paid_at_ms")).toInteger();
    if (o.value(QLatin1StringView("balance_fen")).isDouble())
        t.balanceFen = o.value(QLatin1StringView("balance_fen")).toInteger();
    t.message = o.value(QLatin1StringView("message")).toString();
    return t;
}

LinkBackend::LinkBackend(const QString &stateDir, const Clock &clock, QObject *parent)
    : Backend(parent)
    , m_files(stateDir)
    , m_clock(clock)
{
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &LinkBackend::connectNow);
    m_offline.setSingleShot(true);
    connect(&m_offline, &QTimer::timeout, this, [this] {
        if (m_state != LinkState::Online)
            setState(LinkState::Offline);
    });
    m_connectTimeout.setSingleShot(true);
    connect(&m_connectTimeout, &QTimer::timeout, this,
        [this] { onLost(QStringLiteral("no connection within %1 ms").arg(LinkLimits::connectTimeoutMs)); });
    m_heartbeat.setInterval(LinkLimits::heartbeatMs);
    connect(&m_heartbeat, &QTimer::timeout, this, &LinkBackend::sendHeartbeat);
}

LinkBackend::~LinkBackend()
{
    ++m_generation; // answers still on their way go nowhere
    if (m_client) {
        // Now, while every member is alive: its pending calls are answered (unavailable) as it goes.
        m_client->disconnect(this);
        delete m_client.data();
    }
}

bool LinkBackend::start(QString *error)
{
    const std::optional<Enrolment> enrolment = loadEnrolment(m_files.dir, error);
    if (!enrolment)
        return false;
    m_enrolment = *enrolment;
    if (QFile::exists(m_files.directory)) {
        QString why;
        if (!m_replica.load(m_files.directory, &why))
            qCWarning(lcLink) << "the directory replica cannot be read; a snapshot will replace it:" << why;
        else
            m_lastSyncMs = QFileInfo(m_files.directory).lastModified().toMSecsSinceEpoch();
    }
    QFile cached(m_files.profile);
    if (cached.open(QIODevice::ReadOnly)) {
        const QJsonObject o = QJsonDocument::fromJson(cached.readAll()).object();
        m_profile = profileFromJson(o, m_profile);
        m_lastSyncMs = std::max(m_lastSyncMs, o.value(QLatin1StringView("last_sync_ms")).toInteger());
    }
    if (m_profile.kioskName.isEmpty())
        m_profile.kioskName = m_enrolment.name;
    if (!m_outbox.open(m_files.outbox, error))
        return false;
    m_uptime.start();
    qCInfo(lcLink) << "kiosk" << m_enrolment.kioskId << m_enrolment.name << "→" << m_enrolment.host
                   << m_enrolment.kioskPort << "; replica at seq" << m_replica.lastSeq() << "with"
                   << m_replica.rows().size() << "rows;" << m_outbox.pending().size() << "events in the outbox";
    connectNow();
    return true;
}

std::optional<sync::DirectoryRow> LinkBackend::findShop(const QString &shopNo) const
{
    const QString wanted = shopNo.trimmed();
    if (std::optional<sync::DirectoryRow> exact = m_replica.findShop(wanted))
        return exact;
    for (const sync::DirectoryRow &row : m_replica.rows()) {
        if (row.shopNo.compare(wanted, Qt::CaseInsensitive) == 0)
            return row;
    }
    return std::nullopt;
}

std::optional<sync::DirectoryRow> LinkBackend::account(qint64 accountId) const
{
    const auto it = m_replica.rows().constFind(accountId);
    if (it == m_replica.rows().cend())
        return std::nullopt;
    return *it;
}

qint64 LinkBackend::lastSyncMs() const
{
    return m_state == LinkState::Online ? m_clock.wallMs() : m_lastSyncMs;
}

// ---- The connection --------------------------------------------------------------------------------

void LinkBackend::connectNow()
{
    ++m_generation;
    m_subscribed = false;
    m_sending = false;
    if (m_client) {
        m_client->disconnect(this);
        m_client->deleteLater();
    }
    m_client = new rpc::RpcClient(this);
    const quint64 generation = m_generation;
    connect(m_client, &rpc::RpcClient::connected, this, [this, generation] {
        if (generation == m_generation)
            onConnected();
    });
    connect(m_client, &rpc::RpcClient::failed, this, [this, generation](const QString &reason) {
        if (generation == m_generation)
            onLost(reason);
    });
    connect(m_client, &rpc::RpcClient::notification, this,
        [this, generation](const QString &method, const QJsonObject &params) {
            if (generation == m_generation)
                onNotification(method, params);
        });
    rpc::Endpoint endpoint;
    endpoint.host = m_enrolment.host;
    endpoint.port = m_enrolment.kioskPort;
    endpoint.ca = m_enrolment.ca;
    endpoint.clientCertificate = m_enrolment.certificate;
    endpoint.clientKey = m_enrolment.key;
    m_connectTimeout.start(LinkLimits::connectTimeoutMs);
    m_client->open(endpoint);
}

void LinkBackend::onConnected()
{
    m_connectTimeout.stop();
    call(QStringLiteral("kiosk.profile"), {}, [this](const rpc::Outcome &outcome) {
        if (rpc::succeeded(outcome)) {
            const KioskProfile fresh = profileFromJson(std::get<QJsonValue>(outcome).toObject(), m_profile);
            if (!sameProfile(fresh, m_profile)) {
                m_profile = fresh;
                saveProfile();
                Q_EMIT profileChanged();
            }
        } else if (errorCode(outcome) == rpc::ErrorCode::Unavailable) {
            return; // the connection went: onLost() runs
        } else {
            qCWarning(lcLink) << "kiosk.profile refused; keeping the cached profile:"
                              << std::get<rpc::Error>(outcome).message;
        }
        if (m_replica.hasSnapshot())
            subscribe();
        else
            takeSnapshot();
    });
}

void LinkBackend::onLost(const QString &reason)
{
    m_connectTimeout.stop();
    m_heartbeat.stop();
    ++m_generation; // the old connection's answers and pushes are dropped from now on
    m_subscribed = false;
    m_sending = false;
    if (m_client) {
        m_client->disconnect(this);
        m_client->deleteLater(); // its pending calls answer unavailable as it goes
        m_client = nullptr;
    }
    if (m_state == LinkState::Online) {
        qCWarning(lcLink) << "connection to prepayd lost:" << reason;
        m_lastSyncMs = m_clock.wallMs();
        saveProfile();
        setState(LinkState::Connecting);
        m_offline.start(LinkLimits::offlineAfterMs);
    } else {
        if (m_state != LinkState::Offline)
            qCWarning(lcLink) << "cannot connect to prepayd:" << reason;
        setState(LinkState::Offline);
    }
    m_reconnect.start(m_backoffMs);
    m_backoffMs = std::min(m_backoffMs * 2, LinkLimits::reconnectMaxMs);
}

void LinkBackend::setState(LinkState state)
{
    if (state == m_state)
        return;
    m_state = state;
    if (state == LinkState::Online)
        m_offline.stop();
    Q_EMIT linkStateChanged();
}

void LinkBackend::takeSnapshot()
{
    call(QStringLiteral("sync.snapshot"), {}, [this](const rpc::Outcome &outcome) {
        if (!rpc::succeeded(outcome)) {
            if (errorCode(outcome) != rpc::ErrorCode::Unavailable)
                onLost(QStringLiteral("sync.snapshot refused: ") + std::get<rpc::Error>(outcome).message);
            return;
        }
        QString error;
        const std::optional<sync::DirectorySnapshot> snapshot
            = sync::snapshotFromJson(std::get<QJsonValue>(outcome).toObject(), &error);
        if (!snapshot) {
            onLost(QStringLiteral("sync.snapshot unreadable: ") + error);
            return;
        }
        QList<qint64> ids = m_replica.rows().keys();
        m_replica.applySnapshot(*snapshot);
        for (const sync::DirectoryRow &row : snapshot->rows)
            ids << row.accountId;
        if (!m_replica.save(m_files.directory, &error))
            qCWarning(lcLink) << "cannot save the replica:" << error;
        m_lastSyncMs = m_clock.wallMs();
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        Q_EMIT directoryChanged(ids);
        subscribe();
    });
}

void LinkBackend::subscribe()
{
    call(QStringLiteral("events.subscribe"), {{QStringLiteral("since_seq"), m_replica.lastSeq()}},
        [this](const rpc::Outcome &outcome) {
            if (!rpc::succeeded(outcome)) {
                if (errorCode(outcome) != rpc::ErrorCode::Unavailable)
                    onLost(QStringLiteral("events.subscribe refused: ") + std::get<rpc::Error>(outcome).message);
                return;
            }
            applyBatch(std::get<QJsonValue>(outcome).toObject(), true);
        });
}

void LinkBackend::applyBatch(const QJsonObject &json, bool fromSubscribe)
{
    QString error;
    const std::optional<sync::DirectoryBatch> batch = sync::batchFromJson(json, &error);
    if (!batch) {
        onLost(QStringLiteral("a directory batch is unreadable: ") + error);
        return;
    }
    const sync::ApplyOutcome outcome = m_replica.applyBatch(*batch, &error);
    switch (outcome) {
    case sync::ApplyOutcome::Applied: {
        if (!m_replica.save(m_files.directory, &error))
            qCWarning(lcLink) << "cannot save the replica:" << error;
        m_lastSyncMs = m_clock.wallMs();
        QList<qint64> ids;
        for (const sync::DirectoryEvent &e : batch->events)
            ids << e.accountId;
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        if (!ids.isEmpty())
            Q_EMIT directoryChanged(ids);
        break;
    }
    case sync::ApplyOutcome::Duplicate: break;
    case sync::ApplyOutcome::Gap:
        qCInfo(lcLink) << "directory batch from" << batch->fromSeq << "past our seq" << m_replica.lastSeq()
                       << ": subscribing again";
        subscribe();
        return;
    case sync::ApplyOutcome::ResyncNeeded:
        qCInfo(lcLink) << "prepayd asks for a new snapshot";
        m_subscribed = false;
        takeSnapshot();
        return;
    case sync::ApplyOutcome::Invalid: onLost(QStringLiteral("an invalid directory batch: ") + error); return;
    }
    if (fromSubscribe) {
        m_subscribed = true;
        m_lastSyncMs = m_clock.wallMs();
        m_backoffMs = LinkLimits::reconnectFirstMs;
        setState(LinkState::Online);
        m_heartbeat.start();
        sendHeartbeat();
        drainOutbox();
    }
}

void LinkBackend::onNotification(const QString &method, const QJsonObject &params)
{
    if (method == u"events.directory") {
        if (m_subscribed)
            applyBatch(params, false);
    } else if (method == u"events.topup") {
        Q_EMIT topUpChanged(topUpFromJson(params));
    }
}

void LinkBackend::call(const QString &method, const QJsonObject &params, std::function<void(const rpc::Outcome &)> done)
{
    const quint64 generation = m_generation;
    auto answered = std::make_shared<bool>(false);
    // Every answer goes through the event loop (never inside the caller's call).
    const auto finish = [this, answered, done](const rpc::Outcome &outcome) {
        if (*answered)
            return;
        *answered = true;
        QTimer::singleShot(0, this, [done, outcome] { done(outcome); });
    };
    QTimer::singleShot(LinkLimits::callTimeoutMs, this, [this, finish, answered, generation, method] {
        if (*answered)
            return;
        rpc::Error e;
        e.code = rpc::ErrorCode::Unavailable;
        e.message = QStringLiteral("prepayd did not answer %1").arg(method);
        finish(e);
        if (generation == m_generation)
            onLost(e.message);
    });
    if (!m_client) {
        rpc::Error e;
        e.code = rpc::ErrorCode::Unavailable;
        e.message = QStringLiteral("not connected to prepayd");
        finish(e);
        return;
    }
    m_client->call(method, params, finish);
}

// ---- What the flow asks ------------------------------------------------------------------------------

void LinkBackend::checkPin(const QString &shopNo, const QString &pin, Reply<bool> done)
{
    if (m_state != LinkState::Online) {
        QTimer::singleShot(0, this, [done] { done(std::nullopt, unavailable()); });
        return;
    }
    call(QStringLiteral("kiosk.check_pin"), {{QStringLiteral("shop_no"), shopNo}, {QStringLiteral("pin"), pin}},
        [done](const rpc::Outcome &outcome) {
            if (!rpc::succeeded(outcome)) {
                done(std::nullopt, errorOf(outcome));
                return;
            }
            done(std::get<QJsonValue>(outcome).toObject().value(QLatin1StringView("ok")).toBool(), BackendError{});
        });
}

void LinkBackend::createTopUp(const TopUpRequest &request, Reply<TopUp> done)
{
    if (m_state != LinkState::Online) {
        QTimer::singleShot(0, this, [done] { done(std::nullopt, unavailable()); });
        return;
    }
    call(QStringLiteral("topup.create"),
        {{QStringLiteral("shop_no"), request.shopNo}, {QStringLiteral("amount_fen"), request.amountFen},
            {QStringLiteral("channel"), request.channel}, {QStringLiteral("idempotency_key"), request.idempotencyKey}},
        [done](const rpc::Outcome &outcome) {
            if (!rpc::succeeded(outcome)) {
                done(std::nullopt, errorOf(outcome));
                return;
            }
            done(topUpFromJson(std::get<QJsonValue>(outcome).toObject()), BackendError{});
        });
}

void LinkBackend::cancelTopUp(qint64 attemptId, Reply<TopUp> done)
{
    if (m_state != LinkState::Online) {
        QTimer::singleShot(0, this, [done] { done(std::nullopt, unavailable()); });
        return;
    }
    call(QStringLiteral("topup.cancel"), {{QStringLiteral("attempt_id"), attemptId}},
        [done](const rpc::Outcome &outcome) {
            if (!rpc::succeeded(outcome)) {
                done(std::nullopt, errorOf(outcome));
                return;
            }
            done(topUpFromJson(std::get<QJsonValue>(outcome).toObject()), BackendError{});
        });
}

void LinkBackend::receiptFacts(const QString &receiptNo, Reply<QJsonObject> done)
{
    if (m_state != LinkState::Online) {
        QTimer::singleShot(0, this, [done] { done(std::nullopt, unavailable()); });
        return;
    }
    call(QStringLiteral("receipt.get"), {{QStringLiteral("receipt_no"), receiptNo}}, [done](const rpc::Outcome &outcome) {
        if (!rpc::succeeded(outcome)) {
            done(std::nullopt, errorOf(outcome));
            return;
        }
        done(std::get<QJsonValue>(outcome).toObject(), BackendError{});
    });
}

void LinkBackend::recentRecharges(const QString &shopNo, Reply<QList<Recharge>> done)
{
    if (m_state != LinkState::Online) {
        QTimer::singleShot(0, this, [done] { done(std::nullopt, unavailable()); });
        return;
    }
    call(QStringLiteral("kiosk.recharges"), {{QStringLiteral("shop_no"), shopNo}}, [done](const rpc::Outcome &outcome) {
        if (!rpc::succeeded(outcome)) {
            done(std::nullopt, errorOf(outcome));
            return;
        }
        QList<Recharge> list;
        const QJsonArray rows
            = std::get<QJsonValue>(outcome).toObject().value(QLatin1StringView("recharges")).toArray();
        for (const QJsonValue &v : rows) {
            const QJsonObject o = v.toObject();
            Recharge r;
            r.receiptNo = o.value(QLatin1StringView("receipt_no")).toString();
            r.channel = o.value(QLatin1StringView("channel")).toString();
            r.amountFen = o.value(QLatin1StringView("amount_fen")).toInteger();
            r.atMs = o.value(QLatin1StringView("at_ms")).toInteger();
            r.late = o.value(QLatin1StringView("late")).toBool();
            r.state = o.value(QLatin1StringView("state")).toString();
            list << r;
        }
        done(list, BackendError{});
    });
}

// ---- The outbox ----------------------------------------------------------------------------------

void LinkBackend::report(const QString &kind, const QJsonObject &fields)
{
    if (kind == u"heartbeat") {
        if (m_state == LinkState::Online) {
            call(QStringLiteral("kiosk.report"),
                {{QStringLiteral("event_id"), newEventId()}, {QStringLiteral("kind"), kind},
                    {QStringLiteral("at_ms"), m_clock.wallMs()}, {QStringLiteral("fields"), fields}},
                [](const rpc::Outcome &) {});
        }
        return;
    }
    OutboxEvent event;
    event.eventId = newEventId();
    event.kind = kind;
    event.atMs = m_clock.wallMs();
    event.fields = fields;
    QString error;
    if (!m_outbox.append(event, &error))
        qCWarning(lcLink) << "cannot write the outbox; the event is sent from memory only:" << error;
    drainOutbox();
}

void LinkBackend::drainOutbox()
{
    if (m_state != LinkState::Online || m_sending || m_outbox.pending().isEmpty())
        return;
    const OutboxEvent event = m_outbox.pending().first();
    m_sending = true;
    call(QStringLiteral("kiosk.report"),
        {{QStringLiteral("event_id"), event.eventId}, {QStringLiteral("kind"), event.kind},
            {QStringLiteral("at_ms"), event.atMs}, {QStringLiteral("fields"), event.fields}},
        [this, id = event.eventId, generation = m_generation](const rpc::Outcome &outcome) {
            if (generation != m_generation)
                return; // another connection sends it again
            m_sending = false;
            QString error;
            if (rpc::succeeded(outcome)) {
                if (!m_outbox.acknowledge(id, &error))
                    qCWarning(lcLink) << "cannot write the outbox:" << error;
            } else if (errorCode(outcome) == rpc::ErrorCode::InvalidParams) {
                // prepayd will never take it: keeping it would block every later event.
                qCWarning(lcLink) << "prepayd refuses outbox event" << id
                                  << "; dropped:" << std::get<rpc::Error>(outcome).message;
                if (!m_outbox.acknowledge(id, &error))
                    qCWarning(lcLink) << "cannot write the outbox:" << error;
            } else {
                return; // tried again on the next heartbeat or connection
            }
            drainOutbox();
        });
}

void LinkBackend::sendHeartbeat()
{
    report(QStringLiteral("heartbeat"),
        {{QStringLiteral("outbox_pending"), qint64(m_outbox.pending().size())},
            {QStringLiteral("uptime_s"), m_uptime.isValid() ? m_uptime.elapsed() / 1000 : 0}});
    drainOutbox();
}

void LinkBackend::saveProfile()
{
    QJsonObject o = profileToJson(m_profile);
    o.insert(QStringLiteral("last_sync_ms"), m_lastSyncMs);
    QSaveFile f(m_files.profile);
    const QByteArray bytes = QJsonDocument(o).toJson();
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit())
        qCWarning(lcLink) << "cannot save the profile:" << f.errorString();
}

} // namespace prepay::kiosk
