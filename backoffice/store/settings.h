// Reading the site-wide settings table (sql/0001_initial.sql `settings`): values are text; the
// libraries that own a setting read it through these, so every one is checked the same way.
#pragma once

#include <QtCore/QString>

namespace prepay::store {

class Connection;

// A setting that must be a whole number in [min, max]. A missing row keeps *value (the
// default: the migration inserts every row, so it only goes missing by hand); anything else —
// not a number, out of range, unreadable — is false with *error naming the key and the value.
bool readIntSetting(Connection &db, const QString &key, qint64 min, qint64 max, qint64 *value, QString *error);

} // namespace prepay::store
