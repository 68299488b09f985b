// The token walks behind the per-state mask cache: generic (threads and stacks), plain DFA, and the shared
// classification of loop components (see state_mask.h for the idea and a worked example).
#include "grammar/state_mask.h"

#include <algorithm>

#include "common/error.h"

namespace sy::grammar::detail {

namespace {

enum Verdict : uint8_t { Verdict_reject, Verdict_accept, Verdict_uncertain };

// Stores `accepted` as an id list when sparse, as a bitset when dense.
void store_accepted(StateMask & out, std::vector<TokenId> accepted, int32_t n_tokens) {
    out.n_accepted += (int32_t)accepted.size();
    int32_t n_words = mask_words(n_tokens);
    if ((int32_t)accepted.size() * 4 > n_words) {
        out.dense = true;
        out.words.assign(n_words, 0);
        for (TokenId id : accepted) out.words[id >> 5] |= 1u << (id & 31);
    } else {
        out.accepted = std::move(accepted);
    }
}

}  // namespace

StateMask compute_state_mask_generic(const Grammar & g, const TokenTable & tokens, int32_t state) {
    const auto & sorted = tokens.sorted();
    const auto & lcp = tokens.lcp();
    const auto & fbb = tokens.first_byte_begin();
    size_t max_len = tokens.max_token_len();

    FrameArena fa;
    std::vector<std::vector<Thread>> level(max_len + 1);
    std::vector<uint8_t> esc(max_len + 1, 0);
    std::vector<size_t> arena_at(max_len + 1, 0);
    // A pop past the bottom before any byte is not an escape: the matcher's closed thread set already holds
    // the popped thread, whose own cache entry covers it.
    bool e0 = false;
    add_closed(g, fa, level[0], Thread{state, 0}, e0);
    esc[0] = 0;
    arena_at[0] = fa.size();

    StateMask out;
    std::vector<TokenId> accepted;
    auto emit = [&](TokenId id, Verdict v) {
        if (v == Verdict_accept) accepted.push_back(id);
        else if (v == Verdict_uncertain) out.uncertain.push_back(id);
    };

    for (int c = 0; c < 256; ++c) {
        size_t begin = fbb[c], end = fbb[c + 1];
        if (begin == end) continue;
        fa.truncate(arena_at[0]);
        bool e = false;
        step(g, fa, level[0], (uint8_t)c, level[1], e);
        esc[1] = esc[0] || e;
        arena_at[1] = fa.size();
        if (level[1].empty()) {
            if (esc[1])
                for (size_t i = begin; i < end; ++i) emit(sorted[i], Verdict_uncertain);
            continue;
        }
        size_t computed = 1;
        for (size_t i = begin; i < end; ++i) {
            const std::string_view b = tokens.sorted_bytes(i);
            size_t d = i == begin ? 1 : std::max<size_t>(1, std::min<size_t>(lcp[i], computed));
            fa.truncate(arena_at[d]);
            while (d < b.size() && !level[d].empty()) {
                bool ed = false;
                step(g, fa, level[d], (uint8_t)b[d], level[d + 1], ed);
                esc[d + 1] = esc[d] || ed;
                arena_at[d + 1] = fa.size();
                ++d;
            }
            computed = d;
            if (!level[d].empty()) {
                emit(sorted[i], Verdict_accept);
                continue;
            }
            // Dead at depth d: so is every following token sharing these d bytes.
            Verdict v = esc[d] ? Verdict_uncertain : Verdict_reject;
            emit(sorted[i], v);
            while (i + 1 < end && lcp[i + 1] >= d) emit(sorted[++i], v);
        }
    }
    store_accepted(out, std::move(accepted), tokens.n_tokens());
    return out;
}

// Without calls every state belongs to the entry rule and a thread is just a DFA state: accepted or
// rejected, never uncertain.
StateMask compute_state_mask_dfa(const Grammar & g, const TokenTable & tokens, int32_t state) {
    SY_ASSERT(!g.has_calls());
    const auto & sorted = tokens.sorted();
    const auto & lcp = tokens.lcp();
    const auto & fbb = tokens.first_byte_begin();
    const auto & sbb = tokens.second_byte_begin();
    std::vector<int32_t> level(tokens.max_token_len() + 1, Grammar::kDeadState);
    std::vector<TokenId> accepted;
    const int32_t * row0 = g.row(state);
    for (int c = 0; c < 256; ++c) {
        if (fbb[c] == fbb[c + 1] || row0[c] == Grammar::kDeadState) continue;
        const uint32_t * sb = &sbb[(size_t)c * 257];
        for (uint32_t i = fbb[c]; i < sb[0]; ++i) accepted.push_back(sorted[i]);  // one-byte tokens
        const int32_t * row1 = g.row(row0[c]);
        for (int c2 = 0; c2 < 256; ++c2) {
            size_t begin = sb[c2], end = sb[c2 + 1];
            if (begin == end || row1[c2] == Grammar::kDeadState) continue;
            level[2] = row1[c2];
            size_t computed = 2;
            for (size_t i = begin; i < end; ++i) {
                const std::string_view b = tokens.sorted_bytes(i);
                size_t d = i == begin ? 2 : std::max<size_t>(2, std::min<size_t>(lcp[i], computed));
                const size_t n = b.size();
                int32_t s = level[d];
                while (d < n) {
                    int32_t t = g.next(s, (uint8_t)b[d]);
                    if (t == Grammar::kDeadState) break;
                    level[++d] = s = t;
                }
                computed = d;
                if (d == n) {
                    accepted.push_back(sorted[i]);
                    continue;
                }
                // Byte d is not allowed: neither is any following token sharing bytes 0..d.
                while (i + 1 < end && lcp[i + 1] > d) ++i;
            }
        }
    }
    StateMask out;
    store_accepted(out, std::move(accepted), tokens.n_tokens());
    return out;
}

uint64_t shape_hash(const std::vector<int32_t> & rows) {
    // A sample of the rows: cheap, and equal shapes are confirmed by comparing the rows in full.
    uint64_t h = 1469598103934665603ull ^ rows.size();
    for (size_t k = 0; k < rows.size(); k += 7) h = (h ^ (uint32_t)rows[k]) * 1099511628211ull;
    return h;
}

ComponentClass classify_component(std::vector<int32_t> rows, const TokenTable & tokens) {
    const auto & sorted = tokens.sorted();
    const auto & lcp = tokens.lcp();
    const auto & fbb = tokens.first_byte_begin();
    ComponentClass cls;
    cls.rows = std::move(rows);
    cls.hash = shape_hash(cls.rows);
    const int32_t * R = cls.rows.data();
    auto words = std::make_shared<std::vector<uint32_t>>(mask_words(tokens.n_tokens()), 0u);
    std::vector<int32_t> level(tokens.max_token_len() + 1, 0);
    for (int c = 0; c < 256; ++c) {
        size_t begin = fbb[c], end = fbb[c + 1];
        if (begin == end || R[c] == kShapeDead) continue;
        size_t computed = 0;
        for (size_t i = begin; i < end; ++i) {
            const std::string_view b = tokens.sorted_bytes(i);
            size_t d = i == begin ? 0 : std::min<size_t>(lcp[i], computed);
            const size_t n = b.size();
            int32_t q = level[d];
            int32_t t = 0;
            while (d < n) {
                t = R[(size_t)q * 256 + (uint8_t)b[d]];
                if (t < 0) break;
                level[++d] = q = t;
            }
            computed = d;
            if (d == n) {
                TokenId id = sorted[i];
                (*words)[id >> 5] |= 1u << (id & 31);
                ++cls.n_accepted;
                continue;
            }
            // Byte d dies or leaves from local q; so does every following token sharing bytes 0..d.
            if (t == kShapeExit) cls.exits.push_back(ComponentExit{(uint32_t)i, (uint16_t)d, (uint16_t)q});
            while (i + 1 < end && lcp[i + 1] > d) {
                ++i;
                if (t == kShapeExit) cls.exits.push_back(ComponentExit{(uint32_t)i, (uint16_t)d, (uint16_t)q});
            }
        }
    }
    cls.words = std::move(words);
    return cls;
}

StateMask component_state_mask(const Grammar & g, const TokenTable & tokens, const ComponentClass & cls,
                               const std::vector<int32_t> & local_to_state) {
    StateMask out;
    out.base = cls.words;
    out.n_accepted = cls.n_accepted;
    std::vector<TokenId> accepted;
    if (!g.has_calls()) {
        for (const ComponentExit & x : cls.exits) {
            const std::string_view b = tokens.sorted_bytes(x.index);
            int32_t s = g.next(local_to_state[x.local], (uint8_t)b[x.at]);
            for (size_t d = x.at + 1; d < b.size() && s != Grammar::kDeadState; ++d) s = g.next(s, (uint8_t)b[d]);
            if (s != Grammar::kDeadState) accepted.push_back(tokens.sorted()[x.index]);
        }
    } else {
        // The rest of the token may pop into the unknown caller: the generic thread walk decides.
        FrameArena fa;
        std::vector<Thread> cur, nxt;
        for (const ComponentExit & x : cls.exits) {
            const std::string_view b = tokens.sorted_bytes(x.index);
            int32_t target = g.next(local_to_state[x.local], (uint8_t)b[x.at]);
            fa.truncate(1);
            cur.clear();
            bool esc = false;
            add_closed(g, fa, cur, Thread{target, 0}, esc);
            for (size_t d = x.at + 1; d < b.size() && !cur.empty(); ++d) {
                step(g, fa, cur, (uint8_t)b[d], nxt, esc);
                std::swap(cur, nxt);
            }
            if (!cur.empty()) accepted.push_back(tokens.sorted()[x.index]);
            else if (esc) out.uncertain.push_back(tokens.sorted()[x.index]);
        }
    }
    out.n_accepted += (int32_t)accepted.size();
    out.accepted = std::move(accepted);
    return out;
}

std::vector<int32_t> loop_component(int32_t state, const std::vector<uint32_t> & succ_begin,
                                    const std::vector<int32_t> & succ, std::vector<int32_t> & slot) {
    // Forward ball of radius kLoopBytes, then grow the set that reaches `state` back, one byte per round.
    std::vector<int32_t> ball = {state};
    std::vector<int32_t> depth = {0};
    slot[state] = 0;
    for (size_t k = 0; k < ball.size(); ++k) {
        if (depth[k] == kLoopBytes) continue;
        for (uint32_t e = succ_begin[ball[k]]; e < succ_begin[ball[k] + 1]; ++e) {
            int32_t t = succ[e];
            if (slot[t] >= 0 || (int32_t)ball.size() >= 2 * kMaxComponentStates) continue;
            slot[t] = (int32_t)ball.size();
            ball.push_back(t);
            depth.push_back(depth[k] + 1);
        }
    }
    std::vector<uint8_t> in(ball.size(), 0);
    in[0] = 1;
    for (int32_t round = 0; round < kLoopBytes; ++round) {
        bool grew = false;
        for (size_t k = 1; k < ball.size(); ++k) {
            if (in[k]) continue;
            for (uint32_t e = succ_begin[ball[k]]; e < succ_begin[ball[k] + 1] && !in[k]; ++e) {
                int32_t j = slot[succ[e]];
                if (j >= 0 && in[j]) in[k] = grew = true;
            }
        }
        if (!grew) break;
    }
    bool self_loop = false;
    for (uint32_t e = succ_begin[state]; e < succ_begin[state + 1]; ++e) self_loop = self_loop || succ[e] == state;
    std::vector<int32_t> out;
    for (size_t k = 0; k < ball.size(); ++k) {
        if (in[k]) out.push_back(ball[k]);
        slot[ball[k]] = -1;
    }
    if (out.size() == 1 && !self_loop) out.clear();
    return out;
}

}  // namespace sy::grammar::detail
