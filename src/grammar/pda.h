// Internal: running the pushdown automaton of automaton.h over bytes. A parse position is a set of threads;
// a thread is (DFA state, stack frame). Frames form a persistent linked stack in an arena; frame 0 is the
// bottom. Used by the token-mask precomputation (mask_cache.cpp) and by the matcher (matcher.cpp).
//
// Sets are kept "closed": whenever a thread is added, the threads reachable from it without consuming a
// byte are added too — callee start states (pushing the return state) and, in a final state, the return
// state of the frame (popping it). Popping frame 0 is impossible: in the matcher frame 0 holds the entry
// rule, whose end is the end of the output; in the mask precomputation frame 0 stands for "the unknown
// stack below", and reaching it is reported as `escaped`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "grammar/automaton.h"

namespace sy::grammar::detail {

struct Thread {
    int32_t state = 0;
    int32_t frame = 0;
    bool operator==(const Thread &) const = default;
};

struct Frame {
    int32_t return_state = 0;
    int32_t parent = 0;
};

// Frames, append-only. With hashing on, equal (return_state, parent) pairs share one id, so equal stacks
// compare equal by id; scratch work turns hashing off and truncates back afterwards.
class FrameArena {
public:
    FrameArena() { frames_.push_back(Frame{}); }

    int32_t push(int32_t return_state, int32_t parent) {
        if (hashing_) {
            uint64_t key = ((uint64_t)(uint32_t)return_state << 32) | (uint32_t)parent;
            auto [it, fresh] = index_.try_emplace(key, (int32_t)frames_.size());
            if (fresh) frames_.push_back(Frame{return_state, parent});
            return it->second;
        }
        frames_.push_back(Frame{return_state, parent});
        return (int32_t)frames_.size() - 1;
    }
    const Frame & at(int32_t id) const { return frames_[id]; }
    size_t size() const { return frames_.size(); }
    void truncate(size_t n) { frames_.resize(n); }  // only frames pushed with hashing off
    void set_hashing(bool on) { hashing_ = on; }

private:
    std::vector<Frame> frames_;
    std::unordered_map<uint64_t, int32_t> index_;
    bool hashing_ = false;
};

// Adds `t` and its closure to `set` (deduplicated). Sets `escaped` when a final state pops frame 0 outside
// the entry rule.
inline void add_closed(const Grammar & g, FrameArena & fa, std::vector<Thread> & set, Thread t, bool & escaped) {
    if (t.state == Grammar::kDeadState) return;
    if (std::find(set.begin(), set.end(), t) != set.end()) return;
    set.push_back(t);
    for (const Call & c : g.calls(t.state)) add_closed(g, fa, set, Thread{c.callee_start, fa.push(c.return_state, t.frame)}, escaped);
    if (g.is_final(t.state)) {
        if (t.frame != 0) {
            Frame f = fa.at(t.frame);
            add_closed(g, fa, set, Thread{f.return_state, f.parent}, escaped);
        } else if (!g.in_entry(t.state)) {
            escaped = true;
        }
    }
}

// out = closure of every thread of `in` moved by `byte`. `out` must not alias `in`.
inline void step(const Grammar & g, FrameArena & fa, const std::vector<Thread> & in, uint8_t byte,
                 std::vector<Thread> & out, bool & escaped) {
    out.clear();
    for (const Thread & t : in) {
        int32_t n = g.next(t.state, byte);
        if (n != Grammar::kDeadState) add_closed(g, fa, out, Thread{n, t.frame}, escaped);
    }
}

}  // namespace sy::grammar::detail
