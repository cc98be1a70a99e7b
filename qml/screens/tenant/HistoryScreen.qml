pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// History: the shop's last 10 recharges, newest first (asked from the management office; offline
// the screen says so).
Rectangle {
    id: root

    required property TenantFlow flow
    readonly property RechargeListModel recharges: root.flow.history.recharges

    color: Theme.background

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ScreenHeader {
            Layout.fillWidth: true
            flow: root.flow
            title: qsTr("Recent recharges") + " · " + root.flow.account.displayName
        }

        // (tight above the list: in landscape the ten rows still fit beneath it)
        ReceiptStatus {
            id: receiptStatus
            Layout.fillWidth: true
            Layout.leftMargin: Theme.margin
            Layout.rightMargin: Theme.margin
            Layout.topMargin: Theme.spacingSmall
            Layout.preferredHeight: implicitHeight
            flow: root.flow
            inHistory: true
        }

        Text {
            Layout.fillWidth: true
            Layout.margins: Theme.margin
            visible: root.recharges.loading || root.recharges.errorCode !== "" || root.recharges.count === 0
            text: root.recharges.loading ? qsTr("Loading…") : root.recharges.errorCode === "unavailable" ? qsTr("The list of recharges needs the connection to the management office, which is down right now. Your balance above is still shown.") : root.recharges.errorCode !== "" ? qsTr("The list could not be loaded: %1").arg(root.recharges.errorMessage) : qsTr("No recharges yet.")
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            color: Theme.text
        }

        Flickable {
            id: list
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.margin
            Layout.topMargin: receiptStatus.visible ? Theme.spacingSmall : Theme.margin
            clip: true
            contentHeight: rows.height
            boundsBehavior: Flickable.StopAtBounds

            // Portrait: one column; landscape: two, so the ten rows fit without scrolling.
            Grid {
                id: rows
                width: list.width
                columns: root.width > root.height ? 2 : 1
                spacing: Theme.spacingSmall
                readonly property real cellWidth: (rows.width - (rows.columns - 1) * rows.spacing) / rows.columns

                Repeater {
                    model: root.recharges
                    delegate: Rectangle {
                        id: row
                        required property string receiptNo
                        required property string channel
                        required property string amountText
                        required property string timeText
                        required property bool late
                        required property string state

                        width: rows.cellWidth
                        implicitHeight: rowLayout.implicitHeight + 2 * Theme.spacingSmall
                        radius: Theme.radius
                        color: Theme.surface
                        border.color: Theme.surfaceBorder

                        RowLayout {
                            id: rowLayout
                            anchors.fill: parent
                            anchors.margins: Theme.spacingSmall
                            anchors.leftMargin: Theme.spacing
                            anchors.rightMargin: Theme.spacing
                            spacing: Theme.spacing
                            ColumnLayout {
                                Layout.fillWidth: true
                                spacing: 0
                                Text {
                                    Layout.fillWidth: true
                                    text: row.timeText + " · " + Words.channel(row.channel)
                                    wrapMode: Text.Wrap
                                    font.family: Theme.fontFamily
                                    font.pixelSize: Theme.fontBody
                                    color: Theme.text
                                }
                                Text {
                                    Layout.fillWidth: true
                                    text: qsTr("Receipt %1").arg(row.receiptNo) + " · " + Words.rechargeState(row.state) + (row.late ? qsTr(" · paid after the QR code closed, credited") : "")
                                    wrapMode: Text.Wrap
                                    font.family: Theme.fontFamily
                                    font.pixelSize: Theme.fontSmall
                                    color: Theme.textMuted
                                }
                            }
                            Text {
                                text: row.amountText
                                font.family: Theme.fontFamily
                                font.pixelSize: Theme.fontHeading
                                font.bold: true
                                color: Theme.text
                            }
                            KioskButton {
                                visible: root.flow.receipts.available
                                enabled: !root.flow.receipts.busy
                                text: qsTr("Print receipt")
                                onClicked: root.flow.receipts.print(row.receiptNo, root.flow.language)
                            }
                        }
                    }
                }
            }
        }
    }
}
