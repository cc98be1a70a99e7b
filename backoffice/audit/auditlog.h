// The audit library's logging category, prepay.audit.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::audit {
Q_DECLARE_LOGGING_CATEGORY(lcAudit)
}
