pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Top up, in the controller's steps: amount (presets or custom) → channel → QR with the amount,
// a countdown and "waiting for payment" → success (new balance, power restored once the relay
// really closed) or failure (what happened, what to do next). Buttons that could start a second
// top-up are disabled while a call is in flight; leaving the QR cancels it (the controller does).
Rectangle {
    id: root

    required property TenantFlow flow
    readonly property TopUpController topUp: root.flow.topUp
    readonly property bool landscape: root.width > root.height

    color: Theme.background

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ScreenHeader {
            Layout.fillWidth: true
            flow: root.flow
            backEnabled: !root.topUp.busy
            title: qsTr("Top up") + " · " + root.flow.account.displayName
        }

        // ---- Amount
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: root.topUp.step === TopUpController.Amount
        Grid {
            id: body1
            anchors.fill: parent
            anchors.margins: Theme.margin
            readonly property real columnWidth: root.landscape ? (body1.width - body1.columnSpacing) / 2 : body1.width
            columns: root.landscape ? 2 : 1
            columnSpacing: Theme.margin
            rowSpacing: Theme.spacing

            Column {
                width: body1.columnWidth
                spacing: Theme.spacing

                Text {
                    width: parent.width
                    text: qsTr("How much would you like to top up?")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontHeading
                    color: Theme.text
                }
                GridLayout {
                    width: parent.width
                    columns: 2
                    rowSpacing: Theme.spacing
                    columnSpacing: Theme.spacing
                    Repeater {
                        model: root.topUp.presets
                        delegate: KioskButton {
                            required property string modelData
                            required property int index
                            Layout.fillWidth: true
                            Layout.preferredHeight: Theme.touchPrimary
                            fontSize: Theme.fontHeading
                            text: qsTr("%1 yuan").arg(modelData)
                            selected: root.topUp.presetIndex === index
                            onClicked: root.topUp.choosePreset(index)
                        }
                    }
                }
                Text {
                    width: parent.width
                    text: root.topUp.amountValid || root.topUp.amountText === ""
                          ? (root.topUp.amountText === "" ? qsTr("Or type another amount in yuan.") : qsTr("Amount: %1").arg(root.topUp.amountText))
                          : root.topUp.amountError === "below_min" ? qsTr("%1 is less than the smallest top-up, %2.").arg(root.topUp.amountText).arg(root.topUp.minText)
                          : qsTr("%1 is more than the largest top-up, %2.").arg(root.topUp.amountText).arg(root.topUp.maxText)
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontHeading
                    font.bold: root.topUp.amountValid
                    color: root.topUp.amountValid || root.topUp.amountText === "" ? Theme.text : Theme.errorText
                }
                KioskButton {
                    width: parent.width
                    primary: true
                    enabled: root.topUp.amountValid && root.topUp.available
                    text: qsTr("Next: choose how to pay")
                    onClicked: root.topUp.confirmAmount()
                }
                Notice {
                    width: parent.width
                    visible: !root.topUp.available
                    text: qsTr("Top-ups are unavailable while the kiosk cannot reach the management office.")
                }
            }
            Column {
                width: body1.columnWidth
                spacing: Theme.spacingSmall
                Text {
                    width: parent.width
                    text: qsTr("Another amount (%1 to %2):").arg(root.topUp.minText).arg(root.topUp.maxText)
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.textMuted
                }
                Keypad {
                    width: parent.width
                    onKeyPressed: (key) => root.topUp.pressDigit(key)
                    onDeletePressed: root.topUp.backspace()
                }
            }
        }
        }

        // ---- Channel
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: root.topUp.step === TopUpController.Channel
        Column {
            anchors.fill: parent
            anchors.margins: Theme.margin
            spacing: Theme.spacing

            Text {
                width: parent.width
                text: qsTr("Top up %1. How would you like to pay?").arg(root.topUp.amountText)
                wrapMode: Text.Wrap
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontHeading
                color: Theme.text
            }
            Repeater {
                model: root.topUp.channels
                delegate: KioskButton {
                    required property string modelData
                    width: parent.width
                    height: Math.max(implicitHeight, Theme.touchPrimary)
                    fontSize: Theme.fontHeading
                    enabled: !root.topUp.busy && root.topUp.available
                    selected: root.topUp.channel === modelData && root.topUp.busy
                    text: Words.channel(modelData)
                    onClicked: root.topUp.chooseChannel(modelData)
                }
            }
            Text {
                width: parent.width
                visible: root.topUp.busy
                text: qsTr("Asking %1 for a QR code…").arg(Words.channel(root.topUp.channel))
                wrapMode: Text.Wrap
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                color: Theme.textMuted
            }
            // Before paying: no receipt will come out of a printer that cannot print.
            Notice {
                width: parent.width
                visible: root.flow.receipts.printerDown
                text: (root.flow.receipts.printerHealth === "paper_out"
                       ? qsTr("The receipt printer is out of paper right now.")
                       : qsTr("The receipt printer is not working right now."))
                      + " " + qsTr("You can still top up: the payment is credited as usual, and you can print the receipt later under Recharges.")
            }
            Notice {
                width: parent.width
                visible: root.topUp.createError !== "" && !root.topUp.busy
                text: root.topUp.createError === "unavailable"
                      ? qsTr("The connection to the management office was interrupted. Nothing was charged. Tap the same payment method to try again.")
                      : qsTr("The top-up could not be started (%1). Nothing was charged.").arg(root.topUp.createMessage || root.topUp.createError)
            }
        }
        }

        // ---- QR
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: root.topUp.step === TopUpController.Qr
        Grid {
            id: body2
            anchors.fill: parent
            anchors.margins: Theme.margin
            readonly property real columnWidth: root.landscape ? (body2.width - body2.columnSpacing) / 2 : body2.width
            columns: root.landscape ? 2 : 1
            columnSpacing: Theme.margin
            rowSpacing: Theme.spacing

            Item {
                width: body2.columnWidth
                height: qrBox.height
            Rectangle {
                id: qrBox
                anchors.horizontalCenter: parent.horizontalCenter
                width: qrBox.side
                height: qrBox.side
                readonly property int side: Math.round(Math.min(140 * Theme.mm, root.landscape ? root.height * 0.7 : root.width * 0.7))
                color: "#ffffff" // a QR is read dark on light, in either palette
                Image {
                    anchors.fill: parent
                    visible: root.topUp.qrReady
                    source: root.topUp.qrImageUrl
                    sourceSize.width: parent.width
                    sourceSize.height: parent.height
                    fillMode: Image.PreserveAspectFit
                    smooth: false
                    cache: false
                }
                Text {
                    anchors.fill: parent
                    visible: !root.topUp.qrReady
                    text: qsTr("Preparing the QR code…")
                    wrapMode: Text.Wrap
                    horizontalAlignment: Text.AlignHCenter
                    verticalAlignment: Text.AlignVCenter
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: "#17212b"
                }
            }
            }
            Column {
                width: body2.columnWidth
                spacing: Theme.spacing
                Text {
                    width: parent.width
                    text: root.topUp.amountText
                    wrapMode: Text.Wrap
                    horizontalAlignment: root.landscape ? Text.AlignLeft : Text.AlignHCenter
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontDisplay
                    font.bold: true
                    color: Theme.text
                }
                Text {
                    width: parent.width
                    text: qsTr("Scan the code with %1 on your phone and pay.").arg(Words.channel(root.topUp.channel))
                    wrapMode: Text.Wrap
                    horizontalAlignment: root.landscape ? Text.AlignLeft : Text.AlignHCenter
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontHeading
                    color: Theme.text
                }
                Text {
                    width: parent.width
                    text: qsTr("Waiting for payment… %1 left").arg(root.topUp.countdownText)
                    wrapMode: Text.Wrap
                    horizontalAlignment: root.landscape ? Text.AlignLeft : Text.AlignHCenter
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontHeading
                    font.bold: true
                    color: Theme.brand
                }
                Text {
                    width: parent.width
                    text: qsTr("Receipt %1").arg(root.topUp.receiptNo)
                    wrapMode: Text.Wrap
                    horizontalAlignment: root.landscape ? Text.AlignLeft : Text.AlignHCenter
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontSmall
                    color: Theme.textMuted
                }
                KioskButton {
                    width: parent.width
                    enabled: !root.topUp.busy
                    text: qsTr("Cancel this top-up")
                    onClicked: root.flow.back()
                }
            }
        }
        }

        // ---- Success
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: root.topUp.step === TopUpController.Success
        Column {
            anchors.fill: parent
            anchors.margins: Theme.margin
            spacing: Theme.spacing

            Text {
                width: parent.width
                text: qsTr("Payment received. Thank you!")
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontTitle
                font.bold: true
                color: Theme.statusNormal
            }
            Text {
                width: parent.width
                text: qsTr("New balance: %1").arg(root.topUp.newBalanceText)
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontDisplay
                font.bold: true
                color: Theme.text
            }
            Text {
                width: parent.width
                visible: root.topUp.powerPending || root.topUp.powerRestored
                text: root.topUp.powerRestored ? qsTr("Power restored.")
                                               : qsTr("Turning your power back on… this takes up to a minute.")
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontHeading
                font.bold: root.topUp.powerRestored
                color: Theme.text
            }
            Text {
                width: parent.width
                visible: root.topUp.late
                text: qsTr("This payment arrived after the QR code closed; it has been credited all the same.")
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                color: Theme.textMuted
            }
            Text {
                width: parent.width
                text: qsTr("Receipt %1").arg(root.topUp.receiptNo)
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                color: Theme.textMuted
            }
            ReceiptStatus {
                width: parent.width
                flow: root.flow
            }
            KioskButton {
                width: parent.width
                primary: true
                text: qsTr("Back to my account")
                onClicked: root.flow.back()
            }
        }
        }

        // ---- Failure
        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
            visible: root.topUp.step === TopUpController.Failure
        Column {
            anchors.fill: parent
            anchors.margins: Theme.margin
            spacing: Theme.spacing

            Text {
                width: parent.width
                text: {
                    switch (root.topUp.failure) {
                    case "timeout": return qsTr("The QR code expired before a payment arrived.")
                    case "closed": return qsTr("The payment was not completed.")
                    case "disputed": return qsTr("The payment could not be matched to this top-up.")
                    case "expired_unknown": return qsTr("The payment provider has not answered yet.")
                    default: return qsTr("The top-up did not go through.")
                    }
                }
                wrapMode: Text.Wrap
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontTitle
                font.bold: true
                color: Theme.text
            }
            Text {
                width: parent.width
                text: {
                    switch (root.topUp.failure) {
                    case "disputed": return qsTr("The management office has been told and will contact you. Nothing more is needed from you now.")
                    case "closed": return qsTr("Nothing was charged. You can try again, with another payment method if you like.")
                    default: return qsTr("If you did pay, the money is not lost: it will show on your account within a few minutes. If you did not, you can start a new top-up.")
                    }
                }
                wrapMode: Text.Wrap
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                color: Theme.text
            }
            Notice {
                width: parent.width
                visible: root.flow.officePhone !== ""
                text: qsTr("Questions? Call the management office: %1").arg(root.flow.officePhone)
            }
            RowLayout {
                width: parent.width
                spacing: Theme.spacing
                KioskButton {
                    Layout.fillWidth: true
                    text: qsTr("Back to my account")
                    onClicked: root.flow.showAccount()
                }
                KioskButton {
                    Layout.fillWidth: true
                    primary: true
                    enabled: root.topUp.available
                    text: qsTr("Try again")
                    onClicked: root.flow.back()
                }
            }
        }
        }
    }
}
