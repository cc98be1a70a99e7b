// The store's logging category, prepay.store.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::store {
Q_DECLARE_LOGGING_CATEGORY(lcStore)
}
