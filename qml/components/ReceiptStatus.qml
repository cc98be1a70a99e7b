import QtQuick
import Prepay
import Prepay.Kiosk

// What became of the receipt (ReceiptController): printing, printed, or — on a warm notice — why
// not, that the payment is safe all the same, and how to get the receipt later. Hidden while idle.
Item {
    id: root

    required property TenantFlow flow
    // On Recharges the tenant is already where a reprint is made: the words say to try again.
    property bool inHistory: false
    readonly property ReceiptController receipts: root.flow.receipts
    readonly property bool failed: root.receipts.state === "failed"

    visible: root.receipts.state !== "idle"
    implicitWidth: root.failed ? notice.implicitWidth : plain.implicitWidth
    implicitHeight: root.failed ? notice.implicitHeight : plain.implicitHeight

    function failureWords(): string {
        let words
        switch (root.receipts.failure) {
        case "paper_out":
            words = root.inHistory
                    ? qsTr("The receipt printer is out of paper, so no receipt was printed. Please try again later.")
                    : qsTr("The receipt printer is out of paper, so no receipt was printed. Your payment is safe and credited. You can print the receipt later under Recharges.")
            break
        case "unavailable":
            words = qsTr("The receipt could not be fetched from the management office just now. Your payment is safe and credited. You can print it later under Recharges.")
            break
        case "not_found":
            words = qsTr("This receipt cannot be printed at this kiosk. The management office can print it for you.")
            break
        default:
            words = root.inHistory
                    ? qsTr("The receipt printer is not working right now, so no receipt was printed. Please try again later.")
                    : qsTr("The receipt printer is not working right now, so no receipt was printed. Your payment is safe and credited. You can print the receipt later under Recharges.")
        }
        if (root.flow.officePhone !== "")
            words += " " + qsTr("Management office: %1").arg(root.flow.officePhone)
        return words
    }

    Text {
        id: plain
        width: root.width
        visible: !root.failed
        text: root.receipts.state === "printing" ? qsTr("Printing your receipt…")
                                                 : qsTr("Your receipt is printed: please take it from the slot below the screen.")
        wrapMode: Text.Wrap
        horizontalAlignment: Text.AlignHCenter
        font.family: Theme.fontFamily
        font.pixelSize: Theme.fontBody
        color: Theme.text
    }
    Notice {
        id: notice
        width: root.width
        visible: root.failed
        text: root.failureWords()
    }
}
