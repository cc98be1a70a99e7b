<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AccountScreen</name>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="23"/>
        <source>Flat tariff: %1, the same at any time of day.</source>
        <translation>单一电价：%1，全天同价。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="25"/>
        <source>Time-of-use tariff: sharp %1, peak %2, flat %3, valley %4.</source>
        <translation>分时电价：尖 %1，峰 %2，平 %3，谷 %4。</translation>
    </message>
    <message numerus="yes">
        <location filename="../screens/tenant/AccountScreen.qml" line="27"/>
        <source>Tiered tariff: %1 per kWh, more in %n higher step(s) as this month&apos;s use grows.</source>
        <translation>
            <numerusform>阶梯电价：每千瓦时 %1，本月用电越多，之后 %n 档单价越高。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="29"/>
        <source>Time-of-use tariff with monthly steps: sharp %1, peak %2, flat %3, valley %4.</source>
        <translation>分时阶梯电价：尖 %1，峰 %2，平 %3，谷 %4。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="31"/>
        <source>No tariff is assigned yet; ask the management office.</source>
        <translation>尚未设定电价，请咨询物业管理处。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="65"/>
        <source>Balance</source>
        <translation>余额</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="73"/>
        <source>No wallet yet</source>
        <translation>尚未开户</translation>
    </message>
    <message numerus="yes">
        <location filename="../screens/tenant/AccountScreen.qml" line="87"/>
        <source>About %n day(s) left at your recent usage.</source>
        <translation>
            <numerusform>按近期用电，约可再用 %n 天。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="97"/>
        <source>Data may be out of date: the last meter reading is more than 2 hours old.</source>
        <translation>数据可能不是最新的：最近一次抄表已超过 2 小时。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="98"/>
        <source>Data may be out of date: the kiosk cannot reach the management office right now.</source>
        <translation>数据可能不是最新的：本终端暂时无法连接物业管理处。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="104"/>
        <source>Top up</source>
        <translation>充值</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="111"/>
        <source>Top-ups are unavailable while the kiosk cannot reach the management office. It will come back by itself; you can also top up at the office.</source>
        <translation>本终端暂时无法连接物业管理处，暂停充值。连接恢复后会自动恢复；您也可以到管理处充值。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="118"/>
        <source>Usage</source>
        <translation>用电情况</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="123"/>
        <source>Recharges</source>
        <translation>充值记录</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="140"/>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="141"/>
        <location filename="../screens/tenant/AccountScreen.qml" line="148"/>
        <source>No reading yet</source>
        <translation>暂无读数</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="147"/>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="155"/>
        <source>Meters</source>
        <translation>电表</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="207"/>
        <source> — kept on by the management office</source>
        <translation> — 物业保电中</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="209"/>
        <source> — meter not answering</source>
        <translation> — 电表暂时失联</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="233"/>
        <source>Last meter reading: %1</source>
        <translation>最近抄表：%1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AccountScreen.qml" line="234"/>
        <source>No meter reading yet.</source>
        <translation>暂无抄表数据。</translation>
    </message>
</context>
<context>
    <name>AttractScreen</name>
    <message>
        <location filename="../screens/tenant/AttractScreen.qml" line="72"/>
        <source>Touch here to check your balance or top up</source>
        <translation>轻触此处，查询余额或充值</translation>
    </message>
    <message>
        <location filename="../screens/tenant/AttractScreen.qml" line="79"/>
        <source>The kiosk cannot reach the management office right now: balances may be out of date and top-ups are unavailable.</source>
        <translation>本终端暂时无法连接物业管理处：余额可能不是最新的，暂停充值。</translation>
    </message>
</context>
<context>
    <name>HistoryScreen</name>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="24"/>
        <source>Recent recharges</source>
        <translation>最近充值</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="43"/>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="43"/>
        <source>The list of recharges needs the connection to the management office, which is down right now. Your balance above is still shown.</source>
        <translation>查看充值记录需要连接物业管理处，目前连接中断。余额仍可查看。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="43"/>
        <source>The list could not be loaded: %1</source>
        <translation>无法加载充值记录：%1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="43"/>
        <source>No recharges yet.</source>
        <translation>暂无充值记录。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="105"/>
        <source>Receipt %1</source>
        <translation>单号 %1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="105"/>
        <source> · paid after the QR code closed, credited</source>
        <translation> · 二维码关闭后才付款，已入账</translation>
    </message>
    <message>
        <location filename="../screens/tenant/HistoryScreen.qml" line="122"/>
        <source>Print receipt</source>
        <translation>打印小票</translation>
    </message>
