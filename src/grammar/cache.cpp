// GrammarCache: LRU map from (grammar key, vocabulary) to a compiled grammar with its mask cache.
#include "grammar/cache.h"

namespace sy::grammar {

std::shared_ptr<const CompiledGrammar> GrammarCache::find(uint64_t key, uint64_t tokens_fingerprint) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(Key{key, tokens_fingerprint});
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
}

std::shared_ptr<const CompiledGrammar> GrammarCache::get_or_build(uint64_t key, const std::shared_ptr<const TokenTable> & tokens,
                                                                  const Builder & build) {
    if (auto hit = find(key, tokens->fingerprint())) return hit;
    auto compiled = std::make_shared<const CompiledGrammar>(build(), tokens);
    std::lock_guard<std::mutex> lock(mu_);
    Key k{key, tokens->fingerprint()};
    if (auto it = index_.find(k); it != index_.end()) return it->second->second;  // built concurrently
    lru_.emplace_front(k, compiled);
    index_[k] = lru_.begin();
    while (lru_.size() > capacity_) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
    }
    return compiled;
}

size_t GrammarCache::size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lru_.size();
}

}  // namespace sy::grammar
