// Special-token splitting shared by both tokenizer kinds (see tokenizers_internal.h).
//
// A trie over the special tokens' strings finds which of them occur in the text at all (one pass); only
// those take part in the longest-first splitting, so a vocabulary with thousands of added tokens costs
// no more than one with a few.
#include <algorithm>

#include "tokenizer/tokenizers_internal.h"

namespace sy::tok {

SpecialSplitter::SpecialSplitter(const Vocab & vocab) : vocab_(&vocab) {
    nodes_.emplace_back();
    for (TokenId id = 0; id < vocab.n_tokens(); ++id) {
        const TokenType t = vocab.token_type(id);
        const bool user = t == TokenType::TokenType_user_defined;
        if (!user && t != TokenType::TokenType_control && t != TokenType::TokenType_unknown) continue;
        int32_t node = 0;
        for (char c : vocab.token_text(id)) {
            const uint64_t key = ((uint64_t)node << 8) | (uint8_t)c;
            auto it = edges_.find(key);
            if (it == edges_.end()) {
                it = edges_.emplace(key, (int32_t)nodes_.size()).first;
                nodes_.emplace_back();
            }
            node = it->second;
        }
        nodes_[node].token = id;  // duplicate strings: the highest id wins
        nodes_[node].always = user;
    }
}

void SpecialSplitter::split(std::string_view text, bool parse_special, std::vector<Fragment> & out) const {
    // 1. Which special tokens occur anywhere in the text.
    std::vector<TokenId> found;
    if (nodes_.size() > 1) {
        for (size_t i = 0; i < text.size(); ++i) {
            int32_t node = 0;
            for (size_t j = i; j < text.size(); ++j) {
                const auto it = edges_.find(((uint64_t)node << 8) | (uint8_t)text[j]);
                if (it == edges_.end()) break;
                node = it->second;
                const Node & n = nodes_[node];
                if (n.token && (parse_special || n.always)) found.push_back(*n.token);
            }
        }
    }
    if (found.empty()) {
        if (!text.empty()) out.push_back({text, std::nullopt});
        return;
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    std::stable_sort(found.begin(), found.end(), [&](TokenId a, TokenId b) {
        return vocab_->token_text(a).size() > vocab_->token_text(b).size();
    });

    // 2. Longest first, each token splits every remaining text fragment.
    std::vector<Fragment> cur{{text, std::nullopt}}, next;
    for (TokenId id : found) {
        const std::string & s = vocab_->token_text(id);
        next.clear();
        for (const Fragment & f : cur) {
            if (f.token) {
                next.push_back(f);
                continue;
            }
            std::string_view rest = f.text;
            for (size_t at = rest.find(s); at != std::string_view::npos; at = rest.find(s)) {
                if (at > 0) next.push_back({rest.substr(0, at), std::nullopt});
                next.push_back({std::string_view(), id});
                rest.remove_prefix(at + s.size());
            }
            if (!rest.empty()) next.push_back({rest, std::nullopt});
        }
        cur.swap(next);
    }
    out.insert(out.end(), cur.begin(), cur.end());
}

}  // namespace sy::tok
