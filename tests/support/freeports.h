// A base port for one prepay-sim: gateways on base+0..2 and its control interface on base+100,
// all free right now on 127.0.0.1. Tests and benchmarks that run a simulator beside others
// (ctest -j) start from different places so that they rarely even probe the same ports.
#pragma once

#include <QtCore/QCoreApplication>
#include <QtNetwork/QTcpServer>

namespace prepay::test {

inline bool simulatorPortsFree(quint16 base)
{
    for (int offset : {0, 1, 2, 100}) {
        QTcpServer probe;
        if (!probe.listen(QHostAddress::LocalHost, quint16(base + offset)))
            return false;
    }
    return true;
}

// Starts at first + (pid mod spread) and steps until every port is free.
inline quint16 freeSimulatorPortBase(quint16 first, int spread)
{
    quint16 base = quint16(first + QCoreApplication::applicationPid() % spread);
    while (!simulatorPortsFree(base))
        base = quint16(base + 7);
    return base;
}

} // namespace prepay::test
