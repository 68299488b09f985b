// Importers (other systems' logs → Trace) and the OpenAI JSONL exporter. Formats:
//   openai    — OpenAI chat fine-tuning JSONL: {"messages": [...], "tools": [...]} per line (extra keys such
//               as "model" or "metadata" are read when present, ignored otherwise).
//   langsmith — LangSmith run exports: a JSON array of runs or JSONL, one run per line. Only runs with
//               run_type "llm" become traces (chain/tool/retriever runs are counted as ignored). Inputs in
//               OpenAI style (wrap_openai) or LangChain's serialized messages; outputs as OpenAI "choices"
//               or LangChain "generations".
//   pairs     — request/response logs of the Chat Completions API: {"request": {...}, "response": {...}}
//               per line; the response's first choice becomes the answering assistant turn.
// A bad record is an error "FILE:LINE: what" (a JSON array of runs names "FILE: run N"); with skip_bad
// it is counted and reported instead. Imported traces are served_by "external".
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace sy::traces {

enum class ImportFormat { ImportFormat_auto, ImportFormat_openai, ImportFormat_langsmith, ImportFormat_pairs };
const char * import_format_name(ImportFormat f);
std::optional<ImportFormat> import_format_from_name(std::string_view name);

struct ImportOptions {
    ImportFormat format = ImportFormat::ImportFormat_auto;
    bool skip_bad = false;           // count bad records instead of failing on the first
    size_t max_error_messages = 20;  // kept in ImportResult::errors when skipping
};

struct ImportResult {
    ImportFormat format = ImportFormat::ImportFormat_auto;  // the one used (after detection)
    int64_t n_records = 0;   // non-empty lines / array elements read
    int64_t n_imported = 0;  // handed to the sink
    int64_t n_bad = 0;       // skipped as bad (skip_bad)
    int64_t n_ignored = 0;   // valid but not a chat completion (LangSmith chain/tool runs)
    std::vector<std::string> errors;  // "FILE:LINE: what", at most max_error_messages
};

// Looks at the first record: a JSON array or a run-shaped object → langsmith; {"request","response"} →
// pairs; {"messages"} → openai. Throws sy::Error when it cannot tell.
ImportFormat detect_import_format(const std::string & path);

// Reads one file, calling sink for each trace (ids are filled: the run / response id when the source has
// one, else a hash of file name, line and content, so importing the same file twice gives the same ids).
ImportResult import_file(const std::string & path, const ImportOptions & opt, const std::function<void(Trace &&)> & sink);

// One record → trace. Throw sy::Error naming the bad field. The LangSmith one returns nullopt for runs
// that are not LLM calls.
Trace trace_from_openai_example(const ojson & j);
std::optional<Trace> trace_from_langsmith_run(const ojson & run);
Trace trace_from_chat_pair(const ojson & j);

// Checks an OpenAI messages array (roles, content types, tool_calls shape; NOT argument validity, which
// the dataset builder judges). Throws sy::Error naming the JSON path.
void check_openai_messages(const ojson & messages);

// The OpenAI fine-tuning line of a trace: {"messages": ..., "tools": ...} ("tools" only when non-empty).
ojson trace_to_openai_example(const Trace & t);

// "2024-05-14T09:21:33.123Z" / "+02:00" / no zone (UTC) → Unix ms; nullopt when not ISO 8601.
std::optional<int64_t> parse_iso8601_ms(const std::string & s);

}  // namespace sy::traces
