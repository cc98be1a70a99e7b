// ModbusClient (the libmodbus wrapper) against a server that misbehaves on purpose: every
// failure class comes back as its named error, a late or mismatched reply is never taken for
// the answer to a later request, a refused connection backs off, and the timing follows the
// line speed.
#include "fakemodbusserver.h"
#include "manualclock.h"
#include "modbus/client.h"

#include <QtTest/QTest>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace prepay;
using namespace prepay::modbus;
using Behaviour = prepay::test::FakeModbusServer::Behaviour;

namespace {

Endpoint tcpEndpoint(quint16 port)
{
    Endpoint e;
    e.kind = Endpoint::Kind::Tcp;
    e.host = QStringLiteral("127.0.0.1");
    e.port = port;
    e.baud = 0;
    return e;
}

BusTiming fastTiming()
{
    BusTiming t;
    t.responseTimeoutMs = 150;
    return t;
}

QList<quint16> expected(quint16 address, int count)
{
    QList<quint16> v;
    for (int i = 0; i < count; ++i)
        v.append(test::FakeModbusServer::defaultValue(quint16(address + i)));
    return v;
}

} // namespace

class TestModbusClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsAndWrites();
    void exceptionKeepsTheConnection_data();
    void exceptionKeepsTheConnection();
    void timeoutThenLateReplyIsNeverTakenForTheNextAnswer();
    void wrongTransactionIdIsABadReplyAndRecovers();
    void hangUpIsConnectionLostAndReconnects();
    void refusedConnectionBacksOff();
    void argumentsOutsideTheProtocolAreRefusedWithoutIo();
    void descriptorsAbove1023AreRefused();
    void timingFollowsTheLineSpeed();
    void exitCodesPerFailureClass();

private:
    test::ManualClock m_clock;
};

void TestModbusClient::readsAndWrites()
{
    test::FakeModbusServer server;
    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    const Result<QList<quint16>> r = client.readRegisters(7, 0x1000, 48);
    QVERIFY2(r.ok(), qPrintable(r.error.message));
    QCOMPARE(r.value, expected(0x1000, 48));

    const quint16 values[] = {1, 2, 3};
    QVERIFY(client.writeRegisters(7, 0x1200, values).ok());
    QCOMPARE(server.writes().size(), 1);
    QCOMPARE(server.writes().first().first, quint16(0x1200));
    QCOMPARE(server.writes().first().second, (QList<quint16>{1, 2, 3}));
    QCOMPARE(client.readRegisters(7, 0x1200, 3).value, (QList<quint16>{1, 2, 3}));
    QCOMPARE(server.connections(), 1);
    QCOMPARE(client.stats().requests, 3);
}

void TestModbusClient::exceptionKeepsTheConnection_data()
{
    QTest::addColumn<int>("code");
    for (int code : {1, 2, 3, 4, 6, 10, 11})
        QTest::newRow(qPrintable(QStringLiteral("exception %1").arg(code))) << code;
}

void TestModbusClient::exceptionKeepsTheConnection()
{
    QFETCH(int, code);
    test::FakeModbusServer server;
    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    server.push(Behaviour::Exception, code);
    const Result<QList<quint16>> r = client.readRegisters(3, 0x1000, 4);
    QCOMPARE(r.error.kind, ErrorKind::Exception);
    QCOMPARE(r.error.exceptionCode, code);
    QCOMPARE(r.error.code(), QStringLiteral("exception_%1").arg(code));
    QVERIFY2(r.error.message.contains(QStringLiteral("exception 0x%1").arg(code, 2, 16, QChar(u'0'))),
        qPrintable(r.error.message));
    QVERIFY(r.value.isEmpty());
    // An exception is a complete, well-formed answer: the connection stays.
    QVERIFY(client.readRegisters(3, 0x1000, 4).ok());
    QCOMPARE(server.connections(), 1);
}

