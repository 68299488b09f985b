// The `ollama` package against switchyard's Ollama-compatible API: list/show, chat (streamed and not),
// tools with object arguments, format "json" and a JSON Schema.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Ollama } from "ollama";
import { LOCAL_URL, TOOLS, TOOL_NAMES } from "./env.mjs";

const ollama = new Ollama({ host: LOCAL_URL });
const user = (content) => [{ role: "user", content }];

test("list and show", async () => {
  const { models } = await ollama.list();
  assert.ok(models.some((m) => m.name === "router"), JSON.stringify(models));
  const info = await ollama.show({ model: "router" });
  assert.ok(info.capabilities.includes("tools"));
});

test("chat, streamed and not", async () => {
  const req = { model: "responder", messages: user("Hi there"), options: { temperature: 0, num_predict: 8 } };
  const whole = await ollama.chat(req);
  assert.equal(whole.done, true);
  assert.equal(whole.message.role, "assistant");
  let text = "";
  let last = null;
  for await (const part of await ollama.chat({ ...req, stream: true })) {
    text += part.message.content;
    last = part;
  }
  assert.equal(last.done, true);
  assert.equal(text, whole.message.content);
});

test("chat with tools: calls carry object arguments", async () => {
  // tool_choice and parallel_tool_calls are switchyard extensions of the Ollama API: one call, required.
  const r = await ollama.chat({
    model: "router", messages: user("Add a task: renew passport."), tools: TOOLS, tool_choice: "required", parallel_tool_calls: false,
    options: { num_predict: 64 }, keep_alive: "10m",
  });
  const calls = r.message.tool_calls ?? [];
  assert.ok(calls.length >= 1, JSON.stringify(r.message));
  assert.ok(TOOL_NAMES.includes(calls[0].function.name));
  assert.equal(typeof calls[0].function.arguments, "object");
  // The call goes back as history with a tool result.
  const next = await ollama.chat({
    model: "router", tools: TOOLS, options: { num_predict: 8 },
    messages: [...user("Add a task: renew passport."), r.message, { role: "tool", content: '{"ok":true}', tool_name: calls[0].function.name }],
  });
  assert.equal(next.done, true);
});

test("format: json and a JSON Schema", async () => {
  const schema = { type: "object", properties: { city: { type: "string", maxLength: 10 }, big: { type: "boolean" } }, required: ["city", "big"] };
  const r = await ollama.chat({ model: "responder", messages: user("A city?"), format: schema, options: { num_predict: 64 } });
  const v = JSON.parse(r.message.content);
  assert.equal(typeof v.city, "string");
  assert.equal(typeof v.big, "boolean");
  const j = await ollama.generate({ model: "responder", prompt: "JSON please", format: "json", options: { num_predict: 48 } });
  if (j.done_reason === "stop") assert.equal(typeof JSON.parse(j.response), "object");
});
