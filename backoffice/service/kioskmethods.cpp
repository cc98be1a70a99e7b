// kiosk.*: enrolment of lobby kiosks and what they report. A staff member registers a kiosk by
// name and gets a one-time pairing code (valid 30 minutes, only its SHA-256 stored); the kiosk
// sends the code with a certificate request over the staff port; prepayd signs it with the
// building CA and from then on knows the kiosk by that certificate's fingerprint on the kiosk
// port. The kiosk's private key never leaves the kiosk.
#include "api/clock.h"
#include "audit/audit.h"
#include "service/apiserver.h"
#include "service/context.h"
#include "service/dispatcher.h"
#include "service/methods.h"
#include "service/writes.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRandomGenerator>

namespace prepay::service {

namespace {

constexpr qint64 pairingValidityMs = 30 * 60 * 1000;
constexpr qint64 kioskCertValidityMs = qint64(5) * 365 * 24 * 3600 * 1000;

QByteArray pairingHash(const QString &code)
{
    QString normalised = code.toUpper();
    normalised.remove(QLatin1Char('-'));
    return QCryptographicHash::hash(normalised.toUtf8(), QCryptographicHash::Sha256);
}

QString newPairingCode()
{
    static const QString alphabet = QStringLiteral("23456789ABCDEFGHJKMNPQRSTUVWXYZ");
    QString code;
    for (int i = 0; i < 8; ++i) {
        if (i == 4)
            code += QLatin1Char('-');
        code += alphabet.at(int(QRandomGenerator::system()->bounded(quint32(alphabet.size()))));
    }
    return code;
}

std::optional<QJsonObject> kioskJson(store::Connection &db, qint64 id)
{
    store::Statement s = db.prepare(QStringLiteral(
        "SELECT k.id, k.name, b.code, k.state, k.pairing_expires_at_ms, k.enrolled_at_ms, k.revoked_at_ms, "
        "k.last_seen_ms, k.last_address, k.app_version, k.health, hex(k.cert_fingerprint) "
        "FROM kiosks k LEFT JOIN buildings b ON b.id = k.building_id WHERE k.id = ?1"));
    s.bind(1, id);
    if (s.step() != store::Statement::Step::Row)
        return std::nullopt;
    QJsonObject o{{QStringLiteral("kiosk_id"), s.int64(0)}, {QStringLiteral("name"), s.text(1)},
        {QStringLiteral("state"), s.text(3)}};
    insertPresent(o, QStringLiteral("building_code"), textOrNull(s, 2));
    insertPresent(o, QStringLiteral("pairing_expires_at_ms"), intOrNull(s, 4));
    insertPresent(o, QStringLiteral("enrolled_at_ms"), intOrNull(s, 5));
    insertPresent(o, QStringLiteral("revoked_at_ms"), intOrNull(s, 6));
    insertPresent(o, QStringLiteral("last_seen_ms"), intOrNull(s, 7));
    insertPresent(o, QStringLiteral("last_address"), textOrNull(s, 8));
    insertPresent(o, QStringLiteral("app_version"), textOrNull(s, 9));
    insertPresent(o, QStringLiteral("health"), objectOrNull(s, 10));
    if (!s.text(11).isEmpty())
        o.insert(QStringLiteral("cert_sha256"), s.text(11).toLower());
    return o;
}

void createPairing(ServiceContext &context, const CallPtr &call)
{
    const QString name = call->params().value(QLatin1String("name")).toString();
    const QString buildingCode = call->params().value(QLatin1String("building_code")).toString();
    const QString code = newPairingCode();
    audit::Entry entry = auditEntry(context, *call, QStringLiteral("kiosk.pairing.create"), QStringLiteral("kiosk"), QString());
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [name, buildingCode, code, nowMs, entry](store::Transaction &tx) mutable {
            std::optional<qint64> buildingId;
            if (!buildingCode.isEmpty()) {
                store::Statement b = tx.prepare(QStringLiteral("SELECT id FROM buildings WHERE code = ?1"));
                b.bind(1, buildingCode);
                if (b.step() != store::Statement::Step::Row)
                    return JobOutcome::refuse(
                        tx, rpc::ErrorCode::NotFound, QStringLiteral("no building with code '%1'").arg(buildingCode));
                buildingId = b.int64(0);
            }
            store::Statement existing = tx.prepare(QStringLiteral("SELECT id FROM kiosks WHERE name = ?1"));
            existing.bind(1, name);
            std::optional<QJsonObject> before;
            qint64 id = 0;
            if (existing.step() == store::Statement::Step::Row) {
                // Pairing again (a replaced kiosk PC): its old certificate stops working now.
                id = existing.int64(0);
                before = kioskJson(tx.db(), id);
                store::Statement u = tx.prepare(QStringLiteral(
                    "UPDATE kiosks SET state = 'pairing', pairing_code_hash = ?2, pairing_expires_at_ms = ?3, "
                    "cert_fingerprint = NULL, enrolled_at_ms = NULL, revoked_at_ms = NULL, building_id = ?4 "
                    "WHERE id = ?1"));
                u.bind(1, id).bind(2, pairingHash(code)).bind(3, nowMs + pairingValidityMs);
                buildingId ? u.bind(4, *buildingId) : u.bindNull(4);
                if (const store::SqlError e = u.run(); !e.ok()) {
                    tx.fail(e);
                    return JobOutcome();
                }
            } else {
                store::Statement i = tx.prepare(QStringLiteral(
                    "INSERT INTO kiosks (name, building_id, state, pairing_code_hash, pairing_expires_at_ms, "
                    "created_at_ms) VALUES (?1, ?2, 'pairing', ?3, ?4, ?5)"));
                i.bind(1, name).bind(3, pairingHash(code)).bind(4, nowMs + pairingValidityMs).bind(5, nowMs);
                buildingId ? i.bind(2, *buildingId) : i.bindNull(2);
                if (const store::SqlError e = i.run(); !e.ok()) {
                    tx.fail(e);
                    return JobOutcome();
                }
                id = tx.db().lastInsertRowId();
            }
            const std::optional<QJsonObject> after = kioskJson(tx.db(), id);
            entry.subjectId = QString::number(id);
            if (before)
                entry.beforeJson = compact(*before);
            entry.afterJson = compact(*after);
            audit::append(tx, entry);
            QJsonObject reply = *after;
            reply.insert(QStringLiteral("pairing_code"), code); // shown once, stored only hashed
            return JobOutcome::ok(reply);
        },
        [&context, call](const store::Written<JobOutcome> &written) {
            if (written.committed() && context.server) {
                const qint64 id = written.value.result.toObject().value(QLatin1String("kiosk_id")).toInteger();
                for (Client *client : context.server->clients()) {
                    if (client->kioskId == id)
                        client->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("kiosk re-paired"));
                }
            }
            replyFrom(call, written);
        });
}

