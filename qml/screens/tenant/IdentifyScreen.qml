import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Identify: the shop number on the kiosk's keypad; the shop's name is shown to confirm before
// anything else is shown.
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
            title: qsTr("Find your shop")
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
                    text: qsTr("Enter your shop number, as written at your shop's door (for example A-1F-101).")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                }
                Rectangle {
                    width: parent.width
                    height: Math.max(Theme.touchPrimary, entryText.implicitHeight + 2 * Theme.spacingSmall)
                    radius: Theme.radius
                    color: Theme.surface
                    border.color: Theme.brand
                    border.width: Math.max(2, Math.round(0.5 * Theme.mm))
                    Text {
                        id: entryText
                        anchors.left: parent.left
                        anchors.right: parent.right
                        anchors.verticalCenter: parent.verticalCenter
                        anchors.margins: Theme.spacingSmall
                        text: root.identify.entry
                        horizontalAlignment: Text.AlignHCenter
                        fontSizeMode: Text.HorizontalFit
                        minimumPixelSize: Theme.fontSmall
                        font.family: Theme.fontFamily
                        font.pixelSize: Theme.fontTitle
                        font.bold: true
                        color: Theme.text
                    }
                }
                Text {
                    width: parent.width
                    visible: root.identify.error !== ""
                    text: root.identify.error === "not_found"
                          ? qsTr("No shop with this number. Please check the number at your door, or ask the management office.")
                          : qsTr("Please enter your shop number first.")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.errorText
                }
                KioskButton {
                    width: parent.width
                    primary: true
                    visible: !root.identify.candidateFound
                    text: qsTr("Find my shop")
                    onClicked: root.identify.lookUp()
                }

                // The confirmation: the shop's name, then Yes / No.
                Rectangle {
                    width: parent.width
                    visible: root.identify.candidateFound
                    implicitHeight: confirmColumn.implicitHeight + 2 * Theme.spacing
                    radius: Theme.radius
                    color: Theme.surface
                    border.color: Theme.brand
                    border.width: Math.max(2, Math.round(0.5 * Theme.mm))

                    Column {
                        id: confirmColumn
                        anchors.left: parent.left
                        anchors.right: parent.right
                        anchors.top: parent.top
                        anchors.margins: Theme.spacing
                        spacing: Theme.spacingSmall

                        Text {
                            width: parent.width
                            text: qsTr("Is this your shop?")
                            wrapMode: Text.Wrap
                            font.family: Theme.fontFamily
                            font.pixelSize: Theme.fontBody
                            color: Theme.textMuted
                        }
                        Text {
                            width: parent.width
                            text: root.identify.candidateName
                            wrapMode: Text.Wrap
                            font.family: Theme.fontFamily
                            font.pixelSize: Theme.fontTitle
                            font.bold: true
                            color: Theme.text
                        }
                        Text {
                            width: parent.width
                            text: root.identify.candidateShopNo
                            wrapMode: Text.Wrap
                            font.family: Theme.fontFamily
                            font.pixelSize: Theme.fontHeading
                            color: Theme.text
                        }
                        RowLayout {
                            width: parent.width
                            spacing: Theme.spacing
                            KioskButton {
                                Layout.fillWidth: true
                                text: qsTr("No, change")
                                onClicked: root.identify.reject()
                            }
                            KioskButton {
                                Layout.fillWidth: true
                                primary: true
                                text: qsTr("Yes, continue")
                                onClicked: root.identify.confirm()
                            }
                        }
                    }
                }
            }

            Keypad {
                width: body1.columnWidth
                enabled: !root.identify.candidateFound
                extraKeys: root.identify.letterKeys
                onKeyPressed: (key) => root.identify.press(key)
                onDeletePressed: root.identify.backspace()
            }
        }
        }
    }
}
