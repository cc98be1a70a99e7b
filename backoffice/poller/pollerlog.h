// The poller's logging category, prepay.poller.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::poller {
Q_DECLARE_LOGGING_CATEGORY(lcPoller)
}
