// The sync library's logging category, prepay.sync.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::sync {
Q_DECLARE_LOGGING_CATEGORY(lcSync)
}
