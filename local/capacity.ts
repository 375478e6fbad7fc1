/**
 * Item sizes and write units as DynamoDB bills them. DynamoDB Local reports one charge per table for a whole
 * `TransactWriteItems` (2 units whatever the number of items under 1 KB, measured), where DynamoDB charges each
 * action, a `ConditionCheck` included, 2 write units per KB of its item, rounded up.
 */

/**
 * An attribute value as the SDK types it, or as the wire carries it: a binary is bytes in the one and base64 in the
 * other. The SDK's `AttributeValue` fits this shape.
 */
export type AttributeValue = {
  S?: string;
  N?: string;
  B?: Uint8Array | string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: (Uint8Array | string)[];
  L?: AttributeValue[];
  M?: Record<string, AttributeValue>;
};
type Item = Record<string, AttributeValue>;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
const binaryBytes = (value: Uint8Array | string) =>
  typeof value === 'string' ? Buffer.from(value, 'base64').length : value.length;

/** A number's size as DynamoDB counts it: about one byte per two significant digits, plus one. */
const numberBytes = (text: string) => {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
};

/**
 * The size of one attribute value, by DynamoDB's rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html): UTF-8 bytes of
 * a string, 1 byte per two significant digits of a number plus 1, the bytes of a binary, 1 for a boolean or null,
 * and 3 bytes plus 1 per element for a list or map.
 */
export const valueBytes = (value: AttributeValue): number => {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return binaryBytes(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS) return value.BS.reduce((sum, b) => sum + binaryBytes(b), 0);
  if (value.L) return 3 + value.L.reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueBytes(v), 0);
  return 0;
};

/** The size of an item: each attribute's name and value. */
export const itemBytes = (item: Item): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);

type TransactItem = {
  Put?: { TableName: string; Item: Item };
  Update?: { TableName: string; Key: Item; ExpressionAttributeValues?: Item };
  Delete?: { TableName: string; Key: Item };
  ConditionCheck?: { TableName: string; Key: Item };
};

/** The table an action writes and the bytes it is billed for. */
const sized = ({ Put, Update, Delete, ConditionCheck }: TransactItem): [string, number] | undefined => {
  if (Put) return [Put.TableName, itemBytes(Put.Item)];
  if (Update) return [Update.TableName, itemBytes(Update.Key) + itemBytes(Update.ExpressionAttributeValues ?? {})];
  if (Delete) return [Delete.TableName, itemBytes(Delete.Key)];
  if (ConditionCheck) return [ConditionCheck.TableName, itemBytes(ConditionCheck.Key)];
  return undefined;
};

/**
 * Write units a `TransactWriteItems` request costs, by table: 2 per KB of each action's item, rounded up per action.
 * A `Put` is sized by its item. An `Update`, a `Delete` and a `ConditionCheck` are sized by what the request holds
 * (key and values), a lower bound of the stored item they touch, which is small for the balances and checks here.
 */
export const transactWriteUnits = (input: { TransactItems?: TransactItem[] }): Map<string, number> => {
  const units = new Map<string, number>();
  for (const action of input.TransactItems ?? []) {
    const [table, bytes] = sized(action) ?? [];
    if (table === undefined || bytes === undefined) continue;
    units.set(table, (units.get(table) ?? 0) + 2 * Math.max(1, Math.ceil(bytes / 1024)));
  }
  return units;
};

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/**
 * What a write DynamoDB refused on its condition still costs: it bills a failed conditional write its units all the
 * same (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html), by the larger
 * of the stored item and the new one; sized here by what the request holds, a lower bound. A transaction cancelled
 * on a condition is billed here as if it had committed: 2 units per KB of each action.
 */
export const refusedWriteUnits = (operation: string, input: Record<string, unknown>): Map<string, number> => {
  if (operation === 'TransactWriteItems') return transactWriteUnits(input as { TransactItems?: TransactItem[] });
  const { TableName, Item, Key, ExpressionAttributeValues } = input as {
    TableName?: string;
    Item?: Item;
    Key?: Item;
    ExpressionAttributeValues?: Item;
  };
  if (!TableName || !['PutItem', 'UpdateItem', 'DeleteItem'].includes(operation)) return new Map();
  const bytes = Item ? itemBytes(Item) : itemBytes(Key ?? {}) + itemBytes(ExpressionAttributeValues ?? {});
  return new Map([[TableName, writeUnits(bytes)]]);
};

/**
 * The least a read is billed, by table, where DynamoDB Local reports less: each key a `BatchGetItem` asks for costs a
 * read of at least one 4 KB unit (half of one, eventually consistent) even when no item is there, and so does a
 * `Query` or `Scan` that finds nothing (measured against DynamoDB Local, which charges both nothing).
 */
export const leastReadUnits = (
  operation: string,
  input: Record<string, unknown>,
  response: Record<string, unknown>,
): Map<string, number> => {
  const units = new Map<string, number>();
  const per = (consistent: unknown) => (consistent === true ? 1 : 0.5);
  if (operation === 'BatchGetItem') {
    const asked = (input.RequestItems ?? {}) as Record<string, { Keys?: Item[]; ConsistentRead?: boolean }>;
    const found = (response.Responses ?? {}) as Record<string, Item[]>;
    const unprocessed = (response.UnprocessedKeys ?? {}) as Record<string, { Keys?: Item[] }>;
    for (const [table, { Keys = [], ConsistentRead }] of Object.entries(asked)) {
      const items = found[table] ?? [];
      const missing = Keys.length - items.length - (unprocessed[table]?.Keys?.length ?? 0);
      const read = items.reduce((sum, item) => sum + Math.max(1, Math.ceil(itemBytes(item) / 4096)), 0);
      units.set(table, (read + Math.max(0, missing)) * per(ConsistentRead));
    }
  } else if ((operation === 'Query' || operation === 'Scan') && typeof input.TableName === 'string') {
    units.set(input.TableName, per(input.ConsistentRead));
  }
  return units;
};
