// A Modbus TCP server for unit tests of the driver's wrapper, that misbehaves on purpose
// (STYLE.md habit 10, like libmodbus's own tests/unit-test-server.c): each request takes the
// next queued behaviour — answer, stay silent, answer late, answer with another transaction
// id, answer with an exception, or hang up. Register values are a function of the address
// unless set, so a reply to the wrong request is visible. Runs on its own thread (the client
// under test blocks); tests only, never a stand-in for the simulator in integration tests.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QtGlobal>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace prepay::test {

class FakeModbusServer
{
public:
    enum class Behaviour {
        Answer,
        LostRequest, // the request never arrives: not handled, no answer
        LostReply,   // handled, but the answer is lost
        Late,        // answer after `param` ms
        WrongTid,    // answer with transaction id + 1
        Exception,   // answer exception `param`
        HangUp,      // close the connection without answering
    };

    FakeModbusServer();
    ~FakeModbusServer();

    quint16 port() const { return m_port; }

    // The next request gets this behaviour (queued; Answer once the queue is empty).
    void push(Behaviour behaviour, int param = 0);
    void setRegister(quint16 address, quint16 value);
    // Lets something else answer the PDUs (a SimMeter in driver tests): (unit, request PDU) →
    // response PDU. Without it the server is a plain register store.
    void setHandler(std::function<QByteArray(quint8 unit, const QByteArray &pdu)> handler);
    static quint16 defaultValue(quint16 address) { return quint16(address ^ 0x5A5A); }

    int requests() const { return m_requests.load(); }
    int connections() const { return m_connections.load(); }
    // Every FC 0x10 received: (address, values).
    QList<std::pair<quint16, QList<quint16>>> writes() const;

private:
    void run();
    void serve(int fd);

    int m_listenFd = -1;
    quint16 m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_requests{0};
    std::atomic<int> m_connections{0};
    mutable std::mutex m_mutex;
    std::deque<std::pair<Behaviour, int>> m_queue;
    QMap<quint16, quint16> m_registers;
    std::function<QByteArray(quint8, const QByteArray &)> m_handler;
    QList<std::pair<quint16, QList<quint16>>> m_writes;
    std::thread m_thread;
    std::vector<std::thread> m_lateReplies; // a late reply must not hold up other connections
};

} // namespace prepay::test
