// The vocabulary table and the bound grammar's per-state mask cache: at bind time the loop components
// worth sharing are found and classified once per shape; every other state is classified on first use by
// its own walk (state_mask.h has the walks and the idea).
#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "common/error.h"
#include "grammar/matcher.h"
#include "grammar/state_mask.h"
#include "tokenizer/tokenizer.h"

namespace sy::grammar {

TokenTable::TokenTable(std::vector<std::string> bytes, std::vector<uint8_t> excluded, std::vector<TokenId> stop_ids)
    : bytes_(std::move(bytes)), excluded_(std::move(excluded)), stop_ids_(std::move(stop_ids)) {
    if (excluded_.size() != bytes_.size())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "token table: excluded flags and token count differ");
    std::sort(stop_ids_.begin(), stop_ids_.end());
    stop_ids_.erase(std::unique(stop_ids_.begin(), stop_ids_.end()), stop_ids_.end());
    for (TokenId id : stop_ids_)
        if (id < 0 || id >= n_tokens())
            throw Error(ErrorKind::ErrorKind_invalid_argument, "token table: stop id " + std::to_string(id) + " out of range");
    for (TokenId id = 0; id < n_tokens(); ++id)
        if (!excluded_[id] && !bytes_[id].empty() && !is_stop(id)) sorted_.push_back(id);
    std::sort(sorted_.begin(), sorted_.end(), [&](TokenId a, TokenId b) {
        return bytes_[a] != bytes_[b] ? bytes_[a] < bytes_[b] : a < b;
    });
    lcp_.assign(sorted_.size(), 0);
    first_byte_begin_.assign(257, 0);
    for (size_t i = 0; i < sorted_.size(); ++i) {
        const std::string & cur = bytes_[sorted_[i]];
        max_len_ = std::max(max_len_, cur.size());
        if (i > 0) {
            const std::string & prev = bytes_[sorted_[i - 1]];
            size_t n = std::min(prev.size(), cur.size()), k = 0;
            while (k < n && prev[k] == cur[k]) ++k;
            lcp_[i] = (uint16_t)std::min<size_t>(k, 65535);
        }
        first_byte_begin_[(uint8_t)cur[0] + 1] = (uint32_t)i + 1;
    }
    sorted_off_.assign(1, 0);
    for (TokenId id : sorted_) {
        sorted_text_ += bytes_[id];
        sorted_off_.push_back((uint32_t)sorted_text_.size());
    }
    for (int c = 1; c <= 256; ++c) first_byte_begin_[c] = std::max(first_byte_begin_[c], first_byte_begin_[c - 1]);
    second_byte_begin_.assign(256 * 257, 0);
    for (int c = 0; c < 256; ++c) {
        uint32_t * sb = &second_byte_begin_[(size_t)c * 257];
        uint32_t i = first_byte_begin_[c], end = first_byte_begin_[c + 1];
        while (i < end && bytes_[sorted_[i]].size() == 1) ++i;  // one-byte tokens (duplicates possible)
        for (int k = 0; k <= 256; ++k) {
            while (i < end && (k == 256 || (uint8_t)bytes_[sorted_[i]][1] < k)) ++i;
            sb[k] = i;
        }
    }
    uint64_t h = 1469598103934665603ull;
    for (TokenId id = 0; id < n_tokens(); ++id) {
        for (char c : bytes_[id]) h = (h ^ (uint8_t)c) * 1099511628211ull;
        h = (h ^ (0x100u + excluded_[id])) * 1099511628211ull;
    }
    for (TokenId id : stop_ids_) h = (h ^ (uint32_t)id ^ 0x5000000u) * 1099511628211ull;
    fingerprint_ = h;
}

std::shared_ptr<const detail::ComponentClass> TokenTable::component_class(const std::vector<int32_t> & shape) const {
    const uint64_t h = detail::shape_hash(shape);
    {
        std::lock_guard<std::mutex> lock(shapes_mu_);
        for (const auto & c : shapes_)
            if (c->hash == h && c->rows == shape) return c;
    }
    // Classified outside the lock; a concurrent duplicate is harmless (the first one stored wins).
    auto cls = std::make_shared<const detail::ComponentClass>(detail::classify_component(shape, *this));
    std::lock_guard<std::mutex> lock(shapes_mu_);
    for (const auto & c : shapes_)
        if (c->hash == h && c->rows == shape) return c;
    if (shapes_.size() < kMaxSharedShapes) shapes_.push_back(cls);
    return cls;
}

bool TokenTable::is_stop(TokenId id) const { return std::binary_search(stop_ids_.begin(), stop_ids_.end(), id); }

std::shared_ptr<const TokenTable> TokenTable::from_vocab(const tok::Vocab & v) {
    int32_t n = v.n_tokens();
    std::vector<std::string> bytes(n);
    std::vector<uint8_t> excluded(n, 0);
    for (TokenId id = 0; id < n; ++id) {
        bytes[id] = v.token_bytes(id);
        switch (v.token_type(id)) {
        case tok::TokenType::TokenType_control:
        case tok::TokenType::TokenType_unknown:
        case tok::TokenType::TokenType_unused: excluded[id] = 1; break;
        default: break;
        }
    }
    std::vector<TokenId> stops = v.eog_ids_;
    for (auto id : {v.special().eos, v.special().eot, v.special().eom})
        if (id && *id >= 0 && *id < n) stops.push_back(*id);
    for (TokenId id : stops) excluded[id] = 1;
    return std::make_shared<TokenTable>(std::move(bytes), std::move(excluded), std::move(stops));
}

StateMask compute_state_mask(const Grammar & g, const TokenTable & tokens, int32_t state) {
    return g.has_calls() ? detail::compute_state_mask_generic(g, tokens, state)
                         : detail::compute_state_mask_dfa(g, tokens, state);
}

