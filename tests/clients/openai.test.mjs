// The official `openai` package against switchyard: models, chat, streaming, tools (plain and streamed),
// json_schema, the fallback header, and typed errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import { GATEWAY_URL, LOCAL_URL, TOOLS, TOOL_NAMES } from "./env.mjs";

const local = new OpenAI({ baseURL: `${LOCAL_URL}/v1`, apiKey: "unused", maxRetries: 0 });
const gateway = new OpenAI({ baseURL: `${GATEWAY_URL}/v1`, apiKey: "unused", maxRetries: 0 });
const user = (content) => [{ role: "user", content }];

test("models.list names the local model and the role aliases", async () => {
  const ids = [];
  for await (const m of local.models.list()) ids.push(m.id);
  assert.ok(ids.includes("router"), ids.join(","));
  assert.ok(ids.includes("responder"), ids.join(","));
});

test("chat completion", async () => {
  const r = await local.chat.completions.create({ model: "responder", messages: user("Hello!"), max_tokens: 8, temperature: 0 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  assert.equal(typeof r.choices[0].message.content, "string");
  assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
});

test("streaming chat equals the non-streamed text, with usage", async () => {
  const req = { model: "responder", messages: user("Tell me a story."), max_tokens: 12, temperature: 0, seed: 1 };
  const whole = await local.chat.completions.create(req);
  const stream = await local.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? "";
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.ok(["stop", "length"].includes(finish));
  assert.ok(usage && usage.completion_tokens >= 0 && usage.prompt_tokens > 0);
});

test("tools: required tool_choice gives a schema-valid call", async () => {
  const r = await local.chat.completions.create({
    model: "router", messages: user("Add a task: water the plants."), tools: TOOLS, tool_choice: "required", parallel_tool_calls: false, max_tokens: 64,
  });
  const call = r.choices[0].message.tool_calls[0];
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.ok(TOOL_NAMES.includes(call.function.name));
  const args = JSON.parse(call.function.arguments);
  if (call.function.name === "create_task") assert.ok(["low", "medium", "high"].includes(args.priority));
  else assert.ok(Number.isInteger(args.id));
});

test("tools: streamed tool-call deltas accumulate through the SDK helper", async () => {
  const stream = local.chat.completions.stream({
    model: "router", messages: user("Complete task 4."), tools: TOOLS,
    tool_choice: { type: "function", function: { name: "complete_task" } }, max_tokens: 48,
  });
  const final = await stream.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, "complete_task");
  assert.ok(Number.isInteger(JSON.parse(call.function.arguments).id));
  assert.match(call.id, /^call_/);
});

test("response_format json_schema (strict)", async () => {
  const r = await local.chat.completions.create({
    model: "responder", messages: user("Describe a fruit."), max_tokens: 64,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "fruit", strict: true,
        schema: { type: "object", properties: { name: { type: "string", maxLength: 12 }, sweet: { type: "boolean" } },
                  required: ["name", "sweet"], additionalProperties: false },
      },
    },
  });
  const v = JSON.parse(r.choices[0].message.content);
  assert.equal(typeof v.name, "string");
  assert.equal(typeof v.sweet, "boolean");
});

test("low confidence is served by the fallback server, and the header says so", async () => {
  const { data, response } = await gateway.chat.completions
    .create({ model: "router", messages: user("Add a task: call the bank."), tools: TOOLS, tool_choice: "required", parallel_tool_calls: false, max_tokens: 64 })
    .withResponse();
  assert.equal(response.headers.get("x-switchyard-served-by"), "fallback");
  assert.equal(response.headers.get("x-switchyard-reason"), "low_confidence");
  assert.ok(TOOL_NAMES.includes(data.choices[0].message.tool_calls[0].function.name));
});

test("typed errors: unknown model is NotFound, bad input is BadRequest", async () => {
  await assert.rejects(local.chat.completions.create({ model: "gpt-9", messages: user("x") }), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(
    local.chat.completions.create({ model: "responder", messages: user("x"), temperature: 7 }),
    (e) => e instanceof OpenAI.BadRequestError && /temperature/.test(e.message),
  );
});
