// The staff library's logging category, prepay.staff.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::staff {
Q_DECLARE_LOGGING_CATEGORY(lcStaff)
}
