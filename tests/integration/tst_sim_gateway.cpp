// prepay-sim meters seen from the outside, as a poller and a technician see it: a real
// prepay-sim process on free ports, spoken to with hand-made MBAP frames over QTcpSocket and
// hand-made RTU frames over its pty (no libmodbus, no prepay driver), with mbpoll, with plain
// HTTP to the control interface and with "prepay-sim ctl". Two simulators run for the whole
// test: "wire" emulates RS-485 timing (9600 baud, 11 bits, turnaround 10..30 ms, given on the
// command line over the building file's 19200/10/5 ms) for the timing tests; "fast" has --baud 0, a 300 ms gateway timeout and
// --rtu, for everything else.
//
// Wire-time bounds come from FIELD-PROTOCOLS.md §4.2, computed here independently:
//   t = (Lreq + Lrsp) · bits/baud + 2 · 3.5 · bits/baud + turnaround, L = PDU + 3.
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QTcpSocket>
#include <QtTest/QTest>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <memory>
#include <optional>

namespace {

// ---- Limits of the test ---------------------------------------------------------------------
constexpr int kStartTimeoutMs = 20'000; // until "ready"
constexpr int kReplyTimeoutMs = 2'000;  // a reply that should come
constexpr int kSilenceMs = 400;         // "no reply": nothing within this
constexpr int kGatewayTimeoutMs = 300;  // the fast simulator's --gateway-timeout-ms
constexpr double kTimerSlackMs = 20.0;  // event loops and loopback TCP above the formula
constexpr double kNoWireMaxMs = 15.0;   // a transaction with --baud 0
constexpr int kPortAttemptsMax = 8;     // random port bases tried before giving up
static_assert(kSilenceMs > kGatewayTimeoutMs, "the silence check must outlast the gateway's own timeout");

constexpr quint16 kBlockB = 0x1000;
constexpr int kBlockBCount = 48;
constexpr quint16 kSerialNumber = 0x1002;
constexpr quint16 kPurchaseCount = 0x1007;
constexpr quint16 kEnergyTotal = 0x1010;
constexpr quint16 kRechargeMailbox = 0x1100;
constexpr quint16 kRelayMode = 0x1110;

// The test building: gateway 0 with two buses, gateway 1 with one (unit 1 again, on purpose).
const char kBuilding[] = R"({
  "name": "测试大厦", "utc_offset_minutes": 480, "seed": 7,
  "tariff": {"version": 1, "prices": {"sharp": 12100, "peak": 9800, "flat": 6500, "valley": 3100},
             "tou": [[0, "valley"], [480, "flat"], [600, "sharp"], [720, "flat"], [900, "peak"], [1320, "valley"]]},
  "gateways": [
    {"name": "测试A座", "buses": [
      {"name": "T-COM1", "baud": 19200, "bits_per_char": 10, "turnaround_min_ms": 5, "turnaround_max_ms": 5,
       "meters": [
         {"unit_id": 1, "serial": 31000001, "profile": "office", "balance_fen": 1000000, "purchase_count": 3, "total_purchased_fen": 1000000, "energy_wh": 1234560},
         {"unit_id": 2, "serial": 31000002, "profile": "office", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000},
         {"unit_id": 3, "serial": 31000003, "profile": "office", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000, "energy_wh": 500000},
         {"unit_id": 4, "serial": 31000004, "profile": "office", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000},
         {"unit_id": 5, "serial": 31000005, "profile": "office", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000},
         {"unit_id": 6, "serial": 31000006, "profile": "office", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000}
       ]},
      {"name": "T-COM2", "baud": 19200, "bits_per_char": 10, "turnaround_min_ms": 5, "turnaround_max_ms": 5,
       "meters": [
         {"unit_id": 11, "serial": 31000011, "profile": "retail", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000},
         {"unit_id": 12, "serial": 31000012, "profile": "retail", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000}
       ]}
    ]},
    {"name": "测试B座", "buses": [
      {"name": "U-COM1", "baud": 19200, "bits_per_char": 10, "turnaround_min_ms": 5, "turnaround_max_ms": 5,
       "meters": [
         {"unit_id": 1, "serial": 31000101, "profile": "idle", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000},
         {"unit_id": 2, "serial": 31000102, "profile": "idle", "balance_fen": 1000000, "purchase_count": 1, "total_purchased_fen": 1000000}
       ]}
    ]}
  ]
})";

QString binary(const QString &name)
{
    return qEnvironmentVariable("PREPAY_BIN_DIR") + u'/' + name;
}

// CRC-16/MODBUS, written here again on purpose: the test must not trust the code under test.
quint16 crc16(QByteArrayView bytes)
{
    quint16 crc = 0xFFFF;
    for (const char c : bytes) {
        crc ^= quint8(c);
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1) ? quint16((crc >> 1) ^ 0xA001) : quint16(crc >> 1);
    }
    return crc;
}

void appendBe16(QByteArray &out, quint16 v)
{
    out.append(char(v >> 8));
    out.append(char(v & 0xFF));
}

quint16 be16(QByteArrayView bytes, qsizetype at)
{
    return quint16((quint8(bytes[at]) << 8) | quint8(bytes[at + 1]));
}

QByteArray readPdu(quint16 address, quint16 count)
{
    QByteArray pdu(1, char(0x03));
    appendBe16(pdu, address);
    appendBe16(pdu, count);
    return pdu;
}

QByteArray writeSinglePdu(quint16 address, quint16 value)
{
    QByteArray pdu(1, char(0x06));
    appendBe16(pdu, address);
    appendBe16(pdu, value);
    return pdu;
}

QByteArray rtuFrame(quint8 address, const QByteArray &pdu)
{
    QByteArray frame(1, char(address));
    frame += pdu;
    const quint16 crc = crc16(frame);
    frame.append(char(crc & 0xFF));
    frame.append(char(crc >> 8));
    return frame;
}

bool rtuCrcOk(QByteArrayView frame)
{
    if (frame.size() < 4)
        return false;
    const quint16 crc = crc16(frame.first(frame.size() - 2));
    return quint8(frame[frame.size() - 2]) == (crc & 0xFF) && quint8(frame[frame.size() - 1]) == (crc >> 8);
}

QList<quint16> registersOf(const QByteArray &pdu)
{
    QList<quint16> regs;
    if (pdu.size() < 2 || pdu.at(0) != 0x03 || quint8(pdu.at(1)) != pdu.size() - 2)
        return regs;
    for (qsizetype i = 2; i + 1 < pdu.size(); i += 2)
        regs.append(be16(pdu, i));
    return regs;
}

// The §4.2 formula for one transaction, in ms.
double wireMs(int requestPdu, int responsePdu, int baud, int bits, double turnaroundMs)
{
    const double charMs = bits * 1000.0 / baud;
    return (requestPdu + 3 + responsePdu + 3) * charMs + 2 * 3.5 * charMs + turnaroundMs;
}

// ---- HTTP to the control interface ------------------------------------------------------------
struct Http
{
    int status = 0;
    QJsonObject json;
    QByteArray raw;
};

Http http(quint16 port, const QByteArray &method, const QString &path, const QByteArray &body = {})
{
    QNetworkAccessManager manager;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    request.setTransferTimeout(5000);
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    QNetworkReply *reply = manager.sendCustomRequest(request, method, body);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Http r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.raw = reply->readAll();
    r.json = QJsonDocument::fromJson(r.raw).object();
    delete reply;
    return r;
}

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QJsonObject meterTarget(int gateway, int unit)
{
    return {{QStringLiteral("gateway"), gateway}, {QStringLiteral("unit"), unit}};
}

// ---- A prepay-sim meters process ---------------------------------------------------------------
class Simulator
{
public:
    // Starts prepay-sim meters with `arguments` on a free port base; false with *log on failure.
    bool start(const QStringList &arguments, QString *log)
    {
        for (int attempt = 0; attempt < kPortAttemptsMax; ++attempt) {
            portBase = quint16(QRandomGenerator::global()->bounded(20000, 60000));
            controlPort = quint16(portBase + 100);
            m_process = std::make_unique<QProcess>();
            m_process->setProcessChannelMode(QProcess::SeparateChannels);
            m_process->start(binary(QStringLiteral("prepay-sim")),
                QStringList{QStringLiteral("meters"), QStringLiteral("--port-base"), QString::number(portBase)}
                    + arguments);
            if (!m_process->waitForStarted(kStartTimeoutMs)) {
                *log = QStringLiteral("cannot start %1: %2")
                           .arg(binary(QStringLiteral("prepay-sim")), m_process->errorString());
                return false;
            }
            QElapsedTimer timer;
            timer.start();
            m_out.clear();
            while (!m_out.contains(u"\nready\n") && !m_out.startsWith(u"ready\n") && timer.elapsed() < kStartTimeoutMs
                && m_process->state() == QProcess::Running) {
                m_process->waitForReadyRead(200);
                m_out += QString::fromUtf8(m_process->readAllStandardOutput());
            }
            if (m_out.contains(u"\nready\n")) {
                const QRegularExpression busLine(
                    QStringLiteral("^bus (\\S+): (\\S+)$"), QRegularExpression::MultilineOption);
                for (auto it = busLine.globalMatch(m_out); it.hasNext();) {
                    const auto match = it.next();
                    ptys.insert(match.captured(1), match.captured(2));
                }
                return true;
            }
            m_process->waitForFinished(2000);
            *log = m_out + QString::fromUtf8(m_process->readAllStandardError());
            if (m_process->exitCode() != 69) // 69: a port was taken, try another base
                return false;
        }
        return false;
    }

