// The ledger's logging category, prepay.ledger.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::ledger {
Q_DECLARE_LOGGING_CATEGORY(lcLedger)
}
