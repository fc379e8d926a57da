import express, { Router } from 'express';
import { verifyDeliveryStatusToken } from '../../send-gate/delivery-status.js';
import { DELIVERY_STATUS_RANK } from '../../store/messages.store.js';
import type { Store } from '../../store/index.js';
import { ApiError } from '../errors.js';

const STATUSES = Object.keys(DELIVERY_STATUS_RANK);

/**
 * Where providers report a message's delivery status: the `StatusCallback` URL the send gate
 * hands a channel node (`POST /v1/deliveries/<token>/status`, Twilio's form-encoded
 * `MessageSid`, `MessageStatus`, `ErrorCode`; JSON is accepted too). Mounted outside the API
 * key check, since a provider cannot send our key: the signed token, naming the workspace,
 * contact and message, is the authentication.
 */
export function deliveriesRoutes(store: Store, secret: string): Router {
  const router = Router();
  const bodies = [express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' })];

  router.post('/v1/deliveries/:token/status', ...bodies, async (req, res) => {
    const claims = verifyDeliveryStatusToken(req.params.token ?? '', secret);
    if (!claims) throw new ApiError(401, 'UNAUTHORIZED', 'This status callback URL is invalid or damaged');

    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const field = (...names: string[]) => {
      for (const name of names) if (typeof body[name] === 'string' && body[name] !== '') return body[name] as string;
      return null;
    };
    const status = field('MessageStatus', 'SmsStatus')?.toLowerCase() ?? null;
    if (!status) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'MessageStatus is missing: send the status form-encoded, e.g. MessageSid=SM...&MessageStatus=delivered');
    }
    if (!Object.hasOwn(DELIVERY_STATUS_RANK, status)) {
      throw new ApiError(400, 'VALIDATION_FAILED', `MessageStatus "${status.slice(0, 40)}" is not one of ${STATUSES.join(', ')}`);
    }
    const providerMessageId = field('MessageSid', 'SmsSid');
    if (providerMessageId !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(providerMessageId)) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'MessageSid must be 1 to 64 letters, digits, "-" or "_"');
    }
    const errorCode = field('ErrorCode');
    if (errorCode !== null && !/^[A-Za-z0-9_.-]{1,32}$/.test(errorCode)) {
      throw new ApiError(400, 'VALIDATION_FAILED', 'ErrorCode must be 1 to 32 letters, digits, ".", "-" or "_"');
    }

    const result = await store.messages.recordDeliveryReport(claims.w, claims.c, claims.m, { status, providerMessageId, errorCode });
    if (result === 'contact-gone') throw new ApiError(404, 'NOT_FOUND', 'The message of this status callback no longer exists (its contact was erased)');
    // `ignored` (a message flooded with reports) still answers 204: a provider must not retry it.
    res.status(204).end();
  });

  return router;
}