    void stop()
    {
        if (!m_process)
            return;
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) {
            m_process->kill();
            m_process->waitForFinished(5000);
        }
        m_process.reset();
    }

    ~Simulator() { stop(); }

    QString output() const { return m_out; }

    Http get(const QString &path) const { return http(controlPort, "GET", path); }
    Http post(const QString &path, const QJsonObject &body) const
    {
        return http(controlPort, "POST", path, json(body));
    }
    Http postRaw(const QString &path, const QByteArray &body) const { return http(controlPort, "POST", path, body); }
    Http del(const QString &path) const { return http(controlPort, "DELETE", path); }

    QJsonObject truth(int gateway, int unit) const
    {
        return get(QStringLiteral("/meters/%1/%2").arg(gateway).arg(unit)).json;
    }

    // Adds a fault; returns its id (0 on failure).
    int fault(const QJsonObject &target, const QString &kind, const QJsonObject &params = {}) const
    {
        QJsonObject body = params;
        body.insert(QStringLiteral("target"), target);
        body.insert(QStringLiteral("kind"), kind);
        const Http r = post(QStringLiteral("/faults"), body);
        if (r.status != 200)
            qWarning("POST /faults %s → %d %s", json(body).constData(), r.status, r.raw.constData());
        return r.status == 200 ? r.json.value(QStringLiteral("id")).toInt() : 0;
    }

    bool setLoad(int gateway, int unit, std::optional<qint64> watts) const
    {
        return post(QStringLiteral("/load"),
                   {{QStringLiteral("target"), meterTarget(gateway, unit)},
                       {QStringLiteral("watts"), watts ? QJsonValue(*watts) : QJsonValue(QJsonValue::Null)}})
                   .status
            == 200;
    }

    quint16 portBase = 0;
    quint16 controlPort = 0;
    QHash<QString, QString> ptys; // bus name → /dev/pts/N

private:
    std::unique_ptr<QProcess> m_process;
    QString m_out;
};

// ---- A Modbus TCP client made of bytes ------------------------------------------------------------
struct MbapReply
{
    quint16 transactionId = 0;
    quint16 protocolId = 0;
    quint8 unitId = 0;
    QByteArray pdu;
    qint64 atMs = 0; // on the client's timer
};

class Mbap
{
public:
    Mbap() { m_timer.start(); }

    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return m_socket.waitForConnected(kReplyTimeoutMs);
    }

    void sendRaw(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.waitForBytesWritten(kReplyTimeoutMs);
    }

    void send(quint16 tid, quint8 unit, const QByteArray &pdu)
    {
        QByteArray frame;
        appendBe16(frame, tid);
        appendBe16(frame, 0);
        appendBe16(frame, quint16(pdu.size() + 1));
        frame.append(char(unit));
        frame += pdu;
        sendRaw(frame);
    }

    // The next complete frame within timeoutMs, or nullopt (timeout or connection closed).
    std::optional<MbapReply> receive(int timeoutMs)
    {
        QElapsedTimer waited;
        waited.start();
        for (;;) {
            if (m_buffer.size() >= 7) {
                const int length = be16(m_buffer, 4);
                if (m_buffer.size() >= 6 + length) {
                    MbapReply r;
                    r.transactionId = be16(m_buffer, 0);
                    r.protocolId = be16(m_buffer, 2);
                    r.unitId = quint8(m_buffer.at(6));
                    r.pdu = m_buffer.mid(7, length - 1);
                    r.atMs = m_timer.elapsed();
                    m_buffer.remove(0, 6 + length);
                    return r;
                }
            }
            const qint64 remaining = timeoutMs - waited.elapsed();
            if (remaining <= 0 || m_socket.state() != QAbstractSocket::ConnectedState)
                return std::nullopt;
            m_socket.waitForReadyRead(int(remaining));
            m_buffer += m_socket.readAll();
        }
    }

    // One request, one reply; nullopt on silence.
    std::optional<MbapReply> transact(quint16 tid, quint8 unit, const QByteArray &pdu, int timeoutMs = kReplyTimeoutMs)
    {
        send(tid, unit, pdu);
        return receive(timeoutMs);
    }

    std::optional<QList<quint16>> read(quint8 unit, quint16 address, quint16 count)
    {
        const auto reply = transact(++m_tid, unit, readPdu(address, count));
        if (!reply || reply->transactionId != m_tid)
            return std::nullopt;
        const QList<quint16> regs = registersOf(reply->pdu);
        if (regs.size() != count)
            return std::nullopt;
        return regs;
    }

    // Waits until the server closes the connection.
    bool closedByPeer(int timeoutMs)
    {
        if (m_socket.state() != QAbstractSocket::ConnectedState)
            return true;
        return m_socket.waitForDisconnected(timeoutMs) || m_socket.state() != QAbstractSocket::ConnectedState;
    }

    qint64 nowMs() const { return m_timer.elapsed(); }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
    QElapsedTimer m_timer;
    quint16 m_tid = 0;
};

quint32 u32(const QList<quint16> &regs, int at)
{
    return (quint32(regs.at(at)) << 16) | regs.at(at + 1);
}

// ---- RTU over the pty ---------------------------------------------------------------------------
class Pty
{
public:
    ~Pty()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    bool open(const QString &path)
    {
        m_fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_NOCTTY | O_NONBLOCK);
        if (m_fd < 0)
            return false;
        termios tio{};
        ::tcgetattr(m_fd, &tio);
        ::cfmakeraw(&tio);
        ::tcsetattr(m_fd, TCSANOW, &tio);
        ::tcflush(m_fd, TCIOFLUSH);
        return true;
    }

    void write(const QByteArray &bytes)
    {
        const ssize_t n = ::write(m_fd, bytes.constData(), std::size_t(bytes.size()));
        if (n != bytes.size())
            qWarning("short write to the pty: %zd of %lld bytes", n, qlonglong(bytes.size()));
    }

    // Reads until `expected` bytes arrived or `timeoutMs` passed; returns what came.
    QByteArray read(int expected, int timeoutMs)
    {
        QByteArray got;
        QElapsedTimer timer;
        timer.start();
        while (got.size() < expected) {
            const qint64 remaining = timeoutMs - timer.elapsed();
            if (remaining <= 0)
                break;
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, int(remaining)) <= 0)
                continue;
            char buffer[512];
            const ssize_t n = ::read(m_fd, buffer, sizeof buffer);
            if (n > 0)
                got.append(buffer, n);
        }
        return got;
    }

private:
    int m_fd = -1;
};

} // namespace

class TestSimGateway : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    // Modbus TCP
    void routesByUnitIdAcrossBuses();
    void echoesTransactionIdsAndPipelines();
    void closesConnectionOnBadMbap();
    void unknownUnitGetsGatewayException();
    void broadcastAppliesWithoutAnswer();
    void clientClosingMidTransactionKeepsTheBus();
    void fullBusQueueAnswersBusy();
    void noAnswerSilenceOption();
    void wireTimeOf48RegisterRead();
    void noWireTimeWithBaudZero();
    void fifoPerBusAcrossConnections();
    void busesOfOneGatewayRunInParallel();

    // Faults
    void faultNoReply();
    void faultLateReply();
    void faultWrongTid();
    void faultException();
    void faultOfflineAnswers0x0BOrSilence();
    void faultScopesBusAndGateway();
    void faultDisconnectDropsConnections();
    void faultRefuseRefusesConnections();
    void faultCountersVisibleInRegistersAndTruth();

    // Control interface
    void controlStatusAndTruth();
    void controlFaultListAndClear();
    void controlRejectsBadRequests();
    void timeAdvanceChangesEnergyAndTruth();
    void ctlCommandLine();
    void metersCommandLineErrors();

    // RTU over the pty
    void rtuAnswersCorrectFrames();
    void rtuSilentOnBadCrcAndOtherAddress();
    void rtuBroadcastAppliesSilently();
    void rtuFramesUnknownFunctionsBySilence();
    void rtuCrcGarbageFault();

    // mbpoll
    void mbpollReadsBlockB();
    void mbpollRechargeWithWrongSequenceGetsException();

private:
    QTemporaryDir m_dir;
    Simulator m_wire;
    Simulator m_fast;
    QString m_buildingPath;
};