void enrol(ServiceContext &context, const CallPtr &call)
{
    const QByteArray codeHash = pairingHash(call->params().value(QLatin1String("pairing_code")).toString());
    const QByteArray csr = call->params().value(QLatin1String("csr_pem")).toString().toUtf8();
    const QString appVersion = call->params().value(QLatin1String("app_version")).toString();
    audit::Entry entry = auditEntry(context, *call, QStringLiteral("kiosk.enrol"), QStringLiteral("kiosk"), QString());
    const qint64 nowMs = context.clock.wallMs();
    const pki::KeyAndCert ca = context.ca;
    const quint16 kioskPort = context.server ? context.server->kioskPort() : context.config.kioskPort;
    context.write(
        [codeHash, csr, appVersion, nowMs, entry, ca, kioskPort, source = call->sourceAddress](
            store::Transaction &tx) mutable {
            store::Statement k = tx.prepare(QStringLiteral(
                "SELECT id, name FROM kiosks WHERE pairing_code_hash = ?1 AND state = 'pairing' "
                "AND pairing_expires_at_ms > ?2"));
            k.bind(1, codeHash).bind(2, nowMs);
            if (k.step() != store::Statement::Step::Row)
                return JobOutcome::refuse(tx, rpc::ErrorCode::Forbidden,
                    QStringLiteral("unknown or expired pairing code: ask staff for a new one"));
            const qint64 id = k.int64(0);
            const QString name = k.text(1);
            pki::CertSpec spec;
            spec.commonName = QStringLiteral("kiosk-%1").arg(id);
            spec.notBeforeMs = nowMs - 3600 * 1000;
            spec.notAfterMs = nowMs + kioskCertValidityMs;
            spec.usage = pki::Usage::Client;
            QString problem;
            const std::optional<QByteArray> certificate = pki::signCsr(ca, csr, spec, &problem);
            if (!certificate) {
                QJsonObject data{{QStringLiteral("field"), QStringLiteral("params.csr_pem")}};
                JobOutcome refused = JobOutcome::refuse(
                    tx, rpc::ErrorCode::InvalidParams, QStringLiteral("params.csr_pem: ") + problem);
                refused.error->data = data;
                return refused;
            }
            store::Statement u = tx.prepare(QStringLiteral(
                "UPDATE kiosks SET state = 'enrolled', cert_fingerprint = ?2, enrolled_at_ms = ?3, "
                "pairing_code_hash = NULL, pairing_expires_at_ms = NULL, app_version = ?4, last_seen_ms = ?3, "
                "last_address = ?5 WHERE id = ?1"));
            u.bind(1, id).bind(2, pki::fingerprintSha256(*certificate)).bind(3, nowMs).bind(5, source);
            appVersion.isEmpty() ? u.bindNull(4) : u.bind(4, appVersion);
            if (const store::SqlError e = u.run(); !e.ok()) {
                tx.fail(e);
                return JobOutcome();
            }
            entry.kioskId = id;
            entry.subjectId = QString::number(id);
            entry.afterJson = compact(*kioskJson(tx.db(), id));
            audit::append(tx, entry);
            return JobOutcome::ok(QJsonObject{{QStringLiteral("kiosk_id"), id}, {QStringLiteral("name"), name},
                {QStringLiteral("certificate_pem"), QString::fromLatin1(*certificate)},
                {QStringLiteral("ca_pem"), QString::fromLatin1(ca.certPem)}, {QStringLiteral("kiosk_port"), kioskPort}});
        },
        [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
}

void list(ServiceContext &context, const CallPtr &call)
{
    store::Statement s = context.reader.prepare(QStringLiteral("SELECT id FROM kiosks ORDER BY name"));
    QJsonArray kiosks;
    while (s.step() == store::Statement::Step::Row) {
        if (const std::optional<QJsonObject> k = kioskJson(context.reader, s.int64(0)))
            kiosks.append(*k);
    }
    call->reply(QJsonObject{{QStringLiteral("kiosks"), kiosks}});
}

void revoke(ServiceContext &context, const CallPtr &call)
{
    const qint64 id = call->params().value(QLatin1String("kiosk_id")).toInteger();
    audit::Entry entry =
        auditEntry(context, *call, QStringLiteral("kiosk.revoke"), QStringLiteral("kiosk"), QString::number(id));
    entry.reason = call->params().value(QLatin1String("reason")).toString();
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [id, nowMs, entry](store::Transaction &tx) mutable {
            const std::optional<QJsonObject> before = kioskJson(tx.db(), id);
            if (!before)
                return JobOutcome::refuse(tx, rpc::ErrorCode::NotFound, QStringLiteral("no kiosk %1").arg(id));
            store::Statement u = tx.prepare(QStringLiteral(
                "UPDATE kiosks SET state = 'revoked', revoked_at_ms = ?2, pairing_code_hash = NULL, "
                "pairing_expires_at_ms = NULL WHERE id = ?1"));
            u.bind(1, id).bind(2, nowMs);
            if (const store::SqlError e = u.run(); !e.ok()) {
                tx.fail(e);
                return JobOutcome();
            }
            const std::optional<QJsonObject> after = kioskJson(tx.db(), id);
            entry.beforeJson = compact(*before);
            entry.afterJson = compact(*after);
            audit::append(tx, entry);
            return JobOutcome::ok(*after);
        },
        [&context, call, id](const store::Written<JobOutcome> &written) {
            if (written.committed() && context.server) {
                for (Client *client : context.server->clients()) {
                    if (client->kioskId == id)
                        client->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("kiosk revoked"));
                }
            }
            replyFrom(call, written);
        });
}

