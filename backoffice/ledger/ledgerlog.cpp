#include "ledgerlog.h"

namespace prepay::ledger {
Q_LOGGING_CATEGORY(lcLedger, "prepay.ledger")
}
