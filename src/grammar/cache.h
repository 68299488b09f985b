// LRU cache of compiled grammars bound to a vocabulary, keyed by (grammar key, token-table fingerprint).
// The grammar key is the caller's hash of what the grammar was compiled from (tool_grammar_key() for tool
// sets); computing it once per tool set keeps a lookup to one hash-map probe. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "grammar/matcher.h"

namespace sy::grammar {

class GrammarCache {
public:
    explicit GrammarCache(size_t capacity = 32) : capacity_(capacity == 0 ? 1 : capacity) {}

    using Builder = std::function<std::shared_ptr<const Grammar>()>;
    // The cached entry, or builds one (outside the lock), inserts it and evicts the least recently used.
    std::shared_ptr<const CompiledGrammar> get_or_build(uint64_t key, const std::shared_ptr<const TokenTable> & tokens,
                                                        const Builder & build);
    std::shared_ptr<const CompiledGrammar> find(uint64_t key, uint64_t tokens_fingerprint);
    size_t size() const;
    size_t capacity() const { return capacity_; }

private:
    struct Key {
        uint64_t grammar = 0;
        uint64_t tokens = 0;
        bool operator==(const Key &) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key & k) const { return (size_t)(k.grammar ^ (k.tokens * 0x9E3779B97F4A7C15ull)); }
    };
    using Entry = std::pair<Key, std::shared_ptr<const CompiledGrammar>>;

    size_t capacity_;
    mutable std::mutex mu_;
    std::list<Entry> lru_;  // front = most recent
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
};

}  // namespace sy::grammar