void TestSimGateway::initTestCase()
{
    QVERIFY2(!qEnvironmentVariable("PREPAY_BIN_DIR").isEmpty(), "PREPAY_BIN_DIR is set by CTest");
    QVERIFY2(QFile::exists(binary(QStringLiteral("prepay-sim"))), "prepay-sim is built (a missing executable fails)");
    QVERIFY(m_dir.isValid());
    // The CRC of this test, checked against the worked frame of the meter map (§3 Recharge):
    // 01 10 11 00 00 06 0C 00 00 27 10 00 05 12 34 56 78 0C 95 | 98 BA.
    QCOMPARE(crc16(QByteArray::fromHex("0110110000060C000027100005123456780C95")), quint16(0xBA98));

    m_buildingPath = m_dir.filePath(QStringLiteral("building.json"));
    QFile file(m_buildingPath);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(kBuilding);
    file.close();

    QString log;
    // A fixed start on a weekday morning (local 10:30, TOU slot "sharp").
    const QStringList common = {
        QStringLiteral("--building"), m_buildingPath, QStringLiteral("--start"), QStringLiteral("2026-11-24T10:30:00")};
    QVERIFY2(m_wire.start(common
                     + QStringList{QStringLiteral("--baud"), QStringLiteral("9600"), QStringLiteral("--bits"),
                         QStringLiteral("11"), QStringLiteral("--turnaround-ms"), QStringLiteral("10..30")},
                 &log),
        qPrintable(log));
    QVERIFY2(m_fast.start(common
                     + QStringList{QStringLiteral("--baud"), QStringLiteral("0"),
                         QStringLiteral("--gateway-timeout-ms"), QString::number(kGatewayTimeoutMs),
                         QStringLiteral("--rtu"), QStringLiteral("--rtu-link-dir"), m_dir.path()},
                 &log),
        qPrintable(log));
    QVERIFY2(m_fast.output().contains(
                 QStringLiteral("gateway 0 测试A座: 127.0.0.1:%1, 2 buses, 8 meters").arg(m_fast.portBase)),
        qPrintable(m_fast.output()));
    QVERIFY2(m_fast.ptys.contains(QStringLiteral("T-COM1")), qPrintable(m_fast.output()));
    QVERIFY(m_fast.ptys.value(QStringLiteral("T-COM1")).startsWith(u"/dev/pts/"));
    QVERIFY(QFileInfo(m_dir.filePath(QStringLiteral("T-COM1"))).isSymLink());
}

void TestSimGateway::cleanupTestCase()
{
    m_wire.stop();
    m_fast.stop();
}

void TestSimGateway::cleanup()
{
    // Every test leaves no fault behind, whatever happened in it.
    m_fast.del(QStringLiteral("/faults"));
    m_wire.del(QStringLiteral("/faults"));
}

// ---- Modbus TCP ---------------------------------------------------------------------------------

void TestSimGateway::routesByUnitIdAcrossBuses()
{
    Mbap gateway0;
    QVERIFY(gateway0.connectTo(m_fast.portBase));
    const auto unit1 = gateway0.read(1, kSerialNumber, 2);   // bus T-COM1
    const auto unit11 = gateway0.read(11, kSerialNumber, 2); // bus T-COM2
    QVERIFY(unit1 && unit11);
    QCOMPARE(u32(*unit1, 0), 31000001u);
    QCOMPARE(u32(*unit11, 0), 31000011u);

    // Unit id 1 behind the other gateway is another meter.
    Mbap gateway1;
    QVERIFY(gateway1.connectTo(m_fast.portBase + 1));
    const auto other = gateway1.read(1, kSerialNumber, 2);
    QVERIFY(other);
    QCOMPARE(u32(*other, 0), 31000101u);
}

void TestSimGateway::echoesTransactionIdsAndPipelines()
{
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    for (const quint16 tid : {quint16(0), quint16(0x1234), quint16(0xFFFF)}) {
        const auto reply = client.transact(tid, 12, readPdu(kBlockB, 2));
        QVERIFY(reply);
        QCOMPARE(reply->transactionId, tid);
        QCOMPARE(reply->protocolId, quint16(0));
        QCOMPARE(reply->unitId, quint8(12));
        QCOMPARE(registersOf(reply->pdu).value(0), quint16(0x0100)); // map_version
    }
    // Three requests in one write: three answers, each with its own TID.
    QByteArray batch;
    for (const quint16 tid : {quint16(101), quint16(102), quint16(103)}) {
        appendBe16(batch, tid);
        appendBe16(batch, 0);
        appendBe16(batch, 6);
        batch.append(char(11));
        batch += readPdu(kBlockB, 1);
    }
    client.sendRaw(batch);
    QList<quint16> tids;
    for (int i = 0; i < 3; ++i) {
        const auto reply = client.receive(kReplyTimeoutMs);
        QVERIFY(reply);
        tids << reply->transactionId;
    }
    QCOMPARE(tids, (QList<quint16>{101, 102, 103}));
}

void TestSimGateway::closesConnectionOnBadMbap()
{
    // Protocol id 1 is not Modbus: the gateway hangs up.
    Mbap badProtocol;
    QVERIFY(badProtocol.connectTo(m_fast.portBase));
    QByteArray frame;
    appendBe16(frame, 1);
    appendBe16(frame, 1);
    appendBe16(frame, 6);
    frame.append(char(1));
    frame += readPdu(kBlockB, 1);
    badProtocol.sendRaw(frame);
    QVERIFY(!badProtocol.receive(kSilenceMs));
    QVERIFY(badProtocol.closedByPeer(kReplyTimeoutMs));

    // A length of 1 (unit id, no PDU) cannot be a request either.
    Mbap badLength;
    QVERIFY(badLength.connectTo(m_fast.portBase));
    QByteArray header;
    appendBe16(header, 7);
    appendBe16(header, 0);
    appendBe16(header, 1);
    header.append(char(1));
    badLength.sendRaw(header);
    QVERIFY(badLength.closedByPeer(kReplyTimeoutMs));

    // The gateway itself is fine.
    Mbap good;
    QVERIFY(good.connectTo(m_fast.portBase));
    QVERIFY(good.read(1, kBlockB, 1));
}

void TestSimGateway::unknownUnitGetsGatewayException()
{
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    const qint64 sentMs = client.nowMs();
    const auto reply = client.transact(7, 99, readPdu(kBlockB, 2));
    QVERIFY(reply);
    QCOMPARE(reply->transactionId, quint16(7));
    QCOMPARE(reply->pdu, QByteArray::fromHex("830b"));
    QVERIFY2(reply->atMs - sentMs >= kGatewayTimeoutMs - 1, qPrintable(QString::number(reply->atMs - sentMs)));
}

void TestSimGateway::broadcastAppliesWithoutAnswer()
{
    // Unit 0 on gateway 1: both its meters go to FORCE_ON; nobody answers.
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase + 1));
    client.send(1, 0, writeSinglePdu(kRelayMode, 1));
    QVERIFY(!client.receive(kSilenceMs));
    QCOMPARE(m_fast.truth(1, 1).value(QStringLiteral("relay_mode")).toString(), QStringLiteral("force_on"));
    QCOMPARE(m_fast.truth(1, 2).value(QStringLiteral("relay_mode")).toString(), QStringLiteral("force_on"));
    QCOMPARE(m_fast.truth(0, 1).value(QStringLiteral("relay_mode")).toString(), QStringLiteral("auto"));
    client.send(2, 0, writeSinglePdu(kRelayMode, 0));
    QVERIFY(!client.receive(kSilenceMs));
    QCOMPARE(m_fast.truth(1, 1).value(QStringLiteral("relay_mode")).toString(), QStringLiteral("auto"));
}

void TestSimGateway::clientClosingMidTransactionKeepsTheBus()
{
    // On the wire simulator: a client queues three reads and leaves at once.
    {
        Mbap leaving;
        QVERIFY(leaving.connectTo(m_wire.portBase));
        for (quint16 tid = 1; tid <= 3; ++tid)
            leaving.send(tid, 1, readPdu(kBlockB, kBlockBCount));
        QThread::msleep(20); // the first one is on the bus now
        leaving.socket().abort();
    }
    // Another client on the same bus is served: after the transaction in flight at most.
    Mbap staying;
    QVERIFY(staying.connectTo(m_wire.portBase));
    const qint64 sentMs = staying.nowMs();
    const auto regs = staying.read(2, kSerialNumber, 2);
    QVERIFY(regs);
    QCOMPARE(u32(*regs, 0), 31000002u);
    // One 48-register read (the one in flight) and our own 2-register read, not four reads.
    const double bound = wireMs(5, 98, 9600, 11, 30) + wireMs(5, 6, 9600, 11, 30) + kTimerSlackMs;
    QVERIFY2(staying.nowMs() - sentMs < bound, qPrintable(QString::number(staying.nowMs() - sentMs)));
}

void TestSimGateway::fullBusQueueAnswersBusy()
{
    // One transaction on the bus and 64 waiting is all a bus takes: the rest get 0x06 at once.
    Mbap flooding;
    QVERIFY(flooding.connectTo(m_wire.portBase));
    QByteArray batch;
    for (quint16 tid = 1; tid <= 67; ++tid) {
        appendBe16(batch, tid);
        appendBe16(batch, 0);
        appendBe16(batch, 6);
        batch.append(char(4));
        batch += readPdu(kBlockB, 2);
    }
    const qint64 sentMs = flooding.nowMs();
    flooding.sendRaw(batch);
    QList<quint16> busy;
    while (busy.size() < 2) {
        const auto reply = flooding.receive(kReplyTimeoutMs);
        QVERIFY(reply);
        if (reply->pdu == QByteArray::fromHex("8306")) {
            busy << reply->transactionId;
            QVERIFY2(reply->atMs - sentMs < 100, "a busy answer comes at once, not after the queue");
        }
    }
    QCOMPARE(busy, (QList<quint16>{66, 67}));
    // Leaving drops the 64 queued requests: the bus is free again after the one in flight.
    flooding.socket().abort();
    QTRY_COMPARE_WITH_TIMEOUT(m_wire.get(QStringLiteral("/status"))
                                  .json.value(QStringLiteral("gateways"))
                                  .toArray()
                                  .at(0)
                                  .toObject()
                                  .value(QStringLiteral("connections"))
                                  .toInt(),
        0, kReplyTimeoutMs);
    Mbap next;
    QVERIFY(next.connectTo(m_wire.portBase));
    const qint64 startMs = next.nowMs();
    QVERIFY(next.read(4, kBlockB, 2));
    QVERIFY2(next.nowMs() - startMs < 2 * wireMs(5, 6, 9600, 11, 30) + kTimerSlackMs,
        qPrintable(QString::number(next.nowMs() - startMs)));
}

