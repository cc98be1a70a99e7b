// A private CUPS server for tests (issue 9): Debian's cupsd with its own configuration, spool,
// state, cache and logs in a temporary directory, listening on its own domain socket and its own
// TCP port on 127.0.0.1 — never the system's cupsd or queues. The system's filters and helper
// programs are linked into a private ServerBin next to test backends written here:
//   capture:/DIR        writes each job's document to DIR/job-<id>.pdf and succeeds (a printer
//                       whose paper we can read);
//   fail:/media-empty   reports media-empty-error, "out of paper", and fails the job;
//   fail:/offline       reports offline-report, "printer not responding", and keeps trying (as
//                       a real backend does while the printer is unplugged) until cancelled;
//   fail:/door-open     reports door-open-error, "cover open", and fails the job.
// Queues are raw (the PDF reaches the backend as sent), made with lpadmin over the socket.
// A missing cupsd or lpadmin is a failure with the package to install, never a skip.
#pragma once

#include <QtCore/QDeadlineTimer>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtNetwork/QTcpServer>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace prepay::test {

class CupsRig
{
public:
    ~CupsRig() { stop(); }

    bool start(QString *error)
    {
        if (!m_dir.isValid()) {
            *error = QStringLiteral("no temporary directory");
            return false;
        }
        const QString cupsd = QStringLiteral("/usr/sbin/cupsd");
        if (!QFile::exists(cupsd) || QStandardPaths::findExecutable(QStringLiteral("lpadmin")).isEmpty()) {
            *error = QStringLiteral("cupsd or lpadmin missing: install cups-daemon and cups-client "
                                    "(packaging/debian-packages.txt)");
            return false;
        }
        // The spool's parents must be reachable by the lp user the backends run as.
        QFile::setPermissions(m_dir.path(), QFile::permissions(m_dir.path()) | QFile::ReadGroup | QFile::ExeGroup
                | QFile::ReadOther | QFile::ExeOther);
        for (const char *sub : {"etc", "spool", "tmp", "cache", "state", "log", "bin/backend", "bin/filter", "capture"})
            QDir().mkpath(path(QString::fromLatin1(sub)));
        for (const char *linked : {"daemon", "notifier", "monitor", "driver"})
            QFile::link(QStringLiteral("/usr/lib/cups/") + QLatin1String(linked), path(QStringLiteral("bin/")) + QLatin1String(linked));
        const QDir filters(QStringLiteral("/usr/lib/cups/filter"));
        for (const QString &filter : filters.entryList(QDir::Files | QDir::System))
            QFile::link(filters.filePath(filter), path(QStringLiteral("bin/filter/")) + filter);
        if (const passwd *lp = getpwnam("lp"))
            chown(path(QStringLiteral("capture")).toLocal8Bit().constData(), lp->pw_uid, lp->pw_gid);
        if (!writeBackends(error) || !writeConfig(error))
            return false;

        m_cupsd.setProcessChannelMode(QProcess::MergedChannels);
        m_cupsd.setStandardOutputFile(path(QStringLiteral("log/cupsd.out")));
        m_cupsd.start(cupsd, {QStringLiteral("-f"), QStringLiteral("-c"), path(QStringLiteral("etc/cupsd.conf")),
                                 QStringLiteral("-s"), path(QStringLiteral("etc/cups-files.conf"))});
        if (!m_cupsd.waitForStarted(5000)) {
            *error = QStringLiteral("cupsd did not start: %1").arg(m_cupsd.errorString());
            return false;
        }
        const QDeadlineTimer deadline(10000);
        while (!QFile::exists(socket()) && !deadline.hasExpired() && m_cupsd.state() == QProcess::Running)
            QThread::msleep(20);
        if (!QFile::exists(socket())) {
            *error = QStringLiteral("cupsd is not listening on %1: %2").arg(socket(), log());
            return false;
        }
        return true;
    }

    // A raw queue on `deviceUri` ("capture:" + captureDir(), "fail:/media-empty", …).
    bool addQueue(const QString &name, const QString &deviceUri, QString *error)
    {
        QProcess lpadmin;
        lpadmin.setProcessChannelMode(QProcess::MergedChannels);
        lpadmin.start(QStringLiteral("lpadmin"), {QStringLiteral("-h"), socket(), QStringLiteral("-p"), name,
                                                    QStringLiteral("-E"), QStringLiteral("-v"), deviceUri,
                                                    QStringLiteral("-m"), QStringLiteral("raw")});
        if (!lpadmin.waitForFinished(15000) || lpadmin.exitCode() != 0) {
            *error = QStringLiteral("lpadmin %1: %2").arg(name, QString::fromUtf8(lpadmin.readAll()));
            return false;
        }
        return true;
    }

