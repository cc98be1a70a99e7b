// prepayctl receipt: the receipt renderer (drivers/printer/receipt.h) and the CUPS driver
// (drivers/printer/cupsprinter.h) from the command line — for a technician setting up a kiosk's
// printer, for checking a receipt's layout without a kiosk, and for staff who print a real
// receipt (a counter sale, a refund slip, a reprint) as prepayd reports it (receipt.get), or ask
// whether a receipt's QR is genuine (receipt.verify).
#pragma once

#include "ctl/command.h"
#include "printer/receipt.h"

#include <QtCore/QJsonObject>

#include <optional>

namespace prepay::ctl {

QList<Command> receiptCommands();

} // namespace prepay::ctl
