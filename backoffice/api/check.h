// Always-on checks for programmer errors (STYLE.md habit 7): a broken invariant of money or
// state stops the process, in release builds too, because a crash beats a wrong balance.
// Operating errors (bad input, timeouts, provider failures) are values, never checks.
#pragma once

namespace prepay {

[[noreturn]] void checkFailed(const char *condition, const char *file, int line);

} // namespace prepay

#define PREPAY_CHECK(condition)                                                                                        \
    do {                                                                                                               \
        if (!(condition)) [[unlikely]]                                                                                 \
            ::prepay::checkFailed(#condition, __FILE__, __LINE__);                                                     \
    } while (false)
