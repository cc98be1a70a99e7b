import QtQuick
import QtTest
import Prepay
import Prepay.Kiosk
import Prepay.Fixture

// Every tenant screen in each of its states, in Chinese and in English, portrait and landscape,
// over the offline fixture: no QML warning (failOnWarning), no Text cut — not elided, not wider
// or taller than its box (a word that cannot wrap), not outside the screen — and no button
// smaller than the Theme's touch sizes (15 mm; 20 mm for primary actions).
Item {
    id: root

    width: 1080
    height: 1920

    FixtureBackend {
        id: fixture
        replyDelayMs: 0
        payAfterMs: 0
    }
    FixturePrinter {
        id: printer
        printDelayMs: 0
    }
    TenantFlow {
        id: tenantFlow
        backend: fixture
        receiptOutput: printer
    }
    LanguageSwitcher {
        id: switcher
        language: tenantFlow.language
    }

    Component { id: attractScreen; AttractScreen { flow: tenantFlow } }
    Component { id: identifyScreen; IdentifyScreen { flow: tenantFlow } }
    Component { id: pinScreen; PinScreen { flow: tenantFlow } }
    Component { id: accountScreen; AccountScreen { flow: tenantFlow } }
    Component { id: usageScreen; UsageScreen { flow: tenantFlow } }
    Component { id: historyScreen; HistoryScreen { flow: tenantFlow } }
    Component { id: topUpScreen; TopUpScreen { flow: tenantFlow } }
    Component { id: outOfServiceScreen; OutOfServiceScreen { flow: tenantFlow } }
    Component { id: idleOverlay; IdleOverlay { flow: tenantFlow } }

    TestCase {
        id: test
        name: "TenantScreens"
        when: windowShown

        function init() {
            failOnWarning(/.*/)
            fixture.online = true
            fixture.replicaPresent = true
            fixture.pinRequired = false
            printer.paperOut = false
            tenantFlow.endSession()
        }

        function cleanup() {
            tenantFlow.endSession()
        }

        function typeShop(shopNo) {
            for (let i = 0; i < shopNo.length; ++i)
                tenantFlow.identify.press(shopNo[i])
        }

        function openShop(shopNo) {
            tenantFlow.endSession()
            tenantFlow.begin()
            typeShop(shopNo)
            tenantFlow.identify.lookUp()
            tenantFlow.identify.confirm()
            compare(tenantFlow.state, TenantFlow.Account, "opened " + shopNo)
        }

        function toQr(shopNo, preset, channel) {
            openShop(shopNo)
            tenantFlow.startTopUp()
            tenantFlow.topUp.choosePreset(preset)
            tenantFlow.topUp.confirmAmount()
            tenantFlow.topUp.chooseChannel(channel)
            tryCompare(tenantFlow.topUp, "step", TopUpController.Qr)
        }

        // Puts the flow (and the fixture) in the state the row names; returns the component.
        function arrange(state) {
            switch (state) {
            case "attract": return attractScreen
            case "attract-offline": fixture.online = false; return attractScreen
            case "out-of-service": fixture.online = false; fixture.replicaPresent = false; return outOfServiceScreen
            case "identify": tenantFlow.begin(); typeShop("A-1F-10"); tenantFlow.identify.lookUp(); return identifyScreen
            case "identify-confirm": tenantFlow.begin(); typeShop("A-2F-202"); tenantFlow.identify.lookUp(); return identifyScreen
            case "pin":
                fixture.pinRequired = true
                tenantFlow.begin(); typeShop("A-1F-101"); tenantFlow.identify.lookUp(); tenantFlow.identify.confirm()
                tenantFlow.identify.pressPinDigit("1"); tenantFlow.identify.pressPinDigit("2"); tenantFlow.identify.submitPin()
                return pinScreen
            case "account-normal": openShop("A-1F-101"); return accountScreen
            case "account-alarm1": openShop("A-1F-103"); return accountScreen
            case "account-alarm2": openShop("A-1F-104"); return accountScreen
            case "account-arrears": openShop("A-2F-201"); return accountScreen
            case "account-force-on": openShop("A-2F-202"); return accountScreen
            case "account-offline-meter": openShop("A-3F-301"); return accountScreen
            case "account-tiered": openShop("A-4F-401"); return accountScreen
            case "account-link-offline": openShop("A-1F-101"); fixture.online = false; return accountScreen
            case "usage-daily": openShop("A-1F-101"); tenantFlow.showUsage(); return usageScreen
            case "usage-monthly": openShop("A-1F-101"); tenantFlow.showUsage(); tenantFlow.usage.monthly = true; return usageScreen
            case "history": openShop("A-1F-101"); tenantFlow.showHistory(); return historyScreen
            case "history-offline": openShop("A-1F-101"); fixture.online = false; tenantFlow.showHistory(); return historyScreen
            case "topup-amount": openShop("A-1F-104"); tenantFlow.startTopUp(); tenantFlow.topUp.pressDigit("9"); tenantFlow.topUp.pressDigit("9"); tenantFlow.topUp.pressDigit("9"); tenantFlow.topUp.pressDigit("9"); return topUpScreen
            case "topup-channel": openShop("A-1F-104"); tenantFlow.startTopUp(); tenantFlow.topUp.choosePreset(0); tenantFlow.topUp.confirmAmount(); return topUpScreen
            case "topup-qr": toQr("A-1F-101", 1, "wechat"); return topUpScreen
            case "topup-success": toQr("A-2F-201", 0, "alipay"); fixture.payNow(); return topUpScreen
            case "topup-failure": toQr("A-1F-103", 3, "unionpay"); fixture.failNow(); return topUpScreen
            case "topup-channel-printer-out":
                printer.paperOut = true
                openShop("A-1F-104"); tenantFlow.startTopUp(); tenantFlow.topUp.choosePreset(0); tenantFlow.topUp.confirmAmount()
                return topUpScreen
            case "topup-success-paper-out":
                printer.paperOut = true
                toQr("A-2F-201", 0, "alipay"); fixture.payNow()
                tryCompare(tenantFlow.receipts, "state", "failed")
                return topUpScreen
            case "history-printed":
                openShop("A-1F-101"); tenantFlow.showHistory()
                tryCompare(tenantFlow.history.recharges, "loading", false)
                // the first row's receipt number (RechargeListModel::ReceiptNoRole = Qt.UserRole + 1)
                tenantFlow.receipts.print(tenantFlow.history.recharges.data(tenantFlow.history.recharges.index(0, 0), 257),
                                          tenantFlow.language)
                tryCompare(tenantFlow.receipts, "state", "printed")
                return historyScreen
            case "history-paper-out":
                printer.paperOut = true
                openShop("A-1F-101"); tenantFlow.showHistory()
                tryCompare(tenantFlow.history.recharges, "loading", false)
                tenantFlow.receipts.print(tenantFlow.history.recharges.data(tenantFlow.history.recharges.index(0, 0), 257),
                                          tenantFlow.language)
                tryCompare(tenantFlow.receipts, "state", "failed")
                return historyScreen
            case "idle": openShop("A-1F-101"); return idleOverlay
            }
            fail("no such state: " + state)
            return null
        }

        function test_screens_data() {
            const states = ["attract", "attract-offline", "out-of-service", "identify", "identify-confirm", "pin",
                            "account-normal", "account-alarm1", "account-alarm2", "account-arrears", "account-force-on",
                            "account-offline-meter", "account-tiered", "account-link-offline", "usage-daily",
                            "usage-monthly", "history", "history-offline", "topup-amount", "topup-channel", "topup-qr",
                            "topup-success", "topup-failure", "topup-channel-printer-out", "topup-success-paper-out",
                            "history-printed", "history-paper-out", "idle"]
            const rows = []
            for (const lang of ["zh_CN", "en"]) {
                for (const landscape of [false, true]) {
                    for (const state of states)
                        rows.push({ tag: state + " " + lang + (landscape ? " landscape" : " portrait"),
                                    state: state, lang: lang, landscape: landscape })
                }
            }
            return rows
        }

        function test_screens(data) {
            const component = arrange(data.state)
            tenantFlow.setLanguage(data.lang)
            compare(switcher.loaded, true, "the translation is installed")
            const screen = createTemporaryObject(component, root, {
                width: data.landscape ? 1920 : 1080, height: data.landscape ? 1080 : 1920 })
            verify(screen !== null)
            if (data.state === "idle")
                screen.visible = true // the overlay shows only while the supervisor counts down
            waitForRendering(screen)
            const problems = []
            walk(screen, screen, problems)
            verify(problems.length === 0, problems.join("\n"))
            verify(countTexts(screen) > 0, "the screen shows some text")
        }

        // The receipt printer out of paper: said before paying, and after paying with the payment
        // safe; a healthy printer says nothing before paying and "printed" after.
        function test_receiptNotices() {
            const before = "The receipt printer is out of paper right now. You can still top up: the payment is credited as usual, and you can print the receipt later under Recharges."
            arrange("topup-channel")
            tenantFlow.setLanguage("en") // (opening a shop starts a session: Chinese)
            let screen = createTemporaryObject(topUpScreen, root, { width: 1080, height: 1920 })
            waitForRendering(screen)
            verify(findText(screen, before) === null, "no warning while the printer is fine")
            printer.paperOut = true
            waitForRendering(screen)
            verify(findText(screen, before) !== null, "the warning before paying")
            arrange("topup-success-paper-out")
            tenantFlow.setLanguage("en")
            waitForRendering(screen)
            verify(findText(screen, "The receipt printer is out of paper, so no receipt was printed. Your payment is safe and credited. You can print the receipt later under Recharges. Management office: 0598-8231234") !== null,
                   "the notice after paying")
            printer.paperOut = false
            arrange("topup-success")
            tenantFlow.setLanguage("en")
            tryCompare(tenantFlow.receipts, "state", "printed")
            waitForRendering(screen)
            verify(findText(screen, "Your receipt is printed: please take it from the slot below the screen.") !== null)
        }

        // Chinese really is Chinese, and English English.
        function test_language() {
            openShop("A-1F-101")
            const screen = createTemporaryObject(accountScreen, root, { width: 1080, height: 1920 })
            waitForRendering(screen)
            verify(findText(screen, "余额") !== null, "the Chinese label")
            tenantFlow.setLanguage("en")
            waitForRendering(screen)
            verify(findText(screen, "Balance") !== null, "the English label")
            verify(findText(screen, "余额") === null)
            tenantFlow.endSession() // a wiped session speaks Chinese again
            compare(tenantFlow.language, "zh_CN")
        }

        // The QR screen's image is the payment's QR, from the provider.
        function test_qrImage() {
            toQr("A-1F-101", 0, "alipay")
            const screen = createTemporaryObject(topUpScreen, root, { width: 1080, height: 1920 })
            waitForRendering(screen)
            verify(tenantFlow.topUp.qrImageUrl.startsWith("image://qr/https%3A%2F%2Fpay.fixture.invalid"))
            const image = findImage(screen)
            verify(image !== null)
            tryCompare(image, "status", Image.Ready)
            verify(image.implicitWidth >= 300, "the QR is drawn large: " + image.implicitWidth)
        }

        // Taps reach the flow: the keypad types, the confirm button opens the account.
        function test_taps() {
            tenantFlow.begin()
            const screen = createTemporaryObject(identifyScreen, root, { width: 1080, height: 1920 })
            waitForRendering(screen)
            for (const key of ["A", "-", "1", "F", "-", "1", "0", "4"])
                mouseClick(findButton(screen, key))
            compare(tenantFlow.identify.entry, "A-1F-104")
            mouseClick(findButton(screen, "查找"))
            verify(tenantFlow.identify.candidateFound)
            mouseClick(findButton(screen, "是，继续"))
            compare(tenantFlow.state, TenantFlow.Account)
        }

        function isText(item) {
            return item.hasOwnProperty("truncated") && item.hasOwnProperty("wrapMode") && item.hasOwnProperty("elide")
        }

        function visibleInTree(item, top) {
            for (let i = item; i && i !== top; i = i.parent) {
                if (!i.visible)
                    return false
            }
            return true
        }

        function walk(item, screen, problems) {
            if (!item.visible)
                return
            if (isText(item) && item.text !== "") {
                const name = "\"" + item.text + "\""
                if (item.truncated)
                    problems.push(name + " is truncated")
                if (item.wrapMode === Text.NoWrap && item.fontSizeMode === Text.FixedSize && item.implicitWidth > item.width + 1)
                    problems.push(name + " needs " + item.implicitWidth + " px, has " + item.width)
                if (item.contentWidth > item.width + 1)
                    problems.push(name + " is wider (" + item.contentWidth + ") than its box (" + item.width + ")")
                if (item.contentHeight > item.height + 1)
                    problems.push(name + " is taller (" + item.contentHeight + ") than its box (" + item.height + ")")
                const topLeft = item.mapToItem(screen, 0, 0)
                if (topLeft.x < -1 || topLeft.y < -1 || topLeft.x + item.width > screen.width + 1 || topLeft.y + item.height > screen.height + 1)
                    problems.push(name + " is outside the screen at " + topLeft.x + "," + topLeft.y)
            }
            // Touch targets: 15 mm for every button, 20 mm for a screen's primary action.
            if (item.hasOwnProperty("primary") && item.hasOwnProperty("selected")) {
                const least = item.primary ? Theme.touchPrimary : Theme.touchMin
                if (item.height < least - 0.5 || item.width < least - 0.5)
                    problems.push("button \"" + item.text + "\" is " + item.width + "×" + item.height + ", less than " + least + " px")
            }
            for (let i = 0; i < item.children.length; ++i)
                walk(item.children[i], screen, problems)
        }

        function countTexts(item) {
            let n = isText(item) && item.visible && item.text !== "" ? 1 : 0
            for (let i = 0; i < item.children.length; ++i)
                n += countTexts(item.children[i])
            return n
        }

        function findText(item, text) {
            if (isText(item) && item.text === text && item.visible)
                return item
            for (let i = 0; i < item.children.length; ++i) {
                const found = findText(item.children[i], text)
                if (found)
                    return found
            }
            return null
        }

        function findButton(item, text) {
            if (item.hasOwnProperty("primary") && item.text === text && item.visible)
                return item
            for (let i = 0; i < item.children.length; ++i) {
                const found = findButton(item.children[i], text)
                if (found)
                    return found
            }
            return null
        }

        function findImage(item) {
            if (item.hasOwnProperty("sourceSize") && item.hasOwnProperty("fillMode") && item.visible)
                return item
            for (let i = 0; i < item.children.length; ++i) {
                const found = findImage(item.children[i])
                if (found)
                    return found
            }
            return null
        }
    }
}
