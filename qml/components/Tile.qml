import QtQuick
import Prepay

// A figure with its caption ("Today" / "12.5 kWh" / "¥8.45"), on a card.
Rectangle {
    id: root

    property string caption
    property string value
    property string detail

    implicitWidth: Math.max(captionText.implicitWidth, valueText.implicitWidth) + 2 * Theme.spacing
    implicitHeight: column.implicitHeight + 2 * Theme.spacingSmall
    radius: Theme.radius
    color: Theme.surface
    border.color: Theme.surfaceBorder

    Column {
        id: column
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.top: parent.top
        anchors.margins: Theme.spacingSmall
        anchors.leftMargin: Theme.spacing
        anchors.rightMargin: Theme.spacing

        Text {
            id: captionText
            width: parent.width
            text: root.caption
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
        Text {
            id: valueText
            width: parent.width
            text: root.value
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontHeading
            font.bold: true
            color: Theme.text
        }
        Text {
            width: parent.width
            visible: root.detail !== ""
            text: root.detail
            wrapMode: Text.Wrap
            font.family: Theme.fontFamily
            font.pixelSize: Theme.fontBody
            color: Theme.textMuted
        }
    }
}
