// The words of a PDF as pdftotext (Debian's poppler-utils) reads them: how tests check what a
// rendered or printed receipt says. Tests only.
#pragma once

#include <QtCore/QProcess>
#include <QtCore/QString>

namespace prepay::test {

enum class PdfLayout { Reading, Physical }; // pdftotext's default order, or -layout

// The text of `path`; on failure a text in angle brackets saying why (pdftotext missing, not a
// PDF), which holds none of the words a test looks for.
inline QString pdfText(const QString &path, PdfLayout layout = PdfLayout::Reading)
{
    QProcess pdftotext;
    QStringList args;
    if (layout == PdfLayout::Physical)
        args << QStringLiteral("-layout");
    pdftotext.start(QStringLiteral("pdftotext"), args << path << QStringLiteral("-"));
    if (!pdftotext.waitForFinished(30'000))
        return QStringLiteral("<pdftotext did not finish: %1>").arg(pdftotext.errorString());
    if (pdftotext.exitCode() != 0) {
        return QStringLiteral("<pdftotext exit %1 on %2: %3>")
            .arg(pdftotext.exitCode())
            .arg(path, QString::fromUtf8(pdftotext.readAllStandardError()));
    }
    return QString::fromUtf8(pdftotext.readAllStandardOutput());
}

} // namespace prepay::test
