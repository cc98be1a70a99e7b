// The commands library's logging category, prepay.commands.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::commands {
Q_DECLARE_LOGGING_CATEGORY(lcCommands)
}
