// Prints the Markdown table of bench/README.md from Google Benchmark JSON
// output: for every case, its median time next to the median of each
// baseline that the case names in its label ("vs BM_a,BM_b", see
// bench/bench_support.hpp), at the same thread count.
//
//   median_table [--time cpu|real] [--with-cv] FILE.json...
//
// The median is the "median" aggregate of --benchmark_repetitions; a file
// without aggregates (a single repetition) gives the median of its runs.
// Times are CPU time per iteration by default. For a case on N threads that
// is the CPU time per call per thread, which a busy machine disturbs less
// than wall time; --time real uses the wall time, which Google Benchmark
// reports per call of all threads together.
//
// Exits with 1, after printing the table, when a case names a baseline that
// the same file does not contain or a case reported an error.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

struct options {
  bool cpu_time = true;
  bool with_cv = false;
  std::vector<std::string> files;
};

// One case at one thread count, in the order the program ran it.
struct measured_case {
  std::string name;  // the run name without "/threads:N"
  int threads = 1;
  std::vector<std::string> baselines;
  std::optional<double> median_ns;    // from the "median" aggregate
  std::optional<double> cv;           // from the "cv" aggregate, a fraction
  std::vector<double> repetitions_ns; // runs, when the file has no aggregates
  std::string error;
};

using case_key = std::pair<std::string, int>;

double to_ns(double value, std::string_view unit) {
  if (unit == "us") return value * 1e3;
  if (unit == "ms") return value * 1e6;
  if (unit == "s") return value * 1e9;
  return value;  // "ns"
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
}

// Removes the "/threads:N" part that Google Benchmark appends to a run name.
std::string case_name_of(const std::string& run_name) {
  const auto at = run_name.find("/threads:");
  if (at == std::string::npos) return run_name;
  std::string name = run_name.substr(0, at);
  if (const auto end = run_name.find('/', at + 1); end != std::string::npos) name.append(run_name, end);
  return name;
}

std::vector<std::string> baselines_of(const std::string& label) {
  std::vector<std::string> out;
  if (label.rfind("vs ", 0) != 0) return out;
  std::string_view rest = std::string_view{label}.substr(3);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto name = rest.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) out.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string format_ns(double ns) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", ns);
  return text;
}

std::string format_difference(double ns) {
  char text[64];
  std::snprintf(text, sizeof text, "%+.2f", ns);
  return text;
}

std::string format_ratio(double ratio) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", ratio);
  return text;
}

// Reads one program's output into its cases, in run order.
std::vector<measured_case> read_cases(const nlohmann::json& output, bool cpu_time) {
  std::vector<measured_case> cases;
  std::map<case_key, std::size_t> index;
  for (const auto& run : output.at("benchmarks")) {
    const std::string run_name = run.value("run_name", run.at("name").get<std::string>());
    const int threads = run.value("threads", 1);
    const case_key key{case_name_of(run_name), threads};
    auto [it, inserted] = index.try_emplace(key, cases.size());
    if (inserted) {
      measured_case fresh;
      fresh.name = key.first;
      fresh.threads = threads;
      cases.push_back(std::move(fresh));
    }
    auto& measured = cases[it->second];

    const std::string label = run.value("label", "");
    if (measured.baselines.empty()) measured.baselines = baselines_of(label);
    if (run.value("error_occurred", false)) {
      measured.error = run.value("error_message", "unknown error");
      continue;
    }

    const std::string run_type = run.value("run_type", "iteration");
    const std::string aggregate = run.value("aggregate_name", "");
    if (run_type == "aggregate" && aggregate == "cv") {
      measured.cv = run.at(cpu_time ? "cpu_time" : "real_time").get<double>();
      continue;
    }
    const double time_ns =
        to_ns(run.at(cpu_time ? "cpu_time" : "real_time").get<double>(), run.value("time_unit", "ns"));
    if (run_type == "aggregate" && aggregate == "median") measured.median_ns = time_ns;
    if (run_type == "iteration") measured.repetitions_ns.push_back(time_ns);
  }
  for (auto& measured : cases) {
    if (!measured.median_ns && !measured.repetitions_ns.empty()) measured.median_ns = median_of(measured.repetitions_ns);
  }
  return cases;
}

