#include "reading.h"

namespace prepay::poller {

QString readReasonCode(ReadReason reason)
{
    switch (reason) {
    case ReadReason::Cycle: return QStringLiteral("cycle");
    case ReadReason::ReadNow: return QStringLiteral("read_now");
    case ReadReason::Probe: return QStringLiteral("probe");
    case ReadReason::Verify: return QStringLiteral("verify");
    }
    Q_UNREACHABLE();
}

QString commStateCode(CommState state)
{
    switch (state) {
    case CommState::Unknown: return QStringLiteral("unknown");
    case CommState::Online: return QStringLiteral("online");
    case CommState::Offline: return QStringLiteral("offline");
    }
    Q_UNREACHABLE();
}

} // namespace prepay::poller
