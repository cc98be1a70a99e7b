// prepayctl ledger …: the ledger contract checked on a database file (read only, prepayd may be
// running), and balances for people.
#pragma once

#include "command.h"

namespace prepay::ctl {
QList<Command> ledgerCommands();
}
