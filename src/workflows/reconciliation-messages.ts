import { defineQuery } from '@temporalio/workflow';
import type { ReconciliationReport } from './reconciliation-types';

/** The day's report so far (counts, discrepancies, actions); the workflow's result once done. */
export const reconciliationReportQuery = defineQuery<ReconciliationReport>('report');
