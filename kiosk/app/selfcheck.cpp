#include "selfcheck.h"

#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtQml/QQmlApplicationEngine>
#include <QtQuick/QQuickWindow>

#include <atomic>
#include <cstdio>
#include <memory>

namespace prepay::kiosk {

namespace {

std::atomic<int> warnings{0};
QtMessageHandler previousHandler = nullptr;

void countingHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    // Qt's QML engine reports through the "qml" and "js" categories and the default one.
    if (type >= QtWarningMsg && type != QtInfoMsg)
        ++warnings;
    if (previousHandler)
        previousHandler(type, context, message);
}

} // namespace

void countQmlWarnings()
{
    previousHandler = qInstallMessageHandler(countingHandler);
}

int qmlWarningCount()
{
    return warnings.load();
}

void grabAndQuit(QQmlApplicationEngine &engine, const QString &path, bool failOnWarnings, int frames, bool failed)
{
    const QList<QObject *> roots = engine.rootObjects();
    auto *window = roots.isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(roots.first());
    if (!window) {
        std::fputs("prepay-kiosk: the UI did not load\n", stderr);
        QTimer::singleShot(0, qApp, [] { QCoreApplication::exit(1); });
        return;
    }
    auto remaining = std::make_shared<int>(frames);
    QObject::connect(window, &QQuickWindow::frameSwapped, window, [window, path, failOnWarnings, remaining, failed] {
        if (--*remaining > 0) {
            window->update();
            return;
        }
        QObject::disconnect(window, &QQuickWindow::frameSwapped, window, nullptr);
        int rc = failed ? 1 : 0;
        if (!path.isEmpty()) {
            const QImage image = window->grabWindow();
            if (image.isNull() || !image.save(path)) {
                std::fprintf(stderr, "prepay-kiosk: cannot save the screenshot to %s\n", qPrintable(path));
                rc = 1;
            } else {
                std::fprintf(stdout, "screenshot: %s (%dx%d)\n", qPrintable(path), image.width(), image.height());
            }
        }
        if (failOnWarnings && qmlWarningCount() > 0) {
            std::fprintf(stderr, "prepay-kiosk: %d warning(s) while loading the UI\n", qmlWarningCount());
            rc = 1;
        }
        QTimer::singleShot(0, qApp, [rc] { QCoreApplication::exit(rc); });
    });
    window->update();
}

} // namespace prepay::kiosk
