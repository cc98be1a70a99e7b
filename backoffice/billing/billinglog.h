// Billing's logging category, prepay.billing.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::billing {
Q_DECLARE_LOGGING_CATEGORY(lcBilling)
}
