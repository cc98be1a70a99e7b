// How much power a simulated shop draws at a given simulated instant: a daily and weekly
// shape per kind of tenant (restaurant, retail, office, cold store, idle) plus noise, scaled to
// the meter's size. Deterministic: the same kind, size, seed and instant give the same watts,
// so a run can be replayed and a test can predict a meter's energy.
#pragma once

#include "building.h"

#include <QtCore/QtGlobal>

namespace prepay::sim {

class LoadProfile
{
public:
    // `peakW` is the draw at the busiest hour of the week before noise; `utcOffsetMinutes` puts
    // the shape on the building's local clock.
    LoadProfile(LoadProfileKind kind, qint64 peakW, quint64 seed, int utcOffsetMinutes);

    // The draw at `simMs`, constant within each minute of simulated time (so a meter
    // integrates it exactly and a test can sum it minute by minute), never negative.
    qint64 powerW(qint64 simMs) const;

    // A sensible peak for a meter: a share of what its maximum current carries at 220 V (× 3
    // phases), by kind of tenant.
    static qint64 defaultPeakW(LoadProfileKind kind, meter::v1::DeviceType deviceType, qint64 maxCurrentMa);

private:
    LoadProfileKind m_kind;
    qint64 m_peakW;
    quint64 m_seed;
    int m_utcOffsetMinutes;
};

} // namespace prepay::sim