void TestSimGateway::noAnswerSilenceOption()
{
    // --no-answer silence: unknown units and offline meters get nothing, not 0x0B.
    Simulator silent;
    QString log;
    QVERIFY2(silent.start({QStringLiteral("--building"), m_buildingPath, QStringLiteral("--baud"), QStringLiteral("0"),
                              QStringLiteral("--gateway-timeout-ms"), QStringLiteral("100"),
                              QStringLiteral("--no-answer"), QStringLiteral("silence")},
                 &log),
        qPrintable(log));
    QVERIFY(silent.fault(meterTarget(0, 2), QStringLiteral("offline")));
    Mbap client;
    QVERIFY(client.connectTo(silent.portBase));
    QVERIFY(!client.transact(1, 99, readPdu(kBlockB, 1), kSilenceMs));
    QVERIFY(!client.transact(2, 2, readPdu(kBlockB, 1), kSilenceMs));
    // An offline fault can still ask for the exception explicitly.
    silent.del(QStringLiteral("/faults"));
    QVERIFY(silent.fault(
        meterTarget(0, 2), QStringLiteral("offline"), {{QStringLiteral("response"), QStringLiteral("exception")}}));
    QCOMPARE(client.transact(3, 2, readPdu(kBlockB, 1))->pdu, QByteArray::fromHex("830b"));
    QCOMPARE(client.read(1, kBlockB, 1)->at(0), quint16(0x0100));
}

void TestSimGateway::wireTimeOf48RegisterRead()
{
    // 9600 baud, 11 bits, turnaround 10..30 ms: (8 + 101) + 7 characters of 1.1458 ms + turnaround.
    const double minMs = wireMs(5, 2 + 2 * kBlockBCount, 9600, 11, 10);
    const double maxMs = wireMs(5, 2 + 2 * kBlockBCount, 9600, 11, 30);
    QVERIFY(qAbs(minMs - 142.92) < 0.01);
    const QJsonObject bus = m_wire.get(QStringLiteral("/status"))
                                .json.value(QStringLiteral("gateways"))
                                .toArray()
                                .at(0)
                                .toObject()
                                .value(QStringLiteral("buses"))
                                .toArray()
                                .at(0)
                                .toObject();
    QCOMPARE(bus.value(QStringLiteral("baud")).toInt(), 9600); // the command line over the file
    QCOMPARE(bus.value(QStringLiteral("bits_per_char")).toInt(), 11);
    QCOMPARE(bus.value(QStringLiteral("turnaround_min_ms")).toInt(), 10);
    QCOMPARE(bus.value(QStringLiteral("turnaround_max_ms")).toInt(), 30);
    Mbap client;
    QVERIFY(client.connectTo(m_wire.portBase));
    QList<qint64> measured;
    for (int i = 0; i < 8; ++i) {
        QElapsedTimer t;
        t.start();
        QVERIFY(client.read(3, kBlockB, kBlockBCount));
        const qint64 ns = t.nsecsElapsed();
        measured << ns / 1000;
        QVERIFY2(ns / 1e6 >= minMs - 0.5 && ns / 1e6 <= maxMs + kTimerSlackMs,
            qPrintable(QStringLiteral("%1 ms outside %2..%3 ms").arg(ns / 1e6).arg(minMs).arg(maxMs)));
    }
    QStringList text;
    for (const qint64 us : measured)
        text << QString::number(us / 1000.0, 'f', 1);
    qInfo("48-register read at 9600/11, turnaround 10..30: formula %.1f..%.1f ms, measured %s ms", minMs, maxMs,
        qPrintable(text.join(QStringLiteral(", "))));
}

void TestSimGateway::noWireTimeWithBaudZero()
{
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    QVERIFY(client.read(3, kBlockB, kBlockBCount)); // first connection and warm-up
    QStringList text;
    for (int i = 0; i < 5; ++i) {
        QElapsedTimer t;
        t.start();
        QVERIFY(client.read(3, kBlockB, kBlockBCount));
        const double ms = t.nsecsElapsed() / 1e6;
        text << QString::number(ms, 'f', 2);
        QVERIFY2(ms < kNoWireMaxMs, qPrintable(QString::number(ms)));
    }
    qInfo("48-register read with --baud 0: %s ms", qPrintable(text.join(QStringLiteral(", "))));
}

void TestSimGateway::fifoPerBusAcrossConnections()
{
    // Two clients, one bus (T-COM1): A, B, A — served in arrival order, one at a time.
    Mbap a;
    Mbap b;
    QVERIFY(a.connectTo(m_wire.portBase));
    QVERIFY(b.connectTo(m_wire.portBase));
    const qint64 startA = a.nowMs();
    const qint64 startB = b.nowMs();
    a.send(1, 1, readPdu(kBlockB, kBlockBCount));
    QThread::msleep(5);
    b.send(2, 2, readPdu(kBlockB, kBlockBCount));
    QThread::msleep(5);
    a.send(3, 3, readPdu(kBlockB, kBlockBCount));
    const auto first = a.receive(kReplyTimeoutMs);
    const auto second = b.receive(kReplyTimeoutMs);
    const auto third = a.receive(kReplyTimeoutMs);
    QVERIFY(first && second && third);
    QCOMPARE(first->transactionId, quint16(1));
    QCOMPARE(second->transactionId, quint16(2));
    QCOMPARE(third->transactionId, quint16(3));
    const double oneMin = wireMs(5, 98, 9600, 11, 10);
    const qint64 t1 = first->atMs - startA;
    const qint64 t2 = second->atMs - startB;
    const qint64 t3 = third->atMs - startA;
    qInfo("FIFO on one bus: replies at %lld, %lld, %lld ms (one read ≥ %.1f ms)", t1, t2, t3, oneMin);
    QVERIFY(t1 >= oneMin - 0.5);
    QVERIFY2(t2 >= 2 * oneMin - 1, qPrintable(QString::number(t2)));
    QVERIFY2(t3 >= 3 * oneMin - 1.5, qPrintable(QString::number(t3)));
}

void TestSimGateway::busesOfOneGatewayRunInParallel()
{
    Mbap a;
    Mbap b;
    QVERIFY(a.connectTo(m_wire.portBase));
    QVERIFY(b.connectTo(m_wire.portBase));
    const qint64 startA = a.nowMs();
    const qint64 startB = b.nowMs();
    a.send(1, 1, readPdu(kBlockB, kBlockBCount));  // T-COM1
    b.send(1, 11, readPdu(kBlockB, kBlockBCount)); // T-COM2
    const auto ra = a.receive(kReplyTimeoutMs);
    const auto rb = b.receive(kReplyTimeoutMs);
    QVERIFY(ra && rb);
    const double oneMax = wireMs(5, 98, 9600, 11, 30) + kTimerSlackMs;
    const qint64 ta = ra->atMs - startA;
    const qint64 tb = rb->atMs - startB;
    qInfo("two buses in parallel: %lld and %lld ms (one read ≤ %.1f ms)", ta, tb, oneMax);
    QVERIFY2(ta <= oneMax && tb <= oneMax, "each bus served its read without waiting for the other");
}

// ---- Faults --------------------------------------------------------------------------------------

void TestSimGateway::faultNoReply()
{
    QVERIFY(m_fast.fault(meterTarget(0, 2), QStringLiteral("no_reply")));
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    QVERIFY(!client.transact(1, 2, readPdu(kBlockB, 2), kSilenceMs));
    // The bus is fine: its neighbour answers, and the lost reply never turns up later.
    const auto neighbour = client.transact(2, 1, readPdu(kBlockB, 2));
    QVERIFY(neighbour);
    QCOMPARE(neighbour->transactionId, quint16(2));
}

void TestSimGateway::faultLateReply()
{
    const int lateMs = 500;
    QVERIFY(m_fast.fault(meterTarget(0, 2), QStringLiteral("late_reply"), {{QStringLiteral("ms"), lateMs}}));
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    const qint64 sentMs = client.nowMs();
    // A client with a 200 ms timeout gives up …
    QVERIFY(!client.transact(41, 2, readPdu(kBlockB, 2), 200));
    // … and the answer to TID 41 arrives late, after N ms: what TID draining is for.
    const auto late = client.receive(kReplyTimeoutMs);
    QVERIFY(late);
    QCOMPARE(late->transactionId, quint16(41));
    QVERIFY2(late->atMs - sentMs >= lateMs, qPrintable(QString::number(late->atMs - sentMs)));
    QCOMPARE(registersOf(late->pdu).value(0), quint16(0x0100));
}

