// Pieces shared by the SPM and BPE tokenizers (private to the tokenizer layer): the special-token splitter
// and the factories of the two tokenizer kinds.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace sy::tok {

// A piece of the input: plain text, or one special token found by its text.
struct Fragment {
    std::string_view text;         // the raw text (empty for a token fragment)
    std::optional<TokenId> token;  // set for a special-token fragment
};

// Splits text on the strings of special tokens before normal tokenization. User-defined tokens are
// always split out; control and unknown-type tokens only with parse_special. Longer token strings win:
// each token, longest first, splits every remaining text fragment at all its occurrences (left to right).
// Example (parse_special): "a<|im_end|>\nb" -> "a", <|im_end|>, "\nb".
class SpecialSplitter {
public:
    explicit SpecialSplitter(const Vocab & vocab);
    // Appends the fragments of `text` (views into it) to `out`; empty text fragments are dropped.
    void split(std::string_view text, bool parse_special, std::vector<Fragment> & out) const;

private:
    struct Node {
        std::optional<TokenId> token;  // a special token ends here
        bool always = false;           // it is user-defined (split even without parse_special)
    };
    const Vocab * vocab_;
    std::vector<Node> nodes_;                          // trie nodes; 0 is the root
    std::unordered_map<uint64_t, int32_t> edges_;      // (node << 8 | byte) -> child node
};

std::unique_ptr<Tokenizer> make_spm_tokenizer(Vocab vocab);
std::unique_ptr<Tokenizer> make_bpe_tokenizer(Vocab vocab);

}  // namespace sy::tok
