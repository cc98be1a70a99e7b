import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// "Are you still there?": the idle supervisor's 10 s countdown over the whole screen. A tap
// anywhere keeps the session (the app's activity filter tells the supervisor); at zero the flow
// goes back to Attract and wipes the session.
Rectangle {
    id: root

    required property TenantFlow flow

    visible: root.flow.idle.counting
    color: Theme.overlay

    TapHandler {
        onTapped: root.flow.touched()
    }

    Rectangle {
        anchors.centerIn: parent
        width: Math.min(parent.width - 2 * Theme.margin, column.implicitWidth + 2 * Theme.margin)
        height: column.implicitHeight + 2 * Theme.margin
        radius: Theme.radius
        color: Theme.surface
        border.color: Theme.surfaceBorder

        ColumnLayout {
            id: column
            anchors.fill: parent
            anchors.margins: Theme.margin
            spacing: Theme.spacing

            Text {
                Layout.fillWidth: true
                text: qsTr("Are you still there?")
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontTitle
                font.bold: true
                color: Theme.text
            }
            Text {
                Layout.fillWidth: true
                text: qsTr("For your privacy this screen closes in %n second(s).", "", root.flow.idle.secondsLeft)
                wrapMode: Text.Wrap
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                color: Theme.textMuted
            }
            KioskButton {
                Layout.fillWidth: true
                primary: true
                text: qsTr("I'm still here")
                onClicked: root.flow.touched()
            }
        }
    }
}
