#include "prepaydclient.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QRegularExpression>
#include <QtNetwork/QSslCertificate>

#include <termios.h>
#include <unistd.h>

namespace prepay::ctl {

namespace {

// --json was given (asked of the parser's findings: not every command defines it, and isSet()
// of an option a parser does not know warns).
bool jsonWanted(const Invocation &in)
{
    return in.parser.optionNames().contains(QStringLiteral("json"));
}

// HOST:PORT, [IPv6]:PORT or HOST (the default port).
bool parseServer(const QString &text, QString *host, quint16 *port)
{
    static const QRegularExpression form(
        QStringLiteral("^(?:\\[([0-9A-Fa-f:.]+)\\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?$"));
    const QRegularExpressionMatch m = form.match(text);
    if (!m.hasMatch())
        return false;
    *host = m.captured(1).isEmpty() ? m.captured(2) : m.captured(1);
    if (m.captured(3).isEmpty()) {
        *port = kDefaultStaffPort;
        return true;
    }
    const int p = m.captured(3).toInt();
    if (p < 1 || p > 65535)
        return false;
    *port = quint16(p);
    return true;
}


// One line from the terminal without echoing it (or from a pipe as it comes).
QString readSecretLine(const Invocation &in, const QString &prompt)
{
    const bool terminal = isatty(STDIN_FILENO) != 0;
    termios saved{};
    if (terminal) {
        in.err << prompt;
        in.err.flush();
        if (tcgetattr(STDIN_FILENO, &saved) == 0) {
            termios quiet = saved;
            quiet.c_lflag &= ~tcflag_t(ECHO);
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
    }
    QTextStream input(stdin);
    const QString line = input.readLine();
    if (terminal) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        in.err << '\n';
        in.err.flush();
    }
    return line;
}

} // namespace

QString compactJson(const QJsonValue &value)
{
    if (value.isObject())
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
    if (value.isArray())
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
    return value.toVariant().toString();
}

void printJson(const Invocation &in, const QJsonObject &object)
{
    in.out << QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Indented));
    in.out.flush();
}

// Where to connect and whom to trust; 0 or an exit code (already printed).
int endpointFrom(const Invocation &in, rpc::Endpoint *endpoint)
{
    const QString server
        = in.parser.isSet(serverOption()) ? in.parser.value(serverOption()) : QStringLiteral("127.0.0.1");
    if (!parseServer(server, &endpoint->host, &endpoint->port))
        return in.fail(exitUsage, QStringLiteral("--server '%1': HOST:PORT expected").arg(server));
    const QString caPath = in.parser.value(caOption());
    if (caPath.isEmpty())
        return in.fail(
            exitUsage, QStringLiteral("--ca FILE is required: the building's CA certificate (DATA/pki/ca.crt)"));
    QFile file(caPath);
    if (!file.open(QIODevice::ReadOnly))
        return in.fail(exitCannotRead, QStringLiteral("--ca %1: %2").arg(caPath, file.errorString()));
    const QList<QSslCertificate> certificates = QSslCertificate::fromData(file.readAll(), QSsl::Pem);
    if (certificates.isEmpty() || certificates.first().isNull())
        return in.fail(exitCannotRead, QStringLiteral("--ca %1: no PEM certificate in it").arg(caPath));
    endpoint->ca = certificates.first();
    return 0;
}

// The password: --password-file, PREPAY_PASSWORD, or standard input. nullopt after printing why.
std::optional<QString> passwordFrom(const Invocation &in, const QString &prompt, int *exitCode)
{
    if (in.parser.isSet(passwordFileOption())) {
        const QString path = in.parser.value(passwordFileOption());
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            *exitCode = in.fail(exitCannotRead, QStringLiteral("--password-file %1: %2").arg(path, file.errorString()));
            return std::nullopt;
        }
        QString line = QString::fromUtf8(file.readLine());
        while (line.endsWith(QLatin1Char('\n')) || line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        if (line.isEmpty()) {
            *exitCode = in.fail(exitUsage, QStringLiteral("--password-file %1: the first line is empty").arg(path));
            return std::nullopt;
        }
        return line;
    }
    const QString fromEnvironment = qEnvironmentVariable("PREPAY_PASSWORD");
    if (!fromEnvironment.isEmpty())
        return fromEnvironment;
    const QString typed = readSecretLine(in, prompt);
    if (typed.isEmpty()) {
        *exitCode = in.fail(exitUsage,
            QStringLiteral("no password: give --password-file FILE, set PREPAY_PASSWORD or type it on standard input"));
        return std::nullopt;
    }
    return typed;
}

const QCommandLineOption &serverOption()
{
    static const QCommandLineOption option(QStringLiteral("server"),
        QStringLiteral("prepayd's staff port (default 127.0.0.1:7443; IPv6 as [::1]:7443)."),
        QStringLiteral("HOST:PORT"));
    return option;
}

const QCommandLineOption &caOption()
{
    static const QCommandLineOption option(QStringLiteral("ca"),
        QStringLiteral("The building's CA certificate, the only one trusted (DATA/pki/ca.crt)."),
        QStringLiteral("FILE"));
    return option;
}

