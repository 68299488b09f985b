// The one table of architectures. Adding a family = one file in models/ + one row here.
#include <array>
#include <string>

#include "engine/model.h"

namespace sy::engine {

extern const ArchTraits kArchLlama;
extern const ArchTraits kArchQwen2;

namespace {
const std::array<const ArchTraits *, 2> kArchs = {&kArchLlama, &kArchQwen2};
}

const ArchTraits * find_arch(const std::string & name) {
    for (const ArchTraits * a : kArchs)
        if (name == a->name) return a;
    return nullptr;
}

std::string supported_archs() {
    std::string s;
    for (const ArchTraits * a : kArchs) s += (s.empty() ? "" : ", ") + std::string(a->name);
    return s;
}

}  // namespace sy::engine
