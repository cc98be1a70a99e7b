#include "serverlog.h"

namespace prepay::sim {

Q_LOGGING_CATEGORY(lcSimServer, "prepay.sim.server")

} // namespace prepay::sim
