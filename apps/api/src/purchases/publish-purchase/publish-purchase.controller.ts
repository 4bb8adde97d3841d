import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import { LIMITS, validatePurchaseMessage } from '@loyalty/domain';
import type { TopicNames } from '@loyalty/kafka';
import { apiError } from '../../common/error.filter';
import { NoQuery, PurchaseBody } from '../../common/request.dto';
import { PurchaseAccepted } from '../../common/response.dto';
import { Route } from '../../common/route.decorator';
import { KafkaPublisher } from '../../infrastructure/infrastructure.module';
import { TOPICS } from '../../infrastructure/tokens';

/**
 * POST /v1/purchases: the same object as the inbound topic, checked by the DTO (unknown
 * fields refused over HTTP) and by the ingest's own validator (the same rules, so nothing
 * accepted here is dead-lettered as invalid later), 202 once on the topic.
 */
@ApiTags('purchases')
@Controller('v1/purchases')
export class PublishPurchaseController {
  constructor(
    private readonly publisher: KafkaPublisher,
    @Inject(TOPICS) private readonly topics: TopicNames,
  ) {}

  @Post()
  @HttpCode(202)
  @Route('writer', 'Publish a purchase or refund to loyalty.purchases', {
    errors: [413, 503],
    description: 'The same object as the inbound topic (CONTRACT). 202 once it is on the topic; the ledger decides it asynchronously (a repeat is a no-op).',
  })
  @ApiBody({ type: PurchaseBody })
  @ApiResponse({ status: 202, type: PurchaseAccepted })
  async publish(@Body() body: PurchaseBody, @NoQuery() _q: object): Promise<PurchaseAccepted> {
    const verdict = validatePurchaseMessage(body);
    if (!verdict.ok) throw apiError(400, 'invalid_request', verdict.message, verdict.details);
    const value = JSON.stringify(body);
    if (Buffer.byteLength(value) > LIMITS.messageMaxBytes) {
      throw apiError(413, 'payload_too_large', `a purchase message is at most ${LIMITS.messageMaxBytes} bytes`);
    }
    const { data } = verdict.command;
    await this.publisher.send(this.topics.purchases, { key: data.memberId, value }).catch(() => {
      throw apiError(503, 'unavailable', 'the purchase could not be published (is the broker reachable?); retry (a repeat is a no-op)');
    });
    return {
      accepted: true,
      kind: verdict.command.type === 'RefundPurchase' ? 'refund' : 'purchase',
      purchaseId: data.purchaseId,
      ...(verdict.command.type === 'RefundPurchase' ? { refundId: verdict.command.data.refundId } : {}),
    };
  }
}
