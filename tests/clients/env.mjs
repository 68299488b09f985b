// Where the servers under test listen, from the runner script (scripts/test-clients.sh):
//   SY_LOCAL_URL    a `switchyard serve` answering locally (tiny model in every role)
//   SY_GATEWAY_URL  a `switchyard serve` with threshold 1.0 whose fallback is SY_LOCAL_URL
import assert from "node:assert/strict";

export const LOCAL_URL = process.env.SY_LOCAL_URL;
export const GATEWAY_URL = process.env.SY_GATEWAY_URL;
assert.ok(LOCAL_URL, "SY_LOCAL_URL is not set: run scripts/test-clients.sh");
assert.ok(GATEWAY_URL, "SY_GATEWAY_URL is not set: run scripts/test-clients.sh");

// The example task-agent tools in the OpenAI tools format.
export const TOOLS = [
  {
    type: "function",
    function: {
      name: "create_task",
      description: "Create a new task on the user's list.",
      parameters: {
        type: "object",
        properties: {
          title: { type: "string", maxLength: 40 },
          priority: { type: "string", enum: ["low", "medium", "high"] },
        },
        required: ["title", "priority"],
        additionalProperties: false,
      },
    },
  },
  {
    type: "function",
    function: {
      name: "complete_task",
      description: "Mark a task as done.",
      parameters: {
        type: "object",
        properties: { id: { type: "integer", minimum: 1, maximum: 999 } },
        required: ["id"],
        additionalProperties: false,
      },
    },
  },
];
export const TOOL_NAMES = TOOLS.map((t) => t.function.name);