namespace detail {

struct ComponentIndex {
    struct Member {
        int32_t cls = 0;                     // index into classes
        std::vector<int32_t> local_to_state;  // [component size]
    };
    std::vector<std::shared_ptr<const ComponentClass>> classes;
    std::unordered_map<int32_t, Member> members;  // by DFA state
};

namespace {

// Finds the loop components worth sharing (those whose states can start many tokens) and classifies the
// vocabulary once per distinct shape.
std::unique_ptr<ComponentIndex> build_components(const Grammar & g, const TokenTable & tt) {
    auto idx = std::make_unique<ComponentIndex>();
    const int32_t n = g.n_states();
    const auto & fbb = tt.first_byte_begin();
    // A state is worth it when the tokens it may start are many: below this its own walk is cheap (it only
    // visits those tokens).
    const size_t wide = std::max<size_t>(512, tt.sorted().size() / 32);
    // Distinct byte successors per state, and which states are wide.
    std::vector<uint32_t> succ_begin(n + 1, 0);
    std::vector<int32_t> succ, candidates;
    std::vector<uint8_t> usable(n, 0);
    for (int32_t s = 0; s < n; ++s) {
        const int32_t * row = g.row(s);
        size_t n_tok = 0;
        size_t first = succ.size();
        for (int b = 0; b < 256; ++b) {
            int32_t t = row[b];
            if (t == Grammar::kDeadState) continue;
            n_tok += fbb[b + 1] - fbb[b];
            if (std::find(succ.begin() + (ptrdiff_t)first, succ.end(), t) == succ.end()) succ.push_back(t);
        }
        succ_begin[s + 1] = (uint32_t)succ.size();
        usable[s] = s != 0 && g.calls(s).empty() && !(g.is_final(s) && !g.in_entry(s));
        if (usable[s] && n_tok >= wide) candidates.push_back(s);
    }
    std::vector<int32_t> local(n, -1), order, slot(n, -1);
    for (int32_t s : candidates) {
        std::vector<int32_t> members = loop_component(s, succ_begin, succ, slot);
        if (members.empty() || (int32_t)members.size() > kMaxComponentStates) continue;
        bool ok = true;
        for (int32_t q : members) ok = ok && usable[q];
        if (!ok) continue;
        for (int32_t q : members) local[q] = -2;  // member, not yet labelled
        // Canonical relabelling: breadth first from s, bytes in order.
        order.assign(1, s);
        local[s] = 0;
        std::vector<int32_t> rows;
        rows.reserve(members.size() * 256);
        for (size_t k = 0; k < order.size(); ++k) {
            const int32_t * r = g.row(order[k]);
            for (int b = 0; b < 256; ++b) {
                int32_t t = r[b];
                if (t == Grammar::kDeadState) rows.push_back(kShapeDead);
                else if (local[t] == -1) rows.push_back(kShapeExit);
                else {
                    if (local[t] == -2) {
                        local[t] = (int32_t)order.size();
                        order.push_back(t);
                    }
                    rows.push_back(local[t]);
                }
            }
        }
        for (int32_t q : members) local[q] = -1;
        std::shared_ptr<const ComponentClass> shared = tt.component_class(rows);
        int32_t cls = -1;
        for (size_t k = 0; k < idx->classes.size(); ++k)
            if (idx->classes[k] == shared) cls = (int32_t)k;
        if (cls < 0) {
            cls = (int32_t)idx->classes.size();
            idx->classes.push_back(std::move(shared));
        }
        idx->members.emplace(s, ComponentIndex::Member{cls, order});
    }
    return idx;
}

}  // namespace
}  // namespace detail

CompiledGrammar::CompiledGrammar(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTable> tokens)
    : grammar_(std::move(grammar)), tokens_(std::move(tokens)) {
    SY_ASSERT(grammar_ && tokens_);
    int32_t n = grammar_->n_states();
    masks_.reset(new std::atomic<StateMask *>[n]);
    for (int32_t s = 0; s < n; ++s) masks_[s].store(nullptr);
    components_ = detail::build_components(*grammar_, *tokens_);
    for (int32_t s = 1; s < n && !has_copy_tags_; ++s)
        has_copy_tags_ = grammar_->tags()[grammar_->tag(s)].kind == TagKind::TagKind_copy;
}

int32_t CompiledGrammar::n_component_shapes() const { return (int32_t)components_->classes.size(); }
int32_t CompiledGrammar::n_component_states() const { return (int32_t)components_->members.size(); }

CompiledGrammar::~CompiledGrammar() {
    for (int32_t s = 0; s < grammar_->n_states(); ++s) delete masks_[s].load();
}

const StateMask & CompiledGrammar::state_mask(int32_t state) const {
    SY_ASSERT(state >= 0 && state < grammar_->n_states());
    if (StateMask * m = masks_[state].load(std::memory_order_acquire)) return *m;
    std::lock_guard<std::mutex> lock(mu_);
    if (StateMask * m = masks_[state].load(std::memory_order_relaxed)) return *m;
    auto it = components_->members.find(state);
    auto * m = it == components_->members.end()
                   ? new StateMask(compute_state_mask(*grammar_, *tokens_, state))
                   : new StateMask(detail::component_state_mask(*grammar_, *tokens_, *components_->classes[it->second.cls],
                                                                it->second.local_to_state));
    masks_[state].store(m, std::memory_order_release);
    n_cached_.fetch_add(1);
    return *m;
}

void CompiledGrammar::precompute() const {
    for (int32_t s = 1; s < grammar_->n_states(); ++s) state_mask(s);
}

}  // namespace sy::grammar
