// RS-485 wire time of one Modbus RTU transaction (../shared/notes/FIELD-PROTOCOLS.md §4.1–4.2):
//
//   t = (Lreq + Lrsp) · bits/baud + 2 · 3.5 · bits/baud + turnaround
//
// with L the RTU frame lengths (PDU + address + CRC = PDU + 3 bytes). The simulator holds a
// bus for exactly this long per transaction, split into the request half (request frame and the
// 3.5-character gap that ends it) and the response half (turnaround, response frame, gap), so
// a poller measured against it sees the physics of a real bus. Above 19200 baud the Modbus
// serial-line spec fixes the gap at 1.75 ms instead of 3.5 characters (§4.1); at or below
// 19200 — every case the formula's table covers — the two agree. Baud 0 means "no wire
// emulation": every time here is 0, turnaround included.
#pragma once

#include <QtCore/QString>
#include <QtCore/QtGlobal>

namespace prepay::sim {

struct WireTiming
{
    int baud = 9600; // 0 = no wire emulation
    int bitsPerChar = 11;
    int turnaroundMinMs = 10;
    int turnaroundMaxMs = 30;

    static constexpr int kBaudMax = 921'600;
    static constexpr int kTurnaroundMaxMs = 10'000;
    static constexpr int kRtuOverheadBytes = 3; // address + CRC around the PDU
    static constexpr int kFixedGapAboveBaud = 19'200;
    static constexpr qint64 kFixedGapUs = 1750;

    bool emulated() const { return baud > 0; }
    // Checks the ranges (baud 0 or 1..kBaudMax, bits 10 or 11, 0 ≤ min ≤ max ≤ kTurnaroundMaxMs);
    // returns an empty string or what is wrong.
    QString validate() const;

    // One character on the wire, in nanoseconds (0 without emulation).
    qint64 characterNs() const;
    // The inter-frame gap: 3.5 characters, or 1.75 ms above 19200 baud.
    qint64 gapUs() const;
    // An RTU frame carrying `pduBytes` of PDU.
    qint64 frameUs(int pduBytes) const;
    // Request frame + gap: when the meter has the whole request.
    qint64 requestUs(int requestPduBytes) const;
    // Turnaround + response frame + gap: from "meter has the request" to "bus free again".
    qint64 responseUs(int responsePduBytes, qint64 turnaroundUs) const;
    // The whole transaction (the formula above).
    qint64 transactionUs(int requestPduBytes, int responsePduBytes, qint64 turnaroundUs) const;
};

} // namespace prepay::sim
