// How handlers turn the end of a write job into a reply: a job that committed carries its
// result; one the job itself rolled back carries the business refusal it chose (a stable error
// code and message); anything else is an internal error, logged in full with the call's
// correlation id and told to the client without SQL details.
#pragma once

#include "api/jsonrpc.h"
#include "service/dispatcher.h"
#include "store/store.h"

#include <QtCore/QJsonDocument>

namespace prepay::service {

// What a job returns when it may refuse: either a result to send, or an error; the job calls
// tx.rollback() together with setting `error`, so nothing it did is kept.
struct JobOutcome
{
    QJsonValue result;
    std::optional<rpc::Error> error;

    static JobOutcome refuse(store::Transaction &tx, rpc::ErrorCode code, const QString &message)
    {
        tx.rollback(message);
        JobOutcome outcome;
        rpc::Error e;
        e.code = code;
        e.message = message;
        outcome.error = e;
        return outcome;
    }
    static JobOutcome ok(const QJsonValue &result)
    {
        JobOutcome outcome;
        outcome.result = result;
        return outcome;
    }
};

// Replies to `call` from a finished write of a JobOutcome.
void replyFrom(const CallPtr &call, const store::Written<JobOutcome> &written);
// An internal error: logged, and the client told to look for the correlation id.
void failInternal(const CallPtr &call, const QString &detail);

// prepayd is computing as many password hashes as it may at once (staff::HashLimiter).
void failBusy(const CallPtr &call);

// A nullable column as JSON: null for NULL (JSON-text columns parsed into an object).
QJsonValue intOrNull(const store::Statement &s, int column);
QJsonValue textOrNull(const store::Statement &s, int column);
QJsonValue objectOrNull(const store::Statement &s, int column);
// Inserts key → value unless it is null: members the docs mark optional are left out.
void insertPresent(QJsonObject &object, const QString &key, const QJsonValue &value);

inline QByteArray compact(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace prepay::service
