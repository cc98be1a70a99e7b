#include "paytap.h"

#include <QtCore/QEventLoop>
#include <QtCore/QFile>
#include <QtCore/QRegularExpression>
#include <QtCore/QTimer>
#include <QtCore/QUrl>
#include <QtNetwork/QNetworkAccessManager>
#include <QtNetwork/QNetworkReply>
#include <QtNetwork/QNetworkRequest>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslConfiguration>

namespace prepay::sim::pay {

namespace {

constexpr int timeoutMs = 15000;

struct Page
{
    int status = 0;
    QString html;
    QString error; // transport failure
};

Page fetch(QNetworkAccessManager &manager, QNetworkRequest request, bool post)
{
    request.setTransferTimeout(timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    QNetworkReply *reply = nullptr;
    if (post) {
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/x-www-form-urlencoded"));
        reply = manager.post(request, QByteArray());
    } else {
        reply = manager.get(request);
    }
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Page page;
    page.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    page.html = QString::fromUtf8(reply->readAll());
    if (page.status == 0)
        page.error = reply->errorString();
    reply->deleteLater();
    return page;
}

// The text of the element with this id (<p id="x">text</p>), tags stripped, entities decoded.
QString textOf(const QString &html, const QString &id)
{
    const QRegularExpression element(
        QStringLiteral("<([a-z0-9]+)[^>]*\\bid=\"%1\"[^>]*>(.*?)</\\1>").arg(QRegularExpression::escape(id)),
        QRegularExpression::DotMatchesEverythingOption);
    const QRegularExpressionMatch m = element.match(html);
    if (!m.hasMatch())
        return {};
    QString text = m.captured(2);
    text.remove(QRegularExpression(QStringLiteral("<[^>]*>")));
    text.replace(QStringLiteral("&lt;"), QStringLiteral("<")).replace(QStringLiteral("&gt;"), QStringLiteral(">"));
    text.replace(QStringLiteral("&quot;"), QStringLiteral("\"")).replace(QStringLiteral("&#39;"), QStringLiteral("'"));
    text.replace(QStringLiteral("&amp;"), QStringLiteral("&"));
    return text.simplified();
}

} // namespace

int runTap(const QString &program, const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    QString caFile;
#ifdef PREPAY_SIM_PAY_KEYS_DIR
    caFile = QStringLiteral(PREPAY_SIM_PAY_KEYS_DIR "/tls-ca.pem");
#endif
    const QString help = QStringLiteral(
        "Usage: %1 URL [--cancel] [--ca FILE]\n"
        "\n"
        "Plays the tenant's phone after scanning a QR of the payment sandbox (prepay-sim pay): opens the\n"
        "pay page at URL, presses its Pay button (Cancel with --cancel) and prints what the page says.\n"
        "\n"
        "  --cancel     press Cancel instead of Pay\n"
        "  --ca FILE    CA certificate the sandbox's HTTPS is trusted with (default %2)\n"
        "\n"
        "Exit codes: 0 pressed and answered; 1 the page refused the press (already paid, closed);\n"
        "3 cannot reach the page, or it is not a pay page; 64 usage.\n")
                             .arg(program, caFile);
    QString url;
    bool cancel = false;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a == u"--help" || a == u"-h") {
            out << help;
            return 0;
        }
        if (a == u"--cancel") {
            cancel = true;
        } else if (a == u"--ca") {
            if (i + 1 >= arguments.size()) {
                err << program << ": --ca needs a file (see --help)\n";
                return 64;
            }
            caFile = arguments.at(++i);
        } else if (a.startsWith(u"--") || !url.isEmpty()) {
            err << program << ": unexpected '" << a << "' (see --help)\n";
            return 64;
        } else {
            url = a;
        }
    }
    const QUrl pageUrl(url, QUrl::StrictMode);
    if (url.isEmpty() || !pageUrl.isValid() || (pageUrl.scheme() != u"http" && pageUrl.scheme() != u"https")) {
        err << program << ": give the pay page's http(s) URL — the QR's content (see --help)\n";
        return 64;
    }

    QNetworkAccessManager manager;
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    if (pageUrl.scheme() == u"https" && !caFile.isEmpty()) {
        QFile file(caFile);
        if (!file.open(QIODevice::ReadOnly)) {
            err << program << ": cannot read the CA file " << caFile << '\n';
            return 64;
        }
        QList<QSslCertificate> cas = tls.caCertificates();
        cas << QSslCertificate::fromData(file.readAll(), QSsl::Pem);
        tls.setCaCertificates(cas);
    }
    QNetworkRequest get(pageUrl);
    get.setSslConfiguration(tls);
    const Page page = fetch(manager, get, false);
    if (!page.error.isEmpty()) {
        err << program << ": cannot open " << url << ": " << page.error << '\n';
        return 3;
    }
    const QString button = cancel ? QStringLiteral("cancel") : QStringLiteral("pay");
    const QRegularExpression form(
        QStringLiteral("<form method=\"post\" action=\"([^\"]+)\"><button id=\"%1\"").arg(button));
    const QRegularExpressionMatch m = form.match(page.html);
    const QString amount = textOf(page.html, QStringLiteral("amount"));
    if (page.status != 200 || amount.isEmpty()) {
        err << program << ": " << url << " is not a pay page (HTTP " << page.status << ")\n";
        return 3;
    }
    out << "pay page: " << amount << " " << textOf(page.html, QStringLiteral("subject")) << " — "
        << textOf(page.html, QStringLiteral("state")) << '\n';
    if (!m.hasMatch()) {
        out << "the page offers no " << button << " button (nothing to do)\n";
        return 1;
    }
    QNetworkRequest post(pageUrl.resolved(QUrl(m.captured(1))));
    post.setSslConfiguration(tls);
    const Page answer = fetch(manager, post, true);
    if (!answer.error.isEmpty()) {
        err << program << ": pressing " << button << ": " << answer.error << '\n';
        return 3;
    }
    out << "pressed " << button << ": " << textOf(answer.html, QStringLiteral("result")) << '\n';
    return answer.status >= 200 && answer.status < 300 ? 0 : 1;
}

} // namespace prepay::sim::pay
