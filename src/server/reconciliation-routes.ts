import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../client-errors';
import type { PaymentEngineClient } from '../client';
import { ReconciliationRuns } from '../reconciliation/runs';
import { reconciliationWorkflowId } from '../workflows/reconciliation-types';

interface DateParams {
  date: string;
}

/**
 * Reconciliation of the merchant API: a GMT+8 day's report against Alipay's files, and an
 * on-demand run.
 *
 * - `GET /v1/reconciliation/:date`: the day's latest report (in progress or done); 404 if never run.
 * - `POST /v1/reconciliation/:date` (`?wait=true` answers the report when done, else 202):
 *   body `{"waitForFilesMinutes"?, "graceMinutes"?}`; a run in progress for the day is joined.
 */
export async function reconciliationRoutes(
  app: FastifyInstance,
  engine: PaymentEngineClient,
  taskQueue: string,
): Promise<void> {
  const runs = new ReconciliationRuns(engine.temporal, engine.partnerId, taskQueue);

  app.get<{ Params: DateParams }>('/v1/reconciliation/:date', async (req, reply) => {
    const report = await runs.get(req.params.date);
    if (!report)
      return reply.code(404).send({
        error: { code: 'NOT_FOUND', message: `no reconciliation of ${req.params.date} yet` },
      });
    return report;
  });

  app.post<{ Params: DateParams; Querystring: { wait?: string } }>(
    '/v1/reconciliation/:date',
    async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body !== 'object' || Array.isArray(body))
        throw new InvalidRequestError('body', 'must be a JSON object');
      const minutes = (field: string): number | undefined => {
        const v = body[field];
        if (v === undefined) return undefined;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 14 * 24 * 60)
          throw new InvalidRequestError(field, 'must be a whole number of minutes');
        return v * 60_000;
      };
      const fileDeadlineMs = minutes('waitForFilesMinutes');
      const graceMs = minutes('graceMinutes');
      const wait = req.query.wait === 'true';
      const run = await runs.start(req.params.date, {
        wait,
        ...(fileDeadlineMs !== undefined ? { fileDeadlineMs } : {}),
        ...(graceMs !== undefined ? { graceMs } : {}),
      });
      if (run.report) return run.report;
      return reply.code(202).send({
        workflowId: reconciliationWorkflowId(engine.partnerId, req.params.date),
        runId: run.runId,
        links: { report: `/v1/reconciliation/${req.params.date}` },
      });
    },
  );
}
