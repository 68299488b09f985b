// RuleSet -> Grammar: inline non-recursive rules, Thompson-style NFA by continuation passing, subset
// construction per rule. See automaton.h for the shape of the result.
//
// Worked example: rule entry = "[" ref(v) "]", v = "1" | "[" ref(v) "]". v is on a cycle (v -> v), so it
// stays a rule; entry is not, so it is one DFA that calls v:
//   entry: A -'['-> B,  B calls v returning to C,  C -']'-> D (final)
//   v:     E -'1'-> F (final),  E -'['-> G,  G calls v returning to H,  H -']'-> F
#include "grammar/automaton.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "common/error.h"

namespace sy::grammar {

namespace {

constexpr size_t kMaxStates = 400000;

struct NfaNode {
    std::vector<int32_t> eps;
    std::vector<ByteRange> ranges;  // byte edge (to byte_target) when non-empty
    int32_t byte_target = 0;
    bool has_call = false;
    int32_t callee = 0;       // rule index
    int32_t call_target = 0;  // node to continue at after the callee
    bool final = false;
    uint16_t tag = 0;
};

struct VecHash {
    size_t operator()(const std::vector<int32_t> & v) const {
        uint64_t h = 1469598103934665603ull;
        for (int32_t x : v) h = (h ^ (uint32_t)x) * 1099511628211ull;
        return (size_t)h;
    }
};

struct MemoKey {
    int32_t expr = 0;
    int32_t next = 0;
    uint16_t tag = 0;
    bool operator==(const MemoKey &) const = default;
};

struct MemoKeyHash {
    size_t operator()(const MemoKey & k) const {
        return (size_t)(((uint64_t)(uint32_t)k.expr * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(uint32_t)k.next << 17) ^
                        ((uint64_t)k.tag << 51));
    }
};

uint64_t mix(uint64_t h, uint64_t x) {
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

}  // namespace

class GrammarBuilder {
public:
    explicit GrammarBuilder(const RuleSet & rs) : rs_(rs) {}

    std::shared_ptr<const Grammar> run(std::string description);

private:
    int32_t new_node() {
        nodes_.emplace_back();
        return (int32_t)nodes_.size() - 1;
    }
    int32_t build(int32_t e, int32_t next, uint16_t tag);
    void find_recursive_rules();
    void closure(std::vector<int32_t> & set);
    int32_t dfa_state(std::vector<int32_t> set, int32_t rule_slot);

    const RuleSet & rs_;
    std::vector<NfaNode> nodes_;
    std::vector<uint8_t> called_;  // per rule: kept as a separate (called) rule
    std::unordered_map<MemoKey, int32_t, MemoKeyHash> memo_;
    std::vector<int32_t> rule_start_node_;  // per rule slot (rules..., entry last)

