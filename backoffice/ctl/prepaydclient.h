// What every prepayctl command that talks to a running prepayd shares (admin …, receipt …
// --receipt, receipt verify): the connection options (--server, --ca, --login, --password-file,
// --json), the password from a file, PREPAY_PASSWORD or standard input (never an argument: it
// would show in `ps` and shell history), logging in for one run and out again, and how a call's
// refusal becomes a printed message and an exit code.
//
// The exit codes of the four classes of failure are the caller's (PrepaydExitCodes): `prepayctl
// admin` uses 2–5, while `prepayctl receipt` keeps 2, 3 and 5 for the printer and names
// prepayd's failures 6–9 (see its --help).
#pragma once

#include "ctl/command.h"

#include "api/rpcclient.h"

#include <QtCore/QJsonObject>

#include <functional>
#include <optional>

namespace prepay::ctl {

inline constexpr int kPrepaydConnectTimeoutMs = 10'000;
inline constexpr int kPrepaydCallTimeoutMs = 30'000;
inline constexpr quint16 kDefaultStaffPort = 7443;
inline constexpr int exitCannotRead = 66; // EX_NOINPUT: a file named on the command line

struct PrepaydExitCodes
{
    int refused = 2;       // prepayd said no (its message printed)
    int cannotConnect = 3; // refused, TLS, wrong CA
    int loginFailed = 4;   // wrong login or password, locked, session ended
    int noAnswer = 5;      // no answer in time, or the connection dropped after the request: outcome unknown
};

const QCommandLineOption &serverOption();       // --server HOST:PORT
const QCommandLineOption &caOption();           // --ca FILE
const QCommandLineOption &loginOption();        // --login LOGIN
const QCommandLineOption &passwordFileOption(); // --password-file FILE
const QCommandLineOption &jsonOption();         // --json
// --server, --ca, --login, --password-file.
QList<QCommandLineOption> prepaydOptions();

// JSON for people: compact on one line; indented on standard output.
QString compactJson(const QJsonValue &value);
void printJson(const Invocation &in, const QJsonObject &object);

// Where to connect (--server, default 127.0.0.1:7443) and whom to trust (--ca); 0 or an exit
// code (already printed).
int endpointFrom(const Invocation &in, rpc::Endpoint *endpoint);
// The password: --password-file, PREPAY_PASSWORD, or typed on standard input without echo
// (after `prompt`). nullopt after printing why, *exitCode set.
std::optional<QString> passwordFrom(const Invocation &in, const QString &prompt, int *exitCode);
// Opens `client` to `endpoint`; 0 or codes.cannotConnect (printed).
int connectTo(const Invocation &in, const PrepaydExitCodes &codes, rpc::RpcClient &client, const rpc::Endpoint &endpoint);

// Prints a refusal (as JSON too with --json) and returns its exit code.
int failWith(const Invocation &in, const PrepaydExitCodes &codes, const rpc::Error &error);

// Connects to --server trusting only --ca, logs in as --login, runs `body` (its return value is
// the exit code) and logs out. Usage errors, unreadable files and failed logins are printed and
// answered with their exit codes without running `body`.
int loggedIn(const Invocation &in, const PrepaydExitCodes &codes, const std::function<int(rpc::RpcClient &)> &body);

// Calls `method`; on success prints the result as JSON (--json) or hands it to `print`, and
// returns 0; on a refusal returns failWith()'s code.
int callAndPrint(const Invocation &in, const PrepaydExitCodes &codes, rpc::RpcClient &client, const QString &method,
    const QJsonObject &params, const std::function<void(const QJsonObject &)> &print,
    int timeoutMs = kPrepaydCallTimeoutMs);

} // namespace prepay::ctl
