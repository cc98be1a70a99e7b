#include "paycanon.h"

#include "api/check.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSet>
#include <QtCore/QStringDecoder>

#include <algorithm>

namespace prepay::payments {

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool isValidUtf8(QByteArrayView bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString ignored = decoder.decode(bytes);
    Q_UNUSED(ignored);
    return !decoder.hasError();
}

bool isUnreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
        || c == '_' || c == '~';
}

bool isDigits(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool hasControl(QByteArrayView text)
{
    return std::any_of(
        text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

// A minimal scanner over JSON text that QJsonDocument has already accepted, so it only has to
// find where values begin and end, never to diagnose errors. It exists because the parser
// cannot tell us the byte range a value came from.
class JsonScanner
{
public:
    explicit JsonScanner(QByteArrayView text)
        : m_text(text)
    { }

    qsizetype position() const { return m_pos; }
    bool atEnd() const { return m_pos >= m_text.size(); }
    char peek() const { return atEnd() ? '\0' : m_text[m_pos]; }

    void skipSpace()
    {
        while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n'))
            ++m_pos;
    }
    bool expect(char c)
    {
        skipSpace();
        if (peek() != c)
            return false;
        ++m_pos;
        return true;
    }
    // A string at the cursor; returns its raw content between the quotes.
    std::optional<QByteArrayView> string()
    {
        skipSpace();
        if (peek() != '"')
            return std::nullopt;
        const qsizetype begin = ++m_pos;
        while (!atEnd() && peek() != '"') {
            if (peek() == '\\')
                ++m_pos; // the escaped character, whatever it is, cannot end the string
            ++m_pos;
        }
        if (atEnd())
            return std::nullopt;
        return m_text.sliced(begin, m_pos++ - begin);
    }
    // Skips one value of any kind; false if the text ends first.
    bool skipValue()
    {
        skipSpace();
        if (peek() == '"')
            return string().has_value();
        if (peek() == '{' || peek() == '[') {
            int depth = 0;
            while (!atEnd()) {
                const char c = peek();
                if (c == '"') {
                    if (!string())
                        return false;
                    continue;
                }
                ++m_pos;
                if (c == '{' || c == '[')
                    ++depth;
                else if ((c == '}' || c == ']') && --depth == 0)
                    return true;
            }
            return false;
        }
        const qsizetype begin = m_pos;
        while (!atEnd() && QByteArrayView("+-.0123456789Eaeflnrstu").contains(peek()))
            ++m_pos;
        return m_pos > begin;
    }

private:
    QByteArrayView m_text;
    qsizetype m_pos = 0;
};

} // namespace

std::optional<QByteArray> formDecodeComponent(QByteArrayView encoded)
{
    QByteArray out;
    out.reserve(encoded.size());
    for (qsizetype i = 0; i < encoded.size(); ++i) {
        const char c = encoded[i];
        if (c == '+') {
            out.append(' ');
        } else if (c == '%') {
            if (i + 2 >= encoded.size())
                return std::nullopt;
            const int high = hexValue(encoded[i + 1]);
            const int low = hexValue(encoded[i + 2]);
            if (high < 0 || low < 0)
                return std::nullopt;
            out.append(static_cast<char>(high * 16 + low));
            i += 2;
        } else if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return std::nullopt;
        } else {
            out.append(c);
        }
    }
    if (!isValidUtf8(out))
        return std::nullopt;
    return out;
}

std::optional<FormFields> formDecode(QByteArrayView body)
{
    if (body.size() > formBodyBytesMax)
        return std::nullopt;
    FormFields fields;
    if (body.isEmpty())
        return fields;
    qsizetype from = 0;
    for (;;) {
        qsizetype end = body.indexOf('&', from);
        if (end < 0)
            end = body.size();
        const QByteArrayView field = body.sliced(from, end - from);
        const qsizetype equals = field.indexOf('=');
        if (equals <= 0 || fields.size() >= formFieldsMax)
            return std::nullopt;
        auto key = formDecodeComponent(field.first(equals));
        auto value = formDecodeComponent(field.sliced(equals + 1));
        if (!key || !value || key->isEmpty())
            return std::nullopt;
        fields.append({*key, *value});
        if (end == body.size())
            break;
        from = end + 1;
    }
    return fields;
}

QByteArray formEncodeComponent(QByteArrayView raw)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(raw.size() * 3);
    for (const char c : raw) {
        if (isUnreserved(c)) {
            out.append(c);
        } else if (c == ' ') {
            out.append('+');
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out.append('%');
            out.append(hex[byte >> 4]);
            out.append(hex[byte & 0x0F]);
        }
    }
    return out;
}

QByteArray formEncode(const FormFields &fields)
{
    QByteArray out;
    for (const auto &[key, value] : fields) {
        if (!out.isEmpty())
            out.append('&');
        out.append(formEncodeComponent(key));
        out.append('=');
        out.append(formEncodeComponent(value));
    }
    return out;
}

