pragma Singleton
import QtQuick

// The words for the codes the controllers give (channels, relay states, recharge states), in
// one place so every screen says them the same way. Presentation only.
QtObject {
    function channel(code: string): string {
        switch (code) {
        case "alipay": return qsTr("Alipay")
        case "wechat": return qsTr("WeChat Pay")
        case "unionpay": return qsTr("UnionPay")
        case "cash": return qsTr("Cash at the office")
        default: return code
        }
    }

    function relay(code: string): string {
        switch (code) {
        case "closed": return qsTr("Power on")
        case "open": return qsTr("Power off")
        default: return qsTr("Power state unknown")
        }
    }

    function rechargeState(code: string): string {
        switch (code) {
        case "credited": return qsTr("Credited")
        case "partially_refunded": return qsTr("Partly refunded")
        case "refunded": return qsTr("Refunded")
        default: return code
        }
    }
}
