import QtQuick
import Prepay

// A plain-words notice on a warm background: stale data, top-ups unavailable, what to do next.
Rectangle {
    id: root

    property string text

    implicitWidth: label.implicitWidth + 2 * Theme.spacing
    implicitHeight: label.implicitHeight + 2 * Theme.spacingSmall
    radius: Theme.radius
    color: Theme.warningFill
    border.color: Theme.warningText

    Text {
        id: label
        anchors.centerIn: parent
        width: Math.max(0, root.width - 2 * Theme.spacing)
        text: root.text
        wrapMode: Text.Wrap
        font.family: Theme.fontFamily
        font.pixelSize: Theme.fontBody
        color: Theme.warningText
    }
}