std::optional<QByteArray> alipayStringToSign(const FormFields &fields, AlipaySignScope scope)
{
    FormFields kept;
    QSet<QByteArray> seen;
    for (const auto &field : fields) {
        if (seen.contains(field.first))
            return std::nullopt;
        seen.insert(field.first);
        if (field.second.isEmpty() || field.first == "sign")
            continue;
        if (scope == AlipaySignScope::Notification && field.first == "sign_type")
            continue;
        kept.append(field);
    }
    std::sort(kept.begin(), kept.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    QByteArray out;
    for (const auto &[key, value] : kept) {
        if (!out.isEmpty())
            out.append('&');
        out.append(key);
        out.append('=');
        out.append(value);
    }
    return out;
}

AlipayResponse alipayResponseNode(QByteArrayView rawBody, QByteArrayView method)
{
    AlipayResponse result;
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(rawBody.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return result;
    const QJsonObject object = document.object();
    result.sign = object.value(QLatin1String("sign")).toString().toUtf8();
    result.certSn = object.value(QLatin1String("alipay_cert_sn")).toString().toUtf8();

    QByteArray nodeName = method.toByteArray();
    nodeName.replace('.', '_');
    nodeName.append("_response");

    JsonScanner scanner(rawBody);
    if (!scanner.expect('{'))
        return result;
    QSet<QByteArray> keys;
    std::optional<QByteArrayView> node;
    bool errorResponse = false;
    scanner.skipSpace();
    if (scanner.peek() != '}') {
        for (;;) {
            const auto key = scanner.string();
            if (!key || !scanner.expect(':'))
                return result;
            const QByteArray keyBytes = key->toByteArray();
            if (keys.contains(keyBytes))
                return result; // which of the two did Alipay sign? Refuse to guess.
            keys.insert(keyBytes);
            scanner.skipSpace();
            const qsizetype begin = scanner.position();
            const char first = scanner.peek();
            if (!scanner.skipValue())
                return result;
            if (keyBytes == nodeName) {
                if (first != '{')
                    return result;
                node = rawBody.sliced(begin, scanner.position() - begin);
            } else if (keyBytes == "error_response") {
                errorResponse = true;
            }
            scanner.skipSpace();
            if (scanner.peek() == ',') {
                scanner.expect(',');
                continue;
            }
            if (!scanner.expect('}'))
                return result;
            break;
        }
    }
    if (node && errorResponse)
        return result;
    if (node) {
        result.status = AlipayResponse::Status::Found;
        result.node = node->toByteArray();
    } else {
        result.status = errorResponse ? AlipayResponse::Status::ErrorResponse : AlipayResponse::Status::Missing;
    }
    return result;
}

std::optional<QByteArray> wechatResponseMessage(QByteArrayView timestamp, QByteArrayView nonce, QByteArrayView body)
{
    if (!isDigits(timestamp) || nonce.isEmpty() || hasControl(nonce))
        return std::nullopt;
    QByteArray out;
    out.reserve(timestamp.size() + nonce.size() + body.size() + 3);
    out.append(timestamp).append('\n').append(nonce).append('\n').append(body).append('\n');
    return out;
}

std::optional<QByteArray> wechatRequestMessage(QByteArrayView method, QByteArrayView canonicalUrl,
    QByteArrayView timestamp, QByteArrayView nonce, QByteArrayView body)
{
    const bool methodOk
        = !method.isEmpty() && std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!methodOk || !canonicalUrl.startsWith('/') || hasControl(canonicalUrl) || canonicalUrl.contains(' '))
        return std::nullopt;
    const auto rest = wechatResponseMessage(timestamp, nonce, body);
    if (!rest)
        return std::nullopt;
    QByteArray out;
    out.append(method).append('\n').append(canonicalUrl).append('\n').append(*rest);
    return out;
}

std::optional<QByteArray> wechatAuthorizationHeader(const WechatAuthorization &auth)
{
    const QByteArray *values[] = {&auth.mchid, &auth.nonce, &auth.timestamp, &auth.serialNo, &auth.signature};
    for (const QByteArray *value : values) {
        if (value->isEmpty() || hasControl(*value) || value->contains('"') || value->contains(',')
            || value->contains('\\'))
            return std::nullopt;
    }
    QByteArray out("WECHATPAY2-SHA256-RSA2048 ");
    out.append("mchid=\"").append(auth.mchid).append("\",");
    out.append("nonce_str=\"").append(auth.nonce).append("\",");
    out.append("timestamp=\"").append(auth.timestamp).append("\",");
    out.append("serial_no=\"").append(auth.serialNo).append("\",");
    out.append("signature=\"").append(auth.signature).append('"');
    return out;
}

QByteArray yuanFromFen(Money amount)
{
    PREPAY_CHECK(amount.fen() >= 0);
    const qint64 fen = amount.fen();
    QByteArray out = QByteArray::number(fen / 100);
    out.append('.');
    const qint64 cents = fen % 100;
    if (cents < 10)
        out.append('0');
    out.append(QByteArray::number(cents));
    return out;
}

std::optional<Money> fenFromYuan(QByteArrayView text)
{
    const qsizetype dot = text.indexOf('.');
    const QByteArrayView integer = dot < 0 ? text : text.first(dot);
    const QByteArrayView decimals = dot < 0 ? QByteArrayView() : text.sliced(dot + 1);
    if (!isDigits(integer) || integer.size() > yuanIntegerDigitsMax)
        return std::nullopt;
    if (dot >= 0 && (decimals.isEmpty() || decimals.size() > 2 || !isDigits(decimals)))
        return std::nullopt;
    qint64 fen = 0;
    for (const char c : integer)
        fen = fen * 10 + (c - '0');
    fen *= 100;
    if (!decimals.isEmpty())
        fen += qint64(decimals[0] - '0') * 10;
    if (decimals.size() == 2)
        fen += decimals[1] - '0';
    return Money::fromFen(fen);
}

} // namespace prepay::payments