    // DFA under construction.
    std::unordered_map<std::vector<int32_t>, int32_t, VecHash> dfa_ids_;
    std::vector<std::vector<int32_t>> dfa_sets_;
    std::vector<int32_t> dfa_rule_;
    std::vector<int32_t> stamp_;
    int32_t stamp_value_ = 0;
};

int32_t GrammarBuilder::build(int32_t ei, int32_t next, uint16_t tag) {
    MemoKey key{ei, next, tag};
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    const Expr & e = rs_.expr(ei);
    int32_t start = 0;
    switch (e.kind) {
    case ExprKind::ExprKind_bytes: {
        start = new_node();
        nodes_[start].ranges = e.ranges;
        nodes_[start].byte_target = next;
        nodes_[start].tag = tag;
        break;
    }
    case ExprKind::ExprKind_seq: {
        start = next;
        for (size_t i = e.children.size(); i-- > 0;) start = build(e.children[i], start, tag);
        break;
    }
    case ExprKind::ExprKind_alt: {
        std::vector<int32_t> heads;
        for (int32_t c : e.children) heads.push_back(build(c, next, tag));
        start = new_node();
        nodes_[start].eps = std::move(heads);
        break;
    }
    case ExprKind::ExprKind_repeat: {
        int32_t body = e.children[0];
        int32_t cur = next;
        if (!e.max) {
            int32_t loop = new_node();
            int32_t body_start = build(body, loop, tag);
            nodes_[loop].eps = {body_start, next};
            cur = loop;
        } else {
            for (int32_t i = 0; i < *e.max - e.min; ++i) {
                int32_t body_start = build(body, cur, tag);
                int32_t opt = new_node();
                nodes_[opt].eps = {body_start, next};
                cur = opt;
            }
        }
        for (int32_t i = 0; i < e.min; ++i) cur = build(body, cur, tag);
        start = cur;
        break;
    }
    case ExprKind::ExprKind_ref: {
        const Rule & r = rs_.rules().at(e.rule);
        if (!r.body) throw Error(ErrorKind::ErrorKind_internal, "grammar rule '" + r.name + "' is never defined");
        if (called_[e.rule]) {
            start = new_node();
            nodes_[start].has_call = true;
            nodes_[start].callee = e.rule;
            nodes_[start].call_target = next;
            nodes_[start].tag = tag;
        } else {
            start = build(*r.body, next, tag);
        }
        break;
    }
    case ExprKind::ExprKind_tagged: start = build(e.children[0], next, e.tag); break;
    }
    memo_[key] = start;
    return start;
}

// A rule is called (not inlined) when it can reach itself through references.
void GrammarBuilder::find_recursive_rules() {
    size_t n = rs_.rules().size();
    std::vector<std::vector<int32_t>> refs(n);
    for (size_t r = 0; r < n; ++r) {
        if (!rs_.rules()[r].body) continue;
        std::vector<int32_t> todo = {*rs_.rules()[r].body};
        std::vector<uint8_t> seen;
        while (!todo.empty()) {
            int32_t ei = todo.back();
            todo.pop_back();
            if ((size_t)ei >= seen.size()) seen.resize(ei + 1, 0);
            if (seen[ei]) continue;
            seen[ei] = 1;
            const Expr & e = rs_.expr(ei);
            if (e.kind == ExprKind::ExprKind_ref) refs[r].push_back(e.rule);
            for (int32_t c : e.children) todo.push_back(c);
        }
    }
    called_.assign(n, 0);
    for (size_t r = 0; r < n; ++r) {
        std::vector<uint8_t> seen(n, 0);
        std::vector<int32_t> todo(refs[r].begin(), refs[r].end());
        while (!todo.empty()) {
            int32_t q = todo.back();
            todo.pop_back();
            if (q == (int32_t)r) {
                called_[r] = 1;
                break;
            }
            if (seen[q]) continue;
            seen[q] = 1;
            for (int32_t x : refs[q]) todo.push_back(x);
        }
    }
}

// Epsilon closure, keeping only the nodes that matter for the DFA (byte edge, call, final); sorted.
void GrammarBuilder::closure(std::vector<int32_t> & set) {
    ++stamp_value_;
    if (stamp_.size() < nodes_.size()) stamp_.resize(nodes_.size(), 0);
    std::vector<int32_t> todo = set;
    std::vector<int32_t> out;
    while (!todo.empty()) {
        int32_t n = todo.back();
        todo.pop_back();
        if (stamp_[n] == stamp_value_) continue;
        stamp_[n] = stamp_value_;
        const NfaNode & nd = nodes_[n];
        if (!nd.ranges.empty() || nd.has_call || nd.final) out.push_back(n);
        for (int32_t x : nd.eps) todo.push_back(x);
    }
    std::sort(out.begin(), out.end());
    set = std::move(out);
}

int32_t GrammarBuilder::dfa_state(std::vector<int32_t> set, int32_t rule_slot) {
    closure(set);
    if (set.empty()) return Grammar::kDeadState;
    if (auto it = dfa_ids_.find(set); it != dfa_ids_.end()) return it->second;
    if (dfa_sets_.size() >= kMaxStates)
        throw Error(ErrorKind::ErrorKind_limit, "grammar too large: over " + std::to_string(kMaxStates) +
                                                     " automaton states (reduce maxLength/maxItems or enums)");
    int32_t id = (int32_t)dfa_sets_.size();
    dfa_ids_.emplace(set, id);
    dfa_sets_.push_back(std::move(set));
    dfa_rule_.push_back(rule_slot);
    return id;
}

std::shared_ptr<const Grammar> GrammarBuilder::run(std::string description) {
    find_recursive_rules();
    size_t n_rules = rs_.rules().size();
    int32_t entry_slot = (int32_t)n_rules;
    rule_start_node_.assign(n_rules + 1, 0);
    for (size_t r = 0; r < n_rules; ++r) {
        if (!called_[r]) continue;
        const Rule & rule = rs_.rules()[r];
        if (!rule.body) throw Error(ErrorKind::ErrorKind_internal, "grammar rule '" + rule.name + "' is never defined");
        int32_t fin = new_node();
        nodes_[fin].final = true;
        rule_start_node_[r] = build(*rule.body, fin, 0);
    }
    {
        int32_t fin = new_node();
        nodes_[fin].final = true;
        int32_t entry_ref = rs_.entry;
        const Rule & rule = rs_.rules().at(entry_ref);
        if (!rule.body) throw Error(ErrorKind::ErrorKind_internal, "entry rule is never defined");
        if (called_[entry_ref]) {
            int32_t c = new_node();
            nodes_[c].has_call = true;
            nodes_[c].callee = entry_ref;
            nodes_[c].call_target = fin;
            rule_start_node_[entry_slot] = c;
        } else {
            rule_start_node_[entry_slot] = build(*rule.body, fin, 0);
        }
    }

    // State 0: dead.
    dfa_sets_.emplace_back();
    dfa_rule_.push_back(-1);
    std::vector<int32_t> rule_start_state(n_rules + 1, Grammar::kDeadState);
    int32_t entry_start = dfa_state({rule_start_node_[entry_slot]}, entry_slot);
    rule_start_state[entry_slot] = entry_start;
    for (size_t r = 0; r < n_rules; ++r)
        if (called_[r]) rule_start_state[r] = dfa_state({rule_start_node_[r]}, (int32_t)r);

    auto g = std::shared_ptr<Grammar>(new Grammar());
    g->tags_ = rs_.tags();
    uint16_t decision_tag = 0;
    auto get_decision_tag = [&] {
        if (decision_tag == 0) {
            g->tags_.push_back(TagInfo{TagKind::TagKind_decision, 0, ""});
            decision_tag = (uint16_t)(g->tags_.size() - 1);
        }
        return decision_tag;
    };

    std::vector<int32_t> trans(256, 0);
    std::vector<uint32_t> call_begin = {0, 0};
    std::vector<Call> calls;
    std::vector<uint8_t> finals = {0}, entries = {0};
    std::vector<uint16_t> tags = {0};
    std::vector<int32_t> points;
    for (size_t s = 1; s < dfa_sets_.size(); ++s) {
        std::vector<int32_t> set = dfa_sets_[s];  // copy: dfa_sets_ grows below
        int32_t slot = dfa_rule_[s];
        bool fin = false;
        bool any_text = false, any_other = false;
        uint16_t min_tag = 0;
        std::vector<std::pair<int32_t, int32_t>> call_nodes;  // (callee rule, target node)
        points.clear();
        for (int32_t n : set) {
            const NfaNode & nd = nodes_[n];
            fin = fin || nd.final;
            if (nd.has_call) call_nodes.emplace_back(nd.callee, nd.call_target);
            if (!nd.ranges.empty()) {
                for (ByteRange r : nd.ranges) {
                    points.push_back(r.lo);
                    points.push_back(r.hi + 1);
                }
            }
            if (!nd.ranges.empty() || nd.has_call) {
                if (g->tags_[nd.tag].kind == TagKind::TagKind_text) any_text = true;
                else any_other = true;
                if (nd.tag != 0 && (min_tag == 0 || nd.tag < min_tag)) min_tag = nd.tag;
            }
        }
        // Byte transitions over the elementary intervals of all ranges.
        size_t row = trans.size();
        trans.resize(row + 256, Grammar::kDeadState);
        std::sort(points.begin(), points.end());
        points.erase(std::unique(points.begin(), points.end()), points.end());
        for (size_t i = 0; i + 1 < points.size(); ++i) {
            int32_t lo = points[i], hi = points[i + 1] - 1;
            std::vector<int32_t> targets;
            for (int32_t n : set) {
                for (ByteRange r : nodes_[n].ranges) {
                    if (r.lo <= lo && hi <= r.hi) {
                        targets.push_back(nodes_[n].byte_target);
                        break;
                    }
                }
            }
            if (targets.empty()) continue;
            int32_t t = dfa_state(std::move(targets), slot);
            for (int32_t b = lo; b <= hi; ++b) trans[row + b] = t;
        }
        // Calls, grouped by callee.
        std::sort(call_nodes.begin(), call_nodes.end());
        for (size_t i = 0; i < call_nodes.size();) {
            size_t j = i;
            std::vector<int32_t> targets;
            while (j < call_nodes.size() && call_nodes[j].first == call_nodes[i].first)
                targets.push_back(call_nodes[j++].second);
            int32_t ret = dfa_state(std::move(targets), slot);
            calls.push_back(Call{rule_start_state[call_nodes[i].first], ret});
            i = j;
        }
        call_begin.push_back((uint32_t)calls.size());
        finals.push_back(fin ? 1 : 0);
        entries.push_back(slot == entry_slot ? 1 : 0);
        tags.push_back(any_text && any_other ? get_decision_tag() : min_tag);
    }

    // Left recursion: a rule whose start state calls (transitively) back into itself.
    for (size_t r = 0; r <= n_rules; ++r) {
        int32_t s0 = rule_start_state[r];
        if (s0 == Grammar::kDeadState) continue;
        std::vector<int32_t> todo = {s0};
        std::vector<uint8_t> seen(dfa_sets_.size(), 0);
        while (!todo.empty()) {
            int32_t s = todo.back();
            todo.pop_back();
            for (uint32_t k = call_begin[s]; k < call_begin[s + 1]; ++k) {
                int32_t c = calls[k].callee_start;
                if (c == s0)
                    throw Error(ErrorKind::ErrorKind_unsupported,
                                "left-recursive grammar rule '" + (r < n_rules ? rs_.rules()[r].name : "entry") +
                                    "': it can reach itself without consuming input");
                if (!seen[c]) {
                    seen[c] = 1;
                    todo.push_back(c);
                }
            }
        }
    }

    g->start_ = entry_start;
    g->trans_ = std::move(trans);
    g->call_begin_ = std::move(call_begin);
    g->calls_ = std::move(calls);
    g->final_ = std::move(finals);
    g->entry_ = std::move(entries);
    g->tag_ = std::move(tags);
    g->description_ = std::move(description);
    uint64_t h = 0x12345678;
    for (int32_t t : g->trans_) h = mix(h, (uint32_t)t);
    for (const Call & c : g->calls_) h = mix(mix(h, c.callee_start), c.return_state);
    for (size_t s = 0; s < g->final_.size(); ++s) h = mix(h, g->final_[s] | (g->entry_[s] << 1) | (g->tag_[s] << 2));
    g->fingerprint_ = h;
    return g;
}

std::shared_ptr<const Grammar> Grammar::build(const RuleSet & rules, std::string description) {
    GrammarBuilder b(rules);
    return b.run(std::move(description));
}

size_t Grammar::memory_bytes() const {
    return trans_.size() * 4 + call_begin_.size() * 4 + calls_.size() * sizeof(Call) + final_.size() * 4 +
           sizeof(*this);
}

}  // namespace sy::grammar
