/**
 * The saga's stream consumers, by the names they park under (`parked#<name>`, serverless.yml's grants): a module of
 * its own, so the ops commands that read those names load none of the consumers' code.
 */
export const sagaConsumers = ['startSaga', 'compensateCancellation'] as const;
export type SagaConsumer = (typeof sagaConsumers)[number];
