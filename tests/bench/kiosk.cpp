// bench: the kiosk UI offscreen with the software renderer: first frame, screen switches, memory
//
// Composes the kiosk the way prepay-kiosk --offline-fixture does (the real QML modules, the
// flow, the fixture) in this process, and measures:
//   first_frame_ms        process start → the first frame swapped (the tenant's first sight)
//   screen_switch_p95_ms  a state change of the flow → the next frame swapped, 95th percentile
//                         over --switches N switches round the screens (attract, identify,
//                         account, usage daily and monthly, history, top-up amount and QR)
//   rss_mb                peak resident memory (VmHWM) at the end
// Targets (issue 8): first frame < 800 ms, switch p95 < 50 ms, RSS < 200 MB. Run it with
// QT_QPA_PLATFORM=offscreen QT_QUICK_BACKEND=software (./dev bench sets both). Prints one JSON
// object on the last line ("failures": switches that never drew a frame, and a missing first frame).
#include "api/logging.h"
#include "fixturebackend.h"
#include "qrimageprovider.h"
#include "tenantflow.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QElapsedTimer>
#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>
#include <QtQuick/QQuickWindow>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <unistd.h>

Q_IMPORT_QML_PLUGIN(PrepayPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_KioskPlugin)
Q_IMPORT_QML_PLUGIN(Prepay_FixturePlugin)

using namespace prepay::kiosk;

namespace {

// Milliseconds since this process started (the kernel's start time, /proc/self/stat field 22).
double msSinceProcessStart()
{
    QFile stat(QStringLiteral("/proc/self/stat"));
    QFile uptime(QStringLiteral("/proc/uptime"));
    if (!stat.open(QIODevice::ReadOnly) || !uptime.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray s = stat.readAll();
    const QList<QByteArray> fields = s.mid(s.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 20)
        return -1;
    const double startTicks = fields.at(19).toDouble(); // field 22 overall
    const double up = uptime.readAll().split(' ').value(0).toDouble();
    return (up - startTicks / double(sysconf(_SC_CLK_TCK))) * 1000.0;
}

double peakRssMb()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toDouble() / 1024.0;
    }
    return -1;
}

// Runs `change`, then waits for the window's next swapped frame; the time between, in ms
// (negative if no frame came within 2 s).
double timeToFrame(QQuickWindow *window, const std::function<void()> &change)
{
    QEventLoop loop;
    bool swapped = false;
    const auto connection = QObject::connect(window, &QQuickWindow::frameSwapped, &loop, [&] {
        swapped = true;
        loop.quit();
    });
    QTimer::singleShot(2'000, &loop, &QEventLoop::quit);
    QElapsedTimer timer;
    timer.start();
    change();
    window->update();
    if (!swapped)
        loop.exec();
    const double ms = double(timer.nsecsElapsed()) / 1e6;
    QObject::disconnect(connection);
    return swapped ? ms : -1;
}

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The kiosk UI: first frame, screen switch p95, peak RSS."));
    parser.addHelpOption();
    const QCommandLineOption switchesOption(QStringLiteral("switches"), QStringLiteral("Screen switches to time (default 400)."),
        QStringLiteral("N"), QStringLiteral("400"));
    parser.addOption(switchesOption);
    parser.process(app);
    const int switches = std::max(8, parser.value(switchesOption).toInt());
    prepay::installLogging(prepay::LogVerbosity::Quiet);

    FixtureBackend fixture;
    fixture.setReplyDelayMs(0);
    fixture.setPayAfterMs(0);
    TenantFlow flow;
    flow.setBackend(&fixture);

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.addImageProvider(QStringLiteral("qr"), new QrImageProvider);
    engine.setInitialProperties({{QStringLiteral("flow"), QVariant::fromValue(&flow)}});

    double firstFrameMs = -1;
    QEventLoop first;
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Prepay/Main.qml")));
    auto *window = engine.rootObjects().isEmpty() ? nullptr : qobject_cast<QQuickWindow *>(engine.rootObjects().constFirst());
    if (!window) {
        std::fputs("the UI did not load\n", stderr);
        return 1;
    }
    QObject::connect(window, &QQuickWindow::frameSwapped, &first, [&] {
        if (firstFrameMs < 0)
            firstFrameMs = msSinceProcessStart();
        first.quit();
    });
    QTimer::singleShot(10'000, &first, &QEventLoop::quit);
    window->update();
    first.exec();
    QObject::disconnect(window, &QQuickWindow::frameSwapped, &first, nullptr);

    // A round of the screens a tenant goes through; each entry is one switch.
    const auto typeShop = [&flow](const QString &shopNo) {
        for (const QChar c : shopNo)
            flow.identify()->press(QString(c));
    };
    const QList<std::function<void()>> round = {
        [&] { flow.begin(); },
        [&] {
            typeShop(QStringLiteral("A-1F-101"));
            flow.identify()->lookUp();
            flow.identify()->confirm();
        },
        [&] { flow.showUsage(); },
        [&] { flow.usage()->setMonthly(true); },
        [&] { flow.back(); },
        [&] { flow.showHistory(); },
        [&] { flow.back(); },
        [&] { flow.startTopUp(); },
        [&] {
            flow.topUp()->choosePreset(1);
            flow.topUp()->confirmAmount();
        },
        [&] { flow.topUp()->chooseChannel(QStringLiteral("alipay")); },
        [&] { flow.back(); }, // cancels the QR
        [&] { flow.endSession(); },
    };
    QList<double> times;
    int failures = firstFrameMs < 0 ? 1 : 0;
    for (int i = 0; i < switches; ++i) {
        const double ms = timeToFrame(window, round.at(i % round.size()));
        if (ms < 0)
            ++failures;
        else
            times.append(ms);
        if (i % round.size() == round.size() - 1)
            QCoreApplication::processEvents(); // let the fixture's answers land between rounds
    }
    std::sort(times.begin(), times.end());
    const double p95 = times.isEmpty() ? -1 : times.at(std::min<qsizetype>(times.size() - 1, qsizetype(times.size() * 0.95)));
    const double p50 = times.isEmpty() ? -1 : times.at(times.size() / 2);
    std::fprintf(stderr, "first frame %.0f ms; %lld switches: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", firstFrameMs,
        qlonglong(times.size()), p50, p95, times.isEmpty() ? -1.0 : times.last());

    QJsonObject figures;
    figures.insert(QStringLiteral("first_frame_ms"), qRound(firstFrameMs));
    figures.insert(QStringLiteral("screen_switch_p95_ms"), qRound(p95 * 10) / 10.0);
    figures.insert(QStringLiteral("rss_mb"), qRound(peakRssMb() * 10) / 10.0);
    figures.insert(QStringLiteral("switches"), qlonglong(times.size()));
    figures.insert(QStringLiteral("failures"), failures);
    std::printf("%s\n", QJsonDocument(figures).toJson(QJsonDocument::Compact).constData());
    return 0;
}
