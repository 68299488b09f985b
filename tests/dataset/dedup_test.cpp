// Normalisation, MinHash estimates against the exact shingle Jaccard, and the LSH index's decisions.
#include <gtest/gtest.h>

#include "dataset/dedup.h"

namespace sy::dataset {
namespace {

TEST(Dedup, Normalize) {
    EXPECT_EQ(normalize_text("  What's the WEATHER,   in Paris?? "), "what s the weather in paris");
    EXPECT_EQ(normalize_text("Crème brûlée!"), "crème brûlée");  // non-ASCII bytes are kept
    EXPECT_EQ(normalize_text("..."), "");
}

TEST(Dedup, MinHashEstimatesJaccard) {
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"what s the weather in paris", "whats the weather in paris"},
        {"what s the weather in paris", "what s the weather in london"},
        {"please cancel my order 8812 it arrived broken", "please cancel my order 8812 it arrived damaged"},
        {"book a table for two at luigi s tonight at eight", "reset my password please"},
    };
    for (const auto & [a, b] : pairs) {
        const double exact = shingle_jaccard(a, b);
        const double est = minhash_similarity(minhash(a), minhash(b));
        EXPECT_NEAR(est, exact, 0.15) << a << " | " << b;  // 128 slots: standard error ≤ 0.045
    }
    EXPECT_DOUBLE_EQ(minhash_similarity(minhash("same text"), minhash("same text")), 1.0);
    // The worked example of dedup.h.
    EXPECT_NEAR(shingle_jaccard("what s the weather in paris", "whats the weather in paris"), 18.0 / 27.0, 1e-12);
}

TEST(Dedup, NearDupIndex) {
    NearDupIndex idx(0.85);
    const std::string base = "please cancel my order number 8812 because it arrived broken and i want a refund";
    EXPECT_FALSE(idx.is_near_duplicate_or_add(minhash(base)));
    EXPECT_TRUE(idx.is_near_duplicate_or_add(minhash(base + " thanks")));  // J well above 0.85
    EXPECT_FALSE(idx.is_near_duplicate_or_add(minhash("what is the weather in oslo tomorrow morning")));
    EXPECT_FALSE(idx.is_near_duplicate_or_add(minhash("please cancel my order number 1234 because the size is wrong")));
}

}  // namespace
}  // namespace sy::dataset
