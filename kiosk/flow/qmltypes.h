// QML registrations of types this module does not own (STYLE.md habit 15): the Backend
// interface (kiosk/flow/backend.h, shared with kiosk/link) and the idle supervisor (kiosk/idle,
// Qt Core only), so screens can name them in typed properties. Neither is creatable in QML.
#pragma once

#include "backend.h"
#include "idle/idlesupervisor.h"

#include <QtQml/qqml.h>

namespace prepay::kiosk {

struct BackendForeign
{
    Q_GADGET
    QML_FOREIGN(prepay::kiosk::Backend)
    QML_NAMED_ELEMENT(Backend)
    QML_UNCREATABLE("a C++ interface: kiosk/link or kiosk/fixture")
};

struct IdleSupervisorForeign
{
    Q_GADGET
    QML_FOREIGN(prepay::kiosk::IdleSupervisor)
    QML_NAMED_ELEMENT(IdleSupervisor)
    QML_UNCREATABLE("owned by TenantFlow")
};

} // namespace prepay::kiosk
