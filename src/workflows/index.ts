// The workflow bundle's entry point: every workflow type the worker registers.
export { PaymentWorkflow } from './payment';
export { MerchantQrCodeWorkflow } from './qrcode';
export { ReconciliationWorkflow, DailyReconciliationWorkflow } from './reconciliation';
