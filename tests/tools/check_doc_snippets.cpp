// Checks that every code sample in the Markdown guides is a copy of a region
// of a compiled example, so the guides cannot show code that does not build.
//
// A sample is marked in Markdown by a comment line right before its fence:
//   <!-- snippet: examples/breaker_basics.cpp#defaults -->
//   ```cpp
//   ...
//   ```
// and the region in the source file by two comment lines:
//   // [snippet:defaults]
//   ...
//   // [/snippet]
// Lines are compared after removing each block's common indentation.
//
// Usage: check_doc_snippets <repository root>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Removes the indentation that all non-blank lines share, and trailing blanks.
std::vector<std::string> dedent(std::vector<std::string> lines) {
  std::size_t indent = std::string::npos;
  for (const auto& line : lines) {
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos) indent = std::min(indent, first);
  }
  for (auto& line : lines) {
    if (indent != std::string::npos && line.size() >= indent) line.erase(0, indent);
    while (!line.empty() && line.back() == ' ') line.pop_back();
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <repository root>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];

  std::vector<fs::path> documents{root / "README.md"};
  if (fs::exists(root / "docs")) {
    for (const auto& entry : fs::recursive_directory_iterator(root / "docs"))
      if (entry.path().extension() == ".md") documents.push_back(entry.path());
  }
  std::sort(documents.begin(), documents.end());

  int checked = 0;
  int failed = 0;
  const std::string marker = "<!-- snippet: ";
  for (const auto& document : documents) {
    const auto lines = read_lines(document);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string line = trim(lines[i]);
      if (line.rfind(marker, 0) != 0) continue;
      ++checked;
      const std::string reference = line.substr(marker.size(), line.size() - marker.size() - 4);
      const auto hash = reference.find('#');
      const std::string where = document.string() + ":" + std::to_string(i + 1);
      if (hash == std::string::npos || i + 1 >= lines.size() || trim(lines[i + 1]).rfind("```", 0) != 0) {
        std::fprintf(stderr, "%s: a snippet marker needs 'file#region' and a code fence on the next line\n",
                     where.c_str());
        ++failed;
        continue;
      }

      std::vector<std::string> sample_lines;
      std::size_t j = i + 2;
      for (; j < lines.size() && trim(lines[j]) != "```"; ++j) sample_lines.push_back(lines[j]);

      const fs::path source = root / reference.substr(0, hash);
      const std::string region = reference.substr(hash + 1);
      const auto code = read_lines(source);
      const auto begin = std::find_if(code.begin(), code.end(),
                                      [&](const std::string& l) { return trim(l) == "// [snippet:" + region + "]"; });
      const auto end = begin == code.end() ? code.end()
                                           : std::find_if(begin + 1, code.end(), [](const std::string& l) {
                                               return trim(l) == "// [/snippet]";
                                             });
      if (begin == code.end() || end == code.end()) {
        std::fprintf(stderr, "%s: %s has no region '%s' ending in // [/snippet]\n", where.c_str(),
                     source.string().c_str(), region.c_str());
        ++failed;
        continue;
      }

      const std::string expected = join(dedent({begin + 1, end}));
      const std::string actual = join(dedent(sample_lines));
      if (expected != actual) {
        std::fprintf(stderr, "%s: the sample differs from %s#%s\n--- code:\n%s--- guide:\n%s", where.c_str(),
                     source.string().c_str(), region.c_str(), expected.c_str(), actual.c_str());
        ++failed;
      }
      i = j;
    }
  }

  std::printf("%d code samples checked, %d differ from the compiled examples\n", checked, failed);
  return failed == 0 ? 0 : 1;
}
