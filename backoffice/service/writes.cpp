#include "writes.h"

#include "service/servicelog.h"

namespace prepay::service {

void failInternal(const CallPtr &call, const QString &detail)
{
    qCWarning(lcService, "%s %s: %s", qUtf8Printable(call->correlationId), qUtf8Printable(call->request.method),
        qUtf8Printable(detail));
    call->fail(rpc::ErrorCode::InternalError,
        QStringLiteral("prepayd could not complete this (its log says why under %1); nothing was changed")
            .arg(call->correlationId));
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
