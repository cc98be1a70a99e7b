// prepayctl control … and billing …: what the control policy would do now (who would be cut, and
// why), how far each prepaid meter's balance and purchases are from the ledger (reconcile), and
// whether stored charges still recompute — read from the database file, changing nothing
// (prepayd may be running).
#pragma once

#include "command.h"

namespace prepay {
class Clock;
}

namespace prepay::ctl {
QList<Command> controlCommands(const Clock &clock);
}
