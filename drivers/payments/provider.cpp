#include "provider.h"

namespace prepay::payments {

QString channelCode(Channel channel)
{
    switch (channel) {
    case Channel::Alipay: return QStringLiteral("alipay");
    case Channel::WeChat: return QStringLiteral("wechat");
    case Channel::UnionPay: return QStringLiteral("unionpay");
    }
    return QStringLiteral("alipay");
}

std::optional<Channel> channelFromCode(QStringView code)
{
    for (const Channel channel : {Channel::Alipay, Channel::WeChat, Channel::UnionPay}) {
        if (code == channelCode(channel))
            return channel;
    }
    return std::nullopt;
}

QByteArray HttpReply::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

QString outcomeCode(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Ok: return QStringLiteral("ok");
    case Outcome::Unknown: return QStringLiteral("unknown");
    case Outcome::Rejected: return QStringLiteral("rejected");
    }
    return QStringLiteral("unknown");
}

QString tradeStateCode(TradeState state)
{
    switch (state) {
    case TradeState::NotFound: return QStringLiteral("not_found");
    case TradeState::WaitingPayment: return QStringLiteral("waiting");
    case TradeState::Paid: return QStringLiteral("paid");
    case TradeState::Closed: return QStringLiteral("closed");
    case TradeState::Failed: return QStringLiteral("failed");
    }
    return QStringLiteral("not_found");
}

QString refundStateCode(RefundState state)
{
    switch (state) {
    case RefundState::Processing: return QStringLiteral("processing");
    case RefundState::Succeeded: return QStringLiteral("succeeded");
    case RefundState::Closed: return QStringLiteral("closed");
    case RefundState::Abnormal: return QStringLiteral("abnormal");
    }
    return QStringLiteral("processing");
}

QString notifyVerdictCode(NotifyVerdict verdict)
{
    switch (verdict) {
    case NotifyVerdict::Valid: return QStringLiteral("valid");
    case NotifyVerdict::BadSignature: return QStringLiteral("bad_signature");
    case NotifyVerdict::Stale: return QStringLiteral("stale");
    case NotifyVerdict::UnknownKey: return QStringLiteral("unknown_key");
    case NotifyVerdict::Foreign: return QStringLiteral("foreign");
    case NotifyVerdict::Malformed: return QStringLiteral("malformed");
    }
    return QStringLiteral("malformed");
}

} // namespace prepay::payments
