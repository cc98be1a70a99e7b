// prepay-sim — plays the outside world of a building on this machine: gateways and meters
// (Modbus TCP, RTU on a pty), later an SMS modem and a payment-provider sandbox. Composition
// root only; each simulator lives in its own library under drivers/sim.
#include "api/clock.h"
#include "api/logging.h"
#include "api/process.h"
#include "sim/pay/paysandbox.h"
#include "sim/pay/paytap.h"
#include "sim/server/ctlcommand.h"
#include "sim/server/metersoptions.h"
#include "sim/server/simulation.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>

namespace {

const char overview[] = "Usage: prepay-sim COMMAND [options]\n"
                        "\n"
                        "Simulates the outside world of a prepay building on this machine, for the demo, the tests\n"
                        "and the benchmarks.\n"
                        "\n"
                        "Commands:\n"
                        "  meters --building FILE|demo [--port-base P] …   run the building's gateways and meters\n"
                        "                                                   (Modbus TCP, RTU on ptys, control API)\n"
                        "  ctl COMMAND …                                     talk to a running 'prepay-sim meters'\n"
                        "  pay [--port 8701] [--plain] [--keys DIR] …        run the payment-provider sandbox\n"
                        "                                                   (Alipay, WeChat Pay, UnionPay, pay pages)\n"
                        "  tap URL [--cancel]                                play the tenant's phone: open a sandbox\n"
                        "                                                   pay page (a QR's content) and press Pay\n"
                        "\n"
                        "Run 'prepay-sim COMMAND --help' for a command's options; --version prints the version.\n";

int runMeters(QCoreApplication &app, const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    const prepay::sim::MetersCommandLine command
        = prepay::sim::parseMetersCommandLine(QStringLiteral("prepay-sim meters"), arguments);
    if (command.outcome == prepay::sim::MetersCommandLine::Outcome::Help) {
        out << command.text;
        return 0;
    }
    if (command.outcome != prepay::sim::MetersCommandLine::Outcome::Run) {
        err << command.text << '\n';
        return command.exitCode();
    }
    prepay::installLogging(command.verbose ? prepay::LogVerbosity::Verbose : prepay::LogVerbosity::Normal);

    prepay::SystemClock clock;
    prepay::sim::MeterSimulation simulation(clock, command.config);
    const prepay::sim::MeterSimulation::StartResult started = simulation.start();
    if (started.outcome != prepay::sim::MeterSimulation::StartOutcome::Started) {
        err << "prepay-sim meters: " << started.message << '\n';
        return started.exitCode();
    }
    prepay::quitOnTerminationSignals(app);
    for (const QString &line : simulation.startLines())
        out << line << '\n';
    out << "ready" << Qt::endl; // flushed: scripts and tests wait for this line
    const int rc = app.exec();
    out << "stopped" << Qt::endl;
    return rc;
}

int runPay(QCoreApplication &app, const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    const prepay::sim::pay::PayCommandLine command
        = prepay::sim::pay::parsePayCommandLine(QStringLiteral("prepay-sim pay"), arguments);
    if (command.outcome == prepay::sim::pay::PayCommandLine::Outcome::Help) {
        out << command.text;
        return 0;
    }
    if (command.outcome != prepay::sim::pay::PayCommandLine::Outcome::Run) {
        err << command.text << '\n';
        return command.exitCode();
    }
    prepay::installLogging(prepay::LogVerbosity::Normal);
    prepay::sim::pay::PaySandbox sandbox(command.config);
    QString error;
    if (!sandbox.start(&error)) {
        err << "prepay-sim pay: " << error << '\n';
        return 1;
    }
    prepay::quitOnTerminationSignals(app);
    for (const QString &line : sandbox.startLines())
        out << line << '\n';
    out << "ready" << Qt::endl; // flushed: scripts and tests wait for this line
    const int rc = app.exec();
    out << "stopped" << Qt::endl;
    return rc;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("prepay-sim"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());
    QTextStream out(stdout);
    QTextStream err(stderr);

    const QStringList arguments = app.arguments();
    const QString first = arguments.value(1);
    if (first == u"meters")
        return runMeters(app, arguments.mid(2), out, err);
    if (first == u"pay")
        return runPay(app, arguments.mid(2), out, err);
    if (first == u"tap") {
        prepay::installLogging(prepay::LogVerbosity::Quiet);
        return prepay::sim::pay::runTap(QStringLiteral("prepay-sim tap"), arguments.mid(2), out, err);
    }
    if (first == u"ctl") {
        prepay::installLogging(prepay::LogVerbosity::Quiet);
        return prepay::sim::runCtl(QStringLiteral("prepay-sim ctl"), arguments.mid(2), out, err);
    }
    if (first == u"--version" || first == u"-v") {
        out << prepay::versionLine(app.applicationName()) << '\n';
        return 0;
    }
    const bool help = first == u"--help" || first == u"-h" || first == u"help";
    (help ? out : err) << QString::fromUtf8(overview);
    if (!help && !first.isEmpty())
        err << "\nprepay-sim: unknown command '" << first << "'\n";
    return help ? 0 : 64;
}
