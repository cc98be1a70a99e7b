// prepayctl backup, restore and verify: the database file as a whole. `backup` copies it with
// SQLite's online backup API while prepayd runs and keeps the copy only once it verifies;
// `restore` puts a verified backup in place of a stopped prepayd's file, keeping the file it
// replaces; `verify` runs every check on a file (read only, prepayd may be running).
#pragma once

#include "command.h"

namespace prepay {
class Clock;
}

namespace prepay::ctl {
// The clock stamps the name under which restore keeps the replaced file.
QList<Command> backupCommands(const Clock &clock);
} // namespace prepay::ctl