    QString socket() const { return path(QStringLiteral("cups.sock")); }
    QString server() const { return socket(); } // for CupsClient
    quint16 port() const { return m_port; }
    QString captureDir() const { return path(QStringLiteral("capture")); }
    QString log() const
    {
        QFile file(path(QStringLiteral("log/error_log")));
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll().right(4000)) : QString();
    }

    void stop()
    {
        if (m_cupsd.state() == QProcess::NotRunning)
            return;
        m_cupsd.terminate();
        if (!m_cupsd.waitForFinished(5000)) {
            m_cupsd.kill();
            m_cupsd.waitForFinished(5000);
        }
    }

private:
    QString path(const QString &sub) const { return m_dir.filePath(sub); }

    bool writeFile(const QString &name, const QByteArray &text, QFile::Permissions permissions, QString *error)
    {
        QFile file(path(name));
        if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.setPermissions(permissions)) {
            *error = QStringLiteral("cannot write %1").arg(file.fileName());
            return false;
        }
        return true;
    }

    bool writeBackends(QString *error)
    {
        const QFile::Permissions executable = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
            | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther;
        return writeFile(QStringLiteral("bin/backend/capture"),
                   "#!/bin/sh\n"
                   "# capture:/DIR: each job's document to DIR/job-<id>.pdf\n"
                   "if [ $# -eq 0 ]; then echo 'direct capture \"Unknown\" \"prepay test capture\"'; exit 0; fi\n"
                   "dir=\"${DEVICE_URI#capture:}\"\n"
                   "if [ $# -ge 6 ]; then cat \"$6\" > \"$dir/job-$1.tmp\"; else cat > \"$dir/job-$1.tmp\"; fi\n"
                   "mv \"$dir/job-$1.tmp\" \"$dir/job-$1.pdf\"\n"
                   "exit 0\n",
                   executable, error)
            && writeFile(QStringLiteral("bin/backend/fail"),
                "#!/bin/sh\n"
                "# fail:/media-empty|offline|door-open: a printer that cannot print, and says why\n"
                "if [ $# -eq 0 ]; then echo 'direct fail \"Unknown\" \"prepay test failing printer\"'; exit 0; fi\n"
                "case \"${DEVICE_URI#fail:/}\" in\n"
                "  media-empty) echo 'STATE: +media-empty-error' >&2; echo 'ERROR: out of paper' >&2 ;;\n"
                "  offline) echo 'STATE: +offline-report' >&2; echo 'INFO: printer not responding' >&2\n"
                "           trap 'exit 1' TERM; while :; do sleep 1; done ;;\n"
                "  door-open) echo 'STATE: +door-open-error' >&2; echo 'ERROR: cover open' >&2 ;;\n"
                "esac\n"
                "exit 1\n",
                executable, error);
    }

    bool writeConfig(QString *error)
    {
        QTcpServer probe; // a free port, released just before cupsd takes it
        if (!probe.listen(QHostAddress::LocalHost, 0)) {
            *error = QStringLiteral("no free port");
            return false;
        }
        m_port = probe.serverPort();
        probe.close();
        const QFile::Permissions readable = QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther;
        const QByteArray files = QStringLiteral(
            "ServerRoot %1/etc\nRequestRoot %1/spool\nTempDir %1/tmp\nCacheDir %1/cache\nStateDir %1/state\n"
            "ServerBin %1/bin\nDataDir /usr/share/cups\nAccessLog %1/log/access_log\nErrorLog %1/log/error_log\n"
            "PageLog %1/log/page_log\nUser lp\nGroup lp\nSystemGroup root\n")
                                     .arg(m_dir.path())
                                     .toUtf8();
        const QByteArray daemon = QStringLiteral(
            "Listen 127.0.0.1:%1\nListen %2\nLogLevel info\nWebInterface No\nBrowsing No\n"
            "JobRetryLimit 0\nMaxJobs 500\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n")
                                      .arg(m_port)
                                      .arg(socket())
                                      .toUtf8();
        return writeFile(QStringLiteral("etc/cups-files.conf"), files, readable, error)
            && writeFile(QStringLiteral("etc/cupsd.conf"), daemon, readable, error);
    }

    QTemporaryDir m_dir;
    QProcess m_cupsd;
    quint16 m_port = 0;
};

} // namespace prepay::test
