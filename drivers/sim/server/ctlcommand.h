// "prepay-sim ctl": the command-line client of a running simulator's control interface
// (controlserver.h). Each subcommand is one HTTP request to 127.0.0.1:<control port>; it prints
// the JSON answer (status, truth, fault list) or a one-line result, and on an error the
// server's message with a non-zero exit code:
//   64 bad command line · 65 the simulator refused the request (its message is printed) ·
//   69 no simulator answers on the control port.
#pragma once

#include <QtCore/QStringList>

class QTextStream;

namespace prepay::sim {

inline constexpr int kCtlRequestTimeoutMs = 10'000;

// `arguments` are what follows "prepay-sim ctl". Needs a QCoreApplication (runs a local event
// loop for the request).
int runCtl(const QString &program, const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace prepay::sim
