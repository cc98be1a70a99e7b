pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Usage: daily bars for 31 days or monthly bars for 12 months, the TOU split for time-of-use
// tariffs; a day or month without readings is a gap, not a zero.
Rectangle {
    id: root

    required property TenantFlow flow
    readonly property UsageController usage: root.flow.usage

    color: Theme.background

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ScreenHeader {
            Layout.fillWidth: true
            flow: root.flow
            title: qsTr("Usage") + " · " + root.flow.account.displayName
        }

        ColumnLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            Layout.margins: Theme.margin
            spacing: Theme.spacing

            RowLayout {
                Layout.fillWidth: true
                spacing: Theme.spacing
                KioskButton {
                    Layout.fillWidth: true
                    text: qsTr("Last 31 days")
                    selected: !root.usage.monthly
                    onClicked: root.usage.monthly = false
                }
                KioskButton {
                    Layout.fillWidth: true
                    text: qsTr("Last 12 months")
                    selected: root.usage.monthly
                    onClicked: root.usage.monthly = true
                }
            }

            Text {
                Layout.fillWidth: true
                text: qsTr("Total: %1 · %2").arg(root.usage.totalEnergyText).arg(root.usage.totalCostText)
                wrapMode: Text.Wrap
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontHeading
                font.bold: true
                color: Theme.text
            }

            BarChart {
                Layout.fillWidth: true
                Layout.fillHeight: true
                Layout.minimumHeight: 60 * Theme.mm
                bars: root.usage.bars
                touSplit: root.usage.touSplit
                firstLabel: root.usage.firstLabel
                lastLabel: root.usage.monthly ? qsTr("This month") : qsTr("Today")
            }

            Text {
                Layout.fillWidth: true
                visible: root.usage.gapCount > 0
                text: root.usage.monthly
                      ? qsTr("An empty outline is a month without meter readings (a gap, not zero use).")
                      : qsTr("An empty outline is a day without meter readings (a gap, not zero use).")
                wrapMode: Text.Wrap
                font.family: Theme.fontFamily
                font.pixelSize: Theme.fontSmall
                color: Theme.textMuted
            }

            GridLayout {
                Layout.fillWidth: true
                visible: root.usage.touSplit
                columns: 2
                columnSpacing: Theme.spacing
                rowSpacing: Theme.spacingSmall
                Repeater {
                    model: [
                        { name: qsTr("Sharp"), color: Theme.slotSharp },
                        { name: qsTr("Peak"), color: Theme.slotPeak },
                        { name: qsTr("Flat"), color: Theme.slotFlat },
                        { name: qsTr("Valley"), color: Theme.slotValley }
                    ]
                    delegate: RowLayout {
                        id: slot
                        required property var modelData
                        required property int index
                        Layout.fillWidth: true
                        spacing: Theme.spacingSmall
                        Rectangle {
                            Layout.preferredWidth: Math.round(6 * Theme.mm)
                            Layout.preferredHeight: Math.round(6 * Theme.mm)
                            color: slot.modelData.color
                        }
                        Text {
                            Layout.fillWidth: true
                            text: qsTr("%1: %2 (%3%)").arg(slot.modelData.name)
                                  .arg(root.usage.slotEnergyTexts[slot.index] ?? "")
                                  .arg(Math.round(100 * (root.usage.slotFractions[slot.index] ?? 0)))
                            wrapMode: Text.Wrap
                            font.family: Theme.fontFamily
                            font.pixelSize: Theme.fontBody
                            color: Theme.text
                        }
                    }
                }
            }
        }
    }
}
