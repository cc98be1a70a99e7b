#include "framing.h"

#include "modbus/mapv1.h"

#include <utility>

namespace prepay::sim {

namespace {

quint16 be16(QByteArrayView bytes, int at)
{
    return quint16((quint8(bytes[at]) << 8) | quint8(bytes[at + 1]));
}

void appendBe16(QByteArray &out, quint16 value)
{
    out.append(char(value >> 8));
    out.append(char(value & 0xFF));
}

} // namespace

MbapStatus takeMbapFrame(QByteArray &buffer, MbapFrame *frame)
{
    if (buffer.size() < kMbapHeaderBytes)
        return MbapStatus::NeedMore;
    if (be16(buffer, 2) != 0)
        return MbapStatus::BadProtocolId;
    const int length = be16(buffer, 4); // unit id + PDU
    if (length < 2 || length > kPduMaxBytes + 1)
        return MbapStatus::BadLength;
    const int total = kMbapHeaderBytes - 1 + length;
    if (buffer.size() < total)
        return MbapStatus::NeedMore;
    frame->transactionId = be16(buffer, 0);
    frame->unitId = quint8(buffer.at(6));
    frame->pdu = buffer.mid(kMbapHeaderBytes, length - 1);
    buffer.remove(0, total);
    return MbapStatus::Frame;
}

QByteArray encodeMbap(quint16 transactionId, quint8 unitId, QByteArrayView pdu)
{
    QByteArray out;
    out.reserve(kMbapHeaderBytes + pdu.size());
    appendBe16(out, transactionId);
    appendBe16(out, 0);
    appendBe16(out, quint16(pdu.size() + 1));
    out.append(char(unitId));
    out.append(pdu);
    return out;
}

int rtuRequestLength(QByteArrayView head)
{
    if (head.size() < 2)
        return 0;
    switch (quint8(head[1])) {
    case 0x01: // read coils, discrete inputs, holding, input registers; write single coil,
    case 0x02: // write single register, diagnostics: address, function, 4 bytes, CRC
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x08: return 8;
    case 0x07: // read exception status, comm event counter/log, report server id
    case 0x0B:
    case 0x0C:
    case 0x11: return 4;
    case 0x0F: // write multiple coils / registers: byte count at offset 6
    case 0x10: return head.size() < 7 ? 0 : 9 + quint8(head[6]);
    case 0x16: return 10;                                           // mask write register
    case 0x17: return head.size() < 11 ? 0 : 13 + quint8(head[10]); // read/write multiple
    default: return -1;
    }
}

bool rtuCrcValid(QByteArrayView frame)
{
    if (frame.size() < kRtuFrameMinBytes)
        return false;
    const quint16 crc = meter::v1::crc16(frame.first(frame.size() - 2));
    return quint8(frame[frame.size() - 2]) == (crc & 0xFF) && quint8(frame[frame.size() - 1]) == (crc >> 8);
}

QByteArray encodeRtu(quint8 address, QByteArrayView pdu, bool corruptCrc)
{
    QByteArray out;
    out.reserve(pdu.size() + 3);
    out.append(char(address));
    out.append(pdu);
    quint16 crc = meter::v1::crc16(out);
    if (corruptCrc)
        crc = quint16(~crc);
    out.append(char(crc & 0xFF));
    out.append(char(crc >> 8));
    return out;
}

QList<QByteArray> RtuFramer::feed(QByteArrayView bytes)
{
    m_buffer.append(bytes);
    QList<QByteArray> frames;
    while (!m_buffer.isEmpty()) {
        const int length = rtuRequestLength(m_buffer);
        if (length <= 0 || m_buffer.size() < length)
            break; // unknown length or incomplete: the silence ends it
        frames.append(m_buffer.left(length));
        m_buffer.remove(0, length);
    }
    if (m_buffer.size() > kRtuFrameMaxBytes) // longer than any frame: garbage, resync on silence
        m_buffer.clear();
    return frames;
}

QByteArray RtuFramer::endOfSilence()
{
    return std::exchange(m_buffer, {});
}

} // namespace prepay::sim
