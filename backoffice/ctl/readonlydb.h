// Opening the database file read only for a prepayctl command (prepayd may be running): --db is
// given, the file exists, and its schema is the one this prepayctl reads. On failure the
// message is printed and *rc holds the exit code (64 usage, 65 other schema, 66 cannot open).
#pragma once

#include "command.h"

#include "store/sqlite.h"

#include <memory>

namespace prepay::ctl {

std::unique_ptr<store::Connection> openReadOnlyDatabase(
    const Invocation &in, const QCommandLineOption &dbOption, int *rc);

} // namespace prepay::ctl
