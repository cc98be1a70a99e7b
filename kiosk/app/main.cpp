// prepay-kiosk — the lobby terminal (tenant mode; staff mode comes later). Composition root
// only: it builds the services, publishes them to QML and loads the UI.
#include "api/logging.h"
#include "api/process.h"
#include "selfcheck.h"

#include <QtCore/QCommandLineParser>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>

Q_IMPORT_QML_PLUGIN(PrepayPlugin)

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("prepay-kiosk"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The prepay lobby kiosk: tenants check their balance and top up.\n\n"
                       "Without a display, run it with QT_QPA_PLATFORM=offscreen and --screenshot to see it."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
        QStringLiteral("Render the UI, save it to FILE (PNG) and exit."), QStringLiteral("FILE"));
    const QCommandLineOption selfTestOption(
        QStringLiteral("self-test"), QStringLiteral("Load the UI and exit; non-zero if QML printed a warning."));
    parser.addOptions({screenshotOption, selfTestOption});
    parser.process(app);
    prepay::installLogging(prepay::LogVerbosity::Normal);

    const bool selfTest = parser.isSet(selfTestOption);
    if (selfTest)
        prepay::kiosk::countQmlWarnings();

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Prepay/Main.qml")));
    if (engine.rootObjects().isEmpty())
        return 1;
    if (selfTest || parser.isSet(screenshotOption))
        prepay::kiosk::grabAndQuit(engine, parser.value(screenshotOption), selfTest);
    return app.exec();
}
