import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { validatePurchaseMessage } from '@loyalty/domain';
import type { TopicNames } from '@loyalty/kafka';
import { RequiresRole } from '../../auth/api-key.guard';
import { apiError } from '../../common/error.filter';
import { KafkaPublisher } from '../../infrastructure/infrastructure.module';
import { TOPICS } from '../../infrastructure/tokens';

/** POST /v1/purchases: the same object as the inbound topic, validated by the same rules, 202 once on the topic. */
@Controller('v1/purchases')
export class PublishPurchaseController {
  constructor(
    private readonly publisher: KafkaPublisher,
    @Inject(TOPICS) private readonly topics: TopicNames,
  ) {}

  @Post()
  @HttpCode(202)
  @RequiresRole('writer')
  async publish(@Body() body: unknown): Promise<{ accepted: true; kind: string; purchaseId: string; refundId?: string }> {
    const verdict = validatePurchaseMessage(body);
    if (!verdict.ok) throw apiError(400, verdict.reason, verdict.message, verdict.details);
    const { data } = verdict.command;
    const producer = await this.publisher.get().catch(() => {
      throw apiError(503, 'unavailable', 'the event broker is not reachable; retry later');
    });
    await producer.send({
      topic: this.topics.purchases,
      acks: -1,
      messages: [{ key: data.memberId, value: JSON.stringify(body) }],
    });
    return {
      accepted: true,
      kind: verdict.command.type === 'RefundPurchase' ? 'refund' : 'purchase',
      purchaseId: data.purchaseId,
      ...(verdict.command.type === 'RefundPurchase' ? { refundId: verdict.command.data.refundId } : {}),
    };
  }
}