void TestSimGateway::faultWrongTid()
{
    QVERIFY(m_fast.fault(meterTarget(0, 2), QStringLiteral("wrong_tid")));
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    const auto reply = client.transact(0x0101, 2, readPdu(kBlockB, 2));
    QVERIFY(reply);
    QVERIFY(reply->transactionId != 0x0101);
    QCOMPARE(registersOf(reply->pdu).value(0), quint16(0x0100));
}

void TestSimGateway::faultException()
{
    for (const int code : {0x04, 0x06, 0x41}) {
        const int id = m_fast.fault(meterTarget(0, 2), QStringLiteral("exception"), {{QStringLiteral("code"), code}});
        QVERIFY(id);
        Mbap client;
        QVERIFY(client.connectTo(m_fast.portBase));
        for (const QByteArray &pdu : {readPdu(kBlockB, 2), writeSinglePdu(kRelayMode, 0)}) {
            const auto reply = client.transact(9, 2, pdu);
            QVERIFY(reply);
            QCOMPARE(quint8(reply->pdu.at(0)), quint8(quint8(pdu.at(0)) | 0x80));
            QCOMPARE(int(quint8(reply->pdu.at(1))), code);
        }
        QCOMPARE(m_fast.del(QStringLiteral("/faults/%1").arg(id)).status, 200);
        QVERIFY(client.read(2, kBlockB, 2)); // cleared: answers again
    }
}

void TestSimGateway::faultOfflineAnswers0x0BOrSilence()
{
    QVERIFY(m_fast.fault(meterTarget(0, 2), QStringLiteral("offline")));
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    const qint64 sentMs = client.nowMs();
    const auto reply = client.transact(5, 2, readPdu(kBlockB, 2));
    QVERIFY(reply);
    QCOMPARE(reply->pdu, QByteArray::fromHex("830b"));
    QVERIFY2(reply->atMs - sentMs >= kGatewayTimeoutMs - 1, qPrintable(QString::number(reply->atMs - sentMs)));
    m_fast.del(QStringLiteral("/faults"));

    QVERIFY(m_fast.fault(
        meterTarget(0, 2), QStringLiteral("offline"), {{QStringLiteral("response"), QStringLiteral("silence")}}));
    QVERIFY(!client.transact(6, 2, readPdu(kBlockB, 2), kSilenceMs));
}

void TestSimGateway::faultScopesBusAndGateway()
{
    // A whole bus answering 0x0A; the other bus of the gateway is unaffected.
    QVERIFY(m_fast.fault({{QStringLiteral("gateway"), 0}, {QStringLiteral("bus"), QStringLiteral("T-COM2")}},
        QStringLiteral("exception"), {{QStringLiteral("code"), 0x0A}}));
    // A more specific fault wins over the bus's.
    QVERIFY(m_fast.fault(meterTarget(0, 12), QStringLiteral("exception"), {{QStringLiteral("code"), 0x04}}));
    // A whole gateway offline.
    QVERIFY(m_fast.fault({{QStringLiteral("gateway"), 1}}, QStringLiteral("offline")));

    Mbap gateway0;
    QVERIFY(gateway0.connectTo(m_fast.portBase));
    QCOMPARE(gateway0.transact(1, 11, readPdu(kBlockB, 1))->pdu, QByteArray::fromHex("830a"));
    QCOMPARE(gateway0.transact(2, 12, readPdu(kBlockB, 1))->pdu, QByteArray::fromHex("8304"));
    QVERIFY(gateway0.read(1, kBlockB, 1));
    Mbap gateway1;
    QVERIFY(gateway1.connectTo(m_fast.portBase + 1));
    QCOMPARE(gateway1.transact(3, 2, readPdu(kBlockB, 1))->pdu, QByteArray::fromHex("830b"));
}

void TestSimGateway::faultDisconnectDropsConnections()
{
    Mbap first;
    Mbap second;
    QVERIFY(first.connectTo(m_fast.portBase));
    QVERIFY(second.connectTo(m_fast.portBase));
    QVERIFY(first.read(1, kBlockB, 1));
    const Http added = m_fast.post(QStringLiteral("/faults"),
        {{QStringLiteral("target"), QJsonObject{{QStringLiteral("gateway"), 0}}},
            {QStringLiteral("kind"), QStringLiteral("disconnect")}});
    QCOMPARE(added.status, 200);
    QCOMPARE(added.json.value(QStringLiteral("persistent")).toBool(), false);
    QVERIFY(first.closedByPeer(kReplyTimeoutMs));
    QVERIFY(second.closedByPeer(kReplyTimeoutMs));
    // One-shot: nothing to clear, and the gateway takes new connections.
    QCOMPARE(m_fast.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toArray().size(), 0);
    Mbap again;
    QVERIFY(again.connectTo(m_fast.portBase));
    QVERIFY(again.read(1, kBlockB, 1));
}

void TestSimGateway::faultRefuseRefusesConnections()
{
    const int id = m_fast.fault({{QStringLiteral("gateway"), 1}}, QStringLiteral("refuse"));
    QVERIFY(id);
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_fast.portBase + 1);
        QVERIFY(!socket.waitForConnected(kReplyTimeoutMs));
        QCOMPARE(socket.error(), QAbstractSocket::ConnectionRefusedError);
    }
    Mbap otherGateway; // gateway 0 is not affected
    QVERIFY(otherGateway.connectTo(m_fast.portBase));
    QCOMPARE(m_fast.del(QStringLiteral("/faults/%1").arg(id)).status, 200);
    Mbap again;
    QVERIFY(again.connectTo(m_fast.portBase + 1));
    QVERIFY(again.read(1, kBlockB, 1));
}

void TestSimGateway::faultCountersVisibleInRegistersAndTruth()
{
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    const auto energy = [&client](quint8 unit) -> qint64 {
        const auto regs = client.read(unit, kEnergyTotal, 2);
        return regs ? qint64(u32(*regs, 0)) : -1;
    };
    const auto truthEnergy = [this](int unit) {
        return m_fast.truth(0, unit).value(QStringLiteral("energy_register_10wh")).toInteger(-1);
    };
    for (const int unit : {3, 4, 5, 6})
        QVERIFY(m_fast.setLoad(0, unit, 0)); // no drift while we look

    // counter_reset: the energy registers read 0.
    QVERIFY(energy(3) > 0);
    QVERIFY(m_fast.fault(meterTarget(0, 3), QStringLiteral("counter_reset")));
    QCOMPARE(energy(3), 0);
    QCOMPARE(truthEnergy(3), 0);

    // rollover: 5 units before the wrap, then 3.6 kWh more wraps the register to 355.
    QVERIFY(m_fast.fault(meterTarget(0, 4), QStringLiteral("rollover"), {{QStringLiteral("units_before_wrap"), 5}}));
    QCOMPARE(energy(4), 0x1'0000'0000LL - 5);
    QCOMPARE(truthEnergy(4), 0x1'0000'0000LL - 5);
    // jump: +1000 Wh = +100 units (wrapping again).
    QVERIFY(m_fast.fault(meterTarget(0, 4), QStringLiteral("jump"), {{QStringLiteral("wh"), 1000}}));
    QCOMPARE(energy(4), 95);
    QCOMPARE(truthEnergy(4), 95);

    // swap: a new meter with a new serial, found by it.
    QVERIFY(m_fast.fault(meterTarget(0, 5), QStringLiteral("swap"), {{QStringLiteral("new_serial"), 39999999}}));
    const auto serial = client.read(5, kSerialNumber, 2);
    QVERIFY(serial);
    QCOMPARE(u32(*serial, 0), 39999999u);
    QCOMPARE(m_fast.get(QStringLiteral("/meters/by-serial/39999999")).status, 200);
    QCOMPARE(m_fast.get(QStringLiteral("/meters/by-serial/31000005")).status, 404);
    const auto count = client.read(5, kPurchaseCount, 1);
    QVERIFY(count);
    QCOMPARE(count->at(0), quint16(0));

    // frozen: the registers stand still under load; cleared, they move again.
    QVERIFY(m_fast.setLoad(0, 6, 3600));
    const int frozen = m_fast.fault(meterTarget(0, 6), QStringLiteral("frozen"));
    QVERIFY(frozen);
    const qint64 before = energy(6);
    QCOMPARE(m_fast.post(QStringLiteral("/time/advance"), {{QStringLiteral("seconds"), 3600}}).status, 200);
    QCOMPARE(energy(6), before);
    QCOMPARE(m_fast.truth(0, 6).value(QStringLiteral("frozen")).toBool(), true);
    QCOMPARE(m_fast.del(QStringLiteral("/faults/%1").arg(frozen)).status, 200);
    QCOMPARE(m_fast.post(QStringLiteral("/time/advance"), {{QStringLiteral("seconds"), 3600}}).status, 200);
    QVERIFY2(qAbs(energy(6) - before - 360) <= 1, qPrintable(QString::number(energy(6) - before)));
    QVERIFY(m_fast.setLoad(0, 6, 0));
}

