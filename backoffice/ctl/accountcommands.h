// prepayctl account …, meter replace, operator add: the account lifecycle (accounts/lifecycle.h)
// and the first staff accounts, run on the database file through the store's writer. Each
// command is one write transaction; a refused request changes nothing and says why.
// prepayd reads its poll plan and queued commands at start: restart it after these.
#pragma once

#include "command.h"

namespace prepay {
class Clock;
}

namespace prepay::ctl {
QList<Command> accountCommands(const Clock &clock);
}
