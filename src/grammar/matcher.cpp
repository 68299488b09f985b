// GrammarMatcher: per-step masks from the state cache plus a run-time check of the uncertain tokens,
// token/byte acceptance with rollback history, forced bytes (jump-forward), and the logits helpers.
#include "grammar/matcher.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "grammar/copy.h"

namespace sy::grammar {

using detail::Thread;

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> compiled) : compiled_(std::move(compiled)) {
    SY_ASSERT(compiled_);
    arena_.set_hashing(true);
    reset();
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTable> tokens)
    : GrammarMatcher(std::make_shared<CompiledGrammar>(std::move(grammar), std::move(tokens))) {}

void GrammarMatcher::reset() {
    history_.clear();
    Position p;
    bool escaped = false;
    detail::add_closed(compiled_->grammar(), arena_, p.threads, Thread{compiled_->grammar().start(), 0}, escaped);
    if (copy_) copy_advance(p.copy, {}, {}, in_copy(p.threads), false);
    history_.push_back(std::move(p));
    last_tags_.clear();
}

void GrammarMatcher::set_copy_constraint(std::shared_ptr<const CopyConstraint> copy) {
    if (copy && copy->tokens().fingerprint() != compiled_->tokens().fingerprint())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "copy constraint bound to another vocabulary than the grammar");
    copy_ = compiled_->has_copy_tags() ? std::move(copy) : nullptr;
    field_copy_.clear();
    reset();
}

void GrammarMatcher::set_field_copy_sources(std::map<std::string, std::shared_ptr<const CopyConstraint>> fields) {
    for (const auto & [name, cc] : fields)
        if (!cc || cc->tokens().fingerprint() != compiled_->tokens().fingerprint())
            throw Error(ErrorKind::ErrorKind_invalid_argument, "copy constraint for '" + name + "' missing or bound to another vocabulary");
    field_copy_ = copy_ ? std::move(fields) : decltype(field_copy_){};
    reset();
}

uint16_t GrammarMatcher::in_copy(const std::vector<Thread> & threads) const {
    const Grammar & g = compiled_->grammar();
    for (const Thread & t : threads) {
        const uint16_t tag = g.tag(t.state);
        if (g.tags()[tag].kind == TagKind::TagKind_copy) return tag;
    }
    return 0;
}

bool GrammarMatcher::copy_advance(CopyState & st, std::string_view bytes, const std::vector<uint16_t> & flags,
                                  uint16_t end_in_copy, bool strict) const {
    auto fresh = [&](uint16_t tag) {
        const TagInfo & info = compiled_->grammar().tags()[tag];
        st.active = true;
        st.any_read = false;
        st.integer = info.copy_integer;
        st.cc = copy_.get();
        if (!st.integer)
            if (auto it = field_copy_.find(info.arg); it != field_copy_.end()) st.cc = it->second.get();
        st.free = st.cc->empty();
        st.live = st.cc->starts();
    };
    std::vector<uint32_t> next;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (!flags[i]) {
            st = CopyState{};
            continue;
        }
        if (!st.active) fresh(flags[i]);
        if (st.free) continue;
        const CopyConstraint & cc = *st.cc;
        const std::string & text = cc.text();
        const uint8_t b = (uint8_t)bytes[i];
        next.clear();
        if (b != 0)
            for (uint32_t p : st.live)
                if ((uint8_t)text[p] == b) next.push_back(p + 1);
        if (!next.empty()) {
            st.live.swap(next);
            st.any_read = true;
            continue;
        }
        // A string closes with its quote; an integer with whatever non-word byte follows its digits.
        bool closes = false;
        if (st.any_read && (st.integer ? !is_copy_word_byte(b) : b == '"'))
            for (uint32_t p : st.live) closes = closes || cc.can_end(p);
        if (closes) {
            st = CopyState{};
            continue;
        }
        if (strict) return false;
        st.free = true;
        st.live.clear();
    }
    if (end_in_copy && !st.active) fresh(end_in_copy);
    if (!end_in_copy) st = CopyState{};
    return true;
}

bool GrammarMatcher::can_terminate() const {
    const Grammar & g = compiled_->grammar();
    if (is_terminated()) return false;
    for (const Thread & t : history_.back().threads)
        if (t.frame == 0 && g.is_final(t.state)) return true;
    return false;
}

uint16_t GrammarMatcher::position_tag(const std::vector<Thread> & threads) const {
    const Grammar & g = compiled_->grammar();
    for (const Thread & t : threads) {
        if (g.tag(t.state) != 0) return g.tag(t.state);
        for (int32_t f = t.frame; f != 0; f = arena_.at(f).parent)
            if (uint16_t tg = g.tag(arena_.at(f).return_state)) return tg;
    }
    return 0;
}