// ---- Control interface ---------------------------------------------------------------------------

void TestSimGateway::controlStatusAndTruth()
{
    const Http status = m_fast.get(QStringLiteral("/status"));
    QCOMPARE(status.status, 200);
    QCOMPARE(status.json.value(QStringLiteral("building")).toString(), QStringLiteral("测试大厦"));
    QCOMPARE(status.json.value(QStringLiteral("time_factor")).toDouble(), 1.0);
    QVERIFY(status.json.value(QStringLiteral("sim_time_ms")).toInteger() > 0);
    const QJsonArray gateways = status.json.value(QStringLiteral("gateways")).toArray();
    QCOMPARE(gateways.size(), 2);
    const QJsonObject gateway0 = gateways.at(0).toObject();
    QCOMPARE(gateway0.value(QStringLiteral("port")).toInt(), int(m_fast.portBase));
    QCOMPARE(gateway0.value(QStringLiteral("meters")).toInt(), 8);
    const QJsonArray buses = gateway0.value(QStringLiteral("buses")).toArray();
    QCOMPARE(buses.size(), 2);
    QCOMPARE(buses.at(0).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("T-COM1"));
    QCOMPARE(buses.at(0).toObject().value(QStringLiteral("meters")).toInt(), 6);
    QCOMPARE(
        buses.at(0).toObject().value(QStringLiteral("pty")).toString(), m_fast.ptys.value(QStringLiteral("T-COM1")));
    QCOMPARE(buses.at(0).toObject().value(QStringLiteral("baud")).toInt(), 0);

    const Http truth = m_fast.get(QStringLiteral("/meters/0/1"));
    QCOMPARE(truth.status, 200);
    for (const char *key : {"energy_wh", "balance_fen", "purchase_count", "relay_state", "relay_mode", "active_power_w",
             "sim_time_ms", "serial", "energy_register_10wh", "total_purchased_fen", "consumed_money_fen"})
        QVERIFY2(truth.json.contains(QLatin1StringView(key)), key);
    QCOMPARE(truth.json.value(QStringLiteral("serial")).toInteger(), 31000001);
    QCOMPARE(truth.json.value(QStringLiteral("relay_state")).toString(), QStringLiteral("closed"));
    QCOMPARE(truth.json.value(QStringLiteral("purchase_count")).toInt(), 3);
    const Http bySerial = m_fast.get(QStringLiteral("/meters/by-serial/31000011"));
    QCOMPARE(bySerial.status, 200);
    QCOMPARE(bySerial.json.value(QStringLiteral("unit_id")).toInt(), 11);
    QCOMPARE(bySerial.json.value(QStringLiteral("bus")).toString(), QStringLiteral("T-COM2"));
    QCOMPARE(m_fast.get(QStringLiteral("/meters/0/99")).status, 404);
    QCOMPARE(m_fast.get(QStringLiteral("/nothing")).status, 404);

    const Http factor = m_fast.post(QStringLiteral("/time/factor"), {{QStringLiteral("factor"), 60}});
    QCOMPARE(factor.status, 200);
    QCOMPARE(factor.json.value(QStringLiteral("time_factor")).toDouble(), 60.0);
    QThread::msleep(200);
    const Http faster = m_fast.get(QStringLiteral("/status"));
    QCOMPARE(faster.json.value(QStringLiteral("time_factor")).toDouble(), 60.0);
    const qint64 simElapsedMs = faster.json.value(QStringLiteral("sim_time_ms")).toInteger()
        - factor.json.value(QStringLiteral("sim_time_ms")).toInteger();
    QVERIFY2(simElapsedMs >= 200 * 60 && simElapsedMs < 5000 * 60, qPrintable(QString::number(simElapsedMs)));
    QCOMPARE(m_fast.post(QStringLiteral("/time/factor"), {{QStringLiteral("factor"), 1}}).status, 200);
}

void TestSimGateway::controlFaultListAndClear()
{
    const int a = m_fast.fault(meterTarget(0, 2), QStringLiteral("late_reply"), {{QStringLiteral("ms"), 1234}});
    const int b = m_fast.fault({{QStringLiteral("serial"), 31000012}}, QStringLiteral("no_reply"));
    QVERIFY(a && b && a != b);
    const QJsonArray faults = m_fast.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toArray();
    QCOMPARE(faults.size(), 2);
    QCOMPARE(faults.at(0).toObject().value(QStringLiteral("kind")).toString(), QStringLiteral("late_reply"));
    QCOMPARE(faults.at(0).toObject().value(QStringLiteral("ms")).toInt(), 1234);
    QCOMPARE(
        faults.at(1).toObject().value(QStringLiteral("target")).toObject().value(QStringLiteral("serial")).toInteger(),
        31000012);
    QCOMPARE(m_fast.del(QStringLiteral("/faults/%1").arg(a)).status, 200);
    QCOMPARE(m_fast.del(QStringLiteral("/faults/%1").arg(a)).status, 404);
    const Http all = m_fast.del(QStringLiteral("/faults"));
    QCOMPARE(all.status, 200);
    QCOMPARE(all.json.value(QStringLiteral("cleared")).toArray(), QJsonArray{b});
    QCOMPARE(m_fast.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toArray().size(), 0);
}

void TestSimGateway::controlRejectsBadRequests()
{
    struct Case
    {
        const char *path;
        QByteArray body;
        const char *field; // must be named in the error
    };
    const QList<Case> cases = {
        {"/faults", "{not json", "body"},
        {"/faults", "[1, 2]", "body"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "no_reply", "colour": "red"})", "colour"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "meltdown"})", "kind"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}})", "kind"},
        {"/faults", R"({"kind": "no_reply"})", "target"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 99}, "kind": "no_reply"})", "target.unit"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 300}, "kind": "no_reply"})", "target.unit"},
        {"/faults", R"({"target": {"gateway": 5}, "kind": "no_reply"})", "target.gateway"},
        {"/faults", R"({"target": {"gateway": 0, "bus": "X-COM9"}, "kind": "no_reply"})", "target.bus"},
        {"/faults", R"({"target": {"gateway": 0, "unti": 2}, "kind": "no_reply"})", "target.unti"},
        {"/faults", R"({"target": {"serial": 1}, "kind": "no_reply"})", "target.serial"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "late_reply"})", "ms"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "late_reply", "ms": -5})", "ms"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "late_reply", "ms": "soon"})", "ms"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "exception", "code": 0})", "code"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "exception", "code": 4, "ms": 5})", "ms"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "disconnect"})", "target"},
        {"/faults", R"({"target": {"gateway": 0}, "kind": "counter_reset"})", "target"},
        {"/faults", R"({"target": {"gateway": 0, "unit": 2}, "kind": "swap", "new_serial": 31000001})", "new_serial"},
        {"/time/advance", R"({"seconds": "x"})", "seconds"},
        {"/time/advance", R"({"seconds": -1})", "seconds"},
        {"/time/advance", R"({})", "seconds"},
        {"/time/factor", R"({"factor": 0})", "factor"},
        {"/time/factor", R"({"factor": 5000})", "factor"},
        {"/time/factor", R"({"factor": 2, "speed": 3})", "speed"},
        {"/load", R"({"target": {"gateway": 0, "unit": 2}, "watts": -1})", "watts"},
        {"/load", R"({"target": {"gateway": 0, "unit": 2}})", "watts"},
        {"/load", R"({"watts": 5})", "target"},
    };
    for (const Case &c : cases) {
        const Http r = m_fast.postRaw(QString::fromLatin1(c.path), c.body);
        const QString error = r.json.value(QStringLiteral("error")).toString();
        QVERIFY2(r.status == 400,
            qPrintable(QStringLiteral("%1 %2 → %3 %4")
                           .arg(QLatin1StringView(c.path), QString::fromUtf8(c.body))
                           .arg(r.status)
                           .arg(QString::fromUtf8(r.raw))));
        QVERIFY2(error.startsWith(QLatin1StringView(c.field)),
            qPrintable(QStringLiteral("%1 → \"%2\" does not start with %3")
                           .arg(QString::fromUtf8(c.body), error, QLatin1StringView(c.field))));
    }
    QCOMPARE(m_fast.get(QStringLiteral("/faults")).json.value(QStringLiteral("faults")).toArray().size(), 0);
}

void TestSimGateway::timeAdvanceChangesEnergyAndTruth()
{
    QVERIFY(m_fast.setLoad(0, 2, 3600));
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    const QJsonObject before = m_fast.truth(0, 2);
    const auto regsBefore = client.read(2, kEnergyTotal, 2);
    QVERIFY(regsBefore);
    QCOMPARE(before.value(QStringLiteral("active_power_w")).toInteger(), 3600);

    const Http advanced = m_fast.post(QStringLiteral("/time/advance"), {{QStringLiteral("seconds"), 3600}});
    QCOMPARE(advanced.status, 200);
    QVERIFY(advanced.json.value(QStringLiteral("sim_time_ms")).toInteger()
        >= before.value(QStringLiteral("sim_time_ms")).toInteger() + 3'600'000);

    const QJsonObject after = m_fast.truth(0, 2);
    const auto regsAfter = client.read(2, kEnergyTotal, 2);
    QVERIFY(regsAfter);
    QVERIFY(m_fast.setLoad(0, 2, std::nullopt));
    // 3600 W for one simulated hour (plus the few real ms of this test at factor 1).
    const qint64 dWh
        = after.value(QStringLiteral("energy_wh")).toInteger() - before.value(QStringLiteral("energy_wh")).toInteger();
    QVERIFY2(dWh >= 3600 && dWh <= 3610, qPrintable(QString::number(dWh)));
    const qint64 dUnits = qint64(u32(*regsAfter, 0)) - qint64(u32(*regsBefore, 0));
    QVERIFY2(dUnits >= 359 && dUnits <= 361, qPrintable(QString::number(dUnits)));
    QCOMPARE(qint64(u32(*regsAfter, 0)), after.value(QStringLiteral("energy_register_10wh")).toInteger());
    QVERIFY(after.value(QStringLiteral("balance_fen")).toInteger()
        < before.value(QStringLiteral("balance_fen")).toInteger());
}

