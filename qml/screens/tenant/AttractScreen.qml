import QtQuick
import Prepay

// Attract: what the lobby sees while nobody uses the kiosk — the time, one line of help in
// both languages. Connection status and the building's name arrive with the sync (issue 6).
Rectangle {
    id: root

    property date now: new Date()

    color: Theme.background

    Timer {
        interval: 1000
        running: true
        repeat: true
        onTriggered: root.now = new Date()
    }

    Column {
        anchors.centerIn: parent
        spacing: Theme.spacing

        Text {
            anchors.horizontalCenter: parent.horizontalCenter
            text: Qt.formatTime(root.now, "hh:mm")
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHuge * 2
            color: Theme.text
        }
        Text {
            anchors.horizontalCenter: parent.horizontalCenter
            text: Qt.formatDate(root.now, "yyyy-MM-dd")
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontTitle
            color: Theme.textMuted
        }
        Rectangle {
            anchors.horizontalCenter: parent.horizontalCenter
            width: help.implicitWidth + 2 * Theme.margin
            height: Theme.touchPrimary * 2
            radius: Theme.radius
            color: Theme.brand

            Text {
                id: help
                anchors.centerIn: parent
                text: "轻触屏幕 · 查询电费与充值\nTouch to check your balance or top up"
                horizontalAlignment: Text.AlignHCenter
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontBody
                color: Theme.brandText
            }
        }
    }
}
