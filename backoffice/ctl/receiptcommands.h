// prepayctl receipt: the receipt renderer (drivers/printer/receipt.h) and the CUPS driver
// (drivers/printer/cupsprinter.h) from the command line — for a technician setting up a kiosk's
// printer, and for checking a receipt's layout without a kiosk.
#pragma once

#include "ctl/command.h"

namespace prepay::ctl {

QList<Command> receiptCommands();

} // namespace prepay::ctl
