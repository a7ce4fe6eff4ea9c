/**
 * A process that starts DynamoDB Local, prints its endpoint and waits to be killed: for testing
 * that the JVM never outlives the process that started it.
 */
import { startDynamoDbLocal } from "#local/dynamodb-local.ts";

const dynamo = await startDynamoDbLocal();
console.log(dynamo.endpoint);
setInterval(() => undefined, 60_000);
