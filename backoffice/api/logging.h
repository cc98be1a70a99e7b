// Logging: one Q_LOGGING_CATEGORY per library, all named prepay.* (prepay.store,
// prepay.poller, prepay.payments.alipay, …), and one line format for every executable.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay {

Q_DECLARE_LOGGING_CATEGORY(lcApi)

enum class LogVerbosity {
    Quiet,   // warnings and errors only (command-line tools)
    Normal,  // info and above (services)
    Verbose, // debug too
};

// Installs the one-line log format "2026-11-24T09:30:00.123 info prepay.store: message" (local
// time) on stderr and the filter for prepay.* categories. Executables call it at the start.
void installLogging(LogVerbosity verbosity);

} // namespace prepay
