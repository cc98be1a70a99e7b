pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Pin: the building asks for the tenant's 4–6 digit PIN; prepayd checks it (online only).
Rectangle {
    id: root

    required property TenantFlow flow
    readonly property IdentifyController identify: root.flow.identify
    readonly property bool landscape: root.width > root.height

    color: Theme.background

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ScreenHeader {
            Layout.fillWidth: true
            flow: root.flow
            title: root.identify.candidateName
        }

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true
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
                    text: qsTr("Enter your PIN (%1 to %2 digits).").arg(root.identify.pinMin).arg(root.identify.pinMax)
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                }
                Row {
                    anchors.horizontalCenter: parent.horizontalCenter
                    height: Theme.touchPrimary
                    spacing: Theme.spacing
                    Repeater {
                        model: root.identify.pinMax
                        delegate: Rectangle {
                            required property int index
                            width: Math.round(8 * Theme.mm)
                            height: width
                            radius: width / 2
                            anchors.verticalCenter: parent.verticalCenter
                            color: index < root.identify.pinLength ? Theme.text : "transparent"
                            border.color: Theme.text
                            border.width: Math.max(2, Math.round(0.5 * Theme.mm))
                        }
                    }
                }
                Text {
                    width: parent.width
                    visible: root.identify.pinError !== ""
                    text: {
                        switch (root.identify.pinError) {
                        case "too_short": return qsTr("The PIN has %1 to %2 digits.").arg(root.identify.pinMin).arg(root.identify.pinMax)
                        case "wrong_pin": return qsTr("Wrong PIN. Please try again.")
                        case "locked": return qsTr("Too many wrong PINs. Please try again later or ask the management office.")
                        case "unavailable": return qsTr("The PIN cannot be checked right now: the kiosk cannot reach the management office.")
                        default: return qsTr("The PIN could not be checked: %1").arg(root.identify.pinMessage)
                        }
                    }
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.errorText
                }
                KioskButton {
                    width: parent.width
                    primary: true
                    enabled: !root.identify.pinBusy
                    text: root.identify.pinBusy ? qsTr("Checking…") : qsTr("OK")
                    onClicked: root.identify.submitPin()
                }
            }

            Keypad {
                width: body1.columnWidth
                enabled: !root.identify.pinBusy
                onKeyPressed: (key) => root.identify.pressPinDigit(key)
                onDeletePressed: root.identify.pinBackspace()
            }
        }
        }
    }
}
