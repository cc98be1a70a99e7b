#include "pollerlog.h"

namespace prepay::poller {
Q_LOGGING_CATEGORY(lcPoller, "prepay.poller")
}
