// The linear aids a from-scratch router carries beside its network (chat/router_plan.h): the slot tagger
// for its free-text copy fields and the intent classifier for its tools and their enum arguments, trained
// in about a second on the same conversations. `switchyard train --preset` and the router quality test
// both train them here.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_format.h"
#include "chat/intent_classifier.h"
#include "chat/slot_tagger.h"

namespace sy::train {

struct RouterAids {
    std::optional<chat::SlotTagger> tagger;         // when a copy field is a free-text field of some tool
    std::optional<chat::IntentClassifier> intent;  // when the data has a tool call
};

// threads: for the tagger's perceptrons (the result does not depend on it). log: where to print one line
// per aid trained (null: quiet).
RouterAids train_router_aids(const std::vector<chat::Conversation> & chats, const std::vector<std::string> & copy_fields,
                             uint64_t seed, int threads = 2, std::FILE * log = nullptr);

}  // namespace sy::train