</context>
<context>
    <name>IdentifyScreen</name>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="24"/>
        <source>Find your shop</source>
        <translation>查找您的商铺</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="45"/>
        <source>Enter your shop number, as written at your shop&apos;s door (for example A-1F-101).</source>
        <translation>请输入商铺门牌上的编号（例如 A-1F-101）。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="78"/>
        <source>No shop with this number. Please check the number at your door, or ask the management office.</source>
        <translation>没有这个编号的商铺。请核对门牌上的编号，或咨询物业管理处。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="79"/>
        <source>Please enter your shop number first.</source>
        <translation>请先输入商铺编号。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="89"/>
        <source>Find my shop</source>
        <translation>查找</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="113"/>
        <source>Is this your shop?</source>
        <translation>这是您的商铺吗？</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="141"/>
        <source>No, change</source>
        <translation>不是，重新输入</translation>
    </message>
    <message>
        <location filename="../screens/tenant/IdentifyScreen.qml" line="147"/>
        <source>Yes, continue</source>
        <translation>是，继续</translation>
    </message>
</context>
<context>
    <name>IdleOverlay</name>
    <message>
        <location filename="../components/IdleOverlay.qml" line="37"/>
        <source>Are you still there?</source>
        <translation>您还在吗？</translation>
    </message>
    <message numerus="yes">
        <location filename="../components/IdleOverlay.qml" line="47"/>
        <source>For your privacy this screen closes in %n second(s).</source>
        <translation>
            <numerusform>为保护您的隐私，本页面将在 %n 秒后关闭。</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../components/IdleOverlay.qml" line="57"/>
        <source>I&apos;m still here</source>
        <translation>我还在</translation>
    </message>
</context>
<context>
    <name>Keypad</name>
    <message>
        <location filename="../components/Keypad.qml" line="12"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <location filename="../Main.qml" line="20"/>
        <source>prepay kiosk</source>
        <translation>预付费电费终端</translation>
    </message>
</context>
<context>
    <name>OutOfServiceScreen</name>
    <message>
        <location filename="../screens/tenant/OutOfServiceScreen.qml" line="22"/>
        <source>This kiosk is out of service</source>
        <translation>本终端暂停服务</translation>
    </message>
    <message>
        <location filename="../screens/tenant/OutOfServiceScreen.qml" line="32"/>
        <source>It cannot reach the management office yet. It will be back by itself as soon as the connection returns.</source>
        <translation>暂时无法连接物业管理处。连接恢复后将自动恢复服务。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/OutOfServiceScreen.qml" line="42"/>
        <source>Management office: %1</source>
        <translation>物业管理处电话：%1</translation>
    </message>
</context>
<context>
    <name>PinScreen</name>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="45"/>
        <source>Enter your PIN (%1 to %2 digits).</source>
        <translation>请输入密码（%1 至 %2 位数字）。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="74"/>
        <source>The PIN has %1 to %2 digits.</source>
        <translation>密码为 %1 至 %2 位数字。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="75"/>
        <source>Wrong PIN. Please try again.</source>
        <translation>密码错误，请重试。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="76"/>
        <source>Too many wrong PINs. Please try again later or ask the management office.</source>
        <translation>密码错误次数过多。请稍后再试，或咨询物业管理处。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="77"/>
        <source>The PIN cannot be checked right now: the kiosk cannot reach the management office.</source>
        <translation>暂时无法验证密码：本终端无法连接物业管理处。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="78"/>
        <source>The PIN could not be checked: %1</source>
        <translation>无法验证密码：%1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="90"/>
        <source>Checking…</source>
        <translation>正在验证…</translation>
    </message>
    <message>
        <location filename="../screens/tenant/PinScreen.qml" line="90"/>
        <source>OK</source>
        <translation>确定</translation>
    </message>
</context>
<context>
    <name>ReceiptStatus</name>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="25"/>
        <source>The receipt printer is out of paper, so no receipt was printed. Please try again later.</source>
        <translation>小票打印机缺纸，未能打印小票。请稍后再试。</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="26"/>
        <source>The receipt printer is out of paper, so no receipt was printed. Your payment is safe and credited. You can print the receipt later under Recharges.</source>
        <translation>小票打印机缺纸，未能打印小票。您的付款已安全到账。稍后可在“充值记录”中补打小票。</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="29"/>
        <source>The receipt could not be fetched from the management office just now. Your payment is safe and credited. You can print it later under Recharges.</source>
        <translation>暂时无法从物业管理处取得小票信息。您的付款已安全到账。稍后可在“充值记录”中补打小票。</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="32"/>
        <source>This receipt cannot be printed at this kiosk. The management office can print it for you.</source>
        <translation>本终端无法打印此小票，请到物业管理处补打。</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="36"/>
        <source>The receipt printer is not working right now, so no receipt was printed. Please try again later.</source>
        <translation>小票打印机暂时无法工作，未能打印小票。请稍后再试。</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="37"/>
        <source>The receipt printer is not working right now, so no receipt was printed. Your payment is safe and credited. You can print the receipt later under Recharges.</source>
        <translation>小票打印机暂时无法工作，未能打印小票。您的付款已安全到账。稍后可在“充值记录”中补打小票。</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="40"/>
        <source>Management office: %1</source>
        <translation>物业管理处电话：%1</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="48"/>
        <source>Printing your receipt…</source>
        <translation>正在打印小票…</translation>
    </message>
    <message>
        <location filename="../components/ReceiptStatus.qml" line="49"/>
        <source>Your receipt is printed: please take it from the slot below the screen.</source>
        <translation>小票已打印，请从屏幕下方出纸口取走。</translation>
    </message>
