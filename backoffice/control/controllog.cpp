#include "controllog.h"

namespace prepay::control {
Q_LOGGING_CATEGORY(lcControl, "prepay.control")
}
