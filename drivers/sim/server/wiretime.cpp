#include "wiretime.h"

#include <QtCore/QString>

namespace prepay::sim {

QString WireTiming::validate() const
{
    if (baud < 0 || baud > kBaudMax)
        return QStringLiteral("baud: %1 is not 0 (no emulation) or 1..%2").arg(baud).arg(kBaudMax);
    if (bitsPerChar != 10 && bitsPerChar != 11)
        return QStringLiteral("bits per character: %1 is not 10 or 11").arg(bitsPerChar);
    if (turnaroundMinMs < 0 || turnaroundMaxMs < turnaroundMinMs || turnaroundMaxMs > kTurnaroundMaxMs)
        return QStringLiteral("turnaround: %1..%2 ms is not within 0..%3 ms with min ≤ max")
            .arg(turnaroundMinMs)
            .arg(turnaroundMaxMs)
            .arg(kTurnaroundMaxMs);
    return {};
}

qint64 WireTiming::characterNs() const
{
    if (!emulated())
        return 0;
    return qint64(bitsPerChar) * 1'000'000'000LL / baud;
}

qint64 WireTiming::gapUs() const
{
    if (!emulated())
        return 0;
    if (baud > kFixedGapAboveBaud)
        return kFixedGapUs;
    return characterNs() * 7 / 2 / 1000;
}

qint64 WireTiming::frameUs(int pduBytes) const
{
    return characterNs() * (pduBytes + kRtuOverheadBytes) / 1000;
}

qint64 WireTiming::requestUs(int requestPduBytes) const
{
    return frameUs(requestPduBytes) + gapUs();
}

qint64 WireTiming::responseUs(int responsePduBytes, qint64 turnaroundUs) const
{
    if (!emulated())
        return 0;
    return turnaroundUs + frameUs(responsePduBytes) + gapUs();
}

qint64 WireTiming::transactionUs(int requestPduBytes, int responsePduBytes, qint64 turnaroundUs) const
{
    return requestUs(requestPduBytes) + responseUs(responsePduBytes, turnaroundUs);
}

} // namespace prepay::sim
