// The kiosk's outbox file (kiosk/link/outbox.h) on its own: events kept in order across a
// reopen (a kiosk restart), removed only when acknowledged, the file emptied once nothing is
// pending, a torn last line (a crash mid-write) ignored without gluing onto the next event, an
// unknown acknowledgement harmless, and the file compacted once it grows past its limit.
#include "link/outbox.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

using prepay::kiosk::Outbox;
using prepay::kiosk::OutboxEvent;

namespace {

OutboxEvent outboxEvent(int n)
{
    OutboxEvent e;
    e.eventId = QStringLiteral("00000000-0000-4000-8000-%1").arg(n, 12, 10, QLatin1Char('0'));
    e.kind = QStringLiteral("receipt_printed");
    e.atMs = 1'000 + n;
    e.fields = QJsonObject{{QStringLiteral("receipt_no"), QStringLiteral("CSH%1").arg(n)}};
    return e;
}

QStringList idsOf(const Outbox &outbox)
{
    QStringList ids;
    for (const OutboxEvent &e : outbox.pending())
        ids << e.eventId;
    return ids;
}

qint64 lines(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    return f.readAll().count('\n');
}

} // namespace

class TestKioskOutbox : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keptInOrderUntilAcknowledged()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("outbox.jsonl"));
        QString error;
        {
            Outbox outbox;
            QVERIFY2(outbox.open(path, &error), qPrintable(error));
            QVERIFY(outbox.pending().isEmpty());
            for (int n = 1; n <= 3; ++n)
                QVERIFY2(outbox.append(outboxEvent(n), &error), qPrintable(error));
            QVERIFY2(outbox.acknowledge(outboxEvent(1).eventId, &error), qPrintable(error));
            QVERIFY(outbox.acknowledge(QStringLiteral("not-in-the-outbox"), &error)); // harmless
        }
        Outbox reopened;
        QVERIFY2(reopened.open(path, &error), qPrintable(error));
        QCOMPARE(idsOf(reopened), (QStringList{outboxEvent(2).eventId, outboxEvent(3).eventId}));
        QCOMPARE(reopened.pending().first().fields, outboxEvent(2).fields);
        QCOMPARE(reopened.pending().first().atMs, outboxEvent(2).atMs);
        QCOMPARE(reopened.pending().first().kind, QStringLiteral("receipt_printed"));
        QVERIFY(reopened.acknowledge(outboxEvent(2).eventId, &error));
        QVERIFY(reopened.acknowledge(outboxEvent(3).eventId, &error));
        QVERIFY(reopened.pending().isEmpty());
        QCOMPARE(lines(path), 0); // emptied once nothing is pending
        Outbox empty;
        QVERIFY(empty.open(path, &error));
        QVERIFY(empty.pending().isEmpty());
    }

    void tornLastLineIsIgnored()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("outbox.jsonl"));
        QString error;
        {
            Outbox outbox;
            QVERIFY(outbox.open(path, &error));
            QVERIFY(outbox.append(outboxEvent(1), &error));
        }
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::Append));
            f.write("{\"event_id\":\"00000000-0000-4000-8000-0000000"); // the crash
        }
        Outbox outbox;
        QVERIFY2(outbox.open(path, &error), qPrintable(error));
        QCOMPARE(idsOf(outbox), QStringList{outboxEvent(1).eventId});
        QVERIFY(outbox.append(outboxEvent(2), &error));
        Outbox again;
        QVERIFY(again.open(path, &error));
        QCOMPARE(idsOf(again), (QStringList{outboxEvent(1).eventId, outboxEvent(2).eventId}));
    }

    void compactedPastItsLimit()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("outbox.jsonl"));
        QString error;
        Outbox outbox;
        QVERIFY(outbox.open(path, &error));
        QVERIFY(outbox.append(outboxEvent(0), &error)); // stays pending throughout
        for (int n = 1; n <= Outbox::compactLinesMin / 2 + 10; ++n) {
            QVERIFY(outbox.append(outboxEvent(n), &error));
            QVERIFY(outbox.acknowledge(outboxEvent(n).eventId, &error));
        }
        // Two lines per acknowledged event would be past the limit: rewritten with what is pending.
        QVERIFY2(lines(path) < Outbox::compactLinesMin, qPrintable(QString::number(lines(path))));
        QCOMPARE(idsOf(outbox), QStringList{outboxEvent(0).eventId});
        Outbox reopened;
        QVERIFY(reopened.open(path, &error));
        QCOMPARE(idsOf(reopened), QStringList{outboxEvent(0).eventId});
    }

    void unusableFileIsAnError()
    {
        QTemporaryDir dir;
        Outbox outbox;
        QString error;
        QVERIFY(!outbox.open(dir.filePath(QStringLiteral("missing/outbox.jsonl")), &error));
        QVERIFY2(error.contains(QStringLiteral("outbox.jsonl")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestKioskOutbox)
#include "tst_kiosk_outbox.moc"
