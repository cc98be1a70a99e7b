// What every prepay executable does the same way at start: its version line, and quitting the
// event loop cleanly on SIGTERM/SIGINT (so the store finishes the transaction in flight).
#pragma once

#include <QtCore/QString>

class QCoreApplication;

namespace prepay {

// "prepayd 0.1.0 (commit 0123abcdef)" — what every --version prints.
QString versionLine(const QString &program);

// Makes SIGTERM and SIGINT call app.quit() from the event loop (not from the signal handler).
void quitOnTerminationSignals(QCoreApplication &app);

} // namespace prepay
