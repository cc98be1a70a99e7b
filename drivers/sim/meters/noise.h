// Deterministic noise for the simulated meters (private to prepay_sim_meters): values that
// look random but are a pure function of (seed, stream, index), so a run replays exactly and
// nothing is drawn from the environment. Doubles here only shape loads and measurements; they
// are rounded to watts, volts or amperes before anything is counted or charged.
#pragma once

#include <QtCore/QtGlobal>

namespace prepay::sim::noise {

// SplitMix64's finaliser: a good 64-bit mix, so neighbouring inputs give unrelated outputs.
inline quint64 mix(quint64 x)
{
    x += 0x9E37'79B9'7F4A'7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D0'49BB'1331'11EBULL;
    return x ^ (x >> 31);
}

// Rounds towards negative infinity (simulated instants before 1970 stay on the right minute).
inline qint64 floorDiv(qint64 a, qint64 b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

inline qint64 floorMod(qint64 a, qint64 b)
{
    return a - floorDiv(a, b) * b;
}

// Uniform in [-1, 1), the same for the same (seed, stream, index).
inline double unit(quint64 seed, quint64 stream, qint64 index)
{
    const quint64 h = mix(seed ^ mix(stream ^ mix(quint64(index))));
    return double(h >> 11) / double(1ULL << 52) - 1.0;
}

// Value noise in [-1, 1]: a random level every `knot` steps, joined by smoothstep, so it
// drifts instead of jumping.
inline double smooth(quint64 seed, quint64 stream, qint64 index, qint64 knot)
{
    const qint64 k = floorDiv(index, knot);
    const double t = double(index - k * knot) / double(knot);
    const double s = t * t * (3.0 - 2.0 * t);
    const double a = unit(seed, stream, k);
    const double b = unit(seed, stream, k + 1);
    return a + (b - a) * s;
}

} // namespace prepay::sim::noise
