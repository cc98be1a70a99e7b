// The client side of the API: one TLS 1.3 WebSocket to prepayd, JSON-RPC calls matched to their
// replies by id, server notifications as a signal. The kiosk, prepayctl's admin commands, the
// tests and the benchmarks all use it. It trusts only the building's CA (given, never the
// system's), so a man in the middle with any other certificate is refused.
//
// call() is asynchronous; callBlocking() spins a local event loop until the reply, a timeout or
// the connection's end (for command-line tools and tests — never from a GUI's main loop).
#pragma once

#include "api/jsonrpc.h"

#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QObject>
#include <QtCore/QUrl>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslKey>

#include <functional>
#include <variant>

class QWebSocket;

namespace prepay::rpc {

struct Endpoint
{
    QString host;
    quint16 port = 0;
    QSslCertificate ca;              // the building's CA
    QSslCertificate clientCertificate; // enrolled kiosks only
    QSslKey clientKey;
};

using Outcome = std::variant<QJsonValue, Error>;
inline bool succeeded(const Outcome &outcome) { return std::holds_alternative<QJsonValue>(outcome); }

class RpcClient : public QObject
{
    Q_OBJECT

public:
    explicit RpcClient(QObject *parent = nullptr);
    ~RpcClient() override;

    // Opens the connection; connected() or failed(reason) follows.
    void open(const Endpoint &endpoint);
    // Opens and waits; false and *error with the reason (TLS refusal, refused, timeout).
    bool openBlocking(const Endpoint &endpoint, int timeoutMs, QString *error);
    void close();
    bool isOpen() const;

    // Sends a call; `done` runs once with the result or the error (Unavailable when the
    // connection ends first). Returns the request id.
    qint64 call(const QString &method, const QJsonObject &params, std::function<void(const Outcome &)> done);
    Outcome callBlocking(const QString &method, const QJsonObject &params, int timeoutMs = 10000);

    // Sends raw text (tests of malformed frames) and returns the next reply frame, parsed.
    QJsonObject sendRawBlocking(const QByteArray &frame, int timeoutMs = 10000);

Q_SIGNALS:
    void connected();
    void failed(const QString &reason);
    void disconnected();
    void notification(const QString &method, const QJsonObject &params);

private:
    void onFrame(const QString &text);
    void failAll(const QString &reason);

    QWebSocket *m_socket = nullptr;
    qint64 m_nextId = 0;
    QHash<qint64, std::function<void(const Outcome &)>> m_pending;
    std::function<void(const QJsonObject &)> m_rawWaiter;
    QString m_lastError;
};

} // namespace prepay::rpc