std::string program_name_of(const nlohmann::json& output, const std::string& file) {
  if (output.contains("context") && output["context"].contains("executable"))
    return std::filesystem::path(output["context"]["executable"].get<std::string>()).filename().string();
  return std::filesystem::path(file).stem().string();
}

// Prints one program's table. Returns false when a baseline is missing or a
// case failed.
bool print_table(const std::string& program, const std::vector<measured_case>& cases, const options& opts) {
  std::map<case_key, const measured_case*> by_key;
  for (const auto& measured : cases) by_key[{measured.name, measured.threads}] = &measured;

  std::cout << "### " << program << "\n\n";
  std::cout << "| case | threads | median ns | baseline | baseline ns | difference ns | ratio |"
            << (opts.with_cv ? " cv % |" : "") << "\n";
  std::cout << "| --- | ---: | ---: | --- | ---: | ---: | ---: |" << (opts.with_cv ? " ---: |" : "") << "\n";

  bool complete = true;
  const auto cv_cell = [&](const measured_case& measured) -> std::string {
    if (!opts.with_cv) return "";
    if (!measured.cv) return " |";
    std::string cell = " ";
    cell.append(format_ns(*measured.cv * 100.0)).append(" |");
    return cell;
  };

  for (const auto& measured : cases) {
    std::string head = "| ";
    head.append(measured.name).append(" | ").append(std::to_string(measured.threads)).append(" | ");
    if (!measured.error.empty() || !measured.median_ns) {
      std::cout << head << "error: " << (measured.error.empty() ? "no time reported" : measured.error)
                << " | | | | |" << cv_cell(measured) << "\n";
      std::cerr << program << ": " << measured.name << " on " << measured.threads
                << " threads reported an error: " << measured.error << "\n";
      complete = false;
      continue;
    }
    const double median = *measured.median_ns;
    if (measured.baselines.empty()) {
      std::cout << head << format_ns(median) << " | (none) | | | |" << cv_cell(measured) << "\n";
      continue;
    }
    for (const auto& baseline_name : measured.baselines) {
      const auto found = by_key.find({baseline_name, measured.threads});
      if (found == by_key.end() || !found->second->median_ns) {
        std::cout << head << format_ns(median) << " | " << baseline_name << " (missing) | | | |"
                  << cv_cell(measured) << "\n";
        std::cerr << program << ": " << measured.name << " names the baseline " << baseline_name << " on "
                  << measured.threads << " threads, which " << program << " did not report\n";
        complete = false;
        continue;
      }
      const double baseline = *found->second->median_ns;
      std::cout << head << format_ns(median) << " | " << baseline_name << " | " << format_ns(baseline) << " | "
                << format_difference(median - baseline) << " | "
                << (baseline > 0.0 ? format_ratio(median / baseline) : std::string{"-"}) << " |"
                << cv_cell(measured) << "\n";
    }
  }
  std::cout << "\n";
  return complete;
}

int usage() {
  std::cerr << "usage: median_table [--time cpu|real] [--with-cv] FILE.json...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--time" && i + 1 < argc) {
      const std::string_view kind = argv[++i];
      if (kind != "cpu" && kind != "real") return usage();
      opts.cpu_time = kind == "cpu";
    } else if (arg == "--with-cv") {
      opts.with_cv = true;
    } else if (arg.rfind("--", 0) == 0) {
      return usage();
    } else {
      opts.files.emplace_back(arg);
    }
  }
  if (opts.files.empty()) return usage();

  bool complete = true;
  for (const auto& file : opts.files) {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "median_table: cannot open " << file << "\n";
      return 1;
    }
    nlohmann::json output;
    try {
      output = nlohmann::json::parse(in);
      complete = print_table(program_name_of(output, file), read_cases(output, opts.cpu_time), opts) && complete;
    } catch (const nlohmann::json::exception& e) {
      std::cerr << "median_table: " << file << " is not Google Benchmark JSON output: " << e.what() << "\n";
      return 1;
    }
  }
  return complete ? 0 : 1;
}
