#include "servicelog.h"

namespace prepay::service {
Q_LOGGING_CATEGORY(lcService, "prepay.service")
}