bool GrammarMatcher::advance(const std::vector<Thread> & from, std::string_view bytes, std::vector<Thread> & to,
                             std::vector<uint16_t> * tags, std::vector<uint16_t> * copy_flags) {
    const Grammar & g = compiled_->grammar();
    scratch_a_ = from;
    bool escaped = false;
    for (char c : bytes) {
        if (tags) tags->push_back(position_tag(scratch_a_));
        if (copy_flags) copy_flags->push_back(in_copy(scratch_a_));
        detail::step(g, arena_, scratch_a_, (uint8_t)c, scratch_b_, escaped);
        std::swap(scratch_a_, scratch_b_);
        if (scratch_a_.empty()) return false;
    }
    SY_ASSERT(!escaped);
    to = scratch_a_;
    return true;
}

bool GrammarMatcher::accept_token(TokenId id) {
    const TokenTable & tt = compiled_->tokens();
    if (is_terminated() || id < 0 || id >= tt.n_tokens()) return false;
    if (tt.is_stop(id)) {
        if (!can_terminate()) return false;
        Position p{history_.back().threads, true};
        history_.push_back(std::move(p));
        last_tags_.clear();
        return true;
    }
    if (tt.is_excluded(id) || tt.bytes(id).empty()) return false;
    return accept_bytes(tt.bytes(id));
}

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
    if (is_terminated()) return false;
    std::vector<uint16_t> tags;
    std::vector<uint16_t> copy_flags;
    Position p;
    if (!advance(history_.back().threads, bytes, p.threads, &tags, copy_ ? &copy_flags : nullptr)) return false;
    if (copy_) {
        p.copy = history_.back().copy;
        copy_advance(p.copy, bytes, copy_flags, in_copy(p.threads), false);
    }
    history_.push_back(std::move(p));
    last_tags_ = std::move(tags);
    return true;
}

void GrammarMatcher::rollback(int32_t n) {
    SY_ASSERT(n >= 0 && n <= n_steps());
    history_.resize(history_.size() - n);
    last_tags_.clear();
}

// Whether `bytes` can be read from the single thread `t` (with its real stack). Scratch frames are pushed
// unhashed and dropped afterwards.
bool GrammarMatcher::token_alive(const Thread & t, const std::string & bytes) {
    const Grammar & g = compiled_->grammar();
    size_t mark = arena_.size();
    arena_.set_hashing(false);
    scratch_a_.clear();
    scratch_a_.push_back(t);
    bool escaped = false, alive = true;
    for (char c : bytes) {
        detail::step(g, arena_, scratch_a_, (uint8_t)c, scratch_b_, escaped);
        std::swap(scratch_a_, scratch_b_);
        if (scratch_a_.empty()) {
            alive = false;
            break;
        }
    }
    arena_.truncate(mark);
    arena_.set_hashing(true);
    return alive;
}

bool GrammarMatcher::fill_mask(uint32_t * words) {
    const TokenTable & tt = compiled_->tokens();
    const Grammar & g = compiled_->grammar();
    int32_t n_words = mask_words(tt.n_tokens());
    const Position & pos = history_.back();
    if (pos.terminated) {
        std::memset(words, 0, (size_t)n_words * 4);
        return false;
    }
    // Only states with byte transitions contribute tokens; the closure already holds callee starts.
    bool first = true, any = false;
    const std::vector<Thread> & threads = pos.threads;
    for (size_t i = 0; i < threads.size(); ++i) {
        const Thread & t = threads[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; ++j) seen = threads[j].state == t.state;
        const StateMask & sm = compiled_->state_mask(t.state);
        if (!seen) {
            const std::vector<uint32_t> * dense = sm.base ? sm.base.get() : sm.dense ? &sm.words : nullptr;
            if (dense) {
                if (first) std::memcpy(words, dense->data(), (size_t)n_words * 4);
                else
                    for (int32_t w = 0; w < n_words; ++w) words[w] |= (*dense)[w];
            } else if (first) {
                std::memset(words, 0, (size_t)n_words * 4);
            }
            first = false;
            if (sm.base && sm.dense)
                for (int32_t w = 0; w < n_words; ++w) words[w] |= sm.words[w];
            for (TokenId id : sm.accepted) words[id >> 5] |= 1u << (id & 31);
            any = any || sm.n_accepted > 0;
        }
        if (t.frame == 0 && g.in_entry(t.state)) continue;
        for (TokenId id : sm.uncertain) {
            if (mask_test(words, id)) continue;
            if (token_alive(t, tt.bytes(id))) {
                words[id >> 5] |= 1u << (id & 31);
                any = true;
            }
        }
    }
    if (first) std::memset(words, 0, (size_t)n_words * 4);
    if (copy_ && any) copy_filter(words);
    if (can_terminate())
        for (TokenId id : tt.stop_ids()) words[id >> 5] |= 1u << (id & 31);
    return any;
}

