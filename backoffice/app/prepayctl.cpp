// prepayctl — the command line for administrators, technicians and scripts. Composition root
// only: the commands live in backoffice/ctl.
#include "api/clock.h"
#include "api/logging.h"
#include "api/process.h"
#include "ctl/accountcommands.h"
#include "ctl/admincommands.h"
#include "ctl/auditcommands.h"
#include "ctl/backupcommands.h"
#include "ctl/controlcommands.h"
#include "ctl/dbcommands.h"
#include "ctl/ledgercommands.h"
#include "ctl/metercommands.h"
#include "ctl/pollcommands.h"
#include "ctl/receiptcommands.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>
#include <QtGui/QGuiApplication>

#include <cerrno>
#include <cstring>
#include <memory>

#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    // Drawing a receipt needs fonts: a QGuiApplication, offscreen when there is no display.
    std::unique_ptr<QCoreApplication> application;
    if (argc > 1 && std::strcmp(argv[1], "receipt") == 0) {
        if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY")
            && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
            qputenv("QT_QPA_PLATFORM", "offscreen");
        if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) { // a root shell on a server has none
            const QByteArray runtime = QByteArrayLiteral("/tmp/prepay-xdg-") + QByteArray::number(getuid());
            if (mkdir(runtime.constData(), 0700) == 0 || errno == EEXIST)
                qputenv("XDG_RUNTIME_DIR", runtime);
        }
        application = std::make_unique<QGuiApplication>(argc, argv);
    } else {
        application = std::make_unique<QCoreApplication>(argc, argv);
    }
    QCoreApplication &app = *application;
    app.setApplicationName(QStringLiteral("prepayctl"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());
    prepay::installLogging(prepay::LogVerbosity::Quiet);

    prepay::SystemClock clock;
    QTextStream out(stdout);
    QTextStream err(stderr);
    const QList<prepay::ctl::Command> commands = prepay::ctl::dbCommands() + prepay::ctl::meterCommands(clock) + prepay::ctl::pollCommands()
        + prepay::ctl::ledgerCommands() + prepay::ctl::controlCommands(clock) + prepay::ctl::accountCommands(clock)
        + prepay::ctl::auditCommands() + prepay::ctl::backupCommands(clock) + prepay::ctl::adminCommands()
        + prepay::ctl::receiptCommands();
    return prepay::ctl::runCommandLine(app.arguments(), commands, out, err);
}
