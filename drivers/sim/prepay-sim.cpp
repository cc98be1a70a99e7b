// prepay-sim — plays the outside world of a building on this machine: gateways and meters
// (Modbus TCP, RTU on a pty), an SMS modem and a payment-provider sandbox. Composition root
// only; each simulator lives in its own library under drivers/sim.
#include "api/process.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("prepay-sim"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Simulates the outside world of a prepay building on this machine, for the demo, the "
                       "tests and the benchmarks.\n\n"
                       "This build has no simulators yet; the meter simulator (prepay-sim meters) is next."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    parser.showHelp(64);
}
