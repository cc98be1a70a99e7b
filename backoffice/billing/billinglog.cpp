#include "billinglog.h"

namespace prepay::billing {
Q_LOGGING_CATEGORY(lcBilling, "prepay.billing")
}
