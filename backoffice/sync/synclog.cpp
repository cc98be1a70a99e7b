#include "synclog.h"

namespace prepay::sync {
Q_LOGGING_CATEGORY(lcSync, "prepay.sync")
}
