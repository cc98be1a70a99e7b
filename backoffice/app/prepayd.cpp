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
#include "payments/notifyendpoint.h"
#include "payments/paymentservice.h"
#include "payments/providerset.h"
#include "payments/reconciler.h"
#include "payments/refundservice.h"
#include "poller/poller.h"
#include "poller/pollplan.h"
#include "service/config.h"
#include "service/service.h"
#include "store/store.h"

#include <prepay/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtNetwork/QHostAddress>

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
                       "configuration (buses, meters, tariffs) cannot be used, or the configuration file, the building's TLS files or the "
                       "API ports, the QR payment channels (keys, URLs) or the notify port cannot be used."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption dataOption(QStringLiteral("data"),
        QStringLiteral("Directory of the building's data (database, backups)."), QStringLiteral("DIR"));
    const QCommandLineOption configOption(QStringLiteral("config"),
        QStringLiteral("The configuration file (packaging/prepayd.conf documents every key; without it, the defaults)."),
        QStringLiteral("FILE"));
    const QCommandLineOption printConfigOption(
        QStringLiteral("print-config"), QStringLiteral("Print the effective configuration and exit."));
    const QCommandLineOption verboseOption(QStringLiteral("verbose"), QStringLiteral("Log debug messages too."));
    parser.addOptions({dataOption, configOption, printConfigOption, verboseOption});
    parser.process(app);

    prepay::service::Config config;
    if (parser.isSet(configOption)) {
        QString error;
        const std::optional<prepay::service::Config> loaded =
            prepay::service::loadConfigFile(parser.value(configOption), &error);
        if (!loaded) {
            std::fprintf(stderr, "prepayd: %s\n", qUtf8Printable(error));
            return 78; // EX_CONFIG
        }
        config = *loaded;
    }
    if (parser.isSet(printConfigOption)) {
        std::fputs(qUtf8Printable(prepay::service::formatConfig(config)), stdout);
        return 0;
    }
    prepay::installLogging(parser.isSet(verboseOption) || config.logVerbose ? prepay::LogVerbosity::Verbose
                                                                             : prepay::LogVerbosity::Normal,
        config.logFormat == prepay::service::LogFormat::Json ? prepay::LogLineFormat::Json : prepay::LogLineFormat::Text);
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

    // QR payments: the adapters of the configured channels, the payment flow (create, poll,
    // notifications) and the providers' notify endpoint. Credits queue meter jobs for the poller.
    std::unique_ptr<prepay::payments::ProviderSet> providers;
    {
        QString error;
        providers = prepay::payments::ProviderSet::load(config.payments, clock, &error);
        if (!providers) {
            qCCritical(lcDaemon, "QR payments cannot be used: %s", qUtf8Printable(error));
            store.stop();
            return 78; // EX_CONFIG
        }
    }
    prepay::payments::PaymentService payments(store, biller, clock);
    for (prepay::payments::Provider *provider : providers->providers())
        payments.setProvider(provider);
    QObject::connect(&payments, &prepay::payments::PaymentService::commandsQueued, &poller,
        [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    prepay::payments::RefundService refunds(store, biller, clock);
    for (prepay::payments::Provider *provider : providers->providers())
        refunds.setProvider(provider);
    QObject::connect(&refunds, &prepay::payments::RefundService::commandsQueued, &poller,
        [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    // The daily reconciliation (对账): yesterday's bills at 10:30 Beijing time; a late credit it
    // confirms goes to the poller and to the kiosks like any other.
    prepay::payments::Reconciler reconciler(store, biller, clock);
    for (prepay::payments::Provider *provider : providers->providers())
        reconciler.setProvider(provider);
    QObject::connect(&reconciler, &prepay::payments::Reconciler::commandsQueued, &poller,
        [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    QObject::connect(&reconciler, &prepay::payments::Reconciler::attemptChanged, &payments,
        &prepay::payments::PaymentService::attemptChanged);
    prepay::payments::NotifyEndpoint notify(payments);
    if (config.payments.notifyPort != 0) {
        QString error;
        const bool tlsOk = config.payments.notifyTlsCert.isEmpty()
            || notify.setTls(config.payments.notifyTlsCert, config.payments.notifyTlsKey, &error);
        if (!tlsOk
            || !notify.listen(QHostAddress(config.payments.notifyListenAddress), config.payments.notifyPort, &error)) {
            qCCritical(lcDaemon, "the payment notify endpoint cannot be used: %s", qUtf8Printable(error));
            store.stop();
            return 78; // EX_CONFIG
        }
    }

    prepay::service::Service service(clock, store, config, dataDir);
    service.addHealthSource(QStringLiteral("poller"), [&poller] {
        QJsonArray buses;
        int offline = 0;
        for (const prepay::poller::BusHealth &bus : poller.health()) {
            offline += bus.offlineMeters;
            buses.append(QJsonObject{{QStringLiteral("bus_id"), bus.busId},
                {QStringLiteral("last_cycle_ms"), bus.lastCycleDurationMs},
                {QStringLiteral("last_cycle_meters"), bus.lastCycleMeters},
                {QStringLiteral("last_cycle_errors"), bus.lastCycleErrors},
                {QStringLiteral("offline_meters"), bus.offlineMeters}});
        }
        return QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}, {QStringLiteral("buses"), buses},
            {QStringLiteral("offline_meters"), offline}};
    });
    service.setBilling(&biller, [&poller](const QList<qint64> &ids) { poller.dispatchCommands(ids); });
    service.setPayments(&payments, &refunds);
    service.addHealthSource(QStringLiteral("payments"), [&providers, &notify, &config] {
        return QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")},
            {QStringLiteral("channels"), QJsonArray::fromStringList(providers->channelCodes())},
            {QStringLiteral("notify_port"), config.payments.notifyPort != 0 ? int(notify.port()) : 0}};
    });
    {
        QString error;
        if (!service.start(&error)) {
            qCCritical(lcDaemon, "%s", qUtf8Printable(error));
            store.stop();
            return 78; // EX_CONFIG
        }
    }
    if (const std::optional<QString> code = service.setupCode()) {
        // Printed once, on stdout only (never in the log): whoever started prepayd creates the
        // first administrator with it (setup.create_admin, or prepayctl admin setup).
        std::printf("prepayd: no administrator exists yet. One-time setup code: %s\n"
                    "         create the first administrator with it (valid until prepayd restarts).\n",
            qUtf8Printable(*code));
        std::fflush(stdout);
    }

    prepay::quitOnTerminationSignals(app);
    poller.start();
    payments.start();
    refunds.start();
    reconciler.start();
    const QStringList channels = providers->channelCodes();
    qCInfo(lcDaemon, "%s ready: database %s at schema v%d; API on staff port %u, kiosk port %u; health on %u; "
                     "QR payments: %s",
        qUtf8Printable(prepay::versionLine(app.applicationName())), qUtf8Printable(store.path()),
        store.schemaVersion(), unsigned(service.staffPort()), unsigned(service.kioskPort()),
        unsigned(service.healthPort()),
        qUtf8Printable(channels.isEmpty() ? QStringLiteral("none configured")
                                          : channels.join(QStringLiteral(", "))
                    + (config.payments.notifyPort != 0 ? QStringLiteral(" (notify on port %1)").arg(notify.port())
                                                       : QStringLiteral(" (no notify endpoint: polling alone)"))));

    const int rc = app.exec();
    service.stop(); // no new calls; the replies of calls in flight are dropped with their connections
    poller.stop(); // finishes each bus's transaction in flight and stores what was read
    store.stop();
    qCInfo(lcDaemon, "stopped");
    return rc;
}
