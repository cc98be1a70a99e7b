// The enrolled kiosk's state directory and how it is made (`prepay-kiosk --enrol`). One
// directory holds everything the kiosk knows between restarts:
//   enrolment.json  {"format":"prepay.kiosk-enrolment/1","kiosk_id","name","host","kiosk_port",
//                    "staff_port","enrolled_at_ms"} — where prepayd is and who we are;
//   ca.pem          the building's CA (the only certificate the kiosk trusts);
//   client.pem      the kiosk's client certificate, signed by that CA at enrolment;
//   client.key      its private key (made here, never sent anywhere; mode 0600);
//   directory.json  the directory replica (backoffice/sync/replica.h's file);
//   profile.json    the last kiosk.profile and the time of the last sync (linkbackend.h);
//   outbox.jsonl    the kiosk events not yet acknowledged by prepayd (outbox.h).
// Enrolment makes an EC P-256 key and a certificate request (backoffice/pki), presents them with
// the one-time pairing code on prepayd's staff port (kiosk.enrol, trusting only the CA file
// given), checks that the CA prepayd answers with is that CA, and writes the directory. A
// directory that holds an enrolment already is refused (enrol a replaced kiosk into a new one).
#pragma once

#include <QtCore/QString>
#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslKey>

#include <optional>

namespace prepay::kiosk {

struct Enrolment
{
    qint64 kioskId = 0;
    QString name;
    QString host;
    quint16 kioskPort = 0;
    quint16 staffPort = 0;
    QSslCertificate ca;
    QSslCertificate certificate;
    QSslKey key;
};

// The files of a state directory.
struct StateFiles
{
    explicit StateFiles(const QString &dir);
    QString dir, enrolment, ca, certificate, key, directory, profile, outbox;
};

// $XDG_STATE_HOME/prepay-kiosk (or ~/.local/state/prepay-kiosk): where prepay-kiosk keeps its
// state unless --state-dir says otherwise.
QString defaultStateDir();

// The enrolment of a state directory; nullopt and *error naming the file and the problem.
std::optional<Enrolment> loadEnrolment(const QString &stateDir, QString *error);

// "HOST:PORT" (IPv6 as "[::1]:7443"); false for anything else.
bool parseHostPort(const QString &text, QString *host, quint16 *port);

struct EnrolRequest
{
    QString host;
    quint16 staffPort = 0;
    QString pairingCode;
    QString caFile; // the building's CA (pki/ca.crt of prepayd's data directory)
    QString stateDir;
    QString appVersion; // optional
    int timeoutMs = 15'000;
};

struct EnrolResult
{
    bool ok = false;
    qint64 kioskId = 0;
    QString name;
    QString error; // for people: what failed
};

// Blocking (spins a local event loop): for the command line and tests, never from a running UI.
EnrolResult enrol(const EnrolRequest &request);

// `prepay-kiosk --enrol HOST:PORT --pairing-code CODE --ca FILE [--state-dir DIR]`: checks the
// arguments, enrols (blocking), prints one line — the kiosk enrolled and where its state is, or
// what failed — and returns the exit code: 0 enrolled, 64 bad command line, 1 refused or failed.
// An empty stateDir means defaultStateDir().
int enrolCommand(const QString &hostPort, const QString &pairingCode, const QString &caFile, const QString &stateDir,
    const QString &appVersion);

} // namespace prepay::kiosk
