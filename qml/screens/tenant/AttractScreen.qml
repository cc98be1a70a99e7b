import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Attract: what the lobby sees while nobody uses the kiosk — the building's name, the time, one
// line of help, the language switch. A tap anywhere starts.
Rectangle {
    id: root

    required property TenantFlow flow
    property date now: new Date()

    color: Theme.background

    Timer {
        interval: 1000
        running: root.visible
        repeat: true
        onTriggered: root.now = new Date()
    }

    TapHandler {
        onTapped: root.flow.begin()
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: Theme.margin
        spacing: Theme.spacing

        LanguageSwitch {
            Layout.alignment: Qt.AlignRight
            flow: root.flow
        }
        Item { Layout.fillHeight: true }
        Text {
            Layout.fillWidth: true
            text: root.flow.buildingName
            wrapMode: Text.Wrap
            horizontalAlignment: Text.AlignHCenter
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontTitle
            font.bold: true
            color: Theme.text
        }
        Text {
            Layout.fillWidth: true
            text: Qt.formatTime(root.now, "hh:mm")
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: root.width > root.height ? Theme.fontHuge : Theme.fontHuge * 1.5
            color: Theme.text
        }
        Text {
            Layout.fillWidth: true
            text: Qt.formatDate(root.now, "yyyy-MM-dd")
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHeading
            color: Theme.textMuted
        }
        Item { Layout.preferredHeight: Theme.margin }
        KioskButton {
            Layout.alignment: Qt.AlignHCenter
            Layout.preferredWidth: Math.min(parent.width, 160 * Theme.mm)
            Layout.preferredHeight: Math.max(implicitHeight, 1.5 * Theme.touchPrimary)
            primary: true
            fontSize: Theme.fontHeading
            text: qsTr("Touch here to check your balance or top up")
            onClicked: root.flow.begin()
        }
        Notice {
            Layout.alignment: Qt.AlignHCenter
            Layout.preferredWidth: Math.min(parent.width, 160 * Theme.mm)
            visible: !root.flow.online
            text: qsTr("The kiosk cannot reach the management office right now: balances may be out of date and top-ups are unavailable.")
        }
        Item { Layout.fillHeight: true }
        Text {
            Layout.fillWidth: true
            text: root.flow.kioskName
            wrapMode: Text.Wrap
            horizontalAlignment: Text.AlignHCenter
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
    }
}
