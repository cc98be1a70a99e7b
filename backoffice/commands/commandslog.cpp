#include "commandslog.h"

namespace prepay::commands {
Q_LOGGING_CATEGORY(lcCommands, "prepay.commands")
}