bool GrammarMatcher::copy_token_ok(const std::string & bytes) {
    const Grammar & g = compiled_->grammar();
    const Position & pos = history_.back();
    size_t mark = arena_.size();
    arena_.set_hashing(false);
    scratch_a_ = pos.threads;
    std::vector<uint16_t> flags;
    flags.reserve(bytes.size());
    bool escaped = false, alive = true;
    for (char c : bytes) {
        flags.push_back(in_copy(scratch_a_));
        detail::step(g, arena_, scratch_a_, (uint8_t)c, scratch_b_, escaped);
        std::swap(scratch_a_, scratch_b_);
        if (scratch_a_.empty()) {
            alive = false;
            break;
        }
    }
    const uint16_t end_in_copy = alive ? in_copy(scratch_a_) : 0;
    arena_.truncate(mark);
    arena_.set_hashing(true);
    if (!alive) return true;  // the grammar decides
    CopyState st = pos.copy;
    return copy_advance(st, bytes, flags, end_in_copy, true);
}

// Intersects a grammar mask with the copy rule at the current position; never leaves it without a non-stop
// token it had (then the string falls back to the plain grammar).
void GrammarMatcher::copy_filter(uint32_t * words) {
    const TokenTable & tt = compiled_->tokens();
    const int32_t n_words = mask_words(tt.n_tokens());
    Position & pos = history_.back();
    auto any_non_stop = [&](const uint32_t * w) {
        for (int32_t i = 0; i < n_words; ++i)
            if (w[i]) return true;
        return false;
    };
    copy_words_.assign((size_t)n_words, 0);
    if (pos.copy.active && !pos.copy.free) {
        // Inside a copy string: the tokens that continue a live span (or close it), checked in full when they
        // run on past the closing quote (they could enter the next copy string).
        copy_crossing_.clear();
        pos.copy.cc->add_allowed(pos.copy.live, pos.copy.any_read, pos.copy.integer, copy_words_.data(), copy_crossing_);
        for (int32_t i = 0; i < n_words; ++i) copy_words_[i] &= words[i];
        for (TokenId id : copy_crossing_)
            if (mask_test(copy_words_.data(), id) && tt.bytes(id).size() > 2 && !copy_token_ok(tt.bytes(id)))
                copy_words_[id >> 5] &= ~(1u << (id & 31));
        if (any_non_stop(copy_words_.data())) {
            std::memcpy(words, copy_words_.data(), (size_t)n_words * 4);
            return;
        }
        pos.copy.free = true;  // fallback: the plain grammar for the rest of this string
        pos.copy.live.clear();
    }
    // Elsewhere: only tokens that enter a copy string within their bytes can break the rule. They are among
    // each state's explicitly listed tokens (a loop state's shared base stays inside its loop) that are longer
    // than the state's distance to a copy state.
    const Grammar & g = compiled_->grammar();
    const std::vector<uint16_t> & dist = compiled_->copy_distances();
    std::memcpy(copy_words_.data(), words, (size_t)n_words * 4);
    bool changed = false;
    auto check = [&](TokenId id, size_t d) {
        if (!mask_test(copy_words_.data(), id) || tt.bytes(id).size() <= d) return;
        if (!copy_token_ok(tt.bytes(id))) {
            copy_words_[id >> 5] &= ~(1u << (id & 31));
            changed = true;
        }
    };
    const std::vector<Thread> threads = pos.threads;
    for (size_t i = 0; i < threads.size(); ++i) {
        const int32_t s = threads[i].state;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; ++j) seen = threads[j].state == s;
        const size_t d = dist[s];
        if (seen || d >= tt.max_token_len() || (g.tags()[g.tag(s)].kind == TagKind::TagKind_copy && !pos.copy.free)) continue;
        const StateMask & sm = compiled_->state_mask(s);
        for (TokenId id : sm.accepted) check(id, d);
        for (TokenId id : sm.uncertain) check(id, d);
        if (sm.dense)
            for (int32_t w = 0; w < n_words; ++w)
                for (uint32_t bits = sm.words[w] & copy_words_[w]; bits; bits &= bits - 1)
                    check(w * 32 + std::countr_zero(bits), d);
    }
    if (changed && any_non_stop(copy_words_.data())) std::memcpy(words, copy_words_.data(), (size_t)n_words * 4);
}

bool GrammarMatcher::at_decision() const {
    const Grammar & g = compiled_->grammar();
    if (is_terminated()) return false;
    for (const Thread & t : history_.back().threads)
        if (g.tags()[g.tag(t.state)].kind == TagKind::TagKind_decision) return true;
    return false;
}

