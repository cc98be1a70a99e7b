// Logging: one Q_LOGGING_CATEGORY per library, all named prepay.* (prepay.store,
// prepay.poller, prepay.payments.alipay, …), and one line format for every executable.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay {

Q_DECLARE_LOGGING_CATEGORY(lcApi)

// Installs the one-line log format "2026-11-24T09:30:00.123 info prepay.store: message" (local
// time) on stderr and the default filter (prepay.* info and above; debug too when `verbose`).
// Executables call it first thing in main().
void installLogging(bool verbose);

} // namespace prepay
