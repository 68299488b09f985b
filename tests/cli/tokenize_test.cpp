// Black-box test of `switchyard tokenize`: runs the built binary against reference vocabularies and
// compares its output with the expected ids of ../shared/fixtures/vocab (skips when ../shared is absent).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kVocabDir = fs::path(SY_SHARED_DIR) / "fixtures" / "vocab";
const std::string kBinary = SY_BINARY_DIR "/bin/switchyard";

struct CmdResult {
    int rc = -1;
    std::string out;  // stdout (and stderr when asked)
};

std::string shell_quote(const std::string & s) {
    std::string q = "'";
    for (char c : s) {
        if (c == '\'') {
            q += "'\\''";
        } else {
            q += c;
        }
    }
    return q + "'";
}

CmdResult run_switchyard(const std::string & args) {
    CmdResult r;
    FILE * p = popen((shell_quote(kBinary) + " " + args).c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf;
    size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int status = pclose(p);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::vector<std::string> read_inputs(const fs::path & p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string all = ss.str(), sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> out;
    size_t pos = 0;
    for (size_t at = all.find(sep); at != std::string::npos; at = all.find(sep, pos)) {
        out.push_back(all.substr(pos, at - pos));
        pos = at + sep.size();
    }
    return out;
}

std::vector<std::string> read_lines(const fs::path & p) {
    std::ifstream f(p);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(f, line)) out.push_back(line);
    return out;
}

// "  1 2  3 " -> "1 2 3"
std::string normalize_ids(const std::string & s) {
    std::istringstream in(s);
    std::string id, out;
    while (in >> id) out += (out.empty() ? "" : " ") + id;
    return out;
}

class TokenizeCommand : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::is_directory(kVocabDir)) GTEST_SKIP() << "no reference vocabularies at " << kVocabDir << " (../shared absent)";
        ASSERT_TRUE(fs::exists(kBinary)) << kBinary;
    }
    static std::string model(const std::string & name) {
        return "-m " + shell_quote((kVocabDir / ("ggml-vocab-" + name + ".gguf")).string());
    }
};

TEST_F(TokenizeCommand, StdinMatchesTheReferenceIds) {
    const fs::path tmp = fs::temp_directory_path() / ("sy_tokenize_test_" + std::to_string(::getpid()));
    for (const char * name : {"llama-spm", "qwen2"}) {
        const auto base = kVocabDir / (std::string("ggml-vocab-") + name + ".gguf");
        const auto inputs = read_inputs(base.string() + ".inp");
        const auto expected = read_lines(base.string() + ".out");
        ASSERT_EQ(inputs.size(), expected.size());
        for (size_t i : {0, 2, 4, 8, 18, 22, 33, 44, 45}) {
            ASSERT_LT(i, inputs.size());
            {
                std::ofstream f(tmp, std::ios::binary);
                f << inputs[i];
            }
            const CmdResult r = run_switchyard("tokenize " + model(name) + " - < " + shell_quote(tmp.string()));
            EXPECT_EQ(r.rc, 0) << name << " #" << i;
            ASSERT_FALSE(r.out.empty());
            EXPECT_EQ(r.out.back(), '\n');
            EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line";
            EXPECT_EQ(normalize_ids(r.out), normalize_ids(expected[i])) << name << " text #" << i;
        }
    }
    fs::remove(tmp);
}

TEST_F(TokenizeCommand, TextArgumentAndFlags) {
    CmdResult r = run_switchyard("tokenize " + model("gpt-2") + " 'Hello world'");
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out, "15496 995\n");

    r = run_switchyard("tokenize " + model("llama-spm") + " --add-special 'Hello world'");
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out, "1 15043 3186\n");

    // Special text is plain text unless asked.
    r = run_switchyard("tokenize " + model("qwen2") + " '<|im_start|>'");
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out.find("151644"), std::string::npos) << r.out;
    r = run_switchyard("tokenize " + model("qwen2") + " --parse-special '<|im_start|>hi'");
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out.rfind("151644 ", 0), 0u) << r.out;

    r = run_switchyard("tokenize " + model("gpt-2") + " --pieces 'Hello \"x\"'");
    EXPECT_EQ(r.rc, 0);
    EXPECT_EQ(r.out, "15496 366 87 1\n15496\t\"Hello\"\n366\t\" \\\"\"\n87\t\"x\"\n1\t\"\\\"\"\n");
}

TEST_F(TokenizeCommand, ErrorsExitNonZeroWithOneLine) {
    CmdResult r = run_switchyard("tokenize -m /nonexistent/model.gguf hi 2>&1");
    EXPECT_NE(r.rc, 0);
    EXPECT_NE(r.out.find("nonexistent"), std::string::npos) << r.out;
    r = run_switchyard("tokenize " + model("gpt-2") + " 2>&1");  // no text
    EXPECT_NE(r.rc, 0);
}

}  // namespace

