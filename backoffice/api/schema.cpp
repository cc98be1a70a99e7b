#include "schema.h"

#include "check.h"

#include <QtCore/QHash>
#include <QtCore/QJsonArray>
#include <QtCore/QMetaType>
#include <QtCore/QRegularExpression>
#include <QtCore/QVariant>

#include <algorithm>

namespace prepay::rpc {

namespace {

const QString kField = QStringLiteral("field");

Error invalid(const QString &path, const QString &message)
{
    Error e;
    e.code = ErrorCode::InvalidParams;
    e.message = message;
    e.data.insert(kField, path);
    return e;
}

QString memberPath(const QString &parent, const QString &name)
{
    return parent + u'.' + printable(name);
}

// Patterns are compiled once per thread: schemas are fixed tables, so the cache holds as many
// entries as there are distinct patterns in the code.
const QRegularExpression &compiled(const QString &pattern)
{
    thread_local QHash<QString, QRegularExpression> cache;
    auto it = cache.find(pattern);
    if (it == cache.end()) {
        QRegularExpression re(
            QRegularExpression::anchoredPattern(pattern), QRegularExpression::UseUnicodePropertiesOption);
        PREPAY_CHECK(re.isValid()); // a schema with a broken pattern is a programmer error
        it = cache.insert(pattern, re);
    }
    return *it;
}

QString integerRule(const Field &field)
{
    const qint64 lo = std::max(field.min, -kSafeIntegerMax);
    const qint64 hi = std::min(field.max, kSafeIntegerMax);
    return QStringLiteral("an integer between %1 and %2").arg(lo).arg(hi);
}

QString lengthRule(const Field &field, const QString &what, const QString &unit)
{
    const qint64 lo = std::max<qint64>(field.min, 0);
    if (field.max == LLONG_MAX)
        return QStringLiteral("%1 of at least %2 %3").arg(what).arg(lo).arg(unit);
    return QStringLiteral("%1 of %2 to %3 %4").arg(what).arg(lo).arg(field.max).arg(unit);
}

std::optional<Error> checkObject(const QList<Field> &fields, const QJsonObject &object, const QString &path);

std::optional<Error> checkValue(const Field &field, const QJsonValue &value, const QString &path)
{
    if (field.nullable && value.isNull())
        return std::nullopt;
    switch (field.type) {
    case FieldType::Integer: {
        PREPAY_CHECK(field.min <= field.max);
        if (!isSafeInteger(value) || value.toInteger() < field.min || value.toInteger() > field.max)
            return invalid(path, path + QStringLiteral(" must be ") + integerRule(field));
        return std::nullopt;
    }
    case FieldType::String: {
        PREPAY_CHECK(field.min <= field.max && field.max >= 0);
        const QString rule = lengthRule(field, QStringLiteral("a string"), QStringLiteral("characters"));
        if (!value.isString())
            return invalid(path, path + QStringLiteral(" must be ") + rule);
        const QString text = value.toString();
        const qsizetype length = codePointCount(text);
        if (length < field.min || length > field.max)
            return invalid(path, path + QStringLiteral(" must be ") + rule);
        if (field.multiline) {
            // Line breaks are the only control characters a multi-line field (a PEM block) takes.
            QString withoutBreaks = text;
            withoutBreaks.remove(QLatin1Char('\n'));
            withoutBreaks.remove(QLatin1Char('\r'));
            if (hasForbiddenCharacters(withoutBreaks))
                return invalid(path,
                    path + QStringLiteral(" must not contain control characters other than line breaks, or invalid Unicode"));
        } else if (hasForbiddenCharacters(text)) {
            return invalid(path, path + QStringLiteral(" must not contain control characters or invalid Unicode"));
        }
        if (!field.pattern.isEmpty() && !compiled(field.pattern).match(text).hasMatch())
            return invalid(path, path + QStringLiteral(" does not have the expected format (%1)").arg(field.pattern));
        return std::nullopt;
    }
    case FieldType::Boolean:
        if (!value.isBool())
            return invalid(path, path + QStringLiteral(" must be true or false"));
        return std::nullopt;
    case FieldType::Enum: {
        PREPAY_CHECK(!field.enumValues.isEmpty());
        if (!value.isString() || !field.enumValues.contains(value.toString()))
            return invalid(
                path, path + QStringLiteral(" must be one of: ") + field.enumValues.join(QStringLiteral(", ")));
        return std::nullopt;
    }
    case FieldType::Object:
        if (!value.isObject())
            return invalid(path, path + QStringLiteral(" must be an object"));
        return checkObject(field.fields, value.toObject(), path);
    case FieldType::Array: {
        PREPAY_CHECK(field.items != nullptr && field.min <= field.max && field.max >= 0);
        const QString rule = lengthRule(field, QStringLiteral("an array"), QStringLiteral("items"));
        if (!value.isArray())
            return invalid(path, path + QStringLiteral(" must be ") + rule);
        const QJsonArray items = value.toArray();
        if (items.size() < field.min || items.size() > field.max)
            return invalid(path, path + QStringLiteral(" must be ") + rule);
        for (qsizetype i = 0; i < items.size(); ++i) {
            if (auto error = checkValue(*field.items, items.at(i), path + u'[' + QString::number(i) + u']'))
                return error;
        }
        return std::nullopt;
    }
    }
    Q_UNREACHABLE();
}

std::optional<Error> checkObject(const QList<Field> &fields, const QJsonObject &object, const QString &path)
{
    // Unknown members first: a misspelt optional member would otherwise pass unnoticed, and a
    // misspelt required one is better reported as the misspelling than as "missing".
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        const bool known
            = std::any_of(fields.cbegin(), fields.cend(), [&](const Field &f) { return f.name == it.key(); });
        if (!known) {
            const QString memberName = memberPath(path, it.key());
            return invalid(memberName, QStringLiteral("unknown field '%1'").arg(memberName));
        }
    }
    for (const Field &field : fields) {
        const QString fieldPath = memberPath(path, field.name);
        const auto it = object.constFind(field.name);
        if (it == object.constEnd()) {
            if (field.required)
                return invalid(fieldPath, fieldPath + QStringLiteral(" is required"));
            continue;
        }
        if (auto error = checkValue(field, *it, fieldPath))
            return error;
    }
    return std::nullopt;
}

bool isHighSurrogate(char16_t u)
{
    return u >= 0xD800 && u <= 0xDBFF;
}

bool isLowSurrogate(char16_t u)
{
    return u >= 0xDC00 && u <= 0xDFFF;
}

bool isForbiddenUnit(char16_t u)
{
    return u < 0x20 || (u >= 0x7F && u <= 0x9F) || u == 0xFFFD;
}

} // namespace

