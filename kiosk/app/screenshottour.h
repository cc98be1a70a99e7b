// `prepay-kiosk --screenshots DIR` (and `--self-test` with the fixture): walks the tenant UI
// through every screen and state over the offline fixture — attract, identify and its
// confirmation, PIN, the account in each status colour, usage daily and monthly, history, top-up
// amount / channel / QR / success (power restored) / failure / timeout, the receipt printer out of
// paper (before paying, after paying, reprinting from history), offline, out of service, the idle
// countdown — in Chinese and in English, portrait, plus a few landscape; each shot is a
// PNG named <lang>-<portrait|landscape>-<NN>-<name>.png. Each language gets a fresh fixture, so
// its first QR is attempt 1 for 100 元 (tests decode it against FixtureBackend::paymentPayload).
// Time moves by a tour clock (system time plus an offset the tour advances), never by sleeping
// minutes.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

class QQuickWindow;

namespace prepay::kiosk {

class FixturePrinter;
class TenantFlow;

struct TourResult
{
    QStringList files;  // written, in order (empty when only visiting)
    QString error;      // why the tour stopped, if it did
};

// Runs the tour on `window` (Main.qml's window, bound to `flow`, whose receipts come out of
// `printer`). With an empty `dir` it only visits every state (the self-test), writing nothing.
TourResult runScreenshotTour(QQuickWindow *window, TenantFlow *flow, FixturePrinter *printer, const QString &dir);

} // namespace prepay::kiosk
