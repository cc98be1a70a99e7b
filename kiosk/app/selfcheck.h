// Headless checks of the running kiosk, used by the demo, the tests and technicians:
//  --screenshot FILE  renders the first frames offscreen, saves the window to FILE, exits;
//  --self-test        loads the UI and exits non-zero if QML printed any warning.
#pragma once

#include <QtCore/QString>

class QQmlApplicationEngine;

namespace prepay::kiosk {

// Counts QML warnings from now on (installs a message handler that still prints them).
void countQmlWarnings();
int qmlWarningCount();

// Once the engine's first window has drawn `frames` frames, saves it to `path` (if not empty)
// and quits the application with 0, or with 1 if saving failed or (`failOnWarnings`) any QML
// warning was printed, or `failed` (a check of the caller's failed: the picture is saved all the same).
void grabAndQuit(QQmlApplicationEngine &engine, const QString &path, bool failOnWarnings, int frames = 3, bool failed = false);

} // namespace prepay::kiosk
