// prepay-kiosk — the lobby terminal (tenant mode; staff mode comes later). Composition root
// only: it builds the backend and the tenant flow, publishes them to QML and loads the UI.
//   (default)           the real link to prepayd (kiosk/link) from the enrolled state directory
//                       (--state-dir DIR, default $XDG_STATE_HOME/prepay-kiosk)
//   --demo              the same, enrolled into the demo's directory by ./dev demo
//   --enrol HOST:PORT --pairing-code CODE --ca FILE   enrol this kiosk and exit
//   --offline-fixture   canned data, no backoffice (kiosk/fixture)
//   --screenshots DIR   every screen and state as PNGs, both languages (implies the fixture)
//   --screenshot FILE   the first screen as a PNG;  --self-test  non-zero on any QML warning
//   --lang zh_CN|en, --landscape, --high-contrast
//   --printer QUEUE [--cups SERVER] [--paper 80mm|a5|a4]   the receipt printer (kiosk/receipts)
#include "api/clock.h"
#include "api/logging.h"
#include "api/process.h"
#include "fixturebackend.h"
#include "fixtureprinter.h"
#include "receipts/cupsoutput.h"
#include "idle/idlesupervisor.h"
#include "link/linkbackend.h"
#include "link/statedir.h"
#include "qrimageprovider.h"
#include "screenshottour.h"
#include "selfcheck.h"
#include "tenantflow.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickWindow>

#include <cstdio>
#include <memory>

Q_IMPORT_QML_PLUGIN(PrepayPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_KioskPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_FixturePlugin)

