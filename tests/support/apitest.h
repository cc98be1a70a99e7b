// What the API tests share: prepayd's Service composed in process on free loopback ports (its own
// PKI in the test's directory), the endpoint a staff client connects to, and how a call's outcome
// is read and printed. Tests that include this link prepay_service and prepay_rpcclient.
#pragma once

#include "api/rpcclient.h"
#include "service/config.h"
#include "service/service.h"

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtNetwork/QTcpServer>

#include <memory>

namespace prepay::billing {
class Biller;
}

namespace prepay::test {

inline rpc::ErrorCode codeOf(const rpc::Outcome &outcome)
{
    return std::holds_alternative<rpc::Error>(outcome) ? std::get<rpc::Error>(outcome).code : rpc::ErrorCode(0);
}

inline QString describe(const rpc::Outcome &outcome)
{
    if (rpc::succeeded(outcome)) {
        return QStringLiteral("ok ")
            + QString::fromUtf8(QJsonDocument(std::get<QJsonValue>(outcome).toObject()).toJson(QJsonDocument::Compact));
    }
    const rpc::Error &e = std::get<rpc::Error>(outcome);
    return rpc::errorCodeName(e.code) + QStringLiteral(": ") + e.message;
}

inline QJsonObject resultOf(const rpc::Outcome &outcome)
{
    return rpc::succeeded(outcome) ? std::get<QJsonValue>(outcome).toObject() : QJsonObject();
}

inline quint16 freeLoopbackPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}

// Loopback only, the API on any free ports (a file cannot say 0; a test can), the health
// endpoint on a free port, and a request budget no test reaches by accident.
inline service::Config loopbackConfig()
{
    service::Config config;
    config.listenAddress = QStringLiteral("127.0.0.1");
    config.staffPort = 0;
    config.kioskPort = 0;
    config.healthPort = freeLoopbackPort();
    config.requestsPerSecond = 100000;
    config.requestsBurst = 100000;
    return config;
}

struct RunningService
{
    std::unique_ptr<service::Service> service;
    QSslCertificate ca;   // the building's CA prepayd created in the directory
    QString setupCode;    // the first administrator's one-time code
    QString error;        // why it did not start (service is null then)
};

// Starts the Service on `store` with its data (PKI) in `dataDir`; with billing when `biller` is
// given (the account and money methods need it), its meter commands collected in `dispatched`.
inline RunningService startService(const Clock &clock, store::Store &store, const QString &dataDir,
    const service::Config &config, billing::Biller *biller = nullptr, QList<qint64> *dispatched = nullptr)
{
    RunningService running;
    auto service = std::make_unique<service::Service>(clock, store, config, dataDir);
    if (biller) {
        service->setBilling(biller, [dispatched](const QList<qint64> &ids) {
            if (dispatched)
                *dispatched += ids;
        });
    }
    if (!service->start(&running.error))
        return running;
    running.setupCode = service->setupCode().value_or(QString());
    QFile ca(service->caCertPath());
    if (ca.open(QIODevice::ReadOnly))
        running.ca = QSslCertificate(ca.readAll(), QSsl::Pem);
    running.service = std::move(service);
    return running;
}

inline rpc::Endpoint staffEndpoint(const service::Service &service, const QSslCertificate &ca)
{
    rpc::Endpoint endpoint;
    endpoint.host = QStringLiteral("127.0.0.1");
    endpoint.port = service.staffPort();
    endpoint.ca = ca;
    return endpoint;
}

} // namespace prepay::test
