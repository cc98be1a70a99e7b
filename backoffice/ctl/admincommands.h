// prepayctl admin …: the administrator's commands against a running prepayd, through its API
// (docs/api.md) over TLS 1.3 — unlike the other commands, which open the database file. Each
// run connects to --server, trusts only the building's CA (--ca, e.g. DATA/pki/ca.crt), logs in
// as --login, makes its call(s) and logs out; prepayd decides, checks permissions and writes
// the audit rows. The password is never a command-line argument (it would show in `ps` and
// shell history): it comes from --password-file, the environment variable PREPAY_PASSWORD or
// standard input (without echo on a terminal), in that order.
//
// Exit codes, one per class of failure so scripts can tell them apart (also in every --help):
//   0 done; 1 import: the file was refused (every bad row printed "line N, column C: …");
//   2 refused by prepayd (its message printed); 3 cannot connect (refused, TLS, wrong CA);
//   4 login failed (wrong login or password, locked, session ended); 5 no answer in time or
//   the connection dropped after the request was sent — the outcome is unknown (a recharge is
//   repeated safely with the same --key); 64 usage; 66 cannot read a file named on the command
//   line; 73 cannot write --out.
#pragma once

#include "command.h"

namespace prepay::ctl {
QList<Command> adminCommands();
}