void reportHealth(ServiceContext &context, const CallPtr &call)
{
    const qint64 id = *call->client->kioskId; // only ever the caller's own row
    const QByteArray health = compact(call->params().value(QLatin1String("health")).toObject());
    const QString appVersion = call->params().value(QLatin1String("app_version")).toString();
    const qint64 nowMs = context.clock.wallMs();
    context.write(
        [id, health, appVersion, nowMs, source = call->sourceAddress](store::Transaction &tx) {
            store::Statement u = tx.prepare(QStringLiteral(
                "UPDATE kiosks SET health = ?2, last_seen_ms = ?3, last_address = ?4, "
                "app_version = coalesce(?5, app_version) WHERE id = ?1 AND state = 'enrolled'"));
            u.bind(1, id).bind(2, QString::fromUtf8(health)).bind(3, nowMs).bind(4, source);
            appVersion.isEmpty() ? u.bindNull(5) : u.bind(5, appVersion);
            if (const store::SqlError e = u.run(); !e.ok()) {
                tx.fail(e);
                return JobOutcome();
            }
            return JobOutcome::ok(QJsonObject{{QStringLiteral("recorded_at_ms"), nowMs}});
        },
        [call](const store::Written<JobOutcome> &written) { replyFrom(call, written); });
}

} // namespace

void bindKioskMethods(Dispatcher &dispatcher, ServiceContext &context)
{
    dispatcher.bind(QStringLiteral("kiosk.pairing.create"), [&context](const CallPtr &call) { createPairing(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.enrol"), [&context](const CallPtr &call) { enrol(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.list"), [&context](const CallPtr &call) { list(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.revoke"), [&context](const CallPtr &call) { revoke(context, call); });
    dispatcher.bind(QStringLiteral("kiosk.report_health"), [&context](const CallPtr &call) { reportHealth(context, call); });
}

} // namespace prepay::service