namespace {

// --help, --version and --enrol print and exit: they must work over SSH, without a display, so
// they run on a QCoreApplication (a QGuiApplication needs a platform plugin to start).
bool needsGui(int argc, char *argv[])
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "--help" || arg == "-h" || arg == "--help-all" || arg == "--version" || arg == "-v"
            || arg == "--enrol" || arg.startsWith("--enrol="))
            return false;
    }
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    const std::unique_ptr<QCoreApplication> application = needsGui(argc, argv)
        ? std::make_unique<QGuiApplication>(argc, argv)
        : std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication &app = *application;
    app.setApplicationName(QStringLiteral("prepay-kiosk"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The prepay lobby kiosk: tenants check their balance and top up.\n\n"
                       "Without a display, run it with QT_QPA_PLATFORM=offscreen and --screenshot or --screenshots to see it."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption fixtureOption(QStringLiteral("offline-fixture"),
        QStringLiteral("Run on canned data with a scripted payment, without any backoffice."));
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
        QStringLiteral("Render the UI, save it to FILE (PNG) and exit."), QStringLiteral("FILE"));
    const QCommandLineOption screenshotsOption(QStringLiteral("screenshots"),
        QStringLiteral("Walk every screen and state over the fixture, in both languages, save a PNG of each "
                       "into DIR and exit."),
        QStringLiteral("DIR"));
    const QCommandLineOption selfTestOption(QStringLiteral("self-test"),
        QStringLiteral("Load the UI (with --offline-fixture: visit every screen) and exit; non-zero if QML printed a warning."));
    const QCommandLineOption langOption(QStringLiteral("lang"),
        QStringLiteral("The language to start in: zh_CN (default) or en. A finished session returns to Chinese."),
        QStringLiteral("CODE"), QStringLiteral("zh_CN"));
    const QCommandLineOption landscapeOption(QStringLiteral("landscape"), QStringLiteral("Lay out for a 1920×1080 panel."));
    const QCommandLineOption contrastOption(QStringLiteral("high-contrast"), QStringLiteral("The high-contrast palette."));
    const QCommandLineOption stateDirOption(QStringLiteral("state-dir"),
        QStringLiteral("The kiosk's state directory: its enrolment, certificate, replica and outbox (default %1).")
            .arg(prepay::kiosk::defaultStateDir()),
        QStringLiteral("DIR"));
    const QCommandLineOption demoOption(QStringLiteral("demo"),
        QStringLiteral("Run against the demo backoffice of ./dev demo: the state directory the demo enrolled "
                       "($PREPAY_DEMO_DIR/kiosk, default build/demo/kiosk)."));
    const QCommandLineOption enrolOption(QStringLiteral("enrol"),
        QStringLiteral("Enrol this kiosk with prepayd's staff port HOST:PORT (with --pairing-code and --ca), write "
                       "the state directory and exit."),
        QStringLiteral("HOST:PORT"));
    const QCommandLineOption pairingOption(QStringLiteral("pairing-code"),
        QStringLiteral("The one-time code staff made for this kiosk (prepayctl admin kiosk pair)."), QStringLiteral("CODE"));
    const QCommandLineOption caOption(QStringLiteral("ca"),
        QStringLiteral("The building's CA certificate (prepayd's DATA/pki/ca.crt), the only one trusted."),
        QStringLiteral("FILE"));
    const QCommandLineOption printerOption(QStringLiteral("printer"),
        QStringLiteral("The CUPS queue of the receipt printer (lpstat -p lists them). Without it the kiosk prints no "
                       "receipt."),
        QStringLiteral("QUEUE"));
    const QCommandLineOption cupsOption(QStringLiteral("cups"),
        QStringLiteral("The CUPS server (host:port or a socket path; default: the system's)."), QStringLiteral("SERVER"));
    const QCommandLineOption paperOption(QStringLiteral("paper"),
        QStringLiteral("The receipt paper: 80mm (default), a5 or a4."), QStringLiteral("PAPER"), QStringLiteral("80mm"));
    parser.addOptions({fixtureOption, screenshotOption, screenshotsOption, selfTestOption, langOption, landscapeOption,
        contrastOption, stateDirOption, demoOption, enrolOption, pairingOption, caOption, printerOption, cupsOption,
        paperOption});
    parser.process(app);
    prepay::installLogging(prepay::LogVerbosity::Normal);
    const QString lang = parser.value(langOption);
    if (lang != QLatin1String("zh_CN") && lang != QLatin1String("en")) {
        std::fprintf(stderr, "prepay-kiosk: --lang takes zh_CN or en, not %s\n", qPrintable(lang));
        return 64;
    }

    const std::optional<prepay::printer::Paper> paper = prepay::printer::paperFromCode(parser.value(paperOption));
    if (!paper) {
        std::fprintf(stderr, "prepay-kiosk: --paper takes 80mm, a5 or a4, not %s\n", qPrintable(parser.value(paperOption)));
        return 64;
    }

    const bool selfTest = parser.isSet(selfTestOption);
    if (selfTest)
        prepay::kiosk::countQmlWarnings();

    // The state directory: --demo's, --state-dir, or the default.
    QString stateDir = parser.value(stateDirOption);
    if (parser.isSet(demoOption)) {
        if (!stateDir.isEmpty()) {
            std::fprintf(stderr, "prepay-kiosk: --demo and --state-dir exclude each other\n");
            return 64;
        }
        const QString demoDir = qEnvironmentVariable("PREPAY_DEMO_DIR",
            QCoreApplication::applicationDirPath() + QStringLiteral("/../demo"));
        stateDir = QDir(demoDir).filePath(QStringLiteral("kiosk"));
    }
    if (stateDir.isEmpty())
        stateDir = prepay::kiosk::defaultStateDir();

    if (parser.isSet(enrolOption)) {
        return prepay::kiosk::enrolCommand(parser.value(enrolOption), parser.value(pairingOption),
            parser.value(caOption), stateDir, QCoreApplication::applicationVersion());
    }

    // The backend: the fixture (canned data), or the real link from the state directory. A kiosk
    // that cannot use its directory (not enrolled yet) shows Out of service and says why here.
    std::unique_ptr<prepay::kiosk::FixtureBackend> fixture;
    std::unique_ptr<prepay::kiosk::LinkBackend> link;
    const prepay::SystemClock clock;
    const bool tour = parser.isSet(screenshotsOption) || (selfTest && parser.isSet(fixtureOption));
    if (parser.isSet(fixtureOption) || tour) {
        fixture = std::make_unique<prepay::kiosk::FixtureBackend>();
    } else {
        link = std::make_unique<prepay::kiosk::LinkBackend>(stateDir, clock);
        QString error;
        if (!link->start(&error)) {
            std::fprintf(stderr,
                "prepay-kiosk: %s\n  (enrol it first: prepay-kiosk --enrol HOST:PORT --pairing-code CODE --ca FILE "
                "[--state-dir DIR]; or run --offline-fixture)\n",
                qPrintable(error));
            link.reset();
        }
    }

    // The receipt printer: the fixture's with the fixture, else CUPS when a queue is named.
    std::unique_ptr<prepay::kiosk::ReceiptOutput> printer;
    prepay::kiosk::FixturePrinter *fixturePrinter = nullptr; // the tour runs it out of paper
    if (fixture) {
        auto owned = std::make_unique<prepay::kiosk::FixturePrinter>();
        if (tour)
            owned->setPrintDelayMs(0); // the tour's pictures show the receipt printed
        fixturePrinter = owned.get();
        printer = std::move(owned);
    }
    else if (parser.isSet(printerOption))
        printer = std::make_unique<prepay::kiosk::CupsReceiptOutput>(parser.value(printerOption), parser.value(cupsOption), *paper);

    prepay::kiosk::TenantFlow flow;
    if (fixture)
        flow.setBackend(fixture.get());
    else if (link)
        flow.setBackend(link.get());
    flow.setReceiptOutput(printer.get());
    flow.setLanguage(lang);
    prepay::kiosk::ActivityFilter activity(flow.idle());
    app.installEventFilter(&activity);

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.addImageProvider(QStringLiteral("qr"), new prepay::kiosk::QrImageProvider);
    engine.setInitialProperties({{QStringLiteral("flow"), QVariant::fromValue(&flow)},
        {QStringLiteral("landscape"), parser.isSet(landscapeOption)},
        {QStringLiteral("highContrast"), parser.isSet(contrastOption)}});
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Prepay/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;

    if (tour) {
        auto *window = qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
        QTimer::singleShot(0, &app, [window, &flow, fixturePrinter, &parser, &screenshotsOption, selfTest] {
            const QString dir = parser.value(screenshotsOption);
            const prepay::kiosk::TourResult result = prepay::kiosk::runScreenshotTour(window, &flow, fixturePrinter, dir);
            int rc = 0;
            if (!result.error.isEmpty()) {
                std::fprintf(stderr, "prepay-kiosk: %s\n", qPrintable(result.error));
                rc = 1;
            }
            if (!dir.isEmpty())
                std::fprintf(stdout, "screenshots: %lld PNG files in %s\n", qlonglong(result.files.size()), qPrintable(dir));
            if (selfTest && prepay::kiosk::qmlWarningCount() > 0) {
                std::fprintf(stderr, "prepay-kiosk: %d warning(s) while visiting the UI\n", prepay::kiosk::qmlWarningCount());
                rc = 1;
            }
            QCoreApplication::exit(rc);
        });
    } else if (link && (selfTest || parser.isSet(screenshotOption))) {
        // The real link: the picture (and the self-test) once the kiosk is online — a kiosk
        // that cannot reach prepayd within linkCheckMs fails the self-test, saying so.
        constexpr int linkCheckMs = 20'000;
        auto grab = [&engine, &parser, &screenshotOption, selfTest, &link] {
            const bool online = link->linkState() == prepay::kiosk::LinkState::Online;
            if (!online)
                std::fprintf(stderr, "prepay-kiosk: not online with prepayd after %d s\n", linkCheckMs / 1000);
            else
                std::fprintf(stdout, "online with prepayd: %lld accounts in the replica\n",
                    qlonglong(link->replica().rows().size()));
            prepay::kiosk::grabAndQuit(engine, parser.value(screenshotOption), selfTest, 3, !online);
        };
        if (link->linkState() == prepay::kiosk::LinkState::Online) {
            grab();
        } else {
            auto *deadline = new QTimer(&app);
            deadline->setSingleShot(true);
            QObject::connect(deadline, &QTimer::timeout, &app, grab);
            QObject::connect(link.get(), &prepay::kiosk::Backend::linkStateChanged, deadline, [deadline, &link, grab] {
                if (link->linkState() == prepay::kiosk::LinkState::Online) {
                    deadline->stop();
                    deadline->deleteLater();
                    QTimer::singleShot(0, grab);
                }
            });
            deadline->start(linkCheckMs);
        }
    } else if (selfTest || parser.isSet(screenshotOption)) {
        prepay::kiosk::grabAndQuit(engine, parser.value(screenshotOption), selfTest);
    }
    return app.exec();
}