QString fieldTypeName(FieldType type)
{
    switch (type) {
    case FieldType::String: return QStringLiteral("string");
    case FieldType::Integer: return QStringLiteral("integer");
    case FieldType::Boolean: return QStringLiteral("boolean");
    case FieldType::Object: return QStringLiteral("object");
    case FieldType::Array: return QStringLiteral("array");
    case FieldType::Enum: return QStringLiteral("enum");
    }
    Q_UNREACHABLE();
}

std::optional<Error> check(const Schema &schema, const QJsonObject &params)
{
    return checkObject(schema, params, QStringLiteral("params"));
}

Field str(const QString &name, qint64 minChars, qint64 maxChars)
{
    Field f;
    f.name = name;
    f.type = FieldType::String;
    f.min = minChars;
    f.max = maxChars;
    return f;
}

Field multiline(Field field)
{
    PREPAY_CHECK(field.type == FieldType::String);
    field.multiline = true;
    return field;
}

Field integer(const QString &name, qint64 min, qint64 max)
{
    Field f;
    f.name = name;
    f.type = FieldType::Integer;
    f.min = min;
    f.max = max;
    return f;
}

Field boolean(const QString &name)
{
    Field f;
    f.name = name;
    f.type = FieldType::Boolean;
    return f;
}

Field enumeration(const QString &name, const QStringList &values)
{
    Field f;
    f.name = name;
    f.type = FieldType::Enum;
    f.enumValues = values;
    return f;
}

Field object(const QString &name, const QList<Field> &fields)
{
    Field f;
    f.name = name;
    f.type = FieldType::Object;
    f.fields = fields;
    return f;
}

Field array(const QString &name, const Field &item, qint64 minItems, qint64 maxItems)
{
    Field f;
    f.name = name;
    f.type = FieldType::Array;
    f.min = minItems;
    f.max = maxItems;
    f.items = std::make_shared<Field>(item);
    return f;
}

Field optional(Field field)
{
    field.required = false;
    return field;
}

Field nullable(Field field)
{
    field.nullable = true;
    return field;
}

Field matching(Field field, const QString &pattern)
{
    PREPAY_CHECK(field.type == FieldType::String);
    field.pattern = pattern;
    return field;
}

Field described(Field field, const QString &description)
{
    field.description = description;
    return field;
}

bool isSafeInteger(const QJsonValue &value)
{
    // Qt keeps a number that is whole and fits (1, -0, 1.0, 1e3) as a qint64 and anything else
    // as a double, so the metatype says whether the value is an exact integer.
    if (!value.isDouble() || value.toVariant().metaType().id() != QMetaType::LongLong)
        return false;
    const qint64 i = value.toInteger();
    return i >= -kSafeIntegerMax && i <= kSafeIntegerMax;
}

bool hasForbiddenCharacters(QStringView text)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t u = text[i].unicode();
        if (isForbiddenUnit(u) || isLowSurrogate(u))
            return true;
        if (isHighSurrogate(u)) {
            if (i + 1 >= text.size() || !isLowSurrogate(text[i + 1].unicode()))
                return true;
            ++i;
        }
    }
    return false;
}

qsizetype codePointCount(QStringView text)
{
    qsizetype count = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (isHighSurrogate(text[i].unicode()) && i + 1 < text.size() && isLowSurrogate(text[i + 1].unicode()))
            ++i;
        ++count;
    }
    return count;
}

QString printable(QStringView text, qsizetype maxChars)
{
    QString out;
    out.reserve(std::min(text.size(), maxChars) + 1);
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t u = text[i].unicode();
        const bool pair = isHighSurrogate(u) && i + 1 < text.size() && isLowSurrogate(text[i + 1].unicode());
        if (out.size() + (pair ? 2 : 1) > maxChars) {
            out += QChar(u'…');
            break;
        }
        if (pair) {
            out += text[i];
            out += text[i + 1];
            ++i;
        } else if (isForbiddenUnit(u) || isHighSurrogate(u) || isLowSurrogate(u)) {
            out += u'?';
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace prepay::rpc
