#include "context.h"

#include "api/clock.h"
#include "audit/audit.h"
#include "service/dispatcher.h"

namespace prepay::service {

audit::Entry auditEntry(const ServiceContext &context, const Call &call, const QString &action,
    const QString &subjectKind, const QString &subjectId)
{
    audit::Entry entry;
    entry.atMs = context.clock.wallMs();
    entry.sourceAddress = call.sourceAddress;
    entry.action = action;
    entry.subjectKind = subjectKind;
    entry.subjectId = subjectId;
    entry.correlationId = call.correlationId;
    if (call.client) {
        if (call.client->staff) {
            entry.operatorId = call.client->staff->operatorId;
            entry.sessionId = call.client->staff->sessionId;
        }
        entry.kioskId = call.client->kioskId;
    }
    return entry;
}

} // namespace prepay::service
