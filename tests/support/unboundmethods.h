// Stand-ins for the contract methods this build has no handler for yet (the contract is defined
// ahead of its handlers, which land area by area). prepayd refuses to start while any method is
// unbound; a test or benchmark that composes the Service binds these through Service::bindAlso()
// so it can start, and each stand-in answers internal_error naming the method — it never
// pretends to work. Once every handler exists, Dispatcher::unbound() is empty and this binds
// nothing. Tests and benchmarks only: never linked into prepayd.
#pragma once

#include "service/dispatcher.h"

namespace prepay::test {

inline void bindUnboundToInternalError(service::Dispatcher &dispatcher)
{
    const QStringList unbound = dispatcher.unbound();
    for (const QString &method : unbound) {
        dispatcher.bind(method, [method](const service::CallPtr &call) {
            call->fail(rpc::ErrorCode::InternalError,
                QStringLiteral("%1 has no handler in this build (a test stand-in)").arg(method));
        });
    }
}

} // namespace prepay::test
