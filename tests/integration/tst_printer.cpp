// The CUPS driver (drivers/printer/cupsprinter.h) against a REAL cupsd started by this test with
// its own configuration, socket, port and spool (support/cupsrig.h): a receipt queue whose
// backend writes what it receives to a file, and queues whose printer is out of paper, offline
// or has its cover open. Through our driver: the queues are listed, a PDF is printed and comes
// out byte for byte with the job completed, a failing printer's job does not complete and its
// state says why (the kiosk's health value), a job can be cancelled, and an unknown queue or an
// unreachable server is a named error.
#include "cupsrig.h"
#include "printer/cupsprinter.h"

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtTest/QtTest>

using namespace prepay;
using namespace prepay::printer;

namespace {

// A one-page PDF, small and valid (what the backend receives is compared byte for byte).
QByteArray samplePdf()
{
    QByteArray body = "%PDF-1.4\n";
    QList<qsizetype> offsets;
    const QList<QByteArray> objects{"<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 227 340] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length 44 >>\nstream\nBT /F1 12 Tf 20 300 Td (prepay receipt) Tj ET\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
    for (qsizetype i = 0; i < objects.size(); ++i) {
        offsets << body.size();
        body += QByteArray::number(i + 1) + " 0 obj\n" + objects.at(i) + "\nendobj\n";
    }
    const qsizetype xref = body.size();
    body += "xref\n0 " + QByteArray::number(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (const qsizetype offset : offsets)
        body += QByteArray::number(offset).rightJustified(10, '0') + " 00000 n \n";
    body += "trailer\n<< /Size " + QByteArray::number(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n"
        + QByteArray::number(xref) + "\n%%EOF\n";
    return body;
}

} // namespace

class TestPrinter : public QObject
{
    Q_OBJECT

    test::CupsRig m_cups;
    QTemporaryDir m_dir;
    QString m_pdf;

private Q_SLOTS:
    void initTestCase()
    {
        QString error;
        QVERIFY2(m_cups.start(&error), qPrintable(error));
        QVERIFY2(m_cups.addQueue(QStringLiteral("Receipts"), QStringLiteral("capture:") + m_cups.captureDir(), &error),
            qPrintable(error));
        QVERIFY2(m_cups.addQueue(QStringLiteral("PaperOut"), QStringLiteral("fail:/media-empty"), &error), qPrintable(error));
        QVERIFY2(m_cups.addQueue(QStringLiteral("Offline"), QStringLiteral("fail:/offline"), &error), qPrintable(error));
        QVERIFY2(m_cups.addQueue(QStringLiteral("DoorOpen"), QStringLiteral("fail:/door-open"), &error), qPrintable(error));
        m_pdf = m_dir.filePath(QStringLiteral("receipt.pdf"));
        QFile file(m_pdf);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(samplePdf());
    }

    void queuesAreListed()
    {
        CupsClient cups(m_cups.server());
        QString error;
        const std::optional<QStringList> queues = cups.queues(&error);
        QVERIFY2(queues, qPrintable(error));
        QCOMPARE(*queues, (QStringList{QStringLiteral("DoorOpen"), QStringLiteral("Offline"), QStringLiteral("PaperOut"),
                              QStringLiteral("Receipts")}));
        // Over TCP too, at the rig's own port.
        CupsClient overTcp(QStringLiteral("127.0.0.1:%1").arg(m_cups.port()));
        const std::optional<QStringList> again = overTcp.queues(&error);
        QVERIFY2(again, qPrintable(error));
        QCOMPARE(*again, *queues);
    }

    void printsAndTheJobCompletes()
    {
        CupsClient cups(m_cups.server());
        QString error;
        const std::optional<PrinterState> before = cups.printerState(QStringLiteral("Receipts"), &error);
        QVERIFY2(before, qPrintable(error));
        QCOMPARE(before->health(), Health::Ok);
        const std::optional<int> id = cups.print(QStringLiteral("Receipts"), m_pdf, QStringLiteral("receipt P0000000001"), &error);
        QVERIFY2(id && *id > 0, qPrintable(error));
        const std::optional<FollowedJob> job = cups.followJob(*id, QStringLiteral("Receipts"), 20000, &error);
        QVERIFY2(job, qPrintable(error));
        QVERIFY2(job->end == FollowedJob::End::Completed, qPrintable(jobStateCode(job->job.state) + m_cups.log()));
        QCOMPARE(job->job.state, JobState::State::Completed);
        QFile printed(m_cups.captureDir() + QStringLiteral("/job-%1.pdf").arg(*id));
        QVERIFY2(printed.open(QIODevice::ReadOnly), qPrintable(printed.fileName()));
        QCOMPARE(printed.readAll(), samplePdf());
    }

    void failingPrinterSaysWhy_data()
    {
        QTest::addColumn<QString>("queue");
        QTest::addColumn<int>("health");
        QTest::addColumn<QString>("message");
        QTest::newRow("paper out") << QStringLiteral("PaperOut") << int(Health::PaperOut) << QStringLiteral("out of paper");
        QTest::newRow("offline") << QStringLiteral("Offline") << int(Health::Offline) << QStringLiteral("printer not responding");
        QTest::newRow("door open") << QStringLiteral("DoorOpen") << int(Health::DoorOpen) << QStringLiteral("cover open");
    }
    void failingPrinterSaysWhy()
    {
        QFETCH(QString, queue);
        QFETCH(int, health);
        QFETCH(QString, message);
        CupsClient cups(m_cups.server());
        QString error;
        const std::optional<int> id = cups.print(queue, m_pdf, QStringLiteral("receipt"), &error);
        QVERIFY2(id, qPrintable(error));
        // The backend fails (or, offline, keeps trying): the printer's reason shows and the job
        // does not complete.
        std::optional<PrinterState> state;
        // (cupsd takes the backend's STATE: line and its message line one after the other: both.)
        QTRY_VERIFY2_WITH_TIMEOUT((state = cups.printerState(queue, &error)) && state->health() != Health::Ok
                && state->message.contains(message),
            qPrintable(QStringLiteral("state %1 reasons %2 message %3; %4")
                           .arg(state ? int(state->state) : -1)
                           .arg(state ? state->reasons.join(u',') : error, state ? state->message : QString(), m_cups.log())),
            20000);
        QCOMPARE(int(state->health()), health);
        QVERIFY2(state->message.contains(message), qPrintable(state->message + state->reasons.join(u',')));
        // Followed, the job ends as stuck well before the deadline (the grace of its reason), with
        // the printer's words; an offline printer is given longer (connecting-to-device is normal
        // for a moment at every job).
        QElapsedTimer took;
        took.start();
        const std::optional<FollowedJob> job = cups.followJob(*id, queue, 60000, &error);
        QVERIFY2(job, qPrintable(error));
        QVERIFY2(job->end == FollowedJob::End::Stuck, qPrintable(jobStateCode(job->job.state) + job->why()));
        QVERIFY(!job->job.finished());
        QVERIFY2(job->why().contains(message), qPrintable(job->why()));
        qInfo("%s: the follow ended as stuck after %lld ms", qPrintable(queue), took.elapsed());
        QVERIFY2(took.elapsed() < (health == int(Health::Offline) ? CupsClient::kOfflineGraceMs : CupsClient::kStuckGraceMs) + 5000,
            qPrintable(QString::number(took.elapsed())));
        // Given up on: cancelled, never printed later by surprise.
        QVERIFY2(cups.cancel(*id, &error), qPrintable(error));
        const std::optional<JobState> cancelled = cups.jobState(*id, &error);
        QVERIFY2(cancelled, qPrintable(error));
        QCOMPARE(cancelled->state, JobState::State::Cancelled);
    }

    void errorsAreNamed()
    {
        CupsClient cups(m_cups.server());
        QString error;
        QVERIFY(!cups.print(QStringLiteral("NoSuchQueue"), m_pdf, QStringLiteral("receipt"), &error));
        QVERIFY2(error.contains(QStringLiteral("NoSuchQueue")), qPrintable(error));
        QVERIFY(!cups.printerState(QStringLiteral("NoSuchQueue"), &error));
        QVERIFY2(error.contains(QStringLiteral("NoSuchQueue")), qPrintable(error));
        QVERIFY(!cups.jobState(999999, &error));
        QVERIFY2(error.contains(QStringLiteral("999999")), qPrintable(error));

        CupsClient nowhere(m_dir.filePath(QStringLiteral("no-cupsd.sock")));
        QVERIFY(!nowhere.queues(&error));
        QVERIFY2(error.contains(QStringLiteral("cannot reach")), qPrintable(error));
        CupsClient badServer(QStringLiteral("localhost:99999"));
        QVERIFY(!badServer.queues(&error));
        QVERIFY2(error.contains(QStringLiteral("host:port")), qPrintable(error));
    }

    // prepayctl receipt print: the sample receipt rendered and printed through the real queue,
    // followed to its end; a printer out of paper and an unknown queue give their exit codes.
    void prepayctlPrintsTheSample()
    {
        const QString prepayctl = qEnvironmentVariable("PREPAY_BIN_DIR") + QStringLiteral("/prepayctl");
        const auto ctl = [&](const QString &queue, int timeoutS) {
            QProcess process;
            process.setProcessChannelMode(QProcess::MergedChannels);
            process.start(prepayctl, {QStringLiteral("receipt"), QStringLiteral("print"), QStringLiteral("--sample"),
                                         QStringLiteral("--queue"), queue, QStringLiteral("--cups"), m_cups.server(),
                                         QStringLiteral("--lang"), QStringLiteral("en"), QStringLiteral("--timeout"),
                                         QString::number(timeoutS)});
            process.waitForFinished(60000);
            return std::make_pair(process.exitCode(), QString::fromUtf8(process.readAll()));
        };
        const auto [printed, out] = ctl(QStringLiteral("Receipts"), 30);
        QVERIFY2(printed == 0 && out.contains(QStringLiteral("completed")), qPrintable(out));
        const QRegularExpressionMatch job = QRegularExpression(QStringLiteral("job (\\d+) sent to Receipts")).match(out);
        QVERIFY2(job.hasMatch(), qPrintable(out));
        QProcess text;
        text.start(QStringLiteral("pdftotext"), {m_cups.captureDir() + QStringLiteral("/job-%1.pdf").arg(job.captured(1)),
                                                    QStringLiteral("-")});
        QVERIFY(text.waitForFinished(30000));
        const QByteArray words = text.readAllStandardOutput();
        QVERIFY2(words.contains("P0000000042K7Q2M9XZ4") && words.contains("Top-up receipt"), words.constData());

        // Out of paper: said within seconds (not at --timeout), the job left queued for the refill.
        QElapsedTimer took;
        took.start();
        const auto [stuck, why] = ctl(QStringLiteral("PaperOut"), 120);
        QVERIFY2(stuck == 2 && why.contains(QStringLiteral("paper_out: out of paper"))
                && why.contains(QStringLiteral("stays queued")),
            qPrintable(why));
        QVERIFY2(took.elapsed() < 20000, qPrintable(QString::number(took.elapsed())));
        const QRegularExpressionMatch stuckJob = QRegularExpression(QStringLiteral("job (\\d+) sent")).match(why);
        QVERIFY2(stuckJob.hasMatch(), qPrintable(why));
        CupsClient cups(m_cups.server());
        QString error;
        QVERIFY2(cups.cancel(stuckJob.captured(1).toInt(), &error), qPrintable(error));

        const auto [missing, said] = ctl(QStringLiteral("NoSuchQueue"), 3);
        QVERIFY2(missing == 3 && said.contains(QStringLiteral("NoSuchQueue")), qPrintable(said));
    }

    void healthOfReasons()
    {
        PrinterState s;
        QCOMPARE(s.health(), Health::Ok);
        s.reasons = {QStringLiteral("media-low-warning")};
        QCOMPARE(s.health(), Health::PaperLow);
        s.reasons = {QStringLiteral("media-low-warning"), QStringLiteral("cover-open-error")};
        QCOMPARE(s.health(), Health::DoorOpen);
        s.reasons = {QStringLiteral("marker-supply-empty-error")};
        QCOMPARE(s.health(), Health::Error);
        s.reasons = {QStringLiteral("media-needed")};
        QCOMPARE(s.health(), Health::PaperOut);
        s.reasons.clear();
        s.state = PrinterState::State::Stopped;
        QCOMPARE(s.health(), Health::Offline);
        s.state = PrinterState::State::Idle;
        s.accepting = false;
        QCOMPARE(s.health(), Health::Error);
        QCOMPARE(healthCode(Health::PaperOut), QStringLiteral("paper_out"));
    }
};

QTEST_GUILESS_MAIN(TestPrinter)
#include "tst_printer.moc"
