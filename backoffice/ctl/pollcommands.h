// prepayctl poll …: what prepayd's poller reports (per bus: cycle time, error rate, offline
// meters), read from the database — staff can look while prepayd runs.
#pragma once

#include "command.h"

namespace prepay::ctl {
QList<Command> pollCommands();
}
