/**
 * What DynamoDB bills a `TransactWriteItems`, item by item, from the request in its wire form. DynamoDB Local
 * reports one charge per table for a whole transaction (2 units whatever the number of items under 1 KB, measured),
 * where DynamoDB charges each action, a `ConditionCheck` included, 2 write units per KB of its item, rounded up.
 */

/** An attribute value in DynamoDB's JSON wire form (`{"S": "…"}`, `{"M": {…}}`, …). */
type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** A number's size as DynamoDB counts it: about one byte per two significant digits, plus one. */
const numberBytes = (text: string) => {
  const digits = text.replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
};

/** The size of one attribute value, by DynamoDB's rules ("Item sizes and formats" in its developer guide). */
export const valueBytes = (value: AttributeValue): number => {
  const [[type, inner] = ['NULL', true]] = Object.entries(value);
  switch (type) {
    case 'S':
      return utf8(String(inner));
    case 'N':
      return numberBytes(String(inner));
    case 'B':
      return Buffer.from(String(inner), 'base64').length;
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (inner as string[]).reduce((sum, s) => sum + utf8(s), 0);
    case 'NS':
      return (inner as string[]).reduce((sum, n) => sum + numberBytes(n), 0);
    case 'BS':
      return (inner as string[]).reduce((sum, b) => sum + Buffer.from(b, 'base64').length, 0);
    case 'L':
      return 3 + (inner as AttributeValue[]).reduce((sum, element) => sum + 1 + valueBytes(element), 0);
    case 'M':
      return 3 + Object.entries(inner as Item).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueBytes(v), 0);
    default:
      return 0;
  }
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

/**
 * Write units a `TransactWriteItems` request costs, by table: 2 per KB of each action's item, rounded up per action.
 * A `Put` is sized by its item. An `Update`, a `Delete` and a `ConditionCheck` are sized by what the request holds
 * (key and values), a lower bound of the stored item they touch, which is small for the balances and guards here.
 */
export const transactWriteUnits = (input: { TransactItems?: TransactItem[] }): Map<string, number> => {
  const units = new Map<string, number>();
  for (const action of input.TransactItems ?? []) {
    const { Put, Update, Delete, ConditionCheck } = action;
    const [table, bytes] = Put
      ? [Put.TableName, itemBytes(Put.Item)]
      : Update
        ? [Update.TableName, itemBytes(Update.Key) + itemBytes(Update.ExpressionAttributeValues ?? {})]
        : Delete
          ? [Delete.TableName, itemBytes(Delete.Key)]
          : ConditionCheck
            ? [ConditionCheck.TableName, itemBytes(ConditionCheck.Key)]
            : ['', 0];
    if (!table) continue;
    units.set(table, (units.get(table) ?? 0) + 2 * Math.max(1, Math.ceil(bytes / 1024)));
  }
  return units;
};
