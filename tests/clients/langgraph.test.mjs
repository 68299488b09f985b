// A LangGraph.js agent (StateGraph + ToolNode, ChatOpenAI pointed at switchyard through
// configuration.baseURL) that calls tools over several turns, then answers. The model is a tiny random
// one, so the graph asks for a tool call while it still has work (tool_choice "required": the grammar makes
// every call schema-valid) and for a plain answer at the end (tool_choice "none"). Tool requests go through
// the gateway, which sends them to its fallback (threshold 1.0): the client cannot tell.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { GATEWAY_URL } from "./env.mjs";

const created = [];
const createTask = tool(
  async ({ title, priority }) => {
    created.push({ title, priority });
    return JSON.stringify({ id: created.length, title, priority });
  },
  {
    name: "create_task",
    description: "Create a new task on the user's list.",
    schema: z.object({ title: z.string().max(40), priority: z.enum(["low", "medium", "high"]) }),
  },
);
const listTasks = tool(async () => JSON.stringify(created), {
  name: "list_tasks",
  description: "List the user's tasks.",
  schema: z.object({ status: z.enum(["open", "done", "all"]) }),
});
const tools = [createTask, listTasks];

const llm = new ChatOpenAI({
  model: "router",
  apiKey: "unused",
  temperature: 0,
  maxTokens: 48,
  maxRetries: 0,
  configuration: { baseURL: `${GATEWAY_URL}/v1` },
});
const TOOL_TURNS = 3;

async function agent(state) {
  const done = state.messages.filter((m) => m instanceof ToolMessage).length;
  const model = done < TOOL_TURNS ? llm.bindTools(tools, { tool_choice: "required", parallel_tool_calls: false }) : llm.bindTools(tools, { tool_choice: "none" });
  return { messages: [await model.invoke(state.messages)] };
}

const graph = new StateGraph(MessagesAnnotation)
  .addNode("agent", agent)
  .addNode("tools", new ToolNode(tools))
  .addEdge(START, "agent")
  .addConditionalEdges("agent", (s) => (s.messages.at(-1).tool_calls?.length ? "tools" : END))
  .addEdge("tools", "agent")
  .compile();

test("LangGraph agent calls tools over several turns, then answers", async () => {
  const out = await graph.invoke(
    { messages: [new HumanMessage("Plan my week: add three tasks, then show me the list.")] },
    { recursionLimit: 20 },
  );
  const toolResults = out.messages.filter((m) => m instanceof ToolMessage);
  assert.equal(toolResults.length, TOOL_TURNS, out.messages.map((m) => m.getType()).join(","));
  for (const r of toolResults) assert.ok(!/error/i.test(String(r.content)), String(r.content));
  const calls = out.messages.filter((m) => m instanceof AIMessage).flatMap((m) => m.tool_calls ?? []);
  assert.ok(calls.length >= TOOL_TURNS);
  for (const c of calls) assert.ok(["create_task", "list_tasks"].includes(c.name), c.name);
  const last = out.messages.at(-1);
  assert.ok(last instanceof AIMessage);
  assert.equal((last.tool_calls ?? []).length, 0);
  assert.equal(typeof last.content, "string");
});
