#include "settings.h"

#include "sqlite.h"

namespace prepay::store {

bool readIntSetting(Connection &db, const QString &key, qint64 min, qint64 max, qint64 *value, QString *error)
{
    Statement s = db.prepare(QStringLiteral("SELECT value FROM settings WHERE key = ?1"));
    s.bind(1, key);
    switch (s.step()) {
    case Statement::Step::Done: return true;
    case Statement::Step::Error:
        *error = QStringLiteral("cannot read setting %1: %2").arg(key, s.error().toString());
        return false;
    case Statement::Step::Row: break;
    }
    const QString text = s.text(0);
    bool ok = false;
    const qint64 parsed = text.toLongLong(&ok);
    if (!ok || parsed < min || parsed > max) {
        *error = QStringLiteral("setting %1 is '%2', expected a whole number from %3 to %4")
                     .arg(key, text)
                     .arg(min)
                     .arg(max);
        return false;
    }
    *value = parsed;
    return true;
}


} // namespace prepay::store
