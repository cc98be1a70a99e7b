// Canonicalisation for the payment providers (PAYMENT-PROVIDERS.md §4.2 item 2): the bytes that
// get signed or verified, built exactly — our own application/x-www-form-urlencoded codec, the
// Alipay string-to-sign, the raw `*_response` node of an Alipay reply, the WeChat Pay APIv3
// messages and Authorization header, and yuan strings ↔ fen.
//
// Everything works on bytes (UTF-8), never on QString or parsed JSON: a signature covers bytes,
// and every re-encoding on the way (QUrlQuery leaving `+` alone, a JSON round trip dropping
// `\/`, a framework HTML-escaping a value) is a known way to break verification (§4.3). Bad
// input is an empty optional, never a crash.
#pragma once

#include "api/money.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QList>

#include <optional>
#include <utility>

namespace prepay::payments {

// Form fields in the order they came or will be sent: a multimap, because a form may repeat a
// key and the codec must not hide that. Keys and values are decoded UTF-8 bytes.
using FormFields = QList<std::pair<QByteArray, QByteArray>>;

// Limits on what we accept from outside.
inline constexpr qsizetype formBodyBytesMax = qsizetype(64) * 1024; // an Alipay notification is ~2 KiB
inline constexpr qsizetype formFieldsMax = 128;                     // it has ~35 fields
inline constexpr qsizetype yuanIntegerDigitsMax = 12;               // 999,999,999,999.99 yuan fits qint64 fen easily

// application/x-www-form-urlencoded, decoded once (§1.5 step 1), strictly:
//   - `&` separates fields, the first `=` separates key from value; a field without `=`, an
//     empty field (`a=1&&b=2`) or an empty key is refused; the empty body is no fields;
//   - `+` is a space; `%XX` (either case of hex) is that byte; a `%` not followed by two hex
//     digits is refused (no "lenient" pass-through that would let `%2B` and `+` mix);
//   - raw bytes must be printable ASCII other than space: a literal space, control character
//     or non-ASCII byte means the sender did not encode, and the value cannot be trusted to
//     mean what was signed;
//   - the decoded keys and values must be valid UTF-8 (we only speak charset=utf-8).
// Nothing on any violation, or beyond formBodyBytesMax / formFieldsMax.
std::optional<FormFields> formDecode(QByteArrayView body);
// One component, the same rules as formDecode.
std::optional<QByteArray> formDecodeComponent(QByteArrayView encoded);
// Encodes so that the decoder above (and every other correct one) returns the same bytes:
// A–Z a–z 0–9 `-` `.` `_` `~` stay, a space becomes `+`, every other byte is `%XX` (uppercase),
// so a literal `+`, `/`, `=` (base64 signatures) or `&`, `%` always survives.
QByteArray formEncodeComponent(QByteArrayView raw);
QByteArray formEncode(const FormFields &fields);

// What the Alipay string-to-sign is built for: a request we sign (§1.2: `sign` excluded,
// `sign_type` included) or a notification we verify (§1.5: both excluded).
enum class AlipaySignScope {
    Request,
    Notification
};
// The Alipay string-to-sign: fields minus the excluded keys and minus empty values, sorted by
// key in byte order, joined as `k=v&k=v` with raw (unencoded) values. A key that appears twice
// makes the content ambiguous (which value did Alipay sign?), so it is refused: nothing.
std::optional<QByteArray> alipayStringToSign(const FormFields &fields, AlipaySignScope scope);

// An Alipay synchronous response split into what the signature covers and the signature.
struct AlipayResponse
{
    enum class Status {
        Found = 0,         // node holds the raw bytes of the method's response object
        ErrorResponse = 1, // a gateway-level `error_response` (maybe unsigned): a failure, always
        Missing = 2,       // valid JSON without the method's node
        Malformed = 3,     // not a JSON object, a duplicate top-level key, or the node not an object
    };
    Status status = Status::Malformed;
    QByteArray node;   // the exact substring of the body, from `{` to its matching `}`
    QByteArray sign;   // the top-level "sign" with JSON escapes undone (`\/` → `/`); may be empty
    QByteArray certSn; // the top-level "alipay_cert_sn" (certificate mode); may be empty
};
// Extracts the `<method with . → _>_response` node of `rawBody` as the exact bytes received
// (§1.3): never parsed and re-serialised, since key order, spacing and `\/` escapes are part of
// what Alipay signed. `method` is e.g. "alipay.trade.precreate".
AlipayResponse alipayResponseNode(QByteArrayView rawBody, QByteArrayView method);

// WeChat Pay APIv3 (§2.2–2.3). The request message is METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n,
// the response/notification message TIMESTAMP\nNONCE\nBODY\n; BODY is the raw bytes (empty for
// GET and 204, the final \n is still there). A method that is not upper-case letters, a URL not
// starting with `/`, a timestamp that is not decimal digits, or a nonce that is empty or holds
// a control character would make the message ambiguous: nothing.
std::optional<QByteArray> wechatRequestMessage(QByteArrayView method, QByteArrayView canonicalUrl,
    QByteArrayView timestamp, QByteArrayView nonce, QByteArrayView body);
std::optional<QByteArray> wechatResponseMessage(QByteArrayView timestamp, QByteArrayView nonce, QByteArrayView body);

struct WechatAuthorization
{
    QByteArray mchid;
    QByteArray nonce;
    QByteArray timestamp;
    QByteArray serialNo;  // the merchant API certificate's serial, hex
    QByteArray signature; // base64
};
// `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"`.
// Nothing when a value is empty or holds `"`, `,`, `\` or a control character (it would break
// the header's quoting).
std::optional<QByteArray> wechatAuthorizationHeader(const WechatAuthorization &auth);

// Alipay amounts (§3.3). Fen to yuan "%lld.%02lld": 1 → "0.01", 8888 → "88.88". Amounts sent
// to a provider are never negative; a negative Money is a programmer error (checked).
QByteArray yuanFromFen(Money amount);
// Yuan text to fen, accepting exactly ^[0-9]+(\.[0-9]{1,2})?$ with at most yuanIntegerDigitsMax
// integer digits: no sign, exponent, grouping, spaces, or third decimal. Nothing otherwise.
// (prepay::Money::parse is for people — it accepts "¥12.50" and "12.50 元" — so it is not used
// for provider fields.)
std::optional<Money> fenFromYuan(QByteArrayView text);

} // namespace prepay::payments
