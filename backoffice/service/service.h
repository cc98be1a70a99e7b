// prepayd as a service: everything between the network and the libraries, composed once.
// start() makes sure the building's PKI exists (CA, server certificate — pki/), opens the API
// listener on both ports, the health endpoint, issues the first-admin setup code while no
// administrator exists, keeps staff sessions honest (lapsed ones ended in the table, revoked
// or disabled ones detached from their connections) once a minute, and every 2 seconds brings the
// kiosk directory feed up to date (sync/publisher.h) and pushes what changed to subscribers.
#pragma once

#include "service/config.h"

#include <QtCore/QJsonObject>
#include <QtCore/QObject>

#include <functional>
#include <memory>
#include <optional>

class QTimer;

namespace prepay {
class Clock;
}
namespace prepay::store {
class Store;
class Connection;
}
namespace prepay::staff {
class HashLimiter;
}
namespace prepay::billing {
class Biller;
}
namespace prepay::payments {
class PaymentService;
class RefundService;
}

namespace prepay::service {

class ApiServer;
class Dispatcher;
class HealthEndpoint;
struct ServiceContext;

class Service : public QObject
{
    Q_OBJECT

public:
    Service(const Clock &clock, store::Store &store, const Config &config, const QString &dataDir,
        QObject *parent = nullptr);
    ~Service() override;

    // Health figures of the other parts (the poller's), merged into GET /health and system.health.
    void addHealthSource(const QString &name, std::function<QJsonObject()> source);

    // The account and money methods need billing and the poller's command dispatch (prepayd
    // passes both before start(); without them those methods answer 'unavailable').
    void setBilling(billing::Biller *biller, std::function<void(const QList<qint64> &commandIds)> dispatchCommands);
    // The QR payment flow (before start()): topup.* use it, and each change of a top-up is
    // pushed to the connections following it (events.topup). Without it topup.* answer
    // 'unavailable'.
    // Refunds to the payer go through `refunds` (refund.request, approval.decide).
    void setPayments(payments::PaymentService *payments, payments::RefundService *refunds);

    // False and *error (what and where) when the PKI, the ports or the database cannot be used,
    // or a method of the contract has no handler.
    bool start(QString *error);
    void stop();

    // The one-time setup code issued at this start, if no administrator exists.
    std::optional<QString> setupCode() const { return m_setupCode; }
    QString caCertPath() const { return m_caCertPath; }
    quint16 staffPort() const;
    quint16 kioskPort() const;
    quint16 healthPort() const;
    int connectionCount() const;

private:
    QJsonObject health() const;
    void maintainSessions();
    void refreshDirectory();

    const Clock &m_clock;
    store::Store &m_store;
    Config m_config;
    QString m_dataDir;
    qint64 m_startedMs = 0;
    std::unique_ptr<store::Connection> m_reader;
    std::unique_ptr<staff::HashLimiter> m_hashes;
    std::unique_ptr<ServiceContext> m_context;
    std::unique_ptr<Dispatcher> m_dispatcher;
    ApiServer *m_server = nullptr;
    HealthEndpoint *m_health = nullptr;
    QTimer *m_sessionTimer = nullptr;
    QTimer *m_feedTimer = nullptr;
    bool m_refreshing = false;
    int m_refreshes = 0;
    QByteArray m_timeZone;
    billing::Biller *m_biller = nullptr;
    std::function<void(const QList<qint64> &)> m_dispatchCommands;
    payments::PaymentService *m_payments = nullptr;
    payments::RefundService *m_refunds = nullptr;
    QList<std::pair<QString, std::function<QJsonObject()>>> m_healthSources;
    std::optional<QString> m_setupCode;
    QString m_caCertPath;
};

} // namespace prepay::service
