// Waiting in tests and benchmarks without blocking the event loop the code under test runs on.
#pragma once

#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <functional>

namespace prepay::test {

// Runs the event loop (idle, not spinning) until `done` or the deadline; false on the deadline.
inline bool runUntil(const std::function<bool()> &done, qint64 deadlineMs)
{
    if (done())
        return true;
    QEventLoop loop;
    QElapsedTimer t;
    t.start();
    bool met = false;
    QTimer check;
    check.setInterval(5);
    QObject::connect(&check, &QTimer::timeout, &loop, [&] {
        met = done();
        if (met || t.elapsed() > deadlineMs)
            loop.quit();
    });
    check.start();
    loop.exec();
    return met;
}

} // namespace prepay::test