</context>
<context>
    <name>ScreenHeader</name>
    <message>
        <location filename="../components/ScreenHeader.qml" line="28"/>
        <source>Back</source>
        <translation>返回</translation>
    </message>
    <message>
        <location filename="../components/ScreenHeader.qml" line="46"/>
        <source>Exit</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>StatusBadge</name>
    <message>
        <location filename="../components/StatusBadge.qml" line="22"/>
        <source>Normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../components/StatusBadge.qml" line="23"/>
        <source>Low balance — please top up soon</source>
        <translation>余额不足 — 请尽快充值</translation>
    </message>
    <message>
        <location filename="../components/StatusBadge.qml" line="24"/>
        <source>Very low balance — top up now to keep the power on</source>
        <translation>余额严重不足 — 请立即充值，以免停电</translation>
    </message>
    <message>
        <location filename="../components/StatusBadge.qml" line="25"/>
        <source>In arrears — the power is off until you top up</source>
        <translation>已欠费 — 已停电，充值后恢复供电</translation>
    </message>
    <message>
        <location filename="../components/StatusBadge.qml" line="26"/>
        <source>In arrears — the power is kept on by the management office</source>
        <translation>已欠费 — 物业保电中，仍在供电</translation>
    </message>
    <message>
        <location filename="../components/StatusBadge.qml" line="27"/>
        <source>Meter not answering — figures may be behind</source>
        <translation>电表失联 — 数据可能滞后</translation>
    </message>
    <message>
        <location filename="../components/StatusBadge.qml" line="28"/>
        <source>Account not opened yet</source>
        <translation>账户尚未开通</translation>
    </message>
