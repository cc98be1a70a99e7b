// The types of prepayd's method table: who may call a method and what its params look like.
// The table itself (the list of MethodSpec values) belongs to the service; keeping the types
// here lets the docs generator, the dispatcher and the tests share one definition without
// linking the server.
#pragma once

#include "api/schema.h"

#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QtGlobal>

#include <optional>

namespace prepay::rpc {

// Who is on the other end of a connection. Anonymous: TLS up, nobody logged in (only login and
// version methods). Kiosk: a building kiosk authenticated by its client certificate. The staff
// principals are the schema's operator roles (staff::isRole).
enum class Principal : quint8 {
    Anonymous,
    Kiosk,
    Admin,
    Operator,
    Cashier,
    Technician,
    Auditor,
};

// "anonymous", "kiosk", "admin", "operator", "cashier", "technician", "auditor" (the staff ones
// are the role names stored in operators.role).
QString principalName(Principal p);
// The principal for a name above, or nullopt.
std::optional<Principal> principalFromName(const QString &name);

struct MethodSpec
{
    QString name;             // "account.recharge": matches the decoder's [a-z0-9_.]{1,64}
    QString summary;          // one line, for docs/api.md
    Schema params;            // checked by check() before the handler runs
    QList<Principal> allowed; // anyone else gets Forbidden (or Unauthenticated when Anonymous)
    bool audited = false;     // a staff action: its handler writes an audit row in the action's transaction
    bool allowedBeforePasswordChange = false; // callable by a session that must change its password first
};

} // namespace prepay::rpc
