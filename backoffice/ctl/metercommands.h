// prepayctl meter …: the technician's tool — read, recharge, relay, tariff, thresholds and
// clock of one meter, straight over Modbus TCP or RTU (no prepayd needed).
#pragma once

#include "command.h"

namespace prepay {
class Clock;
}

namespace prepay::ctl {
QList<Command> meterCommands(const Clock &clock);
}
