#include "report/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

extern char** environ;

namespace fpaudit {

namespace {

namespace fs = std::filesystem;

/// A fresh private folder under $TMPDIR (or /tmp), removed with everything in it on scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "fpaudit-plots-XXXXXX").string();
    if (::mkdtemp(pattern.data())) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

bool write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The last non-empty line of gnuplot's messages, for the error note.
std::string last_line(const std::string& log) {
  std::istringstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r^") != std::string::npos) last = line;
  return last;
}

/// Runs `program script` in `dir` with stdout and stderr to `log`; returns the exit status, or
/// -errno when it could not be started.
int spawn_in(const fs::path& dir, const std::string& program, const std::string& script, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv = {const_cast<char*>(program.c_str()), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -rc;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -errno;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Replaces every `from` in s by `to`.
void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

/// Removes every `attr="..."` attribute whose name starts with `name` (xmlns, xmlns:xlink).
void remove_attributes(std::string& s, const std::string& name) {
  for (std::size_t at = s.find(name); at != std::string::npos; at = s.find(name, at)) {
    const std::size_t eq = s.find('=', at);
    const char quote = eq + 1 < s.size() ? s[eq + 1] : '"';
    const std::size_t end = s.find(quote, eq + 2);
    if (eq == std::string::npos || end == std::string::npos) break;
    std::size_t start = at;
    while (start > 0 && (s[start - 1] == ' ' || s[start - 1] == '\n')) --start;
    s.erase(start, end + 1 - start);
    at = start;
  }
}

/// Removes the first <tag>...</tag> element.
void remove_element(std::string& s, const std::string& tag) {
  const std::size_t at = s.find("<" + tag + ">");
  const std::size_t end = s.find("</" + tag + ">", at);
  if (at != std::string::npos && end != std::string::npos) s.erase(at, end + tag.size() + 3 - at);
}

}  // namespace

std::string gnuplot_script(const std::vector<PlotRequest>& requests) {
  std::string s = "set encoding utf8\n";
  for (const PlotRequest& r : requests) {
    s += fmt::format("reset\nset terminal svg size {},{} enhanced font 'sans,11' background '#ffffff'\n", r.width, r.height);
    s += fmt::format("set output '{}.svg'\n", r.name);
    s += r.script;
    s += "unset output\n";
  }
  return s;
}

PlotBatch run_gnuplot(const std::string& gnuplot, const std::vector<PlotRequest>& requests) {
  PlotBatch batch;
  const TempDir dir;
  if (dir.path().empty()) {
    batch.error = fmt::format("cannot create a temporary folder for the plot data ({})", std::strerror(errno));
    return batch;
  }
  bool written = write_text(dir.path() / "plots.gp", gnuplot_script(requests));
  for (const PlotRequest& r : requests)
    for (const auto& [name, content] : r.data) written = written && write_text(dir.path() / name, content);
  if (!written) {
    batch.error = fmt::format("cannot write the plot data to {}", dir.path().string());
    return batch;
  }
  const int rc = spawn_in(dir.path(), gnuplot, "plots.gp", dir.path() / "gnuplot.log");
  if (rc < 0) {
    batch.error = fmt::format("gnuplot not found at '{}' ({})", gnuplot, std::strerror(-rc));
    return batch;
  }
  if (rc == 127) {  // a shell wrapper's "command not found"
    batch.error = fmt::format("gnuplot could not be run from '{}'", gnuplot);
    return batch;
  }
  if (rc != 0) {
    const std::string why = last_line(read_text(dir.path() / "gnuplot.log"));
    batch.error = fmt::format("gnuplot ('{}') failed with status {}{}{}", gnuplot, rc, why.empty() ? "" : ": ", why);
    return batch;
  }
  for (const PlotRequest& r : requests) {
    const std::string svg = read_text(dir.path() / (r.name + ".svg"));
    if (svg.find("<svg") == std::string::npos) {
      batch.svgs.clear();
      batch.error = fmt::format("gnuplot ('{}') wrote no SVG for plot '{}'", gnuplot, r.name);
      return batch;
    }
    batch.svgs.push_back(inline_svg(svg, r.name + "-"));
  }
  return batch;
}

std::string inline_svg(const std::string& svg, const std::string& prefix) {
  const std::size_t start = svg.find("<svg");
  std::string s = start == std::string::npos ? svg : svg.substr(start);
  remove_attributes(s, "xmlns");
  remove_element(s, "title");
  remove_element(s, "desc");
  replace_all(s, "xlink:href=", "href=");
  for (const char q : {'\'', '"'}) {
    replace_all(s, fmt::format("id={}", q), fmt::format("id={}{}", q, prefix));
    replace_all(s, fmt::format("href={}#", q), fmt::format("href={}#{}", q, prefix));
  }
  replace_all(s, "url(#", "url(#" + prefix);
  return s;
}

}  // namespace fpaudit