// Follows the token's bytes from each thread until a state says which side it is on: a text state (only
// the text alternative left) or a state that is neither text nor decision (a call). The decision region
// precedes any call edge, so plain transitions suffice.
bool GrammarMatcher::commits_to_text(TokenId id) const {
    const TokenTable & tt = compiled_->tokens();
    const Grammar & g = compiled_->grammar();
    if (tt.is_stop(id)) return true;
    const std::string & bytes = tt.bytes(id);
    bool any_text = false;
    for (const Thread & t : history_.back().threads) {
        int32_t s = t.state;
        enum { undecided, text, call, dead } side = undecided;
        for (char c : bytes) {
            s = g.next(s, (uint8_t)c);
            if (s == Grammar::kDeadState) {
                side = dead;
                break;
            }
            TagKind k = g.tags()[g.tag(s)].kind;
            if (k == TagKind::TagKind_text) {
                side = text;
                break;
            }
            if (k != TagKind::TagKind_decision) {
                side = call;
                break;
            }
        }
        if (side == dead) continue;
        if (side != text) return false;
        any_text = true;
    }
    return any_text;
}

double GrammarMatcher::text_commit_mass(const float * logits, int32_t n, const uint32_t * words) const {
    const int32_t limit = std::min(n, compiled_->tokens().n_tokens());
    float mx = -std::numeric_limits<float>::infinity();
    for (int32_t i = 0; i < limit; ++i)
        if (mask_test(words, i) && logits[i] > mx) mx = logits[i];
    if (!std::isfinite(mx)) return 0.0;
    double sum = 0.0, text = 0.0;
    for (int32_t i = 0; i < limit; ++i) {
        if (!mask_test(words, i)) continue;
        double e = std::exp((double)(logits[i] - mx));
        sum += e;
        if (commits_to_text(i)) text += e;
    }
    return text / sum;
}

std::string GrammarMatcher::forced_bytes(size_t max_bytes) {
    const Grammar & g = compiled_->grammar();
    std::string out;
    if (history_.back().terminated) return out;
    std::vector<Thread> cur = history_.back().threads, nxt;
    size_t mark = arena_.size();
    arena_.set_hashing(false);
    while (out.size() < max_bytes) {
        bool can_end = false;
        for (const Thread & t : cur) can_end = can_end || (t.frame == 0 && g.is_final(t.state));
        if (can_end) break;
        int n_bytes = 0;
        uint8_t only = 0;
        for (int b = 0; b < 256 && n_bytes < 2; ++b) {
            for (const Thread & t : cur) {
                if (g.next(t.state, (uint8_t)b) != Grammar::kDeadState) {
                    only = (uint8_t)b;
                    ++n_bytes;
                    break;
                }
            }
        }
        if (n_bytes != 1) break;
        bool escaped = false;
        detail::step(g, arena_, cur, only, nxt, escaped);
        std::swap(cur, nxt);
        out.push_back((char)only);
    }
    arena_.truncate(mark);
    arena_.set_hashing(true);
    return out;
}

std::vector<TokenId> jump_forward(GrammarMatcher & m, const Encoder & encode) {
    std::string forced = m.forced_bytes();
    if (forced.empty()) return {};
    std::vector<TokenId> ids = encode(forced);
    if (ids.size() < 2) return {};
    ids.pop_back();
    const TokenTable & tt = m.compiled().tokens();
    size_t off = 0;
    for (TokenId id : ids) {
        if (id < 0 || id >= tt.n_tokens() || tt.is_excluded(id)) return {};
        const std::string & b = tt.bytes(id);
        if (forced.compare(off, b.size(), b) != 0) return {};
        off += b.size();
    }
    int32_t accepted = 0;
    for (TokenId id : ids) {
        if (!m.accept_token(id)) {
            m.rollback(accepted);
            return {};
        }
        ++accepted;
    }
    return ids;
}

void apply_mask(float * logits, int32_t n, const uint32_t * words, int32_t n_words) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (int32_t i = 0; i < n; ++i) {
        bool ok = (i >> 5) < n_words && mask_test(words, i);
        if (!ok) logits[i] = neg_inf;
    }
}

bool masked_softmax(const float * logits, int32_t n, const uint32_t * words, int32_t n_words, float * probs) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int32_t i = 0; i < n; ++i)
        if ((i >> 5) < n_words && mask_test(words, i) && logits[i] > mx) mx = logits[i];
    if (!std::isfinite(mx)) {
        for (int32_t i = 0; i < n; ++i) probs[i] = 0.0f;
        return false;
    }
    double sum = 0.0;
    for (int32_t i = 0; i < n; ++i) {
        bool ok = (i >> 5) < n_words && mask_test(words, i);
        float p = ok ? std::exp(logits[i] - mx) : 0.0f;
        probs[i] = p;
        sum += p;
    }
    float inv = (float)(1.0 / sum);
    for (int32_t i = 0; i < n; ++i) probs[i] *= inv;
    return true;
}

}  // namespace sy::grammar
