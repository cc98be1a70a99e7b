// Modbus framing on the two transports, as pure functions over bytes (no sockets, no time):
// MBAP for Modbus TCP (FIELD-PROTOCOLS.md §4.4) and the RTU frame for the pty buses (§3.5, §4.1).
// The gateway and RTU servers own the sockets and the silence timer; these only cut and build
// frames, so they can be checked byte by byte.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QtGlobal>

namespace prepay::sim {

// ---- Modbus TCP (MBAP) ------------------------------------------------------------------------
inline constexpr int kMbapHeaderBytes = 7; // TID 2, protocol id 2, length 2, unit id 1
inline constexpr int kPduMaxBytes = 253;   // 256-byte RTU frame − address − CRC

struct MbapFrame
{
    quint16 transactionId = 0;
    quint8 unitId = 0;
    QByteArray pdu;
};

enum class MbapStatus {
    Frame,         // one frame taken off the buffer
    NeedMore,      // the buffer holds part of a frame
    BadProtocolId, // protocol id ≠ 0: not Modbus; the stream cannot be trusted any more
    BadLength,     // length field outside 2..254 (unit id + 1..253 bytes of PDU)
};

// Takes the first complete frame off the front of `buffer` into *frame.
MbapStatus takeMbapFrame(QByteArray &buffer, MbapFrame *frame);
QByteArray encodeMbap(quint16 transactionId, quint8 unitId, QByteArrayView pdu);

// ---- Modbus RTU -------------------------------------------------------------------------------
inline constexpr int kRtuFrameMinBytes = 4; // address, function, CRC 2
inline constexpr int kRtuFrameMaxBytes = 256;

// How long the RTU request starting with `head` is, judged from its function code (and byte
// count for the multiple writes): > 0 the full frame length, 0 when more bytes are needed to
// tell, −1 when the function code does not tell (the end is found by silence).
int rtuRequestLength(QByteArrayView head);
// The frame's CRC-16/MODBUS (low byte first on the wire) matches its contents.
bool rtuCrcValid(QByteArrayView frame);
// address + PDU + CRC; with `corruptCrc` the CRC is inverted (a frame spoilt on the wire).
QByteArray encodeRtu(quint8 address, QByteArrayView pdu, bool corruptCrc = false);

// Cuts a byte stream into RTU frames: by length where the function code tells, otherwise at
// the next silence (the caller runs the 3.5-character timer and calls endOfSilence()).
class RtuFramer
{
public:
    // Appends received bytes; returns the frames completed by length.
    QList<QByteArray> feed(QByteArrayView bytes);
    // A silence of 3.5 characters: whatever is buffered is one frame (maybe garbage).
    QByteArray endOfSilence();
    bool hasPartialFrame() const { return !m_buffer.isEmpty(); }

private:
    QByteArray m_buffer;
};

} // namespace prepay::sim
