// The control module's logging category, prepay.control.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::control {
Q_DECLARE_LOGGING_CATEGORY(lcControl)
}
