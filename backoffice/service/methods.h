// The handlers of the API's methods, bound to the dispatcher by area. Each handler trusts what
// the dispatcher already checked (caller allowed, params valid against the schema in
// api/methods.cpp) and checks what only the data can tell (a taken login, a wrong code). Every
// staff action writes its audit row in the transaction of the action itself.
#pragma once

namespace prepay::service {

class Dispatcher;
struct ServiceContext;

void bindSystemMethods(Dispatcher &dispatcher, ServiceContext &context);
void bindSessionMethods(Dispatcher &dispatcher, ServiceContext &context);
void bindOperatorMethods(Dispatcher &dispatcher, ServiceContext &context);
void bindKioskMethods(Dispatcher &dispatcher, ServiceContext &context);
void bindAuditMethods(Dispatcher &dispatcher, ServiceContext &context);
void bindSyncMethods(Dispatcher &dispatcher, ServiceContext &context);
void bindMoneyMethods(Dispatcher &dispatcher, ServiceContext &context);
// account.list, account.get, account.usage (reads for staff; accountmethods.cpp).
void bindAccountMethods(Dispatcher &dispatcher, ServiceContext &context);
// import.csv and export.csv (backoffice/catalog: the CSV rules of docs/import.md).
void bindImportMethods(Dispatcher &dispatcher, ServiceContext &context);

// topup.create, topup.get, topup.cancel (topupmethods.cpp: QR top-ups through backoffice/payments).
void bindTopUpMethods(Dispatcher &dispatcher, ServiceContext &context);
// refund.request, refund.get (refundmethods.cpp: refunds to the payer through the provider).
void bindRefundMethods(Dispatcher &dispatcher, ServiceContext &context);
// payments.findings (reconcilemethods.cpp: what the daily reconciliation found).
void bindReconcileMethods(Dispatcher &dispatcher, ServiceContext &context);
// receipt.get, receipt.verify (receiptmethods.cpp: receipt facts and their QR's verification string,
// backoffice/receipts).
void bindReceiptMethods(Dispatcher &dispatcher, ServiceContext &context);
// kiosk.profile, account.set_pin, kiosk.check_pin, kiosk.recharges, kiosk.report (tenantmethods.cpp:
// what the kiosk's tenant screens need besides the directory feed).
void bindTenantMethods(Dispatcher &dispatcher, ServiceContext &context);

// Sends every subscribed connection the directory events past its cursor (events.directory
// notifications, pages of at most 5,000). The Service calls it after each refresh.
void pushDirectoryEvents(ServiceContext &context);

// Sends the top-up's events.topup notification to the connections following it (those that
// created or asked about it, and every connection of the kiosk that created it).
void pushTopUpEvent(ServiceContext &context, qint64 attemptId);

// Every area at once (what prepayd and the tests compose).
void bindAllMethods(Dispatcher &dispatcher, ServiceContext &context);

} // namespace prepay::service
