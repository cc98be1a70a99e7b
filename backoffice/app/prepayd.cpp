// prepayd — the backoffice service of one building. Composition root only: it parses the
// command line, opens the store and runs the event loop; every feature lives in a library.
#include "api/clock.h"
#include "api/logging.h"
#include "api/process.h"
#include "billing/biller.h"
#include "billing/tariff.h"
#include "commands/commandexecutor.h"
#include "commands/commandstore.h"
#include "control/pipeline.h"
#include "poller/poller.h"
#include "poller/pollplan.h"
#include "store/store.h"

#include <prepay/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>

#include <cstdio>

namespace {
Q_LOGGING_CATEGORY(lcDaemon, "prepay.daemon")
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("prepayd"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The prepay backoffice service of one building: it owns the database (the only writer of "
                       "money and meter state).\n\n"
                       "On start it creates DIR and DIR/prepay.db if needed and migrates the database to the "
                       "newest schema (taking a copy first). It runs until SIGTERM or SIGINT.\n\n"
                       "Exit codes: 0 stopped cleanly, 64 bad command line, 65 database newer than this "
                       "prepayd, 66 cannot open the database, 70 migration failed (database restored), 73 cannot "
                       "copy the database before migrating, 74 cannot configure the database file, 78 the building's "
                       "configuration (buses, meters, tariffs) cannot be used."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption dataOption(QStringLiteral("data"),
        QStringLiteral("Directory of the building's data (database, backups)."), QStringLiteral("DIR"));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"), QStringLiteral("Log debug messages too."));
    parser.addOptions({dataOption, verboseOption});
    parser.process(app);

    prepay::installLogging(parser.isSet(verboseOption) ? prepay::LogVerbosity::Verbose : prepay::LogVerbosity::Normal);
    if (!parser.isSet(dataOption)) {
        std::fputs("prepayd: --data DIR is required (see --help)\n", stderr);
        return 64;
    }
    const QString dataDir = QDir(parser.value(dataOption)).absolutePath();
    if (!QDir().mkpath(dataDir)) {
        qCCritical(lcDaemon, "cannot create the data directory %s", qUtf8Printable(dataDir));
        return 73;
    }

    prepay::SystemClock clock;
    prepay::store::OpenResult opened = prepay::store::Store::open(dataDir + QStringLiteral("/prepay.db"), clock);
    if (!opened.store) {
        qCCritical(lcDaemon, "%s", qUtf8Printable(opened.message));
        return prepay::store::exitCodeFor(opened.outcome);
    }
    prepay::store::Store &store = *opened.store;

    prepay::poller::PollPlan plan;
    {
        QString error;
        const std::unique_ptr<prepay::store::Connection> reader = store.openReader();
        if (!reader || !prepay::poller::loadPollPlan(*reader, &plan, &error)) {
            qCCritical(lcDaemon, "cannot poll this building: %s", qUtf8Printable(error));
            return 78; // EX_CONFIG
        }
    }
    auto book = std::make_shared<prepay::billing::TariffBook>();
    {
        QString error;
        const std::unique_ptr<prepay::store::Connection> reader = store.openReader();
        if (!reader || !prepay::billing::TariffBook::load(*reader, book.get(), &error)) {
            qCCritical(lcDaemon, "cannot bill this building: %s", qUtf8Printable(error));
            return 78; // EX_CONFIG
        }
    }
    prepay::billing::Biller biller(book);
    prepay::commands::CommandStore commands(store, clock);
    prepay::commands::CommandExecutor executor(commands, clock);
    prepay::poller::Poller poller(store, clock, std::move(plan), &commands, &executor);

    // Every readings batch is billed and the control policy applied in its own transaction.
    prepay::control::BatchPipeline pipeline(
        biller, clock, [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    pipeline.install(poller.recorder());

    prepay::quitOnTerminationSignals(app);
    poller.start();
    qCInfo(lcDaemon, "%s ready: database %s at schema v%d", qUtf8Printable(prepay::versionLine(app.applicationName())),
        qUtf8Printable(store.path()), store.schemaVersion());

    const int rc = app.exec();
    poller.stop(); // finishes each bus's transaction in flight and stores what was read
    store.stop();
    qCInfo(lcDaemon, "stopped");
    return rc;
}
