// Runs an SQL script as one write job of the store, for test fixtures (rows a test needs
// that no library call makes). True when committed; the error is printed otherwise.
#pragma once

#include "store/store.h"

namespace prepay::test {

inline bool runScript(store::Store &store, const QString &script)
{
    const auto written = store
                             .write([script](store::Transaction &tx) {
                                 if (const store::SqlError e = tx.db().exec(script); !e.ok())
                                     tx.fail(e);
                             })
                             .get();
    if (!written.committed())
        qWarning("%s", qPrintable(written.error.toString()));
    return written.committed();
}

} // namespace prepay::test
