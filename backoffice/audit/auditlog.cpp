#include "auditlog.h"

namespace prepay::audit {
Q_LOGGING_CATEGORY(lcAudit, "prepay.audit")
}
