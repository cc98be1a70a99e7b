// "prepay-sim tap URL": plays the tenant's phone after the scan. It opens the sandbox pay page the
// QR points to and presses its Pay (or Cancel) button — the page's own form, as a browser without
// scripts would — and prints what the page then says. For the demo, for a technician checking a
// building's payments without a phone, and for scripts; the end-to-end test uses a real browser.
#pragma once

#include <QtCore/QStringList>
#include <QtCore/QTextStream>

namespace prepay::sim::pay {

// Exit codes: 0 the page answered the press with 2xx, 1 the page refused (already paid, closed),
// 3 cannot reach the page or it is not a pay page, 64 usage.
int runTap(const QString &program, const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace prepay::sim::pay
