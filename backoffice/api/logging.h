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

enum class LogLineFormat {
    Text, // "2026-11-24T09:30:00.123 info prepay.store: message" (local time)
    Json, // {"time":"2026-11-24T01:30:00.123Z","level":"info","category":"prepay.store","message":"…"}
};

// Installs one line per event on stderr, in the given format, and the filter for prepay.*
// categories. Executables call it at the start. Calls carry their correlation id ("c12.7") at
// the start of the message, so one call's lines can be found in either format.
void installLogging(LogVerbosity verbosity, LogLineFormat format = LogLineFormat::Text);

} // namespace prepay
