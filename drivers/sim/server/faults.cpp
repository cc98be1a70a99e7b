#include "faults.h"

#include <array>
#include <utility>

namespace prepay::sim {

namespace {

struct KindName
{
    FaultKind kind;
    const char *name;
    bool transport;
    bool persistent;
};

constexpr std::array kKinds = {
    KindName{FaultKind::NoReply, "no_reply", true, true},
    KindName{FaultKind::LateReply, "late_reply", true, true},
    KindName{FaultKind::CrcGarbage, "crc_garbage", true, true},
    KindName{FaultKind::WrongTid, "wrong_tid", true, true},
    KindName{FaultKind::Exception, "exception", true, true},
    KindName{FaultKind::Offline, "offline", true, true},
    KindName{FaultKind::Disconnect, "disconnect", false, false},
    KindName{FaultKind::Refuse, "refuse", false, true},
    KindName{FaultKind::CounterReset, "counter_reset", false, false},
    KindName{FaultKind::Rollover, "rollover", false, false},
    KindName{FaultKind::Swap, "swap", false, false},
    KindName{FaultKind::Frozen, "frozen", false, true},
    KindName{FaultKind::Jump, "jump", false, false},
    KindName{FaultKind::DeviceFailure, "device_failure", false, true},
    KindName{FaultKind::Busy, "busy", false, true},
};

static_assert(
    [] {
        for (std::size_t i = 0; i < kKinds.size(); ++i) {
            if (kKinds[i].kind != FaultKind(i))
                return false;
        }
        return true;
    }(),
    "kKinds is indexed by FaultKind");

const KindName &entry(FaultKind kind)
{
    return kKinds[std::size_t(kind)];
}

// Specificity of a target for the "most specific wins" rule.
int level(FaultTarget::Scope scope)
{
    switch (scope) {
    case FaultTarget::Scope::Meter: return 3;
    case FaultTarget::Scope::Bus: return 2;
    case FaultTarget::Scope::Gateway: return 1;
    }
    return 0;
}

} // namespace

QString faultKindName(FaultKind kind)
{
    return QString::fromLatin1(entry(kind).name);
}

std::optional<FaultKind> faultKindFromName(QStringView name)
{
    for (const KindName &k : kKinds) {
        if (name == QLatin1StringView(k.name))
            return k.kind;
    }
    return std::nullopt;
}

QStringList faultKindNames()
{
    QStringList names;
    for (const KindName &k : kKinds)
        names << QString::fromLatin1(k.name);
    return names;
}

bool isTransportFault(FaultKind kind)
{
    return entry(kind).transport;
}

bool isPersistentFault(FaultKind kind)
{
    return entry(kind).persistent;
}

void FaultTable::add(const Fault &fault)
{
    m_faults.append(fault);
}

std::optional<Fault> FaultTable::remove(int id)
{
    for (qsizetype i = 0; i < m_faults.size(); ++i) {
        if (m_faults.at(i).id == id)
            return m_faults.takeAt(i);
    }
    return std::nullopt;
}

QList<Fault> FaultTable::takeAll()
{
    return std::exchange(m_faults, {});
}

const Fault *FaultTable::transportFault(int gateway, int bus, int meterIndex, int function) const
{
    const Fault *best = nullptr;
    for (const Fault &f : m_faults) {
        if (!isTransportFault(f.kind) || f.target.gateway != gateway)
            continue;
        if (f.params.function && *f.params.function != function)
            continue;
        const FaultTarget &t = f.target;
        const bool applies = t.scope == FaultTarget::Scope::Gateway
            || (t.scope == FaultTarget::Scope::Bus && t.bus == bus)
            || (t.scope == FaultTarget::Scope::Meter && meterIndex >= 0 && t.meterIndex == meterIndex);
        // Later faults of the same level win: ">=" over the list in insertion order.
        if (applies && (!best || level(t.scope) >= level(best->target.scope)))
            best = &f;
    }
    return best;
}

bool FaultTable::hasGatewayFault(FaultKind kind, int gateway) const
{
    for (const Fault &f : m_faults) {
        if (f.kind == kind && f.target.scope == FaultTarget::Scope::Gateway && f.target.gateway == gateway)
            return true;
    }
    return false;
}

bool FaultTable::hasMeterFault(FaultKind kind, int meterIndex) const
{
    for (const Fault &f : m_faults) {
        if (f.kind == kind && f.target.scope == FaultTarget::Scope::Meter && f.target.meterIndex == meterIndex)
            return true;
    }
    return false;
}

} // namespace prepay::sim
