// Request schemas: every method's params are checked against a declared list of fields before
// any handler runs, so a handler only ever sees the members it declared, with the types and
// ranges it declared. The checker is strict on purpose (a refused request is cheap, a
// misunderstood one is not):
//  - a member the schema does not name is refused ("unknown field 'params.x'"), at every level;
//  - null is not "absent": {"note": null} is refused for a string field, optional or not;
//  - integers are whole numbers with |x| ≤ 2^53-1 (what a JavaScript client holds exactly),
//    then the field's [min, max]; Qt's parser reads 100.0 as 100, so that is accepted, 100.5 not;
//  - strings are counted in Unicode code points (an emoji is one), and may not contain control
//    characters (U+0000..U+001F, U+007F, U+0080..U+009F: no tabs or newlines either), lone
//    surrogates or U+FFFD (what invalid UTF-8 decodes to);
//  - a pattern is a QRegularExpression matched against the whole string.
// A refusal is one InvalidParams error naming the first offending member by its path
// ("params.items[2].amount_fen") in the message and in data.field. Paths quote member names
// the client chose, so they are shortened and stripped of control characters first.
//
// The schema also documents the API: docs/api.md is generated from the field descriptions.
#pragma once

#include "api/jsonrpc.h"

#include <QtCore/QJsonObject>
#include <QtCore/QJsonValue>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QStringView>

#include <climits>
#include <memory>
#include <optional>

namespace prepay::rpc {

enum class FieldType {
    String,
    Integer,
    Boolean,
    Object,
    Array,
    Enum,
};

// The name used in messages and docs: "string", "integer", "boolean", "object", "array", "enum".
QString fieldTypeName(FieldType type);

struct Field
{
    QString name;
    FieldType type = FieldType::String;
    bool required = true;
    bool nullable = false;        // JSON null is accepted as well (it means "none": e.g. remove a PIN)
    qint64 min = LLONG_MIN;       // Integer: the value's range. String: code points. Array: items.
    qint64 max = LLONG_MAX;       //   (for String and Array a negative min counts as 0)
    QStringList enumValues;       // Enum: the accepted strings
    QString pattern;              // String (optional): a QRegularExpression, anchored at both ends
    bool multiline = false;       // String: line breaks (\n, \r) allowed, no other control character
    QList<Field> fields;          // Object: its members, checked with the same strictness
    std::shared_ptr<Field> items; // Array: every element (its name is not used)
    QString description;          // one line, for docs/api.md
};

using Schema = QList<Field>;

// nullopt when `params` satisfies `schema`; otherwise an InvalidParams error with data
// {"field": path}. A schema that is itself wrong (an Array without items, an invalid pattern,
// an empty Enum) is a programmer error and stops the process.
std::optional<Error> check(const Schema &schema, const QJsonObject &params);

// Terse builders for method tables:
//   Schema{integer("amount_fen", 100, 500000), optional(str("note", 0, 200)),
//          array("items", object("", {str("meter_id", 1, 32)}), 1, 50)}
Field str(const QString &name, qint64 minChars, qint64 maxChars);
Field integer(const QString &name, qint64 min, qint64 max);
Field boolean(const QString &name);
Field enumeration(const QString &name, const QStringList &values);
Field object(const QString &name, const QList<Field> &fields);
Field array(const QString &name, const Field &item, qint64 minItems, qint64 maxItems);
Field optional(Field field);
Field nullable(Field field); // the field may be null as well
Field multiline(Field field); // a String that may hold line breaks (a PEM block)
Field matching(Field field, const QString &pattern); // a String with a pattern
Field described(Field field, const QString &description);

// Text rules shared with the decoder (ids) and available to handlers.
// True when `text` holds a character the checker refuses in strings: C0 controls, U+007F, C1
// controls, a lone surrogate or U+FFFD.
bool hasForbiddenCharacters(QStringView text);
// A JSON number Qt holds as a whole number with |x| ≤ 2^53-1 (kSafeIntegerMax).
bool isSafeInteger(const QJsonValue &value);
// Unicode code points, a surrogate pair counting once (a lone surrogate counts once too).
qsizetype codePointCount(QStringView text);
// `text` made safe to quote in a message or log: forbidden characters become '?', and it is
// cut to `maxChars` code units with "…" appended when longer.
QString printable(QStringView text, qsizetype maxChars = 64);

} // namespace prepay::rpc
