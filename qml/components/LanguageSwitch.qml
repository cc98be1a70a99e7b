import QtQuick
import QtQuick.Layouts
import Prepay
import Prepay.Kiosk

// 中文 / English: each name written in its own language, so anyone finds theirs.
RowLayout {
    id: root

    required property TenantFlow flow

    spacing: Theme.spacingSmall

    KioskButton {
        text: "中文"
        selected: root.flow.language === "zh_CN"
        onClicked: root.flow.setLanguage("zh_CN")
    }
    KioskButton {
        text: "English"
        selected: root.flow.language === "en"
        onClicked: root.flow.setLanguage("en")
    }
}
