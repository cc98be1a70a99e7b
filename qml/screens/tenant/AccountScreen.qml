pragma ComponentBehavior: Bound
import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// Account: balance, status in colour and words, days left, each meter with its relay, today's
// and this month's use, the tariff in plain words, the last reading (and "may be out of date"),
// then Top up / Usage / History. Portrait: one column; landscape: two.
Rectangle {
    id: root

    required property TenantFlow flow
    readonly property AccountController account: root.flow.account
    readonly property bool landscape: root.width > root.height

    color: Theme.background

    function tariffWords(): string {
        const p = root.account.tariffPrices
        switch (root.account.tariffKind) {
        case "flat":
            return qsTr("Flat tariff: %1, the same at any time of day.").arg(p[2])
        case "tou":
            return qsTr("Time-of-use tariff: sharp %1, peak %2, flat %3, valley %4.").arg(p[0]).arg(p[1]).arg(p[2]).arg(p[3])
        case "tiered":
            return qsTr("Tiered tariff: %1 per kWh, more in %n higher step(s) as this month's use grows.", "", root.account.tierCount - 1).arg(p[2])
        case "tou_tiered":
            return qsTr("Time-of-use tariff with monthly steps: sharp %1, peak %2, flat %3, valley %4.").arg(p[0]).arg(p[1]).arg(p[2]).arg(p[3])
        default:
            return qsTr("No tariff is assigned yet; ask the management office.")
        }
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ScreenHeader {
            Layout.fillWidth: true
            flow: root.flow
            title: root.account.displayName + " · " + root.account.shopNo
        }

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true

        Grid {
            id: body
            anchors.fill: parent
            anchors.margins: Theme.margin
            columns: root.landscape ? 2 : 1
            columnSpacing: Theme.margin
            rowSpacing: Theme.spacing
            readonly property real columnWidth: root.landscape ? (body.width - body.columnSpacing) / 2 : body.width

            // Money and what to do.
            Column {
                width: body.columnWidth
                spacing: Theme.spacing

                Text {
                    width: parent.width
                    text: qsTr("Balance")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.textMuted
                }
                Text {
                    width: parent.width
                    text: root.account.hasBalance ? root.account.balanceText : qsTr("No wallet yet")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontDisplay
                    font.bold: true
                    color: Theme.text
                }
                StatusBadge {
                    width: parent.width
                    status: root.account.status
                }
                Text {
                    width: parent.width
                    visible: root.account.daysLeft >= 0
                    text: qsTr("About %n day(s) left at your recent usage.", "", root.account.daysLeft)
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontHeading
                    color: Theme.text
                }
                Notice {
                    width: parent.width
                    visible: root.account.stale
                    text: root.flow.online
                          ? qsTr("Data may be out of date: the last meter reading is more than 2 hours old.")
                          : qsTr("Data may be out of date: the kiosk cannot reach the management office right now.")
                }
                KioskButton {
                    width: parent.width
                    primary: true
                    enabled: root.flow.topUpAvailable
                    text: qsTr("Top up")
                    fontSize: Theme.fontHeading
                    onClicked: root.flow.startTopUp()
                }
                Notice {
                    width: parent.width
                    visible: !root.flow.topUpAvailable
                    text: qsTr("Top-ups are unavailable while the kiosk cannot reach the management office. It will come back by itself; you can also top up at the office.")
                }
                RowLayout {
                    width: parent.width
                    spacing: Theme.spacing
                    KioskButton {
                        Layout.fillWidth: true
                        text: qsTr("Usage")
                        onClicked: root.flow.showUsage()
                    }
                    KioskButton {
                        Layout.fillWidth: true
                        text: qsTr("Recharges")
                        onClicked: root.flow.showHistory()
                    }
                }
            }

            // Use, meters, tariff.
            Column {
                width: body.columnWidth
                spacing: Theme.spacing

                RowLayout {
                    width: parent.width
                    spacing: Theme.spacing
                    Tile {
                        Layout.fillWidth: true
                        Layout.preferredWidth: 1
                        caption: qsTr("Today")
                        value: root.account.hasToday ? root.account.todayEnergyText : qsTr("No reading yet")
                        detail: root.account.hasToday ? root.account.todayCostText : ""
                    }
                    Tile {
                        Layout.fillWidth: true
                        Layout.preferredWidth: 1
                        caption: qsTr("This month")
                        value: root.account.hasMonth ? root.account.monthEnergyText : qsTr("No reading yet")
                        detail: root.account.hasMonth ? root.account.monthCostText : ""
                    }
                }

                Text {
                    width: parent.width
                    text: qsTr("Meters")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    font.bold: true
                    color: Theme.text
                }
                Repeater {
                    model: root.account.points
                    delegate: Rectangle {
                        id: meter
                        required property string pointCode
                        required property string relay
                        required property string controlMode
                        required property bool offline

                        width: parent.width
                        implicitHeight: meterRow.implicitHeight + 2 * Theme.spacingSmall
                        radius: Theme.radius
                        color: Theme.surface
                        border.color: Theme.surfaceBorder

                        RowLayout {
                            id: meterRow
                            anchors.fill: parent
                            anchors.margins: Theme.spacingSmall
                            anchors.leftMargin: Theme.spacing
                            anchors.rightMargin: Theme.spacing
                            spacing: Theme.spacing
                            Rectangle {
                                Layout.preferredWidth: Math.round(5 * Theme.mm)
                                Layout.preferredHeight: Math.round(5 * Theme.mm)
                                radius: width / 2
                                color: meter.offline ? Theme.statusOffline
                                     : meter.relay === "closed" ? Theme.statusNormal
                                     : meter.relay === "open" ? Theme.statusArrears : Theme.statusOffline
                            }
                            Text {
                                Layout.fillWidth: true
                                Layout.preferredWidth: 1
                                text: meter.pointCode
                                wrapMode: Text.Wrap
                                font.family: Theme.fontFamily
                                font.pixelSize: Theme.fontBody
                                color: Theme.text
                            }
                            Text {
                                Layout.fillWidth: true
                                Layout.preferredWidth: 2
                                text: {
                                    let words = Words.relay(meter.relay)
                                    if (meter.controlMode === "force_on")
                                        words += qsTr(" — kept on by the management office")
                                    if (meter.offline)
                                        words += qsTr(" — meter not answering")
                                    return words
                                }
                                wrapMode: Text.Wrap
                                horizontalAlignment: Text.AlignRight
                                font.family: Theme.fontFamily
                                font.pixelSize: Theme.fontBody
                                font.bold: true
                                color: Theme.text
                            }
                        }
                    }
                }

                Text {
                    width: parent.width
                    text: root.tariffWords()
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontBody
                    color: Theme.text
                }
                Text {
                    width: parent.width
                    text: root.account.hasReading ? qsTr("Last meter reading: %1").arg(root.account.lastReadingText)
                                                  : qsTr("No meter reading yet.")
                    wrapMode: Text.Wrap
                    font.family: Theme.fontFamily
                    font.pixelSize: Theme.fontSmall
                    color: Theme.textMuted
                }
            }
        }
        }
    }
}
