// Phrase banks of the task-agent data generator (datagen.h): sentence templates, carrier phrases and
// entity lists, one set per split. The train and test sets share no template and no entity; both use the
// same closed vocabulary for the tools' meaning (add/delete/find..., priority and status words, dates).
// Template slots: {title} {id} {p} (priority word) {d} (date phrase) {t} (tags) {q} (query) {topic} {mods}.
#pragma once

#include <string>
#include <vector>

namespace sy::train::datagen {

using Strs = std::vector<std::string>;

struct Banks {
    // Entities.
    Strs title_verbs, title_objects, tags, queries, topics;
    // create_task: templates with {title} and {mods}; modifier templates.
    Strs create, mod_priority, mod_date, mod_tags;
    // list_tasks: opening verb phrases; clauses.
    Strs list_open, list_due, list_all;
    // update_task: one field each, and the second-field tail.
    Strs update_priority, update_title, update_date, update_and_priority;
    Strs complete, remove, search;
    // No tool: small talk, out-of-scope questions and topic frames ({topic}).
    Strs small_talk, out_of_scope, topic_frames;
    // Multi-turn follow-ups about the task just created: priority {p}, done, delete, date {d}, title {title}.
    Strs follow_priority, follow_done, follow_delete, follow_date, follow_title;
    // Train split only: everyday English words that augmented titles, queries and tags are composed of
    // (none is a word of the test split's entities), so real words are as likely to be an entity as made-up
    // ones and a router must find entities by where they stand, not by how they look.
    Strs ext_verbs, ext_nouns, ext_adjectives, ext_people;
};

const Banks & train_banks();
const Banks & test_banks();

}  // namespace sy::train::datagen