</context>
<context>
    <name>TopUpScreen</name>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="28"/>
        <source>Top up</source>
        <translation>充值</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="51"/>
        <source>How much would you like to top up?</source>
        <translation>您要充值多少？</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="70"/>
        <source>%1 yuan</source>
        <translation>%1 元</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="79"/>
        <source>Or type another amount in yuan.</source>
        <translation>或输入其他金额（元）。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="79"/>
        <source>Amount: %1</source>
        <translation>金额：%1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="80"/>
        <source>%1 is less than the smallest top-up, %2.</source>
        <translation>%1 低于最低充值金额 %2。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="81"/>
        <source>%1 is more than the largest top-up, %2.</source>
        <translation>%1 超过最高充值金额 %2。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="92"/>
        <source>Next: choose how to pay</source>
        <translation>下一步：选择支付方式</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="98"/>
        <source>Top-ups are unavailable while the kiosk cannot reach the management office.</source>
        <translation>本终端暂时无法连接物业管理处，暂停充值。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="106"/>
        <source>Another amount (%1 to %2):</source>
        <translation>其他金额（%1 至 %2）：</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="133"/>
        <source>Top up %1. How would you like to pay?</source>
        <translation>充值 %1，请选择支付方式：</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="155"/>
        <source>Asking %1 for a QR code…</source>
        <translation>正在向%1获取二维码…</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="166"/>
        <source>The receipt printer is out of paper right now.</source>
        <translation>小票打印机现在缺纸。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="167"/>
        <source>The receipt printer is not working right now.</source>
        <translation>小票打印机现在无法使用。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="168"/>
        <source>You can still top up: the payment is credited as usual, and you can print the receipt later under Recharges.</source>
        <translation>仍可正常充值，付款照常到账，稍后可在“充值记录”中补打小票。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="174"/>
        <source>The connection to the management office was interrupted. Nothing was charged. Tap the same payment method to try again.</source>
        <translation>与物业管理处的连接中断，未产生任何扣款。请再次点击同一支付方式重试。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="175"/>
        <source>The top-up could not be started (%1). Nothing was charged.</source>
        <translation>无法发起充值（%1），未产生任何扣款。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="217"/>
        <source>Preparing the QR code…</source>
        <translation>正在生成二维码…</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="242"/>
        <source>Scan the code with %1 on your phone and pay.</source>
        <translation>请用手机%1扫码付款。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="251"/>
        <source>Waiting for payment… %1 left</source>
        <translation>等待付款… 剩余 %1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="261"/>
        <location filename="../screens/tenant/TopUpScreen.qml" line="332"/>
        <source>Receipt %1</source>
        <translation>单号 %1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="271"/>
        <source>Cancel this top-up</source>
        <translation>取消本次充值</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="290"/>
        <source>Payment received. Thank you!</source>
        <translation>付款成功，谢谢！</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="300"/>
        <source>New balance: %1</source>
        <translation>当前余额：%1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="311"/>
        <source>Power restored.</source>
        <translation>已恢复供电。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="312"/>
        <source>Turning your power back on… this takes up to a minute.</source>
        <translation>正在恢复供电… 最多需要一分钟。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="323"/>
        <source>This payment arrived after the QR code closed; it has been credited all the same.</source>
        <translation>这笔付款在二维码关闭后才到账，已照常入账。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="346"/>
        <location filename="../screens/tenant/TopUpScreen.qml" line="403"/>
        <source>Back to my account</source>
        <translation>返回我的账户</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="366"/>
        <source>The QR code expired before a payment arrived.</source>
        <translation>二维码已过期，未收到付款。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="367"/>
        <source>The payment was not completed.</source>
        <translation>付款未完成。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="368"/>
        <source>The payment could not be matched to this top-up.</source>
        <translation>这笔付款与本次充值不符。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="369"/>
        <source>The payment provider has not answered yet.</source>
        <translation>支付平台尚未答复。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="370"/>
        <source>The top-up did not go through.</source>
        <translation>充值未成功。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="383"/>
        <source>The management office has been told and will contact you. Nothing more is needed from you now.</source>
        <translation>已通知物业管理处，他们会与您联系。您现在无需再操作。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="384"/>
        <source>Nothing was charged. You can try again, with another payment method if you like.</source>
        <translation>未产生任何扣款。您可以重试，也可以换一种支付方式。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="385"/>
        <source>If you did pay, the money is not lost: it will show on your account within a few minutes. If you did not, you can start a new top-up.</source>
        <translation>如果您已付款，钱不会丢失，几分钟内会显示在您的账户上。如果没有付款，可以重新充值。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="396"/>
        <source>Questions? Call the management office: %1</source>
        <translation>如有疑问，请致电物业管理处：%1</translation>
    </message>
    <message>
        <location filename="../screens/tenant/TopUpScreen.qml" line="410"/>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
</context>
<context>
    <name>UsageScreen</name>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="24"/>
        <source>Usage</source>
        <translation>用电情况</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="38"/>
        <source>Last 31 days</source>
        <translation>近 31 天</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="44"/>
        <source>Last 12 months</source>
        <translation>近 12 个月</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="52"/>
        <source>Total: %1 · %2</source>
        <translation>合计：%1 · %2</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="67"/>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="67"/>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="74"/>
        <source>An empty outline is a month without meter readings (a gap, not zero use).</source>
        <translation>空心框表示该月没有抄表数据（是缺数，不是零用电）。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="75"/>
        <source>An empty outline is a day without meter readings (a gap, not zero use).</source>
        <translation>空心框表示当天没有抄表数据（是缺数，不是零用电）。</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="90"/>
        <source>Sharp</source>
        <translation>尖</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="91"/>
        <source>Peak</source>
        <translation>峰</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="92"/>
        <source>Flat</source>
        <translation>平</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="93"/>
        <source>Valley</source>
        <translation>谷</translation>
    </message>
    <message>
        <location filename="../screens/tenant/UsageScreen.qml" line="108"/>
        <source>%1: %2 (%3%)</source>
        <translation>%1：%2（%3%）</translation>
    </message>
</context>
<context>
    <name>Words</name>
    <message>
        <location filename="../components/Words.qml" line="9"/>
        <source>Alipay</source>
        <translation>支付宝</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="10"/>
        <source>WeChat Pay</source>
        <translation>微信支付</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="11"/>
        <source>UnionPay</source>
        <translation>云闪付</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="12"/>
        <source>Cash at the office</source>
        <translation>管理处现金</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="19"/>
        <source>Power on</source>
        <translation>供电中</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="20"/>
        <source>Power off</source>
        <translation>已断电</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="21"/>
        <source>Power state unknown</source>
        <translation>供电状态未知</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="27"/>
        <source>Credited</source>
        <translation>已入账</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="28"/>
        <source>Partly refunded</source>
        <translation>部分退款</translation>
    </message>
    <message>
        <location filename="../components/Words.qml" line="29"/>
        <source>Refunded</source>
        <translation>已退款</translation>
    </message>
</context>
</TS>
