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

Field shopNo()
{
    return described(str(QStringLiteral("shop_no"), 1, 32), QStringLiteral("the tenant's shop number, e.g. 'A-1F-101'"));
}

Field idempotencyKey()
{
    return described(matching(str(QStringLiteral("idempotency_key"), 8, 64), QStringLiteral("[A-Za-z0-9._:-]+")),
        QStringLiteral("the client's key for this action: a retry with the same key and params does it once"));
}

Field fen(const QString &name, qint64 min, qint64 max, const QString &description)
{
    return described(integer(name, min, max), description);
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

    // ---- the kiosk's tenant screens (issue 8)
    t << method(QStringLiteral("kiosk.profile"),
        QStringLiteral("the calling kiosk's settings: its name, its building's name, the office phone, the QR channels "
                       "this prepayd takes, the top-up limits and whether tenants enter a PIN"),
        {}, {P::Kiosk});
    t << method(QStringLiteral("kiosk.check_pin"),
        QStringLiteral("checks a tenant's kiosk PIN; 5 wrong in a row lock it for 15 minutes (counted by prepayd)"),
        {shopNo(),
            described(matching(str(QStringLiteral("pin"), 1, 6), QStringLiteral("[0-9]+")),
                QStringLiteral("what the tenant typed (digits)"))},
        {P::Kiosk});
    t << method(QStringLiteral("kiosk.recharges"),
        QStringLiteral("a shop's last 10 credited recharges (QR and cash), newest first, for the History screen"),
        {shopNo()}, {P::Kiosk});
    t << method(QStringLiteral("kiosk.report"),
        QStringLiteral("one event of the kiosk's outbox (receipt printed or failed, printer state, heartbeat); a "
                       "repeat of an event_id is acknowledged and stored once"),
        {described(matching(str(QStringLiteral("event_id"), 36, 36),
                       QStringLiteral("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")),
             QStringLiteral("the kiosk's UUID for this event")),
            described(enumeration(QStringLiteral("kind"),
                          {QStringLiteral("receipt_printed"), QStringLiteral("receipt_failed"),
                              QStringLiteral("printer_state"), QStringLiteral("heartbeat")}),
                QStringLiteral("what happened")),
            described(integer(QStringLiteral("at_ms"), 0, Q_INT64_C(9007199254740991)),
                QStringLiteral("when, by the kiosk's clock")),
            described(object(QStringLiteral("fields"),
                          {optional(str(QStringLiteral("receipt_no"), 1, 32)),
                              optional(integer(QStringLiteral("attempt_id"), 1, Q_INT64_C(9007199254740991))),
                              optional(enumeration(QStringLiteral("printer"),
                                  {QStringLiteral("ok"), QStringLiteral("offline"), QStringLiteral("paper_out"),
                                      QStringLiteral("paper_low"), QStringLiteral("door_open"), QStringLiteral("error"),
                                      QStringLiteral("none")})),
                              optional(str(QStringLiteral("detail"), 0, 200)),
                              optional(integer(QStringLiteral("outbox_pending"), 0, 1000000)),
                              optional(integer(QStringLiteral("uptime_s"), 0, Q_INT64_C(3153600000))),
                              optional(str(QStringLiteral("app_version"), 1, 64))}),
                QStringLiteral("the event's details (each optional)"))},
        {P::Kiosk});

    // ---- accounts: reads (staff; the kiosk reads its directory through sync.*)
    t << method(QStringLiteral("account.list"),
        QStringLiteral("accounts with their status and balance, filtered and paged"),
        {optional(described(str(QStringLiteral("query"), 1, 64),
             QStringLiteral("part of a shop number or name"))),
            optional(described(enumeration(QStringLiteral("status"),
                                   {QStringLiteral("normal"), QStringLiteral("alarm1"), QStringLiteral("alarm2"),
                                       QStringLiteral("arrears"), QStringLiteral("not_opened"), QStringLiteral("offline")}),
                QStringLiteral("only accounts in this status"))),
            optional(described(str(QStringLiteral("building_code"), 1, 16), QStringLiteral("only this building"))),
            optional(described(integer(QStringLiteral("limit"), 1, 1000), QStringLiteral("rows at most (100)"))),
            optional(described(integer(QStringLiteral("offset"), 0, 1000000), QStringLiteral("rows to skip (0)")))},
        allStaff);
    t << method(QStringLiteral("account.get"),
        QStringLiteral("one account: tenant, wallet, status, metering points with their meters and relay state, "
                       "tariff, thresholds, last ledger entries"),
        {shopNo()}, allStaff);
    t << method(QStringLiteral("account.usage"),
        QStringLiteral("an account's energy and cost per local day or month (days without readings are absent)"),
        {shopNo(),
            described(enumeration(QStringLiteral("granularity"), {QStringLiteral("day"), QStringLiteral("month")}),
                QStringLiteral("day or month")),
            optional(described(integer(QStringLiteral("periods"), 1, 366),
                QStringLiteral("how many days (31) or months (12), ending today")))},
        allStaff);

    // ---- accounts and money: actions (staff)
    t << method(QStringLiteral("account.open"),
        QStringLiteral("opens a tenant account on one or more metering points, with its tariff and thresholds"),
        {shopNo(), described(str(QStringLiteral("display_name"), 1, 100), QStringLiteral("the tenant's name")),
            optional(described(str(QStringLiteral("contact_name"), 1, 100), QStringLiteral("who to call"))),
            optional(described(matching(str(QStringLiteral("contact_phone"), 5, 20), QStringLiteral("\\+?[0-9]+")),
                QStringLiteral("their phone, for SMS alarms"))),
            described(array(QStringLiteral("point_codes"), str(QString(), 1, 32), 1, 32),
                QStringLiteral("the metering points, e.g. ['A-1F-101']")),
            optional(described(str(QStringLiteral("tariff_code"), 1, 32), QStringLiteral("the tariff from today"))),
            optional(fen(QStringLiteral("alarm1_fen"), 0, 100000000, QStringLiteral("alarm 1 below this balance"))),
            optional(fen(QStringLiteral("alarm2_fen"), 0, 100000000, QStringLiteral("alarm 2 below this balance"))),
            optional(fen(QStringLiteral("overdraft_limit_fen"), 0, 100000000,
                QStringLiteral("trip at a balance of minus this")))},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("account.close"),
        QStringLiteral("closes an account: its balance refunded in cash or transferred, its supply tripped; a "
                       "refund above approval.money_threshold_fen waits for a second person"),
        {shopNo(),
            described(enumeration(QStringLiteral("settlement"),
                          {QStringLiteral("none"), QStringLiteral("refund_cash"), QStringLiteral("transfer")}),
                QStringLiteral("what happens to the balance (none only for 0.00)")),
            optional(described(str(QStringLiteral("transfer_to_shop_no"), 1, 32),
                QStringLiteral("the open account receiving the balance (transfer)"))),
            reason()},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("account.set_pin"),
        QStringLiteral("sets a tenant's 4-6 digit kiosk PIN, or removes it (null); stored only as a salted slow hash"),
        {shopNo(),
            nullable(described(matching(str(QStringLiteral("pin"), 4, 6), QStringLiteral("[0-9]+")),
                QStringLiteral("4 to 6 digits, or null to remove the PIN")))},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("account.recharge_cash"),
        QStringLiteral("a cash top-up at the counter: the wallet credited, a prepaid meter recharged, the supply "
                       "restored when the balance allows"),
        {shopNo(), fen(QStringLiteral("amount_fen"), 100, 10000000, QStringLiteral("the amount paid, in fen")),
            idempotencyKey()},
        {P::Admin, P::Cashier});
    t.last().audited = true;
    t << method(QStringLiteral("ledger.adjust"),
        QStringLiteral("a balance adjustment (plus or minus) with a reason; always waits for a second person"),
        {shopNo(),
            fen(QStringLiteral("amount_fen"), -10000000, 10000000, QStringLiteral("positive credits, negative debits")),
            reason(), idempotencyKey()},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("ledger.reverse"),
        QStringLiteral("reverses a ledger entry (冲正) by a compensating entry; always waits for a second person"),
        {id(QStringLiteral("entry_id"), QStringLiteral("the entry to undo")), reason(), idempotencyKey()},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("control.set_mode"),
        QStringLiteral("a metering point's control mode: auto (prepaid), force_off (拉闸) or force_on (保电, waits "
                       "for a second person)"),
        {described(str(QStringLiteral("point_code"), 1, 32), QStringLiteral("the metering point")),
            described(enumeration(QStringLiteral("mode"),
                          {QStringLiteral("auto"), QStringLiteral("force_on"), QStringLiteral("force_off")}),
                QStringLiteral("the mode")),
            reason(),
            optional(described(integer(QStringLiteral("until_ms"), 1, Q_INT64_C(9007199254740991)),
                QStringLiteral("force_on/force_off end and auto resumes (absent: until changed)")))},
        {P::Admin, P::Operator});
    t.last().audited = true;

    // ---- QR top-ups (the kiosk's, or a cashier's at the counter)
    t << method(QStringLiteral("topup.create"),
        QStringLiteral("starts a QR top-up: the provider's QR for the tenant to scan; the same key and params "
                       "give the same top-up and QR. Then events.topup notifications on this connection say "
                       "when it is paid (credited, the supply restored) or closed"),
        {shopNo(), fen(QStringLiteral("amount_fen"), 1, 100000000, QStringLiteral("the amount to pay, in fen (within "
                                                                                  "the building's top-up limits)")),
            described(enumeration(QStringLiteral("channel"),
                          {QStringLiteral("alipay"), QStringLiteral("wechat"), QStringLiteral("unionpay")}),
                QStringLiteral("the provider whose QR is shown")),
            idempotencyKey()},
        {P::Kiosk, P::Admin, P::Cashier});
    t << method(QStringLiteral("topup.get"),
        QStringLiteral("a top-up as it is now (state, QR while it can be paid, the balance once credited); "
                       "the connection receives its events.topup notifications from then on"),
        {id(QStringLiteral("attempt_id"), QStringLiteral("the top-up's attempt (from topup.create)"))},
        {P::Kiosk, P::Admin, P::Cashier, P::Operator, P::Auditor});
    t << method(QStringLiteral("topup.cancel"),
        QStringLiteral("the tenant gave up: the provider's order is closed now rather than at the QR deadline (a "
                       "payment that still arrives is credited, flagged late)"),
        {id(QStringLiteral("attempt_id"), QStringLiteral("the top-up's attempt"))},
        {P::Kiosk, P::Admin, P::Cashier});

    // ---- refunds to the payer (退电 through the provider)
    t << method(QStringLiteral("refund.request"),
        QStringLiteral("pays part or all of a QR top-up back to the payer through its provider: out of the wallet "
                       "at once; above the approval threshold it waits for a second person"),
        {id(QStringLiteral("attempt_id"), QStringLiteral("the paid QR top-up (topup.create's attempt_id)")),
            fen(QStringLiteral("amount_fen"), 1, 100000000, QStringLiteral("how much, in fen (at most what is left of "
                                                                          "the top-up and what the wallet holds)")),
            described(str(QStringLiteral("reason"), 2, 200), QStringLiteral("why, in words (told to the provider)")),
            idempotencyKey()},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("refund.get"), QStringLiteral("a refund to a payer as it is now"),
        {id(QStringLiteral("refund_id"), QStringLiteral("the refund (refund.request's refund_id)"))},
        {P::Admin, P::Operator, P::Auditor});

    // ---- receipts (issue 9): what a receipt says, and whether its QR is genuine
    t << method(QStringLiteral("receipt.get"),
        QStringLiteral("what a top-up's receipt or a refund's slip says (building, office, shop, meters, amount, "
                       "channel, provider transaction, balance before and after from the ledger, tariff, issuer, "
                       "late) and its QR's verification string"),
        {described(matching(str(QStringLiteral("receipt_no"), 6, 64), QStringLiteral("[A-Z0-9]+")),
            QStringLiteral("the top-up's out_trade_no (P…, CSH…) or the refund's out_refund_no (R…, CLS…)"))},
        staffAnd({P::Kiosk}));
    t << method(QStringLiteral("receipt.verify"),
        QStringLiteral("checks a receipt's QR content: genuine (with what the receipt says) or why not"),
        {described(str(QStringLiteral("verification"), 1, 256),
            QStringLiteral("what the receipt's QR holds: PREPAY-R1:<receipt_no>:<amount_fen>:<at_ms>:<mac>"))},
        allStaff);

    // ---- the daily reconciliation (对账)
    t << method(QStringLiteral("payments.findings"),
        QStringLiteral("what the daily reconciliation found between the providers' bills, the payments, the ledger "
                       "and the meter recharges, with what to do about each"),
        {optional(described(enumeration(QStringLiteral("channel"),
                                {QStringLiteral("alipay"), QStringLiteral("wechat"), QStringLiteral("unionpay")}),
             QStringLiteral("one provider only"))),
            optional(described(enumeration(QStringLiteral("kind"),
                                   {QStringLiteral("provider_paid_not_credited"), QStringLiteral("credited_not_in_bill"),
                                       QStringLiteral("amount_mismatch"), QStringLiteral("refund_mismatch"),
                                       QStringLiteral("meter_not_recharged"), QStringLiteral("double_payment"),
                                       QStringLiteral("unknown_in_bill")}),
                QStringLiteral("one kind only"))),
            optional(described(str(QStringLiteral("from"), 10, 10), QStringLiteral("bill dates from, YYYY-MM-DD"))),
            optional(described(str(QStringLiteral("to"), 10, 10), QStringLiteral("bill dates to, YYYY-MM-DD (inclusive)"))),
            optional(described(boolean(QStringLiteral("open_only")), QStringLiteral("only those not settled yet"))),
            optional(described(integer(QStringLiteral("after_id"), 0, Q_INT64_C(9007199254740991)),
                QStringLiteral("paging: findings with a larger id"))),
            optional(described(integer(QStringLiteral("limit"), 1, 1000), QStringLiteral("rows at most (200)")))},
        {P::Admin, P::Operator, P::Auditor});
    t << method(QStringLiteral("payments.settle_finding"),
        QStringLiteral("a staff member settles a reconciliation finding after acting on it; a payment it froze is "
                       "released"),
        {id(QStringLiteral("finding_id"), QStringLiteral("the finding (payments.findings)")),
            described(str(QStringLiteral("note"), 2, 500),
                QStringLiteral("what was found and done, in words (kept on the finding and in the audit log)"))},
        {P::Admin, P::Operator});
    t.last().audited = true;

    // ---- approvals (maker-checker)
    t << method(QStringLiteral("approval.list"), QStringLiteral("requests waiting for a second person's decision"), {},
        {P::Admin, P::Operator, P::Auditor});
    t << method(QStringLiteral("approval.decide"),
        QStringLiteral("approves (and thereby carries out, in the same transaction) or rejects someone else's request"),
        {id(QStringLiteral("approval_id"), QStringLiteral("the request")),
            described(enumeration(QStringLiteral("decision"), {QStringLiteral("approve"), QStringLiteral("reject")}),
                QStringLiteral("approve or reject")),
            optional(described(str(QStringLiteral("note"), 1, 500), QStringLiteral("a note for the requester")))},
        {P::Admin, P::Operator});
    t.last().audited = true;
    t << method(QStringLiteral("approval.cancel"), QStringLiteral("withdraws one's own pending request"),
        {id(QStringLiteral("approval_id"), QStringLiteral("the request"))}, {P::Admin, P::Operator});
    t.last().audited = true;

    // ---- buildings, gateways and meters: bulk import and export (admin)
    t << method(QStringLiteral("import.csv"),
        QStringLiteral("imports buildings, gateways or meters from CSV: every row checked first, nothing imported "
                       "unless all rows are valid (the error lists each bad row by line)"),
        {described(enumeration(QStringLiteral("kind"),
                       {QStringLiteral("buildings"), QStringLiteral("gateways"), QStringLiteral("meters")}),
             QStringLiteral("what the rows are (docs/import.md: the columns of each)")),
            described(multiline(str(QStringLiteral("csv"), 1, 4 * 1024 * 1024)),
                QStringLiteral("UTF-8 CSV text with a header line")),
            optional(described(boolean(QStringLiteral("dry_run")), QStringLiteral("check only, import nothing")))},
        {P::Admin});
    t.last().audited = true;
    t << method(QStringLiteral("export.csv"),
        QStringLiteral("a list as CSV: accounts, meters, or ledger entries of a period"),
        {described(enumeration(QStringLiteral("what"),
                       {QStringLiteral("accounts"), QStringLiteral("meters"), QStringLiteral("ledger")}),
             QStringLiteral("which list")),
            optional(described(integer(QStringLiteral("from_ms"), 0, Q_INT64_C(9007199254740991)),
                QStringLiteral("ledger: entries at or after"))),
            optional(described(integer(QStringLiteral("to_ms"), 0, Q_INT64_C(9007199254740991)),
                QStringLiteral("ledger: entries before")))},
        {P::Admin, P::Operator, P::Auditor});

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
