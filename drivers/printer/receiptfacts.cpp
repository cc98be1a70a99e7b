#include "receiptfacts.h"

#include <QtCore/QJsonArray>

namespace prepay::printer {

namespace {

// 0.0001 CNY units as "1.2100".
QString price(qint64 tenThousandths)
{
    return QStringLiteral("%1.%2").arg(tenThousandths / 10'000).arg(tenThousandths % 10'000, 4, 10, QLatin1Char('0'));
}

} // namespace

QString tariffWords(const QJsonObject &tariff, ReceiptLanguage language)
{
    if (tariff.isEmpty())
        return {};
    const bool zh = language == ReceiptLanguage::Chinese;
    const QString code = tariff.value(QLatin1String("code")).toString();
    const QJsonObject prices = tariff.value(QLatin1String("prices")).toObject();
    const qint64 sharp = prices.value(QLatin1String("sharp")).toInteger();
    const qint64 peak = prices.value(QLatin1String("peak")).toInteger();
    const qint64 flat = prices.value(QLatin1String("flat")).toInteger();
    const qint64 valley = prices.value(QLatin1String("valley")).toInteger();
    const bool tiered = tariff.value(QLatin1String("kind")).toString().contains(QLatin1String("tier"));
    if (sharp == flat && peak == flat && valley == flat) {
        QString words = zh ? QStringLiteral("%1电价 %2：%3 元/kWh").arg(tiered ? QStringLiteral("阶梯") : QStringLiteral("单一"), code, price(flat))
                           : QStringLiteral("%1 tariff %2: %3 CNY/kWh").arg(tiered ? QStringLiteral("Tiered") : QStringLiteral("Flat"), code, price(flat));
        if (tiered)
            words += zh ? QStringLiteral("（起步价）") : QStringLiteral(" (first step)");
        return words;
    }
    return zh ? QStringLiteral("分时电价 %1：尖 %2 峰 %3 平 %4 谷 %5 元/kWh")
                    .arg(code, price(sharp), price(peak), price(flat), price(valley))
              : QStringLiteral("Time-of-use %1: sharp %2, peak %3, flat %4, valley %5 CNY/kWh")
                    .arg(code, price(sharp), price(peak), price(flat), price(valley));
}

std::optional<ReceiptData> receiptFromFacts(const QJsonObject &facts, ReceiptLanguage language, QString *error)
{
    const auto missing = [error](const char *field) {
        *error = QStringLiteral("receipt facts: %1 missing or wrong").arg(QLatin1String(field));
        return std::nullopt;
    };
    ReceiptData d;
    const QString kind = facts.value(QLatin1String("kind")).toString();
    if (kind == QLatin1String("topup"))
        d.kind = ReceiptKind::TopUp;
    else if (kind == QLatin1String("refund"))
        d.kind = ReceiptKind::Refund;
    else
        return missing("kind");
    d.receiptNo = facts.value(QLatin1String("receipt_no")).toString();
    if (d.receiptNo.isEmpty())
        return missing("receipt_no");
    d.atMs = facts.value(QLatin1String("at_ms")).toInteger();
    if (d.atMs <= 0)
        return missing("at_ms");
    d.amountFen = facts.value(QLatin1String("amount_fen")).toInteger();
    if (d.amountFen <= 0)
        return missing("amount_fen");
    d.channel = facts.value(QLatin1String("channel")).toString();
    if (d.channel.isEmpty())
        return missing("channel");
    d.buildingName = facts.value(QLatin1String("building")).toObject().value(QLatin1String("name")).toString();
    d.officeName = facts.value(QLatin1String("office_name")).toString();
    d.officePhone = facts.value(QLatin1String("office_phone")).toString();
    d.shopNo = facts.value(QLatin1String("shop_no")).toString();
    d.shopName = facts.value(QLatin1String("shop_name")).toString();
    const QJsonArray meters = facts.value(QLatin1String("meters")).toArray();
    for (const QJsonValue &m : meters) {
        const QJsonObject meter = m.toObject();
        const QString serial = meter.value(QLatin1String("meter_serial")).toVariant().toString();
        d.meters << (serial.isEmpty() ? meter.value(QLatin1String("point_code")).toString()
                                      : QStringLiteral("%1 (%2)").arg(meter.value(QLatin1String("point_code")).toString(), serial));
    }
    d.providerTxnId = facts.value(QLatin1String("provider_txn_id")).toString();
    if (facts.value(QLatin1String("balance_before_fen")).isDouble())
        d.balanceBeforeFen = facts.value(QLatin1String("balance_before_fen")).toInteger();
    if (facts.value(QLatin1String("balance_after_fen")).isDouble())
        d.balanceAfterFen = facts.value(QLatin1String("balance_after_fen")).toInteger();
    d.tariff = tariffWords(facts.value(QLatin1String("tariff")).toObject(), language);
    const QJsonObject issuer = facts.value(QLatin1String("issued_by")).toObject();
    d.issuedBy = issuer.value(QLatin1String("name")).toString();
    d.issuedByKiosk = issuer.value(QLatin1String("kind")).toString() != QLatin1String("operator");
    d.late = facts.value(QLatin1String("late")).toBool();
    d.verification = facts.value(QLatin1String("verification")).toString();
    if (d.verification.isEmpty())
        return missing("verification");
    return d;
}

} // namespace prepay::printer