void TestModbusClient::timeoutThenLateReplyIsNeverTakenForTheNextAnswer()
{
    test::FakeModbusServer server;
    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    server.push(Behaviour::Late, 400); // after the 150 ms timeout
    const Result<QList<quint16>> late = client.readRegisters(1, 0x0100, 2);
    QCOMPARE(late.error.kind, ErrorKind::Timeout);
    QVERIFY2(late.error.message.contains(u"no reply within 150 ms"), qPrintable(late.error.message));

    // The next request, to another address, must get its own answer — not the late one.
    const Result<QList<quint16>> next = client.readRegisters(1, 0x0200, 2);
    QVERIFY2(next.ok(), qPrintable(next.error.message));
    QCOMPARE(next.value, expected(0x0200, 2));
    QCOMPARE(server.connections(), 2); // the late bytes died with the first connection
    QCOMPARE(client.stats().timeouts, 1);
}

void TestModbusClient::wrongTransactionIdIsABadReplyAndRecovers()
{
    test::FakeModbusServer server;
    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    server.push(Behaviour::WrongTid);
    const Result<QList<quint16>> r = client.readRegisters(1, 0x0300, 2);
    QCOMPARE(r.error.kind, ErrorKind::BadReply);
    QVERIFY2(r.error.message.contains(u"does not match the request"), qPrintable(r.error.message));
    const Result<QList<quint16>> next = client.readRegisters(1, 0x0400, 2);
    QVERIFY2(next.ok(), qPrintable(next.error.message));
    QCOMPARE(next.value, expected(0x0400, 2));
}

void TestModbusClient::hangUpIsConnectionLostAndReconnects()
{
    test::FakeModbusServer server;
    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    server.push(Behaviour::HangUp);
    const Result<QList<quint16>> r = client.readRegisters(1, 0x0500, 2);
    QVERIFY2(
        r.error.kind == ErrorKind::ConnectionLost || r.error.kind == ErrorKind::Timeout, qPrintable(r.error.code()));
    QVERIFY(!client.isConnected());
    const Result<QList<quint16>> next = client.readRegisters(1, 0x0500, 2);
    QVERIFY2(next.ok(), qPrintable(next.error.message));
    QCOMPARE(server.connections(), 2);
}

void TestModbusClient::refusedConnectionBacksOff()
{
    quint16 port = 0;
    {
        test::FakeModbusServer gone; // take a free port, then close it
        port = gone.port();
    }
    ModbusClient client(tcpEndpoint(port), fastTiming(), m_clock);
    const Result<QList<quint16>> first = client.readRegisters(1, 0, 1);
    QCOMPARE(first.error.kind, ErrorKind::ConnectionRefused);
    QVERIFY2(first.error.message.contains(u"connection refused"), qPrintable(first.error.message));
    QCOMPARE(client.stats().connectFailures, 1);

    // Within the back-off nothing is tried.
    const Result<QList<quint16>> soon = client.readRegisters(1, 0, 1);
    QCOMPARE(soon.error.kind, ErrorKind::Backoff);
    QCOMPARE(client.stats().connectFailures, 1);

    m_clock.advanceMs(ReconnectLimits{}.firstBackoffMs);
    QCOMPARE(client.readRegisters(1, 0, 1).error.kind, ErrorKind::ConnectionRefused);
    QCOMPARE(client.stats().connectFailures, 2);
    // The back-off doubled: one first-back-off later is still too early.
    m_clock.advanceMs(ReconnectLimits{}.firstBackoffMs);
    QCOMPARE(client.readRegisters(1, 0, 1).error.kind, ErrorKind::Backoff);
    m_clock.advanceMs(ReconnectLimits{}.firstBackoffMs);
    QCOMPARE(client.readRegisters(1, 0, 1).error.kind, ErrorKind::ConnectionRefused);
    QCOMPARE(client.stats().connectFailures, 3);
}

void TestModbusClient::argumentsOutsideTheProtocolAreRefusedWithoutIo()
{
    test::FakeModbusServer server;
    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    QCOMPARE(client.readRegisters(0, 0, 1).error.kind, ErrorKind::InvalidArgument);
    QCOMPARE(client.readRegisters(248, 0, 1).error.kind, ErrorKind::InvalidArgument);
    QCOMPARE(client.readRegisters(1, 0, 0).error.kind, ErrorKind::InvalidArgument);
    QCOMPARE(client.readRegisters(1, 0, 126).error.kind, ErrorKind::InvalidArgument);
    const QList<quint16> tooMany(124, 0);
    QCOMPARE(client.writeRegisters(1, 0, tooMany).kind, ErrorKind::InvalidArgument);
    QCOMPARE(client.writeRegisters(1, 0, {}).kind, ErrorKind::InvalidArgument);
    QCOMPARE(server.requests(), 0);
    QCOMPARE(client.stats().connects, 0);
}

