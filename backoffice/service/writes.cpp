#include "writes.h"

#include "service/servicelog.h"

#include <QtCore/QJsonDocument>

namespace prepay::service {

void failInternal(const CallPtr &call, const QString &detail)
{
    qCWarning(lcService, "%s %s: %s", qUtf8Printable(call->correlationId), qUtf8Printable(call->request.method),
        qUtf8Printable(detail));
    call->fail(rpc::ErrorCode::InternalError,
        QStringLiteral("prepayd could not complete this (its log says why under %1); nothing was changed")
            .arg(call->correlationId));
}

void failBusy(const CallPtr &call)
{
    call->fail(rpc::ErrorCode::RateLimited,
        QStringLiteral("prepayd is busy checking other passwords: try again in a few seconds"));
}

QJsonValue intOrNull(const store::Statement &s, int column)
{
    return s.isNull(column) ? QJsonValue(QJsonValue::Null) : QJsonValue(s.int64(column));
}

QJsonValue textOrNull(const store::Statement &s, int column)
{
    return s.isNull(column) ? QJsonValue(QJsonValue::Null) : QJsonValue(s.text(column));
}

QJsonValue objectOrNull(const store::Statement &s, int column)
{
    return s.isNull(column) ? QJsonValue(QJsonValue::Null)
                            : QJsonValue(QJsonDocument::fromJson(s.text(column).toUtf8()).object());
}

void insertPresent(QJsonObject &object, const QString &key, const QJsonValue &value)
{
    if (!value.isNull())
        object.insert(key, value);
}

void replyFrom(const CallPtr &call, const store::Written<JobOutcome> &written)
{
    switch (written.status) {
    case store::WriteStatus::Committed:
        // A job may commit what it recorded (an expiry) and still answer with an error.
        if (written.value.error)
            call->fail(written.value.error->code, written.value.error->message, written.value.error->data);
        else
            call->reply(written.value.result);
        return;
    case store::WriteStatus::RolledBack:
        if (written.value.error) {
            call->fail(written.value.error->code, written.value.error->message, written.value.error->data);
            return;
        }
        failInternal(call, QStringLiteral("rolled back: ") + written.reason);
        return;
    case store::WriteStatus::Failed: failInternal(call, written.error.toString()); return;
    case store::WriteStatus::Stopped:
        call->fail(rpc::ErrorCode::Unavailable, QStringLiteral("prepayd is stopping; nothing was changed"));
        return;
    }
}

} // namespace prepay::service
