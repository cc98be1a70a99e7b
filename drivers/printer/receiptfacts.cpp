#include "receiptfacts.h"

#include <QtCore/QJsonArray>

namespace prepay::printer {

namespace {

// A price in 0.0001 CNY/kWh as "1.2000".
QString price(qint64 tenThousandths)
{
    return QStringLiteral("%1.%2").arg(tenThousandths / 10000).arg(tenThousandths % 10000, 4, 10, QLatin1Char('0'));
}

} // namespace

// The tariff in the receipt's words: its name, then the slot prices (sharp only where it differs
// from peak, as most TOU plans have none; one price for flat and tiered plans).
QString tariffWords(const QJsonObject &t, ReceiptLanguage language)
{
    const bool zh = language == ReceiptLanguage::Chinese;
    const QString kind = t.value(QLatin1String("kind")).toString();
    const QJsonObject p = t.value(QLatin1String("prices")).toObject();
    const qint64 sharp = p.value(QLatin1String("sharp")).toInteger();
    const qint64 peak = p.value(QLatin1String("peak")).toInteger();
    const qint64 flat = p.value(QLatin1String("flat")).toInteger();
    const qint64 valley = p.value(QLatin1String("valley")).toInteger();
    const QString name = t.value(QLatin1String("name")).toString();
    const bool tou = kind == u"tou" || kind == u"tou_tiered";
    const bool tiered = kind == u"tiered" || kind == u"tou_tiered";
    QStringList parts;
    if (tou) {
        if (sharp != peak)
            parts << (zh ? QStringLiteral("尖 ") : QStringLiteral("sharp ")) + price(sharp);
        parts << (zh ? QStringLiteral("峰 ") : QStringLiteral("peak ")) + price(peak)
              << (zh ? QStringLiteral("平 ") : QStringLiteral("flat ")) + price(flat)
              << (zh ? QStringLiteral("谷 ") : QStringLiteral("valley ")) + price(valley);
    } else {
        parts << price(flat);
    }
    const QString tiers = tiered ? (zh ? QStringLiteral("（阶梯加价另计）") : QStringLiteral(" (plus tier adders)")) : QString();
    if (zh)
        return name + QLatin1Char(' ') + parts.join(QLatin1Char(' ')) + QStringLiteral(" 元/kWh") + tiers;
    return name + QStringLiteral(": ") + parts.join(QStringLiteral(", ")) + QStringLiteral(" yuan/kWh") + tiers;
}


std::optional<ReceiptData> receiptFromFacts(
    const QJsonObject &facts, ReceiptLanguage language, QString *error)
{
    const auto missing = [error](const char *member) {
        *error = QStringLiteral("has no %1").arg(QLatin1String(member));
        return std::nullopt;
    };
    ReceiptData d;
    const QString kind = facts.value(QLatin1String("kind")).toString();
    if (kind != u"topup" && kind != u"refund")
        return missing("kind (topup or refund)");
    d.kind = kind == u"refund" ? ReceiptKind::Refund : ReceiptKind::TopUp;
    d.receiptNo = facts.value(QLatin1String("receipt_no")).toString();
    if (d.receiptNo.isEmpty())
        return missing("receipt_no");
    if (d.kind == ReceiptKind::Refund)
        d.originalReceiptNo = facts.value(QLatin1String("original_receipt_no")).toString();
    if (!facts.value(QLatin1String("at_ms")).isDouble())
        return missing("at_ms");
    d.atMs = facts.value(QLatin1String("at_ms")).toInteger();
    if (!facts.value(QLatin1String("amount_fen")).isDouble())
        return missing("amount_fen");
    d.amountFen = facts.value(QLatin1String("amount_fen")).toInteger();
    d.channel = facts.value(QLatin1String("channel")).toString();
    // The heading: the property and the building ("三明商会大厦 A座"), either alone when the other is unknown.
    const QString site = facts.value(QLatin1String("site_name")).toString();
    const QString building = facts.value(QLatin1String("building")).toObject().value(QLatin1String("name")).toString();
    d.buildingName = site.isEmpty() || building.isEmpty() || building.startsWith(site)
        ? (building.isEmpty() ? site : building)
        : site + QLatin1Char(' ') + building;
    d.officeName = facts.value(QLatin1String("office_name")).toString();
    d.officePhone = facts.value(QLatin1String("office_phone")).toString();
    d.shopNo = facts.value(QLatin1String("shop_no")).toString();
    d.shopName = facts.value(QLatin1String("shop_name")).toString();
    const QJsonArray meters = facts.value(QLatin1String("meters")).toArray();
    for (const QJsonValue &m : meters) {
        const QJsonObject meter = m.toObject();
        const QJsonValue serial = meter.value(QLatin1String("meter_serial"));
        const QString point = meter.value(QLatin1String("point_code")).toString();
        d.meters << (serial.isDouble() ? QStringLiteral("%1 (%2)").arg(point).arg(serial.toInteger()) : point);
    }
    // A refund slip names the provider's refund id where it has one (WeChat Pay); Alipay knows a
    // refund by the original trade, so the slip then shows that trade's id.
    d.providerTxnId = facts.value(QLatin1String("provider_txn_id")).toString();
    if (d.providerTxnId.isEmpty() && d.kind == ReceiptKind::Refund)
        d.providerTxnId = facts.value(QLatin1String("original_provider_txn_id")).toString();
    if (facts.value(QLatin1String("balance_before_fen")).isDouble())
        d.balanceBeforeFen = facts.value(QLatin1String("balance_before_fen")).toInteger();
    if (facts.value(QLatin1String("balance_after_fen")).isDouble())
        d.balanceAfterFen = facts.value(QLatin1String("balance_after_fen")).toInteger();
    if (facts.value(QLatin1String("tariff")).isObject())
        d.tariff = tariffWords(facts.value(QLatin1String("tariff")).toObject(), language);
    const QJsonObject issuer = facts.value(QLatin1String("issued_by")).toObject();
    d.issuedBy = issuer.value(QLatin1String("name")).toString();
    d.issuedByKiosk = issuer.value(QLatin1String("kind")).toString() == u"kiosk";
    d.late = facts.value(QLatin1String("late")).toBool();
    d.verification = facts.value(QLatin1String("verification")).toString();
    return d;
}

} // namespace prepay::printer