const QCommandLineOption &loginOption()
{
    static const QCommandLineOption option(
        QStringLiteral("login"), QStringLiteral("Your staff login."), QStringLiteral("LOGIN"));
    return option;
}

const QCommandLineOption &passwordFileOption()
{
    static const QCommandLineOption option(QStringLiteral("password-file"),
        QStringLiteral(
            "Read the password from the first line of this file (else PREPAY_PASSWORD, else standard input)."),
        QStringLiteral("FILE"));
    return option;
}

const QCommandLineOption &jsonOption()
{
    static const QCommandLineOption option(QStringLiteral("json"), QStringLiteral("Print prepayd's reply as JSON."));
    return option;
}

QList<QCommandLineOption> prepaydOptions()
{
    return {serverOption(), caOption(), loginOption(), passwordFileOption()};
}

int failWith(const Invocation &in, const PrepaydExitCodes &codes, const rpc::Error &error)
{
    if (jsonWanted(in)) {
        QJsonObject e{{QStringLiteral("code"), int(error.code)},
            {QStringLiteral("name"), rpc::errorCodeName(error.code)}, {QStringLiteral("message"), error.message}};
        if (!error.data.isEmpty())
            e.insert(QStringLiteral("data"), error.data);
        printJson(in, QJsonObject{{QStringLiteral("error"), e}});
    }
    switch (error.code) {
    case rpc::ErrorCode::Unavailable:
        return in.fail(codes.noAnswer, error.message + QStringLiteral(" — the outcome is unknown"));
    case rpc::ErrorCode::Unauthenticated:
    case rpc::ErrorCode::Locked: return in.fail(codes.loginFailed, error.message);
    case rpc::ErrorCode::InvalidRequest:
        return in.fail(codes.refused,
            error.message
                + QStringLiteral(" (a request larger than prepayd's api.frame_max_bytes, 256 KiB by default, is "
                                 "refused: split the file or raise the limit)"));
    default: break;
    }
    QString message = QStringLiteral("%1 (%2)").arg(error.message, rpc::errorCodeName(error.code));
    if (!error.data.isEmpty() && !error.data.contains(QLatin1String("rows")))
        message += QStringLiteral(" ") + compactJson(error.data);
    return in.fail(codes.refused, message);
}

int connectTo(const Invocation &in, const PrepaydExitCodes &codes, rpc::RpcClient &client, const rpc::Endpoint &endpoint)
{
    QString error;
    if (!client.openBlocking(endpoint, kPrepaydConnectTimeoutMs, &error))
        return in.fail(codes.cannotConnect,
            QStringLiteral("cannot connect to prepayd at %1:%2: %3").arg(endpoint.host).arg(endpoint.port).arg(error));
    return 0;
}

int loggedIn(const Invocation &in, const PrepaydExitCodes &codes, const std::function<int(rpc::RpcClient &)> &body)
{
    rpc::Endpoint endpoint;
    if (const int rc = endpointFrom(in, &endpoint))
        return rc;
    const QString login = in.parser.value(loginOption());
    if (login.isEmpty())
        return in.fail(exitUsage, QStringLiteral("--login LOGIN is required"));
    int rc = 0;
    const std::optional<QString> password = passwordFrom(in, QStringLiteral("Password for %1: ").arg(login), &rc);
    if (!password)
        return rc;
    rpc::RpcClient client;
    if ((rc = connectTo(in, codes, client, endpoint)))
        return rc;
    const rpc::Outcome session = client.callBlocking(QStringLiteral("session.login"),
        QJsonObject{{QStringLiteral("login"), login}, {QStringLiteral("password"), *password}}, kPrepaydCallTimeoutMs);
    if (!rpc::succeeded(session)) {
        const rpc::Error &refusal = std::get<rpc::Error>(session);
        if (refusal.code == rpc::ErrorCode::Unauthenticated || refusal.code == rpc::ErrorCode::Locked)
            return in.fail(codes.loginFailed, QStringLiteral("login as %1: %2").arg(login, refusal.message));
        return failWith(in, codes, refusal);
    }
    if (std::get<QJsonValue>(session).toObject().value(QLatin1String("must_change_password")).toBool())
        in.err << "prepayctl: " << login
               << " still has a first password: prepayd allows only whoami until it is changed\n";
    rc = body(client);
    client.callBlocking(QStringLiteral("session.logout"), {}, kPrepaydCallTimeoutMs); // ends the session now
    client.close();
    return rc;
}

int callAndPrint(const Invocation &in, const PrepaydExitCodes &codes, rpc::RpcClient &client, const QString &method,
    const QJsonObject &params, const std::function<void(const QJsonObject &)> &print, int timeoutMs)
{
    const rpc::Outcome outcome = client.callBlocking(method, params, timeoutMs);
    if (!rpc::succeeded(outcome))
        return failWith(in, codes, std::get<rpc::Error>(outcome));
    const QJsonObject result = std::get<QJsonValue>(outcome).toObject();
    if (jsonWanted(in))
        printJson(in, result);
    else
        print(result);
    in.out.flush();
    return 0;
}

} // namespace prepay::ctl
