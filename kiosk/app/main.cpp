// prepay-kiosk — the lobby terminal (tenant mode) and the staff client (backoffice mode).
// Composition root only.
#include "api/process.h"

#include <QtCore/QCommandLineParser>
#include <QtGui/QGuiApplication>

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    app.setApplicationName(QStringLiteral("prepay-kiosk"));
    app.setApplicationVersion(prepay::versionLine({}).trimmed());

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The prepay lobby kiosk."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.process(app);
    return 0;
}
