// prepayctl audit …: the hash-chained audit log checked on a database file (read only, prepayd
// may be running).
#pragma once

#include "command.h"

namespace prepay::ctl {
QList<Command> auditCommands();
}
