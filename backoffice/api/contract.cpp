#include "contract.h"

namespace prepay::rpc {

QString principalName(Principal p)
{
    switch (p) {
    case Principal::Anonymous: return QStringLiteral("anonymous");
    case Principal::Kiosk: return QStringLiteral("kiosk");
    case Principal::Admin: return QStringLiteral("admin");
    case Principal::Operator: return QStringLiteral("operator");
    case Principal::Cashier: return QStringLiteral("cashier");
    case Principal::Technician: return QStringLiteral("technician");
    case Principal::Auditor: return QStringLiteral("auditor");
    }
    Q_UNREACHABLE();
}

std::optional<Principal> principalFromName(const QString &name)
{
    for (Principal p : {Principal::Anonymous, Principal::Kiosk, Principal::Admin, Principal::Operator,
             Principal::Cashier, Principal::Technician, Principal::Auditor}) {
        if (principalName(p) == name)
            return p;
    }
    return std::nullopt;
}

} // namespace prepay::rpc
