// Random tests log their seed and replay it (RELIABILITY.md §8: a failing seed must replay
// identically): PREPAY_TEST_SEED=<n> pins it, otherwise a fresh one is drawn and printed.
#pragma once

#include <QtCore/QRandomGenerator>
#include <QtCore/QtGlobal>

namespace prepay::test {

inline quint32 testSeed()
{
    bool ok = false;
    const quint32 pinned = qEnvironmentVariable("PREPAY_TEST_SEED").toUInt(&ok);
    const quint32 seed = ok ? pinned : QRandomGenerator::system()->generate();
    qInfo("random seed %u (replay with PREPAY_TEST_SEED=%u)", seed, seed);
    return seed;
}

} // namespace prepay::test
