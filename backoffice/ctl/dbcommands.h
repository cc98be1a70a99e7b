// prepayctl db …: the database file without a running prepayd (status, migrate, seed).
#pragma once

#include "command.h"

namespace prepay::ctl {
QList<Command> dbCommands();
}
