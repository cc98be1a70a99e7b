// The one logging category of prepay_sim_server (STYLE.md habit 11): transport events of the
// simulated gateways, RTU ports and the control interface.
#pragma once

#include <QtCore/QLoggingCategory>

namespace prepay::sim {

Q_DECLARE_LOGGING_CATEGORY(lcSimServer)

} // namespace prepay::sim