void TestModbusClient::descriptorsAbove1023AreRefused()
{
    // Fill the descriptor table up to 1024 so the client's socket lands above FD_SETSIZE.
    rlimit limit{};
    QVERIFY(getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur < 2048) {
        QVERIFY2(limit.rlim_max >= 2048, "the test needs RLIMIT_NOFILE ≥ 2048 (ulimit -Hn)");
        limit.rlim_cur = 2048;
        QVERIFY(setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    test::FakeModbusServer server;
    QList<int> fillers;
    const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    QVERIFY(devNull >= 0);
    // Occupy every descriptor below FD_SETSIZE: the next socket would be FD_SETSIZE or above.
    for (int fd = ::fcntl(devNull, F_DUPFD_CLOEXEC, 0); fd >= 0; fd = ::fcntl(devNull, F_DUPFD_CLOEXEC, 0)) {
        fillers.append(fd);
        if (fd >= FD_SETSIZE - 1)
            break;
    }
    const auto cleanup = qScopeGuard([&] {
        for (int fd : fillers)
            ::close(fd);
        ::close(devNull);
    });
    QCOMPARE(fillers.last(), FD_SETSIZE - 1);

    ModbusClient client(tcpEndpoint(server.port()), fastTiming(), m_clock);
    const Result<QList<quint16>> r = client.readRegisters(1, 0, 1);
    QCOMPARE(r.error.kind, ErrorKind::DescriptorTooLarge);
    QVERIFY2(r.error.message.contains(u"too many open files"), qPrintable(r.error.message));
    QCOMPARE(server.connections(), 0); // refused before libmodbus ever saw such a descriptor
}

void TestModbusClient::timingFollowsTheLineSpeed()
{
    Endpoint rtu;
    rtu.kind = Endpoint::Kind::Rtu;
    rtu.device = QStringLiteral("/dev/null");
    rtu.baud = 9600;
    const BusTiming r9600 = BusTiming::forEndpoint(rtu);
    // 270 characters of 1.146 ms + 200 ms turnaround + 50 ms margin ≈ 559 ms.
    QVERIFY2(r9600.responseTimeoutMs >= 500 && r9600.responseTimeoutMs <= 600,
        qPrintable(QString::number(r9600.responseTimeoutMs)));
    QVERIFY(r9600.byteTimeoutMs >= 11 && r9600.byteTimeoutMs <= 50);
    QCOMPARE(r9600.interFrameGapUs, 4010); // 3.5 × 11 bits / 9600 baud
    rtu.baud = 2400;
    QVERIFY(BusTiming::forEndpoint(rtu).responseTimeoutMs > r9600.responseTimeoutMs);

    Endpoint tcp = tcpEndpoint(502);
    tcp.baud = 9600;
    const BusTiming t9600 = BusTiming::forEndpoint(tcp);
    QVERIFY(t9600.responseTimeoutMs > r9600.responseTimeoutMs); // the gateway's queue
    QCOMPARE(t9600.byteTimeoutMs, 0);
    QCOMPARE(t9600.interFrameGapUs, 0);
    tcp.baud = 0;
    QCOMPARE(BusTiming::forEndpoint(tcp).responseTimeoutMs, 1000);
}

void TestModbusClient::exitCodesPerFailureClass()
{
    QCOMPARE(exitCodeFor({}), 0);
    QCOMPARE(exitCodeFor(DriverError::make(ErrorKind::Timeout, {})), 3);
    QCOMPARE(exitCodeFor(DriverError::make(ErrorKind::ConnectionRefused, {})), 4);
    QCOMPARE(exitCodeFor(DriverError::make(ErrorKind::BadReply, {})), 6);
    QCOMPARE(exitCodeFor(DriverError::make(ErrorKind::Exception, {}, 2)), 12);
    QCOMPARE(exitCodeFor(DriverError::make(ErrorKind::Exception, {}, 11)), 21);
}

QTEST_GUILESS_MAIN(TestModbusClient)
#include "tst_modbus_client.moc"
