// The grammar layer's public surface in one include: JSON Schema and tool-call grammars (compiled once,
// tokenizer-independent), a vocabulary table, matchers that produce per-step token masks, the compiled-
// grammar cache, confidence tracking and the tool-call output parser. See docs/grammar.md.
//
// Typical engine loop:
//   auto tokens  = TokenTable::from_vocab(tokenizer.vocab());
//   auto grammar = compile_tool_grammar(tools, tool_choice, parallel);        // or compile_json_schema(s)
//   GrammarMatcher m(std::make_shared<CompiledGrammar>(grammar, tokens));       // or via GrammarCache
//   std::vector<uint32_t> mask(mask_words(tokens->n_tokens()));
//   while (!m.is_terminated()) {
//       jump_forward(m, encode);                 // optional: append forced tokens without a model call
//       m.fill_mask(mask.data());
//       masked_softmax(logits, n_vocab, mask.data(), mask.size(), probs);     // sample from probs
//       m.accept_token(id); tracker.feed(id, probs[id], m.last_step_tags());
//   }
#pragma once

#include "common/error.h"
#include "grammar/automaton.h"
#include "grammar/cache.h"
#include "grammar/confidence.h"
#include "grammar/matcher.h"
#include "grammar/schema.h"
#include "grammar/tool_call.h"
