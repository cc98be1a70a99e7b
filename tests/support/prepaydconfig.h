// A prepayd.conf for a test's prepayd: the API and health endpoint on free loopback ports, so
// prepayd processes of tests running in parallel (ctest -j) never compete for the defaults.
#pragma once

#include <QtCore/QFile>
#include <QtCore/QString>
#include <QtNetwork/QTcpServer>

#include <array>

namespace prepay::test {

// Writes DIR/prepayd.conf and returns its path.
inline QString writePrepaydConfig(const QString &dir)
{
    std::array<QTcpServer, 3> probes; // held open together, so the three ports differ
    for (QTcpServer &probe : probes)
        probe.listen(QHostAddress::LocalHost, 0);
    const QString path = dir + QStringLiteral("/prepayd.conf");
    QFile file(path);
    if (file.open(QIODevice::WriteOnly)) {
        file.write(QStringLiteral("[api]\nlisten_address = 127.0.0.1\nstaff_port = %1\nkiosk_port = %2\n"
                                  "[health]\nport = %3\n")
                       .arg(probes[0].serverPort())
                       .arg(probes[1].serverPort())
                       .arg(probes[2].serverPort())
                       .toUtf8());
    }
    return path;
}

} // namespace prepay::test
