#include "stafflog.h"

namespace prepay::staff {
Q_LOGGING_CATEGORY(lcStaff, "prepay.staff")
}
