// The demo building on this machine for integration tests: prepay-sim serving it on a free port
// base, and a database seeded with it whose gateways point at that simulator. Tests only.
#pragma once

#include "freeports.h"

#include "store/seed.h"
#include "store/store.h"

#include <QtCore/QProcess>
#include <QtCore/QStringList>

namespace prepay::test {

inline QString binaryPath(const QString &name)
{
    return qEnvironmentVariable("PREPAY_BIN_DIR") + u'/' + name;
}

// Starts `prepay-sim meters --building demo --port-base base` plus `extra`, and waits for
// "ready". False, with what it printed in *log, if it did not come up.
inline bool startDemoSimulator(QProcess &sim, quint16 base, const QStringList &extra, QString *log)
{
    sim.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    sim.start(binaryPath(QStringLiteral("prepay-sim")),
        QStringList{QStringLiteral("meters"), QStringLiteral("--building"), QStringLiteral("demo"),
            QStringLiteral("--port-base"), QString::number(base)}
            + extra);
    if (!sim.waitForStarted()) {
        *log = QStringLiteral("prepay-sim does not start (is PREPAY_BIN_DIR set and the simulator built?)");
        return false;
    }
    QByteArray banner;
    while (!banner.contains("ready\n") && sim.waitForReadyRead(30'000))
        banner += sim.readAllStandardOutput();
    *log = QString::fromUtf8(banner);
    return banner.contains("ready\n");
}

// Seeds `store` (migrated, empty) with the demo building and points its gateways at a
// simulator on `base`.
inline bool seedDemoDatabase(store::Store &store, quint16 base)
{
    if (store::applySeed(store, QStringLiteral("demo")).outcome != store::SeedOutcome::Applied)
        return false;
    return store
        .write([base](store::Transaction &tx) {
            store::Statement s = tx.prepare(QStringLiteral("UPDATE gateways SET port = ?1 + id - 1"));
            s.bind(1, qint64(base));
            if (const store::SqlError e = s.run(); !e.ok())
                tx.fail(e);
        })
        .get()
        .committed();
}

} // namespace prepay::test
