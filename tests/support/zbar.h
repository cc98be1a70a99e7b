// Reads a QR code back from a picture with zbarimg (Debian's zbar-tools): an independent decoder,
// so a test of a QR we draw does not trust our own encoder. Tests only.
#pragma once

#include <QtCore/QProcess>
#include <QtCore/QString>

namespace prepay::test {

// The text of the one QR code in the PNG at `path`; on failure a text in angle brackets saying
// why (zbarimg missing, no code found), which never equals a payload.
inline QString decodeQr(const QString &path)
{
    QProcess zbar;
    zbar.start(QStringLiteral("zbarimg"), {QStringLiteral("-q"), QStringLiteral("--raw"), path});
    if (!zbar.waitForFinished(60'000))
        return QStringLiteral("<zbarimg did not finish: %1>").arg(zbar.errorString());
    if (zbar.exitCode() != 0) {
        return QStringLiteral("<zbarimg exit %1 on %2: %3>")
            .arg(zbar.exitCode())
            .arg(path, QString::fromUtf8(zbar.readAllStandardError()));
    }
    QString out = QString::fromUtf8(zbar.readAllStandardOutput());
    while (out.endsWith(u'\n'))
        out.chop(1);
    return out;
}

} // namespace prepay::test
