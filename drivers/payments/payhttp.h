// The real Transport (provider.h): one QNetworkAccessManager sending the adapters' calls as
// they are, and handing back the raw status, headers (all of them, in wire order) and body.
//
// What it guarantees, because every verification upstream depends on it:
//   - the body is the bytes received (Accept-Encoding: identity unless the caller set one, so
//     nothing is decompressed behind the signature's back);
//   - an HTTP error status is an answer, not a transport failure: 4xx/5xx come back as
//     Transport::Ok with their status and body;
//   - no redirects are followed, nothing is retried, no cookies are kept, nothing is cached;
//   - each call has its own transfer timeout (HttpCall::timeoutMs) → Transport::Timeout;
//   - TLS failures (an untrusted certificate included) → Transport::Failed.
// Answers come on the thread that owns the transport, exactly once per call, except that calls
// still pending when the transport is destroyed are aborted without an answer.
#pragma once

#include "payments/provider.h"

#include <QtCore/QObject>
#include <QtNetwork/QSslConfiguration>

#include <memory>

QT_BEGIN_NAMESPACE
class QNetworkAccessManager;
QT_END_NAMESPACE

namespace prepay::payments {

class NetworkTransport final : public QObject, public Transport
{
    Q_OBJECT
public:
    // caFile empty: the system's CAs. Otherwise the PEM certificates in caFile are trusted in
    // addition to them (the sandbox's private CA). Nothing, with *error naming the file, when
    // the file cannot be read or holds no certificate.
    static std::unique_ptr<NetworkTransport> create(const QString &caFile, QString *error);
    ~NetworkTransport() override;

    void send(const HttpCall &call, std::function<void(const HttpReply &)> done) override;

private:
    explicit NetworkTransport(const QSslConfiguration &tls);
    QNetworkAccessManager *m_manager = nullptr; // owned (child)
    QSslConfiguration m_tls;
};

} // namespace prepay::payments