void TestSimGateway::ctlCommandLine()
{
    const auto ctl = [this](const QStringList &arguments, QString *out, QString *err) {
        QProcess p;
        p.start(binary(QStringLiteral("prepay-sim")),
            QStringList{QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_fast.controlPort)}
                + arguments);
        if (!p.waitForFinished(20'000))
            return -1;
        *out = QString::fromUtf8(p.readAllStandardOutput());
        *err = QString::fromUtf8(p.readAllStandardError());
        return p.exitCode();
    };
    QString out;
    QString err;
    QCOMPARE(ctl({QStringLiteral("status")}, &out, &err), 0);
    QVERIFY2(out.contains(u"\"building\": \"测试大厦\""), qPrintable(out));
    QCOMPARE(ctl({QStringLiteral("truth"), QStringLiteral("0"), QStringLiteral("11")}, &out, &err), 0);
    QVERIFY2(out.contains(u"\"serial\": 31000011"), qPrintable(out));
    QCOMPARE(ctl({QStringLiteral("truth"), QStringLiteral("--serial"), QStringLiteral("31000012")}, &out, &err), 0);
    QVERIFY2(out.contains(u"\"unit_id\": 12"), qPrintable(out));

    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("exception"),
                     QStringLiteral("--gateway"), QStringLiteral("0"), QStringLiteral("--unit"), QStringLiteral("12"),
                     QStringLiteral("--code"), QStringLiteral("0x04")},
                 &out, &err),
        0);
    const QRegularExpression added(QStringLiteral("^fault (\\d+) added: exception on gateway 0 unit 12\n$"));
    const auto match = added.match(out);
    QVERIFY2(match.hasMatch(), qPrintable(out));
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    QCOMPARE(client.transact(1, 12, readPdu(kBlockB, 1))->pdu, QByteArray::fromHex("8304"));
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("list")}, &out, &err), 0);
    QVERIFY2(out.contains(u"\"kind\": \"exception\""), qPrintable(out));
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("clear"), match.captured(1)}, &out, &err), 0);
    QCOMPARE(out, QStringLiteral("cleared fault %1\n").arg(match.captured(1)));

    QCOMPARE(ctl({QStringLiteral("load"), QStringLiteral("--gateway"), QStringLiteral("0"), QStringLiteral("--unit"),
                     QStringLiteral("12"), QStringLiteral("--watts"), QStringLiteral("500")},
                 &out, &err),
        0);
    QCOMPARE(m_fast.truth(0, 12).value(QStringLiteral("load_override_w")).toInteger(), 500);
    QCOMPARE(ctl({QStringLiteral("load"), QStringLiteral("--gateway"), QStringLiteral("0"), QStringLiteral("--unit"),
                     QStringLiteral("12"), QStringLiteral("--watts"), QStringLiteral("profile")},
                 &out, &err),
        0);
    QVERIFY(m_fast.truth(0, 12).value(QStringLiteral("load_override_w")).isNull());
    QCOMPARE(ctl({QStringLiteral("factor"), QStringLiteral("1")}, &out, &err), 0);
    QVERIFY2(out.startsWith(u"time factor 1"), qPrintable(out));

    // Errors: the simulator's message and 65; a bad command line 64; no simulator 69.
    QCOMPARE(ctl({QStringLiteral("truth"), QStringLiteral("0"), QStringLiteral("99")}, &out, &err), 65);
    QVERIFY2(err.contains(u"no meter with unit id 99"), qPrintable(err));
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("meltdown"),
                     QStringLiteral("--gateway"), QStringLiteral("0")},
                 &out, &err),
        65);
    QVERIFY2(err.contains(u"kind: \"meltdown\" is not one of"), qPrintable(err));
    QCOMPARE(ctl({QStringLiteral("advance")}, &out, &err), 64);
    QCOMPARE(ctl({QStringLiteral("fault"), QStringLiteral("add"), QStringLiteral("--help")}, &out, &err), 0);
    QVERIFY2(out.contains(u"Usage: prepay-sim ctl fault add"), qPrintable(out));

    QProcess p;
    p.start(binary(QStringLiteral("prepay-sim")),
        {QStringLiteral("ctl"), QStringLiteral("--control-port"), QString::number(m_fast.controlPort + 1),
            QStringLiteral("status")});
    QVERIFY(p.waitForFinished(20'000));
    QCOMPARE(p.exitCode(), 69);
}

void TestSimGateway::metersCommandLineErrors()
{
    struct Case
    {
        QStringList arguments;
        int exitCode;
        const char *message;
    };
    QList<Case> cases = {
        {{QStringLiteral("--bits"), QStringLiteral("9"), QStringLiteral("--building"), QStringLiteral("demo")}, 64,
            "--bits"},
        {{QStringLiteral("--port-base"), QStringLiteral("1502")}, 64, "--building FILE|demo is required"},
        {{QStringLiteral("--building"), QStringLiteral("demo"), QStringLiteral("--time-factor"), QStringLiteral("0")},
            64, "--time-factor"},
        {{QStringLiteral("--building"), QStringLiteral("demo"), QStringLiteral("--turnaround-ms"),
             QStringLiteral("30..10")},
            64, "--turnaround-ms"},
        {{QStringLiteral("--building"), QStringLiteral("demo"), QStringLiteral("--bogus")}, 64, "bogus"},
        {{QStringLiteral("--building"), m_dir.filePath(QStringLiteral("absent.json"))}, 66, "cannot read"},
        // The fast simulator holds these ports already.
        {{QStringLiteral("--building"), m_buildingPath, QStringLiteral("--port-base"), QString::number(m_fast.portBase),
             QStringLiteral("--control-port"), QString::number(m_fast.portBase + 50)},
            69, "cannot listen"},
    };
    // A unit id twice on one gateway cannot be routed: a data error.
    const QString twice = m_dir.filePath(QStringLiteral("twice.json"));
    QFile file(twice);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(kBuilding).replace(R"("unit_id": 12, "serial")", R"("unit_id": 1, "serial")"));
    file.close();
    cases.append({{QStringLiteral("--building"), twice}, 65, "already used on this gateway"});

    for (const Case &c : cases) {
        QProcess p;
        p.start(binary(QStringLiteral("prepay-sim")), QStringList{QStringLiteral("meters")} + c.arguments);
        QVERIFY(p.waitForFinished(20'000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(p.exitCode() == c.exitCode && err.contains(QLatin1StringView(c.message)),
            qPrintable(QStringLiteral("%1 → exit %2: %3").arg(c.arguments.join(u' ')).arg(p.exitCode()).arg(err)));
    }
}

// ---- RTU over the pty ----------------------------------------------------------------------------

void TestSimGateway::rtuAnswersCorrectFrames()
{
    Pty pty;
    QVERIFY(pty.open(m_dir.filePath(QStringLiteral("T-COM1")))); // the stable symlink
    const QByteArray request = rtuFrame(1, readPdu(kBlockB, kBlockBCount));
    QCOMPARE(request.size(), 8);
    pty.write(request);
    const QByteArray reply = pty.read(5 + 2 * kBlockBCount, kReplyTimeoutMs);
    QCOMPARE(reply.size(), 5 + 2 * kBlockBCount);
    QVERIFY(rtuCrcOk(reply));
    QCOMPARE(quint8(reply.at(0)), quint8(1));
    const QList<quint16> regs = registersOf(reply.mid(1, reply.size() - 3));
    QCOMPARE(regs.size(), kBlockBCount);
    QCOMPARE(regs.at(0), quint16(0x0100));
    QCOMPARE(u32(regs, 2), 31000001u);

    // The other bus has its own pty.
    Pty other;
    QVERIFY(other.open(m_fast.ptys.value(QStringLiteral("T-COM2"))));
    other.write(rtuFrame(11, readPdu(kSerialNumber, 2)));
    const QByteArray reply11 = other.read(9, kReplyTimeoutMs);
    QVERIFY(rtuCrcOk(reply11));
    QCOMPARE(u32(registersOf(reply11.mid(1, reply11.size() - 3)), 0), 31000011u);
}

void TestSimGateway::rtuSilentOnBadCrcAndOtherAddress()
{
    Pty pty;
    QVERIFY(pty.open(m_fast.ptys.value(QStringLiteral("T-COM1"))));
    QByteArray bad = rtuFrame(1, readPdu(kBlockB, 2));
    bad[bad.size() - 1] = char(bad.at(bad.size() - 1) ^ 0x55);
    pty.write(bad);
    QCOMPARE(pty.read(1, kSilenceMs), QByteArray());
    pty.write(rtuFrame(11, readPdu(kBlockB, 2))); // unit 11 lives on T-COM2
    QCOMPARE(pty.read(1, kSilenceMs), QByteArray());
    pty.write(rtuFrame(200, readPdu(kBlockB, 2))); // nobody
    QCOMPARE(pty.read(1, kSilenceMs), QByteArray());
    // The line is still in step: a good frame right after is answered.
    pty.write(rtuFrame(2, readPdu(kBlockB, 2)));
    const QByteArray reply = pty.read(9, kReplyTimeoutMs);
    QVERIFY(rtuCrcOk(reply));
    QCOMPARE(quint8(reply.at(0)), quint8(2));
}

void TestSimGateway::rtuBroadcastAppliesSilently()
{
    Pty pty;
    QVERIFY(pty.open(m_fast.ptys.value(QStringLiteral("T-COM1"))));
    pty.write(rtuFrame(0, writeSinglePdu(kRelayMode, 2))); // FORCE_OFF to every meter of T-COM1
    QCOMPARE(pty.read(1, kSilenceMs), QByteArray());
    for (const int unit : {1, 2, 3, 4, 5, 6}) {
        const QJsonObject truth = m_fast.truth(0, unit);
        QCOMPARE(truth.value(QStringLiteral("relay_mode")).toString(), QStringLiteral("force_off"));
        QCOMPARE(truth.value(QStringLiteral("relay_state")).toString(), QStringLiteral("open"));
    }
    QCOMPARE(m_fast.truth(0, 11).value(QStringLiteral("relay_mode")).toString(), QStringLiteral("auto"));
    pty.write(rtuFrame(0, writeSinglePdu(kRelayMode, 0)));
    QCOMPARE(pty.read(1, kSilenceMs), QByteArray());
    QCOMPARE(m_fast.truth(0, 1).value(QStringLiteral("relay_state")).toString(), QStringLiteral("closed"));
}

void TestSimGateway::rtuFramesUnknownFunctionsBySilence()
{
    // Function 0x2B does not tell its length: the frame ends at the silence, and the meter
    // answers "illegal function".
    Pty pty;
    QVERIFY(pty.open(m_fast.ptys.value(QStringLiteral("T-COM1"))));
    pty.write(rtuFrame(3, QByteArray::fromHex("2b0e0100")));
    const QByteArray reply = pty.read(5, kReplyTimeoutMs);
    QCOMPARE(reply.size(), 5);
    QVERIFY(rtuCrcOk(reply));
    QCOMPARE(reply.mid(0, 3), QByteArray::fromHex("03ab01"));
}

void TestSimGateway::rtuCrcGarbageFault()
{
    QVERIFY(m_fast.fault(meterTarget(0, 4), QStringLiteral("crc_garbage")));
    Pty pty;
    QVERIFY(pty.open(m_fast.ptys.value(QStringLiteral("T-COM1"))));
    pty.write(rtuFrame(4, readPdu(kBlockB, 2)));
    const QByteArray reply = pty.read(9, kReplyTimeoutMs);
    QCOMPARE(reply.size(), 9);
    QCOMPARE(quint8(reply.at(0)), quint8(4));
    QVERIFY(!rtuCrcOk(reply));
    // Over TCP the gateway sees the garbage and reports the meter as not answering.
    Mbap client;
    QVERIFY(client.connectTo(m_fast.portBase));
    QCOMPARE(client.transact(1, 4, readPdu(kBlockB, 2))->pdu, QByteArray::fromHex("830b"));
}

// ---- mbpoll --------------------------------------------------------------------------------------

void TestSimGateway::mbpollReadsBlockB()
{
    const QString mbpoll = QStandardPaths::findExecutable(QStringLiteral("mbpoll"));
    QVERIFY2(!mbpoll.isEmpty(), "mbpoll is installed (packaging/debian-packages.txt)");
    QVERIFY(m_fast.setLoad(0, 1, 0)); // the registers stand still between mbpoll and truth
    const QJsonObject truth = m_fast.truth(0, 1);

    QProcess p;
    // -0: PDU addresses (mbpoll counts from 1 by default); -1: poll once.
    p.start(mbpoll,
        {QStringLiteral("-m"), QStringLiteral("tcp"), QStringLiteral("-p"), QString::number(m_fast.portBase),
            QStringLiteral("-a"), QStringLiteral("1"), QStringLiteral("-0"), QStringLiteral("-r"),
            QString::number(kBlockB), QStringLiteral("-c"), QString::number(kBlockBCount), QStringLiteral("-1"),
            QStringLiteral("-o"), QStringLiteral("2"), QStringLiteral("127.0.0.1")});
    QVERIFY(p.waitForFinished(20'000));
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(p.exitCode() == 0, qPrintable(out + QString::fromUtf8(p.readAllStandardError())));
    QHash<int, quint16> regs;
    const QRegularExpression line(QStringLiteral("^\\[(\\d+)\\]:\\s+(\\d+)"), QRegularExpression::MultilineOption);
    for (auto it = line.globalMatch(out); it.hasNext();) {
        const auto m = it.next();
        regs.insert(m.captured(1).toInt(), quint16(m.captured(2).toUInt()));
    }
    QCOMPARE(regs.size(), kBlockBCount);
    const auto reg32 = [&regs](int address) { return (quint32(regs.value(address)) << 16) | regs.value(address + 1); };
    QCOMPARE(regs.value(0x1000), quint16(0x0100));
    QCOMPARE(qint64(reg32(0x1002)), truth.value(QStringLiteral("serial")).toInteger());
    QCOMPARE(qint64(regs.value(0x1005)), truth.value(QStringLiteral("relay_state")).toString() == u"open" ? 1 : 0);
    QCOMPARE(qint64(regs.value(0x1007)), truth.value(QStringLiteral("purchase_count")).toInteger());
    QCOMPARE(qint64(qint32(reg32(0x1008))), truth.value(QStringLiteral("balance_fen")).toInteger());
    QCOMPARE(qint64(reg32(0x100A)), truth.value(QStringLiteral("total_purchased_fen")).toInteger());
    QCOMPARE(qint64(reg32(0x1010)), truth.value(QStringLiteral("energy_register_10wh")).toInteger());
    QCOMPARE(qint64(regs.value(0x1004)), truth.value(QStringLiteral("status_word")).toInteger());
    QVERIFY(m_fast.setLoad(0, 1, std::nullopt));
}

void TestSimGateway::mbpollRechargeWithWrongSequenceGetsException()
{
    const QString mbpoll = QStandardPaths::findExecutable(QStringLiteral("mbpoll"));
    QVERIFY2(!mbpoll.isEmpty(), "mbpoll is installed (packaging/debian-packages.txt)");
    const QJsonObject before = m_fast.truth(0, 1);
    const quint16 count = quint16(before.value(QStringLiteral("purchase_count")).toInt());

    // A well-formed mailbox (rc_check right) with sequence count + 5 instead of count + 1.
    const quint32 amountFen = 1000;
    const quint16 sequence = quint16(count + 5);
    const quint32 txn = 0x00ABCDEF;
    QByteArray checked;
    appendBe16(checked, quint16(amountFen >> 16));
    appendBe16(checked, quint16(amountFen & 0xFFFF));
    appendBe16(checked, sequence);
    appendBe16(checked, quint16(txn >> 16));
    appendBe16(checked, quint16(txn & 0xFFFF));
    const QList<quint16> values = {quint16(amountFen >> 16), quint16(amountFen & 0xFFFF), sequence, quint16(txn >> 16),
        quint16(txn & 0xFFFF), crc16(checked)};

    QStringList arguments = {QStringLiteral("-m"), QStringLiteral("tcp"), QStringLiteral("-p"),
        QString::number(m_fast.portBase), QStringLiteral("-a"), QStringLiteral("1"), QStringLiteral("-0"),
        QStringLiteral("-r"), QString::number(kRechargeMailbox), QStringLiteral("-1"), QStringLiteral("-o"),
        QStringLiteral("2"), QStringLiteral("127.0.0.1")};
    for (const quint16 v : values)
        arguments << QString::number(v);
    QProcess p;
    p.start(mbpoll, arguments);
    QVERIFY(p.waitForFinished(20'000));
    const QString output = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    QVERIFY2(p.exitCode() != 0, qPrintable(output));
    QVERIFY2(output.contains(u"Illegal data value"), qPrintable(output)); // exception 0x03

    const QJsonObject after = m_fast.truth(0, 1);
    QCOMPARE(
        after.value(QStringLiteral("last_command_result")).toString(), QStringLiteral("recharge_rejected_sequence"));
    QCOMPARE(after.value(QStringLiteral("purchase_count")).toInt(), int(count));
    QCOMPARE(after.value(QStringLiteral("total_purchased_fen")).toInteger(),
        before.value(QStringLiteral("total_purchased_fen")).toInteger());
}

QTEST_GUILESS_MAIN(TestSimGateway)
#include "tst_sim_gateway.moc"
