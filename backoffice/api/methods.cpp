#include "methods.h"

namespace prepay::rpc {

namespace {

using P = Principal;

const QList<Principal> allStaff{P::Admin, P::Operator, P::Cashier, P::Technician, P::Auditor};

QList<Principal> staffAnd(QList<Principal> more)
{
    return allStaff + more;
}

MethodSpec method(const QString &name, const QString &summary, const Schema &params, const QList<Principal> &allowed)
{
    MethodSpec spec;
    spec.name = name;
    spec.summary = summary;
    spec.params = params;
    spec.allowed = allowed;
    return spec;
}

// Logins and setup codes: what people type, so generous but bounded.
Field login()
{
    return described(matching(str(QStringLiteral("login"), 2, 64), QStringLiteral("[A-Za-z0-9._-]+")),
        QStringLiteral("staff login: letters, digits, '.', '-', '_'"));
}

Field password(const QString &name)
{
    return described(str(name, 1, 256), QStringLiteral("password (10 to 256 characters when set)"));
}

Field reason()
{
    return described(str(QStringLiteral("reason"), 2, 500), QStringLiteral("why, in words (kept in the audit log)"));
}

Field id(const QString &name, const QString &description)
{
    return described(integer(name, 1, Q_INT64_C(9007199254740991)), description);
}

} // namespace

QList<MethodSpec> methodTable()
{
    QList<MethodSpec> t;

    // ---- system
    t << method(QStringLiteral("system.version"), QStringLiteral("prepayd's version, API version and schema version"),
        {}, staffAnd({P::Anonymous, P::Kiosk}));
    t.last().allowedBeforePasswordChange = true;
    t << method(QStringLiteral("system.health"),
        QStringLiteral("the service's health: poller, store, connections (what GET /health shows)"), {},
        staffAnd({P::Kiosk}));

    // ---- setup and sessions
    t << method(QStringLiteral("setup.create_admin"),
        QStringLiteral("creates the first administrator with the one-time setup code prepayd printed at its first "
                       "start (only while no administrator exists)"),
        {described(str(QStringLiteral("setup_code"), 12, 20), QStringLiteral("the code, dashes optional")), login(),
            described(str(QStringLiteral("display_name"), 1, 100), QStringLiteral("the administrator's name")),
            password(QStringLiteral("password"))},
        {P::Anonymous});
    t.last().audited = true;
    t << method(QStringLiteral("session.login"),
        QStringLiteral("staff login with name and password; the connection acts as that person from then on and "
                       "the reply carries a token for session.resume"),
        {login(), password(QStringLiteral("password"))}, {P::Anonymous, P::Kiosk});
    t.last().audited = true;
    t << method(QStringLiteral("session.resume"),
        QStringLiteral("attaches an existing session (its token) to this connection, after a reconnect"),
        {described(str(QStringLiteral("token"), 43, 43), QStringLiteral("the token session.login returned"))},
        {P::Anonymous, P::Kiosk});
    t << method(QStringLiteral("session.whoami"), QStringLiteral("who this connection acts as"), {},
        staffAnd({P::Kiosk}));
    t.last().allowedBeforePasswordChange = true;
    t << method(QStringLiteral("session.logout"), QStringLiteral("ends this connection's staff session"), {}, allStaff);
    t.last().allowedBeforePasswordChange = true;
    t.last().audited = true;
    t << method(QStringLiteral("session.change_password"),
        QStringLiteral("changes the logged-in person's password (required after an account is created or reset)"),
        {password(QStringLiteral("old_password")), password(QStringLiteral("new_password"))}, allStaff);
    t.last().allowedBeforePasswordChange = true;
    t.last().audited = true;

    // ---- operators (staff accounts)
    t << method(QStringLiteral("operator.list"), QStringLiteral("every staff account, with its role and lock state"),
        {}, {P::Admin, P::Auditor});
    t << method(QStringLiteral("operator.create"),
        QStringLiteral("creates a staff account with a first password that must be changed at first login"),
        {login(), described(str(QStringLiteral("display_name"), 1, 100), QStringLiteral("the person's name")),
            described(enumeration(QStringLiteral("role"),
                          {QStringLiteral("admin"), QStringLiteral("operator"), QStringLiteral("cashier"),
                              QStringLiteral("technician"), QStringLiteral("auditor")}),
                QStringLiteral("what they may do (the matrix below)")),
            password(QStringLiteral("password"))},
        {P::Admin});
    t.last().audited = true;
    t << method(QStringLiteral("operator.reset_password"),
        QStringLiteral("sets a new first password, unlocks the account and ends its sessions"),
        {id(QStringLiteral("operator_id"), QStringLiteral("the staff account")), password(QStringLiteral("password")),
            reason()},
        {P::Admin});
    t.last().audited = true;
    t << method(QStringLiteral("operator.set_disabled"),
        QStringLiteral("disables (ends every session) or re-enables a staff account"),
        {id(QStringLiteral("operator_id"), QStringLiteral("the staff account")),
            described(boolean(QStringLiteral("disabled")), QStringLiteral("true: disable; false: enable")), reason()},
        {P::Admin});
    t.last().audited = true;

    // ---- kiosks
    t << method(QStringLiteral("kiosk.pairing.create"),
        QStringLiteral("registers a kiosk by name and returns its one-time pairing code (valid 30 minutes)"),
        {described(str(QStringLiteral("name"), 1, 64), QStringLiteral("where it stands, e.g. 'A座大堂'")),
            optional(described(str(QStringLiteral("building_code"), 1, 16),
                QStringLiteral("limits the kiosk to one building's tenants")))},
        {P::Admin, P::Technician});
    t.last().audited = true;
    t << method(QStringLiteral("kiosk.enrol"),
        QStringLiteral("a kiosk presents its pairing code and a certificate request once and receives its client "
                       "certificate for the kiosk port (staff port, no login)"),
        {described(matching(str(QStringLiteral("pairing_code"), 8, 12), QStringLiteral("[0-9A-Za-z-]+")),
             QStringLiteral("the code kiosk.pairing.create returned")),
            described(multiline(str(QStringLiteral("csr_pem"), 100, 16384)),
                QStringLiteral("PEM certificate request (EC P-256 or RSA ≥ 2048) made on the kiosk")),
            optional(described(str(QStringLiteral("app_version"), 1, 64), QStringLiteral("the kiosk's version")))},
        {P::Anonymous});
    t.last().audited = true;
    t << method(QStringLiteral("kiosk.list"), QStringLiteral("every kiosk: state, last seen, last health report"), {},
        {P::Admin, P::Technician, P::Auditor});
    t << method(QStringLiteral("kiosk.revoke"),
        QStringLiteral("revokes a kiosk: its certificate is refused from now on and its connections close"),
        {id(QStringLiteral("kiosk_id"), QStringLiteral("the kiosk")), reason()}, {P::Admin});
    t.last().audited = true;
    t << method(QStringLiteral("kiosk.report_health"),
        QStringLiteral("the calling kiosk reports its own state (printer, paper, network, app version)"),
        {described(object(QStringLiteral("health"),
                       {optional(enumeration(QStringLiteral("printer"),
                            {QStringLiteral("ok"), QStringLiteral("offline"), QStringLiteral("paper_out"),
                                QStringLiteral("paper_low"), QStringLiteral("door_open"), QStringLiteral("error"),
                                QStringLiteral("none")})),
                           optional(str(QStringLiteral("printer_detail"), 0, 200)),
                           optional(integer(QStringLiteral("outbox_pending"), 0, 1000000)),
                           optional(integer(QStringLiteral("uptime_s"), 0, Q_INT64_C(3153600000)))}),
             QStringLiteral("what the kiosk knows about itself")),
            optional(described(str(QStringLiteral("app_version"), 1, 64), QStringLiteral("the kiosk's version")))},
        {P::Kiosk});

    // ---- the kiosk directory feed (sync)
    t << method(QStringLiteral("sync.snapshot"),
        QStringLiteral("the whole tenant directory kiosks show (shop, name, status, balance, last reading, daily "
                       "usage of 31 days and monthly of 12) and the seq it is consistent with"),
        {}, staffAnd({P::Kiosk}));
    t << method(QStringLiteral("events.subscribe"),
        QStringLiteral("the directory changes after since_seq, then every later change pushed as "
                       "events.directory notifications on this connection"),
        {described(integer(QStringLiteral("since_seq"), 0, Q_INT64_C(9007199254740991)),
            QStringLiteral("the seq of the snapshot or of the last batch applied"))},
        staffAnd({P::Kiosk}));

    // ---- audit
    t << method(QStringLiteral("audit.list"), QStringLiteral("audit rows after a seq, oldest first (pages of ≤ 500)"),
        {optional(described(integer(QStringLiteral("after_seq"), 0, Q_INT64_C(9007199254740991)),
             QStringLiteral("rows with a larger seq; 0 or absent: from the start"))),
            optional(described(integer(QStringLiteral("limit"), 1, 500), QStringLiteral("rows at most (100)")))},
        {P::Admin, P::Auditor});
    t << method(QStringLiteral("audit.verify"),
        QStringLiteral("recomputes the audit hash chain and names the first broken row"), {}, {P::Admin, P::Auditor});

    return t;
}

} // namespace prepay::rpc
