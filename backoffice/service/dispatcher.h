// The dispatcher: every request frame of every connection goes through dispatch(), which
// decodes it (api/jsonrpc.h), applies the connection's rate limit, finds the method in the
// contract (api/methods.h — the one table of names, schemas and who may call what), checks the
// caller against the permission matrix, checks the params against the method's schema, and only
// then runs the handler the service bound to that name. A handler therefore never sees an
// unauthorised caller or a malformed request, and every refusal is a JSON-RPC error with a
// stable code and a message naming the field.
//
// Handlers may answer later (after a write job commits): they hold the CallPtr and call reply()
// or fail() once. A reply to a connection that has gone away is dropped.
#pragma once

#include "api/contract.h"
#include "api/jsonrpc.h"
#include "service/client.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QJsonObject>

#include <functional>
#include <memory>

namespace prepay {
class Clock;
}

namespace prepay::service {

class Call
{
public:
    rpc::Request request;
    QPointer<Client> client;
    rpc::Principal principal = rpc::Principal::Anonymous;
    QString correlationId; // "c12.7": connection 12, its 7th call; in logs and audit rows
    QString sourceAddress;

    const QJsonObject &params() const { return request.params; }

    void reply(const QJsonValue &result);
    void fail(rpc::ErrorCode code, const QString &message, const QJsonObject &data = {});
    bool answered() const { return m_answered; }

private:
    friend class Dispatcher;
    void finish(const QByteArray &frame, const QString &outcome);
    bool m_answered = false;
    QElapsedTimer m_timer;
};
using CallPtr = std::shared_ptr<Call>;
using Handler = std::function<void(const CallPtr &call)>;

class Dispatcher
{
public:
    Dispatcher(const Clock &clock, QList<rpc::MethodSpec> contract, int frameMaxBytes);

    // Binds the handler of a contract method (once each; a name outside the contract is a
    // programmer error).
    void bind(const QString &method, Handler handler);
    // Contract methods without a handler (prepayd refuses to start with any).
    QStringList unbound() const;
    const QList<rpc::MethodSpec> &contract() const { return m_contract; }

    void dispatch(Client &client, const QByteArray &frame);

    // What a staff session on a connection allows right now: drops it (and says why) when it
    // expired or went idle too long.
    static std::optional<QString> expireSession(Client &client, qint64 nowMs);

private:
    const Clock &m_clock;
    QList<rpc::MethodSpec> m_contract;
    QHash<QString, qsizetype> m_index;
    QHash<QString, Handler> m_handlers;
    int m_frameMaxBytes;
};

} // namespace prepay::service
