// ConfidenceTracker: attribution of step probabilities to decision / name / arguments (see confidence.h).
#include "grammar/confidence.h"

#include <algorithm>

namespace sy::grammar {

void ConfidenceTracker::reset() {
    decision_ = 1.0;
    is_tool_call_ = false;
    calls_.clear();
    prev_kind_ = TagKind::TagKind_structure;
    pending_text_mass_.reset();
    p_tool_call_ = 1.0;
    decision_observed_ = false;
}

void ConfidenceTracker::feed(int32_t token, float prob, std::span<const uint16_t> step_tags) {
    (void)token;
    bool attributed = false;
    for (uint16_t tag : step_tags) {
        const TagInfo & info = tag < tags_.size() ? tags_[tag] : tags_[0];
        TagKind kind = info.kind;
        // A name region entered anew starts a call.
        if (kind == TagKind::TagKind_name && prev_kind_ != TagKind::TagKind_name) {
            calls_.emplace_back();
            is_tool_call_ = true;
        }
        prev_kind_ = kind;
        if (attributed || kind == TagKind::TagKind_structure) continue;
        attributed = true;
        switch (kind) {
        case TagKind::TagKind_decision:
            if (pending_text_mass_) {
                p_tool_call_ *= std::clamp(1.0 - *pending_text_mass_, 0.0, 1.0);
                decision_observed_ = true;
            } else {
                decision_ *= prob;
            }
            break;
        case TagKind::TagKind_name: calls_.back().name *= prob; break;
        case TagKind::TagKind_argument:
        case TagKind::TagKind_copy: {
            if (calls_.empty()) calls_.emplace_back();
            auto & args = calls_.back().arguments;
            auto it = std::find_if(args.begin(), args.end(), [&](const ArgumentConfidence & a) { return a.name == info.arg; });
            if (it == args.end()) {
                args.push_back(ArgumentConfidence{info.arg, 1.0, 0});
                it = args.end() - 1;
            }
            it->confidence *= prob;
            it->n_steps += 1;
            break;
        }
        case TagKind::TagKind_text:
        case TagKind::TagKind_structure: break;
        }
    }
    pending_text_mass_.reset();
}

OutputConfidence ConfidenceTracker::result() const {
    OutputConfidence out;
    out.is_tool_call = is_tool_call_;
    out.decision = decision_;
    if (decision_observed_) {
        out.p_tool_call = p_tool_call_;
        out.decision = decision_ * (is_tool_call_ ? p_tool_call_ : 1.0 - p_tool_call_);
    }
    out.calls = calls_;
    for (CallConfidence & c : out.calls) {
        c.decision = out.decision;
        c.overall = std::min(c.decision, c.name);
        for (const ArgumentConfidence & a : c.arguments) c.overall = std::min(c.overall, a.confidence);
    }
    return out;
}

}  // namespace sy::grammar
