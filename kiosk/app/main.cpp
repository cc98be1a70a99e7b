// prepay-kiosk — the lobby terminal (tenant mode; staff mode comes later). Composition root
// only: it builds the backend and the tenant flow, publishes them to QML and loads the UI.
//   --offline-fixture   canned data, no backoffice (kiosk/fixture)
//   (--demo, the real link to prepayd, is wired when kiosk/link lands; without a backend the
//    kiosk shows Out of service)
//   --screenshots DIR   every screen and state as PNGs, both languages (implies the fixture)
//   --screenshot FILE   the first screen as a PNG;  --self-test  non-zero on any QML warning
//   --lang zh_CN|en, --landscape, --high-contrast
#include "api/logging.h"
#include "api/process.h"
#include "fixturebackend.h"
#include "idle/idlesupervisor.h"
#include "qrimageprovider.h"
#include "screenshottour.h"
#include "selfcheck.h"
#include "tenantflow.h"

#include <QtCore/QCommandLineParser>
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

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
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
    parser.addOptions({fixtureOption, screenshotOption, screenshotsOption, selfTestOption, langOption, landscapeOption,
        contrastOption});
    parser.process(app);
    prepay::installLogging(prepay::LogVerbosity::Normal);
    const QString lang = parser.value(langOption);
    if (lang != QLatin1String("zh_CN") && lang != QLatin1String("en")) {
        std::fprintf(stderr, "prepay-kiosk: --lang takes zh_CN or en, not %s\n", qPrintable(lang));
        return 64;
    }

    const bool selfTest = parser.isSet(selfTestOption);
    if (selfTest)
        prepay::kiosk::countQmlWarnings();

    // The backend: the fixture for now; the real link (kiosk/link) joins with --demo.
    std::unique_ptr<prepay::kiosk::FixtureBackend> fixture;
    const bool tour = parser.isSet(screenshotsOption) || (selfTest && parser.isSet(fixtureOption));
    if (parser.isSet(fixtureOption) || tour)
        fixture = std::make_unique<prepay::kiosk::FixtureBackend>();

    prepay::kiosk::TenantFlow flow;
    flow.setBackend(fixture.get());
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
        QTimer::singleShot(0, &app, [window, &flow, &parser, &screenshotsOption, selfTest] {
            const QString dir = parser.value(screenshotsOption);
            const prepay::kiosk::TourResult result = prepay::kiosk::runScreenshotTour(window, &flow, dir);
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
    } else if (selfTest || parser.isSet(screenshotOption)) {
        prepay::kiosk::grabAndQuit(engine, parser.value(screenshotOption), selfTest);
    }
    return app.exec();
}
