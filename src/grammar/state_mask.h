// Internal: the token walks behind the per-state mask cache (matcher.h describes the classification).
//
// Three walks, all over the byte-sorted vocabulary reusing the common prefix with the previous token:
//   compute_state_mask_generic — threads with a real stack (recursive grammars); the reference;
//   compute_state_mask_dfa     — the same result for a grammar without calls: one DFA state per depth;
//   classify_component         — the tokens of a "loop component" (see below), once per component shape.
//
// Loop components. The states inside a JSON string (the interior, its escape and UTF-8 continuation
// states) form a strongly connected component of the DFA that looks the same in every string of every
// schema; only where the closing quote leads differs. Such a state accepts ~all of a 150k vocabulary, so
// walking it per state costs milliseconds. Instead, the component is relabelled canonically (breadth
// first from the state, bytes in order; an edge leaving the component becomes "exit"), and the vocabulary
// is classified once per distinct shape:
//   dies inside the component           -> rejected for every state of that shape;
//   ends inside the component           -> accepted (one shared bitset);
//   leaves it at byte k from local q    -> an exit token: finished per concrete state by walking the rest
//                                          of its bytes from that state's own exit target.
// Example: state S of `"city":"<S>` and state S' of `"note":"<S'>` have the same shape; the token `abc`
// is in the shared bitset; `",` exits at byte 0 and is accepted from S only if `,` may follow the string.
// Any set of states would be correct (the shape decides everything up to the exit); a short loop is what
// makes the shapes of different strings equal. A component qualifies when none of its states has calls or
// may pop an unknown stack (a final state of a called rule).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "grammar/matcher.h"

namespace sy::grammar::detail {

StateMask compute_state_mask_generic(const Grammar & g, const TokenTable & tokens, int32_t state);
StateMask compute_state_mask_dfa(const Grammar & g, const TokenTable & tokens, int32_t state);

// Canonical shape of a loop component: rows[local * 256 + byte] = local target, kShapeExit or kShapeDead.
constexpr int32_t kShapeExit = -1;
constexpr int32_t kShapeDead = -2;
constexpr int32_t kMaxComponentStates = 64;

struct ComponentExit {
    uint32_t index = 0;  // position in TokenTable::sorted()
    uint16_t at = 0;     // index of the byte that leaves the component
    uint16_t local = 0;  // local state it leaves from
};

struct ComponentClass {
    std::vector<int32_t> rows;                        // the shape (the key)
    uint64_t hash = 0;                                // shape_hash(rows)
    std::shared_ptr<const std::vector<uint32_t>> words;  // tokens that end inside the component
    int32_t n_accepted = 0;
    std::vector<ComponentExit> exits;                 // in vocabulary walk order
};

uint64_t shape_hash(const std::vector<int32_t> & rows);
ComponentClass classify_component(std::vector<int32_t> rows, const TokenTable & tokens);

// The mask of a concrete state of a classified component; local_to_state[local] = that state's DFA state.
StateMask component_state_mask(const Grammar & g, const TokenTable & tokens, const ComponentClass & cls,
                               const std::vector<int32_t> & local_to_state);

// The loop component of `state`: the states reachable from it, and from which it is reachable again, in at
// most kLoopBytes bytes each way (a JSON string's interior with its escapes and UTF-8 sequences; the
// closing quote leads out). `succ` = distinct byte successors per state (CSR: succ_begin[s]..[s+1]).
// Empty when the state is on no such loop.
constexpr int32_t kLoopBytes = 8;
// `slot` is scratch of n_states entries, all -1 (left so on return).
std::vector<int32_t> loop_component(int32_t state, const std::vector<uint32_t> & succ_begin,
                                    const std::vector<int32_t> & succ, std::vector<int32_t> & slot);

}  // namespace sy::grammar::detail
