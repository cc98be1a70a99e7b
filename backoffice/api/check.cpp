#include "check.h"

#include <QtCore/QtGlobal>

namespace prepay {

void checkFailed(const char *condition, const char *file, int line)
{
    // qFatal writes through the message handler (so the structured log keeps the line) and
    // aborts, which leaves a core dump for the post-mortem.
    qFatal("prepay check failed: %s (%s:%d)", condition, file, line);
}

} // namespace prepay
